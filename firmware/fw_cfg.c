/* fw_cfg.c: QEMU's fw_cfg device: the items firmware (SeaBIOS) reads by port or by DMA. */
#include "firmware/fw_cfg.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hv/base/bytes.h"
#include "hv/base/log.h"
#include "hv/base/trace.h"

/* Selector bits, fw_cfg.rst "Selector (Control) Register". */
#define FW_CFG_WRITE_CHANNEL	0x4000	/* ignored since QEMU 2.4 */
#define FW_CFG_INDEX_MASK	0x3fff

/* Generic items: the fixed keys, then one per file. */
#define FW_CFG_NR_GENERIC	(FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES)

/* Port offsets inside the two ranges. */
#define IO_OFF_SEL		0
#define IO_OFF_DATA		1
#define DMA_OFF_HIGH		0
#define DMA_OFF_LOW		4

/* FWCfgFiles, fw_cfg.rst "File Directory": be32 count, then 64-byte FWCfgFile entries. */
#define DIR_COUNT_SIZE		4
#define DIR_ENTRY_SIZE		64
#define DIR_ENTRY_SIZE_OFF	0	/* be32 */
#define DIR_ENTRY_SELECT_OFF	4	/* be16 */
#define DIR_ENTRY_NAME_OFF	8	/* char[56], after be16 reserved */

/* FWCfgDmaAccess, fw_cfg.rst "Guest-side DMA Interface": all fields big-endian. */
#define DMA_ACCESS_SIZE		16
#define DMA_CONTROL_OFF		0	/* be32 */
#define DMA_LENGTH_OFF		4	/* be32 */
#define DMA_ADDRESS_OFF		8	/* be64 */

static const uint8_t fw_cfg_sig[4] = { 'Q', 'E', 'M', 'U' };
static const uint8_t fw_cfg_dma_sig[FW_CFG_DMA_LEN] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };

struct fw_cfg_item {
	uint8_t *data;		/* NULL when len is 0 */
	uint32_t len;
};

struct fw_cfg {
	pthread_mutex_t lock;		/* everything below */
	const struct guest_mem *gm;
	struct fw_cfg_item generic[FW_CFG_NR_GENERIC];
	struct fw_cfg_item arch[FW_CFG_ARCH_NR];
	/* File i has key FW_CFG_FILE_FIRST + i and item generic[FW_CFG_FILE_FIRST + i]. */
	char file_name[FW_CFG_MAX_FILES][FW_CFG_FILE_NAME_SIZE];
	unsigned int nr_files;
	struct fw_cfg_item *cur;	/* the selected item; NULL: a key without one */
	uint32_t cur_offset;		/* never beyond cur->len */
	uint64_t dma_addr;		/* the DMA address register */
	struct fw_cfg_stats stats;
	struct hv_ratelimit log;
};

/* ---- items ---- */

static struct fw_cfg_item *fw_cfg_lookup(struct fw_cfg *fc, uint16_t key)
{
	uint16_t index = key & FW_CFG_INDEX_MASK;

	if (key & FW_CFG_ARCH_LOCAL)
		return index < FW_CFG_ARCH_NR ? &fc->arch[index] : NULL;
	return index < FW_CFG_NR_GENERIC ? &fc->generic[index] : NULL;
}

/* Takes ownership of data (len bytes, NULL when len is 0); frees the old contents. */
static void fw_cfg_item_set(struct fw_cfg *fc, struct fw_cfg_item *it, uint8_t *data, uint32_t len)
{
	free(it->data);
	it->data = data;
	it->len = len;
	if (fc->cur == it && fc->cur_offset > len)
		fc->cur_offset = len;
}

/* A private copy of the caller's bytes: 0, -EINVAL (NULL with len > 0) or -ENOMEM. */
static int fw_cfg_copy(const void *data, uint32_t len, uint8_t **out)
{
	*out = NULL;
	if (!len)
		return 0;
	if (!data)
		return -EINVAL;
	*out = malloc(len);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, data, len);
	return 0;
}

static int fw_cfg_set_key(struct fw_cfg *fc, uint16_t key, const void *data, uint32_t len)
{
	uint8_t *copy;
	int ret = fw_cfg_copy(data, len, &copy);

	if (ret)
		return ret;
	pthread_mutex_lock(&fc->lock);
	fw_cfg_item_set(fc, fw_cfg_lookup(fc, key), copy, len);
	pthread_mutex_unlock(&fc->lock);
	return 0;
}

int fw_cfg_add_bytes(struct fw_cfg *fc, uint16_t key, const void *data, uint32_t len)
{
	if (!fc || key >= FW_CFG_FILE_FIRST || key == FW_CFG_FILE_DIR)
		return -EINVAL;
	return fw_cfg_set_key(fc, key, data, len);
}

