/*
 * libFuzzer target: the text of one sysctl file through
 * sysctl_parse_value(), the same bytes as a key name through
 * sysctl_lookup(), and as a kernel.osrelease string through
 * kversion_parse() (which wants a C string: the input is copied up to its
 * first NUL into a buffer of exactly that size). Never touches a file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kversion.h"
#include "collectors/sysctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sysctl_value v;
	struct kversion kv;
	char err[128], *s;
	const uint8_t *nul;
	size_t slen;
	int rc, id;

	memset(&v, 0, sizeof(v));
	memset(err, 'X', sizeof(err));	/* no NUL: the parser must add one */
	rc = sysctl_parse_value((const char *)data, size, &v, err, sizeof(err));
	if (rc != 0 && (memchr(err, '\0', sizeof(err)) == NULL ||
	    err[0] == '\0'))
		abort();
	if (rc == 0 && (v.nvalues < 1 || v.nvalues > SYSCTL_MAX_VALUES))
		abort();
	if (rc != 0 && rc != -1)
		abort();

	id = sysctl_lookup((const char *)data, size);
	if (id < -1 || id >= SYSCTL_COUNT)
		abort();

	nul = memchr(data, '\0', size);
	slen = nul != NULL ? (size_t)(nul - data) : size;
	s = malloc(slen + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, slen);
	s[slen] = '\0';
	if (kversion_parse(s, &kv) == 0) {
		if (kv.code == 0)
			abort();
	} else if (kv.code != 0 || kv.rhel7) {
		abort();
	}
	free(s);
	return 0;
}
