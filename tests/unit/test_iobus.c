/* test_iobus.c: port ranges are exclusive and unclaimed ports read as an empty bus. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <string.h>

#include "hv/base/iobus.h"

struct probe {
	uint16_t offset;
	bool is_write;
	unsigned int size;
	unsigned int calls;
};

static void probe_fn(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct probe *p = opaque;

	p->offset = offset;
	p->is_write = is_write;
	p->size = size;
	p->calls++;
	if (!is_write)
		memset(data, 0x42, size);
}

static void test_register_rules(void **state)
{
	struct iobus bus = { 0 };
	struct probe p = { 0 };
	unsigned int i;

	(void)state;
	assert_int_equal(iobus_register(&bus, "a", 0x3f8, 8, probe_fn, &p), 0);
	assert_int_equal(iobus_register(&bus, "b", 0x3ff, 1, probe_fn, &p), -EEXIST);
	assert_int_equal(iobus_register(&bus, "c", 0x3f0, 9, probe_fn, &p), -EEXIST);
	assert_int_equal(iobus_register(&bus, "d", 0x400, 0, probe_fn, &p), -EINVAL);
	assert_int_equal(iobus_register(&bus, "e", 0xfffc, 8, probe_fn, &p), -EINVAL);
	assert_int_equal(iobus_register(&bus, "f", 0x400, 1, NULL, &p), -EINVAL);
	assert_int_equal(iobus_register(&bus, "g", 0x3f0, 8, probe_fn, &p), 0);	/* adjacent */
	for (i = bus.nr; i < IOBUS_MAX_DEVICES; i++)
		assert_int_equal(iobus_register(&bus, "h", (uint16_t)(0x1000 + i), 1, probe_fn, &p), 0);
	assert_int_equal(iobus_register(&bus, "i", 0x2000, 1, probe_fn, &p), -ENOSPC);
}

static void test_dispatch(void **state)
{
	struct iobus bus = { 0 };
	struct probe p = { 0 };
	uint8_t data[4];

	(void)state;
	assert_int_equal(iobus_register(&bus, "a", 0x3f8, 8, probe_fn, &p), 0);
	assert_true(iobus_dispatch(&bus, 0x3fd, false, data, 1));
	assert_int_equal(p.offset, 5);
	assert_false(p.is_write);
	assert_int_equal(data[0], 0x42);
	assert_true(iobus_dispatch(&bus, 0x3f8, true, data, 4));
	assert_int_equal(p.size, 4);
	/* a 4-byte access at 0x3fe runs past the device: nobody claims it */
	memset(data, 0, sizeof(data));
	assert_false(iobus_dispatch(&bus, 0x3fe, false, data, 4));
	assert_int_equal(data[0], 0xff);
	assert_int_equal(data[3], 0xff);
	assert_false(iobus_dispatch(&bus, 0x80, true, data, 1));	/* POST port: ignored */
	assert_int_equal(p.calls, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_rules),
		cmocka_unit_test(test_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
