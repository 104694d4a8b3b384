/*
 * hostile.c: a malicious virtio driver, run as root inside a test guest whose virtio
 * drivers are not loaded (tests/guests/init.sh hvtest=hostile).  It owns every
 * virtio-pci function, drives it through the BAR (mmap of sysfs resource0) with rings
 * in a hugepage of known guest-physical address, plays one hostile case at a time
 * and then checks that the device still serves a good request, or latched
 * DEVICE_NEEDS_RESET and serves one after a reset.  Verdicts, one line per case and
 * a table per device, go to stdout as "HOSTILE ..." lines (tests/integration/hostile.sh).
 *
 * Built on the host with gcc -static; no interrupts are used: completions are found
 * by polling the used rings with a timeout.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---- virtio constants (virtio 1.2) ---- */
#define ST_ACK		0x01
#define ST_DRIVER	0x02
#define ST_DRIVER_OK	0x04
#define ST_FEATURES_OK	0x08
#define ST_NEEDS_RESET	0x40
#define ST_FAILED	0x80

#define F_INDIRECT	(1ull << 28)
#define F_EVENT_IDX	(1ull << 29)
#define F_VERSION_1	(1ull << 32)

#define D_NEXT		1
#define D_WRITE		2
#define D_INDIRECT	4

/* common configuration (§4.1.4.3) */
#define CC_DFSELECT	0
#define CC_DF		4
#define CC_GFSELECT	8
#define CC_GF		12
#define CC_MSIX		16
#define CC_NUMQ		18
#define CC_STATUS	20
#define CC_GEN		21
#define CC_QSELECT	22
#define CC_QSIZE	24
#define CC_QMSIX	26
#define CC_QENABLE	28
#define CC_QNOTIFY	30
#define CC_QDESC	32
#define CC_QAVAIL	40
#define CC_QUSED	48

#define QSZ		64		/* the queue size this driver picks */
#define MAXQ		8
#define REGION		(2u << 20)	/* one hugepage of DMA memory per device */
#define BUF_BASE	(64u << 10)	/* rings below, buffers above */
#define BALLOON_PAGE_OFF (REGION - 4096)	/* the page the balloon liveness inflates */

#define CASE_WAIT_MS	300
#define GOOD_WAIT_MS	4000

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };

struct vq {
	uint16_t size, notify_off;
	uint64_t desc_pa, avail_pa, used_pa;
	volatile struct desc *desc;
	volatile uint16_t *avail;	/* flags, idx, ring[size], used_event */
	volatile uint8_t *used;		/* flags, idx, {id, len}[size], avail_event */
	uint16_t avail_idx, used_seen, dnext;
};

enum kind { K_BLK, K_NET, K_CON, K_RNG, K_BAL, K_SCSI, K_NR };
static const char *const kind_names[K_NR] = { "blk", "net", "console", "rng", "balloon", "scsi" };
static const uint16_t kind_vid[K_NR] = { 2, 1, 3, 4, 5, 8 };

struct dev {
	enum kind kind;
	char bdf[64];
	int cfg_fd;
	volatile uint8_t *bar;
	uint64_t bar_pa, bar_len;
	unsigned int barno;		/* the BAR holding the virtio structures */
	uint32_t common, notify, isr, devcfg, notify_mult;
	uint16_t nq, mainq;
	uint64_t host_features, features;
	struct vq q[MAXQ];
	uint8_t *mem;
	uint64_t mem_pa;
	size_t bump;
	/* device facts read at init */
	uint64_t blk_capacity;
	uint32_t scsi_cdb, scsi_sense;
	uint8_t mac[6];
	void *rxbuf[QSZ];	/* net: the buffer each RX head points at */
};

static struct dev devs[K_NR];
static bool have[K_NR];
static uint64_t ram_end;	/* the end of the highest System RAM range below 4 GiB */

/* ---- small helpers ---- */
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("HOSTILE fatal: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	exit(2);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

#define mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static void w8(struct dev *d, uint32_t off, uint8_t v) { *(volatile uint8_t *)(d->bar + off) = v; mb(); }
static void w16(struct dev *d, uint32_t off, uint16_t v) { *(volatile uint16_t *)(d->bar + off) = v; mb(); }
static void w32(struct dev *d, uint32_t off, uint32_t v) { *(volatile uint32_t *)(d->bar + off) = v; mb(); }
static uint8_t r8(struct dev *d, uint32_t off) { mb(); return *(volatile uint8_t *)(d->bar + off); }
static uint16_t r16(struct dev *d, uint32_t off) { mb(); return *(volatile uint16_t *)(d->bar + off); }
static uint32_t r32(struct dev *d, uint32_t off) { mb(); return *(volatile uint32_t *)(d->bar + off); }
static void w64(struct dev *d, uint32_t off, uint64_t v) { w32(d, off, (uint32_t)v); w32(d, off + 4, (uint32_t)(v >> 32)); }

static uint8_t status(struct dev *d) { return r8(d, d->common + CC_STATUS); }
static void set_status(struct dev *d, uint8_t v) { w8(d, d->common + CC_STATUS, v); }

static int read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	ssize_t got;

	if (fd < 0)
		return -1;
	got = read(fd, buf, n - 1);
	close(fd);
	if (got < 0)
		return -1;
	buf[got] = 0;
	return 0;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static uint64_t virt_to_phys(const void *p)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;
	off_t off = (off_t)((uintptr_t)p / 4096) * 8;

	if (fd < 0 || pread(fd, &e, 8, off) != 8)
		die("pagemap: %s", strerror(errno));
	close(fd);
	if (!(e & (1ull << 63)) || !(e & ((1ull << 55) - 1)))
		die("pagemap: page not present or PFN hidden (not root?)");
	return (e & ((1ull << 55) - 1)) * 4096 + (uintptr_t)p % 4096;
}

/* ---- PCI: config space through sysfs ---- */
static uint32_t cfg_read(struct dev *d, unsigned int off, unsigned int len)
{
	uint32_t v = 0;

	if (pread(d->cfg_fd, &v, len, off) != (ssize_t)len)
		die("%s: config read at %u", d->bdf, off);
	return v;
}

static void cfg_write(struct dev *d, unsigned int off, uint32_t v, unsigned int len)
{
	if (pwrite(d->cfg_fd, &v, len, off) != (ssize_t)len)
		die("%s: config write at %u", d->bdf, off);
}

static uint8_t *dma_pool;
static uint64_t dma_pool_pa[K_NR];

static void dma_setup(void)
{
	size_t i;

	/* One 2 MiB hugepage per device: physically contiguous, at an address pagemap tells. */
	write_file("/proc/sys/vm/nr_hugepages", "16");
	dma_pool = mmap(NULL, (size_t)REGION * K_NR, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE | MAP_LOCKED, -1, 0);
	if (dma_pool == MAP_FAILED)
		die("mmap of %d hugepages: %s", K_NR, strerror(errno));
	for (i = 0; i < K_NR; i++) {
		memset(dma_pool + i * REGION, 0, REGION);
		dma_pool_pa[i] = virt_to_phys(dma_pool + i * REGION);
		if (dma_pool_pa[i] % REGION)
			die("hugepage %zu at 0x%llx is not 2 MiB aligned", i, (unsigned long long)dma_pool_pa[i]);
	}
}

static void find_ram_end(void)
{
	FILE *f = fopen("/proc/iomem", "r");
	char line[256];
	unsigned long long a, b;

	if (!f)
		die("/proc/iomem");
	while (fgets(line, sizeof(line), f)) {
		if (line[0] != ' ' && strstr(line, "System RAM") &&
		    sscanf(line, "%llx-%llx", &a, &b) == 2 && b < (1ull << 32) && b + 1 > ram_end)
			ram_end = b + 1;
	}
	fclose(f);
	if (!ram_end)
		die("no System RAM in /proc/iomem");
}

static int probe(const char *bdf)
{
	char path[256], buf[256];
	unsigned int vendor, device;
	unsigned long long start, end, flags;
	struct dev *d;
	enum kind k;
	uint8_t cfg[256];
	unsigned int p, guard = 0, bar = 99, line;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", bdf);
	if (read_file(path, buf, sizeof(buf)) || sscanf(buf, "%x", &vendor) != 1 || vendor != 0x1af4)
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", bdf);
	if (read_file(path, buf, sizeof(buf)) || sscanf(buf, "%x", &device) != 1)
		return 0;
	for (k = 0; k < K_NR; k++)
		if (device == 0x1040u + kind_vid[k])
			break;
	if (k == K_NR || have[k])
		return 0;
	d = &devs[k];
	d->kind = k;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	if (access(path, F_OK) == 0)
		die("%s (%s) has a driver bound: hvtest=hostile loads none", bdf, kind_names[k]);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	d->cfg_fd = open(path, O_RDWR);
	if (d->cfg_fd < 0 || pread(d->cfg_fd, cfg, sizeof(cfg), 0) != (ssize_t)sizeof(cfg))
		die("%s: config space", bdf);
	/* The virtio vendor capabilities (§4.1.4): where each structure lies in which BAR. */
	for (p = cfg[0x34] & 0xfc; p && guard++ < 48; p = cfg[p + 1] & 0xfc) {
		uint32_t off;

		if (cfg[p] != 0x09)
			continue;
		memcpy(&off, &cfg[p + 8], 4);
		if (cfg[p + 3] < 1 || cfg[p + 3] > 4)
			continue;	/* PCI config access, shared memory: not used */
		/* hvrun puts them all in BAR 0, QEMU in BAR 4: one BAR either way */
		if (bar != 99 && cfg[p + 4] != bar)
			die("%s: virtio structures in two BARs", bdf);
		bar = cfg[p + 4];
		switch (cfg[p + 3]) {
		case 1: d->common = off; break;
		case 2: d->notify = off; memcpy(&d->notify_mult, &cfg[p + 16], 4); break;
		case 3: d->isr = off; break;
		case 4: d->devcfg = off; break;
		}
	}
	if (bar > 5)
		die("%s: no virtio capabilities", bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	fd = open(path, O_RDONLY);
	FILE *rf = fd >= 0 ? fdopen(fd, "r") : NULL;
	start = 0;
	for (line = 0; rf && line <= bar; line++)
		if (!fgets(buf, sizeof(buf), rf) || sscanf(buf, "%llx %llx %llx", &start, &end, &flags) != 3)
			start = 0;
	if (rf)
		fclose(rf);
	if (!start)
		die("%s: BAR %u not assigned", bdf, bar);
	d->bar_pa = start;
	d->barno = bar;
	d->bar_len = end - start + 1;
	/* Memory space and bus mastering on, INTx off: this driver polls. */
	cfg_write(d, 4, (cfg_read(d, 4, 2) | 0x0006 | 0x0400) & 0xffff, 2);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%u", bdf, bar);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	d->bar = mmap(NULL, d->bar_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (d->bar == MAP_FAILED)
		die("mmap %s: %s", path, strerror(errno));
	close(fd);
	d->mem = dma_pool + (size_t)k * REGION;
	d->mem_pa = dma_pool_pa[k];
	have[k] = true;
	printf("HOSTILE device %s at %s BAR%u 0x%llx+0x%llx DMA 0x%llx\n", kind_names[k], bdf, bar,
	       (unsigned long long)d->bar_pa, (unsigned long long)d->bar_len,
	       (unsigned long long)d->mem_pa);
	return 1;
}

/* ---- DMA buffers: a bump allocator in the device's hugepage, reset by dev_init ---- */
static void *balloc(struct dev *d, size_t n, uint64_t *pa)
{
	size_t off = (d->bump + 63) & ~(size_t)63;

	if (off + n > BALLOON_PAGE_OFF)
		off = BUF_BASE;		/* wrap: earlier buffers of this case are done with */
	d->bump = off + n;
	memset(d->mem + off, 0, n);
	*pa = d->mem_pa + off;
	return d->mem + off;
}


/* ---- ring operations ---- */
struct buf { uint64_t pa; uint32_t len; uint16_t flags; };

static uint16_t *avail_ring(struct vq *q) { return (uint16_t *)&q->avail[2]; }

static uint16_t used_idx(struct vq *q) { mb(); return *(volatile uint16_t *)(q->used + 2); }

static void notify(struct dev *d, uint16_t qi)
{
	w16(d, d->notify + (uint32_t)d->q[qi].notify_off * d->notify_mult, qi);
}

/* Writes n descriptors chained from a fresh head; returns the head (not yet made available). */
static uint16_t put_chain(struct dev *d, uint16_t qi, const struct buf *b, unsigned int n)
{
	struct vq *q = &d->q[qi];
	uint16_t head = q->dnext % q->size, cur = head;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint16_t nx = (uint16_t)((cur + 1) % q->size);

		q->desc[cur].addr = b[i].pa;
		q->desc[cur].len = b[i].len;
		q->desc[cur].flags = (uint16_t)(b[i].flags | (i + 1 < n ? D_NEXT : 0));
		q->desc[cur].next = i + 1 < n ? nx : 0;
		cur = nx;
	}
	q->dnext = cur;
	return head;
}

static void make_avail(struct dev *d, uint16_t qi, uint16_t head)
{
	struct vq *q = &d->q[qi];

	avail_ring(q)[q->avail_idx % q->size] = head;
	mb();
	q->avail_idx++;
	q->avail[1] = q->avail_idx;
	mb();
}

static bool hold_notify;	/* post() makes chains available without notifying */

static uint16_t post(struct dev *d, uint16_t qi, const struct buf *b, unsigned int n)
{
	uint16_t head = put_chain(d, qi, b, n);

	make_avail(d, qi, head);
	if (!hold_notify)
		notify(d, qi);
	return head;
}

/*
 * Waits for head to come back on queue qi: 1 (*len set), 0 on timeout, -2 when the
 * device shows NEEDS_RESET meanwhile.  Other used elements are skipped.
 */
