#!/usr/bin/env bash
# lab_selftest: the nested-KVM lab itself, whatever HVRUN_KVM says: a command's
# exit status comes back, /dev/kvm works inside (hvrun --check exits 0), and the
# first VM runs on the lab's KVM (AMD SVM with nested paging, emulated by QEMU TCG);
# and a lab kernel that dies under a command (a panic, here on purpose) is reported as
# the lab's error (125) with each lab CPU's registers from QEMU's reset log, at once;
# a stall the lab recovers from is reported and the command goes on (and a command that
# fails after one is tried once more), stalls that go on are a hang (124), and so is a
# lab whose heartbeat stops.
. "$(dirname "$0")/lib/common.sh"

# A stall the lab kernel reports once (it prints the report when the CPU runs again) is
# said and the command goes on; reports that keep coming for HVRUN_LAB_LOCKUP_HANG_S
# (90 s; 8 here) end the run as a hang.  The reports are written to the kernel log.
stall() { printf "echo '<0>watchdog: BUG: soft lockup - CPU#1 stuck for %ss! [selftest:1]' >/dev/kmsg" "$1"; }
# RCU's report says no "stuck for"; its call trace follows (kernel style: two spaces).
rcu_stall() {
	printf '%s; ' "echo '<0>rcu: INFO: rcu_preempt self-detected stall on CPU' >/dev/kmsg" \
		"echo '<4>Call Trace:' >/dev/kmsg" "echo '<4> selftest_spin+0x1c/0x40' >/dev/kmsg" \
		"echo '<4> selftest_main+0x2a/0x90' >/dev/kmsg"
}

# Try 1 stalls (once: an RCU report, whose call trace has no "BUG:" for lab.sh's end to
# show, which once ended lab.sh with 1) and then fails with 7: lab_run retries a command
# that failed after a stall (lib/common.sh: lab_stall_next), and try 2 runs hvrun for real.
rc=0
mkdir -p "$T/keep"	# not a file of try 1's, which lab_stall_next moves aside
lab_run sh -c 'n=$(($(cat "$1/tries" 2>/dev/null || echo 0) + 1)); echo $n >"$1/tries"
	[ $n = 1 ] && { '"$(rcu_stall)"' }
	"$0" --check && echo "npt=$(cat /sys/module/kvm_amd/parameters/npt)" && "$0" --demo -c 2 || exit
	[ $n = 1 ] && exit 7; exit 0' "$HVRUN" "$T/keep" 2>"$T/keep/retry.log" || rc=$?
cat "$T/keep/retry.log" >&2
expect_status 0 "$rc" "hvrun --check and --demo -c 2 in the lab, on the try after a stall"
[ "$(cat "$T/keep/tries")" = 2 ] || fail "a command that failed after a stall ran $(cat "$T/keep/tries") time(s), expected 2"
[ -s "$T/stall-try1/lab.log" ] || fail "the first try's files were not moved to stall-try1/"
expect_in keep/retry.log "LAB STALL (lab_selftest, try 1): "
expect_in keep/retry.log "rcu: INFO: rcu_preempt self-detected stall on CPU; in the "
expect_in keep/retry.log "self-detected stall on CPU; calls: selftest_spin < selftest_main"
# 7: the command's own exit status came through lab.sh.
expect_in keep/retry.log "the command failed (exit status 7) after the lab stalled under it"
expect_in out "kernel module kvm_amd is loaded (AMD-V)"
expect_in out "Result: this host can run hvrun guests"
grep -qE '^npt=(1|Y)$' "$T/out" || fail "nested paging is not on in the lab"
expect_in out "Hello from vCPU 0: this is your first VM, running on KVM."
expect_in out "Hello from vCPU 1: this is your first VM, running on KVM."
# The lab machine resetting under a command: stopped at the reset, not rebooted.
rc=0
"$HVRUN_SRC/tests/lab/lab.sh" --timeout 60 -- sh -c 'echo c >/proc/sysrq-trigger' >"$T/panic.log" 2>&1 || rc=$?
[ "$rc" = 125 ] || { cat "$T/panic.log" >&2; fail "a lab kernel panic: lab.sh exit $rc, expected 125"; }
expect_in panic.log "the guest kernel panicked"
expect_in panic.log "the lab machine reset itself under the command; each CPU at the reset:"
grep -qE '^  \| RIP=ffffffff8[0-9a-f]{7} ' "$T/panic.log" || fail "no lab CPU's RIP in the report"
[ "$(grep -c 'Linux version' "$T/panic.log")" -le 1 ] || fail "the lab booted again after its reset"
# Stall reports that go on: a hang.
rc=0
HVRUN_LAB_LOCKUP_HANG_S=8 "$HVRUN_SRC/tests/lab/lab.sh" --timeout 60 -- \
	sh -c "$(stall 2); sleep 5; $(stall 2); sleep 5; $(stall 2); sleep 30; exit 5" >"$T/stuck.log" 2>&1 || rc=$?
[ "$rc" = 124 ] || { cat "$T/stuck.log" >&2; fail "stall reports for 10 s (limit 8 s): lab.sh exit $rc, expected 124"; }
expect_in stuck.log "LAB HANG: guest kernel kept reporting lockups/stalls"
# A lab machine that stops (its heartbeat, every 5 s, stops; here the writer is paused):
# a hang after HVRUN_LAB_STOPPED_S (45 s; 10 here), not at --timeout.
rc=0
HVRUN_LAB_STOPPED_S=10 "$HVRUN_SRC/tests/lab/lab.sh" --timeout 120 -- \
	sh -c 'kill -STOP $(cat /run/hvrun-lab/heartbeat.pid); sleep 100; exit 5' >"$T/stopped.log" 2>&1 || rc=$?
[ "$rc" = 124 ] || { cat "$T/stopped.log" >&2; fail "a lab whose heartbeat stopped: lab.sh exit $rc, expected 124"; }
expect_in stopped.log "LAB HANG: the lab machine stopped: no heartbeat from it for"

boot=$(grep -o 'boot [0-9.]* s' "$T/lab.log" | head -1)
pass "lab status passthrough, a failure after a stall retried, KVM inside, first VM on 2 vCPUs, a lab panic reported, stalls told from hangs, a stopped lab seen (${boot:-boot time not reported})"
