/*
 * sock_diag_parse() on netlink messages built with libnl (nlmsg_alloc_simple,
 * nlmsg_append, nla_put), concatenated as one recvmsg() would return them;
 * plus cut and garbled buffers, which must give an error and never a crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "nlmsgs.h"
#include "collectors/sock_diag.h"
#include "lib/source.h"

#define SEQ 77
#define PORTID 4242

static struct nl_msg *
new_msg(int type)
{
	struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_MULTI);

	assert_non_null(msg);
	nlmsg_hdr(msg)->nlmsg_seq = SEQ;
	nlmsg_hdr(msg)->nlmsg_pid = PORTID;
	return msg;
}

/* A socket message. TS: -1 no INET_DIAG_INFO, 0/1 tcpi_options TS bit;
 * INFOLEN: bytes of tcp_info sent (0 = all). */
static void
add_sock(struct nlbuf *b, int family, int state, const char *src,
    uint16_t sport, const char *dst, uint16_t dport, int ts, size_t infolen)
{
	struct nl_msg *msg = new_msg(SOCK_DIAG_BY_FAMILY);
	struct inet_diag_msg r;

	memset(&r, 0, sizeof(r));
	r.idiag_family = (uint8_t)family;
	r.idiag_state = (uint8_t)state;
	r.id.idiag_sport = htons(sport);
	r.id.idiag_dport = htons(dport);
	assert_int_equal(inet_pton(family, src, r.id.idiag_src), 1);
	assert_int_equal(inet_pton(family, dst, r.id.idiag_dst), 1);
	assert_int_equal(nlmsg_append(msg, &r, sizeof(r), NLMSG_ALIGNTO), 0);
	if (ts >= 0) {
		struct tcp_info ti;

		memset(&ti, 0, sizeof(ti));
		ti.tcpi_state = (uint8_t)state;
		ti.tcpi_options = ts ? TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK :
		    TCPI_OPT_SACK;
		assert_int_equal(nla_put(msg, INET_DIAG_INFO,
		    infolen ? (int)infolen : (int)sizeof(ti), &ti), 0);
	}
	/* An attribute we do not use, to show it is skipped. */
	assert_int_equal(nla_put_u8(msg, INET_DIAG_SHUTDOWN, 0), 0);
	nlbuf_add(b, msg);
}

static void
add_done(struct nlbuf *b)
{
	struct nl_msg *msg = new_msg(NLMSG_DONE);
	int zero = 0;

	assert_int_equal(nlmsg_append(msg, &zero, sizeof(zero), 4), 0);
	nlbuf_add(b, msg);
}

static void
add_error(struct nlbuf *b, int error)
{
	struct nl_msg *msg = new_msg(NLMSG_ERROR);
	struct nlmsgerr e;

	memset(&e, 0, sizeof(e));
	e.error = error;
	assert_int_equal(nlmsg_append(msg, &e, sizeof(e), 4), 0);
	nlbuf_add(b, msg);
}

/* Parse from an exactly sized heap copy, so ASan sees any over-read. */
static int
parse_exact(const void *buf, size_t len, struct sock_diag_acc *acc,
    char *err, size_t errlen)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	rc = sock_diag_parse(copy, len, acc, err, errlen);
	free(copy);
	return rc;
}

