/*
 * The kernel's TCP peer table from the "tcp_metrics" generic netlink
 * family, with libnl-genl: genl_ctrl_resolve() for the family id, a
 * TCP_METRICS_CMD_GET dump sent with nl_send_auto(), every datagram read
 * with nl_recv() after a poll() bounded by the time left, and walked by
 * tcp_metrics_parse() with libnl's nlmsg_* / genlmsg_* / nla_* helpers.
 */
#include "collectors/nlbuf.h"
#include "collectors/nlrecv.h"
#include "collectors/tcp_metrics.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/tcp_metrics.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "lib/util.h"

#define TM_MSG_BUF (64 * 1024)

/* The attributes after the generic header must tile the payload. */
static int
attrs_fit(struct nlmsghdr *nlh)
{
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct nlattr *nla;
	int rem;

	nla_for_each_attr(nla, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0),
	    rem) {
		/* only walking */
	}
	return rem <= 0;
}

/* ADDR (IPv4 be32 or IPv6 16 bytes) into *A; -1 if too short. */
static int
get_addr(struct nlattr *v4, struct nlattr *v6, struct sock_diag_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (v4 != NULL) {
		if (nla_len(v4) < 4)
			return -1;
		a->family = AF_INET;
		memcpy(a->addr, nla_data(v4), 4);
		return 0;
	}
	if (v6 != NULL) {
		if (nla_len(v6) < 16)
			return -1;
		a->family = AF_INET6;
		memcpy(a->addr, nla_data(v6), 16);
		return 0;
	}
	return 0;
}

/* A u64 or (older kernels) u32 attribute; -1 if neither size. */
static int
get_uint(struct nlattr *nla, uint64_t *v)
{
	uint32_t v32;

	if (nla_len(nla) >= 8) {
		memcpy(v, nla_data(nla), 8);
		return 0;
	}
	if (nla_len(nla) >= 4) {
		memcpy(&v32, nla_data(nla), 4);
		*v = v32;
		return 0;
	}
	return -1;
}

static int
parse_entry(struct tcp_metrics_stats *acc, struct nlmsghdr *nlh, char *err,
    size_t errlen)
{
	struct nlattr *tb[TCP_METRICS_ATTR_MAX + 1];
	struct tcp_metrics_entry st;
	struct nlattr *tsval, *stamp;
	uint32_t max = acc->max_entries ? acc->max_entries :
	    TCP_METRICS_MAX_ENTRIES;

	if (!genlmsg_valid_hdr(nlh, 0) ||
	    genlmsg_parse(nlh, 0, tb, TCP_METRICS_ATTR_MAX, NULL) < 0 ||
	    !attrs_fit(nlh)) {
		set_error(err, errlen, "tcp_metrics: garbled entry of %u bytes",
		    nlh->nlmsg_len);
		return -1;
	}
	memset(&st, 0, sizeof(st));
	if (get_addr(tb[TCP_METRICS_ATTR_ADDR_IPV4],
	    tb[TCP_METRICS_ATTR_ADDR_IPV6], &st.addr) < 0 ||
	    st.addr.family == 0) {
		set_error(err, errlen, "tcp_metrics: entry without a valid "
		    "address");
		return -1;
	}
	if (get_addr(tb[TCP_METRICS_ATTR_SADDR_IPV4],
	    tb[TCP_METRICS_ATTR_SADDR_IPV6], &st.saddr) < 0) {
		set_error(err, errlen, "tcp_metrics: short source address");
		return -1;
	}
	if (tb[TCP_METRICS_ATTR_AGE] != NULL &&
	    get_uint(tb[TCP_METRICS_ATTR_AGE], &st.age_ms) < 0) {
		set_error(err, errlen, "tcp_metrics: short AGE attribute");
		return -1;
	}
	tsval = tb[TCP_METRICS_ATTR_TW_TSVAL];
	stamp = tb[TCP_METRICS_ATTR_TW_TS_STAMP];
	/* The kernel puts both or neither (tcp_metrics_fill_info). */
	if ((tsval == NULL) != (stamp == NULL) ||
	    (tsval != NULL && (nla_len(tsval) < 4 || nla_len(stamp) < 4))) {
		set_error(err, errlen, "tcp_metrics: TW_TSVAL and TW_TS_STAMP "
		    "not both present and 4 bytes");
		return -1;
	}
	if (acc->peers >= max) {
		acc->truncated = true;
		acc->dropped++;
		return 0;
	}
	acc->peers++;
	if (st.addr.family == AF_INET)
		acc->peers_v4++;
	else
		acc->peers_v6++;
	if (tsval != NULL) {
		st.has_tw = true;
		memcpy(&st.tsval, nla_data(tsval), 4);
		memcpy(&st.stamp_age_s, nla_data(stamp), 4);
	}
	if (acc->nlisted < TCP_METRICS_MAX_LISTED)
		acc->listed[acc->nlisted++] = st;
	if (!st.has_tw)
		return 0;
	acc->has_tw_attrs = true;
	acc->tw_peers++;
	/* get_seconds() - tcpm_ts_stamp: the passive check drops while
	 * this is below TCP_PAWS_MSL (a clock step can make it negative,
	 * which the kernel's unsigned compare also treats as fresh). */
	if (st.stamp_age_s >= TCP_METRICS_FRESH_S)
		return 0;
	acc->recent_stamps++;
	if (acc->nrecent < TCP_METRICS_MAX_RECENT)
		acc->recent[acc->nrecent++] = st;
	else
		acc->recent_dropped++;
	return 0;
}

