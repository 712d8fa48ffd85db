/*
 * Live mode: the capture (sampler.h) and the model thread (live_model.h)
 * as serve and check use them. Owns their lifetimes, builds their
 * configuration from flags and the running kernel, keeps the model's
 * settings in step with the live sysctls, and copies their figures into
 * each snapshot.
 */
#ifndef TWAUDIT_LIVE_H
#define TWAUDIT_LIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/cli.h"

struct snapshot;
struct live;

struct live_opts {
	bool enabled;
	struct cli_list interfaces;	/* --sampler.interface */
	struct cli_list servers;	/* --sampler.server */
	unsigned long ratio;		/* --sampler.ratio */
	unsigned long max_peers, max_connections, max_sources;	/* 0: default */
};

/*
 * Table caps of the live model: a daemon on every host must stay small,
 * so these are sized for a busy server's recent peers (the kernel's own
 * tcp_metrics table holds about 98k), not for replaying a flood; every
 * eviction is counted in twaudit_model_evictions_total, and the flags
 * raise them. What-if models get a quarter each.
 */
#define LIVE_MAX_PEERS		65536
#define LIVE_MAX_CONNECTIONS	65536
#define LIVE_MAX_SOURCES	16384

#define LIVE_OPTS_DEFAULT { .enabled = true, .ratio = 1, \
	.max_peers = LIVE_MAX_PEERS, .max_connections = LIVE_MAX_CONNECTIONS, \
	.max_sources = LIVE_MAX_SOURCES }

/*
 * The flag table rows of live mode, for a command's cli_flag array; the
 * switch (enabled) is the command's --collector.sampler / --sampler.enabled.
 */
#define LIVE_FLAGS(o) \
	{ "sampler.interface", CLI_LIST, &(o).interfaces, "NAME", \
	    "interface to capture on", "any" }, \
	{ "sampler.server", CLI_LIST, &(o).servers, "ADDR", \
	    "this host's server address; clients are the other end", \
	    "every local address" }, \
	{ "sampler.ratio", CLI_UINT, &(o).ratio, "N", \
	    "keep 1 in N client addresses (a power of two); estimates scale by N", \
	    "1" }, \
	{ "model.max-peers", CLI_UINT, &(o).max_peers, "N", \
	    "peer-table entries the live model keeps", "65536" }, \
	{ "model.max-connections", CLI_UINT, &(o).max_connections, "N", \
	    "connections the live model tracks", "65536" }, \
	{ "model.max-sources", CLI_UINT, &(o).max_sources, "N", \
	    "client addresses with NAT clustering state", "16384" }

/*
 * Create and start the sampler for OPTS on the running kernel. Never NULL
 * but on allocation failure: a sampler that cannot start (disabled, no
 * CAP_NET_RAW, bad flags) is kept and reports why through live_fill(). A
 * bad flag (ratio not a power of two...) is a usage error: -1 with ERR.
 */
int live_new(const struct live_opts *opts, struct live **out, char *err,
    size_t errlen);

/*
 * Follow the live sysctls of S (tw_recycle, timestamps, rfc1337), and
 * hand its tcp_metrics stamps to the model thread for the agreement
 * figure (live_model_set_kernel_peers()). Called on the tick, whose
 * snapshot has a fresh dump.
 */
void live_follow(struct live *l, const struct snapshot *s);

/* Copy the sampler's current figures and state into S. */
void live_fill(struct live *l, struct snapshot *s);

/* Stop capturing; the last figures stay readable. */
void live_stop(struct live *l);

void live_free(struct live *l);

#endif
