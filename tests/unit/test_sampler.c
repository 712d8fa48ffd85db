/*
 * Sampler tests without a live capture: the BPF filter compiled by
 * libpcap for every live link type and run (pcap_offline_filter) on
 * hand-built frames — sampled and unsampled clients, both directions,
 * IPv4 and IPv6, SYN/FIN/RST against pure ACKs, the loopback outgoing
 * copy on SLL2; the userspace loopback-duplicate rule; the ring (full:
 * drops counted, order kept); configuration errors and the disabled
 * state; a missing interface: the capture thread runs (calling the
 * thread hook on itself, as serve's seccomp roles need), nothing is open,
 * the interface is retried.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/live_model.h"
#include "collectors/sampler.h"
#include "lib/util.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

static const int live_linktypes[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
};
#define NLINK (sizeof(live_linktypes) / sizeof(live_linktypes[0]))

#define LO_IFINDEX 1
#define ETH_IFINDEX 7

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_ACK = 0x10 };

struct frame {
	uint8_t b[256];
	size_t len;
};

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/*
 * A frame of LINKTYPE carrying TCP from SRC to DST (family 4 or 6) with
 * FLAGS and a Timestamps option. EXT: an IPv6 hop-by-hop header first.
 * PKTTYPE and IFINDEX fill the cooked headers.
 */
static struct frame
mkframe(int linktype, int family, const char *src, const char *dst,
    uint8_t flags, int ext, int pkttype, int ifindex)
{
	struct frame f;
	struct sampler_addr s, d;
	size_t l = 0, ip, tcp;
	unsigned tcplen = 32, iplen;

	memset(&f, 0, sizeof(f));
	assert_int_equal(sampler_addr_parse(src, &s), 0);
	assert_int_equal(sampler_addr_parse(dst, &d), 0);
	assert_int_equal(s.family, family);
	unsigned ethertype = family == 4 ? 0x0800 : 0x86dd;

	switch (linktype) {
	case DLT_EN10MB:
		memset(f.b, 0x02, 12);
		put16(f.b + 12, ethertype);
		l = 14;
		break;
	case DLT_LINUX_SLL:
		put16(f.b, (unsigned)pkttype);
		put16(f.b + 2, ifindex == LO_IFINDEX ? 772 : 1);
		put16(f.b + 4, 6);
		put16(f.b + 14, ethertype);
		l = 16;
		break;
	case DLT_LINUX_SLL2:
		put16(f.b, ethertype);
		put32(f.b + 4, (uint32_t)ifindex);
		put16(f.b + 8, ifindex == LO_IFINDEX ? 772 : 1);
		f.b[10] = (uint8_t)pkttype;
		f.b[11] = 6;
		l = 20;
		break;
	default:
		l = 0;
	}
	ip = l;
	if (family == 4) {
		iplen = 20;
		f.b[ip] = 0x45;
		put16(f.b + ip + 2, iplen + tcplen);
		put16(f.b + ip + 6, 0x4000);
		f.b[ip + 8] = 64;
		f.b[ip + 9] = 6;
		memcpy(f.b + ip + 12, s.addr, 4);
		memcpy(f.b + ip + 16, d.addr, 4);
	} else {
		iplen = 40 + (ext ? 8 : 0);
		f.b[ip] = 0x60;
		put16(f.b + ip + 4, iplen - 40 + tcplen);
		f.b[ip + 6] = ext ? 0 : 6;
		f.b[ip + 7] = 64;
		memcpy(f.b + ip + 8, s.addr, 16);
		memcpy(f.b + ip + 24, d.addr, 16);
		if (ext) {
			f.b[ip + 40] = 6;	/* next: TCP, length 0 */
			f.b[ip + 42] = 1;	/* PadN, 4 bytes */
			f.b[ip + 43] = 4;
		}
	}
	tcp = ip + iplen;
	put16(f.b + tcp, 40000);
	put16(f.b + tcp + 2, 80);
	put32(f.b + tcp + 4, 1000);
	put32(f.b + tcp + 8, (flags & F_ACK) ? 2000 : 0);
	f.b[tcp + 12] = (uint8_t)((tcplen / 4) << 4);
	f.b[tcp + 13] = flags;
	put16(f.b + tcp + 14, 65535);
	f.b[tcp + 20] = 1;
	f.b[tcp + 21] = 1;
	f.b[tcp + 22] = 8;
	f.b[tcp + 23] = 10;
	put32(f.b + tcp + 24, 123456);
	f.len = tcp + tcplen;
	return f;
}

