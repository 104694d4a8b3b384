/* test_serial.c: the 16550A registers as Linux's 8250 driver and a BIOS use them. */
#include "tests/unit/cmocka_inc.h"

#include <string.h>
#include <unistd.h>

#include "devices/legacy/serial_8250.h"
#include "hv/base/output.h"

struct irq_probe {
	int level;
	int changes;
};

static void irq_fn(void *opaque, int level)
{
	struct irq_probe *p = opaque;

	p->level = level;
	p->changes++;
}

static uint8_t rd(struct serial_8250 *s, uint16_t reg)
{
	uint8_t v = 0;

	serial_pio(s, reg, false, &v, 1);
	return v;
}

static void wr(struct serial_8250 *s, uint16_t reg, uint8_t v)
{
	serial_pio(s, reg, true, &v, 1);
}

static void test_transmit_goes_to_fd(void **state)
{
	struct serial_8250 s;
	struct outbuf out;
	int fds[2];
	char buf[8] = "";

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(outbuf_init(&out, "test", fds[1], 4096), 0);
	serial_init(&s, &out, NULL, NULL);
	assert_int_equal(rd(&s, 5) & 0x60, 0x60);	/* THRE and TEMT: ready */
	wr(&s, 0, 'h');
	wr(&s, 0, 'i');
	assert_int_equal(read(fds[0], buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "hi", 2);
	serial_destroy(&s);
	outbuf_destroy(&out);
	close(fds[0]);
	close(fds[1]);
}

static void test_divisor_latch(void **state)
{
	struct serial_8250 s;

	(void)state;
	serial_init(&s, NULL, NULL, NULL);
	wr(&s, 3, 0x80);	/* DLAB on */
	wr(&s, 0, 0x01);
	wr(&s, 1, 0x00);
	assert_int_equal(rd(&s, 0), 0x01);
	assert_int_equal(rd(&s, 1), 0x00);
	wr(&s, 3, 0x03);	/* DLAB off: ports 0/1 are data and IER again */
	wr(&s, 1, 0x05);
	assert_int_equal(rd(&s, 1), 0x05);
	wr(&s, 3, 0x80);
	assert_int_equal(rd(&s, 0), 0x01);	/* divisor untouched by the IER write */
	assert_int_equal(rd(&s, 3), 0x80);
	serial_destroy(&s);
}

static void test_scratch_and_fifo_flags(void **state)
{
	struct serial_8250 s;

	(void)state;
	serial_init(&s, NULL, NULL, NULL);
	wr(&s, 7, 0xa5);
	assert_int_equal(rd(&s, 7), 0xa5);
	assert_int_equal(rd(&s, 2), 0x01);		/* no interrupt, no FIFO */
	wr(&s, 2, 0x07);				/* enable + clear FIFOs */
	assert_int_equal(rd(&s, 2) & 0xc0, 0xc0);	/* "16550A with FIFO" */
	serial_destroy(&s);
}

static void test_receive_and_irq(void **state)
{
	struct irq_probe irq = { 0 };
	struct serial_8250 s;
	uint8_t in[20];

	(void)state;
	serial_init(&s, NULL, irq_fn, &irq);
	wr(&s, 4, 0x08);			/* OUT2: the IRQ line is connected */
	wr(&s, 1, 0x01);			/* IER: received-data interrupt */
	assert_int_equal(irq.level, 0);
	memset(in, 'x', sizeof(in));
	in[0] = 'a';
	assert_int_equal(serial_receive(&s, in, sizeof(in)), SERIAL_FIFO_SIZE);
	assert_int_equal(irq.level, 1);
	assert_int_equal(rd(&s, 2) & 0x0f, 0x04);	/* IIR: received data */
	assert_int_equal(rd(&s, 5) & 0x01, 0x01);	/* LSR: data ready */
	assert_int_equal(rd(&s, 0), 'a');
	while (rd(&s, 5) & 0x01)
		rd(&s, 0);
	assert_int_equal(irq.level, 0);
	assert_int_equal(rd(&s, 2), 0x01);
	serial_destroy(&s);
}

/* --stats: bytes each way, rising edges, and an IIR look that acknowledges nothing. */
static void test_stats(void **state)
{
	struct irq_probe irq = { 0 };
	struct serial_stats st;
	struct serial_8250 s;

	(void)state;
	serial_init(&s, NULL, irq_fn, &irq);
	wr(&s, 4, 0x08);			/* OUT2 */
	wr(&s, 1, 0x02);			/* IER: THRI, raised at once: edge 1 */
	assert_int_equal(irq.level, 1);
	serial_get_stats(&s, &st);
	assert_int_equal(st.iir & 0x0f, 0x02);
	assert_int_equal(st.irq_level, 1);
	serial_get_stats(&s, &st);		/* the look did not acknowledge THRE */
	assert_int_equal(st.iir & 0x0f, 0x02);
	assert_int_equal(rd(&s, 2) & 0x0f, 0x02);	/* the guest's read does: line down */
	assert_int_equal(irq.level, 0);
	wr(&s, 0, 'a');				/* edge 2 */
	wr(&s, 0, 'b');				/* still up: no edge */
	assert_int_equal(serial_receive(&s, (const uint8_t *)"xy", 2), 2);
	assert_int_equal(rd(&s, 0), 'x');
	serial_get_stats(&s, &st);
	assert_int_equal(st.tx_bytes, 2);
	assert_int_equal(st.rx_bytes, 1);
	assert_int_equal(st.rx_queued, 1);
	assert_int_equal(st.irqs_raised, 2);
	assert_int_equal(st.ier, 0x02);
	assert_int_equal(st.lsr, 0x61);		/* THRE, TEMT, data ready */
	assert_int_equal(st.mcr, 0x08);
	serial_destroy(&s);
}

static void test_thre_interrupt(void **state)
{
	struct irq_probe irq = { 0 };
	struct serial_8250 s;

	(void)state;
	serial_init(&s, NULL, irq_fn, &irq);
	wr(&s, 1, 0x02);			/* THRI enabled but OUT2 off: line stays low */
	assert_int_equal(irq.level, 0);
	wr(&s, 4, 0x08);
	assert_int_equal(irq.level, 1);		/* THR empty: raised at once */
	assert_int_equal(rd(&s, 2) & 0x0f, 0x02);
	assert_int_equal(irq.level, 0);		/* reading IIR acknowledged it */
	wr(&s, 0, 'z');				/* sent instantly: empty again */
	assert_int_equal(irq.level, 1);
	serial_destroy(&s);
}

/*
 * Linux's 8250 driver against the UART, with the PC's edge-triggered IRQ 4 in
 * between: random interleavings of the tty writing (start_tx), the interrupt
 * handler (IIR, LSR, up to 16 bytes, stop_tx when the buffer is empty) and the
 * kernel console's polled writes (IER saved, cleared, restored).  Whenever the
 * driver holds bytes with THRI enabled, an interrupt must be on its way: an edge
 * latched and not yet handled.  Otherwise the tty waits for ever (a lost THRE).
 */
struct linux_8250 {
	struct serial_8250 uart;
	int line, irr;			/* the line's level; an edge latched by the interrupt controller */
	uint8_t ier;			/* the driver's copy (up->ier) */
	unsigned int pending;		/* bytes in the tty's circular buffer */
};

static void edge_irq(void *opaque, int level)
{
	struct linux_8250 *l = opaque;

	if (level && !l->line)
		l->irr = 1;
	l->line = level;
}

static void drv_set_ier(struct linux_8250 *l, uint8_t ier)
{
	l->ier = ier;
	wr(&l->uart, 1, ier);
}

static void drv_isr(struct linux_8250 *l)
{
	unsigned int n;

	l->irr = 0;
	if (rd(&l->uart, 2) & 0x01)
		return;				/* no interrupt pending */
	if (!(rd(&l->uart, 5) & 0x20) || !(l->ier & 0x02))
		return;
	for (n = 0; n < 16 && l->pending; n++, l->pending--)
		wr(&l->uart, 0, 'x');
	if (!l->pending)
		drv_set_ier(l, l->ier & ~0x02);	/* __stop_tx */
}

static void test_linux_tx_never_stalls(void **state)
{
	struct linux_8250 l = { 0 };
	unsigned int step, i, seed = 12345;

	(void)state;
	serial_init(&l.uart, NULL, edge_irq, &l);
	wr(&l.uart, 4, 0x0b);			/* DTR, RTS, OUT2 */
	drv_set_ier(&l, 0x01);			/* RX interrupts */
	for (step = 0; step < 200000; step++) {
		seed = seed * 1103515245u + 12345u;
		switch ((seed >> 16) % 4) {
		case 0:				/* the tty writes: bytes in, start_tx */
			l.pending += 1 + (seed >> 8) % 40;
			if (!(l.ier & 0x02))
				drv_set_ier(&l, l.ier | 0x02);
			break;
		case 1:
		case 2:				/* the CPU takes the interrupt */
			if (l.irr)
				drv_isr(&l);
			break;
		case 3: {			/* printk: serial8250_console_write */
			uint8_t saved = rd(&l.uart, 1);

			wr(&l.uart, 1, 0);
			for (i = 0; i < 1 + (seed >> 8) % 8; i++) {
				assert_true(rd(&l.uart, 5) & 0x20);
				wr(&l.uart, 0, 'p');
			}
			wr(&l.uart, 1, saved);
			break;
		}
		}
		if (l.pending && (l.ier & 0x02) && !l.irr)
			fail_msg("step %u: %u bytes wait with THRI on and no interrupt coming", step,
				 l.pending);
	}
	serial_destroy(&l.uart);
}

static void test_loopback(void **state)
{
	struct serial_8250 s;

	(void)state;
	serial_init(&s, NULL, NULL, NULL);
	wr(&s, 4, 0x1f);			/* loopback with all outputs on */
	assert_int_equal(rd(&s, 6) & 0xf0, 0xf0);
	wr(&s, 0, 0x5a);
	assert_int_equal(rd(&s, 5) & 0x01, 0x01);
	assert_int_equal(rd(&s, 0), 0x5a);
	wr(&s, 4, 0x00);
	assert_int_equal(rd(&s, 6) & 0xf0, 0xb0);	/* DCD, DSR, CTS */
	serial_destroy(&s);
}

static void test_wide_access_past_the_end(void **state)
{
	struct serial_8250 s;
	uint8_t d[4] = { 0 };

	(void)state;
	serial_init(&s, NULL, NULL, NULL);
	serial_pio(&s, 6, false, d, 4);		/* MSR, SCR, then nothing */
	assert_int_equal(d[2], 0xff);
	assert_int_equal(d[3], 0xff);
	serial_destroy(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transmit_goes_to_fd),
		cmocka_unit_test(test_divisor_latch),
		cmocka_unit_test(test_scratch_and_fifo_flags),
		cmocka_unit_test(test_receive_and_irq),
		cmocka_unit_test(test_thre_interrupt),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_linux_tx_never_stalls),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_wide_access_past_the_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
