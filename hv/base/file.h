/* file.h: read a whole (bounded) file into memory: kernels, initrds, guest programs; /proc. */
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

/*
 * open() of /proc/REL ("self/smaps", "thread-self/status"): through the /proc
 * descriptor kept by hv_proc_keep() once hvrun runs in its empty root
 * (hv/base/sandbox.c), else by path.  A descriptor, or -1 with errno.
 */
int hv_proc_open(const char *rel, int flags);

/* Keeps a descriptor of /proc for hv_proc_open() (before the root goes).  0 or -errno. */
int hv_proc_keep(void);

#endif
