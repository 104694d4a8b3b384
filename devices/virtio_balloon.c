/* virtio_balloon.c: the memory balloon (virtio 1.2 §5.5): inflated and reported guest pages go back to the host with madvise(2). */
#include "devices/virtio_balloon.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hv/base/file.h"
#include "hv/base/log.h"

#define VBALLOON_QUEUE_MAX		128	/* as QEMU; Linux's page reporting needs >= 32 */
#define VBALLOON_NR_QUEUES		4
#define VBALLOON_PAGE			(1ull << VIRTIO_BALLOON_PFN_SHIFT)
#define VBALLOON_DEFAULT_INTERVAL_S	2

/* PFNs copied out of a chain at a time. */
#define VBALLOON_PFN_BATCH		256
/*
 * The most PFNs one inflate/deflate chain may carry.  Linux sends 256, other
 * drivers no more than 512; a larger chain is refused so that one kick
 * cannot keep the I/O thread busy for long.
 */
#define VBALLOON_MAX_PFNS		65536
/* Statistics entries read from one buffer: Linux sends about 10-16; the rest is ignored. */
#define VBALLOON_MAX_STATS		64

/* §5.5.4, little-endian as every modern device's configuration. */
struct vballoon_config {
	uint32_t num_pages;		/* device: the target, in 4 KiB pages */
	uint32_t actual;		/* driver: the pages in the balloon now */
	uint32_t free_page_hint_cmd_id;	/* FREE_PAGE_HINT only (not offered): 0 */
	uint32_t poison_val;		/* PAGE_POISON only (not offered): 0 */
};
_Static_assert(sizeof(struct vballoon_config) == 16, "virtio_balloon_config layout");

/* §5.5.6.3: one statistic, packed (10 bytes). */
struct vballoon_stat {
	uint16_t tag;
	uint64_t val;
} __attribute__((packed));
_Static_assert(sizeof(struct vballoon_stat) == 10, "virtio_balloon_stat layout");

/* What a queue index means; decided at activation from the negotiated features. */
enum vballoon_role {
	VB_ROLE_NONE = 0,
	VB_ROLE_INFLATE,
	VB_ROLE_DEFLATE,
	VB_ROLE_STATS,
	VB_ROLE_REPORT,
};

struct vballoon {
	struct virtio_dev vdev;		/* first: a struct virtio_dev * is a struct vballoon * */
	struct vballoon_config config;
	uint64_t ram_bytes;
	bool active;			/* between activate() and reset() */
	enum vballoon_role role[VBALLOON_NR_QUEUES];

	/*
	 * The host page size behind each region of vdev.mem (same index): 4 KiB
	 * for ordinary anonymous RAM (also under transparent huge pages), 2 MiB
	 * for hugetlbfs RAM (--hugepages), where only whole huge pages can go.
	 */
	uint64_t page_size[GM_MAX_REGIONS];

	/* Statistics (§5.5.6.3): the driver's one buffer, held until the timer asks again. */
	unsigned int stats_interval_s;
	int stats_q;			/* the queue with VB_ROLE_STATS, -1: none */
	struct ev_timer timer;		/* watched by vdev.loop from activate() until reset() */
	bool stats_held;
	uint16_t stats_head;
	bool stats_valid;
	uint64_t stats_ns;		/* CLOCK_MONOTONIC time the last statistics arrived */
	bool stats_have[VIRTIO_BALLOON_S_NR];
	uint64_t stats[VIRTIO_BALLOON_S_NR];

	/* Totals, kept across device resets. */
	uint64_t inflated_bytes, deflated_bytes, reported_bytes;
	uint64_t kept_bytes;		/* inflated or reported, but not freed (huge pages, madvise failed) */
	uint64_t nr_bad_chains, nr_bad_pfns;

	struct vq_chain chain;		/* scratch for vq_pop(), under vdev.lock */
	uint32_t pfns[VBALLOON_PFN_BATCH];
};

