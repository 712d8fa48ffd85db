/*
 * serve's IPC (web/ipc_proto.c, ipc_server.c, ipc_client.c): messages
 * round-trip; every malformed request (size, magic, version, length,
 * fields, reserved bits, an oversized packet) is refused whole; the
 * collector side counts a refused message (twaudit_ipc_messages_refused_total),
 * never answers or acts on it, and still answers the next good one; a
 * body of several packets arrives whole through the client; the web
 * side's counters reach the collector's selfstat, stamped with the
 * time they arrived.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/selfstat.h"
#include "lib/util.h"
#include "web/ipc_client.h"
#include "web/ipc_proto.h"
#include "web/ipc_server.h"

static struct ipc_request
sample_request(void)
{
	struct ipc_request r = { .id = 42, .req = { .endpoint = BODY_METRICS,
	    .openmetrics = true, .gzip = true } };

	for (size_t i = 0; i < SELF_COUNT; i++)
		r.counters.v[i] = 1000 + i;
	/* The HTTP request counters travel too, every word of them. */
	for (int h = 0; h < SELF_NHANDLERS; h++) {
		for (int c = 0; c < SELF_NCODES; c++)
			r.counters.http.requests[h][c] = 2000u + 100u * h + c;
		for (int b = 0; b <= SELF_NBUCKETS; b++)
			r.counters.http.bucket[h][b] = 3000u + 100u * h + b;
		r.counters.http.duration_us[h] = UINT64_MAX - (uint64_t)h;
	}
	return r;
}

static void
test_roundtrip(void **state)
{
	unsigned char buf[IPC_REQUEST_LEN + 8];
	struct ipc_request r = sample_request(), back;
	struct ipc_reply p = { .id = 9, .status = 503, .type = BODY_TYPE_JSON,
	    .gzip = 1, .body_len = IPC_MAX_BODY,
	    .generation = 0x0102030405060708ull }, pb;

	(void)state;
	assert_int_equal(ipc_request_encode(&r, buf, sizeof(buf)),
	    IPC_REQUEST_LEN);
	assert_int_equal(ipc_request_parse(buf, IPC_REQUEST_LEN, &back), IPC_OK);
	assert_int_equal(back.id, 42);
	assert_int_equal(back.req.endpoint, BODY_METRICS);
	assert_true(back.req.openmetrics && back.req.gzip);
	assert_memory_equal(&back.counters, &r.counters, sizeof(r.counters));
	assert_int_equal(ipc_request_encode(&r, buf, IPC_REQUEST_LEN - 1), 0);
	assert_int_equal(ipc_reply_encode(&p, buf, sizeof(buf)), IPC_REPLY_LEN);
	assert_int_equal(ipc_reply_parse(buf, IPC_REPLY_LEN, &pb), IPC_OK);
	assert_int_equal(pb.id, 9);
	assert_int_equal(pb.status, 503);
	assert_int_equal(pb.type, BODY_TYPE_JSON);
	assert_int_equal(pb.body_len, IPC_MAX_BODY);
	assert_true(pb.generation == 0x0102030405060708ull);
}

/* BUF with byte AT set to V: parse must give WANT and leave OUT alone. */
static void
refused(const unsigned char *good, size_t at, unsigned char v, int want)
{
	unsigned char buf[IPC_REQUEST_LEN];
	struct ipc_request out = { .id = 7 };

	memcpy(buf, good, sizeof(buf));
	buf[at] = v;
	assert_int_equal(ipc_request_parse(buf, sizeof(buf), &out), want);
	assert_int_equal(out.id, 7);
}

static void
test_request_refusals(void **state)
{
	unsigned char good[IPC_REQUEST_LEN + 1];
	struct ipc_request r = sample_request(), out;

	(void)state;
	ipc_request_encode(&r, good, sizeof(good));
	good[IPC_REQUEST_LEN] = 0;
	assert_int_equal(ipc_request_parse(good, IPC_REQUEST_LEN - 1, &out),
	    IPC_ERR_SIZE);
	assert_int_equal(ipc_request_parse(good, IPC_REQUEST_LEN + 1, &out),
	    IPC_ERR_SIZE);
	assert_int_equal(ipc_request_parse(good, 0, &out), IPC_ERR_SIZE);
	refused(good, 0, 'X', IPC_ERR_MAGIC);
	refused(good, 4, IPC_VERSION - 1, IPC_ERR_VERSION);
	refused(good, 4, IPC_VERSION + 1, IPC_ERR_VERSION);
	refused(good, 6, 16, IPC_ERR_LENGTH);
	{
		unsigned char z[IPC_REQUEST_LEN];

		memcpy(z, good, sizeof(z));
		memset(z + 8, 0, 4);		/* id 0 */
		assert_int_equal(ipc_request_parse(z, sizeof(z), &out),
		    IPC_ERR_FIELD);
	}
	refused(good, 12, BODY_NENDPOINTS, IPC_ERR_FIELD);
	refused(good, 12, 0xff, IPC_ERR_FIELD);
	refused(good, 13, 0x04, IPC_ERR_FIELD);	/* reserved bit */
	refused(good, 13, 0x83, IPC_ERR_FIELD);
	refused(good, 14, (IPC_NCOUNTERS + 1) & 0xff, IPC_ERR_FIELD);
	refused(good, 14, (IPC_NCOUNTERS - 1) & 0xff, IPC_ERR_FIELD);
	refused(good, 15, 1, IPC_ERR_FIELD);
	/* OpenMetrics for /advice is not a request anyone makes. */
	refused(good, 12, BODY_ADVICE, IPC_ERR_FIELD);
}

