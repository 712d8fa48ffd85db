/*
 * Basic authentication (web/auth.c): the Authorization header parser
 * (scheme in any case, base64 with or without padding, NULs and control
 * characters refused), and auth_check's cache, per-address throttle and
 * bucket table bound with real bcrypt (cost 4) on the worker threads.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "web/auth.h"
#include "lib/selfstat.h"
#include "web/webconfig.h"

/* bcrypt cost 4 of "secret" and of "other", one salt. */
#define H_SECRET "$2b$04$ABCDEFGHIJKLMNOPQRSTUux/yVoHLb2P5.QxxfIdIyVUJvRQqUe5S"
#define H_OTHER "$2b$04$ABCDEFGHIJKLMNOPQRSTUubdTkc8VfDg3xLFFedNQLivmNw6I3T6K"

static char user[AUTH_MAX_USER], pass[AUTH_MAX_PASSWORD];

static int
parse(const char *hdr)
{
	user[0] = pass[0] = '\0';
	return auth_parse_basic(hdr, strlen(hdr), user, sizeof(user), pass,
	    sizeof(pass));
}

static void
test_parse_ok(void **state)
{
	(void)state;
	/* "alice:secret" */
	assert_int_equal(parse("Basic YWxpY2U6c2VjcmV0"), 0);
	assert_string_equal(user, "alice");
	assert_string_equal(pass, "secret");
	assert_int_equal(parse("basic YWxpY2U6c2VjcmV0"), 0);
	assert_int_equal(parse("BASIC   YWxpY2U6c2VjcmV0  "), 0);
	assert_string_equal(pass, "secret");
	/* "alice:secre" needs padding "=": with and without it. */
	assert_int_equal(parse("Basic YWxpY2U6c2VjcmU="), 0);
	assert_string_equal(pass, "secre");
	assert_int_equal(parse("Basic YWxpY2U6c2VjcmU"), 0);
	assert_string_equal(pass, "secre");
	/* "a:b:c": the password keeps its colon; ":" alone is empty both. */
	assert_int_equal(parse("Basic YTpiOmM="), 0);
	assert_string_equal(user, "a");
	assert_string_equal(pass, "b:c");
	assert_int_equal(parse("Basic Og=="), 0);
	assert_string_equal(user, "");
	assert_string_equal(pass, "");
}

static void
test_parse_refused(void **state)
{
	static const char nul[] = "Basic YWxpY2U6c2UAY3JldA==";	/* se\0cret */
	char big[4096];

	(void)state;
	assert_int_equal(parse("Bearer YWxpY2U6c2VjcmV0"), -1);
	assert_int_equal(parse("Basic"), -1);
	assert_int_equal(parse("Basic "), -1);
	assert_int_equal(parse("BasicYWxpY2U6c2VjcmV0"), -1);
	assert_int_equal(parse("Basic\tYWxpY2U6c2VjcmV0"), -1);
	assert_int_equal(parse("Basic YWxpY2U"), -1);		/* "alice", no ':' */
	assert_int_equal(parse("Basic YWxpY2U6c2VjcmV0!"), -1);
	assert_int_equal(parse("Basic YWxp Y2U6c2VjcmV0"), -1);
	assert_int_equal(parse("Basic YWxpY2U6c2VjcmU=="), -1);	/* too much */
	assert_int_equal(parse("Basic YWxpY2U6c2Vjc=mV0"), -1);
	assert_int_equal(parse("Basic YWxpY2U6c2VjcmV"), -1);	/* stray bits */
	assert_int_equal(parse("Basic Y"), -1);			/* lone char */
	assert_int_equal(auth_parse_basic(nul, strlen(nul), user, sizeof(user),
	    pass, sizeof(pass)), -1);
	assert_int_equal(parse("Basic YWxpY2U6c2UKY3JldA=="), -1);	/* \n */
	/* The length given is what counts, not a NUL in the header. */
	assert_int_equal(auth_parse_basic("Basic YWxpY2U6c2VjcmV0", 12, user,
	    sizeof(user), pass, sizeof(pass)), -1);
	/* A password longer than the buffer. */
	memcpy(big, "Basic ", 6);
	memset(big + 6, 'Q', 2000);
	big[2006] = '\0';
	memcpy(big + 6, "YTp", 3);			/* "a:" then 'A'... */
	assert_int_equal(parse(big), -1);
}

static struct webconfig *
config(const char *hash)
{
	char text[256], err[512];
	struct webconfig *wc;

	snprintf(text, sizeof(text), "basic_auth_users:\n  alice: '%s'\n", hash);
	wc = webconfig_parse(text, strlen(text), "w.yml", err, sizeof(err));
	assert_non_null(wc);
	return wc;
}

