/*
 * arch.h: what an architecture gives the machine (docs/design.md, "The architecture").
 *
 * vm.c and vcpu.c call these; one folder implements them, the one CMake picks for
 * the host's processor: hv/x86/ (arch.c) for the PC today.  They may use what
 * struct vm holds (hv/machine/vm.h); the machine never sees the architecture's headers.
 */
#ifndef HV_ARCH_H
#define HV_ARCH_H

struct vcpu;
struct vm;
struct vm_config;

/*
 * Right after KVM_CREATE_VM, before guest memory and vCPUs exist: allocates
 * vm->arch (the architecture's own struct arch_vm) and asks KVM for what the
 * VM needs first (x86: the TSS and identity-map pages; the PC: the in-kernel
 * interrupt controllers and timer, and the GSI routing).  0, or -errno after
 * printing why.
 */
int arch_vm_init(struct vm *vm, const struct vm_config *cfg);

/*
 * The vCPUs: arch_vcpus_prepare() once before the first one exists (x86: what
 * KVM supports, CPUID), then arch_vcpu_setup() for each new vCPU index of
 * nr_cpus (x86: CPUID, MSRs, FPU, LAPIC).  0, or -errno after printing why.
 */
int arch_vcpus_prepare(struct vm *vm);
int arch_vcpu_setup(struct vm *vm, unsigned int index, unsigned int nr_cpus);

/* Raises or lowers an interrupt line (x86: an ISA IRQ on the PIC and IOAPIC). */
void arch_set_irq(struct vm *vm, unsigned int irq, int level);

/* A vCPU cannot go on: prints what for the log, with the registers that tell why. */
void arch_vcpu_report_crash(struct vcpu *cpu, const char *what);

/*
 * First thing in vm_destroy(), whatever vm_create() reached: stops and frees
 * what the architecture built (the PC: its I/O threads and devices) and
 * vm->arch, before the vCPUs and guest memory go.
 */
void arch_vm_destroy(struct vm *vm);

#endif