struct compiled {
	pcap_t *p;
	struct bpf_program prog;
	char filter[SAMPLER_FILTER_MAX];
};

static void
compile(struct compiled *c, int linktype, const struct sampler_addr *sv,
    size_t n, unsigned ratio, int lo_ifindex)
{
	assert_int_equal(sampler_filter_build(linktype, sv, n, ratio,
	    lo_ifindex, c->filter, sizeof(c->filter)), 0);
	c->p = pcap_open_dead(linktype, 65535);
	assert_non_null(c->p);
	if (pcap_compile(c->p, &c->prog, c->filter, 1,
	    PCAP_NETMASK_UNKNOWN) < 0)
		fail_msg("linktype %d: %s\nfilter: %s", linktype,
		    pcap_geterr(c->p), c->filter);
	/* The kernel takes at most 4096 instructions. */
	assert_true(c->prog.bf_len < 4096);
}

static void
release(struct compiled *c)
{
	pcap_freecode(&c->prog);
	pcap_close(c->p);
}

static int
passes(struct compiled *c, const struct frame *f)
{
	struct pcap_pkthdr h;

	memset(&h, 0, sizeof(h));
	h.caplen = h.len = (bpf_u_int32)f->len;
	return pcap_offline_filter(&c->prog, &h, f->b) != 0;
}

static struct sampler_addr servers[3];

static int
setup_servers(void **state)
{
	(void)state;
	if (sampler_addr_parse("10.0.0.1", &servers[0]) < 0 ||
	    sampler_addr_parse("10.0.0.5", &servers[1]) < 0 ||
	    sampler_addr_parse("2001:db8::1", &servers[2]) < 0)
		return -1;
	return 0;
}

/* One direction/flags matrix on link type LT with RATIO. */
static void
matrix(int lt, unsigned ratio)
{
	struct compiled c;
	/* Client addresses: last byte 2 (sampled at ratio 2: 2 & 1 == 0),
	 * 3 (not), 4 (sampled at 2 and 4). */
	static const struct {
		int family;
		const char *client, *server;
		unsigned last;
	} cl[] = {
		{ 4, "192.0.2.2", "10.0.0.1", 2 },
		{ 4, "192.0.2.3", "10.0.0.1", 3 },
		{ 4, "192.0.2.4", "10.0.0.5", 4 },
		{ 4, "198.51.100.131", "10.0.0.5", 131 },
		{ 6, "2001:db8:1::2", "2001:db8::1", 2 },
		{ 6, "2001:db8:1::3", "2001:db8::1", 3 },
		{ 6, "2001:db8:1::ff04", "2001:db8::1", 4 },
		{ 6, "2001:db8:1::ff05", "2001:db8::1", 5 },
	};
	static const struct {
		uint8_t flags;
		int pass;
	} fl[] = {
		{ F_SYN, 1 }, { F_SYN | F_ACK, 1 }, { F_FIN | F_ACK, 1 },
		{ F_RST, 1 }, { F_RST | F_ACK, 1 }, { F_ACK, 0 }, { 0x18, 0 },
	};

	compile(&c, lt, servers, 3, ratio, lt == DLT_LINUX_SLL2 ?
	    LO_IFINDEX : 0);
	for (size_t i = 0; i < sizeof(cl) / sizeof(cl[0]); i++) {
		int sampled = (cl[i].last & (ratio - 1)) == 0;

		for (size_t k = 0; k < sizeof(fl) / sizeof(fl[0]); k++) {
			for (int dir = 0; dir < 2; dir++) {
				const char *src = dir ? cl[i].server : cl[i].client;
				const char *dst = dir ? cl[i].client : cl[i].server;
				struct frame f = mkframe(lt, cl[i].family, src,
				    dst, fl[k].flags, 0, dir ? 4 : 0,
				    ETH_IFINDEX);
				int want = sampled && fl[k].pass;

				if (passes(&c, &f) != want)
					fail_msg("lt %d ratio %u %s %s->%s flags "
					    "%#x: got %d want %d\n%s", lt, ratio,
					    dir ? "from server" : "to server",
					    src, dst, fl[k].flags, !want, want,
					    c.filter);
			}
		}
	}
	/* Neither end a server: never. */
	{
		struct frame f = mkframe(lt, 4, "192.0.2.2", "192.0.2.4",
		    F_SYN, 0, 0, ETH_IFINDEX);

		assert_false(passes(&c, &f));
		f = mkframe(lt, 6, "2001:db8:1::2", "2001:db8:1::4", F_SYN, 0,
		    0, ETH_IFINDEX);
		assert_false(passes(&c, &f));
	}
	/* IPv6 with an extension header first: passed to the decoder
	 * (even a pure ACK: the filter cannot see the flags), sampling
	 * still applied. */
	{
		struct frame f = mkframe(lt, 6, "2001:db8:1::4", "2001:db8::1",
		    F_ACK, 1, 0, ETH_IFINDEX);

		if (!passes(&c, &f))
			fail_msg("lt %d ratio %u: IPv6 hop-by-hop dropped\n%s",
			    lt, ratio, c.filter);
		f = mkframe(lt, 6, "2001:db8:1::3", "2001:db8::1", F_SYN, 1, 0,
		    ETH_IFINDEX);
		assert_int_equal(passes(&c, &f), ratio == 1);
	}
	release(&c);
}

