/*
 * Advice rules. Every rule is one row of rules[] below: its public id, its
 * title, the severities it can raise, and an evaluation function that looks
 * at a finished snapshot and emits zero or more findings. Adding a rule is
 * one function, one row and one test case (tests/unit/test_advice.c); the
 * ids are public interface (alerts key on them), see docs/findings.md.
 *
 * Rules only read what the collectors marked as present: a sysctl value
 * only when its key is KEY_PRESENT, a counter only when present[], a rate
 * only when evaluated, a persisted assignment only through an index that
 * is in range. Section numbers (§) refer to docs/kernel.md.
 */
#include "agent/advice.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/snapshot.h"
#include "lib/util.h"

/* The finding structs hold every value and list a rule can emit. */
_Static_assert(EV_VALUES_MAX == SYSCTL_MAX_VALUES, "sysctl values");
_Static_assert(EV_WHY_LEN >= SYSCTL_WHY_LEN, "sysctl why");
_Static_assert(EV_TEXT_LEN >= PERSIST_PATH_LEN && EV_TEXT_LEN >= SOURCE_ERR_LEN,
    "paths and errors");
_Static_assert(EV_VALUE_LEN >= sizeof(((struct persist_assign *)0)->value),
    "persisted values");
_Static_assert(EV_ASSIGNS >= PERSIST_MAX_ASSIGN + 1, "assignments");
_Static_assert(EV_DRIFT_KEYS >= SYSCTL_COUNT, "drift keys");
_Static_assert(EV_MODEL_SOURCES >= LIVE_TOP_SOURCES &&
    EV_MODEL_WHATIF >= LIVE_MAX_WHATIF, "model figures");
/* tw_recycle_persisted: one persist line per assignment and procps's;
 * sysctl_drift: one line per key and list, plus a caveat. */
_Static_assert(REMEDY_MAX >= PERSIST_MAX_ASSIGN + 1 &&
    REMEDY_MAX >= SYSCTL_COUNT + 1, "remediation lists");

/* Where a rule suggests writing a setting no file holds yet. */
#define PERSIST_FILE "/etc/sysctl.d/90-twaudit.conf"

struct rule {
	const char *id;			/* public: finding id */
	const char *title;		/* public: finding title */
	enum severity sev;		/* severity when it fires */
	enum severity sev_escalated;	/* when eval escalates; = sev if never */
	/* Emit zero or more findings of this rule for S into OUT. */
	void (*eval)(const struct rule *r, const struct snapshot *s,
	    struct findings *out);
};

/* ---------------------------------------------------------------------
 * Small helpers: strings, snapshot access.
 */


/* The first value of runtime key ID, when it was read. */
static bool
key_value(const struct snapshot *s, enum sysctl_id id, int64_t *v)
{
	const struct sysctl_value *k = &s->sysctl.key[id];

	if (k->state != KEY_PRESENT || k->nvalues < 1 ||
	    k->nvalues > SYSCTL_MAX_VALUES)
		return false;
	*v = k->v[0];
	return true;
}

static bool
key_nonzero(const struct snapshot *s, enum sysctl_id id, int64_t *v)
{
	return key_value(s, id, v) && *v != 0;
}

/* The 5 m rate of counter ID, when present, evaluated and rising. */
static const struct rate *
rising(const struct snapshot *s, enum counter_id id)
{
	const struct rate *r = &s->rate[RATE_5M][id];

	if (!s->counters.present[id] || !r->evaluated || r->delta == 0)
		return NULL;
	return r;
}

/* "over the last 300 s" or "during the 30 s sample". */
static void
window_phrase(const struct snapshot *s, const struct rate *r, char *buf,
    size_t len)
{
	if (s->sample_s > 0)
		snprintf(buf, len, "during the %.0f s sample", r->window_s);
	else
		snprintf(buf, len, "over the last %.0f s", r->window_s);
}

static bool
kernel_known(const struct snapshot *s)
{
	return s->kv.code != 0;
}

/* 3.17–4.11 (and RHEL 7's backport): SYNs without timestamps are dropped
 * while a stamp is fresh (§1.4, §11.1). */
static bool
kernel_drops_tsless_syn(const struct snapshot *s)
{
	return s->kv.rhel7 ||
	    (s->kv.code >= KV(3, 17, 0) && s->kv.code < KV(4, 12, 0));
}

/* Parse persisted text with the runtime parser. */
static bool
parse_persisted(const char *text, struct sysctl_value *out)
{
	char err[128];

	memset(out, 0, sizeof(*out));
	if (sysctl_parse_value(text, strlen(text), out, err, sizeof(err)) != 0)
		return false;
	return out->nvalues >= 1 && out->nvalues <= SYSCTL_MAX_VALUES;
}

/* systemd-sysctl's effective assignment of ID, or NULL. */
static const struct persist_assign *
effective(const struct snapshot *s, enum sysctl_id id)
{
	return persist_effective(&s->persist.key[id]);
}

/*
 * Where `sysctl --system` ends for ID, as path/line/value, or false.
 * procps_path is the signal: persist.c leaves procps_effective at -1 when
 * that line is not one of a[] (/etc/sysctl.conf not linked into sysctl.d).
 */
static bool
persist_procps(const struct snapshot *s, enum sysctl_id id,
    const char **path, unsigned *line, const char **value)
{
	const struct persist_key *pk = &s->persist.key[id];

	if (pk->procps_path[0] != '\0') {
		*path = pk->procps_path;
		*line = pk->procps_line;
		*value = pk->procps_value;
		return true;
	}
	if (pk->procps_effective >= 0 &&
	    (unsigned)pk->procps_effective < pk->n &&
	    pk->procps_effective < PERSIST_MAX_ASSIGN) {
		const struct persist_assign *a = &pk->a[pk->procps_effective];

		*path = a->path;
		*line = a->line;
		*value = a->value;
		return true;
	}
	return false;
}

/* Does the procps result differ in place from systemd's effective one? */
static bool
procps_differs(const struct persist_assign *eff, const char *path,
    unsigned line)
{
	return eff == NULL || eff->line != line || strcmp(eff->path, path) != 0;
}

/* ---------------------------------------------------------------------
 * Evidence builders: typed parts (findings.h), in the order the keys are
 * to appear.
 */

static void
ev_values(struct ev_values *out, const int64_t *v, int n)
{
	out->n = n < 0 ? 0 : n > EV_VALUES_MAX ? EV_VALUES_MAX : n;
	memcpy(out->v, v, (size_t)out->n * sizeof(out->v[0]));
}

/* evidence.sysctl[name] = {"state", "value" | "why"} */
static struct ev_sysctl *
ev_sysctl(struct evidence *ev, const struct snapshot *s, enum sysctl_id id)
{
	const struct sysctl_value *k = &s->sysctl.key[id];
	struct ev_part *p = evidence_add(ev, EV_SYSCTL, sysctl_defs[id].name);
	int64_t v;

	if (p == NULL)
		return NULL;
	if (key_value(s, id, &v)) {
		p->u.sysctl.state = EVK_PRESENT;
		ev_values(&p->u.sysctl.value, k->v, k->nvalues);
	} else {
		p->u.sysctl.state = k->state == KEY_ABSENT ? EVK_ABSENT :
		    EVK_UNAVAILABLE;
		ev_copy(p->u.sysctl.why, k->why, sizeof(k->why));
	}
	return &p->u.sysctl;
}

