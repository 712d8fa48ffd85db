/*
 * Persisted sysctl settings: what the sysctl.d files under ROOTFS will
 * apply at next boot, in systemd-sysctl order, and where `sysctl --system`
 * (procps) would end differently.
 */
#ifndef TWAUDIT_PERSIST_H
#define TWAUDIT_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include "collectors/sysctl.h"

#define PERSIST_MAX_ASSIGN 16
#define PERSIST_PATH_LEN 256
#define PERSIST_MAX_FILES 1024		/* *.conf files considered per collect */

struct persist_assign {
	char path[PERSIST_PATH_LEN];	/* as on the host: "/etc/sysctl.d/x.conf" */
	unsigned line;
	char value[64];			/* text after '=', trimmed */
	bool ignore_failure;		/* "-" prefix */
};

/*
 * a[] keeps the newest PERSIST_MAX_ASSIGN assignments (older ones are
 * counted in dropped), so a[effective] is always the last one.
 * procps_value/path/line describe where `sysctl --system` ends (path ""
 * when it sets nothing); procps_effective is the index of that same
 * assignment in a[], or -1 when it is not there (e.g. a line of
 * /etc/sysctl.conf that only procps reads).
 */
struct persist_key {
	unsigned n;			/* assignments in systemd application order */
	struct persist_assign a[PERSIST_MAX_ASSIGN];
	unsigned dropped;		/* assignments beyond PERSIST_MAX_ASSIGN */
	int effective;			/* index into a[] (systemd-sysctl), -1 unset */
	int procps_effective;		/* same for `sysctl --system`, -1 unset */
	char procps_value[64];		/* value sysctl --system would end with */
	char procps_path[PERSIST_PATH_LEN];
	unsigned procps_line;
};

struct persist_set {
	struct persist_key key[SYSCTL_COUNT];
	unsigned files_read;		/* sysctl.d files parsed */
};

/* Empty SET: no assignments, effective and procps_effective -1. */
void persist_init(struct persist_set *set);

/*
 * Parse one sysctl.d file's text (PATH is recorded in the assignments) and
 * append the assignments of watched keys to SET in systemd order. 0, or -1
 * with ERR for a file that is not text (lines without '=' are skipped as
 * systemd does; they are not errors).
 */
int persist_parse(const char *buf, size_t len, const char *path,
    struct persist_set *set, char *err, size_t errlen);

/* systemd-sysctl's effective assignment of a key, or NULL when unset. */
const struct persist_assign *persist_effective(const struct persist_key *pk);

/* The effective assignment's value parsed as the runtime would; false if unset or garbled. */
bool persist_effective_value(const struct persist_key *pk,
    struct sysctl_value *out);

/* Read all sysctl.d directories under ROOTFS. 0 ok, -1 with ERR if failed. */
int persist_collect(const char *rootfs, struct persist_set *out, char *err,
    size_t errlen);

#endif
