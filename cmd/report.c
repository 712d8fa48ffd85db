/*
 * `twaudit report FILE...`: a fleet summary of many hosts' `check
 * --format=json` documents (docs/schema/report.schema.json).
 *
 * Input: each FILE (or "-", or stdin without FILEs) holds one or more
 * documents, one per file as a configuration-management tool gathers
 * them, or JSONL / concatenated documents. A fleet is large (100 000
 * hosts, a few KiB each), so documents are not parsed into trees: a
 * small scanner walks each one, keeps the few fields the summary needs
 * and skips the rest (validating its structure). A document that is not
 * a check document is counted as bad and skipped, never fatal.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/advice.h"
#include "lib/cli.h"
#include "cmd/commands.h"
#include "cmd/flags.h"
#include "lib/util.h"

#define R_HOST_LEN 256
#define R_KERNEL_LEN 128
#define R_ID_LEN 64
#define R_MAX_IDS 32		/* distinct finding ids kept per host */
#define R_MAX_ERRORS 20		/* bad inputs listed by name */
#define R_MAX_DEPTH 64

static const char report_desc[] =
    "Summarise many hosts' `twaudit check --format=json` outputs: hosts per\n"
    "status, per kernel release and per finding, and the hosts at risk,\n"
    "sorted by the model's predicted rejections per minute (when live mode\n"
    "filled it), then by status. FILEs hold one document each, or JSONL /\n"
    "concatenated documents; '-' or no FILE reads stdin. Unreadable files\n"
    "and documents that are not check output are counted, not fatal.\n"
    "Exit 0, 1 on a usage error, 2 when no document could be read.";

/* ---------------------------------------------------------------------
 * The scanner.
 */

struct cur {
	const char *p, *end;
	int depth;
};

static void
ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' ||
	    *c->p == '\t' || *c->p == '\r'))
		c->p++;
}

static bool
eat(struct cur *c, char ch)
{
	ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return true;
	}
	return false;
}

/* A string into OUT (may be NULL: skipped); \u escapes become '?'. */
static int
str(struct cur *c, char *out, size_t cap)
{
	size_t n = 0;

	ws(c);
	if (c->p >= c->end || *c->p != '"')
		return -1;
	c->p++;
	while (c->p < c->end) {
		char ch = *c->p++;

		if (ch == '"') {
			if (out != NULL)
				out[n < cap ? n : cap - 1] = '\0';
			return 0;
		}
		if ((unsigned char)ch < 0x20)
			return -1;
		if (ch == '\\') {
			if (c->p >= c->end)
				return -1;
			ch = *c->p++;
			switch (ch) {
			case 'n': ch = '\n'; break;
			case 't': ch = '\t'; break;
			case 'r': ch = '\r'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case '"': case '\\': case '/': break;
			case 'u':
				if (c->end - c->p < 4)
					return -1;
				c->p += 4;
				ch = '?';
				break;
			default:
				return -1;
			}
		}
		if (out != NULL && n + 1 < cap)
			out[n++] = ch;
	}
	return -1;
}

static int skip(struct cur *c);

/* Walk an object: FN(key) consumes the value, or it is skipped. */
typedef int (*member_fn)(struct cur *c, const char *key, void *arg);

static int
object(struct cur *c, member_fn fn, void *arg)
{
	char key[64];

	if (!eat(c, '{') || ++c->depth > R_MAX_DEPTH)
		return -1;
	if (eat(c, '}')) {
		c->depth--;
		return 0;
	}
	do {
		int rc;

		if (str(c, key, sizeof(key)) < 0 || !eat(c, ':'))
			return -1;
		rc = fn != NULL ? fn(c, key, arg) : 1;
		if (rc < 0 || (rc > 0 && skip(c) < 0))
			return -1;
	} while (eat(c, ','));
	if (!eat(c, '}'))
		return -1;
	c->depth--;
	return 0;
}

