/*
 * fuzz_fw_cfg.c: fw_cfg (firmware/fw_cfg.c) as a guest drives it through the
 * I/O port bus: selector writes, data reads at any width, and DMA transfers
 * whose FWCfgDmaAccess and buffers lie in 64 KiB of fuzzed guest RAM (the
 * input's first part), on a device holding the items hvrun gives SeaBIOS.
 */
#include <stdlib.h>
#include <string.h>

#include "firmware/fw_cfg.h"
#include "hv/base/bus.h"
#include "tests/fuzz/fuzz_virtio.h"

#define RAM_SIZE	(64u * 1024)

static uint8_t *ram;
static struct guest_mem gm;

static struct fw_cfg *make_fw_cfg(void)
{
	static const uint8_t blob[300] = { 1, 2, 3 };
	struct fw_cfg *fc = fw_cfg_new(&gm);

	if (!fc || fw_cfg_add_number(fc, &(struct fw_cfg_number){ FW_CFG_NB_CPUS, NULL, 2, 2 }) ||
	    fw_cfg_add_number(fc, &(struct fw_cfg_number){ FW_CFG_IRQ0_OVERRIDE, NULL, 1, 1 }) ||
	    fw_cfg_add_bytes(fc, FW_CFG_UUID, blob, 16) < 0 ||
	    fw_cfg_add_file(fc, "etc/e820", blob, sizeof(blob)) < 0 ||
	    fw_cfg_add_file(fc, "etc/acpi/tables", blob, 1) < 0 ||
	    fw_cfg_add_number(fc, &(struct fw_cfg_number){ 0, "etc/boot-fail-wait", 5, 4 }) < 0)
		abort();
	return fc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct bus bus;
	struct fw_cfg *fc;
	unsigned int ops = 0;

	if (!ram) {
		ram = malloc(RAM_SIZE);		/* exactly: a stray DMA lands in ASan's redzone */
		if (!ram || gm_add_region(&gm, 0, RAM_SIZE, ram) != 0)
			abort();
	}
	/* Guest RAM: the input's first (u16) bytes, the rest zeros. */
	fz_bytes(&in, ram, fz_u16(&in) % (RAM_SIZE + 1));
	bus_init_ports(&bus);
	fc = make_fw_cfg();
	if (bus_register(&bus, "fw_cfg", FW_CFG_PORT_SEL, FW_CFG_IO_LEN, fw_cfg_io_pio, fc) ||
	    bus_register(&bus, "fw_cfg-dma", FW_CFG_PORT_DMA, FW_CFG_DMA_LEN, fw_cfg_dma_pio, fc))
		abort();
	while (in.n && ops++ < 1024) {
		uint8_t op = fz_u8(&in), buf[4];
		unsigned int width = 1u << ((op >> 1) & 3) > 4 ? 4 : 1u << ((op >> 1) & 3);
		uint16_t port = (uint16_t)(FW_CFG_PORT_SEL + (op >> 3) % 12);

		fz_bytes(&in, buf, (op & 1) ? width : 0);
		bus_dispatch(&bus, port, op & 1, buf, width);
	}
	fw_cfg_free(fc);
	return 0;
}
