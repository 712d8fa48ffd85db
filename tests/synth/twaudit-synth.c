/*
 * twaudit-synth: write a capture of server-side traffic for a described
 * scenario, and the outcome the independent reference (reference.c, not
 * the model) expects for it.
 *
 * The server is simulated: every packet goes through a reference kernel
 * with the "real" profile and settings (--kernel, --set) as it is
 * generated, and the server's answers follow its verdicts: a SYN-ACK for
 * an accepted SYN, silence for a passive (tw_recycle) drop, a bare ACK
 * from a TIME-WAIT socket (which the client answers with an RST, seq =
 * the ACK's ack) for a TIME-WAIT refusal. Clients retransmit refused
 * SYNs at +1, +3, +7, +15, +31, +63 s (Linux defaults, --retries). So a
 * replay with the same profile and settings must predict exactly the
 * SYNs that went unanswered.
 *
 * The expected-outcome JSON (--expect) has the reference's counts for the
 * real settings and, for the what-if table, every profile x {as given,
 * tw_recycle=1, tw_recycle=0, tcp_timestamps=0@60} run open-loop over the
 * same packets, plus per-source counts and the true host counts.
 *
 * --flood N adds N spoofed SYNs (distinct source addresses, SYN only,
 * never answered) spread over the capture; they are not simulated, and
 * the real traffic is the same with or without them (separate RNG).
 * --no-reference answers every SYN (for benchmark captures; no --expect).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "lib/cli.h"
#include "model/model.h"
#include "pcapw.h"
#include "reference.h"
#include "scenario.h"

#define BASE_S		1700000000ull
#define MAX_SOURCES	100000
#define MAX_HOSTS	64
#define MAX_SERVERS	4
#define MAX_RATES	8
#define SERVER_PORT	443
#define SYNACK_US	300
#define TWACK_US	50
#define CLIENT_RST_US	100
#define HS_ACK_US	600

enum close_mode { CL_SERVER, CL_CLIENT, CL_RST, CL_NONE };

struct host {
	uint32_t rate;		/* TS ticks per second */
	uint32_t offset;
	bool no_ts, per_conn;
};

struct source {
	uint8_t family;
	uint8_t addr[16];
	unsigned nhosts;
	struct host *h;
	uint64_t syns, rejections, conns;
	unsigned per_conn_hosts;
};

struct plan {
	unsigned src, host, server;
	uint16_t cport;
	uint32_t isn;
	uint32_t off;		/* TS offset of this connection */
	double t0;		/* first SYN, seconds from the start */
	int retries;
	enum close_mode close;
	double dur;		/* SYN-ACK to the first FIN */
	double t_close;		/* > 0: first FIN at this time instead */
	double fin_gap;		/* first FIN to the second */
	bool fixed_ts;		/* every TSval of this connection = fixed */
	uint32_t fixed_tsval;
	/* state */
	int k;			/* SYNs sent */
	bool accepted;
	uint32_t cfin_seq;
};

enum akind { A_START, A_SYN, A_SYNACK, A_HSACK, A_TWACK, A_CRST, A_FIN1, A_FIN2,
	A_FINAL };

struct action {
	uint64_t t_us;
	uint64_t seq;
	uint32_t conn;
	uint8_t kind;
	uint32_t arg;
};

struct heap {
	struct action *a;
	size_t n, cap;
};

struct gen {
	/* parameters */
	unsigned nsrc, hosts;
	bool hosts_random;
	uint32_t rates[MAX_RATES];
	unsigned nrates;
	bool zero_offsets, per_pair;
	double p_per_conn, p_no_ts, p_server_closes, p_client_rst;
	unsigned nservers, ports, retries;
	double rate, duration, mean_dur;
	unsigned long nconns;
	int family;		/* 4, 6, 0 = both */
	bool simulate;
	/* state */
	uint64_t rng;
	struct source *src;
	struct plan *plans;
	size_t nplans;
	struct heap h;
	uint64_t seq;
	struct ref *ref;
	struct model_config cfg;
	/* port busy-until and last TIME-WAIT rcv_nxt per (source, port) */
	double *busy;
	uint32_t *last_rcv_nxt;
	/* output */
	struct tcp_event *ev;
	size_t nev, evcap;
	uint64_t syns, syn_rejected, by_reason[MODEL_NREASONS], packets;
	uint64_t connections, unanswered;
	uint64_t no_port;	/* connections not made: NAT out of ports */
};

static uint8_t srv4[MAX_SERVERS][16] = { { 10, 0, 0, 1 }, { 10, 0, 0, 2 },
	{ 10, 0, 0, 3 }, { 10, 0, 0, 4 } };
static uint8_t srv6[MAX_SERVERS][16] = {
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x04 } };

static void
die(const char *msg)
{
	fprintf(stderr, "twaudit-synth: %s\n", msg);
	exit(1);
}

static void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (p == NULL)
		die("out of memory");
	return p;
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

static uint64_t
to_us(double t)
{
	return BASE_S * 1000000ull + (uint64_t)llround(t * 1e6);
}

/* ---- heap of pending actions (time, then insertion order) ---------- */

static bool
before(const struct action *x, const struct action *y)
{
	return x->t_us != y->t_us ? x->t_us < y->t_us : x->seq < y->seq;
}

