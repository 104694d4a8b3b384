/* virtio_pci.h: the virtio-over-PCI transport (virtio 1.2 §4.1), modern only, with MSI-X. */
#ifndef DEV_VIRTIO_PCI_H
#define DEV_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"
#include "devices/virtio/virtio.h"

struct irq_routes;

/* BAR 0: the virtio structures; BAR 1: the MSI-X table and PBA. */
#define VPCI_BAR_VIRTIO		0
#define VPCI_BAR_MSIX		1
#define VPCI_BAR_VIRTIO_SIZE	0x4000
#define VPCI_BAR_MSIX_SIZE	0x1000
#define VPCI_COMMON_OFF		0x0000
#define VPCI_COMMON_LEN		0x0038
#define VPCI_ISR_OFF		0x1000
#define VPCI_ISR_LEN		0x0004
#define VPCI_DEVICE_OFF		0x2000
#define VPCI_DEVICE_LEN		0x1000
#define VPCI_NOTIFY_OFF		0x3000
#define VPCI_NOTIFY_MULT	4		/* bytes between two queues' notify addresses */
#define VPCI_MSIX_PBA_OFF	0x0800
#define VPCI_MAX_VECTORS	128		/* the table must end before the PBA */
#define VPCI_NO_VECTOR		0xffff

/* What the transport needs from the VM; vm_fd < 0 (unit tests): no ioeventfd/irqfd ioctls. */
struct vpci_host {
	int vm_fd;
	struct irq_routes *irq;
	bool ioeventfd_any_len;		/* KVM_CAP_IOEVENTFD_ANY_LENGTH */
	void (*set_intx)(void *opaque, unsigned int gsi, int level);
	void *intx_opaque;
	unsigned int intx_gsi;		/* the GSI the DSDT's _PRT gives this slot's INTA */
};

struct virtio_pci;

struct vpci_queue {
	struct virtio_pci *owner;	/* for the kick handler */
	uint16_t index;
	uint16_t size;			/* QUEUE_SIZE as the driver left it */
	uint16_t vector;		/* QUEUE_MSIX_VECTOR */
	bool enabled;
	uint64_t desc, driver, device;
	int kick_fd;			/* eventfd: the guest's notifications (ioeventfd, or relayed) */
	uint64_t kick_addr;		/* where the ioeventfd is registered, 0 if none */
};

struct vpci_vector {
	uint32_t addr_lo, addr_hi, data, ctrl;	/* the MSI-X table entry */
	int irq_fd;			/* eventfd bound to gsi by KVM_IRQFD */
	uint32_t gsi;
	bool pending;			/* PBA bit: fired while masked */
};

struct virtio_pci {
	struct pci_device pci;
	struct virtio_dev *dev;
	struct vpci_host host;
	uint8_t msix_cap;		/* config-space offsets of two capabilities */
	uint8_t cfg_cap;

	/* Common configuration (under dev->lock). */
	uint32_t device_feature_select, driver_feature_select;
	uint64_t driver_features;
	uint16_t queue_select;
	uint16_t config_vector;
	uint8_t isr;
	bool intx_level;
	struct vpci_queue *q;

	/* MSI-X (under msix_lock; taken inside dev->lock when interrupting). */
	pthread_mutex_t msix_lock;
	unsigned int nr_vectors;
	struct vpci_vector *vec;

	uint32_t notify_base;		/* BAR 0 address the ioeventfds are registered at, 0 if none */
	uint32_t logged_base;		/* the last BAR 0 address -v reported (decoding toggles are not news) */
};

/*
 * Wraps device d in a PCI function: config space with the virtio capabilities
 * and MSI-X, BARs initially at *mmio_next (advanced, as a firmware would
 * assign them), one kick eventfd per queue on d->loop, one irqfd per vector.
 * Then the caller adds p->pci to the bus.  0 or -errno.
 */
int vpci_create(struct virtio_pci **out, struct virtio_dev *d, const struct vpci_host *host,
		uint32_t *mmio_next);
void vpci_destroy(struct virtio_pci *p);

#endif
