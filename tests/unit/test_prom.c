/*
 * Renderers of a finished snapshot: Prometheus 0.0.4 and OpenMetrics text,
 * the per-snapshot cache (and its gzip bodies), the /advice document and
 * the text report. Snapshots are collected from the fixture procfs trees
 * (tests/fixtures/linux-*, netlink off, an empty rootfs) as `check` builds
 * them, so the assertions follow what the fixtures hold (their README).
 * Untrusted strings (kernel release, host name, namespace labels) are then
 * replaced in the finished snapshot to check escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <sys/socket.h>

#include "agent/audit.h"
#include "config.h"
#include "web/negotiate.h"
#include "web/render.h"
#include "agent/snapshot.h"

static char empty_root[] = "/tmp/test_prom.XXXXXX";

/* ---------------------------------------------------------------------
 * Snapshots and text helpers.
 */

/* A finished snapshot of fixture NAME, as `check` makes it (no netlink). */
static struct snapshot *
fixture(const char *name)
{
	char procfs[512];
	struct collect_paths p = { 0 };
	double last[SRC_COUNT] = { 0 };
	struct snapshot *s;

	snprintf(procfs, sizeof(procfs), "%s/%s", FIXTURES, name);
	p.procfs = procfs;
	p.rootfs = empty_root;
	p.sw[SRC_SOCK_DIAG] = COLLECT_OFF;
	p.sw[SRC_TCP_METRICS] = COLLECT_OFF;
	s = snapshot_collect(&p, NULL);
	assert_non_null(s);
	snapshot_note_success(s, last);
	snapshot_finish(s, NULL);
	/* The host name comes from gethostname(): make it the fixture's. */
	snprintf(s->host, sizeof(s->host), "fixture-host");
	return s;
}

static char *
prom(const struct snapshot *s, enum expo_format fmt)
{
	size_t len = 0;
	char *b = render_prom(s, fmt, &len);

	assert_non_null(b);
	assert_int_equal(strlen(b), len);
	return b;
}

