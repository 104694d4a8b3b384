/*
 * fuzz_scsi.c: virtio-scsi (virtio 1.2 §5.6) and its CD-ROM under a fuzzed
 * driver: request headers, LUN addressing, CDBs of every opcode, task
 * management and asynchronous-notification requests on the control queue,
 * cdb_size/sense_size config writes.  The medium is a 64 KiB memfd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/virtio_scsi.h"
#include "tests/fuzz/fuzz_virtio.h"

#define ISO_SIZE	(64 * 1024)

static struct fz_dev fz;

static void setup(void)
{
	static uint8_t iso[ISO_SIZE];
	struct vscsi_options o = { .cd_size = ISO_SIZE, .cd_name = "fuzz.iso" };
	char err[256];
	size_t i;

	fz_init(&fz, "fuzz-scsi");
	for (i = 0; i < sizeof(iso); i++)
		iso[i] = (uint8_t)(i / 2048);		/* each block says which it is */
	o.cd_fd = memfd_create("fuzz-scsi", MFD_CLOEXEC);
	if (o.cd_fd < 0 || write(o.cd_fd, iso, sizeof(iso)) != (ssize_t)sizeof(iso))
		abort();
	if (vscsi_create(&o, &fz.m.gm, &fz.loop, &fz.d, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_scsi: %s\n", err);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };

	if (!fz.d)
		setup();
	fz_one(&fz, &in);
	return 0;
}
