/*
 * TCP socket statistics from NETLINK_SOCK_DIAG (inet_diag), IPv4 and IPv6.
 *
 * One dump per family with every TCP state in the filter (TIME-WAIT and the
 * FIN-WAIT-2 timewait substate included) and INET_DIAG_INFO requested, so
 * that full sockets carry struct tcp_info (tcpi_options says whether
 * timestamps were negotiated). From it we keep:
 *   - sockets per state (as ss spells them);
 *   - TIME-WAIT sockets per local port (exact, 65536 counters in the
 *     accumulator; the result keeps the top SOCK_DIAG_TOP_PORTS);
 *   - ESTABLISHED sockets with and without timestamps;
 *   - TIME-WAIT sockets per remote address (bounded hash table of
 *     lim->max_remotes addresses; what does not fit is counted), the top
 *     SOCK_DIAG_TOP_REMOTES for JSON only (never metric labels).
 *
 * Parsing is separate from I/O: sock_diag_parse() takes the bytes of one or
 * more netlink messages (one recvmsg() worth) and walks them with libnl's
 * nlmsg_* / nla_* helpers; sock_diag_collect() does the dump with libnl's
 * socket API and feeds every datagram to sock_diag_parse().
 */
#ifndef TWAUDIT_SOCK_DIAG_H
#define TWAUDIT_SOCK_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/source.h"

/* TCP states as ss names them (underscores); index = kernel TCP_* value. */
enum sock_diag_state {
	SD_ESTABLISHED = 1, SD_SYN_SENT, SD_SYN_RECV, SD_FIN_WAIT1,
	SD_FIN_WAIT2, SD_TIME_WAIT, SD_CLOSE, SD_CLOSE_WAIT, SD_LAST_ACK,
	SD_LISTEN, SD_CLOSING,
	SD_NSTATES		/* 12: index 0 unused */
};
/* "established" ... "closing"; [0] is NULL. */
extern const char *const sock_diag_state_name[SD_NSTATES];

#define SOCK_DIAG_TOP_PORTS 10		/* local ports kept in the result */
#define SOCK_DIAG_TOP_REMOTES 10	/* remote addresses kept (JSON) */

/* Defaults of struct sock_diag_limits (0 there means these). */
#define SOCK_DIAG_MAX_ENTRIES (1u << 21)	/* sockets per collect */
#define SOCK_DIAG_TIMEOUT_MS 5000		/* whole collect */
#define SOCK_DIAG_MAX_REMOTES 4096		/* distinct remotes tracked */

struct sock_diag_limits {
	uint32_t max_entries;	/* sockets processed, both families */
	uint32_t timeout_ms;	/* for the whole collect */
	uint32_t max_remotes;	/* distinct TIME-WAIT remote addresses */
};

/* An address: family AF_INET (4 bytes used) or AF_INET6. IPv4-mapped
 * IPv6 addresses are stored as AF_INET. */
struct sock_diag_addr {
	uint8_t family;
	uint8_t addr[16];
};

struct sock_diag_port_count {
	uint16_t port;
	uint64_t count;
};

struct sock_diag_remote_count {
	struct sock_diag_addr addr;
	uint64_t count;
};

/* The plain result, copyable into a snapshot. */
struct sock_diag_stats {
	uint64_t state[SD_NSTATES];	/* sockets per state, both families */
	uint64_t state_other;		/* states we do not know */
	uint64_t sockets_v4, sockets_v6;
	uint64_t timewait;		/* == state[SD_TIME_WAIT] */
	/* ESTABLISHED sockets that carried INET_DIAG_INFO, and those of them
	 * with TCPI_OPT_TIMESTAMPS; ratio = est_ts / est_info (none if 0). */
	uint64_t est_info, est_ts;
	uint64_t timewait_ports;	/* local ports with >= 1 TIME-WAIT */
	size_t ntop_ports;
	struct sock_diag_port_count top_ports[SOCK_DIAG_TOP_PORTS];
	uint64_t timewait_remotes;	/* distinct remotes tracked */
	uint64_t remotes_untracked;	/* TW sockets whose remote did not fit */
	size_t ntop_remotes;
	struct sock_diag_remote_count top_remotes[SOCK_DIAG_TOP_REMOTES];
	/* Bounds: the dump stopped at max_entries (truncated); dropped is
	 * the number of sockets received and not counted (a lower bound of
	 * what the kernel still had). */
	bool truncated;
	uint64_t dropped;
	uint64_t foreign_msgs;		/* skipped: other seq/port */
	bool ipv6_absent;		/* AF_INET6 dump refused with ENOENT */
};

