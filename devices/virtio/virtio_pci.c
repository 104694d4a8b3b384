/* virtio_pci.c: the virtio-over-PCI transport (virtio 1.2 §4.1): capabilities, common config, notify, ISR, MSI-X. */
#include "devices/virtio/virtio_pci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hv/base/bytes.h"
#include "hv/base/irq.h"
#include "hv/base/log.h"
#include "hv/base/trace.h"

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040		/* §4.1.2.1: 0x1040 + device id, modern */
#define VIRTIO_PCI_SUBSYS_ID	0x1100		/* what QEMU's modern-only functions report */

/* §4.1.4: the vendor-specific capability that locates each structure. */
#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11
#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4
#define VIRTIO_PCI_CAP_PCI_CFG		5

/* Offsets inside a virtio capability, from its first byte (the id). */
#define VCAP_BAR		4
#define VCAP_OFFSET		8
#define VCAP_LENGTH		12
#define VCAP_PCI_CFG_DATA	16

/* MSI-X capability (PCI 3.0 §6.8.2): message control bits. */
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASKALL	0x4000
#define MSIX_ENTRY_MASKED	0x1

/* Common configuration structure offsets (§4.1.4.3). */
enum {
	CC_DFSELECT = 0x00, CC_DF = 0x04, CC_GFSELECT = 0x08, CC_GF = 0x0c,
	CC_MSIX = 0x10, CC_NUMQ = 0x12, CC_STATUS = 0x14, CC_CFGGEN = 0x15,
	CC_Q_SELECT = 0x16, CC_Q_SIZE = 0x18, CC_Q_MSIX = 0x1a, CC_Q_ENABLE = 0x1c,
	CC_Q_NOFF = 0x1e, CC_Q_DESCLO = 0x20, CC_Q_DESCHI = 0x24, CC_Q_AVAILLO = 0x28,
	CC_Q_AVAILHI = 0x2c, CC_Q_USEDLO = 0x30, CC_Q_USEDHI = 0x34,
};

static uint16_t get16(const uint8_t *b) { return (uint16_t)(b[0] | b[1] << 8); }

/* The device's name in --trace lines: "vda", or its kind before the platform named it. */
static const char *vpci_name(const struct virtio_pci *p)
{
	return p->dev->vq[0].dev_name;
}

/* --trace: "ACKNOWLEDGE|DRIVER|FEATURES_OK" for a status byte (§2.1). */
static const char *vpci_status_str(uint8_t st, char *buf, size_t len)
{
	static const char *const bit[8] = { "ACKNOWLEDGE", "DRIVER", "DRIVER_OK", "FEATURES_OK",
					    "0x10", "0x20", "NEEDS_RESET", "FAILED" };
	size_t at = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < 8 && at < len; i++)
		if (st & (1u << i))
			at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? "|" : "", bit[i]);
	return buf;
}

/* --trace: the common configuration field at off (§4.1.4.3). */
static const char *vpci_common_name(uint32_t off)
{
	static const char *const names[] = {
		[CC_DFSELECT] = "device_feature_select", [CC_GFSELECT] = "driver_feature_select",
		[CC_GF] = "driver_feature", [CC_MSIX] = "config_msix_vector",
		[CC_STATUS] = "device_status", [CC_Q_SELECT] = "queue_select",
		[CC_Q_SIZE] = "queue_size", [CC_Q_MSIX] = "queue_msix_vector",
		[CC_Q_ENABLE] = "queue_enable", [CC_Q_DESCLO] = "queue_desc",
		[CC_Q_DESCHI] = "queue_desc_hi", [CC_Q_AVAILLO] = "queue_driver",
		[CC_Q_AVAILHI] = "queue_driver_hi", [CC_Q_USEDLO] = "queue_device",
		[CC_Q_USEDHI] = "queue_device_hi",
	};

	return off < sizeof(names) / sizeof(names[0]) && names[off] ? names[off] : "read-only field";
}

static struct vpci_queue *vpci_selected(struct virtio_pci *p)
{
	/* GUEST: queue_select is any 16-bit value; only existing queues answer. */
	return p->queue_select < p->dev->nr_queues ? &p->q[p->queue_select] : NULL;
}

/* ---- interrupts: MSI-X through irqfd, or INTx with the ISR ---- */

static bool vpci_msix_enabled(const struct virtio_pci *p)
{
	return get16(&p->pci.cfg[p->msix_cap + 2]) & MSIX_CTRL_ENABLE;
}

