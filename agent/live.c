/*
 * Live mode (see live.h): the capture (sampler.h) and the model thread
 * (live_model.h) for serve and check: their configuration from flags and
 * the running kernel, their lifetime, the live settings and tcp_metrics
 * stamps they follow, and their figures in each snapshot.
 */
#include "agent/live.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "agent/live_model.h"
#include "lib/log.h"
#include "collectors/sampler.h"
#include "agent/sandbox.h"
#include "agent/snapshot.h"
#include "agent/tcpm_agree.h"
#include "lib/util.h"

struct live {
	struct sampler *sampler;
	struct live_model *model;
	char why[SAMPLER_ERR_LEN];	/* why it is not running, if not */
	int settings[MODEL_NSETTINGS];	/* last pushed, -1 before */
	struct tcpm_kpeer kp[TCPM_AGREE_PEERS];	/* tcp_metrics, scratch */
};

/*
 * What-if models: the running profile with tw_recycle off, and with it on.
 * From 4.12 the knob is gone, so "on" is asked of the last kernels that
 * had it (4.1-4.11): what this traffic would suffer on an old fleet member.
 * Both assume timestamps on; tcp_rfc1337 follows the live value.
 */
static void
add_whatifs(struct live_model_config *cfg)
{
	enum model_profile old;
	bool has_knob = model_config_behaviour(&cfg->model, MB_PASSIVE_CHECK);

	for (unsigned i = 0; i < 2; i++) {
		struct live_whatif *w = &cfg->whatif[cfg->nwhatif++];

		w->profile = cfg->model.profile;
		memcpy(w->setting, cfg->model.setting, sizeof(w->setting));
		w->setting[MS_TW_RECYCLE] = (int32_t)i;
		w->setting[MS_TIMESTAMPS] = 1;
		w->follow = 1u << MS_RFC1337;
		if (i == 1 && !has_knob &&
		    model_profile_by_name("4.1-4.11", &old) == 0)
			w->profile = old;
	}
}

/* The capture thread narrows its seccomp list to its role once serve
 * has the base on (a no-op for check, which has no sandbox). */
static void
capture_hook(enum sampler_thread t)
{
	(void)t;
	(void)sandbox_enter_role(SANDBOX_ROLE_CAPTURE);
}

/* ... and the model thread to its own. */
static void
model_hook(void)
{
	(void)sandbox_enter_role(SANDBOX_ROLE_MODEL);
}

/* The model of the running kernel, with the flags' caps. */
static void
model_config_live(const struct live_opts *o, struct live_model_config *mc)
{
	struct utsname u;
	char perr[256];

	*mc = live_model_config_default();
	mc->thread_hook = model_hook;
	/* The sampler sees the running kernel's traffic: model that kernel. */
	if (uname(&u) == 0 &&
	    model_profile_from_version(u.release, &mc->model, perr,
	    sizeof(perr)) < 0)
		log_warn("model: kernel release not recognised, using the "
		    "default profile", "release=%s", u.release);
	if (o->max_peers)
		mc->model.max_peers = (uint32_t)o->max_peers;
	if (o->max_connections)
		mc->model.max_connections = (uint32_t)o->max_connections;
	if (o->max_sources)
		mc->model.max_sources = (uint32_t)o->max_sources;
	add_whatifs(mc);
	/* Debug: `check --sample` from cron says nothing when all is well. */
	if (o->enabled)
		log_debug("live model", "profile=%s max_peers=%u "
		    "max_connections=%u max_sources=%u memory_bound_bytes=%zu",
		    model_profile_name(mc->model.profile), mc->model.max_peers,
		    mc->model.max_connections, mc->model.max_sources,
		    model_memory_bound(&mc->model));
}

/*
 * Why the sampler does not run. Without its capability (unavailable) that
 * is a source state, reported with the source: debug. A failure is a
 * warning.
 */
static void
log_sampler_down(struct live *l)
{
	struct sampler_stats st;
	char q[300];

	sampler_read(l->sampler, &st);
	log_quote(l->why, q, sizeof(q));
	if (st.state == SAMPLER_UNAVAILABLE)
		log_debug("sampler unavailable; the rest keeps working",
		    "error=%s", q);
	else
		log_warn("sampler not running; the rest keeps working",
		    "error=%s", q);
}

