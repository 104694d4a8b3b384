/* output.h: what hvrun writes to the host (guest console, own messages) goes through bounded buffers that never block the writer. */
#ifndef HV_OUTPUT_H
#define HV_OUTPUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * One output: a terminal, a pipe or a file, and a ring of bytes waiting for
 * it.  Before outbuf_start() a write goes straight to the fd (set-up is one
 * thread and holds no lock).  After it, outbuf_write() only copies into the
 * ring and wakes the outbuf's own writer thread, the one thread that may
 * block on the fd: a device, vCPU or control thread holding a lock never
 * waits for a reader (docs/design.md, "Never block while holding a lock").
 * What does not fit while nobody reads is dropped and counted, newest first;
 * once the reader is back, output goes on.
 */
struct outbuf {
	char name[16];			/* "console", "log": the writer thread is "out-<name>" */
	int fd;				/* written by fd number: a dup2() onto it redirects it */
	pthread_mutex_t lock;		/* the ring and the counters; held for a memcpy, never an I/O */
	pthread_cond_t wake;		/* data arrived, or stop */
	pthread_cond_t drained;		/* the writer caught up */
	uint8_t *ring;
	size_t cap, head, len;		/* bytes [head, head + len) mod cap wait for the fd */
	pthread_t thread;
	bool started, stop, gone;	/* gone: the fd failed (EPIPE, EIO): drop everything */
	bool abandoned;			/* outbuf_stop() left a writer stuck in write() behind */
	int err;			/* errno of that failure */
	uint64_t nr_written, nr_dropped;	/* bytes */
};

/* 0 or -ENOMEM; cap bytes of ring (allocated now; pages are touched only as used). */
int outbuf_init(struct outbuf *o, const char *name, int fd, size_t cap);

/* Starts the writer thread: from now on outbuf_write() never blocks.  0 or -errno. */
int outbuf_start(struct outbuf *o);

/* Copies what fits and returns len (what did not fit is counted in nr_dropped). */
size_t outbuf_write(struct outbuf *o, const void *p, size_t len);

/* Waits at most timeout_ms for the ring to empty; true if it did. */
bool outbuf_flush(struct outbuf *o, unsigned int timeout_ms);

/*
 * Stops the writer once what is queued is written, as long as the reader
 * keeps taking it (a reader that takes nothing for 250 ms is given up, and
 * none is waited for beyond 10 s); the rest is dropped.  A writer still
 * stuck in write() is left behind (detached) with o and its ring: the
 * process is about to exit.
 */
void outbuf_stop(struct outbuf *o);

/* outbuf_stop(), then frees the ring (ring NULL after), unless the writer is stuck in write(). */
void outbuf_destroy(struct outbuf *o);

/* Counters, read under the lock (never waits for the fd). */
void outbuf_counters(struct outbuf *o, uint64_t *written, uint64_t *dropped, size_t *queued);

/*
 * hvrun's two outputs: the guest's console (stdout, fd 1) and hvrun's own
 * messages and trace (stderr, fd 2).  out_console and out_log are ready (in
 * their synchronous set-up mode) from the first call of output_init().
 */
extern struct outbuf out_console, out_log;
void output_init(void);
/* Starts both writers; an exit (atexit) then flushes them, waiting at most 1 s. */
int output_start(void);
void output_stop(void);

/* A stdio stream whose bytes go to o through outbuf_write() (for fprintf-style reports). */
FILE *outbuf_fopen(struct outbuf *o);

#endif
