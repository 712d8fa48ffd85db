/*
 * Model throughput: events/s of model_feed() on one core, with N distinct
 * client addresses, and the bytes per peer entry.
 *
 *   bench-model [SOURCES [EVENTS [PROFILE [MODE [MIX]]]]]
 *
 * MODE "one" (default) times model_feed() per event; "many" times
 * model_feed_many() over the whole array (same decisions, prefetching
 * ahead); "both" runs each on a fresh model and prints two lines.
 *
 * MIX "conn" (default; the fixed mix all figures are compared on) is
 * described below. MIX "flood" is a second, harsher mix, closer to a
 * capture under attack (bench/replay.sh): every connection as in "conn"
 * is followed by 4 spoofed SYNs, each from a new random address and port
 * and never answered, so half the events are SYNs that evict from the
 * connection and source tables. Lines are labelled mix=conn / mix=flood.
 *
 * Events are generated in memory first (not timed): connections from
 * SOURCES addresses chosen at random, 1 kHz TS clocks with a random offset
 * per address, server closing first half of the time (TIME-WAIT + peer
 * stamp with tcp_tw_recycle=1 on the 4.1-4.11 default profile), each
 * connection = SYN, SYN-ACK, FIN, FIN. Table caps are sized to SOURCES
 * (peers and sources = SOURCES, connections = 2 x SOURCES), so the tables
 * are as big as the address population. Prints one line of figures.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model.h"

static uint64_t
rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: excludes time the shared core ran others. */
static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
mk(struct tcp_event *e, uint64_t t, uint32_t src, int to_server,
    uint8_t flags, uint16_t cport, uint32_t seq, uint32_t tsval)
{
	memset(e, 0, sizeof(*e));
	e->time_us = t;
	e->family = 4;
	e->flags = flags;
	e->to_server = (uint8_t)to_server;
	e->has_ts = 1;
	e->seq = seq;
	e->tsval = tsval;
	uint8_t c[4] = { (uint8_t)(11 + (src >> 24)), (uint8_t)(src >> 16),
		(uint8_t)(src >> 8), (uint8_t)src };
	uint8_t s[4] = { 10, 0, 0, 1 };
	memcpy(to_server ? e->src : e->dst, c, 4);
	memcpy(to_server ? e->dst : e->src, s, 4);
	e->sport = to_server ? cport : 443;
	e->dport = to_server ? 443 : cport;
}

