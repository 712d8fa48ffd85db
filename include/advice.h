/*
 * Advice rules: one table in agent/advice.c, each rule a condition over a
 * snapshot that may produce one finding with evidence and remediation.
 */
#ifndef TWAUDIT_ADVICE_H
#define TWAUDIT_ADVICE_H

#include <jansson.h>
#include <stddef.h>

struct snapshot;

enum severity { SEV_INFO, SEV_WARNING, SEV_CRITICAL, SEV_UNKNOWN, SEV_COUNT };
extern const char *const severity_name[SEV_COUNT];

/* Same numbers as the check exit codes (Nagios). */
enum audit_status {
	STATUS_OK = 0, STATUS_WARNING = 1, STATUS_CRITICAL = 2, STATUS_UNKNOWN = 3
};
extern const char *const status_name[4];

#define ADVICE_MAX_FINDINGS 64

/* source_stale: a source's last success older than three 5 s ticks. */
#define ADVICE_STALE_SECONDS 15.0

struct finding {
	const char *id;		/* static: "tw_recycle_nat_drops" */
	enum severity severity;
	const char *title;	/* static */
	char *explanation;	/* owned */
	json_t *evidence;	/* owned object */
	json_t *remediation;	/* owned: {runtime:[], persist:[], caveats:[]} */
};

struct findings {
	size_t n;
	struct finding f[ADVICE_MAX_FINDINGS];
};

/* Evaluate every rule on S into OUT (which must be empty). */
void advice_evaluate(const struct snapshot *s, struct findings *out);

/* Release what the findings own; leaves OUT empty. */
void findings_clear(struct findings *out);

/* Worst of critical > warning > unknown > ok; info never counts. */
enum audit_status advice_status(const struct findings *f);

#endif
