#!/bin/sh
# init.sh: /init of the test initramfs (tests/guests/mkinitramfs.sh).  PID 1 in a guest
# that hvrun booted.  It reports what the guest sees as "HVTEST key=value" lines on the
# serial console and powers off; the integration tests assert on those lines.
# The kernel command line picks the job: hvtest=report (default) | shell | reboot | marker
# | read (one 4 KiB read of /dev/vda) | cdrom (the CD-ROM: /dev/sr0, its label, a file on it)
# | flood (megabytes to hvc0 and ttyS0, for ever: stuck_terminal.sh) | idle (up, then quiet)
# | hostile (/bin/hostile, tests/hostile/hostile.c, plays a malicious driver; hostile=CASE
# runs one case or one device's cases)
# (marker: print "HVTEST marker" at once and power off; bench/boot times it).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/ttyS0 >/dev/ttyS0 2>&1
mode=report
hostile_args=
for arg in $(cat /proc/cmdline); do
	case $arg in
	hvtest=*) mode=${arg#hvtest=} ;;
	hostile=*) hostile_args=${arg#hostile=} ;;
	esac
done
# The virtio drivers, when mkinitramfs.sh was given a kernel's modules; not in hostile
# mode, where tests/hostile/hostile.c drives the devices itself.
if [ -f /modules/order ] && [ "$mode" != hostile ]; then
	while read -r mod; do insmod "/modules/$mod.ko" || echo "HVTEST insmod_failed=$mod"; done </modules/order
	mdev -s 2>/dev/null
fi
if [ "$mode" = marker ]; then
	echo "HVTEST marker"
	poweroff -f
fi
echo "HVTEST boot mode=$mode"

report() {
	echo "HVTEST nproc=$(nproc)"
	echo "HVTEST memtotal_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
	# "Memory: AVAILK/TOTALK available (...)": TOTAL is the RAM the kernel found.
	echo "HVTEST memline=$(dmesg | sed -n 's/.*Memory: \([0-9]*K\/[0-9]*K\) available.*/\1/p')"
	echo "HVTEST cmdline=$(cat /proc/cmdline)"
	echo "HVTEST clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	echo "HVTEST acpi_tables=$(ls /sys/firmware/acpi/tables | tr '\n' ' ')"
	echo "HVTEST date=$(date +%s)"
	echo "HVTEST localtime_rtc=$(cat /sys/class/rtc/rtc0/time 2>/dev/null) $(cat /sys/class/rtc/rtc0/date 2>/dev/null)"
	grep 'System RAM' /proc/iomem | sed 's/^ */HVTEST iomem=/'
	echo "HVTEST cpus_online=$(cat /sys/devices/system/cpu/online)"
	echo "HVTEST ioapic=$(grep -c IO-APIC /proc/interrupts)"
	echo "HVTEST serial_irq=$(awk '/ttyS0/ { print $1 }' /proc/interrupts | tr -d :)"
	echo "HVTEST lspci=$(for d in /sys/bus/pci/devices/*; do
		printf '%s:%s:%s ' "${d##*/}" "$(cat "$d/vendor")" "$(cat "$d/device")"; done)"
	# What the kernel complained about: the tests decide which lines are acceptable.
	dmesg | grep -iE 'ACPI (Error|BIOS Error|Warning)|spurious|unexpected IRQ|APIC error|Call Trace|WARNING:|BUG:|\bfail' |
		sed 's/^/HVTEST dmesg: /'
	echo "HVTEST dmesg_lines=$(dmesg | wc -l)"
}

