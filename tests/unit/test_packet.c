/*
 * Packet decoder tests: hand-written frames, frames built by pcapw for
 * every link type (with VLAN tags and IPv6 extension headers), every
 * truncation point of valid frames, TCP option edge cases, and random
 * bytes. Each frame is decoded from a heap copy of exactly CAPLEN bytes so
 * ASan catches any read past the capture.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/packet.h"
#include "../pcapw.h"

static const int all_linktypes[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4,
	DLT_IPV6, DLT_NULL, DLT_LOOP,
};
#define NLINK (sizeof(all_linktypes) / sizeof(all_linktypes[0]))

/* Decode from an exact-size heap copy. */
static int
decode(int lt, const uint8_t *frame, size_t caplen, size_t wirelen,
    struct tcp_event *ev, enum packet_skip *why)
{
	uint8_t *copy;
	int r;

	/* A bound the compiler can see: -O3 otherwise warns that n - 10
	 * might wrap in a caller. */
	if (caplen > 65536) {
		fail_msg("caplen %zu", caplen);
		return -1;
	}
	copy = malloc(caplen ? caplen : 1);
	assert_non_null(copy);
	if (caplen)
		memcpy(copy, frame, caplen);
	r = packet_decode(lt, caplen ? copy : NULL, caplen, wirelen, 77, ev,
	    why);
	free(copy);
	return r;
}

static struct tcp_event
sample_event(int family, uint8_t flags, int has_ts)
{
	struct tcp_event ev;
	int i;

	memset(&ev, 0, sizeof(ev));
	ev.time_us = 77;
	ev.family = (uint8_t)family;
	ev.flags = flags;
	ev.has_ts = (uint8_t)has_ts;
	for (i = 0; i < (family == 4 ? 4 : 16); i++) {
		ev.src[i] = (uint8_t)(10 + i);
		ev.dst[i] = (uint8_t)(200 - i);
	}
	ev.sport = 40000;
	ev.dport = 443;
	ev.seq = 0xdeadbeef;
	ev.ack = (flags & TCPF_ACK) ? 0x01020304 : 0;
	if (has_ts) {
		ev.tsval = 0xfffffff0;
		ev.tsecr = (flags & TCPF_ACK) ? 12345 : 0;
	}
	return ev;
}

static void
assert_event_eq(const struct tcp_event *a, const struct tcp_event *b)
{
	assert_int_equal(a->time_us, b->time_us);
	assert_int_equal(a->family, b->family);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->has_ts, b->has_ts);
	assert_memory_equal(a->src, b->src, 16);
	assert_memory_equal(a->dst, b->dst, 16);
	assert_int_equal(a->sport, b->sport);
	assert_int_equal(a->dport, b->dport);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->ack, b->ack);
	if (a->has_ts) {
		assert_int_equal(a->tsval, b->tsval);
		assert_int_equal(a->tsecr, b->tsecr);
	}
	assert_int_equal(a->payload_len, b->payload_len);
}

static int
family_ok(int lt, int family)
{
	return !((lt == DLT_IPV4 && family != 4) || (lt == DLT_IPV6 &&
	    family != 6));
}

/* A literal Ethernet/IPv4 SYN, independent of pcapw. */
static const uint8_t literal_syn[] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0x08, 0x00,
	0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
	0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0x02,
	0xc3, 0x50, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,
	0xa0, 0x02, 0x72, 0x10, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x0f, 0x42, 0x40,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

