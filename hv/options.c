/*
 * options.c: parse and validate hvrun's command line.  Each option is one
 * row of options_table[] below (name, letter, value, help, how it applies);
 * getopt_long()'s tables, the dispatch and --help all come from the rows.
 * The NIC options are in options_nic.c, --boot in options_boot.c.
 */
#include "hv/base/seccomp.h"
#include "hv/options.h"
#include "hv/options_priv.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "firmware/pcbios.h"
#include <unistd.h>

#include "hv/base/privs.h"
#include "hv/base/trace.h"
#include "net/backend.h"

void options_free(struct hv_options *o)
{
	unsigned int i;

	for (i = 0; i < o->nr_disks; i++)
		free(o->disks[i].path);
	o->nr_disks = 0;
}

int options_parse_disk(const char *arg, struct hv_disk *d, char *err, size_t errlen)
{
	const char *p = strchr(arg, ','), *opt;
	struct stat st;

	memset(d, 0, sizeof(*d));
	d->cache_none = true;
	d->path = p ? strndup(arg, (size_t)(p - arg)) : strdup(arg);
	if (!d->path) {
		snprintf(err, errlen, "-d %s: out of memory", arg);
		return -EINVAL;
	}
	if (!d->path[0]) {
		snprintf(err, errlen, "-d %s: no file name before the options", arg);
		goto bad;
	}
	for (opt = p; opt; opt = strchr(opt, ',')) {
		size_t len;

		opt++;
		len = strcspn(opt, ",");
		if (len == 2 && !strncmp(opt, "ro", 2)) {
			d->readonly = true;
		} else if (len == 2 && !strncmp(opt, "rw", 2)) {
			d->readonly = false;
		} else if (len == 10 && !strncmp(opt, "cache=none", 10)) {
			d->cache_none = true;
		} else if (len == 15 && !strncmp(opt, "cache=writeback", 15)) {
			d->cache_none = false;
		} else if (len >= 7 && !strncmp(opt, "serial=", 7)) {
			size_t i, n = len - 7;

			if (n == 0 || n > HV_SERIAL_MAX) {
				snprintf(err, errlen, "-d %s: serial= takes 1 to %d characters", arg,
					 HV_SERIAL_MAX);
				goto bad;
			}
			for (i = 0; i < n; i++) {
				if (!isprint((unsigned char)opt[7 + i])) {
					snprintf(err, errlen, "-d %s: serial= takes printable characters",
						 arg);
					goto bad;
				}
			}
			memcpy(d->serial, opt + 7, n);
			d->serial[n] = '\0';
		} else {
			snprintf(err, errlen, "-d %s: unknown disk option '%.*s' (give ro, "
				 "cache=none, cache=writeback or serial=ID)", arg, (int)len, opt);
			goto bad;
		}
	}
	if (stat(d->path, &st) != 0) {
		snprintf(err, errlen, "-d %s: %s", d->path, strerror(errno));
		goto bad;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "-d %s: not a disk image (a regular file or a block device)",
			 d->path);
		goto bad;
	}
	if (access(d->path, d->readonly ? R_OK : R_OK | W_OK) != 0) {
		snprintf(err, errlen, "-d %s: %s%s", d->path, strerror(errno),
			 d->readonly ? "" : " (add ,ro to attach it read-only)");
		goto bad;
	}
	if (!d->serial[0]) {
		const char *base = strrchr(d->path, '/');

		snprintf(d->serial, sizeof(d->serial), "%s", base ? base + 1 : d->path);
	}
	return 0;
bad:
	free(d->path);
	d->path = NULL;
	return -EINVAL;
}

enum hv_console options_console(const struct hv_options *o)
{
	const char *s = o->append, *last = NULL;

	if (o->console != HV_CONSOLE_AUTO)
		return o->console;
	/* Linux's /dev/console is the last console= given; follow it. */
	while (s && (s = strstr(s, "console=")) != NULL) {
		if (s == o->append || s[-1] == ' ')
			last = s + 8;
		s += 8;
	}
	return last && !strncmp(last, "hvc", 3) && !o->no_virtio_console ? HV_CONSOLE_VIRTIO
									   : HV_CONSOLE_SERIAL;
}

