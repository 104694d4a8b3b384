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
# moment the reader (python, below) sees a BEGIN or END line on the VMM's stdout it
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
if [ -n "${HVRUN_BENCH_NET_JOBS:-}" ]; then	# a subset, e.g. "tcp-tx-1 udp-tx-64"
	sel=()
	for j in "${jobs[@]}"; do
		[[ " $HVRUN_BENCH_NET_JOBS " == *" ${j%%|*} "* ]] && sel+=("$j")
	done
	jobs=("${sel[@]}")
fi
common="-c $lab_ip -p $port -t $runtime -J --connect-timeout 15000"
printf '%s\n' "${jobs[@]}" >"$raw/jobs.txt"
echo "common=$common" >>"$raw/jobs.txt"

append="root=/dev/vda ro console=ttyS0 quiet panic=-1 init=/hvbench/run.sh"

# ---- What machine this is ----
{
	echo "where_kernel=$(uname -r)"
	echo "in_lab=${HVRUN_IN_LAB:-0}"
	echo "nproc=$(nproc)"
	echo "cpu_model_name=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "kvm_module=$(for m in kvm_amd kvm_intel kvm_pvm; do [ -d /sys/module/$m ] && echo $m; done | head -1)"
	echo "hvrun_version=$("$hvrun" --version 2>&1 | head -1)"
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

# ---- Tracing: kvm_exit / kvm_userspace_exit / kvm_pio / kvm_mmio histograms ----
# (as in bench/blk-inner.sh)
# shellcheck source=tracefs.sh
. "$(dirname "${BASH_SOURCE[0]}")/tracefs.sh"
kinds=(exit uexit pio mmio)
declare -A ev=([exit]=$T/events/kvm/kvm_exit [uexit]=$T/events/kvm/kvm_userspace_exit
	[pio]=$T/events/kvm/kvm_pio [mmio]=$T/events/kvm/kvm_mmio [msr]=$T/events/kvm/kvm_msr)
declare -A hs=(
	[exit]='hist:keys=exit_reason:vals=hitcount:sort=hitcount.descending:size=2048'
	[uexit]='hist:keys=reason:vals=hitcount:sort=hitcount.descending:size=256'
	[pio]='hist:keys=port:vals=hitcount:sort=hitcount.descending:size=2048'
	[mmio]='hist:keys=type,gpa:vals=hitcount:sort=hitcount.descending:size=4096'
	[msr]='hist:keys=write,ecx:vals=hitcount:sort=hitcount.descending:size=1024')
tracing=1
for k in "${kinds[@]}"; do
	if [ -w "${ev[$k]}/trigger" ]; then
		echo "!${hs[$k]}" >>"${ev[$k]}/trigger" 2>/dev/null
		echo "${hs[$k]}" >>"${ev[$k]}/trigger" || tracing=0
	else
		tracing=0
	fi
done
# Besides bench/blk's: intercepted MSR accesses by MSR (which MSR exits a packet costs).
if [ -w "${ev[msr]}/trigger" ]; then
	echo "!${hs[msr]}" >>"${ev[msr]}/trigger" 2>/dev/null
	echo "${hs[msr]}" >>"${ev[msr]}/trigger" 2>/dev/null && kinds+=(msr)
fi
net_made=0
iperf_pid=
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	for k in "${kinds[@]}"; do echo "!${hs[$k]}" >>"${ev[$k]}/trigger" 2>/dev/null; done
	[ -n "$iperf_pid" ] && kill "$iperf_pid" 2>/dev/null
	if [ "$net_made" = 1 ]; then
		ip link del "$tap" 2>/dev/null
		ip link del "$bridge" 2>/dev/null
	fi
}
trap cleanup EXIT
echo "tracing=$tracing" >>"$raw/meta.env"
echo "hists=${kinds[*]}" >>"$raw/meta.env"
[ $tracing = 1 ] || say "no kvm tracepoint histograms here ($T): VM exits not counted"
hist_clear() {	# hist_clear KIND: zero a histogram; re-create it if :clear did not
	local k=$1
	echo "${hs[$k]}:clear" >>"${ev[$k]}/trigger" 2>/dev/null
	if ! grep -q '^ *Hits: 0$' "${ev[$k]}/hist"; then
		echo "!${hs[$k]}" >>"${ev[$k]}/trigger"
		echo "${hs[$k]}" >>"${ev[$k]}/trigger"
	fi
}
# The reader of the VMM's stdout: bench/blk-inner.sh's, plus the TAP's counters and the
# CPU times of the vhost-PID kernel threads (vhost=on) at each marker.
#   reader RAW VMM TPIDFILE START TAP STALL [KIND=EVENTDIR]...
# Writes RAW/VMM.console.raw (the bytes), RAW/VMM.console (lines, CR dropped),
# RAW/VMM.markers ("BEGIN|END JOB LAB-TIME"), and at each marker PREFIX.KIND.hist,
# PREFIX.cpu (the VMM's CPU ticks: "process PID UTIME STIME", then "TID UTIME STIME
# COMM" per thread, vhost-PID kernel threads among them) and PREFIX.tap (the TAP's
# /sys/class/net/TAP/statistics, "name=value") with PREFIX = RAW/VMM.JOB.begin|end;
# RAW/VMM.all.KIND.hist at EOF.  The VMM's pid: the child of timeout, whose pid is in
# TPIDFILE.  No line for STALL seconds: RAW/VMM.stalled, and the VMM is stopped.
# Progress on stderr.
IFS= read -r -d '' reader <<'EOF'
import os, select, signal, sys, time
raw, vmm, tpidfile, start, tap, stall = sys.argv[1:7]
start, stall = float(start), float(stall)
evs = [a.split("=", 1) for a in sys.argv[7:]]
P = lambda *x: os.path.join(raw, vmm + "." + ".".join(x))
TAPSTATS = ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped",
            "rx_errors", "tx_errors")

