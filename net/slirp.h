/* slirp.h: user-mode networking (libslirp): the guest on 10.0.2.0/24, NAT to the host, port forwards. */
#ifndef NET_SLIRP_H
#define NET_SLIRP_H

#include <stddef.h>

#include "hv/options.h"
#include "net/backend.h"

/*
 * Starts a libslirp instance on its own thread, QEMU's user-mode addresses:
 * network 10.0.2.0/24, gateway/host 10.0.2.2, DNS 10.0.2.3, DHCP from
 * 10.0.2.15; IPv6 fec0::/64 as QEMU.  Every forward of nic->fwd is bound
 * now (before privileges are dropped): a port that is taken is an error.
 * The device side is fds[0], one end of an AF_UNIX SOCK_DGRAM socketpair
 * (one datagram = one bare Ethernet frame, vnet_hdr_len 0), the slirp thread
 * holds the other end.  0 or -errno with a one-line reason in err.
 */
int slirp_open(const struct hv_nic *nic, struct net_backend **out, char *err, size_t errlen);

#endif
