/* virtio_blk.c: virtio-blk (virtio 1.2 §5.2): each request is parsed whole, then run on a raw image through io_uring. */
#include "devices/virtio_blk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/block/raw_image.h"
#include "hv/base/log.h"
#include "hv/base/trace.h"

#define VBLK_SECTOR		VIRTIO_BLK_SECTOR_SIZE
#define VBLK_HDR_LEN		((uint32_t)sizeof(struct virtio_blk_outhdr))
#define VBLK_SEG_LEN		((uint32_t)sizeof(struct virtio_blk_discard_write_zeroes))

/* Writing zeroes by hand (the file system refused fallocate): this buffer, many times per write. */
#define VBLK_ZERO_BUF		(64 * 1024)
#define VBLK_ZERO_IOVS		16		/* 1 MiB per write */


/*
 * Merging (as QEMU's virtio-blk does): reads, or writes, that the driver made
 * available together and that cover consecutive sectors go to the host as
 * ONE readv/writev, so a sequential stream costs fewer io_uring operations,
 * completions and wake-ups, and its requests complete together (one used->idx
 * update, one interrupt).  Bounds per merged operation: IOV_MAX buffers and
 * VBLK_MERGE_MAX bytes; VBLK_MERGES such operations per queue in flight (when
 * none is free, requests go one by one).  See vblk_issue_batch().
 */
#define VBLK_MERGE_IOV		IOV_MAX
#define VBLK_MERGE_MAX		(4u << 20)
#define VBLK_MERGES		8
/* io_uring tags: a request's address, or a merged operation's with this bit set. */
#define VBLK_TAG_MERGE		1u

/* A step's outcome: another operation is in flight, or the request is done with a status. */
#define VBLK_PENDING		(-1)

/* What a request's operation in flight is doing. */
enum vblk_step {
	VBLK_STEP_RW,			/* readv/writev of what remains of the data */
	VBLK_STEP_PUNCH,		/* fallocate(PUNCH_HOLE) of the current segment */
	VBLK_STEP_ZERO_RANGE,		/* fallocate(ZERO_RANGE) of the current segment */
	VBLK_STEP_WRITE_ZEROES,		/* writev from the zero buffer: what remains of the segment */
	VBLK_STEP_SYNC,			/* fdatasync: FLUSH, or the end of a write-through discard */
};

/* Why a request was refused: one name per rule, printed in one format (vblk_refuse()). */
enum vblk_req_error {
	VBLK_REQ_OK = 0,
	VBLK_REQ_NO_STATUS,		/* no device-writable byte for the status */
	VBLK_REQ_SHORT_HEADER,		/* fewer than 16 device-readable bytes for the header */
	VBLK_REQ_DIRECTION,		/* data missing, or flowing the wrong way for the type */
	VBLK_REQ_DATA_LEN,		/* data not a multiple of 512 bytes */
	VBLK_REQ_RANGE,			/* sector + length beyond the capacity */
	VBLK_REQ_READONLY,		/* a write to a read-only disk */
	VBLK_REQ_SEG_COUNT,		/* segments: payload not n * 16 bytes, or n is 0 or too many */
	VBLK_REQ_SEG_RANGE,		/* a segment empty, too long, or beyond the capacity */
	VBLK_REQ_SEG_FLAGS,		/* reserved flag bits, or unmap on a discard */
	VBLK_REQ_TYPE,			/* unknown type, or its feature was not negotiated */
	VBLK_REQ_NR
};

static const char *const vblk_req_error_name[VBLK_REQ_NR] = {
	[VBLK_REQ_OK] = "ok",
	[VBLK_REQ_NO_STATUS] = "no device-writable status byte",
	[VBLK_REQ_SHORT_HEADER] = "header not in the first 16 device-readable bytes",
	[VBLK_REQ_DIRECTION] = "data missing or in the wrong direction for the type",
	[VBLK_REQ_DATA_LEN] = "data length not a multiple of 512",
	[VBLK_REQ_RANGE] = "sector + length beyond the capacity",
	[VBLK_REQ_READONLY] = "write to a read-only disk",
	[VBLK_REQ_SEG_COUNT] = "segment list not 1..max segments of 16 bytes",
	[VBLK_REQ_SEG_RANGE] = "segment empty, too long or beyond the capacity",
	[VBLK_REQ_SEG_FLAGS] = "segment flags reserved or unmap on discard",
	[VBLK_REQ_TYPE] = "request type unsupported or not negotiated",
};

struct vblk;
struct vblk_queue;

/* One request slot.  A queue has as many as its size: the bound on requests in flight. */
struct vblk_req {
	struct vq_chain chain;		/* filled by vq_pop(); iov[] then trimmed to the data */
	struct vblk_queue *q;
	uint8_t *status;		/* the chain's last writable byte (a vq_pop()-checked pointer) */
	uint32_t type;			/* VIRTIO_BLK_T_* */
	enum vblk_step step;
	bool in_rw;			/* counted in q->nr_rw (a read or write in flight) */

	/* RW and WRITE_ZEROES: what remains to transfer. */
	struct iovec *iov;		/* inside chain.iov */
	unsigned int nr_iov;
	uint64_t off;			/* byte offset in the image */
	uint64_t len;			/* bytes */
	bool buffered;			/* O_DIRECT refused this request: use the page cache */
	struct vblk_req *next_merged;	/* the next member of r's merged operation, or NULL */

	/* DISCARD and WRITE_ZEROES: the segments, host-endian and checked. */
	struct virtio_blk_discard_write_zeroes seg[VBLK_MAX_DZ_SEG];
	unsigned int nr_seg, cur_seg;
	struct iovec zero_iov[VBLK_ZERO_IOVS];
};

/* One readv/writev for several requests of a queue (see VBLK_MERGE_IOV above). */
struct vblk_merge {
	struct vblk_req *first;		/* the members, in sector order, linked by next_merged */
	uint32_t type;			/* VIRTIO_BLK_T_IN or _OUT */
	uint64_t off, len;		/* bytes in the image: the members' ranges, end to end */
	unsigned int nr_iov;
	struct iovec iov[VBLK_MERGE_IOV];	/* the members' data buffers, copied in order */
};

struct vblk_queue {
	struct vblk *blk;
	uint16_t index;
	uint16_t nr_slots;		/* the queue's size, set by activate() */
	struct vblk_req *slot;		/* nr_slots of them, NULL while inactive */
	uint16_t *free;			/* stack of free slot indices */
	uint16_t nr_free;
	bool pushed;			/* used entries added since the last virtio_used() */
	bool starved;			/* every slot busy: popping resumes when one completes */
	/*
	 * Reads and writes in flight.  While there are any, the queue asks for
	 * no notifications: each completion looks at the ring anyway
	 * (q->polled), so requests that arrive meanwhile cost the guest no exit.
	 * Flushes, discards and write-zeroes can take long: they do not count.
	 */
	uint16_t nr_rw;
	bool polled;			/* notifications off while nr_rw: completions pop */
	/* Reads and writes popped in this pass, issued (merged where they can be) at its end. */
	struct vblk_req **batch;	/* nr_slots of them */
	uint16_t nr_batch;
	struct vblk_merge *merge;	/* VBLK_MERGES of them */
	uint32_t merge_busy;		/* bit i: merge[i] in flight */
};

