/*
 * fuzz_blk.c: virtio-blk's request path (virtio 1.2 §5.2) under a fuzzed
 * driver: header parsing, sector and length checks, IN/OUT/FLUSH/GET_ID/
 * DISCARD/WRITE_ZEROES on a 64 KiB image (a memfd), with the io_uring
 * completions run on this thread until nothing is in flight; two request
 * queues (VIRTIO_BLK_F_MQ).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/block/raw_image.h"
#include "devices/virtio_blk.h"
#include "tests/fuzz/fuzz_virtio.h"

#define IMAGE_SIZE	(64 * 1024)

static struct fz_dev fz;
static struct rawimg img;

static bool blk_busy(struct fz_dev *f)
{
	struct vblk_stats s;

	vblk_get_stats(f->d, &s);
	return s.backend_in_flight != 0;
}

static void setup(void)
{
	struct vblk_options o = { .img = &img, .serial = "fuzz" };
	char path[64], err[256];
	int fd = memfd_create("fuzz-blk", MFD_CLOEXEC);

	fz_init(&fz, "fuzz-blk");
	if (fd < 0 || ftruncate(fd, IMAGE_SIZE) != 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (vblk_open_image(&img, path, false, false, 2, err, sizeof(err)) != 0 ||
	    vblk_create(&o, &fz.m.gm, &fz.loop, 2, &fz.d, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_blk: %s\n", err);
		abort();
	}
	close(fd);
	fz.busy = blk_busy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };

	if (!fz.d)
		setup();
	fz_one(&fz, &in);
	return 0;
}
