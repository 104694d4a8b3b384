#!/usr/bin/env bash
# debian_io: the Debian 12 guest (tests/guests/mkdebian.sh) run by root with a TAP on Open
# vSwitch and six data disks, one boot for the network and the disk checks that need a
# real distribution; each check is reported by name (a failed check does not stop the
# others; the test fails if any did).  In the lab:
#   ovs-vsctl add-br sw0                      (datapath_type=netdev: the userspace datapath)
#   ovs-vsctl add-port sw0 sw0-vlan2 tag=2 -- set interface sw0-vlan2 type=internal
#   ip addr add 203.0.113.129/26 dev sw0-vlan2
#   ip tuntap add mode tap dev tap2 group kvm; ovs-vsctl add-port sw0 tap2 tag=2
#   hvrun -m 512 -c 2 -k vmlinuz -i initrd.img -a "root=/dev/vda console=hvc0" -t tap2
#     -d disk.raw -d data.raw,serial=data -d trim.raw,serial=trim
#     -d ro.raw,ro,serial=rodisk -d SMALLFS/full.raw,serial=full[,cache=writeback]
#     -d kill.raw,serial=kill -d killwb.raw,cache=writeback,serial=killwb
# The checks:
#   ovs    the teaching guide's OVS topology: hvrun, started as root, holds no capability
#          once set up (CapEff 0, NoNewPrivs 1) and the network works.  The guest (MAC
#          ba:ad:00:ca:fe:02, from the TAP's number) takes 203.0.113.130/26 with a
#          default route via .129; ping both ways, ping its IPv6 link-local address
#          (fe80::b8ad:ff:feca:fe02%sw0-vlan2), SSH over that address, 8 MiB each way
#          over SSH with equal sha256; the negotiated offloads; then tap2 moves to VLAN 3
#          and the guest can no longer reach 203.0.113.129 (nor the lab the guest)
#   data   O_DIRECT, buffered and 512-byte-granular writes to vdb, read back in the
#          guest; after the VMM is gone the same bytes are in data.raw at the same offsets
#   trim   ext4 on vdc, a 64 MB file written, removed, fstrim: the image's allocation
#          (du) falls by >= 48 MB
#   ro     vdd is read-only in the guest, a write fails, the VMM keeps running, reads
#          give the image's bytes, the image is unchanged
#   full   vde's file lies on a 32 MB file system (a loop-mounted ext4, or a tmpfs with
#          cache=writeback where there is no loop driver): writing past the free space
#          gives the guest I/O errors, the VMM keeps running, the console answers, the
#          disk still reads
#   kill   last, dd conv=fsync to vdf and vdg, then kill -9 of the VMM: the flushed data
#          is in both images (and data's in data.raw: sync flushed it too)
# These were net_ovs and debian_blk_data (two labs, two boots).  HVRUN_TEST_VMM=qemu runs
# the same on QEMU (virtio-net-pci on the TAP, vhost off; see lib/debian.sh).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/debian.sh"
. "$(dirname "$0")/lib/net.sh"

debian_image
S=$SCRATCH
APPEND="root=/dev/vda console=hvc0"
LAB_CACHE=${HVRUN_LAB_CACHE:-$HOME/.cache/hvrun-lab}
MAC=ba:ad:00:ca:fe:02
LL=fe80::b8ad:ff:feca:fe02	# EUI-64 of the MAC: b8 = ba with the U/L bit flipped
SIZE=${HVRUN_NET_SIZE:-8M}

hash_of() {	# hash_of FILE KEY: the value of "KEY VALUE" in $T/FILE
	sed -n "s/^$2 //p" "$T/$1" | head -n 1
}
ran() {		# ran PART N...: items N... of session $SESSION ran to their end (any status)
	local part=$1 n
	shift
	for n in "$@"; do
		[ -n "$(item_rc "$n")" ] || session_fail "$part command $n never finished (the session ended early: see HVSESSION above): $(sed -n "${n}p" "$CMDS")"
	done
}
sha() {		# sha TEXT: the 64-hex-digit hash at the start of TEXT
	grep -oE '^[0-9a-f]{64}' <<<"$1" | head -n 1
}

