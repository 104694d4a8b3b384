/* vcpu.c: one thread per vCPU, each looping on KVM_RUN and handling the exits that reach userspace. */
#include "hv/machine/vcpu.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hv/base/log.h"
#include "hv/base/seccomp.h"
#include "hv/base/trace.h"
#include "hv/machine/arch.h"

int vcpu_create(struct vm *vm, struct vcpu *cpu, unsigned int index)
{
	void *run;

	memset(cpu, 0, sizeof(*cpu));
	cpu->vm = vm;
	cpu->index = index;
	cpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (cpu->fd < 0)
		return -errno;
	/* The kvm_run page is how KVM_RUN tells us why the guest stopped. */
	run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu->fd, 0);
	if (run == MAP_FAILED) {
		int e = errno;

		close(cpu->fd);
		cpu->fd = -1;
		return -e;
	}
	cpu->run = run;
	return 0;
}

void vcpu_destroy(struct vcpu *cpu)
{
	if (cpu->run)
		munmap(cpu->run, (size_t)cpu->vm->run_size);
	if (cpu->fd >= 0)
		close(cpu->fd);
	cpu->run = NULL;
	cpu->fd = -1;
}

void vcpu_kick(struct vcpu *cpu)
{
	/*
	 * immediate_exit makes the next KVM_RUN return at once; the signal
	 * interrupts a KVM_RUN already under way.  Together, no race.
	 */
	cpu->run->immediate_exit = 1;
	if (atomic_load(&cpu->started))
		pthread_kill(cpu->thread, SIGUSR1);
}

/* One port access for --trace pio: the value moved (as little-endian) and who took it. */
static void vcpu_trace_pio(uint16_t port, bool is_write, const uint8_t *data, unsigned int size,
			   const char *who)
{
	uint32_t v = data[0];

	if (size >= 2)
		v |= (uint32_t)data[1] << 8;
	if (size == 4)
		v |= (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
	if (who)
		HV_TRACE(HV_TRACE_PIO, "port 0x%x %s (%u B) 0x%x: %s", port,
			 is_write ? "out" : "in", size, v, who);
	else
		HV_TRACE(HV_TRACE_PIO, "port 0x%x %s (%u B): no device", port,
			 is_write ? "out" : "in", size);
}

static void vcpu_handle_pio(struct vcpu *cpu)
{
	struct kvm_run *run = cpu->run;
	/* KVM placed the data inside the kvm_run mapping; count * size fits there. */
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i;

	for (i = 0; i < run->io.count; i++, data += run->io.size) {
		const char *who = bus_dispatch(&cpu->vm->pio, run->io.port, is_write, data,
					       run->io.size);

		if (!who)
			cpu->unclaimed_pio++;
		if (trace_on(HV_TRACE_PIO))
			vcpu_trace_pio(run->io.port, is_write, data, run->io.size, who);
	}
}

/* Returns 1 to keep running, or 0 when this vCPU is done (halted, or it stopped the VM). */
static int vcpu_handle_exit(struct vcpu *cpu)
{
	struct kvm_run *run = cpu->run;
	char what[128];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_pio(cpu);
		return 1;
	case KVM_EXIT_MMIO:
		HV_TRACE(HV_TRACE_MMIO, "vCPU %u: MMIO %s 0x%llx (%u B)", cpu->index,
			 run->mmio.is_write ? "write" : "read", (unsigned long long)run->mmio.phys_addr,
			 run->mmio.len);
		/* What the platform registered; elsewhere reads see an empty bus (bus_dispatch
		 * fills them with 0xff), writes vanish. */
		if (bus_dispatch(&cpu->vm->mmio, run->mmio.phys_addr, run->mmio.is_write,
				 run->mmio.data, run->mmio.len))
			return 1;
		cpu->unclaimed_mmio++;
		HV_TRACE(HV_TRACE_MMIO, "vCPU %u: 0x%llx: no device", cpu->index,
			 (unsigned long long)run->mmio.phys_addr);
		return 1;
	case KVM_EXIT_HLT:
		/* Without an in-kernel LAPIC, HLT comes to us: this vCPU is done. */
		hv_info("vCPU %u halted", cpu->index);
		return 0;
	case KVM_EXIT_SHUTDOWN:
		arch_vcpu_report_crash(cpu, "the guest shut down the CPU (triple fault)");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "KVM could not enter the guest (hardware reason 0x%llx)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		arch_vcpu_report_crash(cpu, what);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what), "KVM internal error (suberror %u)", run->internal.suberror);
		arch_vcpu_report_crash(cpu, what);
		break;
	default:
		snprintf(what, sizeof(what), "unexpected VM exit %s (%u)",
			 kvm_exit_name(run->exit_reason), run->exit_reason);
		arch_vcpu_report_crash(cpu, what);
		break;
	}
	vm_request_stop(cpu->vm, VM_STOP_ERROR);
	return 0;
}

void *vcpu_thread(void *arg)
{
	struct vcpu *cpu = arg;
	struct kvm_run *run = cpu->run;
	char name[16];
	sigset_t kick;

	/* "vcpu0" in top -H, perf and --trace lines. */
	snprintf(name, sizeof(name), "vcpu%u", cpu->index);
	pthread_setname_np(pthread_self(), name);
	/* Its filter before the first KVM_RUN: this thread's ioctls only on its own vCPU fd. */
	if (seccomp_enter(SECCOMP_VCPU, &(struct seccomp_thread_args){
			.vm_fd = cpu->vm->vm_fd, .vcpu_fd = cpu->fd }) < 0)
		vm_request_stop(cpu->vm, VM_STOP_ERROR);
	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

	while (!atomic_load(&cpu->vm->stopping)) {
		/* hvctl pause: wait here, outside KVM_RUN, until resumed or stopped. */
		if (atomic_load(&cpu->vm->pause_requested)) {
			vm_vcpu_park(cpu->vm);
			continue;
		}
		if (ioctl(cpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0;
				cpu->exits[KVM_EXIT_INTR]++;
				continue;
			}
			hv_err("vCPU %u: KVM_RUN: %s", cpu->index, strerror(errno));
			vm_request_stop(cpu->vm, VM_STOP_ERROR);
			break;
		}
		cpu->exits[run->exit_reason < KVM_NR_EXIT_NAMES ? run->exit_reason
								: KVM_NR_EXIT_NAMES]++;
		HV_TRACE(HV_TRACE_EXITS, "vCPU %u: exit %s", cpu->index, kvm_exit_name(run->exit_reason));
		if (!vcpu_handle_exit(cpu))
			break;
	}
	/* The last vCPU to halt ends the VM; every end wakes the main loop. */
	if (atomic_fetch_sub(&cpu->vm->running, 1) == 1)
		vm_request_stop(cpu->vm, VM_STOP_HALTED);
	else
		eventfd_write(cpu->vm->event_fd, 1);
	vm_vcpu_ended(cpu->vm);	/* a pause may have been waiting for this thread */
	return NULL;
}
