/* platform.h: the PC that a Linux kernel boots on: irqchip, PIT, UART IRQ, RTC, PCI, ACPI power and reset. */
#ifndef HV_PLATFORM_H
#define HV_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>

#include "devices/legacy/acpi_pm.h"
#include "devices/legacy/debugcon.h"
#include "devices/legacy/i8042.h"
#include "devices/legacy/reset_cf9.h"
#include "devices/legacy/rtc_cmos.h"
#include "devices/pci.h"

struct kvm_cpuid2;
struct vm;
struct vm_virtio;
struct virtio_device_desc;

/* What x86 adds to struct vm (vm->arch, from arch_vm_init()): only hv/x86/ reads it. */
struct arch_vm {
	struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID, adapted per vCPU */

	/* The PC's board (-k or a firmware boot). */
	struct rtc_cmos rtc;
	struct pc_chipset chipset;
	uint32_t mmio_next;		/* where the next virtio function's BARs go */
	struct acpi_pm pm;		/* ACPI PM1a: S5, the power button, the SCI */
	struct i8042 i8042;		/* its reset line */
	struct reset_cf9 reset_cf9;	/* the reset control byte at 0xcf9 */

	/* A firmware boot (no -k). */
	void *rom;			/* the BIOS image, mapped read-only below 4 GiB */
	size_t rom_size;
	struct debugcon debugcon;	/* the firmware's log (port 0x402) */
};

/*
 * What the PC boots, as the program decided it (hv/machine.c fills it from
 * the options and the host's resources; the bytes are borrowed).
 */
struct platform_config {
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
 * Guest-physical layout of the 32-bit hole [3 GiB, 4 GiB) (hv/base/memmap.h):
 *   0xC0000000-0xDFFFFFFF  PCI memory window for device BARs
 *   0xE0000000-0xE00FFFFF  PCI Express ECAM for bus 0 (ACPI MCFG)
 *   0xFEC00000             IOAPIC (in-kernel)
 *   0xFEE00000             local APICs (in-kernel)
 *   0xFEFFC000             KVM's identity map page, then the VMX real-mode TSS (3 pages):
 *                          VM_KVM_PAGES_BASE below
 * Below 1 MiB: ACPI tables in 0xE0000-0xFFFFF (the BIOS area the e820 map reserves).
 */
#define PC_PCI_MMIO_BASE	0xC0000000u
#define PC_PCI_MMIO_SIZE	0x20000000u
#define PC_ECAM_BASE		0xE0000000u
#define PC_ECAM_SIZE		0x00100000u	/* bus 0 only: 32 devices x 8 functions x 4 KiB */
#define PC_IOAPIC_BASE		0xFEC00000u
#define PC_LAPIC_BASE		0xFEE00000u
#define PC_ACPI_RSDP		0xE0000u
#define PC_ACPI_TABLES		0xE0040u
#define PC_ACPI_END		0x100000u

/*
 * Intel VMX needs 3 pages for a real-mode TSS and one for an identity page
 * table (unrestricted-guest-less real mode): KVM keeps them in guest-physical
 * space, so they must miss RAM, devices and the BIOS image under 4 GiB (up to
 * 16 MiB of it): QEMU's places, just below 0xff000000.  A firmware's E820 map
 * reserves the four pages (platform.c); hv/x86/arch.c gives them to KVM.
 */
#define VM_KVM_PAGES_BASE	0xfeffc000ULL	/* KVM_SET_IDENTITY_MAP_ADDR: one page */
#define VM_KVM_PAGES_SIZE	0x4000ULL
#define VM_IDENTITY_MAP_ADDR	VM_KVM_PAGES_BASE
#define VM_TSS_ADDR		(VM_KVM_PAGES_BASE + 0x1000)	/* KVM_SET_TSS_ADDR: three pages */

/* ACPI fixed-hardware ports (FADT) and the PC's reset control. */
#define PC_PM1A_EVT_PORT	0x600u		/* PM1a status (2 bytes) + enable (2 bytes) */
#define PC_PM1A_CNT_PORT	0x604u		/* PM1a control (2 bytes) */
#define PC_S5_SLP_TYP		5u		/* the DSDT's \_S5_ value */
#define PC_RESET_PORT		0xcf9u		/* write 6: hard reset (FADT RESET_REG) */
#define PC_RESET_VALUE		6u
#define PC_SCI_IRQ		9u

/* PCI slots on bus 0: 0 host bridge, 1 ISA bridge, then virtio functions from slot 2. */
#define PC_FIRST_VIRTIO_SLOT	2u
/* INTx: the DSDT's _PRT gives slot s's INTA GSI 16 + (s % 8) (IOAPIC pins 16-23, level). */
#define PC_PCI_INTX_GSI(slot)	(16u + ((slot) % 8u))

/*
 * Registers the PC's devices and MMIO ranges (the board).  0, or -errno
 * after printing why.
 */
int platform_setup(struct vm *vm, const struct platform_config *pb);

/*
 * Creates the index-th device of desc's kind (vda, net0, ...) from options
 * (the device's own options struct) on the next PCI slot, behind a
 * virtio-pci transport, and starts its I/O thread; *out is its entry in
 * vm->virtio.  0, or -errno after printing why (-E2BIG: no slot left).
 */
int platform_add_virtio(struct vm *vm, const struct virtio_device_desc *desc, unsigned int index,
			const void *options, struct vm_virtio **out);

/*
 * Once the devices are there: the firmware and fw_cfg, or the ACPI tables and
 * the kernel with the boot vCPU's registers.  0; -ENOEXEC when the kernel or
 * initrd cannot be loaded (a usage error); another -errno on failure.
 */
int platform_boot(struct vm *vm, const struct platform_config *pb);

/*
 * Stops the I/O threads and frees the PC's devices (before guest memory
 * goes).  What the devices borrowed from struct hv_host (images, backends)
 * stays open, idle, for the next boot.
 */
void platform_destroy(struct vm *vm);

/*
 * Presses the ACPI fixed power button (hvctl powerdown): sets PWRBTN_STS and
 * raises the SCI; the guest's OS then shuts down cleanly (systemd-logind) and
 * enters S5.  0; -EAGAIN if the guest has not enabled the button (no ACPI OS
 * running yet); -ENOTSUP without the PC platform (--demo, --raw).
 */
int platform_powerdown(struct vm *vm);

#endif
