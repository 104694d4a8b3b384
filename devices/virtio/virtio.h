/* virtio.h: what every virtio device shares (virtio 1.2 §2-§3): state, feature bits, the ops table. */
#ifndef DEV_VIRTIO_H
#define DEV_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio/virtqueue.h"
#include "hv/base/event_loop.h"
#include "hv/base/guest_mem.h"
#include "hv/base/log.h"

/* Device status bits (§2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

/* Device ids (§5). */
#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_CONSOLE	3
#define VIRTIO_ID_RNG		4
#define VIRTIO_ID_BALLOON	5
#define VIRTIO_ID_SCSI		8

#define VIRTIO_BIT(b)		((uint64_t)1 << (b))

struct virtio_dev;

/*
 * One per device type, const.  Every callback runs with d->lock held; the
 * transport has already checked offsets, sizes and queue indices.
 */
struct virtio_dev_ops {
	const char *name;		/* "virtio-blk": logs, lspci-like listings */
	uint16_t device_id;		/* VIRTIO_ID_* */
	uint32_t pci_class;		/* PCI class code (class << 16 | subclass << 8 | prog-if) */

	/*
	 * Device configuration space (§4.1.4.6), [off, off + size) inside
	 * d->config_size.  Optional: by default reads copy from d->config and
	 * writes are ignored.
	 */
	void (*config_read)(struct virtio_dev *d, uint32_t off, void *data, uint32_t size);
	void (*config_write)(struct virtio_dev *d, uint32_t off, const void *data, uint32_t size);

	/* Optional: refuse a feature combination at FEATURES_OK (-EINVAL). */
	int (*features_ok)(struct virtio_dev *d, uint64_t features);

	/*
	 * DRIVER_OK: features are final and the enabled queues are in d->vq.
	 * Start work (register backend fds on d->loop...).  -errno makes the
	 * transport latch NEEDS_RESET.
	 */
	int (*activate)(struct virtio_dev *d);

	/* The driver notified queue q (on the I/O thread). */
	void (*notify)(struct virtio_dev *d, unsigned int q);

	/*
	 * Device reset (§2.4): stop, wait for or cancel in-flight backend work,
	 * drop queued data, unregister what activate() registered.  After it
	 * returns nothing may touch guest memory or raise an interrupt.  The
	 * transport then resets the queues and the common state.
	 */
	void (*reset)(struct virtio_dev *d);

	/* Frees the device (after reset); optional. */
	void (*destroy)(struct virtio_dev *d);
};

/* The first member of every device's state ("struct vblk { struct virtio_dev vdev; ... }"). */
struct virtio_dev {
	const struct virtio_dev_ops *ops;
	const struct guest_mem *mem;
	struct ev_loop *loop;		/* the I/O thread this device's work runs on */
	pthread_mutex_t lock;		/* held around every ops callback */

	uint64_t host_features;		/* offered (VERSION_1 is added by virtio_dev_init) */
	uint64_t features;		/* what the driver accepted at FEATURES_OK */
	uint8_t status;
	uint8_t config_generation;

	uint16_t nr_queues;
	uint16_t queue_max;		/* QUEUE_SIZE's initial value, <= VQ_MAX_SIZE */
	struct virtqueue *vq;		/* nr_queues of them */

	void *config;			/* the device-specific configuration structure */
	uint32_t config_size;

	/*
	 * Set by the transport: interrupt the driver for used buffers on queue
	 * q, or (q == -1) for a configuration change.  Callable from any thread
	 * holding d->lock.
	 */
	void (*raise)(struct virtio_dev *d, int q);
	void *transport;

	/* Counters: notifications received, interrupts raised. */
	uint64_t nr_kicks, nr_irqs;

	/*
	 * Every line the guest can cause about this device goes through one
	 * limiter (virtio_warn, the virtqueue's own diagnostics), named by
	 * label ("virtio-blk: disk.raw"; the device's name unless it sets one).
	 */
	struct hv_ratelimit log;
	char label[96];

	/*
	 * Work that ran out of its budget (virtio_defer): queues to notify
	 * again from the loop, after its other fds had their turn.
	 */
	int resume_fd;			/* eventfd on loop, -1 without a loop */
	uint32_t deferred;		/* bit q: queue q has more to do */
};

/*
 * Common initialisation: ops, memory, loop, the queue array (nr_queues,
 * each with dev_name/index set), features | VERSION_1, config.  0 or -errno.
 */
int virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
		    const struct guest_mem *mem, struct ev_loop *loop, uint16_t nr_queues,
		    uint16_t queue_max, uint64_t host_features, void *config, uint32_t config_size);
void virtio_dev_cleanup(struct virtio_dev *d);

static inline bool virtio_has_feature(const struct virtio_dev *d, unsigned int bit)
{
	return (d->features & VIRTIO_BIT(bit)) != 0;
}