# ---------------------------------------------------------------------------
# The session: the disks' serials, the network, then the disks; kill -9 last.
# ---------------------------------------------------------------------------
new_session s1
gcmd G_SERIALS 'for d in vdb vdc vdd vde vdf vdg; do echo "$d $(cat /sys/block/$d/serial)"; done'

# ovs
gcmd G_IF "$(guest_if $MAC)"
gcmd G_CFG 'ip link set "$IF" up && ip addr add 203.0.113.130/26 dev "$IF" && ip route add default via 203.0.113.129 && ip -br addr show "$IF"'
gcmd G_FEAT 'cat /sys/class/net/$IF/device/features; readlink /sys/class/net/$IF/device/driver'
gcmd G_KEY "$GUEST_SSH_SETUP"
gcmd G_PING 'ping -c 3 -W 10 203.0.113.129'
hcmd H_PING 'ping -c 3 -W 10 203.0.113.130'
hcmd H_PING6 "ping -6 -c 3 -W 10 $LL%sw0-vlan2"
hcmd H_NEI 'ip -6 neigh show dev sw0-vlan2'
hcmd H_CAPS 'grep -E "^(Uid|CapEff|CapPrm|CapBnd|NoNewPrivs):" /proc/$VMM_PID/status'
if [ -n "${HVRUN_NET_DEBUG:-}" ]; then
	gcmd G_DBG1 'ss -ltn; systemctl is-active ssh.socket; grep -A1 "^Tcp:" /proc/net/snmp; ethtool -k "$IF" 2>/dev/null | grep -E "checksum|segmentation" | head'
	hcmd H_DBG1 "ethtool -k sw0-vlan2 | grep -E 'checksum|segmentation' | head -4; (timeout 20 tcpdump -c 6 -nvvi tap2 tcp port 22 2>&1 &) ; sleep 2; timeout 10 ssh $SSH_OPTS root@203.0.113.130 true; sleep 9"
	gcmd G_DBG2 'grep -A1 "^Tcp:" /proc/net/snmp; ip -s link show "$IF"'
fi
hcmd H_SSH "ssh $SSH_OPTS root@$LL%sw0-vlan2 'cat /sys/class/net/*/address; uname -r'"
transfer_cmds X "$SIZE" 203.0.113.130
gcmd G_STATS 'ip -s link show "$IF"'
# VLAN 3: the same guest's port is re-tagged; the lab's VLAN 2 address is out of reach.
hcmd H_VLAN3 'ovs-vsctl --timeout=60 set port tap2 tag=3 && ovs-vsctl --timeout=60 get port tap2 tag'
gcmd G_PING3 'ip neigh flush dev "$IF"; ping -c 3 -W 2 203.0.113.129; echo "ping status $?"'
hcmd H_PING3 'ip neigh flush dev sw0-vlan2; ping -c 2 -W 2 203.0.113.130; echo "ping status $?"'

