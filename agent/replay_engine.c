/*
 * The replay engine (see replay_engine.h): server learning, direction,
 * the pending FIFO, and the what-if instances on the model runner.
 */
#include "agent/replay_engine.h"

#include <arpa/inet.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/replay_diag.h"
#include "model/runner.h"
#include "lib/util.h"

#define REPLAY_SERVER_SLOTS	8192	/* power of two, > 2 x the cap */
/* Caps of each what-if model, relative to the selected model's. */
#define WHATIF_CONN_DIVISOR	8
#define WHATIF_PEER_DIVISOR	4
#define WHATIF_MIN_CONNS	1024
#define WHATIF_SOURCES		16
/* "Timestamps off now": tcp_timestamps=0 this long after the first event. */
#define TSOFF_AT_US		(60ull * 1000000ull)

static const char *const variant_names[REPLAY_NVARIANTS] = {
	"as_given", "tw_recycle=1", "tw_recycle=0", "timestamps_off_now"
};

const char *
replay_variant_name(enum replay_variant v)
{
	return (unsigned)v < REPLAY_NVARIANTS ? variant_names[v] : "?";
}

struct srvset {
	struct replay_endpoint slot[REPLAY_SERVER_SLOTS];
	unsigned n;
	/* The last endpoint found: nearly every event of a capture is to or
	 * from one server, and a set never loses a member. */
	struct replay_endpoint last;
};

struct replay_engine {
	/* servers */
	struct replay_endpoint explicit_srv[REPLAY_MAX_EXPLICIT];
	unsigned nexplicit;
	struct srvset *addrs;	/* learned addresses (port 0) */
	struct srvset *ends;	/* learned endpoints */
	uint64_t servers_overflow;
	/* whole-file learning: the sets above plus every SYN-ACK of the
	 * file, asked only for events the look-ahead left undecided */
	struct pcap_source *src;	/* the file being replayed */
	struct srvset *late_addrs, *late_ends;
	int late;		/* 0 not scanned, 1 scanned, -1 cannot */
	/* pending FIFO */
	struct tcp_event *pend;
	size_t phead, pn;
	/* models: what-if row i is instance rowinst[i] (0: the selected) */
	struct runner *run;
	unsigned nthreads;
	struct replay_whatif rows[MODEL_NPROFILES * REPLAY_NVARIANTS];
	int rowinst[MODEL_NPROFILES * REPLAY_NVARIANTS];
	unsigned nrows;
	uint64_t no_server;
	/* diagnosis (what-if only) */
	struct replay_diag *diag;
	bool diag_all_profiles;
	enum model_profile selected;
};

/* ------------------------------------------------------------------
 * Server sets
 */

/* Two multiply-xorshift rounds over the endpoint's words (one lookup per
 * SYN and up to four per FIN: a byte-at-a-time hash showed in profiles). */
static uint32_t
ep_hash(const struct replay_endpoint *e)
{
	uint64_t w[2], h;

	memcpy(w, e->addr, sizeof(w));
	h = (w[0] ^ ((uint64_t)e->family << 56) ^ ((uint64_t)e->port << 40)) *
	    0x9e3779b97f4a7c15ull;
	h = (h ^ (h >> 29) ^ w[1]) * 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(h ^ (h >> 32));
}

static bool
ep_equal(const struct replay_endpoint *a, const struct replay_endpoint *b)
{
	uint64_t x[2], y[2];

	memcpy(x, a->addr, sizeof(x));
	memcpy(y, b->addr, sizeof(y));
	return a->family == b->family && a->port == b->port &&
	    x[0] == y[0] && x[1] == y[1];
}

static bool
srvset_has(struct srvset *s, const struct replay_endpoint *e)
{
	uint32_t i;

	if (ep_equal(&s->last, e))
		return true;
	i = ep_hash(e) & (REPLAY_SERVER_SLOTS - 1);
	while (s->slot[i].family != 0) {
		if (ep_equal(&s->slot[i], e)) {
			s->last = *e;
			return true;
		}
		i = (i + 1) & (REPLAY_SERVER_SLOTS - 1);
	}
	return false;
}

