/* virtio_scsi.c: virtio-scsi (virtio 1.2 §5.6): one target, one read-only CD-ROM (devices/scsi/scsi_cd.c) over an ISO file. */
#include "devices/virtio_scsi.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices/scsi/scsi_cd.h"
#include "hv/base/log.h"
#include "hv/base/trace.h"

/*
 * Why reads are synchronous preadv(2) on the I/O thread, not io_uring as in
 * virtio-blk: the medium is read-only, so there is no write ordering or
 * flushing to get right; an ISO is read mostly once, sequentially, by one
 * reader (a BIOS polling for each answer, a kernel reading a squashfs), and
 * comes from the page cache after the first pass; and the device has its
 * own I/O thread, so a read that waits for the disk stalls only this device.
 * What it costs: commands are answered one after the other, and d->lock is
 * held during a read (a vCPU reading this device's configuration waits).
 */

#define VSCSI_REQ_HDR_LEN	((uint64_t)sizeof(struct virtio_scsi_req_cmd_hdr))	/* 19 */
#define VSCSI_RESP_HDR_LEN	((uint64_t)sizeof(struct virtio_scsi_resp_cmd_hdr))	/* 12 */
#define VSCSI_TMF_REQ_LEN	((uint32_t)sizeof(struct virtio_scsi_ctrl_tmf_req))	/* 24 */
#define VSCSI_AN_REQ_LEN	((uint32_t)sizeof(struct virtio_scsi_ctrl_an_req))	/* 16 */
#define VSCSI_AN_RESP_LEN	((uint32_t)sizeof(struct virtio_scsi_ctrl_an_resp))	/* 5 */

/* The CD-ROM's address (§5.6.6.1: lun[0] = 1, lun[1] = target, lun[2..3] = LUN). */
#define VSCSI_CD_TARGET		0
#define VSCSI_CD_LUN		0

/* Why a chain was refused: one name per rule, printed in one format (vscsi_refuse()). */
enum vscsi_req_error {
	VSCSI_REQ_NO_RESPONSE,		/* not even a response's fixed part is device-writable */
	VSCSI_REQ_SHORT_REQUEST,	/* the request header + CDB is not all device-readable */
	VSCSI_REQ_SHORT_RESPONSE,	/* the response header + sense_size is not all writable */
	VSCSI_REQ_BIDIRECTIONAL,	/* data-out and data-in without VIRTIO_SCSI_F_INOUT */
	VSCSI_REQ_CTRL_SHORT,		/* a TMF or AN request shorter than its structure */
	VSCSI_REQ_CTRL_TYPE,		/* a control request of no known type, or no room to answer it */
	VSCSI_REQ_NR
};

static const char *const vscsi_req_error_name[VSCSI_REQ_NR] = {
	[VSCSI_REQ_NO_RESPONSE] = "no room for the response",
	[VSCSI_REQ_SHORT_REQUEST] = "request shorter than its header and cdb_size",
	[VSCSI_REQ_SHORT_RESPONSE] = "response buffer shorter than its header and sense_size",
	[VSCSI_REQ_BIDIRECTIONAL] = "data-out and data-in without VIRTIO_SCSI_F_INOUT",
	[VSCSI_REQ_CTRL_SHORT] = "control request shorter than its type's structure",
	[VSCSI_REQ_CTRL_TYPE] = "control request of unknown type, or no room for its response",
};

struct vscsi {
	struct virtio_dev vdev;		/* first: a struct virtio_dev * is a struct vscsi * */
	struct virtio_scsi_config cfg;	/* what the driver reads, little-endian */
	int fd;				/* the ISO, borrowed */
	char *name;			/* its name, for logs */
	struct scsi_cd cd;		/* target 0, LUN 0 */
	bool active;			/* between activate() and reset() */

	/*
	 * A read of the ISO runs with vdev.lock released (a slow disk must
	 * not hold the vCPU that reads a register, nor hvctl stats).  busy:
	 * vscsi_process() is answering requests; reset() waits for it on
	 * idle, after bumping gen so that the process stops early.
	 */
	bool busy;
	uint32_t gen;
	pthread_cond_t idle;

