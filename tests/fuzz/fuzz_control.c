/*
 * fuzz_control.c: the control socket's protocol (hv/control.c): the input,
 * split at newlines, is what clients send; control_handle_line() answers
 * each line (JSON parsing, commands and their arguments) on a fake VM with
 * two disks, a NIC, a console and a balloon, as tests/unit/test_control.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio_balloon.h"
#include "hv/control.h"
#include "tests/fuzz/fuzz_virtio.h"

static const struct virtio_dev_ops blk_ops = { .name = "virtio-blk", .device_id = VIRTIO_ID_BLOCK };
static const struct virtio_dev_ops net_ops = { .name = "virtio-net", .device_id = VIRTIO_ID_NET };
static const struct virtio_dev_ops con_ops = { .name = "virtio-console",
					       .device_id = VIRTIO_ID_CONSOLE };
static const struct virtio_dev_ops bal_ops = { .name = "virtio-balloon",
					       .device_id = VIRTIO_ID_BALLOON };

static int fake_pause(struct vm *vm)
{
	return atomic_exchange(&vm->pause_requested, true) ? -EALREADY : 0;
}

static int fake_resume(struct vm *vm)
{
	return atomic_exchange(&vm->pause_requested, false) ? 0 : -EALREADY;
}

static int fake_powerdown(struct vm *vm)
{
	(void)vm;
	return 0;
}

static void fake_request_stop(struct vm *vm, enum vm_stop_reason why)
{
	(void)vm;
	(void)why;
}

static uint64_t balloon_bytes;

static int fake_balloon_set(struct virtio_dev *d, uint64_t bytes)
{
	(void)d;
	if (bytes > (512u << 20))
		return -EINVAL;
	balloon_bytes = bytes;
	return 0;
}

static void fake_balloon_info(struct virtio_dev *d, struct vballoon_info *out)
{
	(void)d;
	memset(out, 0, sizeof(*out));
	out->ram_bytes = 512u << 20;
	out->target_bytes = balloon_bytes;
	out->actual_bytes = balloon_bytes / 2;
	out->stats_valid = true;
	out->stats_have[VIRTIO_BALLOON_S_MEMFREE] = true;
	out->stats[VIRTIO_BALLOON_S_MEMFREE] = 100u << 20;
}

static json_t *fake_stats(struct vm *vm)
{
	(void)vm;
	return json_pack("{s:{s:i}}", "exits", "io", 42);
}

static int fake_disk_resize(struct virtio_dev *d, uint64_t *bytes)
{
	(void)d;
	*bytes = 2ull << 30;
	return 0;
}

static const struct control_vm_ops fake_ops = {
	.pause = fake_pause, .resume = fake_resume, .powerdown = fake_powerdown,
	.request_stop = fake_request_stop, .balloon_set = fake_balloon_set,
	.balloon_info = fake_balloon_info, .stats = fake_stats, .disk_resize = fake_disk_resize,
};

static struct hv_options o;
static struct vm vm;
static struct virtio_dev devs[5];
static struct control *c;

static void setup(void)
{
	static const struct virtio_dev_ops *const kinds[5] = {
		&blk_ops, &blk_ops, &net_ops, &con_ops, &bal_ops,
	};
	unsigned int i;

	o.name = "fuzz";
	o.mem_bytes = 512u << 20;
	o.kernel = "vmlinuz";
	vm.nr_vcpus = 2;
	vm.pc = true;
	for (i = 0; i < 5; i++) {
		devs[i].ops = kinds[i];
		vm.virtio[i].dev = &devs[i];
		vm.virtio[i].slot = 2 + i;
	}
	vm.nr_virtio = 5;
	c = control_new(&o, &fake_ops);
	if (!c)
		abort();
	control_attach_vm(c, &vm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t start = 0, i;

	if (!c)
		setup();
	atomic_store(&vm.pause_requested, false);
	balloon_bytes = 0;
	for (i = 0; i <= size; i++) {
		if (i == size || data[i] == '\n') {
			bool to_console;
			char *reply = control_handle_line(c, (const char *)data + start, i - start,
							  &to_console);
			size_t rlen = reply ? strlen(reply) : 0;

			/* Every request gets one reply line. */
			if (!reply || rlen == 0 || reply[rlen - 1] != '\n' || memchr(reply, '\n', rlen - 1))
				abort();
			free(reply);
			start = i + 1;
		}
	}
	return 0;
}
