/*
 * Peer-table model: every worked example of docs/kernel.md §10 and
 * the boundaries per profile (§1, §2.2, §3.2, §7, §11).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "model/model.h"

#define BASE	1700000000ull	/* epoch second of t = 0 */
#define SRV	0x0a000001u	/* 10.0.0.1 */
#define SRV2	0x0a000002u
#define NAT	0xc6336401u	/* 198.51.100.1 */
#define PORT	80

struct h {
	struct model *m;
	struct model_verdict v;
	uint8_t family;
	uint32_t server;
};

static struct model *
mk_cfg(struct model_config *cfg)
{
	char err[128];
	struct model *m = model_new(cfg, err, sizeof(err));

	if (m == NULL)
		fail_msg("model_new: %s", err);
	return m;
}

static void
h_init(struct h *h, enum model_profile p, int recycle)
{
	struct model_config cfg = model_config_default();

	cfg.profile = p;
	cfg.setting[MS_TW_RECYCLE] = recycle;
	memset(h, 0, sizeof(*h));
	h->m = mk_cfg(&cfg);
	h->family = 4;
	h->server = SRV;
}

static void
put_addr(uint8_t *dst, uint8_t family, uint32_t a)
{
	memset(dst, 0, 16);
	if (family == 4) {
		dst[0] = (uint8_t)(a >> 24);
		dst[1] = (uint8_t)(a >> 16);
		dst[2] = (uint8_t)(a >> 8);
		dst[3] = (uint8_t)a;
	} else {
		dst[0] = 0x20;
		dst[1] = 0x01;
		dst[2] = 0x0d;
		dst[3] = 0xb8;
		dst[12] = (uint8_t)(a >> 24);
		dst[13] = (uint8_t)(a >> 16);
		dst[14] = (uint8_t)(a >> 8);
		dst[15] = (uint8_t)a;
	}
}

static void
feed(struct h *h, double t, uint32_t client, uint16_t cport, int to_server,
    uint8_t flags, uint32_t seq, int has_ts, uint32_t tsval)
{
	struct tcp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.time_us = BASE * 1000000ull + (uint64_t)(t * 1e6 + 0.5);
	ev.family = h->family;
	ev.flags = flags;
	ev.has_ts = (uint8_t)has_ts;
	ev.to_server = (uint8_t)to_server;
	if (to_server) {
		put_addr(ev.src, h->family, client);
		put_addr(ev.dst, h->family, h->server);
		ev.sport = cport;
		ev.dport = PORT;
	} else {
		put_addr(ev.dst, h->family, client);
		put_addr(ev.src, h->family, h->server);
		ev.dport = cport;
		ev.sport = PORT;
	}
	ev.seq = seq;
	ev.tsval = tsval;
	model_feed(h->m, &ev, &h->v);
}

/* A SYN; returns the decision. */
static int
syn(struct h *h, double t, uint32_t client, uint16_t cport, uint32_t isn,
    int has_ts, uint32_t tsval)
{
	feed(h, t, client, cport, 1, TCPF_SYN, isn, has_ts, tsval);
	return h->v.decision;
}

/* Server closes first at T; the client's FIN carries TSVAL. */
static void
close_server_first(struct h *h, double t, uint32_t client, uint16_t cport,
    uint32_t cseq, uint32_t tsval)
{
	feed(h, t, client, cport, 0, TCPF_FIN | TCPF_ACK, 7000, 1, 42);
	feed(h, t, client, cport, 1, TCPF_FIN | TCPF_ACK, cseq, 1, tsval);
}

static struct model_stats
stats(struct h *h)
{
	struct model_stats st;

	model_stats(h->m, &st);
	return st;
}

static void
peer_is(struct h *h, uint32_t client, uint32_t ts, uint32_t stamp_t)
{
	uint8_t s[16], c[16];
	uint32_t gts, gstamp;

	put_addr(s, h->family, h->server);
	put_addr(c, h->family, client);
	assert_int_equal(model_peer_get(h->m, h->family, s, c, &gts, &gstamp), 0);
	assert_int_equal(gts, ts);
	assert_int_equal(gstamp, (uint32_t)(BASE + stamp_t));
}

#define ACC	MODEL_ACCEPT
#define REJ	MODEL_REJECT
#define CNT(c)	(1u << (c))

/* ------------------------------------------------------------------ */
/* Example 1 */

static void
ex1_run(enum model_profile p, unsigned expect_listen_drops)
{
	struct h h;
	static const double retr[] = { 111, 113, 117, 125, 141 };

	h_init(&h, p, 1);
	assert_int_equal(syn(&h, 100, NAT, 40001, 1000, 1, 5100000), ACC);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	peer_is(&h, NAT, 5101050, 101);

	assert_int_equal(syn(&h, 110, NAT, 40002, 2000, 1, 1110000), REJ);
	assert_int_equal(h.v.reason, MODEL_R_PASSIVE_PAWS);
	assert_int_equal(h.v.path, MODEL_PATH_LISTENER);
	assert_true(h.v.counters & CNT(MC_PAWS_PASSIVE));
	assert_int_equal(!!(h.v.counters & CNT(MC_LISTEN_DROPS)),
	    expect_listen_drops);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(syn(&h, retr[i], NAT, 40002, 2000, 1,
		    (uint32_t)(1000000 + 1000 * retr[i])), REJ);
	struct model_stats st = stats(&h);
	assert_int_equal(st.counters[MC_PAWS_PASSIVE], 6);
	assert_int_equal(st.counters[MC_LISTEN_DROPS], 6 * expect_listen_drops);
	assert_int_equal(st.by_reason[MODEL_R_PASSIVE_PAWS], 6);
	assert_int_equal(st.predicted_rejections, 6);

	assert_int_equal(syn(&h, 173, NAT, 40002, 2000, 1, 1173000), ACC);
	close_server_first(&h, 180, NAT, 40002, 6000, 1180000);
	peer_is(&h, NAT, 1180000, 180);
	assert_int_equal(syn(&h, 185, NAT, 40003, 3000, 1, 5185000), ACC);
	close_server_first(&h, 186, NAT, 40003, 7000, 5186000);
	peer_is(&h, NAT, 5186000, 186);
	/* B blocked again until 246. */
	assert_int_equal(syn(&h, 245.9, NAT, 40004, 4000, 1, 1245900), REJ);
	assert_int_equal(syn(&h, 246, NAT, 40004, 4000, 1, 1246000), ACC);
	model_free(h.m);
}

static void
test_ex1_3_10(void **state)
{
	(void)state;
	ex1_run(MODEL_P_3_8, 1);
	ex1_run(MODEL_P_3_13, 1);
	ex1_run(MODEL_P_3_17, 1);
	ex1_run(MODEL_P_4_1, 1);
}

static void
test_ex1_old_kernels(void **state)
{
	(void)state;
	/* 2.6.32-3.7: only PAWSPassive moves. */
	ex1_run(MODEL_P_2_6_32, 0);
	ex1_run(MODEL_P_3_1, 0);
	ex1_run(MODEL_P_3_6, 0);
}

static void
test_ex1_last_fresh_second(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, MODEL_P_3_8, 1);
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
	close_server_first(&h, 101.9, NAT, 40001, 5000, 5101050);
	assert_int_equal(syn(&h, 160.99, NAT, 40002, 2000, 1, 1160000), REJ);
	assert_int_equal(syn(&h, 161.0, NAT, 40003, 2100, 1, 1161000), ACC);
	model_free(h.m);
}

/* B's NAT strips the TS option. */
static void
test_ex1_no_ts_variant(void **state)
{
	(void)state;
	for (int p = 0; p < MODEL_NPROFILES; p++) {
		struct h h;
		bool drops = p == MODEL_P_3_17 || p == MODEL_P_4_1;

		h_init(&h, (enum model_profile)p, 1);
		syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
		close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
		assert_int_equal(syn(&h, 110, NAT, 40002, 2000, 0, 0),
		    drops ? REJ : ACC);
		if (drops)
			assert_int_equal(h.v.reason, MODEL_R_PASSIVE_PAWS);
		assert_int_equal(syn(&h, 160, NAT, 40003, 2100, 0, 0),
		    drops ? REJ : ACC);
		assert_int_equal(syn(&h, 161, NAT, 40004, 2200, 0, 0), ACC);
		model_free(h.m);
	}
}

