/*
 * Routing through the real server: http_listen() on 127.0.0.1 port 0 (the
 * kernel picks it), http_start() with a collector over a fixture tree, and
 * a small blocking HTTP/1.1 client over a socket. Asserts status, Content-
 * Type, Content-Length against the body, the headers every answer carries,
 * HEAD without a body, 404 and 405 with Allow, and kept-alive connections
 * that serve several requests (one after the other, and pipelined).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include "agent/collect.h"
#include "web/http.h"
#include "web/negotiate.h"

#define FIXTURE "linux-3.10-recycle"

static char empty_root[] = "/tmp/test_http.XXXXXX";
static char procfs[512];
static struct collect_paths paths;
static struct collector *coll;
static struct http_server *srv;
static unsigned port;

/* ---------------------------------------------------------------------
 * A blocking HTTP/1.1 client.
 */

struct conn {
	int fd;
	char buf[1 << 16];
	size_t have;		/* bytes in buf not yet consumed */
};

struct resp {
	int status;
	char version[16];
	char headers[8192];	/* "Name: value\r\n"... */
	char *body;		/* malloc'd, NUL-terminated */
	size_t len;
	long clen;		/* Content-Length, -1 when absent */
};

static struct conn *
conn_open(void)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	struct timeval tv = { 10, 0 };

	assert_non_null(c);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	/* Every read and write is bounded: a hung server fails the test. */
	assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)), 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return c;
}

static void
conn_close(struct conn *c)
{
	close(c->fd);
	free(c);
}

static void
conn_send(struct conn *c, const char *req)
{
	size_t n = strlen(req), off = 0;

	while (off < n) {
		ssize_t w = send(c->fd, req + off, n - off, MSG_NOSIGNAL);

		assert_true(w > 0);
		off += (size_t)w;
	}
}

/* More bytes into c->buf; 0 at EOF. */
static ssize_t
conn_fill(struct conn *c)
{
	ssize_t r;

	assert_true(c->have < sizeof(c->buf));
	do
		r = recv(c->fd, c->buf + c->have, sizeof(c->buf) - c->have, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		fail_msg("recv: %s", strerror(errno));
	c->have += (size_t)r;
	return r;
}

static void
consume(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->have - n);
	c->have -= n;
}

/* The value of header NAME in R (case-insensitive), or NULL. */
static const char *
header(const struct resp *r, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);

	for (const char *p = r->headers; *p;) {
		const char *e = strstr(p, "\r\n");

		if (e == NULL)
			break;
		if ((size_t)(e - p) > nl && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			const char *v = p + nl + 1;

			while (*v == ' ')
				v++;
			snprintf(out, outlen, "%.*s", (int)(e - v), v);
			return out;
		}
		p = e + 2;
	}
	return NULL;
}

/* Read one response; HEAD: headers only. */
static void
conn_read(struct conn *c, bool head, struct resp *r)
{
	char *end, cl[32];
	size_t hlen;

	memset(r, 0, sizeof(*r));
	while ((end = memmem(c->buf, c->have, "\r\n\r\n", 4)) == NULL)
		if (conn_fill(c) == 0)
			fail_msg("connection closed before the headers "
			    "(%zu bytes)", c->have);
	hlen = (size_t)(end - c->buf) + 4;
	assert_int_equal(sscanf(c->buf, "%15s %d", r->version, &r->status), 2);
	{
		const char *h = memchr(c->buf, '\n', hlen);

		assert_non_null(h);
		h++;
		assert_true((size_t)(c->buf + hlen - 2 - h) < sizeof(r->headers));
		memcpy(r->headers, h, (size_t)(c->buf + hlen - 2 - h));
	}
	consume(c, hlen);
	r->clen = header(r, "Content-Length", cl, sizeof(cl)) ?
	    strtol(cl, NULL, 10) : -1;
	if (head || r->clen < 0) {
		r->body = strdup("");
		return;
	}
	assert_true(r->clen < (long)sizeof(c->buf));
	while (c->have < (size_t)r->clen)
		if (conn_fill(c) == 0)
			fail_msg("connection closed in the body");
	r->body = malloc((size_t)r->clen + 1);
	assert_non_null(r->body);
	memcpy(r->body, c->buf, (size_t)r->clen);
	r->body[r->clen] = '\0';
	r->len = (size_t)r->clen;
	consume(c, (size_t)r->clen);
}

