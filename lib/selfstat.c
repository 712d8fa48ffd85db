/* twaudit's own counters (selfstat.h). */
#include "lib/selfstat.h"

#include <stdatomic.h>
#include <string.h>

const struct selfstat_def selfstat_defs[SELF_COUNT] = {
	[SELF_HTTP_AUTH_FAILURES] = { "twaudit_http_auth_failures_total", "",
	    "HTTP requests refused for wrong or missing credentials." },
	[SELF_HTTP_AUTH_THROTTLED] = { "twaudit_http_auth_throttled_total", "",
	    "HTTP requests answered 401 at once because their address sent "
	    "too many failed logins." },
	[SELF_HTTP_REFUSED_LIMIT] = { "twaudit_http_connections_refused_total",
	    "reason=\"limit\"",
	    "HTTP connections refused at accept, by reason." },
	[SELF_HTTP_REFUSED_PER_ADDRESS] = {
	    "twaudit_http_connections_refused_total", "reason=\"per_address\"",
	    "HTTP connections refused at accept, by reason." },
	[SELF_LOG_SUPPRESSED] = { "twaudit_log_lines_suppressed_total", "",
	    "Repeated log lines not written by the rate limit." },
	[SELF_IPC_REFUSED] = { "twaudit_ipc_messages_refused_total", "",
	    "Malformed or oversized messages from the web process, refused "
	    "unread." },
};

static _Atomic uint64_t counters[SELF_COUNT];
/* The peer's counters, word by word (selfstat.h). */
static _Atomic uint64_t peer[SELFSTAT_NWORDS];

_Static_assert(sizeof(struct selfstat_values) % sizeof(uint64_t) == 0,
    "selfstat_values is made of uint64_t words");

void
selfstat_add(enum selfstat_id id, uint64_t n)
{
	if ((unsigned)id < SELF_COUNT)
		atomic_fetch_add_explicit(&counters[id], n,
		    memory_order_relaxed);
}

void
selfstat_read_local(struct selfstat_values *out)
{
	for (int i = 0; i < SELF_COUNT; i++)
		out->v[i] = atomic_load_explicit(&counters[i],
		    memory_order_relaxed);
}

/* OUT += the peer's counters, word by word. */
static void
add_peer(struct selfstat_values *out)
{
	uint64_t w[SELFSTAT_NWORDS];

	memcpy(w, out, sizeof(w));
	for (size_t i = 0; i < SELFSTAT_NWORDS; i++)
		w[i] += atomic_load_explicit(&peer[i], memory_order_relaxed);
	memcpy(out, w, sizeof(w));
}

void
selfstat_read(struct selfstat_values *out)
{
	selfstat_read_local(out);
	add_peer(out);
}

void
selfstat_peer_update(const struct selfstat_values *v)
{
	uint64_t w[SELFSTAT_NWORDS];

	memcpy(w, v, sizeof(w));
	for (size_t i = 0; i < SELFSTAT_NWORDS; i++) {
		uint64_t cur = atomic_load_explicit(&peer[i],
		    memory_order_relaxed);

		while (w[i] > cur && !atomic_compare_exchange_weak(&peer[i],
		    &cur, w[i]))
			;
	}
}

void
selfstat_reset_local(void)
{
	for (int i = 0; i < SELF_COUNT; i++)
		atomic_store(&counters[i], 0);
}
