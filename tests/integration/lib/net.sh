# lib/net.sh: sourced by the network tests (after lib/common.sh and lib/debian.sh).  The lab has
# no link to the outside: every packet stays between the guest and the lab itself.
#
# net_lab_setup: lines for a lab script that make the teaching guide's host set-up: a
# group kvm owning /dev/kvm (0660), /dev/net/tun usable by all (0666, as Debian's udev
# leaves it), and a user hvuser in group kvm (the student's account).
net_lab_setup() {
	cat <<-'EOF'
		getent group kvm >/dev/null || groupadd -r kvm
		chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
		chmod 0666 /dev/net/tun
		id hvuser >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin -G kvm hvuser
	EOF
}

# net_ovs_start: lines that start Open vSwitch by hand in the lab (no systemd there):
# ovsdb-server on a fresh database, then ovs-vswitchd.  Bridges use the userspace
# datapath (datapath_type=netdev): the kernel datapath did not forward in the lab.
# They also define vsctl ARGS: ovs-vsctl with a 60 s limit; when it fails or the
# switch does not answer (seen once in CI: the script waited in ovs-vsctl for 17
# minutes), vswitchd's last log lines go to stderr and the script ends with
# OVS_SETUP_FAILED, before any VMM ran.
OVS_SETUP_FAILED=91
net_ovs_start() {
	cat <<-EOF
		vsctl() {
			ovs-vsctl --timeout=60 "\$@" && return 0
			echo "OVS set-up: 'ovs-vsctl \$*' failed or timed out; ovs-vswitchd's log ends:" >&2
			tail -n 30 /var/log/openvswitch/ovs-vswitchd.log >&2
			exit $OVS_SETUP_FAILED
		}
	EOF
	cat <<-'EOF'
		mkdir -p /run/openvswitch /var/log/openvswitch /etc/openvswitch
		rm -f /etc/openvswitch/conf.db
		ovsdb-tool create /etc/openvswitch/conf.db /usr/share/openvswitch/vswitch.ovsschema
		ovsdb-server --remote=punix:/run/openvswitch/db.sock --pidfile --detach --log-file \
			/etc/openvswitch/conf.db
		vsctl --no-wait init
		# The guest leaves TCP/UDP checksums to the "hardware" (virtio-net CSUM, through
		# the TAP's vnet header); the userspace datapath must then read the TAP with that
		# header (PACKET_VNET_HDR) and finish them: userspace TSO mode does, read at start.
		vsctl --no-wait set Open_vSwitch . other_config:userspace-tso-enable=true
		ovs-vswitchd --pidfile --detach --log-file
	EOF
}

# An SSH key for root in the guest: SSH_KEY (private, in $T, shared with the lab) and
# the guest command that installs its public half.
SSH_KEY=$T/id_ed25519
ssh-keygen -q -t ed25519 -N '' -C hvrun-test -f "$SSH_KEY" || fail "ssh-keygen failed"
SSH_OPTS="-i $SSH_KEY -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=60 -o LogLevel=ERROR"
GUEST_SSH_SETUP="mkdir -p /root/.ssh && echo '$(cat "$SSH_KEY.pub")' >/root/.ssh/authorized_keys && chmod 700 /root/.ssh && chmod 600 /root/.ssh/authorized_keys"

# guest_if MAC [VAR]: the guest command that sets VAR (default IF) to the interface
# that has MAC (a guest with two NICs keeps one variable for each).
guest_if() {
	printf '%s=$(grep -l %s /sys/class/net/*/address | cut -d/ -f5); echo "$%s"' "${2:-IF}" "$1" "${2:-IF}"
}

