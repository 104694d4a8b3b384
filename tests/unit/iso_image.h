/* iso_image.h: a fake ISO 9660 image in memory, for the tests of the CD-ROM (test_scsi_cd.c) and of the probe (test_iso9660.c). */
#ifndef TESTS_UNIT_ISO_IMAGE_H
#define TESTS_UNIT_ISO_IMAGE_H

#include <stdint.h>
#include <string.h>

#define ISO_IMAGE_SECTOR	2048u

/* A volume descriptor (ECMA-119 §8): type, "CD001", version 1, and a PVD's volume label. */
static inline void make_vd(uint8_t *s, uint8_t type, const char *label)
{
	memset(s, 0, ISO_IMAGE_SECTOR);
	s[0] = type;
	memcpy(&s[1], "CD001", 5);
	s[6] = 1;
	if (label) {
		memset(&s[40], ' ', 32);
		memcpy(&s[40], label, strlen(label));
	}
}

/* Sectors 0..15 hold a pattern (byte i of sector n = n * 7 + i), 16 the PVD, 17 the terminator. */
static inline void make_iso(uint8_t *img, const char *label)
{
	for (unsigned int n = 0; n < 16; n++)
		for (unsigned int i = 0; i < ISO_IMAGE_SECTOR; i++)
			img[n * ISO_IMAGE_SECTOR + i] = (uint8_t)(n * 7 + i);
	make_vd(&img[16 * ISO_IMAGE_SECTOR], 1, label);
	make_vd(&img[17 * ISO_IMAGE_SECTOR], 255, NULL);
}

#endif
