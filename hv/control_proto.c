/* control_proto.c: the control protocol's pieces that hvrun and hvctl share: socket directories, addresses, connecting, JSON lines. */
#include "hv/control_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int control_dir(enum control_dir which, char *buf, size_t len)
{
	const char *env;
	int n;

	switch (which) {
	case CONTROL_DIR_ENV:
		env = getenv("HVRUN_CONTROL_DIR");
		if (!env || !env[0])
			return -ENOENT;
		n = snprintf(buf, len, "%s", env);
		break;
	case CONTROL_DIR_XDG:
		env = getenv("XDG_RUNTIME_DIR");
		if (!env || env[0] != '/')
			return -ENOENT;
		n = snprintf(buf, len, "%s/hvrun", env);
		break;
	case CONTROL_DIR_RUN:
		n = snprintf(buf, len, "/run/hvrun");
		break;
	default:
		n = snprintf(buf, len, "/tmp/hvrun-%u", (unsigned int)geteuid());
		break;
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int control_sockaddr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

int control_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd, ret;

	if (control_sockaddr(path, &sa))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

char *control_json_line(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT), *line;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	return line;
}
