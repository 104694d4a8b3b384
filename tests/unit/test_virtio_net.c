/* test_virtio_net.c: virtio-net driven by the mock driver over a fake backend (AF_UNIX datagram socketpairs). */
#include "tests/unit/cmocka_inc.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio_net.h"
#include "tests/unit/mock_virtio.h"

#define RAM_BASE	0x100000ull
#define RAM_SIZE	(4u << 20)
#define QSIZE		16
#define HDR		NET_VNET_HDR_LEN
#define MAX_QUEUES	(2 * 2 + 1)

#define F(bit)		VIRTIO_BIT(bit)
#define BASE_FEATURES	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_INDIRECT_DESC) | F(VIRTIO_NET_F_MAC) | \
			 F(VIRTIO_NET_F_STATUS))
#define CTRL_FEATURES	(F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_CTRL_RX) | \
			 F(VIRTIO_NET_F_CTRL_MAC_ADDR))

static const uint8_t dev_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t other_mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mcast_mac[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const uint8_t mcast2_mac[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

/* The fake backend: the device holds be.fds[i], the test the other end, peer[i]. */
struct fake_be {
	struct net_backend be;
	int peer[NET_MAX_QUEUE_PAIRS];
	bool link;
	int nr_set_offload;
	unsigned int offload;		/* TUN_F_* */
	unsigned int pairs_set;
};

static int fake_set_offload(struct net_backend *b, unsigned int tun_flags)
{
	struct fake_be *fb = (struct fake_be *)b;

	fb->nr_set_offload++;
	fb->offload = tun_flags;
	return 0;
}

static int fake_set_queue_pairs(struct net_backend *b, unsigned int n)
{
	((struct fake_be *)b)->pairs_set = n;
	return 0;
}

static bool fake_link_up(struct net_backend *b)
{
	return ((struct fake_be *)b)->link;
}

static const struct net_backend_ops fake_ops = {
	.set_offload = fake_set_offload,
	.set_queue_pairs = fake_set_queue_pairs,
	.link_up = fake_link_up,
};

struct fx {
	struct mock_vm m;
	struct ev_loop loop;
	struct fake_be fb;
	struct mock_queue q[MAX_QUEUES];
	struct virtio_dev *d;
	unsigned int pairs;
	uint64_t features;
};

/* Interrupts raised per queue; [MAX_QUEUES] counts configuration interrupts. */
static int irqs[MAX_QUEUES + 1];

static void raise_fn(struct virtio_dev *d, int q)
{
	(void)d;
	irqs[q < 0 ? MAX_QUEUES : q]++;
}

static void fx_create(struct fx *f, uint32_t hdr_len, unsigned int pairs, unsigned int tun_offloads)
{
	unsigned int i;

	memset(f, 0, sizeof(*f));
	memset(irqs, 0, sizeof(irqs));
	mock_vm_init(&f->m, RAM_BASE, RAM_SIZE);
	assert_int_equal(ev_loop_init(&f->loop, "test-net"), 0);
	f->fb.be.ops = &fake_ops;
	strcpy(f->fb.be.name, "fake0");
	f->fb.be.nr_queue_pairs = pairs;
	f->fb.be.vnet_hdr_len = hdr_len;
	f->fb.be.tun_offloads = tun_offloads;
	f->fb.link = true;
	for (i = 0; i < pairs; i++) {
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
				 0);
		f->fb.be.fds[i] = sv[0];
		f->fb.peer[i] = sv[1];
	}
	f->pairs = pairs;
	assert_int_equal(vnet_create(&f->m.gm, &f->loop, &f->fb.be, dev_mac, pairs, &f->d), 0);
	f->d->raise = raise_fn;
}

/* The driver's side: features, every queue's rings, DRIVER_OK. */
static void fx_activate(struct fx *f, uint64_t features)
{
	struct virtio_dev *d = f->d;
	uint16_t i;

	assert_true(d->nr_queues <= MAX_QUEUES);
	pthread_mutex_lock(&d->lock);
	assert_int_equal(d->ops->features_ok(d, features), 0);
	d->features = features;
	f->features = features;
	for (i = 0; i < d->nr_queues; i++) {
		mock_queue_init(&f->q[i], &f->m, QSIZE);
		assert_int_equal(mock_queue_enable(&f->q[i], &d->vq[i], features), 0);
	}
	mock_dev_driver_ok(d);
	pthread_mutex_unlock(&d->lock);
}

static void fx_start(struct fx *f, uint32_t hdr_len, uint64_t features)
{
	fx_create(f, hdr_len, 1, 0);
	fx_activate(f, features);
}

static void fx_reset(struct fx *f)
{
	mock_dev_reset(f->d);
}

static void fx_stop(struct fx *f)
{
	unsigned int i;

	fx_reset(f);
	f->d->ops->destroy(f->d);
	ev_loop_destroy(&f->loop);
	for (i = 0; i < f->pairs; i++) {
		close(f->fb.be.fds[i]);
		close(f->fb.peer[i]);
	}
	mock_vm_free(&f->m);
}

static void notify(struct fx *f, unsigned int q)
{
	mock_dev_notify(f->d, q);
}

/* Runs the I/O loop until it has nothing more to do. */
static void pump(struct fx *f)
{
	while (ev_loop_poll(&f->loop, 20) > 0)
		;
}

static struct vnet_stats stats(struct fx *f)
{
	struct vnet_stats s;

	vnet_get_stats(f->d, &s);
	return s;
}

/* An Ethernet frame: dst, src, ethertype 0x0800, then len - 14 bytes of pattern seed. */
static void make_frame(uint8_t *buf, size_t len, const uint8_t *dst, uint8_t seed)
{
	size_t i;

	memcpy(buf, dst, 6);
	memcpy(buf + 6, other_mac, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	for (i = 14; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 3);
}

/* The backend receives a frame for the guest (with a zeroed vnet header if it speaks one). */
static void backend_send(struct fx *f, unsigned int pair, const uint8_t *frame, size_t len)
{
	uint8_t buf[HDR + 2048];
	size_t off = f->fb.be.vnet_hdr_len;

	assert_true(len <= 2048);
	memset(buf, 0, off);
	memcpy(buf + off, frame, len);
	assert_int_equal(write(f->fb.peer[pair], buf, off + len), (ssize_t)(off + len));
}

/* What the device sent to the backend, or -1 when nothing. */
static ssize_t backend_recv(struct fx *f, unsigned int pair, uint8_t *buf, size_t size)
{
	ssize_t n = read(f->fb.peer[pair], buf, size);

	if (n < 0)
		assert_true(errno == EAGAIN);
	return n;
}

static uint64_t alloc_buf(struct fx *f, uint32_t len)
{
	return mock_alloc(&f->m, len, 8);
}

/* A receive buffer of len bytes, one descriptor; returns its guest address. */
static uint64_t post_rx(struct fx *f, unsigned int q, uint32_t len, uint16_t *head)
{
	struct mock_buf b = { .gpa = alloc_buf(f, len), .len = len, .writable = true };
	uint16_t h = mock_add_chain(&f->q[q], &b, 1);

	if (head)
		*head = h;
	return b.gpa;
}

/* A transmit chain: a zeroed header then the frame, split at the given offsets. */
static uint16_t post_tx(struct fx *f, unsigned int q, const uint8_t *frame, size_t len,
			const uint32_t *cuts, unsigned int nr_cuts)
{
	struct mock_buf b[8];
	uint64_t gpa = alloc_buf(f, (uint32_t)(HDR + len));
	uint8_t *p = mock_host(&f->m, gpa);
	uint32_t at = 0, total = (uint32_t)(HDR + len);
	unsigned int i;

	memset(p, 0, HDR);
	memcpy(p + HDR, frame, len);
	for (i = 0; i <= nr_cuts; i++) {
		uint32_t end = i < nr_cuts ? cuts[i] : total;

		b[i] = (struct mock_buf){ .gpa = gpa + at, .len = end - at, .writable = false };
		at = end;
	}
	return mock_add_chain(&f->q[q], b, nr_cuts + 1);
}

static void expect_used(struct mock_queue *q, uint16_t head, uint32_t len)
{
	uint32_t id, l;

	assert_true(mock_get_used(q, &id, &l));
	assert_int_equal(id, head);
	assert_int_equal(l, len);
}

static void expect_no_used(struct mock_queue *q)
{
	uint32_t id, l;

	assert_false(mock_get_used(q, &id, &l));
}

static uint16_t num_buffers(struct fx *f, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, (uint8_t *)mock_host(&f->m, gpa) + 10, 2);
	return le16toh(v);
}

static unsigned int ctrlq(struct fx *f)
{
	return (f->features & F(VIRTIO_NET_F_MQ)) ? 2 * f->pairs : 2;
}

/*
 * Sends a control command (class, cmd, data readable; one writable ack byte)
 * and returns the ack the device wrote.
 */
static uint8_t ctrl(struct fx *f, uint8_t class, uint8_t cmd, const void *data, uint32_t len)
{
	unsigned int q = ctrlq(f);
	uint64_t gpa = alloc_buf(f, 2 + len + 1);
	uint8_t *p = mock_host(&f->m, gpa);
	struct mock_buf b[3];
	unsigned int nr = 0;
	uint16_t head;

	p[0] = class;
	p[1] = cmd;
	if (len)
		memcpy(p + 2, data, len);
	p[2 + len] = 0xee;
	b[nr++] = (struct mock_buf){ .gpa = gpa, .len = 2, .writable = false };
	if (len)
		b[nr++] = (struct mock_buf){ .gpa = gpa + 2, .len = len, .writable = false };
	b[nr++] = (struct mock_buf){ .gpa = gpa + 2 + len, .len = 1, .writable = true };
	head = mock_add_chain(&f->q[q], b, nr);
	notify(f, q);
	expect_used(&f->q[q], head, 1);
	return p[2 + len];
}

static uint8_t ctrl_u8(struct fx *f, uint8_t class, uint8_t cmd, uint8_t v)
{
	return ctrl(f, class, cmd, &v, 1);
}

/* Sends one frame to dst from the backend and reports whether the guest received it. */
static bool rx_delivered(struct fx *f, const uint8_t *dst)
{
	uint8_t frame[64];
	uint16_t head;
	uint32_t id, len;
	bool got;

	post_rx(f, 0, 256, &head);
	make_frame(frame, sizeof(frame), dst, 1);
	backend_send(f, 0, frame, sizeof(frame));
	notify(f, 0);
	pump(f);
	got = mock_get_used(&f->q[0], &id, &len);
	if (got)
		assert_int_equal(len, HDR + sizeof(frame));
	return got;
}

/* ---- identity and features ---- */

static void test_identity_and_config(void **state)
{
	const uint64_t offloads = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
				  F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO4);
	struct fx f;
	const struct virtio_net_config *cfg;
	uint64_t hf;

	(void)state;
	fx_create(&f, HDR, 1, TUN_F_CSUM | TUN_F_TSO4);
	hf = f.d->host_features;
	assert_int_equal(f.d->ops->device_id, VIRTIO_ID_NET);
	assert_int_equal(f.d->ops->pci_class, 0x020000);
	assert_int_equal(f.d->nr_queues, 3);
	assert_int_equal(f.d->config_size, 12);
	assert_true((hf & offloads) == offloads);
	assert_true(hf & F(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
	assert_true((hf & (BASE_FEATURES | CTRL_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF) |
			   F(VIRTIO_F_EVENT_IDX))) ==
		    (BASE_FEATURES | CTRL_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_F_EVENT_IDX)));
	assert_false(hf & F(VIRTIO_NET_F_MQ));
	assert_false(hf & F(VIRTIO_NET_F_HOST_UFO));
	cfg = f.d->config;
	assert_memory_equal(cfg->mac, dev_mac, 6);
	assert_int_equal(le16toh(cfg->status), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(le16toh(cfg->max_virtqueue_pairs), 1);
	fx_stop(&f);

	/* No vnet header: no offloads at all, whatever the backend claims. */
	fx_create(&f, 0, 1, TUN_F_CSUM | TUN_F_TSO4);
	hf = f.d->host_features;
	assert_false(hf & offloads);
	assert_false(hf & F(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
	fx_stop(&f);

	/* Two pairs: MQ, five queues. */
	fx_create(&f, 0, 2, 0);
	assert_true(f.d->host_features & F(VIRTIO_NET_F_MQ));
	assert_int_equal(f.d->nr_queues, 5);
	cfg = f.d->config;
	assert_int_equal(le16toh(cfg->max_virtqueue_pairs), 2);
	fx_stop(&f);
}

static void test_features_ok_refusals(void **state)
{
	static const struct {
		uint64_t features;
		int ret;
	} cases[] = {
		{ BASE_FEATURES, 0 },
		{ BASE_FEATURES | CTRL_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF), 0 },
		{ F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
		  F(VIRTIO_NET_F_GUEST_ECN), 0 },
		{ F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_ECN), 0 },
		{ F(VIRTIO_NET_F_GUEST_TSO4), -EINVAL },
		{ F(VIRTIO_NET_F_GUEST_TSO6), -EINVAL },
		{ F(VIRTIO_NET_F_GUEST_UFO), -EINVAL },
		{ F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_ECN), -EINVAL },
		{ F(VIRTIO_NET_F_HOST_TSO4), -EINVAL },
		{ F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_GUEST_CSUM), -EINVAL },
		{ F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_ECN), -EINVAL },
		{ F(VIRTIO_NET_F_HOST_UFO), -EINVAL },
		{ F(VIRTIO_NET_F_HOST_USO), -EINVAL },
		{ F(VIRTIO_NET_F_CTRL_RX), -EINVAL },
		{ F(VIRTIO_NET_F_MQ), -EINVAL },
		{ F(VIRTIO_NET_F_CTRL_MAC_ADDR), -EINVAL },
		{ F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_MQ), 0 },
	};
	struct fx f;
	size_t i;

	(void)state;
	fx_create(&f, HDR, 1, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t feat = cases[i].features | F(VIRTIO_F_VERSION_1);

		assert_int_equal(f.d->ops->features_ok(f.d, feat), cases[i].ret);
	}
	fx_stop(&f);
}

