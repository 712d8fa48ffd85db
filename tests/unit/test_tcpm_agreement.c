/*
 * The kernel's tcp_metrics peer table against the live model's: a dump
 * fabricated as the netlink bytes of a 3.7-4.11 kernel (TW_TSVAL,
 * TW_TS_STAMP), parsed by tcp_metrics_parse(), turned into kernel peers
 * (tcpm_kpeers_from_dump()) and compared with a model fed events
 * (tcpm_agree_compute()): keys per profile, the sampled subset, the
 * stamp window, other local addresses; then the same through a running
 * sampler and live mode's model thread (on lo, skipped without
 * CAP_NET_RAW).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/tcp_metrics.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "agent/advice.h"
#include "agent/audit.h"
#include "nlmsgs.h"
#include "web/negotiate.h"
#include "web/render.h"
#include "agent/live_model.h"
#include "collectors/sampler.h"
#include "agent/snapshot.h"
#include "collectors/tcp_metrics.h"
#include "lib/util.h"

#define FAMILY	0x1d
#define DUMP_S	1700000120u	/* the dump's second */
#define PORT	80

/* ---- fabricated dump ---- */

/* One entry as tcp_metrics_fill_info sends it; SADDR may be NULL. */
static void
add_entry(struct nlbuf *b, const char *addr, const char *saddr,
    uint32_t tsval, int32_t stamp_age)
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
		assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, saddr, a),
		    1);
		assert_int_equal(nla_put(msg, v6 ? TCP_METRICS_ATTR_SADDR_IPV6 :
		    TCP_METRICS_ATTR_SADDR_IPV4, v6 ? 16 : 4, a), 0);
	}
	assert_int_equal(nla_put_u64(msg, TCP_METRICS_ATTR_AGE, 1000), 0);
	assert_int_equal(nla_put_u32(msg, TCP_METRICS_ATTR_TW_TSVAL, tsval), 0);
	assert_int_equal(nla_put_s32(msg, TCP_METRICS_ATTR_TW_TS_STAMP,
	    stamp_age), 0);
	nlbuf_add(b, msg);
}

static void
add_done(struct nlbuf *b)
{
	struct nl_msg *msg = nlmsg_alloc_simple(NLMSG_DONE, NLM_F_MULTI);
	int zero = 0;

	assert_non_null(msg);
	assert_int_equal(nlmsg_append(msg, &zero, sizeof(zero), 4), 0);
	nlbuf_add(b, msg);
}

static struct tcp_metrics_stats *
parse(struct nlbuf *b)
{
	struct tcp_metrics_stats *t = calloc(1, sizeof(*t));
	char err[256];

	assert_non_null(t);
	add_done(b);
	assert_int_equal(tcp_metrics_parse(b->p, b->len, FAMILY, t, err,
	    sizeof(err)), TCP_METRICS_PARSE_DONE);
	t->dump_wall = DUMP_S + 0.4;
	free(b->p);
	b->p = NULL;
	b->len = 0;
	return t;
}

/* ---- a model fed events ---- */

static void
addr_of(const char *s, uint8_t family, uint8_t out[16])
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, s, out),
	    1);
}

static void
feed(struct model *m, uint32_t sec, const char *client, const char *server,
    uint16_t cport, int to_server, uint8_t flags, uint32_t seq,
    uint32_t tsval)
{
	struct tcp_event ev;
	uint8_t family = strchr(client, ':') ? 6 : 4;
	uint8_t c[16], s[16];

	memset(&ev, 0, sizeof(ev));
	addr_of(client, family, c);
	addr_of(server, family, s);
	ev.time_us = (uint64_t)sec * 1000000u + 200000;
	ev.family = family;
	ev.flags = flags;
	ev.has_ts = 1;
	ev.tsval = tsval;
	ev.seq = seq;
	ev.to_server = (uint8_t)to_server;
	memcpy(to_server ? ev.src : ev.dst, c, 16);
	memcpy(to_server ? ev.dst : ev.src, s, 16);
	ev.sport = to_server ? cport : PORT;
	ev.dport = to_server ? PORT : cport;
	model_feed(m, &ev, NULL);
}