int
live_new(const struct live_opts *o, struct live **out, char *err,
    size_t errlen)
{
	struct sampler_config cfg = sampler_config_default();
	struct live_model_config mc;
	struct live *l;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		set_error(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < MODEL_NSETTINGS; i++)
		l->settings[i] = -1;
	cfg.enabled = o->enabled;
	cfg.thread_hook = capture_hook;
	for (size_t i = 0; i < o->interfaces.n && i < SAMPLER_MAX_INTERFACES; i++)
		cfg.interface[cfg.ninterfaces++] = o->interfaces.v[i];
	for (size_t i = 0; i < o->servers.n && i < SAMPLER_MAX_SERVERS; i++)
		cfg.server[cfg.nservers++] = o->servers.v[i];
	cfg.ratio = (unsigned)o->ratio;
	model_config_live(o, &mc);
	/* A bad flag value: the caller's usage error. */
	if ((l->sampler = sampler_new(&cfg, err, errlen)) == NULL ||
	    (l->model = live_model_new(&mc, err, errlen)) == NULL) {
		live_free(l);
		return -1;
	}
	if (sampler_start(l->sampler, l->why, sizeof(l->why)) == 0 &&
	    live_model_start(l->model, l->sampler, l->why,
	    sizeof(l->why)) < 0)
		sampler_stop(l->sampler);	/* no model: no capture */
	if (l->why[0] != '\0' && o->enabled)
		log_sampler_down(l);
	*out = l;
	return 0;
}

/*
 * The kernel's recent tcp_metrics stamps, for the model thread to compare
 * with its model. Only where the kernel has them (3.7-4.11: TW attributes,
 * or a running kernel that old with none stored yet); else withdrawn.
 */
static void
follow_tcp_metrics(struct live *l, const struct snapshot *s)
{
	const struct tcp_metrics_stats *t = &s->tcpm;
	bool complete;
	size_t n;

	if (s->source[SRC_TCP_METRICS].state != SOURCE_OK ||
	    t->dump_wall <= 0 || !(t->has_tw_attrs ||
	    (s->running_kv.code != 0 && s->running_kv.code < KV(4, 12, 0)))) {
		live_model_set_kernel_peers(l->model, NULL, 0, false, 0);
		return;
	}
	n = tcpm_kpeers_from_dump(t, l->kp, TCPM_AGREE_PEERS, &complete);
	live_model_set_kernel_peers(l->model, l->kp, n, complete, t->dump_wall);
}

void
live_follow(struct live *l, const struct snapshot *s)
{
	static const enum sysctl_id key[MODEL_NSETTINGS] = {
		[MS_TW_RECYCLE] = SYSCTL_TCP_TW_RECYCLE,
		[MS_TIMESTAMPS] = SYSCTL_TCP_TIMESTAMPS,
		[MS_RFC1337] = SYSCTL_TCP_RFC1337,
	};
	int v[MODEL_NSETTINGS];
	bool changed = false;

	if (l == NULL)
		return;
	for (int i = 0; i < MODEL_NSETTINGS; i++) {
		const struct sysctl_value *k = &s->sysctl.key[key[i]];

		/* Absent (tw_recycle on 4.12+) means off; unreadable: keep. */
		v[i] = k->state == KEY_PRESENT && k->nvalues > 0 ? (int)k->v[0] :
		    k->state == KEY_ABSENT ? 0 : -1;
		if (v[i] != -1 && v[i] != l->settings[i]) {
			l->settings[i] = v[i];
			changed = true;
		}
	}
	if (changed)
		live_model_set_settings(l->model, v[MS_TW_RECYCLE],
		    v[MS_TIMESTAMPS], v[MS_RFC1337]);
	follow_tcp_metrics(l, s);
}

void
live_fill(struct live *l, struct snapshot *s)
{
	struct source_status *st = &s->source[SRC_SAMPLER];

	if (l == NULL) {
		st->state = SOURCE_UNAVAILABLE;
		set_error(st->error, sizeof(st->error), "sampler not set up");
		return;
	}
	live_model_read(l->model, l->sampler, &s->sampler);
	s->have_sampler = true;
	switch (s->sampler.state) {
	case SAMPLER_OK:
		st->state = SOURCE_OK;
		break;
	case SAMPLER_UNAVAILABLE:
		st->state = SOURCE_UNAVAILABLE;
		break;
	default:
		st->state = SOURCE_FAILED;
		break;
	}
	snprintf(st->error, sizeof(st->error), "%s",
	    st->state == SOURCE_OK ? "" : s->sampler.error);
}

void
live_stop(struct live *l)
{
	if (l == NULL)
		return;
	/* Capture first, so that the model thread drains a ring that no
	 * longer fills. */
	sampler_stop(l->sampler);
	live_model_stop(l->model);
}

void
live_free(struct live *l)
{
	if (l == NULL)
		return;
	live_stop(l);
	live_model_free(l->model);
	sampler_free(l->sampler);
	free(l);
}
