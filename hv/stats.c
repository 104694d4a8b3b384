/* stats.c: --stats and hvctl stats: VM exits per vCPU, and per virtio device and queue the counters a benchmark needs. */
#include "hv/base/output.h"
#include "hv/stats.h"

#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <string.h>

#include "devices/virtio/virtio.h"
#include "firmware/fw_cfg.h"
#include "hv/base/kvm.h"
#include "hv/base/seccomp.h"
#include "hv/machine/vm.h"

/*
 * The vCPU counters are plain uint64_t, incremented by their vCPU thread
 * alone.  Another thread reads them with relaxed atomic loads: an aligned
 * 64-bit load never tears on x86-64, and a count a few exits stale is fine
 * for statistics.  Device counters are read under the device's lock.
 */
/* How long statistics wait for a device's lock before they say "busy". */
#define STATS_LOCK_WAIT_MS	100

static uint64_t stats_peek(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static const char *stats_exit_name(unsigned int r)
{
	return r < KVM_NR_EXIT_NAMES ? kvm_exit_name(r) : "other";
}

/* Sets key to v (json_integer is signed: counters stay far below 2^63). */
static void stats_set(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

static json_t *stats_vcpus(struct vm *vm, json_t *total)
{
	json_t *arr = json_array();
	unsigned int i, r;

	for (i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *c = &vm->vcpus[i];
		json_t *o = json_object(), *exits = json_object();

		for (r = 0; r <= KVM_NR_EXIT_NAMES; r++) {
			uint64_t n = stats_peek(&c->exits[r]);
			json_t *t;

			if (!n)
				continue;
			/* Two KVM reasons could share "?": add, never overwrite. */
			t = json_object_get(exits, stats_exit_name(r));
			stats_set(exits, stats_exit_name(r), n + (t ? (uint64_t)json_integer_value(t) : 0));
			t = json_object_get(total, stats_exit_name(r));
			stats_set(total, stats_exit_name(r), n + (t ? (uint64_t)json_integer_value(t) : 0));
		}
		stats_set(o, "index", c->index);
		json_object_set_new(o, "exits", exits);
		stats_set(o, "unclaimed_pio", stats_peek(&c->unclaimed_pio));
		stats_set(o, "unclaimed_mmio", stats_peek(&c->unclaimed_mmio));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* What every virtio device has: status, kicks, interrupts, and its queues.  d->lock held. */
static void stats_virtio_common(struct virtio_dev *d, json_t *o)
{
	json_t *queues = json_array();
	uint16_t i;

	stats_set(o, "status", d->status);
	stats_set(o, "features", d->features);
	stats_set(o, "kicks", d->nr_kicks);
	stats_set(o, "irqs", d->nr_irqs);
	for (i = 0; i < d->nr_queues; i++) {
		const struct virtqueue *vq = &d->vq[i];
		json_t *q = json_object();

		stats_set(q, "index", i);
		json_object_set_new(q, "enabled", json_boolean(vq->ready));
		stats_set(q, "size", vq->size);
		stats_set(q, "kicks", vq->nr_kicks);
		stats_set(q, "irqs", vq->nr_irqs);
		stats_set(q, "popped", vq->nr_pop);
		stats_set(q, "used", vq->nr_push);
		stats_set(q, "used_updates", vq->nr_used_updates);
		stats_set(q, "irqs_suppressed", vq->nr_notify_suppressed);
		json_array_append_new(queues, q);
	}
	json_object_set_new(o, "queues", queues);
}

/*
 * What the device's line in the device table counts besides ("blk", "net",
 * ...: one JSON object per group, in the order the device gives them).
 * d->lock held.
 */
static void stats_virtio_counters(const struct virtio_device_desc *desc, struct virtio_dev *d,
				  json_t *o)
{
	struct virtio_counter c[VIRTIO_MAX_COUNTERS];
	size_t i, n;

	if (!desc || !desc->counters)
		return;
	n = desc->counters(d, c, VIRTIO_MAX_COUNTERS);
	for (i = 0; i < n; i++) {
		json_t *group = json_object_get(o, c[i].group);

		if (!group) {
			group = json_object();
			json_object_set_new(o, c[i].group, group);
		}
		stats_set(group, c[i].key, c[i].value);
	}
}

/* A firmware boot: what the BIOS read through fw_cfg. */
static json_t *stats_fw_cfg(struct vm *vm)
{
	struct fw_cfg_stats s;
	json_t *o = json_object();

	fw_cfg_get_stats(vm->fw_cfg, &s);
	stats_set(o, "selects", s.selects);
	stats_set(o, "io_bytes", s.io_bytes);
	stats_set(o, "dma_transfers", s.dma_ops);
	stats_set(o, "dma_bytes", s.dma_bytes);
	stats_set(o, "dma_errors", s.dma_errors);
	return o;
}

static json_t *stats_devices(struct vm *vm)
{
	json_t *arr = json_array();
	unsigned int i;

	for (i = 0; i < vm->nr_virtio; i++) {
		struct vm_virtio *v = &vm->virtio[i];
		struct virtio_dev *d = v->dev;
		json_t *o;

		if (!d)
			continue;	/* creation failed half-way */
		o = json_object();
		json_object_set_new(o, "kind", json_string(d->ops->name));
		json_object_set_new(o, "name", json_string(v->name[0] ? v->name : d->ops->name));
		stats_set(o, "slot", v->slot);
		/*
		 * Statistics never wait on a busy device: a device that keeps
		 * its lock for STATS_LOCK_WAIT_MS is reported "busy" (a device
		 * thread stuck with its lock would otherwise stall the control
		 * socket, which holds its own lock meanwhile).
		 */
		if (virtio_dev_trylock(d, STATS_LOCK_WAIT_MS)) {
			json_object_set_new(o, "busy", json_true());
			json_array_append_new(arr, o);
			continue;
		}
		stats_virtio_common(d, o);
		stats_virtio_counters(v->desc, d, o);
		pthread_mutex_unlock(&d->lock);
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *stats_outbuf(struct outbuf *ob)
{
	json_t *o = json_object();
	uint64_t written, dropped;
	size_t queued;

	outbuf_counters(ob, &written, &dropped, &queued);
	stats_set(o, "written", written);
	stats_set(o, "dropped", dropped);
	stats_set(o, "queued", queued);
	return o;
}

/* COM1: what the guest sent and read, and the registers as the guest would see them now. */
static json_t *stats_serial(struct serial_8250 *com)
{
	struct serial_stats st;
	json_t *o = json_object();

	serial_get_stats(com, &st);
	stats_set(o, "tx_bytes", st.tx_bytes);
	stats_set(o, "rx_bytes", st.rx_bytes);
	stats_set(o, "irqs_raised", st.irqs_raised);
	stats_set(o, "irq_level", (uint64_t)st.irq_level);
	stats_set(o, "ier", st.ier);
	stats_set(o, "iir", st.iir);
	stats_set(o, "lsr", st.lsr);
	stats_set(o, "mcr", st.mcr);
	stats_set(o, "rx_queued", st.rx_queued);
	return o;
}

/* hvrun's outputs: what reached the terminal, what was dropped while nobody read it. */
static json_t *stats_output(void)
{
	json_t *o = json_object();

	if (out_console.ring)
		json_object_set_new(o, "console", stats_outbuf(&out_console));
	if (out_log.ring)
		json_object_set_new(o, "log", stats_outbuf(&out_log));
	stats_set(o, "log_lines_suppressed", hv_log_suppressed());
	return o;
}

json_t *stats_json(struct vm *vm)
{
	json_t *root = json_object(), *total = json_object();

	json_object_set_new(root, "vcpus", stats_vcpus(vm, total));
	json_object_set_new(root, "exits_total", total);
	json_object_set_new(root, "devices", stats_devices(vm));
	json_object_set_new(root, "serial", stats_serial(&vm->com1));
	if (vm->fw_cfg)
		json_object_set_new(root, "fw_cfg", stats_fw_cfg(vm));
	json_object_set_new(root, "output", stats_output());
	/* --seccomp log: calls made outside a thread's list (docs/15-seccomp.md). */
	json_object_set_new(root, "seccomp", json_pack("{s:s,s:o}", "policy",
			    seccomp_policy_name(seccomp_policy()), "violations", seccomp_stats_json()));
	return root;
}

/* ---- the table (built from the JSON: one source for both) ---- */

static uint64_t stats_get(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

/* "4096 (4.0 MiB)": a byte count with its size in a human unit. */
static const char *stats_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	unsigned int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}

#define STATS_MAX_COLUMNS	8	/* vCPU columns in the exit table; the total is always there */

static void stats_print_exits(json_t *root, FILE *out)
{
	json_t *vcpus = json_object_get(root, "vcpus"), *total = json_object_get(root, "exits_total");
	size_t n = json_array_size(vcpus), i, cols = n <= STATS_MAX_COLUMNS ? n : 0;
	const char *reason;
	json_t *count;

	fprintf(out, "VM exits that reached hvrun (%zu vCPU%s)\n  %-18s", n, n == 1 ? "" : "s",
		"reason");
	for (i = 0; i < cols; i++)
		fprintf(out, " %10s%-2zu", "vCPU ", i);
	fprintf(out, " %12s\n", "total");
	json_object_foreach(total, reason, count) {
		fprintf(out, "  %-18s", reason);
		for (i = 0; i < cols; i++)
			fprintf(out, " %12" PRIu64,
				stats_get(json_object_get(json_array_get(vcpus, i), "exits"), reason));
		fprintf(out, " %12" PRIu64 "\n", (uint64_t)json_integer_value(count));
	}
	for (i = 0; i < n; i++) {
		json_t *c = json_array_get(vcpus, i);

		if (stats_get(c, "unclaimed_pio") || stats_get(c, "unclaimed_mmio"))
			fprintf(out, "  vCPU %zu: %" PRIu64 " port and %" PRIu64
				" MMIO accesses no device claimed\n", i, stats_get(c, "unclaimed_pio"),
				stats_get(c, "unclaimed_mmio"));
	}
}

/*
 * A device's own lines: its descriptor's stats_text with each "{group.key}"
 * replaced by that counter of d (its JSON object), "{group.key:bytes}" by
 * the counter as a size.
 */
static void stats_print_text(const char *text, json_t *d, FILE *out)
{
	const char *open, *close;

	while ((open = strchr(text, '{')) && (close = strchr(open, '}'))) {
		char ref[64], b[32], *key, *unit;
		uint64_t v;

		fwrite(text, 1, (size_t)(open - text), out);
		snprintf(ref, sizeof(ref), "%.*s", (int)(close - open - 1), open + 1);
		unit = strchr(ref, ':');
		if (unit)
			*unit++ = '\0';
		key = strchr(ref, '.');
		if (key)
			*key++ = '\0';
		v = key ? stats_get(json_object_get(d, ref), key) : 0;
		if (unit && strcmp(unit, "bytes") == 0)
			fputs(stats_bytes(v, b, sizeof(b)), out);
		else
			fprintf(out, "%" PRIu64, v);
		text = close + 1;
	}
	fputs(text, out);
}

/* d: a device of the JSON; desc: its line in the device table (NULL: none). */
static void stats_print_device(json_t *d, const struct virtio_device_desc *desc, FILE *out)
{
	json_t *q;
	size_t i;

	fprintf(out, "  %-8s 00:%02" PRIx64 ".0 %-12s kicks %-10" PRIu64 " irqs %" PRIu64 "\n",
		json_string_value(json_object_get(d, "name")), stats_get(d, "slot"),
		json_string_value(json_object_get(d, "kind")), stats_get(d, "kicks"),
		stats_get(d, "irqs"));
	json_array_foreach(json_object_get(d, "queues"), i, q) {
		if (!json_is_true(json_object_get(q, "enabled")) && !stats_get(q, "popped"))
			continue;
		fprintf(out, "    q%-3zu kicks %-9" PRIu64 " irqs %-9" PRIu64 " suppressed %-9" PRIu64
			" chains popped %-9" PRIu64 " used %-9" PRIu64 " in %" PRIu64 " updates\n", i,
			stats_get(q, "kicks"), stats_get(q, "irqs"), stats_get(q, "irqs_suppressed"),
			stats_get(q, "popped"), stats_get(q, "used"), stats_get(q, "used_updates"));
	}
	/* A busy device has no counters this time: no lines made of them. */
	if (desc && desc->stats_text && !json_is_true(json_object_get(d, "busy")))
		stats_print_text(desc->stats_text, d, out);
}

/* The device table's line of the JSON device d, found by its slot. */
static const struct virtio_device_desc *stats_desc_of(struct vm *vm, json_t *d)
{
	unsigned int i;

	for (i = 0; i < vm->nr_virtio; i++)
		if (vm->virtio[i].dev && vm->virtio[i].slot == stats_get(d, "slot"))
			return vm->virtio[i].desc;
	return NULL;
}

void stats_print(struct vm *vm, FILE *out)
{
	json_t *root = stats_json(vm), *devices, *d;
	size_t i;

	if (!root)
		return;
	fprintf(out, "hvrun: statistics\n");
	stats_print_exits(root, out);
	devices = json_object_get(root, "devices");
	if (json_array_size(devices))
		fprintf(out, "virtio devices (kicks: notifications from the driver; irqs: interrupts "
			"sent; suppressed: interrupts EVENT_IDX or NO_INTERRUPT made unnecessary)\n");
	json_array_foreach(devices, i, d)
		stats_print_device(d, stats_desc_of(vm, d), out);
	d = json_object_get(root, "serial");
	if (stats_get(d, "tx_bytes") || stats_get(d, "rx_bytes"))
		fprintf(out, "COM1 (8250 UART): %" PRIu64 " bytes sent, %" PRIu64 " read by the guest, "
			"%" PRIu64 " interrupts raised; IER 0x%02" PRIx64 " IIR 0x%02" PRIx64 "\n",
			stats_get(d, "tx_bytes"), stats_get(d, "rx_bytes"), stats_get(d, "irqs_raised"),
			stats_get(d, "ier"), stats_get(d, "iir"));
	d = json_object_get(json_object_get(root, "output"), "console");
	if (d)
		fprintf(out, "console output: %" PRIu64 " bytes written, %" PRIu64
			" dropped (nobody read the terminal)\n", stats_get(d, "written"),
			stats_get(d, "dropped"));
	d = json_object_get(root, "output");
	if (stats_get(d, "log_lines_suppressed") || stats_get(json_object_get(d, "log"), "dropped"))
		fprintf(out, "hvrun's messages: %" PRIu64 " lines held back by rate limits, %" PRIu64
			" bytes dropped\n", stats_get(d, "log_lines_suppressed"),
			stats_get(json_object_get(d, "log"), "dropped"));
	d = json_object_get(root, "fw_cfg");
	if (d)
		fprintf(out, "fw_cfg (what the firmware read): %" PRIu64 " items selected, %" PRIu64
			" bytes by port, %" PRIu64 " DMA transfers (%" PRIu64 " bytes), %" PRIu64
			" refused\n", stats_get(d, "selects"), stats_get(d, "io_bytes"),
			stats_get(d, "dma_transfers"), stats_get(d, "dma_bytes"), stats_get(d, "dma_errors"));
	seccomp_stats_print(out);
	json_decref(root);
}
