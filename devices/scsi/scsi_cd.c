/* scsi_cd.c: a read-only CD-ROM logical unit: the SPC-4/SBC-3/MMC-6 commands a BIOS, Linux's sr and udev's cdrom_id send, answered as a drive would. */
#include "devices/scsi/scsi_cd.h"

#include <errno.h>
#include <string.h>

#include "hv/base/bytes.h"

/*
 * Every emulated (non-READ) response is built whole in a buffer of this
 * size, then cut to the CDB's allocation length and copied out: the largest
 * (GET CONFIGURATION) is 64 bytes.
 */
#define CD_RESPONSE_MAX		256

/* CD addressing (MMC-6 §4.2.3.4, Red Book): 75 frames a second, the first track at 00:02:00. */
#define CD_FRAMES_PER_SEC	75u
#define CD_MSF_OFFSET		150u
#define CD_LEAD_OUT		0xaa	/* the lead-out's track number in the TOC */
#define CD_ADR_CTL_DATA		0x14	/* ADR 1 (Q sub-channel: position), control 4: data track */

/* What the CD-ROM drive says it can do: MODE SENSE page 2Ah, GET CONFIGURATION. */
#define CD_SPEED_KBPS		(24u * 176u)	/* "24x" (1x = 176.4 kB/s); Linux prints it */
#define CD_MECH_TRAY		0x20	/* loading mechanism type 001b: tray (bits 7:5) */
#define CD_CAP_LOCK		0x01	/* PREVENT ALLOW MEDIUM REMOVAL works */
#define CD_CAP_LOCK_STATE	0x02	/* ... and is in force now */
#define CD_CAP_EJECT		0x08	/* START STOP UNIT with LoEj works (our tray never opens) */

/* Mode pages (SPC-4 §7.5, MMC-6 §7). */
#define MODE_PAGE_RW_ERROR	0x01
#define MODE_PAGE_CAPABILITIES	0x2a
#define MODE_PAGE_ALL		0x3f
#define MODE_PC_SAVED		3

/* Space-padded ASCII field (INQUIRY vendor, product, revision). */
static void put_ascii(uint8_t *p, size_t width, const char *s)
{
	size_t n = strlen(s);

	memset(p, ' ', width);
	memcpy(p, s, n < width ? n : width);
}

/* ---- results ---- */

/* CHECK CONDITION with fixed-format sense (SPC-4 §4.5.3): response code 70h, current error. */
static void cd_check_info(struct scsi_cmd_result *res, uint8_t key, uint16_t asc, bool info_valid,
			  uint32_t info)
{
	uint8_t *s = res->sense;

	memset(s, 0, sizeof(res->sense));
	s[0] = 0x70 | (info_valid ? 0x80 : 0);	/* VALID: the INFORMATION field means something */
	s[2] = key;
	put_be(&s[3], info, 4);
	s[7] = SCSI_SENSE_FIXED_LEN - 8;	/* additional sense length: 10 */
	s[12] = (uint8_t)(asc >> 8);
	s[13] = (uint8_t)asc;
	res->sense_len = SCSI_SENSE_FIXED_LEN;
	res->status = SCSI_STATUS_CHECK_CONDITION;
	res->data_len = 0;
}

static void cd_check(struct scsi_cmd_result *res, uint8_t key, uint16_t asc)
{
	cd_check_info(res, key, asc, false, 0);
}

static void cd_invalid_field(struct scsi_cmd_result *res)
{
	cd_check(res, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
}

/* Fixed-format sense bytes as REQUEST SENSE returns them (parameter data, not a CHECK CONDITION). */
static void sense_bytes(uint8_t *s, uint8_t key, uint16_t asc)
{
	memset(s, 0, SCSI_SENSE_FIXED_LEN);
	s[0] = 0x70;
	s[2] = key;
	s[7] = SCSI_SENSE_FIXED_LEN - 8;
	s[12] = (uint8_t)(asc >> 8);
	s[13] = (uint8_t)asc;
}

static void iov_copy_out(const struct iovec *iov, unsigned int cnt, const uint8_t *src, size_t len)
{
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < cnt && done < len; i++) {
		size_t n = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

		memcpy(iov[i].iov_base, src + done, n);
		done += n;
	}
}

/*
 * GOOD with min(len, alloc) bytes of buf (SPC-4 §4.2.5.6: the allocation
 * length cuts the data, never the other way round).  false, with
 * res->overrun, when the initiator's buffer cannot take them: then nothing
 * is written and the caller must not apply the command's side effects.
 */