# data, trim, ro, full, kill
# (a) A 4 MiB random pattern, written three ways to vdb: O_DIRECT at 1 MiB,
# buffered (page cache, then sync) at 16 MiB, and O_DIRECT in 512-byte sectors at
# sector 65537 (not 4 KiB aligned, 1001 sectors: the first 512,512 bytes).
part_a_guest() {
	gcmd A_PAT 'head -c 4M /dev/urandom >/root/pat && sha256sum </root/pat && head -c 512512 /root/pat | sha256sum'
	gcmd A_DIRECT 'dd if=/root/pat of=/dev/vdb bs=1M seek=1 oflag=direct conv=notrunc status=none'
	gcmd A_BUF 'dd if=/root/pat of=/dev/vdb bs=64k seek=256 conv=notrunc status=none && sync'
	gcmd A_ODD 'dd if=/root/pat of=/dev/vdb bs=512 seek=65537 count=1001 oflag=direct conv=notrunc status=none'
	gcmd A_DROP 'sync && echo 3 >/proc/sys/vm/drop_caches'
	gcmd A_READ 'dd if=/dev/vdb bs=1M skip=1 count=4 iflag=direct status=none | sha256sum; dd if=/dev/vdb bs=64k skip=256 count=64 status=none | sha256sum; dd if=/dev/vdb bs=512 skip=65537 count=1001 iflag=direct status=none | sha256sum'
}
part_a_host() {	# lab-side lines, after the VMM is gone
	cat <<-EOF
		echo "a_direct \$(dd if=$S/data.raw bs=1M skip=1 count=4 status=none | sha256sum)"
		echo "a_buf \$(dd if=$S/data.raw bs=64k skip=256 count=64 status=none | sha256sum)"
		echo "a_odd \$(dd if=$S/data.raw bs=512 skip=65537 count=1001 status=none | sha256sum)"
	EOF
}
part_a_check() {
	local pat odd r n what
	SESSION=s1
	need_ok "(a)" "$A_PAT" "$A_DIRECT" "$A_BUF" "$A_ODD" "$A_DROP" "$A_READ"
	pat=$(sha "$(item_out "$A_PAT" | sed -n 1p)")
	odd=$(sha "$(item_out "$A_PAT" | sed -n 2p)")
	[ -n "$pat" ] && [ -n "$odd" ] || session_fail "(a) no pattern hash from the guest"
	item_out "$A_READ" >"$T/a_read"
	for what in 1:direct:"$pat" 2:buffered:"$pat" 3:512-byte:"$odd"; do
		IFS=: read -r n w h <<<"$what"
		r=$(sha "$(sed -n "${n}p" "$T/a_read")")
		[ "$r" = "$h" ] || session_fail "(a) the guest read back different bytes from the $w write (sha256 $r, wrote $h)"
	done
	for what in a_direct:"$pat" a_buf:"$pat" a_odd:"$odd"; do
		r=$(sha "$(hash_of host1 "${what%%:*}")")
		[ "$r" = "${what#*:}" ] ||
			fail "(a) after the VMM was gone, data.raw does not hold what the guest wrote (${what%%:*}: sha256 ${r:-?}, guest wrote ${what#*:})"
	done
	echo "(a) data: O_DIRECT, buffered and 512-byte writes read back identical, in the guest and in data.raw"
}

# (c) ext4 on vdc; du of trim.raw (lab side, the VMM running) before, after writing
# 64 MB, after rm + fstrim.
part_c_guest() {
	gcmd C_MKFS 'mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 /dev/vdc && mkdir -p /mnt/trim && mount /dev/vdc /mnt/trim && sync'
	hcmd C_DU0 "du -k $S/trim.raw | cut -f1"
	gcmd C_WRITE 'yes hvrun-trim-test-data | head -c 64M >/mnt/trim/f && sync && ls -l /mnt/trim/f'
	hcmd C_DU1 "du -k $S/trim.raw | cut -f1"
	gcmd C_TRIM 'rm /mnt/trim/f && sync && fstrim -v /mnt/trim'
	hcmd C_DU2 "du -k $S/trim.raw | cut -f1"
	gcmd C_UMOUNT 'umount /mnt/trim'
}
part_c_check() {
	local n du0 du1 du2
	SESSION=s1
	need_ok "(c)" "$C_MKFS" "$C_DU0" "$C_WRITE" "$C_DU1"
	ran "(c)" "$C_TRIM"
	[ "$(item_rc "$C_TRIM")" = 0 ] || session_fail "(c) fstrim failed (status $(item_rc "$C_TRIM")): $(item_out "$C_TRIM" | tail -n 3)"
	need_ok "(c)" "$C_DU2"
	du0=$(item_out "$C_DU0"); du1=$(item_out "$C_DU1"); du2=$(item_out "$C_DU2")
	[[ $du0 =~ ^[0-9]+$ && $du1 =~ ^[0-9]+$ && $du2 =~ ^[0-9]+$ ]] || session_fail "(c) no du figures: '$du0' '$du1' '$du2'"
	echo "(c) trim.raw allocated: ${du0} KiB after mkfs, ${du1} KiB with the 64 MB file, ${du2} KiB after rm + fstrim; guest: $(item_out "$C_TRIM" | tail -n 1)"
	[ $((du1 - du0)) -ge $((60 * 1024)) ] || fail "(c) writing 64 MB grew trim.raw by only $((du1 - du0)) KiB"
	[ $((du1 - du2)) -ge $((48 * 1024)) ] ||
		fail "(c) fstrim freed only $((du1 - du2)) KiB of trim.raw (${du1} -> ${du2} KiB), expected >= 48 MB: discard does not punch holes"
}

