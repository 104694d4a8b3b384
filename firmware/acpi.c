/* acpi.c: builds RSDP, XSDT, RSDT, FADT, FACS, DSDT (AML), MADT and MCFG, for guest memory or for the firmware's table loader. */
#include "firmware/acpi.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/log.h"
#include "hv/trace.h"

/* Identity in every table header (ACPI 6.4 §5.2.6). */
#define ACPI_OEM_ID		"HVRUN "	/* 6 bytes */
#define ACPI_OEM_TABLE_ID	"HVRUNVM "	/* 8 bytes */
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_ID		"HVRN"
#define ACPI_CREATOR_REVISION	1
#define ACPI_HYPERVISOR_ID	"HVRUN\0\0\0"	/* FADT 6.0+, 8 bytes */

#define ACPI_HDR_SIZE		36
#define ACPI_TABLE_ALIGN	8
#define ACPI_FACS_ALIGN		64		/* ACPI 6.4 §5.2.10 */
#define ACPI_FACS_SIZE		64
#define ACPI_4GIB		0x100000000ULL
#define ACPI_ECAM_BUS_SIZE	(1ULL << 20)	/* 32 devices x 8 functions x 4 KiB */
#define ACPI_BUF_LIMIT		(1U << 20)	/* sanity bound on the staging buffer */

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

/* AML encoding, ACPI 6.4 §20.2. */
#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_EXT_OP_PREFIX	0x5b
#define AML_EXT_DEVICE_OP	0x82
#define AML_ROOT_CHAR		'\\'
#define AML_PARENT_PREFIX	'^'
#define AML_NULL_NAME		0x00
#define AML_NAMESEG_LEN		4

/* Resource descriptors, ACPI 6.4 §6.4. */
#define RES_IRQ_NOFLAGS		0x22	/* §6.4.2.1, 2-byte form: edge, active high */
#define RES_IO			0x47	/* §6.4.2.5 */
#define RES_IO_DECODE16		0x01
#define RES_END_TAG		0x79	/* §6.4.2.9 */
#define RES_MEM32_FIXED		0x86	/* §6.4.3.4 */
#define RES_MEM32_FIXED_LEN	9
#define RES_MEM_RW		0x01
#define RES_DWORD_ADDR		0x87	/* §6.4.3.5.2 */
#define RES_WORD_ADDR		0x88	/* §6.4.3.5.3 */
#define RES_QWORD_ADDR		0x8a	/* §6.4.3.5.1 */
/* Address space descriptors: resource type, general and type-specific flags. */
#define RES_TYPE_MEM		0
#define RES_TYPE_IO		1
#define RES_TYPE_BUS		2
#define RES_GEN_CONSUMER	(1U << 0)	/* clear: ResourceProducer (a bridge window) */
#define RES_GEN_MIN_FIXED	(1U << 2)
#define RES_GEN_MAX_FIXED	(1U << 3)
#define RES_MEM_NON_CACHEABLE	(0U << 1)	/* _MEM, memory type-specific flags (§6.4.3.5) */
#define RES_MEM_CACHEABLE	(1U << 1)
#define RES_IO_ENTIRE_RANGE	0x03		/* _RNG, I/O type-specific flags (§6.4.3.5) */

/* The legacy PCI configuration ports, claimed by the root bridge. */
#define PCI_CONF1_PORT		0xcf8
#define PCI_CONF1_LEN		8
#define COM1_PORT		0x3f8
#define COM1_LEN		8
#define COM1_IRQ		4

/* A growing byte buffer; the first error sticks and turns later calls into no-ops. */
struct acpi_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err;
};

