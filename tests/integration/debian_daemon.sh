#!/usr/bin/env bash
# debian_daemon: the teaching guide's startup scripts run the VM detached (-daemonize
# -name).  In the lab, two VMs at once:
#   hvrun --daemonize --name d1 --pidfile P --console-log L -m 512 -c 2 ... (Debian 12)
#   hvrun --daemonize --name d2 -m 256 -k vmlinuz -i test-initramfs      (busybox)
# Both commands return 0 at once, after set-up.  "hvctl list" shows both; the Debian
# guest is logged into through "hvctl -n d1 console" (the console session's VMM is
# hvctl); "hvctl -n d2 reset" boots d2 again (boot 2); "hvctl -n d2 stop" ends d2 only, d1 goes on; "hvctl -n d1 powerdown" shuts the
# Debian guest down cleanly: hvrun exits, its socket and pid file are gone, the console
# log holds the boot.  A set-up error (a missing disk) is still printed, exit status 2.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/linux.sh"
. "$(dirname "$0")/lib/debian.sh"

debian_image
need_hvctl

gcmd G_HOST 'hostname; systemctl is-system-running --wait'
hcmd H_LIST "$HVCTL list"
hcmd H_RESET "$HVCTL -n d2 reset && sleep 5 && $HVCTL -n d2 status | grep -E '^(state|uptime):'"
hcmd H_D2 "$HVCTL -n d2 status && $HVCTL -n d2 stop && sleep 2; $HVCTL list; $HVCTL -n d1 status | grep -i state"
hcmd H_POWER "$HVCTL -n d1 powerdown"

D1="$(vmm_cmd 512 2 "root=/dev/vda console=hvc0" "$SCRATCH/disk.raw") --name d1 --daemonize --pidfile /tmp/d1.pid --console-log /tmp/d1.log"
D2="$(printf '%q ' "$HVRUN" -m 256 -k "$KERNEL" -i "$INITRD" -a "console=ttyS0 quiet hvtest=shell") --name d2 --daemonize --pidfile /tmp/d2.pid --console-log $T/d2.log"
cat >"$T/run.sh" <<SCRIPT
set -u
export XDG_RUNTIME_DIR=/tmp/xdg; mkdir -p -m 0700 \$XDG_RUNTIME_DIR
# A set-up error is printed and fails, even with --daemonize.
$(printf '%q ' "$HVRUN") -k "$KERNEL" -d /nonexistent.raw --daemonize --name bad >$T/bad.out 2>$T/bad.err; echo \$? >$T/bad.rc
s=\$(date +%s%N); $D1 >$T/d1.out 2>$T/d1.err; echo \$? >$T/d1.rc
echo \$(( (\$(date +%s%N) - s) / 1000000 )) >$T/d1.ms
$D2 >$T/d2.out 2>$T/d2.err; echo \$? >$T/d2.rc
cat /tmp/d1.pid >$T/d1.pid 2>/dev/null
$(session_cmd session 600 "$HVCTL -n d1 console")
# After the powerdown: hvrun gone, its files too.
for i in \$(seq 60); do kill -0 \$(cat $T/d1.pid) 2>/dev/null || break; sleep 1; done
{ kill -0 \$(cat $T/d1.pid) 2>/dev/null && echo "d1 alive" || echo "d1 gone"
  ls /tmp/d1.pid \$XDG_RUNTIME_DIR/hvrun/d1.sock 2>&1; } >$T/after.txt
cp /tmp/d1.log $T/d1.log 2>/dev/null
dmesg 2>/dev/null | tail -n 40 >$T/lab-dmesg.txt
SCRIPT
SCRATCH_FILES=("$DEB_DISK:disk.raw")
rc=0; LAB_TIMEOUT=1000 debian_run "$T/run.sh" || rc=$?
expect_status 0 "$rc" "the lab script"

cp "$T/bad.err" "$T/err"; : >"$T/out"
expect_status 2 "$(cat "$T/bad.rc")" "hvrun --daemonize with a missing disk"
expect_in err "/nonexistent.raw"
for v in d1 d2; do
	cp "$T/$v.err" "$T/err"
	expect_status 0 "$(cat "$T/$v.rc")" "hvrun --daemonize --name $v"
done
echo "hvrun --daemonize returned after $(cat "$T/d1.ms") ms"

session_status session 0
need_ok "console through hvctl" "$G_HOST"
need_ok "hvctl list" "$H_LIST"
for v in d1 d2; do
	item_out "$H_LIST" | grep -qw "$v" && continue
	# d2's console log holds hvrun's own messages too (after --daemonize): why it ended.
	[ -f "$T/d2.log" ] && { echo "--- d2's console log, last lines:"; tail -n 15 "$T/d2.log" | tr -d '\r'; } >&2
	[ -s "$T/lab-dmesg.txt" ] && { echo "--- the lab kernel's last messages:"; cat "$T/lab-dmesg.txt"; } >&2
	session_fail "hvctl list lacks $v: $(item_out "$H_LIST" | tr '\n' '|')"
done
need_ok "reset d2" "$H_RESET"
item_out "$H_RESET" | grep -q '(boot 2)' || session_fail "hvctl reset: d2 did not boot again: $(item_out "$H_RESET" | tr '\n' '|')"
need_ok "stop d2" "$H_D2"
item_out "$H_D2" >"$T/d2"
tail -n 3 "$T/d2" | grep -qw d2 && session_fail "d2 still listed after hvctl stop: $(tr '\n' '|' <"$T/d2")"
grep -qi 'running' "$T/d2" || session_fail "d1 is not running after d2 stopped: $(tr '\n' '|' <"$T/d2")"
need_ok "powerdown" "$H_POWER"
cat "$T/after.txt"
grep -qx 'd1 gone' "$T/after.txt" || session_fail "hvrun d1 still runs after powerdown"
grep -q 'No such file' "$T/after.txt" || session_fail "the pid file or socket of d1 is left: $(tr '\n' ' ' <"$T/after.txt")"
tr -d '\r' <"$T/d1.log" | grep -qE 'reboot: Power down|System Power Off' ||
	session_fail "the console log does not show the clean shutdown"
grep -q 'login:' "$T/d1.log" || session_fail "the console log lacks the login prompt"
pass "--daemonize: two VMs, hvctl list/status/console/reset/stop/powerdown, pid file and console log ($(kvm_mode))"
