/* serve's IPC messages (ipc_proto.h): encoding and strict parsing. */
#include "web/ipc_proto.h"

#include <stdatomic.h>
#include <string.h>

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Magic, version and length of a message that must be WANT bytes. */
static int
check_head(const unsigned char *p, size_t len, uint32_t magic, size_t want)
{
	if (len != want)
		return IPC_ERR_SIZE;
	if (get32(p) != magic)
		return IPC_ERR_MAGIC;
	if (get16(p + 4) != IPC_VERSION)
		return IPC_ERR_VERSION;
	if (get16(p + 6) != want)
		return IPC_ERR_LENGTH;
	return IPC_OK;
}

size_t
ipc_request_encode(const struct ipc_request *r, void *buf, size_t len)
{
	uint64_t w[IPC_NCOUNTERS];
	unsigned char *p = buf;

	if (len < IPC_REQUEST_LEN)
		return 0;
	put32(p, IPC_REQUEST_MAGIC);
	put16(p + 4, IPC_VERSION);
	put16(p + 6, IPC_REQUEST_LEN);
	put32(p + 8, r->id);
	p[12] = (unsigned char)r->req.endpoint;
	p[13] = (unsigned char)((r->req.openmetrics ? IPC_REQ_OPENMETRICS : 0) |
	    (r->req.gzip ? IPC_REQ_GZIP : 0));
	put16(p + 14, IPC_NCOUNTERS);
	memcpy(w, &r->counters, sizeof(w));
	for (size_t i = 0; i < IPC_NCOUNTERS; i++)
		put64(p + 16 + 8 * i, w[i]);
	return IPC_REQUEST_LEN;
}

int
ipc_request_parse(const void *buf, size_t len, struct ipc_request *out)
{
	const unsigned char *p = buf;
	uint64_t w[IPC_NCOUNTERS];
	struct ipc_request r;
	int rc;

	if ((rc = check_head(p, len, IPC_REQUEST_MAGIC, IPC_REQUEST_LEN)) != 0)
		return rc;
	r.id = get32(p + 8);
	if (r.id == 0 || p[12] >= BODY_NENDPOINTS ||
	    (p[13] & ~(IPC_REQ_OPENMETRICS | IPC_REQ_GZIP)) != 0 ||
	    get16(p + 14) != IPC_NCOUNTERS)
		return IPC_ERR_FIELD;
	/* OpenMetrics is a /metrics format only. */
	if ((p[13] & IPC_REQ_OPENMETRICS) && p[12] != BODY_METRICS)
		return IPC_ERR_FIELD;
	r.req.endpoint = (enum body_endpoint)p[12];
	r.req.openmetrics = (p[13] & IPC_REQ_OPENMETRICS) != 0;
	r.req.gzip = (p[13] & IPC_REQ_GZIP) != 0;
	for (size_t i = 0; i < IPC_NCOUNTERS; i++)
		w[i] = get64(p + 16 + 8 * i);
	memcpy(&r.counters, w, sizeof(w));
	*out = r;
	return IPC_OK;
}

size_t
ipc_reply_encode(const struct ipc_reply *r, void *buf, size_t len)
{
	unsigned char *p = buf;

	if (len < IPC_REPLY_LEN)
		return 0;
	put32(p, IPC_REPLY_MAGIC);
	put16(p + 4, IPC_VERSION);
	put16(p + 6, IPC_REPLY_LEN);
	put32(p + 8, r->id);
	put16(p + 12, (uint16_t)r->status);
	p[14] = (unsigned char)r->type;
	p[15] = r->gzip ? IPC_REP_GZIP : 0;
	put32(p + 16, r->body_len);
	put64(p + 20, r->generation);
	return IPC_REPLY_LEN;
}

int
ipc_reply_parse(const void *buf, size_t len, struct ipc_reply *out)
{
	const unsigned char *p = buf;
	struct ipc_reply r;
	int rc;

	if ((rc = check_head(p, len, IPC_REPLY_MAGIC, IPC_REPLY_LEN)) != 0)
		return rc;
	r.id = get32(p + 8);
	r.status = get16(p + 12);
	if (r.id == 0 || (r.status != 200 && r.status != 500 &&
	    r.status != 503) || p[14] >= BODY_NTYPES ||
	    (p[15] & ~IPC_REP_GZIP) != 0 || get32(p + 16) > IPC_MAX_BODY)
		return IPC_ERR_FIELD;
	r.type = (enum body_type)p[14];
	r.gzip = (p[15] & IPC_REP_GZIP) != 0;
	r.body_len = get32(p + 16);
	r.generation = get64(p + 20);
	*out = r;
	return IPC_OK;
}

void
ipc_shared_publish(struct ipc_shared *sh, uint64_t gen, double at)
{
	uint64_t seq = atomic_load(&sh->seq);

	atomic_store(&sh->seq, seq + 1);
	atomic_store(&sh->generation, gen);
	atomic_store(&sh->at_us, (int64_t)(at * 1e6));
	atomic_store(&sh->seq, seq + 2);
}

int
ipc_shared_read(const struct ipc_shared *sh, uint64_t *gen, double *at)
{
	for (int tries = 0; tries < 4; tries++) {
		uint64_t s1 = atomic_load(&sh->seq), g;
		int64_t a;

		if (s1 & 1)
			continue;
		g = atomic_load(&sh->generation);
		a = atomic_load(&sh->at_us);
		if (atomic_load(&sh->seq) == s1) {
			*gen = g;
			*at = (double)a / 1e6;
			return 0;
		}
	}
	return -1;
}

const char *
ipc_error_name(int e)
{
	switch (e) {
	case IPC_OK: return "ok";
	case IPC_ERR_SIZE: return "size";
	case IPC_ERR_MAGIC: return "magic";
	case IPC_ERR_VERSION: return "version";
	case IPC_ERR_LENGTH: return "length";
	case IPC_ERR_FIELD: return "field";
	}
	return "?";
}
