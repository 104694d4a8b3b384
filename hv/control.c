/* control.c: the control socket: one JSON request per line in, one reply per line out, on its own thread (commands: control_cmd.c; console: control_console.c). */
#include "hv/control.h"
#include "hv/control_priv.h"
#include "hv/control_proto.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hv/base/event_loop.h"
#include "hv/base/log.h"
#include "hv/base/output.h"
#include "hv/base/sandbox.h"
#include "hv/base/seccomp.h"

#define CTL_READ_CHUNK	4096
#define CTL_OUT_MAX	(1024 * 1024)	/* a client that reads nothing is dropped past this */
#define CTL_DISCARD_MAX	(16 * 1024 * 1024)	/* a refused client may send this much more */
#define CTL_NAME_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

/* ---- names and paths ---- */

void control_vm_name(const struct hv_options *o, char *buf, size_t len)
{
	const char *src = "hvrun", *slash;
	size_t n, i;
	bool strip_ext = false;

	if (o->name)
		src = o->name;
	else if (o->nr_disks)
		src = o->disks[0].path, strip_ext = true;
	else if (o->kernel)
		src = o->kernel;	/* vmlinuz-6.1.0-18-amd64: its dots are not an extension */
	else if (o->cdrom)
		src = o->cdrom, strip_ext = true;	/* a live CD: debian-live-12.iso */
	if (!o->name && (slash = strrchr(src, '/')))
		src = slash + 1;
	n = strlen(src);
	if (strip_ext) {
		const char *dot = strrchr(src, '.');

		if (dot && dot != src)
			n = (size_t)(dot - src);
	}
	if (n > CONTROL_NAME_MAX)
		n = CONTROL_NAME_MAX;
	if (n >= len)
		n = len - 1;
	for (i = 0; i < n; i++)
		buf[i] = strchr(CTL_NAME_CHARS, src[i]) && src[i] ? src[i] : '_';
	buf[n] = '\0';
	if (buf[0] == '.')
		buf[0] = '_';	/* NAME.sock must not be a hidden file */
	if (n == 0)
		snprintf(buf, len, "hvrun");
}

int control_default_dir(char *buf, size_t len)
{
	int ret = control_dir(CONTROL_DIR_ENV, buf, len);

	if (ret != -ENOENT)
		return ret;
	if (geteuid() == 0)
		return control_dir(CONTROL_DIR_RUN, buf, len);
	ret = control_dir(CONTROL_DIR_XDG, buf, len);
	if (ret != -ENOENT)
		return ret;
	/* No runtime directory (a cron job, su): a private one in /tmp, checked below. */
	return control_dir(CONTROL_DIR_TMP, buf, len);
}

/*
 * The socket directory: created 0700 if missing; if it exists it must be a
 * real directory of ours that nobody else may enter (in /tmp, anyone could
 * have made it first).
 */
static int ctl_make_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return hv_fail(err, errlen, -errno, "cannot create the control directory %s: %s",
				dir, strerror(errno));
	if (lstat(dir, &st) < 0)
		return hv_fail(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return hv_fail(err, errlen, -EPERM, "%s: not a directory owned by this user; "
				"remove it or give --control PATH", dir);
	if ((st.st_mode & 077) && chmod(dir, 0700) < 0)
		return hv_fail(err, errlen, -errno, "%s: chmod 0700: %s", dir, strerror(errno));
	return 0;
}

/* Is an hvrun listening at path?  1 yes, 0 no (nothing there, or a stale socket file), -errno. */
static int ctl_probe(const char *path)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = control_connect(path);
	if (fd < 0)
		return fd == -ECONNREFUSED ? 0 : fd;
	close(fd);
	return 1;
}

static int ctl_bind(struct control *c, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int ret;

	if (control_sockaddr(c->path, &sa))
		return hv_fail(err, errlen, -ENAMETOOLONG, "control socket %s: the path is longer "
				"than %zu bytes", c->path, sizeof(sa.sun_path) - 1);
	/* A socket file nobody listens on is what a killed hvrun leaves: ours to replace. */
	if (unlink(c->path) < 0 && errno != ENOENT)
		return hv_fail(err, errlen, -errno, "cannot remove the stale socket %s: %s",
				c->path, strerror(errno));
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0)
		return hv_fail(err, errlen, -errno, "socket(AF_UNIX): %s", strerror(errno));
	/* The file is created 0600 by bind() itself: no moment when others could connect. */
	old = umask(0177);
	ret = bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || listen(c->listen_fd, CONTROL_MAX_CLIENTS) < 0 || lstat(c->path, &st) < 0) {
		ret = -errno;
		close(c->listen_fd);
		c->listen_fd = -1;
		return hv_fail(err, errlen, ret, "control socket %s: %s", c->path, strerror(-ret));
	}
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	/* Relative paths stop working at the daemon's chdir("/"): keep an absolute one. */
	if (c->path[0] == '/') {
		c->abs_path = strdup(c->path);
	} else {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) && asprintf(&c->abs_path, "%s/%s", cwd, c->path) < 0)
			c->abs_path = NULL;
	}
	/* In the empty root (hv/base/sandbox.c) the path is gone: a helper removes the file at exit. */
	sandbox_remove_at_exit(c->abs_path, c->sock_dev, c->sock_ino);
	return 0;
}

