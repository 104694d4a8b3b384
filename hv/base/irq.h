/* irq.h: KVM's interrupt routing table (GSI -> irqchip pin or MSI) and irqfds: how device threads interrupt the guest. */
#ifndef HV_IRQ_H
#define HV_IRQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct kvm_irq_routing;

/*
 * KVM_SET_GSI_ROUTING replaces the whole table, so hvrun keeps the one copy
 * here: the PC's legacy entries (PIC and IOAPIC pins) plus one MSI entry per
 * MSI-X vector that is programmed.
 */
struct irq_routes {
	pthread_mutex_t lock;
	int vm_fd;
	struct kvm_irq_routing *table;
	unsigned int cap;		/* entries allocated */
	uint32_t next_gsi;		/* the next GSI irq_alloc_gsi() hands out */
	uint32_t max_gsi;		/* KVM_CAP_IRQ_ROUTING: GSIs < max_gsi */
	uint64_t nr_commits;
};

/* Builds the PC's legacy routes (timer on IOAPIC pin 2, as the MADT says) and commits them. 0 or -errno. */
int irq_routes_init(struct irq_routes *r, int vm_fd, int kvm_fd);
void irq_routes_destroy(struct irq_routes *r);

/* A fresh GSI above the IOAPIC's 24 pins, for one MSI vector.  0 or -ENOSPC. */
int irq_alloc_gsi(struct irq_routes *r, uint32_t *gsi);

/* Points gsi at an MSI message (address, data), or removes its route (irq_clear_msi). Not committed yet. */
int irq_set_msi(struct irq_routes *r, uint32_t gsi, uint64_t addr, uint32_t data);
void irq_clear_msi(struct irq_routes *r, uint32_t gsi);

/* Hands the table to KVM (KVM_SET_GSI_ROUTING).  0 or -errno. */
int irq_commit(struct irq_routes *r);

/* KVM_IRQFD: a write to eventfd efd injects gsi, inside KVM, from any thread. */
int irqfd_assign(int vm_fd, int efd, uint32_t gsi);
int irqfd_deassign(int vm_fd, int efd, uint32_t gsi);

/* KVM_IOEVENTFD: a guest write to [addr, addr+len) (len 0: any width) signals efd instead of exiting to us. */
int ioeventfd_assign(int vm_fd, int efd, uint64_t addr, uint32_t len, bool pio);
int ioeventfd_deassign(int vm_fd, int efd, uint64_t addr, uint32_t len, bool pio);

#endif