def stat_line(path):
    with open(path) as f:
        x = f.read().rsplit(")", 1)[1].split()
    return x[11], x[12]

def snap(prefix, pid):
    for k, d in evs:
        try:
            with open(d + "/hist") as f:
                data = f.read()
        except OSError:
            continue
        with open(prefix + "." + k + ".hist", "w") as f:
            f.write(data)
    t = []
    for s in TAPSTATS:
        try:
            with open("/sys/class/net/%s/statistics/%s" % (tap, s)) as f:
                t.append("%s=%s" % (s, f.read().strip()))
        except OSError:
            pass
    if t:
        with open(prefix + ".tap", "w") as f:
            f.write("\n".join(t) + "\n")
    if not pid:
        return
    out = []
    try:
        ut, st = stat_line("/proc/%d/stat" % pid)
        out.append("process %d %s %s" % (pid, ut, st))
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                ut, st = stat_line("/proc/%d/task/%s/stat" % (pid, tid))
                with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                    comm = f.read().strip()
            except OSError:
                continue
            out.append("%s %s %s %s" % (tid, ut, st, comm))
    except (OSError, IndexError):
        return
    # vhost-net's worker: a kernel thread "vhost-PID" (Linux 6.1), not one of the VMM's.
    want = "vhost-%d" % pid
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % p) as f:
                comm = f.read().strip()
            if comm == want:
                ut, st = stat_line("/proc/%s/stat" % p)
                out.append("%s %s %s %s" % (p, ut, st, comm))
        except (OSError, IndexError):
            continue
    with open(prefix + ".cpu", "w") as f:
        f.write("\n".join(out) + "\n")

def say(msg):
    sys.stderr.write("bench/net: %s: %s\n" % (vmm, msg))
    sys.stderr.flush()

pid = None
rawf = open(P("console.raw"), "wb")
con = open(P("console"), "w")
marks = open(P("markers"), "w")

def find_pid():
    global pid
    if pid is None:
        try:
            tp = open(tpidfile).read().strip()
            pid = int(open("/proc/%s/task/%s/children" % (tp, tp)).read().split()[0])
        except (OSError, ValueError, IndexError):
            pass

def line_in(b, now):
    rawf.write(b)
    line = b.decode("utf-8", "replace").rstrip("\n").rstrip("\r")
    find_pid()
    i = line.find("HVBENCH-")
    if i >= 0:
        w = line[i + 8:].split()
        if len(w) > 1 and w[0] in ("BEGIN", "END"):
            snap(P(w[1], w[0].lower()), pid)
            marks.write("%s %s %.6f\n" % (w[0], w[1], now))
            marks.flush()
            say(line[i + 8:] + " (lab +%.1f s)" % (now - start))
        elif w and w[0] in ("UP", "NETUP", "DONE", "ERROR"):
            say(line[i + 8:] + " (at %.0f s)" % (now - start))
    con.write(line + "\n")
    con.flush()     # so that a stuck guest's last words can be read while it hangs
    rawf.flush()

# A guest that prints nothing for STALL seconds (the markers come at least every job) is
# stuck: the VMM is stopped (TERM, then KILL), and VMM.stalled says after how long.
fd = sys.stdin.fileno()
buf = b""
last = start
kill_at = None
while True:
    r, _w, _x = select.select([fd], [], [], 2.0)
    now = time.time()
    if not r:
        find_pid()
        if pid and kill_at is None and now - last > stall:
            with open(P("stalled"), "w") as f:
                f.write("%.0f\n" % (now - last))
            say("the guest printed nothing for %.0f s: stopping the VMM (pid %d)" % (now - last, pid))
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
            kill_at = now + 15
        elif kill_at and now > kill_at:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            kill_at = float("inf")
        continue
    chunk = os.read(fd, 65536)
    if not chunk:
        break
    buf += chunk
    while b"\n" in buf:
        b, buf = buf.split(b"\n", 1)
        line_in(b + b"\n", now)
    last = now
