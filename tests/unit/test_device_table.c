/* test_device_table.c: each virtio device's line in the device table: its names, create, counters. */
#include "tests/unit/cmocka_inc.h"

#include <string.h>

#include "devices/virtio_balloon.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_console.h"
#include "devices/virtio_net.h"
#include "devices/virtio_rng.h"
#include "devices/virtio_scsi.h"
#include "tests/unit/mock_virtio.h"

static const char *name_of(const struct virtio_device_desc *desc, unsigned int index)
{
	static char buf[16];

	virtio_device_name(desc, index, buf, sizeof(buf));
	return buf;
}

/* The names --stats, --trace and hvctl have always shown. */
static void test_names(void **state)
{
	(void)state;
	assert_string_equal(name_of(&vblk_device, 0), "vda");
	assert_string_equal(name_of(&vblk_device, 1), "vdb");
	assert_string_equal(name_of(&vblk_device, 25), "vdz");
	assert_string_equal(name_of(&vscsi_device, 0), "scsi0");
	assert_string_equal(name_of(&vnet_device, 0), "net0");
	assert_string_equal(name_of(&vnet_device, 3), "net3");
	assert_string_equal(name_of(&vcon_device, 0), "console");
	assert_string_equal(name_of(&vrng_device, 0), "rng");
	assert_string_equal(name_of(&vballoon_device, 0), "balloon");
	assert_string_equal(vcon_device.io_name, "con");	/* its I/O thread: io-con */
}

static void test_every_line_creates(void **state)
{
	static const struct virtio_device_desc *const all[] = {
		&vblk_device, &vscsi_device, &vnet_device, &vcon_device, &vrng_device,
		&vballoon_device,
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_non_null(all[i]->name);
		assert_non_null(all[i]->create);
	}
	/* The devices with counters beside the common ones, and their lines in --stats. */
	assert_non_null(vblk_device.counters);
	assert_non_null(vnet_device.counters);
	assert_non_null(vscsi_device.counters);
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		assert_true(!all[i]->stats_text || all[i]->counters);
	/* What the firmware's boot order can name: disks, and the CD-ROM's controller. */
	assert_int_equal(vblk_device.boot, VIRTIO_BOOT_DISK);
	assert_int_equal(vscsi_device.boot, VIRTIO_BOOT_CDROM);
	assert_int_equal(vnet_device.boot, VIRTIO_BOOT_NONE);
	assert_int_equal(vcon_device.boot, VIRTIO_BOOT_NONE);
	assert_int_equal(vrng_device.boot, VIRTIO_BOOT_NONE);
	assert_int_equal(vballoon_device.boot, VIRTIO_BOOT_NONE);
}

/* virtio-rng through its line: created with the uniform signature, named, destroyed. */
static void test_rng_through_its_line(void **state)
{
	struct mock_vm m;
	struct ev_loop loop;
	struct vrng_options o = { .rate_bytes_per_sec = 0 };
	struct virtio_dev_args a;
	struct virtio_dev *d = NULL;
	char err[128] = "";

	(void)state;
	mock_vm_init(&m, 0x100000, 0x100000);
	assert_int_equal(ev_loop_init(&loop, "test-table"), 0);
	a = (struct virtio_dev_args){ .mem = &m.gm, .loop = &loop };
	assert_int_equal(vrng_device.create(&a, &o, &d, err, sizeof(err)), 0);
	assert_non_null(d);
	assert_string_equal(d->ops->name, "virtio-rng");
	assert_null(vrng_device.counters);
	d->ops->destroy(d);
	ev_loop_destroy(&loop);
	mock_vm_free(&m);
}

static void test_counter_add_stops_at_max(void **state)
{
	struct virtio_counter c[2];
	size_t n = 0;

	(void)state;
	virtio_counter_add(c, 2, &n, "g", "a", 1);
	virtio_counter_add(c, 2, &n, "g", "b", 2);
	virtio_counter_add(c, 2, &n, "g", "c", 3);
	assert_int_equal(n, 2);
	assert_string_equal(c[1].key, "b");
	assert_int_equal(c[1].value, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_every_line_creates),
		cmocka_unit_test(test_rng_through_its_line),
		cmocka_unit_test(test_counter_add_stops_at_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
