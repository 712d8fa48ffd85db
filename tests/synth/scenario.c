/* Seeded in-memory scenario generator (see scenario.h). */
#include "scenario.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BASE_US	(1700000000ull * 1000000ull)
#define MAX_SRC	16
#define MAX_HOSTS 8

/*
 * xorshift64* (Vigna): the xorshift64 state step, output scrambled by a
 * multiply. Its low bits stay weak (the next output's low bits are a
 * function of this one's), so below() uses the high half: with the low
 * bits, "source = r1 % 512, host = r2 % 4" tied each source to one host
 * and a 512-source scenario had no NAT at all.
 */
uint64_t
scen_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static double
unif(uint64_t *s)
{
	return (double)(scen_rand(s) >> 11) / 9007199254740992.0;
}

static unsigned
below(uint64_t *s, unsigned n)
{
	/* The high half: the low bits of consecutive outputs are tied. */
	return n ? (unsigned)((scen_rand(s) >> 32) % n) : 0;
}

void
scen_random_params(uint64_t *rng, struct scen_params *p)
{
	static const double gaps[] = { 0.2, 1, 3, 10, 30 };

	p->nsources = 1 + below(rng, 4);
	p->max_hosts = 1 + below(rng, 3);
	p->nconns = 5 + below(rng, 40);
	p->nservers = 1 + below(rng, 2);
	p->port_pool = below(rng, 2) ? 2 + below(rng, 4) : 1000;
	p->mean_gap_s = gaps[below(rng, 5)];
	p->p_server_closes = unif(rng);
	p->p_client_rst = unif(rng) * 0.2;
	p->p_no_ts = below(rng, 3) == 0 ? unif(rng) * 0.5 : 0;
	p->p_per_conn = below(rng, 3) == 0 ? unif(rng) : 0;
	p->p_retrans = unif(rng) * 0.6;
	p->p_tw_rst = unif(rng) * 0.8;
	p->family = (int)(below(rng, 3) * 2);	/* 0, 2->4? fixed below */
	if (p->family == 2)
		p->family = 4;
	else if (p->family == 4)
		p->family = 6;
}

struct host {
	uint32_t rate;		/* ticks per second */
	uint32_t offset;
	bool no_ts, per_conn;
};

struct source {
	int family;
	uint8_t addr[16];
	unsigned nhosts;
	struct host h[MAX_HOSTS];
	/* last connection on each reused port: for the TIME-WAIT RST */
	uint32_t last_rcv_nxt[8];
	bool have_last[8];
};

static int
push(struct scenario *s, const struct tcp_event *e)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct tcp_event *n = realloc(s->ev, cap * sizeof(*n));
		if (n == NULL)
			return -1;
		s->ev = n;
		s->cap = cap;
	}
	s->ev[s->n++] = *e;
	return 0;
}

static int
cmp_time(const void *a, const void *b)
{
	const struct tcp_event *x = a, *y = b;

	if (x->time_us != y->time_us)
		return x->time_us < y->time_us ? -1 : 1;
	/* Same microsecond: keep generation order (stored in ack). */
	return x->ack < y->ack ? -1 : x->ack > y->ack;
}

static void
mkev(struct tcp_event *e, uint64_t t, const struct source *src,
    const uint8_t *srv, uint16_t cport, int to_server, uint8_t flags,
    uint32_t seq, const struct host *h, uint32_t off, double tsec)
{
	size_t n = src->family == 4 ? 4 : 16;

	memset(e, 0, sizeof(*e));
	e->time_us = t;
	e->family = (uint8_t)src->family;
	e->flags = flags;
	e->to_server = (uint8_t)to_server;
	e->seq = seq;
	if (to_server) {
		memcpy(e->src, src->addr, n);
		memcpy(e->dst, srv, n);
		e->sport = cport;
		e->dport = 443;
		if (!h->no_ts && !(flags & TCPF_RST)) {
			e->has_ts = 1;
			e->tsval = off + (uint32_t)(uint64_t)(tsec * h->rate);
		}
	} else {
		memcpy(e->src, srv, n);
		memcpy(e->dst, src->addr, n);
		e->sport = 443;
		e->dport = cport;
		e->has_ts = !h->no_ts;
		e->tsval = 12345;
	}
}

int
scen_generate(uint64_t seed, const struct scen_params *p,
    struct scenario *out)
{
	static const uint32_t rates[] = { 1, 10, 100, 250, 300, 1000,
	    1000000 };
	uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 0x1234567;
	struct source src[MAX_SRC];
	unsigned nsrc = p->nsources > MAX_SRC ? MAX_SRC : p->nsources;
	double t = 0;
	uint32_t order = 0;
	struct tcp_event e;

