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

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NIL		UINT32_MAX
#define RECENT_CONNS	8
/* lruq batch = capacity / 8 (capacity / 2 measured no faster on a
 * spoofed-SYN flood: the bigger sort costs what the rarer scans save). */
#define SRC_LRU_SHIFT	3

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
	uint32_t next;
	uint64_t seq;		/* LRU touch sequence number; 0 = free */
	uint64_t first_seen_us;
	uint32_t syns, rejections;
	uint32_t points;	/* TS samples */
	uint32_t conns;		/* distinct connections with a TS sample */
	uint32_t new_lines;	/* connections that started a line */
	uint32_t joins;		/* connections that joined another's line */
	uint32_t intra;		/* samples matching their connection's line */
	uint32_t recent[RECENT_CONNS];
	struct line line[NATCLUST_LINES];
	uint32_t hash;		/* src_hash(); in the padding */
};

struct srctab {
	struct src *e;
	struct oat idx;
	uint32_t cap, free, used;
	uint32_t hw;		/* e[0..hw) handed out at least once */
	uint64_t seq;
	uint64_t evictions;
	struct lruq lru;
};

/* ------------------------------------------------------------------
 * Table memory (model.h)
 */
#define HUGE_PAGE	((size_t)2 << 20)
/* Smaller tables stay on 4 KiB pages: rounding up to 2 MiB would waste
 * up to half of them (the live sampler's tables are a few MiB). */
#define HUGE_MIN	((size_t)4 << 20)

size_t
model_table_bytes(size_t n)
{
	if (n < HUGE_MIN)
		return n;
	return (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

void *
model_table_alloc(size_t n)
{
	size_t sz = model_table_bytes(n);
	char *p, *a;

	if (n < HUGE_MIN)
		return calloc(1, n ? n : 1);
	if (sz + HUGE_PAGE < sz)
		return NULL;
	p = mmap(NULL, sz + HUGE_PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Keep the 2 MiB-aligned SZ bytes inside, unmap the rest. */
	a = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + sz < p + sz + HUGE_PAGE)
		munmap(a + sz, (size_t)(p + sz + HUGE_PAGE - (a + sz)));
#ifdef MADV_HUGEPAGE
	(void)madvise(a, sz, MADV_HUGEPAGE);	/* a hint; may fail */
#endif
	return a;
}

void
model_table_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	if (n < HUGE_MIN)
		free(p);
	else
		munmap(p, model_table_bytes(n));
}

/* ------------------------------------------------------------------
 * Exact LRU by sequence numbers (model.h)
 */

/* Batch size: capacity >> SHIFT, but whole small tables (up to 256). */
static uint32_t
lruq_k(uint32_t cap, unsigned shift)
{
	if ((cap >> shift) >= 256)
		return cap >> shift;
	return cap < 256 ? (cap ? cap : 1) : 256;
}

size_t
lruq_memory(uint32_t cap, unsigned shift)
{
	return (size_t)lruq_k(cap, shift) * sizeof(struct lruq_ent);
}

int
lruq_init(struct lruq *q, uint32_t cap, unsigned shift)
{
	q->k = lruq_k(cap, shift);
	q->n = q->pos = 0;
	q->b = malloc((size_t)q->k * sizeof(*q->b));
	return q->b != NULL ? 0 : -1;
}

void
lruq_free(struct lruq *q)
{
	free(q->b);
	q->b = NULL;
}

static inline uint64_t
lruq_seq(const void *base, size_t stride, size_t off, uint32_t i)
{
	uint64_t s;

	memcpy(&s, (const char *)base + (size_t)i * stride + off, sizeof(s));
	return s;
}

/* Max-heap on seq. */
static void
lruq_sift_down(struct lruq_ent *h, uint32_t n, uint32_t i)
{
	struct lruq_ent x = h[i];

	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1].seq > h[c].seq)
			c++;
		if (h[c].seq <= x.seq)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

static void
lruq_heapsort(struct lruq_ent *h, uint32_t n)
{
	for (uint32_t j = n / 2; j-- > 0;)
		lruq_sift_down(h, n, j);
	for (uint32_t m = n; m > 1; m--) {
		struct lruq_ent t = h[0];
		h[0] = h[m - 1];
		h[m - 1] = t;
		lruq_sift_down(h, m - 1, 0);
	}
}

/*
 * Hoare partition of A[0..N) (N >= 3) around the median of three seqs;
 * returns P with A[0..P) <= pivot <= A[P..N). The seqs of a table are
 * unique, so the pivot is neither the largest nor the smallest of the
 * three and both sides are non-empty: 0 < P < N.
 */