static void
test_states_and_families(void **state)
{
	struct nlbuf b = { 0 };
	struct sock_diag_acc *acc = sock_diag_acc_new(NULL);
	struct sock_diag_stats st;
	char err[256];

	(void)state;
	add_sock(&b, AF_INET, SD_LISTEN, "0.0.0.0", 80, "0.0.0.0", 0, 1, 0);
	add_sock(&b, AF_INET, SD_ESTABLISHED, "10.0.0.1", 80, "10.0.0.2",
	    5000, 1, 0);
	add_sock(&b, AF_INET6, SD_ESTABLISHED, "2001:db8::1", 80,
	    "2001:db8::2", 5000, 0, 0);
	add_sock(&b, AF_INET, 12 /* NEW_SYN_RECV */, "10.0.0.1", 80,
	    "10.0.0.3", 5001, -1, 0);
	add_sock(&b, AF_INET, SD_CLOSE_WAIT, "10.0.0.1", 80, "10.0.0.4",
	    5002, -1, 0);
	add_sock(&b, AF_INET6, 13 /* BOUND_INACTIVE */, "::", 81, "::", 0,
	    -1, 0);
	add_done(&b);

	assert_non_null(acc);
	assert_int_equal(parse_exact(b.p, b.len, acc, err, sizeof(err)),
	    SOCK_DIAG_PARSE_DONE);
	sock_diag_acc_result(acc, &st);
	assert_int_equal(st.state[SD_LISTEN], 1);
	assert_int_equal(st.state[SD_ESTABLISHED], 2);
	assert_int_equal(st.state[SD_SYN_RECV], 1);
	assert_int_equal(st.state[SD_CLOSE_WAIT], 1);
	assert_int_equal(st.state_other, 1);
	assert_int_equal(st.sockets_v4, 4);
	assert_int_equal(st.sockets_v6, 2);
	assert_int_equal(st.timewait, 0);
	assert_int_equal(st.est_info, 2);
	assert_int_equal(st.est_ts, 1);
	assert_true(sock_diag_has_ts_ratio(&st));
	assert_true(sock_diag_ts_ratio(&st) == 0.5);
	assert_false(st.truncated);
	assert_string_equal(sock_diag_state_name[SD_TIME_WAIT], "time_wait");
	assert_string_equal(sock_diag_state_name[SD_FIN_WAIT1], "fin_wait1");
	sock_diag_acc_free(acc);
	free(b.p);
}

static void
test_timewait_ports_and_remotes(void **state)
{
	struct nlbuf b = { 0 };
	struct sock_diag_acc *acc = sock_diag_acc_new(NULL);
	struct sock_diag_stats st;
	char err[256], a[64];

	(void)state;
	/* port 443: 5, port 80: 3, ports 1000..1011: 1 each (12 ports) */
	for (int i = 0; i < 5; i++)
		add_sock(&b, AF_INET, SD_TIME_WAIT, "10.0.0.1", 443,
		    "198.51.100.7", (uint16_t)(6000 + i), -1, 0);
	for (int i = 0; i < 3; i++)
		add_sock(&b, AF_INET6, SD_TIME_WAIT, "::ffff:10.0.0.1", 80,
		    "::ffff:198.51.100.7", (uint16_t)(7000 + i), -1, 0);
	for (int i = 0; i < 12; i++)
		add_sock(&b, AF_INET6, SD_TIME_WAIT, "2001:db8::1",
		    (uint16_t)(1000 + i), "2001:db8::9", 8000, -1, 0);
	/* FIN-WAIT-2 timewait substate: counted as fin_wait2, not in ports */
	add_sock(&b, AF_INET, SD_FIN_WAIT2, "10.0.0.1", 443, "192.0.2.1",
	    9000, -1, 0);

	assert_int_equal(parse_exact(b.p, b.len, acc, err, sizeof(err)),
	    SOCK_DIAG_PARSE_MORE);
	sock_diag_acc_result(acc, &st);
	assert_int_equal(st.timewait, 20);
	assert_int_equal(st.state[SD_FIN_WAIT2], 1);
	assert_int_equal(st.timewait_ports, 14);
	assert_int_equal(st.ntop_ports, SOCK_DIAG_TOP_PORTS);
	assert_int_equal(st.top_ports[0].port, 443);
	assert_int_equal(st.top_ports[0].count, 5);
	assert_int_equal(st.top_ports[1].port, 80);
	assert_int_equal(st.top_ports[1].count, 3);
	assert_int_equal(st.top_ports[2].count, 1);
	/* the IPv4-mapped remote is merged with the IPv4 one */
	assert_int_equal(st.timewait_remotes, 2);
	assert_int_equal(st.ntop_remotes, 2);
	assert_int_equal(st.top_remotes[0].count, 12);
	sock_diag_addr_format(&st.top_remotes[0].addr, a, sizeof(a));
	assert_string_equal(a, "2001:db8::9");
	assert_int_equal(st.top_remotes[1].count, 8);
	sock_diag_addr_format(&st.top_remotes[1].addr, a, sizeof(a));
	assert_string_equal(a, "198.51.100.7");
	assert_int_equal(st.remotes_untracked, 0);
	sock_diag_acc_free(acc);
	free(b.p);
}

