/* --policy=FILE: expected sysctl values and their violations (policy.h). */
#include "policy.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonval.h"
#include "snapshot.h"
#include "util.h"

#define POLICY_FILE_MAX (1024 * 1024)
#define PERSIST_NEW_FILE "/etc/sysctl.d/90-twaudit.conf"

static const char policy_id[] = "policy_violation";
static const char policy_title[] = "A sysctl violates the site policy";

/* Built-in rules that already report a key: their finding stands. */
static const struct {
	const char *id;
	enum sysctl_id key;
} builtin_keys[] = {
	{ "tw_recycle_nat_drops", SYSCTL_TCP_TW_RECYCLE },
	{ "paws_passive_rising", SYSCTL_TCP_TW_RECYCLE },
	{ "tw_recycle_persisted", SYSCTL_TCP_TW_RECYCLE },
	{ "rfc1337_timewait_nat", SYSCTL_TCP_RFC1337 },
	{ "timestamps_disabled", SYSCTL_TCP_TIMESTAMPS },
	{ "tw_buckets_overflow", SYSCTL_TCP_MAX_TW_BUCKETS },
};

void
policy_free(struct policy *p)
{
	free(p);
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* An allowed value: an integer, or an array of 1..SYSCTL_MAX_VALUES integers. */
static int
parse_value(json_t *j, struct sysctl_value *out)
{
	memset(out, 0, sizeof(*out));
	out->state = KEY_PRESENT;
	if (json_is_integer(j)) {
		out->nvalues = 1;
		out->v[0] = json_integer_value(j);
		return 0;
	}
	if (!json_is_array(j) || json_array_size(j) < 1 ||
	    json_array_size(j) > SYSCTL_MAX_VALUES)
		return -1;
	for (size_t i = 0; i < json_array_size(j); i++) {
		json_t *e = json_array_get(j, i);

		if (!json_is_integer(e))
			return -1;
		out->v[out->nvalues++] = json_integer_value(e);
	}
	return 0;
}

static int
parse_rule(const char *name, json_t *o, struct policy_rule *r, char *err,
    size_t errlen)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return fail(err, errlen, "sysctls.%s: not an object", name);
	r->set = true;
	r->severity = SEV_WARNING;
	r->check_persisted = true;
	json_object_foreach(o, k, v) {
		if (strcmp(k, "allowed") == 0) {
			if (!json_is_array(v) || json_array_size(v) == 0 ||
			    json_array_size(v) > POLICY_MAX_ALLOWED)
				return fail(err, errlen, "sysctls.%s.allowed: "
				    "an array of 1 to %d values", name,
				    POLICY_MAX_ALLOWED);
			for (size_t i = 0; i < json_array_size(v); i++)
				if (parse_value(json_array_get(v, i),
				    &r->allowed[r->nallowed++]) < 0)
					return fail(err, errlen, "sysctls.%s."
					    "allowed[%zu]: an integer or an "
					    "array of 1 to %d integers", name,
					    i, SYSCTL_MAX_VALUES);
		} else if (strcmp(k, "min") == 0 || strcmp(k, "max") == 0) {
			if (!json_is_integer(v))
				return fail(err, errlen, "sysctls.%s.%s: not "
				    "an integer", name, k);
			if (k[1] == 'i') {
				r->has_min = true;
				r->min = json_integer_value(v);
			} else {
				r->has_max = true;
				r->max = json_integer_value(v);
			}
		} else if (strcmp(k, "absent_ok") == 0 ||
		    strcmp(k, "persisted") == 0) {
			if (!json_is_boolean(v))
				return fail(err, errlen, "sysctls.%s.%s: not "
				    "true or false", name, k);
			if (k[0] == 'a')
				r->absent_ok = json_is_true(v);
			else
				r->check_persisted = json_is_true(v);
		} else if (strcmp(k, "severity") == 0) {
			const char *s = json_string_value(v);

			if (s == NULL)
				return fail(err, errlen, "sysctls.%s.severity: "
				    "not a string", name);
			if (strcmp(s, "info") == 0)
				r->severity = SEV_INFO;
			else if (strcmp(s, "warning") == 0)
				r->severity = SEV_WARNING;
			else if (strcmp(s, "critical") == 0)
				r->severity = SEV_CRITICAL;
			else
				return fail(err, errlen, "sysctls.%s.severity: "
				    "'%s' is not info, warning or critical",
				    name, s);
		} else if (strcmp(k, "reason") == 0) {
			if (!json_is_string(v))
				return fail(err, errlen, "sysctls.%s.reason: "
				    "not a string", name);
			snprintf(r->reason, sizeof(r->reason), "%s",
			    json_string_value(v));
		} else {
			return fail(err, errlen, "sysctls.%s: unknown field "
			    "'%s' (allowed, min, max, absent_ok, persisted, "
			    "severity, reason)", name, k);
		}
	}
	if (r->nallowed == 0 && !r->has_min && !r->has_max)
		return fail(err, errlen, "sysctls.%s: needs allowed, min or max",
		    name);
	if (r->has_min && r->has_max && r->min > r->max)
		return fail(err, errlen, "sysctls.%s: min %" PRId64 " > max %"
		    PRId64, name, r->min, r->max);
	return 0;
}