/* Takes d->lock if it comes free within ms milliseconds: 0, or -EBUSY (statistics never wait on a busy device). */
int virtio_dev_trylock(struct virtio_dev *d, unsigned int ms);

/* Sets d->label: "<device name>: <what>" (the image, the backend). */
void virtio_set_label(struct virtio_dev *d, const char *what);

/* A warning the guest can cause: rate-limited, one limiter per device. */
void virtio_warn(struct virtio_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The driver notified queue q, or deferred work resumes: ops->notify if the
 * device is running and the queue ready, then NEEDS_RESET if the ring broke.
 * d->lock held.
 */
void virtio_notify_queue(struct virtio_dev *d, unsigned int q);

/*
 * A device loop ran out of its budget on queue q with work left: returns to
 * the event loop now (releasing d->lock) and continues from it on the next
 * turn, so that no guest keeps a device lock or an I/O thread for long.
 * d->lock held.  Without an event loop (d->loop NULL) the work waits for the
 * next notification.
 */
void virtio_defer(struct virtio_dev *d, unsigned int q);

/* How many chains a device handles per turn before virtio_defer(). */
#define VIRTIO_BUDGET		64

/* After vq_push()es or vq_fill()s on queue q: publishes them (vq_flush()), then interrupts the driver unless it asked not to be. */
void virtio_used(struct virtio_dev *d, unsigned int q);

/* The configuration changed (capacity, link...): bumps the generation, raises the config interrupt. */
void virtio_config_changed(struct virtio_dev *d);

/*
 * The driver broke a ring rule (vq_pop() returned -EIO) or activation failed:
 * latch NEEDS_RESET (§2.1.2) and tell the driver with a config interrupt.
 * The device stays alive; only a reset by the driver revives the queue.
 */
void virtio_needs_reset(struct virtio_dev *d);

/*
 * The reset every transport performs for a status write of 0: ops->reset,
 * then every queue reset, features/status cleared.  Called with d->lock held.
 */
void virtio_dev_reset(struct virtio_dev *d);

/* ---- the device table: what the machine needs to know of each kind of device ---- */

/* How the machine names the n-th device of a kind (--stats, --trace, hvctl, its I/O thread). */
enum virtio_naming {
	VIRTIO_NAME_LETTER,		/* the prefix and a letter: vda, vdb, ... */
	VIRTIO_NAME_NUMBER,		/* the prefix and a number: net0, net1, ... */
	VIRTIO_NAME_ALONE,		/* the prefix alone: one per VM ("rng") */
};

/* What the firmware can boot from a device of the kind (the --boot letters name it). */
enum virtio_boot {
	VIRTIO_BOOT_NONE,
	VIRTIO_BOOT_DISK,		/* a hard disk: "c" */
	VIRTIO_BOOT_CDROM,		/* a CD-ROM on a SCSI controller: "d" */
};

/* What every device's create() gets from the machine, besides its own configuration. */
struct virtio_dev_args {
	const struct guest_mem *mem;
	struct ev_loop *loop;		/* the device's I/O thread, not started yet */
};

/* One counter for --stats and hvctl stats: "blk"."reads" = 12. */
struct virtio_counter {
	const char *group;		/* the JSON object it goes in, beside the common ones */
	const char *key;
	uint64_t value;
};

#define VIRTIO_MAX_COUNTERS	32

/*
 * One per kind of device, exported by its file (vrng_device, ...), listed in
 * the machine's ordered table (hv/machine.c).
 */
struct virtio_device_desc {
	const char *name;		/* the naming prefix: "vd", "net", "rng" */
	enum virtio_naming naming;
	const char *io_name;		/* the I/O thread's name after "io-", if not the name */
	/*
	 * Creates the device; config is the device's own configuration struct
	 * (struct vrng_options, ...).  0, or -errno with a one-line reason in
	 * err (empty: strerror is enough).
	 */
	int (*create)(const struct virtio_dev_args *a, const void *config,
		      struct virtio_dev **out, char *err, size_t errlen);
	/* Optional, d->lock held: fills at most max counters, returns how many. */
	size_t (*counters)(struct virtio_dev *d, struct virtio_counter *out, size_t max);
	/*
	 * Optional, with counters: the device's lines in the --stats text, each
	 * indented four spaces and ending in "\n".  "{group.key}" stands for a
	 * counter's value, "{group.key:bytes}" for it as a size ("4.0 KiB").
	 */
	const char *stats_text;
	enum virtio_boot boot;		/* VIRTIO_BOOT_NONE unless the firmware can boot it */
};

/* The name of the index-th device of desc's kind (vda, net0, rng) in buf. */
void virtio_device_name(const struct virtio_device_desc *desc, unsigned int index, char *buf,
			size_t len);

/* Appends counter group.key = value to out[*n] if there is room (for counters() functions). */
void virtio_counter_add(struct virtio_counter *out, size_t max, size_t *n, const char *group,
			const char *key, uint64_t value);

#endif
