/* hvctl.c: talks to a running hvrun through its control socket (docs/control.md): list, status, pause, console... */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "hv/control_proto.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

#define REPLY_TIMEOUT_MS	30000	/* the slowest command waits half a second (pause) */
#define LIST_TIMEOUT_MS		2000	/* list: a VM that does not answer is "unresponsive" */
#define MAX_REPLY		(16 * 1024 * 1024)
#define CTRL_RIGHT_BRACKET	0x1d	/* Ctrl-]: leaves hvctl console, as telnet */
#define MAX_DIRS		3

static bool opt_json;

static void usage(FILE *out)
{
	fprintf(out,
"Usage: hvctl [--control PATH | -n NAME] [--json] COMMAND [ARGS]\n"
"\n"
"Talks to a running hvrun through its control socket (docs/control.md).\n"
"\n"
"Commands:\n"
"  list               the VMs running: name, pid, state\n"
"  status             state, uptime, vCPUs, memory, devices\n"
"  pause | resume     stop the vCPUs (and the guest's clock) / run them again\n"
"  powerdown          press the ACPI power button: the guest shuts down cleanly\n"
"  stop               stop the VM now (hvrun exits 0)\n"
"  reset              reset the VM (it boots again, unless --no-reboot)\n"
"  balloon SIZE       make the balloon hold SIZE (bytes, or 256M, 1G) of guest RAM\n"
"  balloon-stats      the balloon and the guest's memory statistics\n"
"  stats [--json]     VM exits, per-device and per-queue counters\n"
"  disk-resize DRIVE  tell the guest that DRIVE (vda, vdb...) changed size\n"
"  console            the guest's console (hvrun --daemonize); Ctrl-] detaches\n"
"\n"
"Options:\n"
"  --control PATH     the socket (hvrun --control PATH)\n"
"  -n, --name NAME    the VM named NAME (hvrun --name); may be left out when\n"
"                     only one VM runs\n"
"  --json             print hvrun's reply as it is (one JSON object)\n"
"  -h, --help         this help;  --version  the version\n"
"\n"
"Exit status: 0 done, 1 hvrun refused or could not be reached (the reason on\n"
"stderr), 2 bad usage or no VM chosen.\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hvctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see hvctl --help)\n");
	return EXIT_USAGE;
}

/* ---- where sockets are: as hvrun's control_default_dir(), but every place a VM may be ---- */

static unsigned int socket_dirs(char dirs[MAX_DIRS][PATH_MAX])
{
	unsigned int n = 0;

	/* A directory cut short at PATH_MAX is still looked in, as it always was. */
	if (control_dir(CONTROL_DIR_ENV, dirs[n], PATH_MAX) != -ENOENT)
		return 1;
	if (control_dir(CONTROL_DIR_XDG, dirs[n], PATH_MAX) != -ENOENT)
		n++;
	control_dir(CONTROL_DIR_RUN, dirs[n++], PATH_MAX);
	control_dir(CONTROL_DIR_TMP, dirs[n++], PATH_MAX);
	return n;
}

/* A live socket, found by scanning the directories. */
struct vm_entry {
	char name[80];
	char path[PATH_MAX];
};

/* Every NAME.sock that accepts a connection (a stale one, left by a killed hvrun, does not). */
static unsigned int scan_live(struct vm_entry **out)
{
	char dirs[MAX_DIRS][PATH_MAX];
	unsigned int nd = socket_dirs(dirs), i, n = 0, cap = 0;
	struct vm_entry *v = NULL;

	for (i = 0; i < nd; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;

		if (!d)
			continue;	/* missing, or another user's (/run/hvrun for root) */
		while ((de = readdir(d))) {
			size_t len = strlen(de->d_name);
			struct vm_entry e;
			int fd;

			if (len <= 5 || len - 5 >= sizeof(e.name) || strcmp(de->d_name + len - 5, ".sock"))
				continue;
			snprintf(e.name, sizeof(e.name), "%.*s", (int)(len - 5), de->d_name);
			if (snprintf(e.path, sizeof(e.path), "%s/%s", dirs[i], de->d_name) >=
			    (int)sizeof(e.path))
				continue;
			fd = control_connect(e.path);
			if (fd < 0)
				continue;
			close(fd);
			if (n == cap) {
				struct vm_entry *nv = realloc(v, (cap = cap ? 2 * cap : 8) * sizeof(*v));

				if (!nv)
					break;
				v = nv;
			}
			v[n++] = e;
		}
		closedir(d);
	}
	*out = v;
	return n;
}

