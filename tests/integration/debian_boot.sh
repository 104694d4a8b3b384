#!/usr/bin/env bash
# debian_boot: a full Debian 12 guest (systemd, its own kernel and initramfs) boots from
# a virtio-blk root disk with its console on virtio-console (hvc0):
#   hvrun -m 512 -c 2 -k vmlinuz -i initrd.img -d disk.raw -a "root=/dev/vda console=hvc0"
# A login on hvc0 (tests/guests/console_session.py) checks that multi-user.target is
# reached, the three virtio-pci devices and their drivers, the disk's serial, entropy
# from /dev/hwrng through virtio_rng; then the guest powers off and the VMM exits 0.
# HVRUN_TEST_VMM=qemu runs the same session on QEMU (the reference).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/debian.sh"

debian_image

# The guest's commands (items of the console session, numbered in order).
gcmd C_STATE 'systemctl is-system-running --wait; systemctl --failed --no-legend --plain'
gcmd C_MULTI 'systemctl is-active multi-user.target'
gcmd C_TTY 'readlink /proc/$$/fd/2; cat /proc/cmdline; uname -r; findmnt -no SOURCE,FSTYPE,OPTIONS /'
gcmd C_LSPCI 'lspci; echo ids:; lspci -n | grep -i 1af4'
gcmd C_LSMOD 'lsmod | grep virtio'
gcmd C_DRIVERS 'for d in /sys/bus/virtio/drivers/*; do echo "${d##*/}:" $(ls "$d" | grep "^virtio[0-9]"); done'
gcmd C_SERIAL 'cat /sys/block/vda/serial; echo'
gcmd C_HWRNG 'head -c 64 /dev/hwrng | od -An -v -tx1'
gcmd C_RNGCUR 'cat /sys/devices/virtual/misc/hw_random/rng_current'
gcmd C_ANALYZE 'systemd-analyze || true'

VMM=$(vmm_cmd 512 2 "root=/dev/vda console=hvc0" "$SCRATCH/disk.raw")
cat >"$T/run.sh" <<SCRIPT
set -u
$(session_cmd session 900 "$VMM")
SCRIPT
SCRATCH_FILES=("$DEB_DISK:disk.raw")
rc=0; debian_run "$T/run.sh" || rc=$?
expect_status 0 "$rc" "the lab script (copy the image, run the session)"
session_status session 0

# Every command ran to its end.
for n in $(seq "$NITEMS"); do
	[ -n "$(item_rc "$n")" ] || session_fail "command $n never finished: $(sed -n "${n}p" "$CMDS")"
done

state=$(item_out "$C_STATE" | head -n 1)
[ "$state" = running ] ||
	session_fail "systemctl is-system-running: '$state', expected running; failed units: $(item_out "$C_STATE" | tail -n +2 | tr '\n' ' ')"
[ "$(item_out "$C_MULTI")" = active ] || session_fail "multi-user.target is not active: $(item_out "$C_MULTI")"

item_out "$C_TTY" >"$T/tty"
[ "$(head -n 1 "$T/tty")" = /dev/hvc0 ] || session_fail "the login shell is not on /dev/hvc0: $(head -n 1 "$T/tty")"
grep -Eq '^/dev/vda +ext4 +rw' "$T/tty" || session_fail "/ is not /dev/vda ext4 rw: $(tail -n 1 "$T/tty")"

# lspci: QEMU's transitional devices are "Virtio block device", hvrun's modern-only ones
# (device IDs 0x1040 + virtio ID) "Virtio 1.0 block device": either.
item_out "$C_LSPCI" >"$T/lspci"
for dev in "block device" console RNG; do
	grep -Eq "Virtio (1\.0 )?$dev" "$T/lspci" || session_fail "lspci shows no 'Virtio $dev': $(tr '\n' '|' <"$T/lspci")"
done
item_out "$C_LSMOD" >"$T/lsmod"
for m in virtio_blk virtio_console virtio_rng virtio_pci; do
	grep -q "^$m " "$T/lsmod" || session_fail "module $m not loaded: $(tr '\n' '|' <"$T/lsmod")"
done
item_out "$C_DRIVERS" >"$T/drivers"
for drv in virtio_blk virtio_console virtio_rng; do
	grep -Eq "^$drv: virtio[0-9]" "$T/drivers" || session_fail "no device bound to the $drv driver: $(tr '\n' '|' <"$T/drivers")"
done

serial=$(item_out "$C_SERIAL" | head -n 1)
[ "$serial" = disk.raw ] || session_fail "/sys/block/vda/serial is '$serial', expected disk.raw (the file's name)"

# 64 bytes from the virtio RNG: 64 hex pairs, not all the same.
item_out "$C_HWRNG" >"$T/hwrng"
[ "$(item_rc "$C_HWRNG")" = 0 ] || session_fail "reading /dev/hwrng failed: $(cat "$T/hwrng")"
nbytes=$(wc -w <"$T/hwrng")
[ "$nbytes" = 64 ] || session_fail "/dev/hwrng gave $nbytes bytes, expected 64: $(cat "$T/hwrng")"
[ "$(tr ' ' '\n' <"$T/hwrng" | sed '/^$/d' | sort -u | wc -l)" -gt 8 ] ||
	session_fail "/dev/hwrng bytes do not look random: $(cat "$T/hwrng")"
rng=$(item_out "$C_RNGCUR" | head -n 1)
case $rng in virtio_rng.*) ;; *) session_fail "rng_current is '$rng', expected virtio_rng.N" ;; esac

echo "guest: $(item_out "$C_ANALYZE" | head -n 1)"
pass "Debian 12 booted to multi-user.target on $VMM_KIND: login on hvc0, virtio blk/console/rng bound, serial, hwrng ($(kvm_mode))"