static void test_activate_sets_offloads(void **state)
{
	const uint64_t offloads = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
				  F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_HOST_TSO4);
	struct fx f;

	(void)state;
	fx_create(&f, HDR, 1, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	fx_activate(&f, BASE_FEATURES | offloads);
	assert_int_equal(f.fb.nr_set_offload, 1);
	/* Only what the guest receives (GUEST_*), as the TAP's flags. */
	assert_int_equal(f.fb.offload, TUN_F_CSUM | TUN_F_TSO4);
	fx_stop(&f);

	/* Segmentation without GUEST_CSUM makes no sense: nothing. */
	fx_create(&f, HDR, 1, TUN_F_CSUM | TUN_F_TSO4);
	fx_activate(&f, BASE_FEATURES | F(VIRTIO_NET_F_CSUM));
	assert_int_equal(f.fb.nr_set_offload, 1);
	assert_int_equal(f.fb.offload, 0);
	fx_stop(&f);
}

/* ---- transmit ---- */

static void test_tx_with_header(void **state)
{
	struct fx f;
	uint8_t frame[100], got[256];
	const uint32_t cuts[] = { HDR };
	uint16_t h1, h2;
	struct vnet_stats s;

	(void)state;
	fx_start(&f, HDR, BASE_FEATURES);
	make_frame(frame, sizeof(frame), other_mac, 7);
	h1 = post_tx(&f, 1, frame, sizeof(frame), cuts, 1);
	h2 = post_tx(&f, 1, frame, 60, NULL, 0);
	notify(&f, 1);
	/* The backend speaks the vnet header: it gets the whole chain, header included. */
	assert_int_equal(backend_recv(&f, 0, got, sizeof(got)), HDR + sizeof(frame));
	assert_memory_equal(got + HDR, frame, sizeof(frame));
	assert_int_equal(backend_recv(&f, 0, got, sizeof(got)), HDR + 60);
	assert_int_equal(backend_recv(&f, 0, got, sizeof(got)), -1);
	expect_used(&f.q[1], h1, 0);
	expect_used(&f.q[1], h2, 0);
	assert_int_equal(irqs[1], 1);		/* one interrupt for the batch */
	assert_int_equal(f.d->vq[1].nr_used_updates, 1);	/* and one used->idx store */
	s = stats(&f);
	assert_int_equal(s.tx_frames, 2);
	assert_int_equal(s.tx_bytes, sizeof(frame) + 60);
	assert_int_equal(s.tx_errors, 0);
	fx_stop(&f);
}