static int wait_used(struct dev *d, uint16_t qi, uint16_t head, unsigned int ms, uint32_t *len)
{
	struct vq *q = &d->q[qi];
	uint64_t end = now_ms() + ms;
	unsigned int spins = 0;

	for (;;) {
		uint16_t idx = used_idx(q);

		while (q->used_seen != idx) {
			volatile uint32_t *e = (volatile uint32_t *)(q->used + 4 + 8 * (q->used_seen % q->size));

			q->used_seen++;
			if (e[0] == head) {
				if (len)
					*len = e[1];
				return 1;
			}
		}
		if ((++spins & 15) == 0 && (status(d) & ST_NEEDS_RESET))
			return -2;
		if (now_ms() > end)
			return (status(d) & ST_NEEDS_RESET) ? -2 : 0;
		usleep(200);
	}
}

/* Waits for any used element on queue qi: 1 (*id, *len set), 0 on timeout, -2 NEEDS_RESET. */
static int wait_any(struct dev *d, uint16_t qi, unsigned int ms, uint16_t *id, uint32_t *len)
{
	struct vq *q = &d->q[qi];
	uint64_t end = now_ms() + ms;
	unsigned int spins = 0;

	for (;;) {
		if (q->used_seen != used_idx(q)) {
			volatile uint32_t *e = (volatile uint32_t *)(q->used + 4 + 8 * (q->used_seen % q->size));

			q->used_seen++;
			*id = (uint16_t)e[0];
			*len = e[1];
			return 1;
		}
		if ((++spins & 15) == 0 && (status(d) & ST_NEEDS_RESET))
			return -2;
		if (now_ms() > end)
			return (status(d) & ST_NEEDS_RESET) ? -2 : 0;
		usleep(200);
	}
}

/* ---- initialisation ---- */
static int dev_reset(struct dev *d)
{
	uint64_t end = now_ms() + 2000;

	set_status(d, 0);
	while (status(d) != 0)
		if (now_ms() > end)
			return -1;
	return 0;
}

static uint64_t wanted_features(enum kind k)
{
	switch (k) {
	case K_BLK: return (1ull << 9) | (1ull << 13) | (1ull << 14);		/* FLUSH, DISCARD, WRITE_ZEROES */
	case K_NET: return (1ull << 5) | (1ull << 15) | (1ull << 17) | (1ull << 18);	/* MAC, MRG_RXBUF, CTRL_VQ, CTRL_RX */
	case K_BAL: return (1ull << 1) | (1ull << 5);				/* STATS_VQ, PAGE_REPORTING */
	default: return 0;
	}
}

static uint64_t read_host_features(struct dev *d)
{
	w32(d, d->common + CC_DFSELECT, 0);
	uint64_t f = r32(d, d->common + CC_DF);
	w32(d, d->common + CC_DFSELECT, 1);
	return f | (uint64_t)r32(d, d->common + CC_DF) << 32;
}

static void write_features(struct dev *d, uint64_t f)
{
	w32(d, d->common + CC_GFSELECT, 0);
	w32(d, d->common + CC_GF, (uint32_t)f);
	w32(d, d->common + CC_GFSELECT, 1);
	w32(d, d->common + CC_GF, (uint32_t)(f >> 32));
}

static void queue_layout(struct dev *d, uint16_t i, uint16_t size)
{
	struct vq *q = &d->q[i];
	uint8_t *base = d->mem + (size_t)i * 4096;

	memset(base, 0, 4096);
	q->size = size;
	q->desc = (volatile struct desc *)base;
	q->avail = (volatile uint16_t *)(base + 1024);
	q->used = base + 2048;
	q->desc_pa = d->mem_pa + (uint64_t)i * 4096;
	q->avail_pa = q->desc_pa + 1024;
	q->used_pa = q->desc_pa + 2048;
	q->avail_idx = q->used_seen = q->dnext = 0;
	if (i == 0)
		memset(d->rxbuf, 0, sizeof(d->rxbuf));
}

/* Selects queue i and programs its size and rings (not yet enabled). */
static void queue_program(struct dev *d, uint16_t i)
{
	struct vq *q = &d->q[i];
	uint16_t max;

	w16(d, d->common + CC_QSELECT, i);
	max = r16(d, d->common + CC_QSIZE);
	queue_layout(d, i, max && max < QSZ ? max : QSZ);
	w16(d, d->common + CC_QSIZE, q->size);
	w16(d, d->common + CC_QMSIX, 0xffff);
	w64(d, d->common + CC_QDESC, q->desc_pa);
	w64(d, d->common + CC_QAVAIL, q->avail_pa);
	w64(d, d->common + CC_QUSED, q->used_pa);
	q->notify_off = r16(d, d->common + CC_QNOTIFY);
}

static void queue_enable(struct dev *d, uint16_t i)
{
	w16(d, d->common + CC_QSELECT, i);
	w16(d, d->common + CC_QENABLE, 1);
}

/* Up to FEATURES_OK: reset, ACK, DRIVER, features.  0 or -1. */
static int dev_start(struct dev *d, uint64_t features)
{
	if (dev_reset(d))
		return -1;
	d->bump = BUF_BASE;
	set_status(d, ST_ACK);
	set_status(d, ST_ACK | ST_DRIVER);
	d->host_features = read_host_features(d);
	d->features = features;
	write_features(d, features);
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	if (!(status(d) & ST_FEATURES_OK))
		return -1;
	d->nq = r16(d, d->common + CC_NUMQ);
	if (d->nq > MAXQ)
		d->nq = MAXQ;
	return 0;
}

static uint64_t default_features(struct dev *d)
{
	uint64_t host = read_host_features(d);

	return host & (F_VERSION_1 | F_INDIRECT | wanted_features(d->kind));
}

/* A complete, correct initialisation: 0, or -1 if the device would not start. */
static int dev_init(struct dev *d)
{
	uint16_t i;

	if (dev_reset(d))
		return -1;
	if (dev_start(d, default_features(d)))
		return -1;
	for (i = 0; i < d->nq; i++) {
		queue_program(d, i);
		queue_enable(d, i);
	}
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	if (status(d) & ST_NEEDS_RESET)
		return -1;
	switch (d->kind) {
	case K_BLK:
		d->blk_capacity = r32(d, d->devcfg) | (uint64_t)r32(d, d->devcfg + 4) << 32;
		d->mainq = 0;
		break;
	case K_NET:
		for (i = 0; i < 6; i++)
			d->mac[i] = r8(d, d->devcfg + i);
		d->mainq = 1;
		break;
	case K_SCSI:
		d->scsi_sense = r32(d, d->devcfg + 20);
		d->scsi_cdb = r32(d, d->devcfg + 24);
		if (d->scsi_cdb > 64 || d->scsi_cdb < 16)
			d->scsi_cdb = 32;
		if (d->scsi_sense > 256)
			d->scsi_sense = 96;
		d->mainq = 2;
		break;
	case K_CON:
		d->mainq = 1;
		break;
	default:
		d->mainq = 0;
		break;
	}
	return 0;
}

/* ---- good requests, one per device; post_good() posts, check_good() waits and checks ---- */
struct pending { uint16_t qi, head; void *data, *stat; uint16_t rxq_head[2]; void *rx[2]; };

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static size_t arp_request(struct dev *d, uint8_t *f)
{
	static const uint8_t spa[4] = { 10, 0, 2, 15 }, tpa[4] = { 10, 0, 2, 2 };

	memcpy(f, bcast, 6);
	memcpy(f + 6, d->mac, 6);
	f[12] = 0x08; f[13] = 0x06;
	f[14] = 0; f[15] = 1; f[16] = 0x08; f[17] = 0; f[18] = 6; f[19] = 4; f[20] = 0; f[21] = 1;
	memcpy(f + 22, d->mac, 6);
	memcpy(f + 28, spa, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, tpa, 4);
	return 42;
}

/* blk: an IN request header (type, reserved, sector). */
static void *blk_hdr(struct dev *d, uint32_t type, uint64_t sector, uint64_t *pa)
{
	uint8_t *h = balloc(d, 16, pa);

	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	return h;
}

/* scsi: a command request (lun, id, attr, prio, crn, cdb[cdb_size]). */
static uint8_t *scsi_req(struct dev *d, const uint8_t *cdb, size_t cdblen, uint64_t *pa, uint32_t *len)
{
	uint8_t *r;

	*len = 19 + d->scsi_cdb;
	r = balloc(d, *len, pa);
	r[0] = 1; r[1] = 0; r[2] = 0x40; r[3] = 0;	/* target 0, LUN 0 (flat) */
	memcpy(r + 19, cdb, cdblen < d->scsi_cdb ? cdblen : d->scsi_cdb);
	return r;
}

static int post_good(struct dev *d, struct pending *p)
{
	uint64_t pa, pa2, pa3;
	struct buf b[3];
	uint32_t len;
	uint8_t *x;

	memset(p, 0, sizeof(*p));
	switch (d->kind) {
	case K_BLK:
		blk_hdr(d, 0, 7, &pa);
		p->data = balloc(d, 512, &pa2);
		p->stat = balloc(d, 1, &pa3);
		*(uint8_t *)p->stat = 0xee;
		b[0] = (struct buf){ pa, 16, 0 };
		b[1] = (struct buf){ pa2, 512, D_WRITE };
		b[2] = (struct buf){ pa3, 1, D_WRITE };
		p->qi = 0;
		p->head = post(d, 0, b, 3);
		return 0;
	case K_SCSI: {
		static const uint8_t read10[10] = { 0x28, 0, 0, 0, 0, 16, 0, 0, 1, 0 };

		scsi_req(d, read10, 10, &pa, &len);
		b[0] = (struct buf){ pa, len, 0 };
		p->stat = balloc(d, 12 + d->scsi_sense, &pa2);
		b[1] = (struct buf){ pa2, 12 + d->scsi_sense, D_WRITE };
		p->data = balloc(d, 2048, &pa3);
		b[2] = (struct buf){ pa3, 2048, D_WRITE };
		p->qi = 2;
		p->head = post(d, 2, b, 3);
		return 0;
	}
	case K_NET: {
		int i;

		for (i = 0; i < 2; i++) {
			p->rx[i] = balloc(d, 2048, &pa);
			b[0] = (struct buf){ pa, 2048, D_WRITE };
			p->rxq_head[i] = post(d, 0, b, 1);
			d->rxbuf[p->rxq_head[i] % QSZ] = p->rx[i];
		}
		x = balloc(d, 12 + 64, &pa);
		len = (uint32_t)arp_request(d, x + 12);
		b[0] = (struct buf){ pa, 12 + len, 0 };
		p->qi = 1;
		p->head = post(d, 1, b, 1);
		return 0;
	}
	case K_CON: {
		static const char msg[] = "HOSTILE-CONSOLE-LIVE\n";

		x = balloc(d, sizeof(msg), &pa);
		memcpy(x, msg, sizeof(msg) - 1);
		b[0] = (struct buf){ pa, sizeof(msg) - 1, 0 };
		p->qi = 1;
		p->head = post(d, 1, b, 1);
		return 0;
	}
	case K_RNG:
		p->data = balloc(d, 64, &pa);
		b[0] = (struct buf){ pa, 64, D_WRITE };
		p->qi = 0;
		p->head = post(d, 0, b, 1);
		return 0;
	case K_BAL: {
		uint32_t pfn = (uint32_t)((d->mem_pa + BALLOON_PAGE_OFF) >> 12);

		x = balloc(d, 4, &pa);
		memcpy(x, &pfn, 4);
		b[0] = (struct buf){ pa, 4, 0 };
		p->qi = 0;
		p->head = post(d, 0, b, 1);
		return 0;
	}
	default:
		return -1;
	}
}

static const char *live_why;

/* 0 the good request was served correctly, -1 not (live_why says why), -2 NEEDS_RESET seen. */
static int check_good(struct dev *d, struct pending *p)
{
	uint32_t len = 0;
	int r = wait_used(d, p->qi, p->head, GOOD_WAIT_MS, &len);
	char want[32];

	if (r == -2) { live_why = "NEEDS_RESET during the good request"; return -2; }
	if (r == 0) { live_why = "no completion"; return -1; }
	switch (d->kind) {
	case K_BLK:
		snprintf(want, sizeof(want), "HOSTILE-SECTOR-%08u", 7);
		if (*(uint8_t *)p->stat != 0) { live_why = "blk status not OK"; return -1; }
		if (memcmp(p->data, want, strlen(want))) { live_why = "blk sector 7 data wrong"; return -1; }
		return 0;
	case K_SCSI: {
		uint8_t *resp = p->stat, *data = p->data;

		if (resp[11] != 0) { live_why = "scsi response not OK"; return -1; }
		if (resp[10] != 0) { live_why = "scsi status not GOOD"; return -3; }	/* retried once */
		if (memcmp(data + 1, "CD001", 5)) { live_why = "scsi block 16 is not the ISO's volume descriptor"; return -1; }
		return 0;
	}
	case K_NET: {
		uint64_t pa;
		int i;
		uint8_t *x;
		struct buf b;

		/*
		 * TX came back; now the ARP reply from 10.0.2.2 in any RX buffer (those a
		 * case posted before ours are filled first).
		 */
		for (i = 0;; i++) {
			uint16_t id;

			r = wait_any(d, 0, GOOD_WAIT_MS, &id, &len);
			if (r == -2) { live_why = "NEEDS_RESET while receiving"; return -2; }
			if (r == 0) { live_why = "no ARP reply received"; return -1; }
			x = d->rxbuf[id % QSZ];
			if (!x || id >= d->q[0].size)
				continue;
			x += 12;
			if (len >= 12 + 42 && x[12] == 0x08 && x[13] == 0x06 && x[21] == 2 &&
			    x[28] == 10 && x[29] == 0 && x[30] == 2 && x[31] == 2)
				break;
		}
		if (!(d->features & (1ull << 18)))
			return 0;
		/* The control queue: RX_PROMISC on, ack must be OK (0). */
		x = balloc(d, 4, &pa);
		x[0] = 0; x[1] = 0; x[2] = 1; x[3] = 0xee;
		struct buf cb[3] = { { pa, 2, 0 }, { pa + 2, 1, 0 }, { pa + 3, 1, D_WRITE } };
		uint16_t ctrlq = (uint16_t)(d->nq - 1);
		uint16_t h = post(d, ctrlq, cb, 3);
		(void)b;
		r = wait_used(d, ctrlq, h, GOOD_WAIT_MS, &len);
		if (r == -2) { live_why = "NEEDS_RESET on the control queue"; return -2; }
		if (r == 0) { live_why = "control queue: no answer"; return -1; }
		if (x[3] != 0) { live_why = "control queue: PROMISC not acked"; return -1; }
		return 0;
	}
	case K_RNG: {
		const uint8_t *x = p->data;
		unsigned int i, nz = 0;

		if (len == 0 || len > 64) { live_why = "rng: bad used length"; return -1; }
		for (i = 0; i < len; i++)
			nz += x[i] != 0;
		if (!nz) { live_why = "rng: only zero bytes"; return -1; }
		return 0;
	}
	case K_BAL: {
		/* Inflated; now deflate the same page. */
		uint32_t pfn = (uint32_t)((d->mem_pa + BALLOON_PAGE_OFF) >> 12);
		uint64_t pa;
		uint8_t *x = balloc(d, 4, &pa);
		struct buf b = { pa, 4, 0 };
		uint16_t h;

		memcpy(x, &pfn, 4);
		h = post(d, 1, &b, 1);
		r = wait_used(d, 1, h, GOOD_WAIT_MS, &len);
		if (r == -2) { live_why = "NEEDS_RESET on deflate"; return -2; }
		if (r == 0) { live_why = "deflate: no completion"; return -1; }
		return 0;
	}
	default:
		return 0;
	}
}

