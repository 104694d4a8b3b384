/* vm.c: create a VM (KVM_CREATE_VM), give it memory and devices, run its vCPUs. */
#include "hv/machine/vm.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "devices/virtio_console.h"
#include "firmware/fw_cfg.h"
#include "hv/base/bytes.h"
#include "hv/base/console.h"
#include "hv/base/log.h"
#include "hv/base/output.h"
#include "hv/machine/arch.h"
#include "hv/machine/vcpu.h"

static int vm_setup_memory(struct vm *vm, const struct vm_config *cfg)
{
	unsigned int i;
	int ret;

	ret = memmap_build(&vm->map, cfg->mem_bytes);
	if (ret)
		return ret;
	ret = gm_alloc(&vm->mem, &vm->map, cfg->hugepages);
	if (ret && cfg->hugepages) {
		hv_err("--hugepages: cannot take %" PRIu64 " MB of guest RAM from the 2 MiB huge "
		       "page pool (%s); reserve %" PRIu64 " pages first, as root: "
		       "echo %" PRIu64 " > /proc/sys/vm/nr_hugepages", cfg->mem_bytes / HV_MIB,
		       strerror(-ret), cfg->mem_bytes >> 21, cfg->mem_bytes >> 21);
		return ret;
	}
	if (ret) {
		hv_err("cannot map %" PRIu64 " MB of guest RAM: %s", cfg->mem_bytes / HV_MIB,
		       strerror(-ret));
		return ret;
	}
	/* One KVM memory slot per RAM range: guest-physical -> our mapping. */
	for (i = 0; i < vm->mem.nr_regions; i++) {
		const struct gm_region *r = &vm->mem.region[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->host,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			ret = -errno;
			hv_err("KVM_SET_USER_MEMORY_REGION (slot %u, %" PRIu64 " MB at 0x%" PRIx64 "): %s",
			       i, r->size / HV_MIB, r->gpa, strerror(errno));
			return ret;
		}
		hv_info("RAM slot %u: guest 0x%09" PRIx64 "-0x%09" PRIx64 " (%" PRIu64 " MB)",
			i, r->gpa, r->gpa + r->size - 1, r->size / HV_MIB);
	}
	return 0;
}

int vm_map_rom(struct vm *vm, uint64_t gpa, void *host, size_t size)
{
	bool ro = kvm_cap(vm->kvm_fd, KVM_CAP_READONLY_MEM) > 0;
	struct kvm_userspace_memory_region slot = {
		.slot = vm->mem.nr_regions,	/* after the RAM slots */
		.flags = ro ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
		int ret = -errno;	/* before the log line, which may change errno */

		hv_err("KVM_SET_USER_MEMORY_REGION (ROM, %zu KiB at 0x%" PRIx64 "): %s", size / 1024,
		       gpa, strerror(-ret));
		return ret;
	}
	if (!ro)
		hv_warn("this KVM has no read-only memory slots: the guest may write to its BIOS image");
	hv_info("ROM slot %u: guest 0x%09" PRIx64 "-0x%09" PRIx64 " (%zu KiB%s)", slot.slot, gpa,
		gpa + size - 1, size / 1024, ro ? ", read-only" : "");
	return 0;
}

