/*
 * The live sampler (see sampler.h): libpcap capture thread -> bounded
 * ring -> model thread.
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
 * - The model thread owns the models; it alone decides directions, since
 *   the local<->local direction cache is its state.
 */
#include "sampler.h"

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

#include "util.h"

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

/* Local<->local direction cache entry (canonical order a < b). */
struct flow {
	uint8_t used, family, client_is_a;
	uint8_t a[16], b[16];
	uint16_t pa, pb;
};

/* Per-second cumulative rejections, for the per-minute rate. */
#define RATE_SLOTS 64
/* Events per model_feed_many() run on the model thread (on its stack). */
#define SAMPLER_MODEL_RUN 256
struct rate_point {
	double t;
	uint64_t main, whatif[SAMPLER_MAX_WHATIF];
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

	pthread_t capture_thr, model_thr;
	bool capture_started, model_started, started;
	bool capture_joined, model_joined;
	_Atomic bool stop;
	double started_mono;

	/* Wake-up of the model thread when it sleeps on an empty ring. */
	pthread_mutex_t wake_lock;
	pthread_cond_t wake;
	_Atomic bool consumer_sleeping;

	/* Settings requests (any thread) -> model thread. */
	pthread_mutex_t set_lock;
	int32_t want_setting[MODEL_NSETTINGS];
	_Atomic unsigned set_gen;

	/* Kernel peers to compare (any thread) -> model thread; set_lock. */
	struct sampler_kpeer *kin;	/* SAMPLER_TCPM_PEERS */
	size_t nkin;
	bool kin_set, kin_complete;
	double kin_at;
	_Atomic unsigned kp_gen;

	/* Model thread state. */
	struct model *model;
	struct model *whatif[SAMPLER_MAX_WHATIF];
	int32_t setting[MODEL_NSETTINGS];
	int32_t wsetting[SAMPLER_MAX_WHATIF][MODEL_NSETTINGS];
	uint64_t settings_changes;
	struct sampler_kpeer *kcmp;	/* SAMPLER_TCPM_PEERS */
	size_t nkcmp;
	bool kpending;			/* kcmp waits for the model */
	double kat;			/* its dump time (wall) */
	uint64_t kat_us;
	double started_wall;
	struct sampler_agreement agree;
	struct model_stats base;	/* cumulative figures of old models */
	struct flow *flows;
	struct rate_point rate[RATE_SLOTS];
	unsigned nrate, rate_next;
	struct model_source *scan;	/* SAMPLER_NAT_SCAN */
	uint64_t fed, unsampled, foreign, resets;

	/* Capture thread state (published into pub). */
	struct capture_pub cap;

