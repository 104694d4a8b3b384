/* bytes.c: sizes as people write them ("512M", "2G"). */
#include "hv/base/bytes.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int hv_parse_size(const char *s, uint64_t unit, const char *suffixes, bool trailing_b,
		  uint64_t *bytes)
{
	static const char letters[] = "KMGT";
	unsigned long long v;
	const char *l;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;		/* also refuses "-5", "+5" and " 5" */
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		char c = (char)toupper((unsigned char)*end);

		l = strchr(letters, c);
		if (!c || !l || !strchr(suffixes, c))
			return -EINVAL;
		unit = HV_KIB << (10 * (l - letters));
		end++;
		if (trailing_b && (*end == 'B' || *end == 'b'))
			end++;
		if (*end)
			return -EINVAL;
	}
	if (__builtin_mul_overflow((uint64_t)v, unit, bytes))
		return -EINVAL;
	return 0;
}
