/* iobus.h: the x86 I/O-port space: which device answers which port. */
#ifndef HV_IOBUS_H
#define HV_IOBUS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A device's port handler.  offset is relative to the device's base port;
 * size is 1, 2 or 4; on a read the handler fills data[0..size).
 */
typedef void (*pio_handler_fn)(void *opaque, uint16_t offset, bool is_write,
			       uint8_t *data, unsigned int size);

#define IOBUS_MAX_DEVICES	32

struct iobus_entry {
	uint16_t base;
	uint16_t len;
	pio_handler_fn fn;
	void *opaque;
	const char *name;
};

struct iobus {
	struct iobus_entry dev[IOBUS_MAX_DEVICES];
	unsigned int nr;
};

/* 0, or -EINVAL (empty or wrapping range), -EEXIST (overlap), -ENOSPC. */
int iobus_register(struct iobus *bus, const char *name, uint16_t base, uint16_t len,
		   pio_handler_fn fn, void *opaque);

/*
 * Routes one access.  Unclaimed ports read as all ones (like an empty ISA
 * bus) and ignore writes; returns false for them so callers may count them.
 */
bool iobus_dispatch(const struct iobus *bus, uint16_t port, bool is_write,
		    uint8_t *data, unsigned int size);

#endif
