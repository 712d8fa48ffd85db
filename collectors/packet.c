/*
 * Packet decoder: link header, VLAN tags, IPv4/IPv6 (with extension
 * headers), TCP header and its Timestamps option, into a struct tcp_event.
 *
 * The rule throughout: a field is read only after checking that the bytes
 * holding it were captured (`need()`), and every walk has a fixed bound.
 * Nothing here allocates, prints or keeps state between calls.
 */
#include "collectors/packet.h"

#include <pcap/dlt.h>
#include <string.h>

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_IPV6	0x86dd
#define ETHERTYPE_VLAN	0x8100		/* 802.1Q */
#define ETHERTYPE_QINQ	0x88a8		/* 802.1ad */
#define ETHERTYPE_QINQ_OLD 0x9100	/* pre-standard QinQ */

#define LINKTYPE_RAW_FILE 101		/* LINKTYPE_RAW, if a caller passes it */

#define ETH_HLEN	14
#define SLL_HLEN	16
#define SLL2_HLEN	20
#define NULL_HLEN	4
#define VLAN_HLEN	4
#define IPV4_HLEN	20
#define IPV6_HLEN	40
#define TCP_HLEN	20

#define IPPROTO_HOPOPTS_	0
#define IPPROTO_TCP_		6
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_ESP_		50
#define IPPROTO_AH_		51
#define IPPROTO_NONE_		59
#define IPPROTO_DSTOPTS_	60
#define IPPROTO_MH_		135
#define IPPROTO_HIP_		139
#define IPPROTO_SHIM6_		140

#define TCPOPT_EOL	0
#define TCPOPT_NOP	1
#define TCPOPT_TS	8
#define TCPOLEN_TS	10

/* BSD address family values for IPv6 in DLT_NULL/DLT_LOOP headers. */
#define BSD_AF_INET		2
#define BSD_AF_INET6_LINUX	10
#define BSD_AF_INET6_BSD	24	/* NetBSD, OpenBSD, BSD/OS */
#define BSD_AF_INET6_FREEBSD	28
#define BSD_AF_INET6_DARWIN	30

static const char *const skip_names[PACKET_SKIP_COUNT] = {
#define X(id, name) name,
	PACKET_SKIP_LIST(X)
#undef X
};

const char *
packet_skip_name(enum packet_skip why)
{
	if ((unsigned)why >= PACKET_SKIP_COUNT)
		return "unknown";
	return skip_names[why];
}

int
packet_linktype_supported(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case LINKTYPE_RAW_FILE:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		return 1;
	default:
		return 0;
	}
}

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Room for N bytes at OFF in a buffer of LEN captured bytes? */
static inline int
need(size_t len, size_t off, size_t n)
{
	return off <= len && n <= len - off;
}

static int
skip(enum packet_skip *why, enum packet_skip reason)
{
	*why = reason;
	return 0;
}

/*
 * Walk the TCP options in OPT[0..CAPLEN) of a header whose options are
 * DECLARED bytes long (CAPLEN <= DECLARED). Follows the kernel's
 * tcp_parse_options(): stop at EOL, a length below 2 or beyond the
 * declared options ends parsing (a "silly option"), and only a
 * Timestamps option of exactly 10 bytes counts. Returns 1 when the
 * capture cut the walk before it ended by itself.
 */
static int
parse_options(const uint8_t *opt, size_t caplen, size_t declared,
    struct tcp_event *out)
{
	size_t i = 0;

	/* Each step advances i by at least 1, so this ends within 40 steps. */
	while (i < declared) {
		unsigned kind, len;

		if (i >= caplen)
			return 1;
		kind = opt[i];
		if (kind == TCPOPT_EOL)
			return 0;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= declared)
			return 0;	/* kind without room for a length */
		if (i + 1 >= caplen)
			return 1;
		len = opt[i + 1];
		if (len < 2 || len > declared - i)
			return 0;
		if (len > caplen - i)
			return 1;
		if (kind == TCPOPT_TS && len == TCPOLEN_TS) {
			out->has_ts = 1;
			out->tsval = rd32(opt + i + 2);
			out->tsecr = rd32(opt + i + 6);
		}
		i += len;
	}
	return 0;
}

/*
 * TCP header at FRAME+OFF; SEGLEN = TCP header + payload length from the
 * IP header (already clamped to the wire).
 */
static int
decode_tcp(const uint8_t *frame, size_t caplen, size_t off, size_t seglen,
    struct tcp_event *out, enum packet_skip *why)
{
	const uint8_t *th;
	size_t doff, optcap, payload;

	if (seglen < TCP_HLEN)
		return skip(why, PACKET_SKIP_BAD_HEADER);
	if (!need(caplen, off, TCP_HLEN))
		return skip(why, PACKET_SKIP_TRUNCATED);
	th = frame + off;
	doff = (size_t)(th[12] >> 4) * 4;
	if (doff < TCP_HLEN || doff > seglen)
		return skip(why, PACKET_SKIP_BAD_HEADER);

	out->sport = rd16(th);
	out->dport = rd16(th + 2);
	out->seq = rd32(th + 4);
	out->ack = rd32(th + 8);
	out->flags = th[13];

