/*
 * The flag sets the commands share, one per concern: the cli_flag entries
 * (a macro that expands to them, bound to the concern's options struct)
 * and the concern's validation. A command composes the sets it takes into
 * one table and reports every refusal through flags_fail(), so a given
 * mistake reads the same in every command; only the exit status differs
 * (struct cmd_conv: check follows the Nagios convention, 3 for all).
 * The sampler's set is LIVE_FLAGS in agent/live.h.
 */
#ifndef TWAUDIT_CMD_FLAGS_H
#define TWAUDIT_CMD_FLAGS_H

#include <stdbool.h>

#include "agent/netns.h"
#include "agent/policy.h"
#include "agent/snapshot.h"
#include "lib/cli.h"
#include "web/twlimits.h"

/* A command's name and exit statuses for a usage error and bad input. */
struct cmd_conv {
	const char *cmd;
	int usage;
	int input;
};

/* Print "twaudit CMD: MESSAGE" to stderr; returns STATUS. */
int flags_fail(const struct cmd_conv *cv, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Completion generation (complete.h): while FN is set, flags_parse() hands
 * FN the command's flag table and returns 0 at once, so running a command
 * shows its table without doing anything else. NULL unsets it.
 */
typedef void (*flags_dump_fn)(const char *cmd, const struct cli_flag *flags,
    void *arg);
void flags_set_dump(flags_dump_fn fn, void *arg);

/* The message of the last flags_fail() ("" before any): check's plugin line. */
const char *flags_last_failure(void);

/* Every command: --log.level, --log.format, --version. */
struct common_opts {
	const char *level, *format;
	bool version;
};
#define COMMON_OPTS_DEFAULT { "info", "logfmt", false }
#define COMMON_FLAGS(o) \
	{ "log.level", CLI_STRING, &(o).level, "LEVEL", \
	    "debug, info, warn or error", "info" }, \
	{ "log.format", CLI_STRING, &(o).format, "FORMAT", \
	    "logfmt or json (one JSON object a line)", "logfmt" }, \
	{ "version", CLI_BOOL, &(o).version, NULL, \
	    "print version and build information, then exit", NULL }

/*
 * Parse ARGV against FLAGS (which hold COMMON_FLAGS(*COMMON)) and apply
 * the log settings. Returns -1 to go on, or the status to exit with:
 * 0 after --help or --version, CV->usage on a usage error.
 */
int flags_parse(const struct cmd_conv *cv, const struct cli_flag *flags,
    int argc, char **argv, struct cli_list *pos, const char *synopsis,
    const char *description, struct common_opts *common);

/* --path.procfs, --path.rootfs: the audited tree. */
struct paths_opts {
	const char *procfs, *rootfs;
};
#define PATHS_OPTS_DEFAULT { "/proc", "/" }
#define PATHS_FLAGS(o) \
	{ "path.procfs", CLI_STRING, &(o).procfs, "PATH", \
	    "procfs mount point", "/proc" }, \
	{ "path.rootfs", CLI_STRING, &(o).rootfs, "PATH", \
	    "root of the filesystem holding /etc/sysctl.d etc.", "/" }
/* Both must be directories: -1 (or CV->input, reported) otherwise 0. */
int paths_check(const struct paths_opts *o, const struct cmd_conv *cv);

/*
 * --collector.NAME / --no-collector.NAME for every source (source.h),
 * --sampler.enabled (the same switch as --collector.sampler: the last
 * given wins), --collector.disable-defaults, --collect.timeout (whose
 * help ends with TIMEOUT_MORE, a string literal), and serve's
 * --collect.min-interval (COLLECT_MIN_INTERVAL_FLAG).
 */
struct collect_opts {
	int on[SRC_COUNT];	/* -1: not given, else 0 or 1 */
	bool disable_defaults;
	double timeout, min_interval;
	/* Set by collect_resolve(). */
	unsigned char sw[SRC_COUNT];	/* enum collect_switch */
	bool foreign;
	char foreign_why[SOURCE_ERR_LEN];
};
_Static_assert(SRC_COUNT == 8, "COLLECT_OPTS_DEFAULT has one -1 a source");
#define COLLECT_OPTS_DEFAULT { { -1, -1, -1, -1, -1, -1, -1, -1 }, false, \
	COLLECT_TIMEOUT_DEFAULT, 1.0, { 0 }, false, "" }
