/* test_virtio_blk.c: virtio-blk driven by the mock driver over real temp images: data, errors, hostile chains, reset, batching. */
#include "tests/unit/cmocka_inc.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/block/raw_image.h"
#include "devices/virtio_blk.h"
#include "tests/unit/mock_virtio.h"

#define RAM_BASE	0x100000ull
#define RAM_SIZE	(32u << 20)
#define QSIZE		256
#define MAX_Q		4
#define MiB		(1024u * 1024u)

struct env_opts {
	const char *dir;		/* where the image lives (default /tmp) */
	uint64_t size;			/* image size in bytes (default 1 MiB) */
	int fill;			/* byte the image is filled with, -1: sparse (zeroes) */
	bool readonly, cache_none;
	const char *serial;
	uint16_t nr_queues;		/* default 1 */
	uint16_t qsize;			/* default QSIZE */
	uint64_t drop_features;		/* feature bits the "driver" does not accept */
};

struct env {
	struct mock_vm m;
	struct ev_loop loop;
	struct virtio_dev *d;
	struct rawimg img;		/* the image the device borrows, as hv/host.c keeps it */
	bool img_open;
	struct mock_queue q[MAX_Q];
	uint16_t nr_queues, qsize;
	uint64_t drop_features;
	char path[256];
	char err[256];
	int irqs[MAX_Q + 1];		/* [0]: configuration interrupts, [1 + q]: queue q */
	int polls;			/* ev_loop_poll() calls that ran a handler */
};

static void raise_fn(struct virtio_dev *d, int q)
{
	struct env *e = d->transport;

	e->irqs[q + 1]++;
}

/* Creates a temp image: size bytes of fill (or sparse). */
static void make_image(struct env *e, const char *dir, uint64_t size, int fill)
{
	int fd;

	snprintf(e->path, sizeof(e->path), "%s/hvrun-vblk-XXXXXX", dir);
	fd = mkstemp(e->path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (fill >= 0) {
		uint8_t *buf = malloc(size);

		assert_non_null(buf);
		memset(buf, fill, size);
		assert_int_equal(pwrite(fd, buf, size, 0), (ssize_t)size);
		assert_int_equal(fsync(fd), 0);
		free(buf);
	}
	close(fd);
}

/* Features accepted, queues enabled, DRIVER_OK, activate(): what a driver's probe does. */
static void env_activate(struct env *e)
{
	struct virtio_dev *d = e->d;
	unsigned int i;

	pthread_mutex_lock(&d->lock);
	d->features = d->host_features & ~e->drop_features;
	for (i = 0; i < e->nr_queues; i++) {
		mock_queue_init(&e->q[i], &e->m, e->qsize);
		assert_int_equal(mock_queue_enable(&e->q[i], &d->vq[i], d->features), 0);
	}
	mock_dev_driver_ok(d);
	pthread_mutex_unlock(&d->lock);
}

/* A device on the open image e->img (a reboot makes a new one on the same image). */
static int env_create(struct env *e, const char *serial)
{
	struct vblk_options vo = { .img = &e->img, .serial = serial };
	int ret;

	ret = vblk_create(&vo, &e->m.gm, &e->loop, e->nr_queues, &e->d, e->err, sizeof(e->err));
	if (ret)
		return ret;
	e->d->raise = raise_fn;
	e->d->transport = e;
	env_activate(e);
	return 0;
}

/*
 * Image (opened as hv/host.c opens it), guest RAM, loop, device; returns
 * vblk_open_image()'s or vblk_create()'s result (the device is active if 0).
 */
static int env_try(struct env *e, const struct env_opts *o)
{
	int ret;

	memset(e, 0, sizeof(*e));
	e->nr_queues = o->nr_queues ? o->nr_queues : 1;
	e->qsize = o->qsize ? o->qsize : QSIZE;
	e->drop_features = o->drop_features;
	make_image(e, o->dir ? o->dir : "/tmp", o->size ? o->size : MiB, o->fill);
	mock_vm_init(&e->m, RAM_BASE, RAM_SIZE);
	assert_int_equal(ev_loop_init(&e->loop, "test-blk"), 0);
	ret = vblk_open_image(&e->img, e->path, o->readonly, o->cache_none, e->nr_queues,
			      e->err, sizeof(e->err));
	if (ret)
		return ret;
	e->img_open = true;
	return env_create(e, o->serial);
}

static void env_start(struct env *e, const struct env_opts *o)
{
	int ret = env_try(e, o);

	if (ret)
		fail_msg("vblk_create: %s (%s)", strerror(-ret), e->err);
}

/* What hvrun does to a device at the end of a boot: reset, destroy; the image stays open. */
static void env_destroy_device(struct env *e)
{
	if (e->d) {
		pthread_mutex_lock(&e->d->lock);
		virtio_dev_reset(e->d);
		pthread_mutex_unlock(&e->d->lock);
		e->d->ops->destroy(e->d);
		e->d = NULL;
	}
}

static void env_stop(struct env *e)
{
	env_destroy_device(e);
	if (e->img_open)
		rawimg_close(&e->img);
	e->img_open = false;
	ev_loop_destroy(&e->loop);
	mock_vm_free(&e->m);
	unlink(e->path);
}

/* The driver's notification of queue qi, as the transport delivers it. */
static void kick(struct env *e, unsigned int qi)
{
	mock_dev_notify(e->d, qi);
}

/* Runs the I/O thread's work here until queue qi has a used entry. */
static bool wait_used(struct env *e, unsigned int qi, uint32_t *id, uint32_t *len)
{
	int i;

	for (i = 0; i < 400; i++) {
		if (mock_get_used(&e->q[qi], id, len))
			return true;
		if (ev_loop_poll(&e->loop, 25) > 0)
			e->polls++;
	}
	return mock_get_used(&e->q[qi], id, len);
}

static uint64_t gpa_alloc(struct env *e, uint32_t len, uint8_t fill)
{
	uint64_t g = mock_alloc(&e->m, len, 4096);

	memset(mock_host(&e->m, g), fill, len);
	return g;
}

static uint64_t put_hdr(struct env *e, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = { htole32(type), 0, htole64(sector) };
	uint64_t g = mock_alloc(&e->m, sizeof(h), 16);

	memcpy(mock_host(&e->m, g), &h, sizeof(h));
	return g;
}

static uint64_t put_status(struct env *e)
{
	uint64_t g = mock_alloc(&e->m, 1, 1);

	*(uint8_t *)mock_host(&e->m, g) = 0xee;
	return g;
}

static uint8_t status_of(struct env *e, uint64_t g)
{
	return *(uint8_t *)mock_host(&e->m, g);
}

/* header | one data buffer (writable for IN and GET_ID) | status; returns the head. */
static uint16_t add_req(struct env *e, unsigned int qi, uint32_t type, uint64_t sector,
			uint64_t data, uint32_t len, uint64_t *status)
{
	struct mock_buf b[3];
	unsigned int n = 0;

	b[n++] = (struct mock_buf){ put_hdr(e, type, sector), 16, false };
	if (len)
		b[n++] = (struct mock_buf){ data, len,
			type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID };
	*status = put_status(e);
	b[n++] = (struct mock_buf){ *status, 1, true };
	return mock_add_chain(&e->q[qi], b, n);
}

/* Publishes one request, kicks, waits; returns its status byte. */
static uint8_t do_req(struct env *e, unsigned int qi, uint32_t type, uint64_t sector,
		      uint64_t data, uint32_t len)
{
	uint64_t st;
	uint32_t id, used_len;
	uint16_t head = add_req(e, qi, type, sector, data, len, &st);

	kick(e, qi);
	assert_true(wait_used(e, qi, &id, &used_len));
	assert_int_equal(id, head);
	return status_of(e, st);
}

static void file_read(struct env *e, uint64_t off, void *buf, size_t len)
{
	int fd = open(e->path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* DISCARD / WRITE_ZEROES with n segments. */
static uint8_t do_dz(struct env *e, uint32_t type,
		     const struct virtio_blk_discard_write_zeroes *segs, unsigned int n)
{
	uint64_t g = mock_alloc(&e->m, 16ull * n, 16);
	struct virtio_blk_discard_write_zeroes *s = mock_host(&e->m, g);
	struct mock_buf b[3];
	uint64_t st;
	uint32_t id, len;
	unsigned int i;

	for (i = 0; i < n; i++) {
		s[i].sector = htole64(segs[i].sector);
		s[i].num_sectors = htole32(segs[i].num_sectors);
		s[i].flags = htole32(segs[i].flags);
	}
	b[0] = (struct mock_buf){ put_hdr(e, type, 0), 16, false };
	b[1] = (struct mock_buf){ g, 16 * n, false };
	st = put_status(e);
	b[2] = (struct mock_buf){ st, 1, true };
	mock_add_chain(&e->q[0], b, 3);
	kick(e, 0);
	assert_true(wait_used(e, 0, &id, &len));
	return status_of(e, st);
}

/* ---- data ---- */

static void test_write_then_read_back(void **state)
{
	struct env_opts o = { .fill = -1 };
	struct env e;
	uint64_t w = 0, r;
	uint8_t *p, file[8 * 512];
	unsigned int i;

	(void)state;
	env_start(&e, &o);
	w = gpa_alloc(&e, 8 * 512, 0);
	p = mock_host(&e.m, w);
	for (i = 0; i < 8 * 512; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_OUT, 3, w, 8 * 512), VIRTIO_BLK_S_OK);
	r = gpa_alloc(&e, 8 * 512, 0xff);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 3, r, 8 * 512), VIRTIO_BLK_S_OK);
	assert_memory_equal(mock_host(&e.m, r), p, 8 * 512);
	file_read(&e, 3 * 512, file, sizeof(file));
	assert_memory_equal(file, p, sizeof(file));
	/* The last sector of the disk is readable too. */
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, MiB / 512 - 1, r, 512), VIRTIO_BLK_S_OK);
	env_stop(&e);
}

