#!/usr/bin/env bash
# install-deps.sh: installs what hvrun needs on Debian 12 (apt-get; run as root).
#   tools/install-deps.sh          build dependencies
#   tools/install-deps.sh --tests  also what the test suite and the lab need
set -euo pipefail

# libslirp-dev: user-mode networking; its slirp.pc requires glib-2.0.pc, which
# Debian's libslirp-dev does not pull in: libglib2.0-dev.  libjansson-dev: JSON on
# the control socket (hvrun, hvctl).  libseccomp-dev: the per-thread system call filters.
pkgs=(build-essential cmake pkg-config liburing-dev libcap-ng-dev libfdt-dev libslirp-dev
      libglib2.0-dev libjansson-dev libseccomp-dev)
if [ "${1-}" = --tests ] || [ "${1-}" = --lab ]; then
	# cmocka: unit tests.  The lab (tests/lab/lab.sh): QEMU, a static busybox,
	# cpio/kmod for its initramfs, e2fsprogs for scratch disks, xz/zstd for modules.
	# clang + its runtime libraries: the libFuzzer targets (tests/fuzz, -DHVRUN_FUZZ=ON).
	pkgs+=(clang libclang-rt-14-dev)
	pkgs+=(libcmocka-dev qemu-system-x86 qemu-system-data busybox-static cpio kmod python3 file
	       e2fsprogs xz-utils zstd util-linux
	       mmdebstrap	# the Debian guest image (tests/guests/mkdebian.sh)
	       # firmware boot (tests/guests/mkiso.sh, mkbootdisk.sh, firmware_*.sh): SeaBIOS,
	       # ISO images with isolinux or GRUB, GRUB for BIOS disks, the netboot installer
	       seabios xorriso isolinux syslinux-common grub-pc-bin grub-common mtools fdisk
	       debian-installer-12-netboot-amd64
	       # used inside the lab by the network tests: a switch, throughput, ssh, ping,
	       # ethtool (OVS's internal port), ps
	       openvswitch-switch iperf3 openssh-client openssh-server iputils-ping ethtool procps)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
# The lab downloads Debian's kernel with apt-get download: it needs package lists.
need_lists=0
if [ "${1-}" = --tests ] || [ "${1-}" = --lab ]; then
	ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || need_lists=1
fi
if [ ${#missing[@]} -eq 0 ] && [ $need_lists = 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages: ${missing[*]:-none} (package lists: $need_lists);" \
	     "run this script as root" >&2
	exit 1
fi
echo "install-deps: apt-get install ${missing[*]:-(package lists only)}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
[ ${#missing[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
