/* control_cmd.c: the control socket's commands: a request line parsed whole, then run on the VM, and its reply line. */
#include "hv/control_priv.h"
#include "hv/control_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices/virtio/virtio.h"
#include "devices/virtio_balloon.h"
#include "devices/virtio_blk.h"
#include "hv/base/bytes.h"
#include "hv/base/log.h"
#include "hv/machine/board.h"
#include "hv/stats.h"

/* ---- the real VM operations ---- */

static int real_disk_resize(struct virtio_dev *d, uint64_t *bytes)
{
	int ret;

	pthread_mutex_lock(&d->lock);
	ret = vblk_resize(d);
	*bytes = vblk_capacity(d) * VIRTIO_BLK_SECTOR_SIZE;
	pthread_mutex_unlock(&d->lock);
	return ret;
}

const struct control_vm_ops ctl_real_ops = {
	.pause = vm_pause,
	.resume = vm_resume,
	.powerdown = board_powerdown,
	.request_stop = vm_request_stop,
	.balloon_set = vballoon_set_target,
	.balloon_info = vballoon_get_info,
	.stats = stats_json,
	.disk_resize = real_disk_resize,
};

/* ---- the VM's devices, as hvctl names them ---- */

/* The name the machine gave the device from its line in the device table: vda, net0, console. */
static const char *ctl_device_name(const struct vm *vm, unsigned int i)
{
	return vm->virtio[i].name[0] ? vm->virtio[i].name : vm->virtio[i].dev->ops->name;
}

/* The n-th device with this virtio device id, or NULL. */
static struct virtio_dev *ctl_find_device(struct vm *vm, uint16_t device_id, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < vm->nr_virtio; i++) {
		struct virtio_dev *d = vm->virtio[i].dev;

		if (d && d->ops->device_id == device_id && n-- == 0)
			return d;
	}
	return NULL;
}

/* ---- requests: parsed whole, then executed ---- */

struct ctl_error {
	const char *code;
	char message[256];
};

