/*
 * Packet decoder: one captured frame in, one struct tcp_event out.
 *
 * Pure: no I/O, no allocation, no globals written. Shared by `replay`
 * (offline pcap/pcapng through pcap_source) and the live sampler. Every
 * length is checked against the captured length before it is read, and
 * every loop (VLAN tags, IPv6 extension headers, TCP options) is bounded,
 * so any byte string is safe to feed it (fuzz/fuzz_packet.c does).
 *
 * Link types are the values pcap_datalink() returns (DLT_*), not the
 * LINKTYPE_* values stored in files: libpcap maps LINKTYPE_RAW (101) to
 * DLT_RAW (12 on Linux). 101 is accepted as raw IP too, for callers that
 * pass a file's value.
 */
#ifndef TWAUDIT_PACKET_H
#define TWAUDIT_PACKET_H

#include <stddef.h>
#include <stdint.h>
#include "lib/tcp_event.h"

/* VLAN tags (802.1Q, 802.1ad, old 0x9100 QinQ) walked after a link header. */
#define PACKET_MAX_VLAN_DEPTH 4
/* IPv6 extension headers walked before giving up ("too_many_headers"). */
#define PACKET_MAX_IPV6_EXT 8

/*
 * Why a frame gave no event. The names (packet_skip_name) are the keys of
 * the JSON "skipped" object, so they are stable.
 */
#define PACKET_SKIP_LIST(X) \
	X(NONE, "none") \
	X(UNSUPPORTED_LINKTYPE, "unsupported_linktype") \
	X(NOT_IP, "not_ip") \
	X(NOT_TCP, "not_tcp") \
	X(FRAGMENT, "fragment") \
	X(TRUNCATED, "truncated") \
	X(BAD_HEADER, "bad_header") \
	X(TOO_MANY_HEADERS, "too_many_headers") \
	X(NOT_SYN_FIN_RST, "not_syn_fin_rst")

enum packet_skip {
#define X(id, name) PACKET_SKIP_##id,
	PACKET_SKIP_LIST(X)
#undef X
	PACKET_SKIP_COUNT
};

/* Stable lower-case name of a reason; "unknown" when out of range. */
const char *packet_skip_name(enum packet_skip why);

/* True when packet_decode() knows link type LINKTYPE (a DLT_* value). */
int packet_linktype_supported(int linktype);

/*
 * Decode FRAME (CAPLEN bytes captured of WIRELEN on the wire) of link type
 * LINKTYPE, captured at TIME_US.
 *
 * Returns 1 and fills *OUT (to_server = 0: the caller decides direction)
 * for any TCP segment, whatever its flags (callers that only want
 * SYN/FIN/RST check out->flags; pcap_source does and counts
 * PACKET_SKIP_NOT_SYN_FIN_RST). When the capture cut the TCP options, the
 * event is still returned with opts_truncated = 1 and has_ts says whether
 * a complete Timestamps option was seen before the cut.
 *
 * Returns 0 and sets *WHY when the frame gives no event: not IP, not TCP,
 * an IP fragment (IPv4 with MF or a non-zero offset, IPv6 with a Fragment
 * header other than an atomic one), headers cut by the capture length,
 * inconsistent lengths, or a header chain longer than the limits above.
 *
 * payload_len comes from the IP length fields (not from CAPLEN), clamped
 * to what WIRELEN allows and to 65535; a zero IP length (TSO, jumbograms)
 * falls back to WIRELEN.
 */
int packet_decode(int linktype, const uint8_t *frame, size_t caplen,
    size_t wirelen, uint64_t time_us, struct tcp_event *out,
    enum packet_skip *why);

#endif
