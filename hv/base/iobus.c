/* iobus.c: route port I/O exits to the device that owns the port. */
#include "hv/base/iobus.h"

#include <errno.h>
#include <string.h>

#include "hv/base/trace.h"

int iobus_register(struct iobus *bus, const char *name, uint16_t base, uint16_t len,
		   pio_handler_fn fn, void *opaque)
{
	uint32_t end = (uint32_t)base + len;
	unsigned int i;

	if (len == 0 || end > 0x10000 || !fn)
		return -EINVAL;
	for (i = 0; i < bus->nr; i++) {
		const struct iobus_entry *e = &bus->dev[i];

		if (base < (uint32_t)e->base + e->len && e->base < end)
			return -EEXIST;
	}
	if (bus->nr == IOBUS_MAX_DEVICES)
		return -ENOSPC;
	bus->dev[bus->nr++] = (struct iobus_entry){
		.base = base, .len = len, .fn = fn, .opaque = opaque, .name = name,
	};
	return 0;
}

bool iobus_dispatch(const struct iobus *bus, uint16_t port, bool is_write,
		    uint8_t *data, unsigned int size)
{
	unsigned int i;

	for (i = 0; i < bus->nr; i++) {
		const struct iobus_entry *e = &bus->dev[i];

		if (port >= e->base && (uint32_t)port + size <= (uint32_t)e->base + e->len) {
			e->fn(e->opaque, (uint16_t)(port - e->base), is_write, data, size);
			HV_TRACE(HV_TRACE_PIO, "port 0x%x %s (%u B) 0x%x: %s", port, is_write ? "out" : "in",
				 size, size == 1 ? data[0] : size == 2 ? (unsigned int)(data[0] | data[1] << 8)
				 : (unsigned int)(data[0] | data[1] << 8 | data[2] << 16 | (unsigned int)data[3] << 24),
				 e->name);
			return true;
		}
	}
	if (!is_write)
		memset(data, 0xff, size);
	HV_TRACE(HV_TRACE_PIO, "port 0x%x %s (%u B): no device", port, is_write ? "out" : "in", size);
	return false;
}
