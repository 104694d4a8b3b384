/* control.h: the control socket (hvctl's other end): JSON lines on a unix socket, and the daemon's console. */
#ifndef HV_CONTROL_H
#define HV_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hv/machine/vm.h"
#include "hv/options.h"

struct control;
struct virtio_dev;
struct vballoon_info;

#define CONTROL_MAX_CLIENTS	16		/* connections at once; the 17th gets an error line */
#define CONTROL_MAX_LINE	(64 * 1024)	/* a longer request line: error, then the connection closes */
#define CONTROL_RING_BYTES	(64 * 1024)	/* console output replayed to a new console client */
#define CONTROL_OUT_BYTES	(1024 * 1024)	/* console output waiting for the log file or the terminal */
#define CONTROL_NAME_MAX	64		/* as options.c's valid_name() */

/*
 * What the dispatcher does to a VM.  control_new(o, NULL) uses the real
 * functions (vm_pause, board_powerdown, vballoon_*, stats_json, vblk_*);
 * a unit test passes fakes, so the protocol is tested without KVM.
 */
struct control_vm_ops {
	int (*pause)(struct vm *vm);				/* 0 or -EALREADY */
	int (*resume)(struct vm *vm);				/* 0 or -EALREADY */
	int (*powerdown)(struct vm *vm);			/* board_powerdown() */
	void (*request_stop)(struct vm *vm, enum vm_stop_reason why);
	int (*balloon_set)(struct virtio_dev *d, uint64_t bytes);
	void (*balloon_info)(struct virtio_dev *d, struct vballoon_info *out);
	json_t *(*stats)(struct vm *vm);
	/* Re-reads the image's size; sets *bytes to the new capacity.  Takes d->lock.  0 or -errno. */
	int (*disk_resize)(struct virtio_dev *d, uint64_t *bytes);
};

/*
 * The VM's name: --name, else the first disk's file name without its
 * extension, else the kernel's file name, else "hvrun"; characters other
 * than A-Z a-z 0-9 . _ - become '_', a leading '.' too; at most
 * CONTROL_NAME_MAX characters.  buf has room for CONTROL_NAME_MAX + 1.
 */
void control_vm_name(const struct hv_options *o, char *buf, size_t len);

/*
 * Where sockets go by default: $HVRUN_CONTROL_DIR if set (tests), else
 * /run/hvrun for root, else $XDG_RUNTIME_DIR/hvrun, else /tmp/hvrun-UID.
 * 0, or -ENAMETOOLONG.
 */
int control_default_dir(char *buf, size_t len);

/*
 * A control server for o (borrowed: must outlive it), with no socket yet;
 * ops NULL: the real VM functions.  NULL if out of memory.
 */
struct control *control_new(const struct hv_options *o, const struct control_vm_ops *ops);

/*
 * Privileged phase (before privs_drop): creates the socket directory (0700)
 * if needed, refuses a path where a live hvrun listens (a derived name tries
 * NAME-2 .. NAME-9 instead), removes a stale socket file, binds (mode 0600)
 * and listens.  0, or -errno with a one-line reason in err.
 */
int control_listen(struct control *c, char *err, size_t errlen);

/*
 * Privileged phase, for --daemonize or --console-log: opens the log, and
 * makes hvrun's stdout (where COM1 and hvc0 write) a pipe the control thread
 * reads: it appends to the log, keeps the last CONTROL_RING_BYTES, feeds
 * console clients and, when not daemon, copies to the terminal as before.
 * With daemon, stdin becomes a pipe that console clients write.  0, or
 * -errno with err.
 */
int control_console_setup(struct control *c, bool daemon, char *err, size_t errlen);

/* The --console-log fd (for the daemon's stderr), or -1. */
int control_console_log_fd(const struct control *c);

/* The socket's path and the VM's name ("" / the name before control_listen). */
const char *control_socket_path(const struct control *c);
const char *control_name(const struct control *c);

/* After privs_drop(): serves the socket (and the console pipe) on the "control" thread.  0 or -errno. */
int control_start(struct control *c);

/* Each boot: the commands act on vm until the detach (which waits for a command in progress). */
void control_attach_vm(struct control *c, struct vm *vm);
void control_detach_vm(struct control *c, bool rebooting);

/* Stops the thread, closes every connection, removes the socket file.  NULL is fine. */
void control_close(struct control *c);

/*
 * The protocol without the socket (unit tests, and the thread itself):
 * handles one request line (without its '\n') and returns the reply line,
 * '\n'-terminated, malloc'd.  *to_console is set when the connection must
 * switch to the raw console stream after this reply.
 */
char *control_handle_line(struct control *c, const char *line, size_t len, bool *to_console);

/* "256M" -> bytes (K, M, G, T: powers of 1024; no suffix: bytes).  0 or -EINVAL. */
int control_parse_size(const char *s, uint64_t *bytes);

#endif