static bool cd_data(const struct scsi_cmd *cmd, struct scsi_cmd_result *res, const uint8_t *buf,
		    size_t len, uint32_t alloc)
{
	size_t n = len < alloc ? len : alloc;

	if (n > cmd->din_len) {
		res->overrun = true;
		return false;
	}
	iov_copy_out(cmd->din, cmd->din_cnt, buf, n);
	res->data_len = n;
	res->status = SCSI_STATUS_GOOD;
	return true;
}

/* ---- CD addresses ---- */

/* An LBA as MSF (track start addresses are LBA + 2 s); minutes beyond 255 clamp (DVD-sized images). */
static void put_msf(uint8_t *p, uint64_t lba)
{
	uint64_t f = lba + CD_MSF_OFFSET;
	uint64_t m = f / (60 * CD_FRAMES_PER_SEC);

	if (m > 255) {
		p[0] = 255;
		p[1] = 59;
		p[2] = 74;
		return;
	}
	p[0] = (uint8_t)m;
	p[1] = (uint8_t)(f / CD_FRAMES_PER_SEC % 60);
	p[2] = (uint8_t)(f % CD_FRAMES_PER_SEC);
}

/* A 4-byte TOC address field: LBA, or 0 M S F with msf. */
static void put_toc_addr(uint8_t *p, uint64_t lba, bool msf)
{
	if (msf) {
		p[0] = 0;
		put_msf(p + 1, lba);
	} else {
		put_be(p, lba > UINT32_MAX ? UINT32_MAX : lba, 4);
	}
}

/* ---- the commands, one function each; c is the CDB, zero-padded to SCSI_CDB_MAX ---- */

/* INQUIRY (SPC-4 §6.6): standard data, or the vital product data pages 00h, 80h, 83h. */
static void cd_inquiry(struct scsi_cd *cd, const uint8_t *c, const struct scsi_cmd *cmd,
		       struct scsi_cmd_result *res)
{
	uint8_t b[CD_RESPONSE_MAX] = { 0 };
	uint32_t alloc = get_be(&c[3], 2);
	size_t n, len;

	if (c[1] & 0x02) {		/* CMDDT, obsolete: must be 0 */
		cd_invalid_field(res);
		return;
	}
	if (!(c[1] & 0x01)) {
		if (c[2] != 0) {	/* a page code without EVPD */
			cd_invalid_field(res);
			return;
		}
		b[0] = 0x05;		/* peripheral qualifier 0, device type 5: CD/DVD (MMC) */
		b[1] = 0x80;		/* RMB: removable medium */
		b[2] = 0x05;		/* VERSION: SPC-3 (Linux then scans with REPORT LUNS) */
		b[3] = 0x02;		/* response data format 2 */
		b[4] = 36 - 5;		/* additional length: the 36-byte standard data */
		b[7] = 0x02;		/* CMDQUE: several commands may be queued */
		put_ascii(&b[8], 8, SCSI_CD_VENDOR);
		put_ascii(&b[16], 16, SCSI_CD_PRODUCT);
		put_ascii(&b[32], 4, SCSI_CD_REVISION);
		cd_data(cmd, res, b, 36, alloc);
		return;
	}
	b[0] = 0x05;
	b[1] = c[2];
	switch (c[2]) {
	case 0x00:			/* supported VPD pages, ascending */
		b[4] = 0x00;
		b[5] = 0x80;
		b[6] = 0x83;
		len = 7;
		break;
	case 0x80:			/* unit serial number */
		n = strlen(cd->serial);
		memcpy(&b[4], cd->serial, n);
		len = 4 + n;
		break;
	case 0x83:			/* device identification: one T10 vendor ID designator */
		n = strlen(cd->serial);
		b[4] = 0x02;		/* protocol 0, code set 2: ASCII */
		b[5] = 0x01;		/* PIV 0, association 0 (the LU), type 1: T10 vendor ID */
		b[7] = (uint8_t)(8 + n);
		put_ascii(&b[8], 8, SCSI_CD_VENDOR);
		memcpy(&b[16], cd->serial, n);
		len = 16 + n;
		break;
	default:
		cd_invalid_field(res);
		return;
	}
	put_be(&b[2], len - 4, 2);
	cd_data(cmd, res, b, len, alloc);
}

/* REQUEST SENSE (SPC-4 §6.39): a pending unit attention (then cleared), else NO SENSE. */
static void cd_request_sense(struct scsi_cd *cd, const uint8_t *c, const struct scsi_cmd *cmd,
			     struct scsi_cmd_result *res)
{
	uint8_t b[SCSI_SENSE_FIXED_LEN];

