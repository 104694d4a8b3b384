/* virtio_net.c: virtio-net (virtio 1.2 §5.1): Ethernet frames between the guest's queues and a backend's fds. */
#include "devices/virtio_net.h"
#include "devices/virtio_net_priv.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "hv/base/log.h"
#include "hv/base/trace.h"

#define VNET_QUEUE_MAX		256

/*
 * The receive bounce buffer: a header, the largest frame a TAP hands out
 * (a 64 KiB GSO packet behind its Ethernet header), and slack for VLAN tags.
 */
#define VNET_RX_BUF_SIZE	(NET_VNET_HDR_LEN + 65535 + 256)

/* Work done per wakeup before the I/O thread serves other fds (and one interrupt per batch). */
#define VNET_RX_BUDGET		64
#define VNET_TX_BUDGET		256

#define VNET_LINK_POLL_SEC	1

/*
 * Offloads (§5.1.3) travel in the vnet header; a backend says which it
 * carries as TAP offload flags (TUNSETOFFLOAD's TUN_F_*).  Beyond TUN_F_CSUM
 * (CSUM and GUEST_CSUM), the features each flag makes possible: a TAP that
 * accepts TUN_F_X may hand us frames with offload X, which the guest takes
 * as GUEST_X; a kernel that knows X also takes such frames from us, the
 * guest's HOST_X.
 */
static const struct {
	unsigned int tun;
	uint64_t host, guest;
} vnet_tun_offloads[] = {
	{ TUN_F_TSO4, VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4), VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) },
	{ TUN_F_TSO6, VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6), VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) },
	{ TUN_F_TSO_ECN, VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN), VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN) },
	{ TUN_F_UFO, VIRTIO_BIT(VIRTIO_NET_F_HOST_UFO), VIRTIO_BIT(VIRTIO_NET_F_GUEST_UFO) },
#ifdef TUN_F_USO4
	/* Linux 6.2 and later: UDP segmentation. */
	{ TUN_F_USO4, VIRTIO_BIT(VIRTIO_NET_F_HOST_USO), VIRTIO_BIT(VIRTIO_NET_F_GUEST_USO4) },
	{ TUN_F_USO6, 0, VIRTIO_BIT(VIRTIO_NET_F_GUEST_USO6) },
#endif
};

/* The offload features a backend accepting the TUN_F_* flags tun can carry. */
static uint64_t vnet_offload_features(unsigned int tun)
{
	uint64_t f;
	size_t i;

	if (!(tun & TUN_F_CSUM))
		return 0;	/* every other offload builds on checksums */
	f = VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM);
	for (i = 0; i < sizeof(vnet_tun_offloads) / sizeof(vnet_tun_offloads[0]); i++)
		if (tun & vnet_tun_offloads[i].tun)
			f |= vnet_tun_offloads[i].host | vnet_tun_offloads[i].guest;
	return f;
}

/* GUEST_* features -> the TUN_F_* flags of the frames the guest accepts. */
static unsigned int vnet_tun_flags(uint64_t guest_features)
{
	unsigned int flags;
	size_t i;

	if (!(guest_features & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)))
		return 0;	/* every other offload needs checksums left to the guest */
	flags = TUN_F_CSUM;
	for (i = 0; i < sizeof(vnet_tun_offloads) / sizeof(vnet_tun_offloads[0]); i++)
		if (guest_features & vnet_tun_offloads[i].guest)
			flags |= vnet_tun_offloads[i].tun;
	return flags;
}

/* Where num_buffers sits in struct virtio_net_hdr_v1. */
#define VNET_HDR_NUM_BUFFERS	offsetof(struct virtio_net_hdr_v1, num_buffers)

_Static_assert(sizeof(struct virtio_net_hdr_v1) == NET_VNET_HDR_LEN, "virtio_net_hdr_v1 layout");
_Static_assert(sizeof(struct virtio_net_config) == 12, "virtio_net_config layout");

static struct vnet *to_vnet(struct virtio_dev *d)
{
	return (struct vnet *)d;
}

/* The one diagnostic for a chain the device refuses; the chain is completed, nothing stops. */
void vnet_bad_chain(struct vnet *n, unsigned int q, uint16_t head, const char *why)
{
	n->nr_bad_chains++;
	virtio_warn(&n->vdev, "%s: %s: queue %u head %u: chain refused: %s", n->vdev.ops->name,
		n->be->name, q, (unsigned int)head, why);
}

/* ---- link status ---- */

static bool vnet_backend_link(struct vnet *n)
{
	return n->be->ops && n->be->ops->link_up ? n->be->ops->link_up(n->be) : true;
}

