/* platform.c: the PC a stock Linux kernel boots on, built from KVM's in-kernel parts and a few small devices. */
#include "hv/platform.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "boot/bzimage.h"
#include "firmware/acpi.h"
#include "hv/file.h"
#include "hv/log.h"
#include "hv/options.h"
#include "hv/vm.h"

/* PM1 registers (ACPI 6.4 §4.8.3): status/enable bits and control fields. */
#define PM1_CNT_SCI_EN		0x0001	/* ACPI mode on: always, there is no SMM to leave */
#define PM1_CNT_SLP_TYP_SHIFT	10
#define PM1_CNT_SLP_TYP_MASK	(7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN		0x2000
#define PC_DEFAULT_CMDLINE	"console=ttyS0"

#define I8042_DATA_PORT		0x60
#define I8042_CMD_PORT		0x64
#define I8042_CMD_RESET		0xfe	/* pulse the CPU reset line */
#define PORT_POST		0x80	/* BIOS POST codes; Linux's I/O delay port */

/*
 * Where each legacy interrupt (GSI) goes: the 8259 PICs for ISA IRQs 0-15,
 * and IOAPIC pin n for GSI n -- except the timer.  On a PC the 8254's output
 * reaches IOAPIC pin 2, and the MADT says so (ISA IRQ 0 -> GSI 2); KVM's
 * default table would send it to pin 0, where the guest never looks.
 */
static int platform_irq_routing(struct vm *vm)
{
	struct {
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry e[16 + 24];
	} r;
	unsigned int n = 0, i;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < 16; i++) {
		if (i == 2)
			continue;	/* the cascade from the slave PIC */
		r.e[n++] = (struct kvm_irq_routing_entry){
			.gsi = i, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER
							: KVM_IRQCHIP_PIC_SLAVE, .pin = i % 8 },
		};
	}
	for (i = 0; i < 24; i++) {
		if (i == 2)
			continue;	/* pin 2 belongs to GSI 0, the timer */
		r.e[n++] = (struct kvm_irq_routing_entry){
			.gsi = i, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = i ? i : 2 },
		};
	}
	r.hdr.nr = n;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, &r) < 0) {
		hv_err("KVM_SET_GSI_ROUTING: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int platform_create_irqchip(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int ret;

	/* PIC, IOAPIC and one local APIC per vCPU, emulated inside KVM. */
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		hv_err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -errno;
	}
	ret = platform_irq_routing(vm);
	if (ret)
		return ret;
	/* The i8254 timer, inside KVM too; port 0x61's speaker bits answered there. */
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		hv_err("KVM_CREATE_PIT2: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

void platform_set_irq(struct vm *vm, unsigned int irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)level };

	/* With the in-kernel irqchip, one line drives both the PIC and the IOAPIC pin. */
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		hv_warn("KVM_IRQ_LINE %u: %s", irq, strerror(errno));
}

/* ---- ACPI PM1a: the guest's "power off" (S5) ---- */

static void pm_pio(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct vm *vm = opaque;
	uint8_t regs[6];
	unsigned int i;
	bool s5 = false;

	pthread_mutex_lock(&vm->pm_lock);
	/* 0-1 PM1a_STS, 2-3 PM1a_EN, 4-5 PM1a_CNT; little-endian, any width. */
	memcpy(&regs[0], &vm->pm1_sts, 2);
	memcpy(&regs[2], &vm->pm1_en, 2);
	memcpy(&regs[4], &vm->pm1_cnt, 2);
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

		memcpy(&vm->pm1_sts, &regs[0], 2);
		memcpy(&vm->pm1_en, &regs[2], 2);
		memcpy(&cnt, &regs[4], 2);
		/* ACPI 6.4 §4.8.3.2.1: SLP_EN with SLP_TYP = the \_S5_ value is soft-off. */
		s5 = (cnt & PM1_CNT_SLP_EN) &&
		     ((cnt & PM1_CNT_SLP_TYP_MASK) >> PM1_CNT_SLP_TYP_SHIFT) == PC_S5_SLP_TYP;
		vm->pm1_cnt = (uint16_t)((cnt & ~PM1_CNT_SLP_EN) | PM1_CNT_SCI_EN);
	}
	pthread_mutex_unlock(&vm->pm_lock);
	if (s5) {
		hv_info("the guest entered ACPI S5 (power off)");
		vm_request_stop(vm, VM_STOP_POWEROFF);
	}
}

