/*
 * Advice rules, table-driven: each case builds a snapshot in memory from a
 * clean 5.10 baseline, runs advice_evaluate, and states the exact set of
 * (id, severity) findings and the status it expects; an optional check
 * function looks at evidence and remediation. Every finding of every case
 * also passes the shape checks of check_shape().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "agent/advice.h"
#include "web/render.h"
#include "agent/snapshot.h"

/* ---------------------------------------------------------------------
 * Snapshot builders.
 */

static void
set_kernel(struct snapshot *s, const char *release)
{
	snprintf(s->sysctl.osrelease, sizeof(s->sysctl.osrelease), "%s",
	    release);
	if (kversion_parse(release, &s->kv) != 0)
		memset(&s->kv, 0, sizeof(s->kv));
}

static void
set_key(struct snapshot *s, enum sysctl_id id, int64_t v)
{
	struct sysctl_value *k = &s->sysctl.key[id];

	memset(k, 0, sizeof(*k));
	k->state = KEY_PRESENT;
	k->nvalues = 1;
	k->v[0] = v;
}

static void
set_key2(struct snapshot *s, enum sysctl_id id, int64_t a, int64_t b)
{
	set_key(s, id, a);
	s->sysctl.key[id].nvalues = 2;
	s->sysctl.key[id].v[1] = b;
}

static void
set_key_state(struct snapshot *s, enum sysctl_id id, enum key_state st,
    const char *why)
{
	struct sysctl_value *k = &s->sysctl.key[id];

	memset(k, 0, sizeof(*k));
	k->state = st;
	snprintf(k->why, sizeof(k->why), "%s", why);
}

/* Append an assignment; it becomes the effective one when EFFECTIVE. */
static void
persist_add(struct snapshot *s, enum sysctl_id id, const char *path,
    unsigned line, const char *value, bool effective)
{
	struct persist_key *pk = &s->persist.key[id];
	struct persist_assign *a = &pk->a[pk->n];

	assert_true(pk->n < PERSIST_MAX_ASSIGN);
	snprintf(a->path, sizeof(a->path), "%s", path);
	a->line = line;
	snprintf(a->value, sizeof(a->value), "%s", value);
	if (effective) {
		pk->effective = (int)pk->n;
		pk->procps_effective = (int)pk->n;
		snprintf(pk->procps_path, sizeof(pk->procps_path), "%s", path);
		pk->procps_line = line;
		snprintf(pk->procps_value, sizeof(pk->procps_value), "%s",
		    value);
	}
	pk->n++;
}

static void
set_counter(struct snapshot *s, enum counter_id id, uint64_t total)
{
	s->counters.present[id] = true;
	s->counters.value[id] = total;
}

/* Every window holds the same rate (as in check --sample). */
static void
set_rate(struct snapshot *s, enum counter_id id, uint64_t delta,
    double window_s)
{
	s->counters.present[id] = true;
	s->counters.value[id] += delta;
	for (int w = 0; w < RATE_NWINDOWS; w++) {
		struct rate *r = &s->rate[w][id];

		r->evaluated = true;
		r->delta = delta;
		r->window_s = window_s;
		r->per_min = (double)delta * 60.0 / window_s;
	}
}

static void
set_source(struct snapshot *s, enum source_id id, enum source_state st,
    const char *err)
{
	s->source[id].state = st;
	snprintf(s->source[id].error, sizeof(s->source[id].error), "%s", err);
}

/* A healthy Debian 11 host: 5.10, default sysctls, nothing persisted. */
static struct snapshot *
base_snapshot(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	snprintf(s->host, sizeof(s->host), "test");
	set_kernel(s, "5.10.0-20-amd64");
	set_key_state(s, SYSCTL_TCP_TW_RECYCLE, KEY_ABSENT,
	    "removed in 4.12");
	set_key(s, SYSCTL_TCP_TIMESTAMPS, 1);
	set_key(s, SYSCTL_TCP_TW_REUSE, 2);
	set_key(s, SYSCTL_TCP_RFC1337, 0);
	set_key(s, SYSCTL_TCP_MAX_TW_BUCKETS, 262144);
	set_key(s, SYSCTL_TCP_FIN_TIMEOUT, 60);
	set_key(s, SYSCTL_TCP_SYNCOOKIES, 1);
	set_key(s, SYSCTL_TCP_MAX_SYN_BACKLOG, 4096);
	set_key2(s, SYSCTL_IP_LOCAL_PORT_RANGE, 32768, 60999);
	set_key(s, SYSCTL_SOMAXCONN, 4096);
	set_key(s, SYSCTL_NF_CONNTRACK_TCP_TIMEOUT_TIME_WAIT, 120);
	for (int k = 0; k < SYSCTL_COUNT; k++) {
		s->persist.key[k].effective = -1;
		s->persist.key[k].procps_effective = -1;
	}
	for (int c = 0; c < CTR_COUNT; c++)
		set_counter(s, (enum counter_id)c, 1000);
	/* 5.10 has neither PAWSPassive (gone in 4.12) nor the 6.x ones. */
	s->counters.present[CTR_PAWS_PASSIVE] = false;
	s->counters.present[CTR_PAWS_TIMEWAIT] = false;
	s->counters.present[CTR_PAWS_OLD_ACK] = false;
	s->counters.present[CTR_TSECR_REJECTED] = false;
	s->counters.value[CTR_PAWS_PASSIVE] = 0;
	s->sockstat.present[SS_TCP_TW] = true;
	s->sockstat.v[SS_TCP_TW] = 1234;
	return s;
}

/* An old kernel that still has tcp_tw_recycle, off, and PAWSPassive. */
static void
old_kernel(struct snapshot *s, const char *release)
{
	set_kernel(s, release);
	set_key(s, SYSCTL_TCP_TW_RECYCLE, 0);
	set_key(s, SYSCTL_TCP_TW_REUSE, 0);
	set_counter(s, CTR_PAWS_PASSIVE, 0);
}

static void
kernel_6_18(struct snapshot *s)
{
	set_kernel(s, "6.18.44-amd64");
	set_counter(s, CTR_PAWS_TIMEWAIT, 7);
	set_counter(s, CTR_PAWS_OLD_ACK, 0);
	set_counter(s, CTR_TSECR_REJECTED, 0);
}

/* ---------------------------------------------------------------------
 * Evidence and remediation accessors (findings.h).
 */

/* The evidence part of KIND named NAME; fails the test when missing. */
static const struct ev_part *
part(const struct finding *f, enum ev_kind kind, const char *name)
{
	const struct ev_part *p = evidence_find(&f->evidence, kind, name);

	if (p == NULL)
		fail_msg("%s: no evidence part %s", f->id, name);
	return p;
}

static const struct ev_sysctl *
ev_sysctl(const struct finding *f, const char *name)
{
	return &part(f, EV_SYSCTL, name)->u.sysctl;
}

static const struct ev_counter *
ev_counter(const struct finding *f, const char *name)
{
	return &part(f, EV_COUNTER, name)->u.counter;
}

static const struct ev_persisted *
ev_persisted(const struct finding *f, const char *name)
{
	return &part(f, EV_PERSISTED, name)->u.persisted;
}

/* evidence[KEY] as text: a text part or the kernel release. */
static const char *
ev_str(const struct finding *f, const char *key)
{
	const struct ev_part *p = evidence_find(&f->evidence, EV_TEXT, key);

	if (p == NULL)
		p = part(f, EV_KERNEL_RELEASE, key);
	return p->u.text;
}

static int64_t
ev_int(const struct finding *f, const char *key)
{
	return part(f, EV_INT, key)->u.i;
}

static double
ev_real(const struct finding *f, const char *key)
{
	return part(f, EV_REAL, key)->u.real;
}

static bool
ev_bool(const struct finding *f, const char *key)
{
	return part(f, EV_BOOL, key)->u.b;
}

/* evidence[KEY] as /advice publishes it (a string). */
static const char *
published(const struct finding *f, const char *key)
{
	static char buf[512];
	json_t *ev = render_evidence(f);
	json_t *v = json_object_get(ev, key);

	assert_true(json_is_string(v));
	snprintf(buf, sizeof(buf), "%s", json_string_value(v));
	json_decref(ev);
	return buf;
}

static const struct remedy_list *
rem_list(const struct finding *f, const char *list)
{
	if (strcmp(list, "runtime") == 0)
		return &f->remediation.runtime;
	if (strcmp(list, "persist") == 0)
		return &f->remediation.persist;
	assert_string_equal(list, "caveats");
	return &f->remediation.caveats;
}

static void
print_list(const struct remedy_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		print_error("  \"%s\"\n", l->item[i]);
}

/* Does some string of L contain SUB? */
static bool
any_contains(const struct remedy_list *l, const char *sub)
{
	for (size_t i = 0; i < l->n; i++)
		if (strstr(l->item[i], sub) != NULL)
			return true;
	return false;
}

static void
assert_any_contains(const struct remedy_list *l, const char *sub)
{
	if (!any_contains(l, sub)) {
		print_error("no string contains \"%s\" in\n", sub);
		print_list(l);
		fail();
	}
}

static void
assert_list_eq(const struct remedy_list *l, const char *const *want)
{
	size_t n = 0;

	while (want[n] != NULL)
		n++;
	if (l->n != n) {
		print_error("want %zu strings, got\n", n);
		print_list(l);
		fail();
	}
	for (size_t i = 0; i < n; i++)
		assert_string_equal(l->item[i], want[i]);
}

