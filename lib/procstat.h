/*
 * The process_* figures of client_golang's process collector for this
 * process: CPU time, resident and virtual memory, open and maximum file
 * descriptors, start time. /proc/self files are opened once
 * (procstat_open, before privileges are dropped and the syscall filter is
 * on) and then only read at offset 0, so a read needs no open and no path
 * lookup. Not thread-safe: one reader (the collector thread).
 */
#ifndef TWAUDIT_PROCSTAT_H
#define TWAUDIT_PROCSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct procstat;

struct procstat_values {
	bool ok;			/* false: nothing read, render nothing */
	double cpu_seconds;		/* utime + stime */
	uint64_t resident_bytes, virtual_bytes;
	uint64_t open_fds;		/* entries in /proc/self/fd */
	bool have_max_fds;
	uint64_t max_fds;		/* soft RLIMIT_NOFILE */
	double start_time;		/* Unix time */
};

/* What procstat_parse_stat() takes from /proc/PID/stat. */
struct procstat_stat {
	uint64_t utime, stime;		/* clock ticks */
	uint64_t starttime;		/* clock ticks after boot */
	uint64_t vsize;			/* bytes */
	uint64_t rss;			/* pages */
};

/* NULL (errno set) when /proc/self cannot be opened. */
struct procstat *procstat_open(void);
/* Fill OUT; -1 (OUT->ok false) when the files cannot be read. */
int procstat_read(struct procstat *ps, struct procstat_values *out);
void procstat_close(struct procstat *ps);

/*
 * Parsers of BUF (LEN bytes, not NUL-terminated): /proc/PID/stat; the
 * soft "Max open files" of /proc/PID/limits (UINT64_MAX when
 * "unlimited"); btime of /proc/stat. 0, or -1 when malformed.
 */
int procstat_parse_stat(const char *buf, size_t len, struct procstat_stat *out);
int procstat_parse_limits(const char *buf, size_t len, uint64_t *max_fds);
int procstat_parse_btime(const char *buf, size_t len, uint64_t *btime);

#endif
