/*
 * The peer-table model's inside, shared by its two halves: model.c (the
 * tables and the event path) and model_query.c (the read-outs: figures,
 * top sources, peer walks). Nothing outside the model includes this.
 */
#ifndef TWAUDIT_MODEL_IMPL_H
#define TWAUDIT_MODEL_IMPL_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "model/model_types.h"

#define USEC			1000000ull
#define TCP_PAWS_MSL		60u		/* seconds */
#define TCP_PAWS_WINDOW		1		/* passive check only */
#define TW_LEN_US		(60ull * USEC)	/* TCP_TIMEWAIT_LEN */
#define OOW_RATELIMIT_US	500000ull	/* tcp_invalid_ratelimit HZ/2 */
#define TCPM_RECLAIM_DEPTH	5
#define WARMUP_US		(60ull * USEC)
#define UNANSWERED_GRACE_US	USEC		/* SYN-ACK can still come */
#define NIL			UINT32_MAX
/* lruq batch = capacity >> shift (see SRC_LRU_SHIFT in natclust.c). */
#define CONN_LRU_SHIFT		3
#define PEER_LRU_SHIFT		3

/* One per-peer stamp: ts = the peer's TSval, stamp = local seconds. */
struct peer {
	uint8_t client[16];
	uint8_t server[16];	/* zero unless key-server-addr */
	uint32_t ts;
	uint32_t stamp;
	uint32_t used;		/* second of last use: LRU / tcpm_stamp */
	uint32_t next;		/* hash chain */
	uint32_t seq[2];	/* uint64_t LRU sequence number (lruq), 0 =
				   free; two words to keep 4-byte alignment */
	uint8_t family;
	uint8_t in_use;
};
static_assert(sizeof(struct peer) <= 64, "a peer entry must fit 64 bytes");

enum cstate { C_FREE = 0, C_ALIVE, C_REJECTED, C_CLOSED };

enum cflag {
	F_ATTEMPT = 0x01,	/* isn holds the current attempt's ISN */
	F_TS_OK = 0x02,		/* timestamps in use on the connection */
	F_SERVER_FIN = 0x04,	/* server closed first */
	F_CLIENT_FIN = 0x08,	/* client closed first */
	F_TW = 0x10,		/* a server TIME-WAIT exists */
	F_TW_ACKED = 0x20,	/* tw_last_ack_us valid */
	F_OBS_PENDING = 0x40,	/* a SYN still waits for a SYN-ACK */
};

struct conn {
	uint8_t client[16];
	uint8_t server[16];
	uint16_t cport, sport;
	uint8_t family;
	uint8_t state;		/* enum cstate */
	uint8_t flags;		/* enum cflag */
	uint8_t pad;
	uint32_t isn;
	uint32_t ts_recent, ts_recent_stamp;	/* stamp 0: no TS */
	uint32_t tw_ts_recent, tw_ts_recent_stamp;
	uint32_t tw_rcv_nxt;
	uint32_t next;
	uint32_t hash;		/* conn_hash_words(), unmasked */
	uint64_t tw_expiry_us;
	uint64_t tw_last_ack_us;
	uint64_t obs_syn_us;
};

/* An event's table key and its hashes, computed once per event
 * (event_key()). The addresses are also 64-bit words: the hashes are
 * computed from registers, not by re-reading bytes just stored. */
struct key {
	union { uint8_t client[16]; uint64_t cw[2]; };
	union { uint8_t server[16]; uint64_t sw[2]; };
	uint16_t cport, sport;
	uint8_t family;
	bool has_ph;		/* ph is set */
	uint32_t ch;		/* conn_hash_words() */
	uint32_t sh;		/* srctab_hash() of the client */
	uint64_t ph;		/* peer_hash() of the peer key */
};

/*
 * tcp_metrics profiles with max_peers >= 6: bucket B's entries are
 * peers[B * 6 + s], s < n, filled in order and never removed (a full
 * bucket reclaims in place, and buckets x 6 <= max_peers, so the pool
 * never runs out); the kernel's chain (newest first) is s = n-1 ... 0.
 * A one-byte hash tag per slot avoids touching non-matching entries.
 */
#define PSLOTS		(TCPM_RECLAIM_DEPTH + 1)
struct pslot {
	uint8_t tag[PSLOTS];
	uint8_t n;
	uint8_t pad;
};

struct model {
	struct model_config cfg;
	bool b[MODEL_NBEHAVIOURS];
	int32_t setting[MODEL_NSETTINGS];
	unsigned next_change;
	bool started;
	uint64_t t0_us, last_us;
	uint64_t recycle_len_us;

	struct peer *peers;
	uint32_t *pbucket;	/* chained mode */
	struct pslot *pslot;	/* slot mode (tcp_metrics) */
	bool pslots;
	uint32_t pcap, pnb, pbmask, pfree, pused;
	uint32_t phw, chw;	/* entries handed out at least once (see model_new) */
	uint64_t pseq;
	struct lruq plru;

	struct conn *conns;
	/* LRU sequence numbers of conns[] (0 = free), apart from the entries:
	 * the batch rebuild scans 8 bytes per entry instead of a line. */
	uint64_t *cseqs;
	struct oat cidx;	/* open-addressing index by conn_hash_words() */
	uint32_t ccap, cfree, cused;
	uint64_t cseq;
	struct lruq clru;

	struct srctab *src;
	struct model_stats st;
};

#endif