struct vblk {
	struct virtio_dev vdev;		/* first: a struct virtio_dev * is a struct vblk * */
	struct virtio_blk_config cfg;	/* what the driver reads, little-endian */
	struct rawimg *img;		/* borrowed (hv/host.c): outlives the device */
	uint64_t capacity;		/* sectors, host-endian copy of cfg.capacity */
	char serial[VIRTIO_BLK_ID_BYTES];	/* NUL-padded, no NUL if 20 bytes */
	bool active;			/* between activate() and reset() */
	bool event_added;		/* img->event_fd on vdev.loop */
	bool writethrough;		/* FLUSH not negotiated: each write stable before it completes */
	bool warned_dio;
	struct vblk_queue *q;		/* vdev.nr_queues */
	void *zero_buf;			/* VBLK_ZERO_BUF zero bytes, 4096-aligned (O_DIRECT) */

	/* Rate limit of diagnostics. */

	/* Counters. */
	uint64_t nr_requests, nr_refused, nr_io_errors;
	uint64_t nr_type[VIRTIO_BLK_T_WRITE_ZEROES + 1];	/* parsed requests by VIRTIO_BLK_T_* */
	uint64_t bytes_read, bytes_written;
	uint64_t nr_merged_ops, nr_merged_reqs;	/* merged operations, and the requests in them */
	uint64_t nr_merge_splits;	/* merged operations that failed or fell short: redone one by one */
};

/* §5.2.4, byte for byte. */
_Static_assert(offsetof(struct virtio_blk_config, blk_size) == 20, "virtio_blk_config layout");
_Static_assert(offsetof(struct virtio_blk_config, num_queues) == 34, "virtio_blk_config layout");
_Static_assert(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56,
	       "virtio_blk_config layout");
_Static_assert(offsetof(struct virtio_blk_config, zoned) == 72, "virtio_blk_config layout");
_Static_assert(sizeof(struct virtio_blk_config) == 96, "virtio_blk_config layout");
_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "virtio_blk_outhdr layout");
_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16, "segment layout");

static struct vblk *to_vblk(struct virtio_dev *d)
{
	return (struct vblk *)d;
}

static unsigned int vblk_slot_index(const struct vblk_req *r)
{
	return (unsigned int)(r - r->q->slot);
}

/* The one diagnostic for a refused request. */
static void vblk_refuse(struct vblk *b, const struct vblk_req *r, enum vblk_req_error e)
{
	b->nr_refused++;
	HV_TRACE(HV_TRACE_VIRTIO, "%s q%u head %u: refused: %s", b->vdev.vq[0].dev_name, r->q->index,
		 r->chain.head, vblk_req_error_name[e]);
	virtio_warn(&b->vdev, "%s: %s: queue %u head %u: request refused: %s", b->vdev.ops->name,
		b->img->path, r->q->index, r->chain.head, vblk_req_error_name[e]);
}

static void vblk_io_error(struct vblk *b, const struct vblk_req *r, int res)
{
	static const char *const step_name[] = {
		[VBLK_STEP_RW] = "readv/writev", [VBLK_STEP_PUNCH] = "fallocate(PUNCH_HOLE)",
		[VBLK_STEP_ZERO_RANGE] = "fallocate(ZERO_RANGE)",
		[VBLK_STEP_WRITE_ZEROES] = "writev(zeroes)", [VBLK_STEP_SYNC] = "fdatasync",
	};

	b->nr_io_errors++;
	virtio_warn(&b->vdev, "%s: %s: %s at byte %" PRIu64 ": %s; the request fails with IOERR",
		b->vdev.ops->name, b->img->path,
		r->type == VIRTIO_BLK_T_IN && r->step == VBLK_STEP_RW ? "readv" :
		r->step == VBLK_STEP_RW ? "writev" : step_name[r->step], r->off,
		res ? strerror(-res) : "unexpected end of file");
}

/* Gives r back to the driver with its status (§5.2.6) and frees the slot. */
static void vblk_complete(struct vblk *b, struct vblk_req *r, uint8_t status)
{
	struct vblk_queue *q = r->q;

	*r->status = status;
	if (r->in_rw) {
		r->in_rw = false;
		q->nr_rw--;
	}
	HV_TRACE(HV_TRACE_VIRTIO, "%s q%u head %u: request done, status %s", b->vdev.vq[0].dev_name,
		 q->index, r->chain.head, status == VIRTIO_BLK_S_OK ? "OK" :
		 status == VIRTIO_BLK_S_IOERR ? "IOERR" : "UNSUPP");
	/*
	 * Used length: the whole writable part, as QEMU does; drivers read the
	 * status byte, and the legacy interface says to ignore the length.
	 */
	vq_fill(&b->vdev.vq[q->index], r->chain.head, r->chain.in_len);
	q->pushed = true;
	q->free[q->nr_free++] = (uint16_t)vblk_slot_index(r);
}

/* GUEST: [sector, sector + n) must lie inside the disk (sector <= capacity first: no overflow). */
static bool vblk_in_range(const struct vblk *b, uint64_t sector, uint64_t n)
{
	return sector <= b->capacity && n <= b->capacity - sector;
}

