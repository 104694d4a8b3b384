/* acpi_loader.h: the ACPI tables for the firmware (SeaBIOS, OVMF) to place: three fw_cfg files, the last a QEMU BIOS linker/loader script. */
#ifndef FIRMWARE_ACPI_LOADER_H
#define FIRMWARE_ACPI_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct acpi_config;		/* firmware/acpi.h */

/*
 * The tables as SeaBIOS/OVMF take them from fw_cfg (QEMU's BIOS linker/loader).
 *
 * The same generator as acpi_build(), for tables the firmware places:
 *
 *   etc/acpi/rsdp    the RSDP, 36 bytes: RsdtAddress and XsdtAddress hold
 *                    offsets into etc/acpi/tables, both checksums are 0.
 *   etc/acpi/tables  FACS at offset 0, then DSDT, FADT, MADT, MCFG (with
 *                    ECAM), XSDT and RSDT, each 8-byte aligned; the layout
 *                    acpi_build() gives a 64-byte aligned tables_gpa below
 *                    4 GiB.  Pointer fields hold offsets from the blob's
 *                    start (the FADT's FIRMWARE_CTRL, DSDT and X_DSDT; no
 *                    X_FIRMWARE_CTRL), every table checksum is 0.
 *   etc/table-loader 128-byte commands: ALLOCATE the RSDP (FSEG zone,
 *                    align 16) and the tables (HIGH zone, align 64), an
 *                    ADD_POINTER (source: the tables) for every pointer
 *                    field, then an ADD_CHECKSUM for every table but the
 *                    FACS and for the RSDP (the 20-byte ACPI 1.0 sum before
 *                    the 36-byte extended one).
 *
 * Once the firmware has run the loader, guest memory holds exactly what
 * acpi_build() would have written at those two addresses.  The firmware
 * reserves what it allocated in its E820 map; hvrun need not.
 */
#define ACPI_LOADER_FILE_RSDP   "etc/acpi/rsdp"
#define ACPI_LOADER_FILE_TABLES "etc/acpi/tables"
#define ACPI_LOADER_FILE        "etc/table-loader"
struct acpi_blobs {
	uint8_t *rsdp;   size_t rsdp_len;     /* the RSDP with its pointer fields 0-relative to etc/acpi/tables */
	uint8_t *tables; size_t tables_len;   /* FACS, DSDT, FADT, MADT, MCFG, XSDT(, RSDT), pointers relative to the blob start */
	uint8_t *loader; size_t loader_len;   /* 128-byte commands: ALLOCATE rsdp (FSEG zone, align 16), ALLOCATE tables (HIGH zone, align 64), ADD_POINTER for every pointer field, ADD_CHECKSUM for every table and for the RSDP (both checksums of the v2 RSDP) */
};
/*
 * 0, or -EINVAL/-ENOMEM with a one-line reason in err.  *cfg is checked as
 * acpi_build() checks it, with the same messages.  On failure *out is all
 * zero; on success the caller owns the three buffers (acpi_blobs_free()).
 */
int acpi_build_blobs(const struct acpi_config *cfg, struct acpi_blobs *out, char *err, size_t errlen);
/* Frees the buffers and zeroes *b; b may be NULL or already freed. */
void acpi_blobs_free(struct acpi_blobs *b);

#endif
