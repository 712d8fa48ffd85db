/* Receiving a netlink dump with a deadline (see nlrecv.h). */
#include "collectors/nlrecv.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>

#include "lib/util.h"

int
nl_recv_kernel(struct nl_sock *sk, double deadline, unsigned char **buf,
    const char *who, uint32_t timeout_ms, char *err, size_t errlen)
{
	for (;;) {
		struct sockaddr_nl from;
		struct pollfd pfd = { nl_socket_get_fd(sk), POLLIN, 0 };
		struct ucred *creds = NULL;
		double left = deadline - now_monotonic();
		int rc, n;

		*buf = NULL;
		if (left <= 0 || (rc = poll(&pfd, 1, (int)(left * 1000) + 1))
		    == 0) {
			set_error(err, errlen, "%s: dump timed out after %u ms",
			    who, timeout_ms);
			return 0;
		}
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			set_error(err, errlen, "%s: poll: %s", who,
			    strerror(errno));
			return 0;
		}
		memset(&from, 0, sizeof(from));
		n = nl_recv(sk, &from, buf, &creds);
		free(creds);
		if (n <= 0) {
			free(*buf);
			*buf = NULL;
			if (n == 0 || n == -NLE_AGAIN)
				continue;	/* spurious wakeup */
			set_error(err, errlen, "%s: recv: %s", who,
			    nl_geterror(n));
			return n;
		}
		if (from.nl_pid != 0) {		/* not from the kernel */
			free(*buf);
			*buf = NULL;
			continue;
		}
		return n;
	}
}

enum source_state
nl_error_state(int nlerr)
{
	if (nlerr < 0)
		nlerr = -nlerr;
	return nlerr == NLE_PERM || nlerr == NLE_NOACCESS ?
	    SOURCE_UNAVAILABLE : SOURCE_FAILED;
}
