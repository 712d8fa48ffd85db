/* Receiving a netlink dump with a deadline (sock_diag and tcp_metrics). */
#ifndef TWAUDIT_NLRECV_H
#define TWAUDIT_NLRECV_H

#include <stddef.h>
#include <stdint.h>

#include <netlink/socket.h>

#include "lib/source.h"

/*
 * The next datagram the kernel sends on SK, waiting at most until
 * DEADLINE (now_monotonic() seconds): returns its length > 0 with *BUF
 * (the caller frees it). Datagrams from other senders and spurious
 * wakeups are skipped. Returns 0 on a timeout or a poll() error, with ERR
 * set ("WHO: dump timed out after TIMEOUT_MS ms"), or a negative libnl
 * error of nl_recv(), with ERR set too.
 */
int nl_recv_kernel(struct nl_sock *sk, double deadline, unsigned char **buf,
    const char *who, uint32_t timeout_ms, char *err, size_t errlen);

/* A libnl error as a source state: a refused permission is
 * "unavailable", anything else "failed". */
enum source_state nl_error_state(int nlerr);

#endif