static json_t *ctl_err(struct ctl_error *e, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static json_t *ctl_err(struct ctl_error *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return NULL;
}

struct ctl_request {
	const struct ctl_command *cmd;
	uint64_t size;			/* balloon */
	unsigned int drive;		/* disk-resize: 0 = vda */
	char drive_name[8];
};

struct ctl_command {
	const char *name;
	bool needs_vm;
	json_t *(*run)(struct control *c, struct vm *vm, const struct ctl_request *r,
		       struct ctl_error *e);
};

int control_parse_size(const char *s, uint64_t *bytes)
{
	return hv_parse_size(s, 1, "KMGT", false, bytes);
}

static double ctl_seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static json_t *cmd_status(struct control *c, struct vm *vm, const struct ctl_request *r,
			  struct ctl_error *e)
{
	json_t *reply = json_object(), *devices = json_array();
	unsigned int i;

	(void)r;
	(void)e;
	json_object_set_new(reply, "name", json_string(c->name));
	json_object_set_new(reply, "pid", json_integer(getpid()));
	json_object_set_new(reply, "console", json_string(c->con_in_wr >= 0 ? "socket" : "terminal"));
	if (!vm) {
		/* Between two boots, or before the first: hvrun itself is there. */
		json_object_set_new(reply, "state", json_string(c->boots == 0 ? "starting"
								 : c->rebooting ? "rebooting"
								 : "stopped"));
		json_object_set_new(reply, "boot", json_integer(c->boots));
		json_decref(devices);
		return reply;
	}
	json_object_set_new(reply, "state", json_string(vm_state_name(vm)));
	json_object_set_new(reply, "boot", json_integer(c->boots));
	json_object_set_new(reply, "uptime_s", json_real(ctl_seconds_since(&c->boot_start)));
	json_object_set_new(reply, "vcpus", json_integer(vm->nr_vcpus));
	json_object_set_new(reply, "memory_bytes", json_integer((json_int_t)c->o->mem_bytes));
	for (i = 0; i < vm->nr_virtio; i++) {
		json_t *dev;

		if (!vm->virtio[i].dev)
			continue;
		dev = json_pack("{s:s, s:i, s:s}", "kind", vm->virtio[i].dev->ops->name,
				"slot", (json_int_t)vm->virtio[i].slot, "name", ctl_device_name(vm, i));
		json_array_append_new(devices, dev);
	}
	json_object_set_new(reply, "devices", devices);
	return reply;
}

static json_t *ctl_state_reply(struct vm *vm)
{
	return json_pack("{s:s}", "state", vm_state_name(vm));
}

static json_t *cmd_pause(struct control *c, struct vm *vm, const struct ctl_request *r,
			 struct ctl_error *e)
{
	(void)r;
	if (atomic_load(&vm->stopping))
		return ctl_err(e, "stopping", "the VM is stopping");
	if (c->ops.pause(vm) == -EALREADY)
		return ctl_err(e, "already", "the VM is already paused");
	hv_info("hvctl pause: the VM is paused");
	return ctl_state_reply(vm);
}

static json_t *cmd_resume(struct control *c, struct vm *vm, const struct ctl_request *r,
			  struct ctl_error *e)
{
	(void)r;
	if (c->ops.resume(vm) == -EALREADY)
		return ctl_err(e, "already", "the VM is not paused");
	hv_info("hvctl resume: the VM runs again");
	return ctl_state_reply(vm);
}

static json_t *cmd_powerdown(struct control *c, struct vm *vm, const struct ctl_request *r,
			     struct ctl_error *e)
{
	int ret;

	(void)r;
	if (atomic_load(&vm->pause_requested))
		return ctl_err(e, "paused", "the VM is paused: resume it first, or use stop");
	ret = c->ops.powerdown(vm);
	if (ret == -ENOTSUP)
		return ctl_err(e, "not-supported", "this VM has no ACPI (--demo, --raw): use stop");
	if (ret == -EAGAIN)
		return ctl_err(e, "not-listening", "the guest has not enabled the ACPI power button "
			       "(still booting, or no ACPI button driver): try again, or use stop");
	if (ret)
		return ctl_err(e, "failed", "powerdown: %s", strerror(-ret));
	return json_pack("{s:s}", "state", vm_state_name(vm));
}

static json_t *cmd_stop(struct control *c, struct vm *vm, const struct ctl_request *r,
			struct ctl_error *e)
{
	(void)r;
	(void)e;
	hv_info("hvctl stop: stopping the VM");
	/*
	 * Before the first boot or between two, there is no VM to stop yet: the
	 * next one is stopped as soon as it is attached, so "stop" always works
	 * (a script may run hvctl stop the moment the socket appears).
	 */
	if (vm)
		c->ops.request_stop(vm, VM_STOP_QUIT);
	else
		c->stop_pending = true;
	return json_pack("{s:s}", "state", "stopping");
}

static json_t *cmd_reset(struct control *c, struct vm *vm, const struct ctl_request *r,
			 struct ctl_error *e)
{
	(void)r;
	(void)e;
	hv_info("hvctl reset: resetting the VM");
	c->ops.request_stop(vm, VM_STOP_RESET);
	return json_pack("{s:s}", "state", c->o->no_reboot ? "stopping" : "rebooting");
}

static struct virtio_dev *ctl_balloon(struct control *c, struct vm *vm, struct ctl_error *e)
{
	struct virtio_dev *d;

	if (c->o->no_balloon)
		return ctl_err(e, "not-supported", "hvrun runs with --no-balloon"), NULL;
	d = ctl_find_device(vm, VIRTIO_ID_BALLOON, 0);
	if (!d)
		ctl_err(e, "no-device", "this VM has no balloon device (it needs -k)");
	return d;
}

static json_t *cmd_balloon(struct control *c, struct vm *vm, const struct ctl_request *r,
			   struct ctl_error *e)
{
	struct virtio_dev *d = ctl_balloon(c, vm, e);
	struct vballoon_info info;

	if (!d)
		return NULL;
	c->ops.balloon_info(d, &info);
	if (r->size > info.ram_bytes)
		return ctl_err(e, "bad-size", "%llu bytes is more than the guest's RAM (%llu bytes)",
			       (unsigned long long)r->size, (unsigned long long)info.ram_bytes);
	if (c->ops.balloon_set(d, r->size))
		return ctl_err(e, "bad-size", "the balloon cannot hold %llu bytes",
			       (unsigned long long)r->size);
	c->ops.balloon_info(d, &info);
	hv_info("hvctl balloon: target %llu MiB", (unsigned long long)(info.target_bytes >> 20));
	return json_pack("{s:I, s:I, s:I}", "target_bytes", (json_int_t)info.target_bytes,
			 "actual_bytes", (json_int_t)info.actual_bytes,
			 "ram_bytes", (json_int_t)info.ram_bytes);
}

static json_t *cmd_balloon_stats(struct control *c, struct vm *vm, const struct ctl_request *r,
				 struct ctl_error *e)
{
	/* virtio 1.2 §5.5.6.3, by tag; the names of QEMU's guest-stats, in snake case. */
	static const char *const tags[VIRTIO_BALLOON_S_NR] = {
		[VIRTIO_BALLOON_S_SWAP_IN] = "swap_in",
		[VIRTIO_BALLOON_S_SWAP_OUT] = "swap_out",
		[VIRTIO_BALLOON_S_MAJFLT] = "major_faults",
		[VIRTIO_BALLOON_S_MINFLT] = "minor_faults",
		[VIRTIO_BALLOON_S_MEMFREE] = "free_memory",
		[VIRTIO_BALLOON_S_MEMTOT] = "total_memory",
		[VIRTIO_BALLOON_S_AVAIL] = "available_memory",
		[VIRTIO_BALLOON_S_CACHES] = "disk_caches",
		[VIRTIO_BALLOON_S_HTLB_PGALLOC] = "hugetlb_allocations",
		[VIRTIO_BALLOON_S_HTLB_PGFAIL] = "hugetlb_failures",
	};
	struct virtio_dev *d = ctl_balloon(c, vm, e);
	struct vballoon_info info;
	json_t *b, *stats;
	unsigned int i;

	(void)r;
	if (!d)
		return NULL;
	c->ops.balloon_info(d, &info);
	b = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
		      "ram_bytes", (json_int_t)info.ram_bytes,
		      "target_bytes", (json_int_t)info.target_bytes,
		      "actual_bytes", (json_int_t)info.actual_bytes,
		      "inflated_bytes", (json_int_t)info.inflated_bytes,
		      "deflated_bytes", (json_int_t)info.deflated_bytes,
		      "reported_bytes", (json_int_t)info.reported_bytes);
	if (info.stats_valid) {
		stats = json_object();
		for (i = 0; i < VIRTIO_BALLOON_S_NR; i++)
			if (info.stats_have[i])
				json_object_set_new(stats, tags[i], json_integer((json_int_t)info.stats[i]));
		json_object_set_new(b, "stats", stats);
		json_object_set_new(b, "stats_age_ms", json_integer((json_int_t)info.stats_age_ms));
	}
	return json_pack("{s:o}", "balloon", b);
}