/* The pause machinery exists from the start: vm_destroy() frees it whatever vm_create() reached. */
static void vm_pause_init(struct vm *vm)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&vm->pause_lock, NULL);
	/* vm_pause() waits with a deadline: on the monotonic clock, not the settable one. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->pause_cond, &attr);
	pthread_condattr_destroy(&attr);
}

static void vm_com1_irq(void *opaque, int level)
{
	arch_set_irq(opaque, SERIAL_COM1_IRQ, level);
}

int vm_create(struct vm *vm, const struct vm_config *cfg, int kvm_fd)
{
	int ret;
	unsigned int i;

	memset(vm, 0, sizeof(*vm));
	vm_pause_init(vm);
	vm->kvm_fd = kvm_fd;
	vm->vm_fd = -1;
	vm->signal_fd = -1;
	vm->pc = cfg->pc;
	bus_init_ports(&vm->pio);
	bus_init_mmio(&vm->mmio);
	/* COM1 is the guest's console; its output is our stdout, its IRQ line 4 on a PC. */
	serial_init(&vm->com1, &out_console, vm->pc ? vm_com1_irq : NULL, vm);
	if (vm->pc)
		pci_bus_init(&vm->pci);
	vm->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->event_fd < 0)
		return -errno;
	/* host_open() checked KVM's capabilities and that it allows cfg->cpus vCPUs. */

	do {
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0UL);
	} while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		ret = -errno;
		hv_err("KVM_CREATE_VM: %s", strerror(errno));
		return ret;
	}
	hv_info("KVM_CREATE_VM: VM fd %d", vm->vm_fd);
	/* What the architecture needs first: the interrupt controllers must exist before any vCPU. */
	ret = arch_vm_init(vm, cfg);
	if (ret)
		return ret;
	ret = vm_setup_memory(vm, cfg);
	if (ret)
		return ret;

	ret = bus_register(&vm->pio, "com1", SERIAL_COM1_BASE, SERIAL_NR_PORTS,
			   serial_pio, &vm->com1);
	if (ret)
		return ret;

	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0UL);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		hv_err("KVM_GET_VCPU_MMAP_SIZE: %s", vm->run_size < 0 ? strerror(errno) : "too small");
		return -EINVAL;
	}
	vm->vcpus = calloc(cfg->cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	ret = arch_vcpus_prepare(vm);
	if (ret)
		return ret;
	for (i = 0; i < cfg->cpus; i++) {
		ret = vcpu_create(vm, &vm->vcpus[i], i);
		if (ret) {
			hv_err("KVM_CREATE_VCPU %u: %s", i, strerror(-ret));
			return ret;
		}
		vm->nr_vcpus++;
		ret = arch_vcpu_setup(vm, i, cfg->cpus);
		if (ret)
			return ret;
	}
	hv_info("KVM_CREATE_VCPU: %u vCPU(s), kvm_run pages of %d bytes", vm->nr_vcpus, vm->run_size);
	return 0;
}

static void vm_kick_handler(int sig)
{
	(void)sig;	/* its only job is to interrupt KVM_RUN with EINTR */
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason why)
{
	int none = VM_STOP_NONE;
	unsigned int i;

	atomic_compare_exchange_strong(&vm->stop_reason, &none, (int)why);
	atomic_store(&vm->stopping, true);
	/* Paused vCPUs wait on pause_cond: a stop (hvctl stop, reset, a signal) must wake them. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	eventfd_write(vm->event_fd, 1);
}

/* ---- pause and resume (hvctl pause / resume) ---- */

/*
 * Called with pause_lock held whenever a vCPU parks or ends: once every vCPU
 * thread still running is parked, no vCPU is in KVM_RUN and the guest's clock
 * can be frozen.  KVM's clock (what kvmclock and the guest's timekeeping read)
 * goes on counting host time; KVM_GET_CLOCK now and KVM_SET_CLOCK at resume
 * take the paused time out of it, as QEMU does on stop/cont.
 */
static void vm_pause_check_parked(struct vm *vm)
{
	struct kvm_clock_data clock = { 0 };

	if (!atomic_load(&vm->pause_requested) || vm->all_parked ||
	    vm->parked < atomic_load(&vm->running))
		return;
	vm->all_parked = true;
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock) == 0) {
		vm->clock_ns = clock.clock;
		vm->clock_valid = true;
	} else {
		hv_warn("KVM_GET_CLOCK: %s; the guest's clock will jump at resume", strerror(errno));
	}
	pthread_cond_broadcast(&vm->pause_cond);	/* vm_pause() may be waiting */
}

