/* test_options.c: hvrun's command line: sizes, counts, files, and the one-line errors. */
#include "tests/unit/cmocka_inc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "hv/base/privs.h"
#include "hv/base/trace.h"
#include "hv/options.h"
#include "hv/options_priv.h"

#define PARSE(o, err, ...) ({							\
	char *argv_[] = { "hvrun", __VA_ARGS__, NULL };				\
	options_parse((o), (int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_,	\
		      (err), sizeof(err));					\
})

static void test_mem_sizes(void **state)
{
	uint64_t b;

	(void)state;
	assert_int_equal(options_parse_mem("512", &b), 0);
	assert_true(b == 512 * HV_MIB);
	assert_int_equal(options_parse_mem("512M", &b), 0);
	assert_true(b == 512 * HV_MIB);
	assert_int_equal(options_parse_mem("512MB", &b), 0);
	assert_true(b == 512 * HV_MIB);
	assert_int_equal(options_parse_mem("2G", &b), 0);
	assert_true(b == 2 * HV_GIB);
	assert_int_equal(options_parse_mem("4g", &b), 0);
	assert_true(b == 4 * HV_GIB);
	assert_int_equal(options_parse_mem("", &b), -EINVAL);
	assert_int_equal(options_parse_mem("abc", &b), -EINVAL);
	assert_int_equal(options_parse_mem("-5", &b), -EINVAL);
	assert_int_equal(options_parse_mem(" 5", &b), -EINVAL);
	assert_int_equal(options_parse_mem("12x", &b), -EINVAL);
	assert_int_equal(options_parse_mem("12GG", &b), -EINVAL);
	assert_int_equal(options_parse_mem("99999999999999999999", &b), -EINVAL);
	assert_int_equal(options_parse_mem("18446744073709551615G", &b), -EINVAL);
}

static void test_defaults_and_demo(void **state)
{
	struct hv_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--demo"), 0);
	assert_true(o.demo);
	assert_true(o.mem_bytes == HV_MEM_DEFAULT);
	assert_int_equal(o.cpus, 1);
	assert_int_equal(PARSE(&o, err, "-m", "1G", "-c", "4", "--demo", "--exit-stats"), 0);
	assert_true(o.mem_bytes == HV_GIB);
	assert_int_equal(o.cpus, 4);
	assert_true(o.exit_stats);
	assert_int_equal(PARSE(&o, err, "--memory=256", "--cpus=2", "--demo"), 0);
	assert_true(o.mem_bytes == 256 * HV_MIB);
	assert_int_equal(o.cpus, 2);
}

