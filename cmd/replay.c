/*
 * `twaudit replay FILE`: run a pcap/pcapng capture taken at a server
 * through the peer-table model (model/model.h) for the selected kernel
 * profile and settings, and through the what-if models, all in one pass
 * over the file (the engine: replay_engine.h, which also says how the
 * server side is found). This file holds the command: its flags, the
 * wiring of capture and engine, and the text and JSON output.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/cli.h"
#include "cmd/commands.h"
#include "cmd/flags.h"
#include "model/model.h"
#include "collectors/pcap_source.h"
#include "agent/replay_engine.h"
#include "lib/util.h"

/* Top sources printed when --top is not given. */
#define REPLAY_TOP_DEFAULT	10
#define REPLAY_TOP_MAX		10000
#define DEFAULT_KERNEL		"6.18"

_Static_assert(CLI_MAX_LIST <= REPLAY_MAX_EXPLICIT,
    "every --server value fits the engine's list");

static const char replay_desc[] =
    "Replay a pcap/pcapng capture taken at a server (FILE, or - for stdin)\n"
    "through the kernel's timestamp (PAWS) SYN checks: how many SYNs the\n"
    "selected kernel with the selected settings refuses, why, from which\n"
    "sources (and how many hosts behind each), and what every other kernel\n"
    "profile and setting would do with the same traffic. Exit 0 on success\n"
    "(bad packets are skipped and counted; a file cut short ends with a\n"
    "warning), 1 on a usage error, 2 when FILE cannot be read as a capture.";

/* ------------------------------------------------------------------
 * Output
 */

static void
addr_str(uint8_t family, const uint8_t *addr, char *out, size_t len)
{
	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, out,
	    (socklen_t)len) == NULL)
		snprintf(out, len, "?");
}

static const char *
class_name(uint8_t c)
{
	return c == MODEL_NAT_HOSTS ? "hosts" :
	    c == MODEL_NAT_PER_CONN ? "per_connection" : "unknown";
}

static json_t *
settings_json(const struct model_config *cfg, bool with_overrides)
{
	json_t *o = json_object(), *ch = json_array();

	for (int s = 0; s < MODEL_NSETTINGS; s++)
		json_object_set_new(o, model_setting_name((enum model_setting)s),
		    json_integer(cfg->setting[s]));
	for (unsigned i = 0; i < cfg->nchanges; i++) {
		json_t *c = json_object();
		json_object_set_new(c, "name",
		    json_string(model_setting_name(
		    (enum model_setting)cfg->change[i].setting)));
		json_object_set_new(c, "value",
		    json_integer(cfg->change[i].value));
		json_object_set_new(c, "at_seconds",
		    json_real((double)cfg->change[i].at_us / 1e6));
		json_array_append_new(ch, c);
	}
	json_object_set_new(o, "changes", ch);
	if (with_overrides) {
		json_t *ov = json_object();
		for (int b = 0; b < MODEL_NBEHAVIOURS; b++)
			if (cfg->override[b] >= 0)
				json_object_set_new(ov, model_behaviour_name(
				    (enum model_behaviour)b),
				    json_boolean(cfg->override[b]));
		json_object_set_new(o, "overrides", ov);
	}
	return o;
}

/* What the renderers show: the engine's figures and the capture's. */
struct result {
	const char *file;
	const char *kernel;
	const char *linktype;
	const struct model_config *cfg;	/* the selected model's */
	const struct pcap_source_stats *ps;
	struct replay_result rr;
	struct model_stats st;		/* rr.st */
	struct model_source *top;
	size_t ntop;
	bool truncated;
	const char *warnings[4];
	unsigned nwarnings;
};

/* The diagnosis row's settings at the start of the capture. */
static json_t *
diag_settings_json(const struct model_config *cfg)
{
	json_t *x = json_object();

	json_object_set_new(x, "net.ipv4.tcp_tw_recycle",
	    json_integer(cfg->setting[MS_TW_RECYCLE]));
	json_object_set_new(x, "net.ipv4.tcp_timestamps",
	    json_integer(cfg->setting[MS_TIMESTAMPS]));
	json_object_set_new(x, "net.ipv4.tcp_rfc1337",
	    json_integer(cfg->setting[MS_RFC1337]));
	return x;
}

