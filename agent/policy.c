/* --policy=FILE: expected sysctl values and their violations (policy.h). */
#include "agent/policy.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/snapshot.h"
#include "lib/util.h"

#define POLICY_FILE_MAX (1024 * 1024)
#define PERSIST_NEW_FILE "/etc/sysctl.d/90-twaudit.conf"

_Static_assert(EV_POLICY_ALLOWED >= POLICY_MAX_ALLOWED, "allowed values");
_Static_assert(EV_TEXT_LEN >= sizeof(((struct policy *)0)->source) &&
    EV_TEXT_LEN >= POLICY_REASON_LEN && EV_TEXT_LEN >= NETNS_LABEL_LEN,
    "policy texts");

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

/* Append TEXT (taken) to L when it is valid UTF-8, as /advice needs. */
static void
add_str(struct remedy_list *l, char *text)
{
	json_t *j = text != NULL ? json_string(text) : NULL;

	if (j == NULL) {
		free(text);
		return;
	}
	json_decref(j);
	remedy_add(l, text);
}

static struct finding *
builtin_fired(struct findings *out, size_t nbuiltin, int id)
{
	for (size_t i = 0; i < nbuiltin && i < ADVICE_MAX_FINDINGS; i++)
		for (size_t k = 0; k < sizeof(builtin_keys) /
		    sizeof(builtin_keys[0]); k++)
			if ((int)builtin_keys[k].key == id &&
			    out->f[i].id != NULL &&
			    strcmp(out->f[i].id, builtin_keys[k].id) == 0)
				return &out->f[i];
	return NULL;
}

/* One key checked against its rule. */
struct check {
	int id;
	const char *name;
	const struct policy_rule *r;
	const struct sysctl_value *rt;
	const struct persist_assign *eff;	/* host only, when checked */
	bool rt_bad, ps_bad;
	char expect[256];
};

/* Does key ID violate P in S? Fills C either way. */
static bool
check_key(const struct policy *p, const struct snapshot *s, int id,
    struct check *c)
{
	const struct policy_rule *r = &p->rule[id];
	const struct sysctl_value *rt = &s->sysctl.key[id];

	memset(c, 0, sizeof(*c));
	c->id = id;
	c->name = sysctl_defs[id].name;
	c->r = r;
	c->rt = rt;
	if (!r->set)
		return false;
	/* Runtime: present and wrong, or absent when that is not allowed. */
	if (rt->state == KEY_PRESENT)
		c->rt_bad = !policy_value_ok(r, rt);
	else if (rt->state == KEY_ABSENT)
		c->rt_bad = !r->absent_ok;
	/* Persisted: what the next boot applies (host only). */
	if (r->check_persisted && s->netns[0] == '\0' &&
	    (c->eff = persist_eff(s, id)) != NULL) {
		struct sysctl_value pv;
		char e2[128];

		memset(&pv, 0, sizeof(pv));
		/* A line for a key the kernel lacks applies nothing. */
		c->ps_bad = sysctl_parse_value(c->eff->value,
		    strlen(c->eff->value), &pv, e2, sizeof(e2)) == 0 &&
		    rt->state != KEY_ABSENT && !policy_value_ok(r, &pv);
	}
	if (!c->rt_bad && !c->ps_bad)
		return false;
	expected_text(r, c->expect, sizeof(c->expect));
	return true;
}

/* The built-in finding B stands; it carries the policy (and its severity
 * when higher). */
static void
annotate(struct finding *b, const struct policy *p, const struct check *c)
{
	const struct ev_part *old = evidence_find(&b->evidence, EV_POLICY,
	    NULL);
	struct ev_part *part;

	if (c->r->severity > b->severity && b->severity != SEV_UNKNOWN &&
	    c->r->severity != SEV_UNKNOWN)
		b->severity = c->r->severity;
	part = old != NULL ? (struct ev_part *)old :
	    evidence_add(&b->evidence, EV_POLICY, "policy");
	if (part == NULL)
		return;
	snprintf(part->u.policy.file, sizeof(part->u.policy.file), "%s",
	    p->source);
	snprintf(part->u.policy.expected, sizeof(part->u.policy.expected),
	    "%s", c->expect);
	part->u.policy.severity = c->r->severity;
}

/* policy_violation's evidence: the key, the policy, expected and found. */
static void
violation_evidence(struct evidence *ev, const struct policy *p,
    const struct snapshot *s, const struct check *c)
{
	struct ev_part *part = evidence_add(ev, EV_VIOLATION, c->name);
	const struct policy_rule *r = c->r;
	struct ev_violation *v;

	if (part == NULL)
		return;
	v = part->u.violation;
	v->name = c->name;
	snprintf(v->policy, sizeof(v->policy), "%s", p->source);
	for (size_t i = 0; i < r->nallowed && i < EV_POLICY_ALLOWED; i++) {
		int n = r->allowed[i].nvalues;

		v->allowed[i].n = n < 0 ? 0 : n > EV_VALUES_MAX ? EV_VALUES_MAX : n;
		memcpy(v->allowed[i].v, r->allowed[i].v,
		    (size_t)v->allowed[i].n * sizeof(v->allowed[i].v[0]));
		v->nallowed++;
	}
	v->has_min = r->has_min;
	v->min = r->min;
	v->has_max = r->has_max;
	v->max = r->max;
	v->absent_ok = r->absent_ok;
	snprintf(v->expected_text, sizeof(v->expected_text), "%s", c->expect);
	v->runtime_state = c->rt->state == KEY_PRESENT ? EVK_PRESENT :
	    c->rt->state == KEY_ABSENT ? EVK_ABSENT : EVK_UNAVAILABLE;
	if (c->rt->state == KEY_PRESENT) {
		int n = c->rt->nvalues;

		v->runtime.n = n < 0 ? 0 : n > EV_VALUES_MAX ? EV_VALUES_MAX : n;
		memcpy(v->runtime.v, c->rt->v,
		    (size_t)v->runtime.n * sizeof(v->runtime.v[0]));
	}
	if (c->eff != NULL) {
		v->has_persisted = true;
		ev_copy(v->persisted.file, c->eff->path, sizeof(c->eff->path));
		v->persisted.line = c->eff->line;
		ev_copy(v->persisted.value, c->eff->value,
		    sizeof(c->eff->value));
	}
	v->runtime_bad = c->rt_bad;
	v->persisted_bad = c->ps_bad;
	snprintf(v->reason, sizeof(v->reason), "%s", r->reason);
	snprintf(v->netns, sizeof(v->netns), "%s", s->netns);
}

