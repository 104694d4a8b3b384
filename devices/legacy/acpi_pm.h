/* acpi_pm.h: ACPI PM1a fixed hardware: the status, enable and control registers, the power button, S5. */
#ifndef DEV_ACPI_PM_H
#define DEV_ACPI_PM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* PM1a_STS (2 bytes), PM1a_EN (2), PM1a_CNT (2): one block of ports, in this order. */
#define ACPI_PM_NR_PORTS	6

/* PM1 bits (ACPI 6.4 §4.8.3). */
#define ACPI_PM1_CNT_SCI_EN	0x0001	/* ACPI mode on: always, there is no SMM to leave */
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN	0x2000
#define ACPI_PM1_PWRBTN		0x0100	/* PWRBTN_STS in PM1_STS, PWRBTN_EN in PM1_EN (§4.8.3.1) */

/* What the PM block tells the machine: the SCI line went low or high, the guest entered S5. */
enum acpi_pm_event {
	ACPI_PM_SCI_LOW,
	ACPI_PM_SCI_HIGH,
	ACPI_PM_POWER_OFF,
};

/*
 * The SCI events come with the block's lock held (the line must follow the
 * registers in order); ACPI_PM_POWER_OFF comes after it is released.
 */
typedef void (*acpi_pm_event_fn)(void *opaque, enum acpi_pm_event ev);

struct acpi_pm {
	pthread_mutex_t lock;		/* any vCPU thread, and the control thread (the button) */
	uint16_t sts, en, cnt;
	bool sci_level;			/* the SCI line as last driven */
	unsigned int s5_slp_typ;	/* the DSDT's \_S5_ value */
	acpi_pm_event_fn event;		/* NULL: nobody listens */
	void *opaque;
};

void acpi_pm_init(struct acpi_pm *pm, unsigned int s5_slp_typ, acpi_pm_event_fn event,
		  void *opaque);
void acpi_pm_destroy(struct acpi_pm *pm);

/* The port handler (a bus_handler_fn of hv/base/bus.h): offset 0..5 from PM1a_STS, any width. */
bool acpi_pm_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size);

/*
 * Presses the fixed power button: sets PWRBTN_STS and raises the SCI.  0, or
 * -EAGAIN while the OS has not enabled the button (the press would be lost).
 */
int acpi_pm_power_button(struct acpi_pm *pm);

#endif
