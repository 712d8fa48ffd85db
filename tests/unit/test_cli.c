/* cli.c: flag syntax in node_exporter's style, durations, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/foreign.h"
#include "cmd/flags.h"
#include "lib/cli.h"
#include "lib/log.h"

struct opts {
	const char *addr;
	bool enabled;
	double interval;
	unsigned long ratio;
	struct cli_list list;
};

static int
parse(struct opts *o, struct cli_list *pos, char *err, int argc, ...)
{
	char *argv[16];
	va_list ap;
	const struct cli_flag flags[] = {
		{ "web.listen-address", CLI_STRING, &o->addr, "ADDR", "a", NULL },
		{ "sampler.enabled", CLI_BOOL, &o->enabled, "BOOL", "b", NULL },
		{ "collect.min-interval", CLI_DURATION, &o->interval, "D", "c", NULL },
		{ "sampler.ratio", CLI_UINT, &o->ratio, "N", "d", NULL },
		{ "set", CLI_LIST, &o->list, "K=V", "e", NULL },
		{ 0 }
	};

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	return cli_parse(flags, argc, argv, pos, err, 256);
}

static void
test_forms(void **state)
{
	struct opts o = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, NULL, err, 4, "--web.listen-address=:1",
	    "--collect.min-interval", "1m30s", "--sampler.enabled"), 0);
	assert_string_equal(o.addr, ":1");
	assert_true(o.interval == 90);
	assert_true(o.enabled);
	assert_int_equal(parse(&o, NULL, err, 1, "--no-sampler.enabled"), 0);
	assert_false(o.enabled);
	assert_int_equal(parse(&o, NULL, err, 1, "--sampler.enabled=true"), 0);
	assert_true(o.enabled);
	assert_int_equal(parse(&o, NULL, err, 4, "--set", "a=1", "--set=b=2",
	    "--sampler.ratio=8"), 0);
	assert_int_equal(o.list.n, 2);
	assert_string_equal(o.list.v[1], "b=2");
	assert_int_equal(o.ratio, 8);
}

static void
test_errors(void **state)
{
	struct opts o = { 0 };
	struct cli_list pos = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, NULL, err, 1, "--nope"), -1);
	assert_non_null(strstr(err, "--nope"));
	assert_int_equal(parse(&o, NULL, err, 1, "--web.listen-address"), -1);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(parse(&o, NULL, err, 1, "--collect.min-interval=fast"), -1);
	assert_int_equal(parse(&o, NULL, err, 1, "--sampler.enabled=maybe"), -1);
	assert_int_equal(parse(&o, NULL, err, 1, "--sampler.ratio=-1"), -1);
	assert_int_equal(parse(&o, NULL, err, 1, "file.pcap"), -1);
	assert_int_equal(parse(&o, NULL, err, 1, "-x"), -1);
	assert_int_equal(parse(&o, &pos, err, 3, "a.pcap", "--", "--b.pcap"), 0);
	assert_int_equal(pos.n, 2);
	assert_string_equal(pos.v[1], "--b.pcap");
	assert_int_equal(parse(&o, NULL, err, 1, "--help"), 1);
}

static void
test_duration(void **state)
{
	double d;

	(void)state;
	assert_int_equal(cli_parse_duration("0", &d), 0);
	assert_true(d == 0);
	assert_int_equal(cli_parse_duration("500ms", &d), 0);
	assert_true(d == 0.5);
	assert_int_equal(cli_parse_duration("1h", &d), 0);
	assert_true(d == 3600);
	assert_int_equal(cli_parse_duration("30", &d), -1);
	assert_int_equal(cli_parse_duration("", &d), -1);
	assert_int_equal(cli_parse_duration("1d", &d), -1);
	assert_int_equal(cli_parse_duration("-1s", &d), -1);
	assert_int_equal(cli_parse_duration("100000000h", &d), -1);
}

static const struct cmd_conv serve_like = { "serve", 1, 2 };
static const struct cmd_conv check_like = { "check", 3, 3 };

/* A command composed of shared sets, parsed with flags_parse. */
static int
run_sets(const struct cmd_conv *cv, struct paths_opts *p,
    struct collect_opts *c, struct common_opts *co, int argc, char **argv)
{
	const struct cli_flag flags[] = {
		PATHS_FLAGS(*p),
		COLLECTOR_FLAGS(*c),
		COLLECT_TIMEOUT_FLAG(*c, ""),
		COMMON_FLAGS(*co),
		{ 0 }
	};
	int rc;

