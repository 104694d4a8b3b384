/* privs.c: dropping privileges once everything privileged is open (libcap-ng), and the TAP part of --check. */
#include "hv/base/privs.h"

#include <cap-ng.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hv/base/file.h"
#include "hv/base/log.h"

/*
 * Why raw system calls for the ids: the kernel keeps credentials and
 * capabilities per thread.  glibc's setresuid()/setgroups() (and so
 * capng_change_id(), which uses them) repeat the call in every thread and
 * abort the process if one thread fails - which happens as soon as one
 * thread has already dropped CAP_SETGID, like the user-mode networking thread
 * does when it starts.  So each thread switches its own ids with the system
 * calls (privs_drop_thread), and privs_drop() checks that no thread was missed.
 */

/* What --user / --group resolved to (privs_resolve). */
static struct {
	bool switch_ids;	/* --user or --group given */
	bool set_uid;		/* --user given */
	uid_t uid;
	gid_t gid;
	gid_t *groups;		/* supplementary groups: the user's, or none with only --group */
	int nr_groups;
	char what[80];		/* "--user nobody", for messages */
} want;

void privs_reset(void)
{
	free(want.groups);
	memset(&want, 0, sizeof(want));
}

/* "65534" -> 65534; a name -> -1 (not a number); refuses (uid_t)-1, which means "keep". */
static long long id_number(const char *s)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v >= UINT32_MAX)
		return -2;
	return (long long)v;
}

static int resolve_user(const char *user, struct passwd **pw, char *err, size_t errlen)
{
	long long nr = id_number(user);

	if (nr == -2)
		return hv_fail(err, errlen, -EINVAL, "--user %s: not a user name or id", user);
	*pw = nr >= 0 ? getpwuid((uid_t)nr) : getpwnam(user);
	if (nr < 0 && !*pw)
		return hv_fail(err, errlen, -EINVAL, "--user %s: no such user", user);
	want.uid = nr >= 0 ? (uid_t)nr : (*pw)->pw_uid;
	want.set_uid = true;
	return 0;
}

static int resolve_group(const char *group, char *err, size_t errlen)
{
	long long nr = id_number(group);
	struct group *gr;

	if (nr == -2)
		return hv_fail(err, errlen, -EINVAL, "--group %s: not a group name or id", group);
	if (nr >= 0) {
		want.gid = (gid_t)nr;
		return 0;
	}
	gr = getgrnam(group);
	if (!gr)
		return hv_fail(err, errlen, -EINVAL, "--group %s: no such group", group);
	want.gid = gr->gr_gid;
	return 0;
}

/* The user's groups, as initgroups(3) would set them (plus gid). */
static int resolve_supplementary(const struct passwd *pw, char *err, size_t errlen)
{
	int n = 32;

	for (;;) {
		gid_t *g = realloc(want.groups, (size_t)n * sizeof(gid_t));
		int want_n = n;

		if (!g)
			return hv_fail(err, errlen, -ENOMEM, "--user %s: out of memory", pw->pw_name);
		want.groups = g;
		if (getgrouplist(pw->pw_name, want.gid, want.groups, &want_n) >= 0) {
			want.nr_groups = want_n;
			return 0;
		}
		if (want_n <= n || want_n > 65536)
			return hv_fail(err, errlen, -EINVAL, "--user %s: cannot list its groups",
				       pw->pw_name);
		n = want_n;
	}
}

int privs_resolve(const char *user, const char *group, char *err, size_t errlen)
{
	struct passwd *pw = NULL;
	int ret;

	privs_reset();
	if (!user && !group)
		return 0;
	snprintf(want.what, sizeof(want.what), "%s%s", user ? "--user " : "--group ",
		 user ? user : group);
	if (user && (ret = resolve_user(user, &pw, err, errlen)) != 0)
		goto fail;
	if (group) {
		ret = resolve_group(group, err, errlen);
	} else if (!pw) {
		ret = hv_fail(err, errlen, -EINVAL, "--user %s: no user with this id in the "
			      "password database: give --group too", user);
	} else {
		want.gid = pw->pw_gid;
		ret = 0;
	}
	if (ret)
		goto fail;
	/* Copy what we need from pw before another getpw* call reuses its buffer. */
	if (pw && (ret = resolve_supplementary(pw, err, errlen)) != 0)
		goto fail;
	want.switch_ids = true;
	return 0;
fail:
	privs_reset();
	return ret;
}

