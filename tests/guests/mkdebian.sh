#!/usr/bin/env bash
#
# tests/guests/mkdebian.sh — build (once) a Debian 12 (bookworm) guest for hvrun's
# tests: a sparse raw ext4 root filesystem image with systemd, plus the guest's own
# kernel and initramfs (Debian's linux-image-amd64; the initramfs is made by
# initramfs-tools inside the image and carries virtio_pci, virtio_blk,
# virtio_console and ext4).
#
# Usage:
#   tests/guests/mkdebian.sh [--size 2G] [--print]
#
# Prints, on stdout:
#   disk=/root/.cache/hvrun-lab/debian/KEY/disk.raw
#   kernel=/root/.cache/hvrun-lab/debian/KEY/vmlinuz
#   initrd=/root/.cache/hvrun-lab/debian/KEY/initrd.img
# Progress and the build log go to stderr.
#
#   --size SIZE  apparent size of disk.raw (default 2G; mkfs.ext4 size syntax)
#   --print      only print the paths of an image already built; exit 1 (and
#                print nothing) when there is none
#
# The image is cached in ${HVRUN_LAB_CACHE:-$HOME/.cache/hvrun-lab}/debian/KEY/
# {disk.raw,vmlinuz,initrd.img,packages.txt,build.log}; KEY hashes this script
# (SCRIPT_VERSION, the package list, every configuration step), the suite and the
# size, so a change to any of them builds a new image, and an existing one is
# reused as is.  Images of other keys unused for 7 days are deleted when a new one
# is built.  The finished directory is renamed into place atomically;
# concurrent callers are serialised with flock.  NEVER write to the cached
# disk.raw: copy it first (cp --sparse=always).
#
# Guest: hostname hvguest, root password "root" (no other accounts, no empty
# passwords), default target multi-user, getty on hvc0 and ttyS0, / = /dev/vda
# (ext4, label hvroot), volatile journal, no network configuration (nothing waits
# for a network), apt/man-db/e2scrub/fstrim timers masked, sshd socket-activated
# (ssh.socket, port 22) and permitting root login with the password.  Boot it with e.g.
#   hvrun -m 512 -c 2 -k vmlinuz -i initrd.img -d disk.raw -a "root=/dev/vda console=hvc0"
#
# Needs root (mmdebstrap --mode=root, chroot), mmdebstrap (installed with
# apt-get when missing), e2fsprogs >= 1.43 (mkfs.ext4 -d), and Debian's archive
# (the mirror is taken from /etc/apt/sources.list*, or HVRUN_DEBIAN_MIRROR and
# HVRUN_DEBIAN_SECURITY_MIRROR).  No loop devices, no mounts outside the chroot.
#
# Exit status: 0 ok, 1 build failed (reason on stderr), 2 bad usage.
set -euo pipefail

readonly SCRIPT_VERSION=1
readonly SUITE=bookworm
# What is installed on top of the "apt" variant (Essential: yes + apt).
readonly PACKAGES=(
	systemd-sysv udev kmod dbus procps
	initramfs-tools linux-image-amd64
	pciutils fio e2fsprogs
	iproute2 iputils-ping openssh-server iperf3
)
# The initramfs's modules (MODULES=list: these and what they depend on, no more).
readonly INITRAMFS_MODULES=(virtio_pci virtio_blk virtio_console ext4 crc32c_generic)
# Units that only slow a test boot down or act behind a test's back.
readonly MASKED_UNITS=(
	systemd-networkd-wait-online.service systemd-time-wait-sync.service
	apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service
	man-db.timer man-db.service e2scrub_all.timer e2scrub_all.service e2scrub_reap.service
	fstrim.timer fstrim.service systemd-firstboot.service
	# What a test guest never uses, each costing seconds of every boot under emulation
	# (systemd-analyze blame in the lab): kernel modules and pseudo file systems loaded
	# for tools the image does not have, and utmp (no one reads who or last here).
	modprobe@drm.service modprobe@fuse.service modprobe@efi_pstore.service
	modprobe@dm_mod.service modprobe@configfs.service modprobe@loop.service
	sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount
	sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount
	proc-sys-fs-binfmt_misc.automount systemd-binfmt.service
	systemd-update-utmp.service systemd-update-utmp-runlevel.service
)
# Drivers udev would load for devices a test guest has but never uses (the nested
# virtualisation extension, the PC speaker).
readonly BLACKLISTED_MODULES=(kvm_amd kvm_intel kvm pcspkr)

