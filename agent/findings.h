/*
 * A finding as plain C data: what the advice rules (advice.c) and the
 * policy (policy.c) produce and what the renderers print. Evidence is an
 * ordered list of typed parts; web/json.c turns each part into its keys of
 * docs/schema/advice.schema.json, in list order (parts of one group, such
 * as two sysctl entries, share one object). Remediation is three bounded
 * lists of commands and notes. Nothing here points into a snapshot: a
 * finding owns its text and outlives what it was derived from.
 */
#ifndef TWAUDIT_FINDINGS_H
#define TWAUDIT_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum severity { SEV_INFO, SEV_WARNING, SEV_CRITICAL, SEV_UNKNOWN, SEV_COUNT };
extern const char *const severity_name[SEV_COUNT];

/* Same numbers as the check exit codes (Nagios). */
enum audit_status {
	STATUS_OK = 0, STATUS_WARNING = 1, STATUS_CRITICAL = 2, STATUS_UNKNOWN = 3
};
extern const char *const status_name[4];

#define ADVICE_MAX_FINDINGS 64
#define EV_VALUES_MAX 3		/* = SYSCTL_MAX_VALUES */
#define EV_TEXT_LEN 256		/* paths, errors, policy texts */
#define EV_VALUE_LEN 64		/* a persisted value as written */
#define EV_WHY_LEN 160		/* = SYSCTL_WHY_LEN */
#define EV_MODEL_SOURCES 16	/* = SAMPLER_TOP_SOURCES */
#define EV_MODEL_WHATIF 2	/* = SAMPLER_MAX_WHATIF */
#define EV_DRIFT_KEYS 16	/* >= SYSCTL_COUNT */
#define EV_ASSIGNS 17		/* PERSIST_MAX_ASSIGN, and procps's line */
#define EV_POLICY_ALLOWED 16	/* = POLICY_MAX_ALLOWED */
#define REMEDY_MAX 24		/* per list; no rule emits more than 17 */

enum ev_kind {
	EV_KERNEL_RELEASE,	/* "kernel_release": text */
	EV_SYSCTL,		/* "sysctl": { name: ev_sysctl } */
	EV_COUNTER,		/* "counters": { name: ev_counter } */
	EV_PERSISTED,		/* "persisted": { name: ev_persisted } */
	EV_MODEL,		/* "model": the live estimate */
	EV_ASSIGNMENTS,		/* "assignments": [ev_assign] */
	EV_DRIFT,		/* "keys": [ev_drift_key] */
	EV_VIOLATION,		/* a policy_violation's own keys */
	EV_POLICY,		/* "policy": a built-in finding's policy note */
	EV_INT,			/* key: integer */
	EV_REAL,		/* key: real */
	EV_BOOL,		/* key: true/false */
	EV_TEXT,		/* key: collector text (made printable ASCII) */
};

enum ev_key_state { EVK_PRESENT, EVK_ABSENT, EVK_UNAVAILABLE };

/* A sysctl value: one integer (most keys) or up to three. */
struct ev_values {
	int n;
	int64_t v[EV_VALUES_MAX];
};

/* One runtime sysctl: {"state", "value" | "why", "assumed", "note"}. */
struct ev_sysctl {
	enum ev_key_state state;
	struct ev_values value;		/* state present */
	char why[EV_WHY_LEN + 1];	/* otherwise; "" omits it */
	bool has_assumed;		/* unreadable: what the rule assumed */
	int64_t assumed;
	const char *note;		/* static, with has_assumed */
};

/* A counter's 5 m (or --sample) rate. */
struct ev_rate {
	const char *window;		/* static: "5m", "sample" */
	bool evaluated;
	uint64_t delta;			/* evaluated: */
	double per_min, window_s;
	const char *note;		/* static, when not evaluated */
};

struct ev_counter {
	bool present;
	uint64_t total;			/* present: */
	struct ev_rate rate;
};

/* A persisted assignment: file, line, value as written. */
struct ev_assign {
	char file[EV_TEXT_LEN + 1];
	unsigned line;
	char value[EV_VALUE_LEN + 1];
};

/* What the next boot applies ("file": null when no file sets it), and
 * where `sysctl --system` ends when that differs. */
struct ev_persisted {
	bool set;
	struct ev_assign effective;
	bool has_procps;
	struct ev_assign procps;
};

struct ev_model_source {
	uint8_t family;			/* 4 or 6 */
	uint8_t addr[16];
	uint64_t estimated_hosts;
	const char *nat_class;		/* static */
	double confidence;
	uint64_t syns, predicted_rejections;
};