void vm_vcpu_park(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->parked++;
	vm_pause_check_parked(vm);
	while (atomic_load(&vm->pause_requested) && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->parked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_vcpu_ended(struct vm *vm)
{
	/* One fewer thread to wait for: the others may all be parked now. */
	pthread_mutex_lock(&vm->pause_lock);
	vm_pause_check_parked(vm);
	pthread_mutex_unlock(&vm->pause_lock);
}

int vm_pause(struct vm *vm)
{
	struct timespec deadline;
	unsigned int i;

	pthread_mutex_lock(&vm->pause_lock);
	if (atomic_load(&vm->pause_requested)) {
		pthread_mutex_unlock(&vm->pause_lock);
		return -EALREADY;
	}
	atomic_store(&vm->pause_requested, true);
	vm->all_parked = vm->clock_valid = false;
	vm_pause_check_parked(vm);	/* no vCPU thread running at all */
	pthread_mutex_unlock(&vm->pause_lock);

	/* The flag is set before the kick: a vCPU sees it at the top of its loop either way. */
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);

	/*
	 * Wait a little for them, so that "paused" means the guest stopped.  Not
	 * for ever: a vCPU blocked writing to a full console pipe is waiting for
	 * the very thread that called us (the control thread drains that pipe).
	 */
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_nsec += 500 * 1000 * 1000;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&vm->pause_lock);
	while (!vm->all_parked && atomic_load(&vm->pause_requested) && !atomic_load(&vm->stopping))
		if (pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock, &deadline) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&vm->pause_lock);
	return 0;
}

int vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	if (!atomic_load(&vm->pause_requested)) {
		pthread_mutex_unlock(&vm->pause_lock);
		return -EALREADY;
	}
	/* Every vCPU is parked (clock_valid says so): none can enter KVM_RUN before the clock is back. */
	if (vm->clock_valid) {
		struct kvm_clock_data clock = { .clock = vm->clock_ns };

		if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
			hv_warn("KVM_SET_CLOCK: %s; the guest's clock jumps by the paused time",
				strerror(errno));
	}
	atomic_store(&vm->pause_requested, false);
	vm->all_parked = vm->clock_valid = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	return 0;
}

const char *vm_state_name(struct vm *vm)
{
	if (atomic_load(&vm->stopping))
		return "stopping";
	return atomic_load(&vm->pause_requested) ? "paused" : "running";
}

/* Console input waiting for room in the UART's receive FIFO. */
struct console_input {
	uint8_t buf[512];
	size_t len, off;
	bool eof;
	struct console_escape esc;
};

/* Reads stdin, filters the Ctrl-A escape, queues bytes for the guest. */
static void vm_console_read(struct vm *vm, struct console_input *in)
{
	uint8_t raw[256];
	ssize_t n = read(STDIN_FILENO, raw, sizeof(raw));
	bool quit;

	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			in->eof = true;	/* no more input: the guest runs on */
		return;
	}
	in->off = 0;
	in->len = console_filter(&in->esc, raw, (size_t)n, in->buf, &quit);
	if (quit) {
		hv_info("Ctrl-A x: stopping the VM");
		vm_request_stop(vm, VM_STOP_QUIT);
	}
}

static void vm_console_push(struct vm *vm, struct console_input *in)
{
	if (vm->console_in)
		in->off += vcon_input(vm->console_in, in->buf + in->off, in->len - in->off);
	else
		in->off += serial_receive(&vm->com1, in->buf + in->off, in->len - in->off);
	if (in->off == in->len)
		in->len = in->off = 0;
}

