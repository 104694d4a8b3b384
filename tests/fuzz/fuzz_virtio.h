/* fuzz_virtio.h: what the fuzz targets share: an input reader, and a fuzzed virtio driver built on the unit tests' mock. */
#ifndef TEST_FUZZ_VIRTIO_H
#define TEST_FUZZ_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/virtio/virtio.h"
#include "tests/unit/mock_virtio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the input, read front to back; past its end every read gives zeros ---- */

struct fz_in {
	const uint8_t *p;
	size_t n;
};

uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
uint32_t fz_u32(struct fz_in *in);
uint64_t fz_u64(struct fz_in *in);
/* Copies min(len, what is left) bytes to dst, zeroes the rest of dst[0..len); returns the bytes copied. */
size_t fz_bytes(struct fz_in *in, void *dst, size_t len);

/* ---- a device driven by a fuzzed driver ---- */

#define FZ_RAM_BASE	0x100000ull
#define FZ_RAM_SIZE	(256u * 1024)
#define FZ_MAX_QUEUES	8

struct fz_dev {
	struct mock_vm m;
	struct ev_loop loop;
	struct virtio_dev *d;
	struct mock_queue q[FZ_MAX_QUEUES];
	uint16_t qsize;
	uint64_t features;
	bool active;
	unsigned int irqs;
	/* Device-specific operation (op byte FZ_OP_HOOK), and work after every poll. */
	void (*hook)(struct fz_dev *f, struct fz_in *in);
	void (*after_poll)(struct fz_dev *f);
	/* Polls until this says the device has nothing in flight (NULL: one non-blocking poll). */
	bool (*busy)(struct fz_dev *f);
	void *opaque;
};

/* Guest RAM (FZ_RAM_SIZE at FZ_RAM_BASE) and an event loop; aborts on failure.  Once per process. */
void fz_init(struct fz_dev *f, const char *loop_name);

/*
 * What a driver's probe does: clears guest RAM, lays out every queue's rings
 * (qsize entries), features (d->ops->features_ok first: a refused set falls
 * back to fallback), DRIVER_OK, activate().  false if activation failed.
 */
bool fz_start(struct fz_dev *f, uint64_t features, uint64_t fallback, uint16_t qsize);

/* The driver's reset (status 0); then no I/O may be in flight, and polling may touch neither RAM nor interrupts. */
void fz_stop(struct fz_dev *f);

/*
 * Reads one chain from the input and publishes it on queue qi: a header byte
 * (descriptor count 1..16, bit 7: in an indirect table), then per descriptor
 * a flags byte (bit 0 writable, bits 1-2 length coding, bit 4: a raw guest
 * address that may lie anywhere, even outside RAM), its length, and for a
 * readable buffer its contents.  false when the input or guest RAM ran out.
 */
bool fz_add_chain(struct fz_dev *f, unsigned int qi, struct fz_in *in);

void fz_kick(struct fz_dev *f, unsigned int qi);
/* Runs the event loop's ready handlers until the device is idle (bounded). */
void fz_poll(struct fz_dev *f);

/*
 * The generic driver: reads operations until the input ends (publish a chain
 * on queue q, kick q, poll, read/write device config, reset and start again,
 * write anywhere in guest RAM, publish a head again, the target's hook), then
 * kicks every queue, polls and resets the device.
 */
#define FZ_OP_HOOK	9
void fz_run(struct fz_dev *f, struct fz_in *in, uint64_t fallback_features);

/* One input for a device target: features and a queue size from in, then fz_run (or fz_stop). */
void fz_one(struct fz_dev *f, struct fz_in *in);

#endif
