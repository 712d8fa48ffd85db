/* Prometheus text format 0.0.4: HELP and TYPE on every family. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "web/negotiate.h"
#include "web/render.h"
#include "agent/snapshot.h"
#include "lib/util.h"

/* Length of the well-formed UTF-8 character at P, 0 if there is none. */
static size_t
utf8_char(const unsigned char *p)
{
	size_t len = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 :
	    p[0] >= 0xe0 && p[0] <= 0xef ? 3 : p[0] >= 0xf0 && p[0] <= 0xf4 ?
	    4 : 0;
	uint32_t cp = p[0] & (0x7f >> len);

	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * Label values: escape backslash, double quote and newline. They come from
 * untrusted trees (kernel release, namespace names) and Prometheus refuses
 * a whole scrape over one value that is not UTF-8: a byte that starts no
 * well-formed character becomes U+FFFD.
 */
static void
put_label_value(FILE *f, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;

	while (*p) {
		size_t n = *p < 0x80 ? 1 : utf8_char(p);

		if (*p == '\\' || *p == '"')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (n == 0)
			fputs("\xef\xbf\xbd", f);
		else
			fwrite(p, 1, n, f);
		p += n ? n : 1;
	}
}

/*
 * Exposition state: OpenMetrics names a counter family without "_total",
 * adds "# UNIT" where the name ends in a unit, and ends with "# EOF".
 */
struct expo {
	FILE *f;
	bool om;
	/*
	 * The snapshots to expose: the host's own first, then with --netns
	 * each namespace's, whose series carry netns="LABEL": lab[i] is
	 * 'netns="LABEL",' for inside braces, bare[i] '{netns="LABEL"}' for
	 * a sample that has no other label ("" and "" for the host).
	 */
	size_t n;
	const struct snapshot **snap;
	char **lab, **bare;
};

#define FOR_SNAP(e, i, s) \
	for (size_t i = 0; i < (e)->n && ((s) = (e)->snap[i], 1); i++)

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
	/* The family's name (a counter's without _total) names the unit. */
	if (e->om && base > 8 && strncmp(name + base - 8, "_seconds", 8) == 0)
		fprintf(e->f, "# UNIT %.*s seconds\n", base, name);
}

static void
render_sources(const struct expo *e)
{
	FILE *f = e->f;
	const struct snapshot *s;

	family(e, "twaudit_collector_success", "gauge",
	    "1 unless the collector failed (state failed).");
	FOR_SNAP(e, k, s)
		for (int i = 0; i < SRC_COUNT; i++)
			fprintf(f, "twaudit_collector_success{%scollector=\"%s\"} "
			    "%d\n", e->lab[k], source_name[i],
			    s->source[i].state != SOURCE_FAILED);
	family(e, "twaudit_collector_state", "gauge",
	    "1 for the current state of each collector.");
	FOR_SNAP(e, k, s)
		for (int i = 0; i < SRC_COUNT; i++)
			for (int st = 0; st < SOURCE_NSTATES; st++)
				fprintf(f, "twaudit_collector_state{%scollector="
				    "\"%s\",state=\"%s\"} %d\n", e->lab[k],
				    source_name[i], source_state_name[st],
				    s->source[i].state == (enum source_state)st);
	family(e, "twaudit_collector_duration_seconds", "gauge",
	    "Time the collector took in the last collection.");
	FOR_SNAP(e, k, s)
		for (int i = 0; i < SRC_COUNT; i++)
			fprintf(f, "twaudit_collector_duration_seconds{%scollector="
			    "\"%s\"} %.6f\n", e->lab[k], source_name[i],
			    s->source[i].duration_s);
}

/*
 * How old the data is (the host's sources): the snapshot's age when this
 * body was rendered (bodies are cached per snapshot, so scrapes sharing a
 * snapshot see the age of its first rendering), and each source's last
 * successful read (0: never).
 */
