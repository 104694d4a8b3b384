/* irq.c: the GSI routing table KVM injects interrupts through, irqfds (device -> guest) and ioeventfds (guest -> device). */
#include "hv/base/irq.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hv/base/log.h"
#include "hv/base/trace.h"

#define IRQ_FIRST_MSI_GSI	24	/* after the IOAPIC's pins */

static struct kvm_irq_routing_entry *irq_entry(struct irq_routes *r, unsigned int i)
{
	return &r->table->entries[i];
}

static int irq_grow(struct irq_routes *r)
{
	unsigned int cap = r->cap ? r->cap * 2 : 64;
	struct kvm_irq_routing *t;

	t = realloc(r->table, sizeof(*t) + cap * sizeof(struct kvm_irq_routing_entry));
	if (!t)
		return -ENOMEM;
	if (!r->table)
		t->nr = 0;
	t->flags = 0;
	r->table = t;
	r->cap = cap;
	return 0;
}

static int irq_add(struct irq_routes *r, const struct kvm_irq_routing_entry *e)
{
	int ret;

	if (r->table && r->table->nr == r->cap && (ret = irq_grow(r)))
		return ret;
	*irq_entry(r, r->table->nr++) = *e;
	return 0;
}

/*
 * Where each legacy interrupt (GSI) goes: the 8259 PICs for ISA IRQs 0-15,
 * and IOAPIC pin n for GSI n -- except the timer.  On a PC the 8254's output
 * reaches IOAPIC pin 2, and the MADT says so (ISA IRQ 0 -> GSI 2); KVM's
 * default table would send it to pin 0, where the guest never looks.
 */
int irq_routes_init(struct irq_routes *r, int vm_fd, int kvm_fd)
{
	unsigned int i;
	int max, ret;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->vm_fd = vm_fd;
	r->next_gsi = IRQ_FIRST_MSI_GSI;
	max = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);
	r->max_gsi = max > IRQ_FIRST_MSI_GSI ? (uint32_t)max : 1024;
	ret = irq_grow(r);
	for (i = 0; !ret && i < 16; i++) {
		if (i == 2)
			continue;	/* the cascade from the slave PIC */
		ret = irq_add(r, &(struct kvm_irq_routing_entry){
			.gsi = i, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
				       .pin = i % 8 } });
	}
	for (i = 0; !ret && i < 24; i++) {
		if (i == 2)
			continue;	/* pin 2 belongs to GSI 0, the timer */
		ret = irq_add(r, &(struct kvm_irq_routing_entry){
			.gsi = i, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = i ? i : 2 } });
	}
	return ret ? ret : irq_commit(r);
}

void irq_routes_destroy(struct irq_routes *r)
{
	free(r->table);
	r->table = NULL;
	pthread_mutex_destroy(&r->lock);
}

int irq_alloc_gsi(struct irq_routes *r, uint32_t *gsi)
{
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (r->next_gsi >= r->max_gsi)
		ret = -ENOSPC;
	else
		*gsi = r->next_gsi++;
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static int irq_find(struct irq_routes *r, uint32_t gsi)
{
	unsigned int i;

	for (i = 0; i < r->table->nr; i++)
		if (irq_entry(r, i)->gsi == gsi && irq_entry(r, i)->type == KVM_IRQ_ROUTING_MSI)
			return (int)i;
	return -1;
}

int irq_set_msi(struct irq_routes *r, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry e = {
		.gsi = gsi, .type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32),
			   .data = data },
	};
	int i, ret = 0;

	pthread_mutex_lock(&r->lock);
	i = irq_find(r, gsi);
	if (i >= 0)
		*irq_entry(r, (unsigned int)i) = e;
	else
		ret = irq_add(r, &e);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void irq_clear_msi(struct irq_routes *r, uint32_t gsi)
{
	int i;

	pthread_mutex_lock(&r->lock);
	i = irq_find(r, gsi);
	if (i >= 0)
		*irq_entry(r, (unsigned int)i) = *irq_entry(r, --r->table->nr);
	pthread_mutex_unlock(&r->lock);
}

int irq_commit(struct irq_routes *r)
{
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, r->table) < 0) {
		ret = -errno;
		hv_err("KVM_SET_GSI_ROUTING (%u routes): %s", r->table->nr, strerror(errno));
	}
	r->nr_commits++;
	HV_TRACE(HV_TRACE_IRQ, "KVM_SET_GSI_ROUTING: %u routes", r->table->nr);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irqfd_assign(int vm_fd, int efd, uint32_t gsi)
{
	struct kvm_irqfd f = { .fd = (uint32_t)efd, .gsi = gsi };

	HV_TRACE(HV_TRACE_IRQ, "irqfd: eventfd %d -> GSI %u", efd, gsi);
	return ioctl(vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int irqfd_deassign(int vm_fd, int efd, uint32_t gsi)
{
	struct kvm_irqfd f = { .fd = (uint32_t)efd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN };

	return ioctl(vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

static int ioeventfd(int vm_fd, int efd, uint64_t addr, uint32_t len, bool pio, bool deassign)
{
	struct kvm_ioeventfd e = {
		.addr = addr, .len = len, .fd = efd,
		.flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (deassign ? KVM_IOEVENTFD_FLAG_DEASSIGN : 0),
	};

	return ioctl(vm_fd, KVM_IOEVENTFD, &e) < 0 ? -errno : 0;
}

int ioeventfd_assign(int vm_fd, int efd, uint64_t addr, uint32_t len, bool pio)
{
	HV_TRACE(HV_TRACE_VIRTIO, "ioeventfd: a guest write to %s 0x%llx (%u B, 0: any) signals eventfd %d",
		 pio ? "port" : "MMIO", (unsigned long long)addr, len, efd);
	return ioeventfd(vm_fd, efd, addr, len, pio, false);
}

int ioeventfd_deassign(int vm_fd, int efd, uint64_t addr, uint32_t len, bool pio)
{
	return ioeventfd(vm_fd, efd, addr, len, pio, true);
}
