/*
 * Instances merged by construction (model/runner.c, runner_add() with
 * share): the what-if rows of replay (every profile x {settings as
 * given, tw_recycle=1, tw_recycle=0, timestamps off after 60 s}) run
 * once through a runner that shares them and once apart, one model per
 * row; every row's per-event verdicts and figures must be the same. With
 * tw_recycle 0 throughout, rows of profiles that differ only in the
 * passive check (its keying, tcp_metrics, the no-timestamp drop,
 * ListenDrops) share one instance; the test checks that they do, on
 * random scenarios with random settings, and with tables small enough to
 * evict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model/model.h"
#include "model/runner.h"
#include "scenario.h"

#define NSCENARIOS	150
#define NVARIANTS	4
#define NROWS		(MODEL_NPROFILES * NVARIANTS)

/* Verdicts of the shared runner, per instance, in feed order. */
struct collect {
	struct model_verdict *v[RUNNER_MAX_INSTANCES];
	size_t n, cap;
};

static void
collect_fn(void *arg, const struct tcp_event *ev, size_t n,
    const struct model_verdict *const *v, unsigned ninst)
{
	struct collect *c = arg;

	(void)ev;
	assert_true(c->n + n <= c->cap);
	for (unsigned i = 0; i < ninst; i++)
		memcpy(c->v[i] + c->n, v[i], n * sizeof(*v[i]));
	c->n += n;
}

static uint64_t
pick(uint64_t *rng)
{
	return scen_rand(rng) >> 16;
}

/* Row (profile P, variant V) from BASE, as replay builds it. */
static void
row_config(const struct model_config *base, unsigned p, unsigned v,
    struct model_config *cfg)
{
	*cfg = *base;
	cfg->profile = (enum model_profile)p;
	if (v == 1)
		model_config_force_setting(cfg, MS_TW_RECYCLE, 1);
	else if (v == 2)
		model_config_force_setting(cfg, MS_TW_RECYCLE, 0);
	else if (v == 3) {
		char err[128];
		assert_int_equal(model_config_set(cfg, "tcp_timestamps=0@60",
		    err, sizeof(err)), 0);
	}
}

static void
random_base(uint64_t *rng, struct model_config *cfg)
{
	unsigned r = (unsigned)(pick(rng) % 10);

	*cfg = model_config_default();
	cfg->setting[MS_TW_RECYCLE] = pick(rng) % 2;
	cfg->setting[MS_TIMESTAMPS] = r == 0 ? 0 : r == 1 ? 2 : 1;
	cfg->setting[MS_RFC1337] = pick(rng) % 4 == 0;
	/* Small tables one time in three: rows must evict alike. */
	cfg->max_peers = pick(rng) % 3 == 0 ? 32 : 512;
	cfg->max_connections = pick(rng) % 3 == 0 ? 48 : 2048;
	cfg->max_sources = 16;
}

/* What the rows report. Whether a TIME-WAIT ACK was rate limited (and
 * counter names) are not: instances differing only there always shared
 * (runner.h). */
static bool
same_verdict(const struct model_verdict *a, const struct model_verdict *b)
{
	return a->decision == b->decision && a->reason == b->reason &&
	    a->warmup == b->warmup &&
	    a->timestamps == b->timestamps;
}

/* One scenario: shared vs apart; returns the shared instance count. */
static unsigned
run_one(const struct scenario *sc, const struct model_config *base,
    unsigned seq)
{
	struct collect col = { .cap = sc->n };
	struct model_config cfg[NROWS];
	int inst[NROWS];
	char err[128];
	struct runner *r = runner_new(64, err, sizeof(err));
	unsigned ninst;

	assert_non_null(r);
	for (unsigned i = 0; i < NROWS; i++) {
		row_config(base, i / NVARIANTS, i % NVARIANTS, &cfg[i]);
		inst[i] = runner_add(r, &cfg[i], true, 0, err, sizeof(err));
		assert_true(inst[i] >= 0);
	}
	ninst = runner_count(r);
	for (unsigned i = 0; i < ninst; i++)
		assert_non_null(col.v[i] = calloc(sc->n + 1,
		    sizeof(struct model_verdict)));
	assert_int_equal(runner_set_verdicts(r, collect_fn, &col, err,
	    sizeof(err)), 0);
	runner_start(r, 1);
	for (size_t k = 0; k < sc->n; k++)
		runner_push(r, &sc->ev[k]);
	runner_finish(r);
	assert_int_equal(col.n, sc->n);

	for (unsigned i = 0; i < NROWS; i++) {
		struct model *m = model_new(&cfg[i], err, sizeof(err));
		struct model_stats a, b;

		assert_non_null(m);
		for (size_t k = 0; k < sc->n; k++) {
			struct model_verdict v;

			model_feed(m, &sc->ev[k], &v);
			if (!same_verdict(&v, &col.v[inst[i]][k]))
				fail_msg("scenario %u row %s/%u (instance "
				    "%d) event %zu: apart %d/%d/%d/%d/%d, "
				    "shared %d/%d/%d/%d/%d", seq,
				    model_profile_name(cfg[i].profile),
				    i % NVARIANTS, inst[i], k, v.decision,
				    v.reason, v.tw_ack, v.warmup, v.timestamps,
				    col.v[inst[i]][k].decision,
				    col.v[inst[i]][k].reason,
				    col.v[inst[i]][k].tw_ack,
				    col.v[inst[i]][k].warmup,
				    col.v[inst[i]][k].timestamps);
		}
		model_finish(m);
		model_stats(m, &a);
		model_stats(runner_model(r, (unsigned)inst[i]), &b);
		assert_int_equal(a.predicted_rejections, b.predicted_rejections);
		assert_memory_equal(a.by_reason, b.by_reason,
		    sizeof(a.by_reason));
		assert_int_equal(a.syns, b.syns);
		assert_int_equal(a.connections, b.connections);
		assert_int_equal(a.tw_killed, b.tw_killed);
		assert_int_equal(a.evictions[MODEL_T_CONNECTIONS],
		    b.evictions[MODEL_T_CONNECTIONS]);
		model_free(m);
	}
	for (unsigned i = 0; i < ninst; i++)
		free(col.v[i]);
	runner_free(r);
	return ninst;
}

static void
test_shared_equals_apart(void **state)
{
	uint64_t rng = 0x5ba4ed5ba4edULL;
	unsigned quiet_min = NROWS, quiet_max = 0;
	uint64_t evicting = 0;

	(void)state;
	for (unsigned i = 0; i < NSCENARIOS; i++) {
		struct scen_params p;
		struct scenario sc;
		struct model_config base;
		unsigned n;

		scen_random_params(&rng, &p);
		assert_int_equal(scen_generate(i + 1, &p, &sc), 0);
		random_base(&rng, &base);
		evicting += base.max_connections < 64;
		n = run_one(&sc, &base, i);
		if (base.setting[MS_TW_RECYCLE] == 0) {
			quiet_min = n < quiet_min ? n : quiet_min;
			quiet_max = n > quiet_max ? n : quiet_max;
		}
		scen_free(&sc);
	}
	print_message("instances for %d rows with tw_recycle=0 as given: "
	    "%u-%u; %llu scenarios with small tables\n", NROWS, quiet_min,
	    quiet_max, (unsigned long long)evicting);
	/*
	 * With tw_recycle=0 as given, the as_given, tw_recycle=0 and
	 * timestamps-off rows of profiles that differ only in the passive
	 * check share: 11 instances for 36 rows (17 without the rule).
	 */
	assert_true(quiet_max <= 11);
	assert_true(evicting > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_equals_apart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