/*
 * After a turn that sent frames, notifications stay off for one more look:
 * a frame queued meanwhile goes out without a kick; a look that finds
 * nothing asks for kicks again (used->flags here: EVENT_IDX not offered).
 */
static void test_tx_looks_again_before_kicks(void **state)
{
	struct fx f;
	uint8_t frame[60], got[256];
	uint16_t h1, h2;

	(void)state;
	fx_start(&f, HDR, BASE_FEATURES);
	make_frame(frame, sizeof(frame), other_mac, 9);
	h1 = post_tx(&f, 1, frame, sizeof(frame), NULL, 0);
	notify(&f, 1);
	assert_int_equal(backend_recv(&f, 0, got, sizeof(got)), HDR + sizeof(frame));
	assert_int_equal(mock_used_flags(&f.q[1]) & 1, 1);	/* VRING_USED_F_NO_NOTIFY */
	h2 = post_tx(&f, 1, frame, sizeof(frame), NULL, 0);	/* no kick */
	pump(&f);
	assert_int_equal(backend_recv(&f, 0, got, sizeof(got)), HDR + sizeof(frame));
	expect_used(&f.q[1], h1, 0);
	expect_used(&f.q[1], h2, 0);
	assert_int_equal(mock_used_flags(&f.q[1]) & 1, 0);	/* idle: kicks wanted again */
	assert_int_equal(stats(&f).tx_frames, 2);
	fx_stop(&f);
}

