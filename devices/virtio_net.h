/* virtio_net.h: the virtio network device (virtio 1.2 §5.1) over a backend (net/backend.h). */
#ifndef DEV_VIRTIO_NET_H
#define DEV_VIRTIO_NET_H

#include <stdint.h>

#include "devices/virtio/virtio.h"
#include "hv/base/event_loop.h"
#include "hv/base/guest_mem.h"
#include "net/backend.h"

/* Feature bits (§5.1.3). */
#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU		3
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_GUEST_UFO		10
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_HOST_UFO		14
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_CTRL_RX		18
#define VIRTIO_NET_F_CTRL_VLAN		19
#define VIRTIO_NET_F_CTRL_RX_EXTRA	20
#define VIRTIO_NET_F_GUEST_ANNOUNCE	21
#define VIRTIO_NET_F_MQ			22
#define VIRTIO_NET_F_CTRL_MAC_ADDR	23
#define VIRTIO_NET_F_GUEST_USO4		54
#define VIRTIO_NET_F_GUEST_USO6		55
#define VIRTIO_NET_F_HOST_USO		56

/* Config status bits (§5.1.4). */
#define VIRTIO_NET_S_LINK_UP		1
#define VIRTIO_NET_S_ANNOUNCE		2

/* The device configuration layout (§5.1.4), little-endian; hvrun fills mac, status, max pairs. */
struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

/* The header in front of every frame (§5.1.6), 12 bytes with VERSION_1. */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_F_DATA_VALID	2
#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1
#define VIRTIO_NET_HDR_GSO_UDP		3
#define VIRTIO_NET_HDR_GSO_TCPV6	4
#define VIRTIO_NET_HDR_GSO_UDP_L4	5
#define VIRTIO_NET_HDR_GSO_ECN		0x80
struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

/* Control queue (§5.1.6.5): classes, commands, acks. */
#define VIRTIO_NET_OK			0
#define VIRTIO_NET_ERR			1
#define VIRTIO_NET_CTRL_RX		0
#define  VIRTIO_NET_CTRL_RX_PROMISC	0
#define  VIRTIO_NET_CTRL_RX_ALLMULTI	1
#define  VIRTIO_NET_CTRL_RX_ALLUNI	2
#define  VIRTIO_NET_CTRL_RX_NOMULTI	3
#define  VIRTIO_NET_CTRL_RX_NOUNI	4
#define  VIRTIO_NET_CTRL_RX_NOBCAST	5
#define VIRTIO_NET_CTRL_MAC		1
#define  VIRTIO_NET_CTRL_MAC_TABLE_SET	0
#define  VIRTIO_NET_CTRL_MAC_ADDR_SET	1
#define VIRTIO_NET_CTRL_VLAN		2
#define VIRTIO_NET_CTRL_ANNOUNCE	3
#define VIRTIO_NET_CTRL_MQ		4
#define  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS	5
#define  VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET 0

/* PCI class: network controller, Ethernet (lspci: "Ethernet controller: Red Hat, Inc. Virtio 1.0 network device"). */
#define VNET_PCI_CLASS			0x020000

/* Per-device counters (issue 6's stats read them; benchmarks too). */
struct vnet_stats {
	uint64_t rx_frames, rx_bytes, rx_dropped;	/* backend -> guest; dropped: filtered or no room */
	uint64_t tx_frames, tx_bytes, tx_errors;	/* guest -> backend */
	uint64_t backend_reads, backend_writes;		/* read()/writev() calls on the backend fds */
};

/*
 * Creates the device on backend be with MAC mac, max_pairs queue pairs
 * (capped by be->nr_queue_pairs and NET_MAX_QUEUE_PAIRS; MQ offered when > 1)
 * plus the control queue.  Offers the backend's offloads, MRG_RXBUF, STATUS,
 * CTRL_VQ/RX/MAC_ADDR/GUEST_OFFLOADS, EVENT_IDX, INDIRECT_DESC.  RX and TX run
 * on loop's thread.  The device borrows be: the caller destroys it after the
 * device (a backend outlives a guest reboot).  0 or -errno.
 */
int vnet_create(const struct guest_mem *mem, struct ev_loop *loop, struct net_backend *be,
		const uint8_t mac[6], unsigned int max_pairs, struct virtio_dev **out);

/* A copy of the device's counters; d->lock held (hv/stats.c takes it without waiting long). */
void vnet_get_stats(struct virtio_dev *d, struct vnet_stats *out);

/* The device table's configuration: vnet_create()'s arguments. */
struct vnet_options {
	struct net_backend *be;		/* borrowed */
	const uint8_t *mac;		/* 6 bytes */
	unsigned int max_pairs;
};

/* The device table's line: net0, net1, ...; counters "net" and "backend". */
extern const struct virtio_device_desc vnet_device;

#endif
