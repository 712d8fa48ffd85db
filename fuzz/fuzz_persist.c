/*
 * libFuzzer target: one sysctl.d file's text through persist_parse().
 * The text is applied twice to the same set, as two files (the second
 * with a path longer than PERSIST_PATH_LEN), so the PERSIST_MAX_ASSIGN
 * window and the path truncation are exercised; then the set's invariants
 * are checked. Input not NUL-terminated; never touches a file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/persist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct persist_set set;	/* ~60 KiB: not on the stack */
static char long_path[PERSIST_PATH_LEN + 64];

static void
check_string(const char *s, size_t cap)
{
	const char *nul = memchr(s, '\0', cap);

	if (nul == NULL)
		abort();
	/* Everything copied from the file is printable ASCII or a tab. */
	for (; s < nul; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') ||
		    (unsigned char)*s >= 0x7f)
			abort();
}

static void
check_set(void)
{
	for (int k = 0; k < SYSCTL_COUNT; k++) {
		const struct persist_key *pk = &set.key[k];

		if (pk->n > PERSIST_MAX_ASSIGN)
			abort();
		if (pk->n == 0 ? pk->effective != -1 :
		    pk->effective != (int)pk->n - 1)
			abort();
		if (pk->procps_effective < -1 ||
		    pk->procps_effective >= (int)pk->n)
			abort();
		for (unsigned i = 0; i < pk->n; i++) {
			check_string(pk->a[i].path, sizeof(pk->a[i].path));
			check_string(pk->a[i].value, sizeof(pk->a[i].value));
			if (pk->a[i].line == 0)
				abort();
		}
		check_string(pk->procps_value, sizeof(pk->procps_value));
		check_string(pk->procps_path, sizeof(pk->procps_path));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	int rc1, rc2;

	if (long_path[0] == '\0') {
		memset(long_path, 'a', sizeof(long_path) - 1);
		memcpy(long_path, "/etc/sysctl.d/", 14);
		long_path[sizeof(long_path) - 1] = '\0';
	}
	persist_init(&set);
	memset(err, 'X', sizeof(err));	/* no NUL: the parser must add one */
	rc1 = persist_parse((const char *)data, size,
	    "/etc/sysctl.d/99-fuzz.conf", &set, err, sizeof(err));
	if (rc1 != 0 && (memchr(err, '\0', sizeof(err)) == NULL ||
	    err[0] == '\0'))
		abort();
	check_set();
	rc2 = persist_parse((const char *)data, size, long_path, &set, NULL, 0);
	if (rc1 != rc2 || (rc1 != 0 && rc1 != -1))
		abort();
	check_set();
	return 0;
}
