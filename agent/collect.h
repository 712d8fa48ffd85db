/*
 * The collection scheduler of `serve`: one collector thread collects, HTTP
 * threads never do. Scrapes share one immutable snapshot (coalesced:
 * concurrent scrapes and scrapes within min_interval of the last
 * collection get the same one; with the exporter metrics, the last
 * collection or the web process's counters it carries, whichever is
 * older); a scrape that finds it older asks the
 * collector thread for a new one and waits at most the collection budget
 * (collect_paths.timeout), then answers from the last snapshot. A tick
 * every COLLECT_TICK_SECONDS collects every source and keeps counter
 * history so rules can use rates over 1 m, 5 m and 1 h.
 */
#ifndef TWAUDIT_COLLECT_H
#define TWAUDIT_COLLECT_H

#include "agent/snapshot.h"

#define COLLECT_TICK_SECONDS 5.0
/* One hour of ticks plus slack, so the 1 h window always has a base. */
#define COLLECT_HISTORY_SAMPLES 760

struct collector;

/* PATHS must outlive the collector (PATHS->timeout 0: the default
 * budget). NULL on allocation failure. */
struct collector *collector_new(const struct collect_paths *paths,
    double min_interval);

struct live;

/* Copy live-mode figures into every snapshot and let the sampler follow
 * the live sysctls (call before collector_start; LIVE stays the caller's). */
void collector_set_live(struct collector *c, struct live *l);

/*
 * Call FN(CTX, S, AT) with the lock held each time a snapshot S is
 * published (AT: the monotonic time its content dates from, which
 * collector_get's min_interval counts from: its collection, or the web
 * process's counters it carries when older): FN must be quick and must
 * not call the collector. Before collector_start.
 */
void collector_on_publish(struct collector *c,
    void (*fn)(void *ctx, const struct snapshot *s, double at), void *ctx);

struct procstat;

/*
 * Mark every snapshot as carrying the exporter metrics (twaudit's own
 * counters, process_* read from PS when PS is not NULL, and serve's web
 * process's figures from WEB when WEB is not NULL; both stay the caller's
 * and outlive the collector). Before collector_start.
 */
void collector_set_exporter(struct collector *c, struct procstat *ps,
    struct procstat *web);

/* Start the collector thread. 0, or -1 with ERR. */
int collector_start(struct collector *c, char *err, size_t errlen);

/*
 * A reference to the current snapshot (NULL before the first one); waits
 * for a fresh one at most the collection budget. Release with
 * snapshot_unref.
 */
struct snapshot *collector_get(struct collector *c);

/*
 * A reference to the current snapshot as it is (NULL before the first
 * one), without asking for a fresh one: for what only changes at the tick,
 * such as the history's chart points. Release with snapshot_unref.
 */
struct snapshot *collector_current(struct collector *c);

/* Stop the tick thread (if started) and free everything. */
void collector_free(struct collector *c);

#endif