/* "diagnosis": the best-explaining row, null without the what-if rows. */
static json_t *
diagnosis_json(const struct replay_result *rr)
{
	const struct replay_diagnosis *d = &rr->diagnosis;
	const struct replay_whatif *w;
	json_t *o, *a;

	if (!d->present)
		return json_null();
	w = &rr->whatif[d->row];
	o = json_object();
	json_object_set_new(o, "profile",
	    json_string(model_profile_name(w->profile)));
	json_object_set_new(o, "settings", diag_settings_json(&w->cfg));
	json_object_set_new(o, "explains", json_boolean(d->explains));
	json_object_set_new(o, "explained_unanswered",
	    json_integer((json_int_t)d->explained_unanswered));
	json_object_set_new(o, "unexplained_unanswered",
	    json_integer((json_int_t)d->unexplained_unanswered));
	json_object_set_new(o, "predicted_but_answered",
	    json_integer((json_int_t)d->predicted_but_answered));
	a = json_array();
	for (unsigned i = 0; i < d->nequivalent; i++) {
		const struct replay_whatif *e = &rr->whatif[d->equivalent[i]];
		json_t *x = json_object();
		json_object_set_new(x, "profile",
		    json_string(model_profile_name(e->profile)));
		json_object_set_new(x, "settings", diag_settings_json(&e->cfg));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "equivalent", a);
	return o;
}

/* The diagnosis line of the text output. */
static void
diagnosis_text(FILE *f, const struct replay_result *rr)
{
	const struct replay_diagnosis *d = &rr->diagnosis;
	const struct replay_whatif *w;
	uint64_t unanswered;

	if (!d->present)
		return;
	w = &rr->whatif[d->row];
	unanswered = d->explained_unanswered + d->unexplained_unanswered;
	fprintf(f, "\n");
	if (!d->explains)
		fprintf(f, "No setting explains the %" PRIu64 " unanswered "
		    "SYNs (capture loss, backlog overflow, a firewall or an "
		    "RST answer also leave SYNs unanswered); closest: ",
		    unanswered);
	else
		fprintf(f, "Best explained by ");
	fprintf(f, "tcp_tw_recycle=%d", w->cfg.setting[MS_TW_RECYCLE]);
	if (w->cfg.setting[MS_TIMESTAMPS] != 1)
		fprintf(f, " tcp_timestamps=%d", w->cfg.setting[MS_TIMESTAMPS]);
	if (w->cfg.setting[MS_RFC1337] != 0)
		fprintf(f, " tcp_rfc1337=%d", w->cfg.setting[MS_RFC1337]);
	fprintf(f, " on %s: %" PRIu64 " of %" PRIu64 " unanswered SYNs "
	    "explained, %" PRIu64 " predicted but answered.",
	    model_profile_name(w->profile), d->explained_unanswered,
	    unanswered, d->predicted_but_answered);
	if (d->nequivalent > 0)
		fprintf(f, " %u other row%s predict%s the same SYNs.",
		    d->nequivalent, d->nequivalent == 1 ? "" : "s",
		    d->nequivalent == 1 ? "s" : "");
	if (d->evictions > 0)
		fprintf(f, " (%" PRIu64 " pending SYNs evicted.)", d->evictions);
	fprintf(f, "\n");
}

