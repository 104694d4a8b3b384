/* test_tap.c: the TAP backend on a real TAP (root and /dev/net/tun needed, else skipped). */
#include "tests/unit/cmocka_inc.h"

#include <arpa/inet.h>
#include <cap-ng.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/tap.h"

#define ETHERTYPE_TEST	0x88b5		/* IEEE 802 local experimental */

static char tap_name[IFNAMSIZ];

/* Skips the test unless this process may create TAP devices. */
static void need_tap(void)
{
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
		skip();
	capng_get_caps_process();
	if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN))
		skip();
}

static struct net_backend *open_tap(unsigned int pairs)
{
	struct net_backend *be = NULL;
	char err[256] = "";
	int ret;

	snprintf(tap_name, sizeof(tap_name), "hvt-%d", (int)getpid() % 1000000);
	assert_int_equal(if_nametoindex(tap_name), 0);
	struct tap_config cfg = { .queue_pairs = pairs };

	snprintf(cfg.ifname, sizeof(cfg.ifname), "%s", tap_name);
	ret = tap_open(&cfg, &be, err, sizeof(err));
	if (ret == -EPERM || ret == -EACCES || ret == -ENOENT || ret == -ENODEV) {
		/* A container without a usable tun: not a failure of the code under test. */
		print_message("cannot create a TAP here: %s\n", err);
		skip();
	}
	assert_int_equal(ret, 0);
	assert_non_null(be);
	return be;
}

static void make_frame(uint8_t *f, size_t len, const uint8_t *dst, const uint8_t *src, uint8_t seed)
{
	size_t i;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETHERTYPE_TEST >> 8;
	f[13] = ETHERTYPE_TEST & 0xff;
	for (i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i);
}

/* An AF_PACKET socket on the TAP, for our test ethertype only. */
static int packet_socket(unsigned int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETHERTYPE_TEST),
		.sll_ifindex = (int)ifindex,
	};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETHERTYPE_TEST));

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return s;
}

/* Waits up to a second for fd to be readable. */
static bool wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 1000) == 1;
}

static void test_create_and_destroy(void **state)
{
	struct net_backend *be;

	(void)state;
	need_tap();
	be = open_tap(1);
	assert_string_equal(be->name, tap_name);
	assert_int_equal(be->nr_queue_pairs, 1);
	assert_true(be->fds[0] >= 0);
	assert_int_equal(be->vnet_hdr_len, NET_VNET_HDR_LEN);
	/* Any kernel since 2.6.27 takes checksum offload. */
	assert_true(be->tun_offloads & TUN_F_CSUM);
	assert_true(if_nametoindex(tap_name) != 0);
	assert_true(be->ops->link_up(be));		/* created, then brought up */
	assert_int_equal(be->ops->set_offload(be, TUN_F_CSUM | TUN_F_TSO4), 0);
	assert_int_equal(be->ops->set_offload(be, 0), 0);
	be->ops->destroy(be);
	/* Not persistent: gone with its fds. */
	assert_int_equal(if_nametoindex(tap_name), 0);
}

