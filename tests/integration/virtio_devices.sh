#!/usr/bin/env bash
# virtio_devices: what a Linux guest sees of hvrun's virtio-pci devices (block, console, balloon,
# entropy), driven by Debian's own drivers in the test initramfs: PCI ids and MSI-X,
# disk geometry and serial, a read-only disk, a write the host reads back from the image,
# entropy from /dev/hwrng, output and input through hvc0, devices turned off by options.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/linux.sh"

# Refused before any VM exists: exit 2, one line.
mkdir -p "$T/adir"
for bad in "$T/missing.raw" "$T/adir" "$T/x.raw,cache=fast" "$T/x.raw,serial=" \
	"$T/x.raw,serial=123456789012345678901"; do
	: >"$T/x.raw"
	rc=0; host_run "$HVRUN" -k "$KERNEL" -d "$bad" || rc=$?
	expect_status 2 "$rc" "-d $bad"
	expect_lines err 1
done
rc=0; host_run "$HVRUN" --demo -d "$T/x.raw" || rc=$?
expect_status 2 "$rc" "-d with --demo"
expect_in err "-d is a PC device: not with --demo or --raw"

q="console=ttyS0 quiet"
head -c 4194304 /dev/urandom >"$T/head.bin"
sha_head=$(sha256sum <"$T/head.bin" | cut -c1-64)
sha_pattern=$(yes hvrun-block-pattern | head -c 4194304 | sha256sum | cut -c1-64)
cat >"$T/boots.sh" <<SCRIPT
set -u
cd "$T"
# Images where O_DIRECT works (cache=none): the lab's ext4 scratch disk, or here.
D=$T; [ -d /scratch ] && [ -w /scratch ] && D=/scratch
truncate -s 64M \$D/disk.raw
dd if=head.bin of=\$D/disk.raw conv=notrunc status=none
truncate -s 8M \$D/ro.raw
cp \$D/ro.raw ro.before
# --stats: should the guest stop here again (it hung once, mid-line on ttyS0, 2026-12-07),
# timeout's SIGTERM still leaves the vCPUs' exits and each device's counters in full.err.
timeout 300 "$HVRUN" -m 256 -c 2 -k "$KERNEL" -i "$INITRD" -d \$D/disk.raw \
	-d \$D/ro.raw,ro,serial=ro-disk --stats -a "$q hvtest=virtio" >full.out 2>full.err; echo \$? >full.rc
dd if=\$D/disk.raw bs=1M skip=4 count=4 status=none | sha256sum | cut -c1-64 >image-back.sha
cmp -s \$D/ro.raw ro.before; echo \$? >ro.cmp
du -k \$D/disk.raw | cut -f1 >disk.du
# The image grows (as with qemu-img resize): the next boot sees the new capacity.
truncate -s 128M \$D/disk.raw
# No console, no rng; a writeback-cached disk.
timeout 300 "$HVRUN" -m 256 -k "$KERNEL" -i "$INITRD" -d \$D/disk.raw,cache=writeback \
	--no-virtio-console --no-rng --no-balloon -a "$q hvtest=virtio" >bare.out 2>bare.err; echo \$? >bare.rc
# INTx instead of MSI-X (pci=nomsi): the ISR and the IOAPIC line routed by the DSDT's _PRT.
timeout 300 "$HVRUN" -m 256 -k "$KERNEL" -i "$INITRD" -d \$D/disk.raw \
	-a "$q pci=nomsi hvtest=virtio" >intx.out 2>intx.err; echo \$? >intx.rc
# stdin to hvc0 with --console virtio: the guest writes to hvc0 and reads a line there
# (the full boot writes nothing to hvc0: its ttyS0 lines never meet hvc0's).  Typed once the
# guest listens, as a person would: Linux's virtio_console drops what arrives between
# the driver posting its first buffers and hvc0's creation (docs/10-console-rng.md).
fifo=\$(mktemp -u /tmp/hvc.XXXXXX); mkfifo \$fifo	# not on the 9p share: no FIFOs there
( for i in \$(seq 600); do grep -q 'HVTEST hvcin ready' hvcin.out 2>/dev/null && break; sleep 0.5; done
  sleep 1; echo typed-into-hvc0; sleep 300 ) >\$fifo &
writer=\$!
timeout 300 "$HVRUN" -m 256 -k "$KERNEL" -i "$INITRD" --console virtio \
	-a "$q hvtest=hvcin" <\$fifo >hvcin.out 2>hvcin.err; echo \$? >hvcin.rc
