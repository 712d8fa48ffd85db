/*
 * The live sampler: libpcap captures the server's SYN/FIN/RST segments on
 * one or more interfaces, a kernel BPF filter keeps 1 in N client
 * addresses, and a model thread feeds them to the peer-table model
 * (model.h) configured for the running kernel and its live settings.
 *
 *   capture thread --(bounded SPSC ring of struct tcp_event)--> model thread
 *
 * The capture thread polls every pcap handle, drops the loopback copies
 * seen twice on "any", decodes each frame (packet_decode) and pushes the
 * event; when the ring is full the event is dropped and counted, nothing
 * is ever queued without bound. It also reads pcap_stats (kernel drops)
 * and reopens a handle whose interface went away, with backoff.
 *
 * The model thread decides the direction (to_server) from the server
 * address set, re-checks the client sample, feeds the model (and the
 * optional what-if models) and publishes a copy of its figures a few
 * times a second; sampler_read() copies that under a mutex (cheap).
 *
 * Client-consistent sampling: the client address is the source of packets
 * to a server address and the destination of packets from one; a client
 * is kept when (last byte of its address) & (ratio - 1) == 0, IPv4 and
 * IPv6 alike, so every connection of a kept client is seen whole and NAT
 * clock clustering keeps working. Estimates are scaled by the ratio.
 *
 * Nothing here prints: errors go into caller buffers or the stats.
 */
#ifndef TWAUDIT_SAMPLER_H
#define TWAUDIT_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "packet.h"
#include "tcp_event.h"
#include "tcp_metrics.h"

#define SAMPLER_MAX_INTERFACES	16	/* --sampler.interface */
#define SAMPLER_MAX_SERVERS	64	/* server addresses (filter size:
					   each costs 2 x ~10 BPF insns of
					   the kernel's 4096) */
#define SAMPLER_MAX_RATIO	256	/* last-byte test: at most 8 bits */
#define SAMPLER_MAX_WHATIF	2	/* what-if models */
#define SAMPLER_TOP_SOURCES	16	/* top sources copied out (JSON) */
#define SAMPLER_NAT_SCAN	1024	/* busiest sources scanned for NAT */
#define SAMPLER_FILTER_MAX	16384	/* filter string, with its NUL */
#define SAMPLER_ERR_LEN		256
#define SAMPLER_DEFAULT_RING	32768	/* events (~80 B each) */
/*
 * Snapshot length: the largest link header we decode in front of IP
 * (SLL2 20 B; Ethernet 14 B + one VLAN tag 4 B = 18 B), then an IP header
 * of up to 60 B (IPv4 with options; IPv6 40 B + 20 B of extension
 * headers), then a TCP header with all its options (60 B). 20+60+60 =
 * 140, rounded up to 144. A longer IPv6 extension chain cuts the TCP
 * options: the decoder flags the event (opts_truncated) and keeps it.
 */
#define SAMPLER_SNAPLEN		144
#define SAMPLER_BUFFER_BYTES	(4 * 1024 * 1024)	/* per handle */
#define SAMPLER_TIMEOUT_MS	100	/* TPACKET_V3 block timeout */
#define SAMPLER_REOPEN_MIN_S	1.0	/* reopen backoff: 1 s doubling */
#define SAMPLER_REOPEN_MAX_S	30.0	/* ... up to 30 s */
#define SAMPLER_FLOW_SLOTS	4096	/* direction cache, local<->local */

enum sampler_state {
	SAMPLER_OK,
	SAMPLER_UNAVAILABLE,	/* disabled, or no CAP_NET_RAW (EPERM) */
	SAMPLER_FAILED,		/* interface missing, filter refused... */
	SAMPLER_NSTATES
};
/* "ok", "unavailable", "failed" (the source.h state names). */
const char *sampler_state_name(enum sampler_state s);

struct sampler_addr {
	uint8_t family;		/* 4 or 6 */
	uint8_t addr[16];	/* network order; IPv4 in the first 4 bytes */
};

