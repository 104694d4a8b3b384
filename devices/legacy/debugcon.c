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

bool debugcon_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct debugcon *c = opaque;

	(void)offset;
	if (!is_write) {
		memset(data, 0, size);
		data[0] = DEBUGCON_READBACK;
		return true;
	}
	pthread_mutex_lock(&c->lock);
	for (unsigned int i = 0; i < size; i++) {
		char ch = (char)data[i];

		if (ch == '\n' || c->len == sizeof(c->line) - 1) {
			c->line[c->len] = '\0';
			if (c->line_fn)
				c->line_fn(c->opaque, c->line);
			c->len = 0;
		}
		if (ch != '\n' && ch != '\r')
			c->line[c->len++] = (ch >= ' ' && ch < 0x7f) ? ch : '?';
	}
	pthread_mutex_unlock(&c->lock);
	return true;
}
