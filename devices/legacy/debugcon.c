/* debugcon.c: the firmware's debug console: bytes in, whole lines out to the machine. */
#include "devices/legacy/debugcon.h"

#include <string.h>

void debugcon_init(struct debugcon *c, debugcon_line_fn line_fn, void *opaque)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->line_fn = line_fn;
	c->opaque = opaque;
}

void debugcon_destroy(struct debugcon *c)
{
	pthread_mutex_destroy(&c->lock);
}

/*
 * Adds one byte to the line so far.  Returns true when that completed a line
 * (a newline, or a full buffer), copied into out.  c->lock held.
 */
static bool debugcon_put(struct debugcon *c, char ch, char out[DEBUGCON_LINE_MAX])
{
	bool done = false;

	if (ch == '\n' || c->len == sizeof(c->line) - 1) {
		memcpy(out, c->line, c->len);
		out[c->len] = '\0';
		c->len = 0;
		done = true;
	}
	if (ch != '\n' && ch != '\r')
		c->line[c->len++] = (ch >= ' ' && ch < 0x7f) ? ch : '?';
	return done;
}

bool debugcon_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct debugcon *c = opaque;

	(void)offset;
	if (!is_write) {
		memset(data, 0, size);
		data[0] = DEBUGCON_READBACK;
		return true;
	}
	/*
	 * Each byte under the lock; a finished line is passed on after it is
	 * released: the callback logs, and nothing that may wait runs under
	 * a device lock (docs/design.md, "Never block while holding a lock").
	 */
	for (unsigned int i = 0; i < size; i++) {
		char line[DEBUGCON_LINE_MAX];
		bool done;

		pthread_mutex_lock(&c->lock);
		done = debugcon_put(c, (char)data[i], line);
		pthread_mutex_unlock(&c->lock);
		if (done && c->line_fn)
			c->line_fn(c->opaque, line);
	}
	return true;
}
