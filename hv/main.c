/* main.c: hvrun's entry point, read top to bottom: options, host check or VM set-up, run, exit. */
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
#include "hv/log.h"
#include "hv/options.h"
#include "hv/platform.h"
#include "hv/vcpu.h"
#include "hv/vm.h"

/* The first-VM program, assembled from boot/hello16.S and embedded by boot/demo_blob.S. */
extern const unsigned char hvrun_demo_start[], hvrun_demo_end[];

static int load_program(struct vm *vm, const struct hv_options *o)
{
	char err[512];
	unsigned int i;
	int ret;

	if (o->demo)
		ret = raw_load_image(&vm->mem, hvrun_demo_start,
				     (size_t)(hvrun_demo_end - hvrun_demo_start), err, sizeof(err));
	else
		ret = raw_load_file(&vm->mem, o->raw_path, err, sizeof(err));
	if (ret) {
		hv_err("%s", err);
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

/* One life of the VM: create, load, run, destroy.  Sets *reason; returns HV_EXIT_*. */
static int run_once(const struct hv_options *o, int signal_fd, enum vm_stop_reason *reason)
{
	struct vm vm;
	int status;

	*reason = VM_STOP_ERROR;
	status = vm_create(&vm, o);
	if (status == 0)
		status = o->kernel ? platform_setup(&vm, o) : load_program(&vm, o);
	else
		status = status == -E2BIG ? HV_EXIT_USAGE : HV_EXIT_FAILURE;
	if (status == HV_EXIT_OK) {
		vm.signal_fd = signal_fd;
		*reason = vm_run(&vm);
		status = *reason == VM_STOP_ERROR ? HV_EXIT_FAILURE : HV_EXIT_OK;
		if (o->exit_stats)
			vm_print_exit_stats(&vm);
	}
	fflush(stdout);
	vm_destroy(&vm);
	return status;
}

int main(int argc, char *argv[])
{
	enum vm_stop_reason reason;
	struct hv_options o;
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

	signal_fd = stop_signals_fd();
	if (o.kernel)
		console_raw();		/* restored at exit, whatever the way out */
	for (;;) {
		status = run_once(&o, signal_fd, &reason);
		if (status != HV_EXIT_OK || reason != VM_STOP_RESET)
			break;
		if (o.no_reboot) {
			hv_info("the guest rebooted; --no-reboot: exiting");
			break;
		}
		hv_info("the guest rebooted: starting it again (boot %u)", ++boots + 1);
	}
	console_restore();
	options_free(&o);
	return status;
}
