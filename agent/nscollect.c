/*
 * --netns collection: one snapshot per namespace (see nscollect.h).
 *
 * Each namespace is audited by a short-lived thread that joins it with
 * netns_enter() (setns(CLONE_NEWNET)) and runs the ordinary collector with
 * net/... read from PROCFS/thread-self (the thread's namespace; PROCFS/net
 * follows the thread group leader) and PROCFS/sys/net/... (the opener's
 * namespace). Netlink sockets the thread opens belong to its namespace
 * too. The thread never leaves: it ends, so no other thread is ever moved.
 */
#include "agent/nscollect.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/netns.h"
#include "lib/util.h"

/*
 * One namespace's audit. Shared by the collecting thread and the namespace
 * thread until both let go (refs): a thread still running at the deadline
 * is left behind and frees the job itself when it ends.
 */
struct ns_job {
	atomic_int refs;
	struct netns_target t;
	struct collect_paths p;		/* with the collection's deadline */
	struct snapshot *reuse;		/* a reference, or NULL */
	struct snapshot *out;
	char error[NETNS_ERR_LEN];
	bool ended, left_behind;	/* under straggler_lock */
	double started;			/* monotonic */
};

/*
 * Audits left behind at their deadline and still running. Whatever held
 * one up (a namespace whose netlink never answers, say) would hold up the
 * next thread the same way, so a namespace with an audit out is not
 * entered again until it ends, and no thread starts at all while
 * NSCOLLECT_MAX_STRAGGLERS are out: each namespace is then reported
 * unavailable with the reason. Threads do not pile up.
 */
#define NSCOLLECT_MAX_STRAGGLERS 8
static pthread_mutex_t straggler_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ns_job *stragglers[NSCOLLECT_MAX_STRAGGLERS];
static size_t nstragglers;

/* Why T must not get a thread now ("" when it may). */
static void
straggler_check(const struct netns_target *t, char *why, size_t whylen)
{
	why[0] = '\0';
	pthread_mutex_lock(&straggler_lock);
	for (size_t i = 0; i < nstragglers; i++)
		if (t->ino != 0 && stragglers[i]->t.ino == t->ino &&
		    stragglers[i]->t.dev == t->dev) {
			set_error(why, whylen, "the previous audit of %s is "
			    "still running, %.0f s after it started, past its "
			    "deadline", t->path,
			    now_monotonic() - stragglers[i]->started);
			break;
		}
	if (why[0] == '\0' && nstragglers >= NSCOLLECT_MAX_STRAGGLERS)
		set_error(why, whylen, "%zu audits of namespaces are still "
		    "running past their deadline: no new one starts until "
		    "they end", nstragglers);
	pthread_mutex_unlock(&straggler_lock);
}

/* J ran past its deadline: keep it on the list unless it just ended. */
static void
straggler_add(struct ns_job *j)
{
	pthread_mutex_lock(&straggler_lock);
	if (!j->ended && nstragglers < NSCOLLECT_MAX_STRAGGLERS) {
		j->left_behind = true;
		stragglers[nstragglers++] = j;
	}
	pthread_mutex_unlock(&straggler_lock);
}

/* J's thread ends: off the list. */
static void
straggler_end(struct ns_job *j)
{
	pthread_mutex_lock(&straggler_lock);
	j->ended = true;
	if (j->left_behind)
		for (size_t i = 0; i < nstragglers; i++)
			if (stragglers[i] == j) {
				stragglers[i] = stragglers[--nstragglers];
				break;
			}
	pthread_mutex_unlock(&straggler_lock);
}

static void
job_release(struct ns_job *j)
{
	if (atomic_fetch_sub(&j->refs, 1) != 1)
		return;
	snapshot_unref(j->reuse);
	snapshot_unref(j->out);
	free(j);
}

static void *
ns_thread(void *arg)
{
	struct ns_job *j = arg;
	char net[NETNS_PATH_LEN];

	if (netns_enter(j->t.path, j->error, sizeof(j->error)) < 0)
		goto out;
	snprintf(net, sizeof(net), "%s/thread-self", j->p.procfs);
	j->p.procfs_net = net;
	j->p.no_persist = true;
	j->p.netns = NULL;
	j->out = snapshot_collect(&j->p, j->reuse);
	j->p.procfs_net = NULL;
out:
	straggler_end(j);
	job_release(j);
	return NULL;
}

