/* main.c: hvrun's entry point, read top to bottom: options, host resources, privilege drop, boots, exit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot/raw.h"
#include "hv/base/console.h"
#include "hv/base/log.h"
#include "hv/base/output.h"
#include "hv/base/privs.h"
#include "hv/base/sandbox.h"
#include "hv/base/seccomp.h"
#include "hv/base/trace.h"
#include "hv/check.h"
#include "hv/control.h"
#include "hv/host.h"
#include "hv/machine.h"
#include "hv/machine/board.h"
#include "hv/machine/vcpu.h"
#include "hv/machine/vm.h"
#include "hv/options.h"
#include "hv/stats.h"

/* The first-VM program, assembled from boot/hello16.S and embedded by boot/demo_blob.S. */
extern const unsigned char hvrun_demo_start[], hvrun_demo_end[];

/* --demo or --raw: the program (read once by host_open() for --raw) at 0x1000, every vCPU in real mode. */
static int load_program(struct vm *vm, const struct hv_options *o, const struct hv_host *host)
{
	char err[512];
	unsigned int i;
	int ret;

	if (o->demo)
		ret = raw_load_image(&vm->mem, hvrun_demo_start,
				     (size_t)(hvrun_demo_end - hvrun_demo_start), err, sizeof(err));
	else
		ret = raw_load_image(&vm->mem, host->program.data, host->program.len,
				     err, sizeof(err));
	if (ret) {
		if (o->demo)
			hv_err("%s", err);
		else
			hv_err("%s: %s", o->raw_path, err);
		return HV_EXIT_USAGE;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = board_program_entry(vm, i, RAW_LOAD_ADDR);
		if (ret) {
			hv_err("vCPU %u: cannot set its registers: %s", i, strerror(-ret));
			return HV_EXIT_FAILURE;
		}
	}
	hv_info("loaded the %s at 0x%x; %u vCPU(s) start at 0000:%04x in real mode",
		o->demo ? "first-VM program" : "program", RAW_LOAD_ADDR, vm->nr_vcpus, RAW_LOAD_ADDR);
	return HV_EXIT_OK;
}

/*
 * SIGINT, SIGTERM and SIGHUP stop the VM cleanly: they are blocked in every
 * thread and read by the main loop from a signalfd.  -1 if that fails.
 */
static int stop_signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/* A closed stdin/stdout/stderr would let /dev/kvm or an eventfd become fd 0-2: fill them. */
static void keep_stdio_open(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd <= STDERR_FILENO)
		fcntl(fd, F_SETFD, 0);
	if (fd > STDERR_FILENO)
		close(fd);
}

/*
 * --daemonize, step 1 (docs/control.md, "Daemon mode").  fork() copies only
 * the thread that calls it, and hvrun soon has more (user-mode networking
 * starts one in host_open(), the control and I/O threads follow), so it forks
 * first, while it is still one thread.  The parent only waits: for a byte on
 * a pipe once the child has the VM built ("ready": exit 0), or for the pipe
 * to close without it (the child failed and said why on the terminal: exit
 * with the child's status).  Returns the child's end of the pipe, or -1.
 */
static int daemon_fork(void)
{
	int p[2], st = 0;
	pid_t pid;
	ssize_t n;
	char byte;

	if (pipe2(p, O_CLOEXEC) < 0) {
		hv_err("--daemonize: pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		hv_err("--daemonize: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		return p[1];
	}
	close(p[1]);
	do {
		n = read(p[0], &byte, 1);
	} while (n < 0 && errno == EINTR);
	if (n == 1)
		exit(HV_EXIT_OK);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	exit(WIFEXITED(st) && WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) : HV_EXIT_FAILURE);
}

/*
 * --daemonize, step 2: the VM is built, nothing can fail on the terminal any
 * more.  hvrun's messages go to the console log (or nowhere), it leaves the
 * terminal's session and the current directory, and lets the parent go.
 */
static void daemon_ready(struct control *ctl, int *ready_fd, int null_fd)
{
	int log_fd = control_console_log_fd(ctl);
	int fd = log_fd >= 0 ? log_fd : null_fd;

	hv_info("running in the background as pid %d: hvctl -n %s status", (int)getpid(),
		control_name(ctl));
	outbuf_flush(&out_log, 1000);	/* what was said so far still goes to the terminal */
	if (fd >= 0 && dup2(fd, STDERR_FILENO) < 0)
		hv_warn("--daemonize: dup2: %s", strerror(errno));
	setsid();		/* cannot fail: a forked child is no process group leader */
	if (chdir("/") < 0)
		hv_warn("--daemonize: chdir /: %s", strerror(errno));
	if (write(*ready_fd, "", 1) != 1)
		hv_warn("--daemonize: the parent is gone: %s", strerror(errno));
	close(*ready_fd);
	*ready_fd = -1;
}

