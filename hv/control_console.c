/* control_console.c: the guest's console through the control thread: hvrun's stdout as a pipe, copied to the log, the terminal, a replay ring and "hvctl console" clients. */
#include "hv/control_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv/base/log.h"

/* ---- client to guest ---- */

/* Console input from a client: into hvrun's stdin pipe; what does not fit is dropped. */
void ctl_console_input(struct control *c, const uint8_t *p, size_t len)
{
	while (len && c->con_in_wr >= 0) {
		ssize_t n = write(c->con_in_wr, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* the guest reads slower than the client types: drop the rest */
		p += n;
		len -= (size_t)n;
	}
}

/* The ring, oldest byte first, to a client that just attached to the console. */
bool ctl_console_replay(struct control *c, struct ctl_client *cl)
{
	size_t start = (c->ring_head + CONTROL_RING_BYTES - c->ring_len) % CONTROL_RING_BYTES;
	size_t first = c->ring_len < CONTROL_RING_BYTES - start ? c->ring_len
							       : CONTROL_RING_BYTES - start;

	return ctl_send(c, cl, c->ring + start, first) &&
	       ctl_send(c, cl, c->ring, c->ring_len - first);
}

/* ---- guest to log, terminal and clients ---- */

/* An output buffer for fd (hv/base/output.h); heap-allocated: a writer stuck at exit keeps it. */
static struct outbuf *ctl_outbuf(const char *name, int fd, char *err, size_t errlen)
{
	struct outbuf *o = malloc(sizeof(*o));

	if (!o || outbuf_init(o, name, fd, CONTROL_OUT_BYTES) < 0) {
		free(o);
		hv_fail(err, errlen, -ENOMEM, "console %s: out of memory", name);
		return NULL;
	}
	return o;
}

void ctl_outbuf_close(struct outbuf *o)
{
	if (!o)
		return;
	outbuf_destroy(o);
	if (!o->ring)
		free(o);	/* else its writer is stuck in write(): it keeps o until exit */
}

/* One read of the guest's output, to the log, the terminal, the ring and the console clients. */
bool ctl_console_pump(struct control *c, int fd)
{
	uint8_t buf[16384];
	ssize_t n;
	size_t i;

	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0) {
		ev_del(&c->loop, fd);	/* every writer gone: hvrun is exiting */
		return false;
	}
	/* Copies only: their writers do the write()s (a full disk or terminal stalls no command). */
	if (c->log_out)
		outbuf_write(c->log_out, buf, (size_t)n);
	if (c->term_out)	/* not a daemon: the terminal gets it too */
		outbuf_write(c->term_out, buf, (size_t)n);
	for (i = 0; i < (size_t)n; i++) {
		c->ring[c->ring_head] = buf[i];
		c->ring_head = (c->ring_head + 1) % CONTROL_RING_BYTES;
	}
	c->ring_len = c->ring_len + (size_t)n > CONTROL_RING_BYTES ? CONTROL_RING_BYTES
								    : c->ring_len + (size_t)n;
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0 && c->clients[i].console)
			ctl_send(c, &c->clients[i], buf, (size_t)n);
	return true;
}

void ctl_console_output(void *opaque, int fd, uint32_t events)
{
	(void)events;
	ctl_console_pump(opaque, fd);
}

/* pipe2() whose write end (1) or read end (0) replaces fd target; returns the other end. */
static int ctl_pipe_onto(int target, int keep_end, char *err, size_t errlen)
{
	int p[2], keep, other;

	if (pipe2(p, O_CLOEXEC) < 0)
		return hv_fail(err, errlen, -errno, "pipe: %s", strerror(errno));
	keep = p[keep_end];
	other = p[!keep_end];
	/* dup2() leaves the new fd 0/1 without FD_CLOEXEC: as a standard stream should be. */
	if (dup2(other, target) < 0) {
		int ret = -errno;

		close(p[0]);
		close(p[1]);
		return hv_fail(err, errlen, ret, "dup2: %s", strerror(-ret));
	}
	close(other);
	return keep;
}

int control_console_setup(struct control *c, bool daemon, char *err, size_t errlen)
{
	int fd;

	if (c->o->console_log) {
		/* Opened now, while privileged (the drop may switch users); 0600: consoles show secrets. */
		c->log_fd = open(c->o->console_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (c->log_fd < 0)
			return hv_fail(err, errlen, -errno, "--console-log %s: %s", c->o->console_log,
					strerror(errno));
		c->log_out = ctl_outbuf("conlog", c->log_fd, err, errlen);
		if (!c->log_out)
			return -ENOMEM;
	}
	if (!daemon) {
		c->term_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (c->term_fd < 0)
			return hv_fail(err, errlen, -errno, "dup: %s", strerror(errno));
		c->term_out = ctl_outbuf("term", c->term_fd, err, errlen);
		if (!c->term_out)
			return -ENOMEM;
	}
	fd = ctl_pipe_onto(STDOUT_FILENO, 0, err, errlen);
	if (fd < 0)
		return fd;
	c->con_out_rd = fd;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	/*
	 * The guest's side does not block on us: COM1 drops a byte the pipe has
	 * no room for, the virtio console waits a little (devices/virtio_console.c).
	 * A bigger pipe makes that rare; the size is best effort (pipe-max-size).
	 */
	fcntl(STDOUT_FILENO, F_SETFL, O_NONBLOCK);
	fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1024 * 1024);
	if (daemon) {
		fd = ctl_pipe_onto(STDIN_FILENO, 1, err, errlen);
		if (fd < 0)
			return fd;
		c->con_in_wr = fd;
		fcntl(fd, F_SETFL, O_NONBLOCK);
	}
	return 0;
}

int control_console_log_fd(const struct control *c)
{
	return c->log_fd;
}