/* A connection from CLIENT to SERVER that the server closes first at
 * second SEC; the client's FIN carries TSVAL (what the kernel stores). */
static void
conn(struct model *m, uint32_t sec, const char *client, const char *server,
    uint16_t cport, uint32_t tsval)
{
	feed(m, sec, client, server, cport, 1, TCPF_SYN, 1000, tsval - 10);
	feed(m, sec, client, server, cport, 0, TCPF_SYN | TCPF_ACK, 7000, 5);
	feed(m, sec, client, server, cport, 0, TCPF_FIN | TCPF_ACK, 7001, 6);
	feed(m, sec, client, server, cport, 1, TCPF_FIN | TCPF_ACK, 1001, tsval);
}

static struct model *
new_model(enum model_profile p)
{
	struct model_config cfg = model_config_default();
	char err[128];
	struct model *m;

	cfg.profile = p;
	cfg.setting[MS_TW_RECYCLE] = 1;
	cfg.max_peers = 4096;
	cfg.max_connections = 4096;
	cfg.max_sources = 1024;
	m = model_new(&cfg, err, sizeof(err));
	if (m == NULL)
		fail_msg("model_new: %s", err);
	return m;
}

static const struct sampler_addr *
servers(size_t *n)
{
	static struct sampler_addr sv[2];

	assert_int_equal(sampler_addr_parse("10.0.0.1", &sv[0]), 0);
	assert_int_equal(sampler_addr_parse("2001:db8::1", &sv[1]), 0);
	*n = 2;
	return sv;
}

/*
 * 4.1-4.11 (key = (server, client)), ratio 2: the worked case of
 * docs/metrics.md. Dump at DUMP_S, sampler started at DUMP_S - 100.
 */
