/* netstat_parse() against the fixture trees and hand-made inputs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors/counters.h"
#include "collectors/netstat.h"
#include "lib/util.h"

static const char *
fixtures(void)
{
	const char *env = getenv("FIXTURES");

	return env != NULL && env[0] != '\0' ? env : FIXTURES;
}

/* Read FIXTURE/REL, failing the test if it cannot be read. */
static char *
load(const char *fixture, const char *rel, size_t *len)
{
	char root[4096];
	char *buf;
	int rc;

	assert_int_equal(path_join(root, sizeof(root), fixtures(), fixture),
	    0);
	rc = read_file_at(root, rel, 4 * READ_FILE_MAX, &buf, len);
	if (rc != 0)
		fail_msg("read %s/%s: %s", root, rel, strerror(-rc));
	return buf;
}

/* Parse BUF[0..LEN) from an exactly sized heap copy: no NUL after it. */
static int
parse_exact(const char *buf, size_t len, struct counter_set *cs, char *err,
    size_t errlen)
{
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	rc = netstat_parse(copy, len, cs, err, errlen);
	free(copy);
	return rc;
}

static int
parse_str(const char *s, struct counter_set *cs, char *err, size_t errlen)
{
	return parse_exact(s, strlen(s), cs, err, errlen);
}

/* netstat and snmp of FIXTURE into CS; both must parse. */
static void
parse_fixture(const char *fixture, struct counter_set *cs)
{
	static const char *const files[] = { "net/netstat", "net/snmp" };
	char err[256];

	memset(cs, 0, sizeof(*cs));
	for (size_t i = 0; i < 2; i++) {
		size_t len;
		char *buf = load(fixture, files[i], &len);
		int rc = parse_exact(buf, len, cs, err, sizeof(err));

		free(buf);
		if (rc != 0)
			fail_msg("%s/%s: %s", fixture, files[i], err);
	}
}

#define assert_counter(cs, id, v) do { \
	assert_true((cs)->present[CTR_##id]); \
	assert_int_equal((cs)->value[CTR_##id], (v)); \
} while (0)

#define assert_absent(cs, id) assert_false((cs)->present[CTR_##id])

static const char *const good_fixtures[] = {
	"linux-3.10-recycle", "linux-3.10-container", "linux-4.4",
	"linux-4.10-recycle", "linux-4.19", "linux-6.18",
	"linux-6.18-rfc1337", "linux-6.18-tsoff",
};

/* Every good tree: both files parse and every Tcp counter is there. */
static void
test_good_fixtures_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_fixtures) / sizeof(good_fixtures[0]);
	    i++) {
		struct counter_set cs;

		parse_fixture(good_fixtures[i], &cs);
		for (int c = 0; c < CTR_COUNT; c++) {
			/* Counters that exist in every kernel we cover. */
			if (strcmp(counter_defs[c].group, "Tcp") == 0 ||
			    c == CTR_TW || c == CTR_LISTEN_DROPS ||
			    c == CTR_PAWS_ESTAB || c == CTR_PAWS_ACTIVE ||
			    c == CTR_TIMEWAIT_OVERFLOW)
				if (!cs.present[c])
					fail_msg("%s: %s missing",
					    good_fixtures[i],
					    counter_defs[c].kernel_name);
		}
	}
}

static void
test_linux_3_10_recycle(void **state)
{
	struct counter_set cs;

	(void)state;
	parse_fixture("linux-3.10-recycle", &cs);
	assert_counter(&cs, PAWS_PASSIVE, 1234);
	assert_counter(&cs, LISTEN_DROPS, 1302);
	assert_true(cs.value[CTR_LISTEN_DROPS] >= cs.value[CTR_PAWS_PASSIVE]);
	assert_counter(&cs, LISTEN_OVERFLOWS, 68);
	assert_counter(&cs, TW, 50211);
	assert_counter(&cs, TW_RECYCLED, 3);
	assert_counter(&cs, TW_KILLED, 48870);
	assert_counter(&cs, PAWS_ESTAB, 17);
	/* The RHEL 7 list has the ACK rate-limit counters backported. */
	assert_counter(&cs, ACK_SKIPPED_TIMEWAIT, 0);
	assert_absent(&cs, PAWS_TIMEWAIT);
	assert_absent(&cs, PAWS_OLD_ACK);
	assert_absent(&cs, TSECR_REJECTED);
	assert_counter(&cs, ACTIVE_OPENS, 1822310);
	assert_counter(&cs, PASSIVE_OPENS, 4410233);
	assert_counter(&cs, CURR_ESTAB, 412);
	assert_counter(&cs, IN_SEGS, 88123456);
	assert_counter(&cs, OUT_RSTS, 61022);
}

