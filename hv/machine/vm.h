/* vm.h: one virtual machine: the KVM VM fd, its memory, its devices and its vCPUs. */
#ifndef HV_VM_H
#define HV_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/legacy/serial_8250.h"
#include "devices/pci.h"
#include "hv/base/bus.h"
#include "hv/base/guest_mem.h"
#include "hv/base/irq.h"

struct fw_cfg;
#include "hv/base/kvm.h"
#include "hv/base/memmap.h"

struct arch_vm;
struct kvm_run;
struct virtio_dev;
struct virtio_pci;
struct ev_loop;

#define VM_MAX_VIRTIO	16		/* virtio-pci functions on bus 0 */

/* What vm_create() builds: the program fills it from its options (hv/main.c). */
struct vm_config {
	uint64_t mem_bytes;	/* guest RAM */
	unsigned int cpus;	/* vCPUs; host_open() checked that KVM allows them */
	bool pc;		/* the PC platform (irqchip, PCI, RTC, ACPI), not a bare real-mode program */
	bool hugepages;		/* back RAM with hugetlbfs pages */
	bool rtc_localtime;	/* the CMOS clock keeps local time, not UTC */
};

/* One virtio device, its PCI function and the I/O thread its work runs on. */
struct vm_virtio {
	struct virtio_dev *dev;
	struct virtio_pci *pci;
	struct ev_loop *loop;
	unsigned int slot;
	const struct virtio_device_desc *desc;	/* its line in the device table (counters) */
	char name[16];			/* "vda", "net0", "console", "rng": --trace, --stats, hvctl */
};
struct vm;

/* Why a VM stopped: the first reason given wins. */
enum vm_stop_reason {
	VM_STOP_NONE = 0,
	VM_STOP_HALTED,		/* every vCPU halted (--demo, --raw) */
	VM_STOP_POWEROFF,	/* the guest entered ACPI S5 */
	VM_STOP_RESET,		/* the guest asked for a reset (ACPI reset register, i8042) */
	VM_STOP_QUIT,		/* Ctrl-A x, SIGINT, SIGTERM, SIGHUP */
	VM_STOP_ERROR,		/* a vCPU could not go on (triple fault, KVM error) */
	VM_STOP_NO_BOOT,	/* the firmware found no bootable device */
};

struct vcpu {
	struct vm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;		/* the shared page KVM_RUN reports exits in */
	pthread_t thread;
	atomic_bool started;		
	uint64_t exits[KVM_NR_EXIT_NAMES + 1];	/* per exit reason; the last slot: others */
	uint64_t unclaimed_pio;		/* port accesses no device answered */
	uint64_t unclaimed_mmio;	/* MMIO accesses outside RAM and devices */
};

struct vm {
	int kvm_fd;			/* /dev/kvm, borrowed from struct hv_host: not closed here */
	int vm_fd;
	int run_size;			/* KVM_GET_VCPU_MMAP_SIZE */
	struct memmap map;
	struct guest_mem mem;
	struct bus pio;			/* the x86 ports */
	struct bus mmio;		/* what the platform maps (the PC: ECAM, BARs, the BIOS) */
	struct serial_8250 com1;
	unsigned int nr_vcpus;
	struct vcpu *vcpus;
	atomic_bool stopping;		/* set once: every vCPU thread must return */
	atomic_int stop_reason;		/* enum vm_stop_reason */
	atomic_uint running;		/* vCPU threads not yet ended */
	int event_fd;			/* eventfd: a vCPU thread ended, or a stop was asked */
	int signal_fd;			/* SIGINT/SIGTERM/SIGHUP for the main loop, or -1 */

	/* The PC platform (-k): hv/x86/platform.c. */
	bool pc;
	struct arch_vm *arch;		/* the architecture's own part: hv/x86/platform.h */
	struct pci_bus pci;
	struct irq_routes irq;		/* GSI routing: legacy pins + MSI-X vectors */
	bool irq_ready;
	struct vm_virtio virtio[VM_MAX_VIRTIO];
	unsigned int nr_virtio;
	struct virtio_dev *console_in;	/* the virtio console stdin feeds, or NULL: COM1 */

	/* A firmware boot (no -k): hv/x86/platform.c, firmware/. */
	struct fw_cfg *fw_cfg;

	/*
	 * Pause (hvctl pause): each vCPU thread parks before its next KVM_RUN
	 * until vm_resume().  pause_requested is read without the lock by the
	 * vCPU loop; the rest is under pause_lock.
	 */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;	/* a vCPU parked or ended; resume; stop */
	atomic_bool pause_requested;
	unsigned int parked;		/* vCPU threads waiting in vm_vcpu_park() */
	bool all_parked;		/* every running vCPU thread is parked */
	bool clock_valid;		/* clock_ns holds the guest's frozen time */
	uint64_t clock_ns;		/* KVM_GET_CLOCK when the last vCPU parked */
};

/*
 * Builds the VM cfg describes on kvm_fd (/dev/kvm, opened and checked
 * by host_open(); borrowed): creates the VM, maps guest RAM, creates the
 * vCPUs and the legacy devices.  Needs no privilege: a reboot calls it again
 * after hvrun dropped them.  0, or -errno after printing why.
 */
int vm_create(struct vm *vm, const struct vm_config *cfg, int kvm_fd);

/*
 * Runs every vCPU on its own thread; the calling thread feeds the serial
 * console from stdin and watches signal_fd, until the VM stops.  Returns why.
 */
enum vm_stop_reason vm_run(struct vm *vm);

/*
 * Maps size bytes at host (page-aligned, kept until vm_destroy()) at gpa as
 * a read-only memory slot: reads run at full speed, writes exit as MMIO
 * (which hvrun ignores, as ROM does).  0 or -errno.
 */
int vm_map_rom(struct vm *vm, uint64_t gpa, void *host, size_t size);

/* Asks every vCPU thread to return (from any thread); the first reason is kept.  Wakes paused vCPUs. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason why);

/*
 * Pauses the guest (any thread but a vCPU's): every vCPU thread leaves
 * KVM_RUN (a kick) and waits before the next one.  When the last one has
 * parked, the guest's clock (kvmclock) is read with KVM_GET_CLOCK, so that
 * vm_resume() can put it back and the guest sees no time pass.  Waits up to
 * half a second for the vCPUs to park (one may be blocked writing console
 * output); the pause completes by itself after that.  0, or -EALREADY.
 */
int vm_pause(struct vm *vm);

/* Undoes vm_pause(): KVM_SET_CLOCK to the saved time, then wakes the vCPUs.  0, or -EALREADY. */
int vm_resume(struct vm *vm);

/* "running", "paused" or "stopping": what hvctl status shows. */
const char *vm_state_name(struct vm *vm);

/* For vCPU threads (hv/machine/vcpu.c): park while a pause is asked for; account a thread
 * that ended. */
void vm_vcpu_park(struct vm *vm);
void vm_vcpu_ended(struct vm *vm);

void vm_print_exit_stats(const struct vm *vm, FILE *out);
void vm_destroy(struct vm *vm);

#endif
