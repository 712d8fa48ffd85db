/* Coalescing snapshot cache and the history tick (see collect.h). */
#include "agent/collect.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "agent/audit.h"
#include "agent/live.h"
#include "agent/nscollect.h"
#include "lib/procstat.h"
#include "lib/log.h"
#include "lib/selfstat.h"
#include "lib/util.h"

struct collector {
	const struct collect_paths *paths;
	double min_interval;
	double timeout;			/* paths->timeout, or the default */

	pthread_mutex_t lock;
	pthread_cond_t done;		/* a snapshot was published */
	bool collecting;
	double collect_started;		/* monotonic */
	bool want;			/* a scrape asks for a fresh snapshot */
	uint64_t generation;		/* snapshots published */
	struct snapshot *current;	/* NULL before the first collection */
	double current_started;		/* monotonic start of its collection */
	double last_ok[SRC_COUNT];	/* wall time of each source's last success */
	struct history *hist;
	struct live *live;		/* may be NULL */
	uint64_t published;		/* snapshots published */
	void (*on_publish)(void *, const struct snapshot *, double);
	void *on_publish_ctx;
	bool exporter;			/* collector_set_exporter() */
	struct procstat *procstat;	/* may be NULL */
	struct procstat *web_procstat;	/* serve's web process; may be NULL */
	struct file_cache *files;	/* the host's procfs; NULL: foreign */

	pthread_t ticker;
	bool ticker_started;
	bool stopping;
	pthread_cond_t wake;		/* wakes the collector thread */
};

struct collector *
collector_new(const struct collect_paths *paths, double min_interval)
{
	struct collector *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;

	if (c == NULL)
		return NULL;
	c->hist = history_new(COLLECT_HISTORY_SAMPLES);
	if (c->hist == NULL) {
		free(c);
		return NULL;
	}
	c->paths = paths;
	/* Every scrape reads the same dozen procfs files: hold them open
	 * (lib/filecache.h). Not for a foreign tree: its files may be
	 * plain files that a test or a copy rewrites in place. */
	if (!paths->foreign && paths->procfs != NULL)
		c->files = file_cache_new(paths->procfs);
	c->min_interval = min_interval;
	c->timeout = paths->timeout > 0 ? paths->timeout :
	    COLLECT_TIMEOUT_DEFAULT;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->done, &ca);
	pthread_cond_init(&c->wake, &ca);
	pthread_condattr_destroy(&ca);
	return c;
}

static void
to_timespec(double t, struct timespec *ts)
{
	ts->tv_sec = (time_t)t;
	ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
	if (ts->tv_nsec < 0)
		ts->tv_nsec = 0;
	if (ts->tv_nsec > 999999999)
		ts->tv_nsec = 999999999;
}

/*
 * The monotonic time the content of S, whose collection began at
 * STARTED, dates from: STARTED, or when the exporter metrics are rendered
 * and the web process's counters in S are older, their time. The web
 * process sends its counters only with its requests, so a snapshot the
 * tick builds carries them as of the last request, however long before.
 */
static double
fresh_since(const struct collector *c, const struct snapshot *s,
    double started)
{
	if (c->exporter && s->self_peer_at > 0 && s->self_peer_at < started)
		return s->self_peer_at;
	return started;
}

/*
 * Whether the current snapshot is too old for a scrape that came at ASKED
 * when the web process's counters were last stamped PEER: its collection
 * began min_interval or more before (with min_interval 0: before the
 * scrape came, so a collection under way then does not answer it), or,
 * with the exporter metrics, it lacks the newest counters and the ones it
 * has are that old. With the lock held.
 */
static bool
stale_locked(const struct collector *c, double asked, double peer)
{
	const struct snapshot *s = c->current;

	if (s == NULL || asked - c->current_started >= c->min_interval)
		return true;
	return c->exporter && s->self_peer_at < peer &&
	    asked - s->self_peer_at >= c->min_interval;
}

/*
 * On the collector thread, with the lock held: collect a new snapshot
 * outside the lock, within the budget, and publish it. With RECORD the
 * counters also go into the history (the tick: evenly spaced samples
 * whatever the scrape rate) and every source is read; otherwise (a scrape
 * asked) the slow sources are reused from the current snapshot.
 */
static void
refresh_locked(struct collector *c, bool record)
{
	struct collect_paths cp = *c->paths;
	struct snapshot *s, *old, *reuse;
	double t, started;

	reuse = (!record && c->current != NULL) ? snapshot_ref(c->current) : NULL;
	c->collecting = true;
	c->collect_started = started = now_monotonic();
	cp.timeout = c->timeout;
	cp.files = c->files;
	cp.deadline = c->collect_started + c->timeout;
	pthread_mutex_unlock(&c->lock);
	s = nscollect_snapshot(&cp, reuse);
	if (reuse != NULL)
		snapshot_unref(reuse);
	t = now_monotonic();
	pthread_mutex_lock(&c->lock);
	c->collecting = false;
	if (s != NULL) {
		if (c->live != NULL) {
			live_fill(c->live, s);
			if (record)
				live_follow(c->live, s);
		}
		if (record)
			history_add(c->hist, t, &s->counters,
			    s->sockstat.present[SS_TCP_TW] ?
			    s->sockstat.v[SS_TCP_TW] : -1);
		if (c->exporter) {
			/* Under the lock: procstat has one reader at a time. */
			s->exporter_metrics = true;
			procstat_read(c->procstat, &s->proc);
			procstat_read(c->web_procstat, &s->web_proc);
		}
		snapshot_note_success(s, c->last_ok);
		snapshot_finish(s, c->hist);
		s->generation = ++c->published;
		old = c->current;
		c->current = s;
		c->current_started = started;
		if (c->on_publish != NULL)
			c->on_publish(c->on_publish_ctx, s,
			    fresh_since(c, s, started));
		if (old != NULL)
			snapshot_unref(old);
	}
	/* Whoever asked during this collection takes its result. */
	c->want = false;
	c->generation++;
	pthread_cond_broadcast(&c->done);
}

