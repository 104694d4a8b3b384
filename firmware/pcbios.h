/* pcbios.h: what booting through a PC BIOS image (SeaBIOS) needs that is pure data: the image's size rules, the E820 table and the boot order it reads from fw_cfg. */
#ifndef FIRMWARE_PCBIOS_H
#define FIRMWARE_PCBIOS_H

#include <stddef.h>
#include <stdint.h>

#include "hv/base/memmap.h"

/*
 * A PC firmware image is mapped so that its last byte is the last byte of
 * the 32-bit address space: the CPU's first instruction is fetched 16 bytes
 * below 4 GiB (the reset vector).  Its last 128 KiB also appear at
 * 0xE0000-0xFFFFF (the "ISA BIOS" window real-mode code runs in).
 */
#define PCBIOS_MIN_SIZE		0x10000u	/* 64 KiB */
#define PCBIOS_MAX_SIZE		0x1000000u	/* 16 MiB: ends above the LAPIC page and KVM's TSS */
#define PCBIOS_GRANULE		0x10000u	/* sizes are whole 64 KiB blocks */
#define PCBIOS_LOW_END		0x100000u	/* the low window ends at 1 MiB */
#define PCBIOS_LOW_MAX		0x20000u	/* ... and is at most 128 KiB long */
#define PCBIOS_DEFAULT		"/usr/share/seabios/bios-256k.bin"

/*
 * Checks len against the rules above.  0, or -EINVAL with a one-line reason
 * in err ("... bytes: a PC firmware image is ...").
 */
int pcbios_check_size(uint64_t len, char *err, size_t errlen);

/* Where a len-byte image starts below 4 GiB, and its low window [*low_gpa, 1 MiB). */
uint32_t pcbios_rom_base(uint32_t len);
uint32_t pcbios_low_base(uint32_t len);

/* fw_cfg "etc/e820" (QEMU's struct e820_entry): little-endian, 20 bytes, no padding. */
#define PCBIOS_E820_RAM		1u
#define PCBIOS_E820_RESERVED	2u
#define PCBIOS_E820_ENTRY_SIZE	20u
#define PCBIOS_E820_MAX		8u

struct pcbios_range {
	uint64_t addr, len;
};

/*
 * Writes the RAM ranges of *m, then the reserved ranges, as etc/e820
 * entries into out (room for max entries).  Returns the number of bytes
 * written, or -ENOSPC.
 */
int pcbios_e820(const struct memmap *m, const struct pcbios_range *reserved, unsigned int nr_reserved,
		uint8_t *out, unsigned int max);

/* A device the firmware may boot from, as the boot order names it. */
enum pcbios_dev_kind {
	PCBIOS_DEV_VIRTIO_BLK,		/* a hard disk: "c" (the first one) */
	PCBIOS_DEV_SCSI_CD,		/* a CD-ROM behind a virtio-scsi controller: "d" */
};

struct pcbios_bootdev {
	enum pcbios_dev_kind kind;
	unsigned int slot;		/* PCI slot on bus 0 */
	unsigned int target, lun;	/* SCSI only */
};

/*
 * Parses a boot order as QEMU's -boot takes it: letters c (first hard
 * disk) and d (CD-ROM), each at most once, 1-2 of them.  0, or -EINVAL
 * with a reason in err ("n: network boot is not supported", ...).
 */
int pcbios_parse_order(const char *letters, char *err, size_t errlen);

/*
 * The fw_cfg "bootorder" file: one OpenFirmware-style device path per line,
 * in the order the letters give, for the devices that exist (a letter with
 * no device is skipped).  Paths follow what SeaBIOS matches (its boot.c
 * builds "/pci@i0cf8/<any>@SLOT" for a PCI disk and
 * "/pci@i0cf8/<any>@SLOT/<any>@0/<any>@TARGET,LUN" for a SCSI unit) and
 * what QEMU writes for the same devices:
 *   virtio-blk in slot 4:            /pci@i0cf8/scsi@4/disk@0,0
 *   virtio-scsi in slot 5, 0:0:      /pci@i0cf8/scsi@5/channel@0/disk@0,0
 * Devices the letters leave out stay bootable after the listed ones (the
 * order is not strict, as QEMU's default).  Returns the length written
 * (NUL-terminated, no trailing newline), or -ENOSPC / -EINVAL.
 */
int pcbios_bootorder(const char *letters, const struct pcbios_bootdev *devs, unsigned int nr_devs,
		     char *out, size_t outlen);

#endif