static void
test_agreement_4_x(void **state)
{
	struct model *m = new_model(MODEL_P_4_1);
	struct nlbuf b = { 0 };
	struct tcp_metrics_stats *t;
	struct tcpm_kpeer kp[TCPM_AGREE_PEERS];
	struct tcpm_agreement a;
	struct tcpm_agree_in in;
	bool complete;
	size_t n;

	(void)state;
	/* Model: A and B and D (stamps at DUMP_S - 20 / - 10 / - 5). */
	conn(m, DUMP_S - 20, "198.51.100.2", "10.0.0.1", 40001, 5000);
	conn(m, DUMP_S - 10, "198.51.100.4", "10.0.0.1", 40001, 7000);
	conn(m, DUMP_S - 5, "2001:db8:1::8", "2001:db8::1", 40001, 900);
	/* Model: unsampled client (odd last byte), and a stamp 70 s old. */
	conn(m, DUMP_S - 15, "198.51.100.3", "10.0.0.1", 40001, 100);
	conn(m, DUMP_S - 70, "198.51.100.10", "10.0.0.1", 40001, 100);

	/* Kernel: A same TSval, B another TSval, C kernel only. */
	add_entry(&b, "198.51.100.2", "10.0.0.1", 5000, 20);
	add_entry(&b, "198.51.100.4", "10.0.0.1", 7001, 10);
	add_entry(&b, "198.51.100.6", "10.0.0.1", 1234, 30);
	/* Excluded: unsampled, stale (60 s), before the sampler started,
	 * another local address, a clock step (negative age). */
	add_entry(&b, "198.51.100.3", "10.0.0.1", 100, 15);
	add_entry(&b, "198.51.100.10", "10.0.0.1", 100, 60);
	add_entry(&b, "198.51.100.12", "10.0.0.1", 100, 59);
	add_entry(&b, "198.51.100.14", "10.0.0.9", 100, 3);
	add_entry(&b, "198.51.100.16", "10.0.0.1", 100, -2);
	t = parse(&b);
	assert_true(t->has_tw_attrs);

	n = tcpm_kpeers_from_dump(t, kp, TCPM_AGREE_PEERS,
	    &complete);
	assert_true(complete);
	/* Fresh by the kernel's own test: not the 60 s nor the negative. */
	assert_int_equal(n, 6);
	assert_int_equal(kp[0].family, 4);
	assert_true(kp[0].has_server);
	assert_int_equal(kp[0].stamp, DUMP_S - 20);
	assert_int_equal(kp[0].tsval, 5000);

	memset(&in, 0, sizeof(in));
	in.key_server = true;
	in.ratio = 2;
	in.servers = servers(&in.nservers);
	in.now_s = DUMP_S;
	in.since_s = DUMP_S - 59;	/* 198.51.100.12's stamp is older */
	memset(&a, 0, sizeof(a));
	tcpm_agree_compute(m, &in, kp, n, &a);
	assert_true(a.valid);
	assert_int_equal(a.kernel, 3);		/* A, B, C */
	assert_int_equal(a.model, 3);		/* A, B, D */
	assert_int_equal(a.common, 2);
	assert_int_equal(a.matched, 1);
	assert_true(a.ratio > 0.2499 && a.ratio < 0.2501);	/* 1 / 4 */

	/* Ratio 1: the odd client counts on both sides, and matches. */
	n = tcpm_kpeers_from_dump(t, kp, TCPM_AGREE_PEERS,
	    &complete);
	in.ratio = 1;
	tcpm_agree_compute(m, &in, kp, n, &a);
	assert_int_equal(a.kernel, 4);
	assert_int_equal(a.model, 4);
	assert_int_equal(a.matched, 2);

	/* No server list: the other local address's peer is kept. */
	n = tcpm_kpeers_from_dump(t, kp, TCPM_AGREE_PEERS,
	    &complete);
	in.ratio = 2;
	in.nservers = 0;
	tcpm_agree_compute(m, &in, kp, n, &a);
	assert_int_equal(a.kernel, 4);

	/* A list cut short says so. */
	n = tcpm_kpeers_from_dump(t, kp, 2, &complete);
	assert_int_equal(n, 2);
	assert_false(complete);
	free(t);
	model_free(m);
}

/*
 * The model may already have events after the dump when it compares: a
 * peer it re-stamped after the dump's second has an unknown value at the
 * dump, so that key is left out of both sides instead of counting as a
 * kernel-only entry (which biased the ratio low on busy hosts).
 */
static void
test_agreement_restamped_after_dump(void **state)
{
	struct model *m = new_model(MODEL_P_4_1);
	struct nlbuf b = { 0 };
	struct tcp_metrics_stats *t;
	struct tcpm_kpeer kp[TCPM_AGREE_PEERS];
	struct tcpm_agreement a;
	struct tcpm_agree_in in;
	bool complete;
	size_t n;

	(void)state;
	/* A: same in both. B: re-stamped by the model 3 s after the dump
	 * (another TSval). C: new in the model after the dump only. */
	conn(m, DUMP_S - 20, "198.51.100.2", "10.0.0.1", 40001, 5000);
	conn(m, DUMP_S - 10, "198.51.100.4", "10.0.0.1", 40001, 7000);
	conn(m, DUMP_S + 3, "198.51.100.4", "10.0.0.1", 40003, 7100);
	conn(m, DUMP_S + 2, "198.51.100.8", "10.0.0.1", 40001, 900);
	add_entry(&b, "198.51.100.2", "10.0.0.1", 5000, 20);
	add_entry(&b, "198.51.100.4", "10.0.0.1", 7000, 10);
	t = parse(&b);
	n = tcpm_kpeers_from_dump(t, kp, TCPM_AGREE_PEERS,
	    &complete);
	assert_int_equal(n, 2);
	memset(&in, 0, sizeof(in));
	in.key_server = true;
	in.ratio = 1;
	in.servers = servers(&in.nservers);
	in.now_s = DUMP_S;
	in.since_s = DUMP_S - 100;
	memset(&a, 0, sizeof(a));
	tcpm_agree_compute(m, &in, kp, n, &a);
	assert_true(a.valid);
	assert_int_equal(a.kernel, 1);		/* A; B left out */
	assert_int_equal(a.model, 1);		/* A; B and C left out */
	assert_int_equal(a.matched, 1);
	assert_true(a.ratio == 1.0);
	free(t);
	model_free(m);
}

