/*
 * serve's IPC messages (web/ipc_proto.c) as the collector reads them from
 * the web process (any bytes: the web side is the one exposed to the
 * network) and as the web process reads replies. A message that parses
 * must encode back to the same bytes: nothing is accepted loosely.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/ipc_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char out[IPC_REQUEST_LEN + IPC_REPLY_LEN];
	struct ipc_request rq;
	struct ipc_reply rp;

	if (ipc_request_parse(data, size, &rq) == IPC_OK) {
		if (size != IPC_REQUEST_LEN || rq.id == 0 ||
		    (unsigned)rq.req.endpoint >= BODY_NENDPOINTS ||
		    ipc_request_encode(&rq, out, sizeof(out)) != size ||
		    memcmp(out, data, size) != 0)
			abort();
	}
	if (ipc_reply_parse(data, size, &rp) == IPC_OK) {
		if (size != IPC_REPLY_LEN || rp.body_len > IPC_MAX_BODY ||
		    (unsigned)rp.type >= BODY_NTYPES ||
		    ipc_reply_encode(&rp, out, sizeof(out)) != size ||
		    memcmp(out, data, size) != 0)
			abort();
	}
	return 0;
}
