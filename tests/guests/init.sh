#!/bin/sh
# init.sh: /init of the test initramfs (tests/guests/mkinitramfs.sh).  PID 1 in a guest
# that hvrun booted.  It reports what the guest sees as "HVTEST key=value" lines on the
# serial console and powers off; the integration tests assert on those lines.
# The kernel command line picks the job: hvtest=report (default) | shell | reboot | marker
# (marker: print "HVTEST marker" at once and power off; bench/boot times it).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/ttyS0 >/dev/ttyS0 2>&1

mode=report
for arg in $(cat /proc/cmdline); do
	case $arg in hvtest=*) mode=${arg#hvtest=} ;; esac
done
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

case $mode in
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
