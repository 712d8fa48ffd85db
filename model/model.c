/*
 * The peer-table model (docs/kernel.md §1, §2, §7, §9; docs/model.md).
 *
 * Three preallocated tables, each an entry array with an index (an
 * open-addressing one, or tcp_metrics' 6-slot buckets, or inet_peer's
 * chains), a free list and exact LRU by touch sequence numbers (lruq):
 *   peers        the per-peer (ts, stamp) store of the inet_peer /
 *                tcp_metrics era; tcp_metrics profiles group entries in
 *                buckets of at most 6 and reclaim the oldest of a full
 *                bucket, as __tcp_get_metrics/tcpm_new do;
 *   connections  per 4-tuple: the simulated connection (accepted,
 *                refused, closing) and its TIME-WAIT, plus the observed
 *                SYN/SYN-ACK bookkeeping;
 *   sources      per client address (natclust.c).
 * Nothing is allocated after model_new().
 */
#include "model/model.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#include "model/model_impl.h"

/* ------------------------------------------------------------------ */

static inline uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static inline uint64_t
addr_mix_words(uint8_t family, uint64_t w0, uint64_t w1, uint64_t seed)
{
	return mix64(w0 ^ mix64(w1 ^ seed ^ family));
}

static inline bool
seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(b - a) < 0;
}

static uint32_t
pow2_ceil(uint32_t v)
{
	uint32_t p = 1;

	while (p < v && p < (1u << 31))
		p <<= 1;
	return p;
}

static uint32_t
pow2_floor(uint32_t v)
{
	uint32_t p = 1;

	while (p * 2 <= v && p < (1u << 31))
		p <<= 1;
	return p;
}

static uint32_t
peer_buckets(const struct model_config *cfg)
{
	if (model_config_behaviour(cfg, MB_TCP_METRICS))
		return pow2_floor(cfg->max_peers / (TCPM_RECLAIM_DEPTH + 1) ?
		    cfg->max_peers / (TCPM_RECLAIM_DEPTH + 1) : 1);
	return pow2_ceil(cfg->max_peers);
}

/* ------------------------------------------------------------------
 * LRU: touch sequence numbers; victims from lruq (model.h).
 */
static inline void
plru_touch(struct model *m, uint32_t i)
{
	uint64_t q = ++m->pseq;

	memcpy(m->peers[i].seq, &q, sizeof(q));
}

static inline void
clru_touch(struct model *m, uint32_t i)
{
	m->cseqs[i] = ++m->cseq;
}

/* ------------------------------------------------------------------
 * Peer table
 */

static void
peer_key(const struct model *m, const struct key *k, struct peer *out)
{
	out->family = k->family;
	memcpy(out->client, k->client, 16);
	if (m->b[MB_KEY_SERVER_ADDR])
		memcpy(out->server, k->server, 16);
	else
		memset(out->server, 0, 16);
}

/* The peer key's hash from its address words (the server's zero unless
 * key-server-addr); decides tcp_metrics bucket placement. */
static inline uint64_t
peer_hash_words(const struct model *m, uint8_t family, uint64_t c0,
    uint64_t c1, uint64_t s0, uint64_t s1)
{
	/* tcp_metrics hashes the remote address only, even when the key
	 * also holds the local one. */
	uint64_t h = addr_mix_words(family, c0, c1, 0x7c3a9f1e);

	if (!m->b[MB_TCP_METRICS])
		h ^= addr_mix_words(family, s0, s1, 0x15b2d4c7);
	return h;
}

static uint64_t
peer_hash(const struct model *m, const struct peer *pk)
{
	uint64_t w[4];

	memcpy(w, pk->client, 16);
	memcpy(w + 2, pk->server, 16);
	return peer_hash_words(m, pk->family, w[0], w[1], w[2], w[3]);
}

static inline uint32_t
peer_bucket(const struct model *m, const struct peer *pk)
{
	return (uint32_t)peer_hash(m, pk) & m->pbmask;
}

static inline uint8_t
peer_tag(uint64_t h)
{
	return (uint8_t)(h >> 56);
}

/* peer_hash() of K's peer key: precomputed by event_key() for the events
 * that can need it, else computed here. */
static uint64_t
key_peer_hash(const struct model *m, const struct key *k)
{
	struct peer pk;

	if (k->has_ph)
		return k->ph;
	peer_key(m, k, &pk);
	return peer_hash(m, &pk);
}

static bool
peer_eq(const struct peer *a, const struct peer *b)
{
	return a->family == b->family &&
	    memcmp(a->client, b->client, 16) == 0 &&
	    memcmp(a->server, b->server, 16) == 0;
}

/* Index of the entry for PK (hash H), or NIL; *depth = chain entries
 * walked (the chain length when missing). */
static uint32_t
peer_find(const struct model *m, const struct peer *pk, uint64_t h,
    unsigned *depth)
{
	uint32_t bucket = (uint32_t)h & m->pbmask;
	unsigned d = 0;

	if (m->pslots) {
		const struct pslot *ps = &m->pslot[bucket];
		uint8_t tag = peer_tag(h);
		uint32_t base = bucket * PSLOTS;

		for (unsigned s = ps->n; s-- > 0;) {
			if (ps->tag[s] == tag &&
			    peer_eq(&m->peers[base + s], pk)) {
				*depth = ps->n - 1 - s;
				return base + s;
			}
		}
		*depth = ps->n;
		return NIL;
	}
	for (uint32_t i = m->pbucket[bucket]; i != NIL; i = m->peers[i].next) {
		if (peer_eq(&m->peers[i], pk)) {
			*depth = d;
			return i;
		}
		d++;
	}
	*depth = d;
	return NIL;
}

static void
peer_unhash(struct model *m, uint32_t i)
{
	uint32_t b = peer_bucket(m, &m->peers[i]);
	uint32_t *pp = &m->pbucket[b];

	while (*pp != i)
		pp = &m->peers[*pp].next;
	*pp = m->peers[i].next;
}