int
tcp_metrics_parse(const void *buf, size_t len, int family_id,
    struct tcp_metrics_stats *acc, char *err, size_t errlen)
{
	struct nlmsghdr *nlh;
	void *copy = NULL;
	int rem, ret = TCP_METRICS_PARSE_MORE;

	if (len > (size_t)INT32_MAX) {
		set_error(err, errlen, "tcp_metrics: %zu bytes in one read",
		    len);
		return -1;
	}
	if (len == 0)
		return TCP_METRICS_PARSE_MORE;
	if ((buf = nlbuf_aligned(buf, len, &copy)) == NULL) {
		set_error(err, errlen, "tcp_metrics: out of memory");
		return -1;
	}
	nlh = (struct nlmsghdr *)buf;
	rem = (int)len;
	for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem)) {
		if ((acc->expect_seq != 0 &&
		    nlh->nlmsg_seq != acc->expect_seq) ||
		    (acc->expect_portid != 0 &&
		    nlh->nlmsg_pid != acc->expect_portid)) {
			acc->foreign_msgs++;
			continue;
		}
		if (nlh->nlmsg_type == NLMSG_NOOP)
			continue;
		if (nlh->nlmsg_type == NLMSG_DONE) {
			ret = TCP_METRICS_PARSE_DONE;
			goto out;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr e;

			if (!nlmsg_valid_hdr(nlh, sizeof(e))) {
				set_error(err, errlen, "tcp_metrics: "
				    "NLMSG_ERROR cut short (%u bytes)",
				    nlh->nlmsg_len);
				ret = -1;
				goto out;
			}
			memcpy(&e, nlmsg_data(nlh), sizeof(e));
			if (e.error == 0)
				continue;	/* an ACK */
			acc->kernel_error = e.error == INT32_MIN ? EINVAL :
			    (e.error < 0 ? -e.error : e.error);
			set_error(err, errlen, "tcp_metrics: kernel: %s",
			    strerror(acc->kernel_error));
			ret = -1;
			goto out;
		}
		if (family_id <= 0 || nlh->nlmsg_type != family_id) {
			set_error(err, errlen, "tcp_metrics: unexpected message "
			    "type %u", nlh->nlmsg_type);
			ret = -1;
			goto out;
		}
		if (parse_entry(acc, nlh, err, errlen) < 0) {
			ret = -1;
			goto out;
		}
	}
	if (rem > 0) {
		set_error(err, errlen, "tcp_metrics: %d bytes left that are "
		    "not a whole netlink message", rem);
		ret = -1;
	}
out:
	free(copy);
	return ret;
}