/* Is LINE (without its newline) a whole line of BODY? */
static bool
has_line(const char *body, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = body; (p = strstr(p, line)) != NULL; p++)
		if ((p == body || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* Lines of BODY that start with PREFIX. */
static int
count_prefix(const char *body, const char *prefix)
{
	size_t n = strlen(prefix);
	int c = 0;

	for (const char *p = body; *p;) {
		const char *nl = strchr(p, '\n');

		if (strncmp(p, prefix, n) == 0)
			c++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return c;
}

static void
assert_line(const char *body, const char *line)
{
	if (!has_line(body, line))
		fail_msg("missing line: %s", line);
}

static void
assert_no_line(const char *body, const char *line)
{
	if (has_line(body, line))
		fail_msg("unexpected line: %s", line);
}

static bool
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

#define MAXFAM 256

struct family {
	char name[128];
	char type[16];
	bool help, unit;
	int samples;
};

/*
 * Walk an exposition and check its shape: every sample belongs to the
 * family declared last (HELP and TYPE, once each, before the samples), a
 * family appears once, and in OpenMetrics counters are named without
 * "_total" while their samples keep it, "# UNIT" follows TYPE only for
 * *_seconds, and "# EOF" is the last line. Returns the family count.
 */
static int
check_shape(const char *body, bool om)
{
	static struct family fam[MAXFAM];
	int nf = 0;
	struct family *cur = NULL;
	const char *p = body;
	size_t blen = strlen(body);

	assert_true(blen > 0);
	assert_int_equal(body[blen - 1], '\n');
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = (size_t)(nl - p);
		char line[1024];

		assert_non_null(nl);
		assert_true(n > 0);	/* no empty lines */
		assert_true(n < sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;
		if (strcmp(line, "# EOF") == 0) {
			assert_true(om);
			assert_int_equal(*p, '\0');	/* the last line */
			return nf;
		}
		if (strncmp(line, "# HELP ", 7) == 0) {
			size_t k = strcspn(line + 7, " ");

			assert_true(nf < MAXFAM);
			for (int i = 0; i < nf; i++)
				if (strlen(fam[i].name) == k &&
				    strncmp(fam[i].name, line + 7, k) == 0)
					fail_msg("family declared twice: %s", line);
			cur = &fam[nf++];
			memset(cur, 0, sizeof(*cur));
			snprintf(cur->name, sizeof(cur->name), "%.*s", (int)k,
			    line + 7);
			cur->help = true;
			assert_true(strlen(line + 7 + k) > 1);	/* has a text */
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char name[128], type[16];

			assert_non_null(cur);
			assert_int_equal(sscanf(line + 7, "%127s %15s", name, type),
			    2);
			assert_string_equal(name, cur->name);
			assert_true(cur->type[0] == '\0' && cur->samples == 0);
			assert_true(strcmp(type, "gauge") == 0 ||
			    strcmp(type, "counter") == 0 ||
			    strcmp(type, "histogram") == 0);
			snprintf(cur->type, sizeof(cur->type), "%s", type);
			if (om && strcmp(type, "counter") == 0 &&
			    ends_with(name, strlen(name), "_total"))
				fail_msg("OpenMetrics counter family with _total: %s",
				    name);
			continue;
		}
		if (strncmp(line, "# UNIT ", 7) == 0) {
			char want[200];

			assert_true(om);
			assert_non_null(cur);
			assert_true(cur->type[0] != '\0' && !cur->unit &&
			    cur->samples == 0);
			assert_true(ends_with(cur->name, strlen(cur->name),
			    "_seconds"));
			snprintf(want, sizeof(want), "# UNIT %s seconds", cur->name);
			assert_string_equal(line, want);
			cur->unit = true;
			continue;
		}
		assert_int_not_equal(line[0], '#');
		/* A sample of the current family. */
		assert_non_null(cur);
		assert_true(cur->help && cur->type[0] != '\0');
		{
			size_t k = strcspn(line, "{ ");
			char want[160];

			bool hist_ok = false;

			if (om && strcmp(cur->type, "counter") == 0)
				snprintf(want, sizeof(want), "%s_total", cur->name);
			else
				snprintf(want, sizeof(want), "%s", cur->name);
			/* A histogram's samples: _bucket, _sum, _count. */
			if (strcmp(cur->type, "histogram") == 0) {
				size_t fn = strlen(cur->name);

				hist_ok = k > fn && strncmp(line, cur->name,
				    fn) == 0 && ((k - fn == 7 && strncmp(line +
				    fn, "_bucket", 7) == 0) || (k - fn == 4 &&
				    strncmp(line + fn, "_sum", 4) == 0) ||
				    (k - fn == 6 && strncmp(line + fn, "_count",
				    6) == 0));
			}
			if (!hist_ok &&
			    (strlen(want) != k || strncmp(line, want, k) != 0))
				fail_msg("sample '%s' outside its family %s", line,
				    cur->name);
		}
		cur->samples++;
		/* OpenMetrics needs UNIT where the name carries a unit. */
		if (om && ends_with(cur->name, strlen(cur->name), "_seconds"))
			assert_true(cur->unit);
	}
	assert_false(om);	/* OpenMetrics never ends without # EOF */
	return nf;
}

/* BODY without its twaudit_snapshot_age_seconds sample (render time). */
static char *
without_age(const char *body, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	const char *p = body, *end = body + len;

	assert_non_null(out);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (strncmp(p, "twaudit_snapshot_age_seconds ", 29) != 0) {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	*o = '\0';
	return out;
}

static const char *const fixtures[] = {
	"linux-3.10-container", "linux-3.10-recycle", "linux-4.4",
	"linux-4.10-recycle", "linux-4.19", "linux-6.18",
	"linux-6.18-rfc1337", "linux-6.18-tsoff",
};
#define NFIX (sizeof(fixtures) / sizeof(fixtures[0]))

/* ---------------------------------------------------------------------
 * Exposition shape.
 */

/* S as serve builds it: with the exporter metrics, some requests. */
static void
as_exporter(struct snapshot *s)
{
	s->exporter_metrics = true;
	s->proc = (struct procstat_values){ .ok = true, .cpu_seconds = 1.25,
	    .resident_bytes = 4096 * 1000, .virtual_bytes = 1 << 26,
	    .open_fds = 12, .have_max_fds = true, .max_fds = 17408,
	    .start_time = 1.7e9 };
	/* metrics: 200 x3 (0.002 s, 0.002 s, 0.3 s), 503 x1 (20 s);
	 * advice: 404? no: other 404 x1 (0.004 s). */
	s->self.http.requests[SELF_H_METRICS][selfstat_code_index(200)] = 3;
	s->self.http.requests[SELF_H_METRICS][selfstat_code_index(503)] = 1;
	s->self.http.requests[SELF_H_OTHER][selfstat_code_index(404)] = 1;
	s->self.http.requests[SELF_H_OTHER][selfstat_code_index(302)] = 2;
	s->self.http.bucket[SELF_H_METRICS][0] = 2;
	s->self.http.bucket[SELF_H_METRICS][6] = 1;
	s->self.http.bucket[SELF_H_METRICS][SELF_NBUCKETS] = 1;
	s->self.http.duration_us[SELF_H_METRICS] = 20304000;
	s->self.http.bucket[SELF_H_OTHER][0] = 3;
	s->self.http.duration_us[SELF_H_OTHER] = 5000;
}

static void
test_shape_004(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFIX; i++) {
		struct snapshot *s = fixture(fixtures[i]);
		char *b;

		as_exporter(s);
		b = prom(s, EXPO_PROM_004);

		assert_true(check_shape(b, false) > 20);
		assert_int_equal(count_prefix(b, "# EOF"), 0);
		assert_int_equal(count_prefix(b, "# UNIT"), 0);
		/* 0.0.4 counters keep _total in the family name. */
		assert_line(b, "# TYPE twaudit_tcpext_tw_total counter");
		assert_line(b, "# TYPE twaudit_tcp_curr_estab gauge");
		assert_line(b, "# TYPE twaudit_http_auth_failures_total counter");
		free(b);
		snapshot_unref(s);
	}
}

static void
test_shape_openmetrics(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFIX; i++) {
		struct snapshot *s = fixture(fixtures[i]);
		char *b, *p;

		as_exporter(s);
		b = prom(s, EXPO_OPENMETRICS);
		p = prom(s, EXPO_PROM_004);

		assert_true(check_shape(b, true) > 20);
		assert_int_equal(count_prefix(b, "# EOF"), 1);
		assert_line(b, "# TYPE twaudit_tcpext_tw counter");
		assert_line(b, "# HELP twaudit_tcpext_tw TCP sockets finished "
		    "time wait in fast timer (TcpExt TW).");
		assert_no_line(b, "# TYPE twaudit_tcpext_tw_total counter");
		assert_line(b, "# TYPE twaudit_http_connections_refused counter");
		assert_line(b, "# TYPE process_cpu_seconds counter");
		assert_line(b, "process_cpu_seconds_total 1.25");
		assert_line(b, "# UNIT process_start_time_seconds seconds");
		assert_line(b, "# TYPE twaudit_http_request_duration_seconds "
		    "histogram");
		assert_line(b, "# UNIT twaudit_http_request_duration_seconds "
		    "seconds");
		/* Gauges are named as in 0.0.4; seconds carry their UNIT. */
		assert_line(b, "# TYPE twaudit_tcp_curr_estab gauge");
		assert_line(b, "# UNIT twaudit_collector_duration_seconds seconds");
		assert_line(b, "# UNIT twaudit_snapshot_age_seconds seconds");
		assert_line(b, "# UNIT twaudit_collector_last_success_timestamp_"
		    "seconds seconds");
		/* Same samples in both formats (the age apart). */
		assert_int_equal(count_prefix(b, "twaudit_"),
		    count_prefix(p, "twaudit_"));
		assert_int_equal(count_prefix(b, "process_"),
		    count_prefix(p, "process_"));
		free(p);
		free(b);
		snapshot_unref(s);
	}
}

/*
 * The exporter metrics: absent from a snapshot that does not carry them
 * (check, --web.disable-exporter-metrics); otherwise process_* with
 * client_golang's names and HELP, requests by handler and code (codes
 * outside the table as "other"), and per handler a histogram whose
 * buckets never decrease and whose +Inf bucket equals its count.
 */
static void
test_exporter_metrics(void **state)
{
	struct snapshot *s = fixture("linux-6.18");
	char *b = prom(s, EXPO_PROM_004);

	(void)state;
	assert_int_equal(count_prefix(b, "process_"), 0);
	assert_int_equal(count_prefix(b, "twaudit_http_"), 0);
	assert_int_equal(count_prefix(b, "twaudit_log_lines_suppressed"), 0);
	assert_int_equal(count_prefix(b, "# HELP twaudit_build_info"), 1);
	assert_true(count_prefix(b, "twaudit_collector_success{") > 0);
	free(b);

	as_exporter(s);
	b = prom(s, EXPO_PROM_004);
	assert_line(b, "# HELP process_cpu_seconds_total Total user and system "
	    "CPU time spent in seconds.");
	assert_line(b, "# HELP process_resident_memory_bytes Resident memory "
	    "size in bytes.");
	assert_line(b, "# HELP process_start_time_seconds Start time of the "
	    "process since unix epoch in seconds.");
	assert_line(b, "process_resident_memory_bytes 4096000");
	assert_line(b, "process_virtual_memory_bytes 67108864");
	assert_line(b, "process_open_fds 12");
	assert_line(b, "process_max_fds 17408");
	assert_line(b, "process_start_time_seconds 1700000000.00");
	assert_line(b, "twaudit_http_requests_total{handler=\"metrics\","
	    "code=\"200\"} 3");
	assert_line(b, "twaudit_http_requests_total{handler=\"metrics\","
	    "code=\"503\"} 1");
	/* Always shown, as promhttp initialises them. */
	assert_line(b, "twaudit_http_requests_total{handler=\"metrics\","
	    "code=\"500\"} 0");
	assert_line(b, "twaudit_http_requests_total{handler=\"other\","
	    "code=\"404\"} 1");
	assert_line(b, "twaudit_http_requests_total{handler=\"other\","
	    "code=\"other\"} 2");
	assert_no_line(b, "twaudit_http_requests_total{handler=\"advice\","
	    "code=\"200\"} 0");
	assert_line(b, "twaudit_http_request_duration_seconds_bucket{handler="
	    "\"metrics\",le=\"0.005\"} 2");
	assert_line(b, "twaudit_http_request_duration_seconds_bucket{handler="
	    "\"metrics\",le=\"0.25\"} 2");
	assert_line(b, "twaudit_http_request_duration_seconds_bucket{handler="
	    "\"metrics\",le=\"0.5\"} 3");
	assert_line(b, "twaudit_http_request_duration_seconds_bucket{handler="
	    "\"metrics\",le=\"10\"} 3");
	assert_line(b, "twaudit_http_request_duration_seconds_bucket{handler="
	    "\"metrics\",le=\"+Inf\"} 4");
	assert_line(b, "twaudit_http_request_duration_seconds_count{handler="
	    "\"metrics\"} 4");
	assert_line(b, "twaudit_http_request_duration_seconds_sum{handler="
	    "\"metrics\"} 20.304000");
	assert_line(b, "twaudit_http_request_duration_seconds_count{handler="
	    "\"other\"} 3");
	/* Handlers without requests: no histogram, "metrics" apart. */
	assert_int_equal(count_prefix(b, "twaudit_http_request_duration_"
	    "seconds_count{handler=\"advice\"}"), 0);
	assert_int_equal(count_prefix(b, "twaudit_http_request_duration_"
	    "seconds_bucket{handler=\"metrics\""), SELF_NBUCKETS + 1);
	assert_line(b, "twaudit_log_lines_suppressed_total 0");
	free(b);
	/* No process figures read: the other exporter metrics stay. */
	s->proc.ok = false;
	b = prom(s, EXPO_PROM_004);
	assert_int_equal(count_prefix(b, "process_"), 0);
	assert_true(count_prefix(b, "twaudit_http_requests_total{") > 0);
	free(b);
	snapshot_unref(s);
}

/* ---------------------------------------------------------------------
 * Known values per fixture (tests/fixtures/README.md).
 */

struct known {
	const char *fixture, *release;
	int status;			/* twaudit_audit_status */
	const char *tw;			/* twaudit_tcpext_tw_total */
	const char *paws_passive;	/* NULL: no such field on that kernel */
	const char *sockstat_tw;
	int recycle;			/* tcp_tw_recycle: -1 absent */
	const char *finding;		/* 'id="...",severity="..."' or NULL */
};

static const struct known known[] = {
	{ "linux-3.10-recycle", "3.10.0-1160.el7.x86_64", 2, "50211", "1234",
	  "1480", 1, "id=\"tw_recycle_nat_drops\",severity=\"critical\"" },
	{ "linux-3.10-container", "3.10.0-1160.el7.x86_64", 0, "120", "0",
	  "14", -1, NULL },
	{ "linux-4.4", "4.4.182", 0, "20140", "0", "2100", 0, NULL },
	{ "linux-4.10-recycle", "4.10.17", 2, "30120", "5678", "300", 1,
	  "id=\"tw_recycle_nat_drops\",severity=\"critical\"" },
	{ "linux-4.19", "4.19.157", 0, "80110", NULL, "5021", -1, NULL },
	{ "linux-6.18", "6.18.44", 0, "1204110", NULL, "9800", -1, NULL },
	{ "linux-6.18-rfc1337", "6.18.44", 1, "1204110", NULL, "9800", -1,
	  "id=\"rfc1337_timewait_nat\",severity=\"warning\"" },
	{ "linux-6.18-tsoff", "6.18.44", 0, "1204110", NULL, "9800", -1,
	  "id=\"timestamps_disabled\",severity=\"info\"" },
};

static void
test_known_values(void **state)
{
	char line[256];

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const struct known *k = &known[i];
		struct snapshot *s = fixture(k->fixture);

		for (int om = 0; om < 2; om++) {
			char *b = prom(s, om ? EXPO_OPENMETRICS : EXPO_PROM_004);

			snprintf(line, sizeof(line), "twaudit_build_info{version="
			    "\"%s\",kernel_release=\"%s\"} 1", TWAUDIT_VERSION,
			    k->release);
			assert_line(b, line);
			snprintf(line, sizeof(line), "twaudit_audit_status %d",
			    k->status);
			assert_line(b, line);
			snprintf(line, sizeof(line), "twaudit_tcpext_tw_total %s",
			    k->tw);
			assert_line(b, line);
			snprintf(line, sizeof(line), "twaudit_sockstat_tcp_tw %s",
			    k->sockstat_tw);
			assert_line(b, line);
			if (k->paws_passive != NULL) {
				snprintf(line, sizeof(line),
				    "twaudit_tcpext_paws_passive_total %s",
				    k->paws_passive);
				assert_line(b, line);
			} else {
				assert_int_equal(count_prefix(b,
				    "twaudit_tcpext_paws_passive"), 0);
				assert_int_equal(count_prefix(b,
				    "# TYPE twaudit_tcpext_paws_passive"), 0);
			}
			if (k->recycle >= 0) {
				snprintf(line, sizeof(line), "twaudit_sysctl{name="
				    "\"net.ipv4.tcp_tw_recycle\"} %d", k->recycle);
				assert_line(b, line);
			}
			assert_line(b, k->recycle >= 0 ?
			    "twaudit_sysctl_present{name=\"net.ipv4.tcp_tw_recycle\"} 1" :
			    "twaudit_sysctl_present{name=\"net.ipv4.tcp_tw_recycle\"} 0");
			/* Multi-valued sysctls get an index label. */
			assert_line(b, "twaudit_sysctl{name=\"net.ipv4.ip_local_"
			    "port_range\",index=\"1\"} 60999");
			if (k->finding != NULL) {
				snprintf(line, sizeof(line), "twaudit_finding{%s} 1",
				    k->finding);
				assert_line(b, line);
				assert_int_equal(count_prefix(b,
				    "twaudit_finding{"), 1);
			} else {
				assert_int_equal(count_prefix(b,
				    "twaudit_finding{"), 0);
			}
			/* Netlink off: no socket or tcp_metrics families. */
			assert_int_equal(count_prefix(b, "twaudit_tcp_sockets"), 0);
			assert_int_equal(count_prefix(b,
			    "twaudit_tcp_metrics_peers"), 0);
			/* No sampler: no live figures. */
			assert_int_equal(count_prefix(b, "twaudit_sampler_"), 0);
			assert_int_equal(count_prefix(b, "twaudit_model_"), 0);
			free(b);
		}
		snapshot_unref(s);
	}
}

/* ---------------------------------------------------------------------
 * collector_state: one state per collector, one-hot, agreeing with
 * collector_success.
 */

static void
check_one_hot(const struct snapshot *s, const char *b)
{
	char line[256];

	for (int i = 0; i < SRC_COUNT; i++) {
		int ones = 0;

		for (int st = 0; st < SOURCE_NSTATES; st++) {
			int v = s->source[i].state == (enum source_state)st;

			snprintf(line, sizeof(line), "twaudit_collector_state{"
			    "collector=\"%s\",state=\"%s\"} %d", source_name[i],
			    source_state_name[st], v);
			assert_line(b, line);
			ones += v;
		}
		assert_int_equal(ones, 1);
		snprintf(line, sizeof(line), "twaudit_collector_success{"
		    "collector=\"%s\"} %d", source_name[i],
		    s->source[i].state != SOURCE_FAILED);
		assert_line(b, line);
	}
	assert_int_equal(count_prefix(b, "twaudit_collector_state{"),
	    SRC_COUNT * SOURCE_NSTATES);
	assert_int_equal(count_prefix(b, "twaudit_collector_success{"),
	    SRC_COUNT);
}

static void
test_collector_state(void **state)
{
	struct snapshot *s;
	char *b;

	(void)state;
	s = fixture("linux-4.19");
	b = prom(s, EXPO_PROM_004);
	check_one_hot(s, b);
	assert_line(b, "twaudit_collector_state{collector=\"netstat\","
	    "state=\"ok\"} 1");
	/* Netlink switched off reads as disabled, not failed: success 1. */
	assert_line(b, "twaudit_collector_state{collector=\"sock_diag\","
	    "state=\"disabled\"} 1");
	assert_line(b, "twaudit_collector_state{collector=\"sock_diag\","
	    "state=\"unavailable\"} 0");
	assert_line(b, "twaudit_collector_success{collector=\"sock_diag\"} 1");
	free(b);
	snapshot_unref(s);

	/* A damaged netstat: failed, success 0, the rest still ok. */
	s = fixture("broken-truncated");
	b = prom(s, EXPO_OPENMETRICS);
	check_one_hot(s, b);
	assert_line(b, "twaudit_collector_state{collector=\"netstat\","
	    "state=\"failed\"} 1");
	assert_line(b, "twaudit_collector_state{collector=\"netstat\","
	    "state=\"ok\"} 0");
	assert_line(b, "twaudit_collector_success{collector=\"netstat\"} 0");
	assert_line(b, "twaudit_collector_success{collector=\"snmp\"} 1");
	/* TcpExt counters read before the damage are kept. */
	assert_line(b, "twaudit_tcpext_tw_total 1204110");
	check_shape(b, true);
	free(b);
	snapshot_unref(s);
}

/* ---------------------------------------------------------------------
 * Escaping of untrusted label values.
 */

static void
test_label_escaping(void **state)
{
	struct snapshot *s = fixture("linux-6.18");
	char *b;

	(void)state;
	/* osrelease is read from an untrusted tree: only trailing space goes. */
	snprintf(s->sysctl.osrelease, sizeof(s->sysctl.osrelease),
	    "6.18.0-\"evil\"\\x\nnext{a=\"b\"} 1");
	for (int om = 0; om < 2; om++) {
		b = prom(s, om ? EXPO_OPENMETRICS : EXPO_PROM_004);
		assert_line(b, "twaudit_build_info{version=\"" TWAUDIT_VERSION
		    "\",kernel_release=\"6.18.0-\\\"evil\\\"\\\\x\\nnext{a=\\\"b"
		    "\\\"} 1\"} 1");
		/* The newline did not start a line of its own. */
		assert_int_equal(count_prefix(b, "next"), 0);
		check_shape(b, om);
		free(b);
	}
	snapshot_unref(s);
}

/*
 * Label values must be UTF-8 (Prometheus refuses the whole scrape
 * otherwise): a kernel release or netns label with invalid bytes (a name
 * from /run/netns, or one cut inside a character at NETNS_LABEL_LEN) comes
 * out as valid UTF-8.
 */
static void add_netns(struct snapshot *s, const char *const *labels,
    size_t n);

static bool
valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 1 :
		    (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 && *p <= 0xf4 ?
		    3 : -1;

		if (n < 0)
			return false;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static void
test_label_utf8(void **state)
{
	struct snapshot *s = fixture("linux-6.18");
	char *b;

	(void)state;
	snprintf(s->sysctl.osrelease, sizeof(s->sysctl.osrelease),
	    "6.18.0-\xff\xfe-caf\xc3\xa9-\xc3");
	for (int om = 0; om < 2; om++) {
		b = prom(s, om ? EXPO_OPENMETRICS : EXPO_PROM_004);
		assert_true(valid_utf8(b));
		/* Each stray byte is U+FFFD; valid characters pass unchanged. */
		assert_non_null(strstr(b, "kernel_release=\"6.18.0-\xef\xbf\xbd"
		    "\xef\xbf\xbd-caf\xc3\xa9-\xef\xbf\xbd\"} 1\n"));
		free(b);
	}
	snapshot_unref(s);

	/* A namespace label cut inside a character, overlong and surrogate
	 * forms. */
	s = fixture("linux-6.18");
	{
		static const char *const labels[] = { "caf\xc3", "x\xc0\xaf",
		    "\xed\xa0\x80\xf4\x90\x80\x80\xf0\x9f\x90\xa7" };

		add_netns(s, labels, 3);
	}
	for (int om = 0; om < 2; om++) {
		b = prom(s, om ? EXPO_OPENMETRICS : EXPO_PROM_004);
		assert_true(valid_utf8(b));
		assert_line(b, "twaudit_audit_status{netns=\"caf\xef\xbf\xbd\"} 0");
		assert_line(b, "twaudit_audit_status{netns=\"x\xef\xbf\xbd"
		    "\xef\xbf\xbd\"} 1");
		/* A 4-byte character (U+1F427) is kept whole. */
		assert_non_null(strstr(b, "\xf0\x9f\x90\xa7\"} 0\n"));
		check_shape(b, om);
		free(b);
	}
	snapshot_unref(s);
}

/* Attach namespaces labelled LABELS to S (netns mode, as --netns does):
 * odd ones are from linux-6.18-rfc1337 (status warning). */
static void
add_netns(struct snapshot *s, const char *const *labels, size_t n)
{
	s->netns_mode = true;
	s->ns = calloc(n, sizeof(*s->ns));
	assert_non_null(s->ns);
	for (size_t i = 0; i < n; i++) {
		struct snapshot *c = fixture(i % 2 ? "linux-6.18-rfc1337" :
		    "linux-6.18");

		c->netns_mode = true;
		snprintf(c->netns, sizeof(c->netns), "%s", labels[i]);
		s->ns[s->nns++] = c;
	}
}

static void
test_netns_labels(void **state)
{
	static const char *const labels[] = { "web\"1", "a\\b\nc" };
	struct snapshot *s = fixture("linux-6.18");
	char *b;

	(void)state;
	add_netns(s, labels, 2);
	for (int om = 0; om < 2; om++) {
		b = prom(s, om ? EXPO_OPENMETRICS : EXPO_PROM_004);
		check_shape(b, om);
		/* The host's series are unlabelled, each namespace's labelled. */
		assert_line(b, "twaudit_audit_status 0");
		assert_line(b, "twaudit_audit_status{netns=\"web\\\"1\"} 0");
		assert_line(b, "twaudit_audit_status{netns=\"a\\\\b\\nc\"} 1");
		assert_line(b, "twaudit_finding{netns=\"a\\\\b\\nc\",id=\""
		    "rfc1337_timewait_nat\",severity=\"warning\"} 1");
		assert_line(b, "twaudit_collector_state{netns=\"web\\\"1\","
		    "collector=\"netstat\",state=\"ok\"} 1");
		assert_line(b, "twaudit_sysctl{netns=\"a\\\\b\\nc\",name=\"net."
		    "ipv4.tcp_rfc1337\"} 1");
		assert_line(b, "twaudit_tcpext_tw_total{netns=\"web\\\"1\"} "
		    "1204110");
		/* One family per name, three series (host and two netns). */
		assert_int_equal(count_prefix(b, "# TYPE twaudit_audit_status "),
		    1);
		assert_int_equal(count_prefix(b, "twaudit_audit_status"), 3);
		assert_int_equal(count_prefix(b, "twaudit_collector_state{"),
		    3 * SRC_COUNT * SOURCE_NSTATES);
		/* Persisted settings and staleness are the host's alone. */
		assert_int_equal(count_prefix(b,
		    "twaudit_collector_last_success_timestamp_seconds{netns"), 0);
		assert_int_equal(count_prefix(b, "next"), 0);
		free(b);
	}
	snapshot_unref(s);
}

/* ---------------------------------------------------------------------
 * The per-snapshot cache and its gzip bodies.
 */

static char *
gunzip(const char *in, size_t len, size_t *outlen)
{
	z_stream z = { 0 };
	size_t cap = 1 << 16;
	char *out = malloc(cap);
	int rc;

	assert_non_null(out);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);	/* gzip only */
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	do {
		if (z.total_out == cap) {
			cap *= 2;
			assert_true(cap < (64u << 20));
			out = realloc(out, cap);
			assert_non_null(out);
		}
		z.next_out = (Bytef *)out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
		assert_true(rc == Z_OK || rc == Z_STREAM_END);
	} while (rc != Z_STREAM_END);
	assert_int_equal(z.avail_in, 0);	/* nothing after the stream */
	*outlen = z.total_out;
	inflateEnd(&z);
	return out;
}

static void
test_cache(void **state)
{
	struct snapshot *s = fixture("linux-3.10-recycle");
	const struct rendered *r[2][2];

	(void)state;
	for (int f = 0; f < 2; f++)
		for (int z = 0; z < 2; z++) {
			r[f][z] = render_prom_cached(s, f ? EXPO_OPENMETRICS :
			    EXPO_PROM_004, z);
			assert_non_null(r[f][z]);
			assert_true(r[f][z]->len > 0);
			/* Second call: the same rendering, not a new one. */
			assert_ptr_equal(render_prom_cached(s, f ?
			    EXPO_OPENMETRICS : EXPO_PROM_004, z), r[f][z]);
		}
	assert_ptr_not_equal(r[0][0], r[1][0]);
	assert_ptr_not_equal(r[0][0], r[0][1]);
	for (int f = 0; f < 2; f++) {
		const struct rendered *plain = r[f][0], *gz = r[f][1];
		size_t n;
		char *text, *a, *b;

		/* gzip magic, and it decodes to the plain body (the age line,
		 * taken at each rendering, apart). */
		assert_true(gz->len > 18);
		assert_int_equal((unsigned char)gz->body[0], 0x1f);
		assert_int_equal((unsigned char)gz->body[1], 0x8b);
		assert_true(gz->len < plain->len);
		text = gunzip(gz->body, gz->len, &n);
		a = without_age(text, n);
		b = without_age(plain->body, plain->len);
		assert_string_equal(a, b);
		/* The plain body is what render_prom gives. */
		assert_int_equal(count_prefix(b, "# EOF"), f);
		assert_non_null(strstr(b, "twaudit_tcpext_paws_passive_total 1234\n"));
		free(text);
		free(a);
		free(b);
	}
	snapshot_unref(s);
}

/* ---------------------------------------------------------------------
 * The /advice document and the text report.
 */

struct advice_case {
	const char *fixture, *status;
	const char *finding;	/* the only finding's id, or NULL */
	const char *recycle_state;	/* sources.sysctl.keys tw_recycle */
};

static const struct advice_case advice_cases[] = {
	{ "linux-3.10-recycle", "critical", "tw_recycle_nat_drops", "present" },
	/* A global knob, invisible from a 3.10 container (README). */
	{ "linux-3.10-container", "ok", NULL, "unavailable" },
	{ "linux-4.4", "ok", NULL, "present" },
	{ "linux-4.10-recycle", "critical", "tw_recycle_nat_drops", "present" },
	{ "linux-4.19", "ok", NULL, "absent" },
	{ "linux-6.18", "ok", NULL, "absent" },
	{ "linux-6.18-rfc1337", "warning", "rfc1337_timewait_nat", "absent" },
	{ "linux-6.18-tsoff", "ok", "timestamps_disabled", "absent" },
};

static void
test_advice(void **state)
{
	static const char *const top[] = { "host", "kernel_release",
	    "generated_at", "status", "findings", "sources" };

	(void)state;
	for (size_t i = 0; i < sizeof(advice_cases) / sizeof(advice_cases[0]);
	    i++) {
		const struct advice_case *c = &advice_cases[i];
		struct snapshot *s = fixture(c->fixture);
		json_t *j = render_advice(s), *src, *f, *keys;
		const char *when;
		size_t len;
		char *text;

		assert_non_null(j);
		for (size_t k = 0; k < sizeof(top) / sizeof(top[0]); k++)
			if (json_object_get(j, top[k]) == NULL)
				fail_msg("%s: no key %s", c->fixture, top[k]);
		/* Without --netns and the sampler, nothing else. */
		assert_null(json_object_get(j, "namespaces"));
		assert_null(json_object_get(j, "host_status"));
		assert_null(json_object_get(j, "model"));
		assert_string_equal(json_string_value(json_object_get(j,
		    "status")), c->status);
		assert_string_equal(json_string_value(json_object_get(j, "host")),
		    "fixture-host");
		assert_string_equal(json_string_value(json_object_get(j,
		    "kernel_release")), s->sysctl.osrelease);
		when = json_string_value(json_object_get(j, "generated_at"));
		assert_non_null(when);
		assert_int_equal(strlen(when), 24);	/* 2026-01-02T03:04:05.678Z */
		assert_int_equal(when[10], 'T');
		assert_int_equal(when[19], '.');
		assert_int_equal(when[23], 'Z');
		f = json_object_get(j, "findings");
		assert_true(json_is_array(f));
		assert_int_equal(json_array_size(f), c->finding ? 1 : 0);
		if (c->finding) {
			json_t *f0 = json_array_get(f, 0);

			assert_string_equal(json_string_value(json_object_get(f0,
			    "id")), c->finding);
			assert_true(json_is_object(json_object_get(f0,
			    "evidence")));
			assert_true(json_is_object(json_object_get(f0,
			    "remediation")));
			assert_true(strlen(json_string_value(json_object_get(f0,
			    "title"))) > 0);
		}
		src = json_object_get(j, "sources");
		for (int k = 0; k < SRC_COUNT; k++) {
			json_t *o = json_object_get(src, source_name[k]);

			assert_non_null(o);
			assert_string_equal(json_string_value(json_object_get(o,
			    "state")), source_state_name[s->source[k].state]);
		}
		assert_string_equal(json_string_value(json_object_get(
		    json_object_get(src, "netstat"), "state")), "ok");
		assert_true(json_is_null(json_object_get(json_object_get(src,
		    "netstat"), "error")));
		keys = json_object_get(json_object_get(src, "sysctl"), "keys");
		assert_string_equal(json_string_value(json_object_get(
		    json_object_get(keys, "net.ipv4.tcp_tw_recycle"), "state")),
		    c->recycle_state);
		/* The text form is a JSON document plus a newline. */
		text = render_json_text(j, &len);
		assert_non_null(text);
		assert_int_equal(strlen(text), len);
		assert_int_equal(text[len - 1], '\n');
		{
			json_error_t e;
			json_t *back = json_loadb(text, len, 0, &e);

			assert_non_null(back);
			assert_true(json_equal(back, j));
			json_decref(back);
		}
		free(text);
		json_decref(j);
		snapshot_unref(s);
	}
}

static void
test_advice_netns(void **state)
{
	static const char *const labels[] = { "ns\"0", "ns1" };
	struct snapshot *s = fixture("linux-6.18");
	json_t *j, *a;

	(void)state;
	add_netns(s, labels, 2);
	s->host_status = STATUS_OK;
	s->status = STATUS_WARNING;	/* worst of the host and its netns */
	j = render_advice(s);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j,
	    "host_status")), "ok");
	a = json_object_get(j, "namespaces");
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(a, 0), "netns")), "ns\"0");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(a, 1), "status")), "warning");
	assert_true(json_is_true(json_object_get(json_array_get(a, 1),
	    "audited")));
	json_decref(j);
	snapshot_unref(s);
}