# transfer_cmds PREFIX SIZE DEST: the items of a TCP transfer of SIZE (head -c syntax)
# each way over SSH to root@DEST (an address, maybe with %zone; SSH_PORT if set):
# lab -> guest (PREFIX_UP: the lab's and the guest's sha256) and guest -> lab (PREFIX_MK
# makes the file in the guest, PREFIX_DOWN copies it back and hashes it in the lab).
transfer_cmds() {
	local p=$1 size=$2 dest=$3 port=${SSH_PORT:+-p $SSH_PORT} stalled
	# A transfer not done after NET_STALL s has stalled: hvrun's counters, twice 5 s apart
	# (did its queues move?), and the lab's interfaces, for the report.
	stalled="{ r=\$?; echo \"the transfer stopped: status \$r (124: not done after $NET_STALL s)\"; $(net_diag); exit \$r; }"
	hcmd "${p}_UP" "head -c $size /dev/urandom >/tmp/$p.up && sha256sum </tmp/$p.up && s=\$(date +%s%N) && { timeout $NET_STALL ssh $SSH_OPTS $port root@$dest 'cat >/root/$p.up && sha256sum </root/$p.up' </tmp/$p.up || $stalled; } && echo ms=\$(( (\$(date +%s%N) - s) / 1000000 ))"
	gcmd "${p}_MK" "head -c $size /dev/urandom >/root/$p.down && sha256sum </root/$p.down"
	hcmd "${p}_DOWN" "s=\$(date +%s%N) && { timeout $NET_STALL ssh $SSH_OPTS $port root@$dest 'cat /root/$p.down' >/tmp/$p.down || $stalled; } && sha256sum </tmp/$p.down && echo ms=\$(( (\$(date +%s%N) - s) / 1000000 ))"
}

# net_diag: the shell line (run in the lab, VMM_PID set) for a stalled transfer's
# report, from $T/net-diag.sh: each VMM thread's state and kernel wait channel, their
# stacks (gdb, where installed: a deadlock shows there), hvrun's counters twice 5 s
# apart through hvctl (did its queues move?), and the lab's link counters.
NET_STALL=${NET_STALL:-300}
net_diag() {
	cat >"$T/net-diag.sh" <<-EOF
		echo "VMM threads (pid \$VMM_PID): tid name state wchan"
		for t in /proc/\$VMM_PID/task/*; do
			echo "  \${t##*/} \$(cat \$t/comm) \$(cut -d' ' -f3 \$t/stat) \$(cat \$t/wchan 2>/dev/null)"
		done
		if command -v gdb >/dev/null; then
			echo "VMM stacks:"
			timeout 120 gdb -p \$VMM_PID -batch -ex 'thread apply all bt' 2>&1 | grep -E '^(Thread|#)'
		fi
		if [ "$VMM_KIND" = hvrun ]; then
			echo "hvctl stats:"; timeout 10 $(dirname "$HVRUN")/hvctl stats || echo "(hvctl: status \$?)"
			sleep 5
			echo "hvctl stats, 5 s later:"; timeout 10 $(dirname "$HVRUN")/hvctl stats || echo "(hvctl: status \$?)"
		fi
		ip -s link
	EOF
	printf 'bash %q' "$T/net-diag.sh"
}

# transfer_check PREFIX WHAT: both hashes of each direction match.
transfer_check() {
	local p=$1 up mk down a b ms1 ms2 n
	up=${p}_UP; mk=${p}_MK; down=${p}_DOWN
	for n in "${!up}" "${!down}"; do
		[ "$(item_rc "$n")" = 0 ] || { echo "--- $2: command $n:"; item_out "$n"; } >&2
	done
	need_ok "$2" "${!up}" "${!mk}" "${!down}"
	a=$(item_out "${!up}" | sed -n 1p | cut -c1-64); b=$(item_out "${!up}" | sed -n 2p | cut -c1-64)
	[ ${#a} = 64 ] && [ "$a" = "$b" ] || session_fail "$2: lab -> guest: sha256 $a sent, $b received"
	ms1=$(item_out "${!up}" | sed -n 's/^ms=//p')
	a=$(item_out "${!mk}" | sed -n 1p | cut -c1-64); b=$(item_out "${!down}" | sed -n 1p | cut -c1-64)
	[ ${#a} = 64 ] && [ "$a" = "$b" ] || session_fail "$2: guest -> lab: sha256 $a sent, $b received"
	ms2=$(item_out "${!down}" | sed -n 's/^ms=//p')
	echo "$2: lab -> guest ${ms1} ms, guest -> lab ${ms2} ms (sha256 equal both ways)"
}
