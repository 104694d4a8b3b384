/* mmiobus.c: route MMIO exits to the device that owns the address. */
#include "hv/base/mmiobus.h"

#include <errno.h>
#include <string.h>

int mmiobus_register(struct mmiobus *bus, const char *name, uint64_t base, uint64_t len,
		     mmio_handler_fn fn, void *opaque)
{
	uint64_t last;
	unsigned int i;

	if (len == 0 || __builtin_add_overflow(base, len - 1, &last) || !fn)
		return -EINVAL;
	for (i = 0; i < bus->nr; i++) {
		const struct mmiobus_entry *e = &bus->dev[i];

		if (base <= e->base + (e->len - 1) && e->base <= last)
			return -EEXIST;
	}
	if (bus->nr == MMIOBUS_MAX_DEVICES)
		return -ENOSPC;
	bus->dev[bus->nr++] = (struct mmiobus_entry){
		.base = base, .len = len, .fn = fn, .opaque = opaque, .name = name,
	};
	return 0;
}

bool mmiobus_dispatch(const struct mmiobus *bus, uint64_t addr, bool is_write,
		      uint8_t *data, unsigned int size)
{
	unsigned int i;

	for (i = 0; i < bus->nr; i++) {
		const struct mmiobus_entry *e = &bus->dev[i];

		if (addr >= e->base && addr - e->base < e->len) {
			if (e->fn(e->opaque, addr - e->base, is_write, data, size))
				return true;
			break;
		}
	}
	if (!is_write)
		memset(data, 0xff, size);
	return false;
}
