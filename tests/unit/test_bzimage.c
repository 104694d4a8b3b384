/* test_bzimage.c: the bzImage loader on synthetic kernels: checks, layout, zero page, e820, vCPU. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <asm/bootparam.h>

#include "boot/bzimage.h"

#define MiB		(1ULL << 20)
#define GiB		(1ULL << 30)

/* What a synthetic bzImage says about itself; img_default() is a small Debian-like kernel. */
struct img_opts {
	uint8_t setup_sects;
	uint32_t pm_size;		/* a multiple of 16 */
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint8_t jump_len;		/* byte 0x201 */
	uint32_t init_size;
	uint64_t pref_address;
	uint32_t kernel_alignment;
	uint8_t relocatable;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
};

static struct img_opts img_default(void)
{
	return (struct img_opts){
		.setup_sects = 4, .pm_size = 64 * 1024, .version = 0x020f,
		.loadflags = LOADED_HIGH, .xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G,
		.jump_len = 0x6a, .init_size = 16 * MiB, .pref_address = 16 * MiB,
		.kernel_alignment = 2 * MiB, .relocatable = 1, .initrd_addr_max = 0x7fffffff,
		.cmdline_size = 2047,
	};
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* The byte the protected-mode code has at offset i: recognisable, not constant. */
static uint8_t payload_byte(size_t i)
{
	return (uint8_t)(i * 7 + 0x5a);
}

static const char kver[] = "6.1.0-test (hvrun@example) #1 SMP";

/* A bzImage of (setup_sects + 1) * 512 + pm_size bytes; *len gets its size. */
static uint8_t *make_image(const struct img_opts *o, size_t *len)
{
	size_t setup = ((size_t)(o->setup_sects ? o->setup_sects : 4) + 1) * 512, i;
	uint8_t *img;

	*len = setup + o->pm_size;
	img = calloc(1, *len);
	assert_non_null(img);
	img[0x1f1] = o->setup_sects;
	put32(img + 0x1f4, o->pm_size / 16);
	put16(img + 0x1fe, 0xAA55);
	img[0x200] = 0xeb;
	img[0x201] = o->jump_len;
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x206, o->version);
	put16(img + 0x20e, 0x600 - 0x200);	/* kernel_version string at 0x600 */
	memcpy(img + 0x600, kver, sizeof(kver));
	img[0x211] = o->loadflags;
	put32(img + 0x214, 0x100000);		/* code32_start */
	put32(img + 0x22c, o->initrd_addr_max);
	put32(img + 0x230, o->kernel_alignment);
	img[0x234] = o->relocatable;
	img[0x235] = 21;
	put16(img + 0x236, o->xloadflags);
	put32(img + 0x238, o->cmdline_size);
	put64(img + 0x258, o->pref_address);
	put32(img + 0x260, o->init_size);
	put32(img + 0x264, 0x190);		/* handover_offset, copied through untouched */
	img[0x270] = 0xcc;			/* past the header's end: must not reach the zero page */
	for (i = 0; i < o->pm_size; i++)
		img[setup + i] = payload_byte(i);
	return img;
}

/* Guest RAM as hvrun lays it out, backed by NORESERVE mappings so 5 GiB costs nothing. */
struct vm {
	struct memmap map;
	struct guest_mem gm;
	void *host[MEMMAP_MAX_RAM];
};

static void vm_setup(struct vm *vm, uint64_t ram_bytes)
{
	unsigned int i;

	memset(vm, 0, sizeof(*vm));
	assert_int_equal(memmap_build(&vm->map, ram_bytes), 0);
	for (i = 0; i < vm->map.nr_ram; i++) {
		vm->host[i] = mmap(NULL, vm->map.ram[i].size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		assert_true(vm->host[i] != MAP_FAILED);
		assert_int_equal(gm_add_region(&vm->gm, vm->map.ram[i].gpa, vm->map.ram[i].size,
					       vm->host[i]), 0);
	}
}

static void vm_free(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->map.nr_ram; i++)
		munmap(vm->host[i], vm->map.ram[i].size);
}

static const void *gpa(const struct vm *vm, uint64_t addr, uint64_t len)
{
	const void *p = gm_ptr(&vm->gm, addr, len);

	assert_non_null(p);
	return p;
}

static const struct boot_params *zero_page(const struct vm *vm)
{
	return gpa(vm, BZIMAGE_ZERO_PAGE_ADDR, sizeof(struct boot_params));
}

/* Loads img into a fresh VM of ram_bytes with an optional initrd; asserts success. */
static void load_ok(struct vm *vm, uint64_t ram_bytes, const uint8_t *img, size_t len,
		    const uint8_t *initrd, size_t ilen, const char *cmdline,
		    const struct bzimage_reserved *res, unsigned int nr, struct bzimage_entry *e)
{
	char err[256] = "";
	int ret;

	vm_setup(vm, ram_bytes);
	ret = bzimage_load(&vm->gm, &vm->map, img, len, initrd, ilen, cmdline, res, nr, e,
			   err, sizeof(err));
	if (ret)
		fail_msg("bzimage_load: %d %s", ret, err);
}