static void test_frames_both_ways(void **state)
{
	static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	static const uint8_t host_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	struct net_backend *be;
	uint8_t frame[100], buf[NET_VNET_HDR_LEN + 200], zero[NET_VNET_HDR_LEN] = { 0 };
	unsigned int ifindex;
	struct sockaddr_ll to;
	bool found = false;
	int s, i;

	(void)state;
	need_tap();
	be = open_tap(1);
	ifindex = if_nametoindex(tap_name);
	s = packet_socket(ifindex);

	/* Guest -> host: a header and a frame written to the TAP arrive on the interface. */
	make_frame(frame, sizeof(frame), host_mac, guest_mac, 1);
	memcpy(buf, zero, sizeof(zero));
	memcpy(buf + NET_VNET_HDR_LEN, frame, sizeof(frame));
	assert_int_equal(write(be->fds[0], buf, NET_VNET_HDR_LEN + sizeof(frame)),
			 NET_VNET_HDR_LEN + sizeof(frame));
	assert_true(wait_readable(s));
	assert_int_equal(recv(s, buf, sizeof(buf), 0), sizeof(frame));
	assert_memory_equal(buf, frame, sizeof(frame));

	/* Host -> guest: a frame sent on the interface is read from the TAP, header first. */
	make_frame(frame, sizeof(frame), guest_mac, host_mac, 2);
	memset(&to, 0, sizeof(to));
	to.sll_family = AF_PACKET;
	to.sll_ifindex = (int)ifindex;
	to.sll_halen = 6;
	memcpy(to.sll_addr, guest_mac, 6);
	assert_int_equal(sendto(s, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to)),
			 sizeof(frame));
	/* The kernel may queue its own frames first (IPv6 neighbour discovery): skip them. */
	for (i = 0; i < 20 && !found && wait_readable(be->fds[0]); i++) {
		ssize_t n = read(be->fds[0], buf, sizeof(buf));

		if (n == (ssize_t)(NET_VNET_HDR_LEN + sizeof(frame)) &&
		    memcmp(buf + NET_VNET_HDR_LEN, frame, sizeof(frame)) == 0)
			found = true;
	}
	assert_true(found);
	close(s);
	be->ops->destroy(be);
}

static void test_multi_queue(void **state)
{
	struct net_backend *be;

	(void)state;
	need_tap();
	be = open_tap(2);
	assert_int_equal(be->nr_queue_pairs, 2);
	assert_true(be->fds[1] >= 0);
	assert_int_equal(be->ops->set_queue_pairs(be, 1), 0);
	assert_int_equal(be->ops->set_queue_pairs(be, 1), 0);	/* no change: no error */
	assert_int_equal(be->ops->set_queue_pairs(be, 2), 0);
	assert_int_equal(be->ops->set_queue_pairs(be, 3), -EINVAL);
	assert_int_equal(be->ops->set_offload(be, TUN_F_CSUM), 0);
	be->ops->destroy(be);
	assert_int_equal(if_nametoindex(tap_name), 0);
}

static void test_bad_arguments(void **state)
{
	struct net_backend *be = NULL;
	struct tap_config empty = { "", 1 }, slash = { "a/b", 1 }, no_pairs = { "tap0", 0 };
	struct tap_config many = { "tap0", NET_MAX_QUEUE_PAIRS + 1 }, longname = { .queue_pairs = 1 };
	char err[256];

	(void)state;
	memset(longname.ifname, 'a', sizeof(longname.ifname));	/* no room for the NUL */
	assert_int_equal(tap_open(&empty, &be, err, sizeof(err)), -EINVAL);
	assert_int_equal(tap_open(&slash, &be, err, sizeof(err)), -EINVAL);
	assert_int_equal(tap_open(&longname, &be, err, sizeof(err)), -EINVAL);
	assert_int_equal(tap_open(&no_pairs, &be, err, sizeof(err)), -EINVAL);
	assert_int_equal(tap_open(&many, &be, err, sizeof(err)), -EINVAL);
	assert_null(be);
}

/* Without CAP_NET_ADMIN a missing TAP is not created: -EPERM and how to create it. */
static void test_missing_without_cap(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	need_tap();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct net_backend *be = NULL;
		struct tap_config cfg = { .queue_pairs = 1 };
		char *name = cfg.ifname, err[512] = "";
		int ret;

		capng_clear(CAPNG_SELECT_BOTH);
		if (capng_apply(CAPNG_SELECT_BOTH) != 0)
			_exit(2);
		snprintf(name, sizeof(cfg.ifname), "hvx-%d", (int)getpid() % 1000000);
		ret = tap_open(&cfg, &be, err, sizeof(err));
		if (ret != -EPERM)
			_exit(3);
		if (!strstr(err, "ip tuntap add mode tap dev") || !strstr(err, name) ||
		    !strstr(err, "CAP_NET_ADMIN"))
			_exit(4);
		if (if_nametoindex(name) != 0)
			_exit(5);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_create_and_destroy),
		cmocka_unit_test(test_frames_both_ways),
		cmocka_unit_test(test_multi_queue),
		cmocka_unit_test(test_missing_without_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
