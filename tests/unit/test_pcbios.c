/* test_pcbios.c: the firmware boot's pure parts: image sizes, etc/e820, the boot order SeaBIOS matches. */
#include "tests/unit/cmocka_inc.h"

#include <errno.h>
#include <string.h>

#include "firmware/pcbios.h"

static void test_sizes(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(pcbios_check_size(256 * 1024, err, sizeof(err)), 0);
	assert_int_equal(pcbios_check_size(128 * 1024, err, sizeof(err)), 0);
	assert_int_equal(pcbios_check_size(64 * 1024, err, sizeof(err)), 0);
	assert_int_equal(pcbios_check_size(16 << 20, err, sizeof(err)), 0);
	assert_int_equal(pcbios_check_size(0, err, sizeof(err)), -EINVAL);
	assert_int_equal(pcbios_check_size(1000, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "1000 bytes"));
	assert_non_null(strstr(err, "64 KiB"));
	assert_int_equal(pcbios_check_size(256 * 1024 + 512, err, sizeof(err)), -EINVAL);
	assert_int_equal(pcbios_check_size((16 << 20) + 65536, err, sizeof(err)), -EINVAL);
	assert_int_equal(pcbios_check_size(700ULL << 20, err, sizeof(err)), -EINVAL);
	/* Where the image goes: its end at 4 GiB, its last 128 KiB (at most) below 1 MiB. */
	assert_int_equal(pcbios_rom_base(256 * 1024), 0xfffc0000u);
	assert_int_equal(pcbios_low_base(256 * 1024), 0xe0000u);
	assert_int_equal(pcbios_rom_base(128 * 1024), 0xfffe0000u);
	assert_int_equal(pcbios_low_base(128 * 1024), 0xe0000u);
	assert_int_equal(pcbios_low_base(64 * 1024), 0xf0000u);
}

static uint64_t le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void test_e820(void **state)
{
	struct memmap m;
	const struct pcbios_range res[] = { { 0xe0000000, 0x100000 }, { 0xfffc0000, 0x40000 } };
	uint8_t out[PCBIOS_E820_MAX * PCBIOS_E820_ENTRY_SIZE];
	int n;

	(void)state;
	assert_int_equal(memmap_build(&m, 512ULL << 20), 0);
	n = pcbios_e820(&m, res, 2, out, PCBIOS_E820_MAX);
	assert_int_equal(n, 3 * 20);
	assert_true(le(out, 8) == 0 && le(out + 8, 8) == 512ULL << 20 && le(out + 16, 4) == 1);
	assert_true(le(out + 20, 8) == 0xe0000000 && le(out + 28, 8) == 0x100000 &&
		    le(out + 36, 4) == 2);
	assert_true(le(out + 40, 8) == 0xfffc0000 && le(out + 56, 4) == 2);
	/* RAM above 4 GiB is a second RAM entry. */
	assert_int_equal(memmap_build(&m, 5ULL << 30), 0);
	n = pcbios_e820(&m, res, 2, out, PCBIOS_E820_MAX);
	assert_int_equal(n, 4 * 20);
	assert_true(le(out + 20, 8) == 1ULL << 32 && le(out + 28, 8) == 2ULL << 30);
	assert_int_equal(pcbios_e820(&m, res, 2, out, 3), -ENOSPC);
}

static void test_order_letters(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(pcbios_parse_order("c", err, sizeof(err)), 0);
	assert_int_equal(pcbios_parse_order("dc", err, sizeof(err)), 0);
	assert_int_equal(pcbios_parse_order("", err, sizeof(err)), -EINVAL);
	assert_int_equal(pcbios_parse_order("cdc", err, sizeof(err)), -EINVAL);
	assert_int_equal(pcbios_parse_order("dd", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(pcbios_parse_order("n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "network"));
	assert_int_equal(pcbios_parse_order("a", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "floppy"));
	assert_int_equal(pcbios_parse_order("z", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown device letter 'z'"));
}

static void test_bootorder(void **state)
{
	const struct pcbios_bootdev devs[] = {
		{ PCBIOS_DEV_VIRTIO_BLK, 2, 0, 0 },
		{ PCBIOS_DEV_VIRTIO_BLK, 3, 0, 0 },
		{ PCBIOS_DEV_SCSI_CD, 0x0a, 0, 0 },
	};
	char out[256];
	int n;

	(void)state;
	n = pcbios_bootorder("dc", devs, 3, out, sizeof(out));
	assert_string_equal(out, "/pci@i0cf8/scsi@a/channel@0/disk@0,0\n/pci@i0cf8/scsi@2/disk@0,0");
	assert_int_equal(n, (int)strlen(out));
	/* c is the first disk only; the others stay bootable after the listed ones. */
	pcbios_bootorder("c", devs, 3, out, sizeof(out));
	assert_string_equal(out, "/pci@i0cf8/scsi@2/disk@0,0");
	/* A letter without its device is skipped. */
	pcbios_bootorder("dc", devs, 2, out, sizeof(out));
	assert_string_equal(out, "/pci@i0cf8/scsi@2/disk@0,0");
	assert_int_equal(pcbios_bootorder("d", devs, 2, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(pcbios_bootorder("dc", devs, 3, out, 20), -ENOSPC);
	assert_int_equal(pcbios_bootorder("x", devs, 3, out, sizeof(out)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_e820),
		cmocka_unit_test(test_order_letters),
		cmocka_unit_test(test_bootorder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