static const struct finding *
find(const struct findings *fs, const char *id)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->f[i].id, id) == 0)
			return &fs->f[i];
	fail_msg("no finding %s", id);
	return NULL;
}

/* ---------------------------------------------------------------------
 * Shape checks for every finding.
 */

static const char *const known_ids[] = {
	"tw_recycle_nat_drops", "paws_passive_rising", "tw_recycle_persisted",
	"sysctl_drift", "timestamps_disabled", "timewait_paws_rejects",
	"rfc1337_timewait_nat", "tw_buckets_overflow", "source_failed",
	"nat_clients_at_risk", "policy_violation", "source_stale", NULL,
};

static void
check_shape(const struct finding *f)
{
	static const char *const lists[] = { "runtime", "persist", "caveats" };
	bool known = false;

	for (int i = 0; known_ids[i] != NULL; i++)
		known = known || strcmp(known_ids[i], f->id) == 0;
	assert_true(known);
	assert_true(f->severity < SEV_COUNT);
	assert_non_null(f->title);
	assert_true(strlen(f->title) > 10);
	assert_non_null(f->explanation);
	assert_true(strlen(f->explanation) > 40);
	assert_null(strstr(f->explanation, "%"));
	assert_true(f->evidence.n > 0);
	for (int l = 0; l < 3; l++) {
		const struct remedy_list *a = rem_list(f, lists[l]);

		assert_true(a->n <= REMEDY_MAX);
		for (size_t i = 0; i < a->n; i++) {
			assert_non_null(a->item[i]);
			assert_true(strlen(a->item[i]) > 0);
		}
	}
	/* Rule remediation never proposes turning the dangerous knobs on. */
	assert_false(any_contains(rem_list(f, "runtime"), "tw_recycle=1"));
	assert_false(any_contains(rem_list(f, "runtime"), "rfc1337=1"));
	assert_false(any_contains(rem_list(f, "persist"),
	    "to 'net.ipv4.tcp_tw_recycle = 1"));
	assert_false(any_contains(rem_list(f, "persist"),
	    "write 'net.ipv4.tcp_tw_recycle = 1"));
	assert_false(any_contains(rem_list(f, "persist"),
	    "to 'net.ipv4.tcp_rfc1337 = 1"));
}

/* ---------------------------------------------------------------------
 * The cases.
 */

#define NWANT 14

struct want {
	const char *id;
	enum severity sev;
};

struct tcase {
	const char *name;
	void (*setup)(struct snapshot *);
	struct want want[NWANT];	/* the exact set; ends at id NULL */
	enum audit_status status;
	void (*check)(const struct findings *);
};

/* clean */
static void setup_clean(struct snapshot *s) { (void)s; }

/* tw_recycle_nat_drops */
static void
setup_nat_drops_4_9(struct snapshot *s)
{
	old_kernel(s, "4.9.0-19-amd64");
	set_key(s, SYSCTL_TCP_TW_RECYCLE, 1);
	set_counter(s, CTR_PAWS_PASSIVE, 42);
	set_counter(s, CTR_LISTEN_DROPS, 40);
}

static void
check_nat_drops_4_9(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_nat_drops");
	static const char *const runtime[] = {
		"sysctl -w net.ipv4.tcp_tw_recycle=0", NULL };
	static const char *const none[] = { NULL };
	const struct ev_counter *pp;

	assert_int_equal(ev_sysctl(f, "net.ipv4.tcp_tw_recycle")->value.n, 1);
	assert_int_equal(ev_sysctl(f, "net.ipv4.tcp_tw_recycle")->value.v[0], 1);
	assert_int_equal(ev_sysctl(f, "net.ipv4.tcp_timestamps")->value.n, 1);
	assert_int_equal(ev_sysctl(f, "net.ipv4.tcp_timestamps")->value.v[0], 1);
	pp = ev_counter(f, "PAWSPassive");
	assert_true(pp->present);
	assert_int_equal(pp->total, 42);
	assert_false(pp->rate.evaluated);
	assert_non_null(strstr(pp->rate.note, "not evaluated"));
	assert_string_equal(pp->rate.window, "5m");
	assert_true(ev_counter(f, "ListenDrops")->present);
	assert_int_equal(ev_counter(f, "ListenDrops")->total, 40);
	assert_string_equal(ev_str(f, "kernel_release"), "4.9.0-19-amd64");
	assert_list_eq(rem_list(f, "runtime"), runtime);
	assert_list_eq(rem_list(f, "persist"), none);
	assert_any_contains(rem_list(f, "caveats"), "No sysctl.d file");
	assert_any_contains(rem_list(f, "caveats"), "tcp_timestamps=0");
	assert_any_contains(rem_list(f, "caveats"), "PAWS protection");
	assert_any_contains(rem_list(f, "caveats"), "RTT");
	assert_any_contains(rem_list(f, "caveats"), "up to 60 s");
	assert_any_contains(rem_list(f, "caveats"),
	    "Disable tcp_tw_recycle first");
	assert_any_contains(rem_list(f, "caveats"), "includes this kernel");
	assert_any_contains(rem_list(f, "caveats"), "host-wide");
	assert_non_null(strstr(f->explanation, "NAT"));
	assert_non_null(strstr(f->explanation, "4.10"));
	assert_non_null(strstr(f->explanation, "half"));
}

static void
setup_nat_drops_ts_off(struct snapshot *s)
{
	setup_nat_drops_4_9(s);
	set_key(s, SYSCTL_TCP_TIMESTAMPS, 0);
}

static void
check_nat_drops_ts_off(const struct findings *fs)
{
	const struct finding *f = find(fs, "timestamps_disabled");
	static const char *const runtime[] = {
		"sysctl -w net.ipv4.tcp_tw_recycle=0",
		"sysctl -w net.ipv4.tcp_timestamps=1", NULL };

	assert_list_eq(rem_list(f, "runtime"), runtime);
	assert_non_null(strstr(f->explanation,
	    "turn tcp_tw_recycle off first"));
	/* 4.9 has no tcp_timestamps=2. */
	assert_false(any_contains(rem_list(f, "caveats"),
	    "tcp_timestamps=2"));
}

static void
setup_nat_drops_ts_unavailable(struct snapshot *s)
{
	setup_nat_drops_4_9(s);
	set_key_state(s, SYSCTL_TCP_TIMESTAMPS, KEY_UNAVAILABLE,
	    "global on this kernel, not visible from this namespace");
}

static void
check_nat_drops_ts_unavailable(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_nat_drops");
	const struct ev_sysctl *ts = ev_sysctl(f, "net.ipv4.tcp_timestamps");

	assert_int_equal(ts->state, EVK_UNAVAILABLE);
	assert_true(ts->has_assumed);
	assert_int_equal(ts->assumed, 1);
	assert_non_null(strstr(ts->why, "namespace"));
	assert_non_null(strstr(ts->note, "treated as on"));
	assert_int_equal(ts->value.n, 0);	/* no "value" */
	assert_non_null(strstr(f->explanation, "assumed on"));
}

static void
setup_nat_drops_el7(struct snapshot *s)
{
	old_kernel(s, "3.10.0-1160.el7.x86_64");
	set_key(s, SYSCTL_TCP_TW_RECYCLE, 2);
}

static void
check_nat_drops_el7(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_nat_drops");

	assert_int_equal(ev_sysctl(f, "net.ipv4.tcp_tw_recycle")->value.n, 1);
	assert_int_equal(ev_sysctl(f, "net.ipv4.tcp_tw_recycle")->value.v[0], 2);
	/* RHEL 7 carries the 3.17 no-timestamp drop (§1.4). */
	assert_any_contains(rem_list(f, "caveats"), "includes this kernel");
}

static void
setup_nat_drops_4_11(struct snapshot *s)
{
	old_kernel(s, "4.11.0");
	set_key(s, SYSCTL_TCP_TW_RECYCLE, 1);
}

static void
check_nat_drops_4_11(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_nat_drops");

	assert_any_contains(rem_list(f, "caveats"), "per network namespace");
	assert_any_contains(rem_list(f, "caveats"), "includes this kernel");
}

static void
setup_nat_drops_3_16(struct snapshot *s)
{
	old_kernel(s, "3.16.0-4-amd64");
	set_key(s, SYSCTL_TCP_TW_RECYCLE, 1);
}

static void
check_nat_drops_3_16(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_nat_drops");

	/* The trap is stated, but 3.16 is outside it (§11.4). */
	assert_any_contains(rem_list(f, "caveats"), "3.17 to 4.11");
	assert_false(any_contains(rem_list(f, "caveats"),
	    "includes this kernel"));
}

static void
setup_nat_drops_persisted(struct snapshot *s)
{
	old_kernel(s, "4.4.0-210-generic");
	set_key(s, SYSCTL_TCP_TW_RECYCLE, 1);
	persist_add(s, SYSCTL_TCP_TW_RECYCLE, "/etc/sysctl.conf", 12, "1",
	    true);
}

