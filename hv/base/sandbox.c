/* sandbox.c: an empty, read-only root for hvrun once everything is open (hv/base/sandbox.h). */
#include "hv/base/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hv/base/file.h"
#include "hv/base/log.h"

/* Where the new root is put together: a tmpfs mounted, in hvrun's own namespace, on /tmp. */
#define SANDBOX_DIR	"/tmp"
#define SANDBOX_MAX_REMOVALS 4
#define SANDBOX_HELPER_WAIT_MS 1000

static bool prepared, active;
static int helper_fd = -1;
static pid_t helper_pid = -1;
static struct {
	char *path;
	dev_t dev;
	ino_t ino;		/* 0: any file at path */
} removals[SANDBOX_MAX_REMOVALS];
static unsigned int nr_removals;

int sandbox_prepare(bool off, bool required, char *err, size_t errlen)
{
	if (off)
		return 0;
	if (geteuid() != 0) {
		if (required)
			return hv_fail(err, errlen, -EPERM, "--sandbox on: hvrun must be started as "
				       "root to make its empty root");
		return 0;
	}
	if (unshare(CLONE_NEWNS) < 0) {
		int ret = -errno;

		if (required)
			return hv_fail(err, errlen, ret, "--sandbox on: unshare(CLONE_NEWNS): %s",
				       strerror(-ret));
		hv_warn("no empty root for hvrun (unshare: %s); --sandbox off says this on purpose",
			strerror(-ret));
		return 0;
	}
	/* Nothing mounted from now on may propagate back to the host's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return hv_fail(err, errlen, -errno, "sandbox: making / private: %s", strerror(errno));
	prepared = true;
	return 0;
}

void sandbox_remove_at_exit(const char *abs_path, dev_t dev, ino_t ino)
{
	if (!abs_path || nr_removals == SANDBOX_MAX_REMOVALS)
		return;
	removals[nr_removals].path = strdup(abs_path);
	if (!removals[nr_removals].path)
		return;
	removals[nr_removals].dev = dev;
	removals[nr_removals].ino = ino;
	nr_removals++;
}

/*
 * The helper, a child forked before the pivot: in a namespace of its own
 * (so the pivot does not move it), without capabilities, it waits for hvrun
 * to close the pipe (at exit, or by dying) and removes hvrun's files.  Only
 * system calls here: hvrun may have other threads at the fork.
 */
static void sandbox_helper(int rfd, int ready_fd)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[2];
	struct stat st;
	unsigned int i;
	char c;

	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (unshare(CLONE_NEWNS) < 0)
		_exit(1);
	/* Out of hvrun's namespace: the pivot may come. */
	if (write(ready_fd, "", 1) != 1 || dup2(rfd, 3) < 0)
		_exit(1);
	syscall(SYS_close_range, 4u, ~0u, 0u);
	memset(none, 0, sizeof(none));
	syscall(SYS_capset, &hdr, none);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	while (read(3, &c, 1) < 0 && errno == EINTR)
		;
	for (i = 0; i < nr_removals; i++)
		if (lstat(removals[i].path, &st) == 0 &&
		    (!removals[i].ino || (st.st_dev == removals[i].dev && st.st_ino == removals[i].ino)))
			unlink(removals[i].path);
	_exit(0);
}

static int sandbox_start_helper(char *err, size_t errlen)
{
	int p[2], r[2], ret = 0;
	ssize_t n;
	char c;

	if (!nr_removals)
		return 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return hv_fail(err, errlen, -errno, "sandbox: pipe: %s", strerror(errno));
	if (pipe2(r, O_CLOEXEC) < 0) {
		ret = -errno;
		close(p[0]);
		close(p[1]);
		return hv_fail(err, errlen, ret, "sandbox: pipe: %s", strerror(-ret));
	}
	helper_pid = fork();
	if (helper_pid == 0)
		sandbox_helper(p[0], r[1]);
	if (helper_pid < 0)
		ret = hv_fail(err, errlen, -errno, "sandbox: fork: %s", strerror(errno));
	close(p[0]);
	close(r[1]);
	/* Until the helper has left the namespace, the pivot would move it too. */
	while (!ret && (n = read(r[0], &c, 1)) != 1)
		if (n == 0 || errno != EINTR)
			ret = hv_fail(err, errlen, -EIO, "sandbox: the helper did not start");
	close(r[0]);
	if (ret) {
		close(p[1]);
		return ret;
	}
	helper_fd = p[1];
	return 0;
}

/* The host's /etc/resolv.conf, read-only at the same place in the new root (libslirp's DNS). */
static void sandbox_bind_resolv_conf(void)
{
	const char *dst = SANDBOX_DIR "/etc/resolv.conf";
	int fd;

	if (mkdir(SANDBOX_DIR "/etc", 0755) < 0 ||
	    (fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0)
		goto fail;
	close(fd);
	if (mount("/etc/resolv.conf", dst, NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		goto fail;
	return;
fail:
	hv_warn("sandbox: no /etc/resolv.conf for user-mode networking (%s): the guest's DNS "
		"will not answer", strerror(errno));
}

int sandbox_enter(bool user_net, char *err, size_t errlen)
{
	int ret;

	if (!prepared)
		return 0;
	tzset();		/* the time zone, read now: /etc/localtime is about to go */
	/*
	 * Out of the current directory first: it is about to go anyway, and a
	 * working directory on a mount that the pivot detaches (seen with a 9p
	 * share in the lab) stalled that file system for every process.
	 */
	if (chdir("/") < 0)
		return hv_fail(err, errlen, -errno, "sandbox: chdir /: %s", strerror(errno));
	ret = hv_proc_keep();
	if (ret)
		return hv_fail(err, errlen, ret, "sandbox: /proc: %s", strerror(-ret));
	/* Before anything is mounted: the helper's copy of the namespace is the host's tree. */
	ret = sandbox_start_helper(err, errlen);
	if (ret)
		return ret;
	if (mount("hvrun-root", SANDBOX_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=64k") < 0)
		return hv_fail(err, errlen, -errno, "sandbox: a tmpfs on %s: %s (--sandbox off "
			       "runs without the empty root)", SANDBOX_DIR, strerror(errno));
	if (mkdir(SANDBOX_DIR "/old", 0700) < 0)
		return hv_fail(err, errlen, -errno, "sandbox: mkdir: %s", strerror(errno));
	if (user_net)
		sandbox_bind_resolv_conf();
	if (syscall(SYS_pivot_root, SANDBOX_DIR, SANDBOX_DIR "/old") < 0)
		return hv_fail(err, errlen, -errno, "sandbox: pivot_root: %s", strerror(errno));
	/* Every thread shares this file system context: their roots and directories move too. */
	if (chdir("/") < 0 || umount2("/old", MNT_DETACH) < 0 || rmdir("/old") < 0)
		return hv_fail(err, errlen, -errno, "sandbox: leaving the old root: %s",
			       strerror(errno));
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=64k") < 0)
		return hv_fail(err, errlen, -errno, "sandbox: read-only root: %s", strerror(errno));
	active = true;
	hv_info("sandbox: running in an empty, read-only root (--sandbox off to stay in the host's)");
	return 0;
}

bool sandbox_active(void)
{
	return active;
}

void sandbox_finish(void)
{
	unsigned int waited;

	if (helper_fd < 0)
		return;
	close(helper_fd);
	helper_fd = -1;
	for (waited = 0; waited < SANDBOX_HELPER_WAIT_MS; waited += 10) {
		if (waitpid(helper_pid, NULL, WNOHANG) != 0)
			return;
		usleep(10000);
	}
}
