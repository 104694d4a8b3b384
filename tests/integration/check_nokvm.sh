#!/usr/bin/env bash
# check_nokvm: a host without a usable /dev/kvm.  In a private mount namespace we
# hide /dev/kvm (a tmpfs over /dev), then make it unopenable for an unprivileged
# user: hvrun --check exits 1 and says what is wrong and how to fix it, and
# hvrun --demo exits 1 pointing at --check.  Needs root (unshare, setpriv).
. "$(dirname "$0")/lib/common.sh"

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	echo "SKIPPED ($TEST_NAME): needs root and mount namespaces"; exit 77
fi

# 1. No /dev/kvm at all.
rc=0; host_run unshare -m sh -c 'mount -t tmpfs none /dev && exec "$0" --check' "$HVRUN" || rc=$?
expect_status 1 "$rc" "hvrun --check without /dev/kvm"
expect_in out "[FAIL] /dev/kvm does not exist; fix: load KVM"
expect_in out "Result: this host cannot run hvrun guests yet"
grep -q "egrep '(vmx|svm)' /proc/cpuinfo\|flag is present" "$T/out" || fail "no CPU flag line"

rc=0; host_run unshare -m sh -c 'mount -t tmpfs none /dev && exec "$0" --demo' "$HVRUN" || rc=$?
expect_status 1 "$rc" "hvrun --demo without /dev/kvm"
expect_in err "/dev/kvm does not exist"
expect_in err "run 'hvrun --check'"

# 2. A /dev/kvm this user may not open (root-only, as before udev gives it to group kvm).
rc=0
host_run unshare -m sh -c '
	mount -t tmpfs none /dev && mknod -m 600 /dev/kvm c 10 232 &&
	exec setpriv --reuid=65534 --regid=65534 --clear-groups "$0" --check' "$HVRUN" || rc=$?
expect_status 1 "$rc" "hvrun --check as nobody"
expect_in out "/dev/kvm: permission denied"
expect_in out "adduser"

# 3. The device is given to a group this user is not in.
rc=0
host_run unshare -m sh -c '
	mount -t tmpfs none /dev && mknod -m 660 /dev/kvm c 10 232 && chgrp 65533 /dev/kvm &&
	exec setpriv --reuid=65534 --regid=65534 --clear-groups "$0" --check' "$HVRUN" || rc=$?
expect_status 1 "$rc" "hvrun --check, not in the device's group"
expect_in out "this user is not in group"
pass "missing and forbidden /dev/kvm explained, exit 1"