/* --pidfile: written while privileged (a path in /run), the absolute path kept for the unlink. */
static char *write_pidfile(const char *path)
{
	char cwd[PATH_MAX], *abs = NULL;
	FILE *f;

	f = fopen(path, "we");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
		hv_err("--pidfile %s: %s", path, strerror(errno));
		return NULL;
	}
	if (path[0] == '/')
		abs = strdup(path);
	else if (getcwd(cwd, sizeof(cwd)) && asprintf(&abs, "%s/%s", cwd, path) < 0)
		abs = NULL;
	return abs ? abs : strdup(path);
}

/*
 * The control socket, in the privileged phase (a socket in /run/hvrun).  A
 * socket asked for (--control, --name, --daemonize) must work; the default
 * one is a convenience: without it hvrun warns and runs on.  Also the
 * console pipe of --daemonize and --console-log.  HV_EXIT_*.
 */
static int control_setup(struct control **out, const struct hv_options *o)
{
	struct control *ctl = control_new(o, NULL);
	char err[512];

	*out = ctl;
	if (!ctl) {
		hv_err("control socket: out of memory");
		return HV_EXIT_FAILURE;
	}
	if (control_listen(ctl, err, sizeof(err))) {
		if (o->control_path || o->name || o->daemonize) {
			hv_err("%s", err);
			return HV_EXIT_FAILURE;
		}
		hv_warn("%s; running without a control socket", err);
	} else {
		hv_info("control socket %s: hvctl -n %s", control_socket_path(ctl), control_name(ctl));
	}
	if ((o->daemonize || o->console_log) &&
	    control_console_setup(ctl, o->daemonize, err, sizeof(err))) {
		hv_err("%s", err);
		return HV_EXIT_FAILURE;
	}
	return HV_EXIT_OK;
}

/*
 * One life of the VM: create, load, run, destroy.  Everything it needs from
 * the host (/dev/kvm, images, NIC backends, kernel) is in host, opened before
 * the privilege drop: nothing here opens a file.  The control socket acts on
 * it while it runs.  With --daemonize, the first boot that gets as far as
 * running lets the parent go (*ready_fd).  Sets *reason; returns HV_EXIT_*.
 */
static int run_once(const struct hv_options *o, struct hv_host *host, struct control *ctl,
		    int signal_fd, int *ready_fd, int null_fd, enum vm_stop_reason *reason)
{
	const struct vm_config cfg = {
		.mem_bytes = o->mem_bytes,
		.cpus = o->cpus,
		.pc = options_pc(o),
		.hugepages = o->hugepages,
		.rtc_localtime = o->rtc_localtime,
	};
	struct vm vm;
	int status;

	*reason = VM_STOP_ERROR;
	status = vm_create(&vm, &cfg, host->kvm_fd) ? HV_EXIT_FAILURE : HV_EXIT_OK;
	if (status == HV_EXIT_OK)
		status = options_pc(o) ? machine_setup(&vm, o, host) : load_program(&vm, o, host);
	if (status == HV_EXIT_OK) {
		vm.signal_fd = signal_fd;
		control_attach_vm(ctl, &vm);
		/* Attached first: once hvrun --daemonize returns, hvctl finds the VM there. */
		if (*ready_fd >= 0)
			daemon_ready(ctl, ready_fd, null_fd);
		*reason = vm_run(&vm);
		/* Waits for a command in progress; then nothing but this function touches vm. */
		control_detach_vm(ctl, *reason == VM_STOP_RESET && !o->no_reboot);
		status = *reason == VM_STOP_ERROR || *reason == VM_STOP_NO_BOOT ? HV_EXIT_FAILURE
									       : HV_EXIT_OK;
		if (o->exit_stats || o->stats) {
			/* Through the log's buffer: a report never waits for a full terminal. */
			FILE *report = outbuf_fopen(&out_log);

			if (report && o->exit_stats)
				vm_print_exit_stats(&vm, report);
			if (report && o->stats)
				stats_print(&vm, report);
			if (report)
				fclose(report);
		}
	}
	vm_destroy(&vm);	/* the VM only: host's resources serve the next boot */
	return status;
}

