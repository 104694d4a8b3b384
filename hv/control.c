/* control.c: the control socket: one JSON request per line in, one reply per line out, on its own thread. */
#include "hv/control.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "devices/virtio/virtio.h"
#include "devices/virtio_balloon.h"
#include "devices/virtio_blk.h"
#include "hv/event_loop.h"
#include "hv/log.h"
#include "hv/output.h"
#include "hv/sandbox.h"
#include "hv/platform.h"
#include "hv/seccomp.h"
#include "hv/stats.h"

#define CTL_READ_CHUNK	4096
#define CTL_OUT_MAX	(1024 * 1024)	/* a client that reads nothing is dropped past this */
#define CTL_DISCARD_MAX	(16 * 1024 * 1024)	/* a refused client may send this much more */
#define CTL_NAME_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

/* One connection.  Only the control thread touches it. */
struct ctl_client {
	struct control *ctl;
	int fd;				/* -1: a free slot */
	bool console;			/* switched to the raw console stream */
	char *in;			/* the request line so far (CONTROL_MAX_LINE bytes) */
	size_t in_len;
	uint8_t *out;			/* what the socket has not taken yet */
	size_t out_len, out_cap;
	bool out_armed;			/* EPOLLOUT is being watched */
	bool eof;			/* the client sent all it will: close once out is sent */
	bool draining;			/* refused (line too long): input is discarded */
	size_t discarded;
};

struct control {
	const struct hv_options *o;
	struct control_vm_ops ops;
	char name[CONTROL_NAME_MAX + 1];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* as bound */
	char *abs_path;			/* for the unlink at exit, after chdir("/") */
	dev_t sock_dev;			/* the socket file we made: never unlink another's */
	ino_t sock_ino;
	int listen_fd;

	struct ev_loop loop;		/* the "control" thread */
	bool loop_ready;
	struct ctl_client clients[CONTROL_MAX_CLIENTS];

	/* The guest's console, when hvrun's stdout is our pipe (control_console_setup). */
	int con_out_rd;			/* read end of hvrun's stdout */
	int con_in_wr;			/* write end of hvrun's stdin (daemon), or -1 */
	int term_fd;			/* the terminal, still copied to (not daemon), or -1 */
	int log_fd;			/* --console-log, or -1 */
	/* Their writers (hv/output.h): the control thread never waits for a terminal or a disk. */
	struct outbuf *term_out, *log_out;
	uint8_t ring[CONTROL_RING_BYTES];	/* the last output, replayed to a new console client */
	size_t ring_head, ring_len;

	/* The VM of the current boot; lock held for the whole of a command. */
	pthread_mutex_t lock;
	struct vm *vm;
	unsigned int boots;
	bool rebooting;
	bool stop_pending;		/* "stop" came while no VM was attached */
	struct timespec boot_start;
};

/* ---- the real VM operations ---- */

static int real_disk_resize(struct virtio_dev *d, uint64_t *bytes)
{
	int ret;

	pthread_mutex_lock(&d->lock);
	ret = vblk_resize(d);
	*bytes = vblk_capacity(d) * VIRTIO_BLK_SECTOR_SIZE;
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static const struct control_vm_ops real_ops = {
	.pause = vm_pause,
	.resume = vm_resume,
	.powerdown = platform_powerdown,
	.request_stop = vm_request_stop,
	.balloon_set = vballoon_set_target,
	.balloon_info = vballoon_get_info,
	.stats = stats_json,
	.disk_resize = real_disk_resize,
};

/* ---- names and paths ---- */

void control_vm_name(const struct hv_options *o, char *buf, size_t len)
{
	const char *src = "hvrun", *slash;
	size_t n, i;
	bool strip_ext = false;

	if (o->name)
		src = o->name;
	else if (o->nr_disks)
		src = o->disks[0].path, strip_ext = true;
	else if (o->kernel)
		src = o->kernel;	/* vmlinuz-6.1.0-18-amd64: its dots are not an extension */
	else if (o->cdrom)
		src = o->cdrom, strip_ext = true;	/* a live CD: debian-live-12.iso */
	if (!o->name && (slash = strrchr(src, '/')))
		src = slash + 1;
	n = strlen(src);
	if (strip_ext) {
		const char *dot = strrchr(src, '.');

		if (dot && dot != src)
			n = (size_t)(dot - src);
	}
	if (n > CONTROL_NAME_MAX)
		n = CONTROL_NAME_MAX;
	if (n >= len)
		n = len - 1;
	for (i = 0; i < n; i++)
		buf[i] = strchr(CTL_NAME_CHARS, src[i]) && src[i] ? src[i] : '_';
	buf[n] = '\0';
	if (buf[0] == '.')
		buf[0] = '_';	/* NAME.sock must not be a hidden file */
	if (n == 0)
		snprintf(buf, len, "hvrun");
}

int control_default_dir(char *buf, size_t len)
{
	const char *env = getenv("HVRUN_CONTROL_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (env && env[0])
		n = snprintf(buf, len, "%s", env);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/hvrun");
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/hvrun", xdg);
	else
		/* No runtime directory (a cron job, su): a private one in /tmp, checked below. */
		n = snprintf(buf, len, "/tmp/hvrun-%u", (unsigned int)geteuid());
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * The socket directory: created 0700 if missing; if it exists it must be a
 * real directory of ours that nobody else may enter (in /tmp, anyone could
 * have made it first).
 */
static int ctl_make_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return hv_fail(err, errlen, -errno, "cannot create the control directory %s: %s",
				dir, strerror(errno));
	if (lstat(dir, &st) < 0)
		return hv_fail(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return hv_fail(err, errlen, -EPERM, "%s: not a directory owned by this user; "
				"remove it or give --control PATH", dir);
	if ((st.st_mode & 077) && chmod(dir, 0700) < 0)
		return hv_fail(err, errlen, -errno, "%s: chmod 0700: %s", dir, strerror(errno));
	return 0;
}

static int ctl_sockaddr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

/* Is an hvrun listening at path?  1 yes, 0 no (nothing there, or a stale socket file), -errno. */
static int ctl_probe(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	if (ctl_sockaddr(path, &sa))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 1
	      : errno == ECONNREFUSED ? 0 : -errno;
	close(fd);
	return ret;
}

static int ctl_bind(struct control *c, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int ret;

	if (ctl_sockaddr(c->path, &sa))
		return hv_fail(err, errlen, -ENAMETOOLONG, "control socket %s: the path is longer "
				"than %zu bytes", c->path, sizeof(sa.sun_path) - 1);
	/* A socket file nobody listens on is what a killed hvrun leaves: ours to replace. */
	if (unlink(c->path) < 0 && errno != ENOENT)
		return hv_fail(err, errlen, -errno, "cannot remove the stale socket %s: %s",
				c->path, strerror(errno));
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0)
		return hv_fail(err, errlen, -errno, "socket(AF_UNIX): %s", strerror(errno));
	/* The file is created 0600 by bind() itself: no moment when others could connect. */
	old = umask(0177);
	ret = bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || listen(c->listen_fd, CONTROL_MAX_CLIENTS) < 0 || lstat(c->path, &st) < 0) {
		ret = -errno;
		close(c->listen_fd);
		c->listen_fd = -1;
		return hv_fail(err, errlen, ret, "control socket %s: %s", c->path, strerror(-ret));
	}
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	/* Relative paths stop working at the daemon's chdir("/"): keep an absolute one. */
	if (c->path[0] == '/') {
		c->abs_path = strdup(c->path);
	} else {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) && asprintf(&c->abs_path, "%s/%s", cwd, c->path) < 0)
			c->abs_path = NULL;
	}
	/* In the empty root (hv/sandbox.c) the path is gone: a helper removes the file at exit. */
	sandbox_remove_at_exit(c->abs_path, c->sock_dev, c->sock_ino);
	return 0;
}

