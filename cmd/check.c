/* `twaudit check`: one audit for cron and monitoring plugins. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/audit.h"
#include "lib/cli.h"
#include "cmd/commands.h"
#include "agent/live.h"
#include "agent/netns.h"
#include "agent/policy.h"
#include "web/render.h"
#include "agent/snapshot.h"
#include "lib/util.h"

static const char check_desc[] =
    "Run one audit and print it, then exit 0 OK, 1 WARNING, 2 CRITICAL,\n"
    "3 UNKNOWN (Nagios convention; 3 also for usage errors, unreadable\n"
    "input or an --output that cannot be written). Without --sample there\n"
    "is no history and rate rules are not evaluated; --sample=30s reads the\n"
    "counters twice, that far apart. --output is written atomically, so\n"
    "node_exporter's textfile collector never sees half a file: a new file\n"
    "beside it is renamed over it, so a symlink at --output is replaced by\n"
    "the file and its target is left alone. --collect.timeout bounds the\n"
    "collection (each one, with --sample).";

int
write_file_atomic(const char *path, const char *buf, size_t len, char *err,
    size_t errlen)
{
	char tmp[4096], dir[4096], base[4096];
	size_t off = 0;
	int fd;

	/* The temporary file sits beside PATH so rename(2) stays atomic. */
	snprintf(base, sizeof(base), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dirname(dir),
	    basename(base)) >= sizeof(tmp)) {
		set_error(err, errlen, "%s: path too long", path);
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		set_error(err, errlen, "cannot create a temporary file next to "
		    "%s: %s", path, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		set_error(err, errlen, "cannot rename %s to %s: %s", tmp, path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
fail:
	set_error(err, errlen, "cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

static void
sleep_seconds(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Two collections SAMPLE seconds apart; every rate window holds the sample. */
static struct snapshot *
collect_sampled(const struct collect_paths *p, double sample, struct live *live)
{
	struct snapshot *a, *b;
	double ta, tb;

	a = snapshot_collect(p, NULL);
	ta = now_monotonic();
	if (a == NULL || sample <= 0)
		return a;
	/* The sampler runs (model settings = the live sysctls) for the sample. */
	live_follow(live, a);
	sleep_seconds(sample);
	live_stop(live);
	b = snapshot_collect(p, a);
	tb = now_monotonic();
	if (b != NULL) {
		if (live != NULL)
			live_fill(live, b);
		b->sample_s = tb - ta;
		for (int w = 0; w < RATE_NWINDOWS; w++)
			for (int c = 0; c < CTR_COUNT; c++)
				b->rate[w][c] = rate_between(&a->counters, ta,
				    &b->counters, tb, c);
		netns_sample_rates(a, ta, b, tb);
	}
	snapshot_unref(a);
	return b;
}

int
cmd_check(int argc, char **argv)
{
	const char *format = "text", *output = NULL;
	const char *procfs = "/proc", *rootfs = "/";
	const char *policy_file = NULL;
	struct cli_list netns_flags = { 0 };
	double sample = 0, timeout = COLLECT_TIMEOUT_DEFAULT;
	double last_ok[SRC_COUNT] = { 0 };
	bool sock_diag = true, tcp_metrics = true;
	struct live_opts live_o = LIVE_OPTS_DEFAULT;
	struct live *live = NULL;
	const struct cli_flag flags[] = {
		{ "format", CLI_STRING, &format, "text|json|jsonl|prom",
		    "output format", "text" },
		{ "output", CLI_STRING, &output, "FILE",
		    "write to FILE atomically instead of stdout", NULL },
		{ "sample", CLI_DURATION, &sample, "DURATION",
		    "read counters twice this far apart to evaluate rates", "0" },
		{ "collect.timeout", CLI_DURATION, &timeout, "DURATION",
		    "budget of one collection across all sources and "
		    "namespaces; sources not reached fail with \"deadline "
		    "exceeded\"", "8s" },
		{ "path.procfs", CLI_STRING, &procfs, "PATH",
		    "procfs mount point", "/proc" },
		{ "path.rootfs", CLI_STRING, &rootfs, "PATH",
		    "root of the filesystem holding /etc/sysctl.d etc.", "/" },
		{ "collector.sock_diag", CLI_BOOL, &sock_diag, NULL,
		    "count sockets per state over netlink (sock_diag)", "true" },
		{ "collector.tcp_metrics", CLI_BOOL, &tcp_metrics, NULL,
		    "dump the kernel's tcp_metrics peer table", "true" },
		{ "netns", CLI_LIST, &netns_flags, "all|NAME|PATH",
		    "also audit these network namespaces (repeatable; needs "
		    "CAP_SYS_ADMIN)", NULL },
		{ "policy", CLI_STRING, &policy_file, "FILE",
		    "check sysctls against this policy (docs/policy.md)", NULL },
		LIVE_FLAGS(live_o),
		{ 0 }
	};
	struct collect_paths paths = { 0 };
	struct netns_spec netns = { 0 };
	struct policy *policy = NULL;
	struct snapshot *s;
	struct stat st;
	char err[512], *out = NULL;
	size_t len = 0;
	int rc, status;

	rc = cli_parse(flags, argc, argv, NULL, err, sizeof(err));
	if (rc == 1) {
		cli_usage(stdout, "check", "[flags]", check_desc, flags);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "twaudit check: %s (see twaudit check --help)\n", err);
		return STATUS_UNKNOWN;
	}
	if (timeout <= 0) {
		fprintf(stderr, "twaudit check: --collect.timeout must be "
		    "positive\n");
		return STATUS_UNKNOWN;
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 &&
	    strcmp(format, "jsonl") != 0 && strcmp(format, "prom") != 0) {
		fprintf(stderr, "twaudit check: --format: '%s' is not one of "
		    "text, json, jsonl, prom\n", format);
		return STATUS_UNKNOWN;
	}
	for (size_t i = 0; i < netns_flags.n && i < NETNS_MAX_SPECS; i++) {
		if (netns_spec_check(netns_flags.v[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "twaudit check: %s\n", err);
			return STATUS_UNKNOWN;
		}
		netns.v[netns.n++] = netns_flags.v[i];
	}
	errno = 0;
	if (stat(procfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "twaudit check: cannot read --path.procfs %s: %s\n",
		    procfs, errno ? strerror(errno) : "not a directory");
		return STATUS_UNKNOWN;
	}
	errno = 0;
	if (stat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "twaudit check: cannot read --path.rootfs %s: %s\n",
		    rootfs, errno ? strerror(errno) : "not a directory");
		return STATUS_UNKNOWN;
	}
	if (policy_file != NULL &&
	    (policy = policy_load(policy_file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "twaudit check: --policy: %s\n", err);
		return STATUS_UNKNOWN;
	}
	paths.procfs = procfs;
	paths.rootfs = rootfs;
	paths.no_sock_diag = !sock_diag;
	paths.no_tcp_metrics = !tcp_metrics;
	paths.netns = netns.n > 0 ? &netns : NULL;
	paths.policy = policy;
	paths.timeout = timeout;
	/* Live mode only with --sample: it needs time to see traffic. */
	if (sample > 0 && live_new(&live_o, &live, err, sizeof(err)) < 0) {
		fprintf(stderr, "twaudit check: %s\n", err);
		policy_free(policy);
		return STATUS_UNKNOWN;
	}
	s = collect_sampled(&paths, sample, live);
	live_free(live);
	if (s == NULL) {
		fprintf(stderr, "twaudit check: out of memory\n");
		policy_free(policy);
		return STATUS_UNKNOWN;
	}
	snapshot_note_success(s, last_ok);
	snapshot_finish(s, NULL);
	status = (int)s->status;
	if (strcmp(format, "prom") == 0) {
		out = render_prom(s, EXPO_PROM_004, &len);
	} else if (strcmp(format, "jsonl") == 0) {
		out = render_jsonl(s, &len);
	} else if (strcmp(format, "json") == 0) {
		json_t *j = render_advice(s);

		out = j ? render_json_text(j, &len) : NULL;
		json_decref(j);
	} else {
		out = render_text(s, &len);
	}
	snapshot_unref(s);
	policy_free(policy);
	if (out == NULL) {
		fprintf(stderr, "twaudit check: out of memory\n");
		return STATUS_UNKNOWN;
	}
	if (output != NULL) {
		if (write_file_atomic(output, out, len, err, sizeof(err)) < 0) {
			fprintf(stderr, "twaudit check: %s\n", err);
			status = STATUS_UNKNOWN;
		}
	} else if (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "twaudit check: cannot write to stdout: %s\n",
		    strerror(errno));
		status = STATUS_UNKNOWN;
	}
	free(out);
	return status;
}