static uint32_t
lruq_partition(struct lruq_ent *a, uint32_t n)
{
	uint64_t x = a[0].seq, y = a[n / 2].seq, z = a[n - 1].seq;
	uint64_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) :
	    (x < z ? x : (y < z ? z : y));
	uint32_t i = 0, j = n - 1;

	for (;;) {
		while (a[i].seq < pivot)
			i++;
		while (a[j].seq > pivot)
			j--;
		if (i >= j)
			return j + 1;
		struct lruq_ent t = a[i];
		a[i] = a[j];
		a[j] = t;
		i++;
		j--;
	}
}

/*
 * Ascending sort by seq without allocating: quicksort (sequential passes,
 * where a heap sort of a batch bigger than the cache misses on every
 * level), insertion sort for short runs, heap sort past a depth limit.
 */
static void
lruq_sort(struct lruq_ent *a, uint32_t n, unsigned depth)
{
	while (n > 16) {
		uint32_t p;

		if (depth-- == 0) {
			lruq_heapsort(a, n);
			return;
		}
		p = lruq_partition(a, n);
		/* Recurse into the smaller side: stack depth O(log n). */
		if (p < n - p) {
			lruq_sort(a, p, depth);
			a += p;
			n -= p;
		} else {
			lruq_sort(a + p, n - p, depth);
			n = p;
		}
	}
	for (uint32_t i = 1; i < n; i++) {
		struct lruq_ent x = a[i];
		uint32_t j = i;

		while (j > 0 && a[j - 1].seq > x.seq) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = x;
	}
}

/* Reorder A[0..N) so that A[0..M) are its M smallest (0 < M < N). */
static void
lruq_select(struct lruq_ent *a, uint32_t n, uint32_t m)
{
	while (n > 16) {
		uint32_t p = lruq_partition(a, n);

		if (p == m)
			return;
		if (p > m) {
			n = p;
		} else {
			a += p;
			n -= p;
			m -= p;
		}
	}
	lruq_sort(a, n, 0);
}

static unsigned
lruq_depth(uint32_t n)
{
	unsigned d = 0;

	while (n > 1) {
		n >>= 1;
		d += 2;
	}
	return d;
}

/*
 * Refill the batch with the oldest in-use entries, ascending. Exactness
 * needs only that every in-use entry left out is newer than every entry
 * taken; the batch size may vary.
 */
static void
lruq_rebuild(struct lruq *q, const void *base, size_t stride, size_t off,
    uint32_t cap)
{
	struct lruq_ent *h = q->b;
	uint32_t n = 0;
	uint64_t limit = UINT64_MAX;

	/* A threshold from a sample (every 64th entry) near rank 7k/8
	 * lets the pass skip most entries and usually fills less than the
	 * batch; if it overflows, the oldest 3/4 are kept and the threshold
	 * drops to the newest of them. */
	if (cap >= 64 * 64 && q->k >= cap / 64) {
		uint32_t ns = 0;
		for (uint32_t i = 0; i < cap; i += 64) {
			uint64_t s = lruq_seq(base, stride, off, i);
			if (s != 0)
				h[ns++].seq = s;
		}
		if (ns >= 64) {
			uint32_t r = (uint32_t)((uint64_t)ns * q->k / cap);
			r -= r / 8;
			if (r >= ns)
				r = ns - 1;
			lruq_select(h, ns, r + 1);
			/* h[r] is now the largest of the r + 1 smallest. */
			limit = 0;
			for (uint32_t j = 0; j <= r; j++)
				if (h[j].seq > limit)
					limit = h[j].seq;
		}
	}
	for (uint32_t i = 0; i < cap; i++) {
		uint64_t s = lruq_seq(base, stride, off, i);
		if (s == 0 || s > limit)
			continue;
		if (n == q->k) {
			uint32_t keep = q->k - q->k / 4;

			lruq_select(h, n, keep);
			limit = 0;
			for (uint32_t j = 0; j < keep; j++)
				if (h[j].seq > limit)
					limit = h[j].seq;
			n = keep;
			if (s > limit)
				continue;
		}
		h[n++] = (struct lruq_ent){ .seq = s, .idx = i };
	}
	lruq_sort(h, n, lruq_depth(n));
	q->n = n;
	q->pos = 0;
}

