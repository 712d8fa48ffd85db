/* `twaudit serve`: the exporter daemon. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/cli.h"
#include "agent/collect.h"
#include "cmd/commands.h"
#include "web/http.h"
#include "web/listen.h"
#include "agent/live.h"
#include "lib/log.h"
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

/* --netns and --policy (file scope: the collector keeps pointers to them). */
static struct netns_spec serve_netns;
static bool serve_netns_all;
static struct policy *serve_policy;

/*
 * Keep only the capabilities the enabled features need (docs/security.md),
 * before any thread exists: threads inherit the main thread's set.
 */
static int
drop_privileges(bool tcp_metrics, bool sampler, const char *user,
    bool user_default)
{
	struct privs_config pc = { .tcp_metrics = tcp_metrics,
	    .sampler = sampler, .user = user };
	char err[512], caps[512], q[300];
	uint64_t kept, nofile;

	/* Hooks: .sampler = live capture on, .netns / .netns_all = --netns. */
	pc.netns = serve_netns.n > 0;
	pc.netns_all = serve_netns_all;
	/* Before the drop: the HTTP connection limit needs descriptors. */
	nofile = privs_raise_nofile(HTTP_NOFILE);
	if (nofile < HTTP_NOFILE)
		log_warn("descriptor limit below the HTTP connection limit",
		    "nofile=%llu want=%d", (unsigned long long)nofile,
		    HTTP_NOFILE);
	if (privs_drop(&pc, &kept, err, sizeof(err)) < 0) {
		fprintf(stderr, "twaudit serve: %s%s\n", err, user_default ?
		    " (the default user for root; --security.user= keeps the "
		    "uid)" : "");
		return -1;
	}
	log_info("privileges dropped", "capabilities=%s user=%s",
	    privs_describe(kept, caps, sizeof(caps)),
	    log_quote(user[0] == '\0' ? "(unchanged)" : user_default ?
	    PRIVS_DEFAULT_USER " (default)" : user, q, sizeof(q)));
	return 0;
}

