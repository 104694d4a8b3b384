/* bzimage.c: Linux's x86 64-bit boot protocol: bzImage, initrd and command line into guest RAM. */
#include "boot/bzimage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <asm/bootparam.h>

#include "hv/base/trace.h"

#define MiB			(1ULL << 20)
#define PAGE_SIZE		0x1000ULL
#define LARGE_PAGE_SIZE		(2 * MiB)

/* boot.rst, "The Real-Mode Kernel Header": offsets in the file (and in boot_params). */
#define HDR_START		0x1f1u		/* setup_sects, the first field */
#define OFF_SETUP_SECTS		0x1f1u
#define OFF_SYSSIZE		0x1f4u
#define OFF_BOOT_FLAG		0x1feu
#define OFF_JUMP		0x200u		/* 0xEB, then the header's length from 0x202 */
#define OFF_HEADER		0x202u
#define OFF_VERSION		0x206u
#define OFF_KERNEL_VERSION	0x20eu
#define OFF_LOADFLAGS		0x211u
#define OFF_INITRD_ADDR_MAX	0x22cu
#define OFF_KERNEL_ALIGNMENT	0x230u
#define OFF_RELOCATABLE		0x234u
#define OFF_MIN_ALIGNMENT	0x235u
#define OFF_XLOADFLAGS		0x236u
#define OFF_CMDLINE_SIZE	0x238u
#define OFF_PREF_ADDRESS	0x258u
#define OFF_INIT_SIZE		0x260u
#define HDR_MIN_LEN		0x250u		/* through payload_length: shorter is no bzImage */
#define HDR_ZERO_PAGE_END	0x290u		/* boot_params' room for the header ends (_pad7) */

#define BOOT_FLAG_MAGIC		0xAA55u
#define HDRS_MAGIC		0x53726448u	/* "HdrS" */
#define PROTO_MIN		0x0206u		/* cmdline_size: the longest command line is known */
#define PROTO_XLOADFLAGS	0x020cu		/* 2.12: xloadflags, so XLF_KERNEL_64 */

/* boot.rst, type_of_loader: "Otherwise, enter 0xFF here." (no assigned id) */
#define LOADER_UNDEFINED	0xffu
/* boot.rst, heap_end_ptr: heap end (0x10000 in the sample layout) minus 0x200. */
#define HEAP_END_PTR		0xfe00u
/* boot.rst, "Special Command Line Options": vga=normal means 0xFFFF. */
#define VID_MODE_NORMAL		0xffffu

/* Page-table entry bits (Intel SDM vol. 3, 4.5). */
#define PTE_P			(1ULL << 0)	/* present */
#define PTE_RW			(1ULL << 1)	/* writable */
#define PTE_PS			(1ULL << 7)	/* in a PD entry: maps a 2 MiB page */

/* Control-register and EFER bits (Intel SDM vol. 3, 2.5 and 2.2.1). */
#define CR0_PE			(1ULL << 0)	/* protected mode */
#define CR0_MP			(1ULL << 1)	/* WAIT/FWAIT honour TS */
#define CR0_ET			(1ULL << 4)	/* x87 present (hardwired 1 on modern CPUs) */
#define CR0_NE			(1ULL << 5)	/* native x87 error reporting, not IRQ 13 */
#define CR0_WP			(1ULL << 16)	/* read-only pages are read-only in ring 0 too */
#define CR0_AM			(1ULL << 18)	/* EFLAGS.AC may enable alignment checks */
#define CR0_PG			(1ULL << 31)	/* paging, which long mode requires */
#define CR4_PAE			(1ULL << 5)	/* PAE page tables, which long mode requires */
#define CR4_OSFXSR		(1ULL << 9)	/* FXSAVE/FXRSTOR and SSE allowed */
#define CR4_OSXMMEXCPT		(1ULL << 10)	/* SSE exceptions raise #XM */
#define EFER_LME		(1ULL << 8)	/* long mode enabled */
#define EFER_LMA		(1ULL << 10)	/* long mode active (LME + PG) */

