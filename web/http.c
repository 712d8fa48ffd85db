/* libmicrohttpd front end: routing, methods, limits, content types. */
#include "web/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web/auth.h"
#include "agent/collect.h"
#include "web/connlimit.h"
#include "web/listen.h"
#include "web/twlimits.h"
#include "lib/log.h"
#include "web/negotiate.h"
#include "web/page.h"
#include "web/render.h"
#include "lib/selfstat.h"
#include "lib/util.h"
#include "web/webconfig.h"

#define CT_JSON "application/json"
#define CT_TEXT "text/plain; charset=utf-8"
#define CT_HTML "text/html; charset=utf-8"

#define REALM "twaudit"

struct http_server {
	size_t n;
	struct MHD_Daemon *d[HTTP_MAX_LISTEN];	/* NULL until http_start */
	int fd[HTTP_MAX_LISTEN];	/* listening, until a daemon takes it */
	const char *addr[HTTP_MAX_LISTEN];	/* the caller's, for messages */
	char sd_name[HTTP_MAX_LISTEN][64];	/* addr of a systemd socket */
	unsigned family_flags[HTTP_MAX_LISTEN];	/* MHD_USE_IPv6 / DUAL_STACK */
	struct collector *collector;
	pthread_mutex_t lock;		/* guards wc */
	struct webconfig *wc;		/* TLS, basic auth, extra headers */
	struct connlimit *conns;	/* open connections, all daemons */
	unsigned idle_timeout;		/* s, between kept-alive requests */
	char telemetry_path[HTTP_MAX_PATH];	/* --web.telemetry-path */
	unsigned max_requests;		/* --web.max-requests, 0: no limit */
	atomic_uint in_flight;		/* telemetry requests under way */
};

/*
 * One request, from its request line (request_started) to its end
 * (request_completed): *con_cls. NULL when it could not be allocated;
 * the request is then served but neither counted nor limited.
 */
struct request {
	double started;			/* monotonic */
	enum selfstat_handler handler;	/* by its URL */
	unsigned status;		/* the status queued, 0: none yet */
	bool seen;			/* the headers' call came */
	bool in_flight;			/* holds a --web.max-requests place */
};

/* The handler label of URL (selfstat.h). */
static enum selfstat_handler
handler_of(const struct http_server *h, const char *url)
{
	static const struct {
		const char *path;
		enum selfstat_handler h;
	} fixed[] = {
		{ "/", SELF_H_PAGE }, { "/advice", SELF_H_ADVICE },
		{ "/model", SELF_H_MODEL }, { "/api/history", SELF_H_HISTORY },
		{ "/healthz", SELF_H_HEALTHZ },
	};

	if (url == NULL)
		return SELF_H_OTHER;
	if (strcmp(url, h->telemetry_path) == 0)
		return SELF_H_METRICS;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(url, fixed[i].path) == 0)
			return fixed[i].h;
	return SELF_H_OTHER;
}

/* The current web config, referenced (SIGHUP may swap it meanwhile). */
static struct webconfig *
current_wc(struct http_server *h)
{
	struct webconfig *wc;

	pthread_mutex_lock(&h->lock);
	wc = webconfig_ref(h->wc);
	pthread_mutex_unlock(&h->lock);
	return wc;
}

struct webconfig *
http_config(struct http_server *h)
{
	return current_wc(h);
}

/* Remove header NAME from R if it is there (to replace its value). */
static void
drop_header(struct MHD_Response *r, const char *name)
{
	const char *v = MHD_get_response_header(r, name);
	char *copy;

	if (v == NULL || (copy = strdup(v)) == NULL)
		return;
	MHD_del_response_header(r, name, copy);
	free(copy);
}

/*
 * Headers every response carries: nosniff and http_server_config.headers.
 * A configured header replaces the value twaudit would send (nosniff, the
 * page's Content-Security-Policy): a response never has one name twice.
 */
static void
common_headers(struct MHD_Response *r, const struct webconfig *wc)
{
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	for (size_t i = 0; wc != NULL && i < webconfig_header_count(wc); i++) {
		const char *name, *value;

		webconfig_header(wc, i, &name, &value);
		drop_header(r, name);
		MHD_add_response_header(r, name, value);
	}
}

/* Bodies larger than this are gzipped when the client accepts it. */
#define GZIP_MIN_BYTES 512