static uint8_t *buf_grow(struct acpi_buf *b, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (b->err || n == 0)
		return NULL;		/* callers skip their copy on NULL */
	if (__builtin_add_overflow(b->len, n, &need) || need > ACPI_BUF_LIMIT) {
		b->err = -ENOSPC;
		return NULL;
	}
	if (need > b->cap) {
		for (cap = b->cap ? b->cap : 1024; cap < need; cap *= 2)
			;
		p = realloc(b->data, cap);
		if (!p) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->data = p;
		b->cap = cap;
	}
	p = b->data + b->len;
	b->len = need;
	return p;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void buf_put(struct acpi_buf *b, const void *src, size_t n)
{
	uint8_t *p = buf_grow(b, n);

	if (p)
		memcpy(p, src, n);
}

static void buf_zero(struct acpi_buf *b, size_t n)
{
	uint8_t *p = buf_grow(b, n);

	if (p)
		memset(p, 0, n);
}

static void buf_le(struct acpi_buf *b, uint64_t v, unsigned int bytes)
{
	uint8_t *p = buf_grow(b, bytes);

	if (p)
		put_le(p, v, bytes);
}

static void buf_u8(struct acpi_buf *b, uint8_t v)
{
	buf_le(b, v, 1);
}

static void buf_u16(struct acpi_buf *b, uint16_t v)
{
	buf_le(b, v, 2);
}

static void buf_u32(struct acpi_buf *b, uint32_t v)
{
	buf_le(b, v, 4);
}

static void buf_u64(struct acpi_buf *b, uint64_t v)
{
	buf_le(b, v, 8);
}

/* Pads with zeroes until the next byte lands on an align boundary of guest memory. */
static void buf_align(struct acpi_buf *b, uint64_t base_gpa, uint64_t align)
{
	uint64_t gpa = base_gpa + b->len;	/* only the low bits matter */

	buf_zero(b, (size_t)((align - (gpa & (align - 1))) & (align - 1)));
}

static uint8_t acpi_sum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	while (n--)
		sum = (uint8_t)(sum + *p++);
	return sum;
}

/*
 * ---- the staged image ----
 *
 * The tables are generated once, into two "files" as QEMU's BIOS
 * linker/loader names them (hw/acpi/bios-linker-loader.c): the RSDP, and
 * all other tables in one blob.  A pointer field holds the offset of its
 * target from the start of the tables file, every checksum byte is 0, and
 * two lists say which fields are pointers and which bytes are checksums.
 * Linking adds the address the tables file was placed at to each pointer
 * field, then fills each checksum.  acpi_build() links in place and
 * writes the result to guest memory; acpi_build_blobs() turns the lists
 * into loader commands and the firmware links (SeaBIOS
 * src/fw/romfile_loader.c, OVMF's QemuFwCfgAcpi.c): one generator, so both
 * paths hand the guest the same bytes.
 */
enum acpi_file { ACPI_FILE_RSDP, ACPI_FILE_TABLES };

/* A pointer field: the file holding it, where, its width, and the file it points into. */
struct acpi_pointer {
	uint8_t file;			/* enum acpi_file */
	uint8_t size;			/* 4 or 8 bytes, little-endian */
	uint8_t target_file;		/* enum acpi_file; always the tables */
	uint32_t offset;
};

/*
 * A checksum byte at offset, chosen so that [start, start + length), which
 * covers the byte itself, sums to zero.
 */
struct acpi_checksum {
	uint8_t file;			/* enum acpi_file */
	uint32_t offset;
	uint32_t start;
	uint32_t length;
};

#define ACPI_MAX_POINTERS	12	/* at most 11: FADT 3, XSDT 3, RSDT 3, RSDP 2 */
#define ACPI_MAX_CHECKSUMS	8	/* DSDT, FADT, MADT, MCFG, XSDT, RSDT, RSDP twice */
#define ACPI_MAX_SDT_ENTRIES	3	/* FADT, MADT, MCFG */

struct acpi_image {
	struct acpi_buf tables;		/* ACPI_FILE_TABLES; its err is the image's */
	uint8_t rsdp[ACPI_RSDP_SIZE];	/* ACPI_FILE_RSDP */
	struct acpi_pointer ptr[ACPI_MAX_POINTERS];
	unsigned int nptr;
	struct acpi_checksum sum[ACPI_MAX_CHECKSUMS];
	unsigned int nsum;		/* in the order they must be computed */
	/* Where each table starts in the tables file. */
	size_t facs, dsdt, xsdt, rsdt;
	size_t sdt[ACPI_MAX_SDT_ENTRIES];	/* what the XSDT and RSDT list */
	unsigned int nsdt;
	bool has_rsdt;
};

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

