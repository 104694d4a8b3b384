#!/usr/bin/env bash
#
# tests/guests/mkiso.sh — build (once) the bootable ISO images of the firmware-boot
# tests (tests/integration/firmware_*.sh), and print the path of one.
#
# Usage:
#   tests/guests/mkiso.sh --kind di|grub [--out DIR]
#
#   di    a hybrid ISO made the way Debian's own media are: Debian 12's netboot
#         installer (debian-installer-12-netboot-amd64: linux + initrd.gz) behind
#         isolinux (isolinux.bin + ldlinux.c32), xorriso -as mkisofs with the isohybrid
#         MBR.  isolinux talks on COM1 ("serial 0 115200", video console off: SeaBIOS's
#         serial console would otherwise repeat every character), waits at "boot:"
#         for a key (no timeout), and Enter (or "install") starts the installer with
#         console=ttyS0,115200n8: its first screen is "Select a language" (newt, TERM
#         vt102).  Volume label HVRUN_DI.
#   grub  grub-mkrescue (i386-pc) with a grub.cfg on the serial terminal: a menu
#         ("hvrun CD test", 5 s timeout) that boots the tests' own kernel (Debian's
#         linux-image-amd64, from tests/lab/lab.sh --prepare) and test initramfs
#         (tests/guests/mkinitramfs.sh, with the virtio-scsi/CD-ROM/iso9660 modules)
#         with "console=ttyS0 hvtest=cdrom": tests/guests/init.sh then reports the CD
#         it sees (/dev/sr0, its label, the file /hvrun-cd.txt read from it); key r
#         picks the entry that reboots at once (hvtest=reboot: firmware_guide's
#         second boot, which must come from the disk).
#         Volume label HVRUN_GRUB.
#
#   --out DIR  the cache directory (default ${HVRUN_LAB_CACHE:-~/.cache/hvrun-lab}/iso)
#
# Prints the ISO's path on stdout.  Cached in DIR/KIND-KEY.iso, KEY hashing this
# script and every input (the installer files, isolinux, GRUB, the kernel, init.sh,
# busybox); a changed input builds a new one; ISOs of other keys unused for 7 days
# are deleted.  Needs xorriso, isolinux + syslinux-common (di), grub-pc-bin +
# grub-common + mtools (grub), cpio/busybox-static (the initramfs); no root.
#
# Exit status: 0 ok, 1 build failed (reason on stderr), 2 bad usage.
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
readonly SELF
SRC=$(cd "$(dirname "$SELF")/../.." && pwd)
readonly SRC
readonly DI_DIR=/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64
readonly ISOLINUX_BIN=/usr/lib/ISOLINUX/isolinux.bin
readonly ISOHDPFX=/usr/lib/ISOLINUX/isohdpfx.bin
readonly LDLINUX=/usr/lib/syslinux/modules/bios/ldlinux.c32
readonly GRUB_PC=/usr/lib/grub/i386-pc
# The line /hvrun-cd.txt holds on the grub ISO (init.sh's hvtest=cdrom prints it).
readonly CD_LINE='hvrun test CD: read through virtio-scsi'

log() { printf 'mkiso: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
usage() {
	log "$*"
	log "usage: mkiso.sh --kind di|grub [--out DIR]"
	exit 2
}

kind=
out=${HVRUN_LAB_CACHE:-${HOME:-/root}/.cache/hvrun-lab}/iso
while (($#)); do
	case $1 in
	--kind) kind=${2-}; shift 2 || usage "--kind needs a value" ;;
	--out) out=${2-}; shift 2 || usage "--out needs a value" ;;
	-h | --help) sed -n '3,/^set -euo/s/^# \{0,1\}//p' "$SELF"; exit 0 ;;
	*) usage "unknown argument: $1" ;;
	esac
done
case $kind in di | grub) ;; *) usage "--kind di or grub" ;; esac
command -v xorriso >/dev/null || die "xorriso missing (apt-get install xorriso)"

# The inputs of each kind, as "sha256  path" lines (the cache key).
sums() { sha256sum "$@" | sed "s|  .*/|  |"; }
case $kind in
di)
	for f in "$DI_DIR/linux" "$DI_DIR/initrd.gz"; do
		[ -s "$f" ] || die "no $f (apt-get install debian-installer-12-netboot-amd64)"
	done
	[ -s "$ISOLINUX_BIN" ] && [ -s "$ISOHDPFX" ] || die "no $ISOLINUX_BIN (apt-get install isolinux)"
	[ -s "$LDLINUX" ] || die "no $LDLINUX (apt-get install syslinux-common)"
	inputs=$(sums "$DI_DIR/linux" "$DI_DIR/initrd.gz" "$ISOLINUX_BIN" "$ISOHDPFX" "$LDLINUX")
	;;
