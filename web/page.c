/*
 * The page at "/". The server renders the status, the findings with their
 * commands, the sysctl table and the sources from the same /advice document
 * the script later fetches, so curl users and the first paint see real data;
 * web/assets/page.js then refreshes everything every few seconds and draws
 * the rate charts from /api/history. The script builds the same markup.
 */
#include "page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "render.h"
#include "snapshot.h"

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

/* A sysctl value: integer or array of integers, as "a b". */
static void
value_text(FILE *f, json_t *v)
{
	json_t *e;
	size_t i;

	if (json_is_integer(v)) {
		fprintf(f, "%lld", (long long)json_integer_value(v));
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (i > 0)
				fputc(' ', f);
			value_text(f, e);
		}
	} else {
		fputs("—", f);
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
		char *ev;

		fprintf(f, "<article class=\"finding sev-%s\"><header>"
		    "<span class=\"badge %s\">%s</span><h3 class=\"title\">",
		    jstr(fd, "severity"), jstr(fd, "severity"),
		    jstr(fd, "severity"));
		esc(f, jstr(fd, "title"));
		fputs("</h3><code class=\"fid\">", f);
		esc(f, jstr(fd, "id"));
		fputs("</code></header><p class=\"expl\">", f);
		esc(f, jstr(fd, "explanation"));
		fputs("</p>", f);
		string_list(f, rem, "runtime", "Run now", true);
		string_list(f, rem, "persist", "Make it persistent", false);
		ev = json_dumps(json_object_get(fd, "evidence"),
		    JSON_INDENT(2) | JSON_SORT_KEYS);
		if (ev != NULL) {
			fputs("<details class=\"evidence\"><summary>Evidence"
			    "</summary><pre>", f);
			esc(f, ev);
			fputs("</pre></details>", f);
			free(ev);
		}
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
page_render(const struct snapshot *s, size_t *len)
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
	esc(f, jstr(advice, "generated_at"));
	fputs("</span></div></div></header><main class=\"wrap\">", f);

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
	    "observed rejections</span></div><div id=\"model\">"
	    "<p class=\"empty\">The model is not running (it needs the live "
	    "sampler).</p></div></section>", f);

	fputs("<section class=\"panel\"><div class=\"ph\"><h2>Sources</h2>"
	    "</div><div id=\"sources\">", f);
	sources(f, advice);
	fputs("</div></section></main>", f);

	fputs("<footer class=\"wrap\"><a href=\"/metrics\">/metrics</a>"
	    "<a href=\"/advice\">/advice</a><a href=\"/api/history\">"
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