int control_listen(struct control *c, char *err, size_t errlen)
{
	char dir[PATH_MAX], base[CONTROL_NAME_MAX + 1];
	bool derived = !c->o->name && !c->o->control_path;
	unsigned int attempt;
	int ret, n;

	control_vm_name(c->o, base, sizeof(base));
	snprintf(c->name, sizeof(c->name), "%s", base);
	if (c->o->control_path) {
		if (strlen(c->o->control_path) >= sizeof(c->path))
			return hv_fail(err, errlen, -ENAMETOOLONG, "--control %s: the path is longer "
					"than %zu bytes", c->o->control_path, sizeof(c->path) - 1);
		snprintf(c->path, sizeof(c->path), "%s", c->o->control_path);
		ret = ctl_probe(c->path);
	} else {
		if (control_default_dir(dir, sizeof(dir)) < 0)
			return hv_fail(err, errlen, -ENAMETOOLONG, "the control directory's path is "
					"too long");
		ret = ctl_make_dir(dir, err, errlen);
		if (ret)
			return ret;
		/*
		 * A name hvrun made up (two "hvrun --raw" at once, two VMs on one
		 * kernel) moves aside, as NAME-2, ...; a name the user gave is refused.
		 */
		for (attempt = 1; attempt <= (derived ? 9u : 1u); attempt++) {
			if (attempt > 1)
				snprintf(c->name, sizeof(c->name), "%.*s-%c", CONTROL_NAME_MAX - 2,
					 base, (char)('0' + attempt));	/* 2 to 9 */
			n = snprintf(c->path, sizeof(c->path), "%s/%s.sock", dir, c->name);
			if (n < 0 || (size_t)n >= sizeof(c->path))
				return hv_fail(err, errlen, -ENAMETOOLONG, "control socket %s/%s.sock: "
						"the path is too long; give --control PATH", dir,
						c->name);
			ret = ctl_probe(c->path);
			if (ret != 1)
				break;
		}
	}
	if (ret == 1)
		return hv_fail(err, errlen, -EADDRINUSE, "%s: another hvrun is running as '%s' "
				"(hvctl -n %s status); give this one another --name", c->path,
				c->name, c->name);
	if (ret == -EEXIST)
		return hv_fail(err, errlen, ret, "%s exists and is not a socket", c->path);
	if (ret < 0)
		return hv_fail(err, errlen, ret, "control socket %s: %s", c->path, strerror(-ret));
	return ctl_bind(c, err, errlen);
}

/* ---- the VM's devices, as hvctl names them ---- */

/*
 * The name platform.c gave the device ("vda", "net0", "console": the one
 * --trace and --stats use too), else one made the same way: vda, net0, hvc0,
 * rng0, balloon0, the n-th device of its kind.
 */
