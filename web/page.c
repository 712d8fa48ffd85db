/*
 * The page at "/". The server renders the status, the findings with their
 * commands, the sysctl table and the sources from the same /advice document
 * the script later fetches, so curl users and the first paint see real data;
 * web/assets/page.js then refreshes everything every few seconds and draws
 * the rate charts from /api/history. The script builds the same markup.
 */
#include "web/page.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "web/render.h"
#include "agent/snapshot.h"
#include "lib/util.h"

static void
esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* JSON inside <script type="application/json">: no "<" may appear raw. */
static void
json_in_script(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '<')
			fputs("\\u003c", f);
		else
			fputc(*s, f);
	}
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

void
page_format_figure(double v, char *out, size_t outlen)
{
	int e, decimals;
	char *dot, *end;

	if (!isfinite(v)) {
		snprintf(out, outlen, "—");
		return;
	}
	if (v == 0) {
		snprintf(out, outlen, "0");
		return;
	}
	/* Decimal exponent of |v|, then keep 3 significant digits. */
	e = (int)floor(log10(fabs(v)));
	decimals = 2 - e;
	if (decimals > 0) {
		snprintf(out, outlen, "%.*f", decimals > 15 ? 15 : decimals, v);
		/* 12.50 -> 12.5, 3.00 -> 3: no zeros that are not significant. */
		if ((dot = strchr(out, '.')) != NULL) {
			end = out + strlen(out);
			while (end > dot && (end[-1] == '0' || end[-1] == '.'))
				*--end = '\0';
		}
	} else {
		double unit = pow(10, -decimals);

		snprintf(out, outlen, "%.0f", round(v / unit) * unit);
	}
	if (strcmp(out, "-0") == 0)
		snprintf(out, outlen, "0");
}

/* A JSON key as a label: "per_min" -> "per min", escaped. */
static void
key_label(FILE *f, const char *k)
{
	char one[2] = { 0, 0 };

	for (; *k; k++) {
		one[0] = *k == '_' ? ' ' : *k;
		esc(f, one);
	}
}

/* A JSON scalar as the page shows it: reals rounded, integers exact. */
static void
scalar_text(FILE *f, json_t *v)
{
	char num[64];

	if (json_is_string(v))
		esc(f, json_string_value(v));
	else if (json_is_integer(v))
		fprintf(f, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v)) {
		page_format_figure(json_real_value(v), num, sizeof(num));
		fputs(num, f);
	} else if (json_is_true(v))
		fputs("true", f);
	else if (json_is_false(v))
		fputs("false", f);
	else
		fputs("—", f);
}

/* A sysctl value: a scalar, or an array of them as "a b". */
static void
value_text(FILE *f, json_t *v)
{
	json_t *e;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (i > 0)
				fputc(' ', f);
			value_text(f, e);
		}
	} else {
		scalar_text(f, v);
	}
}

static void
string_list(FILE *f, json_t *rem, const char *key, const char *label,
    bool commands)
{
	json_t *a = json_object_get(rem, key), *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return;
	if (strcmp(key, "caveats") == 0) {
		fprintf(f, "<details class=\"caveats\"><summary>%s (%zu)</summary>"
		    "<ul>", label, json_array_size(a));
		json_array_foreach(a, i, v) {
			fputs("<li>", f);
			esc(f, json_string_value(v));
			fputs("</li>", f);
		}
		fputs("</ul></details>", f);
		return;
	}
	fprintf(f, "<div class=\"block\"><h4>%s</h4>", label);
	if (commands) {
		fputs("<div class=\"cmd\"><pre><code>", f);
		json_array_foreach(a, i, v) {
			if (i > 0)
				fputc('\n', f);
			esc(f, json_string_value(v));
		}
		fputs("</code></pre></div>", f);
	} else {
		fputs("<ul class=\"persist\">", f);
		json_array_foreach(a, i, v) {
			fputs("<li>", f);
			esc(f, json_string_value(v));
			fputs("</li>", f);
		}
		fputs("</ul>", f);
	}
	fputs("</div>", f);
}