static json_t *
result_json(const struct result *res)
{
	const struct model_config *cfg = res->cfg;
	json_t *o = json_object(), *a, *x;
	char buf[INET6_ADDRSTRLEN];

	json_object_set_new(o, "file", json_string(res->file));
	json_object_set_new(o, "linktype", json_string(res->linktype));
	json_object_set_new(o, "packets", json_integer((json_int_t)
	    res->ps->packets));
	json_object_set_new(o, "events", json_integer((json_int_t)res->rr.fed));
	json_object_set_new(o, "syns", json_integer((json_int_t)res->st.syns));
	json_object_set_new(o, "connections",
	    json_integer((json_int_t)res->st.connections));
	json_object_set_new(o, "kernel", json_string(res->kernel));
	json_object_set_new(o, "profile",
	    json_string(model_profile_name(cfg->profile)));
	x = json_object();
	for (int b = 0; b < MODEL_NBEHAVIOURS; b++)
		json_object_set_new(x, model_behaviour_name(
		    (enum model_behaviour)b), json_boolean(
		    model_config_behaviour(cfg, (enum model_behaviour)b)));
	json_object_set_new(o, "behaviours", x);
	json_object_set_new(o, "settings", settings_json(cfg, true));
	json_object_set_new(o, "predicted_rejections",
	    json_integer((json_int_t)res->st.predicted_rejections));
	x = json_object();
	json_object_set_new(x, "passive_paws", json_integer((json_int_t)
	    res->st.by_reason[MODEL_R_PASSIVE_PAWS]));
	json_object_set_new(x, "timewait_paws", json_integer((json_int_t)
	    res->st.by_reason[MODEL_R_TIMEWAIT_PAWS]));
	json_object_set_new(x, "timewait_seq", json_integer((json_int_t)
	    res->st.by_reason[MODEL_R_TIMEWAIT_SEQ]));
	json_object_set_new(o, "rejections_by_reason", x);
	x = json_object();
	{
		static const char *const cn[MODEL_NCOUNTERS] = {
			"PAWSPassive", "ListenDrops", "PAWSEstab",
			"PAWSTimewait", "TCPACKSkippedTimeWait", "TW"
		};
		for (int c = 0; c < MODEL_NCOUNTERS; c++)
			json_object_set_new(x, cn[c], json_integer(
			    (json_int_t)res->st.counters[c]));
	}
	json_object_set_new(o, "counters", x);
	a = json_array();
	for (unsigned i = 0; i < res->rr.nwhatif; i++) {
		const struct replay_whatif *w = &res->rr.whatif[i];
		x = json_object();
		json_object_set_new(x, "profile",
		    json_string(model_profile_name(w->profile)));
		json_object_set_new(x, "variant",
		    json_string(replay_variant_name(w->variant)));
		json_object_set_new(x, "settings",
		    settings_json(&w->cfg, false));
		json_object_set_new(x, "predicted_rejections",
		    json_integer((json_int_t)w->predicted_rejections));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "what_if", a);
	json_object_set_new(o, "diagnosis", diagnosis_json(&res->rr));
	json_object_set_new(o, "observed_unanswered_syns", json_integer(
	    (json_int_t)res->st.observed_unanswered_syns));
	json_object_set_new(o, "warmup", json_integer((json_int_t)
	    res->st.warmup));
	a = json_array();
	for (size_t i = 0; i < res->ntop; i++) {
		const struct model_source *s = &res->top[i];
		x = json_object();
		addr_str(s->family, s->addr, buf, sizeof(buf));
		json_object_set_new(x, "address", json_string(buf));
		json_object_set_new(x, "syns", json_integer((json_int_t)s->syns));
		json_object_set_new(x, "predicted_rejections",
		    json_integer((json_int_t)s->predicted_rejections));
		json_object_set_new(x, "estimated_hosts",
		    s->nat_class == MODEL_NAT_HOSTS ?
		    json_integer(s->estimated_hosts) : json_null());
		json_object_set_new(x, "class",
		    json_string(class_name(s->nat_class)));
		json_object_set_new(x, "confidence", json_real(s->confidence));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "sources", a);
	x = json_object();
	json_object_set_new(x, "peers", json_integer((json_int_t)
	    res->st.evictions[MODEL_T_PEERS]));
	json_object_set_new(x, "connections", json_integer((json_int_t)
	    res->st.evictions[MODEL_T_CONNECTIONS]));
	json_object_set_new(x, "sources", json_integer((json_int_t)
	    res->st.evictions[MODEL_T_SOURCES]));
	json_object_set_new(o, "evictions", x);
	x = json_object();
	json_object_set_new(x, "peers", json_integer((json_int_t)
	    res->st.peers));
	json_object_set_new(x, "connections", json_integer((json_int_t)
	    res->st.tracked_connections));
	json_object_set_new(x, "sources", json_integer((json_int_t)
	    res->st.sources));
	json_object_set_new(o, "tables", x);
	x = json_object();
	json_object_set_new(x, "max_peers", json_integer(cfg->max_peers));
	json_object_set_new(x, "max_connections",
	    json_integer(cfg->max_connections));
	json_object_set_new(x, "max_sources", json_integer(cfg->max_sources));
	json_object_set_new(o, "caps", x);
	x = json_object();
	for (int k = 1; k < PACKET_SKIP_COUNT; k++)
		json_object_set_new(x, packet_skip_name((enum packet_skip)k),
		    json_integer((json_int_t)res->ps->skipped[k]));
	json_object_set_new(x, "no_server", json_integer((json_int_t)
	    res->rr.no_server));
	json_object_set_new(o, "skipped", x);
	json_object_set_new(o, "options_truncated", json_integer((json_int_t)
	    res->ps->opts_truncated));
	json_object_set_new(o, "truncated", json_boolean(res->truncated));
	a = json_array();
	for (unsigned i = 0; i < res->nwarnings; i++)
		json_array_append_new(a, json_string(res->warnings[i]));
	json_object_set_new(o, "warnings", a);
	return o;
}

