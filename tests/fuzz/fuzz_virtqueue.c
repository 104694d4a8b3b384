/*
 * fuzz_virtqueue.c: the split virtqueue (devices/virtio/virtqueue.c) on
 * random guest memory.  The input is a 16-byte header (queue size, features,
 * where the three rings are), 32 bytes that decide what the "device" does
 * with each chain it pops (push it with a good or a bad length, keep it,
 * give it back), and the image of guest RAM: descriptors, indirect tables,
 * avail ring, everything as the guest left it.  Buffers are read and written
 * through the chain's iovecs, so one that strays out of RAM is an ASan report.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/virtqueue.h"
#include "tests/fuzz/fuzz_virtio.h"

#define RAM_BASE	0x10000ull
#define RAM_SIZE	(64u * 1024)
#define CTL_BYTES	32

static uint8_t *ram;
static struct guest_mem gm;
static struct vq_chain chain;
static uint8_t scratch[1 << 16];

/* What vq_pop() promises (devices/virtio/virtqueue.h): aborts if a chain breaks it. */
static void check_chain(uint16_t qsize)
{
	uint64_t out = 0, in = 0;
	unsigned int i;

	if (chain.head >= qsize || chain.nr_out + chain.nr_in > qsize)
		abort();	/* a bad head, or a chain longer than the queue */
	for (i = 0; i < (unsigned int)chain.nr_out + chain.nr_in; i++) {
		const uint8_t *b = chain.iov[i].iov_base;

		if (!chain.iov[i].iov_len || b < ram || b + chain.iov[i].iov_len > ram + RAM_SIZE)
			abort();	/* a buffer outside guest RAM, or empty */
		*(i < chain.nr_out ? &out : &in) += chain.iov[i].iov_len;
	}
	if (out != chain.out_len || in != chain.in_len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size }, h;
	struct virtqueue vq = { .dev_name = "fuzz", .index = 0 };
	uint8_t hdr[16], ctl[CTL_BYTES];
	uint8_t qsel, feat;
	uint16_t qsize;
	uint64_t desc, avail, used, features = VIRTIO_BIT(VIRTIO_F_VERSION_1);
	unsigned int i, rounds;

	if (!ram) {
		/* malloc'd, exactly RAM_SIZE: a stray access lands in ASan's redzone. */
		ram = malloc(RAM_SIZE);
		if (!ram || gm_add_region(&gm, RAM_BASE, RAM_SIZE, ram) != 0)
			abort();
	}
	fz_bytes(&in, hdr, sizeof(hdr));
	h = (struct fz_in){ hdr, sizeof(hdr) };
	qsel = fz_u8(&h);
	feat = fz_u8(&h);
	qsize = fz_u16(&h);
	if (!(feat & 0x80))
		qsize = (uint16_t)(1u << (qsel % 9));	/* else any size: refused unless 2^n <= 256 */
	desc = RAM_BASE + fz_u16(&h);
	avail = RAM_BASE + fz_u16(&h);
	used = RAM_BASE + fz_u16(&h);
	if (feat & 1)
		features |= VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	if (feat & 2)
		features |= VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	if (feat & 4) {
		/* Rings laid out as a driver would: desc, then avail, then used (4-aligned). */
		avail = desc + 16ull * qsize;
		used = (avail + 6 + 2ull * qsize + 3) & ~3ull;
	}
	fz_bytes(&in, ctl, sizeof(ctl));
	fz_bytes(&in, ram, RAM_SIZE);

	if (vq_enable(&vq, &gm, qsize, desc, avail, used, features) != 0)
		return 0;
	rounds = 2u * qsize + 8;
	for (i = 0; i < rounds; i++) {
		uint8_t c = ctl[i % CTL_BYTES];
		int ret;

		if (c & 0x40)
			vq_notify_off(&vq);
		ret = vq_pop(&vq, &chain);
		if (ret <= 0) {
			if (ret == 0 && (c & 0x80) && vq_notify_on(&vq))
				continue;
			break;
		}
		check_chain(qsize);
		vq_chain_read(&chain, c & 8 ? 1 : 0, scratch,
			      chain.out_len < sizeof(scratch) ? chain.out_len : sizeof(scratch));
		vq_chain_write(&chain, c & 16 ? 3 : 0, scratch,
			       chain.in_len < sizeof(scratch) ? chain.in_len : sizeof(scratch));
		switch (c & 7) {
		case 0: case 1: case 2:
			vq_push(&vq, chain.head, chain.in_len);
			break;
		case 3:
			vq_push(&vq, chain.head, chain.in_len / 2);
			break;
		case 4:
			vq_push(&vq, chain.head, chain.in_len + 1);	/* a device bug: refused */
			break;
		case 5:
			vq_unpop(&vq);
			break;
		case 6:
			break;		/* kept in flight */
		default:
			vq_push(&vq, (uint16_t)(chain.head + qsize), 0);	/* a bad head: refused */
			break;
		}
		if (c & 32)
			vq_should_interrupt(&vq);
		vq_has_avail(&vq);
	}
	vq_reset(&vq);
	return 0;
}
