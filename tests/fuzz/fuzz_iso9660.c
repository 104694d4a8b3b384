/*
 * fuzz_iso9660.c: the --cdrom probe (iso9660_probe, boot/iso9660.c) on
 * a fuzzed file: the input's first byte picks the size hvrun is told (the
 * file's, rounded to 2048, or a wrong one), the rest lands at byte 32768
 * where the volume descriptors start; the system area before it is zeros.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot/iso9660.h"
#include "tests/fuzz/fuzz_virtio.h"

#define SYSTEM_AREA	32768

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct fz_in in = { data, size };
	char label[33], err[256];
	uint8_t how = fz_u8(&in);
	uint64_t len = SYSTEM_AREA + in.n;

	if (fd < 0 && (fd = memfd_create("fuzz-iso", MFD_CLOEXEC)) < 0)
		abort();
	if (ftruncate(fd, 0) != 0 || pwrite(fd, in.p, in.n, SYSTEM_AREA) != (ssize_t)in.n)
		abort();
	switch (how & 3) {
	case 0:
		len = (len + 2047) & ~2047ull;
		if (ftruncate(fd, (off_t)len) != 0)
			abort();
		break;
	case 1:
		break;				/* the file's size, maybe not a multiple of 2048 */
	case 2:
		len += 2048u * (how >> 2);	/* larger than the file: a truncated image */
		break;
	default:
		len = (uint64_t)(how >> 2) << 11;	/* smaller */
		break;
	}
	iso9660_probe(fd, len, label, err, sizeof(err));
	return 0;
}
