#!/usr/bin/env bash
# net_bridge: a TAP "patch cord" on a plain Linux bridge, hvrun run by a student's
# account (hvuser, member of group kvm, no capability at all):
#   ip link add br0 type bridge; ip addr add 203.0.113.129/26 dev br0
#   ip tuntap add mode tap dev tap5 group kvm multi_queue; ip link set tap5 master br0 up
#   hvrun -m 512 -c 2 -k vmlinuz -i initrd.img -d disk.raw -t tap5 -a "root=/dev/vda console=hvc0"
# The guest (ba:ad:00:ca:fe:05) has two queue pairs (one per vCPU: the TAP is multi-queue),
# pings the lab and back, SSH works, 8 MiB each way with equal sha256.  tap5 taken down: the guest sees its carrier go, hvrun runs on; up again:
# carrier back, ping works.  tap5 deleted while the guest runs: carrier gone, hvrun and
# the console keep working.  Errors, in the same lab: a TAP that does not exist and no
# CAP_NET_ADMIN gives one line saying how to create it; a TAP of another group gives one
# line naming the group.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/debian.sh"
. "$(dirname "$0")/lib/net.sh"

debian_image
# hvuser cannot read root's cache: the kernel and initramfs are copied next to the disk.
ORIG_KERNEL=$DEB_KERNEL ORIG_INITRD=$DEB_INITRD
DEB_KERNEL=$SCRATCH/vmlinuz DEB_INITRD=$SCRATCH/initrd.img
MAC=ba:ad:00:ca:fe:05
SIZE=${HVRUN_NET_SIZE_SMALL:-8M}

gcmd G_IF "$(guest_if $MAC)"
gcmd G_CFG 'ip link set "$IF" up && ip addr add 203.0.113.130/26 dev "$IF" && ip -br addr show "$IF"'
gcmd G_KEY "$GUEST_SSH_SETUP"
gcmd G_QUEUES 'ls /sys/class/net/$IF/queues | tr "\n" " "; echo; grep -c "virtio.*-input" /proc/interrupts'
gcmd G_PING 'ping -c 3 -W 10 203.0.113.129'
hcmd H_PING 'ping -c 3 -W 10 203.0.113.130'
hcmd H_WHO 'ps -o user=,group=,supgrp= -p $VMM_PID; grep -E "^(CapEff|CapPrm):" /proc/$VMM_PID/status'
transfer_cmds X "$SIZE" 203.0.113.130
# The host side goes down, then up: the guest's carrier follows (hvrun polls each second).
hcmd H_DOWN 'ip link set tap5 down && sleep 3'
gcmd G_CARRIER0 'cat /sys/class/net/$IF/carrier; ip -br link show "$IF"'
hcmd H_UP 'ip link set tap5 up && sleep 3'
gcmd G_CARRIER1 'cat /sys/class/net/$IF/carrier; ping -c 2 -W 10 203.0.113.129 >/dev/null && echo ping-ok'
# Deleted while the guest runs.
hcmd H_DEL 'ip link del tap5 && sleep 3; ip -br link show tap5 2>&1; kill -0 $VMM_PID && echo vmm-alive'
gcmd G_CARRIER2 'cat /sys/class/net/$IF/carrier; ping -c 1 -W 2 203.0.113.129 >/dev/null; echo "ping status $?"'

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
	VMM_NICS=(tap=tap5,queues=2)
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
$ERRORS
$(FINAL_FAST=1 session_cmd session 600 "$VMM")
SCRIPT
SCRATCH_FILES=("$DEB_DISK:disk.raw")
rc=0; LAB_TIMEOUT=900 debian_run "$T/run.sh" || rc=$?
expect_status 0 "$rc" "the lab script (bridge set-up, the session)"

