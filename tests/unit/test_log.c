/*
 * The log rate limit (lib/log.c): a flood of one message writes a
 * bounded number of lines, the rest are counted in selfstat and reported
 * by a "log lines suppressed" line; other messages are not held back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/log.h"
#include "lib/selfstat.h"

/* Run F with stderr going to a temporary file; its text (malloc'd). */
static char *
capture(void (*f)(void))
{
	FILE *t = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *buf;
	long n;

	assert_non_null(t);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(t), STDERR_FILENO) >= 0);
	f();
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	n = lseek(fileno(t), 0, SEEK_END);
	assert_true(n >= 0);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fileno(t), buf, (size_t)n, 0), n);
	fclose(t);
	return buf;
}

static size_t
count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void
flood(void)
{
	for (int i = 0; i < 10000; i++)
		log_warn("refused", "address=%d", i);
	log_info("other message", NULL);
	log_flush_suppressed();
}

static void
flood_is_bounded(void **state)
{
	struct selfstat_values before, after;
	char *out;

	(void)state;
	selfstat_read(&before);
	out = capture(flood);
	selfstat_read(&after);
	/* 20 at once (plus one refilled if the loop took over 3 s). */
	assert_in_range(count(out, "msg=\"refused\""), 20, 22);
	assert_int_equal(count(out, "msg=\"other message\""), 1);
	assert_int_equal(count(out, "msg=\"log lines suppressed\""), 1);
	assert_non_null(strstr(out, "of=\"refused\""));
	assert_in_range(after.v[SELF_LOG_SUPPRESSED] -
	    before.v[SELF_LOG_SUPPRESSED], 10000 - 22, 10000 - 20);
	free(out);
}

static void
keyed_flood(void)
{
	for (int i = 0; i < 500; i++)
		log_keyed(LOG_WARN, "Server reached connection limit.\n", "http",
		    "error=%d", i);
	for (int i = 0; i < 5; i++)
		log_keyed(LOG_WARN, "another library message\n", "http",
		    "error=%d", i);
	log_flush_suppressed();
}

static void
keyed_by_key_not_msg(void **state)
{
	char *out;

	(void)state;
	out = capture(keyed_flood);
	/* Same MSG, two keys: the second is not held back by the first. */
	assert_in_range(count(out, "msg=\"http\""), 25, 27);
	assert_non_null(strstr(out,
	    "of=\"Server reached connection limit.\" suppressed="));
	free(out);
}

static void
json_lines(void)
{
	char q[64];

	log_set_format(LOG_FORMAT_JSON);
	log_warn("a \"quoted\" message", "file=%s n=%d empty=\"\"",
	    log_quote("/tmp/a b\\c\nd", q, sizeof(q)), 7);
	log_info("no pairs", NULL);
	log_set_format(LOG_FORMAT_LOGFMT);
}

/* --log.format=json: one object a line, logfmt pairs as string members. */
static void
json_format(void **state)
{
	char *out;

	(void)state;
	assert_int_equal(log_format_parse("json"), LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("logfmt"), LOG_FORMAT_LOGFMT);
	assert_int_equal(log_format_parse("JSON"), -1);
	out = capture(json_lines);
	assert_non_null(strstr(out, "{\"ts\":\""));
	assert_non_null(strstr(out, "\"level\":\"warn\",\"msg\":\"a "
	    "\\\"quoted\\\" message\",\"file\":\"/tmp/a b\\\\c\\nd\","
	    "\"n\":\"7\",\"empty\":\"\"}\n"));
	assert_non_null(strstr(out, "\"level\":\"info\",\"msg\":\"no pairs\"}\n"));
	assert_null(strstr(out, "level=warn"));
	free(out);
}

/* The converter stays inside its buffer whatever it is given. */
static void
json_pairs_bounded(void **state)
{
	char in[3000], out[64];
	size_t o = 0;

	(void)state;
	memset(in, 'k', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	in[10] = '=';
	in[11] = '"';
	log_pairs_json(in, out, sizeof(out), &o);
	assert_true(o < sizeof(out));
	o = 0;
	log_pairs_json("a=\"unterminated\\", out, sizeof(out), &o);
	out[o] = '\0';
	/* The lone backslash is kept, escaped; the string is closed. */
	assert_string_equal(out, ",\"a\":\"unterminated\\\\\"");
}

static void
quiet_lines(void)
{
	log_set_level(LOG_ERROR);
	log_warn("a warning", NULL);
	log_error("an error", NULL);
	log_set_level(LOG_DEBUG);
}

/* --log.level=error: warnings are not written. */
static void
level_error_silences_warnings(void **state)
{
	char *out;

	(void)state;
	out = capture(quiet_lines);
	assert_null(strstr(out, "a warning"));
	assert_non_null(strstr(out, "msg=\"an error\""));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flood_is_bounded),
		cmocka_unit_test(keyed_by_key_not_msg),
		cmocka_unit_test(json_format),
		cmocka_unit_test(json_pairs_bounded),
		cmocka_unit_test(level_error_silences_warnings),
	};

	log_set_level(LOG_DEBUG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