static void
render_staleness(const struct expo *e, const struct snapshot *s)
{
	int64_t at = atomic_load(&s->first_render_us);
	double age = (at > 0 ? (double)at / 1e6 : now_wall()) - s->wall;

	family(e, "twaudit_snapshot_age_seconds", "gauge",
	    "Age of the collected data when this response was rendered.");
	fprintf(e->f, "twaudit_snapshot_age_seconds %.3f\n", age > 0 ? age : 0);
	family(e, "twaudit_collector_last_success_timestamp_seconds", "gauge",
	    "When each collector last succeeded, Unix time (0: never).");
	for (int i = 0; i < SRC_COUNT; i++)
		fprintf(e->f, "twaudit_collector_last_success_timestamp_seconds"
		    "{collector=\"%s\"} %.3f\n", source_name[i],
		    s->last_success[i]);
}

/* One sample of a possibly multi-valued sysctl (index label when > 1). */
static void
sysctl_sample(FILE *f, const char *metric, const char *lab, const char *name,
    int n, const int64_t *v)
{
	for (int i = 0; i < n; i++) {
		if (n > 1)
			fprintf(f, "%s{%sname=\"%s\",index=\"%d\"} %lld\n",
			    metric, lab, name, i, (long long)v[i]);
		else
			fprintf(f, "%s{%sname=\"%s\"} %lld\n", metric, lab, name,
			    (long long)v[i]);
	}
}

static void
render_sysctls(const struct expo *e, const struct snapshot *s)
{
	FILE *f = e->f;
	const struct snapshot *ns;

	family(e, "twaudit_sysctl", "gauge",
	    "Runtime value of a watched sysctl (absent keys are not emitted).");
	FOR_SNAP(e, k, ns)
		for (int i = 0; i < SYSCTL_COUNT; i++) {
			const struct sysctl_value *v = &ns->sysctl.key[i];

			if (v->state == KEY_PRESENT)
				sysctl_sample(f, "twaudit_sysctl", e->lab[k],
				    sysctl_defs[i].name, v->nvalues, v->v);
		}
	family(e, "twaudit_sysctl_present", "gauge",
	    "1 when the sysctl's runtime value was read.");
	FOR_SNAP(e, k, ns)
		for (int i = 0; i < SYSCTL_COUNT; i++)
			fprintf(f, "twaudit_sysctl_present{%sname=\"%s\"} %d\n",
			    e->lab[k], sysctl_defs[i].name,
			    ns->sysctl.key[i].state == KEY_PRESENT);
	/* Persisted settings belong to the host's namespace only. */
	family(e, "twaudit_sysctl_persisted", "gauge",
	    "Value the sysctl.d files will apply at next boot.");
	for (int i = 0; i < SYSCTL_COUNT; i++)
		if (s->view.persisted_ok[i])
			sysctl_sample(f, "twaudit_sysctl_persisted", "",
			    sysctl_defs[i].name, s->view.persisted[i].nvalues,
			    s->view.persisted[i].v);
	family(e, "twaudit_sysctl_drift", "gauge",
	    "1 when the runtime value differs from the persisted one.");
	for (int i = 0; i < SYSCTL_COUNT; i++)
		if (s->sysctl.key[i].state == KEY_PRESENT &&
		    s->view.persisted_ok[i])
			fprintf(f, "twaudit_sysctl_drift{name=\"%s\"} %d\n",
			    sysctl_defs[i].name, s->view.drift[i]);
}

static void
render_counters(const struct expo *e)
{
	FILE *f = e->f;
	char name[128], help[256];
	const struct snapshot *s;

	for (int i = 0; i < CTR_COUNT; i++) {
		const struct counter_def *d = &counter_defs[i];
		bool ext = strcmp(d->group, "TcpExt") == 0, any = false;

		FOR_SNAP(e, k, s)
			any |= s->counters.present[i];
		if (!any)
			continue;
		snprintf(name, sizeof(name), "twaudit_%s_%s%s",
		    ext ? "tcpext" : "tcp", d->metric, d->gauge ? "" : "_total");
		/* "<help without its final period> (TcpExt Name)." */
		snprintf(help, sizeof(help), "%.*s (%s %s).",
		    (int)strlen(d->help) - 1, d->help, d->group, d->kernel_name);
		family(e, name, d->gauge ? "gauge" : "counter", help);
		FOR_SNAP(e, k, s)
			if (s->counters.present[i])
				fprintf(f, "%s%s %llu\n", name, e->bare[k],
				    (unsigned long long)s->counters.value[i]);
	}
	for (int i = 0; i < SS_COUNT; i++) {
		bool any = false;

		FOR_SNAP(e, k, s)
			any |= s->sockstat.present[i];
		if (!any)
			continue;
		snprintf(help, sizeof(help), "From /proc/net/sockstat%s.",
		    i == SS_TCP6_INUSE ? "6" : "");
		family(e, sockstat_metric[i], "gauge", help);
		FOR_SNAP(e, k, s)
			if (s->sockstat.present[i])
				fprintf(f, "%s%s %lld\n", sockstat_metric[i],
				    e->bare[k], (long long)s->sockstat.v[i]);
	}
}

