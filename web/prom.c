/* Prometheus text format 0.0.4: HELP and TYPE on every family. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "negotiate.h"
#include "render.h"
#include "snapshot.h"

/* Label values: escape backslash, double quote and newline. */
static void
put_label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/*
 * Exposition state: OpenMetrics names a counter family without "_total",
 * adds "# UNIT" where the name ends in a unit, and ends with "# EOF".
 */
struct expo {
	FILE *f;
	bool om;
};

static void
family(const struct expo *e, const char *name, const char *type,
    const char *help)
{
	size_t n = strlen(name);
	int base = (int)n;

	if (e->om && strcmp(type, "counter") == 0 && n > 6 &&
	    strcmp(name + n - 6, "_total") == 0)
		base -= 6;
	fprintf(e->f, "# HELP %.*s %s\n# TYPE %.*s %s\n", base, name, help,
	    base, name, type);
	if (e->om && n > 8 && strcmp(name + n - 8, "_seconds") == 0)
		fprintf(e->f, "# UNIT %s seconds\n", name);
}

static void
render_sources(const struct expo *e, const struct snapshot *s)
{
	FILE *f = e->f;
	family(e, "twaudit_collector_success", "gauge",
	    "1 unless the collector failed (state failed).");
	for (int i = 0; i < SRC_COUNT; i++)
		fprintf(f, "twaudit_collector_success{collector=\"%s\"} %d\n",
		    source_name[i], s->source[i].state != SOURCE_FAILED);
	family(e, "twaudit_collector_state", "gauge",
	    "1 for the current state of each collector.");
	for (int i = 0; i < SRC_COUNT; i++)
		for (int st = 0; st < SOURCE_NSTATES; st++)
			fprintf(f, "twaudit_collector_state{collector=\"%s\","
			    "state=\"%s\"} %d\n", source_name[i],
			    source_state_name[st], s->source[i].state == (enum source_state)st);
	family(e, "twaudit_collector_duration_seconds", "gauge",
	    "Time the collector took in the last collection.");
	for (int i = 0; i < SRC_COUNT; i++)
		fprintf(f, "twaudit_collector_duration_seconds{collector=\"%s\"} "
		    "%.6f\n", source_name[i], s->source[i].duration_s);
}

/* One sample of a possibly multi-valued sysctl (index label when > 1). */
static void
sysctl_sample(FILE *f, const char *metric, const char *name, int n,
    const int64_t *v)
{
	for (int i = 0; i < n; i++) {
		if (n > 1)
			fprintf(f, "%s{name=\"%s\",index=\"%d\"} %lld\n", metric,
			    name, i, (long long)v[i]);
		else
			fprintf(f, "%s{name=\"%s\"} %lld\n", metric, name,
			    (long long)v[i]);
	}
}

static bool
persisted_value(const struct snapshot *s, int i, struct sysctl_value *out)
{
	return persist_effective_value(&s->persist.key[i], out);
}

static void
render_sysctls(const struct expo *e, const struct snapshot *s)
{
	FILE *f = e->f;
	struct sysctl_value pv;

	family(e, "twaudit_sysctl", "gauge",
	    "Runtime value of a watched sysctl (absent keys are not emitted).");
	for (int i = 0; i < SYSCTL_COUNT; i++) {
		const struct sysctl_value *v = &s->sysctl.key[i];

		if (v->state == KEY_PRESENT)
			sysctl_sample(f, "twaudit_sysctl", sysctl_defs[i].name,
			    v->nvalues, v->v);
	}
	family(e, "twaudit_sysctl_present", "gauge",
	    "1 when the sysctl's runtime value was read.");
	for (int i = 0; i < SYSCTL_COUNT; i++)
		fprintf(f, "twaudit_sysctl_present{name=\"%s\"} %d\n",
		    sysctl_defs[i].name, s->sysctl.key[i].state == KEY_PRESENT);
	family(e, "twaudit_sysctl_persisted", "gauge",
	    "Value the sysctl.d files will apply at next boot.");
	for (int i = 0; i < SYSCTL_COUNT; i++)
		if (persisted_value(s, i, &pv))
			sysctl_sample(f, "twaudit_sysctl_persisted",
			    sysctl_defs[i].name, pv.nvalues, pv.v);
	family(e, "twaudit_sysctl_drift", "gauge",
	    "1 when the runtime value differs from the persisted one.");
	for (int i = 0; i < SYSCTL_COUNT; i++)
		if (s->sysctl.key[i].state == KEY_PRESENT &&
		    persisted_value(s, i, &pv))
			fprintf(f, "twaudit_sysctl_drift{name=\"%s\"} %d\n",
			    sysctl_defs[i].name,
			    !sysctl_value_equal(&s->sysctl.key[i], &pv));
}

