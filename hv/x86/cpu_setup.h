/* cpu_setup.h: what a vCPU needs before it runs an OS: CPUID, MSRs, FPU and local APIC. */
#ifndef HV_CPU_SETUP_H
#define HV_CPU_SETUP_H

#include <linux/kvm.h>
#include <stdint.h>

/* KVM_GET_SUPPORTED_CPUID into a malloc'd table.  NULL on failure (errno set). */
struct kvm_cpuid2 *cpuid_supported(int kvm_fd);

/*
 * Adapts the host-supported table for vCPU `index` of `nr_cpus`: APIC id,
 * logical-processor counts and the x2APIC/AMD topology leaves, so the guest
 * sees one socket of nr_cpus single-threaded cores.  Pure: no ioctl.
 */
void cpuid_adapt(struct kvm_cpuid2 *cpuid, unsigned int index, unsigned int nr_cpus);

/* Finds a leaf/subleaf in the table, or NULL. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *cpuid, uint32_t function, uint32_t index);

/*
 * Sets CPUID (KVM_SET_CPUID2), the boot MSRs, the FPU and the local APIC's
 * LINT0 (ExtINT) and LINT1 (NMI) on one vCPU.  0 or -errno.
 */
int cpu_setup_vcpu(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned int index,
		   unsigned int nr_cpus);

/*
 * A program without an OS (--demo, --raw): real mode at cs:ip = 0000:entry,
 * SI = the vCPU index, interrupts off.  0 or -errno.
 */
int cpu_set_real_mode_entry(int vcpu_fd, unsigned int index, uint16_t entry);

#endif
