/*
 * fuzz_virtio_pci.c: the virtio-pci transport (devices/virtio/virtio_pci.c,
 * devices/pci.c) under a fuzzed guest: sequences of PCI configuration
 * reads and writes (BARs, command, capabilities, the PCI-config access
 * window), common-config, ISR, device-config and notify accesses in BAR 0,
 * MSI-X table and PBA accesses in BAR 1, and writes to guest RAM where the
 * rings live, in front of a real device (virtio-rng, -console or -balloon)
 * whose queue work runs when the input says "poll".  No KVM: vm_fd is -1.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio_balloon.h"
#include "devices/virtio_console.h"
#include "devices/virtio_rng.h"
#include "hv/base/output.h"
#include "tests/fuzz/fuzz_virtio.h"

#define RAM_SIZE	(64u * 1024)
#define SLOT		3
#define BAR_START	0xC0000000u

static struct mock_vm m;
static struct ev_loop loop;
static int null_fd = -1;
static int intx_level;

static void set_intx(void *opaque, unsigned int gsi, int level)
{
	(void)opaque;
	(void)gsi;
	intx_level = level;
}

static struct outbuf null_out;	/* the console's output, written straight to null_fd */

/* Made once, each kind, and reset after every input (the balloon reads /proc/self/smaps: slow). */
static struct virtio_dev *get_dev(uint8_t kind)
{
	static struct virtio_dev *made[3];
	struct virtio_dev *d = NULL;
	int ret;

	if (made[kind % 3])
		return made[kind % 3];
	switch (kind % 3) {
	case 0:
		ret = vrng_create(&m.gm, &loop, 1ull << 40, &d);
		break;
	case 1:
		ret = outbuf_init(&null_out, "fuzz", null_fd, 1 << 16);
		if (!ret)
			ret = vcon_create(&m.gm, &loop, &null_out, &d);
		break;
	default:
		ret = vballoon_create(&m.gm, &loop, RAM_SIZE, 3600, true, &d);
		break;
	}
	if (ret)
		abort();
	return made[kind % 3] = d;
}

/* One guest access; false when the input ran out. */
static bool guest_op(struct fz_in *in, struct pci_bus *bus, struct virtio_pci *p)
{
	uint8_t op = fz_u8(in), buf[8];
	unsigned int size = 1u << ((op >> 4) & 3);	/* 1, 2, 4, 8 */
	uint64_t addr;
	uint16_t off;

	if (!in->n)
		return false;
	switch (op & 7) {
	case 0:		/* PCI config write (widths 1, 2, 4) */
		off = fz_u8(in);
		pci_cfg_write(bus, SLOT << 3, off, fz_u32(in), size > 4 ? 4 : size);
		break;
	case 1:
		off = fz_u8(in);
		pci_cfg_read(bus, SLOT << 3, off, size > 4 ? 4 : size);
		break;
	case 2: case 3:	/* BAR 0: common config, ISR, device config, notify */
	case 4:		/* BAR 1: MSI-X table, PBA */
		off = fz_u16(in);
		addr = (op & 7) == 4 ? pci_bar_addr(&p->pci, VPCI_BAR_MSIX) + off % VPCI_BAR_MSIX_SIZE
				     : pci_bar_addr(&p->pci, VPCI_BAR_VIRTIO) + off % VPCI_BAR_VIRTIO_SIZE;
		fz_bytes(in, buf, (op & 8) ? size : 0);
		pci_mmio(bus, addr, buf, size, (op & 8) != 0);
		break;
	case 5: {	/* the driver writes guest RAM (rings, buffers) */
		uint16_t at = fz_u16(in) % RAM_SIZE;
		size_t len = fz_u8(in);

		if (len > RAM_SIZE - at)
			len = RAM_SIZE - at;
		fz_bytes(in, m.ram + at, len);
		break;
	}
	case 6:		/* the device's I/O thread runs (relayed kicks, timers) */
		ev_loop_poll(&loop, 0);
		break;
	default:	/* an access anywhere in the 64 KiB above the first BAR */
		addr = BAR_START + fz_u16(in);
		fz_bytes(in, buf, (op & 8) ? size : 0);
		pci_mmio(bus, addr, buf, size, (op & 8) != 0);
		break;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct vpci_host host = { .vm_fd = -1, .set_intx = set_intx, .intx_gsi = 18 };
	struct pci_bus bus;
	struct virtio_pci *p;
	struct virtio_dev *d;
	uint32_t next = BAR_START;
	unsigned int ops = 0;

	if (null_fd < 0) {
		null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		mock_vm_init(&m, 0, RAM_SIZE);
		if (null_fd < 0 || ev_loop_init(&loop, "fuzz-pci") != 0)
			abort();
	}
	memset(m.ram, 0, RAM_SIZE);
	d = get_dev(fz_u8(&in));
	if (vpci_create(&p, d, &host, &next) != 0)
		abort();
	pci_bus_init(&bus);
	if (pci_bus_add(&bus, SLOT, &p->pci) != 0)
		abort();
	while (ops++ < 1024 && guest_op(&in, &bus, p))
		;
	ev_loop_poll(&loop, 0);

	pthread_mutex_lock(&d->lock);
	virtio_dev_reset(d);
	pthread_mutex_unlock(&d->lock);
	vpci_destroy(p);
	if (d->ops->device_id == VIRTIO_ID_BALLOON)
		vballoon_set_target(d, 0);
	d->raise = NULL;
	d->transport = NULL;
	pci_bus_destroy(&bus);
	ev_loop_poll(&loop, 0);
	return 0;
}
