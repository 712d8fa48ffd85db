/* /api/history: counter rates over the kept history, for the page's charts. */
#include <stdlib.h>
#include <string.h>

#include "agent/collect.h"
#include "web/render.h"
#include "lib/util.h"

static const enum counter_id charted[] = {
	CTR_PAWS_PASSIVE, CTR_PAWS_TIMEWAIT, CTR_PAWS_ESTAB, CTR_LISTEN_DROPS,
};

struct walk {
	json_t *t, *series[sizeof(charted) / sizeof(charted[0])];
	json_t *timewait;		/* gauge: TIME-WAIT sockets */
	bool have_prev;
	double prev_t, now_mono, now_wall;
	struct counter_set prev;
};

/* One point per pair of consecutive samples: the rate per minute between them. */
static void
add_sample(double t, const struct counter_set *cs, int64_t timewait, void *arg)
{
	struct walk *w = arg;

	if (w->have_prev && t > w->prev_t) {
		json_array_append_new(w->t,
		    json_real(w->now_wall - (w->now_mono - t)));
		json_array_append_new(w->timewait, timewait >= 0 ?
		    json_integer(timewait) : json_null());
		for (size_t i = 0; i < sizeof(charted) / sizeof(charted[0]); i++) {
			struct rate r = rate_between(&w->prev, w->prev_t, cs, t,
			    charted[i]);

			json_array_append_new(w->series[i], r.evaluated ?
			    json_real(r.per_min) : json_null());
		}
	}
	w->prev = *cs;
	w->prev_t = t;
	w->have_prev = true;
}

char *
render_history(struct collector *c, size_t *len)
{
	struct walk w = { 0 };
	json_t *root, *series;
	char *out;

	w.now_mono = now_monotonic();
	w.now_wall = now_wall();
	w.t = json_array();
	series = json_object();
	for (size_t i = 0; i < sizeof(charted) / sizeof(charted[0]); i++) {
		w.series[i] = json_array();
		json_object_set_new(series, counter_defs[charted[i]].kernel_name,
		    w.series[i]);
	}
	w.timewait = json_array();
	collector_history(c, add_sample, &w);
	root = json_pack("{s:f, s:s, s:o, s:o, s:{s:o}}", "interval_seconds",
	    COLLECT_TICK_SECONDS, "unit", "per_minute", "time", w.t,
	    "series", series, "gauges", "TimeWaitSockets", w.timewait);
	if (root == NULL)
		return NULL;
	out = render_json_exact(root, len);
	json_decref(root);
	return out;
}