if buf:
    line_in(buf, time.time())
snap(P("all"), None)
EOF
evargs=()
[ $tracing = 1 ] && for k in "${kinds[@]}"; do evargs+=("$k=${ev[$k]}"); done
py=$(command -v python3)

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
	# Into the copy with debugfs: mkdir, write, then mode 0755 and root's ownership.
	debugfs -w -f - "$work/disk.raw" <<-EOF
		mkdir /hvbench
		write $g /hvbench/run.sh
		sif /hvbench/run.sh mode 0100755
		sif /hvbench/run.sh uid 0
		sif /hvbench/run.sh gid 0
	EOF
	debugfs -R "stat /hvbench/run.sh" "$work/disk.raw" | head -3
	debugfs -R "cat /hvbench/run.sh" "$work/disk.raw" | cmp - "$g"
	bash -n "$g"
	e2fsck -fn "$work/disk.raw"
	ls -ls "$work/disk.raw"
	sync
) >"$raw/prep.log" 2>&1
prep=$?
set +e
say "preparation: exit $prep after $(awk -v s="$t0" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.0f", e - s }') s (logs: net.log, prep.log)"
if [ $prep != 0 ]; then
	tail -20 "$raw/prep.log" >&2
	exit 1
fi
cp "$work/run.sh" "$raw/guest-run.sh"

# ---- The guests ----
# shellcheck disable=SC2054  # the commas are QEMU's
qemu=(qemu-system-x86_64 -name netbench,debug-threads=on	# thread names: "CPU n/KVM"
      -enable-kvm -M q35 -cpu host -m "$mem" -smp "$cpus" -nodefaults
      -no-user-config -display none -monitor none -serial stdio -no-reboot
      -kernel "$kernel" -initrd "$initrd" -append "$append"
      -drive "file=$work/disk.raw,if=none,id=d0,format=raw,cache=none,aio=io_uring"
      -device virtio-blk-pci,drive=d0)
qnic="-device virtio-net-pci,netdev=n0,mac=$mac"
qtap="tap,id=n0,ifname=$tap,script=no,downscript=no"
# No virtio console / rng: the same devices as the QEMU guest (a disk, a NIC and COM1).
# shellcheck disable=SC2206  # HVRUN_BENCH_NET_HVRUN_ARGS: extra options, split on blanks
hv=("$hvrun" -m "$mem" -c "$cpus" -k "$kernel" -i "$initrd" -a "$append" --no-reboot
    --no-virtio-console --no-rng --exit-stats -d "$work/disk.raw,cache=none" -t "$tap"
    ${HVRUN_BENCH_NET_HVRUN_ARGS:-})
run_timeout=${HVRUN_BENCH_NET_RUN_TIMEOUT:-$((600 + ${#jobs[@]} * (runtime + 90)))}
# Seconds without a console line after which the guest counts as stuck (the reader stops
# the VMM): boot to the first line, or one job's window, is far shorter.
stall=${HVRUN_BENCH_NET_STALL:-$((180 + 3 * runtime))}

run_vmm() {	# run_vmm NAME CMD...
	local v=$1 s rc
	shift
	[ $tracing = 1 ] && for k in "${kinds[@]}"; do hist_clear "$k"; done
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
		"$py" -c "$reader" "$raw" "$v" "$raw/$v.tpid" "$s" "$tap" "$stall" "${evargs[@]}"
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
cat "$kernel" "$initrd" "$hvrun" "$(command -v qemu-system-x86_64)" /usr/share/qemu/* >/dev/null 2>&1

# A guest that dies before its script starts (a triple fault in early boot now and then,
# the nested emulation's doing, for either VMM) is booted once more; the first try's
# files are kept as VMM.boot1.*.  A guest that fails later is not retried: that counts.
run_vmm_retry() {	# run_vmm_retry NAME CMD...
	local v=$1 f
	run_vmm "$@"
	grep -q 'HVBENCH-UP' "$raw/$v.console" 2>/dev/null && return 0
	# A VMM that refuses to start (bad option, no TAP...) would only refuse again.
	[ "$(sed -n 's/^wall_s=//p' "$raw/$v.run.env" | cut -d. -f1)" -lt 10 ] && return 0
	say "$v: the guest never started its script: booting it once more"
	for f in "$raw/$v".*; do
		[ -e "$f" ] && mv "$f" "$raw/$v.boot1.${f#"$raw/$v".}"
	done
	run_vmm "$@"
}
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
