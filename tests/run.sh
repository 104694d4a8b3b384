#!/usr/bin/env bash
# run.sh: the README's test command: installs what the tests need, builds hvrun, runs
# every test (cmocka unit tests, then integration tests on a real KVM: this host's
# hardware KVM when it has one, else the nested-KVM lab), and ends with the counts.
#
#   tests/run.sh           the normal build and its unit tests, the unit tests again under
#                          ASan+UBSan, each libFuzzer target for FUZZ_SECONDS (default 10;
#                          build-fuzz/), then the integration tests
#   tests/run.sh --asan    everything under ASan+UBSan (build-asan/)
#   HVRUN_KVM=direct|lab   force where the KVM tests run (default: auto)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$PWD

tools/install-deps.sh --tests || exit 1

build() {	# build DIR [cmake args...]
	local dir=$1; shift
	cmake -S "$top" -B "$dir" "$@" >/dev/null && cmake --build "$dir" -j"$(nproc)" >"$dir/build-output.log" 2>&1 ||
		{ cat "$dir/build-output.log" >&2; echo "0 passed, 1 failed (build of $dir)"; exit 1; }
}

passed=0 failed=0 skipped=0
run_ctest() {	# run_ctest DIR [ctest args...]
	local dir=$1 out p f s; shift
	out=$(mktemp)
	(cd "$dir" && ctest --output-on-failure "$@") | tee "$out"
	p=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* +Passed' "$out")
	f=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(\*\*\*Failed|\*\*\*Timeout|\*\*\*Exception|Not Run)' "$out")
	s=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped' "$out")
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	rm -f "$out"
	lab_trouble "$dir/Testing/Temporary/LastTest.log"
}

# lab_trouble LOG: ctest shows only the output of failed tests, so a test that passed
# after a lab hang, an emulator error or a guest triple fault (retried: tests/integration/
# lib/common.sh) would hide why it took twice as long.  Their lines, one block per test.
lab_trouble() {
	[ -f "$1" ] || return 0
	awk '/^[0-9]+\/[0-9]+ Testing: / { name = $3 }
		/^(LAB (HANG|FAULT|ERROR|STALL) \(|LAB HANG: |SKIPPED \(|retrying|a guest triple-faulted)/ {
			if (!seen[name]++) print "tests: lab trouble in " name ":"
			print "  " $0
		}' "$1"
}

# Where KVM tests run, decided once and said up front.
where() {	# where HVRUN
	mode=$(tools/kvm-mode.sh "$1") || exit 1
	export HVRUN_KVM=$mode
	echo "tests: KVM tests run $([ "$mode" = direct ] && echo "directly on this host's /dev/kvm" ||
		echo "in the nested-KVM lab (QEMU TCG, AMD SVM; tests/lab/lab.sh)")"
	# Fetch the lab's kernel and build its initramfs once, before any test needs them.
	tests/lab/lab.sh --prepare >/dev/null || { echo "0 passed, 1 failed (lab set-up)"; exit 1; }
}

# The guests' images (the Debian image, the installed disk, the two ISOs: built once,
# then cached; tests/guests/mk*.sh) are built in the background while hvrun compiles and
# the fuzzers run: on a fresh machine that is minutes of downloads and dpkg.  The tests
# that need one wait for it (each script holds a lock while it builds).
prefetch() {
	mkdir -p "$top/build"
	{
		tests/guests/mkdebian.sh --size "${HVRUN_DEBIAN_SIZE:-2G}" &&
			tests/guests/mkbootdisk.sh && tests/guests/mkiso.sh --kind di &&
			tests/guests/mkiso.sh --kind grub
	} >"$top/build/images.log" 2>&1 || echo "tests: building the guests' images failed" \
		"(build/images.log); the tests that need them will say why" >&2
}

start=$(date +%s)
prefetch &
prefetch_pid=$!
if [ "${1-}" = --asan ]; then
	build build-asan -DHVRUN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	wait "$prefetch_pid"
	where build-asan/hvrun
	run_ctest build-asan
else
	build build
	echo "tests: the unit tests, then again under ASan+UBSan"
	# Two at a time: the slow ones (balloon, blk, net) mostly wait on their I/O threads.
	run_ctest build -L unit -j"$(nproc)"
	build build-asan -DHVRUN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	run_ctest build-asan -L unit -j"$(nproc)"
	fuzz=${FUZZ_SECONDS:-10}
	echo "tests: each fuzz target for $fuzz s (tests/fuzz; clang, libFuzzer, ASan+UBSan)"
	fuzz_start=$(date +%s)
	CC=clang build build-fuzz -DHVRUN_FUZZ=ON -DHVRUN_TESTS=OFF -DFUZZ_SECONDS="$fuzz"
	rm -f build-fuzz/tests/fuzz/work/*/summary
	# One core each: two fuzz targets at a time take half the wall time, each fuzzes as long.
	run_ctest build-fuzz -L fuzz -j"$(nproc)"
	cat build-fuzz/tests/fuzz/work/*/summary 2>/dev/null
	echo "tests: fuzzing took $(( $(date +%s) - fuzz_start )) s"
	wait "$prefetch_pid"
	echo "tests: the integration tests ($(( $(date +%s) - start )) s so far)"
	where build/hvrun
	run_ctest build -LE unit
fi
echo "tests: KVM mode $mode, $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