/* The main thread's loop: console input, signals, and the end of vCPU threads. */
static void vm_main_loop(struct vm *vm)
{
	struct console_input in = { .eof = !vm->pc };	/* only an OS reads the console */
	struct signalfd_siginfo si;
	struct pollfd p[3];

	while (atomic_load(&vm->running) > 0) {
		int nfds = 0, timeout = -1;
		eventfd_t ev;

		p[nfds++] = (struct pollfd){ .fd = vm->event_fd, .events = POLLIN };
		if (vm->signal_fd >= 0)
			p[nfds++] = (struct pollfd){ .fd = vm->signal_fd, .events = POLLIN };
		if (in.len)
			timeout = 5;	/* the guest has not drained the FIFO yet: retry soon */
		else if (!in.eof && !atomic_load(&vm->stopping))
			p[nfds++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		if (poll(p, (nfds_t)nfds, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			eventfd_read(vm->event_fd, &ev);
		if (vm->signal_fd >= 0 && (p[1].revents & POLLIN) &&
		    read(vm->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			hv_info("signal %u: stopping the VM", si.ssi_signo);
			vm_request_stop(vm, VM_STOP_QUIT);
		}
		if (in.len)
			vm_console_push(vm, &in);
		else if (nfds > 1 && p[nfds - 1].fd == STDIN_FILENO && p[nfds - 1].revents)
			vm_console_read(vm, &in), vm_console_push(vm, &in);
	}
}

enum vm_stop_reason vm_run(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = vm_kick_handler };	/* no SA_RESTART */
	sigset_t kick;
	unsigned int i;
	int ret;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	/* Only vCPU threads take the kick signal; they unblock it themselves. */
	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &kick, NULL);

	atomic_store(&vm->running, vm->nr_vcpus);
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (ret) {
			hv_err("cannot start the thread of vCPU %u: %s", i, strerror(ret));
			atomic_fetch_sub(&vm->running, vm->nr_vcpus - i);
			vm_request_stop(vm, VM_STOP_ERROR);
			break;
		}
		atomic_store(&vm->vcpus[i].started, true);
	}
	vm_main_loop(vm);
	for (i = 0; i < vm->nr_vcpus; i++)
		if (atomic_load(&vm->vcpus[i].started))
			pthread_join(vm->vcpus[i].thread, NULL);
	return (enum vm_stop_reason)atomic_load(&vm->stop_reason);
}

void vm_print_exit_stats(const struct vm *vm, FILE *out)
{
	uint64_t total[KVM_NR_EXIT_NAMES + 1] = { 0 }, pio_unclaimed = 0, mmio_unclaimed = 0;
	unsigned int i, r;

	for (i = 0; i < vm->nr_vcpus; i++) {
		for (r = 0; r <= KVM_NR_EXIT_NAMES; r++)
			total[r] += vm->vcpus[i].exits[r];
		pio_unclaimed += vm->vcpus[i].unclaimed_pio;
		mmio_unclaimed += vm->vcpus[i].unclaimed_mmio;
	}
	fprintf(out, "hvrun: VM exits that reached hvrun, all %u vCPU(s):\n", vm->nr_vcpus);
	for (r = 0; r <= KVM_NR_EXIT_NAMES; r++)
		if (total[r])
			fprintf(out, "  %-16s %12" PRIu64 "\n",
				r < KVM_NR_EXIT_NAMES ? kvm_exit_name(r) : "other", total[r]);
	fprintf(out, "  (port accesses no device claimed: %" PRIu64 ")\n", pio_unclaimed);
	if (mmio_unclaimed)
		fprintf(out, "  (MMIO accesses no device claimed: %" PRIu64 ")\n", mmio_unclaimed);
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	arch_vm_destroy(vm);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nr_vcpus = 0;
	serial_destroy(&vm->com1);
	if (vm->pc)
		pci_bus_destroy(&vm->pci);
	fw_cfg_free(vm->fw_cfg);
	vm->fw_cfg = NULL;
	if (vm->event_fd >= 0)
		close(vm->event_fd);
	vm->event_fd = -1;
	gm_free(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	pthread_cond_destroy(&vm->pause_cond);
	pthread_mutex_destroy(&vm->pause_lock);
	/* kvm_fd belongs to struct hv_host: the next boot's VM is created on it. */
	vm->vm_fd = vm->kvm_fd = -1;
}
