/* test_virtio_pci.c: the virtio-pci transport without KVM: config space, BARs, common config, MSI-X, INTx. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/pci.h"
#include "devices/virtio/virtio_pci.h"
#include "hv/base/output.h"
#include "tests/unit/mock_virtio.h"

#define BAR0	0xC0000000u
#define BAR1	0xC0004000u
#define NQ	2

/* A fake device: counts callbacks; activate can be told to fail. */
struct fake {
	struct virtio_dev vdev;
	uint8_t config[8];
	int activates, resets, notifies[NQ];
	int activate_ret;
};

static int fake_activate(struct virtio_dev *d)
{
	struct fake *f = (struct fake *)d;

	f->activates++;
	return f->activate_ret;
}

static void fake_notify(struct virtio_dev *d, unsigned int q)
{
	((struct fake *)d)->notifies[q]++;
}

static void fake_reset(struct virtio_dev *d)
{
	((struct fake *)d)->resets++;
}

static const struct virtio_dev_ops fake_ops = {
	.name = "virtio-fake", .device_id = VIRTIO_ID_BLOCK, .pci_class = 0x010000,
	.activate = fake_activate, .notify = fake_notify, .reset = fake_reset,
};

struct env {
	struct mock_vm m;
	struct ev_loop loop;
	struct fake f;
	struct virtio_pci *p;
	struct pci_bus bus;
	int intx_level, intx_calls;
};

