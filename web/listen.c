/* Listen addresses: de-duplication before bind, systemd's sockets. */
#include "web/listen.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "lib/util.h"

int
http_split_address(const char *addr, char *host, size_t hostlen,
    unsigned *port, char *err, size_t errlen)
{
	const char *colon, *hs = addr;
	size_t hl;
	uint64_t p;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		hs = addr + 1;
		hl = (size_t)(close - hs);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL)
			goto bad;
		hl = (size_t)(colon - addr);
		if (memchr(addr, ':', hl) != NULL)
			goto bad;	/* bare IPv6 needs brackets */
	}
	if (hl >= hostlen)
		goto bad;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (parse_u64(colon + 1, strlen(colon + 1), &p) < 0 || p > 65535)
		goto bad;
	*port = (unsigned)p;
	return 0;
bad:
	set_error(err, errlen, "invalid listen address '%s' (want HOST:PORT, "
	    "[IPV6]:PORT or :PORT)", addr);
	return -1;
}

/* More than the command line can give (CLI_MAX_LIST). */
#define LISTEN_DEDUPE_MAX 16

enum host_kind { H_ANY, H_ANY4, H_ANY6, H_V4, H_V6, H_NAME, H_BAD };

struct laddr {
	enum host_kind kind;
	unsigned port;
	char host[256];		/* canonical: inet_ntop form, names lowercased */
};

static void
classify(const char *addr, struct laddr *a)
{
	unsigned char buf[16];
	char err[8];

	a->kind = H_BAD;
	if (http_split_address(addr, a->host, sizeof(a->host), &a->port, err,
	    sizeof(err)) < 0)
		return;
	if (a->host[0] == '\0') {
		a->kind = H_ANY;
	} else if (inet_pton(AF_INET, a->host, buf) == 1) {
		inet_ntop(AF_INET, buf, a->host, sizeof(a->host));
		a->kind = strcmp(a->host, "0.0.0.0") == 0 ? H_ANY4 : H_V4;
	} else if (inet_pton(AF_INET6, a->host, buf) == 1) {
		inet_ntop(AF_INET6, buf, a->host, sizeof(a->host));
		a->kind = strcmp(a->host, "::") == 0 ? H_ANY6 : H_V6;
	} else {
		for (char *p = a->host; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		a->kind = H_NAME;
	}
}

/* Does wildcard W cover the different address A (same port)? */
static bool
covers(const struct laddr *w, const struct laddr *a)
{
	if (w->kind == H_BAD || a->kind == H_BAD || w->port != a->port ||
	    w->kind == a->kind)
		return false;
	switch (w->kind) {
	case H_ANY:
		return true;
	case H_ANY4:
		return a->kind == H_V4;
	case H_ANY6:
		return a->kind == H_V6;
	default:
		return false;
	}
}

static bool
same(const struct laddr *a, const struct laddr *b)
{
	return a->kind != H_BAD && a->kind == b->kind && a->port == b->port &&
	    strcmp(a->host, b->host) == 0;
}

size_t
listen_dedupe(const char **addrs, size_t n)
{
	struct laddr a[LISTEN_DEDUPE_MAX];
	bool drop[LISTEN_DEDUPE_MAX] = { false };
	char q1[300], q2[300];
	size_t kept = 0;

	if (n > LISTEN_DEDUPE_MAX)
		return n;	/* http_listen refuses that many anyway */
	for (size_t i = 0; i < n; i++)
		classify(addrs[i], &a[i]);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n && !drop[i]; j++) {
			if (j == i)
				continue;
			if (j < i && same(&a[j], &a[i])) {
				drop[i] = true;
				log_info("listen address given twice, listening "
				    "once", "address=%s",
				    log_quote(addrs[i], q1, sizeof(q1)));
			} else if (covers(&a[j], &a[i])) {
				drop[i] = true;
				log_warn("listen address covered by a wildcard "
				    "address, listening on the wildcard only",
				    "address=%s wildcard=%s",
				    log_quote(addrs[i], q1, sizeof(q1)),
				    log_quote(addrs[j], q2, sizeof(q2)));
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!drop[i])
			addrs[kept++] = addrs[i];
	return kept;
}

int
sd_listen_parse(const char *pid_s, const char *fds_s, pid_t pid,
    unsigned max, unsigned *n, char *err, size_t errlen)
{
	uint64_t p, f;

	if (pid_s == NULL || fds_s == NULL) {
		set_error(err, errlen, "no sockets from systemd (LISTEN_PID and "
		    "LISTEN_FDS are not set: start serve from a .socket unit "
		    "or systemd-socket-activate)");
		return -1;
	}
	if (parse_u64(pid_s, strlen(pid_s), &p) < 0 || p == 0) {
		set_error(err, errlen, "LISTEN_PID is not a process id");
		return -1;
	}
	if (p != (uint64_t)pid) {
		set_error(err, errlen, "the systemd sockets are for process %llu, "
		    "not this one (%ld)", (unsigned long long)p, (long)pid);
		return -1;
	}
	if (parse_u64(fds_s, strlen(fds_s), &f) < 0 || f == 0 || f > max) {
		set_error(err, errlen, "LISTEN_FDS: want 1 to %u sockets", max);
		return -1;
	}
	*n = (unsigned)f;
	return 0;
}

int
sd_listen_check(int fd, int *family, int *v6only, char *name,
    size_t namelen, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss), ol;
	struct stat st;
	int type = 0, acc = 0, fl;
	char host[INET6_ADDRSTRLEN];
	unsigned port;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		set_error(err, errlen, "systemd fd %d is not a socket", fd);
		return -1;
	}
	ol = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) < 0 ||
	    type != SOCK_STREAM) {
		set_error(err, errlen, "systemd fd %d is not a stream socket "
		    "(ListenStream= in the .socket unit)", fd);
		return -1;
	}
	ol = sizeof(acc);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &ol) < 0 ||
	    acc == 0) {
		set_error(err, errlen, "systemd fd %d is not listening "
		    "(Accept=no in the .socket unit)", fd);
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
		set_error(err, errlen, "systemd fd %d is not a TCP socket "
		    "(IPv4 or IPv6)", fd);
		return -1;
	}
	*family = ss.ss_family;
	*v6only = 0;
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;

		ol = sizeof(*v6only);
		if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only, &ol) < 0)
			*v6only = 1;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
		snprintf(name, namelen, "[%s]:%u", host, port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
		snprintf(name, namelen, "%s:%u", host, port);
	}
	/* Ours now: not inherited by anything serve starts, and MHD polls. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    (fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		set_error(err, errlen, "systemd fd %d: %s", fd, strerror(errno));
		return -1;
	}
	return 0;
}