static struct vballoon *to_vballoon(struct virtio_dev *d)
{
	return (struct vballoon *)d;
}

static void vballoon_bad_chain(struct vballoon *b, unsigned int q, const char *why)
{
	b->nr_bad_chains++;
	virtio_warn(&b->vdev, "%s: queue %u: chain %u refused: %s", b->vdev.ops->name, q,
		b->chain.head, why);
}

/*
 * The page size of the host mapping that holds addr, from the
 * "KernelPageSize:" line of its entry in /proc/self/smaps: 2048 kB for
 * hugetlbfs, 4 kB otherwise (transparent huge pages included).  4 KiB when
 * it cannot be read: then a hugetlbfs madvise of 4 KiB fails or frees
 * nothing (Linux rounds the length down to whole huge pages), never more.
 */
static uint64_t vballoon_host_page_size(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	uint64_t size = VBALLOON_PAGE;
	bool inside = false;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int fd;

	fd = hv_proc_open("self/smaps", O_RDONLY);	/* works in the empty root too */
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return size;
	}
	while (getline(&line, &cap, f) > 0) {
		unsigned long lo, hi, kb;

		/* A mapping's first line is "lo-hi perms ..."; its fields follow. */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			inside = a >= lo && a < hi;
		} else if (inside && sscanf(line, "KernelPageSize: %lu kB", &kb) == 1) {
			if (kb >= 4 && (kb & (kb - 1)) == 0)
				size = (uint64_t)kb << 10;
			break;
		}
	}
	free(line);
	fclose(f);
	return size;
}

/* The host page size behind host pointer p (one of vdev.mem's regions). */
static uint64_t vballoon_page_size_at(const struct vballoon *b, const uint8_t *p)
{
	const struct guest_mem *gm = b->vdev.mem;
	unsigned int i;

	for (i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->region[i];

		/* 0: a region added after vballoon_create(), not looked at; assume 4 KiB. */
		if (p >= r->host && p < r->host + r->size)
			return b->page_size[i] ? b->page_size[i] : VBALLOON_PAGE;
	}
	return VBALLOON_PAGE;
}

/*
 * Gives [host, host + len) of guest RAM back to the host kernel: the whole
 * host pages inside it are dropped with MADV_DONTNEED.  On private anonymous
 * memory the next touch maps a fresh zero page, so the guest may take the
 * pages back at any time without asking (no MUST_TELL_HOST).  What is not a
 * whole host page (a 4 KiB piece of a hugetlbfs page) stays, counted in
 * kept_bytes.
 */
static void vballoon_discard(struct vballoon *b, uint8_t *host, uint64_t len)
{
	uint64_t ps = vballoon_page_size_at(b, host);
	uintptr_t start = ((uintptr_t)host + ps - 1) & ~(uintptr_t)(ps - 1);
	uintptr_t end = ((uintptr_t)host + len) & ~(uintptr_t)(ps - 1);

	if (end <= start) {
		b->kept_bytes += len;
		return;
	}
	if (madvise((void *)start, end - start, MADV_DONTNEED) < 0) {
		virtio_warn(&b->vdev, "%s: madvise(%zu bytes, MADV_DONTNEED): %s; the pages stay",
			b->vdev.ops->name, (size_t)(end - start), strerror(errno));
		b->kept_bytes += len;
		return;
	}
	b->kept_bytes += len - (end - start);
}

/* A run of contiguous PFNs (guest and host contiguous), discarded with one madvise. */
struct vballoon_run {
	uint8_t *host;
	uint64_t pfn;
	uint64_t n;
};

static void vballoon_run_flush(struct vballoon *b, struct vballoon_run *run)
{
	if (run->n)
		vballoon_discard(b, run->host, run->n * VBALLOON_PAGE);
	run->n = 0;
}

