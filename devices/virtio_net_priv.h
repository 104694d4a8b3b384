/* virtio_net_priv.h: what virtio_net.c (the data path) and virtio_net_ctrl.c (control queue, receive filter) share; no other file includes it. */
#ifndef DEV_VIRTIO_NET_PRIV_H
#define DEV_VIRTIO_NET_PRIV_H

#include <linux/if_ether.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "devices/virtio_net.h"

/* The filter keeps this many MAC addresses per table; more means "accept them all" (as QEMU). */
#define VNET_MAC_TABLE_ENTRIES	64

/* The offloads the guest receives (§5.1.3): what CTRL_GUEST_OFFLOADS may turn on and off. */
#define VNET_GUEST_OFFLOADS							\
	(VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN) | \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_UFO) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_USO4) | \
	 VIRTIO_BIT(VIRTIO_NET_F_GUEST_USO6))

/* The receive filter (§5.1.6.5.1, §5.1.6.5.2). */
struct vnet_filter {
	bool promisc, allmulti, alluni, nomulti, nouni, nobcast;
	bool uni_overflow, multi_overflow;	/* the driver listed more than we keep: accept all */
	unsigned int nr_uni, nr_multi;
	uint8_t uni[VNET_MAC_TABLE_ENTRIES][ETH_ALEN];
	uint8_t multi[VNET_MAC_TABLE_ENTRIES][ETH_ALEN];
};

/* A used element not yet published: a receive chain holding part of the pending frame. */
struct vnet_used {
	uint16_t head;
	uint32_t len;
};

/* One queue pair: receiveq 2k, transmitq 2k + 1, and backend fd k. */
struct vnet_pair {
	struct vnet *n;
	unsigned int index;
	int fd;

	/* The fd's registration on the loop: which events, if any. */
	bool watched;
	uint32_t watch_events;

	/*
	 * Receive: a frame read from the backend (rx_len bytes of rx_buf,
	 * header included) waits to be copied into the guest.  With
	 * MRG_RXBUF it may be spread over several chains; those already
	 * filled are held in rx_held until the frame is complete.
	 */
	uint8_t *rx_buf;
	size_t rx_len;			/* 0: nothing pending */
	size_t rx_done;			/* bytes of it already copied into held chains */
	bool rx_wait_bufs;		/* the ring ran dry: the fd is not polled until a kick */
	bool rx_more;			/* the budget ran out with a frame read: resume_fd continues */
	struct vq_chain rx_first;	/* the first held chain: its header gets num_buffers */
	uint16_t nr_held;
	struct vnet_used rx_held[VQ_MAX_SIZE];

	/* Transmit. */
	bool tx_wait_out;		/* the backend said EAGAIN: waiting for EPOLLOUT */
	bool tx_more;			/* the budget ran out with chains left: resume_fd continues */

	bool broken;			/* a backend error: not polled until the link poll says up */
};

struct vnet {
	struct virtio_dev vdev;		/* first: a struct virtio_dev * is a struct vnet * */
	struct virtio_net_config cfg;	/* what the driver reads, little-endian */
	struct net_backend *be;		/* borrowed */
	uint8_t mac[ETH_ALEN];		/* as created; a reset undoes MAC_ADDR_SET */
	unsigned int max_pairs;
	unsigned int active_pairs;	/* [0, active_pairs) are serviced (MQ_VQ_PAIRS_SET) */
	bool active;			/* between activate() and reset() */
	bool link_up;
	bool ctrl_more;			/* the control queue's budget ran out: resume_fd continues */
	struct vnet_filter filter;

	struct ev_timer link_poll;	/* every VNET_LINK_POLL_SEC, between activate() and reset() */
	int resume_fd;			/* eventfd: continue work that ran out of budget */
	bool resume_added;

	struct vnet_pair pair[NET_MAX_QUEUE_PAIRS];
	struct vq_chain chain;		/* scratch for vq_pop() on RX and TX, under vdev.lock */
	struct vq_chain ctrl_chain;	/* the control command being run (it may start TX) */
	struct iovec tx_iov[VQ_MAX_SIZE];

	/* Rate limit of diagnostics. */

	struct vnet_stats stats;
	uint64_t nr_bad_chains;
};

/* ---- queue numbering (§5.1.2) ---- */

static inline unsigned int vnet_rxq(const struct vnet_pair *p)
{
	return 2 * p->index;
}

static inline unsigned int vnet_txq(const struct vnet_pair *p)
{
	return 2 * p->index + 1;
}

/* The control queue follows the last pair the driver may use: pair 0 alone without MQ. */
static inline unsigned int vnet_ctrlq(const struct vnet *n)
{
	return virtio_has_feature(&n->vdev, VIRTIO_NET_F_MQ) ? 2 * n->max_pairs : 2;
}

static inline bool vnet_running(const struct vnet *n)
{
	return n->active && !(n->vdev.status & VIRTIO_STATUS_NEEDS_RESET);
}

/* ---- virtio_net.c: the data path ---- */

/* The one diagnostic for a chain the device refuses; the chain is completed, nothing stops. */
void vnet_bad_chain(struct vnet *n, unsigned int q, uint16_t head, const char *why);
/* Work that ran out of budget continues from the loop, after the other fds had their turn. */
void vnet_schedule_resume(struct vnet *n);
/* Brings every pair's fd registration in line with what the pair waits for. */
void vnet_watch_all(struct vnet *n);
/* Tells the backend (a TAP's vnet header) which receive offloads the guest takes. */
int vnet_set_offload(struct vnet *n, uint64_t offloads);

/* ---- virtio_net_ctrl.c: the receive filter and the control queue ---- */

/* Accept everything, as before the driver's first RX mode command. */
void vnet_filter_reset(struct vnet_filter *f);
/* Does the guest want a frame sent to dst (§5.1.6.5.1)? */
bool vnet_rx_accept(const struct vnet *n, const uint8_t *dst);
/* Runs up to VNET_CTRL_BUDGET commands from the control queue; under vdev.lock. */
void vnet_ctrl(struct vnet *n);

#endif