static json_t *cmd_stats(struct control *c, struct vm *vm, const struct ctl_request *r,
			 struct ctl_error *e)
{
	json_t *s = c->ops.stats(vm);

	(void)r;
	if (!s)
		return ctl_err(e, "failed", "the statistics could not be collected");
	return json_pack("{s:o}", "stats", s);
}

static json_t *cmd_disk_resize(struct control *c, struct vm *vm, const struct ctl_request *r,
			       struct ctl_error *e)
{
	struct virtio_dev *d = ctl_find_device(vm, VIRTIO_ID_BLOCK, r->drive);
	uint64_t bytes = 0;
	int ret;

	if (!d)
		return ctl_err(e, "no-device", "no disk %s (this VM has %s)", r->drive_name,
			       ctl_find_device(vm, VIRTIO_ID_BLOCK, 0) ? "fewer disks" : "no disk");
	ret = c->ops.disk_resize(d, &bytes);
	if (ret)
		return ctl_err(e, "failed", "%s: %s", r->drive_name, strerror(-ret));
	hv_info("hvctl disk-resize: %s is now %llu bytes", r->drive_name, (unsigned long long)bytes);
	return json_pack("{s:s, s:I}", "drive", r->drive_name, "capacity_bytes", (json_int_t)bytes);
}

static json_t *cmd_console(struct control *c, struct vm *vm, const struct ctl_request *r,
			   struct ctl_error *e)
{
	(void)vm;
	(void)r;
	if (c->con_in_wr < 0)
		return ctl_err(e, "not-supported", "the console is on hvrun's terminal "
			       "(hvctl console needs hvrun --daemonize)");
	return json_pack("{s:b}", "console", 1);
}

