/* virtio_net_ctrl.c: virtio-net's control queue (virtio 1.2 §5.1.6.5: RX mode, MAC table, MQ, offloads) and the receive filter it sets. */
#include "devices/virtio_net_priv.h"

#include <endian.h>
#include <inttypes.h>
#include <string.h>

#include "hv/base/log.h"

/* Commands run per wakeup before the I/O thread serves other fds. */
#define VNET_CTRL_BUDGET	64


/* ---- receive filter ---- */

void vnet_filter_reset(struct vnet_filter *f)
{
	memset(f, 0, sizeof(*f));
	/* Until the driver says otherwise, everything is accepted (QEMU does the same). */
	f->promisc = true;
}

static bool vnet_mac_in(const uint8_t (*table)[ETH_ALEN], unsigned int nr, const uint8_t *mac)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (memcmp(table[i], mac, ETH_ALEN) == 0)
			return true;
	return false;
}

/* Does the guest want a frame sent to dst (§5.1.6.5.1)? */
bool vnet_rx_accept(const struct vnet *n, const uint8_t *dst)
{
	static const uint8_t broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const struct vnet_filter *f = &n->filter;

	if (f->promisc)
		return true;
	if (dst[0] & 1) {		/* the group bit: broadcast or multicast */
		if (memcmp(dst, broadcast, ETH_ALEN) == 0)
			return !f->nobcast;
		if (f->nomulti)
			return false;
		if (f->allmulti || f->multi_overflow)
			return true;
		return vnet_mac_in(f->multi, f->nr_multi, dst);
	}
	if (f->nouni)
		return false;
	if (f->alluni || f->uni_overflow || memcmp(dst, n->cfg.mac, ETH_ALEN) == 0)
		return true;
	return vnet_mac_in(f->uni, f->nr_uni, dst);
}

/* ---- the control queue (§5.1.6.5) ---- */

/* The command's data: readable bytes after class and command. */
struct vnet_ctrl {
	const struct vq_chain *c;
	size_t len;
};

static bool vnet_ctrl_data(const struct vnet_ctrl *r, size_t off, void *dst, size_t len)
{
	return off + len <= r->len && vq_chain_read(r->c, 2 + off, dst, len) == len;
}

/* §5.1.6.5.1: each RX mode command carries one byte, 0 or 1. */
static uint8_t vnet_ctrl_rx_mode(struct vnet *n, uint8_t cmd, const struct vnet_ctrl *r)
{
	struct vnet_filter *f = &n->filter;
	bool *flag[] = {
		[VIRTIO_NET_CTRL_RX_PROMISC] = &f->promisc,
		[VIRTIO_NET_CTRL_RX_ALLMULTI] = &f->allmulti,
		[VIRTIO_NET_CTRL_RX_ALLUNI] = &f->alluni,
		[VIRTIO_NET_CTRL_RX_NOMULTI] = &f->nomulti,
		[VIRTIO_NET_CTRL_RX_NOUNI] = &f->nouni,
		[VIRTIO_NET_CTRL_RX_NOBCAST] = &f->nobcast,
	};
	uint8_t on;

	/* GUEST: a known command, exactly one byte of data. */
	if (cmd >= sizeof(flag) / sizeof(flag[0]) || r->len != 1 || !vnet_ctrl_data(r, 0, &on, 1))
		return VIRTIO_NET_ERR;
	*flag[cmd] = on != 0;
	return VIRTIO_NET_OK;
}

/*
 * One table of MAC_TABLE_SET at data offset *off: le32 entries, then
 * entries × 6 bytes.  Keeps up to VNET_MAC_TABLE_ENTRIES, else *overflow.
 */
static bool vnet_ctrl_mac_table(const struct vnet_ctrl *r, size_t *off,
				uint8_t (*table)[ETH_ALEN], unsigned int *nr, bool *overflow)
{
	uint32_t entries;
	uint64_t bytes;

	if (!vnet_ctrl_data(r, *off, &entries, sizeof(entries)))
		return false;
	entries = le32toh(entries);
	bytes = (uint64_t)entries * ETH_ALEN;
	*off += sizeof(entries);
	/* GUEST: the entries lie inside the data (64-bit arithmetic: no overflow). */
	if (bytes > r->len - *off)
		return false;
	if (entries > VNET_MAC_TABLE_ENTRIES) {
		*overflow = true;
		*nr = 0;
	} else {
		*overflow = false;
		*nr = entries;
		if (!vnet_ctrl_data(r, *off, table, (size_t)bytes))
			return false;
	}
	*off += (size_t)bytes;
	return true;
}