	memset(out, 0, sizeof(*out));
	if (rng == 0)
		rng = 1;
	for (unsigned i = 0; i < nsrc; i++) {
		struct source *s = &src[i];
		memset(s, 0, sizeof(*s));
		s->family = p->family ? p->family : (below(&rng, 2) ? 4 : 6);
		if (s->family == 4) {
			s->addr[0] = 198;
			s->addr[1] = 51;
			s->addr[2] = 100;
			s->addr[3] = (uint8_t)(1 + i);
		} else {
			s->addr[0] = 0x20;
			s->addr[1] = 0x01;
			s->addr[2] = 0x0d;
			s->addr[3] = 0xb8;
			s->addr[15] = (uint8_t)(1 + i);
		}
		s->nhosts = 1 + below(&rng, p->max_hosts > MAX_HOSTS ?
		    MAX_HOSTS : p->max_hosts);
		for (unsigned k = 0; k < s->nhosts; k++) {
			struct host *h = &s->h[k];
			h->rate = rates[below(&rng, 7)];
			h->offset = (uint32_t)scen_rand(&rng);
			h->no_ts = unif(&rng) < p->p_no_ts;
			h->per_conn = unif(&rng) < p->p_per_conn;
		}
	}
	/* Both servers exist in both families; events use the source's. */
	uint8_t srv4[2][16] = { { 10, 0, 0, 1 }, { 10, 0, 0, 2 } };
	uint8_t srv6[2][16] = { { 0x20, 0x01, 0x0d, 0xb8, [15] = 0xa1 },
	    { 0x20, 0x01, 0x0d, 0xb8, [15] = 0xa2 } };

	for (unsigned c = 0; c < p->nconns; c++) {
		struct source *s = &src[below(&rng, nsrc)];
		struct host *h = &s->h[below(&rng, s->nhosts)];
		unsigned si = below(&rng, p->nservers ? p->nservers : 1);
		const uint8_t *sv = s->family == 4 ? srv4[si] : srv6[si];
		unsigned pool = p->port_pool ? p->port_pool : 1;
		unsigned pi = below(&rng, pool);
		uint16_t cport = (uint16_t)(30000 + pi);
		uint32_t off = h->per_conn ? (uint32_t)scen_rand(&rng) :
		    h->offset;
		uint32_t isn = (uint32_t)scen_rand(&rng);
		uint64_t t0;
		double gap = -log(1.0 - unif(&rng)) * p->mean_gap_s;

		t += gap;
		t0 = BASE_US + (uint64_t)(t * 1e6) + below(&rng, 1000);
		double ts0 = (double)(t0 - BASE_US) / 1e6;

		/* SYN and retransmissions at +1, +3, +7, +15 s. */
		unsigned nretr = unif(&rng) < p->p_retrans ?
		    1 + below(&rng, 4) : 0;
		static const double rt[] = { 0, 1, 3, 7, 15 };
		for (unsigned k = 0; k <= nretr; k++) {
			uint64_t tk = t0 + (uint64_t)(rt[k] * 1e6);
			mkev(&e, tk, s, sv, cport, 1, TCPF_SYN, isn, h, off,
			    ts0 + rt[k]);
			e.ack = order++;
			if (push(out, &e) != 0)
				return -1;
			/* The client's RST to a TIME-WAIT's challenge ACK. */
			if (pi < 8 && s->have_last[pi] && unif(&rng) < p->p_tw_rst) {
				mkev(&e, tk + 10000, s, sv, cport, 1, TCPF_RST,
				    s->last_rcv_nxt[pi], h, off, ts0 + rt[k]);
				e.ack = order++;
				if (push(out, &e) != 0)
					return -1;
			}
		}
		double tend = rt[nretr];
		uint64_t ta = t0 + (uint64_t)(tend * 1e6) + 300;
		mkev(&e, ta, s, sv, cport, 0, TCPF_SYN | TCPF_ACK, 777, h, 0,
		    0);
		e.ack = order++;
		if (push(out, &e) != 0)
			return -1;

		/* Duration, then the close. */
		double dur = 0.05 + unif(&rng) * (below(&rng, 4) ? 5 : 120);
		uint64_t tc = ta + (uint64_t)(dur * 1e6);
		double tcs = (double)(tc - BASE_US) / 1e6;
		uint32_t cfin = isn + 1 + below(&rng, 100000);
		if (unif(&rng) < p->p_client_rst) {
			mkev(&e, tc, s, sv, cport, 1, TCPF_RST | TCPF_ACK,
			    cfin, h, off, tcs);
			e.ack = order++;
			if (push(out, &e) != 0)
				return -1;
			continue;
		}
		bool server_first = unif(&rng) < p->p_server_closes;
		uint64_t t2 = tc + 200 + below(&rng, 50000);
		double t2s = (double)(t2 - BASE_US) / 1e6;
		if (server_first) {
			mkev(&e, tc, s, sv, cport, 0, TCPF_FIN | TCPF_ACK, 9, h,
			    0, 0);
			e.ack = order++;
			if (push(out, &e) != 0)
				return -1;
			mkev(&e, t2, s, sv, cport, 1, TCPF_FIN | TCPF_ACK,
			    cfin, h, off, t2s);
		} else {
			mkev(&e, tc, s, sv, cport, 1, TCPF_FIN | TCPF_ACK,
			    cfin, h, off, tcs);
			e.ack = order++;
			if (push(out, &e) != 0)
				return -1;
			mkev(&e, t2, s, sv, cport, 0, TCPF_FIN | TCPF_ACK, 9, h,
			    0, 0);
		}
		e.ack = order++;
		if (push(out, &e) != 0)
			return -1;
		if (pi < 8) {
			s->have_last[pi] = server_first;
			s->last_rcv_nxt[pi] = cfin + 1;
		}
	}
	qsort(out->ev, out->n, sizeof(out->ev[0]), cmp_time);
	for (size_t i = 0; i < out->n; i++)
		out->ev[i].ack = 0;
	return 0;
}

void
scen_free(struct scenario *s)
{
	free(s->ev);
	memset(s, 0, sizeof(*s));
}
