/* test_control.c: the control protocol on a fake VM (replies, errors, arguments), names, sizes, and the socket server. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/virtio_balloon.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_console.h"
#include "devices/virtio_net.h"
#include "hv/control.h"

/* ---- a fake VM: devices with only a name and an id, operations that record their calls ---- */

static const struct virtio_dev_ops blk_ops = { .name = "virtio-blk", .device_id = VIRTIO_ID_BLOCK };
static const struct virtio_dev_ops net_ops = { .name = "virtio-net", .device_id = VIRTIO_ID_NET };
static const struct virtio_dev_ops con_ops = { .name = "virtio-console",
					       .device_id = VIRTIO_ID_CONSOLE };
static const struct virtio_dev_ops bal_ops = { .name = "virtio-balloon",
					       .device_id = VIRTIO_ID_BALLOON };

static struct {
	int pause_ret, resume_ret, powerdown_ret, resize_ret;
	unsigned int pauses, resumes, powerdowns, stops;
	enum vm_stop_reason stop_why;
	uint64_t balloon_bytes;
	struct virtio_dev *resized;
	bool stats_null;
} fake;

static int fake_pause(struct vm *vm)
{
	fake.pauses++;
	if (!fake.pause_ret)
		atomic_store(&vm->pause_requested, true);
	return fake.pause_ret;
}

static int fake_resume(struct vm *vm)
{
	fake.resumes++;
	if (!fake.resume_ret)
		atomic_store(&vm->pause_requested, false);
	return fake.resume_ret;
}

static int fake_powerdown(struct vm *vm)
{
	(void)vm;
	fake.powerdowns++;
	return fake.powerdown_ret;
}

static void fake_request_stop(struct vm *vm, enum vm_stop_reason why)
{
	(void)vm;
	fake.stops++;
	fake.stop_why = why;
}

static int fake_balloon_set(struct virtio_dev *d, uint64_t bytes)
{
	(void)d;
	fake.balloon_bytes = bytes;
	return 0;
}

static void fake_balloon_info(struct virtio_dev *d, struct vballoon_info *out)
{
	(void)d;
	memset(out, 0, sizeof(*out));
	out->ram_bytes = 512u << 20;
	out->target_bytes = fake.balloon_bytes;
	out->actual_bytes = fake.balloon_bytes / 2;
	out->inflated_bytes = 3u << 20;
	out->stats_valid = true;
	out->stats_age_ms = 1500;
	out->stats_have[VIRTIO_BALLOON_S_MEMFREE] = true;
	out->stats[VIRTIO_BALLOON_S_MEMFREE] = 100u << 20;
	out->stats_have[VIRTIO_BALLOON_S_MAJFLT] = true;
	out->stats[VIRTIO_BALLOON_S_MAJFLT] = 7;
}

static json_t *fake_stats(struct vm *vm)
{
	(void)vm;
	return fake.stats_null ? NULL : json_pack("{s:{s:i}}", "exits", "io", 42);
}

static int fake_disk_resize(struct virtio_dev *d, uint64_t *bytes)
{
	fake.resized = d;
	*bytes = 2ull << 30;
	return fake.resize_ret;
}

static const struct control_vm_ops fake_ops = {
	.pause = fake_pause,
	.resume = fake_resume,
	.powerdown = fake_powerdown,
	.request_stop = fake_request_stop,
	.balloon_set = fake_balloon_set,
	.balloon_info = fake_balloon_info,
	.stats = fake_stats,
	.disk_resize = fake_disk_resize,
};

struct fx {
	struct hv_options o;
	struct vm vm;
	struct virtio_dev devs[5];
	struct control *c;
};

static int fx_setup(void **state)
{
	static const struct virtio_dev_ops *const kinds[5] = {
		&blk_ops, &blk_ops, &net_ops, &con_ops, &bal_ops,
	};
	static const struct virtio_device_desc *const descs[5] = {
		&vblk_device, &vblk_device, &vnet_device, &vcon_device, &vballoon_device,
	};
	struct fx *f = calloc(1, sizeof(*f));
	unsigned int i;

	memset(&fake, 0, sizeof(fake));
	f->o.name = "unit";
	f->o.mem_bytes = 512u << 20;
	f->o.kernel = "vmlinuz";
	f->vm.nr_vcpus = 2;
	f->vm.pc = true;
	for (i = 0; i < 5; i++) {
		f->devs[i].ops = kinds[i];
		f->vm.virtio[i].dev = &f->devs[i];
		f->vm.virtio[i].slot = 2 + i;
		/* Named as the machine names them, from their lines in the device table. */
		f->vm.virtio[i].desc = descs[i];
		virtio_device_name(descs[i], i == 1, f->vm.virtio[i].name,
				   sizeof(f->vm.virtio[i].name));
	}
	f->vm.nr_virtio = 5;
	f->c = control_new(&f->o, &fake_ops);
	assert_non_null(f->c);
	control_attach_vm(f->c, &f->vm);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	control_close(f->c);
	free(f);
	return 0;
}

