/* test_scsi_cd.c: the CD-ROM logical unit command by command (data, sense bytes, allocation lengths, unit attention). */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/scsi/scsi_cd.h"
#include "tests/unit/iso_image.h"

#define BLK		SCSI_CD_BLOCK
_Static_assert(SCSI_CD_BLOCK == ISO_IMAGE_SECTOR, "a CD block is an ISO sector");
#define NBLOCKS		18u		/* 36 KiB: 16 system sectors, the PVD, the terminator */
#define SENTINEL	0xee

/* ---- the medium callback over a fake ISO 9660 image (tests/unit/iso_image.h) ---- */

struct medium {
	uint8_t img[NBLOCKS * BLK];
	unsigned int calls;		/* read callbacks */
	ssize_t fail;			/* 0: normal; > 0: return only this many bytes; < 0: this -errno */
};

static ssize_t medium_read(void *opaque, uint64_t off, const struct iovec *iov, unsigned int iovcnt,
			   size_t len)
{
	struct medium *m = opaque;
	size_t done = 0;

	m->calls++;
	assert_true(off + len <= sizeof(m->img));
	if (m->fail < 0)
		return m->fail;
	if (m->fail > 0 && (size_t)m->fail < len)
		len = (size_t)m->fail;
	for (unsigned int i = 0; i < iovcnt && done < len; i++) {
		size_t n = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

		memcpy(iov[i].iov_base, &m->img[off + done], n);
		done += n;
	}
	return (ssize_t)done;
}

struct fx {
	struct medium m;
	struct scsi_cd cd;
	uint8_t buf[4 * BLK + 64];
	struct scsi_cmd_result res;
};

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	make_iso(f->m.img, "HVRUN_TEST");
	assert_int_equal(scsi_cd_init(&f->cd, sizeof(f->m.img), "SER123", medium_read, &f->m), 0);
	return f;
}

/* A fresh unit with its power-on unit attention already taken. */
static struct fx *fx_ready(void)
{
	struct fx *f = fx_new();

	f->cd.ua_pending = false;
	return f;
}

/* Runs cdb with a data-in buffer of din_len bytes (f->buf, pre-filled with SENTINEL). */
static void run_len(struct fx *f, const uint8_t *cdb, size_t cdb_len, size_t din_len)
{
	struct iovec v = { f->buf, din_len };
	struct scsi_cmd cmd = { cdb, cdb_len, &v, din_len ? 1 : 0, din_len };

	assert_true(din_len <= sizeof(f->buf));
	memset(f->buf, SENTINEL, sizeof(f->buf));
	scsi_cd_execute(&f->cd, &cmd, &f->res);
}

#define RUN(f, din_len, ...)							\
	do {									\
		const uint8_t cdb_[] = { __VA_ARGS__ };				\
		run_len((f), cdb_, sizeof(cdb_), (din_len));			\
	} while (0)

static void assert_good(const struct fx *f, uint64_t data_len)
{
	assert_int_equal(f->res.status, SCSI_STATUS_GOOD);
	assert_int_equal(f->res.sense_len, 0);
	assert_false(f->res.overrun);
	assert_int_equal(f->res.data_len, data_len);
}

