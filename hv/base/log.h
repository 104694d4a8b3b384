/* log.h: hvrun's own messages, always on stderr and prefixed "hvrun: " (the guest owns stdout). */
#ifndef HV_LOG_H
#define HV_LOG_H

#include <stdarg.h>
#include <stdbool.h>

extern bool hv_verbose;

void hv_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hv_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hv_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* only with -v */

#include <stddef.h>

/* For functions that report "0 or -errno with a one-line reason": formats into err (if any), returns ret. */
int hv_fail(char *err, size_t errlen, int ret, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#include <stdint.h>

/*
 * Messages a guest can cause at will (a bad descriptor, a failing request):
 * at most HV_RATELIMIT_BURST per HV_RATELIMIT_WINDOW_NS, the rest counted and
 * reported in one line when the next window opens.  Zero-initialised.
 */
#define HV_RATELIMIT_BURST	5
#define HV_RATELIMIT_WINDOW_NS	(5ull * 1000 * 1000 * 1000)
struct hv_ratelimit {
	uint64_t window_ns;	/* when the current window opened (CLOCK_MONOTONIC), 0: none yet */
	unsigned int count;	/* messages let through in it */
	uint64_t suppressed;	/* messages held back in it */
};

/*
 * May one more message about who ("virtio-blk: disk.raw") go out now?  Any
 * thread; the limiter may be shared.  When a new window opens, the count
 * held back in the last one is reported in one line.
 */
bool hv_ratelimit_ok(struct hv_ratelimit *r, const char *who);

/*
 * hv_warn() through the limiter r (NULL: none), who naming the source in
 * the "more messages suppressed" line: the one way out for every line a
 * guest can cause.
 */
void hv_warn_limited(struct hv_ratelimit *r, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void hv_vwarn_limited(struct hv_ratelimit *r, const char *who, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* hv_info() (only with -v) through the limiter r. */
void hv_info_limited(struct hv_ratelimit *r, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* How many lines every limiter held back so far (--stats). */
uint64_t hv_log_suppressed(void);

/* One whole line (with its newline) to hvrun's log output: hv/base/output.h's out_log. */
void hv_log_line(const char *line, size_t len);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t hv_now_ns(void);

#include <time.h>

/* CLOCK_REALTIME ms milliseconds from now: the deadline pthread's timed waits take. */
struct timespec hv_deadline_ms(unsigned int ms);

#endif
