/* test_rtc.c: the CMOS clock reads the (fake) host time in BCD or binary, UTC or local. */
#include "tests/unit/cmocka_inc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/legacy/rtc_cmos.h"

/* 2026-11-26 10:23:45 UTC, a Thursday */
static struct timespec fake_now = { .tv_sec = 1795688625, .tv_nsec = 0 };

static void fake_clock(struct timespec *now)
{
	*now = fake_now;
}

static uint8_t rd(struct rtc_cmos *rtc, uint8_t reg)
{
	uint8_t v = reg | 0x80;		/* with the NMI-disable bit, as Linux writes it */

	rtc_pio(rtc, 0, true, &v, 1);
	rtc_pio(rtc, 1, false, &v, 1);
	return v;
}

static void wr(struct rtc_cmos *rtc, uint8_t reg, uint8_t val)
{
	rtc_pio(rtc, 0, true, &reg, 1);
	rtc_pio(rtc, 1, true, &val, 1);
}

static void test_bcd_utc(void **state)
{
	struct rtc_cmos rtc;

	(void)state;
	rtc_init(&rtc, false, fake_clock);
	assert_int_equal(rd(&rtc, 0x00), 0x45);
	assert_int_equal(rd(&rtc, 0x02), 0x23);
	assert_int_equal(rd(&rtc, 0x04), 0x10);
	assert_int_equal(rd(&rtc, 0x06), 5);		/* Thursday: day 5, Sunday is 1 */
	assert_int_equal(rd(&rtc, 0x07), 0x26);
	assert_int_equal(rd(&rtc, 0x08), 0x11);
	assert_int_equal(rd(&rtc, 0x09), 0x26);
	assert_int_equal(rd(&rtc, 0x32), 0x20);
	assert_int_equal(rd(&rtc, 0x0d), 0x80);		/* battery fine */
	rtc_destroy(&rtc);
}

static void test_binary_and_12h(void **state)
{
	struct rtc_cmos rtc;

	(void)state;
	rtc_init(&rtc, false, fake_clock);
	wr(&rtc, 0x0b, 0x04);				/* binary, 12-hour */
	assert_int_equal(rd(&rtc, 0x00), 45);
	assert_int_equal(rd(&rtc, 0x04), 10);		/* 10 AM */
	fake_now.tv_sec += 5 * 3600;
	assert_int_equal(rd(&rtc, 0x04), 0x80 | 3);	/* 3 PM */
	fake_now.tv_sec -= 5 * 3600;
	rtc_destroy(&rtc);
}

static void test_uip_only_at_the_end_of_a_second(void **state)
{
	struct rtc_cmos rtc;

	(void)state;
	rtc_init(&rtc, false, fake_clock);
	fake_now.tv_nsec = 500000000;
	assert_int_equal(rd(&rtc, 0x0a), 0x26);
	fake_now.tv_nsec = 999900000;
	assert_int_equal(rd(&rtc, 0x0a), 0xa6);
	fake_now.tv_nsec = 0;
	rtc_destroy(&rtc);
}

static void test_localtime(void **state)
{
	struct rtc_cmos rtc;

	(void)state;
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);	/* no tzdata needed */
	tzset();
	rtc_init(&rtc, true, fake_clock);
	assert_int_equal(rd(&rtc, 0x04), 0x11);		/* UTC+1 in November */
	assert_int_equal(rd(&rtc, 0x02), 0x23);
	rtc_destroy(&rtc);
	unsetenv("TZ");
	tzset();
}

static void test_guest_sets_the_clock(void **state)
{
	struct rtc_cmos rtc;

	(void)state;
	rtc_init(&rtc, false, fake_clock);
	wr(&rtc, 0x0b, 0x82);				/* SET: updates stop */
	assert_int_equal(rd(&rtc, 0x0a) & 0x80, 0);
	wr(&rtc, 0x04, 0x12);				/* 12:23:45: two hours ahead */
	wr(&rtc, 0x0b, 0x02);				/* SET off: the new time counts */
	assert_int_equal(rd(&rtc, 0x04), 0x12);
	assert_int_equal(rd(&rtc, 0x02), 0x23);
	assert_int_equal(rd(&rtc, 0x07), 0x26);
	fake_now.tv_sec += 60;
	assert_int_equal(rd(&rtc, 0x02), 0x24);		/* and keeps running */
	fake_now.tv_sec -= 60;
	rtc_destroy(&rtc);
}

static void test_garbage_date_is_ignored(void **state)
{
	struct rtc_cmos rtc;

	(void)state;
	rtc_init(&rtc, false, fake_clock);
	wr(&rtc, 0x0b, 0x82);
	wr(&rtc, 0x08, 0x99);				/* month 99 */
	wr(&rtc, 0x09, 0xff);
	wr(&rtc, 0x32, 0xff);
	wr(&rtc, 0x0b, 0x02);
	/* timegm normalises odd dates; hvrun never crashes, and the clock still reads */
	(void)rd(&rtc, 0x04);
	rtc_destroy(&rtc);
}

static void test_register_c_clears_and_d_is_read_only(void **state)
{
	struct rtc_cmos rtc;

	(void)state;
	rtc_init(&rtc, false, fake_clock);
	rtc.cmos[0x0c] = 0x90;
	assert_int_equal(rd(&rtc, 0x0c), 0x90);
	assert_int_equal(rd(&rtc, 0x0c), 0x00);
	wr(&rtc, 0x0d, 0x00);
	assert_int_equal(rd(&rtc, 0x0d), 0x80);
	wr(&rtc, 0x0a, 0xff);				/* UIP cannot be written */
	assert_int_equal(rd(&rtc, 0x0a) & 0x80, 0);
	rtc_destroy(&rtc);
}

static void test_cmos_bytes_and_memory_size(void **state)
{
	struct rtc_cmos rtc;
	uint8_t v = 0;

	(void)state;
	rtc_init(&rtc, false, fake_clock);
	wr(&rtc, 0x40, 0x5a);
	assert_int_equal(rd(&rtc, 0x40), 0x5a);
	wr(&rtc, 0x7f, 0xa5);				/* the last byte; index is 7 bits */
	assert_int_equal(rd(&rtc, 0xff), 0xa5);
	rtc_set_memory_size(&rtc, 512ULL << 20, 2ULL << 30);
	assert_int_equal(rd(&rtc, 0x34) | rd(&rtc, 0x35) << 8, (512 - 16) * 16);
	assert_int_equal(rd(&rtc, 0x30) | rd(&rtc, 0x31) << 8, 0xffff);	/* capped */
	assert_int_equal(rd(&rtc, 0x5b) | rd(&rtc, 0x5c) << 8 | rd(&rtc, 0x5d) << 16,
			 (int)((2ULL << 30) >> 16));
	rtc_pio(&rtc, 0, false, &v, 1);
	assert_int_equal(v, 0xff);			/* the index port is write-only */
	rtc_destroy(&rtc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bcd_utc),
		cmocka_unit_test(test_binary_and_12h),
		cmocka_unit_test(test_uip_only_at_the_end_of_a_second),
		cmocka_unit_test(test_localtime),
		cmocka_unit_test(test_guest_sets_the_clock),
		cmocka_unit_test(test_garbage_date_is_ignored),
		cmocka_unit_test(test_register_c_clears_and_d_is_read_only),
		cmocka_unit_test(test_cmos_bytes_and_memory_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