/* ---- 0xcf8-0xcfb: the PCI address register, and the reset control byte at 0xcf9 ---- */

static void cf8_pio(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct vm *vm = opaque;

	if (offset == 1 && size == 1) {
		/* Reset control (PIIX3): bit 2 starts the reset, bit 1 makes it hard. */
		if (is_write && (data[0] & 0x04)) {
			hv_info("the guest wrote 0x%02x to port 0xcf9: reset", data[0]);
			vm_request_stop(vm, VM_STOP_RESET);
		} else if (!is_write) {
			data[0] = 0;
		}
		return;
	}
	pci_address_pio(&vm->pci, offset, is_write, data, size);
}

/* ---- i8042: only the "pulse reset" command; the FADT says there is no PS/2 controller ---- */

static void i8042_pio(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct vm *vm = opaque;

	if (is_write && offset == I8042_CMD_PORT - I8042_DATA_PORT && data[0] == I8042_CMD_RESET) {
		hv_info("the guest pulsed the i8042 reset line");
		vm_request_stop(vm, VM_STOP_RESET);
	} else if (!is_write) {
		memset(data, 0, size);	/* status: no data, input buffer empty */
	}
}

/* Port 0x80 (POST codes, Linux's I/O delay) and its like: answered, never counted as strays. */
static void quiet_pio(void *opaque, uint16_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	(void)opaque;
	(void)offset;
	if (!is_write)
		memset(data, 0xff, size);
}

bool platform_mmio(struct vm *vm, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	uint64_t off = addr - PC_ECAM_BASE;
	uint32_t v = 0;
	uint16_t reg;
	uint8_t devfn;

	if (addr < PC_ECAM_BASE || off >= PC_ECAM_SIZE)
		return false;
	/* PCIe 5.0 §7.2.2: offset = bus << 20 | device << 15 | function << 12 | register. */
	devfn = (uint8_t)(off >> 12);
	reg = (uint16_t)(off & 0xfff);
	pthread_mutex_lock(&vm->pci.lock);
	if (len > 4 || reg >= PCI_CFG_SIZE) {
		/* GUEST: wider than a dword, or extended space (none here): empty. */
		if (!is_write)
			memset(data, reg >= PCI_CFG_SIZE && pci_cfg_read(&vm->pci, devfn, 0, 2) != 0xffff
				     ? 0 : 0xff, len);
	} else if (is_write) {
		memcpy(&v, data, len);
		pci_cfg_write(&vm->pci, devfn, reg, v, len);
	} else {
		v = pci_cfg_read(&vm->pci, devfn, reg, len);
		memcpy(data, &v, len);
	}
	pthread_mutex_unlock(&vm->pci.lock);
	return true;
}

static int platform_register_devices(struct vm *vm)
{
	static const struct { const char *name; uint16_t base, len; } quiet[] = {
		{ "post", PORT_POST, 1 },
		{ "dma-page", 0x81, 0xf },	/* DMA page registers, probed by old drivers */
	};
	struct iobus *b = &vm->pio;
	size_t i;
	int ret;

	ret = pc_chipset_init(&vm->chipset, &vm->pci);
	if (!ret)
		ret = iobus_register(b, "pci-address", PCI_CONFIG_ADDRESS, 4, cf8_pio, vm);
	if (!ret)
		ret = iobus_register(b, "pci-data", PCI_CONFIG_DATA, 4, pci_data_pio, &vm->pci);
	if (!ret)
		ret = iobus_register(b, "rtc", RTC_BASE_PORT, RTC_NR_PORTS, rtc_pio, &vm->rtc);
	if (!ret)
		ret = iobus_register(b, "acpi-pm", PC_PM1A_EVT_PORT,
				     PC_PM1A_CNT_PORT + 2 - PC_PM1A_EVT_PORT, pm_pio, vm);
	if (!ret)
		ret = iobus_register(b, "i8042", I8042_DATA_PORT,
				     I8042_CMD_PORT + 1 - I8042_DATA_PORT, i8042_pio, vm);
	for (i = 0; !ret && i < sizeof(quiet) / sizeof(quiet[0]); i++)
		ret = iobus_register(b, quiet[i].name, quiet[i].base, quiet[i].len, quiet_pio, NULL);
	if (ret)
		hv_err("cannot register the PC's devices: %s", strerror(-ret));
	vm->pm1_cnt = PM1_CNT_SCI_EN;
	return ret;
}