/* Walk an array: FN consumes each element. */
static int
array(struct cur *c, int (*fn)(struct cur *, void *), void *arg)
{
	if (!eat(c, '[') || ++c->depth > R_MAX_DEPTH)
		return -1;
	if (eat(c, ']')) {
		c->depth--;
		return 0;
	}
	do {
		if ((fn != NULL ? fn(c, arg) : skip(c)) < 0)
			return -1;
	} while (eat(c, ','));
	if (!eat(c, ']'))
		return -1;
	c->depth--;
	return 0;
}

static int
number(struct cur *c, double *out)
{
	char buf[64], *end;
	size_t n = 0;

	ws(c);
	while (c->p < c->end && n + 1 < sizeof(buf) &&
	    strchr("+-0123456789.eE", *c->p) != NULL && *c->p != '\0')
		buf[n++] = *c->p++;
	buf[n] = '\0';
	if (n == 0)
		return -1;
	errno = 0;
	*out = strtod(buf, &end);
	return *end == '\0' && errno == 0 ? 0 : -1;
}

static int
skip_el(struct cur *c, void *arg)
{
	(void)arg;
	return skip(c);
}

static int
skip(struct cur *c)
{
	double d;

	ws(c);
	if (c->p >= c->end)
		return -1;
	switch (*c->p) {
	case '{':
		return object(c, NULL, NULL);
	case '[':
		return array(c, skip_el, NULL);
	case '"':
		return str(c, NULL, 0);
	case 't':
	case 'f':
	case 'n': {
		static const char *const lit[] = { "true", "false", "null" };

		for (int i = 0; i < 3; i++) {
			size_t l = strlen(lit[i]);

			if ((size_t)(c->end - c->p) >= l &&
			    memcmp(c->p, lit[i], l) == 0) {
				c->p += l;
				return 0;
			}
		}
		return -1;
	}
	default:
		return number(c, &d);
	}
}

/* ---------------------------------------------------------------------
 * One host document.
 */

struct hostdoc {
	char host[R_HOST_LEN];
	char kernel[R_KERNEL_LEN];
	char status[16];
	bool has_host, has_status, has_findings;
	double predicted;		/* NAN when the document has no model */
	size_t nids;
	char ids[R_MAX_IDS][R_ID_LEN];
	enum severity idsev[R_MAX_IDS];
	size_t namespaces;
	char id[R_ID_LEN], sev[16];	/* scratch for one finding */
};

static int
sev_parse(const char *s)
{
	for (int i = 0; i < SEV_COUNT; i++)
		if (strcmp(s, severity_name[i]) == 0)
			return i;
	return -1;
}

static int
finding_member(struct cur *c, const char *key, void *arg)
{
	struct hostdoc *h = arg;

	if (strcmp(key, "id") == 0)
		return str(c, h->id, sizeof(h->id));
	if (strcmp(key, "severity") == 0)
		return str(c, h->sev, sizeof(h->sev));
	return 1;
}

static int
finding(struct cur *c, void *arg)
{
	struct hostdoc *h = arg;
	int sev;

	h->id[0] = h->sev[0] = '\0';
	if (object(c, finding_member, h) < 0 || h->id[0] == '\0')
		return -1;
	sev = sev_parse(h->sev);
	for (size_t i = 0; i < h->nids; i++)
		if (strcmp(h->ids[i], h->id) == 0) {
			if (sev > (int)h->idsev[i] && sev != SEV_UNKNOWN)
				h->idsev[i] = (enum severity)sev;
			return 0;
		}
	if (h->nids < R_MAX_IDS) {
		memcpy(h->ids[h->nids], h->id, sizeof(h->id));
		h->idsev[h->nids++] = sev < 0 ? SEV_UNKNOWN : (enum severity)sev;
	}
	return 0;
}

static int
model_member(struct cur *c, const char *key, void *arg)
{
	struct hostdoc *h = arg;

	if (strcmp(key, "predicted_rejections_per_min") == 0) {
		ws(c);
		if (c->p < c->end && *c->p == 'n')
			return 1;	/* null */
		return number(c, &h->predicted);
	}
	return 1;
}

