/* The collector side of serve's IPC (ipc_server.h). */
#include "web/ipc_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/selfstat.h"
#include "lib/util.h"
#include "web/ipc_proto.h"

/* A web process that stops reading cannot hold a thread longer. */
#define IPC_SEND_TIMEOUT_SECONDS 10

struct channel {
	int fd;
	pthread_t thread;
	bool started;
	const struct ipc_server *srv;
};

struct ipc_server {
	struct body_source src;
	size_t n;
	struct channel ch[];
};

/* Send one packet. 0, or -1 (the peer is gone or stalled). */
static int
send_packet(int fd, const void *p, size_t len)
{
	ssize_t n;

	do
		n = send(fd, p, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

/* The reply to request ID: the header, then the body's packets. */
static int
send_reply(int fd, uint32_t id, const struct body *b)
{
	unsigned char hdr[IPC_REPLY_LEN];
	struct ipc_reply r = { .id = id, .status = b->status, .type = b->type,
	    .gzip = b->gzip, .body_len = (uint32_t)b->len,
	    .generation = b->status == 200 ? b->generation : 0 };
	struct body toobig;

	if (b->len > IPC_MAX_BODY) {
		body_static(&toobig, 500, "body too large\n");
		return send_reply(fd, id, &toobig);
	}
	if (ipc_reply_encode(&r, hdr, sizeof(hdr)) == 0 ||
	    send_packet(fd, hdr, sizeof(hdr)) < 0)
		return -1;
	for (size_t o = 0; o < b->len; o += IPC_CHUNK) {
		size_t n = b->len - o < IPC_CHUNK ? b->len - o : IPC_CHUNK;

		if (send_packet(fd, b->data + o, n) < 0)
			return -1;
	}
	return 0;
}

/* A message that is not a request: counted and dropped, no reply. */
static void
refuse(const char *why, size_t len)
{
	selfstat_add(SELF_IPC_REFUSED, 1);
	log_warn("IPC message refused", "reason=%s bytes=%zu", why, len);
}

static void *
channel_main(void *arg)
{
	struct channel *ch = arg;
	/* One byte more than a request: a longer packet shows as MSG_TRUNC. */
	unsigned char buf[IPC_REQUEST_LEN + 1];
	struct ipc_request req;
	struct body b;
	ssize_t n;
	int rc;

	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		n = recvmsg(ch->fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* the web process is gone, or we stop */
		if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
			refuse(mh.msg_flags & MSG_TRUNC ? "oversized" :
			    "control data", (size_t)n);
			continue;
		}
		if ((rc = ipc_request_parse(buf, (size_t)n, &req)) != IPC_OK) {
			refuse(ipc_error_name(rc), (size_t)n);
			continue;
		}
		selfstat_peer_update(&req.counters);
		memset(&b, 0, sizeof(b));
		if (ch->srv->src.get(ch->srv->src.ctx, &req.req, &b) < 0)
			body_static(&b, 503, "no body\n");
		rc = send_reply(ch->fd, req.id, &b);
		body_release(&b);
		if (rc < 0)
			break;
	}
	return NULL;
}

struct ipc_server *
ipc_server_start(const int *fds, size_t n, const struct body_source *src,
    char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = IPC_SEND_TIMEOUT_SECONDS };
	struct ipc_server *s = calloc(1, sizeof(*s) + n * sizeof(s->ch[0]));

	if (s == NULL) {
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
		set_error(err, errlen, "out of memory");
		return NULL;
	}
	s->src = *src;
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		s->ch[i].fd = fds[i];
		s->ch[i].srv = s;
		setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	for (size_t i = 0; i < n; i++) {
		int rc = pthread_create(&s->ch[i].thread, NULL, channel_main,
		    &s->ch[i]);

		if (rc != 0) {
			set_error(err, errlen, "cannot start the IPC threads: %s",
			    strerror(rc));
			ipc_server_stop(s);
			return NULL;
		}
		s->ch[i].started = true;
		pthread_setname_np(s->ch[i].thread, "tw-ipc");
	}
	return s;
}

void
ipc_server_stop(struct ipc_server *s)
{
	if (s == NULL)
		return;
	/* A blocked recvmsg returns 0 once its socket is shut down. */
	for (size_t i = 0; i < s->n; i++)
		shutdown(s->ch[i].fd, SHUT_RDWR);
	for (size_t i = 0; i < s->n; i++) {
		if (s->ch[i].started)
			pthread_join(s->ch[i].thread, NULL);
		close(s->ch[i].fd);
	}
	free(s);
}
