#!/usr/bin/env bash
# firmware_iso: the VMM boots CD-ROM images through its firmware (SeaBIOS, no -k), with
# everything on COM1 (the VMM's stdin/stdout):
#  (a) the Debian installer ISO (tests/guests/mkiso.sh --kind di: isolinux, hybrid)
#      with an empty sparse disk:  hvrun -m 512 -d disk.raw --cdrom di.iso
#      SeaBIOS's banner, "Booting from DVD/CD", isolinux's "boot:" prompt; Enter is
#      typed, and the installer's first screen appears: with the guide's 512 MB the
#      Debian 12 installer shows "Low memory mode" and skips the language question
#      ("Select a language" with 1 GB; seen by hand, but in CI the lab's emulator
#      stalled twice at that size, so the test keeps 512 MB); then
#      the VMM is stopped with SIGTERM (hvrun: exit status 0).
#  (b) a GRUB rescue ISO (mkiso.sh --kind grub) alone:  hvrun -m 512 --cdrom grub.iso
#      GRUB's menu, then the test kernel with hvtest=cdrom reports /dev/sr0 (SCSI CD on
#      virtio-scsi), the volume label HVRUN_GRUB and a file read from the mounted CD,
#      and powers off: exit status 0.
# HVRUN_TEST_VMM=qemu runs the same sessions on QEMU + SeaBIOS (the reference).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_firmware.sh"

iso_image di; DI_ISO=$ISO
iso_image grub; GRUB_ISO=$ISO

# (a) the installer.
fw_installer_steps di
# (b) GRUB, then Linux reading the CD.
fw_steps grub
fw_step 'expect seabios 60 SeaBIOS \(version' \
	'expect boot-cd 60 Booting from DVD/CD' \
	'expect grub-menu 120 GNU GRUB.*hvrun CD test: Linux from the CD' \
	'expect linux 180 HVTEST boot mode=cdrom' \
	'expect report 120 HVTEST done' \
	'exit 60'

cat >"$T/run.sh" <<SCRIPT
set -u
truncate -s 4G "$SCRATCH/disk.raw"
$(fw_expect_cmd di 600 "$(fw_vmm_cmd "$SCRATCH/disk.raw" "$DI_ISO" "")")
$(fw_expect_cmd grub 400 "$(fw_vmm_cmd "" "$GRUB_ISO" "")")
SCRIPT
rc=0; LAB_TIMEOUT=${LAB_TIMEOUT:-1500} debian_run "$T/run.sh" || rc=$?
expect_status 0 "$rc" "the lab script"

fw_status di 0 "the installer ISO"
echo "di: the installer's first screen: $(sed -n 's/^HVSTEP [0-9]* installer matched: //p' "$T/di.out")"
fw_status grub 0 "the GRUB ISO"
[ "$(fw_hvtest grub cdrom | cut -d' ' -f1)" = sr0 ] || fw_fail grub "the guest saw no /dev/sr0: $(fw_hvtest grub cdrom)"
[ "$(fw_hvtest grub cd_label)" = HVRUN_GRUB ] || fw_fail grub "the CD's label is '$(fw_hvtest grub cd_label)', expected HVRUN_GRUB"
[ "$(fw_hvtest grub cd_mount)" = ok ] || fw_fail grub "mounting the CD failed"
[ "$(fw_hvtest grub cd_file)" = 'hvrun test CD: read through virtio-scsi' ] ||
	fw_fail grub "/hvrun-cd.txt on the CD read '$(fw_hvtest grub cd_file)'"
echo "grub: $(fw_hvtest grub cdrom)"
pass "SeaBIOS booted the installer ISO (isolinux prompt, first screen) and a GRUB ISO whose Linux read the CD, on $VMM_KIND ($(kvm_mode))"