static enum MHD_Result
send_response(struct MHD_Connection *conn, const struct webconfig *wc,
    unsigned status, const char *type, const char *body, size_t len,
    enum MHD_ResponseMemoryMode mode, bool gz)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, mode);
	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free((void *)(uintptr_t)body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
	if (strcmp(type, CT_HTML) == 0)
		MHD_add_response_header(r, "Content-Security-Policy", page_csp);
	common_headers(r, wc);
	if (gz)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static bool
client_accepts_gzip(struct MHD_Connection *conn)
{
	return negotiate_gzip(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_ACCEPT_ENCODING));
}

/* Send BODY (which we own), gzipped when large enough and accepted. */
static enum MHD_Result
send_buffer(struct MHD_Connection *conn, const struct webconfig *wc,
    unsigned status, const char *type, char *body, size_t len)
{
	bool gz = false;

	if (len >= GZIP_MIN_BYTES && client_accepts_gzip(conn)) {
		char *z;
		size_t zlen;

		if (gzip_buffer(body, len, &z, &zlen) == 0) {
			free(body);
			body = z;
			len = zlen;
			gz = true;
		}
	}
	return send_response(conn, wc, status, type, body, len,
	    MHD_RESPMEM_MUST_FREE, gz);
}

static enum MHD_Result
send_text(struct MHD_Connection *conn, const struct webconfig *wc,
    unsigned status, const char *text)
{
	char *body = strdup(text);

	if (body == NULL)
		return MHD_NO;
	return send_buffer(conn, wc, status, CT_TEXT, body, strlen(body));
}

static enum MHD_Result
serve_snapshot(struct MHD_Connection *conn, const struct webconfig *wc,
    struct collector *c, enum selfstat_handler route, const char *telemetry)
{
	struct snapshot *s = collector_get(c);
	char *body = NULL;
	const char *type;
	size_t len = 0;

	if (s == NULL)
		return send_text(conn, wc, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "no data collected yet\n");
	if (route == SELF_H_METRICS) {
		enum expo_format fmt = negotiate_format(
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_ACCEPT));
		bool gz = client_accepts_gzip(conn);
		const struct rendered *r = render_prom_cached(s, fmt, gz);
		enum MHD_Result ret;

		/* MHD copies the body: the snapshot may go before the send. */
		ret = r == NULL ? send_text(conn, wc,
		    MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n") :
		    send_response(conn, wc, MHD_HTTP_OK, fmt == EXPO_OPENMETRICS ?
		    CT_OPENMETRICS : CT_PROM, r->body, r->len,
		    MHD_RESPMEM_MUST_COPY, gz);
		snapshot_unref(s);
		return ret;
	} else if (route == SELF_H_ADVICE) {
		json_t *j = render_advice(s);

		if (j != NULL)
			body = render_json_text(j, &len);
		json_decref(j);
		type = CT_JSON;
	} else if (route == SELF_H_MODEL) {
		body = render_model(s, &len);
		type = CT_JSON;
	} else {
		body = page_render(s, telemetry, &len);
		type = CT_HTML;
	}
	snapshot_unref(s);
	if (body == NULL)
		return send_text(conn, wc, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory\n");
	return send_buffer(conn, wc, MHD_HTTP_OK, type, body, len);
}

/*
 * Client certificates, as Go's tls.ClientAuthType would decide them. MHD
 * only asks for a certificate (when a client CA is set) and leaves the
 * verdict to us, so a refused client gets a 403 instead of a failed
 * handshake. 0 when the request may go on.
 */
static int
client_cert_ok(struct MHD_Connection *conn, const struct webconfig *wc,
    const char **why)
{
	enum client_auth mode = webconfig_client_auth(wc);
	const union MHD_ConnectionInfo *ci;
	gnutls_session_t sess;
	unsigned int n = 0, status = 0;
	bool given;

	if (!webconfig_tls(wc) || mode == CLIENT_AUTH_NONE ||
	    mode == CLIENT_AUTH_REQUEST)
		return 0;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL) {
		*why = "not a TLS connection";
		return -1;
	}
	sess = (gnutls_session_t)ci->tls_session;
	given = gnutls_certificate_get_peers(sess, &n) != NULL && n > 0;
	if (!given) {
		if (mode == CLIENT_AUTH_VERIFY_IF_GIVEN)
			return 0;
		*why = "client certificate required";
		return -1;
	}
	if (mode == CLIENT_AUTH_REQUIRE_ANY)
		return 0;
	if (gnutls_certificate_verify_peers2(sess, &status) < 0 || status != 0) {
		*why = "client certificate not trusted";
		return -1;
	}
	return 0;
}