/* Commands that bring the key within the policy, and what they miss. */
static void
violation_remedies(struct remediation *rem, const struct snapshot *s,
    const struct check *c)
{
	const struct sysctl_value *rt = c->rt;
	const struct persist_assign *eff = c->eff;
	const char *name = c->name;
	char want[64];

	if (suggest(c->r, rt->state == KEY_PRESENT ? rt : NULL, want,
	    sizeof(want))) {
		if (c->rt_bad && rt->state == KEY_PRESENT)
			add_str(&rem->runtime, s->netns[0] != '\0' ?
			    xasprintf("ip netns exec / nsenter --net "
			    "into %s, then: sysctl -w %s=\"%s\"",
			    s->netns, name, want) :
			    xasprintf("sysctl -w %s=\"%s\"", name, want));
		if (s->netns[0] == '\0' && (c->ps_bad || eff == NULL) &&
		    rt->state != KEY_ABSENT) {
			if (eff != NULL)
				add_str(&rem->persist, xasprintf(
				    "%s line %u: %s = %s", eff->path,
				    eff->line, name, want));
			else
				add_str(&rem->persist, xasprintf(
				    "%s: %s = %s", PERSIST_NEW_FILE,
				    name, want));
		}
	}
	if (rt->state == KEY_ABSENT)
		add_str(&rem->caveats, xasprintf("This kernel has no %s; "
		    "the policy requires it (set \"absent_ok\": true "
		    "if a kernel without it is fine).", name));
	if (s->netns[0] != '\0')
		add_str(&rem->caveats, xasprintf("Set in the namespace "
		    "%s: whatever creates it (container runtime, "
		    "ip netns script) must set it too, or it is lost "
		    "when the namespace is recreated.", s->netns));
}

/* The explanation, printable ASCII; NULL when out of memory. */
static char *
violation_explanation(const struct policy *p, const struct snapshot *s,
    const struct check *c)
{
	const struct sysctl_value *rt = c->rt;
	const struct persist_assign *eff = c->eff;
	const char *reason = c->r->reason;
	char cur[96] = "", *e;

	if (rt->state == KEY_PRESENT) {
		size_t o = 0;

		for (int k = 0; k < rt->nvalues && o < sizeof(cur); k++)
			o += (size_t)snprintf(cur + o, sizeof(cur) - o,
			    "%s%" PRId64, k ? " " : "", rt->v[k]);
	} else {
		snprintf(cur, sizeof(cur), "absent");
	}
	if (eff != NULL)
		e = xasprintf("%s is %s%s; the policy %s expects %s. %s:%u "
		    "sets it to %s%s%s%s", c->name, cur,
		    s->netns[0] ? " in this namespace" : "", p->source,
		    c->expect, eff->path, eff->line, eff->value,
		    c->ps_bad ? ", which violates the policy at every boot." :
		    ".", reason[0] ? " " : "", reason);
	else
		e = xasprintf("%s is %s%s; the policy %s expects %s.%s%s",
		    c->name, cur, s->netns[0] ? " in this namespace" : "",
		    p->source, c->expect, reason[0] ? " " : "", reason);
	if (e != NULL)
		for (char *ch = e; *ch; ch++)
			if ((unsigned char)*ch < 0x20 ||
			    (unsigned char)*ch >= 0x7f)
				*ch = '?';
	return e;
}

void
policy_evaluate(const struct policy *p, const struct snapshot *s,
    struct findings *out)
{
	size_t nbuiltin = out->n;

	if (p == NULL || s == NULL)
		return;
	for (int id = 0; id < SYSCTL_COUNT; id++) {
		struct remediation rem = { 0 };
		struct evidence ev = { 0 };
		struct finding *f, *b;
		struct check c;
		char *expl;

		if (!check_key(p, s, id, &c))
			continue;
		if ((b = builtin_fired(out, nbuiltin, id)) != NULL) {
			annotate(b, p, &c);
			continue;
		}
		if (out->n >= ADVICE_MAX_FINDINGS)
			return;
		if ((expl = violation_explanation(p, s, &c)) == NULL)
			continue;	/* out of memory: drop it */
		violation_evidence(&ev, p, s, &c);
		violation_remedies(&rem, s, &c);
		f = &out->f[out->n++];
		f->id = policy_id;
		f->title = policy_title;
		f->severity = c.r->severity;
		f->explanation = expl;
		f->evidence = ev;
		f->remediation = rem;
	}
}
