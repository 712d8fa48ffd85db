/*
 * Direction of live-captured segments (see live_dir.h).
 */
#include "agent/live_dir.h"

#include <stdlib.h>
#include <string.h>

/* Local<->local direction cache entry (canonical order a < b). */
struct flow {
	uint8_t used, family, client_is_a;
	uint8_t a[16], b[16];
	uint16_t pa, pb;
};

struct live_dir {
	struct sampler_addr server[SAMPLER_MAX_SERVERS];
	size_t nservers;
	unsigned ratio;
	struct flow *flows;		/* LIVE_FLOW_SLOTS */
	struct live_dir_counts n;
};

struct live_dir *
live_dir_new(const struct sampler_addr *servers, size_t n, unsigned ratio)
{
	struct live_dir *d = calloc(1, sizeof(*d));

	if (d == NULL || (d->flows = calloc(LIVE_FLOW_SLOTS,
	    sizeof(*d->flows))) == NULL) {
		free(d);
		return NULL;
	}
	if (n > SAMPLER_MAX_SERVERS)
		n = SAMPLER_MAX_SERVERS;
	memcpy(d->server, servers, n * sizeof(*servers));
	d->nservers = n;
	d->ratio = ratio;
	return d;
}

void
live_dir_free(struct live_dir *d)
{
	if (d == NULL)
		return;
	free(d->flows);
	free(d);
}

const struct live_dir_counts *
live_dir_counts(const struct live_dir *d)
{
	return &d->n;
}

static bool
addr_eq(const struct sampler_addr *a, uint8_t family, const uint8_t *addr)
{
	return a->family == family &&
	    memcmp(a->addr, addr, family == 4 ? 4 : 16) == 0;
}

static bool
is_server(const struct live_dir *s, uint8_t family, const uint8_t *addr)
{
	for (size_t i = 0; i < s->nservers; i++)
		if (addr_eq(&s->server[i], family, addr))
			return true;
	return false;
}

static uint32_t
flow_hash(const struct flow *f)
{
	uint32_t h = 2166136261u;
	size_t alen = f->family == 4 ? 4 : 16;

	for (size_t i = 0; i < alen; i++)
		h = (h ^ f->a[i]) * 16777619u;
	for (size_t i = 0; i < alen; i++)
		h = (h ^ f->b[i]) * 16777619u;
	h = (h ^ f->pa) * 16777619u;
	h = (h ^ f->pb) * 16777619u;
	return h & (LIVE_FLOW_SLOTS - 1);
}

/*
 * Direction of a local<->local segment: learnt from the SYN (its sender
 * is the client) and the SYN-ACK (its receiver is); otherwise the end
 * with the lower port is taken as the server. Returns 1 when the source
 * is the client.
 */
static int
local_direction(struct live_dir *s, const struct tcp_event *ev)
{
	struct flow f;
	size_t alen = ev->family == 4 ? 4 : 16;
	int c = memcmp(ev->src, ev->dst, alen);
	bool src_is_a = c < 0 || (c == 0 && ev->sport <= ev->dport);
	struct flow *slot;

	memset(&f, 0, sizeof(f));
	f.family = ev->family;
	memcpy(f.a, src_is_a ? ev->src : ev->dst, alen);
	memcpy(f.b, src_is_a ? ev->dst : ev->src, alen);
	f.pa = src_is_a ? ev->sport : ev->dport;
	f.pb = src_is_a ? ev->dport : ev->sport;
	slot = &s->flows[flow_hash(&f)];
	if ((ev->flags & (TCPF_SYN | TCPF_RST)) == TCPF_SYN) {
		/* SYN: the sender is the client; SYN-ACK: the receiver. */
		bool src_client = (ev->flags & TCPF_ACK) == 0;

		f.used = 1;
		f.client_is_a = src_client == src_is_a;
		*slot = f;
		return src_client;
	}
	if (slot->used && slot->family == f.family && slot->pa == f.pa &&
	    slot->pb == f.pb && memcmp(slot->a, f.a, alen) == 0 &&
	    memcmp(slot->b, f.b, alen) == 0)
		return slot->client_is_a == src_is_a;
	return ev->sport > ev->dport || (ev->sport == ev->dport);
}

/* Direction and sampling of EV: false when the models do not see it. */
bool
live_dir_admit(struct live_dir *s, struct tcp_event *ev)
{
	bool src_local = is_server(s, ev->family, ev->src);
	bool dst_local = is_server(s, ev->family, ev->dst);
	const uint8_t *client;

	if (src_local && dst_local)
		ev->to_server = (uint8_t)local_direction(s, ev);
	else if (dst_local)
		ev->to_server = 1;
	else if (src_local)
		ev->to_server = 0;
	else {
		s->n.foreign++;
		return false;
	}
	client = ev->to_server ? ev->src : ev->dst;
	if (!sampler_client_sampled(ev->family, client, s->ratio)) {
		s->n.unsampled++;
		return false;
	}
	s->n.fed++;
	return true;
}
