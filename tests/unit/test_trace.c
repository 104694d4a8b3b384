/* test_trace.c: --trace: only enabled kinds print, one whole line each, with file:function; lines of threads never mix. */
#include "tests/unit/cmocka_inc.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/virtio/virtqueue.h"
#include "hv/base/trace.h"
#include "hv/options.h"
#include "tests/unit/mock_virtio.h"

/* stderr goes to a temporary file (O_APPEND: threads' writes never overwrite each other). */
struct capture {
	char path[64];
	int fd, saved;
	char *text;
};

static void capture_start(struct capture *c)
{
	strcpy(c->path, "/tmp/test_trace.XXXXXX");
	c->fd = mkstemp(c->path);
	assert_true(c->fd >= 0);
	unlink(c->path);
	assert_int_equal(fcntl(c->fd, F_SETFL, O_APPEND), 0);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_int_equal(dup2(c->fd, STDERR_FILENO), STDERR_FILENO);
	c->text = NULL;
}

/* Restores stderr; c->text: everything written meanwhile (free it). */
static void capture_stop(struct capture *c)
{
	off_t len;

	assert_int_equal(dup2(c->saved, STDERR_FILENO), STDERR_FILENO);
	close(c->saved);
	len = lseek(c->fd, 0, SEEK_END);
	assert_true(len >= 0);
	c->text = calloc(1, (size_t)len + 1);
	assert_non_null(c->text);
	assert_int_equal(pread(c->fd, c->text, (size_t)len, 0), len);
	close(c->fd);
}

