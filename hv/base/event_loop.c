/* event_loop.c: an I/O thread: epoll over eventfds, handlers looked up by fd so removal is always safe. */
#include "hv/base/event_loop.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "hv/base/log.h"
#include "hv/base/seccomp.h"

#define EV_BATCH	16

struct ev_source {
	int fd;
	ev_handler_fn fn;
	void *opaque;
	struct ev_source *next;
};

int ev_loop_init(struct ev_loop *l, const char *name)
{
	struct epoll_event ev = { .events = EPOLLIN };

	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->seccomp_kind = SECCOMP_IO;
	l->vm_fd = -1;
	pthread_mutex_init(&l->lock, NULL);
	l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->epoll_fd < 0 || l->wake_fd < 0)
		goto fail;
	ev.data.fd = l->wake_fd;
	if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, l->wake_fd, &ev) < 0)
		goto fail;
	return 0;
fail:
	{
		int ret = -errno;

		if (l->epoll_fd >= 0)
			close(l->epoll_fd);
		if (l->wake_fd >= 0)
			close(l->wake_fd);
		l->epoll_fd = l->wake_fd = -1;
		return ret;
	}
}

void ev_loop_destroy(struct ev_loop *l)
{
	struct ev_source *s, *n;

	ev_loop_stop(l);
	for (s = l->sources; s; s = n) {
		n = s->next;
		free(s);
	}
	l->sources = NULL;
	if (l->epoll_fd >= 0)
		close(l->epoll_fd);
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	l->epoll_fd = l->wake_fd = -1;
	pthread_mutex_destroy(&l->lock);
}

int ev_add(struct ev_loop *l, int fd, uint32_t events, ev_handler_fn fn, void *opaque)
{
	struct epoll_event ev = { .events = EPOLLIN | events, .data.fd = fd };
	struct ev_source *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->fd = fd;
	s->fn = fn;
	s->opaque = opaque;
	pthread_mutex_lock(&l->lock);
	if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int ret = -errno;

		pthread_mutex_unlock(&l->lock);
		free(s);
		return ret;
	}
	s->next = l->sources;
	l->sources = s;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int ev_del(struct ev_loop *l, int fd)
{
	struct ev_source **p, *s;
	int ret = -ENOENT;

	pthread_mutex_lock(&l->lock);
	for (p = &l->sources; (s = *p); p = &s->next) {
		if (s->fd == fd) {
			*p = s->next;
			free(s);
			epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return ret;
}

int ev_loop_poll(struct ev_loop *l, int timeout_ms)
{
	struct epoll_event ev[EV_BATCH];
	int n, i, ran = 0;

	n = epoll_wait(l->epoll_fd, ev, EV_BATCH, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		struct ev_source *s;
		ev_handler_fn fn = NULL;
		void *opaque = NULL;
		int fd = ev[i].data.fd;

		if (fd == l->wake_fd) {
			uint64_t v;

			if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				hv_warn("%s: wake eventfd: %s", l->name, strerror(errno));
			continue;
		}
		/*
		 * Look the handler up now rather than keeping a pointer in the
		 * epoll event: a source removed since epoll_wait() returned is
		 * simply not found.
		 */
		pthread_mutex_lock(&l->lock);
		for (s = l->sources; s; s = s->next) {
			if (s->fd == fd) {
				fn = s->fn;
				opaque = s->opaque;
				break;
			}
		}
		pthread_mutex_unlock(&l->lock);
		if (fn) {
			fn(opaque, fd, ev[i].events);
			ran++;
		}
	}
	return ran;
}

static void *ev_loop_thread(void *arg)
{
	struct ev_loop *l = arg;
	struct seccomp_thread_args sa = { .vm_fd = l->vm_fd, .vcpu_fd = -1 };

	/* Named by itself (the filter's messages use the name), then filtered. */
	pthread_setname_np(pthread_self(), l->name);
	l->start_ret = seccomp_enter((enum seccomp_thread_kind)l->seccomp_kind, &sa);
	sem_post(&l->ready);
	if (l->start_ret < 0)
		return NULL;
	while (!atomic_load(&l->stop)) {
		int ret = ev_loop_poll(l, -1);

		if (ret < 0) {
			hv_err("%s: epoll_wait: %s", l->name, strerror(-ret));
			break;
		}
	}
	return NULL;
}

int ev_loop_start(struct ev_loop *l)
{
	int ret;

	atomic_store(&l->stop, false);
	if (sem_init(&l->ready, 0, 0) < 0)
		return -errno;
	ret = pthread_create(&l->thread, NULL, ev_loop_thread, l);
	if (ret) {
		sem_destroy(&l->ready);
		return -ret;
	}
	while (sem_wait(&l->ready) != 0 && errno == EINTR)
		;
	sem_destroy(&l->ready);
	if (l->start_ret < 0) {
		pthread_join(l->thread, NULL);
		return l->start_ret;
	}
	l->started = true;
	return 0;
}

void ev_loop_stop(struct ev_loop *l)
{
	uint64_t one = 1;

	if (!l->started)
		return;
	atomic_store(&l->stop, true);
	if (write(l->wake_fd, &one, sizeof(one)) < 0)
		hv_warn("%s: cannot wake the I/O thread: %s", l->name, strerror(errno));
	pthread_join(l->thread, NULL);
	l->started = false;
}

/* ---- timers ---- */

static void ev_timer_fired(void *opaque, int fd, uint32_t events)
{
	struct ev_timer *t = opaque;
	uint64_t expirations;

	(void)events;
	if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		hv_warn("%s: timerfd: %s", t->name, strerror(errno));
	t->fn(t->opaque);
}

int ev_timer_init(struct ev_timer *t, const char *name, ev_timer_fn fn, void *opaque)
{
	*t = (struct ev_timer){ .fd = -1, .fn = fn, .opaque = opaque, .name = name };
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	return t->fd < 0 ? -errno : 0;
}

int ev_timer_start(struct ev_timer *t, struct ev_loop *l)
{
	int ret;

	if (t->loop)
		return 0;
	ret = ev_add(l, t->fd, 0, ev_timer_fired, t);
	if (!ret)
		t->loop = l;
	return ret;
}

static struct timespec ev_timespec(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000u),
				  .tv_nsec = (long)(ns % 1000000000u) };
}

int ev_timer_set(struct ev_timer *t, uint64_t first_ns, uint64_t interval_ns)
{
	struct itimerspec its = {
		.it_value = ev_timespec(first_ns),
		.it_interval = ev_timespec(interval_ns),
	};

	return timerfd_settime(t->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

void ev_timer_stop(struct ev_timer *t)
{
	if (t->fd < 0)
		return;
	ev_timer_set(t, 0, 0);
	if (t->loop)
		ev_del(t->loop, t->fd);
	t->loop = NULL;
}

void ev_timer_destroy(struct ev_timer *t)
{
	ev_timer_stop(t);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