static void
peer_rekey(struct peer *p, const struct peer *pk, uint32_t now_s)
{
	memcpy(p->client, pk->client, 16);
	memcpy(p->server, pk->server, 16);
	p->family = pk->family;
	p->ts = p->stamp = 0;
	p->used = now_s;
}

/* Find or create the entry for PK (tcp_get_metrics(..., create=true)). */
static struct peer *
peer_get(struct model *m, const struct peer *pk, uint64_t h, uint32_t now_s)
{
	uint32_t b = (uint32_t)h & m->pbmask;
	unsigned depth;
	uint32_t i = peer_find(m, pk, h, &depth);
	struct peer *p;

	if (i != NIL) {
		p = &m->peers[i];
		p->used = now_s;
		plru_touch(m, i);
		return p;
	}
	if (m->pslots) {
		struct pslot *ps = &m->pslot[b];
		uint32_t base = b * PSLOTS;

		if (ps->n == PSLOTS) {
			/* tcpm_new(reclaim), as below; chain order is
			 * slot PSLOTS-1 first. */
			uint32_t old = base + PSLOTS - 1;
			for (unsigned s = PSLOTS - 1; s-- > 0;)
				if ((int32_t)(m->peers[base + s].used -
				    m->peers[old].used) < 0)
					old = base + s;
			ps->tag[old - base] = peer_tag(h);
			p = &m->peers[old];
			peer_rekey(p, pk, now_s);
			plru_touch(m, old);
			m->st.evictions[MODEL_T_PEERS]++;
			return p;
		}
		i = base + ps->n;
		ps->tag[ps->n++] = peer_tag(h);
		m->pused++;
		p = &m->peers[i];
		peer_rekey(p, pk, now_s);
		p->in_use = 1;
		plru_touch(m, i);
		return p;
	}
	if (m->b[MB_TCP_METRICS] && depth > TCPM_RECLAIM_DEPTH) {
		/* tcpm_new(reclaim): reuse the bucket's oldest entry in place,
		 * re-keyed and with its TS pair zeroed (tcpm_suck_dst). */
		uint32_t old = m->pbucket[b];
		for (uint32_t j = m->peers[old].next; j != NIL;
		    j = m->peers[j].next)
			if ((int32_t)(m->peers[j].used - m->peers[old].used) < 0)
				old = j;
		p = &m->peers[old];
		peer_rekey(p, pk, now_s);
		plru_touch(m, old);
		m->st.evictions[MODEL_T_PEERS]++;
		return p;
	}
	if (m->pfree == NIL && m->phw < m->pcap) {
		i = m->phw++;
		m->pused++;
	} else if (m->pfree == NIL) {
		/* inet_peer: a full pool frees unused entries at once (3.1+
		 * TTL 0 at the threshold); LRU stands in for the TTL scan. */
		i = lruq_victim(&m->plru, m->peers, sizeof(struct peer),
		    offsetof(struct peer, seq), m->pcap);
		peer_unhash(m, i);
		m->st.evictions[MODEL_T_PEERS]++;
	} else {
		i = m->pfree;
		m->pfree = m->peers[i].next;
		m->pused++;
	}
	p = &m->peers[i];
	peer_rekey(p, pk, now_s);
	p->in_use = 1;
	p->next = m->pbucket[b];
	m->pbucket[b] = i;
	plru_touch(m, i);
	return p;
}

static const struct peer *
peer_lookup(struct model *m, const struct peer *pk, uint64_t h)
{
	unsigned depth;
	uint32_t i = peer_find(m, pk, h, &depth);

	if (i == NIL)
		return NULL;
	if (!m->b[MB_TCP_METRICS])
		plru_touch(m, i);	/* inet_getpeer takes a reference */
	return &m->peers[i];
}

/* ------------------------------------------------------------------
 * Connection table
 */

/* The connection index hash. Placement only (no decision depends on
 * it): independent multiplies, then one finalising round. */
static inline uint32_t
conn_hash_words(uint64_t c0, uint64_t c1, uint64_t s0, uint64_t s1,
    uint16_t cport, uint16_t sport, uint8_t family)
{
	uint64_t x;

	x = (c0 ^ 0x2545f4914f6cdd1dULL) * 0x9e3779b97f4a7c15ULL +
	    (c1 ^ 0x7c3a9f1e15b2d4c7ULL) * 0xc2b2ae3d27d4eb4fULL +
	    (s0 ^ 0x165667b19e3779f9ULL) * 0xbf58476d1ce4e5b9ULL +
	    (s1 ^ 0x27d4eb2f165667c5ULL) * 0x94d049bb133111ebULL +
	    (((uint64_t)cport << 24 | (uint64_t)sport << 8 |
	    family) ^ 0x85ebca77c2b2ae63ULL) * 0xff51afd7ed558ccdULL;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 29;
	return (uint32_t)x;
}

static bool
conn_eq(const struct conn *c, const struct key *k)
{
	return c->hash == k->ch && c->cport == k->cport &&
	    c->sport == k->sport && c->family == k->family &&
	    memcmp(c->client, k->client, 16) == 0 &&
	    memcmp(c->server, k->server, 16) == 0;
}

static uint32_t
conn_find(const struct model *m, const struct key *k)
{
	uint32_t pos = k->ch & m->cidx.mask, i;

	while ((i = oat_next(&m->cidx, k->ch, &pos)) != NIL)
		if (conn_eq(&m->conns[i], k))
			return i;
	return NIL;
}

static void
conn_unhash(struct model *m, uint32_t i)
{
	oat_delete(&m->cidx, m->conns[i].hash, i);
}

static void
tw_expire(struct conn *c, uint64_t now)
{
	if ((c->flags & F_TW) && now >= c->tw_expiry_us)
		c->flags &= (uint8_t)~(F_TW | F_TW_ACKED);
}

