#!/usr/bin/env bash
# lab_selftest: the nested-KVM lab itself, whatever HVRUN_KVM says: a command's
# exit status comes back, /dev/kvm works inside (hvrun --check exits 0), and the
# first VM runs on the lab's KVM (AMD SVM with nested paging, emulated by QEMU TCG).
. "$(dirname "$0")/lib.sh"

rc=0; lab_run sh -c 'exit 7' || rc=$?
expect_status 7 "$rc" "a command's own exit status through the lab"

rc=0
lab_run sh -c '"$0" --check && echo "npt=$(cat /sys/module/kvm_amd/parameters/npt)" &&
	"$0" --demo -c 2' "$HVRUN" || rc=$?
expect_status 0 "$rc" "hvrun --check and --demo -c 2 in the lab"
expect_in out "kernel module kvm_amd is loaded (AMD-V)"
expect_in out "Result: this host can run hvrun guests"
grep -qE '^npt=(1|Y)$' "$T/out" || fail "nested paging is not on in the lab"
expect_in out "Hello from vCPU 0: this is your first VM, running on KVM."
expect_in out "Hello from vCPU 1: this is your first VM, running on KVM."
boot=$(grep -o 'boot [0-9.]* s' "$T/lab.log" | head -1)
pass "lab status passthrough, KVM inside, first VM on 2 vCPUs (${boot:-boot time not reported})"