	/* Published figures. */
	pthread_mutex_t lock;
	struct capture_pub pub_cap;
	struct sampler_stats pub;	/* model part */
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
	c.model = model_config_default();
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
	if (cfg->nwhatif > SAMPLER_MAX_WHATIF) {
		set_error(err, errlen, "too many what-if models (max %d)",
		    SAMPLER_MAX_WHATIF);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		set_error(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->cfg.model.nchanges = 0;
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
	for (int i = 0; i < MODEL_NSETTINGS; i++) {
		s->setting[i] = s->cfg.model.setting[i];
		s->want_setting[i] = s->cfg.model.setting[i];
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->wake_lock, NULL);
	pthread_mutex_init(&s->set_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s->wake, &ca);
		pthread_condattr_destroy(&ca);
	}
	atomic_init(&s->stop, false);
	atomic_init(&s->consumer_sleeping, false);
	atomic_init(&s->set_gen, 0);
	atomic_init(&s->kp_gen, 0);
	for (unsigned i = 0; i < cfg->nwhatif; i++)
		memcpy(s->wsetting[i], cfg->whatif[i].setting,
		    sizeof(s->wsetting[i]));
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
	if (atomic_load(&s->consumer_sleeping)) {
		pthread_mutex_lock(&s->wake_lock);
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->wake_lock);
	}
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

/* ----- model thread ----- */

static struct model *
build_model(struct sampler *s, enum model_profile profile,
    const int32_t setting[MODEL_NSETTINGS], bool keep_version_fix,
    char *err, size_t errlen)
{
	struct model_config mc = s->cfg.model;

	if (!keep_version_fix) {
		/* A what-if model: the profile as released, and a quarter of
		 * the tables (its figures are estimates beside the main one). */
		for (int i = 0; i < MODEL_NBEHAVIOURS; i++)
			mc.version_fix[i] = -1;
		mc.max_peers = mc.max_peers / 4 > 1024 ? mc.max_peers / 4 : 1024;
		mc.max_connections = mc.max_connections / 4 > 1024 ?
		    mc.max_connections / 4 : 1024;
		mc.max_sources = mc.max_sources / 4 > 256 ?
		    mc.max_sources / 4 : 256;
	}
	mc.profile = profile;
	for (int i = 0; i < MODEL_NSETTINGS; i++)
		mc.setting[i] = setting[i];
	mc.nchanges = 0;
	return model_new(&mc, err, errlen);
}

static void
stats_add(struct model_stats *b, const struct model_stats *m)
{
	b->packets += m->packets;
	b->syns += m->syns;
	b->connections += m->connections;
	b->predicted_rejections += m->predicted_rejections;
	for (int i = 0; i < MODEL_NREASONS; i++)
		b->by_reason[i] += m->by_reason[i];
	b->warmup += m->warmup;
	b->observed_unanswered_syns += m->observed_unanswered_syns;
	for (int i = 0; i < MODEL_NTABLES; i++)
		b->evictions[i] += m->evictions[i];
	for (int i = 0; i < MODEL_NCOUNTERS; i++)
		b->counters[i] += m->counters[i];
	b->tw_acks += m->tw_acks;
	b->tw_killed += m->tw_killed;
	b->stamps_written += m->stamps_written;
}

static bool
is_server(const struct sampler *s, uint8_t family, const uint8_t *addr)
{
	for (size_t i = 0; i < s->nservers; i++)
		if (addr_eq(&s->server[i], family, addr))
			return true;
	return false;
}

static uint32_t
flow_hash(const struct flow *f)
{
	uint32_t h = 2166136261u;
	size_t alen = f->family == 4 ? 4 : 16;

	for (size_t i = 0; i < alen; i++)
		h = (h ^ f->a[i]) * 16777619u;
	for (size_t i = 0; i < alen; i++)
		h = (h ^ f->b[i]) * 16777619u;
	h = (h ^ f->pa) * 16777619u;
	h = (h ^ f->pb) * 16777619u;
	return h & (SAMPLER_FLOW_SLOTS - 1);
}

/*
 * Direction of a local<->local segment: learnt from the SYN (its sender
 * is the client) and the SYN-ACK (its receiver is); otherwise the end
 * with the lower port is taken as the server. Returns 1 when the source
 * is the client.
 */
static int
local_direction(struct sampler *s, const struct tcp_event *ev)
{
	struct flow f;
	size_t alen = ev->family == 4 ? 4 : 16;
	int c = memcmp(ev->src, ev->dst, alen);
	bool src_is_a = c < 0 || (c == 0 && ev->sport <= ev->dport);
	struct flow *slot;

	memset(&f, 0, sizeof(f));
	f.family = ev->family;
	memcpy(f.a, src_is_a ? ev->src : ev->dst, alen);
	memcpy(f.b, src_is_a ? ev->dst : ev->src, alen);
	f.pa = src_is_a ? ev->sport : ev->dport;
	f.pb = src_is_a ? ev->dport : ev->sport;
	slot = &s->flows[flow_hash(&f)];
	if ((ev->flags & (TCPF_SYN | TCPF_RST)) == TCPF_SYN) {
		/* SYN: the sender is the client; SYN-ACK: the receiver. */
		bool src_client = (ev->flags & TCPF_ACK) == 0;

		f.used = 1;
		f.client_is_a = src_client == src_is_a;
		*slot = f;
		return src_client;
	}
	if (slot->used && slot->family == f.family && slot->pa == f.pa &&
	    slot->pb == f.pb && memcmp(slot->a, f.a, alen) == 0 &&
	    memcmp(slot->b, f.b, alen) == 0)
		return slot->client_is_a == src_is_a;
	return ev->sport > ev->dport || (ev->sport == ev->dport);
}

static void agree_run(struct sampler *s);

/* Direction and sampling of EV: false when the models do not see it. */
static bool
model_admit(struct sampler *s, struct tcp_event *ev)
{
	bool src_local = is_server(s, ev->family, ev->src);
	bool dst_local = is_server(s, ev->family, ev->dst);
	const uint8_t *client;

	if (src_local && dst_local)
		ev->to_server = (uint8_t)local_direction(s, ev);
	else if (dst_local)
		ev->to_server = 1;
	else if (src_local)
		ev->to_server = 0;
	else {
		s->foreign++;
		return false;
	}
	client = ev->to_server ? ev->src : ev->dst;
	if (!sampler_client_sampled(ev->family, client, s->cfg.ratio)) {
		s->unsampled++;
		return false;
	}
	s->fed++;
	return true;
}

/* EV[0..N) to every model, each model the whole run (model_feed_many
 * prefetches the table lines of later events). */
static void
model_feed_run(struct sampler *s, const struct tcp_event *ev, size_t n)
{
	if (n == 0)
		return;
	model_feed_many(s->model, ev, n, NULL);
	for (unsigned i = 0; i < s->cfg.nwhatif; i++)
		if (s->whatif[i] != NULL)
			model_feed_many(s->whatif[i], ev, n, NULL);
}

/* A comparison waits until the model has every event up to the dump:
 * true when it must run before EV. */
static inline bool
agree_due(const struct sampler *s, const struct tcp_event *ev)
{
	return s->kpending && ev->time_us > s->kat_us;
}

static void
model_event(struct sampler *s, struct tcp_event *ev)
{
	if (agree_due(s, ev))
		agree_run(s);
	if (model_admit(s, ev))
		model_feed_run(s, ev, 1);
}

/*
 * Up to MAX events from the ring, fed in runs of SAMPLER_MODEL_RUN;
 * returns how many were taken.
 */
static unsigned
model_drain(struct sampler *s, unsigned max)
{
	struct tcp_event run[SAMPLER_MODEL_RUN];
	size_t nr = 0;
	unsigned n = 0;

	while (n < max && sampler_ring_pop(s->ring, &run[nr])) {
		n++;
		if (agree_due(s, &run[nr])) {
			model_feed_run(s, run, nr);
			run[0] = run[nr];
			nr = 0;
			agree_run(s);
		}
		if (model_admit(s, &run[nr]) && ++nr == SAMPLER_MODEL_RUN) {
			model_feed_run(s, run, nr);
			nr = 0;
		}
	}
	model_feed_run(s, run, nr);
	return n;
}

/*
 * Live settings changed: apply them to the running models at their
 * current time, as the kernel does (it forgets no peer stamp and no
 * TIME-WAIT when a sysctl changes, §11.1). What-if models take only the
 * settings they follow; their what-if values stay.
 */
static void
apply_settings(struct sampler *s)
{
	int32_t want[MODEL_NSETTINGS];
	bool changed = false;

	pthread_mutex_lock(&s->set_lock);
	memcpy(want, s->want_setting, sizeof(want));
	pthread_mutex_unlock(&s->set_lock);
	for (int k = 0; k < MODEL_NSETTINGS; k++) {
		if (want[k] == s->setting[k] ||
		    model_set_setting(s->model, (enum model_setting)k,
		    want[k]) < 0)
			continue;
		s->setting[k] = want[k];
		changed = true;
		for (unsigned i = 0; i < s->cfg.nwhatif; i++)
			if ((s->cfg.whatif[i].follow & (1u << k)) &&
			    s->whatif[i] != NULL &&
			    model_set_setting(s->whatif[i],
			    (enum model_setting)k, want[k]) == 0)
				s->wsetting[i][k] = want[k];
	}
	if (changed)
		s->settings_changes++;
}

/* ----- the kernel's tcp_metrics table against the model's ----- */

static int
kpeer_cmp(const void *a, const void *b)
{
	const struct sampler_kpeer *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if ((c = memcmp(x->client, y->client, 16)) != 0)
		return c;
	return memcmp(x->server, y->server, 16);
}

struct agree_walk {
	const struct sampler_agree_in *in;
	const struct sampler_kpeer *k;
	size_t nk;
	struct sampler_agreement *out;
};

static bool
agree_keep(const struct sampler_agree_in *in, uint8_t family,
    const uint8_t client[16], uint32_t stamp)
{
	return (family == 4 || family == 6) &&
	    sampler_client_sampled(family, client, in->ratio) &&
	    (uint32_t)(in->now_s - stamp) < 60 &&
	    (int32_t)(stamp - in->since_s) > 0;
}

static void
agree_model_peer(void *arg, const struct model_peer *p)
{
	struct agree_walk *w = arg;
	struct sampler_kpeer key;
	const struct sampler_kpeer *hit;
	/* Re-stamped after the dump's second: the model has already seen
	 * later events, and this entry's value at the dump is unknown. */
	bool after = (int32_t)(p->stamp - w->in->now_s) > 0;

	if (!after && !agree_keep(w->in, p->family, p->client, p->stamp))
		return;
	memset(&key, 0, sizeof(key));
	key.family = p->family;
	memcpy(key.client, p->client, 16);
	if (w->in->key_server)
		memcpy(key.server, p->server, 16);
	hit = w->nk > 0 ? bsearch(&key, w->k, w->nk, sizeof(*w->k),
	    kpeer_cmp) : NULL;
	if (after) {
		/* Leave the key out of both sides (keys are unique on each
		 * side, so at most one kernel entry per model entry). */
		if (hit != NULL)
			w->out->kernel--;
		return;
	}
	w->out->model++;
	if (hit == NULL)
		return;
	w->out->common++;
	if (hit->tsval == p->ts)
		w->out->matched++;
}

void
sampler_agreement_compute(const struct model *m,
    const struct sampler_agree_in *in, struct sampler_kpeer *k, size_t nk,
    struct sampler_agreement *out)
{
	struct agree_walk w = { in, k, 0, out };
	size_t n = 0;
	uint64_t uni;

