/*
 * Runtime sysctl values from PROCFS/sys. A missing file means different
 * things depending on the kernel: removed (tcp_tw_recycle from 4.12), or
 * still global and so invisible from a container's netns, where the host's
 * value nevertheless applies (docs/kernel.md §6).
 */
#include "collectors/sysctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/filecache.h"
#include "lib/kversion.h"
#include "lib/util.h"

/* Real sysctl files hold a few bytes; anything bigger is garbage. */
#define SYSCTL_FILE_MAX 4096

const struct sysctl_def sysctl_defs[SYSCTL_COUNT] = {
	[SYSCTL_TCP_TW_RECYCLE] = { "net.ipv4.tcp_tw_recycle",
	    KV(4, 12, 0), KV(4, 11, 0) },
	[SYSCTL_TCP_TIMESTAMPS] = { "net.ipv4.tcp_timestamps",
	    0, KV(4, 13, 0) },
	[SYSCTL_TCP_TW_REUSE] = { "net.ipv4.tcp_tw_reuse", 0, KV(4, 10, 0) },
	[SYSCTL_TCP_RFC1337] = { "net.ipv4.tcp_rfc1337", 0, 0 },
	[SYSCTL_TCP_MAX_TW_BUCKETS] = { "net.ipv4.tcp_max_tw_buckets",
	    0, KV(4, 11, 0) },
	[SYSCTL_TCP_FIN_TIMEOUT] = { "net.ipv4.tcp_fin_timeout", 0, 0 },
	[SYSCTL_TCP_SYNCOOKIES] = { "net.ipv4.tcp_syncookies", 0, 0 },
	[SYSCTL_TCP_MAX_SYN_BACKLOG] = { "net.ipv4.tcp_max_syn_backlog", 0, 0 },
	[SYSCTL_IP_LOCAL_PORT_RANGE] = { "net.ipv4.ip_local_port_range", 0, 0 },
	[SYSCTL_SOMAXCONN] = { "net.core.somaxconn", 0, 0 },
	[SYSCTL_NF_CONNTRACK_TCP_TIMEOUT_TIME_WAIT] = {
	    "net.netfilter.nf_conntrack_tcp_timeout_time_wait", 0, 0 },
};

/*
 * Like systemd's sysctl_normalize(): the first separator decides whether
 * the name is dotted or slashed; repeated separators collapse, as in a path.
 */
int
sysctl_lookup(const char *name, size_t len)
{
	char sep = 0;
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.' || name[i] == '/') {
			sep = name[i];
			break;
		}
	}
	if (sep == '/')
		while (start < len && name[start] == '/')
			start++;
	for (int k = 0; k < SYSCTL_COUNT; k++) {
		const char *d = sysctl_defs[k].name;
		size_t i = start;

		for (; *d != '\0' && i < len; d++) {
			if (*d == '.') {
				if (name[i] != sep)
					break;
				while (i < len && name[i] == sep)
					i++;
			} else if (name[i++] != *d) {
				break;
			}
		}
		if (*d == '\0' && i == len)
			return k;
	}
	return -1;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

int
sysctl_parse_value(const char *buf, size_t len, struct sysctl_value *out,
    char *err, size_t errlen)
{
	int64_t v[SYSCTL_MAX_VALUES];
	int n = 0;
	size_t i = 0;

	/* One line: trailing newline(s) only at the very end. */
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    is_space(buf[len - 1])))
		len--;
	while (i < len) {
		size_t s;

		while (i < len && is_space(buf[i]))
			i++;
		if (i == len)
			break;
		s = i;
		while (i < len && !is_space(buf[i]))
			i++;
		if (n == SYSCTL_MAX_VALUES) {
			set_error(err, errlen, "more than %d values",
			    SYSCTL_MAX_VALUES);
			return -1;
		}
		if (parse_i64(buf + s, i - s, &v[n]) < 0) {
			set_error(err, errlen, "not an integer: \"%.*s\"",
			    (int)(i - s > 32 ? 32 : i - s), buf + s);
			return -1;
		}
		n++;
	}
	if (n == 0) {
		set_error(err, errlen, "empty value");
		return -1;
	}
	out->nvalues = n;
	memcpy(out->v, v, sizeof(v[0]) * (size_t)n);
	return 0;
}