/* ---- AML ---- */

static const uint32_t pkglen_limit[ACPI_AML_PKGLEN_MAX_BYTES] = {
	0x3f, 0xfff, 0xfffff, ACPI_AML_PKGLEN_MAX
};

/*
 * ACPI 6.4 §20.2.4: one byte holds 0..63 in bits 5:0.  Longer forms put the
 * count of following bytes in bits 7:6, the low nibble in bits 3:0 (bits
 * 5:4 zero), then the remaining bits a byte at a time, least significant
 * first: 12, 20 or 28 bits in all.
 */
int acpi_aml_pkglen_encode(uint32_t value, uint8_t out[ACPI_AML_PKGLEN_MAX_BYTES])
{
	unsigned int n, i;

	for (n = 1; n <= ACPI_AML_PKGLEN_MAX_BYTES; n++)
		if (value <= pkglen_limit[n - 1])
			break;
	if (n > ACPI_AML_PKGLEN_MAX_BYTES)
		return -ERANGE;
	if (n == 1) {
		out[0] = (uint8_t)value;
		return 1;
	}
	out[0] = (uint8_t)(((n - 1) << 6) | (value & 0x0f));
	for (i = 1; i < n; i++)
		out[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
	return (int)n;
}

int acpi_aml_pkglen_for_body(uint32_t body_len, uint8_t out[ACPI_AML_PKGLEN_MAX_BYTES])
{
	uint32_t total;
	unsigned int n;

	for (n = 1; n <= ACPI_AML_PKGLEN_MAX_BYTES; n++) {
		if (__builtin_add_overflow(body_len, n, &total))
			return -ERANGE;
		if (total <= pkglen_limit[n - 1])
			return acpi_aml_pkglen_encode(total, out);
	}
	return -ERANGE;
}

int acpi_eisaid(const char *id, uint32_t *out)
{
	uint32_t v = 0;
	unsigned int i;

	if (!id || strlen(id) != 7)
		return -EINVAL;
	for (i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
		v = (v << 5) | (uint32_t)(id[i] - 'A' + 1);
	}
	for (i = 3; i < 7; i++) {
		uint32_t d;

		if (id[i] >= '0' && id[i] <= '9')
			d = (uint32_t)(id[i] - '0');
		else if (id[i] >= 'A' && id[i] <= 'F')
			d = (uint32_t)(id[i] - 'A' + 10);
		else
			return -EINVAL;
		v = (v << 4) | d;
	}
	/* Big-endian in memory: the DWORD, read little-endian, is byte-swapped. */
	*out = __builtin_bswap32(v);
	return 0;
}

/*
 * A PkgLength-prefixed block (Scope, Device, Package, Buffer): note where
 * the body starts, emit it, then aml_block_close() inserts the PkgLength in
 * front of it, now that the body's length is known.
 */
static size_t aml_block_open(const struct acpi_buf *b)
{
	return b->len;
}

static void aml_block_close(struct acpi_buf *b, size_t start)
{
	uint8_t enc[ACPI_AML_PKGLEN_MAX_BYTES];
	size_t body;
	int n;

	if (b->err)
		return;
	body = b->len - start;
	n = body > UINT32_MAX ? -ERANGE : acpi_aml_pkglen_for_body((uint32_t)body, enc);
	if (n < 0) {
		b->err = n;
		return;
	}
	if (!buf_grow(b, (size_t)n))
		return;
	memmove(b->data + start + n, b->data + start, body);
	memcpy(b->data + start, enc, (size_t)n);
}

static bool aml_name_char(char c, bool lead)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || (!lead && c >= '0' && c <= '9');
}

/*
 * ACPI 6.4 §20.2.2 NameString: an optional '\' (root) or '^' prefixes, then
 * dot-separated segments of 1-4 characters, each padded with '_' to a
 * 4-byte NameSeg; two segments take DualNamePrefix, more MultiNamePrefix
 * and a count.  "\\_SB_.PCI0", "_HID" and "\\_S5_" are valid names.
 */
