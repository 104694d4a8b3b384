#!/usr/bin/env bash
# first_vm_smp: with -c 4, four vCPU threads run the program at once; each takes the
# guest's spinlock and prints its own line, then halts; hvrun waits for all four.
. "$(dirname "$0")/lib/common.sh"

rc=0; kvm_run "$HVRUN" --demo -c 4 -m 256 --exit-stats || rc=$?
expect_status 0 "$rc" "hvrun --demo -c 4"
expect_lines out 4
for i in 0 1 2 3; do
	expect_in out "Hello from vCPU $i: this is your first VM"
done
hlt=$(awk '$1 == "HLT" { print $2 }' "$T/err")
[ "$hlt" = 4 ] || fail "expected 4 HLT exits, got '${hlt:-none}'"
pass "four vCPUs greeted, whole lines, 4 HLT exits ($(kvm_mode))"
