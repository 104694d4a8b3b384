#!/usr/bin/env bash
#
# tests/guests/mkbootdisk.sh — build (once) an "installed disk" for the firmware-boot
# tests: the Debian 12 guest of tests/guests/mkdebian.sh (a bare ext4 image, label
# hvroot, with linux-image-amd64 and initramfs-tools) put in an MBR-partitioned raw
# disk with GRUB for BIOS, as the Debian installer would leave it, so that the
# firmware (SeaBIOS) boots it on its own:
#   hvrun -m 512 -d boot.raw
#
# Usage:
#   tests/guests/mkbootdisk.sh [--print]
#
# Prints, on stdout:  disk=${HVRUN_LAB_CACHE:-~/.cache/hvrun-lab}/bootdisk/KEY/boot.raw
# Progress and the build log go to stderr.
#
# The disk: an MBR partition table with one bootable Linux partition from 1 MiB to
# the end (vda1: the ext4 image copied in, holes kept), GRUB for BIOS laid out as
# grub-install leaves it: boot.img in the MBR's first 440 bytes, core.img (made by
# grub-mkimage: biosdisk, part_msdos, ext2; prefix (hd0,msdos1)/boot/grub) in the gap
# from sector 1, the modules in /boot/grub/i386-pc, and a hand-written
# /boot/grub/grub.cfg: GRUB on the serial terminal (COM1, 115200), a menu with a 3 s
# timeout, "linux /boot/vmlinuz-VER root=/dev/vda1 console=ttyS0 ro" and its initrd.
# /etc/fstab names /dev/vda1.  systemd starts a getty on ttyS0 (console=ttyS0, and
# mkdebian enables it): "login:" on COM1, root/root.
#
# Why not grub-install on a loop device: GRUB 2.06's grub-install cannot map a loop
# device's partition to a BIOS drive ("cannot find a GRUB drive for /dev/loop0p1";
# a device.map naming /dev/loop0 does not help, tried in the lab), and some kernels
# (a microVM's) have loop devices without MBR partitions.  The files go into the
# ext4 image with debugfs instead of a mount: no root, no loop devices, no lab.
#
# Cached in ${HVRUN_LAB_CACHE:-~/.cache/hvrun-lab}/bootdisk/KEY/, KEY hashing the
# Debian image's key (its cache directory), this script and GRUB's version; other
# keys unused for 7 days are deleted.  NEVER write to the cached boot.raw: copy it
# (cp --sparse=always).
#
# Needs grub-pc-bin + grub-common (grub-mkimage, /usr/lib/grub/i386-pc), sfdisk
# (fdisk), e2fsprogs (debugfs, e2fsck); mkdebian.sh needs root for its first build.
#
# Exit status: 0 ok, 1 build failed (reason on stderr), 2 bad usage.
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
readonly SELF
SRC=$(cd "$(dirname "$SELF")/../.." && pwd)
readonly SRC
readonly GRUB_PC=/usr/lib/grub/i386-pc
export PATH=$PATH:/usr/sbin:/sbin

log() { printf 'mkbootdisk: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

print_only=0
while (($#)); do
	case $1 in
	--print) print_only=1; shift ;;
	-h | --help) sed -n '3,/^set -euo/s/^# \{0,1\}//p' "$SELF"; exit 0 ;;
	*) log "unknown argument: $1 (usage: mkbootdisk.sh [--print])"; exit 2 ;;
	esac
done

CACHE=${HVRUN_LAB_CACHE:-${HOME:-/root}/.cache/hvrun-lab}/bootdisk
if ((print_only)); then
	deb=$("$SRC/tests/guests/mkdebian.sh" --print) || exit 1
else
	deb=$("$SRC/tests/guests/mkdebian.sh") || die "tests/guests/mkdebian.sh failed"
fi
deb_disk=$(sed -n 's/^disk=//p' <<<"$deb")
[ -s "$deb_disk" ] || die "mkdebian.sh printed no disk: $deb"
grub_version=$(dpkg-query -W -f '${Version}' grub-pc-bin 2>/dev/null || echo none)
key=$({
	printf 'debian=%s grub=%s\n' "$(basename "$(dirname "$deb_disk")")" "$grub_version"
	cat "$SELF"
} | sha256sum | cut -c1-16)
dir=$CACHE/$key

print_path() {
	touch "$dir/last-used" 2>/dev/null || true
	printf 'disk=%s\n' "$dir/boot.raw"
}
[ -s "$dir/boot.raw" ] && { print_path; exit 0; }
((print_only)) && { log "no boot disk built yet for key $key"; exit 1; }

command -v grub-mkimage >/dev/null || die "grub-mkimage missing (apt-get install grub-common)"
[ -s $GRUB_PC/boot.img ] && [ -s $GRUB_PC/normal.mod ] || die "no $GRUB_PC (apt-get install grub-pc-bin)"
command -v sfdisk >/dev/null || die "sfdisk missing (apt-get install fdisk)"
command -v debugfs >/dev/null || die "debugfs missing (apt-get install e2fsprogs)"
mkdir -p "$CACHE"

