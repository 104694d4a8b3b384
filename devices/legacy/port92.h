/* port92.h: System Control Port A (0x92): the fast A20 gate and the fast reset bit. */
#ifndef DEV_PORT92_H
#define DEV_PORT92_H

#include <stdbool.h>
#include <stdint.h>

#define PORT92_PORT		0x92
#define PORT92_A20		0x02	/* bit 1: A20 enabled */
#define PORT92_FAST_RESET	0x01	/* bit 0: fast reset (read as 0, not acted on) */

/*
 * The port handler (a bus_handler_fn of hv/base/bus.h, one port, no state: opaque is
 * unused).  It raises no event: see port92.c for why the reset bit is inert.
 */
bool port92_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size);

#endif
