/*
 * fuzz_options.c: hvrun's command line (hv/options.c): the input, split at
 * NUL bytes, is argv after "hvrun"; options_parse() must accept or refuse it
 * with a reason, never crash, and free what it kept.
 */
#include <stdlib.h>
#include <string.h>

#include "hv/options.h"
#include "tests/fuzz/fuzz_virtio.h"

#define MAX_ARGS	64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 2], err[512];
	struct hv_options o;
	int argc = 1;
	size_t i, start = 0;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = "hvrun";
	for (i = 0; i <= size && argc <= MAX_ARGS; i++) {
		if (copy[i] == '\0') {
			argv[argc++] = copy + start;
			start = i + 1;
		}
	}
	argv[argc] = NULL;
	memset(&o, 0, sizeof(o));
	err[0] = '\0';
	if (options_parse(&o, argc, argv, err, sizeof(err)) == 0) {
		options_boot_order(&o, 0);
		options_boot_order(&o, 1);
		options_console(&o);
		options_free(&o);
	} else if (!err[0]) {
		abort();	/* a refusal must say why */
	}
	free(copy);
	return 0;
}
