/* HTTP connection accounting, in all and per client address (connlimit.h). */
#include "web/connlimit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define CONNLIMIT_BUCKETS 4096		/* power of two */

struct connlimit_entry {
	struct connlimit_entry *next;
	uint8_t addr[16];		/* IPv6, or IPv4 mapped (::ffff:a.b.c.d) */
	unsigned n;			/* connections open from addr */
};

struct connlimit {
	pthread_mutex_t lock;
	unsigned max_total, max_per_addr;
	unsigned total;
	uint64_t seed;			/* random: buckets cannot be aimed at */
	struct connlimit_entry *bucket[CONNLIMIT_BUCKETS];
};

/* SA's address as 16 bytes; other families share the all-zero key. */
static void
addr_key(const struct sockaddr *sa, socklen_t len, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		key[10] = key[11] = 0xff;
		memcpy(key + 12, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 &&
	    len >= sizeof(struct sockaddr_in6)) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static size_t
bucket_of(const struct connlimit *cl, const uint8_t key[16])
{
	uint64_t a, b;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	return (size_t)(mix(mix(a ^ cl->seed) ^ b) & (CONNLIMIT_BUCKETS - 1));
}

static struct connlimit_entry *
find(const struct connlimit *cl, const uint8_t key[16])
{
	struct connlimit_entry *e = cl->bucket[bucket_of(cl, key)];

	while (e != NULL && memcmp(e->addr, key, 16) != 0)
		e = e->next;
	return e;
}

struct connlimit *
connlimit_new(unsigned max_total, unsigned max_per_addr)
{
	struct connlimit *cl = calloc(1, sizeof(*cl));

	if (cl == NULL)
		return NULL;
	pthread_mutex_init(&cl->lock, NULL);
	cl->max_total = max_total;
	cl->max_per_addr = max_per_addr;
	if (getrandom(&cl->seed, sizeof(cl->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(cl->seed))
		cl->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)cl;
	return cl;
}

void
connlimit_free(struct connlimit *cl)
{
	if (cl == NULL)
		return;
	for (size_t i = 0; i < CONNLIMIT_BUCKETS; i++) {
		struct connlimit_entry *e = cl->bucket[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&cl->lock);
	free(cl);
}

enum connlimit_verdict
connlimit_reserve(struct connlimit *cl, const struct sockaddr *sa,
    socklen_t len, struct connlimit_entry **out)
{
	enum connlimit_verdict v = CONNLIMIT_OK;
	struct connlimit_entry *e;
	uint8_t key[16];

	*out = NULL;
	addr_key(sa, len, key);
	pthread_mutex_lock(&cl->lock);
	e = find(cl, key);
	if (cl->total >= cl->max_total) {
		v = CONNLIMIT_TOTAL;
	} else if (e != NULL && e->n >= cl->max_per_addr) {
		v = CONNLIMIT_PER_ADDRESS;
	} else if (e == NULL && (e = calloc(1, sizeof(*e))) == NULL) {
		v = CONNLIMIT_NOMEM;
	} else {
		if (e->n == 0) {
			size_t b = bucket_of(cl, key);

			memcpy(e->addr, key, 16);
			e->next = cl->bucket[b];
			cl->bucket[b] = e;
		}
		e->n++;
		cl->total++;
		*out = e;
	}
	pthread_mutex_unlock(&cl->lock);
	return v;
}

void
connlimit_release(struct connlimit *cl, struct connlimit_entry *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&cl->lock);
	if (cl->total > 0)
		cl->total--;
	if (--e->n == 0) {
		struct connlimit_entry **p = &cl->bucket[bucket_of(cl, e->addr)];

		while (*p != NULL && *p != e)
			p = &(*p)->next;
		if (*p == e)
			*p = e->next;
		free(e);
	}
	pthread_mutex_unlock(&cl->lock);
}

unsigned
connlimit_total(struct connlimit *cl)
{
	unsigned n;

	pthread_mutex_lock(&cl->lock);
	n = cl->total;
	pthread_mutex_unlock(&cl->lock);
	return n;
}

unsigned
connlimit_from(struct connlimit *cl, const struct sockaddr *sa,
    socklen_t len)
{
	struct connlimit_entry *e;
	uint8_t key[16];
	unsigned n;

	addr_key(sa, len, key);
	pthread_mutex_lock(&cl->lock);
	n = (e = find(cl, key)) != NULL ? e->n : 0;
	pthread_mutex_unlock(&cl->lock);
	return n;
}
