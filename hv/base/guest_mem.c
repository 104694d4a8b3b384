/* guest_mem.c: map guest RAM and translate guest-physical ranges, checked. */
#include "hv/base/guest_mem.h"

#include <errno.h>
#include <string.h>
#include <linux/mman.h>
#include <sys/mman.h>

#define GM_ALIGN	(2ULL << 20)	/* x86-64 huge page */

int gm_add_region(struct guest_mem *gm, uint64_t gpa, uint64_t size, void *host)
{
	uint64_t end;
	unsigned int i;

	if (gm->nr_regions == GM_MAX_REGIONS || size == 0 || !host)
		return -EINVAL;
	if (__builtin_add_overflow(gpa, size, &end))
		return -EINVAL;
	for (i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->region[i];

		if (gpa < r->gpa + r->size && r->gpa < end)
			return -EINVAL;		/* overlaps */
	}
	gm->region[gm->nr_regions++] = (struct gm_region){ .gpa = gpa, .size = size, .host = host };
	return 0;
}

int gm_alloc(struct guest_mem *gm, const struct memmap *m, bool hugepages)
{
	uint8_t *raw, *base, *p;
	size_t total = 0, raw_size, head;
	unsigned int i;
	int ret;

	memset(gm, 0, sizeof(*gm));
	for (i = 0; i < m->nr_ram; i++) {
		/* Each range starts on a 2 MiB boundary of the host mapping too. */
		uint64_t sz = (m->ram[i].size + GM_ALIGN - 1) & ~(GM_ALIGN - 1);

		if (__builtin_add_overflow(total, sz, &total))
			return -ENOMEM;
	}
	if (hugepages) {
		/* hugetlbfs pages are 2 MiB aligned by nature; MAP_POPULATE takes them now. */
		base = mmap(NULL, total, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB | MAP_POPULATE,
			    -1, 0);
		if (base == MAP_FAILED)
			return -errno;
	} else {
		/* Over-allocate by one alignment unit, then trim to an aligned start. */
		if (__builtin_add_overflow(total, GM_ALIGN, &raw_size))
			return -ENOMEM;
		raw = mmap(NULL, raw_size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (raw == MAP_FAILED)
			return -errno;
		base = (uint8_t *)(((uintptr_t)raw + GM_ALIGN - 1) & ~(uintptr_t)(GM_ALIGN - 1));
		head = (size_t)(base - raw);
		if (head)
			munmap(raw, head);
		if (raw_size - head > total)
			munmap(base + total, raw_size - head - total);
		/* Advisory: THP may be disabled on the host, the guest still runs. */
		(void)madvise(base, total, MADV_HUGEPAGE);
	}

	gm->map = base;
	gm->map_size = total;
	gm->page_size = hugepages ? 2u << 20 : 4096;
	for (p = base, i = 0; i < m->nr_ram; i++) {
		ret = gm_add_region(gm, m->ram[i].gpa, m->ram[i].size, p);
		if (ret) {
			gm_free(gm);
			return ret;
		}
		p += (m->ram[i].size + GM_ALIGN - 1) & ~(GM_ALIGN - 1);
	}
	return 0;
}

void gm_free(struct guest_mem *gm)
{
	if (gm->map)
		munmap(gm->map, gm->map_size);
	memset(gm, 0, sizeof(*gm));
}

void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	uint64_t end;
	unsigned int i;

	if (len == 0 || __builtin_add_overflow(gpa, len, &end))
		return NULL;
	for (i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->region[i];

		if (gpa >= r->gpa && end <= r->gpa + r->size)
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, uint64_t len)
{
	const void *src = gm_ptr(gm, gpa, len);

	if (!src)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = gm_ptr(gm, gpa, len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}
