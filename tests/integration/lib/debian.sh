# lib/debian.sh: sourced by the tests that boot the Debian 12 guest image (after lib/common.sh).
# The image (systemd, login on hvc0) comes from tests/guests/mkdebian.sh, built once on
# this host and cached; a test copies it (cp --sparse=always) to the scratch disk where
# the guest runs, logs in through tests/guests/console_session.py, runs commands and
# checks what they printed.
#
# Environment:
#   HVRUN_TEST_VMM  hvrun (default) | qemu: the VMM that runs the guest.  qemu is Debian's
#                   qemu-system-x86_64 with KVM (-M q35, virtio-blk-pci, virtconsole on
#                   virtio-serial-pci, virtio-rng-pci), given the same disks: a reference,
#                   and the way these tests were developed before hvrun had virtio.
#   HVRUN_DEBIAN_SIZE  apparent size of the root image (default 2G)
#
# Provides: SCRATCH, debian_image, vmm_cmd, gcmd/hcmd/new_session (a session's command list), debian_run
# (a script where KVM and a scratch disk are), item_out/item_rc (a session's results),
# session_fail.

# Linux guests: a triple fault in the lab is retried once as an emulator fault (lib/common.sh).
LAB_FAULT_RETRY=1

SESSION_PY=$HVRUN_SRC/tests/guests/console_session.py
VMM_KIND=${HVRUN_TEST_VMM:-hvrun}
case $VMM_KIND in
hvrun | qemu) ;;
*) fail "HVRUN_TEST_VMM must be hvrun or qemu, not '$VMM_KIND'" ;;
esac

# SCRATCH: where the guest's disk images go (O_DIRECT works there): the lab's scratch
# disk, or $T/scratch when this host's own KVM runs the guests (see debian_run).
if [ "$(kvm_mode)" = direct ]; then SCRATCH=$T/scratch; else SCRATCH=/scratch; fi

# debian_image: build or find the cached image; sets DEB_DISK, DEB_KERNEL, DEB_INITRD.
# The first build takes a few minutes (mmdebstrap); later calls print the cached paths.
debian_image() {
	local out rc=0 start=$SECONDS
	out=$("$HVRUN_SRC/tests/guests/mkdebian.sh" --size "${HVRUN_DEBIAN_SIZE:-2G}" 2>"$T/mkdebian.log") || rc=$?
	[ $rc = 0 ] || { cp "$T/mkdebian.log" "$T/err"; fail "tests/guests/mkdebian.sh failed (status $rc)"; }
	DEB_DISK=$(sed -n 's/^disk=//p' <<<"$out")
	DEB_KERNEL=$(sed -n 's/^kernel=//p' <<<"$out")
	DEB_INITRD=$(sed -n 's/^initrd=//p' <<<"$out")
	[ -s "$DEB_DISK" ] && [ -s "$DEB_KERNEL" ] && [ -s "$DEB_INITRD" ] ||
		fail "mkdebian.sh printed no usable image paths: $out"
	[ $((SECONDS - start)) -gt 5 ] && echo "built the Debian image in $((SECONDS - start)) s"
	return 0
}

