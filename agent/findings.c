/* Findings as plain data: parts, lists and their release (findings.h). */
#include "agent/findings.h"

#include <stdlib.h>
#include <string.h>

const char *const severity_name[SEV_COUNT] = {
	"info", "warning", "critical", "unknown",
};

const char *const status_name[4] = {
	"ok", "warning", "critical", "unknown",
};

void
ev_copy(char *dst, const char *src, size_t max)
{
	size_t n = strnlen(src, max);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The body of a large kind, zeroed; -1 when out of memory. */
static int
part_body(struct ev_part *p)
{
	switch (p->kind) {
	case EV_MODEL:
		return (p->u.model = calloc(1, sizeof(*p->u.model))) ? 0 : -1;
	case EV_ASSIGNMENTS:
		return (p->u.assignments = calloc(1,
		    sizeof(*p->u.assignments))) ? 0 : -1;
	case EV_DRIFT:
		return (p->u.drift = calloc(1, sizeof(*p->u.drift))) ? 0 : -1;
	case EV_VIOLATION:
		return (p->u.violation = calloc(1,
		    sizeof(*p->u.violation))) ? 0 : -1;
	default:
		return 0;
	}
}

struct ev_part *
evidence_add(struct evidence *ev, enum ev_kind kind, const char *name)
{
	struct ev_part *p;

	if (ev->n == ev->cap) {
		size_t cap = ev->cap ? ev->cap * 2 : 8;

		p = realloc(ev->part, cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		ev->part = p;
		ev->cap = cap;
	}
	p = &ev->part[ev->n];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->name = name;
	if (part_body(p) < 0)
		return NULL;
	ev->n++;
	return p;
}

const struct ev_part *
evidence_find(const struct evidence *ev, enum ev_kind kind, const char *name)
{
	for (size_t i = 0; i < ev->n; i++) {
		const struct ev_part *p = &ev->part[i];

		if (p->kind == kind && (name == NULL ||
		    (p->name != NULL && strcmp(p->name, name) == 0)))
			return p;
	}
	return NULL;
}

void
evidence_free(struct evidence *ev)
{
	for (size_t i = 0; i < ev->n; i++) {
		struct ev_part *p = &ev->part[i];

		switch (p->kind) {
		case EV_MODEL:
			free(p->u.model);
			break;
		case EV_ASSIGNMENTS:
			free(p->u.assignments);
			break;
		case EV_DRIFT:
			free(p->u.drift);
			break;
		case EV_VIOLATION:
			free(p->u.violation);
			break;
		default:
			break;
		}
	}
	free(ev->part);
	memset(ev, 0, sizeof(*ev));
}

void
remedy_add(struct remedy_list *l, char *text)
{
	if (text == NULL || l->n >= REMEDY_MAX) {
		free(text);
		return;
	}
	l->item[l->n++] = text;
}

static void
list_free(struct remedy_list *l)
{
	for (size_t i = 0; i < l->n && i < REMEDY_MAX; i++)
		free(l->item[i]);
	memset(l, 0, sizeof(*l));
}

void
remediation_free(struct remediation *r)
{
	list_free(&r->runtime);
	list_free(&r->persist);
	list_free(&r->caveats);
}

void
findings_clear(struct findings *out)
{
	size_t n = out->n < ADVICE_MAX_FINDINGS ? out->n : ADVICE_MAX_FINDINGS;

	for (size_t i = 0; i < n; i++) {
		struct finding *f = &out->f[i];

		free(f->explanation);
		evidence_free(&f->evidence);
		remediation_free(&f->remediation);
		memset(f, 0, sizeof(*f));
	}
	out->n = 0;
}
