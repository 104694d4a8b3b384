/* log.c: hvrun's own messages (stderr, one line each, "hvrun: " prefix). */
#include "hv/base/log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "hv/base/output.h"

bool hv_verbose;

static atomic_uint_fast64_t nr_suppressed;

/* Also used for a line that is cut: it ends "...". */
void hv_log_line(const char *line, size_t len)
{
	if (out_log.ring)
		outbuf_write(&out_log, line, len);	/* never blocks once started (hv/base/output.h) */
	else
		fwrite(line, 1, len, stderr);
}

static void hv_vlog(const char *level, const char *fmt, va_list ap)
{
	/* One write per line keeps lines from several threads whole. */
	char line[1024];
	int n, m;

	n = snprintf(line, sizeof(line) - 1, "hvrun: %s", level);
	m = vsnprintf(line + n, sizeof(line) - 1 - (size_t)n, fmt, ap);
	n = m < 0 ? n : n + m >= (int)sizeof(line) - 1 ? (int)sizeof(line) - 2 : n + m;
	line[n++] = '\n';
	hv_log_line(line, (size_t)n);
}

void hv_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hv_vlog("", fmt, ap);
	va_end(ap);
}

void hv_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hv_vlog("warning: ", fmt, ap);
	va_end(ap);
}

void hv_info(const char *fmt, ...)
{
	va_list ap;

	if (!hv_verbose)
		return;
	va_start(ap, fmt);
	hv_vlog("", fmt, ap);
	va_end(ap);
}

int hv_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

uint64_t hv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One lock for every limiter: held for a few comparisons, never around output. */
static pthread_mutex_t ratelimit_lock = PTHREAD_MUTEX_INITIALIZER;

struct timespec hv_deadline_ms(unsigned int ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

bool hv_ratelimit_ok(struct hv_ratelimit *r, const char *who)
{
	uint64_t now = hv_now_ns(), reported = 0;
	bool ok;

	pthread_mutex_lock(&ratelimit_lock);
	if (r->window_ns == 0 || now - r->window_ns >= HV_RATELIMIT_WINDOW_NS) {
		reported = r->suppressed;
		r->window_ns = now;
		r->count = 0;
		r->suppressed = 0;
	}
	ok = r->count < HV_RATELIMIT_BURST;
	if (ok) {
		r->count++;
	} else {
		r->suppressed++;
		nr_suppressed++;
	}
	pthread_mutex_unlock(&ratelimit_lock);
	if (reported)
		hv_warn("%s: %" PRIu64 " more messages suppressed", who, reported);
	return ok;
}

void hv_vwarn_limited(struct hv_ratelimit *r, const char *who, const char *fmt, va_list ap)
{
	if (r && !hv_ratelimit_ok(r, who))
		return;
	hv_vlog("warning: ", fmt, ap);
}

void hv_warn_limited(struct hv_ratelimit *r, const char *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hv_vwarn_limited(r, who, fmt, ap);
	va_end(ap);
}

void hv_info_limited(struct hv_ratelimit *r, const char *who, const char *fmt, ...)
{
	va_list ap;

	if (!hv_verbose || (r && !hv_ratelimit_ok(r, who)))
		return;
	va_start(ap, fmt);
	hv_vlog("", fmt, ap);
	va_end(ap);
}

uint64_t hv_log_suppressed(void)
{
	return nr_suppressed;
}
