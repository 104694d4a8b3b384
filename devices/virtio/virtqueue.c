/* virtqueue.c: the split virtqueue (virtio 1.2 §2.7): ring checks, the checked descriptor walk, used ring, notification suppression. */
#include "devices/virtio/virtqueue.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hv/base/log.h"
#include "hv/base/trace.h"

/*
 * The ring layout, as the driver writes it (virtio 1.2 §2.7.5-§2.7.8), all
 * little-endian (§2.7: "in little-endian byte order" for VERSION_1):
 *
 *   descriptor table  size x { le64 addr; le32 len; le16 flags; le16 next; }
 *   available ring    le16 flags; le16 idx; le16 ring[size]; le16 used_event;
 *   used ring         le16 flags; le16 idx; { le32 id; le32 len; } ring[size]; le16 avail_event;
 */
struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct vring_desc) == 16, "a split-ring descriptor is 16 bytes");

#define VRING_DESC_F_NEXT		1
#define VRING_DESC_F_WRITE		2
#define VRING_DESC_F_INDIRECT		4
#define VRING_AVAIL_F_NO_INTERRUPT	1	/* §2.7.6 */
#define VRING_USED_F_NO_NOTIFY		1	/* §2.7.8 */

#define DESC_SIZE	16u
#define AVAIL_FLAGS	0u
#define AVAIL_IDX	2u
#define AVAIL_RING	4u
#define USED_FLAGS	0u
#define USED_IDX	2u
#define USED_RING	4u

/* ---- ring field access: one load or store each, never a double fetch ---- */

static uint16_t *avail16(const struct virtqueue *vq, size_t off)
{
	return (uint16_t *)((uint8_t *)vq->avail + off);
}

static uint16_t *used16(const struct virtqueue *vq, size_t off)
{
	return (uint16_t *)((uint8_t *)vq->used + off);
}

static uint16_t vq_avail_idx_acquire(const struct virtqueue *vq)
{
	/*
	 * Acquire: pairs with the driver's write barrier between filling the
	 * ring entry and bumping idx (§2.7.13.3.1); the ring entry and the
	 * descriptors we read after this load are at least as new as idx.
	 */
	return le16toh(__atomic_load_n(avail16(vq, AVAIL_IDX), __ATOMIC_ACQUIRE));
}

static uint16_t vq_avail_flags(const struct virtqueue *vq)
{
	return le16toh(__atomic_load_n(avail16(vq, AVAIL_FLAGS), __ATOMIC_RELAXED));
}

/* avail->used_event sits after the ring's size entries (§2.7.6). */
static uint16_t vq_used_event(const struct virtqueue *vq)
{
	return le16toh(__atomic_load_n(avail16(vq, AVAIL_RING + 2u * vq->size), __ATOMIC_RELAXED));
}

/* used->avail_event sits after the ring's size elements (§2.7.8). */
static void vq_set_avail_event(struct virtqueue *vq, uint16_t v)
{
	__atomic_store_n(used16(vq, USED_RING + 8u * vq->size), htole16(v), __ATOMIC_RELAXED);
}

static void vq_set_used_flags(struct virtqueue *vq, uint16_t flags)
{
	__atomic_store_n(used16(vq, USED_FLAGS), htole16(flags), __ATOMIC_RELAXED);
}

/* ---- diagnostics ---- */

