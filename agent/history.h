/*
 * Counter history for rates: a fixed ring of samples taken every few
 * seconds, long enough for the 1 h window. No allocation after history_new.
 */
#ifndef TWAUDIT_HISTORY_H
#define TWAUDIT_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include "collectors/counters.h"

enum rate_window { RATE_1M, RATE_5M, RATE_1H, RATE_NWINDOWS };
extern const double rate_window_seconds[RATE_NWINDOWS];
extern const char *const rate_window_name[RATE_NWINDOWS];

struct rate {
	bool evaluated;		/* false: not enough history (or counter absent) */
	uint64_t delta;		/* increase over the window (resets handled) */
	double window_s;	/* seconds actually covered */
	double per_min;		/* delta scaled to one minute */
};

struct history;

/* A ring of CAPACITY samples. NULL on allocation failure. */
struct history *history_new(size_t capacity);
void history_free(struct history *h);

/*
 * Record counters seen at monotonic time T (seconds), and the TIME-WAIT
 * socket count of that moment (a gauge, for charts; -1 when unknown).
 */
void history_add(struct history *h, double t, const struct counter_set *c,
    int64_t timewait);

/*
 * Rate of counter ID over the last WINDOW seconds ending at the newest
 * sample. Evaluated only when the history reaches back at least 90% of
 * WINDOW (the oldest sample is used as the base); a counter that went
 * down is treated as a reset (the new value is the increase).
 */
struct rate history_rate(const struct history *h, enum counter_id id,
    double window);

/* Rate between two explicit samples (check --sample). */
struct rate rate_between(const struct counter_set *a, double ta,
    const struct counter_set *b, double tb, enum counter_id id);

/* Samples held, and a copy of the newest N timestamps/values for charts. */
size_t history_len(const struct history *h);
/* The I-th sample, 0 = oldest. Returns false when out of range. */
bool history_get(const struct history *h, size_t i, double *t,
    const struct counter_set **c, int64_t *timewait);

/*
 * Chart points of the history (for /api/history, copied into a snapshot
 * when the collector finishes it): one per pair of consecutive samples,
 * the rate per minute between them of each charted counter (per_min NAN
 * when not evaluated) and the newer sample's TIME-WAIT gauge (-1 unknown).
 */
#define HISTORY_NCHARTED 4
extern const enum counter_id history_charted[HISTORY_NCHARTED];

struct history_point {
	double wall;			/* epoch seconds of the newer sample */
	int64_t timewait;
	double per_min[HISTORY_NCHARTED];
};

/*
 * Fill OUT (room for MAX points; history_len(H) is always enough) from H,
 * mapping monotonic sample times to wall time with the pair (NOW_MONO,
 * NOW_WALL) read together. Returns the number of points.
 */
size_t history_chart(const struct history *h, double now_mono,
    double now_wall, struct history_point *out, size_t max);

#endif