/*
 * Evidence as "label: value" rows, the shapes of docs/findings.md made
 * readable; page.js's evidenceRows() builds the same rows.
 */
#define EV_MAX_DEPTH 4

static void
ev_row_open(FILE *f, const char *label)
{
	fputs("<dt>", f);
	esc(f, label);
	fputs("</dt><dd>", f);
}

static bool
is_scalar(json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

/* An object whose members are all scalars (or null). */
static bool
is_flat(json_t *v)
{
	const char *k;
	json_t *m;

	if (!json_is_object(v))
		return false;
	json_object_foreach(v, k, m)
		if (!is_scalar(m))
			return false;
	return true;
}

static void
rate_text(FILE *f, json_t *r)
{
	char num[64];

	if (!json_is_true(json_object_get(r, "evaluated"))) {
		fputs("rate not evaluated yet", f);
		return;
	}
	page_format_figure(json_number_value(json_object_get(r, "per_min")),
	    num, sizeof(num));
	fprintf(f, "%s/min over ", num);
	esc(f, jstr(r, "window"));
}

/* One row per item of an array of flat objects: {name, ...}, {file, line}. */
static void
ev_flat_items(FILE *f, const char *path, json_t *a)
{
	char label[320];
	const char *k;
	json_t *x, *m;
	size_t i;

	json_array_foreach(a, i, x) {
		json_t *name = json_object_get(x, "name");
		bool named = name != NULL && !json_is_null(name), first = true;

		if (named)
			snprintf(label, sizeof(label), "%s", json_is_string(name) ?
			    json_string_value(name) : "?");
		else if (json_object_get(x, "file") != NULL)
			snprintf(label, sizeof(label), "%s:%lld", jstr(x, "file"),
			    (long long)json_integer_value(json_object_get(x,
			    "line")));
		else
			snprintf(label, sizeof(label), "%s [%zu]", path, i + 1);
		ev_row_open(f, label);
		json_object_foreach(x, k, m) {
			if (strcmp(k, "name") == 0 || strcmp(k, "line") == 0 ||
			    (!named && strcmp(k, "file") == 0))
				continue;
			fputs(first ? "" : " · ", f);
			first = false;
			if (strcmp(k, "file") == 0) {
				esc(f, jstr(x, "file"));
				fprintf(f, ":%lld", (long long)json_integer_value(
				    json_object_get(x, "line")));
				continue;
			}
			key_label(f, k);
			fputc(' ', f);
			scalar_text(f, m);
		}
		fputs("</dd>", f);
	}
}

/* A known leaf shape as one row; false when V is none of them. */
static bool
ev_shape(FILE *f, const char *path, json_t *v)
{
	json_t *state = json_object_get(v, "state");
	json_t *present = json_object_get(v, "present");

	if (json_is_string(state) && json_object_size(v) <= 4 &&
	    (json_object_get(v, "value") || json_object_get(v, "why"))) {
		ev_row_open(f, path);
		if (strcmp(json_string_value(state), "present") == 0) {
			value_text(f, json_object_get(v, "value"));
			if (json_object_get(v, "assumed") != NULL)
				fputs(" (assumed)", f);
		} else {
			esc(f, json_string_value(state));
			if (json_is_string(json_object_get(v, "why"))) {
				fputs(": ", f);
				esc(f, jstr(v, "why"));
			}
		}
	} else if (json_is_boolean(present) && (json_is_false(present) ||
	    json_object_get(v, "total") != NULL)) {
		ev_row_open(f, path);
		if (json_is_false(present)) {
			fputs("not present", f);
		} else {
			fputs("total ", f);
			scalar_text(f, json_object_get(v, "total"));
			if (json_is_object(json_object_get(v, "rate"))) {
				fputs(" · ", f);
				rate_text(f, json_object_get(v, "rate"));
			}
		}
	} else if (json_object_get(v, "file") && json_object_get(v, "line") &&
	    json_object_get(v, "value") &&
	    is_scalar(json_object_get(v, "value"))) {
		ev_row_open(f, path);
		if (json_is_null(json_object_get(v, "file"))) {
			fputs("no file sets it", f);
		} else {
			fputc('\'', f);
			scalar_text(f, json_object_get(v, "value"));
			fputs("' at ", f);
			esc(f, jstr(v, "file"));
			fprintf(f, ":%lld", (long long)json_integer_value(
			    json_object_get(v, "line")));
		}
	} else {
		return false;
	}
	fputs("</dd>", f);
	return true;
}

static void
ev_walk(FILE *f, const char *path, json_t *v, int depth)
{
	char sub[320];
	const char *k;
	json_t *x;
	size_t i;
	bool scalars = true, flat = true;

	if (is_scalar(v)) {
		ev_row_open(f, path);
		scalar_text(f, v);
		fputs("</dd>", f);
		return;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			scalars = scalars && is_scalar(x);
			flat = flat && is_flat(x);
		}
		if (scalars) {
			ev_row_open(f, path);
			json_array_foreach(v, i, x) {
				fputs(i > 0 ? ", " : "", f);
				scalar_text(f, x);
			}
			fputs(json_array_size(v) == 0 ? "none</dd>" : "</dd>", f);
		} else if (flat) {
			ev_flat_items(f, path, v);
		} else {
			json_array_foreach(v, i, x) {
				snprintf(sub, sizeof(sub), "%s [%zu]", path, i + 1);
				ev_walk(f, sub, x, depth + 1);
			}
		}
		return;
	}
	if (depth > 0 && ev_shape(f, path, v))
		return;
	if (depth > EV_MAX_DEPTH) {
		char *txt = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS |
		    JSON_REAL_PRECISION(3));

		ev_row_open(f, path);
		esc(f, txt);
		fputs("</dd>", f);
		free(txt);
		return;
	}
	json_object_foreach(v, k, x) {
		if (depth == 0)
			snprintf(sub, sizeof(sub), "%s", k);
		else
			snprintf(sub, sizeof(sub), "%s › %s", path, k);
		ev_walk(f, sub, x, depth + 1);
	}
}