/* Parse "192.0.2.1", "2001:db8::1", "fe80::1%eth0" (scope dropped). */
int sampler_addr_parse(const char *s, struct sampler_addr *out);
/* Format into OUT (INET6_ADDRSTRLEN is enough). */
void sampler_addr_format(const struct sampler_addr *a, char *out,
    size_t outlen);

/* A what-if model: another profile and/or other settings. */
struct sampler_whatif {
	enum model_profile profile;
	int32_t setting[MODEL_NSETTINGS];	/* enum model_setting */
	/* Bit (1 << enum model_setting): this setting follows the live
	 * value (sampler_set_settings(), from the start); the others keep
	 * the what-if value above. */
	uint8_t follow;
};

/* The sampler's two threads, for sampler_config.thread_hook. */
enum sampler_thread {
	SAMPLER_THREAD_CAPTURE,	/* libpcap handles: polls, reads, reopens */
	SAMPLER_THREAD_MODEL,	/* the models: memory and locks only */
};

struct sampler_config {
	bool enabled;			/* false: state unavailable, why said */
	/* Called by each sampler thread, on itself, at the top of every
	 * loop turn (so at least every 200 ms): serve uses it to narrow the
	 * thread's seccomp allow-list to its role once the process-wide
	 * filter is on. Must be cheap when there is nothing to do. NULL:
	 * none. */
	void (*thread_hook)(enum sampler_thread which);
	/* Interface names; none = "any". Copied by sampler_new(). */
	const char *interface[SAMPLER_MAX_INTERFACES];
	unsigned ninterfaces;
	/* Server addresses ("192.0.2.1", "2001:db8::1"); none = every
	 * local address from getifaddrs() at sampler_start(). Copied. */
	const char *server[SAMPLER_MAX_SERVERS];
	unsigned nservers;
	unsigned ratio;			/* 1 in N clients; power of two */
	unsigned ring_slots;		/* 0: SAMPLER_DEFAULT_RING */
	/* Profile, settings (tw_recycle, timestamps, rfc1337 as the caller
	 * read them) and table caps. Scheduled changes are ignored. */
	struct model_config model;
	struct sampler_whatif whatif[SAMPLER_MAX_WHATIF];
	unsigned nwhatif;
};

/* enabled, "any", ratio 1, default ring, model_config_default(). */
struct sampler_config sampler_config_default(void);

/*
 * The kernel's peer table (tcp_metrics, 3.7-4.11) against the model's:
 * both sides are the peers whose stamp is fresh at the dump's second S
 * by the passive check's test ((u32)(S - stamp) < 60), whose client is
 * sampled (sampler_client_sampled()) and whose stamp was stored after the
 * sampler started (the model cannot know older ones). Keys as the
 * running profile's peer table: (server, client) from 3.13, else the
 * client alone.
 */
#define SAMPLER_TCPM_PEERS	1024	/* kernel peers compared, at most */
#define SAMPLER_AGREE_GRACE_S	0.5	/* events up to the dump: let them
					   reach the model first */
#define SAMPLER_AGREE_LOW	0.8	/* below: /advice shows it */
#define SAMPLER_AGREE_MIN_PEERS	10	/* ... when this many compared */

/* One kernel tcp_metrics peer with a TW stamp. */
struct sampler_kpeer {
	uint8_t family;		/* 4 or 6 */
	bool has_server;	/* the kernel sent the local address (3.13+) */
	uint8_t client[16];
	uint8_t server[16];
	uint32_t tsval;		/* TW_TSVAL */
	uint32_t stamp;		/* wall-clock second: dump second - TW_TS_STAMP */
};

struct sampler_agreement {
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
				   cut (more than SAMPLER_TCPM_PEERS) */
};

struct sampler_whatif_stats {
	char profile[16];
	int32_t setting[MODEL_NSETTINGS];	/* in force now */
	uint64_t predicted_rejections;		/* scaled by the ratio */
	uint64_t by_reason[MODEL_NREASONS];	/* scaled */
	double predicted_rejections_per_min;	/* scaled */
};