static int parse_err(const struct img_opts *o, size_t cut, char *err, size_t errlen)
{
	struct bzimage_info bi;
	size_t len;
	uint8_t *img = make_image(o, &len);
	int ret = bzimage_parse(img, len - cut, &bi, err, errlen);

	free(img);
	return ret;
}

/* ---- bzimage_parse ---- */

static void test_parse_good(void **state)
{
	struct img_opts o = img_default();
	struct bzimage_info bi;
	char err[256];
	size_t len;
	uint8_t *img = make_image(&o, &len), *signed_img;

	(void)state;
	assert_int_equal(bzimage_parse(img, len, &bi, err, sizeof(err)), 0);
	assert_int_equal(bi.version, 0x020f);
	assert_int_equal(bi.setup_sects, 4);
	assert_int_equal(bi.pm_offset, 5 * 512);
	assert_int_equal(bi.pm_size, 64 * 1024);
	assert_int_equal(bi.syssize, 64 * 1024 / 16);
	assert_int_equal(bi.hdr_end, 0x26c);
	assert_int_equal(bi.loadflags, LOADED_HIGH);
	assert_int_equal(bi.xloadflags, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G);
	assert_int_equal(bi.init_size, 16 * MiB);
	assert_int_equal(bi.pref_address, 16 * MiB);
	assert_int_equal(bi.kernel_alignment, 2 * MiB);
	assert_int_equal(bi.relocatable_kernel, 1);
	assert_int_equal(bi.min_alignment, 21);
	assert_int_equal(bi.initrd_addr_max, 0x7fffffff);
	assert_int_equal(bi.cmdline_size, 2047);
	assert_string_equal(bi.kernel_version, kver);
	/* Bytes after syssize * 16 (a signature) are allowed and ignored. */
	signed_img = realloc(img, len + 1472);
	assert_non_null(signed_img);
	img = signed_img;
	memset(img + len, 0x30, 1472);
	assert_int_equal(bzimage_parse(img, len + 1472, &bi, err, sizeof(err)), 0);
	assert_int_equal(bi.pm_size, 64 * 1024);
	free(img);
}

static void test_parse_too_short(void **state)
{
	struct img_opts o = img_default();
	struct bzimage_info bi;
	uint8_t small[0x24f] = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(bzimage_parse(small, sizeof(small), &bi, err, sizeof(err)), -ENOEXEC);
	assert_string_equal(err, "not a bzImage (too short)");
	assert_int_equal(bzimage_parse(NULL, 0, &bi, err, sizeof(err)), -ENOEXEC);
	assert_string_equal(err, "not a bzImage (too short)");
	/* The first 0x250 bytes of a good image pass the magic checks, then it is truncated. */
	assert_int_equal(parse_err(&o, 5 * 512 + o.pm_size - 0x250, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "truncated bzImage: 592 bytes"));
}

static void test_parse_no_boot_flag(void **state)
{
	struct img_opts o = img_default();
	struct bzimage_info bi;
	char err[256];
	size_t len;
	uint8_t *img = make_image(&o, &len);

	(void)state;
	img[0x1fe] = 0;
	assert_int_equal(bzimage_parse(img, len, &bi, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "0xAA55"));
	free(img);
}

static void test_parse_no_hdrs(void **state)
{
	struct img_opts o = img_default();
	struct bzimage_info bi;
	char err[256];
	size_t len;
	uint8_t *img = make_image(&o, &len);

	(void)state;
	memcpy(img + 0x202, "HdrZ", 4);
	assert_int_equal(bzimage_parse(img, len, &bi, err, sizeof(err)), -ENOEXEC);
	assert_string_equal(err, "not a Linux bzImage: no HdrS header");
	free(img);
}

static void test_parse_old_protocol(void **state)
{
	struct img_opts o = img_default();
	char err[256];

	(void)state;
	o.version = 0x0205;
	assert_int_equal(parse_err(&o, 0, err, sizeof(err)), -ENOEXEC);
	assert_string_equal(err, "boot protocol 2.05 is too old; hvrun needs 2.06+");
	/* 2.06 .. 2.11 pass that check but have no xloadflags, so no 64-bit entry. */
	o.version = 0x020b;
	assert_int_equal(parse_err(&o, 0, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "boot protocol 2.11 has no xloadflags"));
	assert_non_null(strstr(err, "64-bit"));
}

static void test_parse_not_64bit(void **state)
{
	struct img_opts o = img_default();
	char err[256];

	(void)state;
	o.xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G | XLF_EFI_HANDOVER_32;
	assert_int_equal(parse_err(&o, 0, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "no 64-bit entry point"));
	assert_non_null(strstr(err, "XLF_KERNEL_64"));
}

