/* The curated counter table (see counters.h). */
#include "collectors/counters.h"

#include <string.h>

const struct counter_def counter_defs[CTR_COUNT] = {
#define X(id, group, kname, metric, gauge, help) \
	{ group, kname, metric, gauge, help },
	COUNTER_LIST(X)
#undef X
};

int
counter_lookup(const char *group, size_t grouplen, const char *name,
    size_t namelen)
{
	for (int i = 0; i < CTR_COUNT; i++) {
		const struct counter_def *d = &counter_defs[i];

		if (strlen(d->group) == grouplen &&
		    memcmp(d->group, group, grouplen) == 0 &&
		    strlen(d->kernel_name) == namelen &&
		    memcmp(d->kernel_name, name, namelen) == 0)
			return i;
	}
	return -1;
}
