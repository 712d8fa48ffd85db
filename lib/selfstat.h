/*
 * twaudit's own counters (HTTP refusals, authentication, log suppression):
 * process-wide atomic counters that any thread bumps without a lock. A
 * snapshot copies them when it is built (selfstat_read), so renderers see
 * them like every other figure, as old as the snapshot.
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

struct selfstat_values {
	uint64_t v[SELF_COUNT];
};

void selfstat_add(enum selfstat_id id, uint64_t n);
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
/* Zero this process's counters (a forked child starts its own count). */
void selfstat_reset_local(void);

#endif
