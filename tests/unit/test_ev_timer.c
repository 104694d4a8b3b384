/* test_ev_timer.c: an event loop's timer fires once or periodically, and not after it is stopped. */
#include "tests/unit/cmocka_inc.h"

#include "hv/base/event_loop.h"

static void count(void *opaque)
{
	(*(unsigned int *)opaque)++;
}

static void test_timer(void **state)
{
	struct ev_loop l;
	struct ev_timer t;
	unsigned int fired = 0;

	(void)state;
	assert_int_equal(ev_loop_init(&l, "test"), 0);
	assert_int_equal(ev_timer_init(&t, "test", count, &fired), 0);
	assert_int_equal(ev_timer_start(&t, &l), 0);
	assert_int_equal(ev_timer_start(&t, &l), 0);		/* watched once */
	assert_int_equal(ev_timer_set(&t, 1000000, 0), 0);	/* 1 ms, once */
	assert_int_equal(ev_loop_poll(&l, 2000), 1);
	assert_int_equal(fired, 1);
	assert_int_equal(ev_loop_poll(&l, 20), 0);		/* once means once */

	assert_int_equal(ev_timer_set(&t, 1000000, 1000000), 0);	/* every ms */
	assert_int_equal(ev_loop_poll(&l, 2000), 1);
	assert_int_equal(ev_loop_poll(&l, 2000), 1);
	assert_int_equal(fired, 3);

	ev_timer_stop(&t);					/* disarmed and unwatched */
	assert_int_equal(ev_loop_poll(&l, 20), 0);
	assert_int_equal(fired, 3);
	assert_int_equal(ev_timer_start(&t, &l), 0);		/* watched again, not armed */
	assert_int_equal(ev_loop_poll(&l, 20), 0);
	ev_timer_destroy(&t);
	assert_int_equal(t.fd, -1);
	ev_timer_destroy(&t);					/* twice is harmless */
	ev_loop_destroy(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
