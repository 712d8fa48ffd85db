/*
 * Live mode's model thread (see live_model.h): sampler ring -> direction
 * -> runner, settings in place, the tcp_metrics agreement, and the
 * figures published for snapshots.
 */
#include "agent/live_model.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/live_dir.h"
#include "model/runner.h"
#include "lib/util.h"

/* Events handed to the models at a time (model_feed_many; one run
 * prefetches the table lines of later events). */
#define LIVE_MODEL_RUN		256
#define LIVE_DRAIN_MAX		8192	/* events per loop turn */
#define LIVE_WAIT_MS		100	/* sleep on an empty ring */
/* Per-second cumulative rejections, for the per-minute rate. */
#define RATE_SLOTS 64

struct rate_point {
	double t;
	uint64_t main, whatif[LIVE_MAX_WHATIF];
};

struct live_model {
	struct live_model_config cfg;
	struct sampler *sampler;
	unsigned ratio;
	const struct sampler_addr *servers;
	size_t nservers;

	/* Settings requests (any thread) -> model thread. */
	pthread_mutex_t set_lock;
	int32_t want_setting[MODEL_NSETTINGS];
	_Atomic unsigned set_gen;
	struct tcpm_agree *agree;	/* its own hand-over */

	/* Model thread state. */
	struct runner *run;		/* instance 0 the model, 1.. what-ifs */
	struct live_dir *dir;
	uint64_t settings_changes;
	double started_wall;
	struct rate_point rate[RATE_SLOTS];
	unsigned nrate, rate_next;
	struct model_source *scan;	/* LIVE_NAT_SCAN */
	pthread_t thr;
	bool thr_started, thr_joined;
	_Atomic bool stop;

	/* Published figures (model part). */
	pthread_mutex_t lock;
	struct live_stats pub;
	bool running;			/* the model thread publishes */
	bool failed;			/* live_model_start() failed: why */
	char why[SAMPLER_ERR_LEN];
};

struct live_model_config
live_model_config_default(void)
{
	struct live_model_config c;

	memset(&c, 0, sizeof(c));
	c.model = model_config_default();
	return c;
}

struct live_model *
live_model_new(const struct live_model_config *cfg, char *err, size_t errlen)
{
	struct live_model *lm;

	if (cfg->nwhatif > LIVE_MAX_WHATIF) {
		set_error(err, errlen, "too many what-if models (max %d)",
		    LIVE_MAX_WHATIF);
		return NULL;
	}
	if ((lm = calloc(1, sizeof(*lm))) == NULL ||
	    (lm->agree = tcpm_agree_new()) == NULL) {
		free(lm);
		set_error(err, errlen, "out of memory");
		return NULL;
	}
	lm->cfg = *cfg;
	lm->cfg.model.nchanges = 0;
	for (int i = 0; i < MODEL_NSETTINGS; i++)
		lm->want_setting[i] = lm->cfg.model.setting[i];
	pthread_mutex_init(&lm->lock, NULL);
	pthread_mutex_init(&lm->set_lock, NULL);
	atomic_init(&lm->set_gen, 0);
	atomic_init(&lm->stop, false);
	return lm;
}

/* The model of a what-if: the profile as released, and a quarter of the
 * tables (its figures are estimates beside the main one). */
static void
whatif_config(const struct live_model *lm, const struct live_whatif *w,
    const int32_t live[MODEL_NSETTINGS], struct model_config *mc)
{
	*mc = lm->cfg.model;
	for (int i = 0; i < MODEL_NBEHAVIOURS; i++)
		mc->version_fix[i] = -1;
	mc->max_peers = mc->max_peers / 4 > 1024 ? mc->max_peers / 4 : 1024;
	mc->max_connections = mc->max_connections / 4 > 1024 ?
	    mc->max_connections / 4 : 1024;
	mc->max_sources = mc->max_sources / 4 > 256 ? mc->max_sources / 4 : 256;
	mc->profile = w->profile;
	/* Followed settings start from the live ones pushed so far. */
	for (int k = 0; k < MODEL_NSETTINGS; k++)
		mc->setting[k] = (w->follow & (1u << k)) ? live[k] :
		    w->setting[k];
	mc->nchanges = 0;
}

/* The runner: the model (instance 0), then the what-ifs, none shared
 * (their settings change). */
