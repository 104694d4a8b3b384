/* acpi.c: builds RSDP, XSDT, RSDT, FADT, FACS, DSDT (AML), MADT and MCFG, into guest memory or as the image acpi_loader.c hands the firmware. */
#include "firmware/acpi.h"
#include "firmware/acpi_aml.h"
#include "firmware/acpi_image.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/base/log.h"
#include "hv/base/trace.h"

/* Identity in every table header (ACPI 6.4 §5.2.6). */
#define ACPI_OEM_ID		"HVRUN "	/* 6 bytes */
#define ACPI_OEM_TABLE_ID	"HVRUNVM "	/* 8 bytes */
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_ID		"HVRN"
#define ACPI_CREATOR_REVISION	1
#define ACPI_HYPERVISOR_ID	"HVRUN\0\0\0"	/* FADT 6.0+, 8 bytes */

#define ACPI_HDR_SIZE		36
#define ACPI_TABLE_ALIGN	8
#define ACPI_FACS_SIZE		64
#define ACPI_4GIB		0x100000000ULL
#define ACPI_ECAM_BUS_SIZE	(1ULL << 20)	/* 32 devices x 8 functions x 4 KiB */

/* Table revisions: ACPI 6.4 unless noted. */
#define RSDP_REVISION		2	/* §5.2.5.3: ACPI 2.0+ layout */
#define RSDT_REVISION		1	/* §5.2.7 */
#define XSDT_REVISION		1	/* §5.2.8 */
#define FADT_REVISION		6	/* §5.2.9: major version */
#define FADT_MINOR_REVISION	4	/* §5.2.9: ACPI 6.4 */
#define FACS_VERSION		2	/* §5.2.10 */
#define DSDT_REVISION		2	/* §5.2.11.1: 2 and up = 64-bit integers */
#define MADT_REVISION		5	/* §5.2.12 */
#define MCFG_REVISION		1	/* PCI Firmware 3.2 §4.1.2 */

/* FADT field offsets, ACPI 6.4 §5.2.9 (the FADT format table). */
enum {
	FADT_FIRMWARE_CTRL	= 36,
	FADT_DSDT		= 40,
	FADT_PM_PROFILE		= 45,
	FADT_SCI_INT		= 46,
	FADT_SMI_CMD		= 48,
	FADT_PM1A_EVT_BLK	= 56,
	FADT_PM1A_CNT_BLK	= 64,
	FADT_PM_TMR_BLK		= 76,
	FADT_PM1_EVT_LEN	= 88,
	FADT_PM1_CNT_LEN	= 89,
	FADT_PM_TMR_LEN		= 91,
	FADT_P_LVL2_LAT		= 96,
	FADT_P_LVL3_LAT		= 98,
	FADT_CENTURY		= 108,
	FADT_IAPC_BOOT_ARCH	= 109,
	FADT_FLAGS		= 112,
	FADT_RESET_REG		= 116,
	FADT_RESET_VALUE	= 128,
	FADT_MINOR_VERSION	= 131,
	FADT_X_FIRMWARE_CTRL	= 132,
	FADT_X_DSDT		= 140,
	FADT_X_PM1A_EVT_BLK	= 148,
	FADT_X_PM1A_CNT_BLK	= 172,
	FADT_HYPERVISOR_ID	= 268,
	FADT_SIZE		= 276,
};

/* FADT Flags, ACPI 6.4 §5.2.9 (fixed feature flags). */
#define FADT_F_WBINVD		(1U << 0)
#define FADT_F_PROC_C1		(1U << 2)
#define FADT_F_PWR_BUTTON	(1U << 4)	/* set: control-method or no power button */
#define FADT_F_SLP_BUTTON	(1U << 5)	/* set: control-method or no sleep button */
#define FADT_F_RESET_REG_SUP	(1U << 10)
#define FADT_F_HW_REDUCED_ACPI	(1U << 20)

/* FADT IAPC_BOOT_ARCH, ACPI 6.4 §5.2.9.3. */
#define BOOT_ARCH_LEGACY_DEVICES	(1U << 0)
#define BOOT_ARCH_8042			(1U << 1)
#define BOOT_ARCH_VGA_NOT_PRESENT	(1U << 2)
#define BOOT_ARCH_MSI_NOT_SUPPORTED	(1U << 3)
#define BOOT_ARCH_CMOS_RTC_NOT_PRESENT	(1U << 5)

/* "Not supported" C-state latencies, ACPI 6.4 §5.2.9 (> 100 and > 1000 us). */
#define FADT_C2_NOT_SUPPORTED	101
#define FADT_C3_NOT_SUPPORTED	1001

/* Generic Address Structure, ACPI 6.4 §5.2.3.2. */
#define GAS_SIZE		12
#define GAS_SPACE_SYSTEM_IO	1
#define GAS_ACCESS_BYTE		1
#define GAS_ACCESS_WORD		2

