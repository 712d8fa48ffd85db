/*
 * Response bodies as the HTTP front end asks for them: which endpoint, in
 * which format and encoding, and what comes back (status, content type,
 * bytes). The front end gets bodies through a struct body_source, so it
 * never touches the collector: in `serve` the source is the IPC client
 * (web/ipc_client.h) talking to the collector process; in tests it may be
 * bodies_source() rendering in-process (web/bodies.h).
 */
#ifndef TWAUDIT_BODY_H
#define TWAUDIT_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum body_endpoint {
	BODY_METRICS,		/* /metrics */
	BODY_ADVICE,		/* /advice */
	BODY_MODEL,		/* /model */
	BODY_PAGE,		/* / */
	BODY_HISTORY,		/* /api/history (no fresh collection) */
	BODY_NENDPOINTS
};

enum body_type {
	BODY_TYPE_TEXT,		/* text/plain; charset=utf-8 */
	BODY_TYPE_JSON,
	BODY_TYPE_HTML,
	BODY_TYPE_PROM,		/* text format 0.0.4 */
	BODY_TYPE_OPENMETRICS,
	BODY_NTYPES
};

struct body_request {
	enum body_endpoint endpoint;
	bool openmetrics;	/* /metrics: Accept asked for OpenMetrics */
	bool gzip;		/* Accept-Encoding allows gzip */
};

/*
 * A body to send. DATA (LEN bytes, GZIP: gzip-encoded) stays valid until
 * body_release(); OWNED, when set, is the malloc'd buffer DATA points
 * into, which the receiver may take over (set it NULL then).
 */
struct body {
	unsigned status;	/* 200, 500, 503 */
	uint64_t generation;	/* the snapshot's (0: not from one) */
	enum body_type type;
	bool gzip;
	const char *data;
	size_t len;
	char *owned;
	void (*release)(void *);	/* called with HOLD by body_release */
	void *hold;
};

/*
 * Where bodies come from: GET fills OUT (0), or -1 when none could be had
 * (the front end answers 503). Called from any HTTP thread at once.
 */
struct body_source {
	int (*get)(void *ctx, const struct body_request *req, struct body *out);
	void *ctx;
};

/* Free what B holds (a zeroed body is fine). */
void body_release(struct body *b);

/* A body of static text (status, text/plain). */
void body_static(struct body *b, unsigned status, const char *text);

/* "text/plain; charset=utf-8" for BODY_TYPE_TEXT... ("" if out of range). */
const char *body_type_name(enum body_type t);

#endif