static void
test_remote_table_bounded(void **state)
{
	struct sock_diag_limits lim = { .max_remotes = 3 };
	struct sock_diag_acc *acc = sock_diag_acc_new(&lim);
	struct nlbuf b = { 0 };
	struct sock_diag_stats st;
	char err[256], dst[32];

	(void)state;
	for (int i = 0; i < 10; i++) {
		snprintf(dst, sizeof(dst), "192.0.2.%d", i + 1);
		add_sock(&b, AF_INET, SD_TIME_WAIT, "10.0.0.1", 80, dst,
		    5000, -1, 0);
	}
	assert_int_equal(parse_exact(b.p, b.len, acc, err, sizeof(err)), 0);
	sock_diag_acc_result(acc, &st);
	assert_int_equal(st.timewait, 10);
	assert_int_equal(st.timewait_remotes, 3);
	assert_int_equal(st.remotes_untracked, 7);
	sock_diag_acc_free(acc);
	free(b.p);
}

static void
test_short_tcp_info(void **state)
{
	struct sock_diag_acc *acc = sock_diag_acc_new(NULL);
	struct nlbuf b = { 0 };
	struct sock_diag_stats st;
	char err[256];

	(void)state;
	/* 5 bytes: no tcpi_options -> not counted; 6 bytes: counted; an
	 * old kernel's shorter struct (offsetof tcpi_rcv_rtt): counted */
	add_sock(&b, AF_INET, SD_ESTABLISHED, "10.0.0.1", 80, "10.0.0.2", 1,
	    1, 5);
	add_sock(&b, AF_INET, SD_ESTABLISHED, "10.0.0.1", 80, "10.0.0.2", 2,
	    1, 6);
	add_sock(&b, AF_INET, SD_ESTABLISHED, "10.0.0.1", 80, "10.0.0.2", 3,
	    0, offsetof(struct tcp_info, tcpi_rcv_rtt));
	add_sock(&b, AF_INET, SD_ESTABLISHED, "10.0.0.1", 80, "10.0.0.2", 4,
	    -1, 0);
	assert_int_equal(parse_exact(b.p, b.len, acc, err, sizeof(err)), 0);
	sock_diag_acc_result(acc, &st);
	assert_int_equal(st.state[SD_ESTABLISHED], 4);
	assert_int_equal(st.est_info, 2);
	assert_int_equal(st.est_ts, 1);
	sock_diag_acc_free(acc);
	free(b.p);
}

static void
test_kernel_errors(void **state)
{
	struct sock_diag_acc *acc = sock_diag_acc_new(NULL);
	struct nlbuf b = { 0 };
	char err[256] = "";

	(void)state;
	add_error(&b, 0);		/* an ACK: skipped */
	add_error(&b, -EPERM);
	assert_int_equal(parse_exact(b.p, b.len, acc, err, sizeof(err)), -1);
	assert_int_equal(sock_diag_acc_kernel_error(acc), EPERM);
	assert_non_null(strstr(err, "kernel"));
	/* what the reader makes of it */
	assert_int_equal(source_state_from_errno(sock_diag_acc_kernel_error(
	    acc)), SOURCE_UNAVAILABLE);
	assert_int_equal(source_state_from_errno(EACCES), SOURCE_UNAVAILABLE);
	assert_int_equal(source_state_from_errno(EINVAL), SOURCE_FAILED);
	sock_diag_acc_free(acc);
	free(b.p);
}