/*
 * The socket to talk to: --control, else -n NAME in the socket directories,
 * else the only VM running.  Prints why not and returns an exit status.
 */
static int resolve(const char *control, const char *name, char *path, size_t len)
{
	char dirs[MAX_DIRS][PATH_MAX];
	struct vm_entry *v = NULL;
	unsigned int nd, i, n;
	struct stat st;

	if (control) {
		snprintf(path, len, "%s", control);
		return EXIT_OK;
	}
	if (name) {
		nd = socket_dirs(dirs);
		for (i = 0; i < nd; i++) {
			snprintf(path, len, "%s/%s.sock", dirs[i], name);
			if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
				return EXIT_OK;
		}
		fprintf(stderr, "hvctl: no VM named '%s' (looked in", name);
		for (i = 0; i < nd; i++)
			fprintf(stderr, " %s", dirs[i]);
		fprintf(stderr, "; hvctl list shows the VMs running)\n");
		return EXIT_ERROR;
	}
	n = scan_live(&v);
	if (n == 1)
		snprintf(path, len, "%s", v[0].path);
	else if (n == 0)
		fprintf(stderr, "hvctl: no hvrun is running (as this user); give --control PATH "
			"if its socket is elsewhere\n");
	else {
		fprintf(stderr, "hvctl: %u VMs are running:", n);
		for (i = 0; i < n; i++)
			fprintf(stderr, " %s", v[i].name);
		fprintf(stderr, "; choose one with -n NAME\n");
	}
	free(v);
	return n == 1 ? EXIT_OK : n == 0 ? EXIT_ERROR : EXIT_USAGE;
}

/* ---- one request, one reply ---- */

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Sends req (consumed) and reads the reply line.  Bytes after the newline
 * (the console stream) are left in *extra / *extra_len (malloc'd) if asked
 * for.  NULL with a message on stderr when hvrun cannot be reached.
 */
static json_t *request(int fd, json_t *req, int timeout_ms, char **extra, size_t *extra_len)
{
	char *line = control_json_line(req), *buf = NULL, *nl;
	size_t len = 0, cap = 0;
	json_error_t jerr;
	json_t *reply;

	json_decref(req);
	if (!line || send_all(fd, line, strlen(line))) {
		fprintf(stderr, "hvctl: cannot send the request: %s\n", strerror(errno));
		free(line);
		return NULL;
	}
	free(line);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (len == cap) {
			char *nb = cap >= MAX_REPLY ? NULL : realloc(buf, cap = cap ? 2 * cap : 4096);

			if (!nb) {
				fprintf(stderr, "hvctl: the reply is too long\n");
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		if (poll(&p, 1, timeout_ms) == 0) {
			fprintf(stderr, "hvctl: hvrun did not answer within %d s\n", timeout_ms / 1000);
			free(buf);
			return NULL;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "hvctl: hvrun closed the connection%s%s\n",
				n < 0 ? ": " : " without a reply", n < 0 ? strerror(errno) : "");
			free(buf);
			return NULL;
		}
		len += (size_t)n;
		nl = memchr(buf, '\n', len);
		if (nl)
			break;
	}
	reply = json_loadb(buf, (size_t)(nl - buf), 0, &jerr);
	if (!reply)
		fprintf(stderr, "hvctl: hvrun's reply is not JSON: %s\n", jerr.text);
	if (extra && reply) {
		*extra_len = len - (size_t)(nl + 1 - buf);
		*extra = malloc(*extra_len + 1);
		if (*extra)
			memcpy(*extra, nl + 1, *extra_len);
		else
			*extra_len = 0;
	}
	free(buf);
	return reply;
}

/* An error reply: its message on stderr.  true if the reply was ok. */
static bool reply_ok(json_t *reply)
{
	json_t *e;

	if (json_is_true(json_object_get(reply, "ok")))
		return true;
	e = json_object_get(reply, "error");
	fprintf(stderr, "hvctl: %s\n", json_string_value(json_object_get(e, "message"))
		? json_string_value(json_object_get(e, "message")) : "hvrun refused the request");
	return false;
}

static void print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	if (s)
		printf("%s\n", s);
	free(s);
}

/* ---- readable output ---- */

static const char *get_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "?";
}