/* ---- the drop ---- */

/* Do this thread's ids already equal the wanted ones (nothing to switch)? */
static bool ids_already(void)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (getresuid(&r, &e, &s) || getresgid(&rg, &eg, &sg))
		return false;
	return (!want.set_uid || (r == want.uid && e == want.uid && s == want.uid)) &&
	       rg == want.gid && eg == want.gid && sg == want.gid;
}

/* Groups, then gid, then uid: each later step needs what the earlier ones still allow. */
static int switch_ids(char *err, size_t errlen)
{
	bool can = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) &&
		   capng_have_capability(CAPNG_EFFECTIVE, CAP_SETGID);

	if (!want.switch_ids)
		return 0;
	if (!can) {
		if (ids_already())
			return 0;
		return hv_fail(err, errlen, -EPERM, "%s needs hvrun started as root",
			       want.set_uid ? "--user" : "--group");
	}
	if (syscall(SYS_setgroups, (size_t)want.nr_groups, want.groups) != 0)
		return hv_fail(err, errlen, -errno, "%s: setgroups: %s", want.what, strerror(errno));
	if (syscall(SYS_setresgid, want.gid, want.gid, want.gid) != 0)
		return hv_fail(err, errlen, -errno, "%s: setresgid(%u): %s", want.what,
			       (unsigned int)want.gid, strerror(errno));
	if (want.set_uid && syscall(SYS_setresuid, want.uid, want.uid, want.uid) != 0)
		return hv_fail(err, errlen, -errno, "%s: setresuid(%u): %s", want.what,
			       (unsigned int)want.uid, strerror(errno));
	return 0;
}

/*
 * The order matters: the bounding set first (dropping from it needs
 * CAP_SETPCAP, which the uid switch takes away), then the ids (they need
 * CAP_SETUID/CAP_SETGID), then every remaining capability, and no_new_privs
 * last, so that no later execve() can gain anything back.
 */
int privs_drop_thread(char *err, size_t errlen)
{
	bool setpcap;
	int ret;

	capng_clear(CAPNG_SELECT_ALL);
	if (capng_get_caps_process() != 0)
		return hv_fail(err, errlen, -EIO, "cannot read this thread's capabilities");
	setpcap = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	if (setpcap) {
		/* Clear the bounding set now (apply with BOUNDS only) while CAP_SETPCAP lasts. */
		capng_clear(CAPNG_SELECT_BOUNDS);
		if (capng_apply(CAPNG_SELECT_BOUNDS) != 0)
			return hv_fail(err, errlen, -EPERM, "cannot clear the bounding set");
	}
	ret = switch_ids(err, errlen);
	if (ret)
		return ret;
	/* Effective, permitted, inheritable and ambient: all empty. */
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_apply(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT) != 0)
		return hv_fail(err, errlen, -EPERM, "cannot clear the capabilities: %s",
			       strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return hv_fail(err, errlen, -errno, "prctl(PR_SET_NO_NEW_PRIVS): %s",
			       strerror(errno));
	return 0;
}

/*
 * The value of "Key:" in a /proc status file (path relative to /proc, read
 * through hv_proc_open(): it works in the empty root too), trimmed.  0 or -1.
 */
