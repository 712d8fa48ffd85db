/*
 * The web process's side of serve's IPC (ipc_proto.h): a body_source that
 * asks the collector process over a pool of SOCK_SEQPACKET channels, one
 * request at a time on each, so concurrent HTTP threads never wait for
 * each other's replies.
 */
#ifndef TWAUDIT_IPC_CLIENT_H
#define TWAUDIT_IPC_CLIENT_H

#include <stddef.h>

#include "web/body.h"

struct ipc_client;

/*
 * Take over the N channel descriptors FDS (closed by ipc_client_free).
 * A request gets its reply within WAIT seconds or fails (the front end
 * answers 503). NULL on allocation failure (FDS are closed then too).
 */
struct ipc_client *ipc_client_new(const int *fds, size_t n, double wait);
struct body_source ipc_client_source(struct ipc_client *c);
void ipc_client_free(struct ipc_client *c);

#endif
