/* util.c: bounded reads, number parsing, path joining. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"

static void
test_parse_u64(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_u64("42\n", 3, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_u64("18446744073709551615", 20, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_u64("18446744073709551616", 20, &v), -1);
	assert_int_equal(parse_u64("", 0, &v), -1);
	assert_int_equal(parse_u64("-1", 2, &v), -1);
	assert_int_equal(parse_u64("12x", 3, &v), -1);
	/* Only LEN bytes count: "123" of "1234". */
	assert_int_equal(parse_u64("1234", 3, &v), 0);
	assert_int_equal(v, 123);
}

static void
test_parse_i64(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(parse_i64("-1", 2, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(parse_i64("-9223372036854775808", 20, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(parse_i64("9223372036854775808", 19, &v), -1);
	assert_int_equal(parse_i64("- 5", 3, &v), -1);
}

static void
test_path_join(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(path_join(out, sizeof(out), "/proc", "net/netstat"), 0);
	assert_string_equal(out, "/proc/net/netstat");
	assert_int_equal(path_join(out, sizeof(out), "/", "/etc/sysctl.conf"), 0);
	assert_string_equal(out, "/etc/sysctl.conf");
	assert_int_equal(path_join(out, sizeof(out), "/x//", "//y"), 0);
	assert_string_equal(out, "/x/y");
	assert_int_equal(path_join(out, 8, "/proc", "net/netstat"), -1);
}

static void
test_read_file(void **state)
{
	char dir[] = "/tmp/twaudit-util.XXXXXX", path[128], *buf;
	size_t len;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	f = fopen(path, "w");
	for (int i = 0; i < 10000; i++)
		fputs("0123456789", f);
	fclose(f);
	assert_int_equal(read_file_at(dir, "f", 200000, &buf, &len), 0);
	assert_int_equal(len, 100000);
	assert_int_equal(buf[len], '\0');
	free(buf);
	/* Over the limit: refused, nothing returned. */
	assert_int_equal(read_file_at(dir, "f", 99999, &buf, &len), -EFBIG);
	assert_null(buf);
	assert_int_equal(read_file_at(dir, "missing", 100, &buf, &len), -ENOENT);
	assert_int_equal(read_file_at(dir, "", 100, &buf, &len), -EISDIR);
	unlink(path);
	rmdir(dir);
}

/* A FIFO (with or without a writer) is refused at once, never read. */
static void
test_read_fifo(void **state)
{
	char dir[] = "/tmp/twaudit-util.XXXXXX", path[128], *buf = NULL;
	size_t len;
	int w;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(read_file_at(dir, "fifo", 100, &buf, &len), -ENOTREG);
	assert_null(buf);
	/* With a writer that never writes: still refused, no EAGAIN. */
	w = open(path, O_RDWR | O_NONBLOCK);
	assert_true(w >= 0);
	assert_int_equal(read_file_at(dir, "fifo", 100, &buf, &len), -ENOTREG);
	close(w);
	/* A device is refused before it is opened. */
	assert_int_equal(read_file_at("/dev", "null", 100, &buf, &len), -ENOTREG);
	assert_int_equal(open_untrusted("/dev/null", NULL), -ENOTREG);
	assert_non_null(strstr(file_strerror(ENOTREG), "not a regular file"));
	assert_string_equal(file_strerror(ENOENT), strerror(ENOENT));
	assert_string_equal(file_type_name(S_IFIFO), "a FIFO");
	unlink(path);
	rmdir(dir);
}

static void
expect_escape(const char *in, size_t outlen, const char *want)
{
	char out[256];

	assert_true(outlen <= sizeof(out));
	assert_int_equal(text_escape(in, out, outlen), strlen(want));
	assert_string_equal(out, want);
}

static void
test_text_escape(void **state)
{
	(void)state;
	expect_escape("web-01.example", 64, "web-01.example");
	expect_escape("a\033]0;x\007b", 64, "a\\x1b]0;x\\x07b");
	expect_escape("del\177 tab\t nl\n", 64, "del\\x7f tab\\x09 nl\\x0a");
	expect_escape("back\\slash", 64, "back\\\\slash");
	/* UTF-8 passes; invalid bytes, overlong forms, surrogates and C1
	   controls (U+009B is CSI on some terminals) do not. */
	expect_escape("caf\xc3\xa9", 64, "caf\xc3\xa9");
	expect_escape("\xff\xc3", 64, "\\xff\\xc3");
	expect_escape("\xc0\xaf", 64, "\\xc0\\xaf");
	expect_escape("\xed\xa0\x80", 64, "\\xed\\xa0\\x80");
	expect_escape("\xc2\x9b", 64, "\\xc2\\x9b");
	/* Truncation keeps whole escapes and whole characters. */
	expect_escape("ab\033", 5, "ab");
	expect_escape("a\xc3\xa9", 3, "a");
	expect_escape("abc", 1, "");
}

static void
test_rfc3339(void **state)
{
	char out[32];

	(void)state;
	format_rfc3339(0, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
	format_rfc3339(1795625447.5, out, sizeof(out));
	assert_string_equal(out, "2026-11-25T16:50:47.500Z");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_i64),
		cmocka_unit_test(test_path_join),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_read_fifo),
		cmocka_unit_test(test_text_escape),
		cmocka_unit_test(test_rfc3339),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
