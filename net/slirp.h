/* slirp.h: user-mode networking (libslirp): the guest on 10.0.2.0/24, NAT to the host, port forwards. */
#ifndef NET_SLIRP_H
#define NET_SLIRP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/backend.h"

#define SLIRP_MAX_HOSTFWD	16		/* port forwards per instance */

/* A port forward: hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT */
struct slirp_hostfwd {
	bool udp;
	uint32_t host_addr;	/* network order; 0: any (QEMU binds 0.0.0.0 too) */
	uint16_t host_port;
	uint32_t guest_addr;	/* network order; 0: the first DHCP address, 10.0.2.15 */
	uint16_t guest_port;
};

/* What one user-mode network is made of (--net user,...: hv/options.c fills it). */
struct slirp_config {
	struct slirp_hostfwd fwd[SLIRP_MAX_HOSTFWD];
	unsigned int nr_fwd;
};

/*
 * Starts a libslirp instance on its own thread, QEMU's user-mode addresses:
 * network 10.0.2.0/24, gateway/host 10.0.2.2, DNS 10.0.2.3, DHCP from
 * 10.0.2.15; IPv6 fec0::/64 as QEMU.  Every forward of cfg->fwd is bound
 * now (before privileges are dropped): a port that is taken is an error.
 * The device side is fds[0], one end of an AF_UNIX SOCK_DGRAM socketpair
 * (one datagram = one bare Ethernet frame, vnet_hdr_len 0), the slirp thread
 * holds the other end.  0 or -errno with a one-line reason in err.
 */
int slirp_open(const struct slirp_config *cfg, struct net_backend **out, char *err, size_t errlen);

#endif
