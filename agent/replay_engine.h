/*
 * The replay engine: the events of a capture (pcap_source.h), their
 * direction (which side is the server), and the model runner (runner.h)
 * with the selected model and the what-if instances (every profile x
 * {settings as given, tcp_tw_recycle=1, tcp_tw_recycle=0, timestamps off
 * after the first minute}), in one pass over the file.
 *
 * Which side is the server. With explicit servers the list is fixed.
 * Without, a server is any address that answers a SYN with a SYN-ACK,
 * learned in the same single pass (so stdin works too): every SYN-ACK
 * read marks its source as a server at once, and events whose direction
 * is not known yet wait in a bounded FIFO (REPLAY_PENDING_MAX events,
 * REPLAY_HORIZON_US of capture time) until a SYN-ACK from one of their
 * addresses shows up. Events are always fed in capture order. When an
 * event leaves the FIFO still undecided and the capture is a regular
 * file, a second reader learns the servers of the whole file once (every
 * SYN-ACK in it, in tables of the same bound), and undecided events are
 * directed by those: a server that answered nothing in its first seconds
 * is found as with --server. From stdin an event still undecided when it
 * leaves the FIFO is counted in no_server.
 * docs/model.md, "Replay", has the details.
 */
#ifndef TWAUDIT_REPLAY_ENGINE_H
#define TWAUDIT_REPLAY_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "collectors/pcap_source.h"

/* Events waiting for their server to be known, and for how long. */
#define REPLAY_PENDING_MAX	65536
#define REPLAY_HORIZON_US	3000000ull
/* Learned server addresses and (address, port) endpoints. */
#define REPLAY_MAX_SERVERS	4096
#define REPLAY_MAX_EXPLICIT	16	/* --server values (CLI_MAX_LIST) */
#define REPLAY_BATCH		4096	/* events per hand-over to the models */
#define REPLAY_MAX_THREADS	64

enum replay_variant { REPLAY_AS_GIVEN, REPLAY_RECYCLE_ON, REPLAY_RECYCLE_OFF,
	REPLAY_TS_OFF_NOW, REPLAY_NVARIANTS };

/* "as_given", "tw_recycle=1", "tw_recycle=0", "timestamps_off_now". */
const char *replay_variant_name(enum replay_variant v);

struct replay_endpoint {
	uint8_t family;		/* 4 or 6; 0: free slot */
	uint8_t has_port;
	uint16_t port;
	uint8_t addr[16];
};

/*
 * "10.0.0.1", "10.0.0.1:443", "2001:db8::1", "[2001:db8::1]:443" into E;
 * -1 with ERR (naming --server) when it is none of these.
 */
int replay_parse_server(const char *s, struct replay_endpoint *e, char *err,
    size_t errlen);

struct replay_config {
	struct model_config model;	/* the selected model */
	bool whatif;			/* also the what-if instances */
	struct replay_endpoint server[REPLAY_MAX_EXPLICIT];
	unsigned nservers;		/* 0: learn them from SYN-ACKs */
	unsigned threads;		/* 0: one per CPU this process may run
					   on; at most one per instance */
	bool diag_all_profiles;		/* diagnosis candidates from every
					   profile (no --kernel), else the
					   selected profile's only */
};

/* One row of the what-if table. */
struct replay_whatif {
	enum model_profile profile;
	enum replay_variant variant;
	struct model_config cfg;
	uint64_t predicted_rejections;
};

/*
 * Which what-if row best explains the SYNs the server left unanswered
 * (replay_diag.h; docs/model.md, "Diagnosis"). Candidates: the
 * as_given, tw_recycle=1 and tw_recycle=0 rows of each profile
 * considered.
 */
struct replay_diagnosis {
	bool present;			/* false with --what-if=false */
	unsigned row;			/* index into replay_result.whatif */
	bool explains;			/* at least half explained */
	uint64_t explained_unanswered, unexplained_unanswered;
	uint64_t predicted_but_answered;
	uint64_t evictions;		/* pending SYNs pushed out */
	unsigned equivalent[MODEL_NPROFILES * REPLAY_NVARIANTS];
	unsigned nequivalent;		/* candidate rows refusing the very
					   same SYNs, in row order */
};

struct replay_result {
	struct model_stats st;		/* the selected model */
	uint64_t fed;			/* events fed to the models */
	uint64_t no_server;		/* events to or from no server */
	uint64_t servers_overflow;	/* servers not learned: table full */
	struct replay_whatif whatif[MODEL_NPROFILES * REPLAY_NVARIANTS];
	unsigned nwhatif;		/* profile-major, variant-minor */
	unsigned models, threads;	/* instances run, threads feeding */
	size_t memory_bound;		/* the whole engine's */
	size_t selected_bound;		/* the selected model's tables */
	struct replay_diagnosis diagnosis;
};

struct replay_engine;

/*
 * Build the models and start the feeding threads. NULL with ERR when a
 * model cannot be built or memory is short.
 */
struct replay_engine *replay_engine_new(const struct replay_config *cfg,
    char *err, size_t errlen);

/*
 * Every event of SRC through direction and models, in capture order; TICK
 * (if not NULL) is called every 16384 packets. Returns the last
 * pcap_source_next() result: 0 at the end, -1 on an unreadable record
 * (what came before it counts).
 */
int replay_engine_run(struct replay_engine *e, struct pcap_source *src,
    void (*tick)(void *arg), void *arg);

/* The figures after replay_engine_run(). */
void replay_engine_result(struct replay_engine *e, struct replay_result *out);

/* Up to N sources into OUT, most rejected first; how many. */
size_t replay_engine_top(struct replay_engine *e, struct model_source *out,
    size_t n);

/* Stop the threads and free. NULL ok. */
void replay_engine_free(struct replay_engine *e);

#endif