	/*
	 * DESC (byte 1 bit 0) asks for descriptor format; a unit without it
	 * returns fixed format (§6.39.2), as this one does.  With autosense
	 * (virtio-scsi returns the sense with every CHECK CONDITION) there is
	 * no other sense data left to report.
	 */
	if (cd->ua_pending)
		sense_bytes(b, SCSI_SK_UNIT_ATTENTION, cd->ua_code);
	else
		sense_bytes(b, SCSI_SK_NO_SENSE, SCSI_ASC_NO_ADDITIONAL_SENSE);
	if (cd_data(cmd, res, b, sizeof(b), c[4]))
		cd->ua_pending = false;
}

/* REPORT LUNS (SPC-4 §6.33): LUN 0, the only one.  Also what an absent LUN's target answers. */
static void report_luns(const uint8_t *c, const struct scsi_cmd *cmd, struct scsi_cmd_result *res)
{
	uint8_t b[16] = { 0 };
	size_t len;

	switch (c[2]) {			/* SELECT REPORT */
	case 0x00:			/* the logical units */
	case 0x02:			/* all of them, well-known ones too: we have none */
		put_be(&b[0], 8, 4);
		len = 16;		/* header + LUN 0 (eight zero bytes) */
		break;
	case 0x01:			/* well-known logical units only: none */
		len = 8;
		break;
	default:
		cd_invalid_field(res);
		return;
	}
	cd_data(cmd, res, b, len, get_be(&c[6], 4));
}

/* READ CAPACITY(10) (SBC-3 §5.15) and (16) (§5.16): the last LBA and the 2048-byte block. */
static void cd_read_capacity(struct scsi_cd *cd, const uint8_t *c, const struct scsi_cmd *cmd,
			     struct scsi_cmd_result *res)
{
	uint8_t b[32] = { 0 };
	uint64_t last = cd->blocks - 1;

	if (c[0] == SCSI_READ_CAPACITY_10) {
		put_be(&b[0], last > UINT32_MAX ? UINT32_MAX : last, 4);
		put_be(&b[4], SCSI_CD_BLOCK, 4);
		cd_data(cmd, res, b, 8, 8);
		return;
	}
	if ((c[1] & 0x1f) != SCSI_SAI_READ_CAPACITY_16) {
		cd_invalid_field(res);
		return;
	}
	put_be(&b[0], last, 8);
	put_be(&b[8], SCSI_CD_BLOCK, 4);
	cd_data(cmd, res, b, 32, get_be(&c[10], 4));
}

/* READ(6/10/12/16) and READ CD (MMC-6 §6.19) of 2048-byte user data: straight into the data-in buffer. */
static void cd_read(struct scsi_cd *cd, const uint8_t *c, const struct scsi_cmd *cmd,
		    struct scsi_cmd_result *res)
{
	uint64_t lba, n, bytes;
	ssize_t got;

