/*
 * Kernel profiles: version string -> profile, the behaviours each profile
 * has (docs/kernel.md §0, §9), and the model configuration parser.
 */
#include "model/model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/kversion.h"
#include "lib/util.h"

struct profile_def {
	const char *name;
	uint32_t lo;		/* first version in the range */
	uint8_t b[MODEL_NBEHAVIOURS];
};

/*
 * Columns: passive-check, ipv6-check, tcp-metrics, listen-drops,
 * key-server-addr, no-timestamp-drop, tw-ack-ratelimit,
 * paws-timewait-counter, paws-zero-ts-ok, rfc1337-rst-rearm.
 * paws-zero-ts-ok: absent in 2.6.32.67, present in 4.9.229 (§7 item 1);
 * the release in between was not read, so it starts with 3.1-3.5 here.
 * rfc1337-rst-rearm: the 4.x tcp_timewait_state_process re-arms the timer
 * on an in-window RST it ignores; 6.x does not (only a bare ACK re-arms).
 * The change was not dated; 4.12-6.15 takes the 6.x behaviour.
 */
static const struct profile_def profiles[MODEL_NPROFILES] = {
	[MODEL_P_2_6_32] = { "2.6.32-3.0", KV(2, 6, 32),
	    { 1, 0, 0, 0, 0, 0, 0, 0, 0, 1 } },
	[MODEL_P_3_1] = { "3.1-3.5", KV(3, 1, 0),
	    { 1, 1, 0, 0, 0, 0, 0, 0, 1, 1 } },
	[MODEL_P_3_6] = { "3.6-3.7", KV(3, 6, 0),
	    { 1, 1, 1, 0, 0, 0, 0, 0, 1, 1 } },
	[MODEL_P_3_8] = { "3.8-3.12", KV(3, 8, 0),
	    { 1, 1, 1, 1, 0, 0, 0, 0, 1, 1 } },
	[MODEL_P_3_13] = { "3.13-3.16", KV(3, 13, 0),
	    { 1, 1, 1, 1, 1, 0, 0, 0, 1, 1 } },
	[MODEL_P_3_17] = { "3.17-4.0", KV(3, 17, 0),
	    { 1, 1, 1, 1, 1, 1, 0, 0, 1, 1 } },
	[MODEL_P_4_1] = { "4.1-4.11", KV(4, 1, 0),
	    { 1, 1, 1, 1, 1, 1, 1, 0, 1, 1 } },
	[MODEL_P_4_12] = { "4.12-6.15", KV(4, 12, 0),
	    { 0, 1, 1, 1, 1, 1, 1, 0, 1, 0 } },
	[MODEL_P_6_16] = { "6.16+", KV(6, 16, 0),
	    { 0, 1, 1, 1, 1, 1, 1, 1, 1, 0 } },
};

static const char *const behaviour_names[MODEL_NBEHAVIOURS] = {
	[MB_PASSIVE_CHECK] = "passive-check",
	[MB_IPV6_CHECK] = "ipv6-check",
	[MB_TCP_METRICS] = "tcp-metrics",
	[MB_LISTEN_DROPS] = "listen-drops",
	[MB_KEY_SERVER_ADDR] = "key-server-addr",
	[MB_NO_TS_DROP] = "no-timestamp-drop",
	[MB_TW_ACK_RATELIMIT] = "tw-ack-ratelimit",
	[MB_PAWS_TW_COUNTER] = "paws-timewait-counter",
	[MB_PAWS_ZERO_TS_OK] = "paws-zero-ts-ok",
	[MB_RFC1337_RST_REARM] = "rfc1337-rst-rearm",
};

static const char *const setting_names[MODEL_NSETTINGS] = {
	[MS_TW_RECYCLE] = "net.ipv4.tcp_tw_recycle",
	[MS_TIMESTAMPS] = "net.ipv4.tcp_timestamps",
	[MS_RFC1337] = "net.ipv4.tcp_rfc1337",
};

const char *
model_profile_name(enum model_profile p)
{
	if ((unsigned)p >= MODEL_NPROFILES)
		return NULL;
	return profiles[p].name;
}

int
model_profile_by_name(const char *name, enum model_profile *out)
{
	for (unsigned i = 0; i < MODEL_NPROFILES; i++) {
		if (strcmp(name, profiles[i].name) == 0) {
			*out = (enum model_profile)i;
			return 0;
		}
	}
	return -1;
}

const char *
model_behaviour_name(enum model_behaviour b)
{
	if ((unsigned)b >= MODEL_NBEHAVIOURS)
		return NULL;
	return behaviour_names[b];
}

/* Compare treating '-' and '_' alike. */
static bool
name_eq(const char *a, const char *b, size_t blen)
{
	size_t i;

	for (i = 0; i < blen && a[i] != '\0'; i++) {
		char x = a[i] == '_' ? '-' : a[i];
		char y = b[i] == '_' ? '-' : b[i];
		if (x != y)
			return false;
	}
	return i == blen && a[i] == '\0';
}

