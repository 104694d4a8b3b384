#!/usr/bin/env bash
# net-inner.sh RAWDIR DISK KERNEL INITRD: the measuring half of bench/net, run where
# /dev/kvm works (inside ONE tests/lab/lab.sh session with --scratch, or on a host with a
# hardware KVM, as root, where neither br0 nor tap1 exists yet).
#
# The network, made here and removed at the end:
#   br0    a Linux bridge (STP off, forward delay 0) holding 192.0.2.1/24
#   tap1   a persistent single-queue TAP, a port of br0; the VMM attaches to it
#   iperf3 -s -B 192.0.2.1 -J: one server per guest run (its JSON log is kept)
# In WORK (/scratch in the lab, $HVRUN_BENCH_NET_WORK or RAWDIR/../net-work elsewhere):
#   disk.raw  a sparse copy of DISK (the Debian 12 guest of tests/guests/mkdebian.sh) with
#             /hvbench/run.sh written into it with debugfs (no mount, no loop device)
# Then the same guest (2 vCPUs, 1 GiB, KERNEL + INITRD, "init=/hvbench/run.sh") under,
# one after the other:
#   hvrun        -t tap1 (MAC ba:ad:00:ca:fe:01)
#   qemu         -M q35 -cpu host, virtio-net-pci on -netdev tap,ifname=tap1,vhost=off
#   qemu-vhost   the same with vhost=on (needs /dev/vhost-net; skipped, "n/a", without it)
# The guest script (PID 1, no systemd, no udev) loads virtio_net, gives the interface
# with that MAC 192.0.2.2/24, waits until 192.0.2.1 answers ping, then runs the iperf3
# jobs below against 192.0.2.1 (after "idle", 5 s without traffic) and around each prints
#   HVBENCH-BEGIN JOB t=GUESTTIME ... HVBENCH-END JOB rc=N t=GUESTTIME   (the window)
# then the guest's /proc/interrupts (the virtio lines of the interface's device), its
# interface counters (those of `ip -s link`: rx/tx packets, bytes, drops, errors) and
# ttyS0's tx count from the start and the end of the job, and iperf3's JSON between
# HVBENCH-JSON-BEGIN/-END; at the end the kernel log of the jobs (HVBENCH-DMESG-*),
# `ip -s link`, then HVBENCH-DONE and it powers off (sysrq o).  As in bench/blk, the
# moment the reader (lib/marker_reader.py) sees a BEGIN or END line on the VMM's stdout it
# copies the lab kernel's histograms of kvm:kvm_exit (by SVM exit reason),
# kvm:kvm_userspace_exit (by KVM_EXIT_* reason), kvm:kvm_pio (by port), kvm:kvm_mmio
# (by type and address) and kvm:kvm_msr (intercepted MSR accesses, by MSR), the VMM's
# per-thread CPU times (and those of its vhost-PID kernel thread) and tap1's counters:
# END minus BEGIN is what the job cost.  The guest
# sleeps 2 s after printing each marker so that the copy is taken while it is idle.
#
# Into RAWDIR: meta.env, jobs.txt, prep.log, guest-run.sh, net.log (the set-up); per VMM:
# VMM.console (lines), VMM.console.raw (bytes), VMM.stderr, VMM.run.env, VMM.markers,
# VMM.JOB.{begin,end}.KIND.hist, .cpu and .tap, VMM.all.KIND.hist (the whole run, boot
# included), VMM.iperf3-server.log (the server's JSON), VMM.boot1.* (a first boot that
# died early, if any), VMM.stalled (the guest went silent and the VMM was stopped),
# VMM.skipped (why a VMM did not run), VMM.lab-kmsg (this kernel's log during the run);
# "done" at the very end.
# Progress goes to stderr.  Exit status 0 even if a run failed (bench/net_report.py finds
# out), 1 if the preparation failed.
set -uo pipefail
[ $# -eq 4 ] || { echo "usage: net-inner.sh RAWDIR DISK KERNEL INITRD" >&2; exit 2; }
raw=$1 disk=$2 kernel=$3 initrd=$4
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
hvrun=$repo/build/hvrun
runtime=${HVRUN_BENCH_NET_RUNTIME:-10}
mem=${HVRUN_BENCH_NET_MEM:-1024}
cpus=${HVRUN_BENCH_NET_CPUS:-2}
vmms=${HVRUN_BENCH_NET_VMMS:-hvrun qemu qemu-vhost}
mkdir -p "$raw"
work=${HVRUN_SCRATCH:-${HVRUN_BENCH_NET_WORK:-$raw/../net-work}}
mkdir -p "$work"
export PATH=$PATH:/usr/sbin:/sbin
say() { printf 'bench/net: %s\n' "$*" >&2; }
# shellcheck source=SCRIPTDIR/lib/inner.sh
. "$here/lib/inner.sh"

# The network: the lab's side and the guest's.
bridge=br0 tap=tap1
lab_ip=192.0.2.1 guest_ip=192.0.2.2 prefix=24
mac=ba:ad:00:ca:fe:01	# hvrun's for tap1; given to QEMU as well
port=5201

# ---- The jobs: name | iperf3 client options | what it is ----
jobs=(
	"tcp-tx-1|-P 1|TCP guest -> lab, 1 stream"
	"tcp-tx-4|-P 4|TCP guest -> lab, 4 streams"
	"tcp-rx-1|-R -P 1|TCP lab -> guest, 1 stream"
	"tcp-rx-4|-R -P 4|TCP lab -> guest, 4 streams"
	"udp-tx-64|-u -l 64 -b 0|UDP guest -> lab, 64-byte datagrams, unlimited rate"
	"udp-rx-64|-u -l 64 -b 0 -R|UDP lab -> guest, 64-byte datagrams, unlimited rate"
)
select_jobs "${HVRUN_BENCH_NET_JOBS:-}"	# a subset, e.g. "tcp-tx-1 udp-tx-64"
common="-c $lab_ip -p $port -t $runtime -J --connect-timeout 15000"
printf '%s\n' "${jobs[@]}" >"$raw/jobs.txt"
echo "common=$common" >>"$raw/jobs.txt"

append="root=/dev/vda ro console=ttyS0 quiet panic=-1 init=/hvbench/run.sh"

# ---- What machine this is ----
{
	machine_meta "$hvrun"
	echo "hvrun_built=$(date -u -r "$hvrun" '+%F %T UTC')"
	echo "qemu_version=$(qemu-system-x86_64 --version 2>&1 | head -1)"
	echo "lab_iperf3=$(iperf3 --version 2>&1 | head -1)"
	echo "work=$work"
	echo "runtime=$runtime"
	echo "guest_mem=$mem"
	echo "guest_cpus=$cpus"
	echo "append=$append"
	echo "disk=$disk"
	echo "kernel=$kernel"
	echo "bridge=$bridge"
	echo "tap=$tap"
	echo "lab_ip=$lab_ip/$prefix"
	echo "guest_ip=$guest_ip/$prefix"
	echo "mac=$mac"
	echo "vmms=$vmms"
	echo "vhost_net=$([ -c /dev/vhost-net ] && echo yes || echo no)"
	echo "clk_tck=$(getconf CLK_TCK)"
	echo "started=$(date -u +%FT%TZ)"
} >"$raw/meta.env"

# ---- Tracing: lib/inner.sh's kvm_exit / kvm_userspace_exit / kvm_pio / kvm_mmio
# histograms, and where the lab kernel has it, kvm:kvm_msr: intercepted MSR accesses by MSR
# (which MSR exits a packet costs).  Keyed write,ecx, 1024 entries, and read by name in
# net_report.py; bench/blk's is keyed ecx,write (the order blk_report.py reads its key
# pairs in), 256 entries.
hist_define msr kvm/kvm_msr 'hist:keys=write,ecx:vals=hitcount:sort=hitcount.descending:size=1024'
hist_start exit uexit pio mmio
hist_start_optional msr
net_made=0
iperf_pid=
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	hist_stop
	[ -n "$iperf_pid" ] && kill "$iperf_pid" 2>/dev/null
	if [ "$net_made" = 1 ]; then
		ip link del "$tap" 2>/dev/null
		ip link del "$bridge" 2>/dev/null
	fi
}
trap cleanup EXIT
hist_meta
hist_evargs