static void vnet_set_link(struct vnet *n, bool up)
{
	if (n->link_up == up)
		return;
	n->link_up = up;
	n->cfg.status = htole16(up ? VIRTIO_NET_S_LINK_UP : 0);
	hv_info("%s: %s: link %s", n->vdev.ops->name, n->be->name, up ? "up" : "down");
	/* §5.1.4.2: a status change is a configuration change. */
	virtio_config_changed(&n->vdev);
}

/*
 * A read or write on the backend failed for good (not EAGAIN): stop polling
 * the fd, or a fd stuck in error would wake the loop forever.  The link
 * poll tries again each second.  A TAP that is down (EIO) or was deleted
 * (EBADFD, ENODEV) also takes the guest's link down.
 */
static void vnet_backend_failed(struct vnet *n, struct vnet_pair *p, int err, const char *op)
{
	p->broken = true;
	virtio_warn(&n->vdev, "%s: %s: %s on queue pair %u: %s; retrying every %d s", n->vdev.ops->name,
		n->be->name, op, p->index, err ? strerror(err) : "end of file",
		VNET_LINK_POLL_SEC);
	if (err == EIO || err == EBADFD || err == ENODEV)
		vnet_set_link(n, false);
}

/* ---- watching the backend fds ---- */

static void vnet_backend_ready(void *opaque, int fd, uint32_t events);

static bool vnet_pair_active(const struct vnet *n, const struct vnet_pair *p)
{
	return vnet_running(n) && p->index < n->active_pairs;
}

/* Should the pair's fd be read?  Not while a frame waits for guest buffers, nor after an error. */
static bool vnet_rx_polling(const struct vnet *n, const struct vnet_pair *p)
{
	return vnet_pair_active(n, p) && !p->rx_wait_bufs && !p->broken &&
	       n->vdev.vq[vnet_rxq(p)].ready;
}

static void vnet_unwatch(struct vnet *n, struct vnet_pair *p)
{
	if (p->watched)
		ev_del(n->vdev.loop, p->fd);
	p->watched = false;
}

/*
 * Brings the fd's registration on the loop in line with what the pair waits
 * for: readable (receive), writable (a transmit that hit EAGAIN), or nothing.
 * ev_add() always asks for EPOLLIN; when only EPOLLOUT matters the
 * registration is edge-triggered, so that frames we are not reading yet
 * cannot wake the loop over and over.
 */
static void vnet_watch(struct vnet *n, struct vnet_pair *p)
{
	bool in = vnet_rx_polling(n, p);
	bool out = vnet_pair_active(n, p) && p->tx_wait_out;
	uint32_t events;
	int ret;

	if (!in && !out) {
		vnet_unwatch(n, p);
		return;
	}
	events = in ? EPOLLIN | (out ? EPOLLOUT : 0) : EPOLLIN | EPOLLOUT | EPOLLET;
	if (p->watched && p->watch_events == events)
		return;
	vnet_unwatch(n, p);
	ret = ev_add(n->vdev.loop, p->fd, events, vnet_backend_ready, p);
	if (ret) {
		/* The link poll calls us again in a second. */
		virtio_warn(&n->vdev, "%s: %s: cannot watch queue pair %u: %s", n->vdev.ops->name,
			n->be->name, p->index, strerror(-ret));
		return;
	}
	p->watched = true;
	p->watch_events = events;
}

void vnet_watch_all(struct vnet *n)
{
	unsigned int i;

	for (i = 0; i < n->max_pairs; i++)
		vnet_watch(n, &n->pair[i]);
}

/* Work that ran out of budget continues from the loop, after the other fds had their turn. */
void vnet_schedule_resume(struct vnet *n)
{
	if (eventfd_write(n->resume_fd, 1) < 0)
		virtio_warn(&n->vdev, "%s: resume eventfd: %s", n->vdev.ops->name, strerror(errno));
}

/* ---- receive: backend -> guest ---- */

/*
 * Reads one frame into the pair's bounce buffer, header first: the
 * backend's own, or a zeroed one we put in front of a bare frame.
 * 1: a frame is pending; 0: the backend has nothing; -1: it failed.
 */
static int vnet_rx_read(struct vnet *n, struct vnet_pair *p, bool hangup)
{
	size_t add = n->be->vnet_hdr_len ? 0 : NET_VNET_HDR_LEN;
	ssize_t r;

	do {
		r = read(p->fd, p->rx_buf + add, VNET_RX_BUF_SIZE - add);
	} while (r < 0 && errno == EINTR);
	n->stats.backend_reads++;
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		/* Woken for a hangup or an error but nothing to read: the fd is dead. */
		if (hangup) {
			vnet_backend_failed(n, p, 0, "read");
			return -1;
		}
		return 0;
	}
	if (r < 0) {
		vnet_backend_failed(n, p, errno, "read");
		return -1;
	}
	HV_TRACE(HV_TRACE_VIRTIO, "%s pair %u: backend read: a %zd-byte frame", n->vdev.vq[0].dev_name,
		 p->index, r);
	memset(p->rx_buf, 0, add);
	p->rx_len = (size_t)r + add;
	p->rx_done = 0;
	return 1;
}

