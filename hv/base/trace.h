/* trace.h: --trace LIST: one line on stderr per event of the enabled kinds, off at the cost of one branch. */
#ifndef HV_TRACE_H
#define HV_TRACE_H

#include <stdbool.h>
#include <stdint.h>

/* The kinds, one bit each; --trace names them (options_parse_trace() in hv/options.c). */
#define HV_TRACE_EXITS		(1u << 0)	/* every VM exit that reaches hvrun */
#define HV_TRACE_PIO		(1u << 1)	/* port I/O and the device that took it */
#define HV_TRACE_MMIO		(1u << 2)	/* MMIO exits and the device that took them */
#define HV_TRACE_PCI		(1u << 3)	/* PCI config space, BAR moves */
#define HV_TRACE_VIRTIO		(1u << 4)	/* status, features, notifications, chains, used */
#define HV_TRACE_IRQ		(1u << 5)	/* interrupts raised (irqfd, MSI-X, INTx, SCI) */
#define HV_TRACE_BOOT		(1u << 6)	/* loading the kernel, tables, vCPU set-up */
#define HV_TRACE_ALL		0x7fu

/*
 * The enabled kinds (HV_TRACE_* bits).  Written once by trace_init() before
 * any vCPU or I/O thread starts, then only read: no lock needed.
 */
extern uint32_t hv_trace_mask;

/* Enables the kinds in mask (0: tracing off) and starts the clock lines count from. */
void trace_init(uint32_t mask);

/* Is any kind in kind enabled?  For a trace point that must compute something first. */
static inline bool trace_on(uint32_t kind)
{
	return __builtin_expect((hv_trace_mask & kind) != 0, 0);
}

/*
 * Prints one line with one write(2), so lines of different threads never mix:
 *   trace: 812345us io-vda [virtio] devices/virtio/virtqueue.c:vq_pop: vda q0: chain head 3: ...
 * (microseconds since trace_init(), the thread, the kind, the file and function
 * that handled the event, then the sentence).  Use HV_TRACE(), not this.
 */
void trace_line(uint32_t kind, const char *file, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* One trace point: when kind is off it costs one predictable branch on a global. */
#define HV_TRACE(kind, ...)							\
	do {									\
		if (trace_on(kind))						\
			trace_line((kind), __FILE__, __func__, __VA_ARGS__);	\
	} while (0)

/* "virtio" for HV_TRACE_VIRTIO (the lowest bit set in kind); "?" for none. */
const char *trace_kind_name(uint32_t kind);

#endif
