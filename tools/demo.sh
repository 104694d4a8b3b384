#!/usr/bin/env bash
# demo.sh: the README's first command: install what is needed, build hvrun, then run the
# demo guests -- the first-VM program, and Debian's own kernel (linux-image-amd64, fetched
# once into ~/.cache/hvrun-lab) booted to a small busybox userspace that reports what it
# sees and powers off.  Directly on this host's KVM when it has a hardware one, else in the
# nested-KVM lab (QEMU TCG with AMD SVM, tests/lab/lab.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh --lab
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"

ver=$(tests/lab/lab.sh --prepare | sed -n 's/^version=//p')
kernel=${HVRUN_LAB_CACHE:-$HOME/.cache/hvrun-lab}/kernel-$ver/boot/vmlinuz-$ver
tests/guests/mkinitramfs.sh build/demo-initrd.gz

demo="build/hvrun --demo -c 2 &&
      build/hvrun -c 2 -m 512 -k $kernel -i build/demo-initrd.gz -a 'console=ttyS0 quiet'"
if [ "$(tools/kvm-mode.sh build/hvrun)" = direct ]; then
	echo "demo: running on this host's KVM" >&2
	exec bash -c "$demo"
fi
echo "demo: this host has no hardware KVM (see 'build/hvrun --check'): running in the nested-KVM lab" >&2
exec tests/lab/lab.sh --timeout 300 -- bash -c "$demo"
