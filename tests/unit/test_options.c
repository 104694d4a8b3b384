/* test_options.c: hvrun's command line: sizes, counts, files, and the one-line errors. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv/options.h"

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
		"--no-virtio-console", "--no-rng" };
	char buf[16384] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	size_t i;

	(void)state;
	options_print_help(f);
	fclose(f);
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		assert_non_null(strstr(buf, words[i]));
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
	assert_non_null(strstr(err, "-d goes with -k"));
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
		cmocka_unit_test(test_disks),
		cmocka_unit_test(test_console_choice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