static void
test_filter_matrix(void **state)
{
	(void)state;
	for (size_t i = 0; i < NLINK; i++) {
		matrix(live_linktypes[i], 1);
		matrix(live_linktypes[i], 2);
		matrix(live_linktypes[i], 4);
	}
}

/* SLL2: the outgoing copy on lo is dropped in the filter, the incoming
 * one kept; outgoing on another interface is kept. */
static void
test_filter_loopback_sll2(void **state)
{
	struct sampler_addr sv[2];
	struct compiled c;
	struct frame f;

	(void)state;
	assert_int_equal(sampler_addr_parse("127.0.0.1", &sv[0]), 0);
	assert_int_equal(sampler_addr_parse("::1", &sv[1]), 0);
	compile(&c, DLT_LINUX_SLL2, sv, 2, 1, LO_IFINDEX);
	f = mkframe(DLT_LINUX_SLL2, 4, "127.0.0.1", "127.0.0.1", F_SYN, 0, 4,
	    LO_IFINDEX);
	assert_false(passes(&c, &f));
	f = mkframe(DLT_LINUX_SLL2, 4, "127.0.0.1", "127.0.0.1", F_SYN, 0, 0,
	    LO_IFINDEX);
	assert_true(passes(&c, &f));
	f = mkframe(DLT_LINUX_SLL2, 6, "::1", "::1", F_FIN | F_ACK, 0, 4,
	    LO_IFINDEX);
	assert_false(passes(&c, &f));
	f = mkframe(DLT_LINUX_SLL2, 6, "::1", "::1", F_FIN | F_ACK, 0, 0,
	    LO_IFINDEX);
	assert_true(passes(&c, &f));
	f = mkframe(DLT_LINUX_SLL2, 4, "127.0.0.1", "127.0.0.1", F_SYN, 0, 4,
	    ETH_IFINDEX);
	assert_true(passes(&c, &f));
	release(&c);
	/* Without an ifindex the rule is left out. */
	compile(&c, DLT_LINUX_SLL2, sv, 2, 1, 0);
	assert_null(strstr(c.filter, "link["));
	release(&c);
}

