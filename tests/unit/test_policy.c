/*
 * --policy: parsing (accepted shapes, every rejection with its message),
 * value matching, violations on runtime and persisted values with the
 * file:line of the assignment, built-in findings standing in for the
 * policy, namespaces, and the shipped deploy/policy.json.
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

#include "agent/advice.h"
#include "agent/audit.h"
#include "agent/netns.h"
#include "agent/nscollect.h"
#include "agent/policy.h"
#include "agent/snapshot.h"
#include "lib/util.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

static struct policy *
parse(const char *text, char *err, size_t errlen)
{
	return policy_parse(text, strlen(text), "test.json", err, errlen);
}

static struct snapshot *
baseline(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	atomic_init(&s->refs, 1);
	snprintf(s->sysctl.osrelease, sizeof(s->sysctl.osrelease), "6.1.0");
	kversion_parse("6.1.0", &s->kv);
	persist_init(&s->persist);
	snprintf(s->host, sizeof(s->host), "h");
	for (int i = 0; i < SYSCTL_COUNT; i++) {
		s->sysctl.key[i].state = KEY_PRESENT;
		s->sysctl.key[i].nvalues = 1;
	}
	s->sysctl.key[SYSCTL_TCP_TW_RECYCLE].state = KEY_ABSENT;
	s->sysctl.key[SYSCTL_TCP_TW_RECYCLE].nvalues = 0;
	s->sysctl.key[SYSCTL_TCP_TIMESTAMPS].v[0] = 1;
	s->sysctl.key[SYSCTL_TCP_TW_REUSE].v[0] = 2;
	s->sysctl.key[SYSCTL_TCP_MAX_TW_BUCKETS].v[0] = 262144;
	s->sysctl.key[SYSCTL_TCP_FIN_TIMEOUT].v[0] = 60;
	s->sysctl.key[SYSCTL_TCP_SYNCOOKIES].v[0] = 1;
	s->sysctl.key[SYSCTL_TCP_MAX_SYN_BACKLOG].v[0] = 4096;
	s->sysctl.key[SYSCTL_IP_LOCAL_PORT_RANGE].nvalues = 2;
	s->sysctl.key[SYSCTL_IP_LOCAL_PORT_RANGE].v[0] = 32768;
	s->sysctl.key[SYSCTL_IP_LOCAL_PORT_RANGE].v[1] = 60999;
	s->sysctl.key[SYSCTL_SOMAXCONN].v[0] = 4096;
	s->sysctl.key[SYSCTL_NF_CONNTRACK_TCP_TIMEOUT_TIME_WAIT].v[0] = 120;
	return s;
}

static void
persist_line(struct snapshot *s, const char *text, const char *path)
{
	char err[128];

	assert_int_equal(persist_parse(text, strlen(text), path, &s->persist,
	    err, sizeof(err)), 0);
}

static size_t
count_id(const struct findings *f, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		n += strcmp(f->f[i].id, id) == 0;
	return n;
}

/* A policy_violation's own evidence. */
static const struct ev_violation *
violation(const struct finding *f)
{
	const struct ev_part *p = evidence_find(&f->evidence, EV_VIOLATION,
	    NULL);

	assert_non_null(p);
	return p->u.violation;
}

static const struct finding *
find_policy(const struct findings *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->f[i].id, "policy_violation") == 0 &&
		    strcmp(violation(&f->f[i])->name, name) == 0)
			return &f->f[i];
	return NULL;
}

static void
evaluate(struct snapshot *s, struct policy *p)
{
	s->policy = p;
	snapshot_finish(s, NULL);
}

static void
test_parse_ok(void **state)
{
	char err[256];
	struct policy *p;

	(void)state;
	p = parse("{\"version\": 1, \"description\": \"x\", \"sysctls\": {"
	    "\"net.ipv4.tcp_tw_recycle\": {\"allowed\": [0], \"absent_ok\": true,"
	    " \"severity\": \"critical\", \"reason\": \"r\"},"
	    "\"net/ipv4/tcp_timestamps\": {\"allowed\": [1, 2]},"
	    "\"net.ipv4.tcp_fin_timeout\": {\"min\": 5, \"max\": 60,"
	    " \"persisted\": false},"
	    "\"net.ipv4.ip_local_port_range\": {\"allowed\": [[1024, 65535]]}}}",
	    err, sizeof(err));
	assert_non_null(p);
	assert_true(p->rule[SYSCTL_TCP_TW_RECYCLE].set);
	assert_true(p->rule[SYSCTL_TCP_TW_RECYCLE].absent_ok);
	assert_int_equal(p->rule[SYSCTL_TCP_TW_RECYCLE].severity, SEV_CRITICAL);
	assert_int_equal(p->rule[SYSCTL_TCP_TIMESTAMPS].severity, SEV_WARNING);
	assert_int_equal(p->rule[SYSCTL_TCP_TIMESTAMPS].nallowed, 2);
	assert_false(p->rule[SYSCTL_TCP_FIN_TIMEOUT].check_persisted);
	assert_int_equal(p->rule[SYSCTL_IP_LOCAL_PORT_RANGE].allowed[0].nvalues,
	    2);
	assert_false(p->rule[SYSCTL_SOMAXCONN].set);
	policy_free(p);
}

