#!/usr/bin/env bash
# boot_linux_cloud: Debian's cloud kernel flavour (linux-image-cloud-amd64), built without
# MP-table parsing (CONFIG_X86_MPPARSE unset): SMP and IOAPIC routing come from ACPI alone.
. "$(dirname "$0")/lib/common.sh"
HVRUN_TEST_KERNEL=$("$HVRUN_SRC/tests/guests/fetch-kernel.sh" cloud-amd64) ||
	fail "cannot fetch Debian's cloud kernel"
. "$(dirname "$0")/lib/linux.sh"

config=$(dirname "$KERNEL")/config-${KERNEL##*/vmlinuz-}
grep -qx '# CONFIG_X86_MPPARSE is not set' "$config" || fail "$config: MPPARSE is not unset"

# One boot, about 20 s in the lab: a lab hang is found after 120 s.
rc=0; LAB_TIMEOUT=120 kvm_run "$HVRUN" -k "$KERNEL" -i "$INITRD" -c 4 -m 256 -a "console=ttyS0 quiet hvtest=report" || rc=$?
expect_status 0 "$rc" "the cloud kernel's boot and poweroff"
expect_in out "HVTEST done"
[ "$(hvtest out nproc)" = 4 ] || fail "nproc $(hvtest out nproc), expected 4"
[ "$(hvtest out clocksource)" = kvm-clock ] || fail "clocksource $(hvtest out clocksource)"
[ "$(hvtest out ioapic)" -ge 1 ] || fail "no IO-APIC interrupts in /proc/interrupts"
[ "$(hvtest out serial_irq)" = 4 ] || fail "ttyS0 is not on IRQ 4"
pass "cloud kernel ($(basename "$KERNEL")): 4 CPUs and IOAPIC from ACPI alone ($(kvm_mode))"