static void aml_namestring(struct acpi_buf *b, const char *name)
{
	const char *p = name, *seg;
	unsigned int nseg = 0;
	size_t i, n;

	if (*p == AML_ROOT_CHAR) {
		buf_u8(b, AML_ROOT_CHAR);
		p++;
	} else {
		while (*p == AML_PARENT_PREFIX) {
			buf_u8(b, AML_PARENT_PREFIX);
			p++;
		}
	}
	/* Validate and count first: the prefix depends on the count. */
	for (seg = p; *seg; nseg++) {
		for (n = 0; seg[n] && seg[n] != '.'; n++)
			if (!aml_name_char(seg[n], n == 0))
				goto bad;
		if (n == 0 || n > AML_NAMESEG_LEN)
			goto bad;
		seg += n;
		if (*seg == '.' && !*++seg)
			goto bad;		/* trailing dot */
	}
	if (nseg == 0) {
		buf_u8(b, AML_NULL_NAME);
		return;
	}
	if (nseg > 255)
		goto bad;
	if (nseg == 2) {
		buf_u8(b, AML_DUAL_NAME_PREFIX);
	} else if (nseg > 2) {
		buf_u8(b, AML_MULTI_NAME_PREFIX);
		buf_u8(b, (uint8_t)nseg);
	}
	for (seg = p; *seg; ) {
		for (n = 0; seg[n] && seg[n] != '.'; n++)
			;
		for (i = 0; i < AML_NAMESEG_LEN; i++)
			buf_u8(b, i < n ? (uint8_t)seg[i] : '_');
		seg += n;
		if (*seg == '.')
			seg++;
	}
	return;
bad:
	if (!b->err)
		b->err = -EINVAL;
}

/* ACPI 6.4 §20.2.3: the shortest of Zero, One, Byte/Word/DWord/QWordConst. */
static void aml_int(struct acpi_buf *b, uint64_t v)
{
	if (v == 0) {
		buf_u8(b, AML_ZERO_OP);
	} else if (v == 1) {
		buf_u8(b, AML_ONE_OP);
	} else if (v <= UINT8_MAX) {
		buf_u8(b, AML_BYTE_PREFIX);
		buf_u8(b, (uint8_t)v);
	} else if (v <= UINT16_MAX) {
		buf_u8(b, AML_WORD_PREFIX);
		buf_u16(b, (uint16_t)v);
	} else if (v <= UINT32_MAX) {
		buf_u8(b, AML_DWORD_PREFIX);
		buf_u32(b, (uint32_t)v);
	} else {
		buf_u8(b, AML_QWORD_PREFIX);
		buf_u64(b, v);
	}
}

/* ACPI 6.4 §20.2.5.1 DefName: Name (name, integer) */
static void aml_name_int(struct acpi_buf *b, const char *name, uint64_t v)
{
	buf_u8(b, AML_NAME_OP);
	aml_namestring(b, name);
	aml_int(b, v);
}

/* Name (name, EisaId ("...")): always a DWordConst, as the ASL compiler emits it. */
static void aml_name_eisaid(struct acpi_buf *b, const char *name, const char *id)
{
	uint32_t v;

	if (acpi_eisaid(id, &v)) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	buf_u8(b, AML_NAME_OP);
	aml_namestring(b, name);
	buf_u8(b, AML_DWORD_PREFIX);
	buf_u32(b, v);
}

/* Name (name, Buffer () { bytes }), ACPI 6.4 §20.2.5.4: BufferOp PkgLength BufferSize ByteList */
static void aml_name_buffer(struct acpi_buf *b, const char *name, const uint8_t *bytes, size_t n)
{
	size_t blk;

	buf_u8(b, AML_NAME_OP);
	aml_namestring(b, name);
	buf_u8(b, AML_BUFFER_OP);
	blk = aml_block_open(b);
	aml_int(b, n);
	buf_put(b, bytes, n);
	aml_block_close(b, blk);
}

