#!/usr/bin/env bash
#
# tests/lab/faultrate.sh — how often the lab's emulator fails a guest: one lab boot,
# then BOOTS Linux boots of the test initramfs (hvtest=marker: up, a line, power off)
# under hvrun, one after another.  Each ends as
#   ok      hvrun exited 0 with the marker on the console
#   triple  hvrun reported a triple fault (KVM_EXIT_SHUTDOWN): the lab's known fault
#   hang    no exit within 90 s
#   other   any other exit
# and the lab itself may die (its kernel stalls, or its CPU triple-faults): then the
# table says after how many boots.  One line of results per run, for comparing lab
# settings side by side in one sitting:
#   HVRUN_LAB_CPU=max,-vgif tests/lab/faultrate.sh build/hvrun
#   HVRUN_LAB_APPEND="kvm_amd.vgif=0 kvm_amd.vls=0" tests/lab/faultrate.sh build/hvrun
#
# Usage: tests/lab/faultrate.sh [--boots N] [--vcpus N] [--mem MB] [--lab-cpus N] HVRUN
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
boots=20 vcpus=4 mem=256 labcpus=2
while (($#)); do
	case $1 in
	--boots) boots=$2; shift 2 ;;
	--vcpus) vcpus=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--lab-cpus) labcpus=$2; shift 2 ;;
	-h | --help) sed -n '3,/^set -euo/s/^# \{0,1\}//p' "$0" | sed '$d'; exit 0 ;;
	-*) echo "faultrate: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
hvrun=$(readlink -f "${1:?usage: faultrate.sh [--boots N] [--vcpus N] [--mem MB] [--lab-cpus N] HVRUN}")
for n in "$boots" "$vcpus" "$mem" "$labcpus"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "faultrate: counts must be whole numbers >= 1" >&2; exit 2; }
done

ver=$("$src/tests/lab/lab.sh" --prepare | sed -n 's/^version=//p')
cache=${HVRUN_LAB_CACHE:-$HOME/.cache/hvrun-lab}
kernel=$cache/kernel-$ver/boot/vmlinuz-$ver
work=$(mktemp -d /tmp/faultrate.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$src/tests/guests/mkinitramfs.sh" "$work/initrd.gz" "$cache/kernel-$ver/lib/modules/$ver"

cat >"$work/inner.sh" <<EOF
set -u
for i in \$(seq $boots); do
	t0=\$(date +%s%N)
	rc=0
	timeout -s KILL 90 "$hvrun" -m $mem -c $vcpus -k "$kernel" -i "$work/initrd.gz" \\
		-a "console=ttyS0 quiet hvtest=marker" >"$work/o.\$i" 2>"$work/e.\$i" || rc=\$?
	ms=\$(( (\$(date +%s%N) - t0) / 1000000 ))
	if [ \$rc = 0 ] && grep -q 'HVTEST marker' "$work/o.\$i"; then r=ok
	elif grep -q 'triple fault' "$work/e.\$i"; then r=triple
	elif [ \$rc = 137 ]; then r=hang
	else r=other; fi
	echo "boot \$i \$r rc=\$rc \$ms ms" >>"$work/results"
	[ \$r = ok ] && rm -f "$work/o.\$i" "$work/e.\$i"
done
dmesg | grep -E 'kvm|SVM|stall|lockup|BUG|Oops' | tail -n 20 >"$work/dmesg" || true
EOF
t0=$(date +%s)
lab_rc=0
"$src/tests/lab/lab.sh" --cpus "$labcpus" --timeout $((boots * 100 + 60)) --share "$work" -- \
	bash "$work/inner.sh" >"$work/lab.log" 2>&1 || lab_rc=$?
secs=$(( $(date +%s) - t0 ))
touch "$work/results"
count() { grep -c " $1 " "$work/results" || true; }
done_boots=$(wc -l <"$work/results")
ok_ms=$(awk '$3 == "ok" { s += $5; n++ } END { if (n) printf "%d", s / n; else print "-" }' "$work/results")
lab="lab ok"
[ "$lab_rc" = 0 ] || lab="lab died (status $lab_rc) after $done_boots boots"
printf 'cpu=%s append="%s" lab-cpus=%s vcpus=%s mem=%s: %s/%s boots: ok %s, triple %s, hang %s, other %s; mean ok boot %s ms; %s; %s s\n' \
	"${HVRUN_LAB_CPU:-max}" "${HVRUN_LAB_APPEND:-}" "$labcpus" "$vcpus" "$mem" "$done_boots" "$boots" \
	"$(count ok)" "$(count triple)" "$(count hang)" "$(count other)" "$ok_ms" "$lab" "$secs"
if [ "$lab_rc" != 0 ]; then grep -E 'LAB|Triple|stall|lockup|guard' "$work/lab.log" | head -n 8 | sed 's/^/  /'; fi
for f in "$work"/e.*; do
	[ -e "$f" ] || continue
	echo "  ${f##*/}: $(grep -m1 -E 'triple|error|hvrun:' "$f" || tail -n 1 "$f")"
done | head -n 10
[ -s "$work/dmesg" ] && sed 's/^/  lab dmesg: /' "$work/dmesg" | tail -n 5
exit 0
