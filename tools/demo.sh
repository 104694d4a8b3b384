#!/usr/bin/env bash
# demo.sh: the README's first command: install what is needed, build hvrun, then run the
# demo guests: the first-VM program, then a real Debian 12 system (systemd) booted from a
# raw disk image on virtio-blk, with its console on virtio (hvc0).  The image is built
# once with mmdebstrap from Debian's archive (tests/guests/mkdebian.sh, a few minutes)
# and cached in ~/.cache/hvrun-lab/debian; the demo boots a sparse copy of it.
#
# On a host with a hardware KVM the Debian guest is yours at its login prompt (root /
# root; Ctrl-A x quits hvrun, "poweroff" stops the guest).  Without one, everything runs
# in the nested-KVM lab (QEMU TCG with AMD SVM, tests/lab/lab.sh), where a short scripted
# session logs in, looks at the virtio devices and powers off.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh --lab
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
tests/lab/lab.sh --prepare >/dev/null

img=$(tests/guests/mkdebian.sh)
disk=$(sed -n 's/^disk=//p' <<<"$img")
kernel=$(sed -n 's/^kernel=//p' <<<"$img")
initrd=$(sed -n 's/^initrd=//p' <<<"$img")
append="root=/dev/vda console=hvc0"

if [ "$(tools/kvm-mode.sh build/hvrun)" = direct ]; then
	echo "demo: running on this host's KVM" >&2
	build/hvrun --demo -c 2
	cp --sparse=always "$disk" build/demo-disk.raw
	chmod u+w build/demo-disk.raw
	echo "demo: Debian 12 from build/demo-disk.raw; log in as root, password root;" \
	     "'poweroff' ends it, Ctrl-A x quits hvrun" >&2
	exec build/hvrun -m 1024 -c 2 -k "$kernel" -i "$initrd" -d build/demo-disk.raw -a "$append"
fi

echo "demo: this host has no hardware KVM (see 'build/hvrun --check'): running in the nested-KVM lab" >&2
session=(python3 tests/guests/console_session.py --timeout 600 --log build/demo-console.log
	--cmd 'uname -sr; systemctl is-system-running'
	--cmd 'lspci'
	--cmd 'lsblk -o NAME,SIZE,RO,SERIAL,MOUNTPOINT /dev/vda'
	--cmd 'grep virtio /proc/interrupts'
	--cmd 'head -c 16 /dev/hwrng | od -An -tx1; cat /sys/devices/virtual/misc/hw_random/rng_current'
	--
	build/hvrun -m 1024 -c 2 -k "$kernel" -i "$initrd" -d /scratch/disk.raw -a "$append")
exec tests/lab/lab.sh --timeout 900 --mem 2048 --scratch 3G -- bash -c "
	build/hvrun --demo -c 2 &&
	cp --sparse=always '$disk' /scratch/disk.raw && chmod u+w /scratch/disk.raw &&
	$(printf '%q ' "${session[@]}")"