/* Drops the pending frame; chains it already filled are given back empty. */
static bool vnet_rx_drop(struct vnet *n, struct vnet_pair *p)
{
	struct virtqueue *vq = &n->vdev.vq[vnet_rxq(p)];
	bool pushed = p->nr_held > 0;
	uint16_t i;

	for (i = 0; i < p->nr_held; i++)
		vq_fill(vq, p->rx_held[i].head, 0);
	vq_flush(vq);
	n->stats.rx_dropped++;
	HV_TRACE(HV_TRACE_VIRTIO, "%s q%u: frame of %zu B dropped", n->vdev.vq[0].dev_name, vnet_rxq(p),
		 p->rx_len);
	p->nr_held = 0;
	p->rx_len = 0;
	p->rx_done = 0;
	return pushed;
}

/* The frame is complete in the held chains: num_buffers into the first, then publish them all. */
static void vnet_rx_complete(struct vnet *n, struct vnet_pair *p)
{
	struct virtqueue *vq = &n->vdev.vq[vnet_rxq(p)];
	uint16_t nb = htole16(p->nr_held);
	uint16_t i;

	vq_chain_write(&p->rx_first, VNET_HDR_NUM_BUFFERS, &nb, sizeof(nb));
	/*
	 * All of the frame's chains become visible with one used->idx store: a
	 * driver that saw the first (num_buffers = n) before the others would
	 * count the rest as missing (§5.1.6.4).
	 */
	for (i = 0; i < p->nr_held; i++)
		vq_fill(vq, p->rx_held[i].head, p->rx_held[i].len);
	vq_flush(vq);
	n->stats.rx_frames++;
	n->stats.rx_bytes += p->rx_len - NET_VNET_HDR_LEN;
	HV_TRACE(HV_TRACE_VIRTIO, "%s q%u: frame of %zu B received into %u chain(s)", n->vdev.vq[0].dev_name,
		 vnet_rxq(p), p->rx_len - NET_VNET_HDR_LEN, (unsigned int)p->nr_held);
	p->nr_held = 0;
	p->rx_len = 0;
	p->rx_done = 0;
}

/*
 * MRG_RXBUF (§5.1.6.4.2): the frame goes into as many chains as it needs,
 * each filled in turn.  Chains stay held (taken, not yet used) while the
 * ring has too few; the next kick continues where this stopped.
 * 1: the frame is done (delivered or dropped); 0: more buffers needed;
 * -EIO: the ring is broken.
 */
static int vnet_rx_merge(struct vnet *n, struct vnet_pair *p, bool *pushed)
{
	struct virtqueue *vq = &n->vdev.vq[vnet_rxq(p)];

	while (p->rx_done < p->rx_len) {
		struct vq_chain *c = p->nr_held ? &n->chain : &p->rx_first;
		size_t len;
		int ret = vq_pop(vq, c);

		if (ret <= 0)
			return ret;
		p->rx_held[p->nr_held].head = c->head;
		p->rx_held[p->nr_held].len = 0;
		p->nr_held++;
		/* GUEST: §5.1.6.3.1 each receive buffer holds at least a header. */
		if (c->in_len < NET_VNET_HDR_LEN || p->nr_held == VQ_MAX_SIZE) {
			vnet_bad_chain(n, vnet_rxq(p), c->head, c->in_len < NET_VNET_HDR_LEN ?
				       "receive buffer smaller than the header" :
				       "too many buffers for one frame");
			*pushed |= vnet_rx_drop(n, p);
			return 1;
		}
		len = p->rx_len - p->rx_done;
		if (len > c->in_len)
			len = c->in_len;
		vq_chain_write(c, 0, p->rx_buf + p->rx_done, len);
		p->rx_held[p->nr_held - 1].len = (uint32_t)len;
		p->rx_done += len;
	}
	vnet_rx_complete(n, p);
	*pushed = true;
	return 1;
}

/*
 * Without MRG_RXBUF (§5.1.6.3.1) one chain holds the whole frame.  A chain
 * that is too small for it is left in the ring for a smaller frame, and
 * the frame is dropped.  Same returns as vnet_rx_merge().
 */