static void intx(void *opaque, unsigned int gsi, int level)
{
	struct env *e = opaque;

	assert_int_equal(gsi, 18);
	e->intx_level = level;
	e->intx_calls++;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct vpci_host host = { .vm_fd = -1, .set_intx = intx, .intx_gsi = 18 };
	uint32_t next = BAR0;

	mock_vm_init(&e->m, 0, 1 << 20);
	assert_int_equal(ev_loop_init(&e->loop, "test"), 0);
	e->f.config[0] = 0x5a;
	assert_int_equal(virtio_dev_init(&e->f.vdev, &fake_ops, &e->m.gm, &e->loop, NQ, 64,
					 VIRTIO_BIT(VIRTIO_F_EVENT_IDX), e->f.config, sizeof(e->f.config)), 0);
	host.intx_opaque = e;
	assert_int_equal(vpci_create(&e->p, &e->f.vdev, &host, &next), 0);
	assert_int_equal(next, BAR1 + VPCI_BAR_MSIX_SIZE);
	pci_bus_init(&e->bus);
	assert_int_equal(pci_bus_add(&e->bus, 3, &e->p->pci), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	vpci_destroy(e->p);
	virtio_dev_cleanup(&e->f.vdev);
	ev_loop_destroy(&e->loop);
	pci_bus_destroy(&e->bus);
	mock_vm_free(&e->m);
	free(e);
	return 0;
}

static uint32_t cfg_rd(struct env *e, uint16_t reg, unsigned int size)
{
	return pci_cfg_read(&e->bus, 3 << 3, reg, size);
}

static void cfg_wr(struct env *e, uint16_t reg, uint32_t v, unsigned int size)
{
	pci_cfg_write(&e->bus, 3 << 3, reg, v, size);
}

static uint64_t mmio_rd(struct env *e, uint64_t addr, unsigned int len)
{
	uint64_t v = 0;

	assert_true(pci_mmio(&e->bus, addr, (uint8_t *)&v, len, false));
	return v;
}

static void mmio_wr(struct env *e, uint64_t addr, uint64_t v, unsigned int len)
{
	assert_true(pci_mmio(&e->bus, addr, (uint8_t *)&v, len, true));
}

static void enable_mem(struct env *e)
{
	cfg_wr(e, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

/* Finds the virtio capability of cfg_type t; returns its offset or 0. */
static uint8_t find_vcap(struct env *e, uint8_t t)
{
	uint8_t at = (uint8_t)cfg_rd(e, PCI_CAPABILITY_LIST, 1);
	int guard = 0;

	while (at && guard++ < 48) {
		if (cfg_rd(e, at, 1) == 0x09 && cfg_rd(e, at + 3, 1) == t)
			return at;
		at = (uint8_t)cfg_rd(e, at + 1, 1);
	}
	return 0;
}

#define CC(off)	(BAR0 + VPCI_COMMON_OFF + (off))

static void negotiate(struct env *e, uint64_t features)
{
	mmio_wr(e, CC(0x14), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	mmio_wr(e, CC(0x08), 0, 4);
	mmio_wr(e, CC(0x0c), (uint32_t)features, 4);
	mmio_wr(e, CC(0x08), 1, 4);
	mmio_wr(e, CC(0x0c), features >> 32, 4);
	mmio_wr(e, CC(0x14), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		VIRTIO_STATUS_FEATURES_OK, 1);
}

static void setup_queue(struct env *e, uint16_t q, struct mock_queue *mq, uint16_t vector)
{
	mmio_wr(e, CC(0x16), q, 2);
	mmio_wr(e, CC(0x18), mq->size, 2);
	mmio_wr(e, CC(0x1a), vector, 2);
	mmio_wr(e, CC(0x20), mq->desc, 8);
	mmio_wr(e, CC(0x28), (uint32_t)mq->avail, 4);
	mmio_wr(e, CC(0x2c), mq->avail >> 32, 4);
	mmio_wr(e, CC(0x30), mq->used, 8);
	mmio_wr(e, CC(0x1c), 1, 2);
}

static void test_identity(void **state)
{
	struct env *e = *state;

	assert_int_equal(cfg_rd(e, 0, 2), 0x1af4);
	assert_int_equal(cfg_rd(e, 2, 2), 0x1042);		/* 0x1040 + block */
	assert_int_equal(cfg_rd(e, 8, 1), 1);			/* revision 1: modern */
	assert_int_equal(cfg_rd(e, 8, 4) >> 8, 0x010000);
	assert_int_equal(cfg_rd(e, 0x2c, 2), 0x1af4);
	assert_true(cfg_rd(e, 0x2e, 2) >= 0x40);		/* §4.1.2.1 */
	assert_true(cfg_rd(e, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(cfg_rd(e, PCI_INTERRUPT_PIN, 1), 1);
}

static void test_capabilities(void **state)
{
	struct env *e = *state;
	uint8_t t, at;

	for (t = 1; t <= 5; t++) {
		at = find_vcap(e, t);
		assert_true(at >= 0x40);
		assert_int_equal(cfg_rd(e, at + 2, 1), t == 2 || t == 5 ? 20 : 16);
		assert_int_equal(cfg_rd(e, at + 4, 1), t == 5 ? 0 : VPCI_BAR_VIRTIO);
	}
	at = find_vcap(e, 2);
	assert_int_equal(cfg_rd(e, at + 8, 4), VPCI_NOTIFY_OFF);
	assert_int_equal(cfg_rd(e, at + 16, 4), VPCI_NOTIFY_MULT);
	at = find_vcap(e, 4);
	assert_int_equal(cfg_rd(e, at + 12, 4), 8);		/* device config length */
	/* MSI-X: table size NQ + 1, table in BAR 1 at 0, PBA in BAR 1 at 0x800 */
	at = e->p->msix_cap;
	assert_int_equal(cfg_rd(e, at, 1), 0x11);
	assert_int_equal(cfg_rd(e, at + 2, 2) & 0x7ff, NQ);
	assert_int_equal(cfg_rd(e, at + 4, 4), VPCI_BAR_MSIX);
	assert_int_equal(cfg_rd(e, at + 8, 4), VPCI_MSIX_PBA_OFF | VPCI_BAR_MSIX);
}

static void test_bar_sizing_and_relocation(void **state)
{
	struct env *e = *state;
	uint64_t v = 0;

	assert_int_equal(cfg_rd(e, 0x10, 4), BAR0);
	/* Decoding off: nothing answers. */
	assert_false(pci_mmio(&e->bus, BAR0, (uint8_t *)&v, 4, false));
	cfg_wr(e, 0x10, 0xffffffff, 4);
	assert_int_equal(cfg_rd(e, 0x10, 4), (uint32_t)~(VPCI_BAR_VIRTIO_SIZE - 1));
	cfg_wr(e, 0x14, 0xffffffff, 4);
	assert_int_equal(cfg_rd(e, 0x14, 4), (uint32_t)~(VPCI_BAR_MSIX_SIZE - 1));
	cfg_wr(e, 0x18, 0xffffffff, 4);
	assert_int_equal(cfg_rd(e, 0x18, 4), 0);		/* BAR 2 not implemented */
	/* Relocate both, with low bits the guest cannot set. */
	cfg_wr(e, 0x10, 0xD0000000 | 0xf, 4);
	cfg_wr(e, 0x14, 0xD0010000, 4);
	assert_int_equal(cfg_rd(e, 0x10, 4), 0xD0000000);
	enable_mem(e);
	assert_false(pci_mmio(&e->bus, BAR0, (uint8_t *)&v, 4, false));
	assert_int_equal(mmio_rd(e, 0xD0000000 + 0x12, 2), NQ);	/* num_queues */
	/* An access running past the end of a BAR belongs to nobody. */
	assert_false(pci_mmio(&e->bus, 0xD0000000 + VPCI_BAR_VIRTIO_SIZE - 2, (uint8_t *)&v, 4, false));
}

static void test_features_and_status(void **state)
{
	struct env *e = *state;

	enable_mem(e);
	mmio_wr(e, CC(0x00), 1, 4);
	assert_int_equal(mmio_rd(e, CC(0x04), 4), 1);		/* VERSION_1 is bit 32 */
	mmio_wr(e, CC(0x00), 0, 4);
	assert_int_equal(mmio_rd(e, CC(0x04), 4), 1u << VIRTIO_F_EVENT_IDX);
	mmio_wr(e, CC(0x00), 7, 4);
	assert_int_equal(mmio_rd(e, CC(0x04), 4), 0);
	negotiate(e, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	assert_true(mmio_rd(e, CC(0x14), 1) & VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(e->f.vdev.features,
			 VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	/* Frozen after FEATURES_OK. */
	mmio_wr(e, CC(0x08), 0, 4);
	mmio_wr(e, CC(0x0c), 0, 4);
	assert_int_equal(e->f.vdev.features & 0xffffffffu, 1u << VIRTIO_F_EVENT_IDX);
}

static void test_features_refused(void **state)
{
	struct env *e = *state;

	enable_mem(e);
	negotiate(e, VIRTIO_BIT(VIRTIO_F_EVENT_IDX));		/* no VERSION_1 */
	assert_false(mmio_rd(e, CC(0x14), 1) & VIRTIO_STATUS_FEATURES_OK);
	mmio_wr(e, CC(0x14), 0, 1);
	negotiate(e, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	assert_false(mmio_rd(e, CC(0x14), 1) & VIRTIO_STATUS_FEATURES_OK);	/* not offered */
	/* DRIVER_OK without FEATURES_OK: NEEDS_RESET, no activation. */
	mmio_wr(e, CC(0x14), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		VIRTIO_STATUS_DRIVER_OK, 1);
	assert_int_equal(e->f.activates, 0);
	assert_true(mmio_rd(e, CC(0x14), 1) & VIRTIO_STATUS_NEEDS_RESET);
	mmio_wr(e, CC(0x14), 0, 1);
	assert_int_equal(mmio_rd(e, CC(0x14), 1), 0);
}

static void test_queue_setup_and_activate(void **state)
{
	struct env *e = *state;
	struct mock_queue mq;

	enable_mem(e);
	mock_queue_init(&mq, &e->m, 32);
	negotiate(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	mmio_wr(e, CC(0x16), 0, 2);
	assert_int_equal(mmio_rd(e, CC(0x18), 2), 64);		/* the maximum, before the driver's choice */
	assert_int_equal(mmio_rd(e, CC(0x1e), 2), 0);
	mmio_wr(e, CC(0x16), 1, 2);
	assert_int_equal(mmio_rd(e, CC(0x1e), 2), 1);
	mmio_wr(e, CC(0x16), 9, 2);				/* no such queue */
	assert_int_equal(mmio_rd(e, CC(0x18), 2), 0);
	mmio_wr(e, CC(0x18), 16, 2);				/* ignored */
	setup_queue(e, 0, &mq, 1);
	assert_int_equal(mmio_rd(e, CC(0x1c), 2), 1);
	assert_true(e->f.vdev.vq[0].ready);
	assert_int_equal(e->f.vdev.vq[0].size, 32);
	assert_int_equal(mmio_rd(e, CC(0x20), 8), mq.desc);
	/* Enabled queues keep their addresses. */
	mmio_wr(e, CC(0x20), 0x1234000, 8);
	assert_int_equal(mmio_rd(e, CC(0x20), 8), mq.desc);
	mmio_wr(e, CC(0x14), 0x0f, 1);
	assert_int_equal(e->f.activates, 1);
	assert_int_equal(mmio_rd(e, CC(0x14), 1), 0x0f);
}

static void test_queue_bad_ring_needs_reset(void **state)
{
	struct env *e = *state;
	struct mock_queue mq;

	enable_mem(e);
	mock_queue_init(&mq, &e->m, 32);
	negotiate(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	mq.desc = (1 << 20) - 16;				/* runs off the end of RAM */
	setup_queue(e, 0, &mq, 1);
	assert_int_equal(mmio_rd(e, CC(0x1c), 2), 0);
	assert_true(mmio_rd(e, CC(0x14), 1) & VIRTIO_STATUS_NEEDS_RESET);
	mq.size = 48;						/* not a power of 2 */
	mq.desc = 0x1000;
	mmio_wr(e, CC(0x14), 0, 1);
	negotiate(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	setup_queue(e, 1, &mq, 1);
	assert_int_equal(mmio_rd(e, CC(0x1c), 2), 0);
	assert_true(mmio_rd(e, CC(0x14), 1) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_activate_failure_needs_reset(void **state)
{
	struct env *e = *state;

	enable_mem(e);
	e->f.activate_ret = -EIO;
	negotiate(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	mmio_wr(e, CC(0x14), 0x0f, 1);
	assert_int_equal(e->f.activates, 1);
	assert_true(mmio_rd(e, CC(0x14), 1) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_reset_really_resets(void **state)
{
	struct env *e = *state;
	struct mock_queue mq;

	enable_mem(e);
	mock_queue_init(&mq, &e->m, 16);
	negotiate(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	mmio_wr(e, CC(0x10), 0, 2);
	setup_queue(e, 0, &mq, 1);
	mmio_wr(e, CC(0x14), 0x0f, 1);
	mmio_wr(e, CC(0x14), 0, 1);
	assert_int_equal(e->f.resets, 2);	/* one at creation, one now */
	assert_int_equal(mmio_rd(e, CC(0x14), 1), 0);
	assert_int_equal(e->f.vdev.features, 0);
	assert_int_equal(mmio_rd(e, CC(0x10), 2), VPCI_NO_VECTOR);
	mmio_wr(e, CC(0x16), 0, 2);
	assert_int_equal(mmio_rd(e, CC(0x1c), 2), 0);
	assert_int_equal(mmio_rd(e, CC(0x18), 2), 64);
	assert_int_equal(mmio_rd(e, CC(0x1a), 2), VPCI_NO_VECTOR);
	assert_int_equal(mmio_rd(e, CC(0x20), 8), 0);
	assert_false(e->f.vdev.vq[0].ready);
}

static void test_vectors(void **state)
{
	struct env *e = *state;

	enable_mem(e);
	mmio_wr(e, CC(0x10), NQ, 2);				/* the last valid vector */
	assert_int_equal(mmio_rd(e, CC(0x10), 2), NQ);
	mmio_wr(e, CC(0x10), NQ + 1, 2);			/* out of range: NO_VECTOR (§4.1.5.1.2) */
	assert_int_equal(mmio_rd(e, CC(0x10), 2), VPCI_NO_VECTOR);
	mmio_wr(e, CC(0x16), 1, 2);
	mmio_wr(e, CC(0x1a), 500, 2);
	assert_int_equal(mmio_rd(e, CC(0x1a), 2), VPCI_NO_VECTOR);
}

static void test_device_config(void **state)
{
	struct env *e = *state;

	enable_mem(e);
	assert_int_equal(mmio_rd(e, BAR0 + VPCI_DEVICE_OFF, 1), 0x5a);
	assert_int_equal(mmio_rd(e, BAR0 + VPCI_DEVICE_OFF + 6, 4), 0);	/* straddles the end */
	assert_int_equal(mmio_rd(e, BAR0 + VPCI_DEVICE_OFF + 0x800, 4), 0);
	mmio_wr(e, BAR0 + VPCI_DEVICE_OFF, 0x11, 1);		/* no config_write: ignored */
	assert_int_equal(e->f.config[0], 0x5a);
}

static void test_bad_common_accesses(void **state)
{
	struct env *e = *state;

	enable_mem(e);
	/* Misaligned, wrong width, past the structure: ignored, read as 0, no crash. */
	mmio_wr(e, CC(0x13), 0xff, 2);
	mmio_wr(e, CC(0x14), 0x0f0f, 2);			/* status is one byte */
	assert_int_equal(mmio_rd(e, CC(0x14), 1), 0);
	assert_int_equal(mmio_rd(e, CC(0x37), 2), 0);
	assert_int_equal(mmio_rd(e, CC(0x40), 4), 0);
	mmio_wr(e, CC(0x100), 1, 4);
	assert_int_equal(mmio_rd(e, CC(0x12), 2), NQ);
}

static void test_notify_relay(void **state)
{
	struct env *e = *state;
	struct mock_queue mq;

	enable_mem(e);
	mock_queue_init(&mq, &e->m, 16);
	negotiate(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	setup_queue(e, 1, &mq, 2);
	mmio_wr(e, CC(0x14), 0x0f, 1);
	/* Without KVM the notify write exits to us and is relayed to the queue's eventfd. */
	mmio_wr(e, BAR0 + VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT, 1, 2);
	mmio_wr(e, BAR0 + VPCI_NOTIFY_OFF + 40 * VPCI_NOTIFY_MULT, 1, 2);	/* no such queue */
	mmio_wr(e, BAR0 + VPCI_NOTIFY_OFF, 0, 2);		/* queue 0: not enabled */
	while (ev_loop_poll(&e->loop, 0) > 0)
		;
	assert_int_equal(e->f.notifies[1], 1);
	assert_int_equal(e->f.notifies[0], 0);
}

static bool irq_pending(struct env *e, unsigned int v)
{
	eventfd_t n;

	return eventfd_read(e->p->vec[v].irq_fd, &n) == 0 && n > 0;
}

static void test_msix_mask_pending(void **state)
{
	struct env *e = *state;
	uint64_t t = BAR1 + 16 * 1;

	enable_mem(e);
	mmio_wr(e, CC(0x16), 0, 2);
	mmio_wr(e, CC(0x1a), 1, 2);
	cfg_wr(e, e->p->msix_cap + 2, 0x8000, 2);		/* MSI-X on */
	mmio_wr(e, t, 0xfee00000, 4);
	mmio_wr(e, t + 8, 0x4041, 4);
	assert_int_equal(mmio_rd(e, t + 12, 4), 1);		/* starts masked */
	pthread_mutex_lock(&e->f.vdev.lock);
	e->f.vdev.raise(&e->f.vdev, 0);
	pthread_mutex_unlock(&e->f.vdev.lock);
	assert_false(irq_pending(e, 1));
	assert_int_equal(mmio_rd(e, BAR1 + VPCI_MSIX_PBA_OFF, 4), 2);	/* PBA bit 1 */
	mmio_wr(e, t + 12, 0, 4);				/* unmask: delivered now */
	assert_true(irq_pending(e, 1));
	assert_int_equal(mmio_rd(e, BAR1 + VPCI_MSIX_PBA_OFF, 4), 0);
	assert_int_equal(mmio_rd(e, t, 4), 0xfee00000);
	assert_int_equal(mmio_rd(e, t + 8, 4), 0x4041);
	/* Function mask holds it back too. */
	cfg_wr(e, e->p->msix_cap + 2, 0xc000, 2);
	pthread_mutex_lock(&e->f.vdev.lock);
	e->f.vdev.raise(&e->f.vdev, 0);
	pthread_mutex_unlock(&e->f.vdev.lock);
	assert_false(irq_pending(e, 1));
	cfg_wr(e, e->p->msix_cap + 2, 0x8000, 2);
	assert_true(irq_pending(e, 1));
	/* Bad table accesses: byte-wide, past the table. */
	assert_int_equal(mmio_rd(e, BAR1 + 1, 1), 0xff);
	assert_int_equal(mmio_rd(e, BAR1 + 16 * (NQ + 1), 4), 0xffffffff);
	mmio_wr(e, BAR1 + 16 * 100, 0, 4);
	mmio_wr(e, BAR1 + VPCI_MSIX_PBA_OFF, 0xff, 4);		/* PBA is read-only */
	assert_int_equal(mmio_rd(e, BAR1 + VPCI_MSIX_PBA_OFF, 4), 0);
	/* NO_VECTOR: no interrupt at all. */
	mmio_wr(e, CC(0x1a), VPCI_NO_VECTOR, 2);
	pthread_mutex_lock(&e->f.vdev.lock);
	e->f.vdev.raise(&e->f.vdev, 0);
	pthread_mutex_unlock(&e->f.vdev.lock);
	assert_false(irq_pending(e, 1));
}

static void test_intx_isr(void **state)
{
	struct env *e = *state;

	enable_mem(e);
	pthread_mutex_lock(&e->f.vdev.lock);
	e->f.vdev.raise(&e->f.vdev, 1);
	pthread_mutex_unlock(&e->f.vdev.lock);
	assert_int_equal(e->intx_level, 1);
	pthread_mutex_lock(&e->f.vdev.lock);
	e->f.vdev.raise(&e->f.vdev, -1);
	pthread_mutex_unlock(&e->f.vdev.lock);
	assert_int_equal(mmio_rd(e, BAR0 + VPCI_ISR_OFF, 1), 3);	/* queue + config */
	assert_int_equal(e->intx_level, 0);
	assert_int_equal(mmio_rd(e, BAR0 + VPCI_ISR_OFF, 1), 0);	/* read clears */
	/* INTx disabled in the command register: no line. */
	cfg_wr(e, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE, 2);
	pthread_mutex_lock(&e->f.vdev.lock);
	e->f.vdev.raise(&e->f.vdev, 0);
	pthread_mutex_unlock(&e->f.vdev.lock);
	assert_int_equal(e->intx_level, 0);
	/* Turning MSI-X on lowers INTx for good. */
	cfg_wr(e, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(e->intx_level, 1);
	cfg_wr(e, e->p->msix_cap + 2, 0x8000, 2);
	assert_int_equal(e->intx_level, 0);
}

/*
 * §2.1.2: a driver never clears a status bit; only a reset starts over.
 * Clearing DRIVER_OK (or FEATURES_OK) under live queues is refused with
 * NEEDS_RESET: no renegotiation, no second activate().
 */
static void test_status_bits_never_cleared(void **state)
{
	struct env *e = *state;
	struct mock_queue mq;
	uint8_t st;

	enable_mem(e);
	mock_queue_init(&mq, &e->m, 32);
	negotiate(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	setup_queue(e, 0, &mq, 1);
	mmio_wr(e, CC(0x14), 0x0f, 1);
	assert_int_equal(e->f.activates, 1);
	/* FEATURES_OK cleared, DRIVER_OK kept, then set again: */
	mmio_wr(e, CC(0x14), 0x07, 1);
	st = (uint8_t)mmio_rd(e, CC(0x14), 1);
	assert_true(st & VIRTIO_STATUS_NEEDS_RESET);
	mmio_wr(e, CC(0x14), 0x0f, 1);
	assert_int_equal(e->f.activates, 1);
	assert_int_equal(e->f.vdev.features, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	/* After a reset all is well again. */
	mmio_wr(e, CC(0x14), 0, 1);
	negotiate(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	setup_queue(e, 0, &mq, 1);
	mmio_wr(e, CC(0x14), 0x0f, 1);
	assert_int_equal(e->f.activates, 2);
	/* DRIVER_OK alone cleared: refused the same way. */
	mmio_wr(e, CC(0x14), 0x0b, 1);
	assert_true(mmio_rd(e, CC(0x14), 1) & VIRTIO_STATUS_NEEDS_RESET);
	mmio_wr(e, CC(0x14), 0x0f, 1);
	assert_int_equal(e->f.activates, 2);
}

/* INTx disabled while the line is up: it goes down at once, and up again when re-enabled. */
static void test_intx_disable_lowers_line(void **state)
{
	struct env *e = *state;

	enable_mem(e);
	pthread_mutex_lock(&e->f.vdev.lock);
	e->f.vdev.raise(&e->f.vdev, 0);
	pthread_mutex_unlock(&e->f.vdev.lock);
	assert_int_equal(e->intx_level, 1);
	cfg_wr(e, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE, 2);
	assert_int_equal(e->intx_level, 0);
	cfg_wr(e, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(e->intx_level, 1);
	assert_int_equal(mmio_rd(e, BAR0 + VPCI_ISR_OFF, 1), 1);
	assert_int_equal(e->intx_level, 0);
}

/* Lines written to hvrun's log while f runs, counted from a temporary file. */
static unsigned int count_log_lines(void (*f)(struct env *), struct env *e)
{
	char path[] = "/tmp/hvrun-test-log.XXXXXX", buf[65536];
	unsigned int lines = 0;
	int fd = mkstemp(path);
	ssize_t n, i;

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(outbuf_init(&out_log, "log", fd, 1 << 20), 0);
	f(e);
	outbuf_destroy(&out_log);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
	close(fd);
	return lines;
}

/* 10,000 refused feature sets, DRIVER_OK without FEATURES_OK, and bad queue enables. */
static void bad_writes(struct env *e)
{
	unsigned int i;

	enable_mem(e);
	for (i = 0; i < 10000; i++) {
		mmio_wr(e, CC(0x14), 0, 1);
		switch (i % 3) {
		case 0:
			negotiate(e, VIRTIO_BIT(VIRTIO_F_EVENT_IDX));	/* no VERSION_1 */
			break;
		case 1:
			mmio_wr(e, CC(0x14), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				VIRTIO_STATUS_DRIVER_OK, 1);
			break;
		default:
			negotiate(e, VIRTIO_BIT(VIRTIO_F_VERSION_1));
			mmio_wr(e, CC(0x16), 0, 2);
			mmio_wr(e, CC(0x20), 0x3, 8);		/* misaligned ring */
			mmio_wr(e, CC(0x1c), 1, 2);
			break;
		}
	}
}

/*
 * Every line a guest can cause goes through the device's limiter: 10,000
 * bad writes print a handful of lines, not 20,000 (hv/base/log.h: a burst per
 * window, then one "suppressed" line when the next window opens).
 */
static void test_guest_caused_lines_bounded(void **state)
{
	uint64_t before = hv_log_suppressed();
	unsigned int lines = count_log_lines(bad_writes, *state);

	print_message("  10000 bad writes: %u log lines, %llu held back\n", lines,
		      (unsigned long long)(hv_log_suppressed() - before));
	assert_true(lines >= 1);
	assert_true(lines <= 2 * HV_RATELIMIT_BURST + 2);
	assert_true(hv_log_suppressed() - before >= 10000);
}

static void test_pci_cfg_window(void **state)
{
	struct env *e = *state;
	uint8_t at = find_vcap(e, 5);

	/* Read num_queues through config space, memory decoding off. */
	cfg_wr(e, at + 4, VPCI_BAR_VIRTIO, 1);
	cfg_wr(e, at + 8, VPCI_COMMON_OFF + 0x12, 4);
	cfg_wr(e, at + 12, 2, 4);
	assert_int_equal(cfg_rd(e, at + 16, 2), NQ);
	/* Write the status through it. */
	cfg_wr(e, at + 8, VPCI_COMMON_OFF + 0x14, 4);
	cfg_wr(e, at + 12, 1, 4);
	cfg_wr(e, at + 16, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	assert_int_equal(e->f.vdev.status, VIRTIO_STATUS_ACKNOWLEDGE);
	/* Bad windows: length 3, BAR 5, offset past the BAR: nothing happens. */
	cfg_wr(e, at + 12, 3, 4);
	cfg_wr(e, at + 16, 0, 4);
	cfg_wr(e, at + 12, 4, 4);
	cfg_wr(e, at + 4, 5, 1);
	cfg_wr(e, at + 16, 0, 4);
	cfg_wr(e, at + 4, VPCI_BAR_VIRTIO, 1);
	cfg_wr(e, at + 8, 0xfffffffc, 4);
	cfg_wr(e, at + 16, 0, 4);
	assert_int_equal(e->f.vdev.status, VIRTIO_STATUS_ACKNOWLEDGE);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_status_bits_never_cleared),
		T(test_intx_disable_lowers_line),
		T(test_guest_caused_lines_bounded),
		T(test_identity), T(test_capabilities), T(test_bar_sizing_and_relocation),
		T(test_features_and_status), T(test_features_refused),
		T(test_queue_setup_and_activate), T(test_queue_bad_ring_needs_reset),
		T(test_activate_failure_needs_reset), T(test_reset_really_resets), T(test_vectors),
		T(test_device_config), T(test_bad_common_accesses), T(test_notify_relay),
		T(test_msix_mask_pending), T(test_intx_isr), T(test_pci_cfg_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
