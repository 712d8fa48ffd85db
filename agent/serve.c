/* `twaudit serve`: the exporter daemon. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "collect.h"
#include "commands.h"
#include "http.h"
#include "log.h"

static const char serve_desc[] =
    "Serve Prometheus metrics (/metrics), remediation advice as JSON\n"
    "(/advice), a status page (/) and /healthz. Sources are read at scrape\n"
    "time; scrapes closer together than --collect.min-interval share one\n"
    "snapshot. A 5 s background tick keeps counter history for rates.";

int
cmd_serve(int argc, char **argv)
{
	struct cli_list listen = { 0 };
	const char *procfs = "/proc", *rootfs = "/", *level = "info";
	double min_interval = 1.0;
	bool sock_diag = true, tcp_metrics = true;
	const struct cli_flag flags[] = {
		{ "web.listen-address", CLI_LIST, &listen, "ADDR:PORT",
		    "address to listen on", ":9477" },
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
		{ "log.level", CLI_STRING, &level, "LEVEL",
		    "debug, info, warn or error", "info" },
		{ 0 }
	};
	struct collect_paths paths = { 0 };
	struct collector *c;
	struct http_server *h;
	struct stat st;
	sigset_t set;
	char err[512];
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
	if (listen.n == 0)
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
	c = collector_new(&paths, min_interval);
	if (c == NULL || collector_start(c, err, sizeof(err)) < 0) {
		fprintf(stderr, "twaudit serve: %s\n", c ? err : "out of memory");
		collector_free(c);
		return EXIT_INPUT;
	}
	h = http_start(listen.v, listen.n, c, err, sizeof(err));
	if (h == NULL) {
		fprintf(stderr, "twaudit serve: %s\n", err);
		collector_free(c);
		return EXIT_INPUT;
	}
	for (size_t i = 0; i < listen.n; i++) {
		char q[300];

		log_info("listening", "address=%s",
		    log_quote(listen.v[i], q, sizeof(q)));
	}
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP: nothing to reload", NULL);
			continue;
		}
		break;
	}
	log_info("shutting down", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	http_stop(h);
	collector_free(c);
	return 0;
}