	res->is_read = true;
	switch (c[0]) {
	case SCSI_READ_6:
		lba = get_be(&c[1], 3) & 0x1fffff;
		n = c[4] ? c[4] : 256;	/* SBC-3 §5.12: 0 means 256 blocks */
		break;
	case SCSI_READ_10:
		lba = get_be(&c[2], 4);
		n = get_be(&c[7], 2);
		break;
	case SCSI_READ_12:
		lba = get_be(&c[2], 4);
		n = get_be(&c[6], 4);
		break;
	case SCSI_READ_16:
		lba = get_be(&c[2], 8);
		n = get_be(&c[10], 4);
		break;
	default: {			/* READ CD */
		uint8_t type = (c[1] >> 2) & 7;

		lba = get_be(&c[2], 4);
		n = get_be(&c[6], 3);
		/* Sector type: 0 any, 2 mode 1: what this disc holds.  CD-DA, mode 2: no. */
		if (type != 0 && type != 2) {
			cd_check(res, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_ILLEGAL_MODE_FOR_TRACK);
			return;
		}
		/* Byte 9: user data only (10h) or nothing (0); no headers, EDC, C2; no sub-channel. */
		if ((c[9] != 0x10 && c[9] != 0x00) || (c[10] & 0x07)) {
			cd_invalid_field(res);
			return;
		}
		if (c[9] == 0x00)
			n = 0;	/* a valid READ CD that transfers nothing (range still checked) */
		break;
	}
	}
	/* GUEST: [lba, lba + n) must lie on the disc (lba <= blocks first: no overflow). */
	if (lba > cd->blocks || n > cd->blocks - lba) {
		cd_check(res, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
		return;
	}
	bytes = n * SCSI_CD_BLOCK;	/* n <= blocks < 2^53: no overflow */
	if (bytes > cmd->din_len) {
		res->overrun = true;
		return;
	}
	res->status = SCSI_STATUS_GOOD;
	if (bytes == 0)
		return;
	got = cd->read(cd->opaque, lba * SCSI_CD_BLOCK, cmd->din, cmd->din_cnt, (size_t)bytes);
	if (got > 0)
		res->bytes_read = (uint64_t)got;
	if (got < 0 || (uint64_t)got < bytes) {
		/*
		 * The host file failed or shrank: MEDIUM ERROR at the first block
		 * not read (INFORMATION, VALID set: Linux's sr then completes the
		 * blocks before it).
		 */
		uint64_t good = got > 0 ? (uint64_t)got / SCSI_CD_BLOCK : 0;
		uint64_t bad = lba + good;

		cd_check_info(res, SCSI_SK_MEDIUM_ERROR, SCSI_ASC_UNRECOVERED_READ_ERROR,
			      bad <= UINT32_MAX, (uint32_t)bad);
		res->data_len = good * SCSI_CD_BLOCK;
		return;
	}
	res->data_len = bytes;
}

/* Mode page page_code at p (current values, or the changeable mask: all zero); its length. */
static size_t mode_page(const struct scsi_cd *cd, uint8_t *p, uint8_t page_code, bool changeable)
{
	switch (page_code) {
	case MODE_PAGE_RW_ERROR:	/* MMC-6 §7.3: read/write error recovery */
		memset(p, 0, 12);
		p[0] = MODE_PAGE_RW_ERROR;
		p[1] = 10;
		if (!changeable)
			p[3] = 0x20;	/* read retry count */
		return 12;
	case MODE_PAGE_CAPABILITIES:	/* MMC-3 §5.5.10: CD/DVD capabilities and mechanical status */
		memset(p, 0, 22);
		p[0] = MODE_PAGE_CAPABILITIES;
		p[1] = 20;
		if (changeable)
			return 22;
		p[2] = 0x03;		/* reads CD-R and CD-RW media */
		p[3] = 0x00;		/* writes nothing */
		p[4] = 0x40;		/* multi-session discs */
		p[6] = CD_MECH_TRAY | CD_CAP_EJECT | CD_CAP_LOCK |
		       (cd->prevent_removal ? CD_CAP_LOCK_STATE : 0);
		put_be(&p[8], CD_SPEED_KBPS, 2);	/* maximum read speed (obsolete) */
		put_be(&p[14], CD_SPEED_KBPS, 2);	/* current read speed (obsolete) */
		return 22;
	default:
		return 0;
	}
}

/*
 * MODE SENSE(6) and (10) (SPC-4 §6.11, §6.12): pages 01h and 2Ah, or all
 * (3Fh).  MMC drives have no block descriptors (DBD is moot) and no
 * device-specific parameter.
 */
static void cd_mode_sense(struct scsi_cd *cd, const uint8_t *c, const struct scsi_cmd *cmd,
			  struct scsi_cmd_result *res)
{
	bool ten = c[0] == SCSI_MODE_SENSE_10;
	uint8_t pc = c[2] >> 6, page = c[2] & 0x3f, subpage = c[3];
	uint8_t b[CD_RESPONSE_MAX] = { 0 };
	size_t hdr = ten ? 8 : 4, len = hdr;

