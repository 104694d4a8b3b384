/* kvm.c: open /dev/kvm, check its API version and capabilities, name exit reasons. */
#include "hv/base/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

const struct kvm_cap_need kvm_caps_needed[] = {
	{ KVM_CAP_USER_MEMORY,	"KVM_CAP_USER_MEMORY",	"guest RAM from hvrun's own memory" },
	{ KVM_CAP_SET_TSS_ADDR,	"KVM_CAP_SET_TSS_ADDR",	"real-mode support on Intel (VMX)" },
	{ KVM_CAP_EXT_CPUID,	"KVM_CAP_EXT_CPUID",	"the CPUID the guest sees" },
	{ KVM_CAP_IRQCHIP,	"KVM_CAP_IRQCHIP",	"in-kernel PIC, IOAPIC and local APICs" },
	{ KVM_CAP_PIT2,		"KVM_CAP_PIT2",		"in-kernel timer (i8254 PIT)" },
	{ KVM_CAP_IRQ_ROUTING,	"KVM_CAP_IRQ_ROUTING",	"MSI routes for virtio interrupts" },
	{ KVM_CAP_IRQFD,	"KVM_CAP_IRQFD",	"interrupts from I/O threads (irqfd)" },
	{ KVM_CAP_IOEVENTFD,	"KVM_CAP_IOEVENTFD",	"virtqueue notifications (ioeventfd)" },
	{ KVM_CAP_SIGNAL_MSI,	"KVM_CAP_SIGNAL_MSI",	"one-off MSI delivery" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "stopping vCPUs cleanly" },
};
const unsigned int kvm_nr_caps_needed = sizeof(kvm_caps_needed) / sizeof(kvm_caps_needed[0]);

int kvm_open(char *err, unsigned long errlen)
{
	int fd, api, e;

	fd = open(KVM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT)
			snprintf(err, errlen, "%s does not exist: KVM is not available on this host",
				 KVM_DEVICE_PATH);
		else if (e == EACCES || e == EPERM)
			snprintf(err, errlen, "%s: permission denied (is this user in group kvm?)",
				 KVM_DEVICE_PATH);
		else
			snprintf(err, errlen, "%s: %s", KVM_DEVICE_PATH, strerror(e));
		return -e;
	}
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_EXPECTED) {
		e = api < 0 ? errno : 0;
		if (api < 0)
			snprintf(err, errlen, "%s is not a KVM device (KVM_GET_API_VERSION: %s)",
				 KVM_DEVICE_PATH, strerror(e));
		else
			snprintf(err, errlen, "%s speaks KVM API %d; hvrun needs %d",
				 KVM_DEVICE_PATH, api, KVM_API_EXPECTED);
		close(fd);
		return -EPROTO;
	}
	return fd;
}

int kvm_cap(int fd, int cap)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return r > 0 ? r : 0;
}

int kvm_max_vcpus(int fd)
{
	int n = kvm_cap(fd, KVM_CAP_MAX_VCPUS);

	if (!n)
		n = kvm_cap(fd, KVM_CAP_NR_VCPUS);
	return n ? n : 4;	/* the API's documented floor when neither cap answers */
}

static const char *const exit_names[KVM_NR_EXIT_NAMES] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN",	[KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_IO] = "IO",		[KVM_EXIT_HYPERCALL] = "HYPERCALL",
	[KVM_EXIT_DEBUG] = "DEBUG",	[KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO",	[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN", [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR",	[KVM_EXIT_SET_TPR] = "SET_TPR",
	[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS", [KVM_EXIT_NMI] = "NMI",
	[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR", [KVM_EXIT_OSI] = "OSI",
	[KVM_EXIT_WATCHDOG] = "WATCHDOG", [KVM_EXIT_EPR] = "EPR",
	[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT", [KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
	[KVM_EXIT_HYPERV] = "HYPERV",	[KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
	[KVM_EXIT_X86_WRMSR] = "X86_WRMSR", [KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
	[KVM_EXIT_X86_BUS_LOCK] = "X86_BUS_LOCK",
};

const char *kvm_exit_name(unsigned int reason)
{
	if (reason < KVM_NR_EXIT_NAMES && exit_names[reason])
		return exit_names[reason];
	return "?";
}