static int liveness(struct dev *d)
{
	struct pending p;
	int r, tries;

	for (tries = 0; tries < 2; tries++) {
		if (post_good(d, &p))
			return -1;
		r = check_good(d, &p);
		if (r != -3)
			return r;
	}
	return -1;
}

/* ---- the cases ---- */
enum verdict { V_HANDLED, V_NEEDS_RESET, V_SILENT, V_FAILED, V_SKIPPED, V_NR };
static const char *const verdict_names[V_NR] = { "handled", "NEEDS_RESET", "silent-stop", "VMM-FAILED", "skipped" };

struct hcase {
	const char *name;
	int kind;		/* -1: every device */
	const char *what;
	int (*fn)(struct dev *d);	/* 0 played, 1 not applicable (skipped) */
};

/* Waits for a case's chain a little: the device may complete it, refuse it, or ignore it. */
static void settle(struct dev *d, uint16_t qi, uint16_t head)
{
	wait_used(d, qi, head, CASE_WAIT_MS, NULL);
}

/* A readable or writable chain the main queue of each device expects, for variations. */
static uint32_t main_dir(struct dev *d)
{
	switch (d->kind) {
	case K_RNG: return D_WRITE;
	default: return 0;	/* blk/scsi start with a readable header; net/console/balloon TX are readable */
	}
}

static uint64_t scratch(struct dev *d, uint32_t n)
{
	uint64_t pa;

	balloc(d, n, &pa);
	return pa;
}

/* -- descriptor and ring violations (every device, on its main queue) -- */
static int c_self_loop(struct dev *d)
{
	struct vq *q = &d->q[d->mainq];
	uint16_t h = 5;

	q->desc[h] = (struct desc){ scratch(d, 64), 64, (uint16_t)(D_NEXT | main_dir(d)), h };
	make_avail(d, d->mainq, h);
	notify(d, d->mainq);
	settle(d, d->mainq, h);
	return 0;
}

static int c_two_loop(struct dev *d)
{
	struct vq *q = &d->q[d->mainq];

	q->desc[5] = (struct desc){ scratch(d, 64), 64, (uint16_t)(D_NEXT | main_dir(d)), 6 };
	q->desc[6] = (struct desc){ scratch(d, 64), 64, (uint16_t)(D_NEXT | main_dir(d)), 5 };
	make_avail(d, d->mainq, 5);
	notify(d, d->mainq);
	settle(d, d->mainq, 5);
	return 0;
}

static int c_long_chain_loop(struct dev *d)
{
	struct vq *q = &d->q[d->mainq];
	uint16_t i;

	/* every descriptor chained, the last back to the first: a loop of queue size */
	for (i = 0; i < q->size; i++)
		q->desc[i] = (struct desc){ scratch(d, 16), 16, (uint16_t)(D_NEXT | main_dir(d)),
					    (uint16_t)((i + 1) % q->size) };
	make_avail(d, d->mainq, 0);
	notify(d, d->mainq);
	settle(d, d->mainq, 0);
	return 0;
}

static int post_head_raw(struct dev *d, uint16_t head)
{
	struct vq *q = &d->q[d->mainq];

	avail_ring(q)[q->avail_idx % q->size] = head;
	mb();
	q->avail_idx++;
	q->avail[1] = q->avail_idx;
	notify(d, d->mainq);
	settle(d, d->mainq, head);
	return 0;
}

static int c_head_oob(struct dev *d) { return post_head_raw(d, (uint16_t)(d->q[d->mainq].size + 3)); }
static int c_head_ffff(struct dev *d) { return post_head_raw(d, 0xffff); }

static int c_next_oob(struct dev *d)
{
	struct vq *q = &d->q[d->mainq];

	q->desc[2] = (struct desc){ scratch(d, 64), 64, (uint16_t)(D_NEXT | main_dir(d)), 200 };
	return post_head_raw(d, 2);
}

static int one_desc(struct dev *d, uint64_t addr, uint32_t len, uint16_t flags)
{
	struct vq *q = &d->q[d->mainq];

	q->desc[3] = (struct desc){ addr, len, flags, 0 };
	return post_head_raw(d, 3);
}

static int c_buf_beyond_ram(struct dev *d) { return one_desc(d, 0x4000000000ull, 512, (uint16_t)main_dir(d)); }
static int c_buf_after_ram_end(struct dev *d) { return one_desc(d, ram_end - 256, 512, (uint16_t)main_dir(d)); }
static int c_buf_addr_wraps(struct dev *d) { return one_desc(d, 0xfffffffffffff000ull, 0x2000, (uint16_t)main_dir(d)); }
static int c_buf_len_ffffffff(struct dev *d) { return one_desc(d, d->mem_pa + BUF_BASE, 0xffffffffu, (uint16_t)main_dir(d)); }
static int c_buf_zero_len(struct dev *d) { return one_desc(d, scratch(d, 64), 0, (uint16_t)main_dir(d)); }
static int c_buf_in_own_bar(struct dev *d) { return one_desc(d, d->bar_pa, 64, D_WRITE); }
static int c_buf_from_own_bar(struct dev *d) { return one_desc(d, d->bar_pa + d->common, 56, 0); }
static int c_buf_in_notify(struct dev *d) { return one_desc(d, d->bar_pa + d->notify, 64, D_WRITE); }
static int c_buf_in_rom(struct dev *d) { return one_desc(d, 0xf0000, 512, D_WRITE); }
static int c_buf_from_rom(struct dev *d) { return one_desc(d, 0xf0000, 512, 0); }
static int c_buf_in_vga_hole(struct dev *d) { return one_desc(d, 0xa0000, 4096, D_WRITE); }
static int c_buf_in_other_bar(struct dev *d)
{
	int k;

	for (k = 0; k < K_NR; k++)
		if (have[k] && &devs[k] != d)
			return one_desc(d, devs[k].bar_pa + devs[k].common, 56, D_WRITE);
	return 1;
}
static int c_buf_in_msix_bar(struct dev *d)
{
	char path[256], buf[512];
	unsigned long long s0, e0, f0, s1 = 0;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", d->bdf);
	if (read_file(path, buf, sizeof(buf)) ||
	    sscanf(buf, "%llx %llx %llx %llx", &s0, &e0, &f0, &s1) != 4 || !s1)
		return 1;
	return one_desc(d, s1, 64, D_WRITE);
}

static int c_len_overflow(struct dev *d)
{
	/* Nine writable buffers of 480 MiB inside RAM: 4.2 GiB in total (does not fit used.len). */
	struct buf b[9];
	unsigned int i;
	uint64_t len = 0x1e000000, at = 0x1000000;

	if (ram_end < at + len)
		return 1;
	for (i = 0; i < 9; i++)
		b[i] = (struct buf){ at, (uint32_t)len, D_WRITE };
	uint16_t h = post(d, d->mainq, b, 9);
	settle(d, d->mainq, h);
	return 0;
}

static int c_order(struct dev *d)
{
	struct buf b[2] = { { scratch(d, 64), 64, D_WRITE }, { scratch(d, 64), 64, 0 } };
	uint16_t h = post(d, d->mainq, b, 2);

	settle(d, d->mainq, h);
	return 0;
}

static int indirect(struct dev *d, const struct desc *t, unsigned int n, uint32_t tlen_override, uint64_t tpa_override)
{
	uint64_t tpa;
	struct desc *tab = balloc(d, n * sizeof(*t) + 16, &tpa);
	struct buf b;

	memcpy(tab, t, n * sizeof(*t));
	b.pa = tpa_override ? tpa_override : tpa;
	b.len = tlen_override ? tlen_override : (uint32_t)(n * sizeof(*t));
	b.flags = D_INDIRECT;
	uint16_t h = post(d, d->mainq, &b, 1);
	settle(d, d->mainq, h);
	return 0;
}

static int c_ind_nested(struct dev *d)
{
	uint64_t inner;
	struct desc *it = balloc(d, 16, &inner);

	*it = (struct desc){ scratch(d, 64), 64, (uint16_t)main_dir(d), 0 };
	struct desc t[1] = { { inner, 16, D_INDIRECT, 0 } };
	return indirect(d, t, 1, 0, 0);
}

static int c_ind_with_next(struct dev *d)
{
	struct vq *q = &d->q[d->mainq];
	uint64_t tpa;
	struct desc *t = balloc(d, 16, &tpa);

	*t = (struct desc){ scratch(d, 64), 64, (uint16_t)main_dir(d), 0 };
	q->desc[7] = (struct desc){ tpa, 16, D_INDIRECT | D_NEXT, 8 };
	q->desc[8] = (struct desc){ scratch(d, 64), 64, (uint16_t)main_dir(d), 0 };
	return post_head_raw(d, 7);
}

static int c_ind_len_zero(struct dev *d)
{
	struct vq *q = &d->q[d->mainq];

	q->desc[9] = (struct desc){ scratch(d, 16), 0, D_INDIRECT, 0 };
	return post_head_raw(d, 9);
}

static int c_ind_len_odd(struct dev *d)
{
	struct desc t[2] = { { scratch(d, 64), 64, (uint16_t)(main_dir(d) | D_NEXT), 1 },
			     { scratch(d, 64), 64, (uint16_t)main_dir(d), 0 } };

	return indirect(d, t, 2, 17, 0);
}

static int c_ind_beyond_ram(struct dev *d)
{
	struct desc t[1] = { { scratch(d, 64), 64, 0, 0 } };

	return indirect(d, t, 1, 16, 0x4000000000ull);
}

static int c_ind_in_own_bar(struct dev *d)
{
	struct desc t[1] = { { scratch(d, 64), 64, 0, 0 } };

	return indirect(d, t, 1, 64, d->bar_pa);
}

static int c_ind_huge(struct dev *d)
{
	/* a table of 0x10000 entries: more than any chain may hold */
	struct desc t[1] = { { scratch(d, 64), 64, (uint16_t)main_dir(d), 0 } };

	return indirect(d, t, 1, 0x100000, 0);
}

static int c_ind_loop(struct dev *d)
{
	struct desc t[2] = { { scratch(d, 64), 64, (uint16_t)(main_dir(d) | D_NEXT), 1 },
			     { scratch(d, 64), 64, (uint16_t)(main_dir(d) | D_NEXT), 0 } };

	return indirect(d, t, 2, 0, 0);
}

static int c_ind_next_oob(struct dev *d)
{
	struct desc t[2] = { { scratch(d, 64), 64, (uint16_t)(main_dir(d) | D_NEXT), 7 },
			     { scratch(d, 64), 64, (uint16_t)main_dir(d), 0 } };

	return indirect(d, t, 2, 0, 0);
}

static int c_ind_without_feature(struct dev *d)
{
	/* INDIRECT used although the driver did not negotiate it: a fresh start without it */
	uint16_t i;
	uint64_t f = default_features(d) & ~F_INDIRECT;

	if (dev_start(d, f))
		return 0;
	for (i = 0; i < d->nq; i++) {
		queue_program(d, i);
		queue_enable(d, i);
	}
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	struct desc t[1] = { { scratch(d, 64), 64, (uint16_t)main_dir(d), 0 } };
	return indirect(d, t, 1, 0, 0);
}

static int c_avail_jump(struct dev *d)
{
	struct vq *q = &d->q[d->mainq];

	q->avail_idx = (uint16_t)(q->avail_idx + q->size + 1);
	q->avail[1] = q->avail_idx;
	notify(d, d->mainq);
	settle(d, d->mainq, 0xffff);
	return 0;
}

static int c_avail_backwards(struct dev *d)
{
	struct pending p;
	struct vq *q = &d->q[d->mainq];

	/* one good request served, then avail->idx steps back by one */
	post_good(d, &p);
	check_good(d, &p);
	q->avail[1] = (uint16_t)(q->avail_idx - 1);
	notify(d, d->mainq);
	settle(d, d->mainq, 0xffff);
	q->avail[1] = q->avail_idx;
	return 0;
}

static int c_avail_ffff_then_back(struct dev *d)
{
	struct vq *q = &d->q[d->mainq];

	/* avail->idx moves by 0x8000 and back before the device looks again */
	q->avail[1] = (uint16_t)(q->avail_idx + 0x8000);
	notify(d, d->mainq);
	q->avail[1] = q->avail_idx;
	notify(d, d->mainq);
	settle(d, d->mainq, 0xffff);
	return 0;
}