static int vnet_rx_single(struct vnet *n, struct vnet_pair *p, bool *pushed)
{
	struct virtqueue *vq = &n->vdev.vq[vnet_rxq(p)];
	struct vq_chain *c = &p->rx_first;
	int ret = vq_pop(vq, c);

	if (ret <= 0)
		return ret;
	/* GUEST: a receive chain without room for a header can never be used. */
	if (c->in_len < NET_VNET_HDR_LEN) {
		vnet_bad_chain(n, vnet_rxq(p), c->head, "receive buffer smaller than the header");
		vq_push(vq, c->head, 0);
		*pushed = true;
		vnet_rx_drop(n, p);
		return 1;
	}
	if (c->in_len < p->rx_len) {
		vq_unpop(vq);
		virtio_warn(&n->vdev, "%s: %s: a %zu-byte frame does not fit a %" PRIu32 "-byte receive "
			"buffer (no MRG_RXBUF); dropped", n->vdev.ops->name, n->be->name,
				p->rx_len - NET_VNET_HDR_LEN, c->in_len);
		vnet_rx_drop(n, p);
		return 1;
	}
	p->rx_held[0].head = c->head;
	p->rx_held[0].len = (uint32_t)p->rx_len;
	p->nr_held = 1;
	vq_chain_write(c, 0, p->rx_buf, p->rx_len);
	vnet_rx_complete(n, p);
	*pushed = true;
	return 1;
}

/* Puts the pending frame into guest buffers, or drops it if the filter says so.  As vnet_rx_merge(). */
static int vnet_rx_deliver(struct vnet *n, struct vnet_pair *p, bool *pushed)
{
	if (p->rx_done == 0 && p->nr_held == 0) {
		/* A runt (shorter than an Ethernet header) is no frame; then the filter. */
		if (p->rx_len < NET_VNET_HDR_LEN + ETH_HLEN ||
		    !vnet_rx_accept(n, p->rx_buf + NET_VNET_HDR_LEN)) {
			vnet_rx_drop(n, p);
			return 1;
		}
	}
	if (virtio_has_feature(&n->vdev, VIRTIO_NET_F_MRG_RXBUF))
		return vnet_rx_merge(n, p, pushed);
	return vnet_rx_single(n, p, pushed);
}

/*
 * The ring ran dry with a frame pending: stop reading the backend (its
 * queue, not ours, absorbs the burst) and ask the driver to kick when it
 * posts buffers.  true if some arrived meanwhile: try again now.
 */
static bool vnet_rx_wait_buffers(struct vnet *n, struct vnet_pair *p)
{
	struct virtqueue *vq = &n->vdev.vq[vnet_rxq(p)];

	if (vq_notify_on(vq)) {
		vq_notify_off(vq);
		return true;
	}
	p->rx_wait_bufs = true;
	return false;
}

/* Moves up to VNET_RX_BUDGET frames from the backend into the guest; one interrupt for the batch. */
static void vnet_rx(struct vnet *n, struct vnet_pair *p, bool hangup)
{
	unsigned int budget = VNET_RX_BUDGET;
	bool pushed = false;

	p->rx_more = false;
	while (vnet_pair_active(n, p) && !p->rx_wait_bufs && !p->broken) {
		int ret;

		if (budget-- == 0) {
			/*
			 * A frame already read (held, or half in the ring) has no
			 * readable fd left to bring us back, and the driver's kicks
			 * are off: continue from resume_fd.  Frames still in the
			 * backend keep the (level-triggered) fd readable.
			 */
			if (p->rx_len) {
				p->rx_more = true;
				vnet_schedule_resume(n);
			}
			break;
		}

		if (p->rx_len == 0 && vnet_rx_read(n, p, hangup) <= 0)
			break;
		ret = vnet_rx_deliver(n, p, &pushed);
		if (ret < 0) {
			virtio_needs_reset(&n->vdev);
			break;
		}
		if (ret == 0 && !vnet_rx_wait_buffers(n, p))
			break;
	}
	if (pushed)
		virtio_used(&n->vdev, vnet_rxq(p));
	vnet_watch(n, p);
}

/* The driver posted receive buffers: deliver what waited for them, then read the backend again. */
static void vnet_rx_kick(struct vnet *n, struct vnet_pair *p)
{
	if (!p->rx_wait_bufs)
		return;		/* not waiting: the fd is polled, nothing to do */
	p->rx_wait_bufs = false;
	vq_notify_off(&n->vdev.vq[vnet_rxq(p)]);
	vnet_rx(n, p, false);
}

/* ---- transmit: guest -> backend ---- */

/* Copies iovecs, leaving out the first skip bytes.  Returns how many were written to out. */
static unsigned int vnet_iov_skip(const struct iovec *iov, unsigned int nr, size_t skip,
				  struct iovec *out)
{
	unsigned int i, k = 0;

