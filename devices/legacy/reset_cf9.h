/* reset_cf9.h: the PIIX3 reset control register at port 0xcf9 (the FADT's RESET_REG). */
#ifndef DEV_RESET_CF9_H
#define DEV_RESET_CF9_H

#include <stdbool.h>
#include <stdint.h>

#define RESET_CF9_PORT		0xcf9
#define RESET_CF9_SYS_RST	0x02	/* bit 1: a hard reset rather than a soft one */
#define RESET_CF9_RST_CPU	0x04	/* bit 2: start the reset */

enum reset_cf9_event {
	RESET_CF9_RESET,		/* the guest asked for a reset */
};

typedef void (*reset_cf9_event_fn)(void *opaque, enum reset_cf9_event ev);

struct reset_cf9 {
	reset_cf9_event_fn event;	/* NULL: nobody listens */
	void *opaque;
};

void reset_cf9_init(struct reset_cf9 *r, reset_cf9_event_fn event, void *opaque);

/*
 * The byte at 0xcf9 only (offset 0, size 1).  It sits inside the PCI address
 * register's dword (0xcf8-0xcfb): the machine's handler for those ports sends
 * byte accesses at 0xcf9 here and the rest to the PCI bus.
 */
bool reset_cf9_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size);

#endif