static void ctl_device_name(struct vm *vm, unsigned int i, char *buf, size_t len)
{
	const struct virtio_dev_ops *ops = vm->virtio[i].dev->ops;
	unsigned int j, n = 0;

	if (vm->virtio[i].name[0]) {
		snprintf(buf, len, "%s", vm->virtio[i].name);
		return;
	}

	for (j = 0; j < i; j++)
		if (vm->virtio[j].dev && vm->virtio[j].dev->ops->device_id == ops->device_id)
			n++;
	switch (ops->device_id) {
	case VIRTIO_ID_BLOCK:	snprintf(buf, len, "vd%c", 'a' + (n % 26)); break;
	case VIRTIO_ID_NET:	snprintf(buf, len, "net%u", n); break;
	case VIRTIO_ID_CONSOLE:	snprintf(buf, len, "hvc%u", n); break;
	case VIRTIO_ID_RNG:	snprintf(buf, len, "rng%u", n); break;
	case VIRTIO_ID_BALLOON:	snprintf(buf, len, "balloon%u", n); break;
	default:		snprintf(buf, len, "%s%u", ops->name, n); break;
	}
}

/* The n-th device with this virtio device id, or NULL. */
static struct virtio_dev *ctl_find_device(struct vm *vm, uint16_t device_id, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < vm->nr_virtio; i++) {
		struct virtio_dev *d = vm->virtio[i].dev;

		if (d && d->ops->device_id == device_id && n-- == 0)
			return d;
	}
	return NULL;
}

/* ---- requests: parsed whole, then executed ---- */

struct ctl_error {
	const char *code;
	char message[256];
};

static json_t *ctl_err(struct ctl_error *e, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static json_t *ctl_err(struct ctl_error *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return NULL;
}

struct ctl_request {
	const struct ctl_command *cmd;
	uint64_t size;			/* balloon */
	unsigned int drive;		/* disk-resize: 0 = vda */
	char drive_name[8];
};

struct ctl_command {
	const char *name;
	bool needs_vm;
	json_t *(*run)(struct control *c, struct vm *vm, const struct ctl_request *r,
		       struct ctl_error *e);
};

int control_parse_size(const char *s, uint64_t *bytes)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case '\0':	break;
	case 'K':	shift = 10; end++; break;
	case 'M':	shift = 20; end++; break;
	case 'G':	shift = 30; end++; break;
	case 'T':	shift = 40; end++; break;
	default:	return -EINVAL;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*bytes = (uint64_t)v << shift;
	return 0;
}

static double ctl_seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static json_t *cmd_status(struct control *c, struct vm *vm, const struct ctl_request *r,
			  struct ctl_error *e)
{
	json_t *reply = json_object(), *devices = json_array();
	unsigned int i;
	char name[24];

	(void)r;
	(void)e;
	json_object_set_new(reply, "name", json_string(c->name));
	json_object_set_new(reply, "pid", json_integer(getpid()));
	json_object_set_new(reply, "console", json_string(c->con_in_wr >= 0 ? "socket" : "terminal"));
	if (!vm) {
		/* Between two boots, or before the first: hvrun itself is there. */
		json_object_set_new(reply, "state", json_string(c->boots == 0 ? "starting"
								 : c->rebooting ? "rebooting"
								 : "stopped"));
		json_object_set_new(reply, "boot", json_integer(c->boots));
		json_decref(devices);
		return reply;
	}
	json_object_set_new(reply, "state", json_string(vm_state_name(vm)));
	json_object_set_new(reply, "boot", json_integer(c->boots));
	json_object_set_new(reply, "uptime_s", json_real(ctl_seconds_since(&c->boot_start)));
	json_object_set_new(reply, "vcpus", json_integer(vm->nr_vcpus));
	json_object_set_new(reply, "memory_bytes", json_integer((json_int_t)c->o->mem_bytes));
	for (i = 0; i < vm->nr_virtio; i++) {
		json_t *dev;

		if (!vm->virtio[i].dev)
			continue;
		ctl_device_name(vm, i, name, sizeof(name));
		dev = json_pack("{s:s, s:i, s:s}", "kind", vm->virtio[i].dev->ops->name,
				"slot", (json_int_t)vm->virtio[i].slot, "name", name);
		json_array_append_new(devices, dev);
	}
	json_object_set_new(reply, "devices", devices);
	return reply;
}

static json_t *ctl_state_reply(struct vm *vm)
{
	return json_pack("{s:s}", "state", vm_state_name(vm));
}

static json_t *cmd_pause(struct control *c, struct vm *vm, const struct ctl_request *r,
			 struct ctl_error *e)
{
	(void)r;
	if (atomic_load(&vm->stopping))
		return ctl_err(e, "stopping", "the VM is stopping");
	if (c->ops.pause(vm) == -EALREADY)
		return ctl_err(e, "already", "the VM is already paused");
	hv_info("hvctl pause: the VM is paused");
	return ctl_state_reply(vm);
}

static json_t *cmd_resume(struct control *c, struct vm *vm, const struct ctl_request *r,
			  struct ctl_error *e)
{
	(void)r;
	if (c->ops.resume(vm) == -EALREADY)
		return ctl_err(e, "already", "the VM is not paused");
	hv_info("hvctl resume: the VM runs again");
	return ctl_state_reply(vm);
}

static json_t *cmd_powerdown(struct control *c, struct vm *vm, const struct ctl_request *r,
			     struct ctl_error *e)
{
	int ret;

	(void)r;
	if (atomic_load(&vm->pause_requested))
		return ctl_err(e, "paused", "the VM is paused: resume it first, or use stop");
	ret = c->ops.powerdown(vm);
	if (ret == -ENOTSUP)
		return ctl_err(e, "not-supported", "this VM has no ACPI (--demo, --raw): use stop");
	if (ret == -EAGAIN)
		return ctl_err(e, "not-listening", "the guest has not enabled the ACPI power button "
			       "(still booting, or no ACPI button driver): try again, or use stop");
	if (ret)
		return ctl_err(e, "failed", "powerdown: %s", strerror(-ret));
	return json_pack("{s:s}", "state", vm_state_name(vm));
}

