/* arch.c: the x86 side of hv/machine/arch.h: KVM's x86 pages, the PC's interrupt controllers, the vCPUs. */
#include "hv/machine/arch.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "hv/base/kvm.h"
#include "hv/base/log.h"
#include "hv/machine/vcpu.h"
#include "hv/machine/vm.h"
#include "hv/x86/cpu_setup.h"
#include "hv/x86/platform.h"

/* Where KVM keeps the VMX real-mode TSS and identity-map pages (hv/x86/platform.h). */
static int x86_kvm_pages(struct vm *vm)
{
	int ret;

	if (kvm_cap(vm->kvm_fd, KVM_CAP_SET_TSS_ADDR) &&
	    ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, VM_TSS_ADDR) < 0) {
		ret = -errno;
		hv_err("KVM_SET_TSS_ADDR: %s", strerror(errno));
		return ret;
	}
	if (kvm_cap(vm->kvm_fd, KVM_CAP_SET_IDENTITY_MAP_ADDR)) {
		uint64_t ident = VM_IDENTITY_MAP_ADDR;

		if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0) {
			ret = -errno;
			hv_err("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
			return ret;
		}
	}
	return 0;
}

/* The PC around a new VM (before its vCPUs exist): irqchip, GSI routing and PIT. */
static int pc_create_irqchip(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int ret;

	/* PIC, IOAPIC and one local APIC per vCPU, emulated inside KVM. */
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		ret = -errno;	/* before the log line, which may change errno */
		hv_err("KVM_CREATE_IRQCHIP: %s", strerror(-ret));
		return ret;
	}
	/* GSI routing: the legacy pins now, MSI-X vectors as devices program them (hv/base/irq.c). */
	ret = irq_routes_init(&vm->irq, vm->vm_fd, vm->kvm_fd);
	if (ret)
		return ret;
	vm->irq_ready = true;
	/* The i8254 timer, inside KVM too; port 0x61's speaker bits answered there. */
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		ret = -errno;	/* before the log line, which may change errno */
		hv_err("KVM_CREATE_PIT2: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

int arch_vm_init(struct vm *vm, const struct vm_config *cfg)
{
	int ret;

	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch)
		return -ENOMEM;
	if (vm->pc)
		rtc_init(&vm->arch->rtc, cfg->rtc_localtime, NULL);
	ret = x86_kvm_pages(vm);
	if (ret || !vm->pc)
		return ret;
	return pc_create_irqchip(vm);
}

int arch_vcpus_prepare(struct vm *vm)
{
	if (!vm->pc)
		return 0;	/* --demo, --raw: KVM's reset state is enough */
	vm->arch->cpuid = cpuid_supported(vm->kvm_fd);
	if (!vm->arch->cpuid) {
		int ret = -errno;

		hv_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		return ret;
	}
	return 0;
}

int board_program_entry(struct vm *vm, unsigned int index, uint16_t entry)
{
	return cpu_set_real_mode_entry(vm->vcpus[index].fd, index, entry);
}

int arch_vcpu_setup(struct vm *vm, unsigned int index, unsigned int nr_cpus)
{
	int ret;

	if (!vm->pc)
		return 0;
	ret = cpu_setup_vcpu(vm->vcpus[index].fd, vm->arch->cpuid, index, nr_cpus);
	if (ret)
		hv_err("vCPU %u: CPUID, MSR, FPU or LAPIC set-up: %s", index, strerror(-ret));
	return ret;
}

void arch_set_irq(struct vm *vm, unsigned int irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)level };

	/* With the in-kernel irqchip, one line drives both the PIC and the IOAPIC pin. */
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		hv_warn("KVM_IRQ_LINE %u: %s", irq, strerror(errno));
}

void arch_vcpu_report_crash(struct vcpu *cpu, const char *what)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(cpu->fd, KVM_GET_REGS, &regs) != 0) {
		hv_err("vCPU %u: %s", cpu->index, what);
		return;
	}
	hv_err("vCPU %u: %s (rip 0x%llx, rsp 0x%llx)", cpu->index, what, regs.rip, regs.rsp);
	if (!cpu->vm->pc || ioctl(cpu->fd, KVM_GET_SREGS, &sregs) != 0)
		return;
	/* An OS crashed: the whole register file, for whoever debugs it. */
	hv_err("  rax %016llx rbx %016llx rcx %016llx rdx %016llx", regs.rax, regs.rbx, regs.rcx, regs.rdx);
	hv_err("  rsi %016llx rdi %016llx rbp %016llx rflags %08llx", regs.rsi, regs.rdi, regs.rbp, regs.rflags);
	hv_err("  r8  %016llx r9  %016llx r10 %016llx r11 %016llx", regs.r8, regs.r9, regs.r10, regs.r11);
	hv_err("  r12 %016llx r13 %016llx r14 %016llx r15 %016llx", regs.r12, regs.r13, regs.r14, regs.r15);
	hv_err("  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx efer %llx",
	       sregs.cr0, sregs.cr2, sregs.cr3, sregs.cr4, sregs.efer);
	hv_err("  cs %04x (base %llx, l=%u) ss %04x idt %llx/%x gdt %llx/%x",
	       sregs.cs.selector, sregs.cs.base, sregs.cs.l, sregs.ss.selector,
	       sregs.idt.base, sregs.idt.limit, sregs.gdt.base, sregs.gdt.limit);
	/*
	 * KVM on AMD (svm.c, shutdown_interception) INITs a vCPU that shut down
	 * before it reports the exit: what we read is the reset state, not where
	 * the guest failed.  Say so rather than let the reader chase 0xfff0.
	 */
	if (regs.rip == 0xfff0 && sregs.cs.base == 0xffff0000)
		hv_err("  (these are the x86 reset values: KVM re-initialised the vCPU at the"
		       " shutdown, as it does on AMD; the kvm:kvm_exit trace event has the guest's"
		       " last RIP)");
}

void arch_vm_destroy(struct vm *vm)
{
	struct arch_vm *a = vm->arch;

	if (!a)
		return;		/* vm_create() failed before arch_vm_init() */
	if (vm->pc) {
		platform_destroy(vm);
		rtc_destroy(&a->rtc);
	}
	if (a->rom)
		munmap(a->rom, a->rom_size);
	free(a->cpuid);
	free(a);
	vm->arch = NULL;
}