int options_parse_mem(const char *s, uint64_t *bytes)
{
	return hv_parse_size(s, HV_MIB, "MG", true, bytes);
}

int options_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

/* A file an option names must exist, be a regular file and be readable. */
static int check_input_file(const char *opt, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s %s: %s", opt, path, strerror(errno));
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a regular file", opt, path);
		return -EINVAL;
	}
	if (access(path, R_OK) != 0) {
		snprintf(err, errlen, "%s %s: %s", opt, path, strerror(errno));
		return -EINVAL;
	}
	return 0;
}

/* A VM name: it becomes a file name (NAME.sock), so a plain one. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int options_parse_trace(const char *list, uint32_t *mask, char *err, size_t errlen)
{
	static const struct { const char *name; uint32_t bit; } kinds[] = {
		{ "exits", HV_TRACE_EXITS }, { "pio", HV_TRACE_PIO }, { "mmio", HV_TRACE_MMIO },
		{ "pci", HV_TRACE_PCI }, { "virtio", HV_TRACE_VIRTIO }, { "irq", HV_TRACE_IRQ },
		{ "boot", HV_TRACE_BOOT }, { "all", HV_TRACE_ALL },
	};
	const char *p = list;

	*mask = 0;
	while (*p) {
		size_t len = strcspn(p, ","), k;

		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (strlen(kinds[k].name) == len && strncmp(p, kinds[k].name, len) == 0)
				break;
		if (k == sizeof(kinds) / sizeof(kinds[0])) {
			snprintf(err, errlen, "--trace %s: unknown kind '%.*s' (give exits, pio, mmio, "
				 "pci, virtio, irq, boot or all, comma-separated)", list, (int)len, p);
			return -EINVAL;
		}
		*mask |= kinds[k].bit;
		p += len;
		if (*p == ',')
			p++;
	}
	if (!*mask) {
		snprintf(err, errlen, "--trace needs at least one kind (e.g. --trace virtio)");
		return -EINVAL;
	}
	return 0;
}

/* ---- The options whose value needs more than a field: one function each ---- */

static int apply_memory(const char *arg, struct hv_options *o, char *err, size_t errlen)
{
	if (options_parse_mem(arg, &o->mem_bytes)) {
		snprintf(err, errlen, "-m %s: not a memory size (give MB, e.g. -m 512, or -m 2G)", arg);
		return -EINVAL;
	}
	if (o->mem_bytes < HV_MEM_MIN) {
		snprintf(err, errlen,
			 "-m %s: %" PRIu64 " MB of RAM is too little; the minimum is %" PRIu64 " MB",
			 arg, o->mem_bytes / HV_MIB, HV_MEM_MIN / HV_MIB);
		return -EINVAL;
	}
	if (o->mem_bytes > HV_MEM_MAX) {
		snprintf(err, errlen, "-m %s: the maximum is %" PRIu64 "G", arg, HV_MEM_MAX / HV_GIB);
		return -EINVAL;
	}
	return 0;
}

static int apply_cpus(const char *arg, struct hv_options *o, char *err, size_t errlen)
{
	unsigned long n;

	if (options_parse_uint(arg, ULONG_MAX, &n)) {
		snprintf(err, errlen, "-c %s: not a number of vCPUs", arg);
		return -EINVAL;
	}
	if (n == 0 || n > HV_CPUS_MAX) {
		snprintf(err, errlen, "-c %s: the number of vCPUs must be 1 to %d", arg, HV_CPUS_MAX);
		return -EINVAL;
	}
	o->cpus = (unsigned int)n;
	return 0;
}