/* CHECK CONDITION with fixed-format sense key/asc/ascq, exactly as SPC-4 §4.5.3 lays it out. */
static void assert_check(const struct fx *f, uint8_t key, uint16_t asc)
{
	const uint8_t *s = f->res.sense;

	assert_int_equal(f->res.status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(f->res.sense_len, 18);
	assert_int_equal(f->res.data_len, 0);
	assert_int_equal(s[0] & 0x7f, 0x70);
	assert_int_equal(s[2], key);
	assert_int_equal(s[7], 10);
	assert_int_equal(s[12], asc >> 8);
	assert_int_equal(s[13], asc & 0xff);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- unit attention, REQUEST SENSE, reset ---- */

static void test_unit_attention_once(void **state)
{
	struct fx *f = fx_new();
	static const uint8_t ua[18] = { 0x70, 0, 0x06, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x29, 0x00 };

	(void)state;
	/* Exempt commands leave it pending. */
	RUN(f, 36, SCSI_INQUIRY, 0, 0, 0, 36, 0);
	assert_good(f, 36);
	RUN(f, 16, SCSI_REPORT_LUNS, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0);
	assert_good(f, 16);
	RUN(f, 8, SCSI_GET_CONFIGURATION, 0, 0, 0, 0, 0, 0, 0, 8, 0);
	assert_good(f, 8);
	RUN(f, 8, SCSI_GET_EVENT_STATUS, 1, 0, 0, 0x10, 0, 0, 0, 8, 0);
	assert_good(f, 8);
	/* The first other command gets it, sense byte for byte... */
	RUN(f, 0, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_check(f, SCSI_SK_UNIT_ATTENTION, SCSI_ASC_POWER_ON_RESET);
	assert_memory_equal(f->res.sense, ua, sizeof(ua));
	/* ...once. */
	RUN(f, 0, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_good(f, 0);
	free(f);
}

static void test_unit_attention_before_anything(void **state)
{
	struct fx *f = fx_new();

	(void)state;
	/* Even an unknown opcode or a READ reports the pending UA first. */
	RUN(f, 0, 0xff, 0, 0, 0, 0, 0);
	assert_check(f, SCSI_SK_UNIT_ATTENTION, SCSI_ASC_POWER_ON_RESET);
	RUN(f, 0, 0xff, 0, 0, 0, 0, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_OPCODE);
	scsi_cd_reset(&f->cd);
	RUN(f, BLK, SCSI_READ_10, 0, 0, 0, 0, 16, 0, 0, 1, 0);
	assert_check(f, SCSI_SK_UNIT_ATTENTION, SCSI_ASC_POWER_ON_RESET);
	assert_int_equal(f->m.calls, 0);
	assert_false(f->res.is_read);
	free(f);
}

/* SeaBIOS's scsi_is_ready(): TEST UNIT READY fails, REQUEST SENSE, TEST UNIT READY again. */
static void test_request_sense(void **state)
{
	struct fx *f = fx_new();

	(void)state;
	/* REQUEST SENSE reports a pending UA as parameter data, GOOD, and clears it. */
	RUN(f, 18, SCSI_REQUEST_SENSE, 0, 0, 0, 18, 0);
	assert_good(f, 18);
	assert_int_equal(f->buf[0], 0x70);
	assert_int_equal(f->buf[2], SCSI_SK_UNIT_ATTENTION);
	assert_int_equal(f->buf[7], 10);
	assert_int_equal(f->buf[12], 0x29);
	assert_int_equal(f->buf[13], 0x00);
	RUN(f, 0, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_good(f, 0);
	/* Then: NO SENSE; the allocation length cuts it; DESC=1 still gets fixed format. */
	RUN(f, 252, SCSI_REQUEST_SENSE, 1, 0, 0, 252, 0);
	assert_good(f, 18);
	assert_int_equal(f->buf[0], 0x70);
	assert_int_equal(f->buf[2], SCSI_SK_NO_SENSE);
	assert_int_equal(f->buf[12], 0);
	assert_int_equal(f->buf[18], SENTINEL);
	RUN(f, 8, SCSI_REQUEST_SENSE, 0, 0, 0, 8, 0);
	assert_good(f, 8);
	assert_int_equal(f->buf[8], SENTINEL);
	/* After the TUR got the UA by CHECK CONDITION (autosense), nothing is left to report. */
	scsi_cd_reset(&f->cd);
	RUN(f, 0, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_check(f, SCSI_SK_UNIT_ATTENTION, SCSI_ASC_POWER_ON_RESET);
	RUN(f, 18, SCSI_REQUEST_SENSE, 0, 0, 0, 18, 0);
	assert_good(f, 18);
	assert_int_equal(f->buf[2], SCSI_SK_NO_SENSE);
	free(f);
}

static void test_reset_clears_prevent(void **state)
{
	struct fx *f = fx_ready();

	(void)state;
	RUN(f, 0, SCSI_PREVENT_ALLOW_REMOVAL, 0, 0, 0, 1, 0);
	assert_good(f, 0);
	assert_true(f->cd.prevent_removal);
	scsi_cd_reset(&f->cd);
	assert_false(f->cd.prevent_removal);
	assert_true(f->cd.ua_pending);
	free(f);
}

/* ---- INQUIRY ---- */

static void test_inquiry_standard(void **state)
{
	struct fx *f = fx_ready();

	(void)state;
	RUN(f, 255, SCSI_INQUIRY, 0, 0, 0, 255, 0);
	assert_good(f, 36);
	assert_int_equal(f->buf[0], 0x05);		/* qualifier 0, type 5 */
	assert_int_equal(f->buf[1], 0x80);		/* RMB */
	assert_int_equal(f->buf[2], 0x05);		/* SPC-3 */
	assert_int_equal(f->buf[3] & 0x0f, 0x02);
	assert_int_equal(f->buf[4], 31);
	assert_memory_equal(&f->buf[8], "HVRUN   ", 8);
	assert_memory_equal(&f->buf[16], "CD-ROM          ", 16);
	assert_memory_equal(&f->buf[32], "1.0 ", 4);
	assert_int_equal(f->buf[36], SENTINEL);
	/* Allocation length cuts, never overruns; 0 is no data and GOOD. */
	RUN(f, 255, SCSI_INQUIRY, 0, 0, 0, 5, 0);
	assert_good(f, 5);
	assert_int_equal(f->buf[4], 31);
	assert_int_equal(f->buf[5], SENTINEL);
	RUN(f, 255, SCSI_INQUIRY, 0, 0, 0, 0, 0);
	assert_good(f, 0);
	assert_int_equal(f->buf[0], SENTINEL);
	/* A 16-bit allocation length (SPC-4 bytes 3-4). */
	RUN(f, 300, SCSI_INQUIRY, 0, 0, 0x01, 0x2c, 0);
	assert_good(f, 36);
	/* A page code without EVPD; CMDDT. */
	RUN(f, 255, SCSI_INQUIRY, 0, 0x80, 0, 255, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	RUN(f, 255, SCSI_INQUIRY, 2, 0, 0, 255, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	free(f);
}

static void test_inquiry_vpd(void **state)
{
	struct fx *f = fx_ready();
	static const uint8_t pg0[] = { 0x05, 0x00, 0x00, 0x03, 0x00, 0x80, 0x83 };
	static const uint8_t pg80[] = { 0x05, 0x80, 0x00, 0x06, 'S', 'E', 'R', '1', '2', '3' };
	static const uint8_t pg83[] = { 0x05, 0x83, 0x00, 0x12, 0x02, 0x01, 0x00, 0x0e,
					'H', 'V', 'R', 'U', 'N', ' ', ' ', ' ',
					'S', 'E', 'R', '1', '2', '3' };

	(void)state;
	RUN(f, 255, SCSI_INQUIRY, 1, 0x00, 0, 255, 0);
	assert_good(f, sizeof(pg0));
	assert_memory_equal(f->buf, pg0, sizeof(pg0));
	RUN(f, 255, SCSI_INQUIRY, 1, 0x80, 0, 255, 0);
	assert_good(f, sizeof(pg80));
	assert_memory_equal(f->buf, pg80, sizeof(pg80));
	RUN(f, 255, SCSI_INQUIRY, 1, 0x83, 0, 255, 0);
	assert_good(f, sizeof(pg83));
	assert_memory_equal(f->buf, pg83, sizeof(pg83));
	/* Linux's scsi_vpd_inquiry() first asks for 4 bytes (the header). */
	RUN(f, 4, SCSI_INQUIRY, 1, 0x83, 0, 4, 0);
	assert_good(f, 4);
	assert_int_equal(be16(&f->buf[2]), 18);
	/* An unknown page. */
	RUN(f, 255, SCSI_INQUIRY, 1, 0xb0, 0, 255, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	free(f);
}

/* ---- capacity and reads ---- */

static void test_read_capacity(void **state)
{
	struct fx *f = fx_ready();

	(void)state;
	RUN(f, 8, SCSI_READ_CAPACITY_10, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_good(f, 8);
	assert_int_equal(be32(&f->buf[0]), NBLOCKS - 1);
	assert_int_equal(be32(&f->buf[4]), 2048);
	RUN(f, 32, SCSI_SERVICE_ACTION_IN_16, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
	assert_good(f, 32);
	assert_int_equal(be32(&f->buf[0]), 0);
	assert_int_equal(be32(&f->buf[4]), NBLOCKS - 1);
	assert_int_equal(be32(&f->buf[8]), 2048);
	RUN(f, 32, SCSI_SERVICE_ACTION_IN_16, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0);
	assert_good(f, 12);
	assert_int_equal(f->buf[12], SENTINEL);
	RUN(f, 32, SCSI_SERVICE_ACTION_IN_16, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	free(f);
}

static void test_read10_scattered(void **state)
{
	struct fx *f = fx_ready();
	uint8_t a[100], b[3000], c[3044];
	struct iovec v[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	const uint8_t cdb[10] = { SCSI_READ_10, 0, 0, 0, 0, 2, 0, 0, 3, 0 };
	struct scsi_cmd cmd = { cdb, sizeof(cdb), v, 3, sizeof(a) + sizeof(b) + sizeof(c) };

	(void)state;
	scsi_cd_execute(&f->cd, &cmd, &f->res);
	assert_good(f, 3 * BLK);
	assert_true(f->res.is_read);
	assert_int_equal(f->res.bytes_read, 3 * BLK);
	assert_memory_equal(a, &f->m.img[2 * BLK], sizeof(a));
	assert_memory_equal(b, &f->m.img[2 * BLK + sizeof(a)], sizeof(b));
	assert_memory_equal(c, &f->m.img[2 * BLK + sizeof(a) + sizeof(b)], sizeof(c));
	free(f);
}

static void test_read_variants(void **state)
{
	struct fx *f = fx_ready();

	(void)state;
	/* READ(6): 21-bit LBA. */
	RUN(f, 2 * BLK, SCSI_READ_6, 0, 0, 16, 1, 0);
	assert_good(f, BLK);
	assert_memory_equal(f->buf, &f->m.img[16 * BLK], BLK);
	/* READ(6) with length 0 means 256 blocks: beyond this disc. */
	RUN(f, 2 * BLK, SCSI_READ_6, 0, 0, 0, 0, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	/* READ(12), READ(16). */
	RUN(f, 2 * BLK, SCSI_READ_12, 0, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0);
	assert_good(f, 2 * BLK);
	assert_memory_equal(f->buf, &f->m.img[5 * BLK], 2 * BLK);
	RUN(f, 2 * BLK, SCSI_READ_16, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 1, 0, 0);
	assert_good(f, BLK);
	assert_memory_equal(f->buf, &f->m.img[17 * BLK], BLK);
	/* READ CD: user data of any / mode 1 sectors. */
	RUN(f, 2 * BLK, SCSI_READ_CD, 0, 0, 0, 0, 3, 0, 0, 1, 0x10, 0, 0);
	assert_good(f, BLK);
	assert_memory_equal(f->buf, &f->m.img[3 * BLK], BLK);
	RUN(f, 2 * BLK, SCSI_READ_CD, 2 << 2, 0, 0, 0, 3, 0, 0, 1, 0x10, 0, 0);
	assert_good(f, BLK);
	RUN(f, 2 * BLK, SCSI_READ_CD, 0, 0, 0, 0, 3, 0, 0, 1, 0x00, 0, 0);
	assert_good(f, 0);
	/* ... but no CD-DA, no headers/EDC, no sub-channel. */
	RUN(f, 2 * BLK, SCSI_READ_CD, 1 << 2, 0, 0, 0, 3, 0, 0, 1, 0x10, 0, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_ILLEGAL_MODE_FOR_TRACK);
	RUN(f, 4 * BLK, SCSI_READ_CD, 0, 0, 0, 0, 3, 0, 0, 1, 0xf8, 0, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	RUN(f, 4 * BLK, SCSI_READ_CD, 0, 0, 0, 0, 3, 0, 0, 1, 0x10, 1, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	free(f);
}

static void test_read_lba_range(void **state)
{
	struct fx *f = fx_ready();

	(void)state;
	RUN(f, BLK, SCSI_READ_10, 0, 0, 0, 0, NBLOCKS - 1, 0, 0, 1, 0);
	assert_good(f, BLK);
	RUN(f, 2 * BLK, SCSI_READ_10, 0, 0, 0, 0, NBLOCKS - 1, 0, 0, 2, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	RUN(f, BLK, SCSI_READ_10, 0, 0, 0, 0, NBLOCKS, 0, 0, 1, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	/* Zero blocks at the end is fine (SBC-3), one past it is not. */
	RUN(f, 0, SCSI_READ_10, 0, 0, 0, 0, NBLOCKS, 0, 0, 0, 0);
	assert_good(f, 0);
	RUN(f, 0, SCSI_READ_10, 0, 0, 0, 0, NBLOCKS + 1, 0, 0, 0, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	/* No wrap-around: LBA 2^64 - 1 plus 2 blocks. */
	RUN(f, 2 * BLK, SCSI_READ_16, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2,
	    0, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	RUN(f, 2 * BLK, SCSI_READ_12, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	assert_int_equal(f->m.calls, 1);
	free(f);
}

static void test_read_overrun(void **state)
{
	struct fx *f = fx_ready();

	(void)state;
	/* Two blocks into a one-block buffer: nothing read, nothing written. */
	RUN(f, BLK, SCSI_READ_10, 0, 0, 0, 0, 0, 0, 0, 2, 0);
	assert_true(f->res.overrun);
	assert_int_equal(f->res.data_len, 0);
	assert_int_equal(f->res.sense_len, 0);
	assert_int_equal(f->m.calls, 0);
	assert_int_equal(f->buf[0], SENTINEL);
	/* A longer buffer is fine: the rest is the residue. */
	RUN(f, 3 * BLK, SCSI_READ_10, 0, 0, 0, 0, 0, 0, 0, 2, 0);
	assert_good(f, 2 * BLK);
	assert_int_equal(f->buf[2 * BLK], SENTINEL);
	free(f);
}

static void test_read_medium_error(void **state)
{
	struct fx *f = fx_ready();

	(void)state;
	/* The file ends after one of three blocks: MEDIUM ERROR, INFORMATION = the first bad LBA. */
	f->m.fail = BLK + 100;
	RUN(f, 3 * BLK, SCSI_READ_10, 0, 0, 0, 0, 4, 0, 0, 3, 0);
	assert_int_equal(f->res.status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(f->res.sense[0], 0xf0);	/* VALID */
	assert_int_equal(f->res.sense[2], SCSI_SK_MEDIUM_ERROR);
	assert_int_equal(be32(&f->res.sense[3]), 5);
	assert_int_equal(f->res.sense[12], 0x11);
	assert_int_equal(f->res.data_len, BLK);
	assert_int_equal(f->res.bytes_read, BLK + 100);
	f->m.fail = -EIO;
	RUN(f, 3 * BLK, SCSI_READ_10, 0, 0, 0, 0, 4, 0, 0, 3, 0);
	assert_int_equal(f->res.sense[2], SCSI_SK_MEDIUM_ERROR);
	assert_int_equal(be32(&f->res.sense[3]), 4);
	assert_int_equal(f->res.data_len, 0);
	free(f);
}

/* ---- MODE SENSE ---- */

static void test_mode_sense(void **state)
{
	struct fx *f = fx_ready();
	uint8_t *p;

	(void)state;
	/* MODE SENSE(10), page 2Ah, as Linux's sr get_capabilities() asks. */
	RUN(f, 128, SCSI_MODE_SENSE_10, 0, 0x2a, 0, 0, 0, 0, 0, 128, 0);
	assert_good(f, 8 + 22);
	assert_int_equal(be16(&f->buf[0]), 8 + 22 - 2);
	assert_int_equal(f->buf[2], 0x01);		/* medium type */
	assert_int_equal(f->buf[3], 0);
	assert_int_equal(be16(&f->buf[6]), 0);		/* no block descriptor */
	p = &f->buf[8];
	assert_int_equal(p[0], 0x2a);
	assert_int_equal(p[1], 0x14);
	assert_int_equal(p[2], 0x03);			/* reads CD-R/RW media, no DVD */
	assert_int_equal(p[3], 0x00);			/* no writing */
	assert_int_equal(p[6], 0x29);			/* tray, eject, lock; unlocked */
	assert_int_equal(be16(&p[8]) / 176, 24);
	assert_int_equal(be16(&p[14]) / 176, 24);
	/* The lock state follows PREVENT ALLOW MEDIUM REMOVAL. */
	RUN(f, 0, SCSI_PREVENT_ALLOW_REMOVAL, 0, 0, 0, 1, 0);
	RUN(f, 128, SCSI_MODE_SENSE_10, 0, 0x2a, 0, 0, 0, 0, 0, 128, 0);
	assert_int_equal(f->buf[8 + 6], 0x2b);
	/* MODE SENSE(6), all pages, in order 01h, 2Ah. */
	RUN(f, 255, SCSI_MODE_SENSE_6, 0, 0x3f, 0, 255, 0);
	assert_good(f, 4 + 12 + 22);
	assert_int_equal(f->buf[0], 4 + 12 + 22 - 1);
	assert_int_equal(f->buf[1], 0x01);
	assert_int_equal(f->buf[3], 0);
	assert_int_equal(f->buf[4], 0x01);
	assert_int_equal(f->buf[5], 10);
	assert_int_equal(f->buf[16], 0x2a);
	/* Changeable values: same layout, all zero. */
	RUN(f, 255, SCSI_MODE_SENSE_6, 0, 0x40 | 0x2a, 0, 255, 0);
	assert_good(f, 4 + 22);
	assert_int_equal(f->buf[4], 0x2a);
	for (unsigned int i = 6; i < 26; i++)
		assert_int_equal(f->buf[i], 0);
	/* Saved values, unknown pages, subpages. */
	RUN(f, 255, SCSI_MODE_SENSE_6, 0, 0xc0 | 0x2a, 0, 255, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_SAVING_NOT_SUPPORTED);
	RUN(f, 255, SCSI_MODE_SENSE_6, 0, 0x08, 0, 255, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	RUN(f, 255, SCSI_MODE_SENSE_6, 0, 0x2a, 1, 255, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	RUN(f, 255, SCSI_MODE_SENSE_6, 0, 0x3f, 0xff, 255, 0);
	assert_good(f, 38);
	/* Allocation length cuts. */
	RUN(f, 255, SCSI_MODE_SENSE_10, 0, 0x2a, 0, 0, 0, 0, 0, 10, 0);
	assert_good(f, 10);
	assert_int_equal(be16(&f->buf[0]), 28);
	assert_int_equal(f->buf[10], SENTINEL);
	free(f);
}

/* ---- MMC: GET CONFIGURATION, GET EVENT STATUS NOTIFICATION, TOC, disc and track ---- */

static void test_get_configuration(void **state)
{
	struct fx *f = fx_ready();
	static const uint16_t codes[] = { 0x0000, 0x0001, 0x0002, 0x0003, 0x0010, 0x001e };
	unsigned int n = 0;
	size_t len;

	(void)state;
	/* cdrom_id: 8 bytes first (header: the current profile), then the whole list. */
	RUN(f, 8, SCSI_GET_CONFIGURATION, 0, 0, 0, 0, 0, 0, 0, 8, 0);
	assert_good(f, 8);
	len = be32(&f->buf[0]) + 4;
	assert_int_equal(be16(&f->buf[6]), MMC_PROFILE_CD_ROM);
	RUN(f, 255, SCSI_GET_CONFIGURATION, 0, 0, 0, 0, 0, 0, 0, 255, 0);
	assert_good(f, len);
	for (size_t i = 8; i < len; i += 4u + f->buf[i + 3]) {
		assert_true(n < 6);
		assert_int_equal(be16(&f->buf[i]), codes[n]);
		n++;
	}
	assert_int_equal(n, 6);
	/* Profile List: CD-ROM, current; persistent and current. */
	assert_int_equal(f->buf[10], 0x03);
	assert_int_equal(f->buf[11], 4);
	assert_int_equal(be16(&f->buf[12]), MMC_PROFILE_CD_ROM);
	assert_int_equal(f->buf[14] & 1, 1);
	/* Core: version 2, SCSI family, DBE. */
	assert_int_equal(f->buf[18], 0x0b);
	assert_int_equal(be32(&f->buf[20]), 1);
	/* RT 2: one feature; the data length still counts what is returned. */
	RUN(f, 255, SCSI_GET_CONFIGURATION, 2, 0, 0x03, 0, 0, 0, 0, 255, 0);
	assert_good(f, 16);
	assert_int_equal(be32(&f->buf[0]), 12);
	assert_int_equal(be16(&f->buf[8]), 0x0003);
	assert_int_equal(f->buf[12], 0x39);		/* tray, load, eject, lock */
	RUN(f, 255, SCSI_GET_CONFIGURATION, 2, 0, 0x1f, 0, 0, 0, 0, 255, 0);
	assert_good(f, 8);
	/* RT 0 from feature 10h on; RT 1 (current ones). */
	RUN(f, 255, SCSI_GET_CONFIGURATION, 0, 0, 0x10, 0, 0, 0, 0, 255, 0);
	assert_good(f, 8 + 12 + 8);
	assert_int_equal(be16(&f->buf[8]), 0x0010);
	assert_int_equal(be32(&f->buf[12]), 2048);
	assert_int_equal(be16(&f->buf[20]), 0x001e);
	RUN(f, 255, SCSI_GET_CONFIGURATION, 1, 0, 0, 0, 0, 0, 0, 255, 0);
	assert_good(f, len);
	RUN(f, 255, SCSI_GET_CONFIGURATION, 3, 0, 0, 0, 0, 0, 0, 255, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	free(f);
}

static void test_get_event_status(void **state)
{
	struct fx *f = fx_ready();
	static const uint8_t media[] = { 0, 4, 0x04, 0x10, 0x00, 0x02, 0, 0 };
	static const uint8_t none[] = { 0, 0, 0x80, 0x10 };

	(void)state;
	/* Linux's sr_get_events(): polled, media class, 8 bytes. */
	RUN(f, 8, SCSI_GET_EVENT_STATUS, 1, 0, 0, 0x10, 0, 0, 0, 8, 0);
	assert_good(f, 8);
	assert_memory_equal(f->buf, media, sizeof(media));
	RUN(f, 8, SCSI_GET_EVENT_STATUS, 1, 0, 0, 0x02, 0, 0, 0, 8, 0);
	assert_good(f, 4);
	assert_memory_equal(f->buf, none, sizeof(none));
	RUN(f, 8, SCSI_GET_EVENT_STATUS, 0, 0, 0, 0x10, 0, 0, 0, 8, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	free(f);
}

static void test_read_toc(void **state)
{
	struct fx *f = fx_ready();
	static const uint8_t toc_lba[] = { 0, 18, 1, 1,
					   0, 0x14, 1, 0, 0, 0, 0, 0,
					   0, 0x14, 0xaa, 0, 0, 0, 0, NBLOCKS };
	/* NBLOCKS + 150 = 168 frames = 00:02:18. */
	static const uint8_t toc_msf[] = { 0, 18, 1, 1,
					   0, 0x14, 1, 0, 0, 0, 2, 0,
					   0, 0x14, 0xaa, 0, 0, 0, 2, 18 };
	static const uint8_t session[] = { 0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0 };

	(void)state;
	RUN(f, 255, SCSI_READ_TOC_PMA_ATIP, 0, 0, 0, 0, 0, 0, 0, 255, 0);
	assert_good(f, sizeof(toc_lba));
	assert_memory_equal(f->buf, toc_lba, sizeof(toc_lba));
	RUN(f, 255, SCSI_READ_TOC_PMA_ATIP, 2, 0, 0, 0, 0, 1, 0, 255, 0);
	assert_good(f, sizeof(toc_msf));
	assert_memory_equal(f->buf, toc_msf, sizeof(toc_msf));
	/* cdrom_id: 12 bytes first; the length field says how much there is. */
	RUN(f, 255, SCSI_READ_TOC_PMA_ATIP, 0, 0, 0, 0, 0, 1, 0, 12, 0);
	assert_good(f, 12);
	assert_int_equal(be16(&f->buf[0]), 18);
	assert_int_equal(f->buf[12], SENTINEL);
	/* The lead-out alone (Linux's CDROMREADTOCENTRY for CDROM_LEADOUT). */
	RUN(f, 255, SCSI_READ_TOC_PMA_ATIP, 0, 0, 0, 0, 0, 0xaa, 0, 255, 0);
	assert_good(f, 12);
	assert_int_equal(be16(&f->buf[0]), 10);
	assert_int_equal(f->buf[6], 0xaa);
	RUN(f, 255, SCSI_READ_TOC_PMA_ATIP, 0, 0, 0, 0, 0, 2, 0, 255, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	/* Session info, by format and by the SFF-8020i control byte (Linux's sr_cd_check()). */
	RUN(f, 12, SCSI_READ_TOC_PMA_ATIP, 0, 1, 0, 0, 0, 0, 0, 12, 0);
	assert_good(f, 12);
	assert_memory_equal(f->buf, session, sizeof(session));
	RUN(f, 12, SCSI_READ_TOC_PMA_ATIP, 0, 0, 0, 0, 0, 0, 0, 12, 0x40);
	assert_good(f, 12);
	assert_memory_equal(f->buf, session, sizeof(session));
	/* Raw TOC: A0, A1, A2, track 1. */
	RUN(f, 255, SCSI_READ_TOC_PMA_ATIP, 2, 2, 0, 0, 0, 1, 0, 255, 0);
	assert_good(f, 4 + 4 * 11);
	assert_int_equal(be16(&f->buf[0]), 46);
	assert_int_equal(f->buf[4 + 3], 0xa0);
	assert_int_equal(f->buf[4 + 8], 1);
	assert_int_equal(f->buf[15 + 3], 0xa1);
	assert_int_equal(f->buf[26 + 3], 0xa2);
	assert_int_equal(f->buf[26 + 9], 2);
	assert_int_equal(f->buf[26 + 10], 18);
	assert_int_equal(f->buf[37 + 3], 1);
	assert_int_equal(f->buf[37 + 9], 2);
	/* ATIP, CD-TEXT: none. */
	RUN(f, 255, SCSI_READ_TOC_PMA_ATIP, 0, 4, 0, 0, 0, 0, 0, 255, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	free(f);
}

static void test_disc_and_track_information(void **state)
{
	struct fx *f = fx_ready();

	(void)state;
	RUN(f, 34, SCSI_READ_DISC_INFORMATION, 0, 0, 0, 0, 0, 0, 0, 34, 0);
	assert_good(f, 34);
	assert_int_equal(be16(&f->buf[0]), 32);
	assert_int_equal(f->buf[2], 0x0e);		/* complete, last session complete */
	assert_int_equal(f->buf[3], 1);
	assert_int_equal(f->buf[4], 1);			/* sessions */
	assert_int_equal(f->buf[6], 1);			/* last track */
	assert_int_equal(f->buf[8], 0);			/* CD-ROM */
	RUN(f, 2, SCSI_READ_DISC_INFORMATION, 0, 0, 0, 0, 0, 0, 0, 2, 0);
	assert_good(f, 2);
	RUN(f, 34, SCSI_READ_DISC_INFORMATION, 1, 0, 0, 0, 0, 0, 0, 34, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	/* Track 1 by number, by LBA, by session. */
	RUN(f, 36, SCSI_READ_TRACK_INFORMATION, 1, 0, 0, 0, 1, 0, 0, 36, 0);
	assert_good(f, 36);
	assert_int_equal(f->buf[2], 1);
	assert_int_equal(f->buf[5] & 0x0f, 4);
	assert_int_equal(be32(&f->buf[24]), NBLOCKS);
	RUN(f, 36, SCSI_READ_TRACK_INFORMATION, 0, 0, 0, 0, NBLOCKS - 1, 0, 0, 36, 0);
	assert_good(f, 36);
	RUN(f, 36, SCSI_READ_TRACK_INFORMATION, 2, 0, 0, 0, 1, 0, 0, 36, 0);
	assert_good(f, 36);
	RUN(f, 36, SCSI_READ_TRACK_INFORMATION, 0, 0, 0, 0, NBLOCKS, 0, 0, 36, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	RUN(f, 36, SCSI_READ_TRACK_INFORMATION, 1, 0, 0, 0, 2, 0, 0, 36, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	RUN(f, 36, SCSI_READ_TRACK_INFORMATION, 1, 0, 0, 0, 0xff, 0, 0, 36, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	free(f);
}

/* ---- the tray, small commands, refusals ---- */

static void test_prevent_and_eject(void **state)
{
	struct fx *f = fx_ready();

	(void)state;
	/* An eject completes but the disc stays in. */
	RUN(f, 0, SCSI_START_STOP_UNIT, 0, 0, 0, 0x02, 0);
	assert_good(f, 0);
	RUN(f, 0, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_good(f, 0);
	RUN(f, BLK, SCSI_READ_10, 0, 0, 0, 0, 16, 0, 0, 1, 0);
	assert_good(f, BLK);
	/* Locked: refused as a drive refuses it. */
	RUN(f, 0, SCSI_PREVENT_ALLOW_REMOVAL, 0, 0, 0, 1, 0);
	assert_good(f, 0);
	RUN(f, 0, SCSI_START_STOP_UNIT, 0, 0, 0, 0x02, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_REMOVAL_PREVENTED);
	/* Load, start, power conditions: fine even locked. */
	RUN(f, 0, SCSI_START_STOP_UNIT, 0, 0, 0, 0x03, 0);
	assert_good(f, 0);
	RUN(f, 0, SCSI_START_STOP_UNIT, 0, 0, 0, 0x01, 0);
	assert_good(f, 0);
	RUN(f, 0, SCSI_START_STOP_UNIT, 0, 0, 0, 0x32, 0);
	assert_good(f, 0);
	RUN(f, 0, SCSI_PREVENT_ALLOW_REMOVAL, 0, 0, 0, 0, 0);
	RUN(f, 0, SCSI_START_STOP_UNIT, 0, 0, 0, 0x02, 0);
	assert_good(f, 0);
	free(f);
}

static void test_small_commands(void **state)
{
	struct fx *f = fx_ready();

	(void)state;
	RUN(f, 8, SCSI_MECHANISM_STATUS, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0);
	assert_good(f, 8);
	for (unsigned int i = 0; i < 8; i++)
		assert_int_equal(f->buf[i], 0);
	RUN(f, 0, SCSI_SET_CD_SPEED, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0);
	assert_good(f, 0);
	RUN(f, 0, SCSI_SYNCHRONIZE_CACHE_10, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	assert_good(f, 0);
	RUN(f, 0, SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0);
	assert_good(f, 0);
	free(f);
}

static void test_refused_commands(void **state)
{
	struct fx *f = fx_ready();
	static const uint8_t writes[] = { 0x0a, 0x2a, 0xaa, 0x8a, 0x2e, 0x41, 0x04, 0xa1 };

	(void)state;
	for (size_t i = 0; i < sizeof(writes); i++) {
		RUN(f, 0, writes[i], 0, 0, 0, 0, 0, 0, 0, 1, 0);
		assert_check(f, SCSI_SK_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED);
	}
	/* MODE SELECT, VERIFY, a vendor opcode: not implemented. */
	RUN(f, 0, 0x55, 0x10, 0, 0, 0, 0, 0, 0, 8, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_OPCODE);
	RUN(f, 0, 0x2f, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_OPCODE);
	RUN(f, 0, 0xc5, 0, 0, 0, 0, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_OPCODE);
	/* Sense byte for byte: INVALID COMMAND OPERATION CODE. */
	{
		static const uint8_t s[18] = { 0x70, 0, 0x05, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x20, 0 };

		assert_memory_equal(f->res.sense, s, sizeof(s));
	}
	free(f);
}

static void test_report_luns(void **state)
{
	struct fx *f = fx_ready();
	static const uint8_t one[16] = { 0, 0, 0, 8 };

	(void)state;
	/* SeaBIOS's scsi_rep_luns_scan(): 16 bytes for one LUN. */
	RUN(f, 16, SCSI_REPORT_LUNS, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0);
	assert_good(f, 16);
	assert_memory_equal(f->buf, one, sizeof(one));
	RUN(f, 256, SCSI_REPORT_LUNS, 0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0);
	assert_good(f, 16);
	RUN(f, 16, SCSI_REPORT_LUNS, 0, 1, 0, 0, 0, 0, 0, 0, 16, 0, 0);
	assert_good(f, 8);
	assert_int_equal(be32(&f->buf[0]), 0);
	RUN(f, 4, SCSI_REPORT_LUNS, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0);
	assert_good(f, 4);
	assert_int_equal(be32(&f->buf[0]), 8);
	RUN(f, 16, SCSI_REPORT_LUNS, 0, 0x20, 0, 0, 0, 0, 0, 0, 16, 0, 0);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	free(f);
}

static void test_absent_lun(void **state)
{
	struct fx *f = fx_ready();
	struct iovec v = { f->buf, 255 };
	struct scsi_cmd cmd = { NULL, 6, &v, 1, 255 };
	const uint8_t inq[6] = { SCSI_INQUIRY, 0, 0, 0, 255, 0 };
	const uint8_t rs[6] = { SCSI_REQUEST_SENSE, 0, 0, 0, 18, 0 };
	const uint8_t tur[6] = { SCSI_TEST_UNIT_READY };
	const uint8_t rl[12] = { SCSI_REPORT_LUNS, 0, 0, 0, 0, 0, 0, 0, 0, 16 };

	(void)state;
	cmd.cdb = inq;
	scsi_absent_lun_execute(&cmd, &f->res);
	assert_good(f, 36);
	assert_int_equal(f->buf[0], 0x7f);
	cmd.cdb = rs;
	scsi_absent_lun_execute(&cmd, &f->res);
	assert_good(f, 18);
	assert_int_equal(f->buf[2], SCSI_SK_ILLEGAL_REQUEST);
	assert_int_equal(f->buf[12], 0x25);
	cmd.cdb = rl;
	cmd.cdb_len = sizeof(rl);
	scsi_absent_lun_execute(&cmd, &f->res);
	assert_good(f, 16);
	cmd.cdb = tur;
	cmd.cdb_len = sizeof(tur);
	scsi_absent_lun_execute(&cmd, &f->res);
	assert_check(f, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LUN_NOT_SUPPORTED);
	free(f);
}

static void test_overrun_emulated(void **state)
{
	struct fx *f = fx_ready();

	(void)state;
	/* INQUIRY into a 20-byte buffer: nothing written, overrun. */
	RUN(f, 20, SCSI_INQUIRY, 0, 0, 0, 36, 0);
	assert_true(f->res.overrun);
	assert_int_equal(f->res.data_len, 0);
	assert_int_equal(f->buf[0], SENTINEL);
	/* ...but a short allocation length fits. */
	RUN(f, 20, SCSI_INQUIRY, 0, 0, 0, 20, 0);
	assert_good(f, 20);
	/* An overrun REQUEST SENSE has no effect: the UA is still pending. */
	scsi_cd_reset(&f->cd);
	RUN(f, 10, SCSI_REQUEST_SENSE, 0, 0, 0, 18, 0);
	assert_true(f->res.overrun);
	assert_true(f->cd.ua_pending);
	free(f);
}

static void test_short_cdb(void **state)
{
	struct fx *f = fx_ready();

	(void)state;
	/* A READ(10) opcode with nothing after it reads as LBA 0, 0 blocks. */
	RUN(f, BLK, SCSI_READ_10);
	assert_good(f, 0);
	/* No CDB at all: TEST UNIT READY (opcode 0). */
	run_len(f, NULL, 0, 0);
	assert_good(f, 0);
	free(f);
}

static void test_init(void **state)
{
	struct scsi_cd cd;
	struct medium m;

	(void)state;
	assert_int_equal(scsi_cd_init(&cd, 2047, NULL, medium_read, &m), -EINVAL);
	assert_int_equal(scsi_cd_init(&cd, 4096, NULL, NULL, &m), -EINVAL);
	assert_int_equal(scsi_cd_init(&cd, 4096 + 100, "a b\x01" "cdefghijklmnopqrstuvwxyz", medium_read,
				      &m), 0);
	assert_int_equal(cd.blocks, 2);
	assert_string_equal(cd.serial, "a_b_cdefghijklmnopqr");
	assert_true(cd.ua_pending);
	assert_int_equal(scsi_cd_init(&cd, 4096, "", medium_read, &m), 0);
	assert_string_equal(cd.serial, "0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unit_attention_once),
		cmocka_unit_test(test_unit_attention_before_anything),
		cmocka_unit_test(test_request_sense),
		cmocka_unit_test(test_reset_clears_prevent),
		cmocka_unit_test(test_inquiry_standard),
		cmocka_unit_test(test_inquiry_vpd),
		cmocka_unit_test(test_read_capacity),
		cmocka_unit_test(test_read10_scattered),
		cmocka_unit_test(test_read_variants),
		cmocka_unit_test(test_read_lba_range),
		cmocka_unit_test(test_read_overrun),
		cmocka_unit_test(test_read_medium_error),
		cmocka_unit_test(test_mode_sense),
		cmocka_unit_test(test_get_configuration),
		cmocka_unit_test(test_get_event_status),
		cmocka_unit_test(test_read_toc),
		cmocka_unit_test(test_disc_and_track_information),
		cmocka_unit_test(test_prevent_and_eject),
		cmocka_unit_test(test_small_commands),
		cmocka_unit_test(test_refused_commands),
		cmocka_unit_test(test_report_luns),
		cmocka_unit_test(test_absent_lun),
		cmocka_unit_test(test_overrun_emulated),
		cmocka_unit_test(test_short_cdb),
		cmocka_unit_test(test_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
