/* The /advice document and its helpers. */
#include <stdlib.h>
#include <string.h>

#include "web/jsonval.h"
#include "web/render.h"
#include "agent/snapshot.h"
#include "lib/util.h"

static const char *const key_state_name[] = { "present", "absent", "unavailable" };

/*
 * Text the audited tree supplies (host name, kernel release, errors naming
 * its paths, namespace names): as it is when it is UTF-8, else with every
 * byte outside printable ASCII as '?' (jsonval.h), so that one odd byte
 * never fails the whole document: jansson refuses invalid UTF-8.
 */
static json_t *
tree_text(const char *p, size_t max)
{
	json_t *j = json_stringn(p, strnlen(p, max));

	return j != NULL ? j : json_text(p, max);
}

/* Key I's persisted value: the effective assignment (snapshot_derive()). */
static json_t *
persisted_json(const struct snapshot *s, int key)
{
	const struct persist_key *pk = &s->persist.key[key];
	const struct persist_assign *a;
	json_t *o, *assigns;

	if (!s->view.persisted_set[key])
		return json_null();
	a = &pk->a[s->view.persisted_at[key]];
	o = json_pack("{s:s, s:s, s:i}", "value", a->value, "file", a->path,
	    "line", (int)a->line);
	assigns = json_array();
	for (unsigned i = 0; i < pk->n; i++)
		json_array_append_new(assigns, json_pack("{s:s, s:s, s:i}",
		    "value", pk->a[i].value, "file", pk->a[i].path,
		    "line", (int)pk->a[i].line));
	json_object_set_new(o, "assignments", assigns);
	if (pk->procps_effective >= 0 &&
	    strcmp(pk->procps_value, a->value) != 0)
		json_object_set_new(o, "sysctl_system", json_pack(
		    "{s:s, s:s, s:i}", "value", pk->procps_value,
		    "file", pk->procps_path, "line", (int)pk->procps_line));
	return o;
}

/* sources.sysctl.keys: each watched key's own state, value and persistence. */
static json_t *
sysctl_keys_json(const struct snapshot *s)
{
	json_t *keys = json_object();

	for (int i = 0; i < SYSCTL_COUNT; i++) {
		const struct sysctl_value *v = &s->sysctl.key[i];
		json_t *k = json_pack("{s:s}", "state", key_state_name[v->state]);

		if (v->state == KEY_PRESENT)
			json_object_set_new(k, "value",
			    json_int_values(v->v, v->nvalues));
		else
			json_object_set_new(k, "why", json_string(v->why));
		json_object_set_new(k, "persisted",
		    persisted_json(s, i));
		json_object_set_new(keys, sysctl_defs[i].name, k);
	}
	return keys;
}

/* sources.sock_diag.details: counts, and top lists that never become labels. */
static json_t *
sock_diag_json(const struct snapshot *s)
{
	const struct sock_diag_stats *d = &s->sockdiag;
	json_t *states = json_object(), *ports = json_array(),
	    *remotes = json_array(), *o;

	for (int st = 1; st < SD_NSTATES; st++)
		json_object_set_new(states, sock_diag_state_name[st],
		    json_integer((json_int_t)d->state[st]));
	for (size_t i = 0; i < d->ntop_ports; i++)
		json_array_append_new(ports, json_pack("{s:i, s:I}", "port",
		    (int)d->top_ports[i].port,
		    "timewait", (json_int_t)d->top_ports[i].count));
	for (size_t i = 0; i < d->ntop_remotes &&
	    i < SOCK_DIAG_TOP_REMOTES; i++)
		json_array_append_new(remotes, json_pack("{s:s, s:I}",
		    "address", s->view.top_remote[i],
		    "timewait", (json_int_t)d->top_remotes[i].count));
	o = json_pack("{s:o, s:o, s:o, s:b}", "states", states,
	    "timewait_top_ports", ports, "timewait_top_remotes", remotes,
	    "truncated", d->truncated);
	json_object_set_new(o, "timestamps_negotiated_ratio",
	    s->view.has_ts_ratio ? json_real(s->view.ts_ratio) : json_null());
	return o;
}

