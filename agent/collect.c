/* Coalescing snapshot cache and the history tick (see collect.h). */
#include "collect.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "live.h"
#include "log.h"
#include "util.h"

struct collector {
	const struct collect_paths *paths;
	double min_interval;

	pthread_mutex_t lock;
	pthread_cond_t done;		/* a collection finished */
	bool collecting;
	bool tick_waiting;		/* the ticker waits to collect */
	struct snapshot *current;	/* NULL before the first collection */
	double current_at;		/* monotonic time it was collected */
	struct history *hist;
	struct live *live;		/* may be NULL */

	pthread_t ticker;
	bool ticker_started;
	bool stopping;
	pthread_cond_t wake;		/* wakes the ticker early to stop */
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
	c->min_interval = min_interval;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->done, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->wake, &ca);
	pthread_condattr_destroy(&ca);
	return c;
}

/*
 * Collect a new snapshot outside the lock and publish it. With RECORD the
 * counters also go into the history (only the tick does this, so the ring
 * has evenly spaced samples whatever the scrape rate).
 */
static struct snapshot *
refresh_locked(struct collector *c, bool record)
{
	struct snapshot *s, *old, *reuse;
	double t;

	/* Scrapes reuse the tick's slow sources; the tick collects all. */
	reuse = (!record && c->current != NULL) ? snapshot_ref(c->current) : NULL;
	c->collecting = true;
	pthread_mutex_unlock(&c->lock);
	s = snapshot_collect(c->paths, reuse);
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
		snapshot_finish(s, c->hist);
		old = c->current;
		c->current = s;
		c->current_at = t;
		if (old != NULL)
			snapshot_unref(old);
	}
	pthread_cond_broadcast(&c->done);
	return c->current;
}

struct snapshot *
collector_get(struct collector *c)
{
	struct snapshot *s;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		if (c->current != NULL &&
		    now_monotonic() - c->current_at < c->min_interval)
			break;
		/*
		 * A waiting tick goes first: back-to-back scrapes must not
		 * starve it (it records history and follows sysctls).
		 */
		if (!c->collecting && !c->tick_waiting) {
			refresh_locked(c, false);
			break;
		}
		/* Someone is collecting: share their result. */
		pthread_cond_wait(&c->done, &c->lock);
		if (c->current != NULL)
			break;
	}
	s = c->current ? snapshot_ref(c->current) : NULL;
	pthread_mutex_unlock(&c->lock);
	return s;
}

static void *
tick_main(void *arg)
{
	struct collector *c = arg;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		c->tick_waiting = true;
		while (c->collecting && !c->stopping)
			pthread_cond_wait(&c->done, &c->lock);
		c->tick_waiting = false;
		if (c->stopping)
			break;
		refresh_locked(c, true);
		next.tv_sec += (time_t)COLLECT_TICK_SECONDS;
		while (!c->stopping &&
		    pthread_cond_timedwait(&c->wake, &c->lock, &next) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

void
collector_set_live(struct collector *c, struct live *l)
{
	c->live = l;
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
collector_history(struct collector *c,
    void (*fn)(double t, const struct counter_set *cs, int64_t timewait,
    void *arg), void *arg)
{
	double t;
	const struct counter_set *cs;
	int64_t tw;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; history_get(c->hist, i, &t, &cs, &tw); i++)
		fn(t, cs, tw, arg);
	pthread_mutex_unlock(&c->lock);
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
	pthread_cond_destroy(&c->done);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
