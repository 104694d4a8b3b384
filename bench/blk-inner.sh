#!/usr/bin/env bash
# blk-inner.sh RAWDIR DISK KERNEL INITRD: the measuring half of bench/blk, run where
# /dev/kvm works (inside ONE tests/lab/lab.sh session with --scratch, or on the host).
#
# In WORK (/scratch in the lab, $HVRUN_BENCH_BLK_WORK or RAWDIR/../blk-work elsewhere;
# it must support O_DIRECT):
#   disk.raw  a sparse copy of DISK (the Debian 12 guest of tests/guests/mkdebian.sh)
#             with /hvbench/run.sh written into it with debugfs (no mount, no loop device)
#   data.raw  1 GiB, written once from end to end by fio (real blocks, not holes)
# Then, one after the other:
#   hvrun   -d disk.raw,cache=none -d data.raw,cache=none  (2 vCPUs, 1 GiB)
#   QEMU    -M q35 -cpu host, the same disks as virtio-blk-pci, cache=none,aio=io_uring
#   host    fio with io_uring straight on data.raw in this kernel (the limit)
# Both guests boot KERNEL + INITRD with "init=/hvbench/run.sh": that script (PID 1,
# no systemd) runs the fio jobs below on /dev/vdb, and around each one prints
#   HVBENCH-BEGIN JOB t=GUESTTIME ... HVBENCH-END JOB rc=N t=GUESTTIME   (the window)
# then the guest's /proc/interrupts (virtio lines of vdb), /sys/block/vdb/stat and
# ttyS0's tx count from the start and the end of the job, and fio's JSON between
# HVBENCH-JSON-BEGIN/-END; at the end the kernel log of the jobs (HVBENCH-DMESG-*),
# then HVBENCH-DONE and it powers off (sysrq o).  The moment the reader (lib/marker_reader.py)
# sees a BEGIN or END line on the VMM's stdout it copies the lab kernel's histograms of
# kvm:kvm_exit (by SVM exit reason), kvm:kvm_userspace_exit (by KVM_EXIT_* reason),
# kvm:kvm_pio (by port), kvm:kvm_mmio (by type and address) and, where they exist,
# io_uring:io_uring_submit_sqe / io_uring_queue_async_work (by opcode), and the VMM's
# per-thread CPU times: END minus BEGIN is what the job cost.  The guest sleeps 2 s
# after printing each marker so that the copy is taken while it is idle.
#
# Into RAWDIR: meta.env, jobs.txt, prep.log, guest-run.sh; per VMM (hvrun, qemu):
# VMM.console (lines), VMM.console.raw (bytes), VMM.stderr, VMM.run.env, VMM.markers
# (lab time of each marker), VMM.JOB.{begin,end}.KIND.hist and .cpu, VMM.all.KIND.hist
# (the whole run, boot included), VMM.boot1.* (a first boot that died early, if any);
# host.JOB.json; and "done" at the very end.  Progress goes to stderr.  Exit status 0
# even if a run failed (bench/blk_report.py finds out), 1 if the preparation failed.
set -uo pipefail
[ $# -eq 4 ] || { echo "usage: blk-inner.sh RAWDIR DISK KERNEL INITRD" >&2; exit 2; }
raw=$1 disk=$2 kernel=$3 initrd=$4
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
hvrun=$repo/build/hvrun
runtime=${HVRUN_BENCH_BLK_RUNTIME:-15}
mem=${HVRUN_BENCH_BLK_MEM:-1024}
cpus=${HVRUN_BENCH_BLK_CPUS:-2}
mkdir -p "$raw"
work=${HVRUN_SCRATCH:-${HVRUN_BENCH_BLK_WORK:-$raw/../blk-work}}
mkdir -p "$work"
export PATH=$PATH:/usr/sbin:/sbin
say() { printf 'bench/blk: %s\n' "$*" >&2; }
# shellcheck source=SCRIPTDIR/lib/inner.sh
. "$here/lib/inner.sh"

# ---- The jobs: name | fio options (direct=1, io_uring, time_based everywhere) ----
jobs=(
	"randread-4k-qd1|--rw=randread --bs=4k --iodepth=1"
	"randread-4k-qd32|--rw=randread --bs=4k --iodepth=32"
	"randwrite-4k-qd32|--rw=randwrite --bs=4k --iodepth=32"
	"read-1m-qd8|--rw=read --bs=1M --iodepth=8"
	"write-1m-qd8|--rw=write --bs=1M --iodepth=8"
	# virtio-scsi: the CD (cd.iso, 256 MiB, from the page cache after the first pass), /dev/sr0
	"cd-randread-4k-qd32|--rw=randread --bs=4k --iodepth=32"
)
select_jobs "${HVRUN_BENCH_BLK_JOBS:-}"	# a subset, e.g. "randread-4k-qd1 read-1m-qd8"
common="--direct=1 --ioengine=io_uring --time_based=1 --runtime=$runtime --numjobs=1"
common+=" --norandommap=1 --lat_percentiles=1 --percentile_list=50:99 --output-format=json"
printf '%s\n' "${jobs[@]}" >"$raw/jobs.txt"
echo "common=$common" >>"$raw/jobs.txt"

append="root=/dev/vda ro console=ttyS0 quiet panic=-1 init=/hvbench/run.sh"

# ---- What machine this is ----
{
	machine_meta "$hvrun"
	echo "qemu_version=$(qemu-system-x86_64 --version 2>&1 | head -1)"
	echo "host_fio=$(fio --version 2>&1)"
	echo "work=$work"
	echo "work_fs=$(findmnt -no FSTYPE --target "$work" 2>/dev/null || stat -f -c %T "$work" 2>/dev/null)"
	echo "runtime=$runtime"
	echo "guest_mem=$mem"
	echo "guest_cpus=$cpus"
	echo "append=$append"
	echo "disk=$disk"
	echo "kernel=$kernel"
	echo "clk_tck=$(getconf CLK_TCK)"
	echo "started=$(date -u +%FT%TZ)"
} >"$raw/meta.env"

# ---- Tracing: lib/inner.sh's kvm_exit / kvm_userspace_exit / kvm_pio / kvm_mmio
# histograms, and where the lab kernel has them: io_uring SQEs submitted (by opcode: the
# VMM's reads and writes of the image, as nothing else in the lab uses io_uring during a
# guest run), requests io_uring handed to its io-wq worker threads, and kvm:kvm_msr (which
# MSR exits, by index and direction).  The MSR histogram is keyed ecx,write, the order
# blk_report.py reads its key pairs in (bench/net's is write,ecx, read by name).
hist_define sqe io_uring/io_uring_submit_sqe 'hist:keys=opcode:vals=hitcount:sort=hitcount.descending:size=256'
[ -d "${ev[sqe]}" ] || ev[sqe]=$T/events/io_uring/io_uring_submit_req
hist_define async io_uring/io_uring_queue_async_work 'hist:keys=opcode:vals=hitcount:sort=hitcount.descending:size=256'
hist_define msr kvm/kvm_msr 'hist:keys=ecx,write:vals=hitcount:sort=hitcount.descending:size=256'
hist_start exit uexit pio mmio
hist_start_optional sqe async msr
trap hist_stop EXIT
hist_meta
hist_evargs

# ---- Preparation: the disks ----
t0=$EPOCHREALTIME
(
	set -e
	echo "copying $disk to $work/disk.raw"
	rm -f "$work/disk.raw" "$work/data.raw"
	cp --sparse=always "$disk" "$work/disk.raw"
	chmod 0644 "$work/disk.raw"
	# The guest's PID 1: runs the jobs on /dev/vdb, prints the results, powers off.
	g=$work/run.sh
	{
		cat <<-'EOF'
		#!/bin/bash
		# bench/blk guest init (PID 1, started by the kernel: init=/hvbench/run.sh).
		export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C
		[ -r /proc/uptime ] || mount -t proc proc /proc
		[ -d /sys/block ] || mount -t sysfs sysfs /sys
		[ -e /dev/null ] || mount -t devtmpfs devtmpfs /dev
		mount -t tmpfs -o size=64m tmpfs /tmp
		say() { printf '%s\n' "$*"; }
		off() { say "HVBENCH-DONE $*"; sync; echo o >/proc/sysrq-trigger; sleep 60; }
		say "HVBENCH-UP uptime=$(cut -d' ' -f1 /proc/uptime)"
		dev=vdb
		[ -b /dev/$dev ] || { say "HVBENCH-ERROR no /dev/$dev"; off error; }
		# The CD jobs' /dev/sr0: virtio-scsi and the SCSI CD driver (no udev here).
		modprobe -a virtio_scsi sr_mod 2>/dev/null
		for i in $(seq 100); do [ -b /dev/sr0 ] && break; sleep 0.1; done
		q=/sys/block/$dev/queue
		echo none >$q/scheduler 2>/dev/null
		virtio=$(basename "$(readlink -f /sys/block/$dev/device)")
		say "HVBENCH-INFO dev=$dev virtio=$virtio mq=$(ls /sys/block/$dev/mq | wc -l)" \
			"sectors=$(cat /sys/block/$dev/size) sched=$(cat $q/scheduler | tr ' ' ,)" \
			"max_sectors_kb=$(cat $q/max_sectors_kb) max_segments=$(cat $q/max_segments)" \
			"nr_requests=$(cat $q/nr_requests) nproc=$(nproc) kernel=$(uname -r) fio=$(fio --version)" \
			"clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
		# The interrupt counts of vdb's virtio device: NAME=sum over the CPUs per line.
		irqs() {
			awk -v v="$virtio" '$NF ~ ("^" v "(-|$)") { s = 0
				for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i
				printf " %s=%d", $NF, s }' /proc/interrupts
		}
		say "HVBENCH-IRQLINES$(awk -v v="$virtio" '$NF ~ ("^" v "(-|$)")' /proc/interrupts | tr -s ' ' | tr '\n' ';')"
		# Characters ttyS0's driver sent (not counting printk's console writes).
		ttytx() { sed -n 's/^0:.* tx:\([0-9]*\).*/\1/p' /proc/tty/driver/serial; }
		# From here on the kernel log holds what happened during the jobs only.
		dmesg -C
		job() {	# job NAME FIO-OPTIONS...; t= is this guest's clock (against the lab's)
			local name=$1 rc i0 i1 s0 s1 x0 x1 dev=$dev virtio=$virtio
			shift
			case $name in cd-*)	# the CD: sr0 and its virtio-scsi device's interrupts
				dev=sr0
				virtio=$(readlink -f /sys/block/sr0/device | grep -o 'virtio[0-9]*' | tail -n 1)
				[ -b /dev/sr0 ] || { say "HVBENCH-ERROR $name: no /dev/sr0"; return; }
				;;
			esac
			say "HVBENCH-BEGIN $name t=$EPOCHREALTIME"
			sleep 2
			i0=$(irqs); s0=$(cat /sys/block/$dev/stat); x0=$(ttytx)
			fio --name="$name" --filename=/dev/$dev --output=/tmp/$name.json "$@" >/tmp/$name.err 2>&1
			rc=$?
			i1=$(irqs); s1=$(cat /sys/block/$dev/stat)
			say "HVBENCH-END $name rc=$rc t=$EPOCHREALTIME"
			sleep 2
			x1=$(ttytx)	# after END went out: the lab's window ends when it has read END
			say "HVBENCH-IRQ $name before$i0"
			say "HVBENCH-IRQ $name after$i1"
			say "HVBENCH-STAT $name before" $s0
			say "HVBENCH-STAT $name after" $s1
			say "HVBENCH-TTY $name before $x0"
			say "HVBENCH-TTY $name after $x1"
			[ $rc = 0 ] || sed "s/^/HVBENCH-FIOERR $name /" /tmp/$name.err | head -20
			say "HVBENCH-JSON-BEGIN $name"
			cat /tmp/$name.json
			say "HVBENCH-JSON-END $name"
		}
		EOF
		for j in "${jobs[@]}"; do
			printf 'job %s %s %s\n' "${j%%|*}" "$common" "${j#*|}"
		done
		echo 'say HVBENCH-DMESG-BEGIN; dmesg --color=never; say HVBENCH-DMESG-END'
		echo 'off ok'
	} >"$g"
	chmod 0755 "$g"
	install_init "$work/disk.raw" "$g"
	echo "making $work/cd.iso: ISO 9660 holding 256 MiB of random data (the CD jobs)"
	rm -rf "$work/cd" "$work/cd.iso"
	mkdir "$work/cd"
	head -c 256M /dev/urandom >"$work/cd/data"
	xorriso -as mkisofs -quiet -V HVBENCH -o "$work/cd.iso" "$work/cd"
	rm -rf "$work/cd"
	echo "filling $work/data.raw: 1 GiB written once (fio, sequential 1 MiB, O_DIRECT)"
	fio --name=fill --filename="$work/data.raw" --size=1G --rw=write --bs=1M --iodepth=8 \
		--direct=1 --ioengine=io_uring --output-format=terse >/dev/null
	ls -ls "$work/data.raw" "$work/disk.raw"
	du -h --apparent-size "$work/data.raw"; du -h "$work/data.raw"
	sync
) >"$raw/prep.log" 2>&1
prep=$?
set +e
prep_done $prep "$t0" "log: prep.log"