/* §5.1.6.5.2: a unicast table then a multicast table; parsed whole before the filter changes. */
static uint8_t vnet_ctrl_mac_table_set(struct vnet *n, const struct vnet_ctrl *r)
{
	struct vnet_filter *f = &n->filter;
	uint8_t uni[VNET_MAC_TABLE_ENTRIES][ETH_ALEN], multi[VNET_MAC_TABLE_ENTRIES][ETH_ALEN];
	unsigned int nr_uni, nr_multi;
	bool uni_over, multi_over;
	size_t off = 0;

	if (!vnet_ctrl_mac_table(r, &off, uni, &nr_uni, &uni_over) ||
	    !vnet_ctrl_mac_table(r, &off, multi, &nr_multi, &multi_over) || off != r->len)
		return VIRTIO_NET_ERR;
	memcpy(f->uni, uni, sizeof(uni));
	memcpy(f->multi, multi, sizeof(multi));
	f->nr_uni = nr_uni;
	f->nr_multi = nr_multi;
	f->uni_overflow = uni_over;
	f->multi_overflow = multi_over;
	return VIRTIO_NET_OK;
}

static uint8_t vnet_ctrl_mac_addr_set(struct vnet *n, const struct vnet_ctrl *r)
{
	uint8_t mac[ETH_ALEN];

	if (r->len != ETH_ALEN || !vnet_ctrl_data(r, 0, mac, ETH_ALEN))
		return VIRTIO_NET_ERR;
	memcpy(n->cfg.mac, mac, ETH_ALEN);
	return VIRTIO_NET_OK;
}

/*
 * Pairs [k, old) stop being serviced (what they hold waits, should they
 * come back), pairs [old, k) start; the fds follow.  Frames the driver
 * queued on a new pair before the switch are sent from resume_fd.
 */
static void vnet_set_active_pairs(struct vnet *n, unsigned int k)
{
	unsigned int i;

	for (i = n->active_pairs; i < k; i++) {
		vq_notify_off(&n->vdev.vq[vnet_rxq(&n->pair[i])]);
		n->pair[i].tx_more = true;
	}
	if (k > n->active_pairs)
		vnet_schedule_resume(n);
	n->active_pairs = k;
	vnet_watch_all(n);
}

/* §5.1.6.5.5: le16 virtqueue_pairs, 1 .. max_virtqueue_pairs. */
static uint8_t vnet_ctrl_mq(struct vnet *n, const struct vnet_ctrl *r)
{
	uint16_t k;
	int ret;

	if (r->len != sizeof(k) || !vnet_ctrl_data(r, 0, &k, sizeof(k)))
		return VIRTIO_NET_ERR;
	k = le16toh(k);
	/* GUEST: the number of pairs, within what the device offered. */
	if (k < 1 || k > n->max_pairs)
		return VIRTIO_NET_ERR;
	if (n->be->ops && n->be->ops->set_queue_pairs) {
		ret = n->be->ops->set_queue_pairs(n->be, k);
		if (ret) {
			virtio_warn(&n->vdev, "%s: %s: cannot use %u queue pairs: %s", n->vdev.ops->name,
				n->be->name, (unsigned int)k, strerror(-ret));
			return VIRTIO_NET_ERR;
		}
	}
	vnet_set_active_pairs(n, k);
	return VIRTIO_NET_OK;
}

