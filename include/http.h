/* The HTTP endpoint: /metrics, /advice, /healthz and the page at /. */
#ifndef TWAUDIT_HTTP_H
#define TWAUDIT_HTTP_H

#include <stddef.h>

struct collector;
struct http_server;

/*
 * Listen on each of the N addresses ("[ADDR]:PORT", ":PORT" for every
 * address) and serve snapshots from C. NULL with ERR on failure.
 */
struct http_server *http_start(const char *const *addrs, size_t n,
    struct collector *c, char *err, size_t errlen);
void http_stop(struct http_server *h);

/* Split "host:port" / "[v6]:port" / ":port". 0, or -1 with ERR. */
int http_split_address(const char *addr, char *host, size_t hostlen,
    unsigned *port, char *err, size_t errlen);

#endif
