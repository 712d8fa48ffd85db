/*
 * libFuzzer target: /proc/net/sockstat and sockstat6 text through
 * sockstat_parse(). Input not NUL-terminated; never touches a file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/sockstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockstat ss;
	char err[256];
	int rc;

	memset(&ss, 0, sizeof(ss));
	memset(err, 'X', sizeof(err));	/* no NUL: the parser must add one */
	rc = sockstat_parse((const char *)data, size, &ss, err, sizeof(err));
	if (rc != 0 && (memchr(err, '\0', sizeof(err)) == NULL ||
	    err[0] == '\0'))
		abort();
	if (rc != 0 && rc != -1)
		abort();
	for (int i = 0; i < SS_COUNT; i++)
		if (!ss.present[i] && ss.v[i] != 0)
			abort();

	memset(&ss, 0, sizeof(ss));
	if (sockstat_parse((const char *)data, size, &ss, NULL, 0) != rc)
		abort();
	return 0;
}