static int status_field(const char *path, const char *key, char *val, size_t len)
{
	size_t klen = strlen(key);
	int fd = hv_proc_open(path, O_RDONLY);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	char line[256];
	int ret = -1;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		snprintf(val, len, "%s", line + klen + 1 + strspn(line + klen + 1, " \t"));
		val[strcspn(val, "\n")] = '\0';
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/* A capability mask from a status file; UINT64_MAX when it cannot be read. */
static uint64_t status_caps(const char *path, const char *key)
{
	char val[64];

	if (status_field(path, key, val, sizeof(val)))
		return UINT64_MAX;
	return strtoull(val, NULL, 16);
}

/* One thread (its /proc/.../status) after the drop: no capability, the wanted uid. */
static int verify_status(const char *path, const char *who, char *err, size_t errlen)
{
	uint64_t eff = status_caps(path, "CapEff"), prm = status_caps(path, "CapPrm");
	char uid[64], nnp[16];

	if (eff || prm)
		return hv_fail(err, errlen, -EPERM, "%s still holds capabilities (CapEff %016" PRIx64
			       ", CapPrm %016" PRIx64 "): a thread started before the drop must "
			       "call privs_drop_thread()", who, eff, prm);
	if (status_field(path, "NoNewPrivs", nnp, sizeof(nnp)) == 0 && strcmp(nnp, "1") != 0)
		return hv_fail(err, errlen, -EPERM, "%s: no_new_privs is not set", who);
	if (want.set_uid && (status_field(path, "Uid", uid, sizeof(uid)) ||
			     strtoul(uid, NULL, 10) != want.uid))
		return hv_fail(err, errlen, -EPERM, "%s still runs as another user (Uid: %s)",
			       who, uid);
	return 0;
}

/* Every thread of hvrun: one left with a capability would undo the whole drop. */
static int verify_all_threads(char *err, size_t errlen)
{
	int fd = hv_proc_open("self/task", O_RDONLY | O_DIRECTORY);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int ret = 0;

	if (!d) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return hv_fail(err, errlen, ret, "/proc/self/task: %s", strerror(-ret));
	}
	while (!ret && (de = readdir(d)) != NULL) {
		char path[300], comm[32] = "?", who[96];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "self/task/%s/status", de->d_name);
		status_field(path, "Name", comm, sizeof(comm));
		snprintf(who, sizeof(who), "thread %s (tid %.20s)", comm, de->d_name);
		ret = verify_status(path, who, err, errlen);
	}
	closedir(d);
	return ret;
}

static int verify(char *err, size_t errlen)
{
	int ret = verify_status("thread-self/status", "this thread", err, errlen);

	if (ret)
		return ret;
	if (want.set_uid && (getuid() != want.uid || geteuid() != want.uid))
		return hv_fail(err, errlen, -EPERM, "%s: still uid %u/%u", want.what,
			       (unsigned int)getuid(), (unsigned int)geteuid());
	/* The raw call: glibc's setuid() would try it in every thread. */
	if (want.set_uid && want.uid != 0 && syscall(SYS_setuid, 0) == 0)
		return hv_fail(err, errlen, -EPERM, "%s: setuid(0) still works", want.what);
	return verify_all_threads(err, errlen);
}

int privs_drop(char *err, size_t errlen)
{
	uint64_t before = status_caps("thread-self/status", "CapEff");
	uint64_t bounds = status_caps("thread-self/status", "CapBnd");
	int ret = privs_drop_thread(err, errlen);

	if (ret)
		return ret;
	ret = verify(err, errlen);
	if (ret)
		return ret;
	if (want.switch_ids)
		hv_info("privileges: now uid %u, gid %u, %d supplementary group(s) (%s)",
			(unsigned int)getuid(), (unsigned int)getgid(), want.nr_groups, want.what);
	hv_info("privileges: dropped the capabilities %016" PRIx64 " (effective)%s; bounding "
		"set now %016" PRIx64 " (was %016" PRIx64 "); no_new_privs set", before,
		before ? "" : " (there were none)",
		status_caps("thread-self/status", "CapBnd"), bounds);
	return 0;
}

/* ---- hvrun --check: TAP devices ---- */

static void line(FILE *out, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void line(FILE *out, const char *tag, const char *fmt, ...)
{
	va_list ap;

	fprintf(out, "[%s] ", tag);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

/* A number from a one-line sysfs file (base 0: "0x1002" and "-1" both work). */
static long sysfs_long(const char *ifname, const char *file, long dflt)
{
	char path[PATH_MAX], buf[32];
	FILE *f;
	long v = dflt;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, file);
	f = fopen(path, "re");
	if (!f)
		return dflt;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 0);
	fclose(f);
	return v;
}

