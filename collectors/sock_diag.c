/*
 * TCP socket statistics from NETLINK_SOCK_DIAG.
 *
 * libnl-idiag's cache would build one nl_object per socket (allocation,
 * attribute copies, a tcp_info copy) only for us to count it and drop it;
 * with 100k TIME-WAIT sockets that is most of the cost. So we use libnl's
 * socket and message API: nl_send_auto() for the request, nl_recv() for
 * each datagram, and nlmsg_ok/nlmsg_next/nlmsg_parse/nla_* to walk it in
 * sock_diag_parse(), the same function the tests and the fuzzer feed.
 *
 * Memory is bounded: 65536 per-port counters and a remote-address table of
 * at most lim->max_remotes entries (what does not fit is counted). The
 * ports and slots in use are also listed, so that the result and a reset
 * walk only those (a dump with a few TIME-WAIT sockets, or a fuzz input,
 * does not pay for 65536 ports and an 8192-slot table).
 * Time is bounded: poll() with the time left before every nl_recv()
 * (nl_recv_kernel(), nlrecv.c), and
 * at most lim->max_entries sockets are counted (the dump is then abandoned
 * and the result says it was truncated).
 */
#include "collectors/nlbuf.h"
#include "collectors/nlrecv.h"
#include "collectors/sock_diag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "lib/util.h"

/* Not in the UAPI headers: request sockets, reported as SYN-RECV. */
#define TCP_NEW_SYN_RECV_STATE 12
/* States 1..12 (TCP_ESTABLISHED .. TCP_NEW_SYN_RECV): everything ss -a
 * shows. TCP_BOUND_INACTIVE (13, 6.6+) is left out, as ss does. */
#define SD_REQ_STATES (((1u << 13) - 1) & ~1u)

/* Receive buffer for one datagram: the kernel sends dumps in chunks of
 * at most 32 KiB, so twice that is never truncated. */
#define SD_MSG_BUF (64 * 1024)
#define SD_RCVBUF (1024 * 1024)

const char *const sock_diag_state_name[SD_NSTATES] = {
	[SD_ESTABLISHED] = "established", [SD_SYN_SENT] = "syn_sent",
	[SD_SYN_RECV] = "syn_recv", [SD_FIN_WAIT1] = "fin_wait1",
	[SD_FIN_WAIT2] = "fin_wait2", [SD_TIME_WAIT] = "time_wait",
	[SD_CLOSE] = "close", [SD_CLOSE_WAIT] = "close_wait",
	[SD_LAST_ACK] = "last_ack", [SD_LISTEN] = "listen",
	[SD_CLOSING] = "closing",
};

struct remote_slot {
	struct sock_diag_addr addr;	/* family 0: empty */
	uint64_t count;
};

struct sock_diag_acc {
	struct sock_diag_limits lim;
	uint32_t seq, portid;		/* expected; 0 = any */
	int kernel_error;
	uint64_t entries;		/* sockets counted */
	struct sock_diag_stats tot;	/* totals; tops filled at the end */
	uint32_t port_tw[65536];	/* TIME-WAIT per port, saturating */
	uint16_t ports_used[65536];	/* ports with port_tw != 0 */
	size_t nports;
	struct remote_slot *remotes;	/* open addressing */
	size_t *remotes_used;		/* indices of the slots in use */
	size_t remote_mask;		/* table size - 1 */
	size_t nremotes;
};

static void
limits_or_defaults(const struct sock_diag_limits *in,
    struct sock_diag_limits *out)
{
	struct sock_diag_limits d = { 0 };

	if (in != NULL)
		d = *in;
	if (d.max_entries == 0)
		d.max_entries = SOCK_DIAG_MAX_ENTRIES;
	if (d.timeout_ms == 0)
		d.timeout_ms = SOCK_DIAG_TIMEOUT_MS;
	if (d.max_remotes == 0)
		d.max_remotes = SOCK_DIAG_MAX_REMOTES;
	*out = d;
}

