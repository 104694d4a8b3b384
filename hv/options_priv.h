/* options_priv.h: what hv/options*.c share, and nothing else includes. */
#ifndef HV_OPTIONS_PRIV_H
#define HV_OPTIONS_PRIV_H

#include <stddef.h>

#include "hv/options.h"

/* "123" -> 123 if <= max: digits only, no sign, no space.  0 or -EINVAL. */
int options_parse_uint(const char *s, unsigned long max, unsigned long *out);

/* options_nic.c: -t NAME, --net VALUE (one more NIC each), --mac MAC (for the NIC before it). */
int options_add_tap(const char *arg, struct hv_options *o, char *err, size_t errlen);
int options_add_net(const char *arg, struct hv_options *o, char *err, size_t errlen);
int options_set_mac(const char *arg, struct hv_options *o, char *err, size_t errlen);

/* Rules between NICs, once all are parsed: one TAP once, one MAC once, one host port once. */
int options_check_nics(const struct hv_options *o, char *err, size_t errlen);

#endif
