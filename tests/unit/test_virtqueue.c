/* test_virtqueue.c: the split virtqueue against a mock driver: good rings, every hostile rule, barriers' logic, a fuzz loop. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "devices/virtio/virtqueue.h"
#include "tests/unit/mock_virtio.h"

#define RAM_BASE	0x100000ull
#define RAM_SIZE	(1ull << 20)
#define RAM_END		(RAM_BASE + RAM_SIZE)
#define F_INDIRECT	(1ull << VIRTIO_F_INDIRECT_DESC)
#define F_EVENT_IDX	(1ull << VIRTIO_F_EVENT_IDX)

struct fx {
	struct mock_vm m;
	struct mock_queue q;
	struct virtqueue vq;
	struct vq_chain c;
	uint64_t features;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	mock_vm_init(&f->m, RAM_BASE, RAM_SIZE);
	f->vq.dev_name = "virtio-test";
	f->vq.index = 3;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	mock_vm_free(&f->m);
	free(f);
	return 0;
}

/* A size-entry queue in f's RAM, enabled with features. */
static struct fx *fx_queue(void **state, uint16_t size, uint64_t features)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, size);
	f->features = features;
	assert_int_equal(mock_queue_enable(&f->q, &f->vq, features), 0);
	assert_true(f->vq.ready);
	return f;
}

static uint64_t buf(struct fx *f, uint32_t len)
{
	return mock_alloc(&f->m, len, 8);
}

static void set_desc(struct fx *f, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct mock_desc *d = mock_desc(&f->q, i);

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* An indirect table of n entries in RAM; returns its guest address. */
static uint64_t table(struct fx *f, unsigned int n)
{
	return mock_alloc(&f->m, 16ull * n, 16);
}

static void set_tdesc(struct fx *f, uint64_t tbl, uint16_t i, uint64_t addr, uint32_t len,
		      uint16_t flags, uint16_t next)
{
	struct mock_desc *d = mock_host(&f->m, tbl + 16ull * i);

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static void write_used_idx(struct fx *f, uint16_t v)
{
	memcpy(mock_host(&f->m, f->q.used + 2), &v, 2);
}

/* Every iovec lies inside the mock RAM. */
static void assert_chain_in_ram(const struct fx *f, const struct vq_chain *c)
{
	uint32_t out = 0, in = 0;
	unsigned int i;

	assert_true(c->nr_out + c->nr_in <= f->vq.size);
	for (i = 0; i < (unsigned int)(c->nr_out + c->nr_in); i++) {
		const uint8_t *p = c->iov[i].iov_base;

		assert_true(c->iov[i].iov_len > 0);
		assert_true(p >= f->m.ram);
		assert_true(p + c->iov[i].iov_len <= f->m.ram + f->m.size);
		if (i < c->nr_out)
			out += (uint32_t)c->iov[i].iov_len;
		else
			in += (uint32_t)c->iov[i].iov_len;
	}
	assert_int_equal(out, c->out_len);
	assert_int_equal(in, c->in_len);
}

/* A well-formed request: readable payload, writable reply; popped, answered, pushed. */
static void roundtrip(struct fx *f)
{
	uint64_t out = buf(f, 16), in = buf(f, 32);
	struct mock_buf b[2] = { { out, 16, false }, { in, 32, true } };
	unsigned int n = f->q.size >= 2 ? 2 : 1;
	uint16_t head;
	uint32_t id, len;
	char got[16];

	memcpy(mock_host(&f->m, out), "request-payload!", 16);
	head = mock_add_chain(&f->q, n == 2 ? b : &b[1], n);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.head, head);
	assert_int_equal(f->c.nr_in, 1);
	assert_int_equal(f->c.in_len, 32);
	assert_chain_in_ram(f, &f->c);
	if (n == 2) {
		assert_int_equal(f->c.nr_out, 1);
		assert_int_equal(f->c.out_len, 16);
		assert_int_equal(vq_chain_read(&f->c, 0, got, sizeof(got)), 16);
		assert_memory_equal(got, "request-payload!", 16);
	} else {
		assert_int_equal(f->c.nr_out, 0);
	}
	assert_int_equal(vq_chain_write(&f->c, 0, "response", 8), 8);
	assert_int_equal(vq_push(&f->vq, head, 8), 0);
	assert_true(mock_get_used(&f->q, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 8);
	assert_memory_equal(mock_host(&f->m, in), "response", 8);
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
}

static bool queue_usable(const struct mock_queue *q)
{
	return q->size && q->size <= VQ_MAX_SIZE && !(q->size & (q->size - 1)) &&
	       q->desc >= RAM_BASE && q->used + 6 + 8ull * q->size <= RAM_END;
}

/*
 * After a refused or broken queue: vq_reset forgets everything but the
 * identity, the driver rewrites its rings in the same RAM, and a
 * well-formed request goes through again.
 */
static void recover(struct fx *f)
{
	vq_reset(&f->vq);
	assert_false(f->vq.ready);
	assert_false(f->vq.broken);
	assert_int_equal(f->vq.error, VQ_OK);
	assert_int_equal(f->vq.last_avail, 0);
	assert_int_equal(f->vq.used_idx, 0);
	assert_string_equal(f->vq.dev_name, "virtio-test");
	assert_int_equal(f->vq.index, 3);
	if (queue_usable(&f->q)) {
		/* The driver re-initialises its rings; stale descriptors stay. */
		memset(mock_host(&f->m, f->q.avail), 0, 6 + 2ull * f->q.size);
		memset(mock_host(&f->m, f->q.used), 0, 6 + 8ull * f->q.size);
		f->q.avail_idx = f->q.used_seen = f->q.next_desc = 0;
	} else {
		mock_queue_init(&f->q, &f->m, 8);
	}
	assert_int_equal(mock_queue_enable(&f->q, &f->vq, f->features), 0);
	roundtrip(f);
}

/* vq_pop refuses the ring with exactly err, stops the queue, and the queue recovers after reset. */
static void expect_broken(struct fx *f, enum vq_error err)
{
	uint16_t used = mock_used_idx(&f->q);

	assert_int_equal(vq_pop(&f->vq, &f->c), -EIO);
	assert_int_equal(f->vq.error, err);
	assert_true(f->vq.broken);
	assert_false(f->vq.ready);
	/* Stopped: no spin, nothing more read or written. */
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
	assert_false(vq_has_avail(&f->vq));
	assert_int_equal(vq_push(&f->vq, 0, 0), -EINVAL);
	assert_int_equal(mock_used_idx(&f->q), used);
	assert_int_equal(f->vq.error, err);	/* the first error stays */
	recover(f);
}

/* vq_enable refuses with exactly err; the queue stays disabled; then it recovers. */
static void expect_refused(struct fx *f, int ret, enum vq_error err)
{
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(f->vq.error, err);
	assert_false(f->vq.ready);
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
	assert_false(vq_has_avail(&f->vq));
	recover(f);
}

static int enable_with(struct fx *f, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
	return vq_enable(&f->vq, &f->m.gm, size, desc, avail, used, f->features);
}

/* ---- vq_enable ---- */

static void test_enable_size_0(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 0);
	expect_refused(f, mock_queue_enable(&f->q, &f->vq, 0), VQ_ERR_SIZE);
}

static void test_enable_size_3(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 3);
	expect_refused(f, mock_queue_enable(&f->q, &f->vq, 0), VQ_ERR_SIZE);
}