int control_listen(struct control *c, char *err, size_t errlen)
{
	char dir[PATH_MAX], base[CONTROL_NAME_MAX + 1];
	bool derived = !c->o->name && !c->o->control_path;
	unsigned int attempt;
	int ret, n;

	control_vm_name(c->o, base, sizeof(base));
	snprintf(c->name, sizeof(c->name), "%s", base);
	if (c->o->control_path) {
		if (strlen(c->o->control_path) >= sizeof(c->path))
			return hv_fail(err, errlen, -ENAMETOOLONG, "--control %s: the path is longer "
					"than %zu bytes", c->o->control_path, sizeof(c->path) - 1);
		snprintf(c->path, sizeof(c->path), "%s", c->o->control_path);
		ret = ctl_probe(c->path);
	} else {
		if (control_default_dir(dir, sizeof(dir)) < 0)
			return hv_fail(err, errlen, -ENAMETOOLONG, "the control directory's path is "
					"too long");
		ret = ctl_make_dir(dir, err, errlen);
		if (ret)
			return ret;
		/*
		 * A name hvrun made up (two "hvrun --raw" at once, two VMs on one
		 * kernel) moves aside, as NAME-2, ...; a name the user gave is refused.
		 */
		for (attempt = 1; attempt <= (derived ? 9u : 1u); attempt++) {
			if (attempt > 1)
				snprintf(c->name, sizeof(c->name), "%.*s-%c", CONTROL_NAME_MAX - 2,
					 base, (char)('0' + attempt));	/* 2 to 9 */
			n = snprintf(c->path, sizeof(c->path), "%s/%s.sock", dir, c->name);
			if (n < 0 || (size_t)n >= sizeof(c->path))
				return hv_fail(err, errlen, -ENAMETOOLONG, "control socket %s/%s.sock: "
						"the path is too long; give --control PATH", dir,
						c->name);
			ret = ctl_probe(c->path);
			if (ret != 1)
				break;
		}
	}
	if (ret == 1)
		return hv_fail(err, errlen, -EADDRINUSE, "%s: another hvrun is running as '%s' "
				"(hvctl -n %s status); give this one another --name", c->path,
				c->name, c->name);
	if (ret == -EEXIST)
		return hv_fail(err, errlen, ret, "%s exists and is not a socket", c->path);
	if (ret < 0)
		return hv_fail(err, errlen, ret, "control socket %s: %s", c->path, strerror(-ret));
	return ctl_bind(c, err, errlen);
}

/* ---- connections (on the control thread) ---- */

static void ctl_client_close(struct control *c, struct ctl_client *cl)
{
	if (cl->fd < 0)
		return;
	ev_del(&c->loop, cl->fd);
	close(cl->fd);
	free(cl->in);
	free(cl->out);
	memset(cl, 0, sizeof(*cl));
	cl->ctl = c;
	cl->fd = -1;
}

/* Watch for room in the socket only while there is something waiting for it. */
static void ctl_arm_out(struct control *c, struct ctl_client *cl, bool on)
{
	/* ev_add() registered the fd; only its event mask changes (the handler is found by fd). */
	struct epoll_event ev = { .events = (cl->eof ? 0 : EPOLLIN) | (on ? EPOLLOUT : 0),
				  .data.fd = cl->fd };

	if ((cl->out_armed != on || cl->eof) &&
	    epoll_ctl(c->loop.epoll_fd, EPOLL_CTL_MOD, cl->fd, &ev) == 0)
		cl->out_armed = on;
}

/* Sends what is queued; false if the client is gone (closed here). */
static bool ctl_flush(struct control *c, struct ctl_client *cl)
{
	while (cl->out_len) {
		ssize_t n = send(cl->fd, cl->out, cl->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			ctl_client_close(c, cl);
			return false;
		}
		memmove(cl->out, cl->out + n, cl->out_len - (size_t)n);
		cl->out_len -= (size_t)n;
	}
	if (!cl->out_len && cl->eof) {
		ctl_client_close(c, cl);
		return false;
	}
	if (!cl->out_len && cl->draining)
		shutdown(cl->fd, SHUT_WR);	/* the client reads our last line, then the end */
	ctl_arm_out(c, cl, cl->out_len != 0);
	return true;
}