/* §2.6.4: no assumption about framing: a header split in two, data in odd pieces. */
static void test_any_framing(void **state)
{
	struct env_opts o = { .fill = -1 };
	struct env e;
	uint64_t hdr, st, data;
	struct mock_buf b[5];
	uint32_t id, len;
	uint8_t *p;

	(void)state;
	env_start(&e, &o);
	hdr = put_hdr(&e, VIRTIO_BLK_T_OUT, 10);
	data = gpa_alloc(&e, 1024, 0x42);
	st = put_status(&e);
	b[0] = (struct mock_buf){ hdr, 8, false };
	b[1] = (struct mock_buf){ hdr + 8, 8, false };
	b[2] = (struct mock_buf){ data, 100, false };
	b[3] = (struct mock_buf){ data + 100, 924, false };
	b[4] = (struct mock_buf){ st, 1, true };
	mock_add_chain(&e.q[0], b, 5);
	kick(&e, 0);
	assert_true(wait_used(&e, 0, &id, &len));
	assert_int_equal(status_of(&e, st), VIRTIO_BLK_S_OK);
	/* Read back into one writable buffer that also holds the status byte. */
	data = gpa_alloc(&e, 1025, 0);
	b[0] = (struct mock_buf){ put_hdr(&e, VIRTIO_BLK_T_IN, 10), 16, false };
	b[1] = (struct mock_buf){ data, 1025, true };
	mock_add_chain(&e.q[0], b, 2);
	kick(&e, 0);
	assert_true(wait_used(&e, 0, &id, &len));
	p = mock_host(&e.m, data);
	assert_int_equal(p[1024], VIRTIO_BLK_S_OK);
	assert_true(all_bytes(p, 1024, 0x42));
	env_stop(&e);
}

/* A chain of many descriptors through an indirect table (§2.7.5.3). */
static void test_indirect_many_descriptors(void **state)
{
	struct env_opts o = { .fill = -1 };
	struct env e;
	struct mock_buf b[130];
	uint64_t data, st, rd;
	uint32_t id, len;
	unsigned int i;
	uint8_t *p;

	(void)state;
	env_start(&e, &o);
	data = gpa_alloc(&e, 64 * 512, 0);
	p = mock_host(&e.m, data);
	for (i = 0; i < 64 * 512; i++)
		p[i] = (uint8_t)(i / 512 + i);
	b[0] = (struct mock_buf){ put_hdr(&e, VIRTIO_BLK_T_OUT, 100), 16, false };
	for (i = 0; i < 64; i++)
		b[1 + i] = (struct mock_buf){ data + 512ull * i, 512, false };
	st = put_status(&e);
	b[65] = (struct mock_buf){ st, 1, true };
	mock_add_indirect(&e.q[0], b, 66);
	kick(&e, 0);
	assert_true(wait_used(&e, 0, &id, &len));
	assert_int_equal(status_of(&e, st), VIRTIO_BLK_S_OK);

	rd = gpa_alloc(&e, 64 * 512, 0);
	b[0] = (struct mock_buf){ put_hdr(&e, VIRTIO_BLK_T_IN, 100), 16, false };
	for (i = 0; i < 128; i++)
		b[1 + i] = (struct mock_buf){ rd + 256ull * i, 256, true };
	st = put_status(&e);
	b[129] = (struct mock_buf){ st, 1, true };
	mock_add_indirect(&e.q[0], b, 130);
	kick(&e, 0);
	assert_true(wait_used(&e, 0, &id, &len));
	assert_int_equal(status_of(&e, st), VIRTIO_BLK_S_OK);
	assert_int_equal(len, 64 * 512 + 1);
	assert_memory_equal(mock_host(&e.m, rd), p, 64 * 512);
	env_stop(&e);
}

/* ---- malformed requests: an error status, never a crash or a hang ---- */

static void test_read_beyond_capacity(void **state)
{
	struct env_opts o = { .fill = -1 };
	struct env e;
	uint64_t r;

	(void)state;
	env_start(&e, &o);
	r = gpa_alloc(&e, 1024, 0xaa);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, MiB / 512 - 1, r, 1024), VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, MiB / 512, r, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_OUT, MiB / 512, r, 512), VIRTIO_BLK_S_IOERR);
	/* Nothing was read into the buffer. */
	assert_true(all_bytes(mock_host(&e.m, r), 1024, 0xaa));
	env_stop(&e);
}

static void test_sector_overflow(void **state)
{
	struct env_opts o = { .fill = -1 };
	struct env e;
	uint64_t r;

	(void)state;
	env_start(&e, &o);
	r = gpa_alloc(&e, 4096, 0);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, UINT64_MAX, r, 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, UINT64_MAX - 7, r, 4096), VIRTIO_BLK_S_IOERR);
	/* sector * 512 wraps to a small offset: still refused. */
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_OUT, 1ull << 55, r, 512), VIRTIO_BLK_S_IOERR);
	env_stop(&e);
}

static void test_length_not_multiple_of_512(void **state)
{
	struct env_opts o = { .fill = 0x11 };
	struct env e;
	uint64_t r;
	uint8_t file[700];

	(void)state;
	env_start(&e, &o);
	r = gpa_alloc(&e, 700, 0x77);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 0, r, 700), VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_OUT, 0, r, 700), VIRTIO_BLK_S_IOERR);
	file_read(&e, 0, file, sizeof(file));
	assert_true(all_bytes(file, sizeof(file), 0x11));
	env_stop(&e);
}

static void test_missing_status_byte(void **state)
{
	struct env_opts o = { .fill = -1 };
	struct env e;
	struct mock_buf b[2];
	uint32_t id, len;
	uint16_t head;
	uint64_t r;

	(void)state;
	env_start(&e, &o);
	r = gpa_alloc(&e, 512, 0);
	b[0] = (struct mock_buf){ put_hdr(&e, VIRTIO_BLK_T_OUT, 0), 16, false };
	b[1] = (struct mock_buf){ r, 512, false };
	head = mock_add_chain(&e.q[0], b, 2);
	kick(&e, 0);
	assert_true(wait_used(&e, 0, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	/* The device goes on. */
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 0, r, 512), VIRTIO_BLK_S_OK);
	env_stop(&e);
}

