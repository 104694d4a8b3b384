#!/usr/bin/env bash
# net_ovs: the teaching guide's Open vSwitch topology, end to end, in the lab.
#   ovs-vsctl add-br sw0                      (datapath_type=netdev: the userspace datapath)
#   ovs-vsctl add-port sw0 sw0-vlan2 tag=2 -- set interface sw0-vlan2 type=internal
#   ip addr add 203.0.113.129/26 dev sw0-vlan2
#   ip tuntap add mode tap dev tap2 group kvm; ovs-vsctl add-port sw0 tap2 tag=2
#   hvrun -m 512 -c 2 -k vmlinuz -i initrd.img -d disk.raw -t tap2 -a "root=/dev/vda console=hvc0"
# hvrun runs as root: once set up it holds no capability (CapEff 0, NoNewPrivs 1) and the
# network works.  The guest (MAC ba:ad:00:ca:fe:02, from the TAP's number) takes
# 203.0.113.130/26 with a default route via .129; then: ping both ways, ping its IPv6
# link-local address (fe80::b8ad:ff:feca:fe02%sw0-vlan2), SSH over that address, 8 MiB
# each way over SSH with equal sha256; the negotiated offloads; finally tap2 moves to
# VLAN 3 and the guest can no longer reach 203.0.113.129 (nor the lab the guest).
# HVRUN_TEST_VMM=qemu runs the same on QEMU (virtio-net-pci on the TAP, vhost off).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/debian.sh"
. "$(dirname "$0")/lib/net.sh"

debian_image
MAC=ba:ad:00:ca:fe:02
LL=fe80::b8ad:ff:feca:fe02	# EUI-64 of the MAC: b8 = ba with the U/L bit flipped
SIZE=${HVRUN_NET_SIZE:-8M}

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

# hvrun: the card's short form, -t tap2.
if [ "$VMM_KIND" = hvrun ]; then
	VMM="$(vmm_cmd 512 2 "root=/dev/vda console=hvc0" "$SCRATCH/disk.raw") -t tap2"
else
	VMM_NICS=(tap=tap2)
	VMM=$(vmm_cmd 512 2 "root=/dev/vda console=hvc0" "$SCRATCH/disk.raw")
fi
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
$(FINAL_FAST=1 session_cmd session 720 "$VMM")
cp /var/log/openvswitch/ovs-vswitchd.log "$T/ovs-vswitchd.log" 2>/dev/null
SCRIPT
SCRATCH_FILES=("$DEB_DISK:disk.raw")
for try in 1 2; do
	rc=0; LAB_TIMEOUT=900 debian_run "$T/run.sh" || rc=$?
	[ "$rc" = "$OVS_SETUP_FAILED" ] || break
	# Open vSwitch, not hvrun (no VMM had started): once more, saying so.
	echo "OVS SET-UP FAILED (net_ovs, try $try): Open vSwitch did not answer in the lab:" >&2
	tail -n 35 "$T/err" >&2
done
[ "$rc" = "$OVS_SETUP_FAILED" ] && fail "Open vSwitch did not set up in the lab, twice (before any VMM ran)"
expect_status 0 "$rc" "the lab script (OVS set-up, the session)"
session_status session 0

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
pass "OVS sw0, tap2 tag=2 on $VMM_KIND: MAC $MAC, ping both ways, IPv6 link-local, SSH, $SIZE each way, no capabilities; VLAN 3 isolated ($(kvm_mode))"
