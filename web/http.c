/* libmicrohttpd front end: routing, methods, limits, content types. */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "twlimits.h"
#include "log.h"
#include "negotiate.h"
#include "page.h"
#include "render.h"
#include "util.h"

#define CT_JSON "application/json"
#define CT_TEXT "text/plain; charset=utf-8"
#define CT_HTML "text/html; charset=utf-8"

struct http_server {
	size_t n;
	struct MHD_Daemon *d[HTTP_MAX_LISTEN];
	struct collector *collector;
};

/* Bodies larger than this are gzipped when the client accepts it. */
#define GZIP_MIN_BYTES 512

static enum MHD_Result
send_buffer(struct MHD_Connection *conn, unsigned status, const char *type,
    char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	const char *ae;
	bool gz = false;

	ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_ACCEPT_ENCODING);
	if (len >= GZIP_MIN_BYTES && negotiate_gzip(ae)) {
		char *z;
		size_t zlen;

		if (gzip_buffer(body, len, &z, &zlen) == 0) {
			free(body);
			body = z;
			len = zlen;
			gz = true;
		}
	}
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
	if (gz)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
send_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	char *body = strdup(text);

	if (body == NULL)
		return MHD_NO;
	return send_buffer(conn, status, CT_TEXT, body, strlen(body));
}

static enum MHD_Result
serve_snapshot(struct MHD_Connection *conn, struct collector *c,
    const char *url)
{
	struct snapshot *s = collector_get(c);
	char *body = NULL;
	const char *type;
	size_t len = 0;

	if (s == NULL)
		return send_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "no data collected yet\n");
	if (strcmp(url, "/metrics") == 0) {
		enum expo_format fmt = negotiate_format(
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_ACCEPT));

		body = render_prom(s, fmt, &len);
		type = fmt == EXPO_OPENMETRICS ? CT_OPENMETRICS : CT_PROM;
	} else if (strcmp(url, "/advice") == 0) {
		json_t *j = render_advice(s);

		if (j != NULL)
			body = render_json_text(j, &len);
		json_decref(j);
		type = CT_JSON;
	} else {
		body = page_render(s, &len);
		type = CT_HTML;
	}
	snapshot_unref(s);
	if (body == NULL)
		return send_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory\n");
	return send_buffer(conn, MHD_HTTP_OK, type, body, len);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server *h = cls;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	/* Bodies are never used: drop them instead of buffering. */
	*upload_data_size = 0;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return send_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed\n");
	if (strcmp(url, "/healthz") == 0)
		return send_text(conn, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/api/history") == 0) {
		size_t len;
		char *body = render_history(h->collector, &len);

		if (body == NULL)
			return send_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "out of memory\n");
		return send_buffer(conn, MHD_HTTP_OK, CT_JSON, body, len);
	}
	if (strcmp(url, "/metrics") == 0 || strcmp(url, "/advice") == 0 ||
	    strcmp(url, "/") == 0)
		return serve_snapshot(conn, h->collector, url);
	return send_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

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
	log_warn("http", "error=%s", log_quote(msg, (char[600]){ 0 }, 600));
}

int
http_split_address(const char *addr, char *host, size_t hostlen,
    unsigned *port, char *err, size_t errlen)
{
	const char *colon, *hs = addr;
	size_t hl;
	uint64_t p;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		hs = addr + 1;
		hl = (size_t)(close - hs);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL)
			goto bad;
		hl = (size_t)(colon - addr);
		if (memchr(addr, ':', hl) != NULL)
			goto bad;	/* bare IPv6 needs brackets */
	}
	if (hl >= hostlen)
		goto bad;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (parse_u64(colon + 1, strlen(colon + 1), &p) < 0 || p > 65535)
		goto bad;
	*port = (unsigned)p;
	return 0;
bad:
	set_error(err, errlen, "invalid listen address '%s' (want HOST:PORT, "
	    "[IPV6]:PORT or :PORT)", addr);
	return -1;
}

static struct MHD_Daemon *
start_one(struct http_server *h, const char *addr, char *err, size_t errlen)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ERROR_LOG;
	struct addrinfo hints = { 0 }, *ai = NULL;
	struct MHD_Daemon *d;
	char host[256], portstr[8];
	unsigned port;
	int rc;

	if (http_split_address(addr, host, sizeof(host), &port, err, errlen) < 0)
		return NULL;
#define OPTS \
	MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL, \
	MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS, \
	MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_MAX_PER_CLIENT, \
	MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_SECONDS, \
	MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY, \
	MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_THREADS
	if (host[0] == '\0') {
		/* ":PORT": every address, IPv6 and IPv4, IPv4 only if no IPv6. */
		d = MHD_start_daemon(flags | MHD_USE_DUAL_STACK, (uint16_t)port,
		    NULL, NULL, handle, h, OPTS, MHD_OPTION_END);
		if (d == NULL)
			d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL,
			    handle, h, OPTS, MHD_OPTION_END);
	} else {
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV;
		snprintf(portstr, sizeof(portstr), "%u", port);
		rc = getaddrinfo(host, portstr, &hints, &ai);
		if (rc != 0) {
			set_error(err, errlen, "listen address '%s': %s", addr,
			    gai_strerror(rc));
			return NULL;
		}
		d = MHD_start_daemon(flags |
		    (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		    (uint16_t)port, NULL, NULL, handle, h, OPTS,
		    MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_END);
		freeaddrinfo(ai);
	}
#undef OPTS
	if (d == NULL)
		set_error(err, errlen, "cannot listen on %s (address in use or "
		    "not permitted?)", addr);
	return d;
}

struct http_server *
http_start(const char *const *addrs, size_t n, struct collector *c,
    char *err, size_t errlen)
{
	struct http_server *h;

	if (n == 0 || n > HTTP_MAX_LISTEN) {
		set_error(err, errlen, "between 1 and %d listen addresses",
		    HTTP_MAX_LISTEN);
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		set_error(err, errlen, "out of memory");
		return NULL;
	}
	h->collector = c;
	for (size_t i = 0; i < n; i++) {
		h->d[i] = start_one(h, addrs[i], err, errlen);
		if (h->d[i] == NULL) {
			http_stop(h);
			return NULL;
		}
		h->n++;
	}
	return h;
}

void
http_stop(struct http_server *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++)
		MHD_stop_daemon(h->d[i]);
	free(h);
}
