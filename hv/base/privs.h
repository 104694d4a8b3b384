/* privs.h: dropping privileges (libcap-ng) once everything privileged is open, before guest code runs. */
#ifndef HV_PRIVS_H
#define HV_PRIVS_H

#include <stddef.h>
#include <stdio.h>

/*
 * Resolves --user / --group (names or numbers; NULL: keep) now, so that a
 * bad name is a usage error before anything is opened.  0 or -EINVAL with err.
 */
int privs_resolve(const char *user, const char *group, char *err, size_t errlen);

/*
 * The drop, in this order: switch to the resolved group and user (supplementary
 * groups: the user's, or none with only --group), clear every capability
 * (effective, permitted, inheritable, ambient, and the bounding set when
 * we may), set PR_SET_NO_NEW_PRIVS, then verify (CapEff and CapPrm are 0;
 * with --user, setuid(0) fails).  Call once, after /dev/kvm, the images,
 * firmware and backends are open and before any vCPU runs.  0, or -errno
 * with a reason in err (hvrun then refuses to run the guest).
 */
int privs_drop(char *err, size_t errlen);

/*
 * Credentials and capabilities are per thread in Linux, so privs_drop() only
 * changes the thread that calls it (and the threads started after it).  A
 * thread started before the drop (the user-mode networking thread) calls this
 * first thing: the same drop for itself, without the verification.
 * privs_drop() refuses to succeed while any thread still holds a capability.
 * 0 or -errno with a reason in err.
 */
int privs_drop_thread(char *err, size_t errlen);

/* Forgets what privs_resolve() stored (for tests; privs_resolve() starts with it). */
void privs_reset(void);

/* For hvrun --check: can this process create TAPs (CAP_NET_ADMIN) and open which existing ones. */
void privs_check_tap(FILE *out);

#endif
