/* test_acpi.c: ACPI tables checksum and decode at their spec offsets; bad configs are refused; the firmware loader path links to the same bytes. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "firmware/acpi.h"
#include "firmware/acpi_aml.h"
#include "firmware/acpi_loader.h"
#include "hv/base/guest_mem.h"

#define RAM_SIZE	(1U << 20)
#define RSDP_GPA	0xE0000ULL
#define TABLES_GPA	0xE1000ULL
#define TABLES_MAX	(RAM_SIZE - TABLES_GPA)
#define HIGH_GPA	0x100000000ULL
#define HIGH_SIZE	0x10000U

static uint8_t ram[RAM_SIZE];
static uint8_t high[HIGH_SIZE];
static struct guest_mem gm;

/* ---- helpers: read guest RAM little-endian, as the guest OS would ---- */

static uint64_t rd(uint64_t gpa, unsigned int bytes)
{
	const uint8_t *p = gm_ptr(&gm, gpa, bytes);
	uint64_t v = 0;
	unsigned int i;

	assert_non_null(p);
	for (i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t rd8(uint64_t gpa) { return (uint8_t)rd(gpa, 1); }
static uint16_t rd16(uint64_t gpa) { return (uint16_t)rd(gpa, 2); }
static uint32_t rd32(uint64_t gpa) { return (uint32_t)rd(gpa, 4); }
static uint64_t rd64(uint64_t gpa) { return rd(gpa, 8); }

static const uint8_t *ptr(uint64_t gpa, uint64_t len)
{
	const uint8_t *p = gm_ptr(&gm, gpa, len);

	assert_non_null(p);
	return p;
}

static uint8_t sum(uint64_t gpa, uint64_t len)
{
	const uint8_t *p = ptr(gpa, len);
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void reset_ram(void)
{
	memset(ram, 0, sizeof(ram));
	memset(high, 0, sizeof(high));
	memset(&gm, 0, sizeof(gm));
	assert_int_equal(gm_add_region(&gm, 0, sizeof(ram), ram), 0);
	assert_int_equal(gm_add_region(&gm, HIGH_GPA, sizeof(high), high), 0);
}

static bool ram_is_zero(void)
{
	size_t i;

	for (i = 0; i < sizeof(ram); i++)
		if (ram[i])
			return false;
	return true;
}

/* A PC as hvrun builds it (hv/x86/platform.h), without ECAM or PCI windows. */
static void base_config(struct acpi_config *c, unsigned int nr_cpus)
{
	*c = (struct acpi_config){
		.nr_cpus = nr_cpus,
		.lapic_addr = 0xfee00000,
		.ioapic_addr = 0xfec00000,
		.ioapic_id = 0,
		.pm1a_evt_port = 0x600,
		.pm1a_cnt_port = 0x604,
		.s5_slp_typ = 5,
		.reset_port = 0xcf9,
		.reset_value = 6,
		.sci_irq = 9,
		.com1 = true,
	};
}

/* A q35-like machine: ECAM for 256 buses at 0xe0000000, both PCI windows. */
static void full_config(struct acpi_config *c, unsigned int nr_cpus)
{
	base_config(c, nr_cpus);
	c->ecam_base = 0xe0000000;
	c->ecam_bus_end = 255;
	c->pci_mmio32_base = 0xc0000000;
	c->pci_mmio32_size = 0x20000000;
	c->pci_mmio64_base = 0x8000000000ULL;
	c->pci_mmio64_size = 0x8000000000ULL;
}

static uint64_t build_ok(const struct acpi_config *c)
{
	char err[256] = "untouched";
	uint64_t used = 0;

	reset_ram();
	assert_int_equal(acpi_build(c, &gm, RSDP_GPA, TABLES_GPA, TABLES_MAX, &used, err,
				    sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_true(used > 0 && used <= TABLES_MAX);
	return used;
}

/* The table with signature sig listed in the XSDT, or 0. */
static uint64_t xsdt_find(const char *sig)
{
	uint64_t xsdt = rd64(RSDP_GPA + 24);
	uint32_t len = rd32(xsdt + 4), i;

	for (i = 0; i < (len - 36) / 8; i++) {
		uint64_t t = rd64(xsdt + 36 + 8 * i);

		if (!memcmp(ptr(t, 4), sig, 4))
			return t;
	}
	return 0;
}

static uint64_t dsdt_gpa(void)
{
	uint64_t fadt = xsdt_find("FACP");

	assert_true(fadt != 0);
	return rd64(fadt + 140);		/* X_DSDT */
}

/* Checks one table's header (ACPI 6.4 §5.2.6) and returns its length. */
static uint32_t check_header(uint64_t gpa, const char *sig, uint8_t revision, uint64_t used)
{
	uint32_t len = rd32(gpa + 4);

	assert_memory_equal(ptr(gpa, 4), sig, 4);
	assert_int_equal(rd8(gpa + 8), revision);
	assert_memory_equal(ptr(gpa + 10, 6), "HVRUN ", 6);
	assert_memory_equal(ptr(gpa + 16, 8), "HVRUNVM ", 8);
	assert_memory_equal(ptr(gpa + 28, 4), "HVRN", 4);
	assert_int_equal(rd32(gpa + 32), 1);
	assert_int_equal(gpa % 8, 0);
	assert_true(gpa >= TABLES_GPA && gpa + len <= TABLES_GPA + used);
	assert_int_equal(sum(gpa, len), 0);
	return len;
}

/* AML PkgLength decoder (ACPI 6.4 §20.2.4), written independently of acpi.c. */
static uint32_t pkglen_decode(const uint8_t *p, unsigned int *nbytes)
{
	unsigned int n = p[0] >> 6, i;
	uint32_t v;

	if (n == 0) {
		*nbytes = 1;
		return p[0] & 0x3f;
	}
	v = p[0] & 0x0f;
	for (i = 1; i <= n; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	*nbytes = n + 1;
	return v;
}

/* AML integer constants (ACPI 6.4 §20.2.3); returns bytes consumed. */
static unsigned int aml_int_decode(const uint8_t *p, uint64_t *v)
{
	unsigned int i, n;

	switch (p[0]) {
	case 0x00: *v = 0; return 1;
	case 0x01: *v = 1; return 1;
	case 0xff: *v = UINT64_MAX; return 1;
	case 0x0a: n = 1; break;
	case 0x0b: n = 2; break;
	case 0x0c: n = 4; break;
	case 0x0e: n = 8; break;
	default: fail_msg("not an AML integer: opcode 0x%02x", p[0]); return 0;
	}
	for (*v = 0, i = 0; i < n; i++)
		*v |= (uint64_t)p[1 + i] << (8 * i);
	return 1 + n;
}

/* memmem() without needing _GNU_SOURCE. */
static const uint8_t *find(const uint8_t *hay, size_t hlen, const void *needle, size_t nlen)
{
	size_t i;

	for (i = 0; nlen && i + nlen <= hlen; i++)
		if (!memcmp(hay + i, needle, nlen))
			return hay + i;
	return NULL;
}

/*
 * The _CRS buffer of Device (dev) in the DSDT: Name (_CRS, Buffer (n) {...}),
 * i.e. 08 "_CRS" 11 PkgLength BufferSize bytes.  Returns the bytes and n.
 */
static const uint8_t *dsdt_crs(const char *dev, size_t *n)
{
	uint64_t d = dsdt_gpa();
	uint32_t len = rd32(d + 4);
	const uint8_t *t = ptr(d, len), *p, *crs;
	unsigned int nb;
	uint64_t size;
	uint32_t pkg;

	p = find(t, len, dev, 4);
	assert_non_null(p);
	crs = find(p, len - (size_t)(p - t), "_CRS", 4);
	assert_non_null(crs);
	assert_int_equal(crs[-1], 0x08);		/* NameOp */
	assert_int_equal(crs[4], 0x11);			/* BufferOp */
	pkg = pkglen_decode(crs + 5, &nb);
	p = crs + 5 + nb;
	p += aml_int_decode(p, &size);
	/* PkgLength covers itself, BufferSize and the bytes. */
	assert_int_equal((size_t)(p - (crs + 5)) + size, pkg);
	*n = size;
	return p;
}

/* Walks a resource template (ACPI 6.4 §6.4): it must end exactly with an End Tag. */
static unsigned int crs_count(const uint8_t *r, size_t n, uint8_t tag)
{
	unsigned int count = 0;
	size_t off = 0, dlen;

	for (;;) {
		assert_true(off < n);
		if (r[off] & 0x80) {			/* large item */
			assert_true(off + 3 <= n);
			dlen = 3 + (size_t)(r[off + 1] | r[off + 2] << 8);
		} else {
			dlen = 1 + (size_t)(r[off] & 0x07);
		}
		assert_true(off + dlen <= n);
		if (r[off] == tag)
			count++;
		if (r[off] == 0x79) {			/* End Tag */
			assert_int_equal(off + dlen, n);
			return count;
		}
		off += dlen;
	}
}

/*
 * The PkgLength of the Device whose NameSeg is at dev: ExtOpPrefix DeviceOp
 * PkgLength NameString, with a PkgLength of 1 to 4 bytes.  The device must
 * end inside the table.
 */
static uint32_t device_pkglen(const uint8_t *t, uint32_t len, const uint8_t *dev)
{
	unsigned int nb, want;
	uint32_t pkg;

	for (want = 1; want <= 4; want++) {
		const uint8_t *p;

		if ((size_t)(dev - t) < want + 2)
			continue;
		p = dev - want;
		if (p[-2] != 0x5b || p[-1] != 0x82)
			continue;
		pkg = pkglen_decode(p, &nb);
		if (nb != want)
			continue;
		assert_true(p + pkg <= t + len);
		return pkg;
	}
	fail_msg("no DefDevice before the name");
	return 0;
}

/* ---- tests ---- */

static void test_pkglen_encode(void **state)
{
	static const struct {
		uint32_t value;
		int n;
		uint8_t bytes[4];
	} cases[] = {
		{ 0x00, 1, { 0x00 } },
		{ 0x3f, 1, { 0x3f } },
		{ 0x40, 2, { 0x40, 0x04 } },
		{ 0xfff, 2, { 0x4f, 0xff } },
		{ 0x1000, 3, { 0x80, 0x00, 0x01 } },
		{ 0x12345, 3, { 0x85, 0x34, 0x12 } },
		{ 0xfffff, 3, { 0x8f, 0xff, 0xff } },
		{ 0x100000, 4, { 0xc0, 0x00, 0x00, 0x01 } },
		{ 0x0fffffff, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	uint8_t out[ACPI_AML_PKGLEN_MAX_BYTES];
	unsigned int i, nb;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 0xee, sizeof(out));
		assert_int_equal(acpi_aml_pkglen_encode(cases[i].value, out), cases[i].n);
		assert_memory_equal(out, cases[i].bytes, (size_t)cases[i].n);
		assert_int_equal(pkglen_decode(out, &nb), cases[i].value);
		assert_int_equal(nb, cases[i].n);
	}
	assert_int_equal(acpi_aml_pkglen_encode(0x10000000, out), -ERANGE);
	assert_int_equal(acpi_aml_pkglen_encode(UINT32_MAX, out), -ERANGE);
}

static void test_pkglen_for_body(void **state)
{
	/* A PkgLength counts its own bytes: body 62 + 1 = 63 fits one byte, 63 + 1 does not. */
	static const struct {
		uint32_t body;
		int n;
	} cases[] = {
		{ 0, 1 }, { 62, 1 }, { 63, 2 }, { 0xffd, 2 }, { 0xffe, 3 },
		{ 0xffffc, 3 }, { 0xffffd, 4 }, { 0x0ffffffb, 4 },
	};
	uint8_t out[ACPI_AML_PKGLEN_MAX_BYTES];
	unsigned int i, nb;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(acpi_aml_pkglen_for_body(cases[i].body, out), cases[i].n);
		assert_int_equal(pkglen_decode(out, &nb), cases[i].body + (uint32_t)cases[i].n);
		assert_int_equal(nb, cases[i].n);
	}
	assert_int_equal(acpi_aml_pkglen_for_body(0x0ffffffc, out), -ERANGE);
	assert_int_equal(acpi_aml_pkglen_for_body(UINT32_MAX, out), -ERANGE);
}

static void test_eisaid(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(acpi_eisaid("PNP0A03", &v), 0);
	assert_int_equal(v, 0x030AD041);
	assert_int_equal(acpi_eisaid("PNP0A08", &v), 0);
	assert_int_equal(v, 0x080AD041);
	assert_int_equal(acpi_eisaid("PNP0C02", &v), 0);
	assert_int_equal(v, 0x020CD041);
	assert_int_equal(acpi_eisaid("PNP0501", &v), 0);
	assert_int_equal(v, 0x0105D041);
	assert_int_equal(acpi_eisaid("pnp0a03", &v), -EINVAL);
	assert_int_equal(acpi_eisaid("PNP0A0", &v), -EINVAL);
	assert_int_equal(acpi_eisaid("PNP0A0G", &v), -EINVAL);
	assert_int_equal(acpi_eisaid("PNP0A030", &v), -EINVAL);
	assert_int_equal(acpi_eisaid(NULL, &v), -EINVAL);
}

static void test_rsdp(void **state)
{
	struct acpi_config c;
	uint64_t used, xsdt, rsdt;

	(void)state;
	full_config(&c, 4);
	used = build_ok(&c);
	assert_memory_equal(ptr(RSDP_GPA, 8), "RSD PTR ", 8);	/* ACPI 6.4 §5.2.5.3 */
	assert_int_equal(sum(RSDP_GPA, 20), 0);			/* ACPI 1.0 checksum */
	assert_int_equal(sum(RSDP_GPA, 36), 0);			/* extended checksum */
	assert_memory_equal(ptr(RSDP_GPA + 9, 6), "HVRUN ", 6);
	assert_int_equal(rd8(RSDP_GPA + 15), 2);			/* revision */
	assert_int_equal(rd32(RSDP_GPA + 20), 36);		/* length */
	rsdt = rd32(RSDP_GPA + 16);
	xsdt = rd64(RSDP_GPA + 24);
	assert_true(xsdt >= TABLES_GPA && xsdt < TABLES_GPA + used);
	assert_true(rsdt >= TABLES_GPA && rsdt < TABLES_GPA + used);
	assert_memory_equal(ptr(xsdt, 4), "XSDT", 4);
	assert_memory_equal(ptr(rsdt, 4), "RSDT", 4);
	assert_int_equal(rd8(RSDP_GPA + 33) | rd8(RSDP_GPA + 34) | rd8(RSDP_GPA + 35), 0);
}

static void check_all_tables(const struct acpi_config *c)
{
	uint64_t used = build_ok(c), fadt, facs, xsdt, rsdt;
	uint32_t len, i;

	xsdt = rd64(RSDP_GPA + 24);
	len = check_header(xsdt, "XSDT", 1, used);
	for (i = 0; i < (len - 36) / 8; i++) {
		uint64_t t = rd64(xsdt + 36 + 8 * i);
		uint32_t tlen = rd32(t + 4);

		assert_true(t >= TABLES_GPA && t + tlen <= TABLES_GPA + used);
		assert_int_equal(t % 8, 0);
		assert_int_equal(sum(t, tlen), 0);
	}
	rsdt = rd32(RSDP_GPA + 16);
	check_header(rsdt, "RSDT", 1, used);
	fadt = xsdt_find("FACP");
	assert_int_equal(check_header(fadt, "FACP", 6, used), 276);
	check_header(dsdt_gpa(), "DSDT", 2, used);
	assert_int_equal(check_header(xsdt_find("APIC"), "APIC", 5, used),
			 44 + 8 * c->nr_cpus + 12 + 2 * 10 + 6);
	if (c->ecam_base)
		assert_int_equal(check_header(xsdt_find("MCFG"), "MCFG", 1, used), 60);
	/* FACS (§5.2.10): no checksum, 64 bytes, 64-byte aligned. */
	facs = rd32(fadt + 36);
	assert_memory_equal(ptr(facs, 4), "FACS", 4);
	assert_int_equal(rd32(facs + 4), 64);
	assert_int_equal(facs % 64, 0);
	assert_int_equal(rd8(facs + 32), 2);
	assert_true(facs >= TABLES_GPA && facs + 64 <= TABLES_GPA + used);
}

static void test_checksums_and_lengths(void **state)
{
	struct acpi_config c;

	(void)state;
	full_config(&c, 4);
	check_all_tables(&c);
	base_config(&c, 1);			/* no ECAM, no windows */
	check_all_tables(&c);
	full_config(&c, 255);
	c.com1 = false;
	check_all_tables(&c);
}

static void test_xsdt_rsdt_entries(void **state)
{
	static const char *const want[] = { "FACP", "APIC", "MCFG" };
	struct acpi_config c;
	uint64_t xsdt, rsdt;
	unsigned int i;

	(void)state;
	full_config(&c, 2);
	build_ok(&c);
	xsdt = rd64(RSDP_GPA + 24);
	rsdt = rd32(RSDP_GPA + 16);
	assert_int_equal(rd32(xsdt + 4), 36 + 3 * 8);
	assert_int_equal(rd32(rsdt + 4), 36 + 3 * 4);
	for (i = 0; i < 3; i++) {
		uint64_t t = rd64(xsdt + 36 + 8 * i);

		assert_memory_equal(ptr(t, 4), want[i], 4);
		assert_int_equal(rd32(rsdt + 36 + 4 * i), t);	/* RSDT lists the same tables */
	}
	/* The DSDT and FACS hang off the FADT, not the XSDT. */
	assert_int_equal(xsdt_find("DSDT"), 0);
	assert_int_equal(xsdt_find("FACS"), 0);
}

static void test_madt_cpu_counts(void **state)
{
	static const unsigned int counts[] = { 1, 2, 4, 64, 255 };
	struct acpi_config c;
	unsigned int k;

	(void)state;
	for (k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		uint64_t madt, off, end;
		unsigned int n = counts[k], lapics = 0;

		full_config(&c, n);
		build_ok(&c);
		madt = xsdt_find("APIC");
		assert_true(madt != 0);
		end = madt + rd32(madt + 4);
		for (off = madt + 44; off < end; off += rd8(off + 1)) {
			assert_true(rd8(off + 1) >= 2);
			if (rd8(off) != 0)
				continue;
			/* §5.2.12.2: type 0, length 8, UID, APIC id, flags (Enabled) */
			assert_int_equal(rd8(off + 1), 8);
			assert_int_equal(rd8(off + 2), lapics);
			assert_int_equal(rd8(off + 3), lapics);
			assert_int_equal(rd32(off + 4), 1);
			lapics++;
		}
		assert_int_equal(off, end);
		assert_int_equal(lapics, n);
	}
}

static void test_madt_ioapic_overrides_nmi(void **state)
{
	struct acpi_config c;
	uint64_t madt, off, end;
	unsigned int ioapics = 0, isos = 0, nmis = 0;
	bool irq0 = false, sci = false;

	(void)state;
	full_config(&c, 4);
	build_ok(&c);
	madt = xsdt_find("APIC");
	assert_int_equal(rd32(madt + 36), 0xfee00000);		/* Local Interrupt Controller Address */
	assert_int_equal(rd32(madt + 40), 1);			/* PCAT_COMPAT */
	end = madt + rd32(madt + 4);
	for (off = madt + 44; off < end; off += rd8(off + 1)) {
		switch (rd8(off)) {
		case 1:		/* §5.2.12.3 */
			assert_int_equal(rd8(off + 1), 12);
			assert_int_equal(rd8(off + 2), 0);		/* IOAPIC id */
			assert_int_equal(rd32(off + 4), 0xfec00000);
			assert_int_equal(rd32(off + 8), 0);		/* GSI base */
			ioapics++;
			break;
		case 2:		/* §5.2.12.5 */
			assert_int_equal(rd8(off + 1), 10);
			assert_int_equal(rd8(off + 2), 0);		/* bus: ISA */
			if (rd8(off + 3) == 0) {
				assert_int_equal(rd32(off + 4), 2);
				assert_int_equal(rd16(off + 8), 0);
				irq0 = true;
			} else {
				assert_int_equal(rd8(off + 3), 9);
				assert_int_equal(rd32(off + 4), 9);
				assert_int_equal(rd16(off + 8), 0x000d);	/* level, active high */
				sci = true;
			}
			isos++;
			break;
		case 4:		/* §5.2.12.7 */
			assert_int_equal(rd8(off + 1), 6);
			assert_int_equal(rd8(off + 2), 0xff);		/* all processors */
			assert_int_equal(rd16(off + 3), 0);
			assert_int_equal(rd8(off + 5), 1);		/* LINT1 */
			nmis++;
			break;
		case 0:
			break;
		default:
			fail_msg("unexpected MADT entry type %u", rd8(off));
		}
	}
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 2);
	assert_true(irq0 && sci);
	assert_int_equal(nmis, 1);

	/* Another IOAPIC id and SCI line are carried through. */
	c.ioapic_id = 4;
	c.sci_irq = 11;
	build_ok(&c);
	madt = xsdt_find("APIC");
	off = madt + 44 + 8 * 4;
	assert_int_equal(rd8(off), 1);
	assert_int_equal(rd8(off + 2), 4);
	off += 12 + 10;
	assert_int_equal(rd8(off + 3), 11);
	assert_int_equal(rd32(off + 4), 11);
}

static void test_fadt_fields(void **state)
{
	struct acpi_config c;
	uint64_t fadt, dsdt;

	(void)state;
	full_config(&c, 2);
	build_ok(&c);
	fadt = xsdt_find("FACP");
	dsdt = dsdt_gpa();
	/* ACPI 6.4 §5.2.9 offsets */
	assert_int_equal(rd32(fadt + 4), 276);
	assert_int_equal(rd8(fadt + 8), 6);
	assert_int_equal(rd8(fadt + 131), 4);			/* FADT minor version */
	assert_int_equal(rd32(fadt + 40), dsdt);		/* DSDT */
	assert_memory_equal(ptr(dsdt, 4), "DSDT", 4);
	assert_int_equal(rd32(fadt + 36) % 64, 0);		/* FIRMWARE_CTRL */
	assert_int_equal(rd64(fadt + 132), 0);			/* X_FIRMWARE_CTRL: 32-bit one used */
	assert_int_equal(rd16(fadt + 46), 9);			/* SCI_INT */
	assert_int_equal(rd32(fadt + 48), 0);			/* SMI_CMD */
	assert_int_equal(rd8(fadt + 52) | rd8(fadt + 53), 0);	/* ACPI_ENABLE/DISABLE */
	assert_int_equal(rd32(fadt + 56), 0x600);		/* PM1a_EVT_BLK */
	assert_int_equal(rd32(fadt + 60), 0);			/* PM1b_EVT_BLK */
	assert_int_equal(rd32(fadt + 64), 0x604);		/* PM1a_CNT_BLK */
	assert_int_equal(rd32(fadt + 76), 0);			/* PM_TMR_BLK */
	assert_int_equal(rd32(fadt + 80), 0);			/* GPE0_BLK */
	assert_int_equal(rd8(fadt + 88), 4);			/* PM1_EVT_LEN */
	assert_int_equal(rd8(fadt + 89), 2);			/* PM1_CNT_LEN */
	assert_int_equal(rd8(fadt + 91), 0);			/* PM_TMR_LEN */
	assert_true(rd16(fadt + 96) > 100);			/* no C2 */
	assert_true(rd16(fadt + 98) > 1000);			/* no C3 */
	/* RESET_REG (GAS §5.2.3.2): system I/O, 8 bits, offset 0, 0xcf9; value 6 */
	assert_int_equal(rd8(fadt + 116), 1);
	assert_int_equal(rd8(fadt + 117), 8);
	assert_int_equal(rd8(fadt + 118), 0);
	assert_int_equal(rd64(fadt + 120), 0xcf9);
	assert_int_equal(rd8(fadt + 128), 6);
	assert_int_equal(rd64(fadt + 140), dsdt);		/* X_DSDT */
	/* X_PM1a_EVT_BLK, X_PM1a_CNT_BLK: system I/O, widths matching the lengths */
	assert_int_equal(rd8(fadt + 148), 1);
	assert_int_equal(rd8(fadt + 149), 32);
	assert_int_equal(rd64(fadt + 152), 0x600);
	assert_int_equal(rd8(fadt + 172), 1);
	assert_int_equal(rd8(fadt + 173), 16);
	assert_int_equal(rd64(fadt + 176), 0x604);
	assert_int_equal(rd8(fadt + 208), 0);			/* X_PM_TMR_BLK: none */
	assert_int_equal(rd64(fadt + 212), 0);
	assert_memory_equal(ptr(fadt + 268, 8), "HVRUN\0\0\0", 8);	/* hypervisor vendor */

	/* Without a reset port there is no RESET_REG. */
	c.reset_port = 0;
	build_ok(&c);
	fadt = xsdt_find("FACP");
	assert_int_equal(rd32(fadt + 112) & (1U << 10), 0);
	assert_int_equal(rd64(fadt + 120), 0);
}

static void test_fadt_flags_boot_arch(void **state)
{
	struct acpi_config c;
	uint64_t fadt;
	uint32_t flags;
	uint16_t arch;

	(void)state;
	full_config(&c, 1);
	build_ok(&c);
	fadt = xsdt_find("FACP");
	flags = rd32(fadt + 112);				/* §5.2.9 Flags */
	assert_true(flags & (1U << 0));				/* WBINVD */
	assert_true(flags & (1U << 2));				/* PROC_C1 */
	assert_false(flags & (1U << 4));			/* PWR_BUTTON clear: fixed-feature button */
	assert_true(flags & (1U << 5));				/* SLP_BUTTON: none */
	assert_false(flags & (1U << 8));			/* TMR_VAL_EXT: no PM timer */
	assert_true(flags & (1U << 10));			/* RESET_REG_SUP */
	assert_false(flags & (1U << 20));			/* HW_REDUCED_ACPI */
	assert_int_equal(flags, 0x425);
	arch = rd16(fadt + 109);				/* §5.2.9.3 */
	assert_true(arch & (1U << 0));				/* LEGACY_DEVICES */
	assert_false(arch & (1U << 1));				/* 8042 */
	assert_true(arch & (1U << 2));				/* VGA Not Present */
	assert_false(arch & (1U << 3));				/* MSI Not Supported */
	assert_false(arch & (1U << 5));				/* CMOS RTC Not Present */
	assert_int_equal(arch, 0x0005);
}

static void test_mcfg_iff_ecam(void **state)
{
	struct acpi_config c;
	uint64_t mcfg, xsdt;

	(void)state;
	full_config(&c, 2);
	c.ecam_base = 0xb0000000;
	c.ecam_bus_end = 15;
	build_ok(&c);
	mcfg = xsdt_find("MCFG");
	assert_true(mcfg != 0);
	/* PCI Firmware 3.2 §4.1.2: 8 reserved bytes, then one allocation */
	assert_int_equal(rd64(mcfg + 36), 0);
	assert_int_equal(rd64(mcfg + 44), 0xb0000000);
	assert_int_equal(rd16(mcfg + 52), 0);			/* segment */
	assert_int_equal(rd8(mcfg + 54), 0);			/* start bus */
	assert_int_equal(rd8(mcfg + 55), 15);			/* end bus */
	assert_int_equal(rd32(mcfg + 56), 0);

	c.ecam_base = 0;
	build_ok(&c);
	assert_int_equal(xsdt_find("MCFG"), 0);
	xsdt = rd64(RSDP_GPA + 24);
	assert_int_equal(rd32(xsdt + 4), 36 + 2 * 8);
}

static void check_s5(uint8_t typ)
{
	struct acpi_config c;
	uint64_t d, v;
	uint32_t len, pkg;
	const uint8_t *t, *p, *start;
	unsigned int nb, i;

	full_config(&c, 1);
	c.s5_slp_typ = typ;
	build_ok(&c);
	d = dsdt_gpa();
	len = rd32(d + 4);
	t = ptr(d, len);
	p = find(t, len, "_S5_", 4);
	assert_non_null(p);
	assert_int_equal(p[-1], '\\');				/* root-relative */
	assert_int_equal(p[-2], 0x08);				/* NameOp */
	p += 4;
	assert_int_equal(*p++, 0x12);				/* PackageOp */
	start = p;
	pkg = pkglen_decode(p, &nb);
	p += nb;
	assert_int_equal(*p++, 4);				/* NumElements */
	for (i = 0; i < 4; i++) {
		p += aml_int_decode(p, &v);
		assert_int_equal(v, i < 2 ? typ : 0);
	}
	assert_int_equal(p - start, pkg);
}

static void test_dsdt_s5(void **state)
{
	(void)state;
	check_s5(5);
	check_s5(0);
	check_s5(1);
	check_s5(7);
}

/* _PRT: 31 slots x 4 pins, each { slot << 16 | 0xffff, pin, 0, base + (slot + pin) % 8 }. */
static void test_dsdt_prt(void **state)
{
	struct acpi_config c;
	uint64_t d, v;
	const uint8_t *t, *p;
	unsigned int nb, slot, pin;
	uint32_t len;

	(void)state;
	full_config(&c, 2);
	c.pci_intx_gsi_base = 0;
	build_ok(&c);
	d = dsdt_gpa();
	len = rd32(d + 4);
	assert_null(find(ptr(d, len), len, "_PRT", 4));
	c.pci_intx_gsi_base = 16;
	build_ok(&c);
	d = dsdt_gpa();
	len = rd32(d + 4);
	t = ptr(d, len);
	p = find(t, len, "_PRT", 4);
	assert_non_null(p);
	assert_int_equal(p[-1], 0x08);				/* NameOp, relative to PCI0 */
	p += 4;
	assert_int_equal(*p++, 0x12);				/* PackageOp */
	pkglen_decode(p, &nb);
	p += nb;
	assert_int_equal(*p++, 124);
	for (slot = 1; slot < 32; slot++) {
		for (pin = 0; pin < 4; pin++) {
			assert_int_equal(*p++, 0x12);
			pkglen_decode(p, &nb);
			p += nb;
			assert_int_equal(*p++, 4);
			p += aml_int_decode(p, &v);
			assert_int_equal(v, (uint64_t)slot << 16 | 0xffff);
			p += aml_int_decode(p, &v);
			assert_int_equal(v, pin);
			p += aml_int_decode(p, &v);
			assert_int_equal(v, 0);
			p += aml_int_decode(p, &v);
			assert_int_equal(v, 16 + (slot + pin) % 8);
		}
	}
	assert_true(p <= t + len);
}

static void test_dsdt_pci0_ids(void **state)
{
	static const uint8_t hid_a08[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x08 };
	static const uint8_t cid_a03[] = { 0x08, '_', 'C', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	static const uint8_t hid_a03[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	struct acpi_config c;
	uint64_t d;
	uint32_t len;
	const uint8_t *t, *dev;

	(void)state;
	full_config(&c, 2);
	build_ok(&c);
	d = dsdt_gpa();
	len = rd32(d + 4);
	t = ptr(d, len);
	dev = find(t, len, "PCI0", 4);
	assert_non_null(dev);
	assert_true(device_pkglen(t, len, dev) > 0x3f);		/* a 2-byte PkgLength */
	assert_non_null(find(dev, len - (size_t)(dev - t), hid_a08, sizeof(hid_a08)));
	assert_non_null(find(dev, len - (size_t)(dev - t), cid_a03, sizeof(cid_a03)));
	assert_non_null(find(t, len, "_SB_", 4));
	assert_non_null(find(t, len, "_SEG", 4));
	assert_non_null(find(t, len, "_BBN", 4));

	c.ecam_base = 0;					/* conventional PCI */
	build_ok(&c);
	d = dsdt_gpa();
	len = rd32(d + 4);
	t = ptr(d, len);
	assert_non_null(find(t, len, hid_a03, sizeof(hid_a03)));
	assert_null(find(t, len, hid_a08, sizeof(hid_a08)));
	assert_null(find(t, len, "_CID", 4));
}

static void test_dsdt_pci0_crs(void **state)
{
	static const uint8_t bus[] = {		/* WordBusNumber 0..0xff, §6.4.3.5.3 */
		0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00,
		0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01,
	};
	static const uint8_t conf1[] = { 0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08 };
	static const uint8_t io_low[] = {	/* WordIO 0x0000-0x0cf7 */
		0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03,
		0x00, 0x00, 0x00, 0x00, 0xf7, 0x0c, 0x00, 0x00, 0xf8, 0x0c,
	};
	static const uint8_t io_high[] = {	/* WordIO 0x0d00-0xffff */
		0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03,
		0x00, 0x00, 0x00, 0x0d, 0xff, 0xff, 0x00, 0x00, 0x00, 0xf3,
	};
	static const uint8_t mem32[] = {	/* DWordMemory 0xc0000000-0xdfffffff, §6.4.3.5.2 */
		0x87, 0x17, 0x00, 0x00, 0x0c, 0x01,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xdf,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20,
	};
	static const uint8_t mem64[] = {	/* QWordMemory 0x80_0000_0000 + 512 GiB, §6.4.3.5.1 */
		0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x03,
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0x80, 0, 0, 0,
		0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0x80, 0, 0, 0,
	};
	struct acpi_config c;
	const uint8_t *r;
	size_t n;

	(void)state;
	full_config(&c, 1);
	build_ok(&c);
	r = dsdt_crs("PCI0", &n);
	assert_non_null(find(r, n, bus, sizeof(bus)));
	assert_non_null(find(r, n, conf1, sizeof(conf1)));
	assert_non_null(find(r, n, io_low, sizeof(io_low)));
	assert_non_null(find(r, n, io_high, sizeof(io_high)));
	assert_non_null(find(r, n, mem32, sizeof(mem32)));
	assert_non_null(find(r, n, mem64, sizeof(mem64)));
	assert_int_equal(crs_count(r, n, 0x88), 3);
	assert_int_equal(crs_count(r, n, 0x87), 1);
	assert_int_equal(crs_count(r, n, 0x8a), 1);
	assert_int_equal(r[n - 2], 0x79);			/* End Tag */
	assert_int_equal(r[n - 1], 0x00);

	/* No 64-bit window, no ECAM: no QWordMemory, bus 0 only. */
	c.pci_mmio64_size = 0;
	c.ecam_base = 0;
	build_ok(&c);
	r = dsdt_crs("PCI0", &n);
	assert_int_equal(crs_count(r, n, 0x8a), 0);
	assert_int_equal(crs_count(r, n, 0x87), 1);
	assert_int_equal(r[10], 0x00);				/* WordBusNumber _MAX */
	assert_int_equal(r[14], 0x01);				/* _LEN */
}

static void test_dsdt_ecam_reservation(void **state)
{
	static const uint8_t hid_c02[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0c, 0x02 };
	static const uint8_t mem32fixed[] = {	/* Memory32Fixed (ReadWrite, 0xe0000000, 0x10000000) */
		0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xe0, 0x00, 0x00, 0x00, 0x10,
	};
	struct acpi_config c;
	const uint8_t *r, *t;
	uint64_t d;
	size_t n;

	(void)state;
	full_config(&c, 1);
	build_ok(&c);
	d = dsdt_gpa();
	t = ptr(d, rd32(d + 4));
	assert_non_null(find(t, rd32(d + 4), hid_c02, sizeof(hid_c02)));
	r = dsdt_crs("RES0", &n);
	assert_int_equal(n, sizeof(mem32fixed) + 2);
	assert_memory_equal(r, mem32fixed, sizeof(mem32fixed));
	assert_int_equal(crs_count(r, n, 0x86), 1);

	/* One bus: 1 MiB. */
	c.ecam_bus_end = 0;
	build_ok(&c);
	r = dsdt_crs("RES0", &n);
	assert_int_equal(r[8] | r[9] << 8 | r[10] << 16 | (uint32_t)r[11] << 24, 0x100000);

	/* ECAM above 4 GiB needs a QWord descriptor (consumer). */
	c.ecam_base = 0x4000000000ULL;
	build_ok(&c);
	r = dsdt_crs("RES0", &n);
	assert_int_equal(r[0], 0x8a);
	assert_int_equal(r[4] & 1, 1);				/* ResourceConsumer */
	assert_int_equal(crs_count(r, n, 0x8a), 1);

	/* No ECAM: no reservation device. */
	c.ecam_base = 0;
	build_ok(&c);
	d = dsdt_gpa();
	t = ptr(d, rd32(d + 4));
	assert_null(find(t, rd32(d + 4), "RES0", 4));
	assert_null(find(t, rd32(d + 4), hid_c02, sizeof(hid_c02)));
}

static void test_dsdt_com1(void **state)
{
	static const uint8_t hid_501[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01 };
	static const uint8_t crs[] = {
		/* IO (Decode16, 0x3f8, 0x3f8, 1, 8) */
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
		0x22, 0x10, 0x00,				/* IRQNoFlags () {4} */
		0x79, 0x00,					/* End Tag */
	};
	static const uint8_t uid1[] = { 0x08, '_', 'U', 'I', 'D', 0x01 };
	struct acpi_config c;
	const uint8_t *r, *t, *dev;
	uint64_t d;
	uint32_t len;
	size_t n;

	(void)state;
	full_config(&c, 1);
	build_ok(&c);
	d = dsdt_gpa();
	len = rd32(d + 4);
	t = ptr(d, len);
	dev = find(t, len, "COM1", 4);
	assert_non_null(dev);
	assert_non_null(find(dev, len - (size_t)(dev - t), hid_501, sizeof(hid_501)));
	assert_non_null(find(dev, len - (size_t)(dev - t), uid1, sizeof(uid1)));
	r = dsdt_crs("COM1", &n);
	assert_int_equal(n, sizeof(crs));
	assert_memory_equal(r, crs, sizeof(crs));

	c.com1 = false;
	build_ok(&c);
	d = dsdt_gpa();
	t = ptr(d, rd32(d + 4));
	assert_null(find(t, rd32(d + 4), "COM1", 4));
	assert_null(find(t, rd32(d + 4), hid_501, sizeof(hid_501)));
}

/* The DSDT's term list parses: Name (\_S5_, Package) then Scope (\_SB_) running to the end. */
static void test_dsdt_structure(void **state)
{
	struct acpi_config c;
	const uint8_t *t, *p;
	unsigned int nb;
	uint32_t len, pkg;
	uint64_t d;

	(void)state;
	full_config(&c, 255);
	build_ok(&c);
	d = dsdt_gpa();
	len = rd32(d + 4);
	t = ptr(d, len);
	p = t + 36;
	assert_int_equal(p[0], 0x08);
	assert_memory_equal(p + 1, "\\_S5_", 5);
	assert_int_equal(p[6], 0x12);
	pkg = pkglen_decode(p + 7, &nb);
	p += 7 + pkg;
	assert_int_equal(p[0], 0x10);				/* ScopeOp */
	pkg = pkglen_decode(p + 1, &nb);
	assert_true(nb >= 2);					/* the scope is > 63 bytes */
	assert_memory_equal(p + 1 + nb, "\\_SB_", 5);
	assert_int_equal((p + 1) + pkg, t + len);		/* ends the table */
}

static void test_refuse_cpu_counts(void **state)
{
	struct acpi_config c;
	char err[256];
	uint64_t used = 123;

	(void)state;
	full_config(&c, 0);
	reset_ram();
	assert_int_equal(acpi_build(&c, &gm, RSDP_GPA, TABLES_GPA, TABLES_MAX, &used, err, sizeof(err)),
			 -EINVAL);
	assert_true(strlen(err) > 0 && !strchr(err, '\n'));
	assert_non_null(strstr(err, "CPU"));
	assert_int_equal(used, 0);
	assert_true(ram_is_zero());

	c.nr_cpus = 256;
	assert_int_equal(acpi_build(&c, &gm, RSDP_GPA, TABLES_GPA, TABLES_MAX, &used, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "256"));
	assert_true(ram_is_zero());
}

static void test_refuse_tables_max(void **state)
{
	struct acpi_config c;
	char err[256];
	uint64_t used, need;

	(void)state;
	full_config(&c, 64);
	need = build_ok(&c);
	reset_ram();
	assert_int_equal(acpi_build(&c, &gm, RSDP_GPA, TABLES_GPA, need - 1, &used, err, sizeof(err)),
			 -ENOSPC);
	assert_int_equal(used, need);				/* reports the need */
	assert_true(strlen(err) > 0 && !strchr(err, '\n'));
	assert_true(ram_is_zero());				/* wrote nothing */
	assert_int_equal(acpi_build(&c, &gm, RSDP_GPA, TABLES_GPA, 64, &used, err, sizeof(err)), -ENOSPC);
	assert_int_equal(acpi_build(&c, &gm, RSDP_GPA, TABLES_GPA, need, &used, err, sizeof(err)), 0);
	assert_int_equal(used, need);
}

static void test_refuse_rsdp(void **state)
{
	struct acpi_config c;
	struct guest_mem small;
	char err[256];
	uint64_t used;

	(void)state;
	full_config(&c, 2);
	reset_ram();
	assert_int_equal(acpi_build(&c, &gm, RSDP_GPA + 8, TABLES_GPA, TABLES_MAX, &used, err, sizeof(err)),
			 -EINVAL);					/* misaligned */
	assert_non_null(strstr(err, "RSDP"));
	assert_int_equal(acpi_build(&c, &gm, 0xd0000, TABLES_GPA, TABLES_MAX, &used, err, sizeof(err)),
			 -EINVAL);					/* below the scan area */
	assert_int_equal(acpi_build(&c, &gm, 0x100000, TABLES_GPA, TABLES_MAX, &used, err, sizeof(err)),
			 -EINVAL);					/* above it */
	assert_int_equal(acpi_build(&c, &gm, 0xffff0, TABLES_GPA, TABLES_MAX, &used, err, sizeof(err)),
			 -EINVAL);					/* 36 bytes do not fit */
	assert_int_equal(acpi_build(&c, &gm, TABLES_GPA + 0x40, TABLES_GPA, TABLES_MAX, &used, err,
				    sizeof(err)), -EINVAL);		/* overlaps the tables */
	assert_non_null(strstr(err, "overlaps"));
	assert_true(ram_is_zero());

	/* RAM that stops short of the RSDP: -EFAULT, nothing written. */
	memset(&small, 0, sizeof(small));
	assert_int_equal(gm_add_region(&small, 0, 0x80000, ram), 0);
	assert_int_equal(acpi_build(&c, &small, RSDP_GPA, 0x10000, 0x10000, &used, err, sizeof(err)),
			 -EFAULT);
	assert_non_null(strstr(err, "RSDP"));
	assert_true(ram_is_zero());
}

static void test_refuse_tables_outside_ram(void **state)
{
	struct acpi_config c;
	char err[256];
	uint64_t used;

	(void)state;
	full_config(&c, 2);
	reset_ram();
	/* Straddles the end of RAM. */
	assert_int_equal(acpi_build(&c, &gm, RSDP_GPA, RAM_SIZE - 0x100, 0x10000, &used, err, sizeof(err)),
			 -EFAULT);
	assert_non_null(strstr(err, "not guest RAM"));
	/* In the hole between the two regions. */
	assert_int_equal(acpi_build(&c, &gm, RSDP_GPA, 0x80000000ULL, 0x10000, &used, err, sizeof(err)),
			 -EFAULT);
	/* Wraps around. */
	assert_int_equal(acpi_build(&c, &gm, RSDP_GPA, UINT64_MAX - 0x100, 0x10000, &used, err, sizeof(err)),
			 -EINVAL);
	assert_true(ram_is_zero());
}

static void test_refuse_bad_config(void **state)
{
	struct acpi_config c;
	char err[256];
	uint64_t used;
	unsigned int i;

	(void)state;
	reset_ram();
	for (i = 0; i < 13; i++) {
		full_config(&c, 2);
		switch (i) {
		case 0: c.s5_slp_typ = 8; break;
		case 1: c.sci_irq = 0; break;
		case 2: c.sci_irq = 2; break;
		case 3: c.sci_irq = 16; break;
		case 4: c.ecam_base = 0xe0080000; break;			/* not 1 MiB aligned */
		case 5: c.pci_mmio32_size = 0x20100000; break;		/* runs into ECAM */
		case 6: c.ecam_base = 0; c.pci_mmio32_size = 0x3ec01000; break;	/* over the IOAPIC */
		case 7: c.pci_mmio32_base = 0xf0000000; break;		/* crosses 4 GiB */
		case 8: c.pci_mmio64_base = 0xe0000000; break;		/* over ECAM */
		case 9: c.pm1a_cnt_port = 0x602; break;			/* inside PM1a_EVT */
		case 10: c.pm1a_evt_port = 0; break;
		case 11: c.ioapic_id = 0xff; break;
		case 12: c.lapic_addr = 0xfee00800; break;
		}
		err[0] = '\0';
		assert_int_equal(acpi_build(&c, &gm, RSDP_GPA, TABLES_GPA, TABLES_MAX, &used, err,
					    sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 0 && !strchr(err, '\n'));
	}
	assert_int_equal(acpi_build(NULL, &gm, RSDP_GPA, TABLES_GPA, TABLES_MAX, &used, err, sizeof(err)),
			 -EINVAL);
	assert_true(ram_is_zero());
	/* err may be NULL, and the message is truncated to errlen. */
	c.nr_cpus = 0;
	assert_int_equal(acpi_build(&c, &gm, RSDP_GPA, TABLES_GPA, TABLES_MAX, &used, NULL, 0), -EINVAL);
	memset(err, 'x', sizeof(err));
	assert_int_equal(acpi_build(&c, &gm, RSDP_GPA, TABLES_GPA, TABLES_MAX, &used, err, 8), -EINVAL);
	assert_int_equal(strlen(err), 7);
}

static void test_tables_above_4g(void **state)
{
	struct acpi_config c;
	char err[256];
	uint64_t used, fadt, xsdt, facs;

	(void)state;
	full_config(&c, 8);
	reset_ram();
	assert_int_equal(acpi_build(&c, &gm, RSDP_GPA, HIGH_GPA, HIGH_SIZE, &used, err, sizeof(err)), 0);
	assert_int_equal(sum(RSDP_GPA, 20), 0);
	assert_int_equal(sum(RSDP_GPA, 36), 0);
	assert_int_equal(rd32(RSDP_GPA + 16), 0);		/* no RSDT: 32 bits cannot reach */
	xsdt = rd64(RSDP_GPA + 24);
	assert_true(xsdt >= HIGH_GPA);
	assert_int_equal(sum(xsdt, rd32(xsdt + 4)), 0);
	fadt = xsdt_find("FACP");
	assert_int_equal(rd32(fadt + 40), 0);			/* DSDT: only X_DSDT */
	assert_true(rd64(fadt + 140) >= HIGH_GPA);
	assert_int_equal(rd32(fadt + 36), 0);			/* FIRMWARE_CTRL: only X_ */
	facs = rd64(fadt + 132);
	assert_memory_equal(ptr(facs, 4), "FACS", 4);
	assert_int_equal(facs % 64, 0);
	assert_int_equal(sum(dsdt_gpa(), rd32(dsdt_gpa() + 4)), 0);
}

static void test_unaligned_tables_gpa(void **state)
{
	struct acpi_config c;
	char err[256];
	uint64_t used, xsdt, fadt, i;

	(void)state;
	full_config(&c, 3);
	reset_ram();
	assert_int_equal(acpi_build(&c, &gm, RSDP_GPA, TABLES_GPA + 4, TABLES_MAX - 4, &used, err,
				    sizeof(err)), 0);
	xsdt = rd64(RSDP_GPA + 24);
	assert_int_equal(xsdt % 8, 0);
	for (i = 0; i < (rd32(xsdt + 4) - 36) / 8; i++)
		assert_int_equal(rd64(xsdt + 36 + 8 * i) % 8, 0);
	fadt = xsdt_find("FACP");
	assert_int_equal(rd32(fadt + 36) % 64, 0);
	assert_int_equal(dsdt_gpa() % 8, 0);
	assert_true(rd32(fadt + 36) >= TABLES_GPA + 4);
	/* Nothing before tables_gpa was touched. */
	assert_int_equal(rd32(TABLES_GPA), 0);
}

static void test_size_bound(void **state)
{
	struct acpi_config c;
	uint64_t used;

	(void)state;
	full_config(&c, ACPI_MAX_CPUS);
	c.ecam_base = 0x4000000000ULL;			/* the largest reservation descriptor */
	used = build_ok(&c);
	assert_true(used + 64 <= ACPI_TABLES_MAX_SIZE);	/* + worst FACS alignment */
}

/* ---- the firmware path: a BIOS linker/loader interpreter, as SeaBIOS runs one ---- */

/*
 * The command format of QEMU's hw/acpi/bios-linker-loader.c, spelled out
 * here independently of acpi.c: a 32-bit command, then its arguments, in
 * 128 bytes; file names NUL-padded to 56 bytes.
 */
#define LD_CMD_SIZE		128
#define LD_FILESZ		56
#define LD_ALLOCATE		1
#define LD_ADD_POINTER		2
#define LD_ADD_CHECKSUM		3
#define LD_ZONE_HIGH		1
#define LD_ZONE_FSEG		2

struct ld_file {
	const char *name;
	const uint8_t *data;
	size_t len;
	uint64_t gpa;		/* where the test's "firmware" puts it */
	bool allocated;
};

/* The end of a command's used bytes, per command: the rest must be zero. */
static unsigned int ld_cmd_used(uint32_t cmd)
{
	switch (cmd) {
	case LD_ALLOCATE: return 4 + LD_FILESZ + 4 + 1;
	case LD_ADD_POINTER: return 4 + 2 * LD_FILESZ + 4 + 1;
	case LD_ADD_CHECKSUM: return 4 + LD_FILESZ + 3 * 4;
	}
	fail_msg("unknown loader command %u", cmd);
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A name field: NUL-terminated inside 56 bytes, NUL after the name; the file it names. */
static struct ld_file *ld_find(struct ld_file *files, unsigned int n, const uint8_t *name)
{
	size_t len = strnlen((const char *)name, LD_FILESZ), i;

	assert_true(len > 0 && len < LD_FILESZ);
	for (i = len; i < LD_FILESZ; i++)
		assert_int_equal(name[i], 0);
	for (i = 0; i < n; i++)
		if (!strcmp(files[i].name, (const char *)name))
			return &files[i];
	fail_msg("the loader names an unknown file %s", (const char *)name);
	return NULL;
}

/*
 * Runs the loader over guest memory gm: ALLOCATE copies a file to the
 * address the test chose (checking align and zone), ADD_POINTER adds the
 * source's address to the field, ADD_CHECKSUM subtracts the range's sum
 * from the byte.  Stricter than SeaBIOS: anything it would skip fails.
 */
static void ld_run(const struct acpi_blobs *bl, uint64_t rsdp_at, uint64_t tables_at)
{
	struct ld_file files[] = {
		{ ACPI_LOADER_FILE_RSDP, bl->rsdp, bl->rsdp_len, rsdp_at, false },
		{ ACPI_LOADER_FILE_TABLES, bl->tables, bl->tables_len, tables_at, false },
	};
	size_t off;
	unsigned int i;

	assert_int_equal(bl->loader_len % LD_CMD_SIZE, 0);
	for (off = 0; off < bl->loader_len; off += LD_CMD_SIZE) {
		const uint8_t *c = bl->loader + off;
		uint32_t cmd = le32(c);
		struct ld_file *f, *src;
		uint32_t align, at, start, len;
		uint8_t *field, size;
		uint64_t v;

		for (i = ld_cmd_used(cmd); i < LD_CMD_SIZE; i++)
			assert_int_equal(c[i], 0);
		switch (cmd) {
		case LD_ALLOCATE:
			f = ld_find(files, 2, c + 4);
			assert_false(f->allocated);
			align = le32(c + 60);
			assert_true(align && !(align & (align - 1)));
			assert_int_equal(f->gpa % align, 0);
			if (c[64] == LD_ZONE_FSEG)
				assert_true(f->gpa >= 0xe0000 && f->gpa + f->len <= 0x100000);
			else
				assert_int_equal(c[64], LD_ZONE_HIGH);
			assert_true(f->gpa + f->len <= 0x100000000ULL);
			assert_int_equal(gm_write(&gm, f->gpa, f->data, f->len), 0);
			f->allocated = true;
			break;
		case LD_ADD_POINTER:
			f = ld_find(files, 2, c + 4);
			src = ld_find(files, 2, c + 60);
			assert_true(f->allocated && src->allocated);
			at = le32(c + 116);
			size = c[120];
			assert_true(size == 1 || size == 2 || size == 4 || size == 8);
			assert_true(at + size <= f->len);
			field = (uint8_t *)gm_ptr(&gm, f->gpa + at, size);
			assert_non_null(field);
			for (v = 0, i = 0; i < size; i++)
				v |= (uint64_t)field[i] << (8 * i);
			assert_true(v < src->len);		/* OVMF insists: an offset into the source */
			v += src->gpa;
			assert_true(size == 8 || v >> (8 * size) == 0);
			for (i = 0; i < size; i++)
				field[i] = (uint8_t)(v >> (8 * i));
			break;
		case LD_ADD_CHECKSUM:
			f = ld_find(files, 2, c + 4);
			assert_true(f->allocated);
			at = le32(c + 60);
			start = le32(c + 64);
			len = le32(c + 68);
			assert_true(at < f->len && start + len <= f->len && start + len >= start);
			field = (uint8_t *)gm_ptr(&gm, f->gpa + at, 1);
			*field = (uint8_t)(*field - sum(f->gpa + start, len));
			break;
		}
	}
	for (i = 0; i < 2; i++)
		assert_true(files[i].allocated);
}

static void blobs_ok(const struct acpi_config *c, struct acpi_blobs *bl)
{
	char err[256] = "untouched";

	assert_int_equal(acpi_build_blobs(c, bl, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_non_null(bl->rsdp);
	assert_non_null(bl->tables);
	assert_non_null(bl->loader);
	assert_int_equal(bl->rsdp_len, 36);
	assert_true(bl->tables_len > 0 && bl->tables_len <= ACPI_TABLES_MAX_SIZE);
}

/* Builds the blobs for c and runs the loader with the RSDP at rsdp_at, the tables at tables_at. */
static void load_ok(const struct acpi_config *c, uint64_t rsdp_at, uint64_t tables_at, size_t *tables_len)
{
	struct acpi_blobs bl;

	blobs_ok(c, &bl);
	reset_ram();
	ld_run(&bl, rsdp_at, tables_at);
	*tables_len = bl.tables_len;
	acpi_blobs_free(&bl);
}

/* A table at gpa inside [tables_at, +len): its signature, whole inside, summing to zero. */
static uint32_t check_linked_table(uint64_t gpa, const char *sig, uint64_t tables_at, size_t len)
{
	uint32_t tlen = rd32(gpa + 4);

	assert_memory_equal(ptr(gpa, 4), sig, 4);
	assert_true(gpa >= tables_at && gpa + tlen <= tables_at + len);
	assert_int_equal(gpa % 8, 0);
	assert_int_equal(sum(gpa, tlen), 0);
	return tlen;
}

/* What a guest OS walks after the firmware ran the loader, from the RSDP at rsdp_at on. */
static void check_linked(const struct acpi_config *c, uint64_t rsdp_at, uint64_t tables_at, size_t len)
{
	static const char *const want[] = { "FACP", "APIC", "MCFG" };
	unsigned int n = c->ecam_base ? 3 : 2, i;
	uint64_t xsdt, rsdt, fadt, dsdt, facs;

	assert_memory_equal(ptr(rsdp_at, 8), "RSD PTR ", 8);
	assert_int_equal(sum(rsdp_at, 20), 0);
	assert_int_equal(sum(rsdp_at, 36), 0);
	assert_int_equal(rd8(rsdp_at + 15), 2);
	xsdt = rd64(rsdp_at + 24);
	rsdt = rd32(rsdp_at + 16);
	assert_int_equal(check_linked_table(xsdt, "XSDT", tables_at, len), 36 + 8 * n);
	assert_int_equal(check_linked_table(rsdt, "RSDT", tables_at, len), 36 + 4 * n);
	for (i = 0; i < n; i++) {
		uint64_t t = rd64(xsdt + 36 + 8 * i);

		check_linked_table(t, want[i], tables_at, len);
		assert_int_equal(rd32(rsdt + 36 + 4 * i), t);
	}
	fadt = rd64(xsdt + 36);
	dsdt = rd32(fadt + 40);
	assert_int_equal(rd64(fadt + 140), dsdt);		/* X_DSDT = DSDT */
	check_linked_table(dsdt, "DSDT", tables_at, len);
	facs = rd32(fadt + 36);
	assert_int_equal(rd64(fadt + 132), 0);			/* X_FIRMWARE_CTRL unused */
	assert_memory_equal(ptr(facs, 4), "FACS", 4);
	assert_int_equal(rd32(facs + 4), 64);
	assert_int_equal(facs % 64, 0);
	assert_true(facs >= tables_at && facs + 64 <= tables_at + len);
}

/* The configs the firmware-path tests run through. */
static void some_config(struct acpi_config *c, unsigned int k)
{
	switch (k) {
	case 0: full_config(c, 4); break;
	case 1: base_config(c, 1); break;
	case 2: full_config(c, 255); c->com1 = false; break;
	case 3: full_config(c, 8); c->ecam_base = 0x4000000000ULL; c->pci_intx_gsi_base = 16; break;
	case 4: base_config(c, 2); c->reset_port = 0; c->s5_slp_typ = 0; break;
	}
}
#define NR_SOME_CONFIGS	5

static void test_blobs_layout(void **state)
{
	struct acpi_config c;
	struct acpi_blobs bl;
	uint64_t xsdt, rsdt, fadt;
	const uint8_t *t;

	(void)state;
	full_config(&c, 4);
	blobs_ok(&c, &bl);
	/* RSDP: signature, revision, length; checksums left to the loader. */
	assert_memory_equal(bl.rsdp, "RSD PTR ", 8);
	assert_int_equal(bl.rsdp[8], 0);
	assert_int_equal(bl.rsdp[15], 2);
	assert_int_equal(le32(bl.rsdp + 20), 36);
	assert_int_equal(bl.rsdp[32], 0);
	/* Its pointers are offsets into the tables blob. */
	rsdt = le32(bl.rsdp + 16);
	xsdt = le32(bl.rsdp + 24) | (uint64_t)le32(bl.rsdp + 28) << 32;
	assert_true(xsdt + 36 <= bl.tables_len && rsdt + 36 <= bl.tables_len);
	t = bl.tables;
	assert_memory_equal(t + xsdt, "XSDT", 4);
	assert_memory_equal(t + rsdt, "RSDT", 4);
	/* FACS first, at offset 0 (64-aligned once allocated with align 64). */
	assert_memory_equal(t, "FACS", 4);
	/* FADT: FIRMWARE_CTRL, DSDT and X_DSDT hold offsets; X_FIRMWARE_CTRL 0. */
	fadt = le32(t + xsdt + 36);
	assert_memory_equal(t + fadt, "FACP", 4);
	assert_int_equal(le32(t + fadt + 36), 0);		/* the FACS, at offset 0 */
	assert_memory_equal(t + le32(t + fadt + 40), "DSDT", 4);
	assert_int_equal(le32(t + fadt + 140), le32(t + fadt + 40));
	assert_int_equal(le32(t + fadt + 144), 0);
	assert_int_equal(le32(t + fadt + 132) | le32(t + fadt + 136), 0);
	/* Every checksummed table's checksum byte is 0 in the blob. */
	assert_int_equal(t[xsdt + 9], 0);
	assert_int_equal(t[rsdt + 9], 0);
	assert_int_equal(t[fadt + 9], 0);
	assert_int_equal(t[le32(t + fadt + 40) + 9], 0);
	acpi_blobs_free(&bl);
}

/* The script: 128-byte commands, allocations first, a pointer per field, a checksum per table. */
static void test_loader_commands(void **state)
{
	struct acpi_config c;
	struct acpi_blobs bl;
	unsigned int k, ncmd, i, nptr, nsum;
	bool seen_sum;

	(void)state;
	for (k = 0; k < NR_SOME_CONFIGS; k++) {
		unsigned int nsdt;
		int rsdp_v1 = -1, rsdp_v2 = -1;

		some_config(&c, k);
		nsdt = c.ecam_base ? 3 : 2;
		blobs_ok(&c, &bl);
		assert_int_equal(bl.loader_len % LD_CMD_SIZE, 0);
		ncmd = (unsigned int)(bl.loader_len / LD_CMD_SIZE);
		/* ALLOCATE rsdp (FSEG, 16), ALLOCATE tables (HIGH, 64) */
		assert_true(ncmd >= 2);
		assert_int_equal(le32(bl.loader), LD_ALLOCATE);
		assert_string_equal((const char *)bl.loader + 4, "etc/acpi/rsdp");
		assert_int_equal(le32(bl.loader + 60), 16);
		assert_int_equal(bl.loader[64], LD_ZONE_FSEG);
		assert_int_equal(le32(bl.loader + 128), LD_ALLOCATE);
		assert_string_equal((const char *)bl.loader + 128 + 4, "etc/acpi/tables");
		assert_int_equal(le32(bl.loader + 128 + 60), 64);
		assert_int_equal(bl.loader[128 + 64], LD_ZONE_HIGH);
		nptr = nsum = 0;
		seen_sum = false;
		for (i = 2; i < ncmd; i++) {
			const uint8_t *cmd = bl.loader + LD_CMD_SIZE * i;
			size_t j;

			for (j = ld_cmd_used(le32(cmd)); j < LD_CMD_SIZE; j++)
				assert_int_equal(cmd[j], 0);
			switch (le32(cmd)) {
			case LD_ADD_POINTER:
				assert_false(seen_sum);		/* sums cover final pointers */
				assert_string_equal((const char *)cmd + 60, "etc/acpi/tables");
				assert_true(cmd[120] == 4 || cmd[120] == 8);
				nptr++;
				break;
			case LD_ADD_CHECKSUM:
				seen_sum = true;
				if (!strcmp((const char *)cmd + 4, "etc/acpi/rsdp")) {
					if (le32(cmd + 60) == 8) {
						assert_int_equal(le32(cmd + 64), 0);
						assert_int_equal(le32(cmd + 68), 20);
						rsdp_v1 = (int)i;
					} else {
						assert_int_equal(le32(cmd + 60), 32);
						assert_int_equal(le32(cmd + 64), 0);
						assert_int_equal(le32(cmd + 68), 36);
						rsdp_v2 = (int)i;
					}
				} else {
					uint32_t start = le32(cmd + 64);

					/* a table's checksum: its byte 9, over its Length bytes */
					assert_string_equal((const char *)cmd + 4, "etc/acpi/tables");
					assert_int_equal(le32(cmd + 60), start + 9);
					assert_true(start + 36 <= bl.tables_len);
					assert_int_equal(le32(cmd + 68), le32(bl.tables + start + 4));
					assert_int_equal(bl.tables[start + 9], 0);
					assert_memory_equal(bl.tables + start + 10, "HVRUN ", 6);
				}
				nsum++;
				break;
			default:
				fail_msg("command %u: unexpected %u", i, le32(cmd));
			}
		}
		/* FADT 3 (FIRMWARE_CTRL, DSDT, X_DSDT), XSDT and RSDT one per entry, RSDP 2 */
		assert_int_equal(nptr, 3 + 2 * nsdt + 2);
		/* DSDT, the XSDT entries, XSDT, RSDT, RSDP twice; the FACS has none */
		assert_int_equal(nsum, 1 + nsdt + 2 + 2);
		assert_true(rsdp_v1 > 0 && rsdp_v2 > rsdp_v1);		/* the 20-byte sum first */
		acpi_blobs_free(&bl);
	}
}

/* After the loader: a valid ACPI graph, wherever the firmware put the two files. */
static void test_blobs_load(void **state)
{
	static const struct { uint64_t rsdp, tables; } at[] = {
		{ RSDP_GPA, TABLES_GPA },
		{ 0xf5a10, 0x12340 },		/* 64-aligned, not page-aligned */
		{ 0xfffd0, 0x40 },		/* the RSDP at the very top of the F segment */
		{ 0xe0000, 0x80000 },
	};
	struct acpi_config c;
	unsigned int k, i;
	size_t len;

	(void)state;
	for (k = 0; k < NR_SOME_CONFIGS; k++) {
		for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			some_config(&c, k);
			load_ok(&c, at[i].rsdp, at[i].tables, &len);
			check_linked(&c, at[i].rsdp, at[i].tables, len);
		}
	}
}

/*
 * One source of truth: the loader's result is byte for byte what
 * acpi_build() writes at the same addresses, and the blob differs from
 * acpi_build()'s bytes only in pointer fields and checksums.
 */
static void test_blobs_match_direct(void **state)
{
	static uint8_t direct[RAM_SIZE];
	struct acpi_config c;
	struct acpi_blobs bl;
	unsigned int k, i;
	uint64_t used;
	size_t len;

	(void)state;
	for (k = 0; k < NR_SOME_CONFIGS; k++) {
		bool differs[ACPI_TABLES_MAX_SIZE] = { false };

		some_config(&c, k);
		used = build_ok(&c);
		memcpy(direct, ram, sizeof(direct));
		load_ok(&c, RSDP_GPA, TABLES_GPA, &len);
		assert_int_equal(len, used);
		assert_memory_equal(ram, direct, sizeof(ram));

		/* Modulo addresses: only the fields the loader patches differ. */
		blobs_ok(&c, &bl);
		for (i = 2; i < bl.loader_len / LD_CMD_SIZE; i++) {
			const uint8_t *cmd = bl.loader + LD_CMD_SIZE * i;
			unsigned int j;

			if (strcmp((const char *)cmd + 4, "etc/acpi/tables"))
				continue;
			if (le32(cmd) == LD_ADD_POINTER) {
				assert_true(le32(cmd + 116) + cmd[120] <= bl.tables_len);
				for (j = 0; j < cmd[120]; j++)
					differs[le32(cmd + 116) + j] = true;
			} else {
				assert_true(le32(cmd + 60) < bl.tables_len);
				differs[le32(cmd + 60)] = true;
			}
		}
		for (i = 0; i < bl.tables_len; i++)
			if (!differs[i])
				assert_int_equal(bl.tables[i], direct[TABLES_GPA + i]);
		for (i = 0; i < 36; i++)	/* all but the checksums, RsdtAddress, XsdtAddress */
			if (i != 8 && i != 32 && (i < 16 || i >= 20) && (i < 24 || i >= 32))
				assert_int_equal(bl.rsdp[i], direct[RSDP_GPA + i]);
		acpi_blobs_free(&bl);
	}
}

/* A config acpi_build() refuses, acpi_build_blobs() refuses with the same errno and message. */
static void test_blobs_refuse_bad_config(void **state)
{
	struct acpi_config c;
	struct acpi_blobs bl;
	char err[256], err2[256];
	uint64_t used;
	unsigned int i;

	(void)state;
	reset_ram();
	for (i = 0; i < 15; i++) {
		full_config(&c, 2);
		switch (i) {
		case 0: c.s5_slp_typ = 8; break;
		case 1: c.sci_irq = 0; break;
		case 2: c.sci_irq = 2; break;
		case 3: c.sci_irq = 16; break;
		case 4: c.ecam_base = 0xe0080000; break;
		case 5: c.pci_mmio32_size = 0x20100000; break;
		case 6: c.ecam_base = 0; c.pci_mmio32_size = 0x3ec01000; break;
		case 7: c.pci_mmio32_base = 0xf0000000; break;
		case 8: c.pci_mmio64_base = 0xe0000000; break;
		case 9: c.pm1a_cnt_port = 0x602; break;
		case 10: c.pm1a_evt_port = 0; break;
		case 11: c.ioapic_id = 0xff; break;
		case 12: c.lapic_addr = 0xfee00800; break;
		case 13: c.nr_cpus = 0; break;
		case 14: c.nr_cpus = 256; break;
		}
		memset(&bl, 0xa5, sizeof(bl));
		assert_int_equal(acpi_build(&c, &gm, RSDP_GPA, TABLES_GPA, TABLES_MAX, &used, err,
					    sizeof(err)), -EINVAL);
		assert_int_equal(acpi_build_blobs(&c, &bl, err2, sizeof(err2)), -EINVAL);
		assert_string_equal(err, err2);
		assert_true(strlen(err2) > 0 && !strchr(err2, '\n'));
		assert_null(bl.rsdp);
		assert_null(bl.tables);
		assert_null(bl.loader);
		assert_int_equal(bl.rsdp_len + bl.tables_len + bl.loader_len, 0);
	}
	assert_true(ram_is_zero());
	assert_int_equal(acpi_build_blobs(NULL, &bl, err, sizeof(err)), -EINVAL);
	assert_true(strlen(err) > 0);
	assert_null(bl.tables);
	assert_int_equal(acpi_build_blobs(&c, NULL, err, sizeof(err)), -EINVAL);
	/* err may be NULL, and the message is truncated to errlen. */
	assert_int_equal(acpi_build_blobs(&c, &bl, NULL, 0), -EINVAL);
	memset(err, 'x', sizeof(err));
	assert_int_equal(acpi_build_blobs(&c, &bl, err, 8), -EINVAL);
	assert_int_equal(strlen(err), 7);
}

static void test_blobs_free(void **state)
{
	struct acpi_config c;
	struct acpi_blobs bl = { 0 };

	(void)state;
	acpi_blobs_free(NULL);
	acpi_blobs_free(&bl);				/* an empty one */
	full_config(&c, 2);
	blobs_ok(&c, &bl);
	acpi_blobs_free(&bl);
	assert_null(bl.rsdp);
	assert_null(bl.tables);
	assert_null(bl.loader);
	assert_int_equal(bl.rsdp_len + bl.tables_len + bl.loader_len, 0);
	acpi_blobs_free(&bl);				/* twice is harmless */
}

/* Every byte of the blobs is generated: two builds are identical (no stray heap bytes). */
static void test_blobs_deterministic(void **state)
{
	struct acpi_config c;
	struct acpi_blobs a, b;

	(void)state;
	full_config(&c, 16);
	blobs_ok(&c, &a);
	blobs_ok(&c, &b);
	assert_int_equal(a.tables_len, b.tables_len);
	assert_int_equal(a.loader_len, b.loader_len);
	assert_memory_equal(a.rsdp, b.rsdp, 36);
	assert_memory_equal(a.tables, b.tables, a.tables_len);
	assert_memory_equal(a.loader, b.loader, a.loader_len);
	acpi_blobs_free(&a);
	acpi_blobs_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkglen_encode),
		cmocka_unit_test(test_pkglen_for_body),
		cmocka_unit_test(test_eisaid),
		cmocka_unit_test(test_rsdp),
		cmocka_unit_test(test_checksums_and_lengths),
		cmocka_unit_test(test_xsdt_rsdt_entries),
		cmocka_unit_test(test_madt_cpu_counts),
		cmocka_unit_test(test_madt_ioapic_overrides_nmi),
		cmocka_unit_test(test_fadt_fields),
		cmocka_unit_test(test_fadt_flags_boot_arch),
		cmocka_unit_test(test_mcfg_iff_ecam),
		cmocka_unit_test(test_dsdt_s5),
		cmocka_unit_test(test_dsdt_prt),
		cmocka_unit_test(test_dsdt_pci0_ids),
		cmocka_unit_test(test_dsdt_pci0_crs),
		cmocka_unit_test(test_dsdt_ecam_reservation),
		cmocka_unit_test(test_dsdt_com1),
		cmocka_unit_test(test_dsdt_structure),
		cmocka_unit_test(test_refuse_cpu_counts),
		cmocka_unit_test(test_refuse_tables_max),
		cmocka_unit_test(test_refuse_rsdp),
		cmocka_unit_test(test_refuse_tables_outside_ram),
		cmocka_unit_test(test_refuse_bad_config),
		cmocka_unit_test(test_tables_above_4g),
		cmocka_unit_test(test_unaligned_tables_gpa),
		cmocka_unit_test(test_size_bound),
		cmocka_unit_test(test_blobs_layout),
		cmocka_unit_test(test_loader_commands),
		cmocka_unit_test(test_blobs_load),
		cmocka_unit_test(test_blobs_match_direct),
		cmocka_unit_test(test_blobs_refuse_bad_config),
		cmocka_unit_test(test_blobs_free),
		cmocka_unit_test(test_blobs_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
