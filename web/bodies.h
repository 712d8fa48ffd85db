/*
 * Bodies rendered from a collector's snapshots (the collector side of
 * serve, and tests): /metrics through render_prom_cached(), the other
 * endpoints memoized in the snapshot the same way, so every request for
 * one (snapshot, endpoint, format, encoding) after the first is a
 * reference to a prepared body.
 */
#ifndef TWAUDIT_BODIES_H
#define TWAUDIT_BODIES_H

#include "web/body.h"

struct collector;

/*
 * Where bodies are rendered from: the collector, and the path the page
 * links the metrics under (--web.telemetry-path; the endpoint itself
 * travels as BODY_METRICS, never as a path). Both the caller's, and
 * outliving every body_source made from it.
 */
struct bodies {
	struct collector *c;
	const char *telemetry_path;
};

/*
 * The body for REQ from B: a fresh snapshot as collector_get() decides
 * (the current one for BODY_HISTORY). Always fills OUT: 503 before the
 * first snapshot, 500 when rendering ran out of memory.
 */
void bodies_get(const struct bodies *b, const struct body_request *req,
    struct body *out);

/* A body_source rendering from B in this process. */
struct body_source bodies_source(const struct bodies *b);

#endif
