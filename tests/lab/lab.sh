#!/usr/bin/env bash
#
# tests/lab/lab.sh — run a host command inside a QEMU-TCG guest that has a
# working /dev/kvm (nested SVM + nested paging from `-cpu max`), so KVM code
# can be tested on machines without /dev/kvm. See tests/lab/README.md.
#
# Usage:
#   tests/lab/lab.sh [--timeout SECS] [--mem MB] [--cpus N] [--share DIR]...
#                    [--scratch SIZE [--scratch-file SRC:NAME]...] [--keep] -- COMMAND [ARGS...]
#   tests/lab/lab.sh --prepare    # only fetch the kernel + build the initramfs
#
# Exit status: the command's own status, or
#   124  lab hang: --timeout passed, the guest did not boot (a hung boot is
#        retried once), or the guest kernel kept reporting soft lockups / RCU
#        stalls for LOCKUP_HANG_S (an emulator fault); "LAB HANG: ..." and the
#        console tail are printed on stderr. A stall the lab recovers from is
#        only reported ("LAB STALL: ..." on stderr). Also when the lab's
#        heartbeat stops for STOPPED_S: the whole emulated machine stopped.
#   125  lab harness error: kernel download, QEMU or guest init failed, or the
#        guest stopped without reporting an exit status; reason on stderr
#   2    bad usage
set -euo pipefail

readonly EXIT_HANG=124
readonly EXIT_HARNESS=125
readonly EXIT_USAGE=2

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly LAB_DIR
readonly LAB_SH="$LAB_DIR/lab.sh"
readonly GUEST_INIT="$LAB_DIR/guest-init.sh"
# shellcheck source=../guests/modules.sh
. "$LAB_DIR/../guests/modules.sh"
readonly BUSYBOX=/bin/busybox
readonly QBOOT=${HVRUN_LAB_BIOS:-/usr/share/qemu/qboot.rom}
CACHE_DIR=${HVRUN_LAB_CACHE:-${HOME:-/tmp}/.cache/hvrun-lab}
readonly CACHE_DIR

# Modules the guest needs; their dependencies come from modules.dep.
# A trailing "?" marks a module that may be missing. Built-in ones are skipped.
#   crc32c_generic: ext4's soft dependency (metadata checksums need crc32c).
#   kvm_amd pulls kvm, irqbypass and ccp in through modules.dep.
readonly WANTED_MODULES=(virtio_pci 9pnet_virtio 9p overlay virtio_blk
	crc32c_generic ext4 kvm_amd tun vhost_net? bridge)

# Console lines that mean an emulated CPU stalled (TCG faults, a busy host).
readonly LOCKUP_RE='soft lockup|rcu_sched self-detected stall|rcu: INFO'
# A stall the lab recovers from is reported (LAB STALL) and the command goes on: the
# kernel prints its report when the CPU runs again, so one report is a stall that
# ended. It is a hang when the reports go on for LOCKUP_HANG_S seconds after the first
# (the watchdogs repeat them while a CPU stays stuck), or one says a CPU has been stuck
# that long.
readonly LOCKUP_HANG_S=${HVRUN_LAB_LOCKUP_HANG_S:-90}
# The lab guest rewrites /lab/heartbeat every 5 s once it is ready (guest-init.sh): when
# it has not for STOPPED_S seconds the whole emulated machine has stopped (a TCG
# livelock, README "Known problems"), and waiting for --timeout would only waste it.
# A livelock never ends; the longest heartbeat gap the lab came back from was a 26 s
# stall (52 s once, beside two compiling helpers), so 45 s gives up early on a lost lab.
readonly STOPPED_S=${HVRUN_LAB_STOPPED_S:-45}
# Longest wait for the guest to become ready (before --timeout starts), and
# how often a boot that hung is retried.
readonly BOOT_TIMEOUT=${HVRUN_LAB_BOOT_TIMEOUT:-90}
readonly BOOT_RETRIES=${HVRUN_LAB_BOOT_RETRIES:-1}
readonly CONSOLE_TAIL_LINES=40

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
log() { printf 'lab: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit "$EXIT_HARNESS"
}
usage_error() {
	log "$*"
	log "usage: lab.sh [--timeout SECS] [--mem MB] [--cpus N] [--share DIR]... [--scratch SIZE [--scratch-file SRC:NAME]...] [--keep] -- COMMAND [ARGS...]"
	log "       lab.sh --prepare"
	exit "$EXIT_USAGE"
}
# Microseconds since the epoch (EPOCHREALTIME without its decimal point).
now_us() { local t=$EPOCHREALTIME; printf '%s\n' "${t//[!0-9]/}"; }
# Microseconds -> "S.d" seconds.
fmt_s() { printf '%d.%d' $(($1 / 1000000)) $(($1 / 100000 % 10)); }

# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------
timeout=600
mem=4096
cpus=2
scratch=
scratch_files=()
keep=0
prepare_only=0
shares=()