/* One request line in, one reply line out: exactly one '\n', at the end; parsed. */
static json_t *ask(struct fx *f, const char *line, bool *to_console)
{
	bool console = false;
	char *out = control_handle_line(f->c, line, strlen(line), &console);
	json_error_t err;
	json_t *reply;

	assert_non_null(out);
	assert_true(strlen(out) > 1);
	assert_int_equal(out[strlen(out) - 1], '\n');
	assert_null(memchr(out, '\n', strlen(out) - 1));
	reply = json_loads(out, 0, &err);
	free(out);
	assert_non_null(reply);
	assert_true(json_is_boolean(json_object_get(reply, "ok")));
	if (to_console)
		*to_console = console;
	else
		assert_false(console);
	return reply;
}

static void expect_ok(json_t *r)
{
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_null(json_object_get(r, "error"));
}

/* An error reply: ok false, error.code as given, a non-empty message. */
static void expect_error(json_t *r, const char *code)
{
	json_t *e = json_object_get(r, "error");

	assert_true(json_is_false(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(e, "code")), code);
	assert_true(strlen(json_string_value(json_object_get(e, "message"))) > 0);
}

static void ask_error(struct fx *f, const char *line, const char *code)
{
	json_t *r = ask(f, line, NULL);

	expect_error(r, code);
	json_decref(r);
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* ---- the commands ---- */

static void test_status(void **state)
{
	static const char *const names[5] = { "vda", "vdb", "net0", "console", "balloon" };
	struct fx *f = *state;
	json_t *r, *devs, *d;
	size_t i;

	r = ask(f, "{\"cmd\":\"status\",\"id\":7}", NULL);

	expect_ok(r);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
	assert_string_equal(str(r, "name"), "unit");
	assert_string_equal(str(r, "state"), "running");
	assert_string_equal(str(r, "console"), "terminal");
	assert_int_equal(json_integer_value(json_object_get(r, "vcpus")), 2);
	assert_int_equal(json_integer_value(json_object_get(r, "memory_bytes")), 512 << 20);
	assert_int_equal(json_integer_value(json_object_get(r, "pid")), getpid());
	assert_int_equal(json_integer_value(json_object_get(r, "boot")), 1);
	assert_true(json_number_value(json_object_get(r, "uptime_s")) >= 0);
	devs = json_object_get(r, "devices");
	assert_int_equal(json_array_size(devs), 5);
	json_array_foreach(devs, i, d) {
		assert_string_equal(str(d, "name"), names[i]);
		assert_int_equal(json_integer_value(json_object_get(d, "slot")), 2 + i);
	}
	assert_string_equal(str(json_array_get(devs, 0), "kind"), "virtio-blk");
	json_decref(r);

	/* Any JSON value as id comes back as it was, in error replies too. */
	r = ask(f, "{\"id\":{\"a\":[1,\"x\"]},\"cmd\":\"status\"}", NULL);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
		json_object_get(r, "id"), "a"), 1)), "x");
	json_decref(r);
	r = ask(f, "{\"id\":\"q1\",\"cmd\":\"nope\"}", NULL);
	expect_error(r, "unknown-command");
	assert_string_equal(str(r, "id"), "q1");
	json_decref(r);
}

