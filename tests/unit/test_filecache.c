/*
 * filecache.c: held descriptors give what read_file_at() gives, on the
 * real procfs and on a directory whose files are rewritten, replaced,
 * removed or swapped for a FIFO between reads.
 */
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

#include "lib/filecache.h"
#include "lib/util.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/twaudit-filecache-XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* What file_cache_read gives equals TEXT (or the error RC). */
static void
expect(struct file_cache *fc, const char *rel, int rc, const char *text)
{
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(file_cache_read(fc, dir, rel, READ_FILE_MAX, &buf,
	    &len), rc);
	if (rc == 0) {
		assert_non_null(buf);
		assert_int_equal(len, strlen(text));
		assert_string_equal(buf, text);
	} else {
		assert_null(buf);
	}
	free(buf);
}

static void
test_procfs_same_as_fresh(void **state)
{
	static const char *const rel[] = {
		"sys/kernel/osrelease", "sys/kernel/ostype", "net/netstat",
		"net/snmp", "sys/net/ipv4/tcp_timestamps",
	};
	struct file_cache *fc = file_cache_new("/proc");

	(void)state;
	assert_non_null(fc);
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			char *a, *b;
			size_t alen, blen;

			assert_int_equal(file_cache_read(fc, "/proc", rel[i],
			    READ_FILE_MAX, &a, &alen), 0);
			assert_int_equal(read_file_at("/proc", rel[i],
			    READ_FILE_MAX, &b, &blen), 0);
			assert_true(alen > 0);
			/* The same lines: the counters in them may move. */
			assert_int_equal(strchr(a, '\n') - a,
			    strchr(b, '\n') - b);
			assert_memory_equal(a, b, (size_t)(strchr(a, '\n') - a));
			free(a);
			free(b);
		}
		/* Held once, then read through the same descriptors. */
		assert_int_equal(file_cache_held(fc), 5);
	}
	/* Missing and directories: as read_file_at() says. */
	{
		char *buf;
		size_t len;

		assert_int_equal(file_cache_read(fc, "/proc",
		    "sys/net/ipv4/no_such_key", 64, &buf, &len), -ENOENT);
		assert_int_equal(file_cache_read(fc, "/proc", "sys/kernel",
		    64, &buf, &len), -EISDIR);
	}
	file_cache_free(fc);
}

static void
test_rewritten_and_replaced(void **state)
{
	struct file_cache *fc;
	char a[128], b[128];

	(void)state;
	put("v", "1\n");
	fc = file_cache_new(dir);
	assert_non_null(fc);
	expect(fc, "v", 0, "1\n");
	assert_int_equal(file_cache_held(fc), 1);
	/* Rewritten in place (the same inode): read again from 0. */
	put("v", "22\n");
	expect(fc, "v", 0, "22\n");
	put("v", "");
	expect(fc, "v", 0, "");
	/* Replaced by another inode: the path wins. */
	put("w", "333\n");
	snprintf(a, sizeof(a), "%s/w", dir);
	snprintf(b, sizeof(b), "%s/v", dir);
	assert_int_equal(rename(a, b), 0);
	expect(fc, "v", 0, "333\n");
	assert_int_equal(file_cache_held(fc), 1);
	/* Removed: ENOENT, the descriptor let go. */
	assert_int_equal(unlink(b), 0);
	expect(fc, "v", -ENOENT, NULL);
	assert_int_equal(file_cache_held(fc), 0);
	/* A FIFO where the file was: refused unopened, never blocks. */
	assert_int_equal(mkfifo(b, 0600), 0);
	expect(fc, "v", -ENOTREG, NULL);
	assert_int_equal(unlink(b), 0);
	/* Larger than MAX: -EFBIG, as read_file_at() says. */
	put("big", "0123456789\n");
	{
		char *buf;
		size_t len;

		assert_int_equal(file_cache_read(fc, dir, "big", 4, &buf, &len),
		    -EFBIG);
		assert_int_equal(read_file_at(dir, "big", 4, &buf, &len),
		    -EFBIG);
	}
	file_cache_free(fc);
}

static void
test_bounded_and_other_roots(void **state)
{
	struct file_cache *fc;
	char name[32], text[32];

	(void)state;
	fc = file_cache_new(dir);
	assert_non_null(fc);
	/* More files than slots: every read right, FILE_CACHE_SLOTS held. */
	for (int i = 0; i < FILE_CACHE_SLOTS + 8; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		snprintf(text, sizeof(text), "%d\n", i);
		put(name, text);
		expect(fc, name, 0, text);
	}
	assert_int_equal(file_cache_held(fc), FILE_CACHE_SLOTS);
	for (int i = 0; i < FILE_CACHE_SLOTS + 8; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		snprintf(text, sizeof(text), "%d\n", i);
		expect(fc, name, 0, text);
	}
	/* Another root: read afresh, nothing held for it. */
	{
		char *buf;
		size_t len;

		assert_int_equal(file_cache_read(fc, "/proc",
		    "sys/kernel/ostype", 64, &buf, &len), 0);
		assert_string_equal(buf, "Linux\n");
		free(buf);
	}
	assert_int_equal(file_cache_held(fc), FILE_CACHE_SLOTS);
	file_cache_free(fc);
	/* NULL: read_file_at(). */
	expect(NULL, "f0", 0, "0\n");
	assert_null(file_cache_new("/nonexistent-twaudit"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_procfs_same_as_fresh),
		cmocka_unit_test(test_rewritten_and_replaced),
		cmocka_unit_test(test_bounded_and_other_roots),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