static json_int_t get_int(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* 536870912 -> "512 MiB" */
static const char *human_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;
	double v = (double)b;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v == (double)(uint64_t)v)
		snprintf(buf, len, "%.0f %s", v, units[u]);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

static void print_status(json_t *r)
{
	json_t *devs = json_object_get(r, "devices"), *d;
	char b[32];
	size_t i;

	printf("name:    %s\n", get_str(r, "name"));
	printf("state:   %s\n", get_str(r, "state"));
	printf("pid:     %" JSON_INTEGER_FORMAT "\n", get_int(r, "pid"));
	if (!json_object_get(r, "vcpus"))
		return;		/* between two boots: no VM to describe */
	printf("uptime:  %.0f s (boot %" JSON_INTEGER_FORMAT ")\n",
	       json_number_value(json_object_get(r, "uptime_s")), get_int(r, "boot"));
	printf("vcpus:   %" JSON_INTEGER_FORMAT "\n", get_int(r, "vcpus"));
	printf("memory:  %s\n", human_bytes((uint64_t)get_int(r, "memory_bytes"), b, sizeof(b)));
	printf("console: %s\n", get_str(r, "console"));
	if (json_array_size(devs))
		printf("devices:\n");
	json_array_foreach(devs, i, d)
		printf("  %-9s %-16s PCI 00:%02" JSON_INTEGER_FORMAT ".0\n", get_str(d, "name"),
		       get_str(d, "kind"), get_int(d, "slot"));
}

/* Any JSON value as indented "key: value" lines (hvctl stats: its keys belong to hv/stats.c). */
static void print_tree(json_t *v, int indent, const char *key)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_object(v) || json_is_array(v)) {
		if (key)
			printf("%*s%s:\n", indent, "", key);
		if (json_is_object(v)) {
			json_object_foreach(v, k, x)
				print_tree(x, indent + (key ? 2 : 0), k);
		} else {
			char idx[24];

			json_array_foreach(v, i, x) {
				snprintf(idx, sizeof(idx), "[%zu]", i);
				print_tree(x, indent + (key ? 2 : 0), idx);
			}
		}
		return;
	}
	printf("%*s%s: ", indent, "", key ? key : "");
	if (json_is_string(v))
		printf("%s\n", json_string_value(v));
	else if (json_is_integer(v))
		printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	else if (json_is_real(v))
		printf("%g\n", json_real_value(v));
	else
		printf("%s\n", json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null");
}

static void print_balloon_stats(json_t *r)
{
	json_t *b = json_object_get(r, "balloon"), *stats = json_object_get(b, "stats"), *v;
	const char *k;
	char x[32];

	printf("guest RAM:       %s\n", human_bytes((uint64_t)get_int(b, "ram_bytes"), x, sizeof(x)));
	printf("balloon target:  %s\n", human_bytes((uint64_t)get_int(b, "target_bytes"), x, sizeof(x)));
	printf("balloon holds:   %s\n", human_bytes((uint64_t)get_int(b, "actual_bytes"), x, sizeof(x)));
	printf("inflated:        %s in total\n", human_bytes((uint64_t)get_int(b, "inflated_bytes"), x, sizeof(x)));
	printf("deflated:        %s in total\n", human_bytes((uint64_t)get_int(b, "deflated_bytes"), x, sizeof(x)));
	printf("reported free:   %s in total\n", human_bytes((uint64_t)get_int(b, "reported_bytes"), x, sizeof(x)));
	if (!stats) {
		printf("guest statistics: none yet (the driver sends them every few seconds)\n");
		return;
	}
	printf("guest statistics (%" JSON_INTEGER_FORMAT " ms old):\n", get_int(b, "stats_age_ms"));
	json_object_foreach(stats, k, v) {
		/* virtio 1.2 §5.5.6.3: the memory figures are bytes, the others counts. */
		if (strstr(k, "memory") || !strcmp(k, "disk_caches"))
			printf("  %-20s %s\n", k, human_bytes((uint64_t)json_integer_value(v), x, sizeof(x)));
		else
			printf("  %-20s %" JSON_INTEGER_FORMAT "\n", k, json_integer_value(v));
	}
}

/* ---- hvctl list ---- */

