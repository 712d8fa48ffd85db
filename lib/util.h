/* Small helpers shared by every module: bounded file reads, error strings. */
#ifndef TWAUDIT_UTIL_H
#define TWAUDIT_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest /proc or sysctl.d file we read: real ones are a few KiB. */
#define READ_FILE_MAX (1024 * 1024)

/*
 * read_file_at()'s error for a path that is no regular file (a FIFO, a
 * socket, a device): EBADFD, as systemd's stat_verify_regular() uses.
 */
#define ENOTREG EBADFD

struct stat;

/*
 * Open an untrusted PATH read-only so that the open itself cannot block
 * (O_NONBLOCK: a FIFO without a writer) nor take a terminal (O_NOCTTY);
 * a path that is no regular file is refused unopened (-ENOTREG, -EISDIR;
 * *ST, when not NULL, then says what it is). The fd, or -errno. Check
 * the type again on the fd (fd_check_regular) before reading.
 */
int open_untrusted(const char *path, struct stat *st);

/* open_untrusted()'s check alone: stat PATH into *ST; 0 when it is a
 * regular file, -EISDIR, -ENOTREG or -errno otherwise. */
int stat_regular(const char *path, struct stat *st);

/*
 * 0 when FD is a regular file (procfs files are: S_IFREG, size 0),
 * -EISDIR, -ENOTREG or -errno otherwise. Fills *OUT when not NULL.
 */
int fd_check_regular(int fd, struct stat *out);

/* "a FIFO", "a directory", ... for an st_mode. */
const char *file_type_name(unsigned mode);

/* strerror(ERR), saying "not a regular file ..." for ENOTREG. */
const char *file_strerror(int err);

/*
 * Copy IN to OUT (size OUTLEN, always terminated) for a terminal: control
 * characters, DEL, C1 controls and bytes that are not valid UTF-8 become
 * \xNN, a backslash becomes \\. Truncates at a whole character or escape.
 * Returns the length written.
 */
size_t text_escape(const char *in, char *out, size_t outlen);

/*
 * Read ROOT/REL (REL may start with '/') into a freshly allocated,
 * NUL-terminated buffer of at most MAX bytes. Returns 0, or -errno
 * (-EFBIG when the file is larger than MAX, -ENOTREG when it is no
 * regular file). Never blocks on a FIFO. The caller frees *buf.
 */
int read_file_at(const char *root, const char *rel, size_t max, char **buf,
    size_t *len);

/*
 * Read FD to its end into a freshly allocated, NUL-terminated buffer of at
 * most MAX bytes: from the file offset with read(2), or with POSITIONAL
 * from offset 0 with pread(2) (the offset is left alone). 0, or -errno
 * (-EFBIG past MAX). The caller frees *buf.
 */
int read_fd_whole(int fd, bool positional, size_t max, char **buf,
    size_t *len);

/* Join ROOT and REL into OUT (size OUTLEN); -1 if it does not fit. */
int path_join(char *out, size_t outlen, const char *root, const char *rel);

/* Parse an unsigned/signed decimal with nothing after it but whitespace. */
int parse_u64(const char *s, size_t len, uint64_t *out);
int parse_i64(const char *s, size_t len, int64_t *out);

/* Space, tab or CR: what separates fields in /proc text files. */
static inline bool
text_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * The next run of non-blank bytes at or after *POS in P[0..N), advancing
 * *POS past it; false when only blanks are left.
 */
bool text_next_token(const char *p, size_t n, size_t *pos, const char **tok,
    size_t *toklen);

/*
 * A bounded string builder over a caller's buffer: once a write does not
 * fit, it stays failed (overflow set) and writes nothing more.
 */
struct sbuf {
	char *buf;
	size_t len, cap;
	int overflow;
};

void sb_add(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* vasprintf that returns the string, or NULL on failure. Caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* snprintf into a fixed buffer, never overflowing, always terminated. */
void set_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Monotonic and wall-clock time in seconds. */
double now_monotonic(void);
double now_wall(void);

/* Format a wall-clock time as RFC 3339 UTC, milliseconds ("2026-11-25T15:10:47.250Z"). */
void format_rfc3339(double wall, char *out, size_t outlen);

/*
 * malloc settings for a process that runs for months with short bursts
 * (serve): at most two arenas, and a fixed mmap threshold. glibc's
 * defaults give every busy thread an arena of its own and raise the
 * threshold each time a large block is freed, so a burst's bodies and
 * buffers land in arenas whose freed middles stay resident; measured in
 * `make soak`, RSS then wanders 20-36 MiB where it stays at 18-22 MiB with
 * these. The threshold sits above every block made per collection (a
 * struct snapshot is about 190 KiB): below it, each fresh scrape mapped a
 * new snapshot and faulted its pages in, which doubled its time. Call
 * before any thread starts; a no-op where malloc is not glibc's (the
 * sanitizers bring their own).
 */
#define MALLOC_DAEMON_MMAP_THRESHOLD (1024 * 1024)
void malloc_tune_daemon(void);

#endif
