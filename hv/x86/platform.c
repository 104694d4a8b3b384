/* platform.c: the PC a stock Linux kernel boots on, built from KVM's in-kernel parts and a few small devices. */
#include "hv/x86/platform.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot/bzimage.h"
#include "devices/legacy/port92.h"
#include "devices/virtio/virtio.h"
#include "devices/virtio/virtio_pci.h"
#include "firmware/acpi.h"
#include "firmware/fw_cfg.h"
#include "firmware/pcbios.h"
#include "hv/base/event_loop.h"
#include "hv/base/kvm.h"
#include "hv/base/log.h"
#include "hv/machine/arch.h"
#include "hv/machine/vm.h"

#define PC_DEFAULT_CMDLINE	"console=ttyS0"
#define PORT_POST		0x80	/* BIOS POST codes; Linux's I/O delay port */
#define PC_COM1_PORT		0x3f8u

/* ---- the board devices (devices/legacy/): what they tell the machine ---- */

static void pc_pm_event(void *opaque, enum acpi_pm_event ev)
{
	struct vm *vm = opaque;

	if (ev == ACPI_PM_POWER_OFF)
		vm_request_stop(vm, VM_STOP_POWEROFF);
	else
		arch_set_irq(vm, PC_SCI_IRQ, ev == ACPI_PM_SCI_HIGH);
}

static void pc_i8042_event(void *opaque, enum i8042_event ev)
{
	(void)ev;	/* I8042_RESET */
	vm_request_stop(opaque, VM_STOP_RESET);
}

/*
 * The firmware's log (port 0x402, QEMU's "debugcon"): hvrun shows it with -v
 * and watches it for the one line that matters to a VMM: "No bootable
 * device", after which SeaBIOS would wait and reboot forever; hvrun stops
 * with status 1.
 */
static void pc_debugcon_line(void *opaque, const char *line)
{
	hv_info("firmware: %s", line);
	if (strstr(line, "No bootable device")) {
		hv_err("the firmware found no bootable device (the disks and CD-ROM it tried have "
		       "no boot sector or boot image): stopping");
		vm_request_stop(opaque, VM_STOP_NO_BOOT);
	}
}

static void pc_reset_cf9_event(void *opaque, enum reset_cf9_event ev)
{
	(void)ev;	/* RESET_CF9_RESET */
	vm_request_stop(opaque, VM_STOP_RESET);
}

int board_powerdown(struct vm *vm)
{
	int ret;

	if (!vm->pc)
		return -ENOTSUP;	/* --demo, --raw: no ACPI */
	ret = acpi_pm_power_button(&vm->arch->pm);
	if (!ret)
		hv_info("power button pressed (hvctl powerdown): SCI raised on IRQ %u", PC_SCI_IRQ);
	return ret;
}

/* ---- 0xcf8-0xcfb: the PCI address register, and the reset control byte at 0xcf9 ---- */

static bool cf8_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct vm *vm = opaque;

	if (offset == RESET_CF9_PORT - PCI_CONFIG_ADDRESS && size == 1)
		return reset_cf9_pio(&vm->arch->reset_cf9, 0, is_write, data, size);
	return pci_address_pio(&vm->pci, offset, is_write, data, size);
}

/* Port 0x80 (POST codes, Linux's I/O delay) and its like: answered, never counted as strays. */
static bool quiet_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	(void)opaque;
	(void)offset;
	if (!is_write)
		memset(data, 0xff, size);
	return true;
}

/* ---- MMIO: the BIOS image, ECAM, and the PCI BARs in the rest of the 32-bit space ---- */

/* The BIOS image is a read-only slot: only writes exit, and ROM ignores them. */
static bool rom_mmio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	(void)opaque;
	(void)offset;
	if (!is_write)
		memset(data, 0xff, size);
	return true;
}

