/*
 * The collector process's side of serve's IPC (ipc_proto.h): one thread
 * per channel reads a request, refuses and counts it
 * (twaudit_ipc_messages_refused_total) unless it parses strictly, else
 * takes the web process's counters and answers with the body SRC gives.
 */
#ifndef TWAUDIT_IPC_SERVER_H
#define TWAUDIT_IPC_SERVER_H

#include <stddef.h>

#include "web/body.h"

struct ipc_server;

/*
 * Serve the N channel descriptors FDS (taken over) from SRC (copied).
 * NULL with ERR when a thread could not start (FDS are closed).
 */
struct ipc_server *ipc_server_start(const int *fds, size_t n,
    const struct body_source *src, char *err, size_t errlen);
/* Wake and join the threads, close the channels (NULL is fine). */
void ipc_server_stop(struct ipc_server *s);

#endif