/* Evidence, collapsed: the rows are there for whoever opens it. */
static void
evidence(FILE *f, json_t *ev)
{
	if (!json_is_object(ev) || json_object_size(ev) == 0)
		return;
	fputs("<details class=\"evidence\"><summary>Evidence</summary>"
	    "<dl class=\"ev\">", f);
	ev_walk(f, "", ev, 0);
	fputs("</dl></details>", f);
}

static void
findings(FILE *f, json_t *advice)
{
	json_t *a = json_object_get(advice, "findings"), *fd;
	size_t i;

	if (json_array_size(a) == 0) {
		fputs("<p class=\"empty\">No findings: nothing on this host makes "
		    "SYNs vanish.</p>", f);
		return;
	}
	json_array_foreach(a, i, fd) {
		json_t *rem = json_object_get(fd, "remediation");

		fprintf(f, "<article class=\"finding sev-%s\" id=\"f-",
		    jstr(fd, "severity"));
		esc(f, jstr(fd, "id"));
		fprintf(f, "\"><header><span class=\"badge %s\">%s</span>"
		    "<h3 class=\"title\">", jstr(fd, "severity"),
		    jstr(fd, "severity"));
		esc(f, jstr(fd, "title"));
		fputs("</h3><code class=\"fid\">", f);
		esc(f, jstr(fd, "id"));
		fputs("</code></header><p class=\"expl\">", f);
		esc(f, jstr(fd, "explanation"));
		fputs("</p>", f);
		string_list(f, rem, "runtime", "Run now", true);
		string_list(f, rem, "persist", "Make it persistent", false);
		evidence(f, json_object_get(fd, "evidence"));
		string_list(f, rem, "caveats", "Caveats", false);
		fputs("</article>", f);
	}
}

/* Names listed by the sysctl_drift finding: the authoritative drift set. */
static bool
drifting(json_t *advice, const char *name)
{
	json_t *a = json_object_get(advice, "findings"), *fd, *k;
	size_t i, j;

	json_array_foreach(a, i, fd) {
		if (strcmp(jstr(fd, "id"), "sysctl_drift") != 0)
			continue;
		json_array_foreach(json_object_get(json_object_get(fd,
		    "evidence"), "keys"), j, k)
			if (strcmp(jstr(k, "name"), name) == 0)
				return true;
	}
	return false;
}

