/* test_stats.c: stats_json()/stats_print() on a fake VM: chains driven through the real transport and rings move the numbers. */
#include "tests/unit/cmocka_inc.h"

#include <endian.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/block/raw_image.h"
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_net.h"
#include "devices/virtio_scsi.h"
#include "hv/machine/vm.h"
#include "hv/stats.h"
#include "tests/unit/mock_virtio.h"

#define RAM_BASE	0x100000ull
#define RAM_SIZE	(8u << 20)
#define QSIZE		16


/* A device that answers every chain at once, as a minimal rng would. */
static void echo_notify(struct virtio_dev *d, unsigned int q)
{
	struct vq_chain *c = malloc(sizeof(*c));
	bool pushed = false;

	assert_non_null(c);
	while (vq_pop(&d->vq[q], c) > 0) {
		vq_push(&d->vq[q], c->head, c->in_len);
		pushed = true;
	}
	if (pushed)
		virtio_used(d, q);
	free(c);
}

static const struct virtio_dev_ops echo_ops = {
	.name = "virtio-echo", .device_id = 99, .pci_class = 0xff0000, .notify = echo_notify,
};

struct env {
	struct mock_vm m;
	struct ev_loop loop;
	struct vm *vm;
	struct virtio_dev echo;
	struct virtio_dev *blk;
	struct rawimg img;
	char path[64];
	struct virtio_pci *p[3];
	struct mock_queue q[3];
	struct virtio_dev kind[3];		/* test_print_device_lines: blk, net, scsi look-alikes */
	struct virtio_device_desc desc[3];
};

/* The transport's view of a running driver: queue 0 enabled, DRIVER_OK. */
static void drive(struct env *e, unsigned int i, struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	d->features = d->host_features;
	mock_queue_init(&e->q[i], &e->m, QSIZE);
	assert_int_equal(mock_queue_enable(&e->q[i], &d->vq[0], d->features), 0);
	mock_dev_driver_ok(d);
	pthread_mutex_unlock(&d->lock);
}

/*
 * Plugs d as the VM's virtio device n, named name, behind a virtio-pci
 * transport without KVM; desc: its line in the device table (NULL: none).
 */
static void plug(struct env *e, unsigned int n, struct virtio_dev *d, const char *name,
		 const struct virtio_device_desc *desc)
{
	struct vpci_host host = { .vm_fd = -1 };
	uint32_t next = 0xc0000000u + n * 0x10000u;

	assert_int_equal(vpci_create(&e->p[n], d, &host, &next), 0);
	e->vm->virtio[n].dev = d;
	e->vm->virtio[n].slot = 3 + n;
	e->vm->virtio[n].desc = desc;
	snprintf(e->vm->virtio[n].name, sizeof(e->vm->virtio[n].name), "%s", name);
	e->vm->nr_virtio = n + 1;
	drive(e, n, d);
}

/* Mock memory, a loop and a VM of nr_vcpus vCPUs, no device yet. */
static struct env *env_new(unsigned int nr_vcpus)
{
	struct env *e = calloc(1, sizeof(*e));
	unsigned int i;

	assert_non_null(e);
	mock_vm_init(&e->m, RAM_BASE, RAM_SIZE);
	assert_int_equal(ev_loop_init(&e->loop, "test-stats"), 0);
	e->vm = calloc(1, sizeof(*e->vm));
	assert_non_null(e->vm);
	e->vm->nr_vcpus = nr_vcpus;
	e->vm->vcpus = calloc(nr_vcpus, sizeof(*e->vm->vcpus));
	assert_non_null(e->vm->vcpus);
	for (i = 0; i < nr_vcpus; i++)
		e->vm->vcpus[i].index = i;
	return e;
}

static void env_free(struct env *e)
{
	ev_loop_destroy(&e->loop);
	free(e->vm->vcpus);
	free(e->vm);
	mock_vm_free(&e->m);
	free(e);
}

