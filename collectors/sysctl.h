/*
 * Runtime sysctl values read from PROCFS/sys/... Each watched key has a
 * state of its own: present (read), absent (this kernel has no such key),
 * unavailable (exists but cannot be read here, with why).
 */
#ifndef TWAUDIT_SYSCTL_H
#define TWAUDIT_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYSCTL_MAX_VALUES 3
#define SYSCTL_WHY_LEN 160

#define SYSCTL_LIST(X) \
	X(TCP_TW_RECYCLE, "net.ipv4.tcp_tw_recycle") \
	X(TCP_TIMESTAMPS, "net.ipv4.tcp_timestamps") \
	X(TCP_TW_REUSE, "net.ipv4.tcp_tw_reuse") \
	X(TCP_RFC1337, "net.ipv4.tcp_rfc1337") \
	X(TCP_MAX_TW_BUCKETS, "net.ipv4.tcp_max_tw_buckets") \
	X(TCP_FIN_TIMEOUT, "net.ipv4.tcp_fin_timeout") \
	X(TCP_SYNCOOKIES, "net.ipv4.tcp_syncookies") \
	X(TCP_MAX_SYN_BACKLOG, "net.ipv4.tcp_max_syn_backlog") \
	X(IP_LOCAL_PORT_RANGE, "net.ipv4.ip_local_port_range") \
	X(SOMAXCONN, "net.core.somaxconn") \
	X(NF_CONNTRACK_TCP_TIMEOUT_TIME_WAIT, \
	    "net.netfilter.nf_conntrack_tcp_timeout_time_wait")

enum sysctl_id {
#define X(id, name) SYSCTL_##id,
	SYSCTL_LIST(X)
#undef X
	SYSCTL_COUNT
};

struct sysctl_def {
	const char *name;	/* dotted name, "net.ipv4.tcp_tw_recycle" */
	uint32_t removed_in;	/* KV() of the release without it, 0: never */
	uint32_t netns_from;	/* KV() from which it is per netns, 0: always */
};

extern const struct sysctl_def sysctl_defs[SYSCTL_COUNT];

enum key_state { KEY_PRESENT, KEY_ABSENT, KEY_UNAVAILABLE };

struct sysctl_value {
	enum key_state state;
	int nvalues;
	int64_t v[SYSCTL_MAX_VALUES];
	char why[SYSCTL_WHY_LEN];	/* for absent/unavailable */
};

struct sysctl_set {
	struct sysctl_value key[SYSCTL_COUNT];
	char osrelease[128];		/* kernel.osrelease, "" if unread */
};

/* Index of a dotted or slashed name ("net/ipv4/tcp_tw_recycle"), or -1. */
int sysctl_lookup(const char *name, size_t len);

/*
 * Parse the text of one sysctl file ("1\n", "32768\t60999\n") into OUT.
 * 0 on success, -1 (with ERR) when it is not 1..SYSCTL_MAX_VALUES integers.
 */
int sysctl_parse_value(const char *buf, size_t len, struct sysctl_value *out,
    char *err, size_t errlen);

/* Same number of values, all equal. */
bool sysctl_value_equal(const struct sysctl_value *a,
    const struct sysctl_value *b);

struct file_cache;

/*
 * Read every watched key under PROCFS (through FILES' held descriptors
 * when not NULL: lib/filecache.h). Returns 0 when the source is ok
 * (individual keys may still be absent or unavailable), -1 with ERR when
 * it failed (kernel.osrelease unreadable, a value garbled).
 */
int sysctl_collect(const char *procfs, struct file_cache *files,
    struct sysctl_set *out, char *err, size_t errlen);

#endif