# hvtest=virtio: what the guest sees of hvrun's virtio devices, and a disk round trip.
virtio_report() {
	local d b
	for d in /sys/bus/pci/devices/*; do
		echo "HVTEST pci=${d##*/} id=$(cat "$d/vendor"):$(cat "$d/device") class=$(cat "$d/class")" \
			"subsys=$(cat "$d/subsystem_vendor"):$(cat "$d/subsystem_device")" \
			"msix=$(ls "$d/msi_irqs" 2>/dev/null | wc -l)" \
			"driver=$(basename "$(readlink "$d/driver")" 2>/dev/null)"
	done
	for b in /sys/block/vd*; do
		[ -e "$b" ] || continue
		echo "HVTEST disk=${b##*/} size=$(cat "$b/size") ro=$(cat "$b/ro") serial=$(cat "$b/serial")" \
			"queues=$(ls "$b/mq" | wc -l) lbs=$(cat "$b/queue/logical_block_size")" \
			"pbs=$(cat "$b/queue/physical_block_size") discard=$(cat "$b/queue/discard_max_bytes")" \
			"wzeroes=$(cat "$b/queue/write_zeroes_max_bytes") cache=$(cat "$b/queue/write_cache")"
	done
	echo "HVTEST rng_current=$(cat /sys/devices/virtual/misc/hw_random/rng_current 2>/dev/null)"
	echo "HVTEST rng_bytes=$(head -c 4096 /dev/hwrng 2>/dev/null | wc -c)"
	echo "HVTEST rng_distinct=$(head -c 4096 /dev/hwrng 2>/dev/null | od -An -tx1 -v | tr -s ' ' '\n' | sort -u | wc -l)"
	echo "HVTEST hvc0=$(ls /dev/hvc0 2>/dev/null)"
	# Nothing is written to hvc0 here: both consoles end up on hvrun's stdout, and a
	# line of one could land inside a line of the other (hvtest=hvcin checks hvc0).
	if [ -b /dev/vda ]; then
		# The first 4 MiB as the host wrote them; then 4 MiB of a known pattern at 4 MiB,
		# written with O_DIRECT and flushed, read back the same way.
		echo "HVTEST vda_head_sha=$(dd if=/dev/vda bs=1M count=4 iflag=direct 2>/dev/null | sha256sum | cut -c1-64)"
		yes hvrun-block-pattern | head -c 4194304 | dd of=/dev/vda bs=1M seek=4 oflag=direct conv=fsync 2>/dev/null
		echo "HVTEST vda_write_rc=$?"
		echo "HVTEST vda_back_sha=$(dd if=/dev/vda bs=1M skip=4 count=4 iflag=direct 2>/dev/null | sha256sum | cut -c1-64)"
	fi
	if [ -b /dev/vdb ]; then
		dd if=/dev/zero of=/dev/vdb bs=4096 count=1 oflag=direct 2>/dev/null
		echo "HVTEST vdb_write_rc=$?"
	fi
	grep -E 'virtio' /proc/interrupts | sed 's/^ */HVTEST irq: /'
	dmesg | grep -iE 'virtio|vd[a-z]|hvc|Call Trace|WARNING:|BUG:|I/O error' | sed 's/^/HVTEST dmesg: /'
}

# hvtest=cdrom: the CD-ROM the firmware booted from (tests/guests/mkiso.sh --kind grub):
# the SCSI CD drive, its ISO 9660 volume label, and /hvrun-cd.txt read from it.
cdrom_report() {
	local i=0 d=/sys/block/sr0
	# The SCSI scan may finish after the modules are loaded: wait for sr0 (10 s).
	while [ ! -e $d ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	mdev -s 2>/dev/null
	if [ ! -e $d ]; then
		echo "HVTEST cdrom=none"
		ls /sys/block | sed 's/^/HVTEST block: /'
		dmesg | grep -iE 'scsi|sr[0-9]|cdrom|virtio' | sed 's/^/HVTEST dmesg: /'
		return
	fi
	echo "HVTEST cdrom=sr0 vendor=$(cat $d/device/vendor) model=$(cat $d/device/model)" \
		"size=$(cat $d/size) ro=$(cat $d/ro) driver=$(basename "$(readlink $d/device/driver)")"
	# The volume label: byte 40 of the primary volume descriptor (sector 16, at 32 KiB).
	echo "HVTEST cd_label=$(dd if=/dev/sr0 bs=2048 skip=16 count=1 2>/dev/null | dd bs=1 skip=40 count=32 2>/dev/null | tr -d ' ')"
	echo "HVTEST cd_findfs=$(findfs LABEL=HVRUN_GRUB 2>/dev/null)"
	mkdir -p /cdrom
	if mount -t iso9660 -o ro /dev/sr0 /cdrom; then
		echo "HVTEST cd_mount=ok"
		echo "HVTEST cd_file=$(cat /cdrom/hvrun-cd.txt)"
		echo "HVTEST cd_files=$(ls /cdrom | tr '\n' ' ')"
		umount /cdrom
	else
		echo "HVTEST cd_mount=failed"
	fi
	dmesg | grep -iE 'Call Trace|WARNING:|BUG:|I/O error|sr0.*(error|fail)' | sed 's/^/HVTEST dmesg: /'
}

case $mode in
cdrom)
	cdrom_report
	echo "HVTEST done"
	poweroff -f
	;;