	optcap = caplen - off - TCP_HLEN;	/* >= 0: checked by need() */
	if (optcap > doff - TCP_HLEN)
		optcap = doff - TCP_HLEN;
	out->opts_truncated = (uint8_t)parse_options(th + TCP_HLEN, optcap,
	    doff - TCP_HLEN, out);

	payload = seglen - doff;
	out->payload_len = payload > UINT16_MAX ? UINT16_MAX : (uint16_t)payload;
	*why = PACKET_SKIP_NONE;
	return 1;
}

/* Bytes the IP layer can claim from OFF: what the wire held. */
static size_t
wire_room(size_t caplen, size_t wirelen, size_t off)
{
	size_t w = wirelen < caplen ? caplen : wirelen;

	return off < w ? w - off : 0;
}

static int
decode_ipv4(const uint8_t *frame, size_t caplen, size_t wirelen, size_t off,
    struct tcp_event *out, enum packet_skip *why)
{
	const uint8_t *ip;
	size_t ihl, total, room;
	uint16_t frag;

	if (!need(caplen, off, IPV4_HLEN))
		return skip(why, PACKET_SKIP_TRUNCATED);
	ip = frame + off;
	if (ip[0] >> 4 != 4)
		return skip(why, PACKET_SKIP_BAD_HEADER);
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < IPV4_HLEN)
		return skip(why, PACKET_SKIP_BAD_HEADER);
	total = rd16(ip + 2);
	room = wire_room(caplen, wirelen, off);
	if (total == 0)
		total = room;		/* TSO / BIG TCP: length left to the wire */
	else if (total > room)
		total = room;		/* claims more than the wire carried */
	if (total < ihl)
		return skip(why, PACKET_SKIP_BAD_HEADER);
	frag = rd16(ip + 6);
	if ((frag & 0x3fff) != 0)	/* MF set or non-zero offset */
		return skip(why, PACKET_SKIP_FRAGMENT);
	if (ip[9] != IPPROTO_TCP_)
		return skip(why, PACKET_SKIP_NOT_TCP);
	if (!need(caplen, off, ihl))
		return skip(why, PACKET_SKIP_TRUNCATED);

	out->family = 4;
	memcpy(out->src, ip + 12, 4);
	memcpy(out->dst, ip + 16, 4);
	return decode_tcp(frame, caplen, off + ihl, total - ihl, out, why);
}

static int
decode_ipv6(const uint8_t *frame, size_t caplen, size_t wirelen, size_t off,
    struct tcp_event *out, enum packet_skip *why)
{
	const uint8_t *ip;
	size_t plen, room, hoff, used = 0;
	unsigned nh, n;

	if (!need(caplen, off, IPV6_HLEN))
		return skip(why, PACKET_SKIP_TRUNCATED);
	ip = frame + off;
	if (ip[0] >> 4 != 6)
		return skip(why, PACKET_SKIP_BAD_HEADER);
	plen = rd16(ip + 4);
	room = wire_room(caplen, wirelen, off + IPV6_HLEN);
	if (plen == 0 || plen > room)
		plen = room;		/* jumbogram/BIG TCP, or a lying length */
	nh = ip[6];
	hoff = off + IPV6_HLEN;

	for (n = 0; nh != IPPROTO_TCP_; n++) {
		const uint8_t *eh;
		size_t elen;

		if (n >= PACKET_MAX_IPV6_EXT)
			return skip(why, PACKET_SKIP_TOO_MANY_HEADERS);
		switch (nh) {
		case IPPROTO_HOPOPTS_:
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
		case IPPROTO_MH_:
		case IPPROTO_HIP_:
		case IPPROTO_SHIM6_:
		case IPPROTO_FRAGMENT_:
		case IPPROTO_AH_:
			break;
		default:		/* ESP, No Next Header, UDP, ICMPv6... */
			return skip(why, PACKET_SKIP_NOT_TCP);
		}
		if (!need(caplen, hoff, 8))
			return skip(why, PACKET_SKIP_TRUNCATED);
		eh = frame + hoff;
		if (nh == IPPROTO_FRAGMENT_) {
			/* Atomic fragments (offset 0, no MF) are whole packets. */
			if ((rd16(eh + 2) & 0xfff9) != 0)
				return skip(why, PACKET_SKIP_FRAGMENT);
			elen = 8;
		} else if (nh == IPPROTO_AH_) {
			elen = ((size_t)eh[1] + 2) * 4;
		} else {
			elen = ((size_t)eh[1] + 1) * 8;
		}
		if (used + elen > plen)
			return skip(why, PACKET_SKIP_BAD_HEADER);
		used += elen;
		hoff += elen;
		nh = eh[0];
	}

	out->family = 6;
	memcpy(out->src, ip + 8, 16);
	memcpy(out->dst, ip + 24, 16);
	return decode_tcp(frame, caplen, hoff, plen - used, out, why);
}

/*
 * Dispatch on EtherType TYPE whose payload starts at FRAME+OFF, stepping
 * over VLAN tags (each: 2 bytes TCI, 2 bytes next EtherType).
 */