static void test_no_vm(void **state)
{
	struct fx *f = *state;
	json_t *r;

	control_detach_vm(f->c, true);
	r = ask(f, "{\"cmd\":\"status\"}", NULL);
	expect_ok(r);
	assert_string_equal(str(r, "state"), "rebooting");
	assert_null(json_object_get(r, "devices"));
	json_decref(r);
	ask_error(f, "{\"cmd\":\"pause\"}", "no-vm");
	ask_error(f, "{\"cmd\":\"stats\"}", "no-vm");
	ask_error(f, "{\"cmd\":\"disk-resize\",\"drive\":\"vda\"}", "no-vm");
	assert_int_equal(fake.pauses + fake.stops, 0);
	/* Arguments are checked first: a bad request is that, VM or not. */
	ask_error(f, "{\"cmd\":\"balloon\"}", "bad-request");
	control_attach_vm(f->c, &f->vm);
	r = ask(f, "{\"cmd\":\"status\"}", NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "boot")), 2);
	json_decref(r);
	assert_int_equal(fake.stops, 0);

	/* "stop" with no VM is kept for the next one: it stops as soon as it is attached. */
	control_detach_vm(f->c, true);
	r = ask(f, "{\"cmd\":\"stop\"}", NULL);
	expect_ok(r);
	json_decref(r);
	assert_int_equal(fake.stops, 0);
	control_attach_vm(f->c, &f->vm);
	assert_int_equal(fake.stops, 1);
	assert_int_equal(fake.stop_why, VM_STOP_QUIT);
}

static void test_bad_requests(void **state)
{
	struct fx *f = *state;

	ask_error(f, "{\"cmd\":", "bad-json");
	ask_error(f, "status", "bad-json");
	ask_error(f, "{\"cmd\":\"status\"} {}", "bad-json");	/* one object per line */
	ask_error(f, "{\"cmd\":\"status\",\"cmd\":\"stop\"}", "bad-json");	/* duplicate key */
	ask_error(f, "\"\xff\xfe\"", "bad-json");			/* not UTF-8 */
	ask_error(f, "[\"status\"]", "bad-request");
	ask_error(f, "42", "bad-request");
	ask_error(f, "{}", "bad-request");
	ask_error(f, "{\"cmd\":42}", "bad-request");
	ask_error(f, "{\"cmd\":null}", "bad-request");
	ask_error(f, "{\"cmd\":\"STATUS\"}", "unknown-command");
	ask_error(f, "{\"cmd\":\"\"}", "unknown-command");
	assert_int_equal(fake.pauses + fake.stops + fake.powerdowns, 0);
}

static void test_pause_resume(void **state)
{
	struct fx *f = *state;
	json_t *r;

	r = ask(f, "{\"cmd\":\"pause\"}", NULL);
	expect_ok(r);
	assert_string_equal(str(r, "state"), "paused");
	json_decref(r);
	r = ask(f, "{\"cmd\":\"status\"}", NULL);
	assert_string_equal(str(r, "state"), "paused");
	json_decref(r);
	fake.pause_ret = -EALREADY;
	ask_error(f, "{\"cmd\":\"pause\"}", "already");
	/* A paused guest cannot hear the power button. */
	ask_error(f, "{\"cmd\":\"powerdown\"}", "paused");
	assert_int_equal(fake.powerdowns, 0);
	r = ask(f, "{\"cmd\":\"resume\"}", NULL);
	expect_ok(r);
	assert_string_equal(str(r, "state"), "running");
	json_decref(r);
	fake.resume_ret = -EALREADY;
	ask_error(f, "{\"cmd\":\"resume\"}", "already");
	/* A VM on its way out is not paused. */
	atomic_store(&f->vm.stopping, true);
	ask_error(f, "{\"cmd\":\"pause\"}", "stopping");
	assert_int_equal(fake.pauses, 2);
}

static void test_stop_reset_powerdown(void **state)
{
	struct fx *f = *state;
	json_t *r;

	r = ask(f, "{\"cmd\":\"stop\"}", NULL);
	expect_ok(r);
	assert_int_equal(fake.stop_why, VM_STOP_QUIT);
	json_decref(r);
	r = ask(f, "{\"cmd\":\"reset\"}", NULL);
	expect_ok(r);
	assert_string_equal(str(r, "state"), "rebooting");
	assert_int_equal(fake.stop_why, VM_STOP_RESET);
	json_decref(r);
	f->o.no_reboot = true;
	r = ask(f, "{\"cmd\":\"reset\"}", NULL);
	assert_string_equal(str(r, "state"), "stopping");
	json_decref(r);
	assert_int_equal(fake.stops, 3);

	r = ask(f, "{\"cmd\":\"powerdown\"}", NULL);
	expect_ok(r);
	json_decref(r);
	fake.powerdown_ret = -EAGAIN;
	ask_error(f, "{\"cmd\":\"powerdown\"}", "not-listening");
	fake.powerdown_ret = -ENOTSUP;
	ask_error(f, "{\"cmd\":\"powerdown\"}", "not-supported");
	fake.powerdown_ret = -EIO;
	ask_error(f, "{\"cmd\":\"powerdown\"}", "failed");
	assert_int_equal(fake.powerdowns, 4);
}