struct sock_diag_acc *
sock_diag_acc_new(const struct sock_diag_limits *lim)
{
	struct sock_diag_acc *acc;
	size_t size = 2;

	acc = calloc(1, sizeof(*acc));
	if (acc == NULL)
		return NULL;
	limits_or_defaults(lim, &acc->lim);
	/* At most half full, so probes stay short. */
	while (size < 2 * (size_t)acc->lim.max_remotes)
		size *= 2;
	acc->remotes = calloc(size, sizeof(*acc->remotes));
	acc->remotes_used = calloc(acc->lim.max_remotes,
	    sizeof(*acc->remotes_used));
	if (acc->remotes == NULL || acc->remotes_used == NULL) {
		sock_diag_acc_free(acc);
		return NULL;
	}
	acc->remote_mask = size - 1;
	return acc;
}

void
sock_diag_acc_free(struct sock_diag_acc *acc)
{
	if (acc == NULL)
		return;
	free(acc->remotes);
	free(acc->remotes_used);
	free(acc);
}

void
sock_diag_acc_reset(struct sock_diag_acc *acc)
{
	for (size_t i = 0; i < acc->nports; i++)
		acc->port_tw[acc->ports_used[i]] = 0;
	acc->nports = 0;
	for (size_t i = 0; i < acc->nremotes; i++)
		memset(&acc->remotes[acc->remotes_used[i]], 0,
		    sizeof(*acc->remotes));
	acc->nremotes = 0;
	acc->seq = 0;
	acc->portid = 0;
	acc->kernel_error = 0;
	acc->entries = 0;
	memset(&acc->tot, 0, sizeof(acc->tot));
}

void
sock_diag_acc_expect(struct sock_diag_acc *acc, uint32_t seq, uint32_t portid)
{
	acc->seq = seq;
	acc->portid = portid;
}

int
sock_diag_acc_kernel_error(const struct sock_diag_acc *acc)
{
	return acc->kernel_error;
}

int
sock_diag_acc_full(const struct sock_diag_acc *acc)
{
	return acc->entries >= acc->lim.max_entries;
}

/* FNV-1a over the family and the address bytes in use. */
static size_t
addr_hash(const struct sock_diag_addr *a)
{
	size_t n = a->family == AF_INET ? 4 : 16;
	uint32_t h = 2166136261u;

	h = (h ^ a->family) * 16777619u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ a->addr[i]) * 16777619u;
	return h;
}

static void
remote_add(struct sock_diag_acc *acc, const struct sock_diag_addr *a)
{
	size_t i = addr_hash(a) & acc->remote_mask;

	for (;;) {
		struct remote_slot *s = &acc->remotes[i];

		if (s->addr.family == 0) {
			if (acc->nremotes >= acc->lim.max_remotes) {
				acc->tot.remotes_untracked++;
				return;
			}
			s->addr = *a;
			s->count = 1;
			acc->remotes_used[acc->nremotes++] = i;
			return;
		}
		if (memcmp(&s->addr, a, sizeof(*a)) == 0) {
			s->count++;
			return;
		}
		i = (i + 1) & acc->remote_mask;
	}
}

/* The peer address of an inet_diag socket id, IPv4-mapped made IPv4. */
static void
diag_addr(uint8_t family, const __be32 raw[4], struct sock_diag_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->addr, raw, 4);
		return;
	}
	if (memcmp(raw, mapped, sizeof(mapped)) == 0) {
		a->family = AF_INET;
		memcpy(a->addr, (const uint8_t *)raw + 12, 4);
		return;
	}
	a->family = AF_INET6;
	memcpy(a->addr, raw, 16);
}

/* The attributes after the header must tile the payload exactly. */
static int
attrs_fit(struct nlmsghdr *nlh, int hdrlen)
{
	struct nlattr *nla;
	int rem;

	nla_for_each_attr(nla, nlmsg_attrdata(nlh, hdrlen),
	    nlmsg_attrlen(nlh, hdrlen), rem) {
		/* only walking */
	}
	return rem <= 0;
}

