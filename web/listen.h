/* Listen addresses before they are bound: duplicates and wildcards, and
 * the sockets systemd passes (socket activation). */
#ifndef TWAUDIT_LISTEN_H
#define TWAUDIT_LISTEN_H

#include <stddef.h>
#include <sys/types.h>

/* Split "host:port" / "[v6]:port" / ":port". 0, or -1 with ERR. */
int http_split_address(const char *addr, char *host, size_t hostlen,
    unsigned *port, char *err, size_t errlen);

/*
 * Drop from ADDRS[0..N) ("HOST:PORT", "[V6]:PORT", ":PORT") what another
 * entry already listens on: an address given twice (numeric hosts compared
 * as addresses, "[::1]:80" = "[0::1]:80"; names as lower-case text) is kept
 * once with an info line, and an address that a wildcard on the same port
 * covers (":PORT" covers every host, "0.0.0.0:PORT" every IPv4 address,
 * "[::]:PORT" every IPv6 address) is dropped with a warning: binding both
 * would fail with "address already in use". Order is kept. Entries that do
 * not parse are kept (binding them reports the error). Returns the new N.
 */
size_t listen_dedupe(const char **addrs, size_t n);

/*
 * sd_listen_fds(3) semantics without libsystemd: PID_S and FDS_S are the
 * values of LISTEN_PID and LISTEN_FDS (NULL when unset). The sockets are
 * for this process only when LISTEN_PID is PID. 0 with *N (1..MAX) file
 * descriptors from SD_LISTEN_FDS_START; -1 with ERR.
 */
#define SD_LISTEN_FDS_START 3
int sd_listen_parse(const char *pid_s, const char *fds_s, pid_t pid,
    unsigned max, unsigned *n, char *err, size_t errlen);

/*
 * FD must be a listening stream socket of AF_INET or AF_INET6 (fstat
 * S_ISSOCK, SO_TYPE, SO_ACCEPTCONN, getsockname). Then it is made
 * close-on-exec and non-blocking, *FAMILY set, *V6ONLY to IPV6_V6ONLY (0
 * for IPv4) and NAME to "ADDR:PORT" ("[V6]:PORT"). 0, or -1 with ERR.
 */
int sd_listen_check(int fd, int *family, int *v6only, char *name,
    size_t namelen, char *err, size_t errlen);

#endif
