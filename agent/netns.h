/*
 * Network namespaces for `--netns`: which ones to audit (named ones under
 * /run/netns, the ones running processes are in, explicit paths), how each
 * is labelled, and how a thread enters one. The per-namespace collection
 * is agent/nscollect.h.
 */
#ifndef TWAUDIT_NETNS_H
#define TWAUDIT_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NETNS_LABEL_LEN 96
#define NETNS_PATH_LEN 256
#define NETNS_ERR_LEN 200
#define NETNS_MAX 4096		/* namespaces audited per collection */
#define NETNS_MAX_SPECS 16

enum netns_kind {
	NETNS_NAMED,		/* /run/netns/NAME (ip netns) */
	NETNS_PROCESS,		/* found through /proc/PID/ns/net */
	NETNS_PATH,		/* any other path given to --netns */
};
extern const char *const netns_kind_name[3];

struct netns_target {
	char label[NETNS_LABEL_LEN];	/* "web", "docker:0123456789ab", "pid:42 ino:4026532" */
	char path[NETNS_PATH_LEN];	/* what setns() opens */
	enum netns_kind kind;
	uint64_t dev, ino;		/* of the nsfs inode; ino 0 when unknown */
	long pid;			/* a process in it (0: none known) */
	char error[NETNS_ERR_LEN];	/* why it cannot be audited, "" if it can */
};

struct netns_list {
	size_t n, cap;
	struct netns_target *t;
	char error[NETNS_ERR_LEN];	/* discovery trouble, "" if none */
};

/* What --netns asked for: "all", "NAME", "/proc/PID/ns/net", "/run/netns/NAME". */
struct netns_spec {
	size_t n;
	const char *v[NETNS_MAX_SPECS];
};

/* Check one --netns value; 0, or -1 with ERR. */
int netns_spec_check(const char *spec, char *err, size_t errlen);

/*
 * Resolve SPEC into OUT (freed with netns_list_free): discovery for "all"
 * under PROCFS and RUNDIR ("/run/netns"), deduplicated by (st_dev, st_ino),
 * without the namespace of this process itself (that is the host audit).
 * Never fails as a whole: unreadable entries carry their own error.
 */
void netns_resolve(const struct netns_spec *spec, const char *procfs,
    const char *rundir, struct netns_list *out);
void netns_list_free(struct netns_list *l);

/*
 * A container label from the text of /proc/PID/cgroup: "docker:<12 hex>",
 * "containerd:...", "crio:...", "podman:...", "pod:<uid>"; false if none.
 */
bool netns_cgroup_label(const char *buf, size_t len, char *out, size_t outlen);

/*
 * Join the network namespace at PATH, for the calling thread: opened
 * without blocking and checked to be an nsfs handle before setns(). 0, or
 * -1 with ERR (CAP_SYS_ADMIN is needed).
 */
int netns_enter(const char *path, char *err, size_t errlen);

#endif