static void test_parse_not_loaded_high(void **state)
{
	struct img_opts o = img_default();
	char err[256];

	(void)state;
	o.loadflags = 0;
	assert_int_equal(parse_err(&o, 0, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "LOADED_HIGH"));
}

static void test_parse_truncated(void **state)
{
	struct img_opts o = img_default();
	char err[256], want[128];
	size_t full = 5 * 512 + o.pm_size;

	(void)state;
	assert_int_equal(parse_err(&o, 1, err, sizeof(err)), -ENOEXEC);
	snprintf(want, sizeof(want), "truncated bzImage: %zu bytes, header says %zu", full - 1, full);
	assert_non_null(strstr(err, want));
	/* Only the setup sectors: the protected-mode part is empty. */
	assert_int_equal(parse_err(&o, o.pm_size, err, sizeof(err)), -ENOEXEC);
	snprintf(want, sizeof(want), "truncated bzImage: %u bytes, header says %zu", 5u * 512, full);
	assert_non_null(strstr(err, want));
}

static void test_parse_setup_sects_zero(void **state)
{
	struct img_opts o = img_default();
	struct bzimage_info bi;
	struct bzimage_entry e;
	struct vm vm;
	char err[256];
	size_t len;
	uint8_t *img;

	(void)state;
	o.setup_sects = 0;	/* boot.rst: 0 means 4 */
	img = make_image(&o, &len);
	assert_int_equal(len, 5 * 512 + o.pm_size);
	assert_int_equal(bzimage_parse(img, len, &bi, err, sizeof(err)), 0);
	assert_int_equal(bi.setup_sects, 4);
	assert_int_equal(bi.pm_offset, 0xa00);
	load_ok(&vm, 160 * MiB, img, len, NULL, 0, "", NULL, 0, &e);
	assert_memory_equal(gpa(&vm, BZIMAGE_KERNEL_ADDR, 64), img + 0xa00, 64);
	vm_free(&vm);
	free(img);
}

static void test_parse_malformed(void **state)
{
	struct img_opts o;
	char err[256];

	(void)state;
	o = img_default();
	o.jump_len = 0x20;	/* header would end at 0x222, before init_size */
	assert_int_equal(parse_err(&o, 0, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "malformed setup header"));
	o = img_default();
	o.jump_len = 0xf0;	/* past the zero page's room for it */
	assert_int_equal(parse_err(&o, 0, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "malformed setup header"));
	o = img_default();
	o.kernel_alignment = 0x300000;
	assert_int_equal(parse_err(&o, 0, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "power of two"));
	o = img_default();
	o.init_size = 0;
	assert_int_equal(parse_err(&o, 0, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "init_size"));
	o = img_default();
	o.pm_size = 0;
	assert_int_equal(parse_err(&o, 0, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "syssize 0"));
}

/* ---- bzimage_load: placement and the zero page ---- */

static void test_load_payload_at_1mib(void **state)
{
	struct img_opts o = img_default();
	struct bzimage_entry e;
	struct vm vm;
	size_t len;
	uint8_t *img = make_image(&o, &len);
	const uint8_t *k;
	size_t i;

	(void)state;
	load_ok(&vm, 160 * MiB, img, len, NULL, 0, "console=ttyS0", NULL, 0, &e);
	k = gpa(&vm, 0x100000, o.pm_size);
	for (i = 0; i < o.pm_size; i++)
		if (k[i] != payload_byte(i))
			fail_msg("kernel byte %zu is 0x%02x", i, k[i]);
	/* Nothing of the setup sectors or past syssize * 16 is copied. */
	assert_int_equal(*(const uint8_t *)gpa(&vm, 0x100000 + o.pm_size, 1), 0);
	assert_int_equal(e.rip, 0x100200);
	assert_int_equal(e.rsi, 0x7000);
	assert_int_equal(e.cr3, 0x9000);
	assert_int_equal(e.gdt_base, 0x500);
	assert_int_equal(e.gdt_limit, 31);
	assert_int_equal(e.kernel_addr, 0x100000);
	/* Decompression runs at max(align_up(1 MiB, 2 MiB), pref_address) = 16 MiB. */
	assert_int_equal(e.kernel_end, 32 * MiB);
	assert_int_equal(e.cmdline_addr, 0x20000);
	assert_int_equal(e.initrd_addr, 0);
	vm_free(&vm);
	free(img);
}

