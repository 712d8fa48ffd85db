/* twaudit's own counters (selfstat.h). */
#include "lib/selfstat.h"

#include <stdatomic.h>
#include <string.h>
#include <stddef.h>

#include "lib/util.h"

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

const char *const selfstat_handler_name[SELF_NHANDLERS] = {
	[SELF_H_METRICS] = "metrics", [SELF_H_PAGE] = "page",
	[SELF_H_ADVICE] = "advice", [SELF_H_MODEL] = "model",
	[SELF_H_HISTORY] = "history", [SELF_H_HEALTHZ] = "healthz",
	[SELF_H_OTHER] = "other",
};

const unsigned selfstat_code[SELF_NCODES - 1] = {
	200, 400, 401, 403, 404, 405, 413, 414, 431, 500, 503, 505,
};

const double selfstat_bucket_le[SELF_NBUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static _Atomic uint64_t counters[SELF_COUNT];
/* The peer's counters, word by word (selfstat.h). */
static _Atomic uint64_t peer[SELFSTAT_NWORDS];
/* When the peer last sent them: monotonic nanoseconds, 0 never. */
static _Atomic uint64_t peer_at_ns;

_Static_assert(sizeof(struct selfstat_values) % sizeof(uint64_t) == 0,
    "selfstat_values is made of uint64_t words");

/* The live HTTP counters: struct selfstat_http's shape, atomic. */
static struct {
	_Atomic uint64_t requests[SELF_NHANDLERS][SELF_NCODES];
	_Atomic uint64_t bucket[SELF_NHANDLERS][SELF_NBUCKETS + 1];
	_Atomic uint64_t duration_us[SELF_NHANDLERS];
} http;

void
selfstat_add(enum selfstat_id id, uint64_t n)
{
	if ((unsigned)id < SELF_COUNT)
		atomic_fetch_add_explicit(&counters[id], n,
		    memory_order_relaxed);
}

unsigned
selfstat_code_index(unsigned code)
{
	unsigned i;

	for (i = 0; i < SELF_NCODES - 1 && selfstat_code[i] != code; i++)
		;
	return i;
}

void
selfstat_http_observe(enum selfstat_handler h, unsigned code, double seconds)
{
	unsigned b;

	if ((unsigned)h >= SELF_NHANDLERS)
		h = SELF_H_OTHER;
	if (!(seconds >= 0))
		seconds = 0;
	for (b = 0; b < SELF_NBUCKETS && seconds > selfstat_bucket_le[b]; b++)
		;
	atomic_fetch_add_explicit(&http.requests[h][selfstat_code_index(code)],
	    1, memory_order_relaxed);
	atomic_fetch_add_explicit(&http.bucket[h][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&http.duration_us[h],
	    seconds < 1e9 ? (uint64_t)(seconds * 1e6 + 0.5) : 0,
	    memory_order_relaxed);
}

void
selfstat_http_add(struct selfstat_http *dst, const struct selfstat_http *src)
{
	for (int h = 0; h < SELF_NHANDLERS; h++) {
		for (int c = 0; c < SELF_NCODES; c++)
			dst->requests[h][c] += src->requests[h][c];
		for (int b = 0; b <= SELF_NBUCKETS; b++)
			dst->bucket[h][b] += src->bucket[h][b];
		dst->duration_us[h] += src->duration_us[h];
	}
}

void
selfstat_read_local(struct selfstat_values *out)
{
	for (int i = 0; i < SELF_COUNT; i++)
		out->v[i] = atomic_load_explicit(&counters[i],
		    memory_order_relaxed);
	for (int h = 0; h < SELF_NHANDLERS; h++) {
		for (int c = 0; c < SELF_NCODES; c++)
			out->http.requests[h][c] = atomic_load_explicit(
			    &http.requests[h][c], memory_order_relaxed);
		for (int b = 0; b <= SELF_NBUCKETS; b++)
			out->http.bucket[h][b] = atomic_load_explicit(
			    &http.bucket[h][b], memory_order_relaxed);
		out->http.duration_us[h] = atomic_load_explicit(
		    &http.duration_us[h], memory_order_relaxed);
	}
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
	uint64_t w[SELFSTAT_NWORDS], stamp, seen;

	memcpy(w, v, sizeof(w));
	for (size_t i = 0; i < SELFSTAT_NWORDS; i++) {
		uint64_t cur = atomic_load_explicit(&peer[i],
		    memory_order_relaxed);

		while (w[i] > cur && !atomic_compare_exchange_weak(&peer[i],
		    &cur, w[i]))
			;
	}
	/* After the counters (sequentially consistent): a reader that sees
	 * this time sees counters at least as new. Raised only, as two
	 * updates may store in the other order than they read the clock. */
	stamp = (uint64_t)(now_monotonic() * 1e9);
	seen = atomic_load(&peer_at_ns);
	while (stamp > seen && !atomic_compare_exchange_weak(&peer_at_ns,
	    &seen, stamp))
		;
}

double
selfstat_peer_at(void)
{
	return (double)atomic_load(&peer_at_ns) / 1e9;
}

void
selfstat_reset_local(void)
{
	for (int i = 0; i < SELF_COUNT; i++)
		atomic_store(&counters[i], 0);
	for (int h = 0; h < SELF_NHANDLERS; h++) {
		for (int c = 0; c < SELF_NCODES; c++)
			atomic_store(&http.requests[h][c], 0);
		for (int b = 0; b <= SELF_NBUCKETS; b++)
			atomic_store(&http.bucket[h][b], 0);
		atomic_store(&http.duration_us[h], 0);
	}
}
