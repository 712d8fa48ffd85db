/* The curated counter table (see counters.h). */
#include "collectors/counters.h"

#include <string.h>

const struct counter_def counter_defs[CTR_COUNT] = {
#define X(id, group, kname, metric, gauge, help) \
	{ group, kname, metric, gauge, help },
	COUNTER_LIST(X)
#undef X
};

/* The names' lengths, known at compile time: each of the few hundred
 * fields of a scrape is compared with every entry, and strlen() on both
 * names per comparison was a visible part of a fresh scrape. */
static const size_t group_len[CTR_COUNT] = {
#define X(id, group, kname, metric, gauge, help) sizeof(group) - 1,
	COUNTER_LIST(X)
#undef X
};

static const size_t name_len[CTR_COUNT] = {
#define X(id, group, kname, metric, gauge, help) sizeof(kname) - 1,
	COUNTER_LIST(X)
#undef X
};

int
counter_lookup(const char *group, size_t grouplen, const char *name,
    size_t namelen)
{
	for (int i = 0; i < CTR_COUNT; i++) {
		const struct counter_def *d = &counter_defs[i];

		if (name_len[i] == namelen && group_len[i] == grouplen &&
		    memcmp(d->kernel_name, name, namelen) == 0 &&
		    memcmp(d->group, group, grouplen) == 0)
			return i;
	}
	return -1;
}