/*
 * The PFNs of one inflate or deflate chain (§5.5.6.1): each names a 4 KiB
 * page of guest RAM.  Inflated pages are discarded, contiguous ones with one
 * madvise; deflated ones need nothing (the guest's next touch faults a zero
 * page in).  A PFN outside RAM is skipped.
 */
static void vballoon_do_pfns(struct vballoon *b, unsigned int q, bool inflate)
{
	const struct vq_chain *c = &b->chain;
	uint32_t n = c->out_len / 4, off, i;
	struct vballoon_run run = { 0 };
	uint64_t bad = 0, first_bad = 0;

	for (off = 0; off < n; off += VBALLOON_PFN_BATCH) {
		uint32_t cnt = n - off < VBALLOON_PFN_BATCH ? n - off : VBALLOON_PFN_BATCH;

		vq_chain_read(c, (size_t)off * 4, b->pfns, (size_t)cnt * 4);
		for (i = 0; i < cnt; i++) {
			uint64_t pfn = le32toh(b->pfns[i]);
			uint8_t *host;

			/* GUEST: the page must lie in guest RAM (gm_ptr checks the whole 4 KiB). */
			host = gm_ptr(b->vdev.mem, pfn << VIRTIO_BALLOON_PFN_SHIFT, VBALLOON_PAGE);
			if (!host) {
				if (bad++ == 0)
					first_bad = pfn;
				vballoon_run_flush(b, &run);
				continue;
			}
			if (!inflate) {
				b->deflated_bytes += VBALLOON_PAGE;
				continue;
			}
			b->inflated_bytes += VBALLOON_PAGE;
			if (run.n && pfn == run.pfn + run.n && host == run.host + run.n * VBALLOON_PAGE) {
				run.n++;
				continue;
			}
			vballoon_run_flush(b, &run);
			run = (struct vballoon_run){ .host = host, .pfn = pfn, .n = 1 };
		}
	}
	vballoon_run_flush(b, &run);
	if (bad) {
		b->nr_bad_pfns += bad;
		virtio_warn(&b->vdev, "%s: queue %u: %llu PFN(s) outside guest RAM skipped (first 0x%llx)",
			b->vdev.ops->name, q, (unsigned long long)bad,
			(unsigned long long)first_bad);
	}
}

/*
 * Free page reporting: each device-writable buffer is a range of free guest
 * pages (Linux: 2 MiB or more, virtqueue_add_inbuf), discarded as is.
 */
static void vballoon_do_report(struct vballoon *b)
{
	const struct vq_chain *c = &b->chain;
	unsigned int i;

	for (i = c->nr_out; i < (unsigned int)c->nr_out + c->nr_in; i++) {
		/* GUEST: vq_pop() checked that each buffer lies in one RAM region. */
		vballoon_discard(b, c->iov[i].iov_base, c->iov[i].iov_len);
		b->reported_bytes += c->iov[i].iov_len;
	}
}

/* Records a statistics buffer: whole (tag, value) entries; unknown tags are ignored. */
static void vballoon_do_stats(struct vballoon *b)
{
	const struct vq_chain *c = &b->chain;
	uint32_t n = c->out_len / sizeof(struct vballoon_stat), i;

	if (n > VBALLOON_MAX_STATS)
		n = VBALLOON_MAX_STATS;
	for (i = 0; i < n; i++) {
		struct vballoon_stat s;
		uint16_t tag;

		vq_chain_read(c, (size_t)i * sizeof(s), &s, sizeof(s));
		tag = le16toh(s.tag);
		if (tag >= VIRTIO_BALLOON_S_NR)
			continue;
		b->stats[tag] = le64toh(s.val);
		b->stats_have[tag] = true;
	}
	b->stats_valid = true;
	b->stats_ns = hv_now_ns();
}