static void test_header_in_writable_buffer(void **state)
{
	struct env_opts o = { .fill = -1 };
	struct env e;
	struct mock_buf b[2];
	uint32_t id, len;
	uint64_t st;

	(void)state;
	env_start(&e, &o);
	st = put_status(&e);
	b[0] = (struct mock_buf){ put_hdr(&e, VIRTIO_BLK_T_IN, 0), 16, true };
	b[1] = (struct mock_buf){ st, 1, true };
	mock_add_chain(&e.q[0], b, 2);
	kick(&e, 0);
	assert_true(wait_used(&e, 0, &id, &len));
	assert_int_equal(status_of(&e, st), VIRTIO_BLK_S_IOERR);
	/* A header of 15 readable bytes. */
	st = put_status(&e);
	b[0] = (struct mock_buf){ put_hdr(&e, VIRTIO_BLK_T_FLUSH, 0), 15, false };
	b[1] = (struct mock_buf){ st, 1, true };
	mock_add_chain(&e.q[0], b, 2);
	kick(&e, 0);
	assert_true(wait_used(&e, 0, &id, &len));
	assert_int_equal(status_of(&e, st), VIRTIO_BLK_S_IOERR);
	env_stop(&e);
}

static void test_wrong_data_direction(void **state)
{
	struct env_opts o = { .fill = 0x33 };
	struct env e;
	struct mock_buf b[3];
	uint32_t id, len;
	uint64_t st, r;
	uint8_t file[512];

	(void)state;
	env_start(&e, &o);
	r = gpa_alloc(&e, 512, 0x99);
	/* IN whose data is device-readable. */
	st = put_status(&e);
	b[0] = (struct mock_buf){ put_hdr(&e, VIRTIO_BLK_T_IN, 0), 16, false };
	b[1] = (struct mock_buf){ r, 512, false };
	b[2] = (struct mock_buf){ st, 1, true };
	mock_add_chain(&e.q[0], b, 3);
	kick(&e, 0);
	assert_true(wait_used(&e, 0, &id, &len));
	assert_int_equal(status_of(&e, st), VIRTIO_BLK_S_IOERR);
	assert_true(all_bytes(mock_host(&e.m, r), 512, 0x99));
	/* OUT whose data is device-writable. */
	st = put_status(&e);
	b[0] = (struct mock_buf){ put_hdr(&e, VIRTIO_BLK_T_OUT, 0), 16, false };
	b[1] = (struct mock_buf){ r, 512, true };
	b[2] = (struct mock_buf){ st, 1, true };
	mock_add_chain(&e.q[0], b, 3);
	kick(&e, 0);
	assert_true(wait_used(&e, 0, &id, &len));
	assert_int_equal(status_of(&e, st), VIRTIO_BLK_S_IOERR);
	/* IN and OUT without data. */
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 0, 0, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_OUT, 0, 0, 0), VIRTIO_BLK_S_IOERR);
	file_read(&e, 0, file, sizeof(file));
	assert_true(all_bytes(file, sizeof(file), 0x33));
	env_stop(&e);
}

static void test_unsupported_type(void **state)
{
	struct env_opts o = { .fill = -1 };
	struct env e;
	uint64_t r;

	(void)state;
	env_start(&e, &o);
	r = gpa_alloc(&e, 512, 0);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_GET_LIFETIME, 0, r, 0), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_SECURE_ERASE, 0, r, 0), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(do_req(&e, 0, 2 /* legacy SCSI */, 0, r, 0), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(do_req(&e, 0, 0xdeadbeef, 0, r, 0), VIRTIO_BLK_S_UNSUPP);
	env_stop(&e);
}

/* ---- the other request types ---- */

static void test_get_id(void **state)
{
	struct env_opts o = { .fill = -1 };
	struct env e;
	uint64_t id;
	const char *base;
	char want[20] = { 0 };

	(void)state;
	/* Default: the file name. */
	env_start(&e, &o);
	id = gpa_alloc(&e, 20, 0xee);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_GET_ID, 0, id, 20), VIRTIO_BLK_S_OK);
	base = strrchr(e.path, '/') + 1;
	memcpy(want, base, strlen(base) < sizeof(want) ? strlen(base) : sizeof(want));
	assert_memory_equal(mock_host(&e.m, id), want, 20);
	env_stop(&e);

	/* 20 bytes: no NUL. */
	o.serial = "0123456789abcdefghij";
	env_start(&e, &o);
	id = gpa_alloc(&e, 20, 0xee);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_GET_ID, 0, id, 20), VIRTIO_BLK_S_OK);
	assert_memory_equal(mock_host(&e.m, id), o.serial, 20);
	env_stop(&e);

	/* Shorter: NUL-padded; a small buffer gets what fits. */
	o.serial = "disk7";
	env_start(&e, &o);
	id = gpa_alloc(&e, 20, 0xee);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_GET_ID, 0, id, 20), VIRTIO_BLK_S_OK);
	memset(want, 0, sizeof(want));
	memcpy(want, "disk7", 5);
	assert_memory_equal(mock_host(&e.m, id), want, 20);
	id = gpa_alloc(&e, 3, 0xee);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_GET_ID, 0, id, 3), VIRTIO_BLK_S_OK);
	assert_memory_equal(mock_host(&e.m, id), "dis", 3);
	/* No room at all. */
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_GET_ID, 0, 0, 0), VIRTIO_BLK_S_IOERR);
	env_stop(&e);
}

static void test_flush(void **state)
{
	struct env_opts o = { .fill = -1 };
	struct env e;
	uint64_t w;

	(void)state;
	env_start(&e, &o);
	w = gpa_alloc(&e, 4096, 0x5c);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_OUT, 0, w, 4096), VIRTIO_BLK_S_OK);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	env_stop(&e);
}

/* FLUSH offered but not negotiated (§5.2.6.2 case 1): writes are write-through, and still work. */
static void test_writethrough_without_flush(void **state)
{
	struct env_opts o = { .fill = -1, .drop_features = VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) };
	struct env e;
	struct virtio_blk_discard_write_zeroes s = { 0, 8, 0 };
	uint64_t w, r;

	(void)state;
	env_start(&e, &o);
	w = gpa_alloc(&e, 4096, 0x6d);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_OUT, 8, w, 4096), VIRTIO_BLK_S_OK);
	r = gpa_alloc(&e, 4096, 0);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 8, r, 4096), VIRTIO_BLK_S_OK);
	assert_true(all_bytes(mock_host(&e.m, r), 4096, 0x6d));
	assert_int_equal(do_dz(&e, VIRTIO_BLK_T_WRITE_ZEROES, &s, 1), VIRTIO_BLK_S_OK);
	env_stop(&e);
}

static bool punch_supported(const char *dir)
{
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/hvrun-punch-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return false;
	unlink(path);
	ret = ftruncate(fd, 65536) == 0 &&
	      fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096) == 0;
	close(fd);
	return ret;
}

static blkcnt_t image_blocks(struct env *e)
{
	struct stat st;

	assert_int_equal(stat(e->path, &st), 0);
	return st.st_blocks;
}

static void test_discard_punches_hole(void **state)
{
	struct env_opts o = { .fill = 0xab, .size = 4 * MiB };
	struct virtio_blk_discard_write_zeroes s[2] = { { 0, 2048, 0 }, { 4096, 2048, 0 } };
	struct env e;
	blkcnt_t before, after;
	uint8_t buf[512];

	(void)state;
	if (!punch_supported("/tmp"))
		skip();
	env_start(&e, &o);
	before = image_blocks(&e);
	assert_int_equal(do_dz(&e, VIRTIO_BLK_T_DISCARD, s, 2), VIRTIO_BLK_S_OK);
	after = image_blocks(&e);
	/* 2 MiB of 4 MiB deallocated: 4096 blocks of 512 bytes. */
	assert_true(after + 4096 <= before);
	/* The size is kept; a punched hole reads as zeroes, the rest is untouched. */
	assert_int_equal(vblk_capacity(e.d), 4 * MiB / 512);
	file_read(&e, 0, buf, sizeof(buf));
	assert_true(all_bytes(buf, sizeof(buf), 0));
	file_read(&e, 2048 * 512, buf, sizeof(buf));
	assert_true(all_bytes(buf, sizeof(buf), 0xab));
	env_stop(&e);
}

