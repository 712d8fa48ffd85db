/* Resource limits of the HTTP endpoint, in one place. */
#ifndef TWAUDIT_TWLIMITS_H
#define TWAUDIT_TWLIMITS_H

#define HTTP_MAX_LISTEN 8		/* --web.listen-address given at most */
/*
 * All clients together. Above the 10 000 concurrent connections of the
 * abuse test (tests/integration/http_abuse.sh): at 1 024, idle attackers
 * filled the table, the kernel's accept queue backed up and a scrape from
 * another address timed out or waited for SYN retransmits (2.5 s). serve
 * raises RLIMIT_NOFILE to HTTP_NOFILE for it. Worst-case memory: every
 * slot holding a full HTTP_CONNECTION_MEMORY pool, 16384 x 8 KiB =
 * 128 MiB, plus kernel socket buffers (docs/reliability.md).
 */
#define HTTP_MAX_CONNECTIONS 16384
#define HTTP_MAX_PER_CLIENT 32		/* connections from one address */
#define HTTP_TIMEOUT_SECONDS 10		/* idle or slow connection */
/*
 * Between the requests of a kept-alive connection (default of
 * --web.idle-timeout): above Prometheus's usual 15-60 s scrape interval,
 * so that the scraper, not twaudit, closes the connection (the TIME-WAIT
 * stays on the scraper's side). A request begun gets HTTP_TIMEOUT_SECONDS.
 */
#define HTTP_IDLE_TIMEOUT_SECONDS 120
/*
 * libmicrohttpd's own limits, a backstop above ours: twaudit's accept
 * policy (connlimit.h) refuses at HTTP_MAX_CONNECTIONS and
 * HTTP_MAX_PER_CLIENT and counts the refusal, while a refusal by
 * libmicrohttpd 0.9.75 would write a log line per connection.
 */
#define HTTP_MHD_MAX_CONNECTIONS (HTTP_MAX_CONNECTIONS + 512)
#define HTTP_MHD_MAX_PER_CLIENT (2 * HTTP_MAX_PER_CLIENT)
/*
 * Request line + headers + response headers, per connection. Scrapers
 * send a few hundred bytes (Prometheus ~300, with basic auth ~400);
 * larger requests get 414 (URL) or 431 (headers).
 */
#define HTTP_CONNECTION_MEMORY (8 * 1024)
/* Descriptors: every connection, plus netlink, capture, files. */
#define HTTP_NOFILE (HTTP_MAX_CONNECTIONS + 1024)
#define HTTP_THREADS 2			/* polling threads */
/* --web.telemetry-path, with its NUL. */
#define HTTP_MAX_PATH 256
/* --web.max-requests' default, node_exporter's. */
#define HTTP_MAX_REQUESTS_DEFAULT 40

#endif
