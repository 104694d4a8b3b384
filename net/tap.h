/* tap.h: the TAP backend: a persistent TAP the guide made ("ip tuntap add ... group kvm"), or one hvrun creates. */
#ifndef NET_TAP_H
#define NET_TAP_H

#include <net/if.h>
#include <stddef.h>

#include "net/backend.h"

/* Which TAP, with how many queue pairs (-t NAME, --net tap=NAME: hv/options.c fills the name). */
struct tap_config {
	char ifname[IFNAMSIZ];		/* "tap2" */
	unsigned int queue_pairs;	/* 1 to NET_MAX_QUEUE_PAIRS (hv/host.c: queues= or one per vCPU) */
};

/*
 * Opens TAP cfg->ifname with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR (vnet header
 * 12 bytes, little-endian), cfg->queue_pairs fds with IFF_MULTI_QUEUE when
 * there are more than one (fewer if the TAP was made single-queue: then 1), each
 * O_NONBLOCK | O_CLOEXEC.  Probes which offloads TUNSETOFFLOAD accepts
 * (USO only on kernels that have it) into tun_offloads.
 *
 * A TAP that does not exist is created when the caller holds CAP_NET_ADMIN,
 * brought up, and removed when the backend is destroyed (it is not made
 * persistent); without the capability: -EPERM and a message saying how to
 * create it ("ip tuntap add mode tap dev tap2 group kvm && ip link set tap2 up")
 * or how to join the group that owns it.  0 or -errno with a one-line reason in err.
 */
int tap_open(const struct tap_config *cfg, struct net_backend **out, char *err, size_t errlen);

#endif