static bool vpci_msix_maskall(const struct virtio_pci *p)
{
	return get16(&p->pci.cfg[p->msix_cap + 2]) & MSIX_CTRL_MASKALL;
}

/* Gives KVM the vector's current message; msix_lock held. */
static void vpci_route(struct virtio_pci *p, unsigned int v)
{
	struct vpci_vector *e = &p->vec[v];

	if (p->host.vm_fd < 0)
		return;
	HV_TRACE(HV_TRACE_IRQ, "%s: MSI-X vector %u -> GSI %u (address 0x%x, data 0x%x)", vpci_name(p),
		 v, e->gsi, e->addr_lo, e->data);
	if (!irq_set_msi(p->host.irq, e->gsi, (uint64_t)e->addr_hi << 32 | e->addr_lo, e->data))
		irq_commit(p->host.irq);
}

static void vpci_fire(struct virtio_pci *p, unsigned int v)
{
	struct vpci_vector *e;

	pthread_mutex_lock(&p->msix_lock);
	if (v < p->nr_vectors) {
		e = &p->vec[v];
		HV_TRACE(HV_TRACE_IRQ, "%s: MSI-X vector %u: %s", vpci_name(p), v,
			 (e->ctrl & MSIX_ENTRY_MASKED) || vpci_msix_maskall(p) ? "masked, left pending"
			 : "irqfd signalled (KVM injects the MSI)");
		if ((e->ctrl & MSIX_ENTRY_MASKED) || vpci_msix_maskall(p))
			e->pending = true;	/* the PBA bit; delivered at unmask */
		else if (eventfd_write(e->irq_fd, 1) < 0)
			virtio_warn(p->dev, "%s: MSI-X vector %u: %s", p->dev->ops->name, v,
				    strerror(errno));
	}
	pthread_mutex_unlock(&p->msix_lock);
}

static void vpci_set_intx(struct virtio_pci *p, bool level)
{
	/* PCI: Command bit 10 disables INTx assertion. */
	if (get16(&p->pci.cfg[PCI_COMMAND]) & PCI_COMMAND_INTX_DISABLE)
		level = false;
	if (level == p->intx_level)
		return;
	p->intx_level = level;
	HV_TRACE(HV_TRACE_IRQ, "%s: INTx %s (GSI %u, ISR 0x%x)", vpci_name(p),
		 level ? "asserted" : "deasserted", p->host.intx_gsi, (unsigned int)p->isr);
	if (p->host.set_intx)
		p->host.set_intx(p->host.intx_opaque, p->host.intx_gsi, level);
}

/* dev->raise: q >= 0 used buffers on queue q, q < 0 a configuration change.  dev->lock held. */
static void vpci_raise(struct virtio_dev *d, int q)
{
	struct virtio_pci *p = d->transport;
	uint16_t v;

	if (vpci_msix_enabled(p)) {
		v = q < 0 ? p->config_vector : p->q[q].vector;
		if (v != VPCI_NO_VECTOR)
			vpci_fire(p, v);
		return;
	}
	/* §4.1.4.5: INTx; bit 0 used buffers, bit 1 configuration change; cleared by reading. */
	p->isr |= q < 0 ? 2 : 1;
	vpci_set_intx(p, true);
}

/* ---- the notify eventfds: KVM signals them on a guest write to the queue's notify address ---- */

static void vpci_kick(void *opaque, int fd, uint32_t events)
{
	struct vpci_queue *k = opaque;
	struct virtio_pci *p = k->owner;
	struct virtio_dev *d = p->dev;
	eventfd_t n;

	(void)events;
	if (eventfd_read(fd, &n) < 0)
		return;
	pthread_mutex_lock(&d->lock);
	if ((d->status & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_NEEDS_RESET) &&
	    d->vq[k->index].ready) {
		HV_TRACE(HV_TRACE_VIRTIO, "%s q%u notified (ioeventfd count %llu): the I/O thread woke",
			 vpci_name(p), (unsigned int)k->index, (unsigned long long)n);
		d->nr_kicks++;
		d->vq[k->index].nr_kicks++;
		d->ops->notify(d, k->index);
		if (d->vq[k->index].broken)
			virtio_needs_reset(d);
	}
	pthread_mutex_unlock(&d->lock);
}

