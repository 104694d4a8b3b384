/* test_slirp.c: user-mode networking through the device's fd: DHCP, ARP, a port forward, errors, teardown. */
#include "tests/unit/cmocka_inc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hv/options.h"
#include "net/backend.h"
#include "net/slirp.h"

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
#define GUEST_IP	0x0a00020f	/* 10.0.2.15 */
#define HOST_IP		0x0a000202	/* 10.0.2.2 */
#define DNS_IP		0x0a000203	/* 10.0.2.3 */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

/* A port nobody listens on right now (bind to 0, read it back, close). */
static uint16_t free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static size_t eth_header(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, type);
	return 14;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < len; i += 2)
		sum += get16(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The first DHCP message of a booting guest: DHCPDISCOVER, broadcast, from 0.0.0.0:68. */
static size_t dhcp_discover(uint8_t *f)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *ip = f + 14, *udp = ip + 20, *bootp = udp + 8, *opt;
	size_t bootp_len = 236 + 312;	/* libslirp wants the whole classic BOOTP size */

	memset(f, 0, 14 + 20 + 8 + bootp_len);
	eth_header(f, bcast, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 8 + bootp_len));
	ip[8] = 64;			/* TTL */
	ip[9] = 17;			/* UDP */
	put32(ip + 16, 0xffffffff);
	put16(ip + 10, ip_checksum(ip, 20));
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, (uint16_t)(8 + bootp_len));	/* checksum 0: none */
	bootp[0] = 1;			/* BOOTREQUEST */
	bootp[1] = 1;			/* Ethernet */
	bootp[2] = 6;
	put32(bootp + 4, 0x12345678);	/* xid */
	memcpy(bootp + 28, guest_mac, 6);
	opt = bootp + 236;
	put32(opt, 0x63825363);		/* magic cookie */
	opt[4] = 53; opt[5] = 1; opt[6] = 1;	/* DHCP message type: DISCOVER */
	opt[7] = 255;
	return 14 + 20 + 8 + bootp_len;
}

/* ARP who-has 10.0.2.2 tell 10.0.2.15. */
static size_t arp_request(uint8_t *f)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *a = f + 14;

	memset(f, 0, 60);
	eth_header(f, bcast, 0x0806);
	put16(a, 1);			/* Ethernet */
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);		/* request */
	memcpy(a + 8, guest_mac, 6);
	put32(a + 14, GUEST_IP);
	put32(a + 24, HOST_IP);
	return 60;
}

typedef bool (*frame_match)(const uint8_t *f, size_t len, void *arg);

/* Reads frames from the device's fd until one matches (true) or 5 seconds pass (false). */
static bool wait_frame(int fd, frame_match match, void *arg)
{
	struct timespec start, now;
	uint8_t f[65536];

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= 5)
			return false;
		if (poll(&p, 1, 200) <= 0)
			continue;
		n = recv(fd, f, sizeof(f), MSG_DONTWAIT);
		if (n > 0 && match(f, (size_t)n, arg))
			return true;
	}
}

/* An IPv4 frame to the guest: the IP header, or NULL. */
static const uint8_t *ipv4(const uint8_t *f, size_t len, uint8_t proto)
{
	if (len < 14 + 20 || get16(f + 12) != 0x0800 || (f[14] >> 4) != 4 || f[14 + 9] != proto)
		return NULL;
	return f + 14;
}

/* Finds a DHCP option; NULL if absent. */
static const uint8_t *dhcp_option(const uint8_t *opt, const uint8_t *end, uint8_t code)
{
	while (opt + 2 <= end && *opt != 255) {
		if (*opt == 0) {
			opt++;
			continue;
		}
		if (*opt == code && opt + 2 + opt[1] <= end)
			return opt;
		opt += 2 + opt[1];
	}
	return NULL;
}

static bool is_dhcp_offer(const uint8_t *f, size_t len, void *arg)
{
	const uint8_t *ip = ipv4(f, len, 17), *udp, *bootp, *end = f + len, *o;

	(void)arg;
	if (!ip)
		return false;
	udp = ip + (ip[0] & 15) * 4;
	bootp = udp + 8;
	if (bootp + 240 > end || get16(udp) != 67 || get16(udp + 2) != 68 || bootp[0] != 2)
		return false;
	assert_int_equal(get32(bootp + 4), 0x12345678);		/* our xid */
	assert_memory_equal(bootp + 28, guest_mac, 6);
	assert_true(get32(bootp + 16) == GUEST_IP);			/* yiaddr 10.0.2.15 */
	o = dhcp_option(bootp + 240, end, 53);
	assert_non_null(o);
	assert_int_equal(o[2], 2);					/* DHCPOFFER */
	o = dhcp_option(bootp + 240, end, 3);
	assert_non_null(o);
	assert_true(get32(o + 2) == HOST_IP);				/* router 10.0.2.2 */
	o = dhcp_option(bootp + 240, end, 6);
	assert_non_null(o);
	assert_true(get32(o + 2) == DNS_IP);				/* DNS 10.0.2.3 */
	return true;
}

static bool is_arp_reply(const uint8_t *f, size_t len, void *arg)
{
	const uint8_t *a = f + 14;

	(void)arg;
	if (len < 14 + 28 || get16(f + 12) != 0x0806 || get16(a + 6) != 2)
		return false;
	assert_memory_equal(f, guest_mac, 6);
	assert_true(get32(a + 14) == HOST_IP);	/* 10.0.2.2 is at ... */
	assert_memory_equal(a + 18, guest_mac, 6);
	assert_true(get32(a + 24) == GUEST_IP);
	return true;
}

