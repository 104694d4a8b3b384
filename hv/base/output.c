/* output.c: bounded output buffers, each drained by its own writer thread (hv/base/output.h). */
#include "hv/base/output.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "hv/base/log.h"
#include "hv/base/seccomp.h"

/* The guest's console may burst (a boot log); hvrun's trace even more. */
#define OUT_CONSOLE_CAP	(1u << 20)
#define OUT_LOG_CAP	(8u << 20)
/*
 * At exit, what is left is written as long as the reader keeps reading, but
 * a reader that takes nothing for OUT_EXIT_IDLE_MS is given up (a terminal
 * nobody reads must not hold an exit), and nobody is waited for more than
 * OUT_EXIT_MAX_MS.
 */
#define OUT_EXIT_IDLE_MS 250
#define OUT_EXIT_MAX_MS	10000
/* A non-blocking fd that is full is polled in slices this long. */
#define OUT_POLL_MS	100

struct outbuf out_console, out_log;

int outbuf_init(struct outbuf *o, const char *name, int fd, size_t cap)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->fd = fd;
	o->cap = cap;
	o->ring = malloc(cap);
	if (!o->ring)
		return -ENOMEM;
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->wake, NULL);
	pthread_cond_init(&o->drained, NULL);
	return 0;
}

/* A write error other than "try again": nobody will read this output any more. */
static bool outbuf_fatal(int err)
{
	return err != EINTR && err != EAGAIN && err != EWOULDBLOCK;
}

/*
 * Before outbuf_start(): straight to the fd, as much as it takes without
 * waiting (a full non-blocking fd drops the rest).  Lock held.
 */