static void test_tx_strips_header(void **state)
{
	struct fx f;
	uint8_t frame[200], got[256];
	const uint32_t cuts[] = { 5, 12, 40, 41 };	/* the header in two pieces, odd splits after */
	const uint32_t cuts2[] = { 20 };		/* a descriptor with header and data */
	uint16_t h;

	(void)state;
	fx_start(&f, 0, BASE_FEATURES);
	make_frame(frame, sizeof(frame), other_mac, 9);
	h = post_tx(&f, 1, frame, sizeof(frame), cuts, 4);
	notify(&f, 1);
	assert_int_equal(backend_recv(&f, 0, got, sizeof(got)), sizeof(frame));
	assert_memory_equal(got, frame, sizeof(frame));
	expect_used(&f.q[1], h, 0);
	h = post_tx(&f, 1, frame, sizeof(frame), cuts2, 1);
	notify(&f, 1);
	assert_int_equal(backend_recv(&f, 0, got, sizeof(got)), sizeof(frame));
	assert_memory_equal(got, frame, sizeof(frame));
	expect_used(&f.q[1], h, 0);
	fx_stop(&f);
}

static void test_tx_bad_chains(void **state)
{
	struct fx f;
	uint8_t frame[60], got[128];
	struct mock_buf b[2];
	uint16_t bad1, bad2, good;

	(void)state;
	fx_start(&f, 0, BASE_FEATURES);
	make_frame(frame, sizeof(frame), other_mac, 3);
	/* A device-writable buffer in a transmit chain. */
	b[0] = (struct mock_buf){ .gpa = alloc_buf(&f, 80), .len = 80, .writable = false };
	b[1] = (struct mock_buf){ .gpa = alloc_buf(&f, 16), .len = 16, .writable = true };
	bad1 = mock_add_chain(&f.q[1], b, 2);
	/* Shorter than a header. */
	b[0] = (struct mock_buf){ .gpa = alloc_buf(&f, 5), .len = 5, .writable = false };
	bad2 = mock_add_chain(&f.q[1], b, 1);
	good = post_tx(&f, 1, frame, sizeof(frame), NULL, 0);
	notify(&f, 1);
	expect_used(&f.q[1], bad1, 0);
	expect_used(&f.q[1], bad2, 0);
	expect_used(&f.q[1], good, 0);
	assert_int_equal(backend_recv(&f, 0, got, sizeof(got)), sizeof(frame));
	assert_int_equal(backend_recv(&f, 0, got, sizeof(got)), -1);
	assert_int_equal(stats(&f).tx_errors, 2);
	assert_int_equal(stats(&f).tx_frames, 1);
	assert_false(f.d->status & VIRTIO_STATUS_NEEDS_RESET);
	fx_stop(&f);
}

static void test_tx_backend_full(void **state)
{
	struct fx f;
	uint8_t frame[64], got[128];
	unsigned int i, received = 0;
	int round;

	(void)state;
	fx_start(&f, 0, BASE_FEATURES);
	/* A send buffer that holds a few frames only (the kernel rounds 1 up to its minimum). */
	assert_int_equal(setsockopt(f.fb.be.fds[0], SOL_SOCKET, SO_SNDBUF, &(int){ 1 }, sizeof(int)),
			 0);
	for (i = 0; i < QSIZE; i++) {
		make_frame(frame, sizeof(frame), other_mac, (uint8_t)i);
		post_tx(&f, 1, frame, sizeof(frame), NULL, 0);
	}
	notify(&f, 1);
	/* The device stopped at EAGAIN, the rest still in the ring. */
	assert_true(mock_used_idx(&f.q[1]) < QSIZE);
	assert_true(mock_used_idx(&f.q[1]) > 0);
	/* Reading the backend makes room: EPOLLOUT, and the device goes on. */
	for (round = 0; round < 100 && received < QSIZE; round++) {
		ssize_t n;

		while ((n = backend_recv(&f, 0, got, sizeof(got))) > 0) {
			make_frame(frame, sizeof(frame), other_mac, (uint8_t)received);
			assert_int_equal(n, sizeof(frame));
			assert_memory_equal(got, frame, sizeof(frame));	/* in order, none lost */
			received++;
		}
		pump(&f);
	}
	assert_int_equal(received, QSIZE);
	assert_int_equal(mock_used_idx(&f.q[1]), QSIZE);
	assert_int_equal(stats(&f).tx_frames, QSIZE);
	assert_int_equal(stats(&f).tx_errors, 0);
	fx_stop(&f);
}

/* ---- receive ---- */

