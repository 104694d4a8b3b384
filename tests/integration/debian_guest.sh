#!/usr/bin/env bash
# debian_guest: the Debian 12 guest (systemd, its own kernel and initramfs, console on hvc0)
# booted once for several checks, each reported by name (a failed check does not stop the
# others; the test fails if any did).  A boot costs about a minute in the lab, so the
# checks that only need a running distribution share it:
#
#   boot 1  hvrun -m 1024 -c 2 --name deb --no-free-page-reporting -k vmlinuz -i initrd.img
#                 -d disk.raw -d data.raw,serial=data -a "root=/dev/vda console=hvc0"
#     boot     multi-user.target is reached; the login shell is on hvc0, / is /dev/vda ext4
#              rw; lspci, lsmod and the drivers show virtio blk/console/rng bound; vda's
#              serial is the file's name; 64 random bytes from /dev/hwrng (virtio_rng)
#     balloon  the guest fills and frees 400 MiB (the pages stay with hvrun), then "hvctl
#              balloon 256M": MemAvailable falls by about 256 MiB and hvrun's RSS by at
#              least 128 MiB; "hvctl balloon 0" gives them back; balloon-stats shows the
#              guest's total memory (STATS_VQ)
#     control  hvctl status / list (the VM, its state, vda, vdb); pause / resume (the
#              guest's uptime moves by far less than the 15 s the pause lasted); stats (a
#              64 MiB O_DIRECT read of vdb moves vdb's kicks, bytes read and merged
#              requests, a CMOS clock read the vCPUs' exits); disk-resize vdb after
#              "truncate -s +1G" (the guest sees the new size, resize2fs grows the mounted
#              ext4); powerdown (the ACPI button: systemd shuts down cleanly, hvrun exits 0)
#   boot 2  the teaching guide's startup scripts run the VM detached, two VMs at once:
#             hvrun --daemonize --name d1 --pidfile P --console-log L -m 1024 -c 2 ... (Debian)
#             hvrun --daemonize --name d2 -m 256 -k vmlinuz -i test-initramfs    (busybox)
#     daemon   both commands return 0 at once, after set-up (a set-up error, a missing
#              disk, is still printed: exit status 2); "hvctl list" shows both; the Debian
#              guest is logged into through "hvctl -n d1 console"; "hvctl -n d2 reset"
#              boots d2 again; "hvctl -n d2 stop" ends d2 only, d1 goes on; "hvctl -n d1
#              powerdown" shuts the Debian guest down cleanly: hvrun exits, its socket and
#              pid file are gone, the console log holds the boot and the shutdown
#     free-page-reporting  (on by default) the guest fills 400 MiB then frees it, and
#              hvrun's RSS falls again without any command
#
# These were debian_boot, debian_balloon, debian_control and debian_daemon (six boots,
# four labs).  HVRUN_TEST_VMM=qemu runs the boot check on QEMU (the reference); the
# others drive hvrun with hvctl and are skipped there.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/linux.sh"
. "$(dirname "$0")/lib/debian.sh"

debian_image
HVCTL_CHECKS=1
if [ "$VMM_KIND" = hvrun ]; then
	need_hvctl
else
	HVCTL_CHECKS=0
fi
MIB=1048576
C="${HVCTL:-hvctl} -n deb"
rss() { printf 'grep VmRSS /proc/$VMM_PID/status'; }
avail='grep -E "^(MemTotal|MemAvailable):" /proc/meminfo'

# ---- boot 1 ----
new_session s1
# boot: the guest's view of its devices.
gcmd C_STATE 'systemctl is-system-running --wait; systemctl --failed --no-legend --plain'
gcmd C_MULTI 'systemctl is-active multi-user.target'
gcmd C_TTY 'readlink /proc/$$/fd/2; cat /proc/cmdline; uname -r; findmnt -no SOURCE,FSTYPE,OPTIONS /'
gcmd C_LSPCI 'lspci; echo ids:; lspci -n | grep -i 1af4'
gcmd C_LSMOD 'lsmod | grep virtio'
gcmd C_DRIVERS 'for d in /sys/bus/virtio/drivers/*; do echo "${d##*/}:" $(ls "$d" | grep "^virtio[0-9]"); done'
gcmd C_SERIAL 'cat /sys/block/vda/serial; echo'
gcmd C_HWRNG 'head -c 64 /dev/hwrng | od -An -v -tx1'
gcmd C_RNGCUR 'cat /sys/devices/virtual/misc/hw_random/rng_current'
gcmd C_ANALYZE 'systemd-analyze || true'
BOOT_LAST=$NITEMS

