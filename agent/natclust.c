/*
 * Sources and NAT clock clustering.
 *
 * Each client address keeps its counts and a few "clock lines": a line is
 * an anchor (arrival time, TSval) plus a tick rate from the usual set
 * (1, 10, 100, 250, 300, 1000 Hz, 1 MHz). A TSval sample joins the line
 * that predicts it within a tolerance; a line with one sample learns its
 * rate from the second one (the slope must be close to a usual rate).
 * Hosts behind one NAT address have unrelated boot times or per-pair
 * offsets, so each host draws its own line; clients with per-connection
 * random offsets (Linux 4.10, stable kernels from 2026) start a new line
 * with every connection and never join another connection's line, which
 * is recognised as its own class.
 *
 * State is bounded: NATCLUST_LINES lines per source (the weakest is
 * replaced when full) and a ring of recent connection ids; the table
 * holds max_sources entries with LRU replacement. Bytes per source:
 * srctab_entry_size() (documented in docs/model.md).
 */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#define NIL		UINT32_MAX
#define RECENT_CONNS	8

static const uint32_t rates[] = { 0, 1, 10, 100, 250, 300, 1000, 1000000 };
#define NRATES	(sizeof(rates) / sizeof(rates[0]))

struct line {
	uint32_t t_ms;		/* anchor: ms since the source's first SYN */
	uint32_t ts;		/* anchor TSval */
	uint32_t last_conn;	/* last connection that added a sample */
	uint16_t npoints;
	uint8_t nconns;		/* connections seen on the line (saturating) */
	uint8_t rate;		/* index in rates[]; 0 = not known yet */
};

struct src {
	uint8_t addr[16];
	uint8_t family;
	uint8_t in_use;
	uint8_t nlines;
	uint8_t rpos;
	uint32_t next, prev_lru, next_lru;
	uint64_t first_seen_us;
	uint32_t syns, rejections;
	uint32_t points;	/* TS samples */
	uint32_t conns;		/* distinct connections with a TS sample */
	uint32_t new_lines;	/* connections that started a line */
	uint32_t joins;		/* connections that joined another's line */
	uint32_t intra;		/* samples matching their connection's line */
	uint32_t recent[RECENT_CONNS];
	struct line line[NATCLUST_LINES];
};

struct srctab {
	struct src *e;
	uint32_t *bucket;
	uint32_t cap, bmask, free, head, tail, used;
	uint64_t evictions;
};

static uint32_t
bucket_count(uint32_t max)
{
	uint32_t p = 1;

	while (p < max && p < (1u << 31))
		p <<= 1;
	return p;
}

size_t srctab_entry_size(void) { return sizeof(struct src); }

size_t
srctab_memory(uint32_t max_sources)
{
	return sizeof(struct srctab) + (size_t)max_sources * sizeof(struct src) +
	    (size_t)bucket_count(max_sources) * sizeof(uint32_t);
}

