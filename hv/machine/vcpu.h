/* vcpu.h: creating vCPUs, setting their registers, and the KVM_RUN loop of each vCPU thread. */
#ifndef HV_VCPU_H
#define HV_VCPU_H

#include "hv/machine/vm.h"

/* KVM_CREATE_VCPU and the mmap of its kvm_run page.  0 or -errno. */
int vcpu_create(struct vm *vm, struct vcpu *cpu, unsigned int index);
void vcpu_destroy(struct vcpu *cpu);

/* The thread body: KVM_RUN until the vCPU halts, fails, or the VM stops. */
void *vcpu_thread(void *arg);

/* Makes the vCPU's thread leave KVM_RUN soon (from any thread). */
void vcpu_kick(struct vcpu *cpu);

#endif
