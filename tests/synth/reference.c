/*
 * Reference model, straight from docs/kernel.md. Deliberately naive:
 * every lookup is a linear scan, tables grow without bound, times are
 * kept as doubles of seconds where the kernel does not care about
 * precision and as whole seconds where it does.
 */
#include "reference.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The version facts of §0 / §9, one row per profile, in profile order. */
struct facts {
	bool recycle_exists;	/* tw_recycle before 4.12 */
	bool ipv6;		/* IPv6 checked and stamped from 3.1 */
	bool metrics;		/* tcp_metrics from 3.6 (eviction only) */
	bool listendrops;	/* from 3.8 */
	bool pair_key;		/* (local, remote) from 3.13 */
	bool nots_drop;		/* a26552afe894, 3.17 */
	bool ack_limit;		/* 4.1 */
	bool tw_counter;	/* PAWSTimewait from 6.16 */
	bool zero_ok;		/* tcp_paws_check ts_recent == 0 clause */
	bool rst_rearm;		/* rfc1337=1: ignored RST re-arms (4.x) */
};

static const struct facts table[9] = {
	/* 2.6.32-3.0 */ { true, false, false, false, false, false, false,
	    false, false, true },
	/* 3.1-3.5 */ { true, true, false, false, false, false, false, false,
	    true, true },
	/* 3.6-3.7 */ { true, true, true, false, false, false, false, false,
	    true, true },
	/* 3.8-3.12 */ { true, true, true, true, false, false, false, false,
	    true, true },
	/* 3.13-3.16 */ { true, true, true, true, true, false, false, false,
	    true, true },
	/* 3.17-4.0 */ { true, true, true, true, true, true, false, false,
	    true, true },
	/* 4.1-4.11 */ { true, true, true, true, true, true, true, false, true,
	    true },
	/* 4.12-6.15 */ { false, true, true, true, true, true, true, false,
	    true, false },
	/* 6.16+ */ { false, true, true, true, true, true, true, true, true,
	    false },
};

struct rpeer {
	int family;
	uint8_t remote[16], local[16];
	uint32_t ts, stamp;
};

enum rstate { R_NONE, R_OPEN, R_REFUSED, R_DONE };

struct rconn {
	int family;
	uint8_t c[16], s[16];
	unsigned cport, sport;
	enum rstate state;
	bool have_isn;
	uint32_t isn;
	bool ts_on;
	uint32_t ts_recent, ts_recent_stamp;
	bool srv_fin, cli_fin;
	/* TIME-WAIT socket */
	bool tw;
	double tw_until;
	uint32_t tw_ts, tw_ts_stamp, tw_rcv_nxt;
	bool tw_acked;
	double tw_ack_at;
};

struct ref {
	struct facts f;
	struct model_config cfg;
	int recycle, tstamps, rfc1337;
	unsigned next_change;
	bool started;
	uint64_t t0_us;
	struct rpeer *peers;
	size_t npeers, peers_cap;
	struct rconn *conns;
	size_t nconns, conns_cap;
	uint64_t rejections;
};

static bool
pick(int8_t ov, int8_t fix, bool dflt)
{
	if (ov >= 0)
		return ov != 0;
	if (fix >= 0)
		return fix != 0;
	return dflt;
}

struct ref *
ref_new(const struct model_config *cfg)
{
	struct ref *r = calloc(1, sizeof(*r));
	const struct facts *d;

	if (r == NULL || (unsigned)cfg->profile >= 9) {
		free(r);
		return NULL;
	}
	d = &table[cfg->profile];
	r->cfg = *cfg;
	r->f.recycle_exists = pick(cfg->override[MB_PASSIVE_CHECK],
	    cfg->version_fix[MB_PASSIVE_CHECK], d->recycle_exists);
	r->f.ipv6 = pick(cfg->override[MB_IPV6_CHECK],
	    cfg->version_fix[MB_IPV6_CHECK], d->ipv6);
	r->f.metrics = pick(cfg->override[MB_TCP_METRICS],
	    cfg->version_fix[MB_TCP_METRICS], d->metrics);
	r->f.listendrops = pick(cfg->override[MB_LISTEN_DROPS],
	    cfg->version_fix[MB_LISTEN_DROPS], d->listendrops);
	r->f.pair_key = pick(cfg->override[MB_KEY_SERVER_ADDR],
	    cfg->version_fix[MB_KEY_SERVER_ADDR], d->pair_key);
	r->f.nots_drop = pick(cfg->override[MB_NO_TS_DROP],
	    cfg->version_fix[MB_NO_TS_DROP], d->nots_drop);
	r->f.ack_limit = pick(cfg->override[MB_TW_ACK_RATELIMIT],
	    cfg->version_fix[MB_TW_ACK_RATELIMIT], d->ack_limit);
	r->f.tw_counter = pick(cfg->override[MB_PAWS_TW_COUNTER],
	    cfg->version_fix[MB_PAWS_TW_COUNTER], d->tw_counter);
	r->f.zero_ok = pick(cfg->override[MB_PAWS_ZERO_TS_OK],
	    cfg->version_fix[MB_PAWS_ZERO_TS_OK], d->zero_ok);
	r->f.rst_rearm = pick(cfg->override[MB_RFC1337_RST_REARM],
	    cfg->version_fix[MB_RFC1337_RST_REARM], d->rst_rearm);
	r->recycle = cfg->setting[MS_TW_RECYCLE];
	r->tstamps = cfg->setting[MS_TIMESTAMPS];
	r->rfc1337 = cfg->setting[MS_RFC1337];
	return r;
}

