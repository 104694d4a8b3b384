#!/usr/bin/env bash
# debian_balloon: the virtio balloon, seen from a Debian 12 guest and from the host, two
# boots in one lab session, driven with hvctl:
#   boot 1  hvrun -m 1024 --name bal --no-free-page-reporting ...: the guest fills and
#           frees 400 MiB (the pages stay with hvrun), then "hvctl balloon 256M": the
#           guest's MemAvailable falls by about 256 MiB and hvrun's RSS by about as much;
#           "hvctl balloon 0" gives them back; balloon-stats shows the guest's numbers;
#           "hvctl powerdown" shuts the guest down cleanly (hvrun exits 0).
#   boot 2  hvrun -m 1024 --name rep ... (free page reporting on, the default): the guest
#           fills 400 MiB then frees it, and hvrun's RSS falls again without any command.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/debian.sh"

debian_image
need_hvctl
MIB=1048576
rss() { printf 'grep VmRSS /proc/$VMM_PID/status'; }
avail='grep -E "^(MemTotal|MemAvailable):" /proc/meminfo'

# ---- boot 1: inflate / deflate, stats, powerdown ----
new_session b1
gcmd B1_LSPCI 'lspci | grep -i balloon; lsmod | grep -c "^virtio_balloon "'
gcmd B1_FILL "dd if=/dev/zero of=/dev/shm/fill bs=1M count=400 status=none && rm /dev/shm/fill && $avail"
hcmd B1_RSS0 "$(rss)"
# bwait BYTES: waits until the balloon holds BYTES, at most 90 s.  The guest's driver moves
# pages at its own pace; in the nested lab, 8 s once gave 201 MiB of 256.
bwait() {
	local has="$HVCTL -n bal balloon-stats --json | grep -Eq '\"actual_bytes\": *$1[,}]'"
	printf 'for i in $(seq 90); do %s && break; sleep 1; done; %s' "$has" "$has"
}
hcmd B1_INF "$HVCTL -n bal balloon 256M && $(bwait $((256 * MIB))) && sleep 2 && $HVCTL -n bal balloon-stats && $(rss)"
gcmd B1_AVAIL1 "$avail"
hcmd B1_DEF "$HVCTL -n bal balloon 0 && $(bwait 0) && sleep 2 && $HVCTL -n bal balloon-stats --json"
gcmd B1_AVAIL2 "$avail"
hcmd B1_POWER "$HVCTL -n bal powerdown"
CMDS1=$CMDS

# ---- boot 2: free page reporting ----
new_session b2
hcmd B2_RSS0 "$(rss)"
gcmd B2_FILL 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=400 status=none && sync'
hcmd B2_RSS1 "$(rss)"
gcmd B2_FREE 'rm /dev/shm/fill && sleep 10'
hcmd B2_RSS2 "$(rss); $HVCTL -n rep balloon-stats --json"
CMDS2=$CMDS

APPEND="root=/dev/vda console=hvc0"
VMM1="$(vmm_cmd 1024 2 "$APPEND" "$SCRATCH/disk.raw") --name bal --no-free-page-reporting"
VMM2="$(vmm_cmd 1024 2 "$APPEND" "$SCRATCH/disk.raw") --name rep"
cat >"$T/run.sh" <<SCRIPT
set -u
export XDG_RUNTIME_DIR=/tmp/xdg; mkdir -p -m 0700 \$XDG_RUNTIME_DIR
$(CMDS=$CMDS1 session_cmd b1 450 "$VMM1")
$(CMDS=$CMDS2 FINAL_FAST=1 session_cmd b2 450 "$VMM2")
SCRIPT
SCRATCH_FILES=("$DEB_DISK:disk.raw")
rc=0; LAB_TIMEOUT=1000 debian_run "$T/run.sh" || rc=$?
expect_status 0 "$rc" "the lab script (two boots)"

kib() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB.*/\1/p" <<<"$1" | head -n 1; }

# Boot 1.
SESSION=b1 CMDS=$CMDS1
session_status b1 0
need_ok "balloon device" "$B1_LSPCI"
item_out "$B1_LSPCI" | grep -qi 'memory balloon' || session_fail "lspci shows no memory balloon: $(item_out "$B1_LSPCI" | tr '\n' '|')"
need_ok "inflate/deflate" "$B1_FILL" "$B1_RSS0" "$B1_INF" "$B1_AVAIL1" "$B1_DEF" "$B1_AVAIL2"
a0=$(kib "$(item_out "$B1_FILL")" MemAvailable); a1=$(kib "$(item_out "$B1_AVAIL1")" MemAvailable)
a2=$(kib "$(item_out "$B1_AVAIL2")" MemAvailable)
q0=$(kib "$(item_out "$B1_RSS0")" VmRSS); q1=$(kib "$(item_out "$B1_INF")" VmRSS)
echo "boot 1: MemAvailable ${a0} -> ${a1} (balloon 256M) -> ${a2} kB (balloon 0); hvrun RSS ${q0} -> ${q1} kB"
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
# Powerdown: systemd shut the guest down (the console shows it), hvrun exited 0 (above).
tr -d '\r' <"$T/b1.console" | grep -qE 'reboot: Power down|System Power Off' ||
	session_fail "hvctl powerdown: no clean shutdown on the console"

# Boot 2.
SESSION=b2 CMDS=$CMDS2
session_status b2 0
need_ok "free page reporting" "$B2_RSS0" "$B2_FILL" "$B2_RSS1" "$B2_FREE" "$B2_RSS2"
r0=$(kib "$(item_out "$B2_RSS0")" VmRSS); r1=$(kib "$(item_out "$B2_RSS1")" VmRSS); r2=$(kib "$(item_out "$B2_RSS2")" VmRSS)
echo "boot 2: hvrun RSS ${r0} kB, ${r1} kB after the guest filled 400 MiB, ${r2} kB 10 s after it freed them"
[ $((r1 - r0)) -ge $((300 * 1024)) ] || session_fail "filling 400 MiB in the guest raised hvrun's RSS by only $(((r1 - r0) / 1024)) MiB"
[ $((r1 - r2)) -ge $((250 * 1024)) ] || session_fail "free page reporting returned only $(((r1 - r2) / 1024)) MiB"
item_out "$B2_RSS2" | grep -E '"reported_bytes"' | head -n 1
pass "balloon on hvrun: inflate 256 MiB -> guest -$(((a0 - a1) / 1024)) MiB, RSS -$(((q0 - q1) / 1024)) MiB; deflate; powerdown; free page reporting -$(((r1 - r2) / 1024)) MiB ($(kvm_mode))"
