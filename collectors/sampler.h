/*
 * The live sampler: libpcap captures the server's SYN/FIN/RST segments on
 * one or more interfaces, a kernel BPF filter keeps 1 in N client
 * addresses, and the capture thread hands them, as tcp_events, to one
 * consumer (live mode's model thread, live.h) through a bounded ring.
 *
 *   capture thread --(bounded SPSC ring of struct tcp_event)--> consumer
 *
 * The capture thread polls every pcap handle, drops the loopback copies
 * seen twice on "any", decodes each frame (packet_decode) and pushes the
 * event; when the ring is full the event is dropped and counted, nothing
 * is ever queued without bound. It also reads pcap_stats (kernel drops)
 * and reopens a handle whose interface went away, with backoff.
 *
 * The consumer decides the direction (to_server): the sampler knows the
 * server addresses (sampler_servers()) but no model. The capture figures
 * are published a few times a second; sampler_read() copies them under
 * a mutex (cheap).
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

#include "collectors/packet.h"
#include "lib/tcp_event.h"

#define SAMPLER_MAX_INTERFACES	16	/* --sampler.interface */
#define SAMPLER_MAX_SERVERS	64	/* server addresses (filter size:
					   each costs 2 x ~10 BPF insns of
					   the kernel's 4096) */
#define SAMPLER_MAX_RATIO	256	/* last-byte test: at most 8 bits */
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

/* The sampler's thread, for sampler_config.thread_hook (the model
 * thread is live mode's, live.h). */
enum sampler_thread {
	SAMPLER_THREAD_CAPTURE,	/* libpcap handles: polls, reads, reopens */
};

struct sampler_config {
	bool enabled;			/* false: state unavailable, why said */
	/* Called by the capture thread, on itself, at the top of every
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
};

/* enabled, "any", ratio 1, default ring. */
struct sampler_config sampler_config_default(void);

struct sampler_stats {
	enum sampler_state state;
	char error[SAMPLER_ERR_LEN];	/* why unavailable/failed, or a
					   warning while ok ("" if none) */
	unsigned ratio;
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
 * Open the handles, install the filter and start the capture thread.
 * Returns 0 when it runs (an interface that is missing or down is retried
 * with backoff; the state is `failed` while none is open), or -1 with ERR
 * and the state set: unavailable (disabled, EPERM/no CAP_NET_RAW) or
 * failed (no server address, filter refused, thread creation). Calling it
 * twice is an error.
 */
int sampler_start(struct sampler *s, char *err, size_t errlen);

/* Thread-safe copy of the current figures (cheap). */
void sampler_read(struct sampler *s, struct sampler_stats *out);

/*
 * The server addresses the filter watches (the configured ones, or the
 * local addresses found by sampler_start()): *OUT points at them, valid
 * and unchanged until sampler_free(); returns how many (0 before start).
 */
size_t sampler_servers(const struct sampler *s,
    const struct sampler_addr **out);

/*
 * The consumer's side of the ring (one thread): the next event, 1, or 0
 * when the ring is empty. Events pushed before sampler_stop() stay
 * readable after it, until sampler_free().
 */
int sampler_next(struct sampler *s, struct tcp_event *ev);

/*
 * Nothing to read: sleep until the capture thread pushes, sampler_wake()
 * is called, or TIMEOUT_MS pass. Returns 1 with EV when an event arrived
 * before the sleep began (no wake-up is lost), else 0.
 */
int sampler_wait(struct sampler *s, struct tcp_event *ev, int timeout_ms);

/* Wake the consumer from sampler_wait() (any thread). */
void sampler_wake(struct sampler *s);

/* The filter installed on the first open handle ("" before). */
void sampler_filter(struct sampler *s, char *out, size_t outlen);

/*
 * Stop the capture thread (within about a second: it polls with a 200 ms
 * timeout) and close the handles; the last figures stay readable with
 * sampler_read(), the events left in the ring with sampler_next().
 * Idempotent.
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