/* Before 3.13 the key is the client alone: one entry per client. */
static void
test_agreement_client_key(void **state)
{
	struct model *m = new_model(MODEL_P_3_8);
	struct nlbuf b = { 0 };
	struct tcp_metrics_stats *t;
	struct tcpm_kpeer kp[TCPM_AGREE_PEERS];
	struct tcpm_agreement a;
	struct tcpm_agree_in in;
	bool complete;
	size_t n;

	(void)state;
	/* Two server addresses, one client: the model keeps one stamp. */
	conn(m, DUMP_S - 30, "198.51.100.2", "10.0.0.1", 40001, 5000);
	conn(m, DUMP_S - 20, "198.51.100.2", "10.0.0.5", 40002, 6000);
	/* The kernel without SADDR (as 3.8 sends it). */
	add_entry(&b, "198.51.100.2", NULL, 6000, 20);
	t = parse(&b);
	n = tcpm_kpeers_from_dump(t, kp, TCPM_AGREE_PEERS,
	    &complete);
	assert_int_equal(n, 1);
	assert_false(kp[0].has_server);
	memset(&in, 0, sizeof(in));
	in.key_server = false;
	in.ratio = 1;
	in.servers = servers(&in.nservers);
	in.now_s = DUMP_S;
	in.since_s = DUMP_S - 100;
	tcpm_agree_compute(m, &in, kp, n, &a);
	assert_int_equal(a.kernel, 1);
	assert_int_equal(a.model, 1);
	assert_int_equal(a.matched, 1);
	assert_true(a.ratio == 1.0);
	free(t);

	/* A 3.13+ dump compared under a client-only key merges the pairs,
	 * keeping the newest stamp (both local addresses watched: none
	 * named, so 10.0.0.5's entry is not left out). */
	in.nservers = 0;
	add_entry(&b, "198.51.100.2", "10.0.0.1", 5000, 30);
	add_entry(&b, "198.51.100.2", "10.0.0.5", 6000, 20);
	t = parse(&b);
	n = tcpm_kpeers_from_dump(t, kp, TCPM_AGREE_PEERS,
	    &complete);
	assert_int_equal(n, 2);
	tcpm_agree_compute(m, &in, kp, n, &a);
	assert_int_equal(a.kernel, 1);
	assert_int_equal(a.matched, 1);
	free(t);
	model_free(m);
}

/* Both sides empty: agreement 1 over 0 peers; one side only: 0. */
static void
test_agreement_empty(void **state)
{
	struct model *m = new_model(MODEL_P_4_1);
	struct tcpm_kpeer kp[1];
	struct tcpm_agreement a;
	struct tcpm_agree_in in;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.key_server = true;
	in.ratio = 1;
	in.now_s = DUMP_S;
	in.since_s = DUMP_S - 100;
	tcpm_agree_compute(m, &in, kp, 0, &a);
	assert_true(a.valid);
	assert_int_equal(a.kernel + a.model + a.matched, 0);
	assert_true(a.ratio == 1.0);
	conn(m, DUMP_S - 1, "198.51.100.2", "10.0.0.1", 40001, 5000);
	tcpm_agree_compute(m, &in, kp, 0, &a);
	assert_int_equal(a.model, 1);
	assert_true(a.ratio == 0.0);
	model_free(m);
}

/* ---- through a running sampler: thread hand-over and publication ---- */