static void test_load_zero_page(void **state)
{
	static const char cmdline[] = "console=ttyS0 root=/dev/vda rw";
	struct img_opts o = img_default();
	const struct boot_params *bp;
	struct bzimage_entry e;
	struct vm vm;
	size_t len;
	uint8_t *img = make_image(&o, &len);
	const uint8_t *raw;

	(void)state;
	load_ok(&vm, 160 * MiB, img, len, NULL, 0, cmdline, NULL, 0, &e);
	bp = zero_page(&vm);
	raw = (const uint8_t *)bp;
	/* The setup header is copied from 0x1f1 to 0x202 + img[0x201], nothing after it. */
	assert_int_equal(bp->hdr.boot_flag, 0xAA55);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.setup_sects, 4);
	assert_int_equal(bp->hdr.init_size, 16 * MiB);
	assert_int_equal(bp->hdr.handover_offset, 0x190);
	assert_int_equal(bp->hdr.cmdline_size, 2047);
	assert_int_equal(raw[0x270], 0);
	assert_int_equal(bp->sentinel, 0);
	/* What the loader writes. */
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.loadflags, LOADED_HIGH | CAN_USE_HEAP);
	assert_int_equal(bp->hdr.heap_end_ptr, 0xfe00);
	assert_int_equal(bp->hdr.vid_mode, 0xffff);
	assert_int_equal(bp->hdr.cmd_line_ptr, 0x20000);
	assert_int_equal(bp->ext_cmd_line_ptr, 0);
	assert_int_equal(bp->hdr.ramdisk_image, 0);
	assert_int_equal(bp->hdr.ramdisk_size, 0);
	assert_string_equal((const char *)gpa(&vm, bp->hdr.cmd_line_ptr, sizeof(cmdline)), cmdline);
	/* Everything outside the header and the e820 table stays zero. */
	assert_int_equal(bp->acpi_rsdp_addr, 0);
	assert_int_equal(bp->screen_info.orig_video_isVGA, 0);
	vm_free(&vm);
	free(img);
}

static void test_load_initrd(void **state)
{
	struct img_opts o = img_default();
	const struct boot_params *bp;
	struct bzimage_entry e;
	struct vm vm;
	size_t len, ilen = 3 * MiB + 123, i;
	uint8_t *img = make_image(&o, &len), *initrd = malloc(ilen);
	uint64_t at;

	(void)state;
	assert_non_null(initrd);
	for (i = 0; i < ilen; i++)
		initrd[i] = (uint8_t)(i ^ (i >> 8));
	load_ok(&vm, 160 * MiB, img, len, initrd, ilen, "", NULL, 0, &e);
	bp = zero_page(&vm);
	at = bp->hdr.ramdisk_image | (uint64_t)bp->ext_ramdisk_image << 32;
	assert_int_equal(at, e.initrd_addr);
	assert_int_equal(bp->hdr.ramdisk_size, ilen);
	assert_int_equal(bp->ext_ramdisk_size, 0);
	assert_int_equal(e.initrd_size, ilen);
	assert_int_equal(at % 4096, 0);
	assert_true(at >= e.kernel_end);
	assert_true(at + ilen - 1 <= o.initrd_addr_max);
	assert_true(at + ilen <= 160 * MiB);
	/* As high as it goes: less than a page of slack below the end of RAM. */
	assert_true(160 * MiB - (at + ilen) < 4096);
	assert_memory_equal(gpa(&vm, at, ilen), initrd, ilen);
	vm_free(&vm);

	/* A lower initrd_addr_max caps it: its last byte at or below 96 MiB - 1. */
	free(img);
	o.initrd_addr_max = 96 * MiB - 1;
	img = make_image(&o, &len);
	load_ok(&vm, 160 * MiB, img, len, initrd, ilen, "", NULL, 0, &e);
	bp = zero_page(&vm);
	assert_true(bp->hdr.ramdisk_image + ilen - 1 <= 96 * MiB - 1);
	assert_true(96 * MiB - (bp->hdr.ramdisk_image + ilen) < 4096);
	assert_int_equal(bp->hdr.ramdisk_image % 4096, 0);
	vm_free(&vm);
	free(initrd);
	free(img);
}

static void test_load_relocation_rules(void **state)
{
	struct img_opts o = img_default();
	struct bzimage_entry e;
	struct vm vm;
	size_t len;
	uint8_t *img;

	(void)state;
	/* Relocatable, no pref_address: align_up(1 MiB, 2 MiB) + init_size. */
	o.pref_address = 0;
	img = make_image(&o, &len);
	load_ok(&vm, 160 * MiB, img, len, NULL, 0, "", NULL, 0, &e);
	assert_int_equal(e.kernel_end, 2 * MiB + 16 * MiB);
	vm_free(&vm);
	free(img);
	/* Not relocatable: it runs at pref_address. */
	o = img_default();
	o.relocatable = 0;
	o.pref_address = 32 * MiB;
	img = make_image(&o, &len);
	load_ok(&vm, 160 * MiB, img, len, NULL, 0, "", NULL, 0, &e);
	assert_int_equal(e.kernel_end, 48 * MiB);
	vm_free(&vm);
	free(img);
}

/* ---- e820 ---- */

static void assert_e820(const struct boot_e820_entry *t, unsigned int i, uint64_t addr,
			uint64_t size, uint32_t type)
{
	if (t[i].addr != addr || t[i].size != size || t[i].type != type)
		fail_msg("e820[%u] = 0x%llx+0x%llx type %u, expected 0x%llx+0x%llx type %u", i,
			 (unsigned long long)t[i].addr, (unsigned long long)t[i].size, t[i].type,
			 (unsigned long long)addr, (unsigned long long)size, type);
}