# ---- Preparation: the network and the disk ----
t0=$EPOCHREALTIME
if [ "${HVRUN_IN_LAB:-0}" != 1 ] && [ -z "${HVRUN_SCRATCH:-}" ] &&
   { [ -e /sys/class/net/$bridge ] || [ -e /sys/class/net/$tap ]; }; then
	say "$bridge or $tap exists already on this host: not touching it (run bench/net in the lab: HVRUN_KVM=lab)"
	exit 1
fi
(
	set -e
	echo "== the network"
	ip link add "$bridge" type bridge stp_state 0 forward_delay 0
	ip addr add "$lab_ip/$prefix" dev "$bridge"
	ip link set "$bridge" up
	ip tuntap add mode tap dev "$tap"
	ip link set "$tap" master "$bridge"
	ip link set "$tap" up
	ip -d link show "$bridge"
	ip -d link show "$tap"
	ip addr show "$bridge"
	ls -l /dev/net/tun /dev/vhost-net 2>&1 || true
) >"$raw/net.log" 2>&1
netrc=$?
net_made=1
if [ $netrc != 0 ]; then
	say "setting up $bridge / $tap failed (net.log):"
	tail -20 "$raw/net.log" >&2
	exit 1
fi
(
	set -e
	echo "copying $disk to $work/disk.raw"
	rm -f "$work/disk.raw"
	cp --sparse=always "$disk" "$work/disk.raw"
	chmod 0644 "$work/disk.raw"
	# The guest's PID 1: sets up the interface, runs the jobs, prints the results, powers off.
	g=$work/run.sh
	{
		cat <<-EOF
		#!/bin/bash
		# bench/net guest init (PID 1, started by the kernel: init=/hvbench/run.sh).
		mac=$mac guest_ip=$guest_ip prefix=$prefix lab_ip=$lab_ip runtime=$runtime
		EOF
		cat <<-'EOF'
		export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C
		[ -r /proc/uptime ] || mount -t proc proc /proc
		[ -d /sys/class ] || mount -t sysfs sysfs /sys
		[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev
		mount -t tmpfs -o size=64m tmpfs /tmp
		say() { printf '%s\n' "$*"; }
		# Characters ttyS0's driver sent (not counting printk's console writes).
		ttytx() { sed -n 's/^0:.* tx:\([0-9]*\).*/\1/p' /proc/tty/driver/serial; }
		# Power off once ttyS0 has sent everything (its buffer holds 4 KiB: the kernel's
		# "sysrq: Power Off" would land in the middle of the last lines).
		off() {
			local i a b=-1
			say "HVBENCH-DONE $*"
			for i in $(seq 1 100); do
				a=$(ttytx)
				[ "$a" = "$b" ] && break
				b=$a
				sleep 0.2
			done
			sync
			echo o >/proc/sysrq-trigger
			sleep 60
		}
		say "HVBENCH-UP uptime=$(cut -d' ' -f1 /proc/uptime)"
		# No udev: load the driver ourselves, then find the interface by its MAC.
		modprobe virtio_net 2>/dev/null
		IF=
		for i in $(seq 1 100); do
			IF=$(grep -il "^$mac\$" /sys/class/net/*/address 2>/dev/null | head -1 | cut -d/ -f5)
			[ -n "$IF" ] && break
			sleep 0.1
		done
		[ -n "$IF" ] || { say "HVBENCH-ERROR no interface with MAC $mac (interfaces: $(ls /sys/class/net | tr '\n' ' ')); PCI: $(cat /sys/bus/pci/devices/*/device 2>/dev/null | tr '\n' ' ')"; off error; }
		ip link set lo up
		ip link set "$IF" up
		ip addr add "$guest_ip/$prefix" dev "$IF"
		virtio=$(basename "$(readlink -f /sys/class/net/$IF/device)")
		# Wait until the lab answers (the link, the bridge port, ARP).
		up=0
		for i in $(seq 1 60); do
			ping -c 1 -W 1 "$lab_ip" >/dev/null 2>&1 && { up=1; break; }
		done
		if [ $up != 1 ]; then
			say "HVBENCH-ERROR the lab ($lab_ip) does not answer ping from $IF ($guest_ip) after 60 tries"
			ip -s link show "$IF" | sed 's/^/HVBENCH-LOG /'
			ip neigh show | sed 's/^/HVBENCH-LOG /'
			dmesg | tail -20 | sed 's/^/HVBENCH-LOG /'
			off error
		fi
		say "HVBENCH-NETUP if=$IF after $i ping(s), uptime=$(cut -d' ' -f1 /proc/uptime)"
		say "HVBENCH-INFO if=$IF virtio=$virtio mac=$(cat /sys/class/net/$IF/address)" \
			"mtu=$(cat /sys/class/net/$IF/mtu) driver=$(basename "$(readlink -f /sys/class/net/$IF/device/driver)")" \
			"rxq=$(ls -d /sys/class/net/$IF/queues/rx-* | wc -l) txq=$(ls -d /sys/class/net/$IF/queues/tx-* | wc -l)" \
			"features=$(cat /sys/class/net/$IF/device/features)" \
			"nproc=$(nproc) kernel=$(uname -r) iperf3=$(iperf3 --version | head -1 | awk '{ print $2 }')" \
			"clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
		# The interrupt counts of the interface's virtio device: NAME=sum over the CPUs per line.
		irqs() {
			awk -v v="$virtio" '$NF ~ ("^" v "(-|$)") { s = 0
				for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i
				printf " %s=%d", $NF, s }' /proc/interrupts
		}
		say "HVBENCH-IRQLINES$(awk -v v="$virtio" '$NF ~ ("^" v "(-|$)")' /proc/interrupts | tr -s ' ' | tr '\n' ';')"
		# The interface's counters, those `ip -s link` shows, in this order.
		netc() {
			local d=/sys/class/net/$IF/statistics
			echo $(cat $d/rx_packets $d/tx_packets $d/rx_bytes $d/tx_bytes $d/rx_dropped \
				$d/tx_dropped $d/rx_errors $d/tx_errors)
		}
		# From here on the kernel log holds what happened during the jobs only.
		dmesg -C
		job() {	# job NAME COMMAND...; t= is this guest's clock (against the lab's)
			local name=$1 rc i0 i1 s0 s1 x0 x1
			shift
			say "HVBENCH-BEGIN $name t=$EPOCHREALTIME"
			sleep 2
			i0=$(irqs); s0=$(netc); x0=$(ttytx)
			timeout -k 5 $((runtime + 90)) "$@" >/tmp/$name.json 2>/tmp/$name.err
			rc=$?
			i1=$(irqs); s1=$(netc)
			say "HVBENCH-END $name rc=$rc t=$EPOCHREALTIME"
			sleep 2
			x1=$(ttytx)	# after END went out: the lab's window ends when it has read END
			say "HVBENCH-IRQ $name before$i0"
			say "HVBENCH-IRQ $name after$i1"
			say "HVBENCH-STAT $name before" $s0
			say "HVBENCH-STAT $name after" $s1
			say "HVBENCH-TTY $name before $x0"
			say "HVBENCH-TTY $name after $x1"
			[ -s /tmp/$name.err ] && sed "s/^/HVBENCH-JOBERR $name /" /tmp/$name.err | head -20
			say "HVBENCH-JSON-BEGIN $name"
			sed 's/^[[:space:]]*//' /tmp/$name.json	# the indentation: a third of the bytes
			say "HVBENCH-JSON-END $name"
		}
		EOF
		# First a window without traffic: what the guest and the VMM cost at rest.
		echo 'job idle sleep 5'
		for j in "${jobs[@]}"; do
			o=${j#*|}
			printf 'job %s iperf3 %s %s\n' "${j%%|*}" "$common" "${o%%|*}"
		done
		echo 'say HVBENCH-DMESG-BEGIN; dmesg --color=never; say HVBENCH-DMESG-END'
		# shellcheck disable=SC2016  # for the guest script
		echo 'ip -s -s link show "$IF" | sed "s/^/HVBENCH-LOG /"'
		echo 'off ok'
	} >"$g"
	chmod 0755 "$g"
	install_init "$work/disk.raw" "$g"
	ls -ls "$work/disk.raw"
	sync
) >"$raw/prep.log" 2>&1
prep=$?
set +e
prep_done $prep "$t0" "logs: net.log, prep.log"

# ---- The guests ----
# Both: the root disk, the NIC on tap1, COM1.
qemu_base netbench
qnic="-device virtio-net-pci,netdev=n0,mac=$mac"
qtap="tap,id=n0,ifname=$tap,script=no,downscript=no"
hvrun_base
# shellcheck disable=SC2206  # HVRUN_BENCH_NET_HVRUN_ARGS: extra options, split on blanks
hv+=(-t "$tap" ${HVRUN_BENCH_NET_HVRUN_ARGS:-})
run_timeout=${HVRUN_BENCH_NET_RUN_TIMEOUT:-$((600 + ${#jobs[@]} * (runtime + 90)))}
# Seconds without a console line after which the guest counts as stuck (the reader stops
# the VMM): boot to the first line, or one job's window, is far shorter.
stall=${HVRUN_BENCH_NET_STALL:-$((180 + 3 * runtime))}

run_vmm() {	# run_vmm NAME CMD...
	local v=$1 s rc
	shift
	hist_clear_all
	say "$v: booting ($*)"
	rm -f "$raw/$v.tpid" "$raw/$v.iperf3.pid"
	# A fresh iperf3 server for each guest: a test left half-way cannot block the next VMM.
	iperf_pid=
	if iperf3 -s -B "$lab_ip" -p "$port" -J -D -I "$raw/$v.iperf3.pid" \
		--logfile "$raw/$v.iperf3-server.log" 2>"$raw/$v.iperf3-server.err"; then
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			[ -s "$raw/$v.iperf3.pid" ] && break
			sleep 0.2
		done
		iperf_pid=$(tr -cd 0-9 <"$raw/$v.iperf3.pid" 2>/dev/null)
	fi
	[ -n "$iperf_pid" ] || say "$v: the iperf3 server did not start: $(head -3 "$raw/$v.iperf3-server.err" 2>/dev/null)"
	s=$EPOCHREALTIME
	kmsg0=$(dmesg 2>/dev/null | wc -l)
	# Its pid for the reader: the child of timeout, whose pid the subshell writes before
	# it becomes timeout.
	(echo "$BASHPID" >"$raw/$v.tpid"; exec timeout -k 10 "$run_timeout" "$@" </dev/null 2>"$raw/$v.stderr") |
		"${reader[@]}" --name bench/net --tap "$tap" --vhost --stall "$stall" \
			"$raw" "$v" "$raw/$v.tpid" "$s" "${evargs[@]}"
	rc=${PIPESTATUS[0]}
	# What this kernel logged meanwhile (an oops in the emulated machine explains a stall).
	dmesg 2>/dev/null | tail -n +$((kmsg0 + 1)) >"$raw/$v.lab-kmsg"
	[ -n "$iperf_pid" ] && kill "$iperf_pid" 2>/dev/null
	iperf_pid=
	{
		echo "rc=$rc"
		echo "wall_s=$(awk -v s="$s" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }')"
		echo "start=$s"
		echo "timeout_s=$run_timeout"
		echo "cmd=$*"
	} >"$raw/$v.run.env"
	say "$v: exit $rc after $(sed -n 's/^wall_s=//p' "$raw/$v.run.env") s"
	[ -s "$raw/$v.stderr" ] && sed 's/^/    stderr: /' "$raw/$v.stderr" | tail -30 >&2
	if [ "$rc" != 0 ] || ! grep -q '^HVBENCH-DONE ok' "$raw/$v.console" 2>/dev/null; then
		say "$v: console tail:"
		grep -v '^[[:space:]]*$' "$raw/$v.console" 2>/dev/null | tail -15 | sed 's/^/    console: /' >&2
	fi
}
# Page cache: read the kernel, initrd and binaries once, so neither VMM pays for 9p.
warm_cache "$kernel" "$initrd" "$hvrun" "$(command -v qemu-system-x86_64)" /usr/share/qemu/*
# A guest that dies before its script starts is booted once more (lib/inner.sh's
# run_vmm_retry), but not a VMM that gave up within 10 s: one that refuses to start (a bad
# option, no TAP...) would only refuse again.
retry_min_wall=10
for v in $vmms; do
	case $v in
	hvrun) run_vmm_retry hvrun "${hv[@]}" ;;
	qemu)
		# shellcheck disable=SC2086  # word splitting wanted: options
		run_vmm_retry qemu "${qemu[@]}" -netdev "$qtap,vhost=off" $qnic ;;
	qemu-vhost)
		if [ -c /dev/vhost-net ]; then
			# shellcheck disable=SC2086
			run_vmm_retry qemu-vhost "${qemu[@]}" -netdev "$qtap,vhost=on" $qnic
		else
			echo "no /dev/vhost-net in this kernel (vhost_net module missing)" >"$raw/qemu-vhost.skipped"
			say "qemu-vhost: skipped: $(cat "$raw/qemu-vhost.skipped")"
		fi ;;
	*) say "unknown VMM '$v' in HVRUN_BENCH_NET_VMMS (hvrun qemu qemu-vhost)" ;;
	esac
done
date -u +%FT%TZ >"$raw/done"
exit 0
