#!/usr/bin/env bash
# hostile: our own malicious driver (tests/hostile/hostile.c) against every virtio device
# hvrun has: blk, scsi (a CD-ROM), net (user-mode), console, rng, balloon.  The test
# kernel boots with hvtest=hostile: no virtio driver is loaded and the program drives
# the devices through their BARs, one hostile case after another, each followed by a
# liveness check.  Meanwhile hvctl status must keep answering.  Fails on any
# "VMM-FAILED" verdict, on hvrun crashing or hanging, on fewer than 100 cases, or on a
# control socket that stopped answering.  docs/testing.md tells how to read the table.
#
# HOSTILE_CASE=NAME runs only the cases of that name (or of that device: blk, net, ...);
# HOSTILE_KEEP=DIR keeps the guest's and hvrun's output in DIR.  HVRUN_TEST_VMM=qemu runs
# the same suite on Debian's QEMU (-enable-kvm, the same devices, modern-only), the
# reference: no hvctl there, the other verdicts are judged the same way.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/linux.sh"

VMM_KIND=${HVRUN_TEST_VMM:-hvrun}
case $VMM_KIND in hvrun | qemu) ;; *) fail "HVRUN_TEST_VMM must be hvrun or qemu, not '$VMM_KIND'" ;; esac
need_hvctl
case=${HOSTILE_CASE:-}
min_cases=100
[ -n "$case" ] && min_cases=1

# The program: a static binary, added to the test initramfs as a second cpio archive
# (the kernel unpacks concatenated archives in order).
${CC:-gcc} -static -O2 -Wall -Wextra -Wshadow -Werror -o "$T/hostile" \
	"$HVRUN_SRC/tests/hostile/hostile.c" 2>"$T/err" || fail "cannot build tests/hostile/hostile.c"
