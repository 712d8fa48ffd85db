/*
 * The --netns collection: a short-lived thread per namespace that enters
 * it (netns.h) and reads /proc/thread-self/net/... (/proc/net is
 * /proc/self/net, the thread group leader's namespace) and
 * /proc/sys/net/... (which follows the namespace of the task that opens
 * it) into a snapshot of its own.
 */
#ifndef TWAUDIT_NSCOLLECT_H
#define TWAUDIT_NSCOLLECT_H

#include "agent/snapshot.h"

/*
 * snapshot_collect() of the host and, when P->netns is set, one snapshot
 * per namespace into the result's ns[] (nscollect_namespaces()), all
 * under one --collect.timeout budget. NULL only on allocation failure.
 */
struct snapshot *nscollect_snapshot(const struct collect_paths *p,
    const struct snapshot *reuse);

/*
 * Collect one snapshot per namespace of P->netns into PARENT->ns[]
 * (each with its label, without persisted settings, with the kernel's
 * scoping applied), reusing slow sources from REUSE's namespace of the
 * same inode. Needs CAP_SYS_ADMIN; without it each namespace's sources
 * are unavailable with the reason.
 */
void nscollect_namespaces(struct snapshot *parent,
    const struct collect_paths *p, const struct snapshot *reuse);

/*
 * Mark in S the sysctls that are global on S's kernel (sysctl_defs[]
 * netns_from): unavailable, "reported for the host". Per-namespace
 * snapshots only.
 */
void nscollect_apply_scope(struct snapshot *s);

/* Rates of each namespace of B from its twin (same inode) in A. */
void nscollect_sample_rates(const struct snapshot *a, double ta,
    struct snapshot *b, double tb);

#endif