static void
test_parse_errors(void **state)
{
	static const struct { const char *text, *msg; } bad[] = {
		{ "", "test.json:1" },
		{ "[]", "not a JSON object" },
		{ "{}", "needs a \"sysctls\" object" },
		{ "{\"sysctls\": {}, \"x\": 1}", "unknown field 'x'" },
		{ "{\"version\": 2, \"sysctls\": {}}", "version must be 1" },
		{ "{\"sysctls\": {\"net.ipv4.nope\": {\"allowed\": [1]}}}",
		  "not a sysctl twaudit watches" },
		{ "{\"sysctls\": {\"net.ipv4.tcp_timestamps\": {}}}",
		  "needs allowed, min or max" },
		{ "{\"sysctls\": {\"net.ipv4.tcp_timestamps\": {\"allowed\": []}}}",
		  "an array of 1 to" },
		{ "{\"sysctls\": {\"net.ipv4.tcp_timestamps\": {\"allowed\": "
		  "[\"1\"]}}}", "allowed[0]" },
		{ "{\"sysctls\": {\"net.ipv4.tcp_timestamps\": {\"allowed\": "
		  "[[1,2,3,4]]}}}", "allowed[0]" },
		{ "{\"sysctls\": {\"net.ipv4.tcp_timestamps\": {\"min\": 3, "
		  "\"max\": 1}}}", "min 3 > max 1" },
		{ "{\"sysctls\": {\"net.ipv4.tcp_timestamps\": {\"min\": 1.5}}}",
		  "not an integer" },
		{ "{\"sysctls\": {\"net.ipv4.tcp_timestamps\": {\"allowed\": [1], "
		  "\"severity\": \"fatal\"}}}", "not info, warning or critical" },
		{ "{\"sysctls\": {\"net.ipv4.tcp_timestamps\": {\"allowed\": [1], "
		  "\"absent_ok\": 1}}}", "not true or false" },
		{ "{\"sysctls\": {\"net.ipv4.tcp_timestamps\": {\"allowed\": [1], "
		  "\"sevrity\": \"info\"}}}", "unknown field 'sevrity'" },
		{ "{\"sysctls\": {\"net.ipv4.tcp_timestamps\": {\"allowed\": [1]},"
		  "\"net/ipv4/tcp_timestamps\": {\"allowed\": [1]}}}", "given twice" },
		{ "{\"sysctls\": {\"a\": 1, \"a\": 2}}", "duplicate" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(parse(bad[i].text, err, sizeof(err)));
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].msg);
	}
}

static void
test_value_ok(void **state)
{
	char err[256];
	struct policy *p = parse("{\"sysctls\": {"
	    "\"net.ipv4.tcp_timestamps\": {\"allowed\": [1, 2]},"
	    "\"net.ipv4.tcp_fin_timeout\": {\"min\": 5, \"max\": 60},"
	    "\"net.ipv4.ip_local_port_range\": {\"min\": 1024}}}", err,
	    sizeof(err));
	struct sysctl_value v = { .state = KEY_PRESENT, .nvalues = 1 };

	(void)state;
	assert_non_null(p);
	v.v[0] = 1;
	assert_true(policy_value_ok(&p->rule[SYSCTL_TCP_TIMESTAMPS], &v));
	v.v[0] = 0;
	assert_false(policy_value_ok(&p->rule[SYSCTL_TCP_TIMESTAMPS], &v));
	v.v[0] = 60;
	assert_true(policy_value_ok(&p->rule[SYSCTL_TCP_FIN_TIMEOUT], &v));
	v.v[0] = 61;
	assert_false(policy_value_ok(&p->rule[SYSCTL_TCP_FIN_TIMEOUT], &v));
	v.v[0] = 4;
	assert_false(policy_value_ok(&p->rule[SYSCTL_TCP_FIN_TIMEOUT], &v));
	v.nvalues = 2;
	v.v[0] = 1024;
	v.v[1] = 65535;
	assert_true(policy_value_ok(&p->rule[SYSCTL_IP_LOCAL_PORT_RANGE], &v));
	v.v[0] = 1023;
	assert_false(policy_value_ok(&p->rule[SYSCTL_IP_LOCAL_PORT_RANGE], &v));
	/* an allowed single value never matches a pair */
	v.v[0] = 1;
	assert_false(policy_value_ok(&p->rule[SYSCTL_TCP_TIMESTAMPS], &v));
	policy_free(p);
}