static int
build_runner(struct live_model *lm, char *err, size_t errlen)
{
	struct model_config mc = lm->cfg.model;

	if ((lm->run = runner_new(LIVE_MODEL_RUN, err, errlen)) == NULL)
		return -1;
	pthread_mutex_lock(&lm->set_lock);
	memcpy(mc.setting, lm->want_setting, sizeof(mc.setting));
	pthread_mutex_unlock(&lm->set_lock);
	if (runner_add(lm->run, &mc, false, 0, err, errlen) < 0)
		return -1;
	for (unsigned i = 0; i < lm->cfg.nwhatif; i++) {
		struct model_config wc;

		whatif_config(lm, &lm->cfg.whatif[i], mc.setting, &wc);
		if (runner_add(lm->run, &wc, false, lm->cfg.whatif[i].follow,
		    err, errlen) < 0)
			return -1;
	}
	runner_start(lm->run, 1);	/* the model thread feeds alone */
	return 0;
}

/* ------------------------------------------------------------------
 * Model thread
 */

static void
agree_run(struct live_model *lm)
{
	struct tcpm_agree_in in = {
		.key_server = model_config_behaviour(&lm->cfg.model,
		    MB_KEY_SERVER_ADDR),
		.ratio = lm->ratio,
		.servers = lm->servers,
		.nservers = lm->nservers,
		.since_s = (uint32_t)lm->started_wall,
	};

	tcpm_agree_run(lm->agree, runner_model(lm->run, 0), &in);
}

/* EV, unless a comparison must come first (the model has every event up
 * to the dump once the events queued so far are fed). */
static void
take_event(struct live_model *lm, struct tcp_event *ev)
{
	if (tcpm_agree_due(lm->agree, ev->time_us)) {
		runner_flush(lm->run);
		agree_run(lm);
	}
	if (live_dir_admit(lm->dir, ev))
		runner_push(lm->run, ev);
}

/* Up to MAX events from the ring, all fed on return; how many taken. */
static unsigned
drain(struct live_model *lm, unsigned max)
{
	struct tcp_event ev;
	unsigned n = 0;

	while (n < max && sampler_next(lm->sampler, &ev)) {
		n++;
		take_event(lm, &ev);
	}
	runner_flush(lm->run);
	return n;
}

/*
 * Live settings changed: apply them to the running models at their
 * current time, as the kernel does (it forgets no peer stamp and no
 * TIME-WAIT when a sysctl changes, §11.1). What-if models take only the
 * settings they follow; their what-if values stay.
 */
static void
apply_settings(struct live_model *lm)
{
	int32_t want[MODEL_NSETTINGS];
	bool changed = false;

	pthread_mutex_lock(&lm->set_lock);
	memcpy(want, lm->want_setting, sizeof(want));
	pthread_mutex_unlock(&lm->set_lock);
	for (int k = 0; k < MODEL_NSETTINGS; k++)
		if (runner_set_setting(lm->run, (enum model_setting)k,
		    want[k]) == 1)
			changed = true;
	if (changed)
		lm->settings_changes++;
}

static uint64_t
rate_window(const struct live_model *lm, double now, unsigned which,
    uint64_t cur, double *window)
{
	/* Oldest point no older than 60 s. */
	const struct rate_point *best = NULL;

	for (unsigned i = 0; i < lm->nrate; i++) {
		const struct rate_point *p = &lm->rate[i];

		if (now - p->t <= 60.0 + 1e-9 &&
		    (best == NULL || p->t < best->t))
			best = p;
	}
	if (best == NULL) {
		*window = 0;
		return 0;
	}
	*window = now - best->t;
	return cur - (which == 0 ? best->main : best->whatif[which - 1]);
}

/* One rate point per second. */
static void
rate_add(struct live_model *lm, double now, uint64_t main,
    const uint64_t whatif[LIVE_MAX_WHATIF])
{
	struct rate_point *rp;

	if (lm->nrate > 0 && now - lm->rate[(lm->rate_next + RATE_SLOTS - 1) %
	    RATE_SLOTS].t < 1.0)
		return;
	rp = &lm->rate[lm->rate_next];
	rp->t = now;
	rp->main = main;
	memcpy(rp->whatif, whatif, sizeof(rp->whatif));
	lm->rate_next = (lm->rate_next + 1) % RATE_SLOTS;
	if (lm->nrate < RATE_SLOTS)
		lm->nrate++;
}

