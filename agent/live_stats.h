/*
 * Live mode's figures as a snapshot carries them (snapshot.sampler): the
 * capture's (sampler.h) and the live model's (the runner's selected model
 * and what-if instances, live.c), with the tcp_metrics agreement.
 */
#ifndef TWAUDIT_LIVE_STATS_H
#define TWAUDIT_LIVE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "collectors/packet.h"
#include "collectors/sampler.h"
#include "agent/tcpm_agree.h"

#define LIVE_MAX_WHATIF		2	/* what-if models */
#define LIVE_TOP_SOURCES	16	/* top sources copied out (JSON) */
#define LIVE_NAT_SCAN		1024	/* busiest sources scanned for NAT */

struct live_whatif_stats {
	char profile[16];
	int32_t setting[MODEL_NSETTINGS];	/* in force now */
	uint64_t predicted_rejections;		/* scaled by the ratio */
	uint64_t by_reason[MODEL_NREASONS];	/* scaled */
	double predicted_rejections_per_min;	/* scaled */
};

struct live_stats {
	enum sampler_state state;
	char error[SAMPLER_ERR_LEN];	/* why unavailable/failed, or a
					   warning while ok ("" if none) */
	unsigned ratio;
	char profile[16];		/* model profile name */
	int32_t setting[MODEL_NSETTINGS];	/* in force now */
	double uptime_s;		/* since the sampler started */
	unsigned interfaces, interfaces_open;
	int linktype;			/* of the first open handle, -1 */

	/* Capture thread (sampler_stats). */
	uint64_t packets;		/* frames that passed the filter */
	uint64_t events;		/* decoded SYN/FIN/RST events pushed */
	uint64_t skipped[PACKET_SKIP_COUNT];	/* undecodable frames */
	uint64_t loopback_duplicates;	/* outgoing copies on lo (userspace
					   check; the filter drops most) */
	uint64_t ring_dropped;		/* ring full: event dropped */
	uint64_t kernel_received;	/* pcap_stats ps_recv, summed */
	uint64_t kernel_dropped;	/* pcap_stats ps_drop + ps_ifdrop */
	uint64_t reopens;		/* handles reopened after an error */
	uint64_t capture_errors;	/* pcap errors seen */

	/* Model thread. */
	uint64_t fed;			/* events fed to the model */
	uint64_t unsampled;		/* client not in the sample (local
					   <-> local flows; should be 0 else) */
	uint64_t foreign;		/* neither end a server address */
	uint64_t model_resets;		/* times the model state was dropped
					   and rebuilt: settings changes no
					   longer do that (they apply in place,
					   below), so 0 in this version */
	uint64_t settings_changes;	/* live settings changes applied to
					   the running model (nothing reset) */
	struct model_stats model;	/* sampled figures */
	uint64_t predicted_rejections;		/* x ratio */
	uint64_t by_reason[MODEL_NREASONS];	/* x ratio */
	uint64_t observed_unanswered_syns;	/* x ratio */
	uint64_t syns;				/* x ratio */
	double predicted_rejections_per_min;	/* x ratio, last minute (or
						   since start when shorter) */
	double window_s;			/* the window used */

	/* Refreshed every 2 s (each walks the model's source table). NAT:
	 * among the LIVE_NAT_SCAN busiest sources. */
	uint64_t nat_sources;		/* MODEL_NAT_HOSTS, >= 2 hosts */
	uint64_t per_connection_sources;	/* MODEL_NAT_PER_CONN */
	struct model_source top[LIVE_TOP_SOURCES];	/* by rejections,
							   then SYNs */
	size_t ntop;
	struct model_source nat[LIVE_TOP_SOURCES];	/* NAT sources, most
							   hosts first */
	size_t nnat;

	struct live_whatif_stats whatif[LIVE_MAX_WHATIF];
	unsigned nwhatif;

	/* The model's peer table against the kernel's tcp_metrics table,
	 * as of the last dump handed over (live_follow()). */
	struct tcpm_agreement tcpm_agreement;
};

#endif