	for (i = 0; i < nr; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		out[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
		out[k].iov_len = iov[i].iov_len - skip;
		skip = 0;
		k++;
	}
	return k;
}

static void vnet_tx_error(struct vnet *n, struct vnet_pair *p, int err)
{
	n->stats.tx_errors++;
	virtio_warn(&n->vdev, "%s: %s: queue pair %u: write: %s%s; frame dropped", n->vdev.ops->name,
		n->be->name, p->index, strerror(err),
		err == EIO ? " (the TAP is down)" :
		err == EBADFD || err == ENODEV ? " (the TAP was deleted)" : "");
}

/*
 * Writes the chain in n->chain to the backend, straight from guest memory
 * (no copy).  Without a backend vnet header the guest's header is left out:
 * the device then offered no offloads, so the header says nothing.
 * 0 (sent, or dropped and counted), or -EAGAIN (the backend is full: retry).
 */
static int vnet_tx_one(struct vnet *n, struct vnet_pair *p)
{
	const struct vq_chain *c = &n->chain;
	size_t skip = n->be->vnet_hdr_len ? 0 : NET_VNET_HDR_LEN;
	const struct iovec *iov = c->iov;
	unsigned int nr = c->nr_out;
	ssize_t r;

	/* GUEST: §5.1.6.2 a transmit chain is a header and a frame, all device-readable. */
	if (c->nr_in || c->out_len < NET_VNET_HDR_LEN + ETH_HLEN) {
		vnet_bad_chain(n, vnet_txq(p), c->head, c->nr_in ? "device-writable buffer" :
			       "shorter than a header and an Ethernet header");
		n->stats.tx_errors++;
		return 0;
	}
	if (skip) {
		nr = vnet_iov_skip(c->iov, c->nr_out, skip, n->tx_iov);
		iov = n->tx_iov;
	}
	do {
		r = writev(p->fd, iov, (int)nr);
	} while (r < 0 && errno == EINTR);
	n->stats.backend_writes++;
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -EAGAIN;
	if (r < 0) {
		vnet_tx_error(n, p, errno);
		return 0;
	}
	n->stats.tx_frames++;
	n->stats.tx_bytes += c->out_len - NET_VNET_HDR_LEN;
	HV_TRACE(HV_TRACE_VIRTIO, "%s q%u head %u: frame of %u B sent (backend writev %zd B)",
		 n->vdev.vq[0].dev_name, vnet_txq(p), (unsigned int)c->head,
		 (unsigned int)(c->out_len - NET_VNET_HDR_LEN), r);
	return 0;
}

/*
 * Sends up to VNET_TX_BUDGET frames, with kicks off while draining (§2.7.10).
 * A full backend: the chain goes back to the ring and EPOLLOUT resumes.  An
 * exhausted budget: resume_fd continues after the loop's other fds.
 */
static void vnet_tx(struct vnet *n, struct vnet_pair *p)
{
	struct virtqueue *vq = &n->vdev.vq[vnet_txq(p)];
	unsigned int budget = VNET_TX_BUDGET;
	bool pushed = false;
	int ret = 0;

	if (!vnet_pair_active(n, p) || !vq->ready || p->tx_wait_out)
		return;
	p->tx_more = false;
	for (;;) {
		vq_notify_off(vq);
		while (budget && (ret = vq_pop(vq, &n->chain)) > 0) {
			if (vnet_tx_one(n, p) == -EAGAIN) {
				vq_unpop(vq);
				p->tx_wait_out = true;
				break;
			}
			/*
			 * §5.1.6.2: transmit buffers are only read; nothing was written
			 * into them.  Published all at once by virtio_used() below.
			 */
			vq_fill(vq, n->chain.head, 0);
			pushed = true;
			budget--;
		}
		if (ret < 0) {
			virtio_needs_reset(&n->vdev);
			break;
		}
		if (p->tx_wait_out)
			break;
		if (budget == 0) {
			p->tx_more = true;
			vnet_schedule_resume(n);
			break;
		}
		if (pushed) {
			/*
			 * Sent something: look once more after the loop's other work,
			 * with notifications still off, so that frames the guest queues
			 * meanwhile cost it no kick.  A look that finds nothing asks
			 * for kicks again.
			 */
			p->tx_more = true;
			vnet_schedule_resume(n);
			break;
		}
		if (!vq_notify_on(vq))
			break;
	}
	if (pushed)
		virtio_used(&n->vdev, vnet_txq(p));
	vnet_watch(n, p);
}

/* On the loop thread: the pair's fd is readable, writable, or in error. */
static void vnet_backend_ready(void *opaque, int fd, uint32_t events)
{
	struct vnet_pair *p = opaque;
	struct vnet *n = p->n;
	bool hangup = (events & (EPOLLERR | EPOLLHUP)) != 0;

	(void)fd;
	pthread_mutex_lock(&n->vdev.lock);
	if (vnet_pair_active(n, p)) {
		if (p->tx_wait_out && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
			p->tx_wait_out = false;
			vnet_tx(n, p);
		}
		if (vnet_rx_polling(n, p) && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
			vnet_rx(n, p, hangup);
	}
	vnet_watch(n, p);
	pthread_mutex_unlock(&n->vdev.lock);
}

/* ---- timers: the link poll, and work resumed after its budget ---- */

static void vnet_link_poll(void *opaque)
{
	struct vnet *n = opaque;
	unsigned int i;
	bool up;

	pthread_mutex_lock(&n->vdev.lock);
	if (vnet_running(n)) {
		up = vnet_backend_link(n);
		for (i = 0; i < n->max_pairs && up; i++)
			n->pair[i].broken = false;	/* try the fds again */
		vnet_set_link(n, up);
		vnet_watch_all(n);
	}
	pthread_mutex_unlock(&n->vdev.lock);
}

static void vnet_resume(void *opaque, int fd, uint32_t events)
{
	struct vnet *n = opaque;
	eventfd_t v;
	unsigned int i;

	(void)events;
	pthread_mutex_lock(&n->vdev.lock);
	if (eventfd_read(fd, &v) == 0 && vnet_running(n)) {
		for (i = 0; i < n->active_pairs; i++) {
			if (n->pair[i].tx_more)
				vnet_tx(n, &n->pair[i]);
			if (n->pair[i].rx_more)
				vnet_rx(n, &n->pair[i], false);
		}
		if (n->ctrl_more)
			vnet_ctrl(n);
	}
	pthread_mutex_unlock(&n->vdev.lock);
}

/* ---- the ops ---- */

/* §5.1.3.1: features that only make sense with another; a driver must not take one alone. */
static const struct {
	uint8_t bit;
	uint64_t needs;		/* at least one of these */
} vnet_feature_deps[] = {
	{ VIRTIO_NET_F_GUEST_TSO4, VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) },
	{ VIRTIO_NET_F_GUEST_TSO6, VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) },
	{ VIRTIO_NET_F_GUEST_ECN,
	  VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) },
	{ VIRTIO_NET_F_GUEST_UFO, VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) },
	{ VIRTIO_NET_F_GUEST_USO4, VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) },
	{ VIRTIO_NET_F_GUEST_USO6, VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) },
	{ VIRTIO_NET_F_HOST_TSO4, VIRTIO_BIT(VIRTIO_NET_F_CSUM) },
	{ VIRTIO_NET_F_HOST_TSO6, VIRTIO_BIT(VIRTIO_NET_F_CSUM) },
	{ VIRTIO_NET_F_HOST_ECN,
	  VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) },
	{ VIRTIO_NET_F_HOST_UFO, VIRTIO_BIT(VIRTIO_NET_F_CSUM) },
	{ VIRTIO_NET_F_HOST_USO, VIRTIO_BIT(VIRTIO_NET_F_CSUM) },
	{ VIRTIO_NET_F_CTRL_RX, VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) },
	{ VIRTIO_NET_F_CTRL_VLAN, VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) },
	{ VIRTIO_NET_F_GUEST_ANNOUNCE, VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) },
	{ VIRTIO_NET_F_MQ, VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) },
	{ VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) },
	{ VIRTIO_NET_F_CTRL_RX_EXTRA, VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) },
};

