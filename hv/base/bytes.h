/* bytes.h: sizes in bytes, and little- and big-endian fields in byte buffers. */
#ifndef HV_BYTES_H
#define HV_BYTES_H

#include <stdbool.h>
#include <stdint.h>

#define HV_KIB			((uint64_t)1 << 10)
#define HV_MIB			((uint64_t)1 << 20)
#define HV_GIB			((uint64_t)1 << 30)
#define HV_TIB			((uint64_t)1 << 40)

/*
 * Fields of 1 to 8 bytes, whatever the host's order: p holds the field,
 * v its value, bytes its width.  The guest's structures (PCI, virtio, ACPI,
 * E820) are little-endian; SCSI and fw_cfg's directory and DMA big-endian.
 */
static inline void put_le(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t get_le(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = bytes; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

static inline void put_be(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static inline uint64_t get_be(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Parses a size: digits, then optionally one of the letters in suffixes (of
 * "KMGT", either case: powers of 1024) and, when trailing_b, a "B" after
 * it ("512MB"); bare digits count in unit bytes.  Each caller keeps its
 * documented syntax: -m is "512" MB or "2G", hvctl balloon "256M" or bytes.
 * 0, or -EINVAL (no digits first, a sign or a space, another letter, an
 * overflow).
 */
int hv_parse_size(const char *s, uint64_t unit, const char *suffixes, bool trailing_b,
		  uint64_t *bytes);

#endif