static int c_dup_head_in_flight(struct dev *d)
{
	struct pending p;

	/*
	 * One chain made available twice before one notification: the device takes
	 * the second copy while the first may still be in flight (blk, scsi).
	 */
	hold_notify = true;
	post_good(d, &p);
	hold_notify = false;
	if (p.qi != d->mainq)
		return 1;
	make_avail(d, d->mainq, p.head);
	notify(d, d->mainq);
	settle(d, d->mainq, p.head);
	settle(d, d->mainq, p.head);
	return 0;
}

static int c_dup_head_shrunk(struct dev *d)
{
	struct pending p;
	struct vq *q = &d->q[d->mainq];
	uint16_t h;

	/*
	 * A head re-posted, with a smaller chain, while the device may still hold the
	 * first: its completion then claims more bytes than the second chain has.
	 */
	post_good(d, &p);
	if (p.qi != d->mainq)
		return 1;
	usleep(500);
	h = p.head;
	if (q->desc[h].flags & D_NEXT) {
		uint16_t last = q->desc[h].next;

		while (q->desc[last].flags & D_NEXT)
			last = q->desc[last].next;
		q->desc[h].next = last;	/* the middle (data) buffers dropped */
	} else {
		q->desc[h].len = 1;
	}
	make_avail(d, d->mainq, h);
	notify(d, d->mainq);
	settle(d, d->mainq, h);
	settle(d, d->mainq, h);
	return 0;
}

static int c_desc_rewritten(struct dev *d)
{
	struct pending p;
	struct vq *q = &d->q[d->mainq];

	/* the descriptor changes under the device right after the notify */
	post_good(d, &p);
	if (p.qi != d->mainq)
		return 1;
	q->desc[p.head].addr = 0x4000000000ull;
	q->desc[p.head].flags ^= D_NEXT;
	settle(d, d->mainq, p.head);
	return 0;
}

static int c_ring_full_flood(struct dev *d)
{
	struct vq *q = &d->q[d->mainq];
	uint16_t i, h = 0;
	uint64_t pa = scratch(d, 64);

	/* every descriptor made available at once, pointing at one 64-byte buffer */
	for (i = 0; i < q->size; i++) {
		q->desc[i] = (struct desc){ pa, 64, (uint16_t)main_dir(d), 0 };
		avail_ring(q)[(uint16_t)(q->avail_idx + i) % q->size] = i;
	}
	mb();
	q->avail_idx = (uint16_t)(q->avail_idx + q->size);
	q->avail[1] = q->avail_idx;
	q->dnext = 0;
	notify(d, d->mainq);
	for (i = 0; i < q->size; i++)
		h = i;
	settle(d, d->mainq, h);
	msleep(200);
	return 0;
}

static int c_notify_storm(struct dev *d)
{
	unsigned int i;

	for (i = 0; i < 2000; i++)
		notify(d, d->mainq);
	return 0;
}

static int c_notify_bad_queue(struct dev *d)
{
	/* notifications naming queues that do not exist, at and beyond the notify area */
	w16(d, d->notify + (uint32_t)d->q[d->mainq].notify_off * d->notify_mult, 0x7fff);
	w16(d, d->notify + 0x100, 3);
	w32(d, d->notify, 0xffffffffu);
	w8(d, d->notify + 1, 9);
	return 0;
}

static int c_used_scribbled(struct dev *d)
{
	struct vq *q = &d->q[d->mainq];

	/* the driver writes the device's used ring: flags and an element */
	*(volatile uint16_t *)q->used = 0xffff;
	*(volatile uint32_t *)(q->used + 4) = 0xdeadbeef;
	return 0;
}

/* -- queue configuration abuse (a fresh start; the main queue configured wrongly) -- */
static int queue_abuse(struct dev *d, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
	uint16_t i;

	if (dev_start(d, default_features(d)))
		return 0;
	for (i = 0; i < d->nq; i++) {
		queue_program(d, i);
		if (i == d->mainq) {
			w16(d, d->common + CC_QSIZE, size);
			if (desc != 1)
				w64(d, d->common + CC_QDESC, desc);
			if (avail != 1)
				w64(d, d->common + CC_QAVAIL, avail);
			if (used != 1)
				w64(d, d->common + CC_QUSED, used);
		}
		queue_enable(d, i);
	}
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	notify(d, d->mainq);
	return 0;
}

static int c_q_size0(struct dev *d) { return queue_abuse(d, 0, 1, 1, 1); }
static int c_q_size3(struct dev *d) { return queue_abuse(d, 3, 1, 1, 1); }
static int c_q_size_huge(struct dev *d) { return queue_abuse(d, 0x8000, 1, 1, 1); }
static int c_q_desc_misaligned(struct dev *d) { return queue_abuse(d, QSZ, d->mem_pa + d->mainq * 4096 + 8, 1, 1); }
static int c_q_avail_odd(struct dev *d) { return queue_abuse(d, QSZ, 1, d->mem_pa + d->mainq * 4096 + 1025, 1); }
static int c_q_used_misaligned(struct dev *d) { return queue_abuse(d, QSZ, 1, 1, d->mem_pa + d->mainq * 4096 + 2050); }
static int c_q_desc_beyond_ram(struct dev *d) { return queue_abuse(d, QSZ, 0x4000000000ull, 1, 1); }
static int c_q_desc_straddles_ram_end(struct dev *d) { return queue_abuse(d, QSZ, ram_end - 512, 1, 1); }
static int c_q_used_in_own_bar(struct dev *d) { return queue_abuse(d, QSZ, 1, 1, d->bar_pa); }
static int c_q_avail_in_rom(struct dev *d) { queue_abuse(d, QSZ, 1, 0xf0000, 1); return 2; }
static int c_q_desc_wraps(struct dev *d) { return queue_abuse(d, QSZ, 0xfffffffffffffc00ull, 1, 1); }
static int c_q_rings_overlap(struct dev *d)
{
	/* desc, avail and used at one address */
	uint64_t a = d->mem_pa + d->mainq * 4096;

	return queue_abuse(d, QSZ, a, a, a);
}

static int c_q_select_oob(struct dev *d)
{
	/* per-queue registers of queue 0xffff and of nq: read, written, enabled */
	uint16_t sel[2] = { 0xffff, d->nq };
	int i;

	for (i = 0; i < 2; i++) {
		w16(d, d->common + CC_QSELECT, sel[i]);
		(void)r16(d, d->common + CC_QSIZE);
		(void)r16(d, d->common + CC_QNOTIFY);
		w16(d, d->common + CC_QSIZE, 16);
		w64(d, d->common + CC_QDESC, 0x4000000000ull);
		w16(d, d->common + CC_QENABLE, 1);
	}
	notify(d, d->mainq);
	return 0;
}

static int c_q_rewrite_after_enable(struct dev *d)
{
	/* a live queue's size and addresses rewritten, then QUEUE_ENABLE 0 (forbidden) */
	w16(d, d->common + CC_QSELECT, d->mainq);
	w16(d, d->common + CC_QSIZE, 2);
	w64(d, d->common + CC_QDESC, 0);
	w64(d, d->common + CC_QUSED, d->bar_pa);
	w16(d, d->common + CC_QENABLE, 0);
	w16(d, d->common + CC_QENABLE, 1);
	return 0;
}

static int c_q_enable_before_features(struct dev *d)
{
	uint16_t i;

	/* queues set up and enabled before FEATURES_OK (§3.1.1 order broken) */
	if (dev_reset(d))
		return 0;
	set_status(d, ST_ACK | ST_DRIVER);
	d->nq = r16(d, d->common + CC_NUMQ);
	if (d->nq > MAXQ)
		d->nq = MAXQ;
	for (i = 0; i < d->nq; i++) {
		queue_program(d, i);
		queue_enable(d, i);
	}
	write_features(d, default_features(d));
	d->features = default_features(d);
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	return 0;
}

static int c_q_not_enabled_notify(struct dev *d)
{
	uint16_t i;

	/* requests posted and notified on a queue never enabled */
	if (dev_start(d, default_features(d)))
		return 0;
	for (i = 0; i < d->nq; i++) {
		queue_program(d, i);
		if (i != d->mainq)
			queue_enable(d, i);
	}
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	struct buf b = { scratch(d, 64), 64, (uint16_t)main_dir(d) };
	post(d, d->mainq, &b, 1);
	msleep(50);
	return 2;
}

static int c_q_vectors_bogus(struct dev *d)
{
	/* MSI-X vectors that do not exist, MSI-X off */
	w16(d, d->common + CC_MSIX, 0x7ff);
	w16(d, d->common + CC_QSELECT, d->mainq);
	w16(d, d->common + CC_QMSIX, 0xfffe);
	return 0;
}

static int c_q_size4(struct dev *d)
{
	queue_abuse(d, 4, 1, 1, 1);
	d->q[d->mainq].size = 4;	/* legal: this driver now uses 4 entries */
	return 0;
}

/* -- status and feature games -- */
static int c_driver_ok_without_features_ok(struct dev *d)
{
	if (dev_reset(d))
		return 0;
	set_status(d, ST_ACK | ST_DRIVER);
	set_status(d, ST_ACK | ST_DRIVER | ST_DRIVER_OK);
	return 0;
}

static int c_features_not_offered(struct dev *d)
{
	if (dev_reset(d))
		return 0;
	set_status(d, ST_ACK | ST_DRIVER);
	write_features(d, default_features(d) | (1ull << 63) | (1ull << 40));
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	return 0;
}

static int c_no_version_1(struct dev *d)
{
	if (dev_reset(d))
		return 0;
	set_status(d, ST_ACK | ST_DRIVER);
	write_features(d, default_features(d) & ~F_VERSION_1);
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	return 0;
}

static int c_clear_driver_ok_mid_io(struct dev *d)
{
	struct pending p;

	post_good(d, &p);
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	settle(d, p.qi, p.head);
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	return 0;
}

static int c_clear_features_ok_mid_io(struct dev *d)
{
	struct pending p;

	post_good(d, &p);
	set_status(d, ST_ACK | ST_DRIVER);
	write_features(d, F_VERSION_1);
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	settle(d, p.qi, p.head);
	return 0;
}

static int c_reset_mid_io(struct dev *d)
{
	struct pending p;
	int i;

	/* requests in flight, then reset and a full re-initialisation, twice */
	for (i = 0; i < 2; i++) {
		post_good(d, &p);
		post_good(d, &p);
		set_status(d, 0);
		if (dev_init(d))
			return 0;
	}
	return 0;
}

static int c_features_after_features_ok(struct dev *d)
{
	write_features(d, ~0ull);
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	return 0;
}

static int c_status_ff(struct dev *d)
{
	set_status(d, 0xff);
	return 0;
}

static int c_status_failed(struct dev *d)
{
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK | ST_FAILED);
	return 0;
}

static int c_status_needs_reset_by_driver(struct dev *d)
{
	set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK | ST_NEEDS_RESET);
	return 0;
}

