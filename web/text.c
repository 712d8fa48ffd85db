/* `check --format=text`: a terminal-friendly report, status line first. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/page.h"
#include "web/render.h"
#include "agent/snapshot.h"
#include "lib/util.h"

/*
 * Text from the audited tree (host name, kernel release, errors naming its
 * paths, namespace labels, evidence) goes to a terminal: escaped, so that
 * it cannot carry escape sequences (util.h text_escape).
 */
static const char *
esc(const char *in, char *buf, size_t len)
{
	text_escape(in, buf, len);
	return buf;
}

#define ESC_LEN 1024

static void
upper(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i]; i++)
		dst[i] = (char)toupper((unsigned char)src[i]);
	dst[i] = '\0';
}

/* Print TEXT wrapped at about 76 columns, each line indented by INDENT. */
static void
wrap(FILE *f, const char *text, int indent)
{
	int col = 0;

	while (*text) {
		size_t w = strcspn(text, " \n");

		if (col > 0 && col + 1 + (int)w > 76) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0) {
			fprintf(f, "%*s", indent, "");
			col = indent;
		} else {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", (int)w, text);
		col += (int)w;
		text += w;
		while (*text == ' ' || *text == '\n')
			text++;
	}
	if (col > 0)
		fputc('\n', f);
}

/*
 * One evidence value as text: figures rounded to 3 significant digits as
 * the page shows them (page_format_figure), inside arrays and objects too.
 */
static char *
text_value(const json_t *v)
{
	char num[64];

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_real(v)) {
		page_format_figure(json_real_value(v), num, sizeof(num));
		return strdup(num);
	}
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(3));
}

static void
print_evidence(FILE *f, const struct finding *fd)
{
	json_t *ev = render_evidence(fd), *v;
	const char *key;

	if (!json_is_object(ev) || json_object_size(ev) == 0) {
		json_decref(ev);
		return;
	}
	fprintf(f, "  evidence:\n");
	json_object_foreach(ev, key, v) {
		char *t = text_value(v);

		char e1[ESC_LEN], e2[ESC_LEN];

		fprintf(f, "    %s: %s\n", esc(key, e1, sizeof(e1)),
		    t ? esc(t, e2, sizeof(e2)) : "?");
		free(t);
	}
	json_decref(ev);
}

static void
print_list(FILE *f, const struct remedy_list *l, const char *label,
    const char *bullet)
{
	if (l->n == 0)
		return;
	fprintf(f, "  %s:\n", label);
	for (size_t i = 0; i < l->n && i < REMEDY_MAX; i++) {
		char e[ESC_LEN];

		fprintf(f, "    %s%s\n", bullet, esc(l->item[i], e, sizeof(e)));
	}
}

/* --netns: one block per namespace, its findings in short. */
static void
render_text_netns(FILE *f, const struct snapshot *s)
{
	char st[16], sev[16], e[ESC_LEN];

	if (!s->netns_mode)
		return;
	upper(st, status_name[s->host_status], sizeof(st));
	fprintf(f, "\nnetwork namespaces: %zu audited besides the host's "
	    "own (host alone: %s)\n", s->nns, st);
	for (size_t i = 0; i < s->nns; i++) {
		const struct snapshot *n = s->ns[i];

		upper(st, status_name[n->status], sizeof(st));
		fprintf(f, "\nnetns %s: %s - %zu finding%s\n",
		    esc(n->netns, e, sizeof(e)), st,
		    n->findings.n, n->findings.n == 1 ? "" : "s");
		if (n->netns_unaudited)
			fprintf(f, "  not audited: %s\n",
			    esc(n->source[SRC_SYSCTL].error, e, sizeof(e)));
		for (size_t k = 0; k < n->findings.n; k++) {
			const struct finding *fd = &n->findings.f[k];

			upper(sev, severity_name[fd->severity], sizeof(sev));
			fprintf(f, "  [%s] %s: %s\n", sev, fd->id, fd->title);
			if (fd->explanation)
				wrap(f, fd->explanation, 4);
		}
	}
}

/* One perfdata counter: VALUE "c", or "U" when the kernel lacks it. */
static void
perf_counter(FILE *f, const char *label, const struct counter_set *c, int id)
{
	if (c->present[id])
		fprintf(f, " %s=%lluc", label, (unsigned long long)c->value[id]);
	else
		fprintf(f, " %s=U", label);
}