static void
result_text(FILE *f, const struct result *res)
{
	const struct model_config *cfg = res->cfg;
	const struct model_stats *st = &res->st;
	char buf[INET6_ADDRSTRLEN];
	uint64_t skipped = res->rr.no_server;

	for (int k = 1; k < PACKET_SKIP_COUNT; k++)
		skipped += res->ps->skipped[k];
	fprintf(f, "replay of %s (%s)\n", res->file, res->linktype);
	fprintf(f, "  kernel %s, profile %s; tcp_tw_recycle=%d "
	    "tcp_timestamps=%d tcp_rfc1337=%d", res->kernel,
	    model_profile_name(cfg->profile), cfg->setting[MS_TW_RECYCLE],
	    cfg->setting[MS_TIMESTAMPS], cfg->setting[MS_RFC1337]);
	for (unsigned i = 0; i < cfg->nchanges; i++)
		fprintf(f, ", %s=%d@%gs", model_setting_name(
		    (enum model_setting)cfg->change[i].setting),
		    cfg->change[i].value, (double)cfg->change[i].at_us / 1e6);
	fprintf(f, "\n");
	fprintf(f, "  %" PRIu64 " SYN/FIN/RST packets, %" PRIu64 " SYNs to "
	    "the server, %" PRIu64 " connection attempts, %" PRIu64
	    " skipped\n", res->ps->packets, st->syns, st->connections,
	    skipped);
	fprintf(f, "  predicted rejections: %" PRIu64 " (passive PAWS %" PRIu64
	    ", TIME-WAIT PAWS %" PRIu64 ", TIME-WAIT old SYN %" PRIu64 "); "
	    "%" PRIu64 " in a source's first 60 s\n", st->predicted_rejections,
	    st->by_reason[MODEL_R_PASSIVE_PAWS],
	    st->by_reason[MODEL_R_TIMEWAIT_PAWS],
	    st->by_reason[MODEL_R_TIMEWAIT_SEQ], st->warmup);
	fprintf(f, "  observed unanswered SYNs: %" PRIu64 "\n",
	    st->observed_unanswered_syns);
	if (st->evictions[0] + st->evictions[1] + st->evictions[2] > 0)
		fprintf(f, "  evictions: %" PRIu64 " peers, %" PRIu64
		    " connections, %" PRIu64 " sources\n", st->evictions[0],
		    st->evictions[1], st->evictions[2]);
	if (res->rr.nwhatif > 0) {
		fprintf(f, "\nwhat if (predicted rejections)\n");
		fprintf(f, "  %-12s %10s %14s %14s %20s\n", "profile",
		    "as given", "tw_recycle=1", "tw_recycle=0",
		    "timestamps off@60s");
		for (unsigned p = 0; p < model_profile_count(); p++) {
			const struct replay_whatif *row =
			    &res->rr.whatif[p * REPLAY_NVARIANTS];

			fprintf(f, "  %-12s", model_profile_name(
			    (enum model_profile)p));
			fprintf(f, " %10" PRIu64 " %14" PRIu64 " %14" PRIu64
			    " %20" PRIu64 "%s\n", row[0].predicted_rejections,
			    row[1].predicted_rejections,
			    row[2].predicted_rejections,
			    row[3].predicted_rejections,
			    p == (unsigned)cfg->profile ? "  <- selected" : "");
		}
		diagnosis_text(f, &res->rr);
	}
	if (res->ntop > 0) {
		fprintf(f, "\ntop sources\n  %-40s %10s %10s %8s %s\n",
		    "address", "SYNs", "rejected", "hosts", "class");
		for (size_t i = 0; i < res->ntop; i++) {
			const struct model_source *s = &res->top[i];
			char hosts[16] = "-";
			addr_str(s->family, s->addr, buf, sizeof(buf));
			if (s->nat_class == MODEL_NAT_HOSTS)
				snprintf(hosts, sizeof(hosts), "%u",
				    s->estimated_hosts);
			fprintf(f, "  %-40s %10" PRIu64 " %10" PRIu64
			    " %8s %s (confidence %.2f)\n", buf, s->syns,
			    s->predicted_rejections, hosts,
			    class_name(s->nat_class), s->confidence);
		}
	}
	for (unsigned i = 0; i < res->nwarnings; i++)
		fprintf(f, "\nwarning: %s\n", res->warnings[i]);
}

