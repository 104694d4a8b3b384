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
};

static const struct option long_options[] = {
	{ "memory",	required_argument, NULL, 'm' },
	{ "cpus",	required_argument, NULL, 'c' },
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
"Usage: hvrun [OPTIONS] --demo | --raw FILE\n"
"       hvrun --check\n"
"\n"
"hvrun runs a virtual machine on the Linux KVM API (/dev/kvm).\n"
"\n"
"What to run:\n"
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
"The guest's serial port (COM1) is hvrun's standard output; hvrun's own\n"
"messages go to standard error.\n"
"\n"
"Exit status:\n"
"  0  the guest ran and stopped normally (every vCPU halted); --check: the\n"
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
	while ((c = getopt_long(argc, argv, ":m:c:vh", long_options, NULL)) != -1) {
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
	if (o->demo && o->raw_path) {
		snprintf(err, errlen, "--demo and --raw both name a program to run: give one");
		return -EINVAL;
	}
	if (!o->demo && !o->raw_path) {
		snprintf(err, errlen, "nothing to run: give --demo or --raw FILE");
		return -EINVAL;
	}
	return 0;
}