/* tcp_metrics' TW attributes exist on 3.7-4.11; emit the stamp count only there. */
static bool
tcpm_has_stamps(const struct snapshot *s)
{
	return s->tcpm.has_tw_attrs ||
	    (s->running_kv.code != 0 && s->running_kv.code < KV(4, 12, 0));
}

/* Is any of E's snapshots' source SRC ok (and, with WANT, WANT of it)? */
static bool
any_ok(const struct expo *e, enum source_id src,
    bool (*want)(const struct snapshot *))
{
	const struct snapshot *s;

	FOR_SNAP(e, k, s)
		if (s->source[src].state == SOURCE_OK && (want == NULL || want(s)))
			return true;
	return false;
}

static bool
has_ts_ratio(const struct snapshot *s)
{
	return s->view.has_ts_ratio;
}

static void
render_netlink(const struct expo *e)
{
	FILE *f = e->f;
	const struct snapshot *s;

	if (any_ok(e, SRC_SOCK_DIAG, NULL)) {
		family(e, "twaudit_tcp_sockets", "gauge",
		    "TCP sockets per state (sock_diag, IPv4 and IPv6).");
		FOR_SNAP(e, k, s) {
			if (s->source[SRC_SOCK_DIAG].state != SOURCE_OK)
				continue;
			for (int st = 1; st < SD_NSTATES; st++)
				fprintf(f, "twaudit_tcp_sockets{%sstate=\"%s\"} "
				    "%llu\n", e->lab[k], sock_diag_state_name[st],
				    (unsigned long long)s->sockdiag.state[st]);
		}
		family(e, "twaudit_tcp_timewait_sockets", "gauge",
		    "TIME-WAIT sockets (sock_diag; per port and per remote "
		    "address in /advice).");
		FOR_SNAP(e, k, s)
			if (s->source[SRC_SOCK_DIAG].state == SOURCE_OK)
				fprintf(f, "twaudit_tcp_timewait_sockets%s %llu\n",
				    e->bare[k],
				    (unsigned long long)s->sockdiag.timewait);
		if (any_ok(e, SRC_SOCK_DIAG, has_ts_ratio)) {
			family(e, "twaudit_tcp_timestamps_negotiated_ratio",
			    "gauge", "Share of ESTABLISHED sockets that "
			    "negotiated TCP timestamps.");
			FOR_SNAP(e, k, s)
				if (s->source[SRC_SOCK_DIAG].state == SOURCE_OK &&
				    has_ts_ratio(s))
					fprintf(f, "twaudit_tcp_timestamps_"
					    "negotiated_ratio%s %.6f\n",
					    e->bare[k],
					    s->view.ts_ratio);
		}
		family(e, "twaudit_sock_diag_truncated", "gauge",
		    "1 when the socket dump stopped at its entry limit.");
		FOR_SNAP(e, k, s)
			if (s->source[SRC_SOCK_DIAG].state == SOURCE_OK)
				fprintf(f, "twaudit_sock_diag_truncated%s %d\n",
				    e->bare[k], s->sockdiag.truncated);
	}
	if (any_ok(e, SRC_TCP_METRICS, NULL)) {
		family(e, "twaudit_tcp_metrics_peers", "gauge",
		    "Entries in the kernel's tcp_metrics peer table.");
		FOR_SNAP(e, k, s)
			if (s->source[SRC_TCP_METRICS].state == SOURCE_OK)
				fprintf(f, "twaudit_tcp_metrics_peers%s %llu\n",
				    e->bare[k], (unsigned long long)s->tcpm.peers);
		if (any_ok(e, SRC_TCP_METRICS, tcpm_has_stamps)) {
			family(e, "twaudit_tcp_metrics_recent_stamps", "gauge",
			    "Peers with a tw_recycle timestamp stamp younger "
			    "than 60 s (3.7-4.11).");
			FOR_SNAP(e, k, s)
				if (s->source[SRC_TCP_METRICS].state ==
				    SOURCE_OK && tcpm_has_stamps(s))
					fprintf(f, "twaudit_tcp_metrics_recent_"
					    "stamps%s %llu\n", e->bare[k],
					    (unsigned long long)
					    s->tcpm.recent_stamps);
		}
		family(e, "twaudit_tcp_metrics_truncated", "gauge",
		    "1 when the tcp_metrics dump stopped at its entry limit.");
		FOR_SNAP(e, k, s)
			if (s->source[SRC_TCP_METRICS].state == SOURCE_OK)
				fprintf(f, "twaudit_tcp_metrics_truncated%s %d\n",
				    e->bare[k], s->tcpm.truncated);
	}
}