/* ------------------------------------------------------------------
 * The command
 */

static void
progress(const struct pcap_source *src, double t0, bool final)
{
	int64_t off, size;
	double el = now_monotonic() - t0;
	const struct pcap_source_stats *ps = pcap_source_stats(src);

	pcap_source_progress(src, &off, &size);
	fprintf(stderr, "\rreplay: %" PRIu64 " packets, %.0f packets/s",
	    ps->packets, el > 0 ? (double)ps->packets / el : 0.0);
	if (off >= 0 && size > 0)
		fprintf(stderr, ", %.1f%% of the file", 100.0 * (double)off /
		    (double)size);
	fprintf(stderr, "%s", final ? "\n" : "   ");
}

static int
usage_error(const char *msg)
{
	fprintf(stderr, "twaudit replay: %s (see twaudit replay --help)\n", msg);
	return EXIT_USAGE;
}

static int
set_bool_override(struct model_config *cfg, enum model_behaviour b,
    const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		model_config_override(cfg, b, 1);
	else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		model_config_override(cfg, b, 0);
	else if (strcmp(v, "default") == 0)
		model_config_override(cfg, b, -1);
	else {
		set_error(err, errlen, "--kernel.%s: '%s' is not true, false "
		    "or default", model_behaviour_name(b), v);
		return -1;
	}
	return 0;
}

/* The flags' values. */
struct replay_opts {
	const char *format, *kernel, *path;
	const char *behav[MODEL_NBEHAVIOURS];
	struct cli_list sets, servers, pos;
	unsigned long max_peers, max_conns, max_sources, top, threads;
	bool whatif, print_filter, stats;
	struct common_opts common;
	char kbuf[256];
};