	if (pc == MODE_PC_SAVED) {
		cd_check(res, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_SAVING_NOT_SUPPORTED);
		return;
	}
	/* No subpages: 0, or FFh ("all subpages", only 0 here). */
	if (subpage != 0 && subpage != 0xff) {
		cd_invalid_field(res);
		return;
	}
	if (page == MODE_PAGE_ALL) {
		len += mode_page(cd, &b[len], MODE_PAGE_RW_ERROR, pc == 1);
		len += mode_page(cd, &b[len], MODE_PAGE_CAPABILITIES, pc == 1);
	} else {
		size_t n = mode_page(cd, &b[len], page, pc == 1);

		if (n == 0) {
			cd_invalid_field(res);
			return;
		}
		len += n;
	}
	/*
	 * Medium type 01h: "120 mm CD-ROM data only, door closed" (SFF-8020i,
	 * MMC-1); later MMC made the field obsolete, drives still fill it.
	 */
	if (ten) {
		put_be(&b[0], len - 2, 2);	/* mode data length: the bytes after it */
		b[2] = 0x01;
	} else {
		b[0] = (uint8_t)(len - 1);
		b[1] = 0x01;
	}
	cd_data(cmd, res, b, len, ten ? get_be(&c[7], 2) : c[4]);
}

/* One GET CONFIGURATION feature descriptor header (MMC-6 §5.2.2); returns the descriptor's length. */
static size_t feature(uint8_t *p, uint16_t code, uint8_t version, bool persistent, bool current,
		      uint8_t add_len)
{
	put_be(&p[0], code, 2);
	p[2] = (uint8_t)(version << 2 | (persistent ? 0x02 : 0) | (current ? 0x01 : 0));
	p[3] = add_len;
	return 4u + add_len;
}

/* The drive's features, in ascending order; returns the bytes written at p. */
static size_t cd_features(const struct scsi_cd *cd, uint8_t *p, uint8_t rt, uint16_t sfn)
{
	uint8_t all[CD_RESPONSE_MAX] = { 0 };
	size_t len = 0, out = 0, n;

	(void)cd;
	/* Profile List: one profile, CD-ROM, current (a disc is always in). */
	n = feature(&all[len], MMC_FEATURE_PROFILE_LIST, 0, true, true, 4);
	put_be(&all[len + 4], MMC_PROFILE_CD_ROM, 2);
	all[len + 6] = 0x01;		/* CurrentP */
	len += n;
	/* Core, version 2: physical interface "SCSI family", DBE (MMC-6 §5.3.2). */
	n = feature(&all[len], MMC_FEATURE_CORE, 2, true, true, 8);
	put_be(&all[len + 4], 0x00000001, 4);
	all[len + 8] = 0x01;		/* DBE */
	len += n;
	/* Morphing, version 1: GET EVENT STATUS NOTIFICATION, polled only (ASYNC 0, OCEvent 0). */
	n = feature(&all[len], MMC_FEATURE_MORPHING, 1, true, true, 4);
	len += n;
	/* Removable Medium, version 2: tray, eject, load, lock (Pvnt Jmpr 0: a jumper is "present"). */
	n = feature(&all[len], MMC_FEATURE_REMOVABLE_MEDIUM, 2, true, true, 4);
	all[len + 4] = CD_MECH_TRAY | 0x10 /* Load */ | CD_CAP_EJECT | CD_CAP_LOCK;
	len += n;
	/* Random Readable: 2048-byte blocks, blocking 1, PP (the error recovery page exists). */
	n = feature(&all[len], MMC_FEATURE_RANDOM_READABLE, 0, false, true, 8);
	put_be(&all[len + 4], SCSI_CD_BLOCK, 4);
	put_be(&all[len + 8], 1, 2);
	all[len + 10] = 0x01;
	len += n;
	/* CD Read, version 2: READ CD (user data); no CD-Text, C2 pointers or DAP. */
	n = feature(&all[len], MMC_FEATURE_CD_READ, 2, false, true, 4);
	len += n;

	/* RT 0: all from SFN on; 1: the current ones from SFN on; 2: SFN only. */
	for (size_t i = 0; i < len; i += 4u + all[i + 3]) {
		uint16_t code = get_be(&all[i], 2);
		bool current = all[i + 2] & 0x01;

		if ((rt == 2 && code != sfn) || code < sfn || (rt == 1 && !current))
			continue;
		memcpy(&p[out], &all[i], 4u + all[i + 3]);
		out += 4u + all[i + 3];
	}
	return out;
}

/* GET CONFIGURATION (MMC-6 §6.6). */
static void cd_get_configuration(struct scsi_cd *cd, const uint8_t *c, const struct scsi_cmd *cmd,
				 struct scsi_cmd_result *res)
{
	uint8_t b[CD_RESPONSE_MAX] = { 0 };
	uint8_t rt = c[1] & 0x03;
	size_t len;

	if (rt == 3) {
		cd_invalid_field(res);
		return;
	}
	len = 8 + cd_features(cd, &b[8], rt, get_be(&c[2], 2));
	put_be(&b[0], len - 4, 4);	/* data length: the bytes after the field */
	put_be(&b[6], MMC_PROFILE_CD_ROM, 2);	/* current profile */
	cd_data(cmd, res, b, len, get_be(&c[7], 2));
}

/*
 * GET EVENT STATUS NOTIFICATION (MMC-6 §6.7), polled: the media class only,
 * "no change, media present" (the tray never opens).  The event descriptor
 * length counts the descriptor after the 4-byte header, as Linux's
 * sr_get_events() and QEMU read it.
 */
static void cd_get_event_status(const uint8_t *c, const struct scsi_cmd *cmd,
				struct scsi_cmd_result *res)
{
	uint8_t b[8] = { 0 };
	size_t len = 4;

	if (!(c[1] & 0x01)) {		/* asynchronous operation: not supported */
		cd_invalid_field(res);
		return;
	}
	b[3] = 0x10;			/* supported event classes: media (class 4) */
	if (c[4] & 0x10) {
		put_be(&b[0], 4, 2);
		b[2] = 0x04;		/* NEA 0, notification class 4: media */
		b[4] = 0x00;		/* media event code: no change */
		b[5] = 0x02;		/* media present, tray closed */
		len = 8;
	} else {
		b[2] = 0x80;		/* NEA: no event of a requested class is available */
	}
	cd_data(cmd, res, b, len, get_be(&c[7], 2));
}

/*
 * READ TOC/PMA/ATIP (MMC-6 §6.26): format 0 (TOC: track 1, data, at LBA 0,
 * and the lead-out), 1 (session info: one session), 2 (raw TOC: points A0h,
 * A1h, A2h, track 1).
 */
static void cd_read_toc(struct scsi_cd *cd, const uint8_t *c, const struct scsi_cmd *cmd,
			struct scsi_cmd_result *res)
{
	uint8_t b[CD_RESPONSE_MAX] = { 0 };
	bool msf = c[1] & 0x02;
	uint8_t format = c[2] & 0x0f, track = c[6];
	size_t len = 4;