static void test_memory_floor(void **state)
{
	struct hv_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-m", "127", "--demo"), -EINVAL);
	assert_non_null(strstr(err, "127 MB"));
	assert_non_null(strstr(err, "minimum is 128 MB"));
	assert_int_equal(PARSE(&o, err, "-m", "128", "--demo"), 0);
	assert_int_equal(PARSE(&o, err, "-m", "0", "--demo"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-m", "2000G", "--demo"), -EINVAL);
	assert_non_null(strstr(err, "maximum"));
	assert_int_equal(PARSE(&o, err, "-m", "lots", "--demo"), -EINVAL);
	assert_non_null(strstr(err, "not a memory size"));
}

static void test_cpus(void **state)
{
	struct hv_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-c", "0", "--demo"), -EINVAL);
	assert_non_null(strstr(err, "1 to 255"));
	assert_int_equal(PARSE(&o, err, "-c", "256", "--demo"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-c", "two", "--demo"), -EINVAL);
	assert_non_null(strstr(err, "not a number"));
	assert_int_equal(PARSE(&o, err, "-c", "-1", "--demo"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-c", "3x", "--demo"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-c", "255", "--demo"), 0);
	assert_int_equal(o.cpus, 255);
}

static void test_usage_errors(void **state)
{
	struct hv_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--bogus"), -EINVAL);
	assert_string_equal(err, "unknown option --bogus");
	assert_int_equal(PARSE(&o, err, "-z", "--demo"), -EINVAL);
	assert_string_equal(err, "unknown option -z");
	assert_int_equal(PARSE(&o, err, "--demo", "-m"), -EINVAL);
	assert_string_equal(err, "-m needs a value");
	assert_int_equal(PARSE(&o, err, "--demo", "stray"), -EINVAL);
	assert_non_null(strstr(err, "stray"));
	assert_int_equal(PARSE(&o, err, "-m", "256"), -EINVAL);
	assert_non_null(strstr(err, "nothing to run"));
	/* --help, --version and --check need nothing else */
	assert_int_equal(PARSE(&o, err, "--help"), 0);
	assert_true(o.help);
	assert_int_equal(PARSE(&o, err, "--version"), 0);
	assert_int_equal(PARSE(&o, err, "--check"), 0);
	assert_true(o.check);
}

static void test_raw_file(void **state)
{
	char path[] = "/tmp/hvrun-test-rawXXXXXX";
	struct hv_options o;
	char err[256];
	int fd;

	(void)state;
	assert_int_equal(PARSE(&o, err, "--raw", "/nonexistent/prog.bin"), -EINVAL);
	assert_string_equal(err, "--raw /nonexistent/prog.bin: No such file or directory");
	assert_int_equal(PARSE(&o, err, "--raw", "/tmp"), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(PARSE(&o, err, "--raw", path), 0);
	assert_string_equal(o.raw_path, path);
	assert_int_equal(PARSE(&o, err, "--raw", path, "--demo"), -EINVAL);
	assert_non_null(strstr(err, "give one"));
	assert_int_equal(PARSE(&o, err, "-i", path, "--demo"), -EINVAL);
	assert_string_equal(err, "-i goes with -k KERNEL");
	assert_int_equal(PARSE(&o, err, "-k", path, "-i", path, "-a", "console=ttyS0 quiet"), 0);
	assert_string_equal(o.kernel, path);
	assert_string_equal(o.append, "console=ttyS0 quiet");
	assert_int_equal(PARSE(&o, err, "-k", "/nonexistent"), -EINVAL);
	assert_string_equal(err, "-k /nonexistent: No such file or directory");
	assert_int_equal(PARSE(&o, err, "--rtc", "localtime", "--demo"), 0);
	assert_true(o.rtc_localtime);
	assert_int_equal(PARSE(&o, err, "--rtc", "base=localtime", "--demo"), 0);
	assert_int_equal(PARSE(&o, err, "--rtc", "mars", "--demo"), -EINVAL);
	assert_string_equal(err, "--rtc mars: give utc or localtime");
	unlink(path);
}

static void test_help_mentions_every_option(void **state)
{
	static const char *const words[] = { "--kernel", "--initrd", "--append", "--rtc",
		"--no-reboot", "--hugepages", "Ctrl-A x", "--demo", "--raw", "--memory", "--cpus", "--check",
		"--exit-stats", "--verbose", "--help", "--version", "default 512", "minimum 128",
		"Exit status", "2  bad usage", "--disk", "cache=none", "serial=ID", "--console",
		"--no-virtio-console", "--no-rng", "--tap", "--net tap=NAME", "queues=N",
		"--net user", "hostfwd=tcp:5555-:22", "10.0.2.15", "--mac", "--user", "--group",
		"no_new_privs", "--name", "--control", "--daemonize", "--pidfile", "--console-log",
		"--no-balloon", "--stats", "--trace" };
	char buf[16384] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	size_t i;

	(void)state;
	options_print_help(f);
	fclose(f);
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		assert_non_null(strstr(buf, words[i]));
}

/* ---- options_table[]: each option is one row; getopt, dispatch and --help come from it ---- */

/* A failed check names the row it was about. */
#define ROW_CHECK(r, cond)							\
	do {									\
		if (!(cond))							\
			fail_msg("--%s: not (%s)", (r)->name, #cond);		\
	} while (0)

static size_t table_rows(void)
{
	size_t n = 0;

	while (options_table[n].name)
		n++;
	return n;
}

/* A row is whole: a plain name, help text, and a way to apply it that fits its value. */
static void test_table_rows_are_whole(void **state)
{
	size_t i, n = table_rows();

	(void)state;
	assert_true(n >= 38);
	for (i = 0; i < n; i++) {
		const struct hv_option *r = &options_table[i];
		size_t len = strlen(r->name);

		ROW_CHECK(r, len > 0);
		ROW_CHECK(r, strspn(r->name, "abcdefghijklmnopqrstuvwxyz0123456789-") == len);
		ROW_CHECK(r, r->help != NULL);
		ROW_CHECK(r, strlen(r->help) > 1);
		ROW_CHECK(r, r->help[strlen(r->help) - 1] == '\n');
		ROW_CHECK(r, !strstr(r->help, "\n\n"));	/* no empty line */
		ROW_CHECK(r, !r->arg || r->arg[0]);
		/* a second form needs its own text, and both forms take a value */
		ROW_CHECK(r, !r->arg2 == !r->help2);
		if (r->arg2) {
			ROW_CHECK(r, r->arg != NULL);
			ROW_CHECK(r, r->help2[strlen(r->help2) - 1] == '\n');
		}
		switch (r->kind) {
		case OPTION_CALL:
			ROW_CHECK(r, r->apply != NULL);
			ROW_CHECK(r, r->arg != NULL);
			break;
		case OPTION_FLAG:
			ROW_CHECK(r, !r->apply);
			ROW_CHECK(r, !r->arg);
			break;
		case OPTION_STRING:
		case OPTION_FILE:
			ROW_CHECK(r, !r->apply);
			ROW_CHECK(r, r->arg != NULL);
			break;
		default:
			fail_msg("--%s: no such kind %d", r->name, (int)r->kind);
		}
	}
	assert_non_null(options_table[0].heading);	/* --help starts with a section */
}

/* Every letter and every long name stands for one option only. */
static void test_table_names_are_unique(void **state)
{
	size_t i, j, n = table_rows();

	(void)state;
	for (i = 0; i < n; i++) {
		char c = options_table[i].short_name;

		/* a letter, not ':' or '?', which getopt returns itself */
		ROW_CHECK(&options_table[i], !c || isalnum((unsigned char)c));
		for (j = i + 1; j < n; j++) {
			ROW_CHECK(&options_table[j], strcmp(options_table[i].name, options_table[j].name));
			ROW_CHECK(&options_table[j], !c || c != options_table[j].short_name);
		}
	}
}

/* hvrun --help, in buf. */
static const char *help_text(char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "w");

	assert_non_null(f);
	options_print_help(f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(memchr(buf, '\0', len));	/* it all fit */
	return buf;
}

/* "  -k, --kernel FILE", "      --cdrom FILE", "  --demo": a row's option column in --help. */
static void option_column(const struct hv_option *r, const char *arg, char *buf, size_t len)
{
	int n;

	if (r->short_name)
		n = snprintf(buf, len, "\n  -%c, --%s", r->short_name, r->name);
	else
		n = snprintf(buf, len, "\n%s--%s", r->help_flush ? "  " : "      ", r->name);
	if (arg)
		snprintf(buf + n, len - (size_t)n, " %s", arg);
}

/* Finds the form's option column after *at, then its text's first line; moves *at past them. */
static void assert_form_listed(const char **at, const struct hv_option *r, const char *arg,
			       const char *text)
{
	char column[128];
	const char *p;
	size_t first = strcspn(text, "\n");

	option_column(r, arg, column, sizeof(column));
	p = strstr(*at, column);
	if (!p)
		fail_msg("--help lacks '%s' (or has it before the row above)", column + 1);
	p += strlen(column);
	ROW_CHECK(r, *p == ' ' || *p == '\n');
	p += strspn(p, " \n");
	ROW_CHECK(r, strncmp(p, text, first) == 0);
	*at = p + first;
}

/* --help lists every row, both forms of a two-form row, in the table's order, with its text. */
static void test_help_lists_table_in_order(void **state)
{
	static char buf[16384];
	const char *at = help_text(buf, sizeof(buf));
	size_t i;

	(void)state;
	for (i = 0; options_table[i].name; i++) {
		const struct hv_option *r = &options_table[i];

		if (r->heading) {
			at = strstr(at, r->heading);
			ROW_CHECK(r, at != NULL);
		}
		assert_form_listed(&at, r, r->arg, r->help);
		if (r->arg2)
			assert_form_listed(&at, r, r->arg2, r->help2);
	}
	assert_non_null(strstr(at, "Exit status:"));
}

/* The layout --help has always had, where it is irregular, line for line. */
static void test_help_layout(void **state)
{
	static const char *const lines[] = {
		"\n  -k, --kernel FILE   boot FILE, a Linux x86-64 bzImage (e.g. /boot/vmlinuz-*),\n"
		"                      through the 64-bit boot protocol, on a PC with ACPI\n",
		"\n      --firmware FILE the PC BIOS image (default ",
		"\n  --demo              run the built-in first-VM program: every vCPU prints a\n",
		"\n      --rtc utc|localtime  what the guest's CMOS clock shows (default utc)\n",
		"\n  -d, --disk FILE[,ro][,cache=none|writeback][,serial=ID]\n"
		"                      a raw disk image as a virtio-blk disk: the first is\n",
		"\n      --net user[,hostfwd=RULE]...[,mac=MAC]\n"
		"                      user-mode networking (libslirp; needs no privileges):\n",
		"\n      --user NAME|UID   then also switch to this user, with its groups (needs\n"
		"                      hvrun started as root)\n",
		"\n      --group NAME|GID  and to this group (with only --group: no\n",
		"\n\nDiagnostics:\n  --check             check this host",
		"\n      --version       show the version\n\nThe guest's serial port",
	};
	static char buf[16384];
	size_t i;

	(void)state;
	help_text(buf, sizeof(buf));
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (!strstr(buf, lines[i]))
			fail_msg("--help lacks:%s", lines[i]);
	}
}

/* getopt knows every row by its long name and its letter, with a value exactly when it takes one. */
static void test_every_row_parses(void **state)
{
	struct hv_options o;
	char err[512], opt[64], want[96];
	size_t i;
	int pass;

	(void)state;
	for (i = 0; options_table[i].name; i++) {
		const struct hv_option *r = &options_table[i];

		for (pass = 0; pass < 2; pass++) {
			if (pass == 0)
				snprintf(opt, sizeof(opt), "--%s", r->name);
			else if (r->short_name)
				snprintf(opt, sizeof(opt), "-%c", r->short_name);
			else
				break;
			if (r->arg) {
				/* the value missing: getopt says so, so the row asked for one */
				snprintf(want, sizeof(want), "%s needs a value", opt);
				ROW_CHECK(r, PARSE(&o, err, "--demo", opt) == -EINVAL);
				ROW_CHECK(r, strcmp(err, want) == 0);
			} else {
				if (PARSE(&o, err, opt, "--demo") == 0)
					options_free(&o);
				else
					ROW_CHECK(r, !strstr(err, "unknown option"));
			}
		}
	}
}

static void test_disks(void **state)
{
	char img[] = "/tmp/hvd-XXXXXX", err[512], arg[600];
	struct hv_options o;
	int fd = mkstemp(img);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(PARSE(&o, err, "-k", img, "-d", img), 0);
	assert_int_equal(o.nr_disks, 1);
	assert_string_equal(o.disks[0].path, img);
	assert_true(o.disks[0].cache_none);
	assert_false(o.disks[0].readonly);
	assert_string_equal(o.disks[0].serial, strrchr(img, '/') + 1);	/* the file's name */
	options_free(&o);
	snprintf(arg, sizeof(arg), "%s,ro,cache=writeback,serial=my-disk", img);
	assert_int_equal(PARSE(&o, err, "-k", img, "-d", img, "--disk", arg), 0);
	assert_int_equal(o.nr_disks, 2);
	assert_true(o.disks[1].readonly);
	assert_false(o.disks[1].cache_none);
	assert_string_equal(o.disks[1].serial, "my-disk");
	options_free(&o);

	snprintf(arg, sizeof(arg), "%s,cache=fast", img);
	assert_int_equal(PARSE(&o, err, "-k", img, "-d", arg), -EINVAL);
	assert_non_null(strstr(err, "unknown disk option 'cache=fast'"));
	snprintf(arg, sizeof(arg), "%s,serial=123456789012345678901", img);
	assert_int_equal(PARSE(&o, err, "-k", img, "-d", img, "-d", arg), -EINVAL);
	assert_non_null(strstr(err, "1 to 20 characters"));
	assert_int_equal(PARSE(&o, err, "-k", img, "-d", ",ro"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", img, "-d", "/nonexistent.raw"), -EINVAL);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(PARSE(&o, err, "-k", img, "-d", "/tmp"), -EINVAL);
	assert_non_null(strstr(err, "not a disk image"));
	assert_int_equal(PARSE(&o, err, "--demo", "-d", img), -EINVAL);
	assert_non_null(strstr(err, "-d is a PC device: not with --demo or --raw"));
	assert_int_equal(PARSE(&o, err, "-k", img, "-d", img, "-d", img, "-d", img, "-d", img, "-d", img,
			       "-d", img, "-d", img, "-d", img, "-d", img), -EINVAL);
	assert_non_null(strstr(err, "at most 8 disks"));
	unlink(img);
}

static void test_console_choice(void **state)
{
	char img[] = "/tmp/hvrun-test-k-XXXXXX", err[256];
	struct hv_options o;
	int fd = mkstemp(img);

	(void)state;
	close(fd);
	assert_int_equal(PARSE(&o, err, "-k", img), 0);
	assert_int_equal(options_console(&o), HV_CONSOLE_SERIAL);
	assert_int_equal(PARSE(&o, err, "-k", img, "-a", "root=/dev/vda console=ttyS0 console=hvc0"), 0);
	assert_int_equal(options_console(&o), HV_CONSOLE_VIRTIO);
	assert_int_equal(PARSE(&o, err, "-k", img, "-a", "console=hvc0 console=ttyS0"), 0);
	assert_int_equal(options_console(&o), HV_CONSOLE_SERIAL);
	assert_int_equal(PARSE(&o, err, "-k", img, "-a", "xconsole=hvc0"), 0);
	assert_int_equal(options_console(&o), HV_CONSOLE_SERIAL);
	assert_int_equal(PARSE(&o, err, "-k", img, "-a", "console=hvc0", "--no-virtio-console"), 0);
	assert_int_equal(options_console(&o), HV_CONSOLE_SERIAL);
	assert_int_equal(PARSE(&o, err, "-k", img, "--console", "virtio", "-a", "console=ttyS0"), 0);
	assert_int_equal(options_console(&o), HV_CONSOLE_VIRTIO);
	assert_int_equal(PARSE(&o, err, "-k", img, "--console", "virtio", "--no-virtio-console"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", img, "--console", "usb"), -EINVAL);
	assert_non_null(strstr(err, "give serial or virtio"));
	unlink(img);
}

/* A kernel file for the options that go with -k. */
static char *kernel_file(char *path)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	return path;
}

static void assert_mac(const uint8_t *mac, const char *want)
{
	char got[18];

	snprintf(got, sizeof(got), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	assert_string_equal(got, want);
}

static void test_tap_short_form(void **state)
{
	char k[] = "/tmp/hvrun-test-nic-XXXXXX", err[256];
	struct hv_options o;

	(void)state;
	kernel_file(k);
	/* The teaching card's form: -t tap2 -> ba:ad:00:ca:fe:02 */
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap2"), 0);
	assert_int_equal(o.nr_nics, 1);
	assert_int_equal(o.nics[0].kind, HV_NIC_TAP);
	assert_string_equal(o.nics[0].tap.ifname, "tap2");
	assert_false(o.nics[0].mac_set);
	assert_int_equal(o.nics[0].queues, 0);
	assert_mac(o.nics[0].mac, "ba:ad:00:ca:fe:02");
	/* the number is written in hex; past 255 or without one: QEMU's default by position */
	assert_int_equal(PARSE(&o, err, "-k", k, "--tap", "tap10", "-t", "tap255", "-t", "tap256",
			       "-t", "vm-net"), 0);
	assert_int_equal(o.nr_nics, 4);
	assert_mac(o.nics[0].mac, "ba:ad:00:ca:fe:0a");
	assert_mac(o.nics[1].mac, "ba:ad:00:ca:fe:ff");
	assert_mac(o.nics[2].mac, "52:54:00:12:34:58");
	assert_mac(o.nics[3].mac, "52:54:00:12:34:59");
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap007"), 0);
	assert_mac(o.nics[0].mac, "ba:ad:00:ca:fe:07");
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "a.b_c-15"), 0);
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap0123456789ab"), 0);	/* 15 characters */

	/* bad names: one line naming the option and the value */
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap0123456789abc"), -EINVAL);
	assert_string_equal(err, "-t tap0123456789abc: a TAP name is 1 to 15 characters of "
			    "A-Z a-z 0-9 _ . -");
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap 2"), -EINVAL);
	assert_non_null(strstr(err, "-t tap 2: a TAP name"));
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap/2"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", ""), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", ".."), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", k, "-t"), -EINVAL);
	assert_string_equal(err, "-t needs a value");
	/* a NIC is a virtio-pci device: with -k */
	assert_int_equal(PARSE(&o, err, "--demo", "-t", "tap2"), -EINVAL);
	assert_non_null(strstr(err, "-t is a PC device (virtio-pci): not with --demo or --raw"));
	unlink(k);
}

static void test_net_tap_long_form(void **state)
{
	char k[] = "/tmp/hvrun-test-nic-XXXXXX", err[256];
	struct hv_options o;

	(void)state;
	kernel_file(k);
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "tap=tap3,mac=02:00:00:00:00:01,queues=4"), 0);
	assert_int_equal(o.nics[0].kind, HV_NIC_TAP);
	assert_string_equal(o.nics[0].tap.ifname, "tap3");
	assert_true(o.nics[0].mac_set);
	assert_mac(o.nics[0].mac, "02:00:00:00:00:01");
	assert_int_equal(o.nics[0].queues, 4);
	assert_int_equal(PARSE(&o, err, "-k", k, "--net=tap=tap4"), 0);
	assert_mac(o.nics[0].mac, "ba:ad:00:ca:fe:04");
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "tap=tap4,queues=8"), 0);
	assert_int_equal(o.nics[0].queues, 8);

	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "tap=tap3,queues=9"), -EINVAL);
	assert_string_equal(err, "--net tap=tap3,queues=9: queues=9: queues= takes 1 to 8");
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "tap=tap3,queues=0"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "tap=tap3,queues=two"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "tap=tap3,speed=10"), -EINVAL);
	assert_string_equal(err, "--net tap=tap3,speed=10: speed=10: unknown option (a TAP takes "
			    "mac= and queues=)");
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "tap=tap3,hostfwd=tcp:1-:2"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "tap="), -EINVAL);
	assert_non_null(strstr(err, "a TAP name is 1 to 15"));
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "tap=tap3,"), -EINVAL);
	assert_non_null(strstr(err, "empty option"));
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "bridge=br0"), -EINVAL);
	assert_string_equal(err, "--net bridge=br0: give tap=NAME or user");
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "tap=tap3,mac=01:00:5e:00:00:01"), -EINVAL);
	assert_non_null(strstr(err, "a multicast address cannot be a NIC's MAC"));
	assert_int_equal(PARSE(&o, err, "-k", k, "--net",
			       "tap=tap3,mac=02:00:00:00:00:01,mac=02:00:00:00:00:02"), -EINVAL);
	assert_non_null(strstr(err, "mac= is given twice"));
	unlink(k);
}