static int c_driver_ok_twice(struct dev *d)
{
	/* DRIVER_OK written again and again while I/O runs */
	struct pending p;
	int i;

	post_good(d, &p);
	for (i = 0; i < 50; i++)
		set_status(d, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	settle(d, p.qi, p.head);
	return 0;
}

static int c_common_widths(struct dev *d)
{
	uint32_t off;

	/* every common-config offset read with widths 1, 2, 4; byte writes into 16/32-bit fields */
	for (off = 0; off < 0x40; off++) {
		(void)r8(d, d->common + off);
		if (!(off & 1))
			(void)r16(d, d->common + off);
		if (!(off & 3))
			(void)r32(d, d->common + off);
	}
	w8(d, d->common + CC_QSELECT, 0xff);
	w8(d, d->common + CC_QSELECT + 1, 0xff);
	w8(d, d->common + CC_NUMQ, 7);
	w32(d, (d->common + CC_STATUS) & ~3u, 0xffffffffu);
	w16(d, d->common + CC_STATUS, 0x0f0f);
	w32(d, d->common + 0x38, 0xffffffff);
	w32(d, d->common + 0xffc, 0xffffffff);
	return 0;
}

static int c_isr_games(struct dev *d)
{
	unsigned int i;

	for (i = 0; i < 100; i++)
		(void)r8(d, d->isr);
	w8(d, d->isr, 0xff);
	w32(d, d->isr, 0xffffffffu);
	(void)r32(d, d->isr);
	return 0;
}

static int c_devcfg_scribble(struct dev *d)
{
	uint32_t off;

	/* device config read everywhere, written everywhere except console emerg_wr */
	for (off = 0; off < 0x100; off += 4) {
		(void)r32(d, d->devcfg + off);
		(void)r8(d, d->devcfg + off + 3);
		if (d->kind == K_CON && off == 8)
			continue;
		w32(d, d->devcfg + off, 0xa5a5a5a5u);
		w8(d, d->devcfg + off + 1, 0x5a);
	}
	(void)r32(d, d->devcfg + 0xffc);
	w32(d, d->devcfg + 0xffc, 0);
	if (d->kind == K_SCSI) {
		/* sense_size and cdb_size are the driver's to write: it now uses what it wrote back */
		w32(d, d->devcfg + 20, d->scsi_sense);
		w32(d, d->devcfg + 24, d->scsi_cdb);
	}
	return 0;
}

static int c_config_generation(struct dev *d)
{
	unsigned int i;

	for (i = 0; i < 200; i++)
		(void)r8(d, d->common + CC_GEN);
	w8(d, d->common + CC_GEN, 0x55);
	return 0;
}

static int c_mem_decode_toggle(struct dev *d)
{
	struct pending p;
	uint32_t cmd = cfg_read(d, 4, 2);

	/* memory decoding off and on with a request in flight */
	post_good(d, &p);
	cfg_write(d, 4, cmd & ~2u, 2);
	cfg_write(d, 4, cmd, 2);
	settle(d, p.qi, p.head);
	return 0;
}

static int c_bus_master_off(struct dev *d)
{
	struct pending p;
	uint32_t cmd = cfg_read(d, 4, 2);

	cfg_write(d, 4, cmd & ~4u, 2);
	post_good(d, &p);
	settle(d, p.qi, p.head);
	cfg_write(d, 4, cmd, 2);
	notify(d, p.qi);
	return 0;
}

static int c_bar_moves_onto_other(struct dev *d)
{
	uint32_t old = cfg_read(d, 0x10 + 4 * d->barno, 4);
	int k;

	/* BAR 0 moved onto another device's BAR 0 (the notify ioeventfds collide), then back */
	for (k = 0; k < K_NR; k++)
		if (have[k] && &devs[k] != d)
			break;
	if (k == K_NR)
		return 1;
	cfg_write(d, 0x10 + 4 * d->barno, (uint32_t)devs[k].bar_pa, 4);
	notify(&devs[k], devs[k].mainq);
	cfg_write(d, 0x10 + 4 * d->barno, old, 4);
	return 0;
}

static int c_bar_sizing_mid_io(struct dev *d)
{
	struct pending p;
	uint32_t old = cfg_read(d, 0x10 + 4 * d->barno, 4);

	/* BAR sizing (all ones) while a request is in flight, then the old value back */
	post_good(d, &p);
	cfg_write(d, 0x10 + 4 * d->barno, 0xffffffffu, 4);
	(void)cfg_read(d, 0x10 + 4 * d->barno, 4);
	cfg_write(d, 0x10 + 4 * d->barno, old, 4);
	settle(d, p.qi, p.head);
	return 0;
}

static int c_msix_table_garbage(struct dev *d)
{
	char path[256], buf[512];
	unsigned long long s0, e0, f0, s1 = 0, e1 = 0;
	int fd;
	uint8_t *t;

	/* the MSI-X table filled with garbage and MSI-X enabled: vectors to nowhere */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", d->bdf);
	if (read_file(path, buf, sizeof(buf)) ||
	    sscanf(buf, "%llx %llx %llx %llx %llx", &s0, &e0, &f0, &s1, &e1) != 5 || !s1)
		return 1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource1", d->bdf);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		return 1;
	t = mmap(NULL, e1 - s1 + 1, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (t == MAP_FAILED)
		return 1;
	for (unsigned int i = 0; i < 16 * 4; i++)
		((volatile uint32_t *)t)[i] = 0xdeadbeefu ^ (i * 0x01010101u);
	mb();
	/* find the MSI-X capability and set Enable (bit 15 of message control) */
	uint8_t p = (uint8_t)cfg_read(d, 0x34, 1);
	unsigned int guard = 0;
	while (p && guard++ < 48) {
		if (cfg_read(d, p, 1) == 0x11) {
			uint32_t mc = cfg_read(d, p + 2u, 2);
			w16(d, d->common + CC_MSIX, 0);
			w16(d, d->common + CC_QSELECT, d->mainq);
			struct pending pp;
			cfg_write(d, p + 2u, mc | 0x8000, 2);
			post_good(d, &pp);
			settle(d, pp.qi, pp.head);
			/* unmasked garbage, then masked, then MSI-X off again */
			cfg_write(d, p + 2u, (mc | 0x4000) & ~0x8000u, 2);
			cfg_write(d, p + 2u, mc & ~0xc000u, 2);
			break;
		}
		p = (uint8_t)cfg_read(d, p + 1u, 1);
	}
	munmap(t, e1 - s1 + 1);
	return 0;
}

/* -- device-specific requests -- */
static int blk_req(struct dev *d, uint32_t type, uint64_t sector, uint32_t hdrlen, uint64_t data_pa,
		   uint32_t dlen, uint16_t dflags, uint32_t statlen, uint16_t statflags)
{
	uint64_t hpa, spa;
	struct buf b[3];
	unsigned int n = 0;

	blk_hdr(d, type, sector, &hpa);
	balloc(d, statlen ? statlen : 1, &spa);
	if (hdrlen)
		b[n++] = (struct buf){ hpa, hdrlen, 0 };
	if (dlen)
		b[n++] = (struct buf){ data_pa, dlen, dflags };
	if (statlen)
		b[n++] = (struct buf){ spa, statlen, statflags };
	uint16_t h = post(d, 0, b, n);
	settle(d, 0, h);
	return 0;
}

static int c_blk_beyond_capacity(struct dev *d) { return blk_req(d, 0, d->blk_capacity, 16, scratch(d, 512), 512, D_WRITE, 1, D_WRITE); }
static int c_blk_crossing_end(struct dev *d) { return blk_req(d, 1, d->blk_capacity - 1, 16, scratch(d, 1024), 1024, 0, 1, D_WRITE); }
static int c_blk_sector_wraps(struct dev *d) { return blk_req(d, 0, ~0ull, 16, scratch(d, 1024), 1024, D_WRITE, 1, D_WRITE); }
static int c_blk_len_not_512(struct dev *d) { return blk_req(d, 0, 8, 16, scratch(d, 100), 100, D_WRITE, 1, D_WRITE); }
static int c_blk_status_readable(struct dev *d) { return blk_req(d, 0, 8, 16, scratch(d, 512), 512, D_WRITE, 1, 0); }
static int c_blk_no_status(struct dev *d) { return blk_req(d, 0, 8, 16, scratch(d, 512), 512, D_WRITE, 0, 0); }
static int c_blk_short_header(struct dev *d) { return blk_req(d, 0, 8, 8, 0, 0, 0, 1, D_WRITE); }
static int c_blk_unknown_type(struct dev *d) { return blk_req(d, 0x1234, 8, 16, scratch(d, 512), 512, D_WRITE, 1, D_WRITE); }
static int c_blk_get_id_short(struct dev *d) { return blk_req(d, 8, 0, 16, scratch(d, 4), 4, D_WRITE, 1, D_WRITE); }
static int c_blk_flush_with_data(struct dev *d) { return blk_req(d, 4, 0, 16, scratch(d, 512), 512, 0, 1, D_WRITE); }
static int c_blk_write_readonly_dir(struct dev *d) { return blk_req(d, 1, 100, 16, scratch(d, 512), 512, D_WRITE, 1, D_WRITE); }
static int c_blk_in_with_readable_data(struct dev *d) { return blk_req(d, 0, 100, 16, scratch(d, 512), 512, 0, 1, D_WRITE); }
static int c_blk_read_into_common_cfg(struct dev *d) { return blk_req(d, 0, 0, 16, d->bar_pa + d->common, 512, D_WRITE, 1, D_WRITE); }
static int c_blk_read_into_rom(struct dev *d) { return blk_req(d, 0, 0, 16, 0xf0000, 512, D_WRITE, 1, D_WRITE); }
static int c_blk_write_from_bar(struct dev *d) { return blk_req(d, 1, 100, 16, d->bar_pa, 512, 0, 1, D_WRITE); }
static int c_blk_read_into_desc_table(struct dev *d) { return blk_req(d, 0, 0, 16, d->q[0].desc_pa, 1024, D_WRITE, 1, D_WRITE); }
static int c_blk_read_bigger_than_disk(struct dev *d) { return blk_req(d, 0, 0, 16, 0x1000000, 0x1e000000, D_WRITE, 1, D_WRITE); }
static int c_blk_status_long(struct dev *d) { return blk_req(d, 0, 9, 16, scratch(d, 512), 512, D_WRITE, 64, D_WRITE); }

static int blk_discard(struct dev *d, uint32_t type, uint64_t sector, uint32_t nsec, uint32_t flags, uint32_t seglen, unsigned int nseg)
{
	uint64_t spa;
	uint8_t *s = balloc(d, (size_t)nseg * 16 + 16, &spa);
	unsigned int i;

	for (i = 0; i < nseg; i++) {
		memcpy(s + i * 16, &sector, 8);
		memcpy(s + i * 16 + 8, &nsec, 4);
		memcpy(s + i * 16 + 12, &flags, 4);
	}
	return blk_req(d, type, 0, 16, spa, seglen ? seglen : nseg * 16, 0, 1, D_WRITE);
}

static int c_blk_discard_beyond(struct dev *d) { return blk_discard(d, 11, d->blk_capacity - 1, 0xffffffffu, 0, 0, 1); }
static int c_blk_discard_bad_flags(struct dev *d) { return blk_discard(d, 11, 200, 8, 0xffffffffu, 0, 1); }
static int c_blk_discard_seg_len(struct dev *d) { return blk_discard(d, 11, 200, 8, 0, 15, 1); }
static int c_blk_discard_many_segs(struct dev *d) { return blk_discard(d, 11, 200, 8, 0, 0, 4000); }
static int c_blk_wzeroes_wraps(struct dev *d) { return blk_discard(d, 13, ~0ull - 3, 8, 1, 0, 1); }

/* scsi: a command on the request queue, with data-in of dlen (or data-out when dout) */
static int scsi_cmd(struct dev *d, const uint8_t *cdb, size_t cdblen, uint8_t lun0, uint8_t target, uint32_t reqlen_override,
		    uint32_t resplen, uint64_t data_pa, uint32_t dlen, bool dout, uint16_t qi)
{
	uint64_t rpa, spa;
	uint32_t rlen;
	uint8_t *r = scsi_req(d, cdb, cdblen, &rpa, &rlen);
	struct buf b[4];
	unsigned int n = 0;

	r[0] = lun0;
	r[1] = target;
	balloc(d, resplen ? resplen : 1, &spa);
	b[n++] = (struct buf){ rpa, reqlen_override ? reqlen_override : rlen, 0 };
	if (dout && dlen)
		b[n++] = (struct buf){ data_pa, dlen, 0 };
	if (resplen)
		b[n++] = (struct buf){ spa, resplen, D_WRITE };
	if (!dout && dlen)
		b[n++] = (struct buf){ data_pa, dlen, D_WRITE };
	uint16_t h = post(d, qi, b, n);
	settle(d, qi, h);
	return 0;
}

#define RESP(d) (12 + (d)->scsi_sense)
static const uint8_t cdb_inquiry[6] = { 0x12, 0, 0, 0, 36, 0 };
static const uint8_t cdb_read10_16[10] = { 0x28, 0, 0, 0, 0, 16, 0, 0, 1, 0 };

static int c_scsi_bad_target(struct dev *d) { return scsi_cmd(d, cdb_inquiry, 6, 1, 5, 0, RESP(d), scratch(d, 36), 36, false, 2); }
static int c_scsi_bad_lun_format(struct dev *d) { return scsi_cmd(d, cdb_inquiry, 6, 0xff, 0, 0, RESP(d), scratch(d, 36), 36, false, 2); }
static int c_scsi_short_req(struct dev *d) { return scsi_cmd(d, cdb_inquiry, 6, 1, 0, 10, RESP(d), scratch(d, 36), 36, false, 2); }
static int c_scsi_cdb_short(struct dev *d) { return scsi_cmd(d, cdb_read10_16, 10, 1, 0, 19 + 4, RESP(d), scratch(d, 2048), 2048, false, 2); }
static int c_scsi_no_resp(struct dev *d) { return scsi_cmd(d, cdb_inquiry, 6, 1, 0, 0, 0, 0, 0, false, 2); }
static int c_scsi_resp_short(struct dev *d) { return scsi_cmd(d, cdb_inquiry, 6, 1, 0, 0, 4, scratch(d, 36), 36, false, 2); }
static int c_scsi_read_beyond(struct dev *d)
{
	static const uint8_t c[10] = { 0x28, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 1, 0 };
	return scsi_cmd(d, c, 10, 1, 0, 0, RESP(d), scratch(d, 2048), 2048, false, 2);
}
static int c_scsi_read16_wraps(struct dev *d)
{
	static const uint8_t c[16] = { 0x88, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 0, 0 };
	return scsi_cmd(d, c, 16, 1, 0, 0, RESP(d), scratch(d, 4096), 4096, false, 2);
}
static int c_scsi_read_len_vs_buffer(struct dev *d)
{
	static const uint8_t c[10] = { 0x28, 0, 0, 0, 0, 16, 0, 0xff, 0xff, 0 };
	return scsi_cmd(d, c, 10, 1, 0, 0, RESP(d), scratch(d, 2048), 2048, false, 2);
}
static int c_scsi_unknown_opcode(struct dev *d)
{
	static const uint8_t c[10] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	return scsi_cmd(d, c, 10, 1, 0, 0, RESP(d), scratch(d, 512), 512, false, 2);
}
static int c_scsi_write_to_cd(struct dev *d)
{
	static const uint8_t c[10] = { 0x2a, 0, 0, 0, 0, 16, 0, 0, 1, 0 };
	return scsi_cmd(d, c, 10, 1, 0, 0, RESP(d), scratch(d, 2048), 2048, true, 2);
}
static int c_scsi_read_with_dout(struct dev *d) { return scsi_cmd(d, cdb_read10_16, 10, 1, 0, 0, RESP(d), scratch(d, 2048), 2048, true, 2); }
static int c_scsi_report_luns_huge(struct dev *d)
{
	static const uint8_t c[12] = { 0xa0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0 };
	return scsi_cmd(d, c, 12, 1, 0, 0, RESP(d), scratch(d, 16), 16, false, 2);
}
static int c_scsi_mode_sense_all(struct dev *d)
{
	static const uint8_t c[10] = { 0x5a, 0, 0x3f, 0, 0, 0, 0, 0xff, 0xff, 0 };
	return scsi_cmd(d, c, 10, 1, 0, 0, RESP(d), scratch(d, 8), 8, false, 2);
}
static int c_scsi_read_toc_odd(struct dev *d)
{
	static const uint8_t c[10] = { 0x43, 0x02, 0x0f, 0, 0, 0, 0xaa, 0xff, 0xff, 0xc0 };
	return scsi_cmd(d, c, 10, 1, 0, 0, RESP(d), scratch(d, 4), 4, false, 2);
}
static int c_scsi_read_into_bar(struct dev *d) { return scsi_cmd(d, cdb_read10_16, 10, 1, 0, 0, RESP(d), d->bar_pa, 2048, false, 2); }
static int c_scsi_read_into_rom(struct dev *d) { return scsi_cmd(d, cdb_read10_16, 10, 1, 0, 0, RESP(d), 0xe0000, 2048, false, 2); }
static int c_scsi_resp_in_bar(struct dev *d)
{
	uint64_t rpa;
	uint32_t rlen;

	scsi_req(d, cdb_inquiry, 6, &rpa, &rlen);
	struct buf b[2] = { { rpa, rlen, 0 }, { d->bar_pa + d->common, RESP(d), D_WRITE } };
	uint16_t h = post(d, 2, b, 2);
	settle(d, 2, h);
	return 0;
}
static int c_scsi_tmf_bad(struct dev *d)
{
	uint64_t pa, rpa;
	uint8_t *t = balloc(d, 24, &pa);
	uint32_t type = 0, sub = 0xdeadbeef;

	memcpy(t, &type, 4);
	memcpy(t + 4, &sub, 4);
	t[8] = 1;
	balloc(d, 1, &rpa);
	struct buf b[2] = { { pa, 24, 0 }, { rpa, 1, D_WRITE } };
	uint16_t h = post(d, 0, b, 2);
	settle(d, 0, h);
	return 0;
}
static int c_scsi_ctrl_type_unknown(struct dev *d)
{
	uint64_t pa, rpa;
	uint8_t *t = balloc(d, 4, &pa);
	uint32_t type = 0x77777777;

	memcpy(t, &type, 4);
	balloc(d, 16, &rpa);
	struct buf b[2] = { { pa, 4, 0 }, { rpa, 16, D_WRITE } };
	uint16_t h = post(d, 0, b, 2);
	settle(d, 0, h);
	return 0;
}
static int c_scsi_an_short(struct dev *d)
{
	uint64_t pa;
	uint8_t *t = balloc(d, 8, &pa);
	uint32_t type = 1;	/* AN query */

	memcpy(t, &type, 4);
	struct buf b[1] = { { pa, 6, 0 } };
	uint16_t h = post(d, 0, b, 1);
	settle(d, 0, h);
	return 0;
}
static int c_scsi_event_readable(struct dev *d)
{
	struct buf b = { scratch(d, 16), 16, 0 };
	uint16_t h = post(d, 1, &b, 1);

	settle(d, 1, h);
	b = (struct buf){ scratch(d, 2), 2, D_WRITE };
	h = post(d, 1, &b, 1);
	settle(d, 1, h);
	return 0;
}

/* net */
static int net_tx(struct dev *d, const struct buf *b, unsigned int n)
{
	uint16_t h = post(d, 1, b, n);

	settle(d, 1, h);
	return 0;
}

static uint64_t net_frame(struct dev *d, uint16_t flags, uint8_t gso, uint16_t hdr_len, uint16_t gso_size,
			  uint16_t cs_start, uint16_t cs_off, uint32_t *len)
{
	uint64_t pa;
	uint8_t *x = balloc(d, 12 + 64, &pa);

	x[0] = (uint8_t)flags;
	x[1] = gso;
	memcpy(x + 2, &hdr_len, 2);
	memcpy(x + 4, &gso_size, 2);
	memcpy(x + 6, &cs_start, 2);
	memcpy(x + 8, &cs_off, 2);
	*len = 12 + (uint32_t)arp_request(d, x + 12);
	return pa;
}

static int c_net_hdr_only(struct dev *d)
{
	struct buf b = { scratch(d, 12), 12, 0 };
	return net_tx(d, &b, 1);
}
static int c_net_hdr_short(struct dev *d)
{
	struct buf b = { scratch(d, 12), 5, 0 };
	return net_tx(d, &b, 1);
}
static int c_net_oversized(struct dev *d)
{
	struct buf b[2] = { { scratch(d, 12), 12, 0 }, { scratch(d, 70000), 70000, 0 } };
	return net_tx(d, b, 2);
}
static int c_net_tiny_frame(struct dev *d)
{
	struct buf b[2] = { { scratch(d, 12), 12, 0 }, { scratch(d, 5), 5, 0 } };
	return net_tx(d, b, 2);
}
static int c_net_tx_writable(struct dev *d)
{
	uint32_t len;
	uint64_t pa = net_frame(d, 0, 0, 0, 0, 0, 0, &len);
	struct buf b[2] = { { pa, len, 0 }, { scratch(d, 64), 64, D_WRITE } };
	return net_tx(d, b, 2);
}
static int c_net_gso_not_negotiated(struct dev *d)
{
	uint32_t len;
	uint64_t pa = net_frame(d, 1, 1, 0xffff, 1, 0, 0, &len);
	struct buf b = { pa, len, 0 };
	return net_tx(d, &b, 1);
}
static int c_net_csum_out_of_frame(struct dev *d)
{
	uint32_t len;
	uint64_t pa = net_frame(d, 1, 0, 0, 0, 0xfff0, 0xfff0, &len);
	struct buf b = { pa, len, 0 };
	return net_tx(d, &b, 1);
}
static int c_net_gso_garbage(struct dev *d)
{
	uint32_t len;
	uint64_t pa = net_frame(d, 0xff, 0xff, 0, 0, 1, 0xffff, &len);
	struct buf b = { pa, len, 0 };
	return net_tx(d, &b, 1);
}
static int c_net_tx_from_bar(struct dev *d)
{
	struct buf b[2] = { { scratch(d, 12), 12, 0 }, { d->bar_pa, 60, 0 } };
	return net_tx(d, b, 2);
}
static int c_net_tx_from_rom(struct dev *d)
{
	struct buf b[2] = { { scratch(d, 12), 12, 0 }, { 0xf0000, 1500, 0 } };
	return net_tx(d, b, 2);
}
static int c_net_tx_many_frags(struct dev *d)
{
	/* a frame in 60 one-byte pieces */
	struct buf b[60];
	unsigned int i;
	uint64_t pa = scratch(d, 128);

	b[0] = (struct buf){ pa, 12, 0 };
	for (i = 1; i < 60; i++)
		b[i] = (struct buf){ pa + 12 + i, 1, 0 };
	return net_tx(d, b, 60);
}

static int net_ctrl(struct dev *d, uint8_t cls, uint8_t cmd, const void *data, uint32_t dlen, uint32_t acklen, uint16_t ackflags)
{
	uint64_t pa, dpa, apa;
	uint8_t *c = balloc(d, 2, &pa);
	struct buf b[3];
	unsigned int n = 0;
	uint16_t ctrlq = (uint16_t)(d->nq - 1);

	if (!(d->features & (1ull << 17)))
		return 1;
	c[0] = cls;
	c[1] = cmd;
	b[n++] = (struct buf){ pa, 2, 0 };
	if (dlen) {
		memcpy(balloc(d, dlen, &dpa), data, dlen);
		b[n++] = (struct buf){ dpa, dlen, 0 };
	}
	if (acklen) {
		balloc(d, acklen, &apa);
		b[n++] = (struct buf){ apa, acklen, ackflags };
	}
	uint16_t h = post(d, ctrlq, b, n);
	settle(d, ctrlq, h);
	return 0;
}

static int c_net_ctrl_unknown_class(struct dev *d) { uint8_t x = 1; return net_ctrl(d, 0x7f, 0x7f, &x, 1, 1, D_WRITE); }
static int c_net_ctrl_no_data(struct dev *d) { return net_ctrl(d, 0, 0, NULL, 0, 1, D_WRITE); }
static int c_net_ctrl_no_ack(struct dev *d) { uint8_t x = 1; return net_ctrl(d, 0, 0, &x, 1, 0, 0); }
static int c_net_ctrl_ack_readable(struct dev *d) { uint8_t x = 1; return net_ctrl(d, 0, 0, &x, 1, 1, 0); }
static int c_net_ctrl_mac_table_huge(struct dev *d)
{
	uint8_t x[16] = { 0xff, 0xff, 0xff, 0xff };	/* unicast entries: 0xffffffff */
	return net_ctrl(d, 1, 0, x, sizeof(x), 1, D_WRITE);
}
static int c_net_ctrl_mac_table_short(struct dev *d)
{
	uint8_t x[4 + 6 * 3 + 4] = { 70, 0, 0, 0 };	/* 70 entries announced, 3 given, then a count */
	return net_ctrl(d, 1, 0, x, sizeof(x), 1, D_WRITE);
}
static int c_net_ctrl_mac_addr_short(struct dev *d) { uint8_t x[3] = { 2, 0, 0 }; return net_ctrl(d, 1, 1, x, 3, 1, D_WRITE); }
static int c_net_ctrl_mq_pairs(struct dev *d) { uint16_t x = 0xffff; return net_ctrl(d, 4, 0, &x, 2, 1, D_WRITE); }
static int c_net_ctrl_offloads(struct dev *d) { uint64_t x = ~0ull; return net_ctrl(d, 5, 0, &x, 8, 1, D_WRITE); }
static int c_net_ctrl_promisc_long(struct dev *d) { uint8_t x[300] = { 1 }; return net_ctrl(d, 0, 0, x, sizeof(x), 1, D_WRITE); }
static int c_net_ctrl_ack_in_bar(struct dev *d)
{
	uint64_t pa;
	uint8_t *c = balloc(d, 3, &pa);
	uint16_t ctrlq = (uint16_t)(d->nq - 1);

	if (!(d->features & (1ull << 17)))
		return 1;
	c[0] = 0; c[1] = 0; c[2] = 1;
	struct buf b[2] = { { pa, 3, 0 }, { d->bar_pa + d->common + CC_STATUS, 1, D_WRITE } };
	uint16_t h = post(d, ctrlq, b, 2);
	settle(d, ctrlq, h);
	return 0;
}
static int c_net_rx_tiny(struct dev *d)
{
	struct pending p;
	struct buf b = { scratch(d, 4), 4, D_WRITE };

	/* an RX buffer smaller than the header first, then the usual ARP exchange */
	post(d, 0, &b, 1);
	post_good(d, &p);
	check_good(d, &p);
	return 0;
}
static int c_net_rx_readable(struct dev *d)
{
	struct pending p;
	struct buf b = { scratch(d, 2048), 2048, 0 };

	post(d, 0, &b, 1);
	post_good(d, &p);
	check_good(d, &p);
	return 0;
}
static int c_net_rx_in_bar(struct dev *d)
{
	struct pending p;
	struct buf b = { d->bar_pa, 2048, D_WRITE };

	post(d, 0, &b, 1);
	post_good(d, &p);
	check_good(d, &p);
	return 0;
}

/* balloon */
static int bal_pfns(struct dev *d, uint16_t qi, const uint32_t *pfn, unsigned int n, uint32_t len_override, uint16_t flags)
{
	uint64_t pa;
	uint32_t *x = balloc(d, (size_t)n * 4, &pa);
	struct buf b;

	memcpy(x, pfn, (size_t)n * 4);
	b = (struct buf){ pa, len_override ? len_override : n * 4, flags };
	uint16_t h = post(d, qi, &b, 1);
	settle(d, qi, h);
	return 0;
}

static uint32_t own_pfn(struct dev *d) { return (uint32_t)((d->mem_pa + BALLOON_PAGE_OFF) >> 12); }
static int c_bal_pfn_beyond(struct dev *d) { uint32_t p[2] = { 0xffffffffu, (uint32_t)(ram_end >> 12) }; return bal_pfns(d, 0, p, 2, 0, 0); }
static int c_bal_pfn_bar(struct dev *d) { uint32_t p[1] = { (uint32_t)(d->bar_pa >> 12) }; return bal_pfns(d, 0, p, 1, 0, 0); }
static int c_bal_pfn_rom(struct dev *d) { uint32_t p[2] = { 0xf0, 0xa0 }; return bal_pfns(d, 0, p, 2, 0, 0); }
static int c_bal_odd_len(struct dev *d) { uint32_t p[2] = { own_pfn(d), own_pfn(d) }; return bal_pfns(d, 0, p, 2, 6, 0); }
static int c_bal_writable(struct dev *d) { uint32_t p[1] = { own_pfn(d) }; return bal_pfns(d, 0, p, 1, 0, D_WRITE); }
static int c_bal_deflate_unknown(struct dev *d) { uint32_t p[1] = { own_pfn(d) - 1 }; return bal_pfns(d, 1, p, 1, 0, 0); }
static int c_bal_same_pfn_many(struct dev *d)
{
	static uint32_t p[70000];
	unsigned int i;

	for (i = 0; i < 70000; i++)
		p[i] = own_pfn(d);
	return bal_pfns(d, 0, p, 70000, 0, 0);
}
static int c_bal_stats_garbage(struct dev *d)
{
	uint64_t pa;
	uint8_t *x = balloc(d, 1000, &pa);
	struct buf b = { pa, 997, 0 };

	if (!(d->features & (1ull << 1)))
		return 1;
	memset(x, 0xff, 1000);
	uint16_t h = post(d, 2, &b, 1);
	settle(d, 2, h);
	b = (struct buf){ pa, 64, D_WRITE };
	h = post(d, 2, &b, 1);
	settle(d, 2, h);
	return 0;
}
static int c_bal_report_beyond(struct dev *d)
{
	struct buf b[2] = { { 0x4000000000ull, 0x200000, D_WRITE }, { ram_end - 4096, 0x100000, D_WRITE } };

	if (!(d->features & (1ull << 5)) || d->nq < 4)
		return 1;
	uint16_t h = post(d, 3, b, 2);
	settle(d, 3, h);
	return 0;
}
static int c_bal_report_readable(struct dev *d)
{
	struct buf b = { d->mem_pa + BALLOON_PAGE_OFF, 4096, 0 };

	if (!(d->features & (1ull << 5)) || d->nq < 4)
		return 1;
	uint16_t h = post(d, 3, &b, 1);
	settle(d, 3, h);
	return 0;
}
static int c_bal_report_bar(struct dev *d)
{
	struct buf b = { d->bar_pa, 4096, D_WRITE };

	if (!(d->features & (1ull << 5)) || d->nq < 4)
		return 1;
	uint16_t h = post(d, 3, &b, 1);
	settle(d, 3, h);
	return 0;
}

/* console */
static int c_con_tx_writable(struct dev *d)
{
	struct buf b = { scratch(d, 64), 64, D_WRITE };
	uint16_t h = post(d, 1, &b, 1);

	settle(d, 1, h);
	return 0;
}
static int c_con_tx_big(struct dev *d)
{
	uint64_t pa;
	uint8_t *x = balloc(d, 256 << 10, &pa);
	struct buf b = { pa, 256 << 10, 0 };

	memset(x, '.', 256 << 10);
	for (size_t i = 127; i < (256u << 10); i += 128)
		x[i] = '\n';
	uint16_t h = post(d, 1, &b, 1);
	settle(d, 1, h);
	wait_used(d, 1, h, 5000, NULL);
	return 0;
}
static int c_con_rx_readable(struct dev *d)
{
	struct buf b = { scratch(d, 64), 64, 0 };
	uint16_t h = post(d, 0, &b, 1);

	settle(d, 0, h);
	return 0;
}
static int c_con_rx_in_bar(struct dev *d)
{
	struct buf b = { d->bar_pa, 64, D_WRITE };
	uint16_t h = post(d, 0, &b, 1);

	settle(d, 0, h);
	return 0;
}
static int c_con_emerg_wr(struct dev *d)
{
	w32(d, d->devcfg + 8, 'E');
	w8(d, d->devcfg + 8, '\n');
	w32(d, d->devcfg + 8, 0xffffffffu);
	return 0;
}
static int c_con_tx_flood(struct dev *d)
{
	struct vq *q = &d->q[1];
	uint64_t pa;
	char *x = balloc(d, 64, &pa);
	uint16_t i;

	memcpy(x, "HOSTILE-FLOOD\n", 14);
	for (i = 0; i < q->size; i++) {
		q->desc[i] = (struct desc){ pa, 14, 0, 0 };
		avail_ring(q)[(uint16_t)(q->avail_idx + i) % q->size] = i;
	}
	mb();
	q->avail_idx = (uint16_t)(q->avail_idx + q->size);
	q->avail[1] = q->avail_idx;
	q->dnext = 0;
	notify(d, 1);
	settle(d, 1, (uint16_t)(q->size - 1));
	return 0;
}

/* rng */
static int c_rng_ffffffff(struct dev *d)
{
	/* the request QEMU 7.2 aborts on: 0xffffffff bytes, from a valid address */
	struct buf b = { 0x1000000, 0xffffffffu, D_WRITE };
	uint16_t h = post(d, 0, &b, 1);

	settle(d, 0, h);
	return 0;
}
static int c_rng_indirect_bytes(struct dev *d)
{
	/* 64 one-byte writable buffers in an indirect table (legal) */
	struct desc t[64];
	uint64_t pa = scratch(d, 64);
	unsigned int i;

	for (i = 0; i < 64; i++)
		t[i] = (struct desc){ pa + i, 1, (uint16_t)(D_WRITE | (i < 63 ? D_NEXT : 0)), (uint16_t)(i + 1) };
	return indirect(d, t, 64, 0, 0);
}

static int c_rng_readable(struct dev *d)
{
	struct buf b = { scratch(d, 64), 64, 0 };
	uint16_t h = post(d, 0, &b, 1);

	settle(d, 0, h);
	return 0;
}
static int c_rng_big_valid(struct dev *d)
{
	struct buf b = { scratch(d, 1 << 20), 1 << 20, D_WRITE };
	uint16_t h = post(d, 0, &b, 1);

	wait_used(d, 0, h, 3000, NULL);
	return 0;
}
static int c_rng_mixed(struct dev *d)
{
	struct buf b[2] = { { scratch(d, 16), 16, 0 }, { scratch(d, 16), 16, D_WRITE } };
	uint16_t h = post(d, 0, b, 2);

	settle(d, 0, h);
	return 0;
}

#define ALL (-1)
static const struct hcase cases[] = {
	/* ring and descriptor violations, on every device's main queue */
	{ "desc-self-loop", ALL, "a descriptor whose next is itself", c_self_loop },
	{ "desc-two-loop", ALL, "two descriptors pointing at each other", c_two_loop },
	{ "desc-ring-loop", ALL, "the whole table chained into one loop", c_long_chain_loop },
	{ "head-out-of-range", ALL, "an avail entry naming head size+3", c_head_oob },
	{ "head-0xffff", ALL, "an avail entry naming head 0xffff", c_head_ffff },
	{ "next-out-of-range", ALL, "next = 200 in a table of 64", c_next_oob },
	{ "buf-beyond-ram", ALL, "a buffer at 256 GiB", c_buf_beyond_ram },
	{ "buf-straddles-ram-end", ALL, "a buffer across the end of RAM", c_buf_after_ram_end },
	{ "buf-addr-wraps", ALL, "addr 0xfffffffffffff000 len 0x2000 (wraps 2^64)", c_buf_addr_wraps },
	{ "buf-len-ffffffff", ALL, "a buffer of 0xffffffff bytes", c_buf_len_ffffffff },
	{ "buf-zero-len", ALL, "a zero-length buffer", c_buf_zero_len },
	{ "dma-into-own-bar", ALL, "a writable buffer on the device's own common config", c_buf_in_own_bar },
	{ "dma-from-own-bar", ALL, "a readable buffer on the device's own common config", c_buf_from_own_bar },
	{ "dma-into-own-notify", ALL, "a writable buffer on the device's notify area", c_buf_in_notify },
	{ "dma-into-other-bar", ALL, "a writable buffer on another device's BAR 0", c_buf_in_other_bar },
	{ "dma-into-msix-bar", ALL, "a writable buffer on the device's MSI-X table", c_buf_in_msix_bar },
	{ "dma-into-rom", ALL, "a writable buffer at 0xf0000 (BIOS area)", c_buf_in_rom },
	{ "dma-from-rom", ALL, "a readable buffer at 0xf0000 (BIOS area)", c_buf_from_rom },
	{ "dma-into-vga-hole", ALL, "a writable buffer at 0xa0000", c_buf_in_vga_hole },
	{ "len-overflow", ALL, "nine 480 MiB buffers: 4.2 GiB writable", c_len_overflow },
	{ "writable-then-readable", ALL, "a readable descriptor after a writable one", c_order },
	{ "indirect-in-indirect", ALL, "an indirect table naming another", c_ind_nested },
	{ "indirect-with-next", ALL, "INDIRECT and NEXT on one descriptor", c_ind_with_next },
	{ "indirect-len-zero", ALL, "an indirect table of 0 bytes", c_ind_len_zero },
	{ "indirect-len-17", ALL, "an indirect table of 17 bytes", c_ind_len_odd },
	{ "indirect-beyond-ram", ALL, "an indirect table at 256 GiB", c_ind_beyond_ram },
	{ "indirect-in-own-bar", ALL, "an indirect table on the device's BAR", c_ind_in_own_bar },
	{ "indirect-huge", ALL, "an indirect table of 65536 entries", c_ind_huge },
	{ "indirect-loop", ALL, "a loop inside an indirect table", c_ind_loop },
	{ "indirect-next-oob", ALL, "next beyond the indirect table", c_ind_next_oob },
	{ "indirect-not-negotiated", ALL, "INDIRECT without VIRTIO_F_INDIRECT_DESC", c_ind_without_feature },
	{ "avail-idx-jump", ALL, "avail->idx moved by size+1", c_avail_jump },
	{ "avail-idx-backwards", ALL, "avail->idx stepped back after a request", c_avail_backwards },
	{ "avail-idx-flicker", ALL, "avail->idx +0x8000 and back", c_avail_ffff_then_back },
	{ "head-reposted-in-flight", ALL, "one head made available twice", c_dup_head_in_flight },
	{ "head-reposted-shrunk", ALL, "a head re-posted with a shorter chain, maybe in flight", c_dup_head_shrunk },
	{ "desc-rewritten-after-notify", ALL, "the descriptor changes under the device", c_desc_rewritten },
	{ "ring-full-flood", ALL, "every descriptor made available at once", c_ring_full_flood },
	{ "notify-storm", ALL, "2000 notifications of an idle queue", c_notify_storm },
	{ "notify-bad-queue", ALL, "notifications naming queues that do not exist", c_notify_bad_queue },
	{ "used-ring-scribbled", ALL, "the driver writes the used ring", c_used_scribbled },
	/* queue configuration abuse */
	{ "queue-size-0", ALL, "QUEUE_SIZE 0, then enabled", c_q_size0 },
	{ "queue-size-3", ALL, "QUEUE_SIZE 3 (not a power of 2)", c_q_size3 },
	{ "queue-size-0x8000", ALL, "QUEUE_SIZE above the maximum", c_q_size_huge },
	{ "queue-size-4", ALL, "QUEUE_SIZE 4 (legal, smaller than offered)", c_q_size4 },
	{ "queue-desc-misaligned", ALL, "descriptor table at +8", c_q_desc_misaligned },
	{ "queue-avail-odd", ALL, "avail ring at an odd address", c_q_avail_odd },
	{ "queue-used-misaligned", ALL, "used ring at +2", c_q_used_misaligned },
	{ "queue-desc-beyond-ram", ALL, "descriptor table at 256 GiB", c_q_desc_beyond_ram },
	{ "queue-desc-straddles-ram-end", ALL, "descriptor table across the end of RAM", c_q_desc_straddles_ram_end },
	{ "queue-desc-wraps", ALL, "descriptor table at 2^64 - 1024", c_q_desc_wraps },
	{ "queue-used-in-own-bar", ALL, "used ring on the device's BAR", c_q_used_in_own_bar },
	{ "queue-avail-in-rom", ALL, "avail ring at 0xf0000", c_q_avail_in_rom },
	{ "queue-rings-overlap", ALL, "desc, avail and used at one address", c_q_rings_overlap },
	{ "queue-select-out-of-range", ALL, "queue 0xffff and nq programmed and enabled", c_q_select_oob },
	{ "queue-rewritten-live", ALL, "a live queue's size/addresses rewritten, enable 0", c_q_rewrite_after_enable },
	{ "queue-enabled-before-features", ALL, "queues enabled before FEATURES_OK", c_q_enable_before_features },
	{ "queue-never-enabled", ALL, "requests notified on a queue never enabled", c_q_not_enabled_notify },
	{ "queue-vectors-bogus", ALL, "MSI-X vectors that do not exist", c_q_vectors_bogus },
	/* status and configuration games */
	{ "driver-ok-without-features-ok", ALL, "DRIVER_OK with FEATURES_OK never set", c_driver_ok_without_features_ok },
	{ "features-not-offered", ALL, "bits 40 and 63 accepted", c_features_not_offered },
	{ "features-without-version-1", ALL, "a legacy driver on a modern device", c_no_version_1 },
	{ "clear-driver-ok-mid-io", ALL, "DRIVER_OK cleared with a request in flight", c_clear_driver_ok_mid_io },
	{ "clear-features-ok-mid-io", ALL, "FEATURES_OK cleared, features rewritten, in flight", c_clear_features_ok_mid_io },
	{ "reset-mid-io", ALL, "reset with requests in flight, twice", c_reset_mid_io },
	{ "features-after-features-ok", ALL, "all feature bits written after FEATURES_OK", c_features_after_features_ok },
	{ "status-0xff", ALL, "status 0xff written", c_status_ff },
	{ "status-failed", ALL, "FAILED set on a live device", c_status_failed },
	{ "status-needs-reset-by-driver", ALL, "the driver sets NEEDS_RESET itself", c_status_needs_reset_by_driver },
	{ "driver-ok-repeated", ALL, "DRIVER_OK written 50 times during I/O", c_driver_ok_twice },
	{ "common-cfg-widths", ALL, "odd widths and offsets in common config", c_common_widths },
	{ "isr-games", ALL, "ISR read 100 times and written", c_isr_games },
	{ "device-cfg-scribble", ALL, "device config read and written everywhere", c_devcfg_scribble },
	{ "config-generation", ALL, "config_generation read 200 times, written", c_config_generation },
	{ "mem-decode-toggle", ALL, "memory decoding off/on mid-I/O", c_mem_decode_toggle },
	{ "bus-master-off", ALL, "a request with bus mastering off", c_bus_master_off },
	{ "bar-onto-other-device", ALL, "BAR 0 moved onto another device's, then back", c_bar_moves_onto_other },
	{ "bar-sizing-mid-io", ALL, "BAR 0 sized while a request is in flight", c_bar_sizing_mid_io },
	{ "msix-table-garbage", ALL, "MSI-X on with a garbage table", c_msix_table_garbage },
	/* virtio-blk */
	{ "blk-beyond-capacity", K_BLK, "read of sector = capacity", c_blk_beyond_capacity },
	{ "blk-write-crossing-end", K_BLK, "a 2-sector write at capacity-1", c_blk_crossing_end },
	{ "blk-sector-wraps", K_BLK, "read at sector 2^64-1", c_blk_sector_wraps },
	{ "blk-len-not-512", K_BLK, "a 100-byte read", c_blk_len_not_512 },
	{ "blk-status-readable", K_BLK, "the status byte device-readable", c_blk_status_readable },
	{ "blk-no-status", K_BLK, "no status descriptor", c_blk_no_status },
	{ "blk-short-header", K_BLK, "an 8-byte header", c_blk_short_header },
	{ "blk-unknown-type", K_BLK, "request type 0x1234", c_blk_unknown_type },
	{ "blk-get-id-4-bytes", K_BLK, "GET_ID into 4 bytes", c_blk_get_id_short },
	{ "blk-flush-with-data", K_BLK, "FLUSH with a data buffer", c_blk_flush_with_data },
	{ "blk-write-writable-data", K_BLK, "OUT with a device-writable data buffer", c_blk_write_readonly_dir },
	{ "blk-read-readable-data", K_BLK, "IN with a device-readable data buffer", c_blk_in_with_readable_data },
	{ "blk-dma-into-common-cfg", K_BLK, "read into its own common config (reported to hang QEMU 7.2)", c_blk_read_into_common_cfg },
	{ "blk-read-into-rom", K_BLK, "read into 0xf0000", c_blk_read_into_rom },
	{ "blk-write-from-bar", K_BLK, "write from its own BAR", c_blk_write_from_bar },
	{ "blk-read-into-desc-table", K_BLK, "read over its own descriptor table", c_blk_read_into_desc_table },
	{ "blk-read-bigger-than-disk", K_BLK, "a 480 MiB read", c_blk_read_bigger_than_disk },
	{ "blk-status-64-bytes", K_BLK, "a 64-byte status buffer", c_blk_status_long },
	{ "blk-discard-beyond", K_BLK, "DISCARD of 2^32-1 sectors at the end", c_blk_discard_beyond },
	{ "blk-discard-bad-flags", K_BLK, "DISCARD with every flag set", c_blk_discard_bad_flags },
	{ "blk-discard-15-bytes", K_BLK, "DISCARD with a 15-byte segment", c_blk_discard_seg_len },
	{ "blk-discard-4000-segments", K_BLK, "DISCARD of 4000 segments", c_blk_discard_many_segs },
	{ "blk-write-zeroes-wraps", K_BLK, "WRITE_ZEROES at 2^64-4", c_blk_wzeroes_wraps },
	/* virtio-scsi */
	{ "scsi-bad-target", K_SCSI, "INQUIRY to target 5", c_scsi_bad_target },
	{ "scsi-bad-lun-format", K_SCSI, "lun[0] = 0xff", c_scsi_bad_lun_format },
	{ "scsi-short-request", K_SCSI, "a 10-byte request header", c_scsi_short_req },
	{ "scsi-short-cdb", K_SCSI, "a 4-byte CDB area", c_scsi_cdb_short },
	{ "scsi-no-response", K_SCSI, "no response buffer", c_scsi_no_resp },
	{ "scsi-short-response", K_SCSI, "a 4-byte response buffer", c_scsi_resp_short },
	{ "scsi-read-beyond", K_SCSI, "READ(10) at LBA 0x7fffffff", c_scsi_read_beyond },
	{ "scsi-read16-wraps", K_SCSI, "READ(16) at LBA 2^64-1", c_scsi_read16_wraps },
	{ "scsi-read-len-vs-buffer", K_SCSI, "READ(10) of 65535 blocks into 2 KiB", c_scsi_read_len_vs_buffer },
	{ "scsi-unknown-opcode", K_SCSI, "opcode 0xff", c_scsi_unknown_opcode },
	{ "scsi-write-to-cd", K_SCSI, "WRITE(10) to the CD", c_scsi_write_to_cd },
	{ "scsi-read-with-data-out", K_SCSI, "READ(10) with a data-out buffer", c_scsi_read_with_dout },
	{ "scsi-report-luns-huge", K_SCSI, "REPORT LUNS allocating 4 GiB", c_scsi_report_luns_huge },
	{ "scsi-mode-sense-all", K_SCSI, "MODE SENSE(10) 0x3f into 8 bytes", c_scsi_mode_sense_all },
	{ "scsi-read-toc-odd", K_SCSI, "READ TOC with odd fields", c_scsi_read_toc_odd },
	{ "scsi-read-into-bar", K_SCSI, "READ(10) into its own BAR", c_scsi_read_into_bar },
	{ "scsi-read-into-rom", K_SCSI, "READ(10) into 0xe0000", c_scsi_read_into_rom },
	{ "scsi-response-in-bar", K_SCSI, "the response buffer on its common config", c_scsi_resp_in_bar },
	{ "scsi-tmf-bad", K_SCSI, "TMF subtype 0xdeadbeef", c_scsi_tmf_bad },
	{ "scsi-ctrl-type-unknown", K_SCSI, "control request type 0x77777777", c_scsi_ctrl_type_unknown },
	{ "scsi-an-short", K_SCSI, "AN query of 6 bytes, no response", c_scsi_an_short },
	{ "scsi-event-bad-buffers", K_SCSI, "event queue: readable and 2-byte buffers", c_scsi_event_readable },
	/* virtio-net */
	{ "net-tx-header-only", K_NET, "TX of a bare virtio-net header", c_net_hdr_only },
	{ "net-tx-header-short", K_NET, "TX of 5 bytes", c_net_hdr_short },
	{ "net-tx-70000-bytes", K_NET, "TX of a 70000-byte frame", c_net_oversized },
	{ "net-tx-tiny-frame", K_NET, "TX of a 5-byte frame", c_net_tiny_frame },
	{ "net-tx-writable", K_NET, "TX with a writable descriptor", c_net_tx_writable },
	{ "net-tx-gso-not-negotiated", K_NET, "TSO4 header without the feature", c_net_gso_not_negotiated },
	{ "net-tx-csum-out-of-frame", K_NET, "NEEDS_CSUM beyond the frame", c_net_csum_out_of_frame },
	{ "net-tx-header-garbage", K_NET, "flags and gso_type 0xff", c_net_gso_garbage },
	{ "net-tx-from-bar", K_NET, "a frame read from its own BAR", c_net_tx_from_bar },
	{ "net-tx-from-rom", K_NET, "a frame read from 0xf0000", c_net_tx_from_rom },
	{ "net-tx-60-fragments", K_NET, "a frame in 60 pieces", c_net_tx_many_frags },
	{ "net-ctrl-unknown-class", K_NET, "control class 0x7f", c_net_ctrl_unknown_class },
	{ "net-ctrl-no-data", K_NET, "RX_PROMISC without its byte", c_net_ctrl_no_data },
	{ "net-ctrl-no-ack", K_NET, "no ack buffer", c_net_ctrl_no_ack },
	{ "net-ctrl-ack-readable", K_NET, "the ack buffer device-readable", c_net_ctrl_ack_readable },
	{ "net-ctrl-mac-table-huge", K_NET, "MAC_TABLE_SET of 2^32-1 entries", c_net_ctrl_mac_table_huge },
	{ "net-ctrl-mac-table-short", K_NET, "MAC_TABLE_SET announcing 70, giving 3", c_net_ctrl_mac_table_short },
	{ "net-ctrl-mac-addr-short", K_NET, "MAC_ADDR_SET of 3 bytes", c_net_ctrl_mac_addr_short },
	{ "net-ctrl-mq-pairs", K_NET, "VQ_PAIRS_SET 0xffff without MQ", c_net_ctrl_mq_pairs },
	{ "net-ctrl-offloads", K_NET, "GUEST_OFFLOADS_SET all ones", c_net_ctrl_offloads },
	{ "net-ctrl-promisc-long", K_NET, "RX_PROMISC with 300 bytes", c_net_ctrl_promisc_long },
	{ "net-ctrl-ack-in-bar", K_NET, "the ack written to its own status register", c_net_ctrl_ack_in_bar },
	{ "net-rx-tiny-buffer", K_NET, "a 4-byte RX buffer before good ones", c_net_rx_tiny },
	{ "net-rx-readable-buffer", K_NET, "a device-readable RX buffer", c_net_rx_readable },
	{ "net-rx-into-bar", K_NET, "an RX buffer on its own BAR", c_net_rx_in_bar },
	/* virtio-balloon */
	{ "balloon-pfn-beyond-ram", K_BAL, "inflate PFN 0xffffffff and the end of RAM", c_bal_pfn_beyond },
	{ "balloon-pfn-own-bar", K_BAL, "inflate the PFN of its own BAR", c_bal_pfn_bar },
	{ "balloon-pfn-rom", K_BAL, "inflate 0xf0000 and 0xa0000", c_bal_pfn_rom },
	{ "balloon-odd-length", K_BAL, "inflate list of 6 bytes", c_bal_odd_len },
	{ "balloon-writable-list", K_BAL, "inflate list device-writable", c_bal_writable },
	{ "balloon-deflate-unknown", K_BAL, "deflate a page never inflated", c_bal_deflate_unknown },
	{ "balloon-70000-same-pfn", K_BAL, "one PFN 70000 times", c_bal_same_pfn_many },
	{ "balloon-stats-garbage", K_BAL, "997 bytes of 0xff stats, then a writable buffer", c_bal_stats_garbage },
	{ "balloon-report-beyond-ram", K_BAL, "free page report beyond RAM", c_bal_report_beyond },
	{ "balloon-report-readable", K_BAL, "free page report device-readable", c_bal_report_readable },
	{ "balloon-report-own-bar", K_BAL, "free page report of its own BAR", c_bal_report_bar },
	/* virtio-console */
	{ "console-tx-writable", K_CON, "TX with a writable buffer", c_con_tx_writable },
	{ "console-tx-256k", K_CON, "TX of 256 KiB", c_con_tx_big },
	{ "console-rx-readable", K_CON, "RX with a readable buffer", c_con_rx_readable },
	{ "console-rx-into-bar", K_CON, "RX buffer on its own BAR", c_con_rx_in_bar },
	{ "console-emerg-wr", K_CON, "emerg_wr written with odd values", c_con_emerg_wr },
	{ "console-tx-flood", K_CON, "the whole TX ring at once", c_con_tx_flood },
	/* virtio-rng */
	{ "rng-0xffffffff", K_RNG, "0xffffffff bytes (QEMU 7.2 aborts)", c_rng_ffffffff },
	{ "rng-indirect-64-bytes", K_RNG, "64 one-byte buffers in an indirect table", c_rng_indirect_bytes },
	{ "rng-readable", K_RNG, "a device-readable request", c_rng_readable },
	{ "rng-1mib", K_RNG, "a valid 1 MiB request", c_rng_big_valid },
	{ "rng-readable-then-writable", K_RNG, "a readable part before the writable one", c_rng_mixed },
};
#define NR_CASES (sizeof(cases) / sizeof(cases[0]))

static unsigned int table[K_NR][V_NR];

static enum verdict run_case(struct dev *d, const struct hcase *c, const char **why)
{
	int r;

	*why = "";
	if (dev_init(d)) {
		*why = "could not initialise before the case";
		return V_FAILED;
	}
	r = c->fn(d);
	if (r == 1)
		return V_SKIPPED;
	if (r == 2 && !(status(d) & ST_NEEDS_RESET)) {
		/* the case left the driver without usable rings (by design): reset, then check */
		*why = "rings abandoned by the case: checked after a reset";
		if (dev_init(d) || liveness(d) != 0) {
			*why = live_why;
			return V_FAILED;
		}
		return V_HANDLED;
	}
	if (!(status(d) & ST_NEEDS_RESET)) {
		r = liveness(d);
		if (r == 0)
			return V_HANDLED;
		if (r == -1) {
			/* not served and no NEEDS_RESET: does a reset bring it back? */
			*why = live_why;
			if (dev_init(d) || liveness(d) != 0) {
				*why = live_why;
				return V_FAILED;
			}
			return V_SILENT;
		}
	}
	if (dev_init(d)) {
		*why = "reset after NEEDS_RESET did not bring the device back";
		return V_FAILED;
	}
	if (liveness(d) != 0) {
		*why = live_why;
		return V_FAILED;
	}
	return V_NEEDS_RESET;
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	DIR *dir;
	struct dirent *e;
	unsigned int n = 0, total = 0, failed = 0, i;
	int k;
	uint64_t t0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < NR_CASES; i++)
			printf("%-34s %-8s %s\n", cases[i].name, cases[i].kind < 0 ? "all" : kind_names[cases[i].kind],
			       cases[i].what);
		return 0;
	}
	if (argc > 1)
		only = argv[1];	/* a case name, or a device name */
	t0 = now_ms();
	find_ram_end();
	dma_setup();
	dir = opendir("/sys/bus/pci/devices");
	if (!dir)
		die("/sys/bus/pci/devices");
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.')
			n += (unsigned int)probe(e->d_name);
	closedir(dir);
	printf("HOSTILE devices %u, RAM ends at 0x%llx, %zu cases\n", n, (unsigned long long)ram_end, NR_CASES);
	for (k = 0; k < K_NR; k++) {
		if (!have[k]) {
			printf("HOSTILE missing device %s\n", kind_names[k]);
			failed++;
			continue;
		}
		if (dev_init(&devs[k]) || liveness(&devs[k]) != 0) {
			printf("HOSTILE fatal: %s does not serve a good request before any case: %s\n",
			       kind_names[k], live_why ? live_why : "init");
			failed++;
		}
	}
	for (i = 0; i < NR_CASES; i++) {
		for (k = 0; k < K_NR; k++) {
			const struct hcase *c = &cases[i];
			const char *why;
			enum verdict v;
			uint64_t t;

			if (!have[k] || (c->kind >= 0 && c->kind != k))
				continue;
			if (only && strcmp(only, c->name) && strcmp(only, kind_names[k]))
				continue;
			printf("HOSTILE run %s %s\n", kind_names[k], c->name);
			t = now_ms();
			v = run_case(&devs[k], c, &why);
			table[k][v]++;
			if (v != V_SKIPPED)
				total++;
			if (v == V_FAILED)
				failed++;
			printf("HOSTILE case %-8s %-34s %-12s %5llu ms%s%s\n", kind_names[k], c->name,
			       verdict_names[v], (unsigned long long)(now_ms() - t), *why ? "  " : "", why);
		}
	}
	/* Finally every device once more, all of them after all the cases. */
	for (k = 0; k < K_NR; k++) {
		if (!have[k])
			continue;
		if (dev_init(&devs[k]) || liveness(&devs[k]) != 0) {
			printf("HOSTILE final liveness %s FAILED: %s\n", kind_names[k], live_why);
			failed++;
		} else {
			printf("HOSTILE final liveness %s ok\n", kind_names[k]);
		}
		dev_reset(&devs[k]);
	}
	printf("HOSTILE table %-8s %8s %12s %12s %11s %8s\n", "device", "handled", "NEEDS_RESET", "silent-stop",
	       "VMM-FAILED", "skipped");
	for (k = 0; k < K_NR; k++)
		if (have[k])
			printf("HOSTILE table %-8s %8u %12u %12u %11u %8u\n", kind_names[k], table[k][V_HANDLED],
			       table[k][V_NEEDS_RESET], table[k][V_SILENT], table[k][V_FAILED], table[k][V_SKIPPED]);
	printf("HOSTILE summary cases=%u failed=%u seconds=%llu\n", total, failed,
	       (unsigned long long)((now_ms() - t0) / 1000));
	return failed ? 1 : 0;
}
