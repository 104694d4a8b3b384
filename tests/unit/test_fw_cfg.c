/* test_fw_cfg.c: the fw_cfg device as SeaBIOS drives it: port reads, the file directory, DMA, bad descriptors. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "firmware/fw_cfg.h"
#include "hv/base/guest_mem.h"
#include "hv/base/memmap.h"

#define RAM_SIZE	(1U << 20)		/* guest RAM: [0, 1 MiB) */
#define HIGH_GPA	0x100000000ULL		/* and 64 KiB at 4 GiB, for 64-bit addresses */
#define HIGH_SIZE	0x10000U
#define DESC_GPA	0x1000ULL		/* where the tests put FWCfgDmaAccess */
#define BUF_GPA		0x2000ULL		/* and the DMA buffer */
#define FILL		0xa5			/* what the buffer holds before a transfer */

static struct memmap mm;
static struct guest_mem gm;
static uint8_t high[HIGH_SIZE];

static int setup(void **state)
{
	(void)state;
	if (memmap_build(&mm, RAM_SIZE) || gm_alloc(&gm, &mm, false))
		return -1;
	memset(high, 0, sizeof(high));
	return gm_add_region(&gm, HIGH_GPA, sizeof(high), high);
}

static int teardown(void **state)
{
	(void)state;
	gm_free(&gm);
	return 0;
}

/* ---- helpers: the guest side, as SeaBIOS's paravirt.c does it ---- */

static void sel(struct fw_cfg *fc, uint16_t key)
{
	uint8_t b[2] = { (uint8_t)key, (uint8_t)(key >> 8) };

	fw_cfg_io_pio(fc, 0, true, b, 2);
}

static uint8_t inb_data(struct fw_cfg *fc)
{
	uint8_t b = 0x77;

	fw_cfg_io_pio(fc, 1, false, &b, 1);
	return b;
}

static void read_port(struct fw_cfg *fc, uint8_t *buf, unsigned int n)
{
	while (n--)
		*buf++ = inb_data(fc);
}

static uint64_t le(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	while (bytes--)
		v = v << 8 | p[bytes];
	return v;
}

