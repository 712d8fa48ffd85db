/* Collect every source into one snapshot; derive rates and findings. */
#include "agent/snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "collectors/netstat.h"
#include "lib/util.h"

/*
 * Read PROCFS/REL and run PARSE on it, recording the source's state.
 * Returns the read error (-errno) or 0.
 */
typedef int (*parse_fn)(const char *, size_t, void *, char *, size_t);

static int
collect_file(struct source_status *st, const char *procfs, const char *rel,
    parse_fn parse, void *out)
{
	char *buf;
	size_t len;
	int rc;

	rc = read_file_at(procfs, rel, READ_FILE_MAX, &buf, &len);
	if (rc < 0) {
		/* These files are world-readable on every kernel: EACCES or
		 * EPERM here is a fault (an LSM, a broken tree), not a
		 * missing privilege, so the audit is incomplete. */
		st->state = SOURCE_FAILED;
		set_error(st->error, sizeof(st->error), "%s: %s", rel,
		    file_strerror(-rc));
		return rc;
	}
	if (len == 0) {
		st->state = SOURCE_FAILED;
		set_error(st->error, sizeof(st->error), "%s: empty file", rel);
	} else if (parse(buf, len, out, st->error, sizeof(st->error)) < 0) {
		char why[SOURCE_ERR_LEN];

		memcpy(why, st->error, sizeof(why));
		st->state = SOURCE_FAILED;
		set_error(st->error, sizeof(st->error), "%s: %s", rel, why);
	}
	free(buf);
	return 0;
}

static int
netstat_parse_cb(const char *b, size_t l, void *o, char *e, size_t el)
{
	return netstat_parse(b, l, o, e, el);
}

static int
sockstat_parse_cb(const char *b, size_t l, void *o, char *e, size_t el)
{
	return sockstat_parse(b, l, o, e, el);
}

/* Where net/... is read: /proc/thread-self inside a namespace thread. */
static const char *
net_root(const struct collect_paths *p)
{
	return p->procfs_net != NULL ? p->procfs_net : p->procfs;
}

static void
collect_sockstat(struct snapshot *s, const char *procfs)
{
	struct source_status *st = &s->source[SRC_SOCKSTAT];
	struct source_status st6 = { 0 };

	collect_file(st, procfs, "net/sockstat", sockstat_parse_cb, &s->sockstat);
	/* sockstat6 is missing when IPv6 is disabled: that is not a failure. */
	if (collect_file(&st6, procfs, "net/sockstat6", sockstat_parse_cb,
	    &s->sockstat) != -ENOENT && st6.state != SOURCE_OK &&
	    st->state == SOURCE_OK)
		*st = st6;
}

static void
read_hostname(struct snapshot *s, const char *procfs)
{
	char *buf;
	size_t len;

	if (read_file_at(procfs, "sys/kernel/hostname", 256, &buf, &len) == 0) {
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
			buf[--len] = '\0';
		snprintf(s->host, sizeof(s->host), "%s", buf);
		free(buf);
	}
	if (s->host[0] == '\0' && gethostname(s->host, sizeof(s->host) - 1) < 0)
		snprintf(s->host, sizeof(s->host), "unknown");
}

bool
collect_out_of_time(const struct collect_paths *p, struct source_status *src)
{
	if (p->deadline <= 0 || now_monotonic() < p->deadline)
		return false;
	src->state = SOURCE_FAILED;
	set_error(src->error, sizeof(src->error), "deadline exceeded: the "
	    "collection's budget (--collect.timeout=%gs) ran out before this "
	    "source was read", p->timeout);
	return true;
}

/*
 * Netlink sources talk to the running kernel whatever --path.procfs says;
 * a disabled one is reported as unavailable, with the flag that did it.
 */
