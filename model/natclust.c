/*
 * Sources and NAT clock clustering.
 *
 * Each client address keeps its counts and a few "clock lines": a line is
 * an anchor (arrival time, TSval) plus a tick rate from the usual set
 * (1, 10, 100, 250, 300, 1000 Hz, 1 MHz). A TSval sample joins the line
 * that predicts it within a tolerance; a line with one sample learns its
 * rate from the second one (the slope must be close to a usual rate).
 * Hosts behind one NAT address have unrelated boot times or per-pair
 * offsets, so each host draws its own line, and a host's line gathers
 * connections from many client ports; clients with per-connection
 * random offsets (Linux 4.10, stable kernels from 2026: the offset is a
 * hash of the 4-tuple) start a new line with every new port and never
 * join another port's line, which is recognised as its own class. A
 * 4-tuple used again keeps its offset, so a line of one port tells
 * nothing about hosts: only lines that span ports, or several lines on
 * one port (distinct clients behind one mapped port), count as hosts.
 *
 * State is bounded: NATCLUST_LINES lines per source (the weakest is
 * replaced when full) and a ring of recent connection ids; the table
 * holds max_sources entries with LRU replacement. Bytes per source:
 * srctab_entry_size() (documented in docs/model.md).
 */
#include "model/model.h"

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
	uint16_t port;		/* client port of the line's first connection */
	uint8_t nconns;		/* connections seen on the line (saturating) */
	uint8_t rate;		/* RATE_MASK: index in rates[], 0 = not known
				   yet; XPORT_MASK: connections from another
				   port that joined (saturating at 3) */
};
#define RATE_MASK	0x07
#define XPORT_ONE	0x40
#define XPORT_MASK	0xc0
_Static_assert(sizeof(struct line) == 16, "a clock line is 16 bytes");

/*
 * A source is one 128-byte, 64-byte-aligned entry: line 0 holds what a
 * lookup reads (the address) and the counts, line 1 what srctab_point()
 * reads (the recent connections and the first HOT_LINES clock lines).
 * Most sources have one or two clocks, so a SYN touches two lines; lines
 * HOT_LINES.. live in a separate table (struct src_cold), read only by
 * sources with more clocks. The LRU sequence numbers are a third, dense
 * array (srctab.seqs): the LRU batch rebuild scans 8 bytes per source
 * instead of a line.
 */
#define HOT_LINES	2

struct src {
	_Alignas(64) uint8_t addr[16];
	uint64_t first_seen_us;
	uint32_t syns, rejections;
	uint32_t points;	/* TS samples */
	uint32_t conns;		/* distinct connections with a TS sample */
	uint32_t new_lines;	/* connections that started a line */
	uint32_t joins;		/* connections that joined the line of another
				   port (same-port reuse is not counted) */
	uint32_t intra;		/* samples matching their connection's line */
	uint8_t family;
	uint8_t in_use;
	uint8_t nlines;
	uint8_t rpos;
	uint8_t pad[8];
	/* second line */
	uint32_t recent[RECENT_CONNS];
	struct line line[HOT_LINES];
};
_Static_assert(sizeof(struct src) == 128, "a source entry is two cache lines");
_Static_assert(offsetof(struct src, recent) == 64, "line 1 starts at recent");

struct src_cold {
	struct line line[NATCLUST_LINES - HOT_LINES];
};

struct srctab {
	struct src *e;
	struct src_cold *cold;
	uint64_t *seqs;		/* LRU touch sequence numbers; 0 = free */
	struct oat idx;
	uint32_t cap, used;
	uint32_t hw;		/* e[0..hw) handed out; sources are never
				   freed, only replaced */
	uint64_t seq;
	uint64_t evictions;
	struct lruq lru;
};

/* Clock line K of source I. */
static inline struct line *
src_line(const struct srctab *t, uint32_t i, unsigned k)
{
	return k < HOT_LINES ? &t->e[i].line[k] :
	    &t->cold[i].line[k - HOT_LINES];
}

/* ------------------------------------------------------------------
 * Table memory (model.h)
 */
#define HUGE_PAGE	((size_t)2 << 20)
/* From here on tables are mapped (page-aligned, zero pages untouched
 * until used); below, aligned_alloc + memset. Either way 64-byte
 * aligned, so 64- and 128-byte entries sit on whole cache lines. */