/* 1 added, 0 already there, -1 full. */
static int
srvset_add(struct srvset *s, const struct replay_endpoint *e)
{
	uint32_t i = ep_hash(e) & (REPLAY_SERVER_SLOTS - 1);

	while (s->slot[i].family != 0) {
		if (ep_equal(&s->slot[i], e))
			return 0;
		i = (i + 1) & (REPLAY_SERVER_SLOTS - 1);
	}
	if (s->n >= REPLAY_MAX_SERVERS)
		return -1;
	s->slot[i] = *e;
	s->n++;
	return 1;
}

static void
mkep(struct replay_endpoint *e, uint8_t family, const uint8_t *addr,
    uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->family = family;
	memcpy(e->addr, addr, family == 4 ? 4 : 16);
	e->port = port;
}

/* Learned server addresses (port 0) and endpoints, as one pair. */
struct srvsets {
	struct srvset *addrs, *ends;
};

static bool
learned_addr(const struct srvsets *s, uint8_t family, const uint8_t *addr)
{
	struct replay_endpoint e;

	mkep(&e, family, addr, 0);
	return srvset_has(s->addrs, &e);
}

static bool
learned_ep(const struct srvsets *s, uint8_t family, const uint8_t *addr,
    uint16_t port)
{
	struct replay_endpoint e;

	mkep(&e, family, addr, port);
	return srvset_has(s->ends, &e);
}

/* EV's source into ADDRS and ENDS; how many could not be added. */
static unsigned
learn_into(struct srvset *addrs, struct srvset *ends,
    const struct tcp_event *ev)
{
	struct replay_endpoint e;
	unsigned full = 0;

	mkep(&e, ev->family, ev->src, ev->sport);
	full += srvset_add(ends, &e) < 0;
	e.port = 0;
	full += srvset_add(addrs, &e) < 0;
	return full;
}

static void
learn(struct replay_engine *r, const struct tcp_event *ev)
{
	r->servers_overflow += learn_into(r->addrs, r->ends, ev);
}

static bool
explicit_match(const struct replay_engine *r, uint8_t family,
    const uint8_t *addr, uint16_t port)
{
	size_t n = family == 4 ? 4 : 16;

	for (unsigned i = 0; i < r->nexplicit; i++) {
		const struct replay_endpoint *e = &r->explicit_srv[i];
		if (e->family == family && memcmp(e->addr, addr, n) == 0 &&
		    (!e->has_port || e->port == port))
			return true;
	}
	return false;
}

int
replay_parse_server(const char *s, struct replay_endpoint *e, char *err,
    size_t errlen)
{
	char host[128];
	const char *port = NULL;
	size_t n;

	memset(e, 0, sizeof(*e));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			goto bad;
		n = (size_t)(end - s - 1);
		if (end[1] == ':')
			port = end + 2;
		if (n >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, n);
		host[n] = '\0';
	} else {
		const char *colon = strchr(s, ':');
		n = strlen(s);
		/* One colon: IPv4 with a port; more: a bare IPv6 address. */
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			n = (size_t)(colon - s);
			port = colon + 1;
		}
		if (n >= sizeof(host))
			goto bad;
		memcpy(host, s, n);
		host[n] = '\0';
	}
	if (inet_pton(AF_INET, host, e->addr) == 1)
		e->family = 4;
	else if (inet_pton(AF_INET6, host, e->addr) == 1)
		e->family = 6;
	else
		goto bad;
	if (port != NULL) {
		uint64_t p;
		if (parse_u64(port, strlen(port), &p) < 0 || p == 0 ||
		    p > 65535)
			goto bad;
		e->has_port = 1;
		e->port = (uint16_t)p;
	}
	return 0;
bad:
	set_error(err, errlen, "--server: '%s' is not ADDR, ADDR:PORT or "
	    "[IPV6]:PORT", s);
	return -1;
}