static void
schedule(struct gen *g, double t, uint32_t conn, enum akind kind,
    uint32_t arg)
{
	struct heap *h = &g->h;
	size_t i;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->a = realloc(h->a, h->cap * sizeof(*h->a));
		if (h->a == NULL)
			die("out of memory");
	}
	i = h->n++;
	h->a[i] = (struct action){ to_us(t), g->seq++, conn, (uint8_t)kind,
	    arg };
	while (i > 0 && before(&h->a[i], &h->a[(i - 1) / 2])) {
		struct action tmp = h->a[i];
		h->a[i] = h->a[(i - 1) / 2];
		h->a[(i - 1) / 2] = tmp;
		i = (i - 1) / 2;
	}
}

static bool
pop(struct gen *g, struct action *out)
{
	struct heap *h = &g->h;
	size_t i = 0;

	if (h->n == 0)
		return false;
	*out = h->a[0];
	h->a[0] = h->a[--h->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && before(&h->a[l], &h->a[m]))
			m = l;
		if (r < h->n && before(&h->a[r], &h->a[m]))
			m = r;
		if (m == i)
			break;
		struct action tmp = h->a[i];
		h->a[i] = h->a[m];
		h->a[m] = tmp;
		i = m;
	}
	return true;
}

/* ---- packets --------------------------------------------------------- */

static double
t_of(uint64_t us)
{
	return (double)(us - BASE_S * 1000000ull) / 1e6;
}

static uint32_t
tsval_at(const struct gen *g, const struct plan *p, double t)
{
	const struct host *h = &g->src[p->src].h[p->host];

	if (p->fixed_ts)
		return p->fixed_tsval;
	return p->off + (uint32_t)(uint64_t)(t * h->rate);
}

static void
emit(struct gen *g, struct tcp_event *e)
{
	if (g->nev == g->evcap) {
		g->evcap = g->evcap ? g->evcap * 2 : 4096;
		g->ev = realloc(g->ev, g->evcap * sizeof(*g->ev));
		if (g->ev == NULL)
			die("out of memory");
	}
	g->ev[g->nev++] = *e;
	if (e->flags & (TCPF_SYN | TCPF_FIN | TCPF_RST))
		g->packets++;
}

static void
mkev(struct gen *g, struct tcp_event *e, uint64_t t_us, const struct plan *p,
    bool to_server, uint8_t flags, uint32_t seq, uint32_t ack)
{
	const struct source *s = &g->src[p->src];
	const struct host *h = &s->h[p->host];
	const uint8_t *sv = s->family == 4 ? srv4[p->server] : srv6[p->server];
	size_t n = s->family == 4 ? 4 : 16;

	memset(e, 0, sizeof(*e));
	e->time_us = t_us;
	e->family = s->family;
	e->flags = flags;
	e->to_server = to_server;
	e->seq = seq;
	e->ack = ack;
	if (to_server) {
		memcpy(e->src, s->addr, n);
		memcpy(e->dst, sv, n);
		e->sport = p->cport;
		e->dport = SERVER_PORT;
		if (!h->no_ts && !(flags & TCPF_RST)) {
			e->has_ts = 1;
			e->tsval = tsval_at(g, p, t_of(t_us));
		}
	} else {
		memcpy(e->src, sv, n);
		memcpy(e->dst, s->addr, n);
		e->sport = SERVER_PORT;
		e->dport = p->cport;
		if (!h->no_ts) {
			e->has_ts = 1;
			e->tsval = (uint32_t)(t_us / 1000);
			e->tsecr = tsval_at(g, p, t_of(t_us));
		}
	}
}

static size_t
port_slot(const struct gen *g, const struct plan *p)
{
	return ((size_t)p->src * MAX_SERVERS + p->server) * g->ports +
	    (size_t)(p->cport - 30000u) % g->ports;
}

/* Feed the reference (the real server) and note the outcome. */
static struct ref_verdict
server_sees(struct gen *g, struct tcp_event *e)
{
	struct ref_verdict v = { 0, 0, 0, 0 };

	/* Like replay, the reference sees what the BPF filter passes. */
	if (!(e->flags & (TCPF_SYN | TCPF_FIN | TCPF_RST)))
		return v;
	if (g->simulate && ref_feed(g->ref, e, &v) < 0)
		die("reference: out of memory");
	if (!g->simulate && e->to_server && (e->flags & (TCPF_SYN | TCPF_ACK |
	    TCPF_RST)) == TCPF_SYN)
		v.decision = MODEL_ACCEPT;
	return v;
}