static void
test_linux_3_10_container(void **state)
{
	struct counter_set cs;

	(void)state;
	parse_fixture("linux-3.10-container", &cs);
	/* Counters are per netns even when the sysctl is global. */
	assert_counter(&cs, PAWS_PASSIVE, 0);
	assert_counter(&cs, TW, 120);
	assert_counter(&cs, CURR_ESTAB, 9);
}

static void
test_linux_4_4(void **state)
{
	struct counter_set cs;

	(void)state;
	parse_fixture("linux-4.4", &cs);
	assert_counter(&cs, PAWS_PASSIVE, 0);
	assert_counter(&cs, ACK_SKIPPED_TIMEWAIT, 1);
	assert_counter(&cs, TW, 20140);
	assert_absent(&cs, PAWS_TIMEWAIT);
	assert_absent(&cs, PAWS_OLD_ACK);
}

static void
test_linux_4_10_recycle(void **state)
{
	struct counter_set cs;

	(void)state;
	parse_fixture("linux-4.10-recycle", &cs);
	assert_counter(&cs, PAWS_PASSIVE, 5678);
	assert_counter(&cs, LISTEN_DROPS, 5690);
	assert_counter(&cs, TW_KILLED, 29800);
	assert_absent(&cs, PAWS_TIMEWAIT);
}

static void
test_linux_4_19(void **state)
{
	struct counter_set cs;

	(void)state;
	parse_fixture("linux-4.19", &cs);
	/* tw_recycle and its counter were removed in 4.12. */
	assert_absent(&cs, PAWS_PASSIVE);
	assert_counter(&cs, PAWS_ESTAB, 9);
	assert_counter(&cs, ACK_SKIPPED_TIMEWAIT, 2);
	assert_counter(&cs, TW, 80110);
	assert_absent(&cs, PAWS_TIMEWAIT);
	assert_absent(&cs, TSECR_REJECTED);
}

static void
test_linux_6_18(void **state)
{
	struct counter_set cs;

	(void)state;
	parse_fixture("linux-6.18", &cs);
	assert_absent(&cs, PAWS_PASSIVE);
	assert_counter(&cs, PAWS_TIMEWAIT, 321);
	assert_counter(&cs, PAWS_OLD_ACK, 7);
	assert_counter(&cs, TSECR_REJECTED, 2);
	assert_counter(&cs, PAWS_ESTAB, 5);
	assert_counter(&cs, ACK_SKIPPED_TIMEWAIT, 45);
	assert_counter(&cs, TW, 1204110);

	parse_fixture("linux-6.18-rfc1337", &cs);
	assert_counter(&cs, PAWS_TIMEWAIT, 4410);
	assert_counter(&cs, ACK_SKIPPED_TIMEWAIT, 900);
	assert_absent(&cs, PAWS_PASSIVE);

	parse_fixture("linux-6.18-tsoff", &cs);
	assert_counter(&cs, PAWS_TIMEWAIT, 0);
	assert_absent(&cs, PAWS_PASSIVE);
}