struct ev_model {
	char profile[16];
	double predicted_rejections_per_min;
	int sampling_ratio;
	uint64_t nat_sources_count, per_connection_sources;
	size_t nsources;
	struct ev_model_source source[EV_MODEL_SOURCES];
	size_t nwhatif;
	struct {
		char profile[16];
		int tcp_tw_recycle;
		double predicted_rejections_per_min;
	} whatif[EV_MODEL_WHATIF];
	bool has_agreement;		/* only when it is low */
	struct {
		double ratio;
		uint64_t kernel_peers, model_peers, matched_peers;
		const char *note;	/* static */
	} agreement;
};

struct ev_assignments {
	size_t n;
	struct ev_assign a[EV_ASSIGNS];
};

/* A key whose running value differs from the persisted one. */
struct ev_drift_key {
	const char *name;		/* static */
	struct ev_values runtime, persisted;
	char file[EV_TEXT_LEN + 1];
	unsigned line;
};

struct ev_drift {
	size_t n;
	struct ev_drift_key key[EV_DRIFT_KEYS];
};

/* A policy_violation: the key, the policy, what it expects, what is. */
struct ev_violation {
	const char *name;		/* static */
	char policy[EV_TEXT_LEN];	/* the policy file */
	size_t nallowed;
	struct ev_values allowed[EV_POLICY_ALLOWED];
	bool has_min, has_max;
	int64_t min, max;
	bool absent_ok;
	char expected_text[EV_TEXT_LEN];
	enum ev_key_state runtime_state;
	struct ev_values runtime;	/* runtime_state present */
	bool has_persisted;		/* else "persisted": null */
	struct ev_assign persisted;
	bool runtime_bad, persisted_bad;	/* "violates" */
	char reason[EV_TEXT_LEN];	/* "" omits it */
	char netns[EV_TEXT_LEN];	/* "" omits it */
};

/* A built-in finding's note that the policy also covers its key. */
struct ev_policy {
	char file[EV_TEXT_LEN];
	char expected[EV_TEXT_LEN];
	enum severity severity;
};

struct ev_part {
	enum ev_kind kind;
	const char *name;	/* static: sysctl, counter or key name */
	union {
		char text[EV_TEXT_LEN + 1];	/* EV_KERNEL_RELEASE, EV_TEXT */
		int64_t i;			/* EV_INT */
		double real;			/* EV_REAL */
		bool b;				/* EV_BOOL */
		struct ev_sysctl sysctl;
		struct ev_counter counter;
		struct ev_persisted persisted;
		struct ev_policy policy;
		/* Large parts live apart, owned by the part. */
		struct ev_model *model;
		struct ev_assignments *assignments;
		struct ev_drift *drift;
		struct ev_violation *violation;
	} u;
};

struct evidence {
	size_t n, cap;
	struct ev_part *part;		/* owned */
};

struct remedy_list {
	size_t n;
	char *item[REMEDY_MAX];		/* owned */
};

/* What to run now, what to change so it survives a reboot, and notes. */
struct remediation {
	struct remedy_list runtime, persist, caveats;
};

struct finding {
	const char *id;		/* static: "tw_recycle_nat_drops" */
	enum severity severity;
	const char *title;	/* static */
	char *explanation;	/* owned */
	struct evidence evidence;
	struct remediation remediation;
};

struct findings {
	size_t n;
	struct finding f[ADVICE_MAX_FINDINGS];
};

/*
 * A new zeroed part of KIND named NAME (static) at the end of EV; large
 * kinds get their zeroed body allocated. NULL when out of memory.
 */
struct ev_part *evidence_add(struct evidence *ev, enum ev_kind kind,
    const char *name);

/* The first part of KIND (and NAME, unless NULL) in EV, or NULL. */
const struct ev_part *evidence_find(const struct evidence *ev,
    enum ev_kind kind, const char *name);

/* Free what EV owns; leaves it empty. */
void evidence_free(struct evidence *ev);

/* Copy at most MAX bytes of SRC (NUL or not) into DST, NUL-terminated:
 * DST has room for MAX + 1. */
void ev_copy(char *dst, const char *src, size_t max);

/* Append TEXT to L, taking it (freed when L is full or TEXT is NULL). */
void remedy_add(struct remedy_list *l, char *text);

void remediation_free(struct remediation *r);

/* Release what the findings own; leaves OUT empty. */
void findings_clear(struct findings *out);

#endif
