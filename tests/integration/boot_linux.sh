#!/usr/bin/env bash
# boot_linux: Debian's own kernel (linux-image-amd64, unmodified bzImage) boots on hvrun
# to a busybox init that reports what the guest sees; it powers off, hvrun exits 0.
# One KVM session runs several boots: 1, 2 and 4 vCPUs; 128 MiB, 512 MiB and 5 GiB.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/linux.sh"

cat >"$T/boots.sh" <<SCRIPT
run() {		# run NAME ARGS...: one boot, outputs in NAME.out / .err / .rc, seconds in NAME.time
	name=\$1; shift
	rc=0; start=\$(date +%s)
	timeout 300 "$HVRUN" -k "$KERNEL" -i "$INITRD" --exit-stats "\$@" >"$T/\$name.out" 2>"$T/\$name.err" || rc=\$?
	echo \$rc >"$T/\$name.rc"
	echo \$(( \$(date +%s) - start )) >"$T/\$name.time"
}
run c1 -c 1 -m 128 -a "console=ttyS0 quiet hvtest=report extra=hello-cmdline"
run c2 -c 2 -m 512 -a "console=ttyS0 quiet hvtest=report"
run c4 -c 4 -m 5G -a "console=ttyS0 quiet hvtest=report"
# --hugepages: refused with an empty pool, then 256 MiB from 128 reserved 2 MiB pages.
hp=/proc/sys/vm/nr_hugepages; hp_was=\$(cat \$hp)
echo 0 >\$hp
run hpfail -m 256 --hugepages -a "console=ttyS0 quiet hvtest=report"
echo 128 >\$hp
if [ "\$(cat \$hp)" = 128 ]; then
	run hp -m 256 --hugepages -a "console=ttyS0 quiet hvtest=report"
else
	echo "cannot reserve 128 huge pages" >"$T/hp.err"; echo 99 >"$T/hp.rc"; : >"$T/hp.out"
fi
echo \$hp_was >\$hp
# The reference: Debian's QEMU with KVM, same kernel, initramfs and CPU, in the same place.
timeout 300 qemu-system-x86_64 -enable-kvm -cpu host -M q35 -m 512 -smp 2 -nodefaults \
	-display none -monitor none -no-reboot -serial file:"$T/qemu.out" \
	-kernel "$KERNEL" -initrd "$INITRD" -append "console=ttyS0 quiet hvtest=report" \
	>"$T/qemu.err" 2>&1
echo \$? >"$T/qemu.rc"
SCRIPT
# Six boots take 70-90 s in the lab: a lab hang is found after 240 s, not 300.
rc=0; LAB_TIMEOUT=240 kvm_run bash "$T/boots.sh" || rc=$?
expect_status 0 "$rc" "the boot script"

complaints() {	# complaints FILE: the guest's dmesg complaints, without timestamps and addresses
	sed -n 's/^HVTEST dmesg: \[ *[0-9.]*\] //p' "$1" | tr -d '\r' |
		sed -E 's/\+0x[0-9a-f]+\/0x[0-9a-f]+//g; s/ PID: [0-9]+ / /'
}
[ "$(cat "$T/qemu.rc")" = 0 ] && grep -q 'HVTEST done' "$T/qemu.out" ||
	{ cp "$T/qemu.err" "$T/err"; fail "the QEMU reference boot failed (status $(cat "$T/qemu.rc"))"; }
complaints "$T/qemu.out" >"$T/qemu-complaints"
echo "QEMU's guest (reference) logged $(wc -l <"$T/qemu-complaints") complaint line(s):"
sed 's/^/  /' "$T/qemu-complaints"

