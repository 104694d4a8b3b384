/* test_virtio_balloon.c: virtio-balloon driven by the mock driver on mmap'd guest RAM: pages really go back (zero, not resident), stats, reporting, reset. */
#include "tests/unit/cmocka_inc.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "devices/virtio_balloon.h"
#include "tests/unit/mock_virtio.h"

#define RAM_BASE	0x100000ull
#define RAM_SIZE	(8ull << 20)
/* Test pages live in the upper half; rings and buffers come from the bump allocator below. */
#define DATA_GPA	(RAM_BASE + (4ull << 20))
#define PAGE		4096ull
#define QSIZE		64

#define F_BASE		(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))
#define F_STATS		VIRTIO_BIT(VIRTIO_BALLOON_F_STATS_VQ)
#define F_REPORT	VIRTIO_BIT(VIRTIO_BALLOON_F_PAGE_REPORTING)
#define F_ALL		(F_BASE | F_STATS | F_REPORT | VIRTIO_BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM))

#define Q_INFLATE	0
#define Q_DEFLATE	1

struct fx {
	struct mock_vm m;
	struct ev_loop loop;
	struct mock_queue q[4];
	unsigned int nr_q;
	struct virtio_dev *d;
};

static int irqs[5];		/* [0..3]: queues, [4]: configuration */

static void raise_fn(struct virtio_dev *d, int q)
{
	(void)d;
	irqs[q < 0 ? 4 : q]++;
}

/*
 * Guest RAM from mmap(MAP_PRIVATE | MAP_ANONYMOUS), as gm_alloc() makes it
 * (mock_vm_init()'s aligned_alloc memory would not show madvise's effect
 * reliably).  No THP, so residency is counted in 4 KiB pages.  With hugetlb,
 * 2 MiB hugetlbfs pages; false if the host has none.
 */
static bool vm_init(struct mock_vm *m, bool hugetlb)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | (hugetlb ? MAP_HUGETLB : 0);

	memset(m, 0, sizeof(*m));
	m->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (m->ram == MAP_FAILED) {
		m->ram = NULL;
		return false;
	}
	if (!hugetlb)
		(void)madvise(m->ram, RAM_SIZE, MADV_NOHUGEPAGE);
	m->base = RAM_BASE;
	m->size = RAM_SIZE;
	m->next = RAM_BASE;
	if (gm_add_region(&m->gm, RAM_BASE, RAM_SIZE, m->ram) != 0)
		abort();
	return true;
}

static void fx_create(struct fx *f, bool hugetlb)
{
	memset(f, 0, sizeof(*f));
	memset(irqs, 0, sizeof(irqs));
	assert_true(vm_init(&f->m, hugetlb));
	assert_int_equal(ev_loop_init(&f->loop, "test-balloon"), 0);
	assert_int_equal(vballoon_create(&f->m.gm, &f->loop, RAM_SIZE, 1, true, &f->d), 0);
	f->d->raise = raise_fn;
}

/* The driver's set-up up to FEATURES_OK and the queues it finds (contiguous, as Linux). */
static void fx_queues(struct fx *f, uint64_t features)
{
	struct virtio_dev *d = f->d;
	unsigned int i;

	f->nr_q = 2 + !!(features & F_STATS) + !!(features & F_REPORT);
	pthread_mutex_lock(&d->lock);
	d->features = features;
	for (i = 0; i < f->nr_q; i++) {
		mock_queue_init(&f->q[i], &f->m, QSIZE);
		assert_int_equal(mock_queue_enable(&f->q[i], &d->vq[i], features), 0);
	}
	d->status |= VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
	pthread_mutex_unlock(&d->lock);
}

static void fx_driver_ok(struct fx *f)
{
	struct virtio_dev *d = f->d;

	pthread_mutex_lock(&d->lock);
	d->status |= VIRTIO_STATUS_DRIVER_OK;
	assert_int_equal(d->ops->activate(d), 0);
	pthread_mutex_unlock(&d->lock);
}