/* Direction with explicit servers: 1 to a server, 0 from one, -2 neither. */
static int
direction_explicit(const struct replay_engine *r, const struct tcp_event *ev)
{
	bool syn = (ev->flags & TCPF_SYN) != 0;
	bool ack = (ev->flags & TCPF_ACK) != 0;

	if (syn && !ack)
		return explicit_match(r, ev->family, ev->dst, ev->dport) ?
		    1 : -2;
	if (syn)
		return explicit_match(r, ev->family, ev->src, ev->sport) ?
		    0 : -2;
	if (explicit_match(r, ev->family, ev->dst, ev->dport))
		return 1;
	return explicit_match(r, ev->family, ev->src, ev->sport) ? 0 : -2;
}

/*
 * Direction of EV: 1 client to server, 0 server to client, -1 not known
 * yet (wait for a SYN-ACK), -2 not to or from a server (skip).
 */
static int
direction_in(const struct srvsets *r, const struct tcp_event *ev)
{
	bool syn = (ev->flags & TCPF_SYN) != 0;
	bool ack = (ev->flags & TCPF_ACK) != 0;
	bool ds, ss;

	if (syn && ack)
		return 0;	/* learned when read */
	if (syn)
		return learned_addr(r, ev->family, ev->dst) ? 1 : -1;
	/* FIN or RST: the side whose endpoint answered SYNs, else address. */
	ds = learned_ep(r, ev->family, ev->dst, ev->dport);
	ss = learned_ep(r, ev->family, ev->src, ev->sport);
	if (ds != ss)
		return ds ? 1 : 0;
	if (!ds) {
		ds = learned_addr(r, ev->family, ev->dst);
		ss = learned_addr(r, ev->family, ev->src);
		if (ds != ss)
			return ds ? 1 : 0;
		if (!ds)
			return -1;
	}
	/* Both sides serve: the lower port is the service. */
	return ev->dport <= ev->sport ? 1 : 0;
}

/* direction_in() with the servers learned so far (or the explicit ones). */
static int
direction(const struct replay_engine *r, const struct tcp_event *ev)
{
	const struct srvsets s = { r->addrs, r->ends };

	if (r->nexplicit > 0)
		return direction_explicit(r, ev);
	return direction_in(&s, ev);
}

/*
 * Every SYN-ACK of the whole file into the late sets (a second reader
 * from the first record; the sets keep REPLAY_MAX_SERVERS each). A read error ends the scan: what came before it
 * is learned.
 */
static void
late_scan(struct replay_engine *r)
{
	struct pcap_source *scan;
	struct tcp_event ev;
	char err[PCAP_SOURCE_ERR_LEN];

	r->late = -1;
	if (r->src == NULL || (scan = pcap_source_reopen(r->src, err,
	    sizeof(err))) == NULL)
		return;
	if ((r->late_addrs = malloc(sizeof(*r->late_addrs))) == NULL ||
	    (r->late_ends = malloc(sizeof(*r->late_ends))) == NULL) {
		pcap_source_close(scan);
		return;
	}
	*r->late_addrs = *r->addrs;
	*r->late_ends = *r->ends;
	while (pcap_source_next(scan, &ev) == 1)
		if ((ev.flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK))
			/* A full set here fills in the main pass too (the
			 * same SYN-ACKs): counted there, once. */
			(void)learn_into(r->late_addrs, r->late_ends, &ev);
	pcap_source_close(scan);
	r->late = 1;
}

/*
 * Direction of an event the look-ahead left undecided: from the servers
 * of the whole file (scanned on the first such event) when the capture is
 * a regular file; -1 still when it is not (stdin) or nobody in it answers.
 */
static int
direction_late(struct replay_engine *r, const struct tcp_event *ev)
{
	struct srvsets s;

	if (r->nexplicit > 0)
		return -1;
	if (r->late == 0)
		late_scan(r);
	if (r->late < 0)
		return -1;
	s.addrs = r->late_addrs;
	s.ends = r->late_ends;
	return direction_in(&s, ev);
}

/* ------------------------------------------------------------------
 * Models
 */

