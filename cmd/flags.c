/* The shared flag sets' validation (see flags.h). */
#include "cmd/flags.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/foreign.h"
#include "cmd/version.h"
#include "lib/log.h"
#include "web/http.h"

static char last_failure[1024];
static flags_dump_fn dump_fn;
static void *dump_arg;

void
flags_set_dump(flags_dump_fn fn, void *arg)
{
	dump_fn = fn;
	dump_arg = arg;
}

const char *
flags_last_failure(void)
{
	return last_failure;
}

int
flags_fail(const struct cmd_conv *cv, int status, const char *fmt, ...)
{
	char *msg = last_failure;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(last_failure), fmt, ap);
	va_end(ap);
	fprintf(stderr, "twaudit %s: %s\n", cv->cmd, msg);
	return status;
}

int
flags_parse(const struct cmd_conv *cv, const struct cli_flag *flags,
    int argc, char **argv, struct cli_list *pos, const char *synopsis,
    const char *description, struct common_opts *common)
{
	char err[512];
	int rc, lvl, fmt;

	if (dump_fn != NULL) {
		dump_fn(cv->cmd, flags, dump_arg);
		return 0;
	}
	rc = cli_parse(flags, argc, argv, pos, err, sizeof(err));
	if (rc == 1) {
		cli_usage(stdout, cv->cmd, synopsis, description, flags);
		return 0;
	}
	if (rc < 0)
		return flags_fail(cv, cv->usage, "%s (see twaudit %s --help)",
		    err, cv->cmd);
	if (common->version) {
		version_print(stdout);
		return 0;
	}
	if ((lvl = log_level_parse(common->level)) < 0)
		return flags_fail(cv, cv->usage, "--log.level: unknown level "
		    "'%s'", common->level);
	if ((fmt = log_format_parse(common->format)) < 0)
		return flags_fail(cv, cv->usage, "--log.format: '%s' is not "
		    "one of logfmt, json", common->format);
	log_set_level(lvl);
	log_set_format(fmt);
	return -1;
}

/* PATH, given as --FLAG, must be a directory. */
static int
dir_check(const char *flag, const char *path, const struct cmd_conv *cv)
{
	struct stat st;

	errno = 0;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return flags_fail(cv, cv->input, "cannot read --%s %s: %s",
		    flag, path, errno ? strerror(errno) : "not a directory");
	return 0;
}

int
paths_check(const struct paths_opts *o, const struct cmd_conv *cv)
{
	int rc;

	if ((rc = dir_check("path.procfs", o->procfs, cv)) != 0)
		return rc;
	return dir_check("path.rootfs", o->rootfs, cv);
}

int
collect_check(const struct collect_opts *o, const struct cmd_conv *cv)
{
	if (o->timeout <= 0)
		return flags_fail(cv, cv->usage, "--collect.timeout must be "
		    "positive");
	return 0;
}

void
collect_resolve(struct collect_opts *o, const struct paths_opts *paths)
{
	char q[300], w[SOURCE_ERR_LEN + 8];

	o->foreign = tree_foreign(paths->procfs, "/proc", o->foreign_why,
	    sizeof(o->foreign_why));
	for (int i = 0; i < SRC_COUNT; i++) {
		if (o->on[i] == 0)
			o->sw[i] = COLLECT_OFF;
		else if (o->on[i] < 0 && o->disable_defaults)
			o->sw[i] = COLLECT_OFF_DEFAULT;
		else if (o->on[i] < 0 && o->foreign &&
		    collect_source_is_local((enum source_id)i))
			o->sw[i] = COLLECT_FOREIGN;
		else
			o->sw[i] = COLLECT_ON;
	}
	if (o->foreign)
		log_debug("the audited tree is not this host's: sock_diag, "
		    "tcp_metrics and the sampler are off unless named, the "
		    "host name comes from the tree", "procfs=%s reason=%s",
		    log_quote(paths->procfs, q, sizeof(q)),
		    log_quote(o->foreign_why, w, sizeof(w)));
}

void
collect_apply(const struct collect_opts *o, struct collect_paths *p)
{
	memcpy(p->sw, o->sw, sizeof(p->sw));
	p->foreign = o->foreign;
	p->foreign_why = o->foreign_why;
}

bool
collect_sampler_on(const struct collect_opts *o)
{
	return o->sw[SRC_SAMPLER] == COLLECT_ON;
}

int
netns_opts_check(struct netns_opts *o, const struct cmd_conv *cv)
{
	char err[512];

	for (size_t i = 0; i < o->given.n && i < NETNS_MAX_SPECS; i++) {
		if (netns_spec_check(o->given.v[i], err, sizeof(err)) < 0)
			return flags_fail(cv, cv->usage, "%s", err);
		o->all |= strcmp(o->given.v[i], "all") == 0;
		o->spec.v[o->spec.n++] = o->given.v[i];
	}
	return 0;
}

int
policy_opts_load(const struct policy_opts *o, struct policy **out,
    const struct cmd_conv *cv)
{
	char err[512];

	*out = NULL;
	if (o->file != NULL &&
	    (*out = policy_load(o->file, err, sizeof(err))) == NULL)
		return flags_fail(cv, cv->input, "--policy: %s", err);
	return 0;
}

int
web_opts_check(struct web_opts *o, const struct cmd_conv *cv)
{
	char err[512];

	if (o->idle_timeout < 1 || o->idle_timeout > 3600)
		return flags_fail(cv, cv->usage, "--web.idle-timeout: want 1s "
		    "to 1h");
	if (http_telemetry_path_check(o->telemetry_path, err, sizeof(err)) < 0)
		return flags_fail(cv, cv->usage, "--web.telemetry-path: %s",
		    err);
	if (o->max_requests > HTTP_MAX_CONNECTIONS)
		return flags_fail(cv, cv->usage, "--web.max-requests: want 0 "
		    "(no limit) to %d", HTTP_MAX_CONNECTIONS);
	if (o->listen.n == 0 && !o->systemd_socket)
		o->listen.v[o->listen.n++] = ":9477";
	return 0;
}