static struct sockaddr_in
v4(const char *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	inet_pton(AF_INET, s, &sa.sin_addr);
	return sa;
}

static void
test_check(void **state)
{
	struct auth *a = auth_new();
	struct webconfig *wc = config(H_SECRET), *wc2 = config(H_OTHER);
	struct sockaddr_in me = v4("10.0.0.1"), evil = v4("10.0.0.2");
	const struct sockaddr *pme = (void *)&me, *pevil = (void *)&evil;
	struct selfstat_values before, after;
	struct auth_stats st;
	uint64_t runs;

	(void)state;
	assert_non_null(a);
	selfstat_read(&before);
	assert_int_equal(auth_check(a, wc, pme, "alice", "secret"), AUTH_OK);
	auth_get_stats(a, &st);
	runs = st.bcrypt_runs;
	assert_int_equal(runs, 1);
	/* Remembered: no second bcrypt. */
	assert_int_equal(auth_check(a, wc, pme, "alice", "secret"), AUTH_OK);
	auth_get_stats(a, &st);
	assert_int_equal(st.bcrypt_runs, runs);
	assert_int_equal(st.cache_hits, 1);
	/* A password that starts the same, or one more byte, is wrong. */
	assert_int_equal(auth_check(a, wc, pevil, "alice", "secretX"), AUTH_DENIED);
	assert_int_equal(auth_check(a, wc, pevil, "alice", "secre"), AUTH_DENIED);
	/* Unknown users cost a bcrypt too. */
	assert_int_equal(auth_check(a, wc, pevil, "mallory", "secret"), AUTH_DENIED);
	auth_get_stats(a, &st);
	assert_int_equal(st.bcrypt_runs, runs + 3);
	/* The bucket (AUTH_ADDR_BURST = 5) runs dry: throttled, no bcrypt. */
	assert_int_equal(auth_check(a, wc, pevil, "alice", "x1"), AUTH_DENIED);
	assert_int_equal(auth_check(a, wc, pevil, "alice", "x2"), AUTH_DENIED);
	assert_int_equal(auth_check(a, wc, pevil, "alice", "x3"), AUTH_THROTTLED);
	assert_int_equal(auth_check(a, wc, pevil, "alice", "x4"), AUTH_THROTTLED);
	auth_get_stats(a, &st);
	assert_int_equal(st.bcrypt_runs, runs + 5);
	assert_int_equal(st.throttled, 2);
	/* The right password from the throttled address still gets in, and
	 * another address is not throttled. */
	assert_int_equal(auth_check(a, wc, pevil, "alice", "secret"), AUTH_OK);
	assert_int_equal(auth_check(a, wc, pme, "alice", "nope"), AUTH_DENIED);
	selfstat_read(&after);
	assert_int_equal(after.v[SELF_HTTP_AUTH_FAILURES] -
	    before.v[SELF_HTTP_AUTH_FAILURES], 8);
	assert_int_equal(after.v[SELF_HTTP_AUTH_THROTTLED] -
	    before.v[SELF_HTTP_AUTH_THROTTLED], 2);
	/* A new password in the config: the remembered one no longer works. */
	assert_int_equal(auth_check(a, wc2, pme, "alice", "secret"), AUTH_DENIED);
	assert_int_equal(auth_check(a, wc2, pme, "alice", "other"), AUTH_OK);
	webconfig_unref(wc);
	webconfig_unref(wc2);
	auth_free(a);
}

/* Many addresses: the table stays bounded and counts its evictions. */
static void
test_bucket_table_bound(void **state)
{
	struct auth *a = auth_new();
	struct webconfig *wc = config(H_SECRET);
	struct auth_stats st;

	(void)state;
	for (uint32_t i = 0; i < 3 * AUTH_ADDR_SLOTS; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
		    .sin_addr.s_addr = htonl(0x0a000000u + i) };

		/* Most are throttled by the global budget: quick. */
		(void)auth_check(a, wc, (void *)&sa, "alice", "wrong");
	}
	auth_get_stats(a, &st);
	assert_true(st.addr_evictions >= 2 * AUTH_ADDR_SLOTS - 8);
	assert_true(st.throttled > 0);
	/* IPv6 addresses of one /64 share one bucket. */
	{
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
		int throttled = 0;

		auth_free(a);
		a = auth_new();
		for (int i = 0; i < 10; i++) {
			inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr);
			s6.sin6_addr.s6_addr[15] = (uint8_t)i;
			throttled += auth_check(a, wc, (void *)&s6, "alice",
			    "wrong") == AUTH_THROTTLED;
		}
		assert_int_equal(throttled, 10 - (int)AUTH_ADDR_BURST);
	}
	webconfig_unref(wc);
	auth_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_bucket_table_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
