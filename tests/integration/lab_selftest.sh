#!/usr/bin/env bash
# lab_selftest: the nested-KVM lab itself, whatever HVRUN_KVM says: a command's
# exit status comes back, /dev/kvm works inside (hvrun --check exits 0), and the
# first VM runs on the lab's KVM (AMD SVM with nested paging, emulated by QEMU TCG);
# and a lab kernel that dies under a command (a panic, here on purpose) is reported as
# the lab's error (125) with each lab CPU's registers from QEMU's reset log, at once;
# a stall the lab recovers from is reported and the command goes on, stalls that go on
# are a hang (124), and so is a lab whose heartbeat stops.
. "$(dirname "$0")/lib/common.sh"

# A stall the lab kernel reports once (it prints the report when the CPU runs again) is
# said and the command goes on; reports that keep coming for HVRUN_LAB_LOCKUP_HANG_S
# (90 s; 8 here) end the run as a hang.  The reports are written to the kernel log.
stall() { printf "echo '<0>watchdog: BUG: soft lockup - CPU#1 stuck for %ss! [selftest:1]' >/dev/kmsg" "$1"; }

rc=0; lab_run sh -c "$(stall 23); sleep 1; exit 7" || rc=$?
expect_status 7 "$rc" "a command's own exit status through the lab, after a stall it recovered from"
expect_in lab.log "LAB STALL: "

rc=0
lab_run sh -c '"$0" --check && echo "npt=$(cat /sys/module/kvm_amd/parameters/npt)" &&
	"$0" --demo -c 2' "$HVRUN" || rc=$?
expect_status 0 "$rc" "hvrun --check and --demo -c 2 in the lab"
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
# a hang after HVRUN_LAB_STOPPED_S (90 s; 10 here), not at --timeout.
rc=0
HVRUN_LAB_STOPPED_S=10 "$HVRUN_SRC/tests/lab/lab.sh" --timeout 120 -- \
	sh -c 'kill -STOP $(cat /run/hvrun-lab/heartbeat.pid); sleep 100; exit 5' >"$T/stopped.log" 2>&1 || rc=$?
[ "$rc" = 124 ] || { cat "$T/stopped.log" >&2; fail "a lab whose heartbeat stopped: lab.sh exit $rc, expected 124"; }
expect_in stopped.log "LAB HANG: the lab machine stopped: no heartbeat from it for"

boot=$(grep -o 'boot [0-9.]* s' "$T/lab.log" | head -1)
pass "lab status passthrough, KVM inside, first VM on 2 vCPUs, a lab panic reported, stalls told from hangs, a stopped lab seen (${boot:-boot time not reported})"