static void fx_start(struct fx *f, uint64_t features)
{
	fx_create(f, false);
	fx_queues(f, features);
	fx_driver_ok(f);
}

static void fx_reset(struct fx *f)
{
	mock_dev_reset(f->d);
}

static void fx_stop(struct fx *f)
{
	fx_reset(f);
	f->d->ops->destroy(f->d);
	ev_loop_destroy(&f->loop);
	munmap(f->m.ram, RAM_SIZE);
}

static void notify(struct fx *f, unsigned int q)
{
	mock_dev_notify(f->d, q);
}

static struct vballoon_info info(struct fx *f)
{
	struct vballoon_info i;

	vballoon_get_info(f->d, &i);
	return i;
}

/* The test pages: page i of the data area. */
static uint8_t *page(struct fx *f, unsigned int i)
{
	return mock_host(&f->m, DATA_GPA + i * PAGE);
}

static uint32_t pfn_of(unsigned int i)
{
	return (uint32_t)((DATA_GPA >> 12) + i);
}

static void fill(struct fx *f, unsigned int first, unsigned int n, uint8_t v)
{
	memset(page(f, first), v, n * PAGE);
}

/* True if every byte of pages [first, first + n) is v. */
static bool all_bytes(struct fx *f, unsigned int first, unsigned int n, uint8_t v)
{
	const uint8_t *p = page(f, first);
	size_t i;

	for (i = 0; i < n * PAGE; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* How many of pages [first, first + n) are resident (mincore). */
static unsigned int resident(struct fx *f, unsigned int first, unsigned int n)
{
	unsigned char vec[1024];
	unsigned int i, count = 0;

	assert_true(n <= sizeof(vec));
	assert_int_equal(mincore(page(f, first), n * PAGE, vec), 0);
	for (i = 0; i < n; i++)
		count += vec[i] & 1;
	return count;
}

/* This process's resident set, in pages (/proc/self/statm). */
static long rss_pages(void)
{
	FILE *fp = fopen("/proc/self/statm", "r");
	long size = 0, rss = -1;

	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "%ld %ld", &size, &rss), 2);
	fclose(fp);
	return rss;
}

/* Posts an array of le32 PFNs as one device-readable (or, wrongly, writable) buffer. */
static uint16_t post_pfns(struct fx *f, unsigned int q, const uint32_t *pfns, unsigned int n,
			  bool writable)
{
	struct mock_buf b = { .len = 4 * n, .writable = writable };
	uint32_t *p;
	unsigned int i;

	b.gpa = mock_alloc(&f->m, b.len, 8);
	p = mock_host(&f->m, b.gpa);
	for (i = 0; i < n; i++) {
		uint32_t le = htole32(pfns[i]);

		memcpy(p + i, &le, 4);
	}
	return mock_add_chain(&f->q[q], &b, 1);
}

struct stat_entry {
	uint16_t tag;
	uint64_t val;
};

/* Posts a statistics buffer of packed (le16 tag, le64 val) entries; len_adjust cuts it short. */
static uint16_t post_stats(struct fx *f, unsigned int q, const struct stat_entry *s, unsigned int n,
			   int len_adjust)
{
	struct mock_buf b = { .len = (uint32_t)(10 * n + len_adjust), .writable = false };
	uint8_t *p;
	unsigned int i;

	b.gpa = mock_alloc(&f->m, 10 * n, 8);
	p = mock_host(&f->m, b.gpa);
	for (i = 0; i < n; i++) {
		uint16_t tag = htole16(s[i].tag);
		uint64_t val = htole64(s[i].val);

		memcpy(p + 10 * i, &tag, 2);
		memcpy(p + 10 * i + 2, &val, 8);
	}
	return mock_add_chain(&f->q[q], &b, 1);
}

