/* virtio.c: the device-side pieces every transport and device share: init, reset, interrupts, NEEDS_RESET. */
#include "devices/virtio/virtio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hv/log.h"
#include "hv/trace.h"

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
	for (i = 0; i < nr_queues; i++) {
		d->vq[i].dev_name = ops->name;
		d->vq[i].index = i;
	}
	return 0;
}

void virtio_dev_cleanup(struct virtio_dev *d)
{
	free(d->vq);
	d->vq = NULL;
	pthread_mutex_destroy(&d->lock);
}

void virtio_used(struct virtio_dev *d, unsigned int q)
{
	if (q >= d->nr_queues || !d->raise)
		return;
	if (vq_should_interrupt(&d->vq[q])) {
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
	hv_warn("%s: the driver broke a virtio rule; the device waits for a reset (NEEDS_RESET)",
		d->ops->name);
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
	d->features = 0;
	d->status = 0;
}
