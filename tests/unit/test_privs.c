/* test_privs.c: the privilege drop, in forked children (it cannot be undone), and the TAP lines of --check. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hv/base/privs.h"

/* A capability mask of this thread from /proc (UINT64_MAX: unreadable). */
static unsigned long long caps(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	unsigned long long v = ~0ULL;
	FILE *f = fopen("/proc/thread-self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			v = strtoull(line + klen + 1, NULL, 16);
	if (f)
		fclose(f);
	return v;
}

/*
 * Runs fn in a child and returns its exit status: the drop is for good, so
 * the test process keeps its own privileges.  fn returns 0 or the number of
 * the check that failed (and prints why).
 */
static int in_child(int (*fn)(void *), void *arg)
{
	int status = -1;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#define CHECK(n, cond) do {							\
	if (!(cond)) {								\
		fprintf(stderr, "check %d failed: %s (err: %s)\n", n, #cond, err);	\
		return n;							\
	}									\
} while (0)

static int drop_caps_only(void *arg)
{
	char err[256] = "";
	bool root = geteuid() == 0;

	(void)arg;
	privs_reset();
	CHECK(1, privs_drop(err, sizeof(err)) == 0);
	CHECK(2, caps("CapEff") == 0);
	CHECK(3, caps("CapPrm") == 0);
	CHECK(4, caps("CapInh") == 0);
	CHECK(5, caps("CapAmb") == 0);
	CHECK(6, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	/* with CAP_SETPCAP the bounding set goes too */
	CHECK(7, !root || caps("CapBnd") == 0);
	/* still the same user: dropping capabilities alone does not switch ids */
	CHECK(8, getuid() == (root ? 0 : getuid()));
	return 0;
}

static void test_drop_capabilities(void **state)
{
	(void)state;
	assert_int_equal(in_child(drop_caps_only, NULL), 0);
}

static int drop_to_nobody(void *arg)
{
	const char *secret = arg;
	char err[256] = "";

	CHECK(1, privs_resolve("nobody", NULL, err, sizeof(err)) == 0);
	CHECK(2, privs_drop(err, sizeof(err)) == 0);
	CHECK(3, getuid() == 65534 && geteuid() == 65534);
	CHECK(4, caps("CapEff") == 0 && caps("CapPrm") == 0);
	CHECK(5, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	/* a root-only file is closed to us now */
	CHECK(6, open(secret, O_RDONLY) < 0 && errno == EACCES);
	/* and there is no way back */
	CHECK(7, syscall(SYS_setuid, 0) != 0);
	CHECK(8, getgid() != 0);
	return 0;
}

static void test_drop_to_nobody(void **state)
{
	char secret[] = "/tmp/hvrun-test-secret-XXXXXX";
	int fd;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	fd = mkstemp(secret);		/* mode 0600, owner root */
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "root only\n", 10), 10);
	close(fd);
	assert_int_equal(in_child(drop_to_nobody, secret), 0);
	unlink(secret);
}

/* Not root any more, but --user names another user: a clear refusal. */
static int user_without_root(void *arg)
{
	char err[256] = "";

	(void)arg;
	CHECK(1, privs_resolve("root", NULL, err, sizeof(err)) == 0);
	CHECK(2, setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0);
	CHECK(3, privs_drop(err, sizeof(err)) == -EPERM);
	CHECK(4, strcmp(err, "--user needs hvrun started as root") == 0);
	return 0;
}

static void test_user_needs_root(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(in_child(user_without_root, NULL), 0);
}

struct early_thread {
	bool drop_itself;
	sem_t ready, done;
	int ret;
	char err[256];
};

static void *early_thread_main(void *arg)
{
	struct early_thread *t = arg;

	prctl(PR_SET_NAME, "early", 0, 0, 0);
	t->ret = t->drop_itself ? privs_drop_thread(t->err, sizeof(t->err)) : 0;
	sem_post(&t->ready);
	while (sem_wait(&t->done) != 0)
		;
	return NULL;
}

/* A thread started before the drop: refused unless it dropped for itself. */
static int thread_before_drop(void *arg)
{
	struct early_thread t = { .drop_itself = arg != NULL };
	char err[256] = "";
	pthread_t th;
	int ret;

	CHECK(1, privs_resolve("nobody", NULL, err, sizeof(err)) == 0);
	sem_init(&t.ready, 0, 0);
	sem_init(&t.done, 0, 0);
	CHECK(2, pthread_create(&th, NULL, early_thread_main, &t) == 0);
	sem_wait(&t.ready);
	CHECK(3, t.ret == 0);
	ret = privs_drop(err, sizeof(err));
	sem_post(&t.done);
	pthread_join(th, NULL);
	if (t.drop_itself) {
		CHECK(4, ret == 0);
		CHECK(5, getuid() == 65534);
	} else {
		CHECK(6, ret == -EPERM);
		CHECK(7, strstr(err, "thread early") && strstr(err, "still holds capabilities"));
	}
	return 0;
}

static void test_threads_started_before(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(in_child(thread_before_drop, NULL), 0);
	assert_int_equal(in_child(thread_before_drop, (void *)1), 0);
}

static void test_resolve(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(privs_resolve("no-such-user-hvrun", NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--user no-such-user-hvrun: no such user");
	assert_int_equal(privs_resolve(NULL, "no-such-group-hvrun", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--group no-such-group-hvrun: no such group");
	assert_int_equal(privs_resolve("1x", NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(privs_resolve("4294967295", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a user name or id"));
	assert_int_equal(privs_resolve("nobody", "nogroup", err, sizeof(err)), 0);
	assert_int_equal(privs_resolve("65534", NULL, err, sizeof(err)), 0);
	assert_int_equal(privs_resolve(NULL, "0", err, sizeof(err)), 0);
	assert_int_equal(privs_resolve(NULL, NULL, err, sizeof(err)), 0);
	privs_reset();
}

static void test_check_tap_lines(void **state)
{
	char buf[8192] = "", *line;
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	(void)state;
	privs_check_tap(f);
	fclose(f);
	assert_non_null(strstr(buf, "/dev/net/tun"));
	assert_non_null(strstr(buf, "CAP_NET_ADMIN"));
	/* every line is an item in --check's form, none a failure */
	for (line = buf; *line; line = strchr(line, '\n') + 1) {
		assert_true(!strncmp(line, "[ ok ] ", 7) || !strncmp(line, "[info] ", 7) ||
			    !strncmp(line, "[warn] ", 7));
		assert_non_null(strchr(line, '\n'));
	}
	if (geteuid() == 0)
		assert_non_null(strstr(buf, "[ ok ] CAP_NET_ADMIN held: hvrun can create TAP devices"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_capabilities),
		cmocka_unit_test(test_drop_to_nobody),
		cmocka_unit_test(test_user_needs_root),
		cmocka_unit_test(test_threads_started_before),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_check_tap_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