static void
check_nat_drops_persisted(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_nat_drops");
	static const char *const persist[] = {
		"change /etc/sysctl.conf:12 to 'net.ipv4.tcp_tw_recycle = 0'",
		NULL };

	assert_list_eq(rem_list(f, "persist"), persist);
	assert_true(ev_persisted(f, "net.ipv4.tcp_tw_recycle")->set);
	assert_string_equal(ev_persisted(f,
	    "net.ipv4.tcp_tw_recycle")->effective.file, "/etc/sysctl.conf");
	assert_int_equal(ev_persisted(f,
	    "net.ipv4.tcp_tw_recycle")->effective.line, 12);
	f = find(fs, "tw_recycle_persisted");
	assert_string_equal(ev_str(f, "file"), "/etc/sysctl.conf");
	assert_non_null(strstr(f->explanation, "/etc/sysctl.conf:12"));
	assert_null(strstr(f->explanation, "off now"));
}

static void
setup_nat_drops_persist_unavailable(struct snapshot *s)
{
	setup_nat_drops_4_9(s);
	set_source(s, SRC_PERSIST, SOURCE_UNAVAILABLE, "permission denied");
}

static void
check_nat_drops_persist_unavailable(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_nat_drops");
	static const char *const persist[] = {
		"write 'net.ipv4.tcp_tw_recycle = 0' to "
		"/etc/sysctl.d/90-twaudit.conf", NULL };

	assert_list_eq(rem_list(f, "persist"), persist);
	assert_any_contains(rem_list(f, "caveats"), "could not be read");
}

/* paws_passive_rising */
static void
setup_paws_rising_4_4(struct snapshot *s)
{
	old_kernel(s, "4.4.0-210-generic");
	set_key(s, SYSCTL_TCP_TW_RECYCLE, 1);
	set_rate(s, CTR_PAWS_PASSIVE, 30, 300);
	set_rate(s, CTR_LISTEN_DROPS, 30, 300);
}

static void
check_paws_rising_4_4(const struct findings *fs)
{
	const struct finding *f = find(fs, "paws_passive_rising");
	static const char *const runtime[] = {
		"sysctl -w net.ipv4.tcp_tw_recycle=0", NULL };
	const struct ev_rate *rate;

	assert_true(ev_real(f, "syns_dropped_per_min") == 6.0);
	rate = &ev_counter(f, "PAWSPassive")->rate;
	assert_true(rate->evaluated);
	assert_int_equal(rate->delta, 30);
	assert_true(rate->window_s == 300.0);
	assert_non_null(strstr(f->explanation, "(6 SYNs dropped per minute)"));
	assert_non_null(strstr(f->explanation, "over the last 300 s"));
	assert_list_eq(rem_list(f, "runtime"), runtime);
	/* The always-on rule now shows the evaluated rate too. */
	f = find(fs, "tw_recycle_nat_drops");
	rate = &ev_counter(f, "ListenDrops")->rate;
	assert_true(rate->evaluated);
	assert_int_equal(rate->delta, 30);
}

static void
setup_paws_rising_sample(struct snapshot *s)
{
	old_kernel(s, "3.10.0-1160.el7.x86_64");
	set_key(s, SYSCTL_TCP_TW_RECYCLE, 1);
	s->sample_s = 30;
	set_rate(s, CTR_PAWS_PASSIVE, 3, 30);
}

static void
check_paws_rising_sample(const struct findings *fs)
{
	const struct finding *f = find(fs, "paws_passive_rising");

	assert_non_null(strstr(f->explanation, "during the 30 s sample"));
	assert_non_null(strstr(f->explanation, "(6 SYNs dropped per minute)"));
	assert_string_equal(ev_counter(f, "PAWSPassive")->rate.window,
	    "sample");
}

static void
setup_paws_not_evaluated(struct snapshot *s)
{
	old_kernel(s, "4.9.0-19-amd64");
	set_counter(s, CTR_PAWS_PASSIVE, 100000);
}

static void
setup_paws_flat(struct snapshot *s)
{
	old_kernel(s, "4.9.0-19-amd64");
	set_rate(s, CTR_PAWS_PASSIVE, 0, 300);
}

static void
setup_paws_rising_recycle_off(struct snapshot *s)
{
	old_kernel(s, "4.9.0-19-amd64");
	set_rate(s, CTR_PAWS_PASSIVE, 5, 300);
}

static void
check_paws_rising_recycle_off(const struct findings *fs)
{
	const struct finding *f = find(fs, "paws_passive_rising");

	assert_int_equal(rem_list(f, "runtime")->n, 0);
	assert_any_contains(rem_list(f, "caveats"), "not on now");
}

/* tw_recycle_persisted */
static void
setup_persisted_4_11(struct snapshot *s)
{
	old_kernel(s, "4.11.0");
	persist_add(s, SYSCTL_TCP_TW_RECYCLE, "/etc/sysctl.d/10-net.conf", 3,
	    "1", true);
}

static void
check_persisted_4_11(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_persisted");
	static const char *const persist[] = {
		"change /etc/sysctl.d/10-net.conf:3 to "
		"'net.ipv4.tcp_tw_recycle = 0' (or remove the line: 0 is the "
		"default)", NULL };
	static const char *const drift_persist[] = {
		"change /etc/sysctl.d/10-net.conf:3 to "
		"'net.ipv4.tcp_tw_recycle = 0'", NULL };

	assert_list_eq(rem_list(f, "persist"), persist);
	assert_int_equal(rem_list(f, "runtime")->n, 0);
	assert_string_equal(ev_str(f, "file"), "/etc/sysctl.d/10-net.conf");
	assert_int_equal(ev_int(f, "line"), 3);
	assert_true(ev_bool(f, "applied_at_boot"));
	assert_false(ev_bool(f, "key_removed_in_kernel"));
	assert_non_null(strstr(f->explanation, "every boot"));
	assert_non_null(strstr(f->explanation, "even though it is off now"));
	/* Drift goes back to the safe runtime value, never to 1. */
	f = find(fs, "sysctl_drift");
	assert_list_eq(rem_list(f, "persist"), drift_persist);
	assert_false(any_contains(rem_list(f, "caveats"), "tw_recycle=1"));
}

/* A package's file is overridden from /etc/sysctl.d, never edited. */
static void
setup_persisted_vendor(struct snapshot *s)
{
	old_kernel(s, "4.11.0");
	persist_add(s, SYSCTL_TCP_TW_RECYCLE, "/usr/lib/sysctl.d/50-a.conf", 1,
	    "1", true);
}

static void
check_persisted_vendor(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_persisted");
	static const char *const persist[] = {
		"write 'net.ipv4.tcp_tw_recycle = 0' to "
		"/etc/sysctl.d/90-twaudit.conf: it sorts after 50-a.conf, so "
		"it overrides /usr/lib/sysctl.d/50-a.conf:1 "
		"('net.ipv4.tcp_tw_recycle = 1'), a package's file (do not "
		"edit it: an upgrade puts it back)", NULL };

	assert_list_eq(rem_list(f, "persist"), persist);
	f = find(fs, "sysctl_drift");
	assert_any_contains(rem_list(f, "persist"),
	    "to /etc/sysctl.d/90-twaudit.conf: it sorts after 50-a.conf");
}

/* One that sorts after 90-twaudit.conf is masked by a copy of its name. */
static void
setup_persisted_vendor_masked(struct snapshot *s)
{
	set_kernel(s, "4.12.0");
	persist_add(s, SYSCTL_TCP_TW_RECYCLE, "/lib/sysctl.d/99-z.conf", 2,
	    "1", true);
}

static void
check_persisted_vendor_masked(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_persisted");
	static const char *const persist[] = {
		"copy /lib/sysctl.d/99-z.conf to /etc/sysctl.d/99-z.conf with "
		"line 2 removed (this kernel has no such key): the same name "
		"masks /lib/sysctl.d/99-z.conf:2 ('net.ipv4.tcp_tw_recycle = "
		"1'), a package's file (do not edit it: an upgrade puts it "
		"back)", NULL };

	assert_list_eq(rem_list(f, "persist"), persist);
}

/* /run/sysctl.d is written at boot: say so, and what to change instead. */
static void
setup_persisted_run(struct snapshot *s)
{
	old_kernel(s, "4.11.0");
	persist_add(s, SYSCTL_TCP_TW_RECYCLE, "/run/sysctl.d/30-x.conf", 1,
	    "1", true);
}

static void
check_persisted_run(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_persisted");

	assert_int_equal(rem_list(f, "persist")->n, 1);
	assert_any_contains(rem_list(f, "persist"), "/run/sysctl.d/30-x.conf:1 "
	    "('net.ipv4.tcp_tw_recycle = 1') is generated at boot");
	assert_any_contains(rem_list(f, "persist"), "grep -rl 30-x.conf ");
	assert_any_contains(rem_list(f, "persist"), "a copy at "
	    "/etc/sysctl.d/30-x.conf with that line as "
	    "'net.ipv4.tcp_tw_recycle = 0'");
}

/* /usr/local/lib/sysctl.d is the admin's own: edited like /etc. */
static void
setup_persisted_usr_local(struct snapshot *s)
{
	old_kernel(s, "4.11.0");
	persist_add(s, SYSCTL_TCP_TW_RECYCLE, "/usr/local/lib/sysctl.d/10-a.conf",
	    4, "1", true);
}

static void
check_persisted_usr_local(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_persisted");
	static const char *const persist[] = {
		"change /usr/local/lib/sysctl.d/10-a.conf:4 to "
		"'net.ipv4.tcp_tw_recycle = 0' (or remove the line: 0 is the "
		"default)", NULL };

	assert_list_eq(rem_list(f, "persist"), persist);
}

