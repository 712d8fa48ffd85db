/*
 * `twaudit replay FILE`: run a pcap/pcapng capture taken at a server
 * through the peer-table model (include/model.h) for the selected kernel
 * profile and settings, and through the what-if models (every profile x
 * {settings as given, tcp_tw_recycle=1, tcp_tw_recycle=0, timestamps off
 * after the first minute}), all in one pass over the file.
 *
 * Which side is the server. With --server the list is fixed. Without it,
 * a server is any address that answers a SYN with a SYN-ACK, learned in
 * the same single pass (so stdin works too): every SYN-ACK read marks its
 * source as a server at once, and events whose direction is not known yet
 * wait in a bounded FIFO (REPLAY_PENDING_MAX events, REPLAY_HORIZON_US of
 * capture time) until a SYN-ACK from one of their addresses shows up.
 * Events are always fed to the models in capture order. An event still
 * undecided when it leaves the FIFO is counted in skipped.no_server. The
 * server's first SYN-ACK comes microseconds after the first SYN it
 * accepts, so in practice nothing to a real server is lost; a server that
 * answers nothing for the first 3 s of the capture loses those SYNs (use
 * --server then). docs/model.md, "Replay", has the details.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "model.h"
#include "pcap_source.h"
#include "util.h"

/* Events waiting for their server to be known, and for how long. */
#define REPLAY_PENDING_MAX	65536
#define REPLAY_HORIZON_US	3000000ull
/* Learned server addresses and (address, port) endpoints. */
#define REPLAY_MAX_SERVERS	4096
#define REPLAY_SERVER_SLOTS	8192	/* power of two, > 2 x the cap */
#define REPLAY_MAX_EXPLICIT	CLI_MAX_LIST
#define REPLAY_BATCH		4096	/* events per hand-over to the models */
#define REPLAY_MAX_THREADS	64
/* Top sources printed when --top is not given. */
#define REPLAY_TOP_DEFAULT	10
#define REPLAY_TOP_MAX		10000
/* Caps of each what-if model, relative to the selected model's. */
#define WHATIF_CONN_DIVISOR	8
#define WHATIF_PEER_DIVISOR	4
#define WHATIF_MIN_CONNS	1024
#define WHATIF_SOURCES		16
/* "Timestamps off now": tcp_timestamps=0 this long after the first event. */
#define TSOFF_AT_US		(60ull * 1000000ull)
#define DEFAULT_KERNEL		"6.18"

enum variant { V_AS_GIVEN, V_RECYCLE_ON, V_RECYCLE_OFF, V_TS_OFF_NOW,
	V_COUNT };

static const char *const variant_name[V_COUNT] = {
	"as_given", "tw_recycle=1", "tw_recycle=0", "timestamps_off_now"
};

static const char replay_desc[] =
    "Replay a pcap/pcapng capture taken at a server (FILE, or - for stdin)\n"
    "through the kernel's timestamp (PAWS) SYN checks: how many SYNs the\n"
    "selected kernel with the selected settings refuses, why, from which\n"
    "sources (and how many hosts behind each), and what every other kernel\n"
    "profile and setting would do with the same traffic. Exit 0 on success\n"
    "(bad packets are skipped and counted; a file cut short ends with a\n"
    "warning), 1 on a usage error, 2 when FILE cannot be read as a capture.";

struct endpoint {
	uint8_t family;		/* 0: free slot */
	uint8_t has_port;
	uint16_t port;
	uint8_t addr[16];
};

struct srvset {
	struct endpoint slot[REPLAY_SERVER_SLOTS];
	unsigned n;
};

/* One model over the events; what-if rows point at one of these. */
struct instance {
	struct model_config cfg;
	struct model *m;
};

struct whatif_row {
	enum model_profile profile;
	enum variant variant;
	struct model_config cfg;
	int inst;		/* index into instances; 0 = the selected model */
};

struct replay {
	/* servers */
	struct endpoint explicit_srv[REPLAY_MAX_EXPLICIT];
	unsigned nexplicit;
	struct srvset *addrs;	/* learned addresses (port 0) */
	struct srvset *ends;	/* learned endpoints */
	uint64_t servers_overflow;
	/* pending FIFO */
	struct tcp_event *pend;
	size_t phead, pn;
	/* models */
	struct instance inst[1 + MODEL_NPROFILES * V_COUNT];
	unsigned ninst;
	/*
	 * Events go to the models in batches; with several threads each
	 * instance is fed the whole batch, in order, by one of them (the
	 * instances share nothing, so the results do not depend on the
	 * thread count). The main thread bumps gen and feeds too, then
	 * waits until pending (workers still busy) is 0.
	 */
	struct tcp_event *batch;
	size_t nbatch;
	unsigned nworkers;	/* started */
	pthread_t worker[REPLAY_MAX_THREADS];
	pthread_mutex_t lock;
	pthread_cond_t go, done;
	uint64_t gen;
	unsigned pending;
	bool stopping;
	atomic_uint next_inst;
	struct whatif_row rows[MODEL_NPROFILES * V_COUNT];
	unsigned nrows;
	/* counts */
	uint64_t fed;
	uint64_t no_server;
};

/* ------------------------------------------------------------------
 * Server sets
 */

static uint32_t
ep_hash(const struct endpoint *e)
{
	uint64_t h = 1469598103934665603ull ^ e->family;

	for (int i = 0; i < 16; i++)
		h = (h ^ e->addr[i]) * 1099511628211ull;
	h = (h ^ e->port) * 1099511628211ull;
	return (uint32_t)(h ^ (h >> 29));
}