int
cmd_serve(int argc, char **argv)
{
	struct cli_list listen = { 0 };
	const char *procfs = "/proc", *rootfs = "/", *level = "info";
	const char *web_config = "";
	double min_interval = 1.0, collect_timeout = COLLECT_TIMEOUT_DEFAULT;
	double idle_timeout = HTTP_IDLE_TIMEOUT_SECONDS;
	bool sock_diag = true, tcp_metrics = true;
	bool systemd_socket = false;
	const char *sec_user = NULL;	/* not given: privs_default_user() */
	const char *policy_file = NULL;
	struct cli_list netns_flags = { 0 };
	bool sec_seccomp = true, sec_seccomp_log = false;
	struct live_opts live_o = LIVE_OPTS_DEFAULT;
	const struct cli_flag flags[] = {
		{ "web.listen-address", CLI_LIST, &listen, "ADDR:PORT",
		    "address to listen on", ":9477" },
		{ "web.systemd-socket", CLI_BOOL, &systemd_socket, NULL,
		    "listen on the sockets systemd passes (socket activation: "
		    "LISTEN_FDS) instead of --web.listen-address", "false" },
		{ "web.config.file", CLI_STRING, &web_config, "FILE",
		    "exporter-toolkit web config: TLS and basic auth; reread "
		    "on SIGHUP", NULL },
		{ "web.idle-timeout", CLI_DURATION, &idle_timeout, "DURATION",
		    "keep an idle kept-alive HTTP connection open this long "
		    "between requests (1s to 1h; a request under way has 10s)",
		    "2m" },
		{ "path.procfs", CLI_STRING, &procfs, "PATH",
		    "procfs mount point", "/proc" },
		{ "path.rootfs", CLI_STRING, &rootfs, "PATH",
		    "root of the filesystem holding /etc/sysctl.d etc.", "/" },
		{ "collector.sock_diag", CLI_BOOL, &sock_diag, NULL,
		    "count sockets per state over netlink (sock_diag)", "true" },
		{ "collector.tcp_metrics", CLI_BOOL, &tcp_metrics, NULL,
		    "dump the kernel's tcp_metrics peer table", "true" },
		{ "collect.min-interval", CLI_DURATION, &min_interval, "DURATION",
		    "scrapes within this long of a collection reuse it", "1s" },
		{ "collect.timeout", CLI_DURATION, &collect_timeout, "DURATION",
		    "budget of one collection across all sources and "
		    "namespaces; sources not reached fail with \"deadline "
		    "exceeded\", and a scrape waits no longer for fresh data",
		    "8s" },
		{ "log.level", CLI_STRING, &level, "LEVEL",
		    "debug, info, warn or error", "info" },
		{ "user", CLI_STRING, &sec_user, "USER",
		    "switch to USER after start-up, keeping only the "
		    "capabilities in use (started as root: nobody by default; "
		    "empty: keep the uid)", "nobody" },
		{ "security.user", CLI_STRING, &sec_user, "USER",
		    "same as --user", NULL },
		{ "security.seccomp", CLI_BOOL, &sec_seccomp, NULL,
		    "confine serve to a syscall allow-list after start-up",
		    "true" },
		{ "security.seccomp.log", CLI_BOOL, &sec_seccomp_log, NULL,
		    "log syscalls outside the allow-list instead of killing "
		    "(to debug the list)", "false" },
		{ "netns", CLI_LIST, &netns_flags, "all|NAME|PATH",
		    "also audit these network namespaces (repeatable; needs "
		    "CAP_SYS_ADMIN)", NULL },
		{ "policy", CLI_STRING, &policy_file, "FILE",
		    "check sysctls against this policy (docs/policy.md)", NULL },
		LIVE_FLAGS(live_o),
		{ 0 }
	};
	struct collect_paths paths = { 0 };
	struct live *live = NULL;
	struct collector *c;
	struct http_server *h;
	struct webconfig *wc = NULL;
	struct stat st;
	sigset_t set;
	char err[512];
	bool user_default = false;
	int rc, sig, lvl;

	rc = cli_parse(flags, argc, argv, NULL, err, sizeof(err));
	if (rc == 1) {
		cli_usage(stdout, "serve", "[flags]", serve_desc, flags);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "twaudit serve: %s (see twaudit serve --help)\n", err);
		return EXIT_USAGE;
	}
	if ((lvl = log_level_parse(level)) < 0) {
		fprintf(stderr, "twaudit serve: --log.level: unknown level '%s'\n",
		    level);
		return EXIT_USAGE;
	}
	log_set_level(lvl);
	if (idle_timeout < 1 || idle_timeout > 3600) {
		fprintf(stderr, "twaudit serve: --web.idle-timeout: want 1s to "
		    "1h\n");
		return EXIT_USAGE;
	}
	if (collect_timeout <= 0) {
		fprintf(stderr, "twaudit serve: --collect.timeout must be "
		    "positive\n");
		return EXIT_USAGE;
	}
	if (listen.n == 0 && !systemd_socket)
		listen.v[listen.n++] = ":9477";
	if (stat(procfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "twaudit serve: --path.procfs %s is not a "
		    "directory\n", procfs);
		return EXIT_INPUT;
	}
	if (stat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "twaudit serve: --path.rootfs %s is not a "
		    "directory\n", rootfs);
		return EXIT_INPUT;
	}
	for (size_t i = 0; i < netns_flags.n && i < NETNS_MAX_SPECS; i++) {
		if (netns_spec_check(netns_flags.v[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "twaudit serve: %s\n", err);
			return EXIT_USAGE;
		}
		serve_netns_all |= strcmp(netns_flags.v[i], "all") == 0;
		serve_netns.v[serve_netns.n++] = netns_flags.v[i];
	}
	if (policy_file != NULL && (serve_policy = policy_load(policy_file,
	    err, sizeof(err))) == NULL) {
		fprintf(stderr, "twaudit serve: --policy: %s\n", err);
		return EXIT_INPUT;
	}

	if (web_config[0] != '\0' &&
	    (wc = webconfig_load(web_config, err, sizeof(err))) == NULL) {
		fprintf(stderr, "twaudit serve: --web.config.file: %s\n", err);
		return EXIT_INPUT;
	}

	/*
	 * Listening sockets first, while privileged: a port below 1024 needs
	 * CAP_NET_BIND_SERVICE for bind(2) only, so it is never kept.
	 */
	if (systemd_socket && listen.n > 0)
		log_warn("--web.systemd-socket: --web.listen-address ignored",
		    NULL);
	listen.n = listen_dedupe(listen.v, listen.n);
	h = systemd_socket ? http_listen_systemd(err, sizeof(err)) :
	    http_listen(listen.v, listen.n, err, sizeof(err));
	if (h != NULL && systemd_socket)
		listen.n = http_addresses(h, listen.v, CLI_MAX_LIST);
	if (h == NULL) {
		fprintf(stderr, "twaudit serve: %s\n", err);
		webconfig_unref(wc);
		return EXIT_INPUT;
	}
	http_set_idle_timeout(h, (unsigned)(idle_timeout + 0.999));
	if (sec_user == NULL) {
		bool missing;

		sec_user = privs_default_user(&missing);
		user_default = sec_user != NULL;
		if (missing)
			log_warn("no user '" PRIVS_DEFAULT_USER "' to switch to: "
			    "keeping uid 0 (give --security.user=USER)", NULL);
		if (sec_user == NULL)
			sec_user = "";
	}
	if (drop_privileges(tcp_metrics, live_o.enabled, sec_user,
	    user_default) < 0) {
		http_stop(h);
		webconfig_unref(wc);
		return EXIT_INPUT;
	}

	/* Signals are taken synchronously by this thread alone. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	paths.procfs = procfs;
	paths.rootfs = rootfs;
	paths.no_sock_diag = !sock_diag;
	paths.no_tcp_metrics = !tcp_metrics;
	paths.netns = serve_netns.n > 0 ? &serve_netns : NULL;
	paths.policy = serve_policy;
	paths.timeout = collect_timeout;
	/* The sampler's threads inherit the blocked signals set above. */
	if (live_new(&live_o, &live, err, sizeof(err)) < 0) {
		fprintf(stderr, "twaudit serve: %s\n", err);
		http_stop(h);
		webconfig_unref(wc);
		return EXIT_USAGE;
	}
	c = collector_new(&paths, min_interval);
	if (c != NULL)
		collector_set_live(c, live);
	if (c == NULL || collector_start(c, err, sizeof(err)) < 0) {
		fprintf(stderr, "twaudit serve: %s\n", c ? err : "out of memory");
		http_stop(h);
		collector_free(c);
		live_free(live);
		webconfig_unref(wc);
		return EXIT_INPUT;
	}
	rc = http_start(h, c, wc, err, sizeof(err));
	webconfig_unref(wc);
	if (rc < 0) {
		fprintf(stderr, "twaudit serve: %s\n", err);
		http_stop(h);
		collector_free(c);
		live_free(live);
		return EXIT_INPUT;
	}
	for (size_t i = 0; i < listen.n; i++) {
		char q[300];

		log_info("listening", "address=%s",
		    log_quote(listen.v[i], q, sizeof(q)));
	}
	if (sec_seccomp) {
		/* Start-up is over: sockets, threads and handles exist. */
		struct sandbox_config sc = { .log_only = sec_seccomp_log };

		sc.netns = serve_netns.n > 0;
		sc.sampler = live_o.enabled;

		if (sandbox_apply(&sc, err, sizeof(err)) < 0) {
			fprintf(stderr, "twaudit serve: %s\n", err);
			http_stop(h);
			collector_free(c);
			live_free(live);
			return EXIT_INPUT;
		}
		log_info("seccomp allow-list on", "syscalls=%zu mode=%s",
		    sandbox_allowed_count(&sc),
		    sandbox_enforcing(&sc) ? "kill" : "log");
	}
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload_web_config(h, web_config);
			continue;
		}
		break;
	}
	log_info("shutting down", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	http_stop(h);
	collector_free(c);
	live_free(live);
	policy_free(serve_policy);
	log_flush_suppressed();	/* what the rate limit still held back */
	return 0;
}
