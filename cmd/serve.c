/* `twaudit serve`: the exporter daemon. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lib/cli.h"
#include "agent/collect.h"
#include "cmd/commands.h"
#include "cmd/flags.h"
#include "cmd/version.h"
#include "web/http.h"
#include "web/listen.h"
#include "agent/live.h"
#include "lib/log.h"
#include "lib/procstat.h"
#include "lib/util.h"
#include "agent/netns.h"
#include "agent/policy.h"
#include "agent/privs.h"
#include "agent/sandbox.h"
#include "web/twlimits.h"
#include "web/webconfig.h"

static const char serve_desc[] =
    "Serve Prometheus metrics (/metrics), remediation advice as JSON\n"
    "(/advice), a status page (/) and /healthz. A collector thread reads\n"
    "the sources every 5 s (counter history for rates) and when a scrape\n"
    "finds the data older than --collect.min-interval; a scrape waits for\n"
    "it at most --collect.timeout, then answers from the last snapshot.";

/*
 * SIGHUP: reread --web.config.file, failing closed: a file that cannot be
 * read, is not a regular file, is empty (unlike at start-up, where empty
 * means plain HTTP as in exporter-toolkit: on a reload it is far more
 * likely a file caught half-written), does not parse or holds several
 * documents keeps the running config, with an error. A valid file that
 * removes TLS or authentication is applied (a deliberate edit) with a
 * warning.
 */
static void
reload_web_config(struct http_server *h, const char *path)
{
	struct webconfig *wc, *old;
	char err[512], q[600], what[128];

	if (path[0] == '\0') {
		log_info("SIGHUP: no --web.config.file to reload", NULL);
		return;
	}
	if ((wc = webconfig_load(path, err, sizeof(err))) == NULL) {
		log_error("SIGHUP: web config not reloaded, keeping the old one",
		    "error=%s", log_quote(err, q, sizeof(q)));
		return;
	}
	if (webconfig_empty(wc)) {
		log_error("SIGHUP: web config not reloaded, keeping the old one",
		    "error=%s", log_quote("the file is empty (no YAML document)",
		    q, sizeof(q)));
		webconfig_unref(wc);
		return;
	}
	old = http_config(h);
	if (webconfig_weakens(old, wc, what, sizeof(what)))
		log_warn("SIGHUP: the new web config removes protection",
		    "removed=%s", log_quote(what, q, sizeof(q)));
	webconfig_unref(old);
	if (http_reload(h, wc, err, sizeof(err)) < 0)
		log_error("SIGHUP: web config partly applied", "error=%s",
		    log_quote(err, q, sizeof(q)));
	else
		log_info("SIGHUP: web config reloaded", "file=%s",
		    log_quote(path, q, sizeof(q)));
	webconfig_unref(wc);
}

/* Everything serve builds, owned here and freed by serve_teardown(). */
struct serve_ctx {
	struct common_opts common;
	struct web_opts web;
	struct paths_opts paths;
	struct collect_opts collect;
	struct netns_opts netns;
	struct policy_opts policy_o;
	struct security_opts sec;
	struct live_opts live_o;
	bool user_default;	/* sec.user is privs_default_user()'s */
	sigset_t signals;
	/* What the collector reads; it keeps a pointer to this (and so to
	 * netns.spec and policy) for its lifetime. */
	struct collect_paths cpaths;
	/* Built, in this order. */
	struct policy *policy;
	struct webconfig *wc;
	struct http_server *h;
	struct live *live;
	struct collector *c;
	struct procstat *procstat;	/* process_*; NULL: left out */
};

static const struct cmd_conv serve_conv = { "serve", EXIT_USAGE, EXIT_INPUT };

/* The one cleanup path: frees whatever was built, in reverse order. */
static void
serve_teardown(struct serve_ctx *x)
{
	if (x->h != NULL)
		http_stop(x->h);
	collector_free(x->c);
	procstat_close(x->procstat);
	live_free(x->live);
	webconfig_unref(x->wc);
	policy_free(x->policy);
	log_flush_suppressed();	/* what the rate limit still held back */
}

/* Flags: -1 to go on, else the exit status. */
static int
serve_parse(struct serve_ctx *x, int argc, char **argv)
{
	const struct cli_flag flags[] = {
		WEB_FLAGS(x->web),
		PATHS_FLAGS(x->paths),
		COLLECTOR_FLAGS(x->collect),
		COLLECT_MIN_INTERVAL_FLAG(x->collect),
		COLLECT_TIMEOUT_FLAG(x->collect, ", and a scrape waits no "
		    "longer for fresh data"),
		SECURITY_FLAGS(x->sec),
		NETNS_FLAGS(x->netns),
		POLICY_FLAGS(x->policy_o),
		LIVE_FLAGS(x->live_o),
		COMMON_FLAGS(x->common),
		{ 0 }
	};
	int rc;

	rc = flags_parse(&serve_conv, flags, argc, argv, NULL, "[flags]",
	    serve_desc, &x->common);
	if (rc >= 0)
		return rc;
	if ((rc = web_opts_check(&x->web, &serve_conv)) != 0 ||
	    (rc = collect_check(&x->collect, &serve_conv)) != 0 ||
	    (rc = paths_check(&x->paths, &serve_conv)) != 0 ||
	    (rc = netns_opts_check(&x->netns, &serve_conv)) != 0)
		return rc;
	collect_resolve(&x->collect, &x->paths);
	x->live_o.enabled = collect_sampler_on(&x->collect);
	return -1;
}