/* Modern variant: NAT reuses port 40001 for B within the TIME-WAIT. */
static void
modern_run(enum model_profile p, int rfc1337, enum model_counter ctr)
{
	struct model_config cfg = model_config_default();
	struct h h;

	cfg.profile = p;
	cfg.setting[MS_RFC1337] = rfc1337;
	memset(&h, 0, sizeof(h));
	h.m = mk_cfg(&cfg);
	h.family = 4;
	h.server = SRV;

	assert_int_equal(syn(&h, 100, NAT, 40001, 1000, 1, 5100000), ACC);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	/* rcv_nxt = 5001; B's ISN 9000 is after it, but PAWS refuses. */
	assert_int_equal(syn(&h, 110, NAT, 40001, 9000, 1, 1110000), REJ);
	assert_int_equal(h.v.reason, MODEL_R_TIMEWAIT_PAWS);
	assert_int_equal(h.v.path, MODEL_PATH_TIMEWAIT);
	assert_int_equal(h.v.tw_ack, MODEL_TWACK_SENT);
	assert_int_equal(h.v.counters, CNT(ctr));
	/* A different port is never affected. */
	assert_int_equal(syn(&h, 110.005, NAT, 40009, 9100, 1, 1110005), ACC);
	/* B's RST, seq = the server's rcv_nxt. */
	feed(&h, 110.01, NAT, 40001, 1, TCPF_RST, 5001, 0, 0);
	if (rfc1337 == 0) {
		assert_int_equal(stats(&h).tw_killed, 1);
		assert_int_equal(syn(&h, 111, NAT, 40001, 9000, 1, 1111000),
		    ACC);
		assert_int_equal(h.v.path, MODEL_PATH_LISTENER);
	} else {
		/* Every retry refused; each re-arms the 60 s timer. */
		assert_int_equal(syn(&h, 111, NAT, 40001, 9000, 1, 1111000),
		    REJ);
		assert_int_equal(syn(&h, 165, NAT, 40001, 9000, 1, 1165000),
		    REJ);
		assert_int_equal(syn(&h, 224.9, NAT, 40001, 9000, 1, 1224900),
		    REJ);
		assert_int_equal(syn(&h, 285, NAT, 40001, 9000, 1, 1285000),
		    ACC);
	}
	model_free(h.m);
}

static void
test_ex1_modern(void **state)
{
	(void)state;
	modern_run(MODEL_P_4_12, 0, MC_PAWS_ESTAB);
	modern_run(MODEL_P_6_16, 0, MC_PAWS_TIMEWAIT);
	modern_run(MODEL_P_6_16, 1, MC_PAWS_TIMEWAIT);
	modern_run(MODEL_P_4_12, 1, MC_PAWS_ESTAB);
	/* The TIME-WAIT path exists in every profile. */
	modern_run(MODEL_P_2_6_32, 0, MC_PAWS_ESTAB);
	modern_run(MODEL_P_3_8, 1, MC_PAWS_ESTAB);
}

/* ------------------------------------------------------------------ */
/* Example 2 */

static void
test_ex2_rows(void **state)
{
	struct h h;
	uint16_t port = 30000;
	static const struct {
		double t;
		int has_ts;
		uint32_t tsval;
		int expect;
	} rows[] = {
		{ 510, 1, 3000001, ACC },
		{ 510, 1, 3000000, ACC },
		{ 510, 1, 2999999, ACC },
		{ 510, 1, 2999998, REJ },
		{ 510, 1, 2150483648u, ACC },
		{ 510, 1, 2150483649u, REJ },
		{ 559, 1, 400000, REJ },
		{ 560, 1, 400000, ACC },
	};

	(void)state;
	h_init(&h, MODEL_P_3_8, 1);
	syn(&h, 450, NAT, 20000, 1, 1, 2940000);
	close_server_first(&h, 500, NAT, 20000, 100, 3000000);
	peer_is(&h, NAT, 3000000, 500);
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int d = syn(&h, rows[i].t, NAT, port++, 1000 + i,
		    rows[i].has_ts, rows[i].tsval);
		if (d != rows[i].expect)
			fail_msg("row %u: got %d", i, d);
	}
	model_free(h.m);

	/* No TS option: accepted before a26552afe894, dropped after. */
	for (int p = MODEL_P_2_6_32; p <= MODEL_P_4_1; p++) {
		h_init(&h, (enum model_profile)p, 1);
		syn(&h, 450, NAT, 20000, 1, 1, 2940000);
		close_server_first(&h, 500, NAT, 20000, 100, 3000000);
		assert_int_equal(syn(&h, 510, NAT, 20001, 5, 0, 0),
		    p >= MODEL_P_3_17 ? REJ : ACC);
		model_free(h.m);
	}
}

/* Update rule at 560 (no overwrite) and 561 (overwrite). */
static void
test_ex2_update_boundary(void **state)
{
	(void)state;
	for (int at = 560; at <= 561; at++) {
		struct h h;

		h_init(&h, MODEL_P_3_8, 1);
		syn(&h, 450, NAT, 20000, 1, 1, 2940000);
		close_server_first(&h, 500, NAT, 20000, 100, 3000000);
		/* C rebooted: its clock is now far behind. Its SYN at 560 is
		 * accepted (stamp 60 s old): ts_recent = (400 000, 560). */
		assert_int_equal(syn(&h, 560, NAT, 20001, 500, 1, 400000), ACC);
		/* The close at `at`; the FIN carries no TS, so the pair
		 * stays (400 000, 560). */
		feed(&h, at, NAT, 20001, 0, TCPF_FIN | TCPF_ACK, 9, 1, 1);
		feed(&h, at, NAT, 20001, 1, TCPF_FIN | TCPF_ACK, 600, 0, 0);
		if (at == 560)
			peer_is(&h, NAT, 3000000, 500);
		else
			peer_is(&h, NAT, 400000, 560);
		/* Observable: a SYN at 562 with a slightly older TSval. */
		assert_int_equal(syn(&h, 562, NAT, 20002, 700, 1, 399998),
		    at == 560 ? ACC : REJ);
		model_free(h.m);
	}
}

/* Larger TSval always wins; a smaller one cannot lower a fresh stamp. */
static void
test_update_rule_larger_wins(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, MODEL_P_4_1, 1);
	syn(&h, 10, NAT, 1, 1, 1, 900);
	close_server_first(&h, 11, NAT, 1, 10, 1000);
	syn(&h, 12, NAT, 2, 2, 1, 400);
	close_server_first(&h, 13, NAT, 2, 20, 500);	/* older: kept */
	peer_is(&h, NAT, 1000, 11);
	syn(&h, 14, NAT, 3, 3, 1, 1000);
	close_server_first(&h, 15, NAT, 3, 30, 1000);	/* equal: refresh */
	peer_is(&h, NAT, 1000, 15);
	model_free(h.m);
}

/* ------------------------------------------------------------------ */
/* Example 3: 4.10 client with per-connection offsets, server 4.4 */

static void
test_ex3(void **state)
{
	struct h h;
	const uint32_t c = 0xcb007101u;
	static const double retr[] = { 206, 208, 212, 220, 236 };

	(void)state;
	h_init(&h, MODEL_P_4_1, 1);
	assert_int_equal(syn(&h, 200, c, 50001, 11, 1, 1000000u + 0x9A3C0000u),
	    ACC);
	close_server_first(&h, 201, c, 50001, 100, 1001000u + 0x9A3C0000u);
	peer_is(&h, c, 2588624424u, 201);
	assert_int_equal(syn(&h, 205, c, 50002, 22, 1, 521098696u), REJ);
	assert_true(h.v.counters & CNT(MC_LISTEN_DROPS));
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(syn(&h, retr[i], c, 50002, 22, 1,
		    (uint32_t)(1000000 + (retr[i] - 200) * 1000) + 0x1F000000u),
		    REJ);
	assert_int_equal(syn(&h, 205.5, c, 50003, 33, 1, 2685360060u), ACC);
	assert_int_equal(syn(&h, 268, c, 50002, 22, 1, 521161696u), ACC);
	assert_int_equal(stats(&h).predicted_rejections, 6);
	model_free(h.m);
}

