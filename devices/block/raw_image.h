/* raw_image.h: a raw disk image (a regular file or a block device) and the io_uring that does its I/O. */
#ifndef DEV_BLOCK_RAW_IMAGE_H
#define DEV_BLOCK_RAW_IMAGE_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * The image and its ring.  Not thread-safe: the owner serialises every call
 * (virtio-blk holds its device lock).  Every operation is tagged with a
 * caller value returned with its completion (io_uring's user_data).
 *
 * hvrun opens each image once, before it drops its privileges, and keeps it
 * across guest reboots (hv/host.c): each boot's virtio-blk device borrows it,
 * and leaves it drained (nothing in flight, no completion pending).
 */
struct rawimg {
	char *path;			/* for messages */
	int fd;				/* the image; O_DIRECT with cache=none */
	/*
	 * The same file opened without O_DIRECT, for the rare request O_DIRECT
	 * cannot take (a buffer or an offset not aligned as the host file system
	 * wants); == fd without cache=none.  See docs/08-virtio-blk.md.
	 */
	int fd_buffered;
	bool readonly;
	bool direct;			/* cache=none: fd has O_DIRECT */
	bool is_blkdev;
	uint64_t size;			/* bytes, when opened or last rawimg_refresh_size() */

	uint32_t dio_mem_align;		/* O_DIRECT: buffer address alignment (1 without O_DIRECT) */
	uint32_t dio_off_align;		/* O_DIRECT: file offset and segment length alignment (1 without) */
	uint32_t phys_block;		/* the host's unit of allocation/I/O, a power of 2 in [512, 65536] */

	/* Learnt at run time: the file system refused these fallocate modes (EOPNOTSUPP). */
	bool no_punch_hole;
	bool no_zero_range;

	struct io_uring ring;
	unsigned int depth;		/* operations in flight the ring was sized for (rawimg_open) */
	bool restricted;		/* IORING_REGISTER_RESTRICTIONS applied */
	int event_fd;			/* signalled for every completion (io_uring_register_eventfd) */
	unsigned int in_flight;		/* operations prepared and not yet reaped */

	/* Counters since rawimg_open() (--stats), under the owner's lock like everything here. */
	uint64_t nr_submitted;		/* operations queued (readv, writev, fsync, fallocate) */
	uint64_t nr_completed;		/* completions reaped or drained */
	uint64_t nr_submit_calls;	/* io_uring_submit() calls that handed over any: batches */
	uint64_t nr_reaps;		/* rawimg_reap() calls that found any: completion batches */
	uint64_t nr_errors;		/* completions with res < 0 */
	uint64_t bytes_read, bytes_written;	/* requested by readv / writev (a short one is re-queued) */
};

/*
 * Opens path (a regular file or a block device) read-write, or read-only,
 * with O_DIRECT when direct, and sets up a ring for depth operations in
 * flight.  Refuses: a missing path, a directory, anything else that is not a
 * regular file or block device, a file system without O_DIRECT when direct.
 * 0, or -errno with a one-line reason ("disk.img: ...") in err.
 */
int rawimg_open(struct rawimg *img, const char *path, bool readonly, bool direct,
		unsigned int depth, char *err, size_t errlen);
/* Waits for in-flight operations (their completions are dropped), closes everything. */
void rawimg_close(struct rawimg *img);

/* Re-reads the size of the file or block device into img->size.  0 or -errno. */
int rawimg_refresh_size(struct rawimg *img);

/*
 * Can O_DIRECT take this transfer: every buffer address aligned to
 * dio_mem_align, every length and the offset to dio_off_align?  Always true
 * without O_DIRECT.
 */
bool rawimg_dio_aligned(const struct rawimg *img, const struct iovec *iov, unsigned int nr,
			uint64_t off);

/*
 * Queue one operation (submitted by the next rawimg_submit()).  buffered:
 * use fd_buffered (see above).  dsync: RWF_DSYNC, the write is durable when
 * it completes (a write-through cache).  0, or -errno if the ring refused.
 */
int rawimg_readv(struct rawimg *img, const struct iovec *iov, unsigned int nr, uint64_t off,
		 bool buffered, uint64_t tag);
int rawimg_writev(struct rawimg *img, const struct iovec *iov, unsigned int nr, uint64_t off,
		  bool buffered, bool dsync, uint64_t tag);
/* fdatasync(2): every completed write is on stable storage when this completes. */
int rawimg_flush(struct rawimg *img, uint64_t tag);
/* fallocate(2) with mode (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, ...). */
int rawimg_fallocate(struct rawimg *img, int mode, uint64_t off, uint64_t len, uint64_t tag);

/* Submits what was queued.  0 or -errno. */
int rawimg_submit(struct rawimg *img);

/* Called once per completion: tag as given, res as io_uring gives it (bytes, or -errno). */
typedef void (*rawimg_done_fn)(void *opaque, uint64_t tag, int32_t res);

/*
 * Reads the event fd (clearing it) and hands every completion now in the
 * ring to fn.  Returns how many.
 */
unsigned int rawimg_reap(struct rawimg *img, rawimg_done_fn fn, void *opaque);

/* True when completions wait in the ring to be reaped (rawimg_reap()). */
bool rawimg_completions_ready(struct rawimg *img);

/*
 * Submits anything queued and waits until no operation is in flight, handing
 * each completion to fn (which must not queue new ones).  Device reset uses
 * it: afterwards no I/O touches the guest's buffers.  0 or -errno.
 */
int rawimg_drain(struct rawimg *img, rawimg_done_fn fn, void *opaque);

#endif