/* MADT, ACPI 6.4 §5.2.12. */
#define MADT_PCAT_COMPAT		(1U << 0)	/* dual 8259s present too */
#define MADT_LAPIC			0		/* §5.2.12.2 */
#define MADT_LAPIC_LEN			8
#define MADT_LAPIC_ENABLED		(1U << 0)
#define MADT_IOAPIC			1		/* §5.2.12.3 */
#define MADT_IOAPIC_LEN			12
#define MADT_ISO			2		/* §5.2.12.5 */
#define MADT_ISO_LEN			10
#define MADT_ISO_BUS_ISA		0
#define MADT_LAPIC_NMI			4		/* §5.2.12.7 */
#define MADT_LAPIC_NMI_LEN		6
#define MADT_ALL_PROCESSORS		0xff
/* MPS INTI flags (§5.2.12.5): polarity in bits 1:0, trigger mode in bits 3:2. */
#define MPS_INTI_CONFORMS		0x0000
#define MPS_INTI_ACTIVE_HIGH		0x0001
#define MPS_INTI_LEVEL			0x000c

/* PM1 register block sizes, ACPI 6.4 §4.8.3.1 and §4.8.3.2. */
#define PM1_EVT_LEN		4
#define PM1_CNT_LEN		2

/* The legacy PCI configuration ports, claimed by the root bridge. */
#define PCI_CONF1_PORT		0xcf8
#define PCI_CONF1_LEN		8
#define COM1_PORT		0x3f8
#define COM1_LEN		8
#define COM1_IRQ		4

static uint8_t acpi_sum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	while (n--)
		sum = (uint8_t)(sum + *p++);
	return sum;
}

static uint8_t *image_file(struct acpi_image *img, unsigned int file)
{
	return file == ACPI_FILE_RSDP ? img->rsdp : img->tables.data;
}

/* Records the pointer field at offset of file, width size, pointing target bytes into the tables. */
static void image_pointer(struct acpi_image *img, enum acpi_file file, size_t offset,
			  unsigned int size, size_t target)
{
	if (img->tables.err)
		return;
	if (img->nptr == ACPI_MAX_POINTERS) {
		img->tables.err = -E2BIG;
		return;
	}
	put_le(image_file(img, file) + offset, target, size);
	img->ptr[img->nptr++] = (struct acpi_pointer){
		.file = (uint8_t)file, .size = (uint8_t)size, .target_file = ACPI_FILE_TABLES,
		.offset = (uint32_t)offset,
	};
}

/* Records a checksum; computing it waits for the link, after the pointers. */
static void image_checksum(struct acpi_image *img, enum acpi_file file, size_t offset,
			   size_t start, size_t length)
{
	if (img->tables.err)
		return;
	if (img->nsum == ACPI_MAX_CHECKSUMS) {
		img->tables.err = -E2BIG;
		return;
	}
	image_file(img, file)[offset] = 0;
	img->sum[img->nsum++] = (struct acpi_checksum){
		.file = (uint8_t)file, .offset = (uint32_t)offset,
		.start = (uint32_t)start, .length = (uint32_t)length,
	};
}

/* [base + off, base + off + len) lies below 4 GiB, without wrapping. */
static bool below_4g(uint64_t base, uint64_t off, uint64_t len)
{
	uint64_t end;

	return !__builtin_add_overflow(base, off, &end) &&
	       !__builtin_add_overflow(end, len, &end) && end <= ACPI_4GIB;
}

/* ACPI 6.4 §5.2.6: the header; Length and Checksum are filled by table_end(). */
static size_t table_begin(struct acpi_buf *b, const char sig[4], uint8_t revision)
{
	size_t start = b->len;

	buf_put(b, sig, 4);
	buf_u32(b, 0);				/* Length */
	buf_u8(b, revision);
	buf_u8(b, 0);				/* Checksum */
	buf_put(b, ACPI_OEM_ID, 6);
	buf_put(b, ACPI_OEM_TABLE_ID, 8);
	buf_u32(b, ACPI_OEM_REVISION);
	buf_put(b, ACPI_CREATOR_ID, 4);
	buf_u32(b, ACPI_CREATOR_REVISION);
	return start;
}

/* The whole table, header included, must sum to zero (ACPI 6.4 §5.2.6). */
static void table_end(struct acpi_image *img, size_t start)
{
	struct acpi_buf *b = &img->tables;

	if (b->err)
		return;
	put_le(b->data + start + 4, b->len - start, 4);
	image_checksum(img, ACPI_FILE_TABLES, start + 9, start, b->len - start);
}

/* ACPI 6.4 §5.2.3.2 */
static void put_gas(uint8_t *p, uint8_t space, uint8_t bit_width, uint8_t access_size, uint64_t addr)
{
	p[0] = space;
	p[1] = bit_width;
	p[2] = 0;				/* Register Bit Offset */
	p[3] = access_size;
	put_le(p + 4, addr, 8);
}

static uint8_t pci_bus_end(const struct acpi_config *cfg)
{
	return cfg->ecam_base ? cfg->ecam_bus_end : 0;
}

static uint64_t ecam_size(const struct acpi_config *cfg)
{
	return ((uint64_t)cfg->ecam_bus_end + 1) * ACPI_ECAM_BUS_SIZE;
}