while (($#)); do
	case $1 in
	--timeout) timeout=${2-}; shift 2 || usage_error "--timeout needs a value" ;;
	--mem) mem=${2-}; shift 2 || usage_error "--mem needs a value" ;;
	--cpus) cpus=${2-}; shift 2 || usage_error "--cpus needs a value" ;;
	--share) shares+=("${2-}"); shift 2 || usage_error "--share needs a value" ;;
	--scratch) scratch=${2-}; shift 2 || usage_error "--scratch needs a value" ;;
	--scratch-file) scratch_files+=("${2-}"); shift 2 || usage_error "--scratch-file needs SRC:NAME" ;;
	--keep) keep=1; shift ;;
	--prepare) prepare_only=1; shift ;;
	-h | --help) sed -n '3,/^set -euo/s/^# \{0,1\}//p' "$LAB_SH"; exit 0 ;;
	--) shift; break ;;
	-*) usage_error "unknown option: $1" ;;
	*) break ;;
	esac
done
[[ $timeout =~ ^[0-9]+$ ]] || usage_error "--timeout must be whole seconds (0 = none)"
if [[ ! $mem =~ ^[0-9]+$ ]] || ((mem < 256)); then usage_error "--mem must be MB >= 256"; fi
if [[ ! $cpus =~ ^[0-9]+$ ]] || ((cpus < 1)); then usage_error "--cpus must be >= 1"; fi
[[ -z $scratch || $scratch =~ ^[0-9]+[KMGT]?$ ]] || usage_error "--scratch SIZE like 512M or 2G"
for f in "${scratch_files[@]}"; do
	[[ -n $scratch ]] || usage_error "--scratch-file needs --scratch SIZE"
	[[ $f =~ ^(.+):([A-Za-z0-9._-]+)$ ]] || usage_error "--scratch-file SRC:NAME (NAME a plain file name), not '$f'"
	[[ -f ${BASH_REMATCH[1]} && -r ${BASH_REMATCH[1]} ]] || usage_error "--scratch-file: cannot read ${BASH_REMATCH[1]}"
