/* seccomp.c: per-thread system call allowlists (libseccomp); a SIGSYS handler names what was refused (docs/15-seccomp.md). */
#include "hv/base/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/kvm.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "hv/base/log.h"

#if !defined(__x86_64__)
#error "hv/base/seccomp.c: the SIGSYS handler reads x86-64 registers; port it with the VMM"
#endif

#define SECCOMP_MAX_NR	512	/* x86-64 numbers stop near 460; larger ones share the last slot */
#define SECCOMP_NAME_LEN 24

static enum seccomp_policy policy;
static char names[SECCOMP_MAX_NR][SECCOMP_NAME_LEN];		/* filled before any filter */
static _Atomic uint32_t counts[SECCOMP_NR_KINDS][SECCOMP_MAX_NR];	/* --seccomp log */

/* Who this thread is, for the SIGSYS handler's line (set by seccomp_enter()). */
static __thread int my_kind = SECCOMP_MAIN;
static __thread char my_name[16] = "hvrun";

static const char *const kind_names[SECCOMP_NR_KINDS] = {
	[SECCOMP_MAIN] = "main", [SECCOMP_VCPU] = "vcpu", [SECCOMP_IO] = "io",
	[SECCOMP_CONTROL] = "control", [SECCOMP_SLIRP] = "net-user", [SECCOMP_OUTPUT] = "output",
};

const char *seccomp_kind_name(enum seccomp_thread_kind kind)
{
	return (unsigned int)kind < SECCOMP_NR_KINDS ? kind_names[kind] : "?";
}

int seccomp_parse_policy(const char *s, enum seccomp_policy *out)
{
	if (!strcmp(s, "kill"))
		*out = SECCOMP_POLICY_KILL;
	else if (!strcmp(s, "log"))
		*out = SECCOMP_POLICY_LOG;
	else if (!strcmp(s, "off"))
		*out = SECCOMP_POLICY_OFF;
	else
		return -EINVAL;
	return 0;
}

const char *seccomp_policy_name(enum seccomp_policy p)
{
	return p == SECCOMP_POLICY_KILL ? "kill" : p == SECCOMP_POLICY_LOG ? "log" : "off";
}

enum seccomp_policy seccomp_policy(void)
{
	return policy;
}

/*
 * --seccomp log re-issues a refused call from the SIGSYS handler through
 * this one syscall instruction; every filter of the log policy starts with
 * "a call made from here is allowed" (the address after `syscall` is what
 * the kernel reports as instruction_pointer).  Under the kill policy no
 * filter has that prefix: the trampoline is then as forbidden as any code.
 * Returns the raw result (-errno on failure).
 */
long seccomp_raw_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
extern const char seccomp_raw_syscall_ip[];
__asm__(".text\n"
	".globl seccomp_raw_syscall\n"
	".hidden seccomp_raw_syscall\n"
	".type seccomp_raw_syscall, @function\n"
	"seccomp_raw_syscall:\n"
	"	movq %rdi, %rax\n"
	"	movq %rsi, %rdi\n"
	"	movq %rdx, %rsi\n"
	"	movq %rcx, %rdx\n"
	"	movq %r8, %r10\n"
	"	movq %r9, %r8\n"
	"	movq 8(%rsp), %r9\n"
	"	syscall\n"
	".globl seccomp_raw_syscall_ip\n"
	".hidden seccomp_raw_syscall_ip\n"
	"seccomp_raw_syscall_ip:\n"
	"	ret\n"
	".size seccomp_raw_syscall, .-seccomp_raw_syscall\n");

/* ---- the SIGSYS handler: async-signal-safe only (no stdio, no malloc, no locks) ---- */

struct line {
	char buf[256];
	size_t len;
};

static void put(struct line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = *s++;
}

static void put_uint(struct line *l, unsigned long v)
{
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i-- > 0 && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = tmp[i];
}

