/* test_bus.c: both address spaces: ranges are exclusive, the edges decide, silence reads as all ones. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "hv/base/bus.h"

struct probe {
	uint64_t offset;
	bool is_write;
	unsigned int size;
	unsigned int calls;
	bool silent;		/* answers nothing: a window that decodes part of itself */
};

static bool probe_fn(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct probe *p = opaque;

	p->offset = offset;
	p->is_write = is_write;
	p->size = size;
	p->calls++;
	if (!p->silent && !is_write)
		memset(data, 0x42, size);
	return !p->silent;
}

/* Ports: 64 Ki addresses; ranges may touch, never overlap. */
static void test_ports_register(void **state)
{
	struct bus bus;
	struct probe p = { 0 };
	unsigned int i;

	(void)state;
	bus_init_ports(&bus);
	assert_int_equal(bus_register(&bus, "a", 0x3f8, 8, probe_fn, &p), 0);
	assert_int_equal(bus_register(&bus, "b", 0x3ff, 1, probe_fn, &p), -EEXIST);
	assert_int_equal(bus_register(&bus, "c", 0x3f0, 9, probe_fn, &p), -EEXIST);
	assert_int_equal(bus_register(&bus, "d", 0x400, 0, probe_fn, &p), -EINVAL);
	assert_int_equal(bus_register(&bus, "e", 0xfffc, 8, probe_fn, &p), -EINVAL);	/* past 0xffff */
	assert_int_equal(bus_register(&bus, "f", 0x400, 1, NULL, &p), -EINVAL);
	assert_int_equal(bus_register(&bus, NULL, 0x400, 1, probe_fn, &p), -EINVAL);
	assert_int_equal(bus_register(&bus, "g", 0x3f0, 8, probe_fn, &p), 0);	/* adjacent below */
	assert_int_equal(bus_register(&bus, "h", 0x400, 1, probe_fn, &p), 0);	/* adjacent above */
	assert_int_equal(bus_register(&bus, "top", 0xfffc, 4, probe_fn, &p), 0);	/* the last port */
	for (i = bus.nr; i < BUS_MAX_RANGES; i++)
		assert_int_equal(bus_register(&bus, "i", 0x1000 + i, 1, probe_fn, &p), 0);
	assert_int_equal(bus_register(&bus, "j", 0x2000, 1, probe_fn, &p), -ENOSPC);
}

/* Ports: an access belongs to a device only when all its bytes do. */
static void test_ports_dispatch(void **state)
{
	struct bus bus;
	struct probe p = { 0 };
	uint8_t data[4];

	(void)state;
	bus_init_ports(&bus);
	assert_int_equal(bus_register(&bus, "com1", 0x3f8, 8, probe_fn, &p), 0);
	assert_string_equal(bus_dispatch(&bus, 0x3fd, false, data, 1), "com1");
	assert_int_equal(p.offset, 5);
	assert_false(p.is_write);
	assert_int_equal(data[0], 0x42);
	assert_non_null(bus_dispatch(&bus, 0x3f8, true, data, 4));	/* the first port */
	assert_int_equal(p.size, 4);
	assert_true(p.is_write);
	assert_non_null(bus_dispatch(&bus, 0x3fc, false, data, 4));	/* ends on the last */
	assert_int_equal(p.offset, 4);
	/* A 4-byte access at 0x3fe runs past the device: nobody claims it. */
	memset(data, 0, sizeof(data));
	assert_null(bus_dispatch(&bus, 0x3fe, false, data, 4));
	assert_int_equal(data[0], 0xff);
	assert_int_equal(data[3], 0xff);
	assert_null(bus_dispatch(&bus, 0x3f7, false, data, 1));	/* one below */
	assert_null(bus_dispatch(&bus, 0x400, false, data, 1));	/* one above */
	data[0] = 0x12;
	assert_null(bus_dispatch(&bus, 0x80, true, data, 1));	/* POST port: ignored */
	assert_int_equal(data[0], 0x12);
	assert_int_equal(p.calls, 3);
}

