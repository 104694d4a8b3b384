/* virtio_rng.c: virtio-rng (virtio 1.2 §5.4): fills the guest's buffers from getrandom(2), through a token bucket. */
#include "devices/virtio_rng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hv/base/log.h"
#include "hv/base/trace.h"

#define VRNG_QUEUE_MAX		64
#define NSEC_PER_SEC		1000000000ull
/* getrandom() said EAGAIN (the host pool is not ready yet): try again this much later. */
#define VRNG_EAGAIN_NS		(100ull * 1000 * 1000)

struct vrng {
	struct virtio_dev vdev;		/* first: a struct virtio_dev * is a struct vrng * */
	bool active;			/* between activate() and reset() */

	/*
	 * Token bucket, in bytes: refilled at rate per second up to burst.  It
	 * survives device resets, so that resetting cannot refill it.
	 */
	uint64_t rate, burst, tokens;
	uint64_t last_ns;		/* CLOCK_MONOTONIC time the tokens were counted up to */

	/* Resumes a throttled queue: armed when the bucket ran dry with buffers waiting. */
	struct ev_timer timer;		/* watched by vdev.loop from activate() until reset() */
	bool timer_armed;

	bool warned;
	struct vq_chain chain;		/* scratch for vq_pop(), under vdev.lock */

	/* Counters. */
	uint64_t nr_bytes, nr_throttled, nr_bad_chains;
};

static struct vrng *to_vrng(struct virtio_dev *d)
{
	return (struct vrng *)d;
}

/* Adds the tokens earned since last_ns; the fraction of a byte not yet earned stays credited. */
static void vrng_refill(struct vrng *r)
{
	uint64_t now = hv_now_ns();
	uint64_t add;

	if (r->tokens >= r->burst || now <= r->last_ns) {
		if (r->tokens >= r->burst)
			r->last_ns = now;
		return;
	}
	add = (uint64_t)((unsigned __int128)(now - r->last_ns) * r->rate / NSEC_PER_SEC);
	if (add == 0)
		return;
	if (add >= r->burst - r->tokens) {
		r->tokens = r->burst;
		r->last_ns = now;
		return;
	}
	r->tokens += add;
	r->last_ns += (uint64_t)((unsigned __int128)add * NSEC_PER_SEC / r->rate);
}

/*
 * Stops taking buffers until the timer fires: asks the driver not to notify
 * meanwhile, and notifications that come anyway return at once.
 */
static void vrng_throttle(struct vrng *r, uint64_t delay_ns)
{
	int ret;

	ret = ev_timer_set(&r->timer, delay_ns ? delay_ns : 1, 0);
	if (ret < 0) {
		virtio_warn(&r->vdev, "%s: timerfd_settime: %s", r->vdev.ops->name, strerror(-ret));
		return;
	}
	r->timer_armed = true;
	r->nr_throttled++;
	vq_notify_off(&r->vdev.vq[VRNG_REQUESTQ]);
}

/* The wait for a useful refill: a hundredth of a second's worth (at least 1 byte, at most the bucket). */
static uint64_t vrng_refill_delay(const struct vrng *r)
{
	uint64_t chunk = r->rate / 100;

	if (chunk > r->burst)
		chunk = r->burst;
	if (chunk == 0)
		chunk = 1;
	return (uint64_t)(((unsigned __int128)chunk * NSEC_PER_SEC + r->rate - 1) / r->rate);
}

/*
 * Fills up to want bytes of the chain's writable part from getrandom(2),
 * which never blocks here (GRND_NONBLOCK).  Returns the bytes written;
 * *again is set when the host's pool is not ready yet.
 */
