/* host.c: open /dev/kvm, the boot files, the disk images and the NIC backends once, before the privilege drop. */
#include "hv/host.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/bzimage.h"
#include "boot/iso9660.h"
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio_blk.h"
#include "firmware/pcbios.h"
#include "hv/base/file.h"
#include "hv/base/kvm.h"
#include "hv/base/log.h"
#include "net/slirp.h"
#include "net/tap.h"

/*
 * /dev/kvm, and what this host's KVM must allow: checked here rather than in
 * vm_create() so that a usage error (-c too large) stops hvrun before it
 * creates a TAP or binds a port.
 */
static int host_open_kvm(struct hv_host *h, const struct hv_options *o)
{
	char err[256];
	int max_vcpus;

	h->kvm_fd = kvm_open(err, sizeof(err));
	if (h->kvm_fd < 0) {
		hv_err("%s", err);
		hv_err("run 'hvrun --check' to see what this host lacks and how to fix it");
		return HV_EXIT_FAILURE;
	}
	if (!kvm_cap(h->kvm_fd, KVM_CAP_USER_MEMORY) || !kvm_cap(h->kvm_fd, KVM_CAP_IMMEDIATE_EXIT)) {
		hv_err("this host's KVM lacks KVM_CAP_USER_MEMORY or KVM_CAP_IMMEDIATE_EXIT");
		return HV_EXIT_FAILURE;
	}
	max_vcpus = kvm_max_vcpus(h->kvm_fd);
	if (o->cpus > (unsigned int)max_vcpus) {
		hv_err("-c %u: this host's KVM allows at most %d vCPUs per VM", o->cpus, max_vcpus);
		return HV_EXIT_USAGE;
	}
	hv_info("%s: fd %d, up to %d vCPUs per VM", KVM_DEVICE_PATH, h->kvm_fd, max_vcpus);
	return HV_EXIT_OK;
}

/*
 * The kernel and initrd, read into memory once (as QEMU keeps them for its
 * fw_cfg): a reboot loads the same bytes without touching the files again.
 * The kernel's header is checked now, so that "not a bzImage" comes before
 * anything is created on the host.  Errors here are usage errors.
 */
static int host_read_boot_files(struct hv_host *h, const struct hv_options *o)
{
	struct bzimage_info info;
	struct stat st;
	char err[512];

	if (o->kernel) {
		if (hv_read_file(o->kernel, SIZE_MAX, &h->kernel.data, &h->kernel.len,
				 err, sizeof(err)) ||
		    (o->initrd && hv_read_file(o->initrd, SIZE_MAX, &h->initrd.data, &h->initrd.len,
					       err, sizeof(err)))) {
			hv_err("%s", err);
			return HV_EXIT_USAGE;
		}
		if (bzimage_parse(h->kernel.data, h->kernel.len, &info, err, sizeof(err))) {
			hv_err("%s: %s", o->kernel, err);
			return HV_EXIT_USAGE;
		}
		hv_info("kernel %s: %zu bytes, protocol %u.%02u; initrd: %zu bytes", o->kernel,
			h->kernel.len, info.version >> 8, info.version & 0xff, h->initrd.len);
	} else if (o->firmware_boot) {
		const char *fw = o->firmware ? o->firmware : PCBIOS_DEFAULT;

		if (!o->firmware && access(fw, R_OK) < 0) {
			hv_err("a boot without -k runs the PC's BIOS, and %s is missing: apt-get "
			       "install seabios, or give --firmware FILE (or -k KERNEL for a direct "
			       "Linux boot)", fw);
			return HV_EXIT_USAGE;
		}
		/* The size first: a file that cannot be a BIOS is not read into memory. */
		if (stat(fw, &st) == 0 && pcbios_check_size((uint64_t)st.st_size, err, sizeof(err))) {
			hv_err("--firmware %s: %s", fw, err);
			return HV_EXIT_USAGE;
		}
		if (hv_read_file(fw, PCBIOS_MAX_SIZE, &h->firmware.data, &h->firmware.len,
				 err, sizeof(err)) ||
		    pcbios_check_size(h->firmware.len, err, sizeof(err))) {
			hv_err("--firmware %s: %s", fw, err);
			return HV_EXIT_USAGE;
		}
		hv_info("firmware %s: %zu KiB", fw, h->firmware.len / 1024);
	} else if (o->raw_path) {
		if (hv_read_file(o->raw_path, SIZE_MAX, &h->program.data, &h->program.len,
				 err, sizeof(err))) {
			hv_err("%s", err);
			return HV_EXIT_USAGE;
		}
	}
	return HV_EXIT_OK;
}

