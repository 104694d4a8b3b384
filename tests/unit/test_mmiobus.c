/* test_mmiobus.c: MMIO ranges are exclusive, the first byte picks the range, silence reads as all ones. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "hv/base/mmiobus.h"

struct probe {
	uint64_t offset;
	bool is_write;
	unsigned int size;
	unsigned int calls;
	bool answer;		/* what the handler returns: a window that decodes part of itself */
};

static bool probe_fn(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct probe *p = opaque;

	p->offset = offset;
	p->is_write = is_write;
	p->size = size;
	p->calls++;
	if (p->answer && !is_write)
		memset(data, 0x42, size);
	return p->answer;
}

static void test_register_rules(void **state)
{
	struct mmiobus bus = { 0 };
	struct probe p = { .answer = true };
	unsigned int i;

	(void)state;
	assert_int_equal(mmiobus_register(&bus, "a", 0xe0000000, 0x100000, probe_fn, &p), 0);
	assert_int_equal(mmiobus_register(&bus, "b", 0xe00fffff, 1, probe_fn, &p), -EEXIST);
	assert_int_equal(mmiobus_register(&bus, "c", 0xdfffffff, 2, probe_fn, &p), -EEXIST);
	assert_int_equal(mmiobus_register(&bus, "d", 0x1000, 0, probe_fn, &p), -EINVAL);
	assert_int_equal(mmiobus_register(&bus, "e", UINT64_MAX - 3, 8, probe_fn, &p), -EINVAL);
	assert_int_equal(mmiobus_register(&bus, "f", 0x1000, 1, NULL, &p), -EINVAL);
	assert_int_equal(mmiobus_register(&bus, "g", 0xe0100000, 0x1000, probe_fn, &p), 0);	/* adjacent */
	assert_int_equal(mmiobus_register(&bus, "h", UINT64_MAX - 7, 8, probe_fn, &p), 0);	/* the top */
	for (i = bus.nr; i < MMIOBUS_MAX_DEVICES; i++)
		assert_int_equal(mmiobus_register(&bus, "i", 0x10000 + i * 0x1000ull, 0x1000, probe_fn, &p), 0);
	assert_int_equal(mmiobus_register(&bus, "j", 0x100000, 1, probe_fn, &p), -ENOSPC);
}

static void test_dispatch(void **state)
{
	struct mmiobus bus = { 0 };
	struct probe p = { .answer = true }, window = { .answer = false };
	uint8_t data[8];

	(void)state;
	assert_int_equal(mmiobus_register(&bus, "ecam", 0xe0000000, 0x100000, probe_fn, &p), 0);
	assert_int_equal(mmiobus_register(&bus, "bars", 0xc0000000, 0x20000000, probe_fn, &window), 0);
	assert_true(mmiobus_dispatch(&bus, 0xe0001004, false, data, 4));
	assert_int_equal(p.offset, 0x1004);
	assert_false(p.is_write);
	assert_int_equal(data[0], 0x42);
	assert_true(mmiobus_dispatch(&bus, 0xe0000000, true, data, 8));
	assert_int_equal(p.size, 8);
	assert_true(p.is_write);
	/* The range holding the first byte decides, even when the access runs past its end. */
	assert_true(mmiobus_dispatch(&bus, 0xe00ffffc, false, data, 8));
	assert_int_equal(p.offset, 0xffffc);

	/* A window that does not answer: all ones, unclaimed. */
	memset(data, 0, sizeof(data));
	assert_false(mmiobus_dispatch(&bus, 0xd0000010, false, data, 4));
	assert_int_equal(window.calls, 1);
	assert_int_equal(window.offset, 0x10000010);
	assert_int_equal(data[0], 0xff);
	assert_int_equal(data[3], 0xff);
	assert_int_equal(data[4], 0);

	/* Nobody there at all. */
	memset(data, 0, sizeof(data));
	assert_false(mmiobus_dispatch(&bus, 0x100000000ull, false, data, 2));
	assert_int_equal(data[0], 0xff);
	assert_int_equal(data[2], 0);
	data[0] = 0x12;
	assert_false(mmiobus_dispatch(&bus, 0x100000000ull, true, data, 1));
	assert_int_equal(data[0], 0x12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_rules),
		cmocka_unit_test(test_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