/*
 * Name (_PRT, Package () { Package () { 0xSSSSFFFF, pin, Zero, gsi }, ... })
 * (ACPI 6.4 §6.2.13): for every slot but the host bridge's, each INTx pin
 * straight to an IOAPIC GSI (Source Zero: no link device), swizzled as
 * bridges do so that INTA of neighbouring slots lands on different pins.
 */
static void build_prt(struct acpi_buf *b, uint8_t gsi_base)
{
	size_t pkg, ent;
	unsigned int slot, pin;

	buf_u8(b, AML_NAME_OP);
	aml_namestring(b, "_PRT");
	buf_u8(b, AML_PACKAGE_OP);
	pkg = aml_block_open(b);
	buf_u8(b, 31 * 4);
	for (slot = 1; slot < 32; slot++) {
		for (pin = 0; pin < 4; pin++) {
			buf_u8(b, AML_PACKAGE_OP);
			ent = aml_block_open(b);
			buf_u8(b, 4);
			aml_int(b, (uint64_t)slot << 16 | 0xffff);	/* _ADR: any function */
			aml_int(b, pin);
			aml_int(b, 0);
			aml_int(b, gsi_base + (slot + pin) % 8);
			aml_block_close(b, ent);
		}
	}
	aml_block_close(b, pkg);
}

/*
 * Device (PCI0): the host bridge (PCI Firmware 3.2 §4.1.1; PNP0A08 is a
 * PCI Express root, PNP0A03 a conventional one).  Its _CRS lists what it
 * decodes for its children: the bus numbers, the 0xcf8 config ports as a
 * consumed resource, the I/O space around them and the memory windows.
 */
static void build_pci0(struct acpi_buf *b, const struct acpi_config *cfg)
{
	struct acpi_buf r = { 0 };
	size_t dev = aml_device_open(b, "PCI0");

	if (cfg->ecam_base) {
		aml_name_eisaid(b, "_HID", "PNP0A08");
		aml_name_eisaid(b, "_CID", "PNP0A03");
	} else {
		aml_name_eisaid(b, "_HID", "PNP0A03");
	}
	aml_name_int(b, "_UID", 0);
	aml_name_int(b, "_SEG", 0);		/* §6.5.6 */
	aml_name_int(b, "_BBN", 0);		/* §6.5.5 */
	/*
	 * No _ADR: a device "must contain either an _HID object or an _ADR
	 * object, but should not contain both" (§6.1), and iasl warns about
	 * it; the root bridge is found by _HID, not by an address.
	 */

	/* WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, end, 0, end + 1) */
	res_addr(&r, 2, RES_TYPE_BUS, 0, 0, 0, (uint64_t)pci_bus_end(cfg) + 1);
	/* IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08) */
	res_io(&r, PCI_CONF1_PORT, 1, PCI_CONF1_LEN);
	/* WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, ...) */
	res_addr(&r, 2, RES_TYPE_IO, 0, RES_IO_ENTIRE_RANGE, 0, PCI_CONF1_PORT);
	res_addr(&r, 2, RES_TYPE_IO, 0, RES_IO_ENTIRE_RANGE, PCI_CONF1_PORT + PCI_CONF1_LEN,
		 0x10000 - (PCI_CONF1_PORT + PCI_CONF1_LEN));
	/* DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, ...) */
	if (cfg->pci_mmio32_size)
		res_addr(&r, 4, RES_TYPE_MEM, 0, RES_MEM_NON_CACHEABLE | RES_MEM_RW,
			 cfg->pci_mmio32_base, cfg->pci_mmio32_size);
	/* QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite, ...) */
	if (cfg->pci_mmio64_size)
		res_addr(&r, 8, RES_TYPE_MEM, 0, RES_MEM_CACHEABLE | RES_MEM_RW,
			 cfg->pci_mmio64_base, cfg->pci_mmio64_size);
	aml_name_crs(b, &r);
	if (cfg->pci_intx_gsi_base)
		build_prt(b, cfg->pci_intx_gsi_base);
	aml_block_close(b, dev);
}

/*
 * Device (RES0): a PNP0C02 motherboard resource that reserves the ECAM
 * window.  PCI Firmware 3.2 §4.1.2 asks for it, and Linux uses an MCFG
 * region only if it is reserved so (or in E820).  Memory32Fixed below
 * 4 GiB; above, a QWordMemory consumer, which Linux's check accepts too.
 */
static void build_ecam_reservation(struct acpi_buf *b, const struct acpi_config *cfg)
{
	struct acpi_buf r = { 0 };
	size_t dev = aml_device_open(b, "RES0");
	uint64_t size = ecam_size(cfg);

	aml_name_eisaid(b, "_HID", "PNP0C02");
	aml_name_int(b, "_UID", 0);
	if (cfg->ecam_base + size <= ACPI_4GIB)
		res_mem32_fixed(&r, (uint32_t)cfg->ecam_base, (uint32_t)size);
	else
		res_addr(&r, 8, RES_TYPE_MEM, RES_GEN_CONSUMER, RES_MEM_NON_CACHEABLE | RES_MEM_RW,
			 cfg->ecam_base, size);
	aml_name_crs(b, &r);
	aml_block_close(b, dev);
}

