#!/usr/bin/env bash
# sandbox: started as root, hvrun runs its guest from an empty, read-only root (issue 12).
# A Linux guest with user-mode networking, a control socket and a pid file:
#   - /proc/PID/root holds nothing but etc/resolv.conf (bound in for libslirp), the same
#     bytes as the host's; the root is a read-only tmpfs (mountinfo);
#   - hvctl status answers, the guest reaches userspace;
#   - after hvctl stop, the control socket and the pid file are gone; after kill -9 of
#     a second hvrun too;
#   - with --sandbox off, /proc/PID/root is the host's own (its /etc/passwd is there).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/linux.sh"

need_hvctl

cat >"$T/inner.sh" <<SCRIPT
set -u
[ "\$(id -u)" = 0 ] || { echo "not_root=1"; exit 0; }
S=\$(mktemp -d /tmp/sandbox.XXXXXX)
# run NAME EXTRA...: hvrun in the background with a socket and a pid file, guest idle;
# job: the background job (timeout), pid: hvrun itself (from its pid file)
run() {
	local name=\$1; shift
	timeout 600 "$HVRUN" -m 256 -k "$KERNEL" -i "$INITRD" --control \$S/\$name.sock \\
		--pidfile \$S/\$name.pid --net user "\$@" \\
		-a "console=ttyS0 quiet hvtest=idle" >"$T/\$name.console" 2>"$T/\$name.err" &
	job=\$!
	for i in \$(seq 300); do
		grep -q 'HVTEST idle ready' "$T/\$name.console" && break
		kill -0 \$job 2>/dev/null || { echo "\${name}_died=1"; return 1; }
		sleep 1
	done
	pid=\$(cat \$S/\$name.pid)
	echo "\${name}_up_s=\$i"
}

run on || exit 0
echo "on_root=\$(cd /proc/\$pid/root && find . -mindepth 1 | sort | tr '\\n' ' ')"
cmp -s /proc/\$pid/root/etc/resolv.conf /etc/resolv.conf && echo "on_resolv_same=1"
# mountinfo: field 5 the mount point, 6 its options, the file system type after " - "
awk '\$5 == "/" { for (i = 7; \$i != "-"; i++) ; print "on_rootmount=" \$6 " " \$(i + 1) }' /proc/\$pid/mountinfo
timeout 10 "$HVCTL" --control \$S/on.sock status >/dev/null && echo "on_status=ok"
timeout 10 "$HVCTL" --control \$S/on.sock stop >/dev/null; wait \$job; echo "on_rc=\$?"
[ -e \$S/on.sock ] || echo "on_sock_gone=1"
[ -e \$S/on.pid ] || echo "on_pid_gone=1"

run killed || exit 0
kill -9 \$pid; wait \$job 2>/dev/null
for i in \$(seq 50); do [ -e \$S/killed.sock ] || [ -e \$S/killed.pid ] || break; sleep 0.1; done
[ -e \$S/killed.sock ] || [ -e \$S/killed.pid ] || echo "killed_gone=1"

run off --sandbox off || exit 0
[ -r /proc/\$pid/root/etc/passwd ] && echo "off_host_root=1"
timeout 10 "$HVCTL" --control \$S/off.sock stop >/dev/null; wait \$job; echo "off_rc=\$?"
SCRIPT

rc=0; KVM_TIMEOUT=900 LAB_TIMEOUT=900 kvm_run bash "$T/inner.sh" || rc=$?
cat "$T/out"
expect_status 0 "$rc" "the sandbox script"
r() { sed -n "s/^$1=//p" "$T/out" | head -n 1; }
[ -z "$(r not_root)" ] || { echo "SKIPPED ($TEST_NAME): not root: no empty root to check"; exit 77; }
for run in on killed off; do
	[ -z "$(r ${run}_died)" ] || fail "hvrun ($run) died: $(tail -n 5 "$T/$run.err")"
done
[ "$(r on_root)" = "./etc ./etc/resolv.conf " ] ||
	fail "the sandboxed hvrun's root holds '$(r on_root)', not just etc/resolv.conf"
[ "$(r on_resolv_same)" = 1 ] || fail "etc/resolv.conf in the empty root is not the host's"
case "$(r on_rootmount)" in
	"ro,"*" tmpfs") ;;
	*) fail "the root is not a read-only tmpfs: $(r on_rootmount)" ;;
esac
[ "$(r on_status)" = ok ] || fail "hvctl status did not answer in the empty root"
[ "$(r on_rc)" = 0 ] || fail "hvctl stop: hvrun exited $(r on_rc)"
[ "$(r on_sock_gone)" = 1 ] && [ "$(r on_pid_gone)" = 1 ] ||
	fail "the control socket or the pid file was left behind"
[ "$(r killed_gone)" = 1 ] || fail "after kill -9, the socket or the pid file was left behind"
[ "$(r off_host_root)" = 1 ] || fail "--sandbox off: /proc/PID/root is not the host's root"
[ "$(r off_rc)" = 0 ] || fail "--sandbox off: hvrun exited $(r off_rc)"
pass "an empty read-only root (only etc/resolv.conf for libslirp), hvctl answers, socket and" \
	"pid file removed at exit and after kill -9; --sandbox off stays in the host's root ($(kvm_mode))"