int main(int argc, char *argv[])
{
	enum vm_stop_reason reason;
	struct control *ctl = NULL;
	struct hv_options o;
	struct hv_host host;
	char err[512], *pidfile = NULL;
	int status, signal_fd, ready_fd = -1, null_fd = -1, ret;
	unsigned int boots = 0;

	keep_stdio_open();
	output_init();
	if (options_parse(&o, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "hvrun: %s (see hvrun --help)\n", err);
		return HV_EXIT_USAGE;
	}
	if (o.help || o.version || o.check) {
		status = HV_EXIT_OK;
		if (o.help)
			options_print_help(stdout);
		else if (o.version)
			printf("hvrun %s\n", HVRUN_VERSION);
		else if (hv_check(stdout))
			status = HV_EXIT_FAILURE;
		options_free(&o);
		return status;
	}
	hv_verbose = o.verbose;
	trace_init(o.trace);	/* --trace: before host_open(), so the boot is traced too */
	/* The SIGSYS handler and the names of the calls, before any thread or filter exists. */
	if (seccomp_init_policy(o.seccomp, err, sizeof(err))) {
		hv_err("%s", err);
		options_free(&o);
		return HV_EXIT_FAILURE;
	}

	/*
	 * --daemonize forks now, while hvrun is one thread (see daemon_fork());
	 * the child goes on below with its stderr still on the terminal, so
	 * that every error up to "ready" is printed there.  A daemon writes to
	 * pipes whose reader may be gone (the waiting parent): EPIPE, not death.
	 */
	if (o.daemonize) {
		ready_fd = daemon_fork();
		if (ready_fd < 0) {
			options_free(&o);
			return HV_EXIT_FAILURE;
		}
		signal(SIGPIPE, SIG_IGN);
		/* Where stderr goes without --console-log, opened now: no file opens after set-up. */
		null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	}

	/* A mount namespace of hvrun's own, while it is still one thread (hv/base/sandbox.h). */
	if (sandbox_prepare(o.sandbox_off, o.sandbox_asked, err, sizeof(err))) {
		hv_err("%s", err);
		options_free(&o);
		return HV_EXIT_FAILURE;
	}

	/*
	 * Block the stop signals before any thread exists (user-mode networking
	 * starts one in host_open()): threads inherit the mask, so only the
	 * main loop's signalfd ever sees SIGINT, SIGTERM and SIGHUP.
	 */
	signal_fd = stop_signals_fd();

	/* Phase 1, privileged: open everything the VM will ever need, once; bind the control socket. */
	status = host_open(&host, &o);
	if (status == HV_EXIT_OK)
		status = control_setup(&ctl, &o);
	if (status == HV_EXIT_OK && o.pidfile && !(pidfile = write_pidfile(o.pidfile)))
		status = HV_EXIT_FAILURE;
	if (pidfile)
		sandbox_remove_at_exit(pidfile, 0, 0);
	/* Everything is open: from here on nothing of the host's file tree is reachable. */
	if (status == HV_EXIT_OK && sandbox_enter(options_user_net(&o), err, sizeof(err))) {
		hv_err("%s", err);
		status = HV_EXIT_FAILURE;
	}
	/* Phase 2: drop every capability (and switch to --user/--group) before any guest code. */
	if (status == HV_EXIT_OK && privs_drop(err, sizeof(err))) {
		hv_err("%s", err);
		status = HV_EXIT_FAILURE;
	}
	/*
	 * Phase 2b: the main thread's system call filter, inherited by every
	 * thread started from now on; each adds its own narrower one on top
	 * (docs/15-seccomp.md).  The VM itself is built after this, on every boot.
	 */
	if (status == HV_EXIT_OK && seccomp_enter(SECCOMP_MAIN, NULL) < 0)
		status = HV_EXIT_FAILURE;
	/*
	 * From here on the guest's console and hvrun's messages are written by
	 * their own threads (hv/base/output.h): no other thread ever waits for the
	 * terminal.  Started unprivileged and filtered, like the control thread.
	 */
	if (status == HV_EXIT_OK && (ret = output_start()) < 0) {
		hv_err("cannot start the output threads: %s", strerror(-ret));
		status = HV_EXIT_FAILURE;
	}
	/* The control thread starts unprivileged: privs_drop() refuses while a thread holds a capability. */
	if (status == HV_EXIT_OK && (ret = control_start(ctl)) < 0) {
		hv_err("cannot start the control thread: %s", strerror(-ret));
		status = HV_EXIT_FAILURE;
	}
	/* Phase 3, unprivileged: boot, and boot again on the same host resources after a reset. */
	if (status == HV_EXIT_OK) {
		if (options_pc(&o))
			console_raw();		/* restored at exit, whatever the way out */
		for (;;) {
			host.boots = boots + 1;
			status = run_once(&o, &host, ctl, signal_fd, &ready_fd, null_fd, &reason);
			if (status != HV_EXIT_OK || reason != VM_STOP_RESET)
				break;
			if (o.no_reboot) {
				hv_info("the guest rebooted; --no-reboot: exiting");
				break;
			}
			hv_info("the guest rebooted: starting it again (boot %u)", ++boots + 1);
		}
		console_restore();
	}
	control_close(ctl);		/* the socket file goes with it */
	if (pidfile && !sandbox_active() && unlink(pidfile) < 0)
		hv_warn("cannot remove --pidfile %s: %s", pidfile, strerror(errno));
	sandbox_finish();		/* in the empty root, its helper removes both */
	free(pidfile);
	host_close(&host);
	if (signal_fd >= 0)
		close(signal_fd);
	if (null_fd >= 0)
		close(null_fd);
	options_free(&o);
	return status;
}
