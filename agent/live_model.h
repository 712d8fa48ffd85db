/*
 * Live mode's model thread: events from the sampler's ring (sampler.h),
 * their direction (live_dir.h), the model runner (runner.h) with the
 * running kernel's model and what-if instances, settings changes in
 * place, the tcp_metrics agreement (tcpm_agree.h), and the figures a
 * snapshot copies (live_stats.h).
 *
 *   sampler ring --> model thread: direction, runner, agreement
 *                    --> published figures (a few times a second)
 *
 * The model thread alone touches the models; the other calls are for
 * any thread and only hand values over.
 */
#ifndef TWAUDIT_LIVE_MODEL_H
#define TWAUDIT_LIVE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/live_stats.h"
#include "model/model.h"
#include "collectors/sampler.h"
#include "agent/tcpm_agree.h"

/* A what-if model: another profile and/or other settings. */
struct live_whatif {
	enum model_profile profile;
	int32_t setting[MODEL_NSETTINGS];	/* enum model_setting */
	/* Bit (1 << enum model_setting): this setting follows the live
	 * value (live_model_set_settings(), from the start); the others
	 * keep the what-if value above. */
	uint8_t follow;
};

struct live_model_config {
	/* Profile, settings (tw_recycle, timestamps, rfc1337 as the caller
	 * read them) and table caps. Scheduled changes are ignored. */
	struct model_config model;
	struct live_whatif whatif[LIVE_MAX_WHATIF];
	unsigned nwhatif;
	/* Called by the model thread, on itself, at the top of every loop
	 * turn (at least every 100 ms): serve narrows the thread's seccomp
	 * allow-list with it. NULL: none. */
	void (*thread_hook)(void);
};

/* model_config_default(), no what-if. */
struct live_model_config live_model_config_default(void);

struct live_model;

/* Check CFG and copy it. NULL with ERR on a bad config or no memory. */
struct live_model *live_model_new(const struct live_model_config *cfg,
    char *err, size_t errlen);

/*
 * Build the models and start the model thread on S, a started sampler
 * (its servers and ratio decide directions). -1 with ERR when a model
 * cannot be built or the thread not started: live_model_read() then
 * says failed, with ERR. S must outlive the live model.
 */
int live_model_start(struct live_model *lm, struct sampler *s, char *err,
    size_t errlen);

/*
 * New live settings (tw_recycle, timestamps, rfc1337; -1 keeps one). When
 * one changes, the model thread applies it to the running model at its
 * current time (runner_set_setting(), as a scheduled change in replay)
 * and to the what-if models that follow that setting: nothing is
 * forgotten, as in the kernel (peer stamps, TIME-WAITs);
 * settings_changes counts it. Before the start: the models start so.
 */
void live_model_set_settings(struct live_model *lm, int tw_recycle,
    int timestamps, int rfc1337);

/* The kernel's tcp_metrics peers for the agreement (tcpm_agree_set()). */
void live_model_set_kernel_peers(struct live_model *lm,
    const struct tcpm_kpeer *p, size_t n, bool complete, double dump_wall);

/*
 * Thread-safe copy of the current figures: the sampler's (S as given to
 * live_model_start(), or SAMPLER when it was never started: pass the
 * sampler either way) and the model's.
 */
void live_model_read(struct live_model *lm, struct sampler *s,
    struct live_stats *out);

/*
 * Stop the model thread after it has drained the ring (stop the sampler
 * first, so that nothing more comes); the last figures stay readable.
 * Idempotent.
 */
void live_model_stop(struct live_model *lm);

/* live_model_stop() and free. NULL ok. */
void live_model_free(struct live_model *lm);

#endif
