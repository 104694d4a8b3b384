/*
 * options.c: parse and validate hvrun's command line.  The NIC options are
 * in options_nic.c, --boot in options_boot.c.
 */
#include "hv/options.h"
#include "hv/options_priv.h"
#include "hv/seccomp.h"

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

#include "hv/privs.h"
#include "hv/trace.h"
#include "net/backend.h"

enum {
	OPT_CHECK = 0x100,
	OPT_RAW,
	OPT_DEMO,
	OPT_EXIT_STATS,
	OPT_VERSION,
	OPT_RTC,
	OPT_NO_REBOOT,
	OPT_SANDBOX,
	OPT_HUGEPAGES,
	OPT_CONSOLE,
	OPT_NO_VIRTIO_CONSOLE,
	OPT_NO_RNG,
	OPT_NET,
	OPT_MAC,
	OPT_USER,
	OPT_GROUP,
	OPT_NAME,
	OPT_CONTROL,
	OPT_DAEMONIZE,
	OPT_PIDFILE,
	OPT_CONSOLE_LOG,
	OPT_NO_BALLOON,
	OPT_NO_PAGE_REPORTING,
	OPT_STATS,
	OPT_TRACE,
	OPT_CDROM,
	OPT_FIRMWARE,
	OPT_BOOT,
	OPT_SECCOMP,
};

