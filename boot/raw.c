/* raw.c: the simplest loader: a flat binary copied to 0x1000, entered in real mode. */
#include "boot/raw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	return 0;
}

int raw_load_file(const struct guest_mem *gm, const char *path, char *err, size_t errlen)
{
	const size_t cap = RAW_LOAD_END - RAW_LOAD_ADDR + 1;	/* one byte more tells "too big" */
	uint8_t *buf;
	size_t len = 0;
	ssize_t n;
	int fd, e, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (len < cap) {
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			snprintf(err, errlen, "%s: %s", path, strerror(e));
			free(buf);
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (raw_load_image(gm, buf, len, err, errlen)) {
		char why[200];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
		ret = -EINVAL;
	}
	free(buf);
	return ret;
}