/* Drops the first n bytes of an iovec array (the header, or what a short transfer did). */
static void vblk_iov_advance(struct iovec **iov, unsigned int *nr, uint64_t n)
{
	while (n && *nr) {
		if (n < (*iov)->iov_len) {
			(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
			(*iov)->iov_len -= n;
			return;
		}
		n -= (*iov)->iov_len;
		(*iov)++;
		(*nr)--;
	}
}

/* IN and OUT: data length and range (§5.2.6: "in multiples of 512 bytes"). */
static enum vblk_req_error vblk_parse_data(struct vblk *b, struct vblk_req *r, uint64_t sector,
					   uint64_t len)
{
	/* GUEST: a length that is not whole sectors, then the range it covers. */
	if (len % VBLK_SECTOR)
		return VBLK_REQ_DATA_LEN;
	if (!vblk_in_range(b, sector, len / VBLK_SECTOR))
		return VBLK_REQ_RANGE;
	r->off = sector * VBLK_SECTOR;
	r->len = len;
	return VBLK_REQ_OK;
}

/* DISCARD and WRITE_ZEROES: the segment list (§5.2.6), all checked before any is run. */
static enum vblk_req_error vblk_parse_segments(struct vblk *b, struct vblk_req *r)
{
	const struct vq_chain *c = &r->chain;
	uint32_t payload = c->out_len - VBLK_HDR_LEN;
	bool discard = r->type == VIRTIO_BLK_T_DISCARD;
	enum vblk_req_error range_err = VBLK_REQ_OK;
	unsigned int i;

	/* GUEST: 1..max_*_seg segments of 16 bytes each. */
	if (payload == 0 || payload % VBLK_SEG_LEN || payload / VBLK_SEG_LEN > VBLK_MAX_DZ_SEG)
		return VBLK_REQ_SEG_COUNT;
	r->nr_seg = payload / VBLK_SEG_LEN;
	r->cur_seg = 0;
	vq_chain_read(c, VBLK_HDR_LEN, r->seg, payload);
	for (i = 0; i < r->nr_seg; i++) {
		struct virtio_blk_discard_write_zeroes *s = &r->seg[i];

		s->sector = le64toh(s->sector);
		s->num_sectors = le32toh(s->num_sectors);
		s->flags = le32toh(s->flags);
		/*
		 * GUEST: §5.2.6.2: UNSUPP for any unknown flag, and for unmap on a
		 * discard; this takes precedence over range errors in any segment.
		 */
		if (s->flags & ~VIRTIO_BLK_WZ_FLAG_UNMAP)
			return VBLK_REQ_SEG_FLAGS;
		if (discard && (s->flags & VIRTIO_BLK_WZ_FLAG_UNMAP))
			return VBLK_REQ_SEG_FLAGS;
		/* GUEST: each range non-empty, within max_*_sectors and inside the disk. */
		if (s->num_sectors == 0 || s->num_sectors > VBLK_MAX_DZ_SECTORS ||
		    !vblk_in_range(b, s->sector, s->num_sectors))
			range_err = VBLK_REQ_SEG_RANGE;
	}
	return range_err;
}

/*
 * Parse (GUIDE principle 4): checks everything about r before any I/O, and
 * sets up the data iovecs, offset and length.  The status byte was found by
 * the caller.
 */
static enum vblk_req_error vblk_parse(struct vblk *b, struct vblk_req *r)
{
	struct vq_chain *c = &r->chain;
	struct virtio_blk_outhdr h;
	struct iovec *last;
	uint64_t sector;

	/* GUEST: the 16-byte header is device-readable and comes first (§5.2.6). */
	if (c->out_len < VBLK_HDR_LEN)
		return VBLK_REQ_SHORT_HEADER;
	vq_chain_read(c, 0, &h, sizeof(h));
	r->type = le32toh(h.type);
	sector = le64toh(h.sector);

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		/* GUEST: header only, then writable data and the status byte. */
		if (c->out_len != VBLK_HDR_LEN || c->in_len < 2)
			return VBLK_REQ_DIRECTION;
		r->iov = &c->iov[c->nr_out];
		r->nr_iov = c->nr_in;
		last = &r->iov[r->nr_iov - 1];
		if (last->iov_len == 1)
			r->nr_iov--;
		else
			last->iov_len--;
		return vblk_parse_data(b, r, sector, (uint64_t)c->in_len - 1);
	case VIRTIO_BLK_T_OUT:
		/* §5.2.6.2: on a read-only device, IOERR and no data written. */
		if (b->img->readonly)
			return VBLK_REQ_READONLY;
		/* GUEST: header and readable data, then the status byte alone. */
		if (c->out_len == VBLK_HDR_LEN || c->in_len != 1)
			return VBLK_REQ_DIRECTION;
		r->iov = c->iov;
		r->nr_iov = c->nr_out;
		vblk_iov_advance(&r->iov, &r->nr_iov, VBLK_HDR_LEN);
		return vblk_parse_data(b, r, sector, (uint64_t)c->out_len - VBLK_HDR_LEN);
	case VIRTIO_BLK_T_FLUSH:
		/* Any payload is ignored; flushing is harmless even without VIRTIO_BLK_F_FLUSH. */
		return VBLK_REQ_OK;
	case VIRTIO_BLK_T_GET_ID:
		/* GUEST: room for at least one byte of the id before the status. */
		return c->in_len < 2 ? VBLK_REQ_DIRECTION : VBLK_REQ_OK;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (!virtio_has_feature(&b->vdev, r->type == VIRTIO_BLK_T_DISCARD ?
					VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES))
			return VBLK_REQ_TYPE;
		if (b->img->readonly)
			return VBLK_REQ_READONLY;
		return vblk_parse_segments(b, r);
	default:
		/* GET_LIFETIME, SECURE_ERASE, zoned and legacy SCSI requests: not offered. */
		return VBLK_REQ_TYPE;
	}
}

/* Queues the operation for r's current step.  0 or -errno (the ring refused). */
static int vblk_issue(struct vblk *b, struct vblk_req *r)
{
	struct rawimg *img = b->img;
	uint64_t tag = (uint64_t)(uintptr_t)r;
	bool buffered;

	switch (r->step) {
	case VBLK_STEP_RW:
		buffered = r->buffered || !rawimg_dio_aligned(img, r->iov, r->nr_iov, r->off);
		if (r->type == VIRTIO_BLK_T_IN)
			return rawimg_readv(img, r->iov, r->nr_iov, r->off, buffered, tag);
		return rawimg_writev(img, r->iov, r->nr_iov, r->off, buffered, b->writethrough, tag);
	case VBLK_STEP_PUNCH:
		return rawimg_fallocate(img, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					r->off, r->len, tag);
	case VBLK_STEP_ZERO_RANGE:
		return rawimg_fallocate(img, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
					r->off, r->len, tag);
	case VBLK_STEP_WRITE_ZEROES: {
		uint64_t left = r->len;
		unsigned int n = 0;

		while (left && n < VBLK_ZERO_IOVS) {
			r->zero_iov[n].iov_base = b->zero_buf;
			r->zero_iov[n].iov_len = left < VBLK_ZERO_BUF ? left : VBLK_ZERO_BUF;
			left -= r->zero_iov[n].iov_len;
			n++;
		}
		buffered = r->buffered || !rawimg_dio_aligned(img, r->zero_iov, n, r->off);
		return rawimg_writev(img, r->zero_iov, n, r->off, buffered, false, tag);
	}
	case VBLK_STEP_SYNC:
		return rawimg_flush(img, tag);
	}
	return -EINVAL;
}

static int vblk_kick(struct vblk *b, struct vblk_req *r)
{
	int ret = vblk_issue(b, r);

	if (ret) {
		vblk_io_error(b, r, ret);
		return VIRTIO_BLK_S_IOERR;
	}
	return VBLK_PENDING;
}

/* DISCARD / WRITE_ZEROES: starts segment cur_seg, or the final step once all are done. */
static int vblk_next_segment(struct vblk *b, struct vblk_req *r)
{
	while (r->cur_seg < r->nr_seg) {
		const struct virtio_blk_discard_write_zeroes *s = &r->seg[r->cur_seg];

		r->off = s->sector * VBLK_SECTOR;
		r->len = (uint64_t)s->num_sectors * VBLK_SECTOR;
		if (r->type == VIRTIO_BLK_T_DISCARD) {
			/* §5.2.6.2: the device MAY deallocate; where it cannot, a discard does nothing. */
			if (b->img->no_punch_hole) {
				r->cur_seg++;
				continue;
			}
			r->step = VBLK_STEP_PUNCH;
		} else if ((s->flags & VIRTIO_BLK_WZ_FLAG_UNMAP) && !b->img->no_punch_hole) {
			/* A punched hole reads back as zeroes, as §5.2.6.2 requires. */
			r->step = VBLK_STEP_PUNCH;
		} else if (!b->img->no_zero_range) {
			r->step = VBLK_STEP_ZERO_RANGE;
		} else {
			r->step = VBLK_STEP_WRITE_ZEROES;
		}
		return vblk_kick(b, r);
	}
	if (b->writethrough && r->step != VBLK_STEP_SYNC) {
		/* §5.2.6.2 case 1: without a negotiated FLUSH, stable before completion. */
		r->step = VBLK_STEP_SYNC;
		return vblk_kick(b, r);
	}
	return VIRTIO_BLK_S_OK;
}