static void
render_counters(const struct expo *e, const struct snapshot *s)
{
	FILE *f = e->f;
	char name[128], help[256];

	for (int i = 0; i < CTR_COUNT; i++) {
		const struct counter_def *d = &counter_defs[i];
		bool ext = strcmp(d->group, "TcpExt") == 0;

		if (!s->counters.present[i])
			continue;
		snprintf(name, sizeof(name), "twaudit_%s_%s%s",
		    ext ? "tcpext" : "tcp", d->metric, d->gauge ? "" : "_total");
		/* "<help without its final period> (TcpExt Name)." */
		snprintf(help, sizeof(help), "%.*s (%s %s).",
		    (int)strlen(d->help) - 1, d->help, d->group, d->kernel_name);
		family(e, name, d->gauge ? "gauge" : "counter", help);
		fprintf(f, "%s %llu\n", name,
		    (unsigned long long)s->counters.value[i]);
	}
	for (int i = 0; i < SS_COUNT; i++) {
		if (!s->sockstat.present[i])
			continue;
		snprintf(help, sizeof(help), "From /proc/net/sockstat%s.",
		    i == SS_TCP6_INUSE ? "6" : "");
		family(e, sockstat_metric[i], "gauge", help);
		fprintf(f, "%s %lld\n", sockstat_metric[i],
		    (long long)s->sockstat.v[i]);
	}
}

/* tcp_metrics' TW attributes exist on 3.7-4.11; emit the stamp count only there. */
static bool
tcpm_has_stamps(const struct snapshot *s)
{
	return s->tcpm.has_tw_attrs ||
	    (s->running_kv.code != 0 && s->running_kv.code < KV(4, 12, 0));
}

static void
render_netlink(const struct expo *e, const struct snapshot *s)
{
	FILE *f = e->f;

	if (s->source[SRC_SOCK_DIAG].state == SOURCE_OK) {
		const struct sock_diag_stats *d = &s->sockdiag;

		family(e, "twaudit_tcp_sockets", "gauge",
		    "TCP sockets per state (sock_diag, IPv4 and IPv6).");
		for (int st = 1; st < SD_NSTATES; st++)
			fprintf(f, "twaudit_tcp_sockets{state=\"%s\"} %llu\n",
			    sock_diag_state_name[st],
			    (unsigned long long)d->state[st]);
		if (sock_diag_has_ts_ratio(d)) {
			family(e, "twaudit_tcp_timestamps_negotiated_ratio",
			    "gauge", "Share of ESTABLISHED sockets that "
			    "negotiated TCP timestamps.");
			fprintf(f, "twaudit_tcp_timestamps_negotiated_ratio %.6f\n",
			    sock_diag_ts_ratio(d));
		}
		family(e, "twaudit_sock_diag_truncated", "gauge",
		    "1 when the socket dump stopped at its entry limit.");
		fprintf(f, "twaudit_sock_diag_truncated %d\n", d->truncated);
	}
	if (s->source[SRC_TCP_METRICS].state == SOURCE_OK) {
		family(e, "twaudit_tcp_metrics_peers", "gauge",
		    "Entries in the kernel's tcp_metrics peer table.");
		fprintf(f, "twaudit_tcp_metrics_peers %llu\n",
		    (unsigned long long)s->tcpm.peers);
		if (tcpm_has_stamps(s)) {
			family(e, "twaudit_tcp_metrics_recent_stamps", "gauge",
			    "Peers with a tw_recycle timestamp stamp younger "
			    "than 60 s (3.7-4.11).");
			fprintf(f, "twaudit_tcp_metrics_recent_stamps %llu\n",
			    (unsigned long long)s->tcpm.recent_stamps);
		}
		family(e, "twaudit_tcp_metrics_truncated", "gauge",
		    "1 when the tcp_metrics dump stopped at its entry limit.");
		fprintf(f, "twaudit_tcp_metrics_truncated %d\n",
		    s->tcpm.truncated);
	}
}

static void
render_audit(const struct expo *e, const struct snapshot *s)
{
	FILE *f = e->f;
	family(e, "twaudit_audit_status", "gauge",
	    "Audit status: 0 ok, 1 warning, 2 critical, 3 unknown.");
	fprintf(f, "twaudit_audit_status %d\n", (int)s->status);
	family(e, "twaudit_finding", "gauge", "1 for each active finding.");
	for (size_t i = 0; i < s->findings.n; i++)
		fprintf(f, "twaudit_finding{id=\"%s\",severity=\"%s\"} 1\n",
		    s->findings.f[i].id,
		    severity_name[s->findings.f[i].severity]);
}

char *
render_prom(const struct snapshot *s, enum expo_format fmt, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	struct expo ex = { f, fmt == EXPO_OPENMETRICS }, *e = &ex;

	if (f == NULL)
		return NULL;
	family(e, "twaudit_build_info", "gauge",
	    "Build and kernel version, always 1.");
	fprintf(f, "twaudit_build_info{version=\"%s\",kernel_release=\"",
	    TWAUDIT_VERSION);
	put_label_value(f, s->sysctl.osrelease);
	fputs("\"} 1\n", f);
	render_sources(e, s);
	render_sysctls(e, s);
	render_counters(e, s);
	render_netlink(e, s);
	render_audit(e, s);
	if (e->om)
		fputs("# EOF\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
