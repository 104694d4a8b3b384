/* pci.h: a PCI bus 0 reached through configuration mechanism 1 (ports 0xcf8/0xcfc), with its devices. */
#ifndef DEV_PCI_H
#define DEV_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PCI_CONFIG_ADDRESS	0xcf8	/* 32-bit: enable, bus, device, function, register */
#define PCI_CONFIG_DATA		0xcfc	/* 0xcfc-0xcff: the selected dword */
#define PCI_SLOTS		32
#define PCI_CFG_SIZE		256

struct pci_device;

/* Called after a guest write changed bytes [off, off+size) of config space. */
typedef void (*pci_cfg_written_fn)(struct pci_device *dev, uint16_t off, unsigned int size);
/* Called before a guest read of [off, off+size): a chance to refresh cfg[] (virtio's PCI_CFG window). */
typedef void (*pci_cfg_reading_fn)(struct pci_device *dev, uint16_t off, unsigned int size);
/* A guest access to a memory BAR: off inside the BAR, len 1-8.  Runs on the vCPU thread. */
typedef void (*pci_bar_access_fn)(struct pci_device *dev, unsigned int bar, uint64_t off,
				  uint8_t *data, unsigned int len, bool is_write);

#define PCI_NR_BARS		6
#define PCI_COMMAND		0x04
#define PCI_COMMAND_IO		0x0001
#define PCI_COMMAND_MEMORY	0x0002
#define PCI_COMMAND_MASTER	0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS		0x06
#define PCI_STATUS_CAP_LIST	0x0010
#define PCI_BASE_ADDRESS_0	0x10
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

/* A 32-bit memory BAR: size a power of 2 (>= 16); what the device does with accesses. */
struct pci_bar {
	uint32_t size;			/* 0: BAR not implemented */
	pci_bar_access_fn access;
};

struct pci_device {
	const char *name;
	uint8_t cfg[PCI_CFG_SIZE];	/* what the guest reads */
	uint8_t wmask[PCI_CFG_SIZE];	/* bits the guest may change */
	uint8_t w1cmask[PCI_CFG_SIZE];	/* bits the guest clears by writing 1 (status) */
	pci_cfg_written_fn written;	/* optional: BAR moves, MSI-X enable, ... */
	pci_cfg_reading_fn reading;	/* optional */
	struct pci_bar bar[PCI_NR_BARS];
	uint8_t cap_end;		/* where pci_add_capability() puts the next one */
	void *opaque;
};

struct pci_bus {
	pthread_mutex_t lock;
	uint32_t address;		/* the last value written to 0xcf8 */
	struct pci_device *slot[PCI_SLOTS];	/* function 0 of each slot on bus 0 */
};

void pci_bus_init(struct pci_bus *bus);
void pci_bus_destroy(struct pci_bus *bus);

/* Puts dev in slot (0-31).  0, -EINVAL or -EBUSY. */
int pci_bus_add(struct pci_bus *bus, unsigned int slot, struct pci_device *dev);

/* Fills the standard header of a type-0 (endpoint) or type-1 function. */
void pci_device_init(struct pci_device *dev, const char *name, uint16_t vendor, uint16_t device,
		     uint8_t revision, uint32_t class_code, uint8_t header_type,
		     uint16_t subsys_vendor, uint16_t subsys_id);

/*
 * Declares BAR n as a 32-bit non-prefetchable memory BAR of size bytes (a power
 * of 2), initially at addr (as a firmware would have assigned it; the guest
 * may move it: sizing writes read back ~(size - 1), relocation is honoured).
 */
void pci_device_set_bar(struct pci_device *dev, unsigned int n, uint32_t size, uint32_t addr,
			pci_bar_access_fn access);

/* Where BAR n decodes now, or 0 when memory decoding is off or the BAR is unassigned. */
uint32_t pci_bar_addr(const struct pci_device *dev, unsigned int n);

/*
 * Dispatches a guest MMIO access to the device BAR that decodes addr (the bus
 * lock is not held during the device's handler).  true if a BAR claimed it.
 */
bool pci_mmio(struct pci_bus *bus, uint64_t addr, uint8_t *data, unsigned int len, bool is_write);

/* Appends a capability: id, the next pointer, then len bytes of body.  Its offset, or 0 when full. */
uint8_t pci_add_capability(struct pci_device *dev, uint8_t id, const void *body, uint8_t len);

/*
 * Config-space access by (device, function, register), size 1, 2 or 4 and
 * naturally aligned; absent functions read as all ones.  The same entry
 * points serve port I/O here and ECAM later.
 */
uint32_t pci_cfg_read(struct pci_bus *bus, uint8_t devfn, uint16_t reg, unsigned int size);
void pci_cfg_write(struct pci_bus *bus, uint8_t devfn, uint16_t reg, uint32_t val, unsigned int size);

/* Port handlers (hv/base/bus.h): 0xcf8 (4 ports) and 0xcfc (4 ports). */
bool pci_address_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size);
bool pci_data_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size);

/*
 * The PC chipset a standard firmware expects (SeaBIOS looks for it):
 * an Intel 440FX host bridge (8086:1237) at 00:00.0 and a PIIX3 PCI-to-ISA
 * bridge (8086:7000) at 00:01.0.
 */
struct pc_chipset {
	struct pci_device host;
	struct pci_device isa;
};
int pc_chipset_init(struct pc_chipset *cs, struct pci_bus *bus);

#endif
