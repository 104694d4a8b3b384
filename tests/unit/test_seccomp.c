/* test_seccomp.c: each thread kind's filter, loaded in a forked child: allowed calls work, a forbidden one is stopped (kill) or counted (log). */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hv/base/seccomp.h"

struct child {
	enum seccomp_policy policy;
	enum seccomp_thread_kind kinds[2];	/* loaded in this order (a second: stacked) */
	unsigned int nr_kinds;
	struct seccomp_thread_args args;
	int (*body)(const struct child *c);	/* after the filters: 0 or the failed check */
	int fd;					/* for bodies that need one (opened before) */
	/* Results. */
	int status;				/* exit status, or 128 + signal */
	char out[1024];				/* the child's stderr */
};

/*
 * Runs c->body in a forked child under the filters (they cannot be
 * undone), and collects its exit status and what it wrote on stderr.
 * The child leaves with _exit(): no atexit handler (nor LeakSanitizer)
 * runs under a filter it was not written for.
 */
static void run_child(struct child *c)
{
	int p[2], st = 0;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		unsigned int i;

		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		prctl(PR_SET_NAME, "test-thread", 0, 0, 0);
		if (seccomp_init_policy(c->policy, err, sizeof(err)))
			_exit(100);
		for (i = 0; i < c->nr_kinds; i++)
			if (seccomp_enter(c->kinds[i], &c->args))
				_exit(101);
		_exit(c->body(c));
	}
	close(p[1]);
	while (got < sizeof(c->out) - 1 && (n = read(p[0], c->out + got, sizeof(c->out) - 1 - got)) > 0)
		got += (size_t)n;
	c->out[got] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* What every thread does: memory, time, a message, a futex-free sleep. */
static int body_allowed(const struct child *c)
{
	struct timespec ts = { 0, 1000 };
	char *big = malloc(8 << 20);	/* an mmap */

	(void)c;
	if (!big)
		return 1;
	memset(big, 1, 8 << 20);
	free(big);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) || nanosleep(&(struct timespec){ 0, 1000 }, NULL))
		return 2;
	if (getpid() <= 0 || syscall(SYS_gettid) <= 0)
		return 3;
	if (write(STDERR_FILENO, "alive\n", 6) != 6)
		return 4;
	return 0;
}

/* A call no hvrun thread makes. */
static int body_socket_unix(const struct child *c)
{
	(void)c;
	return socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 50;
}

static int body_execve(const struct child *c)
{
	(void)c;
	execl("/bin/true", "true", (char *)NULL);
	return 51;
}

static int body_openat(const struct child *c)
{
	(void)c;
	return open("/etc/hostname", O_RDONLY) >= 0 ? 0 : 52;
}

/* KVM_RUN on a descriptor that is not the thread's vCPU: refused by the filter. */
static int body_kvm_run_other_fd(const struct child *c)
{
	ioctl(c->fd + 1, KVM_RUN, 0);
	return 53;
}

/* KVM_RUN on its own vCPU fd passes the filter (here: /dev/null, so the kernel says ENOTTY). */
static int body_kvm_run_own_fd(const struct child *c)
{
	return ioctl(c->fd, KVM_RUN, 0) < 0 && errno == ENOTTY ? 0 : 54;
}

/* --seccomp log: the forbidden call is made, counted, and named once. */
static int body_log_counts(const struct child *c)
{
	enum seccomp_thread_kind k = c->kinds[c->nr_kinds - 1];
	int a = socket(AF_UNIX, SOCK_STREAM, 0), b = socket(AF_UNIX, SOCK_DGRAM, 0);

	if (a < 0 || b < 0)
		return 60;	/* not made */
	if (seccomp_violations(k, SYS_socket) != 2)
		return 61;
	if (seccomp_violations(k, SYS_getpid) != 0 || getpid() <= 0)
		return 62;
	return 0;
}

static void expect_allowed(enum seccomp_thread_kind kind)
{
	struct child c = { .policy = SECCOMP_POLICY_KILL, .kinds = { kind }, .nr_kinds = 1,
			   .args = { -1, -1 }, .body = body_allowed };

	run_child(&c);
	if (c.status != 0)
		fprintf(stderr, "kind %s: status %d, stderr: %s\n", seccomp_kind_name(kind), c.status,
			c.out);
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "alive"));
}

static void expect_killed(struct child *c, const char *call)
{
	char want[96];

	run_child(c);
	snprintf(want, sizeof(want), "thread test-thread (%s) made a forbidden system call: %s (",
		 seccomp_kind_name(c->kinds[c->nr_kinds - 1]), call);
	if (c->status != SECCOMP_EXIT_STATUS || !strstr(c->out, want))
		fprintf(stderr, "status %d (want %d), stderr: '%s', want '%s'\n", c->status,
			SECCOMP_EXIT_STATUS, c->out, want);
	assert_int_equal(c->status, SECCOMP_EXIT_STATUS);
	assert_non_null(strstr(c->out, want));
}