enum source_state
tcp_metrics_resolve_state(int rc)
{
	if (rc >= 0)
		return SOURCE_OK;
	if (rc == -NLE_OBJ_NOTFOUND)
		return SOURCE_NOT_APPLICABLE;
	return nl_error_state(rc);
}

static enum source_state
dump(struct nl_sock *sk, int family, struct tcp_metrics_stats *acc,
    double deadline, uint32_t timeout_ms, char *err, size_t errlen)
{
	struct nl_msg *msg;
	int rc;

	msg = nlmsg_alloc();
	if (msg == NULL || genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family,
	    0, NLM_F_DUMP, TCP_METRICS_CMD_GET, TCP_METRICS_GENL_VERSION) ==
	    NULL) {
		nlmsg_free(msg);
		set_error(err, errlen, "tcp_metrics: out of memory");
		return SOURCE_FAILED;
	}
	rc = nl_send_auto(sk, msg);
	acc->expect_seq = nlmsg_hdr(msg)->nlmsg_seq;
	acc->expect_portid = nl_socket_get_local_port(sk);
	nlmsg_free(msg);
	if (rc < 0) {
		set_error(err, errlen, "tcp_metrics: send: %s",
		    nl_geterror(rc));
		return nl_error_state(rc);
	}
	for (;;) {
		unsigned char *buf;
		int n = nl_recv_kernel(sk, deadline, &buf, "tcp_metrics",
		    timeout_ms, err, errlen);

		if (n == 0)
			return SOURCE_FAILED;
		if (n < 0)
			return nl_error_state(n);
		rc = tcp_metrics_parse(buf, (size_t)n, family, acc, err,
		    errlen);
		free(buf);
		if (rc < 0)
			return acc->kernel_error != 0 ?
			    source_state_from_errno(acc->kernel_error) :
			    SOURCE_FAILED;
		if (rc == TCP_METRICS_PARSE_DONE || acc->truncated)
			return SOURCE_OK;
	}
}

enum source_state
tcp_metrics_collect(struct tcp_metrics_stats *out,
    const struct tcp_metrics_limits *lim, char *err, size_t errlen)
{
	struct tcp_metrics_limits l = { 0 };
	enum source_state st;
	struct nl_sock *sk;
	struct timeval tv;
	double deadline;
	int rc, family;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	if (lim != NULL)
		l = *lim;
	if (l.max_entries == 0)
		l.max_entries = TCP_METRICS_MAX_ENTRIES;
	if (l.timeout_ms == 0)
		l.timeout_ms = TCP_METRICS_TIMEOUT_MS;
	out->max_entries = l.max_entries;
	deadline = now_monotonic() + l.timeout_ms / 1000.0;

	sk = nl_socket_alloc();
	if (sk == NULL) {
		set_error(err, errlen, "tcp_metrics: out of memory");
		return SOURCE_FAILED;
	}
	rc = genl_connect(sk);
	if (rc < 0) {
		set_error(err, errlen, "tcp_metrics: socket: %s",
		    nl_geterror(rc));
		st = nl_error_state(rc);
		goto done;
	}
	/* genl_ctrl_resolve() reads blocking: bound it by SO_RCVTIMEO. */
	tv.tv_sec = l.timeout_ms / 1000;
	tv.tv_usec = (l.timeout_ms % 1000) * 1000;
	(void)setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv));
	family = genl_ctrl_resolve(sk, TCP_METRICS_GENL_NAME);
	st = tcp_metrics_resolve_state(family);
	if (st != SOURCE_OK) {
		if (st == SOURCE_NOT_APPLICABLE)
			set_error(err, errlen, "tcp_metrics: no such generic "
			    "netlink family (kernel before 3.7)");
		else
			set_error(err, errlen, "tcp_metrics: resolving the "
			    "family: %s", nl_geterror(family));
		goto done;
	}
	nl_socket_disable_auto_ack(sk);
	nl_socket_disable_msg_peek(sk);
	(void)nl_socket_set_msg_buf_size(sk, TM_MSG_BUF);
	st = dump(sk, family, out, deadline, l.timeout_ms, err, errlen);
	out->dump_wall = now_wall();
done:
	nl_socket_free(sk);
	return st;
}