static void outbuf_write_direct(struct outbuf *o, const uint8_t *p, size_t len)
{
	while (len && !o->gone) {
		ssize_t n = write(o->fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			o->nr_written += (uint64_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			if (n == 0 || outbuf_fatal(errno)) {
				o->gone = true;
				o->err = n == 0 ? EIO : errno;
			}
			break;
		}
	}
	o->nr_dropped += len;
}

size_t outbuf_write(struct outbuf *o, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t room, tail, first;

	if (!o->ring)		/* never initialised: nowhere to go */
		return len;
	pthread_mutex_lock(&o->lock);
	if (!o->started) {
		outbuf_write_direct(o, b, len);
		pthread_mutex_unlock(&o->lock);
		return len;
	}
	room = o->gone ? 0 : o->cap - o->len;
	if (room > len)
		room = len;
	o->nr_dropped += len - room;
	if (room) {
		tail = (o->head + o->len) % o->cap;
		first = o->cap - tail < room ? o->cap - tail : room;
		memcpy(o->ring + tail, b, first);
		memcpy(o->ring, b + first, room - first);
		o->len += room;
		pthread_cond_signal(&o->wake);
	}
	pthread_mutex_unlock(&o->lock);
	return len;
}

/* One write of [p, p + len) on the writer thread, waiting for a full non-blocking fd. */
static ssize_t outbuf_write_fd(struct outbuf *o, const uint8_t *p, size_t len)
{
	for (;;) {
		ssize_t n = write(o->fd, p, len);

		if (n >= 0 || errno == EINTR) {
			if (n >= 0)
				return n;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		struct pollfd pfd = { .fd = o->fd, .events = POLLOUT };

		if (poll(&pfd, 1, OUT_POLL_MS) < 0 && errno != EINTR)
			return -1;
	}
}

static void *outbuf_thread(void *arg)
{
	struct outbuf *o = arg;
	char tname[16];

	/* Named by itself (prctl): naming another thread opens a /proc file. */
	snprintf(tname, sizeof(tname), "out-%.11s", o->name);
	pthread_setname_np(pthread_self(), tname);
	/* A writer needs little: write, poll, futex (docs/15-seccomp.md). */
	if (seccomp_enter(SECCOMP_OUTPUT, NULL) < 0)
		return NULL;	/* with the lock never taken, writes simply queue and drop */
	pthread_mutex_lock(&o->lock);
	for (;;) {
		size_t chunk;
		ssize_t n;
		int werr;

		while (!o->len && !o->stop)
			pthread_cond_wait(&o->wake, &o->lock);
		if (!o->len)
			break;		/* stopped, and all written */
		chunk = o->cap - o->head < o->len ? o->cap - o->head : o->len;
		/* Only this thread moves head: producers append after head + len. */
		pthread_mutex_unlock(&o->lock);
		n = outbuf_write_fd(o, o->ring + o->head, chunk);
		werr = n < 0 ? errno : EIO;
		pthread_mutex_lock(&o->lock);
		if (o->abandoned)
			break;		/* outbuf_stop() gave up on us: the rest is dropped */
		if (n > 0) {
			o->head = (o->head + (size_t)n) % o->cap;
			o->len -= (size_t)n;
			o->nr_written += (uint64_t)n;
		} else {
			/* The reader is gone for good (EPIPE, EIO, ...): drop all from now on. */
			int err = werr;

			o->gone = true;
			o->err = err;
			o->nr_dropped += o->len;
			o->head = o->len = 0;
			pthread_cond_broadcast(&o->drained);
			pthread_mutex_unlock(&o->lock);
			if (o != &out_log)	/* that one would only drop its own line */
				hv_warn("%s output: %s; no more output goes there", o->name, strerror(err));
			pthread_mutex_lock(&o->lock);
			continue;
		}
		if (!o->len)
			pthread_cond_broadcast(&o->drained);
	}
	pthread_cond_broadcast(&o->drained);
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

int outbuf_start(struct outbuf *o)
{
	int ret;

	if (!o->ring || o->started)
		return 0;
	pthread_mutex_lock(&o->lock);
	o->started = true;
	o->stop = false;
	pthread_mutex_unlock(&o->lock);
	ret = pthread_create(&o->thread, NULL, outbuf_thread, o);
	if (ret) {
		o->started = false;
		return -ret;
	}
	return 0;
}

/*
 * Waits on o->drained until the ring is empty, for at most max_ms, and gives
 * up sooner when the writer wrote nothing for idle_ms.  Lock held.
 */
static bool outbuf_wait_empty(struct outbuf *o, unsigned int idle_ms, unsigned int max_ms)
{
	unsigned int waited = 0;

	while (o->len && o->started && waited < max_ms) {
		uint64_t before = o->nr_written;
		struct timespec until = hv_deadline_ms(idle_ms);

		while (o->len && o->started &&
		       pthread_cond_timedwait(&o->drained, &o->lock, &until) != ETIMEDOUT)
			;
		waited += idle_ms;
		if (o->len && o->nr_written == before)
			break;		/* the reader took nothing: it is not coming back in time */
	}
	return o->len == 0;
}

bool outbuf_flush(struct outbuf *o, unsigned int timeout_ms)
{
	bool empty;

	if (!o->ring)
		return true;
	pthread_mutex_lock(&o->lock);
	empty = outbuf_wait_empty(o, timeout_ms, timeout_ms);
	pthread_mutex_unlock(&o->lock);
	return empty;
}

void outbuf_stop(struct outbuf *o)
{
	bool empty;

	if (!o->ring || !o->started)
		return;
	pthread_mutex_lock(&o->lock);
	empty = outbuf_wait_empty(o, OUT_EXIT_IDLE_MS, OUT_EXIT_MAX_MS);
	o->stop = true;
	if (!empty) {
		/* Whatever the stuck writer has not written is dropped; it ends when its write() does. */
		o->nr_dropped += o->len;
		o->abandoned = true;
	}
	pthread_cond_signal(&o->wake);
	pthread_mutex_unlock(&o->lock);
	if (empty) {
		pthread_join(o->thread, NULL);
	} else {
		pthread_detach(o->thread);
		return;		/* the ring stays: the writer may still be in write() from it */
	}
	pthread_mutex_lock(&o->lock);
	o->started = false;
	pthread_mutex_unlock(&o->lock);
}

void outbuf_destroy(struct outbuf *o)
{
	if (!o->ring)
		return;
	if (o->started) {
		outbuf_stop(o);
		if (o->started)
			return;		/* detached and stuck: o and its ring stay */
	}
	free(o->ring);
	o->ring = NULL;
	pthread_cond_destroy(&o->drained);
	pthread_cond_destroy(&o->wake);
	pthread_mutex_destroy(&o->lock);
}

void outbuf_counters(struct outbuf *o, uint64_t *written, uint64_t *dropped, size_t *queued)
{
	pthread_mutex_lock(&o->lock);
	*written = o->nr_written;
	*dropped = o->nr_dropped;
	*queued = o->len;
	pthread_mutex_unlock(&o->lock);
}

/* ---- hvrun's stdout and stderr ---- */

void output_init(void)
{
	if (!out_console.ring)
		outbuf_init(&out_console, "console", STDOUT_FILENO, OUT_CONSOLE_CAP);
	if (!out_log.ring)
		outbuf_init(&out_log, "log", STDERR_FILENO, OUT_LOG_CAP);
}

void output_stop(void)
{
	outbuf_stop(&out_console);
	outbuf_stop(&out_log);
}

int output_start(void)
{
	static bool registered;
	int ret;

	output_init();
	ret = outbuf_start(&out_console);
	if (!ret)
		ret = outbuf_start(&out_log);
	if (!ret && !registered) {
		registered = true;
		atexit(output_stop);
	}
	return ret;
}

/* ---- a stdio stream onto an outbuf ---- */

static ssize_t outbuf_cookie_write(void *cookie, const char *buf, size_t size)
{
	return (ssize_t)outbuf_write(cookie, buf, size);
}

FILE *outbuf_fopen(struct outbuf *o)
{
	static const cookie_io_functions_t io = { .write = outbuf_cookie_write };
	FILE *f = fopencookie(o, "w", io);

	if (f)
		setvbuf(f, NULL, _IOFBF, 8192);
	return f;
}