static void
run_action(struct gen *g, const struct action *a)
{
	struct plan *p = &g->plans[a->conn];
	struct source *s = &g->src[p->src];
	double t = t_of(a->t_us);
	struct tcp_event e;
	struct ref_verdict v;

	switch (a->kind) {
	case A_START: {
		/* A NAT does not reuse a port still in use. */
		struct action syn = *a;
		unsigned first = below(&g->rng, g->ports), k;
		for (k = 0; k < g->ports; k++) {
			p->cport = (uint16_t)(30000 + (first + k) % g->ports);
			if (g->busy[port_slot(g, p)] < t)
				break;
		}
		if (k == g->ports) {
			g->no_port++;	/* every port busy: no connection */
			break;
		}
		g->busy[port_slot(g, p)] = 1e18;	/* until it closes */
		syn.kind = A_SYN;
		run_action(g, &syn);
		break;
	}
	case A_SYN:
		mkev(g, &e, a->t_us, p, true, TCPF_SYN, p->isn, 0);
		v = server_sees(g, &e);
		emit(g, &e);
		g->syns++;
		s->syns++;
		if (p->k++ == 0) {
			g->connections++;
			s->conns++;
		}
		if (v.decision == MODEL_ACCEPT) {
			p->accepted = true;
			schedule(g, t + SYNACK_US / 1e6, a->conn, A_SYNACK, 0);
			break;
		}
		g->syn_rejected++;
		g->unanswered++;
		s->rejections++;
		if (v.reason < MODEL_NREASONS)
			g->by_reason[v.reason]++;
		if (v.tw_ack == MODEL_TWACK_SENT)
			schedule(g, t + TWACK_US / 1e6, a->conn, A_TWACK, 0);
		if (p->k <= p->retries) {
			/* Linux SYN retransmissions: 1 s, doubling. */
			double next = p->t0 + (double)((1u << p->k) - 1);
			schedule(g, next, a->conn, A_SYN, 0);
		} else {
			g->busy[port_slot(g, p)] = t;
		}
		break;
	case A_SYNACK:
		mkev(g, &e, a->t_us, p, false, TCPF_SYN | TCPF_ACK, 777777,
		    p->isn + 1);
		server_sees(g, &e);
		emit(g, &e);
		schedule(g, t + (HS_ACK_US - SYNACK_US) / 1e6, a->conn, A_HSACK,
		    0);
		if (p->close != CL_NONE) {
			double tc = p->t_close > 0 && p->t_close > t ?
			    p->t_close : t + p->dur;
			schedule(g, tc, a->conn, A_FIN1, 0);
		}
		break;
	case A_HSACK:
		/* The handshake's ACK: filtered by replay's BPF. */
		mkev(g, &e, a->t_us, p, true, TCPF_ACK, p->isn + 1, 777778);
		emit(g, &e);
		break;
	case A_TWACK: {
		/* The TIME-WAIT's bare ACK, and the client's RST to it. */
		uint32_t rn = g->last_rcv_nxt[port_slot(g, p)];
		mkev(g, &e, a->t_us, p, false, TCPF_ACK, 555555, rn);
		server_sees(g, &e);
		emit(g, &e);
		schedule(g, t + (CLIENT_RST_US - TWACK_US) / 1e6, a->conn,
		    A_CRST, rn);
		break;
	}
	case A_CRST:
		mkev(g, &e, a->t_us, p, true, TCPF_RST, a->arg, 0);
		server_sees(g, &e);
		emit(g, &e);
		break;
	case A_FIN1:
	case A_FIN2: {
		bool second = a->kind == A_FIN2;
		p->cfin_seq = p->isn + 1 + 1000;
		if (p->close == CL_RST) {
			mkev(g, &e, a->t_us, p, true, TCPF_RST | TCPF_ACK,
			    p->cfin_seq, 777778);
			server_sees(g, &e);
			emit(g, &e);
			g->busy[port_slot(g, p)] = t;
			break;
		}
		bool client = (p->close == CL_CLIENT) != second;
		if (client)
			mkev(g, &e, a->t_us, p, true, TCPF_FIN | TCPF_ACK,
			    p->cfin_seq, 777778 + 500);
		else
			mkev(g, &e, a->t_us, p, false, TCPF_FIN | TCPF_ACK,
			    777778 + 500, p->cfin_seq);
		server_sees(g, &e);
		emit(g, &e);
		if (!second) {
			schedule(g, t + p->fin_gap, a->conn, A_FIN2, 0);
		} else {
			g->busy[port_slot(g, p)] = t;
			if (p->close == CL_SERVER)
				g->last_rcv_nxt[port_slot(g, p)] =
				    p->cfin_seq + 1;
		}
		break;
	}
	case A_FINAL: {
		/* An RST on no connection from a monitor address, so that
		 * the capture runs 2 s past the last SYN: pending SYNs are
		 * then judged unanswered. Ignored by model and reference. */
		struct plan q = *p;
		q.src = g->nsrc;
		q.host = 0;
		q.server = 0;
		q.cport = 9;
		mkev(g, &e, a->t_us, &q, true, TCPF_RST, 1, 0);
		server_sees(g, &e);
		emit(g, &e);
		break;
	}
	}
}

/* ---- scenario set-up -------------------------------------------------- */

static void
set_addr(struct source *s, int family, unsigned i)
{
	memset(s->addr, 0, sizeof(s->addr));
	s->family = (uint8_t)family;
	if (family == 4) {
		s->addr[0] = 198;
		s->addr[1] = (uint8_t)(18 + (i >> 16));
		s->addr[2] = (uint8_t)(i >> 8);
		s->addr[3] = (uint8_t)i;
	} else {
		s->addr[0] = 0x20;
		s->addr[1] = 0x01;
		s->addr[2] = 0x0d;
		s->addr[3] = 0xb8;
		s->addr[4] = 0x00;
		s->addr[5] = 0x51;
		s->addr[13] = (uint8_t)(i >> 16);
		s->addr[14] = (uint8_t)(i >> 8);
		s->addr[15] = (uint8_t)i;
	}
}

static struct plan *
new_plan(struct gen *g)
{
	struct plan *p;

	if (g->nplans % 1024 == 0) {
		g->plans = realloc(g->plans, (g->nplans + 1024) *
		    sizeof(*g->plans));
		if (g->plans == NULL)
			die("out of memory");
	}
	p = &g->plans[g->nplans++];
	memset(p, 0, sizeof(*p));
	p->retries = (int)g->retries;
	p->fin_gap = 0.002;
	p->isn = (uint32_t)scen_rand(&g->rng);
	return p;
}

