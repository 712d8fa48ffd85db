/*
 * One TCP segment as the model sees it: what the packet decoder produces
 * and the peer-table model consumes. Plain data, no pointers.
 */
#ifndef TWAUDIT_TCP_EVENT_H
#define TWAUDIT_TCP_EVENT_H

#include <stdint.h>

enum tcp_flags {
	TCPF_FIN = 0x01, TCPF_SYN = 0x02, TCPF_RST = 0x04, TCPF_PSH = 0x08,
	TCPF_ACK = 0x10, TCPF_URG = 0x20, TCPF_ECE = 0x40, TCPF_CWR = 0x80
};

struct tcp_event {
	uint64_t time_us;	/* capture time, microseconds since the epoch */
	uint8_t family;		/* 4 or 6 */
	uint8_t flags;		/* enum tcp_flags */
	uint8_t has_ts;		/* TS option present: tsval/tsecr valid */
	uint8_t to_server;	/* 1 client->server, 0 server->client (set by the caller) */
	uint8_t opts_truncated;	/* snaplen cut the TCP options */
	uint8_t src[16];	/* network order; IPv4 uses the first 4 bytes */
	uint8_t dst[16];
	uint16_t sport, dport;	/* host order */
	uint32_t seq, ack;
	uint32_t tsval, tsecr;
	uint16_t payload_len;	/* TCP payload bytes on the wire (from IP length) */
};

#endif
