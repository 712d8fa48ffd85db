/*
 * Offline capture source: libpcap reads the file (pcap or pcapng, or
 * stdin), a BPF filter keeps TCP segments with SYN, FIN or RST, and
 * packet_decode() turns each into a struct tcp_event.
 *
 * libpcap does the filtering: on a replay of millions of SYNs the data
 * and pure-ACK segments never reach our decoder. The filter cannot follow
 * IPv6 extension headers, so IPv6 packets that start with one pass it and
 * the flags are checked here after decoding. IP fragments of TCP pass
 * too, so the decoder counts them ("fragment").
 *
 * A classic pcap file (regular, native byte order, microsecond
 * timestamps) is read by pcap_fast.c instead: records straight from
 * large pread() buffers through bpf_filter() with the same program, no
 * copy per packet; a record it does not take (cut short, oversized, a
 * read error) is read by libpcap at its offset, so counts and messages
 * are libpcap's. pcapng and stdin stay with libpcap.
 *
 * Errors are written into the source (or the caller's buffer at open);
 * nothing here prints.
 */
#include "collectors/pcap_source.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collectors/packet.h"
#include "collectors/pcap_fast.h"
#include "lib/util.h"

struct pcap_source {
	pcap_t *pcap;
	struct pcap_fast *fast;	/* NULL: libpcap reads every record */
	struct bpf_program prog;	/* the filter, for the fast path */
	int have_prog;
	struct pcap_pkthdr fh;	/* the fast path's record */
	int linktype;
	int truncated;
	int done;
	int64_t size;
	struct pcap_source_stats st;
	char name[256];
	char filter[PCAP_SOURCE_FILTER_MAX];
	char warning[PCAP_SOURCE_ERR_LEN];
	char error[PCAP_SOURCE_ERR_LEN];
};

/*
 * IPv6 next-header values the decoder walks as extension headers:
 * hop-by-hop, routing, fragment, AH, destination options, mobility, HIP,
 * shim6. Packets starting with one of these pass the filter.
 */
static const unsigned ipv6_ext[] = { 0, 43, 44, 51, 60, 135, 139, 140 };


/* The IPv4 and IPv6 tests with libpcap's own keywords (no VLAN). */
static void
sb_plain(struct sbuf *sb)
{
	size_t i;

	sb_add(sb, "(ip and (tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0"
	    " or (ip[9] == 6 and ip[6:2] & 0x3fff != 0)))"
	    " or (ip6 and ((ip6[6] == 6 and ip6[53] & 7 != 0)");
	for (i = 0; i < sizeof(ipv6_ext) / sizeof(ipv6_ext[0]); i++)
		sb_add(sb, " or ip6[6] == %u", ipv6_ext[i]);
	sb_add(sb, "))");
}

/*
 * The same tests, by hand, for an IP header at link offset P. IPV4 and
 * IPV6 are the guards that say which it is (an EtherType test, or the
 * version nibble): after VLAN tags, and on BSD loopback, the keywords do
 * not work on every link type (libpcap 1.10 compiles "ip6" on DLT_NULL
 * to the compiling host's AF_INET6 for live handles and to the BSD values
 * in the file's byte order for savefiles; the version nibble is the same
 * everywhere, and the decoder checks the address family).
 */
static void
sb_at(struct sbuf *sb, const char *ipv4, const char *ipv6, unsigned p)
{
	size_t i;

	sb_add(sb, "(%s and link[%u] == 6 and ((link[%u:2] & 0x1fff == 0"
	    " and link[%u + (link[%u] & 0xf) * 4] & 7 != 0)"
	    " or link[%u:2] & 0x3fff != 0))",
	    ipv4, p + 9, p + 6, p + 13, p, p + 6);
	sb_add(sb, " or (%s and ((link[%u] == 6 and link[%u] & 7 != 0)",
	    ipv6, p + 6, p + 53);
	for (i = 0; i < sizeof(ipv6_ext) / sizeof(ipv6_ext[0]); i++)
		sb_add(sb, " or link[%u] == %u", p + 6, ipv6_ext[i]);
	sb_add(sb, "))");
}