/* Queue the refusal of an authentication: 401 with a challenge, or 503
 * when the bcrypt workers are saturated. */
static int
auth_refusal(struct MHD_Connection *conn, const struct webconfig *wc,
    bool busy, enum MHD_Result *ret)
{
	const char *body = busy ? "authentication busy, retry\n" :
	    "unauthorized\n";
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		*ret = MHD_NO;
		return -1;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CT_TEXT);
	common_headers(r, wc);
	if (busy) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
		*ret = MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, r);
	} else {
		*ret = MHD_queue_basic_auth_fail_response(conn, REALM, r);
	}
	MHD_destroy_response(r);
	return -1;
}

/*
 * 0 when basic auth is off or the credentials match; else a 401 (wrong,
 * missing or throttled credentials) or a 503 is queued. The Authorization
 * header is parsed here (auth_parse_basic): libmicrohttpd 0.9.75 wants the
 * scheme as "Basic" exactly and cuts passwords at a NUL.
 *
 * The polling thread waits for bcrypt (auth_check, at most
 * AUTH_WAIT_SECONDS) instead of suspending the connection: with
 * libmicrohttpd 0.9.75 a suspended connection that is closed, or whose
 * daemon a SIGHUP stops, would need its job cancelled from a completion
 * callback, or the worker would resume freed memory. The waits are kept
 * rare and short instead: a remembered success never waits, and any other
 * check is paid for by its address's bucket and a process-wide bcrypt
 * budget of AUTH_BUDGET_PER_SECOND (auth.h), so a polling thread spends at
 * most about a quarter of its time waiting for failing checks.
 */
static int
basic_auth(struct MHD_Connection *conn, struct webconfig *wc,
    enum MHD_Result *ret)
{
	char user[AUTH_MAX_USER], pass[AUTH_MAX_PASSWORD];
	const union MHD_ConnectionInfo *ci;
	enum auth_verdict v = AUTH_DENIED;
	const char *hdr = NULL;
	size_t hlen = 0;

	if (!webconfig_auth_required(wc))
		return 0;
	if (MHD_lookup_connection_value_n(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION, strlen(MHD_HTTP_HEADER_AUTHORIZATION),
	    &hdr, &hlen) == MHD_YES && hdr != NULL &&
	    auth_parse_basic(hdr, hlen, user, sizeof(user), pass,
	    sizeof(pass)) == 0) {
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		v = auth_check(auth_global(), wc, ci != NULL ?
		    ci->client_addr : NULL, user, pass);
		explicit_bzero(pass, sizeof(pass));
	} else {
		auth_count_missing();
	}
	if (v == AUTH_OK)
		return 0;
	return auth_refusal(conn, wc, v == AUTH_BUSY, ret);
}

/*
 * --web.max-requests, as promhttp's MaxRequestsInFlight: a telemetry
 * request takes a place from routing until libmicrohttpd reports it
 * completed (its response sent, or the connection gone), so slow readers
 * hold theirs. Over the limit: false, and the caller answers 503 at once.
 */
static bool
take_place(struct http_server *h, struct request *rq)
{
	if (h->max_requests == 0 || rq == NULL)
		return true;
	if (atomic_fetch_add(&h->in_flight, 1) >= h->max_requests) {
		atomic_fetch_sub(&h->in_flight, 1);
		return false;
	}
	rq->in_flight = true;
	return true;
}

