#!/usr/bin/env bash
# run_one.sh: runs one libFuzzer target for SECONDS on its seed corpus, prints one summary line.
#
#   run_one.sh FUZZER SECONDS SEEDS WORK
#
# New inputs go to WORK/corpus (the seeds in SEEDS are only read), the fuzzer's output to
# WORK/log, a crashing input to WORK/crash-*, leak-* or timeout-* (reproduce it with
# "FUZZER FILE"), the summary line also to WORK/summary.  hvrun's own messages are
# discarded (-close_fd_mask=3); libFuzzer's and the sanitizers' reports are kept.  Exit status: 0 when the fuzzer ran and found nothing, else 1.
set -uo pipefail
[ $# = 4 ] || { echo "usage: $0 FUZZER SECONDS SEEDS WORK" >&2; exit 2; }
fuzzer=$1 secs=$2 seeds=$3 work=$4
name=$(basename "$fuzzer"); name=${name#fuzz_}
mkdir -p "$work/corpus"
rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
[ -d "$seeds" ] || { echo "fuzz: $name: no seed corpus at $seeds"; exit 1; }

start=$(date +%s%N)
"$fuzzer" -max_total_time="$secs" -timeout=10 -close_fd_mask=3 -print_final_stats=1 \
	-artifact_prefix="$work/" "$work/corpus" "$seeds" >"$work/log" 2>&1
status=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
took=$((ms / 1000)).$(( (ms % 1000) / 100 ))

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -1)
cov=$(grep -oE 'cov: [0-9]+' "$work/log" | tail -1 | cut -d' ' -f2)
corpus=$(find "$work/corpus" -type f | wc -l)
crashes=$(find "$work" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' -o \
	-maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | wc -l)
printf 'fuzz: %-12s %6s s %9s execs %7s execs/s  corpus %5s  cov %5s  crashes %s\n' \
	"$name" "$took" "${execs:-0}" "${rate:-0}" "$corpus" "${cov:-?}" "$crashes" | tee "$work/summary"
if [ "$status" != 0 ] || [ "$crashes" != 0 ] || [ "${execs:-0}" = 0 ]; then
	echo "fuzz: $name FAILED (status $status); the fuzzer's last lines ($work/log):"
	tail -60 "$work/log"
	exit 1
fi
exit 0