static bool
ep_equal(const struct endpoint *a, const struct endpoint *b)
{
	return a->family == b->family && a->port == b->port &&
	    memcmp(a->addr, b->addr, 16) == 0;
}

static bool
srvset_has(const struct srvset *s, const struct endpoint *e)
{
	uint32_t i = ep_hash(e) & (REPLAY_SERVER_SLOTS - 1);

	while (s->slot[i].family != 0) {
		if (ep_equal(&s->slot[i], e))
			return true;
		i = (i + 1) & (REPLAY_SERVER_SLOTS - 1);
	}
	return false;
}

/* 1 added, 0 already there, -1 full. */
static int
srvset_add(struct srvset *s, const struct endpoint *e)
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
mkep(struct endpoint *e, uint8_t family, const uint8_t *addr, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->family = family;
	memcpy(e->addr, addr, family == 4 ? 4 : 16);
	e->port = port;
}

static bool
learned_addr(const struct replay *r, uint8_t family, const uint8_t *addr)
{
	struct endpoint e;

	mkep(&e, family, addr, 0);
	return srvset_has(r->addrs, &e);
}

static bool
learned_ep(const struct replay *r, uint8_t family, const uint8_t *addr,
    uint16_t port)
{
	struct endpoint e;

	mkep(&e, family, addr, port);
	return srvset_has(r->ends, &e);
}

static void
learn(struct replay *r, const struct tcp_event *ev)
{
	struct endpoint e;

	mkep(&e, ev->family, ev->src, ev->sport);
	if (srvset_add(r->ends, &e) < 0)
		r->servers_overflow++;
	e.port = 0;
	if (srvset_add(r->addrs, &e) < 0)
		r->servers_overflow++;
}

static bool
explicit_match(const struct replay *r, uint8_t family, const uint8_t *addr,
    uint16_t port)
{
	size_t n = family == 4 ? 4 : 16;

	for (unsigned i = 0; i < r->nexplicit; i++) {
		const struct endpoint *e = &r->explicit_srv[i];
		if (e->family == family && memcmp(e->addr, addr, n) == 0 &&
		    (!e->has_port || e->port == port))
			return true;
	}
	return false;
}

/* "10.0.0.1", "10.0.0.1:443", "2001:db8::1", "[2001:db8::1]:443". */
static int
parse_server(const char *s, struct endpoint *e, char *err, size_t errlen)
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

/*
 * Direction of EV: 1 client to server, 0 server to client, -1 not known
 * yet (wait for a SYN-ACK), -2 not to or from a server (skip).
 */