static void
collect_netlink(struct snapshot *s, const struct collect_paths *p)
{
	struct source_status *st;
	struct utsname u;
	double t0;

	if (uname(&u) == 0)
		kversion_parse(u.release, &s->running_kv);

	st = &s->source[SRC_SOCK_DIAG];
	t0 = now_monotonic();
	if (collect_out_of_time(p, st)) {
		/* nothing read */
	} else if (p->no_sock_diag) {
		st->state = SOURCE_UNAVAILABLE;
		set_error(st->error, sizeof(st->error),
		    "disabled by --collector.sock_diag=false");
	} else {
		st->state = sock_diag_collect(&s->sockdiag, NULL, st->error,
		    sizeof(st->error));
	}
	st->duration_s = now_monotonic() - t0;

	st = &s->source[SRC_TCP_METRICS];
	t0 = now_monotonic();
	if (collect_out_of_time(p, st)) {
		/* nothing read */
	} else if (p->no_tcp_metrics) {
		st->state = SOURCE_UNAVAILABLE;
		set_error(st->error, sizeof(st->error),
		    "disabled by --collector.tcp_metrics=false");
	} else {
		st->state = tcp_metrics_collect(&s->tcpm, NULL, st->error,
		    sizeof(st->error));
	}
	st->duration_s = now_monotonic() - t0;
}

static void
copy_slow_sources(struct snapshot *s, const struct snapshot *from)
{
	static const enum source_id slow[] = {
		SRC_PERSIST, SRC_SOCK_DIAG, SRC_TCP_METRICS,
	};

	s->persist = from->persist;
	s->sockdiag = from->sockdiag;
	s->tcpm = from->tcpm;
	s->running_kv = from->running_kv;
	for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]); i++) {
		s->source[slow[i]] = from->source[slow[i]];
		s->source_at[slow[i]] = from->source_at[slow[i]];
	}
}

void
snapshot_note_success(struct snapshot *s, double last[SRC_COUNT])
{
	for (int i = 0; i < SRC_COUNT; i++) {
		if (s->source[i].state == SOURCE_OK && s->source_at[i] > last[i])
			last[i] = s->source_at[i];
		s->last_success[i] = last[i];
	}
}

void
snapshot_no_sampler(struct snapshot *s)
{
	s->have_sampler = false;
	s->source[SRC_SAMPLER].state = SOURCE_UNAVAILABLE;
	set_error(s->source[SRC_SAMPLER].error,
	    sizeof(s->source[SRC_SAMPLER].error),
	    "the sampler runs in serve and in check --sample");
}

/* The /proc sources, each skipped once the deadline has passed. */
static void
collect_procfs(struct snapshot *s, const struct collect_paths *p)
{
	struct source_status *st;
	double t0;

	st = &s->source[SRC_SYSCTL];
	t0 = now_monotonic();
	if (!collect_out_of_time(p, st) && sysctl_collect(p->procfs,
	    &s->sysctl, st->error, sizeof(st->error)) < 0)
		st->state = SOURCE_FAILED;
	st->duration_s = now_monotonic() - t0;
	kversion_parse(s->sysctl.osrelease, &s->kv);

	st = &s->source[SRC_NETSTAT];
	t0 = now_monotonic();
	if (!collect_out_of_time(p, st))
		collect_file(st, net_root(p), "net/netstat", netstat_parse_cb,
		    &s->counters);
	st->duration_s = now_monotonic() - t0;

	st = &s->source[SRC_SNMP];
	t0 = now_monotonic();
	if (!collect_out_of_time(p, st))
		collect_file(st, net_root(p), "net/snmp", netstat_parse_cb,
		    &s->counters);
	st->duration_s = now_monotonic() - t0;

	st = &s->source[SRC_SOCKSTAT];
	t0 = now_monotonic();
	if (!collect_out_of_time(p, st))
		collect_sockstat(s, net_root(p));
	st->duration_s = now_monotonic() - t0;
}

struct snapshot *
snapshot_collect(const struct collect_paths *paths,
    const struct snapshot *reuse)
{
	struct collect_paths budget = *paths, *p = &budget;
	struct snapshot *s;
	struct source_status *st;
	double t0;

	/* One budget for the whole collection (nscollect_snapshot() sets it
	 * first when namespaces follow). */
	if (p->deadline <= 0 && p->timeout > 0)
		p->deadline = now_monotonic() + p->timeout;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	atomic_init(&s->refs, 1);
	snapshot_no_sampler(s);
	s->wall = now_wall();
	for (int i = 0; i < SRC_COUNT; i++)
		s->source_at[i] = s->wall;
	selfstat_read(&s->self);
	read_hostname(s, p->procfs);
	collect_procfs(s, p);

	s->policy = p->policy;
	if (reuse != NULL) {
		copy_slow_sources(s, reuse);
	} else {
		st = &s->source[SRC_PERSIST];
		t0 = now_monotonic();
		if (collect_out_of_time(p, st)) {
			/* nothing read */
		} else if (p->no_persist) {
			persist_init(&s->persist);
			st->state = SOURCE_NOT_APPLICABLE;
			set_error(st->error, sizeof(st->error), "sysctl.d files "
			    "are applied to the host's namespace at boot: see "
			    "the host's audit");
		} else if (persist_collect(p->rootfs, &s->persist, st->error,
		    sizeof(st->error)) < 0) {
			st->state = SOURCE_FAILED;
		}
		st->duration_s = now_monotonic() - t0;
		collect_netlink(s, p);
	}
	return s;
}

