/*
 * /proc/net/sockstat and /proc/net/sockstat6 parser.
 *
 * Each line is "LABEL: key value key value ...". Only the "TCP:" line of
 * sockstat and the "TCP6:" line of sockstat6 are kept; "sockets:", "UDP:",
 * "FRAG:" and the rest are skipped unparsed. Keys are matched by name so
 * an added key in a later kernel is ignored, not misread.
 */
#include "collectors/sockstat.h"

#include <stdbool.h>
#include <string.h>

#include "lib/util.h"

#define QUOTE_MAX 32

const char *const sockstat_metric[SS_COUNT] = {
	[SS_TCP_INUSE] = "twaudit_sockstat_tcp_inuse",
	[SS_TCP_ORPHAN] = "twaudit_sockstat_tcp_orphan",
	[SS_TCP_TW] = "twaudit_sockstat_tcp_tw",
	[SS_TCP_ALLOC] = "twaudit_sockstat_tcp_alloc",
	[SS_TCP_MEM] = "twaudit_sockstat_tcp_mem",
	[SS_TCP6_INUSE] = "twaudit_sockstat6_tcp6_inuse",
};

static const struct {
	const char *label;	/* text before ':' */
	const char *key;
	enum sockstat_id id;
} sockstat_keys[] = {
	{ "TCP", "inuse", SS_TCP_INUSE },
	{ "TCP", "orphan", SS_TCP_ORPHAN },
	{ "TCP", "tw", SS_TCP_TW },
	{ "TCP", "alloc", SS_TCP_ALLOC },
	{ "TCP", "mem", SS_TCP_MEM },
	{ "TCP6", "inuse", SS_TCP6_INUSE },
};

#define NKEYS (sizeof(sockstat_keys) / sizeof(sockstat_keys[0]))


static bool
span_eq(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(p, s, n) == 0;
}

static int
quote_len(size_t n)
{
	return (int)(n > QUOTE_MAX ? QUOTE_MAX : n);
}

/* True when some watched key lives on the line labelled P[0..N). */
static bool
label_watched(const char *p, size_t n)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (span_eq(p, n, sockstat_keys[i].label))
			return true;
	return false;
}

static int
parse_line(const char *p, size_t n, unsigned lineno, struct sockstat *out,
    char *err, size_t errlen)
{
	const char *colon = memchr(p, ':', n), *rest, *key, *val;
	size_t llen, rlen, pos = 0, klen, vlen;

	if (colon == NULL) {
		set_error(err, errlen, "line %u: no ':'", lineno);
		return -1;
	}
	llen = (size_t)(colon - p);
	if (!label_watched(p, llen))
		return 0;
	rest = colon + 1;
	rlen = n - llen - 1;
	while (text_next_token(rest, rlen, &pos, &key, &klen)) {
		int64_t v;

		if (!text_next_token(rest, rlen, &pos, &val, &vlen)) {
			set_error(err, errlen, "%.*s: line %u: %.*s has no value",
			    quote_len(llen), p, lineno, quote_len(klen), key);
			return -1;
		}
		if (parse_i64(val, vlen, &v) < 0) {
			set_error(err, errlen,
			    "%.*s: line %u: %.*s: bad value '%.*s'",
			    quote_len(llen), p, lineno, quote_len(klen), key,
			    quote_len(vlen), val);
			return -1;
		}
		for (size_t i = 0; i < NKEYS; i++) {
			if (span_eq(p, llen, sockstat_keys[i].label) &&
			    span_eq(key, klen, sockstat_keys[i].key)) {
				out->v[sockstat_keys[i].id] = v;
				out->present[sockstat_keys[i].id] = true;
			}
		}
	}
	return 0;
}

int
sockstat_parse(const char *buf, size_t len, struct sockstat *out, char *err,
    size_t errlen)
{
	size_t pos = 0;
	unsigned lineno = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	while (pos < len) {
		const char *p = buf + pos, *nl = memchr(p, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - p) : len - pos;
		bool blank = true;

		pos += n + (nl != NULL ? 1 : 0);
		lineno++;
		for (size_t i = 0; i < n && blank; i++)
			blank = text_is_blank(p[i]);
		if (blank)
			continue;
		if (parse_line(p, n, lineno, out, err, errlen) < 0)
			return -1;
	}
	return 0;
}
