#!/usr/bin/env bash
# net_guest: the Debian guest booted once with two NICs, user-mode networking (libslirp)
# with the teaching guide's SSH port forward and a TAP "patch cord" on a plain Linux
# bridge, hvrun run by a student's account (hvuser, member of group kvm, no capability):
#   ip link add br0 type bridge; ip addr add 203.0.113.129/26 dev br0
#   ip tuntap add mode tap dev tap5 group kvm multi_queue; ip link set tap5 master br0 up
#   hvrun -m 512 -c 2 -k vmlinuz -i initrd.img -d disk.raw \
#         --net user,hostfwd=tcp:5555-:22 -t tap5 -a "root=/dev/vda console=hvc0"
# Each check is reported by name (a failed check does not stop the others; the test
# fails if any did):
#   hvuser      the VMM runs as hvuser in group kvm, with no capability at all
#   user        the first NIC (52:54:00:12:34:56, QEMU's default for it, as hvrun's) asks
#               DHCP (systemd-networkd) and gets 10.0.2.15/24, router 10.0.2.2 (the
#               default route), DNS 10.0.2.3; it pings the gateway; from the lab,
#               "ssh -p 5555 root@localhost" (QEMU's old "-redir tcp:5555::22") reaches
#               the guest's sshd, and 8 MiB go each way with equal sha256
#   bridge      the second NIC (ba:ad:00:ca:fe:05, static 203.0.113.130/26, no route
#               beyond its subnet) has two queue pairs (one per vCPU: the TAP is
#               multi-queue), pings the lab and back, SSH works, 8 MiB each way with
#               equal sha256
#   link        tap5 taken down: the guest sees its carrier go, hvrun runs on; up again:
#               carrier back, ping works; tap5 deleted while the guest runs (last, after
#               everything that needs it): carrier gone, hvrun and the console keep
#               working (the session's last command, and hvrun's exit status 0)
#   tap-errors  before the boot, in the same lab: a TAP that does not exist and no
#               CAP_NET_ADMIN gives one line saying how to create it; a TAP of another
#               group gives one line naming the group
#   tap-create  as root, hvrun creates a TAP that does not exist (up), and removes it
#               when it ends
#   check       hvrun --check as hvuser: tap5 is usable, hvrun cannot create TAPs
# The user-mode and bridge checks do not depend on each other: DHCP's default route goes
# via 10.0.2.2 on the first NIC, the bridge's subnet is configured by hand.  These were
# net_user and net_bridge (two boots, two labs).  HVRUN_TEST_VMM=qemu runs the session's
# checks on QEMU (virtio-net-pci on user-mode networking and the TAP, vhost off); the
# last three are hvrun's own and are skipped there.  Bad --net and --mac values are usage
# errors (tests/integration/cli.sh).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/debian.sh"
. "$(dirname "$0")/lib/net.sh"

debian_image
# hvuser cannot read root's cache: the kernel and initramfs are copied next to the disk.
ORIG_KERNEL=$DEB_KERNEL ORIG_INITRD=$DEB_INITRD
DEB_KERNEL=$SCRATCH/vmlinuz DEB_INITRD=$SCRATCH/initrd.img
SIZE=${HVRUN_NET_SIZE_SMALL:-8M}
UMAC=52:54:00:12:34:56	# the first NIC's default MAC, QEMU's and hvrun's
BMAC=ba:ad:00:ca:fe:05	# tap5's, from the TAP's number

