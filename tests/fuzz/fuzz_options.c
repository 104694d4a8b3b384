/*
 * fuzz_options.c: hvrun's command line (hv/options*.c): the input, split at
 * NUL bytes, is argv after "hvrun"; options_parse() must accept or refuse it
 * with a reason, never crash, and free what it kept.  Options that name files
 * find regular ones in FILES (the seeds use them: -k FILES/k, -d FILES/d...).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hv/options.h"
#include "tests/fuzz/fuzz_virtio.h"

#define MAX_ARGS	64
#define FILES		"/tmp/hvrun-fuzz-options"

/* FILES/k, i, d, e, c, r: small regular files (created once, shared by concurrent runs). */
static void make_files(void)
{
	static const char names[] = "kidecr";
	char path[64];
	unsigned int i;

	if (mkdir(FILES, 0755) != 0 && access(FILES, W_OK) != 0)
		return;
	for (i = 0; names[i]; i++) {
		int fd;

		snprintf(path, sizeof(path), FILES "/%c", names[i]);
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0) {
			if (ftruncate(fd, 1 << 20) != 0)
				abort();
			close(fd);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 2], err[512];
	struct hv_options o;
	int argc = 1;
	size_t i, start = 0;

	static bool files;

	if (!files) {
		make_files();
		files = true;
	}
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
