/* vm.c: create a VM (KVM_CREATE_VM), give it memory and devices, run its vCPUs. */
#include "hv/vm.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hv/log.h"
#include "hv/vcpu.h"

/* Intel VMX needs 3 pages for a real-mode TSS; kvmtool and QEMU put them here. */
#define VM_TSS_ADDR	0xfffbd000UL

static int vm_setup_memory(struct vm *vm, const struct hv_options *o)
{
	unsigned int i;
	int ret;

	ret = memmap_build(&vm->map, o->mem_bytes);
	if (ret)
		return ret;
	ret = gm_alloc(&vm->mem, &vm->map);
	if (ret) {
		hv_err("cannot map %" PRIu64 " MB of guest RAM: %s", o->mem_bytes / HV_MIB,
		       strerror(-ret));
		return ret;
	}
	/* One KVM memory slot per RAM range: guest-physical -> our mapping. */
	for (i = 0; i < vm->mem.nr_regions; i++) {
		const struct gm_region *r = &vm->mem.region[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->host,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			ret = -errno;
			hv_err("KVM_SET_USER_MEMORY_REGION (slot %u, %" PRIu64 " MB at 0x%" PRIx64 "): %s",
			       i, r->size / HV_MIB, r->gpa, strerror(errno));
			return ret;
		}
		hv_info("RAM slot %u: guest 0x%09" PRIx64 "-0x%09" PRIx64 " (%" PRIu64 " MB)",
			i, r->gpa, r->gpa + r->size - 1, r->size / HV_MIB);
	}
	return 0;
}

int vm_create(struct vm *vm, const struct hv_options *o)
{
	char err[256];
	int max_vcpus, ret;
	unsigned int i;

	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1;
	/* COM1 is the guest's console; its output is our stdout. */
	serial_init(&vm->com1, STDOUT_FILENO, NULL, NULL);
	vm->kvm_fd = kvm_open(err, sizeof(err));
	if (vm->kvm_fd < 0) {
		hv_err("%s", err);
		hv_err("run 'hvrun --check' to see what this host lacks and how to fix it");
		return vm->kvm_fd;
	}
	if (!kvm_cap(vm->kvm_fd, KVM_CAP_USER_MEMORY) || !kvm_cap(vm->kvm_fd, KVM_CAP_IMMEDIATE_EXIT)) {
		hv_err("this host's KVM lacks KVM_CAP_USER_MEMORY or KVM_CAP_IMMEDIATE_EXIT");
		return -ENOTSUP;
	}
	max_vcpus = kvm_cap(vm->kvm_fd, KVM_CAP_MAX_VCPUS);
	if (!max_vcpus)
		max_vcpus = kvm_cap(vm->kvm_fd, KVM_CAP_NR_VCPUS);
	if (!max_vcpus)
		max_vcpus = 4;	/* the API's documented floor when neither cap answers */
	if (o->cpus > (unsigned int)max_vcpus) {
		hv_err("-c %u: this host's KVM allows at most %d vCPUs per VM", o->cpus, max_vcpus);
		return -E2BIG;
	}

	do {
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0UL);
	} while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		ret = -errno;
		hv_err("KVM_CREATE_VM: %s", strerror(errno));
		return ret;
	}
	hv_info("KVM_CREATE_VM: VM fd %d", vm->vm_fd);
	if (kvm_cap(vm->kvm_fd, KVM_CAP_SET_TSS_ADDR) &&
	    ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, VM_TSS_ADDR) < 0) {
		ret = -errno;
		hv_err("KVM_SET_TSS_ADDR: %s", strerror(errno));
		return ret;
	}

	ret = vm_setup_memory(vm, o);
	if (ret)
		return ret;

	ret = iobus_register(&vm->pio, "com1", SERIAL_COM1_BASE, SERIAL_NR_PORTS,
			     serial_pio, &vm->com1);
	if (ret)
		return ret;

	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0UL);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		hv_err("KVM_GET_VCPU_MMAP_SIZE: %s", vm->run_size < 0 ? strerror(errno) : "too small");
		return -EINVAL;
	}
	vm->vcpus = calloc(o->cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (i = 0; i < o->cpus; i++) {
		ret = vcpu_create(vm, &vm->vcpus[i], i);
		if (ret) {
			hv_err("KVM_CREATE_VCPU %u: %s", i, strerror(-ret));
			return ret;
		}
		vm->nr_vcpus++;
	}
	hv_info("KVM_CREATE_VCPU: %u vCPU(s), kvm_run pages of %d bytes", vm->nr_vcpus, vm->run_size);
	return 0;
}

static void vm_kick_handler(int sig)
{
	(void)sig;	/* its only job is to interrupt KVM_RUN with EINTR */
}

void vm_request_stop(struct vm *vm)
{
	unsigned int i;

	atomic_store(&vm->stopping, true);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
}

int vm_run(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = vm_kick_handler };	/* no SA_RESTART */
	sigset_t kick;
	int result = HV_EXIT_OK;
	unsigned int i;
	int ret;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	/* Only vCPU threads take the kick signal; they unblock it themselves. */
	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &kick, NULL);

	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (ret) {
			hv_err("cannot start the thread of vCPU %u: %s", i, strerror(ret));
			vm_request_stop(vm);
			result = HV_EXIT_FAILURE;
			break;
		}
		atomic_store(&vm->vcpus[i].started, true);
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (!atomic_load(&vm->vcpus[i].started))
			continue;
		pthread_join(vm->vcpus[i].thread, NULL);
		if (vm->vcpus[i].result > result)
			result = vm->vcpus[i].result;
	}
	return result;
}

void vm_print_exit_stats(const struct vm *vm)
{
	uint64_t total[KVM_NR_EXIT_NAMES + 1] = { 0 }, pio_unclaimed = 0;
	unsigned int i, r;

	for (i = 0; i < vm->nr_vcpus; i++) {
		for (r = 0; r <= KVM_NR_EXIT_NAMES; r++)
			total[r] += vm->vcpus[i].exits[r];
		pio_unclaimed += vm->vcpus[i].unclaimed_pio;
	}
	fprintf(stderr, "hvrun: VM exits that reached hvrun, all %u vCPU(s):\n", vm->nr_vcpus);
	for (r = 0; r <= KVM_NR_EXIT_NAMES; r++)
		if (total[r])
			fprintf(stderr, "  %-16s %12" PRIu64 "\n",
				r < KVM_NR_EXIT_NAMES ? kvm_exit_name(r) : "other", total[r]);
	fprintf(stderr, "  (port accesses no device claimed: %" PRIu64 ")\n", pio_unclaimed);
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nr_vcpus = 0;
	serial_destroy(&vm->com1);
	gm_free(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
}
