/* tap.c: the TAP backend: /dev/net/tun with a 12-byte vnet header, offloads probed, one fd per queue pair. */
#include "net/tap.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/if_tun.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hv/base/log.h"

#define TUN_DEV		"/dev/net/tun"

struct tap {
	struct net_backend be;		/* first: a struct net_backend * is a struct tap * */
	bool created;			/* hvrun made it: it disappears with the last fd */
	bool multi_queue;		/* IFF_MULTI_QUEUE: fds can be detached (TUNSETQUEUE) */
	bool attached[NET_MAX_QUEUE_PAIRS];
	int ctl_sock;			/* for SIOCGIFFLAGS: the link poll */
};

/* TUNSETOFFLOAD flags beyond TUN_F_CSUM, in the order they are probed (TSO_ECN after TSO4/6). */
static const unsigned int tap_offloads[] = {
	TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN, TUN_F_UFO,
#ifdef TUN_F_USO4
	TUN_F_USO4, TUN_F_USO6,		/* Linux 6.2 and later: UDP segmentation */
#endif
};

static struct tap *to_tap(struct net_backend *b)
{
	return (struct tap *)b;
}

/* ---- the ops ---- */

/*
 * Offloads are a property of the interface, so fd 0 (always attached)
 * carries them for every queue.
 */
static int tap_set_offload(struct net_backend *b, unsigned int tun_flags)
{
	if (ioctl(b->fds[0], TUNSETOFFLOAD, (unsigned long)tun_flags) < 0)
		return -errno;
	return 0;
}

static int tap_queue(struct tap *t, unsigned int i, bool attach)
{
	struct ifreq ifr = { .ifr_flags = attach ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE };

	if (t->attached[i] == attach)
		return 0;	/* TUNSETQUEUE refuses a no-op with EINVAL */
	if (ioctl(t->be.fds[i], TUNSETQUEUE, &ifr) < 0)
		return -errno;
	t->attached[i] = attach;
	return 0;
}

static int tap_set_queue_pairs(struct net_backend *b, unsigned int n)
{
	struct tap *t = to_tap(b);
	unsigned int i;
	int ret;

	if (n < 1 || n > b->nr_queue_pairs)
		return -EINVAL;
	if (!t->multi_queue)
		return 0;	/* one queue, nothing to steer */
	for (i = 0; i < b->nr_queue_pairs; i++) {
		ret = tap_queue(t, i, i < n);
		if (ret)
			return ret;
	}
	return 0;
}

static bool tap_link_up(struct net_backend *b)
{
	struct tap *t = to_tap(b);
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", b->name);
	/* ENODEV: the interface was deleted under us. */
	if (ioctl(t->ctl_sock, SIOCGIFFLAGS, &ifr) < 0)
		return false;
	return (ifr.ifr_flags & IFF_UP) != 0;
}

static void tap_close(struct tap *t)
{
	unsigned int i;

	for (i = 0; i < NET_MAX_QUEUE_PAIRS; i++)
		if (t->be.fds[i] >= 0)
			close(t->be.fds[i]);
	if (t->ctl_sock >= 0)
		close(t->ctl_sock);
	free(t);
}

/* Closing the last fd removes a TAP hvrun created (it was never made persistent). */
static void tap_destroy(struct net_backend *b)
{
	struct tap *t = to_tap(b);

	if (t->created)
		hv_info("%s: removing the TAP hvrun created", b->name);
	tap_close(t);
}

static const struct net_backend_ops tap_ops = {
	.set_offload = tap_set_offload,
	.set_queue_pairs = tap_set_queue_pairs,
	.link_up = tap_link_up,
	.destroy = tap_destroy,
};

/* ---- opening ---- */

static bool tap_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

/* Creating a TAP takes CAP_NET_ADMIN (TUNSETIFF on a new name). */
static bool tap_may_create(void)
{
	if (capng_get_caps_process() != 0)
		return false;
	return capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN) != 0;
}

/* /sys/class/net/NAME/owner or group: the id, or -1 (none, or unreadable). */
static long tap_sysfs_id(const char *name, const char *what)
{
	char path[128], line[32];
	long id = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, what);
	f = fopen(path, "re");
	if (f) {
		if (fgets(line, sizeof(line), f))
			id = strtol(line, NULL, 10);
		fclose(f);
	}
	return id;
}