static void
setup_persisted_4_12(struct snapshot *s)
{
	set_kernel(s, "4.12.0");
	persist_add(s, SYSCTL_TCP_TW_RECYCLE, "/etc/sysctl.d/10-net.conf", 3,
	    "1", true);
}

static void
check_persisted_4_12(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_persisted");
	static const char *const persist[] = {
		"remove /etc/sysctl.d/10-net.conf:3 "
		"('net.ipv4.tcp_tw_recycle = 1'): this kernel has no such key",
		NULL };

	assert_list_eq(rem_list(f, "persist"), persist);
	assert_int_equal(rem_list(f, "runtime")->n, 0);
	assert_true(ev_bool(f, "key_removed_in_kernel"));
	assert_non_null(strstr(f->explanation, "4.12"));
	assert_non_null(strstr(f->explanation, "/etc/sysctl.d/10-net.conf:3"));
}

static void
setup_persisted_zero(struct snapshot *s)
{
	old_kernel(s, "4.9.0-19-amd64");
	persist_add(s, SYSCTL_TCP_TW_RECYCLE, "/etc/sysctl.d/10-net.conf", 3,
	    "0", true);
}

static void
setup_persisted_procps_only(struct snapshot *s)
{
	struct persist_key *pk = &s->persist.key[SYSCTL_TCP_TW_RECYCLE];

	/* As persist.c reports it: procps ends on a line not in a[]. */
	old_kernel(s, "3.10.0-957.el7.x86_64");
	pk->procps_effective = -1;
	snprintf(pk->procps_path, sizeof(pk->procps_path), "/etc/sysctl.conf");
	pk->procps_line = 12;
	snprintf(pk->procps_value, sizeof(pk->procps_value), "1");
}

static void
check_persisted_procps_only(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_persisted");
	static const char *const persist[] = {
		"change /etc/sysctl.conf:12 to 'net.ipv4.tcp_tw_recycle = 0' "
		"(`sysctl --system` applies it last)", NULL };

	assert_list_eq(rem_list(f, "persist"), persist);
	assert_false(ev_bool(f, "applied_at_boot"));
	assert_non_null(strstr(f->explanation, "/etc/sysctl.conf:12"));
	assert_non_null(strstr(f->explanation, "every `sysctl --system`"));
}

static void
setup_persisted_two_lines(struct snapshot *s)
{
	old_kernel(s, "4.9.0-19-amd64");
	set_key(s, SYSCTL_TCP_TW_RECYCLE, 1);
	persist_add(s, SYSCTL_TCP_TW_RECYCLE, "/usr/lib/sysctl.d/50-a.conf", 1,
	    "1", false);
	persist_add(s, SYSCTL_TCP_TW_RECYCLE, "/etc/sysctl.d/60-b.conf", 2,
	    "1", true);
}

static void
check_persisted_two_lines(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_recycle_persisted");
	static const char *const runtime[] = {
		"sysctl -w net.ipv4.tcp_tw_recycle=0", NULL };

	/* Both lines: removing only the effective one promotes the other. */
	assert_int_equal(rem_list(f, "persist")->n, 2);
	assert_any_contains(rem_list(f, "persist"),
	    "/usr/lib/sysctl.d/50-a.conf:1");
	assert_any_contains(rem_list(f, "persist"),
	    "/etc/sysctl.d/60-b.conf:2");
	assert_int_equal(part(f, EV_ASSIGNMENTS, "assignments")->
	    u.assignments->n, 2);
	assert_string_equal(ev_str(f, "file"), "/etc/sysctl.d/60-b.conf");
	assert_list_eq(rem_list(f, "runtime"), runtime);
}

static void
setup_persisted_unknown_kernel_absent(struct snapshot *s)
{
	set_kernel(s, "");
	persist_add(s, SYSCTL_TCP_TW_RECYCLE, "/etc/sysctl.conf", 5, "1", true);
}

static void
setup_persisted_unknown_kernel_unavailable(struct snapshot *s)
{
	setup_persisted_unknown_kernel_absent(s);
	set_key_state(s, SYSCTL_TCP_TW_RECYCLE, KEY_UNAVAILABLE,
	    "permission denied");
}

/* sysctl_drift */
static void
setup_drift_two_keys(struct snapshot *s)
{
	set_key(s, SYSCTL_TCP_TW_REUSE, 1);
	persist_add(s, SYSCTL_TCP_TW_REUSE, "/etc/sysctl.d/20-tw.conf", 4,
	    "0", true);
	persist_add(s, SYSCTL_IP_LOCAL_PORT_RANGE, "/etc/sysctl.conf", 7,
	    "1024\t65535", true);
	persist_add(s, SYSCTL_SOMAXCONN, "/etc/sysctl.d/20-tw.conf", 5,
	    "4096", true);
}

