/* mock_virtio.h: a mock virtio driver on malloc'd "guest RAM", so devices and rings are tested without KVM. */
#ifndef TEST_MOCK_VIRTIO_H
#define TEST_MOCK_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio/virtio.h"
#include "devices/virtio/virtqueue.h"
#include "hv/base/guest_mem.h"

/* Split-ring layout (virtio 1.2 §2.7), as a driver writes it. */
#define MOCK_DESC_F_NEXT	1
#define MOCK_DESC_F_WRITE	2
#define MOCK_DESC_F_INDIRECT	4

struct mock_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
} __attribute__((packed));

/* Guest RAM: one region at guest-physical mock_vm.base, a bump allocator over it. */
struct mock_vm {
	uint8_t *ram;
	uint64_t base;
	uint64_t size;
	uint64_t next;		/* next free guest-physical address */
	struct guest_mem gm;
};

void mock_vm_init(struct mock_vm *m, uint64_t base, uint64_t size);
void mock_vm_free(struct mock_vm *m);
/* Allocates len bytes aligned to align (a power of 2), zeroed; returns the guest address. */
uint64_t mock_alloc(struct mock_vm *m, uint64_t len, uint64_t align);
void *mock_host(struct mock_vm *m, uint64_t gpa);

struct mock_queue {
	struct mock_vm *m;
	uint16_t size;
	uint64_t desc, avail, used;	/* guest addresses of the three rings */
	uint16_t avail_idx;		/* the driver's next avail->idx */
	uint16_t used_seen;		/* used entries already taken by mock_get_used() */
	uint16_t next_desc;		/* descriptor slots handed out round-robin */
};

/* Allocates the rings of a size-entry queue in m (size may be any value for hostile tests). */
void mock_queue_init(struct mock_queue *q, struct mock_vm *m, uint16_t size);
/* vq_enable() with this queue's rings. */
int mock_queue_enable(struct mock_queue *q, struct virtqueue *vq, uint64_t features);

struct mock_buf {
	uint64_t gpa;
	uint32_t len;
	bool writable;		/* device-writable (VIRTQ_DESC_F_WRITE) */
};

/* Writes a chain of n descriptors in free slots and publishes it; returns its head. */
uint16_t mock_add_chain(struct mock_queue *q, const struct mock_buf *bufs, unsigned int n);
/* Same, but the n buffers sit in an indirect table allocated in guest RAM (one ring slot). */
uint16_t mock_add_indirect(struct mock_queue *q, const struct mock_buf *bufs, unsigned int n);

/* Raw access for hostile cases. */
struct mock_desc *mock_desc(struct mock_queue *q, uint16_t i);
void mock_publish(struct mock_queue *q, uint16_t head);		/* avail ring entry + idx++ */
void mock_set_avail_idx(struct mock_queue *q, uint16_t idx);
void mock_set_avail_flags(struct mock_queue *q, uint16_t flags);
void mock_set_used_event(struct mock_queue *q, uint16_t v);	/* EVENT_IDX: avail->ring[size] */
uint16_t mock_used_flags(struct mock_queue *q);
uint16_t mock_avail_event(struct mock_queue *q);		/* EVENT_IDX: used->ring[size] */
uint16_t mock_used_idx(struct mock_queue *q);

/* Takes the next used element, if any.  true and *id, *len set. */
bool mock_get_used(struct mock_queue *q, uint32_t *id, uint32_t *len);

/* The device side of a driver's probe and life, as every device test does it.
 * mock_dev_driver_ok: with d->lock held, once the features and queues are set: the status
 * becomes ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK, and ops->activate() (if the
 * device has one) must return 0.
 * mock_dev_notify / mock_dev_reset: a queue notification, a reset (they take d->lock). */
void mock_dev_driver_ok(struct virtio_dev *d);
void mock_dev_notify(struct virtio_dev *d, unsigned int q);
void mock_dev_reset(struct virtio_dev *d);

#endif
