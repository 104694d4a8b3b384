/* slirp.c: user-mode networking: libslirp on its own thread, frames to and from the device over a socketpair. */
#include "net/slirp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <libslirp.h>

#include "hv/base/log.h"
#include "hv/base/privs.h"
#include "hv/base/seccomp.h"

/*
 * libslirp is not thread-safe: the "net-user" thread makes every slirp call
 * once slirp_open() has returned (before that, slirp_open() makes them and
 * the thread does not exist yet).  The device only reads and writes fds[0].
 */

#define SLIRP_SOCKBUF		(4 << 20)	/* a burst of frames in each direction */
#define SLIRP_FRAME_MAX		65536		/* bigger than any frame at the default MTU */
#define SLIRP_BATCH		256		/* guest frames per loop turn, then poll again */

/* A libslirp timer (only IPv6 router advertisements use one in libslirp 4.7). */
struct slirp_timer {
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ns;		/* CLOCK_MONOTONIC; -1: not armed */
	struct slirp_timer *next;
};

struct slirp_be {
	struct net_backend be;		/* first: the device sees only this */
	Slirp *slirp;
	int thread_fd;			/* the thread's end of the socketpair */
	int wake_fd;			/* eventfd: slirp's notify() and destroy */
	atomic_bool stop;
	pthread_t thread;
	sem_t started;			/* the thread has dropped its privileges (or failed) */
	int start_ret;
	char start_err[160];
	struct slirp_timer *timers;
	struct pollfd *pfd;		/* [0] thread_fd, [1] wake_fd, then slirp's sockets */
	unsigned int nr_pfd, max_pfd;
	uint64_t to_guest_dropped;	/* the device did not read fast enough */
	int64_t last_guest_error_ns;
	unsigned int guest_errors_quiet;
	uint8_t frame[SLIRP_FRAME_MAX];
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the SlirpCb callbacks (all called on the slirp thread, or in slirp_open) ---- */

/* slirp -> guest: one frame, one datagram.  Dropping is allowed: TCP retransmits. */
static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct slirp_be *s = opaque;

	if (send(s->thread_fd, buf, len, MSG_DONTWAIT) < 0)
		s->to_guest_dropped++;
	/* A short count or -1 would make libslirp log an error for every frame. */
	return (ssize_t)len;
}

/* Something the guest did wrong (a bad packet): one line a second at most. */
static void cb_guest_error(const char *msg, void *opaque)
{
	struct slirp_be *s = opaque;
	int64_t now = now_ns();

	if (s->last_guest_error_ns && now - s->last_guest_error_ns < 1000000000) {
		s->guest_errors_quiet++;
		return;
	}
	hv_warn("net user: guest error: %s (%u more not shown)", msg, s->guest_errors_quiet);
	s->last_guest_error_ns = now;
	s->guest_errors_quiet = 0;
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct slirp_be *s = opaque;
	struct slirp_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	t->expire_ns = -1;
	t->next = s->timers;
	s->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct slirp_be *s = opaque;
	struct slirp_timer **p;

	for (p = &s->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = ((struct slirp_timer *)timer)->next;
			free(timer);
			return;
		}
	}
}

/* expire_ms is on cb_clock_get_ns()'s clock, in milliseconds. */
static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct slirp_timer *t = timer;

	(void)opaque;
	if (t)
		t->expire_ns = expire_ms * 1000000;
}

/* The thread polls whatever slirp_pollfds_fill() hands it each turn: nothing to register. */
static void cb_register_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

/* Slirp has new work (a socket can take data again): end the thread's poll(). */
static void cb_notify(void *opaque)
{
	struct slirp_be *s = opaque;
	uint64_t one = 1;

	if (write(s->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already non-zero, the thread wakes anyway. */
	}
}

static const SlirpCb slirp_callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
};

/* ---- the poll loop ---- */

