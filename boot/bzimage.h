/* bzimage.h: load a Linux x86 bzImage, initrd and command line for the 64-bit boot protocol. */
#ifndef BOOT_BZIMAGE_H
#define BOOT_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "hv/base/guest_mem.h"
#include "hv/base/memmap.h"

/*
 * The guest-physical layout bzimage_load writes (boot.rst, "64-bit Boot
 * Protocol": the zero page, command line and kernel may be anywhere that is
 * identity-mapped; this keeps the small things in the first 192 KiB, away
 * from the BIOS area [0x9FC00, 0x100000) that the e820 map reserves):
 *
 *   0x000500  GDT: null, null, __BOOT_CS 0x10, __BOOT_DS 0x18 (32 bytes)
 *   0x007000  boot_params, the "zero page" (4 KiB)
 *   0x009000  PML4            \
 *   0x00A000  PDPT             > identity map of [0, 4 GiB), 2 MiB pages
 *   0x00B000  4 PDs (16 KiB)  /
 *   0x020000  kernel command line (up to 64 KiB with its NUL)
 *   0x100000  the kernel's protected-mode code; entry at +0x200
 *   top       the initrd, page aligned, as high as initrd_addr_max and
 *             low RAM allow, above the kernel's decompression area
 *
 * 1 MiB suits any relocatable 64-bit kernel: its entry code first moves
 * itself to the end of a buffer at max(align_up(1 MiB, kernel_alignment),
 * pref_address) (16 MiB for Debian) and decompresses there.  bzimage_load
 * requires that buffer + init_size to be low RAM, and keeps the initrd out.
 */
#define BZIMAGE_GDT_ADDR	0x500u
#define BZIMAGE_GDT_ENTRIES	4u
#define BZIMAGE_ZERO_PAGE_ADDR	0x7000u
#define BZIMAGE_PML4_ADDR	0x9000u
#define BZIMAGE_PDPT_ADDR	0xA000u
#define BZIMAGE_PD_ADDR		0xB000u		/* 4 pages, one per GiB: 0xB000-0xEFFF */
#define BZIMAGE_PD_COUNT	4u
#define BZIMAGE_CMDLINE_ADDR	0x20000u
#define BZIMAGE_CMDLINE_MAX	0x10000u	/* bytes, the terminating NUL included */
#define BZIMAGE_KERNEL_ADDR	0x100000u	/* boot.rst: bzImage kernels load at 0x100000 */
#define BZIMAGE_ENTRY_OFFSET	0x200u		/* boot.rst: 64-bit entry = load address + 0x200 */

/* boot.rst, "32-bit Boot Protocol": the selectors the kernel expects in the GDT. */
#define BZIMAGE_BOOT_CS		0x10u
#define BZIMAGE_BOOT_DS		0x18u

/* The e820 map in the zero page: low RAM stops at the EBDA, then the BIOS area. */
#define BZIMAGE_EBDA_START	0x9FC00u
#define BZIMAGE_E820_RAM	1u
#define BZIMAGE_E820_RESERVED	2u

/* What bzimage_parse reads from the setup header (boot.rst, "The Real-Mode Kernel Header"). */
struct bzimage_info {
	uint16_t version;		/* boot protocol, (major << 8) + minor: 0x020f is 2.15 */
	uint8_t setup_sects;		/* real-mode sectors after the boot sector (a 0 read as 4) */
	uint8_t loadflags;
	uint16_t xloadflags;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;		/* log2 of the minimum alignment */
	uint32_t syssize;		/* protected-mode code, in 16-byte paragraphs */
	uint32_t kernel_alignment;
	uint32_t init_size;		/* bytes the kernel needs from its runtime start */
	uint32_t initrd_addr_max;	/* highest byte an initrd may occupy */
	uint32_t cmdline_size;		/* longest command line, without its NUL */
	uint64_t pref_address;
	size_t hdr_end;			/* file offset just past the setup header */
	size_t pm_offset;		/* file offset of the protected-mode code */
	size_t pm_size;			/* its length, syssize * 16 */
	char kernel_version[128];	/* "6.1.0-... (...) #1 SMP ...", or "" */
};

/* A range for the e820 map besides RAM, e.g. type 2 for ECAM, the IOAPIC, the LAPIC. */
struct bzimage_reserved {
	uint64_t addr;
	uint64_t size;
	uint32_t type;			/* e820 type: 2 reserved, 3 ACPI, 4 NVS, ... */
};

/* The vCPU state bzimage_load leaves for the boot vCPU, and where things went. */
struct bzimage_entry {
	uint64_t rip;			/* load address + 0x200, the 64-bit entry point */
	uint64_t rsi;			/* the zero page */
	uint64_t cr3;			/* the PML4 */
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint64_t kernel_addr;		/* where the protected-mode code was copied */
	uint64_t kernel_end;		/* end of what the kernel may use while it decompresses */
	uint64_t initrd_addr;		/* 0 when there is no initrd */
	uint64_t initrd_size;
	uint64_t cmdline_addr;
	unsigned int nr_e820;		/* entries written to the zero page */
};

/*
 * Checks that img is a bzImage hvrun can boot with the 64-bit protocol
 * (protocol 2.06+, a 64-bit entry point, loaded high, not truncated) and
 * reads its header into *info.  0, or -ENOEXEC with the reason in err.
 */
int bzimage_parse(const uint8_t *img, size_t len, struct bzimage_info *info,
		  char *err, size_t errlen);

/*
 * Lays out the kernel, the initrd (optional: NULL, 0) and the command line
 * (NULL reads as "") in guest RAM as above, with the zero page, its e820
 * map (map's RAM plus the nr_reserved ranges of reserved, which must not
 * overlap RAM or each other), GDT and page tables, and fills *entry.  Only
 * gm_write touches guest memory.  0, or -errno with the reason in err:
 * -ENOEXEC not a bootable bzImage, -E2BIG command line too long, -ENOMEM
 * kernel or initrd does not fit, -EINVAL bad reserved range, no RAM at 0 or
 * empty initrd, -ENOSPC more than 128 e820 entries, -EFAULT guest RAM does
 * not cover an address the layout uses.
 */
int bzimage_load(const struct guest_mem *gm, const struct memmap *map,
		 const uint8_t *kernel, size_t klen,
		 const uint8_t *initrd, size_t ilen, const char *cmdline,
		 const struct bzimage_reserved *reserved, unsigned int nr_reserved,
		 struct bzimage_entry *entry, char *err, size_t errlen);

/*
 * Sets the mode-defining special registers for the 64-bit entry: long mode
 * with paging, flat __BOOT_CS/__BOOT_DS segments, the GDT, an empty IDT.
 * Fields it does not name (apic_base, cr2, cr8, interrupt_bitmap) are left
 * alone, so call it on what KVM_GET_SREGS returned.  No ioctl.
 */
void bzimage_fill_sregs(const struct bzimage_entry *e, struct kvm_sregs *sregs);

/* Zeroes *regs, then rip and rsi from *e, and rflags 2 (reserved bit 1; IF clear). */
void bzimage_fill_regs(const struct bzimage_entry *e, struct kvm_regs *regs);

#endif