static void
sysctls(FILE *f, json_t *advice)
{
	json_t *keys = json_object_get(json_object_get(json_object_get(advice,
	    "sources"), "sysctl"), "keys"), *k;
	const char *name;

	if (json_object_size(keys) == 0) {
		fputs("<p class=\"empty\">The sysctl source has no keys.</p>", f);
		return;
	}
	fputs("<div class=\"scroll\"><table class=\"sysctls\"><thead><tr>"
	    "<th>Key</th><th>Running</th><th>Persisted (next boot)</th>"
	    "<th>State</th></tr></thead><tbody>", f);
	json_object_foreach(keys, name, k) {
		json_t *p = json_object_get(k, "persisted");
		const char *state = jstr(k, "state");

		fputs("<tr><td><code>", f);
		esc(f, name);
		fputs("</code></td><td class=\"num\">", f);
		if (strcmp(state, "present") == 0)
			value_text(f, json_object_get(k, "value"));
		else
			esc(f, state);
		fputs("</td><td>", f);
		if (json_is_object(p)) {
			fputs("<span class=\"num\">", f);
			esc(f, jstr(p, "value"));
			fputs("</span> <span class=\"where\">", f);
			esc(f, jstr(p, "file"));
			fprintf(f, ":%lld</span>",
			    (long long)json_integer_value(json_object_get(p, "line")));
		} else {
			fputs("<span class=\"muted\">kernel default</span>", f);
		}
		fputs("</td><td>", f);
		if (drifting(advice, name))
			fputs("<span class=\"pill drift\">drift</span>", f);
		else if (strcmp(state, "present") != 0) {
			fputs("<span class=\"pill off\">", f);
			esc(f, state);
			fputs("</span>", f);
		} else if (json_is_object(p))
			fputs("<span class=\"pill same\">in sync</span>", f);
		else
			fputs("<span class=\"pill off\">not persisted</span>", f);
		fputs("</td></tr>", f);
	}
	fputs("</tbody></table></div>", f);
}

static void
sources(FILE *f, json_t *advice)
{
	json_t *src = json_object_get(advice, "sources"), *v;
	const char *name;

	fputs("<ul class=\"sources\">", f);
	json_object_foreach(src, name, v) {
		fprintf(f, "<li><span class=\"dot %s\"></span><b>",
		    jstr(v, "state"));
		esc(f, name);
		fputs("</b> <span class=\"muted\">", f);
		esc(f, jstr(v, "state"));
		fputs("</span>", f);
		if (json_is_string(json_object_get(v, "error"))) {
			fputs(" <span class=\"err\">", f);
			esc(f, jstr(v, "error"));
			fputs("</span>", f);
		}
		fputs("</li>", f);
	}
	fputs("</ul>", f);
}

static void
kpi(FILE *f, const char *id, const char *value, const char *label)
{
	fprintf(f, "<div class=\"kpi\"><div class=\"v\"%s%s%s>", id ? " id=\"" : "",
	    id ? id : "", id ? "\"" : "");
	esc(f, value);
	fprintf(f, "</div><div class=\"k\">%s</div></div>", label);
}

/* The NAT sources at risk: columns from the first rows' keys, as page.js. */
#define NAT_MAX_ROWS 25
#define NAT_MAX_COLS 8