static void
test_literal(void **state)
{
	static const uint8_t s[4] = { 192, 168, 0, 1 }, d[4] = { 192, 168, 0, 2 };
	struct tcp_event ev;
	enum packet_skip why;

	(void)state;
	assert_int_equal(decode(DLT_EN10MB, literal_syn, sizeof(literal_syn),
	    sizeof(literal_syn), &ev, &why), 1);
	assert_int_equal(why, PACKET_SKIP_NONE);
	assert_int_equal(ev.time_us, 77);
	assert_int_equal(ev.family, 4);
	assert_memory_equal(ev.src, s, 4);
	assert_memory_equal(ev.dst, d, 4);
	assert_int_equal(ev.sport, 50000);
	assert_int_equal(ev.dport, 80);
	assert_int_equal(ev.seq, 0x01020304);
	assert_int_equal(ev.flags, TCPF_SYN);
	assert_int_equal(ev.has_ts, 1);
	assert_int_equal(ev.tsval, 1000000);
	assert_int_equal(ev.tsecr, 0);
	assert_int_equal(ev.payload_len, 0);
	assert_int_equal(ev.opts_truncated, 0);
	assert_int_equal(ev.to_server, 0);

	/* The same frame padded to Ethernet's 60-byte minimum... is already
	 * 74; pad it further as a NIC would not, but a trailer might. */
	{
		uint8_t big[100];

		memset(big, 0xee, sizeof(big));
		memcpy(big, literal_syn, sizeof(literal_syn));
		assert_int_equal(decode(DLT_EN10MB, big, sizeof(big),
		    sizeof(big), &ev, &why), 1);
		assert_int_equal(ev.payload_len, 0);
	}
}

/* Every link type x family x flags x TS, VLAN depths, IPv6 ext headers. */
static void
test_roundtrip(void **state)
{
	static const uint8_t flagsets[] = { TCPF_SYN, TCPF_SYN | TCPF_ACK,
	    TCPF_ACK, TCPF_FIN | TCPF_ACK, TCPF_RST, TCPF_PSH | TCPF_ACK };
	uint8_t buf[PCAPW_FRAME_MAX];
	size_t li, fi, n;
	int fam, ts, nvlan;

	(void)state;
	for (li = 0; li < NLINK; li++) {
		int lt = all_linktypes[li];

		for (fam = 4; fam <= 6; fam += 2) {
			if (!family_ok(lt, fam))
				continue;
			for (fi = 0; fi < sizeof(flagsets); fi++)
			for (ts = 0; ts <= 1; ts++)
			for (nvlan = 0; nvlan <= 4; nvlan++) {
				struct pcapw_opts o;
				struct tcp_event ev = sample_event(fam,
				    flagsets[fi], ts), got;
				enum packet_skip why;
				int i;

				memset(&o, 0, sizeof(o));
				if (lt == DLT_EN10MB || lt == DLT_LINUX_SLL ||
				    lt == DLT_LINUX_SLL2) {
					o.nvlan = nvlan;
					for (i = 0; i < nvlan; i++) {
						o.vlan_id[i] = (uint16_t)(100 + i);
						o.vlan_tpid[i] = i == 0 && nvlan > 1 ?
						    0x88a8 : (i == 2 ? 0x9100 : 0);
					}
				} else if (nvlan > 0) {
					continue;
				}
				if (flagsets[fi] & TCPF_PSH)
					ev.payload_len = 1000;
				n = pcapw_build_frame(lt, &ev, &o, buf,
				    sizeof(buf));
				assert_true(n > 0);
				assert_int_equal(decode(lt, buf, n, n, &got,
				    &why), 1);
				assert_event_eq(&got, &ev);
				assert_int_equal(got.opts_truncated, 0);

				/* A snaplen that keeps the headers only. */
				if (ev.payload_len) {
					assert_int_equal(decode(lt, buf,
					    n - ev.payload_len, n, &got, &why),
					    1);
					assert_event_eq(&got, &ev);
				}
			}
		}
	}
}

static void
test_vlan_depth(void **state)
{
	static const int lts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2 };
	uint8_t buf[512];
	struct tcp_event ev = sample_event(4, TCPF_SYN, 1), got;
	enum packet_skip why;
	size_t i, n;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct pcapw_opts o;

		memset(&o, 0, sizeof(o));
		o.nvlan = PACKET_MAX_VLAN_DEPTH;
		n = pcapw_build_frame(lts[i], &ev, &o, buf, sizeof(buf));
		assert_int_equal(decode(lts[i], buf, n, n, &got, &why), 1);
		o.nvlan = PACKET_MAX_VLAN_DEPTH + 1;
		n = pcapw_build_frame(lts[i], &ev, &o, buf, sizeof(buf));
		assert_int_equal(decode(lts[i], buf, n, n, &got, &why), 0);
		assert_int_equal(why, PACKET_SKIP_TOO_MANY_HEADERS);
	}
	/* Non-IP EtherTypes: ARP, 802.3 length field, behind a tag too. */
	n = pcapw_build_frame(DLT_EN10MB, &ev, NULL, buf, sizeof(buf));
	buf[12] = 0x08; buf[13] = 0x06;
	assert_int_equal(decode(DLT_EN10MB, buf, n, n, &got, &why), 0);
	assert_int_equal(why, PACKET_SKIP_NOT_IP);
	buf[12] = 0x00; buf[13] = 0x40;
	assert_int_equal(decode(DLT_EN10MB, buf, n, n, &got, &why), 0);
	assert_int_equal(why, PACKET_SKIP_NOT_IP);
	/* EtherType says IPv4, the header says 6. */
	buf[12] = 0x08; buf[13] = 0x00; buf[14] = 0x65;
	assert_int_equal(decode(DLT_EN10MB, buf, n, n, &got, &why), 0);
	assert_int_equal(why, PACKET_SKIP_BAD_HEADER);
}

