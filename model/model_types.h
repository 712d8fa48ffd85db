/*
 * The model's data types: profiles, behaviours, settings, the
 * configuration, verdicts, statistics, and the LRU and index structs the
 * tables embed. No functions: model.h declares the operations, and
 * model_impl.h (the model's inside) builds on these types without
 * including model.h.
 */
#ifndef TWAUDIT_MODEL_TYPES_H
#define TWAUDIT_MODEL_TYPES_H

#include <stdbool.h>
#include <stdint.h>

/* ---------------------------------------------------------------------
 * Kernel profiles (model/profile.c)
 */

/* Named everywhere by their range strings (model_profile_name()). */
enum model_profile {
	MODEL_P_2_6_32,		/* "2.6.32-3.0"  inet_peer, IPv4 only, key = client */
	MODEL_P_3_1,		/* "3.1-3.5"     + IPv6 */
	MODEL_P_3_6,		/* "3.6-3.7"     tcp_metrics */
	MODEL_P_3_8,		/* "3.8-3.12"    + ListenDrops */
	MODEL_P_3_13,		/* "3.13-3.16"   key = (server, client) */
	MODEL_P_3_17,		/* "3.17-4.0"    + SYN without TS dropped */
	MODEL_P_4_1,		/* "4.1-4.11"    TIME-WAIT ACK rate limit */
	MODEL_P_4_12,		/* "4.12-6.15"   no tw_recycle; PAWSEstab */
	MODEL_P_6_16,		/* "6.16+"       PAWSTimewait */
	MODEL_NPROFILES
};

/*
 * Each behaviour that differs between profiles; any can be forced with
 * an override ("kernel.no-timestamp-drop=true") for backporting
 * distribution kernels. Names: model_behaviour_name().
 */
enum model_behaviour {
	MB_PASSIVE_CHECK,	/* "passive-check": tw_recycle and the per-peer
				   store exist (<= 4.11) */
	MB_IPV6_CHECK,		/* "ipv6-check": IPv6 stamps and check (>= 3.1) */
	MB_TCP_METRICS,		/* "tcp-metrics": tcp_metrics bucket reclaim
				   (>= 3.6); else inet_peer LRU */
	MB_LISTEN_DROPS,	/* "listen-drops": a passive drop also counts
				   ListenDrops (>= 3.8) */
	MB_KEY_SERVER_ADDR,	/* "key-server-addr": peer key is (server,
				   client) (>= 3.13); else client alone */
	MB_NO_TS_DROP,		/* "no-timestamp-drop": a SYN without TS is
				   dropped while a fresh stamp exists (>= 3.17,
				   RHEL 7) */
	MB_TW_ACK_RATELIMIT,	/* "tw-ack-ratelimit": one TIME-WAIT ACK per
				   500 ms per socket (>= 4.1) */
	MB_PAWS_TW_COUNTER,	/* "paws-timewait-counter": TIME-WAIT PAWS
				   refusals count PAWSTimewait (>= 6.16), else
				   PAWSEstab */
	MB_PAWS_ZERO_TS_OK,	/* "paws-zero-ts-ok": a TIME-WAIT whose
				   ts_recent is 0 never PAWS-rejects
				   (tcp_paws_check clause; not in 2.6.32) */
	MB_RFC1337_RST_REARM,	/* "rfc1337-rst-rearm": with tcp_rfc1337=1 an
				   in-window RST re-arms the 60 s timer
				   (4.x source; not in 6.x) */
	MODEL_NBEHAVIOURS
};

/* Sysctl settings the model takes as inputs. */
enum model_setting {
	MS_TW_RECYCLE,		/* net.ipv4.tcp_tw_recycle */
	MS_TIMESTAMPS,		/* net.ipv4.tcp_timestamps (0 off, 1/2 on) */
	MS_RFC1337,		/* net.ipv4.tcp_rfc1337 */
	MODEL_NSETTINGS
};

#define MODEL_MAX_CHANGES	16	/* scheduled "NAME=VALUE@SECONDS" */

struct model_change {
	uint64_t at_us;		/* relative to the first event */
	int32_t value;
	uint8_t setting;	/* enum model_setting */
};

struct model_config {
	enum model_profile profile;
	/* -1: profile default; 0/1 forced. version_fix is set by
	 * model_profile_from_version() (e.g. RHEL 7), override by the user;
	 * override wins over version_fix, which wins over the profile. */
	int8_t version_fix[MODEL_NBEHAVIOURS];
	int8_t override[MODEL_NBEHAVIOURS];
	int32_t setting[MODEL_NSETTINGS];	/* values at the first event */
	struct model_change change[MODEL_MAX_CHANGES];
	unsigned nchanges;
	uint32_t server_rto_ms;	/* RTO assumed for the 3.5 x RTO recycle
				   TIME-WAIT (default 200, the minimum) */
	uint32_t max_peers;	/* peer-table entries */
	uint32_t max_connections;	/* tracked 4-tuples (incl. TIME-WAIT) */
	uint32_t max_sources;	/* client addresses with NAT clustering */
};