	/* Scratch, on the loop thread: the chain being answered, its data-in part, a read's iovecs. */
	struct vq_chain chain;
	struct iovec din[VQ_MAX_SIZE];
	struct iovec rd[VQ_MAX_SIZE];

	struct vscsi_stats stats;
};

/* §5.6.4, byte for byte; the request and response headers of §5.6.6.1. */
_Static_assert(sizeof(struct virtio_scsi_config) == 36, "virtio_scsi_config layout");
_Static_assert(offsetof(struct virtio_scsi_config, sense_size) == 20, "virtio_scsi_config layout");
_Static_assert(offsetof(struct virtio_scsi_config, cdb_size) == 24, "virtio_scsi_config layout");
_Static_assert(offsetof(struct virtio_scsi_config, max_target) == 30, "virtio_scsi_config layout");
_Static_assert(sizeof(struct virtio_scsi_req_cmd_hdr) == 19, "virtio_scsi_req_cmd layout");
_Static_assert(sizeof(struct virtio_scsi_resp_cmd_hdr) == 12, "virtio_scsi_resp_cmd layout");
_Static_assert(sizeof(struct virtio_scsi_ctrl_tmf_req) == 24, "virtio_scsi_ctrl_tmf_req layout");
_Static_assert(sizeof(struct virtio_scsi_ctrl_an_req) == 16, "virtio_scsi_ctrl_an_req layout");
_Static_assert(sizeof(struct virtio_scsi_event) == 16, "virtio_scsi_event layout");

static struct vscsi *to_vscsi(struct virtio_dev *d)
{
	return (struct vscsi *)d;
}

/* The one diagnostic for a refused chain. */
static void vscsi_refuse(struct vscsi *s, unsigned int q, const struct vq_chain *c,
			 enum vscsi_req_error e)
{
	s->stats.refused++;
	HV_TRACE(HV_TRACE_VIRTIO, "%s q%u head %u: refused: %s", s->vdev.vq[q].dev_name, q,
		 c->head, vscsi_req_error_name[e]);
	virtio_warn(&s->vdev, "%s: %s: queue %u head %u: request refused: %s", s->vdev.ops->name, s->name,
		q, c->head, vscsi_req_error_name[e]);
}

/*
 * The medium (scsi_cd_read_fn): len bytes at off into the first len bytes of
 * iov, by preadv(2) until done or end of file.
 */
static ssize_t vscsi_read_medium(void *opaque, uint64_t off, const struct iovec *iov,
				 unsigned int iovcnt, size_t len)
{
	struct vscsi *s = opaque;
	struct iovec *v = s->rd;
	unsigned int n = 0, i;
	size_t left = len, done = 0;
	uint32_t gen = s->gen;
	int err = 0;

	for (i = 0; i < iovcnt && left && n < VQ_MAX_SIZE; i++) {
		v[n].iov_base = iov[i].iov_base;
		v[n].iov_len = iov[i].iov_len < left ? iov[i].iov_len : left;
		left -= v[n].iov_len;
		if (v[n].iov_len)
			n++;
	}
	/*
	 * The buffers are guest RAM that vq_pop() checked; it stays mapped and
	 * reset() waits for us (busy), so the lock can go while the disk works.
	 */
	pthread_mutex_unlock(&s->vdev.lock);
	while (done < len && n) {
		ssize_t got = preadv(s->fd, v, (int)n, (off_t)(off + done));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = errno;
			virtio_warn(&s->vdev, "%s: %s: preadv at byte %" PRIu64 ": %s; the guest gets a "
				"MEDIUM ERROR", s->vdev.ops->name, s->name, off + done,
				strerror(err));
			break;
		}
		if (got == 0)
			break;		/* the file shrank: the caller reports the blocks not read */
		done += (size_t)got;
		/* A short read: step over what arrived. */
		while (n && (size_t)got >= v[0].iov_len) {
			got -= (ssize_t)v[0].iov_len;
			v++;
			n--;
		}
		if (n) {
			v[0].iov_base = (uint8_t *)v[0].iov_base + got;
			v[0].iov_len -= (size_t)got;
		}
	}
	pthread_mutex_lock(&s->vdev.lock);
	if (gen != s->gen)
		return -ECANCELED;	/* a reset came meanwhile: vscsi_process() stops */
	if (err && !done)
		return -err;
	return (ssize_t)done;
}