static void
test_ipv6_ext(void **state)
{
	static const uint8_t singles[] = { 0, 43, 44, 51, 60 };
	uint8_t buf[1024];
	struct tcp_event ev = sample_event(6, TCPF_SYN, 1), got;
	struct pcapw_opts o;
	enum packet_skip why;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(singles); i++) {
		memset(&o, 0, sizeof(o));
		o.nv6_ext = 1;
		o.v6_ext[0] = singles[i];
		n = pcapw_build_frame(DLT_EN10MB, &ev, &o, buf, sizeof(buf));
		assert_int_equal(decode(DLT_EN10MB, buf, n, n, &got, &why), 1);
		assert_event_eq(&got, &ev);
	}
	/* A chain of every kind, within the limit. */
	memset(&o, 0, sizeof(o));
	o.nv6_ext = PACKET_MAX_IPV6_EXT;
	for (i = 0; i < (size_t)o.nv6_ext; i++)
		o.v6_ext[i] = singles[i % sizeof(singles)];
	ev.payload_len = 33;
	n = pcapw_build_frame(DLT_RAW, &ev, &o, buf, sizeof(buf));
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 1);
	assert_event_eq(&got, &ev);
	/* One more than the limit. */
	o.nv6_ext = PACKET_MAX_IPV6_EXT + 1;
	o.v6_ext[PACKET_MAX_IPV6_EXT] = 60;
	n = pcapw_build_frame(DLT_RAW, &ev, &o, buf, sizeof(buf));
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 0);
	assert_int_equal(why, PACKET_SKIP_TOO_MANY_HEADERS);

	/* Fragment header: non-zero offset, or MF, is a fragment. */
	memset(&o, 0, sizeof(o));
	o.nv6_ext = 1;
	o.v6_ext[0] = 44;
	n = pcapw_build_frame(DLT_RAW, &ev, &o, buf, sizeof(buf));
	buf[43] = 0x01;			/* M */
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 0);
	assert_int_equal(why, PACKET_SKIP_FRAGMENT);
	buf[43] = 0x08;			/* offset 1 */
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 0);
	assert_int_equal(why, PACKET_SKIP_FRAGMENT);
	buf[43] = 0x06;			/* reserved bits only: atomic */
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 1);

	/* ESP, No Next Header, UDP: not TCP. */
	n = pcapw_build_frame(DLT_RAW, &ev, NULL, buf, sizeof(buf));
	buf[6] = 50;
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 0);
	assert_int_equal(why, PACKET_SKIP_NOT_TCP);
	buf[6] = 59;
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 0);
	assert_int_equal(why, PACKET_SKIP_NOT_TCP);
	buf[6] = 17;
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 0);
	assert_int_equal(why, PACKET_SKIP_NOT_TCP);

	/* An extension header longer than the payload length says. */
	memset(&o, 0, sizeof(o));
	o.nv6_ext = 1;
	o.v6_ext[0] = 60;
	n = pcapw_build_frame(DLT_RAW, &ev, &o, buf, sizeof(buf));
	buf[41] = 200;			/* (200 + 1) * 8 bytes */
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 0);
	assert_int_equal(why, PACKET_SKIP_BAD_HEADER);
	/* AH length rule: (len + 2) * 4, so 2 means 16 bytes. */
	o.v6_ext[0] = 51;
	n = pcapw_build_frame(DLT_RAW, &ev, &o, buf, sizeof(buf));
	assert_int_equal(buf[41], 2);
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 1);

	/* Payload length 0 (jumbogram / BIG TCP): taken from the wire. */
	n = pcapw_build_frame(DLT_RAW, &ev, NULL, buf, sizeof(buf));
	buf[4] = buf[5] = 0;
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 1);
	assert_int_equal(got.payload_len, ev.payload_len);
}

