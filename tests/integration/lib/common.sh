# lib/common.sh: shared by the integration tests (sourced).  Runs commands where a real KVM is,
# checks what they printed, and reports lab hangs as hangs (ctest "skipped"), not failures.
#
# Environment (set by tests/CMakeLists.txt, or by hand):
#   HVRUN      the hvrun binary under test
#   HVRUN_SRC  the source tree (for tests/lab/lab.sh)
#   HVRUN_KVM  auto (default) | direct | lab: where commands that need KVM run
set -u

: "${HVRUN:?HVRUN must name the hvrun binary}"
: "${HVRUN_SRC:?HVRUN_SRC must name the source tree}"

TEST_NAME=$(basename "$0" .sh)
SKIP_HANG=77		# tests/CMakeLists.txt: SKIP_RETURN_CODE
# Each test's scratch directory lives next to the binary: shared with the lab.
# HVRUN_TEST_KEEP=1 keeps it (its path is printed at the end), to read after a failure.
T=$(mktemp -d "$(dirname "$HVRUN")/test-$TEST_NAME.XXXXXX")
if [ "${HVRUN_TEST_KEEP:-0}" = 1 ]; then
	trap 'echo "kept: $T" >&2' EXIT
else
	trap 'rm -rf "$T"' EXIT
fi

fail() {
	echo "FAIL ($TEST_NAME): $*" >&2
	for f in "$T"/out "$T"/err; do
		[ -s "$f" ] && { echo "--- $(basename "$f"):" >&2; tail -n 40 "$f" >&2; }
	done
	exit 1
}

pass() {
	echo "PASS ($TEST_NAME): $*"
	exit 0
}

# Where do KVM commands run: "direct" or "lab" (tools/kvm-mode.sh decides).
kvm_mode() {
	[ -n "${KVM_MODE:-}" ] || KVM_MODE=$("$HVRUN_SRC/tools/kvm-mode.sh" "$HVRUN") || exit 1
	echo "$KVM_MODE"
}

# The lab's emulated CPU (QEMU TCG's nested SVM) now and then delivers a guest page
# fault wrongly and the guest's CPU shuts down (a triple fault).  Seen with Debian's
# own QEMU -enable-kvm in the same lab as often as with hvrun (1 boot in ~10 with 4
# vCPUs: the kvm_exit trace shows "reason shutdown ... intr_info 0x80000b0e", a #PF
# being delivered); see docs/testing.md.  Tests that boot Linux set
# LAB_FAULT_RETRY=1: such a run is retried once, saying so, and its files are kept
# in $T/lab-fault.  Twice in a row is a failure.  Tests whose guests triple-fault
# on purpose (raw_programs) leave it unset.
LAB_FAULT_MSG='the guest shut down the CPU (triple fault)'
lab_fault_seen() {	# lab_fault_seen: true if a guest triple-faulted in this lab run
	[ "${LAB_FAULT_RETRY:-0}" = 1 ] || return 1
	grep -rlsF --exclude-dir=lab-fault -- "$LAB_FAULT_MSG" "$T" >"$T/.lab-fault-files" || return 1
	echo "LAB FAULT ($TEST_NAME): a guest's CPU shut down (triple fault) in the lab's emulated CPU:" >&2
	while read -r f; do
		grep -F -A1 -- "$LAB_FAULT_MSG" "$f" | sed "s|^|  ${f#"$T"/}: |" >&2
		mkdir -p "$T/lab-fault"; mv "$f" "$T/lab-fault/"
	done <"$T/.lab-fault-files"
	return 0
}

# lab_fault_next TRY FIRST: after a run that ended normally; returns 0 when a guest
# triple-faulted (lab_fault_seen) on try 1, so the caller retries.  On try 2 such a
# fault after a different emulator fault on try 1 (FIRST: hang or error) skips the test,
# as two hangs do: the lab failed twice, differently.  After two triple faults in a row
# (FIRST: fault) there is a third and last try; three in a row return 1, and the test
# fails on its result: that could be hvrun's (the emulator's fault comes about once in
# ten Linux boots, so three in a row by chance are about one in a thousand).
lab_fault_next() {
	lab_fault_seen || return 1
	if [ "$1" = 1 ]; then
		echo "retrying once (an emulator fault, not a test result)" >&2
		return 0
	fi
	if [ "$2" != fault ]; then
		echo "SKIPPED ($TEST_NAME): the lab failed under the command twice (try 1: lab $2; try 2: guest triple fault)" >&2
		exit "$SKIP_HANG"
	fi
	if [ "$1" = 2 ]; then
		echo "a guest triple-faulted on both tries: one last try (three in a row fail the test)" >&2
		return 0
	fi
	echo "a guest triple-faulted on all three tries: a failure, not an emulator fault" >&2
	return 1
}