static void
test_max_entries(void **state)
{
	struct sock_diag_limits lim = { .max_entries = 2 };
	struct sock_diag_acc *acc = sock_diag_acc_new(&lim);
	struct nlbuf b = { 0 };
	struct sock_diag_stats st;
	char err[256];

	(void)state;
	for (int i = 0; i < 5; i++)
		add_sock(&b, AF_INET, SD_TIME_WAIT, "10.0.0.1", 80,
		    "10.0.0.2", (uint16_t)(1000 + i), -1, 0);
	assert_int_equal(parse_exact(b.p, b.len, acc, err, sizeof(err)), 0);
	assert_true(sock_diag_acc_full(acc));
	sock_diag_acc_result(acc, &st);
	assert_int_equal(st.timewait, 2);
	assert_true(st.truncated);
	assert_int_equal(st.dropped, 3);
	sock_diag_acc_free(acc);
	free(b.p);
}

static void
test_foreign_and_unaligned(void **state)
{
	struct sock_diag_acc *acc = sock_diag_acc_new(NULL);
	struct nlbuf b = { 0 };
	struct sock_diag_stats st;
	char err[256];
	uint8_t *odd;

	(void)state;
	add_sock(&b, AF_INET, SD_LISTEN, "0.0.0.0", 80, "0.0.0.0", 0, -1, 0);
	add_sock(&b, AF_INET, SD_LISTEN, "0.0.0.0", 81, "0.0.0.0", 0, -1, 0);
	((struct nlmsghdr *)b.p)->nlmsg_seq = SEQ + 1;	/* first: foreign */
	sock_diag_acc_expect(acc, SEQ, PORTID);
	/* at an odd address: the parser copies, no misaligned access */
	odd = malloc(b.len + 1);
	assert_non_null(odd);
	memcpy(odd + 1, b.p, b.len);
	assert_int_equal(sock_diag_parse(odd + 1, b.len, acc, err,
	    sizeof(err)), 0);
	sock_diag_acc_result(acc, &st);
	assert_int_equal(st.state[SD_LISTEN], 1);
	assert_int_equal(st.foreign_msgs, 1);
	free(odd);
	sock_diag_acc_free(acc);
	free(b.p);
}

/* Every cut of a valid buffer inside a message is an error, and parsing
 * any prefix never crashes. */
static void
test_truncated(void **state)
{
	struct nlbuf b = { 0 };
	char err[256];
	size_t first;

	(void)state;
	add_sock(&b, AF_INET, SD_ESTABLISHED, "10.0.0.1", 80, "10.0.0.2",
	    5000, 1, 0);
	first = b.len;
	add_sock(&b, AF_INET6, SD_TIME_WAIT, "2001:db8::1", 80,
	    "2001:db8::2", 5000, -1, 0);
	add_done(&b);
	for (size_t n = 1; n < b.len; n++) {
		struct sock_diag_acc *acc = sock_diag_acc_new(NULL);
		int rc = parse_exact(b.p, n, acc, err, sizeof(err));

		if (n == first)
			assert_int_equal(rc, SOCK_DIAG_PARSE_MORE);
		else if (n < first || rc != SOCK_DIAG_PARSE_MORE)
			assert_int_equal(rc, -1);
		sock_diag_acc_free(acc);
	}
	free(b.p);
}

