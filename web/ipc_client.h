/*
 * The web process's side of serve's IPC (ipc_proto.h): a body_source that
 * asks the collector process over a pool of SOCK_SEQPACKET channels, one
 * request at a time on each, so concurrent HTTP threads never wait for
 * each other's replies; cached scrapes need no round trip.
 */
#ifndef TWAUDIT_IPC_CLIENT_H
#define TWAUDIT_IPC_CLIENT_H

#include <stddef.h>

#include "web/body.h"

struct ipc_client;

struct ipc_shared;

/*
 * Take over the N channel descriptors FDS (closed by ipc_client_free).
 * A request gets its reply within WAIT seconds or fails (the front end
 * answers 503). With SHARED (the collector's published generation), a
 * request the collector would answer from its current snapshot, one
 * collected less than MIN_INTERVAL seconds ago (--collect.min-interval),
 * is answered with the body last received for that generation, endpoint,
 * format and encoding, without a round trip. NULL on allocation failure
 * (FDS are closed then too).
 */
struct ipc_client *ipc_client_new(const int *fds, size_t n, double wait,
    const struct ipc_shared *shared, double min_interval);
struct body_source ipc_client_source(struct ipc_client *c);
void ipc_client_free(struct ipc_client *c);

#endif