static const char *const vq_error_names[VQ_NR_ERRORS] = {
	[VQ_OK]			  = "no error",
	[VQ_ERR_SIZE]		  = "queue size is 0, not a power of 2, or too large",
	[VQ_ERR_ALIGN]		  = "ring address misaligned",
	[VQ_ERR_RING_ADDR]	  = "ring outside guest RAM",
	[VQ_ERR_AVAIL_IDX]	  = "avail index jumped past the queue size",
	[VQ_ERR_HEAD]		  = "chain head index out of range",
	[VQ_ERR_NEXT]		  = "next index out of range",
	[VQ_ERR_LOOP]		  = "chain longer than the queue (a loop)",
	[VQ_ERR_BUF_ADDR]	  = "buffer outside guest RAM",
	[VQ_ERR_ZERO_LEN]	  = "zero-length buffer",
	[VQ_ERR_LEN_OVERFLOW]	  = "chain length overflows 32 bits",
	[VQ_ERR_ORDER]		  = "device-readable buffer after a device-writable one",
	[VQ_ERR_INDIRECT_FEATURE] = "indirect descriptor without VIRTIO_F_INDIRECT_DESC",
	[VQ_ERR_INDIRECT_NESTED]  = "indirect descriptor inside an indirect table",
	[VQ_ERR_INDIRECT_NEXT]	  = "indirect descriptor with NEXT set",
	[VQ_ERR_INDIRECT_LEN]	  = "bad indirect table length",
	[VQ_ERR_INDIRECT_ADDR]	  = "indirect table outside guest RAM",
	[VQ_ERR_USED_LEN]	  = "used length larger than the chain's writable part",
	[VQ_ERR_HEAD_BUSY]	  = "chain head made available again while in flight",
	[VQ_ERR_HEAD_IDLE]	  = "used element for a head that is not in flight",
	[VQ_ERR_NOT_READY]	  = "queue not enabled",
};

const char *vq_error_name(enum vq_error e)
{
	if ((unsigned int)e >= VQ_NR_ERRORS || !vq_error_names[e])
		return "unknown virtqueue error";
	return vq_error_names[e];
}

/* vq_pop()'s --trace virtio line: "vda q0: chain head 3: 1 out (16 B) + 2 in (4096+1 B)". */
static void vq_trace_pop(const struct virtqueue *vq, const struct vq_chain *c)
{
	char lens[2][96];
	unsigned int part, i, first, n;

	for (part = 0; part < 2; part++) {
		size_t at = 0;

		first = part ? c->nr_out : 0;
		n = part ? c->nr_in : c->nr_out;
		lens[part][0] = '\0';
		for (i = 0; i < n && at < sizeof(lens[part]) - 16; i++)
			at += (size_t)snprintf(lens[part] + at, sizeof(lens[part]) - at, "%s%zu",
					       i ? "+" : "", c->iov[first + i].iov_len);
		if (i < n)
			snprintf(lens[part] + at, sizeof(lens[part]) - at, "+...");
	}
	trace_line(HV_TRACE_VIRTIO, __FILE__, "vq_pop", "%s q%u: chain head %u: %u out (%s B) + %u in (%s B)",
		   vq->dev_name, (unsigned int)vq->index, (unsigned int)c->head,
		   (unsigned int)c->nr_out, c->nr_out ? lens[0] : "0", (unsigned int)c->nr_in,
		   c->nr_in ? lens[1] : "0");
}

/*
 * The one diagnostic line for a refused or stopped queue, always
 * "<dev> queue <n>: <where and what>: <error name>; <consequence>".
 */
