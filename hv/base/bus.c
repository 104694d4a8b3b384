/* bus.c: route port I/O and MMIO exits to the device that owns the address. */
#include "hv/base/bus.h"

#include <errno.h>
#include <string.h>

void bus_init_ports(struct bus *bus)
{
	*bus = (struct bus){ .last = 0xffff, .whole_access = true };
}

void bus_init_mmio(struct bus *bus)
{
	*bus = (struct bus){ .last = UINT64_MAX, .whole_access = false };
}

int bus_register(struct bus *bus, const char *name, uint64_t base, uint64_t len,
		 bus_handler_fn fn, void *opaque)
{
	uint64_t last;
	unsigned int i;

	if (len == 0 || __builtin_add_overflow(base, len - 1, &last) || last > bus->last ||
	    !fn || !name)
		return -EINVAL;
	for (i = 0; i < bus->nr; i++) {
		const struct bus_range *r = &bus->range[i];

		if (base <= r->base + (r->len - 1) && r->base <= last)
			return -EEXIST;
	}
	if (bus->nr == BUS_MAX_RANGES)
		return -ENOSPC;
	bus->range[bus->nr++] = (struct bus_range){
		.base = base, .len = len, .fn = fn, .opaque = opaque, .name = name,
	};
	return 0;
}

const char *bus_dispatch(const struct bus *bus, uint64_t addr, bool is_write,
			 uint8_t *data, unsigned int size)
{
	unsigned int i;

	for (i = 0; i < bus->nr; i++) {
		const struct bus_range *r = &bus->range[i];
		uint64_t offset = addr - r->base;

		if (addr < r->base || offset >= r->len)
			continue;
		if (bus->whole_access && size > r->len - offset)
			break;
		if (r->fn(r->opaque, offset, is_write, data, size))
			return r->name;
		break;
	}
	if (!is_write)
		memset(data, 0xff, size);
	return NULL;
}