static void test_each_kind_allows_the_basics(void **state)
{
	(void)state;
	expect_allowed(SECCOMP_MAIN);
	expect_allowed(SECCOMP_VCPU);
	expect_allowed(SECCOMP_IO);
	expect_allowed(SECCOMP_CONTROL);
	expect_allowed(SECCOMP_SLIRP);
	expect_allowed(SECCOMP_OUTPUT);
}

static void test_kill_names_thread_and_call(void **state)
{
	static const enum seccomp_thread_kind kinds[] = {
		SECCOMP_MAIN, SECCOMP_VCPU, SECCOMP_IO, SECCOMP_CONTROL, SECCOMP_OUTPUT,
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct child c = { .policy = SECCOMP_POLICY_KILL, .kinds = { kinds[i] },
				   .nr_kinds = 1, .args = { -1, -1 }, .body = body_socket_unix };

		expect_killed(&c, "socket");
	}
}

/* The user-mode networking thread makes sockets, but only Internet ones, and never execs. */
static void test_slirp(void **state)
{
	struct child c = { .policy = SECCOMP_POLICY_KILL, .kinds = { SECCOMP_SLIRP }, .nr_kinds = 1,
			   .args = { -1, -1 }, .body = body_socket_unix };

	(void)state;
	expect_killed(&c, "socket");
	c.body = body_execve;
	expect_killed(&c, "execve");
}

/* Stacked: what MAIN allows (opening no file, but many ioctls) the vCPU's own filter narrows. */
static void test_stacked_and_pinned(void **state)
{
	struct child c = { .policy = SECCOMP_POLICY_KILL, .kinds = { SECCOMP_MAIN, SECCOMP_VCPU },
			   .nr_kinds = 2, .body = body_kvm_run_other_fd };

	(void)state;
	c.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(c.fd >= 0);
	c.args = (struct seccomp_thread_args){ .vm_fd = c.fd, .vcpu_fd = c.fd };
	expect_killed(&c, "ioctl");
	assert_non_null(strstr(c.out, "request 0xae80"));	/* KVM_RUN, named by its number */
	c.body = body_kvm_run_own_fd;
	run_child(&c);
	assert_int_equal(c.status, 0);
	c.body = body_openat;
	expect_killed(&c, "openat");
	assert_non_null(strstr(c.out, "openat (257) of \"/etc/hostname\""));
	/* MAIN alone allows no openat, no execve either. */
	c.nr_kinds = 1;
	c.kinds[0] = SECCOMP_MAIN;
	expect_killed(&c, "openat");
	c.body = body_execve;
	expect_killed(&c, "execve");
	close(c.fd);
}

static void test_log_counts_and_names_once(void **state)
{
	struct child c = { .policy = SECCOMP_POLICY_LOG, .kinds = { SECCOMP_MAIN, SECCOMP_IO },
			   .nr_kinds = 2, .args = { -1, -1 }, .body = body_log_counts };
	const char *first;

	(void)state;
	run_child(&c);
	if (c.status)
		fprintf(stderr, "status %d, stderr: %s\n", c.status, c.out);
	assert_int_equal(c.status, 0);
	first = strstr(c.out, "thread test-thread (io) made a forbidden system call: socket (");
	assert_non_null(first);
	assert_non_null(strstr(first, "allowed (--seccomp log)"));
	/* The second call: counted, not printed again. */
	assert_null(strstr(strchr(first, '\n'), "socket ("));
	/* The same thread kind on its own. */
	c.nr_kinds = 1;
	c.kinds[0] = SECCOMP_CONTROL;
	run_child(&c);
	assert_int_equal(c.status, 0);
}

static void test_policy_names(void **state)
{
	enum seccomp_policy p;

	(void)state;
	assert_int_equal(seccomp_parse_policy("kill", &p), 0);
	assert_int_equal(p, SECCOMP_POLICY_KILL);
	assert_int_equal(seccomp_parse_policy("log", &p), 0);
	assert_int_equal(p, SECCOMP_POLICY_LOG);
	assert_int_equal(seccomp_parse_policy("off", &p), 0);
	assert_int_equal(p, SECCOMP_POLICY_OFF);
	assert_int_equal(seccomp_parse_policy("trap", &p), -EINVAL);
	assert_string_equal(seccomp_policy_name(SECCOMP_POLICY_LOG), "log");
	assert_string_equal(seccomp_kind_name(SECCOMP_SLIRP), "net-user");
}

/* Off: seccomp_enter() installs nothing. */
static int body_off(const struct child *c)
{
	(void)c;
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0)
		return 70;
	return body_socket_unix(c);
}

static void test_off(void **state)
{
	struct child c = { .policy = SECCOMP_POLICY_OFF, .kinds = { SECCOMP_VCPU }, .nr_kinds = 1,
			   .args = { -1, -1 }, .body = body_off };

	(void)state;
	run_child(&c);
	assert_int_equal(c.status, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_names),
		cmocka_unit_test(test_each_kind_allows_the_basics),
		cmocka_unit_test(test_kill_names_thread_and_call),
		cmocka_unit_test(test_slirp),
		cmocka_unit_test(test_stacked_and_pinned),
		cmocka_unit_test(test_log_counts_and_names_once),
		cmocka_unit_test(test_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
