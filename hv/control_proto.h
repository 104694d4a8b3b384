/* control_proto.h: what both ends of the control socket need (hvrun's hv/control*.c and ctl/hvctl.c): where sockets live, connecting, one JSON object per line. */
#ifndef HV_CONTROL_PROTO_H
#define HV_CONTROL_PROTO_H

#include <stddef.h>
#include <sys/un.h>

#include <jansson.h>

/*
 * hvctl is built from ctl/hvctl.c and this file's .c alone, linked with
 * jansson only: nothing here may call into the rest of hvrun (docs/control.md).
 */

/* The places a control socket's directory may be (docs/control.md, "The socket"). */
enum control_dir {
	CONTROL_DIR_ENV,	/* $HVRUN_CONTROL_DIR (tests), when set and not empty */
	CONTROL_DIR_XDG,	/* $XDG_RUNTIME_DIR/hvrun, when that variable is an absolute path */
	CONTROL_DIR_RUN,	/* /run/hvrun, root's */
	CONTROL_DIR_TMP,	/* /tmp/hvrun-UID, for a user without a runtime directory */
};

/*
 * One of those directories into buf: 0; -ENOENT when it does not apply
 * here (its variable unset); -ENAMETOOLONG when buf holds it cut short.
 */
int control_dir(enum control_dir which, char *buf, size_t len);

/* The address of the socket at path: 0, or -ENAMETOOLONG when it does not fit sun_path. */
int control_sockaddr(const char *path, struct sockaddr_un *sa);

/*
 * A blocking, close-on-exec stream socket connected to path, or -errno:
 * -ECONNREFUSED for a socket file nobody listens on (what a killed hvrun
 * leaves), -ENOENT for none, -ENAMETOOLONG for a path sun_path cannot hold.
 */
int control_connect(const char *path);

/* v as one protocol line: compact JSON, then '\n'; malloc'd.  NULL if out of memory (or v is NULL). */
char *control_json_line(json_t *v);

#endif