static size_t vrng_fill(struct vrng *r, size_t want, bool *again)
{
	const struct vq_chain *c = &r->chain;
	size_t done = 0;
	unsigned int i;

	for (i = c->nr_out; i < (unsigned int)c->nr_out + c->nr_in && done < want; i++) {
		uint8_t *p = c->iov[i].iov_base;
		size_t len = c->iov[i].iov_len;
		size_t got = 0;

		if (len > want - done)
			len = want - done;
		while (got < len) {
			ssize_t n = getrandom(p + got, len - got, GRND_NONBLOCK);

			if (n > 0) {
				got += (size_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				*again = true;
			} else if (!r->warned) {
				virtio_warn(&r->vdev, "%s: getrandom: %s", r->vdev.ops->name,
					n < 0 ? strerror(errno) : "returned 0");
				r->warned = true;
			}
			return done + got;
		}
		done += got;
	}
	return done;
}

/* Fills request buffers while the bucket has tokens; then waits for the timer. */
static void vrng_process(struct vrng *r)
{
	struct virtio_dev *d = &r->vdev;
	struct virtqueue *vq = &d->vq[VRNG_REQUESTQ];
	unsigned int budget;
	bool pushed = false;
	int ret;

	if (!r->active || r->timer_armed || !vq->ready || (d->status & VIRTIO_STATUS_NEEDS_RESET))
		return;
	vrng_refill(r);
	for (budget = VIRTIO_BUDGET;; budget--) {
		size_t want, got;
		bool again = false;

		/* GUEST: chains that take no bytes cost no tokens: the budget bounds the loop. */
		if (!budget) {
			virtio_defer(d, VRNG_REQUESTQ);
			break;
		}
		if (r->tokens == 0) {
			vrng_refill(r);
			if (r->tokens == 0) {
				if (vq_has_avail(vq))
					vrng_throttle(r, vrng_refill_delay(r));
				break;
			}
		}
		ret = vq_pop(vq, &r->chain);
		if (ret < 0) {
			virtio_needs_reset(d);
			break;
		}
		if (ret == 0)
			break;
		/* GUEST: §5.4.6.1 requests are device-writable; one without a writable part gets 0 bytes. */
		if (r->chain.in_len == 0) {
			r->nr_bad_chains++;
			vq_push(vq, r->chain.head, 0);
			pushed = true;
			continue;
		}
		want = r->chain.in_len < r->tokens ? r->chain.in_len : r->tokens;
		got = vrng_fill(r, want, &again);
		if (got == 0 && again) {
			vq_unpop(vq);
			vrng_throttle(r, VRNG_EAGAIN_NS);
			break;
		}
		r->tokens -= got;
		r->nr_bytes += got;
		HV_TRACE(HV_TRACE_VIRTIO, "%s: %zu random bytes for head %u (asked %u)",
			 r->vdev.vq[0].dev_name, (size_t)got, (unsigned int)r->chain.head, r->chain.in_len);
		vq_push(vq, r->chain.head, (uint32_t)got);
		pushed = true;
	}
	if (pushed)
		virtio_used(d, VRNG_REQUESTQ);
}

/* On the loop thread: the bucket has refilled enough, resume. */
static void vrng_timer_fired(void *opaque)
{
	struct vrng *r = opaque;

	pthread_mutex_lock(&r->vdev.lock);
	if (r->timer_armed) {
		r->timer_armed = false;
		if (r->active && r->vdev.vq[VRNG_REQUESTQ].ready)
			vq_notify_on(&r->vdev.vq[VRNG_REQUESTQ]);
		vrng_process(r);
	}
	pthread_mutex_unlock(&r->vdev.lock);
}

/* ---- the ops ---- */

static int vrng_activate(struct virtio_dev *d)
{
	struct vrng *r = to_vrng(d);
	int ret;

	ret = ev_timer_start(&r->timer, d->loop);
	if (ret) {
		virtio_warn(&r->vdev, "%s: cannot watch the rate-limit timer: %s", d->ops->name, strerror(-ret));
		return ret;
	}
	r->active = true;
	vrng_process(r);
	return 0;
}

static void vrng_notify(struct virtio_dev *d, unsigned int q)
{
	if (q == VRNG_REQUESTQ)
		vrng_process(to_vrng(d));
}

static void vrng_disarm(struct vrng *r)
{
	ev_timer_stop(&r->timer);
	r->timer_armed = false;
}

/* Requests are filled synchronously, so only the timer is outstanding.  The bucket is kept. */
static void vrng_reset(struct virtio_dev *d)
{
	struct vrng *r = to_vrng(d);

	r->active = false;
	vrng_disarm(r);
	memset(&r->chain, 0, sizeof(r->chain));
}

static void vrng_destroy(struct virtio_dev *d)
{
	struct vrng *r = to_vrng(d);

	vrng_disarm(r);
	ev_timer_destroy(&r->timer);
	virtio_dev_cleanup(d);
	free(r);
}

static const struct virtio_dev_ops vrng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.pci_class = VRNG_PCI_CLASS,
	.activate = vrng_activate,
	.notify = vrng_notify,
	.reset = vrng_reset,
	.destroy = vrng_destroy,
};

int vrng_create(const struct guest_mem *mem, struct ev_loop *loop, uint64_t rate_bytes_per_sec,
		struct virtio_dev **out)
{
	struct vrng *r;
	int ret;

	if (!loop)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	/* §5.4.4: no device configuration. */
	ret = virtio_dev_init(&r->vdev, &vrng_ops, mem, loop, 1, VRNG_QUEUE_MAX,
			      VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC),
			      NULL, 0);
	if (ret) {
		free(r);
		return ret;
	}
	ret = ev_timer_init(&r->timer, vrng_ops.name, vrng_timer_fired, r);
	if (ret) {
		virtio_dev_cleanup(&r->vdev);
		free(r);
		return ret;
	}
	r->rate = rate_bytes_per_sec ? rate_bytes_per_sec : VRNG_DEFAULT_RATE;
	r->burst = r->rate < VRNG_MAX_BURST ? r->rate : VRNG_MAX_BURST;
	r->tokens = r->burst;
	r->last_ns = hv_now_ns();
	*out = &r->vdev;
	return 0;
}

/* ---- the device table ---- */

static int vrng_device_create(const struct virtio_dev_args *a, const void *config,
			      struct virtio_dev **out, char *err, size_t errlen)
{
	const struct vrng_options *c = config;

	(void)err;
	(void)errlen;
	return vrng_create(a->mem, a->loop, c->rate_bytes_per_sec, out);
}

const struct virtio_device_desc vrng_device = {
	.name = "rng",
	.naming = VIRTIO_NAME_ALONE,
	.create = vrng_device_create,
};
