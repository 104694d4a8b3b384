/*
 * fuzz_balloon.c: virtio-balloon (virtio 1.2 §5.5) under a fuzzed driver:
 * inflate/deflate page lists (pages given back with madvise on the fuzzer's
 * guest RAM), the statistics buffer, free page reporting, num_pages/actual
 * config writes; the host changes its target now and then (the hook).
 */
#include <stdlib.h>

#include "devices/virtio_balloon.h"
#include "tests/fuzz/fuzz_virtio.h"

static struct fz_dev fz;

/* FZ_OP_HOOK: hvctl balloon SIZE. */
static void balloon_hook(struct fz_dev *f, struct fz_in *in)
{
	vballoon_set_target(f->d, (uint64_t)fz_u32(in) * 64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };

	if (!fz.d) {
		fz_init(&fz, "fuzz-balloon");
		/* Statistics asked for once an hour: no timer fires during a run. */
		if (vballoon_create(&fz.m.gm, &fz.loop, FZ_RAM_SIZE, 3600, true, &fz.d) != 0)
			abort();
		fz.hook = balloon_hook;
	}
	fz_one(&fz, &in);
	vballoon_set_target(fz.d, 0);
	return 0;
}
