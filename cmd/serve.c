/*
 * `twaudit serve`: the exporter daemon, as two processes
 * (docs/security.md). Start-up loads the policy and the web config and
 * binds the listening sockets, then forks before any thread exists. The
 * web process keeps the sockets and the TLS material, drops to the
 * service user without capabilities and serves HTTP, asking the
 * collector process for every body over a socketpair (web/ipc_client.h).
 * The collector closes the sockets, keeps the capabilities its features
 * need, collects, models and renders (web/ipc_server.h, web/bodies.h).
 * Either one ending ends the other.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/cli.h"
#include "agent/collect.h"
#include "cmd/commands.h"
#include "cmd/flags.h"
#include "cmd/version.h"
#include "lib/selfstat.h"
#include "web/bodies.h"
#include "web/http.h"
#include "web/ipc_client.h"
#include "web/ipc_proto.h"
#include "web/ipc_server.h"
#include "web/listen.h"
#include "agent/live.h"
#include "lib/log.h"
#include "lib/procstat.h"
#include "lib/util.h"
#include "agent/netns.h"
#include "agent/policy.h"
#include "agent/privs.h"
#include "agent/sandbox.h"
#include "agent/snapshot.h"
#include "web/twlimits.h"
#include "web/webconfig.h"

/* Snapshots come from malloc's arenas, not a mapping per collection. */
_Static_assert(sizeof(struct snapshot) < MALLOC_DAEMON_MMAP_THRESHOLD / 2,
    "struct snapshot must stay well under malloc's mmap threshold");

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

/* IPC channels: one request at a time on each (HTTP_THREADS polling
 * threads per listener ask at once; more wait for a free one). */
#define SERVE_CHANNELS 4
/* How long the collector waits for the web process to stop. */
#define SERVE_WEB_STOP_SECONDS 5.0

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
	/* The socketpairs ([0] the collector's end, [1] the web's) and the
	 * pipe the collector says "ready" on; -1 once closed. */
	int chan[SERVE_CHANNELS][2];
	int ready[2];
	struct ipc_shared *shared;	/* MAP_SHARED: the published generation */
	pid_t parent;		/* the collector's pid */
	pid_t web_pid;		/* in the collector: the web process */
	bool is_web;
	/* Built, in this order. */
	struct policy *policy;
	struct webconfig *wc;
	struct http_server *h;	/* the web process's, once forked */
	struct live *live;
	struct collector *c;
	struct bodies bodies;	/* what the IPC server renders from */
	struct ipc_server *ipc;
	struct ipc_client *client;
	struct procstat *procstat;	/* process_*; NULL: left out */
	struct procstat *web_procstat;	/* the web process's; may be NULL */
};