/* Fields matched by name: reversed order gives the same counters. */
static void
test_field_order_independent(void **state)
{
	struct counter_set a, b;
	char err[128];

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(parse_str(
	    "TcpExt: TW PAWSPassive ListenDrops\n"
	    "TcpExt: 10 20 30\n", &a, err, sizeof(err)), 0);
	assert_int_equal(parse_str(
	    "TcpExt: ListenDrops PAWSPassive TW\n"
	    "TcpExt: 30 20 10\n", &b, err, sizeof(err)), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_counter(&a, TW, 10);
	assert_counter(&a, PAWS_PASSIVE, 20);
	assert_counter(&a, LISTEN_DROPS, 30);
}

static void
test_unknown_ignored(void **state)
{
	struct counter_set cs;
	char err[128];

	(void)state;
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(parse_str(
	    "FutureExt: Foo Bar\n"
	    "FutureExt: 1 -2\n"
	    "TcpExt: NewCounter2030 TW Weird\n"
	    "TcpExt: 5 7 notanumber\n"
	    "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens\n"
	    "Tcp: 1 -1 -1 -1 42\n", &cs, err, sizeof(err)), 0);
	assert_counter(&cs, TW, 7);
	assert_counter(&cs, ACTIVE_OPENS, 42);
	/* A counter of another group with the same name is not ours. */
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(parse_str("IpExt: TW\nIpExt: 9\n", &cs, err,
	    sizeof(err)), 0);
	assert_absent(&cs, TW);
}

/* A curated field must be a u64: negative, junk and overflow fail. */
static void
test_bad_curated_values(void **state)
{
	static const char *const bad[] = {
		"Tcp: ActiveOpens\nTcp: -1\n",
		"TcpExt: TW\nTcpExt: 12x\n",
		"TcpExt: TW\nTcpExt: 18446744073709551616\n",
		"TcpExt: TW\nTcpExt: 99999999999999999999999\n",
		"TcpExt: TW\nTcpExt: +5\n",
	};
	struct counter_set cs;
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&cs, 0, sizeof(cs));
		err[0] = '\0';
		assert_int_equal(parse_str(bad[i], &cs, err, sizeof(err)), -1);
		assert_true(strlen(err) > 0);
		assert_absent(&cs, TW);
		assert_absent(&cs, ACTIVE_OPENS);
	}
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(parse_str("TcpExt: TW\nTcpExt: 12x\n", &cs, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "TcpExt"));
	assert_non_null(strstr(err, "TW"));
	assert_non_null(strstr(err, "12x"));
}

static void
test_u64_max(void **state)
{
	struct counter_set cs;
	char err[128];

	(void)state;
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(parse_str(
	    "TcpExt: TW PAWSPassive\n"
	    "TcpExt: 18446744073709551615 0\n", &cs, err, sizeof(err)), 0);
	assert_counter(&cs, TW, UINT64_MAX);
	assert_counter(&cs, PAWS_PASSIVE, 0);
}

struct garbled {
	const char *text;
	const char *why;	/* expected in the error */
};

static void
test_garbled(void **state)
{
	static const struct garbled g[] = {
		{ "TcpExt: TW PAWSPassive\n", "value line" },
		{ "TcpExt: TW PAWSPassive", "value line" },
		{ "TcpExt: TW PAWSPassive\nIpExt: 1 2\n", "IpExt" },
		{ "TcpExt: TW PAWSPassive\nTcpExt: 1\n", "2 names but 1 values" },
		{ "TcpExt: TW\nTcpExt: 1 2\n", "1 names but 2 values" },
		{ "TcpExt TW\nTcpExt: 1\n", "line 1" },
		{ "TcpExt: TW\nTcpExt 1\n", "line 2" },
		{ "TcpExt: TW\nTcpExt:\n", "TcpExt" },
		{ "", "no counter groups" },
		{ "\n\n  \n", "no counter groups" },
	};
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		struct counter_set cs;

		memset(&cs, 0, sizeof(cs));
		err[0] = '\0';
		assert_int_equal(parse_str(g[i].text, &cs, err, sizeof(err)),
		    -1);
		if (strstr(err, g[i].why) == NULL)
			fail_msg("case %zu: error '%s' lacks '%s'", i, err,
			    g[i].why);
		assert_absent(&cs, TW);
	}
}