static int setup(void **state)
{
	struct env *e = env_new(2);
	struct vblk_options vo = { .img = &e->img };
	char err[256];
	int fd;

	/* Device 0: the echo device.  Device 1: virtio-blk on a 1 MiB image. */
	assert_int_equal(virtio_dev_init(&e->echo, &echo_ops, &e->m.gm, &e->loop, 1, QSIZE, 0,
					 NULL, 0), 0);
	plug(e, 0, &e->echo, "echo0", NULL);
	strcpy(e->path, "/tmp/hvrun-stats-XXXXXX");
	fd = mkstemp(e->path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
	assert_int_equal(vblk_open_image(&e->img, e->path, false, false, 1, err, sizeof(err)), 0);
	assert_int_equal(vblk_create(&vo, &e->m.gm, &e->loop, 1, &e->blk, err, sizeof(err)), 0);
	plug(e, 1, e->blk, "vda", &vblk_device);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	pthread_mutex_lock(&e->blk->lock);
	virtio_dev_reset(e->blk);
	pthread_mutex_unlock(&e->blk->lock);
	vpci_destroy(e->p[1]);
	e->blk->ops->destroy(e->blk);
	rawimg_close(&e->img);
	unlink(e->path);
	vpci_destroy(e->p[0]);
	virtio_dev_cleanup(&e->echo);
	env_free(e);
	return 0;
}

/* The guest's QUEUE_NOTIFY: KVM would signal the ioeventfd; the I/O thread's loop runs here. */
static void notify(struct env *e, unsigned int n)
{
	assert_int_equal(eventfd_write(e->p[n]->q[0].kick_fd, 1), 0);
	assert_true(ev_loop_poll(&e->loop, 1000) > 0);
}

/* Runs the loop until queue n has a used entry. */
static void wait_used(struct env *e, unsigned int n)
{
	uint32_t id, len;
	int i;

	for (i = 0; i < 400 && !mock_get_used(&e->q[n], &id, &len); i++)
		ev_loop_poll(&e->loop, 25);
	assert_true(i < 400);
}

static uint64_t num(json_t *o, const char *path)
{
	char key[64];
	const char *dot;
	json_t *v = o;

	/* "devices.1.queues.0.popped": object keys and array indices. */
	while (v && *path) {
		dot = strchr(path, '.');
		snprintf(key, sizeof(key), "%.*s", dot ? (int)(dot - path) : (int)strlen(path), path);
		if (json_is_array(v))
			v = json_array_get(v, strtoul(key, NULL, 10));
		else
			v = json_object_get(v, key);
		path = dot ? dot + 1 : "";
	}
	if (!json_is_integer(v))
		fail_msg("stats: no integer at %s", path);
	return (uint64_t)json_integer_value(v);
}

static uint64_t stat_of(struct env *e, const char *path)
{
	json_t *root = stats_json(e->vm);
	uint64_t v;

	assert_non_null(root);
	v = num(root, path);
	json_decref(root);
	return v;
}

static void add_chain(struct env *e, unsigned int n, uint32_t in_len)
{
	struct mock_buf b[2] = {
		{ mock_alloc(&e->m, 16, 16), 16, false },
		{ mock_alloc(&e->m, in_len, 16), in_len, true },
	};

	mock_add_chain(&e->q[n], b, 2);
}

static void test_layout_and_names(void **state)
{
	struct env *e = *state;
	json_t *root = stats_json(e->vm), *d0, *d1;

	assert_non_null(root);
	assert_int_equal(json_array_size(json_object_get(root, "vcpus")), 2);
	assert_true(json_is_object(json_object_get(root, "exits_total")));
	assert_int_equal(json_array_size(json_object_get(root, "devices")), 2);
	d0 = json_array_get(json_object_get(root, "devices"), 0);
	d1 = json_array_get(json_object_get(root, "devices"), 1);
	assert_string_equal(json_string_value(json_object_get(d0, "kind")), "virtio-echo");
	assert_string_equal(json_string_value(json_object_get(d0, "name")), "echo0");
	assert_string_equal(json_string_value(json_object_get(d1, "kind")), "virtio-blk");
	assert_string_equal(json_string_value(json_object_get(d1, "name")), "vda");
	assert_int_equal(num(d1, "slot"), 4);
	assert_null(json_object_get(d0, "blk"));
	assert_true(json_is_object(json_object_get(d1, "blk")));
	assert_true(json_is_object(json_object_get(d1, "backend")));
	assert_int_equal(num(d1, "queues.0.index"), 0);
	assert_int_equal(num(d1, "queues.0.size"), QSIZE);
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(d1, "queues"), 0),
						 "enabled")));
	assert_int_equal(num(d0, "kicks"), 0);
	assert_int_equal(num(d1, "blk.reads"), 0);
	json_decref(root);
}