static void test_net_user(void **state)
{
	char k[] = "/tmp/hvrun-test-nic-XXXXXX", err[256];
	struct hv_options o;
	struct hv_nic *n = &o.nics[0];

	(void)state;
	kernel_file(k);
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "user"), 0);
	assert_int_equal(n->kind, HV_NIC_USER);
	assert_int_equal(n->user.nr_fwd, 0);
	assert_int_equal(n->queues, 1);
	assert_mac(n->mac, "52:54:00:12:34:56");
	/* -redir tcp:5555::22 of old QEMU is hostfwd=tcp:5555-:22 */
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "user,hostfwd=tcp:5555-:22"), 0);
	assert_int_equal(n->user.nr_fwd, 1);
	assert_false(n->user.fwd[0].udp);
	assert_int_equal(n->user.fwd[0].host_addr, 0);
	assert_int_equal(n->user.fwd[0].host_port, 5555);
	assert_int_equal(n->user.fwd[0].guest_addr, 0);
	assert_int_equal(n->user.fwd[0].guest_port, 22);
	assert_int_equal(PARSE(&o, err, "-k", k, "--net",
			       "user,hostfwd=tcp:127.0.0.1:5555-10.0.2.15:22,hostfwd=udp::5353-:53,"
			       "hostfwd=::8080-10.0.2.20:80,mac=02:11:22:33:44:55"), 0);
	assert_int_equal(n->user.nr_fwd, 3);
	assert_true(n->user.fwd[0].host_addr == htonl(0x7f000001));
	assert_true(n->user.fwd[0].guest_addr == htonl(0x0a00020f));
	assert_true(n->user.fwd[1].udp);
	assert_int_equal(n->user.fwd[1].host_port, 5353);
	assert_int_equal(n->user.fwd[1].guest_port, 53);
	assert_false(n->user.fwd[2].udp);
	assert_true(n->user.fwd[2].guest_addr == htonl(0x0a000214));
	assert_mac(n->mac, "02:11:22:33:44:55");
	/* a TAP and user-mode networking side by side: MACs by position */
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap2", "--net", "user", "--net", "user"), 0);
	assert_mac(o.nics[1].mac, "52:54:00:12:34:57");
	assert_mac(o.nics[2].mac, "52:54:00:12:34:58");

	/* bad rules */
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "user,hostfwd=tcp:5555-:0"), -EINVAL);
	assert_string_equal(err, "--net user,hostfwd=tcp:5555-:0: hostfwd=tcp:5555-:0: the guest "
			    "port must be 1 to 65535");
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "user,hostfwd=tcp:65536-:22"), -EINVAL);
	assert_non_null(strstr(err, "the host port must be 1 to 65535"));
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "user,hostfwd=tcp:5555:22"), -EINVAL);
	assert_non_null(strstr(err, "give [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT"));
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "user,hostfwd=tcp:5555-10.0.3.15:22"),
			 -EINVAL);
	assert_non_null(strstr(err, "must be in the guest network 10.0.2.0/24"));
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "user,hostfwd=tcp:localhost:5555-:22"),
			 -EINVAL);
	assert_non_null(strstr(err, "the host address is not an IPv4 address"));
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "user,hostfwd=tcp:5555-:ssh"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "user,hostfwd=sctp:5555-:22"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "user,hostfwd="), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", k, "--net",
			       "user,hostfwd=tcp:5555-:22,hostfwd=tcp:5555-:23"), -EINVAL);
	assert_non_null(strstr(err, "the same host port"));
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "user,hostfwd=tcp:5555-:22", "--net",
			       "user,hostfwd=tcp:127.0.0.1:5555-:22"), -EINVAL);
	assert_non_null(strstr(err, "host port 5555 is forwarded by NICs 1 and 2"));
	/* tcp and udp on one port are two different sockets */
	assert_int_equal(PARSE(&o, err, "-k", k, "--net",
			       "user,hostfwd=tcp:5555-:22,hostfwd=udp:5555-:22"), 0);
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "user,queues=2"), -EINVAL);
	assert_non_null(strstr(err, "unknown option (user takes hostfwd= and mac=)"));
	unlink(k);
}

