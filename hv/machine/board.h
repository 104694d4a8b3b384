/*
 * board.h: the board an architecture builds around the machine, as the program
 * asks for it (docs/design.md, "The architecture").
 *
 * hv/machine.c and main.c call these; the architecture's folder implements them
 * (hv/x86/platform.c: the PC).  What the board is made of (a chipset, ACPI
 * tables, a firmware, a device tree) stays in that folder.
 */
#ifndef HV_BOARD_H
#define HV_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vm_virtio;
struct virtio_device_desc;

/*
 * What the board boots, as the program decided it (hv/machine.c fills it from
 * the options and the host's resources; the bytes are borrowed).
 */
struct board_config {
	bool firmware_boot;		/* the firmware image, not a kernel */
	const uint8_t *firmware;	/* the BIOS image (a firmware boot) */
	size_t firmware_len;
	const uint8_t *kernel, *initrd;	/* a direct boot (-k, -i) */
	size_t kernel_len, initrd_len;
	const char *kernel_name;	/* for messages: the -k file */
	const char *cmdline;		/* NULL: console=ttyS0 */
	const char *boot_order;		/* a firmware boot: --boot's letters for this boot */
	unsigned int boot_nr;		/* 1 for the first boot, 2 after a reset, ... */
	bool boot_menu;
	uint64_t mem_bytes;		/* the RAM, as fw_cfg tells the firmware */
};

/*
 * Registers the board's devices and MMIO ranges (the PC: the chipset, the
 * legacy devices, the ECAM window).  0, or -errno after printing why.
 */
int board_setup(struct vm *vm, const struct board_config *pb);

/*
 * Creates the index-th device of desc's kind (vda, net0, ...) from options
 * (the device's own options struct) on the next PCI slot, behind a
 * virtio-pci transport, and starts its I/O thread; *out is its entry in
 * vm->virtio.  0, or -errno after printing why (-E2BIG: no slot left).
 */
int board_add_virtio(struct vm *vm, const struct virtio_device_desc *desc, unsigned int index,
		     const void *options, struct vm_virtio **out);

/*
 * Once the devices are there: what the guest first runs and how it learns the
 * board (the PC: the firmware and fw_cfg, or the ACPI tables and the kernel
 * with the boot vCPU's registers).  0; -ENOEXEC when the kernel or initrd
 * cannot be loaded (a usage error); another -errno on failure.
 */
int board_boot(struct vm *vm, const struct board_config *pb);

/*
 * Presses the power button (hvctl powerdown); the guest's OS then shuts down
 * cleanly (systemd-logind) and powers off.  The PC: the ACPI fixed power
 * button, PWRBTN_STS and the SCI, then S5.  0; -EAGAIN if the guest has not
 * enabled the button (no ACPI OS running yet); -ENOTSUP without a board
 * (--demo, --raw).
 */
int board_powerdown(struct vm *vm);

/*
 * A program without an OS (--demo, --raw), loaded at entry: vCPU index starts
 * there (the PC: real mode at cs:ip = 0000:entry, SI = the index, interrupts
 * off).  0 or -errno.
 */
int board_program_entry(struct vm *vm, unsigned int index, uint16_t entry);

#endif