kill \$writer 2>/dev/null
SCRIPT
rc=0; KVM_TIMEOUT=600 LAB_TIMEOUT=900 LAB_OPTS="--scratch 1G" kvm_run bash "$T/boots.sh" || rc=$?
expect_status 0 "$rc" "the boot script"

cp "$T/full.out" "$T/out"; cp "$T/full.err" "$T/err"
expect_status 0 "$(cat "$T/full.rc")" "boot with two disks, console and rng"
for id in "0x1af4:0x1042 class=0x010000" "0x1af4:0x1043 class=0x078000" "0x1af4:0x1044 class=0x00ff00" \
	"0x1af4:0x1045 class=0x00ff00"; do
	grep -q "^HVTEST pci=.* id=$id .*driver=virtio-pci" "$T/out" || fail "no PCI function $id bound to virtio-pci"
done
[ "$(grep -c '^HVTEST pci=.*0x1af4:0x1042' "$T/out")" = 2 ] || fail "not two virtio-blk functions"
grep '^HVTEST pci=.*0x1af4' "$T/out" | grep -q 'msix=0' && fail "a virtio function without MSI-X vectors"
expect_in out "HVTEST disk=vda size=131072 ro=0 serial=disk.raw queues=2 lbs=512"
expect_in out "HVTEST disk=vdb size=16384 ro=1 serial=ro-disk"
grep -q '^HVTEST disk=vda .*discard=[1-9]' "$T/out" || fail "vda: no discard support seen"
grep -q '^HVTEST disk=vda .*cache=write back' "$T/out" || fail "vda: no volatile write cache (FLUSH) seen"
expect_in out "HVTEST vda_head_sha=$sha_head"
expect_in out "HVTEST vda_write_rc=0"
expect_in out "HVTEST vda_back_sha=$sha_pattern"
[ "$(cat "$T/image-back.sha")" = "$sha_pattern" ] || fail "the image does not hold what the guest wrote"
grep -q '^HVTEST vdb_write_rc=0' "$T/out" && fail "the guest wrote to a read-only disk"
[ "$(cat "$T/ro.cmp")" = 0 ] || fail "the read-only image changed"
[ "$(cat "$T/disk.du")" -lt 20000 ] || fail "the 64 MiB sparse image grew to $(cat "$T/disk.du") KiB"
expect_in out "HVTEST rng_current=virtio_rng.0"
expect_in out "HVTEST rng_bytes=4096"
[ "$(hvtest out rng_distinct)" -ge 250 ] || fail "/dev/hwrng: only $(hvtest out rng_distinct) distinct byte values in 4 KiB"
grep -q '^HVTEST irq: .*virtio[0-9]-req' "$T/out" || fail "no virtio-blk request interrupts seen"
# The fpu xstate WARNING comes from the lab's emulated CPU (QEMU's guest prints it too).
grep -E '^HVTEST dmesg: .*(WARNING:|BUG:)' "$T/out" | grep -v 'fpu/xstate' && fail "kernel warning in dmesg"

cp "$T/bare.out" "$T/out"; cp "$T/bare.err" "$T/err"
expect_status 0 "$(cat "$T/bare.rc")" "boot with --no-virtio-console --no-rng --no-balloon"
expect_in out "HVTEST pci=0000:00:02.0 id=0x1af4:0x1042"
expect_in out "HVTEST disk=vda size=262144 "	# 128 MiB after the resize
expect_not_in out "0x1af4:0x1043"
expect_not_in out "0x1af4:0x1044"
expect_not_in out "0x1af4:0x1045"
expect_in out "HVTEST vda_back_sha=$sha_pattern"

cp "$T/intx.out" "$T/out"; cp "$T/intx.err" "$T/err"
expect_status 0 "$(cat "$T/intx.rc")" "boot with pci=nomsi"
grep '^HVTEST pci=.*0x1af4' "$T/out" | grep -qv 'msix=0' && fail "pci=nomsi: MSI-X vectors still in use"
expect_in out "HVTEST vda_back_sha=$sha_pattern"
expect_in out "HVTEST rng_bytes=4096"
grep -qE '^HVTEST irq: .*IO-APIC.*virtio' "$T/out" || fail "pci=nomsi: no virtio interrupt on an IOAPIC line"

cp "$T/hvcin.out" "$T/out"; cp "$T/hvcin.err" "$T/err"
expect_status 0 "$(cat "$T/hvcin.rc")" "boot with --console virtio"
# Written to hvc0 by the guest (hvtest=hvcin writes nothing the test reads to ttyS0).
expect_in out "HVCONSOLE hello through hvc0"
expect_in out "HVTEST hvc_in=typed-into-hvc0"
pass "virtio-blk (2 disks, ro, write-back), console (out and in), rng, INTx, options ($(kvm_mode))"
