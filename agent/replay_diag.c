/*
 * Replay's diagnosis truth table (see replay_diag.h): a ring of pending
 * SYNs in arrival order (the oldest is evicted first) with a chained hash
 * index by 4-tuple.
 */
#include "agent/replay_diag.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define NIL		UINT32_MAX
#define BUCKETS		(2 * REPLAY_DIAG_PENDING)	/* power of two */
#define GRACE_US	1000000ull	/* as the model's UNANSWERED_GRACE_US */

struct pending {
	uint8_t client[16], server[16];
	uint16_t cport, sport;
	uint8_t family, live;
	uint32_t next;		/* hash chain */
	uint64_t time_us;
	uint64_t refused;	/* bit i: instance i refused this SYN */
};

struct replay_diag {
	struct pending *p;	/* ring of REPLAY_DIAG_PENDING */
	uint32_t *bucket;
	uint32_t tail;		/* next slot to fill */
	unsigned ninst;
	uint64_t all;		/* bits of every instance */
	uint64_t last_us;
	uint64_t unanswered, evictions;
	uint64_t explained[REPLAY_DIAG_MAX_INST];
	uint64_t answered_refused[REPLAY_DIAG_MAX_INST];
	uint64_t differ[REPLAY_DIAG_MAX_INST];	/* bit j: i and j differed */
};

struct replay_diag *
replay_diag_new(unsigned ninst, char *err, size_t errlen)
{
	struct replay_diag *d;

	if (ninst == 0 || ninst > REPLAY_DIAG_MAX_INST) {
		set_error(err, errlen, "diagnosis: %u instances", ninst);
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->p = calloc(REPLAY_DIAG_PENDING, sizeof(*d->p))) == NULL ||
	    (d->bucket = malloc(BUCKETS * sizeof(*d->bucket))) == NULL) {
		replay_diag_free(d);
		set_error(err, errlen, "out of memory");
		return NULL;
	}
	memset(d->bucket, 0xff, BUCKETS * sizeof(*d->bucket));
	d->ninst = ninst;
	d->all = ninst == 64 ? UINT64_MAX : (1ull << ninst) - 1;
	return d;
}

static uint32_t
key_hash(const struct pending *k)
{
	uint64_t h = 1469598103934665603ull ^ k->family;

	for (int i = 0; i < 16; i++)
		h = (h ^ k->client[i] ^ ((uint64_t)k->server[i] << 8)) *
		    1099511628211ull;
	h = (h ^ k->cport ^ ((uint64_t)k->sport << 16)) * 1099511628211ull;
	return (uint32_t)(h ^ (h >> 31)) & (BUCKETS - 1);
}

static bool
key_eq(const struct pending *a, const struct pending *b)
{
	return a->family == b->family && a->cport == b->cport &&
	    a->sport == b->sport && memcmp(a->client, b->client, 16) == 0 &&
	    memcmp(a->server, b->server, 16) == 0;
}

/* The key of EV's connection: client to server for a SYN, else reversed. */
static void
key_of(const struct tcp_event *ev, bool to_server, struct pending *k)
{
	memset(k, 0, sizeof(*k));
	k->family = ev->family;
	memcpy(k->client, to_server ? ev->src : ev->dst, 16);
	memcpy(k->server, to_server ? ev->dst : ev->src, 16);
	k->cport = to_server ? ev->sport : ev->dport;
	k->sport = to_server ? ev->dport : ev->sport;
}

/* Slot of the pending SYN with K's 4-tuple, NIL if none. */
static uint32_t
find(const struct replay_diag *d, const struct pending *k, uint32_t h)
{
	for (uint32_t i = d->bucket[h]; i != NIL; i = d->p[i].next)
		if (key_eq(&d->p[i], k))
			return i;
	return NIL;
}

static void
unlink_slot(struct replay_diag *d, uint32_t s)
{
	uint32_t *pp = &d->bucket[key_hash(&d->p[s])];

	while (*pp != s)
		pp = &d->p[*pp].next;
	*pp = d->p[s].next;
	d->p[s].live = 0;
}

/* Settle slot S: ANSWERED, or unanswered when FORCE or the grace passed
 * by NOW; otherwise it is dropped without a verdict. */
