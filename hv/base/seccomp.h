/* seccomp.h: per-thread system call allowlists (libseccomp), installed once set-up is done (docs/15-seccomp.md). */
#ifndef HV_SECCOMP_H
#define HV_SECCOMP_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/*
 * hvrun's exit status when kill stops it: 128 + SIGSYS, what a shell reports for a
 * process the signal killed; it tells the cause even when stderr is a full pipe that
 * the one line could not go into.
 */
#define SECCOMP_EXIT_STATUS 159

/* --seccomp kill|log|off. */
enum seccomp_policy {
	SECCOMP_POLICY_OFF,	/* no filter at all */
	SECCOMP_POLICY_KILL,	/* a forbidden call: one line naming thread and call, then exit 159 */
	SECCOMP_POLICY_LOG,	/* a forbidden call is made anyway, counted and named once */
};

/* What a thread does decides what it may ask the kernel (docs/15-seccomp.md, thread by thread). */
enum seccomp_thread_kind {
	SECCOMP_MAIN,		/* the process-wide filter: main thread + everything it starts */
	SECCOMP_VCPU,		/* KVM_RUN on its own vCPU fd, synchronous PIO/MMIO exits */
	SECCOMP_IO,		/* a device's I/O thread: epoll, eventfds, io_uring, backend fds */
	SECCOMP_CONTROL,	/* the control socket's thread: accept, recv, send, console pump */
	SECCOMP_SLIRP,		/* user-mode networking: real sockets on the guest's behalf */
	SECCOMP_OUTPUT,		/* a writer draining bounded console/log buffers */
	SECCOMP_NR_KINDS,
};

/* What pins a thread's filter to its own descriptors; -1: not pinned (any fd). */
struct seccomp_thread_args {
	int vm_fd;		/* SECCOMP_VCPU, SECCOMP_IO: the VM's fd (KVM_IRQ_LINE, KVM_IRQFD...) */
	int vcpu_fd;		/* SECCOMP_VCPU: KVM_RUN and the register ioctls only on this fd */
};

/* "kill" -> SECCOMP_POLICY_KILL.  0 or -EINVAL. */
int seccomp_parse_policy(const char *s, enum seccomp_policy *out);
const char *seccomp_policy_name(enum seccomp_policy p);
const char *seccomp_kind_name(enum seccomp_thread_kind kind);

/*
 * Once, early in main(), while hvrun is one thread: remembers the policy,
 * names every system call for the SIGSYS handler (which may not allocate)
 * and installs that handler.  Nothing is filtered yet.  0 or -errno.
 */
int seccomp_init_policy(enum seccomp_policy p, char *err, size_t errlen);
enum seccomp_policy seccomp_policy(void);

/*
 * The calling thread's filter, first thing in each thread (after it has
 * named itself, before it touches guest data); the main thread calls it
 * with SECCOMP_MAIN right after the privilege drop, and every thread it
 * starts later inherits that filter and stacks its own narrower one on top
 * (the strictest verdict wins).  a may be NULL (nothing pinned).  With the
 * policy off, does nothing.  0 or -errno (the thread should then stop).
 */
int seccomp_enter(enum seccomp_thread_kind kind, const struct seccomp_thread_args *a);

/* --seccomp log: forbidden calls made so far, by thread kind and call (JSON array; caller decrefs). */
json_t *seccomp_stats_json(void);
/* The same as lines for --stats; nothing when there were none. */
void seccomp_stats_print(FILE *out);
/* Total forbidden calls counted (log policy), for tests. */
uint64_t seccomp_violations(enum seccomp_thread_kind kind, int nr);

#endif