/*
 * Queues bytes for a client and sends what the socket takes now.  A client
 * that stops reading is dropped once CTL_OUT_MAX bytes wait: the control
 * thread (and the console behind it) never waits for one.  false: closed.
 */
bool ctl_send(struct control *c, struct ctl_client *cl, const void *data, size_t len)
{
	if (cl->out_len + len > CTL_OUT_MAX) {
		hv_warn("control: a client read nothing of %zu bytes: disconnected", cl->out_len);
		ctl_client_close(c, cl);
		return false;
	}
	if (cl->out_len + len > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;
		uint8_t *p;

		while (cap < cl->out_len + len)
			cap *= 2;
		p = realloc(cl->out, cap);
		if (!p) {
			ctl_client_close(c, cl);
			return false;
		}
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, data, len);
	cl->out_len += len;
	return ctl_flush(c, cl);
}

static bool ctl_send_line(struct control *c, struct ctl_client *cl, char *line)
{
	bool ok = line ? ctl_send(c, cl, line, strlen(line)) : true;

	free(line);
	return ok;
}

/* Handles the complete lines in cl->in; false if the client was closed. */
static bool ctl_client_lines(struct control *c, struct ctl_client *cl)
{
	char *nl;

	while (!cl->console && (nl = memchr(cl->in, '\n', cl->in_len))) {
		size_t len = (size_t)(nl - cl->in), rest = cl->in_len - len - 1;
		bool to_console = false;

		if (len && cl->in[len - 1] == '\r')
			len--;		/* telnet-style clients (socat, nc -C) */
		if (len && !ctl_send_line(c, cl, control_handle_line(c, cl->in, len, &to_console)))
			return false;
		memmove(cl->in, nl + 1, rest);
		cl->in_len = rest;
		if (to_console) {
			/* From now on raw bytes: the backlog first, then what the guest writes. */
			cl->console = true;
			if (!ctl_console_replay(c, cl))
				return false;
			ctl_console_input(c, (uint8_t *)cl->in, cl->in_len);
			cl->in_len = 0;
		}
	}
	return true;
}

static void ctl_client_event(void *opaque, int fd, uint32_t events)
{
	struct ctl_client *cl = opaque;
	struct control *c = cl->ctl;
	uint8_t buf[CTL_READ_CHUNK];
	size_t off = 0, take;
	ssize_t n;

	if (cl->fd != fd)
		return;		/* an event for a connection closed earlier in this batch */
	if ((events & EPOLLOUT) && !ctl_flush(c, cl))
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (cl->draining) {
		cl->discarded += n > 0 ? (size_t)n : 0;
		if (n <= 0 || cl->discarded > CTL_DISCARD_MAX)
			ctl_client_close(c, cl);
		return;
	}
	if (n == 0 && cl->out_len) {
		/* Half-closed (echo '{"cmd":"status"}' | socat - UNIX:...): send the rest, then close. */
		cl->eof = true;
		ctl_arm_out(c, cl, true);
		return;
	}
	if (n <= 0) {
		/* Gone, perhaps mid-line: the part of a line it sent goes with it. */
		ctl_client_close(c, cl);
		return;
	}
	if (cl->console) {
		ctl_console_input(c, buf, (size_t)n);
		return;
	}
	if (!cl->in && !(cl->in = malloc(CONTROL_MAX_LINE))) {
		ctl_client_close(c, cl);
		return;
	}
	while (off < (size_t)n) {
		if (cl->console) {
			/* "console" came in the middle of this read: the rest is keyboard input. */
			ctl_console_input(c, buf + off, (size_t)n - off);
			return;
		}
		take = CONTROL_MAX_LINE - cl->in_len;
		if (take > (size_t)n - off)
			take = (size_t)n - off;
		memcpy(cl->in + cl->in_len, buf + off, take);
		cl->in_len += take;
		off += take;
		if (!ctl_client_lines(c, cl))
			return;
		if (cl->in_len == CONTROL_MAX_LINE) {
			/*
			 * No newline in 64 KiB: not a request of ours.  Say so and hang
			 * up gently: shut our side once the line is out, and discard
			 * what the client still sends until it closes.  Closing at once
			 * would reset the connection, and the client would lose the line.
			 */
			cl->draining = true;
			ctl_send_line(c, cl, ctl_error_line(NULL, "line-too-long",
							   "a request line is at most 65536 bytes"));
			return;
		}
	}
}