static void check_write_zeroes(const char *dir)
{
	struct env_opts o = { .fill = 0xcd, .dir = dir };
	struct virtio_blk_discard_write_zeroes s = { 8, 16, 0 };
	struct virtio_blk_discard_write_zeroes u = { 64, 8, VIRTIO_BLK_WZ_FLAG_UNMAP };
	struct virtio_blk_discard_write_zeroes big = { 256, 1024, 0 };
	struct env e;
	uint8_t buf[32 * 512];

	env_start(&e, &o);
	assert_int_equal(do_dz(&e, VIRTIO_BLK_T_WRITE_ZEROES, &s, 1), VIRTIO_BLK_S_OK);
	file_read(&e, 0, buf, sizeof(buf));
	assert_true(all_bytes(buf, 8 * 512, 0xcd));
	assert_true(all_bytes(buf + 8 * 512, 16 * 512, 0));
	assert_true(all_bytes(buf + 24 * 512, 8 * 512, 0xcd));
	/* With unmap: punched where the file system can, zeroes either way (§5.2.6.2). */
	assert_int_equal(do_dz(&e, VIRTIO_BLK_T_WRITE_ZEROES, &u, 1), VIRTIO_BLK_S_OK);
	file_read(&e, 56 * 512, buf, 24 * 512);
	assert_true(all_bytes(buf, 8 * 512, 0xcd));
	assert_true(all_bytes(buf + 8 * 512, 8 * 512, 0));
	assert_true(all_bytes(buf + 16 * 512, 8 * 512, 0xcd));
	/* 512 KiB: in one fallocate, or in several writes of the fallback. */
	assert_int_equal(do_dz(&e, VIRTIO_BLK_T_WRITE_ZEROES, &big, 1), VIRTIO_BLK_S_OK);
	for (unsigned int i = 0; i < 1024; i += 32) {
		file_read(&e, (256ull + i) * 512, buf, sizeof(buf));
		assert_true(all_bytes(buf, sizeof(buf), 0));
	}
	file_read(&e, 1280 * 512, buf, 512);
	assert_true(all_bytes(buf, 512, 0xcd));
	env_stop(&e);
}

static void test_write_zeroes(void **state)
{
	(void)state;
	check_write_zeroes("/tmp");
}

/* tmpfs has no FALLOC_FL_ZERO_RANGE: the device writes the zeroes itself. */
static void test_write_zeroes_fallback_tmpfs(void **state)
{
	struct stat st;

	(void)state;
	if (stat("/dev/shm", &st) < 0 || !S_ISDIR(st.st_mode) || access("/dev/shm", W_OK))
		skip();
	check_write_zeroes("/dev/shm");
}

static void test_discard_write_zeroes_malformed(void **state)
{
	struct env_opts o = { .fill = 0x44 };
	struct virtio_blk_discard_write_zeroes s[33];
	struct env e;
	uint8_t buf[512];
	unsigned int i;

	(void)state;
	env_start(&e, &o);
	/* §5.2.6.2: unmap on a discard, or any reserved flag: UNSUPP. */
	s[0] = (struct virtio_blk_discard_write_zeroes){ 0, 8, VIRTIO_BLK_WZ_FLAG_UNMAP };
	assert_int_equal(do_dz(&e, VIRTIO_BLK_T_DISCARD, s, 1), VIRTIO_BLK_S_UNSUPP);
	s[0] = (struct virtio_blk_discard_write_zeroes){ 0, 8, 2 };
	assert_int_equal(do_dz(&e, VIRTIO_BLK_T_WRITE_ZEROES, s, 1), VIRTIO_BLK_S_UNSUPP);
	/* Reserved flags win over a bad range in another segment. */
	s[0] = (struct virtio_blk_discard_write_zeroes){ MiB, 8, 0 };
	s[1] = (struct virtio_blk_discard_write_zeroes){ 0, 8, 0x80000000u };
	assert_int_equal(do_dz(&e, VIRTIO_BLK_T_WRITE_ZEROES, s, 2), VIRTIO_BLK_S_UNSUPP);
	/* Ranges: beyond the end, overflowing, empty. */
	s[0] = (struct virtio_blk_discard_write_zeroes){ MiB / 512 - 4, 8, 0 };
	assert_int_equal(do_dz(&e, VIRTIO_BLK_T_WRITE_ZEROES, s, 1), VIRTIO_BLK_S_IOERR);
	s[0] = (struct virtio_blk_discard_write_zeroes){ UINT64_MAX - 2, 8, 0 };
	assert_int_equal(do_dz(&e, VIRTIO_BLK_T_DISCARD, s, 1), VIRTIO_BLK_S_IOERR);
	s[0] = (struct virtio_blk_discard_write_zeroes){ 0, 0, 0 };
	assert_int_equal(do_dz(&e, VIRTIO_BLK_T_WRITE_ZEROES, s, 1), VIRTIO_BLK_S_IOERR);
	/* A good segment and a bad one: nothing is done. */
	s[0] = (struct virtio_blk_discard_write_zeroes){ 0, 8, 0 };
	s[1] = (struct virtio_blk_discard_write_zeroes){ MiB / 512, 1, 0 };
	assert_int_equal(do_dz(&e, VIRTIO_BLK_T_WRITE_ZEROES, s, 2), VIRTIO_BLK_S_IOERR);
	/* Too many segments. */
	for (i = 0; i < 33; i++)
		s[i] = (struct virtio_blk_discard_write_zeroes){ i * 8, 8, 0 };
	assert_int_equal(do_dz(&e, VIRTIO_BLK_T_WRITE_ZEROES, s, 33), VIRTIO_BLK_S_IOERR);
	/* A payload that is not whole segments, and none. */
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, gpa_alloc(&e, 20, 0), 0),
			 VIRTIO_BLK_S_IOERR);
	file_read(&e, 0, buf, sizeof(buf));
	assert_true(all_bytes(buf, sizeof(buf), 0x44));
	/* Not negotiated: UNSUPP. */
	pthread_mutex_lock(&e.d->lock);
	e.d->features &= ~VIRTIO_BIT(VIRTIO_BLK_F_DISCARD);
	pthread_mutex_unlock(&e.d->lock);
	s[0] = (struct virtio_blk_discard_write_zeroes){ 0, 8, 0 };
	assert_int_equal(do_dz(&e, VIRTIO_BLK_T_DISCARD, s, 1), VIRTIO_BLK_S_UNSUPP);
	env_stop(&e);
}

/* ---- read-only ---- */

static void test_readonly_refuses_writes(void **state)
{
	struct env_opts o = { .fill = 0x5a, .readonly = true };
	struct env e;
	uint64_t w, r;
	uint8_t file[4096];

	(void)state;
	env_start(&e, &o);
	assert_true(e.d->host_features & VIRTIO_BIT(VIRTIO_BLK_F_RO));
	assert_false(e.d->host_features & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD));
	assert_false(e.d->host_features & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES));
	w = gpa_alloc(&e, 4096, 0x00);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_OUT, 0, w, 4096), VIRTIO_BLK_S_IOERR);
	file_read(&e, 0, file, sizeof(file));
	assert_true(all_bytes(file, sizeof(file), 0x5a));
	r = gpa_alloc(&e, 4096, 0);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 0, r, 4096), VIRTIO_BLK_S_OK);
	assert_true(all_bytes(mock_host(&e.m, r), 4096, 0x5a));
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	env_stop(&e);
}

/* ---- host errors: IOERR for the request, the device keeps working ---- */

/*
 * Real kernel errors, no test hook: RLIMIT_FSIZE makes the kernel refuse
 * writes beyond it (EFBIG), and cut short a write that straddles it.
 */
static void test_host_write_error(void **state)
{
	struct env_opts o = { .fill = -1 };
	struct rlimit old, lim;
	struct env e;
	uint64_t w;

	(void)state;
	env_start(&e, &o);
	w = gpa_alloc(&e, 8192, 0x21);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 64 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	/* Entirely beyond: EFBIG. */
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_OUT, 256, w, 4096), VIRTIO_BLK_S_IOERR);
	/* Straddling: a short write, the rest resubmitted, then EFBIG. */
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_OUT, 120, w, 8192), VIRTIO_BLK_S_IOERR);
	/* Below the limit: fine. */
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_OUT, 0, w, 8192), VIRTIO_BLK_S_OK);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_OUT, 256, w, 4096), VIRTIO_BLK_S_OK);
	env_stop(&e);
}

/* The image shrank behind the device's back: reads past the new end fail, short ones too. */
static void test_host_read_error(void **state)
{
	struct env_opts o = { .fill = 0x3c };
	struct env e;
	uint64_t r;

	(void)state;
	env_start(&e, &o);
	assert_int_equal(truncate(e.path, 64 * 1024), 0);
	r = gpa_alloc(&e, 8192, 0);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 256, r, 4096), VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 120, r, 8192), VIRTIO_BLK_S_IOERR);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 0, r, 8192), VIRTIO_BLK_S_OK);
	assert_true(all_bytes(mock_host(&e.m, r), 8192, 0x3c));
	env_stop(&e);
}

