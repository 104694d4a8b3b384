/* iso9660.h: is this file an ISO 9660 image, and what is its label?  (--cdrom checks it before the CD-ROM is made.) */
#ifndef BOOT_ISO9660_H
#define BOOT_ISO9660_H

#include <stddef.h>
#include <stdint.h>

/*
 * Checks that fd (opened O_RDONLY) holds an ISO 9660 image: the primary
 * volume descriptor at byte 32768 ("\1CD001\1"; or later in the descriptor
 * set that starts there, as ECMA-119 allows), size a multiple of 2048 and
 * >= 34816 bytes.  Fills label (the volume identifier, trailing spaces
 * trimmed, NUL-terminated, bytes outside printable ASCII shown as '_').
 * 0, or -EINVAL/-errno with a one-line reason in err ("not an ISO 9660
 * image: no CD001 volume descriptor at 32 KiB").
 */
int iso9660_probe(int fd, uint64_t size, char label[33], char *err, size_t errlen);

#endif