# vmm_cmd MEM CPUS APPEND DISK...: prints the VMM's command line, shell-quoted, for
# hvrun's syntax: each DISK is FILE[,ro][,cache=none|writeback][,serial=ID].  For QEMU
# the same disks become virtio-blk-pci devices that behave as hvrun's are meant to:
# serial defaulting to the file's name, discard passed through (hole punching), write
# and read errors reported to the guest (not QEMU's default of pausing on ENOSPC).
# The guest console (hvc0 with console=hvc0) is the VMM's stdin/stdout.
#
# NICs: the array VMM_NICS, each an hvrun --net value ("tap=tap2", "user,hostfwd=tcp:5555-:22");
# for QEMU the same becomes -netdev tap (vhost off) / -netdev user + virtio-net-pci with
# the MAC hvrun would give (ba:ad:00:ca:fe:NN for tapNN).
VMM_NICS=()
vmm_cmd() {
	local mem=$1 cpus=$2 append=$3 d i=0 file opt ro cache serial n tap q
	shift 3
	local -a c
	if [ "$VMM_KIND" = hvrun ]; then
		c=("$HVRUN" -m "$mem" -c "$cpus" -k "$DEB_KERNEL" -i "$DEB_INITRD" -a "$append")
		for d in "$@"; do c+=(-d "$d"); done
		for n in "${VMM_NICS[@]}"; do c+=(--net "$n"); done
	else
		c=(qemu-system-x86_64 -enable-kvm -cpu host -M q35 -m "$mem" -smp "$cpus"
			-nodefaults -no-user-config -display none -monitor none -no-reboot
			-kernel "$DEB_KERNEL" -initrd "$DEB_INITRD" -append "$append"
			-serial null
			-chardev stdio,id=con0,signal=off
			-device virtio-serial-pci -device virtconsole,chardev=con0
			-device virtio-rng-pci)
		for d in "$@"; do
			file=${d%%,*}; ro=; cache=none; serial=${file##*/}
			IFS=, read -ra opt <<<"${d#"$file"}"
			for o in "${opt[@]}"; do
				case $o in
				'') ;;
				ro) ro=,readonly=on ;;
				cache=none | cache=writeback) cache=${o#cache=} ;;
				serial=*) serial=${o#serial=} ;;
				*) fail "vmm_cmd: unknown disk option '$o' in $d" ;;
				esac
			done
			c+=(-drive "file=$file,if=none,id=d$i,format=raw,cache=$cache,aio=io_uring,discard=unmap,werror=report,rerror=report$ro"
				-device "virtio-blk-pci,drive=d$i,serial=$serial")
			i=$((i + 1))
		done
		i=0
		for n in "${VMM_NICS[@]}"; do
			case $n in
			tap=*)
				tap=${n#tap=}; tap=${tap%%,*}; q=1
				[[ $n =~ ,queues=([0-9]+) ]] && q=${BASH_REMATCH[1]}
				c+=(-netdev "tap,id=n$i,ifname=$tap,script=no,downscript=no,vhost=off,queues=$q"
					-device "virtio-net-pci,netdev=n$i,mac=$(printf 'ba:ad:00:ca:fe:%02x' "${tap##*[!0-9]}")$([ "$q" -gt 1 ] && echo ",mq=on,vectors=$((2 * q + 2))")") ;;
			user*)	# QEMU wants the empty host address of tcp::5555-:22 spelled out
				c+=(-netdev "user,id=n$i$(sed -E 's/hostfwd=(tcp|udp):([0-9]+)-/hostfwd=\1::\2-/g' <<<"${n#user}")"
					-device "virtio-net-pci,netdev=n$i") ;;
			*) fail "vmm_cmd: unknown NIC '$n'" ;;
			esac
			i=$((i + 1))
		done
	fi
	printf '%q ' "${c[@]}"
}

# The session's command list: gcmd NAME CMD (a guest shell command) and hcmd NAME CMD
# (a command on the VMM's side, VMM_PID in its environment) append one item and set
# NAME to its number, for item_out / item_rc.  One line each: no newlines in CMD.
# new_session NAME: start another list, in $T/NAME.cmds (the first one is $T/cmds).
new_session() {
	CMDS=$T/$1.cmds
	: >"$CMDS"
	NITEMS=0
}
CMDS=$T/cmds
: >"$CMDS"
NITEMS=0
gcmd() {
	case $2 in *$'\n'*) fail "gcmd $1: the command has a newline" ;; esac
	NITEMS=$((NITEMS + 1)); printf -v "$1" %d "$NITEMS"
	printf '%s\n' "$2" >>"$CMDS"
}
hcmd() {
	case $2 in *$'\n'*) fail "hcmd $1: the command has a newline" ;; esac
	NITEMS=$((NITEMS + 1)); printf -v "$1" %d "$NITEMS"
	printf '@host %s\n' "$2" >>"$CMDS"
}

# item_out N [FILE]: what item N printed (FILE: the session's stdout, default
# $T/$SESSION.out); item_rc N [FILE]: its exit status, empty if it never ended.
item_out() {
	awk -v n="$1" '$0 ~ "^HV(CMD|HOST)-END " n " rc=" { p = 0 } p { print } $0 ~ "^HV(CMD|HOST)-BEGIN " n "$" { p = 1 }' \
		"${2:-$T/${SESSION:-session}.out}"
}
item_rc() {
	sed -n -E "s/^HV(CMD|HOST)-END $1 rc=([0-9]+)\$/\\2/p" "${2:-$T/${SESSION:-session}.out}" | head -n 1
}

# need_ok PART N...: items N... of session $SESSION ran and returned 0.
need_ok() {
	local part=$1 n rc
	shift
	for n in "$@"; do
		rc=$(item_rc "$n")
		[ -n "$rc" ] || session_fail "$part: command $n never finished (see HVSESSION above): $(sed -n "${n}p" "$CMDS")"
		[ "$rc" = 0 ] || session_fail "$part: command $n failed (status $rc): $(sed -n "${n}p" "$CMDS"): $(item_out "$n" | tail -n 5 | tr '\n' ' ')"
	done
}

# session_fail MSG: fail, showing the session's messages and the console's last lines.
# SESSION (default "session") names the files: $T/SESSION.out, .err, and the console
# log $T/SESSION.console (see session_cmd).
session_fail() {
	local s=${SESSION:-session}
	{
		[ -s "$T/$s.err" ] && cat "$T/$s.err"
		if [ -s "$T/$s.console" ]; then
			echo "--- console (last 40 lines; all of it in $s.console):"
			tr -d '\r' <"$T/$s.console" | tail -n 40
		fi
	} >"$T/err"
	[ -s "$T/$s.out" ] && cp "$T/$s.out" "$T/out"
	fail "$*"
}