static json_t *cmd_stop(struct control *c, struct vm *vm, const struct ctl_request *r,
			struct ctl_error *e)
{
	(void)r;
	(void)e;
	hv_info("hvctl stop: stopping the VM");
	/*
	 * Before the first boot or between two, there is no VM to stop yet: the
	 * next one is stopped as soon as it is attached, so "stop" always works
	 * (a script may run hvctl stop the moment the socket appears).
	 */
	if (vm)
		c->ops.request_stop(vm, VM_STOP_QUIT);
	else
		c->stop_pending = true;
	return json_pack("{s:s}", "state", "stopping");
}

static json_t *cmd_reset(struct control *c, struct vm *vm, const struct ctl_request *r,
			 struct ctl_error *e)
{
	(void)r;
	(void)e;
	hv_info("hvctl reset: resetting the VM");
	c->ops.request_stop(vm, VM_STOP_RESET);
	return json_pack("{s:s}", "state", c->o->no_reboot ? "stopping" : "rebooting");
}

static struct virtio_dev *ctl_balloon(struct control *c, struct vm *vm, struct ctl_error *e)
{
	struct virtio_dev *d;

	if (c->o->no_balloon)
		return ctl_err(e, "not-supported", "hvrun runs with --no-balloon"), NULL;
	d = ctl_find_device(vm, VIRTIO_ID_BALLOON, 0);
	if (!d)
		ctl_err(e, "no-device", "this VM has no balloon device (it needs -k)");
	return d;
}

static json_t *cmd_balloon(struct control *c, struct vm *vm, const struct ctl_request *r,
			   struct ctl_error *e)
{
	struct virtio_dev *d = ctl_balloon(c, vm, e);
	struct vballoon_info info;

	if (!d)
		return NULL;
	c->ops.balloon_info(d, &info);
	if (r->size > info.ram_bytes)
		return ctl_err(e, "bad-size", "%llu bytes is more than the guest's RAM (%llu bytes)",
			       (unsigned long long)r->size, (unsigned long long)info.ram_bytes);
	if (c->ops.balloon_set(d, r->size))
		return ctl_err(e, "bad-size", "the balloon cannot hold %llu bytes",
			       (unsigned long long)r->size);
	c->ops.balloon_info(d, &info);
	hv_info("hvctl balloon: target %llu MiB", (unsigned long long)(info.target_bytes >> 20));
	return json_pack("{s:I, s:I, s:I}", "target_bytes", (json_int_t)info.target_bytes,
			 "actual_bytes", (json_int_t)info.actual_bytes,
			 "ram_bytes", (json_int_t)info.ram_bytes);
}

static json_t *cmd_balloon_stats(struct control *c, struct vm *vm, const struct ctl_request *r,
				 struct ctl_error *e)
{
	/* virtio 1.2 §5.5.6.3, by tag; the names of QEMU's guest-stats, in snake case. */
	static const char *const tags[VIRTIO_BALLOON_S_NR] = {
		[VIRTIO_BALLOON_S_SWAP_IN] = "swap_in",
		[VIRTIO_BALLOON_S_SWAP_OUT] = "swap_out",
		[VIRTIO_BALLOON_S_MAJFLT] = "major_faults",
		[VIRTIO_BALLOON_S_MINFLT] = "minor_faults",
		[VIRTIO_BALLOON_S_MEMFREE] = "free_memory",
		[VIRTIO_BALLOON_S_MEMTOT] = "total_memory",
		[VIRTIO_BALLOON_S_AVAIL] = "available_memory",
		[VIRTIO_BALLOON_S_CACHES] = "disk_caches",
		[VIRTIO_BALLOON_S_HTLB_PGALLOC] = "hugetlb_allocations",
		[VIRTIO_BALLOON_S_HTLB_PGFAIL] = "hugetlb_failures",
	};
	struct virtio_dev *d = ctl_balloon(c, vm, e);
	struct vballoon_info info;
	json_t *b, *stats;
	unsigned int i;

	(void)r;
	if (!d)
		return NULL;
	c->ops.balloon_info(d, &info);
	b = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
		      "ram_bytes", (json_int_t)info.ram_bytes,
		      "target_bytes", (json_int_t)info.target_bytes,
		      "actual_bytes", (json_int_t)info.actual_bytes,
		      "inflated_bytes", (json_int_t)info.inflated_bytes,
		      "deflated_bytes", (json_int_t)info.deflated_bytes,
		      "reported_bytes", (json_int_t)info.reported_bytes);
	if (info.stats_valid) {
		stats = json_object();
		for (i = 0; i < VIRTIO_BALLOON_S_NR; i++)
			if (info.stats_have[i])
				json_object_set_new(stats, tags[i], json_integer((json_int_t)info.stats[i]));
		json_object_set_new(b, "stats", stats);
		json_object_set_new(b, "stats_age_ms", json_integer((json_int_t)info.stats_age_ms));
	}
	return json_pack("{s:o}", "balloon", b);
}

static json_t *cmd_stats(struct control *c, struct vm *vm, const struct ctl_request *r,
			 struct ctl_error *e)
{
	json_t *s = c->ops.stats(vm);

	(void)r;
	if (!s)
		return ctl_err(e, "failed", "the statistics could not be collected");
	return json_pack("{s:o}", "stats", s);
}

