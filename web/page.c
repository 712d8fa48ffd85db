/* A small server-rendered status page: status, findings, sources, links. */
#include "page.h"

#include <stdio.h>
#include <stdlib.h>

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

static void
json_list(FILE *f, json_t *rem, const char *key, const char *label)
{
	json_t *a = json_object_get(rem, key), *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return;
	fprintf(f, "<p>%s</p><ul>", label);
	json_array_foreach(a, i, v) {
		fputs("<li><code>", f);
		esc(f, json_string_value(v));
		fputs("</code></li>", f);
	}
	fputs("</ul>", f);
}

char *
page_render(const struct snapshot *s, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL)
		return NULL;
	fputs("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	    "<title>twaudit</title><style>"
	    ":root{color-scheme:light dark}body{font:15px/1.45 system-ui,sans-serif;"
	    "max-width:60rem;margin:1rem auto;padding:0 1rem}"
	    ".st{font-weight:700;padding:.2rem .6rem;border-radius:.3rem}"
	    ".ok{background:#2e7d32;color:#fff}.warning{background:#f9a825}"
	    ".critical{background:#c62828;color:#fff}.unknown,.info{background:#757575;color:#fff}"
	    "section{border:1px solid #8886;border-radius:.4rem;padding:.2rem 1rem;margin:.8rem 0}"
	    "code{word-break:break-all}</style></head><body>", f);
	fputs("<h1>twaudit</h1><p>Status: <span id=\"status\" class=\"st ", f);
	fprintf(f, "%s\">%s</span> host <b>", status_name[s->status],
	    status_name[s->status]);
	esc(f, s->host);
	fputs("</b> kernel <b>", f);
	esc(f, s->sysctl.osrelease);
	fputs("</b></p><p><a href=\"/metrics\">/metrics</a> · "
	    "<a href=\"/advice\">/advice</a> · <a href=\"/healthz\">/healthz</a></p>", f);
	if (s->findings.n == 0)
		fputs("<p>No findings.</p>", f);
	for (size_t i = 0; i < s->findings.n; i++) {
		const struct finding *fd = &s->findings.f[i];

		fprintf(f, "<section class=\"finding\"><h2><span class=\"st %s\">%s"
		    "</span> ", severity_name[fd->severity],
		    severity_name[fd->severity]);
		esc(f, fd->title);
		fputs("</h2><p>", f);
		esc(f, fd->explanation);
		fputs("</p>", f);
		json_list(f, fd->remediation, "runtime", "Run now:");
		json_list(f, fd->remediation, "persist", "Persist:");
		json_list(f, fd->remediation, "caveats", "Caveats:");
		fputs("</section>", f);
	}
	fputs("<h2>Sources</h2><ul>", f);
	for (int i = 0; i < SRC_COUNT; i++) {
		fprintf(f, "<li>%s: %s ", source_name[i],
		    source_state_name[s->source[i].state]);
		esc(f, s->source[i].error);
		fputs("</li>", f);
	}
	fputs("</ul></body></html>\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