/* Up to 60 s: the sampler's threads on a slow, busy machine (sanitizers). */
static bool
wait_for(struct live_model *lm, struct sampler *s, struct live_stats *st,
    bool (*cond)(const struct live_stats *))
{
	for (int i = 0; i < 6000; i++) {
		live_model_read(lm, s, st);
		if (cond(st))
			return true;
		usleep(10000);
	}
	return false;
}

static bool
one_comparison(const struct live_stats *st)
{
	return st->tcpm_agreement.comparisons >= 1;
}

static bool
withdrawn(const struct live_stats *st)
{
	return !st->tcpm_agreement.valid;
}

static bool
one_incomplete(const struct live_stats *st)
{
	return st->tcpm_agreement.incomplete >= 1;
}

static bool
settings_applied(const struct live_stats *st)
{
	return st->settings_changes >= 1;
}

static void
test_sampler_thread(void **state)
{
	struct sampler_config cfg = sampler_config_default();
	struct live_model_config mc = live_model_config_default();
	struct live_stats *st = calloc(1, sizeof(*st));
	struct tcpm_kpeer kp[2];
	struct live_model *lm;
	struct sampler *s;
	char err[256];
	double now;

	(void)state;
	assert_non_null(st);
	cfg.interface[0] = "lo";
	cfg.ninterfaces = 1;
	cfg.server[0] = "127.0.0.1";
	cfg.nservers = 1;
	mc.model.profile = MODEL_P_4_1;
	mc.model.max_peers = mc.model.max_connections = 1024;
	mc.model.max_sources = 256;
	mc.whatif[0].profile = MODEL_P_4_1;
	mc.whatif[0].setting[MS_TIMESTAMPS] = 1;
	mc.whatif[0].follow = 1u << MS_RFC1337;
	mc.nwhatif = 1;
	s = sampler_new(&cfg, err, sizeof(err));
	assert_non_null(s);
	if (sampler_start(s, err, sizeof(err)) < 0) {
		sampler_free(s);
		free(st);
		skip();		/* no CAP_NET_RAW, or no lo: nothing to run */
	}
	lm = live_model_new(&mc, err, sizeof(err));
	assert_non_null(lm);
	assert_int_equal(live_model_start(lm, s, err, sizeof(err)), 0);
	/* A settings change is applied in place: no reset. */
	live_model_set_settings(lm, 1, 0, 1);
	assert_true(wait_for(lm, s, st, settings_applied));
	assert_int_equal(st->model_resets, 0);
	assert_int_equal(st->setting[MS_TW_RECYCLE], 1);
	assert_int_equal(st->setting[MS_TIMESTAMPS], 0);
	/* The what-if keeps its own tw_recycle/timestamps, follows rfc1337. */
	assert_int_equal(st->whatif[0].setting[MS_TW_RECYCLE], 0);
	assert_int_equal(st->whatif[0].setting[MS_TIMESTAMPS], 1);
	assert_int_equal(st->whatif[0].setting[MS_RFC1337], 1);

	/* Two kernel peers stamped after the start; the model has none. */
	sleep(1);
	now = now_wall();
	memset(kp, 0, sizeof(kp));
	for (int i = 0; i < 2; i++) {
		kp[i].family = 4;
		kp[i].client[0] = 192;
		kp[i].client[3] = (uint8_t)(2 + i);
		kp[i].has_server = true;
		kp[i].server[0] = 127;
		kp[i].server[3] = 1;
		kp[i].tsval = 77;
		kp[i].stamp = (uint32_t)now;
	}
	live_model_set_kernel_peers(lm, kp, 2, true, now);
	assert_true(wait_for(lm, s, st, one_comparison));
	assert_true(st->tcpm_agreement.valid);
	assert_int_equal(st->tcpm_agreement.kernel, 2);
	assert_int_equal(st->tcpm_agreement.model, 0);
	assert_true(st->tcpm_agreement.ratio == 0.0);
	assert_true(st->tcpm_agreement.at == now);

	/* No kernel side (4.12+): withdrawn. A cut list: not compared. */
	live_model_set_kernel_peers(lm, NULL, 0, false, 0);
	assert_true(wait_for(lm, s, st, withdrawn));
	live_model_set_kernel_peers(lm, kp, 2, false, now);
	assert_true(wait_for(lm, s, st, one_incomplete));
	assert_false(st->tcpm_agreement.valid);
	sampler_stop(s);
	live_model_free(lm);
	sampler_free(s);
	free(st);
}