static bool in_my_groups(gid_t g)
{
	gid_t groups[256];
	int n = getgroups(256, groups), i;

	if (getegid() == g)
		return true;
	for (i = 0; i < n; i++)
		if (groups[i] == g)
			return true;
	return false;
}

/* The kernel's rule (tun_not_capable): CAP_NET_ADMIN, or the TAP's owner, or its group. */
static void check_one_tap(FILE *out, const char *name, bool net_admin, unsigned int *usable)
{
	long flags = sysfs_long(name, "tun_flags", 0), owner = sysfs_long(name, "owner", -1);
	long group = sysfs_long(name, "group", -1), ifflags = sysfs_long(name, "flags", 0);
	struct passwd *pw = owner >= 0 ? getpwuid((uid_t)owner) : NULL;
	struct group *gr = group >= 0 ? getgrgid((gid_t)group) : NULL;
	char own[64] = "none", grp[64] = "none", why[96] = "";
	bool up = ifflags & IFF_UP, may;

	if (owner >= 0)
		snprintf(own, sizeof(own), "%s", pw ? pw->pw_name : "?");
	if (group >= 0)
		snprintf(grp, sizeof(grp), "%s", gr ? gr->gr_name : "?");
	if (net_admin)
		snprintf(why, sizeof(why), "CAP_NET_ADMIN");
	else if (owner >= 0 && (uid_t)owner == geteuid())
		snprintf(why, sizeof(why), "its owner");
	else if (group >= 0 && in_my_groups((gid_t)group))
		snprintf(why, sizeof(why), "a member of group %s", grp);
	may = why[0] != '\0';
	*usable += may && up;
	if (may && up)
		line(out, " ok ", "TAP %s: owner %s, group %s, up%s; this user may attach it (%s)",
		     name, own, grp, flags & IFF_MULTI_QUEUE ? ", multi-queue" : "", why);
	else if (may)
		line(out, "warn", "TAP %s: owner %s, group %s, down; this user may attach it (%s), "
		     "but the guest sees no link; fix: 'ip link set %s up'", name, own, grp, why, name);
	else
		line(out, "warn", "TAP %s: owner %s, group %s, %s; this user may not attach it; fix: "
		     "join its group, or as root 'ip tuntap del mode tap dev %s' and make it again "
		     "with 'group kvm'", name, own, grp, up ? "up" : "down", name);
}

static void check_tun_device(FILE *out)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		line(out, " ok ", "/dev/net/tun opens: TAP networking (-t tapN) is possible");
	} else if (errno == ENOENT) {
		line(out, "warn", "/dev/net/tun does not exist: no TAP networking; fix: 'modprobe tun'");
	} else {
		line(out, "warn", "/dev/net/tun: %s: no TAP networking for this user; fix: as root, "
		     "'chmod 666 /dev/net/tun' (Debian's default mode)", strerror(errno));
	}
}

void privs_check_tap(FILE *out)
{
	static const char make_tap[] = "ip tuntap add mode tap dev tap2 group kvm && "
				       "ip link set tap2 up";
	unsigned int taps = 0, usable = 0;
	bool net_admin;
	DIR *d;
	struct dirent *de;

	check_tun_device(out);
	capng_clear(CAPNG_SELECT_BOTH);
	net_admin = capng_get_caps_process() == 0 &&
		    capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN);
	d = opendir("/sys/class/net");
	while (d && (de = readdir(d)) != NULL) {
		/* A TUN/TAP device has tun_flags; IFF_TAP tells a TAP from a TUN. */
		if (de->d_name[0] == '.' || !(sysfs_long(de->d_name, "tun_flags", 0) & IFF_TAP))
			continue;
		taps++;
		check_one_tap(out, de->d_name, net_admin, &usable);
	}
	if (d)
		closedir(d);
	if (net_admin)
		line(out, " ok ", "CAP_NET_ADMIN held: hvrun can create TAP devices");
	else
		line(out, usable ? "info" : "warn", "hvrun cannot create TAPs (no CAP_NET_ADMIN): "
		     "use a persistent TAP: %s", make_tap);
	if (!taps)
		line(out, "info", "no TAP device exists yet (%s); --net user needs none",
		     net_admin ? "-t makes one" : make_tap);
}
