/* privs.c: the capability table of docs/security.md, feature x kernel. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/capability.h>
#include <pwd.h>
#include <unistd.h>

#include "agent/privs.h"

#define BIT(c) ((uint64_t)1 << (c))

static uint64_t
need(struct privs_config c, const char *release)
{
	struct kversion kv = { 0 };

	if (release != NULL)
		kversion_parse(release, &kv);
	return privs_needed(&c, &kv);
}

static void
test_table(void **state)
{
	(void)state;
	/* Nothing enabled that needs privilege: nothing kept. */
	assert_true(need((struct privs_config){ 0 }, "6.18") == 0);
	/* tcp_metrics: CAP_NET_ADMIN on 3.7 - 4.11 only. */
	assert_true(need((struct privs_config){ .tcp_metrics = true }, "6.18") == 0);
	assert_true(need((struct privs_config){ .tcp_metrics = true }, "4.12.0") == 0);
	assert_true(need((struct privs_config){ .tcp_metrics = true }, "4.11.12") ==
	    BIT(CAP_NET_ADMIN));
	assert_true(need((struct privs_config){ .tcp_metrics = true },
	    "3.10.0-1160.el7.x86_64") == BIT(CAP_NET_ADMIN));
	assert_true(need((struct privs_config){ .tcp_metrics = true }, "3.7.0") ==
	    BIT(CAP_NET_ADMIN));
	assert_true(need((struct privs_config){ .tcp_metrics = true }, "3.6.11") == 0);
	assert_true(need((struct privs_config){ .tcp_metrics = true }, NULL) == 0);
	/* The sampler: CAP_NET_RAW on every kernel. */
	assert_true(need((struct privs_config){ .sampler = true }, "6.18") ==
	    BIT(CAP_NET_RAW));
	assert_true(need((struct privs_config){ .sampler = true,
	    .tcp_metrics = true }, "4.4.0") == (BIT(CAP_NET_RAW) | BIT(CAP_NET_ADMIN)));
	/* --netns, --netns=all. */
	assert_true(need((struct privs_config){ .netns = true }, "6.18") ==
	    BIT(CAP_SYS_ADMIN));
	assert_true(need((struct privs_config){ .netns_all = true }, "6.18") ==
	    (BIT(CAP_SYS_ADMIN) | BIT(CAP_SYS_PTRACE)));
	/* Listening sockets are bound before the drop: never a bind cap,
	   whatever the features and the kernel. */
	assert_true((need((struct privs_config){ .sampler = true,
	    .tcp_metrics = true, .netns = true, .netns_all = true }, "4.4.0") &
	    BIT(CAP_NET_BIND_SERVICE)) == 0);
	assert_true((need((struct privs_config){ .sampler = true,
	    .tcp_metrics = true, .netns = true, .netns_all = true }, "6.18") &
	    BIT(CAP_NET_BIND_SERVICE)) == 0);
}

/* nobody for root when the user database has it, else keep the uid. */
static void
test_default_user(void **state)
{
	bool missing = true;
	const char *u = privs_default_user(&missing);

	(void)state;
	if (geteuid() != 0) {
		assert_null(u);
		assert_false(missing);
	} else if (getpwnam(PRIVS_DEFAULT_USER) != NULL) {
		assert_non_null(u);
		assert_string_equal(u, "nobody");
		assert_false(missing);
	} else {
		assert_null(u);
		assert_true(missing);
	}
	/* MISSING may be NULL. */
	assert_true(privs_default_user(NULL) == u);
}

static void
test_describe(void **state)
{
	char b[256];

	(void)state;
	assert_string_equal(privs_describe(0, b, sizeof(b)), "none");
	assert_string_equal(privs_describe(BIT(CAP_NET_RAW), b, sizeof(b)),
	    "net_raw");
	assert_string_equal(privs_describe(BIT(CAP_NET_RAW) | BIT(CAP_NET_ADMIN),
	    b, sizeof(b)), "net_admin,net_raw");
	/* Truncation keeps a terminated prefix. */
	privs_describe(BIT(CAP_NET_RAW) | BIT(CAP_NET_ADMIN), b, 10);
	assert_true(b[9] == '\0' || b[0] != '\0');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_default_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