static int apply_disk(const char *arg, struct hv_options *o, char *err, size_t errlen)
{
	if (o->nr_disks == HV_MAX_DISKS) {
		snprintf(err, errlen, "-d %s: at most %d disks", arg, HV_MAX_DISKS);
		return -EINVAL;
	}
	if (options_parse_disk(arg, &o->disks[o->nr_disks], err, errlen))
		return -EINVAL;
	o->nr_disks++;
	return 0;
}

static int apply_cdrom(const char *arg, struct hv_options *o, char *err, size_t errlen)
{
	if (o->cdrom) {
		snprintf(err, errlen, "--cdrom %s: one CD-ROM only (already --cdrom %s)", arg,
			 o->cdrom);
		return -EINVAL;
	}
	if (check_input_file("--cdrom", arg, err, errlen))
		return -EINVAL;
	o->cdrom = arg;
	return 0;
}

static int apply_console(const char *arg, struct hv_options *o, char *err, size_t errlen)
{
	if (!strcmp(arg, "serial")) {
		o->console = HV_CONSOLE_SERIAL;
	} else if (!strcmp(arg, "virtio")) {
		o->console = HV_CONSOLE_VIRTIO;
	} else {
		snprintf(err, errlen, "--console %s: give serial or virtio", arg);
		return -EINVAL;
	}
	return 0;
}

static int apply_rtc(const char *arg, struct hv_options *o, char *err, size_t errlen)
{
	if (strcmp(arg, "utc") == 0 || strcmp(arg, "base=utc") == 0) {
		o->rtc_localtime = false;
	} else if (strcmp(arg, "localtime") == 0 || strcmp(arg, "base=localtime") == 0) {
		o->rtc_localtime = true;
	} else {
		snprintf(err, errlen, "--rtc %s: give utc or localtime", arg);
		return -EINVAL;
	}
	return 0;
}

static int apply_sandbox(const char *arg, struct hv_options *o, char *err, size_t errlen)
{
	if (strcmp(arg, "on") && strcmp(arg, "off")) {
		snprintf(err, errlen, "--sandbox %s: on or off", arg);
		return -EINVAL;
	}
	o->sandbox_off = !strcmp(arg, "off");
	o->sandbox_asked = !o->sandbox_off;
	return 0;
}

static int apply_seccomp(const char *arg, struct hv_options *o, char *err, size_t errlen)
{
	if (seccomp_parse_policy(arg, &o->seccomp)) {
		snprintf(err, errlen, "--seccomp %s: give kill, log or off", arg);
		return -EINVAL;
	}
	return 0;
}

static int apply_trace(const char *arg, struct hv_options *o, char *err, size_t errlen)
{
	return options_parse_trace(arg, &o->trace, err, errlen);
}

/* ---- The table: one row per option, in the order --help lists them ---- */

/* --help names these limits in its text. */
_Static_assert(HV_CPUS_MAX == 255 && HV_MAX_DISKS == 8 && HV_SERIAL_MAX == 20 &&
	       HV_MAX_NICS == 4 && NET_MAX_QUEUE_PAIRS == 8 && SLIRP_MAX_HOSTFWD == 16,
	       "update the numbers in options_table[]'s help");

#define FIELD(f)	offsetof(struct hv_options, f)