/* evidence.counters[kernel name] = {"present", "total", "rate"} */
static void
ev_counter(struct evidence *ev, const struct snapshot *s, enum counter_id id)
{
	struct ev_part *p = evidence_add(ev, EV_COUNTER,
	    counter_defs[id].kernel_name);
	const struct rate *r = &s->rate[RATE_5M][id];
	struct ev_counter *c;

	if (p == NULL)
		return;
	c = &p->u.counter;
	c->present = s->counters.present[id];
	if (!c->present)
		return;
	c->total = s->counters.value[id];
	c->rate.window = s->sample_s > 0 ? "sample" : rate_window_name[RATE_5M];
	c->rate.evaluated = r->evaluated;
	if (r->evaluated) {
		c->rate.delta = r->delta;
		c->rate.per_min = r->per_min;
		c->rate.window_s = r->window_s;
	} else {
		c->rate.note = s->sample_s > 0 ? "not evaluated" :
		    "not evaluated: no 5 m history yet (run `twaudit serve`, "
		    "or `twaudit check --sample=30s`)";
	}
}

static void
ev_assign(struct ev_assign *a, const char *path, unsigned line,
    const char *value)
{
	ev_copy(a->file, path, PERSIST_PATH_LEN);
	a->line = line;
	ev_copy(a->value, value, EV_VALUE_LEN);
}

/*
 * evidence.persisted[name] = {"file", "line", "value"} of systemd-sysctl's
 * effective assignment ("file": null when no file sets it), plus
 * "sysctl_system" when `sysctl --system` would end elsewhere.
 */
static void
ev_persist(struct evidence *ev, const struct snapshot *s, enum sysctl_id id)
{
	const struct persist_assign *eff = effective(s, id);
	struct ev_part *p = evidence_add(ev, EV_PERSISTED, sysctl_defs[id].name);
	const char *path, *value;
	unsigned line;

	if (p == NULL)
		return;
	if (eff != NULL) {
		p->u.persisted.set = true;
		ev_assign(&p->u.persisted.effective, eff->path, eff->line,
		    eff->value);
	}
	if (persist_procps(s, id, &path, &line, &value) &&
	    procps_differs(eff, path, line)) {
		p->u.persisted.has_procps = true;
		ev_assign(&p->u.persisted.procps, path, line, value);
	}
}

static void
ev_kernel(struct evidence *ev, const struct snapshot *s)
{
	struct ev_part *p = evidence_add(ev, EV_KERNEL_RELEASE,
	    "kernel_release");

	if (p != NULL)
		ev_copy(p->u.text, s->sysctl.osrelease,
		    sizeof(s->sysctl.osrelease));
}

/* Scalars under a key of their own. */
static void
ev_int(struct evidence *ev, const char *key, int64_t v)
{
	struct ev_part *p = evidence_add(ev, EV_INT, key);

	if (p != NULL)
		p->u.i = v;
}

static void
ev_real(struct evidence *ev, const char *key, double v)
{
	struct ev_part *p = evidence_add(ev, EV_REAL, key);

	if (p != NULL)
		p->u.real = v;
}

static void
ev_bool(struct evidence *ev, const char *key, bool v)
{
	struct ev_part *p = evidence_add(ev, EV_BOOL, key);

	if (p != NULL)
		p->u.b = v;
}

/* Collector text of at most MAX bytes. */
static void
ev_text(struct evidence *ev, const char *key, const char *text, size_t max)
{
	struct ev_part *p = evidence_add(ev, EV_TEXT, key);

	if (p != NULL)
		ev_copy(p->u.text, text, max < EV_TEXT_LEN ? max : EV_TEXT_LEN);
}

/*
 * The model's peer table against the kernel's, only when they disagree
 * on enough peers: the estimate beside it is then less reliable than it
 * looks.
 */
static void
ev_model_agreement(struct ev_model *m, const struct live_stats *sm)
{
	const struct tcpm_agreement *a = &sm->tcpm_agreement;
	uint64_t uni = a->kernel + a->model - a->common;

	if (!a->valid || uni < TCPM_AGREE_MIN_PEERS ||
	    a->ratio >= TCPM_AGREE_LOW)
		return;
	m->has_agreement = true;
	m->agreement.ratio = a->ratio;
	m->agreement.kernel_peers = a->kernel;
	m->agreement.model_peers = a->model;
	m->agreement.matched_peers = a->matched;
	m->agreement.note = "The model's peer table agrees with the kernel's "
	    "tcp_metrics table on few of the peers with a stamp younger than "
	    "60 s: its estimates are less reliable here (capture drops, "
	    "traffic the sampler does not see, or kernel behaviour the "
	    "profile does not describe).";
}

/*
 * evidence.model: the live estimate, when the sampler runs: predicted
 * rejections per minute (scaled), the NAT sources (most at risk first),
 * and what-if for the other tw_recycle setting.
 */
static void
ev_model(struct evidence *ev, const struct snapshot *s)
{
	const struct live_stats *sm = &s->sampler;
	struct ev_part *p;
	struct ev_model *m;

	if (!s->have_sampler || sm->state != SAMPLER_OK ||
	    (p = evidence_add(ev, EV_MODEL, "model")) == NULL)
		return;
	m = p->u.model;
	snprintf(m->profile, sizeof(m->profile), "%s", sm->profile);
	m->predicted_rejections_per_min = sm->predicted_rejections_per_min;
	m->sampling_ratio = (int)sm->ratio;
	m->nat_sources_count = sm->nat_sources;
	m->per_connection_sources = sm->per_connection_sources;
	for (size_t i = 0; i < sm->nnat && i < LIVE_TOP_SOURCES &&
	    i < EV_MODEL_SOURCES; i++) {
		const struct model_source *src = &sm->nat[i];
		struct ev_model_source *o = &m->source[m->nsources++];

		o->family = src->family;
		memcpy(o->addr, src->addr, sizeof(o->addr));
		o->estimated_hosts = src->estimated_hosts;
		o->nat_class = model_nat_class_name(src->nat_class);
		o->confidence = src->confidence;
		o->syns = src->syns;
		o->predicted_rejections = src->predicted_rejections;
	}
	for (unsigned i = 0; i < sm->nwhatif && i < LIVE_MAX_WHATIF &&
	    i < EV_MODEL_WHATIF; i++) {
		snprintf(m->whatif[i].profile, sizeof(m->whatif[i].profile),
		    "%s", sm->whatif[i].profile);
		m->whatif[i].tcp_tw_recycle =
		    (int)sm->whatif[i].setting[MS_TW_RECYCLE];
		m->whatif[i].predicted_rejections_per_min =
		    sm->whatif[i].predicted_rejections_per_min;
		m->nwhatif++;
	}
	ev_model_agreement(m, sm);
}

/* ---------------------------------------------------------------------
 * Remediation builders: the runtime, persist and caveats lists.
 */

static void
rem_add(struct remedy_list *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Our texts are ASCII; collector text inside them is made so too. */
static void
rem_add(struct remedy_list *l, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	for (char *c = p; *c != '\0'; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') ||
		    (unsigned char)*c >= 0x7f)
			*c = '?';
	remedy_add(l, p);
}

/*
 * A rate as the page and the text output show figures: 3 significant
 * digits, no exponent, no trailing zeros (6.0 -> "6", 1234.5 -> "1230").
 */
static const char *
rate3(double v, char *buf, size_t len)
{
	int e, dec;
	char *dot, *end;

	if (!isfinite(v) || v == 0) {
		snprintf(buf, len, "%s", isfinite(v) ? "0" : "?");
		return buf;
	}
	e = (int)floor(log10(fabs(v)));
	dec = 2 - e;
	if (dec > 0) {
		snprintf(buf, len, "%.*f", dec > 15 ? 15 : dec, v);
		if ((dot = strchr(buf, '.')) != NULL) {
			end = buf + strlen(buf);
			while (end > dot && (end[-1] == '0' || end[-1] == '.'))
				*--end = '\0';
		}
	} else {
		snprintf(buf, len, "%.0f", round(v / pow(10, -dec)) *
		    pow(10, -dec));
	}
	return buf;
}

/* Who owns a persisted file, hence whether advice may say "edit it". */
enum file_owner { OWNER_ADMIN, OWNER_PACKAGE, OWNER_BOOT };

static enum file_owner
file_owner(const char *path)
{
	if (strncmp(path, "/usr/lib/sysctl.d/", 18) == 0 ||
	    strncmp(path, "/lib/sysctl.d/", 14) == 0)
		return OWNER_PACKAGE;
	if (strncmp(path, "/run/sysctl.d/", 14) == 0)
		return OWNER_BOOT;
	return OWNER_ADMIN;	/* /etc, /usr/local/lib/sysctl.d */
}

static const char *
base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b != NULL ? b + 1 : path;
}