static void
test_ipv4_headers(void **state)
{
	uint8_t buf[1024];
	struct tcp_event ev = sample_event(4, TCPF_SYN, 1), got;
	enum packet_skip why;
	size_t n;

	(void)state;
	ev.payload_len = 10;
	n = pcapw_build_frame(DLT_RAW, &ev, NULL, buf, sizeof(buf));
#define EXPECT_SKIP(reason) do { \
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 0); \
	assert_int_equal(why, (reason)); \
} while (0)
	buf[6] = 0x20;			/* MF */
	EXPECT_SKIP(PACKET_SKIP_FRAGMENT);
	buf[6] = 0x00; buf[7] = 0x01;	/* offset 8 */
	EXPECT_SKIP(PACKET_SKIP_FRAGMENT);
	buf[6] = 0x40; buf[7] = 0x00;	/* DF alone is fine */
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 1);
	buf[0] = 0x44;			/* IHL 4 */
	EXPECT_SKIP(PACKET_SKIP_BAD_HEADER);
	buf[0] = 0x4f;			/* IHL 15: beyond the data */
	EXPECT_SKIP(PACKET_SKIP_BAD_HEADER);
	buf[0] = 0x45;
	buf[9] = 17;
	EXPECT_SKIP(PACKET_SKIP_NOT_TCP);
	buf[9] = 6;
	buf[2] = 0; buf[3] = 10;	/* total < IHL */
	EXPECT_SKIP(PACKET_SKIP_BAD_HEADER);
	buf[3] = 30;			/* room for IP but not for TCP */
	EXPECT_SKIP(PACKET_SKIP_BAD_HEADER);
	buf[2] = 0; buf[3] = 0;		/* TSO: from the wire */
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 1);
	assert_int_equal(got.payload_len, 10);
	buf[2] = 0xff; buf[3] = 0xff;	/* more than the wire: clamped */
	assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 1);
	assert_int_equal(got.payload_len, 10);
	/* snaplen cut the payload: length still from the IP header. */
	buf[2] = 0; buf[3] = (uint8_t)n;
	assert_int_equal(decode(DLT_RAW, buf, n - 10, n, &got, &why), 1);
	assert_int_equal(got.payload_len, 10);
	/* Data offset below 5 or beyond the segment. */
	buf[20 + 12] = 0x40;
	EXPECT_SKIP(PACKET_SKIP_BAD_HEADER);
	buf[20 + 12] = 0xf0;		/* 60 > 32 + 10 */
	EXPECT_SKIP(PACKET_SKIP_BAD_HEADER);
	/* Raw IP with version 5. */
	buf[0] = 0x55;
	EXPECT_SKIP(PACKET_SKIP_NOT_IP);
#undef EXPECT_SKIP

	/* IPv4 options (IHL 6) move the TCP header. */
	{
		uint8_t b2[1024];

		n = pcapw_build_frame(DLT_RAW, &ev, NULL, buf, sizeof(buf));
		memcpy(b2, buf, 20);
		memset(b2 + 20, 1, 4);	/* four NOP IP options */
		memcpy(b2 + 24, buf + 20, n - 20);
		b2[0] = 0x46;
		b2[3] = (uint8_t)(b2[3] + 4);
		assert_int_equal(decode(DLT_RAW, b2, n + 4, n + 4, &got, &why),
		    1);
		assert_event_eq(&got, &ev);
	}
}

