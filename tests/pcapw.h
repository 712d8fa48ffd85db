/*
 * pcapw: a small capture writer for tests, the scenario generator and the
 * benchmarks. Turns a struct tcp_event into a frame of any link type the
 * decoder supports (IPv4/IPv6, TCP with the Timestamps option, optional
 * VLAN tags and IPv6 extension headers) and writes classic pcap (µs
 * timestamps) or pcapng (SHB + IDB + EPBs, µs resolution).
 *
 * Link types are DLT_* values as pcap_datalink() reports them; the file
 * gets the LINKTYPE_* value (DLT_RAW is stored as LINKTYPE_RAW = 101).
 * Plain stdio, little-endian host order headers as libpcap writes them.
 */
#ifndef TWAUDIT_TESTS_PCAPW_H
#define TWAUDIT_TESTS_PCAPW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "lib/tcp_event.h"

#define PCAPW_MAX_VLAN 6
#define PCAPW_MAX_V6_EXT 10
/* Largest frame pcapw_build_frame() makes (headers + payload). */
#define PCAPW_FRAME_MAX 65600

enum pcapw_format { PCAPW_PCAP, PCAPW_PCAPNG };

struct pcapw_opts {
	int nvlan;			/* VLAN tags (Ethernet, SLL, SLL2) */
	uint16_t vlan_tpid[PCAPW_MAX_VLAN];	/* 0 = 0x8100 */
	uint16_t vlan_id[PCAPW_MAX_VLAN];
	int nv6_ext;			/* IPv6 extension headers, in order */
	uint8_t v6_ext[PCAPW_MAX_V6_EXT];	/* 0, 43, 44 (atomic), 51, 60 */
	uint32_t null_af6;		/* DLT_NULL/LOOP AF_INET6 (0 = 24) */
	int null_swap;			/* write the AF in the other byte order */
	int no_payload_bytes;		/* payload_len in the IP header only */
};

struct pcapw;

/*
 * Start a capture on FP (not closed by pcapw_close) or at PATH ("-" =
 * stdout). SNAPLEN is written in the header and cuts frames (0 is written
 * as 0: a hostile header; frames are then not cut). NULL with ERR on
 * failure.
 */
struct pcapw *pcapw_open(const char *path, enum pcapw_format fmt,
    int linktype, uint32_t snaplen, char *err, size_t errlen);
struct pcapw *pcapw_fopen(FILE *fp, enum pcapw_format fmt, int linktype,
    uint32_t snaplen, char *err, size_t errlen);

/* Write one frame: CAPLEN of it captured (cut to the snaplen), WIRELEN. */
int pcapw_write_frame(struct pcapw *w, uint64_t time_us, const uint8_t *frame,
    size_t caplen, size_t wirelen);

/* Build EV's frame for the writer's link type and write it. 0 or -1. */
int pcapw_write_event(struct pcapw *w, const struct tcp_event *ev,
    const struct pcapw_opts *opts);

/* Flush and close (closes the file only if pcapw_open opened it). 0/-1. */
int pcapw_close(struct pcapw *w);

/*
 * Build the frame of EV (family, addresses, ports, flags, seq, ack, TS
 * option when has_ts, payload_len zero bytes unless no_payload_bytes) for
 * LINKTYPE into BUF. Returns the frame length, 0 if it does not fit or the
 * link type cannot carry the family. OPTS may be NULL.
 */
size_t pcapw_build_frame(int linktype, const struct tcp_event *ev,
    const struct pcapw_opts *opts, uint8_t *buf, size_t buflen);

/* Offset of the IP header in a frame built with the same arguments. */
size_t pcapw_ip_offset(int linktype, const struct pcapw_opts *opts);

/* DLT_* value to the LINKTYPE_* value stored in files. */
uint32_t pcapw_linktype_to_file(int dlt);

#endif
