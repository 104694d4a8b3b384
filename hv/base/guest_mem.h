/* guest_mem.h: the one checked gateway between guest-physical addresses and host pointers. */
#ifndef HV_GUEST_MEM_H
#define HV_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/base/memmap.h"

#define GM_MAX_REGIONS	8

struct gm_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct guest_mem {
	struct gm_region region[GM_MAX_REGIONS];
	unsigned int nr_regions;
	void *map;		/* the mmap behind the regions (NULL when borrowed) */
	size_t map_size;
	uint64_t page_size;	/* the host pages behind map: 4 KiB, 2 MiB (hugepages); 0: borrowed */
};

/*
 * Maps host memory for every RAM range of *m: one anonymous mapping, its
 * start 2 MiB aligned so that guest and host huge pages line up, marked
 * for transparent huge pages -- or, with hugepages, taken from the host's
 * pool of 2 MiB hugetlbfs pages (-ENOMEM when the pool is short).  0 or -errno.
 */
int gm_alloc(struct guest_mem *gm, const struct memmap *m, bool hugepages);
void gm_free(struct guest_mem *gm);

/* Adds a region backed by caller-owned memory (unit tests, fuzzers). */
int gm_add_region(struct guest_mem *gm, uint64_t gpa, uint64_t size, void *host);

/*
 * Returns a host pointer for [gpa, gpa + len) only if the whole range lies
 * in one RAM region (len 0 is refused); else NULL.  No other code turns a
 * guest address into a host pointer.
 */
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Copies through gm_ptr.  0, or -EFAULT when the range is not RAM. */
int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, uint64_t len);
int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len);

#endif
