/*
 * Renderers of a finished snapshot. Each returns a malloc'd buffer the
 * caller frees (NULL on allocation failure), and never blocks on I/O.
 */
#ifndef TWAUDIT_RENDER_H
#define TWAUDIT_RENDER_H

#include <jansson.h>
#include <stddef.h>

struct snapshot;

/* Prometheus text exposition format 0.0.4. */
char *render_prom(const struct snapshot *s, size_t *len);

/* The /advice document (docs/schema/advice.schema.json). New reference. */
json_t *render_advice(const struct snapshot *s);

/* `check --format=text`: status line, then one block per finding. */
char *render_text(const struct snapshot *s, size_t *len);

/* Compact JSON text of J plus a newline. */
char *render_json_text(const json_t *j, size_t *len);

#endif