/* Device (COM1): the 16550 at 0x3f8, IRQ 4, for the 8250_pnp driver. */
static void build_com1(struct acpi_buf *b)
{
	struct acpi_buf r = { 0 };
	size_t dev = aml_device_open(b, "COM1");

	aml_name_eisaid(b, "_HID", "PNP0501");
	aml_name_int(b, "_UID", 1);
	res_io(&r, COM1_PORT, 1, COM1_LEN);
	res_irq_noflags(&r, COM1_IRQ);
	aml_name_crs(b, &r);
	aml_block_close(b, dev);
}

/*
 * DSDT (ACPI 6.4 §5.2.11.1), in ASL:
 *
 *	Name (\_S5, Package (0x04) { typ, typ, Zero, Zero })
 *	Scope (\_SB) { Device (PCI0) {...}  Device (RES0) {...}  Device (COM1) {...} }
 */
static void build_dsdt(struct acpi_image *img, const struct acpi_config *cfg)
{
	struct acpi_buf *b = &img->tables;
	size_t start = table_begin(b, "DSDT", DSDT_REVISION);
	size_t pkg, sb;

	/* \_S5_: SLP_TYP for PM1a_CNT and PM1b_CNT, two reserved (§7.4.2) */
	buf_u8(b, AML_NAME_OP);
	aml_namestring(b, "\\_S5_");
	/* §20.2.5.4 DefPackage := PackageOp PkgLength NumElements PackageElementList */
	buf_u8(b, AML_PACKAGE_OP);
	pkg = aml_block_open(b);
	buf_u8(b, 4);
	aml_int(b, cfg->s5_slp_typ);
	aml_int(b, cfg->s5_slp_typ);
	aml_int(b, 0);
	aml_int(b, 0);
	aml_block_close(b, pkg);

	sb = aml_scope_open(b, "\\_SB_");
	build_pci0(b, cfg);
	if (cfg->ecam_base)
		build_ecam_reservation(b, cfg);
	if (cfg->com1)
		build_com1(b);
	aml_block_close(b, sb);
	table_end(img, start);
}

/*
 * FACS (ACPI 6.4 §5.2.10): required unless HW_REDUCED_ACPI.  No checksum;
 * the global lock and waking vectors start at zero (no S3/S4 support).
 */
static void build_facs(struct acpi_buf *b)
{
	buf_put(b, "FACS", 4);
	buf_u32(b, ACPI_FACS_SIZE);
	buf_u32(b, 0);				/* Hardware Signature */
	buf_u32(b, 0);				/* Firmware Waking Vector */
	buf_u32(b, 0);				/* Global Lock */
	buf_u32(b, 0);				/* Flags: no S4BIOS, no 64-bit wake */
	buf_u64(b, 0);				/* X_Firmware_Waking_Vector */
	buf_u8(b, FACS_VERSION);
	buf_zero(b, 3);				/* Reserved */
	buf_u32(b, 0);				/* OSPM Flags */
	buf_zero(b, 24);			/* Reserved */
}

/*
 * FADT (ACPI 6.4 §5.2.9), revision 6, 276 bytes.  Not HW_REDUCED: PM1a
 * event and control blocks in port I/O, SMI_CMD 0 (no SMM: "reserved and
 * must be zero" then, and ACPICA takes the platform as already in ACPI
 * mode), no PM timer (optional since ACPI 5.0; kvm-clock serves), no GPE
 * block.  Each 32-bit port field equals its X_ GAS twin and DSDT equals
 * X_DSDT (ACPICA warns only when such pairs differ); DSDT is 0 above
 * 4 GiB.  The FACS goes in FIRMWARE_CTRL below 4 GiB, else in
 * X_FIRMWARE_CTRL, never both (what ACPI 4.0-5.0 demand; 6.x allows both).
 * The tables file starts at base (see acpi_stage()).
 */
