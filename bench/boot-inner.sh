#!/usr/bin/env bash
# boot-inner.sh RUNS KERNEL INITRD RAWDIR [ISO]: the measuring half of bench/boot, run
# where /dev/kvm works (on the host, or inside ONE tests/lab/lab.sh session).
#
# Boots KERNEL + INITRD ("hvtest=marker": the guest prints "HVTEST marker" and powers off)
# RUNS times with each VMM -- hvrun, QEMU q35, QEMU microvm -- and, given ISO (bench/
# mkgrubiso.sh's GRUB CD holding the same kernel and initramfs), through the firmware:
# SeaBIOS (/usr/share/seabios/bios-256k.bin, the same file for both) boots the CD from
# virtio-scsi, GRUB prints "HVBENCH bootloader" and loads the kernel -- hvrun-fw (hvrun
# --cdrom ISO) and qemu-fw (QEMU -M pc, virtio-scsi-pci + scsi-cd, SeaBIOS's serial
# console through fw_cfg etc/sercon-port as hvrun has it).  Interleaved (round r boots
# every VMM in turn), so that drift (a busy host, the emulator warming up) hits all
# alike.  Per boot, into RAWDIR:
#   VMM-R.json       bench/boot_timer.py's result (times, status, own RSS, thread ids)
#   VMM-R.exit.hist  the kvm:kvm_exit histogram (keys common_pid,exit_reason)
#   VMM-R.pio.hist   the kvm:kvm_pio histogram (keys common_pid,port)
#   VMM-R.exit.hist.bl, VMM-R.pio.hist.bl  (firmware boots) the same, copied the moment
#                    GRUB's "HVBENCH bootloader" line arrived: firmware + boot loader
#   VMM-R.console    the guest's serial output;  VMM-R.stderr  the VMM's stderr
# plus meta.env (what machine this was) and, at the very end, "done".  The histograms
# are global to the kernel; bench/boot_report.py keeps the entries of the VMM's threads.
# Progress goes to stderr.  Exit status 0 even if boots failed: they are in the JSON.
set -uo pipefail
[ $# -eq 4 ] || [ $# -eq 5 ] || { echo "usage: boot-inner.sh RUNS KERNEL INITRD RAWDIR [ISO]" >&2; exit 2; }
runs=$1 kernel=$2 initrd=$3 raw=$4 iso=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
hvrun=$repo/build/hvrun
py=$(command -v python3) || { echo "boot-inner: python3 missing" >&2; exit 1; }
run_timeout=${HVRUN_BENCH_RUN_TIMEOUT:-300}
mkdir -p "$raw"

append="console=ttyS0 quiet hvtest=marker"
qemu=(qemu-system-x86_64 -enable-kvm -cpu host -m 256 -smp 1 -nodefaults -no-user-config
      -display none -monitor none -serial stdio -no-reboot
      -kernel "$kernel" -initrd "$initrd" -append "$append")
vmms=(hvrun qemu-q35 qemu-microvm)
seabios=/usr/share/seabios/bios-256k.bin
if [ -n "$iso" ]; then
	vmms+=(hvrun-fw qemu-fw)
	# SeaBIOS's serial console on COM1 (0x3f8, little-endian): QEMU sets none itself and,
	# with no VGA, SeaBIOS's and GRUB's int 10h text would go nowhere.
	printf '\xf8\x03' >"$raw/sercon-port"
fi
# microvm's own defaults (it powers off fine on "poweroff -f"); e.g. microvm,rtc=on to
# give it the CMOS RTC that its rtc=auto leaves out under KVM.
microvm=${HVRUN_BENCH_MICROVM:-microvm}
cmd_of() {	# cmd_of VMM: sets the array cmd
	case $1 in
	hvrun) cmd=("$hvrun" -k "$kernel" -i "$initrd" -m 256 -c 1 -a "$append") ;;
	qemu-q35) cmd=("${qemu[@]}" -M q35) ;;
	qemu-microvm) cmd=("${qemu[@]}" -M "$microvm") ;;
	hvrun-fw) cmd=("$hvrun" -m 256 -c 1 --firmware "$seabios" --cdrom "$iso") ;;
	qemu-fw)
		cmd=(qemu-system-x86_64 -enable-kvm -cpu host -M pc -m 256 -smp 1 -bios "$seabios"
		     -nodefaults -no-user-config -display none -monitor none -serial stdio -no-reboot
		     -boot "once=d,menu=off" -device virtio-scsi-pci
		     -drive "if=none,id=cd,media=cdrom,file=$iso,readonly=on" -device "scsi-cd,drive=cd"
		     -fw_cfg "name=etc/sercon-port,file=$raw/sercon-port") ;;
	esac
}