if [ "$HVCTL_CHECKS" = 1 ]; then
	# balloon: inflate / deflate with free page reporting off.
	gcmd B1_LSPCI 'lspci | grep -i balloon; lsmod | grep -c "^virtio_balloon "'
	gcmd B1_FILL "dd if=/dev/zero of=/dev/shm/fill bs=1M count=400 status=none && rm /dev/shm/fill && $avail"
	hcmd B1_RSS0 "$(rss)"
	# bwait BYTES: waits until the balloon holds BYTES, at most 90 s.  The guest's driver
	# moves pages at its own pace; in the nested lab, 8 s once gave 201 MiB of 256.
	bwait() {
		local has="$C balloon-stats --json | grep -Eq '\"actual_bytes\": *$1[,}]'"
		printf 'for i in $(seq 90); do %s && break; sleep 1; done; %s' "$has" "$has"
	}
	hcmd B1_INF "$C balloon 256M && $(bwait $((256 * MIB))) && sleep 2 && $C balloon-stats && $(rss)"
	gcmd B1_AVAIL1 "$avail"
	hcmd B1_DEF "$C balloon 0 && $(bwait 0) && sleep 2 && $C balloon-stats --json"
	gcmd B1_AVAIL2 "$avail"

	# control: hvctl status, pause, stats, disk-resize; powerdown ends the session.
	hcmd H_STATUS "$C status; $HVCTL list"
	gcmd G_UP0 'cat /proc/uptime'
	hcmd H_PAUSE "$C pause && $C status | grep -i state && sleep 15 && $C resume && $C status | grep -i state"
	gcmd G_UP1 'cat /proc/uptime'
	hcmd H_S0 "$C stats --json >/tmp/s0.json && echo saved"
	# The disk I/O itself never leaves KVM (ioeventfd, irqfd): the exits that reach hvrun
	# come from the CMOS clock, read through ports 0x70/0x71.
	gcmd G_READ 'dd if=/dev/vdb of=/dev/null bs=4M count=16 iflag=direct status=none && cat /sys/block/vdb/queue/max_sectors_kb /sys/class/rtc/rtc0/time'
	hcmd H_S1 "$C stats --json >/tmp/s1.json && python3 $HVRUN_SRC/tests/integration/stats_delta.py /tmp/s0.json /tmp/s1.json vdb"
	gcmd G_FS 'mkfs.ext4 -q -F /dev/vdb && mount /dev/vdb /mnt && cat /sys/block/vdb/size && df -B1M --output=size /mnt | tail -n 1'
	hcmd H_GROW "truncate -s +1G $SCRATCH/data.raw && $C disk-resize vdb"
	gcmd G_GROWN 'sleep 2; cat /sys/block/vdb/size; dmesg | grep -i "vdb.*capacity" | tail -n 1; resize2fs /dev/vdb >/dev/null 2>&1; df -B1M --output=size /mnt | tail -n 1'
	hcmd H_POWER "$C powerdown"
fi
CMDS1=$CMDS

# ---- boot 2: two VMs with --daemonize; free page reporting ----
new_session s2
gcmd D_HOST 'hostname; systemctl is-system-running --wait'
hcmd D_LIST "$HVCTL list"
hcmd D_RESET "$HVCTL -n d2 reset && sleep 5 && $HVCTL -n d2 status | grep -E '^(state|uptime):'"
hcmd D_D2 "$HVCTL -n d2 status && $HVCTL -n d2 stop && sleep 2; $HVCTL list; $HVCTL -n d1 status | grep -i state"
# The session's VMM is hvctl (the console): hvrun's own pid is in its pid file.
d1rss='grep VmRSS /proc/$(cat /tmp/d1.pid)/status'
hcmd F_RSS0 "$d1rss"
gcmd F_FILL 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=400 status=none && sync'
hcmd F_RSS1 "$d1rss"
gcmd F_FREE 'rm /dev/shm/fill && sleep 10'
hcmd F_RSS2 "$d1rss; $HVCTL -n d1 balloon-stats --json"
hcmd D_POWER "$HVCTL -n d1 powerdown"
CMDS2=$CMDS

