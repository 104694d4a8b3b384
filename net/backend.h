/* backend.h: what virtio-net sends frames to and receives them from (a TAP, user-mode networking). */
#ifndef NET_BACKEND_H
#define NET_BACKEND_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

/* Queue pairs a backend may offer (TAP with IFF_MULTI_QUEUE: one fd per pair). */
#define NET_MAX_QUEUE_PAIRS	8

/* The virtio-net header the TAP speaks with TUNSETVNETHDRSZ 12 (virtio 1.2 §5.1.6, VERSION_1). */
#define NET_VNET_HDR_LEN	12

struct net_backend;

/*
 * Optional callbacks; each may be NULL.  They run on the device's I/O thread
 * with the device lock held, after hvrun dropped its privileges: nothing in
 * them may need a capability.
 */
struct net_backend_ops {
	/*
	 * The frames the backend hands the device may use these offloads, as
	 * TUN_F_* flags (<linux/if_tun.h>: CSUM, TSO4/6, TSO_ECN, UFO, USO4/6;
	 * the guest negotiated them, devices/virtio_net.c maps its features to
	 * them).  A TAP passes them to TUNSETOFFLOAD.  0 or -errno.
	 */
	int (*set_offload)(struct net_backend *b, unsigned int tun_flags);

	/*
	 * MQ: the guest uses queue pairs [0, n) (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET).
	 * A TAP detaches the fds of the other pairs (TUNSETQUEUE) so that the
	 * kernel does not steer frames to queues nobody reads.  0 or -errno.
	 */
	int (*set_queue_pairs)(struct net_backend *b, unsigned int n);

	/* Is the host side up (the TAP exists and is IFF_UP)?  Polled about once a second. */
	bool (*link_up)(struct net_backend *b);

	/* Closes the fds, stops threads, removes a TAP hvrun created. */
	void (*destroy)(struct net_backend *b);
};

/*
 * A backend is a set of non-blocking, frame-preserving file descriptors, one
 * per queue pair: one read() returns one Ethernet frame, one write()/writev()
 * sends one.  With vnet_hdr_len == NET_VNET_HDR_LEN each frame is preceded by
 * a struct virtio_net_hdr_v1 (both ways); with 0 the frames are bare and the
 * device offers no offloads.  Opened before hvrun drops its privileges; the
 * device (devices/virtio_net.c) only reads, writes and polls the fds.
 */
struct net_backend {
	const struct net_backend_ops *ops;
	char name[IFNAMSIZ];		/* "tap2", "user": for messages */
	unsigned int nr_queue_pairs;	/* fds[0 .. nr_queue_pairs) are valid, >= 1 */
	int fds[NET_MAX_QUEUE_PAIRS];
	uint32_t vnet_hdr_len;		/* 0 or NET_VNET_HDR_LEN */
	/*
	 * The offloads the backend can carry, as the TUN_F_* flags the host
	 * kernel's TAP accepts (TUNSETOFFLOAD); virtio-net offers the guest the
	 * features they make possible.  0 without a vnet header.
	 */
	unsigned int tun_offloads;
};

#endif