/* A SYN still pending is settled: unanswered unless too recent to tell. */
static void
obs_settle(struct model *m, struct conn *c, uint64_t now, bool force)
{
	if (!(c->flags & F_OBS_PENDING))
		return;
	c->flags &= (uint8_t)~F_OBS_PENDING;
	if (force || now - c->obs_syn_us >= UNANSWERED_GRACE_US)
		m->st.observed_unanswered_syns++;
}

static void
conn_release(struct model *m, uint32_t i)
{
	conn_unhash(m, i);
	m->cseqs[i] = 0;
	m->conns[i].state = C_FREE;
	m->conns[i].next = m->cfree;
	m->cfree = i;
	m->cused--;
}

/* Free the entry once nothing in it can matter any more. */
static void
conn_maybe_free(struct model *m, uint32_t i)
{
	struct conn *c = &m->conns[i];

	if (c->state == C_ALIVE || c->state == C_REJECTED ||
	    (c->flags & (F_TW | F_OBS_PENDING)))
		return;
	conn_release(m, i);
}

static inline void
prefetch_entry(const void *p, size_t len)
{
	for (size_t o = 0; o < len; o += 64)
		__builtin_prefetch((const char *)p + o);
	__builtin_prefetch((const char *)p + len - 1);
}

/*
 * After an eviction: start loading the entry of the victim after next
 * and the index slot of the next one (whose entry the previous eviction
 * loaded), so an eviction rarely waits for either. Candidates may turn
 * out to have been touched since (then lruq skips them): hints only.
 * always_inline: a separate function holding only prefetches counts as
 * pure for GCC, which then drops the call as dead code.
 */
static inline __attribute__((always_inline)) void
prefetch_victims(const struct model *m)
{
	uint32_t v1 = lruq_peek_at(&m->clru, 0), v2 = lruq_peek_at(&m->clru, 1);

	if (v2 != NIL) {
		prefetch_entry(&m->conns[v2], sizeof(struct conn));
		__builtin_prefetch(&m->cseqs[v2]);
	}
	if (v1 != NIL)
		oat_prefetch(&m->cidx, m->conns[v1].hash);
}

static uint32_t
conn_new(struct model *m, const struct key *k, uint64_t now)
{
	uint32_t i;
	struct conn *c;

	if (m->cfree == NIL && m->chw < m->ccap) {
		i = m->chw++;
		c = &m->conns[i];
	} else {
		if (m->cfree == NIL) {
			i = lruq_victim(&m->clru, m->cseqs, sizeof(uint64_t),
			    0, m->ccap);
			c = &m->conns[i];
			tw_expire(c, now);
			/* Only state that could still change a verdict counts. */
			if (c->state == C_ALIVE || (c->flags & F_TW))
				m->st.evictions[MODEL_T_CONNECTIONS]++;
			obs_settle(m, c, now, false);
			conn_release(m, i);
			prefetch_victims(m);
		}
		i = m->cfree;
		c = &m->conns[i];
		m->cfree = c->next;
	}
	m->cused++;
	memset(c, 0, sizeof(*c));
	c->family = k->family;
	memcpy(c->client, k->client, 16);
	memcpy(c->server, k->server, 16);
	c->cport = k->cport;
	c->sport = k->sport;
	c->state = C_CLOSED;
	c->hash = k->ch;
	oat_insert(&m->cidx, k->ch, i);
	clru_touch(m, i);
	return i;
}

/* ------------------------------------------------------------------ */

static size_t
srctab_bytes(const struct model_config *cfg)
{
	return srctab_memory(cfg->max_sources);
}

static bool
peer_slots(const struct model_config *cfg)
{
	return model_config_behaviour(cfg, MB_TCP_METRICS) &&
	    cfg->max_peers >= PSLOTS;
}

size_t model_peer_entry_size(void) { return sizeof(struct peer); }
size_t model_conn_entry_size(void)
{
	return sizeof(struct conn) + sizeof(uint64_t);	/* + cseqs[] */
}
size_t model_source_entry_size(void) { return srctab_entry_size(); }

size_t
model_memory_bound(const struct model_config *cfg)
{
	size_t n = sizeof(struct model);

	n += model_table_bytes((size_t)cfg->max_peers * sizeof(struct peer));
	if (peer_slots(cfg))
		n += model_table_bytes((size_t)peer_buckets(cfg) *
		    sizeof(struct pslot));
	else
		n += model_table_bytes((size_t)peer_buckets(cfg) *
		    sizeof(uint32_t)) + lruq_memory(cfg->max_peers, PEER_LRU_SHIFT);
	n += model_table_bytes((size_t)cfg->max_connections *
	    sizeof(struct conn));
	n += model_table_bytes((size_t)cfg->max_connections *
	    sizeof(uint64_t));
	n += model_table_bytes(oat_slots(cfg->max_connections) *
	    sizeof(uint64_t));
	n += lruq_memory(cfg->max_connections, CONN_LRU_SHIFT);
	n += srctab_bytes(cfg);
	return n;
}

