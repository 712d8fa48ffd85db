/*
 * The web config parser from buffers (webconfig_parse): what it refuses
 * (headers outside exporter-toolkit's list, duplicates, bcrypt costs
 * outside 4..31, several YAML documents, NUL bytes) and what it accepts;
 * the file reader's refusals (FIFO, device, directory, too large) and its
 * symlink following; webconfig_weakens.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/util.h"
#include "web/webconfig.h"

#define H04 "$2b$04$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e"
static char err[1024];

static struct webconfig *
parse(const char *text)
{
	err[0] = '\0';
	return webconfig_parse(text, strlen(text), "/etc/twaudit/web.yml", err,
	    sizeof(err));
}

/* TEXT is refused with a message containing WANT. */
static void
refused(const char *text, const char *want)
{
	struct webconfig *wc = parse(text);

	if (wc != NULL || strstr(err, want) == NULL)
		fail_msg("accepted or wrong message for [%s]: '%s' (want '%s')",
		    text, err, want);
	webconfig_unref(wc);
}

static void
test_empty(void **state)
{
	const char *empties[] = { "", "\n", "# only a comment\n", "  \n\n" };

	(void)state;
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		struct webconfig *wc = parse(empties[i]);

		assert_non_null(wc);
		assert_true(webconfig_empty(wc));
		assert_false(webconfig_tls(wc));
		assert_false(webconfig_auth_required(wc));
		webconfig_unref(wc);
	}
	/* A document, even one with nothing in it, is not empty. */
	{
		struct webconfig *wc = parse("basic_auth_users:\n");

		assert_non_null(wc);
		assert_false(webconfig_empty(wc));
		webconfig_unref(wc);
	}
}

static void
test_multi_document(void **state)
{
	(void)state;
	refused("basic_auth_users:\n  a: '" H04 "'\n---\nhttp_server_config:\n"
	    "  http2: true\n", "more than one YAML document");
	refused("---\nbasic_auth_users:\n  a: '" H04 "'\n---\n",
	    "more than one YAML document");
	refused("--- {}\n--- {}\n", "more than one YAML document");
	/* One document with explicit markers is fine. */
	{
		struct webconfig *wc = parse("---\nbasic_auth_users:\n  a: '"
		    H04 "'\n...\n");

		assert_non_null(wc);
		assert_true(webconfig_auth_required(wc));
		webconfig_unref(wc);
	}
}

static void
test_nul(void **state)
{
	static const char text[] = "basic_auth_users:\n  a: x\0y\n";
	struct webconfig *wc;

	(void)state;
	wc = webconfig_parse(text, sizeof(text) - 1, "w.yml", err, sizeof(err));
	assert_null(wc);
	assert_non_null(strstr(err, "NUL"));
}

static void
test_headers(void **state)
{
	struct webconfig *wc;
	const char *name, *value;

	(void)state;
	refused("http_server_config:\n  headers:\n    Transfer-Encoding: chunked\n",
	    "'Transfer-Encoding' cannot be configured");
	refused("http_server_config:\n  headers:\n    Connection: close\n",
	    "'Connection' cannot be configured");
	refused("http_server_config:\n  headers:\n    Content-Length: 5\n",
	    "cannot be configured");
	refused("http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
	    "    X-Frame-Options: deny\n", "duplicate key");
	refused("http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
	    "    x-frame-options: sameorigin\n", "X-Frame-Options given twice");
	refused("http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
	    "value 'sniff' not allowed");
	refused("http_server_config:\n  headers:\n    X-Frame-Options: allow-from x\n",
	    "not allowed");
	refused("http_server_config:\n  headers:\n    Strict-Transport-Security: ''\n",
	    "empty value");
	refused("http_server_config:\n  headers:\n    Strict-Transport-Security: \"a\\r\\nX: y\"\n",
	    "line break");

	wc = parse("http_server_config:\n  headers:\n"
	    "    strict-transport-security: max-age=31536000\n"
	    "    X-Content-Type-Options: NoSniff\n"
	    "    X-Frame-Options: DENY\n"
	    "    X-XSS-Protection: '1; mode=block'\n"
	    "    Content-Security-Policy: default-src 'none'\n");
	assert_non_null(wc);
	assert_int_equal(webconfig_header_count(wc), 5);
	webconfig_header(wc, 0, &name, &value);
	assert_string_equal(name, "Strict-Transport-Security");	/* canonical */
	assert_string_equal(value, "max-age=31536000");
	webconfig_header(wc, 4, &name, &value);
	assert_string_equal(name, "Content-Security-Policy");
	assert_string_equal(value, "default-src 'none'");
	webconfig_unref(wc);
}