static void test_enable_size_512(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 512);
	expect_refused(f, mock_queue_enable(&f->q, &f->vq, 0), VQ_ERR_SIZE);
}

static void test_enable_size_1(void **state)
{
	struct fx *f = fx_queue(state, 1, 0);

	roundtrip(f);
	roundtrip(f);
	assert_int_equal(f->vq.last_avail, 2);
}

static void test_enable_size_256_full_ring(void **state)
{
	struct fx *f = fx_queue(state, 256, 0);
	uint64_t b = buf(f, 64);
	struct mock_buf one = { b, 64, true };
	uint32_t id, len;
	unsigned int i;

	for (i = 0; i < 256; i++)
		mock_add_chain(&f->q, &one, 1);
	for (i = 0; i < 256; i++) {
		assert_int_equal(vq_pop(&f->vq, &f->c), 1);
		assert_int_equal(f->c.head, i);
	}
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
	for (i = 0; i < 256; i++)
		assert_int_equal(vq_push(&f->vq, (uint16_t)(255 - i), 64), 0);
	for (i = 0; i < 256; i++) {
		assert_true(mock_get_used(&f->q, &id, &len));
		assert_int_equal(id, 255 - i);
		assert_int_equal(len, 64);
	}
	assert_int_equal(f->vq.nr_pop, 256);
	assert_int_equal(f->vq.nr_push, 256);
	roundtrip(f);
}

/* vq_fill() writes elements the driver cannot see yet; vq_flush() shows them all with one used->idx store. */
static void test_fill_then_flush_once(void **state)
{
	struct fx *f = fx_queue(state, 16, F_EVENT_IDX);
	struct mock_buf one = { buf(f, 64), 64, true };
	uint32_t id, len;
	unsigned int i;

	for (i = 0; i < 8; i++)
		mock_add_chain(&f->q, &one, 1);
	for (i = 0; i < 8; i++)
		assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	for (i = 0; i < 8; i++) {
		assert_int_equal(vq_fill(&f->vq, (uint16_t)i, 64), 0);
		assert_int_equal(mock_used_idx(&f->q), 0);	/* nothing published yet */
	}
	assert_int_equal(vq_fill(&f->vq, 3, 64), -EINVAL);	/* filled already: a device bug */
	assert_int_equal(f->vq.nr_used_updates, 0);
	vq_flush(&f->vq);
	assert_int_equal(mock_used_idx(&f->q), 8);
	assert_int_equal(f->vq.nr_used_updates, 1);
	vq_flush(&f->vq);					/* nothing new: no store */
	assert_int_equal(f->vq.nr_used_updates, 1);
	for (i = 0; i < 8; i++) {
		assert_true(mock_get_used(&f->q, &id, &len));
		assert_int_equal(id, i);
	}
	/* vq_should_interrupt() never signals what the driver cannot see: it flushes first. */
	mock_add_chain(&f->q, &one, 1);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(vq_fill(&f->vq, f->c.head, 64), 0);
	mock_set_used_event(&f->q, 8);
	assert_true(vq_should_interrupt(&f->vq));
	assert_int_equal(mock_used_idx(&f->q), 9);
	assert_int_equal(f->vq.nr_used_updates, 2);
}

static void test_enable_desc_misaligned(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 8);
	expect_refused(f, enable_with(f, 8, f->q.desc + 8, f->q.avail, f->q.used), VQ_ERR_ALIGN);
}

static void test_enable_avail_misaligned(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 8);
	expect_refused(f, enable_with(f, 8, f->q.desc, f->q.avail + 1, f->q.used), VQ_ERR_ALIGN);
}

static void test_enable_used_misaligned(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 8);
	expect_refused(f, enable_with(f, 8, f->q.desc, f->q.avail, f->q.used + 2), VQ_ERR_ALIGN);
}

static void test_enable_desc_outside_ram(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 8);
	expect_refused(f, enable_with(f, 8, 0x1000, f->q.avail, f->q.used), VQ_ERR_RING_ADDR);
}

static void test_enable_avail_outside_ram(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 8);
	expect_refused(f, enable_with(f, 8, f->q.desc, RAM_END + 0x1000, f->q.used),
		       VQ_ERR_RING_ADDR);
}

static void test_enable_used_outside_ram(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 8);
	expect_refused(f, enable_with(f, 8, f->q.desc, f->q.avail, 0x2000), VQ_ERR_RING_ADDR);
}

static void test_enable_desc_straddles_end(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 8);
	/* 8 descriptors = 128 bytes, only 64 of them in RAM. */
	expect_refused(f, enable_with(f, 8, RAM_END - 64, f->q.avail, f->q.used), VQ_ERR_RING_ADDR);
}

static void test_enable_avail_straddles_end(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 8);
	/* 6 + 2 * 8 = 22 bytes; the last two (used_event) are past the end. */
	expect_refused(f, enable_with(f, 8, f->q.desc, RAM_END - 20, f->q.used), VQ_ERR_RING_ADDR);
}

static void test_enable_used_straddles_end(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 8);
	/* 6 + 8 * 8 = 70 bytes; avail_event is past the end. */
	expect_refused(f, enable_with(f, 8, f->q.desc, f->q.avail, RAM_END - 68), VQ_ERR_RING_ADDR);
}

static void test_enable_ring_addr_overflows_64_bits(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 8);
	assert_int_equal(enable_with(f, 8, 0xfffffffffffffff0ull, f->q.avail, f->q.used), -EINVAL);
	assert_int_equal(f->vq.error, VQ_ERR_RING_ADDR);
	assert_int_equal(enable_with(f, 8, f->q.desc, 0xfffffffffffffffeull, f->q.used), -EINVAL);
	assert_int_equal(f->vq.error, VQ_ERR_RING_ADDR);
	expect_refused(f, enable_with(f, 8, f->q.desc, f->q.avail, 0xfffffffffffffffcull),
		       VQ_ERR_RING_ADDR);
}

static void test_enable_rings_exactly_at_end_of_ram(void **state)
{
	struct fx *f = *state;

	/* The last byte of each ring is the last byte of RAM: accepted. */
	mock_queue_init(&f->q, &f->m, 8);
	assert_int_equal(enable_with(f, 8, RAM_END - 128, f->q.avail, f->q.used), 0);
	assert_int_equal(enable_with(f, 8, f->q.desc, RAM_END - 22, f->q.used), 0);
	assert_int_equal(enable_with(f, 8, f->q.desc, f->q.avail, RAM_END - 72), 0);
	assert_int_equal(enable_with(f, 8, f->q.desc, f->q.avail, f->q.used), 0);
	roundtrip(f);
}

/* ---- the available ring ---- */

static void test_avail_idx_jump_size_plus_1(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);

	mock_set_avail_idx(&f->q, 9);
	assert_true(vq_has_avail(&f->vq));
	expect_broken(f, VQ_ERR_AVAIL_IDX);
}