/* Parse ARGV into O: -1 to go on, else the exit status (help: 0). */
static int
parse_flags(int argc, char **argv, struct replay_opts *o)
{
	static const struct cmd_conv conv = { "replay", EXIT_USAGE,
	    EXIT_INPUT };
	char bnames[MODEL_NBEHAVIOURS][64], err[256];
	struct cli_flag flags[20 + MODEL_NBEHAVIOURS] = {
		{ "format", CLI_STRING, &o->format, "text|json",
		    "output format", "text" },
		{ "kernel", CLI_STRING, &o->kernel, "VERSION",
		    "kernel release or profile to model (\"4.9.229\", "
		    "\"3.10.0-1160.el7\", \"3.17-4.0\")",
		    "the running kernel, else " DEFAULT_KERNEL },
		{ "set", CLI_LIST, &o->sets, "NAME=VALUE[@SECONDS]",
		    "a setting (net.ipv4.tcp_tw_recycle, tcp_timestamps, "
		    "tcp_rfc1337), from the start or SECONDS into the capture; "
		    "repeatable", NULL },
		{ "server", CLI_LIST, &o->servers, "ADDR[:PORT]",
		    "the server side; repeatable", "every address that "
		    "answers a SYN with a SYN-ACK anywhere in FILE; from stdin "
		    "only within 3 s of capture time after the SYN (earlier "
		    "events are skipped as no_server)" },
		{ "model.max-peers", CLI_UINT, &o->max_peers, "N",
		    "peer-table entries", "65536" },
		{ "model.max-connections", CLI_UINT, &o->max_conns, "N",
		    "tracked 4-tuples (TIME-WAIT included)", "262144" },
		{ "model.max-sources", CLI_UINT, &o->max_sources, "N",
		    "client addresses with NAT clock clustering", "65536" },
		{ "top", CLI_UINT, &o->top, "N", "sources listed", "10" },
		{ "what-if", CLI_BOOL, &o->whatif, NULL,
		    "also run every profile x {as given, tw_recycle=1, "
		    "tw_recycle=0, timestamps off after 60 s}", "true" },
		{ "threads", CLI_UINT, &o->threads, "N",
		    "threads feeding the model instances (each instance is "
		    "fed by one thread at a time; results do not depend on N)",
		    "0: one per CPU, at most one per instance" },
		{ "print-filter", CLI_BOOL, &o->print_filter, NULL,
		    "print the BPF filter for FILE's link type and exit", NULL },
		{ "stats", CLI_BOOL, &o->stats, NULL,
		    "print time, max RSS and the memory bound on stderr", NULL },
		COMMON_FLAGS(o->common),
		{ 0 }
	};
	unsigned nf = 0;
	int rc;

	while (flags[nf].name != NULL)
		nf++;
	for (int b = 0; b < MODEL_NBEHAVIOURS; b++) {
		snprintf(bnames[b], sizeof(bnames[b]), "kernel.%s",
		    model_behaviour_name((enum model_behaviour)b));
		flags[nf++] = (struct cli_flag){ bnames[b], CLI_STRING,
		    &o->behav[b], "true|false", "force this kernel behaviour "
		    "(backports; docs/model.md)", "the profile's" };
	}
	flags[nf].name = NULL;

	rc = flags_parse(&conv, flags, argc, argv, &o->pos, "[flags] FILE",
	    replay_desc, &o->common);
	if (rc >= 0)
		return rc;
	if (o->pos.n != 1)
		return usage_error(o->pos.n == 0 ? "FILE is missing" :
		    "one FILE only");
	o->path = o->pos.v[0];
	if (strcmp(o->format, "text") != 0 && strcmp(o->format, "json") != 0) {
		snprintf(err, sizeof(err), "--format: '%s' is not text or json",
		    o->format);
		return usage_error(err);
	}
	if (o->top > REPLAY_TOP_MAX)
		return usage_error("--top: at most 10000");
	if (o->threads > REPLAY_MAX_THREADS)
		return usage_error("--threads: at most 64");
	return -1;
}

/* The kernel to model when --kernel is not given: the running one if
 * known, else DEFAULT_KERNEL. */
static const char *
running_kernel(struct replay_opts *o, struct model_config *cfg)
{
	char *text = NULL, err[256];
	size_t len;

	snprintf(o->kbuf, sizeof(o->kbuf), "%s", DEFAULT_KERNEL);
	if (read_file_at("/", "/proc/sys/kernel/osrelease", 256, &text,
	    &len) == 0) {
		while (len > 0 && (text[len - 1] == '\n' ||
		    text[len - 1] == ' '))
			text[--len] = '\0';
		snprintf(o->kbuf, sizeof(o->kbuf), "%s", text);
		if (model_profile_from_version(o->kbuf, cfg, err,
		    sizeof(err)) < 0)
			snprintf(o->kbuf, sizeof(o->kbuf), "%s",
			    DEFAULT_KERNEL);
	}
	free(text);
	return o->kbuf;
}

static uint32_t
cap_value(unsigned long v)
{
	return (uint32_t)(v > MODEL_CAP_LIMIT ? MODEL_CAP_LIMIT + 1ul : v);
}

