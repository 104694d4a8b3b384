/* pci.c: configuration mechanism 1, config-space storage with write masks, and the i440FX/PIIX3 pair. */
#include "devices/pci.h"

#include <errno.h>
#include <string.h>

#include "hv/base/trace.h"

/* Offsets in the standard header (PCI Local Bus 3.0 §6.1). */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CACHE_LINE_SIZE	0x0c
#define PCI_LATENCY_TIMER	0x0d
#define PCI_HEADER_TYPE		0x0e
#define PCI_SUBSYSTEM_VENDOR_ID	0x2c
#define PCI_SUBSYSTEM_ID	0x2e

#define CF8_ENABLE		0x80000000u

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void pci_bus_init(struct pci_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
}

void pci_bus_destroy(struct pci_bus *bus)
{
	pthread_mutex_destroy(&bus->lock);
}

int pci_bus_add(struct pci_bus *bus, unsigned int slot, struct pci_device *dev)
{
	if (slot >= PCI_SLOTS || !dev)
		return -EINVAL;
	if (bus->slot[slot])
		return -EBUSY;
	bus->slot[slot] = dev;
	return 0;
}

void pci_device_init(struct pci_device *dev, const char *name, uint16_t vendor, uint16_t device,
		     uint8_t revision, uint32_t class_code, uint8_t header_type,
		     uint16_t subsys_vendor, uint16_t subsys_id)
{
	memset(dev, 0, sizeof(*dev));
	dev->name = name;
	put16(&dev->cfg[PCI_VENDOR_ID], vendor);
	put16(&dev->cfg[PCI_DEVICE_ID], device);
	dev->cfg[PCI_REVISION_ID] = revision;
	dev->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
	dev->cfg[PCI_CLASS_PROG + 1] = (uint8_t)(class_code >> 8);
	dev->cfg[PCI_CLASS_PROG + 2] = (uint8_t)(class_code >> 16);
	dev->cfg[PCI_HEADER_TYPE] = header_type;
	if ((header_type & 0x7f) == 0) {
		put16(&dev->cfg[PCI_SUBSYSTEM_VENDOR_ID], subsys_vendor);
		put16(&dev->cfg[PCI_SUBSYSTEM_ID], subsys_id);
	}
	/* Command: I/O, memory, bus master, INTx disable; the guest owns them. */
	put16(&dev->wmask[PCI_COMMAND], 0x0407);
	/* Status: the error bits are write-1-to-clear. */
	put16(&dev->w1cmask[PCI_STATUS], 0xf900);
	dev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	dev->wmask[PCI_LATENCY_TIMER] = 0xff;
	dev->wmask[PCI_INTERRUPT_LINE] = 0xff;	/* scratch for the OS's IRQ choice */
}

static struct pci_device *pci_find(struct pci_bus *bus, uint8_t devfn)
{
	/* Only function 0 of each slot exists so far. */
	return (devfn & 7) ? NULL : bus->slot[devfn >> 3];
}

static bool pci_access_ok(uint16_t reg, unsigned int size)
{
	/* GUEST: size 1/2/4, naturally aligned, inside the 256-byte space. */
	return (size == 1 || size == 2 || size == 4) && (reg & (size - 1)) == 0 &&
	       reg + size <= PCI_CFG_SIZE;
}

uint32_t pci_cfg_read(struct pci_bus *bus, uint8_t devfn, uint16_t reg, unsigned int size)
{
	struct pci_device *dev = pci_find(bus, devfn);
	uint32_t v = 0;
	unsigned int i;

	if (!dev || !pci_access_ok(reg, size))
		return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
	if (dev->reading)
		dev->reading(dev, reg, size);
	for (i = 0; i < size; i++)
		v |= (uint32_t)dev->cfg[reg + i] << (8 * i);
	HV_TRACE(HV_TRACE_PCI, "00:%02x.%u %s: config read 0x%02x (%u B) = 0x%x", devfn >> 3, devfn & 7u,
		 dev->name, reg, size, v);
	return v;
}

void pci_cfg_write(struct pci_bus *bus, uint8_t devfn, uint16_t reg, uint32_t val, unsigned int size)
{
	struct pci_device *dev = pci_find(bus, devfn);
	unsigned int i;

	if (!dev || !pci_access_ok(reg, size))
		return;		/* writes to nothing vanish, as on a real bus */
	HV_TRACE(HV_TRACE_PCI, "00:%02x.%u %s: config write 0x%02x (%u B) <- 0x%x", devfn >> 3,
		 devfn & 7u, dev->name, reg, size, val);
	for (i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i)), r = (uint8_t)(reg + i);

		dev->cfg[r] = (uint8_t)((dev->cfg[r] & ~dev->wmask[r]) | (b & dev->wmask[r]));
		dev->cfg[r] &= (uint8_t)~(b & dev->w1cmask[r]);
	}
	if (reg >= PCI_BASE_ADDRESS_0 && reg < PCI_BASE_ADDRESS_0 + 4 * PCI_NR_BARS &&
	    dev->bar[(reg - PCI_BASE_ADDRESS_0) / 4].size)
		HV_TRACE(HV_TRACE_PCI, "00:%02x.%u %s: BAR%u now decodes at 0x%x (0: sizing or off)",
			 devfn >> 3, devfn & 7u, dev->name, (reg - PCI_BASE_ADDRESS_0) / 4u,
			 pci_bar_addr(dev, (reg - PCI_BASE_ADDRESS_0) / 4u));
	if (dev->written)
		dev->written(dev, reg, size);
}