SELF=$(readlink -f "${BASH_SOURCE[0]}")
readonly SELF
log() { printf 'mkdebian: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# ---------------------------------------------------------------------------
# Run by mmdebstrap as its customize hook: mkdebian.sh --customize ROOTDIR.
# The chroot has /proc, /sys and /dev mounted (mmdebstrap does that).
# ---------------------------------------------------------------------------
customize() {
	local r=$1 u
	[ -d "$r/etc" ] || die "--customize: $r is not a root filesystem"
	log "customizing $r"

	echo hvguest >"$r/etc/hostname"
	cat >"$r/etc/hosts" <<-'EOF'
		127.0.0.1	localhost
		127.0.1.1	hvguest
		::1		localhost ip6-localhost ip6-loopback
		ff02::1		ip6-allnodes
		ff02::2		ip6-allrouters
	EOF
	cat >"$r/etc/fstab" <<-'EOF'
		# hvrun test guest: the root filesystem is the first virtio-blk disk.  No fsck
		# at boot (pass 0): each test boots a fresh copy of an image checked when it was
		# built, and the check was the longest step of the boot's critical chain.
		/dev/vda	/	ext4	defaults,errors=remount-ro	0	0
	EOF
	printf 'blacklist %s\n' "${BLACKLISTED_MODULES[@]}" >"$r/etc/modprobe.d/hvrun-test-guest.conf"
	echo 'root:root' | chroot "$r" chpasswd

	# The initramfs holds what mounts the root and no more (MODULES=list): with
	# Debian's default MODULES=most it was 36 MB, unpacked by the guest at every boot
	# (and read through the BIOS by the firmware tests); the rest loads from the root.
	# MODULES=list is set in conf.d by the essential hook, before the kernel's package
	# makes its first initramfs (with MODULES=most: every module, packed to be thrown away).
	printf '%s\n' "${INITRAMFS_MODULES[@]}" >>"$r/etc/initramfs-tools/modules"
	chroot "$r" update-initramfs -u -k all >&2

	chroot "$r" systemctl set-default multi-user.target >&2
	# systemd starts a getty on console=hvc0 by itself (getty generator); enable
	# both consoles explicitly so that either --console choice gets a login.
	chroot "$r" systemctl enable serial-getty@hvc0.service serial-getty@ttyS0.service >&2
	for u in "${MASKED_UNITS[@]}"; do
		ln -sf /dev/null "$r/etc/systemd/system/$u"
	done

	mkdir -p "$r/etc/systemd/journald.conf.d"
	printf '[Journal]\nStorage=volatile\n' >"$r/etc/systemd/journald.conf.d/hvrun.conf"
	# sshd starts on the first connection (ssh.socket), not at boot: a boot in
	# the lab is ~15 s shorter.
	chroot "$r" systemctl disable ssh.service >&2
	chroot "$r" systemctl enable ssh.socket >&2
	mkdir -p "$r/etc/ssh/sshd_config.d"
	printf 'PermitRootLogin yes\nUseDNS no\n' >"$r/etc/ssh/sshd_config.d/hvrun.conf"
	# A quiet login (no motd noise in the console a test parses).
	: >"$r/etc/motd"
	touch "$r/root/.hushlogin"
}

# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------
size=2G
print_only=0
while (($#)); do
	case $1 in
	--size) size=${2-}; shift 2 || { log "--size needs a value"; exit 2; } ;;
	--print) print_only=1; shift ;;
	--customize) customize "${2:?--customize ROOTDIR}"; exit 0 ;;
	-h | --help) sed -n '3,/^set -euo/s/^# \{0,1\}//p' "$SELF"; exit 0 ;;
	*) log "unknown argument: $1 (usage: mkdebian.sh [--size 2G] [--print])"; exit 2 ;;
	esac