	/* SFF-8020i put the format in the control byte's top bits; Linux's sr_cd_check() still does. */
	if (format == 0)
		format = c[9] >> 6;
	switch (format) {
	case 0:
		if (track > 1 && track != CD_LEAD_OUT) {
			cd_invalid_field(res);
			return;
		}
		b[2] = 1;		/* first track */
		b[3] = 1;		/* last track */
		if (track <= 1) {
			b[len + 1] = CD_ADR_CTL_DATA;
			b[len + 2] = 1;
			put_toc_addr(&b[len + 4], 0, msf);
			len += 8;
		}
		b[len + 1] = CD_ADR_CTL_DATA;
		b[len + 2] = CD_LEAD_OUT;
		put_toc_addr(&b[len + 4], cd->blocks, msf);
		len += 8;
		break;
	case 1:
		b[2] = 1;		/* first complete session */
		b[3] = 1;		/* last complete session */
		b[5] = CD_ADR_CTL_DATA;
		b[6] = 1;		/* first track in the last session */
		put_toc_addr(&b[8], 0, msf);
		len = 12;
		break;
	case 2: {
		/* Q sub-channel entries of the lead-in, in MSF whatever the MSF bit says. */
		static const uint8_t points[] = { 0xa0, 0xa1, 0xa2, 0x01 };

		if (track > 1) {	/* starting session number: there is only session 1 */
			cd_invalid_field(res);
			return;
		}
		b[2] = 1;
		b[3] = 1;
		for (size_t i = 0; i < sizeof(points); i++, len += 11) {
			uint8_t *d = &b[len];

			d[0] = 1;	/* session */
			d[1] = CD_ADR_CTL_DATA;
			d[3] = points[i];
			if (points[i] == 0xa0) {
				d[8] = 1;	/* first track; PSEC 00h: CD-DA or CD-ROM disc */
			} else if (points[i] == 0xa1) {
				d[8] = 1;	/* last track */
			} else if (points[i] == 0xa2) {
				put_msf(&d[8], cd->blocks);	/* lead-out start */
			} else {
				put_msf(&d[8], 0);		/* track 1 start */
			}
		}
		break;
	}
	default:			/* PMA, ATIP, CD-TEXT: a pressed disc has none */
		cd_invalid_field(res);
		return;
	}
	put_be(&b[0], len - 2, 2);	/* TOC data length: the bytes after it */
	cd_data(cmd, res, b, len, get_be(&c[7], 2));
}

/* READ DISC INFORMATION (MMC-6 §6.22): a complete, finalised single-session CD-ROM. */
static void cd_read_disc_information(const uint8_t *c, const struct scsi_cmd *cmd,
				     struct scsi_cmd_result *res)
{
	uint8_t b[34] = { 0 };