static json_t *cmd_disk_resize(struct control *c, struct vm *vm, const struct ctl_request *r,
			       struct ctl_error *e)
{
	struct virtio_dev *d = ctl_find_device(vm, VIRTIO_ID_BLOCK, r->drive);
	uint64_t bytes = 0;
	int ret;

	if (!d)
		return ctl_err(e, "no-device", "no disk %s (this VM has %s)", r->drive_name,
			       ctl_find_device(vm, VIRTIO_ID_BLOCK, 0) ? "fewer disks" : "no disk");
	ret = c->ops.disk_resize(d, &bytes);
	if (ret)
		return ctl_err(e, "failed", "%s: %s", r->drive_name, strerror(-ret));
	hv_info("hvctl disk-resize: %s is now %llu bytes", r->drive_name, (unsigned long long)bytes);
	return json_pack("{s:s, s:I}", "drive", r->drive_name, "capacity_bytes", (json_int_t)bytes);
}

static json_t *cmd_console(struct control *c, struct vm *vm, const struct ctl_request *r,
			   struct ctl_error *e)
{
	(void)vm;
	(void)r;
	if (c->con_in_wr < 0)
		return ctl_err(e, "not-supported", "the console is on hvrun's terminal "
			       "(hvctl console needs hvrun --daemonize)");
	return json_pack("{s:b}", "console", 1);
}

static const struct ctl_command ctl_commands[] = {
	{ "status",		false,	cmd_status },
	{ "pause",		true,	cmd_pause },
	{ "resume",		true,	cmd_resume },
	{ "powerdown",		true,	cmd_powerdown },
	{ "stop",		false,	cmd_stop },
	{ "reset",		true,	cmd_reset },
	{ "balloon",		true,	cmd_balloon },
	{ "balloon-stats",	true,	cmd_balloon_stats },
	{ "stats",		true,	cmd_stats },
	{ "disk-resize",	true,	cmd_disk_resize },
	{ "console",		false,	cmd_console },
};

/* Checks the request's shape and arguments; nothing is done yet.  0, or -1 with e. */
static int ctl_parse(json_t *req, struct ctl_request *r, struct ctl_error *e)
{
	json_t *cmd = json_object_get(req, "cmd"), *arg;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!json_is_string(cmd))
		return ctl_err(e, "bad-request", "the request needs \"cmd\", a string"), -1;
	for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		if (!strcmp(json_string_value(cmd), ctl_commands[i].name))
			r->cmd = &ctl_commands[i];
	if (!r->cmd)
		return ctl_err(e, "unknown-command", "unknown command '%.64s' (status, pause, resume, "
			       "powerdown, stop, reset, balloon, balloon-stats, stats, disk-resize, "
			       "console)", json_string_value(cmd)), -1;
	if (r->cmd->run == cmd_balloon) {
		arg = json_object_get(req, "size");
		if (json_is_integer(arg) && json_integer_value(arg) >= 0)
			r->size = (uint64_t)json_integer_value(arg);
		else if (!json_is_string(arg) || control_parse_size(json_string_value(arg), &r->size))
			return ctl_err(e, "bad-request", "balloon needs \"size\": bytes, or a string "
				       "like \"256M\""), -1;
	} else if (r->cmd->run == cmd_disk_resize) {
		const char *s;

		arg = json_object_get(req, "drive");
		s = json_string_value(arg);
		if (!s || strlen(s) != 3 || s[0] != 'v' || s[1] != 'd' ||
		    s[2] < 'a' || s[2] >= 'a' + HV_MAX_DISKS)
			return ctl_err(e, "bad-request", "disk-resize needs \"drive\": \"vda\" to "
				       "\"vd%c\"", 'a' + HV_MAX_DISKS - 1), -1;
		r->drive = (unsigned int)(s[2] - 'a');
		snprintf(r->drive_name, sizeof(r->drive_name), "%s", s);
	}
	return 0;
}

static char *ctl_dump_line(json_t *reply)
{
	char *s = json_dumps(reply, JSON_COMPACT), *line;
	size_t n;

	if (!s)
		return strdup("{\"ok\":false,\"error\":{\"code\":\"internal\","
			      "\"message\":\"out of memory\"}}\n");
	n = strlen(s);
	line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	return line;
}

static char *ctl_error_line(json_t *id, const char *code, const char *message)
{
	json_t *reply = json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code", code,
				  "message", message);
	char *line;

	if (reply && id)
		json_object_set(reply, "id", id);
	line = ctl_dump_line(reply);
	json_decref(reply);
	return line;
}

char *control_handle_line(struct control *c, const char *line, size_t len, bool *to_console)
{
	struct ctl_request r;
	struct ctl_error e = { 0 };
	json_error_t jerr;
	json_t *req, *id = NULL, *reply = NULL;
	char *out;

	*to_console = false;
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!req)
		return ctl_error_line(NULL, "bad-json", jerr.text);
	if (!json_is_object(req)) {
		json_decref(req);
		return ctl_error_line(NULL, "bad-request", "a request is a JSON object");
	}
	id = json_object_get(req, "id");
	if (ctl_parse(req, &r, &e) == 0) {
		pthread_mutex_lock(&c->lock);
		if (r.cmd->needs_vm && !c->vm)
			ctl_err(&e, "no-vm", "no VM running (hvrun is %s)",
				c->boots == 0 ? "starting" : c->rebooting ? "rebooting" : "stopping");
		else
			reply = r.cmd->run(c, c->vm, &r, &e);
		pthread_mutex_unlock(&c->lock);
	}
	if (reply) {
		json_object_set_new(reply, "ok", json_true());
		if (id)
			json_object_set(reply, "id", id);
		*to_console = r.cmd->run == cmd_console;
		out = ctl_dump_line(reply);
		json_decref(reply);
	} else {
		out = ctl_error_line(id, e.code ? e.code : "internal",
				     e.code ? e.message : "the command failed");
	}
	json_decref(req);
	return out;
}