/*
 * The writable part of c from byte off on, as iovecs in s->din (pointers
 * into buffers vq_pop() checked).  Returns how many.
 */
static unsigned int vscsi_slice_in(struct vscsi *s, const struct vq_chain *c, uint64_t off)
{
	unsigned int i, n = 0;

	for (i = c->nr_out; i < (unsigned int)c->nr_out + c->nr_in; i++) {
		const struct iovec *v = &c->iov[i];

		if (off >= v->iov_len) {
			off -= v->iov_len;
			continue;
		}
		s->din[n].iov_base = (uint8_t *)v->iov_base + off;
		s->din[n].iov_len = v->iov_len - (size_t)off;
		n++;
		off = 0;
	}
	return n;
}

/*
 * The address in lun[8] (§5.6.6.1): is it our target?  *lun is the LUN, or
 * UINT32_MAX for an address no LUN of ours can have.  Like QEMU, single-level
 * peripheral (lun[2] = 0) and flat (lun[2] = 40h..7Fh) LUNs are understood;
 * any other form means no such target.
 */
static bool vscsi_target(const uint8_t addr[8], uint32_t *lun)
{
	/* GUEST: lun[0] must be 1; lun[1] is the target. */
	if (addr[0] != 1 || addr[1] != VSCSI_CD_TARGET)
		return false;
	if (addr[2] != 0 && (addr[2] & 0xc0) != 0x40)
		return false;
	*lun = (uint32_t)(addr[2] & 0x3f) << 8 | addr[3];
	if (addr[4] | addr[5] | addr[6] | addr[7])
		*lun = UINT32_MAX;	/* a second level: not ours */
	return true;
}

static const char *vscsi_response_name(uint8_t r)
{
	switch (r) {
	case VIRTIO_SCSI_S_OK:
		return "OK";
	case VIRTIO_SCSI_S_OVERRUN:
		return "OVERRUN";
	case VIRTIO_SCSI_S_BAD_TARGET:
		return "BAD_TARGET";
	case VIRTIO_SCSI_S_FAILURE:
		return "FAILURE";
	default:
		return "?";
	}
}

/*
 * Writes the response (header, then up to sense_size bytes of sense) and
 * gives the chain back with resp_len + data bytes written.
 */
static void vscsi_complete_cmd(struct vscsi *s, const struct vq_chain *c, uint8_t response,
			       const struct scsi_cmd_result *res, uint64_t resid, uint64_t resp_len,
			       uint64_t data_len)
{
	uint8_t buf[VSCSI_RESP_HDR_LEN + VIRTIO_SCSI_SENSE_SIZE] = { 0 };
	struct virtio_scsi_resp_cmd_hdr h = { 0 };
	uint64_t sense_size = resp_len - VSCSI_RESP_HDR_LEN;
	uint32_t sense_len = 0;

	if (res) {
		sense_len = res->sense_len;
		if (sense_len > sense_size)
			sense_len = (uint32_t)sense_size;	/* §5.6.6.1: at most sense_size */
		h.status = res->status;
		memcpy(buf + VSCSI_RESP_HDR_LEN, res->sense, sense_len);
	}
	h.sense_len = htole32(sense_len);
	h.resid = htole32(resid > UINT32_MAX ? UINT32_MAX : (uint32_t)resid);
	h.response = response;
	memcpy(buf, &h, sizeof(h));
	vq_chain_write(c, 0, buf, resp_len < sizeof(buf) ? (size_t)resp_len : sizeof(buf));
	/* resp_len + data_len <= in_len (checked by the caller), so this fits 32 bits. */
	vq_push(&s->vdev.vq[VSCSI_REQUESTQ], c->head, (uint32_t)(resp_len + data_len));
}