static void test_e820_128m(void **state)
{
	struct img_opts o = img_default();
	const struct boot_params *bp;
	struct bzimage_entry e;
	struct vm vm;
	size_t len;
	uint8_t *img = make_image(&o, &len);

	(void)state;
	load_ok(&vm, 128 * MiB, img, len, NULL, 0, "", NULL, 0, &e);
	bp = zero_page(&vm);
	assert_int_equal(bp->e820_entries, 3);
	assert_int_equal(e.nr_e820, 3);
	assert_e820(bp->e820_table, 0, 0, 0x9fc00, 1);
	assert_e820(bp->e820_table, 1, 0x9fc00, 0x100000 - 0x9fc00, 2);
	assert_e820(bp->e820_table, 2, 0x100000, 127 * MiB, 1);
	assert_e820(bp->e820_table, 3, 0, 0, 0);	/* the rest is zero */
	vm_free(&vm);
	free(img);
}

static void test_e820_5g_reserved(void **state)
{
	/* Given out of order: the map comes out sorted. */
	static const struct bzimage_reserved res[] = {
		{ 0xFEE00000, 0x1000, 2 },		/* LAPIC */
		{ 0xE0000000, 0x10000000, 2 },		/* ECAM, 256 buses, in the PCI hole */
		{ 0xFEC00000, 0x1000, 2 },		/* IOAPIC */
	};
	struct img_opts o = img_default();
	const struct boot_params *bp;
	const struct boot_e820_entry *t;
	struct bzimage_entry e;
	struct vm vm;
	size_t len, ilen = 2 * MiB;
	uint8_t *img = make_image(&o, &len), *initrd = calloc(1, ilen);
	unsigned int i;

	(void)state;
	assert_non_null(initrd);
	initrd[0] = 0x1f;
	load_ok(&vm, 5 * GiB, img, len, initrd, ilen, "", res, 3, &e);
	bp = zero_page(&vm);
	t = bp->e820_table;
	assert_int_equal(bp->e820_entries, 7);
	assert_e820(t, 0, 0, 0x9fc00, 1);
	assert_e820(t, 1, 0x9fc00, 0x60400, 2);
	assert_e820(t, 2, 0x100000, 3 * GiB - MiB, 1);
	assert_e820(t, 3, 0xE0000000, 0x10000000, 2);
	assert_e820(t, 4, 0xFEC00000, 0x1000, 2);
	assert_e820(t, 5, 0xFEE00000, 0x1000, 2);
	assert_e820(t, 6, 4 * GiB, 2 * GiB, 1);
	for (i = 1; i < bp->e820_entries; i++)
		assert_true(t[i - 1].addr + t[i - 1].size <= t[i].addr);
	/* initrd_addr_max 0x7fffffff caps the initrd below 2 GiB although RAM goes to 3. */
	assert_int_equal(bp->hdr.ramdisk_image, 2 * GiB - ilen);
	assert_int_equal(*(const uint8_t *)gpa(&vm, 2 * GiB - ilen, 1), 0x1f);
	vm_free(&vm);
	free(initrd);
	free(img);
}

static void test_e820_overlap(void **state)
{
	struct img_opts o = img_default();
	struct bzimage_reserved res[2];
	struct bzimage_entry e;
	struct vm vm;
	char err[256];
	size_t len;
	uint8_t *img = make_image(&o, &len);

	(void)state;
	vm_setup(&vm, 5 * GiB);
	/* Over low RAM (3 GiB ends at 0xC0000000). */
	res[0] = (struct bzimage_reserved){ 0xBFFFF000, 0x2000, 2 };
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, "", res, 1, &e, err,
				      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "overlaps RAM 0x100000-0xbfffffff"));
	/* Over high RAM. */
	res[0] = (struct bzimage_reserved){ 0x17FFFF000ULL, 0x1000, 2 };
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, "", res, 1, &e, err,
				      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "overlaps RAM"));
	/* Over each other. */
	res[0] = (struct bzimage_reserved){ 0xE0000000, 0x10000000, 2 };
	res[1] = (struct bzimage_reserved){ 0xEFFFF000, 0x2000, 2 };
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, "", res, 2, &e, err,
				      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "overlaps reserved range 0xe0000000-0xefffffff"));
	/* Over the BIOS area below 1 MiB. */
	res[0] = (struct bzimage_reserved){ 0xE0000, 0x20000, 3 };
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, "", res, 1, &e, err,
				      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "overlaps reserved range 0x9fc00-0xfffff"));
	/* Empty, wrapping, typeless. */
	res[0] = (struct bzimage_reserved){ 0xE0000000, 0, 2 };
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, "", res, 1, &e, err,
				      sizeof(err)), -EINVAL);
	res[0] = (struct bzimage_reserved){ UINT64_MAX - 0xfff, 0x2000, 2 };
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, "", res, 1, &e, err,
				      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "wraps"));
	res[0] = (struct bzimage_reserved){ 0xE0000000, 0x1000, 0 };
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, "", res, 1, &e, err,
				      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "type 0"));
	vm_free(&vm);
	free(img);
}

