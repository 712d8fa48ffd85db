/*
 * The curated /proc/net/netstat and /proc/net/snmp counters.
 * One X-macro row per counter: id, group ("TcpExt" or "Tcp"), the kernel's
 * field name, our metric suffix, whether it is a gauge, and its help text.
 */
#ifndef TWAUDIT_COUNTERS_H
#define TWAUDIT_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COUNTER_LIST(X) \
	X(PAWS_PASSIVE, "TcpExt", "PAWSPassive", "paws_passive", false, \
	    "Passive connections rejected because of timestamp (tw_recycle per-peer check).") \
	X(PAWS_ACTIVE, "TcpExt", "PAWSActive", "paws_active", false, \
	    "Active connections rejected because of timestamp.") \
	X(PAWS_ESTAB, "TcpExt", "PAWSEstab", "paws_estab", false, \
	    "Packets rejected in established connections because of timestamp (and TIME-WAIT before 6.16).") \
	X(PAWS_TIMEWAIT, "TcpExt", "PAWSTimewait", "paws_timewait", false, \
	    "Packets rejected by a TIME-WAIT socket because of timestamp (6.16+).") \
	X(PAWS_OLD_ACK, "TcpExt", "PAWSOldAck", "paws_old_ack", false, \
	    "Old ACKs rejected because of timestamp.") \
	X(TSECR_REJECTED, "TcpExt", "TSEcrRejected", "tsecr_rejected", false, \
	    "Packets rejected because of an invalid TSecr.") \
	X(LISTEN_DROPS, "TcpExt", "ListenDrops", "listen_drops", false, \
	    "SYNs to LISTEN sockets dropped.") \
	X(LISTEN_OVERFLOWS, "TcpExt", "ListenOverflows", "listen_overflows", false, \
	    "Times the listen queue of a socket overflowed.") \
	X(TW, "TcpExt", "TW", "tw", false, \
	    "TCP sockets finished time wait in fast timer.") \
	X(TW_RECYCLED, "TcpExt", "TWRecycled", "tw_recycled", false, \
	    "TIME-WAIT sockets recycled by time stamp.") \
	X(TW_KILLED, "TcpExt", "TWKilled", "tw_killed", false, \
	    "TCP sockets finished time wait in slow timer.") \
	X(TIMEWAIT_OVERFLOW, "TcpExt", "TCPTimeWaitOverflow", "timewait_overflow", false, \
	    "TIME-WAIT sockets not created because tcp_max_tw_buckets was reached.") \
	X(ACK_SKIPPED_TIMEWAIT, "TcpExt", "TCPACKSkippedTimeWait", "ack_skipped_timewait", false, \
	    "TIME-WAIT ACKs suppressed by the rate limit.") \
	X(SYNCOOKIES_SENT, "TcpExt", "SyncookiesSent", "syncookies_sent", false, \
	    "SYN cookies sent.") \
	X(SYNCOOKIES_FAILED, "TcpExt", "SyncookiesFailed", "syncookies_failed", false, \
	    "Invalid SYN cookies received.") \
	X(ACTIVE_OPENS, "Tcp", "ActiveOpens", "active_opens", false, \
	    "TCP connections that went from CLOSED to SYN-SENT.") \
	X(PASSIVE_OPENS, "Tcp", "PassiveOpens", "passive_opens", false, \
	    "TCP connections that went from LISTEN to SYN-RECV.") \
	X(ATTEMPT_FAILS, "Tcp", "AttemptFails", "attempt_fails", false, \
	    "Failed TCP connection attempts.") \
	X(CURR_ESTAB, "Tcp", "CurrEstab", "curr_estab", true, \
	    "TCP connections currently ESTABLISHED or CLOSE-WAIT.") \
	X(IN_SEGS, "Tcp", "InSegs", "in_segs", false, \
	    "TCP segments received.") \
	X(OUT_RSTS, "Tcp", "OutRsts", "out_rsts", false, \
	    "TCP segments sent with the RST flag.")

enum counter_id {
#define X(id, group, kname, metric, gauge, help) CTR_##id,
	COUNTER_LIST(X)
#undef X
	CTR_COUNT
};

struct counter_def {
	const char *group;	 /* "TcpExt" (netstat) or "Tcp" (snmp) */
	const char *kernel_name; /* field name in the header line */
	const char *metric;	 /* metric suffix */
	bool gauge;
	const char *help;
};

extern const struct counter_def counter_defs[CTR_COUNT];

struct counter_set {
	uint64_t value[CTR_COUNT];
	bool present[CTR_COUNT];
};

/* Index of the counter named KERNEL_NAME in GROUP, or -1. */
int counter_lookup(const char *group, size_t grouplen, const char *name,
    size_t namelen);

#endif