static void test_exits(void **state)
{
	struct env *e = *state;

	e->vm->vcpus[0].exits[KVM_EXIT_IO] = 5;
	e->vm->vcpus[1].exits[KVM_EXIT_IO] = 2;
	e->vm->vcpus[1].exits[KVM_EXIT_HLT] = 1;
	e->vm->vcpus[0].unclaimed_pio = 3;
	assert_int_equal(stat_of(e, "vcpus.0.exits.IO"), 5);
	assert_int_equal(stat_of(e, "vcpus.1.exits.IO"), 2);
	assert_int_equal(stat_of(e, "vcpus.1.exits.HLT"), 1);
	assert_int_equal(stat_of(e, "vcpus.1.index"), 1);
	assert_int_equal(stat_of(e, "vcpus.0.unclaimed_pio"), 3);
	assert_int_equal(stat_of(e, "exits_total.IO"), 7);
	assert_int_equal(stat_of(e, "exits_total.HLT"), 1);
}

static void test_queue_counters_move(void **state)
{
	struct env *e = *state;

	/* Two chains, one notification: one kick, both chains popped and used, one interrupt. */
	add_chain(e, 0, 64);
	add_chain(e, 0, 32);
	notify(e, 0);
	assert_int_equal(stat_of(e, "devices.0.kicks"), 1);
	assert_int_equal(stat_of(e, "devices.0.irqs"), 1);
	assert_int_equal(stat_of(e, "devices.0.queues.0.kicks"), 1);
	assert_int_equal(stat_of(e, "devices.0.queues.0.irqs"), 1);
	assert_int_equal(stat_of(e, "devices.0.queues.0.popped"), 2);
	assert_int_equal(stat_of(e, "devices.0.queues.0.used"), 2);
	assert_int_equal(stat_of(e, "devices.0.queues.0.irqs_suppressed"), 0);

	/* The driver asks for no interrupt (VIRTQ_AVAIL_F_NO_INTERRUPT): counted as suppressed. */
	mock_set_avail_flags(&e->q[0], 1);
	add_chain(e, 0, 8);
	notify(e, 0);
	assert_int_equal(stat_of(e, "devices.0.kicks"), 2);
	assert_int_equal(stat_of(e, "devices.0.queues.0.kicks"), 2);
	assert_int_equal(stat_of(e, "devices.0.irqs"), 1);
	assert_int_equal(stat_of(e, "devices.0.queues.0.irqs"), 1);
	assert_int_equal(stat_of(e, "devices.0.queues.0.irqs_suppressed"), 1);
	assert_int_equal(stat_of(e, "devices.0.queues.0.popped"), 3);
	assert_int_equal(stat_of(e, "devices.0.queues.0.used"), 3);
	/* The other device did not move. */
	assert_int_equal(stat_of(e, "devices.1.kicks"), 0);
}

/* header | data | status for a blk request of type on queue 0 of device 1. */
static void add_blk(struct env *e, uint32_t type, uint64_t sector, uint32_t len)
{
	struct virtio_blk_outhdr h = { htole32(type), 0, htole64(sector) };
	struct mock_buf b[3];
	unsigned int n = 0;

	b[n] = (struct mock_buf){ mock_alloc(&e->m, 16, 16), 16, false };
	memcpy(mock_host(&e->m, b[n++].gpa), &h, sizeof(h));
	if (len)
		b[n++] = (struct mock_buf){ mock_alloc(&e->m, len, 4096), len,
					    type == VIRTIO_BLK_T_IN };
	b[n++] = (struct mock_buf){ mock_alloc(&e->m, 1, 1), 1, true };
	mock_add_chain(&e->q[1], b, n);
}