/* Untrusted strings that are not UTF-8 still give a document. */
static void
test_advice_not_utf8(void **state)
{
	struct snapshot *s = fixture("linux-4.4");
	json_t *j;
	size_t len;
	char *t;

	(void)state;
	snprintf(s->host, sizeof(s->host), "host-\xff\xfe");
	snprintf(s->sysctl.osrelease, sizeof(s->sysctl.osrelease),
	    "4.4.0-\xc3");
	j = render_advice(s);
	/* The bytes jansson refuses become '?': /advice still answers. */
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "status")),
	    "ok");
	assert_true(json_is_string(json_object_get(j, "host")));
	assert_string_equal(json_string_value(json_object_get(j, "host")),
	    "host-??");
	assert_string_equal(json_string_value(json_object_get(j,
	    "kernel_release")), "4.4.0-?");
	json_decref(j);
	t = render_jsonl(s, &len);
	assert_non_null(t);
	assert_non_null(strstr(t, "\"host\":\"host-??\""));
	free(t);
	/* UTF-8 stays as it is. */
	snprintf(s->host, sizeof(s->host), "h\xc3\xb4te");
	j = render_advice(s);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "host")),
	    "h\xc3\xb4te");
	json_decref(j);
	snapshot_unref(s);
}

/*
 * Figures: the text output rounds them to 3 significant digits; JSON keeps
 * at most 6, and integers whole.
 */