/* sources.tcp_metrics.details: the kernel's own tw_recycle peer state. */
static json_t *
tcp_metrics_json(const struct snapshot *s)
{
	const struct tcp_metrics_stats *t = &s->tcpm;
	json_t *recent = json_array();

	for (size_t i = 0; i < t->nrecent && s->view.recent_addr != NULL; i++)
		json_array_append_new(recent, json_pack("{s:s, s:s, s:I, s:i}",
		    "address", s->view.recent_addr[i][0],
		    "server_address", s->view.recent_addr[i][1],
		    "tsval", (json_int_t)t->recent[i].tsval,
		    "stamp_age_seconds", (int)t->recent[i].stamp_age_s));
	return json_pack("{s:I, s:b, s:I, s:o, s:b}",
	    "peers", (json_int_t)t->peers, "has_tw_attrs", t->has_tw_attrs,
	    "recent_stamps", (json_int_t)t->recent_stamps,
	    "recent", recent, "truncated", t->truncated);
}

static json_t *
sources_json(const struct snapshot *s)
{
	json_t *o = json_object();

	for (int i = 0; i < SRC_COUNT; i++) {
		const struct source_status *st = &s->source[i];
		json_t *src = json_pack("{s:s, s:o}", "state",
		    source_state_name[st->state], "error",
		    st->error[0] ? tree_text(st->error, sizeof(st->error)) :
		    json_null());

		if (i == SRC_SYSCTL)
			json_object_set_new(src, "keys", sysctl_keys_json(s));
		if (i == SRC_SOCK_DIAG && st->state == SOURCE_OK)
			json_object_set_new(src, "details",
			    sock_diag_json(s));
		if (i == SRC_TCP_METRICS && st->state == SOURCE_OK)
			json_object_set_new(src, "details", tcp_metrics_json(s));
		json_object_set_new(o, source_name[i], src);
	}
	return o;
}

static json_t *
findings_json(const struct findings *fs)
{
	json_t *a = json_array();

	for (size_t i = 0; i < fs->n; i++)
		json_array_append_new(a, render_finding(&fs->f[i]));
	return a;
}

/* One entry of "namespaces": a namespace's own sources and findings. */
static json_t *
netns_json(const struct snapshot *n)
{
	json_t *o = json_pack("{s:o, s:s, s:s, s:o, s:o}",
	    "netns", tree_text(n->netns, sizeof(n->netns)), "kind", netns_kind_name[n->netns_kind],
	    "status", status_name[n->status],
	    "sources", sources_json(n),
	    "findings", findings_json(&n->findings));

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "inode", n->netns_ino ?
	    json_integer((json_int_t)n->netns_ino) : json_null());
	json_object_set_new(o, "pid", n->netns_pid > 0 ?
	    json_integer(n->netns_pid) : json_null());
	json_object_set_new(o, "audited", json_boolean(!n->netns_unaudited));
	if (n->netns_unaudited)
		json_object_set_new(o, "error", tree_text(
		    n->source[SRC_SYSCTL].error,
		    sizeof(n->source[SRC_SYSCTL].error)));
	return o;
}

/* With --netns: "host_status" (the host's own) and "namespaces". */
static void
add_namespaces(json_t *doc, const struct snapshot *s)
{
	json_t *a;

	if (doc == NULL || !s->netns_mode)
		return;
	a = json_array();
	for (size_t i = 0; i < s->nns; i++)
		json_array_append_new(a, netns_json(s->ns[i]));
	json_object_set_new(doc, "host_status",
	    json_string(status_name[s->host_status]));
	json_object_set_new(doc, "namespaces", a);
}