/* One request queue per vCPU (blk-mq likes it), each with an MSI-X vector, plus the config vector. */
static uint16_t host_disk_queues(const struct hv_options *o)
{
	return (uint16_t)(o->cpus < VPCI_MAX_VECTORS - 1 ? o->cpus : VPCI_MAX_VECTORS - 1);
}

/*
 * Queue pairs for a NIC: queues=N, else one per vCPU; at most what a backend
 * may offer, and few enough that the 2P + 1 queues (RX/TX pairs and the
 * control queue) and the configuration vector fit the MSI-X table.
 */
#define HOST_MAX_PAIRS	((VPCI_MAX_VECTORS - 2) / 2 < NET_MAX_QUEUE_PAIRS \
			 ? (VPCI_MAX_VECTORS - 2) / 2 : NET_MAX_QUEUE_PAIRS)
_Static_assert(2 * HOST_MAX_PAIRS + 1 + 1 <= VPCI_MAX_VECTORS, "virtio-net vectors");

static unsigned int host_nic_pairs(const struct hv_options *o, const struct hv_nic *nic,
				   unsigned int index)
{
	unsigned int want = nic->queues ? nic->queues : o->cpus;

	if (nic->queues > HOST_MAX_PAIRS)
		hv_warn("net%u: queues=%u: using %u queue pairs, the most hvrun offers",
			index, nic->queues, HOST_MAX_PAIRS);
	return want < HOST_MAX_PAIRS ? want : HOST_MAX_PAIRS;
}

/* --cdrom: opened read-only once and checked to be an ISO 9660 image (the guest only reads it). */
static int host_open_cdrom(struct hv_host *h, const struct hv_options *o)
{
	struct stat st;
	char err[512];

	if (!o->cdrom)
		return HV_EXIT_OK;
	h->cdrom_fd = open(o->cdrom, O_RDONLY | O_CLOEXEC);
	if (h->cdrom_fd < 0) {
		hv_err("--cdrom %s: %s", o->cdrom, strerror(errno));
		return errno == EACCES ? HV_EXIT_FAILURE : HV_EXIT_USAGE;
	}
	if (fstat(h->cdrom_fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		hv_err("--cdrom %s: not a file or a block device", o->cdrom);
		return HV_EXIT_USAGE;
	}
	h->cdrom_size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(h->cdrom_fd, BLKGETSIZE64, &h->cdrom_size) < 0) {
		hv_err("--cdrom %s: BLKGETSIZE64: %s", o->cdrom, strerror(errno));
		return HV_EXIT_FAILURE;
	}
	if (iso9660_probe(h->cdrom_fd, h->cdrom_size, h->cdrom_label, err, sizeof(err))) {
		hv_err("--cdrom %s: %s", o->cdrom, err);
		return HV_EXIT_USAGE;
	}
	hv_info("CD-ROM %s: %" PRIu64 " MB, volume \"%s\"", o->cdrom, h->cdrom_size / HV_MIB,
		h->cdrom_label);
	return HV_EXIT_OK;
}

static int host_open_disks(struct hv_host *h, const struct hv_options *o)
{
	char err[512];
	unsigned int i;

	h->disk_queues = host_disk_queues(o);
	for (i = 0; i < o->nr_disks; i++) {
		const struct hv_disk *d = &o->disks[i];

		if (vblk_open_image(&h->disks[i], d->path, d->readonly, d->cache_none,
				    h->disk_queues, err, sizeof(err))) {
			hv_err("%s", err);
			return HV_EXIT_FAILURE;
		}
		h->nr_disks++;
	}
	return HV_EXIT_OK;
}

