#!/bin/sh
# shellcheck shell=dash
#
# /init of the hvrun lab initramfs. Runs as PID 1 inside the QEMU-TCG guest,
# under busybox sh. Built into the initramfs by tests/lab/lab.sh (which also
# decides the module load order); never run on the host.
#
# Job:
#   1. mount proc/sys/dev, insmod the modules listed in /modules/order
#      (dependency order, kvm_amd among them, so /dev/kvm appears);
#   2. mount the per-run dir (9p tag "hvrunrun") at /lab and read /lab/config;
#   3. build the new root: host "/" read-only over 9p + overlayfs with a tmpfs
#      upper layer, the shared dirs read-write at their host paths, the
#      scratch disk at /scratch, proc/sys/dev/tracefs/debugfs;
#   4. print HVRUN-LAB-READY, chroot and run /lab/cmd.sh (written by lab.sh)
#      with stdout+stderr going to the second serial port (ttyS1);
#   5. record the exit status in /lab/exit and as "HVRUN-LAB-EXIT <rc>" on
#      the console, then power off.
# Any failure before the command runs prints "HVRUN-LAB-INIT-FAILED: why" on
# the console and powers off without an exit marker; lab.sh turns that into
# its harness-error exit code.

export PATH=/bin
RUN=/lab            # per-run dir shared by the host (read-write)
NEWROOT=/newroot    # root the command sees
MSIZE=512000        # largest 9p message size the virtio transport allows

fail() {
	echo "HVRUN-LAB-INIT-FAILED: $*"
	if [ -w "$RUN" ]; then echo "$*" >"$RUN/init-error"; fi
	poweroff -f
	sleep 10
}

# --- 1. basic mounts and kernel modules -------------------------------------
mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
# The initramfs has no /dev/console node, so the kernel could not give us
# stdio; take it from devtmpfs now.
exec </dev/null >/dev/console 2>&1

say() { echo "hvrun-lab: $*"; }

say "init started, loading modules"
# Module parameters from the kernel command line, as modprobe would take them
# (kvm_amd.vgif=0 -> insmod kvm_amd.ko vgif=0): lab.sh's HVRUN_LAB_APPEND sets them.
modparams() {	# modparams MODULE: its "param=value" words of /proc/cmdline
	local w
	for w in $(cat /proc/cmdline); do
		case $w in "${1//-/_}".*=*) echo "${w#*.}" ;; esac
	done
}
while read -r mod; do
	# shellcheck disable=SC2046
	insmod "/modules/$mod.ko" $(modparams "$mod") || fail "insmod $mod failed (for kvm_amd: does the CPU model offer SVM?)"
done </modules/order

[ -c /dev/kvm ] || fail "/dev/kvm did not appear after loading kvm_amd"
chmod 666 /dev/kvm
ifconfig lo 127.0.0.1 up || fail "cannot bring up lo"
hostname hvrun-lab
say "modules loaded, /dev/kvm present; mounting filesystems"

# --- 2. per-run directory and its config ------------------------------------
mount -t 9p -o "trans=virtio,version=9p2000.L,msize=$MSIZE,cache=mmap" hvrunrun "$RUN" ||
	fail "cannot mount the per-run dir (9p tag hvrunrun)"
[ -r "$RUN/config" ] || fail "no $RUN/config"
[ -r "$RUN/cmd.sh" ] || fail "no $RUN/cmd.sh"

# --- 3. the new root ---------------------------------------------------------
# Host root, read-only; cache=loose is fast and safe because nothing in the
# guest can change it (the writable shares are separate mounts).
mount -t 9p -o "ro,trans=virtio,version=9p2000.L,msize=$MSIZE,cache=loose" hostroot /host ||
	fail "cannot mount the host root (9p tag hostroot)"
mount -t tmpfs -o mode=755 tmpfs /rw || fail "mount tmpfs for the overlay"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work "$NEWROOT" ||
	fail "cannot mount the overlay root"

