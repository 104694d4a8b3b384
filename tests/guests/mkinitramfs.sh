#!/usr/bin/env bash
# mkinitramfs.sh OUT [MODDIR]: builds the test initramfs (a static busybox and
# tests/guests/init.sh) as a gzip'd newc cpio.  With MODDIR (a kernel's lib/modules/VER),
# the virtio drivers hvrun's devices need go in too, loaded by init.sh at boot.
# Built by the tests at run time, never committed.
set -euo pipefail
out=${1:?usage: mkinitramfs.sh OUT.cpio.gz [MODDIR]}
moddir=${2:-}
src=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=modules.sh
. "$src/modules.sh"
busybox=/bin/busybox
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	ldd "$busybox" 2>&1 | grep -q 'not a dynamic' ||
	{ echo "mkinitramfs: $busybox is not static (apt-get install busybox-static)" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp}
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$src/init.sh" "$stage/init"
chmod 755 "$stage/init"
if [ -n "$moddir" ]; then
	# virtio_scsi, sr_mod, cdrom, isofs: a CD-ROM on virtio-scsi (hvtest=cdrom).
	stage_modules "$moddir" "$stage/modules" virtio_pci virtio_blk virtio_console virtio_rng \
		virtio_balloon virtio_scsi? sr_mod? cdrom? isofs?
fi
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -9 >"$out.tmp"
mv "$out.tmp" "$out"