/* ------------------------------------------------------------------ */
/* Boundaries per profile */

static void
test_4_12_no_passive_check(void **state)
{
	(void)state;
	for (int p = MODEL_P_4_12; p <= MODEL_P_6_16; p++) {
		struct h h;

		h_init(&h, (enum model_profile)p, 1);
		syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
		close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
		assert_int_equal(syn(&h, 110, NAT, 40002, 2000, 1, 1110000),
		    ACC);
		assert_int_equal(syn(&h, 111, NAT, 40003, 2000, 0, 0), ACC);
		uint8_t s[16], c[16];
		uint32_t a, b;
		put_addr(s, 4, SRV);
		put_addr(c, 4, NAT);
		assert_int_equal(model_peer_get(h.m, 4, s, c, &a, &b), -1);
		model_free(h.m);
	}
}

static void
test_recycle_off(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, MODEL_P_4_1, 0);
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	assert_int_equal(syn(&h, 110, NAT, 40002, 2000, 1, 1110000), ACC);
	/* Without recycle the TIME-WAIT lasts 60 s. */
	assert_int_equal(syn(&h, 160.5, NAT, 40001, 3000, 0, 0), REJ);
	assert_int_equal(h.v.path, MODEL_PATH_TIMEWAIT);
	assert_int_equal(h.v.reason, MODEL_R_TIMEWAIT_SEQ);
	assert_int_equal(syn(&h, 161.1, NAT, 40001, 3000, 1, 1000), ACC);
	model_free(h.m);
}

/* tw_recycle: TIME-WAIT lasts 3.5 x RTO (700 ms with 200 ms). */
static void
test_recycle_tw_length(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, MODEL_P_3_8, 1);
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	/* Same 4-tuple, 0.5 s later: still TIME-WAIT; seq after rcv_nxt and
	 * TSval newer: accepted by the TIME-WAIT, no passive check. */
	assert_int_equal(syn(&h, 101.5, NAT, 40001, 9000, 1, 5101600), ACC);
	assert_int_equal(h.v.path, MODEL_PATH_TIMEWAIT);
	close_server_first(&h, 102, NAT, 40001, 9100, 5102000);
	/* 0.71 s after: gone; the passive check judges (older TS: drop). */
	assert_int_equal(syn(&h, 102.71, NAT, 40001, 9500, 1, 5000000), REJ);
	assert_int_equal(h.v.path, MODEL_PATH_LISTENER);
	model_free(h.m);
}

static void
test_wrap(void **state)
{
	struct h h;
	const uint32_t s = 3000000000u;

	(void)state;
	h_init(&h, MODEL_P_4_1, 1);
	syn(&h, 100, NAT, 1, 1, 1, s - 10);
	close_server_first(&h, 101, NAT, 1, 10, s);
	assert_int_equal(syn(&h, 102, NAT, 2, 2, 1, s - 2147483647u), REJ);
	assert_int_equal(syn(&h, 102, NAT, 3, 3, 1, s - 2147483648u), ACC);
	assert_int_equal(syn(&h, 102, NAT, 4, 4, 1, s - 2147483649u), ACC);
	assert_int_equal(syn(&h, 102, NAT, 5, 5, 1, 0), ACC);
	model_free(h.m);
}

/* §11.1: tcp_timestamps=0 from the start vs switched off at T. */
static void
ts_switch_run(enum model_profile p, const char *set, int expect_110)
{
	struct model_config cfg = model_config_default();
	char err[128];
	struct h h;

	cfg.profile = p;
	cfg.setting[MS_TW_RECYCLE] = 1;
	if (set)
		assert_int_equal(model_config_set(&cfg, set, err, sizeof(err)),
		    0);
	memset(&h, 0, sizeof(h));
	h.m = mk_cfg(&cfg);
	h.family = 4;
	h.server = SRV;
	/* First event at t = 50. */
	syn(&h, 50, 0x01020304, 1, 1, 1, 1);
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	/* A TSval far ahead. */
	assert_int_equal(syn(&h, 110, NAT, 40002, 2000, 1, 9000000),
	    expect_110);
	assert_int_equal(syn(&h, 161, NAT, 40003, 2100, 1, 9000000), ACC);
	model_free(h.m);
}

static void
test_timestamps_off(void **state)
{
	(void)state;
	ts_switch_run(MODEL_P_4_1, NULL, ACC);
	ts_switch_run(MODEL_P_4_1, "net.ipv4.tcp_timestamps=0", ACC);
	ts_switch_run(MODEL_P_4_1, "net.ipv4.tcp_timestamps=0@55", REJ);
	ts_switch_run(MODEL_P_3_17, "tcp_timestamps=0@55", REJ);
	ts_switch_run(MODEL_P_3_13, "net.ipv4.tcp_timestamps=0@55", ACC);
	ts_switch_run(MODEL_P_2_6_32, "net.ipv4.tcp_timestamps=0@55", ACC);
	/* RHEL 7 backport via override. */
	struct model_config cfg = model_config_default();
	char err[64];
	assert_int_equal(model_profile_from_version("3.10.0-1160.el7.x86_64",
	    &cfg, err, sizeof(err)), 0);
	assert_true(model_config_behaviour(&cfg, MB_NO_TS_DROP));
}

static void
test_ipv6_per_profile(void **state)
{
	(void)state;
	for (int p = 0; p < MODEL_NPROFILES; p++) {
		struct h h;
		bool checked = p >= MODEL_P_3_1 && p <= MODEL_P_4_1;

		h_init(&h, (enum model_profile)p, 1);
		h.family = 6;
		h.server = 1;
		syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
		close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
		assert_int_equal(syn(&h, 110, NAT, 40002, 2000, 1, 1110000),
		    checked ? REJ : ACC);
		/* 2.6.32: no stamp, so a 60 s TIME-WAIT (not 3.5 x RTO). */
		if (p == MODEL_P_2_6_32) {
			assert_int_equal(syn(&h, 150, NAT, 40001, 3000, 1, 1),
			    REJ);
			assert_int_equal(h.v.path, MODEL_PATH_TIMEWAIT);
		}
		model_free(h.m);
	}
}

static void
test_peer_key_per_profile(void **state)
{
	(void)state;
	for (int p = MODEL_P_2_6_32; p <= MODEL_P_4_1; p++) {
		struct h h;
		bool pair = p >= MODEL_P_3_13;

		h_init(&h, (enum model_profile)p, 1);
		syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
		close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
		/* The same client to another local address. */
		h.server = SRV2;
		assert_int_equal(syn(&h, 110, NAT, 40002, 2000, 1, 1110000),
		    pair ? ACC : REJ);
		model_free(h.m);
	}
}

static void
test_tw_ack_ratelimit(void **state)
{
	(void)state;
	for (int p = MODEL_P_3_17; p <= MODEL_P_4_1; p++) {
		struct h h;
		bool limited = p == MODEL_P_4_1;

		h_init(&h, (enum model_profile)p, 0);
		syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
		close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
		syn(&h, 110, NAT, 40001, 9000, 1, 1110000);
		assert_int_equal(h.v.tw_ack, MODEL_TWACK_SENT);
		syn(&h, 110.4, NAT, 40001, 9000, 1, 1110400);
		assert_int_equal(h.v.tw_ack, limited ? MODEL_TWACK_RATELIMITED
		    : MODEL_TWACK_SENT);
		assert_int_equal(!!(h.v.counters & CNT(MC_ACK_SKIPPED_TW)),
		    limited);
		syn(&h, 110.5, NAT, 40001, 9000, 1, 1110500);
		assert_int_equal(h.v.tw_ack, MODEL_TWACK_SENT);
		assert_int_equal(stats(&h).predicted_rejections, 3);
		model_free(h.m);
	}
}

