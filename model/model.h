/*
 * The peer-table model: an embedded copy of the kernel's per-peer
 * timestamp check (tw_recycle "passive" PAWS) and of the TIME-WAIT SYN
 * path, run over the SYN/FIN/RST traffic seen at a server. For every SYN
 * to the server it says whether the selected kernel profile, with the
 * selected settings, would accept or refuse it, and which counters move.
 *
 * Specification: docs/kernel.md; semantics and
 * approximations per profile: docs/model.md.
 *
 * No I/O, no globals. All tables are preallocated by model_new(); feeding
 * an event never allocates. Not thread-safe: one model per thread.
 */
#ifndef TWAUDIT_MODEL_H
#define TWAUDIT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/tcp_event.h"
#include "model/model_types.h"

/* Types: model/model_types.h. */

/*
 * Defaults: profile 6.16+, tw_recycle 0, timestamps 1, rfc1337 0, RTO
 * 200 ms, default caps, no overrides.
 */
struct model_config model_config_default(void);

/*
 * Apply one "--set" string: "net.ipv4.tcp_tw_recycle=1" (initial value),
 * "net.ipv4.tcp_timestamps=0@30" (changes 30 s after the first event;
 * fractions allowed), the "net.ipv4." prefix being optional;
 * "kernel.no-timestamp-drop=true" (a behaviour override, '-' or '_');
 * "model.max-peers=N", "model.max-connections=N", "model.max-sources=N",
 * "model.server-rto-ms=N". Returns 0, or -1 with a message in ERR.
 */
int model_config_set(struct model_config *cfg, const char *assignment,
    char *err, size_t errlen);

/* Force behaviour B on or off (-1 restores the profile default). */
void model_config_override(struct model_config *cfg, enum model_behaviour b,
    int value);

/* Setting S = VALUE from the start, its scheduled changes dropped (the
 * what-if variants "tw_recycle=1", "tw_recycle=0"). */
void model_config_force_setting(struct model_config *cfg,
    enum model_setting s, int32_t value);

/*
 * Select the profile for a kernel release string ("3.4.4", "4.9.229",
 * "6.18", "3.10.0-1160.el7.x86_64") or a profile name ("3.17-4.0"), and
 * the version-specific fixes (RHEL 7 3.10.0-*.el7*: no-timestamp drop).
 * Overrides are kept. Returns 0, or -1 (unparseable, or older than
 * 2.6.32) with a message in ERR.
 */
int model_profile_from_version(const char *release, struct model_config *cfg,
    char *err, size_t errlen);

/* "2.6.32-3.0" ... "6.16+"; NULL when out of range. */
const char *model_profile_name(enum model_profile p);
/* Profile by its exact name; -1 when unknown. */
int model_profile_by_name(const char *name, enum model_profile *out);
/* Profiles for the what-if table: MODEL_NPROFILES of them, in order. */
static inline unsigned model_profile_count(void) { return MODEL_NPROFILES; }

/* "passive-check", "no-timestamp-drop", ...; NULL when out of range. */
const char *model_behaviour_name(enum model_behaviour b);
int model_behaviour_by_name(const char *name, enum model_behaviour *out);
/* The default of behaviour B in profile P. */
bool model_profile_default(enum model_profile p, enum model_behaviour b);
/* The effective value of B under CFG (profile, version fix, override). */
bool model_config_behaviour(const struct model_config *cfg,
    enum model_behaviour b);
/* "net.ipv4.tcp_tw_recycle" ... */
const char *model_setting_name(enum model_setting s);

/* ---------------------------------------------------------------------
 * The model (model/model.c)
 */

/* "passive_paws", "timewait_paws", "timewait_seq" (JSON keys, labels). */
const char *model_reason_name(enum model_reason r);
/* "peers", "connections", "sources". */
const char *model_table_name(enum model_table t);

struct model;

/* NULL with a message in ERR on bad config or allocation failure. */
struct model *model_new(const struct model_config *cfg, char *err,
    size_t errlen);
