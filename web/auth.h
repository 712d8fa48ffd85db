/*
 * HTTP basic authentication against basic_auth_users (webconfig.h), built
 * so that wrong passwords cannot slow down the right ones:
 *
 * - Verified successes only are remembered, one slot per user name, under
 *   an HMAC-SHA-256 (per-process random key) of user, password and bcrypt
 *   hash. Attackers cannot evict them; a remembered success skips bcrypt
 *   for AUTH_CACHE_SECONDS, and a changed hash (new password) no longer
 *   matches. When a slot has gone stale, the same credentials are checked
 *   again ahead of everything else and are never throttled: only someone
 *   who knows the password can produce them.
 * - Everything else costs a token from the client address's bucket
 *   (AUTH_ADDR_BURST, refilled AUTH_ADDR_PER_SECOND; IPv6 by /64) and an
 *   estimated bcrypt time from a process-wide budget (AUTH_BUDGET_*), of
 *   which AUTH_BUDGET_RESERVE is kept for addresses with no unverified try
 *   for AUTH_CLEAN_SECONDS. An empty bucket or budget answers at once, without
 *   bcrypt (throttled). A success gives its token back.
 * - bcrypt runs on AUTH_WORKERS threads behind a queue of AUTH_QUEUE jobs;
 *   a full queue or a wait over AUTH_WAIT_SECONDS answers "busy".
 *
 * auth_check() counts failures and throttled requests in selfstat.
 */
#ifndef TWAUDIT_AUTH_H
#define TWAUDIT_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct webconfig;

#define AUTH_CACHE_SECONDS 60.0
#define AUTH_USER_SLOTS 64		/* remembered successes, one per user */
#define AUTH_ADDR_SLOTS 4096		/* per-address buckets (LRU) */
#define AUTH_ADDR_BURST 5.0		/* failures an address may have at once */
#define AUTH_ADDR_PER_SECOND 0.5	/* and then one every 2 s */
#define AUTH_BUDGET_SECONDS 1.0		/* bcrypt time all failures may take */
#define AUTH_BUDGET_PER_SECOND 0.25	/* refill: a quarter of a core */
#define AUTH_BUDGET_RESERVE 0.5		/* of it, for addresses without failures */
#define AUTH_CLEAN_SECONDS 30.0		/* no unverified try for that long */
#define AUTH_WORKERS 2
#define AUTH_QUEUE 8
#define AUTH_WAIT_SECONDS 2.0
#define AUTH_MAX_USER 256		/* decoded user name, with its NUL */
#define AUTH_MAX_PASSWORD 1024		/* decoded password, with its NUL */

enum auth_verdict {
	AUTH_OK,
	AUTH_DENIED,		/* wrong or missing credentials */
	AUTH_THROTTLED,		/* refused without checking */
	AUTH_BUSY,		/* the bcrypt queue is full or too slow */
};

/*
 * Parse the LEN bytes of an Authorization header value: the scheme
 * "Basic" in any case, spaces, base64 of "USER:PASSWORD" (padding
 * optional). USER (no ':') and PASSWORD (which may contain ':') come back
 * NUL-terminated. -1 for another scheme, bad base64, no ':', a NUL or
 * control character, or a part too long for its buffer.
 */
int auth_parse_basic(const char *hdr, size_t len, char *user, size_t userlen,
    char *pass, size_t passlen);

struct auth;

/* A checker with its own key, caches and workers (started when needed). */
struct auth *auth_new(void);
void auth_free(struct auth *a);
/* The process-wide checker the HTTP server uses (never freed). */
struct auth *auth_global(void);
/*
 * Start A's bcrypt workers now rather than at the first check, so they are
 * made by the thread loading the config, before the seccomp filter, and
 * not by an HTTP thread. http_start() and http_reload() call it for configs
 * with users.
 */
void auth_prepare(struct auth *a);

/*
 * Check USER/PASSWORD from PEER (NULL: no address bucket) against WC's
 * basic_auth_users. Blocks the caller until bcrypt answers, at most
 * AUTH_WAIT_SECONDS.
 */
enum auth_verdict auth_check(struct auth *a, const struct webconfig *wc,
    const struct sockaddr *peer, const char *user, const char *password);
/* A request without usable credentials: counted, answered at once. */
void auth_count_missing(void);

struct auth_stats {
	uint64_t bcrypt_runs;		/* bcrypt computations */
	uint64_t cache_hits;		/* successes answered from a slot */
	uint64_t addr_evictions;	/* buckets dropped for new addresses */
	uint64_t throttled, busy;
};
void auth_get_stats(struct auth *a, struct auth_stats *out);

#endif