static void vblk_note_fallback(struct vblk *b, const char *what)
{
	hv_info("%s: %s: the file system refused %s; falling back", b->vdev.ops->name,
		b->img->path, what);
}

/* O_DIRECT refused a transfer we thought aligned (an odd file system): retry via the page cache. */
static bool vblk_retry_buffered(struct vblk *b, struct vblk_req *r, int32_t res)
{
	if (res != -EINVAL || !b->img->direct || r->buffered)
		return false;
	if (!b->warned_dio) {
		hv_warn("%s: %s: O_DIRECT refused an aligned transfer; such requests go through "
			"the page cache", b->vdev.ops->name, b->img->path);
		b->warned_dio = true;
	}
	r->buffered = true;
	return true;
}

/* A transfer moved res bytes of r->len: VBLK_PENDING while some remain, else 0 (done). */
static int vblk_transfer_done(struct vblk *b, struct vblk_req *r, int32_t res,
			      struct iovec **iov, unsigned int *nr)
{
	if ((uint64_t)res < r->len) {
		/* A short transfer: go on with the rest. */
		r->off += (uint64_t)res;
		r->len -= (uint64_t)res;
		if (iov)
			vblk_iov_advance(iov, nr, (uint64_t)res);
		return vblk_kick(b, r);
	}
	r->len = 0;
	return VIRTIO_BLK_S_OK;
}

/* The operation of r's current step completed with res: VBLK_PENDING, or r's status. */
static int vblk_step_done(struct vblk *b, struct vblk_req *r, int32_t res)
{
	int ret;

	switch (r->step) {
	case VBLK_STEP_RW:
		if (res < 0 && vblk_retry_buffered(b, r, res))
			return vblk_kick(b, r);
		if (res <= 0) {
			/* res == 0: the image shrank under us. */
			vblk_io_error(b, r, res);
			return VIRTIO_BLK_S_IOERR;
		}
		*(r->type == VIRTIO_BLK_T_IN ? &b->bytes_read : &b->bytes_written) += (uint64_t)res;
		return vblk_transfer_done(b, r, res, &r->iov, &r->nr_iov);
	case VBLK_STEP_PUNCH:
		if (res == -EOPNOTSUPP) {
			b->img->no_punch_hole = true;
			vblk_note_fallback(b, "fallocate(PUNCH_HOLE)");
			if (r->type == VIRTIO_BLK_T_DISCARD) {
				r->cur_seg++;
				return vblk_next_segment(b, r);
			}
			r->step = b->img->no_zero_range ? VBLK_STEP_WRITE_ZEROES : VBLK_STEP_ZERO_RANGE;
			return vblk_kick(b, r);
		}
		break;
	case VBLK_STEP_ZERO_RANGE:
		if (res == -EOPNOTSUPP) {
			b->img->no_zero_range = true;
			vblk_note_fallback(b, "fallocate(ZERO_RANGE)");
			r->step = VBLK_STEP_WRITE_ZEROES;
			return vblk_kick(b, r);
		}
		break;
	case VBLK_STEP_WRITE_ZEROES:
		if (res < 0 && vblk_retry_buffered(b, r, res))
			return vblk_kick(b, r);
		if (res <= 0) {
			vblk_io_error(b, r, res);
			return VIRTIO_BLK_S_IOERR;
		}
		ret = vblk_transfer_done(b, r, res, NULL, NULL);
		if (ret != VIRTIO_BLK_S_OK)
			return ret;
		r->cur_seg++;
		return vblk_next_segment(b, r);
	case VBLK_STEP_SYNC:
		if (res < 0) {
			vblk_io_error(b, r, res);
			return VIRTIO_BLK_S_IOERR;
		}
		return VIRTIO_BLK_S_OK;
	}
	/* PUNCH and ZERO_RANGE: the segment is done, or failed. */
	if (res < 0) {
		vblk_io_error(b, r, res);
		return VIRTIO_BLK_S_IOERR;
	}
	r->cur_seg++;
	return vblk_next_segment(b, r);
}

/* Issues r's current step alone; answers r at once if the ring refused it. */
static void vblk_issue_one(struct vblk *b, struct vblk_req *r)
{
	int ret = vblk_kick(b, r);

	if (ret != VBLK_PENDING)
		vblk_complete(b, r, (uint8_t)ret);
}

/*
 * A merged operation completed.  Whole: every member is done.  Failed or
 * short (an error, the image shrank, a file system that refused O_DIRECT):
 * each member is redone on its own, so that each gets its own outcome and
 * the usual handling (a short transfer continued, a buffered retry, IOERR).
 */
static void vblk_merge_done(struct vblk *b, struct vblk_merge *m, int32_t res)
{
	struct vblk_queue *q = m->first->q;
	struct vblk_req *r = m->first, *next;
	bool whole = res >= 0 && (uint64_t)res == m->len;

	q->merge_busy &= ~(1u << (m - q->merge));
	if (whole)
		*(m->type == VIRTIO_BLK_T_IN ? &b->bytes_read : &b->bytes_written) += m->len;
	else
		b->nr_merge_splits++;
	for (; r; r = next) {
		next = r->next_merged;
		r->next_merged = NULL;
		if (whole) {
			r->len = 0;
			vblk_complete(b, r, VIRTIO_BLK_S_OK);
		} else {
			vblk_issue_one(b, r);
		}
	}
}

/* An io_uring completion (on the I/O thread, d->lock held). */
static void vblk_io_done(void *opaque, uint64_t tag, int32_t res)
{
	struct vblk *b = opaque;
	struct vblk_req *r;
	int ret;

	if (tag & VBLK_TAG_MERGE) {
		vblk_merge_done(b, (struct vblk_merge *)(uintptr_t)(tag & ~(uint64_t)VBLK_TAG_MERGE), res);
		return;
	}
	r = (struct vblk_req *)(uintptr_t)tag;
	ret = vblk_step_done(b, r, res);
	if (ret != VBLK_PENDING)
		vblk_complete(b, r, (uint8_t)ret);
}