	/* The kernel's side, keyed as the profile keys its table. */
	for (size_t i = 0; i < nk; i++) {
		struct sampler_kpeer e = k[i];
		bool local = in->nservers == 0 || !e.has_server;

		if (e.family == 4) {
			memset(e.client + 4, 0, 12);
			memset(e.server + 4, 0, 12);
		}
		for (size_t j = 0; !local && j < in->nservers; j++)
			local = in->servers[j].family == e.family &&
			    memcmp(in->servers[j].addr, e.server,
			    e.family == 4 ? 4 : 16) == 0;
		if (!local || !agree_keep(in, e.family, e.client, e.stamp))
			continue;
		if (!in->key_server)
			memset(e.server, 0, 16);
		k[n++] = e;
	}
	qsort(k, n, sizeof(*k), kpeer_cmp);
	/* One entry per key (a client-only key can merge several). */
	w.nk = 0;
	for (size_t i = 0; i < n; i++)
		if (w.nk == 0 || kpeer_cmp(&k[w.nk - 1], &k[i]) != 0)
			k[w.nk++] = k[i];
		else if ((int32_t)(k[i].stamp - k[w.nk - 1].stamp) > 0)
			k[w.nk - 1] = k[i];
	out->kernel = w.nk;
	out->model = out->common = out->matched = 0;
	model_peers_stamped(m, agree_model_peer, &w);
	uni = out->kernel + out->model - out->common;
	out->ratio = uni == 0 ? 1.0 : (double)out->matched / (double)uni;
	out->valid = true;
}

size_t
sampler_kpeers_from_tcp_metrics(const struct tcp_metrics_stats *t,
    struct sampler_kpeer *out, size_t max, bool *complete)
{
	uint32_t now_s = (uint32_t)t->dump_wall;
	size_t n = 0;