/* One command from the request queue (§5.6.6.1): parse the whole chain, then run it. */
static void vscsi_handle_cmd(struct vscsi *s, const struct vq_chain *c)
{
	struct virtqueue *vq = &s->vdev.vq[VSCSI_REQUESTQ];
	uint64_t cdb_size = le32toh(s->cfg.cdb_size), sense_size = le32toh(s->cfg.sense_size);
	uint64_t req_len = VSCSI_REQ_HDR_LEN + cdb_size, resp_len = VSCSI_RESP_HDR_LEN + sense_size;
	uint8_t req[VSCSI_REQ_HDR_LEN + VIRTIO_SCSI_CDB_SIZE] = { 0 };
	struct virtio_scsi_req_cmd_hdr h;
	struct scsi_cmd_result res;
	struct scsi_cmd cmd = { 0 };
	uint64_t dout_len, din_len;
	uint32_t lun;

	/* GUEST: the response's fixed part must be device-writable, or we cannot answer at all. */
	if (c->in_len < VSCSI_RESP_HDR_LEN) {
		vscsi_refuse(s, VSCSI_REQUESTQ, c, VSCSI_REQ_NO_RESPONSE);
		vq_push(vq, c->head, 0);
		return;
	}
	/* GUEST: header + cdb_size readable, header + sense_size writable (both set by the driver). */
	if (c->out_len < req_len || c->in_len < resp_len) {
		vscsi_refuse(s, VSCSI_REQUESTQ, c, c->out_len < req_len ? VSCSI_REQ_SHORT_REQUEST :
			     VSCSI_REQ_SHORT_RESPONSE);
		vscsi_complete_cmd(s, c, VIRTIO_SCSI_S_FAILURE, NULL, 0, VSCSI_RESP_HDR_LEN, 0);
		return;
	}
	dout_len = c->out_len - req_len;
	din_len = c->in_len - resp_len;
	vq_chain_read(c, 0, req, VSCSI_REQ_HDR_LEN + (cdb_size < VIRTIO_SCSI_CDB_SIZE ? cdb_size :
						      VIRTIO_SCSI_CDB_SIZE));
	memcpy(&h, req, sizeof(h));
	if (!vscsi_target(h.lun, &lun)) {
		/* Linux and SeaBIOS scan targets this way: not an error worth a message. */
		s->stats.bad_target++;
		HV_TRACE(HV_TRACE_VIRTIO, "%s head %u: target %u: BAD_TARGET", vq->dev_name, c->head,
			 (unsigned int)h.lun[1]);
		vscsi_complete_cmd(s, c, VIRTIO_SCSI_S_BAD_TARGET, NULL, dout_len + din_len,
				   resp_len, 0);
		return;
	}
	/* GUEST: a bidirectional command needs VIRTIO_SCSI_F_INOUT, never offered. */
	if (dout_len && din_len) {
		vscsi_refuse(s, VSCSI_REQUESTQ, c, VSCSI_REQ_BIDIRECTIONAL);
		vscsi_complete_cmd(s, c, VIRTIO_SCSI_S_FAILURE, NULL, dout_len + din_len,
				   resp_len, 0);
		return;
	}
	/*
	 * Data-out is never read: the commands that carry it (writes, MODE
	 * SELECT) are refused by the unit, and any other one with data-out has
	 * no data-in room, so if it returns data it ends in OVERRUN.
	 */
	cmd.cdb = req + VSCSI_REQ_HDR_LEN;
	cmd.cdb_len = cdb_size < VIRTIO_SCSI_CDB_SIZE ? (size_t)cdb_size : VIRTIO_SCSI_CDB_SIZE;
	cmd.din = s->din;
	cmd.din_cnt = din_len ? vscsi_slice_in(s, c, resp_len) : 0;
	cmd.din_len = din_len;
	s->stats.cmds++;
	if (lun == VSCSI_CD_LUN)
		scsi_cd_execute(&s->cd, &cmd, &res);
	else
		scsi_absent_lun_execute(&cmd, &res);
	if (res.is_read)
		s->stats.reads++;
	s->stats.bytes_read += res.bytes_read;
	if (res.status == SCSI_STATUS_CHECK_CONDITION)
		s->stats.check_conditions++;
	HV_TRACE(HV_TRACE_VIRTIO, "%s head %u: lun %u cdb %02x %02x%02x%02x%02x%02x%02x%02x%02x%02x: "
		 "%s, status %02x sense %x/%02x/%02x, %" PRIu64 " of %" PRIu64 " B in",
		 vq->dev_name, c->head, lun, cmd.cdb[0], cmd.cdb[1], cmd.cdb[2], cmd.cdb[3],
		 cmd.cdb[4], cmd.cdb[5], cmd.cdb[6], cmd.cdb[7], cmd.cdb[8], cmd.cdb[9],
		 vscsi_response_name(res.overrun ? VIRTIO_SCSI_S_OVERRUN : VIRTIO_SCSI_S_OK),
		 res.status, res.sense_len ? res.sense[2] : 0, res.sense_len ? res.sense[12] : 0,
		 res.sense_len ? res.sense[13] : 0, res.data_len, din_len);
	/*
	 * §5.6.6.1: resid = the data buffers' length minus what was
	 * transferred; OVERRUN when the data-in buffer could not take the data
	 * (then nothing was transferred and the command did nothing).
	 */
	vscsi_complete_cmd(s, c, res.overrun ? VIRTIO_SCSI_S_OVERRUN : VIRTIO_SCSI_S_OK, &res,
			   dout_len + din_len - res.data_len, resp_len, res.data_len);
}

