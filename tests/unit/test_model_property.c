/*
 * Property test: the model and the independent reference
 * (tests/synth/reference.c) give identical per-SYN decisions, reasons,
 * counter moves and TIME-WAIT ACK outcomes on 10 000 random scenarios
 * with fixed seeds, across every profile and random settings, scheduled
 * changes and behaviour overrides.
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
#include "reference.h"
#include "scenario.h"

#define NSCENARIOS	10000

/* A draw for "% n": drop the low bits, which are weak in consecutive
 * outputs (see scen_rand()). */
static uint64_t
pick(uint64_t *rng)
{
	return scen_rand(rng) >> 16;
}

static void
random_config(uint64_t *rng, unsigned i, struct model_config *cfg,
    uint64_t span_us)
{
	*cfg = model_config_default();
	cfg->profile = (enum model_profile)(i % MODEL_NPROFILES);
	cfg->max_peers = 512;
	cfg->max_connections = 1024;
	cfg->max_sources = 64;
	cfg->setting[MS_TW_RECYCLE] = pick(rng) % 10 < 7;
	unsigned r = (unsigned)(pick(rng) % 10);
	cfg->setting[MS_TIMESTAMPS] = r == 0 ? 0 : r == 1 ? 2 : 1;
	cfg->setting[MS_RFC1337] = pick(rng) % 4 == 0;
	if (pick(rng) % 3 == 0)
		cfg->server_rto_ms = 200 + (uint32_t)(pick(rng) % 3000);
	unsigned nch = pick(rng) % 3 == 0 ?
	    1 + (unsigned)(pick(rng) % 3) : 0;
	for (unsigned k = 0; k < nch; k++) {
		char buf[80], err[128];
		static const char *names[] = { "tcp_tw_recycle",
		    "tcp_timestamps", "tcp_rfc1337" };
		unsigned s = (unsigned)(pick(rng) % 3);
		double at = span_us ? (double)(pick(rng) % span_us) / 1e6
		    : 0;
		snprintf(buf, sizeof(buf), "%s=%u@%.6f", names[s],
		    (unsigned)(pick(rng) % 2), at);
		if (model_config_set(cfg, buf, err, sizeof(err)) != 0)
			fail_msg("%s: %s", buf, err);
	}
	if (pick(rng) % 5 == 0) {
		enum model_behaviour b = (enum model_behaviour)
		    (pick(rng) % MODEL_NBEHAVIOURS);
		model_config_override(cfg, b, (int)(pick(rng) % 2));
	}
}

static void
test_model_vs_reference(void **state)
{
	uint64_t rng = 0x5eed5eed5eedULL;
	uint64_t syns = 0, rejected = 0, tw_refusals = 0, events = 0;

	(void)state;
	for (unsigned i = 0; i < NSCENARIOS; i++) {
		struct scen_params p;
		struct scenario sc;
		struct model_config cfg;
		char err[128];

		scen_random_params(&rng, &p);
		assert_int_equal(scen_generate(i + 1, &p, &sc), 0);
		uint64_t span = sc.n ? sc.ev[sc.n - 1].time_us -
		    sc.ev[0].time_us : 0;
		random_config(&rng, i, &cfg, span);

		struct model *m = model_new(&cfg, err, sizeof(err));
		struct ref *r = ref_new(&cfg);
		assert_non_null(m);
		assert_non_null(r);
		for (size_t k = 0; k < sc.n; k++) {
			struct model_verdict mv;
			struct ref_verdict rv;

			model_feed(m, &sc.ev[k], &mv);
			assert_int_equal(ref_feed(r, &sc.ev[k], &rv), 0);
			if (mv.decision != rv.decision ||
			    mv.reason != rv.reason || mv.tw_ack != rv.tw_ack ||
			    mv.counters != rv.counters) {
				fail_msg("scenario %u (profile %s) event %zu "
				    "t=%llu flags %#x: model %d/%d/%d/%#x, "
				    "reference %d/%d/%d/%#x", i,
				    model_profile_name(cfg.profile), k,
				    (unsigned long long)sc.ev[k].time_us,
				    sc.ev[k].flags, mv.decision, mv.reason,
				    mv.tw_ack, mv.counters, rv.decision,
				    rv.reason, rv.tw_ack, rv.counters);
			}
			if (mv.decision != MODEL_NONE)
				syns++;
			if (mv.reason >= MODEL_R_TIMEWAIT_PAWS)
				tw_refusals++;
		}
		struct model_stats st;
		model_finish(m);
		model_stats(m, &st);
		assert_int_equal(st.predicted_rejections, ref_rejections(r));
		/* Caps are large enough: nothing evicted, so exactness holds. */
		assert_int_equal(st.evictions[MODEL_T_PEERS], 0);
		assert_int_equal(st.evictions[MODEL_T_CONNECTIONS], 0);
		rejected += st.predicted_rejections;
		events += sc.n;
		model_free(m);
		ref_free(r);
		scen_free(&sc);
	}
	/* The scenarios must actually exercise the rules. */
	print_message("%llu events, %llu SYNs, %llu rejected, %llu at "
	    "TIME-WAIT\n", (unsigned long long)events,
	    (unsigned long long)syns, (unsigned long long)rejected,
	    (unsigned long long)tw_refusals);
	assert_true(rejected > syns / 50);
	assert_true(tw_refusals > 100);
}

/* Same seed, same events. */
static void
test_generator_deterministic(void **state)
{
	struct scen_params p;
	struct scenario a, b;
	uint64_t rng = 99;

	(void)state;
	scen_random_params(&rng, &p);
	assert_int_equal(scen_generate(42, &p, &a), 0);
	assert_int_equal(scen_generate(42, &p, &b), 0);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.ev, b.ev, a.n * sizeof(a.ev[0]));
	for (size_t i = 1; i < a.n; i++)
		assert_true(a.ev[i].time_us >= a.ev[i - 1].time_us);
	scen_free(&a);
	scen_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generator_deterministic),
		cmocka_unit_test(test_model_vs_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