/* A chain just popped: parse it, answer it at once, or start its first operation. */
static void vblk_start(struct vblk *b, struct vblk_queue *q, struct vblk_req *r)
{
	struct vq_chain *c = &r->chain;
	struct iovec *last;
	enum vblk_req_error e;
	int ret;

	b->nr_requests++;
	r->q = q;
	r->buffered = false;
	r->nr_seg = r->cur_seg = 0;
	r->off = r->len = 0;
	r->in_rw = false;
	r->type = UINT32_MAX;
	/* GUEST: the status is the last device-writable byte (§5.2.6). */
	if (c->in_len == 0) {
		/* Nowhere to say it failed: give the chain back with nothing written. */
		vblk_refuse(b, r, VBLK_REQ_NO_STATUS);
		vq_fill(&b->vdev.vq[q->index], c->head, 0);
		q->pushed = true;
		q->free[q->nr_free++] = (uint16_t)vblk_slot_index(r);
		return;
	}
	last = &c->iov[c->nr_out + c->nr_in - 1];
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;

	e = vblk_parse(b, r);
	if (e != VBLK_REQ_OK) {
		vblk_refuse(b, r, e);
		vblk_complete(b, r, e == VBLK_REQ_TYPE || e == VBLK_REQ_SEG_FLAGS ?
			      VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR);
		return;
	}
	b->nr_type[r->type]++;	/* parsed: a type vblk_parse() knows, <= WRITE_ZEROES */
	HV_TRACE(HV_TRACE_VIRTIO, "%s q%u head %u: %s, sector %" PRIu64 ", %" PRIu64 " B%s",
		 b->vdev.vq[0].dev_name, q->index, c->head, r->type == VIRTIO_BLK_T_IN ? "IN (read)" :
		 r->type == VIRTIO_BLK_T_OUT ? "OUT (write)" : r->type == VIRTIO_BLK_T_FLUSH ? "FLUSH" :
		 r->type == VIRTIO_BLK_T_GET_ID ? "GET_ID" : r->type == VIRTIO_BLK_T_DISCARD ? "DISCARD" :
		 "WRITE_ZEROES", r->nr_seg ? r->seg[0].sector : r->off / VBLK_SECTOR,
		 r->nr_seg ? (uint64_t)r->seg[0].num_sectors * VBLK_SECTOR : r->len,
		 r->nr_seg > 1 ? " (the first segment)" : "");
	switch (r->type) {
	case VIRTIO_BLK_T_GET_ID: {
		size_t room = c->in_len - 1;

		/* §5.2.6: up to 20 bytes, NUL-padded, no NUL when 20 long. */
		vq_chain_write(c, 0, b->serial, room < sizeof(b->serial) ? room : sizeof(b->serial));
		vblk_complete(b, r, VIRTIO_BLK_S_OK);
		return;
	}
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		/* Issued at the end of this pass, with the others: vblk_issue_batch(). */
		r->step = VBLK_STEP_RW;
		r->next_merged = NULL;
		r->in_rw = true;
		q->nr_rw++;
		q->batch[q->nr_batch++] = r;
		return;
	case VIRTIO_BLK_T_FLUSH:
		r->step = VBLK_STEP_SYNC;
		ret = vblk_kick(b, r);
		break;
	default:		/* DISCARD, WRITE_ZEROES */
		r->step = VBLK_STEP_PUNCH;	/* anything but SYNC */
		ret = vblk_next_segment(b, r);
		break;
	}
	if (ret != VBLK_PENDING)
		vblk_complete(b, r, (uint8_t)ret);
}

