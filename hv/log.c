/* log.c: hvrun's own messages (stderr, one line each, "hvrun: " prefix). */
#include "hv/log.h"

#include <stdarg.h>
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