read)
	# One 4 KiB O_DIRECT read of /dev/vda at byte 777 * 4096 (sector 6216), between two
	# console lines: what --trace virtio,irq shows for one request (docs/09-one-request.md).
	echo "HVTEST read begin"
	dd if=/dev/vda of=/dev/null bs=4096 skip=777 count=1 iflag=direct 2>/dev/null
	echo "HVTEST read rc=$?"
	poweroff -f
	;;
idle)
	# Up and then quiet until hvrun stops it: bench/endurance runs 20 such guests at once.
	echo "HVTEST idle ready"
	while :; do sleep 3600; done
	;;
flood)
	# Issue 12: megabytes to hvc0 and ttyS0 for as long as the guest runs, 128 KiB and
	# 2 KiB a round, a numbered tick after each round on both; stuck_terminal.sh stops
	# reading hvrun's output and reads it again.  ttyS0 costs an exit a byte (at 16 KiB a
	# round, the nested lab's emulator failed under the exit rate).
	echo "HVTEST flood ready"
	# No output processing on hvc0 (no \n -> \r\n): the tty then hands the driver whole
	# buffers, not a line at a time, and a megabyte is a few hundred chains, not 21,000.
	stty -F /dev/hvc0 raw -echo 2>/dev/null
	i=0
	while :; do
		i=$((i + 1))
		yes HVFLOOD-hvc0-0123456789abcdefghijklmnopqrstuvwxyz | head -c 131072 >/dev/hvc0
		yes HVFLOOD-ttyS0-0123456789abcdefghijklmnopqrstuvwxyz | head -c 2048
		echo "HVTEST flood tick=$i"
		echo "HVTEST flood hvc0 tick=$i" >/dev/hvc0
	done
	;;
hvcin)
	# A line typed on hvrun's standard input (--console virtio) arrives on hvc0, and
	# output goes out through it.  Every line the test reads goes to hvc0 (one write
	# each: a ttyS0 byte may come between two of them, never inside one), none to ttyS0.
	echo "HVCONSOLE hello through hvc0" >/dev/hvc0
	echo "HVTEST hvcin ready" >/dev/hvc0
	read -r line </dev/hvc0
	echo "HVTEST hvc_in=$line" >/dev/hvc0
	poweroff -f
	;;
hostile)
	# No virtio driver is loaded: /bin/hostile (added by tests/integration/hostile.sh)
	# owns the devices.  It prints "HOSTILE ..." lines; then a pause in which the host
	# asks hvctl status once more, and power off.
	if [ -x /bin/hostile ]; then
		/bin/hostile $hostile_args
		echo "HOSTILE exit=$?"
	else
		echo "HOSTILE exit=none (no /bin/hostile in the initramfs)"
	fi
	echo "HOSTILE waiting"
	sleep 5
	poweroff -f
	;;
virtio)
	virtio_report
	echo "HVTEST done"
	poweroff -f
	;;
report)
	report
	echo "HVTEST done"
	poweroff -f
	;;
shell)
	echo "HVTEST shell ready"
	# A shell with the serial port as its controlling terminal; when it exits, power off.
	setsid cttyhack sh
	poweroff -f
	;;
reboot)
	echo "HVTEST rebooting"
	reboot -f
	;;
esac
sleep 5
echo "HVTEST init could not power off"