static void
test_figures(void **state)
{
	struct snapshot *s = fixture("linux-4.19");
	struct finding *fd;
	struct ev_part *p;
	json_t *j;
	size_t len;
	char *t;

	(void)state;
	findings_clear(&s->findings);
	fd = &s->findings.f[s->findings.n++];
	fd->id = "test_figures";
	fd->severity = SEV_INFO;
	fd->title = "figures";
	p = evidence_add(&fd->evidence, EV_REAL, "per_min");
	assert_non_null(p);
	p->u.real = 2.0 / 60;
	p = evidence_add(&fd->evidence, EV_REAL, "big");
	p->u.real = 123456.789;
	p = evidence_add(&fd->evidence, EV_INT, "count");
	p->u.i = 1234567890123LL;
	t = render_text(s, &len);
	assert_non_null(t);
	assert_non_null(strstr(t, "\n    per_min: 0.0333\n"));
	assert_non_null(strstr(t, "\n    big: 123000\n"));
	assert_non_null(strstr(t, "\n    count: 1234567890123\n"));
	free(t);

	j = render_advice(s);
	assert_non_null(j);
	t = render_json_text(j, &len);
	assert_non_null(t);
	assert_non_null(strstr(t, "\"per_min\": 0.0333333,"));
	assert_non_null(strstr(t, "\"big\": 123457.0,"));
	assert_non_null(strstr(t, "\"count\": 1234567890123"));
	free(t);
	json_decref(j);
	t = render_jsonl(s, &len);
	assert_non_null(strstr(t, "\"per_min\":0.0333333,"));
	free(t);
	snapshot_unref(s);
}

