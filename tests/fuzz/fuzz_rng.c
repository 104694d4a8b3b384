/* fuzz_rng.c: virtio-rng's request path (virtio 1.2 §5.4) under a fuzzed driver (tests/fuzz/fuzz_virtio.h). */
#include <stdlib.h>

#include "devices/virtio_rng.h"
#include "tests/fuzz/fuzz_virtio.h"

static struct fz_dev fz;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint64_t features;

	if (!fz.d) {
		fz_init(&fz, "fuzz-rng");
		/* The largest rate: a fuzz run must not wait for the bucket to refill. */
		if (vrng_create(&fz.m.gm, &fz.loop, 1ull << 40, &fz.d) != 0)
			abort();
	}
	features = fz_u64(&in);
	if (fz_start(&fz, features, fz.d->host_features, (uint16_t)(1u << (fz_u8(&in) % 9))))
		fz_run(&fz, &in, fz.d->host_features);
	else
		fz_stop(&fz);
	return 0;
}
