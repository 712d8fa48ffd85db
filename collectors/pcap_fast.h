/*
 * The fast read path of a classic pcap file (pcap_source.c): records
 * walked in large pread() buffers and handed out in place, no copy per
 * packet. It takes only the plain case: native byte order, microsecond
 * magic, version 2.4 or later, a whole record no longer than the file's
 * snapshot length. Everything else (the last record cut short, an
 * oversized record, a read error) is handed back by file offset, for
 * libpcap to read that record as it always does (same counts, same
 * messages); pcapng, other magics and stdin never come here.
 */
#ifndef TWAUDIT_PCAP_FAST_H
#define TWAUDIT_PCAP_FAST_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of the file header and of a record header. */
#define PCAP_FAST_FILE_HDR	24
#define PCAP_FAST_REC_HDR	16
/* The read buffer: records up to this size minus a header fit whole. */
#define PCAP_FAST_BUF		(1u << 20)

/*
 * Whether the file header HDR (PCAP_FAST_FILE_HDR bytes) is one the fast
 * path reads: native-order microsecond magic, version 2.4 or later.
 */
int pcap_fast_header_ok(const uint8_t *hdr, size_t len);

/*
 * One record at BUF (LEN bytes available) into *H, its data at
 * BUF + PCAP_FAST_REC_HDR. Returns the record's whole size; 0 when LEN
 * does not hold the whole record yet; -1 when libpcap must read it
 * (captured length over SNAPSHOT, or over what the buffer can hold).
 * The timestamp is converted as libpcap does (signed 32-bit fields).
 */
long pcap_fast_record(const uint8_t *buf, size_t len, uint32_t snapshot,
    struct pcap_pkthdr *h);

struct pcap_fast;

/* A reader of FD from byte offset START. NULL when memory is short. */
struct pcap_fast *pcap_fast_new(int fd, int64_t start, uint32_t snapshot);

/*
 * Next record into *H and *DATA (valid until the next call). 1 with a
 * record; 0 at the end of the file, exactly at a record boundary; -1
 * when the record at *OFF is for libpcap (cut short, oversized, read
 * error): read it there, then pcap_fast_seek() past it.
 */
int pcap_fast_next(struct pcap_fast *f, struct pcap_pkthdr *h,
    const uint8_t **data, int64_t *off);

/* Go on from file offset OFF (a record boundary). */
void pcap_fast_seek(struct pcap_fast *f, int64_t off);

/* File offset of the next record. */
int64_t pcap_fast_offset(const struct pcap_fast *f);

void pcap_fast_free(struct pcap_fast *f);

#endif