/* sb_at() for an IP header at P whose EtherType is at link offset T. */
static void
sb_at_type(struct sbuf *sb, unsigned t, unsigned p)
{
	char v4[32], v6[32];

	snprintf(v4, sizeof(v4), "link[%u:2] == 0x0800", t);
	snprintf(v6, sizeof(v6), "link[%u:2] == 0x86dd", t);
	sb_at(sb, v4, v6, p);
}

/* sb_at() for an IP header at P told apart by its version nibble. */
static void
sb_at_version(struct sbuf *sb, unsigned p)
{
	char v4[32], v6[32];

	snprintf(v4, sizeof(v4), "link[%u] & 0xf0 == 0x40", p);
	snprintf(v6, sizeof(v6), "link[%u] & 0xf0 == 0x60", p);
	sb_at(sb, v4, v6, p);
}

static void
sb_tpid(struct sbuf *sb, unsigned t)
{
	sb_add(sb, "(link[%u:2] == 0x8100 or link[%u:2] == 0x88a8"
	    " or link[%u:2] == 0x9100)", t, t, t);
}

/*
 * VLAN part: the EtherType of the link header at offset E is a TPID, the
 * first tag starts at offset T0 (each tag: TCI, then the next EtherType).
 */
static void
sb_vlan(struct sbuf *sb, unsigned e, unsigned t0, unsigned depth)
{
	unsigned d;

	sb_add(sb, " or (");
	sb_tpid(sb, e);
	for (d = 1; d <= depth; d++) {
		unsigned type = t0 + 4 * d - 2, payload = t0 + 4 * d;

		sb_add(sb, " and (");
		sb_at_type(sb, type, payload);
		if (d < depth) {
			sb_add(sb, " or (");
			sb_tpid(sb, type);
		}
	}
	for (d = 1; d <= depth; d++)
		sb_add(sb, d < depth ? "))" : ")");
	sb_add(sb, ")");
}

