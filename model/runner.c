/*
 * The model runner (see runner.h): instances, sharing of identical ones,
 * batched feeding by worker threads, settings changes in place.
 */
#include "model/runner.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define RUNNER_MAX_BATCH	((size_t)1 << 20)

/*
 * What decides an instance's predictions: the effective behaviours and
 * the settings, normalised so that configurations the model cannot tell
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

struct instance {
	struct model_config cfg;
	struct model *m;
	bool shared;		/* added with share: canon is set */
	uint8_t follow;		/* settings taken from runner_set_setting() */
	struct canon canon;
	struct canon quiet;	/* canon with the passive check off when
				   tw_recycle is 0 throughout */
};

struct runner {
	struct instance inst[RUNNER_MAX_INSTANCES];
	unsigned ninst;
	/*
	 * The batch: the owner bumps gen and feeds too, then waits until
	 * pending (workers still busy) is 0. Instances are taken from a
	 * shared counter, which balances instances of different sizes.
	 */
	struct tcp_event *batch;
	size_t nbatch, cap;
	uint64_t fed;
	unsigned nworkers;
	bool started;
	pthread_t worker[RUNNER_MAX_THREADS];
	pthread_mutex_t lock;
	pthread_cond_t go, done;
	uint64_t gen;
	unsigned pending;
	bool stopping;
	atomic_uint next_inst;
	/* runner_set_verdicts(): one array of cap verdicts per instance */
	runner_verdict_fn vfn;
	void *varg;
	struct model_verdict *verd[RUNNER_MAX_INSTANCES];
};

/* Whether tw_recycle can be on at some point of the run. */
static bool
recycle_ever(const struct model_config *cfg)
{
	if (cfg->setting[MS_TW_RECYCLE] != 0)
		return true;
	for (unsigned i = 0; i < cfg->nchanges; i++)
		if (cfg->change[i].setting == MS_TW_RECYCLE &&
		    cfg->change[i].value != 0)
			return true;
	return false;
}

/*
 * QUIET: with tw_recycle 0 from start to end, the passive check never
 * runs and no TIME-WAIT writes a peer stamp (model.c: passive_check(),
 * enter_timewait() test the setting first), so the behaviours only they
 * read (the check itself, its keying, tcp_metrics, IPv6, the
 * no-timestamp drop, ListenDrops) and the peer table decide nothing.
 */
static void
canonical(const struct model_config *cfg, bool quiet, struct canon *c)
{
	bool passive;

	memset(c, 0, sizeof(*c));
	for (int b = 0; b < MODEL_NBEHAVIOURS; b++)
		c->b[b] = model_config_behaviour(cfg, (enum model_behaviour)b);
	c->b[MB_LISTEN_DROPS] = 0;
	c->b[MB_PAWS_TW_COUNTER] = 0;
	c->b[MB_TW_ACK_RATELIMIT] = 0;
	if (quiet && !recycle_ever(cfg))
		c->b[MB_PASSIVE_CHECK] = 0;
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

struct runner *
runner_new(size_t batch, char *err, size_t errlen)
{
	struct runner *r;

	if (batch == 0 || batch > RUNNER_MAX_BATCH) {
		set_error(err, errlen, "runner: batch of %zu events", batch);
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->batch = malloc(batch * sizeof(*r->batch))) == NULL) {
		free(r);
		set_error(err, errlen, "out of memory");
		return NULL;
	}
	r->cap = batch;
	atomic_init(&r->next_inst, 0);
	return r;
}

int
runner_add(struct runner *r, const struct model_config *cfg, bool share,
    uint8_t follow, char *err, size_t errlen)
{
	struct instance *in;
	struct canon c, q;

	if (share) {
		canonical(cfg, false, &c);
		canonical(cfg, true, &q);
		for (unsigned i = 0; i < r->ninst; i++)
			if (r->inst[i].shared &&
			    memcmp(&r->inst[i].canon, &c, sizeof(c)) == 0)
				return (int)i;
		/* Equal only once the silent passive check is set aside:
		 * shared when the tables are the same size too, so that
		 * they evict alike (the peer table is never written). */
		for (unsigned i = 0; i < r->ninst; i++)
			if (r->inst[i].shared &&
			    memcmp(&r->inst[i].quiet, &q, sizeof(q)) == 0 &&
			    r->inst[i].cfg.max_connections ==
			    cfg->max_connections &&
			    r->inst[i].cfg.max_sources == cfg->max_sources)
				return (int)i;
	}
	if (r->ninst == RUNNER_MAX_INSTANCES) {
		set_error(err, errlen, "more than %d model instances",
		    RUNNER_MAX_INSTANCES);
		return -1;
	}
	in = &r->inst[r->ninst];
	memset(in, 0, sizeof(*in));
	in->cfg = *cfg;
	in->shared = share;
	in->follow = follow;
	if (share) {
		in->canon = c;
		in->quiet = q;
	}
	if ((in->m = model_new(&in->cfg, err, errlen)) == NULL)
		return -1;
	return (int)r->ninst++;
}

