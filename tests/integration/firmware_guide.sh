#!/usr/bin/env bash
# firmware_guide: the teaching guide's install sequence (SCENARIOS.md steps 3-4) with the
# firmware (SeaBIOS, no -k) and everything on COM1, one lab run:
#  1. a sparse raw disk:            truncate -s 4G vm0-debian.raw   (du: 0)
#  2. boot the installer CD first:  hvrun -m 512 -d vm0-debian.raw --cdrom di.iso
#     SeaBIOS, "Booting from DVD/CD", isolinux's "boot:", Enter, the installer's first
#     screen ("Select a language", or "Low memory mode" with 512 MB); SIGTERM ends it.
#  3. the empty disk on its own:    hvrun -m 512 -d vm0-debian.raw
#     no boot sector: SeaBIOS prints "No bootable device." and hvrun exits with status
#     1 by itself within 60 s.  (QEMU's SeaBIOS retries for ever: the test kills QEMU
#     once the line is there, and accepts that.)
#  4. the installer's reboot with the CD still in: hvrun -m 512 -d boot.raw --cdrom grub.iso
#     boots the CD first (a GRUB CD whose "reboot" entry stands for the installer's
#     last step), the guest reboots, and the second boot comes from the disk ("Booting
#     from Hard Disk", the disk's GRUB menu): --cdrom is "CD first, once".
#  5. later boots (the guide's -boot order=c): an installed disk (tests/guests/mkbootdisk.sh:
#     Debian 12 + GRUB in an MBR partition), the CD still attached:
#                                   hvrun -m 512 -d boot.raw --cdrom grub.iso --boot order=c
#     "Booting from Hard Disk", GRUB's menu, "login:" on ttyS0; logged in, / is /dev/vda1
#     ext4 rw, /proc/cmdline is GRUB's, blkid /dev/sr0 shows the CD's label HVRUN_GRUB;
#     poweroff (-f: the shutdown is not what this step shows): status 0.
# HVRUN_TEST_VMM=qemu runs the same sequence on QEMU + SeaBIOS (the reference).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/firmware.sh"

iso_image di; DI_ISO=$ISO
iso_image grub; GRUB_ISO=$ISO
bootdisk_image

VM0=$SCRATCH/vm0-debian.raw
# 2. The installer, CD first.
fw_installer_steps install
# 3. Nothing to boot: hvrun must stop by itself with status 1; QEMU is killed.
fw_steps noboot
fw_step 'expect seabios 60 SeaBIOS \(version' 'expect no-boot 60 No bootable device'
if [ "$VMM_KIND" = hvrun ]; then fw_step 'exit 60'; else fw_step 'kill'; fi
# 4. The installer's reboot: with the CD still in, the second boot comes from the disk
# (QEMU's -boot once=d; hvrun's default with --cdrom).  The GRUB CD's "reboot" entry
# (key r) stands for the installer's last step.
fw_steps reboot
fw_step 'expect seabios 60 SeaBIOS \(version' \
	'expect boot-cd 60 Booting from DVD/CD' \
	'expect cd-menu 120 hvrun CD test: reboot' \
	'sleep 1' 'send r' \
	'expect cd-linux 300 HVTEST rebooting' \
	'expect boot2-seabios 120 SeaBIOS \(version' \
	'expect boot2-disk 60 Booting from Hard Disk' \
	'expect boot2-grub 120 Debian GNU/Linux 12 \(hvrun test disk' \
	'term 15'
# 5. Later boots, order=c with the CD still in: a login on ttyS0.
gcmd C_ROOT 'findmnt -no SOURCE,FSTYPE,OPTIONS /'
gcmd C_CMDLINE 'cat /proc/cmdline'
gcmd C_SR0 'udevadm settle -t 10; blkid /dev/sr0'
gcmd C_BIOS 'cat /sys/class/dmi/id/bios_vendor /sys/class/dmi/id/bios_version 2>/dev/null'

cat >"$T/run.sh" <<SCRIPT
set -u
truncate -s 4G "$VM0" && du -k "$VM0" >"$T/du.txt"
$(fw_expect_cmd install 600 "$(fw_vmm_cmd "$VM0" "$DI_ISO" "")")
$(fw_expect_cmd noboot 150 "$(fw_vmm_cmd "$VM0" "" "")")
$(fw_expect_cmd reboot 600 "$(fw_vmm_cmd "$SCRATCH/boot.raw" "$GRUB_ISO" "")")
$(FINAL_FAST=1 session_cmd installed 480 "$(fw_vmm_cmd "$SCRATCH/boot.raw" "$GRUB_ISO" order=c)" | sed 's/--login-tty hvc0/--login-tty ttyS0/')
SCRIPT
SCRATCH_FILES=("$BOOT_DISK:boot.raw")
rc=0; LAB_TIMEOUT=${LAB_TIMEOUT:-1800} debian_run "$T/run.sh" || rc=$?
expect_status 0 "$rc" "the lab script"

[ "$(cut -f1 "$T/du.txt")" = 0 ] || fail "truncate -s 4G made a non-sparse file: du says $(cat "$T/du.txt")"
fw_status install 0 "the installer CD"
echo "install: the installer's first screen: $(sed -n 's/^HVSTEP [0-9]* installer matched: //p' "$T/install.out")"
if [ "$VMM_KIND" = hvrun ]; then
	fw_status noboot 1 "no bootable device (hvrun must exit with status 1 by itself)"
else
	fw_status noboot 137 "no bootable device (QEMU retries: killed)"
fi
fw_status reboot 0 "the reboot with the CD still in"
echo "reboot: $(grep -o 'boot2-[a-z]* matched' "$T/reboot.out" | tr '\n' ' ')"
session_status installed 0
fw_clean "$T/installed.console" >"$T/console.txt"
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
echo "installed: $cmdline; $(item_out "$C_SR0"); firmware $(item_out "$C_BIOS" | head -n 2 | tr '\n' ' ')"
pass "the guide's sequence on $VMM_KIND: sparse disk, installer from the CD, 'No bootable device' from the empty disk, the reboot from the disk with the CD in, later boots (order=c, CD attached) to a login ($(kvm_mode))"