enum audit_status
status_worst(enum audit_status a, enum audit_status b)
{
	static const int rank[4] = {
		[STATUS_OK] = 0, [STATUS_UNKNOWN] = 1,
		[STATUS_WARNING] = 2, [STATUS_CRITICAL] = 3,
	};

	return rank[b] > rank[a] ? b : a;
}

struct snapshot *
snapshot_ref(struct snapshot *s)
{
	atomic_fetch_add(&s->refs, 1);
	return s;
}

void
snapshot_unref(struct snapshot *s)
{
	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (int f = 0; f < 2; f++)
		for (int z = 0; z < 2; z++)
			free(atomic_load(&s->expo_cache[f][z]));
	for (int i = 0; i < SNAPSHOT_BODY_SLOTS; i++)
		free(atomic_load(&s->body_cache[i]));
	findings_clear(&s->findings);
	free(s->view.recent_addr);
	free(s->view.chart);
	for (size_t i = 0; i < s->nns; i++)
		snapshot_unref(s->ns[i]);
	free(s->ns);
	free(s);
}

static void
derive_persisted(struct snapshot *s)
{
	struct snapshot_view *v = &s->view;

	for (int i = 0; i < SYSCTL_COUNT; i++) {
		const struct persist_key *pk = &s->persist.key[i];
		const struct persist_assign *a = persist_effective(pk);

		v->persisted_set[i] = a != NULL;
		v->persisted_at[i] = a != NULL ? (int)(a - pk->a) : -1;
		v->persisted_ok[i] = persist_effective_value(pk,
		    &v->persisted[i]);
		v->drift[i] = v->persisted_ok[i] &&
		    s->sysctl.key[i].state == KEY_PRESENT &&
		    !sysctl_value_equal(&s->sysctl.key[i], &v->persisted[i]);
	}
}

static void
derive_addresses(struct snapshot *s)
{
	struct snapshot_view *v = &s->view;
	const struct tcp_metrics_stats *t = &s->tcpm;

	v->has_ts_ratio = sock_diag_has_ts_ratio(&s->sockdiag);
	v->ts_ratio = sock_diag_ts_ratio(&s->sockdiag);
	for (size_t i = 0; i < s->sockdiag.ntop_remotes &&
	    i < SOCK_DIAG_TOP_REMOTES; i++)
		sock_diag_addr_format(&s->sockdiag.top_remotes[i].addr,
		    v->top_remote[i], sizeof(v->top_remote[i]));
	free(v->recent_addr);
	v->recent_addr = NULL;
	if (t->nrecent == 0 ||
	    (v->recent_addr = calloc(t->nrecent, sizeof(*v->recent_addr))) ==
	    NULL)
		return;
	for (size_t i = 0; i < t->nrecent; i++) {
		sock_diag_addr_format(&t->recent[i].addr, v->recent_addr[i][0],
		    sizeof(v->recent_addr[i][0]));
		sock_diag_addr_format(&t->recent[i].saddr, v->recent_addr[i][1],
		    sizeof(v->recent_addr[i][1]));
	}
}

/* Bounded by the history's capacity (COLLECT_HISTORY_SAMPLES). */
static void
derive_chart(struct snapshot *s, const struct history *h)
{
	struct snapshot_view *v = &s->view;
	size_t n = h != NULL ? history_len(h) : 0;

	free(v->chart);
	v->chart = NULL;
	v->nchart = 0;
	if (n == 0 || (v->chart = calloc(n, sizeof(*v->chart))) == NULL)
		return;
	v->nchart = history_chart(h, now_monotonic(), now_wall(), v->chart, n);
}

void
snapshot_derive(struct snapshot *s, const struct history *h)
{
	derive_persisted(s);
	derive_addresses(s);
	derive_chart(s, h);
}
