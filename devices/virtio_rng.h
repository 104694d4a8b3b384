/* virtio_rng.h: virtio-rng, the entropy device (virtio 1.2 §5.4), rate-limited. */
#ifndef DEV_VIRTIO_RNG_H
#define DEV_VIRTIO_RNG_H

#include <stdint.h>

#include "devices/virtio/virtio.h"
#include "hv/base/event_loop.h"
#include "hv/base/guest_mem.h"

/* Queue (§5.4.2): the one requestq, of device-writable buffers. */
#define VRNG_REQUESTQ			0

/* Defaults: 1 MiB/s, in bursts of at most 64 KiB (never more than one second's worth). */
#define VRNG_DEFAULT_RATE		(1024 * 1024)
#define VRNG_MAX_BURST			(64 * 1024)

/*
 * PCI class 0x00ff00, as QEMU's virtio-rng-pci (PCI_CLASS_OTHERS = 0xff as
 * class<<8|subclass): base class 0 (pre-2.0 device), subclass 0xff.
 * lspci: "Unclassified device [00ff]: Red Hat, Inc. Virtio RNG".
 */
#define VRNG_PCI_CLASS			0x00ff00

/*
 * Creates the device: entropy from getrandom(2), at most rate_bytes_per_sec
 * (0: VRNG_DEFAULT_RATE), the bucket holding min(rate, VRNG_MAX_BURST).
 * loop is required: its timerfd resumes a throttled queue.  0 or -errno;
 * free with (*out)->ops->destroy(*out) once loop no longer runs.
 */
int vrng_create(const struct guest_mem *mem, struct ev_loop *loop, uint64_t rate_bytes_per_sec,
		struct virtio_dev **out);

/* The device table's configuration: vrng_create()'s rate (0: VRNG_DEFAULT_RATE). */
struct vrng_options {
	uint64_t rate_bytes_per_sec;
};

/* The device table's line: "rng". */
extern const struct virtio_device_desc vrng_device;

#endif
