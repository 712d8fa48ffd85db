/*
 * twaudit's own counters (HTTP requests, refusals, authentication, log
 * suppression): process-wide atomic counters that any thread bumps without
 * a lock. A snapshot copies them when it is built (selfstat_read), so
 * renderers see them like every other figure, as old as the snapshot.
 *
 * serve's web process counts in its own copy and sends it with every
 * request (web/ipc_proto.h); the collector keeps the highest value seen
 * per counter as the peer's (selfstat_peer_update), and selfstat_read()
 * is then its own plus the peer's.
 */
#ifndef TWAUDIT_SELFSTAT_H
#define TWAUDIT_SELFSTAT_H

#include <stdint.h>

enum selfstat_id {
	SELF_HTTP_AUTH_FAILURES,	/* wrong or missing credentials */
	SELF_HTTP_AUTH_THROTTLED,	/* refused at once by the token bucket */
	SELF_HTTP_REFUSED_LIMIT,	/* connection over the global limit */
	SELF_HTTP_REFUSED_PER_ADDRESS,	/* over the per-address limit */
	SELF_LOG_SUPPRESSED,		/* repeated log lines not written */
	SELF_IPC_REFUSED,		/* malformed messages from the web side */
	SELF_COUNT
};

struct selfstat_def {
	const char *metric;		/* family name */
	const char *labels;		/* "reason=\"limit\"" or "" */
	const char *help;
};

/* Indexed by enum selfstat_id; ids with one metric are consecutive. */
extern const struct selfstat_def selfstat_defs[SELF_COUNT];

/*
 * The handlers HTTP requests are counted by (the handler label): the
 * routes, and "other" for any other URL. A fixed set, so a client cannot
 * grow the label set.
 */
enum selfstat_handler {
	SELF_H_METRICS,			/* --web.telemetry-path */
	SELF_H_PAGE,			/* / */
	SELF_H_ADVICE,			/* /advice */
	SELF_H_MODEL,			/* /model */
	SELF_H_HISTORY,			/* /api/history */
	SELF_H_HEALTHZ,			/* /healthz */
	SELF_H_OTHER,			/* anything else (404) */
	SELF_NHANDLERS
};
extern const char *const selfstat_handler_name[SELF_NHANDLERS];

/*
 * Status codes counted each under its own code label: the ones twaudit or
 * libmicrohttpd send. Any other code is counted under code="other".
 */
#define SELF_NCODES 13
extern const unsigned selfstat_code[SELF_NCODES - 1];

/* Request duration buckets (upper bounds, seconds): client_golang's
 * prometheus.DefBuckets. */
#define SELF_NBUCKETS 11
extern const double selfstat_bucket_le[SELF_NBUCKETS];

/*
 * The HTTP request counters as plain data: a fixed-size struct of integers
 * with no pointers and no dynamic label set, so it can be copied as a
 * whole (into a snapshot, or from one process to another) and added to
 * another one (selfstat_http_add). bucket[h][i] counts the requests whose
 * duration fell in bucket i (not cumulative); bucket[h][SELF_NBUCKETS]
 * those above the largest bound. The histogram's count is the sum of a
 * handler's buckets, so its +Inf bucket always equals its count.
 */
struct selfstat_http {
	uint64_t requests[SELF_NHANDLERS][SELF_NCODES];
	uint64_t bucket[SELF_NHANDLERS][SELF_NBUCKETS + 1];
	uint64_t duration_us[SELF_NHANDLERS];	/* sum, microseconds */
};

struct selfstat_values {
	uint64_t v[SELF_COUNT];
	struct selfstat_http http;
};

void selfstat_add(enum selfstat_id id, uint64_t n);
/* One response of handler H, status CODE, SECONDS from request to end. */
void selfstat_http_observe(enum selfstat_handler h, unsigned code,
    double seconds);
/* Index of CODE in requests[h][] (SELF_NCODES - 1: "other"). */
unsigned selfstat_code_index(unsigned code);
/* DST += SRC, field by field. */
void selfstat_http_add(struct selfstat_http *dst,
    const struct selfstat_http *src);
/* This process's counters plus the peer's. */
void selfstat_read(struct selfstat_values *out);
/* This process's own counters only (what the web process sends). */
void selfstat_read_local(struct selfstat_values *out);
/*
 * Every counter of a struct selfstat_values is a uint64_t, with no padding
 * (checked in selfstat.c): it travels as SELFSTAT_NWORDS words.
 */
#define SELFSTAT_NWORDS (sizeof(struct selfstat_values) / sizeof(uint64_t))
/* Raise the peer's counters to V's where V's are higher (requests may
 * arrive out of order, and a counter never goes back). */
void selfstat_peer_update(const struct selfstat_values *v);
/*
 * Monotonic time of the last selfstat_peer_update (0: none yet). The
 * peer's counters that a selfstat_read() after this call returns are at
 * least that recent: the peer sends them only with its requests, so they
 * can be far older than the read.
 */
double selfstat_peer_at(void);
/* Zero this process's counters (a forked child starts its own count). */
void selfstat_reset_local(void);

#endif
