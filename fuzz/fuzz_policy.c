/*
 * libFuzzer target: a --policy file's text through policy_parse(), then,
 * when it parses, policy_evaluate() over a fixed snapshot (runtime values
 * and one persisted line per key) so the matching, text and evidence
 * builders see every accepted shape. Invariants: a rejected policy always
 * says why; an accepted one has consistent bounds and allowed lists; every
 * finding is policy_violation or a built-in one, with a name in evidence.
 * Never touches a file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/advice.h"
#include "agent/policy.h"
#include "agent/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct snapshot *base;

static void
init_base(void)
{
	static const char conf[] =
	    "net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_timestamps = 0\n"
	    "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.ip_local_port_range = 1 2\n"
	    "net.ipv4.tcp_fin_timeout = x\n";
	char err[128];

	base = calloc(1, sizeof(*base));
	if (base == NULL)
		abort();
	snprintf(base->sysctl.osrelease, sizeof(base->sysctl.osrelease),
	    "4.9.0");
	kversion_parse(base->sysctl.osrelease, &base->kv);
	persist_init(&base->persist);
	persist_parse(conf, sizeof(conf) - 1, "/etc/sysctl.d/f.conf",
	    &base->persist, err, sizeof(err));
	for (int i = 0; i < SYSCTL_COUNT; i++) {
		base->sysctl.key[i].state = (enum key_state)(i % 3);
		base->sysctl.key[i].nvalues = 1 + i % 2;
		base->sysctl.key[i].v[0] = i - 2;
		base->sysctl.key[i].v[1] = INT64_MAX - i;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p;
	struct findings out = { 0 };
	char err[256];

	if (base == NULL)
		init_base();
	err[0] = '\0';
	p = policy_parse((const char *)data, size, "fuzz.json", err,
	    sizeof(err));
	if (p == NULL) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		return 0;
	}
	for (int i = 0; i < SYSCTL_COUNT; i++) {
		const struct policy_rule *r = &p->rule[i];

		if (!r->set)
			continue;
		if (r->nallowed > POLICY_MAX_ALLOWED ||
		    (r->nallowed == 0 && !r->has_min && !r->has_max) ||
		    (r->has_min && r->has_max && r->min > r->max))
			abort();
		for (size_t k = 0; k < r->nallowed; k++)
			if (r->allowed[k].nvalues < 1 ||
			    r->allowed[k].nvalues > SYSCTL_MAX_VALUES)
				abort();
	}
	advice_evaluate(base, &out);
	policy_evaluate(p, base, &out);
	if (out.n > ADVICE_MAX_FINDINGS)
		abort();
	for (size_t i = 0; i < out.n; i++) {
		const struct ev_part *v = evidence_find(&out.f[i].evidence,
		    EV_VIOLATION, NULL);

		if (out.f[i].id == NULL || out.f[i].explanation == NULL ||
		    out.f[i].evidence.n == 0)
			abort();
		if (strcmp(out.f[i].id, "policy_violation") == 0 &&
		    (v == NULL || v->u.violation->name == NULL))
			abort();
	}
	findings_clear(&out);
	policy_free(p);
	return 0;
}