/* Non-PAWS old SYN: refused, no counter, no re-arm. */
static void
test_tw_seq_refusal(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, MODEL_P_6_16, 0);
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	/* Equal TSval, seq before rcv_nxt (5001). */
	assert_int_equal(syn(&h, 150, NAT, 40001, 4000, 1, 5101050), REJ);
	assert_int_equal(h.v.reason, MODEL_R_TIMEWAIT_SEQ);
	assert_int_equal(h.v.counters, 0);
	/* No TS: seq decides. */
	assert_int_equal(syn(&h, 155, NAT, 40001, 4000, 0, 0), REJ);
	assert_int_equal(h.v.reason, MODEL_R_TIMEWAIT_SEQ);
	/* Not re-armed: gone at 161. */
	assert_int_equal(syn(&h, 161.1, NAT, 40001, 4000, 1, 5000000), ACC);
	assert_int_equal(h.v.path, MODEL_PATH_LISTENER);
	/* A newer TSval is accepted whatever the seq. */
	close_server_first(&h, 170, NAT, 40001, 4100, 5170000);
	assert_int_equal(syn(&h, 171, NAT, 40001, 10, 1, 5171000), ACC);
	assert_int_equal(h.v.path, MODEL_PATH_TIMEWAIT);
	model_free(h.m);
}

/* Timestamps 2^31 ahead accepted, 2^31+1 ahead refused (§11.3). */
static void
test_tw_wrap(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, MODEL_P_6_16, 0);
	syn(&h, 100, NAT, 40001, 1000, 1, 1000);
	close_server_first(&h, 101, NAT, 40001, 5000, 1000);
	assert_int_equal(syn(&h, 110, NAT, 40001, 10, 1, 1000u + 2147483649u),
	    REJ);
	assert_int_equal(h.v.reason, MODEL_R_TIMEWAIT_PAWS);
	/* Exactly 2^31 ahead is "newer" under s32: accepted. */
	assert_int_equal(syn(&h, 110.6, NAT, 40001, 10, 1, 1000u + 2147483648u),
	    ACC);
	assert_int_equal(h.v.path, MODEL_PATH_TIMEWAIT);
	model_free(h.m);
}

/* A rejected connection does not exist: its FINs write no stamp. */
static void
test_whatif_rejected_world(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, MODEL_P_3_8, 1);
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	assert_int_equal(syn(&h, 110, NAT, 40002, 2000, 1, 1110000), REJ);
	/* In the capture the real server accepted and closed first. */
	feed(&h, 111, NAT, 40002, 0, TCPF_SYN | TCPF_ACK, 1, 1, 1);
	close_server_first(&h, 115, NAT, 40002, 2100, 1115000);
	peer_is(&h, NAT, 5101050, 101);
	struct model_stats st = stats(&h);
	assert_int_equal(st.syns, 2);
	assert_int_equal(st.connections, 2);
	model_free(h.m);
}

/* predicted == observed when the capture matches the settings. */
static void
test_observed_unanswered(void **state)
{
	struct h h;
	static const double retr[] = { 110, 111, 113, 117, 125, 141, 173 };

	(void)state;
	h_init(&h, MODEL_P_3_8, 1);
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
	feed(&h, 100.001, NAT, 40001, 0, TCPF_SYN | TCPF_ACK, 1, 1, 1);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	for (unsigned i = 0; i < 7; i++) {
		int d = syn(&h, retr[i], NAT, 40002, 2000, 1,
		    (uint32_t)(1000000 + 1000 * retr[i]));
		if (d == ACC)
			feed(&h, retr[i] + 0.001, NAT, 40002, 0,
			    TCPF_SYN | TCPF_ACK, 1, 1, 1);
	}
	/* One more that never gets an answer, long before the end. */
	syn(&h, 200, 0x01010101, 5, 5, 0, 0);
	feed(&h, 300, 0x02020202, 6, 1, TCPF_SYN, 6, 0, 0);
	feed(&h, 300.001, 0x02020202, 6, 0, TCPF_SYN | TCPF_ACK, 1, 0, 0);
	model_finish(h.m);
	struct model_stats st = stats(&h);
	assert_int_equal(st.predicted_rejections, 6);
	assert_int_equal(st.observed_unanswered_syns, 7);
	assert_int_equal(st.warmup, 6);
	model_free(h.m);
}

/* Live use: a SYN left unanswered counts once, after the 1 s grace. */
static uint64_t
at_us(double t)
{
	return BASE * 1000000ull + (uint64_t)(t * 1e6 + 0.5);
}

static void
test_settle(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, MODEL_P_6_16, 0);
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);	/* never answered */
	model_settle(h.m, at_us(100.5));
	assert_int_equal(stats(&h).observed_unanswered_syns, 0);
	model_settle(h.m, at_us(101.5));
	assert_int_equal(stats(&h).observed_unanswered_syns, 1);
	model_settle(h.m, at_us(102));
	assert_int_equal(stats(&h).observed_unanswered_syns, 1);
	/* Its retransmission is pending again, and counted once more. */
	syn(&h, 103, NAT, 40001, 1000, 1, 5103000);
	model_settle(h.m, at_us(103.2));
	assert_int_equal(stats(&h).observed_unanswered_syns, 1);
	model_settle(h.m, at_us(104.5));
	assert_int_equal(stats(&h).observed_unanswered_syns, 2);
	/* An answered SYN never counts; a clock behind the SYN settles nothing. */
	syn(&h, 105, NAT, 40002, 2000, 1, 5105000);
	feed(&h, 105.001, NAT, 40002, 0, TCPF_SYN | TCPF_ACK, 1, 1, 1);
	syn(&h, 106, NAT, 40003, 3000, 1, 5106000);
	model_settle(h.m, at_us(50));
	model_settle(h.m, at_us(106.5));
	assert_int_equal(stats(&h).observed_unanswered_syns, 2);
	model_settle(h.m, at_us(110));
	assert_int_equal(stats(&h).observed_unanswered_syns, 3);
	model_finish(h.m);
	assert_int_equal(stats(&h).observed_unanswered_syns, 3);
	model_free(h.m);
}

static void
test_warmup(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, MODEL_P_3_8, 1);
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	syn(&h, 110, NAT, 40002, 2000, 1, 1110000);
	assert_true(h.v.warmup);
	syn(&h, 160.5, NAT, 40002, 2000, 1, 1160000);
	assert_false(h.v.warmup);
	assert_int_equal(stats(&h).warmup, 1);
	model_free(h.m);
}

/* ------------------------------------------------------------------ */
/* Eviction at small caps */

static void
test_evictions(void **state)
{
	struct model_config cfg = model_config_default();
	struct h h;

	(void)state;
	/* inet_peer: LRU beyond max_peers. */
	cfg.profile = MODEL_P_3_1;
	cfg.setting[MS_TW_RECYCLE] = 1;
	cfg.max_peers = 3;
	memset(&h, 0, sizeof(h));
	h.m = mk_cfg(&cfg);
	h.family = 4;
	h.server = SRV;
	for (uint32_t i = 0; i < 5; i++) {
		syn(&h, 100 + i, 0x0b000000 + i, 1000, 1, 1, 100);
		close_server_first(&h, 100.5 + i, 0x0b000000 + i, 1000, 10,
		    200);
	}
	struct model_stats st = stats(&h);
	assert_int_equal(st.evictions[MODEL_T_PEERS], 2);
	assert_int_equal(st.peers, 3);
	model_free(h.m);

	/* tcp_metrics: one bucket of 6, the 7th address reclaims. */
	cfg.profile = MODEL_P_3_8;
	cfg.max_peers = 6;
	h.m = mk_cfg(&cfg);
	for (uint32_t i = 0; i < 7; i++) {
		syn(&h, 100 + i, 0x0b000000 + i, 1000, 1, 1, 100);
		close_server_first(&h, 100.5 + i, 0x0b000000 + i, 1000, 10,
		    200);
	}
	st = stats(&h);
	assert_int_equal(st.evictions[MODEL_T_PEERS], 1);
	assert_int_equal(st.peers, 6);
	/* The oldest (first) address lost its stamp. */
	uint8_t s[16], c[16];
	uint32_t a, b;
	put_addr(s, 4, SRV);
	put_addr(c, 4, 0x0b000000);
	assert_int_equal(model_peer_get(h.m, 4, s, c, &a, &b), -1);
	model_free(h.m);

	/* Connections and sources. */
	cfg = model_config_default();
	cfg.max_connections = 4;
	cfg.max_sources = 2;
	h.m = mk_cfg(&cfg);
	for (uint32_t i = 0; i < 6; i++)
		syn(&h, 100 + i, 0x0c000000 + i, 1000, 1, 1, 100);
	st = stats(&h);
	assert_int_equal(st.evictions[MODEL_T_CONNECTIONS], 2);
	assert_int_equal(st.evictions[MODEL_T_SOURCES], 4);
	assert_int_equal(st.tracked_connections, 4);
	assert_int_equal(st.sources, 2);
	model_free(h.m);
}