static void
nat_table(FILE *f, json_t *srcs)
{
	const char *cols[NAT_MAX_COLS], *k;
	size_t ncols = 0, i, c;
	json_t *r, *v;

	json_array_foreach(srcs, i, r) {
		if (i >= NAT_MAX_ROWS)
			break;
		json_object_foreach(r, k, v) {
			for (c = 0; c < ncols && strcmp(cols[c], k) != 0; c++)
				;
			if (c == ncols && ncols < NAT_MAX_COLS)
				cols[ncols++] = k;
		}
	}
	if (json_array_size(srcs) == 0 || ncols == 0) {
		fputs("<p class=\"empty\">No NAT source at risk.</p>", f);
		return;
	}
	fputs("<div class=\"scroll\"><table class=\"nat\"><thead><tr>", f);
	for (c = 0; c < ncols; c++) {
		fputs("<th>", f);
		key_label(f, cols[c]);
		fputs("</th>", f);
	}
	fputs("</tr></thead><tbody>", f);
	json_array_foreach(srcs, i, r) {
		if (i >= NAT_MAX_ROWS)
			break;
		fputs("<tr>", f);
		for (c = 0; c < ncols; c++) {
			fputs("<td class=\"num\">", f);
			scalar_text(f, json_object_get(r, cols[c]));
			fputs("</td>", f);
		}
		fputs("</tr>", f);
	}
	fputs("</tbody></table></div>", f);
}

/*
 * The live model's figures when it runs; otherwise what the sampler
 * source says (disabled, unavailable and why), never a guess.
 */
static void
model(FILE *f, json_t *advice)
{
	json_t *m = json_object_get(advice, "model");
	json_t *smp = json_object_get(json_object_get(advice, "sources"),
	    "sampler");
	char num[64], txt[64];

	if (!json_is_object(m)) {
		const char *st = jstr(smp, "state");

		fputs("<p class=\"empty\" id=\"model-state\">", f);
		if (strcmp(st, "ok") == 0)
			fputs("The live sampler runs; the model has no estimate "
			    "yet.", f);
		else {
			fputs("The model is not running: the live sampler is ", f);
			esc(f, *st ? st : "not reported");
			if (json_is_string(json_object_get(smp, "error"))) {
				fputs(" — ", f);
				esc(f, jstr(smp, "error"));
			}
			fputs(". With it (--sampler.enabled), this shows the NAT "
			    "sources at risk and the rejections it predicts.", f);
		}
		fputs("</p>", f);
		return;
	}
	fputs("<div class=\"kpis\">", f);
	page_format_figure(json_number_value(json_object_get(m,
	    "predicted_rejections_per_min")), num, sizeof(num));
	kpi(f, "model-predicted", num, "predicted rejections / min");
	snprintf(txt, sizeof(txt), "1:%lld", (long long)json_integer_value(
	    json_object_get(m, "sampling_ratio")));
	kpi(f, NULL, txt, "SYN sampling ratio");
	snprintf(txt, sizeof(txt), "%zu", json_array_size(json_object_get(m,
	    "nat_sources")));
	kpi(f, NULL, txt, "NAT sources at risk");
	fputs("</div>", f);
	nat_table(f, json_object_get(m, "nat_sources"));
}

