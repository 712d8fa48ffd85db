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
#include "cmd/flags.h"
#include "agent/live.h"
#include "agent/netns.h"
#include "agent/nscollect.h"
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
		if (n == 0)
			errno = ENOSPC;	/* no progress: say why, not a stale errno */
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

	a = nscollect_snapshot(p, NULL);
	ta = now_monotonic();
	if (a == NULL || sample <= 0)
		return a;
	/* The sampler runs (model settings = the live sysctls) for the sample. */
	live_follow(live, a);
	sleep_seconds(sample);
	live_stop(live);
	b = nscollect_snapshot(p, a);
	tb = now_monotonic();
	if (b != NULL) {
		if (live != NULL)
			live_fill(live, b);
		b->sample_s = tb - ta;
		for (int w = 0; w < RATE_NWINDOWS; w++)
			for (int c = 0; c < CTR_COUNT; c++)
				b->rate[w][c] = rate_between(&a->counters, ta,
				    &b->counters, tb, c);
		nscollect_sample_rates(a, ta, b, tb);
	}
	snapshot_unref(a);
	return b;
}

/* Everything check builds, owned here and freed by check_teardown(). */
struct check_ctx {
	struct common_opts common;
	const char *format, *output;
	double sample;
	struct paths_opts paths;
	struct collect_opts collect;
	struct netns_opts netns;
	struct policy_opts policy_o;
	struct live_opts live_o;
	/* Built. */
	struct policy *policy;
	struct live *live;
	struct snapshot *s;
	char *out;
	size_t len;
};

/* Nagios: every usage error and unreadable input is UNKNOWN. */
static const struct cmd_conv check_conv = { "check", STATUS_UNKNOWN,
    STATUS_UNKNOWN };

static void
check_teardown(struct check_ctx *x)
{
	free(x->out);
	snapshot_unref(x->s);
	live_free(x->live);
	policy_free(x->policy);
}

/* Flags: -1 to go on, else the exit status. */
static int
check_parse(struct check_ctx *x, int argc, char **argv)
{
	const struct cli_flag flags[] = {
		{ "format", CLI_STRING, &x->format, "text|json|jsonl|prom",
		    "output format", "text" },
		{ "output", CLI_STRING, &x->output, "FILE",
		    "write to FILE atomically instead of stdout", NULL },
		{ "sample", CLI_DURATION, &x->sample, "DURATION",
		    "read counters twice this far apart to evaluate rates", "0" },
		COLLECT_TIMEOUT_FLAG(x->collect, ""),
		PATHS_FLAGS(x->paths),
		COLLECTOR_FLAGS(x->collect),
		NETNS_FLAGS(x->netns),
		POLICY_FLAGS(x->policy_o),
		LIVE_FLAGS(x->live_o),
		COMMON_FLAGS(x->common),
		{ 0 }
	};
	int rc;

	rc = flags_parse(&check_conv, flags, argc, argv, NULL, "[flags]",
	    check_desc, &x->common);
	if (rc >= 0)
		return rc;
	if ((rc = collect_check(&x->collect, &check_conv)) != 0)
		return rc;
	if (strcmp(x->format, "text") != 0 && strcmp(x->format, "json") != 0 &&
	    strcmp(x->format, "jsonl") != 0 && strcmp(x->format, "prom") != 0)
		return flags_fail(&check_conv, STATUS_UNKNOWN, "--format: '%s' "
		    "is not one of text, json, jsonl, prom", x->format);
	if ((rc = netns_opts_check(&x->netns, &check_conv)) != 0 ||
	    (rc = paths_check(&x->paths, &check_conv)) != 0 ||
	    (rc = policy_opts_load(&x->policy_o, &x->policy, &check_conv)) != 0)
		return rc;
	collect_resolve(&x->collect, &x->paths);
	x->live_o.enabled = collect_sampler_on(&x->collect);
	return -1;
}