# Both NICs, then the user-mode checks, the bridge's, and last tap5 down, up, deleted.
gcmd G_UIF "$(guest_if $UMAC UIF)"
gcmd G_BIF "$(guest_if $BMAC BIF)"
gcmd G_KEY "$GUEST_SSH_SETUP"
hcmd H_WHO 'ps -o user=,group=,supgrp= -p $VMM_PID; grep -E "^(CapEff|CapPrm|CapInh|CapAmb):" /proc/$VMM_PID/status'
gcmd G_DHCP 'mkdir -p /run/systemd/network && printf "[Match]\nName=%s\n[Network]\nDHCP=ipv4\n" "$UIF" >/run/systemd/network/50-hvtest.network && systemctl start systemd-networkd && /lib/systemd/systemd-networkd-wait-online -i "$UIF" --timeout=120 && ip -4 -br addr show "$UIF" && ip route show default'
gcmd G_LEASE 'cat /run/systemd/netif/leases/*'
gcmd G_UPING 'ping -c 3 -W 10 10.0.2.2'
hcmd H_USSH "ssh $SSH_OPTS -p 5555 root@localhost 'cat /sys/class/net/*/address; hostname'"
SSH_PORT=5555 transfer_cmds U "$SIZE" localhost
gcmd G_BCFG 'ip link set "$BIF" up && ip addr add 203.0.113.130/26 dev "$BIF" && ip -br addr show "$BIF"'
gcmd G_QUEUES 'ls /sys/class/net/$BIF/queues | tr "\n" " "; echo; grep -c "virtio.*-input" /proc/interrupts'
gcmd G_BPING 'ping -c 3 -W 10 203.0.113.129'
hcmd H_BPING 'ping -c 3 -W 10 203.0.113.130'
transfer_cmds B "$SIZE" 203.0.113.130
# The host side goes down, then up: the guest's carrier follows (hvrun polls each second).
FIRST_LINK=$((NITEMS + 1))
hcmd H_DOWN 'ip link set tap5 down && sleep 3'
gcmd G_CARRIER0 'cat /sys/class/net/$BIF/carrier; ip -br link show "$BIF"'
hcmd H_UP 'ip link set tap5 up && sleep 3'
gcmd G_CARRIER1 'cat /sys/class/net/$BIF/carrier; ping -c 2 -W 10 203.0.113.129 >/dev/null && echo ping-ok'
# Deleted while the guest runs.
hcmd H_DEL 'ip link del tap5 && sleep 3; ip -br link show tap5 2>&1; kill -0 $VMM_PID && echo vmm-alive'
gcmd G_CARRIER2 'cat /sys/class/net/$BIF/carrier; ping -c 1 -W 2 203.0.113.129 >/dev/null; echo "ping status $?"'

# The user-mode NIC first: it is NIC 0, whose default MAC is 52:54:00:12:34:56.
VMM_NICS=("user,hostfwd=tcp:5555-:22")
if [ "$VMM_KIND" = hvrun ]; then
	VMM="setpriv --reuid=hvuser --regid=hvuser --init-groups $(vmm_cmd 512 2 "root=/dev/vda console=hvc0" "$SCRATCH/disk.raw") -t tap5"
	K=$(printf %q "$DEB_KERNEL"); I=$(printf %q "$DEB_INITRD"); H=$(printf %q "$HVRUN")
	ERRORS="
# No such TAP, no CAP_NET_ADMIN; a TAP of another group.
setpriv --reuid=hvuser --regid=hvuser --init-groups $H -m 256 -k $K -i $I -t tap9 >/dev/null 2>$T/notap.err; echo \$? >$T/notap.rc
groupadd -r netadm; ip tuntap add mode tap dev tap7 group netadm
setpriv --reuid=hvuser --regid=hvuser --init-groups $H -m 256 -k $K -i $I -t tap7 >/dev/null 2>$T/othergroup.err; echo \$? >$T/othergroup.rc
ip tuntap del mode tap dev tap7
# As root, a TAP that does not exist is created (up, owned by hvrun's user), and
# removed when hvrun ends.
$H -m 256 -k $K -i $I -t tapnew3 -a 'console=ttyS0 quiet' >/dev/null 2>$T/create.err & pid=\$!
for i in \$(seq 60); do [ -e /sys/class/net/tapnew3 ] && break; sleep 0.5; done
ip -d -br link show tapnew3 >$T/create.link 2>&1; ip -d link show tapnew3 | grep -o 'tun type tap.*' >>$T/create.link 2>&1
kill -TERM \$pid; wait \$pid; echo \$? >$T/create.rc
ip link show tapnew3 >$T/create.after 2>&1; echo \$? >>$T/create.after
# hvrun --check as the student: tap5 usable, no TAP creation.
setpriv --reuid=hvuser --regid=hvuser --init-groups $H --check >$T/check.out 2>&1"
else
	VMM_NICS+=("tap=tap5,queues=2")
	VMM="setpriv --reuid=hvuser --regid=hvuser --init-groups $(vmm_cmd 512 2 "root=/dev/vda console=hvc0" "$SCRATCH/disk.raw")"
	ERRORS=
