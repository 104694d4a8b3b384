/* test_bytes.c: byte-order fields and the size parser, in both syntaxes hvrun uses. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <string.h>

#include "hv/base/bytes.h"

static void test_byte_order(void **state)
{
	uint8_t b[8];

	(void)state;
	memset(b, 0xee, sizeof(b));
	put_le(b, 0x11223344, 4);
	assert_memory_equal(b, "\x44\x33\x22\x11\xee", 5);
	assert_int_equal(get_le(b, 4), 0x11223344);
	assert_int_equal(get_le(b, 2), 0x3344);
	put_be(b, 0x0102030405060708ull, 8);
	assert_memory_equal(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_true(get_be(b, 8) == 0x0102030405060708ull);
	assert_true(get_le(b, 8) == 0x0807060504030201ull);
	assert_int_equal(get_be(b + 1, 3), 0x020304);
}

/* -m: MB by default, M or G, "MB" reads naturally. */
static void test_size_memory(void **state)
{
	static const struct { const char *s; int ret; uint64_t bytes; } t[] = {
		{ "512", 0, 512 * HV_MIB }, { "512M", 0, 512 * HV_MIB }, { "512mb", 0, 512 * HV_MIB },
		{ "2G", 0, 2 * HV_GIB }, { "2GB", 0, 2 * HV_GIB }, { "1K", -EINVAL, 0 },
		{ "1T", -EINVAL, 0 }, { "512B", -EINVAL, 0 }, { "12GG", -EINVAL, 0 },
		{ "", -EINVAL, 0 }, { NULL, -EINVAL, 0 }, { "18446744073709551615G", -EINVAL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t b = 0;

		assert_int_equal(hv_parse_size(t[i].s, HV_MIB, "MG", true, &b), t[i].ret);
		if (!t[i].ret)
			assert_true(b == t[i].bytes);
	}
}

/* The control socket's sizes: bytes by default, K to T, no "B". */
static void test_size_control(void **state)
{
	static const struct { const char *s; int ret; uint64_t bytes; } t[] = {
		{ "0", 0, 0 }, { "4096", 0, 4096 }, { "1K", 0, 1024 }, { "256m", 0, 256 * HV_MIB },
		{ "1T", 0, HV_TIB }, { "1MB", -EINVAL, 0 }, { "+1", -EINVAL, 0 }, { " 1", -EINVAL, 0 },
		{ "1.5G", -EINVAL, 0 }, { "17179869184G", -EINVAL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t b = 0;

		assert_int_equal(hv_parse_size(t[i].s, 1, "KMGT", false, &b), t[i].ret);
		if (!t[i].ret)
			assert_true(b == t[i].bytes);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_size_memory),
		cmocka_unit_test(test_size_control),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