/* ---- queues, batching, reset ---- */

static void test_multiqueue(void **state)
{
	struct env_opts o = { .fill = 0x10, .nr_queues = 3 };
	struct env e;
	uint64_t st1, st2, w, r;
	uint32_t id, len;
	uint16_t h1, h2;
	struct virtio_blk_config *cfg;

	(void)state;
	env_start(&e, &o);
	cfg = e.d->config;
	assert_int_equal(le16toh(cfg->num_queues), 3);
	w = gpa_alloc(&e, 4096, 0x71);
	r = gpa_alloc(&e, 4096, 0);
	h1 = add_req(&e, 1, VIRTIO_BLK_T_OUT, 16, w, 4096, &st1);
	h2 = add_req(&e, 2, VIRTIO_BLK_T_IN, 0, r, 4096, &st2);
	kick(&e, 1);
	kick(&e, 2);
	assert_true(wait_used(&e, 1, &id, &len));
	assert_int_equal(id, h1);
	assert_true(wait_used(&e, 2, &id, &len));
	assert_int_equal(id, h2);
	assert_int_equal(status_of(&e, st1), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(&e, st2), VIRTIO_BLK_S_OK);
	assert_true(all_bytes(mock_host(&e.m, r), 4096, 0x10));
	/* Queue 0 saw nothing; each queue's interrupt went to it. */
	assert_int_equal(mock_used_idx(&e.q[0]), 0);
	assert_int_equal(mock_used_idx(&e.q[1]), 1);
	assert_int_equal(mock_used_idx(&e.q[2]), 1);
	assert_int_equal(e.irqs[1], 0);
	assert_true(e.irqs[2] >= 1 && e.irqs[3] >= 1);
	env_stop(&e);
}

static void test_batching(void **state)
{
	struct env_opts o = { .fill = 0x20, .drop_features = VIRTIO_BIT(VIRTIO_F_EVENT_IDX) };
	struct env e;
	uint64_t st[32];
	uint32_t id, len;
	unsigned int i, done = 0;

	(void)state;
	env_start(&e, &o);
	for (i = 0; i < 32; i++)
		add_req(&e, 0, VIRTIO_BLK_T_IN, 8ull * i, gpa_alloc(&e, 4096, 0), 4096, &st[i]);
	kick(&e, 0);
	while (done < 32 && wait_used(&e, 0, &id, &len))
		done++;
	assert_int_equal(done, 32);
	for (i = 0; i < 32; i++)
		assert_int_equal(status_of(&e, st[i]), VIRTIO_BLK_S_OK);
	/* At most one interrupt per batch of completions, not one per request. */
	assert_true(e.irqs[1] >= 1);
	assert_true(e.irqs[1] <= e.polls);
	env_stop(&e);
}

/* ---- batching under queue depth (issue 13) ---- */

/* vring_need_event() (§2.7.7.2), as a Linux driver decides whether to kick or interrupt. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* Waits (without reaping) until the image's io_uring holds n completions. */
static void wait_cq(struct env *e, unsigned int n)
{
	int i;

	for (i = 0; i < 2000 && io_uring_cq_ready(&e->img.ring) < n; i++)
		usleep(1000);
	assert_true(io_uring_cq_ready(&e->img.ring) >= n);
}

/* One turn of the I/O thread: it must find work (the io_uring eventfd). */
static void one_turn(struct env *e)
{
	assert_true(ev_loop_poll(&e->loop, 1000) > 0);
}

/* n reads of 4 KiB, 4 KiB apart: no two are neighbours, so none is merged with another. */
static void add_reads(struct env *e, unsigned int n, uint64_t first_sector)
{
	uint64_t st;
	unsigned int i;

	for (i = 0; i < n; i++)
		add_req(e, 0, VIRTIO_BLK_T_IN, first_sector + 16ull * i, gpa_alloc(e, 4096, 0), 4096, &st);
}

/*
 * 32 requests made available with one notification: all started in that
 * pass with one io_uring_submit(); all their completions, reaped in one
 * turn, reach the driver with ONE used->idx update and one interrupt; and
 * while they are in flight the driver is not asked to notify (a 33rd request
 * would cost no exit), and once the queue is idle it is asked again.
 */
static void test_qd32_one_pass_one_update(void **state)
{
	struct env_opts o = { .fill = 0x20 };
	struct env e;
	struct virtqueue *vq;
	uint64_t updates;

	(void)state;
	env_start(&e, &o);
	vq = &e.d->vq[0];
	add_reads(&e, 32, 0);
	kick(&e, 0);
	assert_int_equal(vq->nr_pop, 32);
	assert_int_equal(e.img.nr_submitted, 32);
	assert_int_equal(e.img.nr_submit_calls, 1);
	/* In flight: the driver's 33rd request must not need a kick. */
	assert_false(need_event(mock_avail_event(&e.q[0]), 33, 32));

	updates = vq->nr_used_updates;
	wait_cq(&e, 32);
	one_turn(&e);
	assert_int_equal(mock_used_idx(&e.q[0]), 32);
	assert_int_equal(vq->nr_used_updates - updates, 1);
	assert_int_equal(e.irqs[1], 1);
	assert_int_equal(e.img.nr_reaps, 1);
	/* Idle again: the next request must kick. */
	assert_true(need_event(mock_avail_event(&e.q[0]), 33, 32));
	env_stop(&e);
}

/*
 * Requests made available while others are in flight need no notification:
 * the completions' turn takes them.  Without EVENT_IDX the same holds
 * through used->flags (NO_NOTIFY while busy, clear when idle).
 */
static void check_ride_on_completions(uint64_t drop)
{
	struct env_opts o = { .fill = 0x21, .drop_features = drop };
	struct env e;
	uint32_t id, len;
	unsigned int done = 0;

	env_start(&e, &o);
	add_reads(&e, 4, 0);
	kick(&e, 0);
	if (drop)
		assert_int_equal(mock_used_flags(&e.q[0]) & 1, 1);	/* VRING_USED_F_NO_NOTIFY */
	else
		assert_false(need_event(mock_avail_event(&e.q[0]), 5, 4));
	add_reads(&e, 4, 64);		/* no kick: the driver was told not to */
	wait_cq(&e, 4);
	one_turn(&e);
	assert_int_equal(e.d->vq[0].nr_pop, 8);
	assert_int_equal(e.img.nr_submitted, 8);
	while (done < 8 && wait_used(&e, 0, &id, &len))
		done++;
	assert_int_equal(done, 8);
	for (int i = 0; i < 20 && e.img.in_flight; i++)
		ev_loop_poll(&e.loop, 25);
	if (drop)
		assert_int_equal(mock_used_flags(&e.q[0]) & 1, 0);
	else
		assert_true(need_event(mock_avail_event(&e.q[0]), 9, 8));
	assert_int_equal(e.d->vq[0].nr_kicks, 0);	/* kick() calls notify directly */
	env_stop(&e);
}

