/* virtio_scsi.h: the virtio SCSI host (virtio 1.2 §5.6) with one read-only CD-ROM at target 0, LUN 0. */
#ifndef DEV_VIRTIO_SCSI_H
#define DEV_VIRTIO_SCSI_H

#include <stddef.h>
#include <stdint.h>

#include "devices/virtio/virtio.h"
#include "hv/base/event_loop.h"
#include "hv/base/guest_mem.h"

/* Queues (§5.6.2): control, event, then the request queues (one here). */
#define VSCSI_CONTROLQ			0
#define VSCSI_EVENTQ			1
#define VSCSI_REQUESTQ			2
#define VSCSI_NR_QUEUES			3

/* Feature bits (§5.6.3): none is offered (no bidirectional data, hotplug, events or T10 PI). */
#define VIRTIO_SCSI_F_INOUT		0
#define VIRTIO_SCSI_F_HOTPLUG		1
#define VIRTIO_SCSI_F_CHANGE		2
#define VIRTIO_SCSI_F_T10_PI		3

/* Defaults of the two fields the driver may write (§5.6.4); a device reset restores them. */
#define VIRTIO_SCSI_SENSE_SIZE		96
#define VIRTIO_SCSI_CDB_SIZE		32

/* Device configuration (§5.6.4), little-endian. */
struct virtio_scsi_config {
	uint32_t num_queues;		/* request queues */
	uint32_t seg_max;		/* data segments in one command */
	uint32_t max_sectors;		/* hint: the largest transfer, in 512-byte sectors */
	uint32_t cmd_per_lun;		/* hint: commands in flight per LUN */
	uint32_t event_info_size;	/* the eventq buffers' size */
	uint32_t sense_size;		/* driver-writable */
	uint32_t cdb_size;		/* driver-writable */
	uint16_t max_channel;
	uint16_t max_target;
	uint32_t max_lun;
} __attribute__((packed));

/* The fixed part of a request (§5.6.6.1), device-readable; cdb_size CDB bytes follow. */
struct virtio_scsi_req_cmd_hdr {
	uint8_t lun[8];			/* 1, target, LUN (flat: 0x40 | hi, lo), 0 x 4 */
	uint64_t tag;
	uint8_t task_attr;
	uint8_t prio;
	uint8_t crn;
} __attribute__((packed));

/* The fixed part of a response (§5.6.6.1), device-writable; sense_size sense bytes follow, then data-in. */
struct virtio_scsi_resp_cmd_hdr {
	uint32_t sense_len;
	uint32_t resid;
	uint16_t status_qualifier;
	uint8_t status;			/* SCSI status */
	uint8_t response;		/* VIRTIO_SCSI_S_* */
} __attribute__((packed));

/* Control requests (§5.6.6.2). */
#define VIRTIO_SCSI_T_TMF			0
#define VIRTIO_SCSI_T_AN_QUERY			1
#define VIRTIO_SCSI_T_AN_SUBSCRIBE		2

#define VIRTIO_SCSI_T_TMF_ABORT_TASK		0
#define VIRTIO_SCSI_T_TMF_ABORT_TASK_SET	1
#define VIRTIO_SCSI_T_TMF_CLEAR_ACA		2
#define VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET	3
#define VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET	4
#define VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET	5
#define VIRTIO_SCSI_T_TMF_QUERY_TASK		6
#define VIRTIO_SCSI_T_TMF_QUERY_TASK_SET	7

struct virtio_scsi_ctrl_tmf_req {
	uint32_t type;
	uint32_t subtype;
	uint8_t lun[8];
	uint64_t tag;
} __attribute__((packed));

struct virtio_scsi_ctrl_an_req {
	uint32_t type;
	uint8_t lun[8];
	uint32_t event_requested;
} __attribute__((packed));

struct virtio_scsi_ctrl_an_resp {
	uint32_t event_actual;
	uint8_t response;
} __attribute__((packed));

/* An eventq element (§5.6.6.3): event_info_size is its size. */
struct virtio_scsi_event {
	uint32_t event;
	uint8_t lun[8];
	uint32_t reason;
} __attribute__((packed));

/* Response codes (§5.6.6.1, §5.6.6.2). */
#define VIRTIO_SCSI_S_OK			0
#define VIRTIO_SCSI_S_FUNCTION_COMPLETE		0
#define VIRTIO_SCSI_S_OVERRUN			1
#define VIRTIO_SCSI_S_ABORTED			2
#define VIRTIO_SCSI_S_BAD_TARGET		3
#define VIRTIO_SCSI_S_RESET			4
#define VIRTIO_SCSI_S_BUSY			5
#define VIRTIO_SCSI_S_TRANSPORT_FAILURE		6
#define VIRTIO_SCSI_S_TARGET_FAILURE		7
#define VIRTIO_SCSI_S_NEXUS_FAILURE		8
#define VIRTIO_SCSI_S_FAILURE			9
#define VIRTIO_SCSI_S_FUNCTION_SUCCEEDED	10
#define VIRTIO_SCSI_S_FUNCTION_REJECTED		11
#define VIRTIO_SCSI_S_INCORRECT_LUN		12

/* What hvrun offers (configuration values; docs/ explains them). */
#define VSCSI_QUEUE_MAX			256
#define VSCSI_SEG_MAX			(VSCSI_QUEUE_MAX - 2)	/* request and response take two */
#define VSCSI_MAX_SECTORS		0xffff
#define VSCSI_CMD_PER_LUN		128
#define VSCSI_MAX_TARGET		0	/* the CD-ROM is target 0: Linux scans no other */
#define VSCSI_MAX_LUN			0

/* PCI class of virtio-scsi-pci, as QEMU: mass storage (01), SCSI (00). */
#define VSCSI_PCI_CLASS			0x010000

struct vscsi_options {
	/*
	 * The ISO, opened O_RDONLY and checked by iso9660_probe(); borrowed (the
	 * host keeps it open across guest reboots).  cd_size: its size in
	 * bytes; cd_name: its name, for logs.
	 */
	int cd_fd;
	uint64_t cd_size;
	const char *cd_name;
};

/*
 * Builds the controller and its CD-ROM (target 0, LUN 0) on the open ISO
 * o->cd_fd.  0, or -errno with a one-line reason in err.  Free with
 * (*out)->ops->destroy(*out) once loop no longer runs (after a reset); the
 * ISO stays open.
 */
int vscsi_create(const struct vscsi_options *o, const struct guest_mem *mem, struct ev_loop *loop,
		 struct virtio_dev **out, char *err, size_t errlen);

/* Counters since the device was created (hvrun --stats, hvctl stats). */
struct vscsi_stats {
	uint64_t cmds;			/* SCSI commands that reached target 0 */
	uint64_t reads;			/* of them READ(6/10/12/16) and READ CD */
	uint64_t bytes_read;		/* taken from the ISO by them */
	uint64_t check_conditions;	/* commands answered CHECK CONDITION */
	uint64_t tmf;			/* task management functions on the control queue */
	uint64_t bad_target;		/* commands for a target that does not exist (scans) */
	uint64_t refused;		/* malformed chains: answered FAILURE/OVERRUN, or unanswerable */
};

/* A copy of the device's counters; d->lock held (hv/stats.c takes it without waiting long). */
void vscsi_get_stats(struct virtio_dev *d, struct vscsi_stats *out);

/* The device table's line (config: struct vscsi_options): scsi0; counters "scsi". */
extern const struct virtio_device_desc vscsi_device;

#endif
