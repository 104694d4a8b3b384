/* control_priv.h: what the control socket's three files share (control.c: socket, connections, life cycle; control_cmd.c: the commands; control_console.c: the console relay); no other file includes it. */
#ifndef HV_CONTROL_PRIV_H
#define HV_CONTROL_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>

#include <jansson.h>

#include "hv/base/event_loop.h"
#include "hv/base/output.h"
#include "hv/control.h"

/* One connection.  Only the control thread touches it. */
struct ctl_client {
	struct control *ctl;
	int fd;				/* -1: a free slot */
	bool console;			/* switched to the raw console stream */
	char *in;			/* the request line so far (CONTROL_MAX_LINE bytes) */
	size_t in_len;
	uint8_t *out;			/* what the socket has not taken yet */
	size_t out_len, out_cap;
	bool out_armed;			/* EPOLLOUT is being watched */
	bool eof;			/* the client sent all it will: close once out is sent */
	bool draining;			/* refused (line too long): input is discarded */
	size_t discarded;
};

struct control {
	const struct hv_options *o;
	struct control_vm_ops ops;
	char name[CONTROL_NAME_MAX + 1];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* as bound */
	char *abs_path;			/* for the unlink at exit, after chdir("/") */
	dev_t sock_dev;			/* the socket file we made: never unlink another's */
	ino_t sock_ino;
	int listen_fd;

	struct ev_loop loop;		/* the "control" thread */
	bool loop_ready;
	struct ctl_client clients[CONTROL_MAX_CLIENTS];

	/* The guest's console, when hvrun's stdout is our pipe (control_console_setup). */
	int con_out_rd;			/* read end of hvrun's stdout */
	int con_in_wr;			/* write end of hvrun's stdin (daemon), or -1 */
	int term_fd;			/* the terminal, still copied to (not daemon), or -1 */
	int log_fd;			/* --console-log, or -1 */
	/* Their writers (hv/base/output.h): the control thread never waits for a terminal or a disk. */
	struct outbuf *term_out, *log_out;
	uint8_t ring[CONTROL_RING_BYTES];	/* the last output, replayed to a new console client */
	size_t ring_head, ring_len;

	/* The VM of the current boot; lock held for the whole of a command. */
	pthread_mutex_t lock;
	struct vm *vm;
	unsigned int boots;
	bool rebooting;
	bool stop_pending;		/* "stop" came while no VM was attached */
	struct timespec boot_start;
};

/* ---- control.c: connections ---- */

/*
 * Queues bytes for a client and sends what the socket takes now; a client
 * that reads nothing is dropped past 1 MiB (CTL_OUT_MAX).  false: it was closed.
 */
bool ctl_send(struct control *c, struct ctl_client *cl, const void *data, size_t len);

/* ---- control_cmd.c: the commands ---- */

/* What control_new(o, NULL) uses: vm_pause, board_powerdown, vballoon_*, stats_json, vblk_*. */
extern const struct control_vm_ops ctl_real_ops;
/* An error reply line ({"ok":false,"error":{...}} and '\n'), malloc'd; id may be NULL. */
char *ctl_error_line(json_t *id, const char *code, const char *message);

/* ---- control_console.c: the guest's console, when hvrun's stdout is our pipe ---- */

/* Console input from a client: into hvrun's stdin pipe; what does not fit is dropped. */
void ctl_console_input(struct control *c, const uint8_t *p, size_t len);
/* The ring, oldest byte first, to a client that just attached to the console.  false: closed. */
bool ctl_console_replay(struct control *c, struct ctl_client *cl);
/* One read of the guest's output, to the log, the terminal, the ring and the console clients. */
bool ctl_console_pump(struct control *c, int fd);
/* The loop's handler for the console pipe's read end. */
void ctl_console_output(void *opaque, int fd, uint32_t events);
/* Stops and frees a console writer (control_close()); NULL is fine. */
void ctl_outbuf_close(struct outbuf *o);

#endif
