/* acpi.h: the ACPI tables an x86 guest needs for SMP and IOAPIC routing from ACPI alone. */
#ifndef FIRMWARE_ACPI_H
#define FIRMWARE_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/acpi_loader.h"	/* the same tables for the firmware: acpi_build_blobs() */
#include "hv/base/guest_mem.h"

/*
 * What acpi_build() writes (ACPI 6.4 §5.2):
 *
 *   at rsdp_gpa:   RSDP, revision 2, 36 bytes (§5.2.5.3)
 *   at tables_gpa: FACS (64-byte aligned), DSDT, FADT, MADT, MCFG (only
 *                  with ECAM), XSDT, and an RSDT when every table lies
 *                  below 4 GiB; each table starts 8-byte aligned.
 *
 * The RSDP must lie where a legacy-booted OS scans for it (§5.2.5.1: the
 * BIOS read-only area 0xE0000-0xFFFFF, on a 16-byte boundary), unless the
 * loader also hands its address over (Linux: boot_params.acpi_rsdp_addr).
 * The tables may lie anywhere in guest RAM.  The caller's E820 map must
 * mark both ranges as not usable RAM: [tables_gpa, tables_gpa + *used) as
 * ACPI (type 3) or reserved, the RSDP's 36 bytes as reserved.
 */
#define ACPI_RSDP_SIZE		36
#define ACPI_RSDP_AREA_START	0xE0000ULL
#define ACPI_RSDP_AREA_END	0x100000ULL	/* exclusive */
#define ACPI_MAX_CPUS		255		/* xAPIC ids 0..254; 0xff is broadcast */
#define ACPI_TABLES_MAX_SIZE	0x2000		/* enough for any valid config */

struct acpi_config {
	/*
	 * Processors: nr_cpus (1..ACPI_MAX_CPUS) Processor Local APIC entries
	 * with LAPIC ids 0..nr_cpus-1; the ACPI processor UID of each equals
	 * its LAPIC id.
	 */
	unsigned int nr_cpus;
	uint32_t lapic_addr;		/* LAPIC MMIO base, 0xfee00000 */
	uint32_t ioapic_addr;		/* IOAPIC MMIO base, 0xfec00000; its GSI base is 0 */
	/*
	 * IOAPIC id: use 0.  KVM's in-kernel IOAPIC resets its ID register to
	 * 0, so 0 is what the guest reads back, and x86-64 Linux keeps IOAPIC
	 * ids in their own name space (they share the 3-wire APIC bus with
	 * LAPIC ids only on P6-era parts, which is why the MP spec habit is
	 * nr_cpus).  Any value but 0xff is accepted.
	 */
	uint8_t ioapic_id;
	/*
	 * Fixed ACPI hardware (§4.8), both required since the tables are not
	 * HW_REDUCED: PM1a_EVT_BLK is 4 ports (PM1_STS word, then PM1_EN
	 * word, §4.8.3.1), PM1a_CNT_BLK 2 ports (SCI_EN, SLP_TYP, SLP_EN,
	 * §4.8.3.2).  E.g. 0x600 and 0x604.
	 */
	uint16_t pm1a_evt_port;
	uint16_t pm1a_cnt_port;
	/*
	 * SLP_TYP value (0..7) that hvrun's PM1a_CNT decoder treats as S5 (soft
	 * off) when written with SLP_EN; it becomes the DSDT's \_S5_ package.
	 */
	uint8_t s5_slp_typ;
	/*
	 * FADT RESET_REG (system I/O, 8 bits) and RESET_VALUE: 0xcf9 and 6.
	 * reset_port 0 leaves the reset register out (RESET_REG_SUP clear).
	 */
	uint16_t reset_port;
	uint8_t reset_value;
	/*
	 * The SCI: an ISA IRQ (1..15 but 2) routed to the same GSI, level
	 * triggered and active high (MADT interrupt source override).
	 */
	uint8_t sci_irq;
	/*
	 * PCI Express ECAM: ecam_base 0 means none (legacy 0xcf8 only, a
	 * PNP0A03 root bridge with bus 0 only).  Otherwise 1 MiB aligned, an
	 * MCFG entry for segment 0, buses 0..ecam_bus_end, a PNP0A08 root
	 * bridge with that bus range, and a PNP0C02 device reserving the
	 * (ecam_bus_end + 1) MiB so that Linux accepts the MMCONFIG region.
	 */
	uint64_t ecam_base;
	uint8_t ecam_bus_end;		/* last PCI bus; 0 for a single bus */
	/*
	 * PCI0 _CRS memory windows, where the guest may place BARs.  The 32-bit
	 * one must end at or below 4 GiB and miss the LAPIC, IOAPIC and ECAM;
	 * the 64-bit one must miss ECAM.  A size of 0 leaves a window out.
	 * Neither may be RAM nor marked reserved in E820 (Linux clips host
	 * bridge windows against E820 reservations).
	 */
	uint32_t pci_mmio32_base;
	uint32_t pci_mmio32_size;
	uint64_t pci_mmio64_base;
	uint64_t pci_mmio64_size;
	/*
	 * PCI INTx routing: with a base (16 for IOAPIC pins 16-23) PCI0 gets a
	 * _PRT sending pin P (0 = INTA) of slot S to GSI base + (S + P) % 8,
	 * level-triggered and active low as a _PRT without link devices implies
	 * (ACPI 6.4 §6.2.13).  0 leaves _PRT out.
	 */
	uint8_t pci_intx_gsi_base;
	/* A PNP0501 16550 at 0x3f8, IRQ 4, in the DSDT (\_SB.COM1). */
	bool com1;
};

/*
 * Builds the tables for *cfg and writes them, through gm_write() only: the
 * RSDP at rsdp_gpa (16-byte aligned inside ACPI_RSDP_AREA_START..END), the
 * other tables from tables_gpa on, in at most tables_max bytes, not
 * overlapping the RSDP.  On success *used gets the bytes used from
 * tables_gpa (alignment padding included) and 0 is returned.  Nothing is
 * written on failure, which returns
 *   -EINVAL  a bad config or RSDP address,
 *   -ENOSPC  the tables need more than tables_max bytes (*used gets the need),
 *   -EFAULT  the RSDP or the tables are not inside guest RAM,
 *   -ENOMEM  no host memory for the staging buffer,
 * with a one-line reason in err (errlen bytes, NUL-terminated; err may be NULL).
 */
int acpi_build(const struct acpi_config *cfg, const struct guest_mem *gm,
	       uint64_t rsdp_gpa, uint64_t tables_gpa, uint64_t tables_max,
	       uint64_t *used, char *err, size_t errlen);

#endif
