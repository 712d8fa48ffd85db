/*
 * Finishing a collected snapshot: its rates from the history, then the
 * findings of the advice rules and the policy, then its status (and each
 * --netns namespace's). Apart from snapshot.c so that collecting knows no
 * rules, and the rules, which read snapshots, are not included back.
 */
#ifndef TWAUDIT_AUDIT_H
#define TWAUDIT_AUDIT_H

struct history;
struct snapshot;

/* Fill rates from H (may be NULL: none evaluated), then findings and status. */
void snapshot_finish(struct snapshot *s, const struct history *h);

#endif
