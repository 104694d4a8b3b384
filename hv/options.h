/* options.h: hvrun's command line, parsed and validated into one struct before anything runs. */
#ifndef HV_OPTIONS_H
#define HV_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hv/base/bytes.h"
#include "hv/base/seccomp.h"
#include "net/slirp.h"
#include "net/tap.h"

/* Exit status of hvrun (documented in --help and docs/usage.md). */
enum {
	HV_EXIT_OK = 0,		/* the guest ran and stopped normally */
	HV_EXIT_FAILURE = 1,	/* the host cannot run the VM, or the guest crashed */
	HV_EXIT_USAGE = 2,	/* bad option, bad value, missing file */
};

#define HV_MEM_MIN		(128 * HV_MIB)	/* as the teaching guide's startup scripts */
#define HV_MEM_MAX		(1024 * HV_GIB)
#define HV_MEM_DEFAULT		(512 * HV_MIB)
#define HV_CPUS_MAX		255		/* xAPIC ids are 8 bits, 0xff is broadcast */

#define HV_MAX_DISKS		8		/* vda .. vdh */
#define HV_SERIAL_MAX		20		/* virtio-blk GET_ID: 20 bytes */

/* -d FILE[,ro][,cache=none|writeback][,serial=ID] */
struct hv_disk {
	char *path;		/* allocated: the FILE part of the argument */
	bool readonly;
	bool cache_none;	/* cache=none (default): O_DIRECT, no host page cache */
	char serial[HV_SERIAL_MAX + 1];
};

#define HV_MAX_NICS		4		/* -t / --net, in order */

enum hv_nic_kind {
	HV_NIC_TAP,		/* -t tap2, --net tap=tap2 */
	HV_NIC_USER,		/* --net user[,hostfwd=...] */
};

/* One virtio-net NIC: the device's side, and its backend's own configuration. */
struct hv_nic {
	enum hv_nic_kind kind;
	uint8_t mac[6];		/* default: ba:ad:00:ca:fe:NN for tapNN (NN its number, hex), */
				/* else 52:54:00:12:34:5X (X the NIC's index), as QEMU */
	bool mac_set;		/* --mac or mac= given */
	unsigned int queues;	/* queues=N: queue pairs (0: one per vCPU, capped by the backend) */
	struct tap_config tap;	/* HV_NIC_TAP: the name (hv/host.c sets the queue pairs) */
	struct slirp_config user;	/* HV_NIC_USER: hostfwd= */
};

/* Where hvrun's standard input goes. */
enum hv_console {
	HV_CONSOLE_AUTO = 0,	/* virtio if -a's last console= is hvc0, else serial */
	HV_CONSOLE_SERIAL,
	HV_CONSOLE_VIRTIO,
};

struct hv_options {
	uint64_t mem_bytes;	/* -m, --memory */
	unsigned int cpus;	/* -c, --cpus */
	const char *kernel;	/* -k, --kernel: a Linux bzImage */
	const char *initrd;	/* -i, --initrd */
	const char *append;	/* -a, --append: the kernel command line */
	struct hv_disk disks[HV_MAX_DISKS];	/* -d, --disk, in order: vda, vdb, ... */
	unsigned int nr_disks;
	enum hv_console console;	/* --console serial|virtio */
	bool no_virtio_console;	/* --no-virtio-console */
	bool no_rng;		/* --no-rng */
	struct hv_nic nics[HV_MAX_NICS];	/* -t, --net, in order: eth0/ens.., ... */
	unsigned int nr_nics;
	const char *run_user;	/* --user NAME|UID: switch to it after set-up */
	const char *run_group;	/* --group NAME|GID */
	enum seccomp_policy seccomp;	/* --seccomp kill|log|off (default kill) */
	const char *name;	/* --name: the VM's name (NULL: derived, see options_vm_name) */
	const char *control_path;	/* --control PATH (NULL: the default place) */
	bool daemonize;		/* --daemonize */
	const char *pidfile;	/* --pidfile FILE */
	const char *console_log;	/* --console-log FILE */
	bool no_balloon;	/* --no-balloon */
	bool no_page_reporting;	/* --no-free-page-reporting: the balloon without PAGE_REPORTING */
	bool stats;		/* --stats: counters at exit */
	uint32_t trace;		/* --trace LIST: HV_TRACE_* bits */
	bool rtc_localtime;	/* --rtc localtime (default utc) */
	bool no_reboot;		/* --no-reboot: a guest reboot ends hvrun */
	bool sandbox_off;	/* --sandbox off: no empty root (hv/base/sandbox.c) */
	bool sandbox_asked;	/* --sandbox on given: failing to make one is an error */
	bool hugepages;		/* --hugepages: back RAM with hugetlbfs pages */
	const char *cdrom;	/* --cdrom FILE: an ISO 9660 image on a virtio-scsi CD-ROM */
	const char *firmware;	/* --firmware FILE (NULL: firmware/pcbios.h's PCBIOS_DEFAULT) */
	char boot_order[3];	/* --boot order=: "c", "d", "cd", "dc"; "" = the default */
	char boot_once[3];	/* --boot once=: the first boot only */
	bool boot_menu;		/* --boot menu=on: the firmware's boot menu (Esc) */
	bool firmware_boot;	/* no -k, --demo, --raw: the PC boots through its BIOS */
	const char *raw_path;	/* --raw FILE: a flat real-mode program */
	bool demo;		/* --demo: the built-in first-VM program */
	bool check;		/* --check: the host check */
	bool exit_stats;	/* --exit-stats: count VM exits by reason */
	bool verbose;		/* -v */
	bool help;
	bool version;
};

