/*
 * Content negotiation for /metrics (web/negotiate.c): the Accept header
 * picks OpenMetrics 1.0.0 or text 0.0.4 by q-value, Accept-Encoding allows
 * gzip, and gzip_buffer's output is a gzip stream of its input. Headers
 * come from any client: garbage, huge and odd ones must give the default,
 * never a crash or an overrun.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "web/negotiate.h"

#define OM EXPO_OPENMETRICS
#define P4 EXPO_PROM_004

struct fmt_case {
	const char *accept;
	enum expo_format want;
};

static const struct fmt_case fmt_cases[] = {
	/* Nothing or the plain defaults: 0.0.4. */
	{ NULL, P4 },
	{ "", P4 },
	{ "*/*", P4 },
	{ "text/plain", P4 },
	{ "text/plain; version=0.0.4", P4 },
	{ "text/*", P4 },
	{ "application/json", P4 },
	/* OpenMetrics when asked for. */
	{ "application/openmetrics-text", OM },
	{ "application/openmetrics-text; version=1.0.0", OM },
	{ "application/openmetrics-text;version=1.0.0;charset=utf-8", OM },
	{ "APPLICATION/OpenMetrics-Text", OM },	/* media types: any case */
	{ "  application/openmetrics-text  ;  q=0.9", OM },
	/* Prometheus 2.x's own header: OpenMetrics preferred. */
	{ "application/openmetrics-text;version=1.0.0,application/"
	  "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
	  "q=0.5,*/*;q=0.1", OM },
	/* Its header with OpenMetrics off (scrape_protocols / older). */
	{ "text/plain;version=0.0.4;q=1,*/*;q=0.1", P4 },
	/* q-values decide, wherever the type stands. */
	{ "text/plain;q=0.5, application/openmetrics-text;q=0.6", OM },
	{ "application/openmetrics-text;q=0.4, text/plain;q=0.5", P4 },
	{ "application/openmetrics-text;q=0.5, */*;q=0.9", P4 },
	{ "*/*;q=0.1, application/openmetrics-text", OM },
	{ "text/plain;Q=0.2, application/openmetrics-text;Q=0.3", OM },
	/* Equal q: the first listed wins. */
	{ "text/plain, application/openmetrics-text", P4 },
	{ "application/openmetrics-text, text/plain", OM },
	/* q=0 means "not acceptable". */
	{ "application/openmetrics-text;q=0", P4 },
	{ "application/openmetrics-text;q=0, text/plain;q=0", P4 },
	{ "application/openmetrics-text;q=0.0,text/plain;q=0.001", P4 },
	/* Out of range or garbage q: treated as 0. */
	{ "application/openmetrics-text;q=2", P4 },
	{ "application/openmetrics-text;q=-1", P4 },
	{ "application/openmetrics-text;q=nan", P4 },
	{ "application/openmetrics-text;q=abc", P4 },
	{ "application/openmetrics-text;q=", P4 },
	{ "application/openmetrics-text;q=1e999", P4 },
	/* Parameters that merely start with q are not the q-value. */
	{ "application/openmetrics-text;qq=0", OM },
	/* Garbage. */
	{ ",,,;;;", P4 },
	{ ";q=1", P4 },
	{ "application/openmetrics-textX", P4 },
	{ "application/openmetrics", P4 },
	{ "openmetrics-text", P4 },
	{ "application/openmetrics-text\t", OM },
	{ "\x01\x02\xff\xfe", P4 },
};

static void
test_format(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fmt_cases) / sizeof(fmt_cases[0]); i++) {
		const struct fmt_case *c = &fmt_cases[i];
		enum expo_format got = negotiate_format(c->accept);

		if (got != c->want)
			fail_msg("Accept: %s -> %s, want %s",
			    c->accept ? c->accept : "(none)",
			    got == OM ? "openmetrics" : "0.0.4",
			    c->want == OM ? "openmetrics" : "0.0.4");
	}
}

/* A header of N bytes: FILL items, then TAIL. */
static char *
long_header(size_t items, const char *item, const char *tail)
{
	size_t il = strlen(item), tl = strlen(tail);
	char *h = malloc(items * (il + 1) + tl + 1), *p = h;

	assert_non_null(h);
	for (size_t i = 0; i < items; i++) {
		memcpy(p, item, il);
		p += il;
		*p++ = ',';
	}
	memcpy(p, tail, tl + 1);
	return h;
}