static const struct cmd_conv serve_conv = { "serve", EXIT_USAGE, EXIT_INPUT };

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The one cleanup path: frees whatever was built, in reverse order. */
static void
serve_teardown(struct serve_ctx *x)
{
	if (x->h != NULL)
		http_stop(x->h);
	ipc_client_free(x->client);
	/* Before the collector: a channel thread may be in collector_get. */
	ipc_server_stop(x->ipc);
	collector_free(x->c);
	procstat_close(x->procstat);
	procstat_close(x->web_procstat);
	live_free(x->live);
	webconfig_unref(x->wc);
	policy_free(x->policy);
	for (int i = 0; i < SERVE_CHANNELS; i++) {
		close_fd(&x->chan[i][0]);
		close_fd(&x->chan[i][1]);
	}
	close_fd(&x->ready[0]);
	close_fd(&x->ready[1]);
	if (x->shared != NULL)
		munmap(x->shared, sizeof(*x->shared));
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
 * The user both processes switch to (docs/security.md), and descriptors
 * for the HTTP connection limit, while still privileged.
 */
static int
serve_user(struct serve_ctx *x)
{
	char err[512];
	uint64_t nofile;

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
	/* Once, here: not once from each process. */
	if (privs_user_check(x->sec.user, err, sizeof(err)) < 0)
		return flags_fail(&serve_conv, EXIT_INPUT, "%s", err);
	nofile = privs_raise_nofile(HTTP_NOFILE);
	if (nofile < HTTP_NOFILE)
		log_warn("descriptor limit below the HTTP connection limit",
		    "nofile=%llu want=%d", (unsigned long long)nofile,
		    HTTP_NOFILE);
	return 0;
}

/*
 * Keep only the capabilities the enabled features need (docs/security.md),
 * before any thread exists: threads inherit the main thread's set. The
 * web process needs none.
 */
static int
serve_drop_privileges(struct serve_ctx *x)
{
	struct privs_config pc = { .user = x->sec.user };
	char err[512], caps[512], q[300];
	uint64_t kept;

	if (!x->is_web) {
		/* Hooks: .sampler = live capture on, .netns / .netns_all =
		 * --netns. */
		pc.tcp_metrics = x->collect.sw[SRC_TCP_METRICS] == COLLECT_ON;
		pc.sampler = x->live_o.enabled;
		pc.netns = x->netns.spec.n > 0;
		pc.netns_all = x->netns.all;
	}
	if (privs_drop(&pc, &kept, err, sizeof(err)) < 0)
		return flags_fail(&serve_conv, EXIT_INPUT, "%s%s", err,
		    x->user_default ? " (the default user for root; "
		    "--security.user= keeps the uid)" : "");
	/* Not dumpable: another process of the same uid (DynamicUser gives
	 * both processes one) may not read our memory or ptrace us. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
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

/* Each new snapshot's generation, for the web process's cache. */
static void
publish_generation(void *ctx, const struct snapshot *s, double at)
{
	ipc_shared_publish(ctx, s->generation, at);
}

/* The collector side: the live sampler, the collector thread, the IPC
 * threads answering the web process with rendered bodies. */
static int
collector_start_all(struct serve_ctx *x)
{
	struct collect_paths *paths = &x->cpaths;
	struct body_source src;
	int fds[SERVE_CHANNELS];
	char err[512];

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
	collector_on_publish(x->c, publish_generation, x->shared);
	if (!x->web.disable_exporter_metrics)
		collector_set_exporter(x->c, x->procstat, x->web_procstat);
	if (collector_start(x->c, err, sizeof(err)) < 0)
		return flags_fail(&serve_conv, EXIT_INPUT, "%s", err);
	/* cmd/ wires the renderers: agent/ knows no output format. */
	x->bodies = (struct bodies){ x->c, x->web.telemetry_path };
	src = bodies_source(&x->bodies);
	for (int i = 0; i < SERVE_CHANNELS; i++) {
		fds[i] = x->chan[i][0];
		x->chan[i][0] = -1;
	}
	if ((x->ipc = ipc_server_start(fds, SERVE_CHANNELS, &src, err,
	    sizeof(err))) == NULL)
		return flags_fail(&serve_conv, EXIT_INPUT, "%s", err);
	return 0;
}

/* The web side: the IPC client and the HTTP server on the sockets. */
static int
web_start_all(struct serve_ctx *x)
{
	struct body_source src;
	int fds[SERVE_CHANNELS];
	char err[512];
	struct webconfig *wc;
	double wait;
	int rc;

	for (int i = 0; i < SERVE_CHANNELS; i++) {
		fds[i] = x->chan[i][1];
		x->chan[i][1] = -1;
	}
	/* The collector waits at most its budget for a fresh snapshot, then
	 * renders: a reply later than this means it is stuck. */
	wait = (x->collect.timeout > 0 ? x->collect.timeout :
	    COLLECT_TIMEOUT_DEFAULT) + 2.0;
	x->client = ipc_client_new(fds, SERVE_CHANNELS, wait, x->shared,
	    x->collect.min_interval);
	if (x->client == NULL)
		return flags_fail(&serve_conv, EXIT_INPUT, "out of memory");
	src = ipc_client_source(x->client);
	/* The server takes its own reference to the web config. */
	wc = x->wc;
	x->wc = NULL;
	rc = http_start(x->h, &src, wc, err, sizeof(err));
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
	sc.proc = x->is_web ? SANDBOX_PROC_WEB : SANDBOX_PROC_COLLECTOR;
	sc.peer = x->is_web ? 0 : x->web_pid;
	sc.netns = x->netns.spec.n > 0;
	sc.sampler = x->live_o.enabled;
	if (sandbox_apply(&sc, err, sizeof(err)) < 0)
		return flags_fail(&serve_conv, EXIT_INPUT, "%s", err);
	log_info("seccomp allow-list on", "syscalls=%zu mode=%s",
	    sandbox_allowed_count(&sc),
	    sandbox_enforcing(&sc) ? "kill" : "log");
	return 0;
}

/* The web process: until SIGINT or SIGTERM; SIGHUP rereads the web config
 * (the collector forwards its own). */
static void
web_wait(struct serve_ctx *x)
{
	int sig;

	for (;;) {
		if (sigwait(&x->signals, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload_web_config(x->h, x->web.config_file);
			continue;
		}
		if (sig == SIGINT || sig == SIGTERM)
			break;
	}
	log_info("shutting down", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

/* How the web process ended, for the log; its exit status for ours. */
static int
web_ended(int st)
{
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		log_info("web process exited", NULL);
		return 0;
	}
	if (WIFSIGNALED(st))
		log_error("web process ended", "signal=%d", WTERMSIG(st));
	else
		log_error("web process ended", "status=%d", WEXITSTATUS(st));
	return WIFEXITED(st) && WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) :
	    EXIT_USAGE;
}

/* SIGTERM to the web process; SIGKILL when it has not stopped in time. */
static int
stop_web(struct serve_ctx *x)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	int st = 0;

	if (x->web_pid <= 0)
		return 0;
	kill(x->web_pid, SIGTERM);
	for (int i = 0; i < (int)(SERVE_WEB_STOP_SECONDS * 50); i++) {
		if (waitpid(x->web_pid, &st, WNOHANG) == x->web_pid) {
			x->web_pid = 0;
			return web_ended(st);
		}
		nanosleep(&tick, NULL);
	}
	kill(x->web_pid, SIGKILL);
	while (waitpid(x->web_pid, &st, 0) < 0 && errno == EINTR)
		;
	x->web_pid = 0;
	log_error("web process did not stop: killed", NULL);
	return EXIT_USAGE;
}

/*
 * The collector: until SIGINT or SIGTERM (passed on to the web process),
 * or until the web process ends (its status becomes ours: killed or
 * failed is an error). SIGHUP goes to the web process, which owns the
 * web config.
 */
static int
collector_wait(struct serve_ctx *x)
{
	int sig, st;

	for (;;) {
		if (sigwait(&x->signals, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			kill(x->web_pid, SIGHUP);
			continue;
		}
		if (sig == SIGCHLD) {
			if (waitpid(x->web_pid, &st, WNOHANG) != x->web_pid)
				continue;
			x->web_pid = 0;
			return web_ended(st);
		}
		break;
	}
	log_info("shutting down", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	return stop_web(x);
}

/* Signals are taken synchronously by each main thread alone. */
static void
serve_block_signals(struct serve_ctx *x)
{
	sigemptyset(&x->signals);
	sigaddset(&x->signals, SIGINT);
	sigaddset(&x->signals, SIGTERM);
	sigaddset(&x->signals, SIGHUP);
	sigaddset(&x->signals, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &x->signals, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The channels, the ready pipe and the shared page, before the fork. */
static int
serve_channels(struct serve_ctx *x)
{
	for (int i = 0; i < SERVE_CHANNELS; i++)
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
		    x->chan[i]) < 0)
			return flags_fail(&serve_conv, EXIT_INPUT,
			    "socketpair: %s", strerror(errno));
	if (pipe2(x->ready, O_CLOEXEC) < 0)
		return flags_fail(&serve_conv, EXIT_INPUT, "pipe: %s",
		    strerror(errno));
	x->shared = mmap(NULL, sizeof(*x->shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (x->shared == MAP_FAILED) {
		x->shared = NULL;
		return flags_fail(&serve_conv, EXIT_INPUT, "mmap: %s",
		    strerror(errno));
	}
	return 0;
}

/*
 * The web process, forked with the sockets bound and the web config
 * loaded: it ends with the collector (PR_SET_PDEATHSIG), closes the
 * collector's ends, drops everything, waits until the collector is ready
 * and serves.
 */
static int
web_main(struct serve_ctx *x)
{
	char b;
	int rc;

	log_set_process("web");
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
	    getppid() != x->parent)
		return EXIT_USAGE;	/* the collector is gone already */
	selfstat_reset_local();	/* the collector's counts are its own */
	for (int i = 0; i < SERVE_CHANNELS; i++)
		close_fd(&x->chan[i][0]);
	close_fd(&x->ready[1]);
	policy_free(x->policy);
	x->policy = NULL;
	/* process_* describe the collector: its /proc files are not ours. */
	procstat_close(x->procstat);
	x->procstat = NULL;
	if ((rc = serve_drop_privileges(x)) != 0)
		return rc;
	/* A uid switch clears the parent-death signal: set it again. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
	    getppid() != x->parent)
		return EXIT_USAGE;
	/* EOF: the collector failed to start (it said why). */
	while ((rc = (int)read(x->ready[0], &b, 1)) < 0 && errno == EINTR)
		;
	close_fd(&x->ready[0]);
	if (rc != 1)
		return EXIT_INPUT;
	sigdelset(&x->signals, SIGCHLD);
	if ((rc = web_start_all(x)) == 0 && (rc = serve_sandbox(x)) == 0)
		web_wait(x);
	return rc;
}

/*
 * The collector (the process serve started as): holds no TCP socket and
 * no TLS key from here on.
 */
static int
collector_main(struct serve_ctx *x)
{
	char q[300];
	int rc;

	log_set_process("collector");
	/*
	 * The web process's /proc files, at once: it becomes non-dumpable
	 * (its /proc/PID/fd then opens only with CAP_SYS_PTRACE) and we drop
	 * our capabilities. Then they are only read, like our own.
	 */
	if (!x->web.disable_exporter_metrics &&
	    (x->web_procstat = procstat_open_pid(x->web_pid)) == NULL)
		log_warn("twaudit_web_process_* left out: cannot open "
		    "/proc/PID of the web process", "error=%s",
		    log_quote(strerror(errno), q, sizeof(q)));
	for (int i = 0; i < SERVE_CHANNELS; i++)
		close_fd(&x->chan[i][1]);
	close_fd(&x->ready[0]);
	http_stop(x->h);
	x->h = NULL;
	webconfig_unref(x->wc);
	x->wc = NULL;
	if ((rc = serve_drop_privileges(x)) == 0 &&
	    (rc = collector_start_all(x)) == 0 &&
	    (rc = serve_sandbox(x)) == 0) {
		(void)!write(x->ready[1], "r", 1);
		close_fd(&x->ready[1]);
		return collector_wait(x);
	}
	/* The web process sees the ready pipe close and exits; the error
	 * is ours, said already. */
	close_fd(&x->ready[1]);
	if (x->web_pid > 0) {
		while (waitpid(x->web_pid, NULL, 0) < 0 && errno == EINTR)
			;
		x->web_pid = 0;
	}
	return rc;
}

int
cmd_serve(int argc, char **argv)
{
	struct serve_ctx x = {
		.common = COMMON_OPTS_DEFAULT, .web = WEB_OPTS_DEFAULT,
		.paths = PATHS_OPTS_DEFAULT, .collect = COLLECT_OPTS_DEFAULT,
		.sec = SECURITY_OPTS_DEFAULT, .live_o = LIVE_OPTS_DEFAULT,
		.ready = { -1, -1 },
	};
	int rc;

	for (int i = 0; i < SERVE_CHANNELS; i++)
		x.chan[i][0] = x.chan[i][1] = -1;
	if ((rc = serve_parse(&x, argc, argv)) >= 0)
		return rc;
	malloc_tune_daemon();
	if ((rc = serve_load(&x)) == 0 &&
	    (rc = serve_bind(&x)) == 0 &&
	    (rc = serve_user(&x)) == 0 &&
	    (rc = serve_channels(&x)) == 0) {
		/* Blocked before the fork: neither side can miss one. */
		serve_block_signals(&x);
		x.parent = getpid();
		/* No thread exists yet: the child is a clean copy. */
		if ((x.web_pid = fork()) < 0) {
			rc = flags_fail(&serve_conv, EXIT_INPUT, "fork: %s",
			    strerror(errno));
		} else if (x.web_pid == 0) {
			x.is_web = true;
			rc = web_main(&x);
		} else {
			rc = collector_main(&x);
		}
	}
	serve_teardown(&x);
	return rc;
}