/* Takes every available chain of queue q and does what its role says. */
static void vballoon_process(struct vballoon *b, unsigned int q)
{
	struct virtio_dev *d = &b->vdev;
	struct virtqueue *vq;
	enum vballoon_role role;
	bool pushed = false;
	unsigned int budget;
	int ret;

	if (q >= VBALLOON_NR_QUEUES || !b->active)
		return;
	vq = &d->vq[q];
	role = b->role[q];
	if (role == VB_ROLE_NONE || !vq->ready || (d->status & VIRTIO_STATUS_NEEDS_RESET))
		return;
	for (budget = VIRTIO_BUDGET;; budget--) {
		const struct vq_chain *c = &b->chain;

		/* GUEST: a driver that keeps the ring full gets its turn back later. */
		if (!budget) {
			virtio_defer(d, q);
			break;
		}
		ret = vq_pop(vq, &b->chain);
		if (ret < 0) {
			virtio_needs_reset(d);
			break;
		}
		if (ret == 0)
			break;
		switch (role) {
		case VB_ROLE_INFLATE:
		case VB_ROLE_DEFLATE:
			/* GUEST: §5.5.6 an array of le32 PFNs, device-readable, nothing writable. */
			if (c->nr_in || c->out_len == 0 || c->out_len % 4)
				vballoon_bad_chain(b, q, "not a readable array of 32-bit PFNs");
			else if (c->out_len / 4 > VBALLOON_MAX_PFNS)
				vballoon_bad_chain(b, q, "more PFNs than any driver sends");
			else
				vballoon_do_pfns(b, q, role == VB_ROLE_INFLATE);
			break;
		case VB_ROLE_REPORT:
			/* GUEST: reported ranges are device-writable buffers, nothing readable. */
			if (c->nr_out || c->nr_in == 0)
				vballoon_bad_chain(b, q, "a reported range must be device-writable");
			else
				vballoon_do_report(b);
			break;
		case VB_ROLE_STATS:
			/* GUEST: §5.5.6.3 whole 10-byte (tag, value) entries, device-readable. */
			if (c->nr_in || c->out_len == 0 || c->out_len % sizeof(struct vballoon_stat)) {
				vballoon_bad_chain(b, q, "not whole (le16 tag, le64 value) entries");
				break;
			}
			vballoon_do_stats(b);
			if (b->stats_held) {
				/* The driver has one buffer in flight; give the older one back (as QEMU). */
				vballoon_bad_chain(b, q, "a second statistics buffer; the first is returned");
				vq_push(vq, b->stats_head, 0);
				pushed = true;
			}
			/* Held until the timer asks for fresh statistics. */
			b->stats_held = true;
			b->stats_head = c->head;
			continue;
		case VB_ROLE_NONE:
			break;
		}
		/* Nothing is written into any balloon buffer: used length 0. */
		vq_push(vq, c->head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_used(d, q);
}

/* On the loop thread, every stats_interval_s: give the statistics buffer back, asking for new ones. */
static void vballoon_timer_fired(void *opaque)
{
	struct vballoon *b = opaque;
	struct virtio_dev *d = &b->vdev;

	pthread_mutex_lock(&d->lock);
	if (b->active && b->stats_held && b->stats_q >= 0 && d->vq[b->stats_q].ready &&
	    !(d->status & VIRTIO_STATUS_NEEDS_RESET)) {
		b->stats_held = false;
		vq_push(&d->vq[b->stats_q], b->stats_head, 0);
		virtio_used(d, (unsigned int)b->stats_q);
	}
	pthread_mutex_unlock(&d->lock);
}

/* ---- the ops ---- */

/*
 * Which queue is which.  Linux (6.1) numbers the queues it finds
 * contiguously over the features it negotiated: inflateq 0, deflateq 1, then
 * statsq if STATS_VQ, then (FREE_PAGE_HINT, never offered here) then
 * reporting_vq if PAGE_REPORTING.  So without STATS_VQ reporting is 2.
 */
static void vballoon_map_queues(struct vballoon *b)
{
	unsigned int n = 0;

	memset(b->role, 0, sizeof(b->role));
	b->role[n++] = VB_ROLE_INFLATE;
	b->role[n++] = VB_ROLE_DEFLATE;
	b->stats_q = -1;
	if (virtio_has_feature(&b->vdev, VIRTIO_BALLOON_F_STATS_VQ)) {
		b->stats_q = (int)n;
		b->role[n++] = VB_ROLE_STATS;
	}
	if (virtio_has_feature(&b->vdev, VIRTIO_BALLOON_F_PAGE_REPORTING))
		b->role[n++] = VB_ROLE_REPORT;
}

static int vballoon_activate(struct virtio_dev *d)
{
	struct vballoon *b = to_vballoon(d);
	unsigned int q;
	int ret;

	vballoon_map_queues(b);
	if (b->stats_q >= 0) {
		/* The first request comes one interval after activation, then every interval. */
		uint64_t interval_ns = (uint64_t)b->stats_interval_s * 1000000000u;

		ret = ev_timer_start(&b->timer, d->loop);
		if (ret) {
			virtio_warn(&b->vdev, "%s: cannot watch the statistics timer: %s", d->ops->name,
			       strerror(-ret));
			return ret;
		}
		ret = ev_timer_set(&b->timer, interval_ns, interval_ns);
		if (ret) {
			virtio_warn(&b->vdev, "%s: timerfd_settime: %s", d->ops->name, strerror(-ret));
			ev_timer_stop(&b->timer);
			return ret;
		}
	}
	b->active = true;
	/* Kicks before DRIVER_OK were not delivered: Linux posts its statistics buffer then. */
	for (q = 0; q < VBALLOON_NR_QUEUES; q++)
		vballoon_process(b, q);
	return 0;
}

static void vballoon_notify(struct virtio_dev *d, unsigned int q)
{
	vballoon_process(to_vballoon(d), q);
}

static void vballoon_config_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t size)
{
	struct vballoon *b = to_vballoon(d);
	const uint32_t lo = offsetof(struct vballoon_config, actual), hi = lo + 4;
	uint8_t *cfg = (uint8_t *)&b->config;
	const uint8_t *src = data;
	bool ignored = false;
	uint32_t i;

	/* GUEST: §5.5.4 the driver writes actual only; num_pages is the device's, the rest belong to features not offered. */
	for (i = 0; i < size; i++) {
		if (off + i >= lo && off + i < hi)
			cfg[off + i] = src[i];
		else
			ignored = true;
	}
	if (ignored)
		virtio_warn(&b->vdev, "%s: configuration write at offset %u (%u bytes) outside actual ignored",
			d->ops->name, off, size);
}

/*
 * Nothing is in flight but the held statistics buffer, which is forgotten
 * (never pushed after this).  The totals and the target stay; a new driver
 * starts with an empty balloon, so actual goes back to 0.
 */
static void vballoon_reset(struct virtio_dev *d)
{
	struct vballoon *b = to_vballoon(d);

	b->active = false;
	ev_timer_stop(&b->timer);
	b->stats_held = false;
	b->stats_q = -1;
	memset(b->role, 0, sizeof(b->role));
	b->config.actual = 0;
	memset(&b->chain, 0, sizeof(b->chain));
}

static void vballoon_destroy(struct virtio_dev *d)
{
	struct vballoon *b = to_vballoon(d);

	ev_timer_destroy(&b->timer);
	virtio_dev_cleanup(d);
	free(b);
}

static const struct virtio_dev_ops vballoon_ops = {
	.name = "virtio-balloon",
	.device_id = VIRTIO_ID_BALLOON,
	.pci_class = VBALLOON_PCI_CLASS,
	.config_write = vballoon_config_write,
	.activate = vballoon_activate,
	.notify = vballoon_notify,
	.reset = vballoon_reset,
	.destroy = vballoon_destroy,
};

int vballoon_create(const struct guest_mem *mem, struct ev_loop *loop, uint64_t ram_bytes,
		    unsigned int stats_interval_s, bool page_reporting, struct virtio_dev **out)
{
	struct vballoon *b;
	unsigned int i;
	int ret;

	if (!mem || !loop)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	/* Not MUST_TELL_HOST: the guest may reuse deflated pages before telling us. */
	ret = virtio_dev_init(&b->vdev, &vballoon_ops, mem, loop, VBALLOON_NR_QUEUES,
			      VBALLOON_QUEUE_MAX,
			      VIRTIO_BIT(VIRTIO_BALLOON_F_STATS_VQ) |
			      VIRTIO_BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM) |
			      (page_reporting ? VIRTIO_BIT(VIRTIO_BALLOON_F_PAGE_REPORTING) : 0) |
			      VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC),
			      &b->config, sizeof(b->config));
	if (ret) {
		free(b);
		return ret;
	}
	ret = ev_timer_init(&b->timer, vballoon_ops.name, vballoon_timer_fired, b);
	if (ret) {
		virtio_dev_cleanup(&b->vdev);
		free(b);
		return ret;
	}
	b->ram_bytes = ram_bytes;
	b->stats_interval_s = stats_interval_s ? stats_interval_s : VBALLOON_DEFAULT_INTERVAL_S;
	b->stats_q = -1;
	for (i = 0; i < mem->nr_regions; i++) {
		/* Known when hvrun mapped it (no file to read under seccomp); else ask smaps. */
		b->page_size[i] = mem->page_size ? mem->page_size
						 : vballoon_host_page_size(mem->region[i].host);
		if (b->page_size[i] > VBALLOON_PAGE)
			hv_info("%s: RAM at 0x%llx is on %llu KiB pages: only whole ones are returned",
				b->vdev.ops->name, (unsigned long long)mem->region[i].gpa,
				(unsigned long long)(b->page_size[i] >> 10));
	}
	*out = &b->vdev;
	return 0;
}