#define COLLECTOR_FLAG(o, id, name, help) \
	{ "collector." name, CLI_TRISTATE, &(o).on[SRC_##id], NULL, help, \
	    "true" }
#define COLLECTOR_LOCAL " (in a tree that is not this host's: off unless " \
	"named)"
#define COLLECTOR_FLAGS(o) \
	COLLECTOR_FLAG(o, SYSCTL, "sysctl", "read the runtime sysctls under " \
	    "--path.procfs (without them check says UNKNOWN)"), \
	COLLECTOR_FLAG(o, NETSTAT, "netstat", "read net/netstat (TcpExt " \
	    "counters)"), \
	COLLECTOR_FLAG(o, SNMP, "snmp", "read net/snmp (Tcp counters)"), \
	COLLECTOR_FLAG(o, SOCKSTAT, "sockstat", "read net/sockstat and " \
	    "net/sockstat6 (TIME-WAIT sockets)"), \
	COLLECTOR_FLAG(o, PERSIST, "persist", "read the sysctl.d files " \
	    "under --path.rootfs"), \
	COLLECTOR_FLAG(o, SOCK_DIAG, "sock_diag", "count sockets per state " \
	    "over netlink (sock_diag)" COLLECTOR_LOCAL), \
	COLLECTOR_FLAG(o, TCP_METRICS, "tcp_metrics", "dump the kernel's " \
	    "tcp_metrics peer table" COLLECTOR_LOCAL), \
	COLLECTOR_FLAG(o, SAMPLER, "sampler", "the live sampler: capture " \
	    "SYN/FIN/RST and run the peer-table model (needs CAP_NET_RAW)" \
	    COLLECTOR_LOCAL), \
	{ "sampler.enabled", CLI_TRISTATE, &(o).on[SRC_SAMPLER], NULL, \
	    "same as --collector.sampler (the last given wins)", "true" }, \
	{ "collector.disable-defaults", CLI_BOOL, &(o).disable_defaults, \
	    NULL, "run only the collectors named with --collector.NAME", \
	    "false" }
#define COLLECT_MIN_INTERVAL_FLAG(o) \
	{ "collect.min-interval", CLI_DURATION, &(o).min_interval, "DURATION", \
	    "scrapes within this long of a collection reuse it", "1s" }
#define COLLECT_TIMEOUT_FLAG(o, TIMEOUT_MORE) \
	{ "collect.timeout", CLI_DURATION, &(o).timeout, "DURATION", \
	    "budget of one collection across all sources and " \
	    "namespaces; sources not reached fail with \"deadline " \
	    "exceeded\"" TIMEOUT_MORE, "8s" }
int collect_check(const struct collect_opts *o, const struct cmd_conv *cv);
/*
 * After paths_check(): whether the tree at PATHS is this host's
 * (foreign.h) and, from the flags, each source's switch: off when
 * disabled, or a local-kernel source in a foreign tree not named with
 * --collector.NAME. Logs (debug) what it decided about the tree.
 */
void collect_resolve(struct collect_opts *o, const struct paths_opts *paths);
/* Copy the switches into P (what snapshot_collect reads). */
void collect_apply(const struct collect_opts *o, struct collect_paths *p);
/* The sampler is to run (--collector.sampler, default, not foreign). */
bool collect_sampler_on(const struct collect_opts *o);

/* --netns: the namespaces to audit besides the current one. */
struct netns_opts {
	struct cli_list given;
	struct netns_spec spec;	/* built by netns_opts_check */
	bool all;		/* "all" among them */
};
#define NETNS_FLAGS(o) \
	{ "netns", CLI_LIST, &(o).given, "all|NAME|PATH", \
	    "also audit these network namespaces (repeatable; needs " \
	    "CAP_SYS_ADMIN)", NULL }
int netns_opts_check(struct netns_opts *o, const struct cmd_conv *cv);

/* --policy FILE. */
struct policy_opts {
	const char *file;
};
#define POLICY_FLAGS(o) \
	{ "policy", CLI_STRING, &(o).file, "FILE", \
	    "check sysctls against this policy (docs/policy.md)", NULL }
/* *OUT is the loaded policy (NULL without --policy); the caller frees it. */
int policy_opts_load(const struct policy_opts *o, struct policy **out,
    const struct cmd_conv *cv);

/*
 * serve's --web.*: listeners, TLS and auth, idle connections, where the
 * metrics are served and how many scrapes at once, the exporter metrics.
 */
struct web_opts {
	struct cli_list listen;
	bool systemd_socket;
	const char *config_file;
	double idle_timeout;
	const char *telemetry_path;
	unsigned long max_requests;
	bool disable_exporter_metrics;
};
#define WEB_OPTS_DEFAULT { { 0 }, false, "", HTTP_IDLE_TIMEOUT_SECONDS, \
	"/metrics", HTTP_MAX_REQUESTS_DEFAULT, false }