/* "user 1000 (alice)" or "no user", from /sys/class/net/NAME/owner or group (-1: none). */
static void tap_describe_id(const char *name, const char *what, char *out, size_t size)
{
	long id = tap_sysfs_id(name, what);

	if (id < 0) {
		snprintf(out, size, "no %s", strcmp(what, "owner") == 0 ? "user" : "group");
	} else if (strcmp(what, "owner") == 0) {
		const struct passwd *pw = getpwuid((uid_t)id);

		snprintf(out, size, "user %ld (%s)", id, pw ? pw->pw_name : "?");
	} else {
		const struct group *gr = getgrgid((gid_t)id);

		snprintf(out, size, "group %ld (%s)", id, gr ? gr->gr_name : "?");
	}
}

static int tap_fail_eperm(const char *name, char *err, size_t errlen)
{
	char user[96], group[96], hint[160] = "";
	long gid = tap_sysfs_id(name, "group");
	const struct group *gr = gid >= 0 ? getgrgid((gid_t)gid) : NULL;

	tap_describe_id(name, "owner", user, sizeof(user));
	tap_describe_id(name, "group", group, sizeof(group));
	/* The usual fix, spelled out with the TAP's own group when it has one. */
	if (gr)
		snprintf(hint, sizeof(hint), " (e.g. adduser $USER %s, then log in again)", gr->gr_name);
	return hv_fail(err, errlen, -EPERM,
		       "%s: permission denied: the TAP belongs to %s and %s; run hvrun as that "
		       "user or in that group%s", name, user, group, hint);
}

/* Opens /dev/net/tun and attaches it to TAP name with flags.  The fd, or -errno. */
static int tap_attach(const char *name, short flags)
{
	struct ifreq ifr = { .ifr_flags = flags };
	int fd, ret;

	fd = open(TUN_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* The vnet header: 12 bytes (VERSION_1), little-endian. */
static int tap_setup_fd(int fd)
{
	int hdr = NET_VNET_HDR_LEN, le = 1;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		return -errno;
	/*
	 * virtio 1.x headers are little-endian.  On a little-endian host the
	 * TAP uses that order anyway; TUNSETVNETLE says so on any host.
	 */
	if (ioctl(fd, TUNSETVNETLE, &le) < 0 && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
		return -errno;
	return 0;
}

/*
 * Which offloads the TAP accepts: TUN_F_CSUM first (the others build on it),
 * then each flag added to those accepted so far (the kernel takes TSO_ECN
 * only with TSO4 or TSO6); EINVAL means this kernel does not know the flag.
 * Then everything off again until a guest negotiates.
 */
static unsigned int tap_probe_offloads(int fd)
{
	unsigned int accepted = TUN_F_CSUM;
	size_t i;

	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)accepted) < 0)
		return 0;
	for (i = 0; i < sizeof(tap_offloads) / sizeof(tap_offloads[0]); i++)
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(accepted | tap_offloads[i])) == 0)
			accepted |= tap_offloads[i];
	ioctl(fd, TUNSETOFFLOAD, 0ul);
	return accepted;
}
/* A TAP we created starts down: bring it up, as "ip link set NAME up" would. */
static int tap_bring_up(struct tap *t)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->be.name);
	if (ioctl(t->ctl_sock, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(t->ctl_sock, SIOCSIFFLAGS, &ifr) < 0)
		return -errno;
	return 0;
}

static int tap_open_error(const char *name, bool exists, int ret, char *err, size_t errlen)
{
	if (ret == -ENOENT || ret == -ENODEV)
		return hv_fail(err, errlen, ret, "%s: %s: %s (is the tun module loaded? modprobe tun)",
			       name, TUN_DEV, strerror(-ret));
	if (ret == -EACCES)
		return hv_fail(err, errlen, ret, "%s: %s: %s", name, TUN_DEV, strerror(-ret));
	if (ret == -EPERM && exists)
		return tap_fail_eperm(name, err, errlen);
	if (ret == -EBUSY)
		return hv_fail(err, errlen, ret, "%s: the TAP is in use by another program", name);
	if (ret == -EINVAL && exists)
		return hv_fail(err, errlen, ret, "%s: not a TAP device (a TUN, or another kind of "
			       "interface?)", name);
	return hv_fail(err, errlen, ret, "%s: TUNSETIFF: %s", name, strerror(-ret));
}

/*
 * Attaches fd 0; a TAP made single-queue refuses IFF_MULTI_QUEUE with EINVAL
 * (and a multi-queue one refuses its absence): then the other mode.
 */
