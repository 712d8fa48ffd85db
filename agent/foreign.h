/*
 * Whether the audited tree (--path.procfs) is this host's. Netlink
 * collectors, the sampler and gethostname() describe the running kernel:
 * in another tree (a fixture, a copy from another machine) they would mix
 * this machine into the audit. Told by what the tree is, never by its
 * path: a container that bind-mounts the host's /proc at /host/proc sees
 * a real procfs of the running kernel, and that is this host's.
 */
#ifndef TWAUDIT_FOREIGN_H
#define TWAUDIT_FOREIGN_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True (WHY says how it was told) when PROCFS is not a procfs mount
 * (statfs f_type), when it cannot be examined, or when its
 * sys/kernel/random/boot_id differs from SELF_PROC's (the process's own
 * /proc, the running kernel's). Reads without blocking (read_file_at).
 */
bool tree_foreign(const char *procfs, const char *self_proc, char *why,
    size_t whylen);

#endif