/* A clean host passes the shipped default policy. */
static void
test_default_policy_clean(void **state)
{
	char err[256];
	struct policy *p = policy_load(FIXTURES "/../../deploy/policy.json", err,
	    sizeof(err));
	struct snapshot *s = baseline();

	(void)state;
	if (p == NULL)
		fail_msg("%s", err);
	evaluate(s, p);
	assert_int_equal(count_id(&s->findings, "policy_violation"), 0);
	assert_int_equal(s->status, STATUS_OK);
	snapshot_unref(s);
	policy_free(p);
}

/* Runtime violation with the persisted line that causes it. */
static void
test_runtime_and_persisted(void **state)
{
	char err[256];
	struct policy *p = parse("{\"sysctls\": {"
	    "\"net.ipv4.tcp_tw_reuse\": {\"allowed\": [0, 2], \"severity\": "
	    "\"critical\"},"
	    "\"net.ipv4.tcp_fin_timeout\": {\"max\": 30}}}", err, sizeof(err));
	struct snapshot *s = baseline();
	const struct finding *f;
	const struct ev_violation *v;

	(void)state;
	assert_non_null(p);
	s->sysctl.key[SYSCTL_TCP_TW_REUSE].v[0] = 1;
	persist_line(s, "# x\nnet.ipv4.tcp_tw_reuse = 1\n",
	    "/etc/sysctl.d/50-tune.conf");
	/* fin_timeout: runtime 60 violates, no file sets it */
	evaluate(s, p);
	f = find_policy(&s->findings, "net.ipv4.tcp_tw_reuse");
	assert_non_null(f);
	assert_int_equal(f->severity, SEV_CRITICAL);
	assert_int_equal(s->status, STATUS_CRITICAL);
	v = violation(f);
	assert_true(v->has_persisted);
	assert_string_equal(v->persisted.file, "/etc/sysctl.d/50-tune.conf");
	assert_int_equal(v->persisted.line, 2);
	assert_true(v->runtime_bad && v->persisted_bad);	/* both violate */
	assert_non_null(strstr(f->explanation, "/etc/sysctl.d/50-tune.conf:2"));
	assert_true(f->remediation.runtime.n >= 1);
	assert_string_equal(f->remediation.runtime.item[0],
	    "sysctl -w net.ipv4.tcp_tw_reuse=\"0\"");
	assert_true(f->remediation.persist.n >= 1);
	assert_non_null(strstr(f->remediation.persist.item[0],
	    "50-tune.conf line 2"));

	f = find_policy(&s->findings, "net.ipv4.tcp_fin_timeout");
	assert_non_null(f);
	assert_int_equal(f->severity, SEV_WARNING);
	assert_false(violation(f)->has_persisted);	/* "persisted": null */
	/* clamp suggestion to the bound */
	assert_true(f->remediation.runtime.n >= 1);
	assert_string_equal(f->remediation.runtime.item[0],
	    "sysctl -w net.ipv4.tcp_fin_timeout=\"30\"");
	snapshot_unref(s);
	policy_free(p);
}

/* Runtime fine, the file brings a bad value back at boot. */
static void
test_persisted_only(void **state)
{
	char err[256];
	struct policy *p = parse("{\"sysctls\": {"
	    "\"net.ipv4.tcp_timestamps\": {\"allowed\": [1, 2]}}}", err,
	    sizeof(err));
	struct snapshot *s = baseline();
	const struct finding *f;

	(void)state;
	persist_line(s, "net.ipv4.tcp_timestamps=0\n", "/etc/sysctl.conf");
	evaluate(s, p);
	f = find_policy(&s->findings, "net.ipv4.tcp_timestamps");
	assert_non_null(f);
	/* "violates": ["persisted"] */
	assert_false(violation(f)->runtime_bad);
	assert_true(violation(f)->persisted_bad);
	snapshot_unref(s);
	policy_free(p);
}

