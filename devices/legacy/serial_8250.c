/* serial_8250.c: 16550A UART registers, as Linux's 8250 driver and a BIOS program them. */
#include "devices/legacy/serial_8250.h"

#include "hv/base/output.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Register offsets (PC16550D data sheet, table 2). */
enum { UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
       UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7 };

#define LCR_DLAB	0x80
#define IER_RDI		0x01	/* received data available */
#define IER_THRI	0x02	/* transmitter holding register empty */
#define IIR_NONE	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08	/* on a PC, gates the IRQ line */
#define MCR_LOOP	0x10
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

void serial_init(struct serial_8250 *s, struct outbuf *out, serial_irq_fn set_irq, void *irq_opaque)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->out = out;
	s->set_irq = set_irq;
	s->irq_opaque = irq_opaque;
	s->dll = 0x0c;		/* 9600 baud until programmed, as after a PC reset */
	s->lcr = 0x03;
}

void serial_destroy(struct serial_8250 *s)
{
	pthread_mutex_destroy(&s->lock);
}

/* The highest-priority pending interrupt, as IIR reports it. */
static uint8_t serial_iir(const struct serial_8250 *s)
{
	if ((s->ier & IER_RDI) && s->rx_count)
		return IIR_RDI;
	if ((s->ier & IER_THRI) && s->thr_irq_pending)
		return IIR_THRI;
	return IIR_NONE;
}

/* Line status: THR is always empty (output never waits), data ready if any is queued. */
static uint8_t serial_lsr(const struct serial_8250 *s)
{
	return LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
}

/* Called with the lock held, after every register change. */
static void serial_update_irq(struct serial_8250 *s)
{
	int level = serial_iir(s) != IIR_NONE && (s->mcr & MCR_OUT2);

	if (level != s->irq_level) {
		s->irq_level = level;
		s->nr_irq_raised += (uint64_t)level;
		if (s->set_irq)
			s->set_irq(s->irq_opaque, level);
	}
}

static void serial_rx_push(struct serial_8250 *s, uint8_t byte)
{
	if (s->rx_count == SERIAL_FIFO_SIZE)
		return;		/* overrun: the byte is lost, as on real hardware */
	s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = byte;
	s->rx_count++;
}

static void serial_transmit(struct serial_8250 *s, uint8_t byte)
{
	if (s->mcr & MCR_LOOP) {
		serial_rx_push(s, byte);	/* loopback: Linux probes the UART this way */
	} else if (s->out) {
		/*
		 * Into a buffer, under the UART lock on a vCPU thread: never a
		 * write() that could wait for a reader.  A full buffer drops the
		 * byte (counted); the guest must not stall.
		 */
		outbuf_write(s->out, &byte, 1);
	}
	s->nr_tx++;
	/* Transmission is instant: THR is empty again at once. */
	s->thr_irq_pending = true;
}

static uint8_t serial_read_reg(struct serial_8250 *s, uint16_t reg)
{
	uint8_t v;

	switch (reg) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		if (!s->rx_count)
			return 0;
		v = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
		s->rx_count--;
		s->nr_rx++;
		return v;
	case UART_IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case UART_IIR_FCR:
		v = serial_iir(s);
		if (v == IIR_THRI)
			s->thr_irq_pending = false;	/* reading IIR acknowledges THRE */
		return v | ((s->fcr & FCR_ENABLE) ? IIR_FIFO : 0);
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return serial_lsr(s);
	case UART_MSR:
		if (s->mcr & MCR_LOOP)	/* outputs wired back to the inputs */
			return (uint8_t)(((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
					 ((s->mcr & MCR_RTS) ? MSR_CTS : 0) |
					 ((s->mcr & MCR_OUT1) ? MSR_RI : 0) |
					 ((s->mcr & MCR_OUT2) ? MSR_DCD : 0));
		return MSR_DCD | MSR_DSR | MSR_CTS;	/* a terminal is always there */
	default:
		return s->scr;
	}
}

static void serial_write_reg(struct serial_8250 *s, uint16_t reg, uint8_t v)
{
	switch (reg) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB)
			s->dll = v;
		else
			serial_transmit(s, v);
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
		} else {
			/* Enabling THRI with THR empty raises it at once (16550A behaviour). */
			if (!(s->ier & IER_THRI) && (v & IER_THRI))
				s->thr_irq_pending = true;
			s->ier = v & 0x0f;
		}
		break;
	case UART_IIR_FCR:
		s->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX)
			s->rx_head = s->rx_count = 0;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_LSR:
	case UART_MSR:
		break;		/* read-only */
	default:
		s->scr = v;
		break;
	}
}

bool serial_pio(void *opaque, uint64_t offset, bool is_write, uint8_t *data, unsigned int size)
{
	struct serial_8250 *s = opaque;
	unsigned int i;

	pthread_mutex_lock(&s->lock);
	/* The UART has byte registers; a wider access touches consecutive ones. */
	for (i = 0; i < size && offset + i < SERIAL_NR_PORTS; i++) {
		if (is_write)
			serial_write_reg(s, (uint16_t)(offset + i), data[i]);
		else
			data[i] = serial_read_reg(s, (uint16_t)(offset + i));
	}
	for (; !is_write && i < size; i++)
		data[i] = 0xff;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return true;
}

size_t serial_receive(struct serial_8250 *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	while (n < len && s->rx_count < SERIAL_FIFO_SIZE)
		serial_rx_push(s, buf[n++]);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

void serial_get_stats(struct serial_8250 *s, struct serial_stats *st)
{
	pthread_mutex_lock(&s->lock);
	st->tx_bytes = s->nr_tx;
	st->rx_bytes = s->nr_rx;
	st->irqs_raised = s->nr_irq_raised;
	st->ier = s->ier;
	st->iir = (uint8_t)(serial_iir(s) | ((s->fcr & FCR_ENABLE) ? IIR_FIFO : 0));
	st->lsr = serial_lsr(s);
	st->mcr = s->mcr;
	st->rx_queued = s->rx_count;
	st->irq_level = s->irq_level;
	pthread_mutex_unlock(&s->lock);
}