/*
 * Wait for TH until the monotonic DEADLINE (0: no limit). True when it
 * ended; false when it is still running (it is then detached).
 */
static bool
join_until(pthread_t th, double deadline)
{
	struct timespec ts;
	double left, abs_;

	if (deadline <= 0)
		return pthread_join(th, NULL) == 0;
	/* pthread_timedjoin_np() takes CLOCK_REALTIME. */
	left = deadline - now_monotonic() + 1.0;	/* the source at hand ends */
	abs_ = now_wall() + (left > 0 ? left : 0);
	ts.tv_sec = (time_t)abs_;
	ts.tv_nsec = (long)((abs_ - (double)ts.tv_sec) * 1e9);
	if (pthread_timedjoin_np(th, NULL, &ts) == 0)
		return true;
	pthread_detach(th);
	return false;
}

/* Audit T in its own thread; a snapshot, or NULL with WHY. */
static struct snapshot *
collect_one(const struct netns_target *t, const struct collect_paths *p,
    const struct snapshot *reuse, char *why, size_t whylen)
{
	struct ns_job *j;
	struct snapshot *s = NULL;
	pthread_t th;
	int rc;

	straggler_check(t, why, whylen);
	if (why[0] != '\0')
		return NULL;
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		set_error(why, whylen, "out of memory");
		return NULL;
	}
	atomic_init(&j->refs, 2);
	j->started = now_monotonic();
	j->t = *t;
	j->p = *p;
	/* The host's descriptors read the host's namespace, and a straggler
	 * may outlive them. */
	j->p.files = NULL;
	j->reuse = reuse != NULL ? snapshot_ref((struct snapshot *)reuse) : NULL;
	if ((rc = pthread_create(&th, NULL, ns_thread, j)) != 0) {
		set_error(why, whylen, "cannot start a thread: %s", strerror(rc));
		atomic_fetch_sub(&j->refs, 1);
		job_release(j);
		return NULL;
	}
	if (!join_until(th, p->deadline)) {
		set_error(why, whylen, "deadline exceeded: auditing %s took "
		    "longer than the collection's budget (--collect.timeout=%gs)",
		    t->path, p->timeout);
		straggler_add(j);
		job_release(j);
		return NULL;
	}
	s = j->out;
	j->out = NULL;
	if (s == NULL)
		set_error(why, whylen, "%s", j->error[0] ? j->error :
		    "out of memory");
	job_release(j);
	return s;
}

/* A snapshot whose every source is unavailable for WHY. */
static struct snapshot *
unavailable(const struct collect_paths *p, const char *why)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	atomic_init(&s->refs, 1);
	s->wall = now_wall();
	s->policy = p->policy;
	s->netns_unaudited = true;
	persist_init(&s->persist);
	for (int i = 0; i < SYSCTL_COUNT; i++) {
		s->sysctl.key[i].state = KEY_UNAVAILABLE;
		set_error(s->sysctl.key[i].why, sizeof(s->sysctl.key[i].why),
		    "%s", why);
	}
	for (int i = 0; i < SRC_COUNT; i++) {
		/* A source switched off stays so: it was not to be read. */
		if (collect_switched_off(p, (enum source_id)i, &s->source[i]))
			continue;
		s->source[i].state = SOURCE_UNAVAILABLE;
		set_error(s->source[i].error, sizeof(s->source[i].error), "%s",
		    why);
	}
	return s;
}

static const struct snapshot *
reuse_twin(const struct snapshot *reuse, const struct netns_target *t)
{
	if (reuse == NULL || t->ino == 0)
		return NULL;
	for (size_t i = 0; i < reuse->nns; i++)
		if (reuse->ns[i]->netns_ino == t->ino &&
		    reuse->ns[i]->source[SRC_SYSCTL].state == SOURCE_OK)
			return reuse->ns[i];
	return NULL;
}