# lab_hang_report: after a lab hang (124), says why: the lab's LAB HANG line and its
# witness of the processes when there is one, then the console's end ($T/lab.log).
lab_hang_report() {
	# (without lab.sh's stall traces: lab_stalls has shown them)
	sed -n '/^LAB HANG:/,/^lab: last [0-9]* console lines:/{/^lab: stall trace: /!p}' "$T/lab.log" | head -n 100 >&2
	tail -n 20 "$T/lab.log" >&2
}

# lab_stalls TRY: the stalls the lab recovered from during try TRY (lab.sh's "LAB STALL:"
# lines, with what QEMU's threads did meanwhile, and each report's call trace): the
# command went on, but a slow run should say why.
lab_stalls() {
	sed -n -e "s/^LAB STALL: /LAB STALL ($TEST_NAME, try $1): /p" -e 's/^lab: stall trace: /  trace: /p' "$T/lab.log" >&2
}

# lab_stall_next TRY RC: returns 0 when the command failed (RC) on try 1 of a lab that
# stalled under it (lab.sh's "LAB STALL:"), so the caller retries.  A stall freezes the
# lab's clocks for 20-30 s, and a test's own waits (a login prompt, a balloon) can run
# out in it.  Once only: a second failure
# is the test's, stall or not.  The files the failed try wrote in $T (newer than
# $T/.try-start, which the caller touches before each try) move to $T/stall-try1/, so
# the second try's checks never read the first's leftovers.
lab_stall_next() {
	[ "$1" = 1 ] && [ "$2" != 0 ] && grep -q '^LAB STALL:' "$T/lab.log" || return 1
	echo "LAB STALL ($TEST_NAME): the command failed (exit status $2) after the lab stalled under it:" >&2
	tail -n 5 "$T/err" 2>/dev/null | sed 's/^/  err: /' >&2
	echo "retrying once (the stall may have run out the test's own time limits)" >&2
	mkdir -p "$T/stall-try1"
	find "$T" -maxdepth 1 -type f -newer "$T/.try-start" -exec mv -t "$T/stall-try1/" {} +
	return 0
}

# lab_error TRY: the lab ended with its harness error (125).  Says why (the lab's
# "error:" line and what QEMU said come before the console tail) and returns 0 when the
# run is worth one more try: the lab guest was ready and the command running when QEMU
# stopped without the command's exit status (the emulator died or the lab kernel
# panicked under it: not a test result, as a hang is not).  On the second try such a
# stop skips the test, as a second hang does.  Otherwise (set-up failed) it fails.
lab_error() {
	echo "LAB ERROR ($TEST_NAME, try $1): the lab could not run the command:" >&2
	if grep -q '^lab: error:' "$T/lab.log"; then
		# The reason and what QEMU said (20 lines at most), then the console's last 25.
		awk '/^lab: error:/ { on = 1 } /^lab: last [0-9]+ console lines:/ { print; tail = 1; next }
			tail { t[n++ % 25] = $0; next } on && shown++ < 20
			END { for (i = (n > 25 ? n - 25 : 0); i < n; i++) print t[i % 25] }' "$T/lab.log" >&2
	else
		tail -n 30 "$T/lab.log" >&2
	fi
	if grep -qE '^lab: error: .* while the command ran' "$T/lab.log"; then
		if [ "$1" = 1 ]; then
			echo "retrying once (the emulator stopped under a running command, not a test result)" >&2
			return 0
		fi
		# Two emulator faults in a row (this, or a hang on try 1): reported as
		# a hang is, not as hvrun's failure.
		echo "SKIPPED ($TEST_NAME): the lab failed under the command twice" >&2
		exit $SKIP_HANG
	fi
	exit 1
}

# lab_run CMD...: runs CMD in the lab with stdout in $T/out, stderr in $T/err;
# returns CMD's status.  A lab hang is retried once, saying so; a second hang
# ends the test as skipped (exit 77) with the lab's own report.  An emulator that
# stopped under the command (lab_error) and a guest triple fault (lab_fault_seen)
# are retried once too; two different lab faults skip (lab_fault_next).  So is a command
# that failed after the lab stalled under it (lab_stall_next).
lab_run() {
	local try rc q first=
	q=$(printf '%q ' "$@")
	for try in 1 2 3; do	# a third only after two guest triple faults (lab_fault_next)
		rc=0
		touch "$T/.try-start"
		# shellcheck disable=SC2086 # LAB_OPTS: extra lab.sh options, word-split
		"$HVRUN_SRC/tests/lab/lab.sh" --timeout "${LAB_TIMEOUT:-300}" --share "$T" ${LAB_OPTS:-} -- \
			bash -c "$q >'$T/out' 2>'$T/err'" >"$T/lab.log" 2>&1 || rc=$?
		lab_stalls $try
		case $rc in
		124)
			echo "LAB HANG ($TEST_NAME, try $try): the emulator stalled, not a test result:" >&2
			lab_hang_report
			[ $try -ge 2 ] && { echo "SKIPPED ($TEST_NAME): the lab failed under the command twice (try 1: lab ${first:-hang}; try 2: lab hang)" >&2; exit $SKIP_HANG; }
			echo "retrying once" >&2
			first=hang
			;;
		125)
			lab_error $try
			first=error
			;;
		*)
			lab_fault_next $try "$first" && { first=fault; continue; }
			lab_stall_next $try $rc && { first=stall; continue; }
			return $rc
			;;
		esac
	done
}