static int vnet_features_ok(struct virtio_dev *d, uint64_t features)
{
	size_t i;

	for (i = 0; i < sizeof(vnet_feature_deps) / sizeof(vnet_feature_deps[0]); i++) {
		if ((features & VIRTIO_BIT(vnet_feature_deps[i].bit)) &&
		    !(features & vnet_feature_deps[i].needs)) {
			virtio_warn(d, "%s: feature %u without the one it depends on (virtio 1.2 §5.1.3.1)",
				d->ops->name, (unsigned int)vnet_feature_deps[i].bit);
			return -EINVAL;
		}
	}
	return 0;
}

static int vnet_start_timers(struct vnet *n)
{
	const uint64_t poll_ns = VNET_LINK_POLL_SEC * 1000000000ull;
	int ret;

	ret = ev_timer_start(&n->link_poll, n->vdev.loop);
	if (ret)
		return ret;
	ret = ev_timer_set(&n->link_poll, poll_ns, poll_ns);
	if (ret)
		return ret;
	if (!n->resume_added) {
		ret = ev_add(n->vdev.loop, n->resume_fd, 0, vnet_resume, n);
		if (ret)
			return ret;
		n->resume_added = true;
	}
	return 0;
}

static void vnet_stop_timers(struct vnet *n)
{
	eventfd_t v;

	ev_timer_stop(&n->link_poll);
	if (n->resume_added)
		ev_del(n->vdev.loop, n->resume_fd);
	n->resume_added = false;
	eventfd_read(n->resume_fd, &v);		/* non-blocking: clears a pending resume */
}