const struct hv_option options_table[] = {
	/* What to run */
	{ .name = "kernel", .short_name = 'k', .arg = "FILE",
	  .kind = OPTION_FILE, .field = FIELD(kernel),
	  .heading = "What to run (without -k, --demo or --raw: the PC boots its disk or CD-ROM\n"
		     "through its BIOS, SeaBIOS; see docs/14-firmware.md):\n",
	  .help = "boot FILE, a Linux x86-64 bzImage (e.g. /boot/vmlinuz-*),\n"
		  "through the 64-bit boot protocol, on a PC with ACPI\n" },
	{ .name = "initrd", .short_name = 'i', .arg = "FILE",
	  .kind = OPTION_FILE, .field = FIELD(initrd),
	  .help = "the initial RAM disk for -k\n" },
	{ .name = "append", .short_name = 'a', .arg = "TEXT",
	  .kind = OPTION_STRING, .field = FIELD(append),
	  .help = "the kernel command line for -k (default: console=ttyS0)\n" },
	{ .name = "cdrom", .arg = "FILE", .apply = apply_cdrom,
	  .help = "an ISO 9660 image (an installer, a live system) as a\n"
		  "read-only CD-ROM on a virtio-scsi controller (/dev/sr0);\n"
		  "the firmware boots it first, once (as -boot once=d)\n" },
	{ .name = "boot", .arg = "order=LETTERS[,once=LETTERS][,menu=on]",
	  .apply = options_parse_boot,
	  .help = "the firmware's boot order: c = the first disk, d = the\n"
		  "CD-ROM (default: d then c on the first boot when there\n"
		  "is a CD-ROM, then c then d); once= for the first boot\n"
		  "only; menu=on offers the BIOS boot menu (Esc)\n" },
	{ .name = "firmware", .arg = "FILE", .kind = OPTION_FILE, .field = FIELD(firmware),
	  .help = "the PC BIOS image (default " PCBIOS_DEFAULT ")\n" },
	{ .name = "demo", .kind = OPTION_FLAG, .field = FIELD(demo), .help_flush = true,
	  .help = "run the built-in first-VM program: every vCPU prints a\n"
		  "greeting on the emulated serial port (COM1) and halts\n" },
	{ .name = "raw", .arg = "FILE",
	  .kind = OPTION_FILE, .field = FIELD(raw_path), .help_flush = true,
	  .help = "run FILE, a flat 16-bit real-mode program, loaded at\n"
		  "guest address 0x1000 and started at 0000:1000 with SI =\n"
		  "the vCPU index; hvrun stops when every vCPU has halted\n" },

	/* Machine */
	{ .name = "memory", .short_name = 'm', .arg = "SIZE", .apply = apply_memory,
	  .heading = "Machine:\n",
	  .help = "guest RAM; a number is MB, or give a suffix M or G\n"
		  "(default 512, minimum 128, maximum 1024G)\n" },
	{ .name = "cpus", .short_name = 'c', .arg = "N", .apply = apply_cpus,
	  .help = "number of vCPUs, one host thread each (default 1,\n"
		  "maximum 255 or the host KVM's limit if lower)\n" },
	{ .name = "hugepages", .kind = OPTION_FLAG, .field = FIELD(hugepages),
	  .help = "back guest RAM with 2 MiB hugetlbfs pages (reserve them\n"
		  "first: /proc/sys/vm/nr_hugepages); default: normal pages,\n"
		  "2 MiB aligned for transparent huge pages\n" },
	{ .name = "rtc", .arg = "utc|localtime", .apply = apply_rtc,
	  .help = "what the guest's CMOS clock shows (default utc)\n" },
	{ .name = "no-reboot", .kind = OPTION_FLAG, .field = FIELD(no_reboot),
	  .help = "when the guest reboots, exit (status 0) instead\n" },

	/* Devices */
	{ .name = "disk", .short_name = 'd', .arg = "FILE[,ro][,cache=none|writeback][,serial=ID]",
	  .apply = apply_disk,
	  .heading = "Devices (virtio-pci, modern, with MSI-X; not with --demo or --raw):\n",
	  .help = "a raw disk image as a virtio-blk disk: the first is\n"
		  "/dev/vda, the next /dev/vdb, ... (at most 8).  ro: the\n"
		  "guest cannot write; cache=none (default) bypasses the\n"
		  "host page cache (O_DIRECT), cache=writeback uses it;\n"
		  "serial=ID (up to 20 characters) is what the guest reads\n"
		  "in /sys/block/vdX/serial (default: the file's name)\n" },
	{ .name = "console", .arg = "serial|virtio", .apply = apply_console,
	  .help = "where hvrun's standard input goes: COM1\n"
		  "(ttyS0) or the virtio console (hvc0); default: the\n"
		  "last console= of the kernel command line\n" },
	{ .name = "no-virtio-console", .kind = OPTION_FLAG, .field = FIELD(no_virtio_console),
	  .help = "no virtio console (hvc0)\n" },
	{ .name = "no-rng", .kind = OPTION_FLAG, .field = FIELD(no_rng),
	  .help = "no virtio entropy device (/dev/hwrng)\n" },
	{ .name = "no-balloon", .kind = OPTION_FLAG, .field = FIELD(no_balloon),
	  .help = "no virtio memory balloon (hvctl balloon SIZE)\n" },
	{ .name = "no-free-page-reporting", .kind = OPTION_FLAG, .field = FIELD(no_page_reporting),
	  .help = "the balloon does not offer free page\n"
		  "reporting (pages the guest frees then stay with hvrun)\n" },

	/* Networking (options_nic.c) */
	{ .name = "tap", .short_name = 't', .arg = "NAME", .apply = options_add_tap,
	  .heading = "Networking (virtio-net; not with --demo or --raw; at most 4 NICs: eth0, eth1, "
		     "... in order):\n",
	  .help = "a NIC on the TAP device NAME (e.g. -t tap2), MAC\n"
		  "ba:ad:00:ca:fe:NN for tapNN (NN in hex: tap10 -> 0a)\n" },
	{ .name = "net", .arg = "tap=NAME[,mac=MAC][,queues=N]", .apply = options_add_net,
	  .help = "the same, with a MAC and N queue pairs (1 to 8; default:\n"
		  "one per vCPU, if the TAP is multi-queue)\n",
	  .arg2 = "user[,hostfwd=RULE]...[,mac=MAC]",
	  .help2 = "user-mode networking (libslirp; needs no privileges):\n"
		   "the guest gets 10.0.2.15 by DHCP, the gateway (the host)\n"
		   "is 10.0.2.2, DNS 10.0.2.3; each RULE forwards a host port\n"
		   "to the guest: [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:\n"
		   "GUESTPORT, e.g. hostfwd=tcp:5555-:22 (at most 16)\n" },
	{ .name = "mac", .arg = "MAC", .apply = options_set_mac,
	  .help = "the MAC of the NIC given just before it (default for a\n"
		  "NIC without a tapNN MAC: 52:54:00:12:34:56, :57, ... by\n"
		  "position, as QEMU)\n" },

	/* Privileges */
	{ .name = "user", .arg = "NAME|UID", .kind = OPTION_STRING, .field = FIELD(run_user),
	  .help_column = 24,
	  .heading = "Privileges (hvrun drops every capability and sets no_new_privs once the\n"
		     "VM is built, before the guest runs; see docs/12-privileges.md):\n",
	  .help = "then also switch to this user, with its groups (needs\n"
		  "hvrun started as root)\n" },
	{ .name = "group", .arg = "NAME|GID", .kind = OPTION_STRING, .field = FIELD(run_group),
	  .help_column = 24,
	  .help = "and to this group (with only --group: no\n"
		  "supplementary groups)\n" },
	{ .name = "sandbox", .arg = "on|off", .apply = apply_sandbox, .help_column = 24,
	  .help = "started as root, hvrun moves into an empty root file\n"
		  "system of its own once everything is open (default on;\n"
		  "see docs/12-privileges.md)\n" },
	{ .name = "seccomp", .arg = "kill|log|off", .apply = apply_seccomp,
	  .help = "system call filters, one list per thread kind\n"
		  "(docs/15-seccomp.md); kill (default): a call outside\n"
		  "the list stops hvrun, naming the thread and the call;\n"
		  "log: the call is made, named once, counted in --stats\n"
		  "and hvctl stats; off: no filter\n" },

	/* Control */
	{ .name = "name", .arg = "NAME", .kind = OPTION_STRING, .field = FIELD(name),
	  .heading = "Control (see docs/control.md; hvctl talks to the socket):\n",
	  .help = "the VM's name (default: the first disk's or the\n"
		  "kernel's file name); letters, digits, . _ -\n" },
	{ .name = "control", .arg = "PATH", .kind = OPTION_STRING, .field = FIELD(control_path),
	  .help = "the control socket (default: $XDG_RUNTIME_DIR/hvrun/\n"
		  "NAME.sock, or /run/hvrun/NAME.sock for root); mode 0600\n" },
	{ .name = "daemonize", .kind = OPTION_FLAG, .field = FIELD(daemonize),
	  .help = "detach once the VM is set up (errors before that are\n"
		  "printed, exit status non-zero); the console then goes to\n"
		  "the control socket (hvctl console) and --console-log\n" },
	{ .name = "pidfile", .arg = "FILE", .kind = OPTION_STRING, .field = FIELD(pidfile),
	  .help = "write hvrun's process id to FILE\n" },
	{ .name = "console-log", .arg = "FILE", .kind = OPTION_STRING, .field = FIELD(console_log),
	  .help = "also append the guest's console output to FILE\n" },

	/* Diagnostics */
	{ .name = "check", .kind = OPTION_FLAG, .field = FIELD(check), .help_flush = true,
	  .heading = "Diagnostics:\n",
	  .help = "check this host: /dev/kvm, CPU flags, kvm modules,\n"
		  "KVM API version and capabilities, io_uring,\n"
		  "/dev/net/tun and the TAP devices this user may use;\n"
		  "says how to fix each missing item\n" },
	{ .name = "exit-stats", .kind = OPTION_FLAG, .field = FIELD(exit_stats), .help_flush = true,
	  .help = "print how many VM exits of each kind the guest caused\n" },
	{ .name = "stats", .kind = OPTION_FLAG, .field = FIELD(stats), .help_flush = true,
	  .help = "at exit, print VM exits per vCPU and per reason, and per\n"
		  "device and queue: kicks, interrupts, requests, bytes\n" },
	{ .name = "trace", .arg = "LIST", .apply = apply_trace, .help_flush = true,
	  .help = "print a line per event of the kinds in LIST (comma-\n"
		  "separated: exits,pio,mmio,pci,virtio,irq,boot, or all),\n"
		  "naming the hvrun function that handled it\n" },
	{ .name = "verbose", .short_name = 'v', .kind = OPTION_FLAG, .field = FIELD(verbose),
	  .help = "say what hvrun is doing, step by step\n" },
	{ .name = "help", .short_name = 'h', .kind = OPTION_FLAG, .field = FIELD(help),
	  .help = "show this help\n" },
	{ .name = "version", .kind = OPTION_FLAG, .field = FIELD(version),
	  .help = "show the version\n" },
	{ .name = NULL },
};