static void
copy_profile(char *dst, size_t len, enum model_profile p)
{
	const char *n = model_profile_name(p);

	snprintf(dst, len, "%s", n != NULL ? n : "?");
}

/* The NAT sources among the NSCAN scanned into P (lock held). */
static void
publish_nat(struct live_stats *p, const struct model_source *scan,
    size_t nscan)
{
	p->nat_sources = p->per_connection_sources = 0;
	p->nnat = 0;
	for (size_t i = 0; i < nscan; i++) {
		const struct model_source *src = &scan[i];
		size_t j;

		if (src->nat_class == MODEL_NAT_PER_CONN)
			p->per_connection_sources++;
		if (src->nat_class != MODEL_NAT_HOSTS ||
		    src->estimated_hosts < 2)
			continue;
		p->nat_sources++;
		/* Keep the LIVE_TOP_SOURCES with most hosts. */
		if (p->nnat < LIVE_TOP_SOURCES)
			j = p->nnat++;
		else if (p->nat[LIVE_TOP_SOURCES - 1].estimated_hosts <
		    src->estimated_hosts)
			j = LIVE_TOP_SOURCES - 1;
		else
			continue;
		while (j > 0 && p->nat[j - 1].estimated_hosts <
		    src->estimated_hosts) {
			p->nat[j] = p->nat[j - 1];
			j--;
		}
		p->nat[j] = *src;
	}
}

/* The what-if figures into P (lock held). */
static void
publish_whatif(struct live_model *lm, struct live_stats *p, double now)
{
	unsigned r = lm->ratio;
	double win;

	p->nwhatif = lm->cfg.nwhatif;
	for (unsigned i = 0; i < lm->cfg.nwhatif; i++) {
		struct live_whatif_stats *w = &p->whatif[i];
		const struct model *m = runner_model(lm->run, i + 1);
		struct model_stats wm;
		uint64_t d;

		model_stats(m, &wm);
		copy_profile(w->profile, sizeof(w->profile),
		    lm->cfg.whatif[i].profile);
		for (int k = 0; k < MODEL_NSETTINGS; k++)
			w->setting[k] = model_get_setting(m,
			    (enum model_setting)k);
		w->predicted_rejections = wm.predicted_rejections * r;
		for (int k = 0; k < MODEL_NREASONS; k++)
			w->by_reason[k] = wm.by_reason[k] * r;
		d = rate_window(lm, now, i + 1, wm.predicted_rejections, &win);
		w->predicted_rejections_per_min = win >= 1.0 ?
		    (double)d * r * 60.0 / win : (double)d * r;
	}
}

static void
publish(struct live_model *lm, bool scan_nat)
{
	struct live_stats *p = &lm->pub;
	struct model *m = runner_model(lm->run, 0);
	const struct live_dir_counts *dc = live_dir_counts(lm->dir);
	struct model_stats ms;
	unsigned r = lm->ratio;
	double now = now_monotonic(), win;
	uint64_t wcum[LIVE_MAX_WHATIF] = { 0 }, d;
	struct model_source top[LIVE_TOP_SOURCES];
	size_t ntop = 0, nscan = 0;

	/* Capture timestamps are wall-clock: settle SYNs nobody answered. */
	model_settle(m, (uint64_t)(now_wall() * 1e6));
	model_stats(m, &ms);
	for (unsigned i = 0; i < lm->cfg.nwhatif; i++) {
		struct model_stats w;

		model_stats(runner_model(lm->run, i + 1), &w);
		wcum[i] = w.predicted_rejections;
	}
	rate_add(lm, now, ms.predicted_rejections, wcum);
	/* Both walk the whole source table: every 2 s only. */
	if (scan_nat) {
		ntop = model_top_sources(m, top, LIVE_TOP_SOURCES);
		nscan = model_top_sources(m, lm->scan, LIVE_NAT_SCAN);
	}

	pthread_mutex_lock(&lm->lock);
	p->ratio = r;
	copy_profile(p->profile, sizeof(p->profile), lm->cfg.model.profile);
	for (int k = 0; k < MODEL_NSETTINGS; k++)
		p->setting[k] = model_get_setting(m, (enum model_setting)k);
	p->fed = dc->fed;
	p->unsampled = dc->unsampled;
	p->foreign = dc->foreign;
	p->model_resets = 0;
	p->settings_changes = lm->settings_changes;
	p->tcpm_agreement = *tcpm_agree_result(lm->agree);
	p->model = ms;
	p->predicted_rejections = ms.predicted_rejections * r;
	for (int i = 0; i < MODEL_NREASONS; i++)
		p->by_reason[i] = ms.by_reason[i] * r;
	p->observed_unanswered_syns = ms.observed_unanswered_syns * r;
	p->syns = ms.syns * r;
	d = rate_window(lm, now, 0, ms.predicted_rejections, &win);
	p->window_s = win;
	p->predicted_rejections_per_min = win >= 1.0 ?
	    (double)d * r * 60.0 / win : (double)d * r;
	publish_whatif(lm, p, now);
	if (scan_nat) {
		memcpy(p->top, top, ntop * sizeof(top[0]));
		p->ntop = ntop;
		publish_nat(p, lm->scan, nscan);
	}
	pthread_mutex_unlock(&lm->lock);
}

