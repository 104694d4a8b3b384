/* options.h: hvrun's command line, parsed and validated into one struct before anything runs. */
#ifndef HV_OPTIONS_H
#define HV_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit status of hvrun (documented in --help and docs/usage.md). */
enum {
	HV_EXIT_OK = 0,		/* the guest ran and stopped normally */
	HV_EXIT_FAILURE = 1,	/* the host cannot run the VM, or the guest crashed */
	HV_EXIT_USAGE = 2,	/* bad option, bad value, missing file */
};

#define HV_MIB			((uint64_t)1 << 20)
#define HV_GIB			((uint64_t)1 << 30)
#define HV_MEM_MIN		(128 * HV_MIB)	/* as the teaching guide's startup scripts */
#define HV_MEM_MAX		(1024 * HV_GIB)
#define HV_MEM_DEFAULT		(512 * HV_MIB)
#define HV_CPUS_MAX		255		/* xAPIC ids are 8 bits, 0xff is broadcast */

struct hv_options {
	uint64_t mem_bytes;	/* -m, --memory */
	unsigned int cpus;	/* -c, --cpus */
	const char *kernel;	/* -k, --kernel: a Linux bzImage */
	const char *initrd;	/* -i, --initrd */
	const char *append;	/* -a, --append: the kernel command line */
	bool rtc_localtime;	/* --rtc localtime (default utc) */
	bool no_reboot;		/* --no-reboot: a guest reboot ends hvrun */
	bool hugepages;		/* --hugepages: back RAM with hugetlbfs pages */
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

/* "512", "512M", "2G" -> bytes; MB when there is no suffix.  0 or -EINVAL. */
int options_parse_mem(const char *s, uint64_t *bytes);

void options_print_help(FILE *out);

#endif