static int
direction(const struct replay *r, const struct tcp_event *ev)
{
	bool syn = (ev->flags & TCPF_SYN) != 0;
	bool ack = (ev->flags & TCPF_ACK) != 0;
	bool ds, ss;

	if (r->nexplicit > 0) {
		if (syn && !ack)
			return explicit_match(r, ev->family, ev->dst,
			    ev->dport) ? 1 : -2;
		if (syn)
			return explicit_match(r, ev->family, ev->src,
			    ev->sport) ? 0 : -2;
		if (explicit_match(r, ev->family, ev->dst, ev->dport))
			return 1;
		return explicit_match(r, ev->family, ev->src, ev->sport) ?
		    0 : -2;
	}
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

/* ------------------------------------------------------------------
 * Models
 */

/*
 * What decides predicted_rejections: the effective behaviours and the
 * settings, normalised so that configurations the model cannot tell
 * apart compare equal (counter names, ACK rate limit and, without the
 * passive check, everything that only the passive check reads).
 */
struct canon {
	uint8_t b[MODEL_NBEHAVIOURS];
	int32_t setting[MODEL_NSETTINGS];
	uint64_t at[MODEL_MAX_CHANGES];
	int32_t value[MODEL_MAX_CHANGES];
	uint8_t which[MODEL_MAX_CHANGES];
	uint32_t n, rto;
};

static void
canonical(const struct model_config *cfg, struct canon *c)
{
	bool passive;

	memset(c, 0, sizeof(*c));
	for (int b = 0; b < MODEL_NBEHAVIOURS; b++)
		c->b[b] = model_config_behaviour(cfg, (enum model_behaviour)b);
	c->b[MB_LISTEN_DROPS] = 0;
	c->b[MB_PAWS_TW_COUNTER] = 0;
	c->b[MB_TW_ACK_RATELIMIT] = 0;
	passive = c->b[MB_PASSIVE_CHECK] != 0;
	if (!passive) {
		c->b[MB_IPV6_CHECK] = c->b[MB_TCP_METRICS] = 0;
		c->b[MB_KEY_SERVER_ADDR] = c->b[MB_NO_TS_DROP] = 0;
	}
	for (int s = 0; s < MODEL_NSETTINGS; s++)
		c->setting[s] = cfg->setting[s] != 0;
	if (!passive)
		c->setting[MS_TW_RECYCLE] = 0;
	for (unsigned i = 0; i < cfg->nchanges; i++) {
		const struct model_change *ch = &cfg->change[i];
		if (!passive && ch->setting == MS_TW_RECYCLE)
			continue;
		c->at[c->n] = ch->at_us;
		c->value[c->n] = ch->value != 0;
		c->which[c->n] = ch->setting;
		c->n++;
	}
	c->rto = passive ? cfg->server_rto_ms : 0;
}

static int
build_models(struct replay *r, const struct model_config *sel, bool whatif,
    char *err, size_t errlen)
{
	struct canon keys[1 + MODEL_NPROFILES * V_COUNT], c;

	r->inst[0].cfg = *sel;
	canonical(sel, &keys[0]);
	r->ninst = 1;
	r->nrows = 0;
	if (whatif) {
		for (unsigned p = 0; p < model_profile_count(); p++) {
			for (int v = 0; v < V_COUNT; v++) {
				struct whatif_row *w = &r->rows[r->nrows++];
				struct model_config cfg = *sel;

				cfg.profile = (enum model_profile)p;
				/* Version fixes and overrides describe the
				 * running kernel: only its own profile keeps
				 * them. */
				if (cfg.profile != sel->profile)
					for (int b = 0; b < MODEL_NBEHAVIOURS;
					    b++)
						cfg.version_fix[b] =
						    cfg.override[b] = -1;
				if (v == V_RECYCLE_ON)
					model_config_force_setting(&cfg,
					    MS_TW_RECYCLE, 1);
				else if (v == V_RECYCLE_OFF)
					model_config_force_setting(&cfg,
					    MS_TW_RECYCLE, 0);
				else if (v == V_TS_OFF_NOW &&
				    cfg.nchanges < MODEL_MAX_CHANGES) {
					/* Changes apply in order: keep them
					 * sorted by time. */
					unsigned k = cfg.nchanges;
					while (k > 0 && cfg.change[k - 1].at_us >
					    TSOFF_AT_US) {
						cfg.change[k] = cfg.change[k - 1];
						k--;
					}
					cfg.change[k].at_us = TSOFF_AT_US;
					cfg.change[k].value = 0;
					cfg.change[k].setting = MS_TIMESTAMPS;
					cfg.nchanges++;
				}
				cfg.max_connections = sel->max_connections /
				    WHATIF_CONN_DIVISOR;
				if (cfg.max_connections < WHATIF_MIN_CONNS)
					cfg.max_connections = sel->max_connections <
					    WHATIF_MIN_CONNS ? sel->max_connections :
					    WHATIF_MIN_CONNS;
				cfg.max_peers = sel->max_peers /
				    WHATIF_PEER_DIVISOR;
				if (cfg.max_peers < WHATIF_MIN_CONNS)
					cfg.max_peers = sel->max_peers <
					    WHATIF_MIN_CONNS ? sel->max_peers :
					    WHATIF_MIN_CONNS;
				cfg.max_sources = WHATIF_SOURCES;
				w->profile = cfg.profile;
				w->variant = (enum variant)v;
				w->cfg = cfg;
				canonical(&cfg, &c);
				w->inst = -1;
				for (unsigned i = 0; i < r->ninst; i++)
					if (memcmp(&keys[i], &c, sizeof(c)) == 0) {
						w->inst = (int)i;
						break;
					}
				if (w->inst < 0) {
					w->inst = (int)r->ninst;
					keys[r->ninst] = c;
					r->inst[r->ninst++].cfg = cfg;
				}
			}
		}
	}
	for (unsigned i = 0; i < r->ninst; i++) {
		r->inst[i].m = model_new(&r->inst[i].cfg, err, errlen);
		if (r->inst[i].m == NULL)
			return -1;
	}
	return 0;
}

static size_t
memory_bound(const struct replay *r)
{
	size_t n = sizeof(*r) + 2 * sizeof(struct srvset) +
	    (REPLAY_PENDING_MAX + REPLAY_BATCH) * sizeof(struct tcp_event);

	for (unsigned i = 0; i < r->ninst; i++)
		n += model_memory_bound(&r->inst[i].cfg);
	return n;
}

/* Feed the batch to instances taken from a shared counter until none is
 * left (balances instances of different sizes across threads). */
static void
feed_share(struct replay *r)
{
	unsigned i;

	while ((i = atomic_fetch_add(&r->next_inst, 1)) < r->ninst)
		model_feed_many(r->inst[i].m, r->batch, r->nbatch, NULL);
}

static void *
worker_main(void *arg)
{
	struct replay *r = arg;
	uint64_t seen = 0;

	for (;;) {
		pthread_mutex_lock(&r->lock);
		while (r->gen == seen && !r->stopping)
			pthread_cond_wait(&r->go, &r->lock);
		seen = r->gen;
		if (r->stopping) {
			pthread_mutex_unlock(&r->lock);
			return NULL;
		}
		pthread_mutex_unlock(&r->lock);
		feed_share(r);
		pthread_mutex_lock(&r->lock);
		if (--r->pending == 0)
			pthread_cond_signal(&r->done);
		pthread_mutex_unlock(&r->lock);
	}
}

static void
dispatch(struct replay *r)
{
	if (r->nbatch == 0)
		return;
	atomic_store(&r->next_inst, 0);
	if (r->nworkers > 0) {
		pthread_mutex_lock(&r->lock);
		r->gen++;
		r->pending = r->nworkers;
		pthread_cond_broadcast(&r->go);
		pthread_mutex_unlock(&r->lock);
	}
	feed_share(r);
	if (r->nworkers > 0) {
		pthread_mutex_lock(&r->lock);
		while (r->pending > 0)
			pthread_cond_wait(&r->done, &r->lock);
		pthread_mutex_unlock(&r->lock);
	}
	r->nbatch = 0;
}

/* Up to NTHREADS - 1 workers; if the system refuses some, the threads
 * that exist feed every instance anyway. */
static void
start_workers(struct replay *r, unsigned nthreads)
{
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->go, NULL);
	pthread_cond_init(&r->done, NULL);
	atomic_init(&r->next_inst, 0);
	for (unsigned i = 0; i + 1 < nthreads && i < REPLAY_MAX_THREADS; i++) {
		if (pthread_create(&r->worker[i], NULL, worker_main, r) != 0)
			break;
		r->nworkers++;
	}
}