# session_cmd NAME TIMEOUT VMMCMD: the line a lab script runs for one console session:
# the commands of $CMDS, outputs in $T/NAME.out, .err, .console, status in $T/NAME.rc.
# The login is the getty's on hvc0 (console=hvc0): hvrun's stdout may carry COM1's
# getty (ttyS0) too, whose prompt must not be taken for it.  The session ends with a
# clean "poweroff" (systemd stops every unit: about 10 s in the lab); a test that does
# not check the shutdown sets FINAL_FAST=1: "poweroff -f" kills the processes, unmounts
# the file systems and powers off, in 1-2 s.
session_cmd() {
	printf 'python3 %q --timeout %q --log %q --login-tty hvc0 --final %q --cmds %q -- %s >%q 2>%q; echo $? >%q\n' \
		"$SESSION_PY" "$2" "$T/$1.console" "$([ "${FINAL_FAST:-0}" = 1 ] && echo 'poweroff -f' || echo poweroff)" \
		"$CMDS" "$3" "$T/$1.out" "$T/$1.err" "$T/$1.rc"
}

# session_status NAME WANT: checks the session's exit status (the VMM's, after the
# session): fails with what went wrong unless it is WANT.
session_status() {
	local rc
	SESSION=$1
	[ -s "$T/$1.rc" ] || session_fail "console session $1 did not run"
	rc=$(cat "$T/$1.rc")
	grep '^HVSESSION' "$T/$1.out" | sed "s/^/$1: /"
	[ "$rc" = "$2" ] && return 0
	case $rc in
	3) session_fail "session $1: timed out" ;;
	4) session_fail "session $1: the VMM exited before the session was over" ;;
	5) session_fail "session $1: the login as root failed" ;;
	*) session_fail "session $1: the VMM's exit status is $rc, expected $2" ;;
	esac
}

# debian_run SCRIPT: runs bash SCRIPT where KVM is, with $SCRATCH, a directory that
# supports O_DIRECT: the lab with a 4 GiB scratch disk at /scratch (or this host's own
# KVM, with $T/scratch).  stdout/stderr in $T/out and $T/err; returns
# SCRIPT's status.  Lab hangs are retried once, a second one skips the test (77); so are
# a guest's triple fault and a failure after a lab stall (lib/common.sh).
# LAB_TIMEOUT (default 1200 s) limits the whole script.  SCRATCH_FILES: "SRC:NAME" items,
# each file SRC found as $SCRATCH/NAME when SCRIPT starts (a copy: the guest may write it;
# in the lab it is put on the scratch disk as that is made, lab.sh --scratch-file).
SCRATCH_FILES=()
debian_run() {
	local try rc f first=
	local -a files=()
	if [ "$(kvm_mode)" = direct ]; then
		mkdir -p "$SCRATCH"
		for f in "${SCRATCH_FILES[@]}"; do
			cp --sparse=always "${f%:*}" "$SCRATCH/${f##*:}" && chmod 0644 "$SCRATCH/${f##*:}" ||
				fail "cannot copy ${f%:*} to $SCRATCH"
		done
		rc=0
		timeout "${LAB_TIMEOUT:-1200}" bash "$1" >"$T/out" 2>"$T/err" || rc=$?
		[ $rc = 124 ] && fail "timed out after ${LAB_TIMEOUT:-1200} s: $1"
		return $rc
	fi
	for f in "${SCRATCH_FILES[@]}"; do files+=(--scratch-file "$f"); done
	for try in 1 2 3; do	# a third only after two guest triple faults (lab_fault_next)
		rc=0
		touch "$T/.try-start"
		"$HVRUN_SRC/tests/lab/lab.sh" --timeout "${LAB_TIMEOUT:-1200}" --mem 3072 --cpus 2 \
			--scratch 4G "${files[@]}" --share "$T" -- \
			bash -c "bash '$1' >'$T/out' 2>'$T/err'" >"$T/lab.log" 2>&1 || rc=$?
		lab_stalls $try
		case $rc in
		124)
			echo "LAB HANG ($TEST_NAME, try $try): the emulator stalled, not a test result:" >&2
			lab_hang_report
			[ $try -ge 2 ] && { echo "SKIPPED ($TEST_NAME): the lab hung twice" >&2; exit "$SKIP_HANG"; }
			echo "retrying once" >&2
			first=hang
			;;
		125)
			lab_error $try
			first=error
			;;
		*)
			# (a stall trace's "BUG: soft lockup" is lab_stalls' to show)
			grep -E '^lab: (command exited|.*WARNING|.*BUG|.*Oops)' "$T/lab.log" | grep -v '^lab: stall trace: ' || true
			lab_fault_next $try "$first" && { first=fault; continue; }
			lab_stall_next $try $rc && { first=stall; continue; }
			return $rc
			;;
		esac
	done
}
