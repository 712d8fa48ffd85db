/*
 * Direction of live-captured segments: which end is the server. Live
 * mode knows it from the host's own addresses (the sampler's server set);
 * between two local addresses the connection's SYN decides. The client
 * sample is checked again here (the filter keeps it; a local<->local
 * flow can pass through the other end).
 */
#ifndef TWAUDIT_LIVE_DIR_H
#define TWAUDIT_LIVE_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collectors/sampler.h"
#include "lib/tcp_event.h"

#define LIVE_FLOW_SLOTS		4096	/* direction cache, local<->local */

struct live_dir_counts {
	uint64_t fed;		/* admitted */
	uint64_t unsampled;	/* client not in the sample */
	uint64_t foreign;	/* neither end a server address */
};

struct live_dir;

/* SERVERS[0..N) copied; RATIO as the sampler's. NULL on allocation
 * failure. */
struct live_dir *live_dir_new(const struct sampler_addr *servers, size_t n,
    unsigned ratio);
void live_dir_free(struct live_dir *d);

/* Set EV's to_server; false (and counted) when the models do not see it. */
bool live_dir_admit(struct live_dir *d, struct tcp_event *ev);

const struct live_dir_counts *live_dir_counts(const struct live_dir *d);

#endif
