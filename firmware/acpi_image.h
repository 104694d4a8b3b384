/* acpi_image.h: the staged ACPI image (two files, their pointer fields and checksums) that acpi.c builds and links and acpi_loader.c turns into table-loader commands; for those two files only. */
#ifndef FIRMWARE_ACPI_IMAGE_H
#define FIRMWARE_ACPI_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/acpi.h"
#include "firmware/acpi_aml.h"

#define ACPI_FACS_ALIGN		64		/* ACPI 6.4 §5.2.10 */

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

/*
 * Generates every table into img, the tables file laid out as if it
 * started at guest address base (acpi.c); on failure img->tables.err is set.
 */
void acpi_stage(struct acpi_image *img, const struct acpi_config *cfg, uint64_t base);
/* The one-line reason for a failed acpi_stage(): -ENOMEM or -EINVAL, err filled. */
int acpi_image_fail(const struct acpi_image *img, char *err, size_t errlen);
/* 0, or -EINVAL with a one-line reason in err: what acpi_build() and acpi_build_blobs() refuse. */
int acpi_check_config(const struct acpi_config *cfg, char *err, size_t errlen);

#endif