static void
test_garbled(void **state)
{
	struct sock_diag_acc *acc;
	struct nlbuf b = { 0 };
	char err[256];
	struct nlmsghdr *h;
	struct nlattr *nla;
	uint8_t junk[512];

	(void)state;
	/* a socket message too short for inet_diag_msg */
	{
		struct nl_msg *msg = new_msg(SOCK_DIAG_BY_FAMILY);
		uint8_t small[16] = { AF_INET };

		assert_int_equal(nlmsg_append(msg, small, sizeof(small), 4),
		    0);
		nlbuf_add(&b, msg);
	}
	acc = sock_diag_acc_new(NULL);
	assert_int_equal(parse_exact(b.p, b.len, acc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "shorter"));
	sock_diag_acc_free(acc);
	free(b.p);

	/* an attribute whose length runs past the message */
	memset(&b, 0, sizeof(b));
	add_sock(&b, AF_INET, SD_ESTABLISHED, "10.0.0.1", 80, "10.0.0.2", 1,
	    1, 0);
	h = (struct nlmsghdr *)b.p;
	nla = (struct nlattr *)(b.p + NLMSG_HDRLEN +
	    NLMSG_ALIGN(sizeof(struct inet_diag_msg)));
	nla->nla_len = (uint16_t)(h->nlmsg_len + 100);
	acc = sock_diag_acc_new(NULL);
	assert_int_equal(parse_exact(b.p, b.len, acc, err, sizeof(err)), -1);
	sock_diag_acc_free(acc);

	/* an unknown family */
	((struct inet_diag_msg *)NLMSG_DATA(h))->idiag_family = 99;
	nla->nla_len = 8;
	acc = sock_diag_acc_new(NULL);
	assert_int_equal(parse_exact(b.p, b.len, acc, err, sizeof(err)), -1);
	sock_diag_acc_free(acc);

	/* an unexpected message type */
	h->nlmsg_type = 0x77;
	acc = sock_diag_acc_new(NULL);
	assert_int_equal(parse_exact(b.p, b.len, acc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unexpected"));
	sock_diag_acc_free(acc);
	free(b.p);

	/* a header shorter than nlmsghdr, and pseudo-random junk */
	acc = sock_diag_acc_new(NULL);
	assert_int_equal(parse_exact("\x10\0\0", 3, acc, err, sizeof(err)),
	    -1);
	srand(5);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand() % (int)sizeof(junk));

		for (size_t i = 0; i < n; i++)
			junk[i] = (uint8_t)rand();
		if (n >= 4 && round % 2 == 0) {
			/* plausible length and type to get further in */
			uint32_t len = (uint32_t)(n - (size_t)(rand() % 8));

			memcpy(junk, &len, 4);
			junk[4] = SOCK_DIAG_BY_FAMILY;
			junk[5] = 0;
		}
		(void)parse_exact(junk, n, acc, err, sizeof(err));
	}
	sock_diag_acc_free(acc);
}

/* Field by field (padding is not compared). */
static void
assert_stats_equal(const struct sock_diag_stats *a,
    const struct sock_diag_stats *b)
{
	for (size_t i = 0; i < SD_NSTATES; i++)
		assert_int_equal(a->state[i], b->state[i]);
	assert_int_equal(a->state_other, b->state_other);
	assert_int_equal(a->sockets_v4, b->sockets_v4);
	assert_int_equal(a->sockets_v6, b->sockets_v6);
	assert_int_equal(a->timewait, b->timewait);
	assert_int_equal(a->est_info, b->est_info);
	assert_int_equal(a->est_ts, b->est_ts);
	assert_int_equal(a->timewait_ports, b->timewait_ports);
	assert_int_equal(a->ntop_ports, b->ntop_ports);
	for (size_t i = 0; i < a->ntop_ports; i++) {
		assert_int_equal(a->top_ports[i].port, b->top_ports[i].port);
		assert_int_equal(a->top_ports[i].count, b->top_ports[i].count);
	}
	assert_int_equal(a->timewait_remotes, b->timewait_remotes);
	assert_int_equal(a->remotes_untracked, b->remotes_untracked);
	assert_int_equal(a->ntop_remotes, b->ntop_remotes);
	for (size_t i = 0; i < a->ntop_remotes; i++) {
		assert_int_equal(a->top_remotes[i].addr.family,
		    b->top_remotes[i].addr.family);
		assert_memory_equal(a->top_remotes[i].addr.addr,
		    b->top_remotes[i].addr.addr, 16);
		assert_int_equal(a->top_remotes[i].count,
		    b->top_remotes[i].count);
	}
	assert_int_equal(a->truncated, b->truncated);
	assert_int_equal(a->dropped, b->dropped);
	assert_int_equal(a->foreign_msgs, b->foreign_msgs);
	assert_int_equal(a->ipv6_absent, b->ipv6_absent);
}

