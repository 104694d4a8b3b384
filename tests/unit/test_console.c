/* test_console.c: the Ctrl-A escape of the serial console. */
#include "tests/unit/cmocka_inc.h"

#include <string.h>

#include "hv/base/console.h"

static void test_plain_bytes_pass(void **state)
{
	struct console_escape esc = { 0 };
	uint8_t out[16];
	bool quit;

	(void)state;
	assert_int_equal(console_filter(&esc, (const uint8_t *)"ls\r", 3, out, &quit), 3);
	assert_memory_equal(out, "ls\r", 3);
	assert_false(quit);
}

static void test_ctrl_a_x_quits(void **state)
{
	struct console_escape esc = { 0 };
	uint8_t out[16];
	bool quit;

	(void)state;
	assert_int_equal(console_filter(&esc, (const uint8_t *)"ab\001xcd", 6, out, &quit), 2);
	assert_true(quit);
	assert_memory_equal(out, "ab", 2);
}

static void test_escape_split_across_reads(void **state)
{
	struct console_escape esc = { 0 };
	uint8_t out[16];
	bool quit;

	(void)state;
	assert_int_equal(console_filter(&esc, (const uint8_t *)"\001", 1, out, &quit), 0);
	assert_false(quit);
	assert_int_equal(console_filter(&esc, (const uint8_t *)"x", 1, out, &quit), 0);
	assert_true(quit);
}

static void test_double_ctrl_a_and_other(void **state)
{
	struct console_escape esc = { 0 };
	uint8_t out[16];
	bool quit;

	(void)state;
	assert_int_equal(console_filter(&esc, (const uint8_t *)"\001\001\001q", 4, out, &quit), 3);
	assert_memory_equal(out, "\001\001q", 3);
	assert_false(quit);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_bytes_pass),
		cmocka_unit_test(test_ctrl_a_x_quits),
		cmocka_unit_test(test_escape_split_across_reads),
		cmocka_unit_test(test_double_ctrl_a_and_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