static enum MHD_Result
route(struct MHD_Connection *conn, struct http_server *h,
    struct webconfig *wc, struct request *rq, const char *url,
    const char *method)
{
	enum selfstat_handler where = handler_of(h, url);
	enum MHD_Result ret;
	const char *why;
	char msg[96];

	if (client_cert_ok(conn, wc, &why) < 0) {
		snprintf(msg, sizeof(msg), "%s\n", why);
		return send_text(conn, wc, MHD_HTTP_FORBIDDEN, msg);
	}
	if (basic_auth(conn, wc, &ret) < 0)
		return ret;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return send_text(conn, wc, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed\n");
	switch (where) {
	case SELF_H_HEALTHZ:
		return send_text(conn, wc, MHD_HTTP_OK, "ok\n");
	case SELF_H_HISTORY: {
		size_t len;
		struct snapshot *s = collector_current(h->collector);
		char *body = render_history(s, &len);

		snapshot_unref(s);
		if (body == NULL)
			return send_text(conn, wc, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "out of memory\n");
		return send_buffer(conn, wc, MHD_HTTP_OK, CT_JSON, body, len);
	}
	case SELF_H_METRICS:
		if (!take_place(h, rq)) {
			snprintf(msg, sizeof(msg), "Limit of concurrent requests "
			    "reached (%u), try again later.\n", h->max_requests);
			return send_text(conn, wc, MHD_HTTP_SERVICE_UNAVAILABLE,
			    msg);
		}
		/* FALLTHROUGH */
	case SELF_H_ADVICE:
	case SELF_H_MODEL:
	case SELF_H_PAGE:
		return serve_snapshot(conn, wc, h->collector, where,
		    h->telemetry_path);
	default:
		return send_text(conn, wc, MHD_HTTP_NOT_FOUND, "not found\n");
	}
}

/* A request that may carry a body (which twaudit never reads). */
static bool
has_body(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (cl != NULL && strcmp(cl, "0") != 0) ||
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

/* *con_cls of a request without a struct request (out of memory). */
static int request_seen;

/*
 * libmicrohttpd calls this once when the headers are in and again when
 * the (empty) body is: a response queued on the first call makes it
 * answer "Connection: close", so a bodiless GET or HEAD is answered on
 * the second. Anything else is answered at once, without reading its
 * body, and its connection closes.
 */
static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server *h = cls;
	struct request *rq = *con_cls == (void *)&request_seen ? NULL :
	    *con_cls;
	bool seen = rq != NULL ? rq->seen : *con_cls != NULL;
	struct webconfig *wc;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	/* Bodies are never used: drop them instead of buffering. */
	*upload_data_size = 0;
	if (!seen && (strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0) && !has_body(conn)) {
		if (rq != NULL)
			rq->seen = true;
		else
			*con_cls = &request_seen;
		return MHD_YES;
	}
	wc = current_wc(h);
	if (rq != NULL)
		rq->handler = handler_of(h, url);
	ret = route(conn, h, wc, rq, url, method);
	webconfig_unref(wc);
	if (rq != NULL) {
		/* The status just queued (the response is there now). */
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		    conn, MHD_CONNECTION_INFO_HTTP_STATUS);

		if (ci != NULL)
			rq->status = ci->http_status;
	}
	return ret;
}

/*
 * Timeouts per connection state. A request line just read: the short
 * HTTP_TIMEOUT_SECONDS until the response has gone out. A request
 * answered in full: the idle timeout until the next request line, so a
 * scraper's kept-alive connection outlives its scrape interval and the
 * scraper closes it (and keeps the TIME-WAIT). The request's record
 * (struct request) starts here.
 */
static void *
request_started(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *h = cls;
	struct request *rq = calloc(1, sizeof(*rq));

	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
	    (unsigned)HTTP_TIMEOUT_SECONDS);
	if (rq != NULL) {
		char path[HTTP_MAX_PATH];
		size_t n = uri != NULL ? strcspn(uri, "?") : 0;

		rq->started = now_monotonic();
		/* Until handle() sees the decoded path: the URI's path part
		 * (a request libmicrohttpd answers itself keeps this). */
		rq->handler = SELF_H_OTHER;
		if (n > 0 && n < sizeof(path)) {
			memcpy(path, uri, n);
			path[n] = '\0';
			rq->handler = handler_of(h, path);
		}
	}
	return rq;
}

/*
 * Count the response (handler, the status libmicrohttpd queued, duration)
 * and give back the request's --web.max-requests place. A request that
 * ended with no response queued (the client went away, a timeout) is not
 * counted, as promhttp counts only responses written.
 *
 * Past half the connection limit, idle connections keep the short timeout:
 * clients that answer one request each and then sit idle cannot hold the
 * table for the idle timeout.
 */
static void
request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *h = cls;
	struct request *rq = *con_cls == (void *)&request_seen ? NULL :
	    *con_cls;
	const union MHD_ConnectionInfo *ci;

	*con_cls = NULL;
	if (rq != NULL) {
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_HTTP_STATUS);
		if (ci != NULL && ci->http_status != 0)
			rq->status = ci->http_status;
		if (rq->status != 0)
			selfstat_http_observe(rq->handler, rq->status,
			    now_monotonic() - rq->started);
		if (rq->in_flight)
			atomic_fetch_sub(&h->in_flight, 1);
		free(rq);
	}
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK &&
	    connlimit_total(h->conns) <= HTTP_MAX_CONNECTIONS / 2)
		MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
		    h->idle_timeout);
}

