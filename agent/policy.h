/*
 * --policy=FILE: the values a site expects of each watched sysctl, checked
 * against the runtime value and the persisted one (docs/policy.md). Each
 * violation is a finding "policy_violation", unless a built-in rule already
 * reports that key (then the built-in finding stands, annotated).
 */
#ifndef TWAUDIT_POLICY_H
#define TWAUDIT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/findings.h"
#include "collectors/sysctl.h"

struct snapshot;

#define POLICY_MAX_ALLOWED 16
#define POLICY_REASON_LEN 256

struct policy_rule {
	bool set;			/* the policy says something about this key */
	size_t nallowed;		/* "allowed": values (each 1..3 integers) */
	struct sysctl_value allowed[POLICY_MAX_ALLOWED];
	bool has_min, has_max;		/* "min"/"max": every value in range */
	int64_t min, max;
	bool absent_ok;			/* "absent_ok": a kernel without the key is fine */
	bool check_persisted;		/* "persisted": also check sysctl.d (default true) */
	enum severity severity;		/* "severity", default warning */
	char reason[POLICY_REASON_LEN];	/* "reason", may be "" */
};

struct policy {
	char source[256];		/* the file name, for evidence */
	struct policy_rule rule[SYSCTL_COUNT];
};

/* Parse policy JSON text. NULL with ERR (naming the line when known). */
struct policy *policy_parse(const char *buf, size_t len, const char *name,
    char *err, size_t errlen);

/* Read and parse FILE. NULL with ERR. */
struct policy *policy_load(const char *path, char *err, size_t errlen);

void policy_free(struct policy *p);

/* Does V satisfy rule R? (false when R has no constraint it meets) */
bool policy_value_ok(const struct policy_rule *r, const struct sysctl_value *v);

/*
 * Append to OUT the violations of P in S (runtime, and persisted unless S
 * is a namespace's), after the built-in findings already in OUT.
 */
void policy_evaluate(const struct policy *p, const struct snapshot *s,
    struct findings *out);

#endif
