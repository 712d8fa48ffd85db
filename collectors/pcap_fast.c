/*
 * Classic pcap records from large pread() buffers (see pcap_fast.h).
 */
#include "collectors/pcap_fast.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TCPDUMP_MAGIC	0xa1b2c3d4u

struct pcap_fast {
	int fd;
	uint32_t snapshot;
	int64_t boff;		/* file offset of buf[0] */
	size_t pos, len;	/* next record at buf[pos]; bytes in buf */
	int eof;		/* the last read reached the end */
	uint8_t *buf;
};

static uint32_t
rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t
rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int
pcap_fast_header_ok(const uint8_t *hdr, size_t len)
{
	/* libpcap swaps caplen and len before 2.4 (sf-pcap.c,
	 * lengths_swapped); those stay with it. */
	return len >= PCAP_FAST_FILE_HDR && rd32(hdr) == TCPDUMP_MAGIC &&
	    rd16(hdr + 4) == 2 && rd16(hdr + 6) >= 4;
}

long
pcap_fast_record(const uint8_t *buf, size_t len, uint32_t snapshot,
    struct pcap_pkthdr *h)
{
	uint32_t caplen;

	if (len < PCAP_FAST_REC_HDR)
		return 0;
	caplen = rd32(buf + 8);
	if (caplen > snapshot ||
	    caplen > PCAP_FAST_BUF - PCAP_FAST_REC_HDR)
		return -1;
	if (len - PCAP_FAST_REC_HDR < caplen)
		return 0;
	/* struct pcap_sf_pkthdr: bpf_int32 seconds and microseconds. */
	h->ts.tv_sec = (int32_t)rd32(buf);
	h->ts.tv_usec = (int32_t)rd32(buf + 4);
	h->caplen = caplen;
	h->len = rd32(buf + 12);
	return (long)(PCAP_FAST_REC_HDR + caplen);
}

struct pcap_fast *
pcap_fast_new(int fd, int64_t start, uint32_t snapshot)
{
	struct pcap_fast *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->buf = malloc(PCAP_FAST_BUF)) == NULL) {
		free(f);
		return NULL;
	}
	f->fd = fd;
	f->snapshot = snapshot;
	f->boff = start;
	return f;
}

/* Move the unread tail to the front and read until the buffer is full
 * or the file ends; -1 on a read error. */
static int
refill(struct pcap_fast *f)
{
	memmove(f->buf, f->buf + f->pos, f->len - f->pos);
	f->boff += (int64_t)f->pos;
	f->len -= f->pos;
	f->pos = 0;
	while (f->len < PCAP_FAST_BUF) {
		ssize_t n = pread(f->fd, f->buf + f->len, PCAP_FAST_BUF - f->len,
		    (off_t)(f->boff + (int64_t)f->len));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			f->eof = 1;
			break;
		}
		f->len += (size_t)n;
	}
	return 0;
}

int
pcap_fast_next(struct pcap_fast *f, struct pcap_pkthdr *h,
    const uint8_t **data, int64_t *off)
{
	long n;

	for (int tries = 0; tries < 2; tries++) {
		n = pcap_fast_record(f->buf + f->pos, f->len - f->pos,
		    f->snapshot, h);
		if (n > 0) {
			*data = f->buf + f->pos + PCAP_FAST_REC_HDR;
			f->pos += (size_t)n;
			return 1;
		}
		if (n < 0 || tries > 0)
			break;
		/* Not whole in the buffer: read on (once). */
		f->eof = 0;
		if (refill(f) < 0)
			break;
		if (f->eof && f->len == 0)
			return 0;
	}
	*off = f->boff + (int64_t)f->pos;
	return -1;
}

void
pcap_fast_seek(struct pcap_fast *f, int64_t off)
{
	f->boff = off;
	f->pos = f->len = 0;
	f->eof = 0;
}

int64_t
pcap_fast_offset(const struct pcap_fast *f)
{
	return f->boff + (int64_t)f->pos;
}

void
pcap_fast_free(struct pcap_fast *f)
{
	if (f == NULL)
		return;
	free(f->buf);
	free(f);
}
