/* virtio_console.c: virtio-console (virtio 1.2 §5.3): one port, guest output to a host fd, host input to the guest. */
#include "devices/virtio_console.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "hv/base/log.h"
#include "hv/base/output.h"
#include "hv/base/trace.h"

/* §5.3.4: the device configuration layout (little-endian). */
struct vcon_config {
	uint16_t cols;
	uint16_t rows;
	uint32_t max_nr_ports;
	uint32_t emerg_wr;
} __attribute__((packed));

#define VCON_CFG_EMERG_WR	offsetof(struct vcon_config, emerg_wr)
#define VCON_QUEUE_MAX		256

struct vcon {
	struct virtio_dev vdev;		/* first: a struct virtio_dev * is a struct vcon * */
	struct vcon_config cfg;
	struct outbuf *out;		/* NULL: output discarded */
	bool active;			/* between activate() and reset() */

	/* Host input not yet delivered: a ring of in_len bytes from in_head. */
	uint8_t in_buf[VCON_INPUT_BUF_SIZE];
	size_t in_head, in_len;

	struct vq_chain chain;		/* scratch for vq_pop(), under vdev.lock */

	/* Counters. */
	uint64_t nr_tx_bytes, nr_rx_bytes, nr_bad_chains;
};

static struct vcon *to_vcon(struct virtio_dev *d)
{
	return (struct vcon *)d;
}

/* ---- transmit: guest -> the output buffer ---- */

/*
 * Copies [p, p + len) into the output buffer (hv/base/output.h): it never waits
 * for a reader, so d->lock is never held across a write() to a terminal or a
 * pipe.  What the buffer has no room for is dropped and counted there.
 */
static void vcon_write_out(struct vcon *c, const uint8_t *p, size_t len)
{
	if (c->out)
		outbuf_write(c->out, p, len);
	c->nr_tx_bytes += len;
}

/*
 * Pops up to VIRTIO_BUDGET transmit chains, copies their readable parts out,
 * completes each with len 0; more waits for the loop's next turn.
 */
static void vcon_tx(struct vcon *c)
{
	struct virtio_dev *d = &c->vdev;
	struct virtqueue *vq = &d->vq[VCON_TXQ];
	unsigned int budget = VIRTIO_BUDGET;
	bool pushed = false;
	int ret = 0;

	if (!vq->ready)
		return;
	do {
		vq_notify_off(vq);
		while (budget && (ret = vq_pop(vq, &c->chain)) > 0) {
			budget--;
			uint16_t i;

			/* GUEST: a chain with no readable part carries nothing; complete it. */
			if (c->chain.nr_out == 0)
				c->nr_bad_chains++;
			for (i = 0; i < c->chain.nr_out; i++)
				vcon_write_out(c, c->chain.iov[i].iov_base, c->chain.iov[i].iov_len);
			HV_TRACE(HV_TRACE_VIRTIO, "%s: %u B of guest output", c->vdev.vq[0].dev_name,
				 c->chain.out_len);
			/* §5.3.6.2: transmit buffers are only read; nothing was written into them. */
			vq_push(vq, c->chain.head, 0);
			pushed = true;
		}
		if (ret < 0) {
			virtio_needs_reset(d);
			break;
		}
		if (!budget) {
			virtio_defer(d, VCON_TXQ);	/* kicks stay off: we come back anyway */
			break;
		}
	} while (vq_notify_on(vq));
	if (pushed)
		virtio_used(d, VCON_TXQ);
}

/* ---- receive: host input -> driver-posted buffers ---- */

/* Copies up to the chain's writable length of pending input into it; returns the bytes copied. */
static uint32_t vcon_fill(struct vcon *c)
{
	size_t want = c->in_len < c->chain.in_len ? c->in_len : c->chain.in_len;
	size_t first = sizeof(c->in_buf) - c->in_head;
	size_t done;

	if (first > want)
		first = want;
	done = vq_chain_write(&c->chain, 0, c->in_buf + c->in_head, first);
	if (done == first && want > first)
		done += vq_chain_write(&c->chain, first, c->in_buf, want - first);
	c->in_head = (c->in_head + done) % sizeof(c->in_buf);
	c->in_len -= done;
	c->nr_rx_bytes += done;
	return (uint32_t)done;
}

/*
 * Delivers pending input into as many receive buffers as it needs.  No
 * buffer is taken while there is no input: the driver's buffers wait in the
 * ring until there is something to put in them.
 */
static void vcon_rx(struct vcon *c)
{
	struct virtio_dev *d = &c->vdev;
	struct virtqueue *vq = &d->vq[VCON_RXQ];
	unsigned int budget = VIRTIO_BUDGET;
	bool pushed = false;
	int ret = 0;

	if (!c->active || !vq->ready || (d->status & VIRTIO_STATUS_NEEDS_RESET))
		return;
	while (c->in_len && (ret = vq_pop(vq, &c->chain)) > 0) {
		/* GUEST: bad chains cost no input, so the budget bounds the loop. */
		if (!budget--) {
			vq_unpop(vq);
			virtio_defer(d, VCON_RXQ);
			break;
		}
		/* GUEST: a receive chain without a writable part is malformed: complete it empty. */
		if (c->chain.in_len == 0) {
			c->nr_bad_chains++;
			vq_push(vq, c->chain.head, 0);
		} else {
			vq_push(vq, c->chain.head, vcon_fill(c));
		}
		pushed = true;
	}
	if (ret < 0)
		virtio_needs_reset(d);
	if (pushed)
		virtio_used(d, VCON_RXQ);
}