/* Segment descriptor access bytes and flags for the flat 4 GiB boot segments. */
#define SEG_TYPE_CODE_XRA	0xbu	/* execute/read, accessed */
#define SEG_TYPE_DATA_RWA	0x3u	/* read/write, accessed */
#define SEG_TYPE_TSS64_BUSY	0xbu	/* system segment: busy 64-bit TSS */
#define SEG_TYPE_LDT		0x2u	/* system segment: LDT */
#define DESC_ACCESS(type)	(0x90u | (type))	/* present, DPL 0, code/data (S) */
#define DESC_FLAGS_CODE64	0xau	/* G (4 KiB granularity), L (64-bit code) */
#define DESC_FLAGS_DATA32	0xcu	/* G, D/B (32-bit) */

_Static_assert(sizeof(struct boot_params) == 4096, "the zero page is one page");
_Static_assert(offsetof(struct boot_params, hdr) == HDR_START, "setup header at 0x1f1");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2d0, "e820 table at 0x2d0");
_Static_assert(BZIMAGE_CMDLINE_ADDR + BZIMAGE_CMDLINE_MAX <= BZIMAGE_EBDA_START,
	       "boot.rst: the command line lies below 0xA0000");

struct e820_map {
	struct boot_e820_entry e[E820_MAX_ENTRIES_ZEROPAGE];
	unsigned int n;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static unsigned long long mib_up(uint64_t bytes)
{
	return (unsigned long long)(bytes / MiB + (bytes % MiB != 0));
}

/* Protocol 0x020f prints as 2.15: boot.rst, version: "(major << 8)+minor". */
static void proto_str(uint16_t version, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%02u", (unsigned int)(version >> 8), (unsigned int)(version & 0xffu));
}

/* boot.rst, kernel_version: a NUL-terminated string at that value + 0x200, in the setup code. */
static void read_kernel_version(const uint8_t *img, size_t len, struct bzimage_info *info)
{
	uint16_t ptr = get16(img + OFF_KERNEL_VERSION);
	size_t off = (size_t)ptr + 0x200, end = info->pm_offset < len ? info->pm_offset : len;
	size_t i = 0;

	info->kernel_version[0] = '\0';
	if (ptr == 0)
		return;
	while (off + i < end && i < sizeof(info->kernel_version) - 1) {
		uint8_t c = img[off + i];

		if (c < 0x20 || c > 0x7e)
			break;
		info->kernel_version[i++] = (char)c;
	}
	info->kernel_version[i] = '\0';
}

int bzimage_parse(const uint8_t *img, size_t len, struct bzimage_info *info,
		  char *err, size_t errlen)
{
	char proto[16];
	uint64_t want;

	memset(info, 0, sizeof(*info));
	if (!img || len < HDR_MIN_LEN) {
		snprintf(err, errlen, "not a bzImage (too short)");
		return -ENOEXEC;
	}
	/* boot.rst, boot_flag: "Contains 0xAA55". */
	if (get16(img + OFF_BOOT_FLAG) != BOOT_FLAG_MAGIC) {
		snprintf(err, errlen, "not a Linux bzImage: no 0xAA55 boot flag at 0x1fe");
		return -ENOEXEC;
	}
	/* boot.rst: without "HdrS" at 0x202 the protocol is "old" (a zImage). */
	if (get32(img + OFF_HEADER) != HDRS_MAGIC) {
		snprintf(err, errlen, "not a Linux bzImage: no HdrS header");
		return -ENOEXEC;
	}
	info->version = get16(img + OFF_VERSION);
	proto_str(info->version, proto, sizeof(proto));
	/* boot.rst, cmdline_size: 2.06+; older kernels are older than 2.6.22 anyway. */
	if (info->version < PROTO_MIN) {
		snprintf(err, errlen, "boot protocol %s is too old; hvrun needs 2.06+", proto);
		return -ENOEXEC;
	}
	/* boot.rst: "is_bzImage = (protocol >= 0x0200) && (loadflags & 0x01)". */
	info->loadflags = img[OFF_LOADFLAGS];
	if (!(info->loadflags & LOADED_HIGH)) {
		snprintf(err, errlen, "not a bzImage: loadflags LOADED_HIGH is clear (a zImage, "
			 "which loads at 0x10000); hvrun loads bzImages only");
		return -ENOEXEC;
	}
	/* boot.rst, xloadflags (2.12+): XLF_KERNEL_64 = "the legacy 64-bit entry point at 0x200". */
	if (info->version < PROTO_XLOADFLAGS) {
		snprintf(err, errlen, "boot protocol %s has no xloadflags (2.12+), so no 64-bit entry "
			 "point; hvrun boots 64-bit kernels only", proto);
		return -ENOEXEC;
	}
	info->xloadflags = get16(img + OFF_XLOADFLAGS);
	if (!(info->xloadflags & XLF_KERNEL_64)) {
		snprintf(err, errlen, "the kernel has no 64-bit entry point (xloadflags "
			 "XLF_KERNEL_64 clear: a 32-bit kernel?); hvrun boots 64-bit kernels only");
		return -ENOEXEC;
	}
	/* boot.rst, "64-bit Boot Protocol": the header ends at 0x0202 + the byte at 0x0201. */
	info->hdr_end = OFF_HEADER + (size_t)img[OFF_JUMP + 1];
	if (img[OFF_JUMP] != 0xeb || info->hdr_end < OFF_INIT_SIZE + 4 ||
	    info->hdr_end > HDR_ZERO_PAGE_END) {
		snprintf(err, errlen, "malformed setup header: its jump at 0x200 (%02x %02x) puts its "
			 "end at 0x%zx, outside 0x%x-0x%x", img[OFF_JUMP], img[OFF_JUMP + 1],
			 info->hdr_end, OFF_INIT_SIZE + 4, HDR_ZERO_PAGE_END);
		return -ENOEXEC;
	}

	/* boot.rst, setup_sects: "If this field is 0, the real value is 4." */
	info->setup_sects = img[OFF_SETUP_SECTS] ? img[OFF_SETUP_SECTS] : 4;
	/* boot.rst, "Loading The Rest of The Kernel": it starts at (setup_sects+1)*512. */
	info->pm_offset = ((size_t)info->setup_sects + 1) * 512;
	/* boot.rst, syssize: "The size of the protected-mode code in units of 16-byte paragraphs." */
	info->syssize = get32(img + OFF_SYSSIZE);
	if (info->syssize == 0) {
		snprintf(err, errlen, "not a bzImage: no protected-mode code (syssize 0)");
		return -ENOEXEC;
	}
	want = (uint64_t)info->pm_offset + (uint64_t)info->syssize * 16;
	if (len <= info->pm_offset || len < want) {
		snprintf(err, errlen, "truncated bzImage: %zu bytes, header says %llu (%zu of "
			 "setup + %llu of kernel)", len, (unsigned long long)want, info->pm_offset,
			 (unsigned long long)info->syssize * 16);
		return -ENOEXEC;
	}
	/* Bytes past syssize * 16 (a signature appended by sbsign) are not the kernel's. */
	info->pm_size = (size_t)info->syssize * 16;

	info->initrd_addr_max = get32(img + OFF_INITRD_ADDR_MAX);
	info->kernel_alignment = get32(img + OFF_KERNEL_ALIGNMENT);
	info->relocatable_kernel = img[OFF_RELOCATABLE];
	info->min_alignment = img[OFF_MIN_ALIGNMENT];
	info->cmdline_size = get32(img + OFF_CMDLINE_SIZE);
	info->pref_address = get64(img + OFF_PREF_ADDRESS);
	info->init_size = get32(img + OFF_INIT_SIZE);
	/* boot.rst, relocatable_kernel: loadable "at any address that satisfies kernel_alignment". */
	if (info->relocatable_kernel &&
	    (info->kernel_alignment == 0 || (info->kernel_alignment & (info->kernel_alignment - 1)))) {
		snprintf(err, errlen, "malformed setup header: kernel_alignment 0x%x is not a power "
			 "of two", info->kernel_alignment);
		return -ENOEXEC;
	}
	/* boot.rst, init_size: what the kernel needs "before it is capable of examining its memory map". */
	if (info->init_size == 0) {
		snprintf(err, errlen, "malformed setup header: init_size is 0");
		return -ENOEXEC;
	}
	read_kernel_version(img, len, info);
	return 0;
}

/*
 * Where the kernel runs while it decompresses.  boot.rst, init_size:
 * runtime_start = align_up(load_address, kernel_alignment) if relocatable,
 * else pref_address.  The x86-64 decompressor also never works below its
 * link-time address, which the header announces as pref_address (16 MiB for
 * Debian), so a kernel loaded at 1 MiB uses [max(both), + init_size).
 * That is why 1 MiB is a fine load address: the 64-bit entry code moves
 * itself to the end of that aligned buffer before it decompresses.
 */
static uint64_t runtime_start(const struct bzimage_info *bi)
{
	uint64_t start = BZIMAGE_KERNEL_ADDR;

	if (bi->relocatable_kernel) {
		uint64_t a = bi->kernel_alignment;

		start = (start + a - 1) & ~(a - 1);
	} else if (bi->pref_address) {
		start = bi->pref_address;
	}
	if (bi->pref_address > start)
		start = bi->pref_address;
	return start;
}

static const char *e820_name(uint32_t type)
{
	return type == BZIMAGE_E820_RAM ? "RAM" : "reserved range";
}

/* Inserts [addr, addr + size) keeping the map sorted; refuses overlaps and a full table. */
static int e820_add(struct e820_map *m, uint64_t addr, uint64_t size, uint32_t type,
		    char *err, size_t errlen)
{
	uint64_t end;
	unsigned int i, at;

	if (size == 0 || __builtin_add_overflow(addr, size, &end)) {
		snprintf(err, errlen, "%s at 0x%llx: size 0x%llx is empty or wraps around",
			 e820_name(type), (unsigned long long)addr, (unsigned long long)size);
		return -EINVAL;
	}
	for (i = 0; i < m->n; i++) {
		uint64_t a = m->e[i].addr, z = m->e[i].addr + m->e[i].size;

		if (addr < z && a < end) {
			snprintf(err, errlen, "%s 0x%llx-0x%llx (type %u) overlaps %s 0x%llx-0x%llx "
				 "(type %u)", e820_name(type), (unsigned long long)addr,
				 (unsigned long long)(end - 1), type, e820_name(m->e[i].type),
				 (unsigned long long)a, (unsigned long long)(z - 1), m->e[i].type);
			return -EINVAL;
		}
	}
	/* boot.rst / bootparam.h: the zero page holds E820_MAX_ENTRIES_ZEROPAGE entries. */
	if (m->n == E820_MAX_ENTRIES_ZEROPAGE) {
		snprintf(err, errlen, "the e820 map needs more than %u entries, the most the zero "
			 "page holds", E820_MAX_ENTRIES_ZEROPAGE);
		return -ENOSPC;
	}
	for (at = 0; at < m->n && m->e[at].addr < addr; at++)
		;
	memmove(&m->e[at + 1], &m->e[at], (m->n - at) * sizeof(m->e[0]));
	m->e[at].addr = addr;
	m->e[at].size = size;
	m->e[at].type = type;
	m->n++;
	HV_TRACE(HV_TRACE_BOOT, "e820: 0x%09llx-0x%09llx %s", (unsigned long long)addr,
		 (unsigned long long)(end - 1), e820_name(type));
	return 0;
}

/*
 * The memmap's RAM, less the legacy hole below 1 MiB (EBDA, VGA window,
 * option ROMs, BIOS: where the ACPI tables go, at 0xE0000-0xFFFFF), plus the
 * caller's ranges.
 */
static int build_e820(struct e820_map *m, const struct memmap *map,
		      const struct bzimage_reserved *reserved, unsigned int nr_reserved,
		      char *err, size_t errlen)
{
	unsigned int i;
	int ret;

	m->n = 0;
	for (i = 0; i < map->nr_ram; i++) {
		const struct mem_range *r = &map->ram[i];

		if (r->gpa == 0 && r->size > BZIMAGE_KERNEL_ADDR) {
			/* (bzimage_load has checked the kernel fits, so it is above 1 MiB) */
			ret = e820_add(m, 0, BZIMAGE_EBDA_START, BZIMAGE_E820_RAM, err, errlen);
			if (!ret)
				ret = e820_add(m, BZIMAGE_EBDA_START,
					       BZIMAGE_KERNEL_ADDR - BZIMAGE_EBDA_START,
					       BZIMAGE_E820_RESERVED, err, errlen);
			if (!ret)
				ret = e820_add(m, BZIMAGE_KERNEL_ADDR, r->size - BZIMAGE_KERNEL_ADDR,
					       BZIMAGE_E820_RAM, err, errlen);
		} else {
			ret = e820_add(m, r->gpa, r->size, BZIMAGE_E820_RAM, err, errlen);
		}
		if (ret)
			return ret;
	}
	for (i = 0; i < nr_reserved; i++) {
		if (reserved[i].type == 0) {
			snprintf(err, errlen, "reserved range at 0x%llx has e820 type 0",
				 (unsigned long long)reserved[i].addr);
			return -EINVAL;
		}
		ret = e820_add(m, reserved[i].addr, reserved[i].size, reserved[i].type, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

static int put(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len,
	       const char *what, char *err, size_t errlen)
{
	if (gm_write(gm, gpa, src, len)) {
		snprintf(err, errlen, "guest RAM does not cover the %s at 0x%llx-0x%llx", what,
			 (unsigned long long)gpa, (unsigned long long)(gpa + len - 1));
		return -EFAULT;
	}
	HV_TRACE(HV_TRACE_BOOT, "%s: %llu B at 0x%llx-0x%llx", what, (unsigned long long)len,
		 (unsigned long long)gpa, (unsigned long long)(gpa + len - 1));
	return 0;
}

/* A flat segment: base 0, limit 0xfffff in 4 KiB units = 4 GiB (Intel SDM vol. 3, 3.4.5). */
static uint64_t gdt_flat(uint8_t access, uint8_t flags)
{
	return 0xffffULL | (uint64_t)access << 40 | 0xfULL << 48 | (uint64_t)flags << 52;
}

/*
 * boot.rst, "64-bit Boot Protocol": "a GDT must be loaded with the
 * descriptors for selectors __BOOT_CS(0x10) and __BOOT_DS(0x18); both
 * descriptors must be 4G flat segment".  0x08 stays null.
 */
static int write_gdt(const struct guest_mem *gm, char *err, size_t errlen)
{
	uint64_t gdt[BZIMAGE_GDT_ENTRIES] = {
		[BZIMAGE_BOOT_CS / 8] = gdt_flat(DESC_ACCESS(SEG_TYPE_CODE_XRA), DESC_FLAGS_CODE64),
		[BZIMAGE_BOOT_DS / 8] = gdt_flat(DESC_ACCESS(SEG_TYPE_DATA_RWA), DESC_FLAGS_DATA32),
	};

	return put(gm, BZIMAGE_GDT_ADDR, gdt, sizeof(gdt), "GDT", err, errlen);
}

/*
 * boot.rst: "The range with setup_header.init_size from start address of
 * loaded kernel and zero page and command line buffer get ident mapping".
 * hvrun maps all of [0, 4 GiB) with 2 MiB pages, which covers all of them.
 */
static int write_page_tables(const struct guest_mem *gm, char *err, size_t errlen)
{
	uint64_t t[512];
	unsigned int i, j;
	int ret;

	memset(t, 0, sizeof(t));
	t[0] = BZIMAGE_PDPT_ADDR | PTE_P | PTE_RW;
	ret = put(gm, BZIMAGE_PML4_ADDR, t, sizeof(t), "PML4", err, errlen);
	if (ret)
		return ret;
	memset(t, 0, sizeof(t));
	for (i = 0; i < BZIMAGE_PD_COUNT; i++)
		t[i] = (BZIMAGE_PD_ADDR + i * PAGE_SIZE) | PTE_P | PTE_RW;
	ret = put(gm, BZIMAGE_PDPT_ADDR, t, sizeof(t), "PDPT", err, errlen);
	if (ret)
		return ret;
	for (i = 0; i < BZIMAGE_PD_COUNT; i++) {
		for (j = 0; j < 512; j++)
			t[j] = ((uint64_t)i * 512 + j) * LARGE_PAGE_SIZE | PTE_P | PTE_RW | PTE_PS;
		ret = put(gm, BZIMAGE_PD_ADDR + i * PAGE_SIZE, t, sizeof(t), "page directory",
			  err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* The end (capped at 4 GiB) of the RAM range at guest-physical 0, where all of the boot goes. */
static int low_ram_end(const struct memmap *map, uint64_t *end, char *err, size_t errlen)
{
	unsigned int i;

	for (i = 0; i < map->nr_ram; i++) {
		if (map->ram[i].gpa != 0)
			continue;
		*end = map->ram[i].size < MEMMAP_4GIB ? map->ram[i].size : MEMMAP_4GIB;
		return 0;
	}
	snprintf(err, errlen, "the memory map has no RAM at address 0");
	return -EINVAL;
}

int bzimage_load(const struct guest_mem *gm, const struct memmap *map,
		 const uint8_t *kernel, size_t klen,
		 const uint8_t *initrd, size_t ilen, const char *cmdline,
		 const struct bzimage_reserved *reserved, unsigned int nr_reserved,
		 struct bzimage_entry *entry, char *err, size_t errlen)
{
	struct e820_map e820;
	struct boot_params bp;
	struct bzimage_info bi;
	uint64_t low_end, kstart, kneed, kend, iaddr = 0, top;
	size_t clen;
	unsigned int i;
	int ret;

	memset(entry, 0, sizeof(*entry));
	ret = bzimage_parse(kernel, klen, &bi, err, errlen);
	if (ret)
		return ret;
	if (nr_reserved && !reserved) {
		snprintf(err, errlen, "%u reserved ranges but no array", nr_reserved);
		return -EINVAL;
	}
	if (!initrd && ilen) {
		snprintf(err, errlen, "an initrd of %zu bytes but no data", ilen);
		return -EINVAL;
	}
	if (initrd && ilen == 0) {
		snprintf(err, errlen, "the initrd is empty");
		return -EINVAL;
	}

	/* boot.rst, cmdline_size: "the command line can contain at most cmdline_size characters". */
	if (!cmdline)
		cmdline = "";
	clen = strlen(cmdline);
	if (clen > bi.cmdline_size) {
		snprintf(err, errlen, "the command line is %zu bytes; this kernel takes at most %u "
			 "(cmdline_size)", clen, bi.cmdline_size);
		return -E2BIG;
	}
	if (clen >= BZIMAGE_CMDLINE_MAX) {
		snprintf(err, errlen, "the command line is %zu bytes; hvrun has room for %u",
			 clen, BZIMAGE_CMDLINE_MAX - 1);
		return -E2BIG;
	}

	ret = low_ram_end(map, &low_end, err, errlen);
	if (ret)
		return ret;
	kstart = runtime_start(&bi);
	kneed = bi.init_size > bi.pm_size ? bi.init_size : bi.pm_size;
	if (__builtin_add_overflow(kstart, kneed, &kend) || kend > low_end) {
		snprintf(err, errlen, "kernel needs %llu MB of RAM to decompress, the VM has %llu MB",
			 mib_up(kend < kstart ? UINT64_MAX : kend),
			 (unsigned long long)(low_end / MiB));
		return -ENOMEM;
	}

	/*
	 * The initrd goes as high as it may (boot.rst, initrd_addr_max: "the
	 * address of the highest safe byte"), page aligned, and above the
	 * area the kernel decompresses in.
	 */
	if (initrd) {
		top = (uint64_t)bi.initrd_addr_max + 1;
		if (top > low_end)
			top = low_end;
		if (ilen > top || ((top - ilen) & ~(PAGE_SIZE - 1)) < kend) {
			snprintf(err, errlen, "initrd (%llu MB) does not fit in guest RAM below %llu MB "
				 "above the kernel's %llu MB", mib_up(ilen),
				 (unsigned long long)(top / MiB), mib_up(kend));
			return -ENOMEM;
		}
		iaddr = (top - ilen) & ~(PAGE_SIZE - 1);
	}

	ret = build_e820(&e820, map, reserved, nr_reserved, err, errlen);
	if (ret)
		return ret;

	/*
	 * boot.rst, "64-bit Boot Protocol": boot_params "initialized to all
	 * zero", then the setup header from 0x01f1 to 0x0202 + byte at 0x0201.
	 */
	memset(&bp, 0, sizeof(bp));
	memcpy((uint8_t *)&bp + HDR_START, kernel + HDR_START, bi.hdr_end - HDR_START);
	bp.hdr.type_of_loader = LOADER_UNDEFINED;
	/* boot.rst, loadflags bit 7: "the value entered in the heap_end_ptr is valid". */
	bp.hdr.loadflags |= CAN_USE_HEAP;
	bp.hdr.heap_end_ptr = HEAP_END_PTR;
	/* boot.rst, vid_mode (obligatory): "normal" is 0xFFFF. */
	bp.hdr.vid_mode = VID_MODE_NORMAL;
	/* boot.rst, cmd_line_ptr: "anywhere between the end of the setup heap and 0xA0000". */
	bp.hdr.cmd_line_ptr = BZIMAGE_CMDLINE_ADDR;
	bp.ext_cmd_line_ptr = 0;
	/* boot.rst, ramdisk_image/ramdisk_size: "Leave at zero if there is no initial ramdisk". */
	bp.hdr.ramdisk_image = (uint32_t)iaddr;
	bp.hdr.ramdisk_size = (uint32_t)ilen;
	bp.ext_ramdisk_image = (uint32_t)(iaddr >> 32);
	bp.ext_ramdisk_size = (uint32_t)((uint64_t)ilen >> 32);
	for (i = 0; i < e820.n; i++)
		bp.e820_table[i] = e820.e[i];
	bp.e820_entries = (uint8_t)e820.n;

	/* boot.rst: a bzImage's protected-mode code loads at 0x100000. */
	ret = put(gm, BZIMAGE_KERNEL_ADDR, kernel + bi.pm_offset, bi.pm_size, "kernel", err, errlen);
	if (!ret && initrd)
		ret = put(gm, iaddr, initrd, ilen, "initrd", err, errlen);
	if (!ret)
		ret = put(gm, BZIMAGE_CMDLINE_ADDR, cmdline, clen + 1, "command line", err, errlen);
	if (!ret)
		ret = put(gm, BZIMAGE_ZERO_PAGE_ADDR, &bp, sizeof(bp), "zero page", err, errlen);
	if (!ret)
		ret = write_gdt(gm, err, errlen);
	if (!ret)
		ret = write_page_tables(gm, err, errlen);
	if (ret)
		return ret;

	/* boot.rst: entry at "the start address of loaded 64-bit kernel plus 0x200"; %rsi: boot_params. */
	entry->rip = BZIMAGE_KERNEL_ADDR + BZIMAGE_ENTRY_OFFSET;
	entry->rsi = BZIMAGE_ZERO_PAGE_ADDR;
	entry->cr3 = BZIMAGE_PML4_ADDR;
	entry->gdt_base = BZIMAGE_GDT_ADDR;
	entry->gdt_limit = BZIMAGE_GDT_ENTRIES * 8 - 1;
	entry->kernel_addr = BZIMAGE_KERNEL_ADDR;
	entry->kernel_end = kend;
	entry->initrd_addr = iaddr;
	entry->initrd_size = initrd ? ilen : 0;
	entry->cmdline_addr = BZIMAGE_CMDLINE_ADDR;
	entry->nr_e820 = e820.n;
	return 0;
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type, int code64)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;	/* KVM takes the byte limit: 0xfffff pages of 4 KiB */
	s->selector = selector;
	s->type = type;
	s->present = 1;
	s->dpl = 0;
	s->s = 1;		/* code/data, not a system segment */
	s->l = code64 ? 1 : 0;	/* 64-bit code: L=1 needs D=0 */
	s->db = code64 ? 0 : 1;
	s->g = 1;
}

void bzimage_fill_sregs(const struct bzimage_entry *e, struct kvm_sregs *sregs)
{
	/*
	 * boot.rst: "the CPU must be in 64-bit mode with paging enabled ... CS
	 * must be __BOOT_CS and DS, ES, SS must be __BOOT_DS" (FS and GS too,
	 * to be tidy); the descriptors match the GDT in guest memory.
	 */
	flat_segment(&sregs->cs, BZIMAGE_BOOT_CS, SEG_TYPE_CODE_XRA, 1);
	flat_segment(&sregs->ds, BZIMAGE_BOOT_DS, SEG_TYPE_DATA_RWA, 0);
	sregs->es = sregs->ds;
	sregs->fs = sregs->ds;
	sregs->gs = sregs->ds;
	sregs->ss = sregs->ds;

	/*
	 * No TSS is needed before the kernel loads its own (ltr), but VMX
	 * demands a present, busy TSS in TR: selector 0 and the reset-time
	 * base 0 / limit 0xffff are fine.  The LDT is the reset-time one.
	 */
	memset(&sregs->tr, 0, sizeof(sregs->tr));
	sregs->tr.limit = 0xffff;
	sregs->tr.type = SEG_TYPE_TSS64_BUSY;
	sregs->tr.present = 1;
	memset(&sregs->ldt, 0, sizeof(sregs->ldt));
	sregs->ldt.limit = 0xffff;
	sregs->ldt.type = SEG_TYPE_LDT;
	sregs->ldt.present = 1;

	sregs->gdt.base = e->gdt_base;
	sregs->gdt.limit = e->gdt_limit;
	/* An empty IDT: the kernel runs with interrupts disabled until it installs one. */
	sregs->idt.base = 0;
	sregs->idt.limit = 0;

	sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	sregs->cr3 = e->cr3;
	sregs->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs->efer = EFER_LME | EFER_LMA;
}

void bzimage_fill_regs(const struct bzimage_entry *e, struct kvm_regs *regs)
{
	memset(regs, 0, sizeof(*regs));
	regs->rip = e->rip;
	regs->rsi = e->rsi;
	HV_TRACE(HV_TRACE_BOOT, "boot vCPU: 64-bit entry at rip 0x%llx, rsi (zero page) 0x%llx, cr3 0x%llx",
		 (unsigned long long)e->rip, (unsigned long long)e->rsi, (unsigned long long)e->cr3);
	/* boot.rst: "interrupt must be disabled": IF clear; bit 1 always reads 1. */
	regs->rflags = 0x2;
}