/* An error in a later pair keeps what earlier pairs set. */
static void
test_error_keeps_earlier(void **state)
{
	struct counter_set cs;
	char err[128];

	(void)state;
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(parse_str(
	    "TcpExt: TW ListenDrops\n"
	    "TcpExt: 3 4\n"
	    "Tcp: ActiveOpens PassiveOpens CurrEstab\n"
	    "Tcp: 5 x 7\n", &cs, err, sizeof(err)), -1);
	assert_counter(&cs, TW, 3);
	assert_counter(&cs, LISTEN_DROPS, 4);
	/* Within the bad pair, the fields before the bad value are kept. */
	assert_counter(&cs, ACTIVE_OPENS, 5);
	assert_absent(&cs, PASSIVE_OPENS);
	assert_absent(&cs, CURR_ESTAB);
	assert_non_null(strstr(err, "PassiveOpens"));
}

/* Parsing only a prefix never reads past it. */
static void
test_prefix_of_buffer(void **state)
{
	const char *text =
	    "TcpExt: TW ListenDrops\nTcpExt: 3 4\nTcp: ActiveOpens\nTcp: 77\n";
	size_t pair1 = strlen("TcpExt: TW ListenDrops\nTcpExt: 3 4\n");
	struct counter_set cs;
	char err[128];

	(void)state;
	/* Ends on a pair boundary: fine, the second pair is not seen. */
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(netstat_parse(text, pair1, &cs, err, sizeof(err)), 0);
	assert_counter(&cs, LISTEN_DROPS, 4);
	assert_absent(&cs, ACTIVE_OPENS);
	/* Without the final newline the last pair is still complete. */
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(parse_exact(text, strlen(text) - 1, &cs, err,
	    sizeof(err)), 0);
	assert_counter(&cs, ACTIVE_OPENS, 77);
	/* Cut inside "77": a shorter number is read, never past the end. */
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(parse_exact(text, strlen(text) - 2, &cs, err,
	    sizeof(err)), 0);
	assert_counter(&cs, ACTIVE_OPENS, 7);
	/* Cut after the header: value line missing. */
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(parse_exact(text, pair1 + strlen("Tcp: ActiveOpens\n"),
	    &cs, err, sizeof(err)), -1);
	assert_counter(&cs, TW, 3);
	assert_non_null(strstr(err, "Tcp"));
}

/* Every prefix of a real file: no crash, no over-read (ASan), a verdict. */
static void
test_every_prefix(void **state)
{
	size_t len;
	char *buf = load("linux-6.18", "net/netstat", &len);

	(void)state;
	for (size_t n = 0; n <= len; n++) {
		struct counter_set cs;
		char err[128];
		int rc;

		memset(&cs, 0, sizeof(cs));
		err[0] = '\0';
		rc = parse_exact(buf, n, &cs, err, sizeof(err));
		assert_true(rc == 0 || rc == -1);
		if (rc < 0)
			assert_true(strlen(err) > 0);
	}
	free(buf);
}

static void
test_no_error_buffer(void **state)
{
	struct counter_set cs;

	(void)state;
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(parse_str("TcpExt: TW\n", &cs, NULL, 0), -1);
	assert_int_equal(parse_str("TcpExt: TW\nTcpExt: 1\n", &cs, NULL, 0), 0);
}

/* Each broken tree: netstat fails with a message; snmp still parses. */
static void
check_broken(const char *fixture, const char *why, bool tcpext_kept)
{
	struct counter_set cs;
	char err[256] = "";
	size_t len;
	char *buf = load(fixture, "net/netstat", &len);

	memset(&cs, 0, sizeof(cs));
	assert_int_equal(parse_exact(buf, len, &cs, err, sizeof(err)), -1);
	free(buf);
	if (strstr(err, why) == NULL)
		fail_msg("%s: error '%s' lacks '%s'", fixture, err, why);
	if (tcpext_kept) {
		assert_counter(&cs, PAWS_TIMEWAIT, 321);
		assert_counter(&cs, TW, 1204110);
	}
	buf = load(fixture, "net/snmp", &len);
	assert_int_equal(parse_exact(buf, len, &cs, err, sizeof(err)),
	    len == 0 ? -1 : 0);
	free(buf);
}

