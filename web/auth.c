/* HTTP basic authentication: cache, throttle, bcrypt workers (auth.h). */
#include "web/auth.h"

#include <crypt.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/selfstat.h"
#include "lib/util.h"
#include "web/webconfig.h"

#define TAG_LEN 32			/* HMAC-SHA-256 */

struct user_slot {
	bool used;
	unsigned char user_tag[TAG_LEN];	/* HMAC of the user name */
	unsigned char cred_tag[TAG_LEN];	/* HMAC of user, password, hash */
	double verified, used_at;		/* monotonic */
};

struct addr_slot {
	bool used;
	unsigned char addr[16];		/* IPv4-mapped, or an IPv6 /64 */
	double tokens, stamp, used_at;
	double last_try;		/* last unverified attempt, or -1 */
};

struct job {
	int refs;			/* the waiting caller and the worker */
	bool done, ok;
	char *password;
	char hash[64];
	struct job *next;
};

struct auth {
	unsigned char key[32];		/* HMAC key, random per process */
	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t work, done;
	struct user_slot users[AUTH_USER_SLOTS];
	struct addr_slot addrs[AUTH_ADDR_SLOTS];
	double budget, budget_stamp;	/* seconds of bcrypt for failures */
	double bcrypt_estimate;		/* seconds, moving average */
	struct job *head, *tail;
	size_t queued;
	bool started, stopping;
	size_t nthreads, nclaimed;
	pthread_t threads[AUTH_WORKERS];
	struct crypt_data *cdata[AUTH_WORKERS];	/* one per worker, owned here */
	struct auth_stats stats;
};

