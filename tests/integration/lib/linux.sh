# lib/linux.sh: sourced by the tests that boot Linux (after lib/common.sh).  Provides the guest
# kernel (Debian's own linux-image-amd64 bzImage, the one the lab also boots, fetched by
# tests/lab/lab.sh --prepare) and the test initramfs (tests/guests/mkinitramfs.sh).

# Linux guests: a triple fault in the lab is retried once as an emulator fault (lib/common.sh).
LAB_FAULT_RETRY=1

# KERNEL: Debian's vmlinuz; HVRUN_TEST_KERNEL overrides (e.g. the cloud flavour).
if [ -n "${HVRUN_TEST_KERNEL:-}" ]; then
	KERNEL=$HVRUN_TEST_KERNEL
else
	ver=$("$HVRUN_SRC/tests/lab/lab.sh" --prepare 2>/dev/null | sed -n 's/^version=//p')
	[ -n "$ver" ] || fail "cannot get Debian's kernel (tests/lab/lab.sh --prepare)"
	KERNEL=${HVRUN_LAB_CACHE:-$HOME/.cache/hvrun-lab}/kernel-$ver/boot/vmlinuz-$ver
fi
[ -r "$KERNEL" ] || fail "no kernel at $KERNEL"
INITRD=$T/initrd.gz
MODDIR=$(dirname "$KERNEL")/../lib/modules/${KERNEL##*/vmlinuz-}
[ -d "$MODDIR" ] || MODDIR=
"$HVRUN_SRC/tests/guests/mkinitramfs.sh" "$INITRD" $MODDIR || fail "cannot build the test initramfs"

# hvtest FILE KEY: the value of "HVTEST KEY=..." in $T/FILE (first one).
hvtest() {
	sed -n "s/^HVTEST $2=//p" "$T/$1" | tr -d '\r' | head -n 1
}