int
model_behaviour_by_name(const char *name, enum model_behaviour *out)
{
	for (unsigned i = 0; i < MODEL_NBEHAVIOURS; i++) {
		if (name_eq(behaviour_names[i], name, strlen(name))) {
			*out = (enum model_behaviour)i;
			return 0;
		}
	}
	return -1;
}

bool
model_profile_default(enum model_profile p, enum model_behaviour b)
{
	if ((unsigned)p >= MODEL_NPROFILES || (unsigned)b >= MODEL_NBEHAVIOURS)
		return false;
	return profiles[p].b[b] != 0;
}

bool
model_config_behaviour(const struct model_config *cfg, enum model_behaviour b)
{
	if ((unsigned)b >= MODEL_NBEHAVIOURS)
		return false;
	if (cfg->override[b] >= 0)
		return cfg->override[b] != 0;
	if (cfg->version_fix[b] >= 0)
		return cfg->version_fix[b] != 0;
	return model_profile_default(cfg->profile, b);
}

const char *
model_setting_name(enum model_setting s)
{
	if ((unsigned)s >= MODEL_NSETTINGS)
		return NULL;
	return setting_names[s];
}

struct model_config
model_config_default(void)
{
	struct model_config c;

	memset(&c, 0, sizeof(c));
	c.profile = MODEL_P_6_16;
	memset(c.version_fix, -1, sizeof(c.version_fix));
	memset(c.override, -1, sizeof(c.override));
	c.setting[MS_TW_RECYCLE] = 0;
	c.setting[MS_TIMESTAMPS] = 1;
	c.setting[MS_RFC1337] = 0;
	c.server_rto_ms = 200;
	c.max_peers = MODEL_DEFAULT_MAX_PEERS;
	c.max_connections = MODEL_DEFAULT_MAX_CONNECTIONS;
	c.max_sources = MODEL_DEFAULT_MAX_SOURCES;
	return c;
}

void
model_config_override(struct model_config *cfg, enum model_behaviour b,
    int value)
{
	if ((unsigned)b < MODEL_NBEHAVIOURS)
		cfg->override[b] = (int8_t)(value < 0 ? -1 : value != 0);
}

void
model_config_force_setting(struct model_config *cfg, enum model_setting s,
    int32_t value)
{
	unsigned k = 0;

	if ((unsigned)s >= MODEL_NSETTINGS)
		return;
	cfg->setting[s] = value;
	for (unsigned i = 0; i < cfg->nchanges; i++)
		if (cfg->change[i].setting != s)
			cfg->change[k++] = cfg->change[i];
	cfg->nchanges = k;
}

int
model_profile_from_version(const char *release, struct model_config *cfg,
    char *err, size_t errlen)
{
	struct kversion kv;
	enum model_profile p;

	if (release != NULL && model_profile_by_name(release, &p) == 0) {
		cfg->profile = p;
		memset(cfg->version_fix, -1, sizeof(cfg->version_fix));
		return 0;
	}
	if (kversion_parse(release, &kv) != 0) {
		set_error(err, errlen, "cannot parse kernel version '%s'",
		    release ? release : "(null)");
		return -1;
	}
	if (kv.code < profiles[0].lo) {
		set_error(err, errlen, "kernel %s is older than 2.6.32, which "
		    "no profile covers", release);
		return -1;
	}
	p = MODEL_P_2_6_32;
	for (unsigned i = 0; i < MODEL_NPROFILES; i++)
		if (kv.code >= profiles[i].lo)
			p = (enum model_profile)i;
	cfg->profile = p;
	memset(cfg->version_fix, -1, sizeof(cfg->version_fix));
	/* RHEL 7's 3.10 carries a26552afe894 (docs/kernel.md §1.4). */
	if (kv.rhel7 && p < MODEL_P_3_17)
		cfg->version_fix[MB_NO_TS_DROP] = 1;
	return 0;
}

static int
parse_bool(const char *s, int *out)
{
	if (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "yes") == 0 || strcasecmp(s, "on") == 0)
		*out = 1;
	else if (strcmp(s, "0") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "no") == 0 || strcasecmp(s, "off") == 0)
		*out = 0;
	else if (strcasecmp(s, "default") == 0 || strcasecmp(s, "auto") == 0)
		*out = -1;
	else
		return -1;
	return 0;
}

static int
parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
set_model_cap(struct model_config *cfg, const char *name, const char *val,
    char *err, size_t errlen)
{
	static const char *const caps[] = { "max-peers", "max-connections",
	    "max-sources", "server-rto-ms" };
	uint32_t *fields[] = { &cfg->max_peers, &cfg->max_connections,
	    &cfg->max_sources, &cfg->server_rto_ms };
	uint64_t v;

	for (unsigned i = 0; i < 4; i++) {
		if (!name_eq(caps[i], name, strlen(name)))
			continue;
		if (parse_uint(val, i == 3 ? 120000 : MODEL_CAP_LIMIT, &v) != 0 ||
		    v == 0) {
			set_error(err, errlen, "model.%s: '%s' is not a number "
			    "in 1..%u", caps[i], val,
			    i == 3 ? 120000u : MODEL_CAP_LIMIT);
			return -1;
		}
		*fields[i] = (uint32_t)v;
		return 0;
	}
	set_error(err, errlen, "unknown model setting 'model.%s'", name);
	return -1;
}