#define WEB_FLAGS(o) \
	{ "web.listen-address", CLI_LIST, &(o).listen, "ADDR:PORT", \
	    "address to listen on", ":9477" }, \
	{ "web.systemd-socket", CLI_BOOL, &(o).systemd_socket, NULL, \
	    "listen on the sockets systemd passes (socket activation: " \
	    "LISTEN_FDS) instead of --web.listen-address", "false" }, \
	{ "web.config.file", CLI_STRING, &(o).config_file, "FILE", \
	    "exporter-toolkit web config: TLS and basic auth; reread " \
	    "on SIGHUP", NULL }, \
	{ "web.idle-timeout", CLI_DURATION, &(o).idle_timeout, "DURATION", \
	    "keep an idle kept-alive HTTP connection open this long " \
	    "between requests (1s to 1h; a request under way has 10s)", \
	    "2m" }, \
	{ "web.telemetry-path", CLI_STRING, &(o).telemetry_path, "PATH", \
	    "path under which to expose metrics (not /, /advice, /model, " \
	    "/api/history or /healthz)", "/metrics" }, \
	{ "web.max-requests", CLI_UINT, &(o).max_requests, "N", \
	    "maximum number of parallel scrape requests; more are " \
	    "answered 503 at once (0 disables the limit)", "40" }, \
	{ "web.disable-exporter-metrics", CLI_BOOL, \
	    &(o).disable_exporter_metrics, NULL, \
	    "exclude metrics about the exporter itself (process_*, " \
	    "twaudit_http_*, twaudit_log_lines_suppressed_total)", "false" }
/*
 * The idle timeout's range, the telemetry path (http.h), the default
 * listen address when none given.
 */
int web_opts_check(struct web_opts *o, const struct cmd_conv *cv);

/* serve's --user / --security.*: who it runs as, the syscall filter. */
struct security_opts {
	const char *user;	/* NULL: not given, privs_default_user() */
	bool seccomp, seccomp_log;
};
#define SECURITY_OPTS_DEFAULT { NULL, true, false }
#define SECURITY_FLAGS(o) \
	{ "user", CLI_STRING, &(o).user, "USER", \
	    "switch to USER after start-up, keeping only the " \
	    "capabilities in use (started as root: nobody by default; " \
	    "empty: keep the uid)", "nobody" }, \
	{ "security.user", CLI_STRING, &(o).user, "USER", \
	    "same as --user", NULL }, \
	{ "security.seccomp", CLI_BOOL, &(o).seccomp, NULL, \
	    "confine serve to a syscall allow-list after start-up", \
	    "true" }, \
	{ "security.seccomp.log", CLI_BOOL, &(o).seccomp_log, NULL, \
	    "log syscalls outside the allow-list instead of killing " \
	    "(to debug the list)", "false" }

#endif