/* A task management function (§5.6.6.2.1); the 1-byte response.  Commands never wait here. */
static uint8_t vscsi_tmf(struct vscsi *s, const struct virtio_scsi_ctrl_tmf_req *t)
{
	uint32_t subtype = le32toh(t->subtype), lun;

	s->stats.tmf++;
	if (!vscsi_target(t->lun, &lun))
		return VIRTIO_SCSI_S_BAD_TARGET;
	switch (subtype) {
	case VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET:	/* the target's one LU with it (SAM-5 §7.4) */
		scsi_cd_reset(&s->cd);
		return VIRTIO_SCSI_S_FUNCTION_COMPLETE;
	case VIRTIO_SCSI_T_TMF_ABORT_TASK:
	case VIRTIO_SCSI_T_TMF_ABORT_TASK_SET:
	case VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET:
	case VIRTIO_SCSI_T_TMF_QUERY_TASK:
	case VIRTIO_SCSI_T_TMF_QUERY_TASK_SET:
	case VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET:
		if (lun != VSCSI_CD_LUN)
			return VIRTIO_SCSI_S_INCORRECT_LUN;
		/*
		 * Every command is answered before the next is taken, so no
		 * task is ever in the task set: nothing to abort or find
		 * (FUNCTION COMPLETE, SAM-5 §7.1).
		 */
		if (subtype == VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET)
			scsi_cd_reset(&s->cd);
		return VIRTIO_SCSI_S_FUNCTION_COMPLETE;
	default:				/* CLEAR ACA: never in ACA; unknown ones */
		return VIRTIO_SCSI_S_FUNCTION_REJECTED;
	}
}

