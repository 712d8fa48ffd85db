/* The HTTP endpoint: /metrics, /advice, /healthz and the page at /. */
#ifndef TWAUDIT_HTTP_H
#define TWAUDIT_HTTP_H

#include <stddef.h>

struct collector;
struct http_server;
struct webconfig;

/*
 * Listen on each of the N addresses ("[ADDR]:PORT", ":PORT" for every
 * address) and serve snapshots from C, with the TLS and basic auth of WC
 * (NULL: plain HTTP, no auth; the server takes its own reference).
 * NULL with ERR on failure.
 */
struct http_server *http_start(const char *const *addrs, size_t n,
    struct collector *c, struct webconfig *wc, char *err, size_t errlen);

/*
 * Use WC from the next request on (SIGHUP). When the TLS material changed
 * the listeners are restarted on their open sockets. -1 with ERR when a
 * listener could not be restarted (the old one keeps serving).
 */
int http_reload(struct http_server *h, struct webconfig *wc, char *err,
    size_t errlen);
void http_stop(struct http_server *h);

/* Split "host:port" / "[v6]:port" / ":port". 0, or -1 with ERR. */
int http_split_address(const char *addr, char *host, size_t hostlen,
    unsigned *port, char *err, size_t errlen);

#endif
