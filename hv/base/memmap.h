/* memmap.h: where guest RAM lives in guest-physical space (the VM's memory map). */
#ifndef HV_MEMMAP_H
#define HV_MEMMAP_H

#include <stdint.h>

/*
 * A PC keeps the top of the 32-bit space for devices: hvrun puts RAM below
 * 3 GiB and the rest of it above 4 GiB, leaving [3 GiB, 4 GiB) as the
 * 32-bit PCI hole (device BARs, IOAPIC, LAPIC, firmware).
 */
#define MEMMAP_PCI_HOLE_START	0xC0000000ULL
#define MEMMAP_4GIB		0x100000000ULL
#define MEMMAP_MAX_RAM		2

struct mem_range {
	uint64_t gpa;
	uint64_t size;
};

struct memmap {
	struct mem_range ram[MEMMAP_MAX_RAM];
	unsigned int nr_ram;
	uint64_t ram_bytes;	/* total, as asked with -m */
};

/* Lays out ram_bytes (> 0, a multiple of 4 KiB) of RAM.  0 or -EINVAL. */
int memmap_build(struct memmap *m, uint64_t ram_bytes);

/* The first guest-physical address above all RAM. */
uint64_t memmap_ram_end(const struct memmap *m);

#endif