# ---- The guests ----
# Both: the root disk, the data disk (vdb), the CD on virtio-scsi, COM1.
qemu_base blkbench
# shellcheck disable=SC2054  # the commas are QEMU's
qemu+=(-drive "file=$work/data.raw,if=none,id=d1,format=raw,cache=none,aio=io_uring"
      -device virtio-blk-pci,drive=d1
      -device virtio-scsi-pci,id=scsi0
      -drive "file=$work/cd.iso,if=none,id=cd0,media=cdrom,readonly=on,format=raw"
      -device scsi-cd,drive=cd0,bus=scsi0.0)
hvrun_base
hv+=(-d "$work/data.raw,cache=none" --cdrom "$work/cd.iso")
run_timeout=${HVRUN_BENCH_RUN_TIMEOUT:-$((600 + ${#jobs[@]} * (3 * runtime + 60)))}

run_vmm() {	# run_vmm NAME CMD...
	local v=$1 s rc
	shift
	hist_clear_all
	say "$v: booting ($*)"
	rm -f "$raw/$v.tpid"
	# Both start with a cold page cache; afterwards, how much of data.raw is in it (with
	# cache=none, nothing the VMM read or wrote should be).
	sync
	echo 1 >/proc/sys/vm/drop_caches 2>/dev/null
	s=$EPOCHREALTIME
	# Its pid for the reader: the child of timeout, whose pid the subshell writes before
	# it becomes timeout.
	(echo "$BASHPID" >"$raw/$v.tpid"; exec timeout -k 10 "$run_timeout" "$@" </dev/null 2>"$raw/$v.stderr") |
		"${reader[@]}" --name bench/blk --interrupts "$raw" "$v" "$raw/$v.tpid" "$s" "${evargs[@]}"
	rc=${PIPESTATUS[0]}
	{
		echo "rc=$rc"
		echo "wall_s=$(awk -v s="$s" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }')"
		echo "start=$s"
		echo "timeout_s=$run_timeout"
		echo "data_cached=$(fincore -nb -o RES "$work/data.raw" 2>/dev/null | tr -d ' ')"
	} >"$raw/$v.run.env"
	say "$v: exit $rc after $(sed -n 's/^wall_s=//p' "$raw/$v.run.env") s"
	[ -s "$raw/$v.stderr" ] && sed 's/^/    stderr: /' "$raw/$v.stderr" | head -30 >&2
}
# Page cache: read the kernel, initrd and binaries once, so neither VMM pays for 9p.
warm_cache "$kernel" "$initrd" "$hvrun" "$(command -v qemu-system-x86_64)" /usr/share/qemu/*
# A guest that dies before its script starts is booted once more (lib/inner.sh's
# run_vmm_retry), whatever the reason.
retry_min_wall=0
# HVRUN_BENCH_BLK_TARGETS: a subset of "hvrun qemu host" (while tuning one VMM; a report
# to compare needs all three), the VMMs run in the order given (bench/blk-rounds
# alternates it: what runs later in a lab session runs in a lab that has done more).
targets=" ${HVRUN_BENCH_BLK_TARGETS:-hvrun qemu host} "
hv+=(${HVRUN_BENCH_BLK_HVRUN_ARGS:-})	# extra hvrun options, word-split (e.g. --stats)
for t in $targets; do
	case $t in
	hvrun) run_vmm_retry hvrun "${hv[@]}" ;;
	qemu) run_vmm_retry qemu "${qemu[@]}" ;;
	esac
done

# ---- The limit: fio with io_uring on the data image, in this kernel ----
[[ $targets == *" host "* ]] || jobs=()
[ ${#jobs[@]} = 0 ] || say "host: fio io_uring on $work/data.raw"
for j in "${jobs[@]}"; do
	n=${j%%|*}
	# shellcheck disable=SC2086  # word splitting wanted: options
	f=$work/data.raw
	[[ $n == cd-* ]] && f=$work/cd.iso
	fio --name="$n" --filename="$f" --output="$raw/host.$n.json" $common ${j#*|} \
		>"$raw/host.$n.err" 2>&1
	echo "rc=$?" >"$raw/host.$n.rc"
	say "host: $n $(cat "$raw/host.$n.rc")"
done
date -u +%FT%TZ >"$raw/done"
exit 0