static int
ns_member(struct cur *c, const char *key, void *arg)
{
	if (strcmp(key, "findings") == 0)
		return array(c, finding, arg);
	return 1;
}

static int
ns_entry(struct cur *c, void *arg)
{
	struct hostdoc *h = arg;

	h->namespaces++;
	return object(c, ns_member, arg);
}

static int
doc_member(struct cur *c, const char *key, void *arg)
{
	struct hostdoc *h = arg;

	if (strcmp(key, "host") == 0) {
		h->has_host = true;
		return str(c, h->host, sizeof(h->host));
	}
	if (strcmp(key, "kernel_release") == 0)
		return str(c, h->kernel, sizeof(h->kernel));
	if (strcmp(key, "status") == 0) {
		h->has_status = true;
		return str(c, h->status, sizeof(h->status));
	}
	if (strcmp(key, "findings") == 0) {
		h->has_findings = true;
		return array(c, finding, h);
	}
	if (strcmp(key, "model") == 0) {
		ws(c);
		if (c->p < c->end && *c->p == 'n')
			return 1;
		return object(c, model_member, h);
	}
	if (strcmp(key, "namespaces") == 0)
		return array(c, ns_entry, h);
	return 1;
}

/* ---------------------------------------------------------------------
 * Tallies: a small string -> counts hash table.
 */

struct tally {
	char *key;
	uint64_t hosts;
	uint64_t by[SEV_COUNT];	/* findings: hosts per worst severity */
};

struct table {
	size_t n, cap;
	struct tally *t;
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct tally *
table_get(struct table *tb, const char *key)
{
	size_t i;

	if (tb->n * 2 >= tb->cap) {
		size_t cap = tb->cap ? tb->cap * 2 : 64;
		struct tally *t = calloc(cap, sizeof(*t));

		if (t == NULL)
			return NULL;
		for (size_t k = 0; k < tb->cap; k++) {
			if (tb->t[k].key == NULL)
				continue;
			for (i = hash(tb->t[k].key) & (cap - 1); t[i].key;
			    i = (i + 1) & (cap - 1))
				;
			t[i] = tb->t[k];
		}
		free(tb->t);
		tb->t = t;
		tb->cap = cap;
	}
	for (i = hash(key) & (tb->cap - 1); tb->t[i].key != NULL;
	    i = (i + 1) & (tb->cap - 1))
		if (strcmp(tb->t[i].key, key) == 0)
			return &tb->t[i];
	if ((tb->t[i].key = strdup(key)) == NULL)
		return NULL;
	tb->n++;
	return &tb->t[i];
}

static void
table_free(struct table *tb)
{
	for (size_t i = 0; i < tb->cap; i++)
		free(tb->t[i].key);
	free(tb->t);
}

static int
cmp_tally(const void *a, const void *b)
{
	const struct tally *x = *(const struct tally *const *)a;
	const struct tally *y = *(const struct tally *const *)b;

	if (x->hosts != y->hosts)
		return x->hosts < y->hosts ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* Entries sorted by hosts (descending), then key. Caller frees. */
static struct tally **
table_sorted(const struct table *tb)
{
	struct tally **v = calloc(tb->n + 1, sizeof(*v));
	size_t n = 0;

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < tb->cap; i++)
		if (tb->t[i].key != NULL)
			v[n++] = &tb->t[i];
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_tally);
	return v;
}

struct risk {
	char *host, *kernel, *findings;	/* findings: "a,b,c" */
	int status;
	double predicted;		/* NAN: none */
};

struct fleet {
	uint64_t files, unreadable, docs, bad, namespaces;
	uint64_t status[4];
	struct table kernels, findings;
	size_t nrisk, caprisk;
	struct risk *risk;
	size_t nerr;
	char errors[R_MAX_ERRORS][300];
};

static int
status_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, status_name[i]) == 0)
			return i;
	return -1;
}

