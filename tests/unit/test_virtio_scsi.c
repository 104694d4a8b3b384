/* test_virtio_scsi.c: virtio-scsi driven by the mock driver over a temp ISO: config, commands, SeaBIOS's boot sequence, TMFs, the event queue, hostile chains. */
#include "tests/unit/cmocka_inc.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/scsi/scsi_cd.h"
#include "devices/virtio_scsi.h"
#include "tests/unit/mock_virtio.h"

#define RAM_BASE	0x100000ull
#define RAM_SIZE	(4u << 20)
#define QSIZE		64
#define BLK		2048u
#define NBLOCKS		24u
#define RESP_LEN	(12u + 96u)	/* response header + the default sense_size */
#define SENTINEL	0xee

struct env {
	struct mock_vm m;
	struct ev_loop loop;
	struct virtio_dev *d;
	struct mock_queue q[VSCSI_NR_QUEUES];
	uint8_t iso[NBLOCKS * BLK];
	char path[64];
	int fd;
	uint32_t cdb_size, sense_size;	/* what the "driver" set */
	int irqs[VSCSI_NR_QUEUES + 1];	/* [0]: configuration, [1 + q]: queue q */
	char err[256];
};

static void raise_fn(struct virtio_dev *d, int q)
{
	struct env *e = d->transport;

	e->irqs[q + 1]++;
}

static void make_vd(uint8_t *s, uint8_t type)
{
	memset(s, 0, BLK);
	s[0] = type;
	memcpy(&s[1], "CD001", 5);
	s[6] = 1;
}

/*
 * An El Torito ISO as SeaBIOS's cdrom_boot() reads it: PVD (16), boot
 * record (17) pointing at the catalog (19), terminator (18), a no-emulation
 * boot image of 4 virtual sectors at 20.  Other blocks carry a pattern.
 */
static void make_iso(uint8_t *img)
{
	uint8_t *s;

	for (unsigned int i = 0; i < NBLOCKS * BLK; i++)
		img[i] = (uint8_t)(i / BLK * 13 + i);
	make_vd(&img[16 * BLK], 1);
	memset(&img[16 * BLK + 40], ' ', 32);
	memcpy(&img[16 * BLK + 40], "HVRUN_SCSI", 10);
	s = &img[17 * BLK];
	make_vd(s, 0);
	memcpy(&s[7], "EL TORITO SPECIFICATION", 23);
	s[0x47] = 19;			/* catalog LBA, little-endian */
	make_vd(&img[18 * BLK], 255);
	s = &img[19 * BLK];
	memset(s, 0, BLK);
	s[0x00] = 0x01;			/* validation entry */
	s[0x1e] = 0x55;
	s[0x1f] = 0xaa;
	s[0x20] = 0x88;			/* bootable, no emulation */
	s[0x26] = 4;			/* 4 x 512 bytes */
	s[0x28] = 20;			/* image LBA */
}

/* Features accepted, the given queues enabled, DRIVER_OK: a driver's probe. */
static void env_activate(struct env *e, unsigned int queue_mask)
{
	struct virtio_dev *d = e->d;

	pthread_mutex_lock(&d->lock);
	d->features = d->host_features;
	for (unsigned int i = 0; i < VSCSI_NR_QUEUES; i++) {
		if (!(queue_mask & (1u << i)))
			continue;
		mock_queue_init(&e->q[i], &e->m, QSIZE);
		assert_int_equal(mock_queue_enable(&e->q[i], &d->vq[i], d->features), 0);
	}
	mock_dev_driver_ok(d);
	pthread_mutex_unlock(&d->lock);
	e->cdb_size = 32;
	e->sense_size = 96;
}

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));
	struct vscsi_options o;

	assert_non_null(e);
	make_iso(e->iso);
	snprintf(e->path, sizeof(e->path), "/tmp/hvrun-vscsi-XXXXXX");
	e->fd = mkstemp(e->path);
	assert_true(e->fd >= 0);
	assert_int_equal(write(e->fd, e->iso, sizeof(e->iso)), (ssize_t)sizeof(e->iso));
	mock_vm_init(&e->m, RAM_BASE, RAM_SIZE);
	assert_int_equal(ev_loop_init(&e->loop, "test-scsi"), 0);
	o = (struct vscsi_options){ .cd_fd = e->fd, .cd_size = sizeof(e->iso), .cd_name = e->path };
	assert_int_equal(vscsi_create(&o, &e->m.gm, &e->loop, &e->d, e->err, sizeof(e->err)), 0);
	e->d->raise = raise_fn;
	e->d->transport = e;
	return e;
}

/* A device whose three queues are running, as Linux sets it up. */
static struct env *env_start(void)
{
	struct env *e = env_new();

	env_activate(e, 7);
	return e;
}

static void env_free(struct env *e)
{
	mock_dev_reset(e->d);
	e->d->ops->destroy(e->d);
	/* The device never closes the ISO: this must still work. */
	assert_int_equal(close(e->fd), 0);
	unlink(e->path);
	ev_loop_destroy(&e->loop);
	mock_vm_free(&e->m);
	free(e);
}

static void kick(struct env *e, unsigned int q)
{
	mock_dev_notify(e->d, q);
}

static void config_write(struct env *e, uint32_t off, const void *p, uint32_t len)
{
	pthread_mutex_lock(&e->d->lock);
	e->d->ops->config_write(e->d, off, p, len);
	pthread_mutex_unlock(&e->d->lock);
}

static const struct virtio_scsi_config *config(struct env *e)
{
	return e->d->config;
}

static uint64_t gpa_fill(struct env *e, uint32_t len, uint8_t fill)
{
	uint64_t g = mock_alloc(&e->m, len ? len : 1, 16);

	memset(mock_host(&e->m, g), fill, len);
	return g;
}

/* The request: lun[] for (target, LUN) in the flat format, then the CDB in cdb_size bytes. */
static uint64_t put_req(struct env *e, uint8_t target, uint16_t lun, const uint8_t *cdb, size_t n)
{
	uint32_t len = 19 + e->cdb_size;
	uint64_t g = gpa_fill(e, len, 0);
	uint8_t *p = mock_host(&e->m, g);

	p[0] = 1;
	p[1] = target;
	p[2] = (uint8_t)(0x40 | (lun >> 8));
	p[3] = (uint8_t)lun;
	memcpy(p + 19, cdb, n < e->cdb_size ? n : e->cdb_size);
	return g;
}