struct sampler_stats {
	enum sampler_state state;
	char error[SAMPLER_ERR_LEN];	/* why unavailable/failed, or a
					   warning while ok ("" if none) */
	unsigned ratio;
	char profile[16];		/* model profile name */
	int32_t setting[MODEL_NSETTINGS];	/* in force now */
	double uptime_s;		/* since sampler_start() */
	unsigned interfaces, interfaces_open;
	int linktype;			/* of the first open handle, -1 */

	/* Capture thread. */
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
	struct model_stats model;	/* sampled figures, cumulative over
					   resets (peers etc.: current) */
	uint64_t predicted_rejections;		/* x ratio */
	uint64_t by_reason[MODEL_NREASONS];	/* x ratio */
	uint64_t observed_unanswered_syns;	/* x ratio */
	uint64_t syns;				/* x ratio */
	double predicted_rejections_per_min;	/* x ratio, last minute (or
						   since start when shorter) */
	double window_s;			/* the window used */

	/* Refreshed every 2 s (each walks the model's source table). NAT:
	 * among the SAMPLER_NAT_SCAN busiest sources. */
	uint64_t nat_sources;		/* MODEL_NAT_HOSTS, >= 2 hosts */
	uint64_t per_connection_sources;	/* MODEL_NAT_PER_CONN */
	struct model_source top[SAMPLER_TOP_SOURCES];	/* by rejections,
							   then SYNs */
	size_t ntop;
	struct model_source nat[SAMPLER_TOP_SOURCES];	/* NAT sources, most
							   hosts first */
	size_t nnat;

	struct sampler_whatif_stats whatif[SAMPLER_MAX_WHATIF];
	unsigned nwhatif;

	/* The model's peer table against the kernel's tcp_metrics table,
	 * as of the last dump handed over (sampler_set_kernel_peers()). */
	struct sampler_agreement tcpm_agreement;
};

struct sampler;

/*
 * Check CFG and copy it. NULL with a message in ERR on a bad config
 * (ratio not a power of two, too many interfaces, unparsable server
 * address...) or allocation failure. A disabled sampler is created (its
 * state says why).
 */
struct sampler *sampler_new(const struct sampler_config *cfg, char *err,
    size_t errlen);

/*
 * Open the handles, install the filter and start the threads. Returns 0
 * when the threads run (an interface that is missing or down is retried
 * with backoff; the state is `failed` while none is open), or -1 with ERR
 * and the state set: unavailable (disabled, EPERM/no CAP_NET_RAW) or
 * failed (no server address, filter refused, thread creation). Calling it
 * twice is an error.
 */
int sampler_start(struct sampler *s, char *err, size_t errlen);

/* Thread-safe copy of the current figures (cheap). */
void sampler_read(struct sampler *s, struct sampler_stats *out);

/*
 * New live settings (tw_recycle, timestamps, rfc1337; -1 keeps one). When
 * one changes, the model thread applies it to the running model at its
 * current time (model_set_setting(), as a scheduled change in replay) and
 * to the what-if models that follow that setting: nothing is forgotten,
 * as in the kernel (peer stamps, TIME-WAITs); settings_changes counts it.
 */
void sampler_set_settings(struct sampler *s, int tw_recycle, int timestamps,
    int rfc1337);

/*
 * The kernel's tcp_metrics peers with a TW stamp from the dump made at
 * wall-clock time DUMP_WALL (N of them, copied; at most
 * SAMPLER_TCPM_PEERS are kept). COMPLETE false: the kernel had more
 * recent stamps than the list holds, so no comparison is made. P NULL:
 * the kernel has no TW stamps to compare (4.12+, or no dump): the
 * agreement is withdrawn. The model thread compares once the events
 * captured up to the dump have been fed (the first later event, or
 * SAMPLER_AGREE_GRACE_S after it), and publishes tcpm_agreement.
 */