static void
stop_workers(struct replay *r)
{
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_broadcast(&r->go);
	pthread_mutex_unlock(&r->lock);
	for (unsigned i = 0; i < r->nworkers; i++)
		pthread_join(r->worker[i], NULL);
	r->nworkers = 0;
	pthread_cond_destroy(&r->go);
	pthread_cond_destroy(&r->done);
	pthread_mutex_destroy(&r->lock);
}

static inline void
feed(struct replay *r, struct tcp_event *ev, int dir)
{
	ev->to_server = (uint8_t)dir;
	r->batch[r->nbatch++] = *ev;
	r->fed++;
	if (r->nbatch == REPLAY_BATCH)
		dispatch(r);
}

/* Feed what can be decided from the head of the FIFO; FORCE empties it. */
static void
flush(struct replay *r, uint64_t now, bool force)
{
	while (r->pn > 0) {
		struct tcp_event *h = &r->pend[r->phead];
		int d = direction(r, h);

		if (d == -1 && !force && r->pn < REPLAY_PENDING_MAX &&
		    (now < h->time_us || now - h->time_us <= REPLAY_HORIZON_US))
			break;
		if (d >= 0)
			feed(r, h, d);
		else
			r->no_server++;
		r->phead = (r->phead + 1) % REPLAY_PENDING_MAX;
		r->pn--;
	}
}

static void
handle(struct replay *r, struct tcp_event *ev)
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

/* ------------------------------------------------------------------
 * Output
 */

static void
addr_str(uint8_t family, const uint8_t *addr, char *out, size_t len)
{
	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, out,
	    (socklen_t)len) == NULL)
		snprintf(out, len, "?");
}

static const char *
class_name(uint8_t c)
{
	return c == MODEL_NAT_HOSTS ? "hosts" :
	    c == MODEL_NAT_PER_CONN ? "per_connection" : "unknown";
}

static json_t *
settings_json(const struct model_config *cfg, bool with_overrides)
{
	json_t *o = json_object(), *ch = json_array();

	for (int s = 0; s < MODEL_NSETTINGS; s++)
		json_object_set_new(o, model_setting_name((enum model_setting)s),
		    json_integer(cfg->setting[s]));
	for (unsigned i = 0; i < cfg->nchanges; i++) {
		json_t *c = json_object();
		json_object_set_new(c, "name",
		    json_string(model_setting_name(
		    (enum model_setting)cfg->change[i].setting)));
		json_object_set_new(c, "value",
		    json_integer(cfg->change[i].value));
		json_object_set_new(c, "at_seconds",
		    json_real((double)cfg->change[i].at_us / 1e6));
		json_array_append_new(ch, c);
	}
	json_object_set_new(o, "changes", ch);
	if (with_overrides) {
		json_t *ov = json_object();
		for (int b = 0; b < MODEL_NBEHAVIOURS; b++)
			if (cfg->override[b] >= 0)
				json_object_set_new(ov, model_behaviour_name(
				    (enum model_behaviour)b),
				    json_boolean(cfg->override[b]));
		json_object_set_new(o, "overrides", ov);
	}
	return o;
}

struct result {
	const char *file;
	const char *kernel;
	const char *linktype;
	const struct pcap_source_stats *ps;
	struct model_stats st;
	struct model_source *top;
	size_t ntop;
	uint64_t whatif[MODEL_NPROFILES * V_COUNT];
	bool truncated;
	const char *warnings[4];
	unsigned nwarnings;
};

