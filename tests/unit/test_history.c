/* history.c: ring, windows, resets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>

#include "agent/history.h"

static struct counter_set
cs(uint64_t paws)
{
	struct counter_set c = { 0 };

	c.value[CTR_PAWS_PASSIVE] = paws;
	c.present[CTR_PAWS_PASSIVE] = true;
	return c;
}

static void
test_rate_window(void **state)
{
	struct history *h = history_new(100);
	struct rate r;

	(void)state;
	/* One sample every 5 s, +10 each: 2 per second, 120 per minute. */
	for (int i = 0; i <= 60; i++) {
		struct counter_set c = cs((uint64_t)i * 10);

		history_add(h, 1000 + i * 5.0, &c, -1);
	}
	r = history_rate(h, CTR_PAWS_PASSIVE, 60);
	assert_true(r.evaluated);
	assert_int_equal(r.delta, 120);
	assert_true(r.window_s == 60);
	assert_true(r.per_min > 119.9 && r.per_min < 120.1);
	r = history_rate(h, CTR_PAWS_PASSIVE, 300);
	assert_true(r.evaluated);
	assert_int_equal(r.delta, 600);
	/* 1 h is more than the 300 s held: not evaluated. */
	r = history_rate(h, CTR_PAWS_PASSIVE, 3600);
	assert_false(r.evaluated);
	/* An absent counter is never evaluated. */
	r = history_rate(h, CTR_LISTEN_DROPS, 60);
	assert_false(r.evaluated);
	history_free(h);
}

static void
test_ring_wraps(void **state)
{
	struct history *h = history_new(10);
	double t;
	const struct counter_set *c;
	int64_t tw;

	(void)state;
	for (int i = 0; i < 25; i++) {
		struct counter_set x = cs((uint64_t)i);

		history_add(h, i, &x, i * 2);
	}
	assert_int_equal(history_len(h), 10);
	assert_true(history_get(h, 0, &t, &c, &tw));
	assert_true(t == 15);
	assert_int_equal(tw, 30);
	assert_int_equal(c->value[CTR_PAWS_PASSIVE], 15);
	assert_true(history_get(h, 9, &t, &c, &tw));
	assert_true(t == 24);
	assert_int_equal(tw, 48);
	assert_false(history_get(h, 10, &t, &c, &tw));
	history_free(h);
}

static void
test_reset(void **state)
{
	struct history *h = history_new(10);
	struct counter_set a = cs(1000), b = cs(1010), c = cs(5), d = cs(15);
	struct rate r;

	(void)state;
	history_add(h, 0, &a, -1);
	history_add(h, 20, &b, -1);
	history_add(h, 40, &c, -1);	/* reboot or module reload: counter reset */
	history_add(h, 60, &d, -1);
	r = history_rate(h, CTR_PAWS_PASSIVE, 60);
	assert_true(r.evaluated);
	assert_int_equal(r.delta, 10 + 5 + 10);
	r = rate_between(&b, 20, &c, 40, CTR_PAWS_PASSIVE);
	assert_int_equal(r.delta, 5);
	r = rate_between(&a, 0, &b, 30, CTR_PAWS_PASSIVE);
	assert_true(r.per_min > 19.9 && r.per_min < 20.1);
	history_free(h);
}

/* Chart points: one per pair of consecutive samples, a repeated time
 * skipped, NAN for a counter not evaluated, the newer sample's gauge. */
static void
test_chart(void **state)
{
	struct history *h = history_new(8);
	struct history_point pt[8];
	struct counter_set c;
	size_t n;

	(void)state;
	assert_int_equal(history_chart(h, 0, 0, pt, 8), 0);
	c = cs(0);
	history_add(h, 100, &c, 7);
	assert_int_equal(history_chart(h, 0, 0, pt, 8), 0);
	c = cs(10);
	history_add(h, 105, &c, -1);
	history_add(h, 105, &c, 9);	/* same time: no point */
	c = cs(40);
	history_add(h, 115, &c, 12);
	n = history_chart(h, 120, 5000, pt, 8);
	assert_int_equal(n, 2);
	assert_true(pt[0].wall == 4985 && pt[1].wall == 4995);
	assert_int_equal(pt[0].timewait, -1);
	assert_int_equal(pt[1].timewait, 12);
	assert_int_equal(history_charted[0], CTR_PAWS_PASSIVE);
	assert_true(pt[0].per_min[0] > 119.9 && pt[0].per_min[0] < 120.1);
	assert_true(pt[1].per_min[0] > 179.9 && pt[1].per_min[0] < 180.1);
	for (int k = 1; k < HISTORY_NCHARTED; k++)
		assert_true(isnan(pt[0].per_min[k]));
	/* MAX bounds the output. */
	assert_int_equal(history_chart(h, 120, 5000, pt, 1), 1);
	history_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_window),
		cmocka_unit_test(test_ring_wraps),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_chart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
