/* Bounded file reads and small parsing helpers. */
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
stat_regular(const char *path, struct stat *st)
{
	if (stat(path, st) < 0)
		return -errno;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	return S_ISREG(st->st_mode) ? 0 : -ENOTREG;
}

int
open_untrusted(const char *path, struct stat *st)
{
	struct stat tmp;
	int fd, rc;

	if (st == NULL)
		st = &tmp;
	/* Not even opened when it is no regular file: opening a device can
	   act (a tape rewinds, a watchdog arms). fstat after open closes the
	   race with a swap between the two. */
	if ((rc = stat_regular(path, st)) < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

int
fd_check_regular(int fd, struct stat *out)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (out != NULL)
		*out = st;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	return S_ISREG(st.st_mode) ? 0 : -ENOTREG;
}

const char *
file_type_name(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFSOCK: return "a socket";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFLNK: return "a symbolic link";
	default: return "of an unknown file type";
	}
}

const char *
file_strerror(int err)
{
	return err == ENOTREG ? "not a regular file (a FIFO, socket or device)" :
	    strerror(err);
}

int
read_fd_whole(int fd, bool positional, size_t max, char **buf, size_t *len)
{
	char *data = NULL;
	size_t used = 0, cap = 0;
	int err;

	*buf = NULL;
	*len = 0;
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
		n = positional ? pread(fd, data + used, cap - used, (off_t)used) :
		    read(fd, data + used, cap - used);
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
	if (data == NULL && (data = malloc(1)) == NULL)
		return -ENOMEM;
	data[used] = '\0';
	*buf = data;
	*len = used;
	return 0;
fail:
	free(data);
	return err;
}

int
read_file_at(const char *root, const char *rel, size_t max, char **buf,
    size_t *len)
{
	char path[4096];
	int fd, err;

	*buf = NULL;
	*len = 0;
	if (path_join(path, sizeof(path), root, rel) < 0)
		return -ENAMETOOLONG;
	fd = open_untrusted(path, NULL);
	if (fd < 0)
		return fd;
	if ((err = fd_check_regular(fd, NULL)) == 0)
		err = read_fd_whole(fd, false, max, buf, len);
	close(fd);
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

/* Length of the valid UTF-8 sequence at P (N bytes left), 0 if invalid. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp, min;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2; cp = p[0] & 0x1f; min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3; cp = p[0] & 0x0f; min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4; cp = p[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	/* C1 controls (U+0080..U+009F) act like ESC on some terminals. */
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;
	return len;
}

size_t
text_escape(const char *in, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = strlen(in), o = 0;

	if (outlen == 0)
		return 0;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_len(p + i, n - i);
		char esc[8];
		const char *piece;
		size_t plen;

		if (l == 1 && p[i] == '\\') {
			piece = "\\\\"; plen = 2;
		} else if (l == 0 || p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
			piece = esc; plen = 4; l = 1;
		} else {
			piece = in + i; plen = l;
		}
		if (o + plen >= outlen)
			break;		/* never half an escape or a character */
		memcpy(out + o, piece, plen);
		o += plen;
		i += l;
	}
	out[o] = '\0';
	return o;
}

void
malloc_tune_daemon(void)
{
#ifdef __GLIBC__
	mallopt(M_ARENA_MAX, 2);
	mallopt(M_MMAP_THRESHOLD, MALLOC_DAEMON_MMAP_THRESHOLD);
#endif
}
