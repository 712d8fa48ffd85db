/*
 * Replay's diagnosis: what really happened to each SYN to a server
 * (answered by a SYN-ACK, or not within the 1 s grace), computed once per
 * replay, matched SYN by SYN against the refusals of every model
 * instance (runner_set_verdicts()).
 *
 * Each SYN packet to a server (a retransmission is a packet of its own)
 * waits in a bounded table, keyed by its 4-tuple, with the set of
 * instances that refused it. It is settled
 *   answered    when a SYN-ACK for the 4-tuple arrives;
 *   unanswered  when the next SYN of the 4-tuple arrives, or when it
 *               leaves the table (full: the oldest goes first, counted in
 *               evictions) or the capture ends at least 1 s after it;
 *   neither     when it leaves the table or the capture ends less than
 *               1 s after it (a SYN-ACK could still have come).
 * These are the rules of the models' observed_unanswered_syns, so on a
 * capture that fits both tables the counts agree.
 */
#ifndef TWAUDIT_REPLAY_DIAG_H
#define TWAUDIT_REPLAY_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "lib/tcp_event.h"

#define REPLAY_DIAG_PENDING	32768	/* SYNs waiting for their fate */
#define REPLAY_DIAG_MAX_INST	64	/* instances a refusal set holds */

struct replay_diag;

/* A truth table for up to NINST (1..64) instances; NULL with ERR. */
struct replay_diag *replay_diag_new(unsigned ninst, char *err, size_t errlen);

/* A runner_verdict_fn: the batch EV[0..N), V[i][j] instance i on EV[j]. */
void replay_diag_feed(void *arg, const struct tcp_event *ev, size_t n,
    const struct model_verdict *const *v, unsigned ninst);

/* End of capture: settle what is still pending (the 1 s grace). */
void replay_diag_finish(struct replay_diag *d);

/* What one instance explains. */
struct replay_diag_match {
	uint64_t explained;		/* refused and unanswered */
	uint64_t unexplained;		/* unanswered, not refused */
	uint64_t predicted_but_answered;/* refused, yet answered */
};

void replay_diag_match(const struct replay_diag *d, unsigned inst,
    struct replay_diag_match *out);

/* True when instances A and B refused exactly the same SYNs. */
bool replay_diag_same(const struct replay_diag *d, unsigned a, unsigned b);

/* SYNs settled unanswered; pending SYNs pushed out of the full table. */
uint64_t replay_diag_unanswered(const struct replay_diag *d);
uint64_t replay_diag_evictions(const struct replay_diag *d);

size_t replay_diag_memory_bound(void);

void replay_diag_free(struct replay_diag *d);

#endif