size_t vcon_input(struct virtio_dev *d, const uint8_t *buf, size_t len)
{
	struct vcon *c = to_vcon(d);
	size_t n, tail, first;

	pthread_mutex_lock(&d->lock);
	n = sizeof(c->in_buf) - c->in_len;
	if (n > len)
		n = len;
	tail = (c->in_head + c->in_len) % sizeof(c->in_buf);
	first = sizeof(c->in_buf) - tail;
	if (first > n)
		first = n;
	if (n) {
		memcpy(c->in_buf + tail, buf, first);
		memcpy(c->in_buf, buf + first, n - first);
		c->in_len += n;
	}
	vcon_rx(c);
	pthread_mutex_unlock(&d->lock);
	return n;
}

void vcon_resize(struct virtio_dev *d, uint16_t cols, uint16_t rows)
{
	struct vcon *c = to_vcon(d);

	pthread_mutex_lock(&d->lock);
	if (le16toh(c->cfg.cols) != cols || le16toh(c->cfg.rows) != rows) {
		c->cfg.cols = htole16(cols);
		c->cfg.rows = htole16(rows);
		virtio_config_changed(d);
	}
	pthread_mutex_unlock(&d->lock);
}

/* ---- the ops ---- */

static void vcon_config_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t size)
{
	struct vcon *c = to_vcon(d);
	uint8_t ch;

	/* §5.3.4: a write to emerg_wr outputs its low byte, even before DRIVER_OK. */
	if (!(d->host_features & VIRTIO_BIT(VIRTIO_CONSOLE_F_EMERG_WRITE)))
		return;
	if (off != VCON_CFG_EMERG_WR || size == 0)
		return;
	memcpy(&ch, data, 1);		/* little-endian: the first byte is the low one */
	vcon_write_out(c, &ch, 1);
}

static int vcon_activate(struct virtio_dev *d)
{
	struct vcon *c = to_vcon(d);

	c->active = true;
	/* Input typed before the driver was ready, into buffers it may have posted already. */
	vcon_rx(c);
	return 0;
}

static void vcon_notify(struct virtio_dev *d, unsigned int q)
{
	struct vcon *c = to_vcon(d);

	if (!c->active)
		return;
	if (q == VCON_RXQ)
		vcon_rx(c);
	else if (q == VCON_TXQ)
		vcon_tx(c);
}

/*
 * Transmit work is synchronous, so nothing is in flight.  Pending host input
 * is host data, not guest memory: it is kept for the next driver.
 */
static void vcon_reset(struct virtio_dev *d)
{
	struct vcon *c = to_vcon(d);

	c->active = false;
	memset(&c->chain, 0, sizeof(c->chain));
}

static void vcon_destroy(struct virtio_dev *d)
{
	virtio_dev_cleanup(d);
	free(to_vcon(d));
}

static const struct virtio_dev_ops vcon_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.pci_class = VCON_PCI_CLASS,
	.config_write = vcon_config_write,
	.activate = vcon_activate,
	.notify = vcon_notify,
	.reset = vcon_reset,
	.destroy = vcon_destroy,
};

int vcon_create(const struct guest_mem *mem, struct ev_loop *loop, struct outbuf *output,
		struct virtio_dev **out)
{
	struct vcon *c = calloc(1, sizeof(*c));
	uint16_t cols = 80, rows = 25;
	struct winsize ws;
	int ret;

	if (!c)
		return -ENOMEM;
	ret = virtio_dev_init(&c->vdev, &vcon_ops, mem, loop, 2, VCON_QUEUE_MAX,
			      VIRTIO_BIT(VIRTIO_CONSOLE_F_SIZE) |
			      VIRTIO_BIT(VIRTIO_CONSOLE_F_EMERG_WRITE) |
			      VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC),
			      &c->cfg, sizeof(c->cfg));
	if (ret) {
		free(c);
		return ret;
	}
	if (output && isatty(output->fd) && ioctl(output->fd, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col && ws.ws_row) {
		cols = ws.ws_col;
		rows = ws.ws_row;
	}
	c->cfg.cols = htole16(cols);
	c->cfg.rows = htole16(rows);
	c->cfg.max_nr_ports = htole32(1);
	c->out = output;
	*out = &c->vdev;
	return 0;
}

/* ---- the device table ---- */

static int vcon_device_create(const struct virtio_dev_args *a, const void *config,
			      struct virtio_dev **out, char *err, size_t errlen)
{
	const struct vcon_options *c = config;

	(void)err;
	(void)errlen;
	return vcon_create(a->mem, a->loop, c->output, out);
}

const struct virtio_device_desc vcon_device = {
	.name = "console",
	.naming = VIRTIO_NAME_ALONE,
	.io_name = "con",
	.create = vcon_device_create,
};