void
nscollect_apply_scope(struct snapshot *s)
{
	char kv[sizeof(s->sysctl.osrelease)], from[32];

	if (s->kv.code == 0)
		return;
	for (int i = 0; i < SYSCTL_COUNT; i++) {
		struct sysctl_value *v = &s->sysctl.key[i];
		uint32_t f = sysctl_defs[i].netns_from;

		if (f == 0 || s->kv.code >= f || v->state == KEY_ABSENT)
			continue;
		snprintf(kv, sizeof(kv), "%s", s->sysctl.osrelease);
		snprintf(from, sizeof(from), "%u.%u", f >> 16, (f >> 8) & 0xff);
		v->state = KEY_UNAVAILABLE;
		v->nvalues = 0;
		set_error(v->why, sizeof(v->why), "global on Linux %s (per "
		    "network namespace from %s): reported once, for the host",
		    kv, from);
	}
}

void
nscollect_namespaces(struct snapshot *parent,
    const struct collect_paths *p, const struct snapshot *reuse)
{
	struct netns_list l;

	netns_resolve(p->netns, p->procfs, p->netns_rundir, &l);
	if (l.n == 0) {
		netns_list_free(&l);
		return;
	}
	parent->ns = calloc(l.n, sizeof(*parent->ns));
	if (parent->ns == NULL) {
		netns_list_free(&l);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct netns_target *t = &l.t[i];
		struct snapshot *s = NULL;
		char why[NETNS_ERR_LEN];

		if (t->error[0] != '\0') {
			s = unavailable(p, t->error);
		} else if (p->deadline > 0 && now_monotonic() >= p->deadline) {
			set_error(why, sizeof(why), "deadline exceeded: the "
			    "collection's budget (--collect.timeout=%gs) ran out "
			    "before this namespace", p->timeout);
			s = unavailable(p, why);
		} else if ((s = collect_one(t, p, reuse_twin(reuse, t), why,
		    sizeof(why))) == NULL) {
			s = unavailable(p, why);
		}
		if (s == NULL)
			continue;
		snprintf(s->netns, sizeof(s->netns), "%s", t->label);
		s->netns_ino = t->ino;
		s->netns_pid = t->pid;
		s->netns_kind = t->kind;
		s->policy = p->policy;
		/* The host's kernel: the thread read the same osrelease. */
		if (s->kv.code == 0)
			s->kv = parent->kv;
		if (s->sysctl.osrelease[0] == '\0')
			memcpy(s->sysctl.osrelease, parent->sysctl.osrelease,
			    sizeof(s->sysctl.osrelease));
		nscollect_apply_scope(s);
		parent->ns[parent->nns++] = s;
	}
	netns_list_free(&l);
}

void
nscollect_sample_rates(const struct snapshot *a, double ta, struct snapshot *b,
    double tb)
{
	for (size_t i = 0; i < b->nns; i++) {
		struct snapshot *nb = b->ns[i];

		for (size_t k = 0; k < a->nns; k++) {
			const struct snapshot *na = a->ns[k];

			if (na->netns_ino != nb->netns_ino || nb->netns_ino == 0)
				continue;
			nb->sample_s = tb - ta;
			for (int w = 0; w < RATE_NWINDOWS; w++)
				for (int c = 0; c < CTR_COUNT; c++)
					nb->rate[w][c] = rate_between(
					    &na->counters, ta, &nb->counters,
					    tb, c);
			break;
		}
	}
}

struct snapshot *
nscollect_snapshot(const struct collect_paths *paths,
    const struct snapshot *reuse)
{
	struct collect_paths budget = *paths;
	struct snapshot *s;

	/* One budget for the whole collection, namespaces included. */
	if (budget.deadline <= 0 && budget.timeout > 0)
		budget.deadline = now_monotonic() + budget.timeout;
	s = snapshot_collect(&budget, reuse);
	if (s != NULL && budget.netns != NULL) {
		s->netns_mode = true;
		nscollect_namespaces(s, &budget, reuse);
	}
	return s;
}
