/* test_port92.c: System Control Port A as SeaBIOS and Linux use it. */
#include "tests/unit/cmocka_inc.h"

#include "devices/legacy/port92.h"

static void test_a20_on_reset_bit_clear(void **state)
{
	uint8_t v = 0;

	(void)state;
	port92_pio(NULL, 0, false, &v, 1);
	assert_int_equal(v, PORT92_A20);
	assert_int_equal(v & PORT92_FAST_RESET, 0);
}

static void test_writes_change_nothing(void **state)
{
	uint8_t v = 0;

	(void)state;
	v = 0;
	port92_pio(NULL, 0, true, &v, 1);		/* "disable A20": KVM has no wrap */
	v = PORT92_A20 | PORT92_FAST_RESET;
	port92_pio(NULL, 0, true, &v, 1);		/* the reset bit: not acted on */
	v = 0;
	port92_pio(NULL, 0, false, &v, 1);
	assert_int_equal(v, PORT92_A20);
}

static void test_wide_read(void **state)
{
	uint8_t d[4] = { 0xaa, 0xaa, 0xaa, 0xaa };

	(void)state;
	port92_pio(NULL, 0, false, d, 4);
	assert_int_equal(d[0], PORT92_A20);
	assert_int_equal(d[1] | d[2] | d[3], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a20_on_reset_bit_clear),
		cmocka_unit_test(test_writes_change_nothing),
		cmocka_unit_test(test_wide_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