/* The what-if configuration of profile P, variant V, from SEL. */
static void
whatif_config(const struct model_config *sel, enum model_profile p,
    enum replay_variant v, struct model_config *cfg)
{
	*cfg = *sel;
	cfg->profile = p;
	/* Version fixes and overrides describe the running kernel: only
	 * its own profile keeps them. */
	if (cfg->profile != sel->profile)
		for (int b = 0; b < MODEL_NBEHAVIOURS; b++)
			cfg->version_fix[b] = cfg->override[b] = -1;
	if (v == REPLAY_RECYCLE_ON)
		model_config_force_setting(cfg, MS_TW_RECYCLE, 1);
	else if (v == REPLAY_RECYCLE_OFF)
		model_config_force_setting(cfg, MS_TW_RECYCLE, 0);
	else if (v == REPLAY_TS_OFF_NOW && cfg->nchanges < MODEL_MAX_CHANGES) {
		/* Changes apply in order: keep them sorted by time. */
		unsigned k = cfg->nchanges;
		while (k > 0 && cfg->change[k - 1].at_us > TSOFF_AT_US) {
			cfg->change[k] = cfg->change[k - 1];
			k--;
		}
		cfg->change[k].at_us = TSOFF_AT_US;
		cfg->change[k].value = 0;
		cfg->change[k].setting = MS_TIMESTAMPS;
		cfg->nchanges++;
	}
	cfg->max_connections = sel->max_connections / WHATIF_CONN_DIVISOR;
	if (cfg->max_connections < WHATIF_MIN_CONNS)
		cfg->max_connections = sel->max_connections < WHATIF_MIN_CONNS ?
		    sel->max_connections : WHATIF_MIN_CONNS;
	cfg->max_peers = sel->max_peers / WHATIF_PEER_DIVISOR;
	if (cfg->max_peers < WHATIF_MIN_CONNS)
		cfg->max_peers = sel->max_peers < WHATIF_MIN_CONNS ?
		    sel->max_peers : WHATIF_MIN_CONNS;
	cfg->max_sources = WHATIF_SOURCES;
}

/* The selected model, then one row per profile x variant (instances the
 * model cannot tell apart are shared). */
static int
build_models(struct replay_engine *r, const struct model_config *sel,
    bool whatif, char *err, size_t errlen)
{
	if (runner_add(r->run, sel, true, 0, err, errlen) < 0)
		return -1;
	r->nrows = 0;
	for (unsigned p = 0; whatif && p < model_profile_count(); p++) {
		for (int v = 0; v < REPLAY_NVARIANTS; v++) {
			struct replay_whatif *w = &r->rows[r->nrows];
			int i;

			w->profile = (enum model_profile)p;
			w->variant = (enum replay_variant)v;
			whatif_config(sel, w->profile, w->variant, &w->cfg);
			if ((i = runner_add(r->run, &w->cfg, true, 0, err,
			    errlen)) < 0)
				return -1;
			r->rowinst[r->nrows++] = i;
		}
	}
	return 0;
}

/* Threads: as asked, else the CPUs this process may run on (a pinned
 * container sees fewer than the host has). */
static unsigned
thread_count(unsigned threads)
{
	cpu_set_t cpus;
	long ncpu;

	if (threads > 0)
		return threads;
	ncpu = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ?
	    CPU_COUNT(&cpus) : sysconf(_SC_NPROCESSORS_ONLN);
	return ncpu > 0 ? (unsigned)ncpu : 1;
}

struct replay_engine *
replay_engine_new(const struct replay_config *cfg, char *err, size_t errlen)
{
	struct replay_engine *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->addrs = calloc(1, sizeof(*r->addrs))) == NULL ||
	    (r->ends = calloc(1, sizeof(*r->ends))) == NULL ||
	    (r->pend = malloc(REPLAY_PENDING_MAX * sizeof(*r->pend))) == NULL) {
		set_error(err, errlen, "out of memory");
		replay_engine_free(r);
		return NULL;
	}
	memcpy(r->explicit_srv, cfg->server, sizeof(r->explicit_srv));
	r->nexplicit = cfg->nservers;
	if ((r->run = runner_new(REPLAY_BATCH, err, errlen)) == NULL ||
	    build_models(r, &cfg->model, cfg->whatif, err, errlen) < 0) {
		replay_engine_free(r);
		return NULL;
	}
	r->diag_all_profiles = cfg->diag_all_profiles;
	r->selected = cfg->model.profile;
	if (cfg->whatif && ((r->diag = replay_diag_new(runner_count(r->run),
	    err, errlen)) == NULL || runner_set_verdicts(r->run,
	    replay_diag_feed, r->diag, err, errlen) < 0)) {
		replay_engine_free(r);
		return NULL;
	}
	r->nthreads = runner_start(r->run, thread_count(cfg->threads));
	return r;
}

