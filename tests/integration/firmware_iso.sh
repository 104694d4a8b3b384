#!/usr/bin/env bash
# firmware_iso: the VMM boots a CD-ROM image through its firmware (SeaBIOS, no -k), with
# everything on COM1 (the VMM's stdin/stdout): a GRUB rescue ISO (tests/guests/mkiso.sh
# --kind grub) alone:  hvrun -m 512 --cdrom grub.iso
# GRUB's menu, then the test kernel with hvtest=cdrom reports /dev/sr0 (SCSI CD on
# virtio-scsi), the volume label HVRUN_GRUB and a file read from the mounted CD, and
# powers off: exit status 0.  The installer ISO (isolinux, hybrid) is booted by
# firmware_guide (the guide's step 2); an installed disk too (its later boots).
# HVRUN_TEST_VMM=qemu runs the same session on QEMU + SeaBIOS (the reference).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/firmware.sh"

iso_image grub; GRUB_ISO=$ISO

# GRUB, then Linux reading the CD.
fw_steps grub
fw_step 'expect seabios 60 SeaBIOS \(version' \
	'expect boot-cd 60 Booting from DVD/CD' \
	'expect grub-menu 120 GNU GRUB.*hvrun CD test: Linux from the CD' \
	'expect linux 180 HVTEST boot mode=cdrom' \
	'expect report 120 HVTEST done' \
	'exit 60'

cat >"$T/run.sh" <<SCRIPT
set -u
$(fw_expect_cmd grub 400 "$(fw_vmm_cmd "" "$GRUB_ISO" "")")
SCRIPT
rc=0; LAB_TIMEOUT=${LAB_TIMEOUT:-900} debian_run "$T/run.sh" || rc=$?
expect_status 0 "$rc" "the lab script"

fw_status grub 0 "the GRUB ISO"
[ "$(fw_hvtest grub cdrom | cut -d' ' -f1)" = sr0 ] || fw_fail grub "the guest saw no /dev/sr0: $(fw_hvtest grub cdrom)"
[ "$(fw_hvtest grub cd_label)" = HVRUN_GRUB ] || fw_fail grub "the CD's label is '$(fw_hvtest grub cd_label)', expected HVRUN_GRUB"
[ "$(fw_hvtest grub cd_mount)" = ok ] || fw_fail grub "mounting the CD failed"
[ "$(fw_hvtest grub cd_file)" = 'hvrun test CD: read through virtio-scsi' ] ||
	fw_fail grub "/hvrun-cd.txt on the CD read '$(fw_hvtest grub cd_file)'"
echo "grub: $(fw_hvtest grub cdrom)"
pass "SeaBIOS booted a GRUB ISO whose Linux read the CD, on $VMM_KIND ($(kvm_mode))"