static void build_fadt(struct acpi_image *img, const struct acpi_config *cfg, uint64_t base)
{
	struct acpi_buf *b = &img->tables;
	size_t start = table_begin(b, "FACP", FADT_REVISION);
	uint32_t flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON;
	uint8_t *t;

	/*
	 * PWR_BUTTON stays clear: per §5.2.9 a zero means the power button
	 * is a fixed feature (PWRBTN_STS/PWRBTN_EN in PM1, §4.8.3.1), which
	 * Linux then enumerates as LNXPWRBN.  SLP_BUTTON set: no sleep button.
	 */
	if (cfg->reset_port)
		flags |= FADT_F_RESET_REG_SUP;
	if (!acpi_buf_grow(b, FADT_SIZE - ACPI_HDR_SIZE))
		return;
	t = b->data + start;
	memset(t + ACPI_HDR_SIZE, 0, FADT_SIZE - ACPI_HDR_SIZE);

	if (below_4g(base, img->facs, 1))
		image_pointer(img, ACPI_FILE_TABLES, start + FADT_FIRMWARE_CTRL, 4, img->facs);
	else
		image_pointer(img, ACPI_FILE_TABLES, start + FADT_X_FIRMWARE_CTRL, 8, img->facs);
	if (below_4g(base, img->dsdt, 1))
		image_pointer(img, ACPI_FILE_TABLES, start + FADT_DSDT, 4, img->dsdt);
	image_pointer(img, ACPI_FILE_TABLES, start + FADT_X_DSDT, 8, img->dsdt);

	t[FADT_PM_PROFILE] = 0;			/* Unspecified */
	put_le(t + FADT_SCI_INT, cfg->sci_irq, 2);
	put_le(t + FADT_SMI_CMD, 0, 4);		/* ACPI_ENABLE/DISABLE, S4BIOS_REQ, PSTATE_CNT: 0 */
	put_le(t + FADT_PM1A_EVT_BLK, cfg->pm1a_evt_port, 4);
	put_le(t + FADT_PM1A_CNT_BLK, cfg->pm1a_cnt_port, 4);
	put_le(t + FADT_PM_TMR_BLK, 0, 4);
	t[FADT_PM1_EVT_LEN] = PM1_EVT_LEN;
	t[FADT_PM1_CNT_LEN] = PM1_CNT_LEN;
	t[FADT_PM_TMR_LEN] = 0;
	put_le(t + FADT_P_LVL2_LAT, FADT_C2_NOT_SUPPORTED, 2);
	put_le(t + FADT_P_LVL3_LAT, FADT_C3_NOT_SUPPORTED, 2);
	t[FADT_CENTURY] = 0;			/* no CMOS century register */
	/*
	 * Legacy devices (COM1, the RTC, the PICs) exist; no 8042, so Linux
	 * does not probe for a PS/2 controller; no VGA; MSI works; CMOS RTC
	 * present.
	 */
	put_le(t + FADT_IAPC_BOOT_ARCH, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_VGA_NOT_PRESENT, 2);
	put_le(t + FADT_FLAGS, flags, 4);
	if (cfg->reset_port) {
		put_gas(t + FADT_RESET_REG, GAS_SPACE_SYSTEM_IO, 8, GAS_ACCESS_BYTE, cfg->reset_port);
		t[FADT_RESET_VALUE] = cfg->reset_value;
	}
	t[FADT_MINOR_VERSION] = FADT_MINOR_REVISION;
	/* PM1 status, enable and control are 16-bit registers: word access. */
	put_gas(t + FADT_X_PM1A_EVT_BLK, GAS_SPACE_SYSTEM_IO, 8 * PM1_EVT_LEN, GAS_ACCESS_WORD,
		cfg->pm1a_evt_port);
	put_gas(t + FADT_X_PM1A_CNT_BLK, GAS_SPACE_SYSTEM_IO, 8 * PM1_CNT_LEN, GAS_ACCESS_WORD,
		cfg->pm1a_cnt_port);
	memcpy(t + FADT_HYPERVISOR_ID, ACPI_HYPERVISOR_ID, 8);
	table_end(img, start);
}

/* MADT (ACPI 6.4 §5.2.12) */
static void build_madt(struct acpi_image *img, const struct acpi_config *cfg)
{
	struct acpi_buf *b = &img->tables;
	size_t start = table_begin(b, "APIC", MADT_REVISION);
	unsigned int i;

	buf_u32(b, cfg->lapic_addr);
	buf_u32(b, MADT_PCAT_COMPAT);

	for (i = 0; i < cfg->nr_cpus; i++) {	/* §5.2.12.2 */
		buf_u8(b, MADT_LAPIC);
		buf_u8(b, MADT_LAPIC_LEN);
		buf_u8(b, (uint8_t)i);		/* ACPI Processor UID */
		buf_u8(b, (uint8_t)i);		/* APIC ID */
		buf_u32(b, MADT_LAPIC_ENABLED);
	}

	buf_u8(b, MADT_IOAPIC);			/* §5.2.12.3 */
	buf_u8(b, MADT_IOAPIC_LEN);
	buf_u8(b, cfg->ioapic_id);
	buf_u8(b, 0);				/* Reserved */
	buf_u32(b, cfg->ioapic_addr);
	buf_u32(b, 0);				/* Global System Interrupt Base */

	/* §5.2.12.5: the PIT's IRQ 0 arrives on IOAPIC pin 2, as on PC chipsets. */
	buf_u8(b, MADT_ISO);
	buf_u8(b, MADT_ISO_LEN);
	buf_u8(b, MADT_ISO_BUS_ISA);
	buf_u8(b, 0);				/* Source (ISA IRQ) */
	buf_u32(b, 2);				/* Global System Interrupt */
	buf_u16(b, MPS_INTI_CONFORMS);

	/* The SCI: same pin, but level triggered, active high (§5.2.12.5). */
	buf_u8(b, MADT_ISO);
	buf_u8(b, MADT_ISO_LEN);
	buf_u8(b, MADT_ISO_BUS_ISA);
	buf_u8(b, cfg->sci_irq);
	buf_u32(b, cfg->sci_irq);
	buf_u16(b, MPS_INTI_LEVEL | MPS_INTI_ACTIVE_HIGH);

	buf_u8(b, MADT_LAPIC_NMI);		/* §5.2.12.7: NMI on LINT1 of every CPU */
	buf_u8(b, MADT_LAPIC_NMI_LEN);
	buf_u8(b, MADT_ALL_PROCESSORS);
	buf_u16(b, MPS_INTI_CONFORMS);
	buf_u8(b, 1);				/* Local APIC LINT# */
	table_end(img, start);
}