static void test_e820_full(void **state)
{
	enum { N = E820_MAX_ENTRIES_ZEROPAGE - 3 };	/* 3 entries of RAM at 128 MiB */
	struct bzimage_reserved res[N + 1];
	struct img_opts o = img_default();
	struct bzimage_entry e;
	struct vm vm;
	char err[256];
	size_t len;
	uint8_t *img = make_image(&o, &len);
	unsigned int i;

	(void)state;
	for (i = 0; i <= N; i++)
		res[i] = (struct bzimage_reserved){ 0xD0000000 + i * 0x1000ULL, 0x1000, 2 };
	vm_setup(&vm, 128 * MiB);
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, "", res, N + 1, &e, err,
				      sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "128"));
	/* Exactly 128 entries fit. */
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, "", res, N, &e, err,
				      sizeof(err)), 0);
	assert_int_equal(zero_page(&vm)->e820_entries, 128);
	assert_int_equal(e.nr_e820, 128);
	vm_free(&vm);
	free(img);
}

/* ---- bzimage_load: what does not fit ---- */

static void test_load_cmdline_limits(void **state)
{
	struct img_opts o = img_default();
	struct bzimage_entry e;
	struct vm vm;
	char err[256], *line = malloc(BZIMAGE_CMDLINE_MAX + 1);
	size_t len;
	uint8_t *img = make_image(&o, &len);

	(void)state;
	assert_non_null(line);
	vm_setup(&vm, 160 * MiB);
	/* cmdline_size characters are fine, one more is not. */
	memset(line, 'a', 2047);
	line[2047] = '\0';
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, line, NULL, 0, &e, err,
				      sizeof(err)), 0);
	assert_int_equal(strlen(gpa(&vm, 0x20000, 2048)), 2047);
	line[2047] = 'a';
	line[2048] = '\0';
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, line, NULL, 0, &e, err,
				      sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "2048 bytes; this kernel takes at most 2047"));
	/* NULL is the empty command line, and cmd_line_ptr is still set. */
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, NULL, NULL, 0, &e, err,
				      sizeof(err)), 0);
	assert_int_equal(*(const char *)gpa(&vm, 0x20000, 1), '\0');
	assert_int_equal(zero_page(&vm)->hdr.cmd_line_ptr, 0x20000);
	vm_free(&vm);
	free(img);

	/* A kernel that takes anything still meets hvrun's 64 KiB buffer. */
	o.cmdline_size = 0xffffffff;
	img = make_image(&o, &len);
	vm_setup(&vm, 160 * MiB);
	memset(line, 'b', BZIMAGE_CMDLINE_MAX);
	line[BZIMAGE_CMDLINE_MAX] = '\0';
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, line, NULL, 0, &e, err,
				      sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "65536 bytes; hvrun has room for 65535"));
	line[BZIMAGE_CMDLINE_MAX - 1] = '\0';
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, line, NULL, 0, &e, err,
				      sizeof(err)), 0);
	vm_free(&vm);
	free(img);
	free(line);
}

static void test_load_initrd_too_big(void **state)
{
	struct img_opts o = img_default();
	struct bzimage_entry e;
	struct vm vm;
	char err[256];
	size_t len, ilen = 48 * MiB;
	uint8_t *img = make_image(&o, &len), *initrd = calloc(1, ilen);

	(void)state;
	assert_non_null(initrd);
	vm_setup(&vm, 40 * MiB);
	/* Larger than all of RAM. */
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, initrd, ilen, "", NULL, 0, &e,
				      err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "initrd (48 MB) does not fit in guest RAM below 40 MB"));
	/* Smaller than RAM, but not above the kernel's 32 MB. */
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, initrd, 9 * MiB, "", NULL, 0,
				      &e, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "initrd (9 MB) does not fit in guest RAM below 40 MB"));
	/* 8 MB just fits, flush with the kernel's end. */
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, initrd, 8 * MiB, "", NULL, 0,
				      &e, err, sizeof(err)), 0);
	assert_int_equal(e.initrd_addr, 32 * MiB);
	/* An empty initrd is a mistake, not "no initrd". */
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, initrd, 0, "", NULL, 0, &e, err,
				      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	vm_free(&vm);
	free(initrd);
	free(img);
}