static void test_rx_mergeable(void **state)
{
	struct fx f;
	uint8_t frame[150], want[HDR + 150];
	uint64_t gpa[4];
	uint16_t head[4];
	uint8_t *p;
	unsigned int i;

	(void)state;
	fx_start(&f, 0, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF));
	for (i = 0; i < 4; i++)
		gpa[i] = post_rx(&f, 0, 64, &head[i]);
	make_frame(frame, sizeof(frame), dev_mac, 5);
	backend_send(&f, 0, frame, sizeof(frame));
	pump(&f);
	/* 12 + 150 = 162 bytes: 64 + 64 + 34, num_buffers 3 in the first header. */
	expect_used(&f.q[0], head[0], 64);
	expect_used(&f.q[0], head[1], 64);
	expect_used(&f.q[0], head[2], 34);
	expect_no_used(&f.q[0]);
	assert_int_equal(num_buffers(&f, gpa[0]), 3);
	memset(want, 0, HDR);
	want[10] = 3;
	memcpy(want + HDR, frame, sizeof(frame));
	p = mock_host(&f.m, gpa[0]);
	assert_memory_equal(p, want, 64);
	assert_memory_equal(mock_host(&f.m, gpa[1]), want + 64, 64);
	assert_memory_equal(mock_host(&f.m, gpa[2]), want + 128, 34);
	/* The frame's three chains became visible together: one used->idx store. */
	assert_int_equal(f.d->vq[0].nr_used_updates, 1);
	assert_int_equal(irqs[0], 1);
	assert_int_equal(stats(&f).rx_frames, 1);
	assert_int_equal(stats(&f).rx_bytes, sizeof(frame));
	fx_stop(&f);
}

static void test_rx_hdr_passthrough(void **state)
{
	struct fx f;
	uint8_t buf[HDR + 80];
	uint64_t gpa;
	uint16_t head;
	uint8_t *p;

	(void)state;
	fx_start(&f, HDR, BASE_FEATURES);
	gpa = post_rx(&f, 0, 256, &head);
	memset(buf, 0, HDR);
	buf[0] = VIRTIO_NET_HDR_F_DATA_VALID;
	buf[10] = 0x77;			/* whatever the backend left in num_buffers */
	make_frame(buf + HDR, 80, dev_mac, 2);
	assert_int_equal(write(f.fb.peer[0], buf, sizeof(buf)), sizeof(buf));
	pump(&f);
	expect_used(&f.q[0], head, sizeof(buf));
	p = mock_host(&f.m, gpa);
	assert_int_equal(p[0], VIRTIO_NET_HDR_F_DATA_VALID);
	assert_int_equal(num_buffers(&f, gpa), 1);	/* §5.1.6.4: 1 without MRG_RXBUF */
	assert_memory_equal(p + HDR, buf + HDR, 80);
	fx_stop(&f);
}

static void test_rx_too_small_without_mrg(void **state)
{
	struct fx f;
	uint8_t frame[100];
	uint64_t gpa;
	uint16_t head;

	(void)state;
	fx_start(&f, 0, BASE_FEATURES);
	gpa = post_rx(&f, 0, 40, &head);
	make_frame(frame, sizeof(frame), dev_mac, 1);
	backend_send(&f, 0, frame, sizeof(frame));
	pump(&f);
	/* 112 bytes do not fit 40: dropped, the buffer stays posted. */
	expect_no_used(&f.q[0]);
	assert_int_equal(stats(&f).rx_dropped, 1);
	assert_int_equal(stats(&f).rx_frames, 0);
	/* A 20-byte frame fits (12 + 20 <= 40). */
	make_frame(frame, 20, dev_mac, 4);
	backend_send(&f, 0, frame, 20);
	pump(&f);
	expect_used(&f.q[0], head, HDR + 20);
	assert_memory_equal((uint8_t *)mock_host(&f.m, gpa) + HDR, frame, 20);
	assert_int_equal(num_buffers(&f, gpa), 1);
	fx_stop(&f);
}

static void test_rx_waits_for_buffers(void **state)
{
	struct fx f;
	uint8_t frame[60], frame2[70];
	uint64_t gpa;
	uint16_t head;
	struct mock_buf b;
	uint16_t bad;

	(void)state;
	fx_start(&f, 0, BASE_FEATURES | F(VIRTIO_F_EVENT_IDX));
	make_frame(frame, sizeof(frame), dev_mac, 11);
	make_frame(frame2, sizeof(frame2), dev_mac, 12);
	backend_send(&f, 0, frame, sizeof(frame));
	backend_send(&f, 0, frame2, sizeof(frame2));
	pump(&f);
	/* No buffers: the first frame waits in the device, the second in the backend. */
	expect_no_used(&f.q[0]);
	assert_int_equal(stats(&f).rx_dropped, 0);
	/* The device asked for a kick at the next buffer (avail_event, EVENT_IDX). */
	assert_int_equal(mock_avail_event(&f.q[0]), 0);
	gpa = post_rx(&f, 0, 128, &head);
	notify(&f, 0);
	expect_used(&f.q[0], head, HDR + sizeof(frame));
	assert_memory_equal((uint8_t *)mock_host(&f.m, gpa) + HDR, frame, sizeof(frame));
	/* Polling resumed: the second frame waits for the next buffer. */
	pump(&f);
	expect_no_used(&f.q[0]);
	assert_int_equal(mock_avail_event(&f.q[0]), 1);
	/* A receive chain with no writable part is completed empty, the next one used. */
	b = (struct mock_buf){ .gpa = alloc_buf(&f, 64), .len = 64, .writable = false };
	bad = mock_add_chain(&f.q[0], &b, 1);
	gpa = post_rx(&f, 0, 128, &head);
	notify(&f, 0);
	expect_used(&f.q[0], bad, 0);
	/* The bad chain consumed the frame (dropped); the third frame goes to the good one. */
	assert_int_equal(stats(&f).rx_dropped, 1);
	make_frame(frame, sizeof(frame), dev_mac, 13);
	backend_send(&f, 0, frame, sizeof(frame));
	pump(&f);
	expect_used(&f.q[0], head, HDR + sizeof(frame));
	assert_memory_equal((uint8_t *)mock_host(&f.m, gpa) + HDR, frame, sizeof(frame));
	assert_false(f.d->status & VIRTIO_STATUS_NEEDS_RESET);
	fx_stop(&f);
}