# (d) ro.raw: 16 MiB of random bytes, read-only.
part_d_guest() {
	gcmd D_RO 'cat /sys/block/vdd/ro; blockdev --getro /dev/vdd'
	gcmd D_WRITE 'dd if=/dev/zero of=/dev/vdd bs=4k count=1 oflag=direct 2>&1'
	gcmd D_NEXT 'echo next-$((6*7))'
	hcmd D_VMM 'kill -0 $VMM_PID && echo vmm-running'
	gcmd D_READ 'dd if=/dev/vdd bs=1M iflag=direct status=none | sha256sum'
}
part_d_check() {
	local ro out before after guest
	SESSION=s1
	ran "(d)" "$D_RO" "$D_WRITE" "$D_NEXT" "$D_VMM" "$D_READ"
	ro=$(item_out "$D_RO" | tr '\n' ' ')
	[ "$ro" = "1 1 " ] || session_fail "(d) vdd (ro) is not read-only in the guest: /sys/block/vdd/ro and getro say '$ro'"
	out=$(item_out "$D_WRITE" | head -n 1)
	[ "$(item_rc "$D_WRITE")" != 0 ] || session_fail "(d) a write to the read-only disk succeeded: $out"
	grep -Eq 'Read-only file system|Operation not permitted|Permission denied|Input/output error' <<<"$out" ||
		session_fail "(d) the write to the read-only disk failed, but not with a read-only or I/O error: $out"
	[ "$(item_out "$D_NEXT")" = next-42 ] || session_fail "(d) the console did not answer after the refused write"
	[ "$(item_out "$D_VMM")" = vmm-running ] || session_fail "(d) the VMM is gone after the refused write"
	before=$(sha "$(hash_of host0 ro_before)"); after=$(sha "$(hash_of host1 ro_after)")
	guest=$(sha "$(item_out "$D_READ")")
	[ -n "$before" ] && [ "$guest" = "$before" ] || session_fail "(d) the guest read other bytes from ro.raw (sha256 $guest, file $before)"
	[ "$after" = "$before" ] || fail "(d) ro.raw changed (sha256 $before -> $after)"
	echo "(d) ro: read-only in the guest, write refused ($out), VMM running, reads right, image unchanged"
}

# (e) full.raw: 128 MiB apparent, on a 32 MB file system.
part_e_guest() {
	gcmd E_WRITE 'yes hvrun-enospc-test | dd of=/dev/vde bs=1M count=64 iflag=fullblock oflag=direct 2>&1'
	gcmd E_DMESG 'dmesg | grep -c "I/O error, dev vde"; dmesg | grep vde | tail -n 2'
	gcmd E_ALIVE 'echo alive-$((6*7))'
	hcmd E_VMM 'kill -0 $VMM_PID && echo vmm-running; df -k '"$S"'/small | tail -n 1'
	gcmd E_READ 'dd if=/dev/vde bs=1M count=4 iflag=direct status=none | wc -c'
}
part_e_check() {
	local out nerr
	SESSION=s1
	ran "(e)" "$E_WRITE" "$E_DMESG" "$E_ALIVE" "$E_VMM" "$E_READ"
	out=$(item_out "$E_WRITE" | tr '\n' ' ')
	[ "$(item_rc "$E_WRITE")" != 0 ] || session_fail "(e) writing 64 MB to a disk on a 32 MB file system succeeded: $out"
	grep -q 'Input/output error\|No space left' <<<"$out" || session_fail "(e) the write failed, but not with an I/O error: $out"
	nerr=$(item_out "$E_DMESG" | head -n 1)
	[[ $nerr =~ ^[0-9]+$ ]] && [ "$nerr" -ge 1 ] || session_fail "(e) the guest kernel logged no 'I/O error, dev vde': $(item_out "$E_DMESG" | tr '\n' ' ')"
	[ "$(item_out "$E_ALIVE")" = alive-42 ] || session_fail "(e) the console did not answer after the write errors"
	item_out "$E_VMM" | grep -qx vmm-running || session_fail "(e) the VMM is gone after the write errors"
	[ "$(item_out "$E_READ")" = 4194304 ] || session_fail "(e) reading vde after the errors gave '$(item_out "$E_READ")' bytes, expected 4194304"
	echo "(e) full ($(cat "$T/smallfs")): guest saw $nerr I/O error(s) ($(grep -o 'dd: error.*' <<<"$out" | sed 's/ [0-9]*+[0-9]* records in.*//')), VMM running, console answers, reads work; lab fs: $(item_out "$E_VMM" | tail -n 1)"
}