struct model *
model_new(const struct model_config *cfg, char *err, size_t errlen)
{
	struct model *m;

	if ((unsigned)cfg->profile >= MODEL_NPROFILES) {
		set_error(err, errlen, "bad profile %d", (int)cfg->profile);
		return NULL;
	}
	if (cfg->max_peers == 0 || cfg->max_connections == 0 ||
	    cfg->max_sources == 0 || cfg->max_peers > MODEL_CAP_LIMIT ||
	    cfg->max_connections > MODEL_CAP_LIMIT ||
	    cfg->max_sources > MODEL_CAP_LIMIT) {
		set_error(err, errlen, "table caps must be in 1..%u",
		    MODEL_CAP_LIMIT);
		return NULL;
	}
	if (cfg->nchanges > MODEL_MAX_CHANGES || cfg->server_rto_ms == 0) {
		set_error(err, errlen, "bad scheduled changes or RTO");
		return NULL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		set_error(err, errlen, "out of memory");
		return NULL;
	}
	m->cfg = *cfg;
	for (unsigned i = 0; i < MODEL_NBEHAVIOURS; i++)
		m->b[i] = model_config_behaviour(cfg, (enum model_behaviour)i);
	memcpy(m->setting, cfg->setting, sizeof(m->setting));
	/* tcp_time_wait: rto = (icsk_rto << 2) - (icsk_rto >> 1). */
	m->recycle_len_us = ((uint64_t)cfg->server_rto_ms * 4 -
	    cfg->server_rto_ms / 2) * 1000;

	m->pcap = cfg->max_peers;
	uint32_t nb = peer_buckets(cfg);
	m->pbmask = nb - 1;
	m->pnb = nb;
	m->peers = model_table_alloc((size_t)m->pcap * sizeof(*m->peers));
	m->pslots = peer_slots(cfg);
	if (m->pslots) {
		m->pslot = model_table_alloc((size_t)nb * sizeof(*m->pslot));
		m->pbucket = NULL;
	} else {
		m->pslot = NULL;
		m->pbucket = model_table_alloc((size_t)nb * sizeof(uint32_t));
		if (m->pbucket != NULL && lruq_init(&m->plru, m->pcap, PEER_LRU_SHIFT) < 0) {
			model_table_free(m->pbucket,
			    (size_t)nb * sizeof(uint32_t));
			m->pbucket = NULL;
		}
	}
	m->ccap = cfg->max_connections;
	size_t cb = oat_slots(cfg->max_connections);
	m->cidx.mask = (uint32_t)(cb - 1);
	m->conns = model_table_alloc((size_t)m->ccap * sizeof(*m->conns));
	m->cseqs = model_table_alloc((size_t)m->ccap * sizeof(uint64_t));
	m->cidx.s = model_table_alloc(cb * sizeof(uint64_t));
	if (m->cidx.s != NULL && lruq_init(&m->clru, m->ccap, CONN_LRU_SHIFT) < 0) {
		model_table_free(m->cidx.s, cb * sizeof(uint64_t));
		m->cidx.s = NULL;
	}
	m->src = srctab_new(cfg->max_sources);
	if (m->peers == NULL || (m->pbucket == NULL && m->pslot == NULL) ||
	    m->conns == NULL || m->cseqs == NULL || m->cidx.s == NULL ||
	    m->src == NULL) {
		model_free(m);
		set_error(err, errlen, "out of memory for the model tables "
		    "(%zu bytes)", model_memory_bound(cfg));
		return NULL;
	}
	if (m->pbucket != NULL)
		memset(m->pbucket, 0xff, (size_t)nb * sizeof(uint32_t));
	/*
	 * Entries are handed out in order up to a high-water mark before the
	 * free lists are used, so pages of the (zero-filled) tables stay
	 * untouched until needed: resident memory follows the traffic, not
	 * the caps.
	 */
	m->pfree = NIL;
	m->cfree = NIL;
	return m;
}

void
model_free(struct model *m)
{
	if (m == NULL)
		return;
	model_table_free(m->peers, (size_t)m->pcap * sizeof(*m->peers));
	model_table_free(m->pbucket, (size_t)m->pnb * sizeof(uint32_t));
	model_table_free(m->pslot, (size_t)m->pnb * sizeof(*m->pslot));
	lruq_free(&m->plru);
	model_table_free(m->conns, (size_t)m->ccap * sizeof(*m->conns));
	model_table_free(m->cseqs, (size_t)m->ccap * sizeof(uint64_t));
	model_table_free(m->cidx.s, ((size_t)m->cidx.mask + 1) *
	    sizeof(uint64_t));
	lruq_free(&m->clru);
	srctab_free(m->src);
	free(m);
}

/* ------------------------------------------------------------------
 * Event processing
 */

/*
 * One settings change, at the model's current time: the kernel reads its
 * sysctls per packet and forgets nothing when one changes, so neither
 * does the model (peer stamps, TIME-WAITs and pending SYNs are kept; a
 * stamp stored before tcp_timestamps goes to 0 keeps rejecting, §11.1).
 * Scheduled changes (apply_changes) and model_set_setting() both end here.
 */
static void
change_setting(struct model *m, unsigned which, int32_t value)
{
	m->setting[which] = value;
}

static void
apply_changes(struct model *m, uint64_t now)
{
	while (m->next_change < m->cfg.nchanges) {
		const struct model_change *ch = &m->cfg.change[m->next_change];
		if (now < m->t0_us || now - m->t0_us < ch->at_us)
			break;
		change_setting(m, ch->setting, ch->value);
		m->next_change++;
	}
}

int
model_set_setting(struct model *m, enum model_setting which, int32_t value)
{
	if ((unsigned)which >= MODEL_NSETTINGS || value < 0)
		return -1;
	change_setting(m, which, value);
	return 0;
}

int32_t
model_get_setting(const struct model *m, enum model_setting which)
{
	return (unsigned)which < MODEL_NSETTINGS ? m->setting[which] : -1;
}

static inline void
count(struct model *m, struct model_verdict *v, enum model_counter c)
{
	m->st.counters[c]++;
	v->counters |= (uint16_t)(1u << c);
}

/* The ACK a TIME-WAIT socket sends to an out-of-window segment. */
static void
tw_ack(struct model *m, struct conn *c, uint64_t now, bool limitable,
    struct model_verdict *v)
{
	if (m->b[MB_TW_ACK_RATELIMIT] && limitable && (c->flags & F_TW_ACKED)) {
		int64_t elapsed = (int64_t)(now - c->tw_last_ack_us);
		if (elapsed >= 0 && (uint64_t)elapsed < OOW_RATELIMIT_US) {
			count(m, v, MC_ACK_SKIPPED_TW);
			v->tw_ack = MODEL_TWACK_RATELIMITED;
			return;
		}
	}
	c->tw_last_ack_us = now;
	c->flags |= F_TW_ACKED;
	v->tw_ack = MODEL_TWACK_SENT;
	m->st.tw_acks++;
}