static void *
model_main(void *arg)
{
	struct live_model *lm = arg;
	struct tcp_event ev;
	double last_pub = 0, last_scan = 0;
	/*
	 * The counter's value at live_model_new(), not a load here: a push
	 * between pthread_create() and such a load would be counted but
	 * never looked at (live mode pushes settings only on change).
	 */
	unsigned gen = 0;

	/* Named, so ps, /proc and seccomp_profile.sh can tell the roles. */
	pthread_setname_np(pthread_self(), "tw-model");
	while (!atomic_load(&lm->stop)) {
		unsigned n;
		double now;

		if (lm->cfg.thread_hook != NULL)
			lm->cfg.thread_hook();
		n = drain(lm, LIVE_DRAIN_MAX);
		if (atomic_load(&lm->set_gen) != gen) {
			gen = atomic_load(&lm->set_gen);
			apply_settings(lm);
		}
		tcpm_agree_poll(lm->agree);
		/* No event after the dump yet: compare once the ring is
		 * drained (the model has everything captured so far) and
		 * the capture has had time to deliver the dump's second. */
		if (n < LIVE_DRAIN_MAX &&
		    tcpm_agree_overdue(lm->agree, now_wall()))
			agree_run(lm);
		now = now_monotonic();
		if (now - last_pub >= 0.25) {
			bool scan = now - last_scan >= 2.0;

			publish(lm, scan);
			last_pub = now;
			if (scan)
				last_scan = now;
		}
		if (n == 0 && sampler_wait(lm->sampler, &ev, LIVE_WAIT_MS)) {
			take_event(lm, &ev);
			runner_flush(lm->run);
		}
	}
	/* Drain what is left so the last figures include it. */
	while (drain(lm, LIVE_DRAIN_MAX) > 0)
		;
	publish(lm, true);
	return NULL;
}

/* ------------------------------------------------------------------
 * Life cycle and hand-over
 */

static int
start_fail(struct live_model *lm, const char *msg, char *err, size_t errlen)
{
	pthread_mutex_lock(&lm->lock);
	lm->failed = true;
	snprintf(lm->why, sizeof(lm->why), "%s", msg);
	pthread_mutex_unlock(&lm->lock);
	set_error(err, errlen, "%s", msg);
	return -1;
}

int
live_model_start(struct live_model *lm, struct sampler *s, char *err,
    size_t errlen)
{
	struct sampler_stats st;
	char msg[SAMPLER_ERR_LEN];
	double now = now_monotonic();
	int rc;

	if (lm->sampler != NULL)
		return start_fail(lm, "model already started", err, errlen);
	lm->sampler = s;
	sampler_read(s, &st);
	lm->ratio = st.ratio;
	lm->nservers = sampler_servers(s, &lm->servers);
	lm->scan = calloc(LIVE_NAT_SCAN, sizeof(*lm->scan));
	lm->dir = live_dir_new(lm->servers, lm->nservers, lm->ratio);
	if (lm->scan == NULL || lm->dir == NULL)
		return start_fail(lm, "out of memory", err, errlen);
	if (build_runner(lm, msg, sizeof(msg)) < 0)
		return start_fail(lm, msg, err, errlen);
	lm->started_wall = now_wall();
	lm->rate[0].t = now;	/* rate origin: zero at the start */
	lm->nrate = 1;
	lm->rate_next = 1;
	publish(lm, true);
	if ((rc = pthread_create(&lm->thr, NULL, model_main, lm)) != 0) {
		set_error(msg, sizeof(msg), "cannot start the model thread: %s",
		    strerror(rc));
		return start_fail(lm, msg, err, errlen);
	}
	lm->thr_started = true;
	pthread_mutex_lock(&lm->lock);
	lm->running = true;
	pthread_mutex_unlock(&lm->lock);
	return 0;
}

