/* raw_image.c: a raw disk image (regular file or block device) and its io_uring: open, check, queue, reap, drain. */
#include "devices/block/raw_image.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hv/base/log.h"
#include "hv/base/trace.h"

/* The SQ needs no more than a batch; the CQ holds every operation that can be in flight. */
#define RAWIMG_SQ_MAX		256u
#define RAWIMG_CQ_MAX		65536u		/* the kernel's IORING_MAX_CQ_ENTRIES */
/* Without STATX_DIOALIGN: the largest alignment a Linux file system asks for O_DIRECT. */
#define RAWIMG_DIO_FALLBACK	4096u
#define RAWIMG_MIN_BLOCK	512u
#define RAWIMG_MAX_BLOCK	65536u

static unsigned int rawimg_pow2_at_least(unsigned int v)
{
	unsigned int p = 1;

	while (p < v && p < (1u << 30))
		p <<= 1;
	return p;
}

/* A power of 2 in [512, 65536]; anything odd becomes 512 (a hint only: the guest's topology). */
static uint32_t rawimg_sane_block(uint64_t v)
{
	if (v < RAWIMG_MIN_BLOCK || (v & (v - 1)))
		return RAWIMG_MIN_BLOCK;
	return v > RAWIMG_MAX_BLOCK ? RAWIMG_MAX_BLOCK : (uint32_t)v;
}

static int rawimg_read_size(int fd, bool is_blkdev, uint64_t *size)
{
	struct stat st;

	if (is_blkdev)
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	*size = (uint64_t)st.st_size;
	return 0;
}

int rawimg_refresh_size(struct rawimg *img)
{
	uint64_t size;
	int ret = rawimg_read_size(img->fd, img->is_blkdev, &size);

	if (!ret)
		img->size = size;
	return ret;
}

/*
 * A second descriptor for the same file, without O_DIRECT.  Reopening
 * /proc/self/fd/N reaches the very inode fd refers to, even if path was
 * renamed meanwhile; without /proc, path is reopened and checked.
 */
static int rawimg_open_buffered(struct rawimg *img, int flags, const struct stat *st)
{
	char proc[64];
	struct stat st2;
	int fd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", img->fd);
	fd = open(proc, flags);
	if (fd < 0)
		fd = open(img->path, flags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st2) < 0 || st2.st_dev != st->st_dev || st2.st_ino != st->st_ino) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/* O_DIRECT's alignment rules for this file (statx STATX_DIOALIGN, Linux 6.1), else a safe guess. */
static int rawimg_dio_align(struct rawimg *img)
{
	struct statx stx;
	int lbs;

	memset(&stx, 0, sizeof(stx));
	if (statx(img->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN)) {
		/* "If the file does not support direct I/O, both fields are 0." */
		if (stx.stx_dio_mem_align == 0 || stx.stx_dio_offset_align == 0)
			return -EINVAL;
		img->dio_mem_align = stx.stx_dio_mem_align;
		img->dio_off_align = stx.stx_dio_offset_align;
		return 0;
	}
	if (img->is_blkdev && ioctl(img->fd, BLKSSZGET, &lbs) == 0 && lbs > 0) {
		img->dio_mem_align = img->dio_off_align = (uint32_t)lbs;
		return 0;
	}
	img->dio_mem_align = img->dio_off_align = RAWIMG_DIO_FALLBACK;
	return 0;
}

/*
 * The ring: CQ large enough for every operation in flight (each request has
 * at most one), restricted to the four opcodes a disk needs when the kernel
 * allows it (Linux 5.10), its completions signalled on event_fd.
 */