static void vpci_unregister_notify(struct virtio_pci *p)
{
	uint16_t i;

	for (i = 0; i < p->dev->nr_queues; i++) {
		if (p->q[i].kick_addr && p->host.vm_fd >= 0)
			ioeventfd_deassign(p->host.vm_fd, p->q[i].kick_fd, p->q[i].kick_addr,
					   p->host.ioeventfd_any_len ? 0 : 2, false);
		p->q[i].kick_addr = 0;
	}
	p->notify_base = 0;
}

/* BAR 0 moved, or memory decoding was switched: put the ioeventfds where the guest will write. */
static void vpci_update_notify(struct virtio_pci *p)
{
	uint32_t base = pci_bar_addr(&p->pci, VPCI_BAR_VIRTIO);
	uint16_t i;

	if (base == p->notify_base)
		return;
	vpci_unregister_notify(p);
	if (!base || p->host.vm_fd < 0)
		return;
	for (i = 0; i < p->dev->nr_queues; i++) {
		uint64_t addr = (uint64_t)base + VPCI_NOTIFY_OFF + (uint64_t)i * VPCI_NOTIFY_MULT;
		int ret = ioeventfd_assign(p->host.vm_fd, p->q[i].kick_fd, addr,
					   p->host.ioeventfd_any_len ? 0 : 2, false);

		if (ret) {
			/*
			 * Still works: the MMIO exit path relays the kick to the
			 * same eventfd.  A guest can move BARs onto each other's
			 * notify addresses (EEXIST) as often as it likes.
			 */
			virtio_warn(p->dev, "%s: KVM_IOEVENTFD at 0x%llx: %s", p->dev->ops->name,
				    (unsigned long long)addr, strerror(-ret));
			continue;
		}
		p->q[i].kick_addr = addr;
	}
	p->notify_base = base;
	HV_TRACE(HV_TRACE_PCI, "%s: BAR0 at 0x%x: queue notify ioeventfds at 0x%llx + %u * queue",
		 vpci_name(p), base, (unsigned long long)base + VPCI_NOTIFY_OFF, VPCI_NOTIFY_MULT);
	if (base != p->logged_base)
		hv_info("%s: BAR0 at 0x%x, notifications by ioeventfd", p->dev->ops->name, base);
	p->logged_base = base;
}

/* ---- common configuration (§4.1.4.3), dev->lock held ---- */

static void vpci_reset(struct virtio_pci *p)
{
	struct virtio_dev *d = p->dev;
	uint16_t i;

	virtio_dev_reset(d);
	for (i = 0; i < d->nr_queues; i++) {
		struct vpci_queue *q = &p->q[i];

		q->size = d->queue_max;
		q->vector = VPCI_NO_VECTOR;
		q->enabled = false;
		q->desc = q->driver = q->device = 0;
	}
	p->device_feature_select = p->driver_feature_select = 0;
	p->driver_features = 0;
	p->queue_select = 0;
	p->config_vector = VPCI_NO_VECTOR;
	p->isr = 0;
	vpci_set_intx(p, false);
}

