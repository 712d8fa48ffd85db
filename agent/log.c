/* logfmt logging to stderr. One write(2) per line so threads do not interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static enum log_level min_level = LOG_INFO;
static const char *const level_name[] = { "debug", "info", "warn", "error" };

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

void
log_msg(enum log_level lvl, const char *msg, const char *fmt, ...)
{
	char line[2048], ts[32], qmsg[1024];
	int n;

	if (lvl < min_level)
		return;
	format_rfc3339(now_wall(), ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "ts=%s level=%s msg=%s", ts,
	    level_name[lvl], log_quote(msg, qmsg, sizeof(qmsg)));
	if (fmt != NULL && n > 0 && (size_t)n < sizeof(line) - 2) {
		va_list ap;
		int m;

		line[n++] = ' ';
		va_start(ap, fmt);
		m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
		if (m > 0)
			n += m;
	}
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}
