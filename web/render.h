/*
 * Renderers of a finished snapshot. Each returns a malloc'd buffer the
 * caller frees (NULL on allocation failure), and never blocks on I/O.
 */
#ifndef TWAUDIT_RENDER_H
#define TWAUDIT_RENDER_H

#include <jansson.h>
#include <stddef.h>

#include "web/negotiate.h"

struct snapshot;

/* Prometheus text format 0.0.4, or OpenMetrics 1.0.0 text. */
char *render_prom(const struct snapshot *s, enum expo_format fmt, size_t *len);

/*
 * One finding of /advice, and its "evidence" and "remediation" objects
 * (web/finding_json.c). New references.
 */
struct finding;
json_t *render_finding(const struct finding *f);
json_t *render_evidence(const struct finding *f);
json_t *render_remediation(const struct finding *f);

/* The /advice document (docs/schema/advice.schema.json). New reference. */
json_t *render_advice(const struct snapshot *s);

/*
 * `check --format=jsonl`: one line per finding, then one status line, for
 * the host's namespace and then each --netns namespace; every line has
 * generated_at, host, kernel_release, netns (null for the host's own),
 * record ("finding" or "status") and status.
 */
char *render_jsonl(const struct snapshot *s, size_t *len);

/* `check --format=text`: status line, then one block per finding. */
char *render_text(const struct snapshot *s, size_t *len);

/* /api/history: per-minute rates of the charted counters over the history
 * S carries (NULL: none yet). */
char *render_history(const struct snapshot *s, size_t *len);

/*
 * render_prom(), gzipped when GZIP, memoized in S (see snapshot.h): the
 * result lives as long as S. NULL on allocation failure.
 */
const struct rendered *render_prom_cached(struct snapshot *s,
    enum expo_format fmt, bool gzip);

/* The `model` object of /advice; NULL when the sampler does not run. */
json_t *render_model_summary(const struct snapshot *s);

/* /model: the live model's state (bounded), or why it does not run. */
char *render_model(const struct snapshot *s, size_t *len);

/* JSON text of J plus a newline; reals keep at most 6 significant digits. */
char *render_json_text(const json_t *j, size_t *len);

/* The same with every real exact (/api/history's wall-clock times). */
char *render_json_exact(const json_t *j, size_t *len);

#endif
