/* virtqueue.h: the split virtqueue (virtio 1.2 §2.7), the only code that reads or writes a ring. */
#ifndef DEV_VIRTQUEUE_H
#define DEV_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "hv/base/guest_mem.h"

struct hv_ratelimit;

/* Feature bits the ring code itself acts on (virtio 1.2 §6). */
#define VIRTIO_F_INDIRECT_DESC	28
#define VIRTIO_F_EVENT_IDX	29
#define VIRTIO_F_VERSION_1	32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED	34

/* The largest queue hvrun offers (QUEUE_SIZE reads this); the driver may pick a smaller power of 2. */
#define VQ_MAX_SIZE		256

/*
 * A descriptor chain, validated: every buffer lies in guest RAM (one iovec per
 * descriptor), readable (driver -> device, "out") buffers come first and
 * writable (device -> driver, "in") ones after them, and the chain has at most
 * the queue's size of descriptors.  Devices never see struct vring_desc.
 */
struct vq_chain {
	uint16_t head;			/* the id to give back to vq_push() */
	uint16_t nr_out;		/* iov[0 .. nr_out): device-readable */
	uint16_t nr_in;			/* iov[nr_out .. nr_out + nr_in): device-writable */
	uint32_t out_len;		/* total bytes of the readable part */
	uint32_t in_len;		/* total bytes of the writable part */
	struct iovec iov[VQ_MAX_SIZE];
};

/* Why a ring was refused (vq_enable) or stopped (vq_pop); vq_error_name() spells it out. */
enum vq_error {
	VQ_OK = 0,
	VQ_ERR_SIZE,			/* queue size 0, not a power of 2, or above VQ_MAX_SIZE */
	VQ_ERR_ALIGN,			/* desc 16, avail 2, used 4 bytes alignment (§2.7) */
	VQ_ERR_RING_ADDR,		/* a ring does not lie entirely in guest RAM */
	VQ_ERR_AVAIL_IDX,		/* avail->idx moved by more than the queue size */
	VQ_ERR_HEAD,			/* a head index >= queue size */
	VQ_ERR_NEXT,			/* a next index >= queue (or indirect table) size */
	VQ_ERR_LOOP,			/* the chain is longer than the queue: a loop */
	VQ_ERR_BUF_ADDR,		/* a buffer does not lie entirely in guest RAM */
	VQ_ERR_ZERO_LEN,		/* a zero-length buffer */
	VQ_ERR_LEN_OVERFLOW,		/* the chain's total length overflows 32 bits */
	VQ_ERR_ORDER,			/* a readable buffer after a writable one (§2.7.4.2) */
	VQ_ERR_INDIRECT_FEATURE,	/* INDIRECT flag without VIRTIO_F_INDIRECT_DESC */
	VQ_ERR_INDIRECT_NESTED,		/* INDIRECT inside an indirect table */
	VQ_ERR_INDIRECT_NEXT,		/* INDIRECT together with NEXT (§2.7.5.3.1) */
	VQ_ERR_INDIRECT_LEN,		/* table length 0, not a multiple of 16, or too many entries */
	VQ_ERR_INDIRECT_ADDR,		/* the table does not lie entirely in guest RAM */
	VQ_ERR_USED_LEN,		/* device bug: vq_push() len larger than the writable part */
	VQ_ERR_HEAD_BUSY,		/* a head made available again while its chain is in flight */
	VQ_ERR_HEAD_IDLE,		/* device bug: vq_push() of a head that is not in flight */
	VQ_ERR_NOT_READY,		/* the queue is not enabled */
	VQ_NR_ERRORS
};

struct virtqueue {
	/* Identity, for diagnostics: "virtio-blk queue 0". */
	const char *dev_name;
	uint16_t index;
	struct hv_ratelimit *log;	/* the device's limiter for the lines a guest can cause, or NULL */

	/* Set by vq_enable() from what the driver wrote; read-only afterwards. */
	const struct guest_mem *mem;
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx;			/* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_F_INDIRECT_DESC negotiated */
	void *desc;			/* host pointers, checked once by vq_enable() */
	void *avail;
	void *used;