/* One request of the control queue (§5.6.6.2). */
static void vscsi_handle_ctrl(struct vscsi *s, const struct vq_chain *c)
{
	struct virtqueue *vq = &s->vdev.vq[VSCSI_CONTROLQ];
	uint32_t type = UINT32_MAX;

	if (c->out_len >= sizeof(type)) {
		vq_chain_read(c, 0, &type, sizeof(type));
		type = le32toh(type);
	}
	if (type == VIRTIO_SCSI_T_TMF && c->in_len >= 1) {
		struct virtio_scsi_ctrl_tmf_req t = { 0 };
		uint8_t response = VIRTIO_SCSI_S_FAILURE;

		if (c->out_len >= VSCSI_TMF_REQ_LEN) {
			vq_chain_read(c, 0, &t, sizeof(t));
			response = vscsi_tmf(s, &t);
		} else {
			vscsi_refuse(s, VSCSI_CONTROLQ, c, VSCSI_REQ_CTRL_SHORT);
		}
		HV_TRACE(HV_TRACE_VIRTIO, "%s head %u: TMF subtype %u: response %u", vq->dev_name,
			 c->head, c->out_len >= VSCSI_TMF_REQ_LEN ? le32toh(t.subtype) : UINT32_MAX,
			 response);
		vq_chain_write(c, 0, &response, 1);
		vq_push(vq, c->head, 1);
		return;
	}
	if ((type == VIRTIO_SCSI_T_AN_QUERY || type == VIRTIO_SCSI_T_AN_SUBSCRIBE) &&
	    c->in_len >= VSCSI_AN_RESP_LEN) {
		struct virtio_scsi_ctrl_an_resp r = { .event_actual = 0 };
		struct virtio_scsi_ctrl_an_req a;
		uint32_t lun;

		/* No asynchronous notification is supported: event_actual stays 0 (§5.6.6.2.2). */
		r.response = VIRTIO_SCSI_S_FAILURE;
		if (c->out_len >= VSCSI_AN_REQ_LEN) {
			vq_chain_read(c, 0, &a, sizeof(a));
			r.response = vscsi_target(a.lun, &lun) ? VIRTIO_SCSI_S_OK :
				     VIRTIO_SCSI_S_BAD_TARGET;
		} else {
			vscsi_refuse(s, VSCSI_CONTROLQ, c, VSCSI_REQ_CTRL_SHORT);
		}
		vq_chain_write(c, 0, &r, sizeof(r));
		vq_push(vq, c->head, sizeof(r));
		return;
	}
	/* Unknown type, or no room for its response: nothing sensible to write. */
	vscsi_refuse(s, VSCSI_CONTROLQ, c, VSCSI_REQ_CTRL_TYPE);
	vq_push(vq, c->head, 0);
}

/* Answers every available request of queue q, then interrupts at most once. */
static void vscsi_process(struct vscsi *s, unsigned int q)
{
	struct virtio_dev *d = &s->vdev;
	struct virtqueue *vq = &d->vq[q];
	unsigned int budget = VIRTIO_BUDGET;
	uint32_t gen = s->gen;
	bool pushed = false;
	int ret = 0;

	if (!s->active || !vq->ready || (d->status & VIRTIO_STATUS_NEEDS_RESET))
		return;
	s->busy = true;
	for (;;) {
		/* §2.7.10: no notifications while we drain the ring. */
		vq_notify_off(vq);
		while (budget && gen == s->gen && (ret = vq_pop(vq, &s->chain)) > 0) {
			budget--;
			if (q == VSCSI_REQUESTQ)
				vscsi_handle_cmd(s, &s->chain);
			else
				vscsi_handle_ctrl(s, &s->chain);
			pushed = true;
		}
		if (gen != s->gen)
			break;		/* reset while a read ran: the queue is about to go */
		if (ret < 0) {
			/* A broken ring (logged by vq_pop): the queue stops until a reset. */
			virtio_needs_reset(d);
			break;
		}
		if (!budget) {
			virtio_defer(d, q);	/* a full ring gets its next turn from the loop */
			break;
		}
		if (!vq_notify_on(vq))
			break;
	}
	if (pushed && gen == s->gen)
		virtio_used(d, q);
	s->busy = false;
	pthread_cond_broadcast(&s->idle);
}

/* ---- the ops ---- */

/* §5.6.4: only sense_size and cdb_size are the driver's to write; any width, any offset. */
static void vscsi_config_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t size)
{
	struct vscsi *s = to_vscsi(d);
	uint8_t cfg[sizeof(s->cfg)];

	memcpy(cfg, &s->cfg, sizeof(cfg));
	memcpy(cfg + off, data, size);	/* the transport checked [off, off + size) */
	memcpy(&s->cfg.sense_size, cfg + offsetof(struct virtio_scsi_config, sense_size), 4);
	memcpy(&s->cfg.cdb_size, cfg + offsetof(struct virtio_scsi_config, cdb_size), 4);
	HV_TRACE(HV_TRACE_VIRTIO, "%s: config write at %u: sense_size %u, cdb_size %u",
		 d->vq[0].dev_name, off, le32toh(s->cfg.sense_size), le32toh(s->cfg.cdb_size));
}

