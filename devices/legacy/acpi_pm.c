/* acpi_pm.c: ACPI PM1a: the guest's "power off" (S5), and the power button (hvctl powerdown). */
#include "devices/legacy/acpi_pm.h"

#include <errno.h>
#include <string.h>

#include "hv/base/log.h"

void acpi_pm_init(struct acpi_pm *pm, unsigned int s5_slp_typ, acpi_pm_event_fn event,
		  void *opaque)
{
	memset(pm, 0, sizeof(*pm));
	pthread_mutex_init(&pm->lock, NULL);
	pm->cnt = ACPI_PM1_CNT_SCI_EN;
	pm->s5_slp_typ = s5_slp_typ;
	pm->event = event;
	pm->opaque = opaque;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	pthread_mutex_destroy(&pm->lock);
}

/*
 * The SCI follows the PM1 events (ACPI 6.4 §4.8.3.1): high while a status bit
 * and its enable bit are both set.  Level triggered, active high (the MADT's
 * interrupt source override for IRQ 9): it stays up until the OS writes 1 to
 * the status bit, so a missed edge cannot lose the button press.  The power
 * button is the only PM1 event hvrun raises.  Called with the lock held.
 */
static void acpi_pm_update_sci(struct acpi_pm *pm)
{
	bool level = (pm->sts & pm->en & ACPI_PM1_PWRBTN) != 0;

	if (level != pm->sci_level) {
		pm->sci_level = level;
		if (pm->event)
			pm->event(pm->opaque, level ? ACPI_PM_SCI_HIGH : ACPI_PM_SCI_LOW);
	}
}

int acpi_pm_power_button(struct acpi_pm *pm)
{
	int ret = 0;

	pthread_mutex_lock(&pm->lock);
	/*
	 * Until the OS enabled the button (Linux's button driver sets PWRBTN_EN
	 * when it loads), a press would only latch a status bit that ACPICA
	 * clears when it starts: say so instead of pretending.
	 */
	if (!(pm->en & ACPI_PM1_PWRBTN)) {
		ret = -EAGAIN;
	} else {
		pm->sts |= ACPI_PM1_PWRBTN;
		acpi_pm_update_sci(pm);
	}
	pthread_mutex_unlock(&pm->lock);
	return ret;
}

bool acpi_pm_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct acpi_pm *pm = opaque;
	uint8_t regs[ACPI_PM_NR_PORTS];
	unsigned int i;
	bool s5 = false;

	pthread_mutex_lock(&pm->lock);
	/* 0-1 PM1a_STS, 2-3 PM1a_EN, 4-5 PM1a_CNT; little-endian, any width. */
	memcpy(&regs[0], &pm->sts, 2);
	memcpy(&regs[2], &pm->en, 2);
	memcpy(&regs[4], &pm->cnt, 2);
	for (i = 0; i < size; i++) {
		unsigned int r = offset + i;

		if (r >= sizeof(regs)) {
			if (!is_write)
				data[i] = 0xff;
		} else if (!is_write) {
			data[i] = regs[r];
		} else if (r < 2) {
			regs[r] &= (uint8_t)~data[i];	/* status bits: write 1 to clear */
		} else {
			regs[r] = data[i];
		}
	}
	if (is_write) {
		uint16_t cnt;

		memcpy(&pm->sts, &regs[0], 2);
		memcpy(&pm->en, &regs[2], 2);
		memcpy(&cnt, &regs[4], 2);
		/* ACPI 6.4 §4.8.3.2.1: SLP_EN with SLP_TYP = the \_S5_ value is soft-off. */
		s5 = (cnt & ACPI_PM1_CNT_SLP_EN) &&
		     ((cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT) == pm->s5_slp_typ;
		pm->cnt = (uint16_t)((cnt & ~ACPI_PM1_CNT_SLP_EN) | ACPI_PM1_CNT_SCI_EN);
		acpi_pm_update_sci(pm);	/* the OS acknowledged (cleared) or masked an event */
	}
	pthread_mutex_unlock(&pm->lock);
	if (s5) {
		hv_info("the guest entered ACPI S5 (power off)");
		if (pm->event)
			pm->event(pm->opaque, ACPI_PM_POWER_OFF);
	}
	return true;
}