static void
test_null_loop(void **state)
{
	static const uint32_t af6[] = { 10, 24, 28, 30 };
	uint8_t buf[512];
	struct tcp_event ev, got;
	struct pcapw_opts o;
	enum packet_skip why;
	size_t i, n;
	int lt, swap;

	(void)state;
	for (lt = 0; lt < 2; lt++)
	for (swap = 0; swap <= 1; swap++) {
		int dlt = lt ? DLT_LOOP : DLT_NULL;

		memset(&o, 0, sizeof(o));
		o.null_swap = swap;
		ev = sample_event(4, TCPF_SYN, 1);
		n = pcapw_build_frame(dlt, &ev, &o, buf, sizeof(buf));
		assert_int_equal(decode(dlt, buf, n, n, &got, &why), 1);
		assert_event_eq(&got, &ev);
		ev = sample_event(6, TCPF_FIN | TCPF_ACK, 1);
		for (i = 0; i < 4; i++) {
			o.null_af6 = af6[i];
			n = pcapw_build_frame(dlt, &ev, &o, buf, sizeof(buf));
			assert_int_equal(decode(dlt, buf, n, n, &got, &why), 1);
			assert_event_eq(&got, &ev);
		}
		/* AF says IPv4, packet is IPv6. */
		buf[0] = buf[3] = 0;
		buf[swap ^ (dlt == DLT_LOOP) ? 3 : 0] = 2;
		assert_int_equal(decode(dlt, buf, n, n, &got, &why), 0);
		assert_int_equal(why, PACKET_SKIP_BAD_HEADER);
		/* Unknown family. */
		memset(buf, 0x7f, 4);
		assert_int_equal(decode(dlt, buf, n, n, &got, &why), 0);
		assert_int_equal(why, PACKET_SKIP_NOT_IP);
	}
}

static void
test_linktype_misc(void **state)
{
	uint8_t buf[512];
	struct tcp_event ev = sample_event(6, TCPF_SYN, 0), got;
	enum packet_skip why;
	size_t n;

	(void)state;
	n = pcapw_build_frame(DLT_RAW, &ev, NULL, buf, sizeof(buf));
	assert_int_equal(decode(DLT_IPV4, buf, n, n, &got, &why), 0);
	assert_int_equal(why, PACKET_SKIP_BAD_HEADER);
	assert_int_equal(decode(DLT_IPV6, buf, n, n, &got, &why), 1);
	assert_int_equal(decode(101, buf, n, n, &got, &why), 1);  /* LINKTYPE_RAW */
	assert_int_equal(decode(105, buf, n, n, &got, &why), 0);  /* 802.11 */
	assert_int_equal(why, PACKET_SKIP_UNSUPPORTED_LINKTYPE);
	assert_false(packet_linktype_supported(105));
	assert_true(packet_linktype_supported(DLT_LINUX_SLL2));
	/* SLL carrying ARP. */
	n = pcapw_build_frame(DLT_LINUX_SLL, &ev, NULL, buf, sizeof(buf));
	buf[14] = 0x08; buf[15] = 0x06;
	assert_int_equal(decode(DLT_LINUX_SLL, buf, n, n, &got, &why), 0);
	assert_int_equal(why, PACKET_SKIP_NOT_IP);
	/* Wire length smaller than caplen (hostile): treated as caplen. */
	n = pcapw_build_frame(DLT_RAW, &ev, NULL, buf, sizeof(buf));
	assert_int_equal(decode(DLT_RAW, buf, n, 0, &got, &why), 1);
	assert_int_equal(got.payload_len, 0);
}

/*
 * Cut each frame at every byte: a skip "truncated" while the headers up
 * to the fixed TCP header are incomplete; an event with opts_truncated
 * while the options are cut (has_ts only once the whole TS option is in);
 * the full event from there on.
 */
