/* The HTTP endpoint: /metrics, /advice, /healthz and the page at /. */
#ifndef TWAUDIT_HTTP_H
#define TWAUDIT_HTTP_H

#include <stddef.h>

struct collector;
struct http_server;
struct webconfig;

/*
 * Open the listening sockets for the N addresses ("[ADDR]:PORT", ":PORT"
 * for every address, IPv6 and IPv4) and nothing else: no thread, no HTTP
 * yet. serve calls it before the privilege drop, so a port below 1024 needs
 * CAP_NET_BIND_SERVICE only here and never afterwards. ADDRS must outlive
 * the server (messages name them). NULL with ERR ("cannot listen on ADDR:
 * Address already in use") on failure.
 */
struct http_server *http_listen(const char *const *addrs, size_t n,
    char *err, size_t errlen);

/*
 * The same for the sockets systemd passes (--web.systemd-socket):
 * LISTEN_PID / LISTEN_FDS as sd_listen_fds(3) reads them, each descriptor
 * checked to be a listening TCP socket; the variables are unset. NULL with
 * ERR when there are none for this process or one is not such a socket.
 */
struct http_server *http_listen_systemd(char *err, size_t errlen);
/* The addresses H listens on, for the log: up to MAX into OUT, count. */
size_t http_addresses(const struct http_server *h, const char **out,
    size_t max);

/*
 * Serve snapshots from C on H's sockets, with the TLS and basic auth of WC
 * (NULL: plain HTTP, no auth; the server takes its own reference): starts
 * the libmicrohttpd daemons and their threads. -1 with ERR on failure
 * (http_stop() still frees H).
 */
int http_start(struct http_server *h, struct collector *c,
    struct webconfig *wc, char *err, size_t errlen);

/*
 * Use WC from the next request on (SIGHUP). When the TLS material changed
 * the listeners are restarted on their open sockets. -1 with ERR when a
 * listener could not be restarted (the old one keeps serving).
 */
int http_reload(struct http_server *h, struct webconfig *wc, char *err,
    size_t errlen);
/*
 * How long a kept-alive connection may wait for its next request, in
 * seconds (--web.idle-timeout; default HTTP_IDLE_TIMEOUT_SECONDS). A
 * request under way has HTTP_TIMEOUT_SECONDS. Before http_start().
 */
void http_set_idle_timeout(struct http_server *h, unsigned seconds);
/*
 * Serve the metrics at PATH (--web.telemetry-path; default "/metrics")
 * and answer 503 at once to a metrics request while MAX_REQUESTS are
 * under way (--web.max-requests; 0: no limit; default
 * HTTP_MAX_REQUESTS_DEFAULT). Before http_start(). -1 with ERR when PATH
 * is refused by http_telemetry_path_check().
 */
int http_set_telemetry(struct http_server *h, const char *path,
    unsigned max_requests, char *err, size_t errlen);
/*
 * 0 when PATH may be the telemetry path: it starts with '/', is not "/"
 * nor another of twaudit's routes (/advice, /model, /api/history,
 * /healthz), and holds only unreserved URL characters and single '/'
 * separators, no "." or ".." segment. -1 with ERR otherwise.
 */
int http_telemetry_path_check(const char *path, char *err, size_t errlen);
/* The web config in use, referenced (webconfig_unref() it). */
struct webconfig *http_config(struct http_server *h);
/* Stop the daemons, close the sockets, free H (NULL is fine). */
void http_stop(struct http_server *h);

#endif