/* ------------------------------------------------------------------
 * Feeding
 */

static inline void
feed(struct replay_engine *r, struct tcp_event *ev, int dir)
{
	ev->to_server = (uint8_t)dir;
	runner_push(r->run, ev);
}

/* Feed what can be decided from the head of the FIFO; FORCE empties it. */
static void
flush(struct replay_engine *r, uint64_t now, bool force)
{
	while (r->pn > 0) {
		struct tcp_event *h = &r->pend[r->phead];
		int d = direction(r, h);

		if (d == -1 && !force && r->pn < REPLAY_PENDING_MAX &&
		    (now < h->time_us || now - h->time_us <= REPLAY_HORIZON_US))
			break;
		/* At the end of the file (force) the sets hold every server
		 * already: no scan, but a scan made earlier still counts. */
		if (d == -1 && (!force || r->late == 1))
			d = direction_late(r, h);
		if (d >= 0)
			feed(r, h, d);
		else
			r->no_server++;
		r->phead = (r->phead + 1) % REPLAY_PENDING_MAX;
		r->pn--;
	}
}

static void
handle(struct replay_engine *r, struct tcp_event *ev)
{
	int d;

	if (r->nexplicit == 0 &&
	    (ev->flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK))
		learn(r, ev);
	if (r->pn == 0) {
		d = direction(r, ev);
		if (d >= 0) {
			feed(r, ev, d);
			return;
		}
		if (d == -2) {
			r->no_server++;
			return;
		}
	}
	if (r->pn == REPLAY_PENDING_MAX)
		flush(r, ev->time_us, false);
	r->pend[(r->phead + r->pn) % REPLAY_PENDING_MAX] = *ev;
	r->pn++;
	flush(r, ev->time_us, false);
}

int
replay_engine_run(struct replay_engine *r, struct pcap_source *src,
    void (*tick)(void *arg), void *arg)
{
	struct tcp_event ev;
	int rc;

	r->src = src;
	for (uint64_t n = 0;; n++) {
		if ((rc = pcap_source_next(src, &ev)) != 1)
			break;
		handle(r, &ev);
		if (tick != NULL && (n & 0x3fff) == 0)
			tick(arg);
	}
	flush(r, UINT64_MAX, true);
	r->src = NULL;
	runner_finish(r->run);
	if (r->diag != NULL)
		replay_diag_finish(r->diag);
	return rc;
}

/* ------------------------------------------------------------------
 * Results
 */

/* A diagnosis candidate: a profile considered, a settings variant. */
static bool
candidate(const struct replay_engine *r, const struct replay_whatif *w)
{
	if (w->variant == REPLAY_TS_OFF_NOW)
		return false;	/* a change in time, not a setting */
	return r->diag_all_profiles || w->profile == r->selected;
}

/* The selected profile's row with the kernel's default settings (the
 * tw_recycle=0 row when the other settings are not the defaults). */
static bool
defaults_row(const struct replay_engine *r, const struct replay_whatif *w)
{
	const struct model_config def = model_config_default();

	if (w->profile != r->selected || w->variant == REPLAY_TS_OFF_NOW)
		return false;
	if (w->variant == REPLAY_RECYCLE_OFF)
		return true;
	return w->variant == REPLAY_AS_GIVEN && w->cfg.nchanges == 0 &&
	    memcmp(w->cfg.setting, def.setting, sizeof(def.setting)) == 0;
}

