/* sockstat_parse() against the fixture trees and hand-made inputs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "collectors/sockstat.h"
#include "lib/util.h"

static const char *
fixtures(void)
{
	const char *env = getenv("FIXTURES");

	return env != NULL && env[0] != '\0' ? env : FIXTURES;
}

static char *
load(const char *fixture, const char *rel, size_t *len)
{
	char root[4096];
	char *buf;
	int rc;

	assert_int_equal(path_join(root, sizeof(root), fixtures(), fixture),
	    0);
	rc = read_file_at(root, rel, READ_FILE_MAX, &buf, len);
	if (rc != 0)
		fail_msg("read %s/%s: %s", root, rel, strerror(-rc));
	return buf;
}

/* Parse from an exactly sized heap copy, so ASan sees any over-read. */
static int
parse_exact(const char *buf, size_t len, struct sockstat *ss, char *err,
    size_t errlen)
{
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	rc = sockstat_parse(copy, len, ss, err, errlen);
	free(copy);
	return rc;
}

static int
parse_str(const char *s, struct sockstat *ss, char *err, size_t errlen)
{
	return parse_exact(s, strlen(s), ss, err, errlen);
}

static void
parse_fixture(const char *fixture, struct sockstat *ss)
{
	static const char *const files[] = { "net/sockstat", "net/sockstat6" };
	char err[256];

	memset(ss, 0, sizeof(*ss));
	for (size_t i = 0; i < 2; i++) {
		size_t len;
		char *buf = load(fixture, files[i], &len);
		int rc = parse_exact(buf, len, ss, err, sizeof(err));

		free(buf);
		if (rc != 0)
			fail_msg("%s/%s: %s", fixture, files[i], err);
	}
}

#define assert_ss(ss, id, val) do { \
	assert_true((ss)->present[id]); \
	assert_int_equal((ss)->v[id], (val)); \
} while (0)

static void
test_metric_names(void **state)
{
	static const char *const want[SS_COUNT] = {
		"twaudit_sockstat_tcp_inuse", "twaudit_sockstat_tcp_orphan",
		"twaudit_sockstat_tcp_tw", "twaudit_sockstat_tcp_alloc",
		"twaudit_sockstat_tcp_mem", "twaudit_sockstat6_tcp6_inuse",
	};

	(void)state;
	for (int i = 0; i < SS_COUNT; i++) {
		assert_non_null(sockstat_metric[i]);
		assert_string_equal(sockstat_metric[i], want[i]);
	}
}

static void
test_fixtures(void **state)
{
	struct sockstat ss;

	(void)state;
	parse_fixture("linux-3.10-recycle", &ss);
	assert_ss(&ss, SS_TCP_INUSE, 37);
	assert_ss(&ss, SS_TCP_ORPHAN, 0);
	assert_ss(&ss, SS_TCP_TW, 1480);
	assert_ss(&ss, SS_TCP_ALLOC, 41);
	assert_ss(&ss, SS_TCP_MEM, 12);
	assert_ss(&ss, SS_TCP6_INUSE, 3);

	parse_fixture("linux-4.19", &ss);
	assert_ss(&ss, SS_TCP_TW, 5021);
	assert_ss(&ss, SS_TCP_MEM, 77);
	assert_ss(&ss, SS_TCP6_INUSE, 11);

	parse_fixture("linux-6.18", &ss);
	assert_ss(&ss, SS_TCP_INUSE, 230);
	assert_ss(&ss, SS_TCP_TW, 9800);
	assert_ss(&ss, SS_TCP6_INUSE, 17);
}