static json_t *
result_json(const struct replay *r, const struct result *res)
{
	const struct model_config *cfg = &r->inst[0].cfg;
	json_t *o = json_object(), *a, *x;
	char buf[INET6_ADDRSTRLEN];

	json_object_set_new(o, "file", json_string(res->file));
	json_object_set_new(o, "linktype", json_string(res->linktype));
	json_object_set_new(o, "packets", json_integer((json_int_t)
	    res->ps->packets));
	json_object_set_new(o, "events", json_integer((json_int_t)r->fed));
	json_object_set_new(o, "syns", json_integer((json_int_t)res->st.syns));
	json_object_set_new(o, "connections",
	    json_integer((json_int_t)res->st.connections));
	json_object_set_new(o, "kernel", json_string(res->kernel));
	json_object_set_new(o, "profile",
	    json_string(model_profile_name(cfg->profile)));
	x = json_object();
	for (int b = 0; b < MODEL_NBEHAVIOURS; b++)
		json_object_set_new(x, model_behaviour_name(
		    (enum model_behaviour)b), json_boolean(
		    model_config_behaviour(cfg, (enum model_behaviour)b)));
	json_object_set_new(o, "behaviours", x);
	json_object_set_new(o, "settings", settings_json(cfg, true));
	json_object_set_new(o, "predicted_rejections",
	    json_integer((json_int_t)res->st.predicted_rejections));
	x = json_object();
	json_object_set_new(x, "passive_paws", json_integer((json_int_t)
	    res->st.by_reason[MODEL_R_PASSIVE_PAWS]));
	json_object_set_new(x, "timewait_paws", json_integer((json_int_t)
	    res->st.by_reason[MODEL_R_TIMEWAIT_PAWS]));
	json_object_set_new(x, "timewait_seq", json_integer((json_int_t)
	    res->st.by_reason[MODEL_R_TIMEWAIT_SEQ]));
	json_object_set_new(o, "rejections_by_reason", x);
	x = json_object();
	{
		static const char *const cn[MODEL_NCOUNTERS] = {
			"PAWSPassive", "ListenDrops", "PAWSEstab",
			"PAWSTimewait", "TCPACKSkippedTimeWait", "TW"
		};
		for (int c = 0; c < MODEL_NCOUNTERS; c++)
			json_object_set_new(x, cn[c], json_integer(
			    (json_int_t)res->st.counters[c]));
	}
	json_object_set_new(o, "counters", x);
	a = json_array();
	for (unsigned i = 0; i < r->nrows; i++) {
		const struct whatif_row *w = &r->rows[i];
		x = json_object();
		json_object_set_new(x, "profile",
		    json_string(model_profile_name(w->profile)));
		json_object_set_new(x, "variant",
		    json_string(variant_name[w->variant]));
		json_object_set_new(x, "settings",
		    settings_json(&w->cfg, false));
		json_object_set_new(x, "predicted_rejections",
		    json_integer((json_int_t)res->whatif[i]));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "what_if", a);
	json_object_set_new(o, "observed_unanswered_syns", json_integer(
	    (json_int_t)res->st.observed_unanswered_syns));
	json_object_set_new(o, "warmup", json_integer((json_int_t)
	    res->st.warmup));
	a = json_array();
	for (size_t i = 0; i < res->ntop; i++) {
		const struct model_source *s = &res->top[i];
		x = json_object();
		addr_str(s->family, s->addr, buf, sizeof(buf));
		json_object_set_new(x, "address", json_string(buf));
		json_object_set_new(x, "syns", json_integer((json_int_t)s->syns));
		json_object_set_new(x, "predicted_rejections",
		    json_integer((json_int_t)s->predicted_rejections));
		json_object_set_new(x, "estimated_hosts",
		    s->nat_class == MODEL_NAT_HOSTS ?
		    json_integer(s->estimated_hosts) : json_null());
		json_object_set_new(x, "class",
		    json_string(class_name(s->nat_class)));
		json_object_set_new(x, "confidence", json_real(s->confidence));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "sources", a);
	x = json_object();
	json_object_set_new(x, "peers", json_integer((json_int_t)
	    res->st.evictions[MODEL_T_PEERS]));
	json_object_set_new(x, "connections", json_integer((json_int_t)
	    res->st.evictions[MODEL_T_CONNECTIONS]));
	json_object_set_new(x, "sources", json_integer((json_int_t)
	    res->st.evictions[MODEL_T_SOURCES]));
	json_object_set_new(o, "evictions", x);
	x = json_object();
	json_object_set_new(x, "peers", json_integer((json_int_t)
	    res->st.peers));
	json_object_set_new(x, "connections", json_integer((json_int_t)
	    res->st.tracked_connections));
	json_object_set_new(x, "sources", json_integer((json_int_t)
	    res->st.sources));
	json_object_set_new(o, "tables", x);
	x = json_object();
	json_object_set_new(x, "max_peers", json_integer(cfg->max_peers));
	json_object_set_new(x, "max_connections",
	    json_integer(cfg->max_connections));
	json_object_set_new(x, "max_sources", json_integer(cfg->max_sources));
	json_object_set_new(o, "caps", x);
	x = json_object();
	for (int k = 1; k < PACKET_SKIP_COUNT; k++)
		json_object_set_new(x, packet_skip_name((enum packet_skip)k),
		    json_integer((json_int_t)res->ps->skipped[k]));
	json_object_set_new(x, "no_server", json_integer((json_int_t)
	    r->no_server));
	json_object_set_new(o, "skipped", x);
	json_object_set_new(o, "options_truncated", json_integer((json_int_t)
	    res->ps->opts_truncated));
	json_object_set_new(o, "truncated", json_boolean(res->truncated));
	a = json_array();
	for (unsigned i = 0; i < res->nwarnings; i++)
		json_array_append_new(a, json_string(res->warnings[i]));
	json_object_set_new(o, "warnings", a);
	return o;
}

