/* fuzz_rng.c: virtio-rng's request path (virtio 1.2 §5.4) under a fuzzed driver (tests/fuzz/fuzz_virtio.h). */
#include <stdlib.h>

#include "devices/virtio_rng.h"
#include "tests/fuzz/fuzz_virtio.h"

static struct fz_dev fz;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };

	if (!fz.d) {
		fz_init(&fz, "fuzz-rng");
		/* The largest rate: a fuzz run must not wait for the bucket to refill. */
		if (vrng_create(&fz.m.gm, &fz.loop, 1ull << 40, &fz.d) != 0)
			abort();
	}
	fz_one(&fz, &in);
	return 0;
}
