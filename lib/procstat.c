/* The process_* figures from /proc/self (procstat.h). */
#include "lib/procstat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"

/* /proc/self/stat is one line well under this; limits about 1.5 KiB. */
#define PROCSTAT_BUF 4096

struct procstat {
	int stat_fd, limits_fd, fd_dir;
	double ticks;			/* sysconf(_SC_CLK_TCK) */
	uint64_t page;			/* sysconf(_SC_PAGESIZE) */
	double start_time;		/* fixed for the process */
};

/* Field FIELD (1-based, as proc(5) counts) of the words in P..END. */
static int
word(const char *p, const char *end, int field, uint64_t *out)
{
	for (int i = 1; p < end; i++) {
		const char *w;

		while (p < end && *p == ' ')
			p++;
		w = p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		if (i == field)
			return p > w ? parse_u64(w, (size_t)(p - w), out) : -1;
		if (p < end && *p == '\n')
			return -1;
	}
	return -1;
}

int
procstat_parse_stat(const char *buf, size_t len, struct procstat_stat *out)
{
	const char *end = buf + len, *p;

	/* comm (field 2) may hold spaces and parentheses: skip to the last
	 * ')'; field 3 (state) follows. */
	for (p = end; p > buf && p[-1] != ')'; p--)
		;
	if (p == buf)
		return -1;
	/* Counted from field 3: field N is word N - 2 after ')'. */
	if (word(p, end, 14 - 2, &out->utime) < 0 ||
	    word(p, end, 15 - 2, &out->stime) < 0 ||
	    word(p, end, 22 - 2, &out->starttime) < 0 ||
	    word(p, end, 23 - 2, &out->vsize) < 0 ||
	    word(p, end, 24 - 2, &out->rss) < 0)
		return -1;
	return 0;
}

/* The line of BUF that starts with PREFIX, NULL if none; *END its end. */
static const char *
line_with(const char *buf, size_t len, const char *prefix, const char **end)
{
	const char *p = buf, *stop = buf + len;
	size_t n = strlen(prefix);

	while (p < stop) {
		const char *nl = memchr(p, '\n', (size_t)(stop - p));

		*end = nl != NULL ? nl : stop;
		if ((size_t)(*end - p) >= n && memcmp(p, prefix, n) == 0)
			return p + n;
		p = *end + 1;
	}
	return NULL;
}

int
procstat_parse_limits(const char *buf, size_t len, uint64_t *max_fds)
{
	const char *end, *p = line_with(buf, len, "Max open files", &end), *w;

	if (p == NULL)
		return -1;
	while (p < end && *p == ' ')
		p++;
	for (w = p; p < end && *p != ' '; p++)
		;
	if (p - w == 9 && memcmp(w, "unlimited", 9) == 0) {
		*max_fds = UINT64_MAX;
		return 0;
	}
	return p > w ? parse_u64(w, (size_t)(p - w), max_fds) : -1;
}

int
procstat_parse_btime(const char *buf, size_t len, uint64_t *btime)
{
	const char *end, *p = line_with(buf, len, "btime ", &end);

	if (p == NULL)
		return -1;
	return parse_u64(p, (size_t)(end - p), btime);
}

/* Read FD from offset 0 into BUF (at most CAP bytes): length or -1. */
static ssize_t
read_at0(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n < cap) {
		ssize_t r = pread(fd, buf + n, cap - n, (off_t)n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

/* Entries of the kept /proc/self/fd directory, "." and ".." aside. */
static int
count_fds(int dir, uint64_t *out)
{
	char buf[8192] __attribute__((aligned(8)));
	uint64_t n = 0;
	ssize_t r;

	if (lseek(dir, 0, SEEK_SET) < 0)
		return -1;
	while ((r = getdents64(dir, buf, sizeof(buf))) > 0) {
		for (ssize_t o = 0; o < r;) {
			struct dirent64 *d = (struct dirent64 *)(void *)(buf + o);

			if (strcmp(d->d_name, ".") != 0 &&
			    strcmp(d->d_name, "..") != 0)
				n++;
			o += d->d_reclen;
		}
	}
	if (r < 0)
		return -1;
	*out = n;
	return 0;
}

void
procstat_close(struct procstat *ps)
{
	if (ps == NULL)
		return;
	if (ps->stat_fd >= 0)
		close(ps->stat_fd);
	if (ps->limits_fd >= 0)
		close(ps->limits_fd);
	if (ps->fd_dir >= 0)
		close(ps->fd_dir);
	free(ps);
}

/* The start time is fixed: boot time plus the start in ticks after it. */
static int
start_time(struct procstat *ps)
{
	char buf[PROCSTAT_BUF];
	struct procstat_stat st;
	uint64_t btime = 0;
	char *sbuf;
	size_t slen;
	ssize_t n;

	if ((n = read_at0(ps->stat_fd, buf, sizeof(buf))) <= 0 ||
	    procstat_parse_stat(buf, (size_t)n, &st) < 0)
		return -1;
	/* /proc/stat can be large (a line per CPU): read it whole once. */
	if (read_file_at("/proc", "stat", 1 << 20, &sbuf, &slen) < 0)
		return -1;
	if (procstat_parse_btime(sbuf, slen, &btime) < 0) {
		free(sbuf);
		return -1;
	}
	free(sbuf);
	ps->start_time = (double)btime + (double)st.starttime / ps->ticks;
	return 0;
}

struct procstat *
procstat_open(void)
{
	struct procstat *ps = calloc(1, sizeof(*ps));
	long t = sysconf(_SC_CLK_TCK), pg = sysconf(_SC_PAGESIZE);
	int e;

	if (ps == NULL)
		return NULL;
	ps->ticks = t > 0 ? (double)t : 100;
	ps->page = pg > 0 ? (uint64_t)pg : 4096;
	ps->stat_fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ps->limits_fd = open("/proc/self/limits", O_RDONLY | O_CLOEXEC);
	ps->fd_dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ps->stat_fd < 0 || ps->limits_fd < 0 || ps->fd_dir < 0 ||
	    start_time(ps) < 0) {
		e = errno ? errno : EINVAL;
		procstat_close(ps);
		errno = e;
		return NULL;
	}
	return ps;
}

int
procstat_read(struct procstat *ps, struct procstat_values *out)
{
	char buf[PROCSTAT_BUF];
	struct procstat_stat st;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	if (ps == NULL || (n = read_at0(ps->stat_fd, buf, sizeof(buf))) <= 0 ||
	    procstat_parse_stat(buf, (size_t)n, &st) < 0 ||
	    count_fds(ps->fd_dir, &out->open_fds) < 0)
		return -1;
	out->cpu_seconds = (double)(st.utime + st.stime) / ps->ticks;
	out->resident_bytes = st.rss * ps->page;
	out->virtual_bytes = st.vsize;
	out->start_time = ps->start_time;
	if ((n = read_at0(ps->limits_fd, buf, sizeof(buf))) > 0 &&
	    procstat_parse_limits(buf, (size_t)n, &out->max_fds) == 0)
		out->have_max_fds = true;
	out->ok = true;
	return 0;
}