static void
test_bcrypt_cost(void **state)
{
	static const char *const bad_costs[] = { "00", "03", "32", "39" };
	char text[256], hash[61];
	struct webconfig *wc;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		snprintf(hash, sizeof(hash), "$2b$%s%s", bad_costs[i], &H04[6]);
		snprintf(text, sizeof(text), "basic_auth_users:\n  alice: '%s'\n",
		    hash);
		refused(text, "outside 4..31");
	}
	snprintf(text, sizeof(text), "basic_auth_users:\n  alice: '$2y$31%s'\n",
	    &H04[6]);
	wc = parse(text);
	assert_non_null(wc);
	assert_non_null(webconfig_user_hash(wc, "alice"));
	assert_null(webconfig_user_hash(wc, "bob"));
	assert_non_null(webconfig_decoy_hash(wc));
	webconfig_unref(wc);
	refused("basic_auth_users:\n  alice: plain\n", "not a bcrypt hash");
}

static void
test_other_refusals(void **state)
{
	(void)state;
	refused("tls_server_config:\n  cert_file: a.crt\n", "go together");
	refused("colour: blue\n", "unknown key 'colour'");
	refused("basic_auth_users: [a\n", "line");
	refused("tls_server_config:\n  cert_file: a\n  key_file: b\n"
	    "  client_auth_type: RequireAndVerifyClientCert\n",
	    "needs client_ca_file");
}

static void
test_weakens(void **state)
{
	struct webconfig *none = webconfig_none();
	struct webconfig *auth = parse("basic_auth_users:\n  a: '" H04 "'\n");
	char what[128];

	(void)state;
	assert_true(webconfig_weakens(auth, none, what, sizeof(what)));
	assert_string_equal(what, "basic auth");
	assert_false(webconfig_weakens(none, auth, what, sizeof(what)));
	assert_false(webconfig_weakens(auth, auth, what, sizeof(what)));
	webconfig_unref(none);
	webconfig_unref(auth);
}

static void
test_reader(void **state)
{
	char dir[] = "/tmp/test_webconfig.XXXXXX", p[256], l[256], *buf;
	struct timespec t0, t1;
	size_t len;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* A FIFO with no writer: refused at once instead of blocking. */
	snprintf(p, sizeof(p), "%s/fifo", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(webconfig_read_file(p, &buf, &len, err, sizeof(err)), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	unlink(p);
	assert_int_equal(webconfig_read_file("/dev/zero", &buf, &len, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(webconfig_read_file(dir, &buf, &len, err, sizeof(err)),
	    -1);
	/* Through a symlink (as Kubernetes mounts secrets): followed. */
	snprintf(p, sizeof(p), "%s/web.yml", dir);
	snprintf(l, sizeof(l), "%s/link.yml", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("basic_auth_users:\n", f);
	fclose(f);
	assert_int_equal(symlink(p, l), 0);
	assert_int_equal(webconfig_read_file(l, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(len, strlen("basic_auth_users:\n"));
	assert_string_equal(buf, "basic_auth_users:\n");
	free(buf);
	unlink(l);
	/* Too large. */
	assert_int_equal(truncate(p, WEBCONFIG_MAX_FILE + 1), 0);
	assert_int_equal(webconfig_read_file(p, &buf, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than"));
	unlink(p);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_multi_document),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_bcrypt_cost),
		cmocka_unit_test(test_other_refusals),
		cmocka_unit_test(test_weakens),
		cmocka_unit_test(test_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