grub)
	command -v grub-mkrescue >/dev/null || die "grub-mkrescue missing (apt-get install grub-common)"
	[ -s "$GRUB_PC/boot.img" ] || die "no $GRUB_PC (apt-get install grub-pc-bin)"
	# The kernel the Linux tests boot (lib/linux.sh does the same).
	ver=$("$SRC/tests/lab/lab.sh" --prepare 2>/dev/null | sed -n 's/^version=//p') || true
	[ -n "$ver" ] || die "cannot get Debian's kernel (tests/lab/lab.sh --prepare)"
	ktree=${HVRUN_LAB_CACHE:-${HOME:-/root}/.cache/hvrun-lab}/kernel-$ver
	kernel=$ktree/boot/vmlinuz-$ver
	moddir=$ktree/lib/modules/$ver
	[ -s "$kernel" ] && [ -d "$moddir" ] || die "no kernel $kernel with modules"
	inputs=$(sums "$kernel" "$SRC/tests/guests/init.sh" "$SRC/tests/guests/mkinitramfs.sh" \
		"$SRC/tests/guests/modules.sh" /bin/busybox "$GRUB_PC/boot.img" "$GRUB_PC/cdboot.img" \
		"$GRUB_PC/kernel.img" "$GRUB_PC/normal.mod")
	;;
esac
key=$({ printf '%s\n' "$kind" "$inputs"; cat "$SELF"; } | sha256sum | cut -c1-16)
iso=$out/$kind-$key.iso

mkdir -p "$out"
if [ -s "$iso" ]; then touch "$iso"; echo "$iso"; exit 0; fi
exec 9>"$out/.lock"
flock 9
if [ -s "$iso" ]; then echo "$iso"; exit 0; fi
# Under the lock: leftovers of killed builds, and ISOs of old keys unused for 7 days.
rm -rf "$out"/.build-*
find "$out" -maxdepth 1 -name '*.iso' -mtime +7 -delete

tmp=$(mktemp -d "$out/.build-$kind.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"
start=$SECONDS

case $kind in
di)
	# Debian's CD layout: isolinux/ for the boot loader, install.amd/ for the installer.
	mkdir -p "$root/isolinux" "$root/install.amd"
	cp "$ISOLINUX_BIN" "$LDLINUX" "$root/isolinux/"
	cp "$DI_DIR/linux" "$root/install.amd/vmlinuz"
	cp "$DI_DIR/initrd.gz" "$root/install.amd/initrd.gz"
	# SERIAL must come first.  CONSOLE 0: no output to the video BIOS (int 10h), which
	# SeaBIOS's serial console would send to COM1 a second time.  TIMEOUT 0: wait at
	# the prompt for ever (reaching the installer proves that keys arrive).
	cat >"$root/isolinux/isolinux.cfg" <<-'EOF'
		serial 0 115200
		console 0
		prompt 1
		timeout 0
		default install
		say hvrun test installer (Debian 12 netboot).  Press Enter to install.
		label install
		  kernel /install.amd/vmlinuz
		  append initrd=/install.amd/initrd.gz console=ttyS0,115200n8 --- console=ttyS0,115200n8
	EOF
	echo "$CD_LINE" >"$root/hvrun-cd.txt"
	xorriso -as mkisofs -o "$tmp/out.iso" -quiet \
		-isohybrid-mbr "$ISOHDPFX" \
		-b isolinux/isolinux.bin -c isolinux/boot.cat \
		-no-emul-boot -boot-load-size 4 -boot-info-table \
		-J -R -V HVRUN_DI "$root" >"$tmp/xorriso.log" 2>&1 ||
		{ cat "$tmp/xorriso.log" >&2; die "xorriso failed"; }
	;;
grub)
	mkdir -p "$root/boot/grub"
	cp "$kernel" "$root/boot/vmlinuz"
	"$SRC/tests/guests/mkinitramfs.sh" "$root/boot/initrd.gz" "$moddir" ||
		die "tests/guests/mkinitramfs.sh failed"
	echo "$CD_LINE" >"$root/hvrun-cd.txt"
	cat >"$root/boot/grub/grub.cfg" <<-'EOF'
		# hvrun's test CD: GRUB on COM1 only (no video console: SeaBIOS would repeat it).
		serial --unit=0 --speed=115200
		terminal_input serial
		terminal_output serial
		set timeout=5
		set default=0
		menuentry 'hvrun CD test: Linux from the CD (hvtest=cdrom)' {
			echo 'Loading the kernel and the test initramfs from the CD ...'
			linux /boot/vmlinuz console=ttyS0 hvtest=cdrom panic=-1
			initrd /boot/initrd.gz
		}
		menuentry 'hvrun CD test: reboot (hvtest=reboot, key r)' --hotkey=r {
			linux /boot/vmlinuz console=ttyS0 hvtest=reboot panic=-1
			initrd /boot/initrd.gz
		}
		menuentry 'hvrun CD test: power off' {
			halt
		}
	EOF
	# Everything after -- goes to xorriso -as mkisofs: the volume label.
	grub-mkrescue -o "$tmp/out.iso" -d "$GRUB_PC" "$root" -- -volid HVRUN_GRUB >"$tmp/xorriso.log" 2>&1 ||
		{ cat "$tmp/xorriso.log" >&2; die "grub-mkrescue failed"; }
	;;
esac

# The label, as the firmware and the guest will read it: the primary volume
# descriptor (sector 16) holds it at byte 40.
label=$(dd if="$tmp/out.iso" bs=1 skip=$((32768 + 40)) count=32 2>/dev/null | tr -d ' ')
want=HVRUN_$(echo "$kind" | tr a-z A-Z)
[ "$label" = "$want" ] || die "the ISO's volume label is '$label', expected $want"
chmod 0444 "$tmp/out.iso"
mv "$tmp/out.iso" "$iso"
log "built $iso ($(du -h "$iso" | cut -f1), label $label) in $((SECONDS - start)) s"
echo "$iso"
