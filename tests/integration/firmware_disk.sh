#!/usr/bin/env bash
# firmware_disk: the VMM's firmware (SeaBIOS, no -k) boots an installed disk: Debian 12
# in an MBR partition with GRUB for BIOS (tests/guests/mkbootdisk.sh), a CD-ROM
# attached too, the disk chosen by the boot order:
#   hvrun -m 512 -d boot.raw --cdrom grub.iso --boot order=c
# COM1 shows SeaBIOS, "Booting from Hard Disk", GRUB's menu ("GNU GRUB"); Debian's
# kernel boots with root=/dev/vda1 console=ttyS0 and systemd's getty on ttyS0 says
# "login:".  Logged in as root (tests/guests/console_session.py): / is /dev/vda1,
# /proc/cmdline is GRUB's, blkid /dev/sr0 shows the CD's label HVRUN_GRUB; poweroff
# ends the VMM with status 0.
# HVRUN_TEST_VMM=qemu runs the same session on QEMU + SeaBIOS (the reference).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_firmware.sh"

bootdisk_image
iso_image grub; GRUB_ISO=$ISO

gcmd C_ROOT 'findmnt -no SOURCE,FSTYPE,OPTIONS /'
gcmd C_CMDLINE 'cat /proc/cmdline'
gcmd C_SR0 'udevadm settle -t 10; blkid /dev/sr0'
gcmd C_BIOS 'cat /sys/class/dmi/id/bios_vendor /sys/class/dmi/id/bios_version 2>/dev/null; ls /sys/block'

VMM=$(fw_vmm_cmd "$SCRATCH/boot.raw" "$GRUB_ISO" order=c)
cat >"$T/run.sh" <<SCRIPT
set -u
$(session_cmd session 480 "$VMM" | sed 's/--login-tty hvc0/--login-tty ttyS0/')
SCRIPT
SCRATCH_FILES=("$BOOT_DISK:boot.raw")
rc=0; debian_run "$T/run.sh" || rc=$?
expect_status 0 "$rc" "the lab script (copy the disk, run the session)"
session_status session 0

fw_clean "$T/session.console" >"$T/console.txt"
for want in 'SeaBIOS (version' 'Booting from Hard Disk' 'GNU GRUB' 'Debian GNU/Linux 12 (hvrun test disk'; do
	grep -qF -- "$want" "$T/console.txt" || session_fail "'$want' not on the console"
done
for n in "$C_ROOT" "$C_CMDLINE" "$C_SR0"; do
	[ "$(item_rc "$n")" = 0 ] || session_fail "command $n failed: $(sed -n "${n}p" "$CMDS"): $(item_out "$n" | tr '\n' ' ')"
done
item_out "$C_ROOT" | grep -Eq '^/dev/vda1 +ext4 +rw' || session_fail "/ is not /dev/vda1 ext4 rw: $(item_out "$C_ROOT")"
cmdline=$(item_out "$C_CMDLINE")
case $cmdline in
*'root=/dev/vda1 console=ttyS0 ro'*) ;;
*) session_fail "/proc/cmdline is not GRUB's: $cmdline" ;;
esac
item_out "$C_SR0" | grep -q 'LABEL="HVRUN_GRUB"' || session_fail "blkid /dev/sr0: $(item_out "$C_SR0")"
echo "guest: $cmdline; $(item_out "$C_SR0"); firmware $(item_out "$C_BIOS" | head -n 2 | tr '\n' ' ')"
pass "SeaBIOS booted the installed disk's GRUB (boot order c, CD attached) to a login on ttyS0, / on /dev/vda1, on $VMM_KIND ($(kvm_mode))"
