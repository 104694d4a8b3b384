/* test_virtio_rng.c: virtio-rng driven by the mock driver: fills, bad chains, the rate limit and its timer, reset. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/virtio_rng.h"
#include "tests/unit/mock_virtio.h"

#define RAM_BASE	0x100000ull
#define RAM_SIZE	(1u << 20)
#define QSIZE		64
#define FEATURES	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))

struct fx {
	struct mock_vm m;
	struct ev_loop loop;
	struct mock_queue q;
	struct virtio_dev *d;
};

static int irqs[2];		/* [0]: the request queue, [1]: configuration */

static void raise_fn(struct virtio_dev *d, int q)
{
	(void)d;
	irqs[q < 0 ? 1 : 0]++;
}

static void fx_activate(struct fx *f)
{
	struct virtio_dev *d = f->d;

	mock_queue_init(&f->q, &f->m, QSIZE);
	pthread_mutex_lock(&d->lock);
	d->features = FEATURES;
	assert_int_equal(mock_queue_enable(&f->q, &d->vq[VRNG_REQUESTQ], FEATURES), 0);
	mock_dev_driver_ok(d);
	pthread_mutex_unlock(&d->lock);
}

static void fx_start(struct fx *f, uint64_t rate)
{
	memset(f, 0, sizeof(*f));
	memset(irqs, 0, sizeof(irqs));
	mock_vm_init(&f->m, RAM_BASE, RAM_SIZE);
	assert_int_equal(ev_loop_init(&f->loop, "test-rng"), 0);
	assert_int_equal(vrng_create(&f->m.gm, &f->loop, rate, &f->d), 0);
	f->d->raise = raise_fn;
	fx_activate(f);
}

static void fx_reset(struct fx *f)
{
	mock_dev_reset(f->d);
}

static void fx_stop(struct fx *f)
{
	fx_reset(f);
	f->d->ops->destroy(f->d);
	ev_loop_destroy(&f->loop);
	mock_vm_free(&f->m);
}

static void notify(struct fx *f)
{
	mock_dev_notify(f->d, VRNG_REQUESTQ);
}

static struct mock_buf wbuf(struct fx *f, uint32_t len)
{
	return (struct mock_buf){ .gpa = mock_alloc(&f->m, len, 8), .len = len, .writable = true };
}

