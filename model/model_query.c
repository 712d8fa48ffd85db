/*
 * The model's read-outs (model.h): cumulative figures, the top sources,
 * and walks over the stamped peers. They only read the tables that
 * model.c fills (layout: model_impl.h).
 */
#include "model/model.h"

#include <string.h>

#include "model/model_impl.h"

void
model_stats(const struct model *m, struct model_stats *out)
{
	*out = m->st;
	out->evictions[MODEL_T_SOURCES] = srctab_evictions(m->src);
	out->peers = m->pused;
	out->tracked_connections = m->cused;
	out->sources = srctab_used(m->src);
}

static bool
src_better(const struct model_source *a, const struct model_source *b)
{
	if (a->predicted_rejections != b->predicted_rejections)
		return a->predicted_rejections > b->predicted_rejections;
	return a->syns > b->syns;
}

size_t
model_top_sources(const struct model *m, struct model_source *out, size_t n)
{
	size_t have = 0;
	uint32_t cap = srctab_capacity(m->src);

	if (n == 0)
		return 0;
	for (uint32_t i = 0; i < cap; i++) {
		struct model_source s;

		if (!srctab_in_use(m->src, i))
			continue;
		srctab_result(m->src, i, &s);
		if (have == n && !src_better(&s, &out[n - 1]))
			continue;
		size_t j = have < n ? have++ : n - 1;
		while (j > 0 && src_better(&s, &out[j - 1])) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = s;
	}
	return have;
}

/* FN for every stamped entry handed out so far, or only those fresh at
 * NOW_S when FRESH_ONLY; the count. */
static size_t
peers_walk(const struct model *m, bool fresh_only, uint32_t now_s,
    void (*fn)(void *arg, const struct model_peer *p), void *arg)
{
	size_t n = 0;

	/* Only entries handed out so far: untouched table pages stay so. */
	for (uint32_t b = 0; b < (m->pslots ? m->pnb : 1); b++) {
		uint32_t lo = m->pslots ? b * PSLOTS : 0;
		uint32_t hi = m->pslots ? lo + m->pslot[b].n : m->phw;

		for (uint32_t i = lo; i < hi; i++) {
			const struct peer *p = &m->peers[i];
			struct model_peer out;

			if (!p->in_use || p->stamp == 0 || (fresh_only &&
			    (uint32_t)(now_s - p->stamp) >= TCP_PAWS_MSL))
				continue;
			n++;
			if (fn == NULL)
				continue;
			out.family = p->family;
			memcpy(out.client, p->client, 16);
			memcpy(out.server, p->server, 16);
			out.ts = p->ts;
			out.stamp = p->stamp;
			fn(arg, &out);
		}
	}
	return n;
}

size_t
model_peers_fresh(const struct model *m, uint32_t now_s,
    void (*fn)(void *arg, const struct model_peer *p), void *arg)
{
	return peers_walk(m, true, now_s, fn, arg);
}

size_t
model_peers_stamped(const struct model *m,
    void (*fn)(void *arg, const struct model_peer *p), void *arg)
{
	return peers_walk(m, false, 0, fn, arg);
}

int
model_source_get(const struct model *m, uint8_t family,
    const uint8_t addr[16], struct model_source *out)
{
	uint8_t a[16] = { 0 };
	uint32_t i;

	memcpy(a, addr, family == 4 ? 4 : 16);
	if ((i = srctab_find(m->src, srctab_hash(family, a), family,
	    a)) == UINT32_MAX)
		return -1;
	srctab_result(m->src, i, out);
	return 0;
}
