/*
 * fuzz_bzimage.c: the bzImage probe and loader (boot/bzimage.c) on a fuzzed
 * kernel file: bzimage_parse() on the whole input, and when it accepts the
 * image, bzimage_load() into 64 MiB of guest RAM with an initrd and a
 * command line cut from the input's tail.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "boot/bzimage.h"
#include "tests/fuzz/fuzz_virtio.h"

#define RAM_BYTES	(64ull << 20)

static struct memmap map;
static struct guest_mem gm;

static void setup(void)
{
	unsigned int i;

	if (memmap_build(&map, RAM_BYTES) != 0)
		abort();
	for (i = 0; i < map.nr_ram; i++) {
		void *host = mmap(NULL, map.ram[i].size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (host == MAP_FAILED || gm_add_region(&gm, map.ram[i].gpa, map.ram[i].size, host))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct bzimage_reserved res[] = {
		{ 0xB0000000u, 0x10000000u, BZIMAGE_E820_RESERVED },	/* as hvrun's ECAM */
		{ 0xFEC00000u, 0x1000, BZIMAGE_E820_RESERVED },		/* IOAPIC */
	};
	struct bzimage_info info;
	struct bzimage_entry entry;
	char err[256], cmdline[512];
	size_t tail, ilen;

	if (!gm.nr_regions)
		setup();
	if (bzimage_parse(data, size, &info, err, sizeof(err)) != 0)
		return 0;
	/* The bytes after the kernel: the command line's length, its text, then the initrd. */
	tail = info.pm_offset + info.pm_size;
	if (tail > size)
		abort();	/* bzimage_parse() accepted a kernel longer than its file */
	{
		struct fz_in in = { data + tail, size - tail };
		size_t clen = fz_u8(&in) * 2;

		fz_bytes(&in, cmdline, clen < sizeof(cmdline) ? clen : sizeof(cmdline) - 1);
		cmdline[clen < sizeof(cmdline) ? clen : sizeof(cmdline) - 1] = '\0';
		ilen = in.n;
		bzimage_load(&gm, &map, data, size, ilen ? in.p : NULL, ilen, cmdline, res, 2,
			     &entry, err, sizeof(err));
	}
	return 0;
}
