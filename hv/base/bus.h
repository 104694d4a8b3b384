/* bus.h: one address space (the x86 ports, guest-physical MMIO): which device answers which range. */
#ifndef HV_BUS_H
#define HV_BUS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A device's handler, the same for ports and MMIO.  offset is relative to
 * the range's base; size is 1 to 8 (ports: 1, 2 or 4); on a read the
 * handler fills data[0..size).  It returns whether anything answered: a
 * port device always does; a window that decodes only parts of itself
 * (PCI's, whose BARs the guest moves) says false for the rest, which then
 * reads as all ones and is counted as unclaimed.
 */
typedef bool (*bus_handler_fn)(void *opaque, uint64_t offset, bool is_write,
			       uint8_t *data, unsigned int size);

#define BUS_MAX_RANGES	32

struct bus_range {
	uint64_t base;
	uint64_t len;
	bus_handler_fn fn;
	void *opaque;
	const char *name;
};

/*
 * Ranges are registered while the VM is built, before any vCPU runs; after
 * that the bus is only read, so it has no lock: each handler takes its
 * device's own.
 */
struct bus {
	uint64_t last;		/* the highest address: 0xffff for ports */
	bool whole_access;	/* ports: an access must lie inside one range */
	unsigned int nr;
	struct bus_range range[BUS_MAX_RANGES];
};

/*
 * The two spaces.  Ports: an access claims a device only when all its bytes
 * are the device's, as ISA decodes them.  MMIO: the range that holds the
 * access's first byte decides, and its handler checks the width, as a
 * chipset decodes the address.
 */
void bus_init_ports(struct bus *bus);
void bus_init_mmio(struct bus *bus);

/*
 * name is what --trace shows.  0, or -EINVAL (empty, wrapping or beyond the
 * space; no handler or name), -EEXIST (overlap), -ENOSPC.
 */
int bus_register(struct bus *bus, const char *name, uint64_t base, uint64_t len,
		 bus_handler_fn fn, void *opaque);

/*
 * Routes one access.  An access nobody answers reads as all ones (like an
 * empty ISA bus) and ignores writes.  Returns the name of the range that
 * answered, NULL for none, so callers may trace and count.
 */
const char *bus_dispatch(const struct bus *bus, uint64_t addr, bool is_write,
			 uint8_t *data, unsigned int size);

#endif