static void test_new_requests_ride_on_completions(void **state)
{
	(void)state;
	check_ride_on_completions(0);
	check_ride_on_completions(VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
}

/* With EVENT_IDX, an interrupt exactly when a batch crosses the driver's used_event. */
static void test_event_idx_interrupt_exactly(void **state)
{
	static const struct { uint16_t used_event, n; int irqs; } step[] = {
		{ 0, 1, 1 },	/* the first batch: 0 -> 1, used_event 0 crossed */
		{ 6, 4, 1 },	/* 1 -> 5: 6 not crossed, no interrupt */
		{ 6, 4, 2 },	/* 5 -> 9: 6 crossed */
		{ 20, 4, 2 },	/* 9 -> 13: 20 not crossed */
		{ 13, 3, 3 },	/* 13 -> 16: 13 crossed */
	};
	struct env_opts o = { .fill = 0x22 };
	struct env e;
	uint16_t used = 0;
	size_t i;

	(void)state;
	env_start(&e, &o);
	for (i = 0; i < sizeof(step) / sizeof(step[0]); i++) {
		mock_set_used_event(&e.q[0], step[i].used_event);
		add_reads(&e, step[i].n, 16ull * used);
		kick(&e, 0);
		wait_cq(&e, step[i].n);
		one_turn(&e);
		used = (uint16_t)(used + step[i].n);
		assert_int_equal(mock_used_idx(&e.q[0]), used);
		assert_int_equal(e.irqs[1], step[i].irqs);
	}
	env_stop(&e);
}

/* ---- merging neighbours (issue 13) ---- */

static struct vblk_stats blk_stats(struct env *e)
{
	struct vblk_stats s;

	pthread_mutex_lock(&e->d->lock);
	vblk_get_stats(e->d, &s);
	pthread_mutex_unlock(&e->d->lock);
	return s;
}

/* Waits for n used entries of queue 0. */
static void wait_n_used(struct env *e, unsigned int n)
{
	uint32_t id, len;
	unsigned int done = 0;

	while (done < n && wait_used(e, 0, &id, &len))
		done++;
	assert_int_equal(done, n);
}

/*
 * Neighbours popped in one pass go to the host as ONE operation and complete
 * together; requests that are not neighbours (a gap, the other direction)
 * go on their own; the data lands where each request said.
 */
static void test_neighbours_merged(void **state)
{
	struct env_opts o = { .fill = -1 };
	struct env e;
	uint64_t w[8], st[8], r[6], rst[6];
	uint8_t buf[4096];
	struct vblk_stats s;
	unsigned int i;
	uint64_t updates;

	(void)state;
	env_start(&e, &o);
	/* Eight 4 KiB writes end to end, made available in reverse: sorted, one writev. */
	for (i = 0; i < 8; i++)
		w[i] = gpa_alloc(&e, 4096, (uint8_t)(0x40 + i));
	for (i = 8; i-- > 0;)
		add_req(&e, 0, VIRTIO_BLK_T_OUT, 8ull * i, w[i], 4096, &st[i]);
	updates = e.d->vq[0].nr_used_updates;
	kick(&e, 0);
	assert_int_equal(e.img.nr_submitted, 1);
	s = blk_stats(&e);
	assert_int_equal(s.merged_ops, 1);
	assert_int_equal(s.merged_requests, 8);
	wait_cq(&e, 1);
	one_turn(&e);
	assert_int_equal(mock_used_idx(&e.q[0]), 8);
	assert_int_equal(e.d->vq[0].nr_used_updates - updates, 1);
	for (i = 0; i < 8; i++) {
		assert_int_equal(status_of(&e, st[i]), VIRTIO_BLK_S_OK);
		file_read(&e, 4096ull * i, buf, sizeof(buf));
		assert_true(all_bytes(buf, sizeof(buf), (uint8_t)(0x40 + i)));
	}
	assert_int_equal(blk_stats(&e).bytes_written, 8 * 4096);
	wait_n_used(&e, 8);	/* the driver takes them */

	/* Reads at 0, 8, 16 (one readv), 40 (a gap: alone), writes at 100, 108 (one writev). */
	static const uint64_t sector[6] = { 16, 0, 40, 8, 100, 108 };
	for (i = 0; i < 6; i++) {
		uint32_t type = sector[i] >= 100 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;

		r[i] = gpa_alloc(&e, 4096, type == VIRTIO_BLK_T_OUT ? 0x70 : 0);
		add_req(&e, 0, type, sector[i], r[i], 4096, &rst[i]);
	}
	kick(&e, 0);
	assert_int_equal(e.img.nr_submitted, 1 + 3);
	s = blk_stats(&e);
	assert_int_equal(s.merged_ops, 1 + 2);
	assert_int_equal(s.merged_requests, 8 + 5);
	wait_n_used(&e, 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(status_of(&e, rst[i]), VIRTIO_BLK_S_OK);
	for (i = 0; i < 4; i++)
		assert_true(all_bytes(mock_host(&e.m, r[i]), 4096,
				      sector[i] < 64 ? (uint8_t)(0x40 + sector[i] / 8) : 0));
	file_read(&e, 100 * 512, buf, sizeof(buf));
	assert_true(all_bytes(buf, sizeof(buf), 0x70));
	assert_int_equal(blk_stats(&e).merge_splits, 0);
	env_stop(&e);
}

/* A merged operation never exceeds VBLK_MERGE_MAX bytes nor IOV_MAX buffers. */
static void test_merge_bounds(void **state)
{
	struct env_opts o = { .fill = 0x11, .size = 8 * MiB };
	struct env e;
	struct mock_buf b[256];
	uint64_t data, st;
	struct vblk_stats s;
	unsigned int i, k;

	(void)state;
	env_start(&e, &o);
	/* Five neighbouring 1 MiB reads: four in one readv (4 MiB), the fifth alone. */
	for (i = 0; i < 5; i++)
		add_req(&e, 0, VIRTIO_BLK_T_IN, 2048ull * i, gpa_alloc(&e, MiB, 0), MiB, &st);
	kick(&e, 0);
	assert_int_equal(e.img.nr_submitted, 2);
	s = blk_stats(&e);
	assert_int_equal(s.merged_ops, 1);
	assert_int_equal(s.merged_requests, 4);
	wait_n_used(&e, 5);

	/* Five neighbouring reads of 254 buffers each: four (1016 buffers) in one, the fifth alone. */
	for (k = 0; k < 5; k++) {
		data = gpa_alloc(&e, 254 * 512, 0);
		b[0] = (struct mock_buf){ put_hdr(&e, VIRTIO_BLK_T_IN, 10240 + 254ull * k), 16, false };
		for (i = 0; i < 254; i++)
			b[1 + i] = (struct mock_buf){ data + 512ull * i, 512, true };
		st = put_status(&e);
		b[255] = (struct mock_buf){ st, 1, true };
		mock_add_indirect(&e.q[0], b, 256);
	}
	kick(&e, 0);
	assert_int_equal(e.img.nr_submitted, 2 + 2);
	s = blk_stats(&e);
	assert_int_equal(s.merged_ops, 2);
	assert_int_equal(s.merged_requests, 8);
	wait_n_used(&e, 5);
	assert_int_equal(status_of(&e, st), VIRTIO_BLK_S_OK);
	env_stop(&e);
}

/*
 * A merged read that comes back short (the image shrank under it) is redone
 * request by request: each gets its own outcome, OK or IOERR.
 */
static void test_merge_short_is_redone_alone(void **state)
{
	struct env_opts o = { .fill = 0x3c };
	struct env e;
	uint64_t r[3], st[3];
	unsigned int i;

	(void)state;
	env_start(&e, &o);
	assert_int_equal(truncate(e.path, 64 * 1024), 0);
	/* 56-60 KiB, 60-64 KiB, 64-68 KiB: one 12 KiB readv that returns 8 KiB. */
	for (i = 0; i < 3; i++) {
		r[i] = gpa_alloc(&e, 4096, 0);
		add_req(&e, 0, VIRTIO_BLK_T_IN, 112 + 8ull * i, r[i], 4096, &st[i]);
	}
	kick(&e, 0);
	assert_int_equal(blk_stats(&e).merged_ops, 1);
	wait_n_used(&e, 3);
	assert_int_equal(blk_stats(&e).merge_splits, 1);
	assert_int_equal(status_of(&e, st[0]), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(&e, st[1]), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(&e, st[2]), VIRTIO_BLK_S_IOERR);
	assert_true(all_bytes(mock_host(&e.m, r[0]), 4096, 0x3c));
	assert_true(all_bytes(mock_host(&e.m, r[1]), 4096, 0x3c));
	env_stop(&e);
}

/*
 * A hostile driver keeps more requests available than the queue has slots
 * (re-using heads still in flight): the device takes at most the queue's
 * size, resumes as slots free up, and answers them all.
 */
static void test_slots_bound_in_flight(void **state)
{
	struct env_opts o = { .fill = 0x30, .qsize = 4 };
	struct env e;
	struct mock_buf b[3];
	uint64_t st[8];
	uint32_t id, len;
	unsigned int i, done = 0;

	(void)state;
	env_start(&e, &o);
	for (i = 0; i < 8; i++) {
		b[0] = (struct mock_buf){ put_hdr(&e, VIRTIO_BLK_T_IN, 8ull * i), 16, false };
		b[1] = (struct mock_buf){ gpa_alloc(&e, 4096, 0), 4096, true };
		st[i] = put_status(&e);
		b[2] = (struct mock_buf){ st[i], 1, true };
		mock_add_indirect(&e.q[0], b, 3);
		if (i == 3)
			kick(&e, 0);
	}
	kick(&e, 0);
	while (done < 8 && wait_used(&e, 0, &id, &len))
		done++;
	assert_int_equal(done, 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(status_of(&e, st[i]), VIRTIO_BLK_S_OK);
	env_stop(&e);
}

static void test_reset_in_flight_then_reactivate(void **state)
{
	struct env_opts o = { .fill = 0x61, .size = 8 * MiB };
	struct env e;
	uint64_t st;
	uint32_t id, len;
	unsigned int i;

	(void)state;
	env_start(&e, &o);
	for (i = 0; i < 16; i++)
		add_req(&e, 0, VIRTIO_BLK_T_IN, 512ull * i, gpa_alloc(&e, 256 * 1024, 0),
			256 * 1024, &st);
	kick(&e, 0);
	/* Reset at once, with the reads in flight (or completed but not yet reaped). */
	pthread_mutex_lock(&e.d->lock);
	virtio_dev_reset(e.d);
	pthread_mutex_unlock(&e.d->lock);
	/* Dropped unanswered: nothing reached the used ring, even after the loop runs. */
	ev_loop_poll(&e.loop, 50);
	assert_int_equal(mock_used_idx(&e.q[0]), 0);
	assert_int_equal(e.irqs[1], 0);

	/* The driver sets the device up again (a reboot, or rmmod + modprobe). */
	env_activate(&e);
	st = 0;
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 0, gpa_alloc(&e, 512, 0), 512),
			 VIRTIO_BLK_S_OK);
	/* And once more, with nothing in flight. */
	pthread_mutex_lock(&e.d->lock);
	virtio_dev_reset(e.d);
	pthread_mutex_unlock(&e.d->lock);
	env_activate(&e);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	(void)id;
	(void)len;
	env_stop(&e);
}

/*
 * A guest reboot: hvrun destroys the device but keeps the image (opened once,
 * before the privilege drop; hv/host.c) for the next boot's device.  The
 * device must leave it open and idle, even when destroyed with I/O in flight.
 */
static void test_image_outlives_device(void **state)
{
	struct env_opts o = { .fill = 0x44, .size = 8 * MiB };
	struct env e;
	uint64_t st, w, r;
	unsigned int i;

	(void)state;
	env_start(&e, &o);
	w = gpa_alloc(&e, 4096, 0x99);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_OUT, 64, w, 4096), VIRTIO_BLK_S_OK);
	for (i = 0; i < 16; i++)
		add_req(&e, 0, VIRTIO_BLK_T_IN, 512ull * i, gpa_alloc(&e, 256 * 1024, 0),
			256 * 1024, &st);
	kick(&e, 0);
	/* Destroyed at once, without a reset first: destroy itself waits for the reads. */
	e.d->ops->destroy(e.d);
	e.d = NULL;
	assert_int_equal(e.img.in_flight, 0);
	assert_true(fcntl(e.img.fd, F_GETFD) >= 0);
	assert_true(fcntl(e.img.event_fd, F_GETFD) >= 0);

	/* The next boot: a new device on the same image sees what the first one wrote. */
	assert_int_equal(env_create(&e, NULL), 0);
	r = gpa_alloc(&e, 4096, 0);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 64, r, 4096), VIRTIO_BLK_S_OK);
	assert_true(all_bytes(mock_host(&e.m, r), 4096, 0x99));
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 0, r, 4096), VIRTIO_BLK_S_OK);
	assert_true(all_bytes(mock_host(&e.m, r), 4096, 0x44));

	/* And a third, after the usual reset + destroy. */
	env_destroy_device(&e);
	assert_int_equal(env_create(&e, NULL), 0);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	env_stop(&e);
}