# (b), last: the VMM is killed.
part_b_guest() {
	gcmd B_PAT 'head -c 4M /dev/urandom >/root/pat2 && sha256sum </root/pat2'
	gcmd B_WRITE 'dd if=/root/pat2 of=/dev/vdf bs=1M seek=8 conv=fsync,notrunc status=none && dd if=/root/pat2 of=/dev/vdg bs=1M seek=8 conv=fsync,notrunc status=none'
	hcmd B_KILL 'kill -9 $VMM_PID && echo killed'
	gcmd B_NEVER 'echo this-must-not-run'
}
part_b_host() {
	cat <<-EOF
		echo "b_kill \$(dd if=$S/kill.raw bs=1M skip=8 count=4 status=none | sha256sum)"
		echo "b_killwb \$(dd if=$S/killwb.raw bs=1M skip=8 count=4 status=none | sha256sum)"
	EOF
}
part_b_check() {
	local pat r f
	SESSION=s1
	need_ok "(b)" "$B_PAT" "$B_WRITE"
	ran "(b)" "$B_KILL"
	[ "$(item_out "$B_KILL")" = killed ] || session_fail "(b) kill -9 of the VMM failed: $(item_out "$B_KILL")"
	[ -z "$(item_rc "$B_NEVER")" ] || session_fail "(b) the guest still ran a command after kill -9 of the VMM"
	pat=$(sha "$(item_out "$B_PAT")")
	for f in kill:cache=none killwb:cache=writeback; do
		r=$(sha "$(hash_of host1 "b_${f%%:*}")")
		[ -n "$pat" ] && [ "$r" = "$pat" ] ||
			fail "(b) after dd conv=fsync and kill -9, ${f%%:*}.raw (${f#*:}) does not hold the data (sha256 ${r:-?}, guest wrote ${pat:-?})"
	done
	session_status s1 137 >/dev/null
	echo "(b) kill: data flushed with conv=fsync survived kill -9 of the VMM (cache=none and cache=writeback)"
}
check_ovs() {
	SESSION=s1
	need_ok "interface" "$G_IF" "$G_CFG" "$G_KEY"
	IFNAME=$(item_out "$G_IF" | head -n 1)
	[ -n "$IFNAME" ] || session_fail "no guest interface has MAC $MAC: the MAC is not ba:ad:00:ca:fe:02"
	echo "guest interface $IFNAME: $(item_out "$G_CFG" | tr -s ' ' | head -n 1)"
	need_ok "ping guest -> 203.0.113.129" "$G_PING"
	need_ok "ping lab -> 203.0.113.130" "$H_PING"
	need_ok "ping -6 lab -> $LL%sw0-vlan2" "$H_PING6"
	item_out "$H_PING6" | grep -q ' 0% packet loss' || session_fail "IPv6 link-local ping lost packets: $(item_out "$H_PING6" | tail -n 2 | tr '\n' ' ')"

	# The guide's check: the lab's neighbour table has the guest's link-local address.
	item_out "$H_NEI" | grep -q "^$LL lladdr $MAC" ||
		session_fail "ip -6 neigh on sw0-vlan2 lacks $LL lladdr $MAC: $(item_out "$H_NEI" | tr '\n' '|')"

	# The privilege drop: nothing left while the guest runs (hvrun only; QEMU keeps root's).
	item_out "$H_CAPS" >"$T/caps"
	if [ "$VMM_KIND" = hvrun ]; then
		need_ok "privileges" "$H_CAPS"
		grep -Eq '^CapEff:[[:space:]]+0+$' "$T/caps" || session_fail "hvrun still has capabilities: $(tr '\n' ' ' <"$T/caps")"
		grep -Eq '^CapPrm:[[:space:]]+0+$' "$T/caps" || session_fail "hvrun still has permitted capabilities: $(tr '\n' ' ' <"$T/caps")"
		grep -Eq '^NoNewPrivs:[[:space:]]+1$' "$T/caps" || session_fail "no_new_privs is not set: $(tr '\n' ' ' <"$T/caps")"
	fi
	echo "VMM: $(tr -s '\t\n' '  ' <"$T/caps")"

	need_ok "ssh over $LL%sw0-vlan2" "$H_SSH"
	item_out "$H_SSH" | grep -qx "$MAC" || session_fail "ssh over the link-local address: the guest's MACs are $(item_out "$H_SSH" | tr '\n' ' ')"
	transfer_check X "$SIZE over SSH"
	echo "guest features: $(item_out "$G_FEAT" | head -n 1)"
	echo "guest counters: $(item_out "$G_STATS" | sed -n '4p;6p' | tr -s ' ' | tr '\n' '|')"

	# VLAN 3: both pings must fail.
	need_ok "re-tag tap2" "$H_VLAN3"
	[ "$(item_out "$H_VLAN3")" = 3 ] || session_fail "tap2's tag is '$(item_out "$H_VLAN3")', expected 3"
	item_out "$G_PING3" | grep -qx 'ping status 0' && session_fail "on VLAN 3 the guest still reaches 203.0.113.129"
	item_out "$G_PING3" | grep -q 'ping status' || session_fail "the VLAN 3 ping never ended"
	item_out "$H_PING3" | grep -qx 'ping status 0' && session_fail "on VLAN 3 the lab still reaches the guest"
	echo "OVS sw0, tap2 tag=2 on $VMM_KIND: MAC $MAC, ping both ways, IPv6 link-local, SSH, $SIZE each way, no capabilities; VLAN 3 isolated"
}
part_a_guest
part_c_guest
part_d_guest
part_e_guest
part_b_guest

