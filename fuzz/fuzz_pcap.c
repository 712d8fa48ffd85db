/*
 * libFuzzer target: a whole capture file (pcap or pcapng, any link type)
 * as `twaudit replay` reads it.
 *
 * collectors/pcap_source.h has no FILE* entry point (only a path), so the
 * input goes two ways, neither touching the file system:
 *  1. fmemopen() + pcap_fopen_offline(): every record through the BPF
 *     filter pcap_source would install (compiled once per link type) and,
 *     filter or not, through packet_decode();
 *  2. a memfd opened by path (/proc/self/fd/N) with
 *     pcap_source_open_offline() and drained with pcap_source_next(): the
 *     replay code itself, its truncation and error handling and counters;
 *  3. the same memfd through the fast path (a memfd is a regular file:
 *     classic pcap records from pread() buffers, pcap_fast.c) and through
 *     pcap_source_open_libpcap() side by side: every event, counter, end
 *     code, warning and error must be the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "collectors/packet.h"
#include "collectors/pcap_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Compiled filters by link type, kept for the life of the process. */
#define FILTER_CACHE 16
static struct {
	int linktype;
	int ok;			/* 1 compiled, -1 not supported */
	struct bpf_program prog;
} filters[FILTER_CACHE];
static int nfilters;

static const struct bpf_program *
filter_for(int linktype)
{
	char text[PCAP_SOURCE_FILTER_MAX];
	pcap_t *dead;
	int i;

	for (i = 0; i < nfilters; i++)
		if (filters[i].linktype == linktype)
			return filters[i].ok == 1 ? &filters[i].prog : NULL;
	if (nfilters == FILTER_CACHE)
		return NULL;
	i = nfilters++;
	filters[i].linktype = linktype;
	filters[i].ok = -1;
	if (pcap_source_filter_for(linktype, text, sizeof(text)) < 0)
		return NULL;
	if ((dead = pcap_open_dead(linktype, 262144)) == NULL)
		return NULL;
	if (pcap_compile(dead, &filters[i].prog, text, 1,
	    PCAP_NETMASK_UNKNOWN) == 0)
		filters[i].ok = 1;
	pcap_close(dead);
	return filters[i].ok == 1 ? &filters[i].prog : NULL;
}

static void
check_event(int rc, const struct tcp_event *ev, enum packet_skip why)
{
	if (rc == 1) {
		if (ev->family != 4 && ev->family != 6)
			abort();
	} else if (rc != 0 || (unsigned)why >= PACKET_SKIP_COUNT ||
	    packet_skip_name(why) == NULL) {
		abort();
	}
}

static void
via_libpcap(const uint8_t *data, size_t size)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	const struct bpf_program *prog;
	struct pcap_pkthdr *h;
	const u_char *pkt;
	FILE *fp;
	pcap_t *p;
	int linktype;

	fp = fmemopen((void *)(uintptr_t)data, size, "rb");
	if (fp == NULL)
		return;
	p = pcap_fopen_offline_with_tstamp_precision(fp,
	    PCAP_TSTAMP_PRECISION_MICRO, errbuf);
	if (p == NULL) {
		fclose(fp);	/* libpcap leaves it open on failure */
		return;
	}
	linktype = pcap_datalink(p);
	prog = filter_for(linktype);
	while (pcap_next_ex(p, &h, &pkt) == 1) {
		struct tcp_event ev;
		enum packet_skip why = PACKET_SKIP_NONE;
		int rc;

		if (prog != NULL)
			(void)pcap_offline_filter(prog, h, pkt);
		rc = packet_decode(linktype, pkt, h->caplen, h->len,
		    (uint64_t)h->ts.tv_sec * 1000000u +
		    (uint64_t)h->ts.tv_usec, &ev, &why);
		check_event(rc, &ev, why);
	}
	pcap_close(p);		/* closes fp */
}

/* Both readers of PATH in step; abort() at the first difference. */
static void
fast_vs_libpcap(const char *path)
{
	struct pcap_source *a, *b;
	char ea[PCAP_SOURCE_ERR_LEN], eb[PCAP_SOURCE_ERR_LEN];
	int ra, rb;

	a = pcap_source_open_offline(path, ea, sizeof(ea));
	b = pcap_source_open_libpcap(path, eb, sizeof(eb));
	if ((a == NULL) != (b == NULL))
		abort();
	if (a == NULL) {
		if (strcmp(ea, eb) != 0)
			abort();
		return;
	}
	do {
		struct tcp_event x, y;

		memset(&x, 0, sizeof(x));
		memset(&y, 0, sizeof(y));
		ra = pcap_source_next(a, &x);
		rb = pcap_source_next(b, &y);
		if (ra != rb || (ra == 1 && memcmp(&x, &y, sizeof(x)) != 0))
			abort();
	} while (ra == 1);
	if (memcmp(pcap_source_stats(a), pcap_source_stats(b),
	    sizeof(struct pcap_source_stats)) != 0 ||
	    pcap_source_truncated(a) != pcap_source_truncated(b) ||
	    strcmp(pcap_source_warning(a), pcap_source_warning(b)) != 0 ||
	    strcmp(pcap_source_error(a), pcap_source_error(b)) != 0)
		abort();
	pcap_source_close(a);
	pcap_source_close(b);
}

static void
via_pcap_source(const uint8_t *data, size_t size)
{
	const struct pcap_source_stats *st;
	struct pcap_source *src;
	struct tcp_event ev;
	char path[64], err[PCAP_SOURCE_ERR_LEN];
	uint64_t accounted;
	int fd, rc;

	fd = memfd_create("fuzz_pcap", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(err, 'X', sizeof(err));
	src = pcap_source_open_offline(path, err, sizeof(err));
	if (src == NULL) {
		if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort();
		close(fd);
		return;
	}
	if (!packet_linktype_supported(pcap_source_linktype(src)))
		abort();	/* open must refuse what the decoder cannot do */
	while ((rc = pcap_source_next(src, &ev)) == 1)
		if (ev.family != 4 && ev.family != 6)
			abort();
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1 && pcap_source_error(src)[0] == '\0')
		abort();
	if (pcap_source_truncated(src) && pcap_source_warning(src)[0] == '\0')
		abort();
	st = pcap_source_stats(src);
	accounted = st->events;
	for (int i = 0; i < PACKET_SKIP_COUNT; i++)
		accounted += st->skipped[i];
	if (accounted != st->packets || st->opts_truncated > st->events)
		abort();
	(void)pcap_source_filter(src);
	(void)pcap_source_linktype_name(src);
	pcap_source_close(src);
	fast_vs_libpcap(path);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	via_libpcap(data, size);
	via_pcap_source(data, size);
	return 0;
}