static void
test_filter_strings(void **state)
{
	char buf[SAMPLER_FILTER_MAX];
	struct sampler_addr v4;

	(void)state;
	assert_int_equal(sampler_addr_parse("10.0.0.1", &v4), 0);
	assert_int_equal(sampler_filter_build(DLT_EN10MB, &v4, 1, 2, 0, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "((ip and tcp[tcpflags] & "
	    "(tcp-syn|tcp-fin|tcp-rst) != 0 and (((ip dst host 10.0.0.1) and "
	    "ip[15] & 1 == 0) or ((ip src host 10.0.0.1) and ip[19] & 1 == "
	    "0))))");
	assert_int_equal(sampler_filter_build(DLT_LINUX_SLL2, &v4, 1, 1, 1,
	    buf, sizeof(buf)), 0);
	assert_string_equal(buf, "not (link[10] == 4 and link[4:4] == 1) and "
	    "((ip and tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0 and "
	    "((ip dst host 10.0.0.1) or (ip src host 10.0.0.1))))");
	/* Errors. */
	assert_int_equal(sampler_filter_build(DLT_EN10MB, &v4, 1, 3, 0, buf,
	    sizeof(buf)), -1);
	assert_int_equal(sampler_filter_build(DLT_EN10MB, &v4, 1, 512, 0, buf,
	    sizeof(buf)), -1);
	assert_int_equal(sampler_filter_build(DLT_EN10MB, &v4, 0, 1, 0, buf,
	    sizeof(buf)), -1);
	assert_int_equal(sampler_filter_build(DLT_NULL, &v4, 1, 1, 0, buf,
	    sizeof(buf)), -1);
	assert_int_equal(sampler_filter_build(DLT_EN10MB, &v4, 1, 1, 0, buf,
	    40), -1);
	assert_string_equal(buf, "");
}

/* The most servers allowed still compile under the kernel's limit. */
static void
test_filter_max_servers(void **state)
{
	struct sampler_addr sv[SAMPLER_MAX_SERVERS];
	struct compiled c;
	char a[64];

	(void)state;
	for (int i = 0; i < SAMPLER_MAX_SERVERS; i++) {
		if (i % 2)
			snprintf(a, sizeof(a), "2001:db8::%x", i);
		else
			snprintf(a, sizeof(a), "10.1.%d.%d", i / 250, i % 250 + 1);
		assert_int_equal(sampler_addr_parse(a, &sv[i]), 0);
	}
	compile(&c, DLT_LINUX_SLL2, sv, SAMPLER_MAX_SERVERS, 8, 1);
	release(&c);
}

static void
test_loopback_duplicate(void **state)
{
	struct frame f;

	(void)state;
	/* SLL: outgoing + ARPHRD_LOOPBACK is the duplicate. */
	f = mkframe(DLT_LINUX_SLL, 4, "127.0.0.1", "127.0.0.1", F_SYN, 0, 4,
	    LO_IFINDEX);
	assert_true(sampler_loopback_duplicate(DLT_LINUX_SLL, f.b, f.len, 0));
	f = mkframe(DLT_LINUX_SLL, 4, "127.0.0.1", "127.0.0.1", F_SYN, 0, 0,
	    LO_IFINDEX);
	assert_false(sampler_loopback_duplicate(DLT_LINUX_SLL, f.b, f.len, 0));
	f = mkframe(DLT_LINUX_SLL, 4, "10.0.0.1", "192.0.2.2", F_SYN, 0, 4,
	    ETH_IFINDEX);
	assert_false(sampler_loopback_duplicate(DLT_LINUX_SLL, f.b, f.len, 0));
	/* SLL2: by hatype, or by ifindex. */
	f = mkframe(DLT_LINUX_SLL2, 6, "::1", "::1", F_SYN, 0, 4, LO_IFINDEX);
	assert_true(sampler_loopback_duplicate(DLT_LINUX_SLL2, f.b, f.len, 0));
	assert_true(sampler_loopback_duplicate(DLT_LINUX_SLL2, f.b, f.len,
	    LO_IFINDEX));
	f.b[8] = 0;
	f.b[9] = 1;	/* hatype ether, ifindex still lo's */
	assert_true(sampler_loopback_duplicate(DLT_LINUX_SLL2, f.b, f.len,
	    LO_IFINDEX));
	assert_false(sampler_loopback_duplicate(DLT_LINUX_SLL2, f.b, f.len,
	    0));
	f = mkframe(DLT_LINUX_SLL2, 6, "::1", "::1", F_SYN, 0, 0, LO_IFINDEX);
	assert_false(sampler_loopback_duplicate(DLT_LINUX_SLL2, f.b, f.len,
	    LO_IFINDEX));
	f = mkframe(DLT_LINUX_SLL2, 4, "10.0.0.1", "192.0.2.2", F_SYN, 0, 4,
	    ETH_IFINDEX);
	assert_false(sampler_loopback_duplicate(DLT_LINUX_SLL2, f.b, f.len,
	    LO_IFINDEX));
	/* Short frames and other link types: never. */
	assert_false(sampler_loopback_duplicate(DLT_LINUX_SLL2, f.b, 10, 1));
	f = mkframe(DLT_EN10MB, 4, "127.0.0.1", "127.0.0.1", F_SYN, 0, 4, 1);
	assert_false(sampler_loopback_duplicate(DLT_EN10MB, f.b, f.len, 1));
}

static void
test_ring(void **state)
{
	struct sampler_ring *r;
	struct tcp_event ev, out;

	(void)state;
	r = sampler_ring_new(3);
	assert_non_null(r);
	assert_int_equal(sampler_ring_capacity(r), 4);
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(sampler_ring_pop(r, &out), 0);
	for (uint32_t i = 0; i < 4; i++) {
		ev.seq = i;
		assert_int_equal(sampler_ring_push(r, &ev), 0);
	}
	ev.seq = 99;
	assert_int_equal(sampler_ring_push(r, &ev), -1);
	assert_int_equal(sampler_ring_push(r, &ev), -1);
	assert_int_equal(sampler_ring_dropped(r), 2);
	for (uint32_t i = 0; i < 2; i++) {
		assert_int_equal(sampler_ring_pop(r, &out), 1);
		assert_int_equal(out.seq, i);
	}
	/* Wrap-around. */
	for (uint32_t i = 4; i < 6; i++) {
		ev.seq = i;
		assert_int_equal(sampler_ring_push(r, &ev), 0);
	}
	assert_int_equal(sampler_ring_push(r, &ev), -1);
	for (uint32_t i = 2; i < 6; i++) {
		assert_int_equal(sampler_ring_pop(r, &out), 1);
		assert_int_equal(out.seq, i);
	}
	assert_int_equal(sampler_ring_pop(r, &out), 0);
	assert_int_equal(sampler_ring_dropped(r), 3);
	sampler_ring_free(r);
	assert_null(sampler_ring_new((size_t)1 << 30));
}

static void
test_client_sampled(void **state)
{
	uint8_t a[16] = { 0 };

	(void)state;
	a[3] = 6;
	assert_true(sampler_client_sampled(4, a, 1));
	assert_true(sampler_client_sampled(4, a, 2));
	assert_false(sampler_client_sampled(4, a, 4));
	a[15] = 8;
	assert_true(sampler_client_sampled(6, a, 8));
	assert_false(sampler_client_sampled(6, a, 16));
}

static void
test_config(void **state)
{
	struct sampler_config cfg = sampler_config_default();
	struct live_model_config mc = live_model_config_default();
	struct sampler_stats st;
	struct live_stats ls;
	struct live_model *lm;
	struct sampler *s;
	char err[256];

	(void)state;
	cfg.ratio = 3;
	assert_null(sampler_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "power of two"));
	cfg.ratio = 2;
	cfg.server[0] = "not-an-address";
	cfg.nservers = 1;
	assert_null(sampler_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "not-an-address"));
	cfg.server[0] = "fe80::1%eth0";
	cfg.interface[0] = "an-interface-name-that-is-too-long";
	cfg.ninterfaces = 1;
	assert_null(sampler_new(&cfg, err, sizeof(err)));
	cfg.ninterfaces = 0;

	/* Disabled: unavailable, says why; start refuses. */
	cfg.enabled = false;
	s = sampler_new(&cfg, err, sizeof(err));
	assert_non_null(s);
	sampler_read(s, &st);
	assert_int_equal(st.state, SAMPLER_UNAVAILABLE);
	assert_non_null(strstr(st.error, "--sampler.enabled=false"));
	assert_int_equal(st.ratio, 2);
	assert_int_equal(sampler_start(s, err, sizeof(err)), -1);
	sampler_read(s, &st);
	assert_int_equal(st.state, SAMPLER_UNAVAILABLE);
	assert_string_equal(sampler_state_name(st.state), "unavailable");
	/* Live mode's model beside it: the settings as pushed. */
	lm = live_model_new(&mc, err, sizeof(err));
	assert_non_null(lm);
	live_model_set_settings(lm, 1, 1, 0);
	live_model_read(lm, s, &ls);
	assert_int_equal(ls.state, SAMPLER_UNAVAILABLE);
	assert_int_equal(ls.setting[MS_TW_RECYCLE], 1);
	live_model_free(lm);
	live_model_free(NULL);
	sampler_free(s);
	sampler_free(NULL);
}

