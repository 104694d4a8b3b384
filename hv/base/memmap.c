/* memmap.c: split guest RAM around the 32-bit PCI hole. */
#include "hv/base/memmap.h"

#include <errno.h>
#include <string.h>

int memmap_build(struct memmap *m, uint64_t ram_bytes)
{
	uint64_t low;

	memset(m, 0, sizeof(*m));
	if (ram_bytes == 0 || (ram_bytes & 0xfff))
		return -EINVAL;
	/* Guard the sum below: RAM above 4 GiB must end inside 64-bit space. */
	if (ram_bytes > (UINT64_MAX >> 1))
		return -EINVAL;

	low = ram_bytes < MEMMAP_PCI_HOLE_START ? ram_bytes : MEMMAP_PCI_HOLE_START;
	m->ram[m->nr_ram++] = (struct mem_range){ .gpa = 0, .size = low };
	if (ram_bytes > low)
		m->ram[m->nr_ram++] = (struct mem_range){ .gpa = MEMMAP_4GIB, .size = ram_bytes - low };
	m->ram_bytes = ram_bytes;
	return 0;
}

uint64_t memmap_ram_end(const struct memmap *m)
{
	if (m->nr_ram == 0)
		return 0;
	return m->ram[m->nr_ram - 1].gpa + m->ram[m->nr_ram - 1].size;
}