# Config lines (written by lab.sh, already sorted parents first):
#   share TAG /abs/path     9p tag to mount read-write at the same path
#   scratch /dev/vdX        ext4 scratch disk to mount at /scratch
#   witness SECS            write witness.txt when the command still runs after SECS
WITNESS=
while read -r kind arg path; do
	case $kind in
	share)
		mkdir -p "$NEWROOT$path" || fail "mkdir $path"
		mount -t 9p -o "trans=virtio,version=9p2000.L,msize=$MSIZE,cache=mmap" "$arg" "$NEWROOT$path" ||
			fail "cannot mount share $path (9p tag $arg)"
		;;
	scratch)
		mkdir -p "$NEWROOT/scratch"
		mount -t ext4 "$arg" "$NEWROOT/scratch" || fail "cannot mount scratch disk $arg"
		chmod 1777 "$NEWROOT/scratch"
		;;
	witness) WITNESS=$arg ;;
	'' | '#'*) ;;
	*) fail "bad config line: $kind $arg $path" ;;
	esac
done <"$RUN/config"

mount -t proc proc "$NEWROOT/proc" || fail "mount new /proc"
mount -t sysfs sysfs "$NEWROOT/sys" || fail "mount new /sys"
mount -t devtmpfs devtmpfs "$NEWROOT/dev" || fail "mount new /dev"
mkdir -p "$NEWROOT/dev/pts" "$NEWROOT/dev/shm"
mount -t devpts -o mode=620,ptmxmode=666 devpts "$NEWROOT/dev/pts" || fail "mount devpts"
mount -t tmpfs -o mode=1777 tmpfs "$NEWROOT/dev/shm" || fail "mount /dev/shm"
mount -t tracefs tracefs "$NEWROOT/sys/kernel/tracing" || fail "mount tracefs"
mount -t debugfs debugfs "$NEWROOT/sys/kernel/debug" || fail "mount debugfs"
mkdir -p "$NEWROOT/run/hvrun-lab"
mount -o bind "$RUN" "$NEWROOT/run/hvrun-lab" || fail "bind the per-run dir"

# --- 4. run the command -------------------------------------------------------
# Output goes through a pipe (so, as in CI, stdout is not a tty) to a cat that
# alone holds ttyS1; raw mode keeps "\n" from becoming "\r\n".
stty -F /dev/ttyS1 raw -echo || fail "cannot set up ttyS1"
mkfifo /out.fifo || fail "mkfifo"
cat /out.fifo >/dev/ttyS1 &
catpid=$!

# The boot log so far is on the console (for hang reports); from now on
# show only warnings and worse, so a chatty kernel does not slow the command.
echo 5 >/proc/sys/kernel/printk
# The heartbeat: lab.sh reads the file's age to tell a command that is quiet from an
# emulated machine that stopped (a TCG livelock: nothing in the lab runs any more).
(while :; do date +%s >"$RUN/heartbeat"; sleep 5; done) &
echo $! >"$RUN/heartbeat.pid"
echo "HVRUN-LAB-READY"
# The hang witness (lab.sh prints it with a LAB HANG): every thread of the lab, then
# each hvrun thread's state, system call and kernel stack.  The command ending first
# kills it with the rest below.
if [ -n "$WITNESS" ]; then
	(sleep "$WITNESS" && chroot "$NEWROOT" /bin/bash -c '
		echo "== $(date +%T), ${0}s in: user threads (ps -eLo; kernel threads left out)"
		ps -eLo pid,ppid,tid,stat,pcpu,wchan:24,comm | awk "\$1 != 2 && \$2 != 2"
		for p in $(pgrep -x hvrun); do
			for t in /proc/$p/task/*; do
				echo "== hvrun $p thread ${t##*/} $(cat $t/comm): $(grep ^State: $t/status | cut -f2); syscall $(cut -d" " -f1 $t/syscall)"
				head -n 8 $t/stack
			done
		done' "$WITNESS" >"$RUN/witness.txt" 2>&1) &
fi
env -i chroot "$NEWROOT" /bin/bash /run/hvrun-lab/cmd.sh </dev/null >/out.fifo 2>&1
rc=$?

# Let cat drain the pipe; background processes the command left behind may
# keep the pipe open, so give up after 2 s, then end every process but us.
(sleep 2 && kill "$catpid" 2>/dev/null) &
killer=$!
wait "$catpid"
kill "$killer" 2>/dev/null
kill -TERM -1 2>/dev/null
sleep 0.2
kill -KILL -1 2>/dev/null

# --- 5. report and power off --------------------------------------------------
dmesg >"$RUN/dmesg" 2>/dev/null
echo "$rc" >"$RUN/exit"
echo "HVRUN-LAB-EXIT $rc"
sync
poweroff -f
sleep 10
