/* scsi_cd.h: a read-only CD-ROM logical unit (MMC-6 over SPC-4/SBC-3, 2048-byte blocks): CDB in, data + status + sense out. */
#ifndef DEV_SCSI_CD_H
#define DEV_SCSI_CD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/*
 * This module knows nothing of virtio: a transport (devices/virtio_scsi.c)
 * hands it one CDB and the initiator's data-in buffer, and gets back the
 * status, the sense data and how many bytes it placed.  The medium is read
 * through a callback, so tests run it over a buffer in memory.
 */

#define SCSI_CD_BLOCK			2048u	/* logical block (one CD-ROM mode 1 sector) */
#define SCSI_CDB_MAX			16u	/* the longest CDB this unit parses (READ(16)) */
#define SCSI_SENSE_FIXED_LEN		18u	/* fixed-format sense data: 8 + additional length 10 */

/* Status codes (SAM-5 §5.3). */
#define SCSI_STATUS_GOOD		0x00
#define SCSI_STATUS_CHECK_CONDITION	0x02

/* Sense keys (SPC-4 §4.5.6). */
#define SCSI_SK_NO_SENSE		0x0
#define SCSI_SK_NOT_READY		0x2
#define SCSI_SK_MEDIUM_ERROR		0x3
#define SCSI_SK_ILLEGAL_REQUEST		0x5
#define SCSI_SK_UNIT_ATTENTION		0x6
#define SCSI_SK_DATA_PROTECT		0x7

/* Additional sense codes (ASC << 8 | ASCQ, SPC-4 Annex D) this unit reports. */
#define SCSI_ASC_NO_ADDITIONAL_SENSE	0x0000
#define SCSI_ASC_UNRECOVERED_READ_ERROR	0x1100
#define SCSI_ASC_INVALID_OPCODE		0x2000	/* INVALID COMMAND OPERATION CODE */
#define SCSI_ASC_LBA_OUT_OF_RANGE	0x2100
#define SCSI_ASC_INVALID_FIELD_IN_CDB	0x2400
#define SCSI_ASC_LUN_NOT_SUPPORTED	0x2500	/* LOGICAL UNIT NOT SUPPORTED */
#define SCSI_ASC_WRITE_PROTECTED	0x2700
#define SCSI_ASC_POWER_ON_RESET		0x2900	/* POWER ON, RESET, OR BUS DEVICE RESET OCCURRED */
#define SCSI_ASC_SAVING_NOT_SUPPORTED	0x3900	/* SAVING PARAMETERS NOT SUPPORTED */
#define SCSI_ASC_REMOVAL_PREVENTED	0x5302	/* MEDIUM REMOVAL PREVENTED */
#define SCSI_ASC_ILLEGAL_MODE_FOR_TRACK	0x6400	/* READ CD of a sector type the track has not */

/* Operation codes (SPC-4, SBC-3, MMC-6) this unit answers or refuses by name. */
#define SCSI_TEST_UNIT_READY		0x00
#define SCSI_REQUEST_SENSE		0x03
#define SCSI_READ_6			0x08
#define SCSI_INQUIRY			0x12
#define SCSI_MODE_SENSE_6		0x1a
#define SCSI_START_STOP_UNIT		0x1b
#define SCSI_PREVENT_ALLOW_REMOVAL	0x1e
#define SCSI_READ_CAPACITY_10		0x25
#define SCSI_READ_10			0x28
#define SCSI_SYNCHRONIZE_CACHE_10	0x35
#define SCSI_READ_TOC_PMA_ATIP		0x43
#define SCSI_GET_CONFIGURATION		0x46
#define SCSI_GET_EVENT_STATUS		0x4a
#define SCSI_READ_DISC_INFORMATION	0x51
#define SCSI_READ_TRACK_INFORMATION	0x52
#define SCSI_MODE_SENSE_10		0x5a
#define SCSI_READ_16			0x88
#define SCSI_SERVICE_ACTION_IN_16	0x9e	/* service action 0x10: READ CAPACITY(16) */
#define SCSI_REPORT_LUNS		0xa0
#define SCSI_READ_12			0xa8
#define SCSI_SET_CD_SPEED		0xbb
#define SCSI_MECHANISM_STATUS		0xbd
#define SCSI_READ_CD			0xbe

#define SCSI_SAI_READ_CAPACITY_16	0x10

/* MMC-6 profiles and feature codes (GET CONFIGURATION). */
#define MMC_PROFILE_CD_ROM		0x0008
#define MMC_FEATURE_PROFILE_LIST	0x0000
#define MMC_FEATURE_CORE		0x0001
#define MMC_FEATURE_MORPHING		0x0002
#define MMC_FEATURE_REMOVABLE_MEDIUM	0x0003
#define MMC_FEATURE_RANDOM_READABLE	0x0010
#define MMC_FEATURE_CD_READ		0x001e