static void
note_error(struct fleet *f, const char *src, const char *fmt, const char *what)
{
	if (f->nerr < R_MAX_ERRORS)
		snprintf(f->errors[f->nerr++], sizeof(f->errors[0]), "%s: %s%s",
		    src, fmt, what);
}

static void
add_host(struct fleet *f, const struct hostdoc *h, int st)
{
	struct tally *t;

	f->docs++;
	f->status[st]++;
	f->namespaces += h->namespaces;
	if ((t = table_get(&f->kernels, h->kernel[0] ? h->kernel : "unknown")))
		t->hosts++;
	for (size_t i = 0; i < h->nids; i++)
		if ((t = table_get(&f->findings, h->ids[i])) != NULL) {
			t->hosts++;
			t->by[h->idsev[i]]++;
		}
	if (st == STATUS_OK && !(h->predicted > 0))
		return;
	if (f->nrisk == f->caprisk) {
		size_t cap = f->caprisk ? f->caprisk * 2 : 256;
		struct risk *r = realloc(f->risk, cap * sizeof(*r));

		if (r == NULL)
			return;
		f->risk = r;
		f->caprisk = cap;
	}
	{
		struct risk *r = &f->risk[f->nrisk];
		size_t len = 1;
		char *p;

		for (size_t i = 0; i < h->nids; i++)
			len += strlen(h->ids[i]) + 1;
		r->findings = p = malloc(len);
		r->host = strdup(h->host);
		r->kernel = strdup(h->kernel);
		if (p == NULL || r->host == NULL || r->kernel == NULL) {
			free(r->findings);
			free(r->host);
			free(r->kernel);
			return;
		}
		*p = '\0';
		for (size_t i = 0; i < h->nids; i++)
			p += sprintf(p, "%s%s", i ? "," : "", h->ids[i]);
		r->status = st;
		r->predicted = h->predicted;
		f->nrisk++;
	}
}

/* Every document in BUF (SRC names it in errors). */
static void
scan_buffer(struct fleet *f, const char *buf, size_t len, const char *src)
{
	struct cur c = { buf, buf + len, 0 };
	static struct hostdoc h;	/* ~3 KiB, reused */
	uint64_t ndoc = 0;

	for (;;) {
		const char *start;
		int st = -1;

		ws(&c);
		if (c.p >= c.end)
			break;
		start = c.p;
		memset(&h, 0, offsetof(struct hostdoc, id));
		h.predicted = NAN;
		c.depth = 0;
		ndoc++;
		if (object(&c, doc_member, &h) < 0) {
			f->bad++;
			note_error(f, src, "not JSON, or truncated: document ",
			    ndoc == 1 ? "1" : "after the first");
			/* Resynchronise at the next line (JSONL). */
			c.p = start;
			while (c.p < c.end && *c.p != '\n')
				c.p++;
			continue;
		}
		if (!h.has_host || !h.has_status || !h.has_findings ||
		    (st = status_parse(h.status)) < 0) {
			f->bad++;
			note_error(f, src, "not a twaudit check document ",
			    "(host, status or findings missing)");
			continue;
		}
		add_host(f, &h, st);
	}
	if (ndoc == 0) {
		f->bad++;
		note_error(f, src, "empty", "");
	}
}

static void
scan_file(struct fleet *f, const char *path)
{
	FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	f->files++;
	if (in == NULL) {
		f->unreadable++;
		note_error(f, path, "", strerror(errno));
		return;
	}
	for (;;) {
		size_t n;

		if (cap - len < 65536) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 65536 + 1);

			if (nb == NULL)
				break;
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, in);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(in)) {
		f->unreadable++;
		note_error(f, path, "", strerror(errno ? errno : EIO));
	} else {
		scan_buffer(f, buf ? buf : "", len, strcmp(path, "-") == 0 ?
		    "stdin" : path);
	}
	if (in != stdin)
		fclose(in);
	free(buf);
}

/* ---------------------------------------------------------------------
 * Output.
 */

