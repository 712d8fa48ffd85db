/*
 * The live sampler (see sampler.h): libpcap capture thread -> bounded
 * ring -> one consumer (live mode's model thread).
 *
 * Why the pieces look as they do:
 *
 * - The BPF filter does the sampling, so unsampled clients cost the
 *   kernel a few instructions and never a copy. It is built with libpcap
 *   keywords only: on Linux the kernel strips VLAN tags before a packet
 *   socket's filter runs (offload; libpcap tests tags through BPF
 *   extensions), so the IP header sits right after the link header.
 *
 * - Loopback on "any": lo hands every packet to the packet taps twice,
 *   once going out (PACKET_OUTGOING) and once coming in (PACKET_HOST).
 *   libpcap 1.10 drops the outgoing copy itself, but only in userspace,
 *   after the kernel copied it into the ring. We capture "any" as SLL2
 *   and drop "pkttype == OUTGOING and ifindex == lo" in the kernel filter:
 *   libpcap maps SLL2 pkttype (link[10]) and ifindex (link[4:4]) to the
 *   SKF_AD_PKTTYPE/SKF_AD_IFINDEX extensions. (The SLL2 hatype field,
 *   link[8:2], is not mapped by libpcap 1.10.3: a filter using it falls
 *   back to filtering everything in userspace — measured.) The capture
 *   callback checks again (SLL and SLL2 headers), so a libpcap that
 *   passes both copies still counts each packet once.
 *
 * - One capture thread polls every handle (non-blocking, TPACKET_V3
 *   blocks retired at least every SAMPLER_TIMEOUT_MS), decodes frames
 *   and pushes fixed-size events into a single-producer single-consumer
 *   ring; when the ring is full the event is dropped and counted. A pcap
 *   error closes the handle, which is reopened with backoff.
 *
 * - The sampler knows no model: the consumer decides directions and runs
 *   the models (live.c).
 */
#include "collectors/sampler.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define SLL_PKTTYPE_OUTGOING	4
#define ARPHRD_LOOPBACK_VAL	772

static const char *const state_names[SAMPLER_NSTATES] = {
	"ok", "unavailable", "failed",
};

const char *
sampler_state_name(enum sampler_state s)
{
	return (unsigned)s < SAMPLER_NSTATES ? state_names[s] : "unknown";
}

/* ---------------------------------------------------------------------
 * Addresses
 */

int
sampler_addr_parse(const char *s, struct sampler_addr *out)
{
	char buf[INET6_ADDRSTRLEN + 32];
	size_t n = strnlen(s, sizeof(buf));
	char *pct;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	if ((pct = strchr(buf, '%')) != NULL)
		*pct = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = 6;
		return 0;
	}
	return -1;
}

void
sampler_addr_format(const struct sampler_addr *a, char *out, size_t outlen)
{
	if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, out,
	    (socklen_t)outlen) == NULL && outlen > 0)
		out[0] = '\0';
}

static bool
addr_eq(const struct sampler_addr *a, uint8_t family, const uint8_t *addr)
{
	return a->family == family &&
	    memcmp(a->addr, addr, family == 4 ? 4 : 16) == 0;
}

/* ---------------------------------------------------------------------
 * Filter
 */


/* Next headers the decoder walks as IPv6 extension headers. */
static const unsigned ipv6_ext[] = { 0, 43, 44, 51, 60, 135, 139, 140 };

/* "(P dst host A or P dst host B ...)" over the servers of FAMILY. */
static void
sb_hosts(struct sbuf *sb, const struct sampler_addr *sv, size_t n,
    uint8_t family, const char *dir)
{
	const char *proto = family == 4 ? "ip" : "ip6";
	bool first = true;
	char a[INET6_ADDRSTRLEN];

	sb_add(sb, "(");
	for (size_t i = 0; i < n; i++) {
		if (sv[i].family != family)
			continue;
		sampler_addr_format(&sv[i], a, sizeof(a));
		sb_add(sb, "%s%s %s host %s", first ? "" : " or ", proto, dir,
		    a);
		first = false;
	}
	sb_add(sb, ")");
}

