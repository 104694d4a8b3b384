#!/usr/bin/env bash
# boot_lifecycle: the guest's clock (RTC, UTC and --rtc localtime), its serial console
# typed into through a pty, and its reboot (a second boot; --no-reboot ends hvrun with 0;
# SIGTERM stops a VM cleanly).  Debian's kernel, one KVM session for all of it.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/linux.sh"

q="console=ttyS0 quiet"
cat >"$T/boots.sh" <<SCRIPT
cd "$T"
# The clock: UTC, then local time in a zone one hour east of UTC.
date +%s >host-date
timeout 300 "$HVRUN" -k "$KERNEL" -i "$INITRD" -a "$q hvtest=report" >utc.out 2>utc.err; echo \$? >utc.rc
TZ=CET-1 timeout 300 "$HVRUN" -k "$KERNEL" -i "$INITRD" --rtc localtime -a "$q hvtest=report" \
	>local.out 2>local.err; echo \$? >local.rc
date +%s >host-date-after
# The console, through a pty: hvrun puts it in raw mode; the guest's shell answers;
# Ctrl-A x quits.
python3 "$HVRUN_SRC/tests/guests/pty_console.py" 300 pty.log -- \
	"$HVRUN" -k "$KERNEL" -i "$INITRD" -a "$q hvtest=shell"; echo \$? >pty.rc
# Reboot with --no-reboot: one boot, exit 0.
timeout 300 "$HVRUN" -k "$KERNEL" -i "$INITRD" --no-reboot -v -a "$q hvtest=reboot" \
	>noreboot.out 2>noreboot.err; echo \$? >noreboot.rc
# Reboot: the guest comes back; after its second boot, SIGTERM stops hvrun cleanly.
"$HVRUN" -k "$KERNEL" -i "$INITRD" -v -a "$q hvtest=reboot" >reboot.out 2>reboot.err &
pid=\$!
for i in \$(seq 600); do
	[ "\$(grep -c 'HVTEST boot' reboot.out)" -ge 2 ] && break
	kill -0 \$pid 2>/dev/null || break
	sleep 0.5
done
kill -TERM \$pid 2>/dev/null
wait \$pid; echo \$? >reboot.rc
SCRIPT
rc=0; kvm_run bash "$T/boots.sh" || rc=$?
expect_status 0 "$rc" "the boot script"

# The clock: Linux set its time from the RTC at boot (rtc_cmos, hctosys).
for b in utc local; do expect_status 0 "$(cat "$T/$b.rc")" "boot $b"; done
h0=$(cat "$T/host-date"); h1=$(cat "$T/host-date-after")
g=$(hvtest utc.out date)
[ -n "$g" ] && [ "$g" -ge $((h0 - 5)) ] && [ "$g" -le $((h1 + 5)) ] ||
	fail "guest date ${g:-?} not within the host's [$h0, $h1] (utc)"
g=$(hvtest local.out date)	# the guest reads local time as if it were UTC: one hour ahead
[ -n "$g" ] && [ "$g" -ge $((h0 + 3600 - 5)) ] && [ "$g" -le $((h1 + 3600 + 5)) ] ||
	fail "guest date ${g:-?} is not one hour ahead of the host (--rtc localtime, TZ=CET-1)"

cp "$T/pty.log" "$T/out"
expect_status 0 "$(cat "$T/pty.rc")" "the console session, ended by Ctrl-A x (3: the answer never came)"
expect_in out "answer-42 from Linux"

cp "$T/noreboot.out" "$T/out"; cp "$T/noreboot.err" "$T/err"
expect_status 0 "$(cat "$T/noreboot.rc")" "reboot under --no-reboot"
[ "$(grep -c 'HVTEST boot' "$T/out")" = 1 ] || fail "--no-reboot: not exactly one boot"
expect_in err "the guest rebooted; --no-reboot: exiting"

cp "$T/reboot.out" "$T/out"; cp "$T/reboot.err" "$T/err"
[ "$(grep -c 'HVTEST boot' "$T/out")" -ge 2 ] || fail "reboot: no second boot seen"
expect_in err "the guest rebooted: starting it again (boot 2)"
expect_status 0 "$(cat "$T/reboot.rc")" "SIGTERM after the second boot"
pass "RTC utc/localtime, console through a pty and Ctrl-A x, reboot, --no-reboot, SIGTERM ($(kvm_mode))"