static void
test_memory_bound(void **state)
{
	struct model_config cfg = model_config_default();

	(void)state;
	assert_true(model_peer_entry_size() <= 64);
	size_t b = model_memory_bound(&cfg);
	assert_true(b >= (size_t)cfg.max_peers * model_peer_entry_size() +
	    (size_t)cfg.max_connections * model_conn_entry_size() +
	    (size_t)cfg.max_sources * model_source_entry_size());
	cfg.max_peers *= 2;
	assert_true(model_memory_bound(&cfg) > b);
}

/* ------------------------------------------------------------------ */
/* Profiles and configuration */

static void
test_profiles(void **state)
{
	static const struct { const char *v; const char *p; } map[] = {
		{ "2.6.32", "2.6.32-3.0" }, { "2.6.32-754.el6.x86_64",
		"2.6.32-3.0" }, { "3.0.101", "2.6.32-3.0" },
		{ "3.4.4", "3.1-3.5" }, { "3.5.7", "3.1-3.5" },
		{ "3.6.5", "3.6-3.7" }, { "3.7", "3.6-3.7" },
		{ "3.8.13", "3.8-3.12" }, { "3.10.0-1160.el7.x86_64",
		"3.8-3.12" }, { "3.13", "3.13-3.16" }, { "3.16.0",
		"3.13-3.16" }, { "3.17", "3.17-4.0" }, { "4.0.9", "3.17-4.0" },
		{ "4.1", "4.1-4.11" }, { "4.9.229", "4.1-4.11" },
		{ "4.11.12", "4.1-4.11" }, { "4.12", "4.12-6.15" },
		{ "5.10.0-28-amd64", "4.12-6.15" }, { "6.15.3", "4.12-6.15" },
		{ "6.16", "6.16+" }, { "6.18", "6.16+" }, { "7.1", "6.16+" },
		{ "3.17-4.0", "3.17-4.0" },
	};
	char err[128];

	(void)state;
	assert_int_equal(model_profile_count(), 9);
	for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		struct model_config cfg = model_config_default();
		assert_int_equal(model_profile_from_version(map[i].v, &cfg, err,
		    sizeof(err)), 0);
		assert_string_equal(model_profile_name(cfg.profile), map[i].p);
	}
	struct model_config cfg = model_config_default();
	assert_int_equal(model_profile_from_version("2.6.18", &cfg, err,
	    sizeof(err)), -1);
	assert_int_equal(model_profile_from_version("banana", &cfg, err,
	    sizeof(err)), -1);
	assert_int_equal(model_profile_from_version("3.10.0-327.el7", &cfg,
	    err, sizeof(err)), 0);
	assert_true(model_config_behaviour(&cfg, MB_NO_TS_DROP));
	assert_int_equal(model_profile_from_version("3.10.108", &cfg, err,
	    sizeof(err)), 0);
	assert_false(model_config_behaviour(&cfg, MB_NO_TS_DROP));
}

static void
test_config_set(void **state)
{
	struct model_config cfg = model_config_default();
	char err[128];

	(void)state;
	assert_int_equal(model_config_set(&cfg, "net.ipv4.tcp_tw_recycle=1",
	    err, sizeof(err)), 0);
	assert_int_equal(cfg.setting[MS_TW_RECYCLE], 1);
	assert_int_equal(model_config_set(&cfg, "net.ipv4.tcp_tw_recycle=1@30",
	    err, sizeof(err)), 0);
	assert_int_equal(model_config_set(&cfg, "tcp_timestamps=0@2.5",
	    err, sizeof(err)), 0);
	assert_int_equal(cfg.nchanges, 2);
	assert_int_equal(cfg.change[0].at_us, 2500000);
	assert_int_equal(cfg.change[0].setting, MS_TIMESTAMPS);
	assert_int_equal(cfg.change[1].at_us, 30000000);
	assert_int_equal(model_config_set(&cfg, "net.ipv4.tcp_rfc1337=1",
	    err, sizeof(err)), 0);
	assert_int_equal(cfg.setting[MS_RFC1337], 1);
	assert_int_equal(model_config_set(&cfg,
	    "kernel.no_timestamp_drop=false", err, sizeof(err)), 0);
	assert_false(model_config_behaviour(&cfg, MB_NO_TS_DROP));
	assert_int_equal(model_config_set(&cfg,
	    "kernel.tw-ack-ratelimit=true", err, sizeof(err)), 0);
	assert_true(model_config_behaviour(&cfg, MB_TW_ACK_RATELIMIT));
	assert_int_equal(model_config_set(&cfg, "model.max-peers=100", err,
	    sizeof(err)), 0);
	assert_int_equal(cfg.max_peers, 100);
	static const char *bad[] = { "x=1", "net.ipv4.tcp_tw_recycle",
	    "net.ipv4.tcp_tw_recycle=2", "tcp_timestamps=3",
	    "tcp_tw_recycle=1@", "tcp_tw_recycle=1@-3", "kernel.nope=1",
	    "kernel.no-timestamp-drop=maybe", "model.max-peers=0",
	    "=1", "tcp_tw_recycle=abc" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (model_config_set(&cfg, bad[i], err, sizeof(err)) != -1)
			fail_msg("accepted '%s'", bad[i]);
	for (int i = 0; i < MODEL_MAX_CHANGES - 2; i++)
		assert_int_equal(model_config_set(&cfg, "tcp_rfc1337=0@1", err,
		    sizeof(err)), 0);
	assert_int_equal(model_config_set(&cfg, "tcp_rfc1337=0@1", err,
	    sizeof(err)), -1);
	enum model_behaviour b;
	for (int i = 0; i < MODEL_NBEHAVIOURS; i++) {
		assert_int_equal(model_behaviour_by_name(
		    model_behaviour_name((enum model_behaviour)i), &b), 0);
		assert_int_equal(b, i);
	}
}

/* tw_recycle switched on mid-capture. */
static void
test_scheduled_recycle(void **state)
{
	struct model_config cfg = model_config_default();
	char err[64];
	struct h h;

	(void)state;
	cfg.profile = MODEL_P_4_1;
	assert_int_equal(model_config_set(&cfg, "tcp_tw_recycle=1@5", err,
	    sizeof(err)), 0);
	memset(&h, 0, sizeof(h));
	h.m = mk_cfg(&cfg);
	h.family = 4;
	h.server = SRV;
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	assert_int_equal(syn(&h, 104.9, NAT, 40002, 2000, 1, 1), ACC);
	assert_int_equal(syn(&h, 105, NAT, 40003, 2000, 1, 1), ACC);
	syn(&h, 106, NAT, 40004, 1000, 1, 5106000);
	close_server_first(&h, 107, NAT, 40004, 5000, 5107000);
	assert_int_equal(syn(&h, 108, NAT, 40005, 2000, 1, 1), REJ);
	model_free(h.m);
}

/* ------------------------------------------------------------------ */
/* NAT clustering */

static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s;
}