done
if ((!prepare_only && $# == 0)); then usage_error "no command given"; fi
[[ $BOOT_TIMEOUT =~ ^[0-9]+$ && $BOOT_RETRIES =~ ^[0-9]+$ ]] ||
	usage_error "HVRUN_LAB_BOOT_TIMEOUT and HVRUN_LAB_BOOT_RETRIES must be whole numbers"

# ---------------------------------------------------------------------------
# Kernel: resolve the current Debian kernel, download and unpack it (cached)
# ---------------------------------------------------------------------------

# Print the ABI version the linux-image-amd64 metapackage points at,
# e.g. 6.1.0-56-amd64, or nothing.
kernel_version_from_apt() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | sed -n 1p
}

apt_update() {
	if ((EUID == 0)); then
		log "running apt-get update"
		apt-get update -qq >&2 || log "apt-get update failed"
	fi
}

# Newest kernel already unpacked in the cache (for when apt knows nothing).
newest_cached_kernel() {
	local d
	for d in "$CACHE_DIR"/kernel-*/.hvrun-complete; do
		[[ -e $d ]] || continue
		d=${d%/.hvrun-complete}
		printf '%s\n' "${d##*/kernel-}"
	done | sort -V | tail -n 1
}

resolve_kernel_version() {
	local v=${HVRUN_LAB_KERNEL:-}
	[[ -n $v ]] || v=$(kernel_version_from_apt)
	if [[ -z $v ]]; then
		apt_update
		v=$(kernel_version_from_apt)
	fi
	[[ -n $v ]] || v=$(newest_cached_kernel)
	[[ -n $v ]] || die "cannot resolve the Debian kernel version (apt-cache depends linux-image-amd64 is empty)"
	printf '%s\n' "$v"
}

# Download linux-image-VER (or -unsigned) into DIR; prints the .deb path.
download_kernel_deb() {
	local ver=$1 dir=$2 pkg deb
	for pkg in "linux-image-$ver" "linux-image-$ver-unsigned"; do
		rm -f "$dir"/*.deb
		# The sandbox option only silences apt's warning about the _apt user.
		if (cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2); then
			for deb in "$dir"/*.deb; do
				[[ -f $deb ]] && { printf '%s\n' "$deb"; return 0; }
			done
		fi
		log "apt-get download $pkg failed"
	done
	return 1
}

# Make sure $CACHE_DIR/kernel-VER holds the unpacked kernel package with a
# modules.dep (the package ships none: its postinst runs depmod).
ensure_kernel() {
	local ver=$1 tree="$CACHE_DIR/kernel-$1" tmp deb
	[[ -e $tree/.hvrun-complete ]] && return 0
	log "downloading Debian kernel $ver into $CACHE_DIR"
	tmp=$(mktemp -d "$CACHE_DIR/.kernel-$ver.XXXXXX")
	if ! deb=$(download_kernel_deb "$ver" "$tmp"); then
		rm -rf "$tmp"
		return 1
	fi
	dpkg-deb -x "$deb" "$tmp/root" || { rm -rf "$tmp"; die "dpkg-deb -x $deb failed"; }
	[[ -f $tmp/root/boot/vmlinuz-$ver ]] || { rm -rf "$tmp"; die "no boot/vmlinuz-$ver in $deb"; }
	if [[ ! -s $tmp/root/lib/modules/$ver/modules.dep ]]; then
		command -v depmod >/dev/null || PATH=$PATH:/usr/sbin:/sbin
		depmod -b "$tmp/root" "$ver" || { rm -rf "$tmp"; die "depmod failed (is kmod installed?)"; }
	fi
	rm -rf "$tree"
	mv "$tmp/root" "$tree"
	rm -rf "$tmp"
	touch "$tree/.hvrun-complete"
}

# Debian's bzImage is xz-compressed; decompressing it under TCG costs ~2 s of
# every boot. The payload is an ELF vmlinux with a PVH entry note, which QEMU
# can boot directly. Print the path of that vmlinux (extracted once into the
# cache), or the bzImage when there is no usable PVH payload.
boot_image() {
	local ver=$1 tree="$CACHE_DIR/kernel-$1" bz off tmp
	bz="$tree/boot/vmlinuz-$ver"
	if ! command -v xz >/dev/null; then
		printf '%s\n' "$bz" # (apt-get install xz-utils for faster boots)
		return
	fi
	if [[ -s $tree/vmlinux-pvh ]]; then
		printf '%s\n' "$tree/vmlinux-pvh"
		return
	fi
	if [[ ! -e $tree/.no-pvh ]]; then
		tmp="$tree/vmlinux-pvh.tmp"
		# Offset of the first xz stream header (FD '7zXZ' 00) in the bzImage.
		off=$(LC_ALL=C grep -obUaP -m 1 '\xfd7zXZ\x00' "$bz" | head -n 1 | cut -d: -f1 || true)
		if [[ -n $off ]]; then
			# xz complains about the bytes after the stream; the checks below judge.
			tail -c +$((off + 1)) "$bz" | xz -dc >"$tmp" 2>/dev/null || true
		fi
		# An ELF file carrying a Xen note of type 18 (XEN_ELFNOTE_PHYS32_ENTRY).
		if [[ -s $tmp && $(head -c 4 "$tmp") == $'\x7fELF' ]] &&
			LC_ALL=C grep -qaP '\x04\x00\x00\x00[\x04\x08]\x00\x00\x00\x12\x00\x00\x00Xen\x00' "$tmp"; then
			mv "$tmp" "$tree/vmlinux-pvh"
			printf '%s\n' "$tree/vmlinux-pvh"
			return
		fi
		rm -f "$tmp"
		touch "$tree/.no-pvh"
	fi
	printf '%s\n' "$bz"
}

# ---------------------------------------------------------------------------
# Initramfs: busybox + guest-init.sh + the needed modules (cached)
# ---------------------------------------------------------------------------

# Build the initramfs for kernel VER into OUT (gzip'd newc cpio).
build_initramfs() {
	local ver=$1 out=$2 moddir="$CACHE_DIR/kernel-$1/lib/modules/$1"
	local stage rel name applet
	[[ -x $BUSYBOX ]] || die "$BUSYBOX missing (apt-get install busybox-static)"
	stage=$(mktemp -d "$CACHE_DIR/.initramfs.XXXXXX")
	mkdir -p "$stage"/{bin,dev,proc,sys,host,rw,newroot,lab,modules}
	cp "$BUSYBOX" "$stage/bin/busybox"
	for applet in $("$BUSYBOX" --list); do
		[[ $applet == busybox ]] || ln -s busybox "$stage/bin/$applet"
	done
	install -m 755 "$GUEST_INIT" "$stage/init"

	stage_modules "$moddir" "$stage/modules" "${WANTED_MODULES[@]}" || exit

	(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$out.tmp"
	mv "$out.tmp" "$out"
	rm -rf "$stage"
}

# Fetch/unpack the kernel and build the initramfs if needed; sets KVER,
# KERNEL and INITRAMFS. Serialised by a lock so parallel runs share the cache.
prepare() {
	mkdir -p "$CACHE_DIR"
	exec 9>"$CACHE_DIR/.lock"
	flock 9

	KVER=$(resolve_kernel_version)
	if ! ensure_kernel "$KVER"; then
		[[ -z ${HVRUN_LAB_KERNEL:-} ]] || die "cannot download linux-image-$KVER (HVRUN_LAB_KERNEL)"
		# Stale package lists name a kernel the archive no longer has.
		apt_update
		KVER=$(kernel_version_from_apt)
		[[ -n $KVER ]] || die "cannot resolve the Debian kernel version"
		ensure_kernel "$KVER" || die "cannot download the Debian kernel package linux-image-$KVER"
	fi
	KERNEL=$(boot_image "$KVER")

	# Key the initramfs on everything that goes into it.
	local key
	key=$({ printf '%s\n' "$KVER"; cat "$LAB_SH" "$GUEST_INIT" "$BUSYBOX"; } | sha256sum)
	INITRAMFS="$CACHE_DIR/initramfs-$KVER-${key:0:16}.cpio.gz"
	if [[ ! -s $INITRAMFS ]]; then
		log "building initramfs $INITRAMFS"
		build_initramfs "$KVER" "$INITRAMFS"
	fi

	# Drop what older kernels / lab.sh versions left behind.
	local old
	for old in "$CACHE_DIR"/kernel-* "$CACHE_DIR"/initramfs-*.cpio.gz "$CACHE_DIR"/.kernel-* "$CACHE_DIR"/.initramfs.*; do
		[[ -e $old ]] || continue
		case $old in
		"$CACHE_DIR/kernel-$KVER" | "$INITRAMFS") ;;
		*/initramfs-*) [[ -n $(find "$old" -mtime +7) ]] && rm -f "$old" ;;
		*) rm -rf "$old" ;;
		esac
	done

	exec 9>&-
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
# Directories shared read-write at their host paths: the git top-level of the
# cwd (or the cwd) plus every --share.
cwd=$(pwd -P)
default_share=$(git -C "$cwd" rev-parse --show-toplevel 2>/dev/null || printf '%s' "$cwd")
shares=("$default_share" "${shares[@]}")
declare -A share_seen=()
share_list=()
for s in "${shares[@]}"; do
	[[ -d $s ]] || usage_error "--share $s: not a directory"
	s=$(cd "$s" && pwd -P)
	[[ $s != / ]] || { log "not sharing / read-write (the guest sees it read-only anyway)"; continue; }
	[[ $s != *$'\n'* ]] || usage_error "--share: path with a newline: $s"
	[[ -z ${share_seen[$s]:-} ]] || continue
	share_seen[$s]=1
	share_list+=("$s")