static unsigned int count_lines(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_off_prints_nothing(void **state)
{
	struct capture c;

	(void)state;
	trace_init(0);
	capture_start(&c);
	HV_TRACE(HV_TRACE_VIRTIO, "never %d", 1);
	HV_TRACE(HV_TRACE_ALL, "never %d", 2);
	capture_stop(&c);
	assert_string_equal(c.text, "");
	assert_false(trace_on(HV_TRACE_ALL));
	free(c.text);
}

static void test_only_enabled_kinds(void **state)
{
	struct capture c;
	uint32_t mask;
	char err[256];

	(void)state;
	/* The mask main() gives trace_init() comes from --trace virtio,irq. */
	assert_int_equal(options_parse_trace("virtio,irq", &mask, err, sizeof(err)), 0);
	trace_init(mask);
	assert_true(trace_on(HV_TRACE_VIRTIO));
	assert_true(trace_on(HV_TRACE_IRQ));
	assert_false(trace_on(HV_TRACE_EXITS | HV_TRACE_PIO | HV_TRACE_MMIO | HV_TRACE_PCI |
			      HV_TRACE_BOOT));
	capture_start(&c);
	HV_TRACE(HV_TRACE_VIRTIO, "vda q0 notified (%d)", 7);
	HV_TRACE(HV_TRACE_EXITS, "vCPU 0: exit IO");
	HV_TRACE(HV_TRACE_IRQ, "MSI-X vector %u", 1u);
	HV_TRACE(HV_TRACE_PIO, "port 0x3f8");
	HV_TRACE(HV_TRACE_BOOT, "kernel");
	capture_stop(&c);
	assert_int_equal(count_lines(c.text), 2);
	assert_non_null(strstr(c.text, "[virtio] tests/unit/test_trace.c:test_only_enabled_kinds: "
				       "vda q0 notified (7)\n"));
	assert_non_null(strstr(c.text, "[irq] tests/unit/test_trace.c:test_only_enabled_kinds: "
				       "MSI-X vector 1\n"));
	assert_null(strstr(c.text, "exit IO"));
	assert_null(strstr(c.text, "0x3f8"));
	assert_null(strstr(c.text, "kernel"));
	free(c.text);
	trace_init(0);
}

static void test_line_format(void **state)
{
	struct capture c;
	unsigned long long us;
	char thread[16], kind[16], where[128];
	int n = 0;

	(void)state;
	trace_init(HV_TRACE_ALL);
	capture_start(&c);
	HV_TRACE(HV_TRACE_PCI, "hello");
	capture_stop(&c);
	/* "trace: <µs>us <thread> [<kind>] <file>:<function>: <sentence>\n", the path from the source root. */
	assert_int_equal(sscanf(c.text, "trace: %lluus %15s [%15[a-z]] %127s hello\n%n", &us, thread,
				kind, where, &n), 4);
	assert_true(us < 60ull * 1000 * 1000);
	assert_string_equal(kind, "pci");
	assert_string_equal(where, "tests/unit/test_trace.c:test_line_format:");
	assert_int_equal(c.text[strlen(c.text) - 1], '\n');
	assert_int_equal(count_lines(c.text), 1);
	free(c.text);
	trace_init(0);
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(trace_kind_name(HV_TRACE_EXITS), "exits");
	assert_string_equal(trace_kind_name(HV_TRACE_PIO), "pio");
	assert_string_equal(trace_kind_name(HV_TRACE_MMIO), "mmio");
	assert_string_equal(trace_kind_name(HV_TRACE_PCI), "pci");
	assert_string_equal(trace_kind_name(HV_TRACE_VIRTIO), "virtio");
	assert_string_equal(trace_kind_name(HV_TRACE_IRQ), "irq");
	assert_string_equal(trace_kind_name(HV_TRACE_BOOT), "boot");
	assert_string_equal(trace_kind_name(0), "?");
}

static void test_long_line_is_cut(void **state)
{
	struct capture c;
	char big[2000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	trace_init(HV_TRACE_BOOT);
	capture_start(&c);
	HV_TRACE(HV_TRACE_BOOT, "%s", big);
	HV_TRACE(HV_TRACE_BOOT, "after");
	capture_stop(&c);
	assert_int_equal(count_lines(c.text), 2);
	/* Still one line, marked as cut, and the next line is whole. */
	assert_non_null(strstr(c.text, "xxx...\ntrace: "));
	assert_true(strchr(c.text, '\n') - c.text < 512);
	assert_non_null(strstr(c.text, ":test_long_line_is_cut: after\n"));
	free(c.text);
	trace_init(0);
}

#define THREADS		4
#define LINES		300

static void *trace_thread(void *arg)
{
	unsigned int t = (unsigned int)(uintptr_t)arg, i;

	for (i = 0; i < LINES; i++)
		HV_TRACE(HV_TRACE_VIRTIO, "thread %u line %u %s", t, i,
			 "padding padding padding padding padding padding padding padding padding");
	return NULL;
}

static void test_threads_print_whole_lines(void **state)
{
	pthread_t th[THREADS];
	unsigned int seen[THREADS] = { 0 }, i;
	struct capture c;
	char *line, *save = NULL;

	(void)state;
	trace_init(HV_TRACE_VIRTIO);
	capture_start(&c);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, trace_thread, (void *)(uintptr_t)i), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	capture_stop(&c);
	assert_int_equal(count_lines(c.text), THREADS * LINES);
	for (line = strtok_r(c.text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *m = strstr(line, ":trace_thread: thread ");
		unsigned int t, l;

		/* Every line starts as a line should and holds exactly one message. */
		assert_memory_equal(line, "trace: ", 7);
		assert_non_null(m);
		assert_int_equal(sscanf(m, ":trace_thread: thread %u line %u", &t, &l), 2);
		assert_true(t < THREADS);
		assert_int_equal(l, seen[t]);	/* a thread's lines stay in its order */
		seen[t]++;
		assert_null(strstr(m + 1, "trace: "));
	}
	for (i = 0; i < THREADS; i++)
		assert_int_equal(seen[i], LINES);
	free(c.text);
	trace_init(0);
}

/* A real trace point: vq_pop's chain summary, as a student reads it. */
static void test_vq_pop_line(void **state)
{
	struct mock_vm m;
	struct mock_queue q;
	struct virtqueue vq = { .dev_name = "vda", .index = 0 };
	struct vq_chain *chain = malloc(sizeof(*chain));
	struct mock_buf bufs[3];
	struct capture c;
	uint16_t head;

	(void)state;
	mock_vm_init(&m, 0x100000, 1 << 20);
	mock_queue_init(&q, &m, 16);
	assert_int_equal(mock_queue_enable(&q, &vq, 0), 0);
	bufs[0] = (struct mock_buf){ mock_alloc(&m, 16, 16), 16, false };
	bufs[1] = (struct mock_buf){ mock_alloc(&m, 4096, 4096), 4096, true };
	bufs[2] = (struct mock_buf){ mock_alloc(&m, 1, 1), 1, true };
	head = mock_add_chain(&q, bufs, 3);

	trace_init(HV_TRACE_VIRTIO | HV_TRACE_IRQ);
	capture_start(&c);
	assert_int_equal(vq_pop(&vq, chain), 1);
	assert_int_equal(vq_push(&vq, head, 4097), 0);
	assert_true(vq_should_interrupt(&vq));
	capture_stop(&c);
	trace_init(0);

	assert_non_null(strstr(c.text, "[virtio] devices/virtio/virtqueue.c:vq_pop: vda q0: chain head "));
	assert_non_null(strstr(c.text, ": 1 out (16 B) + 2 in (4096+1 B)\n"));
	assert_non_null(strstr(c.text, "devices/virtio/virtqueue.c:vq_fill: vda q0: used: head "));
	assert_non_null(strstr(c.text, "devices/virtio/virtqueue.c:vq_flush: vda q0: used idx 0 -> 1 "
				       "(1 element(s) at once)\n"));
	assert_non_null(strstr(c.text, "[irq] devices/virtio/virtqueue.c:vq_should_interrupt: vda q0: "
				       "interrupt (avail NO_INTERRUPT flag clear)\n"));
	assert_int_equal(count_lines(c.text), 4);
	free(c.text);
	free(chain);
	mock_vm_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_prints_nothing),
		cmocka_unit_test(test_only_enabled_kinds),
		cmocka_unit_test(test_line_format),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_long_line_is_cut),
		cmocka_unit_test(test_threads_print_whole_lines),
		cmocka_unit_test(test_vq_pop_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
