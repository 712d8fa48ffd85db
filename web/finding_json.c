/*
 * A finding as JSON: the one place that maps the typed finding
 * (findings.h) to its keys in docs/schema/advice.schema.json. Parts are
 * written in list order; sysctl, counter and persisted parts share one
 * object per group.
 */
#include <stdlib.h>

#include "agent/findings.h"
#include "web/jsonval.h"
#include "web/render.h"

static const char *const ev_state_name[] = { "present", "absent", "unavailable" };

static json_int_t
clamp(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (json_int_t)v;
}

static json_t *
values_json(const struct ev_values *v)
{
	return json_int_values(v->v, v->n);
}

static json_t *
assign_json(const struct ev_assign *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "file", json_text(a->file, sizeof(a->file)));
	json_object_set_new(o, "line", json_integer(a->line));
	json_object_set_new(o, "value", json_text(a->value, sizeof(a->value)));
	return o;
}

/* ev[key], created on first use: the object a group's parts share. */
static json_t *
group(json_t *ev, const char *key)
{
	json_t *o = json_object_get(ev, key);

	if (o == NULL) {
		o = json_object();
		json_object_set_new(ev, key, o);
	}
	return o;
}

static json_t *
sysctl_json(const struct ev_sysctl *k)
{
	json_t *o = json_object();

	json_object_set_new(o, "state", json_string(ev_state_name[k->state]));
	if (k->state == EVK_PRESENT)
		json_object_set_new(o, "value", values_json(&k->value));
	else if (k->why[0] != '\0')
		json_object_set_new(o, "why", json_text(k->why, sizeof(k->why)));
	if (k->has_assumed) {
		json_object_set_new(o, "assumed", json_integer(k->assumed));
		json_object_set_new(o, "note", json_string(k->note));
	}
	return o;
}

static json_t *
counter_json(const struct ev_counter *c)
{
	json_t *o = json_object(), *r;

	json_object_set_new(o, "present", json_boolean(c->present));
	if (!c->present)
		return o;
	json_object_set_new(o, "total", json_integer(clamp(c->total)));
	r = json_object();
	json_object_set_new(r, "window", json_string(c->rate.window));
	json_object_set_new(r, "evaluated", json_boolean(c->rate.evaluated));
	if (c->rate.evaluated) {
		json_object_set_new(r, "delta", json_integer(clamp(c->rate.delta)));
		json_object_set_new(r, "per_min", json_real(c->rate.per_min));
		json_object_set_new(r, "window_s", json_real(c->rate.window_s));
	} else {
		json_object_set_new(r, "note", json_string(c->rate.note));
	}
	json_object_set_new(o, "rate", r);
	return o;
}

static json_t *
persisted_json(const struct ev_persisted *p)
{
	json_t *o = p->set ? assign_json(&p->effective) : json_object();

	if (!p->set)
		json_object_set_new(o, "file", json_null());
	if (p->has_procps)
		json_object_set_new(o, "sysctl_system", assign_json(&p->procps));
	return o;
}

static json_t *
model_json(const struct ev_model *m)
{
	json_t *src = json_array(), *wi = json_array(), *o;

	for (size_t i = 0; i < m->nsources && i < EV_MODEL_SOURCES; i++) {
		const struct ev_model_source *s = &m->source[i];

		json_array_append_new(src, json_pack(
		    "{s:o, s:I, s:s, s:f, s:I, s:I}",
		    "address", json_ip(s->family, s->addr),
		    "estimated_hosts", clamp(s->estimated_hosts),
		    "class", s->nat_class, "confidence", s->confidence,
		    "syns", clamp(s->syns),
		    "predicted_rejections", clamp(s->predicted_rejections)));
	}
	for (size_t i = 0; i < m->nwhatif && i < EV_MODEL_WHATIF; i++)
		json_array_append_new(wi, json_pack("{s:s, s:i, s:f}",
		    "profile", m->whatif[i].profile,
		    "tcp_tw_recycle", m->whatif[i].tcp_tw_recycle,
		    "predicted_rejections_per_min",
		    m->whatif[i].predicted_rejections_per_min));
	o = json_pack("{s:s, s:f, s:i, s:I, s:I, s:o, s:o}",
	    "profile", m->profile,
	    "predicted_rejections_per_min", m->predicted_rejections_per_min,
	    "sampling_ratio", m->sampling_ratio,
	    "nat_sources_count", clamp(m->nat_sources_count),
	    "per_connection_sources", clamp(m->per_connection_sources),
	    "nat_sources", src, "what_if", wi);
	if (o != NULL && m->has_agreement)
		json_object_set_new(o, "tcp_metrics_agreement", json_pack(
		    "{s:f, s:I, s:I, s:I, s:s}",
		    "ratio", m->agreement.ratio,
		    "kernel_peers", clamp(m->agreement.kernel_peers),
		    "model_peers", clamp(m->agreement.model_peers),
		    "matched_peers", clamp(m->agreement.matched_peers),
		    "note", m->agreement.note));
	return o;
}

static json_t *
assignments_json(const struct ev_assignments *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < a->n && i < EV_ASSIGNS; i++)
		json_array_append_new(arr, assign_json(&a->a[i]));
	return arr;
}