struct policy *
policy_parse(const char *buf, size_t len, const char *name, char *err,
    size_t errlen)
{
	json_error_t je;
	json_t *root, *sysctls, *v;
	struct policy *p;
	const char *k;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		fail(err, errlen, "%s:%d: %s", name, je.line, je.text);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		json_decref(root);
		fail(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(p->source, sizeof(p->source), "%s", name);
	if (!json_is_object(root)) {
		fail(err, errlen, "%s: not a JSON object", name);
		goto bad;
	}
	json_object_foreach(root, k, v) {
		if (strcmp(k, "sysctls") != 0 && strcmp(k, "description") != 0 &&
		    strcmp(k, "version") != 0) {
			fail(err, errlen, "%s: unknown field '%s' (version, "
			    "description, sysctls)", name, k);
			goto bad;
		}
	}
	v = json_object_get(root, "version");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) != 1)) {
		fail(err, errlen, "%s: version must be 1", name);
		goto bad;
	}
	sysctls = json_object_get(root, "sysctls");
	if (!json_is_object(sysctls)) {
		fail(err, errlen, "%s: needs a \"sysctls\" object", name);
		goto bad;
	}
	json_object_foreach(sysctls, k, v) {
		int id = sysctl_lookup(k, strlen(k));
		char why[200];

		if (id < 0) {
			fail(err, errlen, "%s: sysctls.%s: not a sysctl twaudit "
			    "watches (see docs/policy.md)", name, k);
			goto bad;
		}
		if (p->rule[id].set) {
			fail(err, errlen, "%s: sysctls.%s: given twice", name, k);
			goto bad;
		}
		if (parse_rule(sysctl_defs[id].name, v, &p->rule[id], why,
		    sizeof(why)) < 0) {
			fail(err, errlen, "%s: %s", name, why);
			goto bad;
		}
	}
	json_decref(root);
	return p;
bad:
	json_decref(root);
	free(p);
	return NULL;
}

struct policy *
policy_load(const char *path, char *err, size_t errlen)
{
	struct policy *p;
	char *buf;
	size_t len;
	int rc;

	rc = read_file_at(path[0] == '/' ? "/" : ".", path, POLICY_FILE_MAX,
	    &buf, &len);
	if (rc < 0) {
		fail(err, errlen, "%s: %s", path, strerror(-rc));
		return NULL;
	}
	p = policy_parse(buf, len, path, err, errlen);
	free(buf);
	return p;
}

bool
policy_value_ok(const struct policy_rule *r, const struct sysctl_value *v)
{
	bool ok = true;

	if (v->nvalues < 1 || v->nvalues > SYSCTL_MAX_VALUES)
		return false;
	if (r->nallowed > 0) {
		ok = false;
		for (size_t i = 0; i < r->nallowed && !ok; i++)
			ok = r->allowed[i].nvalues == v->nvalues &&
			    memcmp(r->allowed[i].v, v->v,
			    (size_t)v->nvalues * sizeof(v->v[0])) == 0;
	}
	for (int i = 0; i < v->nvalues && ok; i++)
		if ((r->has_min && v->v[i] < r->min) ||
		    (r->has_max && v->v[i] > r->max))
			ok = false;
	return ok;
}

/* "1 or 2", "0 (or absent)", "between 10 and 60", "[32768, 60999]". */
static void
expected_text(const struct policy_rule *r, char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "w");

	if (f == NULL) {
		snprintf(buf, len, "?");
		return;
	}
	for (size_t i = 0; i < r->nallowed; i++) {
		const struct sysctl_value *a = &r->allowed[i];

		if (i > 0)
			fputs(i + 1 == r->nallowed ? " or " : ", ", f);
		for (int k = 0; k < a->nvalues; k++)
			fprintf(f, "%s%" PRId64, k ? " " : "", a->v[k]);
	}
	if (r->has_min && r->has_max)
		fprintf(f, "%sbetween %" PRId64 " and %" PRId64,
		    r->nallowed ? ", " : "", r->min, r->max);
	else if (r->has_min)
		fprintf(f, "%sat least %" PRId64, r->nallowed ? ", " : "", r->min);
	else if (r->has_max)
		fprintf(f, "%sat most %" PRId64, r->nallowed ? ", " : "", r->max);
	if (r->absent_ok)
		fputs(" (or absent)", f);
	fclose(f);
	buf[len - 1] = '\0';
}

