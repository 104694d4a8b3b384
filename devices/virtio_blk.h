/* virtio_blk.h: the virtio block device (virtio 1.2 §5.2) over a raw image, its I/O through io_uring. */
#ifndef DEV_VIRTIO_BLK_H
#define DEV_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio/virtio.h"
#include "hv/base/event_loop.h"
#include "hv/base/guest_mem.h"

/* Feature bits (§5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX		1
#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_GEOMETRY		4
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_TOPOLOGY		10
#define VIRTIO_BLK_F_CONFIG_WCE		11
#define VIRTIO_BLK_F_MQ			12
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

/* Request types (§5.2.6). */
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_GET_LIFETIME	10
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13
#define VIRTIO_BLK_T_SECURE_ERASE	14

/* Status byte values (§5.2.6). */
#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

/* The flags of a discard / write-zeroes segment (§5.2.6): bit 0 unmap, the rest reserved. */
#define VIRTIO_BLK_WZ_FLAG_UNMAP	1u

#define VIRTIO_BLK_SECTOR_SIZE		512u
#define VIRTIO_BLK_ID_BYTES		20

/* The request header (§5.2.6), little-endian, device-readable. */
struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t reserved;		/* ioprio in the legacy interface; ignored */
	uint64_t sector;
} __attribute__((packed));

/* One segment of a DISCARD or WRITE_ZEROES request (§5.2.6), little-endian. */
struct virtio_blk_discard_write_zeroes {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
} __attribute__((packed));

/* Device configuration (§5.2.4), exactly as the spec lays it out, little-endian. */
struct virtio_blk_config {
	uint64_t capacity;		/* in 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
	struct {
		uint16_t cylinders;
		uint8_t heads;
		uint8_t sectors;
	} __attribute__((packed)) geometry;
	uint32_t blk_size;
	struct {
		uint8_t physical_block_exp;	/* log2(logical blocks per physical block) */
		uint8_t alignment_offset;
		uint16_t min_io_size;		/* in logical blocks */
		uint32_t opt_io_size;		/* in logical blocks */
	} __attribute__((packed)) topology;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
	uint32_t max_secure_erase_sectors;
	uint32_t max_secure_erase_seg;
	uint32_t secure_erase_sector_alignment;
	struct {
		uint32_t zone_sectors;
		uint32_t max_open_zones;
		uint32_t max_active_zones;
		uint32_t max_append_sectors;
		uint32_t write_granularity;
		uint8_t model;
		uint8_t unused2[3];
	} __attribute__((packed)) zoned;
} __attribute__((packed));

/* What hvrun offers (config values): see docs/08-virtio-blk.md. */
#define VBLK_QUEUE_MAX			256	/* QUEUE_SIZE offered per request queue */
#define VBLK_SEG_MAX			(VBLK_QUEUE_MAX - 2)	/* header and status take two descriptors */
#define VBLK_MAX_DZ_SEG			32	/* max_discard_seg, max_write_zeroes_seg */
#define VBLK_MAX_DZ_SECTORS		(INT32_MAX / VIRTIO_BLK_SECTOR_SIZE)	/* per segment */

/* PCI class of virtio-blk-pci, as QEMU: mass storage (01), SCSI (00). */
#define VBLK_PCI_CLASS			0x010000

struct rawimg;

struct vblk_options {
	/*
	 * The image, opened by vblk_open_image() and borrowed: the device never
	 * closes it, so that it outlives a guest reboot (hv/host.c).  ro
	 * (VIRTIO_BLK_F_RO, writes refused with IOERR) and cache=none (O_DIRECT)
	 * are how it was opened.
	 */
	struct rawimg *img;
	/*
	 * GET_ID (at most 20 bytes, no NUL when 20).  NULL: the image's file name
	 * (its last path component, cut to 20 bytes, bytes other than printable
	 * ASCII and spaces replaced by '_').
	 */
	const char *serial;
};

/*
 * Opens path as a disk for a device of up to nr_queues request queues (its
 * io_uring sized for VBLK_QUEUE_MAX requests in flight per queue):
 * read-only with readonly, O_DIRECT with cache_none (cache=none; else the
 * page cache, cache=writeback).  An image smaller than one sector is refused.
 * 0, or -errno with a one-line reason in err.  Close it with rawimg_close()
 * after the last device using it was destroyed.
 */
int vblk_open_image(struct rawimg *img, const char *path, bool readonly, bool cache_none,
		    uint16_t nr_queues, char *err, size_t errlen);

/*
 * Builds a virtio-blk device with nr_queues request queues (one per vCPU;
 * at most what the image was opened for) on the open, idle image o->img.
 * The capacity is the image's size in 512-byte sectors, read now: a size
 * that is not a multiple of 512 is rounded down (with a warning); an image
 * smaller than one sector is refused.  0, or -errno with a one-line reason
 * in err.  Free with (*out)->ops->destroy(*out) once loop no longer runs
 * (after a reset): it waits for the image's I/O in flight and leaves the
 * image open and idle, ready for the next boot's device.
 */
int vblk_create(const struct vblk_options *o, const struct guest_mem *mem, struct ev_loop *loop,
		uint16_t nr_queues, struct virtio_dev **out, char *err, size_t errlen);

/*
 * Re-reads the image's size, updates capacity and raises the configuration
 * change interrupt (§5.2.6.2: "the device MAY change the content of the
 * capacity field during operation").  Caller holds d->lock.  0 or -errno.
 */
int vblk_resize(struct virtio_dev *d);

/* The capacity the guest sees, in 512-byte sectors.  Caller holds d->lock. */
uint64_t vblk_capacity(struct virtio_dev *d);

/* Counters since the device was created (hvrun --stats, hvctl stats; hv/stats.c). */
struct vblk_stats {
	uint64_t requests;		/* chains taken from the queues */
	uint64_t reads, writes, flushes, discards, write_zeroes, get_ids;	/* by type, once parsed */
	uint64_t refused;		/* malformed or unsupported: answered IOERR/UNSUPP at once */
	uint64_t io_errors;		/* the host file failed them */
	uint64_t bytes_read, bytes_written;	/* data moved by IN and OUT requests */
	/* Neighbouring reads or writes sent to the host as one operation (virtio_blk.c). */
	uint64_t merged_ops, merged_requests, merge_splits;
	/* The image's io_uring (devices/block/raw_image.h, counted since the image was opened). */
	uint64_t backend_submissions, backend_completions, backend_errors;
	uint64_t backend_submit_calls, backend_reaps;	/* batches: io_uring_submit()s, wake-ups that reaped */
	uint64_t backend_bytes_read, backend_bytes_written;	/* as requested by each readv/writev */
	unsigned int backend_in_flight;
};

/* A copy of the device's counters; d->lock held (hv/stats.c takes it without waiting long). */
void vblk_get_stats(struct virtio_dev *d, struct vblk_stats *out);

/* The device table's configuration (create(): vblk_create(&c->opts, ..., c->nr_queues, ...)). */
struct vblk_device_options {
	struct vblk_options opts;
	uint16_t nr_queues;
};

/* The device table's line: vda, vdb, ...; counters "blk" and "backend". */
extern const struct virtio_device_desc vblk_device;

#endif
