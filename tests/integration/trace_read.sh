#!/usr/bin/env bash
# trace_read: --trace virtio,irq shows one guest read from the driver to the host file and
# back, in order.  Debian's kernel and the test initramfs (hvtest=read) read 4 KiB of
# /dev/vda at sector 6216 with O_DIRECT and power off:
#   hvrun -k vmlinuz -i initrd -d disk.raw -a "... hvtest=read" --trace virtio,irq --stats
# In the trace, for that request: the queue notification (ioeventfd: the I/O thread woke),
# the chain popped, the request decoded (IN, sector 6216, 4096 B), the io_uring READV at
# byte 3182592, its completion (res 4096), the used element, the interrupt decision and
# the MSI-X irqfd signal -- each line naming the hvrun function that handled it.  --stats
# prints vda's counters at exit.  Without --trace, nothing is printed (free when off).
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/linux.sh"

truncate -s 64M "$T/disk.raw"
# The disk where O_DIRECT works (cache=none, the default): the lab's scratch disk.
D=$T/disk.raw
[ "$(kvm_mode)" = lab ] && D=/scratch/disk.raw LAB_OPTS="--scratch 256M"
cat >"$T/run.sh" <<SCRIPT
[ "$D" = "$T/disk.raw" ] || cp --sparse=always "$T/disk.raw" "$D"
timeout 300 "$HVRUN" -k "$KERNEL" -i "$INITRD" -d "$D" -a "console=ttyS0 quiet hvtest=read" \
	--trace virtio,irq --stats >$T/guest.out 2>/tmp/trace.txt; echo \$? >$T/trace.rc
cp /tmp/trace.txt $T/trace.txt
timeout 300 "$HVRUN" -k "$KERNEL" -i "$INITRD" -d "$D" -a "console=ttyS0 quiet hvtest=read" \
	>/dev/null 2>$T/quiet.err; echo \$? >$T/quiet.rc
SCRIPT
rc=0; kvm_run bash "$T/run.sh" || rc=$?
expect_status 0 "$rc" "the lab script"
cp "$T/trace.txt" "$T/err"; cp "$T/guest.out" "$T/out"
expect_status 0 "$(cat "$T/trace.rc")" "hvrun --trace virtio,irq"
expect_in out "HVTEST read rc=0"
expect_status 0 "$(cat "$T/quiet.rc")" "hvrun without --trace"
[ -s "$T/quiet.err" ] && { cp "$T/quiet.err" "$T/err"; fail "without --trace hvrun printed on stderr"; }

# The request: its chain head is on the "IN (read), sector 6216, 4096 B" line.
req=$(grep -n 'vda q[0-9]* head [0-9]*: IN (read), sector 6216, 4096 B' "$T/trace.txt" | head -n 1)
[ -n "$req" ] || fail "no trace line for the read of sector 6216"
n=${req%%:*}
q=$(sed -E 's/.*vda (q[0-9]+) head ([0-9]+):.*/\1/' <<<"$req"); head=$(sed -E 's/.*vda q[0-9]+ head ([0-9]+):.*/\1/' <<<"$req")
# Each step: a pattern, searched in order from the line before (or after) the request.
before() {	# before PATTERN: the last line before the request matching it (its number)
	head -n "$n" "$T/trace.txt" | grep -n -E "$1" | tail -n 1 | cut -d: -f1
}
after() {	# after FROM PATTERN: the first line after line FROM matching it
	tail -n +"$(($1 + 1))" "$T/trace.txt" | grep -n -E "$2" | head -n 1 |
		awk -F: -v base="$1" '{ print $1 + base }'
}
l_notify=$(before "virtio_pci.c:[a-z_]+: vda $q notified")
l_pop=$(before "virtqueue.c:vq_pop: vda $q: chain head $head: ")
l_submit=$(after "$n" "raw_image.c:[a-z_]+: .*io_uring READV fd [0-9]+, offset 3182592, 4096 B")
l_done=$(after "${l_submit:-$n}" "raw_image.c:[a-z_]+: .*io_uring completion: .*res 4096")
l_used=$(after "${l_done:-$n}" "virtqueue.c:vq_fill: vda $q: used: head $head, len 4097")
l_publish=$(after "${l_used:-$n}" "virtqueue.c:vq_flush: vda $q: used idx [0-9]+ -> [0-9]+ ")
l_irq=$(after "${l_publish:-$n}" "virtqueue.c:[a-z_]+: vda $q: interrupt")
l_msix=$(after "${l_irq:-$n}" "virtio_pci.c:[a-z_]+: vda: MSI-X vector [0-9]+: irqfd signalled")
prev=0
for step in notify pop req submit done used publish irq msix; do
	v=l_$step; [ "$step" = req ] && v=n
	[ -n "${!v}" ] || fail "the trace lacks the '$step' step of the read (head $head on $q)"
	[ "${!v}" -gt "$prev" ] || fail "the '$step' step (line ${!v}) comes before the previous one (line $prev)"
	prev=${!v}
done
echo "one read, as --trace virtio,irq printed it (lines $l_notify-$l_msix of $(wc -l <"$T/trace.txt")):"
for l in $l_notify $l_pop $n $l_submit $l_done $l_used $l_publish $l_irq $l_msix; do sed -n "${l}p" "$T/trace.txt"; done
echo "vda's set-up, as the guest's driver did it:"
grep -E 'vda(:| q0:) (device_status|features|queue_(size|msix_vector|desc|enable)|enabled|MSI-X vector [0-9]+ ->)' "$T/trace.txt" | head -n 16
echo "--stats at exit (vda):"
grep -A14 -E '^ *vda' "$T/trace.txt" | head -n 15
pass "--trace virtio,irq follows one read: notify, pop, IN sector 6216, io_uring READV, completion, used element, used idx, interrupt, MSI-X ($(kvm_mode))"
