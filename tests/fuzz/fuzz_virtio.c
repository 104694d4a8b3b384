/* fuzz_virtio.c: the fuzz targets' input reader and fuzzed virtio driver (see fuzz_virtio.h). */
#include "tests/fuzz/fuzz_virtio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

uint8_t fz_u8(struct fz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

uint16_t fz_u16(struct fz_in *in)
{
	uint16_t lo = fz_u8(in);

	return (uint16_t)(lo | fz_u8(in) << 8);
}

uint32_t fz_u32(struct fz_in *in)
{
	uint32_t lo = fz_u16(in);

	return lo | (uint32_t)fz_u16(in) << 16;
}

uint64_t fz_u64(struct fz_in *in)
{
	uint64_t lo = fz_u32(in);

	return lo | (uint64_t)fz_u32(in) << 32;
}

size_t fz_bytes(struct fz_in *in, void *dst, size_t len)
{
	size_t n = len < in->n ? len : in->n;

	memcpy(dst, in->p, n);
	memset((uint8_t *)dst + n, 0, len - n);
	in->p += n;
	in->n -= n;
	return n;
}

static void fz_raise(struct virtio_dev *d, int q)
{
	struct fz_dev *f = d->transport;

	(void)q;
	f->irqs++;
}

void fz_init(struct fz_dev *f, const char *loop_name)
{
	memset(f, 0, sizeof(*f));
	mock_vm_init(&f->m, FZ_RAM_BASE, FZ_RAM_SIZE);
	if (!f->m.ram || ev_loop_init(&f->loop, loop_name) != 0) {
		fprintf(stderr, "fuzz: no guest RAM or event loop\n");
		abort();
	}
}

/* Bytes of guest RAM left to the bump allocator. */
static uint64_t ram_left(const struct fz_dev *f)
{
	return f->m.base + f->m.size - f->m.next;
}

bool fz_start(struct fz_dev *f, uint64_t features, uint64_t fallback, uint16_t qsize)
{
	struct virtio_dev *d = f->d;
	uint16_t i;
	int ret;

	memset(f->m.ram, 0, f->m.size);
	f->m.next = f->m.base;
	f->qsize = qsize;
	d->raise = fz_raise;
	d->transport = f;
	pthread_mutex_lock(&d->lock);
	features &= d->host_features;
	if (d->ops->features_ok && d->ops->features_ok(d, features) != 0)
		features = fallback & d->host_features;
	d->features = f->features = features;
	for (i = 0; i < d->nr_queues && i < FZ_MAX_QUEUES; i++) {
		mock_queue_init(&f->q[i], &f->m, qsize);
		if (mock_queue_enable(&f->q[i], &d->vq[i], features) != 0) {
			fprintf(stderr, "fuzz: queue %u refused\n", i);
			abort();
		}
	}
	d->status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		    VIRTIO_STATUS_DRIVER_OK;
	ret = d->ops->activate ? d->ops->activate(d) : 0;
	pthread_mutex_unlock(&d->lock);
	f->active = ret == 0;
	return f->active;
}

void fz_stop(struct fz_dev *f)
{
	unsigned int irqs;

	pthread_mutex_lock(&f->d->lock);
	virtio_dev_reset(f->d);
	pthread_mutex_unlock(&f->d->lock);
	f->active = false;
	/*
	 * virtio.h: after reset() "nothing may touch guest memory or raise an
	 * interrupt": no I/O left in flight, and while the loop runs once more
	 * guest RAM is read-only (a write is a SEGV report naming the writer)
	 * and no interrupt may come.
	 */
	if (f->busy && f->busy(f)) {
		fprintf(stderr, "fuzz: %s: I/O still in flight after reset\n", f->d->ops->name);
		abort();
	}
	irqs = f->irqs;
	if (mprotect(f->m.ram, f->m.size, PROT_READ) != 0)
		abort();
	fz_poll(f);
	if (mprotect(f->m.ram, f->m.size, PROT_READ | PROT_WRITE) != 0)
		abort();
	if (f->irqs != irqs) {
		fprintf(stderr, "fuzz: %s: an interrupt after reset\n", f->d->ops->name);
		abort();
	}
}

void fz_kick(struct fz_dev *f, unsigned int qi)
{
	struct virtio_dev *d = f->d;

	if (qi >= d->nr_queues)
		return;
	pthread_mutex_lock(&d->lock);
	d->nr_kicks++;
	if (d->ops->notify)
		d->ops->notify(d, qi);
	pthread_mutex_unlock(&d->lock);
}

void fz_poll(struct fz_dev *f)
{
	int i;

	/* Handlers that ran may have made more work ready (a kick re-armed, a completion). */
	for (i = 0; i < 64; i++) {
		bool busy = f->busy && f->busy(f);

		if (ev_loop_poll(&f->loop, busy ? 5 : 0) <= 0 && !busy)
			break;
	}
	if (f->after_poll)
		f->after_poll(f);
}

/* A descriptor's length: bits 1-2 of its flags pick how it is coded in the input. */
static uint32_t desc_len(struct fz_in *in, uint8_t fl)
{
	switch ((fl >> 1) & 3) {
	case 0:
		return fz_u8(in);
	case 1:
		return fz_u16(in) & 0x1fff;
	case 2:
		return 1u << (fz_u8(in) % 13);		/* 1 .. 4096 */
	default:
		return fz_u32(in);
	}
}

bool fz_add_chain(struct fz_dev *f, unsigned int qi, struct fz_in *in)
{
	struct mock_queue *q = &f->q[qi];
	struct mock_buf bufs[16];
	uint8_t hdr = fz_u8(in);
	unsigned int n = 1 + (hdr & 15), i;
	bool indirect = (hdr & 0x80) != 0;

	if (!in->n || !f->active || qi >= f->d->nr_queues)
		return false;
	for (i = 0; i < n; i++) {
		uint8_t fl = fz_u8(in);
		uint32_t len = desc_len(in, fl);

		bufs[i].writable = fl & 1;
		bufs[i].len = len;
		if (fl & 0x10) {
			/* GUEST: anywhere, 4 KiB either side of RAM included. */
			bufs[i].gpa = f->m.base - 4096 + fz_u32(in) % (f->m.size + 8192);
			continue;
		}
		if ((uint64_t)len + 16 > ram_left(f))
			return false;
		bufs[i].gpa = mock_alloc(&f->m, len ? len : 1, 8);
		if (!bufs[i].writable)
			fz_bytes(in, mock_host(&f->m, bufs[i].gpa), len);
		else
			memset(mock_host(&f->m, bufs[i].gpa), 0xa5, len);
	}
	if (indirect) {
		if (16ull * n + 16 > ram_left(f))
			return false;
		mock_add_indirect(q, bufs, n);
	} else {
		mock_add_chain(q, bufs, n);
	}
	return true;
}

static void config_access(struct fz_dev *f, struct fz_in *in, bool is_write)
{
	struct virtio_dev *d = f->d;
	uint8_t buf[8];
	unsigned int size = 1u << (fz_u8(in) & 3);
	uint32_t off = fz_u8(in);

	fz_bytes(in, buf, is_write ? size : 0);
	/* The transport's check (devices/virtio/virtio_pci.c): the access inside the config. */
	if (!d->config_size || off + size > d->config_size)
		return;
	pthread_mutex_lock(&d->lock);
	if (is_write) {
		if (d->ops->config_write)
			d->ops->config_write(d, off, buf, size);
	} else if (d->ops->config_read) {
		d->ops->config_read(d, off, buf, size);
	} else {
		memcpy(buf, (uint8_t *)d->config + off, size);
	}
	pthread_mutex_unlock(&d->lock);
}

void fz_run(struct fz_dev *f, struct fz_in *in, uint64_t fallback_features)
{
	unsigned int nq = f->d->nr_queues < FZ_MAX_QUEUES ? f->d->nr_queues : FZ_MAX_QUEUES;
	unsigned int ops = 0, resets = 0, i;

	while (in->n && ops++ < 512) {
		uint8_t op = fz_u8(in);
		unsigned int qi = (op >> 4) % nq;

		switch (op & 15) {
		case 0: case 1: case 2: case 3:
			if (!fz_add_chain(f, qi, in))
				goto out;
			break;
		case 4: case 5:
			fz_kick(f, qi);
			break;
		case 6:
			fz_poll(f);
			break;
		case 7:
			config_access(f, in, false);
			break;
		case 8:
			config_access(f, in, true);
			break;
		case FZ_OP_HOOK:
			if (f->hook)
				f->hook(f, in);
			break;
		case 10:
			/* The driver resets the device and probes it again (a few times: it is slow). */
			if (resets++ >= 4)
				break;
			fz_stop(f);
			fz_start(f, f->features, fallback_features, f->qsize);
			break;
		case 12: {
			/* The driver scribbles on guest RAM: rings, buffers in flight, anything. */
			uint32_t at = fz_u32(in) % f->m.size;
			size_t len = fz_u8(in) % 64;

			if (len > f->m.size - at)
				len = f->m.size - at;
			fz_bytes(in, f->m.ram + at, len);
			break;
		}
		case 13:
			/* The driver publishes a head again, maybe one still in flight. */
			if (f->active && f->qsize)
				mock_publish(&f->q[qi], (uint16_t)(fz_u8(in) % f->qsize));
			break;
		default:
			/* A chain and its kick in one (the common case). */
			if (!fz_add_chain(f, qi, in))
				goto out;
			fz_kick(f, qi);
			fz_poll(f);
			break;
		}
	}
out:
	for (i = 0; i < nq; i++)
		fz_kick(f, i);
	fz_poll(f);
	fz_stop(f);
}

void fz_one(struct fz_dev *f, struct fz_in *in)
{
	uint64_t features = fz_u64(in);

	if (fz_start(f, features, f->d->host_features, (uint16_t)(1u << (fz_u8(in) % 9))))
		fz_run(f, in, f->d->host_features);
	else
		fz_stop(f);
}
