/* The web side of serve's IPC (ipc_client.h). */
#include "web/ipc_client.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/selfstat.h"
#include "lib/util.h"
#include "web/ipc_proto.h"

/* A body as received, shared by the requests the cache answers. */
struct cached {
	atomic_int refs;
	size_t len;
	char data[];
};

struct ipc_client {
	pthread_mutex_t lock;
	pthread_cond_t freed;	/* a channel was given back */
	double wait;		/* s, per request */
	atomic_uint next_id;
	size_t n;
	int *fd;		/* -1: broken, closed */
	bool *busy;
	/* The last 200 body per endpoint, format and encoding, with its
	 * generation (NULL shared: no cache). */
	const struct ipc_shared *shared;
	double min_interval;
	pthread_mutex_t cache_lock;
	struct cache_slot {
		struct cached *body;
		uint64_t generation;
		enum body_type type;
		bool gzip;
	} cache[BODY_NENDPOINTS][2][2];
};

static void
cached_unref(void *p)
{
	struct cached *b = p;

	if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

static struct cache_slot *
slot_of(struct ipc_client *c, const struct body_request *req)
{
	return &c->cache[req->endpoint][req->openmetrics][req->gzip];
}

/* OUT from the cache when the collector would answer REQ from the
 * snapshot whose body we have (collector_get's own rule): 0, else -1. */
static int
cache_lookup(struct ipc_client *c, const struct body_request *req,
    struct body *out)
{
	struct cache_slot *sl = slot_of(c, req);
	struct cached *b = NULL;
	uint64_t gen;
	double at;

	if (c->shared == NULL || ipc_shared_read(c->shared, &gen, &at) < 0 ||
	    gen == 0 || (req->endpoint != BODY_HISTORY &&
	    now_monotonic() - at >= c->min_interval))
		return -1;
	pthread_mutex_lock(&c->cache_lock);
	if (sl->body != NULL && sl->generation == gen) {
		b = sl->body;
		atomic_fetch_add(&b->refs, 1);
		memset(out, 0, sizeof(*out));
		out->status = 200;
		out->generation = gen;
		out->type = sl->type;
		out->gzip = sl->gzip;
	}
	pthread_mutex_unlock(&c->cache_lock);
	if (b == NULL)
		return -1;
	out->data = b->data;
	out->len = b->len;
	out->release = cached_unref;
	out->hold = b;
	return 0;
}

/* Keep OUT (a reply just received) for the next requests. */
static void
cache_store(struct ipc_client *c, const struct body_request *req,
    const struct body *out)
{
	struct cache_slot *sl = slot_of(c, req);
	struct cached *old = NULL;

	if (c->shared == NULL || out->status != 200 || out->generation == 0)
		return;
	pthread_mutex_lock(&c->cache_lock);
	if (sl->body == NULL || sl->generation < out->generation) {
		old = sl->body;
		sl->body = out->hold;
		atomic_fetch_add(&sl->body->refs, 1);
		sl->generation = out->generation;
		sl->type = out->type;
		sl->gzip = out->gzip;
	}
	pthread_mutex_unlock(&c->cache_lock);
	cached_unref(old);
}

/* Monotonic seconds T as an absolute timespec for the condition. */
static void
deadline_ts(double t, struct timespec *ts)
{
	ts->tv_sec = (time_t)t;
	ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* A free channel's index, waiting until DEADLINE; -1 when none. */
static int
acquire(struct ipc_client *c, double deadline)
{
	struct timespec ts;
	int got = -1;

	deadline_ts(deadline, &ts);
	pthread_mutex_lock(&c->lock);
	for (;;) {
		bool any = false;

		for (size_t i = 0; i < c->n && got < 0; i++) {
			any |= c->fd[i] >= 0;
			if (c->fd[i] >= 0 && !c->busy[i]) {
				c->busy[i] = true;
				got = (int)i;
			}
		}
		if (got >= 0 || !any || pthread_cond_timedwait(&c->freed,
		    &c->lock, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&c->lock);
	return got;
}

/* Give channel I back; BROKEN closes it (its stream cannot be trusted). */
static void
release_channel(struct ipc_client *c, int i, bool broken)
{
	pthread_mutex_lock(&c->lock);
	if (broken) {
		close(c->fd[i]);
		c->fd[i] = -1;
	}
	c->busy[i] = false;
	pthread_cond_broadcast(&c->freed);
	pthread_mutex_unlock(&c->lock);
}

/* One packet of at most LEN bytes into BUF by DEADLINE: its length, or
 * -1 (timeout, error, end, or a longer packet). */
static ssize_t
recv_packet(int fd, void *buf, size_t len, double deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	double left;
	ssize_t n;

	for (;;) {
		left = deadline - now_monotonic();
		if (left <= 0)
			return -1;
		if (poll(&p, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			return -1;
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
			return -1;
		return n;
	}
}

/* The body of reply R into OUT (a new reference to a struct cached).
 * 0 or -1. */
static int
recv_body(int fd, const struct ipc_reply *r, struct body *out,
    double deadline)
{
	struct cached *b = malloc(sizeof(*b) + r->body_len);

	if (b == NULL)
		return -1;
	for (size_t o = 0; o < r->body_len;) {
		size_t want = r->body_len - o < IPC_CHUNK ? r->body_len - o :
		    IPC_CHUNK;

		if (recv_packet(fd, b->data + o, want, deadline) !=
		    (ssize_t)want) {
			free(b);
			return -1;
		}
		o += want;
	}
	atomic_init(&b->refs, 1);
	b->len = r->body_len;
	memset(out, 0, sizeof(*out));
	out->status = r->status;
	out->generation = r->generation;
	out->type = r->type;
	out->gzip = r->gzip;
	out->data = b->data;
	out->len = b->len;
	out->release = cached_unref;
	out->hold = b;
	return 0;
}

/*
 * Request REQ on channel FD and read its reply. Replies to earlier
 * requests that timed out are read and dropped first. -1 breaks the
 * channel.
 */
static int
exchange(struct ipc_client *c, int fd, const struct body_request *req,
    struct body *out, double deadline, bool *timed_out)
{
	unsigned char msg[IPC_REQUEST_LEN], hdr[IPC_REPLY_LEN];
	struct ipc_request rq = { .req = *req };
	struct ipc_reply r;
	struct body stale;

	while ((rq.id = atomic_fetch_add(&c->next_id, 1)) == 0)
		;
	selfstat_read_local(&rq.counters);
	if (ipc_request_encode(&rq, msg, sizeof(msg)) != sizeof(msg))
		return -1;
	/* A full queue: the collector is behind on this channel. Nothing
	 * was sent, so the channel stays usable. */
	if (send(fd, msg, sizeof(msg), MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)sizeof(msg)) {
		*timed_out = errno == EAGAIN;
		return -1;
	}
	for (int stale_left = 64; stale_left > 0; stale_left--) {
		ssize_t n = recv_packet(fd, hdr, sizeof(hdr), deadline);

		if (n < 0) {
			*timed_out = now_monotonic() >= deadline;
			return -1;
		}
		if (ipc_reply_parse(hdr, (size_t)n, &r) != IPC_OK ||
		    recv_body(fd, &r, r.id == rq.id ? out : &stale,
		    deadline) < 0)
			return -1;
		if (r.id == rq.id)
			return 0;
		body_release(&stale);
	}
	return -1;
}

static int
client_get(void *ctx, const struct body_request *req, struct body *out)
{
	struct ipc_client *c = ctx;
	double deadline = now_monotonic() + c->wait;
	bool timed_out = false;
	int i, rc;

	if (cache_lookup(c, req, out) == 0)
		return 0;
	if ((i = acquire(c, deadline)) < 0)
		return -1;
	rc = exchange(c, c->fd[i], req, out, deadline, &timed_out);
	/* A reply that is late, not broken, is dropped by the next user. */
	release_channel(c, i, rc < 0 && !timed_out);
	if (rc == 0)
		cache_store(c, req, out);
	return rc;
}

struct ipc_client *
ipc_client_new(const int *fds, size_t n, double wait,
    const struct ipc_shared *shared, double min_interval)
{
	struct ipc_client *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		c->fd = calloc(n, sizeof(*c->fd));
		c->busy = calloc(n, sizeof(*c->busy));
	}
	if (c == NULL || c->fd == NULL || c->busy == NULL) {
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
		if (c != NULL) {
			free(c->fd);
			free(c->busy);
		}
		free(c);
		return NULL;
	}
	memcpy(c->fd, fds, n * sizeof(*fds));
	c->n = n;
	c->wait = wait;
	c->shared = shared;
	c->min_interval = min_interval;
	atomic_init(&c->next_id, 1);
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->cache_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&c->freed, &ca);
		pthread_condattr_destroy(&ca);
	}
	return c;
}

struct body_source
ipc_client_source(struct ipc_client *c)
{
	return (struct body_source){ .get = client_get, .ctx = c };
}

void
ipc_client_free(struct ipc_client *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	for (int e = 0; e < BODY_NENDPOINTS; e++)
		for (int f = 0; f < 2; f++)
			for (int z = 0; z < 2; z++)
				cached_unref(c->cache[e][f][z].body);
	pthread_cond_destroy(&c->freed);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->cache_lock);
	free(c->fd);
	free(c->busy);
	free(c);
}