/* Collect (twice with --sample) and judge: 0 or the exit status. */
static int
check_run(struct check_ctx *x)
{
	struct collect_paths paths = { 0 };
	double last_ok[SRC_COUNT] = { 0 };
	char err[512];

	paths.procfs = x->paths.procfs;
	paths.rootfs = x->paths.rootfs;
	collect_apply(&x->collect, &paths);
	paths.netns = x->netns.spec.n > 0 ? &x->netns.spec : NULL;
	paths.policy = x->policy;
	paths.timeout = x->collect.timeout;
	/* Live mode only with --sample: it needs time to see traffic. A
	 * sampler switched off is never set up (its source says why). */
	if (x->sample > 0 && x->live_o.enabled &&
	    live_new(&x->live_o, &x->live, err, sizeof(err)) < 0)
		return flags_fail(&check_conv, STATUS_UNKNOWN, "%s", err);
	x->s = collect_sampled(&paths, x->sample, x->live);
	if (x->s == NULL)
		return flags_fail(&check_conv, STATUS_UNKNOWN, "out of memory");
	snapshot_note_success(x->s, last_ok);
	snapshot_finish(x->s, NULL);
	/* The runtime settings are what check judges: without them it
	 * cannot, whatever it found (the findings are still listed). */
	if (x->s->source[SRC_SYSCTL].state == SOURCE_DISABLED)
		x->s->status = STATUS_UNKNOWN;
	return 0;
}

/* Render in --format: 0 or the exit status. */
static int
check_render(struct check_ctx *x)
{
	if (strcmp(x->format, "prom") == 0) {
		x->out = render_prom(x->s, EXPO_PROM_004, &x->len);
	} else if (strcmp(x->format, "jsonl") == 0) {
		x->out = render_jsonl(x->s, &x->len);
	} else if (strcmp(x->format, "json") == 0) {
		json_t *j = render_advice(x->s);

		x->out = j ? render_json_text(j, &x->len) : NULL;
		json_decref(j);
	} else {
		x->out = render_text(x->s, &x->len);
	}
	if (x->out == NULL)
		return flags_fail(&check_conv, STATUS_UNKNOWN, "out of memory");
	return 0;
}

/* To --output (atomically) or stdout: STATUS, or UNKNOWN if unwritten. */
static int
check_write(const struct check_ctx *x, int status)
{
	char err[512];

	if (x->output != NULL) {
		if (write_file_atomic(x->output, x->out, x->len, err,
		    sizeof(err)) < 0)
			return flags_fail(&check_conv, STATUS_UNKNOWN, "%s", err);
	} else if (fwrite(x->out, 1, x->len, stdout) != x->len ||
	    fflush(stdout) != 0) {
		return flags_fail(&check_conv, STATUS_UNKNOWN, "cannot write "
		    "to stdout: %s", strerror(errno));
	}
	return status;
}

/* "TWAUDIT UNKNOWN - REASON": escaped, no '|' (perfdata would follow). */
static void
plugin_unknown(const char *reason)
{
	char e[2048];

	text_escape(reason, e, sizeof(e));
	for (char *p = e; *p != '\0'; p++)
		if (*p == '|')
			*p = '/';
	printf("TWAUDIT UNKNOWN - %s\n", e);
	fflush(stdout);
}

int
cmd_check(int argc, char **argv)
{
	struct check_ctx x = {
		.common = COMMON_OPTS_DEFAULT, .format = "text",
		.paths = PATHS_OPTS_DEFAULT, .collect = COLLECT_OPTS_DEFAULT,
		.live_o = LIVE_OPTS_DEFAULT,
	};
	int rc;

	if ((rc = check_parse(&x, argc, argv)) < 0 &&
	    (rc = check_run(&x)) == 0 &&
	    (rc = check_render(&x)) == 0)
		rc = check_write(&x, (int)x.s->status);
	check_teardown(&x);
	/* A monitoring plugin's stdout says why it is UNKNOWN, too (not
	 * where stdout is a document: json, jsonl, prom). */
	if (rc == STATUS_UNKNOWN && flags_last_failure()[0] != '\0' &&
	    strcmp(x.format, "json") != 0 && strcmp(x.format, "jsonl") != 0 &&
	    strcmp(x.format, "prom") != 0)
		plugin_unknown(flags_last_failure());
	return rc;
}
