/* main.c: hvrun's entry point, read top to bottom: options, host resources, privilege drop, boots, exit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "boot/raw.h"
#include "hv/check.h"
#include "hv/console.h"
#include "hv/host.h"
#include "hv/log.h"
#include "hv/options.h"
#include "hv/platform.h"
#include "hv/privs.h"
#include "hv/vcpu.h"
#include "hv/vm.h"

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
		ret = vcpu_set_real_mode_entry(&vm->vcpus[i], RAW_LOAD_ADDR);
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
 * One life of the VM: create, load, run, destroy.  Everything it needs from
 * the host (/dev/kvm, images, NIC backends, kernel) is in host, opened before
 * the privilege drop: nothing here opens a file.  Sets *reason; returns HV_EXIT_*.
 */
static int run_once(const struct hv_options *o, struct hv_host *host, int signal_fd,
		    enum vm_stop_reason *reason)
{
	struct vm vm;
	int status;

	*reason = VM_STOP_ERROR;
	status = vm_create(&vm, o, host->kvm_fd) ? HV_EXIT_FAILURE : HV_EXIT_OK;
	if (status == HV_EXIT_OK)
		status = o->kernel ? platform_setup(&vm, o, host) : load_program(&vm, o, host);
	if (status == HV_EXIT_OK) {
		vm.signal_fd = signal_fd;
		*reason = vm_run(&vm);
		status = *reason == VM_STOP_ERROR ? HV_EXIT_FAILURE : HV_EXIT_OK;
		if (o->exit_stats)
			vm_print_exit_stats(&vm);
	}
	fflush(stdout);
	vm_destroy(&vm);	/* the VM only: host's resources serve the next boot */
	return status;
}

int main(int argc, char *argv[])
{
	enum vm_stop_reason reason;
	struct hv_options o;
	struct hv_host host;
	char err[512];
	int status, signal_fd;
	unsigned int boots = 0;

	keep_stdio_open();
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

	/*
	 * Block the stop signals before any thread exists (user-mode networking
	 * starts one in host_open()): threads inherit the mask, so only the
	 * main loop's signalfd ever sees SIGINT, SIGTERM and SIGHUP.
	 */
	signal_fd = stop_signals_fd();

	/* Phase 1, privileged: open everything the VM will ever need, once. */
	status = host_open(&host, &o);
	/* Phase 2: drop every capability (and switch to --user/--group) before any guest code. */
	if (status == HV_EXIT_OK && privs_drop(err, sizeof(err))) {
		hv_err("%s", err);
		status = HV_EXIT_FAILURE;
	}
	/* Phase 3, unprivileged: boot, and boot again on the same host resources after a reset. */
	if (status == HV_EXIT_OK) {
		if (o.kernel)
			console_raw();		/* restored at exit, whatever the way out */
		for (;;) {
			status = run_once(&o, &host, signal_fd, &reason);
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
	host_close(&host);
	if (signal_fd >= 0)
		close(signal_fd);
	options_free(&o);
	return status;
}
