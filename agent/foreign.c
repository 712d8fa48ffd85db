/* Is the audited tree this host's? (see foreign.h) */
#include "agent/foreign.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "lib/util.h"

#define BOOT_ID_REL "sys/kernel/random/boot_id"
#define BOOT_ID_MAX 64	/* a UUID and a newline */

/* ROOT's boot_id, trimmed, into OUT; false when unreadable or empty. */
static bool
boot_id(const char *root, char *out, size_t len)
{
	char *buf;
	size_t n;

	if (read_file_at(root, BOOT_ID_REL, BOOT_ID_MAX, &buf, &n) < 0)
		return false;
	n = strcspn(buf, "\n");
	snprintf(out, len, "%.*s", (int)n, buf);
	free(buf);
	return out[0] != '\0';
}

bool
tree_foreign(const char *procfs, const char *self_proc, char *why,
    size_t whylen)
{
	char mine[BOOT_ID_MAX + 1], theirs[BOOT_ID_MAX + 1];
	struct statfs sf;

	if (statfs(procfs, &sf) < 0) {
		/* Cannot tell: do not mix this machine in. */
		set_error(why, whylen, "cannot examine it: %s", strerror(errno));
		return true;
	}
	if (sf.f_type != PROC_SUPER_MAGIC) {
		set_error(why, whylen, "not a procfs mount");
		return true;
	}
	if (boot_id(procfs, theirs, sizeof(theirs)) &&
	    boot_id(self_proc, mine, sizeof(mine)) &&
	    strcmp(mine, theirs) != 0) {
		set_error(why, whylen, "its boot_id is not the running "
		    "kernel's");
		return true;
	}
	if (whylen > 0)
		why[0] = '\0';
	return false;
}