/*
 * Parses argv into *o.  Returns 0, or -EINVAL with a one-line reason in err
 * (the caller prints it and exits HV_EXIT_USAGE).  Files named by options
 * are checked for existence and readability here, before any VM exists.
 */
int options_parse(struct hv_options *o, int argc, char *argv[], char *err, size_t errlen);

/* The PC platform (ACPI, PCI, virtio): a -k direct boot or a firmware boot; not --demo/--raw. */
static inline bool options_pc(const struct hv_options *o)
{
	return o->kernel || o->firmware_boot;
}

/* Is any NIC user-mode networking (libslirp)? */
static inline bool options_user_net(const struct hv_options *o)
{
	unsigned int i;

	for (i = 0; i < o->nr_nics; i++)
		if (o->nics[i].kind == HV_NIC_USER)
			return true;
	return false;
}

/*
 * The boot order the firmware gets on boot number boot (1 = the first):
 * --boot once= on the first boot, else --boot order=; by default the CD
 * first on the first boot when there is one (QEMU's -boot once=d), then
 * the disk first.
 */
const char *options_boot_order(const struct hv_options *o, unsigned int boot);

/* Parses --boot's "order=LETTERS[,once=LETTERS][,menu=on|off]" (or bare "LETTERS").  0 or -EINVAL with err. */
int options_parse_boot(const char *arg, struct hv_options *o, char *err, size_t errlen);

/* Frees what options_parse() allocated. */
void options_free(struct hv_options *o);

/* Parses "FILE[,ro][,cache=none|writeback][,serial=ID]".  0 or -EINVAL with err. */
int options_parse_disk(const char *arg, struct hv_disk *d, char *err, size_t errlen);

/*
 * Parses a --net value: "tap=NAME[,mac=MAC][,queues=N]" or
 * "user[,hostfwd=RULE]...[,mac=MAC]", and -t's "NAME" (a TAP).  index is
 * the NIC's position (for the default MAC).  0 or -EINVAL with err.
 */
int options_parse_nic(const char *arg, bool tap_short_form, unsigned int index, struct hv_nic *n,
		      char *err, size_t errlen);

/* "ba:ad:00:ca:fe:02" -> 6 bytes; refuses multicast and all-zero MACs.  0 or -EINVAL with err. */
int options_parse_mac(const char *s, uint8_t mac[6], char *err, size_t errlen);

/* --trace LIST: "virtio,irq" -> HV_TRACE_VIRTIO | HV_TRACE_IRQ (hv/base/trace.h).
 * 0 or -EINVAL with err. */
int options_parse_trace(const char *list, uint32_t *mask, char *err, size_t errlen);

/* The console stdin feeds: --console, or for auto the last console= of the command line. */
enum hv_console options_console(const struct hv_options *o);

/* "512", "512M", "2G" -> bytes; MB when there is no suffix.  0 or -EINVAL. */
int options_parse_mem(const char *s, uint64_t *bytes);

void options_print_help(FILE *out);

#endif
