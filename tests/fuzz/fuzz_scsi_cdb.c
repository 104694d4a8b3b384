/*
 * fuzz_scsi_cdb.c: the CD-ROM's command set (devices/scsi/scsi_cd.c) alone,
 * without the virtio-scsi transport: sequences of CDBs (any opcode, any
 * length) with data-in buffers of fuzzed sizes split over several iovecs,
 * on a 64 KiB medium.  A reply longer than the buffer, or than the CDB's
 * allocation length, is an ASan report or an abort here.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "devices/scsi/scsi_cd.h"
#include "tests/fuzz/fuzz_virtio.h"

#define MEDIUM_SIZE	(64u * 1024)
#define DIN_MAX		(80u * 1024)

static uint8_t medium[MEDIUM_SIZE];

static ssize_t medium_read(void *opaque, uint64_t off, const struct iovec *iov, unsigned int iovcnt,
			   size_t len)
{
	size_t done = 0;
	unsigned int i;

	(void)opaque;
	if (off >= MEDIUM_SIZE)
		return 0;
	if (len > MEDIUM_SIZE - off)
		len = MEDIUM_SIZE - off;
	for (i = 0; i < iovcnt && done < len; i++) {
		size_t n = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

		memcpy(iov[i].iov_base, medium + off + done, n);
		done += n;
	}
	return (ssize_t)done;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *din;
	struct fz_in in = { data, size };
	struct scsi_cd cd;
	unsigned int cmds = 0;

	if (!din) {
		din = malloc(DIN_MAX);
		if (!din)
			abort();
	}
	if (scsi_cd_init(&cd, MEDIUM_SIZE, "fuzz", medium_read, NULL) != 0)
		abort();
	while (in.n && cmds++ < 64) {
		uint8_t hdr = fz_u8(&in), cdb[32];
		size_t cdb_len = fz_u8(&in) % (sizeof(cdb) + 1);
		uint32_t din_len = fz_u16(&in) + ((hdr & 0x10) ? 0x10000u : 0);
		unsigned int nr = 1 + (hdr & 3), i;
		struct iovec iov[4];
		struct scsi_cmd cmd;
		struct scsi_cmd_result res;
		uint32_t at = 0;

		fz_bytes(&in, cdb, cdb_len);
		if (din_len > DIN_MAX)
			din_len = DIN_MAX;
		/* nr pieces of the buffer; all but the last get a fuzzed share. */
		for (i = 0; i < nr; i++) {
			uint32_t n = i + 1 == nr ? din_len - at : (din_len - at) * fz_u8(&in) / 255;

			iov[i] = (struct iovec){ din + at, n };
			at += n;
		}
		cmd = (struct scsi_cmd){ cdb, cdb_len, iov, nr, din_len };
		if (hdr & 0x20)
			scsi_absent_lun_execute(&cmd, &res);
		else
			scsi_cd_execute(&cd, &cmd, &res);
		if (res.data_len > din_len || (res.sense_len && res.sense_len != SCSI_SENSE_FIXED_LEN))
			abort();	/* more data than the buffer holds, or a bad sense length */
		if (hdr & 0x40)
			scsi_cd_reset(&cd);
	}
	return 0;
}