static void test_balloon(void **state)
{
	struct fx *f = *state;
	json_t *r, *b;

	r = ask(f, "{\"cmd\":\"balloon\",\"size\":\"256M\"}", NULL);
	expect_ok(r);
	assert_int_equal(fake.balloon_bytes, 256u << 20);
	assert_int_equal(json_integer_value(json_object_get(r, "target_bytes")), 256 << 20);
	assert_int_equal(json_integer_value(json_object_get(r, "ram_bytes")), 512 << 20);
	json_decref(r);
	r = ask(f, "{\"cmd\":\"balloon\",\"size\":1048576}", NULL);
	expect_ok(r);
	assert_int_equal(fake.balloon_bytes, 1u << 20);
	json_decref(r);
	r = ask(f, "{\"cmd\":\"balloon\",\"size\":0}", NULL);
	expect_ok(r);
	assert_int_equal(fake.balloon_bytes, 0);
	json_decref(r);
	ask_error(f, "{\"cmd\":\"balloon\"}", "bad-request");
	ask_error(f, "{\"cmd\":\"balloon\",\"size\":-1}", "bad-request");
	ask_error(f, "{\"cmd\":\"balloon\",\"size\":1.5}", "bad-request");
	ask_error(f, "{\"cmd\":\"balloon\",\"size\":true}", "bad-request");
	ask_error(f, "{\"cmd\":\"balloon\",\"size\":\"lots\"}", "bad-request");
	ask_error(f, "{\"cmd\":\"balloon\",\"size\":\"99999999999999999999\"}", "bad-request");
	ask_error(f, "{\"cmd\":\"balloon\",\"size\":\"1G\"}", "bad-size");	/* RAM is 512M */
	assert_int_equal(fake.balloon_bytes, 0);

	r = ask(f, "{\"cmd\":\"balloon-stats\"}", NULL);
	expect_ok(r);
	b = json_object_get(r, "balloon");
	assert_int_equal(json_integer_value(json_object_get(b, "inflated_bytes")), 3 << 20);
	assert_int_equal(json_integer_value(json_object_get(b, "stats_age_ms")), 1500);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "stats"),
							    "free_memory")), 100 << 20);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "stats"),
							    "major_faults")), 7);
	assert_int_equal(json_object_size(json_object_get(b, "stats")), 2);
	json_decref(r);

	/* No balloon device; then --no-balloon. */
	f->vm.nr_virtio = 4;
	ask_error(f, "{\"cmd\":\"balloon\",\"size\":\"1M\"}", "no-device");
	ask_error(f, "{\"cmd\":\"balloon-stats\"}", "no-device");
	f->o.no_balloon = true;
	ask_error(f, "{\"cmd\":\"balloon\",\"size\":\"1M\"}", "not-supported");
}

static void test_stats(void **state)
{
	struct fx *f = *state;
	json_t *r = ask(f, "{\"cmd\":\"stats\"}", NULL);

	expect_ok(r);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
		json_object_get(r, "stats"), "exits"), "io")), 42);
	json_decref(r);
	fake.stats_null = true;
	ask_error(f, "{\"cmd\":\"stats\"}", "failed");
}

static void test_disk_resize(void **state)
{
	struct fx *f = *state;
	json_t *r = ask(f, "{\"cmd\":\"disk-resize\",\"drive\":\"vdb\"}", NULL);

	expect_ok(r);
	assert_ptr_equal(fake.resized, &f->devs[1]);
	assert_string_equal(str(r, "drive"), "vdb");
	assert_int_equal(json_integer_value(json_object_get(r, "capacity_bytes")), 2ll << 30);
	json_decref(r);
	fake.resized = NULL;
	ask_error(f, "{\"cmd\":\"disk-resize\"}", "bad-request");
	ask_error(f, "{\"cmd\":\"disk-resize\",\"drive\":42}", "bad-request");
	ask_error(f, "{\"cmd\":\"disk-resize\",\"drive\":\"sda\"}", "bad-request");
	ask_error(f, "{\"cmd\":\"disk-resize\",\"drive\":\"vdz\"}", "bad-request");
	ask_error(f, "{\"cmd\":\"disk-resize\",\"drive\":\"vda1\"}", "bad-request");
	ask_error(f, "{\"cmd\":\"disk-resize\",\"drive\":\"vdc\"}", "no-device");
	assert_null(fake.resized);
	fake.resize_ret = -EIO;
	ask_error(f, "{\"cmd\":\"disk-resize\",\"drive\":\"vda\"}", "failed");
	assert_ptr_equal(fake.resized, &f->devs[0]);
}

