/*
 * The live model as JSON: the `model` object of /advice, and /model (the
 * model's current state). Both bounded: every list has a fixed cap.
 */
#include <stdlib.h>
#include <string.h>

#include "web/jsonval.h"
#include "web/render.h"
#include "agent/snapshot.h"

static json_t *
sources_json(const struct model_source *src, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n && i < LIVE_TOP_SOURCES; i++)
		json_array_append_new(a, json_pack(
		    "{s:o, s:I, s:I, s:s, s:o, s:f}",
		    "address", json_ip(src[i].family, src[i].addr),
		    "syns", (json_int_t)src[i].syns,
		    "predicted_rejections", (json_int_t)src[i].predicted_rejections,
		    "class", model_nat_class_name(src[i].nat_class),
		    "estimated_hosts", src[i].nat_class == MODEL_NAT_HOSTS ?
		    json_integer(src[i].estimated_hosts) : json_null(),
		    "confidence", src[i].confidence));
	return a;
}

static json_t *
what_if_json(const struct live_stats *sm)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < sm->nwhatif && i < LIVE_MAX_WHATIF; i++) {
		const struct live_whatif_stats *w = &sm->whatif[i];
		json_t *settings = json_object();

		for (int k = 0; k < MODEL_NSETTINGS; k++)
			json_object_set_new(settings, model_setting_name(k),
			    json_integer(w->setting[k]));
		json_array_append_new(a, json_pack("{s:s, s:o, s:I, s:f}",
		    "profile", w->profile, "settings", settings,
		    "predicted_rejections", (json_int_t)w->predicted_rejections,
		    "predicted_rejections_per_min",
		    w->predicted_rejections_per_min));
	}
	return a;
}

static json_t *
by_reason_json(const uint64_t *by_reason)
{
	json_t *o = json_object();

	for (int r = MODEL_R_NONE + 1; r < MODEL_NREASONS; r++)
		json_object_set_new(o, model_reason_name(r),
		    json_integer((json_int_t)by_reason[r]));
	return o;
}

/* The kernel's tcp_metrics table against the model's; null when not
 * compared (no TW stamps on this kernel, or the kernel's list was cut). */
static json_t *
agreement_json(const struct live_stats *sm)
{
	const struct tcpm_agreement *a = &sm->tcpm_agreement;

	if (!a->valid)
		return json_null();
	/* compared_at: whole seconds (a real would keep 6 digits). */
	return json_pack("{s:f, s:I, s:I, s:I, s:I, s:I}",
	    "ratio", a->ratio,
	    "kernel_peers", (json_int_t)a->kernel,
	    "model_peers", (json_int_t)a->model,
	    "common_peers", (json_int_t)a->common,
	    "matched_peers", (json_int_t)a->matched,
	    "compared_at", (json_int_t)a->at);
}

json_t *
render_model_summary(const struct snapshot *s)
{
	const struct live_stats *sm = &s->sampler;

	if (!s->have_sampler || sm->state != SAMPLER_OK)
		return NULL;
	return json_pack("{s:f, s:i, s:o, s:s, s:I, s:I, s:o, s:I, s:o}",
	    "predicted_rejections_per_min", sm->predicted_rejections_per_min,
	    "sampling_ratio", (int)sm->ratio,
	    "nat_sources", sources_json(sm->nat, sm->nnat),
	    "profile", sm->profile,
	    "syns", (json_int_t)sm->syns,
	    "predicted_rejections", (json_int_t)sm->predicted_rejections,
	    "rejections_by_reason", by_reason_json(sm->by_reason),
	    "observed_unanswered_syns", (json_int_t)sm->observed_unanswered_syns,
	    "what_if", what_if_json(sm));
}

char *
render_model(const struct snapshot *s, size_t *len)
{
	const struct live_stats *sm = &s->sampler;
	json_t *root, *tables, *drops, *settings;
	char *out;

	if (!s->have_sampler || sm->state != SAMPLER_OK) {
		root = json_pack("{s:s, s:s}", "state",
		    source_state_name[s->source[SRC_SAMPLER].state], "error",
		    s->source[SRC_SAMPLER].error);
	} else {
		tables = json_object();
		for (int t = 0; t < MODEL_NTABLES; t++)
			json_object_set_new(tables, model_table_name(t),
			    json_pack("{s:I}", "evictions",
			    (json_int_t)sm->model.evictions[t]));
		json_object_set_new(json_object_get(tables, "peers"), "in_use",
		    json_integer((json_int_t)sm->model.peers));
		json_object_set_new(json_object_get(tables, "connections"),
		    "in_use",
		    json_integer((json_int_t)sm->model.tracked_connections));
		json_object_set_new(json_object_get(tables, "sources"), "in_use",
		    json_integer((json_int_t)sm->model.sources));
		drops = json_pack("{s:I, s:I}", "kernel",
		    (json_int_t)sm->kernel_dropped, "queue",
		    (json_int_t)sm->ring_dropped);
		settings = json_object();
		for (int k = 0; k < MODEL_NSETTINGS; k++)
			json_object_set_new(settings, model_setting_name(k),
			    json_integer(sm->setting[k]));
		root = render_model_summary(s);
		json_object_update_missing_new(root, json_pack(
		    "{s:s, s:f, s:o, s:I, s:I, s:o, s:o, s:o, s:I, s:I}",
		    "state", "ok", "uptime_seconds", sm->uptime_s,
		    "settings", settings,
		    "packets", (json_int_t)sm->packets,
		    "sampled_syns", (json_int_t)sm->model.syns,
		    "dropped", drops, "tables", tables,
		    "top_sources", sources_json(sm->top, sm->ntop),
		    "per_connection_sources",
		    (json_int_t)sm->per_connection_sources,
		    "model_resets", (json_int_t)sm->model_resets));
		json_object_set_new(root, "settings_changes",
		    json_integer((json_int_t)sm->settings_changes));
		json_object_set_new(root, "tcp_metrics_agreement",
		    agreement_json(sm));
	}
	if (root == NULL)
		return NULL;
	out = render_json_text(root, len);
	json_decref(root);
	return out;
}