static void
test_reply_refusals(void **state)
{
	unsigned char b[IPC_REPLY_LEN];
	struct ipc_reply p = { .id = 1, .status = 200, .type = BODY_TYPE_PROM,
	    .body_len = 10 }, out;

	(void)state;
	ipc_reply_encode(&p, b, sizeof(b));
	assert_int_equal(ipc_reply_parse(b, sizeof(b), &out), IPC_OK);
	assert_int_equal(ipc_reply_parse(b, sizeof(b) - 1, &out), IPC_ERR_SIZE);
	p.status = 404;
	ipc_reply_encode(&p, b, sizeof(b));
	assert_int_equal(ipc_reply_parse(b, sizeof(b), &out), IPC_ERR_FIELD);
	p.status = 200;
	p.body_len = IPC_MAX_BODY + 1;
	ipc_reply_encode(&p, b, sizeof(b));
	assert_int_equal(ipc_reply_parse(b, sizeof(b), &out), IPC_ERR_FIELD);
	p.body_len = 1;
	p.type = BODY_NTYPES;
	ipc_reply_encode(&p, b, sizeof(b));
	assert_int_equal(ipc_reply_parse(b, sizeof(b), &out), IPC_ERR_FIELD);
}

/* A body source that counts its calls and answers with a large body of
 * snapshot generation fake_gen. */
#define BIG (3 * IPC_CHUNK + 123)
static atomic_int calls;
static _Atomic uint64_t fake_gen;
static char big[BIG];

static int
fake_get(void *ctx, const struct body_request *req, struct body *out)
{
	(void)ctx;
	atomic_fetch_add(&calls, 1);
	memset(out, 0, sizeof(*out));
	out->status = 200;
	out->type = req->endpoint == BODY_PAGE ? BODY_TYPE_HTML :
	    BODY_TYPE_PROM;
	out->data = big;
	out->len = BIG;
	out->generation = atomic_load(&fake_gen);
	return 0;
}

/* No reply on FD within 300 ms. */
static bool
silent(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 300) == 0;
}

static void
test_server_refuses_and_counts(void **state)
{
	struct body_source src = { .get = fake_get };
	struct selfstat_values before, after;
	unsigned char msg[IPC_REQUEST_LEN * 2];
	struct ipc_request r = sample_request();
	struct ipc_server *srv;
	struct ipc_client *cl;
	struct body b = { 0 };
	struct body_source cs;
	int sp[2], sp2[2];
	char err[128];
	double t0;

	(void)state;
	for (size_t i = 0; i < BIG; i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp2), 0);
	srv = ipc_server_start((int[]){ sp[0], sp2[0] }, 2, &src, err,
	    sizeof(err));
	assert_non_null(srv);
	selfstat_read(&before);
	/* Malformed, oversized, short: refused, counted, not answered. */
	ipc_request_encode(&r, msg, sizeof(msg));
	msg[13] = 0x40;
	assert_int_equal(send(sp[1], msg, IPC_REQUEST_LEN, 0), IPC_REQUEST_LEN);
	memset(msg, 'A', sizeof(msg));
	assert_int_equal(send(sp[1], msg, sizeof(msg), 0), (ssize_t)sizeof(msg));
	assert_int_equal(send(sp[1], msg, 3, 0), 3);
	assert_true(silent(sp[1]));
	selfstat_read(&after);
	assert_int_equal(after.v[SELF_IPC_REFUSED] - before.v[SELF_IPC_REFUSED],
	    3);
	assert_int_equal(atomic_load(&calls), 0);
	/* The same channel still answers a good request, through the client:
	 * several packets, whole; the counters reach the collector's. */
	cl = ipc_client_new((int[]){ sp[1], sp2[1] }, 2, 5.0, NULL, 0);
	assert_non_null(cl);
	cs = ipc_client_source(cl);
	selfstat_add(SELF_HTTP_AUTH_FAILURES, 5);
	selfstat_http_observe(SELF_H_METRICS, 503, 0.2);
	selfstat_http_observe(SELF_H_OTHER, 404, 0.001);
	/* Refused messages stamp nothing; a good request stamps the time
	 * its counters arrived (how old they are in a snapshot). */
	assert_true(selfstat_peer_at() == 0);
	t0 = now_monotonic();
	assert_int_equal(cs.get(cs.ctx, &(struct body_request){
	    .endpoint = BODY_PAGE }, &b), 0);
	assert_true(selfstat_peer_at() >= t0);
	assert_true(selfstat_peer_at() <= now_monotonic());
	assert_int_equal(b.status, 200);
	assert_int_equal(b.type, BODY_TYPE_HTML);
	assert_int_equal(b.len, BIG);
	assert_memory_equal(b.data, big, BIG);
	body_release(&b);
	assert_int_equal(atomic_load(&calls), 1);
	selfstat_read(&after);
	/* Own 5 plus the peer's copy of the same 5 (one process here). */
	assert_int_equal(after.v[SELF_HTTP_AUTH_FAILURES] -
	    before.v[SELF_HTTP_AUTH_FAILURES], 10);
	/* The HTTP request counters too (selfstat_http), word for word. */
	{
		unsigned c503 = selfstat_code_index(503),
		    c404 = selfstat_code_index(404);

		assert_int_equal(after.http.requests[SELF_H_METRICS][c503] -
		    before.http.requests[SELF_H_METRICS][c503], 2);
		assert_int_equal(after.http.requests[SELF_H_OTHER][c404] -
		    before.http.requests[SELF_H_OTHER][c404], 2);
		assert_int_equal(after.http.bucket[SELF_H_METRICS][5] -
		    before.http.bucket[SELF_H_METRICS][5], 2);	/* le 0.25 */
		assert_int_equal(after.http.duration_us[SELF_H_METRICS] -
		    before.http.duration_us[SELF_H_METRICS], 400000);
	}
	ipc_client_free(cl);
	ipc_server_stop(srv);
}