static void test_load_kernel_too_big(void **state)
{
	struct img_opts o = img_default();
	struct bzimage_entry e;
	struct vm vm;
	char err[256];
	size_t len;
	uint8_t *img;

	(void)state;
	o.init_size = 200 * MiB;
	img = make_image(&o, &len);
	vm_setup(&vm, 160 * MiB);
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, "", NULL, 0, &e, err,
				      sizeof(err)), -ENOMEM);
	assert_string_equal(err, "kernel needs 216 MB of RAM to decompress, the VM has 160 MB");
	/* Nothing was written. */
	assert_int_equal(*(const uint8_t *)gpa(&vm, 0x100000, 1), 0);
	assert_int_equal(*(const uint8_t *)gpa(&vm, 0x7000 + 0x202, 1), 0);
	vm_free(&vm);
	free(img);
	/* A bad image is reported by bzimage_load as by bzimage_parse. */
	o = img_default();
	o.version = 0x0204;
	img = make_image(&o, &len);
	vm_setup(&vm, 160 * MiB);
	assert_int_equal(bzimage_load(&vm.gm, &vm.map, img, len, NULL, 0, "", NULL, 0, &e, err,
				      sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "2.04 is too old"));
	vm_free(&vm);
	free(img);
}

static void test_load_ram_missing(void **state)
{
	static uint8_t first_mib[0x100000];
	struct img_opts o = img_default();
	struct bzimage_entry e;
	struct memmap map;
	struct guest_mem gm;
	char err[256];
	size_t len;
	uint8_t *img = make_image(&o, &len), *rest;

	(void)state;
	/* The memory map promises 160 MiB, the guest memory has only its first MiB. */
	assert_int_equal(memmap_build(&map, 160 * MiB), 0);
	memset(&gm, 0, sizeof(gm));
	assert_int_equal(gm_add_region(&gm, 0, sizeof(first_mib), first_mib), 0);
	assert_int_equal(bzimage_load(&gm, &map, img, len, NULL, 0, "", NULL, 0, &e, err,
				      sizeof(err)), -EFAULT);
	assert_non_null(strstr(err, "guest RAM does not cover the kernel at 0x100000"));
	/* ... or all but the page of the GDT. */
	rest = calloc(1, 160 * MiB - 0x1000);
	assert_non_null(rest);
	memset(&gm, 0, sizeof(gm));
	assert_int_equal(gm_add_region(&gm, 0x1000, 160 * MiB - 0x1000, rest), 0);
	assert_int_equal(bzimage_load(&gm, &map, img, len, NULL, 0, "", NULL, 0, &e, err,
				      sizeof(err)), -EFAULT);
	assert_non_null(strstr(err, "GDT at 0x500-0x51f"));
	/* No RAM at 0 in the memory map at all. */
	map.ram[0].gpa = 0x1000;
	assert_int_equal(bzimage_load(&gm, &map, img, len, NULL, 0, "", NULL, 0, &e, err,
				      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no RAM at address 0"));
	free(rest);
	free(img);
}

/* ---- GDT, page tables, vCPU state ---- */

static void test_gdt(void **state)
{
	struct img_opts o = img_default();
	struct bzimage_entry e;
	struct vm vm;
	size_t len;
	uint8_t *img = make_image(&o, &len);
	const uint64_t *gdt;

	(void)state;
	load_ok(&vm, 160 * MiB, img, len, NULL, 0, "", NULL, 0, &e);
	gdt = gpa(&vm, e.gdt_base, e.gdt_limit + 1);
	assert_int_equal(e.gdt_limit + 1, 4 * 8);
	assert_int_equal(gdt[0], 0);
	assert_int_equal(gdt[1], 0);
	assert_int_equal(gdt[0x10 / 8], 0x00af9b000000ffffULL);	/* __BOOT_CS: 64-bit code */
	assert_int_equal(gdt[0x18 / 8], 0x00cf93000000ffffULL);	/* __BOOT_DS: flat data */
	vm_free(&vm);
	free(img);
}

static void test_page_tables(void **state)
{
	struct img_opts o = img_default();
	struct bzimage_entry e;
	struct vm vm;
	size_t len;
	uint8_t *img = make_image(&o, &len);
	const uint64_t *pml4, *pdpt, *pd;
	unsigned int i, j;

	(void)state;
	load_ok(&vm, 160 * MiB, img, len, NULL, 0, "", NULL, 0, &e);
	pml4 = gpa(&vm, e.cr3, 4096);
	assert_int_equal(pml4[0], 0xA000 | 0x3);
	for (i = 1; i < 512; i++)
		assert_int_equal(pml4[i], 0);
	pdpt = gpa(&vm, pml4[0] & ~0xfffULL, 4096);
	for (i = 0; i < 4; i++)
		assert_int_equal(pdpt[i], (0xB000 + i * 0x1000) | 0x3);
	for (i = 4; i < 512; i++)
		assert_int_equal(pdpt[i], 0);
	for (i = 0; i < 4; i++) {
		pd = gpa(&vm, pdpt[i] & ~0xfffULL, 4096);
		for (j = 0; j < 512; j++) {
			uint64_t want = ((uint64_t)i * 512 + j) * 2 * MiB | 0x80 | 0x3;

			if (pd[j] != want)
				fail_msg("PD %u entry %u = 0x%llx", i, j, (unsigned long long)pd[j]);
		}
	}
	/* The tables do not collide with the zero page or the command line. */
	assert_true(0xB000 + 4 * 0x1000 <= 0x20000);
	vm_free(&vm);
	free(img);
}

static void test_fill_sregs(void **state)
{
	struct bzimage_entry e = { .rip = 0x100200, .rsi = 0x7000, .cr3 = 0x9000,
				   .gdt_base = 0x500, .gdt_limit = 31 };
	const struct kvm_segment *d[5];
	struct kvm_sregs s;
	unsigned int i;

	(void)state;
	memset(&s, 0xa5, sizeof(s));
	s.apic_base = 0xfee00900;
	s.cr8 = 0;
	bzimage_fill_sregs(&e, &s);
	/* CR0: PE|MP|ET|NE|WP|AM|PG; CR4: PAE|OSFXSR|OSXMMEXCPT; EFER: LME|LMA. */
	assert_int_equal(s.cr0, 0x80050033);
	assert_int_equal(s.cr4, 0x620);
	assert_int_equal(s.efer, 0x500);
	assert_int_equal(s.cr3, 0x9000);
	assert_int_equal(s.gdt.base, 0x500);
	assert_int_equal(s.gdt.limit, 31);
	assert_int_equal(s.idt.base, 0);
	assert_int_equal(s.idt.limit, 0);
	assert_int_equal(s.cs.selector, 0x10);
	assert_int_equal(s.cs.type, 0xb);
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(s.cs.db, 0);
	assert_int_equal(s.cs.s, 1);
	assert_int_equal(s.cs.present, 1);
	assert_int_equal(s.cs.dpl, 0);
	assert_int_equal(s.cs.g, 1);
	assert_int_equal(s.cs.base, 0);
	assert_int_equal(s.cs.limit, 0xffffffff);
	assert_int_equal(s.cs.unusable, 0);
	d[0] = &s.ds;
	d[1] = &s.es;
	d[2] = &s.fs;
	d[3] = &s.gs;
	d[4] = &s.ss;
	for (i = 0; i < 5; i++) {
		assert_int_equal(d[i]->selector, 0x18);
		assert_int_equal(d[i]->type, 3);
		assert_int_equal(d[i]->present, 1);
		assert_int_equal(d[i]->db, 1);
		assert_int_equal(d[i]->l, 0);
		assert_int_equal(d[i]->s, 1);
		assert_int_equal(d[i]->g, 1);
		assert_int_equal(d[i]->base, 0);
		assert_int_equal(d[i]->limit, 0xffffffff);
		assert_int_equal(d[i]->unusable, 0);
	}
	assert_int_equal(s.tr.type, 11);
	assert_int_equal(s.tr.present, 1);
	assert_int_equal(s.tr.s, 0);
	assert_int_equal(s.tr.selector, 0);
	assert_int_equal(s.ldt.type, 2);
	assert_int_equal(s.ldt.present, 1);
	/* What it does not own is left as KVM_GET_SREGS returned it. */
	assert_int_equal(s.apic_base, 0xfee00900);
	assert_int_equal(s.cr2, 0xa5a5a5a5a5a5a5a5ULL);
}

static void test_fill_regs(void **state)
{
	struct bzimage_entry e = { .rip = 0x100200, .rsi = 0x7000 };
	struct kvm_regs r;

	(void)state;
	memset(&r, 0xff, sizeof(r));
	bzimage_fill_regs(&e, &r);
	assert_int_equal(r.rip, 0x100200);
	assert_int_equal(r.rsi, 0x7000);
	assert_int_equal(r.rflags, 2);
	assert_int_equal(r.rax | r.rbx | r.rcx | r.rdx | r.rdi | r.rsp | r.rbp, 0);
	assert_int_equal(r.r8 | r.r9 | r.r10 | r.r11 | r.r12 | r.r13 | r.r14 | r.r15, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_too_short),
		cmocka_unit_test(test_parse_no_boot_flag),
		cmocka_unit_test(test_parse_no_hdrs),
		cmocka_unit_test(test_parse_old_protocol),
		cmocka_unit_test(test_parse_not_64bit),
		cmocka_unit_test(test_parse_not_loaded_high),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_setup_sects_zero),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_load_payload_at_1mib),
		cmocka_unit_test(test_load_zero_page),
		cmocka_unit_test(test_load_initrd),
		cmocka_unit_test(test_load_relocation_rules),
		cmocka_unit_test(test_e820_128m),
		cmocka_unit_test(test_e820_5g_reserved),
		cmocka_unit_test(test_e820_overlap),
		cmocka_unit_test(test_e820_full),
		cmocka_unit_test(test_load_cmdline_limits),
		cmocka_unit_test(test_load_initrd_too_big),
		cmocka_unit_test(test_load_kernel_too_big),
		cmocka_unit_test(test_load_ram_missing),
		cmocka_unit_test(test_gdt),
		cmocka_unit_test(test_page_tables),
		cmocka_unit_test(test_fill_sregs),
		cmocka_unit_test(test_fill_regs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