done
[[ $size =~ ^[0-9]+[KMGT]?$ ]] || { log "--size SIZE like 1536M or 2G"; exit 2; }

CACHE=${HVRUN_LAB_CACHE:-${HOME:-/root}/.cache/hvrun-lab}/debian
key=$({
	printf 'suite=%s size=%s\n' "$SUITE" "$size"
	printf 'package %s\n' "${PACKAGES[@]}"
	cat "$SELF"
} | sha256sum | cut -c1-16)
dir=$CACHE/$key

print_paths() {
	touch "$dir/last-used" 2>/dev/null || true	# for the clean-up of unused images
	printf 'disk=%s\nkernel=%s\ninitrd=%s\n' "$dir/disk.raw" "$dir/vmlinuz" "$dir/initrd.img"
}
complete() { [ -s "$dir/disk.raw" ] && [ -s "$dir/vmlinuz" ] && [ -s "$dir/initrd.img" ]; }

if complete; then print_paths; exit 0; fi
((print_only)) && { log "no image built yet for key $key (run without --print)"; exit 1; }

# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------
((EUID == 0)) || die "must run as root (mmdebstrap --mode=root and chroot)"
export PATH=$PATH:/usr/sbin:/sbin
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if complete; then print_paths; exit 0; fi	# another caller built it meanwhile