/* The rows, the end row included. */
#define OPTIONS_ROWS	(sizeof(options_table) / sizeof(options_table[0]))

/* ---- --help, from the table ---- */

#define HELP_COLUMN	22	/* where an option's text starts */
#define HELP_WIDE	32	/* an option wider than this has its text on the next line */

/* "  -d, --disk FILE" and its text, the first line beside it, the others under it. */
static void print_option(FILE *out, const struct hv_option *r, const char *arg, const char *help)
{
	int column = r->help_column ? r->help_column : HELP_COLUMN;
	int width;

	if (r->short_name)
		width = fprintf(out, "  -%c, --%s", r->short_name, r->name);
	else
		width = fprintf(out, "%s--%s", r->help_flush ? "  " : "      ", r->name);
	if (arg)
		width += fprintf(out, " %s", arg);
	if (width > HELP_WIDE)
		fprintf(out, "\n%*s", HELP_COLUMN, "");
	else
		fprintf(out, "%*s", width < column ? column - width : 2, "");
	while (*help) {
		size_t len = strcspn(help, "\n");

		fprintf(out, "%.*s\n", (int)len, help);
		help += len;
		if (*help == '\n')
			help++;
		if (*help)
			fprintf(out, "%*s", HELP_COLUMN, "");
	}
}