/* Sources with hosts; one extra source (index nsrc) is the monitor. */
static void
setup_sources(struct gen *g, unsigned nsrc)
{
	g->nsrc = nsrc;
	g->src = xcalloc(nsrc + 1, sizeof(*g->src));
	for (unsigned i = 0; i <= nsrc; i++) {
		struct source *s = &g->src[i];
		int fam = g->family ? g->family : (below(&g->rng, 2) ? 4 : 6);
		unsigned nh = g->hosts ? g->hosts : 1;

		set_addr(s, fam, i == nsrc ? 0xfffe : i + 1);
		if (g->hosts_random)
			nh = 1 + below(&g->rng, nh);
		if (i == nsrc)
			nh = 1;
		if (nh > MAX_HOSTS)
			nh = MAX_HOSTS;
		s->nhosts = nh;
		s->h = xcalloc(nh, sizeof(*s->h));
		for (unsigned k = 0; k < nh; k++) {
			struct host *h = &s->h[k];
			h->rate = g->rates[below(&g->rng, g->nrates)];
			h->offset = g->zero_offsets ? 0 :
			    (uint32_t)scen_rand(&g->rng);
			h->no_ts = unif(&g->rng) < g->p_no_ts;
			h->per_conn = unif(&g->rng) < g->p_per_conn;
			if (h->per_conn)
				s->per_conn_hosts++;
		}
	}
	g->busy = xcalloc((size_t)(nsrc + 1) * MAX_SERVERS * g->ports,
	    sizeof(double));
	g->last_rcv_nxt = xcalloc((size_t)(nsrc + 1) * MAX_SERVERS * g->ports,
	    sizeof(uint32_t));
	for (size_t i = 0; i < (size_t)(nsrc + 1) * MAX_SERVERS * g->ports; i++)
		g->busy[i] = -1e9;
}

static void
random_plans(struct gen *g)
{
	double t = 0;
	unsigned long n = g->nconns ? g->nconns :
	    (unsigned long)(g->rate * g->duration);

	for (unsigned long c = 0; c < n; c++) {
		struct plan *p = new_plan(g);
		struct source *s;
		struct host *h;
		double u;

		t += -log(1.0 - unif(&g->rng)) / (g->rate > 0 ? g->rate : 1);
		p->t0 = t;
		p->src = below(&g->rng, g->nsrc);
		s = &g->src[p->src];
		p->host = below(&g->rng, s->nhosts);
		h = &s->h[p->host];
		p->server = below(&g->rng, g->nservers);
		if (h->per_conn)
			p->off = (uint32_t)scen_rand(&g->rng);
		else if (g->per_pair)
			p->off = h->offset + p->server * 0x9E3779B9u;
		else
			p->off = h->offset;
		u = unif(&g->rng);
		p->close = u < g->p_client_rst ? CL_RST :
		    unif(&g->rng) < g->p_server_closes ? CL_SERVER : CL_CLIENT;
		p->dur = 0.01 - log(1.0 - unif(&g->rng)) * g->mean_dur;
		p->fin_gap = 0.0002 + unif(&g->rng) * 0.05;
		schedule(g, p->t0, (uint32_t)(p - g->plans), A_START, 0);
	}
}

/* docs/kernel.md §10, one client plan each. */
static void
example_plans(struct gen *g, const char *name)
{
	struct plan *p;
	bool nots = strcmp(name, "example1-nots") == 0;
	bool modern = strcmp(name, "example1-modern") == 0;

	g->retries = 6;
	if (strncmp(name, "example1", 8) == 0) {
		/* N with hosts A (5 000 000 + 1000 t) and B (1 000 000 +
		 * 1000 t). */
		g->hosts = 2;
		setup_sources(g, 1);
		g->src[0].h[0] = (struct host){ 1000, 5000000, false, false };
		g->src[0].h[1] = (struct host){ 1000, 1000000, nots, false };
		p = new_plan(g);
		*p = (struct plan){ .src = 0, .host = 0, .cport = 40001,
		    .isn = 1000, .off = 5000000, .t0 = 100, .retries = 6,
		    .close = CL_SERVER, .t_close = 101.0, .fin_gap = 0.05 };
		p = new_plan(g);
		*p = (struct plan){ .src = 0, .host = 1,
		    .cport = modern ? 40001 : 40002, .isn = 2000000,
		    .off = 1000000, .t0 = 110, .retries = 6,
		    .close = CL_SERVER, .t_close = 179.95, .fin_gap = 0.05 };
		p = new_plan(g);
		*p = (struct plan){ .src = 0, .host = 0, .cport = 40003,
		    .isn = 3000000, .off = 5000000, .t0 = 185, .retries = 6,
		    .close = CL_SERVER, .t_close = 185.95, .fin_gap = 0.05 };
	} else if (strcmp(name, "example2") == 0) {
		static const struct { double t; int64_t ts; } row[] = {
			{ 510.00, 3000001 }, { 510.01, 3000000 },
			{ 510.02, 2999999 }, { 510.03, 2999998 },
			{ 510.04, 2150483648ll }, { 510.05, 2150483649ll },
			{ 510.06, -1 }, { 559.00, 400000 }, { 560.00, 400000 },
		};
		g->hosts = 2;
		setup_sources(g, 1);
		/* C's clock reads 3 000 000 at 500; host 1 is C without
		 * the TS option (the no-TS row). */
		g->src[0].h[0] = (struct host){ 1000, 2500000, false, false };
		g->src[0].h[1] = (struct host){ 1000, 0, true, false };
		p = new_plan(g);
		*p = (struct plan){ .src = 0, .host = 0, .cport = 50000,
		    .isn = 1000, .off = 2500000, .t0 = 499, .retries = 0,
		    .close = CL_SERVER, .t_close = 499.95, .fin_gap = 0.05 };
		for (unsigned i = 0; i < sizeof(row) / sizeof(row[0]); i++) {
			p = new_plan(g);
			*p = (struct plan){ .src = 0, .host = row[i].ts < 0,
			    .cport = (uint16_t)(50001 + i),
			    .isn = 5000 + i * 100000, .t0 = row[i].t,
			    .retries = 0, .close = CL_CLIENT, .dur = 0.5,
			    .fin_gap = 0.01, .fixed_ts = row[i].ts >= 0,
			    .fixed_tsval = (uint32_t)row[i].ts };
		}
	} else if (strcmp(name, "example3") == 0) {
		static const struct { uint16_t port; uint32_t off; double t0,
		    tc; enum close_mode cl; } c[] = {
			{ 50001, 0x9A3C0000u, 200.0, 200.95, CL_SERVER },
			{ 50002, 0x1F000000u, 205.0, 270.0, CL_CLIENT },
			{ 50003, 0xA0000000u, 205.5, 207.0, CL_CLIENT },
		};
		g->hosts = 1;
		setup_sources(g, 1);
		g->src[0].h[0] = (struct host){ 1000, 0, false, true };
		for (unsigned i = 0; i < 3; i++) {
			p = new_plan(g);
			/* raw clock 1 000 000 + 1000 (t - 200) */
			*p = (struct plan){ .src = 0, .host = 0,
			    .cport = c[i].port, .isn = 7000 + i * 1000000,
			    .off = c[i].off + 800000u, .t0 = c[i].t0,
			    .retries = 6, .close = c[i].cl, .t_close = c[i].tc,
			    .fin_gap = 0.05 };
		}
	} else {
		die("--scenario: random, example1, example1-nots, "
		    "example1-modern, example2 or example3");
	}
	for (size_t i = 0; i < g->nplans; i++)
		schedule(g, g->plans[i].t0, (uint32_t)i, A_SYN, 0);
}