#define MODEL_DEFAULT_MAX_PEERS		65536
#define MODEL_DEFAULT_MAX_CONNECTIONS	262144
#define MODEL_DEFAULT_MAX_SOURCES	65536
#define MODEL_CAP_LIMIT			(1u << 26)	/* per table */

enum model_decision {
	MODEL_NONE = 0,		/* not a SYN to the server: nothing decided */
	MODEL_ACCEPT,
	MODEL_REJECT
};

enum model_reason {
	MODEL_R_NONE = 0,
	MODEL_R_PASSIVE_PAWS,	/* PAWSPassive: tw_recycle per-peer check */
	MODEL_R_TIMEWAIT_PAWS,	/* PAWSEstab (<= 6.15) / PAWSTimewait */
	MODEL_R_TIMEWAIT_SEQ,	/* TIME-WAIT refusal without a counter */
	MODEL_NREASONS
};

/* Which code path judged the SYN. */
enum model_path {
	MODEL_PATH_NONE = 0,
	MODEL_PATH_LISTENER,	/* no TIME-WAIT: listener (+ passive check) */
	MODEL_PATH_TIMEWAIT,	/* a live TIME-WAIT for the 4-tuple */
	MODEL_PATH_EXISTING,	/* retransmission of an accepted SYN: it
				   meets the request/child socket, no check */
};

enum model_tw_ack {
	MODEL_TWACK_NONE = 0,
	MODEL_TWACK_SENT,	/* bare ACK from the TIME-WAIT socket */
	MODEL_TWACK_RATELIMITED	/* suppressed: TCPACKSkippedTimeWait */
};

/* Kernel counters the simulated kernel moves (TcpExt names). */
enum model_counter {
	MC_PAWS_PASSIVE,	/* PAWSPassive */
	MC_LISTEN_DROPS,	/* ListenDrops (only the passive-drop share) */
	MC_PAWS_ESTAB,		/* PAWSEstab (TIME-WAIT share) */
	MC_PAWS_TIMEWAIT,	/* PAWSTimewait */
	MC_ACK_SKIPPED_TW,	/* TCPACKSkippedTimeWait */
	MC_TW,			/* TW: sockets entering TIME-WAIT */
	MODEL_NCOUNTERS
};

struct model_verdict {
	uint8_t decision;	/* enum model_decision */
	uint8_t reason;		/* enum model_reason */
	uint8_t path;		/* enum model_path */
	uint8_t tw_ack;		/* enum model_tw_ack */
	uint8_t warmup;		/* rejected within 60 s of the source's first
				   appearance */
	uint8_t timestamps;	/* the SYN's TS option was seen (server
				   timestamps on and option present) */
	uint16_t counters;	/* bit (1 << enum model_counter): moved by 1 */
};

enum model_table { MODEL_T_PEERS, MODEL_T_CONNECTIONS, MODEL_T_SOURCES,
	MODEL_NTABLES };

struct model_stats {
	uint64_t packets;		/* events fed */
	uint64_t syns;			/* SYNs to the server (incl. retries) */
	uint64_t connections;		/* connection attempts (distinct ISN
					   per 4-tuple) */
	uint64_t predicted_rejections;	/* SYN packets refused */
	uint64_t by_reason[MODEL_NREASONS];
	uint64_t warmup;		/* refused SYNs < 60 s after their
					   source first appeared */
	uint64_t observed_unanswered_syns;
	uint64_t evictions[MODEL_NTABLES];
	uint64_t counters[MODEL_NCOUNTERS];
	uint64_t tw_acks;		/* TIME-WAIT ACKs sent for SYNs */
	uint64_t tw_killed;		/* TIME-WAITs destroyed by a client RST */
	uint64_t stamps_written;	/* update-rule overwrites */
	uint64_t peers, tracked_connections, sources;	/* in use now */
};

/* ---------------------------------------------------------------------
 * Exact LRU by touch sequence numbers (model/natclust.c); internal to the
 * model library. Each table entry (or a parallel array: connections)
 * holds a 64-bit sequence number (0 = not in use) set from a per-table
 * counter at every touch; the victim is the in-use entry with the
 * smallest one, exactly the tail of a doubly-linked LRU list, without the
 * list's neighbour writes. Victims come from a sorted batch of the oldest
 * capacity >> shift entries, rebuilt by one scan when used up: an entry
 * outside the batch was newer than all of it at the scan and touches only
 * make entries newer, so the oldest still-valid batch entry is the global
 * oldest.
 */
struct lruq_ent {
	uint64_t seq;
	uint32_t idx;
	uint32_t pad;
};

struct lruq {
	struct lruq_ent *b;
	uint32_t k, n, pos;
};

/*
 * Open-addressing index (internal to the model library): a power-of-two
 * array of 64-bit slots, (32-bit key hash << 32) | (entry index + 1), 0 =
 * empty, linear probing, at least 2 slots per entry (load <= 0.5), and
 * backward-shift deletion (no tombstones). Entries themselves never move;
 * a lookup touches one slot line and, on a hash match, the entry.
 */
struct oat {
	uint64_t *s;
	uint32_t mask;
};

#endif