static void
result_text(FILE *f, const struct replay *r, const struct result *res)
{
	const struct model_config *cfg = &r->inst[0].cfg;
	const struct model_stats *st = &res->st;
	char buf[INET6_ADDRSTRLEN];
	uint64_t skipped = r->no_server;

	for (int k = 1; k < PACKET_SKIP_COUNT; k++)
		skipped += res->ps->skipped[k];
	fprintf(f, "replay of %s (%s)\n", res->file, res->linktype);
	fprintf(f, "  kernel %s, profile %s; tcp_tw_recycle=%d "
	    "tcp_timestamps=%d tcp_rfc1337=%d", res->kernel,
	    model_profile_name(cfg->profile), cfg->setting[MS_TW_RECYCLE],
	    cfg->setting[MS_TIMESTAMPS], cfg->setting[MS_RFC1337]);
	for (unsigned i = 0; i < cfg->nchanges; i++)
		fprintf(f, ", %s=%d@%gs", model_setting_name(
		    (enum model_setting)cfg->change[i].setting),
		    cfg->change[i].value, (double)cfg->change[i].at_us / 1e6);
	fprintf(f, "\n");
	fprintf(f, "  %" PRIu64 " SYN/FIN/RST packets, %" PRIu64 " SYNs to "
	    "the server, %" PRIu64 " connection attempts, %" PRIu64
	    " skipped\n", res->ps->packets, st->syns, st->connections,
	    skipped);
	fprintf(f, "  predicted rejections: %" PRIu64 " (passive PAWS %" PRIu64
	    ", TIME-WAIT PAWS %" PRIu64 ", TIME-WAIT old SYN %" PRIu64 "); "
	    "%" PRIu64 " in a source's first 60 s\n", st->predicted_rejections,
	    st->by_reason[MODEL_R_PASSIVE_PAWS],
	    st->by_reason[MODEL_R_TIMEWAIT_PAWS],
	    st->by_reason[MODEL_R_TIMEWAIT_SEQ], st->warmup);
	fprintf(f, "  observed unanswered SYNs: %" PRIu64 "\n",
	    st->observed_unanswered_syns);
	if (st->evictions[0] + st->evictions[1] + st->evictions[2] > 0)
		fprintf(f, "  evictions: %" PRIu64 " peers, %" PRIu64
		    " connections, %" PRIu64 " sources\n", st->evictions[0],
		    st->evictions[1], st->evictions[2]);
	if (r->nrows > 0) {
		fprintf(f, "\nwhat if (predicted rejections)\n");
		fprintf(f, "  %-12s %10s %14s %14s %20s\n", "profile",
		    "as given", "tw_recycle=1", "tw_recycle=0",
		    "timestamps off@60s");
		for (unsigned p = 0; p < model_profile_count(); p++) {
			fprintf(f, "  %-12s", model_profile_name(
			    (enum model_profile)p));
			fprintf(f, " %10" PRIu64 " %14" PRIu64 " %14" PRIu64
			    " %20" PRIu64 "%s\n", res->whatif[p * V_COUNT],
			    res->whatif[p * V_COUNT + 1],
			    res->whatif[p * V_COUNT + 2],
			    res->whatif[p * V_COUNT + 3],
			    p == (unsigned)cfg->profile ? "  <- selected" : "");
		}
	}
	if (res->ntop > 0) {
		fprintf(f, "\ntop sources\n  %-40s %10s %10s %8s %s\n",
		    "address", "SYNs", "rejected", "hosts", "class");
		for (size_t i = 0; i < res->ntop; i++) {
			const struct model_source *s = &res->top[i];
			char hosts[16] = "-";
			addr_str(s->family, s->addr, buf, sizeof(buf));
			if (s->nat_class == MODEL_NAT_HOSTS)
				snprintf(hosts, sizeof(hosts), "%u",
				    s->estimated_hosts);
			fprintf(f, "  %-40s %10" PRIu64 " %10" PRIu64
			    " %8s %s (confidence %.2f)\n", buf, s->syns,
			    s->predicted_rejections, hosts,
			    class_name(s->nat_class), s->confidence);
		}
	}
	for (unsigned i = 0; i < res->nwarnings; i++)
		fprintf(f, "\nwarning: %s\n", res->warnings[i]);
}

/* ------------------------------------------------------------------
 * The command
 */

static void
progress(const struct pcap_source *src, double t0, bool final)
{
	int64_t off, size;
	double el = now_monotonic() - t0;
	const struct pcap_source_stats *ps = pcap_source_stats(src);

	pcap_source_progress(src, &off, &size);
	fprintf(stderr, "\rreplay: %" PRIu64 " packets, %.0f packets/s",
	    ps->packets, el > 0 ? (double)ps->packets / el : 0.0);
	if (off >= 0 && size > 0)
		fprintf(stderr, ", %.1f%% of the file", 100.0 * (double)off /
		    (double)size);
	fprintf(stderr, "%s", final ? "\n" : "   ");
}

static int
usage_error(const char *msg)
{
	fprintf(stderr, "twaudit replay: %s (see twaudit replay --help)\n", msg);
	return EXIT_USAGE;
}

static int
set_bool_override(struct model_config *cfg, enum model_behaviour b,
    const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		model_config_override(cfg, b, 1);
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		model_config_override(cfg, b, 0);
	else if (strcmp(v, "default") == 0)
		model_config_override(cfg, b, -1);
	else {
		set_error(err, errlen, "--kernel.%s: '%s' is not true, false "
		    "or default", model_behaviour_name(b), v);
		return -1;
	}
	return 0;
}