static void test_avail_idx_jump_ffff(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);

	mock_set_avail_idx(&f->q, 0xffff);	/* "one behind": idx went backwards */
	expect_broken(f, VQ_ERR_AVAIL_IDX);
}

static void test_avail_idx_exactly_size_is_fine(void **state)
{
	struct fx *f = fx_queue(state, 4, 0);
	uint64_t b = buf(f, 8);
	unsigned int i;

	for (i = 0; i < 4; i++)
		set_desc(f, (uint16_t)i, b, 8, 0, 0);
	for (i = 0; i < 4; i++)
		mock_publish(&f->q, (uint16_t)(3 - i));
	for (i = 0; i < 4; i++) {
		assert_int_equal(vq_pop(&f->vq, &f->c), 1);
		assert_int_equal(f->c.head, 3 - i);
	}
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
}

static void test_head_equals_size(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);

	mock_publish(&f->q, 8);
	expect_broken(f, VQ_ERR_HEAD);
}

static void test_head_ffff(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);

	mock_publish(&f->q, 0xffff);
	expect_broken(f, VQ_ERR_HEAD);
}

/*
 * The driver makes head 0 available again while its first chain is still
 * with the device: a driver error, the ring breaks (NEEDS_RESET).  Before,
 * the second pop overwrote the first's writable length and the first
 * completion was refused as a "device bug", its used element lost.
 */
static void test_head_reposted_in_flight(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 64);
	struct vq_chain first;

	set_desc(f, 0, b, 64, MOCK_DESC_F_WRITE, 0);
	mock_publish(&f->q, 0);
	assert_int_equal(vq_pop(&f->vq, &first), 1);
	set_desc(f, 0, b, 8, MOCK_DESC_F_WRITE, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_HEAD_BUSY);
}

/* Pushed back, a head may come again; a push of a head not in flight is refused. */
static void test_head_in_flight_life(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 64);
	uint32_t id, len;

	set_desc(f, 0, b, 64, MOCK_DESC_F_WRITE, 0);
	mock_publish(&f->q, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(vq_push(&f->vq, 0, 64), 0);
	assert_int_equal(vq_push(&f->vq, 0, 64), -EINVAL);	/* twice: a device bug */
	assert_int_equal(f->vq.error, VQ_ERR_HEAD_IDLE);
	assert_true(mock_get_used(&f->q, &id, &len));
	assert_false(mock_get_used(&f->q, &id, &len));
	mock_publish(&f->q, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	/* vq_unpop() gives the head back: the same chain pops again. */
	vq_unpop(&f->vq);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.head, 0);
}

static void test_avail_wraparound(void **state)
{
	struct fx *f = fx_queue(state, 4, 0);
	uint64_t b = buf(f, 32);
	struct mock_buf one = { b, 32, true };
	uint16_t heads[4];
	uint32_t id, len;
	unsigned int i, round;

	/* Start both sides near the 16-bit wrap. */
	f->q.avail_idx = 65533;
	mock_set_avail_idx(&f->q, 65533);
	f->q.used_seen = 65533;
	write_used_idx(f, 65533);
	f->vq.last_avail = 65533;
	f->vq.used_idx = 65533;

	for (round = 0; round < 3; round++) {
		for (i = 0; i < 4; i++)
			heads[i] = mock_add_chain(&f->q, &one, 1);
		for (i = 0; i < 4; i++) {
			assert_int_equal(vq_pop(&f->vq, &f->c), 1);
			assert_int_equal(f->c.head, heads[i]);
			assert_int_equal(vq_push(&f->vq, f->c.head, 4), 0);
		}
		assert_int_equal(vq_pop(&f->vq, &f->c), 0);
		for (i = 0; i < 4; i++) {
			assert_true(mock_get_used(&f->q, &id, &len));
			assert_int_equal(id, heads[i]);
		}
	}
	assert_int_equal(f->vq.last_avail, (uint16_t)(65533 + 12));
	assert_int_equal(mock_used_idx(&f->q), (uint16_t)(65533 + 12));
}

static void test_avail_idx_jump_across_wrap(void **state)
{
	struct fx *f = fx_queue(state, 4, 0);

	f->vq.last_avail = 65534;
	mock_set_avail_idx(&f->q, (uint16_t)(65534 + 5));
	expect_broken(f, VQ_ERR_AVAIL_IDX);
}

/* ---- the descriptor walk: direct chains ---- */

static void test_next_equals_size(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 16);

	set_desc(f, 0, b, 16, MOCK_DESC_F_NEXT, 8);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_NEXT);
}

static void test_loop_of_two(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 16);

	set_desc(f, 2, b, 16, MOCK_DESC_F_NEXT, 5);
	set_desc(f, 5, b, 16, MOCK_DESC_F_NEXT, 2);
	mock_publish(&f->q, 2);
	expect_broken(f, VQ_ERR_LOOP);
}

static void test_self_loop(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 16);

	set_desc(f, 4, b, 16, MOCK_DESC_F_NEXT | MOCK_DESC_F_WRITE, 4);
	mock_publish(&f->q, 4);
	expect_broken(f, VQ_ERR_LOOP);
}

static void test_self_loop_size_256(void **state)
{
	struct fx *f = fx_queue(state, 256, 0);
	uint64_t b = buf(f, 16);

	set_desc(f, 255, b, 16, MOCK_DESC_F_NEXT, 255);
	mock_publish(&f->q, 255);
	expect_broken(f, VQ_ERR_LOOP);
}

static void test_chain_of_queue_size_is_fine(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 8 * 16);
	struct mock_buf bufs[8];
	unsigned int i;

	for (i = 0; i < 8; i++)
		bufs[i] = (struct mock_buf){ b + 16 * i, 16, i >= 5 };
	mock_add_chain(&f->q, bufs, 8);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.nr_out, 5);
	assert_int_equal(f->c.nr_in, 3);
	assert_int_equal(f->c.out_len, 80);
	assert_int_equal(f->c.in_len, 48);
	assert_chain_in_ram(f, &f->c);
}

static void test_buffer_outside_ram(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 16);

	set_desc(f, 0, b, 16, MOCK_DESC_F_NEXT, 1);
	set_desc(f, 1, 0x1000, 512, MOCK_DESC_F_WRITE, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_BUF_ADDR);
}

static void test_buffer_straddles_end_of_ram(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);

	set_desc(f, 0, RAM_END - 8, 16, MOCK_DESC_F_WRITE, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_BUF_ADDR);
}

static void test_buffer_straddles_start_of_ram(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);

	set_desc(f, 0, RAM_BASE - 8, 16, 0, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_BUF_ADDR);
}

static void test_buffer_addr_overflows(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);

	set_desc(f, 0, 0xfffffffffffffff8ull, 16, 0, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_BUF_ADDR);
}

static void test_buffer_at_end_of_ram_is_fine(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);

	set_desc(f, 0, RAM_END - 16, 16, MOCK_DESC_F_WRITE, 0);
	mock_publish(&f->q, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_ptr_equal(f->c.iov[0].iov_base, f->m.ram + RAM_SIZE - 16);
	assert_int_equal(vq_push(&f->vq, 0, 16), 0);
}