/*
 * Add to L how to make line PATH:LINE ('NAME = OLD') set NAME to WANT, or
 * go away when WANT is NULL (the kernel has no such key). NOTE follows an
 * edit of the admin's own file. A package's file (/usr/lib, /lib) is never
 * edited (the next upgrade restores it): a file in /etc/sysctl.d that sorts
 * later wins, else one of the same name masks it (collectors/persist.c has
 * the precedence). A file in /run/sysctl.d is written at every boot.
 */
static void
rem_line(struct remedy_list *l, const char *path, unsigned line,
    const char *name, const char *old, const char *want, const char *note)
{
	const char *base = base_name(path);
	enum file_owner own = file_owner(path);
	char what[160];

	if (want != NULL)
		snprintf(what, sizeof(what), "as '%s = %s'", name, want);
	else
		snprintf(what, sizeof(what), "removed (this kernel has no "
		    "such key)");
	if (own == OWNER_ADMIN && want != NULL)
		rem_add(l, "change %s:%u to '%s = %s'%s", path, line, name,
		    want, note);
	else if (own == OWNER_ADMIN)
		rem_add(l, "remove %s:%u ('%s = %s'): this kernel has no such "
		    "key", path, line, name, old);
	else if (own == OWNER_PACKAGE && want != NULL &&
	    strcmp(base_name(PERSIST_FILE), base) > 0)
		rem_add(l, "write '%s = %s' to %s: it sorts after %s, so it "
		    "overrides %s:%u ('%s = %s'), a package's file (do not edit "
		    "it: an upgrade puts it back)", name, want, PERSIST_FILE,
		    base, path, line, name, old);
	else if (own == OWNER_PACKAGE)
		rem_add(l, "copy %s to /etc/sysctl.d/%s with line %u %s: the "
		    "same name masks %s:%u ('%s = %s'), a package's file (do "
		    "not edit it: an upgrade puts it back)", path, base, line,
		    what, path, line, name, old);
	else
		rem_add(l, "%s:%u ('%s = %s') is generated at boot (/run is "
		    "not kept), so an edit does not last: change what writes "
		    "it (find it with `grep -rl %s /etc /usr/lib/systemd "
		    "/usr/lib/tmpfiles.d`), or mask it with a copy at "
		    "/etc/sysctl.d/%s with that line %s", path, line, name,
		    old, base, base, what);
}

static bool
persisted_is(const char *text, int64_t want)
{
	struct sysctl_value v;

	return parse_persisted(text, &v) && v.nvalues == 1 && v.v[0] == want;
}

/*
 * Add to REM what makes key ID come up as WANT at the next boot and on
 * `sysctl --system`: change the effective line(s), or write a new one.
 * With HAS_DEFAULT, WANT is the kernel default and an unset key needs no
 * line (the boot applies the default).
 */
static void
rem_persist_value(struct remediation *rem, const struct snapshot *s, enum sysctl_id id,
    int64_t want, bool has_default)
{
	const char *name = sysctl_defs[id].name;
	const struct persist_assign *eff = effective(s, id);
	const char *path, *value;
	unsigned line;
	bool procps = persist_procps(s, id, &path, &line, &value);
	char wtext[24];

	snprintf(wtext, sizeof(wtext), "%" PRId64, want);
	if (eff != NULL && !persisted_is(eff->value, want))
		rem_line(&rem->persist, eff->path, eff->line, name, eff->value,
		    wtext, "");
	if (procps && procps_differs(eff, path, line) &&
	    !persisted_is(value, want))
		rem_line(&rem->persist, path, line, name, value, wtext,
		    " (`sysctl --system` applies it last)");
	if (eff != NULL || procps)
		return;
	if (s->source[SRC_PERSIST].state != SOURCE_OK) {
		rem_add(&rem->persist, "write '%s = %" PRId64 "' to %s",
		    name, want, PERSIST_FILE);
		rem_add(&rem->caveats, "The persisted settings could not be "
		    "read (%s source %s): check /etc/sysctl.conf and the "
		    "sysctl.d directories for %s yourself.",
		    source_name[SRC_PERSIST],
		    s->source[SRC_PERSIST].state < SOURCE_NSTATES ?
		    source_state_name[s->source[SRC_PERSIST].state] : "?",
		    name);
	} else if (has_default) {
		rem_add(&rem->caveats, "No sysctl.d file or /etc/sysctl.conf "
		    "sets %s, so the kernel default (%" PRId64 ") returns at "
		    "boot. Something set it at runtime (a script, tuned, "
		    "configuration management): find it, for example with "
		    "`grep -rn %s /etc`, or it will set it again.", name, want,
		    strrchr(name, '.') != NULL ? strrchr(name, '.') + 1 : name);
	} else {
		rem_add(&rem->persist, "write '%s = %" PRId64 "' to %s",
		    name, want, PERSIST_FILE);
	}
}

/* ---------------------------------------------------------------------
 * Emitting findings.
 */

/*
 * Append a finding for rule R to OUT, taking EXPL, EV and REM (EV and REM
 * are left empty). When EXPL is missing (allocation failure) or OUT is
 * full the finding is dropped and everything freed.
 */
static void
emit(struct findings *out, const struct rule *r, bool escalated, char *expl,
    struct evidence *ev, struct remediation *rem)
{
	struct finding *f;

	if (expl == NULL || out->n >= ADVICE_MAX_FINDINGS) {
		free(expl);
		evidence_free(ev);
		remediation_free(rem);
		return;
	}
	/* Our texts are ASCII; collector text inside them is made so too. */
	for (char *p = expl; *p != '\0'; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') ||
		    (unsigned char)*p >= 0x7f)
			*p = '?';
	f = &out->f[out->n++];
	f->id = r->id;
	f->severity = escalated ? r->sev_escalated : r->sev;
	f->title = r->title;
	f->explanation = expl;
	f->evidence = *ev;
	f->remediation = *rem;
	memset(ev, 0, sizeof(*ev));
	memset(rem, 0, sizeof(*rem));
}

/* ---------------------------------------------------------------------
 * The rules.
 */

/* The tcp_timestamps alternative, its costs and its trap (§1.4, §11.1). */
static void
caveat_timestamps_off(struct remediation *rem, const struct snapshot *s)
{
	rem_add(&rem->caveats, "Alternative, not recommended: "
	    "net.ipv4.tcp_timestamps=0 also stops these drops, but it "
	    "removes PAWS protection against old duplicate segments and "
	    "makes RTT estimates coarser, for every connection.");
	rem_add(&rem->caveats, "Trap on kernels 3.17 to 4.11%s: switching "
	    "tcp_timestamps off while tcp_tw_recycle is on and peer stamps "
	    "are fresh makes the server drop every SYN from those peers for "
	    "up to 60 s (their SYNs then count as SYNs without timestamps). "
	    "Disable tcp_tw_recycle first; only then, if at all, touch "
	    "tcp_timestamps.",
	    kernel_drops_tsless_syn(s) ? ", which includes this kernel" : "");
}