# ---------------------------------------------------------------------------
# The lab script: OVS, the images, the session, lab-side reads after it.
# ---------------------------------------------------------------------------
# The full disk's cache mode is decided in the lab: none on a loop-mounted ext4,
# writeback on a tmpfs (no O_DIRECT there).  hvrun takes the card's short form, -t tap2.
DISKS=("$S/disk.raw" "$S/data.raw,serial=data" "$S/trim.raw,serial=trim" "$S/ro.raw,ro,serial=rodisk")
KILL=("$S/kill.raw,serial=kill" "$S/killwb.raw,cache=writeback,serial=killwb")
[ "$VMM_KIND" = hvrun ] || VMM_NICS=(tap=tap2)
vmm() {		# vmm FULL-DISK-OPTIONS
	vmm_cmd 512 2 "$APPEND" "${DISKS[@]}" "$S/small/full.raw,serial=full$1" "${KILL[@]}"
	[ "$VMM_KIND" = hvrun ] && printf -- '-t tap2'
}
SESSION_NONE=$(session_cmd s1 900 "$(vmm "")")
SESSION_WB=$(session_cmd s1 900 "$(vmm ",cache=writeback")")

cat >"$T/run.sh" <<SCRIPT
set -u
$(net_lab_setup)
$(net_ovs_start)
vsctl add-br sw0 -- set bridge sw0 datapath_type=netdev
vsctl add-port sw0 sw0-vlan2 tag=2 -- set interface sw0-vlan2 type=internal
ip link set sw0 up && ip link set sw0-vlan2 up
ip addr add 203.0.113.129/26 dev sw0-vlan2
# The userspace datapath reads sw0-vlan2's frames as they are: the lab's TCP must not
# leave their checksums to a "hardware" that does not exist there.
ethtool -K sw0-vlan2 tx off >/dev/null
ip tuntap add mode tap dev tap2 group kvm && ip link set tap2 up
vsctl add-port sw0 tap2 tag=2
vsctl show >"$T/ovs-show.txt"
cd "$S" || exit 90
: >"$T/times"
truncate -s 1G data.raw kill.raw killwb.raw
truncate -s 256M trim.raw
head -c 16M /dev/urandom >ro.raw
# (e): a 32 MB file system for full.raw: ext4 on a loop device (the lab kernel's
# loop module lives in the lab's kernel cache), else a tmpfs (no O_DIRECT there).
mkdir -p small
if ! [ -e /dev/loop-control ]; then
	modprobe loop 2>/dev/null || insmod "$LAB_CACHE/kernel-\$(uname -r)/lib/modules/\$(uname -r)/kernel/drivers/block/loop.ko" 2>/dev/null