/*
 * The plugin's perfdata (monitoring-plugins guidelines): findings per
 * severity, the PAWS counters the rules read (PAWSTimewait where the kernel
 * splits it out of PAWSEstab) and the TIME-WAIT sockets now.
 */
static void
print_perfdata(FILE *f, const struct snapshot *s, const int *count)
{
	const struct counter_set *c = &s->counters;

	fprintf(f, " | critical=%d warning=%d unknown=%d info=%d",
	    count[SEV_CRITICAL], count[SEV_WARNING], count[SEV_UNKNOWN],
	    count[SEV_INFO]);
	perf_counter(f, "PAWSPassive", c, CTR_PAWS_PASSIVE);
	if (!c->present[CTR_PAWS_TIMEWAIT] && c->present[CTR_PAWS_ESTAB])
		perf_counter(f, "PAWSEstab", c, CTR_PAWS_ESTAB);
	else
		perf_counter(f, "PAWSTimewait", c, CTR_PAWS_TIMEWAIT);
	if (s->sockstat.present[SS_TCP_TW])
		fprintf(f, " timewait_sockets=%lld;;;0",
		    (long long)s->sockstat.v[SS_TCP_TW]);
	else
		fprintf(f, " timewait_sockets=U");
}

/* '|' starts the perfdata: one in the summary (a host name) is escaped. */
static const char *
esc_pipe(const char *in, char *buf, size_t len)
{
	char tmp[ESC_LEN];
	size_t o = 0;

	text_escape(in, tmp, sizeof(tmp));
	for (const char *p = tmp; *p && o + 5 < len; p++) {
		if (*p == '|') {
			memcpy(buf + o, "\\x7c", 4);
			o += 4;
		} else {
			buf[o++] = *p;
		}
	}
	buf[o] = '\0';
	return buf;
}

char *
render_text(const struct snapshot *s, size_t *len)
{
	char *buf = NULL, st[16], sev[16], host[ESC_LEN], kernel[ESC_LEN];
	FILE *f = open_memstream(&buf, len);
	int count[SEV_COUNT] = { 0 };

	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < s->findings.n; i++)
		count[s->findings.f[i].severity]++;
	upper(st, status_name[s->status], sizeof(st));
	fprintf(f, "TWAUDIT %s - ", st);
	/* check says UNKNOWN without the runtime settings: say why first. */
	if (s->status == STATUS_UNKNOWN &&
	    s->source[SRC_SYSCTL].state == SOURCE_DISABLED)
		fprintf(f, "sysctl collector disabled, settings not judged; ");
	fprintf(f, "%zu finding%s (%d critical, %d warning, "
	    "%d unknown, %d info) host=%s kernel=%s", s->findings.n,
	    s->findings.n == 1 ? "" : "s", count[SEV_CRITICAL],
	    count[SEV_WARNING], count[SEV_UNKNOWN], count[SEV_INFO],
	    esc_pipe(s->host, host, sizeof(host)), s->sysctl.osrelease[0] ?
	    esc_pipe(s->sysctl.osrelease, kernel, sizeof(kernel)) : "unknown");
	print_perfdata(f, s, count);
	fputc('\n', f);
	for (size_t i = 0; i < s->findings.n; i++) {
		const struct finding *fd = &s->findings.f[i];

		upper(sev, severity_name[fd->severity], sizeof(sev));
		fprintf(f, "\n[%s] %s: %s\n", sev, fd->id, fd->title);
		if (fd->explanation)
			wrap(f, fd->explanation, 2);
		print_evidence(f, fd);
		print_list(f, &fd->remediation.runtime, "run now", "# ");
		print_list(f, &fd->remediation.persist, "persist", "");
		print_list(f, &fd->remediation.caveats, "caveats", "- ");
	}
	fprintf(f, "\nsources:");
	for (int i = 0; i < SRC_COUNT; i++) {
		fprintf(f, " %s=%s", source_name[i],
		    source_state_name[s->source[i].state]);
	}
	fputc('\n', f);
	for (int i = 0; i < SRC_COUNT; i++)
		if (s->source[i].error[0])
			fprintf(f, "  %s: %s\n", source_name[i],
			    esc(s->source[i].error, host, sizeof(host)));
	render_text_netns(f, s);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