/* tcp_tw_recycle != 0 with timestamps on (§1, §5, §11.1, §11.2). */
static void
rule_tw_recycle_nat_drops(const struct rule *r, const struct snapshot *s,
    struct findings *out)
{
	int64_t recycle, ts;
	bool ts_known;
	struct evidence ev = { 0 };
	struct remediation rem = { 0 };
	struct ev_sysctl *tso;
	char *expl;

	if (!key_nonzero(s, SYSCTL_TCP_TW_RECYCLE, &recycle))
		return;
	ts_known = key_value(s, SYSCTL_TCP_TIMESTAMPS, &ts);
	if (ts_known && ts == 0)
		return;

	ev_kernel(&ev, s);
	ev_sysctl(&ev, s, SYSCTL_TCP_TW_RECYCLE);
	tso = ev_sysctl(&ev, s, SYSCTL_TCP_TIMESTAMPS);
	if (!ts_known && tso != NULL) {
		tso->has_assumed = true;
		tso->assumed = 1;
		tso->note = "not readable here; treated as on (the kernel "
		    "default)";
	}
	ev_counter(&ev, s, CTR_PAWS_PASSIVE);
	ev_counter(&ev, s, CTR_LISTEN_DROPS);
	ev_persist(&ev, s, SYSCTL_TCP_TW_RECYCLE);
	ev_model(&ev, s);

	expl = xasprintf("net.ipv4.tcp_tw_recycle is %" PRId64 " and TCP "
	    "timestamps are %s. For 60 s after this server closes a "
	    "connection first, it silently drops any SYN from the same "
	    "client address whose timestamp is lower than the last one it "
	    "saw. Clients behind a NAT share one address but not one "
	    "timestamp clock, so some of them lose their SYNs and wait up to "
	    "a minute to connect. Clients whose kernel gives each connection "
	    "its own random timestamp offset (Linux 4.10, and current stable "
	    "kernels again since 2026) lose about half their SYNs with no NAT "
	    "at all. The drops show only as PAWSPassive (and ListenDrops from "
	    "3.8) rising. Turn tcp_tw_recycle off: Linux itself removed it in "
	    "4.12.", recycle,
	    ts_known ? "on" : "assumed on (tcp_timestamps is not readable "
	    "here, and on is the default)");

	rem_add(&rem.runtime, "sysctl -w %s=0",
	    sysctl_defs[SYSCTL_TCP_TW_RECYCLE].name);
	rem_persist_value(&rem, s, SYSCTL_TCP_TW_RECYCLE, 0, true);
	rem_add(&rem.caveats, "Turning tcp_tw_recycle off takes effect "
	    "for the next SYN; nothing needs to be restarted.");
	if (s->kv.code >= KV(4, 11, 0))
		rem_add(&rem.caveats, "On 4.11 tcp_tw_recycle is per network "
		    "namespace: run the command in every namespace (container) "
		    "where it is on.");
	else if (kernel_known(s))
		rem_add(&rem.caveats, "Before 4.11 tcp_tw_recycle is one "
		    "host-wide value: it also applies to every container.");
	caveat_timestamps_off(&rem, s);
	rem_add(&rem.caveats, "If tcp_tw_recycle was meant to keep the "
	    "number of TIME-WAIT sockets down: they cost little memory, and "
	    "for connections this host opens tcp_tw_reuse (client side only) "
	    "and a wider net.ipv4.ip_local_port_range are the safe tools.");
	emit(out, r, false, expl, &ev, &rem);
}

/*
 * tw_recycle on and the sampler sees NAT (or per-connection-offset)
 * sources: the clients at risk exist, even before any drop (§1, §5).
 */
static void
rule_nat_clients_at_risk(const struct rule *r, const struct snapshot *s,
    struct findings *out)
{
	const struct live_stats *sm = &s->sampler;
	int64_t recycle, ts;
	struct evidence ev = { 0 };
	struct remediation rem = { 0 };
	char *expl;

	if (!key_nonzero(s, SYSCTL_TCP_TW_RECYCLE, &recycle) ||
	    (key_value(s, SYSCTL_TCP_TIMESTAMPS, &ts) && ts == 0))
		return;
	if (!s->have_sampler || sm->state != SAMPLER_OK ||
	    sm->nat_sources + sm->per_connection_sources == 0)
		return;
	ev_kernel(&ev, s);
	ev_sysctl(&ev, s, SYSCTL_TCP_TW_RECYCLE);
	ev_model(&ev, s);
	expl = xasprintf("The sampler sees %" PRIu64 " client address%s "
	    "with more than one timestamp clock (hosts behind a NAT or a load "
	    "balancer) and %" PRIu64 " whose connections each carry their own "
	    "random timestamp offset, while tcp_tw_recycle is on. These are "
	    "exactly the clients whose SYNs the kernel drops for up to 60 s "
	    "after this server closes one of their connections, whether or "
	    "not PAWSPassive has moved yet.%s", sm->nat_sources,
	    sm->nat_sources == 1 ? "" : "es", sm->per_connection_sources,
	    sm->ratio > 1 ? " Counts are of the sampled clients (1 in N "
	    "addresses); the estimate in evidence.model is scaled." : "");
	rem_add(&rem.runtime, "sysctl -w %s=0",
	    sysctl_defs[SYSCTL_TCP_TW_RECYCLE].name);
	rem_persist_value(&rem, s, SYSCTL_TCP_TW_RECYCLE, 0, true);
	emit(out, r, false, expl, &ev, &rem);
}

/* PAWSPassive rising over 5 m (§1, §7.3). */
static void
rule_paws_passive_rising(const struct rule *r, const struct snapshot *s,
    struct findings *out)
{
	const struct rate *rt = rising(s, CTR_PAWS_PASSIVE);
	char when[64];
	int64_t recycle;
	struct evidence ev = { 0 };
	struct remediation rem = { 0 };
	char *expl;

	if (rt == NULL)
		return;
	window_phrase(s, rt, when, sizeof(when));
	ev_counter(&ev, s, CTR_PAWS_PASSIVE);
	ev_counter(&ev, s, CTR_LISTEN_DROPS);
	ev_sysctl(&ev, s, SYSCTL_TCP_TW_RECYCLE);
	ev_sysctl(&ev, s, SYSCTL_TCP_TIMESTAMPS);
	ev_real(&ev, "syns_dropped_per_min", rt->per_min);

	expl = xasprintf("PAWSPassive rose by %" PRIu64 " %s (%s SYNs "
	    "dropped per minute): the tcp_tw_recycle check silently dropped "
	    "SYNs from clients whose timestamp looked older than the last one "
	    "seen from their address. Each dropped SYN costs the client a "
	    "retransmission (after 1 s, then 3, 7, 15, 31 s): connects hang "
	    "for seconds, up to about a minute.", rt->delta, when,
	    rate3(rt->per_min, (char[32]){ 0 }, 32));

	if (key_nonzero(s, SYSCTL_TCP_TW_RECYCLE, &recycle)) {
		rem_add(&rem.runtime, "sysctl -w %s=0",
		    sysctl_defs[SYSCTL_TCP_TW_RECYCLE].name);
		rem_persist_value(&rem, s, SYSCTL_TCP_TW_RECYCLE, 0, true);
	} else {
		rem_add(&rem.caveats, "tcp_tw_recycle is not on now (or not "
		    "readable here); if it was just turned off, this finding "
		    "clears once the window no longer covers the drops.");
	}
	caveat_timestamps_off(&rem, s);
	emit(out, r, false, expl, &ev, &rem);
}