static int
parse_socket(struct sock_diag_acc *acc, struct nlmsghdr *nlh, char *err,
    size_t errlen)
{
	struct nlattr *tb[INET_DIAG_MAX + 1];
	struct inet_diag_msg *r;
	struct sock_diag_addr a;
	unsigned state;
	int rc;

	if (!nlmsg_valid_hdr(nlh, sizeof(*r))) {
		set_error(err, errlen, "sock_diag: socket message of %u bytes, "
		    "shorter than inet_diag_msg", nlh->nlmsg_len);
		return -1;
	}
	r = nlmsg_data(nlh);
	if (r->idiag_family != AF_INET && r->idiag_family != AF_INET6) {
		set_error(err, errlen, "sock_diag: socket of family %u",
		    r->idiag_family);
		return -1;
	}
	rc = nlmsg_parse(nlh, sizeof(*r), tb, INET_DIAG_MAX, NULL);
	if (rc < 0 || !attrs_fit(nlh, sizeof(*r))) {
		set_error(err, errlen, "sock_diag: garbled attributes in a "
		    "socket message of %u bytes", nlh->nlmsg_len);
		return -1;
	}
	if (sock_diag_acc_full(acc)) {
		acc->tot.truncated = true;
		acc->tot.dropped++;
		return 0;
	}
	acc->entries++;
	if (r->idiag_family == AF_INET)
		acc->tot.sockets_v4++;
	else
		acc->tot.sockets_v6++;

	state = r->idiag_state;
	if (state == TCP_NEW_SYN_RECV_STATE)
		state = SD_SYN_RECV;
	if (state == 0 || state >= SD_NSTATES) {
		acc->tot.state_other++;
		return 0;
	}
	acc->tot.state[state]++;

	if (state == SD_TIME_WAIT) {
		uint16_t port = ntohs(r->id.idiag_sport);

		/* Saturate: a counter back at 0 would list the port twice. */
		if (acc->port_tw[port] == 0)
			acc->ports_used[acc->nports++] = port;
		if (acc->port_tw[port] < UINT32_MAX)
			acc->port_tw[port]++;
		diag_addr(r->idiag_family, r->id.idiag_dst, &a);
		remote_add(acc, &a);
	} else if (state == SD_ESTABLISHED && tb[INET_DIAG_INFO] != NULL) {
		/* Copy what arrived into a zeroed struct: the kernel's
		 * tcp_info may be shorter or longer than ours. */
		struct tcp_info ti;
		int n = nla_len(tb[INET_DIAG_INFO]);

		if (n >= (int)(offsetof(struct tcp_info, tcpi_options) +
		    sizeof(ti.tcpi_options))) {
			memset(&ti, 0, sizeof(ti));
			nla_memcpy(&ti, tb[INET_DIAG_INFO], sizeof(ti));
			acc->tot.est_info++;
			if (ti.tcpi_options & TCPI_OPT_TIMESTAMPS)
				acc->tot.est_ts++;
		}
	}
	return 0;
}

static int
parse_error_msg(struct sock_diag_acc *acc, struct nlmsghdr *nlh, char *err,
    size_t errlen, int *ack)
{
	struct nlmsgerr e;

	*ack = 0;
	if (!nlmsg_valid_hdr(nlh, sizeof(e))) {
		set_error(err, errlen, "sock_diag: NLMSG_ERROR cut short "
		    "(%u bytes)", nlh->nlmsg_len);
		return -1;
	}
	memcpy(&e, nlmsg_data(nlh), sizeof(e));
	if (e.error == 0) {
		*ack = 1;
		return 0;
	}
	/* INT32_MIN cannot be negated; anything else is -errno. */
	acc->kernel_error = e.error == INT32_MIN ? EINVAL :
	    (e.error < 0 ? -e.error : e.error);
	set_error(err, errlen, "sock_diag: kernel: %s",
	    strerror(acc->kernel_error));
	return -1;
}

