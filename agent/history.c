/* Fixed ring of counter samples, and rates over it. */
#include "agent/history.h"

#include <math.h>
#include <stdlib.h>

const double rate_window_seconds[RATE_NWINDOWS] = { 60, 300, 3600 };
const char *const rate_window_name[RATE_NWINDOWS] = { "1m", "5m", "1h" };

struct sample {
	double t;
	struct counter_set c;
	int64_t timewait;
};

struct history {
	size_t cap, len, head;	/* head: index of the next write */
	struct sample s[];
};

struct history *
history_new(size_t capacity)
{
	struct history *h;

	if (capacity < 2)
		capacity = 2;
	h = calloc(1, sizeof(*h) + capacity * sizeof(struct sample));
	if (h != NULL)
		h->cap = capacity;
	return h;
}

void
history_free(struct history *h)
{
	free(h);
}

void
history_add(struct history *h, double t, const struct counter_set *c,
    int64_t timewait)
{
	h->s[h->head].t = t;
	h->s[h->head].c = *c;
	h->s[h->head].timewait = timewait;
	h->head = (h->head + 1) % h->cap;
	if (h->len < h->cap)
		h->len++;
}

size_t
history_len(const struct history *h)
{
	return h->len;
}

static const struct sample *
at(const struct history *h, size_t i)
{
	return &h->s[(h->head + h->cap - h->len + i) % h->cap];
}

bool
history_get(const struct history *h, size_t i, double *t,
    const struct counter_set **c, int64_t *timewait)
{
	if (i >= h->len)
		return false;
	*t = at(h, i)->t;
	*c = &at(h, i)->c;
	*timewait = at(h, i)->timewait;
	return true;
}

/* Increase from A to B, treating a decrease as a counter reset. */
static uint64_t
increase(uint64_t a, uint64_t b)
{
	return b >= a ? b - a : b;
}

struct rate
history_rate(const struct history *h, enum counter_id id, double window)
{
	struct rate r = { 0 };
	const struct sample *newest;
	size_t base, i;

	if (h == NULL || h->len < 2)
		return r;
	newest = at(h, h->len - 1);
	/* The newest sample at or before newest->t - window, else the oldest. */
	base = 0;
	for (i = h->len - 1; i-- > 0;) {
		if (newest->t - at(h, i)->t >= window) {
			base = i;
			break;
		}
	}
	r.window_s = newest->t - at(h, base)->t;
	if (r.window_s < 0.9 * window || r.window_s <= 0)
		return r;
	for (i = base; i + 1 < h->len; i++) {
		const struct counter_set *a = &at(h, i)->c, *b = &at(h, i + 1)->c;

		if (!a->present[id] || !b->present[id])
			return r;
		r.delta += increase(a->value[id], b->value[id]);
	}
	r.evaluated = true;
	r.per_min = (double)r.delta * 60.0 / r.window_s;
	return r;
}

struct rate
rate_between(const struct counter_set *a, double ta,
    const struct counter_set *b, double tb, enum counter_id id)
{
	struct rate r = { 0 };

	if (!a->present[id] || !b->present[id] || tb <= ta)
		return r;
	r.window_s = tb - ta;
	r.delta = increase(a->value[id], b->value[id]);
	r.per_min = (double)r.delta * 60.0 / r.window_s;
	r.evaluated = true;
	return r;
}

const enum counter_id history_charted[HISTORY_NCHARTED] = {
	CTR_PAWS_PASSIVE, CTR_PAWS_TIMEWAIT, CTR_PAWS_ESTAB, CTR_LISTEN_DROPS,
};

size_t
history_chart(const struct history *h, double now_mono, double now_wall,
    struct history_point *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 1; i < h->len && n < max; i++) {
		const struct sample *a = at(h, i - 1), *b = at(h, i);

		if (!(b->t > a->t))
			continue;
		out[n].wall = now_wall - (now_mono - b->t);
		out[n].timewait = b->timewait;
		for (int k = 0; k < HISTORY_NCHARTED; k++) {
			struct rate r = rate_between(&a->c, a->t, &b->c, b->t,
			    history_charted[k]);

			out[n].per_min[k] = r.evaluated ? r.per_min : NAN;
		}
		n++;
	}
	return n;
}