static bool is_syn_to(const uint8_t *f, size_t len, void *arg)
{
	const uint8_t *ip = ipv4(f, len, 6), *tcp;
	uint16_t port = *(uint16_t *)arg;

	if (!ip)
		return false;
	tcp = ip + (ip[0] & 15) * 4;
	if (tcp + 20 > f + len || get32(ip + 16) != GUEST_IP || get16(tcp + 2) != port)
		return false;
	assert_memory_equal(f, guest_mac, 6);
	assert_int_equal(tcp[13] & 0x12, 0x02);	/* SYN, no ACK */
	return true;
}

/* Is a thread named net-user running in this process?  Its CapEff goes to *capeff. */
static bool net_user_thread(unsigned long long *capeff)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	bool found = false;

	assert_non_null(d);
	while (!found && (de = readdir(d)) != NULL) {
		char path[300], line[256];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
		f = de->d_name[0] == '.' ? NULL : fopen(path, "re");
		while (f && fgets(line, sizeof(line), f)) {
			if (!strcmp(line, "Name:\tnet-user\n"))
				found = true;
			if (found && !strncmp(line, "CapEff:", 7))
				*capeff = strtoull(line + 7, NULL, 16);
		}
		if (f)
			fclose(f);
	}
	closedir(d);
	return found;
}

static void test_dhcp_arp_and_forward(void **state)
{
	struct slirp_config nic = { .nr_fwd = 1 };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct net_backend *be = NULL;
	unsigned long long capeff = ~0ULL;
	uint16_t guest_port = 2222;
	uint8_t frame[1024];
	char err[256];
	int fd, c;

	(void)state;
	nic.fwd[0] = (struct slirp_hostfwd){ .host_addr = htonl(INADDR_LOOPBACK), .host_port = free_port(),
					  .guest_port = guest_port };
	assert_int_equal(slirp_open(&nic, &be, err, sizeof(err)), 0);
	assert_non_null(be);
	assert_string_equal(be->name, "user");
	assert_int_equal(be->nr_queue_pairs, 1);
	assert_int_equal(be->vnet_hdr_len, 0);
	assert_int_equal(be->tun_offloads, 0);
	assert_true(be->fds[0] >= 0);
	assert_non_null(be->ops);
	assert_non_null(be->ops->destroy);
	/* the thread that runs libslirp holds no capability, even when the test runs as root */
	assert_true(net_user_thread(&capeff));
	assert_true(capeff == 0);
	fd = be->fds[0];

	assert_true(send(fd, frame, dhcp_discover(frame), 0) > 0);
	assert_true(wait_frame(fd, is_dhcp_offer, NULL));
	assert_true(send(fd, frame, arp_request(frame), 0) > 0);
	assert_true(wait_frame(fd, is_arp_reply, NULL));

	/* A connection to the forwarded host port becomes a SYN to 10.0.2.15:2222. */
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c >= 0);
	to.sin_port = htons(nic.fwd[0].host_port);
	assert_true(connect(c, (struct sockaddr *)&to, sizeof(to)) == 0 || errno == EINPROGRESS);
	assert_true(wait_frame(fd, is_syn_to, &guest_port));
	close(c);

	be->ops->destroy(be);
	assert_false(net_user_thread(&capeff));		/* the thread is gone */
}

static void test_port_taken(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	struct slirp_config nic = { .nr_fwd = 2 };
	struct net_backend *be = NULL;
	char err[256], want[256];
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	{
		socklen_t len = sizeof(a);

		assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	}
	/* the first forward is fine, the second port is ours: nothing may be left running */
	nic.fwd[0] = (struct slirp_hostfwd){ .host_addr = htonl(INADDR_LOOPBACK), .host_port = free_port(),
					  .guest_port = 22 };
	nic.fwd[1] = (struct slirp_hostfwd){ .host_port = ntohs(a.sin_port), .guest_port = 22 };
	assert_int_equal(slirp_open(&nic, &be, err, sizeof(err)), -EADDRINUSE);
	snprintf(want, sizeof(want), "hostfwd tcp:%u-:22: cannot listen on port %u: Address already "
		 "in use", ntohs(a.sin_port), ntohs(a.sin_port));
	assert_string_equal(err, want);
	assert_null(be);
	close(fd);
}

/* Two instances side by side, opened and closed quickly: no thread or fd is left behind. */
static void test_open_close(void **state)
{
	struct slirp_config nic = { 0 };
	struct net_backend *a = NULL, *b = NULL;
	unsigned long long capeff;
	char err[256];
	int i, fds_before = 0, fds_after = 0;
	DIR *d;

	(void)state;
	d = opendir("/proc/self/fd");
	while (d && readdir(d))
		fds_before++;
	closedir(d);
	for (i = 0; i < 5; i++) {
		assert_int_equal(slirp_open(&nic, &a, err, sizeof(err)), 0);
		assert_int_equal(slirp_open(&nic, &b, err, sizeof(err)), 0);
		assert_true(a->fds[0] != b->fds[0]);
		a->ops->destroy(a);
		b->ops->destroy(b);
	}
	assert_false(net_user_thread(&capeff));
	d = opendir("/proc/self/fd");
	while (d && readdir(d))
		fds_after++;
	closedir(d);
	assert_int_equal(fds_after, fds_before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dhcp_arp_and_forward),
		cmocka_unit_test(test_port_taken),
		cmocka_unit_test(test_open_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