static void vpci_write_status(struct virtio_pci *p, uint8_t val)
{
	struct virtio_dev *d = p->dev;
	uint8_t old = d->status, st = val;
	char sbuf[96];

	HV_TRACE(HV_TRACE_VIRTIO, "%s: device_status <- 0x%02x %s", vpci_name(p), val,
		 val ? vpci_status_str(val, sbuf, sizeof(sbuf)) : "(reset)");
	if (val == 0) {
		vpci_reset(p);
		return;
	}
	/*
	 * GUEST: §2.1.2, §3.1.1: the driver sets bits one by one and never
	 * clears one; only a reset (0) starts over.  Clearing FEATURES_OK or
	 * DRIVER_OK would renegotiate under live queues and activate() twice:
	 * refused, the device waits for a reset.
	 */
	if (old & ~val & (VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)) {
		virtio_warn(d, "%s: device_status 0x%02x clears bits of 0x%02x without a reset",
			    d->ops->name, val, old);
		virtio_needs_reset(d);
		return;
	}
	if ((st & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		uint64_t f = p->driver_features;

		/*
		 * GUEST: §2.2.2 the driver accepts only offered features; hvrun
		 * drives only modern devices (§7.2.1: VERSION_1).  A refusal is
		 * FEATURES_OK left clear when the driver reads the status back.
		 */
		if ((f & ~d->host_features) || !(f & VIRTIO_BIT(VIRTIO_F_VERSION_1)) ||
		    (d->ops->features_ok && d->ops->features_ok(d, f))) {
			virtio_warn(d, "%s: refusing features 0x%llx (offered 0x%llx)", d->ops->name,
				    (unsigned long long)f, (unsigned long long)d->host_features);
			st &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		} else {
			d->features = f;
			HV_TRACE(HV_TRACE_VIRTIO, "%s: features 0x%llx accepted (offered 0x%llx)",
				 vpci_name(p), (unsigned long long)f, (unsigned long long)d->host_features);
		}
	}
	st |= old & VIRTIO_STATUS_NEEDS_RESET;	/* only a reset clears it */
	if ((st & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
		if (!(st & VIRTIO_STATUS_FEATURES_OK)) {
			virtio_warn(d, "%s: DRIVER_OK without FEATURES_OK", d->ops->name);
			d->status = st & (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
			virtio_needs_reset(d);
			return;
		}
		d->status = st;
		if (d->ops->activate && d->ops->activate(d)) {
			virtio_warn(d, "%s: the device could not start", d->ops->name);
			virtio_needs_reset(d);
		}
		return;
	}
	d->status = st;
}

static void vpci_queue_enable(struct virtio_pci *p, struct vpci_queue *q)
{
	struct virtio_dev *d = p->dev;
	struct virtqueue *vq = &d->vq[q - p->q];

	/* GUEST: the ring addresses and size are checked here, once (virtqueue.c). */
	if (vq_enable(vq, d->mem, q->size, q->desc, q->driver, q->device, d->features)) {
		virtio_warn(d, "%s: queue %u refused: %s (size %u, desc 0x%llx, avail 0x%llx, "
			    "used 0x%llx)", d->ops->name, (unsigned int)(q - p->q),
			    vq_error_name(vq->error), q->size, (unsigned long long)q->desc,
			    (unsigned long long)q->driver, (unsigned long long)q->device);
		virtio_needs_reset(d);
		return;
	}
	q->enabled = true;
}

static void vpci_common_write(struct virtio_pci *p, uint32_t off, uint64_t v, unsigned int len)
{
	struct virtio_dev *d = p->dev;
	struct vpci_queue *q = vpci_selected(p);
	uint64_t *addr = NULL;

	if (off != CC_STATUS)
		HV_TRACE(HV_TRACE_VIRTIO, "%s: %s <- 0x%llx (%u B, queue_select %u)", vpci_name(p),
			 vpci_common_name(off), (unsigned long long)v, len, (unsigned int)p->queue_select);
	switch (off) {
	case CC_DFSELECT:
		if (len == 4)
			p->device_feature_select = (uint32_t)v;
		return;
	case CC_GFSELECT:
		if (len == 4)
			p->driver_feature_select = (uint32_t)v;
		return;
	case CC_GF:
		/* GUEST: features are frozen once FEATURES_OK is set (§2.2). */
		if (len != 4 || (d->status & VIRTIO_STATUS_FEATURES_OK) || p->driver_feature_select > 1)
			return;
		if (p->driver_feature_select)
			p->driver_features = (p->driver_features & 0xffffffffu) | v << 32;
		else
			p->driver_features = (p->driver_features & ~0xffffffffull) | (uint32_t)v;
		return;
	case CC_MSIX:
		if (len == 2)
			p->config_vector = v < p->nr_vectors ? (uint16_t)v : VPCI_NO_VECTOR;
		return;
	case CC_STATUS:
		if (len == 1)
			vpci_write_status(p, (uint8_t)v);
		return;
	case CC_Q_SELECT:
		if (len == 2)
			p->queue_select = (uint16_t)v;
		return;
	}
	/* Per-queue registers: an existing queue, not yet enabled (§4.1.4.3.2). */
	if (!q || q->enabled)
		return;
	switch (off) {
	case CC_Q_SIZE:
		if (len == 2)
			q->size = (uint16_t)v;	/* GUEST: checked at enable */
		return;
	case CC_Q_MSIX:
		if (len == 2)
			q->vector = v < p->nr_vectors ? (uint16_t)v : VPCI_NO_VECTOR;
		return;
	case CC_Q_ENABLE:
		if (len == 2 && v == 1)
			vpci_queue_enable(p, q);
		return;
	case CC_Q_DESCLO: case CC_Q_DESCHI: addr = &q->desc; break;
	case CC_Q_AVAILLO: case CC_Q_AVAILHI: addr = &q->driver; break;
	case CC_Q_USEDLO: case CC_Q_USEDHI: addr = &q->device; break;
	default:
		return;
	}
	/* 64-bit fields: one 8-byte access, or two 4-byte halves. */
	if (len == 8 && !(off & 4))
		*addr = v;
	else if (len == 4 && (off & 4))
		*addr = (*addr & 0xffffffffu) | v << 32;
	else if (len == 4)
		*addr = (*addr & ~0xffffffffull) | (uint32_t)v;
}

static void vpci_common_read(struct virtio_pci *p, uint32_t off, uint8_t *data, unsigned int len)
{
	struct virtio_dev *d = p->dev;
	struct vpci_queue *q = vpci_selected(p);
	uint8_t img[VPCI_COMMON_LEN] = { 0 };
	uint64_t f = p->device_feature_select == 0 ? d->host_features & 0xffffffffu
		   : p->device_feature_select == 1 ? d->host_features >> 32 : 0;

	put_le(&img[CC_DFSELECT], p->device_feature_select, 4);
	put_le(&img[CC_DF], f, 4);
	put_le(&img[CC_GFSELECT], p->driver_feature_select, 4);
	put_le(&img[CC_GF], p->driver_feature_select == 0 ? p->driver_features & 0xffffffffu
			    : p->driver_feature_select == 1 ? p->driver_features >> 32 : 0, 4);
	put_le(&img[CC_MSIX], p->config_vector, 2);
	put_le(&img[CC_NUMQ], d->nr_queues, 2);
	img[CC_STATUS] = d->status;
	img[CC_CFGGEN] = d->config_generation;
	put_le(&img[CC_Q_SELECT], p->queue_select, 2);
	if (q) {
		put_le(&img[CC_Q_SIZE], q->size, 2);
		put_le(&img[CC_Q_MSIX], q->vector, 2);
		put_le(&img[CC_Q_ENABLE], q->enabled, 2);
		put_le(&img[CC_Q_NOFF], p->queue_select, 2);
		put_le(&img[CC_Q_DESCLO], q->desc, 8);
		put_le(&img[CC_Q_AVAILLO], q->driver, 8);
		put_le(&img[CC_Q_USEDLO], q->device, 8);
	} else {
		put_le(&img[CC_Q_MSIX], VPCI_NO_VECTOR, 2);
	}
	memcpy(data, &img[off], len);
}

/* ---- BAR 0: the virtio structures ---- */

static void vpci_virtio_access(struct virtio_pci *p, uint64_t off, uint8_t *data, unsigned int len,
			       bool is_write)
{
	struct virtio_dev *d = p->dev;

	if (off >= VPCI_NOTIFY_OFF) {
		/* Reached only without an ioeventfd (or at another width): relay to the same eventfd. */
		uint64_t qi = (off - VPCI_NOTIFY_OFF) / VPCI_NOTIFY_MULT;

		HV_TRACE(HV_TRACE_VIRTIO, "%s q%llu: notify by MMIO exit (no ioeventfd here): relayed",
			 vpci_name(p), (unsigned long long)qi);
		if (is_write && qi < d->nr_queues)
			eventfd_write(p->q[qi].kick_fd, 1);
		else if (!is_write)
			memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (off >= VPCI_DEVICE_OFF) {
		uint64_t o = off - VPCI_DEVICE_OFF;

		/* GUEST: the whole access inside the device's configuration. */
		if (o + len > d->config_size) {
			if (!is_write)
				memset(data, 0, len);
		} else if (is_write) {
			if (d->ops->config_write)
				d->ops->config_write(d, (uint32_t)o, data, len);
		} else if (d->ops->config_read) {
			d->ops->config_read(d, (uint32_t)o, data, len);
		} else {
			memcpy(data, (uint8_t *)d->config + o, len);
		}
	} else if (off >= VPCI_ISR_OFF) {
		if (!is_write) {
			memset(data, 0, len);
			if (off == VPCI_ISR_OFF) {
				/* §4.1.4.5.1: reading ISR clears it and deasserts INTx. */
				data[0] = p->isr;
				p->isr = 0;
				vpci_set_intx(p, false);
			}
		}
	} else if (off + len <= VPCI_COMMON_LEN && !(off & (len - 1))) {
		/* GUEST: naturally aligned, inside the structure. */
		if (is_write)
			vpci_common_write(p, (uint32_t)off, get_le(data, len), len);
		else
			vpci_common_read(p, (uint32_t)off, data, len);
	} else if (!is_write) {
		memset(data, 0, len);
	}
	pthread_mutex_unlock(&d->lock);
}

/* ---- BAR 1: the MSI-X table and pending-bit array ---- */

static void vpci_msix_access(struct virtio_pci *p, uint64_t off, uint8_t *data, unsigned int len,
			     bool is_write)
{
	pthread_mutex_lock(&p->msix_lock);
	if (off >= VPCI_MSIX_PBA_OFF) {
		/* The PBA is read-only. */
		if (!is_write) {
			uint64_t bits = 0, first = (off - VPCI_MSIX_PBA_OFF) * 8;
			unsigned int i;

			for (i = 0; i < len * 8; i++)
				if (first + i < p->nr_vectors && p->vec[first + i].pending)
					bits |= 1ull << i;
			put_le(data, bits, len);
		}
	} else if ((len != 4 && len != 8) || (off & (len - 1)) || off / 16 >= p->nr_vectors) {
		/* GUEST: PCI 3.0 §6.8.2: dword or qword, aligned, inside the table. */
		if (!is_write)
			memset(data, 0xff, len);
	} else {
		unsigned int v = (unsigned int)(off / 16), w;
		struct vpci_vector *e = &p->vec[v];
		uint32_t *field[4] = { &e->addr_lo, &e->addr_hi, &e->data, &e->ctrl };

		for (w = (unsigned int)(off % 16) / 4; len; w++, len -= 4, data += 4) {
			if (!is_write) {
				put_le(data, *field[w], 4);
				continue;
			}
			if (w == 3) {
				bool was_masked = e->ctrl & MSIX_ENTRY_MASKED;

				e->ctrl = (uint32_t)get_le(data, 4) & MSIX_ENTRY_MASKED;
				if (was_masked && !(e->ctrl & MSIX_ENTRY_MASKED)) {
					vpci_route(p, v);
					if (e->pending && !vpci_msix_maskall(p)) {
						e->pending = false;
						eventfd_write(e->irq_fd, 1);
					}
				}
			} else {
				*field[w] = (uint32_t)get_le(data, 4);
				if (!(e->ctrl & MSIX_ENTRY_MASKED))
					vpci_route(p, v);
			}
		}
	}
	pthread_mutex_unlock(&p->msix_lock);
}

static void vpci_bar_access(struct pci_device *dev, unsigned int bar, uint64_t off, uint8_t *data,
			    unsigned int len, bool is_write)
{
	struct virtio_pci *p = dev->opaque;

	if (len > 8) {
		if (!is_write)
			memset(data, 0xff, len);
	} else if (bar == VPCI_BAR_VIRTIO) {
		vpci_virtio_access(p, off, data, len, is_write);
	} else {
		vpci_msix_access(p, off, data, len, is_write);
	}
}

/* ---- config space hooks (the bus lock is held) ---- */

static bool overlaps(uint16_t off, unsigned int size, unsigned int start, unsigned int len)
{
	return off < start + len && start < (unsigned int)off + size;
}

/* §4.1.4.8: VIRTIO_PCI_CAP_PCI_CFG, a window into the BARs through config space. */
static void vpci_cfg_window(struct virtio_pci *p, bool is_write)
{
	uint8_t *cap = &p->pci.cfg[p->cfg_cap];
	uint32_t off = (uint32_t)get_le(&cap[VCAP_OFFSET], 4);
	uint32_t len = (uint32_t)get_le(&cap[VCAP_LENGTH], 4);
	uint8_t bar = cap[VCAP_BAR];

	/* GUEST: 1, 2 or 4 bytes, aligned, inside an implemented BAR. */
	if ((len != 1 && len != 2 && len != 4) || (off & (len - 1)) || bar >= PCI_NR_BARS ||
	    !p->pci.bar[bar].size || (uint64_t)off + len > p->pci.bar[bar].size)
		return;
	vpci_bar_access(&p->pci, bar, off, &cap[VCAP_PCI_CFG_DATA], len, is_write);
}

static void vpci_cfg_reading(struct pci_device *dev, uint16_t off, unsigned int size)
{
	struct virtio_pci *p = dev->opaque;

	if (overlaps(off, size, p->cfg_cap + VCAP_PCI_CFG_DATA, 4))
		vpci_cfg_window(p, false);
}

static void vpci_cfg_written(struct pci_device *dev, uint16_t off, unsigned int size)
{
	struct virtio_pci *p = dev->opaque;
	unsigned int v;

	if (overlaps(off, size, PCI_COMMAND, 2) || overlaps(off, size, PCI_BASE_ADDRESS_0, 4))
		vpci_update_notify(p);
	if (overlaps(off, size, PCI_COMMAND, 2)) {
		/*
		 * INTx disabled, or enabled again with an interrupt pending:
		 * the line follows, under d->lock like every other change of
		 * it (vpci_raise, the ISR read).
		 */
		pthread_mutex_lock(&p->dev->lock);
		vpci_set_intx(p, p->isr && !vpci_msix_enabled(p));
		pthread_mutex_unlock(&p->dev->lock);
	}
	if (overlaps(off, size, p->msix_cap + 2, 2)) {
		HV_TRACE(HV_TRACE_PCI, "%s: MSI-X %s%s", vpci_name(p),
			 vpci_msix_enabled(p) ? "enabled" : "disabled", vpci_msix_maskall(p) ? ", all masked" : "");
		pthread_mutex_lock(&p->msix_lock);
		if (vpci_msix_enabled(p)) {
			/* Enabled (or unmasked): routes for every unmasked vector, then what waited. */
			for (v = 0; v < p->nr_vectors; v++)
				if (!(p->vec[v].ctrl & MSIX_ENTRY_MASKED))
					vpci_route(p, v);
			for (v = 0; v < p->nr_vectors && !vpci_msix_maskall(p); v++) {
				if (p->vec[v].pending && !(p->vec[v].ctrl & MSIX_ENTRY_MASKED)) {
					p->vec[v].pending = false;
					eventfd_write(p->vec[v].irq_fd, 1);
				}
			}
		}
		pthread_mutex_unlock(&p->msix_lock);
		if (vpci_msix_enabled(p)) {
			pthread_mutex_lock(&p->dev->lock);
			vpci_set_intx(p, false);
			pthread_mutex_unlock(&p->dev->lock);
		}
	}
	if (overlaps(off, size, p->cfg_cap + VCAP_PCI_CFG_DATA, 4))
		vpci_cfg_window(p, true);
}

/* ---- creation ---- */

static uint8_t vpci_add_vcap(struct virtio_pci *p, uint8_t type, uint32_t off, uint32_t len,
			     uint8_t cap_len, uint32_t extra)
{
	uint8_t body[18] = { 0 };

	/* After id and next: cap_len, cfg_type, bar, id, padding[2], offset, length (+ 4 bytes). */
	body[0] = cap_len;
	body[1] = type;
	body[2] = VPCI_BAR_VIRTIO;
	put_le(&body[6], off, 4);
	put_le(&body[10], len, 4);
	put_le(&body[14], extra, 4);
	return pci_add_capability(&p->pci, PCI_CAP_ID_VNDR, body, (uint8_t)(cap_len - 2));
}

static uint32_t vpci_place_bar(uint32_t *next, uint32_t size)
{
	uint32_t at = (*next + size - 1) & ~(size - 1);

	*next = at + size;
	return at;
}

int vpci_create(struct virtio_pci **out, struct virtio_dev *d, const struct vpci_host *host,
		uint32_t *mmio_next)
{
	struct virtio_pci *p = calloc(1, sizeof(*p));
	uint8_t msix[10];
	uint16_t i;
	int ret = -ENOMEM;

	if (!p)
		return -ENOMEM;
	p->dev = d;
	p->host = *host;
	pthread_mutex_init(&p->msix_lock, NULL);
	p->nr_vectors = d->nr_queues + 1u;
	if (p->nr_vectors > VPCI_MAX_VECTORS)
		p->nr_vectors = VPCI_MAX_VECTORS;
	p->q = calloc(d->nr_queues, sizeof(*p->q));
	p->vec = calloc(p->nr_vectors, sizeof(*p->vec));
	if (!p->q || !p->vec)
		goto fail;
	for (i = 0; i < d->nr_queues; i++)
		p->q[i].kick_fd = -1;
	for (i = 0; i < p->nr_vectors; i++)
		p->vec[i].irq_fd = -1;

	pci_device_init(&p->pci, d->ops->name, VIRTIO_PCI_VENDOR,
			(uint16_t)(VIRTIO_PCI_DEVICE_BASE + d->ops->device_id), 1, d->ops->pci_class,
			0x00, VIRTIO_PCI_VENDOR, VIRTIO_PCI_SUBSYS_ID);
	p->pci.opaque = p;
	p->pci.written = vpci_cfg_written;
	p->pci.reading = vpci_cfg_reading;
	p->pci.cfg[PCI_INTERRUPT_PIN] = 1;	/* INTA */
	p->pci.cfg[PCI_INTERRUPT_LINE] = (uint8_t)host->intx_gsi;
	pci_device_set_bar(&p->pci, VPCI_BAR_VIRTIO, VPCI_BAR_VIRTIO_SIZE,
			   vpci_place_bar(mmio_next, VPCI_BAR_VIRTIO_SIZE), vpci_bar_access);
	pci_device_set_bar(&p->pci, VPCI_BAR_MSIX, VPCI_BAR_MSIX_SIZE,
			   vpci_place_bar(mmio_next, VPCI_BAR_MSIX_SIZE), vpci_bar_access);

	/* MSI-X: table size - 1, table at BAR 1 offset 0, PBA at BAR 1 + 0x800. */
	put_le(&msix[0], p->nr_vectors - 1, 2);
	put_le(&msix[2], 0 | VPCI_BAR_MSIX, 4);
	put_le(&msix[6], VPCI_MSIX_PBA_OFF | VPCI_BAR_MSIX, 4);
	p->msix_cap = pci_add_capability(&p->pci, PCI_CAP_ID_MSIX, msix, sizeof(msix));
	p->pci.wmask[p->msix_cap + 3] = (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL) >> 8;

	vpci_add_vcap(p, VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON_OFF, VPCI_COMMON_LEN, 16, 0);
	vpci_add_vcap(p, VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_NOTIFY_OFF,
		      (uint32_t)d->nr_queues * VPCI_NOTIFY_MULT, 20, VPCI_NOTIFY_MULT);
	vpci_add_vcap(p, VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR_OFF, VPCI_ISR_LEN, 16, 0);
	vpci_add_vcap(p, VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_DEVICE_OFF,
		      d->config_size ? d->config_size : 1, 16, 0);
	p->cfg_cap = vpci_add_vcap(p, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 20, 0);
	if (!p->msix_cap || !p->cfg_cap) {
		ret = -ENOSPC;
		goto fail;
	}
	/* The PCI_CFG window's bar, offset, length and data are the driver's to write. */
	p->pci.wmask[p->cfg_cap + VCAP_BAR] = 0xff;
	memset(&p->pci.wmask[p->cfg_cap + VCAP_OFFSET], 0xff, 12);

	for (i = 0; i < d->nr_queues; i++) {
		p->q[i].owner = p;
		p->q[i].index = i;
		p->q[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->q[i].kick_fd < 0) {
			ret = -errno;
			goto fail;
		}
		ret = ev_add(d->loop, p->q[i].kick_fd, 0, vpci_kick, &p->q[i]);
		if (ret)
			goto fail;
	}
	for (i = 0; i < p->nr_vectors; i++) {
		struct vpci_vector *e = &p->vec[i];

		e->ctrl = MSIX_ENTRY_MASKED;	/* PCI 3.0: every vector starts masked */
		e->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (e->irq_fd < 0) {
			ret = -errno;
			goto fail;
		}
		if (host->vm_fd >= 0) {
			ret = irq_alloc_gsi(host->irq, &e->gsi);
			if (!ret)
				ret = irqfd_assign(host->vm_fd, e->irq_fd, e->gsi);
			if (ret)
				goto fail;
		}
	}
	d->transport = p;
	d->raise = vpci_raise;
	pthread_mutex_lock(&d->lock);
	vpci_reset(p);
	pthread_mutex_unlock(&d->lock);
	*out = p;
	return 0;
fail:
	vpci_destroy(p);
	return ret;
}

void vpci_destroy(struct virtio_pci *p)
{
	unsigned int i;

	if (!p)
		return;
	if (p->q && p->dev) {
		vpci_unregister_notify(p);
		for (i = 0; i < p->dev->nr_queues; i++) {
			if (p->q[i].kick_fd < 0)
				continue;
			ev_del(p->dev->loop, p->q[i].kick_fd);
			close(p->q[i].kick_fd);
		}
	}
	for (i = 0; p->vec && i < p->nr_vectors; i++) {
		if (p->vec[i].irq_fd < 0)
			continue;
		if (p->host.vm_fd >= 0 && p->vec[i].gsi)
			irqfd_deassign(p->host.vm_fd, p->vec[i].irq_fd, p->vec[i].gsi);
		close(p->vec[i].irq_fd);
	}
	free(p->q);
	free(p->vec);
	pthread_mutex_destroy(&p->msix_lock);
	free(p);
}