/* The next used element of queue q must be head with length 0. */
static void assert_used(struct fx *f, unsigned int q, uint16_t head)
{
	uint32_t id = 0xffff, len = 0xffff;

	assert_true(mock_get_used(&f->q[q], &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
}

static void assert_no_used(struct fx *f, unsigned int q)
{
	uint32_t id, len;

	assert_false(mock_get_used(&f->q[q], &id, &len));
}

static uint32_t config32(struct fx *f, uint32_t off)
{
	uint32_t v;

	/* No config_read op: the transport copies d->config. */
	assert_null(f->d->ops->config_read);
	memcpy(&v, (uint8_t *)f->d->config + off, 4);
	return le32toh(v);
}

static void config_write(struct fx *f, uint32_t off, const void *data, uint32_t size)
{
	pthread_mutex_lock(&f->d->lock);
	f->d->ops->config_write(f->d, off, data, size);
	pthread_mutex_unlock(&f->d->lock);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- tests ---- */

static void test_identity(void **state)
{
	struct fx f;
	struct virtio_dev *d, *other;
	uint64_t hf;

	(void)state;
	fx_create(&f, false);
	d = f.d;
	assert_string_equal(d->ops->name, "virtio-balloon");
	assert_int_equal(d->ops->device_id, VIRTIO_ID_BALLOON);
	assert_int_equal(d->ops->pci_class, VBALLOON_PCI_CLASS);
	assert_int_equal(d->nr_queues, 4);
	assert_int_equal(d->config_size, 16);		/* §5.5.4 */
	hf = d->host_features;
	assert_true(hf & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_true(hf & VIRTIO_BIT(VIRTIO_BALLOON_F_STATS_VQ));
	assert_true(hf & VIRTIO_BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
	assert_true(hf & VIRTIO_BIT(VIRTIO_BALLOON_F_PAGE_REPORTING));
	assert_false(hf & VIRTIO_BIT(VIRTIO_BALLOON_F_MUST_TELL_HOST));
	assert_false(hf & VIRTIO_BIT(VIRTIO_BALLOON_F_FREE_PAGE_HINT));
	assert_false(hf & VIRTIO_BIT(VIRTIO_BALLOON_F_PAGE_POISON));
	assert_int_equal(config32(&f, 0), 0);
	assert_int_equal(config32(&f, 4), 0);
	assert_int_equal(info(&f).ram_bytes, RAM_SIZE);
	assert_false(info(&f).stats_valid);
	assert_int_equal(vballoon_create(&f.m.gm, NULL, RAM_SIZE, 0, true, &other), -EINVAL);
	fx_stop(&f);
}

static void test_inflate_returns_pages(void **state)
{
	struct fx f;
	uint32_t pfns[64];
	unsigned int i, n = 0;
	long rss_before, rss_after;
	uint16_t h;

	(void)state;
	fx_start(&f, F_ALL);
	fill(&f, 0, 64, 0xa5);
	fill(&f, 64, 4, 0x5a);				/* a guard: not in the balloon */
	assert_int_equal(resident(&f, 0, 68), 68);
	/* Three runs, out of order: 0-31, 40-63, 32-39. */
	for (i = 0; i < 32; i++)
		pfns[n++] = pfn_of(i);
	for (i = 40; i < 64; i++)
		pfns[n++] = pfn_of(i);
	for (i = 32; i < 40; i++)
		pfns[n++] = pfn_of(i);
	rss_before = rss_pages();
	h = post_pfns(&f, Q_INFLATE, pfns, n, false);
	notify(&f, Q_INFLATE);
	rss_after = rss_pages();
	assert_used(&f, Q_INFLATE, h);
	assert_no_used(&f, Q_INFLATE);
	assert_int_equal(irqs[Q_INFLATE], 1);
	/* Gone from the host: not resident, RSS down (before reading them faults zero pages in). */
	assert_int_equal(resident(&f, 0, 64), 0);
	assert_int_equal(resident(&f, 64, 4), 4);
	assert_true(rss_before - rss_after >= 48);
	/* The guest sees zeroes if it touches them; the guard is untouched. */
	assert_true(all_bytes(&f, 0, 64, 0));
	assert_true(all_bytes(&f, 64, 4, 0x5a));
	assert_int_equal(info(&f).inflated_bytes, 64 * PAGE);
	assert_int_equal(info(&f).deflated_bytes, 0);
	assert_false(f.d->status & VIRTIO_STATUS_NEEDS_RESET);
	fx_stop(&f);
}

static void test_deflate(void **state)
{
	struct fx f;
	uint32_t pfns[8];
	unsigned int i;
	uint16_t h;

	(void)state;
	fx_start(&f, F_ALL);
	for (i = 0; i < 8; i++)
		pfns[i] = pfn_of(i);
	fill(&f, 0, 8, 0x11);
	post_pfns(&f, Q_INFLATE, pfns, 8, false);
	notify(&f, Q_INFLATE);
	assert_true(all_bytes(&f, 0, 8, 0));
	/* Deflate: counted, nothing discarded (a deflated page with data keeps it). */
	fill(&f, 0, 8, 0x22);
	h = post_pfns(&f, Q_DEFLATE, pfns, 8, false);
	notify(&f, Q_DEFLATE);
	assert_used(&f, Q_DEFLATE, h);
	assert_int_equal(irqs[Q_DEFLATE], 1);
	assert_true(all_bytes(&f, 0, 8, 0x22));
	assert_int_equal(info(&f).deflated_bytes, 8 * PAGE);
	assert_int_equal(info(&f).inflated_bytes, 8 * PAGE);
	fx_stop(&f);
}

static void test_bad_pfns_and_chains(void **state)
{
	const uint32_t end_pfn = (uint32_t)((RAM_BASE + RAM_SIZE) >> 12);
	struct fx f;
	uint32_t mixed[5] = { 0, pfn_of(0), 0xffffffffu, end_pfn, (uint32_t)(RAM_BASE >> 12) - 1 };
	uint32_t one;
	uint16_t h1, h2, h3, h4, h5;
	struct mock_buf b;

	(void)state;
	fx_start(&f, F_ALL);
	fill(&f, 0, 4, 0x33);
	/* PFNs outside RAM are skipped, the good one is done. */
	h1 = post_pfns(&f, Q_INFLATE, mixed, 5, false);
	/* A writable PFN array: refused, nothing done. */
	one = pfn_of(1);
	h2 = post_pfns(&f, Q_INFLATE, &one, 1, true);
	/* A partial PFN (6 bytes): refused. */
	one = pfn_of(2);
	b = (struct mock_buf){ .gpa = mock_alloc(&f.m, 8, 8), .len = 6 };
	memcpy(mock_host(&f.m, b.gpa), &one, 4);
	h3 = mock_add_chain(&f.q[Q_INFLATE], &b, 1);
	/* And the device keeps working. */
	one = pfn_of(3);
	h4 = post_pfns(&f, Q_INFLATE, &one, 1, false);
	notify(&f, Q_INFLATE);
	assert_used(&f, Q_INFLATE, h1);
	assert_used(&f, Q_INFLATE, h2);
	assert_used(&f, Q_INFLATE, h3);
	assert_used(&f, Q_INFLATE, h4);
	assert_int_equal(irqs[Q_INFLATE], 1);
	assert_true(all_bytes(&f, 0, 1, 0));
	assert_true(all_bytes(&f, 1, 1, 0x33));
	assert_true(all_bytes(&f, 2, 1, 0x33));
	assert_true(all_bytes(&f, 3, 1, 0));
	assert_int_equal(info(&f).inflated_bytes, 2 * PAGE);
	/* Deflating outside RAM: not counted. */
	h5 = post_pfns(&f, Q_DEFLATE, mixed, 1, false);
	notify(&f, Q_DEFLATE);
	assert_used(&f, Q_DEFLATE, h5);
	assert_int_equal(info(&f).deflated_bytes, 0);
	assert_false(f.d->status & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(irqs[4], 0);
	fx_stop(&f);
}

static void test_set_target(void **state)
{
	struct fx f;
	uint8_t gen;

	(void)state;
	fx_start(&f, F_ALL);
	gen = f.d->config_generation;
	assert_int_equal(vballoon_set_target(f.d, (1ull << 20) + 100), 0);	/* rounded down */
	assert_int_equal(config32(&f, 0), 256);
	assert_int_equal(irqs[4], 1);
	assert_int_equal(f.d->config_generation, (uint8_t)(gen + 1));
	assert_int_equal(info(&f).target_bytes, 1ull << 20);
	/* The same target again: nothing to tell. */
	assert_int_equal(vballoon_set_target(f.d, 1ull << 20), 0);
	assert_int_equal(irqs[4], 1);
	/* All the RAM is allowed, more is not. */
	assert_int_equal(vballoon_set_target(f.d, RAM_SIZE), 0);
	assert_int_equal(config32(&f, 0), RAM_SIZE / PAGE);
	assert_int_equal(irqs[4], 2);
	assert_int_equal(vballoon_set_target(f.d, RAM_SIZE + PAGE), -EINVAL);
	assert_int_equal(vballoon_set_target(f.d, UINT64_MAX), -EINVAL);
	assert_int_equal(config32(&f, 0), RAM_SIZE / PAGE);
	assert_int_equal(irqs[4], 2);
	assert_int_equal(vballoon_set_target(f.d, 0), 0);
	assert_int_equal(config32(&f, 0), 0);
	assert_int_equal(irqs[4], 3);
	fx_stop(&f);
}

static void test_config_write_actual(void **state)
{
	struct fx f;
	uint32_t v;
	uint8_t byte = 1;
	uint8_t both[8];

	(void)state;
	fx_start(&f, F_ALL);
	assert_int_equal(vballoon_set_target(f.d, 64 * PAGE), 0);
	v = htole32(100);
	config_write(&f, 4, &v, 4);
	assert_int_equal(config32(&f, 4), 100);
	assert_int_equal(info(&f).actual_bytes, 100 * PAGE);
	/* num_pages is the device's: ignored. */
	v = htole32(999);
	config_write(&f, 0, &v, 4);
	assert_int_equal(config32(&f, 0), 64);
	config_write(&f, 12, &v, 4);			/* poison_val: PAGE_POISON not offered */
	assert_int_equal(config32(&f, 12), 0);
	/* A byte write inside actual counts. */
	config_write(&f, 5, &byte, 1);
	assert_int_equal(config32(&f, 4), 100 + 256);
	/* A write spanning num_pages and actual: only actual's part. */
	memset(both, 0, sizeof(both));
	both[0] = 0xff;
	both[4] = 7;
	config_write(&f, 0, both, 8);
	assert_int_equal(config32(&f, 0), 64);
	assert_int_equal(config32(&f, 4), 7);
	assert_int_equal(info(&f).actual_bytes, 7 * PAGE);
	assert_int_equal(info(&f).target_bytes, 64 * PAGE);
	fx_stop(&f);
}

static void test_stats(void **state)
{
	const unsigned int qs = 2;
	struct fx f;
	struct stat_entry s1[3] = {
		{ VIRTIO_BALLOON_S_MEMFREE, 1000 * PAGE },
		{ VIRTIO_BALLOON_S_MEMTOT, 2000 * PAGE },
		{ 99, 5 },					/* unknown: ignored */
	};
	struct stat_entry s2[2] = {
		{ VIRTIO_BALLOON_S_MEMFREE, 1500 * PAGE },
		{ VIRTIO_BALLOON_S_MEMTOT, 2000 * PAGE },
	};
	struct stat_entry s3[3] = {
		{ VIRTIO_BALLOON_S_NR, 0x1111 },
		{ VIRTIO_BALLOON_S_NR + 1, 0x2222 },
		{ VIRTIO_BALLOON_S_NR + 2, 0x3333 },
	};
	struct vballoon_info i;
	uint16_t h1, h2, h3;
	double t0;

	(void)state;
	fx_create(&f, false);
	fx_queues(&f, F_ALL);
	/* Linux posts its first buffer before DRIVER_OK. */
	h1 = post_stats(&f, qs, s1, 3, 0);
	t0 = now_s();
	fx_driver_ok(&f);
	i = info(&f);
	assert_true(i.stats_valid);
	assert_true(i.stats_age_ms < 1000);
	assert_true(i.stats_have[VIRTIO_BALLOON_S_MEMFREE]);
	assert_true(i.stats_have[VIRTIO_BALLOON_S_MEMTOT]);
	assert_false(i.stats_have[VIRTIO_BALLOON_S_SWAP_IN]);
	assert_int_equal(i.stats[VIRTIO_BALLOON_S_MEMFREE], 1000 * PAGE);
	assert_int_equal(i.stats[VIRTIO_BALLOON_S_MEMTOT], 2000 * PAGE);
	/* Held, not given back yet. */
	assert_no_used(&f, qs);
	/* One interval (1 s) later the device asks for fresh statistics: the buffer comes back. */
	assert_int_equal(ev_loop_poll(&f.loop, 3000), 1);
	assert_true(now_s() - t0 >= 0.9);
	assert_used(&f, qs, h1);
	assert_int_equal(irqs[qs], 1);
	/* The driver refills and posts it again. */
	h2 = post_stats(&f, qs, s2, 2, 0);
	notify(&f, qs);
	assert_no_used(&f, qs);
	i = info(&f);
	assert_int_equal(i.stats[VIRTIO_BALLOON_S_MEMFREE], 1500 * PAGE);
	assert_int_equal(i.stats[VIRTIO_BALLOON_S_MEMTOT], 2000 * PAGE);
	assert_true(i.stats_age_ms < 1000);
	/* A buffer with a partial entry: completed at once, values unchanged. */
	h3 = post_stats(&f, qs, s1, 2, -3);
	notify(&f, qs);
	assert_used(&f, qs, h3);
	assert_int_equal(info(&f).stats[VIRTIO_BALLOON_S_MEMFREE], 1500 * PAGE);
	/* A second buffer while one is held (a driver bug): the older one goes back at once. */
	h3 = post_stats(&f, qs, s3, 3, 0);
	notify(&f, qs);
	assert_used(&f, qs, h2);
	assert_no_used(&f, qs);
	/* Tags from S_NR on are ignored (and land nowhere else). */
	i = info(&f);
	assert_int_equal(i.stats[VIRTIO_BALLOON_S_MEMFREE], 1500 * PAGE);
	assert_int_equal(i.inflated_bytes, 0);
	assert_int_equal(i.deflated_bytes, 0);
	assert_int_equal(i.reported_bytes, 0);
	/* The held buffer goes back at the next tick. */
	assert_int_equal(ev_loop_poll(&f.loop, 3000), 1);
	assert_used(&f, qs, h3);
	assert_false(f.d->status & VIRTIO_STATUS_NEEDS_RESET);
	fx_stop(&f);
}

static void test_free_page_reporting(void **state)
{
	const unsigned int qr = 3;
	const unsigned int first = 256, n = 512;	/* 2 MiB at DATA_GPA + 1 MiB */
	struct fx f;
	struct mock_buf b, mixed[2];
	uint16_t h1, h2, h3;

	(void)state;
	fx_start(&f, F_ALL);
	fill(&f, first - 1, n + 2, 0x77);		/* one guard page each side */
	b = (struct mock_buf){ .gpa = DATA_GPA + first * PAGE, .len = n * PAGE, .writable = true };
	h1 = mock_add_chain(&f.q[qr], &b, 1);
	notify(&f, qr);
	assert_used(&f, qr, h1);
	assert_int_equal(irqs[qr], 1);
	assert_int_equal(resident(&f, first, n), 0);
	assert_true(all_bytes(&f, first, n, 0));
	assert_true(all_bytes(&f, first - 1, 1, 0x77));
	assert_true(all_bytes(&f, first + n, 1, 0x77));
	assert_int_equal(info(&f).reported_bytes, n * PAGE);
	/* A readable "report", or readable then writable: refused, nothing discarded. */
	fill(&f, 0, 8, 0x44);
	mixed[0] = (struct mock_buf){ .gpa = DATA_GPA, .len = 4 * PAGE, .writable = false };
	h2 = mock_add_chain(&f.q[qr], mixed, 1);
	mixed[1] = (struct mock_buf){ .gpa = DATA_GPA + 4 * PAGE, .len = 4 * PAGE, .writable = true };
	h3 = mock_add_chain(&f.q[qr], mixed, 2);
	notify(&f, qr);
	assert_used(&f, qr, h2);
	assert_used(&f, qr, h3);
	assert_true(all_bytes(&f, 0, 8, 0x44));
	assert_int_equal(info(&f).reported_bytes, n * PAGE);
	assert_int_equal(info(&f).inflated_bytes, 0);
	fx_stop(&f);
}

/* Without STATS_VQ, Linux's reporting queue is index 2, and there is no statistics timer. */
static void test_queue_map_without_stats(void **state)
{
	struct fx f;
	struct mock_buf b;
	uint16_t h;

	(void)state;
	fx_start(&f, F_BASE | F_REPORT);
	assert_int_equal(f.nr_q, 3);
	fill(&f, 0, 16, 0x66);
	b = (struct mock_buf){ .gpa = DATA_GPA, .len = 16 * PAGE, .writable = true };
	h = mock_add_chain(&f.q[2], &b, 1);
	notify(&f, 2);
	assert_used(&f, 2, h);
	assert_true(all_bytes(&f, 0, 16, 0));
	assert_int_equal(info(&f).reported_bytes, 16 * PAGE);
	/* Queue 3 does not exist for this driver: notifications of it are ignored. */
	notify(&f, 3);
	assert_int_equal(ev_loop_poll(&f.loop, 1300), 0);
	assert_false(info(&f).stats_valid);
	fx_stop(&f);
}

/* STATS_VQ without PAGE_REPORTING: queue 2 is statistics, a PFN array there is not inflated. */
static void test_queue_map_stats_only(void **state)
{
	struct fx f;
	struct stat_entry s = { VIRTIO_BALLOON_S_MEMFREE, 42 };
	uint16_t h;

	(void)state;
	fx_start(&f, F_BASE | F_STATS);
	assert_int_equal(f.nr_q, 3);
	h = post_stats(&f, 2, &s, 1, 0);
	notify(&f, 2);
	assert_int_equal(info(&f).stats[VIRTIO_BALLOON_S_MEMFREE], 42);
	assert_int_equal(ev_loop_poll(&f.loop, 3000), 1);
	assert_used(&f, 2, h);
	notify(&f, 3);
	assert_int_equal(info(&f).reported_bytes, 0);
	fx_stop(&f);
}

static void test_reset(void **state)
{
	const unsigned int qs = 2;
	struct fx f;
	struct stat_entry s = { VIRTIO_BALLOON_S_MEMTOT, 7 };
	struct mock_queue old_stats;
	uint32_t pfn = pfn_of(0), v = htole32(1);
	uint16_t h;

	(void)state;
	fx_create(&f, false);
	fx_queues(&f, F_ALL);
	post_stats(&f, qs, &s, 1, 0);
	fx_driver_ok(&f);
	fill(&f, 0, 2, 0x99);
	post_pfns(&f, Q_INFLATE, &pfn, 1, false);
	notify(&f, Q_INFLATE);
	config_write(&f, 4, &v, 4);
	assert_int_equal(vballoon_set_target(f.d, 4 * PAGE), 0);
	/* Reset while the statistics buffer is held: it is never given back, the timer is off. */
	old_stats = f.q[qs];
	fx_reset(&f);
	assert_int_equal(ev_loop_poll(&f.loop, 1500), 0);
	assert_no_used(&f, qs);
	assert_int_equal(mock_used_idx(&old_stats), 0);
	/* Totals and target stay; the new driver's balloon is empty. */
	assert_int_equal(info(&f).inflated_bytes, PAGE);
	assert_int_equal(info(&f).actual_bytes, 0);
	assert_int_equal(info(&f).target_bytes, 4 * PAGE);
	/* A new driver: everything works again. */
	fx_queues(&f, F_ALL);
	h = post_stats(&f, qs, &s, 1, 0);
	fx_driver_ok(&f);
	assert_no_used(&f, qs);				/* nothing of the old driver's comes back */
	pfn = pfn_of(1);
	post_pfns(&f, Q_INFLATE, &pfn, 1, false);
	notify(&f, Q_INFLATE);
	assert_true(all_bytes(&f, 1, 1, 0));
	assert_int_equal(info(&f).inflated_bytes, 2 * PAGE);
	assert_int_equal(ev_loop_poll(&f.loop, 3000), 1);
	assert_used(&f, qs, h);
	fx_stop(&f);
}

static void test_ring_error_needs_reset(void **state)
{
	struct fx f;

	(void)state;
	fx_start(&f, F_ALL);
	mock_publish(&f.q[Q_INFLATE], QSIZE + 1);	/* a head beyond the queue */
	notify(&f, Q_INFLATE);
	assert_true(f.d->status & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(irqs[4], 1);
	notify(&f, Q_INFLATE);
	assert_int_equal(irqs[4], 1);
	fx_stop(&f);
}

/* hugetlbfs RAM: a 4 KiB PFN cannot be freed (the page stays, counted); a reported 2 MiB range can. */
static void test_hugetlb(void **state)
{
	struct mock_vm probe;
	struct fx f;
	struct mock_buf b;
	uint32_t pfn = pfn_of(0);

	(void)state;
	if (!vm_init(&probe, true)) {
		skip();
		return;
	}
	munmap(probe.ram, RAM_SIZE);
	fx_create(&f, true);
	fx_queues(&f, F_ALL);
	fx_driver_ok(&f);
	fill(&f, 0, 1024, 0x55);			/* DATA_GPA is 4 MiB into RAM: huge page aligned */
	post_pfns(&f, Q_INFLATE, &pfn, 1, false);
	notify(&f, Q_INFLATE);
	assert_true(all_bytes(&f, 0, 1, 0x55));		/* kept: a 4 KiB madvise would free nothing */
	assert_int_equal(info(&f).inflated_bytes, PAGE);
	b = (struct mock_buf){ .gpa = DATA_GPA + (2ull << 20), .len = 2u << 20, .writable = true };
	mock_add_chain(&f.q[3], &b, 1);
	notify(&f, 3);
	assert_true(all_bytes(&f, 512, 512, 0));
	assert_true(all_bytes(&f, 0, 512, 0x55));
	fx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_inflate_returns_pages),
		cmocka_unit_test(test_deflate),
		cmocka_unit_test(test_bad_pfns_and_chains),
		cmocka_unit_test(test_set_target),
		cmocka_unit_test(test_config_write_actual),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_free_page_reporting),
		cmocka_unit_test(test_queue_map_without_stats),
		cmocka_unit_test(test_queue_map_stats_only),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_ring_error_needs_reset),
		cmocka_unit_test(test_hugetlb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
