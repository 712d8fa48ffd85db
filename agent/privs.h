/*
 * Privilege drop for `serve`: after start-up keep only the capabilities
 * that the enabled features need on the running kernel (docs/security.md
 * has the table), empty the bounding, inheritable and ambient sets, set
 * PR_SET_NO_NEW_PRIVS, and optionally switch to an unprivileged user.
 *
 * Capabilities are per thread and a new thread inherits its creator's, so
 * privs_drop() must run in the main thread before any thread is created:
 * every thread then holds exactly the kept set.
 */
#ifndef TWAUDIT_PRIVS_H
#define TWAUDIT_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/kversion.h"

struct privs_config {
	bool sampler;		/* live capture on: CAP_NET_RAW (reopen) */
	bool tcp_metrics;	/* tcp_metrics collector on */
	bool netns;		/* --netns given: CAP_SYS_ADMIN for setns(2) */
	bool netns_all;		/* --netns=all: also CAP_SYS_PTRACE to open
				   other users' /proc/PID/ns/net */
	const char *user;	/* switch to this user; NULL or "" keeps uid */
};
/*
 * No CAP_NET_BIND_SERVICE: serve binds its listening sockets before the
 * drop (http_listen), so a port below 1024 needs nothing afterwards.
 */

/* Bit (1 << CAP_X) of each capability C needs on the running kernel KV. */
uint64_t privs_needed(const struct privs_config *c, const struct kversion *kv);

/* "cap_net_raw,cap_net_admin", or "none" for 0. OUT is always terminated. */
const char *privs_describe(uint64_t caps, char *out, size_t outlen);

/*
 * Drop to privs_needed(C, running kernel) and, with C->user, to that
 * user's uid, gid and no supplementary groups (capabilities kept across
 * the switch). Sets PR_SET_NO_NEW_PRIVS in any case. A process that is not
 * root and holds no capabilities has nothing to drop: 0. A capability
 * needed but not held is not an error (the feature reports EPERM itself);
 * *KEPT (may be NULL) receives the effective set actually left.
 * 0, or -1 with ERR (unknown user, capset refused...).
 */
int privs_drop(const struct privs_config *c, uint64_t *kept, char *err,
    size_t errlen);

/*
 * Whether privs_drop() could switch to USER (NULL or "": nothing to
 * switch): it exists and is not root. 0, or -1 with ERR as privs_drop()
 * would say it. serve checks once before it forks.
 */
int privs_user_check(const char *user, char *err, size_t errlen);

/* The user serve switches to when --security.user is not given. */
#define PRIVS_DEFAULT_USER "nobody"

/*
 * The user to switch to when --security.user is not given: for a root
 * process (euid 0) PRIVS_DEFAULT_USER when the user database has it; NULL
 * (keep the uid) for any other process, and for root when there is no such
 * user, with *MISSING (may be NULL) set so that the caller can warn.
 */
const char *privs_default_user(bool *missing);

/*
 * Raise the soft RLIMIT_NOFILE towards WANT (never above the hard limit,
 * which needs CAP_SYS_RESOURCE). Returns the soft limit now in force.
 */
uint64_t privs_raise_nofile(uint64_t want);

#endif
