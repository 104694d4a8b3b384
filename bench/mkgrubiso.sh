#!/usr/bin/env bash
# mkgrubiso.sh OUT.iso KERNEL INITRD: the GRUB CD of bench/boot's firmware boots.
# A small copy of tests/guests/mkiso.sh --kind grub (grub-mkrescue, i386-pc, GRUB on COM1
# only) with the grub.cfg a benchmark needs -- no menu, no timeout, a line to time the
# boot loader by ("HVBENCH bootloader"), hvtest=marker -- which mkiso.sh has no option for
# (mkiso.sh belongs to the firmware tests; this file does not touch it).
# Needs grub-pc-bin, grub-common, xorriso, mtools.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: mkgrubiso.sh OUT.iso KERNEL INITRD" >&2; exit 2; }
out=$1 kernel=$2 initrd=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/boot/grub"
cp "$kernel" "$tmp/root/boot/vmlinuz"
cp "$initrd" "$tmp/root/boot/initrd.gz"
cat >"$tmp/root/boot/grub/grub.cfg" <<-'EOF'
	serial --unit=0 --speed=115200; terminal_input serial; terminal_output serial
	set timeout=0
	echo HVBENCH bootloader
	linux /boot/vmlinuz console=ttyS0 quiet hvtest=marker
	initrd /boot/initrd.gz
	boot
EOF
grub-mkrescue -o "$tmp/out.iso" -d /usr/lib/grub/i386-pc "$tmp/root" -- -volid HVBENCH_GRUB \
	>"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; echo "mkgrubiso: grub-mkrescue failed" >&2; exit 1; }
mv "$tmp/out.iso" "$out"