static void
test_format_long(void **state)
{
	char *h;

	(void)state;
	/* Items past the bound are ignored: a long list can't cost more. */
	h = long_header(10000, "x/y", "application/openmetrics-text");
	assert_int_equal(negotiate_format(h), P4);
	free(h);
	/* Within the bound, a later item still counts. */
	h = long_header(5, "x/y;q=0.9", "application/openmetrics-text");
	assert_int_equal(negotiate_format(h), OM);
	free(h);
	/* One huge item, a huge q parameter, a huge run of parameters. */
	h = long_header(0, "", "");
	free(h);
	{
		size_t n = 1 << 20;
		char *big = malloc(n + 64);

		assert_non_null(big);
		memset(big, 'a', n);
		big[n] = '\0';
		assert_int_equal(negotiate_format(big), P4);
		strcpy(big, "application/openmetrics-text;q=0.");
		memset(big + strlen(big), '9', n - 40);
		big[n - 1] = '\0';
		/* q truncated to a short number, still < 1 and > 0. */
		assert_int_equal(negotiate_format(big), OM);
		strcpy(big, "application/openmetrics-text");
		for (size_t i = strlen(big); i + 2 < n; i += 2)
			memcpy(big + i, ";p", 2);
		big[n - 1] = '\0';
		assert_int_equal(negotiate_format(big), OM);
		assert_false(negotiate_gzip(big));
		free(big);
	}
	/* gzip beyond the item bound is not seen either. */
	h = long_header(10000, "br", "gzip");
	assert_false(negotiate_gzip(h));
	free(h);
}

struct gz_case {
	const char *enc;
	bool want;
};

static const struct gz_case gz_cases[] = {
	{ NULL, false },
	{ "", false },
	{ "gzip", true },
	{ "GZIP", true },
	{ "x-gzip", true },
	{ "gzip, deflate, br", true },
	{ "br, gzip;q=0.5", true },
	{ "deflate", false },
	{ "br;q=1, identity", false },
	{ "gzip;q=0", false },
	{ "gzip;q=0.0", false },
	{ "gzip;q=0.001", true },
	{ "gzip;q=garbage", false },
	{ "gzip;q=7", false },
	{ "gzipx", false },
	{ "xgzip", false },
	{ " gzip ", true },
	/* "*" is not read as gzip: a body is only gzipped when named. */
	{ "*", false },
	{ ",,,gzip", true },
	{ "\xff\xfe", false },
};

static void
test_gzip_accept(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(gz_cases) / sizeof(gz_cases[0]); i++) {
		const struct gz_case *c = &gz_cases[i];

		if (negotiate_gzip(c->enc) != c->want)
			fail_msg("Accept-Encoding: %s -> %d, want %d",
			    c->enc ? c->enc : "(none)", !c->want, c->want);
	}
}

static void
roundtrip(const char *in, size_t len)
{
	char *z = NULL, *out;
	size_t zlen = 0;
	uLongf olen = (uLongf)len + 1;
	z_stream s = { 0 };

	assert_int_equal(gzip_buffer(in, len, &z, &zlen), 0);
	assert_non_null(z);
	assert_true(zlen >= 18);	/* header and trailer at least */
	assert_int_equal((unsigned char)z[0], 0x1f);
	assert_int_equal((unsigned char)z[1], 0x8b);
	assert_int_equal((unsigned char)z[2], 8);	/* deflate */
	/* The trailer: CRC-32 and length of the input, little-endian. */
	{
		uint32_t crc = (uint32_t)crc32(0, (const Bytef *)in, (uInt)len);
		const unsigned char *t = (const unsigned char *)z + zlen - 8;

		assert_int_equal(t[0] | t[1] << 8 | t[2] << 16 |
		    (uint32_t)t[3] << 24, crc);
		assert_int_equal(t[4] | t[5] << 8 | t[6] << 16 |
		    (uint32_t)t[7] << 24, (uint32_t)len);
	}
	out = malloc(olen);
	assert_non_null(out);
	assert_int_equal(inflateInit2(&s, 15 + 16), Z_OK);
	s.next_in = (Bytef *)z;
	s.avail_in = (uInt)zlen;
	s.next_out = (Bytef *)out;
	s.avail_out = (uInt)olen;
	assert_int_equal(inflate(&s, Z_FINISH), Z_STREAM_END);
	assert_int_equal(s.total_out, len);
	assert_int_equal(s.avail_in, 0);
	inflateEnd(&s);
	assert_memory_equal(out, in, len);
	free(out);
	free(z);
}

static void
test_gzip_buffer(void **state)
{
	size_t n = 3 << 20;
	char *big = malloc(n);

	(void)state;
	roundtrip("", 0);
	roundtrip("x", 1);
	roundtrip("twaudit_audit_status 0\n", 23);
	assert_non_null(big);
	/* Compressible text, then incompressible bytes (deflateBound). */
	for (size_t i = 0; i < n; i++)
		big[i] = "twaudit_tcpext_tw_total 1\n"[i % 26];
	roundtrip(big, n);
	for (size_t i = 0, x = 12345; i < n; i++) {
		x = x * 1103515245 + 12345;
		big[i] = (char)(x >> 16);
	}
	roundtrip(big, n);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_long),
		cmocka_unit_test(test_gzip_accept),
		cmocka_unit_test(test_gzip_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