/* HOSTS behind NAT (or PER_CONN offsets); the FIN comes FIN_AFTER s after the SYN. */
static struct model_source
nat_run(int hosts, int per_conn, double fin_after)
{
	struct h h;
	struct model_source src;
	uint32_t rnd = 7;
	static const uint32_t rate[] = { 1000, 250, 100, 1000 };
	uint32_t off[4] = { 12345678, 3000000000u, 777777, 2000000000u };

	h_init(&h, MODEL_P_6_16, 0);
	for (int i = 0; i < 24; i++) {
		int host = i % hosts;
		double t = 100 + i * 3.7;
		uint32_t o = per_conn ? lcg(&rnd) : off[host];
		uint16_t port = (uint16_t)(20000 + i);
		uint32_t ts = o + (uint32_t)(t * rate[host]);

		syn(&h, t, NAT, port, lcg(&rnd), 1, ts);
		feed(&h, t + 0.001, NAT, port, 0, TCPF_SYN | TCPF_ACK, 1, 1, 1);
		feed(&h, t + fin_after, NAT, port, 1, TCPF_FIN | TCPF_ACK, 5, 1,
		    o + (uint32_t)((t + fin_after) * rate[host]));
	}
	uint8_t a[16];
	put_addr(a, 4, NAT);
	assert_int_equal(model_source_get(h.m, 4, a, &src), 0);
	assert_int_equal(src.syns, 24);
	model_free(h.m);
	return src;
}

static void
test_natclust(void **state)
{
	struct model_source s;

	(void)state;
	s = nat_run(1, 0, 1.5);
	assert_int_equal(s.nat_class, MODEL_NAT_HOSTS);
	assert_int_equal(s.estimated_hosts, 1);
	assert_true(s.confidence > 0.8);
	s = nat_run(2, 0, 1.5);
	assert_int_equal(s.nat_class, MODEL_NAT_HOSTS);
	assert_int_equal(s.estimated_hosts, 2);
	assert_true(s.confidence > 0.8);
	s = nat_run(3, 0, 1.5);
	assert_int_equal(s.estimated_hosts, 3);
	s = nat_run(1, 1, 1.5);
	assert_int_equal(s.nat_class, MODEL_NAT_PER_CONN);
	assert_true(s.confidence > 0.5);
	/*
	 * Connections 1 ms long: SYN and FIN alone fit every clock rate, so
	 * no rate may be learnt from them (seen in a real capture, where a
	 * 2-host NAT came out as per-connection offsets).
	 */
	s = nat_run(2, 0, 0.001);
	assert_int_equal(s.nat_class, MODEL_NAT_HOSTS);
	assert_int_equal(s.estimated_hosts, 2);
	s = nat_run(1, 0, 0.001);
	assert_int_equal(s.estimated_hosts, 1);
}

/*
 * N connections from the NAT address, one every GAP s from t = 100, the
 * i-th from client port PORTS[i] with the clock OFFS[i] + 1000 Hz (the
 * FIN 0.2 s after the SYN): the clock of each 4-tuple is whatever the
 * caller says (per-4-tuple offsets: the same offset for the same port).
 */
static struct model_source
nat_conns(int n, const uint16_t *ports, const uint32_t *offs, double gap)
{
	struct h h;
	struct model_source src;
	uint32_t rnd = 11;

	h_init(&h, MODEL_P_6_16, 0);
	for (int i = 0; i < n; i++) {
		double t = 100 + i * gap;
		uint32_t ts = offs[i] + (uint32_t)(t * 1000);

		syn(&h, t, NAT, ports[i], lcg(&rnd), 1, ts);
		feed(&h, t + 0.001, NAT, ports[i], 0, TCPF_SYN | TCPF_ACK, 1,
		    1, 1);
		feed(&h, t + 0.2, NAT, ports[i], 1, TCPF_FIN | TCPF_ACK, 5, 1,
		    ts + 200);
	}
	uint8_t a[16];
	put_addr(a, 4, NAT);
	assert_int_equal(model_source_get(h.m, 4, a, &src), 0);
	assert_int_equal(src.syns, (uint64_t)n);
	model_free(h.m);
	return src;
}

/* Per-4-tuple offsets (Linux 4.10, 6.x stable from 2026): a port used
 * again keeps its clock; a new port brings an unrelated one. */
static void
test_natclust_per_tuple(void **state)
{
	uint16_t ports[32];
	uint32_t offs[32], rnd = 5, byport[16];
	struct model_source s;

	(void)state;
	for (int k = 0; k < 16; k++)
		byport[k] = lcg(&rnd);
	/* One client, 3 ports each used twice: 3 steady clocks of 2
	 * connections, the same trace as 3 fixed-port hosts connecting
	 * twice. Counted as 3 hosts before; now too little to tell. */
	for (int i = 0; i < 6; i++) {
		ports[i] = (uint16_t)(41000 + i % 3);
		offs[i] = byport[i % 3];
	}
	s = nat_conns(6, ports, offs, 0.4);
	assert_int_equal(s.nat_class, MODEL_NAT_UNKNOWN);
	assert_int_equal(s.estimated_hosts, 0);
	/* 8 ports, each used twice: per-connection, no count. */
	for (int i = 0; i < 16; i++) {
		ports[i] = (uint16_t)(41000 + i % 8);
		offs[i] = byport[i % 8];
	}
	s = nat_conns(16, ports, offs, 0.4);
	assert_int_equal(s.nat_class, MODEL_NAT_PER_CONN);
	assert_int_equal(s.estimated_hosts, 0);
	assert_true(s.confidence >= NATCLUST_MIN_CONFIDENCE);
	/* A new port every time, 8 connections: per-connection. */
	for (int i = 0; i < 8; i++) {
		ports[i] = (uint16_t)(42000 + i);
		offs[i] = byport[i];
	}
	s = nat_conns(8, ports, offs, 0.4);
	assert_int_equal(s.nat_class, MODEL_NAT_PER_CONN);
	/* 6 ports, each used twice, the second time mapped by the NAT to
	 * another public port (masquerade does when the old one was taken
	 * in between): each clock on two ports, the trace of 6 hosts
	 * connecting twice. Counted as 6 hosts before; now unknown. */
	for (int i = 0; i < 12; i++) {
		ports[i] = (uint16_t)(i < 6 ? 41000 + i : 50000 + 17 * i);
		offs[i] = byport[i % 6];
	}
	s = nat_conns(12, ports, offs, 0.4);
	assert_int_equal(s.nat_class, MODEL_NAT_UNKNOWN);
	assert_int_equal(s.estimated_hosts, 0);
	/* Two connections, two ports, two clocks: unknown, no count. */
	s = nat_conns(2, ports, offs, 0.4);
	assert_int_equal(s.nat_class, MODEL_NAT_UNKNOWN);
	assert_int_equal(s.estimated_hosts, 0);
	/* Two fixed ports, each its own steady clock, used 6 times each:
	 * two fixed-port hosts or one host on two 4-tuples. Unknown. */
	for (int i = 0; i < 12; i++) {
		ports[i] = (uint16_t)(40001 + i % 2);
		offs[i] = byport[i % 2];
	}
	s = nat_conns(12, ports, offs, 0.4);
	assert_int_equal(s.nat_class, MODEL_NAT_UNKNOWN);
	/* Three clocks on one mapped port (clients on a fixed port that
	 * the NAT maps to the same port once the last mapping expired):
	 * three clients, whatever their offsets. */
	for (int i = 0; i < 7; i++) {
		static const int seq[] = { 0, 1, 0, 2, 1, 2, 0 };
		ports[i] = 40000;
		offs[i] = byport[seq[i]];
	}
	s = nat_conns(7, ports, offs, 1.5);
	assert_int_equal(s.nat_class, MODEL_NAT_HOSTS);
	assert_int_equal(s.estimated_hosts, 3);
}

/* tcp_timestamps=2 (no offset) on clients sharing one kernel (network
 * namespaces, containers): one clock across all their ports. Counted as
 * one clock, which is what a tw_recycle server sees too. */