void model_free(struct model *m);

/*
 * Feed one event (events must come in capture order). OUT (may be NULL)
 * gets the decision for a SYN to the server, MODEL_NONE otherwise.
 */
void model_feed(struct model *m, const struct tcp_event *ev,
    struct model_verdict *out);

/*
 * Exactly model_feed() on EV[0..N) in order (OUT, when not NULL, gets N
 * verdicts), faster: the table lines of later events are prefetched while
 * earlier ones are processed.
 */
void model_feed_many(struct model *m, const struct tcp_event *ev, size_t n,
    struct model_verdict *out);

/*
 * A hint that EV (to_server set) will be fed soon: LEVEL 0 starts
 * loading the table buckets it needs, LEVEL 1 (later, once those have
 * arrived) the entries they point to. Changes nothing; lets a caller
 * overlap the cache misses of several events or of several models.
 */
void model_prefetch(const struct model *m, const struct tcp_event *ev,
    int level);

/*
 * Change setting WHICH to VALUE (>= 0) now, between the events fed so far
 * and the next one: exactly what a scheduled change ("NAME=VALUE@T",
 * model_config.change) does when the first event at or after T arrives,
 * through the same code. Nothing is reset: peer stamps, TIME-WAITs,
 * pending SYNs and totals stay, as in the kernel when a sysctl changes
 * (docs/kernel.md §11.1: stamps stored before tcp_timestamps goes
 * to 0 keep refusing SYNs for up to 60 s on no-timestamp-drop profiles).
 * Returns 0, or -1 for an unknown setting or a negative value.
 */
int model_set_setting(struct model *m, enum model_setting which,
    int32_t value);
/* The value in force now (-1 for an unknown setting). */
int32_t model_get_setting(const struct model *m, enum model_setting which);

/* End of capture: pending SYNs are settled (see observed_unanswered). */
void model_finish(struct model *m);

/*
 * Live use: count as unanswered every SYN still waiting for a SYN-ACK
 * after the 1 s grace at NOW_US (capture clock). The same SYNs would be
 * counted when their connection's next SYN came; a client that gave up
 * sends none, so a live caller settles them itself. Recent SYNs stay
 * pending.
 */
void model_settle(struct model *m, uint64_t now_us);

void model_stats(const struct model *m, struct model_stats *out);

/* NAT clustering result for one source address. */
enum model_nat_class {
	MODEL_NAT_UNKNOWN = 0,	/* too little evidence for either class */
	MODEL_NAT_HOSTS,	/* estimated_hosts clocks seen */
	MODEL_NAT_PER_CONN	/* one unrelated clock per connection: random
				   per-connection offsets (4.10, 2026 stable);
				   no host count, at risk */
};
/* "unknown", "hosts", "per_connection" (JSON values). */
const char *model_nat_class_name(enum model_nat_class c);

struct model_source {
	uint8_t family;
	uint8_t addr[16];
	uint64_t syns;
	uint64_t predicted_rejections;
	uint8_t nat_class;		/* enum model_nat_class */
	uint32_t estimated_hosts;	/* MODEL_NAT_HOSTS only (capped at
					   NATCLUST_LINES) */
	double confidence;		/* 0..1 */
};

/* Top N sources by predicted rejections (then SYNs); returns how many. */
size_t model_top_sources(const struct model *m, struct model_source *out,
    size_t n);
/* One source; -1 when not tracked. */
int model_source_get(const struct model *m, uint8_t family,
    const uint8_t addr[16], struct model_source *out);

/*
 * The stored (ts, stamp) pair for CLIENT (and SERVER where the profile
 * keys by the pair; ignored otherwise); -1 when no entry. For tests and
 * diagnostics.
 */
int model_peer_get(const struct model *m, uint8_t family,
    const uint8_t server[16], const uint8_t client[16], uint32_t *ts,
    uint32_t *stamp);

