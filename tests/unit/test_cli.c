/* cli.c: flag syntax in node_exporter's style, durations, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "lib/cli.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_duration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
