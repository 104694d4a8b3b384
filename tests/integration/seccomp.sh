#!/usr/bin/env bash
# seccomp: every hvrun thread runs under its own system call filter (docs/15-seccomp.md)
# while a real guest boots, reboots (the VM is built again under the filters) and uses a
# disk, user-mode networking and the control socket: /proc shows "Seccomp: 2" and the
# filter count each thread kind should have; --seccomp log finds no call outside the
# lists; --seccomp off installs none.  That a forbidden call is stopped and named is
# tests/unit/test_seccomp.c's part.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/linux.sh"
need_hvctl

rc=0; host_run "$HVRUN" --seccomp trap --demo || rc=$?
expect_status 2 "$rc" "--seccomp trap"
expect_in err "--seccomp trap: give kill, log or off"

q="console=ttyS0 quiet"
cat >"$T/boots.sh" <<SCRIPT
set -u
cd "$T"
truncate -s 16M disk.raw
export XDG_RUNTIME_DIR=$T
# One run per policy: the guest reboots itself; after its second boot (kill, the default:
# the VM built again under the filters) or its first (log, off), the threads' /proc
# status and hvctl stats are read, then SIGTERM stops hvrun.
for p in kill log off; do
	want=1; [ \$p = kill ] && want=2
	"$HVRUN" --seccomp \$p --name sc-\$p -m 256 -c 2 -k "$KERNEL" -i "$INITRD" \
		-d disk.raw,cache=writeback --net user,hostfwd=tcp:127.0.0.1:5555-:22 --stats \
		-a "$q hvtest=reboot" >\$p.out 2>\$p.err &
	pid=\$!
	for i in \$(seq 600); do
		[ "\$(grep -c 'HVTEST boot' \$p.out)" -ge \$want ] && break
		kill -0 \$pid 2>/dev/null || break
		sleep 0.5
	done
	# The guest reboots in a loop: read the threads while a VM runs (a vCPU thread is there).
	for i in \$(seq 100); do
		for s in /proc/\$pid/task/*/status; do
			awk '/^Name:/ { n = \$2 } /^Seccomp:/ { m = \$2 } /^Seccomp_filters:/ { f = \$2 }
			     END { print n, m, f }' "\$s"
		done >\$p.threads 2>/dev/null
		grep -q '^vcpu1 ' \$p.threads && grep -q '^io-vda ' \$p.threads && break
		sleep 0.2
	done
	for i in \$(seq 50); do	# between two boots there is no VM to report on
		"$HVCTL" -n sc-\$p stats --json >\$p.stats 2>&1 && grep -q seccomp \$p.stats && break
		sleep 0.2
	done
	kill -TERM \$pid 2>/dev/null
	wait \$pid; echo \$? >\$p.rc
done
SCRIPT
rc=0; LAB_TIMEOUT=600 kvm_run bash "$T/boots.sh" || rc=$?
expect_status 0 "$rc" "the boot script"

for p in kill log off; do
	cp "$T/$p.err" "$T/err"
	expect_status 0 "$(cat "$T/$p.rc")" "--seccomp $p: hvrun after SIGTERM"
	want=1; [ $p = kill ] && want=2
	[ "$(grep -c 'HVTEST boot' "$T/$p.out")" -ge $want ] || fail "--seccomp $p: the guest did not boot $want time(s)"
	expect_not_in err "forbidden system call"
done

# Each thread kind and the filters it should carry: its own, and the main thread's it inherited.
check_threads() {	# check_threads POLICY: every line "NAME MODE FILTERS" as expected
	local name mode filters want n=0 seen=" "
	while read -r name mode filters; do
		case $name in
		hvrun|net-user) want=1 ;;	# main: its own; net-user: started before main's
		control|io-*|vcpu*|out-*) want=2 ;;	# main's, inherited, and its own
		*) fail "--seccomp $1: an unexpected thread '$name'" ;;
		esac
		[ "$mode" = 2 ] || fail "--seccomp $1: thread $name has Seccomp: $mode, not 2 (filter)"
		[ "$filters" = $want ] ||
			fail "--seccomp $1: thread $name has $filters filter(s), expected $want"
		n=$((n + 1)); seen="$seen$name "
	done <"$T/$1.threads"
	for name in hvrun net-user control io-vda io-net0 vcpu0 vcpu1 out-console out-log; do
		case $seen in *" $name "*) ;; *) fail "--seccomp $1: no thread $name (threads:$seen)" ;; esac
	done
	echo "--seccomp $1: $n threads, each with its filter:$seen"
}
check_threads kill
check_threads log
# Off: no thread has a filter.
awk '$2 != 0 { exit 1 }' "$T/off.threads" || fail "--seccomp off: a thread has a filter: $(cat "$T/off.threads")"

# hvctl stats says which policy runs, and (log) that nothing was counted.
seccomp_stats() {	# seccomp_stats POLICY: "policy N" from hvctl stats --json
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1])); s = r.get("stats", r)["seccomp"]
print(s["policy"], len(s["violations"]), json.dumps(s["violations"]))' "$T/$1.stats" 2>&1
}
got=$(seccomp_stats kill); [ "${got%% *}" = kill ] || fail "hvctl stats --json (kill): $got"
got=$(seccomp_stats log); case $got in "log 0 "*) ;; *) fail "hvctl stats --json (log): $got" ;; esac
cp "$T/log.err" "$T/err"
expect_not_in err "calls outside a thread's list"

pass "every thread filtered through a boot and a reboot (disk, user networking, control); log counted nothing; off is off"