# kvm_run CMD...: runs CMD with a real KVM, stdout in $T/out, stderr in $T/err.
kvm_run() {
	local rc=0
	if [ "$(kvm_mode)" = direct ]; then
		timeout "${KVM_TIMEOUT:-120}" "$@" >"$T/out" 2>"$T/err" || rc=$?
		[ $rc = 124 ] && fail "timed out after ${KVM_TIMEOUT:-120} s: $*"
		return $rc
	fi
	lab_run "$@"
}

# Several short commands in one lab (a lab boot costs 5-8 s, more than such a command):
# batch_add NAME CMD... queues CMD; batch_run runs the queue where KVM is (kvm_run), each
# command with its stdout, stderr and status in $T/NAME.out, .err, .rc; batch_take NAME
# makes NAME's output $T/out and $T/err (for expect_in...) and returns its status.
batch_add() {
	local name=$1
	shift
	printf '%s >%q 2>%q; echo $? >%q\n' "$(printf '%q ' "$@")" "$T/$name.out" "$T/$name.err" "$T/$name.rc" >>"$T/batch.sh"
}
batch_run() {
	local rc=0
	kvm_run bash "$T/batch.sh" || rc=$?
	expect_status 0 "$rc" "the lab script of $(grep -c . "$T/batch.sh") commands"
}
batch_take() {
	[ -s "$T/$1.rc" ] || fail "$1: the command never ended"
	cp "$T/$1.out" "$T/out" && cp "$T/$1.err" "$T/err" || fail "$1: no output files"
	return "$(cat "$T/$1.rc")"
}

# host_run CMD...: runs CMD on this host (no KVM needed), outputs as kvm_run.
host_run() {
	local rc=0
	timeout 60 "$@" >"$T/out" 2>"$T/err" || rc=$?
	return $rc
}

expect_status() {	# expect_status WANT GOT WHAT
	[ "$2" = "$1" ] || fail "$3: exit status $2, expected $1"
}

expect_in() {		# expect_in FILE TEXT: a fixed string must appear
	grep -qF -- "$2" "$T/$1" || fail "'$2' not in $1"
}

expect_not_in() {
	! grep -qF -- "$2" "$T/$1" || fail "'$2' unexpectedly in $1"
}

expect_lines() {	# expect_lines FILE N: exactly N lines
	local n
	n=$(wc -l <"$T/$1")
	[ "$n" = "$2" ] || fail "$1 has $n lines, expected $2"
}

# need_hvctl: sets HVCTL (the caller's, else the one built next to $HVRUN).  The hvctl
# tests are hvrun's alone: with HVRUN_TEST_VMM=qemu (lib/debian.sh) they are skipped.
need_hvctl() {
	HVCTL=${HVCTL:-$(dirname "$HVRUN")/hvctl}
	[ -x "$HVCTL" ] || fail "no hvctl next to $HVRUN"
	[ "${VMM_KIND:-hvrun}" = hvrun ] || { echo "SKIPPED ($TEST_NAME): hvctl drives hvrun only"; exit "$SKIP_HANG"; }
}

# Tests with several named checks (one guest boot shared by several): run each check
# in a subshell, rc=0; (check_NAME) || rc=$?, so that its fail() ends that check only,
# then check_result NAME RC.  checks_end SUMMARY passes when every check passed, and
# else fails naming the ones that did not.
CHECKS_FAILED=() CHECKS_PASSED=()
check_result() {	# check_result NAME RC
	if [ "$2" = 0 ]; then
		echo "CHECK ($TEST_NAME) $1: passed"
		CHECKS_PASSED+=("$1")
	else
		echo "CHECK ($TEST_NAME) $1: FAILED (the FAIL line above says why)" >&2
		CHECKS_FAILED+=("$1")
	fi
}
checks_end() {		# checks_end SUMMARY
	# Each failed check printed its own output; what is left in out/err is the last
	# check's, and under the summary it would read as the cause.
	[ ${#CHECKS_FAILED[@]} = 0 ] || { rm -f "$T/out" "$T/err"; fail "${#CHECKS_FAILED[@]} of $(( ${#CHECKS_FAILED[@]} + ${#CHECKS_PASSED[@]} )) checks failed: ${CHECKS_FAILED[*]}"; }
	pass "$1: ${CHECKS_PASSED[*]}"
}