static void ctl_accept(void *opaque, int fd, uint32_t events)
{
	static const char busy[] = "{\"ok\":false,\"error\":{\"code\":\"busy\",\"message\":"
				   "\"too many control connections (at most 16)\"}}\n";
	struct control *c = opaque;
	struct ctl_client *cl = NULL;
	unsigned int i;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;		/* EAGAIN, or the client left already; EMFILE: it waits in the backlog */
	for (i = 0; i < CONTROL_MAX_CLIENTS && !cl; i++)
		if (c->clients[i].fd < 0)
			cl = &c->clients[i];
	if (!cl || ev_add(&c->loop, cfd, 0, ctl_client_event, cl) < 0) {
		/* Best effort: a fresh socket's buffer takes one line. */
		send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		return;
	}
	cl->fd = cfd;
}

/* ---- life cycle ---- */

struct control *control_new(const struct hv_options *o, const struct control_vm_ops *ops)
{
	struct control *c = calloc(1, sizeof(*c));
	unsigned int i;

	if (!c)
		return NULL;
	c->o = o;
	c->ops = ops ? *ops : ctl_real_ops;
	c->listen_fd = c->con_out_rd = c->con_in_wr = c->term_fd = c->log_fd = -1;
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		c->clients[i].ctl = c;
		c->clients[i].fd = -1;
	}
	pthread_mutex_init(&c->lock, NULL);
	control_vm_name(o, c->name, sizeof(c->name));
	if (ev_loop_init(&c->loop, "control") < 0) {
		pthread_mutex_destroy(&c->lock);
		free(c);
		return NULL;
	}
	c->loop.seccomp_kind = SECCOMP_CONTROL;
	c->loop_ready = true;
	return c;
}

const char *control_socket_path(const struct control *c)
{
	return c->path;
}

const char *control_name(const struct control *c)
{
	return c->name;
}

int control_start(struct control *c)
{
	int ret = 0;

	if (c->listen_fd >= 0)
		ret = ev_add(&c->loop, c->listen_fd, 0, ctl_accept, c);
	if (!ret && c->con_out_rd >= 0)
		ret = ev_add(&c->loop, c->con_out_rd, 0, ctl_console_output, c);
	if (!ret && c->log_out)
		ret = outbuf_start(c->log_out);
	if (!ret && c->term_out)
		ret = outbuf_start(c->term_out);
	if (!ret)
		ret = ev_loop_start(&c->loop);
	return ret;
}

void control_attach_vm(struct control *c, struct vm *vm)
{
	pthread_mutex_lock(&c->lock);
	c->vm = vm;
	c->boots++;
	clock_gettime(CLOCK_MONOTONIC, &c->boot_start);
	if (c->stop_pending)
		c->ops.request_stop(vm, VM_STOP_QUIT);	/* vm_run() then returns at once */
	pthread_mutex_unlock(&c->lock);
}

void control_detach_vm(struct control *c, bool rebooting)
{
	/* Waits for a command in progress: after this, nothing touches the old VM. */
	pthread_mutex_lock(&c->lock);
	c->vm = NULL;
	c->rebooting = rebooting;
	pthread_mutex_unlock(&c->lock);
}

void control_close(struct control *c)
{
	struct stat st;
	unsigned int i;

	if (!c)
		return;
	if (c->loop_ready) {
		ev_loop_stop(&c->loop);
		/* What the guest wrote just before the end, for the log and the terminal. */
		for (i = 0; c->con_out_rd >= 0 && i < 64 && ctl_console_pump(c, c->con_out_rd); i++)
			;
		for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
			ctl_client_close(c, &c->clients[i]);
		ev_loop_destroy(&c->loop);
	}
	ctl_outbuf_close(c->log_out);	/* each waits a bounded time for its reader */
	ctl_outbuf_close(c->term_out);
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		/* Only the file we bound: another hvrun may have taken the path since. */
		if (!sandbox_active() && c->abs_path && lstat(c->abs_path, &st) == 0 &&
		    st.st_ino == c->sock_ino &&
		    st.st_dev == c->sock_dev && unlink(c->abs_path) < 0)
			hv_warn("cannot remove the control socket %s: %s", c->abs_path,
				strerror(errno));
	}
	if (c->con_out_rd >= 0)
		close(c->con_out_rd);
	if (c->con_in_wr >= 0)
		close(c->con_in_wr);
	if (c->term_fd >= 0)
		close(c->term_fd);
	if (c->log_fd >= 0)
		close(c->log_fd);
	free(c->abs_path);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
