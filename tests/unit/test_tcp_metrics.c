/*
 * tcp_metrics_parse() on generic netlink messages built with libnl
 * (nlmsg_alloc, genlmsg_put, nla_put_*): 4.12+ entries without the TW
 * attributes, 3.7-4.11 entries with them, cut and garbled buffers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/tcp_metrics.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "nlmsgs.h"
#include "lib/source.h"
#include "collectors/tcp_metrics.h"

#define FAMILY 0x1d

/* One entry. SADDR may be NULL; STAMP < -1000: no TW attributes. */
static void
add_entry(struct nlbuf *b, const char *addr, const char *saddr,
    uint64_t age_ms, uint32_t tsval, int32_t stamp)
{
	struct nl_msg *msg = nlmsg_alloc();
	uint8_t a[16];
	int v6 = strchr(addr, ':') != NULL;

	assert_non_null(msg);
	assert_non_null(genlmsg_put(msg, 1, 9, FAMILY, 0, NLM_F_MULTI,
	    TCP_METRICS_CMD_GET, TCP_METRICS_GENL_VERSION));
	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, addr, a), 1);
	assert_int_equal(nla_put(msg, v6 ? TCP_METRICS_ATTR_ADDR_IPV6 :
	    TCP_METRICS_ATTR_ADDR_IPV4, v6 ? 16 : 4, a), 0);
	if (saddr != NULL) {
		int s6 = strchr(saddr, ':') != NULL;

		assert_int_equal(inet_pton(s6 ? AF_INET6 : AF_INET, saddr, a),
		    1);
		assert_int_equal(nla_put(msg, s6 ? TCP_METRICS_ATTR_SADDR_IPV6 :
		    TCP_METRICS_ATTR_SADDR_IPV4, s6 ? 16 : 4, a), 0);
	}
	assert_int_equal(nla_put_u64(msg, TCP_METRICS_ATTR_AGE, age_ms), 0);
	if (stamp > -1000) {
		assert_int_equal(nla_put_u32(msg, TCP_METRICS_ATTR_TW_TSVAL,
		    tsval), 0);
		assert_int_equal(nla_put_s32(msg, TCP_METRICS_ATTR_TW_TS_STAMP,
		    stamp), 0);
	}
	/* VALS, nested: present on every kernel, not used by us. */
	{
		struct nlattr *vals = nla_nest_start(msg, TCP_METRICS_ATTR_VALS);

		assert_non_null(vals);
		assert_int_equal(nla_put_u32(msg, TCP_METRIC_RTT + 1, 12), 0);
		nla_nest_end(msg, vals);
	}
	nlbuf_add(b, msg);
}

static void
add_ctl(struct nlbuf *b, int type, int error)
{
	struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_MULTI);
	struct nlmsgerr e;

	assert_non_null(msg);
	memset(&e, 0, sizeof(e));
	e.error = error;
	assert_int_equal(nlmsg_append(msg, &e, type == NLMSG_ERROR ?
	    sizeof(e) : sizeof(int), 4), 0);
	nlbuf_add(b, msg);
}

static int
parse_exact(const void *buf, size_t len, struct tcp_metrics_stats *acc,
    char *err, size_t errlen)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	rc = tcp_metrics_parse(copy, len, FAMILY, acc, err, errlen);
	free(copy);
	return rc;
}

static struct tcp_metrics_stats *
new_stats(void)
{
	struct tcp_metrics_stats *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	return s;
}

/* 4.12+: peers, no TW attributes. */
static void
test_modern_table(void **state)
{
	struct tcp_metrics_stats *s = new_stats();
	struct nlbuf b = { 0 };
	char err[256], a[64];

	(void)state;
	add_entry(&b, "127.0.0.1", "127.0.0.1", 206148, 0, -2000);
	add_entry(&b, "2001:db8::5", "2001:db8::1", 10, 0, -2000);
	add_entry(&b, "192.0.2.1", NULL, 5, 0, -2000);
	add_ctl(&b, NLMSG_DONE, 0);
	assert_int_equal(parse_exact(b.p, b.len, s, err, sizeof(err)),
	    TCP_METRICS_PARSE_DONE);
	assert_int_equal(s->peers, 3);
	assert_int_equal(s->peers_v4, 2);
	assert_int_equal(s->peers_v6, 1);
	assert_false(s->has_tw_attrs);
	assert_int_equal(s->tw_peers, 0);
	assert_int_equal(s->recent_stamps, 0);
	assert_int_equal(s->nlisted, 3);
	assert_int_equal(s->listed[0].age_ms, 206148);
	sock_diag_addr_format(&s->listed[1].addr, a, sizeof(a));
	assert_string_equal(a, "2001:db8::5");
	sock_diag_addr_format(&s->listed[1].saddr, a, sizeof(a));
	assert_string_equal(a, "2001:db8::1");
	assert_int_equal(s->listed[2].saddr.family, 0);
	free(s);
	free(b.p);
}

