#!/usr/bin/env bash
# debian_control: hvctl on a running Debian 12 guest (one boot in the lab):
#   hvrun -m 512 -c 2 --name ctl -d disk.raw -d data.raw,serial=data ...
#   status / list      the VM, its state, vCPUs, memory and devices
#   pause / resume     the guest's clock stands still while paused (its uptime moves by
#                      far less than the 15 s the pause lasted), then runs on
#   stats              a 64 MiB read of vdb in the guest moves vdb's kicks, interrupts and
#                      bytes read; a CMOS clock read moves the vCPUs' exit counts (the disk
#                      I/O itself causes none: ioeventfd and irqfd keep it inside KVM); the
#                      read is 4 MiB at a time with O_DIRECT, which the guest splits into
#                      requests of at most max_sectors_kb (1280 KiB) made available
#                      together: hvrun merges those neighbours (merged_requests moves)
#   disk-resize vdb    after "truncate -s +1G data.raw": the running guest sees the new
#                      size (/sys/block/vdb/size), and resize2fs grows the mounted ext4
#   powerdown          the ACPI power button: systemd shuts down, hvrun exits 0
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/debian.sh"

debian_image
need_hvctl
C="$HVCTL -n ctl"

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

VMM="$(vmm_cmd 512 2 "root=/dev/vda console=hvc0" "$SCRATCH/disk.raw" "$SCRATCH/data.raw,serial=data") --name ctl"
cat >"$T/run.sh" <<SCRIPT
set -u
export XDG_RUNTIME_DIR=/tmp/xdg; mkdir -p -m 0700 \$XDG_RUNTIME_DIR
truncate -s 1G "$SCRATCH/data.raw"
$(session_cmd session 600 "$VMM")
SCRIPT
SCRATCH_FILES=("$DEB_DISK:disk.raw")
rc=0; LAB_TIMEOUT=1000 debian_run "$T/run.sh" || rc=$?
expect_status 0 "$rc" "the lab script"
session_status session 0

need_ok "status" "$H_STATUS"
item_out "$H_STATUS" >"$T/status"
for w in ctl running vda vdb; do
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

tr -d '\r' <"$T/session.console" | grep -qE 'reboot: Power down|System Power Off' ||
	session_fail "hvctl powerdown: no clean shutdown on the console"
pass "hvctl on a Debian guest: status, pause (uptime +${moved} s over 15 s), stats (${merged} requests merged into ${ops}), disk-resize live ($s0 -> $s1 sectors, resize2fs), powerdown ($(kvm_mode))"
