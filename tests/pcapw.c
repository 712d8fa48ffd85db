/*
 * pcapw: test capture writer (see pcapw.h). Frames are built byte by byte
 * from struct tcp_event; files are written with plain stdio so tests can
 * also make hostile ones by hand next to good ones.
 */
#include "pcapw.h"

#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define LINKTYPE_RAW 101

struct pcapw {
	FILE *fp;
	int own;
	int err;
	enum pcapw_format fmt;
	int linktype;
	uint32_t snaplen;
	uint8_t frame[PCAPW_FRAME_MAX];
};

uint32_t
pcapw_linktype_to_file(int dlt)
{
	return dlt == DLT_RAW ? LINKTYPE_RAW : (uint32_t)dlt;
}

static void
w16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
w32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put(struct pcapw *w, const void *p, size_t n)
{
	if (n > 0 && fwrite(p, 1, n, w->fp) != n)
		w->err = 1;
}

static void
put32(struct pcapw *w, uint32_t v)
{
	put(w, &v, 4);		/* host order, as libpcap writes */
}

static void
put16(struct pcapw *w, uint16_t v)
{
	put(w, &v, 2);
}

struct pcapw *
pcapw_fopen(FILE *fp, enum pcapw_format fmt, int linktype, uint32_t snaplen,
    char *err, size_t errlen)
{
	struct pcapw *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		set_error(err, errlen, "pcapw: out of memory");
		return NULL;
	}
	w->fp = fp;
	w->fmt = fmt;
	w->linktype = linktype;
	w->snaplen = snaplen;
	if (fmt == PCAPW_PCAP) {
		put32(w, 0xa1b2c3d4);
		put16(w, 2);
		put16(w, 4);
		put32(w, 0);		/* thiszone */
		put32(w, 0);		/* sigfigs */
		put32(w, snaplen);
		put32(w, pcapw_linktype_to_file(linktype));
	} else {
		uint64_t section = UINT64_MAX;	/* length unknown */

		put32(w, 0x0a0d0d0a);	/* SHB */
		put32(w, 28);
		put32(w, 0x1a2b3c4d);
		put16(w, 1);
		put16(w, 0);
		put(w, &section, 8);
		put32(w, 28);
		put32(w, 1);		/* IDB, default if_tsresol: µs */
		put32(w, 20);
		put16(w, (uint16_t)pcapw_linktype_to_file(linktype));
		put16(w, 0);
		put32(w, snaplen);
		put32(w, 20);
	}
	if (w->err) {
		set_error(err, errlen, "pcapw: write error");
		free(w);
		return NULL;
	}
	return w;
}

struct pcapw *
pcapw_open(const char *path, enum pcapw_format fmt, int linktype,
    uint32_t snaplen, char *err, size_t errlen)
{
	struct pcapw *w;
	FILE *fp;

	if (strcmp(path, "-") == 0)
		return pcapw_fopen(stdout, fmt, linktype, snaplen, err, errlen);
	fp = fopen(path, "wb");
	if (fp == NULL) {
		set_error(err, errlen, "pcapw: cannot create %s", path);
		return NULL;
	}
	w = pcapw_fopen(fp, fmt, linktype, snaplen, err, errlen);
	if (w == NULL) {
		fclose(fp);
		return NULL;
	}
	w->own = 1;
	return w;
}

int
pcapw_write_frame(struct pcapw *w, uint64_t time_us, const uint8_t *frame,
    size_t caplen, size_t wirelen)
{
	static const uint8_t zero[4];

	if (w->snaplen != 0 && caplen > w->snaplen)
		caplen = w->snaplen;
	if (w->fmt == PCAPW_PCAP) {
		put32(w, (uint32_t)(time_us / 1000000));
		put32(w, (uint32_t)(time_us % 1000000));
		put32(w, (uint32_t)caplen);
		put32(w, (uint32_t)wirelen);
		put(w, frame, caplen);
	} else {
		size_t pad = (4 - caplen % 4) % 4;
		uint32_t total = (uint32_t)(32 + caplen + pad);

		put32(w, 6);		/* EPB */
		put32(w, total);
		put32(w, 0);		/* interface 0 */
		put32(w, (uint32_t)(time_us >> 32));
		put32(w, (uint32_t)time_us);
		put32(w, (uint32_t)caplen);
		put32(w, (uint32_t)wirelen);
		put(w, frame, caplen);
		put(w, zero, pad);
		put32(w, total);
	}
	return w->err ? -1 : 0;
}