static void test_zero_length_buffer(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 16);

	set_desc(f, 0, b, 16, MOCK_DESC_F_NEXT, 1);
	set_desc(f, 1, b, 0, MOCK_DESC_F_WRITE, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_ZERO_LEN);
}

static void test_readable_after_writable(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 64);
	struct mock_buf bufs[3] = { { b, 16, false }, { b + 16, 16, true }, { b + 32, 16, false } };

	mock_add_chain(&f->q, bufs, 3);
	expect_broken(f, VQ_ERR_ORDER);
}

/*
 * A second region of guest RAM, 5 GiB, so that single buffers can reach the
 * 32-bit length limit.  PROT_NONE: the ring code never touches buffers, and
 * such a mapping costs no memory.
 */
#define BIG_GPA		(1ull << 40)
#define BIG_SIZE	(5ull << 30)

static void *add_big_region(struct fx *f)
{
	void *p = mmap(NULL, BIG_SIZE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	assert_true(p != MAP_FAILED);
	assert_int_equal(gm_add_region(&f->m.gm, BIG_GPA, BIG_SIZE, p), 0);
	return p;
}

static void test_len_overflow_readable(void **state)
{
	struct fx *f = *state;
	void *big = add_big_region(f);

	fx_queue(state, 8, 0);
	set_desc(f, 0, BIG_GPA, 0x80000000u, MOCK_DESC_F_NEXT, 1);
	set_desc(f, 1, BIG_GPA + 4096, 0x80000000u, 0, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_LEN_OVERFLOW);
	munmap(big, BIG_SIZE);
}

static void test_len_overflow_writable(void **state)
{
	struct fx *f = *state;
	void *big = add_big_region(f);

	fx_queue(state, 8, 0);
	set_desc(f, 0, BIG_GPA, 0xffffff00u, MOCK_DESC_F_NEXT | MOCK_DESC_F_WRITE, 1);
	set_desc(f, 1, BIG_GPA, 0x100, MOCK_DESC_F_NEXT | MOCK_DESC_F_WRITE, 2);
	set_desc(f, 2, BIG_GPA, 1, MOCK_DESC_F_WRITE, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_LEN_OVERFLOW);
	munmap(big, BIG_SIZE);
}

static void test_len_just_below_overflow_is_fine(void **state)
{
	struct fx *f = *state;
	void *big = add_big_region(f);

	fx_queue(state, 8, 0);
	set_desc(f, 0, BIG_GPA, 0xffffff00u, MOCK_DESC_F_NEXT | MOCK_DESC_F_WRITE, 1);
	set_desc(f, 1, BIG_GPA, 0xff, MOCK_DESC_F_WRITE, 0);
	mock_publish(&f->q, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.in_len, 0xffffffffu);
	assert_int_equal(vq_push(&f->vq, 0, 0xffffffffu), 0);
	munmap(big, BIG_SIZE);
}

/* ---- indirect descriptors ---- */

static void test_indirect_valid(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);
	uint64_t b = buf(f, 64);
	struct mock_buf bufs[3] = { { b, 10, false }, { b + 10, 6, false }, { b + 16, 48, true } };
	uint16_t head;
	char got[16];

	memcpy(mock_host(&f->m, b), "0123456789abcdef", 16);
	head = mock_add_indirect(&f->q, bufs, 3);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.head, head);
	assert_int_equal(f->c.nr_out, 2);
	assert_int_equal(f->c.nr_in, 1);
	assert_int_equal(f->c.out_len, 16);
	assert_int_equal(f->c.in_len, 48);
	assert_chain_in_ram(f, &f->c);
	assert_int_equal(vq_chain_read(&f->c, 0, got, 16), 16);
	assert_memory_equal(got, "0123456789abcdef", 16);
	assert_int_equal(vq_push(&f->vq, head, 48), 0);
}

static void test_indirect_table_of_queue_size_is_fine(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);
	uint64_t b = buf(f, 8);
	struct mock_buf bufs[8];
	unsigned int i;

	for (i = 0; i < 8; i++)
		bufs[i] = (struct mock_buf){ b, 8, true };
	mock_add_indirect(&f->q, bufs, 8);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.nr_in, 8);
	assert_int_equal(f->c.in_len, 64);
}

static void test_indirect_write_flag_ignored(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);
	uint64_t b = buf(f, 16), t = table(f, 1);

	set_tdesc(f, t, 0, b, 16, 0, 0);
	/* §2.7.5.3.2: the device ignores WRITE on the descriptor of the table itself. */
	set_desc(f, 0, t, 16, MOCK_DESC_F_INDIRECT | MOCK_DESC_F_WRITE, 0);
	mock_publish(&f->q, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.nr_out, 1);
}

static void test_direct_then_indirect_is_fine(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);
	uint64_t b = buf(f, 64), t = table(f, 2);

	set_tdesc(f, t, 0, b + 16, 16, MOCK_DESC_F_NEXT, 1);
	set_tdesc(f, t, 1, b + 32, 32, MOCK_DESC_F_WRITE, 0);
	set_desc(f, 6, b, 16, MOCK_DESC_F_NEXT, 2);
	set_desc(f, 2, t, 32, MOCK_DESC_F_INDIRECT, 0);
	mock_publish(&f->q, 6);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.head, 6);
	assert_int_equal(f->c.nr_out, 2);
	assert_int_equal(f->c.nr_in, 1);
	assert_int_equal(f->c.out_len, 32);
	assert_int_equal(f->c.in_len, 32);
	assert_ptr_equal(f->c.iov[0].iov_base, mock_host(&f->m, b));
	assert_ptr_equal(f->c.iov[1].iov_base, mock_host(&f->m, b + 16));
	assert_ptr_equal(f->c.iov[2].iov_base, mock_host(&f->m, b + 32));
	assert_int_equal(vq_push(&f->vq, 6, 32), 0);
}

static void test_indirect_without_feature(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 16);
	struct mock_buf one = { b, 16, true };

	mock_add_indirect(&f->q, &one, 1);
	expect_broken(f, VQ_ERR_INDIRECT_FEATURE);
}

static void test_indirect_with_next(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);
	uint64_t b = buf(f, 16), t = table(f, 1);

	set_tdesc(f, t, 0, b, 16, 0, 0);
	set_desc(f, 0, t, 16, MOCK_DESC_F_INDIRECT | MOCK_DESC_F_NEXT, 1);
	set_desc(f, 1, b, 16, MOCK_DESC_F_WRITE, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_INDIRECT_NEXT);
}

static void test_indirect_nested(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);
	uint64_t b = buf(f, 16), inner = table(f, 1), outer = table(f, 1);

	set_tdesc(f, inner, 0, b, 16, 0, 0);
	set_tdesc(f, outer, 0, inner, 16, MOCK_DESC_F_INDIRECT, 0);
	set_desc(f, 0, outer, 16, MOCK_DESC_F_INDIRECT, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_INDIRECT_NESTED);
}