for b in c1 c2 c4; do
	cp "$T/$b.out" "$T/out"; cp "$T/$b.err" "$T/err"
	expect_status 0 "$(cat "$T/$b.rc")" "boot $b (hvrun's exit status after the guest's poweroff)"
	expect_in out "HVTEST done"
	[ "$(hvtest "$b.out" clocksource)" = kvm-clock ] || fail "$b: clocksource is '$(hvtest "$b.out" clocksource)'"
	tables=$(hvtest "$b.out" acpi_tables)
	for t in APIC DSDT FACP MCFG; do
		case " $tables " in *" $t "*) ;; *) fail "$b: ACPI table $t missing: $tables" ;; esac
	done
	# dmesg complaints: only those QEMU's guest also logs here (in the lab, artefacts
	# of the emulated CPU such as an fpu xstate WARNING) are allowed.
	complaints "$T/$b.out" | grep -vxF -f "$T/qemu-complaints" >"$T/complaints" || true
	[ -s "$T/complaints" ] && { cat "$T/complaints" >&2; fail "$b: the kernel complained (QEMU's guest did not)"; }
done

[ "$(hvtest c1.out nproc)" = 1 ] || fail "c1: nproc $(hvtest c1.out nproc)"
[ "$(hvtest c2.out nproc)" = 2 ] || fail "c2: nproc $(hvtest c2.out nproc)"
[ "$(hvtest c4.out nproc)" = 4 ] || fail "c4: nproc $(hvtest c4.out nproc)"
[ "$(hvtest c4.out cpus_online)" = 0-3 ] || fail "c4: cpus online $(hvtest c4.out cpus_online)"
grep -q 'extra=hello-cmdline' "$T/c1.out" || fail "c1: /proc/cmdline lacks the appended argument"

# Memory: the kernel's "Memory: AVAILK/TOTALK available" line.  TOTAL is the RAM it
# found: -m less the 384 KiB hole below 1 MiB and page 0 (and up to 1 MiB of
# rounding).  MemTotal lies between AVAIL (what the kernel did not keep for itself at
# that point) and TOTAL: init memory freed later adds to it.
mem_ok() {	# mem_ok FILE MIB
	local line avail total want kb
	line=$(hvtest "$1" memline); avail=${line%%K/*}; total=${line#*/}; total=${total%K}
	kb=$(hvtest "$1" memtotal_kb); want=$(( $2 * 1024 ))
	[ -n "$avail" ] && [ "$total" -le "$want" ] && [ "$total" -ge $(( want - 1024 )) ] ||
		fail "$1: the kernel found ${total:-?} kB of RAM for -m $2 MiB ($want kB)"
	[ -n "$kb" ] && [ "$kb" -ge "$avail" ] && [ "$kb" -le "$total" ] ||
		fail "$1: MemTotal ${kb:-?} kB is not within [$avail, $total] kB"
}
mem_ok c1.out 128
mem_ok c2.out 512
mem_ok c4.out 5120
grep -q '^HVTEST iomem=100000000-' "$T/c4.out" || fail "c4: no System RAM at 4 GiB in /proc/iomem"

cp "$T/hpfail.err" "$T/err"
expect_status 1 "$(cat "$T/hpfail.rc")" "--hugepages with no huge pages reserved"
expect_in err "--hugepages: cannot take 256 MB of guest RAM from the 2 MiB huge page pool"
expect_in err "echo 128 > /proc/sys/vm/nr_hugepages"
cp "$T/hp.err" "$T/err"; cp "$T/hp.out" "$T/out"
expect_status 0 "$(cat "$T/hp.rc")" "--hugepages -m 256 with 128 pages reserved"
expect_in out "HVTEST done"
mem_ok hp.out 256

# Wall time of each boot (lab times are the emulator's) and the SMP boot's exits, for the record.
for b in c1 c2 c4 hp; do printf '%s: %s s  ' "$b" "$(cat "$T/$b.time" 2>/dev/null)"; done; echo
sed -n '/VM exits/,$p' "$T/c2.err" | head -n 12
pass "Debian kernel booted with 1/2/4 vCPUs, 128M/512M/5G, kvm-clock, ACPI, clean dmesg ($(kvm_mode))"
