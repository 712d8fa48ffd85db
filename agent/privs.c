/*
 * Capability and uid drop for `serve` (see privs.h and docs/security.md).
 *
 * The kept set is computed from the features, never from what happens to
 * be held: a root process keeps at most privs_needed(), a process started
 * with fewer capabilities keeps the intersection. The bounding set goes
 * too, so nothing can ever be regained through an execve (which seccomp
 * forbids anyway) and PR_SET_NO_NEW_PRIVS closes set-uid binaries.
 */
#include "agent/privs.h"

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "lib/util.h"

#define BIT(c) ((uint64_t)1 << (c))

uint64_t
privs_needed(const struct privs_config *c, const struct kversion *kv)
{
	uint64_t m = 0;

	if (c->sampler)
		m |= BIT(CAP_NET_RAW);
	/*
	 * TCP_METRICS_CMD_GET carries GENL_ADMIN_PERM from 3.7 (when the
	 * family appeared) to 4.11 (docs/kernel.md §8.1, §11.5); an unknown
	 * kernel gets the benefit of the doubt only if older than 4.12.
	 */
	if (c->tcp_metrics && kv != NULL && kv->code != 0 &&
	    kv->code >= KV(3, 7, 0) && kv->code < KV(4, 12, 0))
		m |= BIT(CAP_NET_ADMIN);
	if (c->netns || c->netns_all)
		m |= BIT(CAP_SYS_ADMIN);
	if (c->netns_all)
		m |= BIT(CAP_SYS_PTRACE);
	return m;
}

const char *
privs_describe(uint64_t caps, char *out, size_t outlen)
{
	size_t used = 0;

	if (outlen == 0)
		return out;
	out[0] = '\0';
	if (caps == 0) {
		snprintf(out, outlen, "none");
		return out;
	}
	for (unsigned i = 0; i < 64; i++) {
		const char *name;
		char num[16];
		int n;

		if (!(caps & BIT(i)))
			continue;
		name = capng_capability_to_name(i);
		if (name == NULL) {
			snprintf(num, sizeof(num), "cap_%u", i);
			name = num;
		}
		n = snprintf(out + used, outlen - used, "%s%s",
		    used ? "," : "", name);
		if (n < 0 || (size_t)n >= outlen - used)
			break;
		used += (size_t)n;
	}
	return out;
}

/* The calling thread's effective set, as capng sees it after a reload. */
static uint64_t
effective_mask(void)
{
	uint64_t m = 0;

	if (capng_get_caps_process() < 0)
		return 0;
	for (unsigned i = 0; i <= CAP_LAST_CAP && i < 64; i++)
		if (capng_have_capability(CAPNG_EFFECTIVE, i))
			m |= BIT(i);
	return m;
}

static uint64_t
permitted_mask(void)
{
	uint64_t m = 0;

	for (unsigned i = 0; i <= CAP_LAST_CAP && i < 64; i++)
		if (capng_have_capability(CAPNG_PERMITTED, i))
			m |= BIT(i);
	return m;
}

int
privs_user_check(const char *user, char *err, size_t errlen)
{
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096];
	int rc;

	if (user == NULL || user[0] == '\0')
		return 0;
	rc = getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &pwp);
	if (pwp == NULL) {
		set_error(err, errlen, "--security.user: no user '%s'%s%s",
		    user, rc ? ": " : "", rc ? strerror(rc) : "");
		return -1;
	}
	if (pw.pw_uid == 0) {
		set_error(err, errlen, "--security.user: '%s' is root", user);
		return -1;
	}
	return 0;
}

int
privs_drop(const struct privs_config *c, uint64_t *kept, char *err,
    size_t errlen)
{
	struct kversion kv = { 0 };
	struct utsname u;
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096];
	uint64_t want, held;
	bool switch_user = c->user != NULL && c->user[0] != '\0';
	int rc;

	if (kept != NULL)
		*kept = 0;
	if (uname(&u) == 0)
		kversion_parse(u.release, &kv);
	want = privs_needed(c, &kv);

	if (switch_user) {
		rc = getpwnam_r(c->user, &pw, pwbuf, sizeof(pwbuf), &pwp);
		if (pwp == NULL) {
			set_error(err, errlen, "--security.user: no user '%s'%s%s",
			    c->user, rc ? ": " : "", rc ? strerror(rc) : "");
			return -1;
		}
	}
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_get_caps_process() < 0) {
		set_error(err, errlen, "cannot read the process capabilities");
		return -1;
	}
	held = permitted_mask();
	if (held == 0 && geteuid() != 0 && !switch_user) {
		/* Unprivileged already: nothing to drop but new privileges. */
		goto nnp;
	}
	want &= held;
	capng_clear(CAPNG_SELECT_ALL);
	for (unsigned i = 0; i < 64; i++)
		if (want & BIT(i))
			capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, i);
	if (switch_user) {
		if (pw.pw_uid == 0) {
			set_error(err, errlen, "--security.user: '%s' is root",
			    c->user);
			return -1;
		}
		rc = capng_change_id((int)pw.pw_uid, (int)pw.pw_gid,
		    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING |
		    CAPNG_CLEAR_AMBIENT);
		if (rc < 0) {
			set_error(err, errlen, "cannot switch to user '%s' "
			    "(uid %u gid %u): libcap-ng error %d%s%s", c->user,
			    (unsigned)pw.pw_uid, (unsigned)pw.pw_gid, rc,
			    errno ? ": " : "", errno ? strerror(errno) : "");
			return -1;
		}
	} else if (capng_apply((held & BIT(CAP_SETPCAP)) ? CAPNG_SELECT_ALL :
	    (capng_select_t)(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT)) < 0) {
		set_error(err, errlen, "cannot drop capabilities: %s",
		    strerror(errno));
		return -1;
	}
nnp:
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		set_error(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(errno));
		return -1;
	}
	held = effective_mask();
	if (held & ~want) {
		char a[512];

		set_error(err, errlen, "capabilities still held after the drop: "
		    "%s", privs_describe(held & ~want, a, sizeof(a)));
		return -1;
	}
	if (kept != NULL)
		*kept = held;
	return 0;
}

const char *
privs_default_user(bool *missing)
{
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096];

	if (missing != NULL)
		*missing = false;
	if (geteuid() != 0)
		return NULL;
	if (getpwnam_r(PRIVS_DEFAULT_USER, &pw, pwbuf, sizeof(pwbuf),
	    &pwp) != 0 || pwp == NULL) {
		if (missing != NULL)
			*missing = true;
		return NULL;
	}
	return PRIVS_DEFAULT_USER;
}

uint64_t
privs_raise_nofile(uint64_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want)
		    ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
}