/* ACPI 6.4 §20.2.5.1 DefScope := ScopeOp PkgLength NameString TermList; closed by aml_block_close() */
static size_t aml_scope_open(struct acpi_buf *b, const char *name)
{
	size_t blk;

	buf_u8(b, AML_SCOPE_OP);
	blk = aml_block_open(b);
	aml_namestring(b, name);
	return blk;
}

/* ACPI 6.4 §20.2.5.2 DefDevice := ExtOpPrefix DeviceOp PkgLength NameString TermList */
static size_t aml_device_open(struct acpi_buf *b, const char *name)
{
	size_t blk;

	buf_u8(b, AML_EXT_OP_PREFIX);
	buf_u8(b, AML_EXT_DEVICE_OP);
	blk = aml_block_open(b);
	aml_namestring(b, name);
	return blk;
}

/* ---- resource templates (the bytes of a _CRS buffer), ACPI 6.4 §6.4 ---- */

/*
 * Word/DWord/QWord address space descriptor (§6.4.3.5.1-3) for the fixed
 * range [min, min + len): _MIF and _MAF set, so _GRA is 0 and _MAX is
 * _MIN + _LEN - 1 (§6.4.3.5, valid field combinations); no translation
 * and no resource source.
 */
static void res_addr(struct acpi_buf *r, unsigned int width, uint8_t type,
		     uint8_t gen_flags, uint8_t type_flags, uint64_t min, uint64_t len)
{
	uint8_t tag = width == 2 ? RES_WORD_ADDR : width == 4 ? RES_DWORD_ADDR : RES_QWORD_ADDR;

	buf_u8(r, tag);
	buf_u16(r, (uint16_t)(3 + 5 * width));	/* bytes after the length field */
	buf_u8(r, type);
	buf_u8(r, gen_flags | RES_GEN_MIN_FIXED | RES_GEN_MAX_FIXED);
	buf_u8(r, type_flags);
	buf_le(r, 0, width);			/* _GRA */
	buf_le(r, min, width);			/* _MIN */
	buf_le(r, min + len - 1, width);	/* _MAX */
	buf_le(r, 0, width);			/* _TRA */
	buf_le(r, len, width);			/* _LEN */
}

/* IO (Decode16, base, base, align, len): §6.4.2.5 */
static void res_io(struct acpi_buf *r, uint16_t base, uint8_t align, uint8_t len)
{
	buf_u8(r, RES_IO);
	buf_u8(r, RES_IO_DECODE16);
	buf_u16(r, base);			/* _MIN */
	buf_u16(r, base);			/* _MAX */
	buf_u8(r, align);
	buf_u8(r, len);
}

/* IRQNoFlags () { irq }: §6.4.2.1, the 2-byte form (edge triggered, active high) */
static void res_irq_noflags(struct acpi_buf *r, unsigned int irq)
{
	buf_u8(r, RES_IRQ_NOFLAGS);
	buf_u16(r, (uint16_t)(1U << irq));
}

/* Memory32Fixed (ReadWrite, base, len): §6.4.3.4 */
static void res_mem32_fixed(struct acpi_buf *r, uint32_t base, uint32_t len)
{
	buf_u8(r, RES_MEM32_FIXED);
	buf_u16(r, RES_MEM32_FIXED_LEN);
	buf_u8(r, RES_MEM_RW);
	buf_u32(r, base);
	buf_u32(r, len);
}

