/* virtio_console.h: virtio-console (virtio 1.2 §5.3), one port, hvc0 in the guest. */
#ifndef DEV_VIRTIO_CONSOLE_H
#define DEV_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "devices/virtio/virtio.h"
#include "hv/base/event_loop.h"
#include "hv/base/guest_mem.h"

/* Feature bits (§5.3.3). */
#define VIRTIO_CONSOLE_F_SIZE		0	/* cols/rows are valid */
#define VIRTIO_CONSOLE_F_MULTIPORT	1	/* not offered: one port, no control queues */
#define VIRTIO_CONSOLE_F_EMERG_WRITE	2	/* emerg_wr writes a character */

/* Queues (§5.3.2), without MULTIPORT. */
#define VCON_RXQ			0	/* receiveq0: host input into driver-posted buffers */
#define VCON_TXQ			1	/* transmitq0: guest output */

/* Host input waiting for receive buffers: vcon_input() accepts at most this much. */
#define VCON_INPUT_BUF_SIZE		4096

/* PCI class: simple communication controller, other (as QEMU's virtio-serial). */
#define VCON_PCI_CLASS			0x078000

/*
 * Creates the device; output is where the guest's output goes (hvrun's
 * stdout buffer, hv/base/output.h; NULL discards it): copied there, never a
 * write() that waits for a reader.  When output's fd is a terminal its
 * size is the console size, else 80x25.  loop may be NULL (no fds are
 * watched).  0 or -errno; free with (*out)->ops->destroy(*out).
 */
struct outbuf;
int vcon_create(const struct guest_mem *mem, struct ev_loop *loop, struct outbuf *output,
		struct virtio_dev **out);

/*
 * From hvrun's main thread (stdin): queues up to len bytes for the guest and
 * delivers what the posted receive buffers can take; takes d->lock itself.
 * Returns the bytes accepted: 0 when the input buffer is full (the caller
 * keeps the rest and retries later).  Input is kept across device resets.
 */
size_t vcon_input(struct virtio_dev *d, const uint8_t *buf, size_t len);

/*
 * The terminal was resized (SIGWINCH): updates cols/rows and, when they
 * changed, raises a configuration interrupt (§5.3.4).  Takes d->lock itself.
 */
void vcon_resize(struct virtio_dev *d, uint16_t cols, uint16_t rows);

/* The device table's configuration: where the guest's output goes. */
struct vcon_options {
	struct outbuf *output;
};

/* The device table's line: "console" (I/O thread io-con). */
extern const struct virtio_device_desc vcon_device;

#endif