struct reply {
	uint32_t id, used;		/* the used element */
	uint32_t sense_len, resid;
	uint8_t status, response;
	const uint8_t *sense;
	uint8_t *data;			/* the data-in buffer */
};

static void read_resp(struct env *e, uint64_t resp, struct reply *r)
{
	struct virtio_scsi_resp_cmd_hdr h;

	memcpy(&h, mock_host(&e->m, resp), sizeof(h));
	r->sense_len = le32toh(h.sense_len);
	r->resid = le32toh(h.resid);
	r->status = h.status;
	r->response = h.response;
	r->sense = (const uint8_t *)mock_host(&e->m, resp) + 12;
}

/* The next used element of queue q, which must be there: commands complete in notify(). */
static void get_used(struct env *e, unsigned int q, uint16_t head, struct reply *r)
{
	assert_true(mock_get_used(&e->q[q], &r->id, &r->used));
	assert_int_equal(r->id, head);
}

/* request | response | data-in of din bytes (if any), in three descriptors, as Linux and SeaBIOS frame it. */
static void cmd(struct env *e, uint8_t target, uint16_t lun, const uint8_t *cdb, size_t n,
		uint32_t din, struct reply *r)
{
	uint32_t resp_len = 12 + e->sense_size;
	struct mock_buf b[3] = {
		{ put_req(e, target, lun, cdb, n), 19 + e->cdb_size, false },
		{ gpa_fill(e, resp_len, SENTINEL), resp_len, true },
		{ gpa_fill(e, din, SENTINEL), din, true },
	};
	uint16_t head = mock_add_chain(&e->q[VSCSI_REQUESTQ], b, din ? 3 : 2);

	kick(e, VSCSI_REQUESTQ);
	get_used(e, VSCSI_REQUESTQ, head, r);
	read_resp(e, b[1].gpa, r);
	r->data = mock_host(&e->m, b[2].gpa);
}

#define CMD(e, target, lun, din, r, ...)					\
	do {									\
		const uint8_t cdb_[] = { __VA_ARGS__ };				\
		cmd((e), (target), (lun), cdb_, sizeof(cdb_), (din), (r));	\
	} while (0)