/* Ends the template and names it: §6.4.2.9, checksum 0 means "treat as valid". */
static void aml_name_crs(struct acpi_buf *b, struct acpi_buf *r)
{
	buf_u8(r, RES_END_TAG);
	buf_u8(r, 0);
	if (r->err) {
		if (!b->err)
			b->err = r->err;
	} else {
		aml_name_buffer(b, "_CRS", r->data, r->len);
	}
	free(r->data);
	*r = (struct acpi_buf){ 0 };
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
	if (!buf_grow(b, FADT_SIZE - ACPI_HDR_SIZE))
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
static void acpi_stage(struct acpi_image *img, const struct acpi_config *cfg, uint64_t base)
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
static int image_fail(const struct acpi_image *img, char *err, size_t errlen)
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

static int check_config(const struct acpi_config *cfg, char *err, size_t errlen)
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
	ret = check_config(cfg, err, errlen);
	if (ret)
		return ret;
	/* ACPI 6.4 §5.2.5.1: where an IA-PC OS scans for "RSD PTR ". */
	if ((rsdp_gpa & 15) || rsdp_gpa < ACPI_RSDP_AREA_START ||
	    rsdp_gpa > ACPI_RSDP_AREA_END - ACPI_RSDP_SIZE)
		return hv_fail(err, errlen, -EINVAL, "ACPI: RSDP at 0x%" PRIx64
			    " is not 16-byte aligned inside 0xe0000-0xfffff", rsdp_gpa);

	acpi_stage(&img, cfg, tables_gpa);
	if (img.tables.err) {
		ret = image_fail(&img, err, errlen);
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

/* ---- the same image for the firmware: QEMU's BIOS linker/loader ---- */

/*
 * One loader command (QEMU hw/acpi/bios-linker-loader.c, executed by
 * SeaBIOS src/fw/romfile_loader.c): a 32-bit command, then its arguments,
 * padded to 128 bytes, all little-endian.  File names are fw_cfg names,
 * NUL-padded to 56 bytes (the last always NUL).  The firmware skips
 * commands it does not know.
 */
#define LOADER_CMD_SIZE		128
#define LOADER_FILE_SIZE	56
_Static_assert(sizeof(ACPI_LOADER_FILE_RSDP) <= LOADER_FILE_SIZE, "the RSDP file name fits a command");
_Static_assert(sizeof(ACPI_LOADER_FILE_TABLES) <= LOADER_FILE_SIZE, "the tables file name fits a command");

enum {
	LOADER_ALLOCATE		= 1,	/* copy a file into guest memory */
	LOADER_ADD_POINTER	= 2,	/* add a file's address to a field of another */
	LOADER_ADD_CHECKSUM	= 3,	/* subtract a range's sum from a byte */
};

enum { LOADER_ZONE_HIGH = 1, LOADER_ZONE_FSEG = 2 };	/* below 4 GiB; 0xe0000-0xfffff */

/* Byte offsets inside a command. */
enum {
	LOADER_COMMAND		= 0,
	LOADER_ALLOC_FILE	= 4,
	LOADER_ALLOC_ALIGN	= 60,	/* a power of 2 */
	LOADER_ALLOC_ZONE	= 64,	/* 1 byte */
	LOADER_PTR_DEST_FILE	= 4,	/* the file holding the field */
	LOADER_PTR_SRC_FILE	= 60,	/* the file whose address is added */
	LOADER_PTR_OFFSET	= 116,	/* of the field in the destination */
	LOADER_PTR_SIZE		= 120,	/* 1 byte: 1, 2, 4 or 8 */
	LOADER_CKSUM_FILE	= 4,
	LOADER_CKSUM_OFFSET	= 60,	/* the checksum byte */
	LOADER_CKSUM_START	= 64,
	LOADER_CKSUM_LENGTH	= 68,
};

/* The RSDP must lie on a 16-byte boundary (ACPI 6.4 §5.2.5.1). */
#define LOADER_RSDP_ALIGN	16

static const char *const loader_file_name[] = {
	[ACPI_FILE_RSDP] = ACPI_LOADER_FILE_RSDP,
	[ACPI_FILE_TABLES] = ACPI_LOADER_FILE_TABLES,
};

static void loader_name(uint8_t *cmd, unsigned int at, unsigned int file)
{
	memcpy(cmd + at, loader_file_name[file], strlen(loader_file_name[file]));
}

static void loader_allocate(uint8_t *cmd, enum acpi_file file, uint32_t align, uint8_t zone)
{
	put_le(cmd + LOADER_COMMAND, LOADER_ALLOCATE, 4);
	loader_name(cmd, LOADER_ALLOC_FILE, file);
	put_le(cmd + LOADER_ALLOC_ALIGN, align, 4);
	cmd[LOADER_ALLOC_ZONE] = zone;
}

/*
 * The loader script for img: ALLOCATE both files (which must come before
 * any command naming them), every ADD_POINTER, then every ADD_CHECKSUM in
 * the order image_link() computes them, so each sum covers final pointers.
 */
static uint8_t *loader_script(const struct acpi_image *img, size_t *len)
{
	size_t n = 2 + img->nptr + img->nsum;
	uint8_t *script = calloc(n, LOADER_CMD_SIZE), *cmd;
	unsigned int i;

	if (!script)
		return NULL;
	cmd = script;
	loader_allocate(cmd, ACPI_FILE_RSDP, LOADER_RSDP_ALIGN, LOADER_ZONE_FSEG);
	cmd += LOADER_CMD_SIZE;
	loader_allocate(cmd, ACPI_FILE_TABLES, ACPI_FACS_ALIGN, LOADER_ZONE_HIGH);
	cmd += LOADER_CMD_SIZE;
	for (i = 0; i < img->nptr; i++, cmd += LOADER_CMD_SIZE) {
		const struct acpi_pointer *p = &img->ptr[i];

		put_le(cmd + LOADER_COMMAND, LOADER_ADD_POINTER, 4);
		loader_name(cmd, LOADER_PTR_DEST_FILE, p->file);
		loader_name(cmd, LOADER_PTR_SRC_FILE, p->target_file);
		put_le(cmd + LOADER_PTR_OFFSET, p->offset, 4);
		cmd[LOADER_PTR_SIZE] = p->size;
	}
	for (i = 0; i < img->nsum; i++, cmd += LOADER_CMD_SIZE) {
		const struct acpi_checksum *c = &img->sum[i];

		put_le(cmd + LOADER_COMMAND, LOADER_ADD_CHECKSUM, 4);
		loader_name(cmd, LOADER_CKSUM_FILE, c->file);
		put_le(cmd + LOADER_CKSUM_OFFSET, c->offset, 4);
		put_le(cmd + LOADER_CKSUM_START, c->start, 4);
		put_le(cmd + LOADER_CKSUM_LENGTH, c->length, 4);
	}
	*len = n * LOADER_CMD_SIZE;
	return script;
}

int acpi_build_blobs(const struct acpi_config *cfg, struct acpi_blobs *out, char *err, size_t errlen)
{
	struct acpi_image img = { 0 };
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!out)
		return hv_fail(err, errlen, -EINVAL, "ACPI: nowhere to put the tables");
	*out = (struct acpi_blobs){ 0 };
	if (!cfg)
		return hv_fail(err, errlen, -EINVAL, "ACPI: no config");
	ret = check_config(cfg, err, errlen);
	if (ret)
		return ret;

	acpi_stage(&img, cfg, 0);
	if (img.tables.err) {
		ret = image_fail(&img, err, errlen);
		free(img.tables.data);
		return ret;
	}
	out->rsdp = malloc(ACPI_RSDP_SIZE);
	out->loader = loader_script(&img, &out->loader_len);
	if (!out->rsdp || !out->loader) {
		free(img.tables.data);
		acpi_blobs_free(out);
		return hv_fail(err, errlen, -ENOMEM, "ACPI: out of memory for the loader blobs");
	}
	memcpy(out->rsdp, img.rsdp, ACPI_RSDP_SIZE);
	out->rsdp_len = ACPI_RSDP_SIZE;
	out->tables = img.tables.data;		/* handed over, not freed here */
	out->tables_len = img.tables.len;
	HV_TRACE(HV_TRACE_BOOT, "ACPI: %zu B of tables for the firmware, %u pointers, %u checksums",
		 out->tables_len, img.nptr, img.nsum);
	return 0;
}

void acpi_blobs_free(struct acpi_blobs *b)
{
	if (!b)
		return;
	free(b->rsdp);
	free(b->tables);
	free(b->loader);
	*b = (struct acpi_blobs){ 0 };
}
