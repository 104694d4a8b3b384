/* port92.c: System Control Port A: A20 always on, the fast reset bit read as 0. */
#include "devices/legacy/port92.h"

#include <string.h>

/*
 * A20 is always on in KVM (there is no address wrap to emulate), so bit 1
 * reads 1 and writes are ignored; a firmware writes the value back with
 * bit 0 (fast reset) as it read it, so bit 0 reads 0 and is not acted on.
 */
bool port92_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	(void)opaque;
	(void)offset;
	if (!is_write) {
		memset(data, 0, size);
		data[0] = PORT92_A20;
	}
	return true;
}