static json_t *
expected_json(const struct policy_rule *r)
{
	json_t *o = json_object(), *a = json_array();

	for (size_t i = 0; i < r->nallowed; i++)
		json_array_append_new(a, json_int_values(r->allowed[i].v,
		    r->allowed[i].nvalues));
	if (r->nallowed > 0)
		json_object_set_new(o, "allowed", a);
	else
		json_decref(a);
	if (r->has_min)
		json_object_set_new(o, "min", json_integer(r->min));
	if (r->has_max)
		json_object_set_new(o, "max", json_integer(r->max));
	json_object_set_new(o, "absent_ok", json_boolean(r->absent_ok));
	return o;
}

/* A value the policy allows, for remediation: first allowed, else a bound. */
static bool
suggest(const struct policy_rule *r, const struct sysctl_value *cur,
    char *buf, size_t len)
{
	if (r->nallowed > 0) {
		const struct sysctl_value *a = &r->allowed[0];
		size_t o = 0;

		buf[0] = '\0';
		for (int k = 0; k < a->nvalues && o < len; k++)
			o += (size_t)snprintf(buf + o, len - o, "%s%" PRId64,
			    k ? " " : "", a->v[k]);
		return true;
	}
	if (cur != NULL && cur->nvalues == 1) {
		int64_t v = cur->v[0];

		if (r->has_min && v < r->min)
			v = r->min;
		if (r->has_max && v > r->max)
			v = r->max;
		snprintf(buf, len, "%" PRId64, v);
		return true;
	}
	return false;
}

static const struct persist_assign *
persist_eff(const struct snapshot *s, int id)
{
	return persist_effective(&s->persist.key[id]);
}


static void
add_str(json_t *rem, const char *list, char *text)
{
	if (text != NULL)
		json_array_append_new(json_object_get(rem, list),
		    json_string(text));
	free(text);
}

static bool
builtin_fired(const struct findings *out, size_t nbuiltin, int id,
    struct finding **which)
{
	for (size_t i = 0; i < nbuiltin && i < ADVICE_MAX_FINDINGS; i++)
		for (size_t k = 0; k < sizeof(builtin_keys) /
		    sizeof(builtin_keys[0]); k++)
			if ((int)builtin_keys[k].key == id &&
			    out->f[i].id != NULL &&
			    strcmp(out->f[i].id, builtin_keys[k].id) == 0) {
				*which = (struct finding *)&out->f[i];
				return true;
			}
	return false;
}

void
policy_evaluate(const struct policy *p, const struct snapshot *s,
    struct findings *out)
{
	size_t nbuiltin = out->n;

