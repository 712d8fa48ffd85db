/*
 * Logging to stderr, logfmt (ts=... level=info msg="..." key=value) or
 * JSON ({"ts":"...","level":"info","msg":"...","key":"value"}).
 */
#ifndef TWAUDIT_LOG_H
#define TWAUDIT_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* "debug", "info", "warn", "error"; -1 if unknown. */
int log_level_parse(const char *s);
void log_set_level(enum log_level lvl);

enum log_format { LOG_FORMAT_LOGFMT, LOG_FORMAT_JSON };

/* "logfmt", "json"; -1 if unknown. */
int log_format_parse(const char *s);
void log_set_format(enum log_format f);

/*
 * Append logfmt pairs IN (as log_msg's FMT produces them) to OUT at *O as
 * JSON object members, ",\"key\":\"value\"", every value a string; stops
 * before OUTLEN. Exposed for the tests.
 */
void log_pairs_json(const char *in, char *out, size_t outlen, size_t *o);

/*
 * MSG is quoted; FMT (may be NULL) appends raw "key=value ..." pairs,
 * whose values the caller quotes with log_quote() when needed. Lines are
 * rate-limited per level and MSG: 20 at once, then one every 3 s; the
 * rest are counted (twaudit_log_lines_suppressed_total) and reported by a
 * "log lines suppressed" line with of=MSG and suppressed=N.
 */
void log_msg(enum log_level lvl, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* log_msg() rate-limited by KEY instead of MSG (e.g. a library's format). */
void log_keyed(enum log_level lvl, const char *key, const char *msg,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Report now what the rate limit holds back (at exit). */
void log_flush_suppressed(void);

#define log_debug(m, ...) log_msg(LOG_DEBUG, m, __VA_ARGS__)
#define log_info(m, ...) log_msg(LOG_INFO, m, __VA_ARGS__)
#define log_warn(m, ...) log_msg(LOG_WARN, m, __VA_ARGS__)
#define log_error(m, ...) log_msg(LOG_ERROR, m, __VA_ARGS__)

/*
 * Name the process in every line from now on (proc=NAME, last): serve's
 * "collector" and "web". NULL or "" stops it.
 */
void log_set_process(const char *name);

/* Quote S for logfmt into OUT (always terminated). Returns OUT. */
const char *log_quote(const char *s, char *out, size_t outlen);

#endif