/*
 * The web side's cache: a request the collector would answer from the
 * snapshot it published is answered from the body already received for
 * that generation, endpoint, format and encoding, without a round trip;
 * a new generation, another key, or a snapshot older than min_interval
 * goes to the collector (/api/history never asks for a fresh one).
 */
static void
test_client_cache(void **state)
{
	static struct ipc_shared sh;
	struct body_source src = { .get = fake_get }, cs;
	struct body_request m = { .endpoint = BODY_METRICS },
	    mz = { .endpoint = BODY_METRICS, .gzip = true },
	    hist = { .endpoint = BODY_HISTORY };
	struct ipc_server *srv;
	struct ipc_client *cl;
	struct body b = { 0 };
	int sp[2], n0;
	char err[128];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	srv = ipc_server_start(&sp[0], 1, &src, err, sizeof(err));
	cl = ipc_client_new(&sp[1], 1, 5.0, &sh, 10.0);
	assert_non_null(srv);
	assert_non_null(cl);
	cs = ipc_client_source(cl);
	atomic_store(&fake_gen, 5);
	ipc_shared_publish(&sh, 5, now_monotonic());
	n0 = atomic_load(&calls);
#define GET(req, want_calls) do { \
	assert_int_equal(cs.get(cs.ctx, &(req), &b), 0); \
	assert_int_equal(b.len, BIG); \
	assert_memory_equal(b.data, big, BIG); \
	body_release(&b); \
	assert_int_equal(atomic_load(&calls) - n0, (want_calls)); \
} while (0)
	GET(m, 1);
	GET(m, 1);		/* the same generation: no round trip */
	GET(m, 1);
	GET(mz, 2);		/* gzip is another body */
	GET(mz, 2);
	atomic_store(&fake_gen, 6);
	ipc_shared_publish(&sh, 6, now_monotonic());
	GET(m, 3);		/* a new snapshot */
	GET(m, 3);
	ipc_shared_publish(&sh, 6, now_monotonic() - 20.0);
	GET(m, 4);		/* older than min_interval: a fresh one */
	GET(m, 5);
	GET(hist, 6);		/* the history never asks for a fresh one */
	GET(hist, 6);
#undef GET
	ipc_client_free(cl);
	ipc_server_stop(srv);
}

/* The collector gone: the client fails at once, it does not hang. */
static void
test_client_peer_gone(void **state)
{
	struct ipc_client *cl;
	struct body_source cs;
	struct body b = { 0 };
	int sp[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	close(sp[0]);
	cl = ipc_client_new(&sp[1], 1, 5.0, NULL, 0);
	cs = ipc_client_source(cl);
	assert_int_equal(cs.get(cs.ctx, &(struct body_request){ 0 }, &b), -1);
	assert_int_equal(cs.get(cs.ctx, &(struct body_request){ 0 }, &b), -1);
	ipc_client_free(cl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_request_refusals),
		cmocka_unit_test(test_reply_refusals),
		cmocka_unit_test(test_server_refuses_and_counts),
		cmocka_unit_test(test_client_cache),
		cmocka_unit_test(test_client_peer_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
