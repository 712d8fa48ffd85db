/*
 * The messages between serve's two processes (docs/security.md), over a
 * SOCK_SEQPACKET socketpair: each message is one packet, so a message's
 * size is the packet's and nothing is ever resynchronised.
 *
 * Web -> collector: one fixed-size request (IPC_REQUEST_LEN bytes): magic,
 * version, length, request id, endpoint, format and encoding flags, and
 * the web process's own counters (lib/selfstat.h) for the HTTP
 * self-metrics. Collector -> web: a fixed-size reply header (status,
 * content type, encoding, body length at most IPC_MAX_BODY, the generation
 * of the snapshot the body was rendered from), then the body in packets of
 * exactly min(IPC_CHUNK, what is left) bytes.
 *
 * Besides the messages, the collector publishes the current snapshot's
 * generation and collection time in a shared page (struct ipc_shared), so
 * the web process answers a scrape the collector would answer from the
 * current snapshot with the body it already has for that generation,
 * without a round trip. The collector only writes the page.
 *
 * Integers are little-endian. Parsers are pure and strict: a length, magic,
 * version, field or reserved bit that is not exactly as written here makes
 * the message refused, whole.
 */
#ifndef TWAUDIT_IPC_PROTO_H
#define TWAUDIT_IPC_PROTO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/selfstat.h"
#include "web/body.h"

/* 2: the counters carry the HTTP request counters (struct selfstat_http). */
#define IPC_VERSION 2
#define IPC_REQUEST_MAGIC 0x51525754u	/* "TWRQ" */
#define IPC_REPLY_MAGIC 0x50525754u	/* "TWRP" */
/*
 * The web side's counters travel whole in every request rather than in a
 * message of their own: SELFSTAT_NWORDS words (struct selfstat_values with
 * its struct selfstat_http, 1520 bytes today) are one packet, read and
 * encoded in a few microseconds next to a reply of tens of KB, and a
 * scrape the web side answers from its cache sends nothing at all. Whole
 * values, not increments: a request refused or lost loses no count, the
 * next one carries it (counts of cached scrapes arrive with the next
 * request). A request is at most IPC_REQUEST_MAX bytes.
 */
#define IPC_NCOUNTERS SELFSTAT_NWORDS
#define IPC_REQUEST_LEN (16 + 8 * IPC_NCOUNTERS)
#define IPC_REQUEST_MAX 4096
_Static_assert(IPC_REQUEST_LEN <= IPC_REQUEST_MAX,
    "an IPC request is one bounded packet (fuzz/run.sh: ipc max_len)");
#define IPC_REPLY_LEN 28
/* Body packets; a body larger than IPC_MAX_BODY is never sent. */
#define IPC_CHUNK (64 * 1024)
#define IPC_MAX_BODY (32u * 1024 * 1024)

#define IPC_REQ_OPENMETRICS 0x01
#define IPC_REQ_GZIP 0x02
#define IPC_REP_GZIP 0x01

struct ipc_request {
	uint32_t id;		/* not 0 */
	struct body_request req;
	struct selfstat_values counters;	/* the web side's own */
};

struct ipc_reply {
	uint32_t id;		/* the request's */
	unsigned status;	/* 200, 500 or 503 */
	enum body_type type;
	int gzip;
	uint32_t body_len;	/* <= IPC_MAX_BODY */
	uint64_t generation;	/* the body's snapshot; 0: none (not cached) */
};

/*
 * The current snapshot as the collector published it: a seqlock (SEQ odd
 * while it writes) over its generation and monotonic collection time.
 * Mapped MAP_SHARED before the fork.
 */
struct ipc_shared {
	_Atomic uint64_t seq;
	_Atomic uint64_t generation;
	_Atomic int64_t at_us;
};

/* The collector: publish generation GEN collected at AT (monotonic s). */
void ipc_shared_publish(struct ipc_shared *sh, uint64_t gen, double at);
/* The web side: 0 with *GEN and *AT, or -1 when no consistent read. */
int ipc_shared_read(const struct ipc_shared *sh, uint64_t *gen, double *at);

enum ipc_error {
	IPC_OK = 0,
	IPC_ERR_SIZE = -1,	/* not the message's length */
	IPC_ERR_MAGIC = -2,
	IPC_ERR_VERSION = -3,
	IPC_ERR_LENGTH = -4,	/* the length field disagrees */
	IPC_ERR_FIELD = -5,	/* a value out of range, a reserved bit */
};

/* Encode R into BUF (at least IPC_REQUEST_LEN bytes): the length, or 0. */
size_t ipc_request_encode(const struct ipc_request *r, void *buf,
    size_t len);
/* BUF[0..LEN) as a request: IPC_OK, or an ipc_error with OUT untouched. */
int ipc_request_parse(const void *buf, size_t len, struct ipc_request *out);

size_t ipc_reply_encode(const struct ipc_reply *r, void *buf, size_t len);
int ipc_reply_parse(const void *buf, size_t len, struct ipc_reply *out);

/* "size", "magic", ... for the log. */
const char *ipc_error_name(int e);

#endif
