/* test_reset_cf9.c: the reset control byte at 0xcf9, as the FADT's RESET_REG and SeaBIOS use it. */
#include "tests/unit/cmocka_inc.h"

#include "devices/legacy/reset_cf9.h"

static void event_fn(void *opaque, enum reset_cf9_event ev)
{
	int *resets = opaque;

	assert_int_equal(ev, RESET_CF9_RESET);
	(*resets)++;
}

static void wr(struct reset_cf9 *r, uint8_t v)
{
	reset_cf9_pio(r, 0, true, &v, 1);
}

static void test_reset_value(void **state)
{
	struct reset_cf9 r;
	int resets = 0;

	(void)state;
	reset_cf9_init(&r, event_fn, &resets);
	wr(&r, RESET_CF9_SYS_RST);			/* the "hard" bit alone: only prepares */
	assert_int_equal(resets, 0);
	wr(&r, 6);					/* the FADT's RESET_VALUE */
	assert_int_equal(resets, 1);
	wr(&r, RESET_CF9_RST_CPU);			/* a soft reset is a reset too */
	assert_int_equal(resets, 2);
}

static void test_reads_zero(void **state)
{
	struct reset_cf9 r;
	uint8_t v = 0xaa;

	(void)state;
	reset_cf9_init(&r, NULL, NULL);
	reset_cf9_pio(&r, 0, false, &v, 1);
	assert_int_equal(v, 0);
	wr(&r, 6);					/* nobody listens: no crash */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_value),
		cmocka_unit_test(test_reads_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