	/* Device-side state. */
	bool ready;			/* enabled and not broken */
	bool broken;			/* a ring error stopped the queue until reset */
	enum vq_error error;		/* the first error, VQ_OK if none */
	uint16_t last_avail;		/* the next avail ring entry to take */
	uint16_t used_idx;		/* next used element to fill (used->idx once flushed) */
	uint16_t signalled_used;	/* used_idx at the last interrupt (EVENT_IDX) */
	uint16_t used_published;	/* the used->idx the driver sees (vq_flush()) */
	bool signalled_valid;

	bool no_notify;			/* vq_notify_off() in force (until vq_notify_on()) */

	/*
	 * in_len_of[head]: the writable bytes of the chain vq_pop() last handed
	 * out with that head; vq_push() refuses a larger len (VQ_ERR_USED_LEN).
	 * in_flight: a bit per head handed out and not yet pushed back; a head
	 * the driver makes available again meanwhile breaks the ring
	 * (VQ_ERR_HEAD_BUSY), a push of a head not in flight is a device bug.
	 */
	uint32_t in_len_of[VQ_MAX_SIZE];
	uint64_t in_flight[VQ_MAX_SIZE / 64];
	uint16_t last_head;		/* of the last vq_pop(), for vq_unpop() */

	/* Counters (for --stats / benchmarks); nr_notify_suppressed counts interrupts not sent. */
	uint64_t nr_pop, nr_push, nr_notify_suppressed;
	uint64_t nr_used_updates;	/* used->idx stores: one per batch (vq_flush()) */
	uint64_t nr_kicks, nr_irqs;	/* notifications taken (transport), interrupts sent (virtio_used) */
};

/*
 * Checks and starts a queue the driver set up (QUEUE_ENABLE = 1): size a power
 * of 2 in 1..VQ_MAX_SIZE, each ring aligned (§2.7) and entirely inside one RAM
 * region of mem.  features: the negotiated feature bits (EVENT_IDX, INDIRECT).
 * 0, or -EINVAL with vq->error saying why (the queue stays disabled).
 */
int vq_enable(struct virtqueue *vq, const struct guest_mem *mem, uint16_t size,
	      uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa, uint64_t features);

/* Forgets everything but dev_name, index and log (device reset, §2.4). */
void vq_reset(struct virtqueue *vq);

/*
 * Takes the next available chain.  Returns 1 with *c filled, 0 when the ring
 * is empty (or the queue is not ready), or -EIO when the ring or the chain
 * breaks a rule: then the queue is stopped (vq->broken, vq->error), one line
 * is logged, and the transport must latch DEVICE_NEEDS_RESET (§2.1.2).
 * Each descriptor is copied from guest memory once, then checked.
 */
int vq_pop(struct virtqueue *vq, struct vq_chain *c);

/*
 * Gives chain head back to the driver with len bytes written into its
 * writable part: vq_fill() writes the used element, vq_flush() publishes
 * every element filled so far with one used->idx store (a barrier before
 * it), so a batch of completions reaches the driver at once.  vq_push() is
 * both.  0, or -EINVAL for a head/len that no chain could have had (a
 * device bug, logged; nothing is written).
 */
int vq_fill(struct virtqueue *vq, uint16_t head, uint32_t len);
void vq_flush(struct virtqueue *vq);
int vq_push(struct virtqueue *vq, uint16_t head, uint32_t len);

/*
 * After one or more vq_push() or vq_fill(): should the driver be
 * interrupted?  Flushes first.  Honours VIRTQ_AVAIL_F_NO_INTERRUPT, or
 * used_event with EVENT_IDX (§2.7.7.2).
 */
bool vq_should_interrupt(struct virtqueue *vq);

/*
 * Kick suppression (§2.7.10): vq_notify_off() asks the driver not to notify
 * while the device is draining the ring; vq_notify_on() asks again and
 * returns true if buffers arrived meanwhile (the caller must pop again).
 */
void vq_notify_off(struct virtqueue *vq);
bool vq_notify_on(struct virtqueue *vq);

/* True when the avail ring has entries not yet popped. */
bool vq_has_avail(struct virtqueue *vq);

/* Undoes the last vq_pop() (the device had no room for it yet, e.g. a full RX path). */
void vq_unpop(struct virtqueue *vq);

const char *vq_error_name(enum vq_error e);

/* Copies between a chain's buffers and a flat buffer, from byte offset off of its out/in part. */
size_t vq_chain_read(const struct vq_chain *c, size_t off, void *dst, size_t len);
size_t vq_chain_write(const struct vq_chain *c, size_t off, const void *src, size_t len);

#endif