fi
cat >"$T/run.sh" <<SCRIPT
set -u
$(net_lab_setup)
ip link add br0 type bridge && ip addr add 203.0.113.129/26 dev br0 && ip link set br0 up
ip tuntap add mode tap dev tap5 group kvm multi_queue && ip link set tap5 master br0 up
cp "$ORIG_KERNEL" "$DEB_KERNEL" && cp "$ORIG_INITRD" "$DEB_INITRD" && chmod a+r "$DEB_KERNEL" "$DEB_INITRD"
chown hvuser "$SCRATCH/disk.raw" && chmod 0600 "$SCRATCH/disk.raw"
ip link set lo up
$ERRORS
$(FINAL_FAST=1 session_cmd session 900 "$VMM")
SCRIPT
SCRATCH_FILES=("$DEB_DISK:disk.raw")
rc=0; LAB_TIMEOUT=1200 debian_run "$T/run.sh" || rc=$?
expect_status 0 "$rc" "the lab script (bridge set-up, the session)"

# need_ran FIRST LAST: items FIRST..LAST of the session all ended (with any status).
need_ran() {
	local n
	for n in $(seq "$1" "$2"); do
		[ -n "$(item_rc "$n")" ] || session_fail "command $n never finished (see HVSESSION above): $(sed -n "${n}p" "$CMDS")"
	done
}

check_hvuser() {
	need_ok "the VMM's credentials" "$H_WHO"
	item_out "$H_WHO" >"$T/who"
	grep -Eq '^hvuser +hvuser +.*kvm' "$T/who" || session_fail "the VMM does not run as hvuser in group kvm: $(tr '\n' ' ' <"$T/who")"
	[ "$(grep -cE '^Cap(Eff|Prm|Inh|Amb):[[:space:]]+0+$' "$T/who")" = 4 ] ||
		session_fail "the VMM has capabilities: $(tr '\n' ' ' <"$T/who")"
	echo "VMM: $(tr -s '\t\n' '  ' <"$T/who")"
}

check_user() {
	need_ok "interface $UMAC" "$G_UIF"
	[ -n "$(item_out "$G_UIF" | head -n 1)" ] || session_fail "no guest interface has MAC $UMAC"
	need_ok "DHCP" "$G_DHCP"
	item_out "$G_DHCP" >"$T/dhcp"
	grep -q '10\.0\.2\.15/24' "$T/dhcp" || session_fail "DHCP did not give 10.0.2.15/24: $(tr '\n' ' ' <"$T/dhcp")"
	grep -q "^default via 10\.0\.2\.2 dev $(item_out "$G_UIF" | head -n 1) " "$T/dhcp" ||
		session_fail "no default route via 10.0.2.2 on the user-mode NIC: $(tr '\n' ' ' <"$T/dhcp")"
	item_out "$G_LEASE" >"$T/lease"
	grep -qx 'DNS=10.0.2.3' "$T/lease" || session_fail "the lease's DNS is not 10.0.2.3: $(tr '\n' ' ' <"$T/lease")"
	grep -qx 'ROUTER=10.0.2.2' "$T/lease" || session_fail "the lease's router is not 10.0.2.2: $(tr '\n' ' ' <"$T/lease")"
	echo "guest: $(grep -E '^(ADDRESS|ROUTER|DNS|SERVER_ADDRESS)=' "$T/lease" | tr '\n' ' ')"
	need_ok "ping the gateway" "$G_UPING"
	need_ok "ssh -p 5555 root@localhost" "$G_KEY" "$H_USSH"
	item_out "$H_USSH" | grep -qx "$UMAC" || session_fail "ssh -p 5555 reached a machine whose MACs are $(item_out "$H_USSH" | tr '\n' ' ')"
	transfer_check U "$SIZE over the port forward"
	echo "user-mode networking: DHCP 10.0.2.15 via 10.0.2.2, DNS 10.0.2.3, ping, ssh -p 5555 root@localhost, $SIZE each way"
}