static void
tw_paws_count(struct model *m, struct model_verdict *v)
{
	count(m, v, m->b[MB_PAWS_TW_COUNTER] ? MC_PAWS_TIMEWAIT :
	    MC_PAWS_ESTAB);
}

/* PAWS on a TIME-WAIT (tcp_paws_reject with the TW's ts_recent). */
static bool
tw_paws_reject(const struct model *m, const struct conn *c, bool ts_cmp,
    uint32_t tsval, bool rst, uint32_t now_s)
{
	if (!ts_cmp || (int32_t)(c->tw_ts_recent - tsval) <= 0)
		return false;
	if (m->b[MB_PAWS_ZERO_TS_OK] && c->tw_ts_recent == 0)
		return false;
	if (rst && (uint32_t)(now_s - c->tw_ts_recent_stamp) >= TCP_PAWS_MSL)
		return false;
	return true;
}

static bool
tw_syn(struct model *m, struct conn *c, const struct tcp_event *ev,
    bool saw_ts, uint64_t now, uint32_t now_s, struct model_verdict *v)
{
	/* The TS option is parsed only when the old connection used TS. */
	bool ts_cmp = saw_ts && c->tw_ts_recent_stamp != 0;
	bool paws = tw_paws_reject(m, c, ts_cmp, ev->tsval, false, now_s);

	v->path = MODEL_PATH_TIMEWAIT;
	if (!paws && (seq_after(ev->seq, c->tw_rcv_nxt) ||
	    (ts_cmp && (int32_t)(c->tw_ts_recent - ev->tsval) < 0))) {
		c->flags &= (uint8_t)~(F_TW | F_TW_ACKED);
		return true;
	}
	if (paws) {
		v->reason = MODEL_R_TIMEWAIT_PAWS;
		tw_paws_count(m, v);
		c->tw_expiry_us = now + TW_LEN_US;
	} else {
		/* Maybe a new SYN with a random ISN below rcv_nxt: no re-arm. */
		v->reason = MODEL_R_TIMEWAIT_SEQ;
	}
	tw_ack(m, c, now, true, v);
	return false;
}

static bool
passive_check(struct model *m, const struct key *k, const struct tcp_event *ev,
    bool saw_ts, uint32_t now_s, struct model_verdict *v)
{
	struct peer pk;
	const struct peer *p;

	v->path = MODEL_PATH_LISTENER;
	if (!m->b[MB_PASSIVE_CHECK] || !m->setting[MS_TW_RECYCLE])
		return true;
	if (k->family == 6 && !m->b[MB_IPV6_CHECK])
		return true;
	if (!saw_ts && !m->b[MB_NO_TS_DROP])
		return true;	/* saw_tstamp precondition before 3.17 */
	peer_key(m, k, &pk);
	if ((p = peer_lookup(m, &pk, key_peer_hash(m, k))) == NULL)
		return true;
	if ((uint32_t)(now_s - p->stamp) >= TCP_PAWS_MSL)
		return true;	/* not fresh */
	if (saw_ts && (int32_t)(p->ts - ev->tsval) <= TCP_PAWS_WINDOW)
		return true;
	v->reason = MODEL_R_PASSIVE_PAWS;
	count(m, v, MC_PAWS_PASSIVE);
	if (m->b[MB_LISTEN_DROPS])
		count(m, v, MC_LISTEN_DROPS);
	return false;
}

static uint32_t
conn_id(uint16_t cport, uint32_t isn)
{
	return (uint32_t)mix64(((uint64_t)cport << 32) | isn);
}

static void
on_syn(struct model *m, const struct key *k, const struct tcp_event *ev,
    uint64_t now, uint32_t now_s, struct model_verdict *v)
{
	bool saw_ts = ev->has_ts && m->setting[MS_TIMESTAMPS] != 0;
	bool created, accept = true, existing = false;
	uint32_t ci, si;
	struct conn *c;

	m->st.syns++;
	if ((ci = conn_find(m, k)) == NIL)
		ci = conn_new(m, k, now);
	c = &m->conns[ci];
	clru_touch(m, ci);
	obs_settle(m, c, now, true);
	c->flags |= F_OBS_PENDING;
	c->obs_syn_us = now;
	tw_expire(c, now);
	v->timestamps = saw_ts;

	if ((c->flags & F_ATTEMPT) && c->isn == ev->seq &&
	    c->state == C_ALIVE) {
		/* Meets the request or child socket: no check. */
		v->decision = MODEL_ACCEPT;
		v->path = MODEL_PATH_EXISTING;
		existing = true;
	} else {
		if (!(c->flags & F_ATTEMPT) || c->isn != ev->seq) {
			m->st.connections++;
			c->isn = ev->seq;
			c->flags |= F_ATTEMPT;
		}
		if (c->flags & F_TW)
			accept = tw_syn(m, c, ev, saw_ts, now, now_s, v);
		else
			accept = passive_check(m, k, ev, saw_ts, now_s, v);
	}
	if (existing) {
		/* counted below */
	} else if (accept) {
		v->decision = MODEL_ACCEPT;
		c->state = C_ALIVE;
		c->flags &= (uint8_t)~(F_SERVER_FIN | F_CLIENT_FIN | F_TS_OK);
		c->ts_recent = ev->tsval;
		c->ts_recent_stamp = 0;
		if (saw_ts) {
			c->flags |= F_TS_OK;
			c->ts_recent_stamp = now_s;
		}
	} else {
		v->decision = MODEL_REJECT;
		c->state = C_REJECTED;
		m->st.predicted_rejections++;
		m->st.by_reason[v->reason]++;
	}

	/*
	 * The source last: nothing above reads it, so the miss on its entry
	 * (prefetched at the start of the event) overlaps the connection's
	 * and the peer's work instead of preceding it.
	 */
	si = srctab_get(m->src, k->sh, k->family, k->client, now, &created);
	if (ev->has_ts)
		srctab_point(m->src, si, now, ev->tsval,
		    conn_id(k->cport, ev->seq), k->cport);
	if (!accept && now - srctab_first_seen(m->src, si) < WARMUP_US) {
		v->warmup = 1;
		m->st.warmup++;
	}
	srctab_count(m->src, si, 1, accept ? 0 : 1);
}

