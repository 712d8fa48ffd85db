/*
 * Seeded random scenarios of server-side SYN/FIN/RST traffic, generated
 * in memory: NAT sources with several hosts, per-host clock rates and
 * offsets (or per-connection random offsets, 4.10-style), connection
 * rate, who closes first, SYNs without timestamps, IPv4/IPv6,
 * retransmissions and NAT port reuse (so TIME-WAIT collisions happen).
 * The same seed always gives the same events.
 */
#ifndef TWAUDIT_SYNTH_SCENARIO_H
#define TWAUDIT_SYNTH_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/tcp_event.h"

struct scen_params {
	unsigned nsources;	/* client addresses (NAT or not) */
	unsigned max_hosts;	/* hosts behind each source: 1..max_hosts */
	unsigned nconns;	/* connections in the capture */
	unsigned nservers;	/* server addresses (1 or 2) */
	unsigned port_pool;	/* client ports per source: small => reuse */
	double mean_gap_s;	/* mean time between connection starts */
	double p_server_closes;	/* server is the active closer */
	double p_client_rst;	/* connection ends by a client RST */
	double p_no_ts;		/* a host sends no TS option */
	double p_per_conn;	/* a host uses per-connection offsets */
	double p_retrans;	/* a SYN is retransmitted (1..4 times) */
	double p_tw_rst;	/* after a SYN on a reused port, a client RST
				   with seq = the old rcv_nxt */
	int family;		/* 4, 6, or 0 for both */
};

struct scenario {
	struct tcp_event *ev;
	size_t n, cap;
};

/* Parameters drawn at random from RNG (xorshift64 state, non-zero). */
void scen_random_params(uint64_t *rng, struct scen_params *p);
/* Generate into OUT (which scen_free releases). 0, or -1 on ENOMEM. */
int scen_generate(uint64_t seed, const struct scen_params *p,
    struct scenario *out);
void scen_free(struct scenario *s);
uint64_t scen_rand(uint64_t *rng);

#endif
