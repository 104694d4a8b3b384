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
#include "hv/machine/board.h"

struct kvm_cpuid2;
struct vm;

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
 * Stops the I/O threads and frees the PC's devices (before guest memory
 * goes).  What the devices borrowed from struct hv_host (images, backends)
 * stays open, idle, for the next boot.
 */
void platform_destroy(struct vm *vm);

#endif