static void
check_drift_two_keys(const struct findings *fs)
{
	const struct finding *f = find(fs, "sysctl_drift");
	const struct ev_drift *keys = part(f, EV_DRIFT, "keys")->u.drift;
	const struct ev_drift_key *k;
	static const char *const persist[] = {
		"change /etc/sysctl.d/20-tw.conf:4 to 'net.ipv4.tcp_tw_reuse = 1'",
		"change /etc/sysctl.conf:7 to "
		"'net.ipv4.ip_local_port_range = 32768 60999'", NULL };

	assert_int_equal(keys->n, 2);
	k = &keys->key[0];
	assert_string_equal(k->name, "net.ipv4.tcp_tw_reuse");
	assert_int_equal(k->runtime.n, 1);
	assert_int_equal(k->runtime.v[0], 1);
	assert_int_equal(k->persisted.n, 1);
	assert_int_equal(k->persisted.v[0], 0);
	assert_string_equal(k->file, "/etc/sysctl.d/20-tw.conf");
	assert_int_equal(k->line, 4);
	k = &keys->key[1];
	assert_string_equal(k->name, "net.ipv4.ip_local_port_range");
	assert_int_equal(k->runtime.n, 2);
	assert_int_equal(k->runtime.v[1], 60999);
	assert_true(k->persisted.n > 1);
	assert_int_equal(k->persisted.v[0], 1024);
	assert_list_eq(rem_list(f, "persist"), persist);
	assert_int_equal(rem_list(f, "runtime")->n, 0);
	assert_any_contains(rem_list(f, "caveats"),
	    "sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"");
	assert_any_contains(rem_list(f, "caveats"),
	    "sysctl -w net.ipv4.tcp_tw_reuse=0");
	assert_non_null(strstr(f->explanation, "2 watched settings differ"));
	assert_non_null(strstr(f->explanation, "net.ipv4.tcp_tw_reuse "
	    "(running 1, /etc/sysctl.d/20-tw.conf:4 sets 0)"));
	assert_null(strstr(f->explanation, "somaxconn"));
}

static void
setup_drift_unparseable(struct snapshot *s)
{
	persist_add(s, SYSCTL_TCP_TW_REUSE, "/etc/sysctl.d/20-tw.conf", 4,
	    "yes", true);
}

static void
setup_drift_rfc1337(struct snapshot *s)
{
	set_key(s, SYSCTL_TCP_RFC1337, 1);
	persist_add(s, SYSCTL_TCP_RFC1337, "/etc/sysctl.d/20-tw.conf", 9, "0",
	    true);
}

static void
check_drift_rfc1337(const struct findings *fs)
{
	const struct finding *f = find(fs, "sysctl_drift");
	static const char *const runtime[] = {
		"sysctl -w net.ipv4.tcp_rfc1337=0", NULL };

	assert_list_eq(rem_list(f, "runtime"), runtime);
	assert_int_equal(rem_list(f, "persist")->n, 0);
	assert_non_null(strstr(f->explanation, "1 watched setting differs"));
	/* The file already says 0: nothing to persist for rfc1337 either. */
	f = find(fs, "rfc1337_timewait_nat");
	assert_int_equal(rem_list(f, "persist")->n, 0);
}

static void
setup_drift_both_discouraged(struct snapshot *s)
{
	set_key(s, SYSCTL_TCP_RFC1337, 2);
	persist_add(s, SYSCTL_TCP_RFC1337, "/etc/sysctl.d/99-cis.conf", 3, "1",
	    true);
}

static void
check_drift_both_discouraged(const struct findings *fs)
{
	const struct finding *f = find(fs, "sysctl_drift");
	static const char *const persist[] = {
		"change /etc/sysctl.d/99-cis.conf:3 to "
		"'net.ipv4.tcp_rfc1337 = 0'", NULL };

	assert_int_equal(rem_list(f, "runtime")->n, 0);
	assert_int_equal(rem_list(f, "persist")->n, 0);
	assert_any_contains(rem_list(f, "caveats"), "Neither value");
	f = find(fs, "rfc1337_timewait_nat");
	assert_list_eq(rem_list(f, "persist"), persist);
}

static void
setup_drift_runtime_absent(struct snapshot *s)
{
	/* Persisted but absent at runtime (4.12+): not drift. */
	persist_add(s, SYSCTL_TCP_TW_RECYCLE, "/etc/sysctl.conf", 5, "0", true);
	set_key_state(s, SYSCTL_TCP_FIN_TIMEOUT, KEY_UNAVAILABLE, "EACCES");
	persist_add(s, SYSCTL_TCP_FIN_TIMEOUT, "/etc/sysctl.conf", 6, "30",
	    true);
}

/* timestamps_disabled */
static void
setup_ts_off(struct snapshot *s)
{
	set_key(s, SYSCTL_TCP_TIMESTAMPS, 0);
}

static void
check_ts_off(const struct findings *fs)
{
	const struct finding *f = find(fs, "timestamps_disabled");
	static const char *const runtime[] = {
		"sysctl -w net.ipv4.tcp_timestamps=1", NULL };

	assert_list_eq(rem_list(f, "runtime"), runtime);
	assert_int_equal(rem_list(f, "persist")->n, 0);
	assert_non_null(strstr(f->explanation, "PAWS"));
	assert_non_null(strstr(f->explanation, "RTT"));
	assert_non_null(strstr(f->explanation, "no longer show"));
	assert_any_contains(rem_list(f, "caveats"), "tcp_timestamps=2");
	assert_int_equal(ev_sysctl(f, "net.ipv4.tcp_timestamps")->value.n, 1);
	assert_int_equal(ev_sysctl(f, "net.ipv4.tcp_timestamps")->value.v[0], 0);
}

static void
setup_ts_off_persisted(struct snapshot *s)
{
	set_key(s, SYSCTL_TCP_TIMESTAMPS, 0);
	persist_add(s, SYSCTL_TCP_TIMESTAMPS, "/etc/sysctl.d/99-hard.conf", 2,
	    "0", true);
}

static void
check_ts_off_persisted(const struct findings *fs)
{
	const struct finding *f = find(fs, "timestamps_disabled");
	static const char *const persist[] = {
		"change /etc/sysctl.d/99-hard.conf:2 to "
		"'net.ipv4.tcp_timestamps = 1'", NULL };

	assert_list_eq(rem_list(f, "persist"), persist);
}

/* timewait_paws_rejects */
static void
setup_tw_paws_6_18(struct snapshot *s)
{
	kernel_6_18(s);
	set_rate(s, CTR_PAWS_TIMEWAIT, 12, 300);
}

static void
check_tw_paws_6_18(const struct findings *fs)
{
	const struct finding *f = find(fs, "timewait_paws_rejects");

	assert_int_equal(rem_list(f, "runtime")->n, 0);
	assert_any_contains(rem_list(f, "caveats"),
	    "nf_conntrack_tcp_timeout_time_wait");
	assert_any_contains(rem_list(f, "caveats"), "tcp_timestamps off");
	assert_true(ev_counter(f, "PAWSTimewait")->rate.evaluated);
	assert_int_equal(ev_counter(f, "PAWSTimewait")->rate.delta, 12);
	assert_int_equal(ev_int(f, "timewait_sockets"), 1234);
	assert_non_null(strstr(f->explanation, "2.4 per minute"));
	assert_non_null(strstr(f->explanation, "NAT"));
	assert_non_null(strstr(f->explanation, "10 ms"));
}

static void
setup_tw_paws_not_evaluated(struct snapshot *s)
{
	kernel_6_18(s);
	set_counter(s, CTR_PAWS_TIMEWAIT, 5000);
}

static void
setup_tw_paws_absent_estab_rising(struct snapshot *s)
{
	/* 5.10 has no PAWSTimewait: PAWSEstab alone is not this rule. */
	set_rate(s, CTR_PAWS_ESTAB, 50, 300);
}

/* rfc1337_timewait_nat */
static void
setup_rfc1337_5_10(struct snapshot *s)
{
	set_key(s, SYSCTL_TCP_RFC1337, 1);
}

static void
check_rfc1337_5_10(const struct findings *fs)
{
	const struct finding *f = find(fs, "rfc1337_timewait_nat");
	static const char *const runtime[] = {
		"sysctl -w net.ipv4.tcp_rfc1337=0", NULL };

	assert_list_eq(rem_list(f, "runtime"), runtime);
	assert_string_equal(ev_str(f, "counter_used"),
	    "PAWSEstab");
	assert_non_null(strstr(f->explanation, "RST"));
	assert_non_null(strstr(f->explanation, "10 ms"));
	assert_null(strstr(f->explanation, "refused now"));
}

static void
setup_rfc1337_timewait_rising(struct snapshot *s)
{
	kernel_6_18(s);
	set_key(s, SYSCTL_TCP_RFC1337, 1);
	persist_add(s, SYSCTL_TCP_RFC1337, "/etc/sysctl.d/99-cis.conf", 14,
	    "1", true);
	set_rate(s, CTR_PAWS_TIMEWAIT, 3, 300);
}

static void
check_rfc1337_timewait_rising(const struct findings *fs)
{
	const struct finding *f = find(fs, "rfc1337_timewait_nat");
	static const char *const runtime[] = {
		"sysctl -w net.ipv4.tcp_rfc1337=0", NULL };
	static const char *const persist[] = {
		"change /etc/sysctl.d/99-cis.conf:14 to "
		"'net.ipv4.tcp_rfc1337 = 0'", NULL };

	assert_string_equal(ev_str(f, "counter_used"),
	    "PAWSTimewait");
	assert_non_null(strstr(f->explanation, "PAWSTimewait rose by 3"));
	assert_list_eq(rem_list(f, "persist"), persist);
	f = find(fs, "timewait_paws_rejects");
	assert_list_eq(rem_list(f, "runtime"), runtime);
	assert_non_null(strstr(f->explanation, "fail"));
}

static void
setup_rfc1337_estab_rising(struct snapshot *s)
{
	set_key(s, SYSCTL_TCP_RFC1337, 1);
	set_rate(s, CTR_PAWS_ESTAB, 20, 300);
}

static void
check_rfc1337_estab_rising(const struct findings *fs)
{
	const struct finding *f = find(fs, "rfc1337_timewait_nat");

	assert_string_equal(ev_str(f, "counter_used"),
	    "PAWSEstab");
	assert_true(ev_counter(f, "PAWSEstab")->rate.evaluated);
	assert_int_equal(ev_counter(f, "PAWSEstab")->rate.delta, 20);
	assert_any_contains(rem_list(f, "caveats"), "strong hint");
}

static void
setup_rfc1337_estab_ignored(struct snapshot *s)
{
	kernel_6_18(s);
	set_key(s, SYSCTL_TCP_RFC1337, 1);
	set_rate(s, CTR_PAWS_TIMEWAIT, 0, 300);
	set_rate(s, CTR_PAWS_ESTAB, 20, 300);
}

static void
setup_rfc1337_not_evaluated(struct snapshot *s)
{
	kernel_6_18(s);
	set_key(s, SYSCTL_TCP_RFC1337, 1);
}

/* tw_buckets_overflow */
static void
setup_overflow(struct snapshot *s)
{
	set_rate(s, CTR_TIMEWAIT_OVERFLOW, 5, 300);
}

static void
check_overflow(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_buckets_overflow");
	static const char *const runtime[] = {
		"sysctl -w net.ipv4.tcp_max_tw_buckets=524288", NULL };
	static const char *const persist[] = {
		"write 'net.ipv4.tcp_max_tw_buckets = 524288' to "
		"/etc/sysctl.d/90-twaudit.conf", NULL };

	assert_list_eq(rem_list(f, "runtime"), runtime);
	assert_list_eq(rem_list(f, "persist"), persist);
	assert_int_equal(ev_sysctl(f, "net.ipv4.tcp_max_tw_buckets")->value.n, 1);
	assert_int_equal(ev_sysctl(f, "net.ipv4.tcp_max_tw_buckets")->value.v[0], 262144);
	assert_non_null(strstr(f->explanation, "(262144)"));
}

static void
setup_overflow_persisted(struct snapshot *s)
{
	setup_overflow(s);
	persist_add(s, SYSCTL_TCP_MAX_TW_BUCKETS, "/etc/sysctl.d/30-tw.conf",
	    1, "262144", true);
}

static void
check_overflow_persisted(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_buckets_overflow");
	static const char *const persist[] = {
		"change /etc/sysctl.d/30-tw.conf:1 to "
		"'net.ipv4.tcp_max_tw_buckets = 524288'", NULL };

	assert_list_eq(rem_list(f, "persist"), persist);
}

static void
setup_overflow_unavailable(struct snapshot *s)
{
	setup_overflow(s);
	set_key_state(s, SYSCTL_TCP_MAX_TW_BUCKETS, KEY_UNAVAILABLE,
	    "global on this kernel, not visible from this namespace");
}

static void
check_overflow_unavailable(const struct findings *fs)
{
	const struct finding *f = find(fs, "tw_buckets_overflow");

	assert_int_equal(rem_list(f, "runtime")->n, 0);
	assert_any_contains(rem_list(f, "caveats"), "on the host");
	assert_non_null(strstr(f->explanation, "not readable here"));
}

/* source_failed and status */
static void
setup_failed_netstat(struct snapshot *s)
{
	set_source(s, SRC_NETSTAT, SOURCE_FAILED,
	    "TcpExt: 120 fields in header, 119 values");
}

static void
check_failed_netstat(const struct findings *fs)
{
	const struct finding *f = find(fs, "source_failed");

	assert_string_equal(ev_str(f, "source"),
	    "netstat");
	assert_string_equal(ev_str(f, "error"),
	    "TcpExt: 120 fields in header, 119 values");
	assert_non_null(strstr(f->explanation, "netstat"));
	assert_non_null(strstr(f->explanation, "119 values"));
}

static void
setup_failed_garbled(struct snapshot *s)
{
	set_source(s, SRC_SNMP, SOURCE_FAILED, "bad byte \xff\x01 in Tcp:");
	old_kernel(s, "4.9.0-19-amd64");
	set_key(s, SYSCTL_TCP_TW_RECYCLE, 1);
	set_key_state(s, SYSCTL_TCP_TIMESTAMPS, KEY_UNAVAILABLE, "why \xc3");
	persist_add(s, SYSCTL_TCP_TW_RECYCLE, "/etc/sysctl.d/\xe9.conf", 1,
	    "1", true);
}

static void
check_failed_garbled(const struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		json_t *ev = render_evidence(&fs->f[i]);
		json_t *rem = render_remediation(&fs->f[i]);
		char *a = json_dumps(ev, 0);
		char *b = json_dumps(rem, 0);
		json_t *e = json_string(fs->f[i].explanation);

		assert_non_null(a);
		assert_non_null(b);
		assert_non_null(e);	/* valid UTF-8 */
		free(a);
		free(b);
		json_decref(e);
		json_decref(ev);
		json_decref(rem);
	}
	/* Collector text is made printable as the evidence is published. */
	assert_string_equal(published(find(fs, "source_failed"), "error"),
	    "bad byte ?? in Tcp:");
	assert_string_equal(published(find(fs, "tw_recycle_persisted"), "file"),
	    "/etc/sysctl.d/?.conf");
}

