#!/usr/bin/env bash
# raw_programs: hand-made guest programs through --raw: one that only halts (exit 0,
# silent), and one that triple-faults (KVM_EXIT_SHUTDOWN: exit 1 with a clear report).
. "$(dirname "$0")/lib/common.sh"

printf '\xe6\x80\xf4' >"$T/halt.bin"		# out %al,$0x80 (POST port, unclaimed); hlt
# lidt of a zero-limit IDT at 0x1010, then int3: #GP, #DF, triple fault.
{ printf '\x0f\x01\x1e\x10\x10\xcc'; head -c 10 /dev/zero; head -c 6 /dev/zero; } >"$T/crash.bin"
printf '\xf4' >"$T/hlt.bin"
batch_add halt "$HVRUN" --raw "$T/halt.bin" --exit-stats
batch_add crash "$HVRUN" --raw "$T/crash.bin"
batch_add smp "$HVRUN" --raw "$T/hlt.bin" -c 3
batch_run

rc=0; batch_take halt || rc=$?
expect_status 0 "$rc" "a program that halts"
[ -s "$T/out" ] && fail "a program that prints nothing printed something"
expect_in err "port accesses no device claimed: 1"

rc=0; batch_take crash || rc=$?
expect_status 1 "$rc" "a program that triple-faults"
expect_in err "vCPU 0: the guest shut down the CPU (triple fault)"

rc=0; batch_take smp || rc=$?
expect_status 0 "$rc" "three vCPUs that halt at once"
pass "halting program exits 0, triple fault exits 1 with a report ($(kvm_mode))"