void options_print_help(FILE *out)
{
	const struct hv_option *r;

	fputs("Usage: hvrun [OPTIONS] -k KERNEL [-i INITRD] [-a CMDLINE] [-d DISK]...\n"
	      "       hvrun [OPTIONS] [-d DISK]... [--cdrom ISO] [--boot order=cd]\n"
	      "       hvrun [OPTIONS] --demo | --raw FILE\n"
	      "       hvrun --check\n"
	      "\n"
	      "hvrun runs a virtual machine on the Linux KVM API (/dev/kvm).\n", out);
	for (r = options_table; r->name; r++) {
		if (r->heading)
			fprintf(out, "\n%s", r->heading);
		print_option(out, r, r->arg, r->help);
		if (r->arg2)
			print_option(out, r, r->arg2, r->help2);
	}
	fputs("\n"
	      "The guest's serial port (COM1) is hvrun's standard output and input; on a\n"
	      "terminal it is in raw mode, and Ctrl-A x quits (Ctrl-A Ctrl-A sends Ctrl-A).\n"
	      "hvrun's own messages go to standard error.\n"
	      "\n"
	      "Exit status:\n"
	      "  0  the guest ran and stopped normally (it powered off, or with --demo and\n"
	      "     --raw every vCPU halted; Ctrl-A x, SIGINT, SIGTERM); --check: the\n"
	      "     host has everything hvrun needs\n"
	      "  1  the host cannot run the VM (no usable /dev/kvm, ...) or the guest\n"
	      "     crashed (triple fault, KVM internal error), or the firmware found no\n"
	      "     bootable device; --check: something is missing\n"
	      "  2  bad usage: unknown option, bad value, missing file\n"
	      "  159  a thread made a system call outside its seccomp list (--seccomp kill)\n", out);
}