static void
test_truncation_everywhere(void **state)
{
	uint8_t buf[PCAPW_FRAME_MAX];
	size_t li, caplen, n;
	int fam, nv, ext, fl;

	(void)state;
	for (li = 0; li < NLINK; li++)
	for (fam = 4; fam <= 6; fam += 2)
	for (nv = 0; nv <= 2; nv++)
	for (ext = 0; ext <= 1; ext++)
	for (fl = 0; fl < 2; fl++) {
		int lt = all_linktypes[li];
		struct tcp_event ev = sample_event(fam, fl ? TCPF_SYN :
		    TCPF_FIN | TCPF_ACK, 1), got;
		struct pcapw_opts o;
		enum packet_skip why;
		size_t tcp_off, hdr_end, ts_end;

		if (!family_ok(lt, fam) || (ext && fam == 4))
			continue;
		memset(&o, 0, sizeof(o));
		if (lt == DLT_EN10MB || lt == DLT_LINUX_SLL ||
		    lt == DLT_LINUX_SLL2)
			o.nvlan = nv;
		else if (nv)
			continue;
		if (ext) {
			o.nv6_ext = 2;
			o.v6_ext[0] = 0;
			o.v6_ext[1] = 51;
		}
		ev.payload_len = 5;
		n = pcapw_build_frame(lt, &ev, &o, buf, sizeof(buf));
		assert_true(n > 0);
		tcp_off = pcapw_ip_offset(lt, &o) + (fam == 4 ? 20 :
		    40 + (ext ? 24 : 0));
		hdr_end = tcp_off + (size_t)(buf[tcp_off + 12] >> 4) * 4;
		/* SYN: MSS(4) SACKOK(2) TS(10); else NOP NOP TS(10). */
		ts_end = tcp_off + 20 + (fl ? 16 : 12);
		for (caplen = 0; caplen <= n; caplen++) {
			int r = decode(lt, buf, caplen, n, &got, &why);

			if (caplen < tcp_off + 20) {
				assert_int_equal(r, 0);
				assert_int_equal(why, PACKET_SKIP_TRUNCATED);
				continue;
			}
			assert_int_equal(r, 1);
			assert_int_equal(got.sport, ev.sport);
			assert_int_equal(got.payload_len, ev.payload_len);
			assert_int_equal(got.opts_truncated, caplen < hdr_end);
			assert_int_equal(got.has_ts, caplen >= ts_end);
			if (caplen >= hdr_end)
				assert_event_eq(&got, &ev);
		}
	}
}

/* Raw IPv4 SYN with the given option bytes (multiple of 4). */
static size_t
frame_with_options(const uint8_t *opt, size_t optlen, uint8_t *buf)
{
	struct tcp_event ev = sample_event(4, TCPF_ACK, 0);
	size_t n = pcapw_build_frame(DLT_RAW, &ev, NULL, buf, 128);

	assert_int_equal(n, 40);
	memcpy(buf + 40, opt, optlen);
	buf[32] = (uint8_t)(((20 + optlen) / 4) << 4);
	buf[2] = 0;
	buf[3] = (uint8_t)(40 + optlen);
	return 40 + optlen;
}

static void
test_ts_options(void **state)
{
	static const struct {
		const char *name;
		uint8_t opt[40];
		size_t len;
		int has_ts;
		uint32_t tsval;
	} cases[] = {
		{ "nop nop ts", { 1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6 }, 12, 1, 5 },
		{ "ts nop nop", { 8, 10, 0, 0, 0, 7, 0, 0, 0, 6, 1, 1 }, 12, 1, 7 },
		{ "eol first", { 0, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6 }, 12, 0, 0 },
		{ "ts len 9", { 8, 9, 0, 0, 0, 5, 0, 0, 0, 1, 1, 1 }, 12, 0, 0 },
		{ "ts len 11", { 8, 11, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0 }, 12, 0, 0 },
		{ "len 0", { 2, 0, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6 }, 12, 0, 0 },
		{ "len 1", { 2, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6 }, 12, 0, 0 },
		{ "len past end", { 1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6,
		    254, 40, 0, 0 }, 16, 1, 5 },
		{ "unknown then ts", { 254, 4, 9, 9, 8, 10, 0, 0, 0, 9, 0, 0,
		    0, 6, 1, 1 }, 16, 1, 9 },
		{ "two ts: last wins", { 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
		    8, 10, 0, 0, 0, 2, 0, 0, 0, 0, 1, 1, 1, 1 }, 24, 1, 2 },
		{ "kind at last byte", { 1, 1, 1, 8 }, 4, 0, 0 },
		{ "ts cut by data offset", { 1, 1, 1, 1, 8, 10, 0, 0 }, 8, 0, 0 },
		{ "forty nops", { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		    1, 1, 1, 1, 1 }, 40, 0, 0 },
	};
	uint8_t buf[128];
	struct tcp_event got;
	enum packet_skip why;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = frame_with_options(cases[i].opt, cases[i].len, buf);
		assert_int_equal(decode(DLT_RAW, buf, n, n, &got, &why), 1);
		if (got.has_ts != cases[i].has_ts)
			fail_msg("case '%s': has_ts %d", cases[i].name,
			    got.has_ts);
		assert_int_equal(got.opts_truncated, 0);
		if (cases[i].has_ts)
			assert_int_equal(got.tsval, cases[i].tsval);
	}
	/* EOL before the capture cut: the options are complete. */
	{
		static const uint8_t opt[12] = { 1, 0, 8, 10, 0, 0, 0, 5, 0, 0,
		    0, 6 };

		n = frame_with_options(opt, sizeof(opt), buf);
		assert_int_equal(decode(DLT_RAW, buf, 42, n, &got, &why), 1);
		assert_int_equal(got.opts_truncated, 0);
		assert_int_equal(decode(DLT_RAW, buf, 41, n, &got, &why), 1);
		assert_int_equal(got.opts_truncated, 1);
	}
}

