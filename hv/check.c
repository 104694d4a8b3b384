/* check.c: explain in plain words whether this host can run guests, and how to fix it if not. */
#include "hv/check.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <liburing.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hv/base/kvm.h"
#include "hv/base/privs.h"

enum check_status { CHK_OK, CHK_INFO, CHK_WARN, CHK_FAIL };

struct check_ctx {
	FILE *out;
	unsigned int failed;
	unsigned int warned;
};

static void item(struct check_ctx *c, enum check_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void item(struct check_ctx *c, enum check_status st, const char *fmt, ...)
{
	static const char *const tag[] = { " ok ", "info", "warn", "FAIL" };
	va_list ap;

	fprintf(c->out, "[%s] ", tag[st]);
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
	if (st == CHK_FAIL)
		c->failed++;
	else if (st == CHK_WARN)
		c->warned++;
}

/* Reads the first line of a small file into buf (newline stripped).  0 or -1. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	char *nl;

	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

static bool path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* The "flags" line of /proc/cpuinfo: vmx (Intel VT-x), svm (AMD-V), hypervisor. */
static void cpuinfo_flags(bool *vmx, bool *svm, bool *hypervisor)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[8192];

	*vmx = *svm = *hypervisor = false;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *tok, *save = NULL;

		if (strncmp(line, "flags", 5) != 0)
			continue;
		for (tok = strtok_r(strchr(line, ':'), " :\n", &save); tok;
		     tok = strtok_r(NULL, " \n", &save)) {
			*vmx |= strcmp(tok, "vmx") == 0;
			*svm |= strcmp(tok, "svm") == 0;
			*hypervisor |= strcmp(tok, "hypervisor") == 0;
		}
		break;		/* every CPU lists the same flags */
	}
	fclose(f);
}

static void check_cpu_and_modules(struct check_ctx *c, bool *kvm_module)
{
	static const struct { const char *mod, *desc, *nested_param, *paging_param, *paging; } mods[] = {
		{ "kvm_intel", "Intel VT-x", "nested", "ept", "EPT" },
		{ "kvm_amd", "AMD-V", "nested", "npt", "nested paging (NPT)" },
		{ "kvm_pvm", "PVM, KVM without hardware virtualization", NULL, NULL, NULL },
	};
	bool vmx, svm, hypervisor, any = false;
	char path[128], val[64];
	size_t i;

	cpuinfo_flags(&vmx, &svm, &hypervisor);
	if (vmx || svm)
		item(c, CHK_OK, "CPU: the %s flag is present (%s): hardware virtualization",
		     vmx ? "vmx" : "svm", vmx ? "Intel VT-x" : "AMD-V");
	else
		item(c, CHK_INFO, "CPU: no vmx or svm flag in /proc/cpuinfo (egrep '(vmx|svm)' "
		     "/proc/cpuinfo prints nothing)%s", hypervisor
		     ? "; this host is itself a virtual machine: its hypervisor must offer "
		       "nested virtualization (or a kvm flavour like PVM)"
		     : "; enable VT-x/AMD-V in the firmware setup, or only emulation is possible");

	for (i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		char extra[128] = "";

		snprintf(path, sizeof(path), "/sys/module/%s", mods[i].mod);
		if (!path_exists(path))
			continue;
		any = true;
		if (mods[i].nested_param) {
			bool nested = false, paging = false;

			snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mods[i].mod,
				 mods[i].nested_param);
			if (read_line(path, val, sizeof(val)) == 0)
				nested = val[0] == 'Y' || val[0] == '1';
			snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mods[i].mod,
				 mods[i].paging_param);
			if (read_line(path, val, sizeof(val)) == 0)
				paging = val[0] == 'Y' || val[0] == '1';
			snprintf(extra, sizeof(extra), "; %s %s; nested virtualization %s",
				 mods[i].paging, paging ? "on" : "off", nested ? "on" : "off");
		}
		item(c, CHK_OK, "kernel module %s is loaded (%s)%s", mods[i].mod, mods[i].desc, extra);
		if (!mods[i].nested_param)
			item(c, CHK_WARN, "%s is not hardware virtualization: guests run, but some "
			     "behave unlike on VT-x/AMD-V (a triple fault hangs the vCPU instead of "
			     "stopping the VM); hvrun's tests use the nested-KVM lab on such a host",
			     mods[i].mod);
	}
	*kvm_module = any || path_exists("/sys/module/kvm");
	if (!any)
		item(c, path_exists(KVM_DEVICE_PATH) ? CHK_INFO : CHK_FAIL,
		     "no kvm_intel, kvm_amd or kvm_pvm module is loaded; fix: 'modprobe kvm_intel' "
		     "(Intel) or 'modprobe kvm_amd' (AMD)");
}