static void test_indirect_len_0(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);
	uint64_t t = table(f, 1);

	set_desc(f, 0, t, 0, MOCK_DESC_F_INDIRECT, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_INDIRECT_LEN);
}

static void test_indirect_len_17(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);
	uint64_t b = buf(f, 16), t = table(f, 2);

	set_tdesc(f, t, 0, b, 16, 0, 0);
	set_desc(f, 0, t, 17, MOCK_DESC_F_INDIRECT, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_INDIRECT_LEN);
}

static void test_indirect_len_size_plus_1(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);
	uint64_t b = buf(f, 16), t = table(f, 9);
	uint16_t i;

	for (i = 0; i < 9; i++)
		set_tdesc(f, t, i, b, 16, i < 8 ? MOCK_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	set_desc(f, 0, t, 16 * 9, MOCK_DESC_F_INDIRECT, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_INDIRECT_LEN);
}

static void test_indirect_table_outside_ram(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);

	set_desc(f, 0, 0x4000, 32, MOCK_DESC_F_INDIRECT, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_INDIRECT_ADDR);
}

static void test_indirect_table_straddles_end(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);

	set_desc(f, 0, RAM_END - 16, 32, MOCK_DESC_F_INDIRECT, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_INDIRECT_ADDR);
}

static void test_indirect_next_out_of_table(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);
	uint64_t b = buf(f, 16), t = table(f, 2);

	/* next = 2 is a valid ring index but not inside a 2-entry table. */
	set_tdesc(f, t, 0, b, 16, MOCK_DESC_F_NEXT, 2);
	set_tdesc(f, t, 1, b, 16, 0, 0);
	set_desc(f, 0, t, 32, MOCK_DESC_F_INDIRECT, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_NEXT);
}

static void test_indirect_loop_inside_table(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);
	uint64_t b = buf(f, 16), t = table(f, 2);

	set_tdesc(f, t, 0, b, 16, MOCK_DESC_F_NEXT, 1);
	set_tdesc(f, t, 1, b, 16, MOCK_DESC_F_NEXT, 0);
	set_desc(f, 0, t, 32, MOCK_DESC_F_INDIRECT, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_LOOP);
}

static void test_chain_longer_than_size_via_indirect(void **state)
{
	struct fx *f = fx_queue(state, 4, F_INDIRECT);
	uint64_t b = buf(f, 16), t = table(f, 4);
	uint16_t i;

	/* 2 direct buffers + a 4-entry table (each part legal) = 6 buffers > 4. */
	for (i = 0; i < 4; i++)
		set_tdesc(f, t, i, b, 16, i < 3 ? MOCK_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	set_desc(f, 0, b, 16, MOCK_DESC_F_NEXT, 1);
	set_desc(f, 1, b, 16, MOCK_DESC_F_NEXT, 2);
	set_desc(f, 2, t, 64, MOCK_DESC_F_INDIRECT, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_LOOP);
}

static void test_readable_after_writable_across_indirect(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);
	uint64_t b = buf(f, 32), t = table(f, 1);

	set_tdesc(f, t, 0, b + 16, 16, 0, 0);
	set_desc(f, 0, b, 16, MOCK_DESC_F_WRITE | MOCK_DESC_F_NEXT, 1);
	set_desc(f, 1, t, 16, MOCK_DESC_F_INDIRECT, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_ORDER);
}

static void test_indirect_buffer_outside_ram(void **state)
{
	struct fx *f = fx_queue(state, 8, F_INDIRECT);
	uint64_t t = table(f, 1);

	set_tdesc(f, t, 0, RAM_END, 16, MOCK_DESC_F_WRITE, 0);
	set_desc(f, 0, t, 16, MOCK_DESC_F_INDIRECT, 0);
	mock_publish(&f->q, 0);
	expect_broken(f, VQ_ERR_BUF_ADDR);
}

/* ---- the used ring ---- */

static void test_push_bad_head(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);

	assert_int_equal(vq_push(&f->vq, 8, 0), -EINVAL);
	assert_int_equal(f->vq.error, VQ_ERR_HEAD);
	assert_int_equal(mock_used_idx(&f->q), 0);
	assert_int_equal(f->vq.nr_push, 0);
	/* A device bug does not stop the queue. */
	assert_true(f->vq.ready);
	roundtrip(f);
}

static void test_push_len_above_in_len(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 64);
	struct mock_buf bufs[2] = { { b, 16, false }, { b + 16, 48, true } };
	struct mock_buf ro = { b, 16, false };
	uint16_t head, head2;

	head = mock_add_chain(&f->q, bufs, 2);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(vq_push(&f->vq, head, 49), -EINVAL);
	assert_int_equal(f->vq.error, VQ_ERR_USED_LEN);
	assert_int_equal(mock_used_idx(&f->q), 0);
	assert_int_equal(vq_push(&f->vq, head, 48), 0);
	assert_int_equal(mock_used_idx(&f->q), 1);

	/* A chain with no writable part: only len 0. */
	head2 = mock_add_chain(&f->q, &ro, 1);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(vq_push(&f->vq, head2, 1), -EINVAL);
	assert_int_equal(vq_push(&f->vq, head2, 0), 0);
	assert_int_equal(mock_used_idx(&f->q), 2);
}

static void test_push_not_ready(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vq_push(&f->vq, 0, 0), -EINVAL);
	assert_int_equal(f->vq.error, VQ_ERR_NOT_READY);
	assert_int_equal(f->vq.nr_push, 0);
}

static void test_out_of_order_completion(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 64);
	struct mock_buf one = { b, 64, true };
	uint16_t h[3];
	uint32_t id, len;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		h[i] = mock_add_chain(&f->q, &one, 1);
		assert_int_equal(vq_pop(&f->vq, &f->c), 1);
		assert_int_equal(f->c.head, h[i]);
	}
	assert_int_equal(vq_push(&f->vq, h[2], 3), 0);
	assert_int_equal(vq_push(&f->vq, h[0], 1), 0);
	assert_int_equal(vq_push(&f->vq, h[1], 2), 0);
	assert_true(mock_get_used(&f->q, &id, &len));
	assert_true(id == h[2] && len == 3);
	assert_true(mock_get_used(&f->q, &id, &len));
	assert_true(id == h[0] && len == 1);
	assert_true(mock_get_used(&f->q, &id, &len));
	assert_true(id == h[1] && len == 2);
	assert_false(mock_get_used(&f->q, &id, &len));
}

/* ---- interrupt suppression (§2.7.7) ---- */

/* A used element for head 0, as if its chain had just been popped (these tests look at interrupts only). */
static int push_head0(struct fx *f)
{
	f->vq.in_flight[0] |= 1;
	return vq_push(&f->vq, 0, 0);
}

static void test_no_interrupt_flag(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);

	assert_int_equal(push_head0(f), 0);
	assert_true(vq_should_interrupt(&f->vq));
	mock_set_avail_flags(&f->q, 1);
	assert_int_equal(push_head0(f), 0);
	assert_false(vq_should_interrupt(&f->vq));
	assert_int_equal(f->vq.nr_notify_suppressed, 1);
	mock_set_avail_flags(&f->q, 0);
	assert_true(vq_should_interrupt(&f->vq));
	assert_int_equal(f->vq.nr_notify_suppressed, 1);
}

