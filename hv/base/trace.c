/* trace.c: --trace: the global mask and the line printer behind HV_TRACE(). */
#include "hv/base/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hv/base/log.h"

uint32_t hv_trace_mask;
static uint64_t trace_start_ns;

/* In bit order, as options_parse_trace() spells them. */
static const char *const trace_kinds[] = {
	"exits", "pio", "mmio", "pci", "virtio", "irq", "boot",
};

void trace_init(uint32_t mask)
{
	trace_start_ns = hv_now_ns();
	hv_trace_mask = mask & HV_TRACE_ALL;
}

const char *trace_kind_name(uint32_t kind)
{
	unsigned int i;

	for (i = 0; i < sizeof(trace_kinds) / sizeof(trace_kinds[0]); i++)
		if (kind & (1u << i))
			return trace_kinds[i];
	return "?";
}

/*
 * __FILE__ is whatever path the compiler was given (CMake: absolute).  Print
 * it from the source root: everything before "hv/base/trace.c" in this file's own
 * __FILE__ is the common prefix to drop.
 */
static const char *trace_short_path(const char *file)
{
	static const char self[] = __FILE__;
	size_t prefix = sizeof(self) - 1 - strlen("hv/base/trace.c");

	if (strncmp(file, self, prefix) == 0)
		return file + prefix;
	return file;
}

void trace_line(uint32_t kind, const char *file, const char *func, const char *fmt, ...)
{
	char line[512], thread[16] = "?";
	uint64_t us = (hv_now_ns() - trace_start_ns) / 1000;
	size_t n, max = sizeof(line) - 1;	/* room for the newline */
	va_list ap;
	int len;

	pthread_getname_np(pthread_self(), thread, sizeof(thread));
	len = snprintf(line, max, "trace: %" PRIu64 "us %s [%s] %s:%s: ", us, thread,
		       trace_kind_name(kind), trace_short_path(file), func);
	n = len < 0 ? 0 : (size_t)len < max ? (size_t)len : max - 1;
	va_start(ap, fmt);
	len = vsnprintf(line + n, max - n, fmt, ap);
	va_end(ap);
	if (len > 0)
		n += (size_t)len < max - n ? (size_t)len : max - n - 1;
	if (n + 1 >= max && max > 4)
		memcpy(line + max - 4, "...", 3);	/* cut: say so */
	line[n++] = '\n';
	/* One copy into the log's buffer: never blocks, and the line stays whole. */
	hv_log_line(line, n);
}