static void
test_skip_names(void **state)
{
	int i, j;

	(void)state;
	assert_string_equal(packet_skip_name(PACKET_SKIP_NOT_IP), "not_ip");
	assert_string_equal(packet_skip_name(PACKET_SKIP_NOT_TCP), "not_tcp");
	assert_string_equal(packet_skip_name(PACKET_SKIP_FRAGMENT), "fragment");
	assert_string_equal(packet_skip_name(PACKET_SKIP_TRUNCATED),
	    "truncated");
	assert_string_equal(packet_skip_name(PACKET_SKIP_BAD_HEADER),
	    "bad_header");
	assert_string_equal(packet_skip_name(PACKET_SKIP_UNSUPPORTED_LINKTYPE),
	    "unsupported_linktype");
	assert_string_equal(packet_skip_name(PACKET_SKIP_COUNT), "unknown");
	assert_string_equal(packet_skip_name((enum packet_skip)-1), "unknown");
	for (i = 0; i < PACKET_SKIP_COUNT; i++)
		for (j = i + 1; j < PACKET_SKIP_COUNT; j++)
			assert_string_not_equal(packet_skip_name(i),
			    packet_skip_name(j));
}

/* Random bytes and bit-flipped valid frames: never a crash. */
static void
test_random(void **state)
{
	uint8_t buf[PCAPW_FRAME_MAX];
	struct tcp_event ev, got;
	enum packet_skip why;
	unsigned seed = 12345;
	size_t li, it, n, k;

	(void)state;
	for (li = 0; li < NLINK; li++) {
		int lt = all_linktypes[li];
		struct pcapw_opts o;

		memset(&o, 0, sizeof(o));
		for (it = 0; it < 20000; it++) {
			n = (size_t)(rand_r(&seed) % 160);
			for (k = 0; k < n; k++)
				buf[k] = (uint8_t)rand_r(&seed);
			decode(lt, buf, n, (size_t)rand_r(&seed) % 70000, &got,
			    &why);
			assert_true(why < PACKET_SKIP_COUNT);
		}
		ev = sample_event(lt == DLT_IPV4 ? 4 : 6, TCPF_SYN, 1);
		if (lt == DLT_IPV6 || lt == DLT_RAW) {
			o.nv6_ext = 2;
			o.v6_ext[0] = 0;
			o.v6_ext[1] = 44;
		}
		for (it = 0; it < 20000; it++) {
			n = pcapw_build_frame(lt, &ev, &o, buf, sizeof(buf));
			assert_true(n > 0);
			for (k = 0; k < 3; k++) {
				size_t bit = (size_t)rand_r(&seed) % (n * 8);

				buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			}
			decode(lt, buf, (size_t)rand_r(&seed) % (n + 1), n, &got,
			    &why);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_vlan_depth),
		cmocka_unit_test(test_ipv6_ext),
		cmocka_unit_test(test_ipv4_headers),
		cmocka_unit_test(test_null_loop),
		cmocka_unit_test(test_linktype_misc),
		cmocka_unit_test(test_truncation_everywhere),
		cmocka_unit_test(test_ts_options),
		cmocka_unit_test(test_skip_names),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
