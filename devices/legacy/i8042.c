/* i8042.c: only the "pulse reset" command; the FADT says there is no PS/2 controller. */
#include "devices/legacy/i8042.h"

#include <string.h>

#include "hv/base/log.h"

void i8042_init(struct i8042 *k, i8042_event_fn event, void *opaque)
{
	k->event = event;
	k->opaque = opaque;
}

bool i8042_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct i8042 *k = opaque;

	if (is_write && offset == I8042_CMD_PORT - I8042_DATA_PORT && data[0] == I8042_CMD_RESET) {
		hv_info("the guest pulsed the i8042 reset line");
		if (k->event)
			k->event(k->opaque, I8042_RESET);
	} else if (!is_write) {
		memset(data, 0, size);	/* status: no data, input buffer empty */
	}
	return true;
}