static void test_event_idx_should_interrupt(void **state)
{
	struct fx *f = fx_queue(state, 8, F_EVENT_IDX);
	unsigned int i;

	/* NO_INTERRUPT is ignored with EVENT_IDX; the first interrupt always goes. */
	mock_set_avail_flags(&f->q, 1);
	assert_int_equal(push_head0(f), 0);		/* used_idx 1 */
	assert_true(vq_should_interrupt(&f->vq));

	/* used_event 1: "interrupt me once entry 1 is used", i.e. used idx passes 1. */
	mock_set_used_event(&f->q, 1);
	assert_int_equal(push_head0(f), 0);		/* used_idx 2 */
	assert_true(vq_should_interrupt(&f->vq));

	/* used_event ahead: no interrupt until we cross it. */
	mock_set_used_event(&f->q, 5);
	assert_int_equal(push_head0(f), 0);		/* 3 */
	assert_false(vq_should_interrupt(&f->vq));
	assert_int_equal(push_head0(f), 0);		/* 4 */
	assert_false(vq_should_interrupt(&f->vq));
	assert_int_equal(f->vq.nr_notify_suppressed, 2);
	for (i = 0; i < 3; i++)
		assert_int_equal(push_head0(f), 0);	/* 7: crossed 5 in one batch */
	assert_true(vq_should_interrupt(&f->vq));

	/* used_event behind: already signalled past it. */
	mock_set_used_event(&f->q, 2);
	assert_int_equal(push_head0(f), 0);		/* 8 */
	assert_false(vq_should_interrupt(&f->vq));
	/* Nothing new since the last check: no interrupt either. */
	mock_set_used_event(&f->q, 7);
	assert_false(vq_should_interrupt(&f->vq));
}

static void test_event_idx_used_event_wraps(void **state)
{
	struct fx *f = fx_queue(state, 8, F_EVENT_IDX);

	f->vq.used_idx = 0xfffe;
	write_used_idx(f, 0xfffe);
	assert_true(vq_should_interrupt(&f->vq));		/* first: signalled 0xfffe */
	mock_set_used_event(&f->q, 0xffff);
	assert_int_equal(push_head0(f), 0);		/* 0xffff */
	assert_false(vq_should_interrupt(&f->vq));
	assert_int_equal(push_head0(f), 0);		/* 0x0000: crossed 0xffff */
	assert_true(vq_should_interrupt(&f->vq));
	assert_int_equal(mock_used_idx(&f->q), 0);
}

/* ---- notification suppression (§2.7.10) ---- */

static void test_notify_off_on_flags(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 16);
	struct mock_buf one = { b, 16, true };

	assert_int_equal(mock_used_flags(&f->q), 0);
	vq_notify_off(&f->vq);
	assert_int_equal(mock_used_flags(&f->q), 1);
	assert_false(vq_notify_on(&f->vq));
	assert_int_equal(mock_used_flags(&f->q), 0);

	/* A buffer arrives while notifications are off: notify_on reports it. */
	vq_notify_off(&f->vq);
	mock_add_chain(&f->q, &one, 1);
	assert_true(vq_notify_on(&f->vq));
	assert_int_equal(mock_used_flags(&f->q), 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_false(vq_notify_on(&f->vq));
	assert_int_equal(mock_avail_event(&f->q), 0);		/* untouched without EVENT_IDX */
}

static void test_notify_off_on_event_idx(void **state)
{
	struct fx *f = fx_queue(state, 8, F_EVENT_IDX);
	uint64_t b = buf(f, 16);
	struct mock_buf one = { b, 16, true };

	mock_add_chain(&f->q, &one, 1);
	mock_add_chain(&f->q, &one, 1);
	vq_notify_off(&f->vq);
	assert_int_equal(mock_used_flags(&f->q), 0);		/* flags unused with EVENT_IDX */
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
	assert_int_equal(mock_avail_event(&f->q), 0);		/* off: not moved by pops */
	assert_false(vq_notify_on(&f->vq));
	assert_int_equal(mock_avail_event(&f->q), 2);		/* kick me at entry 2 */

	vq_notify_off(&f->vq);
	mock_add_chain(&f->q, &one, 1);
	assert_true(vq_notify_on(&f->vq));
	assert_int_equal(mock_avail_event(&f->q), 2);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
}

static void test_event_idx_empty_pop_rearms(void **state)
{
	struct fx *f = fx_queue(state, 8, F_EVENT_IDX);
	uint64_t b = buf(f, 16);
	struct mock_buf one = { b, 16, true };

	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
	assert_int_equal(mock_avail_event(&f->q), 0);
	mock_add_chain(&f->q, &one, 1);
	mock_add_chain(&f->q, &one, 1);
	mock_add_chain(&f->q, &one, 1);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(mock_avail_event(&f->q), 0);		/* draining: no new kicks wanted */
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
	assert_int_equal(mock_avail_event(&f->q), 3);		/* empty: kick me at entry 3 */
}

/* ---- unpop, copying, state ---- */

static void test_unpop(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 16);
	struct mock_buf one = { b, 16, true };
	uint16_t h1, h2;

	h1 = mock_add_chain(&f->q, &one, 1);
	h2 = mock_add_chain(&f->q, &one, 1);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.head, h1);
	vq_unpop(&f->vq);
	assert_int_equal(f->vq.last_avail, 0);
	assert_int_equal(f->vq.nr_pop, 0);
	assert_true(vq_has_avail(&f->vq));
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.head, h1);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.head, h2);
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
	assert_int_equal(f->vq.nr_pop, 2);
}

static void test_chain_read_write_offsets(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 64);
	struct mock_buf bufs[5] = {
		{ b, 3, false }, { b + 3, 5, false }, { b + 8, 2, false },	/* "abc" "defgh" "ij" */
		{ b + 16, 4, true }, { b + 20, 6, true },
	};
	char got[16];

	memcpy(mock_host(&f->m, b), "abcdefghij", 10);
	mock_add_chain(&f->q, bufs, 5);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(f->c.out_len, 10);
	assert_int_equal(f->c.in_len, 10);

	assert_int_equal(vq_chain_read(&f->c, 2, got, 6), 6);	/* across three iovecs */
	assert_memory_equal(got, "cdefgh", 6);
	assert_int_equal(vq_chain_read(&f->c, 7, got, 16), 3);	/* stops at the end */
	assert_memory_equal(got, "hij", 3);
	assert_int_equal(vq_chain_read(&f->c, 10, got, 4), 0);
	assert_int_equal(vq_chain_read(&f->c, 1000, got, 4), 0);
	assert_int_equal(vq_chain_read(&f->c, 3, got, 0), 0);

	/* The writable part starts at offset 0 of the in iovecs, not of the chain. */
	assert_int_equal(vq_chain_write(&f->c, 2, "WXYZ", 4), 4);
	assert_memory_equal(mock_host(&f->m, b + 16), "\0\0WX", 4);
	assert_memory_equal(mock_host(&f->m, b + 20), "YZ", 2);
	assert_int_equal(vq_chain_write(&f->c, 8, "0123", 4), 2);
	assert_memory_equal(mock_host(&f->m, b + 24), "01", 2);
	assert_int_equal(vq_chain_write(&f->c, 10, "x", 1), 0);
	/* The readable buffers were not touched. */
	assert_memory_equal(mock_host(&f->m, b), "abcdefghij", 10);
}

