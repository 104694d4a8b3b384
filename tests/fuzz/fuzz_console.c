/* fuzz_console.c: virtio-console's receive and transmit paths (virtio 1.2 §5.3) under a fuzzed driver, with host input. */
#include <fcntl.h>
#include <stdlib.h>

#include "devices/virtio_console.h"
#include "hv/base/output.h"
#include "tests/fuzz/fuzz_virtio.h"

static struct fz_dev fz;
static int out_fd = -1;
static struct outbuf out;		/* the guest's output, written straight to /dev/null */

/* FZ_OP_HOOK: host input (what hvrun's stdin brings), or a terminal resize. */
static void con_hook(struct fz_dev *f, struct fz_in *in)
{
	uint8_t buf[512];
	uint8_t what = fz_u8(in);

	if (what & 1) {
		uint16_t cols = fz_u16(in);

		vcon_resize(f->d, cols, fz_u16(in));
		return;
	}
	vcon_input(f->d, buf, fz_bytes(in, buf, (size_t)(what >> 1) * 4));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };

	if (out_fd < 0) {
		out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);	/* the guest's output */
		if (out_fd < 0 || outbuf_init(&out, "fuzz", out_fd, 1 << 16) != 0)
			abort();
		fz_init(&fz, "fuzz-con");
		fz.hook = con_hook;
	}
	/* A new device per input: host input is kept across resets, not across inputs. */
	if (vcon_create(&fz.m.gm, &fz.loop, &out, &fz.d) != 0)
		abort();
	fz_one(&fz, &in);
	fz.d->ops->destroy(fz.d);
	fz.d = NULL;
	return 0;
}
