/* /api/history: counter rates over the kept history, for the page's charts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent/collect.h"
#include "web/render.h"

/*
 * The chart points the collector copied into S when it finished it
 * (snapshot_view.chart): per-minute rates of each charted counter between
 * consecutive samples (null when not evaluated) and the TIME-WAIT gauge.
 */
char *
render_history(const struct snapshot *s, size_t *len)
{
	json_t *root, *series, *t = json_array(), *timewait = json_array();
	json_t *col[HISTORY_NCHARTED];
	size_t n = s != NULL ? s->view.nchart : 0;
	char *out;

	series = json_object();
	for (size_t i = 0; i < HISTORY_NCHARTED; i++) {
		col[i] = json_array();
		json_object_set_new(series,
		    counter_defs[history_charted[i]].kernel_name, col[i]);
	}
	for (size_t p = 0; p < n; p++) {
		const struct history_point *pt = &s->view.chart[p];

		json_array_append_new(t, json_real(pt->wall));
		json_array_append_new(timewait, pt->timewait >= 0 ?
		    json_integer(pt->timewait) : json_null());
		for (size_t i = 0; i < HISTORY_NCHARTED; i++)
			json_array_append_new(col[i], isnan(pt->per_min[i]) ?
			    json_null() : json_real(pt->per_min[i]));
	}
	root = json_pack("{s:f, s:s, s:o, s:o, s:{s:o}}", "interval_seconds",
	    COLLECT_TICK_SECONDS, "unit", "per_minute", "time", t,
	    "series", series, "gauges", "TimeWaitSockets", timewait);
	if (root == NULL)
		return NULL;
	out = render_json_exact(root, len);
	json_decref(root);
	return out;
}
