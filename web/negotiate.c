/* Accept / Accept-Encoding parsing and gzip (zlib). */
#include "web/negotiate.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <zlib.h>

/* Header values are short; longer ones are truncated, never overrun. */
#define NEG_MAX_ITEMS 32

/*
 * Walk "type/sub;p=v;q=0.5, other" items, calling FN(item, itemlen, q)
 * with q parsed (default 1). Bounded in items.
 */
static void
each_item(const char *h, void (*fn)(const char *, size_t, double, void *),
    void *arg)
{
	for (int n = 0; h != NULL && *h && n < NEG_MAX_ITEMS; n++) {
		size_t len = strcspn(h, ",");
		const char *semi, *end = h + len;
		double q = 1.0;
		size_t tlen;

		while (h < end && isspace((unsigned char)*h))
			h++;
		semi = memchr(h, ';', (size_t)(end - h));
		tlen = (size_t)((semi ? semi : end) - h);
		while (tlen > 0 && isspace((unsigned char)h[tlen - 1]))
			tlen--;
		for (const char *p = semi; p != NULL && p < end;) {
			const char *next = memchr(p + 1, ';', (size_t)(end - p - 1));

			p++;
			while (p < end && isspace((unsigned char)*p))
				p++;
			if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') &&
			    p[1] == '=') {
				char num[16];
				size_t nl = (size_t)((next ? next : end) - (p + 2));

				if (nl >= sizeof(num))
					nl = sizeof(num) - 1;
				memcpy(num, p + 2, nl);
				num[nl] = '\0';
				q = strtod(num, NULL);
				if (!(q >= 0 && q <= 1))
					q = 0;
			}
			p = next;
		}
		fn(h, tlen, q, arg);
		h = *end ? end + 1 : end;
	}
}

struct pick {
	enum expo_format fmt;
	double best;
};

static bool
is(const char *item, size_t len, const char *type)
{
	return strlen(type) == len && strncasecmp(item, type, len) == 0;
}

static void
pick_format(const char *item, size_t len, double q, void *arg)
{
	struct pick *p = arg;
	enum expo_format f;

	if (is(item, len, "application/openmetrics-text"))
		f = EXPO_OPENMETRICS;
	else if (is(item, len, "text/plain") || is(item, len, "text/*") ||
	    is(item, len, "*/*"))
		f = EXPO_PROM_004;
	else
		return;
	if (q > p->best) {
		p->best = q;
		p->fmt = f;
	}
}

enum expo_format
negotiate_format(const char *accept)
{
	struct pick p = { EXPO_PROM_004, 0 };

	each_item(accept, pick_format, &p);
	return p.fmt;
}

static void
find_gzip(const char *item, size_t len, double q, void *arg)
{
	if ((is(item, len, "gzip") || is(item, len, "x-gzip")) && q > 0)
		*(bool *)arg = true;
}

bool
negotiate_gzip(const char *accept_encoding)
{
	bool yes = false;

	each_item(accept_encoding, find_gzip, &yes);
	return yes;
}

int
gzip_buffer(const char *in, size_t len, char **out, size_t *outlen)
{
	z_stream z = { 0 };
	uLong cap;
	char *buf;
	int rc;

	/* windowBits 15 + 16: a gzip header instead of zlib's. */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	cap = deflateBound(&z, (uLong)len);
	if ((buf = malloc(cap)) == NULL) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)buf;
	z.avail_out = (uInt)cap;
	rc = deflate(&z, Z_FINISH);
	*outlen = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}
