/* mmiobus.h: guest-physical addresses that exit as MMIO: which device answers which range. */
#ifndef HV_MMIOBUS_H
#define HV_MMIOBUS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A device's MMIO handler, as hv/base/iobus.h's for ports: offset is relative to
 * the range's base; size is 1 to 8; on a read the handler fills
 * data[0..size).  Unlike a port device it returns whether anything
 * answered: a window that decodes only parts of itself (PCI's, whose BARs
 * the guest moves) says false for the rest, which then reads as all ones
 * and is counted as unclaimed.
 */
typedef bool (*mmio_handler_fn)(void *opaque, uint64_t offset, bool is_write,
				uint8_t *data, unsigned int size);

#define MMIOBUS_MAX_DEVICES	16

struct mmiobus_entry {
	uint64_t base;
	uint64_t len;
	mmio_handler_fn fn;
	void *opaque;
	const char *name;
};

struct mmiobus {
	struct mmiobus_entry dev[MMIOBUS_MAX_DEVICES];
	unsigned int nr;
};

/* 0, or -EINVAL (empty or wrapping range), -EEXIST (overlap), -ENOSPC. */
int mmiobus_register(struct mmiobus *bus, const char *name, uint64_t base, uint64_t len,
		     mmio_handler_fn fn, void *opaque);

/*
 * Routes one access to the range that holds its first byte (the handler
 * checks the width, as a chipset decodes the address).  An access nobody
 * answers reads as all ones and ignores writes; returns false for it so
 * callers may count it.  Tracing is the caller's (hv/machine/vcpu.c), once per exit.
 */
bool mmiobus_dispatch(const struct mmiobus *bus, uint64_t addr, bool is_write,
		      uint8_t *data, unsigned int size);

#endif