fi
truncate -s 32M small.img && mkfs.ext4 -q -F small.img &&
	[ -e /dev/loop-control ] && mount -o loop small.img small 2>/dev/null
if mountpoint -q small; then
	SMALL_CACHE=none; echo "ext4 on a loop device, cache=none" >"$T/smallfs"
else
	mount -t tmpfs -o size=32m tmpfs small || { echo "cannot mount a small file system" >&2; exit 91; }
	SMALL_CACHE=writeback; echo "tmpfs, cache=writeback" >"$T/smallfs"
fi
truncate -s 128M small/full.raw
echo "ro_before \$(sha256sum <ro.raw)" >"$T/host0"

t0=\$(date +%s)
if [ "\$SMALL_CACHE" = none ]; then
	$SESSION_NONE
else
	$SESSION_WB
fi
echo "session \$(( \$(date +%s) - t0 )) s" >>"$T/times"
{
$(part_a_host)
$(part_b_host)
	echo "ro_after \$(sha256sum <ro.raw)"
} >"$T/host1"
umount small
cp /var/log/openvswitch/ovs-vswitchd.log "$T/ovs-vswitchd.log" 2>/dev/null
SCRIPT
SCRATCH_FILES=("$DEB_DISK:disk.raw")
for try in 1 2; do
	rc=0; LAB_TIMEOUT=${LAB_TIMEOUT:-1200} debian_run "$T/run.sh" || rc=$?
	[ "$rc" = "$OVS_SETUP_FAILED" ] || break
	# Open vSwitch, not hvrun (no VMM had started): once more, saying so.
	echo "OVS SET-UP FAILED (debian_io, try $try): Open vSwitch did not answer in the lab:" >&2
	tail -n 35 "$T/err" >&2
done
[ "$rc" = "$OVS_SETUP_FAILED" ] && fail "Open vSwitch did not set up in the lab, twice (before any VMM ran)"
expect_status 0 "$rc" "the lab script (OVS set-up, images, the session)"
tr '\n' ' ' <"$T/times"; echo

SESSION=s1
grep '^HVSESSION' "$T/s1.out" | sed 's/^/s1: /'
# Every disk is where the checks expect it: else none of the disk checks means anything.
disks_ok=1
if [ -z "$(item_rc "$G_SERIALS")" ] ||
	! item_out "$G_SERIALS" | tr '\n' ' ' | grep -q '^vdb data vdc trim vdd rodisk vde full vdf kill vdg killwb $'; then
	echo "the guest's disks are not vdb..vdg = data, trim, rodisk, full, kill, killwb: $(item_out "$G_SERIALS" | tr '\n' ' ')" >&2
	disks_ok=0
fi
for c in ovs data trim ro full kill; do
	case $c in
	ovs) f=check_ovs ;;
	data) f=part_a_check ;;
	trim) f=part_c_check ;;
	ro) f=part_d_check ;;
	full) f=part_e_check ;;
	kill) f=part_b_check ;;
	esac
	if [ $c != ovs ] && [ $disks_ok = 0 ]; then
		check_result $c 1
		continue
	fi
	rc=0; ($f) || rc=$?
	check_result $c $rc
done
checks_end "the Debian guest as root: OVS networking, virtio-blk data integrity (O_DIRECT/buffered/512 B), fstrim, read-only, ENOSPC, kill -9 after fsync on $VMM_KIND, one boot ($(kvm_mode))"
