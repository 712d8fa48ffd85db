/*
 * One immutable, reference-counted view of everything collected at one
 * moment: sources, their states, rates and the findings derived from them.
 * Renderers only ever see a finished snapshot.
 */
#ifndef TWAUDIT_SNAPSHOT_H
#define TWAUDIT_SNAPSHOT_H

#include <stdatomic.h>
#include <stdbool.h>
#include "agent/findings.h"
#include "collectors/counters.h"
#include "agent/history.h"
#include "lib/kversion.h"
#include "agent/netns.h"
#include "collectors/persist.h"
#include "lib/filecache.h"
#include "lib/procstat.h"
#include "lib/selfstat.h"
#include "agent/live_stats.h"
#include "collectors/sock_diag.h"
#include "collectors/sockstat.h"
#include "lib/source.h"
#include "collectors/sysctl.h"
#include "collectors/tcp_metrics.h"

struct policy;

struct rendered {
	size_t len;
	bool gzip;		/* BODY is gzip-encoded */
	char body[];
};

/* Opaque rendered bodies a snapshot keeps for its renderers' caller. */
#define SNAPSHOT_BODY_SLOTS 8

/* A text address ("192.0.2.1", "2001:db8::1"). */
#define SNAPSHOT_ADDR_LEN 46

/*
 * Values renderers need, computed when the snapshot is built so that no
 * renderer calls a reader function or takes the collector's lock. A
 * zeroed view (a snapshot never finished) shows nothing persisted, no
 * ratio, no chart.
 */
struct snapshot_view {
	/* Per watched sysctl: systemd-sysctl's effective assignment
	 * (persisted_set; persist.key[i].a[persisted_at]), its value parsed as
	 * the runtime would (persisted_ok), and drift: the runtime value is
	 * present and differs from the parsed persisted one. */
	bool persisted_set[SYSCTL_COUNT];
	int persisted_at[SYSCTL_COUNT];
	bool persisted_ok[SYSCTL_COUNT];
	struct sysctl_value persisted[SYSCTL_COUNT];
	bool drift[SYSCTL_COUNT];
	/* sock_diag: ESTABLISHED sockets with timestamps / with TCP info. */
	bool has_ts_ratio;
	double ts_ratio;
	char top_remote[SOCK_DIAG_TOP_REMOTES][SNAPSHOT_ADDR_LEN];
	/* tcp_metrics recent[i]: address and server address (tcpm.nrecent
	 * entries; NULL when there are none or allocation failed). */
	char (*recent_addr)[2][SNAPSHOT_ADDR_LEN];
	/* The collector's history as chart points (NULL, 0: none). */
	struct history_point *chart;
	size_t nchart;
};

struct snapshot {
	atomic_int refs;
	double wall;			/* when collected (epoch seconds) */
	char host[256];
	struct kversion kv;		/* from kernel.osrelease */
	struct sysctl_set sysctl;
	struct persist_set persist;
	struct counter_set counters;
	struct sockstat sockstat;
	struct sock_diag_stats sockdiag;	/* netlink: the running kernel */
	struct tcp_metrics_stats tcpm;
	struct kversion running_kv;		/* uname(2): what netlink talks to */
	/* Live mode: the sampler and its model (live.h); have_sampler false
	 * when the command runs no sampler (check without --sample). */
	bool have_sampler;
	struct live_stats sampler;
	struct source_status source[SRC_COUNT];
	/*
	 * Wall time each source's data was read (slow sources copied from an
	 * earlier snapshot keep its time), and the last time each source was
	 * read successfully by this process (0: never), for staleness.
	 */
	double source_at[SRC_COUNT];
	double last_success[SRC_COUNT];
	struct selfstat_values self;	/* twaudit's own counters when built */
	double self_peer_at;		/* monotonic: the web process's part of
					   self is at least this recent (0: it
					   has sent none) */
	uint64_t generation;		/* the collector's publish count (1, 2...;
					   0: never published) */
	/*
	 * serve's exporter metrics (process_*, twaudit's HTTP and log
	 * counters) are rendered only when set: not by check, nor with
	 * --web.disable-exporter-metrics. proc: read when the snapshot was
	 * built (proc.ok false: process_* left out).
	 */
	bool exporter_metrics;
	struct procstat_values proc;
	struct procstat_values web_proc;	/* serve's web process (ok false:
						   none, or left out) */
	/* Rates per window; in `check --sample` every window holds the sample. */
	struct rate rate[RATE_NWINDOWS][CTR_COUNT];
	double sample_s;		/* check --sample duration, 0 otherwise */
	struct findings findings;
	enum audit_status status;
	/*
	 * /metrics bodies rendered from this snapshot, by format and gzip:
	 * scrapes that share a snapshot share one rendering. Each slot is set
	 * once (compare-and-swap) and freed with the snapshot.
	 */
	_Atomic(struct rendered *) expo_cache[2][2];
	/* The other endpoints' bodies, the same way; what each slot holds is
	 * up to the caller of the renderers (web/bodies.c). */
	_Atomic(struct rendered *) body_cache[SNAPSHOT_BODY_SLOTS];
	/* When the first of them was rendered (epoch µs, 0: not yet): the
	 * time twaudit_snapshot_age_seconds is stated at, in each of them. */
	_Atomic int64_t first_render_us;
	/*
	 * --netns (netns.h): ns[] holds one snapshot per audited namespace
	 * (each with netns set); status is then the worst of the host's own
	 * (host_status) and theirs. --policy findings come from policy.
	 */
	bool netns_mode;		/* --netns given: per-netns series get a label */
	char netns[NETNS_LABEL_LEN];	/* this snapshot's namespace, "" for the host */
	uint64_t netns_ino;
	long netns_pid;
	enum netns_kind netns_kind;
	bool netns_unaudited;		/* could not enter it: status unknown */
	size_t nns;
	struct snapshot **ns;
	enum audit_status host_status;
	const struct policy *policy;
	/* The audited tree is not this host's (collect_paths.foreign). */
	bool foreign;
	char foreign_why[SOURCE_ERR_LEN];
	/* What the renderers show that a reader would compute: filled by
	 * snapshot_derive() when the snapshot is finished. */
	struct snapshot_view view;
};