/* MCFG (PCI Firmware 3.2 §4.1.2): one ECAM allocation for segment 0. */
static void build_mcfg(struct acpi_image *img, const struct acpi_config *cfg)
{
	struct acpi_buf *b = &img->tables;
	size_t start = table_begin(b, "MCFG", MCFG_REVISION);

	buf_zero(b, 8);				/* Reserved */
	buf_u64(b, cfg->ecam_base);
	buf_u16(b, 0);				/* PCI Segment Group */
	buf_u8(b, 0);				/* Start Bus */
	buf_u8(b, cfg->ecam_bus_end);		/* End Bus */
	buf_u32(b, 0);				/* Reserved */
	table_end(img, start);
}

/* XSDT (§5.2.8) with 64-bit entries, or RSDT (§5.2.7) with 32-bit ones: img->sdt[]. */
static void build_sdt(struct acpi_image *img, const char sig[4], uint8_t revision,
		      unsigned int entry_size)
{
	struct acpi_buf *b = &img->tables;
	size_t start = table_begin(b, sig, revision);
	unsigned int i;

	for (i = 0; i < img->nsdt; i++) {
		size_t field = b->len;

		buf_zero(b, entry_size);
		image_pointer(img, ACPI_FILE_TABLES, field, entry_size, img->sdt[i]);
	}
	table_end(img, start);
}

/* ACPI 6.4 §5.2.5.3; RsdtAddress stays 0 without an RSDT. */
static void build_rsdp(struct acpi_image *img)
{
	uint8_t *r = img->rsdp;

	memset(r, 0, ACPI_RSDP_SIZE);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, ACPI_OEM_ID, 6);
	r[15] = RSDP_REVISION;
	put_le(r + 20, ACPI_RSDP_SIZE, 4);
	if (img->has_rsdt)
		image_pointer(img, ACPI_FILE_RSDP, 16, 4, img->rsdt);
	image_pointer(img, ACPI_FILE_RSDP, 24, 8, img->xsdt);
	/* The ACPI 1.0 part first: the extended checksum covers its byte. */
	image_checksum(img, ACPI_FILE_RSDP, 8, 0, 20);
	image_checksum(img, ACPI_FILE_RSDP, 32, 0, ACPI_RSDP_SIZE);
}

/*
 * Generates every table into img, the tables file laid out as if it
 * started at guest address base: base fixes the alignment padding (FACS
 * on 64 bytes, the rest on 8) and which tables 32-bit fields can reach
 * (the FADT's FIRMWARE_CTRL and DSDT, the RSDT).  acpi_build() passes the
 * real address; acpi_build_blobs() passes 0, which holds modulo 64 and
 * below 4 GiB for a file the loader allocates in the HIGH zone with
 * alignment 64.  On failure img->tables.err is set.
 */
void acpi_stage(struct acpi_image *img, const struct acpi_config *cfg, uint64_t base)
{
	struct acpi_buf *b = &img->tables;

	buf_align(b, base, ACPI_FACS_ALIGN);
	img->facs = b->len;
	build_facs(b);
	buf_align(b, base, ACPI_TABLE_ALIGN);
	img->dsdt = b->len;
	build_dsdt(img, cfg);
	buf_align(b, base, ACPI_TABLE_ALIGN);
	img->sdt[img->nsdt++] = b->len;
	build_fadt(img, cfg, base);
	buf_align(b, base, ACPI_TABLE_ALIGN);
	img->sdt[img->nsdt++] = b->len;
	build_madt(img, cfg);
	if (cfg->ecam_base) {
		buf_align(b, base, ACPI_TABLE_ALIGN);
		img->sdt[img->nsdt++] = b->len;
		build_mcfg(img, cfg);
	}
	buf_align(b, base, ACPI_TABLE_ALIGN);
	img->xsdt = b->len;
	build_sdt(img, "XSDT", XSDT_REVISION, 8);
	/*
	 * An RSDT too, for ACPI 1.0 readers (and SeaBIOS, which finds the
	 * FADT through it), when 32-bit pointers reach every table: it goes
	 * last, so it is enough that it ends below 4 GiB.
	 */
	buf_align(b, base, ACPI_TABLE_ALIGN);
	if (below_4g(base, b->len, ACPI_HDR_SIZE + 4ULL * img->nsdt)) {
		img->rsdt = b->len;
		img->has_rsdt = true;
		build_sdt(img, "RSDT", RSDT_REVISION, 4);
	}
	build_rsdp(img);
}

/* The one-line reason for a failed acpi_stage(). */
int acpi_image_fail(const struct acpi_image *img, char *err, size_t errlen)
{
	if (img->tables.err == -ENOMEM)
		return hv_fail(err, errlen, -ENOMEM, "ACPI: out of memory staging the tables");
	return hv_fail(err, errlen, -EINVAL, "ACPI: cannot encode the tables (%s)",
		       strerror(-img->tables.err));
}

