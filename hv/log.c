/* log.c: hvrun's own messages (stderr, one line each, "hvrun: " prefix). */
#include "hv/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <time.h>
#include <stdio.h>

bool hv_verbose;

static void hv_vlog(const char *level, const char *fmt, va_list ap)
{
	/* One fprintf per line keeps lines from several vCPU threads whole. */
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "hvrun: %s%s\n", level, line);
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

bool hv_ratelimit_ok(struct hv_ratelimit *r, const char *who)
{
	uint64_t now = hv_now_ns();

	if (r->window_ns == 0 || now - r->window_ns >= HV_RATELIMIT_WINDOW_NS) {
		if (r->suppressed)
			hv_warn("%s: %" PRIu64 " more messages suppressed", who, r->suppressed);
		r->window_ns = now;
		r->count = 0;
		r->suppressed = 0;
	}
	if (r->count < HV_RATELIMIT_BURST) {
		r->count++;
		return true;
	}
	r->suppressed++;
	return false;
}
