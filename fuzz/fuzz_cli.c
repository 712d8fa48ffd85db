/*
 * libFuzzer target: command-line values. The input up to its first NUL is
 * a C string given to cli_parse_duration() ("--web.timeout=1m30s") and to
 * http_split_address() ("--web.listen-address=[::1]:9477") with a roomy
 * and a tiny host buffer; the whole input split at NULs is an argv for
 * cli_parse() against a table with a flag of every type. Every string and
 * buffer is allocated at its exact size so ASan sees any overrun. Never
 * touches a file (http_split_address only parses; nothing listens).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cli.h"
#include "web/listen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

static char *
dup_span(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static void
check_address(const char *s, size_t hostlen)
{
	char *host = malloc(hostlen), err[160];
	unsigned port = 70000;

	if (host == NULL)
		return;
	memset(err, 'X', sizeof(err));
	if (http_split_address(s, host, hostlen, &port, err,
	    sizeof(err)) == 0) {
		if (port > 65535 || memchr(host, '\0', hostlen) == NULL)
			abort();
	} else if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0') {
		abort();
	}
	free(host);
}

static void
check_argv(const uint8_t *data, size_t size)
{
	const char *str = "x";
	bool b = false;
	double d = 0;
	unsigned long u = 0;
	int tri = -1;
	struct cli_list list = { 0 }, pos = { 0 };
	const struct cli_flag flags[] = {
		{ "web.listen-address", CLI_LIST, &list, "ADDR", "listen", NULL },
		{ "web.timeout", CLI_DURATION, &d, "DUR", "timeout", "30s" },
		{ "model.max-peers", CLI_UINT, &u, "N", "peers", "65536" },
		{ "security.seccomp", CLI_BOOL, &b, NULL, "seccomp", "true" },
		{ "collector.sampler", CLI_TRISTATE, &tri, NULL, "sampler",
		    "true" },
		{ "sampler.enabled", CLI_TRISTATE, &tri, NULL, "alias", "true" },
		{ "procfs", CLI_STRING, &str, "PATH", "procfs", "/proc" },
		{ NULL, CLI_STRING, NULL, NULL, NULL, NULL },
	};
	char *argv[MAX_ARGS];
	char err[256];
	int argc = 0, rc;
	size_t i = 0;

	while (i < size && argc < MAX_ARGS) {
		const uint8_t *nul = memchr(data + i, '\0', size - i);
		size_t n = nul != NULL ? (size_t)(nul - (data + i)) : size - i;

		if ((argv[argc] = dup_span(data + i, n)) == NULL)
			break;
		argc++;
		i += n + 1;
	}
	memset(err, 'X', sizeof(err));
	rc = cli_parse(flags, argc, argv, (argc & 1) ? &pos : NULL, err,
	    sizeof(err));
	if (rc < -1 || rc > 1)
		abort();
	if (rc == -1 && (memchr(err, '\0', sizeof(err)) == NULL ||
	    err[0] == '\0'))
		abort();
	if (list.n > CLI_MAX_LIST || pos.n > CLI_MAX_LIST)
		abort();
	if (!(d >= 0 && d <= 365.0 * 86400) || u > 0xffffffffUL ||
	    tri < -1 || tri > 1)
		abort();
	while (argc > 0)
		free(argv[--argc]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	char *s = dup_span(data, nul != NULL ? (size_t)(nul - data) : size);
	double secs = -1;

	if (s == NULL)
		return 0;
	if (cli_parse_duration(s, &secs) == 0 &&
	    !(secs >= 0 && secs <= 365.0 * 86400))
		abort();
	check_address(s, 256);
	check_address(s, 4);
	free(s);
	check_argv(data, size);
	return 0;
}
