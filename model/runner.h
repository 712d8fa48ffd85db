/*
 * The model runner: the selected peer-table model plus what-if instances
 * (other profiles, other settings) over one stream of events, as live
 * mode and replay both run them.
 *
 *   events (direction set by the caller) --> runner_push() --> batch
 *   --> every instance gets the whole batch, in order (model_feed_many)
 *
 * Instances share nothing, so with worker threads each instance is fed
 * a whole batch by one thread at a time and the results do not depend
 * on the thread count. Instances whose configurations the model cannot
 * tell apart in what they predict (runner_add() with share) are run
 * once. Settings change in place (model_set_setting()): the selected
 * model always, the other instances when they follow that setting.
 *
 * Which end of a segment is the server is not decided here: the caller
 * knows (replay learns servers from SYN-ACKs, live mode has the host's
 * addresses) and sets tcp_event.to_server before runner_push().
 *
 * One thread (the owner) calls everything; workers only feed.
 */
#ifndef TWAUDIT_RUNNER_H
#define TWAUDIT_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "lib/tcp_event.h"

#define RUNNER_MAX_INSTANCES	64	/* models, after sharing */
#define RUNNER_MAX_THREADS	64	/* feeding threads, the owner's too */

struct runner;

/*
 * A runner that hands events to its models in batches of BATCH (1 to
 * 1 << 20). NULL with ERR on a bad size or allocation failure.
 */
struct runner *runner_new(size_t batch, char *err, size_t errlen);

/*
 * Build a model for CFG; its index (the first is 0: the selected model).
 * With SHARE, an instance added with share whose configuration predicts
 * the same (same effective behaviours and settings; table caps, counter
 * names and the ACK rate limit aside) is reused and its index returned;
 * so is one with tables of the same caps that differs only in the passive
 * check and what only it reads, when tw_recycle is 0 from start to end
 * (the check never runs, no peer stamp is written, so both evict alike):
 * only for instances whose settings never change (runner_set_setting()
 * would change them all). FOLLOW: bit (1 << enum model_setting) when the
 * instance takes runner_set_setting() changes of that setting (the
 * selected model takes them all). -1 with ERR when the model cannot be
 * built or RUNNER_MAX_INSTANCES are there.
 */
int runner_add(struct runner *r, const struct model_config *cfg, bool share,
    uint8_t follow, char *err, size_t errlen);

/* Instances (after sharing). */
unsigned runner_count(const struct runner *r);

/*
 * Start up to NTHREADS - 1 worker threads (at most one per instance
 * besides the owner's; 0 or 1: the owner feeds alone). If the system
 * refuses some, the threads that exist feed every instance. Returns the
 * threads feeding, the owner's included. Call once, after runner_add().
 */
unsigned runner_start(struct runner *r, unsigned nthreads);

/* Queue EV (its to_server set); a full batch is fed before returning. */
void runner_push(struct runner *r, const struct tcp_event *ev);

/* Feed the queued events now (before reading a model, for instance). */
void runner_flush(struct runner *r);

/* Events pushed so far. */
uint64_t runner_fed(const struct runner *r);

/*
 * A live settings change at the models' current time: applied to the
 * selected model and to the instances that follow SETTING. 1 when
 * applied, 0 when the selected model already had VALUE, -1 when it
 * refused it (nothing changed then).
 */
int runner_set_setting(struct runner *r, enum model_setting setting,
    int32_t value);

/* The model of instance I (after runner_flush() it has every event). */
struct model *runner_model(struct runner *r, unsigned i);
const struct model_config *runner_config(const struct runner *r, unsigned i);

/* Flush, then model_finish() on every instance (end of a capture). */
void runner_finish(struct runner *r);

/*
 * Per-event verdicts of every instance, for a caller that compares them
 * with what happened (replay's diagnosis): after each batch is fed, FN
 * gets the batch EV[0..N) and V[i][j], instance i's verdict on EV[j], in
 * the owner's thread. Call after the last runner_add(), before
 * runner_start(). Without it the instances are fed with no verdict
 * output (nothing written per event). -1 with ERR when memory is short.
 */
typedef void (*runner_verdict_fn)(void *arg, const struct tcp_event *ev,
    size_t n, const struct model_verdict *const *v, unsigned ninst);
int runner_set_verdicts(struct runner *r, runner_verdict_fn fn, void *arg,
    char *err, size_t errlen);

/* Bytes the instances' tables may take (model_memory_bound()), plus the
 * batch. */
size_t runner_memory_bound(const struct runner *r);

/* Stop the workers and free every model. NULL ok. */
void runner_free(struct runner *r);

#endif