APPEND="root=/dev/vda console=hvc0"
VMM1=$(vmm_cmd 1024 2 "$APPEND" "$SCRATCH/disk.raw" "$SCRATCH/data.raw,serial=data")
[ "$VMM_KIND" = hvrun ] && VMM1+=" --name deb --no-free-page-reporting"
D1="$(vmm_cmd 1024 2 "$APPEND" "$SCRATCH/disk.raw") --name d1 --daemonize --pidfile /tmp/d1.pid --console-log /tmp/d1.log"
D2="$(printf '%q ' "$HVRUN" -m 256 -k "$KERNEL" -i "$INITRD" -a "console=ttyS0 quiet hvtest=shell") --name d2 --daemonize --pidfile /tmp/d2.pid --console-log $T/d2.log"
{
	echo 'set -u'
	echo 'export XDG_RUNTIME_DIR=/tmp/xdg; mkdir -p -m 0700 $XDG_RUNTIME_DIR'
	echo "truncate -s 1G '$SCRATCH/data.raw'"
	CMDS=$CMDS1 session_cmd s1 900 "$VMM1"
	[ "$HVCTL_CHECKS" = 1 ] && cat <<SCRIPT
# A set-up error is printed and fails, even with --daemonize.
$(printf '%q ' "$HVRUN") -k "$KERNEL" -d /nonexistent.raw --daemonize --name bad >$T/bad.out 2>$T/bad.err; echo \$? >$T/bad.rc
s=\$(date +%s%N); $D1 >$T/d1.out 2>$T/d1.err; echo \$? >$T/d1.rc
echo \$(( (\$(date +%s%N) - s) / 1000000 )) >$T/d1.ms
$D2 >$T/d2.out 2>$T/d2.err; echo \$? >$T/d2.rc
cat /tmp/d1.pid >$T/d1.pid 2>/dev/null
$(CMDS=$CMDS2 session_cmd s2 600 "$HVCTL -n d1 console")
# After the powerdown: hvrun gone, its files too.
for i in \$(seq 60); do kill -0 \$(cat $T/d1.pid) 2>/dev/null || break; sleep 1; done
{ kill -0 \$(cat $T/d1.pid) 2>/dev/null && echo "d1 alive" || echo "d1 gone"
  ls /tmp/d1.pid \$XDG_RUNTIME_DIR/hvrun/d1.sock 2>&1; } >$T/after.txt
cp /tmp/d1.log $T/d1.log 2>/dev/null
dmesg 2>/dev/null | tail -n 40 >$T/lab-dmesg.txt
SCRIPT
} >"$T/run.sh"
SCRATCH_FILES=("$DEB_DISK:disk.raw")
rc=0; LAB_TIMEOUT=1500 debian_run "$T/run.sh" || rc=$?
expect_status 0 "$rc" "the lab script ($([ "$HVCTL_CHECKS" = 1 ] && echo two boots || echo one boot))"

kib() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB.*/\1/p" <<<"$1" | head -n 1; }