static void test_blk_counters_move(void **state)
{
	struct env *e = *state;

	/* One 4 KiB read: the request, the io_uring submission and completion, the bytes. */
	add_blk(e, VIRTIO_BLK_T_IN, 8, 4096);
	notify(e, 1);
	wait_used(e, 1);
	assert_int_equal(stat_of(e, "devices.1.kicks"), 1);
	assert_int_equal(stat_of(e, "devices.1.queues.0.popped"), 1);
	assert_int_equal(stat_of(e, "devices.1.queues.0.used"), 1);
	assert_int_equal(stat_of(e, "devices.1.queues.0.irqs"), 1);
	assert_int_equal(stat_of(e, "devices.1.blk.requests"), 1);
	assert_int_equal(stat_of(e, "devices.1.blk.reads"), 1);
	assert_int_equal(stat_of(e, "devices.1.blk.bytes_read"), 4096);
	assert_int_equal(stat_of(e, "devices.1.blk.writes"), 0);
	assert_int_equal(stat_of(e, "devices.1.backend.submissions"), 1);
	assert_int_equal(stat_of(e, "devices.1.backend.completions"), 1);
	assert_int_equal(stat_of(e, "devices.1.backend.bytes_read"), 4096);
	assert_int_equal(stat_of(e, "devices.1.backend.in_flight"), 0);

	/* A 512-byte write, then a flush. */
	add_blk(e, VIRTIO_BLK_T_OUT, 0, 512);
	notify(e, 1);
	wait_used(e, 1);
	add_blk(e, VIRTIO_BLK_T_FLUSH, 0, 0);
	notify(e, 1);
	wait_used(e, 1);
	assert_int_equal(stat_of(e, "devices.1.blk.writes"), 1);
	assert_int_equal(stat_of(e, "devices.1.blk.bytes_written"), 512);
	assert_int_equal(stat_of(e, "devices.1.blk.flushes"), 1);
	assert_int_equal(stat_of(e, "devices.1.blk.requests"), 3);
	assert_int_equal(stat_of(e, "devices.1.backend.submissions"), 3);
	assert_int_equal(stat_of(e, "devices.1.backend.completions"), 3);
	assert_int_equal(stat_of(e, "devices.1.backend.bytes_written"), 512);
	assert_int_equal(stat_of(e, "devices.1.blk.errors"), 0);

	/* Beyond the capacity: refused before any I/O. */
	add_blk(e, VIRTIO_BLK_T_IN, 1u << 20, 512);
	notify(e, 1);
	wait_used(e, 1);
	assert_int_equal(stat_of(e, "devices.1.blk.refused"), 1);
	assert_int_equal(stat_of(e, "devices.1.blk.reads"), 1);
	assert_int_equal(stat_of(e, "devices.1.backend.submissions"), 3);
}

/* Every "{group.key}" of a device's stats_text names a counter the device reports. */
static void assert_text_keys_reported(const char *text, json_t *dev)
{
	const char *open;

	while ((open = strchr(text, '{'))) {
		char group[32], key[32];

		assert_int_equal(sscanf(open, "{%31[^.].%31[^:}]", group, key), 2);
		if (!json_is_integer(json_object_get(json_object_get(dev, group), key)))
			fail_msg("stats_text names %s.%s, which the device does not report", group, key);
		text = open + 1;
	}
}

static void test_print_table(void **state)
{
	struct env *e = *state;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *root;

	assert_non_null(f);
	e->vm->vcpus[0].exits[KVM_EXIT_MMIO] = 42;
	add_blk(e, VIRTIO_BLK_T_IN, 0, 4096);
	notify(e, 1);
	wait_used(e, 1);
	stats_print(e->vm, f);
	fclose(f);
	assert_non_null(strstr(text, "MMIO"));
	assert_non_null(strstr(text, "42"));
	assert_non_null(strstr(text, "vda"));
	assert_non_null(strstr(text, "00:04.0 virtio-blk"));
	assert_non_null(strstr(text, "1 reads (4.0 KiB)"));
	assert_non_null(strstr(text, "io_uring: 1 submitted in 1 calls, 1 completed in 1 wake-ups"));
	assert_non_null(strstr(text, "echo0"));
	free(text);

	root = stats_json(e->vm);
	assert_text_keys_reported(vblk_device.stats_text,
				  json_array_get(json_object_get(root, "devices"), 1));
	json_decref(root);
}

/*
 * Counters as the blk, net and scsi devices report them, with fixed values:
 * what --stats prints for them is pinned below, line for line.
 */
static size_t fixed_counters(const char *const *keys, uint64_t first, struct virtio_counter *out,
			     size_t max)
{
	size_t n = 0;

	for (; *keys; keys += 2, first += 11)
		virtio_counter_add(out, max, &n, keys[0], keys[1],
				   strstr(keys[1], "bytes") ? first << 20 : first);
	return n;
}

static size_t blk_like_counters(struct virtio_dev *d, struct virtio_counter *out, size_t max)
{
	static const char *const keys[] = {
		"blk", "requests", "blk", "reads", "blk", "writes", "blk", "flushes",
		"blk", "discards", "blk", "write_zeroes", "blk", "get_ids", "blk", "bytes_read",
		"blk", "bytes_written", "blk", "refused", "blk", "errors", "blk", "merged_ops",
		"blk", "merged_requests", "blk", "merge_splits", "backend", "submissions",
		"backend", "completions", "backend", "submit_calls", "backend", "reaps",
		"backend", "errors", "backend", "bytes_read", "backend", "bytes_written",
		"backend", "in_flight", NULL,
	};

	(void)d;
	return fixed_counters(keys, 1, out, max);
}

