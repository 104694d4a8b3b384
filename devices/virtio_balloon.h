/* virtio_balloon.h: the memory balloon (virtio 1.2 §5.5): the host asks for guest RAM back, and gets it. */
#ifndef DEV_VIRTIO_BALLOON_H
#define DEV_VIRTIO_BALLOON_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio/virtio.h"
#include "hv/base/event_loop.h"
#include "hv/base/guest_mem.h"

/* Feature bits (§5.5.3). */
#define VIRTIO_BALLOON_F_MUST_TELL_HOST		0
#define VIRTIO_BALLOON_F_STATS_VQ		1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM		2
#define VIRTIO_BALLOON_F_FREE_PAGE_HINT		3
#define VIRTIO_BALLOON_F_PAGE_POISON		4
#define VIRTIO_BALLOON_F_PAGE_REPORTING		5

/* Balloon pages are 4 KiB whatever the guest's page size (§5.5.6). */
#define VIRTIO_BALLOON_PFN_SHIFT		12

/* Memory statistics tags (§5.5.6.3). */
#define VIRTIO_BALLOON_S_SWAP_IN	0
#define VIRTIO_BALLOON_S_SWAP_OUT	1
#define VIRTIO_BALLOON_S_MAJFLT		2
#define VIRTIO_BALLOON_S_MINFLT		3
#define VIRTIO_BALLOON_S_MEMFREE	4
#define VIRTIO_BALLOON_S_MEMTOT		5
#define VIRTIO_BALLOON_S_AVAIL		6
#define VIRTIO_BALLOON_S_CACHES		7
#define VIRTIO_BALLOON_S_HTLB_PGALLOC	8
#define VIRTIO_BALLOON_S_HTLB_PGFAIL	9
#define VIRTIO_BALLOON_S_NR		10

/* PCI class: other/unclassified (00ff), as QEMU's virtio-balloon-pci; lspci: "Virtio memory balloon". */
#define VBALLOON_PCI_CLASS		0x00ff00

/* What hvctl balloon-stats shows. */
struct vballoon_info {
	uint64_t ram_bytes;		/* the guest's RAM (-m) */
	uint64_t target_bytes;		/* what the host asked the balloon to hold (num_pages) */
	uint64_t actual_bytes;		/* what the driver says it holds (actual) */
	uint64_t inflated_bytes;	/* pages the device returned to the host, in total */
	uint64_t deflated_bytes;	/* pages the guest took back, in total */
	uint64_t reported_bytes;	/* free page reporting: bytes returned without a command */
	bool stats_valid;		/* the driver sent statistics at least once */
	uint64_t stats_age_ms;		/* how long ago the last ones arrived */
	bool stats_have[VIRTIO_BALLOON_S_NR];
	uint64_t stats[VIRTIO_BALLOON_S_NR];	/* by tag; bytes for MEMFREE/MEMTOT/AVAIL/CACHES */
};

/*
 * Creates the device for a guest of ram_bytes.  Offers STATS_VQ (the driver's
 * statistics buffer is taken back every stats_interval_s seconds, 0: 2 s),
 * DEFLATE_ON_OOM and, if page_reporting, PAGE_REPORTING (free pages come back
 * without a command); not FREE_PAGE_HINT nor PAGE_POISON.
 * Queues: inflateq 0, deflateq 1, statsq 2, reporting_vq 3.  Inflated and
 * reported pages are given back to the host with madvise (MADV_DONTNEED on
 * anonymous RAM; for RAM on huge pages only whole huge pages, else the pages
 * stay, counted).  loop must be given (a timerfd).  0 or -errno; free with
 * (*out)->ops->destroy(*out).
 */
int vballoon_create(const struct guest_mem *mem, struct ev_loop *loop, uint64_t ram_bytes,
		    unsigned int stats_interval_s, bool page_reporting, struct virtio_dev **out);

/*
 * The host wants the balloon to hold bytes (rounded down to 4 KiB, at most
 * the RAM): num_pages changes and a configuration interrupt tells the driver.
 * Takes d->lock itself; any thread.  0, or -EINVAL (more than the RAM).
 */
int vballoon_set_target(struct virtio_dev *d, uint64_t bytes);

/* A snapshot; takes d->lock itself. */
void vballoon_get_info(struct virtio_dev *d, struct vballoon_info *out);

/* The device table's configuration: vballoon_create()'s arguments. */
struct vballoon_options {
	uint64_t ram_bytes;
	unsigned int stats_interval_s;	/* 0: 2 s */
	bool page_reporting;
};

/* The device table's line: "balloon". */
extern const struct virtio_device_desc vballoon_device;

#endif