/* Batch order: reads before writes, each by offset, so neighbours sit side by side. */
static int vblk_batch_order(const void *pa, const void *pb)
{
	const struct vblk_req *x = *(struct vblk_req *const *)pa, *y = *(struct vblk_req *const *)pb;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Can O_DIRECT take r's buffers as they are (else r goes alone, through the page cache)? */
static bool vblk_direct_ok(const struct vblk *b, const struct vblk_req *r)
{
	return rawimg_dio_aligned(b->img, r->iov, r->nr_iov, r->off);
}

/* Queues batch[0..n) (>= 2 neighbours) as one operation; false if no merge slot is free. */
static bool vblk_issue_merged(struct vblk *b, struct vblk_queue *q, struct vblk_req **batch,
			      unsigned int n)
{
	struct vblk_merge *m;
	unsigned int i, k;
	uint64_t tag;
	int ret;

	for (k = 0; k < VBLK_MERGES && (q->merge_busy & (1u << k)); k++)
		;
	if (k == VBLK_MERGES)
		return false;
	m = &q->merge[k];
	m->first = batch[0];
	m->type = batch[0]->type;
	m->off = batch[0]->off;
	m->len = 0;
	m->nr_iov = 0;
	for (i = 0; i < n; i++) {
		memcpy(&m->iov[m->nr_iov], batch[i]->iov, batch[i]->nr_iov * sizeof(struct iovec));
		m->nr_iov += batch[i]->nr_iov;
		m->len += batch[i]->len;
		batch[i]->next_merged = i + 1 < n ? batch[i + 1] : NULL;
	}
	tag = (uint64_t)(uintptr_t)m | VBLK_TAG_MERGE;
	ret = m->type == VIRTIO_BLK_T_IN ?
	      rawimg_readv(b->img, m->iov, m->nr_iov, m->off, false, tag) :
	      rawimg_writev(b->img, m->iov, m->nr_iov, m->off, false, b->writethrough, tag);
	if (ret) {
		for (i = 0; i < n; i++)
			batch[i]->next_merged = NULL;
		return false;	/* one by one: each gets the ring's refusal as its IOERR */
	}
	q->merge_busy |= 1u << k;
	b->nr_merged_ops++;
	b->nr_merged_reqs += n;
	HV_TRACE(HV_TRACE_VIRTIO, "%s q%u: %u %s merged into one %s of %" PRIu64 " B at sector %" PRIu64,
		 b->vdev.vq[0].dev_name, q->index, n, m->type == VIRTIO_BLK_T_IN ? "reads" : "writes",
		 m->type == VIRTIO_BLK_T_IN ? "readv" : "writev", m->len, m->off / VBLK_SECTOR);
	return true;
}

/*
 * Issues the reads and writes this pass popped: sorted, neighbours (same
 * type, the next starting where the last ends, O_DIRECT-ready, within the
 * bounds above) as one operation, the others one by one.  Requests in flight
 * together have no order among them (§5.2.6.4: a driver that needs one waits
 * for the completion), so sorting them is free.
 */
static void vblk_issue_batch(struct vblk *b, struct vblk_queue *q)
{
	unsigned int n = q->nr_batch, i = 0, j, nr_iov;
	struct vblk_req **batch = q->batch;
	uint64_t len;

	q->nr_batch = 0;
	if (n > 1)
		qsort(batch, n, sizeof(*batch), vblk_batch_order);
	while (i < n) {
		nr_iov = batch[i]->nr_iov;
		len = batch[i]->len;
		/* The first one's alignment is looked at only once it has a neighbour. */
		for (j = i + 1; j < n && batch[j]->type == batch[i]->type &&
		     batch[j]->off == batch[j - 1]->off + batch[j - 1]->len &&
		     nr_iov + batch[j]->nr_iov <= VBLK_MERGE_IOV &&
		     len + batch[j]->len <= VBLK_MERGE_MAX &&
		     (j > i + 1 || vblk_direct_ok(b, batch[i])) && vblk_direct_ok(b, batch[j]); j++) {
			nr_iov += batch[j]->nr_iov;
			len += batch[j]->len;
		}
		if (j - i < 2 || !vblk_issue_merged(b, q, &batch[i], j - i))
			for (unsigned int k = i; k < j; k++)
				vblk_issue_one(b, batch[k]);
		i = j;
	}
}

static void vblk_submit(struct vblk *b)
{
	int ret = rawimg_submit(b->img);

	if (ret)
		virtio_warn(&b->vdev, "%s: %s: io_uring_submit: %s; retrying at the next completion",
			b->vdev.ops->name, b->img->path, strerror(-ret));
}

/*
 * Publishes everything completed on queue q since the last time with one
 * used->idx update, and interrupts the driver at most once for it.
 */
static void vblk_flush_used(struct vblk *b, struct vblk_queue *q)
{
	if (q->pushed) {
		q->pushed = false;
		virtio_used(&b->vdev, q->index);	/* vq_flush(), then the interrupt if asked */
	}
}

/*
 * Takes every available request of queue qi (while slots last) and queues
 * their I/O; the caller submits the batch with one io_uring_submit() and
 * publishes what was answered at once.  Notifications stay off (§2.7.10)
 * while the ring is drained, while every slot is busy, and while reads or
 * writes are in flight: their completions call us again.  Only an idle
 * queue asks the driver to notify.
 */
static void vblk_process(struct vblk *b, unsigned int qi)
{
	struct virtio_dev *d = &b->vdev;
	struct virtqueue *vq = &d->vq[qi];
	struct vblk_queue *q = &b->q[qi];
	int ret = 0;

	if (!b->active || !q->slot || !vq->ready)
		return;
	q->starved = false;
	for (;;) {
		/* §2.7.10: no notifications while we drain the ring. */
		vq_notify_off(vq);
		while (q->nr_free) {
			struct vblk_req *r = &q->slot[q->free[q->nr_free - 1]];

			ret = vq_pop(vq, &r->chain);
			if (ret <= 0)
				break;
			q->nr_free--;
			vblk_start(b, q, r);
		}
		if (ret < 0) {
			/* A broken ring (logged by vq_pop): the queue stops until a reset. */
			virtio_needs_reset(d);
			break;
		}
		if (q->nr_free == 0) {
			/* Every slot busy: notifications stay off, a completion resumes us. */
			q->starved = true;
			break;
		}
		q->polled = q->nr_rw != 0;
		if (q->polled) {
			/* A read or write completes soon: its completion looks again. */
			break;
		}
		if (!vq_notify_on(vq))
			break;
	}
	vblk_issue_batch(b, q);
}

/* Turns a completion turn may take: completions that arrive during one are reaped by it. */
#define VBLK_REAP_ROUNDS	4

/* The ring's eventfd (on the I/O thread): completions are in. */
static void vblk_io_ready(void *opaque, int fd, uint32_t events)
{
	struct vblk *b = opaque;
	unsigned int i, round;

	(void)fd;
	(void)events;
	pthread_mutex_lock(&b->vdev.lock);
	HV_TRACE(HV_TRACE_VIRTIO, "%s: io_uring completions signalled: the I/O thread woke",
		 b->vdev.vq[0].dev_name);
	/* After a reset the ring is empty: a late call just clears the eventfd. */
	for (round = 0; round < VBLK_REAP_ROUNDS; round++) {
		rawimg_reap(b->img, b->active ? vblk_io_done : NULL, b);
		if (!b->active)
			break;
		for (i = 0; i < b->vdev.nr_queues; i++) {
			struct vblk_queue *q = &b->q[i];

			/* Notifications were off: what arrived meanwhile is ours to see. */
			if ((q->starved && q->nr_free) || q->polled)
				vblk_process(b, i);
		}
		/* The next steps queued by the completions, and the new requests: one submit. */
		vblk_submit(b);
		/*
		 * Completions that arrived meanwhile (during the submit, say) go out
		 * with this turn's: one used->idx update and at most one interrupt
		 * for all of them, instead of another turn and another interrupt.
		 */
		if (!rawimg_completions_ready(b->img))
			break;
	}
	if (b->active)
		for (i = 0; i < b->vdev.nr_queues; i++)
			vblk_flush_used(b, &b->q[i]);
	pthread_mutex_unlock(&b->vdev.lock);
}

/* ---- the ops ---- */

static void vblk_reset(struct virtio_dev *d);

static void vblk_free_slots(struct vblk *b)
{
	unsigned int i;

	for (i = 0; i < b->vdev.nr_queues; i++) {
		struct vblk_queue *q = &b->q[i];

		free(q->slot);
		free(q->free);
		free(q->batch);
		free(q->merge);
		q->slot = NULL;
		q->free = NULL;
		q->batch = NULL;
		q->merge = NULL;
		q->merge_busy = 0;
		q->nr_batch = 0;
		q->nr_slots = q->nr_free = 0;
		q->pushed = q->starved = q->polled = false;
		q->nr_rw = 0;
	}
}

static int vblk_activate(struct virtio_dev *d)
{
	struct vblk *b = to_vblk(d);
	unsigned int i, j;
	int ret;

	/*
	 * §5.2.6.2: if FLUSH was offered but not negotiated, a write is stable
	 * when it completes (RWF_DSYNC; fdatasync after fallocate).
	 */
	b->writethrough = !virtio_has_feature(d, VIRTIO_BLK_F_FLUSH);
	/* Activated twice without a reset (a transport bug): quiesce first, never free busy slots. */
	if (b->active || b->img->in_flight)
		vblk_reset(d);
	for (i = 0; i < d->nr_queues; i++) {
		struct vblk_queue *q = &b->q[i];
		uint16_t size = d->vq[i].ready ? d->vq[i].size : 0;

		if (!size)
			continue;
		/* One slot per descriptor the driver can give us: the bound on requests in flight. */
		q->slot = calloc(size, sizeof(*q->slot));
		q->free = calloc(size, sizeof(*q->free));
		q->batch = calloc(size, sizeof(*q->batch));
		q->merge = calloc(VBLK_MERGES, sizeof(*q->merge));	/* 128 KiB, touched as used */
		if (!q->slot || !q->free || !q->batch || !q->merge) {
			virtio_warn(&b->vdev, "%s: %s: out of memory for %u request slots", d->ops->name,
			       b->img->path, size);
			vblk_free_slots(b);
			return -ENOMEM;
		}
		/*
		 * Slots are ~5 KiB (a whole vq_chain); they are not touched here, and
		 * the free stack hands out the most recently used first, so only as
		 * many pages as requests actually in flight become resident.
		 */
		q->nr_slots = size;
		for (j = 0; j < size; j++)
			q->free[j] = (uint16_t)(size - 1 - j);
		q->nr_free = size;
	}
	if (!b->event_added) {
		ret = ev_add(d->loop, b->img->event_fd, 0, vblk_io_ready, b);
		if (ret) {
			virtio_warn(&b->vdev, "%s: %s: cannot watch io_uring completions: %s", d->ops->name,
			       b->img->path, strerror(-ret));
			vblk_free_slots(b);
			return ret;
		}
		b->event_added = true;
	}
	b->active = true;
	return 0;
}

static void vblk_notify(struct virtio_dev *d, unsigned int q)
{
	struct vblk *b = to_vblk(d);

	if (q >= d->nr_queues)
		return;
	vblk_process(b, q);
	vblk_submit(b);
	vblk_flush_used(b, &b->q[q]);	/* requests answered at once (refused, GET_ID) */
}

/*
 * §2.4: waits for every operation in flight (reads still write into guest
 * buffers until they complete), drops them unanswered, frees the slots.
 * After it returns nothing touches guest memory.
 */
static void vblk_reset(struct virtio_dev *d)
{
	struct vblk *b = to_vblk(d);
	int ret;

	b->active = false;
	ret = rawimg_drain(b->img, NULL, NULL);
	if (ret)
		virtio_warn(&b->vdev, "%s: %s: cannot wait for I/O in flight: %s", d->ops->name, b->img->path,
		       strerror(-ret));
	if (b->event_added) {
		ev_del(d->loop, b->img->event_fd);
		b->event_added = false;
	}
	vblk_free_slots(b);
}

/*
 * The image is not ours to close: it lives across guest reboots (opened once,
 * before hvrun dropped its privileges).  So hand it back as the next boot's
 * device expects it: nothing in flight (reads still write into guest memory,
 * writes of zeroes read zero_buf, until they complete) and no stale
 * completion or eventfd count left behind.
 */
static void vblk_release_image(struct vblk *b)
{
	int ret = rawimg_drain(b->img, NULL, NULL);

	if (ret)
		virtio_warn(&b->vdev, "%s: %s: cannot wait for I/O in flight: %s", b->vdev.ops->name,
		       b->img->path, strerror(-ret));
	rawimg_reap(b->img, NULL, NULL);
}

static void vblk_destroy(struct virtio_dev *d)
{
	struct vblk *b = to_vblk(d);

	b->active = false;
	if (b->event_added)
		ev_del(d->loop, b->img->event_fd);
	vblk_release_image(b);
	vblk_free_slots(b);
	free(b->q);
	free(b->zero_buf);
	virtio_dev_cleanup(d);
	free(b);
}

static const struct virtio_dev_ops vblk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.pci_class = VBLK_PCI_CLASS,
	.activate = vblk_activate,
	.notify = vblk_notify,
	.reset = vblk_reset,
	.destroy = vblk_destroy,
};

