/*
 * logfmt (or JSON) logging to stderr. One write(2) per line so threads do not
 * interleave. Repeated lines are rate-limited per key, so that no client
 * (or flapping source) can make the log grow faster than a fixed budget.
 */
#include "lib/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/selfstat.h"
#include "lib/util.h"

static enum log_level min_level = LOG_INFO;
static enum log_format out_format = LOG_FORMAT_LOGFMT;
static const char *const level_name[] = { "debug", "info", "warn", "error" };

int
log_format_parse(const char *s)
{
	if (strcmp(s, "logfmt") == 0)
		return LOG_FORMAT_LOGFMT;
	if (strcmp(s, "json") == 0)
		return LOG_FORMAT_JSON;
	return -1;
}

void
log_set_format(enum log_format f)
{
	out_format = f;
}

int
log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_name[i]) == 0)
			return i;
	if (strcmp(s, "warning") == 0)
		return LOG_WARN;
	return -1;
}

void
log_set_level(enum log_level lvl)
{
	min_level = lvl;
}

const char *
log_quote(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen < 3) {
		if (outlen)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (; *s && o + 3 < outlen; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			out[o++] = '?';
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

/*
 * The rate limit. A key is the level and the message (or the caller's
 * key): LOG_BURST lines pass at once, then one every LOG_REFILL_SECONDS.
 * The others are counted (twaudit_log_lines_suppressed_total) and
 * reported in one "log lines suppressed" line when the key passes again,
 * or, while it stays suppressed, by the first log call LOG_REPORT_SECONDS
 * after its first suppressed line. LOG_KEYS keys are tracked; a new one
 * takes the slot used longest ago (reporting what it had suppressed).
 */
#define LOG_KEYS 64
#define LOG_BURST 20.0
#define LOG_REFILL_SECONDS 3.0
#define LOG_REPORT_SECONDS 10.0
#define LOG_LABEL 120

struct log_key {
	uint64_t hash;			/* 0: free slot */
	enum log_level lvl;
	double tokens, last;		/* bucket, time of the last refill */
	double since;			/* first suppressed line not reported */
	uint64_t suppressed;
	char label[LOG_LABEL];		/* the message or key, for the report */
};

static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_key keys[LOG_KEYS];

static uint64_t
key_hash(enum log_level lvl, const char *s)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)lvl;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h == 0 ? 1 : h;
}

/* Append S[0..N) to OUT at *O as JSON string content; leaves 10 bytes free. */
static void
json_put(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *o + 16 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			out[(*o)++] = '\\';
			out[(*o)++] = (char)c;
		} else if (c == '\n') {
			out[(*o)++] = '\\';
			out[(*o)++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			*o += (size_t)snprintf(out + *o, outlen - *o, "\\u%04x", c);
		} else {
			out[(*o)++] = (char)c;
		}
	}
}

/*
 * The logfmt pairs IN ("k=v k2=\"quoted \\\" value\"") as JSON members
 * (",\"k\":\"v\",...") appended to OUT at *O. Every value is a string.
 * A quoted value's escapes are log_quote()'s: \" \\ \n.
 */
void
log_pairs_json(const char *in, char *out, size_t outlen, size_t *o)
{
	char val[1024];

	while (*in != '\0' && *o + 16 < outlen) {
		const char *k;
		size_t kn, vn = 0;

		while (*in == ' ')
			in++;
		if (*in == '\0')
			break;
		for (k = in; *in != '\0' && *in != '=' && *in != ' '; in++)
			;
		kn = (size_t)(in - k);
		if (*in == '=' && *++in == '"') {
			for (in++; *in != '\0' && *in != '"'; in++) {
				if (*in == '\\' && in[1] != '\0') {
					in++;
					if (vn < sizeof(val))
						val[vn++] = *in == 'n' ? '\n' : *in;
				} else if (vn < sizeof(val)) {
					val[vn++] = *in;
				}
			}
			if (*in == '"')
				in++;
		} else {
			for (; *in != '\0' && *in != ' '; in++)
				if (vn < sizeof(val))
					val[vn++] = *in;
		}
		out[(*o)++] = ',';
		out[(*o)++] = '"';
		json_put(out, outlen, o, k, kn);
		if (*o + 4 >= outlen)
			break;
		out[(*o)++] = '"';
		out[(*o)++] = ':';
		out[(*o)++] = '"';
		json_put(out, outlen, o, val, vn);
		out[(*o)++] = '"';
	}
}

/* LINE[0..N) (logfmt) as one JSON object line in OUT. Returns its length. */
static size_t
line_json(enum log_level lvl, const char *ts, const char *msg,
    const char *pairs, char *out, size_t outlen)
{
	size_t o = 0;

	o = (size_t)snprintf(out, outlen, "{\"ts\":\"%s\",\"level\":\"%s\","
	    "\"msg\":\"", ts, level_name[lvl]);
	json_put(out, outlen - 4, &o, msg, strlen(msg));
	out[o++] = '"';
	log_pairs_json(pairs, out, outlen - 3, &o);
	out[o++] = '}';
	out[o++] = '\n';
	return o;
}

/* serve's process name, appended to every line as proc=NAME ("": none). */
static char proc_name[16];

void
log_set_process(const char *name)
{
	snprintf(proc_name, sizeof(proc_name), "%s", name != NULL ? name : "");
}

