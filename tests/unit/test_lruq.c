/*
 * The exact-LRU victim queue (model/model.h, model/natclust.c) against
 * a brute-force minimum: random touches, frees and reuse of victims, on
 * table sizes around the batch and sampling thresholds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/model.h"

struct ent {
	uint32_t payload[5];	/* a stride that is not a power of two */
	uint64_t seq;
};

static uint64_t
rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static uint32_t
brute_min(const struct ent *e, uint32_t cap)
{
	uint32_t best = UINT32_MAX;

	for (uint32_t i = 0; i < cap; i++)
		if (e[i].seq != 0 && (best == UINT32_MAX ||
		    e[i].seq < e[best].seq))
			best = i;
	return best;
}

static void
run(uint32_t cap, unsigned shift, uint64_t seed, unsigned rounds)
{
	struct ent *e = calloc(cap, sizeof(*e));
	struct lruq q;
	uint64_t rng = seed, clock = 0;

	assert_non_null(e);
	assert_int_equal(lruq_init(&q, cap, shift), 0);
	/* Empty table: no victim. */
	assert_int_equal(lruq_victim(&q, e, sizeof(*e),
	    offsetof(struct ent, seq), cap), UINT32_MAX);
	for (uint32_t i = 0; i < cap; i++)
		if (rnd(&rng) % 8 != 0)
			e[i].seq = ++clock;
	for (unsigned r = 0; r < rounds; r++) {
		uint64_t op = rnd(&rng) % 16;
		uint32_t i = (uint32_t)(rnd(&rng) % cap);

		if (op < 6) {
			e[i].seq = ++clock;		/* touch / reuse */
		} else if (op == 6) {
			e[i].seq = 0;			/* free */
		} else {
			uint32_t want = brute_min(e, cap);
			uint32_t got = lruq_victim(&q, e, sizeof(*e),
			    offsetof(struct ent, seq), cap);

			assert_int_equal(got, want);
			if (got != UINT32_MAX)
				e[got].seq = ++clock;	/* evicted, reused */
		}
	}
	lruq_free(&q);
	free(e);
}

static void
test_small_tables(void **state)
{
	(void)state;
	for (uint32_t cap = 1; cap <= 300; cap += 7)
		run(cap, 3, 0x9e3779b97f4a7c15ull ^ cap, 3000);
}

static void
test_around_thresholds(void **state)
{
	/* 256: whole-table batches end; 4096 = 64 x 64: sampling starts. */
	static const uint32_t caps[] = { 255, 256, 257, 2047, 4095, 4096,
		4097, 5000, 8192 };

	(void)state;
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
		for (unsigned shift = 1; shift <= 3; shift++)
			run(caps[c], shift, 12345 + caps[c] * shift, 4000);
	/* A batch of exactly floor(cap / 64) entries is one short of the
	 * ceil(cap / 64) sample: it must not sample (ASan caught the
	 * overflow before the guard was fixed). */
	run(16385, 7, 99, 4000);
	run(16400, 6, 98, 4000);
}

static void
test_large_table(void **state)
{
	(void)state;
	run(36892, 3, 42, 6000);
	run(70001, 3, 7, 3000);
}

/* A flood: every entry touched once in order, then evicted in order. */
static void
test_flood_order(void **state)
{
	const uint32_t cap = 65536;
	struct ent *e = calloc(cap, sizeof(*e));
	struct lruq q;
	uint64_t clock = 0;

	(void)state;
	assert_non_null(e);
	assert_int_equal(lruq_init(&q, cap, 3), 0);
	for (uint32_t i = 0; i < cap; i++)
		e[(i * 40503u) % cap].seq = ++clock;
	for (uint32_t n = 0; n < 3 * cap; n++) {
		uint32_t v = lruq_victim(&q, e, sizeof(*e),
		    offsetof(struct ent, seq), cap);

		assert_int_equal(v, (n * 40503u) % cap);
		e[v].seq = ++clock;
	}
	lruq_free(&q);
	free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_tables),
		cmocka_unit_test(test_around_thresholds),
		cmocka_unit_test(test_large_table),
		cmocka_unit_test(test_flood_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