/* The first line of T is WANT (plus its newline). */
static void
assert_first_line(const char *t, const char *want)
{
	size_t n = strcspn(t, "\n");

	if (strlen(want) != n || strncmp(t, want, n) != 0 || t[n] != '\n')
		fail_msg("first line:\n  %.*s\nwant\n  %s", (int)n, t, want);
}

static void
test_text(void **state)
{
	struct snapshot *s;
	size_t len;
	char *t;

	(void)state;
	s = fixture("linux-3.10-recycle");
	t = render_text(s, &len);
	assert_non_null(t);
	assert_int_equal(strlen(t), len);
	assert_first_line(t, "TWAUDIT CRITICAL - 1 finding (1 critical, "
	    "0 warning, 0 unknown, 0 info) host=fixture-host "
	    "kernel=3.10.0-1160.el7.x86_64 | critical=1 warning=0 unknown=0 "
	    "info=0 PAWSPassive=1234c PAWSEstab=17c timewait_sockets=1480;;;0");
	assert_non_null(strstr(t, "\n[CRITICAL] tw_recycle_nat_drops: "));
	assert_non_null(strstr(t, "\nsources: sysctl=ok netstat=ok"));
	free(t);
	snapshot_unref(s);

	s = fixture("linux-6.18-tsoff");
	t = render_text(s, &len);
	assert_non_null(t);
	assert_first_line(t, "TWAUDIT OK - 1 finding (0 critical, 0 warning, "
	    "0 unknown, 1 info) host=fixture-host kernel=6.18.44 | critical=0 "
	    "warning=0 unknown=0 info=1 PAWSPassive=U PAWSTimewait=0c "
	    "timewait_sockets=9800;;;0");
	free(t);
	snapshot_unref(s);

	s = fixture("linux-4.19");
	/* Terminal escapes in untrusted strings are neutralised. */
	snprintf(s->host, sizeof(s->host), "h\x1b[31mred|x");
	snprintf(s->sysctl.osrelease, sizeof(s->sysctl.osrelease), "4.19\x07");
	t = render_text(s, &len);
	assert_non_null(t);
	assert_first_line(t, "TWAUDIT OK - 0 findings (0 critical, 0 warning, "
	    "0 unknown, 0 info) host=h\\x1b[31mred\\x7cx kernel=4.19\\x07 | "
	    "critical=0 warning=0 unknown=0 info=0 PAWSPassive=U PAWSEstab=9c "
	    "timewait_sockets=5021;;;0");
	assert_null(strchr(t, '\x1b'));
	free(t);
	snapshot_unref(s);

	s = fixture("linux-6.18");
	s->sysctl.osrelease[0] = '\0';
	t = render_text(s, &len);
	assert_non_null(strstr(t, " kernel=unknown | "));
	free(t);
	/* Counters the kernel lacks are "U" (undetermined). */
	s->counters.present[CTR_PAWS_TIMEWAIT] = false;
	s->counters.present[CTR_PAWS_ESTAB] = false;
	s->sockstat.present[SS_TCP_TW] = false;
	t = render_text(s, &len);
	assert_non_null(strstr(t, " PAWSPassive=U PAWSTimewait=U "
	    "timewait_sockets=U\n"));
	free(t);
	snapshot_unref(s);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(empty_root) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	rmdir(empty_root);
	return 0;
}