/* Why can't this user open /dev/kvm?  Says whether joining the device's group would help. */
static void explain_kvm_access(struct check_ctx *c)
{
	struct stat st;
	struct group *gr;
	gid_t groups[256];
	int n, i;
	bool member = false;

	if (stat(KVM_DEVICE_PATH, &st) != 0) {
		item(c, CHK_FAIL, "%s: %s", KVM_DEVICE_PATH, strerror(errno));
		return;
	}
	gr = getgrgid(st.st_gid);
	n = getgroups(256, groups);
	for (i = 0; i < n; i++)
		member |= groups[i] == st.st_gid;
	if (st.st_gid == 0 || !(st.st_mode & S_IRGRP) || !(st.st_mode & S_IWGRP))
		item(c, CHK_FAIL, "%s: permission denied (mode %04o, group %s); fix, as root: "
		     "'chgrp kvm %s && chmod 660 %s' (Debian's udev rules do this), then 'adduser "
		     "$USER kvm' and log in again", KVM_DEVICE_PATH, (unsigned int)(st.st_mode & 07777),
		     gr ? gr->gr_name : "?", KVM_DEVICE_PATH, KVM_DEVICE_PATH);
	else if (member)
		item(c, CHK_FAIL, "%s: permission denied although this user is in group %s; "
		     "check the device's mode and ACLs (ls -l %s)", KVM_DEVICE_PATH,
		     gr ? gr->gr_name : "?", KVM_DEVICE_PATH);
	else
		item(c, CHK_FAIL, "%s: permission denied: this user is not in group %s; fix: "
		     "'sudo adduser $USER %s', then log out and in again (or run 'newgrp %s')",
		     KVM_DEVICE_PATH, gr ? gr->gr_name : "?", gr ? gr->gr_name : "kvm",
		     gr ? gr->gr_name : "kvm");
}

/* /dev/kvm, its API version and each capability hvrun needs.  Returns the fd or -1. */
static int check_kvm(struct check_ctx *c)
{
	char err[256];
	unsigned int i;
	int fd, nr, max;

	fd = kvm_open(err, sizeof(err));
	if (fd == -EACCES || fd == -EPERM) {
		explain_kvm_access(c);
		return -1;
	}
	if (fd == -ENOENT) {
		item(c, CHK_FAIL, "%s does not exist; fix: load KVM ('modprobe kvm_intel' or "
		     "'modprobe kvm_amd'); if that fails, enable VT-x/AMD-V in the firmware setup, "
		     "or nested virtualization in the hypervisor this host runs in", KVM_DEVICE_PATH);
		return -1;
	}
	if (fd < 0) {
		item(c, CHK_FAIL, "%s", err);
		return -1;
	}
	item(c, CHK_OK, "%s opens read-write for this user; KVM API version %d",
	     KVM_DEVICE_PATH, KVM_API_EXPECTED);
	for (i = 0; i < kvm_nr_caps_needed; i++) {
		const struct kvm_cap_need *n = &kvm_caps_needed[i];

		if (kvm_cap(fd, n->cap))
			item(c, CHK_OK, "%s: %s", n->name, n->what_for);
		else
			item(c, CHK_FAIL, "%s is missing (needed for %s); fix: a newer host kernel "
			     "(hvrun needs Linux 4.19 or later with KVM)", n->name, n->what_for);
	}
	nr = kvm_cap(fd, KVM_CAP_NR_VCPUS);
	max = kvm_cap(fd, KVM_CAP_MAX_VCPUS);
	item(c, CHK_INFO, "vCPUs per VM: up to %d (KVM recommends at most %d)", max ? max : nr, nr);
	return fd;
}