int
cmd_replay(int argc, char **argv)
{
	const char *format = "text", *kernel = NULL;
	const char *behav[MODEL_NBEHAVIOURS] = { 0 };
	char bnames[MODEL_NBEHAVIOURS][64];
	struct cli_list sets = { 0 }, servers = { 0 }, pos = { 0 };
	unsigned long max_peers = MODEL_DEFAULT_MAX_PEERS;
	unsigned long max_conns = MODEL_DEFAULT_MAX_CONNECTIONS;
	unsigned long max_sources = MODEL_DEFAULT_MAX_SOURCES;
	unsigned long top = REPLAY_TOP_DEFAULT, threads = 0;
	bool whatif = true, print_filter = false, stats = false;
	bool progress_on = false, workers = false;
	struct cli_flag flags[16 + MODEL_NBEHAVIOURS] = {
		{ "format", CLI_STRING, &format, "text|json", "output format",
		    "text" },
		{ "kernel", CLI_STRING, &kernel, "VERSION",
		    "kernel release or profile to model (\"4.9.229\", "
		    "\"3.10.0-1160.el7\", \"3.17-4.0\")",
		    "the running kernel, else " DEFAULT_KERNEL },
		{ "set", CLI_LIST, &sets, "NAME=VALUE[@SECONDS]",
		    "a setting (net.ipv4.tcp_tw_recycle, tcp_timestamps, "
		    "tcp_rfc1337), from the start or SECONDS into the capture; "
		    "repeatable", NULL },
		{ "server", CLI_LIST, &servers, "ADDR[:PORT]",
		    "the server side; repeatable", "every address that "
		    "answers a SYN with a SYN-ACK" },
		{ "model.max-peers", CLI_UINT, &max_peers, "N",
		    "peer-table entries", "65536" },
		{ "model.max-connections", CLI_UINT, &max_conns, "N",
		    "tracked 4-tuples (TIME-WAIT included)", "262144" },
		{ "model.max-sources", CLI_UINT, &max_sources, "N",
		    "client addresses with NAT clock clustering", "65536" },
		{ "top", CLI_UINT, &top, "N", "sources listed", "10" },
		{ "what-if", CLI_BOOL, &whatif, NULL,
		    "also run every profile x {as given, tw_recycle=1, "
		    "tw_recycle=0, timestamps off after 60 s}", "true" },
		{ "threads", CLI_UINT, &threads, "N",
		    "threads feeding the model instances (each instance is "
		    "fed by one thread at a time; results do not depend on N)",
		    "0: one per CPU, at most one per instance" },
		{ "print-filter", CLI_BOOL, &print_filter, NULL,
		    "print the BPF filter for FILE's link type and exit", NULL },
		{ "stats", CLI_BOOL, &stats, NULL,
		    "print time, max RSS and the memory bound on stderr", NULL },
		{ 0 }
	};
	struct model_config cfg = model_config_default();
	struct replay *r = NULL;
	struct pcap_source *src = NULL;
	struct result res;
	struct tcp_event ev;
	char err[PCAP_SOURCE_ERR_LEN + 128], kbuf[256];
	const char *path;
	double t0 = now_monotonic(), next_progress;
	int rc, status = 0;
	unsigned nf = 0;

	while (flags[nf].name != NULL)
		nf++;
	for (int b = 0; b < MODEL_NBEHAVIOURS; b++) {
		snprintf(bnames[b], sizeof(bnames[b]), "kernel.%s",
		    model_behaviour_name((enum model_behaviour)b));
		flags[nf].name = bnames[b];
		flags[nf].type = CLI_STRING;
		flags[nf].dst = &behav[b];
		flags[nf].metavar = "true|false";
		flags[nf].help = "force this kernel behaviour "
		    "(backports; docs/model.md)";
		flags[nf].def = "the profile's";
		nf++;
	}
	flags[nf].name = NULL;

	rc = cli_parse(flags, argc, argv, &pos, err, sizeof(err));
	if (rc == 1) {
		cli_usage(stdout, "replay", "[flags] FILE", replay_desc, flags);
		return 0;
	}
	if (rc < 0)
		return usage_error(err);
	if (pos.n != 1)
		return usage_error(pos.n == 0 ? "FILE is missing" :
		    "one FILE only");
	path = pos.v[0];
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
		snprintf(err, sizeof(err), "--format: '%s' is not text or json",
		    format);
		return usage_error(err);
	}
	if (top > REPLAY_TOP_MAX)
		return usage_error("--top: at most 10000");
	if (threads > REPLAY_MAX_THREADS)
		return usage_error("--threads: at most 64");

	/* The kernel: flag, running kernel, or the default. */
	if (kernel == NULL) {
		char *text = NULL;
		size_t len;

		if (read_file_at("/", "/proc/sys/kernel/osrelease", 256, &text,
		    &len) == 0) {
			while (len > 0 && (text[len - 1] == '\n' ||
			    text[len - 1] == ' '))
				text[--len] = '\0';
			snprintf(kbuf, sizeof(kbuf), "%s", text);
			if (model_profile_from_version(kbuf, &cfg, err,
			    sizeof(err)) < 0)
				snprintf(kbuf, sizeof(kbuf), "%s",
				    DEFAULT_KERNEL);
		} else {
			snprintf(kbuf, sizeof(kbuf), "%s", DEFAULT_KERNEL);
		}
		free(text);
		kernel = kbuf;
	}
	if (model_profile_from_version(kernel, &cfg, err, sizeof(err)) < 0) {
		char e2[sizeof(err) + 16];
		snprintf(e2, sizeof(e2), "--kernel: %s", err);
		return usage_error(e2);
	}
	cfg.max_peers = (uint32_t)(max_peers > MODEL_CAP_LIMIT ?
	    MODEL_CAP_LIMIT + 1ul : max_peers);
	cfg.max_connections = (uint32_t)(max_conns > MODEL_CAP_LIMIT ?
	    MODEL_CAP_LIMIT + 1ul : max_conns);
	cfg.max_sources = (uint32_t)(max_sources > MODEL_CAP_LIMIT ?
	    MODEL_CAP_LIMIT + 1ul : max_sources);
	for (size_t i = 0; i < sets.n; i++) {
		if (model_config_set(&cfg, sets.v[i], err, sizeof(err)) < 0) {
			char e2[sizeof(err) + 16];
			snprintf(e2, sizeof(e2), "--set: %s", err);
			return usage_error(e2);
		}
	}
	for (int b = 0; b < MODEL_NBEHAVIOURS; b++)
		if (behav[b] != NULL && set_bool_override(&cfg,
		    (enum model_behaviour)b, behav[b], err, sizeof(err)) < 0)
			return usage_error(err);
	if (cfg.max_peers == 0 || cfg.max_connections == 0 ||
	    cfg.max_sources == 0 || cfg.max_peers > MODEL_CAP_LIMIT ||
	    cfg.max_connections > MODEL_CAP_LIMIT ||
	    cfg.max_sources > MODEL_CAP_LIMIT)
		return usage_error("--model.max-*: between 1 and 67108864");

	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		fprintf(stderr, "twaudit replay: out of memory\n");
		return EXIT_INPUT;
	}
	for (size_t i = 0; i < servers.n; i++) {
		if (parse_server(servers.v[i], &r->explicit_srv[i], err,
		    sizeof(err)) < 0) {
			free(r);
			return usage_error(err);
		}
		r->nexplicit++;
	}

	src = pcap_source_open_offline(path, err, sizeof(err));
	if (src == NULL) {
		/* One line, naming the offset when the capture was opened. */
		fprintf(stderr, "twaudit replay: %s%s\n", err,
		    strstr(err, "offset") == NULL && strstr(err, "empty") ?
		    " (offset 0)" : "");
		free(r);
		return EXIT_INPUT;
	}
	if (print_filter) {
		printf("%s\n", pcap_source_filter(src));
		pcap_source_close(src);
		free(r);
		return 0;
	}
	r->addrs = calloc(1, sizeof(*r->addrs));
	r->ends = calloc(1, sizeof(*r->ends));
	r->pend = malloc(REPLAY_PENDING_MAX * sizeof(*r->pend));
	r->batch = malloc(REPLAY_BATCH * sizeof(*r->batch));
	if (r->addrs == NULL || r->ends == NULL || r->pend == NULL ||
	    r->batch == NULL ||
	    build_models(r, &cfg, whatif, err, sizeof(err)) < 0) {
		fprintf(stderr, "twaudit replay: %s\n", r->pend == NULL ||
		    r->addrs == NULL || r->ends == NULL || r->batch == NULL ?
		    "out of memory" : err);
		status = EXIT_INPUT;
		goto out;
	}
	if (threads == 0) {
		/* The CPUs this process may run on (a pinned container
		 * sees fewer than the host has). */
		cpu_set_t cpus;
		long ncpu = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ?
		    CPU_COUNT(&cpus) : sysconf(_SC_NPROCESSORS_ONLN);

		threads = ncpu > 0 ? (unsigned long)ncpu : 1;
	}
	if (threads > r->ninst)
		threads = r->ninst;
	start_workers(r, (unsigned)threads);
	workers = true;

	progress_on = isatty(STDERR_FILENO) == 1;
	next_progress = t0 + 1.0;
	for (uint64_t n = 0;; n++) {
		rc = pcap_source_next(src, &ev);
		if (rc != 1)
			break;
		handle(r, &ev);
		if (progress_on && (n & 0x3fff) == 0) {
			double now = now_monotonic();
			if (now >= next_progress) {
				progress(src, t0, false);
				next_progress = now + 0.5;
			}
		}
	}
	flush(r, UINT64_MAX, true);
	dispatch(r);
	if (progress_on && now_monotonic() >= t0 + 1.0)
		progress(src, t0, true);
	for (unsigned i = 0; i < r->ninst; i++)
		model_finish(r->inst[i].m);

	memset(&res, 0, sizeof(res));
	res.file = strcmp(path, "-") == 0 ? "stdin" : path;
	res.kernel = kernel;
	res.linktype = pcap_source_linktype_name(src);
	res.ps = pcap_source_stats(src);
	model_stats(r->inst[0].m, &res.st);
	for (unsigned i = 0; i < r->nrows; i++) {
		struct model_stats ws;
		model_stats(r->inst[r->rows[i].inst].m, &ws);
		res.whatif[i] = ws.predicted_rejections;
	}
	res.top = top > 0 ? calloc(top, sizeof(*res.top)) : NULL;
	if (top > 0 && res.top == NULL) {
		fprintf(stderr, "twaudit replay: out of memory\n");
		status = EXIT_INPUT;
		goto out;
	}
	res.ntop = top > 0 ? model_top_sources(r->inst[0].m, res.top, top) : 0;
	if (rc < 0) {
		/* An unreadable record: what came before it stands. */
		res.truncated = true;
		res.warnings[res.nwarnings++] = pcap_source_error(src);
	} else if (pcap_source_truncated(src)) {
		res.truncated = true;
		res.warnings[res.nwarnings++] = pcap_source_warning(src);
	}
	if (r->servers_overflow > 0)
		res.warnings[res.nwarnings++] = "more than 4096 server "
		    "addresses answered SYNs; later ones were not learned "
		    "(use --server)";
	for (unsigned i = 0; i < res.nwarnings; i++)
		fprintf(stderr, "twaudit replay: warning: %s\n",
		    res.warnings[i]);

	if (strcmp(format, "json") == 0) {
		json_t *j = result_json(r, &res);
		char *text = j ? json_dumps(j, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER) : NULL;
		json_decref(j);
		if (text == NULL) {
			fprintf(stderr, "twaudit replay: out of memory\n");
			status = EXIT_INPUT;
		} else {
			fputs(text, stdout);
			fputc('\n', stdout);
			free(text);
		}
	} else {
		result_text(stdout, r, &res);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "twaudit replay: cannot write to stdout: %s\n",
		    strerror(errno));
		status = EXIT_INPUT;
	}
	if (stats) {
		struct rusage ru;
		double el = now_monotonic() - t0;

		getrusage(RUSAGE_SELF, &ru);
		fprintf(stderr, "replay-stats: elapsed_s=%.3f packets=%" PRIu64
		    " events=%" PRIu64 " packets_per_s=%.0f models=%u "
		    "threads=%u max_rss_bytes=%ld memory_bound_bytes=%zu "
		    "selected_model_bound_bytes=%zu\n", el, res.ps->packets,
		    r->fed, el > 0 ? (double)res.ps->packets / el : 0.0,
		    r->ninst, r->nworkers + 1, ru.ru_maxrss * 1024L,
		    memory_bound(r),
		    model_memory_bound(&r->inst[0].cfg));
	}
	free(res.top);
out:
	if (r != NULL) {
		if (workers)
			stop_workers(r);
		for (unsigned i = 0; i < r->ninst; i++)
			model_free(r->inst[i].m);
		free(r->addrs);
		free(r->ends);
		free(r->pend);
		free(r->batch);
		free(r);
	}
	pcap_source_close(src);
	return status;
}