static void
setup_failed_and_critical(struct snapshot *s)
{
	setup_nat_drops_4_9(s);
	setup_failed_netstat(s);
}

static void
setup_failed_two(struct snapshot *s)
{
	set_source(s, SRC_SYSCTL, SOURCE_FAILED, "kernel.osrelease: EIO");
	set_source(s, SRC_PERSIST, SOURCE_FAILED, "");
}

static void
check_failed_two(const struct findings *fs)
{
	assert_string_equal(ev_str(&fs->f[0], "source"), "sysctl");
	assert_string_equal(ev_str(&fs->f[1], "source"), "persist");
	assert_string_equal(ev_str(&fs->f[1], "error"), "");
	assert_non_null(strstr(fs->f[1].explanation, "no error recorded"));
}

static void
setup_not_failed(struct snapshot *s)
{
	set_source(s, SRC_SOCKSTAT, SOURCE_NOT_APPLICABLE, "");
	set_source(s, SRC_PERSIST, SOURCE_UNAVAILABLE, "permission denied");
	set_source(s, SRC_SNMP, SOURCE_OK, "");
}

/* source_stale: failing, last success more than 15 s before the snapshot. */
static void
setup_stale(struct snapshot *s)
{
	s->wall = 1795625447.0;
	setup_failed_netstat(s);
	s->last_success[SRC_NETSTAT] = s->wall - 20;
	/* Recent enough, or succeeding now, or never: not stale. */
	set_source(s, SRC_SNMP, SOURCE_FAILED, "net/snmp: empty file");
	s->last_success[SRC_SNMP] = s->wall - 10;
	s->last_success[SRC_SOCKSTAT] = s->wall - 3600;
	set_source(s, SRC_PERSIST, SOURCE_FAILED, "broken");
	/* Unavailable (not a fault) for long: not stale either. */
	set_source(s, SRC_SAMPLER, SOURCE_UNAVAILABLE, "interface down");
	s->last_success[SRC_SAMPLER] = s->wall - 3600;
}

static void
check_stale(const struct findings *fs)
{
	const struct finding *f = find(fs, "source_stale");

	assert_string_equal(ev_str(f, "source"),
	    "netstat");
	assert_string_equal(ev_str(f, "last_success"),
	    "2026-11-25T16:50:27.000Z");
	assert_true(ev_real(f, "age_seconds") == 20.0);
	assert_string_equal(ev_str(f, "error"),
	    "TcpExt: 120 fields in header, 119 values");
	assert_non_null(strstr(f->explanation, "20 s ago"));
}

static void
setup_stale_boundary(struct snapshot *s)
{
	s->wall = 1795625447.0;
	setup_failed_netstat(s);
	s->last_success[SRC_NETSTAT] = s->wall - ADVICE_STALE_SECONDS;
}

static void
setup_warning_and_unknown(struct snapshot *s)
{
	setup_rfc1337_5_10(s);
	setup_failed_netstat(s);
}

static void
setup_info_and_unknown(struct snapshot *s)
{
	setup_ts_off(s);
	setup_failed_netstat(s);
}

/* The sampler runs and has seen one NAT source with two hosts. */
static void
sampler_sees_nat(struct snapshot *s, uint64_t nat, uint64_t perconn)
{
	struct model_source *src = &s->sampler.nat[0];

	s->have_sampler = true;
	s->sampler.state = SAMPLER_OK;
	s->sampler.ratio = 1;
	snprintf(s->sampler.profile, sizeof(s->sampler.profile), "4.1-4.11");
	s->sampler.nat_sources = nat;
	s->sampler.per_connection_sources = perconn;
	s->sampler.predicted_rejections_per_min = 12.5;
	if (nat > 0) {
		src->family = 4;
		memcpy(src->addr, (uint8_t[]){ 198, 51, 100, 7 }, 4);
		src->nat_class = MODEL_NAT_HOSTS;
		src->estimated_hosts = 2;
		src->syns = 40;
		src->predicted_rejections = 9;
		s->sampler.nnat = 1;
	}
	s->sampler.nwhatif = 1;
	snprintf(s->sampler.whatif[0].profile,
	    sizeof(s->sampler.whatif[0].profile), "4.1-4.11");
	s->sampler.whatif[0].setting[MS_TW_RECYCLE] = 0;
}

static void
setup_nat_at_risk(struct snapshot *s)
{
	setup_nat_drops_4_9(s);
	sampler_sees_nat(s, 1, 0);
}

static void
check_nat_at_risk(const struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		/* Both findings carry the model's evidence. */
		const struct ev_model *m = part(&fs->f[i], EV_MODEL,
		    "model")->u.model;
		const struct ev_model_source *src = &m->source[0];
		char addr[INET6_ADDRSTRLEN];

		assert_true(m->nsources >= 1);
		assert_int_equal(src->family, 4);
		assert_non_null(inet_ntop(AF_INET, src->addr, addr,
		    sizeof(addr)));
		assert_string_equal(addr, "198.51.100.7");
		assert_int_equal(src->estimated_hosts, 2);
		assert_true(m->predicted_rejections_per_min == 12.5);
		assert_true(m->nwhatif >= 1);
		assert_int_equal(m->whatif[0].tcp_tw_recycle, 0);
	}
}

static void
setup_per_conn_at_risk(struct snapshot *s)
{
	setup_nat_drops_4_9(s);
	sampler_sees_nat(s, 0, 3);
}

static void
setup_no_nat_seen(struct snapshot *s)
{
	setup_nat_drops_4_9(s);
	sampler_sees_nat(s, 0, 0);
}

static void
setup_nat_but_recycle_off(struct snapshot *s)
{
	setup_clean(s);
	sampler_sees_nat(s, 1, 0);
}

/* Everything at once on a 4.9 host: every rule fires once. */
static void
setup_everything(struct snapshot *s)
{
	setup_nat_drops_4_9(s);
	set_key(s, SYSCTL_TCP_RFC1337, 1);
	set_rate(s, CTR_PAWS_PASSIVE, 60, 300);
	set_rate(s, CTR_PAWS_ESTAB, 60, 300);
	set_rate(s, CTR_PAWS_TIMEWAIT, 6, 300);
	set_rate(s, CTR_TIMEWAIT_OVERFLOW, 6, 300);
	persist_add(s, SYSCTL_TCP_TW_RECYCLE, "/etc/sysctl.conf", 1, "1", true);
	persist_add(s, SYSCTL_TCP_TW_REUSE, "/etc/sysctl.conf", 2, "1", true);
	/* The five /proc and sysctl.d sources; later sources add none here. */
	for (int i = SRC_SYSCTL; i <= SRC_PERSIST; i++)
		set_source(s, (enum source_id)i, SOURCE_FAILED, "broken");
}

static void
check_everything(const struct findings *fs)
{
	/* Table order: tw_recycle rules first, source failures last. */
	assert_string_equal(fs->f[0].id, "tw_recycle_nat_drops");
	assert_string_equal(fs->f[fs->n - 1].id, "source_failed");
}

#define W(id, sev) { id, SEV_##sev }