static int tap_attach_first(struct tap *t, bool exists, unsigned int *pairs)
{
	short flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	bool mq = *pairs > 1;
	int fd;

	fd = tap_attach(t->be.name, (short)(flags | (mq ? IFF_MULTI_QUEUE : 0)));
	if (fd == -EINVAL && exists) {
		mq = !mq;
		fd = tap_attach(t->be.name, (short)(flags | (mq ? IFF_MULTI_QUEUE : 0)));
	}
	if (fd < 0)
		return fd;
	t->multi_queue = mq;
	if (!mq && *pairs > 1) {
		/* Not a warning: one pair per vCPU is only a default; nr_queue_pairs tells the caller. */
		hv_info("%s: a single-queue TAP: 1 queue pair instead of %u "
			"(ip tuntap add ... multi_queue for more)", t->be.name, *pairs);
		*pairs = 1;
	}
	return fd;
}

static int tap_open_fds(struct tap *t, bool exists, unsigned int pairs, char *err, size_t errlen)
{
	unsigned int i;
	int fd, ret;

	fd = tap_attach_first(t, exists, &pairs);
	if (fd < 0)
		return tap_open_error(t->be.name, exists, fd, err, errlen);
	t->be.fds[0] = fd;
	t->attached[0] = true;
	t->created = !exists;
	for (i = 1; i < pairs; i++) {
		fd = tap_attach(t->be.name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE);
		if (fd < 0)
			return hv_fail(err, errlen, fd, "%s: queue %u: TUNSETIFF: %s", t->be.name, i,
				       strerror(-fd));
		t->be.fds[i] = fd;
		t->attached[i] = true;
	}
	t->be.nr_queue_pairs = pairs;
	for (i = 0; i < pairs; i++) {
		ret = tap_setup_fd(t->be.fds[i]);
		if (ret)
			return hv_fail(err, errlen, ret, "%s: vnet header: %s", t->be.name,
				       strerror(-ret));
	}
	return 0;
}

/* A TAP we create gets our uid as owner, so that TUNSETQUEUE still works after privileges go. */
static int tap_finish_created(struct tap *t, char *err, size_t errlen)
{
	int ret;

	if (ioctl(t->be.fds[0], TUNSETOWNER, (unsigned long)geteuid()) < 0)
		return hv_fail(err, errlen, -errno, "%s: TUNSETOWNER: %s", t->be.name,
			       strerror(errno));
	ret = tap_bring_up(t);
	if (ret)
		return hv_fail(err, errlen, ret, "%s: cannot bring the new TAP up: %s", t->be.name,
			       strerror(-ret));
	hv_info("%s: created a TAP (removed when hvrun exits)", t->be.name);
	return 0;
}

static bool tap_name_ok(const char *name)
{
	size_t len = strnlen(name, IFNAMSIZ);

	return len > 0 && len < IFNAMSIZ && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..") && !strpbrk(name, " \t\n:");
}

int tap_open(const struct tap_config *cfg, struct net_backend **out, char *err, size_t errlen)
{
	const char *ifname = cfg->ifname;
	unsigned int queue_pairs = cfg->queue_pairs;
	struct tap *t;
	bool exists;
	unsigned int i;
	int ret;

	if (!tap_name_ok(ifname))
		return hv_fail(err, errlen, -EINVAL, "%.*s: not a valid interface name",
			       IFNAMSIZ, ifname);
	if (queue_pairs < 1 || queue_pairs > NET_MAX_QUEUE_PAIRS)
		return hv_fail(err, errlen, -EINVAL, "%s: %u queue pairs (1 to %d)", ifname,
			       queue_pairs, NET_MAX_QUEUE_PAIRS);
	exists = tap_exists(ifname);
	if (!exists && !tap_may_create())
		return hv_fail(err, errlen, -EPERM,
			       "%s: no such TAP device, and hvrun may not create one (no "
			       "CAP_NET_ADMIN); create it: ip tuntap add mode tap dev %s group kvm "
			       "&& ip link set %s up", ifname, ifname, ifname);
	t = calloc(1, sizeof(*t));
	if (!t)
		return hv_fail(err, errlen, -ENOMEM, "%s: out of memory", ifname);
	for (i = 0; i < NET_MAX_QUEUE_PAIRS; i++)
		t->be.fds[i] = -1;
	t->be.ops = &tap_ops;
	snprintf(t->be.name, sizeof(t->be.name), "%s", ifname);
	t->be.vnet_hdr_len = NET_VNET_HDR_LEN;
	t->ctl_sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (t->ctl_sock < 0) {
		ret = hv_fail(err, errlen, -errno, "%s: socket: %s", ifname, strerror(errno));
		goto fail;
	}
	ret = tap_open_fds(t, exists, queue_pairs, err, errlen);
	if (ret)
		goto fail;
	if (t->created) {
		ret = tap_finish_created(t, err, errlen);
		if (ret)
			goto fail;
	}
	t->be.tun_offloads = tap_probe_offloads(t->be.fds[0]);
	*out = &t->be;
	return 0;
fail:
	tap_close(t);
	return ret;
}