exec 9>"$CACHE/.lock"
flock 9
[ -s "$dir/boot.raw" ] && { print_path; exit 0; }
rm -rf "$CACHE"/.build-*
for old in "$CACHE"/*/; do
	old=${old%/}
	[ "$old" != "$dir" ] && [ -d "$old" ] || continue
	if [ -z "$(find "$old" -maxdepth 1 -name last-used -mtime -7)" ]; then
		log "removing $old (unused for 7 days)"
		rm -rf "$old"
	fi
done

tmp=$(mktemp -d "$CACHE/.build-$key.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start=$SECONDS
mkdir -p "$tmp/out" "$tmp/stage/i386-pc"
raw=$tmp/out/boot.raw
blog=$tmp/out/build.log
part=$tmp/part.img
: >"$blog"

# The root filesystem, modified in a copy: the kernel it has, fstab, GRUB's files.
cp --sparse=always "$deb_disk" "$part"
chmod 0644 "$part"
kver=$(debugfs -R 'ls -p /boot' "$part" 2>>"$blog" | awk -F/ '$6 ~ /^vmlinuz-/ { print substr($6, 9) }')
[ "$(wc -w <<<"$kver")" = 1 ] || die "expected one /boot/vmlinuz-* in the image, found: $kver"
debugfs -R "stat /boot/initrd.img-$kver" "$part" 2>/dev/null | grep -q 'Type: regular' ||
	die "no /boot/initrd.img-$kver in the image"
debugfs -R 'cat /etc/fstab' "$part" 2>>"$blog" | sed 's|^/dev/vda[[:space:]]|/dev/vda1\t|' >"$tmp/stage/fstab"
grep -q '^/dev/vda1[[:space:]]' "$tmp/stage/fstab" || die "cannot point /etc/fstab at /dev/vda1"

cp "$GRUB_PC"/*.mod "$GRUB_PC"/*.lst "$tmp/stage/i386-pc/"
cat >"$tmp/stage/grub.cfg" <<EOF
# hvrun's installed test disk (tests/guests/mkbootdisk.sh): GRUB on COM1 only.
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=3
set default=0
menuentry 'Debian GNU/Linux 12 (hvrun test disk, $kver)' {
	echo 'Loading Linux $kver ...'
	linux /boot/vmlinuz-$kver root=/dev/vda1 console=ttyS0 ro
	echo 'Loading initial ramdisk ...'
	initrd /boot/initrd.img-$kver
}
EOF
# debugfs's write takes the mode (and owner) of the file it copies.
chmod -R u=rwX,go=rX "$tmp/stage"
{
	echo 'rm /etc/fstab'
	echo "write $tmp/stage/fstab /etc/fstab"
	echo 'mkdir /boot/grub'
	echo 'mkdir /boot/grub/i386-pc'
	echo "write $tmp/stage/grub.cfg /boot/grub/grub.cfg"
	for f in "$tmp"/stage/i386-pc/*; do
		echo "write $f /boot/grub/i386-pc/${f##*/}"
	done
} >"$tmp/debugfs.cmds"
debugfs -w -f "$tmp/debugfs.cmds" "$part" >>"$blog" 2>&1 || { tail -n 20 "$blog" >&2; die "debugfs -w failed"; }
debugfs -R 'cat /boot/grub/grub.cfg' "$part" 2>/dev/null | grep -q "vmlinuz-$kver" ||
	die "grub.cfg did not get into the image"
e2fsck -fn "$part" >>"$blog" 2>&1 || { tail -n 20 "$blog" >&2; die "the root filesystem does not pass e2fsck"; }

# The disk: the partition table, the filesystem at 1 MiB, GRUB's boot.img and core.img.
truncate -s $((1048576 + $(stat -c %s "$part"))) "$raw"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$raw" >>"$blog" 2>&1 ||
	{ cat "$blog" >&2; die "sfdisk failed"; }
dd if="$part" of="$raw" bs=1M seek=1 conv=sparse,notrunc status=none ||
	die "cannot copy the filesystem into the partition"
rm -f "$part"
grub-mkimage -O i386-pc -d "$GRUB_PC" -o "$tmp/core.img" -p '(hd0,msdos1)/boot/grub' \
	biosdisk part_msdos ext2 >>"$blog" 2>&1 || { cat "$blog" >&2; die "grub-mkimage failed"; }
# core.img must fit between the MBR and the partition (sectors 1..2047).
[ "$(stat -c %s "$tmp/core.img")" -le $((2047 * 512)) ] || die "core.img does not fit in the MBR gap"
# boot.img's code, not the partition table after it: it loads sector 1 (its
# kernel_sector), core.img's first sector (diskboot), which loads the rest from
# sector 2 on (the block list grub-mkimage filled in).
dd if="$GRUB_PC/boot.img" of="$raw" bs=440 count=1 conv=notrunc status=none
dd if="$tmp/core.img" of="$raw" bs=512 seek=1 conv=notrunc status=none
[ "$(od -An -tx1 -j 510 -N 2 "$raw" | tr -d ' ')" = 55aa ] || die "no boot signature in the MBR"
grep -qa GRUB <(head -c 512 "$raw") || die "no GRUB in the MBR"
sfdisk -d "$raw" >>"$blog" 2>&1

chmod 0444 "$raw"
printf 'kernel %s\nbuild time %d s\n' "$kver" $((SECONDS - start)) >>"$blog"
rm -rf "$dir"
mv -T "$tmp/out" "$dir"
log "built $dir/boot.raw in $((SECONDS - start)) s: kernel $kver, $(du -h --apparent-size "$dir/boot.raw" | cut -f1) apparent, $(du -h "$dir/boot.raw" | cut -f1) allocated"
print_path
