/*
 * libFuzzer target: /proc/net/netstat and /proc/net/snmp text through
 * netstat_parse(). The input is passed as is (not NUL-terminated), so
 * ASan catches any read past LEN. Never touches a file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/counters.h"
#include "collectors/netstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct counter_set cs;
	char err[256];
	int rc;

	memset(&cs, 0, sizeof(cs));
	memset(err, 'X', sizeof(err));	/* no NUL: the parser must add one */
	rc = netstat_parse((const char *)data, size, &cs, err, sizeof(err));
	/* A failure comes with a terminated, non-empty message. */
	if (rc != 0 && (memchr(err, '\0', sizeof(err)) == NULL ||
	    err[0] == '\0'))
		abort();
	if (rc != 0 && rc != -1)
		abort();
	for (int i = 0; i < CTR_COUNT; i++)
		if (!cs.present[i] && cs.value[i] != 0)
			abort();

	/* Callers may pass no error buffer at all; same result. */
	memset(&cs, 0, sizeof(cs));
	if (netstat_parse((const char *)data, size, &cs, NULL, 0) != rc)
		abort();
	return 0;
}
