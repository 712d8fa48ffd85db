/* util.c: bounded reads, number parsing, path joining. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

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
		cmocka_unit_test(test_rfc3339),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
