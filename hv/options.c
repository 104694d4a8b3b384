/* options.c: parse and validate hvrun's command line (one table, read top to bottom). */
#include "hv/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	OPT_CHECK = 0x100,
	OPT_RAW,
	OPT_DEMO,
	OPT_EXIT_STATS,
	OPT_VERSION,
	OPT_RTC,
	OPT_NO_REBOOT,
	OPT_HUGEPAGES,
	OPT_CONSOLE,
	OPT_NO_VIRTIO_CONSOLE,
	OPT_NO_RNG,
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
	{ "rtc",	required_argument, NULL, OPT_RTC },
	{ "no-reboot",	no_argument,	   NULL, OPT_NO_REBOOT },
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
"       hvrun [OPTIONS] --demo | --raw FILE\n"
"       hvrun --check\n"
"\n"
"hvrun runs a virtual machine on the Linux KVM API (/dev/kvm).\n"
"\n"
"What to run:\n"
"  -k, --kernel FILE   boot FILE, a Linux x86-64 bzImage (e.g. /boot/vmlinuz-*),\n"
"                      through the 64-bit boot protocol, on a PC with ACPI\n"
"  -i, --initrd FILE   the initial RAM disk for -k\n"
"  -a, --append TEXT   the kernel command line for -k (default: console=ttyS0)\n"
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
"Devices (virtio-pci, modern, with MSI-X; with -k):\n"
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
"\n"
"Diagnostics:\n"
"  --check             check this host: /dev/kvm, CPU flags, kvm modules,\n"
"                      KVM API version and capabilities, /dev/net/tun,\n"
"                      io_uring; says how to fix each missing item\n"
"  --exit-stats        print how many VM exits of each kind the guest caused\n"
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
"     crashed (triple fault, KVM internal error); --check: something is\n"
"     missing\n"
"  2  bad usage: unknown option, bad value, missing file\n",
		HV_CPUS_MAX, HV_MAX_DISKS, HV_SERIAL_MAX);
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
	uint64_t unit = HV_MIB, v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;		/* also refuses "-5" and " 5" */
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		switch (*end) {
		case 'm': case 'M': unit = HV_MIB; break;
		case 'g': case 'G': unit = HV_GIB; break;
		default: return -EINVAL;
		}
		end++;
		if (*end == 'B' || *end == 'b')	/* "512MB" reads naturally */
			end++;
		if (*end)
			return -EINVAL;
	}
	if (__builtin_mul_overflow(v, unit, bytes))
		return -EINVAL;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
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

static int options_parse_all(struct hv_options *o, int argc, char *argv[], char *err, size_t errlen)
{
	unsigned long n;
	int c;

	memset(o, 0, sizeof(*o));
	o->mem_bytes = HV_MEM_DEFAULT;
	o->cpus = 1;
	err[0] = '\0';

	optind = 0;		/* glibc: full re-initialisation, so tests can parse twice */
	opterr = 0;		/* we print our own one-line messages */
	while ((c = getopt_long(argc, argv, ":m:c:k:i:a:d:vh", long_options, NULL)) != -1) {
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
			if (parse_uint(optarg, ULONG_MAX, &n)) {
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
	if (!o->demo && !o->raw_path && !o->kernel) {
		snprintf(err, errlen, "nothing to run: give -k KERNEL, --demo or --raw FILE");
		return -EINVAL;
	}
	if (!o->kernel && (o->nr_disks || o->console || o->no_virtio_console || o->no_rng)) {
		snprintf(err, errlen, "%s goes with -k KERNEL (booting a disk through firmware "
			 "is not supported yet)", o->nr_disks ? "-d" : o->console ? "--console"
			 : o->no_rng ? "--no-rng" : "--no-virtio-console");
		return -EINVAL;
	}
	if (o->console == HV_CONSOLE_VIRTIO && o->no_virtio_console) {
		snprintf(err, errlen, "--console virtio and --no-virtio-console contradict each other");
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
