/*
 * HTTP connection accounting (web/connlimit.c): the per-address and total
 * limits, IPv4 and IPv4-mapped IPv6 as one address, entries freed when
 * their last connection closes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "web/connlimit.h"

static struct sockaddr_in
v4(const char *a)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(1) };

	assert_int_equal(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return s;
}

static struct sockaddr_in6
v6(const char *a)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6 };

	assert_int_equal(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return s;
}

#define SA(s) ((const struct sockaddr *)&(s)), sizeof(s)

static void
per_address(void **state)
{
	struct connlimit *cl = connlimit_new(100, 3);
	struct sockaddr_in a = v4("192.0.2.1"), b = v4("192.0.2.2");
	struct sockaddr_in6 am = v6("::ffff:192.0.2.1");
	struct connlimit_entry *e[3];

	(void)state;
	assert_non_null(cl);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(connlimit_check(cl, SA(a)), CONNLIMIT_OK);
		e[i] = connlimit_open(cl, SA(a));
		assert_non_null(e[i]);
	}
	assert_int_equal(connlimit_check(cl, SA(a)), CONNLIMIT_PER_ADDRESS);
	/* The same client over a dual-stack socket. */
	assert_int_equal(connlimit_check(cl, SA(am)), CONNLIMIT_PER_ADDRESS);
	assert_int_equal(connlimit_check(cl, SA(b)), CONNLIMIT_OK);
	assert_int_equal(connlimit_from(cl, SA(am)), 3);
	connlimit_close(cl, e[1]);
	assert_int_equal(connlimit_check(cl, SA(a)), CONNLIMIT_OK);
	connlimit_close(cl, e[0]);
	connlimit_close(cl, e[2]);
	assert_int_equal(connlimit_from(cl, SA(a)), 0);
	assert_int_equal(connlimit_total(cl), 0);
	connlimit_free(cl);
}

static void
total(void **state)
{
	struct connlimit *cl = connlimit_new(1000, 2);
	struct connlimit_entry *e[1000];
	char buf[64];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		struct sockaddr_in6 s;

		snprintf(buf, sizeof(buf), "2001:db8::%x", i);
		s = v6(buf);
		assert_int_equal(connlimit_check(cl, SA(s)), CONNLIMIT_OK);
		e[i] = connlimit_open(cl, SA(s));
	}
	{
		struct sockaddr_in s = v4("198.51.100.7");

		assert_int_equal(connlimit_check(cl, SA(s)), CONNLIMIT_TOTAL);
	}
	assert_int_equal(connlimit_total(cl), 1000);
	for (int i = 0; i < 1000; i += 2)
		connlimit_close(cl, e[i]);
	assert_int_equal(connlimit_total(cl), 500);
	for (int i = 1; i < 1000; i += 2)
		connlimit_close(cl, e[i]);
	assert_int_equal(connlimit_total(cl), 0);
	/* Closing an untracked connection (NULL entry) only lowers the total. */
	connlimit_close(cl, NULL);
	assert_int_equal(connlimit_total(cl), 0);
	connlimit_free(cl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(per_address),
		cmocka_unit_test(total),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
