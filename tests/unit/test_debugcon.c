/* test_debugcon.c: the firmware's debug console: bytes in, whole lines out. */
#include "tests/unit/cmocka_inc.h"

#include <stdio.h>
#include <string.h>

#include "devices/legacy/debugcon.h"

struct lines {
	char last[DEBUGCON_LINE_MAX];
	int count;
	struct debugcon *c;	/* set: line_fn checks that the console's lock is free */
};

static void line_fn(void *opaque, const char *line)
{
	struct lines *l = opaque;

	snprintf(l->last, sizeof(l->last), "%s", line);
	l->count++;
	if (l->c) {
		assert_int_equal(pthread_mutex_trylock(&l->c->lock), 0);
		pthread_mutex_unlock(&l->c->lock);
	}
}

static void put(struct debugcon *c, const char *s)
{
	for (; *s; s++) {
		uint8_t b = (uint8_t)*s;

		debugcon_pio(c, 0, true, &b, 1);
	}
}

static void test_readback(void **state)
{
	struct debugcon c;
	uint8_t v = 0;

	(void)state;
	debugcon_init(&c, NULL, NULL);
	debugcon_pio(&c, 0, false, &v, 1);
	assert_int_equal(v, DEBUGCON_READBACK);	/* SeaBIOS's check that the port is there */
	debugcon_destroy(&c);
}

static void test_lines(void **state)
{
	struct debugcon c;
	struct lines l = { .count = 0 };

	(void)state;
	debugcon_init(&c, line_fn, &l);
	put(&c, "SeaBIOS (version 1.16)\r");
	assert_int_equal(l.count, 0);			/* not a line until its newline */
	put(&c, "\n");
	assert_int_equal(l.count, 1);
	assert_string_equal(l.last, "SeaBIOS (version 1.16)");
	put(&c, "a\tb\x01\n");
	assert_string_equal(l.last, "a?b?");		/* control bytes shown as '?' */
	put(&c, "\n");
	assert_int_equal(l.count, 3);			/* an empty line is a line */
	assert_string_equal(l.last, "");
	debugcon_destroy(&c);
}

static void test_wide_write(void **state)
{
	struct debugcon c;
	struct lines l = { .count = 0 };
	uint8_t d[4] = { 'N', 'o', '\n', 'x' };

	(void)state;
	debugcon_init(&c, line_fn, &l);
	debugcon_pio(&c, 0, true, d, 4);		/* each byte is a character */
	assert_int_equal(l.count, 1);
	assert_string_equal(l.last, "No");
	put(&c, "\n");
	assert_string_equal(l.last, "x");
	debugcon_destroy(&c);
}

static void test_long_line_is_cut(void **state)
{
	struct debugcon c;
	struct lines l = { .count = 0 };
	char buf[DEBUGCON_LINE_MAX + 10];

	(void)state;
	debugcon_init(&c, line_fn, &l);
	memset(buf, 'x', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	put(&c, buf);					/* 169 characters, no newline */
	assert_int_equal(l.count, 1);
	assert_int_equal(strlen(l.last), DEBUGCON_LINE_MAX - 1);
	put(&c, "\n");
	assert_int_equal(l.count, 2);
	assert_int_equal(strlen(l.last), sizeof(buf) - 1 - (DEBUGCON_LINE_MAX - 1));
	debugcon_destroy(&c);
}

/* The line goes out after the lock is released: the machine's callback logs, which may wait. */
static void test_line_fn_runs_unlocked(void **state)
{
	struct debugcon c;
	struct lines l = { .c = &c };
	uint8_t d[4] = { 'a', '\n', 'b', '\n' };

	(void)state;
	debugcon_init(&c, line_fn, &l);
	put(&c, "SeaBIOS\n");
	assert_int_equal(l.count, 1);
	debugcon_pio(&c, 0, true, d, 4);		/* two lines in one write, in order */
	assert_int_equal(l.count, 3);
	assert_string_equal(l.last, "b");
	debugcon_destroy(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readback),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_wide_write),
		cmocka_unit_test(test_long_line_is_cut),
		cmocka_unit_test(test_line_fn_runs_unlocked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
