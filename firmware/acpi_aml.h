/* acpi_aml.h: the AML encoder (ACPI 6.4 §20): a growing byte buffer, AML terms (names, integers, scopes, devices) and _CRS resource templates (§6.4). */
#ifndef FIRMWARE_ACPI_AML_H
#define FIRMWARE_ACPI_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hv/base/bytes.h"		/* put_le(), get_le() */

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

/* A growing byte buffer; the first error sticks and turns later calls into no-ops. */
struct acpi_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err;
};

/*
 * Appends n bytes to b and returns where they go, or NULL (and nothing
 * appended) for n == 0 or once b->err is set: -ENOSPC past 1 MiB, -ENOMEM.
 */
uint8_t *acpi_buf_grow(struct acpi_buf *b, size_t n);

static inline void buf_put(struct acpi_buf *b, const void *src, size_t n)
{
	uint8_t *p = acpi_buf_grow(b, n);

	if (p)
		memcpy(p, src, n);
}

static inline void buf_zero(struct acpi_buf *b, size_t n)
{
	uint8_t *p = acpi_buf_grow(b, n);

	if (p)
		memset(p, 0, n);
}

static inline void buf_le(struct acpi_buf *b, uint64_t v, unsigned int bytes)
{
	uint8_t *p = acpi_buf_grow(b, bytes);

	if (p)
		put_le(p, v, bytes);
}

static inline void buf_u8(struct acpi_buf *b, uint8_t v)
{
	buf_le(b, v, 1);
}

static inline void buf_u16(struct acpi_buf *b, uint16_t v)
{
	buf_le(b, v, 2);
}

static inline void buf_u32(struct acpi_buf *b, uint32_t v)
{
	buf_le(b, v, 4);
}

static inline void buf_u64(struct acpi_buf *b, uint64_t v)
{
	buf_le(b, v, 8);
}

/* Pads with zeroes until the next byte lands on an align boundary of guest memory. */
static inline void buf_align(struct acpi_buf *b, uint64_t base_gpa, uint64_t align)
{
	uint64_t gpa = base_gpa + b->len;	/* only the low bits matter */

	buf_zero(b, (size_t)((align - (gpa & (align - 1))) & (align - 1)));
}

/* ---- AML terms (acpi_aml.c) ---- */

/*
 * A PkgLength-prefixed block (Scope, Device, Package, Buffer): note where
 * the body starts, emit it, then aml_block_close() inserts the PkgLength in
 * front of it, now that the body's length is known.
 */
size_t aml_block_open(const struct acpi_buf *b);
void aml_block_close(struct acpi_buf *b, size_t start);

/*
 * ACPI 6.4 §20.2.2 NameString: an optional '\' (root) or '^' prefixes, then
 * dot-separated segments of 1-4 characters, each padded with '_' to a
 * 4-byte NameSeg; two segments take DualNamePrefix, more MultiNamePrefix
 * and a count.  "\\_SB_.PCI0", "_HID" and "\\_S5_" are valid names.
 */
void aml_namestring(struct acpi_buf *b, const char *name);

/* ACPI 6.4 §20.2.3: the shortest of Zero, One, Byte/Word/DWord/QWordConst. */
void aml_int(struct acpi_buf *b, uint64_t v);

/* ACPI 6.4 §20.2.5.1 DefName: Name (name, integer) */
void aml_name_int(struct acpi_buf *b, const char *name, uint64_t v);

/* Name (name, EisaId ("...")): always a DWordConst, as the ASL compiler emits it. */
void aml_name_eisaid(struct acpi_buf *b, const char *name, const char *id);

/* ACPI 6.4 §20.2.5.1 DefScope := ScopeOp PkgLength NameString TermList; closed by aml_block_close() */
size_t aml_scope_open(struct acpi_buf *b, const char *name);

/* ACPI 6.4 §20.2.5.2 DefDevice := ExtOpPrefix DeviceOp PkgLength NameString TermList */
size_t aml_device_open(struct acpi_buf *b, const char *name);

/*
 * Word/DWord/QWord address space descriptor (§6.4.3.5.1-3) for the fixed
 * range [min, min + len): _MIF and _MAF set, so _GRA is 0 and _MAX is
 * _MIN + _LEN - 1 (§6.4.3.5, valid field combinations); no translation
 * and no resource source.
 */
void res_addr(struct acpi_buf *r, unsigned int width, uint8_t type,
	      uint8_t gen_flags, uint8_t type_flags, uint64_t min, uint64_t len);

/* IO (Decode16, base, base, align, len): §6.4.2.5 */
void res_io(struct acpi_buf *r, uint16_t base, uint8_t align, uint8_t len);

/* IRQNoFlags () { irq }: §6.4.2.1, the 2-byte form (edge triggered, active high) */
void res_irq_noflags(struct acpi_buf *r, unsigned int irq);

/* Memory32Fixed (ReadWrite, base, len): §6.4.3.4 */
void res_mem32_fixed(struct acpi_buf *r, uint32_t base, uint32_t len);

/* Ends the template and names it: §6.4.2.9, checksum 0 means "treat as valid". */
void aml_name_crs(struct acpi_buf *b, struct acpi_buf *r);

/*
 * AML building blocks, exported for the unit tests.
 *
 * PkgLength (ACPI 6.4 §20.2.4): encodes value (at most ACPI_AML_PKGLEN_MAX)
 * in the fewest bytes (1 to 4) into out; returns the byte count, or
 * -ERANGE.  The value is stored as given.
 */
#define ACPI_AML_PKGLEN_MAX_BYTES	4
#define ACPI_AML_PKGLEN_MAX		0x0FFFFFFFU
int acpi_aml_pkglen_encode(uint32_t value, uint8_t out[ACPI_AML_PKGLEN_MAX_BYTES]);

/*
 * The PkgLength that prefixes body_len bytes of an AML package: a PkgLength
 * counts its own bytes too, so the value is body_len plus the encoding's
 * size.  Returns the byte count written to out, or -ERANGE.
 */
int acpi_aml_pkglen_for_body(uint32_t body_len, uint8_t out[ACPI_AML_PKGLEN_MAX_BYTES]);

/*
 * EisaId("PNP0A03") as the ASL compiler stores it (ACPI 6.4 §6.1.5): three
 * upper-case letters (5 bits each, 'A' = 1) and four upper-case hex digits
 * packed big-endian into 32 bits, so that the little-endian DWordConst
 * holds 0x030AD041.  0, or -EINVAL for a malformed id.
 */
int acpi_eisaid(const char *id, uint32_t *out);

#endif