/* ---- Parsing: getopt_long() with tables made from the rows ---- */

/* getopt's value for row i: its letter, or (long only) 0x100 + i. */
static int option_value(size_t i)
{
	return options_table[i].short_name ? options_table[i].short_name : 0x100 + (int)i;
}

/* The row getopt_long() returned c for, or NULL (c is '?' or ':'). */
static const struct hv_option *option_for(int c)
{
	size_t i;

	for (i = 0; options_table[i].name; i++)
		if (option_value(i) == c)
			return &options_table[i];
	return NULL;
}

/* getopt_long()'s "m:c:...vh" and its struct option array, from the rows. */
static void getopt_tables(char *shorts, struct option *longs)
{
	size_t i;

	*shorts++ = ':';	/* a missing value returns ':', not '?' */
	for (i = 0; options_table[i].name; i++) {
		const struct hv_option *r = &options_table[i];

		if (r->short_name) {
			*shorts++ = r->short_name;
			if (r->arg)
				*shorts++ = ':';
		}
		longs[i] = (struct option){ .name = r->name, .val = option_value(i),
					    .has_arg = r->arg ? required_argument : no_argument };
	}
	*shorts = '\0';
	longs[i] = (struct option){ 0 };
}

/* One option of the command line, as its row says. */
static int option_apply(const struct hv_option *r, const char *arg, struct hv_options *o,
			char *err, size_t errlen)
{
	char *field = (char *)o + r->field;
	char opt[32];

	switch (r->kind) {
	case OPTION_FLAG:
		*(bool *)field = true;
		return 0;
	case OPTION_FILE:
		if (r->short_name)
			snprintf(opt, sizeof(opt), "-%c", r->short_name);
		else
			snprintf(opt, sizeof(opt), "--%s", r->name);
		if (check_input_file(opt, arg, err, errlen))
			return -EINVAL;
		/* fall through */
	case OPTION_STRING:
		*(const char **)field = arg;
		return 0;
	case OPTION_CALL:
		break;
	}
	return r->apply(arg, o, err, errlen);
}