static void test_rx_mergeable_partial(void **state)
{
	struct fx f;
	uint8_t frame[200], want[HDR + 200];
	uint64_t gpa[3];
	uint16_t head[3];

	(void)state;
	fx_start(&f, 0, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_F_EVENT_IDX));
	gpa[0] = post_rx(&f, 0, 100, &head[0]);
	make_frame(frame, sizeof(frame), dev_mac, 21);
	backend_send(&f, 0, frame, sizeof(frame));
	pump(&f);
	/* 212 bytes, 100 posted: the chain is held, nothing used yet, a kick asked for. */
	expect_no_used(&f.q[0]);
	assert_int_equal(mock_avail_event(&f.q[0]), 1);
	gpa[1] = post_rx(&f, 0, 100, &head[1]);
	gpa[2] = post_rx(&f, 0, 100, &head[2]);
	notify(&f, 0);
	expect_used(&f.q[0], head[0], 100);
	expect_used(&f.q[0], head[1], 100);
	expect_used(&f.q[0], head[2], 12);
	memset(want, 0, HDR);
	want[10] = 3;
	memcpy(want + HDR, frame, sizeof(frame));
	assert_memory_equal(mock_host(&f.m, gpa[0]), want, 100);
	assert_memory_equal(mock_host(&f.m, gpa[1]), want + 100, 100);
	assert_memory_equal(mock_host(&f.m, gpa[2]), want + 200, 12);
	fx_stop(&f);
}

static void test_rx_batch(void **state)
{
	struct fx f;
	uint8_t frame[64];
	uint16_t head[3];
	unsigned int i;

	(void)state;
	fx_start(&f, 0, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF));
	for (i = 0; i < 3; i++) {
		post_rx(&f, 0, 1526, &head[i]);
		make_frame(frame, sizeof(frame), dev_mac, (uint8_t)i);
		backend_send(&f, 0, frame, sizeof(frame));
	}
	assert_true(ev_loop_poll(&f.loop, 100) > 0);	/* one wakeup */
	for (i = 0; i < 3; i++)
		expect_used(&f.q[0], head[i], HDR + sizeof(frame));
	assert_int_equal(irqs[0], 1);
	assert_int_equal(stats(&f).rx_frames, 3);
	fx_stop(&f);
}

/* ---- control queue, filter ---- */

static void test_rx_filter(void **state)
{
	struct fx f;
	uint8_t table[4 + 6 + 4 + 6];
	uint32_t one = htole32(1);

	(void)state;
	fx_start(&f, 0, BASE_FEATURES | CTRL_FEATURES);
	/* Promiscuous by default, as QEMU. */
	assert_true(rx_delivered(&f, other_mac));
	assert_int_equal(ctrl_u8(&f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 0),
			 VIRTIO_NET_OK);
	assert_false(rx_delivered(&f, other_mac));
	assert_true(rx_delivered(&f, dev_mac));
	assert_true(rx_delivered(&f, bcast_mac));
	assert_false(rx_delivered(&f, mcast_mac));
	assert_int_equal(ctrl_u8(&f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOBCAST, 1),
			 VIRTIO_NET_OK);
	assert_false(rx_delivered(&f, bcast_mac));
	/* The MAC tables: other_mac as unicast, mcast_mac as multicast. */
	memcpy(table, &one, 4);
	memcpy(table + 4, other_mac, 6);
	memcpy(table + 10, &one, 4);
	memcpy(table + 14, mcast_mac, 6);
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
			      sizeof(table)), VIRTIO_NET_OK);
	assert_true(rx_delivered(&f, other_mac));
	assert_true(rx_delivered(&f, mcast_mac));
	assert_false(rx_delivered(&f, mcast2_mac));
	assert_int_equal(ctrl_u8(&f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, 1),
			 VIRTIO_NET_OK);
	assert_true(rx_delivered(&f, mcast2_mac));
	assert_int_equal(ctrl_u8(&f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOMULTI, 1),
			 VIRTIO_NET_OK);
	assert_false(rx_delivered(&f, mcast_mac));
	assert_int_equal(ctrl_u8(&f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOUNI, 1),
			 VIRTIO_NET_OK);
	assert_false(rx_delivered(&f, dev_mac));
	assert_true(stats(&f).rx_dropped >= 6);
	/* A reset brings the defaults back. */
	fx_reset(&f);
	fx_activate(&f, BASE_FEATURES | CTRL_FEATURES);
	assert_true(rx_delivered(&f, other_mac));
	fx_stop(&f);
}

static void test_mac_table_overflow(void **state)
{
	enum { N = 65 };
	struct fx f;
	uint8_t table[4 + N * 6 + 4];
	uint32_t n = htole32(N), zero = 0;
	uint8_t stranger[6] = { 0x02, 0, 0, 0, 0, 0x99 };

	(void)state;
	fx_start(&f, 0, BASE_FEATURES | CTRL_FEATURES);
	assert_int_equal(ctrl_u8(&f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 0),
			 VIRTIO_NET_OK);
	assert_false(rx_delivered(&f, stranger));
	/* More unicast entries than kept: every unicast address is accepted. */
	memcpy(table, &n, 4);
	memset(table + 4, 0x02, N * 6);
	memcpy(table + 4 + N * 6, &zero, 4);
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table,
			      sizeof(table)), VIRTIO_NET_OK);
	assert_true(rx_delivered(&f, stranger));
	assert_false(rx_delivered(&f, mcast_mac));
	fx_stop(&f);
}