void
live_model_set_settings(struct live_model *lm, int tw_recycle, int timestamps,
    int rfc1337)
{
	int v[MODEL_NSETTINGS];

	v[MS_TW_RECYCLE] = tw_recycle;
	v[MS_TIMESTAMPS] = timestamps;
	v[MS_RFC1337] = rfc1337;
	pthread_mutex_lock(&lm->set_lock);
	for (int i = 0; i < MODEL_NSETTINGS; i++)
		if (v[i] >= 0)
			lm->want_setting[i] = v[i];
	pthread_mutex_unlock(&lm->set_lock);
	atomic_fetch_add(&lm->set_gen, 1);
	if (lm->thr_started)
		sampler_wake(lm->sampler);
}

void
live_model_set_kernel_peers(struct live_model *lm, const struct tcpm_kpeer *p,
    size_t n, bool complete, double dump_wall)
{
	tcpm_agree_set(lm->agree, p, n, complete, dump_wall);
}

/* The capture's figures into OUT, over the model's. */
static void
merge_capture(const struct sampler_stats *c, struct live_stats *out)
{
	out->state = c->state;
	snprintf(out->error, sizeof(out->error), "%s", c->error);
	out->ratio = c->ratio;
	out->uptime_s = c->uptime_s;
	out->interfaces = c->interfaces;
	out->interfaces_open = c->interfaces_open;
	out->linktype = c->linktype;
	out->packets = c->packets;
	out->events = c->events;
	memcpy(out->skipped, c->skipped, sizeof(out->skipped));
	out->loopback_duplicates = c->loopback_duplicates;
	out->ring_dropped = c->ring_dropped;
	out->kernel_received = c->kernel_received;
	out->kernel_dropped = c->kernel_dropped;
	out->reopens = c->reopens;
	out->capture_errors = c->capture_errors;
}

void
live_model_read(struct live_model *lm, struct sampler *s,
    struct live_stats *out)
{
	struct sampler_stats c;

	sampler_read(s, &c);
	pthread_mutex_lock(&lm->lock);
	if (lm->running) {
		*out = lm->pub;
		merge_capture(&c, out);
	} else {
		memset(out, 0, sizeof(*out));
		if (lm->failed) {
			/* No model: the capture is no use (and stopped). */
			out->state = SAMPLER_FAILED;
			snprintf(out->error, sizeof(out->error), "%s", lm->why);
			out->ratio = c.ratio;
			out->interfaces = c.interfaces;
			out->linktype = -1;
		} else {
			merge_capture(&c, out);
		}
		copy_profile(out->profile, sizeof(out->profile),
		    lm->cfg.model.profile);
		pthread_mutex_lock(&lm->set_lock);
		memcpy(out->setting, lm->want_setting, sizeof(out->setting));
		pthread_mutex_unlock(&lm->set_lock);
	}
	pthread_mutex_unlock(&lm->lock);
}

void
live_model_stop(struct live_model *lm)
{
	if (lm == NULL)
		return;
	atomic_store(&lm->stop, true);
	if (lm->thr_started && !lm->thr_joined) {
		sampler_wake(lm->sampler);
		pthread_join(lm->thr, NULL);
		lm->thr_joined = true;
	}
}

void
live_model_free(struct live_model *lm)
{
	if (lm == NULL)
		return;
	live_model_stop(lm);
	runner_free(lm->run);
	live_dir_free(lm->dir);
	tcpm_agree_free(lm->agree);
	free(lm->scan);
	pthread_mutex_destroy(&lm->set_lock);
	pthread_mutex_destroy(&lm->lock);
	free(lm);
}
