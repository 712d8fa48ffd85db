/*
 * HTTP connection accounting (web/connlimit.c): the per-address and total
 * limits, IPv4 and IPv4-mapped IPv6 as one address, entries freed when
 * their last connection closes, and reservations that never admit more
 * than the limits when threads race for the last places.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
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
	struct connlimit_entry *x;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(connlimit_reserve(cl, SA(a), &e[i]),
		    CONNLIMIT_OK);
		assert_non_null(e[i]);
	}
	assert_int_equal(connlimit_reserve(cl, SA(a), &x),
	    CONNLIMIT_PER_ADDRESS);
	assert_null(x);
	/* The same client over a dual-stack socket. */
	assert_int_equal(connlimit_reserve(cl, SA(am), &x),
	    CONNLIMIT_PER_ADDRESS);
	assert_int_equal(connlimit_reserve(cl, SA(b), &x), CONNLIMIT_OK);
	connlimit_release(cl, x);
	assert_int_equal(connlimit_from(cl, SA(am)), 3);
	connlimit_release(cl, e[1]);
	assert_int_equal(connlimit_reserve(cl, SA(a), &e[1]), CONNLIMIT_OK);
	connlimit_release(cl, e[1]);
	connlimit_release(cl, e[0]);
	connlimit_release(cl, e[2]);
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
		assert_int_equal(connlimit_reserve(cl, SA(s), &e[i]),
		    CONNLIMIT_OK);
	}
	{
		struct sockaddr_in s = v4("198.51.100.7");
		struct connlimit_entry *x;

		assert_int_equal(connlimit_reserve(cl, SA(s), &x),
		    CONNLIMIT_TOTAL);
		assert_null(x);
	}
	assert_int_equal(connlimit_total(cl), 1000);
	for (int i = 0; i < 1000; i += 2)
		connlimit_release(cl, e[i]);
	assert_int_equal(connlimit_total(cl), 500);
	for (int i = 1; i < 1000; i += 2)
		connlimit_release(cl, e[i]);
	assert_int_equal(connlimit_total(cl), 0);
	/* Releasing nothing (a refused connection's NULL) changes nothing. */
	connlimit_release(cl, NULL);
	assert_int_equal(connlimit_total(cl), 0);
	connlimit_free(cl);
}

/*
 * RACERS threads race for LIMIT places ROUNDS times: each round every
 * thread waits at a barrier, then reserves once; the admitted ones hold
 * their place until the next barrier. Whatever the interleaving, exactly
 * LIMIT are admitted per round (per address and, on distinct addresses,
 * in total), never more.
 */
#define RACERS 8
#define LIMIT 3
#define ROUNDS 2000

struct race {
	struct connlimit *cl;
	pthread_barrier_t start, end;
	bool distinct;			/* one address per thread: total limit */
	atomic_uint admitted[ROUNDS];
};

struct racer {
	struct race *r;
	int id;
};

static void *
racer_main(void *arg)
{
	struct racer *me = arg;
	struct race *r = me->r;
	struct sockaddr_in a = v4("192.0.2.9");
	struct connlimit_entry *e;

	if (r->distinct)
		a.sin_addr.s_addr = htonl(0xc6336400u + (uint32_t)me->id);
	for (int i = 0; i < ROUNDS; i++) {
		pthread_barrier_wait(&r->start);
		if (connlimit_reserve(r->cl, SA(a), &e) == CONNLIMIT_OK)
			atomic_fetch_add(&r->admitted[i], 1);
		pthread_barrier_wait(&r->end);
		connlimit_release(r->cl, e);
	}
	return NULL;
}

static void
race(bool distinct)
{
	static struct race r;
	struct racer rc[RACERS];
	pthread_t t[RACERS];
	unsigned most = 0, fewest = RACERS;

	memset(&r, 0, sizeof(r));
	r.distinct = distinct;
	r.cl = distinct ? connlimit_new(LIMIT, 100) : connlimit_new(1000, LIMIT);
	assert_non_null(r.cl);
	pthread_barrier_init(&r.start, NULL, RACERS);
	pthread_barrier_init(&r.end, NULL, RACERS);
	for (int i = 0; i < RACERS; i++) {
		rc[i] = (struct racer){ &r, i };
		assert_int_equal(pthread_create(&t[i], NULL, racer_main, &rc[i]),
		    0);
	}
	for (int i = 0; i < RACERS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < ROUNDS; i++) {
		unsigned n = atomic_load(&r.admitted[i]);

		most = n > most ? n : most;
		fewest = n < fewest ? n : fewest;
	}
	printf("# %s: %d racers, limit %d: admitted %u to %u per round\n",
	    distinct ? "total" : "per address", RACERS, LIMIT, fewest, most);
	assert_int_equal(most, LIMIT);
	assert_int_equal(fewest, LIMIT);
	assert_int_equal(connlimit_total(r.cl), 0);
	pthread_barrier_destroy(&r.start);
	pthread_barrier_destroy(&r.end);
	connlimit_free(r.cl);
}

static void
race_per_address(void **state)
{
	(void)state;
	race(false);
}

static void
race_total(void **state)
{
	(void)state;
	race(true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(per_address),
		cmocka_unit_test(total),
		cmocka_unit_test(race_per_address),
		cmocka_unit_test(race_total),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