static json_t *
drift_json(const struct ev_drift *d)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < d->n && i < EV_DRIFT_KEYS; i++) {
		const struct ev_drift_key *k = &d->key[i];
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(k->name));
		json_object_set_new(o, "runtime", values_json(&k->runtime));
		json_object_set_new(o, "persisted", values_json(&k->persisted));
		json_object_set_new(o, "file", json_text(k->file, sizeof(k->file)));
		json_object_set_new(o, "line", json_integer(k->line));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* A policy rule's constraints: {"allowed", "min", "max", "absent_ok"}. */
static json_t *
expected_json(const struct ev_violation *v)
{
	json_t *o = json_object(), *a = json_array();

	for (size_t i = 0; i < v->nallowed && i < EV_POLICY_ALLOWED; i++)
		json_array_append_new(a, values_json(&v->allowed[i]));
	if (v->nallowed > 0)
		json_object_set_new(o, "allowed", a);
	else
		json_decref(a);
	if (v->has_min)
		json_object_set_new(o, "min", json_integer(v->min));
	if (v->has_max)
		json_object_set_new(o, "max", json_integer(v->max));
	json_object_set_new(o, "absent_ok", json_boolean(v->absent_ok));
	return o;
}

/* policy_violation's keys, into EV. */
static void
violation_json(json_t *ev, const struct ev_violation *v)
{
	json_t *viol = json_array(), *po;

	json_object_set_new(ev, "name", json_string(v->name));
	json_object_set_new(ev, "policy", json_string(v->policy));
	json_object_set_new(ev, "expected", expected_json(v));
	json_object_set_new(ev, "expected_text", json_string(v->expected_text));
	json_object_set_new(ev, "runtime", v->runtime_state == EVK_PRESENT ?
	    json_pack("{s:s, s:o}", "state", "present", "value",
	    values_json(&v->runtime)) :
	    json_pack("{s:s}", "state", ev_state_name[v->runtime_state]));
	if (v->has_persisted) {
		po = json_object();
		json_object_set_new(po, "file", json_text(v->persisted.file,
		    sizeof(v->persisted.file)));
		json_object_set_new(po, "line", json_integer(v->persisted.line));
		json_object_set_new(po, "value", json_text(v->persisted.value,
		    sizeof(v->persisted.value)));
		json_object_set_new(ev, "persisted", po);
	} else {
		json_object_set_new(ev, "persisted", json_null());
	}
	if (v->runtime_bad)
		json_array_append_new(viol, json_string("runtime"));
	if (v->persisted_bad)
		json_array_append_new(viol, json_string("persisted"));
	json_object_set_new(ev, "violates", viol);
	if (v->reason[0] != '\0')
		json_object_set_new(ev, "reason", json_string(v->reason));
	if (v->netns[0] != '\0')
		json_object_set_new(ev, "netns", json_string(v->netns));
}

static void
part_json(json_t *ev, const struct ev_part *p)
{
	switch (p->kind) {
	case EV_KERNEL_RELEASE:
	case EV_TEXT:
		json_object_set_new(ev, p->name,
		    json_text(p->u.text, sizeof(p->u.text)));
		break;
	case EV_SYSCTL:
		json_object_set_new(group(ev, "sysctl"), p->name,
		    sysctl_json(&p->u.sysctl));
		break;
	case EV_COUNTER:
		json_object_set_new(group(ev, "counters"), p->name,
		    counter_json(&p->u.counter));
		break;
	case EV_PERSISTED:
		json_object_set_new(group(ev, "persisted"), p->name,
		    persisted_json(&p->u.persisted));
		break;
	case EV_MODEL:
		json_object_set_new(ev, p->name, model_json(p->u.model));
		break;
	case EV_ASSIGNMENTS:
		json_object_set_new(ev, p->name,
		    assignments_json(p->u.assignments));
		break;
	case EV_DRIFT:
		json_object_set_new(ev, p->name, drift_json(p->u.drift));
		break;
	case EV_VIOLATION:
		violation_json(ev, p->u.violation);
		break;
	case EV_POLICY:
		json_object_set_new(ev, p->name, json_pack("{s:s, s:s, s:s}",
		    "file", p->u.policy.file,
		    "expected", p->u.policy.expected,
		    "severity", severity_name[p->u.policy.severity]));
		break;
	case EV_INT:
		json_object_set_new(ev, p->name, json_integer(p->u.i));
		break;
	case EV_REAL:
		json_object_set_new(ev, p->name, json_real(p->u.real));
		break;
	case EV_BOOL:
		json_object_set_new(ev, p->name, json_boolean(p->u.b));
		break;
	}
}

json_t *
render_evidence(const struct finding *f)
{
	json_t *ev = json_object();

	for (size_t i = 0; ev != NULL && i < f->evidence.n; i++)
		part_json(ev, &f->evidence.part[i]);
	return ev;
}

static json_t *
list_json(const struct remedy_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n && i < REMEDY_MAX; i++)
		json_array_append_new(a, json_string(l->item[i]));
	return a;
}

json_t *
render_remediation(const struct finding *f)
{
	return json_pack("{s:o, s:o, s:o}",
	    "runtime", list_json(&f->remediation.runtime),
	    "persist", list_json(&f->remediation.persist),
	    "caveats", list_json(&f->remediation.caveats));
}

json_t *
render_finding(const struct finding *f)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}",
	    "id", f->id, "severity", severity_name[f->severity],
	    "title", f->title,
	    "explanation", f->explanation ? f->explanation : "",
	    "evidence", render_evidence(f),
	    "remediation", render_remediation(f));
}