static void test_chain_without_in_part(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 16);
	struct mock_buf ro = { b, 16, false };

	mock_add_chain(&f->q, &ro, 1);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);
	assert_int_equal(vq_chain_write(&f->c, 0, "x", 1), 0);
	assert_int_equal(f->c.nr_in, 0);
	assert_int_equal(f->c.in_len, 0);
}

static void test_not_ready_pop_returns_0(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 8);
	mock_set_avail_idx(&f->q, 1);		/* something "published", queue never enabled */
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
	assert_false(vq_has_avail(&f->vq));
	assert_false(vq_should_interrupt(&f->vq));
	assert_false(vq_notify_on(&f->vq));
	vq_notify_off(&f->vq);
	vq_unpop(&f->vq);
	assert_int_equal(f->vq.last_avail, 0);
	assert_int_equal(f->vq.nr_pop, 0);
}

static void test_broken_stays_broken_until_reset(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 16);

	set_desc(f, 0, b, 16, MOCK_DESC_F_NEXT, 9);
	mock_publish(&f->q, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), -EIO);
	assert_int_equal(f->vq.last_avail, 0);		/* not advanced on error */
	/* The driver "fixes" the chain: the queue still stays stopped. */
	set_desc(f, 0, b, 16, 0, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
	assert_false(vq_has_avail(&f->vq));
	assert_false(vq_notify_on(&f->vq));
	assert_false(vq_should_interrupt(&f->vq));
	assert_int_equal(f->vq.error, VQ_ERR_NEXT);
	/* A later error does not overwrite the first (nothing runs anyway). */
	assert_int_equal(vq_push(&f->vq, 0, 0), -EINVAL);
	assert_int_equal(f->vq.error, VQ_ERR_NEXT);
	vq_reset(&f->vq);
	assert_int_equal(mock_queue_enable(&f->q, &f->vq, 0), 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 1);	/* the fixed chain, from entry 0 again */
	assert_int_equal(f->c.head, 0);
}

static void test_reset_clears_state(void **state)
{
	struct fx *f = fx_queue(state, 8, F_EVENT_IDX | F_INDIRECT);

	roundtrip(f);
	assert_true(vq_should_interrupt(&f->vq));
	vq_notify_off(&f->vq);
	vq_reset(&f->vq);
	assert_string_equal(f->vq.dev_name, "virtio-test");
	assert_int_equal(f->vq.index, 3);
	assert_null(f->vq.mem);
	assert_null(f->vq.desc);
	assert_null(f->vq.avail);
	assert_null(f->vq.used);
	assert_int_equal(f->vq.size, 0);
	assert_false(f->vq.ready);
	assert_false(f->vq.broken);
	assert_false(f->vq.event_idx);
	assert_false(f->vq.indirect);
	assert_false(f->vq.signalled_valid);
	assert_false(f->vq.no_notify);
	assert_int_equal(f->vq.error, VQ_OK);
	assert_int_equal(f->vq.last_avail, 0);
	assert_int_equal(f->vq.used_idx, 0);
	assert_int_equal(f->vq.nr_pop, 0);
	assert_int_equal(f->vq.nr_push, 0);
	assert_int_equal(f->vq.nr_notify_suppressed, 0);
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);
}

static void test_enable_after_error_starts_fresh(void **state)
{
	struct fx *f = *state;

	mock_queue_init(&f->q, &f->m, 8);
	assert_int_equal(enable_with(f, 8, f->q.desc + 1, f->q.avail, f->q.used), -EINVAL);
	/* QUEUE_ENABLE again with good values: accepted, error cleared. */
	assert_int_equal(mock_queue_enable(&f->q, &f->vq, 0), 0);
	assert_int_equal(f->vq.error, VQ_OK);
	assert_true(f->vq.ready);
	roundtrip(f);
}

static void test_error_names(void **state)
{
	unsigned int i, j;

	(void)state;
	for (i = 0; i < VQ_NR_ERRORS; i++) {
		const char *n = vq_error_name((enum vq_error)i);

		assert_non_null(n);
		assert_true(strlen(n) > 5);
		for (j = 0; j < i; j++)
			assert_string_not_equal(n, vq_error_name((enum vq_error)j));
	}
	assert_string_equal(vq_error_name(VQ_ERR_AVAIL_IDX), "avail index jumped past the queue size");
	assert_non_null(vq_error_name(VQ_NR_ERRORS));
	assert_non_null(vq_error_name((enum vq_error)-1));
}

/* Runs fn with stderr going to a temporary file; returns what was written (static buffer). */
static const char *capture_stderr(void (*fn)(struct fx *), struct fx *f)
{
	static char text[2048];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	ssize_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fileno(tmp), 2), 2);
	fn(f);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	n = pread(fileno(tmp), text, sizeof(text) - 1, 0);
	assert_true(n >= 0);
	text[n] = '\0';
	fclose(tmp);
	return text;
}

static void pop_bad_buffer(struct fx *f)
{
	assert_int_equal(vq_pop(&f->vq, &f->c), -EIO);
	assert_int_equal(vq_pop(&f->vq, &f->c), 0);	/* no second line */
}

static void test_diagnostic_line(void **state)
{
	struct fx *f = fx_queue(state, 8, 0);
	uint64_t b = buf(f, 16);
	const char *line;

	set_desc(f, 5, b, 16, MOCK_DESC_F_NEXT, 1);
	set_desc(f, 1, 0x1000, 4096, MOCK_DESC_F_WRITE, 0);
	mock_publish(&f->q, 5);
	line = capture_stderr(pop_bad_buffer, f);
	assert_non_null(strstr(line, "virtio-test queue 3: descriptor 1 (chain head 5): "
				     "buffer 0x1000 +4096: buffer outside guest RAM; "
				     "queue stopped until the driver resets the device\n"));
	assert_null(strchr(strchr(line, '\n') + 1, '\n'));	/* exactly one line */
}

/* ---- fuzz: random tables, never a crash, always a consistent answer ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible across runs and hosts. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_addr(uint64_t scratch)
{
	switch (rnd() % 8) {
	case 0:
		return rnd();				/* anywhere */
	case 1:
		return RAM_END - rnd() % 64;		/* around the end of RAM */
	case 2:
		return RAM_BASE - rnd() % 64;		/* around its start */
	default:
		return scratch + rnd() % 4096;		/* inside RAM */
	}
}

static uint32_t rnd_len(void)
{
	switch (rnd() % 8) {
	case 0:
		return 0;
	case 1:
		return (uint32_t)rnd();
	case 2:
		return 0xffffffffu;
	default:
		return (uint32_t)(rnd() % 256 + 1);
	}
}