static void test_net_user_forward_limit(void **state)
{
	char k[] = "/tmp/hvrun-test-nic-XXXXXX", err[1024], arg[1024] = "user";
	struct hv_options o;
	unsigned int i;

	(void)state;
	kernel_file(k);
	for (i = 0; i < SLIRP_MAX_HOSTFWD; i++)
		snprintf(arg + strlen(arg), sizeof(arg) - strlen(arg), ",hostfwd=tcp:%u-:22", 6000 + i);
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", arg), 0);
	assert_int_equal(o.nics[0].user.nr_fwd, SLIRP_MAX_HOSTFWD);
	strcat(arg, ",hostfwd=tcp:7000-:22");
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", arg), -EINVAL);
	assert_non_null(strstr(err, "at most 16"));
	unlink(k);
}

static void test_mac_option(void **state)
{
	char k[] = "/tmp/hvrun-test-nic-XXXXXX", err[256];
	struct hv_options o;
	uint8_t mac[6];

	(void)state;
	kernel_file(k);
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap2", "--mac", "BA:AD:00:CA:FE:20",
			       "--net", "user", "--mac", "02:00:00:00:00:09"), 0);
	assert_true(o.nics[0].mac_set);
	assert_mac(o.nics[0].mac, "ba:ad:00:ca:fe:20");
	assert_mac(o.nics[1].mac, "02:00:00:00:00:09");

	assert_int_equal(PARSE(&o, err, "-k", k, "--mac", "02:00:00:00:00:09", "-t", "tap2"), -EINVAL);
	assert_string_equal(err, "--mac 02:00:00:00:00:09: give it after the NIC it is for "
			    "(-t NAME or --net ...)");
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap2", "--mac", "01:00:5e:00:00:01"), -EINVAL);
	assert_string_equal(err, "--mac 01:00:5e:00:00:01: a multicast address cannot be a NIC's MAC");
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap2", "--mac", "00:00:00:00:00:00"), -EINVAL);
	assert_string_equal(err, "--mac 00:00:00:00:00:00: the all-zero address cannot be a NIC's MAC");
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap2", "--mac", "ba:ad:00:ca:fe"), -EINVAL);
	assert_string_equal(err, "--mac ba:ad:00:ca:fe: not a MAC address (give six hex bytes, e.g. "
			    "ba:ad:00:ca:fe:02)");
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap2", "--mac", "ba:ad:00:ca:fe:0g"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap2", "--mac", "ba:ad:00:ca:fe:02:"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap2", "--mac", "ba-ad-00-ca-fe-02"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap2", "--mac", "ba:ad:00:ca:fe:22",
			       "--mac", "ba:ad:00:ca:fe:23"), -EINVAL);
	assert_non_null(strstr(err, "already has a MAC"));
	assert_int_equal(PARSE(&o, err, "-k", k, "--net", "tap=tap2,mac=ba:ad:00:ca:fe:22",
			       "--mac", "ba:ad:00:ca:fe:23"), -EINVAL);
	assert_non_null(strstr(err, "already has a MAC"));

	/* two NICs with one MAC: by default (tap2 and br2) or given */
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap2", "-t", "br2"), -EINVAL);
	assert_string_equal(err, "NICs 1 (tap2) and 2 (br2) have the same MAC ba:ad:00:ca:fe:02: "
			    "give one of them --mac");
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap2", "-t", "br2", "--mac",
			       "ba:ad:00:ca:fe:12"), 0);
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap2", "--net", "user", "--mac",
			       "ba:ad:00:ca:fe:02"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap2", "-t", "tap2"), -EINVAL);
	assert_string_equal(err, "-t tap2: the TAP is given twice (NICs 1 and 2)");
	assert_int_equal(PARSE(&o, err, "-k", k, "-t", "tap1", "-t", "tap2", "-t", "tap3", "-t", "tap4",
			       "-t", "tap5"), -EINVAL);
	assert_string_equal(err, "-t tap5: at most 4 NICs");

	/* the function itself */
	assert_int_equal(options_parse_mac("52:54:00:12:34:56", mac, err, sizeof(err)), 0);
	assert_mac(mac, "52:54:00:12:34:56");
	assert_int_equal(options_parse_mac("ff:ff:ff:ff:ff:ff", mac, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "ff:ff:ff:ff:ff:ff: a multicast address cannot be a NIC's MAC");
	assert_int_equal(options_parse_mac("", mac, err, sizeof(err)), -EINVAL);
	unlink(k);
}