/* PCIe 5.0 §7.2.2: offset = bus << 20 | device << 15 | function << 12 | register. */
static bool ecam_mmio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct pci_bus *pci = opaque;
	uint8_t devfn = (uint8_t)(offset >> 12);
	uint16_t reg = (uint16_t)(offset & 0xfff);
	uint32_t v = 0;

	pthread_mutex_lock(&pci->lock);
	if (size > 4 || reg >= PCI_CFG_SIZE) {
		/* GUEST: wider than a dword, or extended space (none here): empty. */
		if (!is_write)
			memset(data, reg >= PCI_CFG_SIZE && pci_cfg_read(pci, devfn, 0, 2) != 0xffff
				     ? 0 : 0xff, size);
	} else if (is_write) {
		memcpy(&v, data, size);
		pci_cfg_write(pci, devfn, reg, v, size);
	} else {
		v = pci_cfg_read(pci, devfn, reg, size);
		memcpy(data, &v, size);
	}
	pthread_mutex_unlock(&pci->lock);
	return true;
}

/* The device BARs, wherever the guest put them: below ECAM, and from ECAM's end up. */
static bool bars_low_mmio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	return pci_mmio(opaque, offset, data, size, is_write);
}

static bool bars_high_mmio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	return pci_mmio(opaque, PC_ECAM_BASE + PC_ECAM_SIZE + offset, data, size, is_write);
}

/*
 * The PC's MMIO ranges on the VM's bus (hv/machine/vcpu.c dispatches the exits):
 * rom_base is where the BIOS image starts (4 GiB: none).  BARs are 32-bit,
 * so nothing above 4 GiB answers.
 */
static int platform_register_mmio(struct vm *vm, uint64_t rom_base)
{
	uint64_t ecam_end = PC_ECAM_BASE + PC_ECAM_SIZE;
	struct bus *b = &vm->mmio;
	int ret;

	ret = bus_register(b, "pci-bars", 0, PC_ECAM_BASE, bars_low_mmio, &vm->pci);
	if (!ret)
		ret = bus_register(b, "ecam", PC_ECAM_BASE, PC_ECAM_SIZE, ecam_mmio, &vm->pci);
	if (!ret)
		ret = bus_register(b, "pci-bars", ecam_end, rom_base - ecam_end, bars_high_mmio,
				   &vm->pci);
	if (!ret && rom_base < MEMMAP_4GIB)
		ret = bus_register(b, "bios", rom_base, MEMMAP_4GIB - rom_base, rom_mmio, NULL);
	if (ret)
		hv_err("cannot register the PC's MMIO ranges: %s", strerror(-ret));
	return ret;
}

static int platform_register_devices(struct vm *vm)
{
	static const struct { const char *name; uint16_t base, len; } quiet[] = {
		{ "post", PORT_POST, 1 },
		{ "dma-page", 0x81, 0xf },	/* DMA page registers, probed by old drivers */
	};
	struct bus *b = &vm->pio;
	size_t i;
	int ret;

	acpi_pm_init(&vm->arch->pm, PC_S5_SLP_TYP, pc_pm_event, vm);
	i8042_init(&vm->arch->i8042, pc_i8042_event, vm);
	reset_cf9_init(&vm->arch->reset_cf9, pc_reset_cf9_event, vm);
	debugcon_init(&vm->arch->debugcon, pc_debugcon_line, vm);
	ret = pc_chipset_init(&vm->arch->chipset, &vm->pci);
	if (!ret)
		ret = bus_register(b, "pci-address", PCI_CONFIG_ADDRESS, 4, cf8_pio, vm);
	if (!ret)
		ret = bus_register(b, "pci-data", PCI_CONFIG_DATA, 4, pci_data_pio, &vm->pci);
	if (!ret)
		ret = bus_register(b, "rtc", RTC_BASE_PORT, RTC_NR_PORTS, rtc_pio, &vm->arch->rtc);
	if (!ret)
		ret = bus_register(b, "acpi-pm", PC_PM1A_EVT_PORT, ACPI_PM_NR_PORTS, acpi_pm_pio,
				   &vm->arch->pm);
	if (!ret)
		ret = bus_register(b, "i8042", I8042_DATA_PORT, I8042_NR_PORTS, i8042_pio,
				   &vm->arch->i8042);
	if (!ret)
		ret = bus_register(b, "sysctl-a", PORT92_PORT, 1, port92_pio, NULL);
	for (i = 0; !ret && i < sizeof(quiet) / sizeof(quiet[0]); i++)
		ret = bus_register(b, quiet[i].name, quiet[i].base, quiet[i].len, quiet_pio, NULL);
	if (ret)
		hv_err("cannot register the PC's devices: %s", strerror(-ret));
	return ret;
}