void sampler_set_kernel_peers(struct sampler *s,
    const struct sampler_kpeer *p, size_t n, bool complete, double dump_wall);

/*
 * The fresh stamps of a tcp_metrics dump T (kernel-semantics.md §8.1:
 * 0 <= TW_TS_STAMP < 60), as kernel peers for sampler_set_kernel_peers():
 * at most MAX into OUT; returns how many. *COMPLETE false when T's list
 * or OUT was too short for all of them.
 */
size_t sampler_kpeers_from_tcp_metrics(const struct tcp_metrics_stats *t,
    struct sampler_kpeer *out, size_t max, bool *complete);

/* The filter installed on the first open handle ("" before). */
void sampler_filter(struct sampler *s, char *out, size_t outlen);

/*
 * Stop the threads (within about a second: the capture thread polls with
 * a 200 ms timeout) after the model thread has drained the ring; the last
 * figures stay readable with sampler_read(). Idempotent.
 */
void sampler_stop(struct sampler *s);

/* sampler_stop(), close and free. NULL ok. */
void sampler_free(struct sampler *s);

/* ---------------------------------------------------------------------
 * Pieces exposed for the tests.
 */

/*
 * Build the live BPF filter for LINKTYPE (DLT_EN10MB, DLT_LINUX_SLL,
 * DLT_LINUX_SLL2, DLT_RAW): TCP with SYN, FIN or RST (IPv6: ip6[53] when
 * the next header is TCP; a first extension header passes, the decoder
 * checks the flags), to or from one of SERVERS, whose client address
 * (the other end) has (last byte & (RATIO - 1)) == 0. With LO_IFINDEX > 0
 * on DLT_LINUX_SLL2, outgoing packets on that interface are dropped (the
 * loopback copy seen twice on "any"; SLL2 keeps pkttype and ifindex,
 * which libpcap maps to kernel BPF extensions). Returns 0, or -1 (no
 * server, bad ratio, unsupported link type, OUT too small).
 */
int sampler_filter_build(int linktype, const struct sampler_addr *servers,
    size_t nservers, unsigned ratio, int lo_ifindex, char *out,
    size_t outlen);

/*
 * 1 when FRAME (link type LINKTYPE) is the outgoing copy of a loopback
 * packet on a cooked ("any") capture: SLL with packet type OUTGOING (4)
 * and ARPHRD_LOOPBACK (772), or SLL2 likewise (or its ifindex equal to
 * LO_IFINDEX when > 0). The incoming copy follows and is the one counted.
 */
int sampler_loopback_duplicate(int linktype, const uint8_t *frame,
    size_t caplen, int lo_ifindex);

/* Client test of the filter, for an address of FAMILY. */
static inline bool
sampler_client_sampled(uint8_t family, const uint8_t addr[16], unsigned ratio)
{
	return ratio <= 1 || (addr[family == 4 ? 3 : 15] & (ratio - 1)) == 0;
}

/* What the comparison needs besides the two tables. */
struct sampler_agree_in {
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
void sampler_agreement_compute(const struct model *m,
    const struct sampler_agree_in *in, struct sampler_kpeer *k, size_t nk,
    struct sampler_agreement *out);

/* Single-producer single-consumer ring of events; fixed capacity. */
struct sampler_ring;
/* SLOTS rounded up to a power of two (>= 2). NULL on failure. */
struct sampler_ring *sampler_ring_new(size_t slots);
void sampler_ring_free(struct sampler_ring *r);
size_t sampler_ring_capacity(const struct sampler_ring *r);
/* 0, or -1 when full (the event is dropped and counted). Producer only. */
int sampler_ring_push(struct sampler_ring *r, const struct tcp_event *ev);
/* 1 with an event, 0 when empty. Consumer only. */
int sampler_ring_pop(struct sampler_ring *r, struct tcp_event *ev);
uint64_t sampler_ring_dropped(const struct sampler_ring *r);

#endif