static void test_nic_function(void **state)
{
	struct hv_nic n;
	char err[256];

	(void)state;
	assert_int_equal(options_parse_nic("tap2", true, 0, &n, err, sizeof(err)), 0);
	assert_mac(n.mac, "ba:ad:00:ca:fe:02");
	assert_int_equal(options_parse_nic("tapx", true, 3, &n, err, sizeof(err)), 0);
	assert_mac(n.mac, "52:54:00:12:34:59");
	assert_int_equal(options_parse_nic("user", false, 1, &n, err, sizeof(err)), 0);
	assert_mac(n.mac, "52:54:00:12:34:57");
	/* "user" is a TAP's name in the short form */
	assert_int_equal(options_parse_nic("user", true, 0, &n, err, sizeof(err)), 0);
	assert_int_equal(n.kind, HV_NIC_TAP);
	assert_int_equal(options_parse_nic("tap=tap2", true, 0, &n, err, sizeof(err)), -EINVAL);
}

static void test_user_and_group(void **state)
{
	char err[256];
	struct hv_options o;

	(void)state;
	assert_int_equal(PARSE(&o, err, "--demo", "--user", "root"), 0);
	assert_string_equal(o.run_user, "root");
	assert_int_equal(PARSE(&o, err, "--demo", "--user", "0", "--group", "0"), 0);
	assert_int_equal(PARSE(&o, err, "--demo", "--group", "root"), 0);
	assert_string_equal(o.run_group, "root");
	assert_int_equal(PARSE(&o, err, "--demo", "--user", "no-such-user-hvrun"), -EINVAL);
	assert_string_equal(err, "--user no-such-user-hvrun: no such user");
	assert_int_equal(PARSE(&o, err, "--demo", "--user", "root", "--group", "no-such-group-hvrun"),
			 -EINVAL);
	assert_string_equal(err, "--group no-such-group-hvrun: no such group");
	assert_int_equal(PARSE(&o, err, "--demo", "--user", "99999999999"), -EINVAL);
	assert_non_null(strstr(err, "not a user name or id"));
	/* a uid with no password entry: its group must be given */
	assert_int_equal(PARSE(&o, err, "--demo", "--user", "4000123"), -EINVAL);
	assert_non_null(strstr(err, "give --group too"));
	assert_int_equal(PARSE(&o, err, "--demo", "--user", "4000123", "--group", "4000123"), 0);
	assert_int_equal(PARSE(&o, err, "--demo", "--user"), -EINVAL);
	assert_string_equal(err, "--user needs a value");
	privs_reset();
}

