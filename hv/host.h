/* host.h: what hvrun opens once, while still privileged, and keeps across guest reboots. */
#ifndef HV_HOST_H
#define HV_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "devices/block/raw_image.h"
#include "hv/options.h"
#include "net/backend.h"

/* A whole file read into memory (a kernel, an initrd, a --raw program). */
struct hv_blob {
	uint8_t *data;			/* malloc'd; NULL when there is none */
	size_t len;
};

/*
 * The host side of the VM: every resource that needs a privilege or a path
 * to open (/dev/kvm, files, TAPs, bound ports) is opened here, before
 * privs_drop(); each boot's struct vm borrows them, and a guest reboot builds
 * a new struct vm on the same struct hv_host (docs/design.md, "Host resources
 * and reboots").  After the drop, hvrun could not open them again: an image
 * only root may write, a TAP only CAP_NET_ADMIN may create (and that vanishes
 * with its last fd), a port below 1024.
 */
struct hv_host {
	int kvm_fd;				/* /dev/kvm; -1 when not open */

	struct hv_blob kernel, initrd;		/* -k, -i: loaded again at each boot */
	struct hv_blob program;			/* --raw */
	struct hv_blob firmware;		/* a firmware boot: the BIOS image (--firmware) */

	int cdrom_fd;				/* --cdrom, read-only; -1 when none */
	uint64_t cdrom_size;
	char cdrom_label[33];			/* its ISO 9660 volume identifier */

	unsigned int boots;			/* guest boots so far, this one included (main.c counts) */

	struct rawimg disks[HV_MAX_DISKS];	/* -d, in order: vda, vdb, ... */
	unsigned int nr_disks;
	uint16_t disk_queues;			/* request queues per disk; the rings are sized for them */

	struct net_backend *nics[HV_MAX_NICS];	/* -t / --net, in order */
	unsigned int nic_pairs[HV_MAX_NICS];	/* queue pairs asked of each backend and device */
	unsigned int nr_nics;
};

/*
 * Opens everything o names, in this order: the kernel and initrd, the BIOS
 * image or the --raw program (read into memory), the --cdrom ISO, /dev/kvm
 * (and checks that its KVM has what hvrun needs and allows -c vCPUs), the
 * disk images, the NIC backends (a TAP
 * may be created here; user-mode networking binds its forwarded ports).
 * Prints one clear line per failure and returns HV_EXIT_USAGE (a bad file,
 * too many vCPUs) or HV_EXIT_FAILURE (the host cannot: no KVM, an image or a
 * TAP it may not open), with everything already opened closed again; or
 * HV_EXIT_OK.  Call before any thread but the main one exists, with the stop
 * signals already blocked (user-mode networking starts a thread).
 */
int host_open(struct hv_host *h, const struct hv_options *o);

/* Closes and frees everything (after the last VM was destroyed).  Safe to call twice. */
void host_close(struct hv_host *h);

#endif