/* ---- what users see: /metrics, /model, /advice ---- */

/* The 4.10 tw_recycle fixture, with a running sampler whose agreement
 * is AGREE (kernel 40, model 30, matched 20 of 50 keys: 0.4). */
static struct snapshot *
fixture_snapshot(bool valid)
{
	struct collect_paths p = { 0 };
	struct snapshot *s;
	struct tcpm_agreement *a;

	p.procfs = FIXTURES "/linux-4.10-recycle";
	p.rootfs = FIXTURES "/rootfs-empty";
	p.sw[SRC_SOCK_DIAG] = COLLECT_OFF;
	p.sw[SRC_TCP_METRICS] = COLLECT_OFF;
	s = snapshot_collect(&p, NULL);
	assert_non_null(s);
	s->have_sampler = true;
	s->sampler.state = SAMPLER_OK;
	s->sampler.ratio = 2;
	snprintf(s->sampler.profile, sizeof(s->sampler.profile), "4.1-4.11");
	s->sampler.settings_changes = 3;
	a = &s->sampler.tcpm_agreement;
	a->valid = valid;
	a->kernel = 40;
	a->model = 30;
	a->common = 20;
	a->matched = 20;
	a->ratio = 0.4;
	a->at = 1700000120.5;
	a->comparisons = 7;
	snapshot_finish(s, NULL);
	return s;
}

/* promtool check metrics on TEXT, when promtool is installed. */
static void
promtool_clean(const char *text, size_t len)
{
	char path[] = "/tmp/twaudit-agree-XXXXXX", cmd[128], out[512];
	FILE *pp;
	size_t got;
	int fd, rc;

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		/* Said, not silent; make test-deps installs it (prometheus). */
		print_message("promtool not installed: exposition not checked "
		    "by promtool\n");
		return;
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	pp = popen(cmd, "r");
	assert_non_null(pp);
	got = fread(out, 1, sizeof(out) - 1, pp);
	out[got] = '\0';
	rc = pclose(pp);
	unlink(path);
	if (rc != 0 || got != 0)
		fail_msg("promtool check metrics: %s", out);
}

/* evidence.model of F when it carries tcp_metrics_agreement, else NULL. */
static const struct ev_model *
agreement(const struct finding *f)
{
	const struct ev_part *p = evidence_find(&f->evidence, EV_MODEL,
	    "model");

	return p != NULL && p->u.model->has_agreement ? p->u.model : NULL;
}