/* Persisted text that parses and sets a non-zero first value. */
static bool
persisted_nonzero(const char *text)
{
	struct sysctl_value v;

	return parse_persisted(text, &v) && v.v[0] != 0;
}

/*
 * A sysctl file sets tcp_tw_recycle != 0 (§1.6). Every non-zero line is
 * named, not only the effective one: removing the effective line would
 * promote an earlier one.
 */
static void
rule_tw_recycle_persisted(const struct rule *r, const struct snapshot *s,
    struct findings *out)
{
	const enum sysctl_id id = SYSCTL_TCP_TW_RECYCLE;
	const char *name = sysctl_defs[id].name;
	const struct persist_key *pk = &s->persist.key[id];
	const struct persist_assign *eff = effective(s, id);
	const char *ppath = NULL, *pvalue = NULL, *fpath, *fvalue;
	unsigned pline = 0, fline, n;
	bool sd_on, pp_on, removed, unjudged;
	int64_t recycle;
	struct evidence ev = { 0 };
	struct remediation rem = { 0 };
	struct ev_assignments *lines;
	struct ev_part *lp;
	char *expl;

	sd_on = eff != NULL && persisted_nonzero(eff->value);
	pp_on = persist_procps(s, id, &ppath, &pline, &pvalue) &&
	    persisted_nonzero(pvalue);
	if (!sd_on && !pp_on)
		return;
	if (kernel_known(s))
		removed = s->kv.code >= KV(4, 12, 0);
	else
		removed = s->sysctl.key[id].state == KEY_ABSENT;
	/* Unknown because the sysctl collector is switched off (a foreign
	 * tree): disabling never raises the severity, so not escalated. */
	unjudged = !kernel_known(s) &&
	    s->source[SRC_SYSCTL].state == SOURCE_DISABLED;

	/* The line to name first: what the boot applies, else procps's. */
	if (sd_on) {
		fpath = eff->path;
		fline = eff->line;
		fvalue = eff->value;
	} else {
		fpath = ppath;
		fline = pline;
		fvalue = pvalue;
	}

	ev_kernel(&ev, s);
	ev_sysctl(&ev, s, id);
	ev_persist(&ev, s, id);
	ev_text(&ev, "file", fpath, PERSIST_PATH_LEN);
	ev_int(&ev, "line", fline);
	ev_text(&ev, "value", fvalue, EV_VALUE_LEN);
	ev_bool(&ev, "applied_at_boot", sd_on);
	ev_bool(&ev, "key_removed_in_kernel", removed);

	/* Added before it is filled: "assignments" is the last key. */
	lp = evidence_add(&ev, EV_ASSIGNMENTS, "assignments");
	lines = lp != NULL ? lp->u.assignments : NULL;
	n = pk->n < PERSIST_MAX_ASSIGN ? pk->n : PERSIST_MAX_ASSIGN;
	for (unsigned i = 0; i < n; i++) {
		const struct persist_assign *a = &pk->a[i];

		if (!persisted_nonzero(a->value))
			continue;
		if (lines != NULL && lines->n < EV_ASSIGNS)
			ev_assign(&lines->a[lines->n++], a->path, a->line,
			    a->value);
		rem_line(&rem.persist, a->path, a->line, name, a->value,
		    removed ? NULL : "0",
		    " (or remove the line: 0 is the default)");
	}
	if (pp_on && procps_differs(eff, ppath, pline)) {
		if (lines != NULL && lines->n < EV_ASSIGNS)
			ev_assign(&lines->a[lines->n++], ppath, pline, pvalue);
		rem_line(&rem.persist, ppath, pline, name, pvalue,
		    removed ? NULL : "0",
		    " (`sysctl --system` applies it last)");
	}
	if (pk->dropped > 0)
		rem_add(&rem.caveats, "%u more assignments of %s were not "
		    "recorded: check them with `grep -rn tcp_tw_recycle "
		    "/etc/sysctl.conf /etc/sysctl.d /run/sysctl.d "
		    "/usr/lib/sysctl.d`.", pk->dropped, name);

	if (removed) {
		expl = xasprintf("%s:%u sets %s = %s, a key this kernel (%s) "
		    "does not have: tcp_tw_recycle was removed in Linux 4.12. "
		    "The line does nothing here, but it makes `sysctl --system` "
		    "report an error at every run and it turns tcp_tw_recycle "
		    "back on if this configuration meets an older kernel (a "
		    "rollback, or the same file deployed to an older host), "
		    "where it makes NATed clients lose SYNs.", fpath, fline,
		    name, fvalue, s->sysctl.osrelease[0] != '\0' ?
		    s->sysctl.osrelease : "4.12 or later");
		rem_add(&rem.caveats, "Nothing to change at runtime: the key "
		    "does not exist on this kernel.");
	} else if (unjudged) {
		expl = xasprintf("%s:%u sets %s = %s. The kernel release is "
		    "not known (the sysctl collector is disabled): on a kernel "
		    "before 4.12 %s turns tcp_tw_recycle on, and with TCP "
		    "timestamps on, clients behind a NAT and clients with "
		    "per-connection timestamp offsets then lose SYNs; from "
		    "4.12 the line does nothing but make `sysctl --system` "
		    "report an error.", fpath, fline, name, fvalue,
		    sd_on ? "every boot (and every `sysctl --system`)" :
		    "every `sysctl --system`");
	} else {
		bool on_now = key_nonzero(s, id, &recycle);

		expl = xasprintf("%s:%u sets %s = %s. This kernel (%s) still "
		    "has tcp_tw_recycle, so %s turns it on again%s; with TCP "
		    "timestamps on, clients behind a NAT and clients with "
		    "per-connection timestamp offsets then lose SYNs.", fpath,
		    fline, name, fvalue, s->sysctl.osrelease[0] != '\0' ?
		    s->sysctl.osrelease : "before 4.12",
		    sd_on ? "every boot (and every `sysctl --system`)" :
		    "every `sysctl --system`",
		    on_now ? "" : ", even though it is off now");
		if (on_now)
			rem_add(&rem.runtime, "sysctl -w %s=0", name);
	}
	emit(out, r, !removed && !unjudged, expl, &ev, &rem);
}

/* Values another rule warns about: drift advice must not propose them. */
static bool
discouraged(enum sysctl_id id, const struct sysctl_value *v)
{
	switch (id) {
	case SYSCTL_TCP_TW_RECYCLE:
	case SYSCTL_TCP_RFC1337:
		return v->nvalues >= 1 && v->v[0] != 0;
	default:
		return false;
	}
}

/* "1" or "32768 60999" */
static void
values_text(const struct sysctl_value *v, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < v->nvalues && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%" PRId64,
		    i ? " " : "", v->v[i]);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* `sysctl -w name=1` or `sysctl -w name="32768 60999"` */
static void
rem_sysctl_w(struct remediation *rem, enum sysctl_id id, const struct sysctl_value *v)
{
	char text[96];

	values_text(v, text, sizeof(text));
	if (v->nvalues > 1)
		rem_add(&rem->runtime, "sysctl -w %s=\"%s\"",
		    sysctl_defs[id].name, text);
	else
		rem_add(&rem->runtime, "sysctl -w %s=%s",
		    sysctl_defs[id].name, text);
}

/*
 * Runtime differs from systemd-sysctl's effective persisted value (what
 * the next boot applies). One finding for all keys; see docs/findings.md.
 */
static void
rule_sysctl_drift(const struct rule *r, const struct snapshot *s,
    struct findings *out)
{
	struct evidence ev = { 0 };
	struct remediation rem = { 0 };
	struct ev_drift *keys = NULL;
	struct ev_part *kp;
	bool started = false;
	char *names = NULL, *expl = NULL;
	size_t names_len = 0, ndrift = 0;
	FILE *nf = NULL;