/*
 * The address part for FAMILY: to a server with the client (source) in
 * the sample, or from a server with the client (destination) in it.
 * Client last byte: ip[15] / ip[19], ip6[23] / ip6[39].
 */
static void
sb_sample(struct sbuf *sb, const struct sampler_addr *sv, size_t n,
    uint8_t family, unsigned ratio)
{
	const char *proto = family == 4 ? "ip" : "ip6";
	unsigned src_last = family == 4 ? 15 : 23;
	unsigned dst_last = family == 4 ? 19 : 39;

	if (ratio <= 1) {
		sb_add(sb, "(");
		sb_hosts(sb, sv, n, family, "dst");
		sb_add(sb, " or ");
		sb_hosts(sb, sv, n, family, "src");
		sb_add(sb, ")");
		return;
	}
	sb_add(sb, "((");
	sb_hosts(sb, sv, n, family, "dst");
	sb_add(sb, " and %s[%u] & %u == 0) or (", proto, src_last, ratio - 1);
	sb_hosts(sb, sv, n, family, "src");
	sb_add(sb, " and %s[%u] & %u == 0))", proto, dst_last, ratio - 1);
}

int
sampler_filter_build(int linktype, const struct sampler_addr *servers,
    size_t nservers, unsigned ratio, int lo_ifindex, char *out,
    size_t outlen)
{
	struct sbuf sb = { out, 0, outlen, 0 };
	bool has4 = false, has6 = false;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (ratio == 0 || ratio > SAMPLER_MAX_RATIO || (ratio & (ratio - 1)))
		return -1;
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
		break;
	default:
		return -1;
	}
	for (size_t i = 0; i < nservers; i++) {
		has4 |= servers[i].family == 4;
		has6 |= servers[i].family == 6;
	}
	if (!has4 && !has6)
		return -1;

	if (linktype == DLT_LINUX_SLL2 && lo_ifindex > 0)
		sb_add(&sb, "not (link[10] == %d and link[4:4] == %d) and (",
		    SLL_PKTTYPE_OUTGOING, lo_ifindex);
	else
		sb_add(&sb, "(");
	if (has4) {
		sb_add(&sb, "(ip and tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst)"
		    " != 0 and ");
		sb_sample(&sb, servers, nservers, 4, ratio);
		sb_add(&sb, ")");
	}
	if (has6) {
		sb_add(&sb, "%s(ip6 and ((ip6[6] == 6 and ip6[53] & 7 != 0)",
		    has4 ? " or " : "");
		for (size_t i = 0; i < sizeof(ipv6_ext) / sizeof(ipv6_ext[0]); i++)
			sb_add(&sb, " or ip6[6] == %u", ipv6_ext[i]);
		sb_add(&sb, ") and ");
		sb_sample(&sb, servers, nservers, 6, ratio);
		sb_add(&sb, ")");
	}
	sb_add(&sb, ")");
	if (sb.overflow) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int
