/* test_pci.c: configuration mechanism 1, write masks, absent devices, the i440FX/PIIX3 identities. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <string.h>

#include "devices/pci.h"

static void set_address(struct pci_bus *bus, uint32_t a)
{
	pci_address_pio(bus, 0, true, (uint8_t *)&a, 4);
}

static uint32_t cfc_read(struct pci_bus *bus, uint16_t off, unsigned int size)
{
	uint32_t v = 0;

	pci_data_pio(bus, off, false, (uint8_t *)&v, size);
	return v;
}

static void cfc_write(struct pci_bus *bus, uint16_t off, uint32_t v, unsigned int size)
{
	pci_data_pio(bus, off, true, (uint8_t *)&v, size);
}

#define ADDR(dev, fn, reg) (0x80000000u | (dev) << 11 | (fn) << 8 | (reg))

static void test_chipset_identities(void **state)
{
	struct pc_chipset cs;
	struct pci_bus bus;

	(void)state;
	pci_bus_init(&bus);
	assert_int_equal(pc_chipset_init(&cs, &bus), 0);
	set_address(&bus, ADDR(0, 0, 0));
	assert_int_equal(cfc_read(&bus, 0, 4), 0x12378086);
	set_address(&bus, ADDR(0, 0, 8));
	assert_int_equal(cfc_read(&bus, 0, 4) >> 8, 0x060000);
	set_address(&bus, ADDR(1, 0, 0));
	assert_int_equal(cfc_read(&bus, 0, 4), 0x70008086);
	set_address(&bus, ADDR(1, 0, 8));
	assert_int_equal(cfc_read(&bus, 2, 2), 0x0601);		/* class/subclass, 16-bit at 0xcfe */
	set_address(&bus, ADDR(1, 0, 0x60));
	assert_int_equal(cfc_read(&bus, 0, 4), 0x80808080);		/* PIRQs not routed yet */
	cfc_write(&bus, 1, 0x0b, 1);					/* PIRQB -> IRQ 11 */
	assert_int_equal(cfc_read(&bus, 1, 1), 0x0b);
	pci_bus_destroy(&bus);
}

static void test_absent_and_disabled(void **state)
{
	struct pc_chipset cs;
	struct pci_bus bus;

	(void)state;
	pci_bus_init(&bus);
	assert_int_equal(pc_chipset_init(&cs, &bus), 0);
	set_address(&bus, ADDR(5, 0, 0));
	assert_int_equal(cfc_read(&bus, 0, 4), 0xffffffff);
	assert_int_equal(cfc_read(&bus, 0, 2), 0xffff);
	set_address(&bus, ADDR(0, 1, 0));				/* function 1: none */
	assert_int_equal(cfc_read(&bus, 0, 4), 0xffffffff);
	set_address(&bus, 0x00000000);					/* enable bit clear */
	assert_int_equal(cfc_read(&bus, 0, 4), 0xffffffff);
	set_address(&bus, ADDR(0, 0, 0) | 1 << 16);			/* bus 1 */
	assert_int_equal(cfc_read(&bus, 0, 4), 0xffffffff);
	pci_bus_destroy(&bus);
}

static void test_write_masks(void **state)
{
	struct pc_chipset cs;
	struct pci_bus bus;

	(void)state;
	pci_bus_init(&bus);
	assert_int_equal(pc_chipset_init(&cs, &bus), 0);
	pci_cfg_write(&bus, 0, 0x00, 0xdeadbeef, 4);			/* ids are read-only */
	assert_int_equal(pci_cfg_read(&bus, 0, 0x00, 4), 0x12378086);
	pci_cfg_write(&bus, 0, 0x04, 0xffff, 2);			/* command */
	assert_int_equal(pci_cfg_read(&bus, 0, 0x04, 2), 0x0407);
	cs.host.cfg[0x07] = 0x80;					/* a status error bit */
	pci_cfg_write(&bus, 0, 0x06, 0x8000, 2);			/* write 1 to clear */
	assert_int_equal(pci_cfg_read(&bus, 0, 0x06, 2), 0);
	pci_cfg_write(&bus, 0, 0x59, 0x33, 1);				/* PAM0 */
	assert_int_equal(pci_cfg_read(&bus, 0, 0x59, 1), 0x33);
	pci_cfg_write(&bus, 0, 0x3c, 0x0a, 1);				/* interrupt line */
	assert_int_equal(pci_cfg_read(&bus, 0, 0x3c, 1), 0x0a);
	pci_bus_destroy(&bus);
}

static void test_bad_accesses(void **state)
{
	struct pc_chipset cs;
	struct pci_bus bus;
	uint8_t b = 0;

	(void)state;
	pci_bus_init(&bus);
	assert_int_equal(pc_chipset_init(&cs, &bus), 0);
	assert_int_equal(pci_cfg_read(&bus, 0, 0x01, 2), 0xffff);	/* unaligned */
	assert_int_equal(pci_cfg_read(&bus, 0, 0x02, 4), 0xffffffff);
	assert_int_equal(pci_cfg_read(&bus, 0, 0xfe, 4), 0xffffffff);	/* unaligned, past the end */
	assert_int_equal(pci_cfg_read(&bus, 0, 0x00, 3), 0xffffff);
	pci_cfg_write(&bus, 0, 0x03, 0xffff, 2);			/* ignored */
	assert_int_equal(pci_cfg_read(&bus, 0, 0x00, 4), 0x12378086);
	/* a byte at 0xcf9 (the reset control port on a PC) is not the address register */
	set_address(&bus, ADDR(1, 0, 0));
	b = 0x06;
	pci_address_pio(&bus, 1, true, &b, 1);
	assert_int_equal(cfc_read(&bus, 0, 4), 0x70008086);
	pci_bus_destroy(&bus);
}

static void test_slots(void **state)
{
	struct pci_device d;
	struct pci_bus bus;

	(void)state;
	pci_bus_init(&bus);
	pci_device_init(&d, "x", 0x1af4, 0x1042, 1, 0x010000, 0, 0x1af4, 2);
	assert_int_equal(pci_bus_add(&bus, 32, &d), -EINVAL);
	assert_int_equal(pci_bus_add(&bus, 3, &d), 0);
	assert_int_equal(pci_bus_add(&bus, 3, &d), -EBUSY);
	assert_int_equal(pci_cfg_read(&bus, 3 << 3, 0x2c, 4), 0x00021af4);	/* subsystem */
	pci_bus_destroy(&bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chipset_identities),
		cmocka_unit_test(test_absent_and_disabled),
		cmocka_unit_test(test_write_masks),
		cmocka_unit_test(test_bad_accesses),
		cmocka_unit_test(test_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