	if (c[1] & 0x07) {		/* data types 1 and 2: track resources, POW (BD only) */
		cd_invalid_field(res);
		return;
	}
	put_be(&b[0], sizeof(b) - 2, 2);
	b[2] = 0x0e;			/* not erasable, last session complete, disc complete */
	b[3] = 1;			/* first track on disc */
	b[4] = 1;			/* number of sessions (LSB) */
	b[5] = 1;			/* first track in last session (LSB) */
	b[6] = 1;			/* last track in last session (LSB) */
	b[7] = 0x20;			/* URU: unrestricted use */
	b[8] = 0x00;			/* disc type: CD-DA or CD-ROM */
	put_be(&b[16], 0xffffffff, 4);	/* last session lead-in start: none (complete) */
	put_be(&b[20], 0xffffffff, 4);	/* last possible lead-out start: none (complete) */
	cd_data(cmd, res, b, sizeof(b), get_be(&c[7], 2));
}

/* READ TRACK INFORMATION (MMC-6 §6.27): track 1, the whole disc, by LBA, track or session. */
static void cd_read_track_information(struct scsi_cd *cd, const uint8_t *c,
				      const struct scsi_cmd *cmd, struct scsi_cmd_result *res)
{
	uint8_t b[36] = { 0 };
	uint32_t num = get_be(&c[2], 4);

	switch (c[1] & 0x03) {		/* address/number type */
	case 0:				/* the track containing LBA num */
		if (num >= cd->blocks) {
			cd_check(res, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
			return;
		}
		break;
	case 1:				/* track num */
	case 2:				/* the first track of session num */
		if (num != 1) {
			cd_invalid_field(res);
			return;
		}
		break;
	default:
		cd_invalid_field(res);
		return;
	}
	put_be(&b[0], sizeof(b) - 2, 2);
	b[2] = 1;			/* track number (LSB) */
	b[3] = 1;			/* session number (LSB) */
	b[5] = 0x04;			/* track mode 4: data, uninterrupted */
	b[6] = 0x01;			/* data mode 1 */
	put_be(&b[24], cd->blocks > UINT32_MAX ? UINT32_MAX : cd->blocks, 4);
	cd_data(cmd, res, b, sizeof(b), get_be(&c[7], 2));
}

/* MECHANISM STATUS (MMC-6 §6.9): no changer, idle, tray closed. */
static void cd_mechanism_status(const uint8_t *c, const struct scsi_cmd *cmd,
				struct scsi_cmd_result *res)
{
	uint8_t b[8] = { 0 };

	cd_data(cmd, res, b, sizeof(b), get_be(&c[8], 2));
}

/*
 * START STOP UNIT (SBC-3 §5.25, MMC-6 §6.39).  The tray is virtual and
 * never opens: an eject (LoEj=1, Start=0) completes GOOD and the disc stays
 * in, so the guest still reads it and it is there after a reboot; an eject
 * while PREVENT ALLOW MEDIUM REMOVAL is in force is refused as a drive
 * refuses it (ILLEGAL REQUEST, MEDIUM REMOVAL PREVENTED).
 */
static void cd_start_stop(struct scsi_cd *cd, const uint8_t *c, struct scsi_cmd_result *res)
{
	bool start = c[4] & 0x01, loej = c[4] & 0x02;

	if ((c[4] >> 4) == 0 && loej && !start && cd->prevent_removal) {
		cd_check(res, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_REMOVAL_PREVENTED);
		return;
	}
	res->status = SCSI_STATUS_GOOD;
}

/* Commands that report no pending unit attention and leave it pending (SAM-5 §5.14, MMC-6 §6.6, §6.7). */
static bool ua_exempt(uint8_t opcode)
{
	return opcode == SCSI_INQUIRY || opcode == SCSI_REPORT_LUNS ||
	       opcode == SCSI_REQUEST_SENSE || opcode == SCSI_GET_CONFIGURATION ||
	       opcode == SCSI_GET_EVENT_STATUS;
}

/* Commands that would change the medium: a read-only disc is write-protected. */
static bool is_write(uint8_t opcode)
{
	switch (opcode) {
	case 0x04:			/* FORMAT UNIT */
	case 0x0a:			/* WRITE(6) */
	case 0x2a:			/* WRITE(10) */
	case 0x2e:			/* WRITE AND VERIFY(10) */
	case 0x41:			/* WRITE SAME(10) */
	case 0x42:			/* UNMAP */
	case 0x8a:			/* WRITE(16) */
	case 0x8e:			/* WRITE AND VERIFY(16) */
	case 0x93:			/* WRITE SAME(16) */
	case 0xa1:			/* BLANK */
	case 0xaa:			/* WRITE(12) */
	case 0xae:			/* WRITE AND VERIFY(12) */
		return true;
	default:
		return false;
	}
}

static void result_init(struct scsi_cmd_result *res)
{
	memset(res, 0, sizeof(*res));
	res->status = SCSI_STATUS_GOOD;
}

/* The CDB, zero-padded: a CDB shorter than its command reads as zeros, never beyond cdb_len. */
static void cdb_copy(uint8_t c[SCSI_CDB_MAX], const struct scsi_cmd *cmd)
{
	size_t n = cmd->cdb_len < SCSI_CDB_MAX ? cmd->cdb_len : SCSI_CDB_MAX;

	memset(c, 0, SCSI_CDB_MAX);
	if (cmd->cdb && n)
		memcpy(c, cmd->cdb, n);
}

void scsi_cd_execute(struct scsi_cd *cd, const struct scsi_cmd *cmd, struct scsi_cmd_result *res)
{
	uint8_t c[SCSI_CDB_MAX];

	result_init(res);
	cdb_copy(c, cmd);
	/* SAM-5 §5.14: a pending unit attention answers the next non-exempt command, once. */
	if (cd->ua_pending && !ua_exempt(c[0])) {
		cd->ua_pending = false;
		cd_check(res, SCSI_SK_UNIT_ATTENTION, cd->ua_code);
		return;
	}
	switch (c[0]) {
	case SCSI_TEST_UNIT_READY:
	case SCSI_SET_CD_SPEED:		/* the speed is a fiction: any is fine */
	case SCSI_SYNCHRONIZE_CACHE_10:	/* nothing is ever cached for writing */
		break;
	case SCSI_REQUEST_SENSE:
		cd_request_sense(cd, c, cmd, res);
		break;
	case SCSI_INQUIRY:
		cd_inquiry(cd, c, cmd, res);
		break;
	case SCSI_REPORT_LUNS:
		report_luns(c, cmd, res);
		break;
	case SCSI_READ_CAPACITY_10:
	case SCSI_SERVICE_ACTION_IN_16:
		cd_read_capacity(cd, c, cmd, res);
		break;
	case SCSI_READ_6:
	case SCSI_READ_10:
	case SCSI_READ_12:
	case SCSI_READ_16:
	case SCSI_READ_CD:
		cd_read(cd, c, cmd, res);
		break;
	case SCSI_MODE_SENSE_6:
	case SCSI_MODE_SENSE_10:
		cd_mode_sense(cd, c, cmd, res);
		break;
	case SCSI_GET_CONFIGURATION:
		cd_get_configuration(cd, c, cmd, res);
		break;
	case SCSI_GET_EVENT_STATUS:
		cd_get_event_status(c, cmd, res);
		break;
	case SCSI_READ_TOC_PMA_ATIP:
		cd_read_toc(cd, c, cmd, res);
		break;
	case SCSI_READ_DISC_INFORMATION:
		cd_read_disc_information(c, cmd, res);
		break;
	case SCSI_READ_TRACK_INFORMATION:
		cd_read_track_information(cd, c, cmd, res);
		break;
	case SCSI_MECHANISM_STATUS:
		cd_mechanism_status(c, cmd, res);
		break;
	case SCSI_PREVENT_ALLOW_REMOVAL:
		cd->prevent_removal = c[4] & 0x01;	/* bit 1, persistent prevent: no other initiator */
		break;
	case SCSI_START_STOP_UNIT:
		cd_start_stop(cd, c, res);
		break;
	default:
		if (is_write(c[0]))
			cd_check(res, SCSI_SK_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED);
		else
			cd_check(res, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_INVALID_OPCODE);
		break;
	}
}

void scsi_absent_lun_execute(const struct scsi_cmd *cmd, struct scsi_cmd_result *res)
{
	uint8_t c[SCSI_CDB_MAX];
	uint8_t b[36] = { 0 };

	result_init(res);
	cdb_copy(c, cmd);
	switch (c[0]) {
	case SCSI_INQUIRY:
		if (c[1] & 0x03 || c[2]) {
			cd_invalid_field(res);
			return;
		}
		b[0] = 0x7f;	/* qualifier 011b: no logical unit here; type 1Fh: unknown */
		b[2] = 0x05;
		b[3] = 0x02;
		b[4] = 36 - 5;
		put_ascii(&b[8], 8, SCSI_CD_VENDOR);
		put_ascii(&b[16], 16, SCSI_CD_PRODUCT);
		put_ascii(&b[32], 4, SCSI_CD_REVISION);
		cd_data(cmd, res, b, 36, get_be(&c[3], 2));
		break;
	case SCSI_REPORT_LUNS:
		report_luns(c, cmd, res);
		break;
	case SCSI_REQUEST_SENSE:
		sense_bytes(b, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LUN_NOT_SUPPORTED);
		cd_data(cmd, res, b, SCSI_SENSE_FIXED_LEN, c[4]);
		break;
	default:
		cd_check(res, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LUN_NOT_SUPPORTED);
		break;
	}
}

void scsi_cd_reset(struct scsi_cd *cd)
{
	cd->prevent_removal = false;
	cd->ua_pending = true;
	cd->ua_code = SCSI_ASC_POWER_ON_RESET;
}

int scsi_cd_init(struct scsi_cd *cd, uint64_t size, const char *serial, scsi_cd_read_fn read,
		 void *opaque)
{
	size_t i;

	memset(cd, 0, sizeof(*cd));
	if (!read || size < SCSI_CD_BLOCK)
		return -EINVAL;
	cd->read = read;
	cd->opaque = opaque;
	cd->blocks = size / SCSI_CD_BLOCK;
	if (!serial || !serial[0])
		serial = "0";
	/* VPD 80h and 83h are ASCII: printable bytes only. */
	for (i = 0; i < SCSI_CD_SERIAL_MAX && serial[i]; i++)
		cd->serial[i] = serial[i] > ' ' && serial[i] < 0x7f ? serial[i] : '_';
	scsi_cd_reset(cd);
	return 0;
}