static const struct option long_options[] = {
	{ "memory",	required_argument, NULL, 'm' },
	{ "cpus",	required_argument, NULL, 'c' },
	{ "kernel",	required_argument, NULL, 'k' },
	{ "initrd",	required_argument, NULL, 'i' },
	{ "append",	required_argument, NULL, 'a' },
	{ "disk",	required_argument, NULL, 'd' },
	{ "console",	required_argument, NULL, OPT_CONSOLE },
	{ "no-virtio-console", no_argument, NULL, OPT_NO_VIRTIO_CONSOLE },
	{ "no-rng",	no_argument,	   NULL, OPT_NO_RNG },
	{ "tap",	required_argument, NULL, 't' },
	{ "net",	required_argument, NULL, OPT_NET },
	{ "mac",	required_argument, NULL, OPT_MAC },
	{ "user",	required_argument, NULL, OPT_USER },
	{ "group",	required_argument, NULL, OPT_GROUP },
	{ "seccomp",	required_argument, NULL, OPT_SECCOMP },
	{ "name",	required_argument, NULL, OPT_NAME },
	{ "control",	required_argument, NULL, OPT_CONTROL },
	{ "daemonize",	no_argument,	   NULL, OPT_DAEMONIZE },
	{ "pidfile",	required_argument, NULL, OPT_PIDFILE },
	{ "console-log", required_argument, NULL, OPT_CONSOLE_LOG },
	{ "no-balloon",	no_argument,	   NULL, OPT_NO_BALLOON },
	{ "no-free-page-reporting", no_argument, NULL, OPT_NO_PAGE_REPORTING },
	{ "stats",	no_argument,	   NULL, OPT_STATS },
	{ "trace",	required_argument, NULL, OPT_TRACE },
	{ "cdrom",	required_argument, NULL, OPT_CDROM },
	{ "firmware",	required_argument, NULL, OPT_FIRMWARE },
	{ "boot",	required_argument, NULL, OPT_BOOT },
	{ "rtc",	required_argument, NULL, OPT_RTC },
	{ "no-reboot",	no_argument,	   NULL, OPT_NO_REBOOT },
	{ "sandbox",	required_argument, NULL, OPT_SANDBOX },
	{ "hugepages",	no_argument,	   NULL, OPT_HUGEPAGES },
	{ "raw",	required_argument, NULL, OPT_RAW },
	{ "demo",	no_argument,	   NULL, OPT_DEMO },
	{ "check",	no_argument,	   NULL, OPT_CHECK },
	{ "exit-stats",	no_argument,	   NULL, OPT_EXIT_STATS },
	{ "verbose",	no_argument,	   NULL, 'v' },
	{ "help",	no_argument,	   NULL, 'h' },
	{ "version",	no_argument,	   NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void options_print_help(FILE *out)
{
	fprintf(out,
"Usage: hvrun [OPTIONS] -k KERNEL [-i INITRD] [-a CMDLINE] [-d DISK]...\n"
"       hvrun [OPTIONS] [-d DISK]... [--cdrom ISO] [--boot order=cd]\n"
"       hvrun [OPTIONS] --demo | --raw FILE\n"
"       hvrun --check\n"
"\n"
"hvrun runs a virtual machine on the Linux KVM API (/dev/kvm).\n"
"\n"
"What to run (without -k, --demo or --raw: the PC boots its disk or CD-ROM\n"
"through its BIOS, SeaBIOS; see docs/14-firmware.md):\n"
"  -k, --kernel FILE   boot FILE, a Linux x86-64 bzImage (e.g. /boot/vmlinuz-*),\n"
"                      through the 64-bit boot protocol, on a PC with ACPI\n"
"  -i, --initrd FILE   the initial RAM disk for -k\n"
"  -a, --append TEXT   the kernel command line for -k (default: console=ttyS0)\n"
"      --cdrom FILE    an ISO 9660 image (an installer, a live system) as a\n"
"                      read-only CD-ROM on a virtio-scsi controller (/dev/sr0);\n"
"                      the firmware boots it first, once (as -boot once=d)\n"
"      --boot order=LETTERS[,once=LETTERS][,menu=on]\n"
"                      the firmware's boot order: c = the first disk, d = the\n"
"                      CD-ROM (default: d then c on the first boot when there\n"
"                      is a CD-ROM, then c then d); once= for the first boot\n"
"                      only; menu=on offers the BIOS boot menu (Esc)\n"
"      --firmware FILE the PC BIOS image (default " PCBIOS_DEFAULT ")\n"
"  --demo              run the built-in first-VM program: every vCPU prints a\n"
"                      greeting on the emulated serial port (COM1) and halts\n"
"  --raw FILE          run FILE, a flat 16-bit real-mode program, loaded at\n"
"                      guest address 0x1000 and started at 0000:1000 with SI =\n"
"                      the vCPU index; hvrun stops when every vCPU has halted\n"
"\n"
"Machine:\n"
"  -m, --memory SIZE   guest RAM; a number is MB, or give a suffix M or G\n"
"                      (default 512, minimum 128, maximum 1024G)\n"
"  -c, --cpus N        number of vCPUs, one host thread each (default 1,\n"
"                      maximum %d or the host KVM's limit if lower)\n"
"      --hugepages     back guest RAM with 2 MiB hugetlbfs pages (reserve them\n"
"                      first: /proc/sys/vm/nr_hugepages); default: normal pages,\n"
"                      2 MiB aligned for transparent huge pages\n"
"      --rtc utc|localtime  what the guest's CMOS clock shows (default utc)\n"
"      --no-reboot     when the guest reboots, exit (status 0) instead\n"
"\n"
"Devices (virtio-pci, modern, with MSI-X; not with --demo or --raw):\n"
"  -d, --disk FILE[,ro][,cache=none|writeback][,serial=ID]\n"
"                      a raw disk image as a virtio-blk disk: the first is\n"
"                      /dev/vda, the next /dev/vdb, ... (at most %d).  ro: the\n"
"                      guest cannot write; cache=none (default) bypasses the\n"
"                      host page cache (O_DIRECT), cache=writeback uses it;\n"
"                      serial=ID (up to %d characters) is what the guest reads\n"
"                      in /sys/block/vdX/serial (default: the file's name)\n"
"      --console serial|virtio  where hvrun's standard input goes: COM1\n"
"                      (ttyS0) or the virtio console (hvc0); default: the\n"
"                      last console= of the kernel command line\n"
"      --no-virtio-console  no virtio console (hvc0)\n"
"      --no-rng        no virtio entropy device (/dev/hwrng)\n"
"      --no-balloon    no virtio memory balloon (hvctl balloon SIZE)\n"
"      --no-free-page-reporting  the balloon does not offer free page\n"
"                      reporting (pages the guest frees then stay with hvrun)\n"
"\n"
"Networking (virtio-net; not with --demo or --raw; at most %d NICs: eth0, eth1, ... in order):\n"
"  -t, --tap NAME      a NIC on the TAP device NAME (e.g. -t tap2), MAC\n"
"                      ba:ad:00:ca:fe:NN for tapNN (NN in hex: tap10 -> 0a)\n"
"      --net tap=NAME[,mac=MAC][,queues=N]\n"
"                      the same, with a MAC and N queue pairs (1 to %d; default:\n"
"                      one per vCPU, if the TAP is multi-queue)\n"
"      --net user[,hostfwd=RULE]...[,mac=MAC]\n"
"                      user-mode networking (libslirp; needs no privileges):\n"
"                      the guest gets 10.0.2.15 by DHCP, the gateway (the host)\n"
"                      is 10.0.2.2, DNS 10.0.2.3; each RULE forwards a host port\n"
"                      to the guest: [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:\n"
"                      GUESTPORT, e.g. hostfwd=tcp:5555-:22 (at most %d)\n"
"      --mac MAC       the MAC of the NIC given just before it (default for a\n"
"                      NIC without a tapNN MAC: 52:54:00:12:34:56, :57, ... by\n"
"                      position, as QEMU)\n"
"\n"
"Privileges (hvrun drops every capability and sets no_new_privs once the\n"
"VM is built, before the guest runs; see docs/11-privileges.md):\n"
"      --user NAME|UID   then also switch to this user, with its groups (needs\n"
"                      hvrun started as root)\n"
"      --group NAME|GID  and to this group (with only --group: no\n"
"                      supplementary groups)\n"
"      --sandbox on|off  started as root, hvrun moves into an empty root file\n"
"                      system of its own once everything is open (default on;\n"
"                      see docs/11-privileges.md)\n"
"      --seccomp kill|log|off  system call filters, one list per thread kind\n"
"                      (docs/15-seccomp.md); kill (default): a call outside\n"
"                      the list stops hvrun, naming the thread and the call;\n"
"                      log: the call is made, named once, counted in --stats\n"
"                      and hvctl stats; off: no filter\n"
"\n"
"Control (see docs/control.md; hvctl talks to the socket):\n"
"      --name NAME     the VM's name (default: the first disk's or the\n"
"                      kernel's file name); letters, digits, . _ -\n"
"      --control PATH  the control socket (default: $XDG_RUNTIME_DIR/hvrun/\n"
"                      NAME.sock, or /run/hvrun/NAME.sock for root); mode 0600\n"
"      --daemonize     detach once the VM is set up (errors before that are\n"
"                      printed, exit status non-zero); the console then goes to\n"
"                      the control socket (hvctl console) and --console-log\n"
"      --pidfile FILE  write hvrun's process id to FILE\n"
"      --console-log FILE  also append the guest's console output to FILE\n"
"\n"
"Diagnostics:\n"
"  --check             check this host: /dev/kvm, CPU flags, kvm modules,\n"
"                      KVM API version and capabilities, io_uring,\n"
"                      /dev/net/tun and the TAP devices this user may use;\n"
"                      says how to fix each missing item\n"
"  --exit-stats        print how many VM exits of each kind the guest caused\n"
"  --stats             at exit, print VM exits per vCPU and per reason, and per\n"
"                      device and queue: kicks, interrupts, requests, bytes\n"
"  --trace LIST        print a line per event of the kinds in LIST (comma-\n"
"                      separated: exits,pio,mmio,pci,virtio,irq,boot, or all),\n"
"                      naming the hvrun function that handled it\n"
"  -v, --verbose       say what hvrun is doing, step by step\n"
"  -h, --help          show this help\n"
"      --version       show the version\n"
"\n"
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
"  159  a thread made a system call outside its seccomp list (--seccomp kill)\n",
		HV_CPUS_MAX, HV_MAX_DISKS, HV_SERIAL_MAX, HV_MAX_NICS, NET_MAX_QUEUE_PAIRS,
		SLIRP_MAX_HOSTFWD);
}

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

static int options_parse_all(struct hv_options *o, int argc, char *argv[], char *err, size_t errlen)
{
	unsigned long n;
	int c;

	memset(o, 0, sizeof(*o));
	o->mem_bytes = HV_MEM_DEFAULT;
	o->cpus = 1;
	o->seccomp = SECCOMP_POLICY_KILL;
	err[0] = '\0';

	optind = 0;		/* glibc: full re-initialisation, so tests can parse twice */
	opterr = 0;		/* we print our own one-line messages */
	while ((c = getopt_long(argc, argv, ":m:c:k:i:a:d:t:vh", long_options, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (options_parse_mem(optarg, &o->mem_bytes)) {
				snprintf(err, errlen, "-m %s: not a memory size (give MB, e.g. -m 512, or -m 2G)",
					 optarg);
				return -EINVAL;
			}
			if (o->mem_bytes < HV_MEM_MIN) {
				snprintf(err, errlen,
					 "-m %s: %" PRIu64 " MB of RAM is too little; the minimum is %" PRIu64 " MB",
					 optarg, o->mem_bytes / HV_MIB, HV_MEM_MIN / HV_MIB);
				return -EINVAL;
			}
			if (o->mem_bytes > HV_MEM_MAX) {
				snprintf(err, errlen, "-m %s: the maximum is %" PRIu64 "G", optarg,
					 HV_MEM_MAX / HV_GIB);
				return -EINVAL;
			}
			break;
		case 'c':
			if (options_parse_uint(optarg, ULONG_MAX, &n)) {
				snprintf(err, errlen, "-c %s: not a number of vCPUs", optarg);
				return -EINVAL;
			}
			if (n == 0 || n > HV_CPUS_MAX) {
				snprintf(err, errlen, "-c %s: the number of vCPUs must be 1 to %d",
					 optarg, HV_CPUS_MAX);
				return -EINVAL;
			}
			o->cpus = (unsigned int)n;
			break;
		case OPT_RAW:
			if (check_input_file("--raw", optarg, err, errlen))
				return -EINVAL;
			o->raw_path = optarg;
			break;
		case 'k':
			if (check_input_file("-k", optarg, err, errlen))
				return -EINVAL;
			o->kernel = optarg;
			break;
		case 'i':
			if (check_input_file("-i", optarg, err, errlen))
				return -EINVAL;
			o->initrd = optarg;
			break;
		case 'a':
			o->append = optarg;
			break;
		case 'd':
			if (o->nr_disks == HV_MAX_DISKS) {
				snprintf(err, errlen, "-d %s: at most %d disks", optarg, HV_MAX_DISKS);
				return -EINVAL;
			}
			if (options_parse_disk(optarg, &o->disks[o->nr_disks], err, errlen))
				return -EINVAL;
			o->nr_disks++;
			break;
		case OPT_CONSOLE:
			if (!strcmp(optarg, "serial")) {
				o->console = HV_CONSOLE_SERIAL;
			} else if (!strcmp(optarg, "virtio")) {
				o->console = HV_CONSOLE_VIRTIO;
			} else {
				snprintf(err, errlen, "--console %s: give serial or virtio", optarg);
				return -EINVAL;
			}
			break;
		case 't':
			if (options_add_tap(optarg, o, err, errlen))
				return -EINVAL;
			break;
		case OPT_NET:
			if (options_add_net(optarg, o, err, errlen))
				return -EINVAL;
			break;
		case OPT_MAC:
			if (options_set_mac(optarg, o, err, errlen))
				return -EINVAL;
			break;
		case OPT_USER:		o->run_user = optarg; break;
		case OPT_GROUP:		o->run_group = optarg; break;
		case OPT_SECCOMP:
			if (seccomp_parse_policy(optarg, &o->seccomp)) {
				snprintf(err, errlen, "--seccomp %s: give kill, log or off", optarg);
				return -EINVAL;
			}
			break;
		case OPT_NO_VIRTIO_CONSOLE: o->no_virtio_console = true; break;
		case OPT_NO_RNG:	o->no_rng = true; break;
		case OPT_RTC:
			if (strcmp(optarg, "utc") == 0 || strcmp(optarg, "base=utc") == 0) {
				o->rtc_localtime = false;
			} else if (strcmp(optarg, "localtime") == 0 ||
				   strcmp(optarg, "base=localtime") == 0) {
				o->rtc_localtime = true;
			} else {
				snprintf(err, errlen, "--rtc %s: give utc or localtime", optarg);
				return -EINVAL;
			}
			break;
		case OPT_NO_REBOOT:	o->no_reboot = true; break;
		case OPT_HUGEPAGES:	o->hugepages = true; break;
		case OPT_DEMO:		o->demo = true; break;
		case OPT_CHECK:		o->check = true; break;
		case OPT_EXIT_STATS:	o->exit_stats = true; break;
		case OPT_NAME:		o->name = optarg; break;
		case OPT_CONTROL:	o->control_path = optarg; break;
		case OPT_DAEMONIZE:	o->daemonize = true; break;
		case OPT_PIDFILE:	o->pidfile = optarg; break;
		case OPT_CONSOLE_LOG:	o->console_log = optarg; break;
		case OPT_NO_BALLOON:	o->no_balloon = true; break;
		case OPT_NO_PAGE_REPORTING: o->no_page_reporting = true; break;
		case OPT_STATS:		o->stats = true; break;
		case OPT_CDROM:
			if (o->cdrom) {
				snprintf(err, errlen, "--cdrom %s: one CD-ROM only (already --cdrom %s)",
					 optarg, o->cdrom);
				return -EINVAL;
			}
			if (check_input_file("--cdrom", optarg, err, errlen))
				return -EINVAL;
			o->cdrom = optarg;
			break;
		case OPT_FIRMWARE:
			if (check_input_file("--firmware", optarg, err, errlen))
				return -EINVAL;
			o->firmware = optarg;
			break;
		case OPT_BOOT:
			if (options_parse_boot(optarg, o, err, errlen))
				return -EINVAL;
			break;
		case OPT_TRACE:
			if (options_parse_trace(optarg, &o->trace, err, errlen))
				return -EINVAL;
			break;
		case OPT_SANDBOX:
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				snprintf(err, errlen, "--sandbox %s: on or off", optarg);
				return -EINVAL;
			}
			o->sandbox_off = !strcmp(optarg, "off");
			o->sandbox_asked = !o->sandbox_off;
			break;
		case 'v':		o->verbose = true; break;
		case 'h':		o->help = true; break;
		case OPT_VERSION:	o->version = true; break;
		case ':':
			snprintf(err, errlen, "%s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
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