static int cmd_list(void)
{
	struct vm_entry *v = NULL;
	unsigned int n = scan_live(&v), i;
	json_t *all = json_array();

	if (!opt_json && n)
		printf("%-24s %8s  %s\n", "NAME", "PID", "STATE");
	for (i = 0; i < n; i++) {
		int fd = control_connect(v[i].path);
		json_t *r = fd >= 0 ? request(fd, json_pack("{s:s}", "cmd", "status"),
					      LIST_TIMEOUT_MS, NULL, NULL) : NULL;

		if (fd >= 0)
			close(fd);
		if (opt_json) {
			if (!r)
				r = json_pack("{s:s, s:s}", "name", v[i].name, "state", "unresponsive");
			json_object_set_new(r, "socket", json_string(v[i].path));
			json_array_append_new(all, r);
			continue;
		}
		if (r && json_is_true(json_object_get(r, "ok")))
			printf("%-24s %8" JSON_INTEGER_FORMAT "  %s\n", get_str(r, "name"),
			       get_int(r, "pid"), get_str(r, "state"));
		else
			printf("%-24s %8s  %s\n", v[i].name, "-", "unresponsive");
		json_decref(r);
	}
	if (opt_json)
		print_json(all);
	json_decref(all);
	free(v);
	return EXIT_OK;
}

/* ---- hvctl console ---- */

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	tio_saved = false;
}

static bool write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/*
 * Bytes both ways until Ctrl-] (on a terminal, in raw mode: every other key
 * goes to the guest, Ctrl-C included) or hvrun closes.  Without a terminal,
 * stdin is sent as it is; at its end hvctl stops sending, prints what hvrun
 * still sends, and ends when hvrun closes (so "hvctl console </dev/null"
 * prints the last 64 KiB of output and returns).
 */
static int console_loop(int fd, const char *name, const char *extra, size_t extra_len)
{
	bool tty = isatty(STDIN_FILENO), in_open = true;
	char buf[4096];

	if (tty) {
		struct termios raw;

		if (tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
			tio_saved = true;
			atexit(restore_tty);
			raw = saved_tio;
			cfmakeraw(&raw);
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
		}
		fprintf(stderr, "hvctl: %s's console; Ctrl-] detaches\r\n", name);
	}
	if (extra_len && !write_all(STDOUT_FILENO, extra, extra_len))
		return EXIT_ERROR;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		ssize_t n;

		if (poll(p, in_open ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			n = recv(fd, buf, sizeof(buf), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				restore_tty();
				if (tty)
					fprintf(stderr, "\nhvctl: hvrun closed the console\n");
				return EXIT_OK;
			}
			if (!write_all(STDOUT_FILENO, buf, (size_t)n))
				return EXIT_ERROR;
		}
		if (in_open && p[1].revents) {
			char *esc;

			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				in_open = false;
				shutdown(fd, SHUT_WR);
				continue;
			}
			esc = tty ? memchr(buf, CTRL_RIGHT_BRACKET, (size_t)n) : NULL;
			if (esc)
				n = esc - buf;
			if (n > 0 && send_all(fd, buf, (size_t)n))
				return EXIT_ERROR;
			if (esc) {
				restore_tty();
				fprintf(stderr, "\nhvctl: detached from %s's console\n", name);
				return EXIT_OK;
			}
		}
	}
	return EXIT_ERROR;
}

/* ---- main ---- */

/* Digits with an optional K, M, G or T: what hvrun's control_parse_size() takes. */
static bool size_ok(const char *s)
{
	size_t digits = strspn(s, "0123456789");

	return digits > 0 && (s[digits] == '\0' ||
			      (strchr("kKmMgGtT", s[digits]) && s[digits + 1] == '\0'));
}