static int
decode_ethertype(const uint8_t *frame, size_t caplen, size_t wirelen,
    uint16_t type, size_t off, struct tcp_event *out, enum packet_skip *why)
{
	unsigned depth;

	for (depth = 0; type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
	    type == ETHERTYPE_QINQ_OLD; depth++) {
		if (depth >= PACKET_MAX_VLAN_DEPTH)
			return skip(why, PACKET_SKIP_TOO_MANY_HEADERS);
		if (!need(caplen, off, VLAN_HLEN))
			return skip(why, PACKET_SKIP_TRUNCATED);
		type = rd16(frame + off + 2);
		off += VLAN_HLEN;
	}
	switch (type) {
	case ETHERTYPE_IPV4:
		return decode_ipv4(frame, caplen, wirelen, off, out, why);
	case ETHERTYPE_IPV6:
		return decode_ipv6(frame, caplen, wirelen, off, out, why);
	default:
		return skip(why, PACKET_SKIP_NOT_IP);
	}
}

/* Raw IP: the version nibble says which. */
static int
decode_raw(const uint8_t *frame, size_t caplen, size_t wirelen, size_t off,
    int only, struct tcp_event *out, enum packet_skip *why)
{
	unsigned v;

	if (!need(caplen, off, 1))
		return skip(why, PACKET_SKIP_TRUNCATED);
	v = frame[off] >> 4;
	if (only != 0 && (int)v != only)
		return skip(why, PACKET_SKIP_BAD_HEADER);
	if (v == 4)
		return decode_ipv4(frame, caplen, wirelen, off, out, why);
	if (v == 6)
		return decode_ipv6(frame, caplen, wirelen, off, out, why);
	return skip(why, PACKET_SKIP_NOT_IP);
}

static int
af_family(uint32_t af)
{
	switch (af) {
	case BSD_AF_INET:
		return 4;
	case BSD_AF_INET6_LINUX:
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		return 6;
	default:
		return 0;
	}
}

/*
 * BSD loopback: a 4-byte address family, in the capturing host's byte
 * order for DLT_NULL and network order for DLT_LOOP. Files move between
 * hosts, so both orders are accepted for both; the version nibble must
 * agree with the family.
 */
static int
decode_null(const uint8_t *frame, size_t caplen, size_t wirelen,
    struct tcp_event *out, enum packet_skip *why)
{
	uint32_t be, le;
	int fam;

	if (!need(caplen, 0, NULL_HLEN))
		return skip(why, PACKET_SKIP_TRUNCATED);
	be = rd32(frame);
	le = (uint32_t)frame[3] << 24 | (uint32_t)frame[2] << 16 |
	    (uint32_t)frame[1] << 8 | frame[0];
	fam = af_family(be);
	if (fam == 0)
		fam = af_family(le);
	if (fam == 0)
		return skip(why, PACKET_SKIP_NOT_IP);
	return decode_raw(frame, caplen, wirelen, NULL_HLEN, fam, out, why);
}

int
packet_decode(int linktype, const uint8_t *frame, size_t caplen,
    size_t wirelen, uint64_t time_us, struct tcp_event *out,
    enum packet_skip *why)
{
	memset(out, 0, sizeof(*out));
	out->time_us = time_us;
	*why = PACKET_SKIP_NONE;
	if (frame == NULL)
		caplen = 0;

	switch (linktype) {
	case DLT_EN10MB:
		/* dst, src, EtherType (or a VLAN TPID). */
		if (!need(caplen, 0, ETH_HLEN))
			return skip(why, PACKET_SKIP_TRUNCATED);
		return decode_ethertype(frame, caplen, wirelen, rd16(frame + 12),
		    ETH_HLEN, out, why);
	case DLT_LINUX_SLL:
		/* Packet type, ARPHRD, address length, 8 address bytes, protocol. */
		if (!need(caplen, 0, SLL_HLEN))
			return skip(why, PACKET_SKIP_TRUNCATED);
		return decode_ethertype(frame, caplen, wirelen, rd16(frame + 14),
		    SLL_HLEN, out, why);
	case DLT_LINUX_SLL2:
		/* Protocol first; reserved, ifindex, ARPHRD, type, address. */
		if (!need(caplen, 0, SLL2_HLEN))
			return skip(why, PACKET_SKIP_TRUNCATED);
		return decode_ethertype(frame, caplen, wirelen, rd16(frame),
		    SLL2_HLEN, out, why);
	case DLT_RAW:
	case LINKTYPE_RAW_FILE:
		return decode_raw(frame, caplen, wirelen, 0, 0, out, why);
	case DLT_IPV4:
		return decode_raw(frame, caplen, wirelen, 0, 4, out, why);
	case DLT_IPV6:
		return decode_raw(frame, caplen, wirelen, 0, 6, out, why);
	case DLT_NULL:
	case DLT_LOOP:
		return decode_null(frame, caplen, wirelen, out, why);
	default:
		return skip(why, PACKET_SKIP_UNSUPPORTED_LINKTYPE);
	}
}