/* ---- connections (on the control thread) ---- */

static void ctl_client_close(struct control *c, struct ctl_client *cl)
{
	if (cl->fd < 0)
		return;
	ev_del(&c->loop, cl->fd);
	close(cl->fd);
	free(cl->in);
	free(cl->out);
	memset(cl, 0, sizeof(*cl));
	cl->ctl = c;
	cl->fd = -1;
}

/* Watch for room in the socket only while there is something waiting for it. */
static void ctl_arm_out(struct control *c, struct ctl_client *cl, bool on)
{
	/* ev_add() registered the fd; only its event mask changes (the handler is found by fd). */
	struct epoll_event ev = { .events = (cl->eof ? 0 : EPOLLIN) | (on ? EPOLLOUT : 0),
				  .data.fd = cl->fd };

	if ((cl->out_armed != on || cl->eof) &&
	    epoll_ctl(c->loop.epoll_fd, EPOLL_CTL_MOD, cl->fd, &ev) == 0)
		cl->out_armed = on;
}

/* Sends what is queued; false if the client is gone (closed here). */
static bool ctl_flush(struct control *c, struct ctl_client *cl)
{
	while (cl->out_len) {
		ssize_t n = send(cl->fd, cl->out, cl->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			ctl_client_close(c, cl);
			return false;
		}
		memmove(cl->out, cl->out + n, cl->out_len - (size_t)n);
		cl->out_len -= (size_t)n;
	}
	if (!cl->out_len && cl->eof) {
		ctl_client_close(c, cl);
		return false;
	}
	if (!cl->out_len && cl->draining)
		shutdown(cl->fd, SHUT_WR);	/* the client reads our last line, then the end */
	ctl_arm_out(c, cl, cl->out_len != 0);
	return true;
}

/*
 * Queues bytes for a client and sends what the socket takes now.  A client
 * that stops reading is dropped once CTL_OUT_MAX bytes wait: the control
 * thread (and the console behind it) never waits for one.  false: closed.
 */
static bool ctl_send(struct control *c, struct ctl_client *cl, const void *data, size_t len)
{
	if (cl->out_len + len > CTL_OUT_MAX) {
		hv_warn("control: a client read nothing of %zu bytes: disconnected", cl->out_len);
		ctl_client_close(c, cl);
		return false;
	}
	if (cl->out_len + len > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;
		uint8_t *p;

		while (cap < cl->out_len + len)
			cap *= 2;
		p = realloc(cl->out, cap);
		if (!p) {
			ctl_client_close(c, cl);
			return false;
		}
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, data, len);
	cl->out_len += len;
	return ctl_flush(c, cl);
}

static bool ctl_send_line(struct control *c, struct ctl_client *cl, char *line)
{
	bool ok = line ? ctl_send(c, cl, line, strlen(line)) : true;

	free(line);
	return ok;
}

