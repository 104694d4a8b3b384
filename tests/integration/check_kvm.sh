#!/usr/bin/env bash
# check_kvm: on a host with a working KVM (direct, or the lab), hvrun --check
# lists the API version and each capability hvrun needs, and exits 0.
. "$(dirname "$0")/lib/common.sh"

rc=0; kvm_run "$HVRUN" --check || rc=$?
expect_status 0 "$rc" "hvrun --check"
expect_in out "/dev/kvm opens read-write for this user; KVM API version 12"
for cap in USER_MEMORY IRQCHIP PIT2 IRQFD IOEVENTFD IRQ_ROUTING SIGNAL_MSI; do
	expect_in out "[ ok ] KVM_CAP_$cap:"
done
expect_in out "io_uring works"
expect_in out "Result: this host can run hvrun guests"
expect_not_in out "[FAIL]"
pass "all capabilities reported ($(kvm_mode))"
