/* file.h: read a whole (bounded) file into memory: kernels, initrds, guest programs. */
#ifndef HV_FILE_H
#define HV_FILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads up to max bytes of path into a malloc'd buffer (*len: bytes read; a
 * file longer than max gives -EFBIG).  0, or -errno with "path: reason" in err.
 */
int hv_read_file(const char *path, size_t max, uint8_t **buf, size_t *len,
		 char *err, size_t errlen);

#endif