/* A built-in rule on the same key stands; the policy is not repeated. */
static void
test_builtin_stands(void **state)
{
	char err[256];
	struct policy *p = parse("{\"sysctls\": {"
	    "\"net.ipv4.tcp_timestamps\": {\"allowed\": [1, 2], \"severity\": "
	    "\"warning\"},"
	    "\"net.ipv4.tcp_rfc1337\": {\"allowed\": [0]},"
	    "\"net.ipv4.tcp_tw_recycle\": {\"allowed\": [0], \"absent_ok\": "
	    "true, \"severity\": \"critical\"}}}", err, sizeof(err));
	struct snapshot *s = baseline();
	const struct ev_part *pol;

	(void)state;
	assert_non_null(p);
	set_error(s->sysctl.osrelease, sizeof(s->sysctl.osrelease), "4.9.0");
	kversion_parse("4.9.0", &s->kv);
	s->sysctl.key[SYSCTL_TCP_TIMESTAMPS].v[0] = 0;
	s->sysctl.key[SYSCTL_TCP_RFC1337].v[0] = 1;
	evaluate(s, p);
	assert_int_equal(count_id(&s->findings, "policy_violation"), 0);
	assert_int_equal(count_id(&s->findings, "timestamps_disabled"), 1);
	assert_int_equal(count_id(&s->findings, "rfc1337_timewait_nat"), 1);
	for (size_t i = 0; i < s->findings.n; i++)
		if (strcmp(s->findings.f[i].id, "timestamps_disabled") == 0) {
			/* escalated from info to the policy's severity */
			assert_int_equal(s->findings.f[i].severity, SEV_WARNING);
			pol = evidence_find(&s->findings.f[i].evidence,
			    EV_POLICY, "policy");
			assert_non_null(pol);
			assert_string_equal(pol->u.policy.expected, "1 or 2");
		}
	snapshot_unref(s);

	/* tw_recycle on with timestamps: tw_recycle_nat_drops stands. */
	s = baseline();
	set_error(s->sysctl.osrelease, sizeof(s->sysctl.osrelease), "4.9.0");
	kversion_parse("4.9.0", &s->kv);
	s->sysctl.key[SYSCTL_TCP_TW_RECYCLE].state = KEY_PRESENT;
	s->sysctl.key[SYSCTL_TCP_TW_RECYCLE].nvalues = 1;
	s->sysctl.key[SYSCTL_TCP_TW_RECYCLE].v[0] = 1;
	evaluate(s, p);
	assert_int_equal(count_id(&s->findings, "policy_violation"), 0);
	assert_int_equal(count_id(&s->findings, "tw_recycle_nat_drops"), 1);
	snapshot_unref(s);
	policy_free(p);
}

/* Absent keys: fine with absent_ok, a violation without it. */
static void
test_absent(void **state)
{
	char err[256];
	struct policy *p = parse("{\"sysctls\": {"
	    "\"net.ipv4.tcp_tw_recycle\": {\"allowed\": [0], \"absent_ok\": true},"
	    "\"net.netfilter.nf_conntrack_tcp_timeout_time_wait\": "
	    "{\"max\": 120}}}", err, sizeof(err));
	struct snapshot *s = baseline();

	(void)state;
	s->sysctl.key[SYSCTL_NF_CONNTRACK_TCP_TIMEOUT_TIME_WAIT].state =
	    KEY_ABSENT;
	evaluate(s, p);
	assert_null(find_policy(&s->findings, "net.ipv4.tcp_tw_recycle"));
	assert_non_null(find_policy(&s->findings,
	    "net.netfilter.nf_conntrack_tcp_timeout_time_wait"));
	snapshot_unref(s);
	policy_free(p);
}

