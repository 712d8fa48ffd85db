/*
 * The kernel's tcp_metrics table against the live model's (see
 * tcpm_agree.h): the comparison, and the hand-over of a dump from the
 * collector to the model thread.
 */
#include "agent/tcpm_agree.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int
kpeer_cmp(const void *a, const void *b)
{
	const struct tcpm_kpeer *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if ((c = memcmp(x->client, y->client, 16)) != 0)
		return c;
	return memcmp(x->server, y->server, 16);
}

struct agree_walk {
	const struct tcpm_agree_in *in;
	const struct tcpm_kpeer *k;
	size_t nk;
	struct tcpm_agreement *out;
};

static bool
agree_keep(const struct tcpm_agree_in *in, uint8_t family,
    const uint8_t client[16], uint32_t stamp)
{
	return (family == 4 || family == 6) &&
	    sampler_client_sampled(family, client, in->ratio) &&
	    (uint32_t)(in->now_s - stamp) < 60 &&
	    (int32_t)(stamp - in->since_s) > 0;
}

static void
agree_model_peer(void *arg, const struct model_peer *p)
{
	struct agree_walk *w = arg;
	struct tcpm_kpeer key;
	const struct tcpm_kpeer *hit;
	/* Re-stamped after the dump's second: the model has already seen
	 * later events, and this entry's value at the dump is unknown. */
	bool after = (int32_t)(p->stamp - w->in->now_s) > 0;

	if (!after && !agree_keep(w->in, p->family, p->client, p->stamp))
		return;
	memset(&key, 0, sizeof(key));
	key.family = p->family;
	memcpy(key.client, p->client, 16);
	if (w->in->key_server)
		memcpy(key.server, p->server, 16);
	hit = w->nk > 0 ? bsearch(&key, w->k, w->nk, sizeof(*w->k),
	    kpeer_cmp) : NULL;
	if (after) {
		/* Leave the key out of both sides (keys are unique on each
		 * side, so at most one kernel entry per model entry). */
		if (hit != NULL)
			w->out->kernel--;
		return;
	}
	w->out->model++;
	if (hit == NULL)
		return;
	w->out->common++;
	if (hit->tsval == p->ts)
		w->out->matched++;
}

void
tcpm_agree_compute(const struct model *m, const struct tcpm_agree_in *in,
    struct tcpm_kpeer *k, size_t nk, struct tcpm_agreement *out)
{
	struct agree_walk w = { in, k, 0, out };
	size_t n = 0;
	uint64_t uni;

	/* The kernel's side, keyed as the profile keys its table. */
	for (size_t i = 0; i < nk; i++) {
		struct tcpm_kpeer e = k[i];
		bool local = in->nservers == 0 || !e.has_server;

		if (e.family == 4) {
			memset(e.client + 4, 0, 12);
			memset(e.server + 4, 0, 12);
		}
		for (size_t j = 0; !local && j < in->nservers; j++)
			local = in->servers[j].family == e.family &&
			    memcmp(in->servers[j].addr, e.server,
			    e.family == 4 ? 4 : 16) == 0;
		if (!local || !agree_keep(in, e.family, e.client, e.stamp))
			continue;
		if (!in->key_server)
			memset(e.server, 0, 16);
		k[n++] = e;
	}
	qsort(k, n, sizeof(*k), kpeer_cmp);
	/* One entry per key (a client-only key can merge several). */
	w.nk = 0;
	for (size_t i = 0; i < n; i++)
		if (w.nk == 0 || kpeer_cmp(&k[w.nk - 1], &k[i]) != 0)
			k[w.nk++] = k[i];
		else if ((int32_t)(k[i].stamp - k[w.nk - 1].stamp) > 0)
			k[w.nk - 1] = k[i];
	out->kernel = w.nk;
	out->model = out->common = out->matched = 0;
	model_peers_stamped(m, agree_model_peer, &w);
	uni = out->kernel + out->model - out->common;
	out->ratio = uni == 0 ? 1.0 : (double)out->matched / (double)uni;
	out->valid = true;
}

size_t
tcpm_kpeers_from_dump(const struct tcp_metrics_stats *t,
    struct tcpm_kpeer *out, size_t max, bool *complete)
{
	uint32_t now_s = (uint32_t)t->dump_wall;
	size_t n = 0;