static int
status_rank(int st)
{
	static const int rank[4] = { 0, 2, 3, 1 };	/* ok unknown warning critical */

	return rank[st];
}

static int
cmp_risk(const void *a, const void *b)
{
	const struct risk *x = a, *y = b;
	double px = isnan(x->predicted) ? -1 : x->predicted;
	double py = isnan(y->predicted) ? -1 : y->predicted;

	if (px != py)
		return px < py ? 1 : -1;
	if (status_rank(x->status) != status_rank(y->status))
		return status_rank(x->status) < status_rank(y->status) ? 1 : -1;
	return strcmp(x->host, y->host);
}

static json_t *
report_json(const struct fleet *f, struct tally **k, struct tally **fd,
    size_t top)
{
	json_t *o = json_object(), *st = json_object(), *ka = json_array(),
	    *fa = json_array(), *ra = json_array(), *ea = json_array(), *in;
	char when[32];

	format_rfc3339(now_wall(), when, sizeof(when));
	json_object_set_new(o, "generated_at", json_string(when));
	in = json_pack("{s:I, s:I, s:I, s:I}", "files", (json_int_t)f->files,
	    "unreadable_files", (json_int_t)f->unreadable,
	    "documents", (json_int_t)(f->docs + f->bad),
	    "bad_documents", (json_int_t)f->bad);
	for (size_t i = 0; i < f->nerr; i++)
		json_array_append_new(ea, json_string(f->errors[i]));
	json_object_set_new(in, "errors", ea);
	json_object_set_new(o, "inputs", in);
	json_object_set_new(o, "hosts", json_integer((json_int_t)f->docs));
	json_object_set_new(o, "namespaces",
	    json_integer((json_int_t)f->namespaces));
	for (int i = 0; i < 4; i++)
		json_object_set_new(st, status_name[i],
		    json_integer((json_int_t)f->status[i]));
	json_object_set_new(o, "status", st);
	for (size_t i = 0; k[i] != NULL; i++)
		json_array_append_new(ka, json_pack("{s:s, s:I}",
		    "kernel_release", k[i]->key, "hosts",
		    (json_int_t)k[i]->hosts));
	json_object_set_new(o, "kernels", ka);
	for (size_t i = 0; fd[i] != NULL; i++) {
		json_t *by = json_object();

		for (int s = 0; s < SEV_COUNT; s++)
			json_object_set_new(by, severity_name[s],
			    json_integer((json_int_t)fd[i]->by[s]));
		json_array_append_new(fa, json_pack("{s:s, s:I, s:o}", "id",
		    fd[i]->key, "hosts", (json_int_t)fd[i]->hosts,
		    "by_severity", by));
	}
	json_object_set_new(o, "findings", fa);
	json_object_set_new(o, "hosts_at_risk",
	    json_integer((json_int_t)f->nrisk));
	for (size_t i = 0; i < f->nrisk && (top == 0 || i < top); i++) {
		const struct risk *r = &f->risk[i];
		json_t *ids = json_array();
		const char *p = r->findings;

		while (*p) {
			size_t n = strcspn(p, ",");

			json_array_append_new(ids, json_stringn(p, n));
			p += n + (p[n] == ',');
		}
		json_array_append_new(ra, json_pack("{s:s, s:s, s:s, s:o, s:o}",
		    "host", r->host, "status", status_name[r->status],
		    "kernel_release", r->kernel,
		    "predicted_rejections_per_min", isnan(r->predicted) ?
		    json_null() : json_real(r->predicted), "findings", ids));
	}
	json_object_set_new(o, "at_risk", ra);
	return o;
}