void pci_device_set_bar(struct pci_device *dev, unsigned int n, uint32_t size, uint32_t addr,
			pci_bar_access_fn access)
{
	uint32_t mask = ~(size - 1);
	unsigned int i;

	dev->bar[n].size = size;
	dev->bar[n].access = access;
	/* Bits 0-3 (memory, 32-bit, not prefetchable) read as 0; the address bits above the size are the guest's. */
	for (i = 0; i < 4; i++) {
		dev->cfg[PCI_BASE_ADDRESS_0 + 4 * n + i] = (uint8_t)((addr & mask) >> (8 * i));
		dev->wmask[PCI_BASE_ADDRESS_0 + 4 * n + i] = (uint8_t)((mask & ~0xfu) >> (8 * i));
	}
}

uint32_t pci_bar_addr(const struct pci_device *dev, unsigned int n)
{
	uint32_t v;

	if (n >= PCI_NR_BARS || !dev->bar[n].size ||
	    !(dev->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY))
		return 0;
	memcpy(&v, &dev->cfg[PCI_BASE_ADDRESS_0 + 4 * n], 4);
	v &= ~0xfu;
	/* All ones above the size: the guest is sizing the BAR, it decodes nowhere useful. */
	return v == (uint32_t)~(dev->bar[n].size - 1) ? 0 : v;
}

bool pci_mmio(struct pci_bus *bus, uint64_t addr, uint8_t *data, unsigned int len, bool is_write)
{
	struct pci_device *hit = NULL;
	unsigned int s, n, bar = 0;
	uint64_t off = 0;

	pthread_mutex_lock(&bus->lock);
	for (s = 0; s < PCI_SLOTS && !hit; s++) {
		struct pci_device *dev = bus->slot[s];

		for (n = 0; dev && n < PCI_NR_BARS; n++) {
			uint32_t base = pci_bar_addr(dev, n);

			/* GUEST: the whole access inside the BAR. */
			if (base && addr >= base && addr + len <= (uint64_t)base + dev->bar[n].size) {
				hit = dev;
				bar = n;
				off = addr - base;
				break;
			}
		}
	}
	pthread_mutex_unlock(&bus->lock);
	if (!hit)
		return false;
	HV_TRACE(HV_TRACE_MMIO, "0x%llx %s (%u B): %s BAR%u + 0x%llx", (unsigned long long)addr,
		 is_write ? "write" : "read", len, hit->name, bar, (unsigned long long)off);
	hit->bar[bar].access(hit, bar, off, data, len, is_write);
	return true;
}

uint8_t pci_add_capability(struct pci_device *dev, uint8_t id, const void *body, uint8_t len)
{
	uint8_t pos = dev->cap_end ? dev->cap_end : 0x40, *link = &dev->cfg[PCI_CAPABILITY_LIST];

	/* body: the capability after its id and next bytes. */
	if (pos + 2 + len > PCI_CFG_SIZE)
		return 0;
	while (*link)
		link = &dev->cfg[*link + 1];
	*link = pos;
	dev->cfg[pos] = id;
	dev->cfg[pos + 1] = 0;
	memcpy(&dev->cfg[pos + 2], body, len);
	dev->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	dev->cap_end = (uint8_t)((pos + 2 + len + 3) & ~3u);
	return pos;
}

bool pci_address_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct pci_bus *bus = opaque;

	/* Only a dword access at 0xcf8 is the address register (0xcf9 is the PC's reset control). */
	if (offset != 0 || size != 4) {
		if (!is_write)
			memset(data, 0xff, size);
		return true;
	}
	pthread_mutex_lock(&bus->lock);
	if (is_write)
		memcpy(&bus->address, data, 4);
	else
		memcpy(data, &bus->address, 4);
	pthread_mutex_unlock(&bus->lock);
	return true;
}

bool pci_data_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct pci_bus *bus = opaque;
	uint32_t addr, v = 0;
	uint16_t reg;
	uint8_t devfn;

	pthread_mutex_lock(&bus->lock);
	addr = bus->address;
	/* Disabled, or a bus other than 0 (nothing behind bridges): all ones. */
	if (!(addr & CF8_ENABLE) || ((addr >> 16) & 0xff) != 0) {
		if (!is_write)
			memset(data, 0xff, size);
		pthread_mutex_unlock(&bus->lock);
		return true;
	}
	devfn = (uint8_t)(addr >> 8);
	reg = (uint16_t)((addr & 0xfc) + offset);
	if (is_write) {
		memcpy(&v, data, size);
		pci_cfg_write(bus, devfn, reg, v, size);
	} else {
		v = pci_cfg_read(bus, devfn, reg, size);
		memcpy(data, &v, size);
	}
	pthread_mutex_unlock(&bus->lock);
	return true;
}

int pc_chipset_init(struct pc_chipset *cs, struct pci_bus *bus)
{
	int ret;

	/* 440FX PMC: host bridge, class 06/00/00 (Intel 82441FX data sheet). */
	pci_device_init(&cs->host, "i440fx", 0x8086, 0x1237, 0x02, 0x060000, 0x00, 0, 0);
	/* PAM0-6 (0x59-0x5f) select shadow RAM for the BIOS area; a firmware writes them. */
	memset(&cs->host.wmask[0x59], 0xff, 7);
	/* PIIX3 function 0: PCI-to-ISA bridge, class 06/01/00 (its IDE/USB/PM functions are not modelled). */
	pci_device_init(&cs->isa, "piix3", 0x8086, 0x7000, 0x00, 0x060100, 0x00, 0, 0);
	/* PIRQA-D route registers (0x60-0x63): 0x80 = not routed, until firmware routes them. */
	memset(&cs->isa.cfg[0x60], 0x80, 4);
	memset(&cs->isa.wmask[0x60], 0x8f, 4);

	ret = pci_bus_add(bus, 0, &cs->host);
	if (!ret)
		ret = pci_bus_add(bus, 1, &cs->isa);
	return ret;
}
