/* fw_cfg.h: QEMU's firmware configuration device (docs/specs/fw_cfg.rst in QEMU): ports 0x510/0x511 and DMA at 0x514. */
#ifndef FIRMWARE_FW_CFG_H
#define FIRMWARE_FW_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/base/guest_mem.h"

/*
 * How a guest talks to it (fw_cfg.rst, "Guest-side Hardware Interface"):
 *
 *   0x510  selector, write-only, 16-bit little-endian: picks an item and
 *          rewinds its offset to 0.  hvrun ignores byte writes there (QEMU
 *          takes them as data writes, which it ignores too) and answers
 *          reads of it with zeros, without side effects (QEMU answers a byte
 *          read with the next data byte; nothing relies on that).
 *   0x511  data, read-only: the next byte(s) of the item; past its end, 0.
 *   0x514  DMA address, 8 ports, big-endian: the high dword at 0x514, the
 *          low at 0x518.  Writing the low dword (or all 8 bytes at 0x514)
 *          starts a transfer described by the FWCfgDmaAccess at that
 *          guest-physical address; the register is 0 again afterwards.
 *          Reads return "QEMU CFG" (0x51454d5520434647, big-endian).
 *
 * Selector keys: bit 15 picks the architecture-specific table, bit 14 (the
 * old write channel) is ignored, so 0x4005 reads the same item as 0x0005.
 * Every key without an item reads as an empty item: zeros.
 */
#define FW_CFG_PORT_SEL		0x510	/* 16-bit selector write; 0x511: data byte port */
#define FW_CFG_PORT_DATA	0x511
#define FW_CFG_PORT_DMA		0x514	/* 8 ports: DMA address, big-endian, high dword at 0x514, low at 0x518 */
#define FW_CFG_IO_LEN		2	/* register fw_cfg_io_pio at FW_CFG_PORT_SEL with this length */
#define FW_CFG_DMA_LEN		8	/* register fw_cfg_dma_pio at FW_CFG_PORT_DMA with this length */

/* Generic keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h). */
#define FW_CFG_SIGNATURE	0x00	/* "QEMU", preset */
#define FW_CFG_ID		0x01	/* le32 feature bits, preset to TRADITIONAL | DMA */
#define FW_CFG_UUID		0x02	/* 16 bytes; SeaBIOS's own SMBIOS type 1 */
#define FW_CFG_RAM_SIZE		0x03	/* le64 bytes; SeaBIOS does not read it */
#define FW_CFG_NOGRAPHIC	0x04	/* le16; SeaBIOS: nonzero = serial console on 0x3f8 */
#define FW_CFG_NB_CPUS		0x05	/* le16 vCPUs present at boot; SeaBIOS waits for them */
#define FW_CFG_NUMA		0x0d	/* le64 count + arrays; absent (0) = no NUMA */
#define FW_CFG_BOOT_MENU	0x0e	/* le16; SeaBIOS "etc/show-boot-menu" (0 = no menu) */
#define FW_CFG_MAX_CPUS		0x0f	/* le16; SeaBIOS "etc/max-cpus" */
#define FW_CFG_FILE_DIR		0x19	/* built here from the files; not settable */
#define FW_CFG_FILE_FIRST	0x20
#define FW_CFG_MAX_FILES	64

/* Architecture-specific keys (x86: QEMU hw/i386/fw_cfg.h). */
#define FW_CFG_ARCH_LOCAL	0x8000
#define FW_CFG_ACPI_TABLES	0x8000	/* legacy ACPI blobs (le16 count, ...) */
#define FW_CFG_SMBIOS_ENTRIES	0x8001	/* legacy SMBIOS blobs (le16 count, ...) */
#define FW_CFG_IRQ0_OVERRIDE	0x8002	/* SeaBIOS reads 1 byte: 1 = ISA IRQ0 is GSI 2 (MADT/MP override) */
#define FW_CFG_E820_TABLE	0x8003	/* legacy reservations; use the "etc/e820" file instead */
#define FW_CFG_ARCH_NR		0x10	/* arch keys 0x8000..0x800f can hold items */