/* The engine's configuration from O: -1 to go on, else the exit status. */
static int
build_config(struct replay_opts *o, struct replay_config *rc)
{
	struct model_config *cfg = &rc->model;
	char err[PCAP_SOURCE_ERR_LEN + 128], e2[sizeof(err) + 16];

	rc->diag_all_profiles = o->kernel == NULL;
	if (o->kernel == NULL)
		o->kernel = running_kernel(o, cfg);
	if (model_profile_from_version(o->kernel, cfg, err, sizeof(err)) < 0) {
		snprintf(e2, sizeof(e2), "--kernel: %s", err);
		return usage_error(e2);
	}
	cfg->max_peers = cap_value(o->max_peers);
	cfg->max_connections = cap_value(o->max_conns);
	cfg->max_sources = cap_value(o->max_sources);
	for (size_t i = 0; i < o->sets.n; i++) {
		if (model_config_set(cfg, o->sets.v[i], err, sizeof(err)) < 0) {
			snprintf(e2, sizeof(e2), "--set: %s", err);
			return usage_error(e2);
		}
	}
	for (int b = 0; b < MODEL_NBEHAVIOURS; b++)
		if (o->behav[b] != NULL && set_bool_override(cfg,
		    (enum model_behaviour)b, o->behav[b], err, sizeof(err)) < 0)
			return usage_error(err);
	if (cfg->max_peers == 0 || cfg->max_connections == 0 ||
	    cfg->max_sources == 0 || cfg->max_peers > MODEL_CAP_LIMIT ||
	    cfg->max_connections > MODEL_CAP_LIMIT ||
	    cfg->max_sources > MODEL_CAP_LIMIT)
		return usage_error("--model.max-*: between 1 and 67108864");
	for (size_t i = 0; i < o->servers.n; i++) {
		if (replay_parse_server(o->servers.v[i], &rc->server[i], err,
		    sizeof(err)) < 0)
			return usage_error(err);
		rc->nservers++;
	}
	rc->whatif = o->whatif;
	rc->threads = (unsigned)o->threads;
	return -1;
}

/* The capture, or NULL with one line on stderr naming the offset. */
static struct pcap_source *
open_source(const char *path)
{
	char err[PCAP_SOURCE_ERR_LEN + 128];
	struct pcap_source *src = pcap_source_open_offline(path, err,
	    sizeof(err));

	if (src == NULL)
		fprintf(stderr, "twaudit replay: %s%s\n", err,
		    strstr(err, "offset") == NULL && strstr(err, "empty") ?
		    " (offset 0)" : "");
	return src;
}

/* Progress on a terminal, at most twice a second. */
struct progress_state {
	const struct pcap_source *src;
	double t0, next;
};

static void
progress_tick(void *arg)
{
	struct progress_state *p = arg;
	double now = now_monotonic();

	if (now >= p->next) {
		progress(p->src, p->t0, false);
		p->next = now + 0.5;
	}
}

/* The engine's figures and the capture's warnings into RES; -1 when
 * memory is short. */
static int
collect(struct replay_engine *e, struct pcap_source *src, int run_rc,
    const struct replay_opts *o, const struct model_config *cfg,
    struct result *res)
{
	memset(res, 0, sizeof(*res));
	res->file = strcmp(o->path, "-") == 0 ? "stdin" : o->path;
	res->kernel = o->kernel;
	res->linktype = pcap_source_linktype_name(src);
	res->cfg = cfg;
	res->ps = pcap_source_stats(src);
	replay_engine_result(e, &res->rr);
	res->st = res->rr.st;
	res->top = o->top > 0 ? calloc(o->top, sizeof(*res->top)) : NULL;
	if (o->top > 0 && res->top == NULL)
		return -1;
	res->ntop = replay_engine_top(e, res->top, o->top);
	if (run_rc < 0) {
		/* An unreadable record: what came before it stands. */
		res->truncated = true;
		res->warnings[res->nwarnings++] = pcap_source_error(src);
	} else if (pcap_source_truncated(src)) {
		res->truncated = true;
		res->warnings[res->nwarnings++] = pcap_source_warning(src);
	}
	if (res->rr.servers_overflow > 0)
		res->warnings[res->nwarnings++] = "more than 4096 server "
		    "addresses answered SYNs; later ones were not learned "
		    "(use --server)";
	return 0;
}