int vnet_set_offload(struct vnet *n, uint64_t offloads)
{
	if (!n->be->ops || !n->be->ops->set_offload || !n->be->vnet_hdr_len)
		return 0;
	return n->be->ops->set_offload(n->be, vnet_tun_flags(offloads));
}

static int vnet_activate(struct virtio_dev *d)
{
	struct vnet *n = to_vnet(d);
	uint64_t offloads = d->features & VNET_GUEST_OFFLOADS;
	unsigned int i;
	int ret;

	ret = vnet_set_offload(n, offloads);
	if (ret) {
		virtio_warn(&n->vdev, "%s: %s: cannot set offloads 0x%" PRIx64 ": %s", d->ops->name, n->be->name,
		       offloads, strerror(-ret));
		return ret;
	}
	/* §5.1.6.5.5: a driver starts with one pair, MQ or not. */
	n->active_pairs = 1;
	if (n->be->nr_queue_pairs > 1 && n->be->ops && n->be->ops->set_queue_pairs) {
		ret = n->be->ops->set_queue_pairs(n->be, 1);
		if (ret)
			virtio_warn(&n->vdev, "%s: %s: cannot detach the unused queues: %s", d->ops->name,
				n->be->name, strerror(-ret));
	}
	ret = vnet_start_timers(n);
	if (ret) {
		virtio_warn(&n->vdev, "%s: cannot start the link poll: %s", d->ops->name, strerror(-ret));
		vnet_stop_timers(n);
		return ret;
	}
	n->active = true;
	n->link_up = vnet_backend_link(n);
	n->cfg.status = htole16(n->link_up ? VIRTIO_NET_S_LINK_UP : 0);
	for (i = 0; i < n->max_pairs; i++)
		n->pair[i].broken = false;
	/*
	 * Receive kicks are needed only while a frame waits for buffers.  (Only
	 * pair 0: without MQ, queue 2 is the control queue.)
	 */
	vq_notify_off(&d->vq[vnet_rxq(&n->pair[0])]);
	vnet_watch_all(n);
	return 0;
}

static void vnet_notify(struct virtio_dev *d, unsigned int q)
{
	struct vnet *n = to_vnet(d);
	struct vnet_pair *p;

	if (!vnet_running(n))
		return;
	if (q == vnet_ctrlq(n)) {
		if (virtio_has_feature(d, VIRTIO_NET_F_CTRL_VQ))
			vnet_ctrl(n);
		return;
	}
	if (q >= 2 * n->active_pairs)
		return;		/* a pair the driver switched off */
	p = &n->pair[q / 2];
	if (q % 2 == 0)
		vnet_rx_kick(n, p);
	else
		vnet_tx(n, p);
}

/*
 * Everything is synchronous, so nothing is in flight: forget pending frames
 * (held chains die with the rings), stop watching the fds and the timers.
 */
static void vnet_reset(struct virtio_dev *d)
{
	struct vnet *n = to_vnet(d);
	unsigned int i;

	n->active = false;
	for (i = 0; i < n->max_pairs; i++) {
		struct vnet_pair *p = &n->pair[i];

		vnet_unwatch(n, p);
		p->rx_len = p->rx_done = 0;
		p->nr_held = 0;
		p->rx_wait_bufs = p->rx_more = p->tx_wait_out = p->tx_more = p->broken = false;
	}
	vnet_stop_timers(n);
	n->ctrl_more = false;
	n->active_pairs = 1;
	vnet_filter_reset(&n->filter);
	memcpy(n->cfg.mac, n->mac, ETH_ALEN);
	memset(&n->chain, 0, sizeof(n->chain));
	memset(&n->ctrl_chain, 0, sizeof(n->ctrl_chain));
}

static void vnet_free(struct vnet *n);

static void vnet_destroy(struct virtio_dev *d)
{
	vnet_reset(d);
	vnet_free(to_vnet(d));
}

static const struct virtio_dev_ops vnet_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.pci_class = VNET_PCI_CLASS,
	.features_ok = vnet_features_ok,
	.activate = vnet_activate,
	.notify = vnet_notify,
	.reset = vnet_reset,
	.destroy = vnet_destroy,
};

static uint64_t vnet_host_features(const struct net_backend *be, unsigned int pairs)
{
	uint64_t f = VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
		     VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) |
		     VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
		     VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	/* Offloads travel in the vnet header: none without one. */
	uint64_t offloads = be->vnet_hdr_len ? vnet_offload_features(be->tun_offloads) : 0;

	f |= offloads;
	if (offloads & VNET_GUEST_OFFLOADS)
		f |= VIRTIO_BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
	if (pairs > 1)
		f |= VIRTIO_BIT(VIRTIO_NET_F_MQ);
	return f;
}