static const struct tcase cases[] = {
	{ "clean_5_10", setup_clean, { { NULL, 0 } }, STATUS_OK, NULL },

	{ "nat_drops_4_9", setup_nat_drops_4_9,
	  { W("tw_recycle_nat_drops", CRITICAL) }, STATUS_CRITICAL,
	  check_nat_drops_4_9 },
	{ "nat_clients_at_risk", setup_nat_at_risk,
	  { W("tw_recycle_nat_drops", CRITICAL),
	    W("nat_clients_at_risk", CRITICAL) }, STATUS_CRITICAL,
	  check_nat_at_risk },
	{ "per_connection_clients_at_risk", setup_per_conn_at_risk,
	  { W("tw_recycle_nat_drops", CRITICAL),
	    W("nat_clients_at_risk", CRITICAL) }, STATUS_CRITICAL, NULL },
	{ "sampler_sees_no_nat", setup_no_nat_seen,
	  { W("tw_recycle_nat_drops", CRITICAL) }, STATUS_CRITICAL, NULL },
	{ "nat_seen_recycle_off", setup_nat_but_recycle_off,
	  { { NULL, 0 } }, STATUS_OK, NULL },
	{ "nat_drops_timestamps_off_no_finding", setup_nat_drops_ts_off,
	  { W("timestamps_disabled", INFO) }, STATUS_OK,
	  check_nat_drops_ts_off },
	{ "nat_drops_timestamps_unavailable", setup_nat_drops_ts_unavailable,
	  { W("tw_recycle_nat_drops", CRITICAL) }, STATUS_CRITICAL,
	  check_nat_drops_ts_unavailable },
	{ "nat_drops_recycle_2_el7", setup_nat_drops_el7,
	  { W("tw_recycle_nat_drops", CRITICAL) }, STATUS_CRITICAL,
	  check_nat_drops_el7 },
	{ "nat_drops_4_11_per_netns", setup_nat_drops_4_11,
	  { W("tw_recycle_nat_drops", CRITICAL) }, STATUS_CRITICAL,
	  check_nat_drops_4_11 },
	{ "nat_drops_3_16_outside_trap", setup_nat_drops_3_16,
	  { W("tw_recycle_nat_drops", CRITICAL) }, STATUS_CRITICAL,
	  check_nat_drops_3_16 },
	{ "nat_drops_persisted", setup_nat_drops_persisted,
	  { W("tw_recycle_nat_drops", CRITICAL),
	    W("tw_recycle_persisted", CRITICAL) }, STATUS_CRITICAL,
	  check_nat_drops_persisted },
	{ "nat_drops_persist_unavailable", setup_nat_drops_persist_unavailable,
	  { W("tw_recycle_nat_drops", CRITICAL) }, STATUS_CRITICAL,
	  check_nat_drops_persist_unavailable },

	{ "paws_rising_4_4", setup_paws_rising_4_4,
	  { W("tw_recycle_nat_drops", CRITICAL),
	    W("paws_passive_rising", CRITICAL) }, STATUS_CRITICAL,
	  check_paws_rising_4_4 },
	{ "paws_rising_sample", setup_paws_rising_sample,
	  { W("tw_recycle_nat_drops", CRITICAL),
	    W("paws_passive_rising", CRITICAL) }, STATUS_CRITICAL,
	  check_paws_rising_sample },
	{ "paws_not_evaluated", setup_paws_not_evaluated,
	  { { NULL, 0 } }, STATUS_OK, NULL },
	{ "paws_flat", setup_paws_flat, { { NULL, 0 } }, STATUS_OK, NULL },
	{ "paws_rising_recycle_off", setup_paws_rising_recycle_off,
	  { W("paws_passive_rising", CRITICAL) }, STATUS_CRITICAL,
	  check_paws_rising_recycle_off },

	{ "persisted_4_11_critical", setup_persisted_4_11,
	  { W("tw_recycle_persisted", CRITICAL), W("sysctl_drift", WARNING) },
	  STATUS_CRITICAL, check_persisted_4_11 },
	{ "persisted_vendor_overridden", setup_persisted_vendor,
	  { W("tw_recycle_persisted", CRITICAL), W("sysctl_drift", WARNING) },
	  STATUS_CRITICAL, check_persisted_vendor },
	{ "persisted_vendor_masked", setup_persisted_vendor_masked,
	  { W("tw_recycle_persisted", WARNING) }, STATUS_WARNING,
	  check_persisted_vendor_masked },
	{ "persisted_run_generated", setup_persisted_run,
	  { W("tw_recycle_persisted", CRITICAL), W("sysctl_drift", WARNING) },
	  STATUS_CRITICAL, check_persisted_run },
	{ "persisted_usr_local_admin", setup_persisted_usr_local,
	  { W("tw_recycle_persisted", CRITICAL), W("sysctl_drift", WARNING) },
	  STATUS_CRITICAL, check_persisted_usr_local },
	{ "persisted_4_12_warning", setup_persisted_4_12,
	  { W("tw_recycle_persisted", WARNING) }, STATUS_WARNING,
	  check_persisted_4_12 },
	{ "persisted_zero", setup_persisted_zero, { { NULL, 0 } }, STATUS_OK,
	  NULL },
	{ "persisted_procps_only", setup_persisted_procps_only,
	  { W("tw_recycle_persisted", CRITICAL) }, STATUS_CRITICAL,
	  check_persisted_procps_only },
	{ "persisted_two_lines", setup_persisted_two_lines,
	  { W("tw_recycle_nat_drops", CRITICAL),
	    W("tw_recycle_persisted", CRITICAL) }, STATUS_CRITICAL,
	  check_persisted_two_lines },
	{ "persisted_unknown_kernel_key_absent",
	  setup_persisted_unknown_kernel_absent,
	  { W("tw_recycle_persisted", WARNING) }, STATUS_WARNING, NULL },
	{ "persisted_unknown_kernel_key_unavailable",
	  setup_persisted_unknown_kernel_unavailable,
	  { W("tw_recycle_persisted", CRITICAL) }, STATUS_CRITICAL, NULL },

	{ "drift_two_keys", setup_drift_two_keys,
	  { W("sysctl_drift", WARNING) }, STATUS_WARNING,
	  check_drift_two_keys },
	{ "drift_unparseable", setup_drift_unparseable, { { NULL, 0 } },
	  STATUS_OK, NULL },
	{ "drift_rfc1337_back_to_file", setup_drift_rfc1337,
	  { W("rfc1337_timewait_nat", WARNING), W("sysctl_drift", WARNING) },
	  STATUS_WARNING, check_drift_rfc1337 },
	{ "drift_both_values_discouraged", setup_drift_both_discouraged,
	  { W("rfc1337_timewait_nat", WARNING), W("sysctl_drift", WARNING) },
	  STATUS_WARNING, check_drift_both_discouraged },
	{ "drift_runtime_not_present", setup_drift_runtime_absent,
	  { { NULL, 0 } }, STATUS_OK, NULL },

	{ "timestamps_disabled_info", setup_ts_off,
	  { W("timestamps_disabled", INFO) }, STATUS_OK, check_ts_off },
	{ "timestamps_disabled_persisted", setup_ts_off_persisted,
	  { W("timestamps_disabled", INFO) }, STATUS_OK,
	  check_ts_off_persisted },

	{ "timewait_paws_6_18", setup_tw_paws_6_18,
	  { W("timewait_paws_rejects", WARNING) }, STATUS_WARNING,
	  check_tw_paws_6_18 },
	{ "timewait_paws_not_evaluated", setup_tw_paws_not_evaluated,
	  { { NULL, 0 } }, STATUS_OK, NULL },
	{ "timewait_paws_counter_absent", setup_tw_paws_absent_estab_rising,
	  { { NULL, 0 } }, STATUS_OK, NULL },

	{ "rfc1337_5_10_warning", setup_rfc1337_5_10,
	  { W("rfc1337_timewait_nat", WARNING) }, STATUS_WARNING,
	  check_rfc1337_5_10 },
	{ "rfc1337_timewait_rising_critical", setup_rfc1337_timewait_rising,
	  { W("rfc1337_timewait_nat", CRITICAL),
	    W("timewait_paws_rejects", WARNING) }, STATUS_CRITICAL,
	  check_rfc1337_timewait_rising },
	{ "rfc1337_estab_rising_5_10_critical", setup_rfc1337_estab_rising,
	  { W("rfc1337_timewait_nat", CRITICAL) }, STATUS_CRITICAL,
	  check_rfc1337_estab_rising },
	{ "rfc1337_estab_ignored_with_timewait_6_18",
	  setup_rfc1337_estab_ignored,
	  { W("rfc1337_timewait_nat", WARNING) }, STATUS_WARNING, NULL },
	{ "rfc1337_not_evaluated_6_18", setup_rfc1337_not_evaluated,
	  { W("rfc1337_timewait_nat", WARNING) }, STATUS_WARNING, NULL },

	{ "tw_buckets_overflow", setup_overflow,
	  { W("tw_buckets_overflow", WARNING) }, STATUS_WARNING,
	  check_overflow },
	{ "tw_buckets_overflow_persisted", setup_overflow_persisted,
	  { W("tw_buckets_overflow", WARNING) }, STATUS_WARNING,
	  check_overflow_persisted },
	{ "tw_buckets_overflow_key_unavailable", setup_overflow_unavailable,
	  { W("tw_buckets_overflow", WARNING) }, STATUS_WARNING,
	  check_overflow_unavailable },

	{ "source_failed_unknown", setup_failed_netstat,
	  { W("source_failed", UNKNOWN) }, STATUS_UNKNOWN,
	  check_failed_netstat },
	{ "source_failed_garbled_bytes", setup_failed_garbled,
	  { W("tw_recycle_nat_drops", CRITICAL),
	    W("tw_recycle_persisted", CRITICAL), W("source_failed", UNKNOWN) },
	  STATUS_CRITICAL, check_failed_garbled },
	{ "source_failed_critical_wins", setup_failed_and_critical,
	  { W("tw_recycle_nat_drops", CRITICAL), W("source_failed", UNKNOWN) },
	  STATUS_CRITICAL, NULL },
	{ "source_failed_two", setup_failed_two,
	  { W("source_failed", UNKNOWN), W("source_failed", UNKNOWN) },
	  STATUS_UNKNOWN, check_failed_two },
	{ "source_stale", setup_stale,
	  { W("source_failed", UNKNOWN), W("source_failed", UNKNOWN),
	    W("source_failed", UNKNOWN), W("source_stale", UNKNOWN) },
	  STATUS_UNKNOWN, check_stale },
	{ "source_stale_not_yet_at_15s", setup_stale_boundary,
	  { W("source_failed", UNKNOWN) }, STATUS_UNKNOWN, NULL },
	{ "sources_not_applicable_unavailable", setup_not_failed,
	  { { NULL, 0 } }, STATUS_OK, NULL },
	{ "warning_beats_unknown", setup_warning_and_unknown,
	  { W("rfc1337_timewait_nat", WARNING), W("source_failed", UNKNOWN) },
	  STATUS_WARNING, NULL },
	{ "info_never_counts", setup_info_and_unknown,
	  { W("timestamps_disabled", INFO), W("source_failed", UNKNOWN) },
	  STATUS_UNKNOWN, NULL },
	{ "everything", setup_everything,
	  { W("tw_recycle_nat_drops", CRITICAL),
	    W("paws_passive_rising", CRITICAL),
	    W("tw_recycle_persisted", CRITICAL),
	    W("rfc1337_timewait_nat", CRITICAL),
	    W("timewait_paws_rejects", WARNING),
	    W("tw_buckets_overflow", WARNING),
	    W("sysctl_drift", WARNING),
	    W("source_failed", UNKNOWN), W("source_failed", UNKNOWN),
	    W("source_failed", UNKNOWN), W("source_failed", UNKNOWN),
	    W("source_failed", UNKNOWN) },
	  STATUS_CRITICAL, check_everything },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void
dump_findings(const struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		print_error("  got %s (%s)\n", fs->f[i].id,
		    severity_name[fs->f[i].severity]);
}

/* The findings are exactly WANT (as a multiset, any order). */
static void
assert_exact(const struct findings *fs, const struct want *want)
{
	bool used[ADVICE_MAX_FINDINGS] = { false };
	size_t nwant = 0;

	for (; nwant < NWANT && want[nwant].id != NULL; nwant++) {
		size_t i;

		for (i = 0; i < fs->n; i++)
			if (!used[i] && strcmp(fs->f[i].id, want[nwant].id) == 0
			    && fs->f[i].severity == want[nwant].sev)
				break;
		if (i == fs->n) {
			print_error("missing %s (%s)\n", want[nwant].id,
			    severity_name[want[nwant].sev]);
			dump_findings(fs);
			fail();
		}
		used[i] = true;
	}
	if (fs->n != nwant) {
		print_error("want %zu findings, got %zu\n", nwant, fs->n);
		dump_findings(fs);
		fail();
	}
}

/* No advice tells a user to edit a package's file or a generated one. */
static void
assert_no_package_edit(const struct finding *f)
{
	static const char *const bad[] = { "change /usr/lib/", "change /lib/",
		"change /run/", "remove /usr/lib/", "remove /lib/",
		"remove /run/" };
	const struct remedy_list *l[] = { &f->remediation.runtime,
		&f->remediation.persist, &f->remediation.caveats };

	for (size_t i = 0; i < 3; i++)
		for (size_t k = 0; k < l[i]->n; k++)
			for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++)
				if (strstr(l[i]->item[k], bad[b]) != NULL)
					fail_msg("%s: \"%s\"", f->id,
					    l[i]->item[k]);
}