	*complete = !t->truncated && t->recent_dropped == 0;
	for (size_t i = 0; i < t->nrecent; i++) {
		const struct tcp_metrics_entry *e = &t->recent[i];
		struct sampler_kpeer *k;
		size_t alen = e->addr.family == AF_INET ? 4 : 16;

		/* The kernel's freshness: (u32)(now - stamp) < 60. */
		if (!e->has_tw || e->stamp_age_s < 0 ||
		    e->stamp_age_s >= TCP_METRICS_FRESH_S ||
		    (e->addr.family != AF_INET && e->addr.family != AF_INET6))
			continue;
		if (n == max) {
			*complete = false;
			break;
		}
		k = &out[n++];
		memset(k, 0, sizeof(*k));
		k->family = e->addr.family == AF_INET ? 4 : 6;
		memcpy(k->client, e->addr.addr, alen);
		if (e->saddr.family == e->addr.family) {
			k->has_server = true;
			memcpy(k->server, e->saddr.addr, alen);
		}
		k->tsval = e->tsval;
		k->stamp = now_s - (uint32_t)e->stamp_age_s;
	}
	return n;
}

/* Model thread: take the kernel peers handed over, if new. */
static void
agree_take(struct sampler *s)
{
	pthread_mutex_lock(&s->set_lock);
	s->kpending = false;
	if (!s->kin_set) {
		s->agree.valid = false;
	} else if (!s->kin_complete) {
		s->agree.valid = false;
		s->agree.incomplete++;
	} else {
		memcpy(s->kcmp, s->kin, s->nkin * sizeof(*s->kcmp));
		s->nkcmp = s->nkin;
		s->kat = s->kin_at;
		s->kat_us = (uint64_t)(s->kin_at * 1e6);
		s->kpending = true;
	}
	pthread_mutex_unlock(&s->set_lock);
}

/* Model thread: compare now (the model has the events up to the dump). */
static void
agree_run(struct sampler *s)
{
	struct sampler_agree_in in = {
		.key_server = model_config_behaviour(&s->cfg.model,
		    MB_KEY_SERVER_ADDR),
		.ratio = s->cfg.ratio,
		.servers = s->server,
		.nservers = s->nservers,
		.now_s = (uint32_t)s->kat,
		.since_s = (uint32_t)s->started_wall,
	};

	s->kpending = false;
	sampler_agreement_compute(s->model, &in, s->kcmp, s->nkcmp, &s->agree);
	s->agree.at = s->kat;
	s->agree.comparisons++;
}

static uint64_t
rate_window(const struct sampler *s, double now, unsigned which,
    uint64_t cur, double *window)
{
	/* Oldest point no older than 60 s. */
	const struct rate_point *best = NULL;

	for (unsigned i = 0; i < s->nrate; i++) {
		const struct rate_point *p = &s->rate[i];

		if (now - p->t <= 60.0 + 1e-9 &&
		    (best == NULL || p->t < best->t))
			best = p;
	}
	if (best == NULL) {
		*window = 0;
		return 0;
	}
	*window = now - best->t;
	return cur - (which == 0 ? best->main : best->whatif[which - 1]);
}

static void
model_publish(struct sampler *s, bool scan_nat)
{
	struct sampler_stats *p = &s->pub;
	struct model_stats ms, cur;
	unsigned r = s->cfg.ratio;
	double now = now_monotonic(), win;
	uint64_t wcum[SAMPLER_MAX_WHATIF] = { 0 };
	struct model_source top[SAMPLER_TOP_SOURCES];
	size_t ntop, nscan = 0;

	/* Capture timestamps are wall-clock: settle SYNs nobody answered. */
	model_settle(s->model, (uint64_t)(now_wall() * 1e6));
	model_stats(s->model, &cur);
	ms = s->base;
	stats_add(&ms, &cur);
	ms.peers = cur.peers;
	ms.tracked_connections = cur.tracked_connections;
	ms.sources = cur.sources;
	for (unsigned i = 0; i < s->cfg.nwhatif; i++) {
		struct model_stats w;

		model_stats(s->whatif[i], &w);
		wcum[i] = w.predicted_rejections;
	}
	/* One rate point per second. */
	if (s->nrate == 0 ||
	    now - s->rate[(s->rate_next + RATE_SLOTS - 1) % RATE_SLOTS].t >= 1.0) {
		struct rate_point *rp = &s->rate[s->rate_next];

		rp->t = now;
		rp->main = ms.predicted_rejections;
		memcpy(rp->whatif, wcum, sizeof(wcum));
		s->rate_next = (s->rate_next + 1) % RATE_SLOTS;
		if (s->nrate < RATE_SLOTS)
			s->nrate++;
	}
	/* Both walk the whole source table: every 2 s only. */
	ntop = scan_nat ? model_top_sources(s->model, top,
	    SAMPLER_TOP_SOURCES) : 0;
	if (scan_nat)
		nscan = model_top_sources(s->model, s->scan, SAMPLER_NAT_SCAN);

	pthread_mutex_lock(&s->lock);
	p->ratio = r;
	copy_str(p->profile, sizeof(p->profile),
	    model_profile_name(s->cfg.model.profile) ?
	    model_profile_name(s->cfg.model.profile) : "?");
	memcpy(p->setting, s->setting, sizeof(p->setting));
	p->fed = s->fed;
	p->unsampled = s->unsampled;
	p->foreign = s->foreign;
	p->model_resets = s->resets;
	p->settings_changes = s->settings_changes;
	p->tcpm_agreement = s->agree;
	p->model = ms;
	p->predicted_rejections = ms.predicted_rejections * r;
	for (int i = 0; i < MODEL_NREASONS; i++)
		p->by_reason[i] = ms.by_reason[i] * r;
	p->observed_unanswered_syns = ms.observed_unanswered_syns * r;
	p->syns = ms.syns * r;
	{
		uint64_t d = rate_window(s, now, 0, ms.predicted_rejections,
		    &win);

		p->window_s = win;
		p->predicted_rejections_per_min = win >= 1.0 ?
		    (double)d * r * 60.0 / win : (double)d * r;
	}
	p->nwhatif = s->cfg.nwhatif;
	for (unsigned i = 0; i < s->cfg.nwhatif; i++) {
		struct sampler_whatif_stats *w = &p->whatif[i];
		struct model_stats wm;
		uint64_t d;

		model_stats(s->whatif[i], &wm);
		copy_str(w->profile, sizeof(w->profile),
		    model_profile_name(s->cfg.whatif[i].profile) ?
		    model_profile_name(s->cfg.whatif[i].profile) : "?");
		memcpy(w->setting, s->wsetting[i], sizeof(w->setting));
		w->predicted_rejections = wm.predicted_rejections * r;
		for (int k = 0; k < MODEL_NREASONS; k++)
			w->by_reason[k] = wm.by_reason[k] * r;
		d = rate_window(s, now, i + 1, wm.predicted_rejections, &win);
		w->predicted_rejections_per_min = win >= 1.0 ?
		    (double)d * r * 60.0 / win : (double)d * r;
	}
	if (scan_nat) {
		memcpy(p->top, top, ntop * sizeof(top[0]));
		p->ntop = ntop;
		p->nat_sources = p->per_connection_sources = 0;
		p->nnat = 0;
		for (size_t i = 0; i < nscan; i++) {
			const struct model_source *src = &s->scan[i];

			if (src->nat_class == MODEL_NAT_PER_CONN)
				p->per_connection_sources++;
			if (src->nat_class != MODEL_NAT_HOSTS ||
			    src->estimated_hosts < 2)
				continue;
			p->nat_sources++;
			/* Keep the SAMPLER_TOP_SOURCES with most hosts. */
			size_t j;
			if (p->nnat < SAMPLER_TOP_SOURCES)
				j = p->nnat++;
			else if (p->nat[SAMPLER_TOP_SOURCES - 1].estimated_hosts <
			    src->estimated_hosts)
				j = SAMPLER_TOP_SOURCES - 1;
			else
				continue;
			while (j > 0 && p->nat[j - 1].estimated_hosts <
			    src->estimated_hosts) {
				p->nat[j] = p->nat[j - 1];
				j--;
			}
			p->nat[j] = *src;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

static void *
model_main(void *arg)
{
	struct sampler *s = arg;
	struct tcp_event ev;
	double last_pub = 0, last_scan = 0;
	/*
	 * The counters' values at sampler_new(), not loads here: a push
	 * between pthread_create() and such a load would be counted but
	 * never looked at (live mode pushes settings only on change).
	 */
	unsigned gen = 0, kgen = 0;

	pthread_setname_np(pthread_self(), "tw-model");
	while (!atomic_load(&s->stop)) {
		unsigned n;
		double now;

		if (s->cfg.thread_hook != NULL)
			s->cfg.thread_hook(SAMPLER_THREAD_MODEL);
		n = model_drain(s, 8192);

		if (atomic_load(&s->set_gen) != gen) {
			gen = atomic_load(&s->set_gen);
			apply_settings(s);
		}
		if (atomic_load(&s->kp_gen) != kgen) {
			kgen = atomic_load(&s->kp_gen);
			agree_take(s);
		}
		/* No event after the dump yet: compare once the ring is
		 * drained (the model has everything captured so far) and
		 * the capture has had time to deliver the dump's second. */
		if (s->kpending && n < 8192 &&
		    now_wall() >= s->kat + SAMPLER_AGREE_GRACE_S)
			agree_run(s);
		now = now_monotonic();
		if (now - last_pub >= 0.25) {
			bool scan = now - last_scan >= 2.0;

			model_publish(s, scan);
			last_pub = now;
			if (scan)
				last_scan = now;
		}
		if (n == 0) {
			struct timespec ts;

			atomic_store(&s->consumer_sleeping, true);
			if (sampler_ring_pop(s->ring, &ev)) {
				atomic_store(&s->consumer_sleeping, false);
				model_event(s, &ev);
				continue;
			}
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += 100 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_mutex_lock(&s->wake_lock);
			if (!atomic_load(&s->stop))
				pthread_cond_timedwait(&s->wake, &s->wake_lock,
				    &ts);
			pthread_mutex_unlock(&s->wake_lock);
			atomic_store(&s->consumer_sleeping, false);
		}
	}
	/* Drain what is left so the last figures include it. */
	while (model_drain(s, 8192) > 0)
		;
	model_publish(s, true);
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
	bool perm = false, any_open = false;
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
	s->flows = calloc(SAMPLER_FLOW_SLOTS, sizeof(*s->flows));
	s->scan = calloc(SAMPLER_NAT_SCAN, sizeof(*s->scan));
	s->kin = calloc(SAMPLER_TCPM_PEERS, sizeof(*s->kin));
	s->kcmp = calloc(SAMPLER_TCPM_PEERS, sizeof(*s->kcmp));
	if (s->ring == NULL || s->flows == NULL || s->scan == NULL ||
	    s->kin == NULL || s->kcmp == NULL)
		return start_fail(s, SAMPLER_FAILED, "out of memory", err,
		    errlen);
	s->model = build_model(s, s->cfg.model.profile, s->setting, true, msg,
	    sizeof(msg));
	if (s->model == NULL)
		return start_fail(s, SAMPLER_FAILED, msg, err, errlen);
	for (unsigned i = 0; i < s->cfg.nwhatif; i++) {
		/* Followed settings start from the live ones pushed so far. */
		for (int k = 0; k < MODEL_NSETTINGS; k++)
			if (s->cfg.whatif[i].follow & (1u << k))
				s->wsetting[i][k] = s->setting[k];
		s->whatif[i] = build_model(s, s->cfg.whatif[i].profile,
		    s->wsetting[i], false, msg, sizeof(msg));
		if (s->whatif[i] == NULL)
			return start_fail(s, SAMPLER_FAILED, msg, err, errlen);
	}

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
		if (handle_open(s, h, &perm) == 0) {
			any_open = true;
			continue;
		}
		if (perm) {
			copy_str(msg, sizeof(msg), h->error);
			for (unsigned j = 0; j < i; j++)
				handle_close(&s->h[j]);
			return start_fail(s, SAMPLER_UNAVAILABLE, msg, err,
			    errlen);
		}
		handle_backoff(h, now);
	}
	(void)any_open;
	s->started_mono = now;
	s->started_wall = now_wall();
	s->rate[0].t = now;	/* rate origin: zero at the start */
	s->nrate = 1;
	s->rate_next = 1;
	model_publish(s, true);
	capture_publish(s);

	if ((rc = pthread_create(&s->model_thr, NULL, model_main, s)) != 0) {
		set_error(msg, sizeof(msg), "cannot start the model thread: %s",
		    strerror(rc));
		return start_fail(s, SAMPLER_FAILED, msg, err, errlen);
	}
	s->model_started = true;
	if ((rc = pthread_create(&s->capture_thr, NULL, capture_main, s)) != 0) {
		set_error(msg, sizeof(msg), "cannot start the capture thread: "
		    "%s", strerror(rc));
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
	pthread_mutex_lock(&s->lock);
	if (s->running || s->capture_started) {
		const struct capture_pub *c = &s->pub_cap;

		*out = s->pub;
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
		memset(out, 0, sizeof(*out));
		out->state = s->fixed_state;
		copy_str(out->error, sizeof(out->error), s->fixed_error);
		out->ratio = s->cfg.ratio;
		copy_str(out->profile, sizeof(out->profile),
		    model_profile_name(s->cfg.model.profile) ?
		    model_profile_name(s->cfg.model.profile) : "?");
		memcpy(out->setting, s->setting, sizeof(out->setting));
		out->interfaces = s->cfg.ninterfaces;
		out->linktype = -1;
	}
	pthread_mutex_unlock(&s->lock);
}

void
sampler_set_settings(struct sampler *s, int tw_recycle, int timestamps,
    int rfc1337)
{
	int v[MODEL_NSETTINGS];

	v[MS_TW_RECYCLE] = tw_recycle;
	v[MS_TIMESTAMPS] = timestamps;
	v[MS_RFC1337] = rfc1337;
	pthread_mutex_lock(&s->set_lock);
	for (int i = 0; i < MODEL_NSETTINGS; i++)
		if (v[i] >= 0)
			s->want_setting[i] = v[i];
	pthread_mutex_unlock(&s->set_lock);
	atomic_fetch_add(&s->set_gen, 1);
	if (!s->model_started) {
		/* Not running: the model is built with these at start. */
		for (int i = 0; i < MODEL_NSETTINGS; i++)
			if (v[i] >= 0)
				s->setting[i] = v[i];
	} else {
		wake_consumer(s);
	}
}

void
sampler_set_kernel_peers(struct sampler *s, const struct sampler_kpeer *p,
    size_t n, bool complete, double dump_wall)
{
	pthread_mutex_lock(&s->set_lock);
	if (s->kin == NULL) {
		/* Not started: nothing compares. */
		pthread_mutex_unlock(&s->set_lock);
		return;
	}
	s->kin_set = p != NULL;
	s->kin_complete = complete && n <= SAMPLER_TCPM_PEERS;
	s->nkin = n < SAMPLER_TCPM_PEERS ? n : SAMPLER_TCPM_PEERS;
	if (p != NULL)
		memcpy(s->kin, p, s->nkin * sizeof(*p));
	s->kin_at = dump_wall;
	pthread_mutex_unlock(&s->set_lock);
	atomic_fetch_add(&s->kp_gen, 1);
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
	if (s->model_started && !s->model_joined) {
		pthread_mutex_lock(&s->wake_lock);
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->wake_lock);
		pthread_join(s->model_thr, NULL);
		s->model_joined = true;
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
	model_free(s->model);
	for (unsigned i = 0; i < SAMPLER_MAX_WHATIF; i++)
		model_free(s->whatif[i]);
	sampler_ring_free(s->ring);
	free(s->flows);
	free(s->scan);
	free(s->kin);
	free(s->kcmp);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->wake_lock);
	pthread_mutex_destroy(&s->set_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