/* The policy and the web config: 0 or the exit status. */
static int
serve_load(struct serve_ctx *x)
{
	char err[512];
	int rc;

	if ((rc = policy_opts_load(&x->policy_o, &x->policy, &serve_conv)) != 0)
		return rc;
	if (x->web.config_file[0] != '\0' && (x->wc = webconfig_load(
	    x->web.config_file, err, sizeof(err))) == NULL)
		return flags_fail(&serve_conv, EXIT_INPUT,
		    "--web.config.file: %s", err);
	return 0;
}

/*
 * Listening sockets first, while privileged: a port below 1024 needs
 * CAP_NET_BIND_SERVICE for bind(2) only, so it is never kept.
 */
static int
serve_bind(struct serve_ctx *x)
{
	struct cli_list *l = &x->web.listen;
	char err[512], q[300];

	if (x->web.systemd_socket && l->n > 0)
		log_warn("--web.systemd-socket: --web.listen-address ignored",
		    NULL);
	l->n = listen_dedupe(l->v, l->n);
	x->h = x->web.systemd_socket ? http_listen_systemd(err, sizeof(err)) :
	    http_listen(l->v, l->n, err, sizeof(err));
	if (x->h == NULL)
		return flags_fail(&serve_conv, EXIT_INPUT, "%s", err);
	if (x->web.systemd_socket)
		l->n = http_addresses(x->h, l->v, CLI_MAX_LIST);
	http_set_idle_timeout(x->h, (unsigned)(x->web.idle_timeout + 0.999));
	if (http_set_telemetry(x->h, x->web.telemetry_path,
	    (unsigned)x->web.max_requests, err, sizeof(err)) < 0)
		return flags_fail(&serve_conv, EXIT_USAGE,
		    "--web.telemetry-path: %s", err);
	/* /proc/self now: after the privilege drop it may not open. */
	if (!x->web.disable_exporter_metrics &&
	    (x->procstat = procstat_open()) == NULL)
		log_warn("process_* metrics left out: cannot open /proc/self",
		    "error=%s", log_quote(strerror(errno), q, sizeof(q)));
	return 0;
}

/*
 * Keep only the capabilities the enabled features need (docs/security.md),
 * before any thread exists: threads inherit the main thread's set.
 */
static int
serve_drop_privileges(struct serve_ctx *x)
{
	struct privs_config pc = { .tcp_metrics =
	    x->collect.sw[SRC_TCP_METRICS] == COLLECT_ON,
	    .sampler = x->live_o.enabled };
	char err[512], caps[512], q[300];
	uint64_t kept, nofile;

	if (x->sec.user == NULL) {
		bool missing;

		x->sec.user = privs_default_user(&missing);
		x->user_default = x->sec.user != NULL;
		if (missing)
			log_warn("no user '" PRIVS_DEFAULT_USER "' to switch to: "
			    "keeping uid 0 (give --security.user=USER)", NULL);
		if (x->sec.user == NULL)
			x->sec.user = "";
	}
	pc.user = x->sec.user;
	/* Hooks: .sampler = live capture on, .netns / .netns_all = --netns. */
	pc.netns = x->netns.spec.n > 0;
	pc.netns_all = x->netns.all;
	/* Before the drop: the HTTP connection limit needs descriptors. */
	nofile = privs_raise_nofile(HTTP_NOFILE);
	if (nofile < HTTP_NOFILE)
		log_warn("descriptor limit below the HTTP connection limit",
		    "nofile=%llu want=%d", (unsigned long long)nofile,
		    HTTP_NOFILE);
	if (privs_drop(&pc, &kept, err, sizeof(err)) < 0)
		return flags_fail(&serve_conv, EXIT_INPUT, "%s%s", err,
		    x->user_default ? " (the default user for root; "
		    "--security.user= keeps the uid)" : "");
	log_info("privileges dropped", "capabilities=%s user=%s",
	    privs_describe(kept, caps, sizeof(caps)),
	    log_quote(x->sec.user[0] == '\0' ? "(unchanged)" : x->user_default ?
	    PRIVS_DEFAULT_USER " (default)" : x->sec.user, q, sizeof(q)));
	return 0;
}