# ---- What machine this is ----
{
	echo "where_kernel=$(uname -r)"
	echo "in_lab=${HVRUN_IN_LAB:-0}"
	echo "nproc=$(nproc)"
	echo "cpu_vendor=$(awk -F': ' '/^vendor_id/ { print $2; exit }' /proc/cpuinfo)"
	echo "cpu_family=$(awk -F': ' '/^cpu family/ { print $2; exit }' /proc/cpuinfo)"
	echo "cpu_model=$(awk -F': ' '/^model\t/ { print $2; exit }' /proc/cpuinfo)"
	echo "cpu_model_name=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "kvm_module=$(for m in kvm_amd kvm_intel kvm_pvm; do [ -d /sys/module/$m ] && echo $m; done | head -1)"
	echo "hvrun_version=$("$hvrun" --version 2>&1 | head -1)"
	echo "qemu_version=$(qemu-system-x86_64 --version 2>&1 | head -1)"
	echo "qemu_machines=-M q35, -M $microvm"
	echo "iso=$iso"
	echo "seabios=$seabios $( [ -r $seabios ] && sha256sum $seabios | cut -c1-16)"
} >"$raw/meta.env"

# ---- Tracing: kvm:kvm_exit and kvm:kvm_pio histograms ----
# shellcheck source=SCRIPTDIR/lib/tracefs.sh
. "$here/lib/tracefs.sh"
exit_t=$T/events/kvm/kvm_exit
pio_t=$T/events/kvm/kvm_pio
exit_h='hist:keys=common_pid,exit_reason:vals=hitcount:sort=hitcount.descending:size=4096'
pio_h='hist:keys=common_pid,port:vals=hitcount:sort=hitcount.descending:size=4096'
tracing=0
if [ -w $exit_t/trigger ] && [ -w $pio_t/trigger ]; then
	tracing=1
	for tr in "$exit_t:$exit_h" "$pio_t:$pio_h"; do
		# A leftover identical trigger (an interrupted earlier run) would make this fail.
		echo "!${tr#*:}" >>"${tr%%:*}/trigger" 2>/dev/null
		echo "${tr#*:}" >>"${tr%%:*}/trigger" || tracing=0
	done
	trap 'echo "!$exit_h" >>$exit_t/trigger 2>/dev/null; echo "!$pio_h" >>$pio_t/trigger 2>/dev/null' EXIT
fi
echo "tracing=$tracing" >>"$raw/meta.env"
[ $tracing = 1 ] || echo "boot-inner: no kvm:kvm_exit/kvm_pio tracing here ($T): exits not counted" >&2

hist_clear() {	# hist_clear EVENTDIR HIST: zero a histogram; re-create it if :clear did not
	echo "$2:clear" >>"$1/trigger" 2>/dev/null
	if ! grep -q '^ *Hits: 0$' "$1/hist"; then
		echo "!$2" >>"$1/trigger"
		echo "$2" >>"$1/trigger"
	fi
}

# ---- Warm the page cache: the first boot of each VMM should not pay for reading its
# binary, libraries and firmware (over 9p in the lab) when the others do not ----
# (No process substitution: the lab has no /dev/fd.)
libs=$(ldd "$(command -v qemu-system-x86_64)" "$hvrun" 2>/dev/null |
	awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
# shellcheck disable=SC2086  # one path a line, none with blanks
cat "$kernel" "$initrd" ${iso:+"$iso"} "$hvrun" "$(command -v qemu-system-x86_64)" $libs \
	/usr/share/qemu/* /usr/share/seabios/* >/dev/null 2>&1

# ---- The boots ----
for r in $(seq "$runs"); do
	for v in "${vmms[@]}"; do
		cmd_of "$v"
		if [ $tracing = 1 ]; then
			hist_clear $exit_t "$exit_h"
			hist_clear $pio_t "$pio_h"
		fi
		marks=()
		case $v in
		*-fw)
			marks=(--mark "bootloader=HVBENCH bootloader")
			[ $tracing = 1 ] && marks+=(
				--copy-at-mark bootloader "$exit_t/hist" "$raw/$v-$r.exit.hist.bl"
				--copy-at-mark bootloader "$pio_t/hist" "$raw/$v-$r.pio.hist.bl")
			;;
		esac
		"$py" "$here/boot_timer.py" --timeout "$run_timeout" --marker "HVTEST marker" \
			"${marks[@]}" \
			--ram-mib 256 --console "$raw/$v-$r.console" --stderr "$raw/$v-$r.stderr" \
			-- "${cmd[@]}" >"$raw/$v-$r.json"
		if [ $tracing = 1 ]; then
			cat $exit_t/hist >"$raw/$v-$r.exit.hist"
			cat $pio_t/hist >"$raw/$v-$r.pio.hist"
		fi
		"$py" - "$raw/$v-$r.json" "$r" "$runs" "$v" >&2 <<-'EOF'
		import json, sys
		f, r, n, v = sys.argv[1:]
		try:
		    j = json.load(open(f))
		except Exception as e:
		    j = {"status": "no result (%s)" % e}
		fmt = lambda x: "-" if x is None else "%.2f s" % x
		bl = ("bootloader %-9s " % fmt(j.get("bootloader_s"))) if "bootloader_s" in j else ""
		print("bench/boot: run %s/%s %-12s %-10s %smarker %-9s exit %-9s own RSS %s MiB"
		      % (r, n, v, j.get("status"), bl, fmt(j.get("marker_s")), fmt(j.get("exit_s")),
		         j.get("own_rss_mib")), flush=True)
		EOF
	done
done
date -u +%FT%TZ >"$raw/done"