/* Server as active closer: the client's FIN puts it in TIME-WAIT. */
static void
enter_timewait(struct model *m, const struct key *k, struct conn *c,
    const struct tcp_event *ev, uint64_t now, uint32_t now_s,
    struct model_verdict *v)
{
	bool recycle_ok = false;

	if (m->b[MB_PASSIVE_CHECK] && m->setting[MS_TW_RECYCLE] &&
	    c->ts_recent_stamp != 0 && (k->family == 4 || m->b[MB_IPV6_CHECK])) {
		struct peer pk;
		struct peer *p;

		peer_key(m, k, &pk);
		p = peer_get(m, &pk, key_peer_hash(m, k), now_s);
		/* The §2.2 update rule (tcp_remember_stamp). */
		if ((int32_t)(p->ts - c->ts_recent) <= 0 ||
		    ((uint32_t)(now_s - p->stamp) > TCP_PAWS_MSL &&
		    p->stamp <= c->ts_recent_stamp)) {
			p->ts = c->ts_recent;
			p->stamp = c->ts_recent_stamp;
			m->st.stamps_written++;
		}
		recycle_ok = true;
	}
	c->state = C_CLOSED;
	c->flags |= F_TW;
	c->flags &= (uint8_t)~F_TW_ACKED;
	c->tw_ts_recent = c->ts_recent;
	c->tw_ts_recent_stamp = c->ts_recent_stamp;
	c->tw_rcv_nxt = ev->seq + ev->payload_len + 1;
	c->tw_expiry_us = now + (recycle_ok ? m->recycle_len_us : TW_LEN_US);
	count(m, v, MC_TW);
}

/* A non-SYN client segment meeting a TIME-WAIT (§7; RST: §7.1). */
static void
tw_segment(struct model *m, uint32_t ci, const struct tcp_event *ev,
    uint64_t now, uint32_t now_s, struct model_verdict *v)
{
	struct conn *c = &m->conns[ci];
	bool rst = (ev->flags & TCPF_RST) != 0;
	bool saw_ts = ev->has_ts && m->setting[MS_TIMESTAMPS] != 0;
	bool ts_cmp = saw_ts && c->tw_ts_recent_stamp != 0;
	bool paws = tw_paws_reject(m, c, ts_cmp, ev->tsval, rst, now_s);
	uint32_t end = ev->seq + ev->payload_len +
	    ((ev->flags & TCPF_FIN) ? 1 : 0);

	if (!paws && ev->seq == c->tw_rcv_nxt && (end == ev->seq || rst)) {
		if (rst) {
			if (m->setting[MS_RFC1337] == 0) {
				/* TIME-WAIT assassination. */
				c->flags &= (uint8_t)~(F_TW | F_TW_ACKED);
				m->st.tw_killed++;
				conn_maybe_free(m, ci);
				return;
			}
			if (m->b[MB_RFC1337_RST_REARM])
				c->tw_expiry_us = now + TW_LEN_US;
		} else {
			c->tw_expiry_us = now + TW_LEN_US;
		}
		if (ts_cmp) {
			c->tw_ts_recent = ev->tsval;
			c->tw_ts_recent_stamp = now_s;
		}
		return;
	}
	if (paws)
		tw_paws_count(m, v);
	if (rst)
		return;
	if (paws || (ev->flags & TCPF_ACK))
		c->tw_expiry_us = now + TW_LEN_US;
	/* Data and FIN segments are not rate limited (tcp_oow_rate_limited). */
	tw_ack(m, c, now, end == ev->seq, v);
}

/*
 * The entry for a non-SYN segment. A closed 4-tuple without TIME-WAIT is
 * the same as an unknown one: a FIN there belongs to a connection older
 * than the capture (or evicted), adopted as open; anything else is
 * ignored (NIL).
 */
static uint32_t
conn_adopt(struct model *m, const struct key *k, const struct tcp_event *ev,
    uint32_t ci, uint64_t now)
{
	struct conn *c;

	if (ci != NIL) {
		c = &m->conns[ci];
		clru_touch(m, ci);
		tw_expire(c, now);
		if (c->state != C_CLOSED || (c->flags & F_TW))
			return ci;
	}
	if (!(ev->flags & TCPF_FIN) || (ev->flags & TCPF_RST))
		return NIL;
	if (ci == NIL)
		ci = conn_new(m, k, now);
	c = &m->conns[ci];
	c->state = C_ALIVE;
	c->flags &= F_OBS_PENDING;
	c->isn = 0;
	c->ts_recent = c->ts_recent_stamp = 0;
	/* Either side's TS option says TS were negotiated. */
	if (ev->has_ts && m->setting[MS_TIMESTAMPS] != 0)
		c->flags |= F_TS_OK;
	return ci;
}

