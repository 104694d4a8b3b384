#!/usr/bin/env bash
# first_vm: the built-in first-VM program prints its greeting through the emulated
# 8250 UART on a real KVM, and hvrun exits 0 when the vCPU halts.
. "$(dirname "$0")/lib/common.sh"

# 6 GiB: RAM below the PCI hole and the rest above 4 GiB, two KVM memory slots.
batch_add demo "$HVRUN" --demo --exit-stats
batch_add big "$HVRUN" --demo -m 6G -v
batch_run

rc=0; batch_take demo || rc=$?
expect_status 0 "$rc" "hvrun --demo"
expect_in out "Hello from vCPU 0: this is your first VM, running on KVM."
expect_lines out 1
# Every character is an OUT to 0x3f8 after a poll of the line status
# register: a long way to say hello, and the exit table shows it.
expect_in err "HLT"
io=$(awk '$1 == "IO" { print $2 }' "$T/err")
[ -n "$io" ] && [ "$io" -ge 100 ] || fail "expected at least 100 IO exits, got '${io:-none}'"

rc=0; batch_take big || rc=$?
expect_status 0 "$rc" "hvrun --demo -m 6G"
expect_in err "RAM slot 0: guest 0x000000000-0x0bfffffff (3072 MB)"
expect_in err "RAM slot 1: guest 0x100000000-0x1bfffffff (3072 MB)"
expect_in out "Hello from vCPU 0"
pass "greeting seen, $io port-I/O exits; 6 GiB in two slots around the PCI hole ($(kvm_mode))"