int
main(int argc, char **argv)
{
	unsigned long nsrc = argc > 1 ? strtoul(argv[1], NULL, 0) : 65536;
	unsigned long nev = argc > 2 ? strtoul(argv[2], NULL, 0) : 8000000;
	const char *prof = argc > 3 ? argv[3] : "4.1-4.11";
	const char *mode = argc > 4 ? argv[4] : "one";
	const char *mix = argc > 5 ? argv[5] : "conn";
	bool flood = strcmp(mix, "flood") == 0;
	struct model_config cfg = model_config_default();
	struct tcp_event *ev;
	struct model *m;
	struct model_stats st;
	uint64_t rng = 88172645463325252ull, t = 1700000000ull * 1000000ull;
	uint32_t *off;
	char err[256];
	size_t n = 0;
	cpu_set_t one;

	if (nsrc == 0 || nsrc > MODEL_CAP_LIMIT / 2 || nev < (flood ? 8 : 4)) {
		fprintf(stderr, "usage: bench-model [SOURCES [EVENTS [PROFILE "
		    "[MODE [MIX]]]]]\n");
		return 1;
	}
	if (!flood && strcmp(mix, "conn") != 0) {
		fprintf(stderr, "bench-model: MIX is conn or flood\n");
		return 1;
	}
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
	sched_setaffinity(0, sizeof(one), &one);	/* one core */

	if (model_profile_from_version(prof, &cfg, err, sizeof(err)) < 0 ||
	    model_config_set(&cfg, "net.ipv4.tcp_tw_recycle=1", err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "bench-model: %s\n", err);
		return 1;
	}
	cfg.max_peers = (uint32_t)nsrc;
	cfg.max_sources = (uint32_t)nsrc;
	cfg.max_connections = (uint32_t)(2 * nsrc);

	ev = malloc(nev * sizeof(*ev));
	off = malloc(nsrc * sizeof(*off));
	if (ev == NULL || off == NULL)
		return 1;
	for (unsigned long i = 0; i < nsrc; i++)
		off[i] = (uint32_t)rnd(&rng);
	/* 200 000 connections/s: 4 events each, 5 us apart. */
	while (n + (flood ? 8 : 4) <= nev) {
		uint32_t s = (uint32_t)(rnd(&rng) % nsrc);
		uint16_t cp = (uint16_t)(1024 + rnd(&rng) % 60000);
		uint32_t isn = (uint32_t)rnd(&rng);
		uint32_t ts = off[s] + (uint32_t)(t / 1000);
		bool server_first = rnd(&rng) & 1;

		mk(&ev[n++], t, s, 1, TCPF_SYN, cp, isn, ts);
		mk(&ev[n++], t + 1, s, 0, TCPF_SYN | TCPF_ACK, cp, 7, 1);
		mk(&ev[n++], t + 2, s, !server_first, TCPF_FIN | TCPF_ACK, cp,
		    isn + 100, ts + 1);
		mk(&ev[n++], t + 3, s, server_first, TCPF_FIN | TCPF_ACK, cp,
		    isn + 100, ts + 1);
		t += 5;
		/* Spoofed SYNs: addresses outside the SOURCES population
		 * (first octet 11 or 12 there, 128-255 here). */
		for (int k = 0; flood && k < 4; k++) {
			uint32_t a = (uint32_t)rnd(&rng) | 0x80000000u;

			mk(&ev[n], t, 0, 1, TCPF_SYN,
			    (uint16_t)(1024 + rnd(&rng) % 60000),
			    (uint32_t)rnd(&rng), (uint32_t)rnd(&rng));
			ev[n].src[0] = (uint8_t)(a >> 24);
			ev[n].src[1] = (uint8_t)(a >> 16);
			ev[n].src[2] = (uint8_t)(a >> 8);
			ev[n].src[3] = (uint8_t)a;
			n++;
			t += 1;
		}
	}

	if (strcmp(mode, "one") != 0 && strcmp(mode, "many") != 0 &&
	    strcmp(mode, "both") != 0) {
		fprintf(stderr, "bench-model: MODE is one, many or both\n");
		return 1;
	}
	for (int pass = 0; pass < 2; pass++) {
	bool many = pass == 1;
	if ((many && strcmp(mode, "one") == 0) ||
	    (!many && strcmp(mode, "many") == 0))
		continue;
	if ((m = model_new(&cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench-model: %s\n", err);
		return 1;
	}
	/* Warm the tables with the first quarter, then time the rest. */
	size_t warm = n / 4;
	for (size_t i = 0; i < warm; i++)
		model_feed(m, &ev[i], NULL);
	double t0 = now(), c0 = cpu_now();
	if (many)
		model_feed_many(m, &ev[warm], n - warm, NULL);
	else
		for (size_t i = warm; i < n; i++)
			model_feed(m, &ev[i], NULL);
	double el = now() - t0, cel = cpu_now() - c0;
	model_stats(m, &st);

	size_t bound = model_memory_bound(&cfg);
	printf("mode=%s mix=%s sources=%lu events=%zu profile=%s "
	    "Mevents_per_s=%.2f "
	    "ns_per_event=%.1f cpu_Mevents_per_s=%.2f cpu_ns_per_event=%.1f "
	    "peer_entry_bytes=%zu peer_bytes_incl_bucket=%.1f "
	    "conn_entry_bytes=%zu source_entry_bytes=%zu memory_bound_MB=%.1f "
	    "peers=%llu connections=%llu sources=%llu rejections=%llu "
	    "evictions=%llu/%llu/%llu\n", many ? "many" : "one", mix, nsrc,
	    n - warm,
	    model_profile_name(cfg.profile), (double)(n - warm) / el / 1e6,
	    el * 1e9 / (double)(n - warm), (double)(n - warm) / cel / 1e6,
	    cel * 1e9 / (double)(n - warm), model_peer_entry_size(),
	    (double)model_peer_entry_size() + 8.0 *	/* tcp_metrics tag word */
	    (double)(cfg.max_peers / 6 ? cfg.max_peers / 6 : 1) /
	    (double)cfg.max_peers, model_conn_entry_size(),
	    model_source_entry_size(), (double)bound / 1e6,
	    (unsigned long long)st.peers,
	    (unsigned long long)st.tracked_connections,
	    (unsigned long long)st.sources,
	    (unsigned long long)st.predicted_rejections,
	    (unsigned long long)st.evictions[MODEL_T_PEERS],
	    (unsigned long long)st.evictions[MODEL_T_CONNECTIONS],
	    (unsigned long long)st.evictions[MODEL_T_SOURCES]);
	model_free(m);
	}
	free(ev);
	free(off);
	return 0;
}
