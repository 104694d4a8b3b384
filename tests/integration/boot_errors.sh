#!/usr/bin/env bash
# boot_errors: bad kernels and initrds get one clear line and exit 2, never a crash.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/linux.sh"

echo "this is not a kernel" >"$T/text"
head -c 300000 "$KERNEL" >"$T/truncated"
head -c 140M /dev/zero >"$T/big-initrd"	# larger than a 128 MiB guest
cat >"$T/cases.sh" <<SCRIPT
cd "$T"
"$HVRUN" -k text >text.out 2>text.err; echo \$? >text.rc
"$HVRUN" -k truncated >trunc.out 2>trunc.err; echo \$? >trunc.rc
"$HVRUN" -k "$KERNEL" -i big-initrd -m 128 >big.out 2>big.err; echo \$? >big.rc
SCRIPT
rc=0; kvm_run bash "$T/cases.sh" || rc=$?
expect_status 0 "$rc" "the cases script"
check() {	# check NAME TEXT
	cp "$T/$1.err" "$T/err"; cp "$T/$1.out" "$T/out"
	expect_status 2 "$(cat "$T/$1.rc")" "$1"
	expect_lines err 1
	expect_in err "$2"
}
check text "not a bzImage"
check trunc "truncated bzImage"
check big "does not fit"
pass "text file, truncated bzImage, oversized initrd: exit 2, one line each"
