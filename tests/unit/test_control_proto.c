/* test_control_proto.c: the protocol pieces hvrun and hvctl share (hv/control_proto.c): socket directories, connecting, JSON lines. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hv/control.h"
#include "hv/control_proto.h"

static void test_dirs(void **state)
{
	char buf[256], want[64];

	(void)state;
	unsetenv("HVRUN_CONTROL_DIR");
	assert_int_equal(control_dir(CONTROL_DIR_ENV, buf, sizeof(buf)), -ENOENT);
	setenv("HVRUN_CONTROL_DIR", "", 1);
	assert_int_equal(control_dir(CONTROL_DIR_ENV, buf, sizeof(buf)), -ENOENT);
	setenv("HVRUN_CONTROL_DIR", "/some/where", 1);
	assert_int_equal(control_dir(CONTROL_DIR_ENV, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/some/where");
	assert_int_equal(control_dir(CONTROL_DIR_ENV, buf, 5), -ENAMETOOLONG);
	/* hvrun's own choice: the variable wins. */
	assert_int_equal(control_default_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/some/where");
	unsetenv("HVRUN_CONTROL_DIR");

	setenv("XDG_RUNTIME_DIR", "relative/dir", 1);
	assert_int_equal(control_dir(CONTROL_DIR_XDG, buf, sizeof(buf)), -ENOENT);
	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	assert_int_equal(control_dir(CONTROL_DIR_XDG, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/user/1000/hvrun");

	assert_int_equal(control_dir(CONTROL_DIR_RUN, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/hvrun");
	snprintf(want, sizeof(want), "/tmp/hvrun-%u", (unsigned int)geteuid());
	assert_int_equal(control_dir(CONTROL_DIR_TMP, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	/* Root uses /run/hvrun, anyone else the runtime directory. */
	assert_int_equal(control_default_dir(buf, sizeof(buf)), 0);
	assert_string_equal(buf, geteuid() == 0 ? "/run/hvrun" : "/run/user/1000/hvrun");
	unsetenv("XDG_RUNTIME_DIR");
}

static void test_connect(void **state)
{
	char dir[] = "/tmp/hvrun-proto-XXXXXX", path[128], longpath[200];
	struct sockaddr_un sa;
	int lfd, fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm.sock", dir);
	assert_int_equal(control_connect(path), -ENOENT);
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(control_sockaddr(longpath, &sa), -ENAMETOOLONG);
	assert_int_equal(control_connect(longpath), -ENAMETOOLONG);

	/* Bound but not listening: what a killed hvrun leaves. */
	assert_int_equal(control_sockaddr(path, &sa), 0);
	assert_int_equal(sa.sun_family, AF_UNIX);
	assert_string_equal(sa.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(control_connect(path), -ECONNREFUSED);
	assert_int_equal(listen(lfd, 1), 0);
	fd = control_connect(path);
	assert_true(fd >= 0);
	close(fd);
	close(lfd);
	unlink(path);
	rmdir(dir);
}

static void test_json_line(void **state)
{
	json_t *v = json_pack("{s:s, s:i}", "cmd", "balloon", "size", 256);
	char *line;

	(void)state;
	line = control_json_line(v);
	assert_non_null(line);
	assert_string_equal(line, "{\"cmd\":\"balloon\",\"size\":256}\n");
	free(line);
	json_decref(v);
	assert_null(control_json_line(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirs),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_json_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
