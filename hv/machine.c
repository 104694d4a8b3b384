/* machine.c: the machine this run builds: the options and host resources made into the board's configuration (hv/machine/board.h) and its device table. */
#include "hv/machine.h"

#include <errno.h>

#include "devices/virtio_balloon.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_console.h"
#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"
#include "devices/virtio_scsi.h"
#include "hv/base/log.h"
#include "hv/base/output.h"
#include "hv/host.h"
#include "hv/machine/board.h"
#include "hv/machine/vm.h"
#include "hv/options.h"

/* ---- the device table: which virtio functions this VM has, in PCI slot order ---- */

/*
 * Creates the index-th device of desc's kind from config, the kind's own
 * options struct (struct vrng_options, ...); 0, or -errno.
 */
static int machine_add(struct vm *vm, const struct hv_options *o,
		       const struct virtio_device_desc *desc, unsigned int index, const void *config)
{
	struct vm_virtio *v;
	int ret = board_add_virtio(vm, desc, index, config, &v);

	if (ret == -E2BIG)
		hv_err("too many virtio devices (at most %d)", VM_MAX_VIRTIO);
	/* Standard input feeds the virtio console with --console virtio. */
	if (!ret && desc == &vcon_device && options_console(o) == HV_CONSOLE_VIRTIO)
		vm->console_in = v->dev;
	return ret;
}

/*
 * The device table: one statement per kind, in PCI slot order (disks, the
 * CD-ROM's controller, NICs, the console, rng, the balloon), each making the
 * kind's options from the command line and what host_open() opened.  The
 * devices borrow what host keeps: platform_destroy() never closes it.  0, or
 * -errno after printing why.
 */
static int machine_add_virtio(struct vm *vm, const struct hv_options *o, struct hv_host *host)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < host->nr_disks && !ret; i++)
		ret = machine_add(vm, o, &vblk_device, i, &(struct vblk_device_options){
			.opts.img = &host->disks[i],
			.opts.serial = o->disks[i].serial[0] ? o->disks[i].serial : NULL,
			.nr_queues = host->disk_queues,
		});
	/* --cdrom: the CD-ROM's controller. */
	if (!ret && host->cdrom_fd >= 0)
		ret = machine_add(vm, o, &vscsi_device, 0, &(struct vscsi_options){
			.cd_fd = host->cdrom_fd, .cd_size = host->cdrom_size, .cd_name = o->cdrom,
		});
	for (i = 0; i < host->nr_nics && !ret; i++)
		ret = machine_add(vm, o, &vnet_device, i, &(struct vnet_options){
			.be = host->nics[i], .mac = o->nics[i].mac, .max_pairs = host->nic_pairs[i],
		});
	if (!ret && !o->no_virtio_console)
		ret = machine_add(vm, o, &vcon_device, 0, &(struct vcon_options){
			.output = &out_console,
		});
	if (!ret && !o->no_rng)
		ret = machine_add(vm, o, &vrng_device, 0, &(struct vrng_options){
			.rate_bytes_per_sec = 0,	/* VRNG_DEFAULT_RATE */
		});
	/* As the teaching guide's "-balloon virtio": stats every 2 s, free page reporting. */
	if (!ret && !o->no_balloon)
		ret = machine_add(vm, o, &vballoon_device, 0, &(struct vballoon_options){
			.ram_bytes = o->mem_bytes,
			.stats_interval_s = 0,		/* 2 s */
			.page_reporting = !o->no_page_reporting,
		});
	return ret;
}

int machine_setup(struct vm *vm, const struct hv_options *o, struct hv_host *host)
{
	const struct board_config board = {
		.firmware_boot = o->firmware_boot,
		.firmware = host->firmware.data,
		.firmware_len = host->firmware.len,
		.kernel = host->kernel.data,
		.kernel_len = host->kernel.len,
		.initrd = host->initrd.data,
		.initrd_len = host->initrd.len,
		.kernel_name = o->kernel,
		.cmdline = o->append,
		.boot_order = o->firmware_boot ? options_boot_order(o, host->boots) : NULL,
		.boot_nr = host->boots,
		.boot_menu = o->boot_menu,
		.mem_bytes = o->mem_bytes,
	};
	int ret;

	if (board_setup(vm, &board) || machine_add_virtio(vm, o, host))
		return HV_EXIT_FAILURE;
	ret = board_boot(vm, &board);
	return ret == -ENOEXEC ? HV_EXIT_USAGE : ret ? HV_EXIT_FAILURE : HV_EXIT_OK;
}