/* A dump that touches many ports and remotes, a timestamp ratio, a
 * foreign message and a kernel error: everything a reset must clear. */
static void
fill_busy(struct sock_diag_acc *acc)
{
	struct nlbuf b = { 0 };
	char err[256], dst[64];

	for (int i = 0; i < 300; i++) {
		snprintf(dst, sizeof(dst), "198.51.100.%d", i % 250 + 1);
		add_sock(&b, AF_INET, SD_TIME_WAIT, "10.0.0.1",
		    (uint16_t)(20000 + i * 7), dst, 5000, -1, 0);
	}
	for (int i = 0; i < 40; i++) {
		snprintf(dst, sizeof(dst), "2001:db8::%x", i + 1);
		add_sock(&b, AF_INET6, SD_TIME_WAIT, "2001:db8::1", 443, dst,
		    (uint16_t)(6000 + i), -1, 0);
	}
	add_sock(&b, AF_INET, SD_ESTABLISHED, "10.0.0.1", 80, "10.0.0.2", 1,
	    1, 0);
	add_sock(&b, AF_INET, 13, "10.0.0.1", 80, "10.0.0.2", 2, -1, 0);
	add_sock(&b, AF_INET, SD_LISTEN, "0.0.0.0", 81, "0.0.0.0", 0, -1, 0);
	add_error(&b, -EPERM);
	/* another sequence number than fill_other's, the first foreign */
	for (size_t off = 0; off < b.len;) {
		struct nlmsghdr *h = (struct nlmsghdr *)(b.p + off);

		h->nlmsg_seq = off == 0 ? SEQ + 1 : SEQ + 2;
		off += NLMSG_ALIGN(h->nlmsg_len);
	}
	sock_diag_acc_expect(acc, SEQ + 2, PORTID);
	assert_int_equal(parse_exact(b.p, b.len, acc, err, sizeof(err)), -1);
	assert_int_equal(sock_diag_acc_kernel_error(acc), EPERM);
	free(b.p);
}

/* A smaller dump on other ports and remotes, with ties in the tops. */
static void
fill_other(struct nlbuf *b)
{
	char dst[64];

	for (int i = 0; i < 30; i++) {
		snprintf(dst, sizeof(dst), "192.0.2.%d", i % 6 + 1);
		add_sock(b, AF_INET, SD_TIME_WAIT, "10.0.0.1",
		    (uint16_t)(1000 + i % 12), dst, 5000, -1, 0);
	}
	add_sock(b, AF_INET6, SD_TIME_WAIT, "2001:db8::1", 80, "2001:db8::9",
	    8000, -1, 0);
	add_sock(b, AF_INET, SD_ESTABLISHED, "10.0.0.1", 80, "10.0.0.3", 1,
	    0, 0);
	add_done(b);
}

/* A reset accumulator counts a dump exactly as a fresh one does, with the
 * default limits and with small ones (full table, truncation). */