/* The start-up line: version, revision and every listen address. */
static void
log_started(const struct cli_list *l)
{
	char addrs[1024], q[1100];
	size_t o = 0;

	addrs[0] = '\0';
	for (size_t i = 0; i < l->n && o < sizeof(addrs); i++)
		o += (size_t)snprintf(addrs + o, sizeof(addrs) - o, "%s%s",
		    i ? "," : "", l->v[i]);
	log_info("starting twaudit", "version=%s revision=%s addresses=%s",
	    version_string(), version_revision(), log_quote(addrs, q,
	    sizeof(q)));
	for (size_t i = 0; i < l->n; i++)
		log_info("listening", "address=%s",
		    log_quote(l->v[i], q, sizeof(q)));
}

/* The live sampler, the collector thread and the HTTP server. */
static int
serve_start(struct serve_ctx *x)
{
	struct collect_paths *paths = &x->cpaths;
	char err[512];
	struct webconfig *wc;
	int rc;

	paths->procfs = x->paths.procfs;
	paths->rootfs = x->paths.rootfs;
	collect_apply(&x->collect, paths);
	paths->netns = x->netns.spec.n > 0 ? &x->netns.spec : NULL;
	paths->policy = x->policy;
	paths->timeout = x->collect.timeout;
	/* The sampler's threads inherit the signals blocked in cmd_serve. A
	 * sampler switched off is never set up (its source says why). */
	if (x->live_o.enabled &&
	    live_new(&x->live_o, &x->live, err, sizeof(err)) < 0)
		return flags_fail(&serve_conv, EXIT_USAGE, "%s", err);
	x->c = collector_new(paths, x->collect.min_interval);
	if (x->c == NULL)
		return flags_fail(&serve_conv, EXIT_INPUT, "out of memory");
	collector_set_live(x->c, x->live);
	if (!x->web.disable_exporter_metrics)
		collector_set_exporter(x->c, x->procstat);
	if (collector_start(x->c, err, sizeof(err)) < 0)
		return flags_fail(&serve_conv, EXIT_INPUT, "%s", err);
	/* The server takes its own reference to the web config. */
	wc = x->wc;
	x->wc = NULL;
	rc = http_start(x->h, x->c, wc, err, sizeof(err));
	webconfig_unref(wc);
	if (rc < 0)
		return flags_fail(&serve_conv, EXIT_INPUT, "%s", err);
	log_started(&x->web.listen);
	return 0;
}

/* Start-up is over (sockets, threads and handles exist): the allow-list. */
static int
serve_sandbox(struct serve_ctx *x)
{
	struct sandbox_config sc = { .log_only = x->sec.seccomp_log };
	char err[512];

	if (!x->sec.seccomp)
		return 0;
	sc.netns = x->netns.spec.n > 0;
	sc.sampler = x->live_o.enabled;
	if (sandbox_apply(&sc, err, sizeof(err)) < 0)
		return flags_fail(&serve_conv, EXIT_INPUT, "%s", err);
	log_info("seccomp allow-list on", "syscalls=%zu mode=%s",
	    sandbox_allowed_count(&sc),
	    sandbox_enforcing(&sc) ? "kill" : "log");
	return 0;
}

/* Until SIGINT or SIGTERM; SIGHUP rereads the web config. */
static void
serve_wait(struct serve_ctx *x)
{
	int sig;

	for (;;) {
		if (sigwait(&x->signals, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload_web_config(x->h, x->web.config_file);
			continue;
		}
		break;
	}
	log_info("shutting down", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

/* Signals are taken synchronously by the main thread alone. */
static void
serve_block_signals(struct serve_ctx *x)
{
	sigemptyset(&x->signals);
	sigaddset(&x->signals, SIGINT);
	sigaddset(&x->signals, SIGTERM);
	sigaddset(&x->signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &x->signals, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int
cmd_serve(int argc, char **argv)
{
	struct serve_ctx x = {
		.common = COMMON_OPTS_DEFAULT, .web = WEB_OPTS_DEFAULT,
		.paths = PATHS_OPTS_DEFAULT, .collect = COLLECT_OPTS_DEFAULT,
		.sec = SECURITY_OPTS_DEFAULT, .live_o = LIVE_OPTS_DEFAULT,
	};
	int rc;

	if ((rc = serve_parse(&x, argc, argv)) >= 0)
		return rc;
	malloc_tune_daemon();
	if ((rc = serve_load(&x)) == 0 &&
	    (rc = serve_bind(&x)) == 0 &&
	    (rc = serve_drop_privileges(&x)) == 0) {
		serve_block_signals(&x);
		if ((rc = serve_start(&x)) == 0 &&
		    (rc = serve_sandbox(&x)) == 0)
			serve_wait(&x);
	}
	serve_teardown(&x);
	return rc;
}
