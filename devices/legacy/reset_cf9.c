/* reset_cf9.c: the reset control byte at 0xcf9: bit 2 starts the reset, bit 1 makes it hard. */
#include "devices/legacy/reset_cf9.h"

#include "hv/base/log.h"

void reset_cf9_init(struct reset_cf9 *r, reset_cf9_event_fn event, void *opaque)
{
	r->event = event;
	r->opaque = opaque;
}

bool reset_cf9_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct reset_cf9 *r = opaque;

	(void)offset;
	(void)size;
	/* Soft or hard, a VM's reset is the same: a new machine (hv/main.c). */
	if (is_write && (data[0] & RESET_CF9_RST_CPU)) {
		hv_info("the guest wrote 0x%02x to port 0xcf9: reset", data[0]);
		if (r->event)
			r->event(r->opaque, RESET_CF9_RESET);
	} else if (!is_write) {
		data[0] = 0;
	}
	return true;
}