/*
 * Last, because they change the host: a TAP that does not exist is created
 * (CAP_NET_ADMIN), user-mode networking binds its forwarded ports.
 */
static int host_open_nics(struct hv_host *h, const struct hv_options *o)
{
	char err[512];
	unsigned int i;
	int ret;

	for (i = 0; i < o->nr_nics; i++) {
		const struct hv_nic *nic = &o->nics[i];
		unsigned int pairs = host_nic_pairs(o, nic, i);
		struct net_backend *be = NULL;

		err[0] = '\0';
		if (nic->kind == HV_NIC_TAP) {
			struct tap_config tap = nic->tap;

			tap.queue_pairs = pairs;
			ret = tap_open(&tap, &be, err, sizeof(err));
		} else {
			ret = slirp_open(&nic->user, &be, err, sizeof(err));
		}
		if (ret) {
			hv_err("%s", err[0] ? err : strerror(-ret));
			return HV_EXIT_FAILURE;
		}
		h->nics[i] = be;
		h->nr_nics++;
		/* A single-queue TAP gives one pair whatever we asked. */
		h->nic_pairs[i] = pairs < be->nr_queue_pairs ? pairs : be->nr_queue_pairs;
		/* Asked for by name, fewer is worth a word; the default (one per vCPU) is best effort. */
		if (nic->queues && h->nic_pairs[i] < pairs)
			hv_warn("net%u: queues=%u: %s offers %u queue pair(s)%s", i, nic->queues,
				be->name, be->nr_queue_pairs, nic->kind == HV_NIC_TAP ?
				" (make it multi-queue: ip tuntap add ... multi_queue)" : "");
		hv_info("net%u: %s, %u queue pair(s)%s", i, be->name, h->nic_pairs[i],
			be->vnet_hdr_len ? ", vnet header" : "");
	}
	return HV_EXIT_OK;
}

int host_open(struct hv_host *h, const struct hv_options *o)
{
	int status;

	memset(h, 0, sizeof(*h));
	h->kvm_fd = -1;
	h->cdrom_fd = -1;
	/*
	 * Cheapest and most likely to fail first; what changes the host last.
	 * The files come before /dev/kvm: a bad kernel, ISO or BIOS image is a
	 * usage error whatever this host has.
	 */
	status = host_read_boot_files(h, o);
	if (status == HV_EXIT_OK)
		status = host_open_cdrom(h, o);
	if (status == HV_EXIT_OK)
		status = host_open_kvm(h, o);
	if (status == HV_EXIT_OK)
		status = host_open_disks(h, o);
	if (status == HV_EXIT_OK)
		status = host_open_nics(h, o);
	if (status != HV_EXIT_OK)
		host_close(h);
	return status;
}

static void host_free_blob(struct hv_blob *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

void host_close(struct hv_host *h)
{
	unsigned int i;

	/* In the reverse order of host_open(): a TAP hvrun created disappears here. */
	for (i = h->nr_nics; i-- > 0;) {
		struct net_backend *be = h->nics[i];

		if (be && be->ops && be->ops->destroy)
			be->ops->destroy(be);
		h->nics[i] = NULL;
	}
	h->nr_nics = 0;
	for (i = h->nr_disks; i-- > 0;)
		rawimg_close(&h->disks[i]);
	h->nr_disks = 0;
	host_free_blob(&h->program);
	host_free_blob(&h->firmware);
	if (h->cdrom_fd >= 0)
		close(h->cdrom_fd);
	h->cdrom_fd = -1;
	host_free_blob(&h->initrd);
	host_free_blob(&h->kernel);
	if (h->kvm_fd >= 0)
		close(h->kvm_fd);
	h->kvm_fd = -1;
}