/* MMIO: the whole 64-bit space, the top included. */
static void test_mmio_register(void **state)
{
	struct bus bus;
	struct probe p = { 0 };
	unsigned int i;

	(void)state;
	bus_init_mmio(&bus);
	assert_int_equal(bus_register(&bus, "a", 0xe0000000, 0x100000, probe_fn, &p), 0);
	assert_int_equal(bus_register(&bus, "b", 0xe00fffff, 1, probe_fn, &p), -EEXIST);
	assert_int_equal(bus_register(&bus, "c", 0xdfffffff, 2, probe_fn, &p), -EEXIST);
	assert_int_equal(bus_register(&bus, "d", 0x1000, 0, probe_fn, &p), -EINVAL);
	assert_int_equal(bus_register(&bus, "e", UINT64_MAX - 3, 8, probe_fn, &p), -EINVAL);
	assert_int_equal(bus_register(&bus, "f", 0x1000, 1, NULL, &p), -EINVAL);
	assert_int_equal(bus_register(&bus, "g", 0xe0100000, 0x1000, probe_fn, &p), 0);	/* adjacent */
	assert_int_equal(bus_register(&bus, "h", UINT64_MAX - 7, 8, probe_fn, &p), 0);	/* the top */
	for (i = bus.nr; i < BUS_MAX_RANGES; i++)
		assert_int_equal(bus_register(&bus, "i", 0x10000 + i * 0x1000ull, 0x1000, probe_fn, &p), 0);
	assert_int_equal(bus_register(&bus, "j", 0x100000, 1, probe_fn, &p), -ENOSPC);
}

/* MMIO: the range holding the first byte decides; a silent window is unclaimed. */
static void test_mmio_dispatch(void **state)
{
	struct bus bus;
	struct probe p = { 0 }, window = { .silent = true };
	uint8_t data[8];

	(void)state;
	bus_init_mmio(&bus);
	assert_int_equal(bus_register(&bus, "ecam", 0xe0000000, 0x100000, probe_fn, &p), 0);
	assert_int_equal(bus_register(&bus, "bars", 0xc0000000, 0x20000000, probe_fn, &window), 0);
	assert_string_equal(bus_dispatch(&bus, 0xe0001004, false, data, 4), "ecam");
	assert_int_equal(p.offset, 0x1004);
	assert_false(p.is_write);
	assert_int_equal(data[0], 0x42);
	assert_non_null(bus_dispatch(&bus, 0xe0000000, true, data, 8));
	assert_int_equal(p.offset, 0);
	assert_int_equal(p.size, 8);
	assert_true(p.is_write);
	/* The range holding the first byte decides, even when the access runs past its end. */
	assert_non_null(bus_dispatch(&bus, 0xe00ffffc, false, data, 8));
	assert_int_equal(p.offset, 0xffffc);
	assert_non_null(bus_dispatch(&bus, 0xe00fffff, false, data, 1));	/* the last byte */
	assert_int_equal(p.offset, 0xfffff);
	assert_null(bus_dispatch(&bus, 0xe0100000, false, data, 1));		/* one past */

	/* A window that does not answer: all ones, unclaimed. */
	memset(data, 0, sizeof(data));
	assert_null(bus_dispatch(&bus, 0xd0000010, false, data, 4));
	assert_int_equal(window.calls, 1);
	assert_int_equal(window.offset, 0x10000010);
	assert_int_equal(data[0], 0xff);
	assert_int_equal(data[3], 0xff);
	assert_int_equal(data[4], 0);

	/* Nobody there at all. */
	memset(data, 0, sizeof(data));
	assert_null(bus_dispatch(&bus, 0x100000000ull, false, data, 2));
	assert_int_equal(data[0], 0xff);
	assert_int_equal(data[2], 0);
	data[0] = 0x12;
	assert_null(bus_dispatch(&bus, 0x100000000ull, true, data, 1));
	assert_int_equal(data[0], 0x12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports_register),
		cmocka_unit_test(test_ports_dispatch),
		cmocka_unit_test(test_mmio_register),
		cmocka_unit_test(test_mmio_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
