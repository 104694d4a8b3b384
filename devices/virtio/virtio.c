/* virtio.c: the device-side pieces every transport and device share: init, reset, interrupts, NEEDS_RESET. */
#include "devices/virtio/virtio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "hv/base/log.h"
#include "hv/base/trace.h"

int virtio_dev_trylock(struct virtio_dev *d, unsigned int ms)
{
	struct timespec until = hv_deadline_ms(ms);

	return pthread_mutex_timedlock(&d->lock, &until) ? -EBUSY : 0;
}

void virtio_set_label(struct virtio_dev *d, const char *what)
{
	snprintf(d->label, sizeof(d->label), "%s: %s", d->ops->name, what);
}

void virtio_warn(struct virtio_dev *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hv_vwarn_limited(&d->log, d->label, fmt, ap);
	va_end(ap);
}

void virtio_notify_queue(struct virtio_dev *d, unsigned int q)
{
	if (q >= d->nr_queues || !(d->status & VIRTIO_STATUS_DRIVER_OK) ||
	    (d->status & VIRTIO_STATUS_NEEDS_RESET) || !d->vq[q].ready)
		return;
	d->ops->notify(d, q);
	if (d->vq[q].broken)
		virtio_needs_reset(d);
}

void virtio_defer(struct virtio_dev *d, unsigned int q)
{
	if (q >= 32 || d->resume_fd < 0)
		return;
	HV_TRACE(HV_TRACE_VIRTIO, "%s q%u: budget used up, the rest on the loop's next turn",
		 d->vq[0].dev_name, q);
	d->deferred |= 1u << q;
	eventfd_write(d->resume_fd, 1);
}

/* The loop's turn for deferred work: each queue that had more to do is notified again. */
static void virtio_resume(void *opaque, int fd, uint32_t events)
{
	struct virtio_dev *d = opaque;
	uint32_t pending;
	eventfd_t n;
	unsigned int q;

	(void)events;
	if (eventfd_read(fd, &n) < 0)
		return;
	pthread_mutex_lock(&d->lock);
	pending = d->deferred;
	d->deferred = 0;
	for (q = 0; pending; q++, pending >>= 1)
		if (pending & 1)
			virtio_notify_queue(d, q);
	pthread_mutex_unlock(&d->lock);
}

int virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
		    const struct guest_mem *mem, struct ev_loop *loop, uint16_t nr_queues,
		    uint16_t queue_max, uint64_t host_features, void *config, uint32_t config_size)
{
	uint16_t i;

	if (!nr_queues || !queue_max || queue_max > VQ_MAX_SIZE || (queue_max & (queue_max - 1)))
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->vq = calloc(nr_queues, sizeof(*d->vq));
	if (!d->vq)
		return -ENOMEM;
	d->ops = ops;
	d->mem = mem;
	d->loop = loop;
	pthread_mutex_init(&d->lock, NULL);
	d->host_features = host_features | VIRTIO_BIT(VIRTIO_F_VERSION_1);
	d->nr_queues = nr_queues;
	d->queue_max = queue_max;
	d->config = config;
	d->config_size = config_size;
	snprintf(d->label, sizeof(d->label), "%s", ops->name);
	for (i = 0; i < nr_queues; i++) {
		d->vq[i].dev_name = ops->name;
		d->vq[i].index = i;
		d->vq[i].log = &d->log;
	}
	d->resume_fd = -1;
	if (loop) {
		d->resume_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->resume_fd < 0 || ev_add(loop, d->resume_fd, 0, virtio_resume, d) < 0) {
			int ret = d->resume_fd < 0 ? -errno : -ENOMEM;

			if (d->resume_fd >= 0)
				close(d->resume_fd);
			free(d->vq);
			pthread_mutex_destroy(&d->lock);
			return ret;
		}
	}
	return 0;
}

void virtio_dev_cleanup(struct virtio_dev *d)
{
	if (d->resume_fd >= 0) {
		ev_del(d->loop, d->resume_fd);
		close(d->resume_fd);
		d->resume_fd = -1;
	}
	free(d->vq);
	d->vq = NULL;
	pthread_mutex_destroy(&d->lock);
}

void virtio_used(struct virtio_dev *d, unsigned int q)
{
	if (q >= d->nr_queues)
		return;
	if (!d->raise) {
		vq_flush(&d->vq[q]);	/* what vq_fill() wrote, visible with one used->idx store */
		return;
	}
	if (vq_should_interrupt(&d->vq[q])) {	/* flushes first */
		d->nr_irqs++;
		d->vq[q].nr_irqs++;
		d->raise(d, (int)q);
	}
}

void virtio_config_changed(struct virtio_dev *d)
{
	d->config_generation++;
	HV_TRACE(HV_TRACE_VIRTIO, "%s: configuration changed (generation %u)", d->vq[0].dev_name,
		 (unsigned int)d->config_generation);
	/* §2.5: the driver learns of it only once it is running. */
	if ((d->status & VIRTIO_STATUS_DRIVER_OK) && d->raise) {
		d->nr_irqs++;
		d->raise(d, -1);
	}
}

void virtio_needs_reset(struct virtio_dev *d)
{
	if (d->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	virtio_warn(d, "%s: the driver broke a virtio rule; the device waits for a reset (NEEDS_RESET)",
		    d->label);
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	HV_TRACE(HV_TRACE_VIRTIO, "%s: status |= NEEDS_RESET", d->vq[0].dev_name);
	/* §2.1.2: if DRIVER_OK is set, the device MUST send a configuration change notification. */
	if ((d->status & VIRTIO_STATUS_DRIVER_OK) && d->raise) {
		d->nr_irqs++;
		d->raise(d, -1);
	}
}

void virtio_dev_reset(struct virtio_dev *d)
{
	uint16_t i;

	if (d->ops->reset)
		d->ops->reset(d);
	for (i = 0; i < d->nr_queues; i++)
		vq_reset(&d->vq[i]);
	d->deferred = 0;
	d->features = 0;
	d->status = 0;
}

void virtio_device_name(const struct virtio_device_desc *desc, unsigned int index, char *buf,
			size_t len)
{
	switch (desc->naming) {
	case VIRTIO_NAME_LETTER:
		snprintf(buf, len, "%s%c", desc->name, 'a' + (index % 26));
		break;
	case VIRTIO_NAME_NUMBER:
		snprintf(buf, len, "%s%u", desc->name, index);
		break;
	default:
		snprintf(buf, len, "%s", desc->name);
		break;
	}
}

void virtio_counter_add(struct virtio_counter *out, size_t max, size_t *n, const char *group,
			const char *key, uint64_t value)
{
	if (*n < max)
		out[(*n)++] = (struct virtio_counter){ group, key, value };
}
