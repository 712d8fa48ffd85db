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
 * The body for REQ from C: a fresh snapshot as collector_get() decides
 * (the current one for BODY_HISTORY). Always fills OUT: 503 before the
 * first snapshot, 500 when rendering ran out of memory.
 */
void bodies_get(struct collector *c, const struct body_request *req,
    struct body *out);

/* A body_source rendering from C in this process. */
struct body_source bodies_source(struct collector *c);

#endif
