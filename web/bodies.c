/* Bodies rendered from snapshots, memoized in them (bodies.h). */
#include "web/bodies.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "agent/collect.h"
#include "web/negotiate.h"
#include "web/page.h"
#include "web/render.h"

/* Bodies larger than this are gzipped when the client accepts it. */
#define GZIP_MIN_BYTES 512

static void
unref_snapshot(void *s)
{
	snapshot_unref(s);
}

/* The uncompressed body of a non-/metrics endpoint (malloc'd). */
static char *
render_endpoint(const struct snapshot *s, enum body_endpoint e,
    const char *telemetry_path, size_t *len)
{
	char *body = NULL;
	json_t *j;

	switch (e) {
	case BODY_ADVICE:
		if ((j = render_advice(s)) != NULL)
			body = render_json_text(j, len);
		json_decref(j);
		return body;
	case BODY_MODEL:
		return render_model(s, len);
	case BODY_PAGE:
		return page_render(s, telemetry_path, len);
	case BODY_HISTORY:
		return render_history(s, len);
	case BODY_METRICS:
	case BODY_NENDPOINTS:
		break;
	}
	return NULL;
}

/* E's body as S's cached rendering, gzipped when asked and large enough. */
static const struct rendered *
rendered_endpoint(struct snapshot *s, enum body_endpoint e,
    const char *telemetry_path, bool gzip)
{
	_Atomic(struct rendered *) *slot =
	    &s->body_cache[((unsigned)e - 1) * 2 + gzip];
	struct rendered *r = atomic_load(slot), *expected = NULL;
	char *text, *z;
	size_t len, zlen;
	bool gz = false;

	if (r != NULL)
		return r;
	if ((text = render_endpoint(s, e, telemetry_path, &len)) == NULL)
		return NULL;
	if (gzip && len >= GZIP_MIN_BYTES && gzip_buffer(text, len, &z,
	    &zlen) == 0) {
		free(text);
		text = z;
		len = zlen;
		gz = true;
	}
	if ((r = malloc(sizeof(*r) + len)) == NULL) {
		free(text);
		return NULL;
	}
	r->len = len;
	r->gzip = gz;
	memcpy(r->body, text, len);
	free(text);
	/* Two requests may render at once: the first one stored wins. */
	if (!atomic_compare_exchange_strong(slot, &expected, r)) {
		free(r);
		r = expected;
	}
	return r;
}

void
bodies_get(const struct bodies *b, const struct body_request *req,
    struct body *out)
{
	static const enum body_type type[BODY_NENDPOINTS] = {
		[BODY_ADVICE] = BODY_TYPE_JSON, [BODY_MODEL] = BODY_TYPE_JSON,
		[BODY_PAGE] = BODY_TYPE_HTML, [BODY_HISTORY] = BODY_TYPE_JSON,
	};
	struct collector *c = b->c;
	const struct rendered *r;
	struct snapshot *s;

	if ((unsigned)req->endpoint >= BODY_NENDPOINTS) {
		body_static(out, 500, "bad request\n");
		return;
	}
	s = req->endpoint == BODY_HISTORY ? collector_current(c) :
	    collector_get(c);
	if (s == NULL && req->endpoint == BODY_HISTORY) {
		/* No snapshot yet: an empty history, rendered each time. */
		memset(out, 0, sizeof(*out));
		out->owned = render_history(NULL, &out->len);
		out->data = out->owned;
		out->status = out->owned != NULL ? 200 : 500;
		out->type = BODY_TYPE_JSON;
		if (out->owned == NULL)
			body_static(out, 500, "out of memory\n");
		return;
	}
	if (s == NULL) {
		body_static(out, 503, "no data collected yet\n");
		return;
	}
	if (req->endpoint == BODY_METRICS)
		r = render_prom_cached(s, req->openmetrics ? EXPO_OPENMETRICS :
		    EXPO_PROM_004, req->gzip);
	else
		r = rendered_endpoint(s, req->endpoint, b->telemetry_path,
		    req->gzip);
	if (r == NULL) {
		snapshot_unref(s);
		body_static(out, 500, "out of memory\n");
		return;
	}
	memset(out, 0, sizeof(*out));
	out->status = 200;
	out->generation = s->generation;
	out->type = req->endpoint != BODY_METRICS ? type[req->endpoint] :
	    req->openmetrics ? BODY_TYPE_OPENMETRICS : BODY_TYPE_PROM;
	out->gzip = r->gzip;
	out->data = r->body;
	out->len = r->len;
	out->release = unref_snapshot;
	out->hold = s;
}

static int
source_get(void *ctx, const struct body_request *req, struct body *out)
{
	bodies_get(ctx, req, out);
	return 0;
}

struct body_source
bodies_source(const struct bodies *b)
{
	return (struct body_source){ .get = source_get, .ctx = (void *)b };
}
