/* test_memmap.c: guest RAM is split around the 32-bit PCI hole [3 GiB, 4 GiB). */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>

#include "hv/base/memmap.h"
#include "hv/options.h"

static void test_small_ram_is_one_range(void **state)
{
	struct memmap m;

	(void)state;
	assert_int_equal(memmap_build(&m, 512 * HV_MIB), 0);
	assert_int_equal(m.nr_ram, 1);
	assert_true(m.ram[0].gpa == 0 && m.ram[0].size == 512 * HV_MIB);
	assert_true(memmap_ram_end(&m) == 512 * HV_MIB);
}

static void test_exactly_hole_start(void **state)
{
	struct memmap m;

	(void)state;
	assert_int_equal(memmap_build(&m, 3 * HV_GIB), 0);
	assert_int_equal(m.nr_ram, 1);
	assert_true(memmap_ram_end(&m) == MEMMAP_PCI_HOLE_START);
}

static void test_large_ram_skips_the_hole(void **state)
{
	struct memmap m;

	(void)state;
	assert_int_equal(memmap_build(&m, 6 * HV_GIB), 0);
	assert_int_equal(m.nr_ram, 2);
	assert_true(m.ram[0].gpa == 0 && m.ram[0].size == 3 * HV_GIB);
	assert_true(m.ram[1].gpa == MEMMAP_4GIB && m.ram[1].size == 3 * HV_GIB);
	assert_true(memmap_ram_end(&m) == 7 * HV_GIB);
	assert_true(m.ram_bytes == 6 * HV_GIB);
}

static void test_rejects(void **state)
{
	struct memmap m;

	(void)state;
	assert_int_equal(memmap_build(&m, 0), -EINVAL);
	assert_int_equal(memmap_build(&m, 4097), -EINVAL);
	assert_int_equal(memmap_build(&m, UINT64_MAX & ~0xfffULL), -EINVAL);
	assert_true(memmap_ram_end(&m) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_ram_is_one_range),
		cmocka_unit_test(test_exactly_hole_start),
		cmocka_unit_test(test_large_ram_skips_the_hole),
		cmocka_unit_test(test_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