int
sock_diag_parse(const void *buf, size_t len, struct sock_diag_acc *acc,
    char *err, size_t errlen)
{
	struct nlmsghdr *nlh;
	void *copy = NULL;
	int rem, ret = SOCK_DIAG_PARSE_MORE, ack;

	if (len > (size_t)INT32_MAX) {
		set_error(err, errlen, "sock_diag: %zu bytes in one read", len);
		return -1;
	}
	if (len == 0)
		return SOCK_DIAG_PARSE_MORE;
	if ((buf = nlbuf_aligned(buf, len, &copy)) == NULL) {
		set_error(err, errlen, "sock_diag: out of memory");
		return -1;
	}
	nlh = (struct nlmsghdr *)buf;
	rem = (int)len;
	for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem)) {
		if ((acc->seq != 0 && nlh->nlmsg_seq != acc->seq) ||
		    (acc->portid != 0 && nlh->nlmsg_pid != acc->portid)) {
			acc->tot.foreign_msgs++;
			continue;
		}
		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
			continue;
		case NLMSG_DONE:
			ret = SOCK_DIAG_PARSE_DONE;
			goto out;
		case NLMSG_ERROR:
			if (parse_error_msg(acc, nlh, err, errlen, &ack) < 0) {
				ret = -1;
				goto out;
			}
			continue;
		case SOCK_DIAG_BY_FAMILY:
			if (parse_socket(acc, nlh, err, errlen) < 0) {
				ret = -1;
				goto out;
			}
			continue;
		default:
			set_error(err, errlen, "sock_diag: unexpected message "
			    "type %u", nlh->nlmsg_type);
			ret = -1;
			goto out;
		}
	}
	if (rem > 0) {
		set_error(err, errlen, "sock_diag: %d bytes left that are not "
		    "a whole netlink message", rem);
		ret = -1;
	}
out:
	free(copy);
	return ret;
}

/* True when port P with count C ranks before TOP (higher count, then lower
 * port): the tops do not depend on the order the ports were seen in. */
static int
port_before(uint64_t c, uint16_t p, const struct sock_diag_port_count *top)
{
	return c > top->count || (c == top->count && p < top->port);
}

/* Insert (port, count) into a ranked top list of at most CAP. */
static void
top_ports_insert(struct sock_diag_port_count *top, size_t *n, size_t cap,
    uint16_t port, uint64_t count)
{
	size_t i = *n;

	if (i == cap) {
		if (!port_before(count, port, &top[cap - 1]))
			return;
		i = cap - 1;
	} else {
		(*n)++;
	}
	while (i > 0 && port_before(count, port, &top[i - 1])) {
		top[i] = top[i - 1];
		i--;
	}
	top[i].port = port;
	top[i].count = count;
}

/* The same for remotes: higher count, then family and address bytes. */
static int
remote_before(const struct remote_slot *s,
    const struct sock_diag_remote_count *top)
{
	int c;

	if (s->count != top->count)
		return s->count > top->count;
	if (s->addr.family != top->addr.family)
		return s->addr.family < top->addr.family;
	c = memcmp(s->addr.addr, top->addr.addr, sizeof(s->addr.addr));
	return c < 0;
}

static void
top_remotes_insert(struct sock_diag_remote_count *top, size_t *n, size_t cap,
    const struct remote_slot *s)
{
	size_t i = *n;

	if (i == cap) {
		if (!remote_before(s, &top[cap - 1]))
			return;
		i = cap - 1;
	} else {
		(*n)++;
	}
	while (i > 0 && remote_before(s, &top[i - 1])) {
		top[i] = top[i - 1];
		i--;
	}
	top[i].addr = s->addr;
	top[i].count = s->count;
}

void
sock_diag_acc_result(const struct sock_diag_acc *acc,
    struct sock_diag_stats *out)
{
	*out = acc->tot;
	out->timewait = out->state[SD_TIME_WAIT];
	out->ntop_ports = 0;
	out->timewait_ports = acc->nports;
	for (size_t i = 0; i < acc->nports; i++) {
		uint16_t p = acc->ports_used[i];

		top_ports_insert(out->top_ports, &out->ntop_ports,
		    SOCK_DIAG_TOP_PORTS, p, acc->port_tw[p]);
	}
	out->ntop_remotes = 0;
	out->timewait_remotes = acc->nremotes;
	for (size_t i = 0; i < acc->nremotes; i++)
		top_remotes_insert(out->top_remotes, &out->ntop_remotes,
		    SOCK_DIAG_TOP_REMOTES, &acc->remotes[acc->remotes_used[i]]);
}

void
sock_diag_addr_format(const struct sock_diag_addr *addr, char *out,
    size_t outlen)
{
	char tmp[INET6_ADDRSTRLEN];
	int af = addr->family == AF_INET ? AF_INET : AF_INET6;

	if (outlen == 0)
		return;
	if (inet_ntop(af, addr->addr, tmp, sizeof(tmp)) == NULL)
		tmp[0] = '\0';
	set_error(out, outlen, "%s", tmp);
}