/*
 * Links the image for tables placed at tables_gpa, as the firmware's table
 * loader would: every pointer field gets tables_gpa added, then every
 * checksum is computed in order (SeaBIOS subtracts the range's sum from
 * the byte, which is 0 here).  -ERANGE if a 32-bit field cannot hold its
 * address, which acpi_stage() rules out.
 */
static int image_link(struct acpi_image *img, uint64_t tables_gpa)
{
	unsigned int i;

	for (i = 0; i < img->nptr; i++) {
		const struct acpi_pointer *p = &img->ptr[i];
		uint8_t *field = image_file(img, p->file) + p->offset;
		uint64_t v = get_le(field, p->size);

		if (__builtin_add_overflow(v, tables_gpa, &v) || (p->size < 8 && v >> (8 * p->size)))
			return -ERANGE;
		put_le(field, v, p->size);
	}
	for (i = 0; i < img->nsum; i++) {
		const struct acpi_checksum *c = &img->sum[i];
		uint8_t *data = image_file(img, c->file);

		data[c->offset] = (uint8_t)(data[c->offset] - acpi_sum(data + c->start, c->length));
	}
	return 0;
}

/* [a, a + alen) and [b, b + blen) intersect; both non-empty, neither wraps. */
static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int acpi_check_config(const struct acpi_config *cfg, char *err, size_t errlen)
{
	uint64_t ecam_end = 0;

	if (cfg->nr_cpus == 0 || cfg->nr_cpus > ACPI_MAX_CPUS)
		return hv_fail(err, errlen, -EINVAL, "ACPI: %u CPUs, the MADT takes 1 to %u",
			    cfg->nr_cpus, ACPI_MAX_CPUS);
	if (!cfg->lapic_addr || !cfg->ioapic_addr ||
	    (cfg->lapic_addr & 0xfff) || (cfg->ioapic_addr & 0xfff))
		return hv_fail(err, errlen, -EINVAL, "ACPI: LAPIC 0x%" PRIx32 " / IOAPIC 0x%" PRIx32
			    " base is zero or not 4 KiB aligned", cfg->lapic_addr, cfg->ioapic_addr);
	if (cfg->ioapic_id == 0xff)
		return hv_fail(err, errlen, -EINVAL, "ACPI: IOAPIC id 0xff is the broadcast id");
	if (!cfg->pm1a_evt_port || !cfg->pm1a_cnt_port ||
	    cfg->pm1a_evt_port > 0x10000 - PM1_EVT_LEN || cfg->pm1a_cnt_port > 0x10000 - PM1_CNT_LEN ||
	    overlaps(cfg->pm1a_evt_port, PM1_EVT_LEN, cfg->pm1a_cnt_port, PM1_CNT_LEN))
		return hv_fail(err, errlen, -EINVAL, "ACPI: PM1a event 0x%x (4 ports) and control 0x%x"
			    " (2 ports) must be non-zero, distinct and below 0x10000",
			    cfg->pm1a_evt_port, cfg->pm1a_cnt_port);
	if (cfg->s5_slp_typ > 7)
		return hv_fail(err, errlen, -EINVAL, "ACPI: SLP_TYP %u does not fit the 3-bit field",
			    cfg->s5_slp_typ);
	if (cfg->sci_irq == 0 || cfg->sci_irq == 2 || cfg->sci_irq > 15)
		return hv_fail(err, errlen, -EINVAL, "ACPI: SCI IRQ %u is not a free ISA IRQ (1, 3-15)",
			    cfg->sci_irq);
	if (cfg->ecam_base) {
		if ((cfg->ecam_base & (ACPI_ECAM_BUS_SIZE - 1)) ||
		    __builtin_add_overflow(cfg->ecam_base, ecam_size(cfg), &ecam_end))
			return hv_fail(err, errlen, -EINVAL, "ACPI: ECAM base 0x%" PRIx64
				    " is not 1 MiB aligned or its %u buses wrap",
				    cfg->ecam_base, cfg->ecam_bus_end + 1U);
	}
	if (cfg->pci_mmio32_size) {
		uint64_t base = cfg->pci_mmio32_base, size = cfg->pci_mmio32_size;

		if (base + size > ACPI_4GIB)
			return hv_fail(err, errlen, -EINVAL, "ACPI: 32-bit PCI window 0x%" PRIx64
				    "+0x%" PRIx64 " crosses 4 GiB", base, size);
		if (overlaps(base, size, cfg->lapic_addr, 0x1000) ||
		    overlaps(base, size, cfg->ioapic_addr, 0x1000) ||
		    (cfg->ecam_base && overlaps(base, size, cfg->ecam_base, ecam_size(cfg))))
			return hv_fail(err, errlen, -EINVAL, "ACPI: 32-bit PCI window 0x%" PRIx64 "+0x%" PRIx64
				    " overlaps the LAPIC, the IOAPIC or ECAM", base, size);
	}
	if (cfg->pci_mmio64_size) {
		uint64_t end;

		if (__builtin_add_overflow(cfg->pci_mmio64_base, cfg->pci_mmio64_size, &end) ||
		    (cfg->ecam_base && overlaps(cfg->pci_mmio64_base, cfg->pci_mmio64_size,
						cfg->ecam_base, ecam_size(cfg))))
			return hv_fail(err, errlen, -EINVAL, "ACPI: 64-bit PCI window 0x%" PRIx64 "+0x%" PRIx64
				    " wraps or overlaps ECAM", cfg->pci_mmio64_base, cfg->pci_mmio64_size);
	}
	return 0;
}

