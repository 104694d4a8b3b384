/* machine.c: the machine this run builds: the options and host resources made into the PC's boot and its device table. */
#include "hv/machine.h"

#include <errno.h>
#include <string.h>

#include "devices/virtio_balloon.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_console.h"
#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"
#include "devices/virtio_scsi.h"
#include "hv/host.h"
#include "hv/base/log.h"
#include "hv/options.h"
#include "hv/base/output.h"
#include "hv/x86/platform.h"
#include "hv/machine/vm.h"

/* ---- the device table: which virtio functions this VM has, in PCI slot order ---- */

/* One device's configuration, whichever its kind (the table's config() fills one member). */
union machine_virtio_options {
	struct vblk_device_options blk;
	struct vscsi_options scsi;
	struct vnet_options net;
	struct vcon_options con;
	struct vrng_options rng;
	struct vballoon_options balloon;
};

struct machine_virtio_line {
	const struct virtio_device_desc *desc;
	/* How many this VM has (from the options and what host_open() opened). */
	unsigned int (*count)(const struct hv_options *o, const struct hv_host *host);
	/* The index-th one's configuration. */
	void (*config)(const struct hv_options *o, struct hv_host *host, unsigned int index,
		       union machine_virtio_options *c);
};

static unsigned int nr_disks(const struct hv_options *o, const struct hv_host *host)
{
	(void)o;
	return host->nr_disks;
}

static void disk_config(const struct hv_options *o, struct hv_host *host, unsigned int i,
			union machine_virtio_options *c)
{
	c->blk.opts.img = &host->disks[i];
	c->blk.opts.serial = o->disks[i].serial[0] ? o->disks[i].serial : NULL;
	c->blk.nr_queues = host->disk_queues;
}

/* --cdrom: the CD-ROM's controller. */
static unsigned int nr_scsi(const struct hv_options *o, const struct hv_host *host)
{
	(void)o;
	return host->cdrom_fd >= 0;
}

static void scsi_config(const struct hv_options *o, struct hv_host *host, unsigned int i,
			union machine_virtio_options *c)
{
	(void)i;
	c->scsi.cd_fd = host->cdrom_fd;
	c->scsi.cd_size = host->cdrom_size;
	c->scsi.cd_name = o->cdrom;
}

static unsigned int nr_nics(const struct hv_options *o, const struct hv_host *host)
{
	(void)o;
	return host->nr_nics;
}

static void nic_config(const struct hv_options *o, struct hv_host *host, unsigned int i,
		       union machine_virtio_options *c)
{
	c->net.be = host->nics[i];
	c->net.mac = o->nics[i].mac;
	c->net.max_pairs = host->nic_pairs[i];
}

static unsigned int nr_console(const struct hv_options *o, const struct hv_host *host)
{
	(void)host;
	return !o->no_virtio_console;
}

static void console_config(const struct hv_options *o, struct hv_host *host, unsigned int i,
			   union machine_virtio_options *c)
{
	(void)o;
	(void)host;
	(void)i;
	c->con.output = &out_console;
}

static unsigned int nr_rng(const struct hv_options *o, const struct hv_host *host)
{
	(void)host;
	return !o->no_rng;
}

static void rng_config(const struct hv_options *o, struct hv_host *host, unsigned int i,
		       union machine_virtio_options *c)
{
	(void)o;
	(void)host;
	(void)i;
	c->rng.rate_bytes_per_sec = 0;
}

static unsigned int nr_balloon(const struct hv_options *o, const struct hv_host *host)
{
	(void)host;
	return !o->no_balloon;
}

/* As the teaching guide's "-balloon virtio": stats every 2 s, free page reporting. */
static void balloon_config(const struct hv_options *o, struct hv_host *host, unsigned int i,
			   union machine_virtio_options *c)
{
	(void)host;
	(void)i;
	c->balloon.ram_bytes = o->mem_bytes;
	c->balloon.stats_interval_s = 0;
	c->balloon.page_reporting = !o->no_page_reporting;
}

/* The PCI slot order: disks, the CD-ROM's controller, NICs, the console, rng, the balloon. */
static const struct machine_virtio_line machine_virtio_table[] = {
	{ &vblk_device,		nr_disks,	disk_config },
	{ &vscsi_device,	nr_scsi,	scsi_config },
	{ &vnet_device,		nr_nics,	nic_config },
	{ &vcon_device,		nr_console,	console_config },
	{ &vrng_device,		nr_rng,		rng_config },
	{ &vballoon_device,	nr_balloon,	balloon_config },
};

#define MACHINE_VIRTIO_KINDS	(sizeof(machine_virtio_table) / sizeof(machine_virtio_table[0]))

/* Creates every device of the table, in its order; 0, or -errno after printing why. */
static int machine_add_virtio(struct vm *vm, const struct hv_options *o, struct hv_host *host)
{
	unsigned int k, i, n = 0;
	int ret = 0;

	for (k = 0; k < MACHINE_VIRTIO_KINDS; k++)
		n += machine_virtio_table[k].count(o, host);
	if (n > VM_MAX_VIRTIO) {
		hv_err("too many virtio devices (%u, at most %d)", n, VM_MAX_VIRTIO);
		return -E2BIG;
	}
	for (k = 0; k < MACHINE_VIRTIO_KINDS && !ret; k++) {
		const struct machine_virtio_line *line = &machine_virtio_table[k];
		unsigned int count = line->count(o, host);

		for (i = 0; i < count && !ret; i++) {
			union machine_virtio_options opts;
			struct vm_virtio *v;

			/* The device borrows what host keeps: platform_destroy() never closes it. */
			memset(&opts, 0, sizeof(opts));
			line->config(o, host, i, &opts);
			ret = platform_add_virtio(vm, line->desc, i, &opts, &v);
			/* Standard input feeds the virtio console with --console virtio. */
			if (!ret && line->desc == &vcon_device &&
			    options_console(o) == HV_CONSOLE_VIRTIO)
				vm->console_in = v->dev;
		}
	}
	return ret;
}

int machine_setup(struct vm *vm, const struct hv_options *o, struct hv_host *host)
{
	const struct platform_config pc = {
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

	if (platform_setup(vm, &pc) || machine_add_virtio(vm, o, host))
		return HV_EXIT_FAILURE;
	ret = platform_boot(vm, &pc);
	return ret == -ENOEXEC ? HV_EXIT_USAGE : ret ? HV_EXIT_FAILURE : HV_EXIT_OK;
}