static int add_poll(int fd, int events, void *opaque)
{
	struct slirp_be *s = opaque;
	struct pollfd *p;

	if (s->nr_pfd == s->max_pfd) {
		unsigned int n = s->max_pfd * 2;

		p = realloc(s->pfd, n * sizeof(*p));
		if (!p)
			return -1;	/* this socket waits for the next turn */
		s->pfd = p;
		s->max_pfd = n;
	}
	p = &s->pfd[s->nr_pfd];
	p->fd = fd;
	p->events = (short)((events & SLIRP_POLL_IN ? POLLIN : 0) |
			    (events & SLIRP_POLL_OUT ? POLLOUT : 0) |
			    (events & SLIRP_POLL_PRI ? POLLPRI : 0));
	p->revents = 0;
	return (int)s->nr_pfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct slirp_be *s = opaque;
	short r;

	if (idx < 0 || (unsigned int)idx >= s->nr_pfd)
		return 0;
	r = s->pfd[idx].revents;
	return (r & POLLIN ? SLIRP_POLL_IN : 0) | (r & POLLOUT ? SLIRP_POLL_OUT : 0) |
	       (r & POLLPRI ? SLIRP_POLL_PRI : 0) | (r & POLLERR ? SLIRP_POLL_ERR : 0) |
	       (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

/* poll()'s timeout: slirp's own (ms, UINT32_MAX = none) or the next timer, whichever is first. */
static int poll_timeout(const struct slirp_be *s, uint32_t slirp_ms)
{
	int64_t ms = slirp_ms == UINT32_MAX ? -1 : (int64_t)slirp_ms, now = now_ns();
	const struct slirp_timer *t;

	for (t = s->timers; t; t = t->next) {
		int64_t left;

		if (t->expire_ns < 0)
			continue;
		left = t->expire_ns <= now ? 0 : (t->expire_ns - now + 999999) / 1000000;
		if (ms < 0 || left < ms)
			ms = left;
	}
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Runs the expired timers; a callback may re-arm or free timers, so rescan after each. */
static void run_timers(struct slirp_be *s)
{
	struct slirp_timer *t;
	int64_t now = now_ns();

	for (t = s->timers; t; t = t->next) {
		if (t->expire_ns >= 0 && t->expire_ns <= now) {
			t->expire_ns = -1;
			t->cb(t->cb_opaque);
			t = s->timers;		/* the list may have changed */
			if (!t)
				break;
		}
	}
}

/* guest -> slirp: every frame the device has written, up to a batch. */
static void guest_frames(struct slirp_be *s)
{
	unsigned int i;

	for (i = 0; i < SLIRP_BATCH; i++) {
		ssize_t n = recv(s->thread_fd, s->frame, sizeof(s->frame), MSG_DONTWAIT);

		if (n <= 0)
			return;		/* EAGAIN: all read */
		slirp_input(s->slirp, s->frame, (int)n);
	}
}

static void drain_wake(struct slirp_be *s)
{
	uint64_t v;

	if (read(s->wake_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing to drain */
	}
}

static void *slirp_thread(void *arg)
{
	struct slirp_be *s = arg;

	pthread_setname_np(pthread_self(), "net-user");
	/* This thread runs guest-driven code: it never holds a capability. */
	s->start_ret = privs_drop_thread(s->start_err, sizeof(s->start_err));
	/* And its own seccomp filter: it started before the main thread's (docs/15-seccomp.md). */
	if (!s->start_ret && (s->start_ret = seccomp_enter(SECCOMP_SLIRP, NULL)) < 0)
		snprintf(s->start_err, sizeof(s->start_err), "net user: no seccomp filter: %s",
			 strerror(-s->start_ret));
	sem_post(&s->started);
	if (s->start_ret)
		return NULL;
	while (!atomic_load(&s->stop)) {
		uint32_t timeout = UINT32_MAX;
		int n;

		s->nr_pfd = 2;
		s->pfd[0] = (struct pollfd){ .fd = s->thread_fd, .events = POLLIN };
		s->pfd[1] = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
		slirp_pollfds_fill(s->slirp, &timeout, add_poll, s);
		n = poll(s->pfd, s->nr_pfd, poll_timeout(s, timeout));
		if (n < 0 && errno != EINTR)
			hv_warn("net user: poll: %s", strerror(errno));
		if (s->pfd[1].revents & POLLIN)
			drain_wake(s);
		if (atomic_load(&s->stop))
			break;
		slirp_pollfds_poll(s->slirp, n < 0, get_revents, s);
		if (n > 0 && (s->pfd[0].revents & POLLIN))
			guest_frames(s);
		run_timers(s);
	}
	return NULL;
}

/* ---- open / destroy ---- */

static void slirp_free(struct slirp_be *s)
{
	if (s->slirp)
		slirp_cleanup(s->slirp);
	while (s->timers)
		cb_timer_free(s->timers, s);
	if (s->be.fds[0] >= 0)
		close(s->be.fds[0]);
	if (s->thread_fd >= 0)
		close(s->thread_fd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	free(s->pfd);
	free(s);
}

static void slirp_destroy(struct net_backend *b)
{
	struct slirp_be *s = (struct slirp_be *)b;

	atomic_store(&s->stop, true);
	cb_notify(s);
	pthread_join(s->thread, NULL);
	sem_destroy(&s->started);
	if (s->to_guest_dropped)
		hv_info("net user: %llu frame(s) to the guest were dropped (the device was behind)",
			(unsigned long long)s->to_guest_dropped);
	slirp_free(s);
}

static const struct net_backend_ops slirp_ops = {
	.destroy = slirp_destroy,
};

/* "tcp:5555-:22", "udp:127.0.0.1:5353-10.0.2.15:53": a forward as the user wrote it. */
static void fwd_text(const struct slirp_hostfwd *f, char *buf, size_t len)
{
	char host[INET_ADDRSTRLEN + 1] = "", guest[INET_ADDRSTRLEN] = "";

	if (f->host_addr) {
		inet_ntop(AF_INET, &f->host_addr, host, sizeof(host) - 1);
		strcat(host, ":");
	}
	if (f->guest_addr)
		inet_ntop(AF_INET, &f->guest_addr, guest, sizeof(guest));
	snprintf(buf, len, "%s:%s%u-%s:%u", f->udp ? "udp" : "tcp", host, f->host_port, guest,
		 f->guest_port);
}

/* Binds every host port now, while hvrun may still hold the right to (ports < 1024). */
static int add_forwards(struct slirp_be *s, const struct slirp_config *cfg, char *err, size_t errlen)
{
	unsigned int i;

	for (i = 0; i < cfg->nr_fwd; i++) {
		const struct slirp_hostfwd *f = &cfg->fwd[i];
		struct in_addr host = { f->host_addr }, guest = { f->guest_addr };
		char rule[80];
		int e;

		if (!guest.s_addr)
			guest.s_addr = htonl(0x0a00020f);	/* 10.0.2.15, the first DHCP address */
		errno = 0;
		if (slirp_add_hostfwd(s->slirp, f->udp, host, f->host_port, guest, f->guest_port) == 0)
			continue;
		e = errno ? errno : EADDRINUSE;
		fwd_text(f, rule, sizeof(rule));
		return hv_fail(err, errlen, -e, "hostfwd %s: cannot listen on port %u: %s", rule,
			       f->host_port, strerror(e));
	}
	return 0;
}

/*
 * libslirp reports through GLib's log, whose default handler writes stderr
 * itself: a blocking write on the slirp thread, about packets a guest sends
 * at will.  Its lines go through hvrun's log instead (never blocks), rate
 * limited; its debug chatter only with -v.
 */
static void slirp_glib_log(const gchar *domain, GLogLevelFlags level, const gchar *msg,
			   gpointer opaque)
{
	static struct hv_ratelimit limit;

	(void)opaque;
	if ((level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO)) && !hv_verbose)
		return;
	hv_warn_limited(&limit, "user-mode networking", "user-mode networking (%s): %s",
			domain ? domain : "glib", msg);
}

/* QEMU's user-mode network: 10.0.2.0/24, host 10.0.2.2, DNS 10.0.2.3, DHCP from .15; fec0::/64. */
static Slirp *slirp_start(struct slirp_be *s)
{
	SlirpConfig cfg = {
		.version = 1,
		.restricted = 0,
		.in_enabled = true,
		.vnetwork.s_addr = htonl(0x0a000200),
		.vnetmask.s_addr = htonl(0xffffff00),
		.vhost.s_addr = htonl(0x0a000202),
		.vdhcp_start.s_addr = htonl(0x0a00020f),
		.vnameserver.s_addr = htonl(0x0a000203),
		.in6_enabled = true,
		.vprefix_len = 64,
	};

	g_log_set_default_handler(slirp_glib_log, NULL);
	inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
	inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
	inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
	return slirp_new(&cfg, &slirp_callbacks, s);
}

static void grow_buffers(int fd)
{
	int size = SLIRP_SOCKBUF;

	/* Best effort: the kernel caps it at net.core.wmem_max/rmem_max. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

static struct slirp_be *slirp_alloc(char *err, size_t errlen)
{
	struct slirp_be *s = calloc(1, sizeof(*s));
	unsigned int i;
	int sv[2];

	if (!s) {
		hv_fail(err, errlen, -ENOMEM, "net user: out of memory");
		return NULL;
	}
	for (i = 0; i < NET_MAX_QUEUE_PAIRS; i++)
		s->be.fds[i] = -1;
	s->thread_fd = -1;
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->max_pfd = 16;
	s->pfd = calloc(s->max_pfd, sizeof(*s->pfd));
	if (s->wake_fd < 0 || !s->pfd ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
		hv_fail(err, errlen, -errno, "net user: %s", strerror(errno ? errno : ENOMEM));
		slirp_free(s);
		return NULL;
	}
	s->be.fds[0] = sv[0];
	s->thread_fd = sv[1];
	grow_buffers(sv[0]);
	grow_buffers(sv[1]);
	s->be.ops = &slirp_ops;
	snprintf(s->be.name, sizeof(s->be.name), "user");
	s->be.nr_queue_pairs = 1;
	s->be.vnet_hdr_len = 0;
	s->be.tun_offloads = 0;
	return s;
}

/* Starts the thread and waits until it has dropped its privileges. */
static int start_thread(struct slirp_be *s, char *err, size_t errlen)
{
	int ret;

	if (sem_init(&s->started, 0, 0) != 0)
		return hv_fail(err, errlen, -errno, "net user: sem_init: %s", strerror(errno));
	ret = pthread_create(&s->thread, NULL, slirp_thread, s);
	if (ret) {
		sem_destroy(&s->started);
		return hv_fail(err, errlen, -ret, "net user: cannot start a thread: %s",
			       strerror(ret));
	}
	while (sem_wait(&s->started) != 0 && errno == EINTR)
		;
	if (s->start_ret) {
		pthread_join(s->thread, NULL);
		sem_destroy(&s->started);
		return hv_fail(err, errlen, s->start_ret, "net user thread: %s", s->start_err);
	}
	return 0;
}

int slirp_open(const struct slirp_config *cfg, struct net_backend **out, char *err, size_t errlen)
{
	struct slirp_be *s = slirp_alloc(err, errlen);
	int ret;

	if (!s)
		return -ENOMEM;
	s->slirp = slirp_start(s);
	if (!s->slirp) {
		slirp_free(s);
		return hv_fail(err, errlen, -ENOMEM, "net user: libslirp would not start");
	}
	ret = add_forwards(s, cfg, err, errlen);
	if (!ret)
		ret = start_thread(s, err, errlen);
	if (ret) {
		slirp_free(s);
		return ret;
	}
	hv_info("net user: libslirp %s, guest network 10.0.2.0/24, %u port forward(s)",
		slirp_version_string(), cfg->nr_fwd);
	*out = &s->be;
	return 0;
}