static void test_console_foreground(void **state)
{
	struct fx *f = *state;
	bool console = true;
	json_t *r = ask(f, "{\"cmd\":\"console\"}", &console);

	expect_error(r, "not-supported");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "error"),
								  "message")),
			       "the console is on hvrun's terminal"));
	assert_false(console);
	json_decref(r);
}

/* ---- names, sizes ---- */

static void test_vm_name(void **state)
{
	struct hv_options o;
	char buf[CONTROL_NAME_MAX + 1], longname[200];

	(void)state;
	memset(&o, 0, sizeof(o));
	control_vm_name(&o, buf, sizeof(buf));
	assert_string_equal(buf, "hvrun");
	o.cdrom = "/srv/iso/debian-live-12.9.0-amd64.iso";	/* a live CD alone */
	control_vm_name(&o, buf, sizeof(buf));
	assert_string_equal(buf, "debian-live-12.9.0-amd64");
	o.kernel = "/boot/vmlinuz-6.1.0-18-amd64";
	control_vm_name(&o, buf, sizeof(buf));
	assert_string_equal(buf, "vmlinuz-6.1.0-18-amd64");	/* no extension cut */
	o.nr_disks = 1;
	o.disks[0].path = "/srv/vm/debian-12.img";
	control_vm_name(&o, buf, sizeof(buf));
	assert_string_equal(buf, "debian-12");
	o.disks[0].path = "relative disk (copy).raw";
	control_vm_name(&o, buf, sizeof(buf));
	assert_string_equal(buf, "relative_disk__copy_");
	o.disks[0].path = "/x/.hidden.img";
	control_vm_name(&o, buf, sizeof(buf));
	assert_string_equal(buf, "_hidden");
	o.disks[0].path = "/x/noext";
	control_vm_name(&o, buf, sizeof(buf));
	assert_string_equal(buf, "noext");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	o.disks[0].path = longname;
	control_vm_name(&o, buf, sizeof(buf));
	assert_int_equal(strlen(buf), CONTROL_NAME_MAX);
	o.name = "web-1";
	control_vm_name(&o, buf, sizeof(buf));
	assert_string_equal(buf, "web-1");
}

static void test_parse_size(void **state)
{
	static const struct { const char *s; int ret; uint64_t bytes; } t[] = {
		{ "0", 0, 0 }, { "4096", 0, 4096 }, { "1K", 0, 1024 }, { "256M", 0, 256ull << 20 },
		{ "256m", 0, 256ull << 20 }, { "2G", 0, 2ull << 30 }, { "1T", 0, 1ull << 40 },
		{ "", -EINVAL, 0 }, { "M", -EINVAL, 0 }, { "-1", -EINVAL, 0 }, { "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 }, { "1MB", -EINVAL, 0 }, { "1.5G", -EINVAL, 0 },
		{ "1X", -EINVAL, 0 }, { "99999999999999999999", -EINVAL, 0 },
		{ "17179869184G", -EINVAL, 0 },		/* 2^64: overflows */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t b = 0;

		assert_int_equal(control_parse_size(t[i].s, &b), t[i].ret);
		if (!t[i].ret)
			assert_int_equal(b, t[i].bytes);
	}
}

/* ---- the socket server, on a real unix socket in a private directory ---- */

static char dir[64];

static int sock_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void say(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Reads until a newline or the end; returns the bytes read (NUL-terminated in buf). */
static size_t read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		assert_int_equal(poll(&p, 1, 5000), 1);
		r = recv(fd, buf + n, 1, 0);
		if (r <= 0)
			break;
		n++;
		if (buf[n - 1] == '\n')
			break;
	}
	buf[n] = '\0';
	return n;
}

static int srv_setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/hvrun-test-control.XXXXXX");
	assert_non_null(mkdtemp(dir));
	setenv("HVRUN_CONTROL_DIR", dir, 1);
	return fx_setup(state);
}

static int srv_teardown(void **state)
{
	char cmd[128];

	fx_teardown(state);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	unsetenv("HVRUN_CONTROL_DIR");
	return 0;
}

