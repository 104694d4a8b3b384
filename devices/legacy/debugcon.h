/* debugcon.h: QEMU's debug console (port 0x402), where SeaBIOS writes its log. */
#ifndef DEV_DEBUGCON_H
#define DEV_DEBUGCON_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define DEBUGCON_PORT		0x402
#define DEBUGCON_READBACK	0xe9	/* what SeaBIOS reads back to know the port is there */
#define DEBUGCON_LINE_MAX	160	/* a longer line is cut into lines of 159 characters */

/*
 * One whole line, without its newline, control bytes shown as '?'.  Called
 * after the console's lock is released, so it may log or take other locks;
 * a vCPU's lines arrive in the order it wrote them (two vCPUs that write at
 * once mix their bytes anyway, as on QEMU's port).
 */
typedef void (*debugcon_line_fn)(void *opaque, const char *line);

struct debugcon {
	pthread_mutex_t lock;		/* any vCPU thread may write */
	char line[DEBUGCON_LINE_MAX];	/* the line so far */
	unsigned int len;
	debugcon_line_fn line_fn;	/* NULL: lines are dropped */
	void *opaque;
};

void debugcon_init(struct debugcon *c, debugcon_line_fn line_fn, void *opaque);
void debugcon_destroy(struct debugcon *c);

/* The port handler (a bus_handler_fn of hv/base/bus.h): one port; each byte written is a character. */
bool debugcon_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size);

#endif
