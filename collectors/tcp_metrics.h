/*
 * The kernel's TCP peer table through the "tcp_metrics" generic netlink
 * family (3.7+; docs/kernel.md §8.1): TCP_METRICS_CMD_GET dump.
 *
 * Per peer the kernel sends its address (and, on newer kernels, the local
 * source address), the entry's age in ms and, on 3.7-4.11 and only for
 * peers with a recorded stamp, TW_TSVAL and TW_TS_STAMP: the two inputs of
 * the tw_recycle passive check. A stamp younger than 60 s
 * (TCP_METRICS_FRESH_S) can make the kernel drop a SYN from that peer.
 *
 * States (the reader's return): SOURCE_OK where the family exists, with or
 * without the TW attributes (4.12+ never sends them: has_tw_attrs stays
 * false and recent_stamps is meaningless there); SOURCE_NOT_APPLICABLE only
 * where the family is missing (before 3.7); SOURCE_UNAVAILABLE on EPERM /
 * EACCES (3.7-4.11 need CAP_NET_ADMIN); SOURCE_FAILED for garbled replies,
 * timeouts and other errors.
 */
#ifndef TWAUDIT_TCP_METRICS_H
#define TWAUDIT_TCP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "collectors/sock_diag.h"	/* struct sock_diag_addr */
#include "lib/source.h"

#define TCP_METRICS_FRESH_S 60		/* TCP_PAWS_MSL */
#define TCP_METRICS_MAX_RECENT 1024	/* recent stamps kept in the list */
#define TCP_METRICS_MAX_LISTED 64	/* first peers kept, for JSON */

/* Defaults of struct tcp_metrics_limits (0 there means these). */
#define TCP_METRICS_MAX_ENTRIES (1u << 20)	/* peers per collect */
#define TCP_METRICS_TIMEOUT_MS 5000		/* whole collect */

struct tcp_metrics_limits {
	uint32_t max_entries;
	uint32_t timeout_ms;
};

/* One peer entry. */
struct tcp_metrics_entry {
	struct sock_diag_addr addr;	/* the peer */
	struct sock_diag_addr saddr;	/* local source; family 0 if absent */
	uint64_t age_ms;		/* AGE: since the entry's update */
	bool has_tw;			/* the two below were sent */
	uint32_t tsval;			/* TW_TSVAL: last TSval seen */
	int32_t stamp_age_s;		/* TW_TS_STAMP: seconds since */
};

struct tcp_metrics_stats {
	uint64_t peers;			/* entries in the dump */
	uint64_t peers_v4, peers_v6;
	bool has_tw_attrs;		/* some entry carried TW_* */
	uint64_t tw_peers;		/* entries with TW_* */
	uint64_t recent_stamps;		/* of those, stamp < 60 s */
	/* Entries whose TW_TS_STAMP is younger than TCP_METRICS_FRESH_S (to
	 * compare with the model's table, tcpm_kpeers_from_dump()), in
	 * dump order. */
	size_t nrecent;
	struct tcp_metrics_entry recent[TCP_METRICS_MAX_RECENT];
	uint64_t recent_dropped;	/* recent stamps not kept in the list */
	/* The first TCP_METRICS_MAX_LISTED entries of the dump (JSON). */
	size_t nlisted;
	struct tcp_metrics_entry listed[TCP_METRICS_MAX_LISTED];
	/* The dump stopped at max_entries; dropped = entries received and
	 * not counted (a lower bound). */
	bool truncated;
	uint64_t dropped;
	uint64_t foreign_msgs;		/* skipped: other seq/port */
	double dump_wall;		/* wall-clock time the dump ended (the
					   ages above are as of then); 0 when
					   none was made */

	/* Parse state, not results: set by the reader before parsing
	 * (0 = accept any / default), kernel_error set by the parser. */
	uint32_t expect_seq, expect_portid;
	uint32_t max_entries;
	int kernel_error;		/* errno of an NLMSG_ERROR, or 0 */
};

#define TCP_METRICS_PARSE_MORE 0
#define TCP_METRICS_PARSE_DONE 1

/*
 * Parse BUF (LEN bytes of whole netlink messages, one recvmsg() worth) of
 * a TCP_METRICS_CMD_GET dump whose messages have type FAMILY_ID into ACC
 * (zero it before the first call). Returns TCP_METRICS_PARSE_MORE,
 * TCP_METRICS_PARSE_DONE (NLMSG_DONE seen), or -1 with ERR for a garbled
 * reply or an NLMSG_ERROR (acc->kernel_error = its errno). Never reads
 * outside BUF.
 */
int tcp_metrics_parse(const void *buf, size_t len, int family_id,
    struct tcp_metrics_stats *acc, char *err, size_t errlen);

/*
 * Resolve the family and dump the table of the caller's network namespace
 * into OUT (zeroed first). LIM may be NULL. Returns the source state (see
 * above); ERR says why when not ok.
 */
enum source_state tcp_metrics_collect(struct tcp_metrics_stats *out,
    const struct tcp_metrics_limits *lim, char *err, size_t errlen);

/* State for a genl_ctrl_resolve() result (>= 0: the family id). */
enum source_state tcp_metrics_resolve_state(int rc);

#endif