static void
on_client(struct model *m, const struct key *k, const struct tcp_event *ev,
    uint64_t now, uint32_t now_s, struct model_verdict *v)
{
	uint32_t ci = conn_find(m, k);
	struct conn *c;

	if ((ci = conn_adopt(m, k, ev, ci, now)) == NIL)
		return;
	c = &m->conns[ci];
	if (c->flags & F_TW) {
		tw_segment(m, ci, ev, now, now_s, v);
		return;
	}
	if (c->state != C_ALIVE)
		return;		/* refused in the simulated world */
	/* tcp_replace_ts_recent: window 0, equal refreshes the stamp. */
	if ((c->flags & F_TS_OK) && ev->has_ts &&
	    (c->ts_recent_stamp == 0 ||
	    (int32_t)(c->ts_recent - ev->tsval) <= 0)) {
		c->ts_recent = ev->tsval;
		c->ts_recent_stamp = now_s;
	}
	if (ev->flags & TCPF_RST) {
		c->state = C_CLOSED;
		conn_maybe_free(m, ci);
		return;
	}
	if (!(ev->flags & TCPF_FIN) || (c->flags & F_CLIENT_FIN))
		return;
	if (ev->has_ts) {
		uint32_t si = srctab_find(m->src, k->sh, k->family, k->client);
		if (si != UINT32_MAX)
			srctab_point(m->src, si, now, ev->tsval,
			    conn_id(k->cport, c->isn), k->cport);
	}
	if (c->flags & F_SERVER_FIN)
		enter_timewait(m, k, c, ev, now, now_s, v);
	else
		c->flags |= F_CLIENT_FIN;
}

static void
on_server(struct model *m, const struct key *k, const struct tcp_event *ev,
    uint64_t now)
{
	uint32_t ci = conn_find(m, k);
	struct conn *c;

	if ((ev->flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK)) {
		if (ci != NIL)
			m->conns[ci].flags &= (uint8_t)~F_OBS_PENDING;
		return;
	}
	if ((ci = conn_adopt(m, k, ev, ci, now)) == NIL)
		return;
	c = &m->conns[ci];
	if ((c->flags & F_TW) || c->state != C_ALIVE)
		return;
	if (ev->flags & TCPF_RST) {
		c->state = C_CLOSED;
		conn_maybe_free(m, ci);
		return;
	}
	if (!(ev->flags & TCPF_FIN))
		return;
	if (c->flags & F_CLIENT_FIN) {
		/* Passive close: LAST-ACK writes no stamp (§2.1). */
		c->state = C_CLOSED;
		conn_maybe_free(m, ci);
	} else {
		c->flags |= F_SERVER_FIN;
	}
}

/*
 * Prefetching: the tables are far bigger than the caches and every
 * lookup is a dependent chain (bucket, then entry). Starting the
 * independent first loads of all tables an event needs at once overlaps
 * their misses. Hints only: nothing here changes state.
 */
static inline void
prefetch_conn(const struct model *m, const struct key *k)
{
	uint32_t pos = k->ch & m->cidx.mask;
	uint32_t i = oat_next(&m->cidx, k->ch, &pos);

	if (i != NIL)
		prefetch_entry(&m->conns[i], sizeof(struct conn));
}

/* LEVEL 0: the buckets (no dependent load); 1: the entries they point
 * to. */
static void
prefetch_key(const struct model *m, const struct key *k,
    const struct tcp_event *ev, int level)
{
	bool syn = ev->to_server &&
	    (ev->flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) == TCPF_SYN;
	bool src = syn || (ev->to_server && (ev->flags & TCPF_FIN) &&
	    ev->has_ts);

	/* (The next LRU victims are prefetched at each eviction.) */
	if (level == 0)
		oat_prefetch(&m->cidx, k->ch);
	else
		prefetch_conn(m, k);
	if (src)
		srctab_prefetch(m->src, k->sh, level);
	if (syn && m->pslots && m->b[MB_PASSIVE_CHECK] &&
	    m->setting[MS_TW_RECYCLE]) {
		uint64_t ph = key_peer_hash(m, k);
		const struct pslot *ps = &m->pslot[(uint32_t)ph & m->pbmask];

		if (level == 0) {
			__builtin_prefetch(ps);
		} else {
			uint32_t base = ((uint32_t)ph & m->pbmask) * PSLOTS;
			bool hit = false;

			for (unsigned s = 0; s < ps->n; s++)
				if (ps->tag[s] == peer_tag(ph)) {
					prefetch_entry(&m->peers[base + s],
					    sizeof(struct peer));
					hit = true;
				}
			/* A new peer in a full bucket: if the connection
			 * ends in TIME-WAIT, peer_get() reclaims the oldest
			 * of the bucket, reading all six entries. */
			if (!hit && ps->n == PSLOTS)
				prefetch_entry(&m->peers[base],
				    PSLOTS * sizeof(struct peer));
		}
	}
}

/* The 16-byte address at A as two words, IPv4 (4 bytes) zero-padded. */
static inline void
addr_words(uint8_t family, const uint8_t *a, uint64_t w[2])
{
	w[0] = w[1] = 0;
	if (family == 4)
		memcpy(w, a, 4);
	else
		memcpy(w, a, 16);
}

/* The table key of EV and its hashes; false when it has none. */
static inline bool
event_key(const struct model *m, const struct tcp_event *ev, struct key *k)
{
	const uint8_t *cl = ev->to_server ? ev->src : ev->dst;
	const uint8_t *sv = ev->to_server ? ev->dst : ev->src;

	if (ev->family != 4 && ev->family != 6)
		return false;
	uint64_t c[2], sw[2];

	/* Hash from locals: the words read back from *K right after the
	 * narrower stores that built them would miss store forwarding. */
	addr_words(ev->family, cl, c);
	addr_words(ev->family, sv, sw);
	k->family = ev->family;
	k->cw[0] = c[0];
	k->cw[1] = c[1];
	k->sw[0] = sw[0];
	k->sw[1] = sw[1];
	k->cport = ev->to_server ? ev->sport : ev->dport;
	k->sport = ev->to_server ? ev->dport : ev->sport;
	k->ch = conn_hash_words(c[0], c[1], sw[0], sw[1], k->cport, k->sport,
	    k->family);
	/* Only the client's segments reach the source table, and only its
	 * SYNs usually the peer table (prefetched); a FIN that enters
	 * TIME-WAIT computes the peer hash itself (key_peer_hash()). */
	k->sh = ev->to_server ? srctab_hash_words(k->family, c[0], c[1]) : 0;
	k->has_ph = false;
	if (ev->to_server && (ev->flags & TCPF_SYN) && m->b[MB_PASSIVE_CHECK]) {
		bool srv = m->b[MB_KEY_SERVER_ADDR];

		k->ph = peer_hash_words(m, k->family, c[0], c[1],
		    srv ? sw[0] : 0, srv ? sw[1] : 0);
		k->has_ph = true;
	}
	return true;
}

