#!/usr/bin/env bash
# lab-overhead.sh [RUNS]: what one lab run costs, and what the first VM costs inside it.
# Prints a table: wall time of tests/lab/lab.sh for an empty command and for the first
# VM (1 and 4 vCPUs), and the VM exits of one first-VM run counted two ways: by hvrun
# (--exit-stats: exits that reach userspace) and by the lab kernel's kvm:kvm_exit
# tracepoint (every exit, including those KVM handles itself).  Exit counts do not
# depend on the emulator's speed; times inside the lab do.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
hvrun=$PWD/build/hvrun
[ -x "$hvrun" ] || { echo "build hvrun first (cmake -S . -B build && cmake --build build)" >&2; exit 1; }
tests/lab/lab.sh --prepare >/dev/null

wall() {	# wall CMD...: seconds, one decimal
	local s e
	s=$EPOCHREALTIME
	"$@" >/dev/null 2>&1
	e=$EPOCHREALTIME
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", e - s }'
}

printf '%-34s' "lab run"; for i in $(seq "$runs"); do printf '  run%-3s' "$i"; done; echo
for what in "true" "$hvrun --demo" "$hvrun --demo -c 4"; do
	printf '%-34s' "${what/#$PWD\//}"
	for _ in $(seq "$runs"); do
		# shellcheck disable=SC2086
		printf '  %5ss' "$(wall tests/lab/lab.sh --timeout 300 -- $what)"
	done
	echo
done

echo
echo "VM exits of one 'hvrun --demo' (1 vCPU), inside the lab:"
tests/lab/lab.sh --timeout 300 -- sh -c '
	t=/sys/kernel/tracing/events/kvm/kvm_exit
	echo "hist:keys=exit_reason:vals=hitcount:sort=hitcount.descending" > $t/trigger
	"$0" --demo --exit-stats 2>&1 >/dev/null | sed "s/^/  /"
	echo "  kvm:kvm_exit tracepoint (all exits, by SVM exit code: 123 = 0x7b IOIO,"
	echo "  120 = 0x78 HLT, 96 = 0x60 INTR, 1024 = 0x400 NPF, nested page fault):"
	grep -E "^\{|Totals|Hits" $t/hist | sed "s/^/    /"' "$hvrun" 2>/dev/null
