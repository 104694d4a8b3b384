# lib/firmware.sh: sourced by the firmware-boot tests (firmware_iso, firmware_guide),
# after lib/common.sh.  The guest starts from the VMM's firmware (SeaBIOS,
# no -k): a CD-ROM (virtio-scsi) or a disk's MBR (virtio-blk); BIOS, boot loaders and
# the guest's ttyS0 all talk on COM1, the VMM's stdin/stdout.  A test writes a script
# that runs its VMMs where KVM is (debian_run: the lab, with a scratch disk), each
# driven by tests/guests/fw_console.py (expect/send steps) or, to log in, by
# tests/guests/console_session.py.
#
# Environment: HVRUN_TEST_VMM hvrun (default) | qemu, as in lib/debian.sh.  qemu is
# Debian's qemu-system-x86_64 -enable-kvm -M pc with SeaBIOS's bios-256k.bin and its
# serial console ("sercon", fw_cfg etc/sercon-port = 0x3f8: QEMU sets none by itself),
# the CD on virtio-scsi (scsi-cd), the disk on virtio-blk-pci, -boot once=d with a CD.
#
# Provides: fw_vmm_cmd, fw_steps/fw_expect_cmd (fw_console.py sessions), fw_log_has,
# fw_status, iso_image, bootdisk_image, plus lib/debian.sh's SCRATCH, debian_run,
# session_cmd, gcmd, item_out...
. "$(dirname "${BASH_SOURCE[0]}")/debian.sh"

FW_CONSOLE=$HVRUN_SRC/tests/guests/fw_console.py
SEABIOS=/usr/share/seabios/bios-256k.bin
# SeaBIOS's serial console on COM1 for QEMU: the port, a little-endian 16-bit integer.
printf '\xf8\x03' >"$T/sercon-port"

# iso_image KIND: sets ISO to the cached ISO of tests/guests/mkiso.sh --kind KIND.
iso_image() {
	ISO=$("$HVRUN_SRC/tests/guests/mkiso.sh" --kind "$1" 2>"$T/mkiso.log") ||
		{ cp "$T/mkiso.log" "$T/err"; fail "tests/guests/mkiso.sh --kind $1 failed"; }
}

# bootdisk_image: sets BOOT_DISK to the cached installed disk (tests/guests/mkbootdisk.sh).
bootdisk_image() {
	local out
	out=$("$HVRUN_SRC/tests/guests/mkbootdisk.sh" 2>"$T/mkbootdisk.log") ||
		{ cp "$T/mkbootdisk.log" "$T/err"; fail "tests/guests/mkbootdisk.sh failed"; }
	BOOT_DISK=$(sed -n 's/^disk=//p' <<<"$out")
	[ -s "$BOOT_DISK" ] || fail "mkbootdisk.sh printed no disk: $out"
}

# fw_vmm_cmd DISK ISO BOOT: the VMM's command line, shell-quoted, booting from its
# firmware.  DISK, ISO: files or "" (none); BOOT: "" (the default: the CD first when
# there is one, as QEMU's -boot once=d) or an hvrun --boot value (order=c, order=d).
# Memory is the guide's 512 MB.
# hvrun's line is exactly "$HVRUN -m 512 [-d DISK] [--cdrom ISO] [--boot BOOT]".
fw_vmm_cmd() {
	local disk=$1 iso=$2 boot=$3 mem=512
	local -a c
	if [ "$VMM_KIND" = hvrun ]; then
		c=("$HVRUN" -m "$mem")
		[ -z "$disk" ] || c+=(-d "$disk")
		[ -z "$iso" ] || c+=(--cdrom "$iso")
		[ -z "$boot" ] || c+=(--boot "$boot")
	else
		c=(qemu-system-x86_64 -enable-kvm -M pc -m "$mem" -bios "$SEABIOS"
			-nodefaults -no-user-config -display none -monitor none -serial stdio
			-fw_cfg "name=etc/sercon-port,file=$T/sercon-port")
		[ -z "$iso" ] || c+=(-device virtio-scsi-pci
			-drive "if=none,id=cd,media=cdrom,file=$iso,readonly=on" -device scsi-cd,drive=cd)
		[ -z "$disk" ] || c+=(-drive "if=none,id=d0,format=raw,file=$disk" -device virtio-blk-pci,drive=d0)
		case $boot in
		'') [ -z "$iso" ] || c+=(-boot once=d) ;;
		order=*) c+=(-boot "$boot") ;;
		*) fail "fw_vmm_cmd: unknown boot '$boot'" ;;
		esac
	fi
	printf '%q ' "${c[@]}"
}