if [ "$VMM_KIND" = hvrun ]; then
	cp "$T/notap.err" "$T/err"
	expect_status 1 "$(cat "$T/notap.rc")" "hvrun -t tap9 (no such TAP) as hvuser"
	expect_lines err 1
	expect_in err "ip tuntap add mode tap dev tap9 group kvm"
	echo "no TAP: $(cat "$T/err")"
	cp "$T/othergroup.err" "$T/err"
	expect_status 1 "$(cat "$T/othergroup.rc")" "hvrun -t tap7 (group netadm) as hvuser"
	expect_lines err 1
	expect_in err "netadm"
	echo "other group: $(cat "$T/err")"
	cp "$T/create.err" "$T/err"; cp "$T/create.link" "$T/out"
	expect_status 0 "$(cat "$T/create.rc")" "hvrun -t tapnew3 (created by hvrun), stopped by SIGTERM"
	grep -q '^tapnew3 .*UP' "$T/out" || fail "the TAP hvrun created is not up: $(tr '\n' ' ' <"$T/out")"
	[ "$(tail -n 1 "$T/create.after")" != 0 ] || fail "tapnew3 still exists after hvrun ended: $(cat "$T/create.after")"
	echo "created TAP: $(tr -s ' \n' ' ' <"$T/out")"
	cp "$T/check.out" "$T/out"; : >"$T/err"
	grep -q "^\[ ok \] TAP tap5: owner none, group kvm, up.*; this user may attach it" "$T/out" ||
		fail "hvrun --check as hvuser does not say that tap5 is usable"
	expect_in out "hvrun cannot create TAPs (no CAP_NET_ADMIN)"
	echo "hvrun --check as hvuser: $(grep 'TAP tap5' "$T/out")"
fi

session_status session 0
need_ok "interface" "$G_IF" "$G_CFG" "$G_KEY"
[ -n "$(item_out "$G_IF" | head -n 1)" ] || session_fail "no guest interface has MAC $MAC"
need_ok "ping guest -> lab" "$G_PING"
need_ok "ping lab -> guest" "$H_PING"
item_out "$H_WHO" >"$T/who"
grep -Eq '^hvuser +hvuser +.*kvm' "$T/who" || session_fail "the VMM does not run as hvuser in group kvm: $(tr '\n' ' ' <"$T/who")"
grep -Eq '^CapEff:[[:space:]]+0+$' "$T/who" || session_fail "the VMM has capabilities: $(tr '\n' ' ' <"$T/who")"
echo "VMM: $(tr -s '\t\n' '  ' <"$T/who")"
transfer_check X "$SIZE over SSH"
item_out "$G_QUEUES" >"$T/queues"
[ "$(head -n 1 "$T/queues")" = "rx-0 rx-1 tx-0 tx-1 " ] ||
	session_fail "the guest does not use two queue pairs: $(tr '\n' ' ' <"$T/queues")"
echo "guest queues: $(head -n 1 "$T/queues")"

need_ok "tap5 down" "$H_DOWN"
[ "$(item_out "$G_CARRIER0" | head -n 1)" = 0 ] || session_fail "tap5 down: the guest's carrier is '$(item_out "$G_CARRIER0" | head -n 1)', expected 0"
need_ok "tap5 up" "$H_UP"
item_out "$G_CARRIER1" >"$T/c1"
[ "$(head -n 1 "$T/c1")" = 1 ] || session_fail "tap5 up again: the guest's carrier is '$(head -n 1 "$T/c1")', expected 1"
grep -qx ping-ok "$T/c1" || session_fail "tap5 up again: the guest cannot ping the lab"
item_out "$H_DEL" >"$T/del"
grep -qx vmm-alive "$T/del" || session_fail "tap5 deleted: the VMM died: $(tr '\n' ' ' <"$T/del")"
[ "$(item_out "$G_CARRIER2" | head -n 1)" = 0 ] || session_fail "tap5 deleted: the guest's carrier is '$(item_out "$G_CARRIER2" | head -n 1)', expected 0"
pass "Linux bridge br0, tap5 (group kvm) on $VMM_KIND as hvuser: ping both ways, SSH, $SIZE each way; link down/up/deleted seen by the guest; TAP errors ($(kvm_mode))"
