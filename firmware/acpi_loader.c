/* acpi_loader.c: the ACPI tables for the firmware, as fw_cfg files and QEMU's BIOS linker/loader script ("etc/table-loader"). */
#include "firmware/acpi_loader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/acpi_image.h"
#include "hv/base/log.h"
#include "hv/base/trace.h"

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
	ret = acpi_check_config(cfg, err, errlen);
	if (ret)
		return ret;

	acpi_stage(&img, cfg, 0);
	if (img.tables.err) {
		ret = acpi_image_fail(&img, err, errlen);
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