/*
 * twaudit_audit_status: the host's own status (unlabelled; with --netns
 * it is the worst over the host and its namespaces, as check's exit
 * status), then each namespace's own with netns="LABEL".
 */
/*
 * Live mode: the sampler and the model's estimate. The sampler captures
 * in the host's namespace only, so these series never carry netns.
 */
static void
render_live(const struct expo *e, const struct snapshot *s)
{
	const struct live_stats *sm = &s->sampler;
	FILE *f = e->f;

	if (!s->have_sampler || sm->state != SAMPLER_OK)
		return;
	family(e, "twaudit_sampler_ratio", "gauge",
	    "1 in N client addresses is sampled; model figures are scaled by N.");
	fprintf(f, "twaudit_sampler_ratio %u\n", sm->ratio);
	family(e, "twaudit_sampler_packets_total", "counter",
	    "Packets that passed the capture filter.");
	fprintf(f, "twaudit_sampler_packets_total %llu\n",
	    (unsigned long long)sm->packets);
	family(e, "twaudit_sampler_dropped_total", "counter",
	    "Packets lost before the model: by the kernel, or in the queue "
	    "when the model fell behind.");
	fprintf(f, "twaudit_sampler_dropped_total{where=\"kernel\"} %llu\n"
	    "twaudit_sampler_dropped_total{where=\"queue\"} %llu\n",
	    (unsigned long long)sm->kernel_dropped,
	    (unsigned long long)sm->ring_dropped);
	family(e, "twaudit_model_syns_total", "counter",
	    "SYNs to this host the model saw (sampled, not scaled).");
	fprintf(f, "twaudit_model_syns_total %llu\n",
	    (unsigned long long)sm->model.syns);
	family(e, "twaudit_model_predicted_rejections_total", "counter",
	    "SYNs the running kernel's profile refuses, scaled to all traffic.");
	fputs("twaudit_model_predicted_rejections_total{profile=\"", f);
	put_label_value(f, sm->profile);
	fprintf(f, "\"} %llu\n", (unsigned long long)sm->predicted_rejections);
	family(e, "twaudit_model_observed_unanswered_syns_total", "counter",
	    "SYNs the server answered with no SYN-ACK, scaled.");
	fprintf(f, "twaudit_model_observed_unanswered_syns_total %llu\n",
	    (unsigned long long)sm->observed_unanswered_syns);
	family(e, "twaudit_model_peers", "gauge",
	    "Entries in the model's peer table.");
	fprintf(f, "twaudit_model_peers %llu\n",
	    (unsigned long long)sm->model.peers);
	family(e, "twaudit_model_evictions_total", "counter",
	    "Entries the model evicted from a full table.");
	for (int t = 0; t < MODEL_NTABLES; t++)
		fprintf(f, "twaudit_model_evictions_total{table=\"%s\"} %llu\n",
		    model_table_name(t),
		    (unsigned long long)sm->model.evictions[t]);
	family(e, "twaudit_model_nat_sources", "gauge",
	    "Client addresses with two or more timestamp clocks (NAT).");
	fprintf(f, "twaudit_model_nat_sources %llu\n",
	    (unsigned long long)sm->nat_sources);
	/* Only where the kernel has TW stamps to compare (3.7-4.11). */
	if (sm->tcpm_agreement.valid) {
		const struct tcpm_agreement *a = &sm->tcpm_agreement;

		family(e, "twaudit_model_tcp_metrics_agreement_ratio", "gauge",
		    "Peers with a stamp younger than 60 s in both the kernel's "
		    "tcp_metrics table and the model's, with the same TSval, "
		    "over those in either (sampled clients; 1 when both are "
		    "empty).");
		fprintf(f, "twaudit_model_tcp_metrics_agreement_ratio %.6f\n",
		    a->ratio);
		family(e, "twaudit_model_tcp_metrics_compared_peers", "gauge",
		    "Peers with a stamp younger than 60 s compared: in the "
		    "kernel's table, in the model's, and matched (in both, "
		    "same TSval).");
		fprintf(f, "twaudit_model_tcp_metrics_compared_peers{set="
		    "\"kernel\"} %llu\n"
		    "twaudit_model_tcp_metrics_compared_peers{set=\"model\"} "
		    "%llu\n"
		    "twaudit_model_tcp_metrics_compared_peers{set=\"matched\"} "
		    "%llu\n", (unsigned long long)a->kernel,
		    (unsigned long long)a->model, (unsigned long long)a->matched);
	}
}