uint32_t
lruq_victim(struct lruq *q, const void *base, size_t stride, size_t off,
    uint32_t cap)
{
	for (;;) {
		while (q->pos < q->n) {
			const struct lruq_ent *e = &q->b[q->pos++];
			if (lruq_seq(base, stride, off, e->idx) == e->seq)
				return e->idx;
		}
		lruq_rebuild(q, base, stride, off, cap);
		if (q->n == 0)
			return NIL;
	}
}

size_t srctab_entry_size(void) { return sizeof(struct src); }

size_t
srctab_memory(uint32_t max_sources)
{
	return sizeof(struct srctab) +
	    model_table_bytes((size_t)max_sources * sizeof(struct src)) +
	    model_table_bytes(oat_slots(max_sources) * sizeof(uint64_t)) +
	    lruq_memory(max_sources, SRC_LRU_SHIFT);
}

struct srctab *
srctab_new(uint32_t max_sources)
{
	struct srctab *t;
	size_t nb = oat_slots(max_sources);

	if (max_sources == 0 || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->cap = max_sources;
	t->idx.mask = (uint32_t)(nb - 1);
	t->e = model_table_alloc((size_t)max_sources * sizeof(*t->e));
	t->idx.s = model_table_alloc(nb * sizeof(uint64_t));
	if (t->e == NULL || t->idx.s == NULL ||
	    lruq_init(&t->lru, max_sources, SRC_LRU_SHIFT) < 0) {
		srctab_free(t);
		return NULL;
	}
	/*
	 * Entries are handed out in order up to the high-water mark before the
	 * free list is used, so untouched pages stay unmapped: a daemon's
	 * resident memory follows the sources it has really seen.
	 */
	t->free = NIL;
	t->hw = 0;
	return t;
}

void
srctab_free(struct srctab *t)
{
	if (t == NULL)
		return;
	model_table_free(t->e, (size_t)t->cap * sizeof(*t->e));
	model_table_free(t->idx.s, ((size_t)t->idx.mask + 1) *
	    sizeof(uint64_t));
	lruq_free(&t->lru);
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
	(void)t;
	return (uint32_t)x;
}

void
srctab_prefetch(const struct srctab *t, uint8_t family,
    const uint8_t addr[16], int level)
{
	uint32_t h = src_hash(t, family, addr), pos = h & t->idx.mask, i;

	/* A full table evicts: the next victim and its slot are needed. */
	uint32_t v = t->free == NIL && t->hw == t->cap ?
	    lruq_peek(&t->lru) : NIL;

	if (level == 0) {
		oat_prefetch(&t->idx, h);
		if (v != NIL)
			__builtin_prefetch(&t->e[v].seq);
		return;
	}
	if (v != NIL)
		oat_prefetch(&t->idx, t->e[v].hash);
	if ((i = oat_next(&t->idx, h, &pos)) != NIL) {
		const char *p = (const char *)&t->e[i];
		for (size_t o = 0; o < sizeof(struct src); o += 64)
			__builtin_prefetch(p + o);
		__builtin_prefetch(p + sizeof(struct src) - 1);
	}
}

static uint32_t
find_h(const struct srctab *t, uint32_t h, uint8_t family,
    const uint8_t addr[16])
{
	uint32_t pos = h & t->idx.mask, i;

	while ((i = oat_next(&t->idx, h, &pos)) != NIL)
		if (t->e[i].family == family &&
		    memcmp(t->e[i].addr, addr, 16) == 0)
			return i;
	return NIL;
}

uint32_t
srctab_find(const struct srctab *t, uint8_t family, const uint8_t addr[16])
{
	return find_h(t, src_hash(t, family, addr), family, addr);
}

uint32_t
srctab_get(struct srctab *t, uint8_t family, const uint8_t addr[16],
    uint64_t now_us, bool *created)
{
	uint32_t h = src_hash(t, family, addr);
	uint32_t i = find_h(t, h, family, addr);
	struct src *e;

	*created = false;
	if (i != NIL) {
		t->e[i].seq = ++t->seq;
		return i;
	}
	if (t->free == NIL && t->hw < t->cap) {
		i = t->hw++;
		t->used++;
	} else if (t->free == NIL) {
		i = lruq_victim(&t->lru, t->e, sizeof(*t->e),
		    offsetof(struct src, seq), t->cap);
		e = &t->e[i];
		oat_delete(&t->idx, e->hash, i);
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
	e->hash = h;
	oat_insert(&t->idx, h, i);
	e->seq = ++t->seq;
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