/* sockstat alone sets the TCP fields only; sockstat6 only TCP6. */
static void
test_files_fill_their_own_fields(void **state)
{
	struct sockstat ss;
	char err[128];
	size_t len;
	char *buf;

	(void)state;
	memset(&ss, 0, sizeof(ss));
	buf = load("linux-4.4", "net/sockstat", &len);
	assert_int_equal(parse_exact(buf, len, &ss, err, sizeof(err)), 0);
	free(buf);
	assert_ss(&ss, SS_TCP_INUSE, 88);
	assert_ss(&ss, SS_TCP_ORPHAN, 1);
	assert_false(ss.present[SS_TCP6_INUSE]);

	memset(&ss, 0, sizeof(ss));
	buf = load("linux-4.4", "net/sockstat6", &len);
	assert_int_equal(parse_exact(buf, len, &ss, err, sizeof(err)), 0);
	free(buf);
	assert_ss(&ss, SS_TCP6_INUSE, 6);
	assert_false(ss.present[SS_TCP_INUSE]);
}

/* Other lines, and unknown keys on the TCP line, are ignored. */
static void
test_ignores_other_lines(void **state)
{
	struct sockstat ss;
	char err[128];

	(void)state;
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(parse_str(
	    "sockets: used 300\n"
	    "UDP: inuse x mem y\n"
	    "FRAG: inuse 0 memory 0\n"
	    "TCP: mem 9 newkey 4 inuse 5\n"
	    "UDP6: inuse 1\n", &ss, err, sizeof(err)), 0);
	assert_ss(&ss, SS_TCP_MEM, 9);
	assert_ss(&ss, SS_TCP_INUSE, 5);
	assert_false(ss.present[SS_TCP_TW]);
	assert_false(ss.present[SS_TCP6_INUSE]);
}

static void
test_garbled(void **state)
{
	static const char *const bad[] = {
		"TCP: inuse 5 orphan\n",
		"TCP: inuse 5 orphan x\n",
		"TCP: inuse 5 orphan 99999999999999999999\n",
		"TCP6: inuse -\n",
		"TCP inuse 5\n",
	};
	struct sockstat ss;
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&ss, 0, sizeof(ss));
		err[0] = '\0';
		assert_int_equal(parse_str(bad[i], &ss, err, sizeof(err)), -1);
		assert_true(strlen(err) > 0);
		assert_false(ss.present[SS_TCP_ORPHAN]);
		assert_false(ss.present[SS_TCP6_INUSE]);
	}
	/* Fields before the error are kept; the message names the line. */
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(parse_str("sockets: used 1\nTCP: inuse 5 orphan x\n",
	    &ss, err, sizeof(err)), -1);
	assert_ss(&ss, SS_TCP_INUSE, 5);
	assert_non_null(strstr(err, "TCP"));
	assert_non_null(strstr(err, "line 2"));
	assert_non_null(strstr(err, "orphan"));
}

static void
test_prefix_of_buffer(void **state)
{
	const char *text = "TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1\n";
	struct sockstat ss;
	char err[128];

	(void)state;
	/* "TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1" cut after "tw 2". */
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(sockstat_parse(text, strlen("TCP: inuse 5 orphan 0 tw 2"),
	    &ss, err, sizeof(err)), 0);
	assert_ss(&ss, SS_TCP_TW, 2);
	assert_false(ss.present[SS_TCP_ALLOC]);
	/* Cut after a key: garbled. */
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(parse_exact(text, strlen("TCP: inuse 5 orphan"), &ss,
	    err, sizeof(err)), -1);
	assert_ss(&ss, SS_TCP_INUSE, 5);
	/* Every prefix: a verdict, never an over-read. */
	for (size_t n = 0; n <= strlen(text); n++) {
		int rc;

		memset(&ss, 0, sizeof(ss));
		rc = parse_exact(text, n, &ss, err, sizeof(err));
		assert_true(rc == 0 || rc == -1);
	}
}

static void
test_empty(void **state)
{
	struct sockstat ss;
	char err[128];

	(void)state;
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(parse_str("", &ss, err, sizeof(err)), 0);
	for (int i = 0; i < SS_COUNT; i++)
		assert_false(ss.present[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metric_names),
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_files_fill_their_own_fields),
		cmocka_unit_test(test_ignores_other_lines),
		cmocka_unit_test(test_garbled),
		cmocka_unit_test(test_prefix_of_buffer),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