static size_t net_like_counters(struct virtio_dev *d, struct virtio_counter *out, size_t max)
{
	static const char *const keys[] = {
		"net", "rx_frames", "net", "rx_bytes", "net", "rx_dropped", "net", "tx_frames",
		"net", "tx_bytes", "net", "tx_errors", "backend", "reads", "backend", "writes", NULL,
	};

	(void)d;
	return fixed_counters(keys, 2, out, max);
}

static size_t scsi_like_counters(struct virtio_dev *d, struct virtio_counter *out, size_t max)
{
	static const char *const keys[] = {
		"scsi", "commands", "scsi", "reads", "scsi", "bytes_read", "scsi", "check_conditions",
		"scsi", "task_management", "scsi", "bad_target", "scsi", "refused", NULL,
	};

	(void)d;
	return fixed_counters(keys, 3, out, max);
}

/* Three devices that count as virtio-blk, -net and -scsi do, through their own descriptors. */
static int setup_kinds(void **state)
{
	static size_t (*const counters[3])(struct virtio_dev *, struct virtio_counter *, size_t) = {
		blk_like_counters, net_like_counters, scsi_like_counters,
	};
	const struct virtio_device_desc *real[3] = { &vblk_device, &vnet_device, &vscsi_device };
	static const char *const names[3] = { "vda", "net0", "scsi0" };
	struct env *e = env_new(1);
	unsigned int i;

	for (i = 0; i < 3; i++) {
		e->desc[i] = *real[i];
		e->desc[i].counters = counters[i];
		assert_int_equal(virtio_dev_init(&e->kind[i], &echo_ops, &e->m.gm, &e->loop, 1, QSIZE,
						 0, NULL, 0), 0);
		plug(e, i, &e->kind[i], names[i], &e->desc[i]);
	}
	*state = e;
	return 0;
}

static int teardown_kinds(void **state)
{
	struct env *e = *state;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		vpci_destroy(e->p[i]);
		virtio_dev_cleanup(&e->kind[i]);
	}
	env_free(e);
	return 0;
}

/* What --stats printed for these three before the text came from the descriptors, to the byte. */
static const char expected_device_lines[] =
	"virtio devices (kicks: notifications from the driver; irqs: interrupts "
	"sent; suppressed: interrupts EVENT_IDX or NO_INTERRUPT made unnecessary)\n"
	"  vda      00:03.0 virtio-echo  kicks 0          irqs 0\n"
	"    q0   kicks 0         irqs 0         suppressed 0         chains popped "
	"0         used 0         in 0 updates\n"
	"    requests: 12 reads (78.0 MiB), 23 writes (89.0 MiB), 34 flushes, 45 "
	"discards, 56 write-zeroes; 100 refused, 111 I/O errors\n"
	"    merged: 133 neighbouring requests sent as 122 operations (144 redone "
	"one by one)\n"
	"    io_uring: 155 submitted in 177 calls, 166 completed in 188 wake-ups, "
	"199 failed, 232 in flight\n"
	"  net0     00:04.0 virtio-echo  kicks 0          irqs 0\n"
	"    q0   kicks 0         irqs 0         suppressed 0         chains popped "
	"0         used 0         in 0 updates\n"
	"    rx: 2 frames (13.0 MiB), 24 dropped; tx: 35 frames (46.0 MiB), 57 "
	"errors; backend: 68 reads, 79 writes\n"
	"  scsi0    00:05.0 virtio-echo  kicks 0          irqs 0\n"
	"    q0   kicks 0         irqs 0         suppressed 0         chains popped "
	"0         used 0         in 0 updates\n"
	"    commands: 3 (14 reads, 25.0 MiB), 36 check conditions, 58 to absent "
	"targets, 47 task management, 69 refused\n";

/* The devices' part of --stats, whole: its wording and numbers are what people and scripts read. */
static void test_print_device_lines(void **state)
{
	struct env *e = *state;
	char *text = NULL, *from, *to;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	stats_print(e->vm, f);
	fclose(f);
	from = strstr(text, "virtio devices");
	assert_non_null(from);
	to = strstr(from, "seccomp");
	if (to)
		*to = '\0';
	assert_string_equal(from, expected_device_lines);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_counters_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blk_counters_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_device_lines, setup_kinds, teardown_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