static void test_ctrl_commands(void **state)
{
	const uint64_t offloads = F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4);
	struct fx f;
	uint8_t two[2] = { 1, 1 }, table[8];
	uint64_t v;
	uint32_t count;
	uint16_t pairs = htole16(1);
	const struct virtio_net_config *cfg;
	struct mock_buf b[2];
	uint16_t head;
	uint64_t gpa;
	uint8_t *p;

	(void)state;
	fx_create(&f, HDR, 1, TUN_F_CSUM | TUN_F_TSO4);
	fx_activate(&f, BASE_FEATURES | CTRL_FEATURES | offloads |
			F(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
	cfg = f.d->config;
	/* Unknown class, unknown command, wrong data sizes. */
	assert_int_equal(ctrl_u8(&f, 42, 0, 1), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_u8(&f, VIRTIO_NET_CTRL_RX, 17, 1), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, two, 2),
			 VIRTIO_NET_ERR);
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, NULL, 0),
			 VIRTIO_NET_ERR);
	assert_int_equal(ctrl_u8(&f, VIRTIO_NET_CTRL_VLAN, 0, 1), VIRTIO_NET_ERR);
	/* MQ was not negotiated. */
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
			 VIRTIO_NET_ERR);
	/* MAC_ADDR_SET changes the configuration's mac. */
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, other_mac, 6),
			 VIRTIO_NET_OK);
	assert_memory_equal(cfg->mac, other_mac, 6);
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, other_mac, 5),
			 VIRTIO_NET_ERR);
	/* MAC_TABLE_SET: truncated, an entry count past the data, trailing bytes. */
	count = htole32(1);
	memcpy(table, &count, 4);
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table, 4),
			 VIRTIO_NET_ERR);
	count = htole32(0xffffffffu);
	memcpy(table, &count, 4);
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table, 8),
			 VIRTIO_NET_ERR);
	memset(table, 0, sizeof(table));
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table, 8),
			 VIRTIO_NET_OK);
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, table, 7),
			 VIRTIO_NET_ERR);
	/* GUEST_OFFLOADS_SET: a subset of the negotiated GUEST_* bits, passed to the backend. */
	v = htole64(F(VIRTIO_NET_F_GUEST_CSUM));
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_GUEST_OFFLOADS,
			      VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, &v, 8), VIRTIO_NET_OK);
	assert_int_equal(f.fb.offload, TUN_F_CSUM);
	v = htole64(F(VIRTIO_NET_F_GUEST_TSO6));
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_GUEST_OFFLOADS,
			      VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, &v, 8), VIRTIO_NET_ERR);
	v = htole64(F(VIRTIO_NET_F_MRG_RXBUF));
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_GUEST_OFFLOADS,
			      VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, &v, 8), VIRTIO_NET_ERR);
	assert_int_equal(f.fb.offload, TUN_F_CSUM);

	/* Malformed: no writable byte for the ack -> used length 0. */
	gpa = alloc_buf(&f, 3);
	p = mock_host(&f.m, gpa);
	p[0] = VIRTIO_NET_CTRL_RX;
	b[0] = (struct mock_buf){ .gpa = gpa, .len = 3, .writable = false };
	head = mock_add_chain(&f.q[2], b, 1);
	notify(&f, 2);
	expect_used(&f.q[2], head, 0);
	/* Only one readable byte: ERR in the ack. */
	gpa = alloc_buf(&f, 2);
	p = mock_host(&f.m, gpa);
	b[0] = (struct mock_buf){ .gpa = gpa, .len = 1, .writable = false };
	b[1] = (struct mock_buf){ .gpa = gpa + 1, .len = 1, .writable = true };
	head = mock_add_chain(&f.q[2], b, 2);
	notify(&f, 2);
	expect_used(&f.q[2], head, 1);
	assert_int_equal(p[1], VIRTIO_NET_ERR);
	/* Writable only: ack in its last byte. */
	gpa = alloc_buf(&f, 4);
	p = mock_host(&f.m, gpa);
	b[0] = (struct mock_buf){ .gpa = gpa, .len = 4, .writable = true };
	head = mock_add_chain(&f.q[2], b, 1);
	notify(&f, 2);
	expect_used(&f.q[2], head, 1);
	assert_int_equal(p[3], VIRTIO_NET_ERR);
	/* Still working. */
	assert_int_equal(ctrl_u8(&f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, 1),
			 VIRTIO_NET_OK);
	assert_false(f.d->status & VIRTIO_STATUS_NEEDS_RESET);
	/* A reset restores the MAC address the device was created with. */
	fx_reset(&f);
	assert_memory_equal(cfg->mac, dev_mac, 6);
	fx_stop(&f);
}