static void
test_natclust_same_clock(void **state)
{
	uint16_t ports[40];
	uint32_t offs[40];
	struct model_source s;

	(void)state;
	for (int i = 0; i < 40; i++) {
		ports[i] = (uint16_t)(33000 + 7 * i);
		offs[i] = 0;
	}
	s = nat_conns(40, ports, offs, 0.05);
	assert_int_equal(s.nat_class, MODEL_NAT_HOSTS);
	assert_int_equal(s.estimated_hosts, 1);
	assert_true(s.confidence > 0.9);
	/* Two such kernels: two clocks. */
	for (int i = 0; i < 40; i++)
		offs[i] = i % 2 ? 1500000000u : 0;
	s = nat_conns(40, ports, offs, 0.05);
	assert_int_equal(s.nat_class, MODEL_NAT_HOSTS);
	assert_int_equal(s.estimated_hosts, 2);
}

static void
test_top_sources(void **state)
{
	struct h h;
	struct model_source top[2];

	(void)state;
	h_init(&h, MODEL_P_3_8, 1);
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	syn(&h, 110, NAT, 40002, 2000, 1, 1110000);
	syn(&h, 111, NAT, 40002, 2000, 1, 1111000);
	for (uint32_t i = 0; i < 5; i++)
		syn(&h, 112, 0x0d000000 + i, 1, 1, 0, 0);
	assert_int_equal(model_top_sources(h.m, top, 2), 2);
	assert_int_equal(top[0].predicted_rejections, 2);
	assert_int_equal(top[0].syns, 3);
	assert_int_equal(top[0].addr[0], 198);
	assert_int_equal(top[1].predicted_rejections, 0);
	model_free(h.m);
}

/* ------------------------------------------------------------------ */
/* model_set_setting: a live change equals a scheduled one */

/* A random stream: NCLI clients (some behind one NAT address with two
 * clocks), SYNs with and without TS, SYN-ACKs, server-first and
 * client-first closes, RSTs, same-port reuse; times from t = 100. */
#define EQ_EVENTS	3000

static size_t
eq_stream(uint32_t seed, uint8_t family, struct tcp_event *out, size_t max)
{
	uint32_t r = seed;
	double t = 100;
	size_t n = 0;

	while (n + 4 <= max) {
		uint32_t c = lcg(&r) >> 16;
		uint32_t client = 0x0b000000u + (c % 5);
		uint16_t port = (uint16_t)(40000 + (lcg(&r) >> 16) % 6);
		/* Two clocks behind each address, far apart. */
		uint32_t clock = ((lcg(&r) >> 16) & 1) ? 50000000u : 9000000u;
		uint32_t ts = clock + (uint32_t)(t * 1000);
		int has_ts = ((lcg(&r) >> 16) % 8) != 0;
		uint32_t isn = lcg(&r);
		unsigned what = (lcg(&r) >> 16) % 4;
		struct tcp_event base;

		t += ((lcg(&r) >> 16) % 3000) / 1000.0;
		memset(&base, 0, sizeof(base));
		base.family = family;
		put_addr(base.src, family, client);
		put_addr(base.dst, family, SRV);
		base.sport = port;
		base.dport = PORT;
		base.has_ts = (uint8_t)has_ts;
		base.tsval = ts;
		base.to_server = 1;
		base.time_us = BASE * 1000000ull + (uint64_t)(t * 1e6);
		/* SYN */
		out[n] = base;
		out[n].flags = TCPF_SYN;
		out[n].seq = isn;
		n++;
		if (what == 3)
			continue;	/* unanswered / retried later */
		/* SYN-ACK */
		out[n] = base;
		memcpy(out[n].src, base.dst, 16);
		memcpy(out[n].dst, base.src, 16);
		out[n].sport = PORT;
		out[n].dport = port;
		out[n].to_server = 0;
		out[n].flags = TCPF_SYN | TCPF_ACK;
		out[n].tsval = 42;
		out[n].time_us += 100;
		n++;
		if (what == 0) {
			/* Server closes first, then the client's FIN. */
			out[n] = out[n - 1];
			out[n].flags = TCPF_FIN | TCPF_ACK;
			out[n].time_us += 500000;
			n++;
			out[n] = base;
			out[n].flags = TCPF_FIN | TCPF_ACK;
			out[n].seq = isn + 1000;
			out[n].tsval = ts + 600;
			out[n].time_us += 600000;
			n++;
		} else if (what == 1) {
			/* Client closes first. */
			out[n] = base;
			out[n].flags = TCPF_FIN | TCPF_ACK;
			out[n].seq = isn + 500;
			out[n].tsval = ts + 300;
			out[n].time_us += 300000;
			n++;
		} else {
			/* Client RST, sometimes in a TIME-WAIT's window. */
			out[n] = base;
			out[n].flags = TCPF_RST;
			out[n].seq = isn + 1;
			out[n].has_ts = 0;
			out[n].time_us += 200000;
			n++;
		}
	}
	return n;
}

/* Peers fresh at NOW_S, into a fixed array (order: table order). */
struct peer_list {
	size_t n;
	struct model_peer p[64];
};

static void
collect_peer(void *arg, const struct model_peer *p)
{
	struct peer_list *l = arg;

	if (l->n < 64)
		l->p[l->n++] = *p;
}

/*
 * Run EV once with "NAME=VALUE@AT" scheduled in the config, once with
 * model_set_setting() called just before the first event at or after
 * first + AT; every verdict, the stats and the peer table must match.
 */
static void
eq_run(enum model_profile p, int32_t start[MODEL_NSETTINGS],
    const struct model_change *ch, unsigned nch, const struct tcp_event *ev,
    size_t n)
{
	struct model_config cfg = model_config_default();
	struct model *a, *b;
	struct model_stats sa, sb;
	struct peer_list la, lb;
	unsigned next = 0;

	cfg.profile = p;
	memcpy(cfg.setting, start, sizeof(cfg.setting));
	cfg.server_rto_ms = 200;
	b = mk_cfg(&cfg);
	for (unsigned i = 0; i < nch; i++)
		cfg.change[i] = ch[i];
	cfg.nchanges = nch;
	a = mk_cfg(&cfg);
	for (size_t i = 0; i < n; i++) {
		struct model_verdict va, vb;

		while (next < nch && ev[i].time_us - ev[0].time_us >=
		    ch[next].at_us) {
			assert_int_equal(model_set_setting(b,
			    (enum model_setting)ch[next].setting,
			    ch[next].value), 0);
			next++;
		}
		model_feed(a, &ev[i], &va);
		model_feed(b, &ev[i], &vb);
		if (memcmp(&va, &vb, sizeof(va)) != 0)
			fail_msg("profile %s event %zu: scheduled %d/%d, live "
			    "%d/%d", model_profile_name(p), i, va.decision,
			    va.reason, vb.decision, vb.reason);
	}
	for (int k = 0; k < MODEL_NSETTINGS; k++)
		assert_int_equal(model_get_setting(a, k), model_get_setting(b, k));
	model_finish(a);
	model_finish(b);
	model_stats(a, &sa);
	model_stats(b, &sb);
	assert_memory_equal(&sa, &sb, sizeof(sa));
	memset(&la, 0, sizeof(la));
	memset(&lb, 0, sizeof(lb));
	uint32_t end_s = (uint32_t)(ev[n - 1].time_us / 1000000u);
	assert_int_equal(model_peers_fresh(a, end_s, collect_peer, &la),
	    model_peers_fresh(b, end_s, collect_peer, &lb));
	assert_int_equal(la.n, lb.n);
	assert_memory_equal(la.p, lb.p, la.n * sizeof(la.p[0]));
	model_free(a);
	model_free(b);
}