int main(int argc, char *argv[])
{
	const char *control = NULL, *name = NULL, *cmd;
	char path[PATH_MAX], *extra = NULL, b[32];
	json_t *req, *reply;
	size_t extra_len = 0;
	int i, fd, status;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--version")) {
			printf("hvctl %s\n", HVRUN_VERSION);
			return EXIT_OK;
		} else if (!strcmp(a, "--json")) {
			opt_json = true;
		} else if (!strcmp(a, "--control") || !strcmp(a, "-n") || !strcmp(a, "--name")) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", a);
			if (!strcmp(a, "--control"))
				control = argv[++i];
			else
				name = argv[++i];
		} else if (!strncmp(a, "--control=", 10)) {
			control = a + 10;
		} else if (!strncmp(a, "--name=", 7)) {
			name = a + 7;
		} else {
			return usage_error("unknown option %s", a);
		}
	}
	if (i >= argc)
		return usage_error("give a COMMAND");
	if (control && name)
		return usage_error("--control and -n each choose the VM: give one");
	cmd = argv[i++];
	/* A command's own --json (hvctl stats --json), anywhere after it. */
	for (int j = i; j < argc; j++)
		if (!strcmp(argv[j], "--json")) {
			opt_json = true;
			memmove(&argv[j], &argv[j + 1], (size_t)(argc - j) * sizeof(*argv));
			argc--;
			j--;
		}

	/* Build the request first: a bad argument is a usage error, whether a VM runs or not. */
	if (!strcmp(cmd, "list")) {
		if (i != argc)
			return usage_error("unexpected argument '%s'", argv[i]);
		return cmd_list();
	} else if (!strcmp(cmd, "balloon")) {
		if (argc - i != 1)
			return usage_error("balloon needs SIZE (bytes, or 256M, 1G)");
		if (!size_ok(argv[i]))
			return usage_error("balloon %s: give bytes, or a size like 256M or 1G", argv[i]);
		req = json_pack("{s:s, s:s}", "cmd", cmd, "size", argv[i]);
	} else if (!strcmp(cmd, "disk-resize")) {
		if (argc - i != 1)
			return usage_error("disk-resize needs DRIVE (vda, vdb, ...)");
		req = json_pack("{s:s, s:s}", "cmd", cmd, "drive", argv[i]);
	} else if (!strcmp(cmd, "status") || !strcmp(cmd, "pause") || !strcmp(cmd, "resume") ||
		   !strcmp(cmd, "powerdown") || !strcmp(cmd, "stop") || !strcmp(cmd, "reset") ||
		   !strcmp(cmd, "balloon-stats") || !strcmp(cmd, "stats") ||
		   !strcmp(cmd, "console")) {
		if (i != argc)
			return usage_error("unexpected argument '%s'", argv[i]);
		req = json_pack("{s:s}", "cmd", cmd);
	} else {
		return usage_error("unknown command '%s'", cmd);
	}

	status = resolve(control, name, path, sizeof(path));
	if (status != EXIT_OK) {
		json_decref(req);
		return status;
	}
	fd = control_connect(path);
	if (fd < 0) {
		fprintf(stderr, "hvctl: %s: %s%s\n", path, strerror(-fd),
			fd == -ECONNREFUSED ? " (a stale socket: that hvrun is gone)" : "");
		json_decref(req);
		return EXIT_ERROR;
	}
	reply = request(fd, req, REPLY_TIMEOUT_MS, !strcmp(cmd, "console") ? &extra : NULL,
			&extra_len);
	if (!reply) {
		close(fd);
		return EXIT_ERROR;
	}
	if (opt_json && strcmp(cmd, "console"))
		print_json(reply);
	if (!reply_ok(reply)) {
		status = EXIT_ERROR;
	} else if (!strcmp(cmd, "console")) {
		status = console_loop(fd, name ? name : path, extra, extra_len);
	} else if (opt_json) {
		/* printed above */
	} else if (!strcmp(cmd, "status")) {
		print_status(reply);
	} else if (!strcmp(cmd, "stats")) {
		print_tree(json_object_get(reply, "stats"), 0, NULL);
	} else if (!strcmp(cmd, "balloon-stats")) {
		print_balloon_stats(reply);
	} else if (!strcmp(cmd, "balloon")) {
		printf("balloon target %s", human_bytes((uint64_t)get_int(reply, "target_bytes"), b,
							 sizeof(b)));
		printf(" (the guest keeps %s)\n",
		       human_bytes((uint64_t)(get_int(reply, "ram_bytes") - get_int(reply, "target_bytes")),
				   b, sizeof(b)));
	} else if (!strcmp(cmd, "disk-resize")) {
		printf("%s: %" JSON_INTEGER_FORMAT " bytes (%s)\n", get_str(reply, "drive"),
		       get_int(reply, "capacity_bytes"),
		       human_bytes((uint64_t)get_int(reply, "capacity_bytes"), b, sizeof(b)));
	} else if (!strcmp(cmd, "powerdown")) {
		printf("power button pressed: the guest is shutting down\n");
	} else {
		printf("%s\n", get_str(reply, "state"));	/* pause, resume, stop, reset */
	}
	free(extra);
	json_decref(reply);
	close(fd);
	return status;
}