static void rnd_desc(struct mock_desc *d, uint64_t scratch, uint16_t n_next)
{
	uint16_t flags = (uint16_t)(rnd() % 8);

	d->addr = rnd_addr(scratch);
	d->len = rnd_len();
	if ((flags & MOCK_DESC_F_INDIRECT) && rnd() % 2) {
		/* A plausible table: 16-aligned, in the scratch area, 1..n entries. */
		d->addr = scratch + 16 * (rnd() % 200);
		d->len = (uint32_t)(16 * (rnd() % 10 + 1));
	}
	d->flags = flags;
	d->next = (uint16_t)(rnd() % 4 ? rnd() % (n_next + 1u) : rnd());
}

static void test_fuzz(void **state)
{
	struct fx *f = *state;
	uint64_t scratch;
	unsigned int iter, outcome[3] = { 0 };
	int saved, devnull;

	mock_queue_init(&f->q, &f->m, 16);		/* rings big enough for any size <= 16 */
	scratch = mock_alloc(&f->m, 4096, 16);
	saved = dup(2);
	devnull = open("/dev/null", O_WRONLY);
	assert_true(saved >= 0 && devnull >= 0);
	fflush(stderr);
	assert_int_equal(dup2(devnull, 2), 2);		/* the expected warnings */
	close(devnull);

	for (iter = 0; iter < 2000; iter++) {
		uint16_t size = (uint16_t)(1u << (rnd() % 5));
		uint64_t features = rnd() & (F_INDIRECT | F_EVENT_IDX);
		uint16_t avail_idx, i;
		unsigned int pops;

		f->q.size = size;
		memset(mock_host(&f->m, f->q.desc), 0, 16 * 16);
		memset(mock_host(&f->m, f->q.avail), 0, 6 + 2 * 16);
		memset(mock_host(&f->m, f->q.used), 0, 6 + 8 * 16);
		for (i = 0; i < size; i++)
			rnd_desc(mock_desc(&f->q, i), scratch, size);
		for (i = 0; i < 4096 / 16; i++)
			rnd_desc(mock_host(&f->m, scratch + 16ull * i), scratch, 10);
		for (i = 0; i < size; i++) {
			uint16_t head = (uint16_t)(rnd() % 8 ? rnd() % size : rnd() % (size + 2u));

			memcpy(mock_host(&f->m, f->q.avail + 4 + 2ull * i), &head, 2);
		}
		avail_idx = (uint16_t)(rnd() % 8 ? rnd() % (size + 1u) : rnd());
		mock_set_avail_idx(&f->q, avail_idx);

		vq_reset(&f->vq);
		assert_int_equal(mock_queue_enable(&f->q, &f->vq, features), 0);
		for (pops = 0;; pops++) {
			int r = vq_pop(&f->vq, &f->c);

			assert_true(pops <= size);
			if (r == 1) {
				outcome[1]++;
				assert_true(f->c.head < size);
				assert_chain_in_ram(f, &f->c);
				assert_int_equal(vq_push(&f->vq, f->c.head,
							 (uint32_t)(rnd() % ((uint64_t)f->c.in_len + 1))),
						 0);
				continue;
			}
			if (r == -EIO) {
				outcome[2]++;
				assert_true(f->vq.broken);
				assert_false(f->vq.ready);
				assert_true(f->vq.error > VQ_OK && f->vq.error < VQ_NR_ERRORS);
				assert_int_equal(vq_pop(&f->vq, &f->c), 0);
			} else {
				assert_int_equal(r, 0);
				outcome[0]++;
				assert_false(f->vq.broken);
				assert_int_equal(f->vq.last_avail, avail_idx);
			}
			break;
		}
		assert_int_equal(f->vq.nr_pop, pops);
		assert_int_equal(mock_used_idx(&f->q), pops);
	}
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	/* Each answer came up often enough to mean something. */
	assert_true(outcome[0] > 100);
	assert_true(outcome[1] > 100);
	assert_true(outcome[2] > 100);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_enable_size_0),
		T(test_enable_size_3),
		T(test_enable_size_512),
		T(test_enable_size_1),
		T(test_enable_size_256_full_ring),
		T(test_fill_then_flush_once),
		T(test_enable_desc_misaligned),
		T(test_enable_avail_misaligned),
		T(test_enable_used_misaligned),
		T(test_enable_desc_outside_ram),
		T(test_enable_avail_outside_ram),
		T(test_enable_used_outside_ram),
		T(test_enable_desc_straddles_end),
		T(test_enable_avail_straddles_end),
		T(test_enable_used_straddles_end),
		T(test_enable_ring_addr_overflows_64_bits),
		T(test_enable_rings_exactly_at_end_of_ram),
		T(test_enable_after_error_starts_fresh),
		T(test_avail_idx_jump_size_plus_1),
		T(test_avail_idx_jump_ffff),
		T(test_avail_idx_exactly_size_is_fine),
		T(test_avail_idx_jump_across_wrap),
		T(test_avail_wraparound),
		T(test_head_equals_size),
		T(test_head_ffff),
		T(test_head_reposted_in_flight),
		T(test_head_in_flight_life),
		T(test_next_equals_size),
		T(test_loop_of_two),
		T(test_self_loop),
		T(test_self_loop_size_256),
		T(test_chain_of_queue_size_is_fine),
		T(test_buffer_outside_ram),
		T(test_buffer_straddles_end_of_ram),
		T(test_buffer_straddles_start_of_ram),
		T(test_buffer_addr_overflows),
		T(test_buffer_at_end_of_ram_is_fine),
		T(test_zero_length_buffer),
		T(test_readable_after_writable),
		T(test_len_overflow_readable),
		T(test_len_overflow_writable),
		T(test_len_just_below_overflow_is_fine),
		T(test_indirect_valid),
		T(test_indirect_table_of_queue_size_is_fine),
		T(test_indirect_write_flag_ignored),
		T(test_direct_then_indirect_is_fine),
		T(test_indirect_without_feature),
		T(test_indirect_with_next),
		T(test_indirect_nested),
		T(test_indirect_len_0),
		T(test_indirect_len_17),
		T(test_indirect_len_size_plus_1),
		T(test_indirect_table_outside_ram),
		T(test_indirect_table_straddles_end),
		T(test_indirect_next_out_of_table),
		T(test_indirect_loop_inside_table),
		T(test_chain_longer_than_size_via_indirect),
		T(test_readable_after_writable_across_indirect),
		T(test_indirect_buffer_outside_ram),
		T(test_push_bad_head),
		T(test_push_len_above_in_len),
		T(test_push_not_ready),
		T(test_out_of_order_completion),
		T(test_no_interrupt_flag),
		T(test_event_idx_should_interrupt),
		T(test_event_idx_used_event_wraps),
		T(test_notify_off_on_flags),
		T(test_notify_off_on_event_idx),
		T(test_event_idx_empty_pop_rearms),
		T(test_unpop),
		T(test_chain_read_write_offsets),
		T(test_chain_without_in_part),
		T(test_not_ready_pop_returns_0),
		T(test_broken_stays_broken_until_reset),
		T(test_reset_clears_state),
		T(test_error_names),
		T(test_diagnostic_line),
		T(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
