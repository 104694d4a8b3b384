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
};

static const struct option long_options[] = {
	{ "memory",	required_argument, NULL, 'm' },
	{ "cpus",	required_argument, NULL, 'c' },
	{ "kernel",	required_argument, NULL, 'k' },
	{ "initrd",	required_argument, NULL, 'i' },
	{ "append",	required_argument, NULL, 'a' },
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
"Usage: hvrun [OPTIONS] -k KERNEL [-i INITRD] [-a CMDLINE]\n"
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
		HV_CPUS_MAX);
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

int options_parse(struct hv_options *o, int argc, char *argv[], char *err, size_t errlen)
{
	unsigned long n;
	int c;

	memset(o, 0, sizeof(*o));
	o->mem_bytes = HV_MEM_DEFAULT;
	o->cpus = 1;
	err[0] = '\0';

	optind = 0;		/* glibc: full re-initialisation, so tests can parse twice */
	opterr = 0;		/* we print our own one-line messages */
	while ((c = getopt_long(argc, argv, ":m:c:k:i:a:vh", long_options, NULL)) != -1) {
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
	if (!o->kernel && (o->initrd || o->append)) {
		snprintf(err, errlen, "%s goes with -k KERNEL", o->initrd ? "-i" : "-a");
		return -EINVAL;
	}
	return 0;
}
