/* options_boot.c: --boot (the firmware's boot order, once=, menu=) and the order each boot uses. */
#include "hv/options.h"

#include <errno.h>
#include <string.h>

#include "firmware/pcbios.h"

int options_parse_boot(const char *arg, struct hv_options *o, char *err, size_t errlen)
{
	const char *p = arg;

	/* QEMU's -boot: "order=cd,once=d,menu=on", or its old bare form "dc". */
	if (*p && !strchr(p, '=')) {
		err[0] = '\0';
		if (strlen(p) >= sizeof(o->boot_order) || pcbios_parse_order(p, err, errlen))
			goto bad_order;
		snprintf(o->boot_order, sizeof(o->boot_order), "%s", p);
		return 0;
	}
	while (*p) {
		size_t len = strcspn(p, ",");
		char val[16];
		char *dst = NULL;

		if (!strncmp(p, "order=", 6))
			dst = o->boot_order;
		else if (!strncmp(p, "once=", 5))
			dst = o->boot_once;
		if (dst) {
			size_t key = (dst == o->boot_order) ? 6 : 5;

			snprintf(val, sizeof(val), "%.*s", (int)(len - key), p + key);
			err[0] = '\0';
			if (len - key >= 3 || pcbios_parse_order(val, err, errlen))
				goto bad_order;
			memcpy(dst, val, strlen(val) + 1);
		} else if (len == 7 && !strncmp(p, "menu=on", 7)) {
			o->boot_menu = true;
		} else if (len == 8 && !strncmp(p, "menu=off", 8)) {
			o->boot_menu = false;
		} else {
			snprintf(err, errlen, "--boot %s: unknown setting '%.*s' (give order=LETTERS, "
				 "once=LETTERS or menu=on|off)", arg, (int)len, p);
			return -EINVAL;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
bad_order:
	if (!err[0]) {
		snprintf(err, errlen, "--boot %s: give 1 or 2 of the letters c (disk) and d (CD-ROM), "
			 "e.g. --boot order=dc", arg);
	} else {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "--boot: %s", why);
	}
	return -EINVAL;
}

const char *options_boot_order(const struct hv_options *o, unsigned int boot)
{
	if (boot <= 1 && o->boot_once[0])
		return o->boot_once;
	if (o->boot_order[0])
		return o->boot_order;
	return boot <= 1 && o->cdrom ? "dc" : "cd";
}