/* Console input from a client: into hvrun's stdin pipe; what does not fit is dropped. */
static void ctl_console_input(struct control *c, const uint8_t *p, size_t len)
{
	while (len && c->con_in_wr >= 0) {
		ssize_t n = write(c->con_in_wr, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* the guest reads slower than the client types: drop the rest */
		p += n;
		len -= (size_t)n;
	}
}

/* The ring, oldest byte first, to a client that just attached to the console. */
static bool ctl_console_replay(struct control *c, struct ctl_client *cl)
{
	size_t start = (c->ring_head + CONTROL_RING_BYTES - c->ring_len) % CONTROL_RING_BYTES;
	size_t first = c->ring_len < CONTROL_RING_BYTES - start ? c->ring_len
							       : CONTROL_RING_BYTES - start;

	return ctl_send(c, cl, c->ring + start, first) &&
	       ctl_send(c, cl, c->ring, c->ring_len - first);
}

/* Handles the complete lines in cl->in; false if the client was closed. */
static bool ctl_client_lines(struct control *c, struct ctl_client *cl)
{
	char *nl;

	while (!cl->console && (nl = memchr(cl->in, '\n', cl->in_len))) {
		size_t len = (size_t)(nl - cl->in), rest = cl->in_len - len - 1;
		bool to_console = false;

		if (len && cl->in[len - 1] == '\r')
			len--;		/* telnet-style clients (socat, nc -C) */
		if (len && !ctl_send_line(c, cl, control_handle_line(c, cl->in, len, &to_console)))
			return false;
		memmove(cl->in, nl + 1, rest);
		cl->in_len = rest;
		if (to_console) {
			/* From now on raw bytes: the backlog first, then what the guest writes. */
			cl->console = true;
			if (!ctl_console_replay(c, cl))
				return false;
			ctl_console_input(c, (uint8_t *)cl->in, cl->in_len);
			cl->in_len = 0;
		}
	}
	return true;
}

static void ctl_client_event(void *opaque, int fd, uint32_t events)
{
	struct ctl_client *cl = opaque;
	struct control *c = cl->ctl;
	uint8_t buf[CTL_READ_CHUNK];
	size_t off = 0, take;
	ssize_t n;

	if (cl->fd != fd)
		return;		/* an event for a connection closed earlier in this batch */
	if ((events & EPOLLOUT) && !ctl_flush(c, cl))
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (cl->draining) {
		cl->discarded += n > 0 ? (size_t)n : 0;
		if (n <= 0 || cl->discarded > CTL_DISCARD_MAX)
			ctl_client_close(c, cl);
		return;
	}
	if (n == 0 && cl->out_len) {
		/* Half-closed (echo '{"cmd":"status"}' | socat - UNIX:...): send the rest, then close. */
		cl->eof = true;
		ctl_arm_out(c, cl, true);
		return;
	}
	if (n <= 0) {
		/* Gone, perhaps mid-line: the part of a line it sent goes with it. */
		ctl_client_close(c, cl);
		return;
	}
	if (cl->console) {
		ctl_console_input(c, buf, (size_t)n);
		return;
	}
	if (!cl->in && !(cl->in = malloc(CONTROL_MAX_LINE))) {
		ctl_client_close(c, cl);
		return;
	}
	while (off < (size_t)n) {
		if (cl->console) {
			/* "console" came in the middle of this read: the rest is keyboard input. */
			ctl_console_input(c, buf + off, (size_t)n - off);
			return;
		}
		take = CONTROL_MAX_LINE - cl->in_len;
		if (take > (size_t)n - off)
			take = (size_t)n - off;
		memcpy(cl->in + cl->in_len, buf + off, take);
		cl->in_len += take;
		off += take;
		if (!ctl_client_lines(c, cl))
			return;
		if (cl->in_len == CONTROL_MAX_LINE) {
			/*
			 * No newline in 64 KiB: not a request of ours.  Say so and hang
			 * up gently: shut our side once the line is out, and discard
			 * what the client still sends until it closes.  Closing at once
			 * would reset the connection, and the client would lose the line.
			 */
			cl->draining = true;
			ctl_send_line(c, cl, ctl_error_line(NULL, "line-too-long",
							   "a request line is at most 65536 bytes"));
			return;
		}
	}
}

static void ctl_accept(void *opaque, int fd, uint32_t events)
{
	static const char busy[] = "{\"ok\":false,\"error\":{\"code\":\"busy\",\"message\":"
				   "\"too many control connections (at most 16)\"}}\n";
	struct control *c = opaque;
	struct ctl_client *cl = NULL;
	unsigned int i;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;		/* EAGAIN, or the client left already; EMFILE: it waits in the backlog */
	for (i = 0; i < CONTROL_MAX_CLIENTS && !cl; i++)
		if (c->clients[i].fd < 0)
			cl = &c->clients[i];
	if (!cl || ev_add(&c->loop, cfd, 0, ctl_client_event, cl) < 0) {
		/* Best effort: a fresh socket's buffer takes one line. */
		send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		return;
	}
	cl->fd = cfd;
}

/* ---- the guest's console, when hvrun's stdout is our pipe ---- */

/* An output buffer for fd (hv/output.h); heap-allocated: a writer stuck at exit keeps it. */
static struct outbuf *ctl_outbuf(const char *name, int fd, char *err, size_t errlen)
{
	struct outbuf *o = malloc(sizeof(*o));

	if (!o || outbuf_init(o, name, fd, CONTROL_OUT_BYTES) < 0) {
		free(o);
		hv_fail(err, errlen, -ENOMEM, "console %s: out of memory", name);
		return NULL;
	}
	return o;
}

static void ctl_outbuf_close(struct outbuf *o)
{
	if (!o)
		return;
	outbuf_destroy(o);
	if (!o->ring)
		free(o);	/* else its writer is stuck in write(): it keeps o until exit */
}

/* One read of the guest's output, to the log, the terminal, the ring and the console clients. */
static bool ctl_console_pump(struct control *c, int fd)
{
	uint8_t buf[16384];
	ssize_t n;
	size_t i;

	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0) {
		ev_del(&c->loop, fd);	/* every writer gone: hvrun is exiting */
		return false;
	}
	/* Copies only: their writers do the write()s (a full disk or terminal stalls no command). */
	if (c->log_out)
		outbuf_write(c->log_out, buf, (size_t)n);
	if (c->term_out)	/* not a daemon: the terminal gets it too */
		outbuf_write(c->term_out, buf, (size_t)n);
	for (i = 0; i < (size_t)n; i++) {
		c->ring[c->ring_head] = buf[i];
		c->ring_head = (c->ring_head + 1) % CONTROL_RING_BYTES;
	}
	c->ring_len = c->ring_len + (size_t)n > CONTROL_RING_BYTES ? CONTROL_RING_BYTES
								    : c->ring_len + (size_t)n;
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0 && c->clients[i].console)
			ctl_send(c, &c->clients[i], buf, (size_t)n);
	return true;
}

static void ctl_console_output(void *opaque, int fd, uint32_t events)
{
	(void)events;
	ctl_console_pump(opaque, fd);
}

/* pipe2() whose write end (1) or read end (0) replaces fd target; returns the other end. */
static int ctl_pipe_onto(int target, int keep_end, char *err, size_t errlen)
{
	int p[2], keep, other;

	if (pipe2(p, O_CLOEXEC) < 0)
		return hv_fail(err, errlen, -errno, "pipe: %s", strerror(errno));
	keep = p[keep_end];
	other = p[!keep_end];
	/* dup2() leaves the new fd 0/1 without FD_CLOEXEC: as a standard stream should be. */
	if (dup2(other, target) < 0) {
		int ret = -errno;

		close(p[0]);
		close(p[1]);
		return hv_fail(err, errlen, ret, "dup2: %s", strerror(-ret));
	}
	close(other);
	return keep;
}

