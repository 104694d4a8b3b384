/* mock_virtio.c: a mock virtio driver on malloc'd "guest RAM" (see mock_virtio.h). */
#include "mock_virtio.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mock_vm_init(struct mock_vm *m, uint64_t base, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	m->ram = aligned_alloc(4096, size);
	assert(m->ram);
	memset(m->ram, 0, size);
	m->base = base;
	m->size = size;
	m->next = base;
	if (gm_add_region(&m->gm, base, size, m->ram) != 0)
		abort();	/* not assert(): NDEBUG builds would drop the call */
}

void mock_vm_free(struct mock_vm *m)
{
	free(m->ram);
	m->ram = NULL;
}

uint64_t mock_alloc(struct mock_vm *m, uint64_t len, uint64_t align)
{
	uint64_t gpa = (m->next + align - 1) & ~(align - 1);

	assert(gpa + len <= m->base + m->size);
	m->next = gpa + len;
	memset(m->ram + (gpa - m->base), 0, len);
	return gpa;
}

void *mock_host(struct mock_vm *m, uint64_t gpa)
{
	assert(gpa >= m->base && gpa < m->base + m->size);
	return m->ram + (gpa - m->base);
}

void mock_queue_init(struct mock_queue *q, struct mock_vm *m, uint16_t size)
{
	uint32_t n = size ? size : 1;

	memset(q, 0, sizeof(*q));
	q->m = m;
	q->size = size;
	q->desc = mock_alloc(m, 16ull * n, 16);
	q->avail = mock_alloc(m, 6 + 2ull * n, 2);
	q->used = mock_alloc(m, 6 + 8ull * n, 4);
}

int mock_queue_enable(struct mock_queue *q, struct virtqueue *vq, uint64_t features)
{
	return vq_enable(vq, &q->m->gm, q->size, q->desc, q->avail, q->used, features);
}

struct mock_desc *mock_desc(struct mock_queue *q, uint16_t i)
{
	return (struct mock_desc *)mock_host(q->m, q->desc + 16ull * i);
}

static void put16(struct mock_queue *q, uint64_t gpa, uint16_t v)
{
	memcpy(mock_host(q->m, gpa), &v, 2);
}

static uint16_t get16(struct mock_queue *q, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, mock_host(q->m, gpa), 2);
	return v;
}

void mock_publish(struct mock_queue *q, uint16_t head)
{
	put16(q, q->avail + 4 + 2ull * (q->avail_idx % q->size), head);
	q->avail_idx++;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	put16(q, q->avail + 2, q->avail_idx);
}

void mock_set_avail_idx(struct mock_queue *q, uint16_t idx)
{
	put16(q, q->avail + 2, idx);
}

void mock_set_avail_flags(struct mock_queue *q, uint16_t flags)
{
	put16(q, q->avail, flags);
}

void mock_set_used_event(struct mock_queue *q, uint16_t v)
{
	put16(q, q->avail + 4 + 2ull * q->size, v);
}

uint16_t mock_used_flags(struct mock_queue *q)
{
	return get16(q, q->used);
}

uint16_t mock_avail_event(struct mock_queue *q)
{
	return get16(q, q->used + 4 + 8ull * q->size);
}

uint16_t mock_used_idx(struct mock_queue *q)
{
	return get16(q, q->used + 2);
}

static void fill_desc(struct mock_desc *d, const struct mock_buf *b, bool last, uint16_t next)
{
	d->addr = b->gpa;
	d->len = b->len;
	d->flags = (uint16_t)((b->writable ? MOCK_DESC_F_WRITE : 0) | (last ? 0 : MOCK_DESC_F_NEXT));
	d->next = last ? 0 : next;
}

uint16_t mock_add_chain(struct mock_queue *q, const struct mock_buf *bufs, unsigned int n)
{
	uint16_t head = q->next_desc % q->size;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint16_t slot = (uint16_t)((head + i) % q->size);

		fill_desc(mock_desc(q, slot), &bufs[i], i + 1 == n, (uint16_t)((slot + 1) % q->size));
	}
	q->next_desc = (uint16_t)((head + n) % q->size);
	mock_publish(q, head);
	return head;
}

uint16_t mock_add_indirect(struct mock_queue *q, const struct mock_buf *bufs, unsigned int n)
{
	uint64_t table = mock_alloc(q->m, 16ull * n, 16);
	struct mock_desc *t = mock_host(q->m, table);
	uint16_t head = q->next_desc % q->size;
	unsigned int i;
	struct mock_desc *d = mock_desc(q, head);

	for (i = 0; i < n; i++)
		fill_desc(&t[i], &bufs[i], i + 1 == n, (uint16_t)(i + 1));
	d->addr = table;
	d->len = 16 * n;
	d->flags = MOCK_DESC_F_INDIRECT;
	d->next = 0;
	q->next_desc = (uint16_t)((head + 1) % q->size);
	mock_publish(q, head);
	return head;
}

bool mock_get_used(struct mock_queue *q, uint32_t *id, uint32_t *len)
{
	uint64_t e;

	if (mock_used_idx(q) == q->used_seen)
		return false;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	e = q->used + 4 + 8ull * (q->used_seen % q->size);
	memcpy(id, mock_host(q->m, e), 4);
	memcpy(len, mock_host(q->m, e + 4), 4);
	q->used_seen++;
	return true;
}

void mock_dev_driver_ok(struct virtio_dev *d)
{
	int rc;

	d->status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		    VIRTIO_STATUS_DRIVER_OK;
	rc = d->ops->activate ? d->ops->activate(d) : 0;
	if (rc != 0) {		/* not assert(): NDEBUG builds would drop the call */
		fprintf(stderr, "mock: %s: activate() returned %d\n", d->ops->name, rc);
		abort();
	}
}

void mock_dev_notify(struct virtio_dev *d, unsigned int q)
{
	pthread_mutex_lock(&d->lock);
	d->ops->notify(d, q);
	pthread_mutex_unlock(&d->lock);
}

void mock_dev_reset(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	virtio_dev_reset(d);
	pthread_mutex_unlock(&d->lock);
}
