/* test_iso9660.c: iso9660_probe (boot/iso9660.c) on image files: labels, descriptor order, size rules, reasons. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/iso9660.h"
#include "tests/unit/iso_image.h"

#define BLK		ISO_IMAGE_SECTOR
#define NBLOCKS		18u		/* 36 KiB: 16 system sectors, the PVD, the terminator */

static int tmp_file(const uint8_t *data, size_t len, char *path, size_t pathlen)
{
	int fd;

	snprintf(path, pathlen, "/tmp/hvrun-iso-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	return fd;
}

static int probe(const uint8_t *img, size_t len, uint64_t size, char *label, char *err)
{
	char path[64];
	int fd = tmp_file(img, len, path, sizeof(path));
	int ret = iso9660_probe(fd, size, label, err, 256);

	close(fd);
	unlink(path);
	return ret;
}

static void test_iso9660_probe(void **state)
{
	uint8_t *img = calloc(1, 40 * BLK);
	char label[33], err[256];

	(void)state;
	assert_non_null(img);
	make_iso(img, "HVRUN_TEST");
	assert_int_equal(probe(img, NBLOCKS * BLK, NBLOCKS * BLK, label, err), 0);
	assert_string_equal(label, "HVRUN_TEST");
	assert_string_equal(err, "");
	/* A full 32-character label, and one with bytes our logs must not print. */
	make_iso(img, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
	assert_int_equal(probe(img, NBLOCKS * BLK, NBLOCKS * BLK, label, err), 0);
	assert_string_equal(label, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
	make_iso(img, "A\033[2JB");
	assert_int_equal(probe(img, NBLOCKS * BLK, NBLOCKS * BLK, label, err), 0);
	assert_string_equal(label, "A_[2JB");
	/* A boot record (El Torito) before the PVD is fine. */
	make_iso(img, "LATE");
	memcpy(&img[18 * BLK], &img[17 * BLK], BLK);
	memcpy(&img[17 * BLK], &img[16 * BLK], BLK);
	make_vd(&img[16 * BLK], 0, NULL);
	assert_int_equal(probe(img, 19 * BLK, 19 * BLK, label, err), 0);
	assert_string_equal(label, "LATE");
	/* No PVD before the terminator. */
	make_vd(&img[16 * BLK], 255, NULL);
	assert_int_equal(probe(img, NBLOCKS * BLK, NBLOCKS * BLK, label, err), -EINVAL);
	assert_non_null(strstr(err, "no primary volume descriptor"));
	/* Not CD001 at 32 KiB. */
	make_iso(img, "X");
	img[16 * BLK + 1] = 'X';
	assert_int_equal(probe(img, NBLOCKS * BLK, NBLOCKS * BLK, label, err), -EINVAL);
	assert_string_equal(err, "not an ISO 9660 image: no CD001 volume descriptor at 32 KiB");
	assert_string_equal(label, "");
	memset(img, 0, 40 * BLK);
	assert_int_equal(probe(img, NBLOCKS * BLK, NBLOCKS * BLK, label, err), -EINVAL);
	/* Size rules: a multiple of 2048, at least 17 sectors. */
	make_iso(img, "X");
	assert_int_equal(probe(img, NBLOCKS * BLK, NBLOCKS * BLK - 512, label, err), -EINVAL);
	assert_non_null(strstr(err, "multiple of 2048"));
	assert_int_equal(probe(img, 16 * BLK, 16 * BLK, label, err), -EINVAL);
	assert_non_null(strstr(err, "too small"));
	assert_int_equal(probe(img, 34816, 34816, label, err), 0);
	/* The size says more than the file holds: a read error, reported. */
	assert_int_equal(probe(img, 16 * BLK, NBLOCKS * BLK, label, err), -EIO);
	assert_non_null(strstr(err, "cannot read sector 16"));
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso9660_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