#define MAP_MIN		((size_t)64 << 10)
#define SMALL_PAGE	((size_t)4 << 10)

static size_t
round_up(size_t n, size_t to)
{
	return (n + to - 1) & ~(to - 1);
}

/* 2 MiB pages from 4 MiB on: rounding smaller tables up to 2 MiB would
 * waste up to half of them (the live sampler's tables are a few MiB). */
static bool
table_huge(size_t n)
{
	return n >= ((size_t)4 << 20);
}

size_t
model_table_bytes(size_t n)
{
	if (n < MAP_MIN)
		return round_up(n, 64);
	if (!table_huge(n))
		return round_up(n, SMALL_PAGE);
	return round_up(n, HUGE_PAGE);
}

void *
model_table_alloc(size_t n)
{
	size_t sz = model_table_bytes(n);
	char *p, *a;

	if (n < MAP_MIN) {
		if ((p = aligned_alloc(64, sz ? sz : 64)) != NULL)
			memset(p, 0, sz);
		return p;
	}
	if (sz + HUGE_PAGE < sz)
		return NULL;
	if (!table_huge(n)) {
		p = mmap(NULL, sz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return p != MAP_FAILED ? p : NULL;
	}
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
	if (n < MAP_MIN)
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
 * Hoare partition of A[0..N) (N >= 3) around the median of three seqs,
 * one from each third of the array at a position derived from the data:
 * the scan order is periodic in seq (entries are reused in eviction
 * order), and fixed positions (first, middle, last) picked near-minimal
 * pivots over and over, sending most batches to the heap sort. Returns P
 * with A[0..P) <= pivot <= A[P..N). The seqs of a table are unique, so
 * the pivot is neither the largest nor the smallest of the three and
 * both sides are non-empty: 0 < P < N.
 */
static uint32_t
lruq_partition(struct lruq_ent *a, uint32_t n)
{
	uint32_t third = n / 3;
	uint64_t r = a[n / 2].seq ^ ((uint64_t)n << 40);

	r ^= r >> 31;
	r *= 0x9e3779b97f4a7c15ULL;
	r ^= r >> 29;
	uint64_t x = a[(r & 0xfffff) % third].seq;
	uint64_t y = a[third + ((r >> 20) & 0xfffff) % third].seq;
	uint64_t z = a[2 * third + ((r >> 40) & 0xfffff) % third].seq;
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

/* Reorder A[0..N) so that A[0..M) are its M smallest (0 < M <= N);
 * past a depth limit (bad pivots) it sorts instead, as lruq_sort does. */
static void
lruq_select(struct lruq_ent *a, uint32_t n, uint32_t m)
{
	unsigned depth = lruq_depth(n);

	while (n > 16) {
		uint32_t p;

		if (depth-- == 0) {
			lruq_sort(a, n, 0);	/* depth 0: heap sort */
			return;
		}
		p = lruq_partition(a, n);

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
	/* The sample has ceil(cap / 64) entries: the batch must hold it. */
	if (cap >= 64 * 64 && q->k >= (cap + 63) / 64) {
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
			/* h[0..r] are the r + 1 smallest (unordered). */
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

size_t srctab_entry_size(void)
{
	return sizeof(struct src) + sizeof(struct src_cold) + sizeof(uint64_t);
}

size_t
srctab_memory(uint32_t max_sources)
{
	return sizeof(struct srctab) +
	    model_table_bytes((size_t)max_sources * sizeof(struct src)) +
	    model_table_bytes((size_t)max_sources * sizeof(struct src_cold)) +
	    model_table_bytes((size_t)max_sources * sizeof(uint64_t)) +
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
	t->cold = model_table_alloc((size_t)max_sources * sizeof(*t->cold));
	t->seqs = model_table_alloc((size_t)max_sources * sizeof(uint64_t));
	t->idx.s = model_table_alloc(nb * sizeof(uint64_t));
	if (t->e == NULL || t->cold == NULL || t->seqs == NULL ||
	    t->idx.s == NULL ||
	    lruq_init(&t->lru, max_sources, SRC_LRU_SHIFT) < 0) {
		srctab_free(t);
		return NULL;
	}
	/*
	 * Entries are handed out in order up to the high-water mark, then
	 * replaced, so untouched pages stay unmapped: a daemon's resident
	 * memory follows the sources it has really seen.
	 */
	t->hw = 0;
	return t;
}

void
srctab_free(struct srctab *t)
{
	if (t == NULL)
		return;
	model_table_free(t->e, (size_t)t->cap * sizeof(*t->e));
	model_table_free(t->cold, (size_t)t->cap * sizeof(*t->cold));
	model_table_free(t->seqs, (size_t)t->cap * sizeof(uint64_t));
	model_table_free(t->idx.s, ((size_t)t->idx.mask + 1) *
	    sizeof(uint64_t));
	lruq_free(&t->lru);
	free(t);
}

static inline uint32_t
src_hash(const struct src *e)
{
	return srctab_hash(e->family, e->addr);
}

void
srctab_prefetch(const struct srctab *t, uint32_t h, int level)
{
	uint32_t pos = h & t->idx.mask, i;

	/* (The next LRU victims are prefetched at each eviction.) */
	if (level == 0) {
		oat_prefetch(&t->idx, h);
		return;
	}
	if ((i = oat_next(&t->idx, h, &pos)) != NIL) {
		__builtin_prefetch(&t->e[i]);
		__builtin_prefetch(&t->e[i].recent);
		__builtin_prefetch(&t->seqs[i]);
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
srctab_find(const struct srctab *t, uint32_t h, uint8_t family,
    const uint8_t addr[16])
{
	return find_h(t, h, family, addr);
}

/* After an eviction: the entry of the victim after next, and the slot of
 * the next one (loaded by the previous eviction). Hints only;
 * always_inline: a separate function holding only prefetches counts as
 * pure for GCC, which then drops the call as dead code. */
static inline __attribute__((always_inline)) void
prefetch_victims(const struct srctab *t)
{
	uint32_t v1 = lruq_peek_at(&t->lru, 0), v2 = lruq_peek_at(&t->lru, 1);

	if (v2 != NIL) {
		__builtin_prefetch(&t->e[v2]);
		__builtin_prefetch(&t->seqs[v2]);
	}
	if (v1 != NIL)
		oat_prefetch(&t->idx, src_hash(&t->e[v1]));
}

uint32_t
srctab_get(struct srctab *t, uint32_t h, uint8_t family,
    const uint8_t addr[16], uint64_t now_us, bool *created)
{
	uint32_t i = find_h(t, h, family, addr);
	struct src *e;

	*created = false;
	if (i != NIL) {
		t->seqs[i] = ++t->seq;
		return i;
	}
	if (t->hw < t->cap) {
		i = t->hw++;
		t->used++;
	} else {
		i = lruq_victim(&t->lru, t->seqs, sizeof(uint64_t), 0,
		    t->cap);
		e = &t->e[i];
		oat_delete(&t->idx, src_hash(e), i);
		t->evictions++;
		prefetch_victims(t);
	}
	e = &t->e[i];
	memset(e, 0, sizeof(*e));
	memcpy(e->addr, addr, 16);
	e->family = family;
	e->in_use = 1;
	e->first_seen_us = now_us;
	memset(e->recent, 0xff, sizeof(e->recent));
	oat_insert(&t->idx, h, i);
	t->seqs[i] = ++t->seq;
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

	uint8_t lr = l->rate & RATE_MASK;

	if (lr != 0) {
		double r = rates[lr];
		double err = d - r * dt / 1000.0;
		double q = (err < 0 ? -err : err) / tolerance(rates[lr], dt);
		*rate = lr;
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
    uint32_t conn, uint16_t port)
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
		const struct line *l = src_line(t, i, (unsigned)k);
		double q = line_fit(l, tms, tsval, &r);
		if (q < 0)
			continue;
		/* The connection's own line wins ties: intra consistency. */
		if (l->last_conn == conn)
			q -= 1.0;
		if (best < 0 || q < bq) {
			best = k;
			bq = q;
			brate = r;
		}
	}
	if (best >= 0) {
		struct line *l = src_line(t, i, (unsigned)best);

		if (l->last_conn == conn) {
			e->intra++;
		} else {
			if (port != l->port) {
				if ((l->rate & XPORT_MASK) != XPORT_MASK)
					l->rate = (uint8_t)(l->rate + XPORT_ONE);
				if (!known)
					e->joins++;
			}
			if (l->nconns < UINT8_MAX)
				l->nconns++;
			l->last_conn = conn;
		}
		/* |tms - t_ms| on the 32-bit ms clock, without abs(INT32_MIN). */
		uint32_t gap = tms - l->t_ms;

		if (gap > INT32_MAX)
			gap = -gap;
		if ((l->rate & RATE_MASK) != 0 || gap >= LEARN_MIN_MS)
			l->rate = (uint8_t)((l->rate & ~RATE_MASK) | brate);
		l->t_ms = tms;
		l->ts = tsval;
		return;
	}
	/* A new clock: take a free slot or the weakest line. */
	int slot = e->nlines;
	if (slot == NATCLUST_LINES) {
		slot = 0;
		for (int k = 1; k < NATCLUST_LINES; k++) {
			const struct line *a = src_line(t, i, (unsigned)k);
			const struct line *b = src_line(t, i, (unsigned)slot);
			if (a->nconns < b->nconns || (a->nconns == b->nconns &&
			    (int32_t)(a->t_ms - b->t_ms) < 0))
				slot = k;
		}
	} else {
		e->nlines++;
	}
	*src_line(t, i, (unsigned)slot) = (struct line){ .t_ms = tms,
	    .ts = tsval, .last_conn = conn, .port = port, .nconns = 1,
	    .rate = 0 };
	if (!known)
		e->new_lines++;
}

/*
 * Does line K count as a host's clock? Either it holds connections from
 * >= 3 client ports (the first and >= 2 others: a host's clock across its
 * connections), or >= 2 connections on a port another line also holds
 * (distinct clients behind one mapped port). Connections of one port on
 * their own line are one 4-tuple used again, which per-4-tuple offsets
 * keep on one clock too; and a NAT may map a 4-tuple used again to
 * another public port (masquerade does when the old port was taken in
 * between), so one clock on two ports is no evidence of a host either.
 */
static bool
line_counts(const struct srctab *t, uint32_t i, int k)
{
	const struct src *e = &t->e[i];
	const struct line *l = src_line(t, i, (unsigned)k);

	if (l->nconns < 2)
		return false;
	if ((l->rate & XPORT_MASK) >= 2 * XPORT_ONE)
		return true;
	for (int j = 0; j < e->nlines; j++)
		if (j != k && src_line(t, i, (unsigned)j)->port == l->port)
			return true;
	return false;
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
	out->nat_class = MODEL_NAT_UNKNOWN;
	if (e->conns < 2)
		return;
	for (int k = 0; k < e->nlines; k++) {
		if (line_counts(t, i, k)) {
			confirmed++;
			explained += src_line(t, i, (unsigned)k)->nconns;
		}
	}
	/* New ports start their own clock and (almost) none joins another
	 * port's: per-connection offsets (or many one-shot hosts, which look
	 * the same). Confidence grows with the number of such clocks, lower
	 * when no connection showed a consistent clock of its own. */
	if (e->joins * 4 < e->new_lines) {
		double c = (double)(e->new_lines - 1) / 8.0;
		c = (c > 1 ? 1 : c) * (e->intra > 0 ? 1.0 : 0.7);
		if (c >= NATCLUST_MIN_CONFIDENCE) {
			out->nat_class = MODEL_NAT_PER_CONN;
			out->confidence = c;
			return;
		}
	}
	/* Share of connections explained by counted lines, damped for
	 * small samples. */
	double share = e->conns ? (double)explained / e->conns : 0;
	if (share > 1)
		share = 1;
	double n = (double)e->conns;
	double c = share * (n / (n + 2.0));
	if (confirmed == 0 || c < NATCLUST_MIN_CONFIDENCE)
		return;
	out->nat_class = MODEL_NAT_HOSTS;
	out->estimated_hosts = confirmed;
	out->confidence = c;
}

uint64_t srctab_evictions(const struct srctab *t) { return t->evictions; }
uint32_t srctab_used(const struct srctab *t) { return t->used; }
uint32_t srctab_capacity(const struct srctab *t) { return t->cap; }

bool
srctab_in_use(const struct srctab *t, uint32_t i)
{
	return i < t->cap && t->e[i].in_use;
}