check_boot() {
	local n state nbytes rng dev m drv serial
	SESSION=s1 CMDS=$CMDS1
	# Every command of this check ran to its end.
	for n in $(seq "$BOOT_LAST"); do
		[ -n "$(item_rc "$n")" ] || session_fail "command $n never finished: $(sed -n "${n}p" "$CMDS")"
	done
	state=$(item_out "$C_STATE" | head -n 1)
	[ "$state" = running ] ||
		session_fail "systemctl is-system-running: '$state', expected running; failed units: $(item_out "$C_STATE" | tail -n +2 | tr '\n' ' ')"
	[ "$(item_out "$C_MULTI")" = active ] || session_fail "multi-user.target is not active: $(item_out "$C_MULTI")"

	item_out "$C_TTY" >"$T/tty"
	[ "$(head -n 1 "$T/tty")" = /dev/hvc0 ] || session_fail "the login shell is not on /dev/hvc0: $(head -n 1 "$T/tty")"
	grep -Eq '^/dev/vda +ext4 +rw' "$T/tty" || session_fail "/ is not /dev/vda ext4 rw: $(tail -n 1 "$T/tty")"

	# lspci: QEMU's transitional devices are "Virtio block device", hvrun's modern-only
	# ones (device IDs 0x1040 + virtio ID) "Virtio 1.0 block device": either.
	item_out "$C_LSPCI" >"$T/lspci"
	for dev in "block device" console RNG; do
		grep -Eq "Virtio (1\.0 )?$dev" "$T/lspci" || session_fail "lspci shows no 'Virtio $dev': $(tr '\n' '|' <"$T/lspci")"
	done
	item_out "$C_LSMOD" >"$T/lsmod"
	for m in virtio_blk virtio_console virtio_rng virtio_pci; do
		grep -q "^$m " "$T/lsmod" || session_fail "module $m not loaded: $(tr '\n' '|' <"$T/lsmod")"
	done
	item_out "$C_DRIVERS" >"$T/drivers"
	for drv in virtio_blk virtio_console virtio_rng; do
		grep -Eq "^$drv: virtio[0-9]" "$T/drivers" || session_fail "no device bound to the $drv driver: $(tr '\n' '|' <"$T/drivers")"
	done

	serial=$(item_out "$C_SERIAL" | head -n 1)
	[ "$serial" = disk.raw ] || session_fail "/sys/block/vda/serial is '$serial', expected disk.raw (the file's name)"

	# 64 bytes from the virtio RNG: 64 hex pairs, not all the same.
	item_out "$C_HWRNG" >"$T/hwrng"
	[ "$(item_rc "$C_HWRNG")" = 0 ] || session_fail "reading /dev/hwrng failed: $(cat "$T/hwrng")"
	nbytes=$(wc -w <"$T/hwrng")
	[ "$nbytes" = 64 ] || session_fail "/dev/hwrng gave $nbytes bytes, expected 64: $(cat "$T/hwrng")"
	[ "$(tr ' ' '\n' <"$T/hwrng" | sed '/^$/d' | sort -u | wc -l)" -gt 8 ] ||
		session_fail "/dev/hwrng bytes do not look random: $(cat "$T/hwrng")"
	rng=$(item_out "$C_RNGCUR" | head -n 1)
	case $rng in virtio_rng.*) ;; *) session_fail "rng_current is '$rng', expected virtio_rng.N" ;; esac
	echo "guest: $(item_out "$C_ANALYZE" | head -n 1)"
	echo "Debian 12 booted to multi-user.target on $VMM_KIND: login on hvc0, virtio blk/console/rng bound, serial, hwrng"
}

check_balloon() {
	local a0 a1 a2 q0 q1 tot
	SESSION=s1 CMDS=$CMDS1
	need_ok "balloon device" "$B1_LSPCI"
	item_out "$B1_LSPCI" | grep -qi 'memory balloon' || session_fail "lspci shows no memory balloon: $(item_out "$B1_LSPCI" | tr '\n' '|')"
	need_ok "inflate/deflate" "$B1_FILL" "$B1_RSS0" "$B1_INF" "$B1_AVAIL1" "$B1_DEF" "$B1_AVAIL2"
	a0=$(kib "$(item_out "$B1_FILL")" MemAvailable); a1=$(kib "$(item_out "$B1_AVAIL1")" MemAvailable)
	a2=$(kib "$(item_out "$B1_AVAIL2")" MemAvailable)
	q0=$(kib "$(item_out "$B1_RSS0")" VmRSS); q1=$(kib "$(item_out "$B1_INF")" VmRSS)
	echo "MemAvailable ${a0} -> ${a1} (balloon 256M) -> ${a2} kB (balloon 0); hvrun RSS ${q0} -> ${q1} kB"
	[ $((a0 - a1)) -ge $((200 * 1024)) ] && [ $((a0 - a1)) -le $((300 * 1024)) ] ||
		session_fail "inflating 256 MiB changed MemAvailable by $(((a0 - a1) / 1024)) MiB"
	[ $((q0 - q1)) -ge $((128 * 1024)) ] || session_fail "inflating 256 MiB lowered hvrun's RSS by only $(((q0 - q1) / 1024)) MiB"
	[ $((a2 - a1)) -ge $((200 * 1024)) ] || session_fail "deflating gave back only $(((a2 - a1) / 1024)) MiB of MemAvailable"
	item_out "$B1_DEF" | grep -q '"actual_bytes": *0' || session_fail "after balloon 0 the balloon still holds pages: $(item_out "$B1_DEF" | tr '\n' ' ')"
	# The guest's own statistics (STATS_VQ): its total memory, about the 1 GiB it has.
	tot=$(item_out "$B1_DEF" | grep -o '"total_memory": *[0-9]*' | grep -o '[0-9]*$')
	[ "${tot:-0}" -ge $((900 * 1048576)) ] && [ "${tot:-0}" -le $((1024 * 1048576)) ] ||
		session_fail "balloon-stats: the guest's total_memory is '${tot:-none}', expected 900-1024 MiB"
	echo "balloon-stats: the guest reports total_memory $((tot / 1048576)) MiB"
	item_out "$B1_INF" | sed -n '1,20p'
	echo "inflate 256 MiB -> guest -$(((a0 - a1) / 1024)) MiB, RSS -$(((q0 - q1) / 1024)) MiB; deflate"
}