/*
 * The capture handles: whether they are open and how often one had to be
 * reopened (an interface flap, deleted and recreated, or appearing after
 * the start). Also while none is open, when render_live() says nothing.
 */
static void
render_sampler_capture(const struct expo *e, const struct snapshot *s)
{
	const struct live_stats *sm = &s->sampler;

	if (!s->have_sampler || sm->state == SAMPLER_UNAVAILABLE)
		return;
	family(e, "twaudit_sampler_interfaces_open", "gauge",
	    "Capture handles open now (one per --sampler.interface).");
	fprintf(e->f, "twaudit_sampler_interfaces_open %u\n",
	    sm->interfaces_open);
	family(e, "twaudit_sampler_reopens_total", "counter",
	    "Capture handles reopened after their interface went down, "
	    "away, or appeared late.");
	fprintf(e->f, "twaudit_sampler_reopens_total %llu\n",
	    (unsigned long long)sm->reopens);
}

/*
 * One series per label set: findings that share an id and a severity
 * (source_failed, once per failed source) are one sample, value 1.
 */
static bool
finding_seen_before(const struct findings *fs, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(fs->f[j].id, fs->f[i].id) == 0 &&
		    fs->f[j].severity == fs->f[i].severity)
			return true;
	return false;
}

static void
render_audit(const struct expo *e)
{
	FILE *f = e->f;
	const struct snapshot *s;

	family(e, "twaudit_audit_status", "gauge",
	    "Audit status: 0 ok, 1 warning, 2 critical, 3 unknown.");
	FOR_SNAP(e, k, s)
		fprintf(f, "twaudit_audit_status%s %d\n", e->bare[k],
		    (int)s->status);
	family(e, "twaudit_finding", "gauge", "1 for each active finding.");
	FOR_SNAP(e, k, s)
		for (size_t i = 0; i < s->findings.n; i++)
			if (!finding_seen_before(&s->findings, i))
				fprintf(f, "twaudit_finding{%sid=\"%s\","
				    "severity=\"%s\"} 1\n", e->lab[k],
				    s->findings.f[i].id, severity_name[
				    s->findings.f[i].severity]);
}

/*
 * client_golang's process collector, as node_exporter exports it: the
 * figures of the snapshot's build (lib/procstat.h).
 */