/* CSV field: quoted when it holds a comma, quote or newline. */
static void
csv(FILE *out, const char *s)
{
	if (strpbrk(s, ",\"\n\r") == NULL) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void
report_csv(FILE *out, const struct fleet *f, struct tally **k,
    struct tally **fd, size_t top)
{
	fputs("section,name,hosts,status,kernel_release,"
	    "predicted_rejections_per_min,findings\n", out);
	for (int i = 0; i < 4; i++)
		fprintf(out, "status,%s,%llu,,,,\n", status_name[i],
		    (unsigned long long)f->status[i]);
	for (size_t i = 0; k[i] != NULL; i++) {
		fputs("kernel,", out);
		csv(out, k[i]->key);
		fprintf(out, ",%llu,,,,\n", (unsigned long long)k[i]->hosts);
	}
	for (size_t i = 0; fd[i] != NULL; i++) {
		fputs("finding,", out);
		csv(out, fd[i]->key);
		fprintf(out, ",%llu,,,,\n", (unsigned long long)fd[i]->hosts);
	}
	for (size_t i = 0; i < f->nrisk && (top == 0 || i < top); i++) {
		const struct risk *r = &f->risk[i];

		fputs("at_risk,", out);
		csv(out, r->host);
		fprintf(out, ",1,%s,", status_name[r->status]);
		csv(out, r->kernel);
		if (isnan(r->predicted))
			fputc(',', out);
		else
			fprintf(out, ",%.3f", r->predicted);
		fputc(',', out);
		csv(out, r->findings);
		fputc('\n', out);
	}
}

static void
report_text(FILE *out, const struct fleet *f, struct tally **k,
    struct tally **fd, size_t top)
{
	fprintf(out, "TWAUDIT FLEET - %llu host%s (%llu critical, %llu warning, "
	    "%llu unknown, %llu ok), %llu namespace%s\n",
	    (unsigned long long)f->docs, f->docs == 1 ? "" : "s",
	    (unsigned long long)f->status[STATUS_CRITICAL],
	    (unsigned long long)f->status[STATUS_WARNING],
	    (unsigned long long)f->status[STATUS_UNKNOWN],
	    (unsigned long long)f->status[STATUS_OK],
	    (unsigned long long)f->namespaces, f->namespaces == 1 ? "" : "s");
	fprintf(out, "inputs: %llu file%s, %llu unreadable, %llu bad "
	    "document%s\n", (unsigned long long)f->files,
	    f->files == 1 ? "" : "s", (unsigned long long)f->unreadable,
	    (unsigned long long)f->bad, f->bad == 1 ? "" : "s");
	for (size_t i = 0; i < f->nerr; i++)
		fprintf(out, "  %s\n", f->errors[i]);
	fprintf(out, "\nkernels:\n");
	for (size_t i = 0; k[i] != NULL; i++)
		fprintf(out, "  %8llu  %s\n", (unsigned long long)k[i]->hosts,
		    k[i]->key);
	fprintf(out, "\nfindings (hosts):\n");
	for (size_t i = 0; fd[i] != NULL; i++)
		fprintf(out, "  %8llu  %s\n", (unsigned long long)fd[i]->hosts,
		    fd[i]->key);
	fprintf(out, "\nhosts at risk: %zu%s\n", f->nrisk, top && f->nrisk > top ?
	    " (first ones below; --top=0 lists all)" : "");
	for (size_t i = 0; i < f->nrisk && (top == 0 || i < top); i++) {
		const struct risk *r = &f->risk[i];
		char pred[32] = "-";

		if (!isnan(r->predicted))
			snprintf(pred, sizeof(pred), "%.1f/min", r->predicted);
		fprintf(out, "  %-9s %10s  %s  %s  %s\n",
		    status_name[r->status], pred, r->host, r->kernel,
		    r->findings);
	}
}

int
cmd_report(int argc, char **argv)
{
	static const struct cmd_conv conv = { "report", EXIT_USAGE,
	    EXIT_INPUT };
	struct common_opts common = COMMON_OPTS_DEFAULT;
	const char *format = "text";
	unsigned long top = 20;
	const struct cli_flag flags[] = {
		{ "format", CLI_STRING, &format, "text|json|csv",
		    "output format", "text" },
		{ "top", CLI_UINT, &top, "N",
		    "hosts at risk to list (0: all)", "20" },
		COMMON_FLAGS(common),
		{ 0 }
	};
	static struct fleet f;
	char **flagv = NULL, **files = NULL;
	int nflag = 0, nfiles = 0;
	struct tally **k = NULL, **fd = NULL;
	int rc, status = 0;

	/*
	 * A fleet is more FILEs than cli_parse's positional list holds: flags
	 * (with the value of "--flag VALUE") go to cli_parse, the rest are files.
	 */
	flagv = calloc((size_t)argc + 1, sizeof(*flagv));
	files = calloc((size_t)argc + 1, sizeof(*files));
	if (flagv == NULL || files == NULL) {
		free(flagv);
		free(files);
		fprintf(stderr, "twaudit report: out of memory\n");
		return EXIT_INPUT;
	}
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (++i < argc)
				files[nfiles++] = argv[i];
			break;
		}
		if (strncmp(argv[i], "--", 2) == 0 || strcmp(argv[i], "-h") == 0) {
			flagv[nflag++] = argv[i];
			if (strchr(argv[i], '=') == NULL && i + 1 < argc &&
			    (strcmp(argv[i], "--format") == 0 ||
			    strcmp(argv[i], "--top") == 0 ||
			    strcmp(argv[i], "--log.level") == 0 ||
			    strcmp(argv[i], "--log.format") == 0))
				flagv[nflag++] = argv[++i];
		} else {
			files[nfiles++] = argv[i];
		}
	}
	rc = flags_parse(&conv, flags, nflag, flagv, NULL, "[flags] [FILE...|-]",
	    report_desc, &common);
	free(flagv);
	if (rc >= 0) {
		free(files);
		return rc;
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 &&
	    strcmp(format, "csv") != 0) {
		fprintf(stderr, "twaudit report: --format: '%s' is not one of "
		    "text, json, csv\n", format);
		free(files);
		return EXIT_USAGE;
	}
	memset(&f, 0, sizeof(f));
	if (nfiles == 0)
		scan_file(&f, "-");
	for (int i = 0; i < nfiles; i++)
		scan_file(&f, files[i]);
	free(files);
	if (f.docs == 0) {
		fprintf(stderr, "twaudit report: no readable check document "
		    "(%llu file%s, %llu unreadable, %llu bad)\n",
		    (unsigned long long)f.files, f.files == 1 ? "" : "s",
		    (unsigned long long)f.unreadable,
		    (unsigned long long)f.bad);
		for (size_t i = 0; i < f.nerr; i++)
			fprintf(stderr, "  %s\n", f.errors[i]);
		status = EXIT_INPUT;
		goto out;
	}
	/* f.risk is NULL when no host is at risk: qsort needs an array. */
	if (f.nrisk > 1)
		qsort(f.risk, f.nrisk, sizeof(*f.risk), cmp_risk);
	k = table_sorted(&f.kernels);
	fd = table_sorted(&f.findings);
	if (k == NULL || fd == NULL) {
		fprintf(stderr, "twaudit report: out of memory\n");
		status = EXIT_INPUT;
		goto out;
	}
	if (strcmp(format, "json") == 0) {
		json_t *j = report_json(&f, k, fd, top);
		char *t = j ? json_dumps(j, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER) : NULL;

		if (t != NULL)
			printf("%s\n", t);
		else
			status = EXIT_INPUT;
		free(t);
		json_decref(j);
	} else if (strcmp(format, "csv") == 0) {
		report_csv(stdout, &f, k, fd, top);
	} else {
		report_text(stdout, &f, k, fd, top);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "twaudit report: cannot write to stdout: %s\n",
		    strerror(errno));
		status = EXIT_INPUT;
	}
out:
	free(k);
	free(fd);
	table_free(&f.kernels);
	table_free(&f.findings);
	for (size_t i = 0; i < f.nrisk; i++) {
		free(f.risk[i].host);
		free(f.risk[i].kernel);
		free(f.risk[i].findings);
	}
	free(f.risk);
	return status;
}