static void
test_exposition(void **state)
{
	struct snapshot *s = fixture_snapshot(true);
	size_t len;
	char *text;

	(void)state;
	text = render_prom(s, EXPO_PROM_004, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "# TYPE twaudit_model_tcp_metrics_"
	    "agreement_ratio gauge\n"));
	assert_non_null(strstr(text, "\ntwaudit_model_tcp_metrics_agreement_"
	    "ratio 0.400000\n"));
	assert_non_null(strstr(text, "\ntwaudit_model_tcp_metrics_compared_"
	    "peers{set=\"kernel\"} 40\n"));
	assert_non_null(strstr(text, "\ntwaudit_model_tcp_metrics_compared_"
	    "peers{set=\"model\"} 30\n"));
	assert_non_null(strstr(text, "\ntwaudit_model_tcp_metrics_compared_"
	    "peers{set=\"matched\"} 20\n"));
	promtool_clean(text, len);
	free(text);
	/* OpenMetrics: gauges keep their names (promtool reads 0.0.4). */
	text = render_prom(s, EXPO_OPENMETRICS, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "\n# TYPE twaudit_model_tcp_metrics_"
	    "compared_peers gauge\n"));
	free(text);

	/* /model: the figures; settings_changes beside model_resets. */
	text = render_model(s, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"tcp_metrics_agreement\": {"));
	assert_non_null(strstr(text, "\"ratio\": 0.4"));
	assert_non_null(strstr(text, "\"kernel_peers\": 40"));
	assert_non_null(strstr(text, "\"matched_peers\": 20"));
	assert_non_null(strstr(text, "\"settings_changes\": 3"));
	assert_non_null(strstr(text, "\"model_resets\": 0"));
	free(text);

	/* /advice: evidence.model.tcp_metrics_agreement, as it is low. */
	{
		bool seen = false;

		for (size_t i = 0; i < s->findings.n; i++) {
			const struct ev_model *m = agreement(&s->findings.f[i]);

			if (m == NULL)
				continue;
			seen = true;
			assert_true(m->agreement.ratio == 0.4);
			assert_int_equal(m->agreement.kernel_peers, 40);
		}
		assert_true(seen);
	}
	snapshot_unref(s);

	/* Not compared: no series, null in /model, no evidence. */
	s = fixture_snapshot(false);
	text = render_prom(s, EXPO_PROM_004, &len);
	assert_non_null(text);
	assert_null(strstr(text, "tcp_metrics_agreement"));
	assert_null(strstr(text, "tcp_metrics_compared"));
	free(text);
	text = render_model(s, &len);
	assert_non_null(strstr(text, "\"tcp_metrics_agreement\": null"));
	free(text);
	for (size_t i = 0; i < s->findings.n; i++)
		assert_null(agreement(&s->findings.f[i]));
	snapshot_unref(s);
}

/* Good agreement is no evidence: it stays out of /advice. */
static void
test_advice_only_when_low(void **state)
{
	struct snapshot *s = fixture_snapshot(true);
	struct snapshot *t;

	(void)state;
	findings_clear(&s->findings);
	s->sampler.tcpm_agreement.matched = 29;
	s->sampler.tcpm_agreement.common = 29;
	s->sampler.tcpm_agreement.ratio = 29.0 / 41.0;	/* 0.707: low */
	advice_evaluate(s, &s->findings);
	t = fixture_snapshot(true);
	findings_clear(&t->findings);
	t->sampler.tcpm_agreement.kernel = 30;
	t->sampler.tcpm_agreement.common = 30;
	t->sampler.tcpm_agreement.matched = 27;
	t->sampler.tcpm_agreement.ratio = 0.9;
	advice_evaluate(t, &t->findings);
	assert_true(t->findings.n > 0);
	for (size_t i = 0; i < t->findings.n; i++)
		assert_null(agreement(&t->findings.f[i]));
	/* Too few peers to say: 5 compared, ratio 0. */
	findings_clear(&t->findings);
	t->sampler.tcpm_agreement.kernel = 5;
	t->sampler.tcpm_agreement.model = 0;
	t->sampler.tcpm_agreement.common = 0;
	t->sampler.tcpm_agreement.matched = 0;
	t->sampler.tcpm_agreement.ratio = 0;
	advice_evaluate(t, &t->findings);
	for (size_t i = 0; i < t->findings.n; i++)
		assert_null(agreement(&t->findings.f[i]));
	{
		bool seen = false;

		for (size_t i = 0; i < s->findings.n; i++)
			seen |= agreement(&s->findings.f[i]) != NULL;
		assert_true(seen);
	}
	snapshot_unref(s);
	snapshot_unref(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agreement_4_x),
		cmocka_unit_test(test_agreement_restamped_after_dump),
		cmocka_unit_test(test_agreement_client_key),
		cmocka_unit_test(test_agreement_empty),
		cmocka_unit_test(test_sampler_thread),
		cmocka_unit_test(test_exposition),
		cmocka_unit_test(test_advice_only_when_low),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