static void test_control_options(void **state)
{
	char err[256];
	struct hv_options o;
	uint32_t mask;

	(void)state;
	assert_int_equal(PARSE(&o, err, "--demo", "--name", "vm0-debian", "--control", "/tmp/x.sock",
			       "--daemonize", "--pidfile", "/tmp/x.pid", "--console-log", "/tmp/x.log",
			       "--stats"), 0);
	assert_string_equal(o.name, "vm0-debian");
	assert_string_equal(o.control_path, "/tmp/x.sock");
	assert_true(o.daemonize);
	assert_string_equal(o.pidfile, "/tmp/x.pid");
	assert_string_equal(o.console_log, "/tmp/x.log");
	assert_true(o.stats);
	assert_int_equal(PARSE(&o, err, "--demo", "--name", "../etc"), -EINVAL);
	assert_non_null(strstr(err, "--name ../etc: use 1 to 64 letters"));
	assert_int_equal(PARSE(&o, err, "--demo", "--name", ".hidden"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--demo", "--no-balloon"), -EINVAL);
	assert_string_equal(err, "--no-balloon is a PC device: not with --demo or --raw");

	assert_int_equal(options_parse_trace("virtio,irq", &mask, err, sizeof(err)), 0);
	assert_int_equal(mask, HV_TRACE_VIRTIO | HV_TRACE_IRQ);
	assert_int_equal(options_parse_trace("all", &mask, err, sizeof(err)), 0);
	assert_int_equal(mask, HV_TRACE_ALL);
	assert_int_equal(options_parse_trace("exits,pio,mmio,pci,boot", &mask, err, sizeof(err)), 0);
	assert_int_equal(mask, HV_TRACE_EXITS | HV_TRACE_PIO | HV_TRACE_MMIO | HV_TRACE_PCI |
			 HV_TRACE_BOOT);
	assert_int_equal(options_parse_trace("virtio,disk", &mask, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown kind 'disk'"));
	assert_int_equal(options_parse_trace(",", &mask, err, sizeof(err)), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--demo", "--trace", "exits"), 0);
	assert_int_equal(o.trace, HV_TRACE_EXITS);
}

/* Firmware boot: no -k with a disk or --cdrom; --boot and --firmware only then. */
static void test_firmware_boot(void **state)
{
	char img[] = "/tmp/hvf-XXXXXX", err[512];
	struct hv_options o;
	int fd = mkstemp(img);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(PARSE(&o, err, "-m", "512", "-d", img), 0);
	assert_true(o.firmware_boot);
	assert_true(options_pc(&o));
	assert_string_equal(options_boot_order(&o, 1), "cd");
	options_free(&o);
	/* --cdrom: the CD first on the first boot only (QEMU's -boot once=d). */
	assert_int_equal(PARSE(&o, err, "-d", img, "--cdrom", img), 0);
	assert_string_equal(o.cdrom, img);
	assert_string_equal(options_boot_order(&o, 1), "dc");
	assert_string_equal(options_boot_order(&o, 2), "cd");
	options_free(&o);
	assert_int_equal(PARSE(&o, err, "--cdrom", img), 0);	/* a live CD, no disk */
	assert_true(o.firmware_boot);
	options_free(&o);
	assert_int_equal(PARSE(&o, err, "-d", img, "--cdrom", img, "--boot", "order=cd"), 0);
	assert_string_equal(options_boot_order(&o, 1), "cd");
	assert_string_equal(options_boot_order(&o, 3), "cd");
	options_free(&o);
	assert_int_equal(PARSE(&o, err, "-d", img, "--boot", "order=c,once=d,menu=on"), 0);
	assert_string_equal(options_boot_order(&o, 1), "d");
	assert_string_equal(options_boot_order(&o, 2), "c");
	assert_true(o.boot_menu);
	options_free(&o);
	assert_int_equal(PARSE(&o, err, "-d", img, "--boot", "dc"), 0);	/* QEMU's old form */
	assert_string_equal(options_boot_order(&o, 1), "dc");
	options_free(&o);
	assert_int_equal(PARSE(&o, err, "-d", img, "--firmware", img), 0);
	assert_string_equal(o.firmware, img);
	options_free(&o);
	/* -k with a CD-ROM is fine (Linux sees /dev/sr0); the firmware options are not. */
	assert_int_equal(PARSE(&o, err, "-k", img, "--cdrom", img), 0);
	assert_false(o.firmware_boot);
	options_free(&o);

	assert_int_equal(PARSE(&o, err, "-k", img, "--boot", "order=c"), -EINVAL);
	assert_non_null(strstr(err, "--boot is for a firmware boot"));
	assert_int_equal(PARSE(&o, err, "-k", img, "--firmware", img), -EINVAL);
	assert_non_null(strstr(err, "--firmware is for a firmware boot"));
	assert_int_equal(PARSE(&o, err, "-d", img, "--boot", "order=n"), -EINVAL);
	assert_non_null(strstr(err, "network boot is not supported"));
	assert_int_equal(PARSE(&o, err, "-d", img, "--boot", "order=cc"), -EINVAL);
	assert_non_null(strstr(err, "given twice"));
	assert_int_equal(PARSE(&o, err, "-d", img, "--boot", "order=cdx"), -EINVAL);
	assert_non_null(strstr(err, "1 or 2 of the letters"));
	assert_int_equal(PARSE(&o, err, "-d", img, "--boot", "order="), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-d", img, "--boot", "strict=on"), -EINVAL);
	assert_non_null(strstr(err, "unknown setting 'strict=on'"));
	assert_int_equal(PARSE(&o, err, "-d", img, "--cdrom", "/nonexistent.iso"), -EINVAL);
	assert_non_null(strstr(err, "/nonexistent.iso"));
	assert_int_equal(PARSE(&o, err, "--cdrom", img, "--cdrom", img), -EINVAL);
	assert_non_null(strstr(err, "one CD-ROM only"));
	assert_int_equal(PARSE(&o, err, "--demo", "--cdrom", img), -EINVAL);
	assert_non_null(strstr(err, "not with --demo or --raw"));
	assert_int_equal(PARSE(&o, err, "-m", "512"), -EINVAL);
	assert_non_null(strstr(err, "nothing to run"));
	unlink(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_sizes),
		cmocka_unit_test(test_defaults_and_demo),
		cmocka_unit_test(test_memory_floor),
		cmocka_unit_test(test_cpus),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_raw_file),
		cmocka_unit_test(test_help_mentions_every_option),
		cmocka_unit_test(test_table_rows_are_whole),
		cmocka_unit_test(test_table_names_are_unique),
		cmocka_unit_test(test_help_lists_table_in_order),
		cmocka_unit_test(test_help_layout),
		cmocka_unit_test(test_every_row_parses),
		cmocka_unit_test(test_disks),
		cmocka_unit_test(test_console_choice),
		cmocka_unit_test(test_tap_short_form),
		cmocka_unit_test(test_net_tap_long_form),
		cmocka_unit_test(test_net_user),
		cmocka_unit_test(test_net_user_forward_limit),
		cmocka_unit_test(test_mac_option),
		cmocka_unit_test(test_nic_function),
		cmocka_unit_test(test_user_and_group),
		cmocka_unit_test(test_control_options),
		cmocka_unit_test(test_firmware_boot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