int
pcapw_write_event(struct pcapw *w, const struct tcp_event *ev,
    const struct pcapw_opts *opts)
{
	size_t n = pcapw_build_frame(w->linktype, ev, opts, w->frame,
	    sizeof(w->frame));

	if (n == 0)
		return -1;
	return pcapw_write_frame(w, ev->time_us, w->frame, n, n);
}

int
pcapw_close(struct pcapw *w)
{
	int r;

	if (w == NULL)
		return 0;
	if (fflush(w->fp) != 0)
		w->err = 1;
	if (w->own && fclose(w->fp) != 0)
		w->err = 1;
	r = w->err ? -1 : 0;
	free(w);
	return r;
}

/* Link header bytes before the EtherType/VLAN part, and its layout. */
static size_t
vlan_bytes(int linktype, const struct pcapw_opts *o)
{
	if (linktype != DLT_EN10MB && linktype != DLT_LINUX_SLL &&
	    linktype != DLT_LINUX_SLL2)
		return 0;
	return (size_t)o->nvlan * 4;
}

size_t
pcapw_ip_offset(int linktype, const struct pcapw_opts *opts)
{
	static const struct pcapw_opts none;
	const struct pcapw_opts *o = opts ? opts : &none;

	switch (linktype) {
	case DLT_EN10MB:
		return 14 + vlan_bytes(linktype, o);
	case DLT_LINUX_SLL:
		return 16 + vlan_bytes(linktype, o);
	case DLT_LINUX_SLL2:
		return 20 + vlan_bytes(linktype, o);
	case DLT_NULL:
	case DLT_LOOP:
		return 4;
	default:
		return 0;
	}
}

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* TCP options as Linux sends them. Returns their length (multiple of 4). */
static size_t
tcp_options(const struct tcp_event *ev, uint8_t *o)
{
	size_t n = 0;

	if (ev->flags & TCPF_SYN) {
		o[n++] = 2; o[n++] = 4; w16(o + n, 1460); n += 2;	/* MSS */
		if (ev->has_ts) {
			o[n++] = 4; o[n++] = 2;		/* SACK permitted */
		} else {
			o[n++] = 1; o[n++] = 1; o[n++] = 4; o[n++] = 2;
		}
	} else if (ev->has_ts) {
		o[n++] = 1; o[n++] = 1;
	}
	if (ev->has_ts) {
		o[n++] = 8; o[n++] = 10;
		w32(o + n, ev->tsval); n += 4;
		w32(o + n, ev->tsecr); n += 4;
	}
	if (ev->flags & TCPF_SYN) {
		o[n++] = 1; o[n++] = 3; o[n++] = 3; o[n++] = 7;	/* WS 7 */
	}
	return n;
}