	for (int id = 0; id < SYSCTL_COUNT; id++) {
		const struct sysctl_value *rt = &s->sysctl.key[id];
		const struct persist_assign *eff;
		struct sysctl_value pv;
		char rtext[96], ptext[96];
		int64_t dummy;
		struct ev_drift_key *k;

		if (!key_value(s, (enum sysctl_id)id, &dummy))
			continue;
		if ((eff = effective(s, (enum sysctl_id)id)) == NULL)
			continue;
		if (!parse_persisted(eff->value, &pv) || sysctl_value_equal(rt, &pv))
			continue;
		if (!started) {
			started = true;
			kp = evidence_add(&ev, EV_DRIFT, "keys");
			keys = kp != NULL ? kp->u.drift : NULL;
			if ((nf = open_memstream(&names, &names_len)) == NULL)
				break;
		}
		values_text(rt, rtext, sizeof(rtext));
		values_text(&pv, ptext, sizeof(ptext));
		if (keys != NULL && keys->n < EV_DRIFT_KEYS) {
			k = &keys->key[keys->n++];
			k->name = sysctl_defs[id].name;
			ev_values(&k->runtime, rt->v, rt->nvalues);
			ev_values(&k->persisted, pv.v, pv.nvalues);
			ev_copy(k->file, eff->path, sizeof(eff->path));
			k->line = eff->line;
		}
		fprintf(nf, "%s%s (running %s, %s:%u sets %s)",
		    ndrift ? "; " : "", sysctl_defs[id].name, rtext,
		    eff->path, eff->line, ptext);
		ndrift++;

		/*
		 * Default direction: keep what runs now (usually a forgotten
		 * `sysctl -w`). When the running value is one we warn about,
		 * go back to the file's value instead.
		 */
		if (discouraged((enum sysctl_id)id, rt) &&
		    discouraged((enum sysctl_id)id, &pv)) {
			rem_add(&rem.caveats, "Neither value of %s is one to "
			    "keep: see the finding about it for the value to "
			    "set at runtime and in %s:%u.",
			    sysctl_defs[id].name, eff->path, eff->line);
		} else if (discouraged((enum sysctl_id)id, rt)) {
			rem_sysctl_w(&rem, (enum sysctl_id)id, &pv);
		} else {
			rem_line(&rem.persist, eff->path, eff->line,
			    sysctl_defs[id].name, eff->value, rtext, "");
			if (!discouraged((enum sysctl_id)id, &pv))
				rem_add(&rem.caveats, "If %s:%u holds the "
				    "intended value of %s instead, apply it "
				    "now: sysctl -w %s=%s%s%s", eff->path,
				    eff->line, sysctl_defs[id].name,
				    sysctl_defs[id].name,
				    pv.nvalues > 1 ? "\"" : "", ptext,
				    pv.nvalues > 1 ? "\"" : "");
		}
	}
	if (!started)
		return;
	if (nf == NULL || fclose(nf) != 0) {
		free(names);
		evidence_free(&ev);
		remediation_free(&rem);
		return;
	}
	expl = xasprintf("%zu watched setting%s differ%s between the running "
	    "kernel and the persisted configuration: %s. The next boot "
	    "applies the persisted value%s, so what runs now is not what you "
	    "get after a reboot.", ndrift, ndrift == 1 ? "" : "s",
	    ndrift == 1 ? "s" : "", names, ndrift == 1 ? "" : "s");
	free(names);
	rem_add(&rem.caveats, "Runtime and persisted values are compared "
	    "as systemd-sysctl applies the files at boot; `sysctl --system` "
	    "may end differently when /etc/sysctl.conf is not linked into "
	    "/etc/sysctl.d.");
	emit(out, r, false, expl, &ev, &rem);
}

/* tcp_timestamps = 0 (§5, §11.3). */
static void
rule_timestamps_disabled(const struct rule *r, const struct snapshot *s,
    struct findings *out)
{
	int64_t ts, recycle;
	bool recycle_on;
	struct evidence ev = { 0 };
	struct remediation rem = { 0 };
	char *expl;

	if (!key_value(s, SYSCTL_TCP_TIMESTAMPS, &ts) || ts != 0)
		return;
	recycle_on = key_nonzero(s, SYSCTL_TCP_TW_RECYCLE, &recycle);

	ev_sysctl(&ev, s, SYSCTL_TCP_TIMESTAMPS);
	ev_sysctl(&ev, s, SYSCTL_TCP_TW_RECYCLE);
	ev_persist(&ev, s, SYSCTL_TCP_TIMESTAMPS);

	expl = xasprintf("net.ipv4.tcp_timestamps is 0, so new connections "
	    "carry no TCP timestamps. That costs PAWS protection against old "
	    "duplicate segments (on fast or long-lived connections whose "
	    "sequence numbers wrap) and gives coarser RTT estimates (fewer "
	    "samples, none from retransmitted segments). It does not stop "
	    "TIME-WAIT sockets from refusing SYNs when NATed clients reuse a "
	    "port within 60 s: on current kernels those refusals still "
	    "happen, they just no longer show in PAWSEstab or PAWSTimewait.%s",
	    recycle_on ? " tcp_tw_recycle is on: turning timestamps back on "
	    "re-arms its SYN drops, so turn tcp_tw_recycle off first." : "");

	if (recycle_on) {
		rem_add(&rem.runtime, "sysctl -w %s=0",
		    sysctl_defs[SYSCTL_TCP_TW_RECYCLE].name);
		rem_persist_value(&rem, s, SYSCTL_TCP_TW_RECYCLE, 0, true);
	}
	rem_add(&rem.runtime, "sysctl -w %s=1",
	    sysctl_defs[SYSCTL_TCP_TIMESTAMPS].name);
	rem_persist_value(&rem, s, SYSCTL_TCP_TIMESTAMPS, 1, true);
	rem_add(&rem.caveats, "Informational: timestamps off is a "
	    "legitimate choice; the commands restore the default.");
	if (recycle_on)
		rem_add(&rem.caveats, "Keep the order: tcp_tw_recycle=0 "
		    "first, then tcp_timestamps=1.");
	if (!kernel_known(s) || s->kv.code >= KV(4, 10, 0))
		rem_add(&rem.caveats, "From 4.10, tcp_timestamps=2 turns "
		    "timestamps on without the random per-connection offset.");
	emit(out, r, false, expl, &ev, &rem);
}

/* Advice shared by the TIME-WAIT rules (§7, §11.3). */
static void
caveats_timewait_nat(struct remediation *rem)
{
	rem_add(&rem->caveats, "The cause is a NAT giving the same public "
	    "port to another host within 60 s of this server closing a "
	    "connection on it. On a Linux NAT, a longer "
	    "net.netfilter.nf_conntrack_tcp_timeout_time_wait (default 120) "
	    "keeps it from reusing ports that fast.");
	rem_add(&rem->caveats, "When clients close first (HTTP keep-alive, "
	    "no server-side close), the TIME-WAIT socket stays on the client "
	    "and the server never refuses these SYNs.");
	rem_add(&rem->caveats, "Do not turn tcp_timestamps off to make the "
	    "counter stop: the refusals continue, only uncounted.");
	rem_add(&rem->caveats, "tcp_tw_reuse does not help: it only affects "
	    "connections this host opens.");
}

/* PAWSTimewait rising (6.16+, §7, §11.3). */
static void
rule_timewait_paws_rejects(const struct rule *r, const struct snapshot *s,
    struct findings *out)
{
	const struct rate *rt = rising(s, CTR_PAWS_TIMEWAIT);
	int64_t rfc1337;
	bool rfc_on;
	char when[64];
	struct evidence ev = { 0 };
	struct remediation rem = { 0 };
	char *expl;