static void
settle(struct replay_diag *d, uint32_t s, bool answered, bool force,
    uint64_t now)
{
	const struct pending *e = &d->p[s];
	uint64_t m = e->refused;

	if (answered) {
		for (; m != 0; m &= m - 1)
			d->answered_refused[__builtin_ctzll(m)]++;
	} else if (force || (now >= e->time_us &&
	    now - e->time_us >= GRACE_US)) {
		d->unanswered++;
		for (; m != 0; m &= m - 1)
			d->explained[__builtin_ctzll(m)]++;
	}
	unlink_slot(d, s);
}

static void
on_syn(struct replay_diag *d, const struct tcp_event *ev, uint64_t refused)
{
	struct pending k;
	uint32_t h, s;

	key_of(ev, true, &k);
	h = key_hash(&k);
	/* The previous SYN of this 4-tuple got no SYN-ACK before this one. */
	if ((s = find(d, &k, h)) != NIL)
		settle(d, s, false, true, ev->time_us);
	s = d->tail;
	d->tail = (d->tail + 1) % REPLAY_DIAG_PENDING;
	if (d->p[s].live) {
		d->evictions++;
		settle(d, s, false, false, ev->time_us);
	}
	k.time_us = ev->time_us;
	k.refused = refused;
	k.live = 1;
	k.next = d->bucket[h];
	d->p[s] = k;
	d->bucket[h] = s;
	/* Instances that disagree on this SYN never predict the same. */
	if (refused != 0 && refused != d->all)
		for (unsigned i = 0; i < d->ninst; i++)
			d->differ[i] |= (refused >> i & 1) ?
			    d->all & ~refused : refused;
}

static void
on_synack(struct replay_diag *d, const struct tcp_event *ev)
{
	struct pending k;
	uint32_t s;

	key_of(ev, false, &k);
	if ((s = find(d, &k, key_hash(&k))) != NIL)
		settle(d, s, true, false, ev->time_us);
}

void
replay_diag_feed(void *arg, const struct tcp_event *ev, size_t n,
    const struct model_verdict *const *v, unsigned ninst)
{
	struct replay_diag *d = arg;

	if (ninst > d->ninst)
		ninst = d->ninst;
	for (size_t j = 0; j < n; j++) {
		const struct tcp_event *e = &ev[j];
		uint8_t sa = e->flags & (TCPF_SYN | TCPF_ACK);

		if (e->time_us > d->last_us)
			d->last_us = e->time_us;
		if (sa == TCPF_SYN && e->to_server) {
			uint64_t refused = 0;
			for (unsigned i = 0; i < ninst; i++)
				if (v[i][j].decision == MODEL_REJECT)
					refused |= 1ull << i;
			on_syn(d, e, refused);
		} else if (sa == (TCPF_SYN | TCPF_ACK) && !e->to_server) {
			on_synack(d, e);
		}
	}
}

void
replay_diag_finish(struct replay_diag *d)
{
	for (uint32_t s = 0; s < REPLAY_DIAG_PENDING; s++)
		if (d->p[s].live)
			settle(d, s, false, false, d->last_us);
}

void
replay_diag_match(const struct replay_diag *d, unsigned inst,
    struct replay_diag_match *out)
{
	memset(out, 0, sizeof(*out));
	if (inst >= d->ninst)
		return;
	out->explained = d->explained[inst];
	out->unexplained = d->unanswered - d->explained[inst];
	out->predicted_but_answered = d->answered_refused[inst];
}

bool
replay_diag_same(const struct replay_diag *d, unsigned a, unsigned b)
{
	if (a >= d->ninst || b >= d->ninst)
		return false;
	return a == b || (d->differ[a] >> b & 1) == 0;
}

uint64_t
replay_diag_unanswered(const struct replay_diag *d)
{
	return d->unanswered;
}

uint64_t
replay_diag_evictions(const struct replay_diag *d)
{
	return d->evictions;
}

size_t
replay_diag_memory_bound(void)
{
	return sizeof(struct replay_diag) +
	    REPLAY_DIAG_PENDING * sizeof(struct pending) +
	    BUCKETS * sizeof(uint32_t);
}

void
replay_diag_free(struct replay_diag *d)
{
	if (d == NULL)
		return;
	free(d->p);
	free(d->bucket);
	free(d);
}
