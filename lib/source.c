/* Source names and states. */
#include "lib/source.h"

#include <errno.h>

const char *const source_name[SRC_COUNT] = {
#define X(id, name) name,
	SOURCE_LIST(X)
#undef X
};

const char *const source_state_name[SOURCE_NSTATES] = {
	"ok", "not_applicable", "unavailable", "failed", "disabled",
};

enum source_state
source_state_from_errno(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case EACCES:
	case EPERM:
		return SOURCE_UNAVAILABLE;
	default:
		return SOURCE_FAILED;
	}
}