static int options_parse_all(struct hv_options *o, int argc, char *argv[], char *err, size_t errlen)
{
	char shorts[2 * OPTIONS_ROWS + 2];
	struct option longs[OPTIONS_ROWS];
	int c;

	memset(o, 0, sizeof(*o));
	o->mem_bytes = HV_MEM_DEFAULT;
	o->cpus = 1;
	o->seccomp = SECCOMP_POLICY_KILL;
	err[0] = '\0';

	getopt_tables(shorts, longs);
	optind = 0;		/* glibc: full re-initialisation, so tests can parse twice */
	opterr = 0;		/* we print our own one-line messages */
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const struct hv_option *r = option_for(c);

		if (r) {
			if (option_apply(r, optarg, o, err, errlen))
				return -EINVAL;
		} else if (c == ':') {
			snprintf(err, errlen, "%s needs a value", argv[optind - 1]);
			return -EINVAL;
		} else {
			if (optopt && optopt < 0x100)
				snprintf(err, errlen, "unknown option -%c", optopt);
			else
				snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (o->help || o->version || o->check)
		return 0;
	if ((o->demo + !!o->raw_path + !!o->kernel) > 1) {
		snprintf(err, errlen, "-k, --demo and --raw each name what to run: give one");
		return -EINVAL;
	}
	o->firmware_boot = !o->demo && !o->raw_path && !o->kernel;
	if (o->firmware_boot && !o->nr_disks && !o->cdrom) {
		snprintf(err, errlen, "nothing to run: give a disk (-d FILE) or a CD-ROM image "
			 "(--cdrom ISO) to boot through the firmware, -k KERNEL, --demo or --raw FILE");
		return -EINVAL;
	}
	if (!options_pc(o) && (o->nr_disks || o->cdrom || o->console || o->no_virtio_console ||
			       o->no_rng)) {
		snprintf(err, errlen, "%s is a PC device: not with --demo or --raw",
			 o->nr_disks ? "-d" : o->cdrom ? "--cdrom" : o->console ? "--console"
			 : o->no_rng ? "--no-rng" : "--no-virtio-console");
		return -EINVAL;
	}
	if (!options_pc(o) && o->nr_nics) {
		snprintf(err, errlen, "%s is a PC device (virtio-pci): not with --demo or --raw",
			 o->nics[0].kind == HV_NIC_TAP ? "-t" : "--net");
		return -EINVAL;
	}
	if (!o->firmware_boot && (o->firmware || o->boot_order[0] || o->boot_once[0] ||
				  o->boot_menu)) {
		snprintf(err, errlen, "%s is for a firmware boot (without -k, --demo or --raw)",
			 o->firmware ? "--firmware" : "--boot");
		return -EINVAL;
	}
	if (options_check_nics(o, err, errlen))
		return -EINVAL;
	/* Names are looked up now, so that a typo is a usage error before anything opens. */
	if (privs_resolve(o->run_user, o->run_group, err, errlen))
		return -EINVAL;
	if (o->console == HV_CONSOLE_VIRTIO && o->no_virtio_console) {
		snprintf(err, errlen, "--console virtio and --no-virtio-console contradict each other");
		return -EINVAL;
	}
	if (!options_pc(o) && o->no_balloon) {
		snprintf(err, errlen, "--no-balloon is a PC device: not with --demo or --raw");
		return -EINVAL;
	}
	if (o->name && !valid_name(o->name)) {
		snprintf(err, errlen, "--name %s: use 1 to 64 letters, digits, '.', '_' or '-' "
			 "(not starting with '.')", o->name);
		return -EINVAL;
	}
	if (!o->kernel && (o->initrd || o->append)) {
		snprintf(err, errlen, "%s goes with -k KERNEL", o->initrd ? "-i" : "-a");
		return -EINVAL;
	}
	return 0;
}

int options_parse(struct hv_options *o, int argc, char *argv[], char *err, size_t errlen)
{
	int ret = options_parse_all(o, argc, argv, err, errlen);

	if (ret)
		options_free(o);
	return ret;
}
