/* event_loop.h: an I/O thread: epoll over eventfds (queue kicks, io_uring completions, TAP, stdin). */
#ifndef HV_EVENT_LOOP_H
#define HV_EVENT_LOOP_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Called on the loop's thread when fd is readable (events: EPOLL* bits). */
typedef void (*ev_handler_fn)(void *opaque, int fd, uint32_t events);

struct ev_source;

struct ev_loop {
	char name[16];			/* the thread's name: "io-blk0" */
	int seccomp_kind;		/* enum seccomp_thread_kind: SECCOMP_IO unless told */
	int vm_fd;			/* pins the thread's filter to the VM's fd; -1: none */
	int epoll_fd;
	int wake_fd;			/* eventfd: wakes the thread to stop */
	pthread_t thread;
	bool started;
	sem_t ready;			/* posted by the thread once its filter is on */
	int start_ret;			/* the thread's seccomp_enter() result */
	atomic_bool stop;
	pthread_mutex_t lock;		/* the source list */
	struct ev_source *sources;
};

int ev_loop_init(struct ev_loop *l, const char *name);
void ev_loop_destroy(struct ev_loop *l);	/* stops the thread if running, frees sources */

/* Watches fd for EPOLLIN (plus events, e.g. EPOLLOUT).  0 or -errno.  Any thread. */
int ev_add(struct ev_loop *l, int fd, uint32_t events, ev_handler_fn fn, void *opaque);
/* Stops watching fd.  After it returns on another thread, fn may still be running once. */
int ev_del(struct ev_loop *l, int fd);

/*
 * Waits up to timeout_ms (-1: forever) and runs the handlers of ready fds
 * once.  Returns how many ran, or -errno.  For tests, or a caller's own thread.
 */
int ev_loop_poll(struct ev_loop *l, int timeout_ms);

/*
 * Runs ev_loop_poll() on a new thread until ev_loop_stop().  The thread
 * names itself and installs its seccomp filter (seccomp_kind, vm_fd) first;
 * this returns once it has.  0 or -errno (also when the filter failed).
 */
int ev_loop_start(struct ev_loop *l);
void ev_loop_stop(struct ev_loop *l);

/*
 * A timer (a timerfd, CLOCK_MONOTONIC) whose handler runs on a loop's
 * thread.  Its life follows a device's: made with the device
 * (ev_timer_init), watched by the device's loop while the driver runs it
 * (ev_timer_start), armed and disarmed any number of times (ev_timer_set),
 * unwatched at reset (ev_timer_stop), closed with the device.  The handler
 * runs after the expirations were read, without any lock held.
 */
typedef void (*ev_timer_fn)(void *opaque);

struct ev_timer {
	int fd;				/* the timerfd; -1 before init and after destroy */
	struct ev_loop *loop;		/* the loop watching it, or NULL */
	ev_timer_fn fn;
	void *opaque;
	const char *name;		/* whose timer: "virtio-rng", in the rare warning */
};

/* Creates the timerfd (needs no privilege; before the sandbox's filters).  0 or -errno. */
int ev_timer_init(struct ev_timer *t, const char *name, ev_timer_fn fn, void *opaque);
/* Has l watch the timer (once: a second call does nothing).  0 or -errno. */
int ev_timer_start(struct ev_timer *t, struct ev_loop *l);
/* Fires first_ns from now, then every interval_ns (0: once); first_ns 0 disarms.  0 or -errno. */
int ev_timer_set(struct ev_timer *t, uint64_t first_ns, uint64_t interval_ns);
/* Disarms it and stops watching it; its handler may still be running once on the loop's thread. */
void ev_timer_stop(struct ev_timer *t);
/* ev_timer_stop(), then closes the timerfd.  Safe after a failed ev_timer_init() too. */
void ev_timer_destroy(struct ev_timer *t);

#endif