/* True when stats have a timestamp ratio to show. */
static inline bool
sock_diag_has_ts_ratio(const struct sock_diag_stats *s)
{
	return s->est_info > 0;
}

static inline double
sock_diag_ts_ratio(const struct sock_diag_stats *s)
{
	return s->est_info > 0 ? (double)s->est_ts / (double)s->est_info : 0;
}

/*
 * Accumulator for sock_diag_parse(): per-port counters, remote table,
 * totals. Opaque; sock_diag_acc_new() takes the limits (NULL: defaults).
 * It remembers which ports and remote slots it touched, so that
 * sock_diag_acc_result() and sock_diag_acc_reset() cost what was counted,
 * not the 65536 ports and the whole remote table.
 */
struct sock_diag_acc;

struct sock_diag_acc *sock_diag_acc_new(const struct sock_diag_limits *lim);
void sock_diag_acc_free(struct sock_diag_acc *acc);
/* Make ACC as sock_diag_acc_new() returned it (same limits), clearing only
 * what was touched: counts, remotes, expected seq/port, kernel error. */
void sock_diag_acc_reset(struct sock_diag_acc *acc);
/* Expect this sequence number and port id (0: accept any). Other messages
 * are skipped and counted in foreign_msgs. */
void sock_diag_acc_expect(struct sock_diag_acc *acc, uint32_t seq,
    uint32_t portid);
/* Error number the kernel sent in an NLMSG_ERROR (positive), 0 if none. */
int sock_diag_acc_kernel_error(const struct sock_diag_acc *acc);
/* 1 once max_entries sockets were counted (the caller stops the dump). */
int sock_diag_acc_full(const struct sock_diag_acc *acc);
/* Fill OUT (zeroed first) from ACC: totals, top ports, top remotes. The
 * tops are by count, descending; equal counts by port, ascending, and by
 * address (family, then bytes), so OUT depends only on what was counted,
 * not on the order of the dump. */
void sock_diag_acc_result(const struct sock_diag_acc *acc,
    struct sock_diag_stats *out);

#define SOCK_DIAG_PARSE_MORE 0	/* consumed; the dump goes on */
#define SOCK_DIAG_PARSE_DONE 1	/* NLMSG_DONE seen */

/*
 * Parse BUF (LEN bytes: whole netlink messages, as one recvmsg() returns)
 * of a SOCK_DIAG_BY_FAMILY dump into ACC. Returns SOCK_DIAG_PARSE_MORE,
 * SOCK_DIAG_PARSE_DONE, or -1 with ERR: a message cut short, a length or
 * attribute that does not add up, an unexpected message type, or an
 * NLMSG_ERROR (then sock_diag_acc_kernel_error() is its errno). Sockets
 * counted before the error stay counted. Never reads outside BUF.
 */
int sock_diag_parse(const void *buf, size_t len, struct sock_diag_acc *acc,
    char *err, size_t errlen);

/*
 * Dump TCP sockets (IPv4, then IPv6) of the caller's network namespace
 * into OUT (zeroed first). LIM may be NULL (defaults). Returns the state:
 * SOURCE_OK (OUT complete, or truncated at max_entries: see OUT),
 * SOURCE_UNAVAILABLE (EPERM/EACCES from socket() or the kernel),
 * SOURCE_FAILED (timeout, garbled reply, other errors); ERR says why when
 * not ok. On failure OUT holds what was counted before.
 */
enum source_state sock_diag_collect(struct sock_diag_stats *out,
    const struct sock_diag_limits *lim, char *err, size_t errlen);

/* Format ADDR as text ("192.0.2.1", "2001:db8::1") into OUT. */
void sock_diag_addr_format(const struct sock_diag_addr *addr, char *out,
    size_t outlen);

#endif