check_control() {
	local w u0 u1 moved bytes kicks exits merged ops maxkb s0 f0 s1 f1
	SESSION=s1 CMDS=$CMDS1
	need_ok "status" "$H_STATUS"
	item_out "$H_STATUS" >"$T/status"
	for w in deb running vda vdb; do
		grep -qw "$w" "$T/status" || session_fail "hvctl status/list lacks '$w': $(tr '\n' '|' <"$T/status")"
	done

	need_ok "pause/resume" "$G_UP0" "$H_PAUSE" "$G_UP1"
	grep -qi paused <<<"$(item_out "$H_PAUSE")" || session_fail "hvctl status never said paused: $(item_out "$H_PAUSE" | tr '\n' '|')"
	u0=$(item_out "$G_UP0" | cut -d' ' -f1); u1=$(item_out "$G_UP1" | cut -d' ' -f1)
	moved=$(awk -v a="$u0" -v b="$u1" 'BEGIN { printf "%.1f", b - a }')
	echo "pause 15 s: the guest's uptime moved ${moved} s"
	awk -v m="$moved" 'BEGIN { exit !(m < 10) }' || session_fail "the guest's clock ran on while paused: its uptime moved $moved s over a 15 s pause"

	need_ok "stats" "$H_S0" "$G_READ" "$H_S1"
	item_out "$H_S1" >"$T/delta"; cat "$T/delta"
	bytes=$(sed -n 's/^bytes_read //p' "$T/delta"); kicks=$(sed -n 's/^kicks //p' "$T/delta")
	exits=$(sed -n 's/^exits //p' "$T/delta")
	[ "${bytes:-0}" -ge $((64 * 1048576)) ] || session_fail "vdb's bytes_read moved by ${bytes:-?}, expected >= 64 MiB"
	[ "${kicks:-0}" -ge 1 ] || session_fail "vdb's kicks did not move"
	[ "${exits:-0}" -ge 1 ] || session_fail "the vCPUs' exit counts did not move (a CMOS clock read)"
	merged=$(sed -n 's/^merged_requests //p' "$T/delta"); ops=$(sed -n 's/^merged_ops //p' "$T/delta")
	maxkb=$(item_out "$G_READ" | sed -n 1p)
	[ "${merged:-0}" -ge 2 ] && [ "${ops:-0}" -ge 1 ] ||
		session_fail "vdb merged no neighbouring requests of the 4 MiB O_DIRECT reads (merged_requests ${merged:-?} in ${ops:-?} operations; the guest's max_sectors_kb ${maxkb:-?})"

	need_ok "disk-resize" "$G_FS" "$H_GROW" "$G_GROWN"
	s0=$(item_out "$G_FS" | sed -n 1p); f0=$(item_out "$G_FS" | sed -n 2p | tr -dc 0-9)
	s1=$(item_out "$G_GROWN" | sed -n 1p); f1=$(item_out "$G_GROWN" | tail -n 1 | tr -dc 0-9)
	echo "disk-resize: vdb $s0 -> $s1 sectors, ext4 ${f0} -> ${f1} MiB; $(item_out "$G_GROWN" | sed -n 2p)"
	[ "$s1" = $((s0 + 2097152)) ] || session_fail "the guest sees vdb at $s1 sectors, expected $((s0 + 2097152))"
	[ "${f1:-0}" -gt $((f0 + 900)) ] || session_fail "resize2fs did not grow the mounted file system: $f0 -> $f1 MiB"

	# Powerdown: systemd shut the guest down (the console shows it), hvrun exited 0
	# (session_status).
	need_ok "powerdown" "$H_POWER"
	tr -d '\r' <"$T/s1.console" | grep -qE 'reboot: Power down|System Power Off' ||
		session_fail "hvctl powerdown: no clean shutdown on the console"
	echo "status, pause (uptime +${moved} s over 15 s), stats (${merged} requests merged into ${ops}), disk-resize live ($s0 -> $s1 sectors, resize2fs), powerdown"
}