static void put_hex(struct line *l, unsigned long v)
{
	char tmp[20];
	int i = 0;

	do {
		tmp[i++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	put(l, "0x");
	while (i-- > 0 && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = tmp[i];
}

static const char *name_of(int nr)
{
	return nr >= 0 && nr < SECCOMP_MAX_NR && names[nr][0] ? names[nr] : "?";
}

/*
 * "thread vcpu0 (vcpu) made a forbidden system call: socket (41)", with the
 * argument that says most for the calls one meets: the path a file was
 * opened by (the caller's own pointer: it passed it to the kernel), the
 * ioctl's fd and request.
 */
static void describe(struct line *l, int nr, const greg_t *r)
{
	const char *path = nr == SYS_openat ? (const char *)r[REG_RSI]
			 : nr == SYS_open ? (const char *)r[REG_RDI] : NULL;

	put(l, "hvrun: seccomp: thread ");
	put(l, my_name);
	put(l, " (");
	put(l, seccomp_kind_name((enum seccomp_thread_kind)my_kind));
	put(l, ") made a forbidden system call: ");
	put(l, name_of(nr));
	put(l, " (");
	put_uint(l, (unsigned long)nr);
	put(l, ")");
	if (path) {
		struct line p = { .len = 0 };

		while (path[p.len] && p.len < 96)
			p.buf[p.len] = path[p.len], p.len++;
		p.buf[p.len] = '\0';
		put(l, " of \"");
		put(l, p.buf);
		put(l, "\"");
	} else if (nr == SYS_ioctl) {
		put(l, " on fd ");
		put_uint(l, (unsigned long)r[REG_RDI]);
		put(l, ", request ");
		put_hex(l, (unsigned long)r[REG_RSI]);
	}
}

static void seccomp_sigsys(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *r = uc->uc_mcontext.gregs;
	int nr = si->si_syscall, slot = nr >= 0 && nr < SECCOMP_MAX_NR ? nr : SECCOMP_MAX_NR - 1;
	struct line l = { .len = 0 };

	(void)sig;
	if (policy != SECCOMP_POLICY_LOG) {
		describe(&l, nr, r);
		put(&l, "; stopping (--seccomp log allows and counts it)\n");
		seccomp_raw_syscall(SYS_write, STDERR_FILENO, (long)l.buf, (long)l.len, 0, 0, 0);
		seccomp_raw_syscall(SYS_exit_group, SECCOMP_EXIT_STATUS, 0, 0, 0, 0, 0);
		return;
	}
	/* The first of its kind is named once: one line per thread kind and call. */
	if (atomic_fetch_add(&counts[my_kind][slot], 1) == 0) {
		describe(&l, nr, r);
		put(&l, "; allowed (--seccomp log), counted in --stats\n");
		seccomp_raw_syscall(SYS_write, STDERR_FILENO, (long)l.buf, (long)l.len, 0, 0, 0);
	}
	/*
	 * Made now, from the handler: a new thread or process would start on
	 * the handler's stack, and a signal mask set here is undone by
	 * sigreturn.  Those few are refused with ENOSYS (glibc then falls back
	 * or fails cleanly); the count names them all the same.
	 */
	if (nr == SYS_clone || nr == SYS_clone3 || nr == SYS_fork || nr == SYS_vfork ||
	    nr == SYS_rt_sigprocmask || nr == SYS_rt_sigreturn) {
		r[REG_RAX] = -ENOSYS;
		return;
	}
	r[REG_RAX] = seccomp_raw_syscall(nr, r[REG_RDI], r[REG_RSI], r[REG_RDX], r[REG_R10],
					 r[REG_R8], r[REG_R9]);
}

/*
 * glibc's malloc, the first time a thread's arena gives memory back
 * (shrink_heap), reads /proc/sys/vm/overcommit_memory, and keeps the
 * answer.  Found in the lab: a vCPU thread of the second boot did it.  So
 * one thread does it now: it fills its own arena past the trim threshold
 * (128 KiB, in pieces below the mmap threshold) and frees it all.
 */
static void *warm_malloc_trim(void *arg)
{
	void *p[32];
	int i;

	(void)arg;
	for (i = 0; i < 32; i++)
		if ((p[i] = malloc(32 << 10)) != NULL)
			memset(p[i], 0, 32 << 10);
	for (i = 31; i >= 0; i--)
		free(p[i]);
	return NULL;
}

int seccomp_init_policy(enum seccomp_policy p, char *err, size_t errlen)
{
	pthread_t warm;
	struct sigaction sa = { .sa_sigaction = seccomp_sigsys, .sa_flags = SA_SIGINFO };
	int nr;

	policy = p;
	if (p == SECCOMP_POLICY_OFF)
		return 0;
	for (nr = 0; nr < SECCOMP_MAX_NR; nr++) {
		char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (n)
			snprintf(names[nr], sizeof(names[nr]), "%s", n);
		free(n);
	}
	/*
	 * Files the C library and jansson would open later, on first use, from
	 * whichever thread gets there first: read them now, before any filter.
	 * localtime_r() (--rtc localtime) reads /etc/localtime once.  jansson
	 * seeds its hash tables from /dev/urandom on the first JSON object.
	 * malloc reads /sys/devices/system/cpu/online when a ninth thread asks
	 * for an arena, to cap their number at 8 per CPU: the same cap, set now.
	 */
	tzset();
	json_object_seed(0);
	mallopt(M_ARENA_MAX, 8 * get_nprocs());
	if (pthread_create(&warm, NULL, warm_malloc_trim, NULL) == 0)
		pthread_join(warm, NULL);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return hv_fail(err, errlen, -errno, "seccomp: sigaction(SIGSYS): %s", strerror(errno));
	return 0;
}

/* ---- building a filter ---- */

struct rules {
	scmp_filter_ctx ctx;
	int err;		/* the first libseccomp error */
	bool pinned;		/* rules for another kind's thread inside MAIN: no fd pinning */
};

static void allow_cmp(struct rules *r, int nr, unsigned int n, const struct scmp_arg_cmp *cmp)
{
	int ret;

	if (r->err || nr < 0)	/* __NR_ unknown on this architecture: nothing to allow */
		return;
	ret = seccomp_rule_add_array(r->ctx, SCMP_ACT_ALLOW, nr, n, cmp);
	if (ret && ret != -EEXIST)
		r->err = ret;
}

static void allow_nr(struct rules *r, int nr)
{
	allow_cmp(r, nr, 0, NULL);
}

#define ALLOW(r, call)	allow_nr(r, SCMP_SYS(call))
/* Allowed when argument i equals v. */
#define ALLOW_ARG(r, call, i, v) \
	allow_cmp(r, SCMP_SYS(call), 1, &(struct scmp_arg_cmp){ i, SCMP_CMP_EQ, (scmp_datum_t)(v), 0 })
/* Allowed when argument i has none of the bits in mask. */
#define ALLOW_NOBITS(r, call, i, mask) \
	allow_cmp(r, SCMP_SYS(call), 1, \
		  &(struct scmp_arg_cmp){ i, SCMP_CMP_MASKED_EQ, (scmp_datum_t)(mask), 0 })

/* ioctl(fd, req): on fd only when fd >= 0 (and pinning applies), else on any fd. */
static void allow_ioctls(struct rules *r, int fd, const unsigned long *reqs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct scmp_arg_cmp cmp[2] = {
			{ 1, SCMP_CMP_EQ, reqs[i], 0 },
			{ 0, SCMP_CMP_EQ, (scmp_datum_t)fd, 0 },
		};

		allow_cmp(r, SCMP_SYS(ioctl), fd >= 0 && r->pinned ? 2 : 1, cmp);
	}
}

#define ALLOW_IOCTLS(r, fd, ...) do { \
	static const unsigned long reqs_[] = { __VA_ARGS__ }; \
	allow_ioctls(r, fd, reqs_, sizeof(reqs_) / sizeof(reqs_[0])); \
} while (0)

/*
 * Every thread: the C library's own needs.  Memory (malloc arenas, thread
 * stacks; never executable), futexes (mutexes, condition variables, joins),
 * time, leaving a thread, writing a message, naming itself, the vCPU kick
 * (SIGUSR1) and abort() (SIGABRT), and adding a filter (which only narrows).
 */
static void rules_common(struct rules *r)
{
	ALLOW(r, read);
	ALLOW(r, write);
	ALLOW(r, writev);
	ALLOW(r, close);
	ALLOW(r, futex);
	ALLOW(r, exit);
	ALLOW(r, exit_group);
	ALLOW(r, rt_sigreturn);
	ALLOW(r, rt_sigprocmask);
	ALLOW(r, restart_syscall);
	ALLOW(r, brk);
	ALLOW_NOBITS(r, mmap, 2, PROT_EXEC);
	ALLOW_NOBITS(r, mprotect, 2, PROT_EXEC);
	ALLOW(r, munmap);
	ALLOW(r, madvise);
	ALLOW(r, clock_gettime);
	ALLOW(r, clock_nanosleep);
	ALLOW(r, nanosleep);
	ALLOW(r, gettimeofday);
	ALLOW(r, sched_yield);
	ALLOW(r, sched_getaffinity);	/* malloc sizes its arenas by the CPUs it may use */
	ALLOW(r, getrandom);
	ALLOW(r, gettid);
	ALLOW(r, getpid);
	ALLOW(r, getuid);
	ALLOW(r, geteuid);
	ALLOW(r, getgid);
	ALLOW(r, getegid);
	ALLOW(r, fstat);		/* stdio, on a stream's first use */
	ALLOW(r, newfstatat);
	ALLOW(r, lseek);
	ALLOW(r, rseq);			/* a new thread registers it before its function runs */
	ALLOW(r, set_robust_list);
	ALLOW(r, sigaltstack);		/* AddressSanitizer's runtime, at thread start and exit */
	ALLOW_ARG(r, tgkill, 2, SIGUSR1);
	ALLOW_ARG(r, tgkill, 2, SIGABRT);
	ALLOW_ARG(r, prctl, 0, PR_SET_NAME);
	ALLOW_ARG(r, prctl, 0, PR_GET_NAME);
	ALLOW_ARG(r, prctl, 0, PR_SET_NO_NEW_PRIVS);
	ALLOW_ARG(r, prctl, 0, PR_GET_SECCOMP);
	ALLOW(r, seccomp);
	if (policy == SECCOMP_POLICY_LOG)
		ALLOW(r, pipe2);	/* seccomp_export_bpf(): the log policy's prefixed filters */
}

/* The VM's interrupt side: what a device raises, from whichever thread completes it. */
static void rules_irq(struct rules *r, int vm_fd)
{
	ALLOW_IOCTLS(r, vm_fd, KVM_IRQ_LINE, KVM_IRQ_LINE_STATUS, KVM_SIGNAL_MSI, KVM_IRQFD,
		     KVM_IOEVENTFD, KVM_SET_GSI_ROUTING);
}

/*
 * A vCPU: KVM_RUN and its registers on its own fd; a guest's PIO/MMIO exit
 * handled here may program the interrupt routing, wire a queue's kick and
 * interrupt eventfds (virtio-pci, when the driver enables a queue), set the
 * TAP's offloads (virtio-net features), arm a device timer.
 */
static void rules_vcpu(struct rules *r, int vm_fd, int vcpu_fd)
{
	ALLOW_IOCTLS(r, vcpu_fd, KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
		     KVM_GET_LAPIC, KVM_GET_MSRS);
	rules_irq(r, vm_fd);
	/* hvctl pause: the last vCPU to park freezes the guest's clock (hv/machine/vm.c). */
	ALLOW_IOCTLS(r, vm_fd, KVM_GET_CLOCK);
	/* virtio-net's activation and reset (a status write): offloads, queues attached or not. */
	ALLOW_IOCTLS(r, -1, TUNSETOFFLOAD, TUNSETQUEUE, SIOCGIFFLAGS);
	ALLOW(r, eventfd2);
	ALLOW(r, epoll_ctl);
	ALLOW(r, timerfd_settime);
	ALLOW(r, io_uring_enter);
	ALLOW(r, poll);
	ALLOW(r, ppoll);
	ALLOW(r, sendto);		/* a frame to the user-mode networking thread */
	ALLOW(r, recvfrom);
}

/* An I/O thread: wait (epoll), read kicks, move data (io_uring, TAP, sockets), raise interrupts. */
static void rules_io(struct rules *r, int vm_fd)
{
	ALLOW(r, epoll_wait);
	ALLOW(r, epoll_pwait);
	ALLOW(r, epoll_ctl);
	ALLOW(r, readv);
	ALLOW(r, pread64);
	ALLOW(r, preadv);
	ALLOW(r, pwrite64);
	ALLOW(r, pwritev);
	ALLOW(r, io_uring_enter);
	ALLOW(r, fdatasync);
	ALLOW(r, fsync);
	ALLOW(r, timerfd_settime);
	ALLOW(r, poll);
	ALLOW(r, ppoll);
	ALLOW(r, sendto);
	ALLOW(r, recvfrom);
	ALLOW(r, sendmsg);
	ALLOW(r, recvmsg);
	/* TAP: offloads and queue pairs (control queue), the link poll (SIOCGIFFLAGS). */
	ALLOW_IOCTLS(r, -1, TUNSETOFFLOAD, TUNSETQUEUE, SIOCGIFFLAGS);
	rules_irq(r, vm_fd);
}

/* The control thread: its listening socket, clients, the console pipe, and the commands. */
static void rules_control(struct rules *r)
{
	ALLOW(r, epoll_wait);
	ALLOW(r, epoll_pwait);
	ALLOW(r, epoll_ctl);
	ALLOW(r, accept4);
	ALLOW(r, recvfrom);
	ALLOW(r, recvmsg);
	ALLOW(r, sendto);
	ALLOW(r, sendmsg);
	ALLOW(r, shutdown);
	ALLOW(r, getsockopt);		/* SO_PEERCRED: who is asking */
	ALLOW(r, fcntl);
	ALLOW(r, poll);
	ALLOW(r, ppoll);
	ALLOW(r, timerfd_settime);
	ALLOW(r, io_uring_enter);
	ALLOW_IOCTLS(r, -1, BLKGETSIZE64);	/* disk-resize of a block device */
	ALLOW_IOCTLS(r, -1, KVM_GET_CLOCK, KVM_SET_CLOCK);	/* pause and resume */
	rules_irq(r, -1);
}

/* The output thread: drains bounded buffers to stdout, stderr and log files. */
static void rules_output(struct rules *r)
{
	ALLOW(r, poll);
	ALLOW(r, ppoll);
	ALLOW(r, epoll_wait);
	ALLOW(r, epoll_pwait);
}

/*
 * User-mode networking (libslirp): real sockets on the guest's behalf
 * (TCP and UDP to anywhere, ICMP echo with datagram sockets, the port
 * forwards' listening sockets), and /etc/resolv.conf, which libslirp reads
 * again when it changes (the only file any hvrun thread opens, read-only).
 */
static void rules_slirp(struct rules *r)
{
	ALLOW(r, poll);
	ALLOW(r, ppoll);
	ALLOW_ARG(r, socket, 0, AF_INET);
	ALLOW_ARG(r, socket, 0, AF_INET6);
	ALLOW(r, connect);
	ALLOW(r, bind);
	ALLOW(r, listen);
	ALLOW(r, accept);
	ALLOW(r, accept4);
	ALLOW(r, sendto);
	ALLOW(r, recvfrom);
	ALLOW(r, sendmsg);
	ALLOW(r, recvmsg);
	ALLOW(r, setsockopt);
	ALLOW(r, getsockopt);
	ALLOW(r, getsockname);
	ALLOW(r, getpeername);
	ALLOW(r, shutdown);
	ALLOW(r, fcntl);
	ALLOW(r, readv);
	ALLOW_IOCTLS(r, -1, FIONREAD, FIONBIO);
	ALLOW_NOBITS(r, openat, 2, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND);
	ALLOW(r, uname);
}

/*
 * The main thread builds, runs and tears down every VM (again after each
 * guest reboot), so its own list is long: KVM's system and VM ioctls,
 * guest memory, the devices' eventfds, io_uring rings and timers, starting
 * and joining threads (clone only with CLONE_THREAD: no new process), the
 * terminal's mode, and at the end the control socket's and --pidfile's
 * files.  Every thread it starts inherits this filter, so it also holds
 * the others' lists (without their fd pinning); each of them narrows it.
 */
static void rules_main(struct rules *r)
{
	ALLOW_IOCTLS(r, -1, KVM_GET_API_VERSION, KVM_CHECK_EXTENSION, KVM_CREATE_VM,
		     KVM_GET_VCPU_MMAP_SIZE, KVM_GET_SUPPORTED_CPUID, KVM_SET_TSS_ADDR,
		     KVM_SET_IDENTITY_MAP_ADDR, KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2,
		     KVM_SET_USER_MEMORY_REGION, KVM_CREATE_VCPU, KVM_SET_MSRS, KVM_SET_FPU,
		     KVM_SET_LAPIC, KVM_SET_CPUID2, KVM_GET_CLOCK, KVM_SET_CLOCK,
		     KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
		     TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, BLKGETSIZE64, BLKSSZGET,
		     BLKPBSZGET, TUNSETOFFLOAD);
	rules_irq(r, -1);
	ALLOW(r, eventfd2);
	ALLOW(r, epoll_create1);
	ALLOW(r, epoll_ctl);
	ALLOW(r, io_uring_setup);
	ALLOW(r, io_uring_register);
	ALLOW(r, io_uring_enter);
	ALLOW(r, timerfd_create);
	ALLOW(r, timerfd_settime);
	ALLOW(r, poll);
	ALLOW(r, ppoll);
	ALLOW(r, readv);
	ALLOW(r, pread64);
	ALLOW(r, preadv);
	ALLOW(r, fdatasync);
	ALLOW(r, fsync);
	ALLOW(r, rt_sigaction);
	ALLOW(r, dup);
	ALLOW(r, dup2);
	ALLOW(r, dup3);
	ALLOW(r, fcntl);
	ALLOW(r, setsid);		/* --daemonize, once the VM is built */
	ALLOW(r, chdir);
	ALLOW(r, unlink);		/* the control socket, --pidfile */
	ALLOW(r, unlinkat);
	ALLOW(r, wait4);		/* the sandbox's helper, at exit (hv/base/sandbox.c) */
	ALLOW(r, shutdown);
	/* Threads, never processes: glibc tries clone3 first, and falls back to clone on ENOSYS. */
	allow_cmp(r, SCMP_SYS(clone), 1, &(struct scmp_arg_cmp){ 0, SCMP_CMP_MASKED_EQ,
								 CLONE_THREAD, CLONE_THREAD });
	if (!r->err)
		r->err = seccomp_rule_add(r->ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	rules_vcpu(r, -1, -1);
	rules_io(r, -1);
	rules_control(r);
	rules_output(r);
}

static int rules_build(struct rules *r, enum seccomp_thread_kind kind,
		       const struct seccomp_thread_args *a)
{
	int vm_fd = a ? a->vm_fd : -1, vcpu_fd = a ? a->vcpu_fd : -1;

	r->ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!r->ctx)
		return -ENOMEM;
	r->err = seccomp_attr_set(r->ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	r->pinned = true;
	rules_common(r);
	switch (kind) {
	case SECCOMP_MAIN:
		r->pinned = false;
		rules_main(r);
		break;
	case SECCOMP_VCPU:
		rules_vcpu(r, vm_fd, vcpu_fd);
		break;
	case SECCOMP_IO:
		rules_io(r, vm_fd);
		break;
	case SECCOMP_CONTROL:
		rules_control(r);
		break;
	case SECCOMP_SLIRP:
		rules_slirp(r);
		break;
	case SECCOMP_OUTPUT:
		rules_output(r);
		break;
	default:
		r->err = -EINVAL;
	}
	return r->err;
}

/*
 * The log policy's filter: libseccomp's program with a prefix that lets the
 * SIGSYS handler's trampoline through.  seccomp_export_bpf() writes to an
 * fd: a pipe holds the largest filter (4096 instructions of 8 bytes).
 */
static int load_with_trampoline(scmp_filter_ctx ctx)
{
	uint64_t ip = (uint64_t)(uintptr_t)seccomp_raw_syscall_ip;
	struct sock_filter prog[BPF_MAXINSNS];
	struct sock_filter prefix[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ip, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, instruction_pointer) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(ip >> 32), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	size_t np = sizeof(prefix) / sizeof(prefix[0]), got = 0;
	struct sock_fprog fprog;
	int p[2], ret;
	ssize_t n;

	memcpy(prog, prefix, sizeof(prefix));
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	ret = seccomp_export_bpf(ctx, p[1]);
	close(p[1]);
	while (!ret && (n = read(p[0], (char *)(prog + np) + got,
				 sizeof(prog) - np * sizeof(prog[0]) - got)) > 0)
		got += (size_t)n;
	close(p[0]);
	if (ret)
		return ret;
	if (!got || got % sizeof(prog[0]))
		return -EIO;
	fprog.len = (unsigned short)(np + got / sizeof(prog[0]));
	fprog.filter = prog;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
		return -errno;
	return 0;
}

int seccomp_enter(enum seccomp_thread_kind kind, const struct seccomp_thread_args *a)
{
	struct rules r = { 0 };
	int ret;

	if (policy == SECCOMP_POLICY_OFF)
		return 0;
	my_kind = (unsigned int)kind < SECCOMP_NR_KINDS ? (int)kind : SECCOMP_MAIN;
	if (prctl(PR_GET_NAME, my_name, 0, 0, 0) < 0)
		snprintf(my_name, sizeof(my_name), "%s", seccomp_kind_name(kind));
	ret = rules_build(&r, kind, a);
	if (!ret)
		ret = policy == SECCOMP_POLICY_LOG ? load_with_trampoline(r.ctx) : seccomp_load(r.ctx);
	if (r.ctx)
		seccomp_release(r.ctx);
	if (ret)
		hv_err("seccomp: cannot install the %s filter of thread %s: %s",
		       seccomp_kind_name(kind), my_name, strerror(-ret));
	return ret;
}

/* ---- what the log policy counted ---- */

uint64_t seccomp_violations(enum seccomp_thread_kind kind, int nr)
{
	uint64_t total = 0;
	int k, i;

	for (k = 0; k < SECCOMP_NR_KINDS; k++)
		for (i = 0; i < SECCOMP_MAX_NR; i++)
			if ((k == (int)kind || kind >= SECCOMP_NR_KINDS) && (i == nr || nr < 0))
				total += atomic_load(&counts[k][i]);
	return total;
}

json_t *seccomp_stats_json(void)
{
	json_t *arr = json_array();
	int k, i;

	for (k = 0; k < SECCOMP_NR_KINDS; k++) {
		for (i = 0; i < SECCOMP_MAX_NR; i++) {
			uint32_t n = atomic_load(&counts[k][i]);

			if (n)
				json_array_append_new(arr, json_pack("{s:s,s:s,s:i,s:I}", "thread",
					kind_names[k], "syscall", name_of(i), "nr", i,
					"count", (json_int_t)n));
		}
	}
	return arr;
}

void seccomp_stats_print(FILE *out)
{
	int k, i;
	bool any = false;

	for (k = 0; k < SECCOMP_NR_KINDS; k++) {
		for (i = 0; i < SECCOMP_MAX_NR; i++) {
			uint32_t n = atomic_load(&counts[k][i]);

			if (!n)
				continue;
			if (!any)
				fprintf(out, "seccomp (--seccomp log): calls outside a thread's list\n");
			any = true;
			fprintf(out, "  %-9s %-20s (%3d) %10u\n", kind_names[k], name_of(i), i, n);
		}
	}
}