static int vscsi_activate(struct virtio_dev *d)
{
	/* Nothing to register: commands run in notify(); the event queue is left alone. */
	to_vscsi(d)->active = true;
	return 0;
}

static void vscsi_notify(struct virtio_dev *d, unsigned int q)
{
	/*
	 * The event queue's buffers stay where the driver put them, untouched:
	 * no event is ever reported (no hotplug, no parameter change), and a
	 * reset hands them back with the ring.
	 */
	if (q == VSCSI_REQUESTQ || q == VSCSI_CONTROLQ)
		vscsi_process(to_vscsi(d), q);
}

/*
 * §2.4: every command completes inside notify(); one may be reading the ISO
 * with the lock released, and is waited for (it stops after that read).
 * The driver-written sizes go back to their defaults (§5.6.4) and the LU
 * sees a reset: UNIT ATTENTION 29h/00h, as a bus reset gives on a real HBA.
 */
static void vscsi_reset(struct virtio_dev *d)
{
	struct vscsi *s = to_vscsi(d);

	s->gen++;
	while (s->busy)
		pthread_cond_wait(&s->idle, &d->lock);
	s->active = false;
	s->cfg.sense_size = htole32(VIRTIO_SCSI_SENSE_SIZE);
	s->cfg.cdb_size = htole32(VIRTIO_SCSI_CDB_SIZE);
	scsi_cd_reset(&s->cd);
}

static void vscsi_destroy(struct virtio_dev *d)
{
	struct vscsi *s = to_vscsi(d);

	/* The ISO is the host's (open across reboots): not closed here. */
	pthread_cond_destroy(&s->idle);
	virtio_dev_cleanup(d);
	free(s->name);
	free(s);
}

static const struct virtio_dev_ops vscsi_ops = {
	.name = "virtio-scsi",
	.device_id = VIRTIO_ID_SCSI,
	.pci_class = VSCSI_PCI_CLASS,
	.config_write = vscsi_config_write,
	.activate = vscsi_activate,
	.notify = vscsi_notify,
	.reset = vscsi_reset,
	.destroy = vscsi_destroy,
};

/*
 * The unit serial number (VPD 80h): FNV-1a of the primary volume
 * descriptor, so the same ISO gets the same serial every boot and two ISOs
 * differ.  "0" if it cannot be read (iso9660_probe() read it before).
 */
static void vscsi_serial(int fd, char *serial, size_t len)
{
	uint8_t pvd[SCSI_CD_BLOCK];
	uint32_t h = 2166136261u;
	size_t i;

	if (pread(fd, pvd, sizeof(pvd), 16 * SCSI_CD_BLOCK) != (ssize_t)sizeof(pvd)) {
		snprintf(serial, len, "0");
		return;
	}
	for (i = 0; i < sizeof(pvd); i++)
		h = (h ^ pvd[i]) * 16777619u;
	snprintf(serial, len, "%08" PRIX32, h);
}

static void vscsi_fill_config(struct vscsi *s)
{
	struct virtio_scsi_config *c = &s->cfg;

	c->num_queues = htole32(1);
	c->seg_max = htole32(VSCSI_SEG_MAX);
	c->max_sectors = htole32(VSCSI_MAX_SECTORS);
	c->cmd_per_lun = htole32(VSCSI_CMD_PER_LUN);
	c->event_info_size = htole32(sizeof(struct virtio_scsi_event));
	c->sense_size = htole32(VIRTIO_SCSI_SENSE_SIZE);
	c->cdb_size = htole32(VIRTIO_SCSI_CDB_SIZE);
	c->max_channel = htole16(0);
	c->max_target = htole16(VSCSI_MAX_TARGET);
	c->max_lun = htole32(VSCSI_MAX_LUN);
}