# Under the lock nobody else is building: leftovers of killed builds go, and so do
# images of other keys (older versions of this script) unused for 7 days.
rm -rf "$CACHE"/.build-*
for old in "$CACHE"/*/; do
	old=${old%/}
	[ "$old" != "$dir" ] && [ -d "$old" ] || continue
	if [ -z "$(find "$old" -maxdepth 1 -name last-used -mtime -7)" ] &&
		[ -z "$(find "$old" -maxdepth 0 -mtime -7)" ]; then
		log "removing $old (unused for 7 days)"
		rm -rf "$old"
	fi
done

if ! command -v mmdebstrap >/dev/null; then
	log "installing mmdebstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >&2 ||
		{ apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >&2; } ||
		die "cannot install mmdebstrap"
fi
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 missing (apt-get install e2fsprogs)"

# The Debian mirror this host uses: the first URI of a source serving SUITE (or
# SUITE-security) in /etc/apt/sources.list{,.d/*.list,.d/*.sources}.
apt_uri_for() {	# apt_uri_for SUITE
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v s="$1" '$1 == "deb" { i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($i ~ /^\[/) i++;
			if ($(i + 1) == s) { print $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# deb822: paragraphs separated by blank lines; Types/URIs/Suites fields.
		awk -v s="$1" 'function flush() { if (deb && uri != "" && (" " suites " ") ~ (" " s " ")) { print uri; exit }
				deb = 0; uri = ""; suites = "" }
			/^[ \t]*$/ { flush(); next }
			/^Types:/ { deb = ($0 ~ /[ \t]deb([ \t]|$)/) }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { $1 = ""; suites = $0 }
			END { flush() }' "$f"
	done
}
mirror=${HVRUN_DEBIAN_MIRROR:-$(apt_uri_for "$SUITE" | sed -n 1p)}
[ -n "$mirror" ] || die "no apt source for $SUITE in /etc/apt (set HVRUN_DEBIAN_MIRROR)"
security=${HVRUN_DEBIAN_SECURITY_MIRROR:-$(apt_uri_for "$SUITE-security" | sed -n 1p)}
sources=("deb $mirror $SUITE main" "deb $mirror $SUITE-updates main")
[ -z "$security" ] || sources+=("deb $security $SUITE-security main")

tmp=$(mktemp -d "$CACHE/.build-$key.XXXXXX")
cleanup() {
	# mmdebstrap unmounts what it mounted even when it fails; be sure anyway.
	local m
	for m in $(awk -v t="$tmp/" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$(date +%s)
log "building Debian $SUITE guest image $key (size $size) from $mirror; log: $tmp/build.log"
root=$tmp/root
{
	printf 'mkdebian.sh version %s, key %s, %s\n' "$SCRIPT_VERSION" "$key" "$(date -u +%FT%TZ)"
	printf 'mirror %s, security %s\n' "$mirror" "${security:-none}"
} >"$tmp/build.log"
includes=$(IFS=,; echo "${PACKAGES[*]}")
rc=0
mmdebstrap --mode=root --variant=apt --format=directory \
	--include="$includes" \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" && echo MODULES=list >"$1/etc/initramfs-tools/conf.d/hvrun"' \
	--customize-hook="'$SELF' --customize \"\$1\"" \
	"$SUITE" "$root" \
	"${sources[@]}" \
	>>"$tmp/build.log" 2>&1 || rc=$?
if ((rc)); then
	tail -n 40 "$tmp/build.log" >&2
	die "mmdebstrap failed (status $rc)"
fi

# A fixed machine-id (mmdebstrap leaves an empty one, so systemd would make up a
# transient one at every boot): no "first boot", the same identity in every copy.
printf '%s\n' "$(printf 'hvrun-debian-%s' "$key" | sha256sum | cut -c1-32)" >"$root/etc/machine-id"

# The guest's kernel and initramfs, next to the image.
kernels=("$root"/boot/vmlinuz-*)
((${#kernels[@]} == 1)) && [ -f "${kernels[0]}" ] || die "expected one kernel in $root/boot, found: ${kernels[*]}"
kver=${kernels[0]##*/vmlinuz-}
[ -s "$root/boot/initrd.img-$kver" ] || die "no initramfs for $kver in the image"
cp "${kernels[0]}" "$tmp/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$tmp/initrd.img"
# The initramfs must carry the modules the boot needs (lsinitramfs is initramfs-tools').
if chroot "$root" true 2>/dev/null && [ -x "$root/usr/bin/lsinitramfs" ]; then
	chroot "$root" lsinitramfs "/boot/initrd.img-$kver" >"$tmp/initrd.list"
	for m in "${INITRAMFS_MODULES[@]}"; do
		grep -q "/${m}\.ko" "$tmp/initrd.list" ||
			grep -q "^CONFIG_$(echo "$m" | tr a-z A-Z)=y" "$root/boot/config-$kver" ||
			die "the initramfs lacks $m.ko"
	done
	rm -f "$tmp/initrd.list"
fi
dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Package} ${Version}\n' >"$tmp/packages.txt"

log "making the ext4 image ($(du -sh "$root" | cut -f1) of files)"
mkfs.ext4 -q -F -L hvroot -d "$root" "$tmp/disk.raw" "$size" >>"$tmp/build.log" 2>&1 ||
	{ tail -n 20 "$tmp/build.log" >&2; die "mkfs.ext4 -d failed"; }
e2fsck -fn "$tmp/disk.raw" >>"$tmp/build.log" 2>&1 || die "the new image does not pass e2fsck"
rm -rf "$root"

end=$(date +%s)
printf 'kernel %s\nbuild time %d s\n' "$kver" $((end - start)) >>"$tmp/build.log"
chmod 0444 "$tmp/disk.raw" "$tmp/vmlinuz" "$tmp/initrd.img"
chmod 0755 "$tmp"
rm -rf "$dir"			# an incomplete leftover (complete() failed above)
mv -T "$tmp" "$dir"		# atomic: the directory appears complete or not at all
trap - EXIT
log "built $key in $((end - start)) s: kernel $kver, disk $(du -h --apparent-size "$dir/disk.raw" | cut -f1) apparent, $(du -h "$dir/disk.raw" | cut -f1) allocated"
print_paths