static const char *
addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a = NULL;

	if (sa != NULL && sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa != NULL && sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (a == NULL || inet_ntop(sa->sa_family, a, buf, (socklen_t)len) ==
	    NULL)
		snprintf(buf, len, "?");
	return buf;
}

/*
 * The place the accept policy reserved (connlimit_reserve), on its way to
 * the connection-started callback: libmicrohttpd calls both on the same
 * polling thread within one accept, so the reservation waits in a
 * per-thread slot. When libmicrohttpd drops the connection between the
 * two (no memory, a TLS session it cannot set up), no callback follows:
 * the thread's next accept, or its exit, gives the place back. So every
 * reservation is released exactly once: by the connection's close, or
 * there.
 */
struct pending {
	struct connlimit *cl;
	struct connlimit_entry *e;
};

static pthread_key_t pending_key;
static pthread_once_t pending_once = PTHREAD_ONCE_INIT;
static bool pending_ok;

static void
pending_release(struct pending *p)
{
	if (p->e != NULL)
		connlimit_release(p->cl, p->e);
	p->e = NULL;
}

static void
pending_exit(void *v)
{
	pending_release(v);
	free(v);
}

static void
pending_init(void)
{
	pending_ok = pthread_key_create(&pending_key, pending_exit) == 0;
}

/* This thread's slot (NULL without memory). */
static struct pending *
pending_slot(void)
{
	struct pending *p;

	if (pthread_once(&pending_once, pending_init) != 0 || !pending_ok)
		return NULL;
	if ((p = pthread_getspecific(pending_key)) == NULL &&
	    (p = calloc(1, sizeof(*p))) != NULL &&
	    pthread_setspecific(pending_key, p) != 0) {
		free(p);
		p = NULL;
	}
	return p;
}

/*
 * Accept policy: twaudit's limits (twlimits.h), below libmicrohttpd's,
 * so a refusal is counted here and libmicrohttpd never logs one. The
 * check and the count are one step (connlimit_reserve): polling threads
 * accepting at once cannot pass the last place together. The log line
 * goes through the rate limit (log.h).
 */
static enum MHD_Result
accept_policy(void *cls, const struct sockaddr *sa, socklen_t len)
{
	struct http_server *h = cls;
	struct pending *p = pending_slot();
	struct connlimit_entry *e = NULL;
	char a[INET6_ADDRSTRLEN];
	enum connlimit_verdict v;

	if (p != NULL)
		pending_release(p);	/* a connection libmicrohttpd dropped */
	v = p == NULL ? CONNLIMIT_NOMEM : connlimit_reserve(h->conns, sa, len,
	    &e);
	switch (v) {
	case CONNLIMIT_OK:
		p->cl = h->conns;
		p->e = e;
		return MHD_YES;
	case CONNLIMIT_TOTAL:
	case CONNLIMIT_NOMEM:
		selfstat_add(SELF_HTTP_REFUSED_LIMIT, 1);
		log_warn("HTTP connection refused", "reason=limit limit=%d "
		    "address=%s%s", HTTP_MAX_CONNECTIONS,
		    addr_text(sa, a, sizeof(a)), v == CONNLIMIT_NOMEM ?
		    " error=\"out of memory\"" : "");
		return MHD_NO;
	case CONNLIMIT_PER_ADDRESS:
		selfstat_add(SELF_HTTP_REFUSED_PER_ADDRESS, 1);
		log_warn("HTTP connection refused", "reason=per_address "
		    "limit=%d address=%s", HTTP_MAX_PER_CLIENT,
		    addr_text(sa, a, sizeof(a)));
		return MHD_NO;
	}
	return MHD_NO;
}

/*
 * A connection starts with the place its accept reserved, and gives it
 * back when it closes (libmicrohttpd also reports a close for a
 * connection it drops after the start).
 */