int
pcap_source_filter_for(int linktype, char *out, size_t outlen)
{
	struct sbuf sb = { out, 0, outlen, 0 };

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (!packet_linktype_supported(linktype))
		return -1;
	if (linktype == DLT_NULL || linktype == DLT_LOOP) {
		sb_at_version(&sb, 4);
		goto out;
	}
	sb_add(&sb, "(");
	sb_plain(&sb);
	sb_add(&sb, ")");
	switch (linktype) {
	case DLT_EN10MB:
		sb_vlan(&sb, 12, 14, PCAP_SOURCE_FILTER_VLAN_DEPTH);
		break;
	case DLT_LINUX_SLL:
		sb_vlan(&sb, 14, 16, PCAP_SOURCE_FILTER_VLAN_DEPTH);
		break;
	case DLT_LINUX_SLL2:
		sb_vlan(&sb, 0, 20, PCAP_SOURCE_FILTER_VLAN_DEPTH);
		break;
	default:
		break;
	}
out:
	if (sb.overflow) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

static int64_t
file_size(FILE *fp)
{
	struct stat sta;

	if (fp == NULL || fstat(fileno(fp), &sta) < 0 || !S_ISREG(sta.st_mode))
		return -1;
	return (int64_t)sta.st_size;
}

/* Where libpcap's stream is (its messages are about that offset). */
static int64_t
file_offset(const struct pcap_source *src)
{
	FILE *fp = pcap_file(src->pcap);
	off_t off;

	if (fp == NULL)
		return -1;
	off = ftello(fp);
	return off < 0 ? -1 : (int64_t)off;
}

/* The fast path for a regular classic pcap file, if it is one (a
 * failure here only means libpcap reads it all). */
static void
fast_start(struct pcap_source *src)
{
	FILE *fp = pcap_file(src->pcap);
	uint8_t hdr[PCAP_FAST_FILE_HDR];
	int snap = pcap_snapshot(src->pcap);

	if (src->size < 0 || fp == NULL || fp == stdin || snap <= 0 ||
	    pread(fileno(fp), hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    !pcap_fast_header_ok(hdr, sizeof(hdr)) ||
	    file_offset(src) != PCAP_FAST_FILE_HDR)
		return;
	src->fast = pcap_fast_new(fileno(fp), PCAP_FAST_FILE_HDR,
	    (uint32_t)snap);
}

/* Open FP (owned from here on: closed on failure too) as source NAME. */
static struct pcap_source *
open_fp(const char *name, FILE *fp, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	struct pcap_source *src;
	const char *dlt;

	src = calloc(1, sizeof(*src));
	if (src == NULL) {
		set_error(err, errlen, "%s: out of memory", name);
		goto fail_fp;
	}
	{
		size_t n = strnlen(name, sizeof(src->name) - 1);

		memcpy(src->name, name, n);
		src->name[n] = '\0';
	}
	src->size = file_size(fp);
	if (src->size == 0) {
		set_error(err, errlen, "%s: empty file, not a pcap/pcapng "
		    "capture", src->name);
		goto fail_fp;
	}
	ebuf[0] = '\0';
	/* On success libpcap owns FP and closes it in pcap_close(). */
	src->pcap = pcap_fopen_offline_with_tstamp_precision(fp,
	    PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (src->pcap == NULL) {
		set_error(err, errlen, "%s: not a pcap/pcapng capture "
		    "(file header at offset 0): %s", src->name, ebuf);
		goto fail_fp;
	}
	src->linktype = pcap_datalink(src->pcap);
	dlt = pcap_datalink_val_to_name(src->linktype);
	if (pcap_source_filter_for(src->linktype, src->filter,
	    sizeof(src->filter)) < 0) {
		set_error(err, errlen, "%s: unsupported link type %s (%d); "
		    "supported: EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, "
		    "IPV6, NULL, LOOP", src->name, dlt ? dlt : "unknown",
		    src->linktype);
		pcap_source_close(src);
		return NULL;
	}
	if (pcap_compile(src->pcap, &prog, src->filter, 1,
	    PCAP_NETMASK_UNKNOWN) < 0) {
		set_error(err, errlen, "%s: pcap_compile for link type %s: %s",
		    src->name, dlt ? dlt : "unknown", pcap_geterr(src->pcap));
		pcap_source_close(src);
		return NULL;
	}
	src->prog = prog;
	src->have_prog = 1;
	if (pcap_setfilter(src->pcap, &prog) < 0) {
		set_error(err, errlen, "%s: pcap_setfilter: %s", src->name,
		    pcap_geterr(src->pcap));
		pcap_source_close(src);
		return NULL;
	}
	fast_start(src);
	return src;

fail_fp:
	if (fp != stdin)
		fclose(fp);
	free(src);
	return NULL;
}

static struct pcap_source *
open_path(const char *path, int fast, char *err, size_t errlen)
{
	const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
	struct pcap_source *src;
	FILE *fp;

	if (strcmp(path, "-") == 0)
		return open_fp(name, stdin, err, errlen);
	fp = fopen(path, "rb");
	if (fp == NULL) {
		set_error(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return NULL;
	}
	src = open_fp(name, fp, err, errlen);
	if (src != NULL && !fast) {
		pcap_fast_free(src->fast);
		src->fast = NULL;
	}
	return src;
}

struct pcap_source *
pcap_source_open_offline(const char *path, char *err, size_t errlen)
{
	return open_path(path, 1, err, errlen);
}

struct pcap_source *
pcap_source_open_libpcap(const char *path, char *err, size_t errlen)
{
	return open_path(path, 0, err, errlen);
}

int
pcap_source_fast(const struct pcap_source *src)
{
	return src->fast != NULL;
}

struct pcap_source *
pcap_source_reopen(const struct pcap_source *src, char *err, size_t errlen)
{
	FILE *fp = pcap_file(src->pcap);
	char path[64];
	int fd;

	if (src->size < 0 || fp == NULL || fp == stdin) {
		set_error(err, errlen, "%s: not a regular file", src->name);
		return NULL;
	}
	/* A new open file description of the same inode: its own offset,
	 * and the very file read so far even if the path changed since. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fileno(fp));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (fp = fdopen(fd, "rb")) == NULL) {
		set_error(err, errlen, "%s: cannot reopen: %s", src->name,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return open_fp(src->name, fp, err, errlen);
}

/* libpcap's answer R for the next record: 1 to go on with *H and *DATA,
 * else what pcap_source_next() returns (the source is done). */
static int
read_failed(struct pcap_source *src, int r)
{
	const char *msg;
	int64_t off;

	if (r == PCAP_ERROR_BREAK) {	/* end of file */
		src->done = 1;
		return 0;
	}
	msg = pcap_geterr(src->pcap);
	off = file_offset(src);
	src->done = 1;
	/*
	 * libpcap says "truncated dump file" (pcap) or "truncated pcapng
	 * dump file" when the file ends inside a record: the records
	 * before it are good.
	 */
	if (strstr(msg, "truncated") != NULL) {
		src->truncated = 1;
		set_error(src->warning, sizeof(src->warning),
		    "%s: capture cut short at offset %lld of %lld, after %llu "
		    "SYN/FIN/RST packets: %s", src->name, (long long)off,
		    (long long)src->size,
		    (unsigned long long)src->st.packets, msg);
		return 0;
	}
	set_error(src->error, sizeof(src->error), "%s: unreadable record "
	    "near offset %lld, after %llu SYN/FIN/RST packets: %s", src->name,
	    (long long)off, (unsigned long long)src->st.packets, msg);
	return -1;
}

/*
 * The next record that passes the filter: 1, or 0 at the end, -1 on an
 * error (read_failed()). From the fast path while it takes the records;
 * one it hands back is read by libpcap from its offset (libpcap may read
 * on to the next record that passes), then the fast path goes on.
 */
static int
next_record(struct pcap_source *src, struct pcap_pkthdr **h,
    const u_char **data)
{
	FILE *fp = pcap_file(src->pcap);
	int64_t off;
	int r;

	while (src->fast != NULL) {
		r = pcap_fast_next(src->fast, &src->fh, data, &off);
		if (r == 0) {
			src->done = 1;
			return 0;
		}
		if (r < 0)
			break;
		if (bpf_filter(src->prog.bf_insns, *data, src->fh.len,
		    src->fh.caplen) == 0)
			continue;
		*h = &src->fh;
		return 1;
	}
	if (src->fast != NULL && fseeko(fp, (off_t)off, SEEK_SET) != 0) {
		pcap_fast_free(src->fast);	/* libpcap from where it is */
		src->fast = NULL;
	}
	r = pcap_next_ex(src->pcap, h, data);
	if (r != 1)
		return read_failed(src, r);
	if (src->fast != NULL)
		pcap_fast_seek(src->fast, file_offset(src));
	return 1;
}

int
pcap_source_next(struct pcap_source *src, struct tcp_event *ev)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	enum packet_skip why;
	int r;

	if (src->done)
		return src->error[0] != '\0' ? -1 : 0;
	for (;;) {
		if ((r = next_record(src, &h, &data)) != 1)
			return r;
		src->st.packets++;
		src->st.bytes += h->caplen;
		if (!packet_decode(src->linktype, data, h->caplen, h->len,
		    (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec,
		    ev, &why)) {
			src->st.skipped[why]++;
			continue;
		}
		if ((ev->flags & (TCPF_SYN | TCPF_FIN | TCPF_RST)) == 0) {
			/* IPv6 behind extension headers passes the filter. */
			src->st.skipped[PACKET_SKIP_NOT_SYN_FIN_RST]++;
			continue;
		}
		if (ev->opts_truncated)
			src->st.opts_truncated++;
		src->st.events++;
		return 1;
	}
}

int
pcap_source_linktype(const struct pcap_source *src)
{
	return src->linktype;
}

const char *
pcap_source_linktype_name(const struct pcap_source *src)
{
	const char *n = pcap_datalink_val_to_name(src->linktype);

	return n != NULL ? n : "unknown";
}

const char *
pcap_source_filter(const struct pcap_source *src)
{
	return src->filter;
}

const struct pcap_source_stats *
pcap_source_stats(const struct pcap_source *src)
{
	return &src->st;
}

int
pcap_source_truncated(const struct pcap_source *src)
{
	return src->truncated;
}

const char *
pcap_source_warning(const struct pcap_source *src)
{
	return src->warning;
}

const char *
pcap_source_error(const struct pcap_source *src)
{
	return src->error;
}

void
pcap_source_progress(const struct pcap_source *src, int64_t *offset,
    int64_t *size)
{
	*offset = src->fast != NULL ? pcap_fast_offset(src->fast) :
	    file_offset(src);
	*size = src->size;
}

void
pcap_source_close(struct pcap_source *src)
{
	if (src == NULL)
		return;
	pcap_fast_free(src->fast);
	if (src->have_prog)
		pcap_freecode(&src->prog);
	if (src->pcap != NULL)
		pcap_close(src->pcap);
	free(src);
}