static void test_server(void **state)
{
	struct fx *f = *state;
	struct hv_options o2;
	struct control *c2;
	char path[128], err[256], buf[4096], *big;
	int fds[CONTROL_MAX_CLIENTS], extra, fd, i, stale;
	struct stat st;

	assert_int_equal(control_listen(f->c, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/unit.sock", dir);
	assert_string_equal(control_socket_path(f->c), path);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(control_start(f->c), 0);

	/* A second hvrun with the same --name is refused; a derived name moves aside. */
	memset(&o2, 0, sizeof(o2));
	o2.name = "unit";
	c2 = control_new(&o2, &fake_ops);
	assert_int_equal(control_listen(c2, err, sizeof(err)), -EADDRINUSE);
	assert_non_null(strstr(err, "another hvrun is running as 'unit'"));
	control_close(c2);
	o2.name = NULL;
	o2.kernel = "/boot/unit";
	c2 = control_new(&o2, &fake_ops);
	assert_int_equal(control_listen(c2, err, sizeof(err)), 0);
	assert_string_equal(control_name(c2), "unit-2");
	control_close(c2);
	snprintf(buf, sizeof(buf), "%s/unit-2.sock", dir);
	assert_int_equal(access(buf, F_OK), -1);	/* removed at close */

	/* A stale socket file (a killed hvrun's) is replaced. */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/stale.sock", dir);
		stale = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(bind(stale, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(stale);	/* the file stays, nobody listens */
		o2.name = "stale";
		c2 = control_new(&o2, &fake_ops);
		assert_int_equal(control_listen(c2, err, sizeof(err)), 0);
		control_close(c2);
	}

	/* A request, its reply; a half-closed client still gets its reply. */
	fd = sock_connect(path);
	assert_true(fd >= 0);
	say(fd, "{\"cmd\":\"status\",\"id\":1}\n");
	read_line(fd, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"ok\":true"));
	say(fd, "{\"cmd\":\"status\"}\r\n\n");	/* CRLF, blank line */
	read_line(fd, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"ok\":true"));
	say(fd, "nonsense\n{\"cmd\":\"status\"}\n");
	read_line(fd, buf, sizeof(buf));
	assert_non_null(strstr(buf, "bad-json"));
	read_line(fd, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"ok\":true"));	/* the connection stayed */
	say(fd, "{\"cmd\":\"status\"}\n");
	shutdown(fd, SHUT_WR);
	read_line(fd, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"ok\":true"));
	assert_int_equal(read_line(fd, buf, sizeof(buf)), 0);	/* then the end */
	close(fd);

	/* 16 at once; the 17th is told and closed; one leaving frees a place. */
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		fds[i] = sock_connect(path);
		assert_true(fds[i] >= 0);
		say(fds[i], "{\"cmd\":\"status\"}\n");
		read_line(fds[i], buf, sizeof(buf));
		assert_non_null(strstr(buf, "\"ok\":true"));
	}
	extra = sock_connect(path);
	read_line(extra, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"busy\""));
	assert_int_equal(read_line(extra, buf, sizeof(buf)), 0);
	close(extra);
	/* One leaves in the middle of a line. */
	say(fds[0], "{\"cmd\":\"sta");
	close(fds[0]);
	usleep(100 * 1000);
	fds[0] = sock_connect(path);
	say(fds[0], "{\"cmd\":\"status\"}\n");
	read_line(fds[0], buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"ok\":true"));
	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		close(fds[i]);

	/* A line longer than 64 KiB: an error line, then the end. */
	big = malloc(CONTROL_MAX_LINE + 100);
	memset(big, 'x', CONTROL_MAX_LINE + 100);
	fd = sock_connect(path);
	assert_int_equal(send(fd, big, CONTROL_MAX_LINE + 100, MSG_NOSIGNAL) > 0, 1);
	read_line(fd, buf, sizeof(buf));
	assert_non_null(strstr(buf, "line-too-long"));
	assert_int_equal(read_line(fd, buf, sizeof(buf)), 0);
	close(fd);
	free(big);

	/* Still serving. */
	fd = sock_connect(path);
	say(fd, "{\"cmd\":\"status\"}\n");
	read_line(fd, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"ok\":true"));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_vm, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stop_reset_powerdown, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_balloon, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stats, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_disk_resize, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_console_foreground, fx_setup, fx_teardown),
		cmocka_unit_test(test_vm_name),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test_setup_teardown(test_server, srv_setup, srv_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