static void vq_log(const struct virtqueue *vq, enum vq_error e, const char *consequence,
		   const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void vq_log(const struct virtqueue *vq, enum vq_error e, const char *consequence,
		   const char *fmt, va_list ap)
{
	const char *name = vq->dev_name ? vq->dev_name : "virtio";
	char detail[256];

	vsnprintf(detail, sizeof(detail), fmt, ap);
	/* The guest can make these at will: the device's limiter (hv/base/log.h). */
	hv_warn_limited(vq->log, name, "%s queue %u: %s: %s; %s", name, (unsigned int)vq->index,
			detail, vq_error_name(e), consequence);
}

/* vq_enable() refuses the rings: -EINVAL, the queue stays disabled. */
static int vq_refuse(struct virtqueue *vq, enum vq_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int vq_refuse(struct virtqueue *vq, enum vq_error e, const char *fmt, ...)
{
	va_list ap;

	vq->ready = false;
	vq->error = e;
	va_start(ap, fmt);
	vq_log(vq, e, "queue not enabled", fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * The driver broke a ring rule: stop the queue until a device reset
 * (virtio 1.2 §2.1.2: the transport latches DEVICE_NEEDS_RESET on -EIO).
 */
static int vq_break(struct virtqueue *vq, enum vq_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int vq_break(struct virtqueue *vq, enum vq_error e, const char *fmt, ...)
{
	va_list ap;

	vq->ready = false;
	vq->broken = true;
	if (vq->error == VQ_OK)
		vq->error = e;
	va_start(ap, fmt);
	vq_log(vq, e, "queue stopped until the driver resets the device", fmt, ap);
	va_end(ap);
	return -EIO;
}

/* A device asked for something no chain could have allowed: nothing is written. */
static int vq_device_bug(struct virtqueue *vq, enum vq_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int vq_device_bug(struct virtqueue *vq, enum vq_error e, const char *fmt, ...)
{
	va_list ap;

	if (vq->error == VQ_OK)
		vq->error = e;
	va_start(ap, fmt);
	vq_log(vq, e, "device bug, nothing written", fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- heads in flight ---- */

static bool vq_head_busy(const struct virtqueue *vq, uint16_t head)
{
	return (vq->in_flight[head / 64] >> (head % 64)) & 1;
}

static void vq_head_mark(struct virtqueue *vq, uint16_t head, bool busy)
{
	uint64_t bit = (uint64_t)1 << (head % 64);

	if (busy)
		vq->in_flight[head / 64] |= bit;
	else
		vq->in_flight[head / 64] &= ~bit;
}

/* ---- enable / reset ---- */

void vq_reset(struct virtqueue *vq)
{
	const char *name = vq->dev_name;
	struct hv_ratelimit *log = vq->log;
	uint16_t index = vq->index;

	memset(vq, 0, sizeof(*vq));
	vq->dev_name = name;
	vq->index = index;
	vq->log = log;
}

int vq_enable(struct virtqueue *vq, const struct guest_mem *mem, uint16_t size,
	      uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa, uint64_t features)
{
	uint64_t desc_len, avail_len, used_len;

	/* QUEUE_ENABLE starts the queue afresh: no state survives from before. */
	vq_reset(vq);
	vq->mem = mem;
	vq->size = size;
	vq->desc_gpa = desc_gpa;
	vq->avail_gpa = avail_gpa;
	vq->used_gpa = used_gpa;
	vq->event_idx = (features >> VIRTIO_F_EVENT_IDX) & 1;
	vq->indirect = (features >> VIRTIO_F_INDIRECT_DESC) & 1;

	if (!mem)
		return vq_refuse(vq, VQ_ERR_RING_ADDR, "no guest memory");

	/* GUEST: queue size, a power of 2 in 1..VQ_MAX_SIZE (virtio 1.2 §2.7: "Queue Size ... power of 2"). */
	if (size == 0 || size > VQ_MAX_SIZE || (size & (size - 1)))
		return vq_refuse(vq, VQ_ERR_SIZE, "queue size %u (at most %u)",
				 (unsigned int)size, VQ_MAX_SIZE);

	/* GUEST: ring addresses, aligned as virtio 1.2 §2.7 ("Alignment" table) requires. */
	if (desc_gpa & 15)
		return vq_refuse(vq, VQ_ERR_ALIGN, "descriptor table at %#llx (needs 16-byte alignment)",
				 (unsigned long long)desc_gpa);
	if (avail_gpa & 1)
		return vq_refuse(vq, VQ_ERR_ALIGN, "available ring at %#llx (needs 2-byte alignment)",
				 (unsigned long long)avail_gpa);
	if (used_gpa & 3)
		return vq_refuse(vq, VQ_ERR_ALIGN, "used ring at %#llx (needs 4-byte alignment)",
				 (unsigned long long)used_gpa);

	/*
	 * GUEST: each ring lies entirely in one RAM region (gm_ptr checks
	 * [gpa, gpa + len), overflow included), so the ring accessors below
	 * need no further checks: every index they use is taken mod size.
	 * The lengths include used_event and avail_event (§2.7.6, §2.7.8).
	 */
	desc_len = (uint64_t)DESC_SIZE * size;
	avail_len = AVAIL_RING + 2ull * size + 2;
	used_len = USED_RING + 8ull * size + 2;
	vq->desc = gm_ptr(mem, desc_gpa, desc_len);
	if (!vq->desc)
		return vq_refuse(vq, VQ_ERR_RING_ADDR, "descriptor table %#llx +%llu",
				 (unsigned long long)desc_gpa, (unsigned long long)desc_len);
	vq->avail = gm_ptr(mem, avail_gpa, avail_len);
	if (!vq->avail)
		return vq_refuse(vq, VQ_ERR_RING_ADDR, "available ring %#llx +%llu",
				 (unsigned long long)avail_gpa, (unsigned long long)avail_len);
	vq->used = gm_ptr(mem, used_gpa, used_len);
	if (!vq->used)
		return vq_refuse(vq, VQ_ERR_RING_ADDR, "used ring %#llx +%llu",
				 (unsigned long long)used_gpa, (unsigned long long)used_len);

	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->used_published = 0;
	memset(vq->in_flight, 0, sizeof(vq->in_flight));
	vq->error = VQ_OK;
	vq->ready = true;
	HV_TRACE(HV_TRACE_VIRTIO, "%s q%u: enabled: size %u, desc 0x%llx, avail 0x%llx, used 0x%llx%s%s",
		 vq->dev_name, (unsigned int)vq->index, (unsigned int)size,
		 (unsigned long long)desc_gpa, (unsigned long long)avail_gpa,
		 (unsigned long long)used_gpa, vq->event_idx ? ", EVENT_IDX" : "",
		 vq->indirect ? ", INDIRECT_DESC" : "");
	return 0;
}

/* ---- the descriptor walk ---- */

/* Where a descriptor sits, for the diagnostic line. */
struct vq_walk_pos {
	uint16_t head;
	uint16_t i;		/* index in the ring's table, or in the indirect table */
	bool indirect;
	uint16_t table_at;	/* the ring descriptor that pointed at the indirect table */
};

static const char *vq_pos(const struct vq_walk_pos *p, char *buf, size_t n)
{
	if (p->indirect)
		snprintf(buf, n, "indirect descriptor %u (table at descriptor %u, chain head %u)",
			 (unsigned int)p->i, (unsigned int)p->table_at, (unsigned int)p->head);
	else
		snprintf(buf, n, "descriptor %u (chain head %u)", (unsigned int)p->i,
			 (unsigned int)p->head);
	return buf;
}

/*
 * Walks the chain at head into *c.  Every descriptor is copied once into a
 * local struct and only the copy is checked and used (no double fetch: the
 * driver may rewrite the table while we walk it).  0 or -EIO (queue broken).
 */
static int vq_walk(struct virtqueue *vq, uint16_t head, struct vq_chain *c)
{
	const uint8_t *table = vq->desc;
	uint32_t table_entries = vq->size;	/* bound for next */
	struct vq_walk_pos pos = { .head = head, .i = head };
	bool seen_writable = false;
	unsigned int n = 0;			/* buffers so far: the TTL */
	char where[96];

	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;

	for (;;) {
		struct vring_desc d;
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;
		void *p;

		/* The one read of this descriptor; pos.i < table_entries here. */
		memcpy(&d, table + (size_t)DESC_SIZE * pos.i, sizeof(d));
		addr = le64toh(d.addr);
		len = le32toh(d.len);
		flags = le16toh(d.flags);
		next = le16toh(d.next);

		if (flags & VRING_DESC_F_INDIRECT) {
			/* GUEST: an indirect descriptor (virtio 1.2 §2.7.5.3.1). */
			if (pos.indirect)
				return vq_break(vq, VQ_ERR_INDIRECT_NESTED, "%s",
						vq_pos(&pos, where, sizeof(where)));
			if (!vq->indirect)
				return vq_break(vq, VQ_ERR_INDIRECT_FEATURE, "%s",
						vq_pos(&pos, where, sizeof(where)));
			if (flags & VRING_DESC_F_NEXT)
				return vq_break(vq, VQ_ERR_INDIRECT_NEXT, "%s",
						vq_pos(&pos, where, sizeof(where)));
			/*
			 * GUEST: table length: whole descriptors, at least one, and
			 * no more than the queue size (a chain is never longer than
			 * the queue, §2.7.5.3.1 / §2.7.13.1).
			 */
			if (len == 0 || len % DESC_SIZE || len / DESC_SIZE > vq->size)
				return vq_break(vq, VQ_ERR_INDIRECT_LEN, "%s: table length %u",
						vq_pos(&pos, where, sizeof(where)), len);
			/* GUEST: the whole table lies in one RAM region. */
			p = gm_ptr(vq->mem, addr, len);
			if (!p)
				return vq_break(vq, VQ_ERR_INDIRECT_ADDR, "%s: table %#llx +%u",
						vq_pos(&pos, where, sizeof(where)),
						(unsigned long long)addr, len);
			/* The device ignores WRITE on this descriptor (§2.7.5.3.2). */
			table = p;
			table_entries = len / DESC_SIZE;
			pos.table_at = pos.i;
			pos.indirect = true;
			pos.i = 0;
			continue;
		}

		/*
		 * GUEST: TTL.  A chain has at most queue-size buffers (§2.7.13.1),
		 * counting those in an indirect table: more means a loop.  This
		 * bound also keeps n within c->iov[VQ_MAX_SIZE].
		 */
		if (++n > vq->size)
			return vq_break(vq, VQ_ERR_LOOP, "%s: more than %u buffers",
					vq_pos(&pos, where, sizeof(where)), (unsigned int)vq->size);
		/* GUEST: buffer length, not zero. */
		if (len == 0)
			return vq_break(vq, VQ_ERR_ZERO_LEN, "%s: buffer %#llx +0",
					vq_pos(&pos, where, sizeof(where)), (unsigned long long)addr);
		/* GUEST: buffer address: all of [addr, addr + len) in one RAM region. */
		p = gm_ptr(vq->mem, addr, len);
		if (!p)
			return vq_break(vq, VQ_ERR_BUF_ADDR, "%s: buffer %#llx +%u",
					vq_pos(&pos, where, sizeof(where)),
					(unsigned long long)addr, len);
		if (flags & VRING_DESC_F_WRITE) {
			seen_writable = true;
			/* GUEST: the chain's writable total fits in used.len (32 bits). */
			if (__builtin_add_overflow(c->in_len, len, &c->in_len))
				return vq_break(vq, VQ_ERR_LEN_OVERFLOW, "%s: writable total above 4 GiB",
						vq_pos(&pos, where, sizeof(where)));
			c->nr_in++;
		} else {
			/* GUEST: readable buffers first, then writable (§2.7.4.2). */
			if (seen_writable)
				return vq_break(vq, VQ_ERR_ORDER, "%s",
						vq_pos(&pos, where, sizeof(where)));
			if (__builtin_add_overflow(c->out_len, len, &c->out_len))
				return vq_break(vq, VQ_ERR_LEN_OVERFLOW, "%s: readable total above 4 GiB",
						vq_pos(&pos, where, sizeof(where)));
			c->nr_out++;
		}
		c->iov[n - 1].iov_base = p;
		c->iov[n - 1].iov_len = len;

		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		/* GUEST: next index inside the table it indexes (§2.7.5). */
		if (next >= table_entries)
			return vq_break(vq, VQ_ERR_NEXT, "%s: next %u (table of %u)",
					vq_pos(&pos, where, sizeof(where)), (unsigned int)next,
					table_entries);
		pos.i = next;
	}
}

bool vq_has_avail(struct virtqueue *vq)
{
	if (!vq->ready)
		return false;
	return vq_avail_idx_acquire(vq) != vq->last_avail;
}

int vq_pop(struct virtqueue *vq, struct vq_chain *c)
{
	uint16_t avail_idx, pending, head;
	int ret;

	if (!vq->ready)
		return 0;	/* disabled or broken: callers loop until 0, never spin */

	avail_idx = vq_avail_idx_acquire(vq);
	if (avail_idx == vq->last_avail && vq->event_idx && !vq->no_notify) {
		/*
		 * Empty, and we want kicks: ask for one at the next entry
		 * (avail_event, §2.7.10), then look again.  Full barrier: our
		 * avail_event store must be visible before we reload idx, or the
		 * driver (store idx; mb; load avail_event) and we could both read
		 * stale values and the kick would be lost.
		 */
		vq_set_avail_event(vq, vq->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = vq_avail_idx_acquire(vq);
	}
	pending = (uint16_t)(avail_idx - vq->last_avail);
	if (pending == 0)
		return 0;
	/* GUEST: avail->idx, at most size entries ahead of what we took (§2.7.13.3). */
	if (pending > vq->size)
		return vq_break(vq, VQ_ERR_AVAIL_IDX, "avail->idx %u, device at %u, queue size %u",
				(unsigned int)avail_idx, (unsigned int)vq->last_avail,
				(unsigned int)vq->size);

	/* size is a power of 2, so idx % size stays right across the 16-bit wrap. */
	head = le16toh(__atomic_load_n(avail16(vq, AVAIL_RING + 2u * (vq->last_avail % vq->size)),
				       __ATOMIC_RELAXED));
	/* GUEST: head index, inside the descriptor table. */
	if (head >= vq->size)
		return vq_break(vq, VQ_ERR_HEAD, "avail ring entry %u: head %u (queue size %u)",
				(unsigned int)(vq->last_avail % vq->size), (unsigned int)head,
				(unsigned int)vq->size);

	/* GUEST: a head the device still owns (§2.7.13: the driver must wait for it in used). */
	if (vq_head_busy(vq, head))
		return vq_break(vq, VQ_ERR_HEAD_BUSY, "avail ring entry %u: head %u",
				(unsigned int)(vq->last_avail % vq->size), (unsigned int)head);

	ret = vq_walk(vq, head, c);
	if (ret)
		return ret;
	vq->in_len_of[head] = c->in_len;
	vq_head_mark(vq, head, true);
	vq->last_head = head;
	vq->last_avail++;
	vq->nr_pop++;
	if (trace_on(HV_TRACE_VIRTIO))
		vq_trace_pop(vq, c);
	return 1;
}

void vq_unpop(struct virtqueue *vq)
{
	if (!vq->ready || vq->nr_pop == 0)
		return;
	vq_head_mark(vq, vq->last_head, false);
	vq->last_avail--;
	vq->nr_pop--;
}

/* ---- the used ring ---- */

int vq_fill(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	uint32_t *elem;

	if (!vq->ready) {
		/* A stopped queue takes nothing more; completions after a break are dropped. */
		if (vq->broken)
			return -EINVAL;
		return vq_device_bug(vq, VQ_ERR_NOT_READY, "vq_fill(head %u, len %u)",
				     (unsigned int)head, len);
	}
	if (head >= vq->size)
		return vq_device_bug(vq, VQ_ERR_HEAD, "vq_fill(head %u, len %u), queue size %u",
				     (unsigned int)head, len, (unsigned int)vq->size);
	if (!vq_head_busy(vq, head))
		return vq_device_bug(vq, VQ_ERR_HEAD_IDLE, "vq_fill(head %u, len %u)",
				     (unsigned int)head, len);
	if (len > vq->in_len_of[head])
		return vq_device_bug(vq, VQ_ERR_USED_LEN, "vq_fill(head %u, len %u), writable part %u",
				     (unsigned int)head, len, vq->in_len_of[head]);
	vq_head_mark(vq, head, false);

	/* The driver reads no element past used->idx: this one stays ours until vq_flush(). */
	elem = (uint32_t *)((uint8_t *)vq->used + USED_RING + 8u * (vq->used_idx % vq->size));
	__atomic_store_n(&elem[0], htole32((uint32_t)head), __ATOMIC_RELAXED);
	__atomic_store_n(&elem[1], htole32(len), __ATOMIC_RELAXED);
	vq->used_idx++;
	vq->nr_push++;
	HV_TRACE(HV_TRACE_VIRTIO, "%s q%u: used: head %u, len %u (element %u)", vq->dev_name,
		 (unsigned int)vq->index, (unsigned int)head, len, (unsigned int)(vq->used_idx - 1));
	return 0;
}

void vq_flush(struct virtqueue *vq)
{
	if (!vq->ready || vq->used_published == vq->used_idx)
		return;
	/*
	 * Release: the used elements (and the data the device wrote into the
	 * buffers) must be visible before the new used->idx (§2.7.8.2); pairs
	 * with the driver's read barrier after it reads idx.
	 */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(used16(vq, USED_IDX), htole16(vq->used_idx), __ATOMIC_RELAXED);
	HV_TRACE(HV_TRACE_VIRTIO, "%s q%u: used idx %u -> %u (%u element(s) at once)", vq->dev_name,
		 (unsigned int)vq->index, (unsigned int)vq->used_published,
		 (unsigned int)vq->used_idx, (unsigned int)(uint16_t)(vq->used_idx - vq->used_published));
	vq->used_published = vq->used_idx;
	vq->nr_used_updates++;
}

int vq_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	int ret = vq_fill(vq, head, len);

	if (ret == 0)
		vq_flush(vq);
	return ret;
}

bool vq_should_interrupt(struct virtqueue *vq)
{
	uint16_t old, new, event = 0;
	bool valid, need;

	if (!vq->ready)
		return false;
	vq_flush(vq);		/* never signal what the driver cannot see yet */
	/*
	 * Full barrier: our used->idx store must be visible before we read
	 * the driver's flags/used_event.  The driver does the mirror image
	 * (store used_event; mb; load used->idx); with anything weaker both
	 * sides could read stale values and the interrupt would be lost.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	if (!vq->event_idx) {
		/* virtio 1.2 §2.7.7.2: without EVENT_IDX, honour NO_INTERRUPT (a hint). */
		need = !(vq_avail_flags(vq) & VRING_AVAIL_F_NO_INTERRUPT);
		HV_TRACE(HV_TRACE_IRQ, "%s q%u: %s (avail NO_INTERRUPT flag %s)", vq->dev_name,
			 (unsigned int)vq->index, need ? "interrupt" : "interrupt suppressed",
			 need ? "clear" : "set");
	} else {
		old = vq->signalled_used;
		new = vq->used_idx;
		valid = vq->signalled_valid;
		vq->signalled_used = new;
		vq->signalled_valid = true;
		if (!valid) {
			need = true;	/* nothing signalled yet: we cannot compare */
		} else {
			/*
			 * GUEST: used_event, any value is fine: vring_need_event()
			 * (§2.7.7.2) interrupts iff used_event lies in [old, new).
			 */
			event = vq_used_event(vq);
			need = (uint16_t)(new - event - 1) < (uint16_t)(new - old);
		}
		HV_TRACE(HV_TRACE_IRQ, "%s q%u: %s (EVENT_IDX: used idx %u -> %u, driver's used_event %u)",
			 vq->dev_name, (unsigned int)vq->index, need ? "interrupt" : "interrupt suppressed",
			 (unsigned int)old, (unsigned int)new, (unsigned int)event);
	}
	if (!need)
		vq->nr_notify_suppressed++;
	return need;
}

/* ---- kick suppression (§2.7.10) ---- */

void vq_notify_off(struct virtqueue *vq)
{
	if (!vq->ready)
		return;
	vq->no_notify = true;
	/*
	 * With EVENT_IDX the driver ignores used->flags; we simply stop moving
	 * avail_event, so its kicks stop once it is past the last value.
	 */
	if (!vq->event_idx)
		vq_set_used_flags(vq, VRING_USED_F_NO_NOTIFY);
}

bool vq_notify_on(struct virtqueue *vq)
{
	if (!vq->ready)
		return false;
	vq->no_notify = false;
	if (vq->event_idx)
		vq_set_avail_event(vq, vq->last_avail);
	else
		vq_set_used_flags(vq, 0);
	/*
	 * Full barrier: the store above must be visible before we look at
	 * avail->idx, or a buffer the driver published meanwhile (without a
	 * kick, as it still saw notifications off) would sit unseen.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vq_has_avail(vq);
}

/* ---- copying to and from a chain ---- */

/*
 * Copies between iov[0 .. nr) (from byte off of their concatenation) and a
 * flat buffer: into the iovecs from in when in is set, else out of them into out.
 */
static size_t vq_copy(const struct iovec *iov, unsigned int nr, size_t off, uint8_t *out,
		      const uint8_t *in, size_t len)
{
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < nr && done < len; i++) {
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - off;
		if (n > len - done)
			n = len - done;
		if (in)
			memcpy((uint8_t *)iov[i].iov_base + off, in + done, n);
		else
			memcpy(out + done, (const uint8_t *)iov[i].iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t vq_chain_read(const struct vq_chain *c, size_t off, void *dst, size_t len)
{
	return vq_copy(c->iov, c->nr_out, off, dst, NULL, len);
}

size_t vq_chain_write(const struct vq_chain *c, size_t off, const void *src, size_t len)
{
	return vq_copy(c->iov + c->nr_out, c->nr_in, off, NULL, src, len);
}