/* What vblk_create() checks of a borrowed image, at every boot. */
static void test_create_on_image(void **state)
{
	struct env_opts o = { .fill = -1, .size = 2 * MiB };
	struct vblk_options vo = { 0 };
	struct virtio_dev *d = NULL;
	struct env e;

	(void)state;
	env_start(&e, &o);
	env_destroy_device(&e);
	/* No image. */
	assert_int_equal(vblk_create(&vo, &e.m.gm, &e.loop, 1, &d, e.err, sizeof(e.err)), -EINVAL);
	/* More queues than the ring was sized for. */
	vo.img = &e.img;
	assert_int_equal(vblk_create(&vo, &e.m.gm, &e.loop, 2, &d, e.err, sizeof(e.err)), -EINVAL);
	assert_non_null(strstr(e.err, "opened for 1 queue(s), not 2"));
	assert_null(d);
	/* The size is read again at each boot: grown, then shrunk below a sector. */
	assert_int_equal(truncate(e.path, 3 * MiB), 0);
	assert_int_equal(env_create(&e, NULL), 0);
	assert_int_equal(vblk_capacity(e.d), 3 * MiB / 512);
	env_destroy_device(&e);
	assert_int_equal(truncate(e.path, 100), 0);
	assert_int_equal(vblk_create(&vo, &e.m.gm, &e.loop, 1, &d, e.err, sizeof(e.err)), -EINVAL);
	assert_non_null(strstr(e.err, "less than one 512-byte sector"));
	env_stop(&e);
}

/* ---- configuration, creation errors ---- */

static void test_config_space(void **state)
{
	struct env_opts o = { .fill = -1, .size = 3 * MiB, .nr_queues = 2 };
	struct virtio_blk_config *c;
	struct env e;
	struct stat st;
	uint64_t f;
	unsigned int exp = 0;

	(void)state;
	env_start(&e, &o);
	assert_int_equal(e.d->config_size, 96);
	c = e.d->config;
	assert_int_equal(le64toh(c->capacity), 3 * MiB / 512);
	assert_int_equal(le32toh(c->seg_max), VBLK_SEG_MAX);
	assert_int_equal(le32toh(c->blk_size), 512);
	assert_int_equal(le16toh(c->num_queues), 2);
	assert_int_equal(stat(e.path, &st), 0);
	if (st.st_blksize >= 512 && st.st_blksize <= 65536 && !(st.st_blksize & (st.st_blksize - 1)))
		while ((512u << exp) < (unsigned int)st.st_blksize)
			exp++;
	assert_int_equal(c->topology.physical_block_exp, exp);
	assert_int_equal(le16toh(c->topology.min_io_size), 1u << exp);
	assert_int_equal(le32toh(c->max_discard_seg), VBLK_MAX_DZ_SEG);
	assert_int_equal(le32toh(c->max_discard_sectors), VBLK_MAX_DZ_SECTORS);
	assert_int_equal(le32toh(c->discard_sector_alignment), 1u << exp);
	assert_int_equal(le32toh(c->max_write_zeroes_seg), VBLK_MAX_DZ_SEG);
	assert_int_equal(c->write_zeroes_may_unmap, 1);
	assert_int_equal(c->unused0, 0);
	f = e.d->host_features;
	assert_true(f & VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX));
	assert_true(f & VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE));
	assert_true(f & VIRTIO_BIT(VIRTIO_BLK_F_TOPOLOGY));
	assert_true(f & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
	assert_true(f & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD));
	assert_true(f & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES));
	assert_true(f & VIRTIO_BIT(VIRTIO_BLK_F_MQ));
	assert_true(f & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	assert_true(f & VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	assert_true(f & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_false(f & VIRTIO_BIT(VIRTIO_BLK_F_RO));
	assert_int_equal(e.d->ops->device_id, VIRTIO_ID_BLOCK);
	env_stop(&e);
}

static void test_resize(void **state)
{
	struct env_opts o = { .fill = -1 };
	struct virtio_blk_config *c;
	struct env e;
	uint8_t gen;
	uint64_t r;

	(void)state;
	env_start(&e, &o);
	c = e.d->config;
	gen = e.d->config_generation;
	assert_int_equal(truncate(e.path, 2 * MiB + 100), 0);
	pthread_mutex_lock(&e.d->lock);
	assert_int_equal(vblk_resize(e.d), 0);
	pthread_mutex_unlock(&e.d->lock);
	assert_int_equal(le64toh(c->capacity), 2 * MiB / 512);
	assert_int_equal(vblk_capacity(e.d), 2 * MiB / 512);
	assert_int_not_equal(e.d->config_generation, gen);
	assert_int_equal(e.irqs[0], 1);
	/* The new sectors are usable. */
	r = gpa_alloc(&e, 512, 0xff);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 2 * MiB / 512 - 1, r, 512), VIRTIO_BLK_S_OK);
	assert_true(all_bytes(mock_host(&e.m, r), 512, 0));
	/* Same size again: no interrupt. */
	pthread_mutex_lock(&e.d->lock);
	assert_int_equal(vblk_resize(e.d), 0);
	pthread_mutex_unlock(&e.d->lock);
	assert_int_equal(e.irqs[0], 1);
	env_stop(&e);
}