static void
connection_notify(void *cls, struct MHD_Connection *conn,
    void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *h = cls;
	struct pending *p;

	(void)conn;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		p = pending_slot();
		*socket_context = NULL;
		if (p != NULL && p->cl == h->conns) {
			*socket_context = p->e;
			p->e = NULL;
		}
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		connlimit_release(h->conns, *socket_context);
		*socket_context = NULL;
	}
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* libmicrohttpd's messages, rate-limited per format string. */
static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_keyed(LOG_WARN, fmt, "http", "error=%s",
	    log_quote(msg, (char[600]){ 0 }, 600));
}

/*
 * Start one daemon with WC's TLS settings on the listening socket FD, which
 * it takes over: MHD closes it when the daemon stops. When the start fails,
 * libmicrohttpd 0.9.75 has closed FD only if it got past parsing its
 * options (measured): callers use close_if_still().
 */
static struct MHD_Daemon *
start_daemon(struct http_server *h, const struct webconfig *wc,
    unsigned family_flags, int fd)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ERROR_LOG | MHD_USE_ITC | family_flags;
	struct MHD_OptionItem o[20];
	size_t n = 0;

#define OPT(opt, val, ptr) \
	o[n++] = (struct MHD_OptionItem){ (opt), (intptr_t)(val), (void *)(ptr) }
	OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL);
	/* The backstop; accept_policy() applies twaudit's lower limits. */
	OPT(MHD_OPTION_CONNECTION_LIMIT, HTTP_MHD_MAX_CONNECTIONS, NULL);
	OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, HTTP_MHD_MAX_PER_CLIENT, NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, connection_notify, h);
	OPT(MHD_OPTION_URI_LOG_CALLBACK, request_started, h);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, request_completed, h);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, HTTP_TIMEOUT_SECONDS, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_CONNECTION_MEMORY, NULL);
	OPT(MHD_OPTION_THREAD_POOL_SIZE, HTTP_THREADS, NULL);
	OPT(MHD_OPTION_LISTEN_SOCKET, fd, NULL);
	if (webconfig_tls(wc)) {
		flags |= MHD_USE_TLS;
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, webconfig_cert_pem(wc));
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, webconfig_key_pem(wc));
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, webconfig_priorities(wc));
		if (webconfig_client_auth(wc) != CLIENT_AUTH_NONE)
			OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, webconfig_ca_pem(wc));
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	return MHD_start_daemon(flags, 0, accept_policy, h, handle, h,
	    MHD_OPTION_ARRAY, o, MHD_OPTION_END);
}

/* Close FD after a failed start_daemon() only if it still is the socket
 * LS describes (its number may already belong to something else). */
static void
close_if_still(int fd, const struct stat *ls)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && st.st_dev == ls->st_dev &&
	    st.st_ino == ls->st_ino)
		close(fd);
}

/*
 * A socket listening on SA, set up as libmicrohttpd sets up its own:
 * SO_REUSEADDR, IPV6_V6ONLY off for the dual-stack wildcard (DUAL) and on
 * for any other IPv6 address, a SOMAXCONN backlog, non-blocking and
 * close-on-exec. -1 with errno.
 */
static int
listen_socket(const struct sockaddr *sa, socklen_t salen, bool dual)
{
	int fd, one = 1, v6only = dual ? 0 : 1, e;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0) ||
	    bind(fd, sa, salen) < 0 || listen(fd, SOMAXCONN) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Bind listener I to ADDR. 0, or -1 with ERR. */
static int
listen_one(struct http_server *h, size_t i, const char *addr, char *err,
    size_t errlen)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char host[256], portstr[8];
	unsigned port;
	int rc, fd;

	if (http_split_address(addr, host, sizeof(host), &port, err, errlen) < 0)
		return -1;
	if (host[0] == '\0') {
		/* ":PORT": every address, IPv6 and IPv4, IPv4 only if no IPv6. */
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6,
		    .sin6_port = htons((uint16_t)port), .sin6_addr = IN6ADDR_ANY_INIT };
		struct sockaddr_in s4 = { .sin_family = AF_INET,
		    .sin_port = htons((uint16_t)port),
		    .sin_addr.s_addr = htonl(INADDR_ANY) };

		h->family_flags[i] = MHD_USE_DUAL_STACK;
		fd = listen_socket((struct sockaddr *)&s6, sizeof(s6), true);
		/* IPv4 alone only where IPv6 is missing, not when the port
		 * is taken or not permitted (that error is the answer). */
		if (fd < 0 && (errno == EAFNOSUPPORT ||
		    errno == EPROTONOSUPPORT || errno == EADDRNOTAVAIL)) {
			h->family_flags[i] = 0;
			fd = listen_socket((struct sockaddr *)&s4, sizeof(s4),
			    false);
		}
	} else {
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		snprintf(portstr, sizeof(portstr), "%u", port);
		rc = getaddrinfo(host, portstr, &hints, &ai);
		if (rc != 0) {
			set_error(err, errlen, "listen address '%s': %s", addr,
			    gai_strerror(rc));
			return -1;
		}
		h->family_flags[i] = ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0;
		fd = listen_socket(ai->ai_addr, ai->ai_addrlen, false);
		freeaddrinfo(ai);
	}
	if (fd < 0) {
		int e = errno;

		set_error(err, errlen, "cannot listen on %s: %s%s", addr,
		    strerror(e), (e == EACCES || e == EPERM) && port < 1024 ?
		    " (a port below 1024 needs root or CAP_NET_BIND_SERVICE)" :
		    "");
		return -1;
	}
	h->fd[i] = fd;
	h->addr[i] = addr;
	return 0;
}

