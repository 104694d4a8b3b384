/* vm.h: one virtual machine: the KVM VM fd, its memory, its devices and its vCPUs. */
#ifndef HV_VM_H
#define HV_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/legacy/serial_8250.h"
#include "hv/guest_mem.h"
#include "hv/iobus.h"
#include "hv/kvm.h"
#include "hv/memmap.h"
#include "hv/options.h"

struct kvm_run;
struct vm;

struct vcpu {
	struct vm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;		/* the shared page KVM_RUN reports exits in */
	pthread_t thread;
	atomic_bool started;		
	int result;			/* HV_EXIT_* once the thread has ended */
	uint64_t exits[KVM_NR_EXIT_NAMES + 1];	/* per exit reason; the last slot: others */
	uint64_t unclaimed_pio;		/* port accesses no device answered */
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int run_size;			/* KVM_GET_VCPU_MMAP_SIZE */
	struct memmap map;
	struct guest_mem mem;
	struct iobus pio;
	struct serial_8250 com1;
	unsigned int nr_vcpus;
	struct vcpu *vcpus;
	atomic_bool stopping;		/* set once: every vCPU thread must return */
};

/*
 * Builds the VM the options describe: opens /dev/kvm, creates the VM, maps
 * guest RAM, creates the vCPUs and the legacy devices.  0, -E2BIG when the
 * options ask for more than this host's KVM allows (a usage error), or
 * another -errno after printing why.
 */
int vm_create(struct vm *vm, const struct hv_options *o);

/* Runs every vCPU on its own thread until all have stopped.  Returns HV_EXIT_*. */
int vm_run(struct vm *vm);

/* Asks every vCPU thread to return (from any thread). */
void vm_request_stop(struct vm *vm);

void vm_print_exit_stats(const struct vm *vm);
void vm_destroy(struct vm *vm);

#endif