/* Tie-break rank, lower first: the defaults row of the selected profile,
 * the selected profile, then newer profiles, then variant order. */
static unsigned
tie_rank(const struct replay_engine *r, const struct replay_whatif *w)
{
	unsigned rank = (MODEL_NPROFILES - 1u - (unsigned)w->profile) *
	    REPLAY_NVARIANTS + (unsigned)w->variant;

	if (defaults_row(r, w)) {
		/* as_given with default settings before tw_recycle=0 */
		return w->variant == REPLAY_AS_GIVEN ? 0 : 1;
	}
	if (w->profile == r->selected)
		return 2 + (unsigned)w->variant;
	return 2 + REPLAY_NVARIANTS + rank;
}

static void
diagnose(const struct replay_engine *r, struct replay_diagnosis *out)
{
	struct replay_diag_match best = { 0 }, m;
	bool nothing = replay_diag_unanswered(r->diag) == 0;
	uint64_t best_score = UINT64_MAX;
	unsigned best_rank = UINT32_MAX;
	int bi = -1;

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < r->nrows; i++) {
		const struct replay_whatif *w = &r->rows[i];
		uint64_t score;
		unsigned rank = tie_rank(r, w);

		if (!candidate(r, w))
			continue;
		replay_diag_match(r->diag, (unsigned)r->rowinst[i], &m);
		/* Nothing unanswered: the defaults are the diagnosis. */
		score = nothing ? (defaults_row(r, w) ? 0 : 1) :
		    m.unexplained + m.predicted_but_answered;
		if (score < best_score ||
		    (score == best_score && rank < best_rank)) {
			best_score = score;
			best_rank = rank;
			best = m;
			bi = (int)i;
		}
	}
	if (bi < 0)
		return;
	out->present = true;
	out->row = (unsigned)bi;
	out->explained_unanswered = best.explained;
	out->unexplained_unanswered = best.unexplained;
	out->predicted_but_answered = best.predicted_but_answered;
	out->explains = 2 * best.explained >= replay_diag_unanswered(r->diag);
	out->evictions = replay_diag_evictions(r->diag);
	for (unsigned i = 0; i < r->nrows; i++)
		if (i != (unsigned)bi && candidate(r, &r->rows[i]) &&
		    replay_diag_same(r->diag, (unsigned)r->rowinst[i],
		    (unsigned)r->rowinst[bi]))
			out->equivalent[out->nequivalent++] = i;
}

void
replay_engine_result(struct replay_engine *r, struct replay_result *out)
{
	memset(out, 0, sizeof(*out));
	model_stats(runner_model(r->run, 0), &out->st);
	out->fed = runner_fed(r->run);
	out->no_server = r->no_server;
	out->servers_overflow = r->servers_overflow;
	out->nwhatif = r->nrows;
	for (unsigned i = 0; i < r->nrows; i++) {
		struct model_stats ws;

		out->whatif[i] = r->rows[i];
		model_stats(runner_model(r->run, (unsigned)r->rowinst[i]), &ws);
		out->whatif[i].predicted_rejections = ws.predicted_rejections;
	}
	out->models = runner_count(r->run);
	out->threads = r->nthreads;
	out->memory_bound = sizeof(*r) + 4 * sizeof(struct srvset) +
	    REPLAY_PENDING_MAX * sizeof(struct tcp_event) +
	    runner_memory_bound(r->run);
	out->selected_bound = model_memory_bound(runner_config(r->run, 0));
	if (r->diag != NULL) {
		out->memory_bound += replay_diag_memory_bound();
		diagnose(r, &out->diagnosis);
	}
}

size_t
replay_engine_top(struct replay_engine *r, struct model_source *out, size_t n)
{
	return n > 0 ? model_top_sources(runner_model(r->run, 0), out, n) : 0;
}

void
replay_engine_free(struct replay_engine *r)
{
	if (r == NULL)
		return;
	runner_free(r->run);
	replay_diag_free(r->diag);
	free(r->addrs);
	free(r->ends);
	free(r->late_addrs);
	free(r->late_ends);
	free(r->pend);
	free(r);
}