# fw_steps NAME: starts the step file $T/NAME.steps (fw_console.py's syntax); append
# steps with fw_step LINE...
fw_steps() {
	FW_STEPS=$T/$1.steps
	: >"$FW_STEPS"
}
fw_step() {
	printf '%s\n' "$@" >>"$FW_STEPS"
}

# fw_installer_steps NAME: the steps of booting the installer ISO (mkiso.sh --kind di)
# to its first screen: SeaBIOS, the CD, isolinux's "boot:", Enter, then "Select a
# language" -- or, below ~780 MB (the guide's 512 MB), "Low memory mode", which the
# Debian 12 installer shows instead; then SIGTERM.
fw_installer_steps() {
	fw_steps "$1"
	fw_step 'expect seabios 60 SeaBIOS \(version' \
		'expect boot-cd 60 Booting from DVD/CD' \
		'expect isolinux 120 hvrun test installer.*boot:' \
		'sleep 1' 'send \r' \
		'expect installer 600 (Select a language|Choose language|Low memory mode|Entering low memory mode)' \
		'sleep 2' 'term 15'
}

# fw_expect_cmd NAME TIMEOUT VMMCMD: the line a lab script runs for one fw_console.py
# session with the steps of $T/NAME.steps: stdout $T/NAME.out, stderr $T/NAME.err, the
# raw console $T/NAME.console, the exit status in $T/NAME.rc.
fw_expect_cmd() {
	printf 'python3 %q --timeout %q --log %q --steps %q -- %s >%q 2>%q; echo $? >%q\n' \
		"$FW_CONSOLE" "$2" "$T/$1.console" "$T/$1.steps" "$3" "$T/$1.out" "$T/$1.err" "$T/$1.rc"
}

# fw_fail NAME MSG: fail, showing session NAME's step log and its console's last lines
# (escape sequences removed).
fw_fail() {
	{
		[ -s "$T/$1.out" ] && { echo "--- $1: steps"; cat "$T/$1.out"; }
		[ -s "$T/$1.err" ] && { echo "--- $1: stderr"; tail -n 60 "$T/$1.err"; }
		if [ -s "$T/$1.console" ]; then
			echo "--- $1: console (last 40 lines, cleaned; all of it in $1.console)"
			fw_clean "$T/$1.console" | tail -n 40
		fi
	} >"$T/err"
	: >"$T/out"
	fail "$1: $2"
}

# fw_clean FILE: the console text without escape sequences and carriage returns.
fw_clean() {
	python3 -c 'import re, sys
esc = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()*+][0-9A-Za-z]|\x1b[=>78cDEHMZ]|[\x0e\x0f\r]")
sys.stdout.write(esc.sub(b"", open(sys.argv[1], "rb").read()).decode("utf-8", "replace"))' "$1"
}

# fw_status NAME WANT WHAT: session NAME ran all its steps and the VMM's exit status
# was WANT (a list "0" or "0|1"): else fail with what went wrong.
fw_status() {
	local rc vmm
	[ -s "$T/$1.rc" ] || fw_fail "$1" "the session did not run ($3)"
	rc=$(cat "$T/$1.rc")
	grep -q '^HVEXPECT failed' "$T/$1.out" && fw_fail "$1" "$3: $(sed -n 's/^HVEXPECT failed after //p' "$T/$1.out")"
	vmm=$(sed -n 's/^HVEXPECT vmm-exit rc=\([0-9]*\).*/\1/p' "$T/$1.out")
	[[ "|$2|" == *"|$rc|"* ]] || fw_fail "$1" "$3: the VMM's exit status is ${vmm:-?} (session status $rc), expected $2"
	echo "$1: $(grep -E '^HVSTEP [0-9]+ [a-z-]+ ok' "$T/$1.out" | sed -E 's/^HVSTEP [0-9]+ ([^ ]+) ok after (.*)/\1 \2/' | tr '\n' ',' | sed 's/,$//; s/,/, /g')"
}

# fw_hvtest NAME KEY: the value of "HVTEST KEY=..." in session NAME's console.
fw_hvtest() {
	fw_clean "$T/$1.console" | sed -n "s/^HVTEST $2=//p" | head -n 1
}