/* ---- what-if, open loop ---------------------------------------------- */

static uint64_t
whatif_run(const struct gen *g, const struct model_config *base,
    unsigned profile, int variant)
{
	struct model_config cfg = *base;
	struct ref *r;
	uint64_t n;

	cfg.profile = (enum model_profile)profile;
	if (cfg.profile != base->profile)
		for (int b = 0; b < MODEL_NBEHAVIOURS; b++)
			cfg.version_fix[b] = cfg.override[b] = -1;
	if (variant == 1)
		model_config_force_setting(&cfg, MS_TW_RECYCLE, 1);
	else if (variant == 2)
		model_config_force_setting(&cfg, MS_TW_RECYCLE, 0);
	else if (variant == 3 && cfg.nchanges < MODEL_MAX_CHANGES) {
		unsigned k = cfg.nchanges;
		while (k > 0 && cfg.change[k - 1].at_us > 60000000ull) {
			cfg.change[k] = cfg.change[k - 1];
			k--;
		}
		cfg.change[k] = (struct model_change){ 60000000ull, 0,
		    MS_TIMESTAMPS };
		cfg.nchanges++;
	}
	if ((r = ref_new(&cfg)) == NULL)
		die("reference: cannot start");
	for (size_t i = 0; i < g->nev; i++)
		if ((g->ev[i].flags & (TCPF_SYN | TCPF_FIN | TCPF_RST)) &&
		    ref_feed(r, &g->ev[i], NULL) < 0)
			die("reference: out of memory");
	n = ref_rejections(r);
	ref_free(r);
	return n;
}

/* ---- output ------------------------------------------------------------ */

static const char *const variant_name[4] = {
	"as_given", "tw_recycle=1", "tw_recycle=0", "timestamps_off_now"
};

static void
addr_str(uint8_t family, const uint8_t *a, char *out, size_t len)
{
	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, out, (socklen_t)len);
}

