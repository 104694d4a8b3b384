/* i8042.h: the PC keyboard controller, as far as a VM needs it: the "pulse reset" command. */
#ifndef DEV_I8042_H
#define DEV_I8042_H

#include <stdbool.h>
#include <stdint.h>

#define I8042_DATA_PORT		0x60
#define I8042_CMD_PORT		0x64
#define I8042_NR_PORTS		(I8042_CMD_PORT + 1 - I8042_DATA_PORT)
#define I8042_CMD_RESET		0xfe	/* pulse the CPU reset line */

enum i8042_event {
	I8042_RESET,			/* the guest pulsed the CPU reset line */
};

typedef void (*i8042_event_fn)(void *opaque, enum i8042_event ev);

struct i8042 {
	i8042_event_fn event;		/* NULL: nobody listens */
	void *opaque;
};

void i8042_init(struct i8042 *k, i8042_event_fn event, void *opaque);

/* The port handler (a bus_handler_fn of hv/base/bus.h): offset 0..4 from port 0x60. */
bool i8042_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size);

#endif