	rc = flags_parse(cv, flags, argc, argv, NULL, "[flags]", "test", co);
	if (rc >= 0)
		return rc;
	if ((rc = collect_check(c, cv)) != 0 || (rc = paths_check(p, cv)) != 0)
		return rc;
	return -1;
}

/* Each command's exit status for one mistake; the sets bind their values. */
static void
test_flag_sets(void **state)
{
	struct paths_opts p = PATHS_OPTS_DEFAULT;
	struct collect_opts c = COLLECT_OPTS_DEFAULT;
	struct common_opts co = COMMON_OPTS_DEFAULT;
	char *good[] = { "--path.procfs=/", "--no-collector.sock_diag",
	    "--collect.timeout=2s", "--log.level=error", "--log.format=json" };
	char *badlvl[] = { "--log.level=loud" };
	char *badfmt[] = { "--log.format=xml" };
	char *badtmo[] = { "--collect.timeout=0" };
	char *nodir[] = { "--path.rootfs=/nonexistent-twaudit-test" };
	char *unknown[] = { "--no-such-flag" };
	char *version[] = { "--version" };

	(void)state;
	assert_int_equal(run_sets(&serve_like, &p, &c, &co, 5, good), -1);
	assert_string_equal(p.procfs, "/");
	assert_int_equal(c.on[SRC_SOCK_DIAG], 0);
	assert_int_equal(c.on[SRC_TCP_METRICS], -1);
	assert_true(c.timeout == 2);
	assert_string_equal(co.format, "json");
	log_set_format(LOG_FORMAT_LOGFMT);
	log_set_level(LOG_INFO);
	/* Usage errors: serve 1, check 3 (Nagios UNKNOWN). */
	assert_int_equal(run_sets(&serve_like, &p, &c, &co, 1, badlvl), 1);
	assert_int_equal(run_sets(&check_like, &p, &c, &co, 1, badlvl), 3);
	co.level = "info";
	assert_int_equal(run_sets(&serve_like, &p, &c, &co, 1, badfmt), 1);
	assert_int_equal(run_sets(&check_like, &p, &c, &co, 1, badfmt), 3);
	co.format = "logfmt";
	assert_int_equal(run_sets(&serve_like, &p, &c, &co, 1, badtmo), 1);
	assert_int_equal(run_sets(&check_like, &p, &c, &co, 1, badtmo), 3);
	c.timeout = 1;
	assert_int_equal(run_sets(&serve_like, &p, &c, &co, 1, unknown), 1);
	assert_int_equal(run_sets(&check_like, &p, &c, &co, 1, unknown), 3);
	/* Bad input: serve 2, check 3. */
	assert_int_equal(run_sets(&serve_like, &p, &c, &co, 1, nodir), 2);
	assert_int_equal(run_sets(&check_like, &p, &c, &co, 1, nodir), 3);
	/* --version: exit 0 at once. */
	assert_int_equal(run_sets(&check_like, &p, &c, &co, 1, version), 0);
}

/* Parse ARGV against the collector switches alone, then resolve them. */
static int
switches(struct collect_opts *c, const char *procfs, int argc, char **argv)
{
	struct paths_opts p = { procfs, "/" };
	const struct cli_flag flags[] = { COLLECTOR_FLAGS(*c), { 0 } };
	char err[256];
	int rc = cli_parse(flags, argc, argv, NULL, err, sizeof(err));

	if (rc == 0)
		collect_resolve(c, &p);
	return rc;
}

/*
 * --collector.NAME / --no-collector.NAME, --sampler.enabled as an alias
 * of --collector.sampler (the last given wins, both ways), and
 * --collector.disable-defaults; local-kernel sources off in a foreign tree
 * unless named.
 */