#define FW_CFG_FILE_NAME_SIZE	56	/* names are at most 55 bytes and a NUL */

/* FW_CFG_ID bits (fw_cfg.rst, "Revision / feature bitmap"). */
#define FW_CFG_VERSION_TRADITIONAL	0x01
#define FW_CFG_VERSION_DMA		0x02

/* FWCfgDmaAccess.control bits (fw_cfg.rst, "Guest-side DMA Interface"). */
#define FW_CFG_DMA_CTL_ERROR	0x01
#define FW_CFG_DMA_CTL_READ	0x02
#define FW_CFG_DMA_CTL_SKIP	0x04
#define FW_CFG_DMA_CTL_SELECT	0x08	/* the selector is in bits 31..16 */
#define FW_CFG_DMA_CTL_WRITE	0x10
#define FW_CFG_DMA_SIGNATURE	0x51454d5520434647ULL	/* "QEMU CFG" */

struct fw_cfg;

/*
 * gm: guest memory the DMA interface reads/writes (borrowed, may be NULL in
 * tests without DMA: every transfer then fails and writes nothing).  NULL on
 * ENOMEM.  Signature "QEMU" and ID (traditional + DMA bits) are preset.
 */
struct fw_cfg *fw_cfg_new(const struct guest_mem *gm);
void fw_cfg_free(struct fw_cfg *fc);

/*
 * Copies len bytes as the item at key (< FW_CFG_FILE_FIRST, not
 * FW_CFG_FILE_DIR), replacing any item there.  0 or -EINVAL/-ENOMEM.
 */
int fw_cfg_add_bytes(struct fw_cfg *fc, uint16_t key, const void *data, uint32_t len);

/*
 * The same for an architecture-specific key, FW_CFG_ARCH_LOCAL up to
 * FW_CFG_ARCH_LOCAL + FW_CFG_ARCH_NR - 1 (e.g. FW_CFG_IRQ0_OVERRIDE).
 * 0 or -EINVAL/-ENOMEM.
 */
int fw_cfg_add_arch_bytes(struct fw_cfg *fc, uint16_t key, const void *data, uint32_t len);

/*
 * Copies a named file (name < 56 bytes, not empty, unique); the directory
 * stays sorted by name (strcmp) as QEMU keeps it.  Its selector key, or
 * -EINVAL (bad/duplicate name, NULL data with len > 0), -ENOSPC, -ENOMEM.
 * Keys are handed out in the order files are added and never change: the
 * directory carries each file's key, which is all a guest may rely on (QEMU
 * renumbers on every insertion; SeaBIOS, OVMF and Linux read the key from
 * the directory).
 */
int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, uint32_t len);

/*
 * A number as fw_cfg carries them: width (1-8) bytes, little-endian.  Under
 * the file name when name is not NULL, else under key (a plain or an
 * architecture-specific one).  What the call it makes returns; -EINVAL for a
 * bad width.
 */
struct fw_cfg_number {
	uint16_t key;
	const char *name;
	uint64_t value;
	uint8_t width;
};
int fw_cfg_add_number(struct fw_cfg *fc, const struct fw_cfg_number *n);

/*
 * Port handlers (hv/base/bus.h bus_handler_fn), opaque = struct fw_cfg *:
 * register fw_cfg_io_pio at 0x510 with length 2 and fw_cfg_dma_pio at 0x514
 * with length 8.  Both take the device's lock: vCPU threads may call them
 * at the same time.  A DMA transfer runs to its end inside the port write,
 * so the control word is final when the guest's OUT returns.
 */
bool fw_cfg_io_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size);
bool fw_cfg_dma_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size);

/*
 * Counters for --stats/tests: items selected (port or DMA), bytes read by
 * port, DMA transfers started, bytes DMA wrote into the guest, transfers
 * that failed (ERROR set, or a descriptor outside RAM).
 */
struct fw_cfg_stats { uint64_t selects, io_bytes, dma_ops, dma_bytes, dma_errors; };
void fw_cfg_get_stats(struct fw_cfg *fc, struct fw_cfg_stats *out);

#endif