struct srctab *
srctab_new(uint32_t max_sources)
{
	struct srctab *t;
	uint32_t nb = bucket_count(max_sources);

	if (max_sources == 0 || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->cap = max_sources;
	t->bmask = nb - 1;
	t->e = calloc(max_sources, sizeof(*t->e));
	t->bucket = malloc((size_t)nb * sizeof(uint32_t));
	if (t->e == NULL || t->bucket == NULL) {
		srctab_free(t);
		return NULL;
	}
	memset(t->bucket, 0xff, (size_t)nb * sizeof(uint32_t));
	for (uint32_t i = 0; i < max_sources; i++) {
		t->e[i].next = i + 1 < max_sources ? i + 1 : NIL;
		t->e[i].prev_lru = t->e[i].next_lru = NIL;
	}
	t->free = 0;
	t->head = t->tail = NIL;
	return t;
}

void
srctab_free(struct srctab *t)
{
	if (t == NULL)
		return;
	free(t->e);
	free(t->bucket);
	free(t);
}

static uint32_t
src_hash(const struct srctab *t, uint8_t family, const uint8_t a[16])
{
	uint64_t w0, w1, x;

	memcpy(&w0, a, 8);
	memcpy(&w1, a + 8, 8);
	x = w0 * 0x9e3779b97f4a7c15ULL ^ (w1 + family) * 0xc2b2ae3d27d4eb4fULL;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return (uint32_t)x & t->bmask;
}

static void
lru_unlink(struct srctab *t, uint32_t i)
{
	struct src *e = &t->e[i];

	if (e->prev_lru != NIL)
		t->e[e->prev_lru].next_lru = e->next_lru;
	else
		t->head = e->next_lru;
	if (e->next_lru != NIL)
		t->e[e->next_lru].prev_lru = e->prev_lru;
	else
		t->tail = e->prev_lru;
	e->prev_lru = e->next_lru = NIL;
}

static void
lru_push(struct srctab *t, uint32_t i)
{
	struct src *e = &t->e[i];

	e->prev_lru = NIL;
	e->next_lru = t->head;
	if (t->head != NIL)
		t->e[t->head].prev_lru = i;
	else
		t->tail = i;
	t->head = i;
}

uint32_t
srctab_find(const struct srctab *t, uint8_t family, const uint8_t addr[16])
{
	for (uint32_t i = t->bucket[src_hash(t, family, addr)]; i != NIL;
	    i = t->e[i].next)
		if (t->e[i].family == family &&
		    memcmp(t->e[i].addr, addr, 16) == 0)
			return i;
	return NIL;
}

uint32_t
srctab_get(struct srctab *t, uint8_t family, const uint8_t addr[16],
    uint64_t now_us, bool *created)
{
	uint32_t i = srctab_find(t, family, addr), b;
	struct src *e;

	*created = false;
	if (i != NIL) {
		if (t->head != i) {
			lru_unlink(t, i);
			lru_push(t, i);
		}
		return i;
	}
	if (t->free == NIL) {
		uint32_t *pp;

		i = t->tail;
		e = &t->e[i];
		pp = &t->bucket[src_hash(t, e->family, e->addr)];
		while (*pp != i)
			pp = &t->e[*pp].next;
		*pp = e->next;
		lru_unlink(t, i);
		t->evictions++;
	} else {
		i = t->free;
		t->free = t->e[i].next;
		t->used++;
	}
	e = &t->e[i];
	memset(e, 0, sizeof(*e));
	memcpy(e->addr, addr, 16);
	e->family = family;
	e->in_use = 1;
	e->first_seen_us = now_us;
	memset(e->recent, 0xff, sizeof(e->recent));
	b = src_hash(t, family, addr);
	e->next = t->bucket[b];
	t->bucket[b] = i;
	lru_push(t, i);
	*created = true;
	return i;
}

uint64_t
srctab_first_seen(const struct srctab *t, uint32_t i)
{
	return t->e[i].first_seen_us;
}

void
srctab_count(struct srctab *t, uint32_t i, uint32_t syns, uint32_t rejections)
{
	t->e[i].syns += syns;
	t->e[i].rejections += rejections;
}

/*
 * A line learns its rate only from two points at least this far apart:
 * closer than that every usual rate fits (a SYN and its FIN 1 ms apart
 * "prove" 1 Hz), and a wrong rate splits the host's next connection into
 * a new line, so a two-host NAT would look like per-connection offsets.
 */
#define LEARN_MIN_MS 100

/* Allowed |error| in ticks for rate R over DT_MS: 2 ticks, 50 ms of
 * send/arrival jitter, 0.2 % clock drift. */
static double
tolerance(uint32_t r, double dt_ms)
{
	return 2.0 + r * 0.05 + r * (dt_ms < 0 ? -dt_ms : dt_ms) * 2e-6;
}

/* Error of sample (tms, ts) against line L in units of its tolerance
 * (<= 1 matches); *rate gets the rate used. Negative: no match. */
static double
line_fit(const struct line *l, uint32_t tms, uint32_t ts, uint8_t *rate)
{
	double dt = (double)(int32_t)(tms - l->t_ms);
	double d = (double)(int32_t)(ts - l->ts);
	double best = -1;

	if (l->rate != 0) {
		double r = rates[l->rate];
		double err = d - r * dt / 1000.0;
		double q = (err < 0 ? -err : err) / tolerance(rates[l->rate], dt);
		*rate = l->rate;
		return q <= 1.0 ? q : -1;
	}
	for (uint8_t k = 1; k < NRATES; k++) {
		double err = d - rates[k] * dt / 1000.0;
		double q = (err < 0 ? -err : err) / tolerance(rates[k], dt);
		if (q <= 1.0 && (best < 0 || q < best)) {
			best = q;
			*rate = k;
		}
	}
	return best;
}

void
srctab_point(struct srctab *t, uint32_t i, uint64_t t_us, uint32_t tsval,
    uint32_t conn)
{
	struct src *e = &t->e[i];
	uint32_t tms = t_us > e->first_seen_us ?
	    (uint32_t)((t_us - e->first_seen_us) / 1000) : 0;
	bool known = false;
	int best = -1;
	double bq = 0;
	uint8_t brate = 0;

	for (unsigned k = 0; k < RECENT_CONNS; k++)
		if (e->recent[k] == conn)
			known = true;
	if (!known) {
		e->recent[e->rpos] = conn;
		e->rpos = (uint8_t)((e->rpos + 1) % RECENT_CONNS);
		e->conns++;
	}
	e->points++;
	for (int k = 0; k < e->nlines; k++) {
		uint8_t r = 0;
		double q = line_fit(&e->line[k], tms, tsval, &r);
		if (q < 0)
			continue;
		/* The connection's own line wins ties: intra consistency. */
		if (e->line[k].last_conn == conn)
			q -= 1.0;
		if (best < 0 || q < bq) {
			best = k;
			bq = q;
			brate = r;
		}
	}
	if (best >= 0) {
		struct line *l = &e->line[best];

		if (l->last_conn == conn) {
			e->intra++;
		} else {
			if (!known)
				e->joins++;
			if (l->nconns < UINT8_MAX)
				l->nconns++;
			l->last_conn = conn;
		}
		if (l->rate != 0 ||
		    abs((int32_t)(tms - l->t_ms)) >= LEARN_MIN_MS)
			l->rate = brate;
		l->t_ms = tms;
		l->ts = tsval;
		if (l->npoints < UINT16_MAX)
			l->npoints++;
		return;
	}
	/* A new clock: take a free slot or the weakest line. */
	int slot = e->nlines;
	if (slot == NATCLUST_LINES) {
		slot = 0;
		for (int k = 1; k < NATCLUST_LINES; k++) {
			const struct line *a = &e->line[k], *b = &e->line[slot];
			if (a->nconns < b->nconns || (a->nconns == b->nconns &&
			    (int32_t)(a->t_ms - b->t_ms) < 0))
				slot = k;
		}
	} else {
		e->nlines++;
	}
	e->line[slot] = (struct line){ .t_ms = tms, .ts = tsval,
	    .last_conn = conn, .npoints = 1, .nconns = 1, .rate = 0 };
	if (!known)
		e->new_lines++;
}

void
srctab_result(const struct srctab *t, uint32_t i, struct model_source *out)
{
	const struct src *e = &t->e[i];
	uint32_t confirmed = 0, explained = 0;

	memset(out, 0, sizeof(*out));
	out->family = e->family;
	memcpy(out->addr, e->addr, 16);
	out->syns = e->syns;
	out->predicted_rejections = e->rejections;
	if (e->conns < 2) {
		out->nat_class = MODEL_NAT_UNKNOWN;
		return;
	}
	for (int k = 0; k < e->nlines; k++) {
		if (e->line[k].nconns >= 2) {
			confirmed++;
			explained += e->line[k].nconns;
		}
	}
	/* Every connection its own clock, none shared: per-connection
	 * offsets (or many one-shot hosts, which looks the same). */
	if (e->conns >= 4 && e->new_lines >= 4 && e->joins * 4 < e->new_lines) {
		double c = (double)(e->new_lines - 1) / 8.0;
		out->nat_class = MODEL_NAT_PER_CONN;
		out->confidence = (c > 1 ? 1 : c) * (e->intra > 0 ? 1.0 : 0.7);
		return;
	}
	out->nat_class = MODEL_NAT_HOSTS;
	out->estimated_hosts = confirmed > 0 ? confirmed : 1;
	/* Share of connections explained by confirmed lines, damped for
	 * small samples. */
	double share = e->conns ? (double)explained / e->conns : 0;
	if (share > 1)
		share = 1;
	double n = (double)e->conns;
	out->confidence = share * (n / (n + 2.0));
}

uint64_t srctab_evictions(const struct srctab *t) { return t->evictions; }
uint32_t srctab_used(const struct srctab *t) { return t->used; }
uint32_t srctab_capacity(const struct srctab *t) { return t->cap; }

bool
srctab_in_use(const struct srctab *t, uint32_t i)
{
	return i < t->cap && t->e[i].in_use;
}