static void
test_collector_switches(void **state)
{
	struct collect_opts d = COLLECT_OPTS_DEFAULT, c;
	char *alias1[] = { "--collector.sampler", "--sampler.enabled=false" };
	char *alias2[] = { "--no-sampler.enabled", "--collector.sampler" };
	char *alias3[] = { "--sampler.enabled=false", "--collector.sampler=true",
	    "--no-collector.sampler" };
	char *only[] = { "--collector.disable-defaults", "--collector.netstat",
	    "--no-collector.snmp" };
	char *off[] = { "--no-collector.sysctl", "--collector.persist=false" };
	char *named[] = { "--collector.tcp_metrics" };
	char *bad[] = { "--collector.sysctl=maybe" };

	(void)state;
	c = d;
	assert_int_equal(switches(&c, "/proc", 0, NULL), 0);
	assert_false(c.foreign);
	for (int i = 0; i < SRC_COUNT; i++)
		assert_int_equal(c.sw[i], COLLECT_ON);
	assert_true(collect_sampler_on(&c));
	c = d;
	assert_int_equal(switches(&c, "/proc", 2, alias1), 0);
	assert_int_equal(c.sw[SRC_SAMPLER], COLLECT_OFF);
	assert_false(collect_sampler_on(&c));
	c = d;
	assert_int_equal(switches(&c, "/proc", 2, alias2), 0);
	assert_int_equal(c.sw[SRC_SAMPLER], COLLECT_ON);
	c = d;
	assert_int_equal(switches(&c, "/proc", 3, alias3), 0);
	assert_int_equal(c.sw[SRC_SAMPLER], COLLECT_OFF);
	c = d;
	assert_int_equal(switches(&c, "/proc", 3, only), 0);
	for (int i = 0; i < SRC_COUNT; i++)
		assert_int_equal(c.sw[i], i == SRC_NETSTAT ? COLLECT_ON :
		    i == SRC_SNMP ? COLLECT_OFF : COLLECT_OFF_DEFAULT);
	c = d;
	assert_int_equal(switches(&c, "/proc", 2, off), 0);
	assert_int_equal(c.sw[SRC_SYSCTL], COLLECT_OFF);
	assert_int_equal(c.sw[SRC_PERSIST], COLLECT_OFF);
	assert_int_equal(c.sw[SRC_NETSTAT], COLLECT_ON);
	/* A fixture tree: the local-kernel sources are not applicable... */
	c = d;
	assert_int_equal(switches(&c, FIXTURES "/linux-6.18", 0, NULL), 0);
	assert_true(c.foreign);
	assert_string_equal(c.foreign_why, "not a procfs mount");
	for (int i = 0; i < SRC_COUNT; i++)
		assert_int_equal(c.sw[i], collect_source_is_local(
		    (enum source_id)i) ? COLLECT_FOREIGN : COLLECT_ON);
	/* ... unless named; disabling still wins. */
	c = d;
	assert_int_equal(switches(&c, FIXTURES "/linux-6.18", 1, named), 0);
	assert_int_equal(c.sw[SRC_TCP_METRICS], COLLECT_ON);
	assert_int_equal(c.sw[SRC_SOCK_DIAG], COLLECT_FOREIGN);
	c = d;
	assert_int_equal(switches(&c, FIXTURES "/linux-6.18", 2, alias1), 0);
	assert_int_equal(c.sw[SRC_SAMPLER], COLLECT_OFF);
	c = d;
	assert_int_equal(switches(&c, "/proc", 1, bad), -1);
}

/* Foreign by what the tree is: not procfs, or another kernel's boot_id. */
static void
test_tree_foreign(void **state)
{
	char dir[] = "/tmp/twaudit-foreign.XXXXXX", path[128], why[256];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "mkdir -p '%s/sys/kernel/random'", dir);
	assert_int_equal(system(path), 0);
	snprintf(path, sizeof(path), "%s/sys/kernel/random/boot_id", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("00000000-0000-4000-8000-000000000000\n", f);
	fclose(f);
	assert_false(tree_foreign("/proc", "/proc", why, sizeof(why)));
	assert_string_equal(why, "");
	assert_true(tree_foreign(dir, "/proc", why, sizeof(why)));
	assert_string_equal(why, "not a procfs mount");
	/* A procfs whose boot_id is not the running kernel's (DIR stands
	 * for the process's own /proc here). */
	assert_true(tree_foreign("/proc", dir, why, sizeof(why)));
	assert_string_equal(why, "its boot_id is not the running kernel's");
	assert_true(tree_foreign("/nonexistent-twaudit", "/proc", why,
	    sizeof(why)));
	assert_non_null(strstr(why, "cannot examine it"));
	unlink(path);
	snprintf(path, sizeof(path), "rm -r '%s'", dir);
	assert_int_equal(system(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_flag_sets),
		cmocka_unit_test(test_collector_switches),
		cmocka_unit_test(test_tree_foreign),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