/* The default serial: the file name, printable ASCII without spaces, at most 20 bytes. */
static void vblk_default_serial(char *serial, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t i;

	base = base && base[1] ? base + 1 : path;
	memset(serial, 0, VIRTIO_BLK_ID_BYTES);
	for (i = 0; i < VIRTIO_BLK_ID_BYTES && base[i]; i++)
		serial[i] = base[i] > ' ' && base[i] < 0x7f ? base[i] : '_';
}

static unsigned int vblk_log2(uint32_t v)
{
	unsigned int n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

static void vblk_set_capacity(struct vblk *b, uint64_t bytes, bool quiet)
{
	if (bytes % VBLK_SECTOR && !quiet)
		hv_warn("%s: %s: size %" PRIu64 " is not a multiple of 512; the last %" PRIu64
			" bytes are not visible to the guest", b->vdev.ops->name, b->img->path,
			bytes, bytes % VBLK_SECTOR);
	b->capacity = bytes / VBLK_SECTOR;
	b->cfg.capacity = htole64(b->capacity);
}

/* Device configuration (§5.2.4); fields of features not offered stay 0. */
static void vblk_fill_config(struct vblk *b, uint16_t nr_queues)
{
	struct virtio_blk_config *c = &b->cfg;
	uint32_t phys_sectors = b->img->phys_block / VBLK_SECTOR;

	c->seg_max = htole32(VBLK_SEG_MAX);
	c->blk_size = htole32(VBLK_SECTOR);
	c->topology.physical_block_exp = (uint8_t)vblk_log2(phys_sectors);
	c->topology.alignment_offset = 0;
	c->topology.min_io_size = htole16((uint16_t)phys_sectors);
	c->topology.opt_io_size = htole32(0);
	c->num_queues = htole16(nr_queues);
	if (!b->img->readonly) {
		c->max_discard_sectors = htole32(VBLK_MAX_DZ_SECTORS);
		c->max_discard_seg = htole32(VBLK_MAX_DZ_SEG);
		c->discard_sector_alignment = htole32(phys_sectors);
		c->max_write_zeroes_sectors = htole32(VBLK_MAX_DZ_SECTORS);
		c->max_write_zeroes_seg = htole32(VBLK_MAX_DZ_SEG);
		c->write_zeroes_may_unmap = 1;
	}
}

int vblk_open_image(struct rawimg *img, const char *path, bool readonly, bool cache_none,
		    uint16_t nr_queues, char *err, size_t errlen)
{
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (nr_queues == 0)
		return hv_fail(err, errlen, -EINVAL, "%s: a disk needs at least one queue",
			       path ? path : "virtio-blk");
	/* Each request has at most one operation in flight, and a queue at most QUEUE_MAX requests. */
	ret = rawimg_open(img, path, readonly, cache_none,
			  (unsigned int)nr_queues * VBLK_QUEUE_MAX, err, errlen);
	if (ret)
		return ret;
	if (img->size < VBLK_SECTOR) {
		ret = hv_fail(err, errlen, -EINVAL, "%s: too small for a disk: %" PRIu64 " bytes, "
			      "less than one 512-byte sector", path, img->size);
		rawimg_close(img);
	}
	return ret;
}

int vblk_create(const struct vblk_options *o, const struct guest_mem *mem, struct ev_loop *loop,
		uint16_t nr_queues, struct virtio_dev **out, char *err, size_t errlen)
{
	struct rawimg *img = o ? o->img : NULL;
	uint64_t features;
	struct vblk *b;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!img || img->fd < 0 || !mem || !loop || !out || nr_queues == 0) {
		if (err && errlen)
			snprintf(err, errlen, "virtio-blk: missing image, memory, loop or queues");
		return -EINVAL;
	}
	/* The ring was sized for so many requests in flight: more queues could overflow it. */
	if ((unsigned int)nr_queues * VBLK_QUEUE_MAX > img->depth) {
		if (err && errlen)
			snprintf(err, errlen, "%s: opened for %u queue(s), not %u", img->path,
				 img->depth / VBLK_QUEUE_MAX, nr_queues);
		return -EINVAL;
	}
	/* The previous device (the last boot's) drained it; anything else is a host-side bug. */
	if (img->in_flight) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %u operation(s) still in flight", img->path,
				 img->in_flight);
		return -EBUSY;
	}
	if (o->serial && strlen(o->serial) > VIRTIO_BLK_ID_BYTES) {
		if (err && errlen)
			snprintf(err, errlen, "%s: serial '%s' is longer than %d bytes", img->path,
				 o->serial, VIRTIO_BLK_ID_BYTES);
		return -EINVAL;
	}
	/* The size may have changed since the image was opened (an earlier boot, the host). */
	ret = rawimg_refresh_size(img);
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read its size: %s", img->path,
				 strerror(-ret));
		return ret;
	}
	if (img->size < VBLK_SECTOR) {
		if (err && errlen)
			snprintf(err, errlen, "%s: too small for a disk: %" PRIu64 " bytes, less "
				 "than one 512-byte sector", img->path, img->size);
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->img = img;

	features = VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
		   VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_TOPOLOGY) |
		   VIRTIO_BIT(VIRTIO_BLK_F_MQ) |
		   VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	if (img->readonly)
		features |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	else
		features |= VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	ret = virtio_dev_init(&b->vdev, &vblk_ops, mem, loop, nr_queues, VBLK_QUEUE_MAX,
			      features, &b->cfg, sizeof(b->cfg));
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "%s: virtio-blk: %s", img->path, strerror(-ret));
		free(b);
		return ret;
	}
	virtio_set_label(&b->vdev, img->path);
	b->q = calloc(nr_queues, sizeof(*b->q));
	if (!b->q || posix_memalign(&b->zero_buf, 4096, VBLK_ZERO_BUF)) {
		b->zero_buf = NULL;
		ret = -ENOMEM;
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", img->path);
		goto fail_dev;
	}
	memset(b->zero_buf, 0, VBLK_ZERO_BUF);
	for (uint16_t i = 0; i < nr_queues; i++) {
		b->q[i].blk = b;
		b->q[i].index = i;
	}
	vblk_set_capacity(b, img->size, false);
	vblk_fill_config(b, nr_queues);
	if (o->serial) {
		memset(b->serial, 0, sizeof(b->serial));
		memcpy(b->serial, o->serial, strlen(o->serial));
	} else {
		vblk_default_serial(b->serial, img->path);
	}
	hv_info("%s: %s: %" PRIu64 " sectors, %s, cache=%s, %u queue(s), host block %u",
		vblk_ops.name, img->path, b->capacity, img->readonly ? "read-only" : "read-write",
		img->direct ? "none" : "writeback", nr_queues, img->phys_block);
	*out = &b->vdev;
	return 0;