static void
run_case(void **state)
{
	const struct tcase *c = *state;
	struct snapshot *s = base_snapshot();

	c->setup(s);
	advice_evaluate(s, &s->findings);
	for (size_t i = 0; i < s->findings.n; i++) {
		check_shape(&s->findings.f[i]);
		assert_no_package_edit(&s->findings.f[i]);
	}
	assert_exact(&s->findings, c->want);
	assert_int_equal(advice_status(&s->findings), c->status);
	if (c->check != NULL)
		c->check(&s->findings);
	findings_clear(&s->findings);
	assert_int_equal(s->findings.n, 0);
	free(s);
}

/* ---------------------------------------------------------------------
 * Non-table tests.
 */

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(severity_name[SEV_INFO], "info");
	assert_string_equal(severity_name[SEV_WARNING], "warning");
	assert_string_equal(severity_name[SEV_CRITICAL], "critical");
	assert_string_equal(severity_name[SEV_UNKNOWN], "unknown");
	assert_string_equal(status_name[STATUS_OK], "ok");
	assert_string_equal(status_name[STATUS_WARNING], "warning");
	assert_string_equal(status_name[STATUS_CRITICAL], "critical");
	assert_string_equal(status_name[STATUS_UNKNOWN], "unknown");
}

static enum audit_status
status_of(const enum severity *sev, size_t n)
{
	struct findings fs;

	memset(&fs, 0, sizeof(fs));
	for (size_t i = 0; i < n; i++)
		fs.f[i].severity = sev[i];
	fs.n = n;
	return advice_status(&fs);
}

static void
test_status_order(void **state)
{
	const enum severity info[] = { SEV_INFO, SEV_INFO };
	const enum severity unk[] = { SEV_INFO, SEV_UNKNOWN };
	const enum severity warn[] = { SEV_UNKNOWN, SEV_WARNING, SEV_INFO };
	const enum severity crit[] = { SEV_UNKNOWN, SEV_WARNING, SEV_CRITICAL };
	const enum severity crit_first[] = { SEV_CRITICAL, SEV_UNKNOWN };

	(void)state;
	assert_int_equal(status_of(NULL, 0), STATUS_OK);
	assert_int_equal(status_of(info, 2), STATUS_OK);
	assert_int_equal(status_of(unk, 2), STATUS_UNKNOWN);
	assert_int_equal(status_of(warn, 3), STATUS_WARNING);
	assert_int_equal(status_of(crit, 3), STATUS_CRITICAL);
	assert_int_equal(status_of(crit_first, 2), STATUS_CRITICAL);
}

/* findings_clear frees everything (ASan/LSan checks) and resets. */
static void
test_clear_and_reuse(void **state)
{
	struct snapshot *s = base_snapshot();
	size_t first;

	(void)state;
	setup_everything(s);
	advice_evaluate(s, &s->findings);
	first = s->findings.n;
	assert_true(first >= 10);
	assert_true(first <= ADVICE_MAX_FINDINGS);
	/* Evaluating into a non-empty set replaces it, without leaking. */
	advice_evaluate(s, &s->findings);
	assert_int_equal(s->findings.n, first);
	findings_clear(&s->findings);
	assert_int_equal(s->findings.n, 0);
	for (size_t i = 0; i < first; i++) {
		assert_null(s->findings.f[i].explanation);
		assert_int_equal(s->findings.f[i].evidence.n, 0);
		assert_null(s->findings.f[i].evidence.part);
		assert_int_equal(s->findings.f[i].remediation.runtime.n, 0);
		assert_int_equal(s->findings.f[i].remediation.persist.n, 0);
		assert_int_equal(s->findings.f[i].remediation.caveats.n, 0);
	}
	findings_clear(&s->findings);	/* idempotent */
	advice_evaluate(NULL, &s->findings);
	assert_int_equal(s->findings.n, 0);
	free(s);
}

/* Evidence references are independent per finding (no shared objects). */
static void
test_findings_independent(void **state)
{
	struct snapshot *s = base_snapshot();
	struct findings a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	setup_paws_rising_4_4(s);
	advice_evaluate(s, &a);
	advice_evaluate(s, &b);
	assert_int_equal(a.n, b.n);
	for (size_t i = 0; i < a.n; i++) {
		json_t *ea = render_evidence(&a.f[i]), *eb = render_evidence(&b.f[i]);
		json_t *ra = render_remediation(&a.f[i]),
		    *rb = render_remediation(&b.f[i]);
		const struct remedy_list *la = &a.f[i].remediation.caveats,
		    *lb = &b.f[i].remediation.caveats;

		assert_ptr_not_equal(a.f[i].evidence.part, b.f[i].evidence.part);
		assert_true(json_equal(ea, eb));
		assert_true(json_equal(ra, rb));
		json_decref(ea);
		json_decref(eb);
		json_decref(ra);
		json_decref(rb);
		assert_int_equal(la->n, lb->n);
		for (size_t k = 0; k < la->n; k++)
			assert_ptr_not_equal(la->item[k], lb->item[k]);
		assert_string_equal(a.f[i].explanation, b.f[i].explanation);
	}
	findings_clear(&a);
	findings_clear(&b);
	free(s);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_status_order),
		cmocka_unit_test(test_clear_and_reuse),
		cmocka_unit_test(test_findings_independent),
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]), n = 0;
	struct CMUnitTest *tests;
	int rc;

	tests = calloc(NCASES + nfixed, sizeof(*tests));
	if (tests == NULL)
		return 1;
	for (size_t i = 0; i < NCASES; i++, n++) {
		tests[n].name = cases[i].name;
		tests[n].test_func = run_case;
		tests[n].initial_state = (void *)&cases[i];
	}
	for (size_t i = 0; i < nfixed; i++)
		tests[n++] = fixed[i];
	rc = _cmocka_run_group_tests("advice", tests, n, NULL, NULL);
	free(tests);
	return rc;
}
