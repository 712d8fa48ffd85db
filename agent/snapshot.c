/* Collect every source into one snapshot; derive rates and findings. */
#include "agent/snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
collect_file(struct source_status *st, struct file_cache *files,
    const char *procfs, const char *rel, parse_fn parse, void *out)
{
	char *buf;
	size_t len;
	int rc;

	rc = file_cache_read(files, procfs, rel, READ_FILE_MAX, &buf, &len);
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
collect_sockstat(struct snapshot *s, struct file_cache *files,
    const char *procfs)
{
	struct source_status *st = &s->source[SRC_SOCKSTAT];
	struct source_status st6 = { 0 };

	collect_file(st, files, procfs, "net/sockstat", sockstat_parse_cb,
	    &s->sockstat);
	/* sockstat6 is missing when IPv6 is disabled: that is not a failure. */
	if (collect_file(&st6, files, procfs, "net/sockstat6", sockstat_parse_cb,
	    &s->sockstat) != -ENOENT && st6.state != SOURCE_OK &&
	    st->state == SOURCE_OK)
		*st = st6;
}

/* The first line of ROOT/REL, trimmed, into HOST; false if none. */
static bool
hostname_from(struct file_cache *files, const char *root, const char *rel,
    char *host, size_t len)
{
	char *buf;
	size_t n;

	if (file_cache_read(files, root, rel, 256, &buf, &n) < 0)
		return false;
	n = strcspn(buf, "\n");
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t' ||
	    buf[n - 1] == '\r'))
		n--;
	snprintf(host, len, "%.*s", (int)n, buf);
	free(buf);
	return host[0] != '\0';
}