/* INQUIRY identity. */
#define SCSI_CD_VENDOR			"HVRUN"
#define SCSI_CD_PRODUCT			"CD-ROM"
#define SCSI_CD_REVISION		"1.0"
#define SCSI_CD_SERIAL_MAX		20	/* VPD page 0x80, printable ASCII */

/*
 * The medium: copies len bytes starting at byte off of the image into the
 * first len bytes of iov[0..iovcnt) (preadv(2) semantics, retried until done).
 * Returns the bytes copied (fewer only at the end of the file), or -errno.
 */
typedef ssize_t (*scsi_cd_read_fn)(void *opaque, uint64_t off, const struct iovec *iov,
				   unsigned int iovcnt, size_t len);

/* The logical unit's state.  Not thread-safe: the transport serialises commands. */
struct scsi_cd {
	scsi_cd_read_fn read;
	void *opaque;
	uint64_t blocks;		/* capacity in 2048-byte blocks */
	char serial[SCSI_CD_SERIAL_MAX + 1];

	/*
	 * A unit attention condition waiting for the next command that is not
	 * exempt from it (SAM-5 §5.14; INQUIRY, REPORT LUNS, REQUEST SENSE,
	 * GET CONFIGURATION and GET EVENT STATUS NOTIFICATION are).
	 */
	bool ua_pending;
	uint16_t ua_code;		/* SCSI_ASC_* */

	bool prevent_removal;		/* PREVENT ALLOW MEDIUM REMOVAL in force */
};

/*
 * One command.  The data-in buffer is the initiator's: din[0..din_cnt),
 * din_len bytes in all.  A command that moves data to the device (a write,
 * MODE SELECT) is refused without looking at any data-out buffer.
 */
struct scsi_cmd {
	const uint8_t *cdb;
	size_t cdb_len;			/* bytes at cdb; missing ones read as zero */
	const struct iovec *din;
	unsigned int din_cnt;
	uint64_t din_len;
};

struct scsi_cmd_result {
	uint8_t status;			/* SCSI_STATUS_GOOD or SCSI_STATUS_CHECK_CONDITION */
	uint8_t sense[SCSI_SENSE_FIXED_LEN];	/* fixed format, valid when sense_len != 0 */
	uint32_t sense_len;		/* 0 or SCSI_SENSE_FIXED_LEN (with CHECK CONDITION) */
	/*
	 * The data-in buffer was shorter than the data the command had to
	 * return: nothing was transferred and the command had no effect; the
	 * transport reports a data overrun (virtio-scsi VIRTIO_SCSI_S_OVERRUN).
	 */
	bool overrun;
	uint64_t data_len;		/* bytes placed at the start of the data-in buffer */
	/* For counters: a READ command, and the bytes it took from the medium. */
	bool is_read;
	uint64_t bytes_read;
};

/*
 * Sets up cd over a medium of size bytes (a multiple of 2048 is expected; a
 * partial last block is not visible), its data read through read(opaque...).
 * serial: VPD page 0x80 (NULL or "" for "0"; printable ASCII, at most 20
 * bytes, longer is cut).  The unit starts as after power-on: a UNIT ATTENTION
 * 29h/00h is pending.  0, or -EINVAL for a medium of less than one block or
 * no read function.
 */
int scsi_cd_init(struct scsi_cd *cd, uint64_t size, const char *serial, scsi_cd_read_fn read,
		 void *opaque);

/*
 * A reset of the logical unit (power on, a bus/device reset by the
 * transport, LOGICAL UNIT RESET, I_T NEXUS RESET): medium removal allowed
 * again and UNIT ATTENTION 29h/00h pending (SAM-5 §6.3.3).
 */
void scsi_cd_reset(struct scsi_cd *cd);

/*
 * Runs one command to completion (reads included: synchronous, through
 * cd->read).  Always fills *res; never writes beyond din_len bytes of the
 * data-in buffer, nor beyond the CDB's allocation length.
 */
void scsi_cd_execute(struct scsi_cd *cd, const struct scsi_cmd *cmd, struct scsi_cmd_result *res);

/*
 * A command addressed to a logical unit that does not exist on a target that
 * does (SPC-4 §6.6.2 and §6.33): INQUIRY says peripheral qualifier 011b /
 * type 1Fh, REPORT LUNS lists LUN 0, REQUEST SENSE returns LOGICAL UNIT NOT
 * SUPPORTED; anything else is CHECK CONDITION, ILLEGAL REQUEST 25h/00h.
 */
void scsi_absent_lun_execute(const struct scsi_cmd *cmd, struct scsi_cmd_result *res);

#endif
