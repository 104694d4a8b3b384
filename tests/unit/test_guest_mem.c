/* test_guest_mem.c: the gateway refuses every range that is not wholly inside one RAM region. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "hv/base/guest_mem.h"
#include "hv/options.h"

static uint8_t low[0x10000], high[0x1000];

static void setup_two(struct guest_mem *gm)
{
	memset(gm, 0, sizeof(*gm));
	assert_int_equal(gm_add_region(gm, 0, sizeof(low), low), 0);
	assert_int_equal(gm_add_region(gm, 0x100000000ULL, sizeof(high), high), 0);
}

static void test_inside(void **state)
{
	struct guest_mem gm;

	(void)state;
	setup_two(&gm);
	assert_ptr_equal(gm_ptr(&gm, 0, 1), low);
	assert_ptr_equal(gm_ptr(&gm, 0x100, 0x10), low + 0x100);
	assert_ptr_equal(gm_ptr(&gm, 0, sizeof(low)), low);
	assert_ptr_equal(gm_ptr(&gm, sizeof(low) - 1, 1), low + sizeof(low) - 1);
	assert_ptr_equal(gm_ptr(&gm, 0x100000000ULL + 8, 8), high + 8);
}

static void test_outside_and_straddling(void **state)
{
	struct guest_mem gm;

	(void)state;
	setup_two(&gm);
	assert_null(gm_ptr(&gm, sizeof(low), 1));		/* just past the end */
	assert_null(gm_ptr(&gm, sizeof(low) - 1, 2));		/* straddles the end */
	assert_null(gm_ptr(&gm, 0x80000, 4));			/* a hole */
	assert_null(gm_ptr(&gm, 0x100000000ULL - 4, 8));	/* straddles into a region */
	assert_null(gm_ptr(&gm, 0, 0));				/* empty range */
	assert_null(gm_ptr(&gm, UINT64_MAX, 2));		/* wraps around */
	assert_null(gm_ptr(&gm, 8, UINT64_MAX));		/* length overflow */
	assert_null(gm_ptr(&gm, 0, sizeof(low) + 1));
}

static void test_copies(void **state)
{
	struct guest_mem gm;
	uint8_t buf[4] = { 1, 2, 3, 4 }, back[4];

	(void)state;
	setup_two(&gm);
	assert_int_equal(gm_write(&gm, 0x200, buf, 4), 0);
	assert_memory_equal(low + 0x200, buf, 4);
	assert_int_equal(gm_read(&gm, 0x200, back, 4), 0);
	assert_memory_equal(back, buf, 4);
	assert_int_equal(gm_write(&gm, sizeof(low) - 2, buf, 4), -EFAULT);
	assert_int_equal(gm_read(&gm, 0x90000, back, 4), -EFAULT);
}

static void test_add_region_rules(void **state)
{
	struct guest_mem gm;
	uint8_t other[16];
	unsigned int i;

	(void)state;
	setup_two(&gm);
	assert_int_equal(gm_add_region(&gm, 0x8000, 16, other), -EINVAL);	/* overlap */
	assert_int_equal(gm_add_region(&gm, 0x200000, 0, other), -EINVAL);	/* empty */
	assert_int_equal(gm_add_region(&gm, UINT64_MAX - 4, 16, other), -EINVAL); /* wraps */
	assert_int_equal(gm_add_region(&gm, 0x200000, 16, NULL), -EINVAL);
	for (i = gm.nr_regions; i < GM_MAX_REGIONS; i++)
		assert_int_equal(gm_add_region(&gm, 0x200000 + i * 0x1000ULL, 16, other), 0);
	assert_int_equal(gm_add_region(&gm, 0x900000, 16, other), -EINVAL);	/* full */
}

static void test_alloc_is_aligned_and_mapped(void **state)
{
	struct guest_mem gm;
	struct memmap m;
	uint8_t *p;

	(void)state;
	assert_int_equal(memmap_build(&m, 130 * HV_MIB), 0);
	assert_int_equal(gm_alloc(&gm, &m, false), 0);
	assert_int_equal(gm.nr_regions, 1);
	assert_int_equal((uintptr_t)gm.region[0].host & ((2u << 20) - 1), 0);
	p = gm_ptr(&gm, 130 * HV_MIB - 1, 1);
	assert_non_null(p);
	*p = 0x5a;		/* the last byte is really mapped and writable */
	assert_null(gm_ptr(&gm, 130 * HV_MIB, 1));
	gm_free(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inside),
		cmocka_unit_test(test_outside_and_straddling),
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_add_region_rules),
		cmocka_unit_test(test_alloc_is_aligned_and_mapped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