static int
write_expect(const struct gen *g, const char *path, const char *kernel,
    bool whatif)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	char buf[INET6_ADDRSTRLEN];
	bool first = true;

	if (f == NULL)
		return -1;
	fprintf(f, "{\n  \"kernel\": \"%s\",\n  \"profile\": \"%s\",\n",
	    kernel, model_profile_name(g->cfg.profile));
	fprintf(f, "  \"settings\": {");
	for (int s = 0; s < MODEL_NSETTINGS; s++)
		fprintf(f, "%s\"%s\": %d", s ? ", " : "",
		    model_setting_name((enum model_setting)s),
		    g->cfg.setting[s]);
	fprintf(f, "},\n  \"packets\": %llu,\n  \"syns\": %llu,\n"
	    "  \"connections\": %llu,\n  \"predicted_rejections\": %llu,\n",
	    (unsigned long long)g->packets, (unsigned long long)g->syns,
	    (unsigned long long)g->connections,
	    (unsigned long long)g->syn_rejected);
	fprintf(f, "  \"rejections_by_reason\": {\"passive_paws\": %llu, "
	    "\"timewait_paws\": %llu, \"timewait_seq\": %llu},\n",
	    (unsigned long long)g->by_reason[MODEL_R_PASSIVE_PAWS],
	    (unsigned long long)g->by_reason[MODEL_R_TIMEWAIT_PAWS],
	    (unsigned long long)g->by_reason[MODEL_R_TIMEWAIT_SEQ]);
	fprintf(f, "  \"observed_unanswered_syns\": %llu,\n",
	    (unsigned long long)g->unanswered);
	fprintf(f, "  \"what_if\": [");
	if (whatif) {
		for (unsigned p = 0; p < model_profile_count(); p++)
			for (int v = 0; v < 4; v++) {
				fprintf(f, "%s\n    {\"profile\": \"%s\", "
				    "\"variant\": \"%s\", "
				    "\"predicted_rejections\": %llu}",
				    first ? "" : ",", model_profile_name(
				    (enum model_profile)p), variant_name[v],
				    (unsigned long long)whatif_run(g, &g->cfg,
				    p, v));
				first = false;
			}
	}
	fprintf(f, "\n  ],\n  \"sources\": [");
	first = true;
	for (unsigned i = 0; i < g->nsrc; i++) {
		const struct source *s = &g->src[i];
		if (s->syns == 0)
			continue;
		addr_str(s->family, s->addr, buf, sizeof(buf));
		fprintf(f, "%s\n    {\"address\": \"%s\", \"syns\": %llu, "
		    "\"connections\": %llu, \"predicted_rejections\": %llu, "
		    "\"hosts\": %u, \"per_connection_hosts\": %u}",
		    first ? "" : ",", buf, (unsigned long long)s->syns,
		    (unsigned long long)s->conns,
		    (unsigned long long)s->rejections, s->nhosts,
		    s->per_conn_hosts);
		first = false;
	}
	fprintf(f, "\n  ]\n}\n");
	if (f != stdout)
		return fclose(f) == 0 ? 0 : -1;
	return fflush(f) == 0 ? 0 : -1;
}

static int
parse_linktype(const char *s, int *dlt, struct pcapw_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (strcmp(s, "ethernet") == 0)
		*dlt = DLT_EN10MB;
	else if (strcmp(s, "vlan") == 0) {
		*dlt = DLT_EN10MB;
		o->nvlan = 1;
		o->vlan_id[0] = 42;
	} else if (strcmp(s, "qinq") == 0) {
		*dlt = DLT_EN10MB;
		o->nvlan = 2;
		o->vlan_tpid[0] = 0x88a8;
		o->vlan_id[0] = 7;
		o->vlan_id[1] = 42;
	} else if (strcmp(s, "sll") == 0)
		*dlt = DLT_LINUX_SLL;
	else if (strcmp(s, "sll2") == 0)
		*dlt = DLT_LINUX_SLL2;
	else if (strcmp(s, "raw") == 0)
		*dlt = DLT_RAW;
	else if (strcmp(s, "null") == 0)
		*dlt = DLT_NULL;
	else if (strcmp(s, "loop") == 0)
		*dlt = DLT_LOOP;
	else
		return -1;
	return 0;
}

static int
parse_rates(struct gen *g, const char *s)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", s);
	g->nrates = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v = strtoul(tok, &end, 10);
		if (*end != '\0' || v == 0 || v > 1000000000ul ||
		    g->nrates == MAX_RATES)
			return -1;
		g->rates[g->nrates++] = (uint32_t)v;
	}
	return g->nrates ? 0 : -1;
}

/* A spoofed SYN: distinct source I, random port, ISN and TSval. */
static void
flood_event(struct tcp_event *e, uint64_t *rng, int family, uint64_t i,
    uint64_t t_us)
{
	memset(e, 0, sizeof(*e));
	e->time_us = t_us;
	e->family = (uint8_t)family;
	e->flags = TCPF_SYN;
	e->to_server = 1;
	if (family == 4) {
		uint32_t a = (100u << 24 | 64u << 16) + (uint32_t)i;	/* 100.64/10 */
		e->src[0] = (uint8_t)(a >> 24);
		e->src[1] = (uint8_t)(a >> 16);
		e->src[2] = (uint8_t)(a >> 8);
		e->src[3] = (uint8_t)a;
		memcpy(e->dst, srv4[0], 4);
	} else {
		static const uint8_t pfx[6] = { 0x20, 0x01, 0x0d, 0xb8, 0xff,
		    0xff };
		memcpy(e->src, pfx, 6);
		for (int k = 0; k < 8; k++)
			e->src[15 - k] = (uint8_t)(i >> (8 * k));
		memcpy(e->dst, srv6[0], 16);
	}
	e->sport = (uint16_t)(1024 + scen_rand(rng) % 64000);
	e->dport = SERVER_PORT;
	e->seq = (uint32_t)scen_rand(rng);
	e->has_ts = 1;
	e->tsval = (uint32_t)scen_rand(rng);
}

/* Everything setup_sources(), the plans, the heap and emit() allocated
 * (so the sanitizer build's leak check stays clean). */
static void
gen_free(struct gen *g)
{
	if (g->src != NULL)
		for (unsigned i = 0; i <= g->nsrc; i++)
			free(g->src[i].h);
	free(g->src);
	free(g->plans);
	free(g->h.a);
	free(g->busy);
	free(g->last_rcv_nxt);
	free(g->ev);
}