/* Dump one family into ACC. */
static enum source_state
dump_family(struct nl_sock *sk, int family, struct sock_diag_acc *acc,
    double deadline, char *err, size_t errlen)
{
	struct inet_diag_req_v2 req;
	struct nl_msg *msg;
	uint32_t seq;
	int rc;

	memset(&req, 0, sizeof(req));
	req.sdiag_family = (uint8_t)family;
	req.sdiag_protocol = IPPROTO_TCP;
	req.idiag_ext = 1u << (INET_DIAG_INFO - 1);
	req.idiag_states = SD_REQ_STATES;

	msg = nlmsg_alloc_simple(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST |
	    NLM_F_DUMP);
	if (msg == NULL || nlmsg_append(msg, &req, sizeof(req),
	    NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		set_error(err, errlen, "sock_diag: out of memory");
		return SOURCE_FAILED;
	}
	rc = nl_send_auto(sk, msg);
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (rc < 0) {
		set_error(err, errlen, "sock_diag: send: %s", nl_geterror(rc));
		return nl_error_state(rc);
	}
	sock_diag_acc_expect(acc, seq, nl_socket_get_local_port(sk));

	for (;;) {
		unsigned char *buf;
		int n = nl_recv_kernel(sk, deadline, &buf, "sock_diag",
		    acc->lim.timeout_ms, err, errlen);

		if (n == 0)
			return SOURCE_FAILED;
		if (n < 0)
			return nl_error_state(n);
		rc = sock_diag_parse(buf, (size_t)n, acc, err, errlen);
		free(buf);
		if (rc < 0) {
			int kerr = acc->kernel_error;

			return kerr != 0 ? source_state_from_errno(kerr) :
			    SOURCE_FAILED;
		}
		/* Full is not enough: read on until a socket is refused, so
		 * "truncated" means something really was left out. */
		if (rc == SOCK_DIAG_PARSE_DONE || acc->tot.truncated)
			return SOURCE_OK;
	}
}

enum source_state
sock_diag_collect(struct sock_diag_stats *out,
    const struct sock_diag_limits *lim, char *err, size_t errlen)
{
	static const int families[] = { AF_INET, AF_INET6 };
	enum source_state st = SOURCE_OK;
	struct sock_diag_acc *acc;
	struct nl_sock *sk;
	double deadline;
	int rc;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	acc = sock_diag_acc_new(lim);
	if (acc == NULL) {
		set_error(err, errlen, "sock_diag: out of memory");
		return SOURCE_FAILED;
	}
	deadline = now_monotonic() + acc->lim.timeout_ms / 1000.0;
	sk = nl_socket_alloc();
	if (sk == NULL) {
		sock_diag_acc_free(acc);
		set_error(err, errlen, "sock_diag: out of memory");
		return SOURCE_FAILED;
	}
	rc = nl_connect(sk, NETLINK_SOCK_DIAG);
	if (rc < 0) {
		set_error(err, errlen, "sock_diag: socket: %s",
		    nl_geterror(rc));
		st = nl_error_state(rc);
		goto done;
	}
	nl_socket_disable_auto_ack(sk);
	nl_socket_disable_msg_peek(sk);
	(void)nl_socket_set_msg_buf_size(sk, SD_MSG_BUF);
	(void)nl_socket_set_buffer_size(sk, SD_RCVBUF, 0);

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		acc->kernel_error = 0;
		st = dump_family(sk, families[i], acc, deadline, err, errlen);
		if (st != SOURCE_OK && families[i] == AF_INET6 &&
		    acc->kernel_error == ENOENT) {
			/* No IPv6 in this kernel: no IPv6 sockets. */
			acc->tot.ipv6_absent = true;
			st = SOURCE_OK;
			if (errlen > 0)
				err[0] = '\0';
		}
		if (st != SOURCE_OK || acc->tot.truncated)
			break;
	}
done:
	nl_socket_free(sk);
	sock_diag_acc_result(acc, out);
	sock_diag_acc_free(acc);
	return st;
}
