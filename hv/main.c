/* main.c: hvrun's entry point, read top to bottom: options, host check or VM set-up, run, exit. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot/raw.h"
#include "hv/check.h"
#include "hv/log.h"
#include "hv/options.h"
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

int main(int argc, char *argv[])
{
	struct hv_options o;
	struct vm vm;
	char err[512];
	int status;

	if (options_parse(&o, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "hvrun: %s (see hvrun --help)\n", err);
		return HV_EXIT_USAGE;
	}
	if (o.help) {
		options_print_help(stdout);
		return HV_EXIT_OK;
	}
	if (o.version) {
		printf("hvrun %s\n", HVRUN_VERSION);
		return HV_EXIT_OK;
	}
	if (o.check)
		return hv_check(stdout) ? HV_EXIT_FAILURE : HV_EXIT_OK;
	hv_verbose = o.verbose;

	status = vm_create(&vm, &o);
	if (status == 0)
		status = load_program(&vm, &o);
	else
		status = status == -E2BIG ? HV_EXIT_USAGE : HV_EXIT_FAILURE;
	if (status == HV_EXIT_OK) {
		status = vm_run(&vm);
		if (o.exit_stats)
			vm_print_exit_stats(&vm);
	}
	fflush(stdout);
	vm_destroy(&vm);
	return status;
}