/* "2026-05-04 03:36:13 UTC": the snapshot's time, its zone named. */
static void
time_utc(FILE *f, double wall)
{
	char iso[32], human[32];
	time_t t = (time_t)wall;
	struct tm tm;

	format_rfc3339(wall, iso, sizeof(iso));
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(human, sizeof(human), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(human, sizeof(human), "%s", iso);
	fputs("<time datetime=\"", f);
	esc(f, iso);
	fputs("\">", f);
	esc(f, human);
	fputs("</time>", f);
}

static void
summary(FILE *f, json_t *advice)
{
	json_t *a = json_object_get(advice, "findings"), *fd;
	unsigned n[4] = { 0 };
	static const char *const sev[] = { "critical", "warning", "info",
	    "unknown" };
	size_t i;

	json_array_foreach(a, i, fd)
		for (int j = 0; j < 4; j++)
			if (strcmp(jstr(fd, "severity"), sev[j]) == 0)
				n[j]++;
	fprintf(f, "%zu finding%s", json_array_size(a),
	    json_array_size(a) == 1 ? "" : "s");
	for (int j = 0; j < 4; j++)
		if (n[j] > 0)
			fprintf(f, " · %u %s", n[j], sev[j]);
}

char *
page_render(const struct snapshot *s, const char *telemetry_path,
    size_t *len)
{
	json_t *advice = render_advice(s);
	const char *status;
	char *buf = NULL, *doc;
	FILE *f;

	if (advice == NULL)
		return NULL;
	if ((f = open_memstream(&buf, len)) == NULL) {
		json_decref(advice);
		return NULL;
	}
	status = status_name[s->status];
	fputs("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,"
	    "initial-scale=1\"><meta name=\"color-scheme\" "
	    "content=\"light dark\"><title>", f);
	fprintf(f, "%s · ", status);
	esc(f, s->host);
	fputs(" · twaudit</title><style>", f);
	fwrite(page_css, 1, page_css_len, f);
	fputs("</style></head><body>", f);

	fputs("<header class=\"top\"><div class=\"wrap bar\">"
	    "<div class=\"brand\"><span class=\"logo\" aria-hidden=\"true\">"
	    "</span>twaudit<span class=\"tag\">TIME-WAIT &amp; PAWS audit"
	    "</span></div><div class=\"meta\"><span>host <b id=\"host\">", f);
	esc(f, s->host);
	fputs("</b></span><span>kernel <b id=\"kernel\">", f);
	esc(f, jstr(advice, "kernel_release"));
	fputs("</b></span><span id=\"updated\" class=\"muted\">generated ", f);
	time_utc(f, s->wall);
	fputs("</span></div></div></header><main class=\"wrap\">"
	    "<noscript><p class=\"note\">Without JavaScript this page shows "
	    "the state at the time above: reload it for a newer one.</p>"
	    "</noscript>", f);

	fprintf(f, "<section class=\"hero st-%s\" id=\"hero\"><div>"
	    "<div class=\"label\">Audit status</div>"
	    "<span id=\"status\" class=\"badge big %s\">%s</span></div>"
	    "<div class=\"hero-r\"><div id=\"summary\">", status, status, status);
	summary(f, advice);
	fputs("</div><div id=\"conn\" class=\"muted small\"></div></div>"
	    "</section>", f);

	fputs("<section class=\"panel\"><div class=\"ph\"><h2>Rejections and "
	    "drops</h2><span class=\"muted small\" id=\"range\">per minute, "
	    "last hour</span></div><div class=\"charts\" id=\"charts\">"
	    "<p class=\"muted\">Charts need JavaScript; the data is at "
	    "<a href=\"/api/history\">/api/history</a>.</p></div></section>", f);

	fputs("<section class=\"panel\"><div class=\"ph\"><h2>Findings</h2>"
	    "</div><div id=\"findings\">", f);
	findings(f, advice);
	fputs("</div></section>", f);

	fputs("<section class=\"panel\"><div class=\"ph\"><h2>Key sysctls</h2>"
	    "<span class=\"muted small\">running value against what the next "
	    "boot applies</span></div><div id=\"sysctls\">", f);
	sysctls(f, advice);
	fputs("</div></section>", f);

	fputs("<section class=\"panel\"><div class=\"ph\"><h2>Peer model</h2>"
	    "<span class=\"muted small\">NAT sources at risk, predicted against "
	    "observed rejections · all of it at <a href=\"/model\">/model</a>"
	    "</span></div><div id=\"model\">", f);
	model(f, advice);
	fputs("</div></section>", f);

	fputs("<section class=\"panel\"><div class=\"ph\"><h2>Sources</h2>"
	    "</div><div id=\"sources\">", f);
	sources(f, advice);
	fputs("</div></section></main>", f);

	fputs("<footer class=\"wrap\"><a href=\"", f);
	esc(f, telemetry_path);
	fputs("\">", f);
	esc(f, telemetry_path);
	fputs("</a><a href=\"/advice\">/advice</a><a href=\"/model\">/model</a>"
	    "<a href=\"/api/history\">"
	    "/api/history</a><a href=\"/healthz\">/healthz</a>"
	    "<span class=\"muted\">twaudit " TWAUDIT_VERSION "</span>"
	    "</footer>", f);

	doc = json_dumps(advice, JSON_COMPACT);
	fputs("<script type=\"application/json\" id=\"initial-advice\">", f);
	json_in_script(f, doc);
	free(doc);
	fputs("</script><script>", f);
	fwrite(page_js, 1, page_js_len, f);
	fputs("</script></body></html>\n", f);
	json_decref(advice);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
