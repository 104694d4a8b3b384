/* iso9660.c: recognises an ISO 9660 image (ECMA-119 §8) before it becomes a CD-ROM: the volume descriptors from logical sector 16 on, and the volume label. */
#include "boot/iso9660.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ISO_SECTOR		2048u
#define ISO_FIRST_VD		16u
#define ISO_MAX_VDS		32u	/* descriptors looked at before giving up on finding the PVD */
#define ISO_VD_PRIMARY		1
#define ISO_VD_TERMINATOR	255

static int iso_read_sector(int fd, uint64_t sector, uint8_t *buf)
{
	size_t done = 0;

	while (done < ISO_SECTOR) {
		ssize_t n = pread(fd, buf + done, ISO_SECTOR - done,
				  (off_t)(sector * ISO_SECTOR + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;	/* shorter than its size said */
		done += (size_t)n;
	}
	return 0;
}

int iso9660_probe(int fd, uint64_t size, char label[33], char *err, size_t errlen)
{
	uint8_t vd[ISO_SECTOR];
	uint64_t sector;
	int ret, i;

	if (err && errlen)
		err[0] = '\0';
	label[0] = '\0';
	if (size % ISO_SECTOR) {
		if (err && errlen)
			snprintf(err, errlen, "not an ISO 9660 image: its size, %" PRIu64 " bytes, "
				 "is not a multiple of 2048", size);
		return -EINVAL;
	}
	if (size < (ISO_FIRST_VD + 1) * ISO_SECTOR) {
		if (err && errlen)
			snprintf(err, errlen, "not an ISO 9660 image: %" PRIu64 " bytes, too small "
				 "for a volume descriptor at 32 KiB", size);
		return -EINVAL;
	}
	/* The set starts at sector 16 with a PVD in practice; ECMA-119 lets other descriptors come first. */
	for (sector = ISO_FIRST_VD; sector < ISO_FIRST_VD + ISO_MAX_VDS &&
	     sector < size / ISO_SECTOR; sector++) {
		ret = iso_read_sector(fd, sector, vd);
		if (ret) {
			if (err && errlen)
				snprintf(err, errlen, "cannot read sector %" PRIu64 ": %s", sector,
					 strerror(-ret));
			return ret;
		}
		if (memcmp(&vd[1], "CD001", 5) != 0 || vd[6] != 1) {
			if (err && errlen)
				snprintf(err, errlen, sector == ISO_FIRST_VD ?
					 "not an ISO 9660 image: no CD001 volume descriptor at 32 KiB" :
					 "not an ISO 9660 image: volume descriptor %" PRIu64 " is "
					 "not CD001 and no primary volume descriptor came before it",
					 sector);
			return -EINVAL;
		}
		if (vd[0] == ISO_VD_TERMINATOR)
			break;
		if (vd[0] != ISO_VD_PRIMARY)
			continue;
		/* Volume identifier: bytes 40..71, d-characters padded with spaces (§8.4.6). */
		memcpy(label, &vd[40], 32);
		label[32] = '\0';
		for (i = 31; i >= 0 && (label[i] == ' ' || label[i] == '\0'); i--)
			label[i] = '\0';
		/* Our logs print it: no control bytes from a file we did not make. */
		for (; i >= 0; i--)
			if ((uint8_t)label[i] < ' ' || (uint8_t)label[i] >= 0x7f)
				label[i] = '_';
		return 0;
	}
	if (err && errlen)
		snprintf(err, errlen, "not an ISO 9660 image: no primary volume descriptor");
	return -EINVAL;
}