check_daemon() {
	local v
	cp "$T/bad.err" "$T/err"; : >"$T/out"
	expect_status 2 "$(cat "$T/bad.rc")" "hvrun --daemonize with a missing disk"
	expect_in err "/nonexistent.raw"
	for v in d1 d2; do
		cp "$T/$v.err" "$T/err"
		expect_status 0 "$(cat "$T/$v.rc")" "hvrun --daemonize --name $v"
	done
	echo "hvrun --daemonize returned after $(cat "$T/d1.ms") ms"

	SESSION=s2 CMDS=$CMDS2
	session_status s2 0
	need_ok "console through hvctl" "$D_HOST"
	need_ok "hvctl list" "$D_LIST"
	for v in d1 d2; do
		item_out "$D_LIST" | grep -qw "$v" && continue
		# d2's console log holds hvrun's own messages too (after --daemonize): why it ended.
		[ -f "$T/d2.log" ] && { echo "--- d2's console log, last lines:"; tail -n 15 "$T/d2.log" | tr -d '\r'; } >&2
		[ -s "$T/lab-dmesg.txt" ] && { echo "--- the lab kernel's last messages:"; cat "$T/lab-dmesg.txt"; } >&2
		session_fail "hvctl list lacks $v: $(item_out "$D_LIST" | tr '\n' '|')"
	done
	need_ok "reset d2" "$D_RESET"
	item_out "$D_RESET" | grep -q '(boot 2)' || session_fail "hvctl reset: d2 did not boot again: $(item_out "$D_RESET" | tr '\n' '|')"
	need_ok "stop d2" "$D_D2"
	item_out "$D_D2" >"$T/d2"
	tail -n 3 "$T/d2" | grep -qw d2 && session_fail "d2 still listed after hvctl stop: $(tr '\n' '|' <"$T/d2")"
	grep -qi 'running' "$T/d2" || session_fail "d1 is not running after d2 stopped: $(tr '\n' '|' <"$T/d2")"
	need_ok "powerdown" "$D_POWER"
	cat "$T/after.txt"
	grep -qx 'd1 gone' "$T/after.txt" || session_fail "hvrun d1 still runs after powerdown"
	grep -q 'No such file' "$T/after.txt" || session_fail "the pid file or socket of d1 is left: $(tr '\n' ' ' <"$T/after.txt")"
	tr -d '\r' <"$T/d1.log" | grep -qE 'reboot: Power down|System Power Off' ||
		session_fail "the console log does not show the clean shutdown"
	grep -q 'login:' "$T/d1.log" || session_fail "the console log lacks the login prompt"
	echo "--daemonize: two VMs, hvctl list/status/console/reset/stop/powerdown, pid file and console log"
}

check_free_page_reporting() {
	local r0 r1 r2
	SESSION=s2 CMDS=$CMDS2
	[ -s "$T/s2.rc" ] || session_fail "the console session of d1 did not run"
	need_ok "free page reporting" "$F_RSS0" "$F_FILL" "$F_RSS1" "$F_FREE" "$F_RSS2"
	r0=$(kib "$(item_out "$F_RSS0")" VmRSS); r1=$(kib "$(item_out "$F_RSS1")" VmRSS); r2=$(kib "$(item_out "$F_RSS2")" VmRSS)
	echo "hvrun RSS ${r0} kB, ${r1} kB after the guest filled 400 MiB, ${r2} kB 10 s after it freed them"
	[ $((r1 - r0)) -ge $((300 * 1024)) ] || session_fail "filling 400 MiB in the guest raised hvrun's RSS by only $(((r1 - r0) / 1024)) MiB"
	[ $((r1 - r2)) -ge $((250 * 1024)) ] || session_fail "free page reporting returned only $(((r1 - r2) / 1024)) MiB"
	item_out "$F_RSS2" | grep -E '"reported_bytes"' | head -n 1
}

# Boot 1's session ended as it should (hvrun's status 0 after the powerdown, or after
# the session's own poweroff on QEMU): else every check of it fails with the reason.
s1_ok=1
(session_status s1 0) || s1_ok=0
checks=(boot)
[ "$HVCTL_CHECKS" = 1 ] && checks+=(balloon control daemon free-page-reporting)
for c in "${checks[@]}"; do
	if [[ $c != @(daemon|free-page-reporting) ]] && [ $s1_ok = 0 ]; then
		check_result "$c" 1
		continue
	fi
	rc=0; (check_"${c//-/_}") || rc=$?
	check_result "$c" $rc
done
checks_end "Debian 12 on $VMM_KIND, one lab, $([ "$HVCTL_CHECKS" = 1 ] && echo "two boots" || echo "one boot") ($(kvm_mode))"