	if (rt == NULL)
		return;
	rfc_on = key_nonzero(s, SYSCTL_TCP_RFC1337, &rfc1337);
	window_phrase(s, rt, when, sizeof(when));

	ev_counter(&ev, s, CTR_PAWS_TIMEWAIT);
	ev_counter(&ev, s, CTR_ACK_SKIPPED_TIMEWAIT);
	ev_counter(&ev, s, CTR_TW);
	ev_sysctl(&ev, s, SYSCTL_TCP_RFC1337);
	ev_sysctl(&ev, s, SYSCTL_TCP_TIMESTAMPS);
	if (s->sockstat.present[SS_TCP_TW])
		ev_int(&ev, "timewait_sockets", s->sockstat.v[SS_TCP_TW]);

	expl = xasprintf("PAWSTimewait rose by %" PRIu64 " %s (%s per "
	    "minute): SYNs arrived for a client address and port that still "
	    "had a TIME-WAIT socket here (this server closed that connection "
	    "first, less than 60 s before) and carried an older timestamp, so "
	    "the TIME-WAIT socket refused them. This is what happens when a "
	    "NAT hands the same public port to another host behind it. %s",
	    rt->delta, when, rate3(rt->per_min, (char[32]){ 0 }, 32), rfc_on ?
	    "Because tcp_rfc1337 is on, the client's RST cannot clear the "
	    "TIME-WAIT socket and these connections fail." :
	    "The client answers with a RST that clears the TIME-WAIT socket "
	    "and retries: about 10 ms lost per refusal, a full second when "
	    "the reply was rate-limited (TCPACKSkippedTimeWait).");

	if (rfc_on) {
		rem_add(&rem.runtime, "sysctl -w %s=0",
		    sysctl_defs[SYSCTL_TCP_RFC1337].name);
		rem_persist_value(&rem, s, SYSCTL_TCP_RFC1337, 0, true);
	}
	caveats_timewait_nat(&rem);
	emit(out, r, false, expl, &ev, &rem);
}

/* tcp_rfc1337 != 0 (§7.1, §11.3). */
static void
rule_rfc1337_timewait_nat(const struct rule *r, const struct snapshot *s,
    struct findings *out)
{
	const struct rate *rt = NULL;
	enum counter_id cid;
	int64_t rfc1337;
	char when[64];
	struct evidence ev = { 0 };
	struct remediation rem = { 0 };
	char *expl, *now = NULL;

	if (!key_nonzero(s, SYSCTL_TCP_RFC1337, &rfc1337))
		return;
	/* PAWSEstab counted TIME-WAIT refusals before PAWSTimewait (6.16). */
	cid = s->counters.present[CTR_PAWS_TIMEWAIT] ? CTR_PAWS_TIMEWAIT :
	    CTR_PAWS_ESTAB;
	rt = rising(s, cid);

	ev_kernel(&ev, s);
	ev_sysctl(&ev, s, SYSCTL_TCP_RFC1337);
	ev_counter(&ev, s, cid);
	ev_text(&ev, "counter_used", counter_defs[cid].kernel_name,
	    EV_TEXT_LEN);

	if (rt != NULL) {
		window_phrase(s, rt, when, sizeof(when));
		now = xasprintf(" %s rose by %" PRIu64 " %s (%s per minute)"
		    "%s, so SYNs are being refused now.",
		    counter_defs[cid].kernel_name, rt->delta, when,
		    rate3(rt->per_min, (char[32]){ 0 }, 32),
		    cid == CTR_PAWS_ESTAB ? " (on this kernel it also counts "
		    "established connections)" : "");
	}
	expl = xasprintf("net.ipv4.tcp_rfc1337 is %" PRId64 ", so TIME-WAIT "
	    "sockets ignore RSTs. When a client's SYN meets one of this "
	    "server's TIME-WAIT sockets (same client address and port less "
	    "than 60 s after the server closed that connection, as when a NAT "
	    "reuses a public port for another host) and is refused, the "
	    "client's RST can no longer clear it: every retry is refused and "
	    "re-arms the 60 s timer, so the connection fails instead of "
	    "costing about 10 ms.%s", rfc1337, now != NULL ? now : "");
	free(now);

	rem_add(&rem.runtime, "sysctl -w %s=0",
	    sysctl_defs[SYSCTL_TCP_RFC1337].name);
	rem_persist_value(&rem, s, SYSCTL_TCP_RFC1337, 0, true);
	rem_add(&rem.caveats, "Some hardening guides recommend "
	    "tcp_rfc1337=1; on a server reached through NAT it costs more "
	    "than the rare old RST it protects against. Record the "
	    "exception where the guide is enforced.");
	if (cid == CTR_PAWS_ESTAB)
		rem_add(&rem.caveats, "Before 6.16 TIME-WAIT refusals are "
		    "counted in PAWSEstab together with PAWS rejects on "
		    "established connections, so its rise is a strong hint, "
		    "not proof.");
	emit(out, r, rt != NULL, expl, &ev, &rem);
}

/* TCPTimeWaitOverflow rising (§3.3). */
static void
rule_tw_buckets_overflow(const struct rule *r, const struct snapshot *s,
    struct findings *out)
{
	const struct rate *rt = rising(s, CTR_TIMEWAIT_OVERFLOW);
	int64_t max = 0, want;
	bool max_known;
	char when[64], maxtext[32];
	struct evidence ev = { 0 };
	struct remediation rem = { 0 };
	char *expl;

	if (rt == NULL)
		return;
	max_known = key_value(s, SYSCTL_TCP_MAX_TW_BUCKETS, &max);
	window_phrase(s, rt, when, sizeof(when));
	if (max_known)
		snprintf(maxtext, sizeof(maxtext), "%" PRId64, max);
	else
		snprintf(maxtext, sizeof(maxtext), "not readable here");

	ev_counter(&ev, s, CTR_TIMEWAIT_OVERFLOW);
	ev_sysctl(&ev, s, SYSCTL_TCP_MAX_TW_BUCKETS);
	if (s->sockstat.present[SS_TCP_TW])
		ev_int(&ev, "timewait_sockets", s->sockstat.v[SS_TCP_TW]);

	expl = xasprintf("TCPTimeWaitOverflow rose by %" PRIu64 " %s (%s "
	    "per minute): the number of TIME-WAIT sockets reached "
	    "net.ipv4.tcp_max_tw_buckets (%s), so the kernel closed "
	    "connections without keeping a TIME-WAIT socket (the kernel log "
	    "says \"time wait bucket table overflow\"). Those connections lose "
	    "TIME-WAIT's protection: a delayed segment of an old connection "
	    "can be taken for part of a new one with the same ports, and a "
	    "lost last ACK leaves the peer's FIN answered by a RST.",
	    rt->delta, when, rate3(rt->per_min, (char[32]){ 0 }, 32), maxtext);

	if (max_known) {
		want = max > 0 && max < INT64_MAX / 2 ? max * 2 : 262144;
		rem_add(&rem.runtime, "sysctl -w %s=%" PRId64,
		    sysctl_defs[SYSCTL_TCP_MAX_TW_BUCKETS].name, want);
		rem_persist_value(&rem, s, SYSCTL_TCP_MAX_TW_BUCKETS, want,
		    false);
	} else {
		rem_add(&rem.caveats, "tcp_max_tw_buckets is not readable "
		    "here (before 4.11 it is host-wide): raise it on the host.");
	}
	rem_add(&rem.caveats, "A TIME-WAIT socket is small (a few hundred "
	    "bytes), so a larger limit costs little memory.");
	rem_add(&rem.caveats, "Do not turn tcp_tw_recycle on to reduce "
	    "TIME-WAIT sockets: it drops SYNs from NATed clients.");
	emit(out, r, false, expl, &ev, &rem);
}