done

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
prepare

if ((prepare_only)); then
	printf 'version=%s\nkernel=%s\ninitramfs=%s\n' "$KVER" "$KERNEL" "$INITRAMFS"
	exit 0
fi

# Per-run dir, shared with the guest as tag "hvrunrun".
run=$(mktemp -d "${TMPDIR:-/tmp}/hvrun-lab.XXXXXX")
qemu_pid=
tail_pid=
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
	local rc=$?
	if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid" 2>/dev/null || true
		sleep 0.5
		kill -KILL "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	[[ -z $tail_pid ]] || kill "$tail_pid" 2>/dev/null || true
	if ((keep)); then
		log "kept run dir $run"
	else
		rm -rf "$run"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# QEMU's -virtfs/-drive options need "," doubled inside values.
qarg() { printf '%s' "${1//,/,,}"; }

# The CPU: TCG's "max" (every feature TCG emulates: SVM with nested paging), changed in
# two ways that make each nested Linux boot about 45 % faster (README, "The lab's CPU"):
#   family=20  "max" says AMD family 15 (K8), and Linux then looks for a K8's GART
#              aperture by reading PCI config space on all 256 buses, twice: 33,000
#              port exits in each nested guest's boot.
#   -erms,-fsrm  without the "fast strings" bits Linux clears and copies memory with
#              rep stosq/movsq or plain moves, not rep stosb/movsb: TCG runs a rep
#              string one element per step, so a byte at a time costs 8 times the
#              steps.
# HVRUN_LAB_CPU overrides.
lab_cpu=${HVRUN_LAB_CPU:-max,family=20,-erms,-fsrm}
qemu=(qemu-system-x86_64
	-accel "tcg,thread=multi${HVRUN_LAB_TCG:+,$HVRUN_LAB_TCG}" -cpu "$lab_cpu" -smp "$cpus" -m "$mem"
	-nodefaults -nographic -monitor none -nic none
	# CPU resets, a triple fault among them, logged: why a lab ended without a word.
	# No -no-reboot: QEMU dumps each CPU's registers as it resets them, so after a
	# triple fault the log holds the CPUs' state at the fault (with -no-reboot QEMU
	# just exits).  run_vm stops QEMU as soon as a reset happens after "ready".
	-d cpu_reset -D "$run/qemu-reset.log"
	-kernel "$KERNEL" -initrd "$INITRAMFS"
	-append "console=ttyS0 panic=-1 loglevel=7 mitigations=off tsc=reliable${HVRUN_LAB_APPEND:+ $HVRUN_LAB_APPEND}"
	-chardev "file,id=console,path=$(qarg "$run/console.log")" -serial chardev:console
	-chardev "file,id=output,path=$(qarg "$run/out")" -serial chardev:output
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$(qarg "$run"),mount_tag=hvrunrun,security_model=none,multidevs=remap"
)