/* §5.1.6.5.6.1: le64 offloads, a subset of the negotiated GUEST_* features. */
static uint8_t vnet_ctrl_offloads(struct vnet *n, const struct vnet_ctrl *r)
{
	uint64_t offloads;
	int ret;

	if (r->len != sizeof(offloads) || !vnet_ctrl_data(r, 0, &offloads, sizeof(offloads)))
		return VIRTIO_NET_ERR;
	offloads = le64toh(offloads);
	/* GUEST: only receive offloads the driver negotiated. */
	if (offloads & ~(n->vdev.features & VNET_GUEST_OFFLOADS))
		return VIRTIO_NET_ERR;
	ret = vnet_set_offload(n, offloads);
	if (ret) {
		virtio_warn(&n->vdev, "%s: %s: cannot set offloads 0x%" PRIx64 ": %s", n->vdev.ops->name,
			n->be->name, offloads, strerror(-ret));
		return VIRTIO_NET_ERR;
	}
	return VIRTIO_NET_OK;
}

/* Runs one command; each class only with the feature that introduces it. */
static uint8_t vnet_ctrl_exec(struct vnet *n, uint8_t class, uint8_t cmd, const struct vnet_ctrl *r)
{
	const struct virtio_dev *d = &n->vdev;

	switch (class) {
	case VIRTIO_NET_CTRL_RX:
		if (virtio_has_feature(d, VIRTIO_NET_F_CTRL_RX))
			return vnet_ctrl_rx_mode(n, cmd, r);
		break;
	case VIRTIO_NET_CTRL_MAC:
		if (cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET && virtio_has_feature(d, VIRTIO_NET_F_CTRL_RX))
			return vnet_ctrl_mac_table_set(n, r);
		if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET &&
		    virtio_has_feature(d, VIRTIO_NET_F_CTRL_MAC_ADDR))
			return vnet_ctrl_mac_addr_set(n, r);
		break;
	case VIRTIO_NET_CTRL_MQ:
		if (cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET && virtio_has_feature(d, VIRTIO_NET_F_MQ))
			return vnet_ctrl_mq(n, r);
		break;
	case VIRTIO_NET_CTRL_GUEST_OFFLOADS:
		if (cmd == VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET &&
		    virtio_has_feature(d, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS))
			return vnet_ctrl_offloads(n, r);
		break;
	}
	return VIRTIO_NET_ERR;
}

/*
 * One command in n->chain: u8 class, u8 command, data (readable), u8 ack
 * (the last writable byte).  Returns the used length: 1 with an ack, 0 for
 * a chain with no writable byte to put it in.
 */
static uint32_t vnet_ctrl_one(struct vnet *n, unsigned int q)
{
	const struct vq_chain *c = &n->ctrl_chain;
	struct vnet_ctrl r = { .c = c };
	uint8_t hdr[2], ack = VIRTIO_NET_ERR;

	/* GUEST: room for the ack, and a class and command to read. */
	if (c->in_len == 0) {
		vnet_bad_chain(n, q, c->head, "control command without a writable ack byte");
		return 0;
	}
	if (c->out_len < sizeof(hdr)) {
		vnet_bad_chain(n, q, c->head, "control command shorter than class and command");
	} else {
		vq_chain_read(c, 0, hdr, sizeof(hdr));
		r.len = c->out_len - sizeof(hdr);
		ack = vnet_ctrl_exec(n, hdr[0], hdr[1], &r);
		if (ack != VIRTIO_NET_OK)
			hv_info_limited(&n->vdev.log, n->vdev.label,
					"%s: control command class %u command %u refused",
					n->vdev.ops->name, (unsigned int)hdr[0], (unsigned int)hdr[1]);
	}
	vq_chain_write(c, c->in_len - 1, &ack, 1);
	return 1;
}

void vnet_ctrl(struct vnet *n)
{
	unsigned int q = vnet_ctrlq(n);
	struct virtqueue *vq = &n->vdev.vq[q];
	unsigned int budget = VNET_CTRL_BUDGET;
	bool pushed = false;
	int ret = 0;

	n->ctrl_more = false;
	if (!vnet_running(n) || !vq->ready)
		return;
	while (budget && (ret = vq_pop(vq, &n->ctrl_chain)) > 0) {
		vq_push(vq, n->ctrl_chain.head, vnet_ctrl_one(n, q));
		pushed = true;
		budget--;
	}
	if (ret < 0)
		virtio_needs_reset(&n->vdev);
	else if (budget == 0) {
		n->ctrl_more = true;
		vnet_schedule_resume(n);
	}
	if (pushed)
		virtio_used(&n->vdev, q);
}