json_t *
render_advice(const struct snapshot *s)
{
	char when[32];
	json_t *doc;

	format_rfc3339(s->wall, when, sizeof(when));
	doc = json_pack("{s:o, s:o, s:s, s:s, s:o, s:o}",
	    "host", tree_text(s->host, sizeof(s->host)),
	    "kernel_release", tree_text(s->sysctl.osrelease,
	    sizeof(s->sysctl.osrelease)),
	    "generated_at", when,
	    "status", status_name[s->status],
	    "findings", findings_json(&s->findings),
	    "sources", sources_json(s));
	add_namespaces(doc, s);
	/* Live mode: the model's estimate (schema: optional `model`). */
	json_t *model = render_model_summary(s);
	if (model != NULL)
		json_object_set_new(doc, "model", model);
	return doc;
}

/*
 * Figures in JSON keep at most 6 significant digits (a rate of
 * 0.0333333333 is 0.0333333): enough for `report` to sum, and no
 * float noise. Integers (json_integer) are printed whole.
 */
#define JSON_FIGURES (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6))

/* JSONL lines of one namespace (NS NULL: the host's own). */
static int
jsonl_ns(FILE *f, const struct snapshot *top, const struct snapshot *n,
    const char *when)
{
	json_t *base = json_pack("{s:s, s:o, s:o, s:o}", "generated_at", when,
	    "host", tree_text(top->host, sizeof(top->host)),
	    "kernel_release", tree_text(top->sysctl.osrelease,
	    sizeof(top->sysctl.osrelease)),
	    "netns", n == top ? json_null() : tree_text(n->netns,
	    sizeof(n->netns)));
	json_t *fs = findings_json(&n->findings), *v;
	size_t i;
	char *line;
	int rc = 0;

	if (base == NULL || fs == NULL) {
		json_decref(base);
		json_decref(fs);
		return -1;
	}
	json_array_foreach(fs, i, v) {
		json_t *o = json_deep_copy(base);

		json_object_set_new(o, "record", json_string("finding"));
		json_object_set_new(o, "status", json_string(
		    status_name[n == top ? top->host_status : n->status]));
		json_object_update(o, v);
		line = json_dumps(o, JSON_FIGURES);
		json_decref(o);
		if (line == NULL || fprintf(f, "%s\n", line) < 0)
			rc = -1;
		free(line);
	}
	/* Then the namespace's status line, so a shipper sees it when clean. */
	json_object_set_new(base, "record", json_string("status"));
	json_object_set_new(base, "status", json_string(
	    status_name[n == top ? top->host_status : n->status]));
	json_object_set_new(base, "findings", json_integer(
	    (json_int_t)json_array_size(fs)));
	line = json_dumps(base, JSON_FIGURES);
	if (line == NULL || fprintf(f, "%s\n", line) < 0)
		rc = -1;
	free(line);
	json_decref(base);
	json_decref(fs);
	return rc;
}

char *
render_jsonl(const struct snapshot *s, size_t *len)
{
	char *buf = NULL, when[32];
	FILE *f = open_memstream(&buf, len);
	int rc;

	if (f == NULL)
		return NULL;
	format_rfc3339(s->wall, when, sizeof(when));
	rc = jsonl_ns(f, s, s, when);
	for (size_t i = 0; i < s->nns && rc == 0; i++)
		rc = jsonl_ns(f, s, s->ns[i], when);
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* J's text as json_dumps(FLAGS) gives it, plus a newline. */
static char *
json_text_nl(const json_t *j, size_t flags, size_t *len)
{
	char *text = json_dumps(j, flags);
	char *out;

	if (text == NULL)
		return NULL;
	*len = strlen(text);
	out = realloc(text, *len + 2);
	if (out == NULL) {
		free(text);
		return NULL;
	}
	out[(*len)++] = '\n';
	out[*len] = '\0';
	return out;
}

char *
render_json_text(const json_t *j, size_t *len)
{
	return json_text_nl(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(6), len);
}

char *
render_json_exact(const json_t *j, size_t *len)
{
	return json_text_nl(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER, len);
}
