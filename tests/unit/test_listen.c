/*
 * Listen addresses (web/listen.c): duplicates and wildcards dropped before
 * bind, order kept; sd_listen_fds(3) variables parsed; descriptors that
 * are no listening TCP socket refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "web/listen.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
expect_kept(const char **in, size_t n, const char *const *want, size_t wn)
{
	size_t got = listen_dedupe(in, n);

	assert_int_equal(got, wn);
	for (size_t i = 0; i < wn; i++)
		assert_string_equal(in[i], want[i]);
}

static void
test_dedupe_same(void **state)
{
	const char *a[] = { "127.0.0.1:9477", "[::1]:9477", "127.0.0.1:9477",
	    "[0:0::1]:9477", "LocalHost:80", "localhost:80" };
	const char *const want[] = { "127.0.0.1:9477", "[::1]:9477",
	    "LocalHost:80" };

	(void)state;
	expect_kept(a, N(a), want, N(want));
}

static void
test_dedupe_wildcards(void **state)
{
	/* The wildcard wins wherever it stands; other ports stay. */
	const char *a[] = { "127.0.0.1:9477", "host.example:9477", ":9477",
	    "127.0.0.1:9478" };
	const char *const want[] = { ":9477", "127.0.0.1:9478" };
	const char *b[] = { "10.0.0.1:80", "[fe80::1%lo]:80", "0.0.0.0:80",
	    "[::1]:80", "[::]:81", "[::1]:81", "127.0.0.1:81" };
	const char *const bwant[] = { "[fe80::1%lo]:80", "0.0.0.0:80",
	    "[::1]:80", "[::]:81", "127.0.0.1:81" };
	const char *c[] = { ":80", "0.0.0.0:80", "[::]:80" };
	const char *const cwant[] = { ":80" };

	(void)state;
	expect_kept(a, N(a), want, N(want));
	/* 0.0.0.0 covers IPv4 only, [::] IPv6 only (it is bound v6-only). */
	expect_kept(b, N(b), bwant, N(bwant));
	expect_kept(c, N(c), cwant, N(cwant));
}

static void
test_dedupe_unparsable_kept(void **state)
{
	const char *a[] = { "nonsense", "nonsense", ":99999" };
	const char *const want[] = { "nonsense", "nonsense", ":99999" };

	(void)state;
	expect_kept(a, N(a), want, N(want));
}

static void
test_sd_parse(void **state)
{
	char err[256];
	unsigned n = 0;

	(void)state;
	assert_int_equal(sd_listen_parse("42", "2", 42, 8, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(sd_listen_parse(NULL, "1", 42, 8, &n, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "not set"));
	assert_int_equal(sd_listen_parse("43", "1", 42, 8, &n, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "process 43"));
	assert_int_equal(sd_listen_parse("42", "0", 42, 8, &n, err,
	    sizeof(err)), -1);
	assert_int_equal(sd_listen_parse("42", "9", 42, 8, &n, err,
	    sizeof(err)), -1);
	assert_int_equal(sd_listen_parse("42", "1x", 42, 8, &n, err,
	    sizeof(err)), -1);
	assert_int_equal(sd_listen_parse("-42", "1", 42, 8, &n, err,
	    sizeof(err)), -1);
	assert_int_equal(sd_listen_parse("", "1", 42, 8, &n, err,
	    sizeof(err)), -1);
}

static void
test_sd_check(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	char name[64], err[256];
	int fam, v6only, fl, fd, u, p[2];

	(void)state;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* Bound, not listening: refused. */
	assert_int_equal(sd_listen_check(fd, &fam, &v6only, name,
	    sizeof(name), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not listening"));
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(sd_listen_check(fd, &fam, &v6only, name,
	    sizeof(name), err, sizeof(err)), 0);
	assert_int_equal(fam, AF_INET);
	{
		char want[64];

		snprintf(want, sizeof(want), "127.0.0.1:%u",
		    ntohs(sa.sin_port));
		assert_string_equal(name, want);
	}
	fl = fcntl(fd, F_GETFL);
	assert_true(fl & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);

	u = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(sd_listen_check(u, &fam, &v6only, name, sizeof(name),
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a stream socket"));
	close(u);
	u = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un ua = { .sun_family = AF_UNIX };

		/* Only the family: autobind to an abstract name. */
		assert_int_equal(bind(u, (struct sockaddr *)&ua,
		    sizeof(sa_family_t)), 0);
	}
	assert_int_equal(listen(u, 1), 0);
	assert_int_equal(sd_listen_check(u, &fam, &v6only, name, sizeof(name),
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a TCP socket"));
	close(u);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(sd_listen_check(p[0], &fam, &v6only, name,
	    sizeof(name), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is not a socket"));
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dedupe_same),
		cmocka_unit_test(test_dedupe_wildcards),
		cmocka_unit_test(test_dedupe_unparsable_kept),
		cmocka_unit_test(test_sd_parse),
		cmocka_unit_test(test_sd_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