/* Takes every used element so far; returns their total length (and their number in *count). */
static uint64_t used_total(struct fx *f, unsigned int *count)
{
	uint32_t id, len;
	uint64_t total = 0;

	while (mock_get_used(&f->q, &id, &len)) {
		total += len;
		if (count)
			(*count)++;
	}
	return total;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Not all zero, not one repeated byte, not one repeated 8-byte word. */
static void assert_random(const uint8_t *p, size_t len)
{
	size_t i, same = 0, word_same = 0;

	for (i = 1; i < len; i++)
		same += p[i] == p[0];
	assert_true(same < len / 4);
	if (len >= 16) {
		for (i = 8; i + 8 <= len; i += 8)
			word_same += memcmp(p, p + i, 8) == 0;
		assert_int_equal(word_same, 0);
	}
}

static void test_identity(void **state)
{
	struct fx f;
	struct virtio_dev *d;

	(void)state;
	fx_start(&f, 0);
	d = f.d;
	assert_string_equal(d->ops->name, "virtio-rng");
	assert_int_equal(d->ops->device_id, VIRTIO_ID_RNG);
	assert_int_equal(d->ops->pci_class, 0x00ff00);
	assert_int_equal(d->nr_queues, 1);
	assert_int_equal(d->config_size, 0);		/* §5.4.4: none */
	assert_true(d->host_features & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_int_equal(vrng_create(&f.m.gm, NULL, 0, &d), -EINVAL);	/* the timer needs a loop */
	fx_stop(&f);
}

static void test_fills_buffers(void **state)
{
	struct fx f;
	struct mock_buf b[3];
	uint16_t h1, h2, h3;
	uint32_t id, len;

	(void)state;
	fx_start(&f, 0);
	b[0] = wbuf(&f, 64);
	h1 = mock_add_chain(&f.q, b, 1);
	b[1] = wbuf(&f, 100);
	b[2] = wbuf(&f, 28);
	h2 = mock_add_chain(&f.q, &b[1], 2);
	h3 = mock_add_indirect(&f.q, b, 3);		/* the same three buffers again */
	notify(&f);
	assert_true(mock_get_used(&f.q, &id, &len));
	assert_int_equal(id, h1);
	assert_int_equal(len, 64);
	assert_true(mock_get_used(&f.q, &id, &len));
	assert_int_equal(id, h2);
	assert_int_equal(len, 128);
	assert_true(mock_get_used(&f.q, &id, &len));
	assert_int_equal(id, h3);
	assert_int_equal(len, 192);
	assert_false(mock_get_used(&f.q, &id, &len));
	assert_random(mock_host(&f.m, b[0].gpa), 64);
	assert_random(mock_host(&f.m, b[1].gpa), 100);
	assert_random(mock_host(&f.m, b[2].gpa), 28);
	assert_int_equal(irqs[0], 1);			/* one batch, one interrupt */
	/* Nothing new: no interrupt. */
	notify(&f);
	assert_int_equal(irqs[0], 1);
	fx_stop(&f);
}

static void test_readable_only_chain(void **state)
{
	struct fx f;
	struct mock_buf b[2];
	uint16_t bad, good;
	uint32_t id, len;

	(void)state;
	fx_start(&f, 0);
	b[0] = wbuf(&f, 32);
	b[0].writable = false;
	bad = mock_add_chain(&f.q, b, 1);
	/* Readable then writable: only the writable part is filled. */
	b[1] = wbuf(&f, 16);
	good = mock_add_chain(&f.q, b, 2);
	notify(&f);
	assert_true(mock_get_used(&f.q, &id, &len));
	assert_int_equal(id, bad);
	assert_int_equal(len, 0);
	assert_true(mock_get_used(&f.q, &id, &len));
	assert_int_equal(id, good);
	assert_int_equal(len, 16);
	assert_false(f.d->status & VIRTIO_STATUS_NEEDS_RESET);
	fx_stop(&f);
}

static void test_rate_limit(void **state)
{
	const uint64_t rate = 1000;			/* bytes/s: the bucket holds 1000 */
	struct fx f;
	struct mock_buf b;
	uint64_t filled, more;
	unsigned int used = 0, i;
	double t0, elapsed;
	int ran;

	(void)state;
	t0 = now_s();
	fx_start(&f, rate);
	for (i = 0; i < 32; i++) {			/* 2048 bytes asked for */
		b = wbuf(&f, 64);
		mock_add_chain(&f.q, &b, 1);
	}
	/* A guest hammering the queue gets the bucket, no more. */
	for (i = 0; i < 1000; i++)
		notify(&f);
	filled = used_total(&f, &used);
	elapsed = now_s() - t0;
	assert_true(filled >= rate);
	assert_true((double)filled <= (double)rate + (double)rate * elapsed + 1);
	assert_true(used < 32);
	assert_true(irqs[0] <= 2);
	/* While throttled the driver is asked not to notify (VRING_USED_F_NO_NOTIFY). */
	assert_int_equal(mock_used_flags(&f.q) & 1, 1);
	/* The timer resumes the queue: more is filled, still within the rate. */
	ran = ev_loop_poll(&f.loop, 2000);
	assert_int_equal(ran, 1);
	more = used_total(&f, &used);
	elapsed = now_s() - t0;
	assert_true(more > 0);
	assert_true((double)(filled + more) <= (double)rate + (double)rate * elapsed + 1);
	fx_stop(&f);
}

static void test_reset_disarms_timer(void **state)
{
	const uint64_t rate = 500;
	struct fx f;
	struct mock_buf b;
	unsigned int i;
	uint64_t filled;
	double t0;

	(void)state;
	t0 = now_s();
	fx_start(&f, rate);
	for (i = 0; i < 16; i++) {
		b = wbuf(&f, 64);
		mock_add_chain(&f.q, &b, 1);
	}
	notify(&f);
	filled = used_total(&f, NULL);
	assert_true(filled >= rate);
	/* Throttled; the driver resets: no timer callback afterwards. */
	fx_reset(&f);
	assert_int_equal(ev_loop_poll(&f.loop, 100), 0);
	/* A new driver: the bucket was not refilled by the reset. */
	fx_activate(&f);
	for (i = 0; i < 16; i++) {
		b = wbuf(&f, 64);
		mock_add_chain(&f.q, &b, 1);
	}
	notify(&f);
	filled += used_total(&f, NULL);
	assert_true((double)filled <= (double)rate + (double)rate * (now_s() - t0) + 1);
	/* And the new activation's timer works. */
	assert_int_equal(ev_loop_poll(&f.loop, 2000), 1);
	assert_true(used_total(&f, NULL) > 0);
	fx_stop(&f);
}

static void test_ring_error_needs_reset(void **state)
{
	struct fx f;

	(void)state;
	fx_start(&f, 0);
	mock_publish(&f.q, QSIZE + 1);		/* a head beyond the queue */
	notify(&f);
	assert_true(f.d->status & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(irqs[1], 1);
	notify(&f);
	assert_int_equal(irqs[1], 1);
	fx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_fills_buffers),
		cmocka_unit_test(test_readable_only_chain),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_reset_disarms_timer),
		cmocka_unit_test(test_ring_error_needs_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
