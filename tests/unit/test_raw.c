/* test_raw.c: the flat-program loader: placement, size limits, unreadable files. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/raw.h"

static uint8_t ram[0x100000];

static void setup(struct guest_mem *gm)
{
	memset(gm, 0, sizeof(*gm));
	memset(ram, 0, sizeof(ram));
	assert_int_equal(gm_add_region(gm, 0, sizeof(ram), ram), 0);
}

static void test_image(void **state)
{
	static const uint8_t prog[] = { 0xf4 };	/* hlt */
	struct guest_mem gm;
	char err[256];

	(void)state;
	setup(&gm);
	assert_int_equal(raw_load_image(&gm, prog, 1, err, sizeof(err)), 0);
	assert_int_equal(ram[RAW_LOAD_ADDR], 0xf4);
	assert_int_equal(raw_load_image(&gm, prog, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
}

static void write_file(const char *path, size_t len)
{
	uint8_t *buf = calloc(1, len ? len : 1);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	buf[0] = 0xaa;
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	free(buf);
}

static void test_file_sizes(void **state)
{
	const char *path = "/tmp/hvrun-test-raw.bin";
	const size_t max = RAW_LOAD_END - RAW_LOAD_ADDR;
	struct guest_mem gm;
	char err[256];

	(void)state;
	setup(&gm);
	write_file(path, max);
	assert_int_equal(raw_load_file(&gm, path, err, sizeof(err)), 0);
	assert_int_equal(ram[RAW_LOAD_ADDR], 0xaa);
	write_file(path, max + 1);
	assert_int_equal(raw_load_file(&gm, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "must fit"));
	write_file(path, 0);
	assert_int_equal(raw_load_file(&gm, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	unlink(path);
	assert_int_equal(raw_load_file(&gm, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
}

static void test_ram_too_small(void **state)
{
	static uint8_t tiny[0x800];
	struct guest_mem gm = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(gm_add_region(&gm, 0, sizeof(tiny), tiny), 0);
	assert_int_equal(raw_load_image(&gm, tiny, 16, err, sizeof(err)), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image),
		cmocka_unit_test(test_file_sizes),
		cmocka_unit_test(test_ram_too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
