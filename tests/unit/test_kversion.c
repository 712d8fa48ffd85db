/* kversion.c: release strings to ordered codes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/kversion.h"

static void
test_parse(void **state)
{
	struct kversion k;

	(void)state;
	assert_int_equal(kversion_parse("3.10.0-1160.el7.x86_64", &k), 0);
	assert_int_equal(k.code, KV(3, 10, 0));
	assert_true(k.rhel7);
	assert_int_equal(kversion_parse("4.9.229", &k), 0);
	assert_int_equal(k.code, KV(4, 9, 229));
	assert_false(k.rhel7);
	assert_int_equal(kversion_parse("6.18", &k), 0);
	assert_int_equal(k.code, KV(6, 18, 0));
	assert_int_equal(kversion_parse("6.18.44-fc-v657", &k), 0);
	assert_int_equal(k.code, KV(6, 18, 44));
	assert_int_equal(kversion_parse("4.1-rc6", &k), 0);
	assert_int_equal(k.code, KV(4, 1, 0));
	/* Sublevels above 255 clamp instead of spilling into the minor. */
	assert_int_equal(kversion_parse("4.4.302", &k), 0);
	assert_true(k.code < KV(4, 5, 0) && k.code > KV(4, 4, 254));
}

static void
test_order(void **state)
{
	(void)state;
	assert_true(KV(4, 11, 99) < KV(4, 12, 0));
	assert_true(KV(3, 17, 0) > KV(3, 16, 255));
	assert_true(KV(2, 6, 32) < KV(3, 0, 0));
}

static void
test_garbage(void **state)
{
	struct kversion k;

	(void)state;
	assert_int_equal(kversion_parse("", &k), -1);
	assert_int_equal(kversion_parse("linux", &k), -1);
	assert_int_equal(kversion_parse("4.x", &k), -1);
	assert_int_equal(kversion_parse("99999999999.1", &k), -1);
	assert_int_equal(kversion_parse(NULL, &k), -1);
	assert_int_equal(k.code, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