/* Addresses, the timestamp ratio and /api/history's points come from the
 * snapshot's view (snapshot_derive()), formatted when it is built. */
static void
test_view_rendered(void **state)
{
	struct snapshot *s = fixture("linux-6.18");
	struct sock_diag_addr v4 = { .family = AF_INET, .addr = { 192, 0, 2, 7 } };
	struct sock_diag_addr v6 = { .family = AF_INET6,
	    .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	json_t *j, *d;
	char *b;
	size_t len;

	(void)state;
	s->source[SRC_SOCK_DIAG].state = SOURCE_OK;
	s->sockdiag.ntop_remotes = 1;
	s->sockdiag.top_remotes[0].addr = v4;
	s->sockdiag.top_remotes[0].count = 3;
	s->sockdiag.est_info = 4;
	s->sockdiag.est_ts = 1;
	s->source[SRC_TCP_METRICS].state = SOURCE_OK;
	s->tcpm.nrecent = 1;
	s->tcpm.recent[0].addr = v6;
	s->tcpm.recent[0].saddr = v4;
	snapshot_derive(s, NULL);
	j = render_advice(s);
	assert_non_null(j);
	d = json_object_get(json_object_get(json_object_get(j, "sources"),
	    "sock_diag"), "details");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(d, "timewait_top_remotes"), 0), "address")),
	    "192.0.2.7");
	assert_true(json_real_value(json_object_get(d,
	    "timestamps_negotiated_ratio")) == 0.25);
	d = json_array_get(json_object_get(json_object_get(json_object_get(
	    json_object_get(j, "sources"), "tcp_metrics"), "details"),
	    "recent"), 0);
	assert_string_equal(json_string_value(json_object_get(d, "address")),
	    "2001:db8::1");
	assert_string_equal(json_string_value(json_object_get(d,
	    "server_address")), "192.0.2.7");
	json_decref(j);
	b = prom(s, EXPO_PROM_004);
	assert_line(b, "twaudit_tcp_timestamps_negotiated_ratio 0.250000");
	free(b);
	/* No history in the snapshot: empty series, null snapshot alike. */
	for (int k = 0; k < 2; k++) {
		b = render_history(k ? NULL : s, &len);
		assert_non_null(b);
		j = json_loadb(b, len, 0, NULL);
		assert_non_null(j);
		assert_int_equal(json_array_size(json_object_get(j, "time")), 0);
		d = json_object_get(json_object_get(j, "series"), "PAWSPassive");
		assert_true(json_is_array(d) && json_array_size(d) == 0);
		json_decref(j);
		free(b);
	}
	/* Two samples 5 s apart: one point, PAWSPassive +10 = 120/min. */
	{
		struct history *h = history_new(4);
		struct counter_set c = { 0 };

		c.present[CTR_PAWS_PASSIVE] = true;
		history_add(h, 10, &c, 5);
		c.value[CTR_PAWS_PASSIVE] = 10;
		history_add(h, 15, &c, 6);
		snapshot_derive(s, h);
		history_free(h);
	}
	b = render_history(s, &len);
	j = json_loadb(b, len, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "time")), 1);
	d = json_object_get(j, "series");
	assert_true(json_real_value(json_array_get(json_object_get(d,
	    "PAWSPassive"), 0)) == 120);
	assert_true(json_is_null(json_array_get(json_object_get(d,
	    "ListenDrops"), 0)));
	assert_int_equal(json_integer_value(json_array_get(json_object_get(
	    json_object_get(j, "gauges"), "TimeWaitSockets"), 0)), 6);
	json_decref(j);
	free(b);
	snapshot_unref(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape_004),
		cmocka_unit_test(test_shape_openmetrics),
		cmocka_unit_test(test_exporter_metrics),
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_collector_state),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_label_utf8),
		cmocka_unit_test(test_netns_labels),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_advice),
		cmocka_unit_test(test_advice_netns),
		cmocka_unit_test(test_advice_not_utf8),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_figures),
		cmocka_unit_test(test_view_rendered),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