static void vnet_free(struct vnet *n)
{
	unsigned int i;

	ev_timer_destroy(&n->link_poll);
	if (n->resume_fd >= 0)
		close(n->resume_fd);
	for (i = 0; i < NET_MAX_QUEUE_PAIRS; i++)
		free(n->pair[i].rx_buf);
	virtio_dev_cleanup(&n->vdev);
	free(n);
}

int vnet_create(const struct guest_mem *mem, struct ev_loop *loop, struct net_backend *be,
		const uint8_t mac[6], unsigned int max_pairs, struct virtio_dev **out)
{
	unsigned int pairs = max_pairs, i;
	struct vnet *n;
	int ret;

	if (!loop || !be || !mac || max_pairs == 0 || be->nr_queue_pairs == 0 ||
	    (be->vnet_hdr_len != 0 && be->vnet_hdr_len != NET_VNET_HDR_LEN))
		return -EINVAL;
	if (pairs > be->nr_queue_pairs)
		pairs = be->nr_queue_pairs;
	if (pairs > NET_MAX_QUEUE_PAIRS)
		pairs = NET_MAX_QUEUE_PAIRS;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	/* Pairs of receiveq, transmitq, then the control queue (§5.1.2). */
	ret = virtio_dev_init(&n->vdev, &vnet_ops, mem, loop, (uint16_t)(2 * pairs + 1),
			      VNET_QUEUE_MAX, vnet_host_features(be, pairs), &n->cfg, sizeof(n->cfg));
	if (ret) {
		free(n);
		return ret;
	}
	virtio_set_label(&n->vdev, be->name);
	ret = ev_timer_init(&n->link_poll, vnet_ops.name, vnet_link_poll, n);
	n->resume_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ret || n->resume_fd < 0) {
		ret = ret ? ret : -errno;
		vnet_free(n);
		return ret;
	}
	n->be = be;
	n->max_pairs = pairs;
	n->active_pairs = 1;
	for (i = 0; i < pairs; i++) {
		if (be->fds[i] < 0) {
			vnet_free(n);
			return -EBADF;
		}
		n->pair[i].n = n;
		n->pair[i].index = i;
		n->pair[i].fd = be->fds[i];
		n->pair[i].rx_buf = malloc(VNET_RX_BUF_SIZE);
		if (!n->pair[i].rx_buf) {
			vnet_free(n);
			return -ENOMEM;
		}
	}
	memcpy(n->mac, mac, ETH_ALEN);
	memcpy(n->cfg.mac, mac, ETH_ALEN);
	n->link_up = vnet_backend_link(n);
	n->cfg.status = htole16(n->link_up ? VIRTIO_NET_S_LINK_UP : 0);
	n->cfg.max_virtqueue_pairs = htole16((uint16_t)pairs);
	vnet_filter_reset(&n->filter);
	*out = &n->vdev;
	return 0;
}

void vnet_get_stats(struct virtio_dev *d, struct vnet_stats *out)
{
	struct vnet *n = to_vnet(d);

	*out = n->stats;
}

/* ---- the device table ---- */

static int vnet_device_create(const struct virtio_dev_args *a, const void *config,
			      struct virtio_dev **out, char *err, size_t errlen)
{
	const struct vnet_options *c = config;
	int ret = vnet_create(a->mem, a->loop, c->be, c->mac, c->max_pairs, out);

	if (ret)
		snprintf(err, errlen, "virtio-net on %s: %s", c->be->name, strerror(-ret));
	return ret;
}

static size_t vnet_counters(struct virtio_dev *d, struct virtio_counter *out, size_t max)
{
	struct vnet_stats s;
	size_t n = 0;

	vnet_get_stats(d, &s);
	virtio_counter_add(out, max, &n, "net", "rx_frames", s.rx_frames);
	virtio_counter_add(out, max, &n, "net", "rx_bytes", s.rx_bytes);
	virtio_counter_add(out, max, &n, "net", "rx_dropped", s.rx_dropped);
	virtio_counter_add(out, max, &n, "net", "tx_frames", s.tx_frames);
	virtio_counter_add(out, max, &n, "net", "tx_bytes", s.tx_bytes);
	virtio_counter_add(out, max, &n, "net", "tx_errors", s.tx_errors);
	virtio_counter_add(out, max, &n, "backend", "reads", s.backend_reads);
	virtio_counter_add(out, max, &n, "backend", "writes", s.backend_writes);
	return n;
}

const struct virtio_device_desc vnet_device = {
	.name = "net",
	.naming = VIRTIO_NAME_NUMBER,
	.create = vnet_device_create,
	.counters = vnet_counters,
	.stats_text =
		"    rx: {net.rx_frames} frames ({net.rx_bytes:bytes}), {net.rx_dropped} dropped; "
		"tx: {net.tx_frames} frames ({net.tx_bytes:bytes}), {net.tx_errors} errors; "
		"backend: {backend.reads} reads, {backend.writes} writes\n",
};