size_t
pcapw_build_frame(int linktype, const struct tcp_event *ev,
    const struct pcapw_opts *opts, uint8_t *buf, size_t buflen)
{
	static const struct pcapw_opts none;
	const struct pcapw_opts *o = opts ? opts : &none;
	uint16_t ethertype = ev->family == 6 ? 0x86dd : 0x0800;
	uint8_t *ip, *th, opt[40];
	size_t off, iphl, extl = 0, optl, tcpl, pay, total, i;
	uint32_t s;

	if (ev->family != 4 && ev->family != 6)
		return 0;
	if ((linktype == DLT_IPV4 && ev->family != 4) ||
	    (linktype == DLT_IPV6 && ev->family != 6))
		return 0;
	if (o->nvlan < 0 || o->nvlan > PCAPW_MAX_VLAN || o->nv6_ext < 0 ||
	    o->nv6_ext > PCAPW_MAX_V6_EXT)
		return 0;
	if (ev->family == 6)
		for (i = 0; i < (size_t)o->nv6_ext; i++)
			extl += o->v6_ext[i] == 51 ? 16 : 8;
	optl = tcp_options(ev, opt);
	tcpl = 20 + optl;
	pay = o->no_payload_bytes ? 0 : ev->payload_len;
	iphl = ev->family == 4 ? 20 : 40 + extl;
	off = pcapw_ip_offset(linktype, o);
	total = off + iphl + tcpl + pay;
	if (total > buflen)
		return 0;
	memset(buf, 0, total);

	/* Link header. */
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2: {
		size_t type_at, tag_at;

		if (linktype == DLT_EN10MB) {
			static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2,
			    2, 0, 0, 0, 0, 1 };

			memcpy(buf, macs, 12);
			type_at = 12;
			tag_at = 14;
		} else if (linktype == DLT_LINUX_SLL) {
			w16(buf + 2, 1);	/* ARPHRD_ETHER */
			w16(buf + 4, 6);
			buf[6] = 2;
			buf[11] = 1;
			type_at = 14;
			tag_at = 16;
		} else {
			w32(buf + 4, 1);	/* ifindex */
			w16(buf + 8, 1);	/* ARPHRD_ETHER */
			buf[11] = 6;
			buf[12] = 2;
			buf[17] = 1;
			type_at = 0;
			tag_at = 20;
		}
		for (i = 0; i < (size_t)o->nvlan; i++) {
			w16(buf + type_at, o->vlan_tpid[i] ? o->vlan_tpid[i] :
			    0x8100);
			w16(buf + tag_at, o->vlan_id[i] & 0x0fff);
			type_at = tag_at + 2;
			tag_at += 4;
		}
		w16(buf + type_at, ethertype);
		break;
	}
	case DLT_NULL:
	case DLT_LOOP: {
		uint32_t af = ev->family == 4 ? 2 :
		    (o->null_af6 ? o->null_af6 : 24);
		int be = linktype == DLT_LOOP;

		if (o->null_swap)
			be = !be;
		if (be)
			w32(buf, af);
		else {
			buf[0] = (uint8_t)af;
			buf[1] = (uint8_t)(af >> 8);
			buf[2] = (uint8_t)(af >> 16);
			buf[3] = (uint8_t)(af >> 24);
		}
		break;
	}
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		break;
	default:
		return 0;
	}

	/* IP header. */
	ip = buf + off;
	th = ip + iphl;
	if (ev->family == 4) {
		ip[0] = 0x45;
		w16(ip + 2, (uint16_t)(iphl + tcpl + ev->payload_len));
		w16(ip + 6, 0x4000);	/* DF */
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, ev->src, 4);
		memcpy(ip + 16, ev->dst, 4);
		w16(ip + 10, fold(sum16(ip, 20, 0)));
	} else {
		uint8_t *eh = ip + 40;

		ip[0] = 0x60;
		w16(ip + 4, (uint16_t)(extl + tcpl + ev->payload_len));
		ip[6] = o->nv6_ext > 0 ? o->v6_ext[0] : 6;
		ip[7] = 64;
		memcpy(ip + 8, ev->src, 16);
		memcpy(ip + 24, ev->dst, 16);
		for (i = 0; i < (size_t)o->nv6_ext; i++) {
			uint8_t type = o->v6_ext[i];

			eh[0] = i + 1 < (size_t)o->nv6_ext ? o->v6_ext[i + 1] : 6;
			if (type == 51) {
				eh[1] = 2;	/* (2 + 2) * 4 = 16 bytes */
				eh += 16;
			} else {
				if (type == 44)
					w32(eh + 4, 0x12345678);	/* id */
				eh += 8;
			}
		}
	}

	/* TCP header, options, payload (zeros), checksum. */
	w16(th, ev->sport);
	w16(th + 2, ev->dport);
	w32(th + 4, ev->seq);
	w32(th + 8, ev->ack);
	th[12] = (uint8_t)((tcpl / 4) << 4);
	th[13] = ev->flags;
	w16(th + 14, 64240);
	memcpy(th + 20, opt, optl);
	if (ev->family == 4)
		s = sum16(ip + 12, 8, 0);
	else
		s = sum16(ip + 8, 32, 0);
	s += 6 + (uint32_t)(tcpl + ev->payload_len);
	s = sum16(th, tcpl + pay, s);
	w16(th + 16, fold(s));
	return total;
}