static void
test_reset_reuse(void **state)
{
	const struct sock_diag_limits limits[] = {
		{ 0 },
		{ .max_entries = 20, .max_remotes = 3 },
	};
	char err[256];

	(void)state;
	for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
		struct sock_diag_acc *fresh = sock_diag_acc_new(&limits[k]);
		struct sock_diag_acc *reused = sock_diag_acc_new(&limits[k]);
		struct sock_diag_stats want, got;
		struct nlbuf b = { 0 };

		assert_non_null(fresh);
		assert_non_null(reused);
		fill_other(&b);
		assert_int_equal(parse_exact(b.p, b.len, fresh, err,
		    sizeof(err)), SOCK_DIAG_PARSE_DONE);
		sock_diag_acc_result(fresh, &want);

		/* twice: a reset after a reset-and-reuse is still clean */
		for (int round = 0; round < 2; round++) {
			fill_busy(reused);
			sock_diag_acc_reset(reused);
			assert_int_equal(sock_diag_acc_kernel_error(reused), 0);
			assert_false(sock_diag_acc_full(reused));
			/* the expected seq is cleared too: fill_other's
			 * messages (SEQ) are not foreign */
			assert_int_equal(parse_exact(b.p, b.len, reused, err,
			    sizeof(err)), SOCK_DIAG_PARSE_DONE);
			sock_diag_acc_result(reused, &got);
			assert_stats_equal(&got, &want);
			sock_diag_acc_reset(reused);
		}
		if (k == 0) {
			assert_int_equal(want.timewait, 31);
			assert_int_equal(want.timewait_ports, 13);
			assert_int_equal(want.timewait_remotes, 7);
			assert_int_equal(want.foreign_msgs, 0);
		} else {
			assert_true(want.truncated);
			assert_int_equal(want.timewait_remotes, 3);
			assert_int_equal(want.remotes_untracked, 9);
		}
		sock_diag_acc_free(fresh);
		sock_diag_acc_free(reused);
		free(b.p);
	}
}

/* Equal counts rank by port, then by address: the tops do not depend on
 * the order of the dump. */
static void
test_top_ties(void **state)
{
	struct sock_diag_stats fwd, rev;
	char err[256], a[64];

	(void)state;
	for (int dir = 0; dir < 2; dir++) {
		struct sock_diag_acc *acc = sock_diag_acc_new(NULL);
		struct nlbuf b = { 0 };
		char dst[64];

		for (int n = 0; n < 14; n++) {
			int i = dir == 0 ? n : 13 - n;

			snprintf(dst, sizeof(dst), i < 7 ? "192.0.2.%d" :
			    "2001:db8::%d", i + 1);
			add_sock(&b, i < 7 ? AF_INET : AF_INET6, SD_TIME_WAIT,
			    i < 7 ? "10.0.0.1" : "2001:db8::1",
			    (uint16_t)(3000 - i), dst, 5000, -1, 0);
		}
		assert_int_equal(parse_exact(b.p, b.len, acc, err,
		    sizeof(err)), SOCK_DIAG_PARSE_MORE);
		sock_diag_acc_result(acc, dir == 0 ? &fwd : &rev);
		sock_diag_acc_free(acc);
		free(b.p);
	}
	assert_stats_equal(&fwd, &rev);
	assert_int_equal(fwd.ntop_ports, SOCK_DIAG_TOP_PORTS);
	for (size_t i = 0; i < fwd.ntop_ports; i++)
		assert_int_equal(fwd.top_ports[i].port, 2987 + i);
	assert_int_equal(fwd.ntop_remotes, SOCK_DIAG_TOP_REMOTES);
	sock_diag_addr_format(&fwd.top_remotes[0].addr, a, sizeof(a));
	assert_string_equal(a, "192.0.2.1");
	sock_diag_addr_format(&fwd.top_remotes[7].addr, a, sizeof(a));
	assert_string_equal(a, "2001:db8::8");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states_and_families),
		cmocka_unit_test(test_timewait_ports_and_remotes),
		cmocka_unit_test(test_remote_table_bounded),
		cmocka_unit_test(test_short_tcp_info),
		cmocka_unit_test(test_kernel_errors),
		cmocka_unit_test(test_max_entries),
		cmocka_unit_test(test_foreign_and_unaligned),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbled),
		cmocka_unit_test(test_reset_reuse),
		cmocka_unit_test(test_top_ties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