/* --- the Authorization header ------------------------------------------ */

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode LEN base64 characters (padding optional) into OUT; -1 if bad. */
static int
b64_decode(const char *in, size_t len, unsigned char *out, size_t outlen,
    size_t *outn)
{
	uint32_t acc = 0;
	size_t n = 0, bits = 0, pad = 0;

	for (size_t i = 0; i < len; i++) {
		int v;

		if (in[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64_value((unsigned char)in[i])) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= outlen)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* A lone trailing character, too much padding, or stray bits. */
	if (bits >= 6 || pad > 2 || (pad > 0 && (len % 4) != 0) ||
	    (acc & ((1u << bits) - 1)) != 0)
		return -1;
	*outn = n;
	return 0;
}

int
auth_parse_basic(const char *hdr, size_t len, char *user, size_t userlen,
    char *pass, size_t passlen)
{
	unsigned char buf[AUTH_MAX_USER + AUTH_MAX_PASSWORD];
	size_t i = 5, start, n, ulen;
	const unsigned char *colon;
	int rc = -1;

	/* RFC 7235: the scheme is case-insensitive, then 1*SP. */
	if (len < 6 || strncasecmp(hdr, "Basic", 5) != 0 || hdr[5] != ' ')
		return -1;
	while (i < len && hdr[i] == ' ')
		i++;
	start = i;
	while (len > start && hdr[len - 1] == ' ')
		len--;
	if (b64_decode(hdr + start, len - start, buf, sizeof(buf), &n) < 0)
		goto out;
	for (size_t j = 0; j < n; j++)
		if (buf[j] < 0x20 || buf[j] == 0x7f)
			goto out;	/* NUL (would truncate) or control */
	colon = memchr(buf, ':', n);
	if (colon == NULL)
		goto out;
	ulen = (size_t)(colon - buf);
	if (ulen >= userlen || n - ulen - 1 >= passlen)
		goto out;
	memcpy(user, buf, ulen);
	user[ulen] = '\0';
	memcpy(pass, colon + 1, n - ulen - 1);
	pass[n - ulen - 1] = '\0';
	rc = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* --- bcrypt workers --------------------------------------------------- */

static bool
const_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static void
job_unref(struct job *j)
{
	if (--j->refs > 0)
		return;
	explicit_bzero(j->password, strlen(j->password));
	free(j->password);
	free(j);
}

static void *
worker(void *arg)
{
	struct auth *a = arg;
	struct crypt_data *cd;

	pthread_setname_np(pthread_self(), "twaudit-bcrypt");
	pthread_mutex_lock(&a->lock);
	cd = a->cdata[a->nclaimed++];
	for (;;) {
		struct job *j;
		const char *out;
		double t0, dt;
		bool ok;

		while (a->head == NULL && !a->stopping)
			pthread_cond_wait(&a->work, &a->lock);
		if (a->head == NULL)
			break;
		j = a->head;
		a->head = j->next;
		if (a->head == NULL)
			a->tail = NULL;
		a->queued--;
		if (j->refs == 1) {	/* the caller gave up: skip the work */
			job_unref(j);
			continue;
		}
		a->stats.bcrypt_runs++;
		pthread_mutex_unlock(&a->lock);
		t0 = now_monotonic();
		/* crypt_rn: libxcrypt's reentrant form, NULL on failure (and
		 * not intercepted by ASan, whose crypt_r wrapper crashes). */
		out = crypt_rn(j->password, j->hash, cd, (int)sizeof(*cd));
		ok = out != NULL && out[0] != '*' && const_eq(out, j->hash);
		explicit_bzero(cd, sizeof(*cd));
		dt = now_monotonic() - t0;
		pthread_mutex_lock(&a->lock);
		a->bcrypt_estimate = 0.8 * a->bcrypt_estimate + 0.2 * dt;
		j->ok = ok;
		j->done = true;
		job_unref(j);
		pthread_cond_broadcast(&a->done);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* Start the workers on first use (after the sandbox: clone for threads
 * is allowed). Called with the lock held. */
static void
start_workers(struct auth *a)
{
	sigset_t all, saved;

	if (a->started)
		return;
	a->started = true;
	/* Workers never take signals (serve's main thread sigwaits for
	 * them, and may not have blocked them yet). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	for (size_t i = 0; i < AUTH_WORKERS; i++) {
		if ((a->cdata[a->nthreads] = calloc(1, sizeof(struct crypt_data)))
		    == NULL)
			break;
		if (pthread_create(&a->threads[a->nthreads], NULL, worker, a) != 0) {
			free(a->cdata[a->nthreads]);
			a->cdata[a->nthreads] = NULL;
			break;
		}
		a->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

static void
abs_deadline(struct timespec *ts, double seconds)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)seconds;
	ts->tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * Run bcrypt(PASSWORD, HASH) on a worker and wait for it, at most
 * AUTH_WAIT_SECONDS. URGENT jobs (a remembered user's credentials) go to
 * the head of the queue and may exceed its bound by the number of waiting
 * callers. 1 match, 0 no match, -1 busy. Called with the lock held.
 */
static int
run_bcrypt(struct auth *a, const char *password, const char *hash,
    bool urgent)
{
	struct timespec deadline;
	struct job *j;
	int rc;

	start_workers(a);
	if (a->nthreads == 0 || (!urgent && a->queued >= AUTH_QUEUE))
		return -1;
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->password = strdup(password)) == NULL) {
		free(j);
		return -1;
	}
	snprintf(j->hash, sizeof(j->hash), "%s", hash);
	j->refs = 2;
	if (urgent || a->head == NULL) {
		j->next = a->head;
		a->head = j;
		if (a->tail == NULL)
			a->tail = j;
	} else {
		a->tail->next = j;
		a->tail = j;
	}
	a->queued++;
	pthread_cond_signal(&a->work);
	abs_deadline(&deadline, AUTH_WAIT_SECONDS);
	while (!j->done && pthread_cond_timedwait(&a->done, &a->lock,
	    &deadline) != ETIMEDOUT)
		;
	rc = j->done ? j->ok : -1;
	job_unref(j);
	return rc;
}

/* --- remembered successes and buckets ----------------------------------- */

static void
hmac_tag(const struct auth *a, const char *user, const char *password,
    const char *hash, unsigned char out[TAG_LEN])
{
	gnutls_hmac_hd_t h;

	memset(out, 0, TAG_LEN);
	if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, a->key, sizeof(a->key)) < 0)
		return;
	/* Every part with its NUL: "a" + "b:c" never equals "a:b" + "c". */
	gnutls_hmac(h, user, strlen(user) + 1);
	if (password != NULL) {
		gnutls_hmac(h, password, strlen(password) + 1);
		gnutls_hmac(h, hash, strlen(hash) + 1);
	}
	gnutls_hmac_deinit(h, out);
}

static struct user_slot *
user_slot(struct auth *a, const unsigned char tag[TAG_LEN], bool make,
    double now)
{
	struct user_slot *oldest = NULL;

	for (size_t i = 0; i < AUTH_USER_SLOTS; i++) {
		struct user_slot *s = &a->users[i];

		if (s->used && memcmp(s->user_tag, tag, TAG_LEN) == 0)
			return s;
		if (oldest == NULL || !s->used ||
		    (oldest->used && s->used_at < oldest->used_at))
			oldest = s;
	}
	if (!make)
		return NULL;
	/* Only verified successes get here: configured users, not clients. */
	memset(oldest, 0, sizeof(*oldest));
	memcpy(oldest->user_tag, tag, TAG_LEN);
	oldest->used = true;
	oldest->used_at = now;
	return oldest;
}

/* The bucket key: IPv4 (or IPv4-mapped) whole, IPv6 by its /64. */
static bool
addr_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		key[10] = key[11] = 0xff;
		memcpy(key + 12, &s4->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		memcpy(key, &s6->sin6_addr, 16);
		if (!IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			memset(key + 8, 0, 8);
		return true;
	}
	return false;
}

static size_t
addr_hash(const struct auth *a, const unsigned char key[16])
{
	uint64_t h = 1469598103934665603ull ^ a->key[0];

	for (size_t i = 0; i < 16; i++)
		h = (h ^ key[i]) * 1099511628211ull;
	return (size_t)(h % AUTH_ADDR_SLOTS);
}

/* The bucket of KEY, refilled to NOW; a new one (full) evicts the least
 * recently used of its probe window. */
static struct addr_slot *
addr_bucket(struct auth *a, const unsigned char key[16], double now)
{
	size_t h = addr_hash(a, key);
	struct addr_slot *victim = NULL, *s;

	for (size_t i = 0; i < 8; i++) {
		s = &a->addrs[(h + i) % AUTH_ADDR_SLOTS];
		if (s->used && memcmp(s->addr, key, 16) == 0) {
			s->tokens += (now - s->stamp) * AUTH_ADDR_PER_SECOND;
			if (s->tokens > AUTH_ADDR_BURST)
				s->tokens = AUTH_ADDR_BURST;
			s->stamp = s->used_at = now;
			return s;
		}
		if (victim == NULL || !s->used ||
		    (victim->used && s->used_at < victim->used_at))
			victim = s;
	}
	if (victim->used)
		a->stats.addr_evictions++;
	memcpy(victim->addr, key, 16);
	victim->used = true;
	victim->tokens = AUTH_ADDR_BURST;
	victim->stamp = victim->used_at = now;
	victim->last_try = -1;
	return victim;
}

static void
refill_budget(struct auth *a, double now)
{
	a->budget += (now - a->budget_stamp) * AUTH_BUDGET_PER_SECOND;
	if (a->budget > AUTH_BUDGET_SECONDS)
		a->budget = AUTH_BUDGET_SECONDS;
	a->budget_stamp = now;
}

/* --- checks -------------------------------------------------------------- */

struct auth *
auth_new(void)
{
	struct auth *a = calloc(1, sizeof(*a));
	pthread_condattr_t ca;

	if (a == NULL)
		return NULL;
	if (gnutls_rnd(GNUTLS_RND_KEY, a->key, sizeof(a->key)) < 0) {
		free(a);
		return NULL;
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->done, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&a->work, NULL);
	a->budget = AUTH_BUDGET_SECONDS;
	a->budget_stamp = now_monotonic();
	a->bcrypt_estimate = 0.1;
	return a;
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	a->stopping = true;
	pthread_cond_broadcast(&a->work);
	pthread_mutex_unlock(&a->lock);
	for (size_t i = 0; i < a->nthreads; i++) {
		pthread_join(a->threads[i], NULL);
		free(a->cdata[i]);
	}
	while (a->head != NULL) {
		struct job *j = a->head;

		a->head = j->next;
		job_unref(j);
	}
	pthread_cond_destroy(&a->work);
	pthread_cond_destroy(&a->done);
	pthread_mutex_destroy(&a->lock);
	explicit_bzero(a, sizeof(*a));
	free(a);
}

static struct auth *global_auth;
static pthread_once_t global_once = PTHREAD_ONCE_INIT;

/* At exit (after serve has stopped its HTTP daemons): stop and join the
 * workers, so no thread is left holding a job or a crypt buffer. */
static void
global_free(void)
{
	auth_free(global_auth);
	global_auth = NULL;
}

static void
global_init(void)
{
	global_auth = auth_new();
	if (global_auth != NULL)
		atexit(global_free);
}

struct auth *
auth_global(void)
{
	pthread_once(&global_once, global_init);
	return global_auth;
}

void
auth_prepare(struct auth *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	start_workers(a);
	pthread_mutex_unlock(&a->lock);
}

void
auth_count_missing(void)
{
	selfstat_add(SELF_HTTP_AUTH_FAILURES, 1);
}

/*
 * Take a token from the bucket of address KEY and an estimated bcrypt time
 * from the budget; false (nothing taken) when either is empty. Every try
 * marks the address (*PREV_TRY: the mark before, to restore on success).
 * Lock held.
 */
static bool
take_tokens(struct auth *a, const unsigned char key[16], bool has_key,
    double now, double *cost, struct addr_slot **bucket, double *prev_try)
{
	double floor = AUTH_BUDGET_RESERVE;

	*bucket = NULL;
	refill_budget(a, now);
	if (has_key) {
		struct addr_slot *b = addr_bucket(a, key, now);

		*bucket = b;
		*prev_try = b->last_try;
		/* An address with no unverified try for a while may use the
		 * reserve: attackers on a few addresses, throttled or not,
		 * cannot lock a new login from elsewhere out. */
		if (b->last_try < 0 || now - b->last_try >= AUTH_CLEAN_SECONDS)
			floor = 0;
		b->last_try = now;
		if (b->tokens < 1.0)
			return false;
	}
	/*
	 * An address with recent tries must leave the reserve whole. A
	 * clean one needs only some budget and may take it below zero (a
	 * debt): a bcrypt slower than the whole budget (a busy machine, a
	 * high cost) must not lock every new login out.
	 */
	if (floor > 0 ? a->budget - a->bcrypt_estimate < floor :
	    a->budget <= 0)
		return false;
	if (*bucket != NULL)
		(*bucket)->tokens -= 1.0;
	*cost = a->bcrypt_estimate;
	a->budget -= *cost;
	return true;
}

static enum auth_verdict
refuse(struct auth *a, enum auth_verdict v)
{
	if (v == AUTH_THROTTLED)
		a->stats.throttled++;
	if (v == AUTH_BUSY)
		a->stats.busy++;
	pthread_mutex_unlock(&a->lock);
	selfstat_add(SELF_HTTP_AUTH_FAILURES, 1);
	if (v != AUTH_DENIED)
		selfstat_add(SELF_HTTP_AUTH_THROTTLED, 1);
	return v;
}

enum auth_verdict
auth_check(struct auth *a, const struct webconfig *wc,
    const struct sockaddr *peer, const char *user, const char *password)
{
	unsigned char utag[TAG_LEN], ctag[TAG_LEN], key[16];
	bool has_key = addr_key(peer, key);
	const char *hash = webconfig_user_hash(wc, user);
	struct addr_slot *bucket = NULL;
	struct user_slot *slot = NULL;
	bool known = hash != NULL, remembered = false;
	double now, cost = 0, prev_try = -1;
	int rc;

	if (a == NULL || webconfig_decoy_hash(wc) == NULL) {
		selfstat_add(SELF_HTTP_AUTH_FAILURES, 1);
		return AUTH_DENIED;
	}
	if (!known)
		hash = webconfig_decoy_hash(wc);	/* same cost, no oracle */
	hmac_tag(a, user, NULL, NULL, utag);
	hmac_tag(a, user, password, hash, ctag);
	pthread_mutex_lock(&a->lock);
	now = now_monotonic();	/* under the lock: stamps never go back */
	if (known && (slot = user_slot(a, utag, false, now)) != NULL &&
	    memcmp(slot->cred_tag, ctag, TAG_LEN) == 0) {
		slot->used_at = now;
		if (now - slot->verified < AUTH_CACHE_SECONDS) {
			a->stats.cache_hits++;
			pthread_mutex_unlock(&a->lock);
			return AUTH_OK;
		}
		remembered = true;	/* stale: check again, never throttle */
	}
	if (!remembered && !take_tokens(a, key, has_key, now, &cost,
	    &bucket, &prev_try))
		return refuse(a, AUTH_THROTTLED);
	rc = run_bcrypt(a, password, hash, remembered);
	if (rc < 0)
		return refuse(a, AUTH_BUSY);
	if (rc == 0 || !known)
		return refuse(a, AUTH_DENIED);
	/* A success gives back what it took (unless the bucket went to
	 * another address while bcrypt ran). */
	a->budget += cost;
	if (bucket != NULL && memcmp(bucket->addr, key, 16) == 0) {
		if (bucket->tokens + 1.0 <= AUTH_ADDR_BURST)
			bucket->tokens += 1.0;
		bucket->last_try = prev_try;
	}
	slot = user_slot(a, utag, true, now);
	memcpy(slot->cred_tag, ctag, TAG_LEN);
	slot->verified = now_monotonic();
	pthread_mutex_unlock(&a->lock);
	return AUTH_OK;
}

void
auth_get_stats(struct auth *a, struct auth_stats *out)
{
	pthread_mutex_lock(&a->lock);
	*out = a->stats;
	pthread_mutex_unlock(&a->lock);
}