static void
test_broken_truncated(void **state)
{
	(void)state;
	check_broken("broken-truncated", "IpExt", true);
}

static void
test_broken_mismatch(void **state)
{
	(void)state;
	check_broken("broken-mismatch", "MPTcpExt", true);
}

static void
test_broken_nonnumeric(void **state)
{
	struct counter_set cs;
	char err[256] = "";
	size_t len;
	char *buf;

	(void)state;
	check_broken("broken-nonnumeric", "TCPTimeWaitOverflow", false);
	buf = load("broken-nonnumeric", "net/netstat", &len);
	memset(&cs, 0, sizeof(cs));
	assert_int_equal(parse_exact(buf, len, &cs, err, sizeof(err)), -1);
	free(buf);
	assert_non_null(strstr(err, "TcpExt"));
	assert_non_null(strstr(err, "0x1f"));
	/* Fields before the bad one in TcpExt are kept, later ones not. */
	assert_counter(&cs, LISTEN_DROPS, 3);
	assert_counter(&cs, PAWS_TIMEWAIT, 321);
	assert_absent(&cs, TIMEWAIT_OVERFLOW);
	assert_absent(&cs, ACK_SKIPPED_TIMEWAIT);
}

static void
test_broken_empty(void **state)
{
	static const char *const files[] = { "net/netstat", "net/snmp" };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct counter_set cs;
		char err[128] = "";
		size_t len;
		char *buf = load("broken-empty", files[i], &len);

		assert_int_equal(len, 0);
		memset(&cs, 0, sizeof(cs));
		assert_int_equal(parse_exact(buf, len, &cs, err, sizeof(err)),
		    -1);
		assert_true(strlen(err) > 0);
		free(buf);
	}
}

static void
test_broken_hugeline(void **state)
{
	struct counter_set cs;
	char root[4096], err[256] = "";
	char *buf;
	size_t len;
	clock_t t0;
	double secs;

	(void)state;
	/* The collector's own bounded read refuses it outright. */
	assert_int_equal(path_join(root, sizeof(root), fixtures(),
	    "broken-hugeline"), 0);
	assert_int_equal(read_file_at(root, "net/netstat", READ_FILE_MAX,
	    &buf, &len), -EFBIG);
	/* Given it anyway, the parser fails on the count, in linear time. */
	buf = load("broken-hugeline", "net/netstat", &len);
	assert_true(len > READ_FILE_MAX);
	memset(&cs, 0, sizeof(cs));
	t0 = clock();
	assert_int_equal(parse_exact(buf, len, &cs, err, sizeof(err)), -1);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	free(buf);
	assert_true(secs < 2.0);
	assert_non_null(strstr(err, "HugeExt"));
	assert_non_null(strstr(err, "92000 names but 1 values"));
	assert_counter(&cs, TW, 1204110);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_fixtures_parse),
		cmocka_unit_test(test_linux_3_10_recycle),
		cmocka_unit_test(test_linux_3_10_container),
		cmocka_unit_test(test_linux_4_4),
		cmocka_unit_test(test_linux_4_10_recycle),
		cmocka_unit_test(test_linux_4_19),
		cmocka_unit_test(test_linux_6_18),
		cmocka_unit_test(test_field_order_independent),
		cmocka_unit_test(test_unknown_ignored),
		cmocka_unit_test(test_bad_curated_values),
		cmocka_unit_test(test_u64_max),
		cmocka_unit_test(test_garbled),
		cmocka_unit_test(test_error_keeps_earlier),
		cmocka_unit_test(test_prefix_of_buffer),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_no_error_buffer),
		cmocka_unit_test(test_broken_truncated),
		cmocka_unit_test(test_broken_mismatch),
		cmocka_unit_test(test_broken_nonnumeric),
		cmocka_unit_test(test_broken_empty),
		cmocka_unit_test(test_broken_hugeline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