int fw_cfg_add_arch_bytes(struct fw_cfg *fc, uint16_t key, const void *data, uint32_t len)
{
	if (!fc || key < FW_CFG_ARCH_LOCAL || key >= FW_CFG_ARCH_LOCAL + FW_CFG_ARCH_NR)
		return -EINVAL;
	return fw_cfg_set_key(fc, key, data, len);
}

int fw_cfg_add_number(struct fw_cfg *fc, const struct fw_cfg_number *n)
{
	uint8_t b[8];

	if (!n || n->width < 1 || n->width > sizeof(b))
		return -EINVAL;
	put_le(b, n->value, n->width);
	if (n->name)
		return fw_cfg_add_file(fc, n->name, b, n->width);
	if (n->key >= FW_CFG_ARCH_LOCAL)
		return fw_cfg_add_arch_bytes(fc, n->key, b, n->width);
	return fw_cfg_add_bytes(fc, n->key, b, n->width);
}

/* ---- files and their directory ---- */

/* Fills order[0..nr_files) with file indices sorted by name, as QEMU keeps its directory. */
static void fw_cfg_sort_files(const struct fw_cfg *fc, unsigned int *order)
{
	unsigned int i, j;

	for (i = 0; i < fc->nr_files; i++) {
		for (j = i; j > 0 && strcmp(fc->file_name[order[j - 1]], fc->file_name[i]) > 0; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
}

/* Rebuilds FW_CFG_FILE_DIR from the files (fw_cfg.rst "File Directory").  0 or -ENOMEM. */
static int fw_cfg_build_dir(struct fw_cfg *fc)
{
	unsigned int order[FW_CFG_MAX_FILES];
	uint32_t len = DIR_COUNT_SIZE + fc->nr_files * DIR_ENTRY_SIZE;
	uint8_t *dir = calloc(1, len);
	unsigned int i;

	if (!dir)
		return -ENOMEM;
	fw_cfg_sort_files(fc, order);
	put_be(dir, fc->nr_files, 4);
	for (i = 0; i < fc->nr_files; i++) {
		uint8_t *e = dir + DIR_COUNT_SIZE + i * DIR_ENTRY_SIZE;
		unsigned int f = order[i];

		put_be(e + DIR_ENTRY_SIZE_OFF, fc->generic[FW_CFG_FILE_FIRST + f].len, 4);
		put_be(e + DIR_ENTRY_SELECT_OFF, FW_CFG_FILE_FIRST + f, 2);
		/* file_name[] is NUL-padded to FW_CFG_FILE_NAME_SIZE bytes. */
		memcpy(e + DIR_ENTRY_NAME_OFF, fc->file_name[f], FW_CFG_FILE_NAME_SIZE);
	}
	fw_cfg_item_set(fc, &fc->generic[FW_CFG_FILE_DIR], dir, len);
	return 0;
}

static bool fw_cfg_name_ok(const struct fw_cfg *fc, const char *name)
{
	size_t n;
	unsigned int i;

	if (!name)
		return false;
	n = strnlen(name, FW_CFG_FILE_NAME_SIZE);
	if (n == 0 || n == FW_CFG_FILE_NAME_SIZE)
		return false;
	for (i = 0; i < fc->nr_files; i++)
		if (!strcmp(fc->file_name[i], name))
			return false;
	return true;
}

/* Called with the lock held and the name checked. */
static int fw_cfg_insert_file(struct fw_cfg *fc, const char *name, uint8_t *data, uint32_t len)
{
	unsigned int f = fc->nr_files;
	struct fw_cfg_item *it = &fc->generic[FW_CFG_FILE_FIRST + f];
	int ret;

	memset(fc->file_name[f], 0, FW_CFG_FILE_NAME_SIZE);
	strcpy(fc->file_name[f], name);		/* fits: fw_cfg_name_ok() */
	it->data = data;
	it->len = len;
	fc->nr_files++;
	ret = fw_cfg_build_dir(fc);
	if (ret) {
		/* Undo, leaving the old directory; the caller frees data. */
		fc->nr_files--;
		it->data = NULL;
		it->len = 0;
		return ret;
	}
	return FW_CFG_FILE_FIRST + (int)f;
}

int fw_cfg_add_file(struct fw_cfg *fc, const char *name, const void *data, uint32_t len)
{
	uint8_t *copy;
	int ret;

	if (!fc)
		return -EINVAL;
	ret = fw_cfg_copy(data, len, &copy);
	if (ret)
		return ret;
	pthread_mutex_lock(&fc->lock);
	if (!fw_cfg_name_ok(fc, name))
		ret = -EINVAL;
	else if (fc->nr_files == FW_CFG_MAX_FILES)
		ret = -ENOSPC;
	else
		ret = fw_cfg_insert_file(fc, name, copy, len);
	pthread_mutex_unlock(&fc->lock);
	if (ret < 0)
		free(copy);
	else
		HV_TRACE(HV_TRACE_BOOT, "fw_cfg: file %s (%u bytes) at key 0x%x", name, len, (unsigned int)ret);
	return ret;
}

/* ---- life cycle ---- */

struct fw_cfg *fw_cfg_new(const struct guest_mem *gm)
{
	struct fw_cfg *fc = calloc(1, sizeof(*fc));
	uint8_t id[4];

	if (!fc)
		return NULL;
	pthread_mutex_init(&fc->lock, NULL);
	fc->gm = gm;
	put_le(id, FW_CFG_VERSION_TRADITIONAL | FW_CFG_VERSION_DMA, sizeof(id));
	if (fw_cfg_add_bytes(fc, FW_CFG_SIGNATURE, fw_cfg_sig, sizeof(fw_cfg_sig)) ||
	    fw_cfg_add_bytes(fc, FW_CFG_ID, id, sizeof(id)) ||
	    fw_cfg_build_dir(fc)) {
		fw_cfg_free(fc);
		return NULL;
	}
	return fc;
}

void fw_cfg_free(struct fw_cfg *fc)
{
	unsigned int i;

	if (!fc)
		return;
	for (i = 0; i < FW_CFG_NR_GENERIC; i++)
		free(fc->generic[i].data);
	for (i = 0; i < FW_CFG_ARCH_NR; i++)
		free(fc->arch[i].data);
	pthread_mutex_destroy(&fc->lock);
	free(fc);
}

void fw_cfg_get_stats(struct fw_cfg *fc, struct fw_cfg_stats *out)
{
	pthread_mutex_lock(&fc->lock);
	*out = fc->stats;
	pthread_mutex_unlock(&fc->lock);
}

/* ---- the selector and the data port ---- */

/* fw_cfg.rst: selecting rewinds the offset; a key without an item reads as zeros. */
static void fw_cfg_select(struct fw_cfg *fc, uint16_t key)
{
	fc->cur = fw_cfg_lookup(fc, key);
	fc->cur_offset = 0;
	fc->stats.selects++;
	HV_TRACE(HV_TRACE_BOOT, "fw_cfg: select 0x%04x (%u bytes)", key, fc->cur ? fc->cur->len : 0);
}

/* Bytes left in the selected item from the current offset. */
static uint32_t fw_cfg_left(const struct fw_cfg *fc)
{
	return fc->cur ? fc->cur->len - fc->cur_offset : 0;
}

/* fw_cfg.rst "Data Register": past the end of the item, reads return 0x00. */
static uint8_t fw_cfg_next_byte(struct fw_cfg *fc)
{
	if (!fw_cfg_left(fc))
		return 0;
	return fc->cur->data[fc->cur_offset++];
}

bool fw_cfg_io_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct fw_cfg *fc = opaque;
	unsigned int i;

	pthread_mutex_lock(&fc->lock);
	if (is_write) {
		/*
		 * GUEST: only a 16-bit write to the selector does anything; data
		 * port writes are ignored (fw_cfg.rst: since QEMU 2.4).
		 */
		if (offset == IO_OFF_SEL && size == 2)
			fw_cfg_select(fc, (uint16_t)(data[0] | data[1] << 8));
	} else if (offset == IO_OFF_DATA) {
		/* fw_cfg.rst: an N-byte read returns the next N bytes, like memcpy(). */
		for (i = 0; i < size; i++)
			data[i] = fw_cfg_next_byte(fc);
		fc->stats.io_bytes += size;
	} else {
		/* The selector is write-only: reads give zeros and change nothing. */
		memset(data, 0, size);
	}
	pthread_mutex_unlock(&fc->lock);
	return true;
}

/* ---- DMA (fw_cfg.rst "Guest-side DMA Interface") ---- */

/* A guest can cause these at will: rate-limited. */
static void fw_cfg_dma_refuse(struct fw_cfg *fc, uint64_t desc, const char *why, uint64_t gpa, uint32_t len)
{
	HV_TRACE(HV_TRACE_BOOT, "fw_cfg: DMA at 0x%llx refused: %s [0x%llx, +%u)",
		 (unsigned long long)desc, why, (unsigned long long)gpa, len);
	hv_warn_limited(&fc->log, "fw_cfg", "fw_cfg: DMA at 0x%llx refused: %s [0x%llx, +%u)",
			(unsigned long long)desc, why, (unsigned long long)gpa, len);
}

/* READ: length bytes from the current offset to gpa; zeros past the end of the item, as QEMU. */
static uint32_t fw_cfg_dma_read(struct fw_cfg *fc, uint64_t desc, uint64_t gpa, uint32_t length)
{
	uint32_t n = fw_cfg_left(fc);
	uint8_t *dst;

	if (!length)
		return 0;
	/* GUEST: the whole buffer must be guest RAM before a byte is copied. */
	dst = gm_ptr(fc->gm, gpa, length);
	if (!dst) {
		fw_cfg_dma_refuse(fc, desc, "buffer not in guest RAM", gpa, length);
		return FW_CFG_DMA_CTL_ERROR;
	}
	if (n > length)
		n = length;
	if (n)
		memcpy(dst, fc->cur->data + fc->cur_offset, n);
	memset(dst + n, 0, length - n);
	fc->cur_offset += n;
	fc->stats.dma_bytes += length;
	return 0;
}

/*
 * Runs one FWCfgDmaAccess (already copied out of the guest): select, then
 * read, write or skip, in QEMU's order of precedence (READ over WRITE over
 * SKIP).  Returns the control word to report: 0 or FW_CFG_DMA_CTL_ERROR.
 */
static uint32_t fw_cfg_dma_run(struct fw_cfg *fc, uint64_t desc, uint32_t control,
			       uint32_t length, uint64_t gpa)
{
	uint32_t n;

	if (control & FW_CFG_DMA_CTL_SELECT)
		fw_cfg_select(fc, (uint16_t)(control >> 16));
	if (control & FW_CFG_DMA_CTL_READ)
		return fw_cfg_dma_read(fc, desc, gpa, length);
	if (control & FW_CFG_DMA_CTL_WRITE) {
		/* No item is writable (QEMU makes only a few, for ACPI/vmgenid). */
		HV_TRACE(HV_TRACE_BOOT, "fw_cfg: DMA write of %u bytes refused: read-only", length);
		return FW_CFG_DMA_CTL_ERROR;
	}
	if (control & FW_CFG_DMA_CTL_SKIP) {
		n = fw_cfg_left(fc);
		fc->cur_offset += n < length ? n : length;
	}
	return 0;
}

/* The guest wrote the low half of the address register: run the transfer at dma_addr. */
static void fw_cfg_dma_start(struct fw_cfg *fc)
{
	uint64_t desc = fc->dma_addr;
	uint8_t access[DMA_ACCESS_SIZE];
	uint32_t status;

	fc->dma_addr = 0;	/* fw_cfg.rst: the register is 0 after an operation */
	fc->stats.dma_ops++;
	/* GUEST: the descriptor is copied once, whole, from guest RAM (no double fetch). */
	if (!fc->gm || gm_read(fc->gm, desc, access, sizeof(access))) {
		/* Nowhere to report the error: the guest's control word stays as it was. */
		fc->stats.dma_errors++;
		fw_cfg_dma_refuse(fc, desc, "FWCfgDmaAccess not in guest RAM", desc, DMA_ACCESS_SIZE);
		return;
	}
	status = fw_cfg_dma_run(fc, desc, (uint32_t)get_be(access + DMA_CONTROL_OFF, 4),
				(uint32_t)get_be(access + DMA_LENGTH_OFF, 4),
				get_be(access + DMA_ADDRESS_OFF, 8));
	if (status)
		fc->stats.dma_errors++;
	/*
	 * fw_cfg.rst: control reads 0 on success, else has the error bit set.
	 * QEMU writes exactly FW_CFG_DMA_CTL_ERROR; SeaBIOS spins while any
	 * other bit is set.  This cannot fail: the same 16 bytes were just read.
	 */
	put_be(access + DMA_CONTROL_OFF, status, 4);
	if (gm_write(fc->gm, desc + DMA_CONTROL_OFF, access + DMA_CONTROL_OFF, 4))
		fc->stats.dma_errors++;
}

bool fw_cfg_dma_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct fw_cfg *fc = opaque;
	unsigned int i;

	pthread_mutex_lock(&fc->lock);
	if (!is_write) {
		/* fw_cfg.rst: the register reads as "QEMU CFG", big-endian, at any width. */
		for (i = 0; i < size; i++)
			data[i] = offset + i < FW_CFG_DMA_LEN ? fw_cfg_dma_sig[offset + i] : 0;
	} else if (offset == DMA_OFF_HIGH && size == 4) {
		fc->dma_addr = get_be(data, 4) << 32;
	} else if (offset == DMA_OFF_LOW && size == 4) {
		fc->dma_addr |= get_be(data, 4);
		fw_cfg_dma_start(fc);
	} else if (offset == DMA_OFF_HIGH && size == 8) {
		fc->dma_addr = get_be(data, 8);
		fw_cfg_dma_start(fc);
	}
	/* GUEST: any other write is not a register write QEMU accepts: ignored. */
	pthread_mutex_unlock(&fc->lock);
	return true;
}