static uint64_t be(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be(uint8_t *p, uint64_t v, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static uint8_t *ram(uint64_t gpa, uint64_t len)
{
	uint8_t *p = gm_ptr(&gm, gpa, len);

	assert_non_null(p);
	return p;
}

/* Writes a FWCfgDmaAccess at desc (big-endian, fw_cfg.rst). */
static void put_desc(uint64_t desc, uint32_t control, uint32_t length, uint64_t addr)
{
	uint8_t d[16];

	put_be(d, control, 4);
	put_be(d + 4, length, 4);
	put_be(d + 8, addr, 8);
	assert_int_equal(gm_write(&gm, desc, d, sizeof(d)), 0);
}

/* outl(cpu_to_be32(desc), 0x518): the bytes on the bus are big-endian. */
static void kick_low(struct fw_cfg *fc, uint32_t desc_low)
{
	uint8_t b[4];

	put_be(b, desc_low, 4);
	fw_cfg_dma_pio(fc, 4, true, b, 4);
}

static void kick_high(struct fw_cfg *fc, uint32_t desc_high)
{
	uint8_t b[4];

	put_be(b, desc_high, 4);
	fw_cfg_dma_pio(fc, 0, true, b, 4);
}

/* One transfer with a descriptor at DESC_GPA; returns the control word read back. */
static uint32_t dma(struct fw_cfg *fc, uint32_t control, uint32_t length, uint64_t addr)
{
	put_desc(DESC_GPA, control, length, addr);
	kick_low(fc, (uint32_t)DESC_GPA);
	return (uint32_t)be(ram(DESC_GPA, 4), 4);
}

static uint32_t sel_ctl(uint16_t key)
{
	return (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT;
}

static struct fw_cfg *new_fc(void)
{
	struct fw_cfg *fc = fw_cfg_new(&gm);

	assert_non_null(fc);
	memset(ram(0, RAM_SIZE), FILL, RAM_SIZE);
	return fc;
}

static struct fw_cfg_stats stats(struct fw_cfg *fc)
{
	struct fw_cfg_stats s;

	fw_cfg_get_stats(fc, &s);
	return s;
}

/* ---- the port interface ---- */

static void test_signature_by_port(void **state)
{
	struct fw_cfg *fc = new_fc();
	uint8_t sig[4];

	(void)state;
	sel(fc, FW_CFG_SIGNATURE);
	read_port(fc, sig, 4);
	assert_memory_equal(sig, "QEMU", 4);
	assert_int_equal(stats(fc).selects, 1);
	assert_int_equal(stats(fc).io_bytes, 4);
	fw_cfg_free(fc);
}

static void test_id_has_dma_bit(void **state)
{
	struct fw_cfg *fc = new_fc();
	uint8_t id[4];

	(void)state;
	sel(fc, FW_CFG_ID);
	read_port(fc, id, 4);
	assert_int_equal(le(id, 4), FW_CFG_VERSION_TRADITIONAL | FW_CFG_VERSION_DMA);
	fw_cfg_free(fc);
}

static void test_int_items_little_endian(void **state)
{
	struct fw_cfg *fc = new_fc();
	uint8_t b[8];

	(void)state;
	assert_int_equal(fw_cfg_add_number(fc, &(struct fw_cfg_number){ FW_CFG_NB_CPUS, NULL, 0x0102, 2 }), 0);
	assert_int_equal(fw_cfg_add_number(fc, &(struct fw_cfg_number){ FW_CFG_MAX_CPUS, NULL, 0x03040506, 4 }), 0);
	assert_int_equal(fw_cfg_add_number(fc, &(struct fw_cfg_number){ FW_CFG_RAM_SIZE, NULL, 0x0708090a0b0c0d0eULL, 8 }), 0);
	sel(fc, FW_CFG_NB_CPUS);
	read_port(fc, b, 2);
	assert_memory_equal(b, "\x02\x01", 2);
	sel(fc, FW_CFG_MAX_CPUS);
	read_port(fc, b, 4);
	assert_memory_equal(b, "\x06\x05\x04\x03", 4);
	sel(fc, FW_CFG_RAM_SIZE);
	read_port(fc, b, 8);
	assert_memory_equal(b, "\x0e\x0d\x0c\x0b\x0a\x09\x08\x07", 8);
	/* Adding again replaces the item. */
	assert_int_equal(fw_cfg_add_number(fc, &(struct fw_cfg_number){ FW_CFG_NB_CPUS, NULL, 4, 2 }), 0);
	sel(fc, FW_CFG_NB_CPUS);
	read_port(fc, b, 3);
	assert_memory_equal(b, "\x04\x00\x00", 3);
	/* The same under an architecture key and as a file (its key comes back). */
	assert_int_equal(fw_cfg_add_number(fc, &(struct fw_cfg_number){ FW_CFG_IRQ0_OVERRIDE, NULL, 1, 4 }), 0);
	sel(fc, FW_CFG_IRQ0_OVERRIDE);
	read_port(fc, b, 4);
	assert_memory_equal(b, "\x01\x00\x00\x00", 4);
	assert_int_equal(fw_cfg_add_number(fc, &(struct fw_cfg_number){ 0, "etc/sercon-port", 0x3f8, 2 }),
			 FW_CFG_FILE_FIRST);
	sel(fc, FW_CFG_FILE_FIRST);
	read_port(fc, b, 2);
	assert_memory_equal(b, "\xf8\x03", 2);
	fw_cfg_free(fc);
}

static void test_arch_item(void **state)
{
	struct fw_cfg *fc = new_fc();
	uint8_t one[4] = { 1, 0, 0, 0 };

	(void)state;
	assert_int_equal(fw_cfg_add_arch_bytes(fc, FW_CFG_IRQ0_OVERRIDE, one, 4), 0);
	sel(fc, FW_CFG_IRQ0_OVERRIDE);
	assert_int_equal(inb_data(fc), 1);
	/* Bit 14, the old write channel, names the same item. */
	sel(fc, FW_CFG_IRQ0_OVERRIDE | 0x4000);
	assert_int_equal(inb_data(fc), 1);
	/* The generic item with the same low bits is another one. */
	sel(fc, FW_CFG_IRQ0_OVERRIDE & 0x3fff);
	assert_int_equal(inb_data(fc), 0);
	assert_int_equal(fw_cfg_add_arch_bytes(fc, 0x7fff, one, 4), -EINVAL);
	assert_int_equal(fw_cfg_add_arch_bytes(fc, FW_CFG_ARCH_LOCAL + FW_CFG_ARCH_NR, one, 4), -EINVAL);
	assert_int_equal(fw_cfg_add_arch_bytes(fc, FW_CFG_ARCH_LOCAL, one, 4), 0);
	fw_cfg_free(fc);
}

/* Reads one FWCfgFile entry of the directory by port (after the count). */
struct dir_entry { uint32_t size; uint16_t select; uint16_t reserved; char name[56]; };

static void read_entry(struct fw_cfg *fc, struct dir_entry *e)
{
	uint8_t raw[64];

	read_port(fc, raw, sizeof(raw));
	e->size = (uint32_t)be(raw, 4);
	e->select = (uint16_t)be(raw + 4, 2);
	e->reserved = (uint16_t)be(raw + 6, 2);
	memcpy(e->name, raw + 8, sizeof(e->name));
}

static void test_file_dir_sorted_big_endian(void **state)
{
	static const char *const names[] = { "etc/e820", "bootorder", "opt/z", "etc/boot-fail-wait" };
	static const char *const sorted[] = { "bootorder", "etc/boot-fail-wait", "etc/e820", "opt/z" };
	static const uint16_t keys[] = { 0x21, 0x23, 0x20, 0x22 };	/* of sorted[] */
	static const uint32_t sizes[] = { 10, 4, 300, 0 };		/* of sorted[] */
	struct fw_cfg *fc = new_fc();
	uint8_t blob[300] = { 0 }, cnt[4];
	struct dir_entry e;
	char want[56];
	unsigned int i;

	(void)state;
	assert_int_equal(fw_cfg_add_file(fc, names[0], blob, 300), 0x20);
	assert_int_equal(fw_cfg_add_file(fc, names[1], blob, 10), 0x21);
	assert_int_equal(fw_cfg_add_file(fc, names[2], NULL, 0), 0x22);
	assert_int_equal(fw_cfg_add_file(fc, names[3], blob, 4), 0x23);
	sel(fc, FW_CFG_FILE_DIR);
	read_port(fc, cnt, 4);
	assert_int_equal(be(cnt, 4), 4);
	for (i = 0; i < 4; i++) {
		read_entry(fc, &e);
		memset(want, 0, sizeof(want));
		strcpy(want, sorted[i]);
		assert_memory_equal(e.name, want, sizeof(want));	/* NUL-padded */
		assert_int_equal(e.select, keys[i]);
		assert_int_equal(e.size, sizes[i]);
		assert_int_equal(e.reserved, 0);
	}
	assert_int_equal(inb_data(fc), 0);			/* the directory ends there */
	fw_cfg_free(fc);
}

static void test_empty_file_dir(void **state)
{
	struct fw_cfg *fc = new_fc();
	uint8_t cnt[5];

	(void)state;
	sel(fc, FW_CFG_FILE_DIR);
	read_port(fc, cnt, 5);
	assert_memory_equal(cnt, "\0\0\0\0\0", 5);
	assert_int_equal(fw_cfg_add_bytes(fc, FW_CFG_FILE_DIR, cnt, 4), -EINVAL);
	fw_cfg_free(fc);
}

static void test_select_file_by_key(void **state)
{
	struct fw_cfg *fc = new_fc();
	uint8_t b[12];
	int k1, k2;

	(void)state;
	k1 = fw_cfg_add_file(fc, "bootorder", "/pci@i0cf8/*@4\n", 16);
	k2 = fw_cfg_add_file(fc, "etc/boot-fail-wait", "\x10\x27\0\0", 4);
	assert_true(k1 >= FW_CFG_FILE_FIRST && k2 >= FW_CFG_FILE_FIRST && k1 != k2);
	sel(fc, (uint16_t)k1);
	read_port(fc, b, 12);
	assert_memory_equal(b, "/pci@i0cf8/*", 12);
	sel(fc, (uint16_t)k2);
	read_port(fc, b, 4);
	assert_int_equal(le(b, 4), 10000);
	/* Selecting again rewinds. */
	sel(fc, (uint16_t)k1);
	assert_int_equal(inb_data(fc), '/');
	fw_cfg_free(fc);
}

static void test_reads_past_end_and_unknown_keys(void **state)
{
	static const uint16_t unknown[] = { 0x02, 0x1f, 0x20, 0x5f, 0x3fff, 0x8003, 0x800f, 0x8010, 0xffff };
	struct fw_cfg *fc = new_fc();
	uint8_t b[4];
	unsigned int i;

	(void)state;
	assert_int_equal(fw_cfg_add_bytes(fc, FW_CFG_NOGRAPHIC, "\x01\x02", 2), 0);
	sel(fc, FW_CFG_NOGRAPHIC);
	read_port(fc, b, 4);
	assert_memory_equal(b, "\x01\x02\x00\x00", 4);
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		sel(fc, unknown[i]);
		b[0] = 0xff;
		read_port(fc, b, 1);
		assert_int_equal(b[0], 0);
	}
	fw_cfg_free(fc);
}

static void test_wide_reads_and_ignored_accesses(void **state)
{
	struct fw_cfg *fc = new_fc();
	uint8_t b[4] = { 0xff, 0xff, 0xff, 0xff };

	(void)state;
	sel(fc, FW_CFG_SIGNATURE);
	/* A 2-byte read of the data port: two successive bytes. */
	fw_cfg_io_pio(fc, 1, false, b, 2);
	assert_memory_equal(b, "QE", 2);
	/* Reads of the selector: zeros, no effect on the offset. */
	memset(b, 0xff, sizeof(b));
	fw_cfg_io_pio(fc, 0, false, b, 2);
	assert_memory_equal(b, "\0\0", 2);
	fw_cfg_io_pio(fc, 0, false, b, 1);
	assert_int_equal(b[0], 0);
	/* Writes to the data port and byte writes to the selector: ignored. */
	b[0] = FW_CFG_ID;
	fw_cfg_io_pio(fc, 1, true, b, 1);
	fw_cfg_io_pio(fc, 0, true, b, 1);
	fw_cfg_io_pio(fc, 0, true, b, 4);
	assert_int_equal(inb_data(fc), 'M');
	assert_int_equal(inb_data(fc), 'U');
	assert_int_equal(stats(fc).selects, 1);
	/* An access beyond the two ports (not routed by the bus) does not crash. */
	fw_cfg_io_pio(fc, 5, false, b, 4);
	assert_memory_equal(b, "\0\0\0\0", 4);
	fw_cfg_free(fc);
}

/* ---- DMA ---- */

static void test_dma_signature(void **state)
{
	struct fw_cfg *fc = new_fc();
	uint8_t b[8];

	(void)state;
	fw_cfg_dma_pio(fc, 0, false, b, 8);
	assert_int_equal(be(b, 8), FW_CFG_DMA_SIGNATURE);
	memset(b, 0, sizeof(b));
	fw_cfg_dma_pio(fc, 0, false, b, 4);
	fw_cfg_dma_pio(fc, 4, false, b + 4, 4);
	assert_memory_equal(b, "QEMU CFG", 8);
	/* A byte read at 0x517 and a read hanging past the end. */
	fw_cfg_dma_pio(fc, 3, false, b, 1);
	assert_int_equal(b[0], 'U');
	fw_cfg_dma_pio(fc, 6, false, b, 4);
	assert_memory_equal(b, "FG\0\0", 4);
	assert_int_equal(stats(fc).dma_ops, 0);
	fw_cfg_free(fc);
}

static void test_dma_select_read(void **state)
{
	struct fw_cfg *fc = new_fc();
	struct fw_cfg_stats s;
	int key;

	(void)state;
	key = fw_cfg_add_file(fc, "etc/e820", "0123456789", 10);
	assert_true(key > 0);
	/* 14 bytes of a 10-byte item: QEMU fills the rest with zeros. */
	assert_int_equal(dma(fc, sel_ctl((uint16_t)key) | FW_CFG_DMA_CTL_READ, 14, BUF_GPA), 0);
	assert_memory_equal(ram(BUF_GPA, 15), "0123456789\0\0\0\0\xa5", 15);
	s = stats(fc);
	assert_int_equal(s.dma_ops, 1);
	assert_int_equal(s.dma_bytes, 14);
	assert_int_equal(s.dma_errors, 0);
	assert_int_equal(s.selects, 1);
	/* The other fields of the descriptor are left alone. */
	assert_int_equal(be(ram(DESC_GPA + 4, 4), 4), 14);
	/* Reading on, past the end: zeros, still success. */
	assert_int_equal(dma(fc, FW_CFG_DMA_CTL_READ, 2, BUF_GPA), 0);
	assert_memory_equal(ram(BUF_GPA, 3), "\0\0" "2", 3);
	fw_cfg_free(fc);
}

/* SeaBIOS detects by port, then reads the directory by DMA, one count and then one entry at a time. */
static void test_dma_continues_where_port_left(void **state)
{
	struct fw_cfg *fc = new_fc();
	int key;

	(void)state;
	key = fw_cfg_add_file(fc, "etc/table-loader", "x", 1);
	sel(fc, FW_CFG_SIGNATURE);
	assert_int_equal(inb_data(fc), 'Q');
	assert_int_equal(dma(fc, FW_CFG_DMA_CTL_READ, 3, BUF_GPA), 0);
	assert_memory_equal(ram(BUF_GPA, 3), "EMU", 3);
	assert_int_equal(dma(fc, sel_ctl(FW_CFG_FILE_DIR) | FW_CFG_DMA_CTL_READ, 4, BUF_GPA), 0);
	assert_int_equal(be(ram(BUF_GPA, 4), 4), 1);
	assert_int_equal(dma(fc, FW_CFG_DMA_CTL_READ, 64, BUF_GPA), 0);
	assert_int_equal(be(ram(BUF_GPA, 4), 4), 1);
	assert_int_equal(be(ram(BUF_GPA + 4, 2), 2), key);
	assert_string_equal((const char *)ram(BUF_GPA + 8, 56), "etc/table-loader");
	fw_cfg_free(fc);
}

static void test_dma_skip(void **state)
{
	struct fw_cfg *fc = new_fc();
	int key;

	(void)state;
	key = fw_cfg_add_file(fc, "opt/data", "abcdefgh", 8);
	/* SeaBIOS skips with address 0: nothing is written there. */
	assert_int_equal(dma(fc, sel_ctl((uint16_t)key) | FW_CFG_DMA_CTL_SKIP, 3, 0), 0);
	assert_int_equal(*ram(0, 1), FILL);
	assert_int_equal(dma(fc, FW_CFG_DMA_CTL_READ, 2, BUF_GPA), 0);
	assert_memory_equal(ram(BUF_GPA, 2), "de", 2);
	/* Skipping past the end stops there. */
	assert_int_equal(dma(fc, FW_CFG_DMA_CTL_SKIP, 100, 0), 0);
	assert_int_equal(dma(fc, FW_CFG_DMA_CTL_READ, 1, BUF_GPA), 0);
	assert_int_equal(*ram(BUF_GPA, 1), 0);
	assert_int_equal(stats(fc).dma_bytes, 3);
	fw_cfg_free(fc);
}

static void test_dma_select_only_and_zero_length(void **state)
{
	struct fw_cfg *fc = new_fc();

	(void)state;
	assert_int_equal(dma(fc, sel_ctl(FW_CFG_SIGNATURE), 4, BUF_GPA), 0);
	assert_int_equal(*ram(BUF_GPA, 1), FILL);
	assert_int_equal(inb_data(fc), 'Q');
	/* A zero-length read needs no buffer at all. */
	assert_int_equal(dma(fc, FW_CFG_DMA_CTL_READ, 0, 0xdead00000000ULL), 0);
	assert_int_equal(inb_data(fc), 'E');
	assert_int_equal(stats(fc).dma_errors, 0);
	fw_cfg_free(fc);
}

static void test_dma_write_is_error(void **state)
{
	struct fw_cfg *fc = new_fc();
	int key;

	(void)state;
	key = fw_cfg_add_file(fc, "etc/vmgenid_addr", "\0\0\0\0\0\0\0\0", 8);
	memcpy(ram(BUF_GPA, 8), "ABCDEFGH", 8);
	/* Exactly the error bit: SeaBIOS spins while any other bit is set. */
	assert_int_equal(dma(fc, sel_ctl((uint16_t)key) | FW_CFG_DMA_CTL_WRITE, 8, BUF_GPA),
			 FW_CFG_DMA_CTL_ERROR);
	sel(fc, (uint16_t)key);
	assert_int_equal(inb_data(fc), 0);
	assert_int_equal(stats(fc).dma_errors, 1);
	/* READ wins over WRITE, as in QEMU. */
	assert_int_equal(dma(fc, sel_ctl(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ | FW_CFG_DMA_CTL_WRITE,
			     4, BUF_GPA), 0);
	assert_memory_equal(ram(BUF_GPA, 4), "QEMU", 4);
	fw_cfg_free(fc);
}

static void test_dma_descriptor_outside_ram(void **state)
{
	struct fw_cfg *fc = new_fc();
	uint64_t straddle = RAM_SIZE - 8;	/* control and length in RAM, address not */
	uint8_t d[8];

	(void)state;
	kick_low(fc, 0xfff00000);		/* nothing there */
	kick_low(fc, 0xfffffff8);		/* and wrapping past 4 GiB */
	kick_high(fc, 0xffffffff);
	kick_low(fc, 0xfffffff8);		/* and past 2^64 */
	put_be(d, sel_ctl(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4);
	put_be(d + 4, 4, 4);
	assert_int_equal(gm_write(&gm, straddle, d, 8), 0);
	kick_low(fc, (uint32_t)straddle);
	/* Nothing was read or written: not even the control word. */
	assert_memory_equal(ram(straddle, 8), d, 8);
	assert_int_equal(stats(fc).dma_ops, 4);
	assert_int_equal(stats(fc).dma_errors, 4);
	assert_int_equal(stats(fc).selects, 0);
	fw_cfg_free(fc);
}

static void test_dma_buffer_outside_ram(void **state)
{
	struct fw_cfg *fc = new_fc();

	(void)state;
	assert_int_equal(dma(fc, sel_ctl(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4, 0x80000000ULL),
			 FW_CFG_DMA_CTL_ERROR);
	/* Straddling the end of RAM: refused whole, nothing copied. */
	assert_int_equal(dma(fc, sel_ctl(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4, RAM_SIZE - 2),
			 FW_CFG_DMA_CTL_ERROR);
	assert_memory_equal(ram(RAM_SIZE - 2, 2), "\xa5\xa5", 2);
	/* address + length wrapping around 2^64. */
	assert_int_equal(dma(fc, sel_ctl(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 0x200,
			     0xffffffffffffff00ULL), FW_CFG_DMA_CTL_ERROR);
	/* Longer than all of RAM. */
	assert_int_equal(dma(fc, FW_CFG_DMA_CTL_READ, 0xffffffffU, 0), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(stats(fc).dma_errors, 4);
	assert_int_equal(stats(fc).dma_bytes, 0);
	/* The item was not consumed by the failed transfers. */
	sel(fc, FW_CFG_SIGNATURE);
	assert_int_equal(dma(fc, FW_CFG_DMA_CTL_READ, 4, BUF_GPA), 0);
	assert_memory_equal(ram(BUF_GPA, 4), "QEMU", 4);
	fw_cfg_free(fc);
}

static void test_dma_64bit_addresses(void **state)
{
	struct fw_cfg *fc = new_fc();
	uint8_t b[8];

	(void)state;
	/* Descriptor above 4 GiB: high half first, then the low half starts it. */
	put_desc(HIGH_GPA + 0x100, sel_ctl(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4, HIGH_GPA + 0x200);
	kick_high(fc, (uint32_t)(HIGH_GPA >> 32));
	kick_low(fc, 0x100);
	assert_int_equal(be(high + 0x100, 4), 0);
	assert_memory_equal(high + 0x200, "QEMU", 4);
	/* The register is 0 after an operation: a low write alone means below 4 GiB. */
	assert_int_equal(dma(fc, sel_ctl(FW_CFG_ID) | FW_CFG_DMA_CTL_READ, 4, BUF_GPA), 0);
	assert_int_equal(le(ram(BUF_GPA, 4), 4), 3);
	/* One 8-byte write at 0x514 (possible on MMIO, not with OUT). */
	put_desc(HIGH_GPA + 0x100, sel_ctl(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 2, HIGH_GPA + 0x300);
	put_be(b, HIGH_GPA + 0x100, 8);
	fw_cfg_dma_pio(fc, 0, true, b, 8);
	assert_int_equal(be(high + 0x100, 4), 0);
	assert_memory_equal(high + 0x300, "QE", 2);
	assert_int_equal(stats(fc).dma_ops, 3);
	fw_cfg_free(fc);
}

static void test_dma_other_writes_ignored(void **state)
{
	struct fw_cfg *fc = new_fc();
	uint8_t b[8] = { 0 };

	(void)state;
	put_desc(0, sel_ctl(FW_CFG_SIGNATURE) | FW_CFG_DMA_CTL_READ, 4, BUF_GPA);
	fw_cfg_dma_pio(fc, 4, true, b, 1);
	fw_cfg_dma_pio(fc, 4, true, b, 2);
	fw_cfg_dma_pio(fc, 6, true, b, 2);
	fw_cfg_dma_pio(fc, 2, true, b, 4);
	fw_cfg_dma_pio(fc, 4, true, b, 8);
	assert_int_equal(stats(fc).dma_ops, 0);
	assert_int_equal(*ram(BUF_GPA, 1), FILL);
	fw_cfg_free(fc);
}

static void test_dma_without_guest_memory(void **state)
{
	struct fw_cfg *fc = fw_cfg_new(NULL);
	uint8_t b[4] = { 0, 0, 0x10, 0 };
	uint8_t sig[4];

	(void)state;
	assert_non_null(fc);
	fw_cfg_dma_pio(fc, 4, true, b, 4);
	assert_int_equal(stats(fc).dma_errors, 1);
	sel(fc, FW_CFG_SIGNATURE);
	read_port(fc, sig, 4);
	assert_memory_equal(sig, "QEMU", 4);
	fw_cfg_free(fc);
}

/* ---- adding items ---- */

static void test_bad_names_and_keys(void **state)
{
	struct fw_cfg *fc = new_fc();
	char name[64];

	(void)state;
	assert_int_equal(fw_cfg_add_file(fc, "bootorder", "a", 1), FW_CFG_FILE_FIRST);
	assert_int_equal(fw_cfg_add_file(fc, "bootorder", "b", 1), -EINVAL);	/* duplicate */
	assert_int_equal(fw_cfg_add_file(fc, "", "b", 1), -EINVAL);
	assert_int_equal(fw_cfg_add_file(fc, NULL, "b", 1), -EINVAL);
	assert_int_equal(fw_cfg_add_file(fc, "opt/x", NULL, 1), -EINVAL);
	assert_int_equal(fw_cfg_add_file(NULL, "opt/x", "b", 1), -EINVAL);
	memset(name, 'n', sizeof(name));
	name[56] = '\0';
	assert_int_equal(fw_cfg_add_file(fc, name, "b", 1), -EINVAL);	/* 56 bytes */
	name[55] = '\0';
	assert_int_equal(fw_cfg_add_file(fc, name, "b", 1), FW_CFG_FILE_FIRST + 1);
	assert_int_equal(fw_cfg_add_bytes(fc, FW_CFG_FILE_FIRST, "b", 1), -EINVAL);
	assert_int_equal(fw_cfg_add_bytes(fc, FW_CFG_ARCH_LOCAL, "b", 1), -EINVAL);
	assert_int_equal(fw_cfg_add_bytes(fc, FW_CFG_UUID, NULL, 16), -EINVAL);
	assert_int_equal(fw_cfg_add_bytes(fc, FW_CFG_UUID, NULL, 0), 0);
	assert_int_equal(fw_cfg_add_number(NULL, &(struct fw_cfg_number){ FW_CFG_NB_CPUS, NULL, 1, 2 }), -EINVAL);
	assert_int_equal(fw_cfg_add_number(fc, &(struct fw_cfg_number){ FW_CFG_NB_CPUS, NULL, 1, 0 }), -EINVAL);
	assert_int_equal(fw_cfg_add_number(fc, &(struct fw_cfg_number){ FW_CFG_NB_CPUS, NULL, 1, 9 }), -EINVAL);
	/* The refused ones left no trace in the directory. */
	sel(fc, FW_CFG_FILE_DIR);
	assert_int_equal(inb_data(fc), 0);
	assert_int_equal(inb_data(fc), 0);
	assert_int_equal(inb_data(fc), 0);
	assert_int_equal(inb_data(fc), 2);
	fw_cfg_free(fc);
}

static void test_too_many_files(void **state)
{
	struct fw_cfg *fc = new_fc();
	char name[16], prev[57] = "";
	struct dir_entry e;
	uint8_t cnt[4];
	unsigned int i;

	(void)state;
	/* Added in reverse name order, so every insertion goes to the front. */
	for (i = 0; i < FW_CFG_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "opt/f%02u", FW_CFG_MAX_FILES - 1 - i);
		assert_int_equal(fw_cfg_add_file(fc, name, name, (uint32_t)strlen(name)),
				 FW_CFG_FILE_FIRST + (int)i);
	}
	assert_int_equal(fw_cfg_add_file(fc, "opt/one-more", "x", 1), -ENOSPC);
	sel(fc, FW_CFG_FILE_DIR);
	read_port(fc, cnt, 4);
	assert_int_equal(be(cnt, 4), FW_CFG_MAX_FILES);
	for (i = 0; i < FW_CFG_MAX_FILES; i++) {
		read_entry(fc, &e);
		assert_true(strcmp(prev, e.name) < 0);
		memcpy(prev, e.name, sizeof(e.name));
		prev[56] = '\0';
		assert_int_equal(e.select, FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES - 1 - i);
		assert_int_equal(e.size, 7);
	}
	/* Each key still names its own file. */
	sel(fc, FW_CFG_FILE_FIRST);
	read_port(fc, (uint8_t *)name, 7);
	assert_memory_equal(name, "opt/f63", 7);
	fw_cfg_free(fc);
}

/* ---- threads: each SELECT+READ transfer is atomic under the device lock ---- */

#define NR_THREADS	4
#define NR_ROUNDS	2000

struct worker {
	struct fw_cfg *fc;
	uint16_t key;
	uint8_t expect;
	uint64_t desc;
	bool ok;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t buf = w->desc + 0x40;
	uint8_t b[4];
	unsigned int i;

	w->ok = true;
	for (i = 0; i < NR_ROUNDS && w->ok; i++) {
		put_desc(w->desc, (uint32_t)w->key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
			 32, buf);
		put_be(b, (uint32_t)w->desc, 4);
		fw_cfg_dma_pio(w->fc, 4, true, b, 4);
		w->ok = be(gm_ptr(&gm, w->desc, 4), 4) == 0 &&
			((const uint8_t *)gm_ptr(&gm, buf, 32))[31] == w->expect;
		/* And some port traffic in between, moving the shared offset. */
		sel(w->fc, FW_CFG_SIGNATURE);
		(void)inb_data(w->fc);
	}
	return NULL;
}

static void test_concurrent_vcpus(void **state)
{
	struct fw_cfg *fc = new_fc();
	struct worker w[NR_THREADS];
	pthread_t t[NR_THREADS];
	uint8_t data[32];
	unsigned int i;
	char name[16];

	(void)state;
	for (i = 0; i < NR_THREADS; i++) {
		memset(data, 0x10 + (int)i, sizeof(data));
		snprintf(name, sizeof(name), "opt/t%u", i);
		w[i] = (struct worker){ .fc = fc, .expect = (uint8_t)(0x10 + i),
					.desc = 0x10000 + i * 0x1000 };
		w[i].key = (uint16_t)fw_cfg_add_file(fc, name, data, sizeof(data));
	}
	for (i = 0; i < NR_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	for (i = 0; i < NR_THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_true(w[i].ok);
	}
	assert_int_equal(stats(fc).dma_ops, NR_THREADS * NR_ROUNDS);
	assert_int_equal(stats(fc).dma_errors, 0);
	fw_cfg_free(fc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_by_port),
		cmocka_unit_test(test_id_has_dma_bit),
		cmocka_unit_test(test_int_items_little_endian),
		cmocka_unit_test(test_arch_item),
		cmocka_unit_test(test_file_dir_sorted_big_endian),
		cmocka_unit_test(test_empty_file_dir),
		cmocka_unit_test(test_select_file_by_key),
		cmocka_unit_test(test_reads_past_end_and_unknown_keys),
		cmocka_unit_test(test_wide_reads_and_ignored_accesses),
		cmocka_unit_test(test_dma_signature),
		cmocka_unit_test(test_dma_select_read),
		cmocka_unit_test(test_dma_continues_where_port_left),
		cmocka_unit_test(test_dma_skip),
		cmocka_unit_test(test_dma_select_only_and_zero_length),
		cmocka_unit_test(test_dma_write_is_error),
		cmocka_unit_test(test_dma_descriptor_outside_ram),
		cmocka_unit_test(test_dma_buffer_outside_ram),
		cmocka_unit_test(test_dma_64bit_addresses),
		cmocka_unit_test(test_dma_other_writes_ignored),
		cmocka_unit_test(test_dma_without_guest_memory),
		cmocka_unit_test(test_bad_names_and_keys),
		cmocka_unit_test(test_too_many_files),
		cmocka_unit_test(test_concurrent_vcpus),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