static int platform_acpi(struct vm *vm)
{
	struct acpi_config cfg = {
		.nr_cpus = vm->nr_vcpus,
		.lapic_addr = PC_LAPIC_BASE,
		.ioapic_addr = PC_IOAPIC_BASE,
		.ioapic_id = 0,
		.pm1a_evt_port = PC_PM1A_EVT_PORT,
		.pm1a_cnt_port = PC_PM1A_CNT_PORT,
		.s5_slp_typ = PC_S5_SLP_TYP,
		.reset_port = PC_RESET_PORT,
		.reset_value = PC_RESET_VALUE,
		.sci_irq = PC_SCI_IRQ,
		.ecam_base = PC_ECAM_BASE,
		.ecam_bus_end = 0,
		.pci_mmio32_base = PC_PCI_MMIO_BASE,
		.pci_mmio32_size = PC_PCI_MMIO_SIZE,
		.com1 = true,
	};
	uint64_t used;
	char err[256];

	if (acpi_build(&cfg, &vm->mem, PC_ACPI_RSDP, PC_ACPI_TABLES, PC_ACPI_END - PC_ACPI_TABLES,
		       &used, err, sizeof(err))) {
		hv_err("ACPI tables: %s", err);
		return -EINVAL;
	}
	hv_info("ACPI tables at 0x%x-0x%llx", PC_ACPI_RSDP,
		(unsigned long long)(PC_ACPI_TABLES + used - 1));
	return 0;
}

static int platform_load_kernel(struct vm *vm, const struct hv_options *o)
{
	/* Besides RAM, the e820 map tells the guest which holes are devices. */
	static const struct bzimage_reserved reserved[] = {
		{ PC_ECAM_BASE, PC_ECAM_SIZE, BZIMAGE_E820_RESERVED },
		{ PC_IOAPIC_BASE, 0x1000, BZIMAGE_E820_RESERVED },
		{ PC_LAPIC_BASE, 0x1000, BZIMAGE_E820_RESERVED },
	};
	uint8_t *kernel = NULL, *initrd = NULL;
	size_t klen = 0, ilen = 0;
	struct bzimage_entry entry;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	char err[512];
	int ret = HV_EXIT_USAGE;

	if (hv_read_file(o->kernel, SIZE_MAX, &kernel, &klen, err, sizeof(err)) ||
	    (o->initrd && hv_read_file(o->initrd, SIZE_MAX, &initrd, &ilen, err, sizeof(err)))) {
		hv_err("%s", err);
		goto out;
	}
	if (bzimage_load(&vm->mem, &vm->map, kernel, klen, initrd, ilen,
			 o->append ? o->append : PC_DEFAULT_CMDLINE,
			 reserved, sizeof(reserved) / sizeof(reserved[0]), &entry, err, sizeof(err))) {
		hv_err("%s: %s", o->kernel, err);
		goto out;
	}
	hv_info("kernel at 0x%llx, entry 0x%llx; initrd %llu bytes at 0x%llx; %u e820 entries",
		(unsigned long long)entry.kernel_addr, (unsigned long long)entry.rip,
		(unsigned long long)entry.initrd_size, (unsigned long long)entry.initrd_addr,
		entry.nr_e820);

	/* Only the boot vCPU gets registers: the others wait for INIT/SIPI in their LAPIC. */
	ret = HV_EXIT_FAILURE;
	if (ioctl(vm->vcpus[0].fd, KVM_GET_SREGS, &sregs) < 0) {
		hv_err("KVM_GET_SREGS: %s", strerror(errno));
		goto out;
	}
	bzimage_fill_sregs(&entry, &sregs);
	bzimage_fill_regs(&entry, &regs);
	if (ioctl(vm->vcpus[0].fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(vm->vcpus[0].fd, KVM_SET_REGS, &regs) < 0) {
		hv_err("setting the boot vCPU's registers: %s", strerror(errno));
		goto out;
	}
	ret = HV_EXIT_OK;
out:
	free(kernel);
	free(initrd);
	return ret;
}

int platform_setup(struct vm *vm, const struct hv_options *o)
{
	uint64_t low = vm->map.ram[0].size;
	uint64_t high = vm->map.nr_ram > 1 ? vm->map.ram[1].size : 0;

	rtc_set_memory_size(&vm->rtc, low, high);
	if (platform_register_devices(vm) || platform_acpi(vm))
		return HV_EXIT_FAILURE;
	return platform_load_kernel(vm, o);
}