/*
 * Auditing a tree that is not this host's with a local-kernel source
 * named explicitly (--collector.NAME): its figures are this machine's,
 * not the tree's, and the output says so.
 */
static void
rule_local_kernel_sources(const struct rule *r, const struct snapshot *s,
    struct findings *out)
{
	struct evidence ev = { 0 };
	struct remediation rem = { 0 };
	char names[64] = "";
	size_t o = 0;

	if (!s->foreign)
		return;
	for (int i = 0; i < SRC_COUNT; i++) {
		enum source_state st = s->source[i].state;

		if (!collect_source_is_local((enum source_id)i) ||
		    st == SOURCE_NOT_APPLICABLE || st == SOURCE_DISABLED ||
		    (i == SRC_SAMPLER && !s->have_sampler))
			continue;
		o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s",
		    o ? ", " : "", source_name[i]);
		if (o >= sizeof(names))
			break;
	}
	if (o == 0)
		return;
	ev_text(&ev, "sources", names, sizeof(names));
	ev_text(&ev, "tree", s->foreign_why, sizeof(s->foreign_why));
	rem_add(&rem.caveats, "Read these figures as this machine's: the "
	    "findings that use them do not describe the audited tree.");
	emit(out, r, false, xasprintf("The audited tree is not this host's "
	    "(%s), but %s %s named with --collector.NAME: %s the local "
	    "kernel, not the tree's.", s->foreign_why, names,
	    strchr(names, ',') ? "were" : "was",
	    strchr(names, ',') ? "they describe" : "it describes"), &ev, &rem);
}

/* One finding per failed source (never hides the others). */
static void
rule_source_failed(const struct rule *r, const struct snapshot *s,
    struct findings *out)
{
	static const char none[] = "no error recorded";

	for (int i = 0; i < SRC_COUNT; i++) {
		const struct source_status *st = &s->source[i];
		size_t elen = strnlen(st->error, sizeof(st->error));
		struct evidence ev = { 0 };
	struct remediation rem = { 0 };
		char *expl;

		if (st->state != SOURCE_FAILED)
			continue;
		ev_text(&ev, "source", source_name[i], EV_TEXT_LEN);
		ev_text(&ev, "error", st->error, sizeof(st->error));
		expl = xasprintf("The %s collector failed: %.*s. Findings "
		    "that depend on it could not be evaluated, so this audit "
		    "is incomplete; the other findings are still reported.",
		    source_name[i], elen ? (int)elen : (int)strlen(none),
		    elen ? st->error : none);
		rem_add(&rem.caveats, "Check that twaudit can read the %s "
		    "files under --path.procfs / --path.rootfs and that they "
		    "are not truncated or garbled.", source_name[i]);
		emit(out, r, false, expl, &ev, &rem);
	}
}

/*
 * One finding per failed source whose last success is older than
 * ADVICE_STALE_SECONDS (three collection ticks): the data behind its
 * findings is gone, not just one bad read.
 */
static void
rule_source_stale(const struct rule *r, const struct snapshot *s,
    struct findings *out)
{
	for (int i = 0; i < SRC_COUNT; i++) {
		const struct source_status *st = &s->source[i];
		double last = s->last_success[i], age = s->wall - last;
		char when[40];
		struct evidence ev = { 0 };
	struct remediation rem = { 0 };
		char *expl;

		/* Failed only, as source_failed: unavailable is not a fault. */
		if (last <= 0 || st->state != SOURCE_FAILED ||
		    age <= ADVICE_STALE_SECONDS)
			continue;
		format_rfc3339(last, when, sizeof(when));
		ev_text(&ev, "source", source_name[i], EV_TEXT_LEN);
		ev_text(&ev, "last_success", when, sizeof(when));
		ev_real(&ev, "age_seconds", age);
		ev_text(&ev, "error", st->error, sizeof(st->error));
		expl = xasprintf("The %s collector last succeeded %.0f s ago "
		    "(%s): what it reports is stale, and findings that depend "
		    "on it are not being evaluated.", source_name[i], age, when);
		rem_add(&rem.caveats, "Look at the %s collector's error and "
		    "at twaudit_collector_last_success_timestamp_seconds.",
		    source_name[i]);
		emit(out, r, false, expl, &ev, &rem);
	}
}

/*
 * The rule table. Order is the order of findings in the output: the
 * tw_recycle rules first (they cost the most), source failures last.
 */
static const struct rule rules[] = {
	{ "tw_recycle_nat_drops",
	  "tcp_tw_recycle is on: SYNs from NATed clients and clients with "
	  "per-connection timestamp offsets are dropped",
	  SEV_CRITICAL, SEV_CRITICAL, rule_tw_recycle_nat_drops },
	{ "nat_clients_at_risk",
	  "Clients behind NAT are at risk from tcp_tw_recycle",
	  SEV_CRITICAL, SEV_CRITICAL, rule_nat_clients_at_risk },
	{ "paws_passive_rising",
	  "SYNs are being dropped by the tcp_tw_recycle timestamp check",
	  SEV_CRITICAL, SEV_CRITICAL, rule_paws_passive_rising },
	{ "tw_recycle_persisted",
	  "A sysctl file sets tcp_tw_recycle",
	  SEV_WARNING, SEV_CRITICAL, rule_tw_recycle_persisted },
	{ "rfc1337_timewait_nat",
	  "tcp_rfc1337=1 turns TIME-WAIT port reuse into failed connections",
	  SEV_WARNING, SEV_CRITICAL, rule_rfc1337_timewait_nat },
	{ "timewait_paws_rejects",
	  "TIME-WAIT sockets refuse SYNs from reused client ports",
	  SEV_WARNING, SEV_WARNING, rule_timewait_paws_rejects },
	{ "tw_buckets_overflow",
	  "TIME-WAIT table full: connections closed without TIME-WAIT",
	  SEV_WARNING, SEV_WARNING, rule_tw_buckets_overflow },
	{ "sysctl_drift",
	  "Running sysctl values differ from the persisted configuration",
	  SEV_WARNING, SEV_WARNING, rule_sysctl_drift },
	{ "timestamps_disabled",
	  "TCP timestamps are disabled",
	  SEV_INFO, SEV_INFO, rule_timestamps_disabled },
	{ "local_kernel_sources",
	  "Some sources describe the local kernel, not the audited tree",
	  SEV_INFO, SEV_INFO, rule_local_kernel_sources },
	{ "source_failed",
	  "A collector failed: the audit is incomplete",
	  SEV_UNKNOWN, SEV_UNKNOWN, rule_source_failed },
	{ "source_stale",
	  "A collector has not succeeded for a while: its data is stale",
	  SEV_UNKNOWN, SEV_UNKNOWN, rule_source_stale },
};

void
advice_evaluate(const struct snapshot *s, struct findings *out)
{
	if (out->n != 0)
		findings_clear(out);
	if (s == NULL)
		return;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		rules[i].eval(&rules[i], s, out);
}

enum audit_status
advice_status(const struct findings *f)
{
	bool warning = false, unknown = false;

	for (size_t i = 0; i < f->n && i < ADVICE_MAX_FINDINGS; i++) {
		switch (f->f[i].severity) {
		case SEV_CRITICAL:
			return STATUS_CRITICAL;
		case SEV_WARNING:
			warning = true;
			break;
		case SEV_UNKNOWN:
			unknown = true;
			break;
		default:
			break;
		}
	}
	if (warning)
		return STATUS_WARNING;
	return unknown ? STATUS_UNKNOWN : STATUS_OK;
}