struct http_server *
http_listen(const char *const *addrs, size_t n, char *err, size_t errlen)
{
	struct http_server *h;

	/* (NULL, 0): an empty server for http_listen_systemd() to fill. */
	if ((n == 0 && addrs != NULL) || n > HTTP_MAX_LISTEN) {
		set_error(err, errlen, "between 1 and %d listen addresses",
		    HTTP_MAX_LISTEN);
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		set_error(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	for (size_t i = 0; i < HTTP_MAX_LISTEN; i++)
		h->fd[i] = -1;
	h->idle_timeout = HTTP_IDLE_TIMEOUT_SECONDS;
	snprintf(h->telemetry_path, sizeof(h->telemetry_path), "/metrics");
	h->max_requests = HTTP_MAX_REQUESTS_DEFAULT;
	atomic_init(&h->in_flight, 0);
	if ((h->conns = connlimit_new(HTTP_MAX_CONNECTIONS,
	    HTTP_MAX_PER_CLIENT)) == NULL) {
		set_error(err, errlen, "out of memory");
		http_stop(h);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (listen_one(h, i, addrs[i], err, errlen) < 0) {
			http_stop(h);
			return NULL;
		}
		h->n++;
	}
	return h;
}

struct http_server *
http_listen_systemd(char *err, size_t errlen)
{
	struct http_server *h;
	unsigned n;
	int family, v6only;

	if (sd_listen_parse(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
	    getpid(), HTTP_MAX_LISTEN, &n, err, errlen) < 0)
		return NULL;
	/* As sd_listen_fds(1): nothing started later sees them. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if ((h = http_listen(NULL, 0, err, errlen)) == NULL)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + (int)i;

		if (sd_listen_check(fd, &family, &v6only, h->sd_name[i],
		    sizeof(h->sd_name[i]), err, errlen) < 0) {
			http_stop(h);
			return NULL;
		}
		h->fd[i] = fd;
		h->addr[i] = h->sd_name[i];
		h->family_flags[i] = family == AF_INET6 ? (v6only ?
		    MHD_USE_IPv6 : MHD_USE_DUAL_STACK) : 0;
		h->n++;
	}
	return h;
}

size_t
http_addresses(const struct http_server *h, const char **out, size_t max)
{
	size_t i;

	for (i = 0; i < h->n && i < max; i++)
		out[i] = h->addr[i];
	return i;
}

int
http_start(struct http_server *h, struct collector *c, struct webconfig *wc,
    char *err, size_t errlen)
{
	h->collector = c;
	h->wc = wc != NULL ? webconfig_ref(wc) : webconfig_none();
	if (h->wc == NULL) {
		set_error(err, errlen, "out of memory");
		return -1;
	}
	if (webconfig_auth_required(h->wc))
		auth_prepare(auth_global());
	for (size_t i = 0; i < h->n; i++) {
		int fd = h->fd[i];
		struct stat ls;

		if (fstat(fd, &ls) < 0) {
			set_error(err, errlen, "listening socket for %s: %s",
			    h->addr[i], strerror(errno));
			return -1;
		}
		/* The daemon owns the socket from here. */
		h->fd[i] = -1;
		h->d[i] = start_daemon(h, h->wc, h->family_flags[i], fd);
		if (h->d[i] == NULL) {
			close_if_still(fd, &ls);
			set_error(err, errlen, "cannot serve HTTP on %s "
			    "(libmicrohttpd refused to start, see the log)",
			    h->addr[i]);
			return -1;
		}
	}
	return 0;
}

/*
 * New daemons for WC on the same listening sockets: each new daemon starts
 * on a duplicate of the old one's socket, so the port never closes, then the
 * old daemon stops accepting and finishes its connections. On a failure the
 * daemons started so far keep running with the new settings and the rest
 * with the old ones (and -1 says so).
 */
static int
restart_daemons(struct http_server *h, struct webconfig *wc, char *err,
    size_t errlen)
{
	for (size_t i = 0; i < h->n; i++) {
		const union MHD_DaemonInfo *di;
		struct MHD_Daemon *nd;
		struct stat ls;
		int fd, old;

		di = MHD_get_daemon_info(h->d[i], MHD_DAEMON_INFO_LISTEN_FD);
		if (di == NULL ||
		    (fd = fcntl(di->listen_fd, F_DUPFD_CLOEXEC, 0)) < 0) {
			set_error(err, errlen, "cannot reuse listening socket");
			return -1;
		}
		if (fstat(fd, &ls) < 0) {
			close(fd);
			set_error(err, errlen, "cannot reuse listening socket");
			return -1;
		}
		nd = start_daemon(h, wc, h->family_flags[i], fd);
		if (nd == NULL) {
			close_if_still(fd, &ls);
			set_error(err, errlen, "cannot restart the listener with "
			    "the new TLS settings");
			return -1;
		}
		old = MHD_quiesce_daemon(h->d[i]);
		MHD_stop_daemon(h->d[i]);
		if (old >= 0)
			close(old);
		h->d[i] = nd;
	}
	return 0;
}

int
http_reload(struct http_server *h, struct webconfig *wc, char *err,
    size_t errlen)
{
	struct webconfig *old;
	int rc = 0;

	if (webconfig_auth_required(wc))
		auth_prepare(auth_global());
	pthread_mutex_lock(&h->lock);
	old = h->wc;
	h->wc = webconfig_ref(wc);
	pthread_mutex_unlock(&h->lock);
	if (webconfig_tls_differs(old, wc))
		rc = restart_daemons(h, wc, err, errlen);
	webconfig_unref(old);
	return rc;
}

void
http_stop(struct http_server *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++) {
		if (h->d[i] != NULL)
			MHD_stop_daemon(h->d[i]);
		else if (h->fd[i] >= 0)
			close(h->fd[i]);
	}
	webconfig_unref(h->wc);
	connlimit_free(h->conns);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

void
http_set_idle_timeout(struct http_server *h, unsigned seconds)
{
	h->idle_timeout = seconds > 0 ? seconds : HTTP_IDLE_TIMEOUT_SECONDS;
}

int
http_set_telemetry(struct http_server *h, const char *path,
    unsigned max_requests, char *err, size_t errlen)
{
	if (http_telemetry_path_check(path, err, errlen) < 0)
		return -1;
	snprintf(h->telemetry_path, sizeof(h->telemetry_path), "%s", path);
	h->max_requests = max_requests;
	return 0;
}

int
http_telemetry_path_check(const char *path, char *err, size_t errlen)
{
	static const char *const taken[] = {
		"/", "/advice", "/model", "/api/history", "/healthz",
	};
	size_t n = strlen(path);

	if (path[0] != '/' || n < 2 || n >= HTTP_MAX_PATH) {
		set_error(err, errlen, "'%s' must start with '/', name a path "
		    "other than '/' and be shorter than %d bytes", path,
		    HTTP_MAX_PATH);
		return -1;
	}
	/* Characters a URL path carries as they are (RFC 3986 unreserved,
	 * sub-delims aside), so the path matches the request as sent. */
	if (strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-._~/") != n || strstr(path, "//") != NULL ||
	    strstr(path, "/./") != NULL || strstr(path, "/../") != NULL ||
	    (n >= 2 && strcmp(path + n - 2, "/.") == 0) ||
	    (n >= 3 && strcmp(path + n - 3, "/..") == 0)) {
		set_error(err, errlen, "'%s': use letters, digits, '-', '.', "
		    "'_', '~' and single '/' separators (no '.' or '..' "
		    "segments)", path);
		return -1;
	}
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
		if (strcmp(path, taken[i]) == 0) {
			set_error(err, errlen, "'%s' is twaudit's own page; "
			    "choose another path", path);
			return -1;
		}
	return 0;
}