/*
 * Networking: /dev/net/tun, CAP_NET_ADMIN and each existing TAP (hv/base/privs.c
 * prints the lines).  Problems there are [warn], never FAIL: a guest runs
 * without a NIC, and --net user needs neither.  The lines are captured to
 * count the warnings for the result line.
 */
static void check_networking(struct check_ctx *c)
{
	char *buf = NULL, *p;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	fprintf(c->out, "Networking:\n");
	if (!mem) {
		privs_check_tap(c->out);
		return;
	}
	privs_check_tap(mem);
	fclose(mem);
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
		c->warned += strncmp(p, "[warn]", 6) == 0;
	fputs(buf ? buf : "", c->out);
	free(buf);
}

static void check_io_uring(struct check_ctx *c)
{
	static const struct { int op; const char *name; } ops[] = {
		{ IORING_OP_READV, "READV" }, { IORING_OP_WRITEV, "WRITEV" },
		{ IORING_OP_FSYNC, "FSYNC" }, { IORING_OP_FALLOCATE, "FALLOCATE" },
	};
	struct io_uring ring;
	struct io_uring_probe *probe;
	char missing[128] = "";
	size_t i;
	int ret;

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret == -ENOSYS) {
		item(c, CHK_FAIL, "io_uring: not in this kernel; fix: Linux 5.6 or later with "
		     "CONFIG_IO_URING (virtio-blk does its I/O through io_uring)");
		return;
	}
	if (ret == -EPERM) {
		item(c, CHK_FAIL, "io_uring: disabled (sysctl kernel.io_uring_disabled); fix: "
		     "'sysctl kernel.io_uring_disabled=0' as root");
		return;
	}
	if (ret < 0) {
		item(c, CHK_FAIL, "io_uring: cannot set up a ring: %s", strerror(-ret));
		return;
	}
	probe = io_uring_get_probe_ring(&ring);
	for (i = 0; probe && i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (!io_uring_opcode_supported(probe, ops[i].op)) {
			strcat(missing, " ");
			strcat(missing, ops[i].name);
		}
	}
	if (!probe)
		item(c, CHK_FAIL, "io_uring: cannot probe the supported operations (Linux 5.6+ needed)");
	else if (missing[0])
		item(c, CHK_FAIL, "io_uring: operations missing:%s; fix: a newer kernel (5.6+)", missing);
	else
		item(c, CHK_OK, "io_uring works (READV, WRITEV, FSYNC, FALLOCATE): block I/O is possible");
	if (probe)
		io_uring_free_probe(probe);
	io_uring_queue_exit(&ring);
}

int hv_check(FILE *out)
{
	struct check_ctx c = { .out = out };
	bool kvm_module;
	int fd;

	fprintf(out, "hvrun %s host check\n", HVRUN_VERSION);
	check_cpu_and_modules(&c, &kvm_module);
	fd = check_kvm(&c);
	if (fd >= 0)
		close(fd);
	check_io_uring(&c);
	check_networking(&c);

	if (c.failed)
		fprintf(out, "Result: this host cannot run hvrun guests yet: %u item(s) marked FAIL "
			"above, each with its fix.\n", c.failed);
	else
		fprintf(out, "Result: this host can run hvrun guests%s.\n",
			c.warned ? " (items marked warn limit some features)" : "");
	return c.failed ? 1 : 0;
}