int vballoon_set_target(struct virtio_dev *d, uint64_t bytes)
{
	struct vballoon *b = to_vballoon(d);
	uint64_t pages = bytes >> VIRTIO_BALLOON_PFN_SHIFT;

	if (bytes > b->ram_bytes || pages > UINT32_MAX)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	if (le32toh(b->config.num_pages) != pages) {
		b->config.num_pages = htole32((uint32_t)pages);
		virtio_config_changed(d);
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

void vballoon_get_info(struct virtio_dev *d, struct vballoon_info *out)
{
	struct vballoon *b = to_vballoon(d);

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&d->lock);
	out->ram_bytes = b->ram_bytes;
	out->target_bytes = (uint64_t)le32toh(b->config.num_pages) << VIRTIO_BALLOON_PFN_SHIFT;
	out->actual_bytes = (uint64_t)le32toh(b->config.actual) << VIRTIO_BALLOON_PFN_SHIFT;
	out->inflated_bytes = b->inflated_bytes;
	out->deflated_bytes = b->deflated_bytes;
	out->reported_bytes = b->reported_bytes;
	out->stats_valid = b->stats_valid;
	if (b->stats_valid)
		out->stats_age_ms = (hv_now_ns() - b->stats_ns) / 1000000;
	memcpy(out->stats_have, b->stats_have, sizeof(out->stats_have));
	memcpy(out->stats, b->stats, sizeof(out->stats));
	pthread_mutex_unlock(&d->lock);
}

/* ---- the device table ---- */

static int vballoon_device_create(const struct virtio_dev_args *a, const void *config,
				  struct virtio_dev **out, char *err, size_t errlen)
{
	const struct vballoon_options *c = config;

	(void)err;
	(void)errlen;
	return vballoon_create(a->mem, a->loop, c->ram_bytes, c->stats_interval_s,
			       c->page_reporting, out);
}

const struct virtio_device_desc vballoon_device = {
	.name = "balloon",
	.naming = VIRTIO_NAME_ALONE,
	.create = vballoon_device_create,
};