/* ROOTFS is this machine's own root directory (the same inode as "/"). */
static bool
is_own_root(const char *rootfs)
{
	struct stat a, b;

	return rootfs == NULL || (stat(rootfs, &a) == 0 && stat("/", &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

/*
 * The tree's host name; for this host's tree gethostname() when the tree
 * has none. A foreign tree never takes this machine's name: its
 * etc/hostname under --path.rootfs (unless that is this machine's root),
 * or "unknown".
 */
static void
read_hostname(struct snapshot *s, const struct collect_paths *p)
{
	if (hostname_from(p->files, p->procfs, "sys/kernel/hostname", s->host,
	    sizeof(s->host)))
		return;
	if (p->foreign) {
		if (is_own_root(p->rootfs) || !hostname_from(NULL, p->rootfs,
		    "etc/hostname", s->host, sizeof(s->host)))
			snprintf(s->host, sizeof(s->host), "unknown");
		return;
	}
	if (gethostname(s->host, sizeof(s->host) - 1) < 0 || s->host[0] == '\0')
		snprintf(s->host, sizeof(s->host), "unknown");
}

bool
collect_source_is_local(enum source_id id)
{
	return id == SRC_SOCK_DIAG || id == SRC_TCP_METRICS ||
	    id == SRC_SAMPLER;
}

bool
collect_switched_off(const struct collect_paths *p, enum source_id src,
    struct source_status *st)
{
	const char *name = source_name[src];

	switch ((enum collect_switch)p->sw[src]) {
	case COLLECT_OFF:
		st->state = SOURCE_DISABLED;
		set_error(st->error, sizeof(st->error), "disabled by "
		    "--no-collector.%s%s", name, src == SRC_SAMPLER ?
		    " (--sampler.enabled=false)" : "");
		return true;
	case COLLECT_OFF_DEFAULT:
		st->state = SOURCE_DISABLED;
		set_error(st->error, sizeof(st->error), "disabled: "
		    "--collector.disable-defaults without --collector.%s", name);
		return true;
	case COLLECT_FOREIGN:
		st->state = SOURCE_NOT_APPLICABLE;
		set_error(st->error, sizeof(st->error), "the audited tree "
		    "(--path.procfs=%s) is not this host's (%s): %s would "
		    "describe the local kernel instead; --collector.%s reads "
		    "it anyway", p->procfs, p->foreign_why ? p->foreign_why :
		    "foreign", name, name);
		return true;
	case COLLECT_ON:
	default:
		return false;
	}
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
 * one switched off opens no socket.
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
	if (!collect_switched_off(p, SRC_SOCK_DIAG, st) &&
	    !collect_out_of_time(p, st))
		st->state = sock_diag_collect(&s->sockdiag, NULL, st->error,
		    sizeof(st->error));
	st->duration_s = now_monotonic() - t0;

	st = &s->source[SRC_TCP_METRICS];
	t0 = now_monotonic();
	if (!collect_switched_off(p, SRC_TCP_METRICS, st) &&
	    !collect_out_of_time(p, st))
		st->state = tcp_metrics_collect(&s->tcpm, NULL, st->error,
		    sizeof(st->error));
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

/*
 * A disabled sysctl source: every key unavailable, saying why. This
 * host's tree runs the running kernel: its release comes from uname(2),
 * so rules that depend on it judge as they would with the source on; a
 * foreign tree's stays unknown.
 */
static void
sysctl_switched_off(struct snapshot *s, const struct collect_paths *p)
{
	struct utsname u;

	for (int i = 0; i < SYSCTL_COUNT; i++) {
		s->sysctl.key[i].state = KEY_UNAVAILABLE;
		set_error(s->sysctl.key[i].why, sizeof(s->sysctl.key[i].why),
		    "%s", s->source[SRC_SYSCTL].error);
	}
	if (!p->foreign && uname(&u) == 0)
		snprintf(s->sysctl.osrelease, sizeof(s->sysctl.osrelease),
		    "%s", u.release);
}

/*
 * The /proc sources, each skipped once the deadline has passed; one
 * switched off is never opened.
 */
static void
collect_procfs(struct snapshot *s, const struct collect_paths *p)
{
	struct source_status *st;
	double t0;

	st = &s->source[SRC_SYSCTL];
	t0 = now_monotonic();
	if (collect_switched_off(p, SRC_SYSCTL, st))
		sysctl_switched_off(s, p);
	else if (!collect_out_of_time(p, st) && sysctl_collect(p->procfs,
	    p->files, &s->sysctl, st->error, sizeof(st->error)) < 0)
		st->state = SOURCE_FAILED;
	st->duration_s = now_monotonic() - t0;
	kversion_parse(s->sysctl.osrelease, &s->kv);

	st = &s->source[SRC_NETSTAT];
	t0 = now_monotonic();
	if (!collect_switched_off(p, SRC_NETSTAT, st) &&
	    !collect_out_of_time(p, st))
		collect_file(st, p->files, net_root(p), "net/netstat",
		    netstat_parse_cb, &s->counters);
	st->duration_s = now_monotonic() - t0;

	st = &s->source[SRC_SNMP];
	t0 = now_monotonic();
	if (!collect_switched_off(p, SRC_SNMP, st) &&
	    !collect_out_of_time(p, st))
		collect_file(st, p->files, net_root(p), "net/snmp",
		    netstat_parse_cb, &s->counters);
	st->duration_s = now_monotonic() - t0;

	st = &s->source[SRC_SOCKSTAT];
	t0 = now_monotonic();
	if (!collect_switched_off(p, SRC_SOCKSTAT, st) &&
	    !collect_out_of_time(p, st))
		collect_sockstat(s, p->files, net_root(p));
	st->duration_s = now_monotonic() - t0;
}

/* The sysctl.d files under --path.rootfs. */
static void
collect_persist(struct snapshot *s, const struct collect_paths *p)
{
	struct source_status *st = &s->source[SRC_PERSIST];
	double t0 = now_monotonic();

	if (collect_switched_off(p, SRC_PERSIST, st)) {
		persist_init(&s->persist);
	} else if (collect_out_of_time(p, st)) {
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
}

struct snapshot *
snapshot_collect(const struct collect_paths *paths,
    const struct snapshot *reuse)
{
	struct collect_paths budget = *paths, *p = &budget;
	struct snapshot *s;

	/* One budget for the whole collection (nscollect_snapshot() sets it
	 * first when namespaces follow). */
	if (p->deadline <= 0 && p->timeout > 0)
		p->deadline = now_monotonic() + p->timeout;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	atomic_init(&s->refs, 1);
	snapshot_no_sampler(s);
	/* A switched-off sampler: live_fill() never runs to say otherwise. */
	collect_switched_off(p, SRC_SAMPLER, &s->source[SRC_SAMPLER]);
	s->foreign = p->foreign;
	if (p->foreign)
		snprintf(s->foreign_why, sizeof(s->foreign_why), "%s",
		    p->foreign_why ? p->foreign_why : "");
	s->wall = now_wall();
	for (int i = 0; i < SRC_COUNT; i++)
		s->source_at[i] = s->wall;
	s->self_peer_at = selfstat_peer_at();	/* before the counters */
	selfstat_read(&s->self);
	read_hostname(s, p);
	collect_procfs(s, p);

	s->policy = p->policy;
	if (reuse != NULL) {
		copy_slow_sources(s, reuse);
	} else {
		collect_persist(s, p);
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