/* Clears the power-on unit attention with one TEST UNIT READY. */
static void take_ua(struct env *e)
{
	struct reply r;

	CMD(e, 0, 0, 0, &r, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_int_equal(r.status, SCSI_STATUS_CHECK_CONDITION);
}

static void assert_ok(const struct reply *r, uint32_t resid)
{
	assert_int_equal(r->response, VIRTIO_SCSI_S_OK);
	assert_int_equal(r->status, SCSI_STATUS_GOOD);
	assert_int_equal(r->sense_len, 0);
	assert_int_equal(r->resid, resid);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- configuration ---- */

static void test_config_space(void **state)
{
	struct env *e = env_new();
	const struct virtio_scsi_config *c = config(e);
	uint32_t v;
	uint8_t b;

	(void)state;
	assert_int_equal(e->d->ops->device_id, VIRTIO_ID_SCSI);
	assert_int_equal(e->d->ops->pci_class, 0x010000);
	assert_int_equal(e->d->nr_queues, 3);
	assert_int_equal(e->d->config_size, 36);
	assert_true(e->d->host_features & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_false(e->d->host_features & (VIRTIO_BIT(VIRTIO_SCSI_F_INOUT) |
					    VIRTIO_BIT(VIRTIO_SCSI_F_HOTPLUG) |
					    VIRTIO_BIT(VIRTIO_SCSI_F_CHANGE) |
					    VIRTIO_BIT(VIRTIO_SCSI_F_T10_PI)));
	assert_int_equal(le32toh(c->num_queues), 1);
	assert_int_equal(le32toh(c->seg_max), 254);
	assert_int_equal(le32toh(c->max_sectors), 0xffff);
	assert_int_equal(le32toh(c->cmd_per_lun), 128);
	assert_int_equal(le32toh(c->event_info_size), 16);
	assert_int_equal(le32toh(c->sense_size), 96);
	assert_int_equal(le32toh(c->cdb_size), 32);
	assert_int_equal(le16toh(c->max_channel), 0);
	assert_int_equal(le16toh(c->max_target), 0);
	assert_int_equal(le32toh(c->max_lun), 0);
	/* The driver writes sense_size and cdb_size (Linux's virtscsi_init()); nothing else. */
	v = htole32(64);
	config_write(e, 20, &v, 4);
	v = htole32(7);
	config_write(e, 0, &v, 4);
	config_write(e, 32, &v, 4);
	b = 16;
	config_write(e, 24, &b, 1);
	assert_int_equal(le32toh(c->sense_size), 64);
	assert_int_equal(le32toh(c->cdb_size), 16);
	assert_int_equal(le32toh(c->num_queues), 1);
	assert_int_equal(le32toh(c->max_lun), 0);
	/* A write straddling event_info_size and sense_size changes only the latter. */
	v = htole32(0x00202020);
	config_write(e, 18, &v, 4);
	assert_int_equal(le32toh(c->event_info_size), 16);
	assert_int_equal(le32toh(c->sense_size), 0x20);
	/* A reset brings the defaults back (§5.6.4). */
	mock_dev_reset(e->d);
	assert_int_equal(le32toh(c->sense_size), 96);
	assert_int_equal(le32toh(c->cdb_size), 32);
	env_free(e);
}

/* ---- commands ---- */

static void test_inquiry_lun0(void **state)
{
	struct env *e = env_start();
	struct reply r;

	(void)state;
	/* Linux's scsi_probe_lun(): INQUIRY, 36 bytes; the unit attention does not hit it. */
	CMD(e, 0, 0, 36, &r, SCSI_INQUIRY, 0, 0, 0, 36, 0);
	assert_ok(&r, 0);
	assert_int_equal(r.used, RESP_LEN + 36);
	assert_int_equal(r.data[0], 0x05);
	assert_int_equal(r.data[1], 0x80);
	assert_memory_equal(&r.data[8], "HVRUN   CD-ROM", 14);
	/* A larger buffer: resid says what was not filled. */
	CMD(e, 0, 0, 255, &r, SCSI_INQUIRY, 0, 0, 0, 255, 0);
	assert_ok(&r, 255 - 36);
	assert_int_equal(r.used, RESP_LEN + 36);
	assert_int_equal(r.data[36], SENTINEL);
	/* VPD 80h: the serial is the PVD's hash, 8 hex digits. */
	CMD(e, 0, 0, 255, &r, SCSI_INQUIRY, 1, 0x80, 0, 255, 0);
	assert_ok(&r, 255 - 12);
	assert_int_equal(r.data[3], 8);
	assert_true(e->irqs[1 + VSCSI_REQUESTQ] >= 1);	/* EVENT_IDX: the driver's used_event decides */
	env_free(e);
}

static void test_bad_target(void **state)
{
	struct env *e = env_start();
	uint8_t inq[6] = { SCSI_INQUIRY, 0, 0, 0, 36, 0 };
	struct vscsi_stats st;
	struct reply r;

	(void)state;
	CMD(e, 5, 0, 36, &r, SCSI_INQUIRY, 0, 0, 0, 36, 0);
	assert_int_equal(r.response, VIRTIO_SCSI_S_BAD_TARGET);
	assert_int_equal(r.resid, 36);
	assert_int_equal(r.sense_len, 0);
	assert_int_equal(r.data[0], SENTINEL);
	/* lun[0] != 1, and LUN addressing methods other than peripheral/flat. */
	{
		struct mock_buf b[3] = {
			{ put_req(e, 0, 0, inq, sizeof(inq)), 51, false },
			{ gpa_fill(e, RESP_LEN, SENTINEL), RESP_LEN, true },
			{ gpa_fill(e, 36, SENTINEL), 36, true },
		};
		uint8_t *req = mock_host(&e->m, b[0].gpa);
		uint16_t head;

		req[0] = 2;
		head = mock_add_chain(&e->q[VSCSI_REQUESTQ], b, 3);
		kick(e, VSCSI_REQUESTQ);
		get_used(e, VSCSI_REQUESTQ, head, &r);
		read_resp(e, b[1].gpa, &r);
		assert_int_equal(r.response, VIRTIO_SCSI_S_BAD_TARGET);
		req[0] = 1;
		req[2] = 0xc1;		/* extended addressing (a well-known LUN) */
		head = mock_add_chain(&e->q[VSCSI_REQUESTQ], b, 3);
		kick(e, VSCSI_REQUESTQ);
		get_used(e, VSCSI_REQUESTQ, head, &r);
		read_resp(e, b[1].gpa, &r);
		assert_int_equal(r.response, VIRTIO_SCSI_S_BAD_TARGET);
		/* Peripheral addressing (lun[2] = 0) of LUN 0 is our CD-ROM. */
		req[2] = 0;
		head = mock_add_chain(&e->q[VSCSI_REQUESTQ], b, 3);
		kick(e, VSCSI_REQUESTQ);
		get_used(e, VSCSI_REQUESTQ, head, &r);
		read_resp(e, b[1].gpa, &r);
		assert_int_equal(r.response, VIRTIO_SCSI_S_OK);
	}
	vscsi_get_stats(e->d, &st);
	assert_int_equal(st.bad_target, 3);
	assert_int_equal(st.cmds, 1);
	env_free(e);
}

static void test_absent_lun(void **state)
{
	struct env *e = env_start();
	struct reply r;

	(void)state;
	CMD(e, 0, 3, 36, &r, SCSI_INQUIRY, 0, 0, 0, 36, 0);
	assert_ok(&r, 0);
	assert_int_equal(r.data[0], 0x7f);
	CMD(e, 0, 3, 0, &r, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_int_equal(r.response, VIRTIO_SCSI_S_OK);
	assert_int_equal(r.status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.sense_len, 18);
	assert_int_equal(r.sense[2], SCSI_SK_ILLEGAL_REQUEST);
	assert_int_equal(r.sense[12], 0x25);
	/* REPORT LUNS on any LUN: LUN 0 only (Linux and SeaBIOS send it to LUN 0). */
	CMD(e, 0, 0, 16, &r, SCSI_REPORT_LUNS, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0);
	assert_ok(&r, 0);
	assert_int_equal(be32(r.data), 8);
	env_free(e);
}

static void test_unit_attention_sense(void **state)
{
	struct env *e = env_start();
	static const uint8_t ua[18] = { 0x70, 0, 0x06, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x29, 0 };
	struct reply r;

	(void)state;
	CMD(e, 0, 0, 0, &r, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_int_equal(r.response, VIRTIO_SCSI_S_OK);
	assert_int_equal(r.status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.sense_len, 18);
	assert_memory_equal(r.sense, ua, sizeof(ua));
	assert_int_equal(r.used, RESP_LEN);
	CMD(e, 0, 0, 0, &r, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_ok(&r, 0);
	env_free(e);
}

static void test_read10_data_and_resid(void **state)
{
	struct env *e = env_start();
	struct vscsi_stats st;
	struct reply r;

	(void)state;
	take_ua(e);
	CMD(e, 0, 0, 3 * BLK, &r, SCSI_READ_10, 0, 0, 0, 0, 16, 0, 0, 1, 0);
	assert_ok(&r, 2 * BLK);
	assert_int_equal(r.used, RESP_LEN + BLK);
	assert_memory_equal(r.data, &e->iso[16 * BLK], BLK);
	assert_int_equal(r.data[BLK], SENTINEL);
	/* Several blocks, exactly the buffer. */
	CMD(e, 0, 0, 8 * BLK, &r, SCSI_READ_10, 0, 0, 0, 0, 2, 0, 0, 8, 0);
	assert_ok(&r, 0);
	assert_memory_equal(r.data, &e->iso[2 * BLK], 8 * BLK);
	/* READ CAPACITY. */
	CMD(e, 0, 0, 8, &r, SCSI_READ_CAPACITY_10, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_ok(&r, 0);
	assert_int_equal(be32(r.data), NBLOCKS - 1);
	assert_int_equal(be32(r.data + 4), BLK);
	vscsi_get_stats(e->d, &st);
	assert_int_equal(st.reads, 2);
	assert_int_equal(st.bytes_read, 9 * BLK);
	assert_int_equal(st.cmds, 4);
	assert_int_equal(st.check_conditions, 1);
	env_free(e);
}

/* Any framing (§2.7.4.4): the request in two pieces, the response and data in one buffer, or scattered. */
static void test_any_framing(void **state)
{
	struct env *e = env_start();
	const uint8_t cdb[10] = { SCSI_READ_10, 0, 0, 0, 0, 3, 0, 0, 2, 0 };
	uint64_t req, in;
	struct reply r;
	uint16_t head;

	(void)state;
	take_ua(e);
	req = put_req(e, 0, 0, cdb, sizeof(cdb));
	in = gpa_fill(e, RESP_LEN + 2 * BLK, SENTINEL);
	{
		struct mock_buf b[3] = {
			{ req, 10, false }, { req + 10, 41, false }, { in, RESP_LEN + 2 * BLK, true },
		};

		head = mock_add_chain(&e->q[VSCSI_REQUESTQ], b, 3);
	}
	kick(e, VSCSI_REQUESTQ);
	get_used(e, VSCSI_REQUESTQ, head, &r);
	read_resp(e, in, &r);
	assert_ok(&r, 0);
	assert_memory_equal(mock_host(&e->m, in + RESP_LEN), &e->iso[3 * BLK], 2 * BLK);
	/* The response split across descriptors, the data in odd pieces, all indirect. */
	in = gpa_fill(e, RESP_LEN + 2 * BLK, SENTINEL);
	{
		struct mock_buf b[5] = {
			{ req, 51, false }, { in, 7, true }, { in + 7, RESP_LEN - 7 + 1000, true },
			{ in + RESP_LEN + 1000, 3000, true }, { in + RESP_LEN + 4000, 96, true },
		};

		head = mock_add_indirect(&e->q[VSCSI_REQUESTQ], b, 5);
	}
	kick(e, VSCSI_REQUESTQ);
	get_used(e, VSCSI_REQUESTQ, head, &r);
	read_resp(e, in, &r);
	assert_ok(&r, 0);
	assert_memory_equal(mock_host(&e->m, in + RESP_LEN), &e->iso[3 * BLK], 2 * BLK);
	env_free(e);
}

static void test_data_in_too_short(void **state)
{
	struct env *e = env_start();
	struct reply r;

	(void)state;
	take_ua(e);
	/* Two blocks into one block's room: OVERRUN, nothing transferred. */
	CMD(e, 0, 0, BLK, &r, SCSI_READ_10, 0, 0, 0, 0, 0, 0, 0, 2, 0);
	assert_int_equal(r.response, VIRTIO_SCSI_S_OVERRUN);
	assert_int_equal(r.status, SCSI_STATUS_GOOD);
	assert_int_equal(r.resid, BLK);
	assert_int_equal(r.used, RESP_LEN);
	assert_int_equal(r.data[0], SENTINEL);
	/* No data-in buffer at all for a READ. */
	CMD(e, 0, 0, 0, &r, SCSI_READ_10, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_int_equal(r.response, VIRTIO_SCSI_S_OVERRUN);
	/* INQUIRY data does not fit in 20 bytes; with allocation length 20 it does. */
	CMD(e, 0, 0, 20, &r, SCSI_INQUIRY, 0, 0, 0, 36, 0);
	assert_int_equal(r.response, VIRTIO_SCSI_S_OVERRUN);
	CMD(e, 0, 0, 20, &r, SCSI_INQUIRY, 0, 0, 0, 20, 0);
	assert_ok(&r, 0);
	/* The device keeps working. */
	CMD(e, 0, 0, BLK, &r, SCSI_READ_10, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_ok(&r, 0);
	env_free(e);
}

static void test_lba_out_of_range(void **state)
{
	struct env *e = env_start();
	struct reply r;

	(void)state;
	take_ua(e);
	CMD(e, 0, 0, 2 * BLK, &r, SCSI_READ_10, 0, 0, 0, 0, NBLOCKS - 1, 0, 0, 2, 0);
	assert_int_equal(r.response, VIRTIO_SCSI_S_OK);
	assert_int_equal(r.status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.sense[2], SCSI_SK_ILLEGAL_REQUEST);
	assert_int_equal(r.sense[12], 0x21);
	assert_int_equal(r.resid, 2 * BLK);
	assert_int_equal(r.data[0], SENTINEL);
	env_free(e);
}

/* The driver may shrink sense_size and cdb_size (§5.6.4): the layouts follow. */
static void test_smaller_sizes(void **state)
{
	struct env *e = env_start();
	uint32_t v;
	struct reply r;

	(void)state;
	v = htole32(8);
	config_write(e, 20, &v, 4);
	v = htole32(16);
	config_write(e, 24, &v, 4);
	e->sense_size = 8;
	e->cdb_size = 16;
	CMD(e, 0, 0, 0, &r, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_int_equal(r.status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.sense_len, 8);	/* cut to sense_size */
	assert_int_equal(r.used, 12 + 8);
	CMD(e, 0, 0, BLK, &r, SCSI_READ_16, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0);
	assert_ok(&r, 0);
	assert_int_equal(r.used, 12 + 8 + BLK);
	assert_memory_equal(r.data, &e->iso[5 * BLK], BLK);
	/* sense_size 0: status only. */
	v = 0;
	config_write(e, 20, &v, 4);
	e->sense_size = 0;
	CMD(e, 0, 0, 0, &r, 0xff, 0, 0, 0, 0, 0);
	assert_int_equal(r.status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.sense_len, 0);
	assert_int_equal(r.used, 12);
	env_free(e);
}

/* ---- hostile chains ---- */

/* Publishes bufs on the request queue, kicks, returns the used length (the chain must come back). */
static uint32_t raw_chain(struct env *e, const struct mock_buf *bufs, unsigned int n)
{
	uint16_t head = mock_add_chain(&e->q[VSCSI_REQUESTQ], bufs, n);
	struct reply r;

	kick(e, VSCSI_REQUESTQ);
	get_used(e, VSCSI_REQUESTQ, head, &r);
	return r.used;
}

static void test_malformed_chains(void **state)
{
	struct env *e = env_start();
	const uint8_t tur[6] = { 0 };
	const uint8_t inq[6] = { SCSI_INQUIRY, 0, 0, 0, 36, 0 };
	const uint8_t wr[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	uint64_t req = put_req(e, 0, 0, tur, sizeof(tur));
	uint64_t resp = gpa_fill(e, RESP_LEN, SENTINEL);
	uint64_t data = gpa_fill(e, BLK, SENTINEL);
	struct vscsi_stats st;
	struct reply r;
	uint32_t v;

	(void)state;
	take_ua(e);
	/* A request shorter than header + cdb_size: FAILURE in the response's fixed part. */
	{
		struct mock_buf b[2] = { { req, 40, false }, { resp, RESP_LEN, true } };

		assert_int_equal(raw_chain(e, b, 2), 12);
		read_resp(e, resp, &r);
		assert_int_equal(r.response, VIRTIO_SCSI_S_FAILURE);
	}
	/* No response buffer at all, or one too short for the fixed part: given back empty. */
	{
		struct mock_buf b[1] = { { req, 51, false } };
		struct mock_buf b2[2] = { { req, 51, false }, { resp, 11, true } };

		assert_int_equal(raw_chain(e, b, 1), 0);
		assert_int_equal(raw_chain(e, b2, 2), 0);
	}
	/* A response buffer without room for sense_size: FAILURE. */
	{
		struct mock_buf b[2] = { { req, 51, false }, { resp, 50, true } };

		memset(mock_host(&e->m, resp), SENTINEL, RESP_LEN);
		assert_int_equal(raw_chain(e, b, 2), 12);
		read_resp(e, resp, &r);
		assert_int_equal(r.response, VIRTIO_SCSI_S_FAILURE);
		assert_int_equal(*(uint8_t *)mock_host(&e->m, resp + 12), SENTINEL);
	}
	/* Everything device-writable (the request where the response goes). */
	{
		struct mock_buf b[1] = { { resp, RESP_LEN, true } };

		assert_int_equal(raw_chain(e, b, 1), 12);
		read_resp(e, resp, &r);
		assert_int_equal(r.response, VIRTIO_SCSI_S_FAILURE);
	}
	/* Data-out and data-in: bidirectional, never negotiated. */
	{
		struct mock_buf b[4] = { { req, 51, false }, { data, 512, false },
					 { resp, RESP_LEN, true }, { data + 512, 512, true } };

		assert_int_equal(raw_chain(e, b, 4), RESP_LEN);
		read_resp(e, resp, &r);
		assert_int_equal(r.response, VIRTIO_SCSI_S_FAILURE);
		assert_int_equal(r.resid, 1024);
	}
	/* A WRITE(10) with its data-out: write-protected, the data never read. */
	{
		uint64_t wreq = put_req(e, 0, 0, wr, sizeof(wr));
		struct mock_buf b[3] = { { wreq, 51, false }, { data, BLK, false },
					 { resp, RESP_LEN, true } };

		assert_int_equal(raw_chain(e, b, 3), RESP_LEN);
		read_resp(e, resp, &r);
		assert_int_equal(r.response, VIRTIO_SCSI_S_OK);
		assert_int_equal(r.status, SCSI_STATUS_CHECK_CONDITION);
		assert_int_equal(r.sense[2], SCSI_SK_DATA_PROTECT);
		assert_int_equal(r.sense[12], 0x27);
		assert_int_equal(r.resid, BLK);
	}
	/* INQUIRY whose buffer points the wrong way (device-readable): no room for data-in. */
	{
		uint64_t ireq = put_req(e, 0, 0, inq, sizeof(inq));
		struct mock_buf b[3] = { { ireq, 51, false }, { data, 36, false },
					 { resp, RESP_LEN, true } };

		memset(mock_host(&e->m, data), SENTINEL, 36);
		assert_int_equal(raw_chain(e, b, 3), RESP_LEN);
		read_resp(e, resp, &r);
		assert_int_equal(r.response, VIRTIO_SCSI_S_OVERRUN);
		assert_int_equal(*(uint8_t *)mock_host(&e->m, data), SENTINEL);
	}
	/* Absurd sizes from the driver: no overflow, FAILURE. */
	v = 0xffffffff;
	config_write(e, 20, &v, 4);
	{
		struct mock_buf b[2] = { { req, 51, false }, { resp, RESP_LEN, true } };

		assert_int_equal(raw_chain(e, b, 2), 12);
		read_resp(e, resp, &r);
		assert_int_equal(r.response, VIRTIO_SCSI_S_FAILURE);
	}
	v = htole32(96);
	config_write(e, 20, &v, 4);
	v = 0xffffffff;
	config_write(e, 24, &v, 4);
	{
		struct mock_buf b[2] = { { req, 51, false }, { resp, RESP_LEN, true } };

		assert_int_equal(raw_chain(e, b, 2), 12);
		read_resp(e, resp, &r);
		assert_int_equal(r.response, VIRTIO_SCSI_S_FAILURE);
	}
	v = htole32(32);
	config_write(e, 24, &v, 4);
	/* Still alive. */
	CMD(e, 0, 0, BLK, &r, SCSI_READ_10, 0, 0, 0, 0, 1, 0, 0, 1, 0);
	assert_ok(&r, 0);
	assert_memory_equal(r.data, &e->iso[BLK], BLK);
	assert_false(e->d->status & VIRTIO_STATUS_NEEDS_RESET);
	vscsi_get_stats(e->d, &st);
	assert_int_equal(st.refused, 8);
	env_free(e);
}

/* A broken ring (a head beyond the queue) latches NEEDS_RESET; a reset revives the device. */
static void test_broken_ring(void **state)
{
	struct env *e = env_start();
	struct reply r;

	(void)state;
	mock_publish(&e->q[VSCSI_REQUESTQ], QSIZE + 3);
	kick(e, VSCSI_REQUESTQ);
	assert_true(e->d->status & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(e->irqs[0], 1);
	kick(e, VSCSI_REQUESTQ);
	assert_int_equal(mock_used_idx(&e->q[VSCSI_REQUESTQ]), 0);
	mock_dev_reset(e->d);
	env_activate(e, 7);
	CMD(e, 0, 0, 0, &r, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_int_equal(r.status, SCSI_STATUS_CHECK_CONDITION);	/* the reset's UA */
	CMD(e, 0, 0, 0, &r, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_ok(&r, 0);
	env_free(e);
}

/* ---- the control and event queues ---- */

struct ctrl_reply {
	uint32_t used;
	uint8_t response;
	uint32_t event_actual;
};

static void tmf(struct env *e, uint32_t subtype, uint8_t target, uint16_t lun, uint32_t req_len,
		uint32_t resp_len, struct ctrl_reply *cr)
{
	struct virtio_scsi_ctrl_tmf_req t = { htole32(VIRTIO_SCSI_T_TMF), htole32(subtype),
					      { 1, target, (uint8_t)(0x40 | lun >> 8), (uint8_t)lun },
					      htole64(0x1234) };
	uint64_t g = gpa_fill(e, sizeof(t), 0), rg = gpa_fill(e, 8, SENTINEL);
	struct mock_buf b[2] = { { g, req_len, false }, { rg, resp_len, true } };
	uint16_t head;
	uint32_t id;

	memcpy(mock_host(&e->m, g), &t, sizeof(t));
	head = mock_add_chain(&e->q[VSCSI_CONTROLQ], b, resp_len ? 2 : 1);
	kick(e, VSCSI_CONTROLQ);
	assert_true(mock_get_used(&e->q[VSCSI_CONTROLQ], &id, &cr->used));
	assert_int_equal(id, head);
	cr->response = *(uint8_t *)mock_host(&e->m, rg);
}

static void test_tmf(void **state)
{
	struct env *e = env_start();
	struct ctrl_reply cr;
	struct vscsi_stats st;
	struct reply r;

	(void)state;
	take_ua(e);
	/* What Linux's virtscsi_abort() / virtscsi_device_reset() send. */
	tmf(e, VIRTIO_SCSI_T_TMF_ABORT_TASK, 0, 0, 24, 1, &cr);
	assert_int_equal(cr.used, 1);
	assert_int_equal(cr.response, VIRTIO_SCSI_S_FUNCTION_COMPLETE);
	tmf(e, VIRTIO_SCSI_T_TMF_ABORT_TASK_SET, 0, 0, 24, 1, &cr);
	assert_int_equal(cr.response, VIRTIO_SCSI_S_FUNCTION_COMPLETE);
	tmf(e, VIRTIO_SCSI_T_TMF_QUERY_TASK, 0, 0, 24, 1, &cr);
	assert_int_equal(cr.response, VIRTIO_SCSI_S_FUNCTION_COMPLETE);
	tmf(e, VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, 0, 0, 24, 1, &cr);
	assert_int_equal(cr.response, VIRTIO_SCSI_S_FUNCTION_COMPLETE);
	/* The LU reset shows as a unit attention. */
	CMD(e, 0, 0, 0, &r, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_int_equal(r.status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.sense[2], SCSI_SK_UNIT_ATTENTION);
	tmf(e, VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET, 0, 0, 24, 1, &cr);
	assert_int_equal(cr.response, VIRTIO_SCSI_S_FUNCTION_COMPLETE);
	tmf(e, VIRTIO_SCSI_T_TMF_CLEAR_ACA, 0, 0, 24, 1, &cr);
	assert_int_equal(cr.response, VIRTIO_SCSI_S_FUNCTION_REJECTED);
	tmf(e, 99, 0, 0, 24, 1, &cr);
	assert_int_equal(cr.response, VIRTIO_SCSI_S_FUNCTION_REJECTED);
	tmf(e, VIRTIO_SCSI_T_TMF_ABORT_TASK, 4, 0, 24, 1, &cr);
	assert_int_equal(cr.response, VIRTIO_SCSI_S_BAD_TARGET);
	tmf(e, VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, 0, 2, 24, 1, &cr);
	assert_int_equal(cr.response, VIRTIO_SCSI_S_INCORRECT_LUN);
	/* Too short a request: FAILURE; no response byte: given back empty. */
	tmf(e, VIRTIO_SCSI_T_TMF_ABORT_TASK, 0, 0, 8, 1, &cr);
	assert_int_equal(cr.response, VIRTIO_SCSI_S_FAILURE);
	tmf(e, VIRTIO_SCSI_T_TMF_ABORT_TASK, 0, 0, 24, 0, &cr);
	assert_int_equal(cr.used, 0);
	vscsi_get_stats(e->d, &st);
	assert_int_equal(st.tmf, 9);
	assert_true(e->irqs[1 + VSCSI_CONTROLQ] >= 1);
	env_free(e);
}

static void test_async_notification(void **state)
{
	struct env *e = env_start();
	struct virtio_scsi_ctrl_an_req a = { htole32(VIRTIO_SCSI_T_AN_QUERY), { 1, 0, 0x40, 0 },
					     htole32(0xfe) };
	uint64_t g = gpa_fill(e, sizeof(a), 0), rg = gpa_fill(e, 5, SENTINEL);
	struct mock_buf b[2] = { { g, sizeof(a), false }, { rg, 5, true } };
	struct virtio_scsi_ctrl_an_resp resp;
	uint32_t id, len, type = htole32(7);

	(void)state;
	memcpy(mock_host(&e->m, g), &a, sizeof(a));
	mock_add_chain(&e->q[VSCSI_CONTROLQ], b, 2);
	kick(e, VSCSI_CONTROLQ);
	assert_true(mock_get_used(&e->q[VSCSI_CONTROLQ], &id, &len));
	assert_int_equal(len, 5);
	memcpy(&resp, mock_host(&e->m, rg), sizeof(resp));
	assert_int_equal(resp.event_actual, 0);		/* no event supported */
	assert_int_equal(resp.response, VIRTIO_SCSI_S_OK);
	/* Subscribing: nothing to subscribe to; another target: BAD_TARGET. */
	a.type = htole32(VIRTIO_SCSI_T_AN_SUBSCRIBE);
	a.lun[1] = 9;
	memcpy(mock_host(&e->m, g), &a, sizeof(a));
	mock_add_chain(&e->q[VSCSI_CONTROLQ], b, 2);
	kick(e, VSCSI_CONTROLQ);
	assert_true(mock_get_used(&e->q[VSCSI_CONTROLQ], &id, &len));
	memcpy(&resp, mock_host(&e->m, rg), sizeof(resp));
	assert_int_equal(resp.event_actual, 0);
	assert_int_equal(resp.response, VIRTIO_SCSI_S_BAD_TARGET);
	/* A request cut short: FAILURE. */
	b[0].len = 8;
	mock_add_chain(&e->q[VSCSI_CONTROLQ], b, 2);
	kick(e, VSCSI_CONTROLQ);
	assert_true(mock_get_used(&e->q[VSCSI_CONTROLQ], &id, &len));
	assert_int_equal(len, 5);
	memcpy(&resp, mock_host(&e->m, rg), sizeof(resp));
	assert_int_equal(resp.response, VIRTIO_SCSI_S_FAILURE);
	b[0].len = sizeof(a);
	/* An unknown control type: given back empty. */
	memcpy(mock_host(&e->m, g), &type, 4);
	mock_add_chain(&e->q[VSCSI_CONTROLQ], b, 2);
	kick(e, VSCSI_CONTROLQ);
	assert_true(mock_get_used(&e->q[VSCSI_CONTROLQ], &id, &len));
	assert_int_equal(len, 0);
	env_free(e);
}

static void test_eventq_buffers_held(void **state)
{
	struct env *e = env_start();
	uint64_t ev[4];

	(void)state;
	for (unsigned int i = 0; i < 4; i++) {
		struct mock_buf b = { gpa_fill(e, 16, SENTINEL), 16, true };

		ev[i] = b.gpa;
		mock_add_chain(&e->q[VSCSI_EVENTQ], &b, 1);
	}
	kick(e, VSCSI_EVENTQ);
	take_ua(e);
	kick(e, VSCSI_EVENTQ);
	/* Never used, never written, no interrupt: no event ever happens. */
	assert_int_equal(mock_used_idx(&e->q[VSCSI_EVENTQ]), 0);
	assert_int_equal(e->irqs[1 + VSCSI_EVENTQ], 0);
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(*(uint8_t *)mock_host(&e->m, ev[i]), SENTINEL);
	/* A reset hands the ring (and the buffers) back to the driver. */
	mock_dev_reset(e->d);
	assert_false(e->d->vq[VSCSI_EVENTQ].ready);
	assert_int_equal(mock_used_idx(&e->q[VSCSI_EVENTQ]), 0);
	env_free(e);
}

/* ---- SeaBIOS 1.16: only the request queue, targets 0..255, then El Torito ---- */

static void test_seabios_boot(void **state)
{
	struct env *e = env_new();
	struct reply r;
	unsigned int found = 0;

	(void)state;
	/* init_virtio_scsi(): vp_find_vq(vp, 2, ...) enables queue 2 only. */
	env_activate(e, 1u << VSCSI_REQUESTQ);
	/* virtio_scsi_scan_target() -> scsi_rep_luns_scan(): REPORT LUNS, 16 bytes, each target. */
	for (unsigned int t = 0; t < 256; t++) {
		CMD(e, (uint8_t)t, 0, 16, &r, SCSI_REPORT_LUNS, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0);
		if (r.response == VIRTIO_SCSI_S_OK && r.status == 0) {
			assert_int_equal(t, 0);
			assert_int_equal(be32(r.data), 8);
			found++;
		} else {
			assert_int_equal(r.response, VIRTIO_SCSI_S_BAD_TARGET);
		}
	}
	assert_int_equal(found, 1);
	/* scsi_drive_setup(): INQUIRY (sizeof(struct cdbres_inquiry) = 36): a CD, removable. */
	CMD(e, 0, 0, 36, &r, SCSI_INQUIRY, 0, 0, 0, 36, 0);
	assert_ok(&r, 0);
	assert_int_equal(r.data[0] & 0x1f, 5);
	assert_int_equal(r.data[1] & 0x80, 0x80);
	/* cdrom_boot() -> scsi_is_ready(): TUR fails once (UA), REQUEST SENSE, TUR succeeds. */
	CMD(e, 0, 0, 0, &r, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_int_equal(r.status, SCSI_STATUS_CHECK_CONDITION);
	CMD(e, 0, 0, 18, &r, SCSI_REQUEST_SENSE, 0, 0, 0, 18, 0);
	assert_ok(&r, 0);
	assert_int_equal(r.data[12], 0);		/* the UA went with the TUR */
	CMD(e, 0, 0, 0, &r, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_ok(&r, 0);
	/* The boot record volume descriptor at LBA 17. */
	CMD(e, 0, 0, BLK, &r, SCSI_READ_10, 0, 0, 0, 0, 0x11, 0, 0, 1, 0);
	assert_ok(&r, 0);
	assert_int_equal(r.data[0], 0);
	assert_string_equal((char *)&r.data[1], "CD001\001EL TORITO SPECIFICATION");
	assert_int_equal(r.data[0x47], 19);
	/* The boot catalog, then the image (4 x 512 bytes: one block). */
	CMD(e, 0, 0, BLK, &r, SCSI_READ_10, 0, 0, 0, 0, 19, 0, 0, 1, 0);
	assert_ok(&r, 0);
	assert_int_equal(r.data[0x20], 0x88);
	assert_int_equal(r.data[0x28], 20);
	CMD(e, 0, 0, BLK, &r, SCSI_READ_10, 0, 0, 0, 0, 20, 0, 0, 1, 0);
	assert_ok(&r, 0);
	assert_memory_equal(r.data, &e->iso[20 * BLK], BLK);
	/* The label SeaBIOS shows (cdrom_media_info()): the PVD's volume identifier. */
	CMD(e, 0, 0, BLK, &r, SCSI_READ_10, 0, 0, 0, 0, 0x10, 0, 0, 1, 0);
	assert_memory_equal(&r.data[40], "HVRUN_SCSI", 10);
	/* The queues SeaBIOS left alone are simply not served. */
	kick(e, VSCSI_CONTROLQ);
	kick(e, VSCSI_EVENTQ);
	env_free(e);
}

/* Linux's sr probe and udev's cdrom_id, in order (drivers/scsi/sr.c, cdrom_id.c). */
static void test_linux_probe(void **state)
{
	struct env *e = env_start();
	struct reply r;

	(void)state;
	CMD(e, 0, 0, 36, &r, SCSI_INQUIRY, 0, 0, 0, 36, 0);
	assert_ok(&r, 0);
	CMD(e, 0, 0, 512, &r, SCSI_REPORT_LUNS, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0);
	assert_ok(&r, 512 - 16);
	CMD(e, 0, 0, 255, &r, SCSI_INQUIRY, 1, 0, 0, 255, 0);
	assert_ok(&r, 255 - 7);
	/* get_capabilities(): TUR eats the UA, then MODE SENSE(10) page 2Ah. */
	CMD(e, 0, 0, 0, &r, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_int_equal(r.sense[2], SCSI_SK_UNIT_ATTENTION);
	CMD(e, 0, 0, 0, &r, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_ok(&r, 0);
	CMD(e, 0, 0, 128, &r, SCSI_MODE_SENSE_10, 0, 0x2a, 0, 0, 0, 0, 0, 128, 0);
	assert_ok(&r, 128 - 30);
	assert_int_equal(r.data[8], 0x2a);
	/* sr_cd_check(): READ TOC, format in the control byte; get_sectorsize(): READ CAPACITY. */
	CMD(e, 0, 0, 12, &r, SCSI_READ_TOC_PMA_ATIP, 0, 0, 0, 0, 0, 0, 0, 12, 0x40);
	assert_ok(&r, 0);
	assert_int_equal(r.data[1], 0x0a);
	CMD(e, 0, 0, 8, &r, SCSI_READ_CAPACITY_10, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_ok(&r, 0);
	/* Media events, locking the door on open. */
	CMD(e, 0, 0, 8, &r, SCSI_GET_EVENT_STATUS, 1, 0, 0, 0x10, 0, 0, 0, 8, 0);
	assert_ok(&r, 0);
	assert_int_equal(r.data[5], 0x02);
	CMD(e, 0, 0, 0, &r, SCSI_PREVENT_ALLOW_REMOVAL, 0, 0, 0, 1, 0);
	assert_ok(&r, 0);
	/* cdrom_id: GET CONFIGURATION, READ DISC INFORMATION, READ TOC (tracks, sessions). */
	CMD(e, 0, 0, 8, &r, SCSI_GET_CONFIGURATION, 0, 0, 0, 0, 0, 0, 0, 8, 0);
	assert_ok(&r, 0);
	assert_int_equal(r.data[7], 0x08);
	CMD(e, 0, 0, 32, &r, SCSI_READ_DISC_INFORMATION, 0, 0, 0, 0, 0, 0, 0, 32, 0);
	assert_ok(&r, 0);
	assert_int_equal(r.data[2] & 3, 2);
	CMD(e, 0, 0, 20, &r, SCSI_READ_TOC_PMA_ATIP, 0, 0, 0, 0, 0, 1, 0, 20, 0);
	assert_ok(&r, 0);
	assert_int_equal(r.data[5] & 0x04, 0x04);	/* a data track */
	CMD(e, 0, 0, 12, &r, SCSI_READ_TOC_PMA_ATIP, 0, 1, 0, 0, 0, 0, 0, 12, 0);
	assert_ok(&r, 0);
	/* Then the file system: blkid reads the PVD. */
	CMD(e, 0, 0, BLK, &r, SCSI_READ_10, 0, 0, 0, 0, 16, 0, 0, 1, 0);
	assert_ok(&r, 0);
	assert_memory_equal(&r.data[1], "CD001", 5);
	env_free(e);
}

/* ---- the host side ---- */

static void test_medium_shrank(void **state)
{
	struct env *e = env_start();
	struct reply r;

	(void)state;
	take_ua(e);
	assert_int_equal(ftruncate(e->fd, 10 * BLK), 0);
	CMD(e, 0, 0, 2 * BLK, &r, SCSI_READ_10, 0, 0, 0, 0, 9, 0, 0, 2, 0);
	assert_int_equal(r.response, VIRTIO_SCSI_S_OK);
	assert_int_equal(r.status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(r.sense[2], SCSI_SK_MEDIUM_ERROR);
	assert_int_equal(be32(&r.sense[3]), 10);
	assert_int_equal(r.resid, BLK);
	assert_memory_equal(r.data, &e->iso[9 * BLK], BLK);
	env_free(e);
}

static void test_create_errors(void **state)
{
	struct mock_vm m;
	struct ev_loop loop;
	struct virtio_dev *d = NULL;
	struct vscsi_options o = { .cd_fd = -1, .cd_size = 1 << 20, .cd_name = "x.iso" };
	char err[256];

	(void)state;
	mock_vm_init(&m, RAM_BASE, RAM_SIZE);
	assert_int_equal(ev_loop_init(&loop, "test-scsi"), 0);
	assert_int_equal(vscsi_create(&o, &m.gm, &loop, &d, err, sizeof(err)), -EINVAL);
	assert_true(strlen(err) > 0);
	o.cd_fd = 0;
	o.cd_size = 2047;
	assert_int_equal(vscsi_create(&o, &m.gm, &loop, &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "x.iso"));
	assert_int_equal(vscsi_create(NULL, &m.gm, &loop, &d, err, sizeof(err)), -EINVAL);
	assert_null(d);
	ev_loop_destroy(&loop);
	mock_vm_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_space),
		cmocka_unit_test(test_inquiry_lun0),
		cmocka_unit_test(test_bad_target),
		cmocka_unit_test(test_absent_lun),
		cmocka_unit_test(test_unit_attention_sense),
		cmocka_unit_test(test_read10_data_and_resid),
		cmocka_unit_test(test_any_framing),
		cmocka_unit_test(test_data_in_too_short),
		cmocka_unit_test(test_lba_out_of_range),
		cmocka_unit_test(test_smaller_sizes),
		cmocka_unit_test(test_malformed_chains),
		cmocka_unit_test(test_broken_ring),
		cmocka_unit_test(test_tmf),
		cmocka_unit_test(test_async_notification),
		cmocka_unit_test(test_eventq_buffers_held),
		cmocka_unit_test(test_seabios_boot),
		cmocka_unit_test(test_linux_probe),
		cmocka_unit_test(test_medium_shrank),
		cmocka_unit_test(test_create_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