/* A peer-table entry as model_peers_fresh() reports it. */
struct model_peer {
	uint8_t family;		/* 4 or 6 */
	uint8_t client[16];
	uint8_t server[16];	/* zero unless the profile keys by (server,
				   client) (key-server-addr) */
	uint32_t ts;		/* the peer's TSval */
	uint32_t stamp;		/* capture-clock second it was stored */
};

/*
 * Call FN (may be NULL) for every peer entry whose stamp is fresh at
 * NOW_S by the passive check's test, (u32)(now_s - stamp) < 60, in no
 * particular order; returns how many. Read-only; walks only the entries
 * handed out so far (at most max_peers). For comparing with the kernel's
 * tcp_metrics table and for tests.
 */
size_t model_peers_fresh(const struct model *m, uint32_t now_s,
    void (*fn)(void *arg, const struct model_peer *p), void *arg);
/* The same for every entry with a stamp, fresh or not (a comparison
 * taken after newer events must see the entries they re-stamped). */
size_t model_peers_stamped(const struct model *m,
    void (*fn)(void *arg, const struct model_peer *p), void *arg);

/* The documented memory bound of a model built from CFG, in bytes. */
size_t model_memory_bound(const struct model_config *cfg);

/* Entry sizes used by the bound (docs/model.md). */
size_t model_peer_entry_size(void);
size_t model_conn_entry_size(void);
size_t model_source_entry_size(void);

/* ---------------------------------------------------------------------
 * Source table with NAT clock clustering (model/natclust.c); internal to
 * the model library, exposed for the model and its tests.
 */

#define NATCLUST_LINES	8	/* clock lines kept per source */
/* Below this confidence a source's class is MODEL_NAT_UNKNOWN, with no
 * count (docs/model.md, "NAT clock clustering"). */
#define NATCLUST_MIN_CONFIDENCE	0.5

struct srctab;

struct srctab *srctab_new(uint32_t max_sources);
void srctab_free(struct srctab *t);

/* The index hash of an address given as two words (bytes 0-7, 8-15;
 * IPv4 zero-padded); placement only. */
static inline uint32_t
srctab_hash_words(uint8_t family, uint64_t w0, uint64_t w1)
{
	uint64_t x = w0 * 0x9e3779b97f4a7c15ULL ^
	    (w1 + family) * 0xc2b2ae3d27d4eb4fULL;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return (uint32_t)x;
}

static inline uint32_t
srctab_hash(uint8_t family, const uint8_t addr[16])
{
	uint64_t w[2];

	memcpy(w, addr, 16);
	return srctab_hash_words(family, w[0], w[1]);
}

/* In the three below, H is srctab_hash(FAMILY, ADDR). Index of the
 * source (created, evicting the least recently used one, when missing);
 * *created set when new. */
uint32_t srctab_get(struct srctab *t, uint32_t h, uint8_t family,
    const uint8_t addr[16], uint64_t now_us, bool *created);
/* A hint: LEVEL 0 prefetches the address's bucket, 1 the entry it
 * points to. Changes nothing. */
void srctab_prefetch(const struct srctab *t, uint32_t h, int level);
/* Lookup only; UINT32_MAX when missing. */
uint32_t srctab_find(const struct srctab *t, uint32_t h, uint8_t family,
    const uint8_t addr[16]);
uint64_t srctab_first_seen(const struct srctab *t, uint32_t i);
void srctab_count(struct srctab *t, uint32_t i, uint32_t syns,
    uint32_t rejections);
/* A timestamp sample of connection CONN (any stable per-connection id)
 * from client port PORT (as the server sees it). */
void srctab_point(struct srctab *t, uint32_t i, uint64_t t_us, uint32_t tsval,
    uint32_t conn, uint16_t port);
void srctab_result(const struct srctab *t, uint32_t i, struct model_source *out);
uint64_t srctab_evictions(const struct srctab *t);
uint32_t srctab_used(const struct srctab *t);
bool srctab_in_use(const struct srctab *t, uint32_t i);
uint32_t srctab_capacity(const struct srctab *t);
size_t srctab_entry_size(void);
size_t srctab_memory(uint32_t max_sources);

