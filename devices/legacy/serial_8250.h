/* serial_8250.h: a 16550A-compatible UART (the PC's COM1 at 0x3f8, IRQ 4). */
#ifndef DEV_SERIAL_8250_H
#define DEV_SERIAL_8250_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERIAL_COM1_BASE	0x3f8
#define SERIAL_COM1_IRQ		4
#define SERIAL_NR_PORTS		8
#define SERIAL_FIFO_SIZE	16

/* Raises (level 1) or lowers (0) the UART's interrupt line. */
typedef void (*serial_irq_fn)(void *opaque, int level);

struct serial_8250 {
	pthread_mutex_t lock;		/* vCPU threads and the input thread share it */
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thr_irq_pending;		/* "transmitter empty" not yet seen in IIR */
	uint8_t rx[SERIAL_FIFO_SIZE];
	unsigned int rx_head, rx_count;
	struct outbuf *out;		/* where the guest's output goes (NULL: dropped); never blocks */
	serial_irq_fn set_irq;		/* NULL: no interrupt line wired */
	void *irq_opaque;
	int irq_level;
	uint64_t nr_tx, nr_rx;		/* bytes the guest sent, bytes it read */
	uint64_t nr_irq_raised;		/* times the line went up: edges, on the PC's ISA IRQ */
};

/* What --stats and hvctl stats show of the UART: its counters and its registers now. */
struct serial_stats {
	uint64_t tx_bytes, rx_bytes, irqs_raised;
	uint8_t ier, iir, lsr, mcr;	/* iir is looked at, not read: nothing is acknowledged */
	unsigned int rx_queued;
	int irq_level;
};

struct outbuf;
void serial_init(struct serial_8250 *s, struct outbuf *out, serial_irq_fn set_irq, void *irq_opaque);
void serial_destroy(struct serial_8250 *s);

/* The port handler (a bus_handler_fn of hv/base/bus.h): offset 0..7 from the base. */
bool serial_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size);

/* Host input for the guest: queues up to the free FIFO room, returns the count taken. */
size_t serial_receive(struct serial_8250 *s, const uint8_t *buf, size_t len);

void serial_get_stats(struct serial_8250 *s, struct serial_stats *st);

#endif