/* 3.7-4.11: TW_TSVAL and TW_TS_STAMP; fresh below 60 s. */
static void
test_tw_attrs(void **state)
{
	struct tcp_metrics_stats *s = new_stats();
	struct nlbuf b = { 0 };
	char err[256], a[64];

	(void)state;
	add_entry(&b, "198.51.100.7", NULL, 1000, 0xdeadbeef, 10);
	add_entry(&b, "198.51.100.8", NULL, 1000, 1234, 59);
	add_entry(&b, "198.51.100.9", NULL, 1000, 99, 60);	/* stale */
	add_entry(&b, "198.51.100.10", NULL, 1000, 99, 600);	/* stale */
	add_entry(&b, "198.51.100.11", NULL, 1000, 0, -2000);	/* no stamp */
	assert_int_equal(parse_exact(b.p, b.len, s, err, sizeof(err)),
	    TCP_METRICS_PARSE_MORE);
	assert_int_equal(s->peers, 5);
	assert_true(s->has_tw_attrs);
	assert_int_equal(s->tw_peers, 4);
	assert_int_equal(s->recent_stamps, 2);
	assert_int_equal(s->nrecent, 2);
	sock_diag_addr_format(&s->recent[0].addr, a, sizeof(a));
	assert_string_equal(a, "198.51.100.7");
	assert_int_equal(s->recent[0].tsval, 0xdeadbeef);
	assert_int_equal(s->recent[0].stamp_age_s, 10);
	assert_int_equal(s->recent[1].stamp_age_s, 59);
	free(s);
	free(b.p);
}

static void
test_recent_list_bounded(void **state)
{
	struct tcp_metrics_stats *s = new_stats();
	struct nlbuf b = { 0 };
	char err[256], addr[32];
	int n = TCP_METRICS_MAX_RECENT + 44;

	(void)state;
	for (int i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.1", i / 250, i % 250);
		add_entry(&b, addr, NULL, 1, (uint32_t)i, 1);
	}
	assert_int_equal(parse_exact(b.p, b.len, s, err, sizeof(err)), 0);
	assert_int_equal(s->recent_stamps, n);
	assert_int_equal(s->nrecent, TCP_METRICS_MAX_RECENT);
	assert_int_equal(s->recent_dropped, 44);
	assert_int_equal(s->nlisted, TCP_METRICS_MAX_LISTED);
	free(s);
	free(b.p);
}

static void
test_max_entries(void **state)
{
	struct tcp_metrics_stats *s = new_stats();
	struct nlbuf b = { 0 };
	char err[256];

	(void)state;
	s->max_entries = 2;
	for (int i = 0; i < 5; i++)
		add_entry(&b, "192.0.2.1", NULL, 1, 0, -2000);
	assert_int_equal(parse_exact(b.p, b.len, s, err, sizeof(err)), 0);
	assert_int_equal(s->peers, 2);
	assert_true(s->truncated);
	assert_int_equal(s->dropped, 3);
	free(s);
	free(b.p);
}

static void
test_states(void **state)
{
	struct tcp_metrics_stats *s = new_stats();
	struct nlbuf b = { 0 };
	char err[256];

	(void)state;
	/* family missing (before 3.7) is not applicable, not failed */
	assert_int_equal(tcp_metrics_resolve_state(-NLE_OBJ_NOTFOUND),
	    SOURCE_NOT_APPLICABLE);
	assert_int_equal(tcp_metrics_resolve_state(-NLE_PERM),
	    SOURCE_UNAVAILABLE);
	assert_int_equal(tcp_metrics_resolve_state(-NLE_NOACCESS),
	    SOURCE_UNAVAILABLE);
	assert_int_equal(tcp_metrics_resolve_state(-NLE_NOMEM),
	    SOURCE_FAILED);
	assert_int_equal(tcp_metrics_resolve_state(FAMILY), SOURCE_OK);

	/* 3.7-4.11 without CAP_NET_ADMIN: the dump answers -EPERM */
	add_ctl(&b, NLMSG_ERROR, 0);	/* an ACK first: skipped */
	add_ctl(&b, NLMSG_ERROR, -EPERM);
	assert_int_equal(parse_exact(b.p, b.len, s, err, sizeof(err)), -1);
	assert_int_equal(s->kernel_error, EPERM);
	assert_int_equal(source_state_from_errno(s->kernel_error),
	    SOURCE_UNAVAILABLE);
	free(s);
	free(b.p);
}

