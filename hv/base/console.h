/* console.h: the host terminal as the guest's serial console: raw mode, and the Ctrl-A escape. */
#ifndef HV_CONSOLE_H
#define HV_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_ESCAPE	0x01	/* Ctrl-A, as in QEMU */

struct console_escape {
	bool pending;		/* the last byte was Ctrl-A */
};

/*
 * Filters host input for the guest: Ctrl-A x asks to quit, Ctrl-A Ctrl-A
 * sends one Ctrl-A, Ctrl-A followed by anything else sends both bytes.
 * Writes at most 2 * len bytes to out; returns how many; sets *quit.
 */
size_t console_filter(struct console_escape *esc, const uint8_t *in, size_t len,
		      uint8_t *out, bool *quit);

/* Puts stdin in raw mode if it is a terminal (restored by console_restore, also at exit). */
void console_raw(void);
void console_restore(void);

#endif
