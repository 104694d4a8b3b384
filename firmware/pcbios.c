/* pcbios.c: the pure parts of a firmware boot: image size rules, etc/e820, the boot order. */
#include "firmware/pcbios.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hv/base/bytes.h"

int pcbios_check_size(uint64_t len, char *err, size_t errlen)
{
	if (len >= PCBIOS_MIN_SIZE && len <= PCBIOS_MAX_SIZE && len % PCBIOS_GRANULE == 0)
		return 0;
	snprintf(err, errlen, "%llu bytes: a PC firmware image is a whole number of 64 KiB "
		 "blocks, 64 KiB to 16 MiB (SeaBIOS's bios-256k.bin is 256 KiB)",
		 (unsigned long long)len);
	return -EINVAL;
}

uint32_t pcbios_rom_base(uint32_t len)
{
	return (uint32_t)(0x100000000ULL - len);
}

uint32_t pcbios_low_base(uint32_t len)
{
	return PCBIOS_LOW_END - (len < PCBIOS_LOW_MAX ? len : PCBIOS_LOW_MAX);
}

static void e820_put(uint8_t *p, uint64_t addr, uint64_t len, uint32_t type)
{
	put_le(p, addr, 8);
	put_le(p + 8, len, 8);
	put_le(p + 16, type, 4);
}

int pcbios_e820(const struct memmap *m, const struct pcbios_range *reserved, unsigned int nr_reserved,
		uint8_t *out, unsigned int max)
{
	unsigned int i, n = 0;

	if (m->nr_ram + nr_reserved > max)
		return -ENOSPC;
	/* RAM as the guest has it: SeaBIOS carves its own areas (EBDA, 0xA0000-0xFFFFF) out of it. */
	for (i = 0; i < m->nr_ram; i++)
		e820_put(out + PCBIOS_E820_ENTRY_SIZE * n++, m->ram[i].gpa, m->ram[i].size,
			 PCBIOS_E820_RAM);
	for (i = 0; i < nr_reserved; i++)
		e820_put(out + PCBIOS_E820_ENTRY_SIZE * n++, reserved[i].addr, reserved[i].len,
			 PCBIOS_E820_RESERVED);
	return (int)(n * PCBIOS_E820_ENTRY_SIZE);
}

int pcbios_parse_order(const char *letters, char *err, size_t errlen)
{
	size_t i, n = strlen(letters);

	if (n == 0 || n > 2) {
		snprintf(err, errlen, "boot order '%s': give 1 or 2 of the letters c (disk) and d (CD-ROM)",
			 letters);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (letters[i] == 'a' || letters[i] == 'b' || letters[i] == 'n') {
			snprintf(err, errlen, "boot order '%s': %c: %s boot is not supported "
				 "(c = disk, d = CD-ROM)", letters, letters[i],
				 letters[i] == 'n' ? "network" : "floppy");
			return -EINVAL;
		}
		if (letters[i] != 'c' && letters[i] != 'd') {
			snprintf(err, errlen, "boot order '%s': unknown device letter '%c' "
				 "(c = disk, d = CD-ROM)", letters, letters[i]);
			return -EINVAL;
		}
		if (memchr(letters, letters[i], i)) {
			snprintf(err, errlen, "boot order '%s': '%c' is given twice", letters, letters[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static const struct pcbios_bootdev *find_dev(const struct pcbios_bootdev *devs, unsigned int n,
					     enum pcbios_dev_kind kind)
{
	for (unsigned int i = 0; i < n; i++)
		if (devs[i].kind == kind)
			return &devs[i];	/* the first one: "c" is the first disk */
	return NULL;
}

int pcbios_bootorder(const char *letters, const struct pcbios_bootdev *devs, unsigned int nr_devs,
		     char *out, size_t outlen)
{
	size_t used = 0;
	char err[128];

	if (outlen == 0)
		return -ENOSPC;
	if (pcbios_parse_order(letters, err, sizeof(err)))
		return -EINVAL;
	out[0] = '\0';
	for (const char *l = letters; *l; l++) {
		const struct pcbios_bootdev *d =
			find_dev(devs, nr_devs, *l == 'c' ? PCBIOS_DEV_VIRTIO_BLK : PCBIOS_DEV_SCSI_CD);
		int w;

		if (!d)
			continue;
		if (d->kind == PCBIOS_DEV_VIRTIO_BLK)
			w = snprintf(out + used, outlen - used, "%s/pci@i0cf8/scsi@%x/disk@0,0",
				     used ? "\n" : "", d->slot);
		else
			w = snprintf(out + used, outlen - used,
				     "%s/pci@i0cf8/scsi@%x/channel@0/disk@%x,%x", used ? "\n" : "",
				     d->slot, d->target, d->lun);
		if (w < 0 || (size_t)w >= outlen - used)
			return -ENOSPC;
		used += (size_t)w;
	}
	return (int)used;
}