static int rawimg_setup_ring(struct rawimg *img, unsigned int depth)
{
	static const uint8_t ops[] = {
		IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC, IORING_OP_FALLOCATE,
	};
	struct io_uring_restriction res[sizeof(ops)];
	struct io_uring_params p;
	unsigned int sq = depth < RAWIMG_SQ_MAX ? depth : RAWIMG_SQ_MAX;
	unsigned int cq = rawimg_pow2_at_least(depth > 2 * sq ? depth : 2 * sq);
	unsigned int i;
	int ret;

	if (sq == 0)
		sq = 1;
	if (cq > RAWIMG_CQ_MAX)
		cq = RAWIMG_CQ_MAX;	/* beyond it, IORING_FEAT_NODROP keeps overflowed completions */
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_R_DISABLED;
	p.cq_entries = cq;
	ret = io_uring_queue_init_params(sq, &img->ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = cq;
		ret = io_uring_queue_init_params(sq, &img->ring, &p);
	}
	if (ret)
		return ret;
	img->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (img->event_fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = io_uring_register_eventfd(&img->ring, img->event_fd);
	if (ret)
		goto fail;
	if (p.flags & IORING_SETUP_R_DISABLED) {
		memset(res, 0, sizeof(res));
		for (i = 0; i < sizeof(ops); i++) {
			res[i].opcode = IORING_RESTRICTION_SQE_OP;
			res[i].sqe_op = ops[i];
		}
		/*
		 * The raw register calls: Debian's liburing 2.3 declares
		 * io_uring_register_restrictions() and io_uring_enable_rings()
		 * but does not export them.
		 */
		img->restricted = io_uring_register((unsigned int)img->ring.ring_fd,
						    IORING_REGISTER_RESTRICTIONS, res,
						    (unsigned int)sizeof(ops)) == 0;
		ret = io_uring_register((unsigned int)img->ring.ring_fd,
					IORING_REGISTER_ENABLE_RINGS, NULL, 0);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	io_uring_queue_exit(&img->ring);
	if (img->event_fd >= 0)
		close(img->event_fd);
	img->event_fd = -1;
	return ret;
}

int rawimg_open(struct rawimg *img, const char *path, bool readonly, bool direct,
		unsigned int depth, char *err, size_t errlen)
{
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st, st2;
	int ret;

	memset(img, 0, sizeof(*img));
	img->fd = img->fd_buffered = img->event_fd = -1;
	if (!path || !*path)
		return hv_fail(err, errlen, -EINVAL, "no disk image path given");
	/* Look first: opening a FIFO would block, opening a tty has side effects. */
	if (stat(path, &st) < 0)
		return hv_fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return hv_fail(err, errlen, -EISDIR,
				   "%s: is a directory, not a disk image", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return hv_fail(err, errlen, -EINVAL,
				   "%s: not a regular file or a block device", path);
	img->path = strdup(path);
	if (!img->path)
		return hv_fail(err, errlen, -ENOMEM, "%s: out of memory", path);
	img->readonly = readonly;
	img->direct = direct;
	img->is_blkdev = S_ISBLK(st.st_mode);
	img->dio_mem_align = img->dio_off_align = 1;

	img->fd = open(path, flags | (direct ? O_DIRECT : 0));
	if (img->fd < 0) {
		ret = -errno;
		if (direct && ret == -EINVAL)
			hv_fail(err, errlen, ret, "%s: the file system does not support O_DIRECT "
				    "(cache=none); use cache=writeback", path);
		else if (!readonly && (ret == -EACCES || ret == -EROFS || ret == -EPERM))
			hv_fail(err, errlen, ret, "%s: cannot open for writing: %s "
				    "(a read-only disk: add ro)", path, strerror(-ret));
		else
			hv_fail(err, errlen, ret, "%s: %s", path, strerror(-ret));
		goto fail;
	}
	if (fstat(img->fd, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
		ret = hv_fail(err, errlen, -ESTALE, "%s: changed while being opened", path);
		goto fail;
	}
	ret = rawimg_read_size(img->fd, img->is_blkdev, &img->size);
	if (ret) {
		hv_fail(err, errlen, ret, "%s: cannot read its size: %s", path, strerror(-ret));
		goto fail;
	}
	if (img->is_blkdev) {
		unsigned int pbs = 0;

		img->phys_block = rawimg_sane_block(ioctl(img->fd, BLKPBSZGET, &pbs) == 0 ? pbs : 0);
	} else {
		img->phys_block = rawimg_sane_block((uint64_t)st.st_blksize);
	}

	img->fd_buffered = img->fd;
	if (direct) {
		ret = rawimg_dio_align(img);
		if (ret) {
			hv_fail(err, errlen, ret, "%s: the file system does not support O_DIRECT "
				    "(cache=none); use cache=writeback", path);
			goto fail;
		}
		ret = rawimg_open_buffered(img, flags, &st);
		if (ret < 0) {
			hv_fail(err, errlen, ret, "%s: cannot open a second time: %s",
				    path, strerror(-ret));
			goto fail;
		}
		img->fd_buffered = ret;
		if (img->dio_off_align > img->phys_block)
			img->phys_block = rawimg_sane_block(img->dio_off_align);
	}

	img->depth = depth;
	ret = rawimg_setup_ring(img, depth);
	if (ret) {
		hv_fail(err, errlen, ret, "%s: cannot set up io_uring: %s%s", path,
			    strerror(-ret), ret == -EPERM ? " (sysctl kernel.io_uring_disabled?)" : "");
		goto fail;
	}
	return 0;
fail:
	rawimg_close(img);
	return ret;
}

void rawimg_close(struct rawimg *img)
{
	if (img->event_fd >= 0) {
		int ret = rawimg_drain(img, NULL, NULL);

		if (ret)
			hv_warn("%s: waiting for I/O to finish: %s", img->path, strerror(-ret));
		io_uring_queue_exit(&img->ring);
		close(img->event_fd);
	}
	if (img->fd_buffered >= 0 && img->fd_buffered != img->fd)
		close(img->fd_buffered);
	if (img->fd >= 0)
		close(img->fd);
	free(img->path);
	memset(img, 0, sizeof(*img));
	img->fd = img->fd_buffered = img->event_fd = -1;
}

bool rawimg_dio_aligned(const struct rawimg *img, const struct iovec *iov, unsigned int nr,
			uint64_t off)
{
	unsigned int i;

	if (!img->direct)
		return true;
	if (off % img->dio_off_align)
		return false;
	for (i = 0; i < nr; i++) {
		if ((uintptr_t)iov[i].iov_base % img->dio_mem_align ||
		    iov[i].iov_len % img->dio_off_align)
			return false;
	}
	return true;
}

static uint64_t rawimg_iov_len(const struct iovec *iov, unsigned int nr)
{
	uint64_t n = 0;

	while (nr--)
		n += iov++->iov_len;
	return n;
}

/* One completion, reaped or drained: the counters and the --trace line. */
static void rawimg_done(struct rawimg *img, uint64_t tag, int32_t res)
{
	img->nr_completed++;
	img->nr_errors += res < 0;
	HV_TRACE(HV_TRACE_VIRTIO, "%s: io_uring completion: tag 0x%llx, res %d%s%s", img->path,
		 (unsigned long long)tag, res, res < 0 ? " " : "", res < 0 ? strerror(-res) : "");
}

/* The next free SQE; a full SQ is submitted first. */
static struct io_uring_sqe *rawimg_sqe(struct rawimg *img)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&img->ring);

	if (!sqe) {
		rawimg_submit(img);
		sqe = io_uring_get_sqe(&img->ring);
	}
	return sqe;
}

int rawimg_readv(struct rawimg *img, const struct iovec *iov, unsigned int nr, uint64_t off,
		 bool buffered, uint64_t tag)
{
	struct io_uring_sqe *sqe = rawimg_sqe(img);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_readv(sqe, buffered ? img->fd_buffered : img->fd, iov, nr, off);
	io_uring_sqe_set_data64(sqe, tag);
	img->in_flight++;
	img->nr_submitted++;
	img->bytes_read += rawimg_iov_len(iov, nr);
	HV_TRACE(HV_TRACE_VIRTIO, "%s: io_uring READV fd %d, offset %llu, %llu B in %u iovec(s)%s, tag 0x%llx",
		 img->path, sqe->fd, (unsigned long long)off, (unsigned long long)rawimg_iov_len(iov, nr),
		 nr, buffered && img->direct ? " (page cache)" : "", (unsigned long long)tag);
	return 0;
}

int rawimg_writev(struct rawimg *img, const struct iovec *iov, unsigned int nr, uint64_t off,
		  bool buffered, bool dsync, uint64_t tag)
{
	struct io_uring_sqe *sqe = rawimg_sqe(img);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_writev(sqe, buffered ? img->fd_buffered : img->fd, iov, nr, off);
	if (dsync)
		sqe->rw_flags = RWF_DSYNC;
	io_uring_sqe_set_data64(sqe, tag);
	img->in_flight++;
	img->nr_submitted++;
	img->bytes_written += rawimg_iov_len(iov, nr);
	HV_TRACE(HV_TRACE_VIRTIO, "%s: io_uring WRITEV fd %d, offset %llu, %llu B in %u iovec(s)%s%s, tag 0x%llx",
		 img->path, sqe->fd, (unsigned long long)off, (unsigned long long)rawimg_iov_len(iov, nr),
		 nr, buffered && img->direct ? " (page cache)" : "", dsync ? ", RWF_DSYNC" : "",
		 (unsigned long long)tag);
	return 0;
}

int rawimg_flush(struct rawimg *img, uint64_t tag)
{
	struct io_uring_sqe *sqe = rawimg_sqe(img);

	if (!sqe)
		return -EBUSY;
	/* fdatasync acts on the inode: it also covers writes made through fd_buffered. */
	io_uring_prep_fsync(sqe, img->fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data64(sqe, tag);
	img->in_flight++;
	img->nr_submitted++;
	HV_TRACE(HV_TRACE_VIRTIO, "%s: io_uring FSYNC (datasync) fd %d, tag 0x%llx", img->path, img->fd,
		 (unsigned long long)tag);
	return 0;
}

int rawimg_fallocate(struct rawimg *img, int mode, uint64_t off, uint64_t len, uint64_t tag)
{
	struct io_uring_sqe *sqe = rawimg_sqe(img);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_fallocate(sqe, img->fd, mode, (off_t)off, (off_t)len);
	io_uring_sqe_set_data64(sqe, tag);
	img->in_flight++;
	img->nr_submitted++;
	HV_TRACE(HV_TRACE_VIRTIO, "%s: io_uring FALLOCATE mode 0x%x fd %d, offset %llu, %llu B, tag 0x%llx",
		 img->path, mode, img->fd, (unsigned long long)off, (unsigned long long)len,
		 (unsigned long long)tag);
	return 0;
}

int rawimg_submit(struct rawimg *img)
{
	int ret;

	do {
		ret = io_uring_submit(&img->ring);
	} while (ret == -EINTR);
	if (ret > 0) {
		img->nr_submit_calls++;
		HV_TRACE(HV_TRACE_VIRTIO, "%s: io_uring_submit: %d operation(s) to the kernel", img->path, ret);
	}
	/* -EAGAIN/-EBUSY: the SQEs stay queued; the next completion's handler submits again. */
	return ret < 0 ? ret : 0;
}

unsigned int rawimg_reap(struct rawimg *img, rawimg_done_fn fn, void *opaque)
{
	struct io_uring_cqe *cqe;
	unsigned int n = 0;
	uint64_t v;

	/* Clear first: a completion posted after this read signals again. */
	if (read(img->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		hv_warn("%s: io_uring eventfd: %s", img->path, strerror(errno));
	while (io_uring_peek_cqe(&img->ring, &cqe) == 0) {
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		int32_t res = cqe->res;

		io_uring_cqe_seen(&img->ring, cqe);
		if (img->in_flight)
			img->in_flight--;
		rawimg_done(img, tag, res);
		n++;
		if (fn)
			fn(opaque, tag, res);
	}
	if (n)
		img->nr_reaps++;
	return n;
}

bool rawimg_completions_ready(struct rawimg *img)
{
	return io_uring_cq_ready(&img->ring) > 0;
}

int rawimg_drain(struct rawimg *img, rawimg_done_fn fn, void *opaque)
{
	struct io_uring_cqe *cqe;
	int ret;

	if (img->in_flight == 0)
		return 0;
	ret = rawimg_submit(img);
	if (ret && ret != -EAGAIN && ret != -EBUSY)
		return ret;
	while (img->in_flight) {
		uint64_t tag;
		int32_t res;

		ret = io_uring_wait_cqe(&img->ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret == -EAGAIN || ret == -EBUSY) {
			/* Something is still unsubmitted (the SQ was refused): try again. */
			rawimg_submit(img);
			continue;
		}
		if (ret)
			return ret;
		tag = io_uring_cqe_get_data64(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&img->ring, cqe);
		img->in_flight--;
		rawimg_done(img, tag, res);
		if (fn)
			fn(opaque, tag, res);
	}
	return 0;
}
