#!/usr/bin/env bash
# run.sh: builds the libFuzzer targets (build-fuzz/, clang, -DHVRUN_FUZZ=ON) and runs each for
# SECONDS, one after the other, then prints a table: seconds, executions, execs/s, corpus size,
# coverage (edges), crashes.  Exit status 1 if any target found something.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     default: 60 s, every target
#
# A finding is kept as build-fuzz/tests/fuzz/work/TARGET/crash-* (or leak-*, timeout-*);
# reproduce it with build-fuzz/tests/fuzz/fuzz_TARGET FILE (docs/testing.md, "Fuzzing").
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
secs=${1:-60}
[ $# -gt 0 ] && shift
[[ $secs =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2; }

CC=clang cmake -S "$top" -B build-fuzz -DHVRUN_FUZZ=ON -DHVRUN_TESTS=OFF >/dev/null &&
	cmake --build build-fuzz -j2 >build-fuzz/build-output.log 2>&1 ||
	{ cat build-fuzz/build-output.log >&2 2>/dev/null; echo "fuzz: the build failed" >&2; exit 1; }

targets=("$@")
if [ ${#targets[@]} = 0 ]; then
	for f in tests/fuzz/corpus/*/; do targets+=("$(basename "$f")"); done
fi
lines=() failed=0
for t in "${targets[@]}"; do
	line=$(tests/fuzz/run_one.sh "build-fuzz/tests/fuzz/fuzz_$t" "$secs" "tests/fuzz/corpus/$t" \
		"build-fuzz/tests/fuzz/work/$t") || failed=1
	echo "$line"
	lines+=("$(head -1 <<<"$line")")
done
echo
printf '%-12s %8s %11s %9s %7s %6s %8s\n' target seconds execs execs/s corpus cov crashes
for l in "${lines[@]}"; do
	# "fuzz: NAME T s N execs R execs/s  corpus C  cov V  crashes K"
	read -r _ name t _ n _ r _ _ c _ v _ k <<<"$l"
	printf '%-12s %8s %11s %9s %7s %6s %8s\n' "$name" "$t" "$n" "$r" "$c" "$v" "$k"
done
exit $failed