# qboot (from qemu-system-data) starts the kernel faster than SeaBIOS.
if [[ -f $QBOOT ]]; then qemu+=(-bios "$QBOOT"); fi

# Guest config: shares sorted so parents are mounted before their children.
: >"$run/config"
i=0
while IFS= read -r s; do
	[[ -n $s ]] || continue
	qemu+=(-virtfs "local,path=$(qarg "$s"),mount_tag=share$i,security_model=none,multidevs=remap")
	printf 'share share%d %s\n' "$i" "$s" >>"$run/config"
	i=$((i + 1))
done < <(printf '%s\n' "${share_list[@]}" | LC_ALL=C sort)

# make_scratch IMG: the ext4 scratch disk of --scratch SIZE, with the --scratch-file files
# put in when the file system is made (mkfs.ext4 -d keeps their holes), on this host:
# copying a 2 GB image inside the emulator took 34 s.
make_scratch() {
	local img=$1 f populate=()
	truncate -s "$scratch" "$img"
	if ((${#scratch_files[@]})); then
		mkdir "$run/scratch-root"
		for f in "${scratch_files[@]}"; do
			cp --reflink=auto --sparse=always -- "${f%:*}" "$run/scratch-root/${f##*:}" &&
				chmod 0644 "$run/scratch-root/${f##*:}" || die "cannot copy ${f%:*} for the scratch disk"
		done
		populate=(-d "$run/scratch-root")
	fi
	PATH=$PATH:/usr/sbin:/sbin mkfs.ext4 -F -q "${populate[@]}" "$img" ||
		die "mkfs.ext4 on the scratch image failed"
	rm -rf "$run/scratch-root"
}

# scratch_cacheable: true when every --scratch-file is a file nobody may write (the
# cached guest images are mode 0444): then the populated scratch disk is made once and
# kept in the cache, keyed on the size and each file's name, inode, size and mtime;
# each run copies it (about 1 s for a 2 GB Debian image, where mkfs.ext4 -d took 8-12 s).
scratch_cacheable() {
	local f
	((${#scratch_files[@]})) || return 1
	for f in "${scratch_files[@]}"; do
		[[ -n $(find "${f%:*}" -maxdepth 0 -type f ! -perm /222) ]] || return 1
	done
}

if [[ -n $scratch ]]; then
	if scratch_cacheable; then
		key=$({ printf '%s\n' "$scratch"; for f in "${scratch_files[@]}"; do
			printf '%s %s\n' "${f##*:}" "$(stat -L -c '%d:%i:%s:%Y' -- "${f%:*}")"; done; } | sha256sum)
		cached=$CACHE_DIR/scratch-${key:0:16}.img
		mkdir -p "$CACHE_DIR"
		(
			flock 8
			if [[ ! -s $cached ]]; then
				make_scratch "$cached.tmp" && mv "$cached.tmp" "$cached"
			fi
			touch "$cached"
			# Scratch disks of images that are gone or unused for 2 days.
			find "$CACHE_DIR" -maxdepth 1 -name 'scratch-*.img' -mtime +2 -delete 2>/dev/null
		) 8>"$CACHE_DIR/.scratch.lock" || die "cannot make the cached scratch disk $cached"
		cp --sparse=always -- "$cached" "$run/scratch.img" || die "cannot copy $cached"
	else
		make_scratch "$run/scratch.img"
	fi
	qemu+=(-drive "file=$(qarg "$run/scratch.img"),if=virtio,format=raw,cache=unsafe")
	printf 'scratch /dev/vda\n' >>"$run/config"
fi
# A witness for hangs: 15 s before --timeout, the guest writes down what the command's
# processes are doing (witness.txt, printed with a LAB HANG).  None written means the
# whole emulated machine had stopped, not only something in it.
witness_s=
if ((timeout > 30)); then
	witness_s=$((timeout - 15))
	printf 'witness %d\n' "$witness_s" >>"$run/config"
fi

# The command script the guest runs with bash inside the new root.
{
	printf '# generated by tests/lab/lab.sh\n'
	printf 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n'
	printf 'export HOME=/root USER=root LOGNAME=root TERM=dumb LANG=%q\n' "${LANG:-C.UTF-8}"
	for v in $(compgen -e); do
		[[ $v == HVRUN_* ]] && printf 'export %s=%q\n' "$v" "${!v}"
	done
	printf 'export HVRUN_IN_LAB=1\n'
	[[ -z $scratch ]] || printf 'export HVRUN_SCRATCH=/scratch\n'
	printf 'hvrun_lab_cwd=%q\n' "$cwd"
	# shellcheck disable=SC2016  # expanded by the guest's bash
	printf 'cd -- "$hvrun_lab_cwd" || { echo "lab: cannot cd to $hvrun_lab_cwd in the guest" >&2; exit %d; }\n' "$EXIT_HARNESS"
	printf 'unset hvrun_lab_cwd\n'
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} >"$run/cmd.sh"

# Show QEMU's own messages and the end of the guest console on stderr.
# reset_registers: from the reset log, each CPU's state as QEMU reset it after the
# first triple fault (or the first reset after "ready"): the instruction pointer,
# stack, control registers, descriptor tables and EFER.  The lab kernel is booted
# through PVH, without KASLR: its addresses are the same in every run (its text is
# at 0xffffffff81000000..., modules at 0xffffffffc0000000...); another kernel's
# randomised addresses are the nested guest's.
reset_registers() {
	awk -v first="${resets_at_ready:-999999}" '
		/Triple fault/ { tf = 1; print "  | " $0; next }
		/^CPU Reset/ { n++; on = (tf || n > first) }
		on && /^(CPU Reset|RAX|RSI|R8 |R12|RIP|EIP|CS |SS |GDT|IDT|CR0|EFER)/ { print "  | " $0 }' \
		"$run/qemu-reset.log" | head -n 40 >&2
}

qemu_said() {
	if [[ -s $run/qemu.log ]]; then
		log "QEMU said:"
		sed 's/^/  | /' "$run/qemu.log" >&2
	fi
}
console_tail() {
	if [[ ! -s $run/console.log ]]; then
		log "(the guest console is empty)"
		return
	fi
	log "last $CONSOLE_TAIL_LINES console lines:"
	tr -d '\r' <"$run/console.log" | tail -n "$CONSOLE_TAIL_LINES" | sed 's/^/  | /' >&2
}

# Evidence for stalls: once a second the watcher notes how much CPU time each of QEMU's
# threads has had and the host's CPU pressure (cpu-samples).  A stall report then says
# whether the emulated CPUs were running through the stall (QEMU's vCPU threads busy:
# the lab was executing something slow) or not (starved or blocked on the host).
cpu_sample() {	# cpu_sample NOW_US: one line: NOW_US PSI_SOME_US TID:TICKS...
	local psi
	psi=$(sed -n 's/^some .*total=\([0-9]*\)$/\1/p' /proc/pressure/cpu 2>/dev/null || true)
	# (QEMU may end while this reads its threads: not lab.sh's error)
	awk -v t="$1" -v psi="${psi:--}" '{ l = l " " FILENAME ":" ($14 + $15) ":" $3 }
		END { print t, psi l }' /proc/"$qemu_pid"/task/*/stat 2>/dev/null || true
}
stall_cpu() {	# stall_cpu NOW_US SECONDS: QEMU's threads and host pressure over the last SECONDS
	awk -v now="$1" -v w="$2" -v hz="$(getconf CLK_TCK)" '
		NR == 1 { first = $0 } $1 <= now - w * 1000000 { a = $0; nd = ns = 0 }
		# samples since the window began, and those with a QEMU thread in D state
		{ b = $0; ns++; if ($0 ~ /:D( |$)/) nd++ }
		END {
			if (a == "") a = first	# the stall began before the first sample
			if (a == "" || a == b) { print "(no CPU samples)"; exit }
			na = split(a, x, " "); nb = split(b, y, " "); dt = (y[1] - x[1]) / 1e6
			for (i = 3; i <= na; i++) { split(x[i], p, ":"); old[p[1]] = p[2] }
			sum = 0; n = 0
			for (i = 3; i <= nb; i++) {
				split(y[i], p, ":")	# a thread new since the first sample: all its time
				c = (p[2] - old[p[1]]) / hz / dt; sum += c; pc[n++] = int(c * 100 + 0.5)
			}
			# the three busiest threads
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (pc[j] > pc[i]) { t = pc[i]; pc[i] = pc[j]; pc[j] = t }
			top = pc[0] "%"; for (i = 1; i < 3 && i < n; i++) top = top ", " pc[i] "%"
			printf "in the %.0f s before it QEMU used %.2f CPUs (busiest threads %s)", dt, sum, top
			if (x[2] != "-" && y[2] != "-") printf ", the host CPU pressure was %.0f%%", (y[2] - x[2]) / 1e4 / dt
			printf ", a thread of it in D state in %d of %d samples", nd, ns
			print ""
		}' "$run/cpu-samples"
}
# stall_traces: each stall report's task, RIP and first calls, from the console.
stall_traces() {
	tr -d '\r' <"$run/console.log" | awk -v re="$LOCKUP_RE" '
		function flush() {
			if (hdr != "") print "lab: stall trace: " hdr (rip != "" ? "; RIP " rip : "") (calls != "" ? "; calls: " calls : "")
			hdr = ""; rip = ""; calls = ""; nc = 0
		}
		$0 ~ re { flush(); hdr = $0; left = 80; next }
		hdr != "" && left-- > 0 {
			if (rip == "" && match($0, /RIP: [0-9a-f]+:[^ ]+/)) { rip = substr($0, RSTART, RLENGTH); sub(/^RIP: [0-9a-f]+:/, "", rip) }
			if (nc < 8 && match($0, /\]  [A-Za-z_][A-Za-z0-9_.]*\+0x/)) {
				f = substr($0, RSTART + 3, RLENGTH - 6); calls = calls (nc++ ? " < " : "") f
			}
		}
		END { flush() }' | head -n 20 || true	# (head may end awk early: not an error)
}

# Boot the guest and watch it: streams the command's output, notes when the
# guest is ready, kills a hung guest. Returns 0 when QEMU ended by itself,
# 1 after a hang (reason in $hang_reason). Sets start/ready_us/end (µs).
run_vm() {
	: >"$run/console.log"
	: >"$run/out"
	rm -f "$run/exit" "$run/init-error" "$run/dmesg" "$run/heartbeat" "$run/heartbeat.pid"
	hang_reason=
	ready_us=
	start=$(now_us)
	"${qemu[@]}" </dev/null >"$run/qemu.log" 2>&1 &
	qemu_pid=$!
	# Stream the command's output (ttyS1) live to our stdout.
	tail -c +1 -s 0.1 -f --pid="$qemu_pid" "$run/out" &
	tail_pid=$!

	local now n_stalls=0 n stall_first_us= stall_last_us= stuck_s beat_s sample_us=0 report
	reset_seen= resets_at_ready=
	: >"$run/cpu-samples"
	while kill -0 "$qemu_pid" 2>/dev/null; do
		now=$(now_us)
		if ((now - sample_us >= 1000000)); then
			sample_us=$now
			cpu_sample "$now" >>"$run/cpu-samples"
		fi
		if [[ -z $ready_us ]] && grep -q 'HVRUN-LAB-READY' "$run/console.log"; then
			ready_us=$now
			# Boot resets each CPU, and an INIT resets an AP: all done by now.
			resets_at_ready=$(grep -c '^CPU Reset' "$run/qemu-reset.log")
		fi
		# A reset of the lab machine (a triple fault of its CPU, a panic's reboot):
		# its register dumps are in the log; stop before it boots again.
		if grep -qs 'Triple fault' "$run/qemu-reset.log" ||
			{ [[ -n $resets_at_ready ]] &&
			  (($(grep -c '^CPU Reset' "$run/qemu-reset.log") > resets_at_ready)); }; then
			reset_seen=1
			sleep 0.5
			kill -KILL "$qemu_pid" 2>/dev/null
			break
		fi
		n=$(grep -c -E "$LOCKUP_RE" "$run/console.log" || true)
		if ((n > n_stalls)); then
			# A report long after the last one starts a new stall.
			if [[ -z $stall_last_us ]] || ((now - stall_last_us > LOCKUP_HANG_S * 1000000)); then
				stall_first_us=$now
			fi
			stall_last_us=$now
			# Each new report (two can come in one look: a soft lockup and RCU's).
			while read -r report; do
				# The stall's length: "stuck for 26s", else RCU's 21 s.
				stuck_s=$(grep -o -E 'stuck for [0-9]+s' <<<"$report" | tr -dc '0-9' || true)
				printf 'LAB STALL: %s s into the lab: %s; %s\n' "$(fmt_s $((now - start)))" "$report" \
					"$(stall_cpu "$now" "${stuck_s:-21}")" >&2
			done < <(grep -E "$LOCKUP_RE" "$run/console.log" | sed -n "$((n_stalls + 1)),${n}p" | tr -d '\r')
			n_stalls=$n
		fi
		stuck_s=$(grep -o -E 'stuck for [0-9]+s' "$run/console.log" | tr -dc '0-9\n' | sort -n | tail -n 1 || true)
		if [[ -n $stall_first_us ]] &&
			{ ((stall_last_us - stall_first_us > LOCKUP_HANG_S * 1000000)) ||
			  ((${stuck_s:-0} >= LOCKUP_HANG_S)); }; then
			hang_reason="guest kernel kept reporting lockups/stalls for $(fmt_s $((stall_last_us - stall_first_us))) s (emulator fault; $n_stalls reports, the longest stuck ${stuck_s:-?} s): $(grep -m 1 -E "$LOCKUP_RE" "$run/console.log" | tr -d '\r')"
		elif [[ -n $ready_us ]] && ((now - ready_us > STOPPED_S * 1000000)) &&
			beat_s=$(stat -c %Y "$run/heartbeat" 2>/dev/null || echo 0) &&
			((${EPOCHREALTIME%.*} - beat_s > STOPPED_S)); then
			if ((beat_s)); then
				hang_reason="the lab machine stopped: no heartbeat from it for $((${EPOCHREALTIME%.*} - beat_s)) s (limit $STOPPED_S s; a TCG livelock, not the command)"
			else
				hang_reason="the lab machine stopped: no heartbeat from it in the $STOPPED_S s since it was ready (a TCG livelock, not the command)"
			fi
		elif [[ -z $ready_us ]] && ((now - start > BOOT_TIMEOUT * 1000000)); then
			hang_reason="guest did not finish booting within $BOOT_TIMEOUT s"
		elif [[ -n $ready_us ]] && ((timeout > 0 && now - ready_us > timeout * 1000000)); then
			hang_reason="command still running after --timeout $timeout s: $command_text"
		fi
		[[ -z $hang_reason ]] || break
		sleep 0.1
	done
	[[ -z $hang_reason ]] || kill -KILL "$qemu_pid" 2>/dev/null
	qemu_rc=0
	wait "$qemu_pid" 2>/dev/null || qemu_rc=$? # (quietly: no "Killed" job notice)
	qemu_pid=
	end=$(now_us)
	wait "$tail_pid" 2>/dev/null
	tail_pid=
	[[ -z $hang_reason ]]
}

command_text="$*"
log "booting Debian kernel $KVER under QEMU TCG (-cpu $lab_cpu)"
boot_attempt=0
until run_vm; do
	# Nothing of the command has run before "ready", so a boot that hung
	# (an emulator fault) can safely be tried again.
	if [[ -z $ready_us ]] && ((boot_attempt < BOOT_RETRIES)); then
		boot_attempt=$((boot_attempt + 1))
		log "boot hang ($hang_reason); booting again (retry $boot_attempt of $BOOT_RETRIES)"
		qemu_said
		console_tail
		continue
	fi
	printf 'LAB HANG: %s\n' "$hang_reason" >&2
	if [[ -s $run/witness.txt ]]; then
		log "what the lab's processes did ${witness_s} s into the command (the lab was alive):"
		head -n 120 "$run/witness.txt" | sed 's/^/  | /' >&2
	elif [[ -n $witness_s && -n $ready_us && $hang_reason == *--timeout* ]]; then
		log "no witness from the lab at ${witness_s} s: the whole emulated machine had stopped"
	fi
	stall_traces >&2
	qemu_said
	console_tail
	exit "$EXIT_HANG"
done

# The exit status: /lab/exit (written over 9p), else the console marker.
rc=
if [[ -s $run/exit ]]; then
	rc=$(<"$run/exit")
else
	rc=$(tr -d '\r' <"$run/console.log" | sed -n 's/^HVRUN-LAB-EXIT \([0-9]*\)$/\1/p' | tail -n 1)
fi
if [[ ! $rc =~ ^[0-9]+$ ]]; then
	# Said when the guest was ready: the command was running when QEMU stopped.
	running=
	[[ -z $ready_us ]] || running=" while the command ran ($(fmt_s $((end - ready_us))) s in)"
	if [[ -s $run/init-error ]]; then
		log "error: guest init failed: $(<"$run/init-error")"
	elif grep -q HVRUN-LAB-INIT-FAILED "$run/console.log"; then
		log "error: guest init failed: $(grep -m 1 HVRUN-LAB-INIT-FAILED "$run/console.log" | tr -d '\r')"
	elif grep -q 'Kernel panic' "$run/console.log"; then
		log "error: the guest kernel panicked (QEMU status $qemu_rc)$running"
	else
		log "error: QEMU (status $qemu_rc) stopped without an exit status from the guest$running"
	fi
	if grep -q -i 'triple fault' "$run/qemu-reset.log" 2>/dev/null; then
		log "QEMU's CPU reset log has a triple fault (the lab guest's CPU shut down); each CPU at the fault:"
		reset_registers
	elif [[ -n $reset_seen ]]; then
		log "the lab machine reset itself under the command; each CPU at the reset:"
		reset_registers
	fi
	stall_traces >&2
	qemu_said
	console_tail
	exit "$EXIT_HARNESS"
fi

# A kernel warning during the run (e.g. a KVM WARN_ON) is worth seeing.
# (An RCU stall report has a call trace and none of the other words: its first line is
# the one to show.  Under set -e and pipefail a grep that finds nothing here ended lab.sh
# with status 1, in place of the command's.)
if [[ -s $run/dmesg ]] && grep -q -E 'WARNING:|BUG:|Oops|Call Trace' "$run/dmesg"; then
	log "the guest kernel logged warnings/oopses (first lines):"
	{ grep -E -A 12 'WARNING:|BUG:|Oops|rcu: INFO' "$run/dmesg" || true; } | head -n 40 | sed 's/^/  | /' >&2
fi

stall_traces >&2
if [[ -n $ready_us ]]; then
	log "command exited $rc after $(fmt_s $((end - start))) s (boot $(fmt_s $((ready_us - start))) s)"
else
	log "command exited $rc after $(fmt_s $((end - start))) s"
fi
exit "$rc"
