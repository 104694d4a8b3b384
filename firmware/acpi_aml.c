/* acpi_aml.c: encodes AML (ACPI 6.4 §20.2) and resource templates (§6.4) into an acpi_buf, for the DSDT that acpi.c builds. */
#include "firmware/acpi_aml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ACPI_BUF_LIMIT		(1U << 20)	/* sanity bound on the staging buffer */

uint8_t *acpi_buf_grow(struct acpi_buf *b, size_t n)
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
size_t aml_block_open(const struct acpi_buf *b)
{
	return b->len;
}

void aml_block_close(struct acpi_buf *b, size_t start)
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
	if (!acpi_buf_grow(b, (size_t)n))
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
void aml_namestring(struct acpi_buf *b, const char *name)
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
void aml_int(struct acpi_buf *b, uint64_t v)
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
void aml_name_int(struct acpi_buf *b, const char *name, uint64_t v)
{
	buf_u8(b, AML_NAME_OP);
	aml_namestring(b, name);
	aml_int(b, v);
}

/* Name (name, EisaId ("...")): always a DWordConst, as the ASL compiler emits it. */
void aml_name_eisaid(struct acpi_buf *b, const char *name, const char *id)
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
size_t aml_scope_open(struct acpi_buf *b, const char *name)
{
	size_t blk;

	buf_u8(b, AML_SCOPE_OP);
	blk = aml_block_open(b);
	aml_namestring(b, name);
	return blk;
}

/* ACPI 6.4 §20.2.5.2 DefDevice := ExtOpPrefix DeviceOp PkgLength NameString TermList */
size_t aml_device_open(struct acpi_buf *b, const char *name)
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
void res_addr(struct acpi_buf *r, unsigned int width, uint8_t type,
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
void res_io(struct acpi_buf *r, uint16_t base, uint8_t align, uint8_t len)
{
	buf_u8(r, RES_IO);
	buf_u8(r, RES_IO_DECODE16);
	buf_u16(r, base);			/* _MIN */
	buf_u16(r, base);			/* _MAX */
	buf_u8(r, align);
	buf_u8(r, len);
}

/* IRQNoFlags () { irq }: §6.4.2.1, the 2-byte form (edge triggered, active high) */
void res_irq_noflags(struct acpi_buf *r, unsigned int irq)
{
	buf_u8(r, RES_IRQ_NOFLAGS);
	buf_u16(r, (uint16_t)(1U << irq));
}

/* Memory32Fixed (ReadWrite, base, len): §6.4.3.4 */
void res_mem32_fixed(struct acpi_buf *r, uint32_t base, uint32_t len)
{
	buf_u8(r, RES_MEM32_FIXED);
	buf_u16(r, RES_MEM32_FIXED_LEN);
	buf_u8(r, RES_MEM_RW);
	buf_u32(r, base);
	buf_u32(r, len);
}

/* Ends the template and names it: §6.4.2.9, checksum 0 means "treat as valid". */
void aml_name_crs(struct acpi_buf *b, struct acpi_buf *r)
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
