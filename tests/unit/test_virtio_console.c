/* test_virtio_console.c: virtio-console driven by the mock driver: transmit, receive, bad chains, reset. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/virtio_console.h"
#include "hv/base/log.h"
#include "hv/base/output.h"
#include "tests/unit/mock_virtio.h"

#define RAM_BASE	0x100000ull
#define RAM_SIZE	(1u << 20)
#define QSIZE		16
#define FEATURES	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | \
			 VIRTIO_BIT(VIRTIO_CONSOLE_F_SIZE))

struct fx {
	struct mock_vm m;
	struct ev_loop loop;
	struct mock_queue rxq, txq;
	struct virtio_dev *d;
	int out[2];			/* the device's output buffer writes out[1]; the test reads out[0] */
	struct outbuf ob;
};

/* Interrupts raised, per queue; [2] counts configuration interrupts (q == -1). */
static int irqs[3];

static void raise_fn(struct virtio_dev *d, int q)
{
	(void)d;
	irqs[q < 0 ? 2 : q]++;
}

/* Sets the queues up and sets DRIVER_OK, as a driver would. */
static void fx_activate(struct fx *f)
{
	struct virtio_dev *d = f->d;

	mock_queue_init(&f->rxq, &f->m, QSIZE);
	mock_queue_init(&f->txq, &f->m, QSIZE);
	pthread_mutex_lock(&d->lock);
	d->features = FEATURES;
	assert_int_equal(mock_queue_enable(&f->rxq, &d->vq[VCON_RXQ], FEATURES), 0);
	assert_int_equal(mock_queue_enable(&f->txq, &d->vq[VCON_TXQ], FEATURES), 0);
	mock_dev_driver_ok(d);
	pthread_mutex_unlock(&d->lock);
}

