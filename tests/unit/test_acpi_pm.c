/* test_acpi_pm.c: PM1a as ACPICA drives it: the power button, the SCI, S5. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>

#include "devices/legacy/acpi_pm.h"

#define STS	0
#define EN	2
#define CNT	4

struct probe {
	int sci;		/* the line as last driven */
	int sci_changes;
	int power_off;
};

static void event_fn(void *opaque, enum acpi_pm_event ev)
{
	struct probe *p = opaque;

	if (ev == ACPI_PM_POWER_OFF) {
		p->power_off++;
	} else {
		p->sci = ev == ACPI_PM_SCI_HIGH;
		p->sci_changes++;
	}
}

static uint16_t rd16(struct acpi_pm *pm, uint16_t off)
{
	uint8_t d[2] = { 0 };

	acpi_pm_pio(pm, off, false, d, 2);
	return (uint16_t)(d[0] | d[1] << 8);
}

static void wr16(struct acpi_pm *pm, uint16_t off, uint16_t v)
{
	uint8_t d[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	acpi_pm_pio(pm, off, true, d, 2);
}

static void test_reset_state(void **state)
{
	struct acpi_pm pm;
	struct probe p = { 0 };
	uint8_t d[4] = { 0 };

	(void)state;
	acpi_pm_init(&pm, 5, event_fn, &p);
	assert_int_equal(rd16(&pm, STS), 0);
	assert_int_equal(rd16(&pm, EN), 0);
	assert_int_equal(rd16(&pm, CNT), ACPI_PM1_CNT_SCI_EN);	/* ACPI mode from the start */
	acpi_pm_pio(&pm, 4, false, d, 4);			/* CNT, then past the block */
	assert_int_equal(d[0], ACPI_PM1_CNT_SCI_EN);
	assert_int_equal(d[2], 0xff);
	assert_int_equal(d[3], 0xff);
	assert_int_equal(p.sci_changes, 0);
	acpi_pm_destroy(&pm);
}

static void test_button_needs_enable(void **state)
{
	struct acpi_pm pm;
	struct probe p = { 0 };

	(void)state;
	acpi_pm_init(&pm, 5, event_fn, &p);
	assert_int_equal(acpi_pm_power_button(&pm), -EAGAIN);
	assert_int_equal(rd16(&pm, STS), 0);
	assert_int_equal(p.sci_changes, 0);
	acpi_pm_destroy(&pm);
}

static void test_button_raises_sci_until_acknowledged(void **state)
{
	struct acpi_pm pm;
	struct probe p = { 0 };

	(void)state;
	acpi_pm_init(&pm, 5, event_fn, &p);
	wr16(&pm, EN, ACPI_PM1_PWRBTN);			/* Linux's button driver loads */
	assert_int_equal(p.sci_changes, 0);
	assert_int_equal(acpi_pm_power_button(&pm), 0);
	assert_int_equal(rd16(&pm, STS), ACPI_PM1_PWRBTN);
	assert_int_equal(p.sci, 1);
	assert_int_equal(p.sci_changes, 1);
	wr16(&pm, STS, 0);				/* writing 0 clears nothing */
	assert_int_equal(rd16(&pm, STS), ACPI_PM1_PWRBTN);
	assert_int_equal(p.sci, 1);
	wr16(&pm, STS, ACPI_PM1_PWRBTN);		/* write 1 to clear: the OS handled it */
	assert_int_equal(rd16(&pm, STS), 0);
	assert_int_equal(p.sci, 0);
	assert_int_equal(p.sci_changes, 2);
	assert_int_equal(p.power_off, 0);
	acpi_pm_destroy(&pm);
}

static void test_masking_lowers_sci(void **state)
{
	struct acpi_pm pm;
	struct probe p = { 0 };

	(void)state;
	acpi_pm_init(&pm, 5, event_fn, &p);
	wr16(&pm, EN, ACPI_PM1_PWRBTN);
	assert_int_equal(acpi_pm_power_button(&pm), 0);
	assert_int_equal(p.sci, 1);
	wr16(&pm, EN, 0);
	assert_int_equal(p.sci, 0);
	assert_int_equal(rd16(&pm, STS), ACPI_PM1_PWRBTN);	/* still latched */
	acpi_pm_destroy(&pm);
}

static void test_s5_powers_off(void **state)
{
	struct acpi_pm pm;
	struct probe p = { 0 };
	uint16_t s5 = (uint16_t)(5u << ACPI_PM1_CNT_SLP_TYP_SHIFT);

	(void)state;
	acpi_pm_init(&pm, 5, event_fn, &p);
	wr16(&pm, CNT, s5);				/* SLP_TYP alone: nothing yet */
	assert_int_equal(p.power_off, 0);
	wr16(&pm, CNT, (uint16_t)((3u << ACPI_PM1_CNT_SLP_TYP_SHIFT) | ACPI_PM1_CNT_SLP_EN));
	assert_int_equal(p.power_off, 0);		/* another sleep state: not S5 */
	wr16(&pm, CNT, s5 | ACPI_PM1_CNT_SLP_EN);
	assert_int_equal(p.power_off, 1);
	/* SLP_EN reads back as 0, SCI_EN as 1, SLP_TYP as written. */
	assert_int_equal(rd16(&pm, CNT), s5 | ACPI_PM1_CNT_SCI_EN);
	acpi_pm_destroy(&pm);
}

static void test_byte_writes(void **state)
{
	struct acpi_pm pm;
	struct probe p = { 0 };
	uint8_t hi = (uint8_t)((ACPI_PM1_CNT_SLP_EN | (5u << ACPI_PM1_CNT_SLP_TYP_SHIFT)) >> 8);

	(void)state;
	acpi_pm_init(&pm, 5, NULL, NULL);		/* nobody listens: no crash */
	acpi_pm_pio(&pm, CNT + 1, true, &hi, 1);
	acpi_pm_destroy(&pm);
	acpi_pm_init(&pm, 5, event_fn, &p);
	acpi_pm_pio(&pm, CNT + 1, true, &hi, 1);	/* the high byte alone is enough */
	assert_int_equal(p.power_off, 1);
	acpi_pm_destroy(&pm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_button_needs_enable),
		cmocka_unit_test(test_button_raises_sci_until_acknowledged),
		cmocka_unit_test(test_masking_lowers_sci),
		cmocka_unit_test(test_s5_powers_off),
		cmocka_unit_test(test_byte_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