/* In a namespace: runtime only, the netns named; status rolls up. */
static void
test_namespace(void **state)
{
	char err[256];
	struct policy *p = parse("{\"sysctls\": {"
	    "\"net.ipv4.tcp_tw_reuse\": {\"allowed\": [0, 2]}}}", err,
	    sizeof(err));
	struct snapshot *host = baseline(), *ns = baseline();
	const struct finding *f;

	(void)state;
	persist_line(host, "net.ipv4.tcp_tw_reuse = 2\n", "/etc/sysctl.conf");
	snprintf(ns->netns, sizeof(ns->netns), "web");
	ns->sysctl.key[SYSCTL_TCP_TW_REUSE].v[0] = 1;
	ns->policy = p;
	host->ns = calloc(1, sizeof(*host->ns));
	host->ns[0] = ns;
	host->nns = 1;
	host->netns_mode = true;
	evaluate(host, p);
	assert_int_equal(host->host_status, STATUS_OK);
	assert_int_equal(host->status, STATUS_WARNING);
	f = find_policy(&ns->findings, "net.ipv4.tcp_tw_reuse");
	assert_non_null(f);
	assert_string_equal(violation(f)->netns, "web");
	assert_false(violation(f)->has_persisted);	/* "persisted": null */
	assert_int_equal(f->remediation.persist.n, 0);
	snapshot_unref(host);
	policy_free(p);
}

/* Global keys on old kernels are not a namespace's own. */
static void
test_scope(void **state)
{
	struct snapshot *s = baseline();

	(void)state;
	set_error(s->sysctl.osrelease, sizeof(s->sysctl.osrelease), "4.10.0");
	kversion_parse("4.10.0", &s->kv);
	nscollect_apply_scope(s);
	/* 4.10: tw_reuse per netns, timestamps (4.13) and tw_recycle (4.11) global */
	assert_int_equal(s->sysctl.key[SYSCTL_TCP_TW_REUSE].state, KEY_PRESENT);
	assert_int_equal(s->sysctl.key[SYSCTL_TCP_TIMESTAMPS].state,
	    KEY_UNAVAILABLE);
	assert_non_null(strstr(s->sysctl.key[SYSCTL_TCP_TIMESTAMPS].why,
	    "reported once, for the host"));
	assert_int_equal(s->sysctl.key[SYSCTL_TCP_MAX_TW_BUCKETS].state,
	    KEY_UNAVAILABLE);
	assert_int_equal(s->sysctl.key[SYSCTL_TCP_TW_RECYCLE].state, KEY_ABSENT);
	snapshot_unref(s);
}

static void
test_cgroup_labels(void **state)
{
	static const struct { const char *cg, *want; } cases[] = {
		{ "0::/system.slice/docker-0123456789abcdef0123456789abcdef"
		  "0123456789abcdef0123456789abcdef.scope\n",
		  "docker:0123456789ab" },
		{ "12:memory:/docker/fedcba9876543210fedcba9876543210fedcba98"
		  "76543210fedcba9876543210\n", "docker:fedcba987654" },
		{ "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable"
		  "-pod1234abcd_5678.slice/cri-containerd-aaaaaaaaaaaabbbbbbbb"
		  "bbbbccccccccccccddddddddddddeeeeeeeeeeeeffff.scope\n",
		  "containerd:aaaaaaaaaaaa" },
		{ "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-"
		  "besteffort-pod0a1b2c3d_4e5f.slice\n", "pod:0a1b2c3d_4e5f" },
		{ "0::/machine.slice/libpod-abcdefabcdef0123.scope\n",
		  "podman:abcdefabcdef" },
		{ "0::/user.slice/user-0.slice/session-1.scope\n", NULL },
		{ "", NULL },
	};
	char out[NETNS_LABEL_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = netns_cgroup_label(cases[i].cg, strlen(cases[i].cg),
		    out, sizeof(out));

		if (cases[i].want == NULL) {
			assert_false(ok);
		} else {
			assert_true(ok);
			assert_string_equal(out, cases[i].want);
		}
	}
}

static void
test_spec_check(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(netns_spec_check("all", err, sizeof(err)), 0);
	assert_int_equal(netns_spec_check("web", err, sizeof(err)), 0);
	assert_int_equal(netns_spec_check("/proc/1/ns/net", err, sizeof(err)), 0);
	assert_int_equal(netns_spec_check("a/b", err, sizeof(err)), -1);
	assert_int_equal(netns_spec_check("..", err, sizeof(err)), -1);
	assert_int_equal(netns_spec_check("", err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_value_ok),
		cmocka_unit_test(test_default_policy_clean),
		cmocka_unit_test(test_runtime_and_persisted),
		cmocka_unit_test(test_persisted_only),
		cmocka_unit_test(test_builtin_stands),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_namespace),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_cgroup_labels),
		cmocka_unit_test(test_spec_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
