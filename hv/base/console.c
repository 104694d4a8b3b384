/* console.c: raw-mode terminal for the guest's serial console, restored on every way out. */
#include "hv/base/console.h"

#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static bool saved_valid;

size_t console_filter(struct console_escape *esc, const uint8_t *in, size_t len,
		      uint8_t *out, bool *quit)
{
	size_t i, n = 0;

	*quit = false;
	for (i = 0; i < len; i++) {
		uint8_t c = in[i];

		if (esc->pending) {
			esc->pending = false;
			if (c == 'x' || c == 'X') {
				*quit = true;
				return n;
			}
			out[n++] = CONSOLE_ESCAPE;
			if (c != CONSOLE_ESCAPE)
				out[n++] = c;
		} else if (c == CONSOLE_ESCAPE) {
			esc->pending = true;
		} else {
			out[n++] = c;
		}
	}
	return n;
}

void console_restore(void)
{
	if (saved_valid) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		saved_valid = false;
	}
}

void console_raw(void)
{
	struct termios raw;

	if (saved_valid || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) != 0)
		return;
	saved_valid = true;
	atexit(console_restore);
	raw = saved;
	/* Every key goes to the guest: Ctrl-C included; the guest echoes. */
	cfmakeraw(&raw);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
}
