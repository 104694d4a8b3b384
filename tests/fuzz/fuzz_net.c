/*
 * fuzz_net.c: virtio-net (virtio 1.2 §5.1) under a fuzzed driver: the transmit
 * path (vnet headers, offloads, chains), the control queue (RX modes, MAC
 * tables, MQ, offloads), and frames arriving from the backend into the
 * driver's receive buffers.  The backend is two AF_UNIX datagram socketpairs,
 * as in tests/unit/test_virtio_net.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio_net.h"
#include "tests/fuzz/fuzz_virtio.h"

#define PAIRS	2

struct fake_be {
	struct net_backend be;
	int peer[PAIRS];
};

static struct fz_dev fz;
static struct fake_be fb;

static bool fake_link_up(struct net_backend *b)
{
	(void)b;
	return true;
}

static const struct net_backend_ops fake_ops = { .link_up = fake_link_up };

/* Drops what waits in a socket (frames the device sent, or frames it did not take). */
static void drain(int fd)
{
	uint8_t buf[2048];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

static void after_poll(struct fz_dev *f)
{
	unsigned int i;

	(void)f;
	for (i = 0; i < PAIRS; i++)
		drain(fb.peer[i]);
}

/* FZ_OP_HOOK: a frame from the network on pair (what & 1); the device reads it when polled. */
static void net_hook(struct fz_dev *f, struct fz_in *in)
{
	uint8_t frame[1600];
	uint8_t what = fz_u8(in);
	size_t len = fz_u16(in) % sizeof(frame);

	(void)f;
	fz_bytes(in, frame, len);
	if (send(fb.peer[what & 1], frame, len, MSG_DONTWAIT) < 0)
		return;		/* the socket is full: the network drops it */
}

static void setup(void)
{
	unsigned int i;

	fz_init(&fz, "fuzz-net");
	fb.be.ops = &fake_ops;
	strcpy(fb.be.name, "fuzz0");
	fb.be.nr_queue_pairs = PAIRS;
	fb.be.vnet_hdr_len = NET_VNET_HDR_LEN;
	fb.be.tun_offloads = ~0u;	/* every offload: the device keeps those it knows */
	for (i = 0; i < PAIRS; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
			abort();
		fb.be.fds[i] = sv[0];
		fb.peer[i] = sv[1];
	}
	if (vnet_create(&fz.m.gm, &fz.loop, &fb.be, (const uint8_t[6]){ 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
			PAIRS, &fz.d) != 0)
		abort();
	fz.hook = net_hook;
	fz.after_poll = after_poll;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	unsigned int i;

	if (!fz.d)
		setup();
	for (i = 0; i < PAIRS; i++) {
		drain(fb.be.fds[i]);
		drain(fb.peer[i]);
	}
	fz_one(&fz, &in);
	return 0;
}
