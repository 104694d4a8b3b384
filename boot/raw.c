/* raw.c: the simplest loader: a flat binary copied to 0x1000, entered in real mode. */
#include "boot/raw.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/base/file.h"
#include "hv/base/trace.h"

int raw_load_image(const struct guest_mem *gm, const void *img, size_t len,
		   char *err, size_t errlen)
{
	if (len == 0) {
		snprintf(err, errlen, "the program is empty");
		return -EINVAL;
	}
	if (len > RAW_LOAD_END - RAW_LOAD_ADDR) {
		snprintf(err, errlen, "the program is %zu bytes; a real-mode program must fit in "
			 "0x%x-0x%x (%u bytes)", len, RAW_LOAD_ADDR, RAW_LOAD_END - 1,
			 RAW_LOAD_END - RAW_LOAD_ADDR);
		return -EFBIG;
	}
	if (gm_write(gm, RAW_LOAD_ADDR, img, len)) {
		snprintf(err, errlen, "guest RAM does not cover 0x%x-0x%zx", RAW_LOAD_ADDR,
			 RAW_LOAD_ADDR + len - 1);
		return -EFAULT;
	}
	HV_TRACE(HV_TRACE_BOOT, "program: %zu B at 0x%x", len, RAW_LOAD_ADDR);
	return 0;
}

int raw_load_file(const struct guest_mem *gm, const char *path, char *err, size_t errlen)
{
	char why[200];
	uint8_t *buf;
	size_t len;
	int ret;

	ret = hv_read_file(path, SIZE_MAX, &buf, &len, err, errlen);
	if (ret)
		return ret;
	ret = raw_load_image(gm, buf, len, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, why);
		ret = -EINVAL;
	}
	free(buf);
	return ret;
}