mkdir -p "$T/extra/bin"
cp "$T/hostile" "$T/extra/bin/hostile"
(cd "$T/extra" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -9 >>"$INITRD"

# A disk whose first 64 sectors say who they are (the blk liveness check reads sector 7),
# and a small ISO 9660 image for the SCSI CD-ROM (the check reads its volume descriptor).
truncate -s 8M "$T/disk.raw"
for i in $(seq 0 63); do
	printf 'HOSTILE-SECTOR-%08u' "$i" | dd of="$T/disk.raw" bs=512 seek="$i" conv=notrunc status=none
done
mkdir -p "$T/iso"
echo "hvrun hostile-driver suite" >"$T/iso/readme.txt"
xorriso -as mkisofs -quiet -V HOSTILE -o "$T/cd.iso" "$T/iso" 2>>"$T/err" || fail "xorriso failed"

append="console=ttyS0 quiet hvtest=hostile${case:+ hostile=$case}"
if [ "$VMM_KIND" = hvrun ]; then
	vmm=("$HVRUN" -m 512 -k "$KERNEL" -i "$INITRD" --name hostile
		-d "$T/disk.raw,cache=writeback" --cdrom "$T/cd.iso" --net user -a "$append")
else
	m=disable-legacy=on
	vmm=(qemu-system-x86_64 -enable-kvm -cpu host -M pc -m 512 -nodefaults -no-user-config
		-display none -monitor none -no-reboot -serial stdio
		-kernel "$KERNEL" -initrd "$INITRD" -append "$append"
		-drive "file=$T/disk.raw,if=none,id=d0,format=raw,cache=writeback"
		-device "virtio-blk-pci,drive=d0,$m"
		-device "virtio-scsi-pci,id=scsi0,$m"
		-drive "file=$T/cd.iso,if=none,id=cd0,media=cdrom,readonly=on,format=raw"
		-device scsi-cd,drive=cd0,bus=scsi0.0
		-netdev user,id=n0 -device "virtio-net-pci,netdev=n0,$m"
		-chardev null,id=c0 -device "virtio-serial-pci,$m" -device virtconsole,chardev=c0
		-device "virtio-rng-pci,$m" -device "virtio-balloon-pci,$m")
fi
cat >"$T/inner.sh" <<SCRIPT
set -u
cd "$T"
# Sockets cannot live on the lab's 9p share: the control directory is in /tmp.
export HVRUN_CONTROL_DIR=\$(mktemp -d /tmp/hostile-ctl.XXXXXX)
start=\$(date +%s)
timeout ${HOSTILE_VM_TIMEOUT:-600} $(printf '%q ' "${vmm[@]}") >vm.out 2>vm.err &
pid=\$!
# hvctl status every 2 s while the suite runs (a failure counts only while hvrun lives),
# and once more when the guest says the suite is over.
ok=0; bad=0; final=
while kill -0 \$pid 2>/dev/null; do
	if [ $VMM_KIND = hvrun ] && [ -S "\$HVRUN_CONTROL_DIR/hostile.sock" ]; then
		t0=\$(date +%s%N)
		if timeout 10 "$HVCTL" -n hostile status >status.last 2>&1; then
			ok=\$((ok + 1))
			echo "\$(( (\$(date +%s%N) - t0) / 1000000 ))" >>status.ms
		elif [ \$ok -gt 0 ] && kill -0 \$pid 2>/dev/null; then
			bad=\$((bad + 1))
			echo "hvctl status failed \$(( \$(date +%s) - start )) s in: \$(tr '\n' ' ' <status.last)" >>hvctl.log
		fi
	fi
	if [ $VMM_KIND = qemu ] && [ -z "\$final" ] && grep -q '^HOSTILE waiting' vm.out 2>/dev/null; then
		final=ok; ok=1; break
	fi
	if [ -z "\$final" ] && grep -q '^HOSTILE waiting' vm.out 2>/dev/null; then
		if timeout 10 "$HVCTL" -n hostile status >status.final 2>&1; then final=ok; else final=bad; fi
		break	# the guest powers off next: the socket goes away with hvrun
	fi
	sleep 2
done
wait \$pid; echo \$? >vm.rc
echo \$ok >status.ok; echo \$bad >status.bad; echo "\${final:-none}" >status.final.verdict
echo \$(( \$(date +%s) - start )) >vm.seconds
SCRIPT
rc=0; KVM_TIMEOUT=900 LAB_TIMEOUT=900 kvm_run bash "$T/inner.sh" || rc=$?
expect_status 0 "$rc" "the lab script"
cp "$T/vm.out" "$T/out"; cp "$T/vm.err" "$T/err"
# Text only: some cases send bytes from the BIOS area to the console.
tr -cd '\11\12\40-\176' <"$T/vm.out" >"$T/vm.txt"
# HOSTILE_KEEP=DIR: the guest's and hvrun's whole output kept there (for reading by hand).
[ -n "${HOSTILE_KEEP:-}" ] && mkdir -p "$HOSTILE_KEEP" && cp "$T/vm.txt" "$T/vm.err" "$HOSTILE_KEEP/"

# The verdicts, whatever happened next.
grep '^HOSTILE table' "$T/vm.txt" | sed 's/^HOSTILE table /  /'
grep -E '^HOSTILE case .*(VMM-FAILED|silent-stop)' "$T/vm.txt" | sed 's/^HOSTILE case /  /'

vm_rc=$(cat "$T/vm.rc")
[ "$vm_rc" = 124 ] && fail "$VMM_KIND hung: still running after ${HOSTILE_VM_TIMEOUT:-600} s; last case started: $(grep '^HOSTILE run' "$T/vm.txt" | tail -n 1)"
[ "$vm_rc" = 0 ] || fail "$VMM_KIND exited with status $vm_rc; last case started: $(grep '^HOSTILE run' "$T/vm.txt" | tail -n 1)"
grep -q '^HOSTILE fatal' "$T/vm.txt" && fail "$(grep '^HOSTILE fatal' "$T/vm.txt" | head -n 3)"
grep -q '^HOSTILE summary' "$T/vm.txt" || fail "the suite did not finish; last case started: $(grep '^HOSTILE run' "$T/vm.txt" | tail -n 1)"
summary=$(grep '^HOSTILE summary' "$T/vm.txt")
cases=$(sed -n 's/.*cases=\([0-9]*\).*/\1/p' <<<"$summary")
failed=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' <<<"$summary")
grep -q '^HOSTILE case .*VMM-FAILED' "$T/vm.txt" && fail "$failed VMM failure(s): $(grep '^HOSTILE case .*VMM-FAILED' "$T/vm.txt" | sed 's/^HOSTILE case //' | tr -s ' ' | tr '\n' ';')"
[ "$failed" = 0 ] || fail "$failed failure(s): $(grep -E '^HOSTILE (final|missing)' "$T/vm.txt" | grep -v ' ok$' | tr '\n' ';')"
[ "$cases" -ge "$min_cases" ] || fail "only $cases cases ran (at least $min_cases wanted)"
[ "$(cat "$T/status.bad")" = 0 ] || fail "hvctl status did not answer $(cat "$T/status.bad") time(s): $(head -n 3 "$T/hvctl.log")"
[ "$(cat "$T/status.ok")" -ge 1 ] || fail "hvctl status never answered"
[ "$(cat "$T/status.final.verdict")" = ok ] || fail "hvctl status after the suite: $(cat "$T/status.final.verdict") $(cat "$T/status.final" 2>/dev/null)"
[ "$VMM_KIND" = qemu ] && pass "$cases hostile cases on 6 devices, 0 VMM failures (qemu, $(kvm_mode))"
slowest=$(sort -n "$T/status.ms" | tail -n 1)
pass "$cases hostile cases on 6 devices, 0 VMM failures; hvctl status answered $(cat "$T/status.ok") times (slowest ${slowest} ms); suite $(sed -n 's/.*seconds=\([0-9]*\).*/\1/p' <<<"$summary") s, VM $(cat "$T/vm.seconds") s ($(kvm_mode))"
