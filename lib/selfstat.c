/* twaudit's own counters (selfstat.h). */
#include "lib/selfstat.h"

#include <stdatomic.h>

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
};

static _Atomic uint64_t counters[SELF_COUNT];

void
selfstat_add(enum selfstat_id id, uint64_t n)
{
	if ((unsigned)id < SELF_COUNT)
		atomic_fetch_add_explicit(&counters[id], n,
		    memory_order_relaxed);
}

void
selfstat_read(struct selfstat_values *out)
{
	for (int i = 0; i < SELF_COUNT; i++)
		out->v[i] = atomic_load_explicit(&counters[i],
		    memory_order_relaxed);
}
