/* file.c: read a whole file, bounded, with one-line errors that name it. */
#include "hv/base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int hv_read_file(const char *path, size_t max, uint8_t **buf, size_t *len,
		 char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0, size;
	uint8_t *b;
	int fd, e;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	if ((uint64_t)st.st_size > max) {
		snprintf(err, errlen, "%s: %lld bytes, more than the %zu allowed", path,
			 (long long)st.st_size, max);
		close(fd);
		return -EFBIG;
	}
	size = (size_t)st.st_size;
	b = malloc(size ? size : 1);
	if (!b) {
		snprintf(err, errlen, "%s: out of memory for %zu bytes", path, size);
		close(fd);
		return -ENOMEM;
	}
	while (got < size) {
		ssize_t n = read(fd, b + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n ? errno : EIO;
			snprintf(err, errlen, "%s: %s", path, n ? strerror(e) : "the file shrank while read");
			free(b);
			close(fd);
			return -e;
		}
		got += (size_t)n;
	}
	close(fd);
	*buf = b;
	*len = got;
	return 0;
}

static int proc_dirfd = -1;

int hv_proc_keep(void)
{
	if (proc_dirfd < 0)
		proc_dirfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return proc_dirfd < 0 ? -errno : 0;
}

int hv_proc_open(const char *rel, int flags)
{
	char path[256];

	if (proc_dirfd >= 0)
		return openat(proc_dirfd, rel, flags | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%s", rel);
	return open(path, flags | O_CLOEXEC);
}