int
main(int argc, char **argv)
{
	const char *out = NULL, *expect = NULL, *scenario = "random";
	const char *kernel = "6.18", *family = "4", *linktype = "ethernet";
	const char *format = "pcap", *rates = "1000";
	double p_per_conn = 0, p_no_ts = 0, p_server = 0.5, p_rst = 0;
	double rate = 1, duration = 600, mean_dur = 2;
	unsigned long nsrc = 4, hosts = 2, servers = 1, ports = 1000;
	unsigned long retries = 6, seed = 1, nconns = 0, flood = 0;
	unsigned long snaplen = 262144;
	bool hosts_random = false, zero_offsets = false, per_pair = false;
	bool no_reference = false, whatif = true, v6ext = false;
	struct cli_list sets = { 0 };
	const struct cli_flag flags[] = {
		{ "out", CLI_STRING, &out, "FILE", "capture to write (- = stdout)", NULL },
		{ "expect", CLI_STRING, &expect, "FILE", "expected-outcome JSON", NULL },
		{ "scenario", CLI_STRING, &scenario, "NAME", "random, example1, example1-nots, example1-modern, example2, example3", "random" },
		{ "kernel", CLI_STRING, &kernel, "VERSION", "the simulated server's kernel", "6.18" },
		{ "set", CLI_LIST, &sets, "NAME=VALUE[@S]", "the simulated server's settings", NULL },
		{ "sources", CLI_UINT, &nsrc, "N", "client (NAT) addresses", "4" },
		{ "hosts", CLI_UINT, &hosts, "N", "hosts behind each address", "2" },
		{ "hosts-random", CLI_BOOL, &hosts_random, NULL, "1..--hosts hosts per address", NULL },
		{ "rates", CLI_STRING, &rates, "HZ,...", "TS clock rates the hosts pick from", "1000" },
		{ "zero-offsets", CLI_BOOL, &zero_offsets, NULL, "host clocks start at 0 (no random offsets)", NULL },
		{ "per-pair-offsets", CLI_BOOL, &per_pair, NULL, "offset per (host, server) pair (4.11+ clients)", NULL },
		{ "conns", CLI_UINT, &nconns, "N", "connections (instead of rate x duration)", NULL },
		{ "servers", CLI_UINT, &servers, "N", "server addresses (1-4)", "1" },
		{ "ports", CLI_UINT, &ports, "N", "client ports per address (small: reuse)", "1000" },
		{ "retries", CLI_UINT, &retries, "N", "SYN retransmissions", "6" },
		{ "family", CLI_STRING, &family, "4|6|both", "address family", "4" },
		{ "linktype", CLI_STRING, &linktype, "TYPE", "ethernet, vlan, qinq, sll, sll2, raw, null, loop", "ethernet" },
		{ "v6-ext", CLI_BOOL, &v6ext, NULL, "IPv6 hop-by-hop and destination options headers", NULL },
		{ "format", CLI_STRING, &format, "pcap|pcapng", "file format", "pcap" },
		{ "snaplen", CLI_UINT, &snaplen, "N", "snaplen (cuts frames)", "262144" },
		{ "seed", CLI_UINT, &seed, "N", "random seed", "1" },
		{ "flood", CLI_UINT, &flood, "N", "spoofed SYNs from N distinct addresses", "0" },
		{ "no-reference", CLI_BOOL, &no_reference, NULL, "answer every SYN (benchmarks)", NULL },
		{ "what-if", CLI_BOOL, &whatif, NULL, "what-if table in --expect", "true" },
		{ 0 }
	};
	/* Doubles through strings: the CLI has no plain float type. */
	const char *s_per_conn = NULL, *s_no_ts = NULL, *s_server = NULL;
	const char *s_rst = NULL, *s_rate = NULL, *s_dur = NULL;
	const char *s_mean = NULL;
	struct cli_flag all[64];
	struct cli_list pos = { 0 };
	struct gen g;
	struct pcapw_opts po;
	struct pcapw *w;
	char err[512];
	int dlt, nf = 0, rc;

	for (const struct cli_flag *f = flags; f->name; f++)
		all[nf++] = *f;
	all[nf++] = (struct cli_flag){ "per-conn", CLI_STRING, &s_per_conn,
	    "SHARE", "share of hosts with per-connection random offsets "
	    "(4.10-style)", "0" };
	all[nf++] = (struct cli_flag){ "no-ts", CLI_STRING, &s_no_ts, "SHARE",
	    "share of hosts sending no TS option", "0" };
	all[nf++] = (struct cli_flag){ "server-closes", CLI_STRING, &s_server,
	    "SHARE", "share of connections the server closes first", "0.5" };
	all[nf++] = (struct cli_flag){ "client-rst", CLI_STRING, &s_rst,
	    "SHARE", "share of connections ended by a client RST", "0" };
	all[nf++] = (struct cli_flag){ "conn-rate", CLI_STRING, &s_rate,
	    "CONN/S", "connection rate", "1" };
	all[nf++] = (struct cli_flag){ "seconds", CLI_STRING, &s_dur, "S",
	    "capture duration", "600" };
	all[nf++] = (struct cli_flag){ "mean-duration", CLI_STRING, &s_mean,
	    "S", "mean connection duration", "2" };
	all[nf] = (struct cli_flag){ 0 };

	rc = cli_parse(all, argc - 1, argv + 1, &pos, err, sizeof(err));
	if (rc == 1) {
		cli_usage(stdout, "synth", "[flags]", "Scenario generator "
		    "(tests/synth/twaudit-synth.c).", all);
		return 0;
	}
	if (rc < 0 || pos.n > 0)
		die(rc < 0 ? err : "unexpected argument");
#define DBL(s, v) do { if ((s) != NULL) { char *e_; (v) = strtod((s), &e_); \
	if (*e_ != 0) die("bad number: " #s); } } while (0)
	DBL(s_per_conn, p_per_conn);
	DBL(s_no_ts, p_no_ts);
	DBL(s_server, p_server);
	DBL(s_rst, p_rst);
	DBL(s_rate, rate);
	DBL(s_dur, duration);
	DBL(s_mean, mean_dur);
	if (out == NULL)
		die("--out FILE is required");

	memset(&g, 0, sizeof(g));
	g.rng = seed * 0x9E3779B97F4A7C15ull + 0x5EED;
	if (g.rng == 0)
		g.rng = 1;
	g.hosts = (unsigned)hosts;
	g.hosts_random = hosts_random;
	if (parse_rates(&g, rates) < 0)
		die("--rates: comma-separated Hz values");
	g.zero_offsets = zero_offsets;
	g.per_pair = per_pair;
	g.p_per_conn = p_per_conn;
	g.p_no_ts = p_no_ts;
	g.p_server_closes = p_server;
	g.p_client_rst = p_rst;
	g.nservers = servers < 1 ? 1 : servers > MAX_SERVERS ? MAX_SERVERS :
	    (unsigned)servers;
	g.ports = ports < 1 ? 1 : ports > 30000 ? 30000 : (unsigned)ports;
	g.retries = retries > 6 ? 6 : (unsigned)retries;
	g.rate = rate;
	g.duration = duration;
	g.mean_dur = mean_dur;
	g.nconns = nconns;
	g.family = strcmp(family, "4") == 0 ? 4 : strcmp(family, "6") == 0 ?
	    6 : strcmp(family, "both") == 0 ? 0 : -1;
	if (g.family < 0)
		die("--family: 4, 6 or both");
	g.simulate = !no_reference;
	if (nsrc < 1 || nsrc > MAX_SOURCES)
		die("--sources: 1..100000");
	if (parse_linktype(linktype, &dlt, &po) < 0)
		die("--linktype: ethernet, vlan, qinq, sll, sll2, raw, null, "
		    "loop");
	if (v6ext) {
		po.nv6_ext = 2;
		po.v6_ext[0] = 0;
		po.v6_ext[1] = 60;
	}

	g.cfg = model_config_default();
	if (model_profile_from_version(kernel, &g.cfg, err, sizeof(err)) < 0)
		die(err);
	for (size_t i = 0; i < sets.n; i++)
		if (model_config_set(&g.cfg, sets.v[i], err, sizeof(err)) < 0)
			die(err);
	if (g.simulate && (g.ref = ref_new(&g.cfg)) == NULL)
		die("reference: cannot start");

	if (strcmp(scenario, "random") == 0) {
		setup_sources(&g, (unsigned)nsrc);
		random_plans(&g);
	} else {
		if (g.family == 0)
			g.family = 4;
		example_plans(&g, scenario);
	}

	/* Run the simulation; the monitor's RST closes the capture. */
	{
		struct action a;
		uint64_t last = 0;
		bool final = false;

		for (;;) {
			if (!pop(&g, &a)) {
				if (final || g.nplans == 0)
					break;
				final = true;
				struct plan *p = new_plan(&g);
				p->src = g.nsrc;
				schedule(&g, t_of(last) + 2.0,
				    (uint32_t)(p - g.plans), A_FINAL, 0);
				continue;
			}
			last = a.t_us;
			run_action(&g, &a);
		}
	}

	/* Write, merging the flood in (uniform over the capture). */
	w = pcapw_open(out, strcmp(format, "pcapng") == 0 ? PCAPW_PCAPNG :
	    PCAPW_PCAP, dlt, (uint32_t)snaplen, err, sizeof(err));
	if (w == NULL)
		die(err);
	{
		uint64_t frng = seed * 0xD1B54A32D192ED03ull + 77;
		uint64_t t_first = g.nev ? g.ev[0].time_us : to_us(0);
		uint64_t t_last = g.nev ? g.ev[g.nev - 1].time_us :
		    to_us(duration);
		double step = flood ? (double)(t_last - t_first) /
		    (double)flood : 0;
		uint64_t fi = 0;
		int ffam = g.family == 6 ? 6 : 4;
		struct tcp_event fe;

		if (frng == 0)
			frng = 1;
		for (size_t i = 0; i <= g.nev; i++) {
			uint64_t t = i < g.nev ? g.ev[i].time_us : UINT64_MAX;
			while (fi < flood) {
				uint64_t ft = t_first + (uint64_t)(step *
				    ((double)fi + 0.5));
				if (ft >= t)
					break;
				flood_event(&fe, &frng, ffam, fi, ft);
				if (pcapw_write_event(w, &fe, &po) < 0)
					die("write failed");
				fi++;
			}
			if (i < g.nev && pcapw_write_event(w, &g.ev[i], &po) < 0)
				die("write failed (link type cannot carry the "
				    "family?)");
		}
	}
	if (pcapw_close(w) < 0)
		die("write failed");
	if (expect != NULL && g.simulate &&
	    write_expect(&g, expect, kernel, whatif) < 0)
		die("cannot write --expect");
	fprintf(stderr, "twaudit-synth: %zu packets (%llu SYNs, %llu refused "
	    "by the simulated server), %lu flood SYNs\n", g.nev,
	    (unsigned long long)g.syns, (unsigned long long)g.syn_rejected,
	    flood);
	ref_free(g.ref);
	gen_free(&g);
	return 0;
}
