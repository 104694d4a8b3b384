/*
 * fuzz_legacy.c: the PC's port-I/O devices a guest can reach before any
 * virtio driver: the COM1 UART (with host input arriving), the CMOS clock
 * and memory (a fixed clock: runs are reproducible), and PCI config
 * mechanism #1 (0xcf8/0xcfc) on the 440FX/PIIX3 chipset, all through the
 * I/O port bus at any width.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/legacy/rtc_cmos.h"
#include "devices/legacy/serial_8250.h"
#include "devices/pci.h"
#include "hv/base/bus.h"
#include "tests/fuzz/fuzz_virtio.h"

static const uint16_t ports[] = {
	0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0x70, 0x71,
	0xcf8, 0xcf9, 0xcfa, 0xcfb, 0xcfc, 0xcfd, 0xcfe, 0xcff,
};
#define NR_PORTS	(sizeof(ports) / sizeof(ports[0]))

static void fixed_clock(struct timespec *now)
{
	now->tv_sec = 1700000000;	/* 2023-11-14 */
	now->tv_nsec = 0;
}

static void irq(void *opaque, int level)
{
	(void)opaque;
	(void)level;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct serial_8250 com1;
	struct rtc_cmos rtc;
	struct pci_bus pci;
	struct pc_chipset cs;
	struct bus bus;
	unsigned int ops = 0;

	bus_init_ports(&bus);
	serial_init(&com1, NULL, irq, NULL);
	rtc_init(&rtc, false, fixed_clock);
	rtc_set_memory_size(&rtc, 512u << 20, 0);
	pci_bus_init(&pci);
	if (pc_chipset_init(&cs, &pci) != 0 ||
	    bus_register(&bus, "com1", SERIAL_COM1_BASE, SERIAL_NR_PORTS, serial_pio, &com1) ||
	    bus_register(&bus, "rtc", RTC_BASE_PORT, RTC_NR_PORTS, rtc_pio, &rtc) ||
	    bus_register(&bus, "pci-address", PCI_CONFIG_ADDRESS, 4, pci_address_pio, &pci) ||
	    bus_register(&bus, "pci-data", PCI_CONFIG_DATA, 4, pci_data_pio, &pci))
		abort();
	while (in.n && ops++ < 2048) {
		uint8_t op = fz_u8(&in), buf[4];
		unsigned int width = 1u << ((op >> 1) & 3), at = (op >> 3) % (NR_PORTS + 1);

		if (at == NR_PORTS) {	/* host input for the UART */
			uint8_t rx[32];

			serial_receive(&com1, rx, fz_bytes(&in, rx, fz_u8(&in) % sizeof(rx)));
			continue;
		}
		if (width > 4)
			width = 4;
		fz_bytes(&in, buf, (op & 1) ? width : 0);
		bus_dispatch(&bus, ports[at], op & 1, buf, width);
	}
	pci_bus_destroy(&pci);
	rtc_destroy(&rtc);
	serial_destroy(&com1);
	return 0;
}