static void platform_acpi_config(const struct vm *vm, struct acpi_config *out)
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
		.pci_intx_gsi_base = PC_PCI_INTX_GSI(0),
		.com1 = true,
	};

	*out = cfg;
}

static int platform_acpi(struct vm *vm)
{
	struct acpi_config cfg;
	uint64_t used;
	char err[256];

	platform_acpi_config(vm, &cfg);
	if (acpi_build(&cfg, &vm->mem, PC_ACPI_RSDP, PC_ACPI_TABLES, PC_ACPI_END - PC_ACPI_TABLES,
		       &used, err, sizeof(err))) {
		hv_err("ACPI tables: %s", err);
		return -EINVAL;
	}
	hv_info("ACPI tables at 0x%x-0x%llx", PC_ACPI_RSDP,
		(unsigned long long)(PC_ACPI_TABLES + used - 1));
	return 0;
}

/* Lays out the kernel and initrd host_open() read (the same bytes at every boot) and sets the boot vCPU. */
static int platform_load_kernel(struct vm *vm, const struct board_config *pb)
{
	/* Besides RAM, the e820 map tells the guest which holes are devices. */
	static const struct bzimage_reserved reserved[] = {
		{ PC_ECAM_BASE, PC_ECAM_SIZE, BZIMAGE_E820_RESERVED },
		{ PC_IOAPIC_BASE, 0x1000, BZIMAGE_E820_RESERVED },
		{ PC_LAPIC_BASE, 0x1000, BZIMAGE_E820_RESERVED },
	};
	struct bzimage_entry entry;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	char err[512];

	if (bzimage_load(&vm->mem, &vm->map, pb->kernel, pb->kernel_len, pb->initrd,
			 pb->initrd_len, pb->cmdline ? pb->cmdline : PC_DEFAULT_CMDLINE,
			 reserved, sizeof(reserved) / sizeof(reserved[0]), &entry, err, sizeof(err))) {
		hv_err("%s: %s", pb->kernel_name, err);
		return -ENOEXEC;
	}
	hv_info("kernel at 0x%llx, entry 0x%llx; initrd %llu bytes at 0x%llx; %u e820 entries",
		(unsigned long long)entry.kernel_addr, (unsigned long long)entry.rip,
		(unsigned long long)entry.initrd_size, (unsigned long long)entry.initrd_addr,
		entry.nr_e820);

	/* Only the boot vCPU gets registers: the others wait for INIT/SIPI in their LAPIC. */
	if (ioctl(vm->vcpus[0].fd, KVM_GET_SREGS, &sregs) < 0) {
		hv_err("KVM_GET_SREGS: %s", strerror(errno));
		return -EIO;
	}
	bzimage_fill_sregs(&entry, &sregs);
	bzimage_fill_regs(&entry, &regs);
	if (ioctl(vm->vcpus[0].fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(vm->vcpus[0].fd, KVM_SET_REGS, &regs) < 0) {
		hv_err("setting the boot vCPU's registers: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

/* ---- virtio devices: one PCI function and one I/O thread each ---- */

static void platform_intx(void *opaque, unsigned int gsi, int level)
{
	arch_set_irq(opaque, gsi, level);
}

/* Puts a created device on the bus behind a virtio-pci transport and starts its I/O thread. */
static int platform_plug_virtio(struct vm *vm, struct vm_virtio *v, uint32_t *mmio_next)
{
	struct vpci_host host = {
		.vm_fd = vm->vm_fd,
		.irq = &vm->irq,
		.ioeventfd_any_len = kvm_cap(vm->kvm_fd, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0,
		.set_intx = platform_intx,
		.intx_opaque = vm,
		.intx_gsi = PC_PCI_INTX_GSI(v->slot),
	};
	int ret;

	ret = vpci_create(&v->pci, v->dev, &host, mmio_next);
	if (!ret)
		ret = pci_bus_add(&vm->pci, v->slot, &v->pci->pci);
	if (!ret)
		ret = ev_loop_start(v->loop);
	if (ret)
		hv_err("%s: cannot attach it to PCI slot %u: %s", v->dev->ops->name, v->slot,
		       strerror(-ret));
	else
		hv_info("%s at PCI 00:%02x.0, %u queue(s), I/O thread %s", v->dev->ops->name,
			v->slot, v->dev->nr_queues, v->loop->name);
	return ret;
}

/*
 * Creates the index-th device of desc's kind with its options and puts it on
 * the bus: the next slot, its name, its I/O thread, the virtio-pci transport.
 */
int board_add_virtio(struct vm *vm, const struct virtio_device_desc *desc, unsigned int index,
			const void *options, struct vm_virtio **out)
{
	struct vm_virtio *v;
	struct virtio_dev_args args;
	char name[16], err[512] = "";
	int ret;

	if (vm->nr_virtio >= VM_MAX_VIRTIO)
		return -E2BIG;
	v = &vm->virtio[vm->nr_virtio];
	*out = v;
	v->slot = PC_FIRST_VIRTIO_SLOT + vm->nr_virtio;
	v->desc = desc;
	virtio_device_name(desc, index, v->name, sizeof(v->name));
	v->loop = calloc(1, sizeof(*v->loop));
	if (!v->loop)
		return -ENOMEM;
	/* The I/O thread's name, as top -H and perf show it. */
	snprintf(name, sizeof(name), "io-%.12s", desc->io_name ? desc->io_name : v->name);
	ret = ev_loop_init(v->loop, name);
	if (ret) {
		free(v->loop);
		v->loop = NULL;
		return ret;
	}
	v->loop->vm_fd = vm->vm_fd;	/* its filter: interrupts of this VM only */
	vm->nr_virtio++;

	args = (struct virtio_dev_args){ .mem = &vm->mem, .loop = v->loop };
	ret = desc->create(&args, options, &v->dev, err, sizeof(err));
	if (ret) {
		hv_err("%s", err[0] ? err : strerror(-ret));
		return ret;
	}
	for (unsigned int q = 0; q < v->dev->nr_queues; q++)
		v->dev->vq[q].dev_name = v->name;	/* "vda q0" in --trace and ring diagnostics */
	return platform_plug_virtio(vm, v, &vm->arch->mmio_next);
}

void platform_destroy(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_virtio; i++) {
		struct vm_virtio *v = &vm->virtio[i];

		/* First no more I/O-thread work, then drain the device, then free. */
		if (v->loop)
			ev_loop_stop(v->loop);
		if (v->dev) {
			pthread_mutex_lock(&v->dev->lock);
			virtio_dev_reset(v->dev);
			pthread_mutex_unlock(&v->dev->lock);
		}
		vpci_destroy(v->pci);
		/*
		 * The device only: the image or network backend it borrowed belongs
		 * to struct hv_host and serves the next boot (host_close() frees it).
		 */
		if (v->dev && v->dev->ops->destroy)
			v->dev->ops->destroy(v->dev);
		if (v->loop) {
			ev_loop_destroy(v->loop);
			free(v->loop);
		}
		memset(v, 0, sizeof(*v));
	}
	vm->nr_virtio = 0;
	vm->console_in = NULL;
	acpi_pm_destroy(&vm->arch->pm);
	debugcon_destroy(&vm->arch->debugcon);
	if (vm->irq_ready)
		irq_routes_destroy(&vm->irq);
	vm->irq_ready = false;
}

/* ---- a firmware boot: the BIOS image, fw_cfg, the firmware's debug console ---- */

/* The devices the boot order can name, from the virtio functions on the bus. */
static unsigned int platform_bootdevs(const struct vm *vm, struct pcbios_bootdev *devs,
				      unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < vm->nr_virtio && n < max; i++) {
		const struct vm_virtio *v = &vm->virtio[i];

		if (v->desc->boot == VIRTIO_BOOT_DISK)
			devs[n++] = (struct pcbios_bootdev){ PCBIOS_DEV_VIRTIO_BLK, v->slot, 0, 0 };
		else if (v->desc->boot == VIRTIO_BOOT_CDROM)
			devs[n++] = (struct pcbios_bootdev){ PCBIOS_DEV_SCSI_CD, v->slot, 0, 0 };
	}
	return n;
}

/* What SeaBIOS reads from fw_cfg (QEMU's names and formats; docs/14-firmware.md). */
static int platform_fw_cfg(struct vm *vm, const struct board_config *pb)
{
	const struct pcbios_range reserved[] = {
		{ PC_ECAM_BASE, PC_ECAM_SIZE },
		{ VM_KVM_PAGES_BASE, VM_KVM_PAGES_SIZE },	/* KVM's identity map and TSS pages */
		{ pcbios_rom_base((uint32_t)pb->firmware_len), pb->firmware_len },
	};
	uint8_t e820[PCBIOS_E820_MAX * PCBIOS_E820_ENTRY_SIZE];
	struct pcbios_bootdev devs[VM_MAX_VIRTIO];
	const char *order = pb->boot_order;
	struct acpi_config cfg;
	struct acpi_blobs acpi = { 0 };
	const struct fw_cfg_number numbers[] = {
		{ FW_CFG_RAM_SIZE, NULL, pb->mem_bytes, 8 },
		{ FW_CFG_NB_CPUS, NULL, vm->nr_vcpus, 2 },
		{ FW_CFG_MAX_CPUS, NULL, vm->nr_vcpus, 2 },
		/* The timer (IRQ 0) is on IOAPIC pin 2, as the MADT says: the same in the MP table SeaBIOS writes. */
		{ FW_CFG_IRQ0_OVERRIDE, NULL, 1, 4 },
		/* The BIOS and boot loader text on COM1: there is no VGA (SeaBIOS's "sercon"). */
		{ 0, "etc/sercon-port", PC_COM1_PORT, 2 },
		{ 0, "etc/show-boot-menu", pb->boot_menu, 2 },
	};
	char bootorder[512], err[256];
	int len, ret;

	vm->fw_cfg = fw_cfg_new(&vm->mem);
	if (!vm->fw_cfg)
		return -ENOMEM;
	len = pcbios_e820(&vm->map, reserved, sizeof(reserved) / sizeof(reserved[0]), e820,
			  PCBIOS_E820_MAX);
	ret = len < 0 ? len : fw_cfg_add_file(vm->fw_cfg, "etc/e820", e820, (uint32_t)len);
	if (ret >= 0) {
		len = pcbios_bootorder(order, devs, platform_bootdevs(vm, devs, VM_MAX_VIRTIO),
				       bootorder, sizeof(bootorder));
		ret = len < 0 ? len : fw_cfg_add_file(vm->fw_cfg, "bootorder", bootorder,
						      (uint32_t)len + 1);
		if (len >= 0)
			hv_info("boot %u: boot order %s:%s%s", pb->boot_nr, order, len ? "\n" : " nothing",
				bootorder);
	}
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]) && ret >= 0; i++)
		ret = fw_cfg_add_number(vm->fw_cfg, &numbers[i]);
	if (ret < 0) {
		hv_err("fw_cfg: %s", strerror(-ret));
		return ret;
	}
	/* The same ACPI tables as a direct boot, placed by the firmware's table loader. */
	platform_acpi_config(vm, &cfg);
	/* SeaBIOS places BARs top-down from the IOAPIC; the window must cover them, not ECAM. */
	cfg.pci_mmio32_base = PC_ECAM_BASE + PC_ECAM_SIZE;
	cfg.pci_mmio32_size = PC_IOAPIC_BASE - cfg.pci_mmio32_base;
	if (acpi_build_blobs(&cfg, &acpi, err, sizeof(err))) {
		hv_err("ACPI tables: %s", err);
		return -EINVAL;
	}
	ret = fw_cfg_add_file(vm->fw_cfg, ACPI_LOADER_FILE_RSDP, acpi.rsdp, (uint32_t)acpi.rsdp_len);
	if (ret >= 0)
		ret = fw_cfg_add_file(vm->fw_cfg, ACPI_LOADER_FILE_TABLES, acpi.tables,
				      (uint32_t)acpi.tables_len);
	if (ret >= 0)
		ret = fw_cfg_add_file(vm->fw_cfg, ACPI_LOADER_FILE, acpi.loader,
				      (uint32_t)acpi.loader_len);
	hv_info("ACPI tables for the firmware: %zu bytes, %zu loader commands", acpi.tables_len,
		acpi.loader_len / 128);
	acpi_blobs_free(&acpi);
	if (ret < 0)
		hv_err("fw_cfg: %s", strerror(-ret));
	return ret < 0 ? ret : 0;
}