static void test_mq_pairs(void **state)
{
	const uint64_t features = BASE_FEATURES | CTRL_FEATURES | F(VIRTIO_NET_F_MQ) |
				  F(VIRTIO_NET_F_MRG_RXBUF);
	struct fx f;
	uint8_t frame[64], got[128];
	uint16_t v, head;

	(void)state;
	fx_create(&f, 0, 2, 0);
	fx_activate(&f, features);
	/* One pair at first: the backend was told, pair 1's fd is not read. */
	assert_int_equal(f.fb.pairs_set, 1);
	post_rx(&f, 2, 256, &head);
	make_frame(frame, sizeof(frame), dev_mac, 1);
	backend_send(&f, 1, frame, sizeof(frame));
	pump(&f);
	expect_no_used(&f.q[2]);
	/* Out of range. */
	v = htole16(0);
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &v, 2),
			 VIRTIO_NET_ERR);
	v = htole16(3);
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &v, 2),
			 VIRTIO_NET_ERR);
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &v, 1),
			 VIRTIO_NET_ERR);
	assert_int_equal(f.fb.pairs_set, 1);
	/* Two pairs: pair 1 receives and transmits. */
	v = htole16(2);
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &v, 2),
			 VIRTIO_NET_OK);
	assert_int_equal(f.fb.pairs_set, 2);
	pump(&f);
	expect_used(&f.q[2], head, HDR + sizeof(frame));
	head = post_tx(&f, 3, frame, sizeof(frame), NULL, 0);
	notify(&f, 3);
	expect_used(&f.q[3], head, 0);
	assert_int_equal(backend_recv(&f, 1, got, sizeof(got)), sizeof(frame));
	assert_int_equal(backend_recv(&f, 0, got, sizeof(got)), -1);
	/* Back to one: pair 1 is left alone again. */
	v = htole16(1);
	assert_int_equal(ctrl(&f, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &v, 2),
			 VIRTIO_NET_OK);
	post_rx(&f, 2, 256, &head);
	backend_send(&f, 1, frame, sizeof(frame));
	pump(&f);
	expect_no_used(&f.q[2]);
	fx_stop(&f);

	/* Two pairs offered, MQ not negotiated: the control queue is queue 2 (§5.1.2). */
	fx_create(&f, 0, 2, 0);
	fx_activate(&f, BASE_FEATURES | CTRL_FEATURES);
	assert_int_equal(ctrlq(&f), 2);
	assert_int_equal(ctrl_u8(&f, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 0),
			 VIRTIO_NET_OK);
	fx_stop(&f);
}

/* ---- link, reset, ring errors ---- */

static void test_link_status(void **state)
{
	struct fx f;
	const struct virtio_net_config *cfg;
	uint8_t gen;
	int i;

	(void)state;
	fx_start(&f, 0, BASE_FEATURES);
	cfg = f.d->config;
	assert_int_equal(le16toh(cfg->status), VIRTIO_NET_S_LINK_UP);
	gen = f.d->config_generation;
	f.fb.link = false;
	for (i = 0; i < 30 && le16toh(cfg->status) != 0; i++)
		ev_loop_poll(&f.loop, 100);	/* the link poll runs every second */
	assert_int_equal(le16toh(cfg->status), 0);
	assert_int_equal(irqs[MAX_QUEUES], 1);
	assert_int_not_equal(f.d->config_generation, gen);
	f.fb.link = true;
	for (i = 0; i < 30 && le16toh(cfg->status) == 0; i++)
		ev_loop_poll(&f.loop, 100);
	assert_int_equal(le16toh(cfg->status), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(irqs[MAX_QUEUES], 2);
	fx_stop(&f);
}

static void test_reset_then_fresh_queues(void **state)
{
	struct fx f;
	uint8_t frame[64], got[128];
	uint16_t head, used_before;
	uint64_t gpa;

	(void)state;
	fx_start(&f, 0, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF));
	/* A frame pending (no buffers), one chain held by a partial merge on the next. */
	make_frame(frame, sizeof(frame), dev_mac, 1);
	backend_send(&f, 0, frame, sizeof(frame));
	pump(&f);
	used_before = mock_used_idx(&f.q[0]);
	fx_reset(&f);
	/* After the reset nothing touches the old rings, nothing reads the backend. */
	post_rx(&f, 0, 256, NULL);
	backend_send(&f, 0, frame, sizeof(frame));
	pump(&f);
	notify(&f, 0);
	assert_int_equal(mock_used_idx(&f.q[0]), used_before);
	assert_int_equal(stats(&f).rx_frames, 0);
	/* A new driver: new rings; the frame left in the backend arrives. */
	fx_activate(&f, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF));
	gpa = post_rx(&f, 0, 256, &head);
	notify(&f, 0);
	pump(&f);
	expect_used(&f.q[0], head, HDR + sizeof(frame));
	assert_memory_equal((uint8_t *)mock_host(&f.m, gpa) + HDR, frame, sizeof(frame));
	head = post_tx(&f, 1, frame, sizeof(frame), NULL, 0);
	notify(&f, 1);
	expect_used(&f.q[1], head, 0);
	assert_int_equal(backend_recv(&f, 0, got, sizeof(got)), sizeof(frame));
	fx_stop(&f);
}

static void test_ring_error_needs_reset(void **state)
{
	struct fx f;
	uint8_t got[64];

	(void)state;
	fx_start(&f, 0, BASE_FEATURES);
	mock_publish(&f.q[1], QSIZE + 3);		/* a head beyond the queue */
	notify(&f, 1);
	assert_true(f.d->status & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(irqs[MAX_QUEUES], 1);
	assert_int_equal(backend_recv(&f, 0, got, sizeof(got)), -1);
	notify(&f, 1);
	assert_int_equal(irqs[MAX_QUEUES], 1);
	fx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_and_config),
		cmocka_unit_test(test_features_ok_refusals),
		cmocka_unit_test(test_activate_sets_offloads),
		cmocka_unit_test(test_tx_with_header),
		cmocka_unit_test(test_tx_strips_header),
		cmocka_unit_test(test_tx_bad_chains),
		cmocka_unit_test(test_tx_backend_full),
		cmocka_unit_test(test_tx_looks_again_before_kicks),
		cmocka_unit_test(test_rx_mergeable),
		cmocka_unit_test(test_rx_hdr_passthrough),
		cmocka_unit_test(test_rx_too_small_without_mrg),
		cmocka_unit_test(test_rx_waits_for_buffers),
		cmocka_unit_test(test_rx_mergeable_partial),
		cmocka_unit_test(test_rx_batch),
		cmocka_unit_test(test_rx_filter),
		cmocka_unit_test(test_mac_table_overflow),
		cmocka_unit_test(test_ctrl_commands),
		cmocka_unit_test(test_mq_pairs),
		cmocka_unit_test(test_link_status),
		cmocka_unit_test(test_reset_then_fresh_queues),
		cmocka_unit_test(test_ring_error_needs_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