void
model_prefetch(const struct model *m, const struct tcp_event *ev, int level)
{
	struct key k;

	if (event_key(m, ev, &k))
		prefetch_key(m, &k, ev, level);
}

/* KNOWN: the caller computed EV's key (KP, NULL when EV has none) and
 * prefetched its lines. */
static inline void
feed_one(struct model *m, const struct tcp_event *ev,
    struct model_verdict *out, const struct key *kp, bool known)
{
	struct model_verdict v;
	struct key k;
	uint64_t now = ev->time_us;
	uint32_t now_s = (uint32_t)(now / USEC);

	memset(&v, 0, sizeof(v));
	m->st.packets++;
	if (!m->started) {
		m->started = true;
		m->t0_us = now;
	}
	if (now > m->last_us)
		m->last_us = now;
	apply_changes(m, now);
	if (!known) {
		if (!event_key(m, ev, &k))
			goto done;
		/* Start every table's miss at once, then the entries'. */
		prefetch_key(m, &k, ev, 0);
		prefetch_key(m, &k, ev, 1);
		kp = &k;
	} else if (kp == NULL) {
		goto done;
	}
	if (!ev->to_server)
		on_server(m, kp, ev, now);
	else if ((ev->flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) == TCPF_SYN)
		on_syn(m, kp, ev, now, now_s, &v);
	else
		on_client(m, kp, ev, now, now_s, &v);
done:
	if (out != NULL)
		*out = v;
}

void
model_feed(struct model *m, const struct tcp_event *ev,
    struct model_verdict *out)
{
	feed_one(m, ev, out, NULL, false);
}

#define FEED_AHEAD	16	/* events prefetched ahead (level 0) */
#define FEED_RING	32	/* keys kept: > FEED_AHEAD, a power of two */

/* Keys of the events in flight, each computed once (event_key() depends
 * only on the event and the profile's behaviours, fixed at model_new). */
struct key_ring {
	struct key k[FEED_RING];
	bool ok[FEED_RING];
};

static inline void
ring_fill(const struct model *m, struct key_ring *r, const struct tcp_event *ev,
    size_t j)
{
	size_t s = j & (FEED_RING - 1);

	if ((r->ok[s] = event_key(m, &ev[j], &r->k[s])))
		prefetch_key(m, &r->k[s], &ev[j], 0);
}

static inline void
ring_prefetch1(const struct model *m, const struct key_ring *r,
    const struct tcp_event *ev, size_t j)
{
	size_t s = j & (FEED_RING - 1);

	if (r->ok[s])
		prefetch_key(m, &r->k[s], &ev[j], 1);
}

void
model_feed_many(struct model *m, const struct tcp_event *ev, size_t n,
    struct model_verdict *out)
{
	struct key_ring r;

	for (size_t j = 0; j < n && j < FEED_AHEAD; j++)
		ring_fill(m, &r, ev, j);
	for (size_t j = 0; j < n && j < FEED_AHEAD / 2; j++)
		ring_prefetch1(m, &r, ev, j);
	for (size_t i = 0; i < n; i++) {
		size_t s = i & (FEED_RING - 1);

		if (i + 2 * FEED_AHEAD < n)
			__builtin_prefetch(&ev[i + 2 * FEED_AHEAD]);
		if (i + FEED_AHEAD < n)
			ring_fill(m, &r, ev, i + FEED_AHEAD);
		if (i + FEED_AHEAD / 2 < n)
			ring_prefetch1(m, &r, ev, i + FEED_AHEAD / 2);
		feed_one(m, &ev[i], out != NULL ? &out[i] : NULL,
		    r.ok[s] ? &r.k[s] : NULL, true);
	}
}

void
model_settle(struct model *m, uint64_t now_us)
{
	for (uint32_t i = 0; i < m->chw; i++) {
		struct conn *c = &m->conns[i];

		if ((c->flags & F_OBS_PENDING) && now_us >= c->obs_syn_us &&
		    now_us - c->obs_syn_us >= UNANSWERED_GRACE_US)
			obs_settle(m, c, now_us, false);
	}
}

void
model_finish(struct model *m)
{
	/* Order does not matter: each settled SYN adds one to a count. */
	for (uint32_t i = 0; i < m->ccap; i++)
		if (m->conns[i].state != C_FREE)
			obs_settle(m, &m->conns[i], m->last_us, false);
}

int
model_peer_get(const struct model *m, uint8_t family, const uint8_t server[16],
    const uint8_t client[16], uint32_t *ts, uint32_t *stamp)
{
	struct key k;
	struct peer pk;
	unsigned depth;
	uint32_t i;
	size_t alen = family == 4 ? 4 : 16;

	memset(&k, 0, sizeof(k));
	k.family = family;
	memcpy(k.client, client, alen);
	memcpy(k.server, server, alen);
	peer_key(m, &k, &pk);
	if ((i = peer_find(m, &pk, peer_hash(m, &pk), &depth)) == NIL)
		return -1;
	*ts = m->peers[i].ts;
	*stamp = m->peers[i].stamp;
	return 0;
}