void
ref_free(struct ref *r)
{
	if (r == NULL)
		return;
	free(r->peers);
	free(r->conns);
	free(r);
}

uint64_t
ref_rejections(const struct ref *r)
{
	return r->rejections;
}

/* ---- peers -------------------------------------------------------- */

static struct rpeer *
find_peer(struct ref *r, int family, const uint8_t *remote,
    const uint8_t *local)
{
	for (size_t i = 0; i < r->npeers; i++) {
		struct rpeer *p = &r->peers[i];
		if (p->family != family || memcmp(p->remote, remote, 16) != 0)
			continue;
		if (r->f.pair_key && memcmp(p->local, local, 16) != 0)
			continue;
		return p;
	}
	return NULL;
}

static struct rpeer *
add_peer(struct ref *r, int family, const uint8_t *remote,
    const uint8_t *local)
{
	if (r->npeers == r->peers_cap) {
		size_t cap = r->peers_cap ? r->peers_cap * 2 : 16;
		struct rpeer *n = realloc(r->peers, cap * sizeof(*n));
		if (n == NULL)
			return NULL;
		r->peers = n;
		r->peers_cap = cap;
	}
	struct rpeer *p = &r->peers[r->npeers++];
	memset(p, 0, sizeof(*p));
	p->family = family;
	memcpy(p->remote, remote, 16);
	memcpy(p->local, local, 16);
	return p;
}

/* ---- connections -------------------------------------------------- */

static struct rconn *
find_conn(struct ref *r, int family, const uint8_t *c, unsigned cport,
    const uint8_t *s, unsigned sport)
{
	for (size_t i = 0; i < r->nconns; i++) {
		struct rconn *x = &r->conns[i];
		if (x->family == family && x->cport == cport &&
		    x->sport == sport && memcmp(x->c, c, 16) == 0 &&
		    memcmp(x->s, s, 16) == 0)
			return x;
	}
	return NULL;
}

static struct rconn *
add_conn(struct ref *r, int family, const uint8_t *c, unsigned cport,
    const uint8_t *s, unsigned sport)
{
	if (r->nconns == r->conns_cap) {
		size_t cap = r->conns_cap ? r->conns_cap * 2 : 16;
		struct rconn *n = realloc(r->conns, cap * sizeof(*n));
		if (n == NULL)
			return NULL;
		r->conns = n;
		r->conns_cap = cap;
	}
	struct rconn *x = &r->conns[r->nconns++];
	memset(x, 0, sizeof(*x));
	x->family = family;
	memcpy(x->c, c, 16);
	memcpy(x->s, s, 16);
	x->cport = cport;
	x->sport = sport;
	x->state = R_NONE;
	return x;
}

/* ---- the rules ---------------------------------------------------- */

