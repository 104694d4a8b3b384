/* log.h: hvrun's own messages, always on stderr and prefixed "hvrun: " (the guest owns stdout). */
#ifndef HV_LOG_H
#define HV_LOG_H

#include <stdbool.h>

extern bool hv_verbose;

void hv_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hv_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hv_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* only with -v */

#include <stddef.h>

/* For functions that report "0 or -errno with a one-line reason": formats into err (if any), returns ret. */
int hv_fail(char *err, size_t errlen, int ret, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