sampler_loopback_duplicate(int linktype, const uint8_t *f, size_t caplen,
    int lo_ifindex)
{
	if (linktype == DLT_LINUX_SLL) {
		if (caplen < 16)
			return 0;
		return ((f[0] << 8) | f[1]) == SLL_PKTTYPE_OUTGOING &&
		    ((f[2] << 8) | f[3]) == ARPHRD_LOOPBACK_VAL;
	}
	if (linktype == DLT_LINUX_SLL2) {
		uint32_t ifindex;

		if (caplen < 20 || f[10] != SLL_PKTTYPE_OUTGOING)
			return 0;
		ifindex = (uint32_t)f[4] << 24 | (uint32_t)f[5] << 16 |
		    (uint32_t)f[6] << 8 | f[7];
		return ((f[8] << 8) | f[9]) == ARPHRD_LOOPBACK_VAL ||
		    (lo_ifindex > 0 && ifindex == (uint32_t)lo_ifindex);
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Ring: single producer (capture thread), single consumer (model thread).
 * head is written by the producer only, tail by the consumer only.
 */

struct sampler_ring {
	_Alignas(64) _Atomic uint64_t head;
	_Alignas(64) _Atomic uint64_t tail;
	_Alignas(64) _Atomic uint64_t dropped;
	size_t mask;
	struct tcp_event *slot;
};

struct sampler_ring *
sampler_ring_new(size_t slots)
{
	struct sampler_ring *r;
	size_t cap = 2;

	if (slots > ((size_t)1 << 24))
		return NULL;
	while (cap < slots)
		cap <<= 1;
	if ((r = aligned_alloc(64, sizeof(*r))) == NULL)
		return NULL;
	memset(r, 0, sizeof(*r));
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	atomic_init(&r->dropped, 0);
	r->mask = cap - 1;
	if ((r->slot = calloc(cap, sizeof(*r->slot))) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
sampler_ring_free(struct sampler_ring *r)
{
	if (r == NULL)
		return;
	free(r->slot);
	free(r);
}

size_t
sampler_ring_capacity(const struct sampler_ring *r)
{
	return r->mask + 1;
}

int
sampler_ring_push(struct sampler_ring *r, const struct tcp_event *ev)
{
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (h - t > r->mask) {
		atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
		return -1;
	}
	r->slot[h & r->mask] = *ev;
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
	return 0;
}

int
sampler_ring_pop(struct sampler_ring *r, struct tcp_event *ev)
{
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);

	if (t == h)
		return 0;
	*ev = r->slot[t & r->mask];
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	return 1;
}

uint64_t
sampler_ring_dropped(const struct sampler_ring *r)
{
	return atomic_load_explicit(&r->dropped, memory_order_relaxed);
}

/* ---------------------------------------------------------------------
 * The sampler
 */

struct handle {
	char name[IF_NAMESIZE + 8];
	pcap_t *p;
	int fd;
	int linktype;
	double retry_at;		/* monotonic */
	double backoff;
	uint64_t recv_closed, drop_closed;	/* from closed handles */
	uint64_t recv, drop;		/* current handle */
	char error[SAMPLER_ERR_LEN];	/* last open/capture error */
};

/* Counters the capture thread publishes. */
struct capture_pub {
	uint64_t packets, events, skipped[PACKET_SKIP_COUNT];
	uint64_t loopback_duplicates, kernel_received, kernel_dropped;
	uint64_t reopens, capture_errors;
	unsigned interfaces_open;
	int linktype;
	char error[SAMPLER_ERR_LEN];
};

struct sampler {
	struct sampler_config cfg;
	char ifname[SAMPLER_MAX_INTERFACES][IF_NAMESIZE + 8];
	struct sampler_addr server[SAMPLER_MAX_SERVERS];
	size_t nservers;

	struct handle h[SAMPLER_MAX_INTERFACES];
	unsigned nh;
	/* lo's ifindex, resolved once in sampler_start(): a reopen on the
	 * capture thread makes no library lookup (if_nametoindex() opens an
	 * AF_UNIX socket, which the capture thread's seccomp role refuses). */
	int lo_ifindex;
	struct sampler_ring *ring;

	pthread_t capture_thr;
	bool capture_started, started;
	bool capture_joined;
	_Atomic bool stop;
	double started_mono;

	/* Wake-up of the consumer when it sleeps on an empty ring. */
	pthread_mutex_t wake_lock;
	pthread_cond_t wake;
	bool wake_pending;		/* wake_lock */
	_Atomic bool consumer_sleeping;

	/* Capture thread state (published into pub). */
	struct capture_pub cap;

	/* Published figures. */
	pthread_mutex_t lock;
	struct capture_pub pub_cap;
	char filter[SAMPLER_FILTER_MAX];
	enum sampler_state fixed_state;	/* when not running */
	char fixed_error[SAMPLER_ERR_LEN];
	bool running;
};

struct sampler_config
sampler_config_default(void)
{
	struct sampler_config c;

	memset(&c, 0, sizeof(c));
	c.enabled = true;
	c.ratio = 1;
	return c;
}

static void
copy_str(char *dst, size_t dstlen, const char *src)
{
	size_t n = strnlen(src, dstlen - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

struct sampler *
sampler_new(const struct sampler_config *cfg, char *err, size_t errlen)
{
	struct sampler *s;
	unsigned r = cfg->ratio;

	if (r == 0 || r > SAMPLER_MAX_RATIO || (r & (r - 1)) != 0) {
		set_error(err, errlen, "--sampler.ratio=%u: must be a power "
		    "of two from 1 to %d", r, SAMPLER_MAX_RATIO);
		return NULL;
	}
	if (cfg->ninterfaces > SAMPLER_MAX_INTERFACES) {
		set_error(err, errlen, "too many interfaces (max %d)",
		    SAMPLER_MAX_INTERFACES);
		return NULL;
	}
	if (cfg->nservers > SAMPLER_MAX_SERVERS) {
		set_error(err, errlen, "too many server addresses (max %d)",
		    SAMPLER_MAX_SERVERS);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		set_error(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	for (unsigned i = 0; i < cfg->ninterfaces; i++) {
		if (cfg->interface[i] == NULL || cfg->interface[i][0] == '\0' ||
		    strlen(cfg->interface[i]) >= IF_NAMESIZE) {
			set_error(err, errlen, "--sampler.interface: bad "
			    "interface name '%s'", cfg->interface[i] ?
			    cfg->interface[i] : "");
			free(s);
			return NULL;
		}
		copy_str(s->ifname[i], sizeof(s->ifname[i]), cfg->interface[i]);
		s->cfg.interface[i] = s->ifname[i];
	}
	if (cfg->ninterfaces == 0) {
		copy_str(s->ifname[0], sizeof(s->ifname[0]), "any");
		s->cfg.interface[0] = s->ifname[0];
		s->cfg.ninterfaces = 1;
	}
	for (unsigned i = 0; i < cfg->nservers; i++) {
		if (cfg->server[i] == NULL ||
		    sampler_addr_parse(cfg->server[i], &s->server[i]) < 0) {
			set_error(err, errlen, "--sampler.server: '%s' is not "
			    "an IPv4 or IPv6 address", cfg->server[i] ?
			    cfg->server[i] : "");
			free(s);
			return NULL;
		}
		s->cfg.server[i] = NULL;	/* not kept: parsed */
	}
	s->nservers = cfg->nservers;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->wake_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s->wake, &ca);
		pthread_condattr_destroy(&ca);
	}
	atomic_init(&s->stop, false);
	atomic_init(&s->consumer_sleeping, false);
	if (!cfg->enabled) {
		s->fixed_state = SAMPLER_UNAVAILABLE;
		set_error(s->fixed_error, sizeof(s->fixed_error),
		    "sampler disabled (--sampler.enabled=false)");
	} else {
		s->fixed_state = SAMPLER_FAILED;
		set_error(s->fixed_error, sizeof(s->fixed_error),
		    "sampler not started");
	}
	return s;
}

/* Every local address (getifaddrs), link-local IPv6 last to go. */
static int
local_addresses(struct sampler *s, char *err, size_t errlen)
{
	struct ifaddrs *ifa, *i;
	struct sampler_addr all[4 * SAMPLER_MAX_SERVERS];
	size_t n = 0, total = 0;

	if (getifaddrs(&ifa) < 0) {
		set_error(err, errlen, "getifaddrs: %s", strerror(errno));
		return -1;
	}
	for (i = ifa; i != NULL; i = i->ifa_next) {
		struct sampler_addr a;
		bool dup = false;

		if (i->ifa_addr == NULL)
			continue;
		memset(&a, 0, sizeof(a));
		if (i->ifa_addr->sa_family == AF_INET) {
			a.family = 4;
			memcpy(a.addr, &((struct sockaddr_in *)(void *)
			    i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a.family = 6;
			memcpy(a.addr, &((struct sockaddr_in6 *)(void *)
			    i->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		for (size_t j = 0; j < n && !dup; j++)
			dup = addr_eq(&all[j], a.family, a.addr);
		if (dup)
			continue;
		total++;
		if (n < sizeof(all) / sizeof(all[0]))
			all[n++] = a;
	}
	freeifaddrs(ifa);
	s->nservers = 0;
	/* Link-local IPv6 addresses only if they fit. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t j = 0; j < n; j++) {
			bool ll = all[j].family == 6 && all[j].addr[0] == 0xfe &&
			    (all[j].addr[1] & 0xc0) == 0x80;

			if (ll != (pass == 1))
				continue;
			if (s->nservers == SAMPLER_MAX_SERVERS) {
				if (pass == 0) {
					set_error(err, errlen, "the host has "
					    "%zu local addresses, more than "
					    "%d: name the server addresses with "
					    "--sampler.server", total,
					    SAMPLER_MAX_SERVERS);
					return -1;
				}
				break;
			}
			s->server[s->nservers++] = all[j];
		}
	}
	if (s->nservers == 0) {
		set_error(err, errlen, "no local address to watch");
		return -1;
	}
	return 0;
}

/* Capture thread: open or reopen handle H. 0, or -1 with h->error and
 * *PERM set when it is a permission problem. */
static int
handle_open(struct sampler *s, struct handle *h, bool *perm)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	pcap_t *p;
	int rc;

	*perm = false;
	ebuf[0] = '\0';
	if ((p = pcap_create(h->name, ebuf)) == NULL) {
		set_error(h->error, sizeof(h->error), "%s: %s", h->name, ebuf);
		return -1;
	}
	pcap_set_snaplen(p, SAMPLER_SNAPLEN);
	pcap_set_promisc(p, 0);
	pcap_set_timeout(p, SAMPLER_TIMEOUT_MS);
	pcap_set_buffer_size(p, SAMPLER_BUFFER_BYTES);
	rc = pcap_activate(p);
	if (rc < 0) {
		const char *why = pcap_geterr(p);

		if (rc == PCAP_ERROR_PERM_DENIED) {
			*perm = true;
			set_error(h->error, sizeof(h->error), "%s: no permission "
			    "to capture (needs CAP_NET_RAW): %s", h->name, why);
		} else if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
			set_error(h->error, sizeof(h->error), "%s: no such "
			    "interface", h->name);
		} else if (rc == PCAP_ERROR_IFACE_NOT_UP) {
			set_error(h->error, sizeof(h->error), "%s: interface "
			    "is down", h->name);
		} else {
			set_error(h->error, sizeof(h->error), "%s: %s: %s",
			    h->name, pcap_statustostr(rc), why);
		}
		pcap_close(p);
		return -1;
	}
	/* Cooked captures: prefer SLL2, which carries the ifindex. */
	if (pcap_datalink(p) == DLT_LINUX_SLL) {
		int *dl = NULL, n = pcap_list_datalinks(p, &dl);

		for (int i = 0; i < n; i++)
			if (dl[i] == DLT_LINUX_SLL2) {
				pcap_set_datalink(p, DLT_LINUX_SLL2);
				break;
			}
		if (n > 0)
			pcap_free_datalinks(dl);
	}
	h->linktype = pcap_datalink(p);
	pthread_mutex_lock(&s->lock);
	rc = sampler_filter_build(h->linktype, s->server, s->nservers,
	    s->cfg.ratio, h->linktype == DLT_LINUX_SLL2 ? s->lo_ifindex : 0,
	    s->filter, sizeof(s->filter));
	if (rc < 0) {
		pthread_mutex_unlock(&s->lock);
		set_error(h->error, sizeof(h->error), "%s: cannot build a "
		    "filter for link type %s", h->name,
		    pcap_datalink_val_to_name(h->linktype) ?
		    pcap_datalink_val_to_name(h->linktype) : "?");
		pcap_close(p);
		return -1;
	}
	rc = pcap_compile(p, &prog, s->filter, 1, PCAP_NETMASK_UNKNOWN);
	pthread_mutex_unlock(&s->lock);
	if (rc < 0) {
		set_error(h->error, sizeof(h->error), "%s: filter: %s",
		    h->name, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	rc = pcap_setfilter(p, &prog);
	pcap_freecode(&prog);
	if (rc < 0 || pcap_setnonblock(p, 1, ebuf) < 0 ||
	    (h->fd = pcap_get_selectable_fd(p)) < 0) {
		set_error(h->error, sizeof(h->error), "%s: %s", h->name,
		    rc < 0 ? pcap_geterr(p) : "no selectable descriptor");
		pcap_close(p);
		return -1;
	}
	h->p = p;
	h->recv = h->drop = 0;
	h->error[0] = '\0';
	h->backoff = SAMPLER_REOPEN_MIN_S;
	return 0;
}

static void
handle_stats(struct handle *h)
{
	struct pcap_stat ps;

	if (h->p != NULL && pcap_stats(h->p, &ps) == 0) {
		h->recv = ps.ps_recv;
		h->drop = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
	}
}

static void
handle_close(struct handle *h)
{
	if (h->p == NULL)
		return;
	handle_stats(h);
	h->recv_closed += h->recv;
	h->drop_closed += h->drop;
	h->recv = h->drop = 0;
	pcap_close(h->p);
	h->p = NULL;
	h->fd = -1;
}

/* Retry later, doubling the wait. */
static void
handle_backoff(struct handle *h, double now)
{
	h->retry_at = now + h->backoff;
	h->backoff *= 2;
	if (h->backoff > SAMPLER_REOPEN_MAX_S)
		h->backoff = SAMPLER_REOPEN_MAX_S;
}

struct cb_arg {
	struct sampler *s;
	struct handle *h;
	uint64_t pushed;
};

static void
on_packet(u_char *user, const struct pcap_pkthdr *ph, const u_char *bytes)
{
	struct cb_arg *a = (struct cb_arg *)(void *)user;
	struct capture_pub *c = &a->s->cap;
	struct tcp_event ev;
	enum packet_skip why = PACKET_SKIP_NONE;
	uint64_t t = (uint64_t)ph->ts.tv_sec * 1000000u +
	    (uint64_t)ph->ts.tv_usec;

	if (sampler_loopback_duplicate(a->h->linktype, bytes, ph->caplen,
	    a->s->lo_ifindex)) {
		c->loopback_duplicates++;
		return;
	}
	c->packets++;
	if (!packet_decode(a->h->linktype, bytes, ph->caplen, ph->len, t, &ev,
	    &why)) {
		c->skipped[why < PACKET_SKIP_COUNT ? why : 0]++;
		return;
	}
	if ((ev.flags & (TCPF_SYN | TCPF_FIN | TCPF_RST)) == 0) {
		c->skipped[PACKET_SKIP_NOT_SYN_FIN_RST]++;
		return;
	}
	c->events++;
	if (sampler_ring_push(a->s->ring, &ev) == 0)
		a->pushed++;
}

static void
wake_consumer(struct sampler *s)
{
	if (atomic_load(&s->consumer_sleeping))
		sampler_wake(s);
}

static void
capture_publish(struct sampler *s)
{
	struct capture_pub *c = &s->cap;
	unsigned open = 0;
	const char *err = NULL;

	c->kernel_received = c->kernel_dropped = 0;
	c->linktype = -1;
	for (unsigned i = 0; i < s->nh; i++) {
		struct handle *h = &s->h[i];

		c->kernel_received += h->recv_closed + h->recv;
		c->kernel_dropped += h->drop_closed + h->drop;
		if (h->p != NULL) {
			open++;
			if (c->linktype < 0)
				c->linktype = h->linktype;
		} else if (err == NULL && h->error[0] != '\0') {
			err = h->error;
		}
	}
	c->interfaces_open = open;
	if (err != NULL)
		set_error(c->error, sizeof(c->error), "%s%s", err,
		    open == 0 ? "; retrying" : "");
	else
		c->error[0] = '\0';
	pthread_mutex_lock(&s->lock);
	s->pub_cap = *c;
	pthread_mutex_unlock(&s->lock);
}

static void *
capture_main(void *arg)
{
	struct sampler *s = arg;
	struct pollfd pfd[SAMPLER_MAX_INTERFACES];
	unsigned idx[SAMPLER_MAX_INTERFACES];
	double last_stats = 0;

	/* Named, so ps, /proc and seccomp_profile.sh can tell the roles. */
	pthread_setname_np(pthread_self(), "tw-capture");
	while (!atomic_load(&s->stop)) {
		double now = now_monotonic();
		unsigned n = 0;
		uint64_t pushed = 0;
		int rc;

		if (s->cfg.thread_hook != NULL)
			s->cfg.thread_hook(SAMPLER_THREAD_CAPTURE);

		for (unsigned i = 0; i < s->nh; i++) {
			struct handle *h = &s->h[i];
			bool perm;

			if (h->p == NULL && now >= h->retry_at) {
				if (handle_open(s, h, &perm) == 0)
					s->cap.reopens++;
				else
					handle_backoff(h, now);
			}
			if (h->p != NULL) {
				pfd[n].fd = h->fd;
				pfd[n].events = POLLIN;
				pfd[n].revents = 0;
				idx[n++] = i;
			}
		}
		rc = poll(pfd, n, 200);
		for (unsigned k = 0; rc > 0 && k < n; k++) {
			struct handle *h = &s->h[idx[k]];
			struct cb_arg a = { s, h, 0 };
			int got;

			if (pfd[k].revents == 0)
				continue;
			got = pcap_dispatch(h->p, 4096, on_packet, (u_char *)&a);
			pushed += a.pushed;
			if (got < 0 || (got == 0 && (pfd[k].revents &
			    (POLLERR | POLLHUP | POLLNVAL)))) {
				s->cap.capture_errors++;
				set_error(h->error, sizeof(h->error), "%s: %s",
				    h->name, got < 0 ? pcap_geterr(h->p) :
				    "capture socket error");
				handle_close(h);
				handle_backoff(h, now);
			}
		}
		if (pushed > 0)
			wake_consumer(s);
		if (now - last_stats >= 0.2) {
			for (unsigned i = 0; i < s->nh; i++)
				handle_stats(&s->h[i]);
			last_stats = now;
			capture_publish(s);
		}
	}
	capture_publish(s);
	return NULL;
}

static int
start_fail(struct sampler *s, enum sampler_state st, const char *msg,
    char *err, size_t errlen)
{
	s->fixed_state = st;
	copy_str(s->fixed_error, sizeof(s->fixed_error), msg);
	set_error(err, errlen, "%s", msg);
	return -1;
}

int
sampler_start(struct sampler *s, char *err, size_t errlen)
{
	char msg[SAMPLER_ERR_LEN];
	bool perm = false;
	double now = now_monotonic();
	int rc;

	if (s->started)
		return start_fail(s, s->fixed_state, "sampler already started",
		    err, errlen);
	s->started = true;
	if (!s->cfg.enabled)
		return start_fail(s, SAMPLER_UNAVAILABLE, s->fixed_error, err,
		    errlen);
	if (s->nservers == 0 && local_addresses(s, msg, sizeof(msg)) < 0)
		return start_fail(s, SAMPLER_FAILED, msg, err, errlen);

	s->ring = sampler_ring_new(s->cfg.ring_slots ? s->cfg.ring_slots :
	    SAMPLER_DEFAULT_RING);
	if (s->ring == NULL)
		return start_fail(s, SAMPLER_FAILED, "out of memory", err,
		    errlen);

	/* Before any thread and any sandbox: see lo_ifindex. 0 (no lo)
	 * only loses the in-kernel duplicate test; the callback's SLL
	 * check remains. */
	s->lo_ifindex = (int)if_nametoindex("lo");
	/* Open every handle once here, so permission problems are known. */
	s->nh = s->cfg.ninterfaces;
	for (unsigned i = 0; i < s->nh; i++) {
		struct handle *h = &s->h[i];

		copy_str(h->name, sizeof(h->name), s->ifname[i]);
		h->fd = -1;
		h->backoff = SAMPLER_REOPEN_MIN_S;
		if (handle_open(s, h, &perm) == 0)
			continue;
		if (perm) {
			copy_str(msg, sizeof(msg), h->error);
			for (unsigned j = 0; j < i; j++)
				handle_close(&s->h[j]);
			return start_fail(s, SAMPLER_UNAVAILABLE, msg, err,
			    errlen);
		}
		handle_backoff(h, now);
	}
	s->started_mono = now;
	capture_publish(s);

	if ((rc = pthread_create(&s->capture_thr, NULL, capture_main, s)) != 0) {
		set_error(msg, sizeof(msg), "cannot start the capture thread: "
		    "%s", strerror(rc));
		for (unsigned i = 0; i < s->nh; i++)
			handle_close(&s->h[i]);
		return start_fail(s, SAMPLER_FAILED, msg, err, errlen);
	}
	s->capture_started = true;
	pthread_mutex_lock(&s->lock);
	s->running = true;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void
sampler_read(struct sampler *s, struct sampler_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->ratio = s->cfg.ratio;
	pthread_mutex_lock(&s->lock);
	if (s->running || s->capture_started) {
		const struct capture_pub *c = &s->pub_cap;

		out->packets = c->packets;
		out->events = c->events;
		memcpy(out->skipped, c->skipped, sizeof(out->skipped));
		out->loopback_duplicates = c->loopback_duplicates;
		out->kernel_received = c->kernel_received;
		out->kernel_dropped = c->kernel_dropped;
		out->reopens = c->reopens;
		out->capture_errors = c->capture_errors;
		out->interfaces = s->nh;
		out->interfaces_open = c->interfaces_open;
		out->linktype = c->linktype;
		out->ring_dropped = s->ring ? sampler_ring_dropped(s->ring) : 0;
		out->uptime_s = now_monotonic() - s->started_mono;
		out->state = c->interfaces_open > 0 ? SAMPLER_OK :
		    SAMPLER_FAILED;
		copy_str(out->error, sizeof(out->error), c->error);
		if (out->state == SAMPLER_FAILED && out->error[0] == '\0')
			copy_str(out->error, sizeof(out->error),
			    "no interface open");
	} else {
		out->state = s->fixed_state;
		copy_str(out->error, sizeof(out->error), s->fixed_error);
		out->interfaces = s->cfg.ninterfaces;
		out->linktype = -1;
	}
	pthread_mutex_unlock(&s->lock);
}

size_t
sampler_servers(const struct sampler *s, const struct sampler_addr **out)
{
	*out = s->server;
	return s->ring != NULL ? s->nservers : 0;
}

int
sampler_next(struct sampler *s, struct tcp_event *ev)
{
	return s->ring != NULL && sampler_ring_pop(s->ring, ev);
}

int
sampler_wait(struct sampler *s, struct tcp_event *ev, int timeout_ms)
{
	struct timespec ts;

	atomic_store(&s->consumer_sleeping, true);
	if (sampler_next(s, ev)) {
		atomic_store(&s->consumer_sleeping, false);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->wake_lock);
	if (!s->wake_pending)
		pthread_cond_timedwait(&s->wake, &s->wake_lock, &ts);
	s->wake_pending = false;
	pthread_mutex_unlock(&s->wake_lock);
	atomic_store(&s->consumer_sleeping, false);
	return 0;
}

void
sampler_wake(struct sampler *s)
{
	pthread_mutex_lock(&s->wake_lock);
	s->wake_pending = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->wake_lock);
}

void
sampler_filter(struct sampler *s, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	pthread_mutex_lock(&s->lock);
	copy_str(out, outlen, s->filter);
	pthread_mutex_unlock(&s->lock);
}

void
sampler_stop(struct sampler *s)
{
	if (s == NULL)
		return;
	atomic_store(&s->stop, true);
	if (s->capture_started && !s->capture_joined) {
		pthread_join(s->capture_thr, NULL);
		s->capture_joined = true;
	}
	for (unsigned i = 0; i < s->nh; i++)
		handle_close(&s->h[i]);
}

void
sampler_free(struct sampler *s)
{
	if (s == NULL)
		return;
	sampler_stop(s);
	sampler_ring_free(s->ring);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->wake_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