static void
test_addr(void **state)
{
	struct sampler_addr a;
	char buf[64];

	(void)state;
	assert_int_equal(sampler_addr_parse("192.0.2.7", &a), 0);
	assert_int_equal(a.family, 4);
	assert_int_equal(a.addr[3], 7);
	assert_int_equal(sampler_addr_parse("fe80::9%lo", &a), 0);
	assert_int_equal(a.family, 6);
	assert_int_equal(a.addr[15], 9);
	sampler_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "fe80::9");
	assert_int_equal(sampler_addr_parse("", &a), -1);
	assert_int_equal(sampler_addr_parse("1.2.3", &a), -1);
	assert_int_equal(sampler_addr_parse("host.example", &a), -1);
}

static atomic_uint hook_calls;
static pthread_t hook_thread;

static void
count_hook(enum sampler_thread which)
{
	if (which == SAMPLER_THREAD_CAPTURE) {
		hook_thread = pthread_self();
		atomic_fetch_add(&hook_calls, 1);
	}
}

static void
test_missing_interface(void **state)
{
	struct sampler_config cfg = sampler_config_default();
	struct sampler_stats st;
	struct sampler *s;
	char err[256];
	double end;

	(void)state;
	cfg.interface[0] = "twtest-nx0";
	cfg.ninterfaces = 1;
	cfg.server[0] = "192.0.2.1";
	cfg.nservers = 1;
	cfg.thread_hook = count_hook;
	s = sampler_new(&cfg, err, sizeof(err));
	assert_non_null(s);
	if (sampler_start(s, err, sizeof(err)) < 0) {
		/* Not root: no packet socket at all (unavailable). */
		sampler_read(s, &st);
		assert_int_equal(st.state, SAMPLER_UNAVAILABLE);
		sampler_free(s);
		skip();
	}
	/* The capture thread calls the hook on itself, turn after turn,
	   while the missing interface is retried (after 1 s, then 2 s). */
	end = now_monotonic() + 5;
	while (atomic_load(&hook_calls) < 3 && now_monotonic() < end)
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	assert_true(atomic_load(&hook_calls) >= 3);
	assert_false(pthread_equal(hook_thread, pthread_self()));
	nanosleep(&(struct timespec){ 1, 200000000 }, NULL);	/* a retry */
	sampler_read(s, &st);
	assert_int_equal(st.state, SAMPLER_FAILED);
	assert_int_equal(st.interfaces, 1);
	assert_int_equal(st.interfaces_open, 0);
	assert_int_equal(st.reopens, 0);
	assert_non_null(strstr(st.error, "twtest-nx0"));
	assert_non_null(strstr(st.error, "retrying"));
	sampler_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_matrix),
		cmocka_unit_test(test_filter_loopback_sll2),
		cmocka_unit_test(test_filter_strings),
		cmocka_unit_test(test_filter_max_servers),
		cmocka_unit_test(test_loopback_duplicate),
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_client_sampled),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_missing_interface),
	};

	return cmocka_run_group_tests(tests, setup_servers, NULL);
}