check_bridge() {
	need_ok "interface $BMAC" "$G_BIF" "$G_BCFG" "$G_KEY"
	[ -n "$(item_out "$G_BIF" | head -n 1)" ] || session_fail "no guest interface has MAC $BMAC"
	need_ok "ping guest -> lab" "$G_BPING"
	need_ok "ping lab -> guest" "$H_BPING"
	transfer_check B "$SIZE over SSH"
	item_out "$G_QUEUES" >"$T/queues"
	[ "$(head -n 1 "$T/queues")" = "rx-0 rx-1 tx-0 tx-1 " ] ||
		session_fail "the guest does not use two queue pairs: $(tr '\n' ' ' <"$T/queues")"
	echo "guest queues: $(head -n 1 "$T/queues")"
	echo "Linux bridge br0, tap5 (group kvm): ping both ways, SSH, $SIZE each way, two queue pairs"
}

check_link() {
	need_ok "tap5 down" "$H_DOWN"
	[ "$(item_out "$G_CARRIER0" | head -n 1)" = 0 ] || session_fail "tap5 down: the guest's carrier is '$(item_out "$G_CARRIER0" | head -n 1)', expected 0"
	need_ok "tap5 up" "$H_UP"
	item_out "$G_CARRIER1" >"$T/c1"
	[ "$(head -n 1 "$T/c1")" = 1 ] || session_fail "tap5 up again: the guest's carrier is '$(head -n 1 "$T/c1")', expected 1"
	grep -qx ping-ok "$T/c1" || session_fail "tap5 up again: the guest cannot ping the lab"
	need_ran "$FIRST_LINK" "$NITEMS"
	item_out "$H_DEL" >"$T/del"
	grep -qx vmm-alive "$T/del" || session_fail "tap5 deleted: the VMM died: $(tr '\n' ' ' <"$T/del")"
	[ "$(item_out "$G_CARRIER2" | head -n 1)" = 0 ] || session_fail "tap5 deleted: the guest's carrier is '$(item_out "$G_CARRIER2" | head -n 1)', expected 0"
	echo "tap5 down, up, deleted: the guest's carrier followed; after the deletion the console answered and hvrun exited 0"
}

check_tap_errors() {
	cp "$T/notap.err" "$T/err"; : >"$T/out"
	expect_status 1 "$(cat "$T/notap.rc")" "hvrun -t tap9 (no such TAP) as hvuser"
	expect_lines err 1
	expect_in err "ip tuntap add mode tap dev tap9 group kvm"
	echo "no TAP: $(cat "$T/err")"
	cp "$T/othergroup.err" "$T/err"
	expect_status 1 "$(cat "$T/othergroup.rc")" "hvrun -t tap7 (group netadm) as hvuser"
	expect_lines err 1
	expect_in err "netadm"
	echo "other group: $(cat "$T/err")"
}

check_tap_create() {
	cp "$T/create.err" "$T/err"; cp "$T/create.link" "$T/out"
	expect_status 0 "$(cat "$T/create.rc")" "hvrun -t tapnew3 (created by hvrun), stopped by SIGTERM"
	grep -q '^tapnew3 .*UP' "$T/out" || fail "the TAP hvrun created is not up: $(tr '\n' ' ' <"$T/out")"
	[ "$(tail -n 1 "$T/create.after")" != 0 ] || fail "tapnew3 still exists after hvrun ended: $(cat "$T/create.after")"
	echo "created TAP: $(tr -s ' \n' ' ' <"$T/out")"
}

check_check() {
	cp "$T/check.out" "$T/out"; : >"$T/err"
	grep -q "^\[ ok \] TAP tap5: owner none, group kvm, up.*; this user may attach it" "$T/out" ||
		fail "hvrun --check as hvuser does not say that tap5 is usable"
	expect_in out "hvrun cannot create TAPs (no CAP_NET_ADMIN)"
	echo "hvrun --check as hvuser: $(grep 'TAP tap5' "$T/out")"
}

# The session ended as it should (the VMM's status 0 after "poweroff -f"): else each of
# its checks fails with the reason.  The hvrun-only checks ran before the session.
s_ok=1
(session_status session 0) || s_ok=0
checks=(hvuser user bridge link)
[ "$VMM_KIND" = hvrun ] && checks+=(tap-errors tap-create check)
for c in "${checks[@]}"; do
	if [[ $c == @(hvuser|user|bridge|link) ]] && [ $s_ok = 0 ]; then
		check_result "$c" 1
		continue
	fi
	rc=0; (check_"${c//-/_}") || rc=$?
	check_result "$c" $rc
done
checks_end "user-mode networking and a Linux bridge's TAP on $VMM_KIND as hvuser, one boot ($(kvm_mode))"
