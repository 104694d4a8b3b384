#!/usr/bin/env bash
# net_user: user-mode networking (libslirp) with the teaching guide's SSH port forward,
# hvrun run by a student's account (hvuser, group kvm, no capability):
#   hvrun -m 512 -c 2 -k vmlinuz -i initrd.img -d disk.raw \
#         --net user,hostfwd=tcp:5555-:22 -a "root=/dev/vda console=hvc0"
# (QEMU's old "-redir tcp:5555::22").  The guest asks DHCP (systemd-networkd) and gets
# 10.0.2.15/24, router 10.0.2.2, DNS 10.0.2.3; it pings the gateway; from the lab,
# "ssh -p 5555 root@localhost" reaches the guest's sshd, and 8 MiB go each way with
# equal sha256.  Bad --net and --mac values are usage errors (tests/integration/cli.sh).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/debian.sh"
. "$(dirname "$0")/lib/net.sh"

debian_image
ORIG_KERNEL=$DEB_KERNEL ORIG_INITRD=$DEB_INITRD
DEB_KERNEL=$SCRATCH/vmlinuz DEB_INITRD=$SCRATCH/initrd.img
SIZE=${HVRUN_NET_SIZE_SMALL:-8M}
MAC=52:54:00:12:34:56	# QEMU's default for the first user-mode NIC, as hvrun's

gcmd G_IF "$(guest_if $MAC)"
gcmd G_DHCP 'mkdir -p /run/systemd/network && printf "[Match]\nName=%s\n[Network]\nDHCP=ipv4\n" "$IF" >/run/systemd/network/50-hvtest.network && systemctl start systemd-networkd && /lib/systemd/systemd-networkd-wait-online -i "$IF" --timeout=120 && ip -4 -br addr show "$IF" && ip route show default'
gcmd G_LEASE 'cat /run/systemd/netif/leases/*'
gcmd G_PING 'ping -c 3 -W 10 10.0.2.2'
gcmd G_KEY "$GUEST_SSH_SETUP"
hcmd H_WHO 'ps -o user=,group=,supgrp= -p $VMM_PID; grep -E "^(CapEff|CapPrm|CapInh|CapAmb):" /proc/$VMM_PID/status'
hcmd H_SSH "ssh $SSH_OPTS -p 5555 root@localhost 'cat /sys/class/net/*/address; hostname'"
SSH_PORT=5555 transfer_cmds X "$SIZE" localhost

VMM_NICS=("user,hostfwd=tcp:5555-:22")
VMM="setpriv --reuid=hvuser --regid=hvuser --init-groups $(vmm_cmd 512 2 "root=/dev/vda console=hvc0" "$SCRATCH/disk.raw")"
cat >"$T/run.sh" <<SCRIPT
set -u
$(net_lab_setup)
cp "$ORIG_KERNEL" "$DEB_KERNEL" && cp "$ORIG_INITRD" "$DEB_INITRD" && chmod a+r "$DEB_KERNEL" "$DEB_INITRD"
chown hvuser "$SCRATCH/disk.raw" && chmod 0600 "$SCRATCH/disk.raw"
ip link set lo up
$(FINAL_FAST=1 session_cmd session 600 "$VMM")
SCRIPT
SCRATCH_FILES=("$DEB_DISK:disk.raw")
rc=0; LAB_TIMEOUT=900 debian_run "$T/run.sh" || rc=$?
expect_status 0 "$rc" "the lab script (the session)"
session_status session 0

need_ok "interface" "$G_IF"
[ -n "$(item_out "$G_IF" | head -n 1)" ] || session_fail "no guest interface has MAC $MAC"
need_ok "DHCP" "$G_DHCP"
item_out "$G_DHCP" >"$T/dhcp"
grep -q '10\.0\.2\.15/24' "$T/dhcp" || session_fail "DHCP did not give 10.0.2.15/24: $(tr '\n' ' ' <"$T/dhcp")"
grep -q '^default via 10\.0\.2\.2 ' "$T/dhcp" || session_fail "no default route via 10.0.2.2: $(tr '\n' ' ' <"$T/dhcp")"
item_out "$G_LEASE" >"$T/lease"
grep -qx 'DNS=10.0.2.3' "$T/lease" || session_fail "the lease's DNS is not 10.0.2.3: $(tr '\n' ' ' <"$T/lease")"
grep -qx 'ROUTER=10.0.2.2' "$T/lease" || session_fail "the lease's router is not 10.0.2.2: $(tr '\n' ' ' <"$T/lease")"
echo "guest: $(grep -E '^(ADDRESS|ROUTER|DNS|SERVER_ADDRESS)=' "$T/lease" | tr '\n' ' ')"
need_ok "ping the gateway" "$G_PING"

item_out "$H_WHO" >"$T/who"
grep -Eq '^hvuser +hvuser' "$T/who" || session_fail "the VMM does not run as hvuser: $(tr '\n' ' ' <"$T/who")"
[ "$(grep -cE '^Cap(Eff|Prm|Inh|Amb):[[:space:]]+0+$' "$T/who")" = 4 ] ||
	session_fail "the VMM has capabilities: $(tr '\n' ' ' <"$T/who")"
need_ok "ssh -p 5555 root@localhost" "$G_KEY" "$H_SSH"
item_out "$H_SSH" | grep -qx "$MAC" || session_fail "ssh -p 5555 reached a machine whose MACs are $(item_out "$H_SSH" | tr '\n' ' ')"
transfer_check X "$SIZE over the port forward"
pass "user-mode networking on $VMM_KIND as hvuser: DHCP 10.0.2.15 via 10.0.2.2, DNS 10.0.2.3, ping, ssh -p 5555 root@localhost, $SIZE each way ($(kvm_mode))"