static const struct ctl_command ctl_commands[] = {
	{ "status",		false,	cmd_status },
	{ "pause",		true,	cmd_pause },
	{ "resume",		true,	cmd_resume },
	{ "powerdown",		true,	cmd_powerdown },
	{ "stop",		false,	cmd_stop },
	{ "reset",		true,	cmd_reset },
	{ "balloon",		true,	cmd_balloon },
	{ "balloon-stats",	true,	cmd_balloon_stats },
	{ "stats",		true,	cmd_stats },
	{ "disk-resize",	true,	cmd_disk_resize },
	{ "console",		false,	cmd_console },
};

/* Checks the request's shape and arguments; nothing is done yet.  0, or -1 with e. */
static int ctl_parse(json_t *req, struct ctl_request *r, struct ctl_error *e)
{
	json_t *cmd = json_object_get(req, "cmd"), *arg;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!json_is_string(cmd))
		return ctl_err(e, "bad-request", "the request needs \"cmd\", a string"), -1;
	for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		if (!strcmp(json_string_value(cmd), ctl_commands[i].name))
			r->cmd = &ctl_commands[i];
	if (!r->cmd)
		return ctl_err(e, "unknown-command", "unknown command '%.64s' (status, pause, resume, "
			       "powerdown, stop, reset, balloon, balloon-stats, stats, disk-resize, "
			       "console)", json_string_value(cmd)), -1;
	if (r->cmd->run == cmd_balloon) {
		arg = json_object_get(req, "size");
		if (json_is_integer(arg) && json_integer_value(arg) >= 0)
			r->size = (uint64_t)json_integer_value(arg);
		else if (!json_is_string(arg) || control_parse_size(json_string_value(arg), &r->size))
			return ctl_err(e, "bad-request", "balloon needs \"size\": bytes, or a string "
				       "like \"256M\""), -1;
	} else if (r->cmd->run == cmd_disk_resize) {
		const char *s;

		arg = json_object_get(req, "drive");
		s = json_string_value(arg);
		if (!s || strlen(s) != 3 || s[0] != 'v' || s[1] != 'd' ||
		    s[2] < 'a' || s[2] >= 'a' + HV_MAX_DISKS)
			return ctl_err(e, "bad-request", "disk-resize needs \"drive\": \"vda\" to "
				       "\"vd%c\"", 'a' + HV_MAX_DISKS - 1), -1;
		r->drive = (unsigned int)(s[2] - 'a');
		snprintf(r->drive_name, sizeof(r->drive_name), "%s", s);
	}
	return 0;
}

static char *ctl_dump_line(json_t *reply)
{
	char *line = control_json_line(reply);

	if (!line)
		return strdup("{\"ok\":false,\"error\":{\"code\":\"internal\","
			      "\"message\":\"out of memory\"}}\n");
	return line;
}

char *ctl_error_line(json_t *id, const char *code, const char *message)
{
	json_t *reply = json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code", code,
				  "message", message);
	char *line;

	if (reply && id)
		json_object_set(reply, "id", id);
	line = ctl_dump_line(reply);
	json_decref(reply);
	return line;
}

char *control_handle_line(struct control *c, const char *line, size_t len, bool *to_console)
{
	struct ctl_request r;
	struct ctl_error e = { 0 };
	json_error_t jerr;
	json_t *req, *id = NULL, *reply = NULL;
	char *out;

	*to_console = false;
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!req)
		return ctl_error_line(NULL, "bad-json", jerr.text);
	if (!json_is_object(req)) {
		json_decref(req);
		return ctl_error_line(NULL, "bad-request", "a request is a JSON object");
	}
	id = json_object_get(req, "id");
	if (ctl_parse(req, &r, &e) == 0) {
		pthread_mutex_lock(&c->lock);
		if (r.cmd->needs_vm && !c->vm)
			ctl_err(&e, "no-vm", "no VM running (hvrun is %s)",
				c->boots == 0 ? "starting" : c->rebooting ? "rebooting" : "stopping");
		else
			reply = r.cmd->run(c, c->vm, &r, &e);
		pthread_mutex_unlock(&c->lock);
	}
	if (reply) {
		json_object_set_new(reply, "ok", json_true());
		if (id)
			json_object_set(reply, "id", id);
		*to_console = r.cmd->run == cmd_console;
		out = ctl_dump_line(reply);
		json_decref(reply);
	} else {
		out = ctl_error_line(id, e.code ? e.code : "internal",
				     e.code ? e.message : "the command failed");
	}
	json_decref(req);
	return out;
}
