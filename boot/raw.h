/* raw.h: load a flat real-mode program (no headers) into guest memory. */
#ifndef BOOT_RAW_H
#define BOOT_RAW_H

#include <stddef.h>

#include "hv/base/guest_mem.h"

#define RAW_LOAD_ADDR	0x1000u		/* above the real-mode IVT and BIOS data area */
#define RAW_LOAD_END	0xA0000u	/* conventional memory ends at the VGA window */

/* Copies img to RAW_LOAD_ADDR.  0, or -EINVAL/-EFBIG with the reason in err. */
int raw_load_image(const struct guest_mem *gm, const void *img, size_t len,
		   char *err, size_t errlen);

/* Reads path and loads it like raw_load_image.  0 or -errno with the reason in err. */
int raw_load_file(const struct guest_mem *gm, const char *path, char *err, size_t errlen);

#endif