/*
 * The BIOS image at the top of the 32-bit space (a read-only slot: the
 * reset vector at 0xfffffff0 is its 16 last bytes), its last 128 KiB also
 * in RAM at 0xE0000-0xFFFFF, where real-mode code runs.  A chipset's PAM
 * registers would switch that window between ROM and RAM; here it is RAM
 * from the start, holding the copy the BIOS would make itself when it
 * "shadows" the ROM (SeaBIOS's make_bios_writable() finds it and copies
 * the same bytes again).  fw_cfg then tells the BIOS the rest.  The vCPUs
 * keep KVM's reset state: the BSP fetches its first instruction at
 * 0xfffffff0, the others wait for INIT/SIPI.
 */
static int platform_firmware(struct vm *vm, const struct board_config *pb)
{
	uint32_t base = pcbios_rom_base((uint32_t)pb->firmware_len);
	uint32_t low = pcbios_low_base((uint32_t)pb->firmware_len);
	struct bus *b = &vm->pio;
	int ret;

	vm->arch->rom = mmap(NULL, pb->firmware_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->arch->rom == MAP_FAILED) {
		vm->arch->rom = NULL;
		hv_err("cannot map the BIOS image: %s", strerror(errno));
		return -EIO;
	}
	vm->arch->rom_size = pb->firmware_len;
	memcpy(vm->arch->rom, pb->firmware, pb->firmware_len);
	if (mprotect(vm->arch->rom, pb->firmware_len, PROT_READ) < 0 || vm_map_rom(vm, base, vm->arch->rom, pb->firmware_len))
		return -EIO;
	if (gm_write(&vm->mem, low, pb->firmware + pb->firmware_len - (PCBIOS_LOW_END - low),
		     PCBIOS_LOW_END - low)) {
		hv_err("the BIOS window 0x%x-0xfffff is not guest RAM", low);
		return -EIO;
	}
	if (platform_fw_cfg(vm, pb))
		return -EIO;
	ret = bus_register(b, "fw_cfg", FW_CFG_PORT_SEL, 2, fw_cfg_io_pio, vm->fw_cfg);
	if (!ret)
		ret = bus_register(b, "fw_cfg-dma", FW_CFG_PORT_DMA, 8, fw_cfg_dma_pio, vm->fw_cfg);
	if (!ret)
		ret = bus_register(b, "debugcon", DEBUGCON_PORT, 1, debugcon_pio, &vm->arch->debugcon);
	if (ret) {
		hv_err("cannot register the firmware's ports: %s", strerror(-ret));
		return -EIO;
	}
	hv_info("firmware boot: BIOS at 0x%08x-0xffffffff, its last %u KiB at 0x%05x", base,
		(PCBIOS_LOW_END - low) / 1024, low);
	return 0;
}

int board_setup(struct vm *vm, const struct board_config *pb)
{
	uint64_t low = vm->map.ram[0].size;
	uint64_t high = vm->map.nr_ram > 1 ? vm->map.ram[1].size : 0;

	rtc_set_memory_size(&vm->arch->rtc, low, high);
	vm->arch->mmio_next = PC_PCI_MMIO_BASE;
	if (platform_register_devices(vm) ||
	    platform_register_mmio(vm, pb->firmware_boot ? pcbios_rom_base((uint32_t)pb->firmware_len)
							 : MEMMAP_4GIB))
		return -EIO;
	return 0;
}

int board_boot(struct vm *vm, const struct board_config *pb)
{
	if (pb->firmware_boot)
		return platform_firmware(vm, pb);
	if (platform_acpi(vm))
		return -EIO;
	return platform_load_kernel(vm, pb);
}