static int32_t
s32(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/* §7 item 1, for a TIME-WAIT and a segment's TSval. */
static bool
tw_paws(const struct ref *r, const struct rconn *x, bool tscmp, uint32_t tsval,
    bool rst, uint32_t now)
{
	if (!tscmp)
		return false;
	if (s32(x->tw_ts, tsval) <= 0)
		return false;
	if (r->f.zero_ok && x->tw_ts == 0)
		return false;
	if (rst && now - x->tw_ts_stamp >= 60)
		return false;
	return true;
}

static void
tw_reply_ack(const struct ref *r, struct rconn *x, double t, bool limitable,
    struct ref_verdict *v)
{
	if (r->f.ack_limit && limitable && x->tw_acked &&
	    t - x->tw_ack_at >= 0 && (t - x->tw_ack_at) * 1e6 < 500000 - 0.5) {
		v->tw_ack = MODEL_TWACK_RATELIMITED;
		v->counters |= 1u << MC_ACK_SKIPPED_TW;
		return;
	}
	x->tw_acked = true;
	x->tw_ack_at = t;
	v->tw_ack = MODEL_TWACK_SENT;
}

static void
tw_count_paws(const struct ref *r, struct ref_verdict *v)
{
	v->counters |= 1u << (r->f.tw_counter ? MC_PAWS_TIMEWAIT :
	    MC_PAWS_ESTAB);
}

int
ref_feed(struct ref *r, const struct tcp_event *ev, struct ref_verdict *out)
{
	struct ref_verdict v = { 0, 0, 0, 0 };
	uint8_t c[16] = { 0 }, s[16] = { 0 };
	unsigned cport, sport;
	size_t n = ev->family == 4 ? 4 : 16;
	/* µs as an exact double of seconds is fine below 2^53 µs. */
	double t = (double)ev->time_us / 1e6;
	uint32_t now = (uint32_t)(ev->time_us / 1000000);
	struct rconn *x;

	if (!r->started) {
		r->started = true;
		r->t0_us = ev->time_us;
	}
	while (r->next_change < r->cfg.nchanges &&
	    ev->time_us - r->t0_us >= r->cfg.change[r->next_change].at_us) {
		const struct model_change *ch =
		    &r->cfg.change[r->next_change++];
		if (ch->setting == MS_TW_RECYCLE)
			r->recycle = ch->value;
		else if (ch->setting == MS_TIMESTAMPS)
			r->tstamps = ch->value;
		else
			r->rfc1337 = ch->value;
	}
	if (out)
		*out = v;
	if (ev->family != 4 && ev->family != 6)
		return 0;
	if (ev->to_server) {
		memcpy(c, ev->src, n);
		memcpy(s, ev->dst, n);
		cport = ev->sport;
		sport = ev->dport;
	} else {
		memcpy(c, ev->dst, n);
		memcpy(s, ev->src, n);
		cport = ev->dport;
		sport = ev->sport;
	}
	x = find_conn(r, ev->family, c, cport, s, sport);
	if (x != NULL && x->tw && t >= x->tw_until)
		x->tw = false;

	bool syn = (ev->flags & TCPF_SYN) != 0;
	bool ack = (ev->flags & TCPF_ACK) != 0;
	bool fin = (ev->flags & TCPF_FIN) != 0;
	bool rst = (ev->flags & TCPF_RST) != 0;
	/* The listener and TIME-WAIT parse the TS option only with
	 * tcp_timestamps on. */
	bool saw_ts = ev->has_ts && r->tstamps != 0;

	if (ev->to_server && syn && !ack && !rst) {
		if (x == NULL && (x = add_conn(r, ev->family, c, cport, s,
		    sport)) == NULL)
			return -1;
		if (x->have_isn && x->isn == ev->seq && x->state == R_OPEN) {
			v.decision = MODEL_ACCEPT;	/* request sock */
			goto out;
		}
		x->have_isn = true;
		x->isn = ev->seq;
		bool ok;
		if (x->tw) {
			bool tscmp = saw_ts && x->tw_ts_stamp != 0;
			bool paws = tw_paws(r, x, tscmp, ev->tsval, false, now);
			bool newer_seq = s32(ev->seq, x->tw_rcv_nxt) > 0;
			bool newer_ts = tscmp && s32(x->tw_ts, ev->tsval) < 0;
			ok = !paws && (newer_seq || newer_ts);
			if (ok) {
				x->tw = false;
			} else {
				if (paws) {
					v.reason = MODEL_R_TIMEWAIT_PAWS;
					tw_count_paws(r, &v);
					x->tw_until = t + 60;
				} else {
					v.reason = MODEL_R_TIMEWAIT_SEQ;
				}
				tw_reply_ack(r, x, t, true, &v);
			}
		} else {
			ok = true;
			bool checked = r->f.recycle_exists && r->recycle &&
			    (ev->family == 4 || r->f.ipv6) &&
			    (saw_ts || r->f.nots_drop);
			struct rpeer *p = checked ? find_peer(r, ev->family,
			    c, s) : NULL;
			if (p != NULL && now - p->stamp < 60 &&
			    (!saw_ts || s32(p->ts, ev->tsval) > 1)) {
				ok = false;
				v.reason = MODEL_R_PASSIVE_PAWS;
				v.counters |= 1u << MC_PAWS_PASSIVE;
				if (r->f.listendrops)
					v.counters |= 1u << MC_LISTEN_DROPS;
			}
		}
		if (ok) {
			v.decision = MODEL_ACCEPT;
			x->state = R_OPEN;
			x->srv_fin = x->cli_fin = false;
			x->ts_on = saw_ts;
			x->ts_recent = ev->tsval;
			x->ts_recent_stamp = saw_ts ? now : 0;
		} else {
			v.decision = MODEL_REJECT;
			x->state = R_REFUSED;
			r->rejections++;
		}
		goto out;
	}
	if (!ev->to_server && syn)
		goto out;	/* SYN-ACK: observation only */
	if (x == NULL || (x->state == R_DONE && !x->tw)) {
		if (!fin || rst)
			goto out;
		/* A connection that began before the capture. */
		if (x == NULL && (x = add_conn(r, ev->family, c, cport, s,
		    sport)) == NULL)
			return -1;
		x->state = R_OPEN;
		x->have_isn = false;
		x->srv_fin = x->cli_fin = false;
		x->ts_recent = x->ts_recent_stamp = 0;
		x->ts_on = ev->has_ts && r->tstamps != 0;
	}
	if (ev->to_server && x->tw) {
		bool tscmp = saw_ts && x->tw_ts_stamp != 0;
		bool paws = tw_paws(r, x, tscmp, ev->tsval, rst, now);
		uint32_t end = ev->seq + ev->payload_len + (fin ? 1 : 0);
		if (!paws && ev->seq == x->tw_rcv_nxt &&
		    (end == ev->seq || rst)) {
			if (rst && r->rfc1337 == 0) {
				x->tw = false;
				goto out;
			}
			if (!rst || r->f.rst_rearm)
				x->tw_until = t + 60;
			if (tscmp) {
				x->tw_ts = ev->tsval;
				x->tw_ts_stamp = now;
			}
			goto out;
		}
		if (paws)
			tw_count_paws(r, &v);
		if (!rst) {
			if (paws || ack)
				x->tw_until = t + 60;
			tw_reply_ack(r, x, t, end == ev->seq, &v);
		}
		goto out;
	}
	if (x->tw || x->state != R_OPEN)
		goto out;
	if (ev->to_server && x->ts_on && ev->has_ts &&
	    (x->ts_recent_stamp == 0 || s32(x->ts_recent, ev->tsval) <= 0)) {
		x->ts_recent = ev->tsval;
		x->ts_recent_stamp = now;
	}
	if (rst) {
		x->state = R_DONE;
		goto out;
	}
	if (!fin)
		goto out;
	if (!ev->to_server) {
		if (x->cli_fin)
			x->state = R_DONE;	/* LAST-ACK: no stamp */
		else
			x->srv_fin = true;
		goto out;
	}
	if (x->cli_fin)
		goto out;
	if (!x->srv_fin) {
		x->cli_fin = true;
		goto out;
	}
	/* Server closed first: TIME-WAIT (§2.1, §3.3), stamp (§2.2). */
	bool short_tw = false;
	if (r->f.recycle_exists && r->recycle && x->ts_recent_stamp != 0 &&
	    (ev->family == 4 || r->f.ipv6)) {
		struct rpeer *p = find_peer(r, ev->family, c, s);
		if (p == NULL && (p = add_peer(r, ev->family, c, s)) == NULL)
			return -1;
		bool newer = s32(p->ts, x->ts_recent) <= 0;
		bool expired = now - p->stamp > 60 &&
		    p->stamp <= x->ts_recent_stamp;
		if (newer || expired) {
			p->ts = x->ts_recent;
			p->stamp = x->ts_recent_stamp;
		}
		short_tw = true;
	}
	v.counters |= 1u << MC_TW;
	x->state = R_DONE;
	x->tw = true;
	x->tw_acked = false;
	x->tw_ts = x->ts_recent;
	x->tw_ts_stamp = x->ts_recent_stamp;
	x->tw_rcv_nxt = ev->seq + ev->payload_len + 1;
	x->tw_until = t + (short_tw ? 3.5 * r->cfg.server_rto_ms / 1000.0 : 60);
out:
	if (out)
		*out = v;
	return 0;
}