static void
test_garbled(void **state)
{
	struct tcp_metrics_stats *s = new_stats();
	struct nlbuf b = { 0 };
	struct nl_msg *msg;
	char err[256];
	uint8_t junk[512];

	(void)state;
	/* TW_TSVAL without TW_TS_STAMP */
	msg = nlmsg_alloc();
	assert_non_null(genlmsg_put(msg, 1, 9, FAMILY, 0, 0,
	    TCP_METRICS_CMD_GET, 1));
	assert_int_equal(nla_put_u32(msg, TCP_METRICS_ATTR_ADDR_IPV4, 1), 0);
	assert_int_equal(nla_put_u32(msg, TCP_METRICS_ATTR_TW_TSVAL, 1), 0);
	nlbuf_add(&b, msg);
	assert_int_equal(parse_exact(b.p, b.len, s, err, sizeof(err)), -1);
	free(b.p);

	/* no address */
	memset(&b, 0, sizeof(b));
	memset(s, 0, sizeof(*s));
	msg = nlmsg_alloc();
	assert_non_null(genlmsg_put(msg, 1, 9, FAMILY, 0, 0,
	    TCP_METRICS_CMD_GET, 1));
	assert_int_equal(nla_put_u64(msg, TCP_METRICS_ATTR_AGE, 1), 0);
	nlbuf_add(&b, msg);
	assert_int_equal(parse_exact(b.p, b.len, s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "address"));
	free(b.p);

	/* a 2-byte IPv6 address */
	memset(&b, 0, sizeof(b));
	memset(s, 0, sizeof(*s));
	msg = nlmsg_alloc();
	assert_non_null(genlmsg_put(msg, 1, 9, FAMILY, 0, 0,
	    TCP_METRICS_CMD_GET, 1));
	assert_int_equal(nla_put_u16(msg, TCP_METRICS_ATTR_ADDR_IPV6, 1), 0);
	nlbuf_add(&b, msg);
	assert_int_equal(parse_exact(b.p, b.len, s, err, sizeof(err)), -1);
	free(b.p);

	/* another family's message */
	memset(&b, 0, sizeof(b));
	memset(s, 0, sizeof(*s));
	add_entry(&b, "192.0.2.1", NULL, 1, 0, -2000);
	assert_int_equal(tcp_metrics_parse(b.p, b.len, FAMILY + 1, s, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "unexpected"));

	/* every cut inside the message is an error, never a crash */
	for (size_t n = 1; n < b.len; n++) {
		memset(s, 0, sizeof(*s));
		assert_int_equal(parse_exact(b.p, n, s, err, sizeof(err)), -1);
	}
	free(b.p);

	/* a genl header cut short */
	memset(&b, 0, sizeof(b));
	msg = nlmsg_alloc_simple(FAMILY, 0);
	assert_int_equal(nlmsg_append(msg, "\x01", 1, 1), 0);
	nlbuf_add(&b, msg);
	memset(s, 0, sizeof(*s));
	assert_int_equal(parse_exact(b.p, b.len, s, err, sizeof(err)), -1);
	free(b.p);

	/* junk */
	srand(7);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand() % (int)sizeof(junk));

		for (size_t i = 0; i < n; i++)
			junk[i] = (uint8_t)rand();
		if (n >= 8 && round % 2 == 0) {
			uint32_t len = (uint32_t)(n - (size_t)(rand() % 8));
			uint16_t type = FAMILY;

			memcpy(junk, &len, 4);
			memcpy(junk + 4, &type, 2);
		}
		memset(s, 0, sizeof(*s));
		(void)parse_exact(junk, n, s, err, sizeof(err));
	}
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modern_table),
		cmocka_unit_test(test_tw_attrs),
		cmocka_unit_test(test_recent_list_bounded),
		cmocka_unit_test(test_max_entries),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_garbled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