int
model_config_set(struct model_config *cfg, const char *assignment,
    char *err, size_t errlen)
{
	char buf[128], *eq, *at, *name, *val;
	size_t len;

	if (assignment == NULL || (len = strlen(assignment)) >= sizeof(buf)) {
		set_error(err, errlen, "setting too long or missing");
		return -1;
	}
	memcpy(buf, assignment, len + 1);
	if ((eq = strchr(buf, '=')) == NULL || eq == buf || eq[1] == '\0') {
		set_error(err, errlen, "'%s': expected NAME=VALUE[@SECONDS]",
		    assignment);
		return -1;
	}
	*eq = '\0';
	name = buf;
	val = eq + 1;

	if (strncmp(name, "kernel.", 7) == 0) {
		enum model_behaviour b;
		int v;

		if (model_behaviour_by_name(name + 7, &b) != 0) {
			set_error(err, errlen, "unknown kernel behaviour '%s'",
			    name + 7);
			return -1;
		}
		if (parse_bool(val, &v) != 0) {
			set_error(err, errlen, "%s: '%s' is not true/false",
			    name, val);
			return -1;
		}
		model_config_override(cfg, b, v);
		return 0;
	}
	if (strncmp(name, "model.", 6) == 0)
		return set_model_cap(cfg, name + 6, val, err, errlen);

	if (strncmp(name, "net.ipv4.", 9) == 0)
		name += 9;
	int s = -1;
	for (unsigned i = 0; i < MODEL_NSETTINGS; i++)
		if (strcmp(name, setting_names[i] + 9) == 0)
			s = (int)i;
	if (s < 0) {
		set_error(err, errlen, "unknown setting '%s' (known: "
		    "tcp_tw_recycle, tcp_timestamps, tcp_rfc1337)", buf);
		return -1;
	}

	uint64_t at_us = 0;
	bool scheduled = false;
	if ((at = strchr(val, '@')) != NULL) {
		char *end;
		double secs;

		*at = '\0';
		errno = 0;
		secs = strtod(at + 1, &end);
		if (at[1] == '\0' || *end != '\0' || errno != 0 ||
		    !(secs >= 0) || secs > 1e9) {
			set_error(err, errlen, "%s: bad time '@%s' (seconds "
			    "after the first event)", buf, at + 1);
			return -1;
		}
		at_us = (uint64_t)(secs * 1e6 + 0.5);
		scheduled = true;
	}
	uint64_t v;
	if (parse_uint(val, s == MS_TIMESTAMPS ? 2 : 1, &v) != 0) {
		set_error(err, errlen, "%s: bad value '%s'", buf, val);
		return -1;
	}
	if (!scheduled) {
		cfg->setting[s] = (int32_t)v;
		return 0;
	}
	if (cfg->nchanges >= MODEL_MAX_CHANGES) {
		set_error(err, errlen, "too many scheduled changes (max %d)",
		    MODEL_MAX_CHANGES);
		return -1;
	}
	/* Keep the list sorted by time; equal times keep command-line order. */
	unsigned i = cfg->nchanges;
	while (i > 0 && cfg->change[i - 1].at_us > at_us) {
		cfg->change[i] = cfg->change[i - 1];
		i--;
	}
	cfg->change[i].at_us = at_us;
	cfg->change[i].value = (int32_t)v;
	cfg->change[i].setting = (uint8_t)s;
	cfg->nchanges++;
	return 0;
}

const char *
model_reason_name(enum model_reason r)
{
	static const char *const name[MODEL_NREASONS] = {
		[MODEL_R_NONE] = "none",
		[MODEL_R_PASSIVE_PAWS] = "passive_paws",
		[MODEL_R_TIMEWAIT_PAWS] = "timewait_paws",
		[MODEL_R_TIMEWAIT_SEQ] = "timewait_seq",
	};

	return (unsigned)r < MODEL_NREASONS ? name[r] : "unknown";
}

const char *
model_table_name(enum model_table t)
{
	static const char *const name[MODEL_NTABLES] = {
		[MODEL_T_PEERS] = "peers",
		[MODEL_T_CONNECTIONS] = "connections",
		[MODEL_T_SOURCES] = "sources",
	};

	return (unsigned)t < MODEL_NTABLES ? name[t] : "unknown";
}

const char *
model_nat_class_name(enum model_nat_class c)
{
	switch (c) {
	case MODEL_NAT_HOSTS:
		return "hosts";
	case MODEL_NAT_PER_CONN:
		return "per_connection";
	default:
		return "unknown";
	}
}
