/*
 * The kernel's peer table (tcp_metrics, 3.7-4.11) against the live
 * model's: both sides are the peers whose stamp is fresh at the dump's
 * second S by the passive check's test ((u32)(S - stamp) < 60), whose
 * client is sampled (sampler_client_sampled()) and whose stamp was stored
 * after the sampler started (the model cannot know older ones). Keys as
 * the running profile's peer table: (server, client) from 3.13, else the
 * client alone.
 *
 * The collector thread hands a dump over (tcpm_agree_set()); the model
 * thread compares once the events captured up to the dump have been fed
 * (the first later event, or TCPM_AGREE_GRACE_S after the dump).
 */
#ifndef TWAUDIT_TCPM_AGREE_H
#define TWAUDIT_TCPM_AGREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "collectors/sampler.h"
#include "collectors/tcp_metrics.h"

#define TCPM_AGREE_PEERS	1024	/* kernel peers compared, at most */
#define TCPM_AGREE_GRACE_S	0.5	/* events up to the dump: let them
					   reach the model first */
#define TCPM_AGREE_LOW		0.8	/* below: /advice shows it */
#define TCPM_AGREE_MIN_PEERS	10	/* ... when this many compared */

/* One kernel tcp_metrics peer with a TW stamp. */
struct tcpm_kpeer {
	uint8_t family;		/* 4 or 6 */
	bool has_server;	/* the kernel sent the local address (3.13+) */
	uint8_t client[16];
	uint8_t server[16];
	uint32_t tsval;		/* TW_TSVAL */
	uint32_t stamp;		/* wall-clock second: dump second - TW_TS_STAMP */
};

struct tcpm_agreement {
	bool valid;		/* compared: the kernel has TW stamps (3.7-4.11)
				   and its list was complete */
	double at;		/* wall-clock time of the dump compared */
	uint64_t kernel;	/* kernel peers compared */
	uint64_t model;		/* model peers compared */
	uint64_t common;	/* keys on both sides */
	uint64_t matched;	/* keys on both sides with the same TSval */
	double ratio;		/* matched / (kernel + model - common): 1 when
				   both are empty */
	uint64_t comparisons;	/* dumps compared since the start */
	uint64_t incomplete;	/* dumps not compared: the kernel's list was
				   cut (more than TCPM_AGREE_PEERS) */
};

/* What the comparison needs besides the two tables. */
struct tcpm_agree_in {
	bool key_server;		/* the profile keys by (server, client) */
	unsigned ratio;			/* sampler ratio (client test) */
	const struct sampler_addr *servers;	/* watched addresses: kernel
					   peers of another local address are
					   left out (none given: all kept) */
	size_t nservers;
	uint32_t now_s;			/* the dump's second */
	uint32_t since_s;		/* only stamps after this second */
};

/*
 * Compare kernel peers K[0..NK) (sorted in place) with M's fresh peers
 * into OUT (valid, counts, ratio; at and the totals are left alone).
 */
void tcpm_agree_compute(const struct model *m, const struct tcpm_agree_in *in,
    struct tcpm_kpeer *k, size_t nk, struct tcpm_agreement *out);

/*
 * The fresh stamps of a tcp_metrics dump T (docs/kernel.md §8.1:
 * 0 <= TW_TS_STAMP < 60), as kernel peers for tcpm_agree_set(): at most
 * MAX into OUT; returns how many. *COMPLETE false when T's list or OUT
 * was too short for all of them.
 */
size_t tcpm_kpeers_from_dump(const struct tcp_metrics_stats *t,
    struct tcpm_kpeer *out, size_t max, bool *complete);

/* The hand-over between the collector and the model thread. */
struct tcpm_agree;

struct tcpm_agree *tcpm_agree_new(void);
void tcpm_agree_free(struct tcpm_agree *a);

/*
 * Any thread: the kernel's peers with a TW stamp from the dump made at
 * wall-clock time DUMP_WALL (N of them, copied; at most TCPM_AGREE_PEERS
 * kept). COMPLETE false: the kernel had more recent stamps than the list
 * holds, so no comparison is made. P NULL: the kernel has no TW stamps to
 * compare (4.12+, or no dump): the agreement is withdrawn.
 */
void tcpm_agree_set(struct tcpm_agree *a, const struct tcpm_kpeer *p,
    size_t n, bool complete, double dump_wall);

/* Model thread: take a dump handed over since the last call. */
void tcpm_agree_poll(struct tcpm_agree *a);

/* Model thread: a comparison waits for the model to have every event up
 * to its dump: true when it must run before an event at TIME_US. */
bool tcpm_agree_due(const struct tcpm_agree *a, uint64_t time_us);

/* Model thread: a comparison waits, and NOW_WALL is past its grace. */
bool tcpm_agree_overdue(const struct tcpm_agree *a, double now_wall);

/* Model thread: compare the waiting dump with M now (IN as above; its
 * now_s is the dump's). */
void tcpm_agree_run(struct tcpm_agree *a, const struct model *m,
    const struct tcpm_agree_in *in);

/* Model thread: the last result. */
const struct tcpm_agreement *tcpm_agree_result(const struct tcpm_agree *a);

#endif