/* Why a key whose file is missing (ENOENT) is not there. */
static void
classify_missing(int k, uint32_t kv, struct sysctl_value *val)
{
	const struct sysctl_def *d = &sysctl_defs[k];

	if (kv != 0 && d->removed_in != 0 && kv >= d->removed_in) {
		val->state = KEY_ABSENT;
		set_error(val->why, sizeof(val->why), "not in Linux >= %u.%u",
		    (unsigned)(d->removed_in >> 16),
		    (unsigned)((d->removed_in >> 8) & 0xff));
	} else if (kv != 0 && d->netns_from != 0 && kv < d->netns_from) {
		/* Only in init_net's table: the host value applies. */
		val->state = KEY_UNAVAILABLE;
		set_error(val->why, sizeof(val->why),
		    "global on this kernel, not visible from this namespace");
	} else if (k == SYSCTL_NF_CONNTRACK_TCP_TIMEOUT_TIME_WAIT) {
		val->state = KEY_ABSENT;
		set_error(val->why, sizeof(val->why),
		    "nf_conntrack not loaded");
	} else {
		val->state = KEY_ABSENT;
		set_error(val->why, sizeof(val->why), "no such key here");
	}
}

static void
key_path(int k, char *out, size_t outlen)
{
	size_t i;

	snprintf(out, outlen, "sys/%s", sysctl_defs[k].name);
	for (i = 4; out[i] != '\0'; i++)
		if (out[i] == '.')
			out[i] = '/';
}

int
sysctl_collect(const char *procfs, struct file_cache *files,
    struct sysctl_set *out, char *err, size_t errlen)
{
	struct kversion kv = { 0 };
	char *buf;
	size_t len, skip = 0;
	int r, rc = 0;

	memset(out, 0, sizeof(*out));
	if (err != NULL && errlen > 0)
		err[0] = '\0';

	r = file_cache_read(files, procfs, "sys/kernel/osrelease",
	    SYSCTL_FILE_MAX, &buf, &len);
	if (r == 0) {
		while (len > 0 && (buf[len - 1] == '\n' ||
		    buf[len - 1] == '\r' || is_space(buf[len - 1])))
			len--;
		while (skip < len && is_space(buf[skip]))
			skip++;
		len -= skip;
		if (len >= sizeof(out->osrelease))
			len = sizeof(out->osrelease) - 1;
		memcpy(out->osrelease, buf + skip, len);
		out->osrelease[len] = '\0';
		free(buf);
		/* Unparseable: version unknown, missing keys absent. */
		kversion_parse(out->osrelease, &kv);
	} else {
		set_error(err, errlen, "kernel.osrelease: %s", file_strerror(-r));
		rc = -1;
	}

	for (int k = 0; k < SYSCTL_COUNT; k++) {
		struct sysctl_value *val = &out->key[k];
		char rel[128], why[SYSCTL_WHY_LEN];

		key_path(k, rel, sizeof(rel));
		r = file_cache_read(files, procfs, rel, SYSCTL_FILE_MAX, &buf,
		    &len);
		if (r == 0) {
			r = sysctl_parse_value(buf, len, val, why, sizeof(why));
			free(buf);
			if (r == 0) {
				val->state = KEY_PRESENT;
				continue;
			}
			val->state = KEY_UNAVAILABLE;
			set_error(val->why, sizeof(val->why), "garbled: %s",
			    why);
		} else if (r == -ENOENT) {
			classify_missing(k, kv.code, val);
			continue;
		} else {
			val->state = KEY_UNAVAILABLE;
			set_error(val->why, sizeof(val->why), "%s",
			    file_strerror(-r));
			if (r == -EACCES || r == -EPERM)
				continue;	/* not permitted: no failure */
		}
		/* Garbled or unreadable: the source failed; keep the first. */
		if (err != NULL && errlen > 0 && err[0] == '\0')
			set_error(err, errlen, "%s: %s", sysctl_defs[k].name,
			    val->why);
		rc = -1;
	}
	return rc;
}

bool
sysctl_value_equal(const struct sysctl_value *a, const struct sysctl_value *b)
{
	if (a->nvalues != b->nvalues)
		return false;
	for (int i = 0; i < a->nvalues && i < SYSCTL_MAX_VALUES; i++)
		if (a->v[i] != b->v[i])
			return false;
	return true;
}