/* vblk_open_image() + vblk_create() on a bad path: -errno and one clear line. */
static int create_err(const char *path, bool ro, bool cache_none, const char *serial, char *err,
		      size_t errlen)
{
	struct vblk_options vo = { .serial = serial };
	struct virtio_dev *d = NULL;
	struct rawimg img;
	struct mock_vm m;
	struct ev_loop loop;
	int ret;

	mock_vm_init(&m, RAM_BASE, 1 << 20);
	assert_int_equal(ev_loop_init(&loop, "test-blk"), 0);
	ret = vblk_open_image(&img, path, ro, cache_none, 1, err, errlen);
	if (ret == 0) {
		vo.img = &img;
		ret = vblk_create(&vo, &m.gm, &loop, 1, &d, err, errlen);
		if (ret == 0)
			d->ops->destroy(d);
		rawimg_close(&img);
	}
	ev_loop_destroy(&loop);
	mock_vm_free(&m);
	return ret;
}

static void test_create_errors(void **state)
{
	char err[256], path[256];
	struct env e;
	int fd;

	(void)state;
	assert_int_equal(create_err("/nonexistent/disk.img", false, false, NULL, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/disk.img"));
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(create_err("/tmp", false, false, NULL, err, sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, "is a directory"));
	assert_int_equal(create_err("/dev/null", false, false, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file or a block device"));

	/* Smaller than a sector. */
	make_image(&e, "/tmp", 100, 0);
	assert_int_equal(create_err(e.path, false, false, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "less than one 512-byte sector"));
	unlink(e.path);

	/* A serial over 20 bytes. */
	make_image(&e, "/tmp", 4096, 0);
	assert_int_equal(create_err(e.path, false, false, "0123456789abcdefghijk", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "longer than 20"));
	unlink(e.path);

	/* Read-write on a file we may not write: the message suggests ro (not as root). */
	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "/tmp/hvrun-vblk-ro-XXXXXX");
		fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, 4096), 0);
		close(fd);
		chmod(path, 0444);
		assert_int_equal(create_err(path, false, false, NULL, err, sizeof(err)), -EACCES);
		assert_non_null(strstr(err, "ro"));
		unlink(path);
	}
}

/* A size that is not whole sectors is rounded down, as Firecracker does (docs/08-virtio-blk.md). */
static void test_size_rounded_down(void **state)
{
	struct env_opts o = { .fill = 0x0f, .size = 1500 };
	struct env e;
	uint64_t r;

	(void)state;
	env_start(&e, &o);
	assert_int_equal(vblk_capacity(e.d), 2);
	r = gpa_alloc(&e, 1024, 0);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 0, r, 1024), VIRTIO_BLK_S_OK);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 2, r, 512), VIRTIO_BLK_S_IOERR);
	env_stop(&e);
}

/* cache=none where O_DIRECT is impossible (procfs has no O_DIRECT anywhere): a clear error. */
static void test_cache_none_unsupported(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(create_err("/proc/version", true, true, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "O_DIRECT"));
	assert_non_null(strstr(err, "cache=writeback"));
}

/* cache=none where O_DIRECT works: aligned buffers go direct, odd ones through the page cache. */
static void test_cache_none_direct(void **state)
{
	struct env_opts o = { .fill = -1, .cache_none = true, .dir = "/var/tmp" };
	struct env e;
	struct mock_buf b[4];
	uint64_t w, r, st;
	uint32_t id, len;
	uint8_t *p, file[4096];
	unsigned int i;
	int ret;

	(void)state;
	ret = env_try(&e, &o);
	if (ret == -EINVAL || ret == -ENOENT || ret == -EACCES) {
		print_message("skipped: %s\n", e.err);
		env_stop(&e);
		skip();
	}
	assert_int_equal(ret, 0);
	/* Aligned: O_DIRECT. */
	w = gpa_alloc(&e, 4096, 0);
	p = mock_host(&e.m, w);
	for (i = 0; i < 4096; i++)
		p[i] = (uint8_t)(i ^ 0x5a);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_OUT, 8, w, 4096), VIRTIO_BLK_S_OK);
	/* Read back into misaligned pieces: the page-cache descriptor. */
	r = gpa_alloc(&e, 4096 + 64, 0);
	b[0] = (struct mock_buf){ put_hdr(&e, VIRTIO_BLK_T_IN, 8), 16, false };
	b[1] = (struct mock_buf){ r + 3, 100, true };
	b[2] = (struct mock_buf){ r + 103, 3996, true };
	st = put_status(&e);
	b[3] = (struct mock_buf){ st, 1, true };
	mock_add_chain(&e.q[0], b, 4);
	kick(&e, 0);
	assert_true(wait_used(&e, 0, &id, &len));
	assert_int_equal(status_of(&e, st), VIRTIO_BLK_S_OK);
	assert_memory_equal(mock_host(&e.m, r + 3), p, 4096);
	/* A misaligned write, then an aligned (direct) read sees it. */
	b[0] = (struct mock_buf){ put_hdr(&e, VIRTIO_BLK_T_OUT, 1), 16, false };
	b[1] = (struct mock_buf){ r + 3, 512, false };
	st = put_status(&e);
	b[2] = (struct mock_buf){ st, 1, true };
	mock_add_chain(&e.q[0], b, 3);
	kick(&e, 0);
	assert_true(wait_used(&e, 0, &id, &len));
	assert_int_equal(status_of(&e, st), VIRTIO_BLK_S_OK);
	w = gpa_alloc(&e, 4096, 0);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_IN, 0, w, 4096), VIRTIO_BLK_S_OK);
	assert_memory_equal((uint8_t *)mock_host(&e.m, w) + 512, p, 512);
	assert_int_equal(do_req(&e, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	file_read(&e, 8 * 512, file, sizeof(file));
	assert_memory_equal(file, p, sizeof(file));
	env_stop(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_then_read_back),
		cmocka_unit_test(test_any_framing),
		cmocka_unit_test(test_indirect_many_descriptors),
		cmocka_unit_test(test_read_beyond_capacity),
		cmocka_unit_test(test_sector_overflow),
		cmocka_unit_test(test_length_not_multiple_of_512),
		cmocka_unit_test(test_missing_status_byte),
		cmocka_unit_test(test_header_in_writable_buffer),
		cmocka_unit_test(test_wrong_data_direction),
		cmocka_unit_test(test_unsupported_type),
		cmocka_unit_test(test_get_id),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_writethrough_without_flush),
		cmocka_unit_test(test_discard_punches_hole),
		cmocka_unit_test(test_write_zeroes),
		cmocka_unit_test(test_write_zeroes_fallback_tmpfs),
		cmocka_unit_test(test_discard_write_zeroes_malformed),
		cmocka_unit_test(test_readonly_refuses_writes),
		cmocka_unit_test(test_host_write_error),
		cmocka_unit_test(test_host_read_error),
		cmocka_unit_test(test_multiqueue),
		cmocka_unit_test(test_batching),
		cmocka_unit_test(test_qd32_one_pass_one_update),
		cmocka_unit_test(test_neighbours_merged),
		cmocka_unit_test(test_merge_bounds),
		cmocka_unit_test(test_merge_short_is_redone_alone),
		cmocka_unit_test(test_new_requests_ride_on_completions),
		cmocka_unit_test(test_event_idx_interrupt_exactly),
		cmocka_unit_test(test_slots_bound_in_flight),
		cmocka_unit_test(test_reset_in_flight_then_reactivate),
		cmocka_unit_test(test_image_outlives_device),
		cmocka_unit_test(test_create_on_image),
		cmocka_unit_test(test_config_space),
		cmocka_unit_test(test_resize),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_size_rounded_down),
		cmocka_unit_test(test_cache_none_unsupported),
		cmocka_unit_test(test_cache_none_direct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