/* " proc=NAME" at BUF[*N] (within LEN), when a name is set. */
static void
append_proc(char *buf, size_t len, size_t *n)
{
	int m;

	if (proc_name[0] == '\0' || *n >= len)
		return;
	m = snprintf(buf + *n, len - *n, "%sproc=%s", *n > 0 ? " " : "",
	    proc_name);
	if (m > 0)
		*n = *n + (size_t)m < len ? *n + (size_t)m : len - 1;
}

/* Format and write one line. */
static void
write_line(enum log_level lvl, const char *msg, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
write_line(enum log_level lvl, const char *msg, const char *fmt, va_list ap)
{
	char line[2048], ts[32], qmsg[1024];
	int n;

	format_rfc3339(now_wall(), ts, sizeof(ts));
	if (out_format == LOG_FORMAT_JSON) {
		char pairs[2048], js[4096];
		size_t jn;

		size_t pn;

		pairs[0] = '\0';
		if (fmt != NULL)
			vsnprintf(pairs, sizeof(pairs), fmt, ap);
		pn = strlen(pairs);
		append_proc(pairs, sizeof(pairs), &pn);
		jn = line_json(lvl, ts, msg, pairs, js, sizeof(js));
		(void)!write(STDERR_FILENO, js, jn);
		return;
	}
	n = snprintf(line, sizeof(line), "ts=%s level=%s msg=%s", ts,
	    level_name[lvl], log_quote(msg, qmsg, sizeof(qmsg)));
	if (fmt != NULL && n > 0 && (size_t)n < sizeof(line) - 2) {
		int m;

		line[n++] = ' ';
		m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		if (m > 0)
			n += m;
	}
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	{
		size_t o = (size_t)n;

		append_proc(line, sizeof(line) - 1, &o);
		n = (int)o;
	}
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

static void
write_fmt(enum log_level lvl, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
write_fmt(enum log_level lvl, const char *msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	write_line(lvl, msg, fmt, ap);
	va_end(ap);
}

/* Report and reset what K suppressed. Called with key_lock held. */
static void
report(struct log_key *k, double now)
{
	char q[LOG_LABEL + 40];

	if (k->suppressed == 0)
		return;
	write_fmt(k->lvl, "log lines suppressed", "of=%s suppressed=%llu "
	    "seconds=%.0f", log_quote(k->label, q, sizeof(q)),
	    (unsigned long long)k->suppressed, now - k->since);
	k->suppressed = 0;
}

/* K's slot, new or evicted if need be. Called with key_lock held. */
static struct log_key *
key_slot(uint64_t h, enum log_level lvl, const char *label, double now)
{
	struct log_key *k = NULL;
	size_t n;

	for (size_t i = 0; i < LOG_KEYS; i++) {
		if (keys[i].hash == h)
			return &keys[i];
		if (k == NULL || keys[i].hash == 0 ||
		    (k->hash != 0 && keys[i].last < k->last))
			k = &keys[i];
	}
	report(k, now);
	k->hash = h;
	k->lvl = lvl;
	k->tokens = LOG_BURST;
	k->last = now;
	k->suppressed = 0;
	n = strlen(label);
	while (n > 0 && label[n - 1] == '\n')
		n--;
	if (n >= sizeof(k->label))
		n = sizeof(k->label) - 1;
	memcpy(k->label, label, n);
	k->label[n] = '\0';
	return k;
}

/* true when a line with KEY may be written now. */
static bool
admit(enum log_level lvl, const char *key)
{
	double now = now_monotonic();
	uint64_t h = key_hash(lvl, key);
	struct log_key *k;
	bool ok;

	pthread_mutex_lock(&key_lock);
	k = key_slot(h, lvl, key, now);
	k->tokens += (now - k->last) / LOG_REFILL_SECONDS;
	if (k->tokens > LOG_BURST)
		k->tokens = LOG_BURST;
	k->last = now;
	ok = k->tokens >= 1.0;
	if (ok) {
		k->tokens -= 1.0;
		report(k, now);
	} else if (k->suppressed++ == 0) {
		k->since = now;
	}
	/* Keys that stay quiet report what they held back, late but once. */
	for (size_t i = 0; i < LOG_KEYS; i++)
		if (keys[i].suppressed > 0 &&
		    now - keys[i].since >= LOG_REPORT_SECONDS)
			report(&keys[i], now);
	pthread_mutex_unlock(&key_lock);
	if (!ok)
		selfstat_add(SELF_LOG_SUPPRESSED, 1);
	return ok;
}

void
log_flush_suppressed(void)
{
	double now = now_monotonic();

	pthread_mutex_lock(&key_lock);
	for (size_t i = 0; i < LOG_KEYS; i++)
		report(&keys[i], now);
	pthread_mutex_unlock(&key_lock);
}

void
log_msg(enum log_level lvl, const char *msg, const char *fmt, ...)
{
	va_list ap;

	if (lvl < min_level || !admit(lvl, msg))
		return;
	va_start(ap, fmt);
	write_line(lvl, msg, fmt, ap);
	va_end(ap);
}

void
log_keyed(enum log_level lvl, const char *key, const char *msg,
    const char *fmt, ...)
{
	va_list ap;

	if (lvl < min_level || !admit(lvl, key))
		return;
	va_start(ap, fmt);
	write_line(lvl, msg, fmt, ap);
	va_end(ap);
}