static void fx_create(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	memset(irqs, 0, sizeof(irqs));
	mock_vm_init(&f->m, RAM_BASE, RAM_SIZE);
	assert_int_equal(ev_loop_init(&f->loop, "test-con"), 0);
	assert_int_equal(pipe2(f->out, O_CLOEXEC), 0);
	/* The reading end never blocks: "nothing was written" is a read that fails with EAGAIN. */
	assert_int_equal(fcntl(f->out[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(outbuf_init(&f->ob, "test", f->out[1], 64 * 1024), 0);
	assert_int_equal(vcon_create(&f->m.gm, &f->loop, &f->ob, &f->d), 0);
	f->d->raise = raise_fn;
}

static void fx_start(struct fx *f)
{
	fx_create(f);
	fx_activate(f);
}

static void fx_stop(struct fx *f)
{
	mock_dev_reset(f->d);
	f->d->ops->destroy(f->d);
	ev_loop_destroy(&f->loop);
	close(f->out[0]);
	outbuf_destroy(&f->ob);
	close(f->out[1]);
	mock_vm_free(&f->m);
}

static void notify(struct fx *f, unsigned int q)
{
	mock_dev_notify(f->d, q);
}

/* A buffer in guest RAM holding s (readable) or len zero bytes (writable). */
static struct mock_buf rbuf(struct fx *f, const char *s)
{
	size_t n = strlen(s);
	uint64_t gpa = mock_alloc(&f->m, n, 8);

	memcpy(mock_host(&f->m, gpa), s, n);
	return (struct mock_buf){ .gpa = gpa, .len = (uint32_t)n, .writable = false };
}

static struct mock_buf wbuf(struct fx *f, uint32_t len)
{
	return (struct mock_buf){ .gpa = mock_alloc(&f->m, len, 8), .len = len, .writable = true };
}

/* Reads what the device wrote to out_fd so far. */
static size_t drain_out(struct fx *f, char *buf, size_t size)
{
	ssize_t n = read(f->out[0], buf, size);

	if (n < 0) {
		assert_true(errno == EAGAIN);
		return 0;
	}
	return (size_t)n;
}

static void expect_used(struct fx *f, struct mock_queue *q, uint16_t head, uint32_t len)
{
	uint32_t id, l;

	(void)f;
	assert_true(mock_get_used(q, &id, &l));
	assert_int_equal(id, head);
	assert_int_equal(l, len);
}

static void test_identity_and_config(void **state)
{
	struct fx f;
	const uint8_t *cfg;
	uint32_t emerg = 'Z';
	char out[4];

	(void)state;
	fx_create(&f);
	assert_int_equal(f.d->ops->device_id, VIRTIO_ID_CONSOLE);
	assert_int_equal(f.d->ops->pci_class, 0x078000);
	assert_int_equal(f.d->nr_queues, 2);
	assert_true(f.d->host_features & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_true(f.d->host_features & VIRTIO_BIT(VIRTIO_CONSOLE_F_SIZE));
	assert_true(f.d->host_features & VIRTIO_BIT(VIRTIO_CONSOLE_F_EMERG_WRITE));
	assert_false(f.d->host_features & VIRTIO_BIT(VIRTIO_CONSOLE_F_MULTIPORT));
	assert_true(f.d->host_features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	assert_true(f.d->host_features & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	/* §5.3.4: cols, rows, max_nr_ports, emerg_wr; a pipe is no terminal: 80x25. */
	assert_int_equal(f.d->config_size, 12);
	cfg = f.d->config;
	assert_int_equal(cfg[0] | cfg[1] << 8, 80);
	assert_int_equal(cfg[2] | cfg[3] << 8, 25);
	/* An emergency write outputs its character, even before DRIVER_OK. */
	pthread_mutex_lock(&f.d->lock);
	f.d->ops->config_write(f.d, 8, &emerg, 4);
	f.d->ops->config_write(f.d, 0, &emerg, 2);	/* cols: read-only, ignored */
	pthread_mutex_unlock(&f.d->lock);
	assert_int_equal(drain_out(&f, out, sizeof(out)), 1);
	assert_int_equal(out[0], 'Z');
	assert_int_equal(cfg[0] | cfg[1] << 8, 80);
	fx_stop(&f);
}

static void test_tx_in_order(void **state)
{
	struct fx f;
	struct mock_buf b[3];
	uint16_t h1, h2, h3;
	char out[64];
	size_t n;

	(void)state;
	fx_start(&f);
	b[0] = rbuf(&f, "hello ");
	h1 = mock_add_chain(&f.txq, b, 1);
	b[0] = rbuf(&f, "wo");
	b[1] = rbuf(&f, "rld");
	b[2] = rbuf(&f, ", ");
	h2 = mock_add_chain(&f.txq, b, 3);
	b[0] = rbuf(&f, "in");
	b[1] = rbuf(&f, "dir");
	b[2] = rbuf(&f, "ect\n");
	h3 = mock_add_indirect(&f.txq, b, 3);
	notify(&f, VCON_TXQ);
	n = drain_out(&f, out, sizeof(out));
	assert_int_equal(n, strlen("hello world, indirect\n"));
	assert_memory_equal(out, "hello world, indirect\n", n);
	/* §5.3.6.2: completed in order, nothing written into them. */
	expect_used(&f, &f.txq, h1, 0);
	expect_used(&f, &f.txq, h2, 0);
	expect_used(&f, &f.txq, h3, 0);
	assert_false(mock_get_used(&f.txq, &(uint32_t){ 0 }, &(uint32_t){ 0 }));
	/* One interrupt for the batch, none on the receive queue. */
	assert_int_equal(irqs[VCON_TXQ], 1);
	assert_int_equal(irqs[VCON_RXQ], 0);
	/* A second notify with nothing new: no output, no interrupt. */
	notify(&f, VCON_TXQ);
	assert_int_equal(drain_out(&f, out, sizeof(out)), 0);
	assert_int_equal(irqs[VCON_TXQ], 1);
	fx_stop(&f);
}

static void test_tx_writable_only_chain(void **state)
{
	struct fx f;
	struct mock_buf b[2];
	uint16_t bad, good;
	char out[16];

	(void)state;
	fx_start(&f);
	b[0] = wbuf(&f, 32);
	bad = mock_add_chain(&f.txq, b, 1);
	b[0] = rbuf(&f, "ok");
	good = mock_add_chain(&f.txq, b, 1);
	notify(&f, VCON_TXQ);
	expect_used(&f, &f.txq, bad, 0);
	expect_used(&f, &f.txq, good, 0);
	assert_int_equal(drain_out(&f, out, sizeof(out)), 2);
	assert_memory_equal(out, "ok", 2);
	assert_false(f.d->status & VIRTIO_STATUS_NEEDS_RESET);
	fx_stop(&f);
}

static void test_rx_input_before_buffers(void **state)
{
	struct fx f;
	struct mock_buf b;
	uint16_t h;
	uint16_t used_before;

	(void)state;
	fx_start(&f);
	assert_int_equal(vcon_input(f.d, (const uint8_t *)"abc", 3), 3);
	assert_int_equal(mock_used_idx(&f.rxq), 0);
	assert_int_equal(irqs[VCON_RXQ], 0);
	b = wbuf(&f, 16);
	h = mock_add_chain(&f.rxq, &b, 1);
	notify(&f, VCON_RXQ);
	expect_used(&f, &f.rxq, h, 3);
	assert_memory_equal(mock_host(&f.m, b.gpa), "abc", 3);
	assert_int_equal(irqs[VCON_RXQ], 1);
	/* No input pending: a newly posted buffer is left in the ring. */
	b = wbuf(&f, 16);
	h = mock_add_chain(&f.rxq, &b, 1);
	used_before = mock_used_idx(&f.rxq);
	notify(&f, VCON_RXQ);
	assert_int_equal(mock_used_idx(&f.rxq), used_before);
	assert_int_equal(irqs[VCON_RXQ], 1);
	/* ... and used as soon as input comes. */
	assert_int_equal(vcon_input(f.d, (const uint8_t *)"d", 1), 1);
	expect_used(&f, &f.rxq, h, 1);
	assert_memory_equal(mock_host(&f.m, b.gpa), "d", 1);
	assert_int_equal(irqs[VCON_RXQ], 2);
	fx_stop(&f);
}

static void test_rx_input_before_driver_ok(void **state)
{
	struct fx f;
	struct mock_buf b;
	uint32_t id, len;

	(void)state;
	fx_create(&f);
	/* Typed before the driver is up: kept until activation. */
	assert_int_equal(vcon_input(f.d, (const uint8_t *)"early", 5), 5);
	fx_activate(&f);
	b = wbuf(&f, 8);
	mock_add_chain(&f.rxq, &b, 1);
	notify(&f, VCON_RXQ);
	assert_true(mock_get_used(&f.rxq, &id, &len));
	assert_int_equal(len, 5);
	assert_memory_equal(mock_host(&f.m, b.gpa), "early", 5);
	fx_stop(&f);
}

static void test_rx_spans_buffers(void **state)
{
	struct fx f;
	struct mock_buf b[3], two[2];
	uint16_t h[3], h2;
	const char *msg = "0123456789abcdefghij";	/* 20 bytes */

	(void)state;
	fx_start(&f);
	for (int i = 0; i < 3; i++) {
		b[i] = wbuf(&f, 8);
		h[i] = mock_add_chain(&f.rxq, &b[i], 1);
	}
	notify(&f, VCON_RXQ);				/* nothing to deliver */
	assert_int_equal(mock_used_idx(&f.rxq), 0);
	assert_int_equal(vcon_input(f.d, (const uint8_t *)msg, 20), 20);
	expect_used(&f, &f.rxq, h[0], 8);
	expect_used(&f, &f.rxq, h[1], 8);
	expect_used(&f, &f.rxq, h[2], 4);
	assert_memory_equal(mock_host(&f.m, b[0].gpa), msg, 8);
	assert_memory_equal(mock_host(&f.m, b[1].gpa), msg + 8, 8);
	assert_memory_equal(mock_host(&f.m, b[2].gpa), msg + 16, 4);
	assert_int_equal(irqs[VCON_RXQ], 1);		/* one batch, one interrupt */
	/* A two-descriptor indirect receive chain is filled across both. */
	two[0] = wbuf(&f, 3);
	two[1] = wbuf(&f, 5);
	h2 = mock_add_indirect(&f.rxq, two, 2);
	assert_int_equal(vcon_input(f.d, (const uint8_t *)"ABCDEFGHIJ", 10), 10);
	expect_used(&f, &f.rxq, h2, 8);
	assert_memory_equal(mock_host(&f.m, two[0].gpa), "ABC", 3);
	assert_memory_equal(mock_host(&f.m, two[1].gpa), "DEFGH", 5);
	/* The remaining "IJ" waits for the next buffer. */
	two[0] = wbuf(&f, 16);
	h2 = mock_add_chain(&f.rxq, two, 1);
	notify(&f, VCON_RXQ);
	expect_used(&f, &f.rxq, h2, 2);
	assert_memory_equal(mock_host(&f.m, two[0].gpa), "IJ", 2);
	fx_stop(&f);
}

static void test_input_buffer_full(void **state)
{
	struct fx f;
	uint8_t *in = malloc(2 * VCON_INPUT_BUF_SIZE);
	struct mock_buf b[2];
	uint16_t h;

	(void)state;
	assert_non_null(in);
	for (size_t i = 0; i < 2 * VCON_INPUT_BUF_SIZE; i++)
		in[i] = (uint8_t)(i * 7 + i / 251);
	fx_start(&f);
	/* Partly drained first, so that the ring wraps afterwards. */
	assert_int_equal(vcon_input(f.d, in, 3000), 3000);
	b[0] = wbuf(&f, 3000);
	h = mock_add_chain(&f.rxq, b, 1);
	notify(&f, VCON_RXQ);
	expect_used(&f, &f.rxq, h, 3000);
	assert_memory_equal(mock_host(&f.m, b[0].gpa), in, 3000);
	/* Now no buffers: a large write is cut to the buffer size, then nothing fits. */
	assert_int_equal(vcon_input(f.d, in + 3000, 5000), VCON_INPUT_BUF_SIZE);
	assert_int_equal(vcon_input(f.d, in + 3000 + VCON_INPUT_BUF_SIZE, 10), 0);
	b[0] = wbuf(&f, 1000);
	b[1] = wbuf(&f, VCON_INPUT_BUF_SIZE);
	h = mock_add_chain(&f.rxq, b, 2);
	notify(&f, VCON_RXQ);
	expect_used(&f, &f.rxq, h, VCON_INPUT_BUF_SIZE);
	assert_memory_equal(mock_host(&f.m, b[0].gpa), in + 3000, 1000);
	assert_memory_equal(mock_host(&f.m, b[1].gpa), in + 4000, VCON_INPUT_BUF_SIZE - 1000);
	/* Room again; an empty call is harmless. */
	assert_int_equal(vcon_input(f.d, in, 10), 10);
	assert_int_equal(vcon_input(f.d, NULL, 0), 0);
	free(in);
	fx_stop(&f);
}

static void test_rx_chain_without_writable_part(void **state)
{
	struct fx f;
	struct mock_buf b;
	uint16_t bad, good;

	(void)state;
	fx_start(&f);
	b = rbuf(&f, "readonly");
	bad = mock_add_chain(&f.rxq, &b, 1);
	b = wbuf(&f, 8);
	good = mock_add_chain(&f.rxq, &b, 1);
	assert_int_equal(vcon_input(f.d, (const uint8_t *)"xy", 2), 2);
	/* The malformed chain is completed empty and consumes no input. */
	expect_used(&f, &f.rxq, bad, 0);
	expect_used(&f, &f.rxq, good, 2);
	assert_memory_equal(mock_host(&f.m, b.gpa), "xy", 2);
	assert_int_equal(irqs[VCON_RXQ], 1);
	assert_false(f.d->status & VIRTIO_STATUS_NEEDS_RESET);
	fx_stop(&f);
}

static void test_ring_error_needs_reset(void **state)
{
	struct fx f;
	char out[8];

	(void)state;
	fx_start(&f);
	mock_publish(&f.txq, QSIZE + 3);		/* a head index beyond the queue */
	notify(&f, VCON_TXQ);
	assert_true(f.d->status & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(irqs[2], 1);			/* the configuration interrupt */
	assert_int_equal(drain_out(&f, out, sizeof(out)), 0);
	/* Further notifications do nothing harmful. */
	notify(&f, VCON_TXQ);
	assert_int_equal(irqs[2], 1);
	fx_stop(&f);
}

static void test_reset_then_reactivate(void **state)
{
	struct fx f;
	struct mock_buf b;
	uint16_t h;
	char out[16];

	(void)state;
	fx_start(&f);
	b = rbuf(&f, "one");
	mock_add_chain(&f.txq, &b, 1);
	notify(&f, VCON_TXQ);
	assert_int_equal(drain_out(&f, out, sizeof(out)), 3);
	/* Input with no buffer posted, then the driver resets the device. */
	assert_int_equal(vcon_input(f.d, (const uint8_t *)"kept", 4), 4);
	pthread_mutex_lock(&f.d->lock);
	virtio_dev_reset(f.d);
	pthread_mutex_unlock(&f.d->lock);
	assert_int_equal(f.d->status, 0);
	assert_false(f.d->vq[VCON_RXQ].ready);
	/* While reset: input is accepted and kept, nothing touches the old rings. */
	assert_int_equal(vcon_input(f.d, (const uint8_t *)"!", 1), 1);
	notify(&f, VCON_TXQ);
	memset(irqs, 0, sizeof(irqs));
	/* A new driver: new rings. */
	fx_activate(&f);
	b = wbuf(&f, 16);
	h = mock_add_chain(&f.rxq, &b, 1);
	notify(&f, VCON_RXQ);
	expect_used(&f, &f.rxq, h, 5);
	assert_memory_equal(mock_host(&f.m, b.gpa), "kept!", 5);
	b = rbuf(&f, "two");
	h = mock_add_chain(&f.txq, &b, 1);
	notify(&f, VCON_TXQ);
	expect_used(&f, &f.txq, h, 0);
	assert_int_equal(drain_out(&f, out, sizeof(out)), 3);
	assert_memory_equal(out, "two", 3);
	assert_int_equal(irqs[VCON_RXQ], 1);
	assert_int_equal(irqs[VCON_TXQ], 1);
	fx_stop(&f);
}

static void test_resize(void **state)
{
	struct fx f;
	const uint8_t *cfg;
	uint8_t gen;

	(void)state;
	fx_start(&f);
	cfg = f.d->config;
	gen = f.d->config_generation;
	vcon_resize(f.d, 132, 43);
	assert_int_equal(cfg[0] | cfg[1] << 8, 132);
	assert_int_equal(cfg[2] | cfg[3] << 8, 43);
	assert_int_equal(irqs[2], 1);
	assert_int_not_equal(f.d->config_generation, gen);
	vcon_resize(f.d, 132, 43);			/* no change: no interrupt */
	assert_int_equal(irqs[2], 1);
	fx_stop(&f);
}

static void test_event_idx(void **state)
{
	const uint64_t features = FEATURES | VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	struct fx f;
	struct mock_buf b;
	char out[16];

	(void)state;
	fx_create(&f);
	mock_queue_init(&f.rxq, &f.m, QSIZE);
	mock_queue_init(&f.txq, &f.m, QSIZE);
	pthread_mutex_lock(&f.d->lock);
	f.d->features = features;
	assert_int_equal(mock_queue_enable(&f.rxq, &f.d->vq[VCON_RXQ], features), 0);
	assert_int_equal(mock_queue_enable(&f.txq, &f.d->vq[VCON_TXQ], features), 0);
	f.d->status |= VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;
	assert_int_equal(f.d->ops->activate(f.d), 0);
	pthread_mutex_unlock(&f.d->lock);
	b = rbuf(&f, "ab");
	mock_add_chain(&f.txq, &b, 1);
	b = rbuf(&f, "cd");
	mock_add_chain(&f.txq, &b, 1);
	/* The driver wants an interrupt only once 5 buffers are used (used_event = 4). */
	mock_set_used_event(&f.txq, 4);
	notify(&f, VCON_TXQ);
	assert_int_equal(drain_out(&f, out, sizeof(out)), 4);
	/* Kicks wanted again from the next entry on (avail_event, §2.7.10). */
	assert_int_equal(mock_avail_event(&f.txq), 2);
	assert_int_equal(mock_used_idx(&f.txq), 2);
	assert_true(irqs[VCON_TXQ] <= 1);		/* the first one may always fire */
	irqs[VCON_TXQ] = 0;
	b = rbuf(&f, "e");
	mock_add_chain(&f.txq, &b, 1);
	notify(&f, VCON_TXQ);				/* used idx 3: not past used_event */
	assert_int_equal(irqs[VCON_TXQ], 0);
	b = rbuf(&f, "f");
	mock_add_chain(&f.txq, &b, 1);
	b = rbuf(&f, "g");
	mock_add_chain(&f.txq, &b, 1);
	notify(&f, VCON_TXQ);				/* used idx 5: entry 4 is used */
	assert_int_equal(irqs[VCON_TXQ], 1);
	assert_int_equal(drain_out(&f, out, sizeof(out)), 3);
	assert_memory_equal(out, "efg", 3);
	fx_stop(&f);
}

static void test_output_closed_is_dropped(void **state)
{
	struct fx f;
	struct mock_buf b;
	uint16_t h;

	(void)state;
	fx_start(&f);
	/* The reader went away: EPIPE (SIGPIPE ignored, as hvrun does), output dropped, chain completed. */
	signal(SIGPIPE, SIG_IGN);
	close(f.out[0]);
	f.out[0] = open("/dev/null", O_RDONLY);
	b = rbuf(&f, "lost");
	h = mock_add_chain(&f.txq, &b, 1);
	notify(&f, VCON_TXQ);
	expect_used(&f, &f.txq, h, 0);
	assert_int_equal(irqs[VCON_TXQ], 1);
	fx_stop(&f);
}

/*
 * Nobody reads the output (a blocking pipe, as a terminal nobody looks at):
 * the device never waits for it.  Half a megabyte of guest output completes
 * at once, with d->lock free; what the buffer and the pipe cannot hold is
 * dropped and counted; once the pipe is read again, output goes on.
 */
static void test_output_never_blocks(void **state)
{
	const uint32_t chunk = 256 * 1024;
	struct mock_buf b[2], after;
	uint64_t written, dropped, t0;
	uint16_t h[2], ha;
	size_t queued, total = 0, n;
	char *sink = malloc(1 << 20);
	bool seen = false;
	struct fx f;
	int i;

	(void)state;
	assert_non_null(sink);
	fx_start(&f);
	assert_int_equal(outbuf_start(&f.ob), 0);
	for (i = 0; i < 2; i++) {
		uint64_t gpa = mock_alloc(&f.m, chunk, 8);

		memset(mock_host(&f.m, gpa), 'q', chunk);
		b[i] = (struct mock_buf){ .gpa = gpa, .len = chunk, .writable = false };
		h[i] = mock_add_chain(&f.txq, &b[i], 1);
	}
	t0 = hv_now_ns();
	notify(&f, VCON_TXQ);
	assert_true(hv_now_ns() - t0 < 500ull * 1000 * 1000);
	expect_used(&f, &f.txq, h[0], 0);
	expect_used(&f, &f.txq, h[1], 0);
	outbuf_counters(&f.ob, &written, &dropped, &queued);
	assert_true(dropped > 0);
	assert_true(written + dropped + queued == 2ull * chunk);

	/* The reader is back: the writer empties the buffer, and new output follows. */
	for (i = 0; i < 400; i++) {
		while ((n = drain_out(&f, sink, 1 << 20)) > 0)
			total += n;
		outbuf_counters(&f.ob, &written, &dropped, &queued);
		if (!queued && total == written)
			break;
		usleep(5000);
	}
	assert_int_equal(total, written);
	after = rbuf(&f, "after");
	ha = mock_add_chain(&f.txq, &after, 1);
	notify(&f, VCON_TXQ);
	expect_used(&f, &f.txq, ha, 0);
	for (i = 0; i < 400 && !seen; i++) {
		n = drain_out(&f, sink, 1 << 20);
		seen = n == 5 && memcmp(sink, "after", 5) == 0;
		if (!seen)
			usleep(5000);
	}
	assert_true(seen);
	assert_true(total >= 64 * 1024);
	free(sink);
	fx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_and_config),
		cmocka_unit_test(test_tx_in_order),
		cmocka_unit_test(test_tx_writable_only_chain),
		cmocka_unit_test(test_rx_input_before_buffers),
		cmocka_unit_test(test_rx_input_before_driver_ok),
		cmocka_unit_test(test_rx_spans_buffers),
		cmocka_unit_test(test_input_buffer_full),
		cmocka_unit_test(test_rx_chain_without_writable_part),
		cmocka_unit_test(test_ring_error_needs_reset),
		cmocka_unit_test(test_reset_then_reactivate),
		cmocka_unit_test(test_resize),
		cmocka_unit_test(test_event_idx),
		cmocka_unit_test(test_output_closed_is_dropped),
		cmocka_unit_test(test_output_never_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
