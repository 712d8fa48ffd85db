/*
 * Offline capture source for `twaudit replay`: a pcap or pcapng file (or
 * stdin) read with libpcap (a regular classic pcap file by pcap_fast.h,
 * with the same results), filtered in BPF to TCP segments with SYN, FIN
 * or RST, decoded by packet_decode() into struct tcp_event.
 *
 * The filter (pcap_source_filter_for) is also what the live sampler and
 * the benchmarks (`tcpdump -r FILE -w /dev/null 'FILTER'`) use.
 */
#ifndef TWAUDIT_PCAP_SOURCE_H
#define TWAUDIT_PCAP_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include "collectors/packet.h"
#include "lib/tcp_event.h"

/* Longest filter string pcap_source_filter_for() builds, with its NUL. */
#define PCAP_SOURCE_FILTER_MAX 4096
/* Length of the error and warning messages kept by a source. */
#define PCAP_SOURCE_ERR_LEN 512
/* VLAN tags the BPF filter looks through (the decoder goes deeper). */
#define PCAP_SOURCE_FILTER_VLAN_DEPTH 2

struct pcap_source;

struct pcap_source_stats {
	uint64_t packets;	/* records that passed the BPF filter */
	uint64_t bytes;		/* captured bytes of those records */
	uint64_t events;	/* events returned */
	uint64_t skipped[PACKET_SKIP_COUNT];	/* by packet_skip reason */
	uint64_t opts_truncated;	/* events whose TCP options were cut */
};

/*
 * Build the BPF filter for link type LINKTYPE (a DLT_* value) into OUT:
 * IPv4 TCP with SYN, FIN or RST; IPv6 with TCP next (flags at ip6[53]);
 * IPv6 whose next header is an extension header the decoder walks (the
 * filter cannot find the TCP header behind it; the decoder checks the
 * flags); IPv4 TCP fragments (counted as skipped by the decoder); and,
 * for Ethernet, Linux SLL and SLL2, the same behind one or
 * two VLAN tags (0x8100, 0x88a8, 0x9100). Returns 0, or -1 when the link
 * type is not supported or OUT is too small.
 */
int pcap_source_filter_for(int linktype, char *out, size_t outlen);

/*
 * Open PATH ("-" = stdin) as a pcap or pcapng capture, check its link
 * type, compile and install the filter. On failure returns NULL and puts a
 * one-line message naming the file and why (libpcap's reason: bad magic,
 * file cut inside its header, unsupported link type...) into ERR.
 */
struct pcap_source *pcap_source_open_offline(const char *path, char *err,
    size_t errlen);

/*
 * The same, with libpcap reading every record (no fast path): the
 * reference the fast path is compared with (tests, fuzz/fuzz_pcap.c).
 */
struct pcap_source *pcap_source_open_libpcap(const char *path, char *err,
    size_t errlen);

/* 1 when SRC reads classic pcap records itself (pcap_fast.h). */
int pcap_source_fast(const struct pcap_source *src);

/*
 * A second, independent reader of SRC's file from its first record (its
 * own offset and counters), for a look at what comes later. NULL with
 * ERR when SRC is not a regular file (stdin, a pipe).
 */
struct pcap_source *pcap_source_reopen(const struct pcap_source *src,
    char *err, size_t errlen);

/*
 * Next SYN/FIN/RST TCP event into *EV (to_server = 0). Frames that give no
 * event are counted in the stats by reason and skipped.
 * Returns 1 with an event, 0 at the end of the capture, -1 on a read error
 * (pcap_source_error() says which packet and why: a record larger than
 * libpcap accepts, a corrupt pcapng block...). A file cut short inside a
 * record is not an error: it returns 0 and pcap_source_truncated() is 1,
 * with a message in pcap_source_warning().
 */
int pcap_source_next(struct pcap_source *src, struct tcp_event *ev);

/* The link type (DLT_*) and its libpcap name ("EN10MB"). */
int pcap_source_linktype(const struct pcap_source *src);
const char *pcap_source_linktype_name(const struct pcap_source *src);
/* The filter string installed. */
const char *pcap_source_filter(const struct pcap_source *src);
/* Counters so far. */
const struct pcap_source_stats *pcap_source_stats(const struct pcap_source *src);
/* 1 when the file ended inside a record (events up to there were read). */
int pcap_source_truncated(const struct pcap_source *src);
/* One-line warning ("" if none) and error ("" if none). */
const char *pcap_source_warning(const struct pcap_source *src);
const char *pcap_source_error(const struct pcap_source *src);

/*
 * Progress: bytes read so far and the file's size. Either is -1 when
 * unknown (stdin or a pipe has no size, a non-seekable stream no offset).
 */
void pcap_source_progress(const struct pcap_source *src, int64_t *offset,
    int64_t *size);

/* Close the capture and free SRC (NULL is fine). */
void pcap_source_close(struct pcap_source *src);

#endif
