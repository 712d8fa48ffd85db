/* Bounded file reads and small parsing helpers. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
path_join(char *out, size_t outlen, const char *root, const char *rel)
{
	size_t rlen = strlen(root);
	int n;

	while (rlen > 1 && root[rlen - 1] == '/')
		rlen--;
	while (*rel == '/')
		rel++;
	if (rlen == 1 && root[0] == '/')
		n = snprintf(out, outlen, "/%s", rel);
	else
		n = snprintf(out, outlen, "%.*s/%s", (int)rlen, root, rel);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int
read_file_at(const char *root, const char *rel, size_t max, char **buf,
    size_t *len)
{
	char path[4096];
	char *data = NULL;
	size_t used = 0, cap = 0;
	int fd, err;

	*buf = NULL;
	*len = 0;
	if (path_join(path, sizeof(path), root, rel) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	/*
	 * /proc files report size 0, so grow as we read. Start small: a
	 * /proc/sys handler allocates and zeroes a kernel buffer as large as
	 * each read(2), and most files we read are a few bytes.
	 */
	for (;;) {
		ssize_t n;

		if (cap - used < 512) {
			size_t ncap = cap ? cap * 2 : 1024;
			char *p;

			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= used) {
				err = -EFBIG;
				goto fail;
			}
			p = realloc(data, ncap + 1);
			if (p == NULL) {
				err = -ENOMEM;
				goto fail;
			}
			data = p;
			cap = ncap;
		}
		n = read(fd, data + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			err = -EFBIG;
			goto fail;
		}
	}
	close(fd);
	if (data == NULL && (data = malloc(1)) == NULL)
		return -ENOMEM;
	data[used] = '\0';
	*buf = data;
	*len = used;
	return 0;
fail:
	close(fd);
	free(data);
	return err;
}

static int
skip_trailing_space(const char *s, size_t len, size_t i)
{
	for (; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return -1;
	return 0;
}

int
parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len || s[i] < '0' || s[i] > '9')
		return -1;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (skip_trailing_space(s, len, i) < 0)
		return -1;
	*out = v;
	return 0;
}

int
parse_i64(const char *s, size_t len, int64_t *out)
{
	uint64_t mag;
	size_t i = 0;
	int neg = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < len && (s[i] == '-' || s[i] == '+')) {
		neg = s[i] == '-';
		i++;
	}
	if (parse_u64(s + i, len - i, &mag) < 0)
		return -1;
	if (i < len && (s[i] == ' ' || s[i] == '\t'))
		return -1;	/* "- 5" is not a number */
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return -1;
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return -1;
		*out = (int64_t)mag;
	}
	return 0;
}

void
set_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

double
now_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
now_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
format_rfc3339(double wall, char *out, size_t outlen)
{
	time_t t = (time_t)wall;
	int ms = (int)((wall - (double)t) * 1000);
	char sec[24];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%03dZ", sec, ms < 0 ? 0 : ms > 999 ? 999 : ms);
}

bool
text_next_token(const char *p, size_t n, size_t *pos, const char **tok,
    size_t *toklen)
{
	size_t i = *pos, start;

	while (i < n && text_is_blank(p[i]))
		i++;
	*pos = i;
	if (i == n)
		return false;
	start = i;
	while (i < n && !text_is_blank(p[i]))
		i++;
	*tok = p + start;
	*toklen = i - start;
	*pos = i;
	return true;
}

void
sb_add(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sb->cap - sb->len) {
		sb->overflow = 1;
		return;
	}
	sb->len += (size_t)n;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : p;
}