int acpi_build(const struct acpi_config *cfg, const struct guest_mem *gm,
	       uint64_t rsdp_gpa, uint64_t tables_gpa, uint64_t tables_max,
	       uint64_t *used, char *err, size_t errlen)
{
	struct acpi_image img = { 0 };
	uint64_t end;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (used)
		*used = 0;
	if (!cfg || !gm)
		return hv_fail(err, errlen, -EINVAL, "ACPI: no config or guest memory");
	ret = acpi_check_config(cfg, err, errlen);
	if (ret)
		return ret;
	/* ACPI 6.4 §5.2.5.1: where an IA-PC OS scans for "RSD PTR ". */
	if ((rsdp_gpa & 15) || rsdp_gpa < ACPI_RSDP_AREA_START ||
	    rsdp_gpa > ACPI_RSDP_AREA_END - ACPI_RSDP_SIZE)
		return hv_fail(err, errlen, -EINVAL, "ACPI: RSDP at 0x%" PRIx64
			    " is not 16-byte aligned inside 0xe0000-0xfffff", rsdp_gpa);

	acpi_stage(&img, cfg, tables_gpa);
	if (img.tables.err) {
		ret = acpi_image_fail(&img, err, errlen);
		goto out;
	}
	if (img.tables.len > tables_max) {
		if (used)
			*used = img.tables.len;
		ret = hv_fail(err, errlen, -ENOSPC, "ACPI: tables need %zu bytes at 0x%" PRIx64
			   ", only %" PRIu64 " allowed", img.tables.len, tables_gpa, tables_max);
		goto out;
	}
	if (__builtin_add_overflow(tables_gpa, (uint64_t)img.tables.len, &end)) {
		ret = hv_fail(err, errlen, -EINVAL, "ACPI: tables at 0x%" PRIx64 " wrap around", tables_gpa);
		goto out;
	}
	if (overlaps(rsdp_gpa, ACPI_RSDP_SIZE, tables_gpa, img.tables.len)) {
		ret = hv_fail(err, errlen, -EINVAL, "ACPI: RSDP at 0x%" PRIx64 " overlaps the tables at [0x%"
			   PRIx64 ", 0x%" PRIx64 ")", rsdp_gpa, tables_gpa, end);
		goto out;
	}
	/* Check both ranges before writing either, so a failure writes nothing. */
	if (!gm_ptr(gm, rsdp_gpa, ACPI_RSDP_SIZE)) {
		ret = hv_fail(err, errlen, -EFAULT, "ACPI: RSDP at 0x%" PRIx64 " is not guest RAM", rsdp_gpa);
		goto out;
	}
	if (!gm_ptr(gm, tables_gpa, img.tables.len)) {
		ret = hv_fail(err, errlen, -EFAULT, "ACPI: tables at [0x%" PRIx64 ", 0x%" PRIx64
			   ") are not guest RAM", tables_gpa, end);
		goto out;
	}
	ret = image_link(&img, tables_gpa);
	if (ret) {
		ret = hv_fail(err, errlen, -EINVAL, "ACPI: a 32-bit pointer cannot reach the tables at 0x%"
			   PRIx64, tables_gpa);
		goto out;
	}
	ret = gm_write(gm, tables_gpa, img.tables.data, img.tables.len);
	if (!ret)
		ret = gm_write(gm, rsdp_gpa, img.rsdp, ACPI_RSDP_SIZE);
	if (ret) {
		ret = hv_fail(err, errlen, ret, "ACPI: writing the tables to guest memory failed");
		goto out;
	}
	if (used)
		*used = img.tables.len;
	HV_TRACE(HV_TRACE_BOOT, "ACPI: RSDP 0x%" PRIx64 ", FACS 0x%" PRIx64 ", DSDT 0x%" PRIx64
		 ", FACP 0x%" PRIx64 ", APIC 0x%" PRIx64 ", MCFG 0x%" PRIx64 ", XSDT 0x%" PRIx64 ", RSDT 0x%"
		 PRIx64 " (%zu B of tables)", rsdp_gpa, tables_gpa + img.facs, tables_gpa + img.dsdt,
		 tables_gpa + img.sdt[0], tables_gpa + img.sdt[1],
		 img.nsdt > 2 ? tables_gpa + img.sdt[2] : 0, tables_gpa + img.xsdt,
		 img.has_rsdt ? tables_gpa + img.rsdt : 0, img.tables.len);
out:
	free(img.tables.data);
	return ret;
}