/*
 * Table memory (model/natclust.c): zeroed and 64-byte aligned. N >= 4
 * MiB is mapped on its own, 2 MiB-aligned and rounded up to 2 MiB, with
 * MADV_HUGEPAGE (fewer TLB misses on random lookups); N >= 64 KiB is
 * mapped on 4 KiB pages (untouched pages stay unmapped); smaller sizes
 * come from aligned_alloc. model_table_bytes(N) is what the bound counts
 * for N.
 */
void *model_table_alloc(size_t n);
void model_table_free(void *p, size_t n);
size_t model_table_bytes(size_t n);

/* ---------------------------------------------------------------------
 * Open-addressing index and exact LRU (struct oat, struct lruq: see
 * model/model_types.h); internal to the model library.
 */

/* Slots for CAP entries: the power of two >= 2 x CAP. */
static inline size_t
oat_slots(uint32_t cap)
{
	size_t n = 2;

	while (n < 2 * (size_t)cap)
		n <<= 1;
	return n;
}

/* Iterate the candidates for hash H: *POS starts at H & mask; returns
 * the next entry index whose hash is H, or UINT32_MAX at the end. */
static inline uint32_t
oat_next(const struct oat *t, uint32_t h, uint32_t *pos)
{
	for (;;) {
		uint64_t v = t->s[*pos];
		*pos = (*pos + 1) & t->mask;
		if (v == 0)
			return UINT32_MAX;
		if ((uint32_t)(v >> 32) == h)
			return (uint32_t)v - 1;
	}
}

static inline void
oat_insert(struct oat *t, uint32_t h, uint32_t i)
{
	uint32_t p = h & t->mask;

	while (t->s[p] != 0)
		p = (p + 1) & t->mask;
	t->s[p] = ((uint64_t)h << 32) | ((uint64_t)i + 1);
}

static inline void
oat_delete(struct oat *t, uint32_t h, uint32_t i)
{
	uint64_t want = ((uint64_t)h << 32) | ((uint64_t)i + 1);
	uint32_t p = h & t->mask, j;

	while (t->s[p] != want)
		p = (p + 1) & t->mask;
	for (j = p;;) {
		j = (j + 1) & t->mask;
		if (t->s[j] == 0)
			break;
		uint32_t home = (uint32_t)(t->s[j] >> 32) & t->mask;
		/* Move into the hole unless home lies in (p, j]. */
		if (((j - home) & t->mask) >= ((j - p) & t->mask)) {
			t->s[p] = t->s[j];
			p = j;
		}
	}
	t->s[p] = 0;
}

static inline void
oat_prefetch(const struct oat *t, uint32_t h)
{
	__builtin_prefetch(&t->s[h & t->mask]);
}

/* The next victim candidate (a hint for prefetching), or UINT32_MAX. */
static inline uint32_t
lruq_peek(const struct lruq *q)
{
	return q->pos < q->n ? q->b[q->pos].idx : UINT32_MAX;
}

/* The candidate D places after the next one (a hint), or UINT32_MAX. */
static inline uint32_t
lruq_peek_at(const struct lruq *q, uint32_t d)
{
	return q->n - q->pos > d ? q->b[q->pos + d].idx : UINT32_MAX;
}

/* Batches of CAP >> SHIFT entries (all of CAP when that is <= 256). */
int lruq_init(struct lruq *q, uint32_t cap, unsigned shift);
void lruq_free(struct lruq *q);
size_t lruq_memory(uint32_t cap, unsigned shift);
/* The entry of BASE[0..CAP) (STRIDE bytes each, the sequence number at
 * byte OFF) with the smallest non-zero sequence number; UINT32_MAX when
 * none is in use. */
uint32_t lruq_victim(struct lruq *q, const void *base, size_t stride,
    size_t off, uint32_t cap);

#endif