/* Is the connection closed by the server (EOF, nothing pending)? */
static bool
conn_eof(struct conn *c)
{
	return c->have == 0 && conn_fill(c) == 0;
}

/* One request on a new connection. EXTRA: more header lines. */
static void
request(const char *method, const char *path, const char *extra,
    struct resp *r)
{
	struct conn *c = conn_open();
	char req[4096];

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n%s\r\n", method, path, extra ? extra : "");
	conn_send(c, req);
	conn_read(c, strcmp(method, "HEAD") == 0, r);
	conn_close(c);
}

static void
resp_free(struct resp *r)
{
	free(r->body);
	r->body = NULL;
}

static void
assert_header(const struct resp *r, const char *name, const char *want)
{
	char v[512];

	if (header(r, name, v, sizeof(v)) == NULL)
		fail_msg("no %s header in:\n%s", name, r->headers);
	if (strcmp(v, want) != 0)
		fail_msg("%s: '%s', want '%s'", name, v, want);
}

static void
assert_header_prefix(const struct resp *r, const char *name, const char *want)
{
	char v[512];

	if (header(r, name, v, sizeof(v)) == NULL)
		fail_msg("no %s header in:\n%s", name, r->headers);
	if (strncmp(v, want, strlen(want)) != 0)
		fail_msg("%s: '%s', want '%s...'", name, v, want);
}

/* ---------------------------------------------------------------------
 * Routes.
 */

struct route {
	const char *path, *type, *start;	/* START: the body's beginning */
};

static const struct route routes[] = {
	{ "/metrics", CT_PROM, "# HELP twaudit_build_info " },
	{ "/advice", "application/json", "{" },
	{ "/model", "application/json", "{" },
	{ "/", "text/html; charset=utf-8", "<!doctype html>" },
	{ "/healthz", "text/plain; charset=utf-8", "ok\n" },
	{ "/api/history", "application/json", "{" },
};

static void
test_get_routes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		struct resp r;

		request("GET", rt->path, NULL, &r);
		if (r.status != 200)
			fail_msg("GET %s: %d", rt->path, r.status);
		assert_string_equal(r.version, "HTTP/1.1");
		assert_header(&r, "Content-Type", rt->type);
		assert_true(r.clen > 0);
		assert_int_equal(strlen(r.body), r.len);	/* no NUL inside */
		if (strncmp(r.body, rt->start, strlen(rt->start)) != 0)
			fail_msg("GET %s: body starts '%.40s'", rt->path, r.body);
		/* Headers every answer carries. */
		assert_header(&r, "X-Content-Type-Options", "nosniff");
		assert_header(&r, "Cache-Control", "no-store");
		/* No gzip unless asked for. */
		assert_null(header(&r, "Content-Encoding", (char[8]){ 0 }, 8));
		if (strcmp(rt->type, "application/json") == 0) {
			json_error_t e;
			json_t *j = json_loadb(r.body, r.len, 0, &e);

			if (j == NULL)
				fail_msg("GET %s: not JSON: %s", rt->path, e.text);
			assert_true(json_is_object(j));
			if (strcmp(rt->path, "/advice") == 0)
				assert_string_equal(json_string_value(
				    json_object_get(j, "status")), "critical");
			json_decref(j);
		}
		if (strcmp(rt->path, "/") == 0)
			assert_header_prefix(&r, "Content-Security-Policy", "");
		if (strcmp(rt->path, "/metrics") == 0) {
			assert_non_null(strstr(r.body,
			    "\ntwaudit_tcpext_paws_passive_total 1234\n"));
			assert_non_null(strstr(r.body,
			    "\ntwaudit_audit_status 2\n"));
			assert_null(strstr(r.body, "# EOF"));
		}
		resp_free(&r);
	}
}

/* HEAD: GET's status and headers, no body (the next response follows the
 * headers at once on a kept-alive connection). */