	*complete = !t->truncated && t->recent_dropped == 0;
	for (size_t i = 0; i < t->nrecent; i++) {
		const struct tcp_metrics_entry *e = &t->recent[i];
		struct tcpm_kpeer *k;
		size_t alen = e->addr.family == AF_INET ? 4 : 16;

		/* The kernel's freshness: (u32)(now - stamp) < 60. */
		if (!e->has_tw || e->stamp_age_s < 0 ||
		    e->stamp_age_s >= TCP_METRICS_FRESH_S ||
		    (e->addr.family != AF_INET && e->addr.family != AF_INET6))
			continue;
		if (n == max) {
			*complete = false;
			break;
		}
		k = &out[n++];
		memset(k, 0, sizeof(*k));
		k->family = e->addr.family == AF_INET ? 4 : 6;
		memcpy(k->client, e->addr.addr, alen);
		if (e->saddr.family == e->addr.family) {
			k->has_server = true;
			memcpy(k->server, e->saddr.addr, alen);
		}
		k->tsval = e->tsval;
		k->stamp = now_s - (uint32_t)e->stamp_age_s;
	}
	return n;
}

struct tcpm_agree {
	/* Handed over (any thread) -> model thread; lock. */
	pthread_mutex_t lock;
	struct tcpm_kpeer in[TCPM_AGREE_PEERS];
	size_t nin;
	bool in_set, in_complete;
	double in_at;
	_Atomic unsigned gen;

	/* Model thread. */
	unsigned seen;
	struct tcpm_kpeer cmp[TCPM_AGREE_PEERS];
	size_t ncmp;
	bool pending;			/* cmp waits for the model */
	double at;			/* its dump time (wall) */
	uint64_t at_us;
	struct tcpm_agreement res;
};

struct tcpm_agree *
tcpm_agree_new(void)
{
	struct tcpm_agree *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	pthread_mutex_init(&a->lock, NULL);
	atomic_init(&a->gen, 0);
	return a;
}

void
tcpm_agree_free(struct tcpm_agree *a)
{
	if (a == NULL)
		return;
	pthread_mutex_destroy(&a->lock);
	free(a);
}

void
tcpm_agree_set(struct tcpm_agree *a, const struct tcpm_kpeer *p, size_t n,
    bool complete, double dump_wall)
{
	pthread_mutex_lock(&a->lock);
	a->in_set = p != NULL;
	a->in_complete = complete && n <= TCPM_AGREE_PEERS;
	a->nin = n < TCPM_AGREE_PEERS ? n : TCPM_AGREE_PEERS;
	if (p != NULL)
		memcpy(a->in, p, a->nin * sizeof(*p));
	a->in_at = dump_wall;
	pthread_mutex_unlock(&a->lock);
	atomic_fetch_add(&a->gen, 1);
}

void
tcpm_agree_poll(struct tcpm_agree *a)
{
	unsigned gen = atomic_load(&a->gen);

	if (gen == a->seen)
		return;
	a->seen = gen;
	pthread_mutex_lock(&a->lock);
	a->pending = false;
	if (!a->in_set) {
		a->res.valid = false;
	} else if (!a->in_complete) {
		a->res.valid = false;
		a->res.incomplete++;
	} else {
		memcpy(a->cmp, a->in, a->nin * sizeof(*a->cmp));
		a->ncmp = a->nin;
		a->at = a->in_at;
		a->at_us = (uint64_t)(a->in_at * 1e6);
		a->pending = true;
	}
	pthread_mutex_unlock(&a->lock);
}

bool
tcpm_agree_due(const struct tcpm_agree *a, uint64_t time_us)
{
	return a->pending && time_us > a->at_us;
}

bool
tcpm_agree_overdue(const struct tcpm_agree *a, double now_wall)
{
	return a->pending && now_wall >= a->at + TCPM_AGREE_GRACE_S;
}

void
tcpm_agree_run(struct tcpm_agree *a, const struct model *m,
    const struct tcpm_agree_in *in)
{
	struct tcpm_agree_in i = *in;

	i.now_s = (uint32_t)a->at;
	a->pending = false;
	tcpm_agree_compute(m, &i, a->cmp, a->ncmp, &a->res);
	a->res.at = a->at;
	a->res.comparisons++;
}

const struct tcpm_agreement *
tcpm_agree_result(const struct tcpm_agree *a)
{
	return &a->res;
}