	if (p == NULL || s == NULL)
		return;
	for (int id = 0; id < SYSCTL_COUNT; id++) {
		const struct policy_rule *r = &p->rule[id];
		const struct sysctl_value *rt = &s->sysctl.key[id];
		const struct persist_assign *eff = NULL;
		struct sysctl_value pv;
		bool rt_bad = false, ps_bad = false, have_pv = false;
		const char *name = sysctl_defs[id].name;
		char expect[256], want[64], cur[96] = "";
		struct finding *f, *b;
		json_t *ev, *rem, *viol;

		if (!r->set)
			continue;
		/* Runtime: present and wrong, or absent when that is not allowed. */
		if (rt->state == KEY_PRESENT)
			rt_bad = !policy_value_ok(r, rt);
		else if (rt->state == KEY_ABSENT)
			rt_bad = !r->absent_ok;
		/* Persisted: what the next boot applies (host only). */
		if (r->check_persisted && s->netns[0] == '\0' &&
		    (eff = persist_eff(s, id)) != NULL) {
			char e2[128];

			memset(&pv, 0, sizeof(pv));
			have_pv = sysctl_parse_value(eff->value,
			    strlen(eff->value), &pv, e2, sizeof(e2)) == 0;
			/* A line for a key the kernel lacks applies nothing. */
			ps_bad = have_pv && rt->state != KEY_ABSENT &&
			    !policy_value_ok(r, &pv);
		}
		if (!rt_bad && !ps_bad)
			continue;
		expected_text(r, expect, sizeof(expect));
		if (builtin_fired(out, nbuiltin, id, &b)) {
			/* The built-in finding stands; it carries the policy. */
			if (r->severity > b->severity && b->severity != SEV_UNKNOWN &&
			    r->severity != SEV_UNKNOWN)
				b->severity = r->severity;
			if (json_is_object(b->evidence))
				json_object_set_new(b->evidence, "policy",
				    json_pack("{s:s, s:s, s:s}", "file",
				    p->source, "expected", expect, "severity",
				    severity_name[r->severity]));
			continue;
		}
		if (out->n >= ADVICE_MAX_FINDINGS)
			return;
		if (rt->state == KEY_PRESENT) {
			size_t o = 0;

			for (int k = 0; k < rt->nvalues && o < sizeof(cur); k++)
				o += (size_t)snprintf(cur + o, sizeof(cur) - o,
				    "%s%" PRId64, k ? " " : "", rt->v[k]);
		} else {
			snprintf(cur, sizeof(cur), "absent");
		}
		ev = json_object();
		json_object_set_new(ev, "name", json_string(name));
		json_object_set_new(ev, "policy", json_string(p->source));
		json_object_set_new(ev, "expected", expected_json(r));
		json_object_set_new(ev, "expected_text", json_string(expect));
		json_object_set_new(ev, "runtime", rt->state == KEY_PRESENT ?
		    json_pack("{s:s, s:o}", "state", "present", "value",
		    json_int_values(rt->v, rt->nvalues)) :
		    json_pack("{s:s}", "state",
		    rt->state == KEY_ABSENT ? "absent" : "unavailable"));
		if (eff != NULL) {
			json_t *po = json_object();

			json_object_set_new(po, "file",
			    json_text(eff->path, sizeof(eff->path)));
			json_object_set_new(po, "line", json_integer(eff->line));
			json_object_set_new(po, "value",
			    json_text(eff->value, sizeof(eff->value)));
			json_object_set_new(ev, "persisted", po);
		} else {
			json_object_set_new(ev, "persisted", json_null());
		}
		viol = json_array();
		if (rt_bad)
			json_array_append_new(viol, json_string("runtime"));
		if (ps_bad)
			json_array_append_new(viol, json_string("persisted"));
		json_object_set_new(ev, "violates", viol);
		if (r->reason[0] != '\0')
			json_object_set_new(ev, "reason", json_string(r->reason));
		if (s->netns[0] != '\0')
			json_object_set_new(ev, "netns", json_string(s->netns));

		rem = json_pack("{s:[], s:[], s:[]}", "runtime", "persist",
		    "caveats");
		if (suggest(r, rt->state == KEY_PRESENT ? rt : NULL, want,
		    sizeof(want))) {
			if (rt_bad && rt->state == KEY_PRESENT)
				add_str(rem, "runtime", s->netns[0] != '\0' ?
				    xasprintf("ip netns exec / nsenter --net "
				    "into %s, then: sysctl -w %s=\"%s\"",
				    s->netns, name, want) :
				    xasprintf("sysctl -w %s=\"%s\"", name, want));
			if (s->netns[0] == '\0' && (ps_bad || eff == NULL) &&
			    rt->state != KEY_ABSENT) {
				if (eff != NULL)
					add_str(rem, "persist", xasprintf(
					    "%s line %u: %s = %s", eff->path,
					    eff->line, name, want));
				else
					add_str(rem, "persist", xasprintf(
					    "%s: %s = %s", PERSIST_NEW_FILE,
					    name, want));
			}
		}
		if (rt->state == KEY_ABSENT)
			add_str(rem, "caveats", xasprintf("This kernel has no %s; "
			    "the policy requires it (set \"absent_ok\": true "
			    "if a kernel without it is fine).", name));
		if (s->netns[0] != '\0')
			add_str(rem, "caveats", xasprintf("Set in the namespace "
			    "%s: whatever creates it (container runtime, "
			    "ip netns script) must set it too, or it is lost "
			    "when the namespace is recreated.", s->netns));

		f = &out->f[out->n++];
		f->id = policy_id;
		f->title = policy_title;
		f->severity = r->severity;
		if (eff != NULL)
			f->explanation = xasprintf("%s is %s%s; the policy %s "
			    "expects %s. %s:%u sets it to %s%s%s%s", name, cur,
			    s->netns[0] ? " in this namespace" : "", p->source,
			    expect, eff->path, eff->line, eff->value,
			    ps_bad ? ", which violates the policy at every "
			    "boot." : ".", r->reason[0] ? " " : "", r->reason);
		else
			f->explanation = xasprintf("%s is %s%s; the policy %s "
			    "expects %s.%s%s", name, cur,
			    s->netns[0] ? " in this namespace" : "", p->source,
			    expect, r->reason[0] ? " " : "", r->reason);
		if (f->explanation != NULL)
			for (char *c = f->explanation; *c; c++)
				if ((unsigned char)*c < 0x20 ||
				    (unsigned char)*c >= 0x7f)
					*c = '?';
		f->evidence = ev;
		f->remediation = rem;
		if (f->explanation == NULL) {	/* out of memory: drop it */
			json_decref(f->evidence);
			json_decref(f->remediation);
			memset(f, 0, sizeof(*f));
			out->n--;
		}
	}
}
