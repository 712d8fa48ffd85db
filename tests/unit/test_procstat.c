/*
 * The process_* figures (lib/procstat.c): the parsers on /proc text
 * (comm with spaces and parentheses, "unlimited", malformed input), and
 * procstat_read() on this process against what it knows of itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lib/procstat.h"

#define S(x) x, sizeof(x) - 1

static void
parse_stat(void **state)
{
	struct procstat_stat st;
	/* Fields 1-24 of proc(5); comm holds ") (" and spaces. */
	static const char line[] = "4242 (tw (a) b) S 1 4242 4242 0 -1 "
	    "4194560 120 0 0 0 731 252 0 0 20 0 5 0 987654 123456789 2048 "
	    "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

	(void)state;
	assert_int_equal(procstat_parse_stat(S(line), &st), 0);
	assert_int_equal(st.utime, 731);
	assert_int_equal(st.stime, 252);
	assert_int_equal(st.starttime, 987654);
	assert_int_equal(st.vsize, 123456789);
	assert_int_equal(st.rss, 2048);
	assert_int_equal(procstat_parse_stat(S("4242 (x) S 1 2 3\n"), &st), -1);
	assert_int_equal(procstat_parse_stat(S("no parenthesis at all"), &st),
	    -1);
	assert_int_equal(procstat_parse_stat(S(""), &st), -1);
}

static void
parse_limits(void **state)
{
	static const char lim[] =
	    "Limit                     Soft Limit           Hard Limit           Units     \n"
	    "Max cpu time              unlimited            unlimited            seconds   \n"
	    "Max open files            17408                524288               files     \n"
	    "Max locked memory         8388608              8388608              bytes     \n";
	static const char unl[] =
	    "Max open files            unlimited            unlimited            files     \n";
	uint64_t n = 0, bt = 0;

	(void)state;
	assert_int_equal(procstat_parse_limits(S(lim), &n), 0);
	assert_int_equal(n, 17408);
	assert_int_equal(procstat_parse_limits(S(unl), &n), 0);
	assert_true(n == UINT64_MAX);
	assert_int_equal(procstat_parse_limits(S("Max processes 10 10\n"), &n),
	    -1);
	assert_int_equal(procstat_parse_btime(S("cpu  1 2 3\nbtime 1700000000\n"
	    "processes 9\n"), &bt), 0);
	assert_int_equal(bt, 1700000000);
	assert_int_equal(procstat_parse_btime(S("btime x\n"), &bt), -1);
	assert_int_equal(procstat_parse_btime(S("cpu 1\n"), &bt), -1);
}

/* Open descriptors now, counted the slow way (a fresh opendir). */
static uint64_t
fds_now(void)
{
	char cmd[64];
	FILE *p;
	unsigned long n = 0;

	snprintf(cmd, sizeof(cmd), "ls /proc/%d/fd | wc -l", (int)getpid());
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%lu", &n), 1);
	pclose(p);
	return n;
}

static void
read_self(void **state)
{
	struct procstat *ps = procstat_open();
	struct procstat_values v, w;
	struct rlimit rl;
	int extra[5];
	uint64_t ls;

	(void)state;
	assert_non_null(ps);
	assert_int_equal(procstat_read(ps, &v), 0);
	assert_true(v.ok);
	assert_true(v.resident_bytes > 0 && v.virtual_bytes >= v.resident_bytes);
	assert_true(v.cpu_seconds >= 0 && v.cpu_seconds < 60);
	/* Started within the last minute (this test just started). */
	assert_true(v.start_time > (double)time(NULL) - 60 &&
	    v.start_time <= (double)time(NULL) + 1);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_true(v.have_max_fds);
	assert_int_equal(v.max_fds, rl.rlim_cur);
	/* ls's fresh count holds the pipe popen adds for it; ours the
	 * directory procstat keeps open: compare the difference. */
	for (int i = 0; i < 5; i++)
		extra[i] = open("/dev/null", O_RDONLY);
	assert_int_equal(procstat_read(ps, &w), 0);
	assert_int_equal(w.open_fds, v.open_fds + 5);
	ls = fds_now();
	assert_true(ls + 1 >= w.open_fds && ls <= w.open_fds + 1);
	for (int i = 0; i < 5; i++)
		close(extra[i]);
	assert_int_equal(procstat_read(ps, &w), 0);
	assert_int_equal(w.open_fds, v.open_fds);
	assert_true(w.start_time == v.start_time);
	procstat_close(ps);
	/* No reader: nothing, and not ok. */
	assert_int_equal(procstat_read(NULL, &w), -1);
	assert_false(w.ok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_stat),
		cmocka_unit_test(parse_limits),
		cmocka_unit_test(read_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
