/* test_i8042.c: the keyboard controller's reset command, and nothing else. */
#include "tests/unit/cmocka_inc.h"

#include "devices/legacy/i8042.h"

static void event_fn(void *opaque, enum i8042_event ev)
{
	int *resets = opaque;

	assert_int_equal(ev, I8042_RESET);
	(*resets)++;
}

static void wr(struct i8042 *k, uint16_t port, uint8_t v)
{
	i8042_pio(k, (uint16_t)(port - I8042_DATA_PORT), true, &v, 1);
}

static void test_pulse_reset(void **state)
{
	struct i8042 k;
	int resets = 0;

	(void)state;
	i8042_init(&k, event_fn, &resets);
	wr(&k, I8042_CMD_PORT, I8042_CMD_RESET);	/* Linux's reboot=k, SeaBIOS's reset */
	assert_int_equal(resets, 1);
}

static void test_other_writes_ignored(void **state)
{
	struct i8042 k;
	int resets = 0;

	(void)state;
	i8042_init(&k, event_fn, &resets);
	wr(&k, I8042_DATA_PORT, I8042_CMD_RESET);	/* 0xfe as data: not a command */
	wr(&k, I8042_CMD_PORT, 0xd1);			/* write output port: ignored */
	wr(&k, I8042_CMD_PORT, 0xad);
	assert_int_equal(resets, 0);
	i8042_init(&k, NULL, NULL);
	wr(&k, I8042_CMD_PORT, I8042_CMD_RESET);	/* nobody listens: no crash */
}

static void test_reads_empty(void **state)
{
	struct i8042 k;
	uint8_t d[4] = { 0xaa, 0xaa, 0xaa, 0xaa };

	(void)state;
	i8042_init(&k, NULL, NULL);
	i8042_pio(&k, I8042_CMD_PORT - I8042_DATA_PORT, false, d, 1);
	assert_int_equal(d[0], 0);			/* status: no data, input buffer empty */
	i8042_pio(&k, 0, false, d, 4);
	assert_int_equal(d[0] | d[1] | d[2] | d[3], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pulse_reset),
		cmocka_unit_test(test_other_writes_ignored),
		cmocka_unit_test(test_reads_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
