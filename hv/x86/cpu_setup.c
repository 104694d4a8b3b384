/* cpu_setup.c: CPUID from KVM_GET_SUPPORTED_CPUID with a per-vCPU topology, boot MSRs, FPU, LAPIC LINTs. */
#include "hv/x86/cpu_setup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hv/base/trace.h"

#define CPUID_MAX_ENTRIES	256

struct kvm_cpuid2 *cpuid_supported(int kvm_fd)
{
	struct kvm_cpuid_entry2 *leaf1;
	struct kvm_cpuid2 *c;

	c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
	if (!c)
		return NULL;
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		int e = errno;

		free(c);
		errno = e;
		return NULL;
	}
	/*
	 * KVM's in-kernel LAPIC emulates the TSC-deadline timer, but the
	 * supported table leaves the bit to us (KVM API: KVM_CAP_TSC_DEADLINE_TIMER).
	 * With it, Linux programs the timer in TSC ticks and skips calibrating
	 * the LAPIC timer against the PIT -- a calibration that fails ("APIC
	 * timer disabled due to verification failure") when the host is slow.
	 */
	leaf1 = cpuid_find(c, 1, 0);
	if (leaf1 && ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		leaf1->ecx |= 1u << 24;
	return c;
}

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *cpuid, uint32_t function, uint32_t index)
{
	uint32_t i;

	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == function &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index))
			return e;
	}
	return NULL;
}

/* Bits needed to number n items (the x2APIC id shift of a topology level). */
static uint32_t bits_for(unsigned int n)
{
	uint32_t b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

void cpuid_adapt(struct kvm_cpuid2 *cpuid, unsigned int index, unsigned int nr_cpus)
{
	uint32_t i;

	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 1:
			/* EBX: APIC id in 31:24, logical processors per package in 23:16. */
			e->ebx = (e->ebx & 0x0000ffff) | (index << 24) | ((nr_cpus & 0xff) << 16);
			if (nr_cpus > 1)
				e->edx |= 1u << 28;		/* HTT: the count above is valid */
			e->ecx |= 1u << 31;			/* "running on a hypervisor" */
			break;
		case 4:
			/* Intel deterministic cache leaf: cores per package - 1 in 31:26. */
			e->eax = (e->eax & 0x03ffffff) | ((nr_cpus - 1) << 26);
			break;
		case 0xb:
		case 0x1f:
			/* x2APIC topology: level 0 = SMT (1 thread), level 1 = core. */
			e->edx = index;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = bits_for(nr_cpus);
				e->ebx = nr_cpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;		/* level type 0: invalid, the end */
			}
			break;
		case 0x80000008:
			/* AMD: NC (cores - 1) in ECX 7:0, APIC id size in 15:12. */
			e->ecx = (e->ecx & ~0xf0ffu) | (bits_for(nr_cpus) << 12) | (nr_cpus - 1);
			break;
		case 0x8000001e:
			/* AMD extended APIC id; one thread per core; core id = index. */
			e->eax = index;
			e->ebx = (e->ebx & ~0xffffu) | index;
			e->ecx = 0;				/* node 0 */
			break;
		default:
			break;
		}
	}
}

/* MSR numbers (Intel SDM vol. 4; AMD APM vol. 2). */
#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_IA32_TSC		0x10

static int set_boot_msrs(int vcpu_fd)
{
	static const struct { uint32_t index; uint64_t data; } msrs[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 }, { MSR_SYSCALL_MASK, 0 }, { MSR_LSTAR, 0 },
		{ MSR_IA32_TSC, 0 },
		{ MSR_IA32_MISC_ENABLE, 1 },		/* fast string operations on */
		{ MSR_MTRR_DEF_TYPE, (1u << 11) | 6 },	/* MTRRs on, default write-back */
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[sizeof(msrs) / sizeof(msrs[0])];
	} m;
	unsigned int i;
	int r;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = sizeof(msrs) / sizeof(msrs[0]);
	for (i = 0; i < m.hdr.nmsrs; i++) {
		m.e[i].index = msrs[i].index;
		m.e[i].data = msrs[i].data;
	}
	r = ioctl(vcpu_fd, KVM_SET_MSRS, &m);
	if (r < 0)
		return -errno;
	return r == (int)m.hdr.nmsrs ? 0 : -EINVAL;	/* KVM_SET_MSRS returns how many it set */
}

static int set_fpu(int vcpu_fd)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;	/* x87 after FNINIT: all exceptions masked, 64-bit precision */
	fpu.mxcsr = 0x1f80;	/* SSE: all exceptions masked */
	return ioctl(vcpu_fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

/* Local APIC register offsets and delivery modes (Intel SDM vol. 3, ch. 11). */
#define APIC_LVT_LINT0		0x350
#define APIC_LVT_LINT1		0x360
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7

static void lapic_set_lvt(struct kvm_lapic_state *l, unsigned int reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &l->regs[reg], 4);
	v = (v & ~0x700u & ~(1u << 16)) | (mode << 8);	/* delivery mode, unmasked */
	memcpy(&l->regs[reg], &v, 4);
}

static int set_lapic(int vcpu_fd)
{
	struct kvm_lapic_state l;

	/* As on a PC: LINT0 takes the 8259 PIC's output (ExtINT), LINT1 is NMI. */
	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	lapic_set_lvt(&l, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	lapic_set_lvt(&l, APIC_LVT_LINT1, APIC_MODE_NMI);
	return ioctl(vcpu_fd, KVM_SET_LAPIC, &l) < 0 ? -errno : 0;
}

int cpu_setup_vcpu(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned int index,
		   unsigned int nr_cpus)
{
	size_t size = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	int ret;

	if (!c)
		return -ENOMEM;
	memcpy(c, supported, size);
	cpuid_adapt(c, index, nr_cpus);
	ret = ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	free(c);
	if (!ret)
		ret = set_boot_msrs(vcpu_fd);
	if (!ret)
		ret = set_fpu(vcpu_fd);
	if (!ret)
		ret = set_lapic(vcpu_fd);
	return ret;
}

int cpu_set_real_mode_entry(int vcpu_fd, unsigned int index, uint16_t entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	/*
	 * A new vCPU is in the x86 reset state: real mode, CS base 0xffff0000,
	 * IP 0xfff0 (the BIOS entry).  Point CS at segment 0 instead.
	 */
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rsi = index;
	regs.rflags = 0x2;	/* bit 1 is always set; IF clear: no interrupts */
	HV_TRACE(HV_TRACE_BOOT, "vCPU %u: real-mode entry at 0000:%04x", index, entry);
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}