int vscsi_create(const struct vscsi_options *o, const struct guest_mem *mem, struct ev_loop *loop,
		 struct virtio_dev **out, char *err, size_t errlen)
{
	const char *name = o && o->cd_name ? o->cd_name : "cdrom";
	char serial[SCSI_CD_SERIAL_MAX + 1];
	struct vscsi *s;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!o || o->cd_fd < 0 || !mem || !loop || !out)
		return hv_fail(err, errlen, -EINVAL, "virtio-scsi: missing ISO, memory, loop or "
			       "output");
	if (o->cd_size < SCSI_CD_BLOCK)
		return hv_fail(err, errlen, -EINVAL, "%s: %" PRIu64 " bytes: too small for a "
			       "CD-ROM (one 2048-byte block)", name, o->cd_size);
	s = calloc(1, sizeof(*s));
	if (!s)
		return hv_fail(err, errlen, -ENOMEM, "%s: out of memory", name);
	s->fd = o->cd_fd;
	pthread_cond_init(&s->idle, NULL);
	s->name = strdup(name);
	if (!s->name) {
		free(s);
		return hv_fail(err, errlen, -ENOMEM, "%s: out of memory", name);
	}
	vscsi_serial(o->cd_fd, serial, sizeof(serial));
	ret = scsi_cd_init(&s->cd, o->cd_size, serial, vscsi_read_medium, s);
	if (!ret)
		ret = virtio_dev_init(&s->vdev, &vscsi_ops, mem, loop, VSCSI_NR_QUEUES,
				      VSCSI_QUEUE_MAX, VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
				      VIRTIO_BIT(VIRTIO_F_EVENT_IDX), &s->cfg, sizeof(s->cfg));
	if (ret) {
		free(s->name);
		free(s);
		return hv_fail(err, errlen, ret, "%s: virtio-scsi: %s", name, strerror(-ret));
	}
	virtio_set_label(&s->vdev, s->name);
	vscsi_fill_config(s);
	if (o->cd_size % SCSI_CD_BLOCK)
		hv_warn("%s: size %" PRIu64 " is not a multiple of 2048; the last %" PRIu64
			" bytes are not visible to the guest", name, o->cd_size,
			o->cd_size % SCSI_CD_BLOCK);
	hv_info("%s: %s: CD-ROM at target %d LUN %d, %" PRIu64 " blocks of 2048, serial %s",
		vscsi_ops.name, name, VSCSI_CD_TARGET, VSCSI_CD_LUN, s->cd.blocks, s->cd.serial);
	*out = &s->vdev;
	return 0;
}

void vscsi_get_stats(struct virtio_dev *d, struct vscsi_stats *out)
{
	struct vscsi *s = to_vscsi(d);

	*out = s->stats;
}

/* ---- the device table ---- */

static int vscsi_device_create(const struct virtio_dev_args *a, const void *config,
			       struct virtio_dev **out, char *err, size_t errlen)
{
	return vscsi_create(config, a->mem, a->loop, out, err, errlen);
}

static size_t vscsi_counters(struct virtio_dev *d, struct virtio_counter *out, size_t max)
{
	struct vscsi_stats s;
	size_t n = 0;

	vscsi_get_stats(d, &s);
	virtio_counter_add(out, max, &n, "scsi", "commands", s.cmds);
	virtio_counter_add(out, max, &n, "scsi", "reads", s.reads);
	virtio_counter_add(out, max, &n, "scsi", "bytes_read", s.bytes_read);
	virtio_counter_add(out, max, &n, "scsi", "check_conditions", s.check_conditions);
	virtio_counter_add(out, max, &n, "scsi", "task_management", s.tmf);
	virtio_counter_add(out, max, &n, "scsi", "bad_target", s.bad_target);
	virtio_counter_add(out, max, &n, "scsi", "refused", s.refused);
	return n;
}

const struct virtio_device_desc vscsi_device = {
	.name = "scsi",
	.naming = VIRTIO_NAME_NUMBER,
	.create = vscsi_device_create,
	.counters = vscsi_counters,
	.stats_text =
		"    commands: {scsi.commands} ({scsi.reads} reads, {scsi.bytes_read:bytes}), "
		"{scsi.check_conditions} check conditions, {scsi.bad_target} to absent targets, "
		"{scsi.task_management} task management, {scsi.refused} refused\n",
	.boot = VIRTIO_BOOT_CDROM,
};