static void
test_set_setting_equals_scheduled(void **state)
{
	static struct tcp_event ev[EQ_EVENTS];
	/* Switches at 40 s, 400 s, 900 s of a ~1500 s stream. */
	const struct model_change sets[][3] = {
		{ { 40000000, 0, MS_TIMESTAMPS }, { 400000000, 1, MS_TIMESTAMPS },
		  { 900000000, 0, MS_TW_RECYCLE } },
		{ { 40000000, 1, MS_TW_RECYCLE }, { 400000000, 1, MS_RFC1337 },
		  { 900000000, 0, MS_TIMESTAMPS } },
		{ { 40000000, 1, MS_RFC1337 }, { 400000000, 0, MS_TW_RECYCLE },
		  { 900000000, 1, MS_TW_RECYCLE } },
	};
	int32_t on[MODEL_NSETTINGS] = { 1, 1, 0 };
	int32_t off[MODEL_NSETTINGS] = { 0, 1, 0 };

	(void)state;
	for (uint8_t fam = 4; fam <= 6; fam += 2) {
		size_t n = eq_stream(fam * 7919u, fam, ev, EQ_EVENTS);

		assert_true(n > 1000);
		for (int p = 0; p < MODEL_NPROFILES; p++) {
			eq_run((enum model_profile)p, on, sets[0], 3, ev, n);
			eq_run((enum model_profile)p, off, sets[1], 3, ev, n);
			eq_run((enum model_profile)p, on, sets[2], 3, ev, n);
		}
	}
}

/*
 * §11.1 live: tcp_timestamps goes 1 -> 0 while a stamp is fresh. The
 * stamp stays (no reset): on no-timestamp-drop profiles every SYN from
 * the peer is refused until it is 60 s old, as with "@T"; before 3.17
 * nothing is refused.
 */
static void
set_ts_off_live(enum model_profile p, int expect_110)
{
	struct h h;
	struct model_stats before, after;

	h_init(&h, p, 1);
	syn(&h, 50, 0x01020304, 1, 1, 1, 1);
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	before = stats(&h);
	assert_int_equal(model_set_setting(h.m, MS_TIMESTAMPS, 0), 0);
	assert_int_equal(model_get_setting(h.m, MS_TIMESTAMPS), 0);
	after = stats(&h);
	/* Nothing dropped: the peer table and totals are as they were. */
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(after.peers, 1);
	peer_is(&h, NAT, 5101050, 101);
	assert_int_equal(model_peers_fresh(h.m, BASE + 105, NULL, NULL), 1);
	assert_int_equal(syn(&h, 110, NAT, 40002, 2000, 1, 9000000),
	    expect_110);
	assert_int_equal(syn(&h, 161, NAT, 40003, 2100, 1, 9000000), ACC);
	model_free(h.m);
}

static void
test_set_setting_timestamps_transient(void **state)
{
	(void)state;
	/* Same outcome as ts_switch_run(p, "tcp_timestamps=0@55", ...). */
	set_ts_off_live(MODEL_P_4_1, REJ);
	set_ts_off_live(MODEL_P_3_17, REJ);
	set_ts_off_live(MODEL_P_3_13, ACC);
	set_ts_off_live(MODEL_P_2_6_32, ACC);
	ts_switch_run(MODEL_P_4_1, "net.ipv4.tcp_timestamps=0@55", REJ);
}

static void
test_set_setting_args(void **state)
{
	struct h h;

	(void)state;
	h_init(&h, MODEL_P_4_1, 0);
	assert_int_equal(model_set_setting(h.m, MODEL_NSETTINGS, 1), -1);
	assert_int_equal(model_set_setting(h.m, MS_TW_RECYCLE, -1), -1);
	assert_int_equal(model_get_setting(h.m, MS_TW_RECYCLE), 0);
	assert_int_equal(model_get_setting(h.m, MODEL_NSETTINGS), -1);
	/* Before any event: holds from the first one. */
	assert_int_equal(model_set_setting(h.m, MS_TW_RECYCLE, 1), 0);
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	assert_int_equal(syn(&h, 102, NAT, 40002, 2000, 1, 1), REJ);
	/* Off: the stamp stays, the passive check is gone. */
	assert_int_equal(model_set_setting(h.m, MS_TW_RECYCLE, 0), 0);
	assert_int_equal(syn(&h, 103, NAT, 40003, 2000, 1, 1), ACC);
	peer_is(&h, NAT, 5101050, 101);
	/* On again within 60 s: the old stamp refuses again. */
	assert_int_equal(model_set_setting(h.m, MS_TW_RECYCLE, 1), 0);
	assert_int_equal(syn(&h, 104, NAT, 40004, 2000, 1, 1), REJ);
	model_free(h.m);
}

/* model_peers_fresh: the passive check's freshness, keys per profile. */
static void
test_peers_fresh(void **state)
{
	struct h h;
	struct peer_list l;
	uint8_t srv[16];

	(void)state;
	h_init(&h, MODEL_P_4_1, 1);
	assert_int_equal(model_peers_fresh(h.m, BASE + 100, NULL, NULL), 0);
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	syn(&h, 110, 0x0c000001, 40001, 1000, 1, 700);
	close_server_first(&h, 130, 0x0c000001, 40001, 5000, 800);
	memset(&l, 0, sizeof(l));
	assert_int_equal(model_peers_fresh(h.m, BASE + 131, collect_peer, &l),
	    2);
	assert_int_equal(l.n, 2);
	put_addr(srv, 4, SRV);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(l.p[i].family, 4);
		assert_memory_equal(l.p[i].server, srv, 16);
	}
	assert_true((l.p[0].ts == 5101050 && l.p[0].stamp == BASE + 101) ||
	    (l.p[1].ts == 5101050 && l.p[1].stamp == BASE + 101));
	/* Stamp second 101 is fresh up to 160, not at 161. */
	assert_int_equal(model_peers_fresh(h.m, BASE + 160, NULL, NULL), 2);
	assert_int_equal(model_peers_fresh(h.m, BASE + 161, NULL, NULL), 1);
	assert_int_equal(model_peers_fresh(h.m, BASE + 190, NULL, NULL), 0);
	model_free(h.m);

	/* Before 3.13 the key is the client alone: server zero. */
	h_init(&h, MODEL_P_3_8, 1);
	syn(&h, 100, NAT, 40001, 1000, 1, 5100000);
	close_server_first(&h, 101, NAT, 40001, 5000, 5101050);
	memset(&l, 0, sizeof(l));
	assert_int_equal(model_peers_fresh(h.m, BASE + 101, collect_peer, &l),
	    1);
	memset(srv, 0, 16);
	assert_memory_equal(l.p[0].server, srv, 16);
	model_free(h.m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ex1_3_10),
		cmocka_unit_test(test_ex1_old_kernels),
		cmocka_unit_test(test_ex1_last_fresh_second),
		cmocka_unit_test(test_ex1_no_ts_variant),
		cmocka_unit_test(test_ex1_modern),
		cmocka_unit_test(test_ex2_rows),
		cmocka_unit_test(test_ex2_update_boundary),
		cmocka_unit_test(test_update_rule_larger_wins),
		cmocka_unit_test(test_ex3),
		cmocka_unit_test(test_4_12_no_passive_check),
		cmocka_unit_test(test_recycle_off),
		cmocka_unit_test(test_recycle_tw_length),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_timestamps_off),
		cmocka_unit_test(test_ipv6_per_profile),
		cmocka_unit_test(test_peer_key_per_profile),
		cmocka_unit_test(test_tw_ack_ratelimit),
		cmocka_unit_test(test_tw_seq_refusal),
		cmocka_unit_test(test_tw_wrap),
		cmocka_unit_test(test_whatif_rejected_world),
		cmocka_unit_test(test_observed_unanswered),
		cmocka_unit_test(test_settle),
		cmocka_unit_test(test_warmup),
		cmocka_unit_test(test_evictions),
		cmocka_unit_test(test_memory_bound),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_config_set),
		cmocka_unit_test(test_scheduled_recycle),
		cmocka_unit_test(test_natclust),
		cmocka_unit_test(test_natclust_per_tuple),
		cmocka_unit_test(test_natclust_same_clock),
		cmocka_unit_test(test_top_sources),
		cmocka_unit_test(test_set_setting_equals_scheduled),
		cmocka_unit_test(test_set_setting_timestamps_transient),
		cmocka_unit_test(test_set_setting_args),
		cmocka_unit_test(test_peers_fresh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