unsigned
runner_count(const struct runner *r)
{
	return r->ninst;
}

/* Feed the batch to instances taken from the shared counter until none
 * is left. */
static void
feed_share(struct runner *r)
{
	unsigned i;

	while ((i = atomic_fetch_add(&r->next_inst, 1)) < r->ninst)
		model_feed_many(r->inst[i].m, r->batch, r->nbatch, r->verd[i]);
}

static void *
worker_main(void *arg)
{
	struct runner *r = arg;
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

unsigned
runner_start(struct runner *r, unsigned nthreads)
{
	if (r->started)
		return r->nworkers + 1;
	r->started = true;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->go, NULL);
	pthread_cond_init(&r->done, NULL);
	if (nthreads > r->ninst)
		nthreads = r->ninst;
	for (unsigned i = 0; i + 1 < nthreads && i < RUNNER_MAX_THREADS - 1;
	    i++) {
		if (pthread_create(&r->worker[i], NULL, worker_main, r) != 0)
			break;
		r->nworkers++;
	}
	return r->nworkers + 1;
}

void
runner_flush(struct runner *r)
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
	if (r->vfn != NULL)
		r->vfn(r->varg, r->batch, r->nbatch,
		    (const struct model_verdict *const *)r->verd, r->ninst);
	r->nbatch = 0;
}

void
runner_push(struct runner *r, const struct tcp_event *ev)
{
	r->batch[r->nbatch++] = *ev;
	r->fed++;
	if (r->nbatch == r->cap)
		runner_flush(r);
}

uint64_t
runner_fed(const struct runner *r)
{
	return r->fed;
}

int
runner_set_setting(struct runner *r, enum model_setting k, int32_t v)
{
	if (r->ninst == 0 || (unsigned)k >= MODEL_NSETTINGS)
		return -1;
	runner_flush(r);
	if (model_get_setting(r->inst[0].m, k) == v)
		return 0;
	if (model_set_setting(r->inst[0].m, k, v) < 0)
		return -1;
	for (unsigned i = 1; i < r->ninst; i++)
		if (r->inst[i].follow & (1u << k))
			(void)model_set_setting(r->inst[i].m, k, v);
	return 1;
}

struct model *
runner_model(struct runner *r, unsigned i)
{
	return i < r->ninst ? r->inst[i].m : NULL;
}

const struct model_config *
runner_config(const struct runner *r, unsigned i)
{
	return i < r->ninst ? &r->inst[i].cfg : NULL;
}

void
runner_finish(struct runner *r)
{
	runner_flush(r);
	for (unsigned i = 0; i < r->ninst; i++)
		model_finish(r->inst[i].m);
}

int
runner_set_verdicts(struct runner *r, runner_verdict_fn fn, void *arg,
    char *err, size_t errlen)
{
	for (unsigned i = 0; i < r->ninst; i++)
		if (r->verd[i] == NULL && (r->verd[i] = calloc(r->cap,
		    sizeof(*r->verd[i]))) == NULL) {
			set_error(err, errlen, "out of memory");
			return -1;
		}
	r->vfn = fn;
	r->varg = arg;
	return 0;
}

size_t
runner_memory_bound(const struct runner *r)
{
	size_t n = sizeof(*r) + r->cap * sizeof(*r->batch);

	for (unsigned i = 0; i < r->ninst; i++)
		n += model_memory_bound(&r->inst[i].cfg) + (r->verd[i] != NULL ?
		    r->cap * sizeof(*r->verd[i]) : 0);
	return n;
}

void
runner_free(struct runner *r)
{
	if (r == NULL)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->lock);
		r->stopping = true;
		pthread_cond_broadcast(&r->go);
		pthread_mutex_unlock(&r->lock);
		for (unsigned i = 0; i < r->nworkers; i++)
			pthread_join(r->worker[i], NULL);
		pthread_cond_destroy(&r->go);
		pthread_cond_destroy(&r->done);
		pthread_mutex_destroy(&r->lock);
	}
	for (unsigned i = 0; i < r->ninst; i++) {
		model_free(r->inst[i].m);
		free(r->verd[i]);
	}
	free(r->batch);
	free(r);
}