/* RES on stdout as FORMAT; the exit status. */
static int
render(const struct result *res, const char *format)
{
	int status = 0;

	for (unsigned i = 0; i < res->nwarnings; i++)
		fprintf(stderr, "twaudit replay: warning: %s\n",
		    res->warnings[i]);
	if (strcmp(format, "json") == 0) {
		json_t *j = result_json(res);
		char *text = j ? json_dumps(j, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER) : NULL;
		json_decref(j);
		if (text == NULL) {
			fprintf(stderr, "twaudit replay: out of memory\n");
			status = EXIT_INPUT;
		} else {
			fputs(text, stdout);
			fputc('\n', stdout);
			free(text);
		}
	} else {
		result_text(stdout, res);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "twaudit replay: cannot write to stdout: %s\n",
		    strerror(errno));
		status = EXIT_INPUT;
	}
	return status;
}

/* --stats: time, max RSS and the memory bound on stderr. */
static void
print_stats(const struct result *res, double t0)
{
	struct rusage ru;
	double el = now_monotonic() - t0;

	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr, "replay-stats: elapsed_s=%.3f packets=%" PRIu64
	    " events=%" PRIu64 " packets_per_s=%.0f models=%u "
	    "threads=%u max_rss_bytes=%ld memory_bound_bytes=%zu "
	    "selected_model_bound_bytes=%zu\n", el, res->ps->packets,
	    res->rr.fed, el > 0 ? (double)res->ps->packets / el : 0.0,
	    res->rr.models, res->rr.threads, ru.ru_maxrss * 1024L,
	    res->rr.memory_bound, res->rr.selected_bound);
}

int
cmd_replay(int argc, char **argv)
{
	struct replay_opts o = { .format = "text",
	    .max_peers = MODEL_DEFAULT_MAX_PEERS,
	    .max_conns = MODEL_DEFAULT_MAX_CONNECTIONS,
	    .max_sources = MODEL_DEFAULT_MAX_SOURCES,
	    .top = REPLAY_TOP_DEFAULT, .whatif = true,
	    .common = COMMON_OPTS_DEFAULT };
	struct replay_config rc = { .model = model_config_default() };
	struct progress_state pg = { .t0 = now_monotonic() };
	struct replay_engine *e = NULL;
	struct pcap_source *src = NULL;
	struct result res = { 0 };
	char err[PCAP_SOURCE_ERR_LEN + 128];
	bool progress_on = isatty(STDERR_FILENO) == 1;
	int status, run_rc;

	/* Parse, build the configuration, open the capture. */
	if ((status = parse_flags(argc, argv, &o)) >= 0 ||
	    (status = build_config(&o, &rc)) >= 0)
		return status;
	if ((src = open_source(o.path)) == NULL)
		return EXIT_INPUT;
	status = 0;
	if (o.print_filter) {
		printf("%s\n", pcap_source_filter(src));
		goto out;
	}
	/* Build the engine and run the capture through it. */
	if ((e = replay_engine_new(&rc, err, sizeof(err))) == NULL) {
		fprintf(stderr, "twaudit replay: %s\n", err);
		status = EXIT_INPUT;
		goto out;
	}
	pg.src = src;
	pg.next = pg.t0 + 1.0;
	run_rc = replay_engine_run(e, src, progress_on ? progress_tick : NULL,
	    &pg);
	if (progress_on && now_monotonic() >= pg.t0 + 1.0)
		progress(src, pg.t0, true);
	/* Report. */
	if (collect(e, src, run_rc, &o, &rc.model, &res) < 0) {
		fprintf(stderr, "twaudit replay: out of memory\n");
		status = EXIT_INPUT;
		goto out;
	}
	status = render(&res, o.format);
	if (o.stats)
		print_stats(&res, pg.t0);
out:
	free(res.top);
	replay_engine_free(e);
	pcap_source_close(src);
	return status;
}
