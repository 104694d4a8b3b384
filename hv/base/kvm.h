/* kvm.h: the system-wide part of the KVM API (/dev/kvm itself) and what hvrun needs of it. */
#ifndef HV_KVM_H
#define HV_KVM_H

#include <stdbool.h>

#define KVM_DEVICE_PATH	"/dev/kvm"
#define KVM_API_EXPECTED 12	/* the only version since Linux 2.6.22 */

struct kvm_cap_need {
	int cap;		/* KVM_CAP_* */
	const char *name;
	const char *what_for;
};

/* The capabilities the hvrun platform builds on (hvrun --check lists them). */
extern const struct kvm_cap_need kvm_caps_needed[];
extern const unsigned int kvm_nr_caps_needed;

/*
 * Opens /dev/kvm read-write and checks the API version.  Returns the fd, or
 * -errno with a plain-words reason in err (-EPROTO: wrong API version).
 */
int kvm_open(char *err, unsigned long errlen);

/* KVM_CHECK_EXTENSION: > 0 when present (some caps return a count), 0 when not. */
int kvm_cap(int fd, int cap);

/* The most vCPUs one VM may have: KVM_CAP_MAX_VCPUS, else KVM_CAP_NR_VCPUS, else 4. */
int kvm_max_vcpus(int fd);

/* "IO", "HLT", "MMIO", ... for KVM_EXIT_* numbers; "?" when unknown. */
const char *kvm_exit_name(unsigned int reason);
#define KVM_NR_EXIT_NAMES 41

#endif