/*
 * How a source is switched (collect_paths.sw): read, or never touched and
 * why. A zeroed array reads every source.
 */
enum collect_switch {
	COLLECT_ON = 0,
	COLLECT_OFF,		/* --no-collector.NAME: disabled */
	COLLECT_OFF_DEFAULT,	/* --collector.disable-defaults, NAME not named */
	COLLECT_FOREIGN,	/* reads the local kernel, the tree is another's:
				 * not_applicable */
};

/* sock_diag, tcp_metrics and the sampler: the running kernel, whatever
 * --path.procfs says. */
bool collect_source_is_local(enum source_id id);

struct collect_paths {
	const char *procfs;		/* "/proc" */
	const char *rootfs;		/* "/" */
	unsigned char sw[SRC_COUNT];	/* enum collect_switch per source */
	/* The tree is not this host's (foreign.h): WHY says how that was
	 * told; the host name then comes from the tree or is "unknown". */
	bool foreign;
	const char *foreign_why;
	const char *procfs_net;		/* parent of net/..., NULL: procfs */
	/* Held descriptors for PROCFS (lib/filecache.h), NULL: each file is
	 * opened afresh. Only for this host's procfs, and only where the
	 * namespace is the one they were opened in: nscollect clears it. */
	struct file_cache *files;
	bool no_persist;		/* a namespace: sysctl.d belongs to the host */
	const struct netns_spec *netns;	/* --netns, NULL: the host only */
	const char *netns_rundir;	/* NULL: "/run/netns" */
	const struct policy *policy;	/* --policy, NULL: none */
	/*
	 * --collect.timeout: the budget of one collection across every
	 * source and namespace (0: none). Sources not reached by the
	 * deadline (monotonic seconds; 0: snapshot_collect sets it to now +
	 * timeout) fail with "deadline exceeded".
	 */
	double timeout;
	double deadline;
};

#define COLLECT_TIMEOUT_DEFAULT 8.0	/* below Prometheus's 10 s scrape timeout */

/*
 * Collect every source into a new snapshot (refs = 1), without rates or
 * findings. NULL only on allocation failure.
 *
 * With REUSE, the slow sources (the sysctl.d files and the netlink dumps,
 * which cost milliseconds on a host with many sockets and change slowly)
 * are copied from it instead of collected again: scrapes reuse what the
 * background tick collected at most COLLECT_TICK_SECONDS ago, and only the
 * cheap /proc files are read at scrape time.
 */
struct snapshot *snapshot_collect(const struct collect_paths *p,
    const struct snapshot *reuse);

/*
 * Fold S's successful sources into LAST (wall times, per source) and copy
 * LAST into S->last_success. A single collection passes a zeroed array.
 */
void snapshot_note_success(struct snapshot *s, double last[SRC_COUNT]);

/* True (and SRC failed with "deadline exceeded") when P's deadline passed. */
bool collect_out_of_time(const struct collect_paths *p,
    struct source_status *src);

/* Mark the sampler source as not running (the default of a new snapshot). */
void snapshot_no_sampler(struct snapshot *s);

/*
 * True when P switches SRC off (collect_switch), with ST set to disabled
 * or not_applicable and why: the source must then not be touched.
 */
bool collect_switched_off(const struct collect_paths *p, enum source_id src,
    struct source_status *st);

/* snapshot_finish() (rates, findings, status) is in audit.h. */

/*
 * Fill S->view from S (and H's chart points when H is not NULL; the
 * wall times are stated against the clocks read now). Called by
 * snapshot_finish(); again on the same snapshot it recomputes. Without
 * memory the addresses of tcp_metrics' list or the chart stay empty.
 */
void snapshot_derive(struct snapshot *s, const struct history *h);

/* Worst of critical > warning > unknown > ok (advice_status's order). */
enum audit_status status_worst(enum audit_status a, enum audit_status b);

struct snapshot *snapshot_ref(struct snapshot *s);
void snapshot_unref(struct snapshot *s);

#endif