/*
 * HTTP threads never collect: they take the current snapshot, and when it
 * is too old (stale_locked) ask the collector thread for a new one and
 * wait for it at most the collection budget (less what an ongoing
 * collection has used), then answer from whatever is current. A
 * collection under way when the scrape came is waited for and taken when
 * it is recent enough; otherwise the next one is, within the same budget.
 */
struct snapshot *
collector_get(struct collector *c)
{
	double asked = now_monotonic(), peer = selfstat_peer_at(), deadline;
	struct snapshot *s;
	struct timespec ts;
	uint64_t gen;

	pthread_mutex_lock(&c->lock);
	if (!c->ticker_started) {
		/* No collector thread (a test harness): collect here. */
		if (stale_locked(c, asked, peer))
			refresh_locked(c, c->current == NULL);
	} else {
		/* A little past the budget: the source at hand finishes. */
		deadline = (c->collecting ? c->collect_started : asked) +
		    c->timeout + 0.5;
		for (int round = 0; round < 2 && !c->stopping &&
		    stale_locked(c, asked, peer); round++) {
			gen = c->generation;
			c->want = true;
			pthread_cond_signal(&c->wake);
			if (round > 0)
				deadline = asked + c->timeout + 0.5;
			to_timespec(deadline, &ts);
			while (c->generation == gen && !c->stopping &&
			    pthread_cond_timedwait(&c->done, &c->lock, &ts) !=
			    ETIMEDOUT)
				;
			if (c->generation == gen)
				break;	/* out of time: answer what is current */
		}
	}
	s = c->current ? snapshot_ref(c->current) : NULL;
	pthread_mutex_unlock(&c->lock);
	return s;
}

/*
 * The collector thread: a full collection every COLLECT_TICK_SECONDS (the
 * history tick), and a quick one whenever a scrape asks in between.
 */
static void *
tick_main(void *arg)
{
	struct collector *c = arg;
	struct timespec ts;
	double next = now_monotonic(), now;

	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		now = now_monotonic();
		if (now >= next) {
			refresh_locked(c, true);
			/*
			 * Give back what bursts of clients left in glibc's
			 * arenas (HTTP and bcrypt threads each get one):
			 * without it RSS follows the largest burst so far.
			 * Outside the lock: scrapes never wait for it.
			 */
			pthread_mutex_unlock(&c->lock);
			malloc_trim(0);
			pthread_mutex_lock(&c->lock);
			next += COLLECT_TICK_SECONDS;
			/* After a slow collection: no burst of catch-up ticks. */
			if (next < now_monotonic())
				next = now_monotonic() + COLLECT_TICK_SECONDS;
		} else if (c->want) {
			refresh_locked(c, false);
		} else {
			to_timespec(next, &ts);
			pthread_cond_timedwait(&c->wake, &c->lock, &ts);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

void
collector_set_live(struct collector *c, struct live *l)
{
	c->live = l;
}

void
collector_set_exporter(struct collector *c, struct procstat *ps,
    struct procstat *web)
{
	c->exporter = true;
	c->procstat = ps;
	c->web_procstat = web;
}

int
collector_start(struct collector *c, char *err, size_t errlen)
{
	int rc = pthread_create(&c->ticker, NULL, tick_main, c);

	if (rc != 0) {
		set_error(err, errlen, "cannot start collector thread: %s",
		    strerror(rc));
		return -1;
	}
	c->ticker_started = true;
	return 0;
}

void
collector_on_publish(struct collector *c,
    void (*fn)(void *ctx, const struct snapshot *s, double at), void *ctx)
{
	c->on_publish = fn;
	c->on_publish_ctx = ctx;
}

struct snapshot *
collector_current(struct collector *c)
{
	struct snapshot *s;

	pthread_mutex_lock(&c->lock);
	s = c->current ? snapshot_ref(c->current) : NULL;
	pthread_mutex_unlock(&c->lock);
	return s;
}

void
collector_free(struct collector *c)
{
	if (c == NULL)
		return;
	if (c->ticker_started) {
		pthread_mutex_lock(&c->lock);
		c->stopping = true;
		pthread_cond_broadcast(&c->wake);
		pthread_cond_broadcast(&c->done);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->ticker, NULL);
	}
	if (c->current != NULL)
		snapshot_unref(c->current);
	history_free(c->hist);
	file_cache_free(c->files);
	pthread_cond_destroy(&c->done);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