fail_dev:
	free(b->q);
	virtio_dev_cleanup(&b->vdev);
	free(b);
	return ret;
}

int vblk_resize(struct virtio_dev *d)
{
	struct vblk *b = to_vblk(d);
	uint64_t old = b->capacity;
	int ret = rawimg_refresh_size(b->img);

	if (ret)
		return ret;
	/* Warn about a partial last sector once per new size, not at every resize request. */
	vblk_set_capacity(b, b->img->size, b->img->size / VBLK_SECTOR == old);
	if (b->capacity != old)
		virtio_config_changed(d);	/* §5.2.6.2: SHOULD trigger a configuration change notification */
	return 0;
}

uint64_t vblk_capacity(struct virtio_dev *d)
{
	return to_vblk(d)->capacity;
}

void vblk_get_stats(struct virtio_dev *d, struct vblk_stats *out)
{
	struct vblk *b = to_vblk(d);

	*out = (struct vblk_stats){
		.requests = b->nr_requests,
		.reads = b->nr_type[VIRTIO_BLK_T_IN], .writes = b->nr_type[VIRTIO_BLK_T_OUT],
		.flushes = b->nr_type[VIRTIO_BLK_T_FLUSH],
		.discards = b->nr_type[VIRTIO_BLK_T_DISCARD],
		.write_zeroes = b->nr_type[VIRTIO_BLK_T_WRITE_ZEROES],
		.get_ids = b->nr_type[VIRTIO_BLK_T_GET_ID],
		.refused = b->nr_refused, .io_errors = b->nr_io_errors,
		.bytes_read = b->bytes_read, .bytes_written = b->bytes_written,
		.merged_ops = b->nr_merged_ops, .merged_requests = b->nr_merged_reqs,
		.merge_splits = b->nr_merge_splits,
		.backend_submissions = b->img->nr_submitted,
		.backend_completions = b->img->nr_completed,
		.backend_submit_calls = b->img->nr_submit_calls,
		.backend_reaps = b->img->nr_reaps,
		.backend_errors = b->img->nr_errors,
		.backend_bytes_read = b->img->bytes_read,
		.backend_bytes_written = b->img->bytes_written,
		.backend_in_flight = b->img->in_flight,
	};
}

/* ---- the device table ---- */

static int vblk_device_create(const struct virtio_dev_args *a, const void *config,
			      struct virtio_dev **out, char *err, size_t errlen)
{
	const struct vblk_device_options *c = config;

	return vblk_create(&c->opts, a->mem, a->loop, c->nr_queues, out, err, errlen);
}

static size_t vblk_counters(struct virtio_dev *d, struct virtio_counter *out, size_t max)
{
	struct vblk_stats s;
	size_t n = 0;

	vblk_get_stats(d, &s);
	virtio_counter_add(out, max, &n, "blk", "requests", s.requests);
	virtio_counter_add(out, max, &n, "blk", "reads", s.reads);
	virtio_counter_add(out, max, &n, "blk", "writes", s.writes);
	virtio_counter_add(out, max, &n, "blk", "flushes", s.flushes);
	virtio_counter_add(out, max, &n, "blk", "discards", s.discards);
	virtio_counter_add(out, max, &n, "blk", "write_zeroes", s.write_zeroes);
	virtio_counter_add(out, max, &n, "blk", "get_ids", s.get_ids);
	virtio_counter_add(out, max, &n, "blk", "bytes_read", s.bytes_read);
	virtio_counter_add(out, max, &n, "blk", "bytes_written", s.bytes_written);
	virtio_counter_add(out, max, &n, "blk", "refused", s.refused);
	virtio_counter_add(out, max, &n, "blk", "errors", s.io_errors);
	virtio_counter_add(out, max, &n, "blk", "merged_ops", s.merged_ops);
	virtio_counter_add(out, max, &n, "blk", "merged_requests", s.merged_requests);
	virtio_counter_add(out, max, &n, "blk", "merge_splits", s.merge_splits);
	virtio_counter_add(out, max, &n, "backend", "submissions", s.backend_submissions);
	virtio_counter_add(out, max, &n, "backend", "completions", s.backend_completions);
	virtio_counter_add(out, max, &n, "backend", "submit_calls", s.backend_submit_calls);
	virtio_counter_add(out, max, &n, "backend", "reaps", s.backend_reaps);
	virtio_counter_add(out, max, &n, "backend", "errors", s.backend_errors);
	virtio_counter_add(out, max, &n, "backend", "bytes_read", s.backend_bytes_read);
	virtio_counter_add(out, max, &n, "backend", "bytes_written", s.backend_bytes_written);
	virtio_counter_add(out, max, &n, "backend", "in_flight", s.backend_in_flight);
	return n;
}

const struct virtio_device_desc vblk_device = {
	.name = "vd",
	.naming = VIRTIO_NAME_LETTER,
	.create = vblk_device_create,
	.counters = vblk_counters,
	.stats_text =
		"    requests: {blk.reads} reads ({blk.bytes_read:bytes}), {blk.writes} writes "
		"({blk.bytes_written:bytes}), {blk.flushes} flushes, {blk.discards} discards, "
		"{blk.write_zeroes} write-zeroes; {blk.refused} refused, {blk.errors} I/O errors\n"
		"    merged: {blk.merged_requests} neighbouring requests sent as {blk.merged_ops} "
		"operations ({blk.merge_splits} redone one by one)\n"
		"    io_uring: {backend.submissions} submitted in {backend.submit_calls} calls, "
		"{backend.completions} completed in {backend.reaps} wake-ups, {backend.errors} "
		"failed, {backend.in_flight} in flight\n",
	.boot = VIRTIO_BOOT_DISK,
};