static void
render_process(const struct expo *e, const struct procstat_values *p)
{
	FILE *f = e->f;

	if (!p->ok)
		return;
	family(e, "process_cpu_seconds_total", "counter",
	    "Total user and system CPU time spent in seconds.");
	fprintf(f, "process_cpu_seconds_total %.2f\n", p->cpu_seconds);
	family(e, "process_open_fds", "gauge",
	    "Number of open file descriptors.");
	fprintf(f, "process_open_fds %llu\n", (unsigned long long)p->open_fds);
	if (p->have_max_fds) {
		family(e, "process_max_fds", "gauge",
		    "Maximum number of open file descriptors.");
		if (p->max_fds == UINT64_MAX)
			fputs("process_max_fds 1.8446744073709552e+19\n", f);
		else
			fprintf(f, "process_max_fds %llu\n",
			    (unsigned long long)p->max_fds);
	}
	family(e, "process_virtual_memory_bytes", "gauge",
	    "Virtual memory size in bytes.");
	fprintf(f, "process_virtual_memory_bytes %llu\n",
	    (unsigned long long)p->virtual_bytes);
	family(e, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.");
	fprintf(f, "process_resident_memory_bytes %llu\n",
	    (unsigned long long)p->resident_bytes);
	family(e, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.");
	fprintf(f, "process_start_time_seconds %.2f\n", p->start_time);
}

/* Always shown, zero or not (as promhttp initialises its counter). */
static bool
http_series_shown(int h, int c)
{
	unsigned code = c < SELF_NCODES - 1 ? selfstat_code[c] : 0;

	return h == SELF_H_METRICS && (code == 200 || code == 500 ||
	    code == 503);
}

static uint64_t
http_count(const struct selfstat_http *hs, int h)
{
	uint64_t n = 0;

	for (int b = 0; b <= SELF_NBUCKETS; b++)
		n += hs->bucket[h][b];
	return n;
}

/* Requests by handler and code; durations as a histogram per handler. */
static void
render_http(const struct expo *e, const struct selfstat_http *hs)
{
	FILE *f = e->f;

	family(e, "twaudit_http_requests_total", "counter",
	    "HTTP responses sent, by handler and status code.");
	for (int h = 0; h < SELF_NHANDLERS; h++)
		for (int c = 0; c < SELF_NCODES; c++) {
			if (hs->requests[h][c] == 0 && !http_series_shown(h, c))
				continue;
			fprintf(f, "twaudit_http_requests_total{handler=\"%s\","
			    "code=\"", selfstat_handler_name[h]);
			if (c < SELF_NCODES - 1)
				fprintf(f, "%u", selfstat_code[c]);
			else
				fputs("other", f);
			fprintf(f, "\"} %llu\n",
			    (unsigned long long)hs->requests[h][c]);
		}
	family(e, "twaudit_http_request_duration_seconds", "histogram",
	    "Time from an HTTP request's first line to the end of its "
	    "response, by handler.");
	for (int h = 0; h < SELF_NHANDLERS; h++) {
		const char *name = selfstat_handler_name[h];
		uint64_t cum = 0, n = http_count(hs, h);

		if (n == 0 && h != SELF_H_METRICS)
			continue;
		for (int b = 0; b < SELF_NBUCKETS; b++) {
			cum += hs->bucket[h][b];
			fprintf(f, "twaudit_http_request_duration_seconds_bucket{"
			    "handler=\"%s\",le=\"%g\"} %llu\n", name,
			    selfstat_bucket_le[b], (unsigned long long)cum);
		}
		fprintf(f, "twaudit_http_request_duration_seconds_bucket{"
		    "handler=\"%s\",le=\"+Inf\"} %llu\n"
		    "twaudit_http_request_duration_seconds_sum{handler=\"%s\"} "
		    "%.6f\n"
		    "twaudit_http_request_duration_seconds_count{handler=\"%s\"} "
		    "%llu\n", name, (unsigned long long)n, name,
		    (double)hs->duration_us[h] / 1e6, name,
		    (unsigned long long)n);
	}
}

/*
 * The exporter metrics, as node_exporter's --web.disable-exporter-metrics
 * counts them (process_*, go_*, promhttp_*: what describes the exporter
 * process and its HTTP handler, not what it exports): process_*, and
 * twaudit's own HTTP and log counters (selfstat.h), one family per metric
 * name. twaudit_build_info and the twaudit_collector_* families stay, as
 * node_exporter_build_info and node_scrape_collector_* do.
 */
static void
render_self(const struct expo *e, const struct snapshot *s)
{
	if (!s->exporter_metrics)
		return;
	render_process(e, &s->proc);
	render_http(e, &s->self.http);
	for (int i = 0; i < SELF_COUNT; i++) {
		const struct selfstat_def *d = &selfstat_defs[i];

		if (i == 0 || strcmp(d->metric, selfstat_defs[i - 1].metric))
			family(e, d->metric, "counter", d->help);
		if (d->labels[0] != '\0')
			fprintf(e->f, "%s{%s} %llu\n", d->metric, d->labels,
			    (unsigned long long)s->self.v[i]);
		else
			fprintf(e->f, "%s %llu\n", d->metric,
			    (unsigned long long)s->self.v[i]);
	}
}

/* netns="LABEL", (AFTER ",") or {netns="LABEL"} (AFTER "}"), escaped. */
static char *
netns_label(const char *label, const char *open, const char *close)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	fprintf(f, "%snetns=\"", open);
	put_label_value(f, label);
	fprintf(f, "\"%s", close);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void
expo_free(struct expo *e)
{
	for (size_t i = 1; i < e->n; i++) {
		free(e->lab[i]);
		free(e->bare[i]);
	}
	free(e->snap);
	free(e->lab);
	free(e->bare);
}

/* The host and its namespaces. -1 on allocation failure. */
static int
expo_init(struct expo *e, const struct snapshot *s)
{
	static char empty[] = "";
	size_t n = 1 + s->nns;

	e->snap = calloc(n, sizeof(*e->snap));
	e->lab = calloc(n, sizeof(*e->lab));
	e->bare = calloc(n, sizeof(*e->bare));
	if (e->snap == NULL || e->lab == NULL || e->bare == NULL) {
		expo_free(e);
		return -1;
	}
	e->snap[0] = s;
	e->lab[0] = e->bare[0] = empty;
	e->n = 1;
	for (size_t i = 0; i < s->nns; i++) {
		e->snap[e->n] = s->ns[i];
		e->lab[e->n] = netns_label(s->ns[i]->netns, "", ",");
		e->bare[e->n] = netns_label(s->ns[i]->netns, "{", "}");
		e->n++;
		if (e->lab[e->n - 1] == NULL || e->bare[e->n - 1] == NULL) {
			expo_free(e);
			return -1;
		}
	}
	return 0;
}

char *
render_prom(const struct snapshot *s, enum expo_format fmt, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	struct expo ex = { f, fmt == EXPO_OPENMETRICS, 0, NULL, NULL, NULL },
	    *e = &ex;

	if (f == NULL)
		return NULL;
	if (expo_init(e, s) < 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	family(e, "twaudit_build_info", "gauge",
	    "Build and kernel version, always 1.");
	fprintf(f, "twaudit_build_info{version=\"%s\",kernel_release=\"",
	    TWAUDIT_VERSION);
	put_label_value(f, s->sysctl.osrelease);
	fputs("\"} 1\n", f);
	render_sources(e);
	render_staleness(e, s);
	render_sysctls(e, s);
	render_counters(e);
	render_netlink(e);
	render_live(e, s);
	render_sampler_capture(e, s);
	render_audit(e);
	render_self(e, s);
	if (e->om)
		fputs("# EOF\n", f);
	expo_free(e);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

const struct rendered *
render_prom_cached(struct snapshot *s, enum expo_format fmt, bool gzip)
{
	_Atomic(struct rendered *) *slot =
	    &s->expo_cache[fmt == EXPO_OPENMETRICS][gzip];
	struct rendered *r = atomic_load(slot), *expected = NULL;
	char *text, *z = NULL;
	size_t len, zlen;
	int64_t unset = 0;

	if (r != NULL)
		return r;
	/* Every cached body of S states the same age (formats, gzip). */
	atomic_compare_exchange_strong(&s->first_render_us, &unset,
	    (int64_t)(now_wall() * 1e6));
	if ((text = render_prom(s, fmt, &len)) == NULL)
		return NULL;
	if (gzip && gzip_buffer(text, len, &z, &zlen) == 0) {
		free(text);
		text = z;
		len = zlen;
	} else if (gzip) {
		free(text);
		return NULL;
	}
	if ((r = malloc(sizeof(*r) + len)) == NULL) {
		free(text);
		return NULL;
	}
	r->len = len;
	memcpy(r->body, text, len);
	free(text);
	/* Two scrapes may render at once: the first one stored wins. */
	if (!atomic_compare_exchange_strong(slot, &expected, r)) {
		free(r);
		r = expected;
	}
	return r;
}