static void
test_head(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];
		struct conn *c = conn_open();
		struct resp r, n;
		char req[256];

		snprintf(req, sizeof(req), "HEAD %s HTTP/1.1\r\nHost: x\r\n\r\n"
		    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		    "\r\n", rt->path);
		conn_send(c, req);
		conn_read(c, true, &r);
		if (r.status != 200)
			fail_msg("HEAD %s: %d", rt->path, r.status);
		assert_header(&r, "Content-Type", rt->type);
		assert_true(r.clen > 0);	/* the length GET would send */
		conn_read(c, false, &n);
		assert_int_equal(n.status, 200);
		assert_string_equal(n.body, "ok\n");
		assert_true(conn_eof(c));
		resp_free(&r);
		resp_free(&n);
		conn_close(c);
	}
	/* For /healthz the length is exactly GET's body. */
	{
		struct resp r;

		request("HEAD", "/healthz", NULL, &r);
		assert_int_equal(r.clen, 3);
		resp_free(&r);
	}
}

static void
test_metrics_negotiated(void **state)
{
	struct resp r, g;

	(void)state;
	request("GET", "/metrics", "Accept: application/openmetrics-text;"
	    "version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type", CT_OPENMETRICS);
	assert_true(r.len > 6);
	assert_string_equal(r.body + r.len - 6, "# EOF\n");
	assert_non_null(strstr(r.body, "\n# TYPE twaudit_tcpext_paws_passive "
	    "counter\n"));
	assert_header(&r, "Vary", "Accept, Accept-Encoding");
	resp_free(&r);

	/* gzip when accepted: decodes to a 0.0.4 body. */
	request("GET", "/metrics", "Accept-Encoding: gzip\r\n", &g);
	assert_int_equal(g.status, 200);
	assert_header(&g, "Content-Encoding", "gzip");
	assert_header(&g, "Content-Type", CT_PROM);
	{
		z_stream z = { 0 };
		size_t cap = 1 << 20;
		char *out = malloc(cap);

		assert_non_null(out);
		assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
		z.next_in = (Bytef *)g.body;
		z.avail_in = (uInt)g.len;
		z.next_out = (Bytef *)out;
		z.avail_out = (uInt)cap - 1;
		assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
		out[z.total_out] = '\0';
		assert_true(strncmp(out, "# HELP twaudit_build_info ", 25) == 0);
		assert_non_null(strstr(out, "\ntwaudit_audit_status 2\n"));
		inflateEnd(&z);
		free(out);
	}
	resp_free(&g);

	/* gzip;q=0 is a refusal; a query string does not change the route. */
	request("GET", "/metrics?debug=1", "Accept-Encoding: gzip;q=0\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_null(header(&r, "Content-Encoding", (char[8]){ 0 }, 8));
	assert_header(&r, "Content-Type", CT_PROM);
	resp_free(&r);
}

static void
test_not_found(void **state)
{
	static const char *const paths404[] = {
		"/nope", "/metrics/", "/METRICS", "/metricsx", "//metrics",
		"/api/history/", "/api", "/favicon.ico", "/healthz/x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(paths404) / sizeof(paths404[0]); i++) {
		struct resp r;

		request("GET", paths404[i], NULL, &r);
		if (r.status != 404)
			fail_msg("GET %s: %d, want 404", paths404[i], r.status);
		assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
		assert_string_equal(r.body, "not found\n");
		assert_int_equal(r.clen, 10);
		assert_header(&r, "X-Content-Type-Options", "nosniff");
		resp_free(&r);
		request("HEAD", paths404[i], NULL, &r);
		assert_int_equal(r.status, 404);
		resp_free(&r);
	}
}

static void
test_method_not_allowed(void **state)
{
	static const char *const methods[] = { "POST", "PUT", "DELETE",
	    "OPTIONS", "PATCH", "BREW" };
	static const char *const where[] = { "/metrics", "/advice", "/",
	    "/healthz", "/nope" };

	(void)state;
	for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
		for (size_t w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
			struct resp r;

			request(methods[m], where[w], NULL, &r);
			if (r.status != 405)
				fail_msg("%s %s: %d, want 405", methods[m],
				    where[w], r.status);
			assert_header(&r, "Allow", "GET, HEAD");
			assert_string_equal(r.body, "method not allowed\n");
			resp_free(&r);
		}
}

/* A request with a body is answered without reading it, then closed. */
static void
test_post_with_body(void **state)
{
	struct conn *c = conn_open();
	struct resp r;

	(void)state;
	conn_send(c, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "\r\nhello");
	conn_read(c, false, &r);
	assert_int_equal(r.status, 405);
	assert_header(&r, "Allow", "GET, HEAD");
	resp_free(&r);
	assert_true(conn_eof(c));
	conn_close(c);
}

static void
test_keep_alive(void **state)
{
	struct conn *c = conn_open();
	struct resp a, b, d;

	(void)state;
	/* One request after the other on one connection. */
	conn_send(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	conn_read(c, false, &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "ok\n");
	assert_null(header(&a, "Connection", (char[16]){ 0 }, 16));
	conn_send(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	conn_read(c, false, &b);
	assert_int_equal(b.status, 200);
	assert_header(&b, "Content-Type", CT_PROM);
	assert_non_null(strstr(b.body, "\ntwaudit_audit_status 2\n"));
	/* A 404 does not end the connection either. */
	conn_send(c, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
	conn_read(c, false, &d);
	assert_int_equal(d.status, 404);
	resp_free(&a);
	resp_free(&b);
	resp_free(&d);
	/* Pipelined: three requests in one write, answered in order. */
	conn_send(c, "GET /advice HTTP/1.1\r\nHost: x\r\n\r\n"
	    "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	conn_read(c, false, &a);
	assert_int_equal(a.status, 200);
	assert_header(&a, "Content-Type", "application/json");
	conn_read(c, true, &b);
	assert_int_equal(b.status, 200);
	assert_header(&b, "Content-Type", CT_PROM);
	conn_read(c, false, &d);
	assert_int_equal(d.status, 200);
	assert_string_equal(d.body, "ok\n");
	/* Connection: close is honoured. */
	assert_true(conn_eof(c));
	resp_free(&a);
	resp_free(&b);
	resp_free(&d);
	conn_close(c);
}

/* HTTP/1.0: answered, then closed (no keep-alive asked for). */
static void
test_http10(void **state)
{
	struct conn *c = conn_open();
	struct resp r;

	(void)state;
	conn_send(c, "GET /healthz HTTP/1.0\r\n\r\n");
	conn_read(c, false, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	assert_true(conn_eof(c));
	resp_free(&r);
	conn_close(c);
}

/* ---------------------------------------------------------------------
 * Set-up: the server on a port the kernel picks.
 */

/* The port of the listening IPv4 socket http_listen() opened. */
static unsigned
listening_port(void)
{
	for (int fd = 3; fd < 4096; fd++) {
		int acc = 0;
		socklen_t l = sizeof(acc);
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l) < 0 ||
		    !acc)
			continue;
		if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 &&
		    sa.sin_family == AF_INET &&
		    sa.sin_addr.s_addr == htonl(INADDR_LOOPBACK))
			return ntohs(sa.sin_port);
	}
	return 0;
}

static int
setup(void **state)
{
	static const char *const addrs[] = { "127.0.0.1:0" };
	char err[256];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(empty_root) == NULL)
		return -1;
	snprintf(procfs, sizeof(procfs), "%s/%s", FIXTURES, FIXTURE);
	paths.procfs = procfs;
	paths.rootfs = empty_root;
	paths.sw[SRC_SOCK_DIAG] = COLLECT_OFF;
	paths.sw[SRC_TCP_METRICS] = COLLECT_OFF;
	if (listening_port() != 0) {
		fprintf(stderr, "a listening socket exists before the test\n");
		return -1;
	}
	if ((srv = http_listen(addrs, 1, err, sizeof(err))) == NULL) {
		fprintf(stderr, "http_listen: %s\n", err);
		return -1;
	}
	if ((port = listening_port()) == 0) {
		fprintf(stderr, "no listening socket after http_listen\n");
		return -1;
	}
	if ((coll = collector_new(&paths, 1.0)) == NULL ||
	    collector_start(coll, err, sizeof(err)) < 0) {
		fprintf(stderr, "collector: %s\n", err);
		return -1;
	}
	if (http_start(srv, coll, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "http_start: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	http_stop(srv);
	collector_free(coll);
	rmdir(empty_root);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_routes),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_metrics_negotiated),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_method_not_allowed),
		cmocka_unit_test(test_post_with_body),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_http10),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
