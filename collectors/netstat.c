/*
 * /proc/net/netstat and /proc/net/snmp parser.
 *
 * Both files are a sequence of line pairs, "Group: name1 name2 ..." then
 * "Group: v1 v2 ...", written by net/ipv4/proc.c from the snmp4_*_list
 * tables; the field set and order change with every kernel release, so
 * fields are matched by name, never by position. Only the curated
 * counters of counters.h are kept; everything else is skipped unparsed
 * (the snmp "Tcp:" line carries signed values such as MaxConn -1).
 *
 * The buffer need not be NUL-terminated: every scan is bounded by LEN.
 * Each byte is looked at a constant number of times, so a 1 MB line costs
 * about as much as 1 MB of ordinary lines.
 */
#include "collectors/netstat.h"

#include <stdbool.h>
#include <string.h>

#include "lib/util.h"

/* Longest group name or value quoted back in an error message. */
#define QUOTE_MAX 32

struct line {
	const char *p;
	size_t len;
	unsigned no;		/* 1-based line number, for messages */
};

/* The next line at *POS (without its '\n'); false at the end of input. */
static bool
next_line(const char *buf, size_t len, size_t *pos, unsigned *lineno,
    struct line *l)
{
	const char *nl;

	if (*pos >= len)
		return false;
	l->p = buf + *pos;
	nl = memchr(l->p, '\n', len - *pos);
	l->len = nl != NULL ? (size_t)(nl - l->p) : len - *pos;
	*pos += l->len + (nl != NULL ? 1 : 0);
	l->no = ++*lineno;
	return true;
}

static bool
line_is_blank(const struct line *l)
{
	for (size_t i = 0; i < l->len; i++)
		if (!text_is_blank(l->p[i]))
			return false;
	return true;
}


static size_t
count_tokens(const char *p, size_t n)
{
	const char *tok;
	size_t pos = 0, toklen, count = 0;

	while (text_next_token(p, n, &pos, &tok, &toklen))
		count++;
	return count;
}

static int
quote_len(size_t n)
{
	return (int)(n > QUOTE_MAX ? QUOTE_MAX : n);
}

/* Split "Group: rest" at the first ':'; -1 if the line has none. */
static int
split_group(const struct line *l, size_t *grouplen, const char **rest,
    size_t *restlen)
{
	const char *colon = memchr(l->p, ':', l->len);

	if (colon == NULL)
		return -1;
	*grouplen = (size_t)(colon - l->p);
	*rest = colon + 1;
	*restlen = l->len - *grouplen - 1;
	return 0;
}

/*
 * Apply one header/value pair. A count mismatch means the values cannot be
 * matched to names at all, so nothing of the pair is used; a bad value
 * stops the pair there, keeping the curated values before it.
 */
static int
parse_pair(const struct line *hdr, const struct line *val,
    struct counter_set *out, char *err, size_t errlen)
{
	const char *hrest, *vrest, *name, *v;
	size_t glen, vglen, hlen, vlen, hpos = 0, vpos = 0, nlen, vtlen;
	size_t nnames, nvalues;

	if (split_group(hdr, &glen, &hrest, &hlen) < 0) {
		set_error(err, errlen, "line %u: no ':' in header line",
		    hdr->no);
		return -1;
	}
	if (split_group(val, &vglen, &vrest, &vlen) < 0) {
		set_error(err, errlen, "%.*s: line %u: no ':' in value line",
		    quote_len(glen), hdr->p, val->no);
		return -1;
	}
	if (vglen != glen || memcmp(hdr->p, val->p, glen) != 0) {
		set_error(err, errlen,
		    "%.*s: line %u: value line belongs to group '%.*s'",
		    quote_len(glen), hdr->p, val->no, quote_len(vglen),
		    val->p);
		return -1;
	}
	nnames = count_tokens(hrest, hlen);
	nvalues = count_tokens(vrest, vlen);
	if (nnames != nvalues) {
		set_error(err, errlen,
		    "%.*s: line %u: %zu names but %zu values (truncated?)",
		    quote_len(glen), hdr->p, val->no, nnames, nvalues);
		return -1;
	}
	while (text_next_token(hrest, hlen, &hpos, &name, &nlen) &&
	    text_next_token(vrest, vlen, &vpos, &v, &vtlen)) {
		int id = counter_lookup(hdr->p, glen, name, nlen);
		uint64_t u;

		if (id < 0)
			continue;
		if (parse_u64(v, vtlen, &u) < 0) {
			set_error(err, errlen,
			    "%.*s: line %u: %.*s: bad value '%.*s'",
			    quote_len(glen), hdr->p, val->no,
			    quote_len(nlen), name, quote_len(vtlen), v);
			return -1;
		}
		out->value[id] = u;
		out->present[id] = true;
	}
	return 0;
}

int
netstat_parse(const char *buf, size_t len, struct counter_set *out,
    char *err, size_t errlen)
{
	struct line hdr, val;
	size_t pos = 0;
	unsigned lineno = 0, pairs = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	while (next_line(buf, len, &pos, &lineno, &hdr)) {
		if (line_is_blank(&hdr))
			continue;
		if (!next_line(buf, len, &pos, &lineno, &val)) {
			size_t glen = hdr.len;
			const char *colon = memchr(hdr.p, ':', hdr.len);

			if (colon != NULL)
				glen = (size_t)(colon - hdr.p);
			set_error(err, errlen,
			    "%.*s: line %u: header without a value line",
			    quote_len(glen), hdr.p, hdr.no);
			return -1;
		}
		if (parse_pair(&hdr, &val, out, err, errlen) < 0)
			return -1;
		pairs++;
	}
	/* An empty file is never what the kernel writes. */
	if (pairs == 0) {
		set_error(err, errlen, "no counter groups in input");
		return -1;
	}
	return 0;
}
