/* sandbox.h: once everything is open, hvrun moves into an empty root of its own (as a jailer does). */
#ifndef HV_SANDBOX_H
#define HV_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Step 1, first thing, while hvrun is one thread (a mount namespace cannot
 * be left by a process whose threads share its file system context): a
 * mount namespace of hvrun's own, with every mount private, so nothing done
 * in it reaches the host.  Only as root and unless off (--sandbox off); a
 * process that may not (no CAP_SYS_ADMIN) goes on without it, unless
 * required (--sandbox on; then -EPERM with err).  0 or -errno.
 */
int sandbox_prepare(bool off, bool required, char *err, size_t errlen);

/* Files hvrun made and removes at exit (control socket, --pidfile): set before sandbox_enter(). */
void sandbox_remove_at_exit(const char *abs_path, dev_t dev, ino_t ino);

/*
 * Step 2, once /dev/kvm, images, TAPs, firmware and sockets are open and
 * before the privilege drop: pivot_root into an empty, read-only tmpfs.
 * /proc stays reachable through a descriptor kept for hv_proc_open(); with
 * user-mode networking the host's /etc/resolv.conf is bound in read-only
 * (libslirp reads it for the guest's DNS).  The files to remove at exit are
 * left to a small helper process outside the new root.  No-op unless
 * sandbox_prepare() made a namespace.  0 or -errno with err.
 */
int sandbox_enter(bool user_net, char *err, size_t errlen);

/* True once hvrun runs in its empty root. */
bool sandbox_active(void);

/* At exit: the helper removes the files (at most 1 s is waited for it). */
void sandbox_finish(void);

#endif