int control_console_setup(struct control *c, bool daemon, char *err, size_t errlen)
{
	int fd;

	if (c->o->console_log) {
		/* Opened now, while privileged (the drop may switch users); 0600: consoles show secrets. */
		c->log_fd = open(c->o->console_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (c->log_fd < 0)
			return hv_fail(err, errlen, -errno, "--console-log %s: %s", c->o->console_log,
					strerror(errno));
		c->log_out = ctl_outbuf("conlog", c->log_fd, err, errlen);
		if (!c->log_out)
			return -ENOMEM;
	}
	if (!daemon) {
		c->term_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (c->term_fd < 0)
			return hv_fail(err, errlen, -errno, "dup: %s", strerror(errno));
		c->term_out = ctl_outbuf("term", c->term_fd, err, errlen);
		if (!c->term_out)
			return -ENOMEM;
	}
	fd = ctl_pipe_onto(STDOUT_FILENO, 0, err, errlen);
	if (fd < 0)
		return fd;
	c->con_out_rd = fd;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	/*
	 * The guest's side does not block on us: COM1 drops a byte the pipe has
	 * no room for, the virtio console waits a little (devices/virtio_console.c).
	 * A bigger pipe makes that rare; the size is best effort (pipe-max-size).
	 */
	fcntl(STDOUT_FILENO, F_SETFL, O_NONBLOCK);
	fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1024 * 1024);
	if (daemon) {
		fd = ctl_pipe_onto(STDIN_FILENO, 1, err, errlen);
		if (fd < 0)
			return fd;
		c->con_in_wr = fd;
		fcntl(fd, F_SETFL, O_NONBLOCK);
	}
	return 0;
}

int control_console_log_fd(const struct control *c)
{
	return c->log_fd;
}

/* ---- life cycle ---- */

struct control *control_new(const struct hv_options *o, const struct control_vm_ops *ops)
{
	struct control *c = calloc(1, sizeof(*c));
	unsigned int i;

	if (!c)
		return NULL;
	c->o = o;
	c->ops = ops ? *ops : real_ops;
	c->listen_fd = c->con_out_rd = c->con_in_wr = c->term_fd = c->log_fd = -1;
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		c->clients[i].ctl = c;
		c->clients[i].fd = -1;
	}
	pthread_mutex_init(&c->lock, NULL);
	control_vm_name(o, c->name, sizeof(c->name));
	if (ev_loop_init(&c->loop, "control") < 0) {
		pthread_mutex_destroy(&c->lock);
		free(c);
		return NULL;
	}
	c->loop.seccomp_kind = SECCOMP_CONTROL;
	c->loop_ready = true;
	return c;
}

const char *control_socket_path(const struct control *c)
{
	return c->path;
}

const char *control_name(const struct control *c)
{
	return c->name;
}

int control_start(struct control *c)
{
	int ret = 0;

	if (c->listen_fd >= 0)
		ret = ev_add(&c->loop, c->listen_fd, 0, ctl_accept, c);
	if (!ret && c->con_out_rd >= 0)
		ret = ev_add(&c->loop, c->con_out_rd, 0, ctl_console_output, c);
	if (!ret && c->log_out)
		ret = outbuf_start(c->log_out);
	if (!ret && c->term_out)
		ret = outbuf_start(c->term_out);
	if (!ret)
		ret = ev_loop_start(&c->loop);
	return ret;
}

void control_attach_vm(struct control *c, struct vm *vm)
{
	pthread_mutex_lock(&c->lock);
	c->vm = vm;
	c->boots++;
	clock_gettime(CLOCK_MONOTONIC, &c->boot_start);
	if (c->stop_pending)
		c->ops.request_stop(vm, VM_STOP_QUIT);	/* vm_run() then returns at once */
	pthread_mutex_unlock(&c->lock);
}

void control_detach_vm(struct control *c, bool rebooting)
{
	/* Waits for a command in progress: after this, nothing touches the old VM. */
	pthread_mutex_lock(&c->lock);
	c->vm = NULL;
	c->rebooting = rebooting;
	pthread_mutex_unlock(&c->lock);
}

void control_close(struct control *c)
{
	struct stat st;
	unsigned int i;

	if (!c)
		return;
	if (c->loop_ready) {
		ev_loop_stop(&c->loop);
		/* What the guest wrote just before the end, for the log and the terminal. */
		for (i = 0; c->con_out_rd >= 0 && i < 64 && ctl_console_pump(c, c->con_out_rd); i++)
			;
		for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
			ctl_client_close(c, &c->clients[i]);
		ev_loop_destroy(&c->loop);
	}
	ctl_outbuf_close(c->log_out);	/* each waits a bounded time for its reader */
	ctl_outbuf_close(c->term_out);
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		/* Only the file we bound: another hvrun may have taken the path since. */
		if (!sandbox_active() && c->abs_path && lstat(c->abs_path, &st) == 0 &&
		    st.st_ino == c->sock_ino &&
		    st.st_dev == c->sock_dev && unlink(c->abs_path) < 0)
			hv_warn("cannot remove the control socket %s: %s", c->abs_path,
				strerror(errno));
	}
	if (c->con_out_rd >= 0)
		close(c->con_out_rd);
	if (c->con_in_wr >= 0)
		close(c->con_in_wr);
	if (c->term_fd >= 0)
		close(c->term_fd);
	if (c->log_fd >= 0)
		close(c->log_fd);
	free(c->abs_path);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
