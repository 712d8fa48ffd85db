/*
 * Persisted sysctl settings: what systemd-sysctl will apply at next boot
 * from the sysctl.d directories under ROOTFS, and where procps'
 * `sysctl --system` would end differently.
 *
 * Precedence, as systemd-sysctl 252 (Debian 12) applies sysctl.d(5):
 *  - directories, highest priority first: /etc/sysctl.d, /run/sysctl.d,
 *    /usr/local/lib/sysctl.d, /usr/lib/sysctl.d, /lib/sysctl.d;
 *  - only "*.conf", hidden names (".x.conf") skipped;
 *  - a file name already seen in an earlier directory masks the later
 *    ones; a file that is empty or a symlink to /dev/null (or any device)
 *    is such a mask and applies nothing; a broken symlink or a directory
 *    named x.conf is skipped and masks nothing (systemd's stat fails or the
 *    type is wrong before it records the name);
 *  - the surviving files are applied in strcmp order of their names,
 *    whatever their directory; a later assignment of a key wins.
 * systemd never reads /etc/sysctl.conf itself; procps-ng 4.0 reads the
 * same directories in the same order and then /etc/sysctl.conf LAST.
 *
 * Symlinks are resolved inside ROOTFS ("/x" means ROOTFS/x, ".." stops at
 * ROOTFS). An assignment is recorded with the host path of the file the
 * link resolves to, since that is where the line is: Debian's
 * /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf is recorded as
 * "/etc/sysctl.conf:N", in the place "99-sysctl.conf" sorts to.
 *
 * Lines are split on "\n", "\r\n", "\r" and NUL like systemd's read_line()
 * and numbered like an editor numbers "\n" lines.
 */
#include "collectors/persist.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"

#define PERSIST_MAX_LINKS 40	/* symlinks followed per path, as the kernel */
#define PERSIST_PATH_MAX 4096	/* scratch paths while resolving */
#define PROCPS_CONF "/etc/sysctl.conf"

static const char *const sysctl_dirs[] = {
	"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d",
	"/usr/lib/sysctl.d", "/lib/sysctl.d",
};

enum parse_mode {
	PARSE_SYSTEMD,		/* a sysctl.d file: both tools apply it */
	PARSE_PROCPS_ONLY,	/* /etc/sysctl.conf read by procps at the end */
};

void
persist_init(struct persist_set *set)
{
	memset(set, 0, sizeof(*set));
	for (int k = 0; k < SYSCTL_COUNT; k++) {
		set->key[k].effective = -1;
		set->key[k].procps_effective = -1;
	}
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
strip(const char **s, const char **e)
{
	while (*s < *e && is_ws(**s))
		(*s)++;
	while (*e > *s && is_ws((*e)[-1]))
		(*e)--;
}

/* Untrusted bytes end up in renderers' output (JSON needs UTF-8). */
static void
copy_printable(char *out, size_t outlen, const char *s, size_t n)
{
	if (n >= outlen)
		n = outlen - 1;	/* watched values are short numbers */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* Tab stays: the kernel prints a range "32768\t60999". */
		out[i] = ((c < 0x20 && c != '\t') || c >= 0x7f) ? '?' : (char)c;
	}
	out[n] = '\0';
}

static void
set_procps(struct persist_key *pk, const struct persist_assign *a)
{
	memcpy(pk->procps_value, a->value, sizeof(pk->procps_value));
	memcpy(pk->procps_path, a->path, sizeof(pk->procps_path));
	pk->procps_line = a->line;
}

/* Keep the newest PERSIST_MAX_ASSIGN: the last one is the effective one. */
static void
append(struct persist_key *pk, const struct persist_assign *a)
{
	if (pk->n == PERSIST_MAX_ASSIGN) {
		memmove(&pk->a[0], &pk->a[1],
		    sizeof(pk->a[0]) * (PERSIST_MAX_ASSIGN - 1));
		pk->n--;
		pk->dropped++;
	}
	pk->a[pk->n++] = *a;
	pk->effective = (int)pk->n - 1;
	/* procps applies the same files in the same order. */
	set_procps(pk, a);
	pk->procps_effective = pk->effective;
}

static void
parse_line(const char *s, const char *e, const char *path, unsigned line,
    struct persist_set *set, enum parse_mode mode)
{
	const char *eq, *ks, *ke, *vs, *ve;
	struct persist_assign a;
	bool ignore = false;
	int id;

	strip(&s, &e);
	if (s == e || *s == '#' || *s == ';')
		return;
	if ((eq = memchr(s, '=', (size_t)(e - s))) == NULL)
		return;		/* systemd warns and goes on */
	ks = s;
	ke = eq;
	strip(&ks, &ke);
	/* No strip after '-': systemd 252 and procps both keep the space. */
	if (ks < ke && *ks == '-') {
		ignore = true;
		ks++;
	}
	for (const char *p = ks; p < ke; p++)
		if (*p == '*' || *p == '?' || *p == '[')
			return;	/* globs are not modelled */
	if ((id = sysctl_lookup(ks, (size_t)(ke - ks))) < 0)
		return;
	vs = eq + 1;
	ve = e;
	strip(&vs, &ve);

	memset(&a, 0, sizeof(a));
	copy_printable(a.path, sizeof(a.path), path, strlen(path));
	a.line = line;
	copy_printable(a.value, sizeof(a.value), vs, (size_t)(ve - vs));
	a.ignore_failure = ignore;
	if (mode == PARSE_SYSTEMD)
		append(&set->key[id], &a);
	else
		set_procps(&set->key[id], &a);
}

static int
parse_text(const char *buf, size_t len, const char *path,
    struct persist_set *set, enum parse_mode mode, char *err, size_t errlen)
{
	unsigned line = 0, nul_line = 0;
	size_t i = 0;

	while (i < len) {
		size_t s = i;

		while (i < len && buf[i] != '\n' && buf[i] != '\r' &&
		    buf[i] != '\0')
			i++;
		line++;
		parse_line(buf + s, buf + i, path, line, set, mode);
		if (i < len) {
			if (buf[i] == '\0' && nul_line == 0)
				nul_line = line;
			if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
				i++;
			i++;
		}
	}
	if (nul_line != 0) {
		/* Parsed as systemd would (NUL ends a line), but flagged. */
		set_error(err, errlen, "%s:%u: not a text file (NUL byte)",
		    path, nul_line);
		return -1;
	}
	return 0;
}

int
persist_parse(const char *buf, size_t len, const char *path,
    struct persist_set *set, char *err, size_t errlen)
{
	return parse_text(buf, len, path, set, PARSE_SYSTEMD, err, errlen);
}

/*
 * Resolve host path PATH inside ROOTFS as if ROOTFS were "/": absolute
 * link targets restart at ROOTFS and ".." stops there. OUT gets the host
 * path of the final object, ST its lstat(). A link whose target is
 * literally /dev/null sets *DEVNULL (a mask even when ROOTFS has no /dev).
 * 0 or -errno. The result is checked, not locked: a tree changing under us
 * could still swap a link in before the file is opened.
 */
static int
resolve_in_root(const char *rootfs, const char *path, char *out,
    size_t outlen, struct stat *st, bool *devnull)
{
	char todo[PERSIST_PATH_MAX], cur[PERSIST_PATH_MAX];
	char full[PERSIST_PATH_MAX], target[PERSIST_PATH_MAX];
	char rest[PERSIST_PATH_MAX];
	size_t curlen = 0;
	int links = 0, n;
	const char *p;

	*devnull = false;
	n = snprintf(todo, sizeof(todo), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(todo))
		return -ENAMETOOLONG;
	cur[0] = '\0';
	p = todo;
	for (;;) {
		const char *c;
		size_t clen, save;
		ssize_t tl;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		c = p;
		while (*p != '\0' && *p != '/')
			p++;
		clen = (size_t)(p - c);
		if (clen == 1 && c[0] == '.')
			continue;
		if (clen == 2 && c[0] == '.' && c[1] == '.') {
			char *slash = strrchr(cur, '/');

			if (slash != NULL)
				*slash = '\0';
			curlen = strlen(cur);
			continue;
		}
		if (curlen + 1 + clen >= sizeof(cur))
			return -ENAMETOOLONG;
		save = curlen;
		cur[curlen++] = '/';
		memcpy(cur + curlen, c, clen);
		curlen += clen;
		cur[curlen] = '\0';
		if (path_join(full, sizeof(full), rootfs, cur) < 0)
			return -ENAMETOOLONG;
		if (lstat(full, st) < 0)
			return -errno;
		if (!S_ISLNK(st->st_mode))
			continue;
		if (++links > PERSIST_MAX_LINKS)
			return -ELOOP;
		tl = readlink(full, target, sizeof(target) - 1);
		if (tl < 0)
			return -errno;
		target[tl] = '\0';
		while (*p == '/')
			p++;
		if (*p == '\0' && strcmp(target, "/dev/null") == 0) {
			*devnull = true;
			snprintf(out, outlen, "/dev/null");
			return 0;
		}
		n = snprintf(rest, sizeof(rest), "%s/%s", target, p);
		if (n < 0 || (size_t)n >= sizeof(rest))
			return -ENAMETOOLONG;
		memcpy(todo, rest, (size_t)n + 1);
		p = todo;
		curlen = target[0] == '/' ? 0 : save;
		cur[curlen] = '\0';
	}
	if (curlen == 0) {
		cur[0] = '/';
		cur[1] = '\0';
	}
	if (path_join(full, sizeof(full), rootfs, cur) < 0)
		return -ENAMETOOLONG;
	if (lstat(full, st) < 0)
		return -errno;
	n = snprintf(out, outlen, "%s", cur);
	return (n < 0 || (size_t)n >= outlen) ? -ENAMETOOLONG : 0;
}

struct conf_entry {
	char name[256];			/* d_name: the key of precedence */
	char path[PERSIST_PATH_LEN];	/* resolved host path */
	bool masked;
};

struct conf_list {
	struct conf_entry *e;
	size_t n, cap;
	bool overflow;
};

/* Keep the first error for ERR; every one makes the source result -1. */
static void note_error(int *rc, char *err, size_t errlen, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
note_error(int *rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (*rc == 0 && err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	*rc = -1;
}

static struct conf_entry *
list_find(const struct conf_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->e[i].name, name) == 0)
			return &l->e[i];
	return NULL;
}

static struct conf_entry *
list_add(struct conf_list *l)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 32;
		struct conf_entry *p;

		if (ncap > PERSIST_MAX_FILES)
			ncap = PERSIST_MAX_FILES;
		if (ncap <= l->n)
			return NULL;
		p = realloc(l->e, ncap * sizeof(*p));
		if (p == NULL)
			return NULL;
		l->e = p;
		l->cap = ncap;
	}
	memset(&l->e[l->n], 0, sizeof(l->e[0]));
	return &l->e[l->n++];
}

static void
scan_dir(const char *rootfs, const char *dir, struct conf_list *l, int *rc,
    char *err, size_t errlen)
{
	char rdir[PERSIST_PATH_MAX], full[PERSIST_PATH_MAX];
	char hpath[PERSIST_PATH_MAX], rpath[PERSIST_PATH_MAX];
	struct dirent *de;
	struct stat st;
	bool devnull;
	DIR *d;
	int r;

	r = resolve_in_root(rootfs, dir, rdir, sizeof(rdir), &st, &devnull);
	if (r == -ENOENT || r == -ENOTDIR || (r == 0 && devnull))
		return;		/* a missing directory is normal */
	if (r < 0) {
		note_error(rc, err, errlen, "%s: %s", dir, strerror(-r));
		return;
	}
	if (!S_ISDIR(st.st_mode))
		return;
	if (path_join(full, sizeof(full), rootfs, rdir) < 0 ||
	    (d = opendir(full)) == NULL) {
		note_error(rc, err, errlen, "%s: %s", dir, strerror(errno));
		return;
	}
	for (;;) {
		struct conf_entry *ce;
		size_t nlen;
		int n;

		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				note_error(rc, err, errlen, "%s: %s", dir,
				    strerror(errno));
			break;
		}
		nlen = strlen(de->d_name);
		if (de->d_name[0] == '.' || nlen < 5 ||
		    strcmp(de->d_name + nlen - 5, ".conf") != 0)
			continue;
		if (list_find(l, de->d_name) != NULL)
			continue;	/* overridden by an earlier directory */
		n = snprintf(hpath, sizeof(hpath), "%s/%s",
		    strcmp(rdir, "/") == 0 ? "" : rdir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(hpath))
			continue;
		r = resolve_in_root(rootfs, hpath, rpath, sizeof(rpath), &st,
		    &devnull);
		if (r == -EACCES || r == -EPERM) {
			note_error(rc, err, errlen, "%s: %s", hpath,
			    strerror(-r));
			continue;
		}
		if (r < 0)
			continue;	/* broken link: skipped, no mask */
		if (!devnull && !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode) &&
		    !S_ISREG(st.st_mode))
			continue;	/* wrong type: skipped, masks nothing */
		if (strlen(rpath) >= PERSIST_PATH_LEN) {
			note_error(rc, err, errlen, "%s: path too long", hpath);
			continue;
		}
		if ((ce = list_add(l)) == NULL) {
			if (!l->overflow)
				note_error(rc, err, errlen,
				    "more than %d sysctl.d files, rest ignored",
				    PERSIST_MAX_FILES);
			l->overflow = true;
			continue;
		}
		snprintf(ce->name, sizeof(ce->name), "%s", de->d_name);
		snprintf(ce->path, sizeof(ce->path), "%s", rpath);
		/* systemd's null_or_empty(): a device or empty file masks. */
		ce->masked = devnull || !S_ISREG(st.st_mode) || st.st_size == 0;
	}
	closedir(d);
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct conf_entry *)a)->name,
	    ((const struct conf_entry *)b)->name);
}

/* Read and parse one file; ENOENT (gone since the scan) is not an error. */
static void
apply_file(const char *rootfs, const char *path, struct persist_set *out,
    enum parse_mode mode, int *rc, char *err, size_t errlen)
{
	char perr[256];
	char *buf;
	size_t len;
	int r;

	r = read_file_at(rootfs, path, READ_FILE_MAX, &buf, &len);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		note_error(rc, err, errlen, "%s: %s", path, file_strerror(-r));
		return;
	}
	if (mode == PARSE_SYSTEMD)
		out->files_read++;
	if (parse_text(buf, len, path, out, mode, perr, sizeof(perr)) < 0)
		note_error(rc, err, errlen, "%s", perr);
	free(buf);
}

int
persist_collect(const char *rootfs, struct persist_set *out, char *err,
    size_t errlen)
{
	struct conf_list l = { 0 };
	char rpath[PERSIST_PATH_MAX];
	struct stat st;
	bool devnull;
	int r, rc = 0;

	persist_init(out);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	for (size_t i = 0; i < sizeof(sysctl_dirs) / sizeof(sysctl_dirs[0]);
	    i++)
		scan_dir(rootfs, sysctl_dirs[i], &l, &rc, err, errlen);
	if (l.n > 0)
		qsort(l.e, l.n, sizeof(l.e[0]), cmp_entry);
	for (size_t i = 0; i < l.n; i++)
		if (!l.e[i].masked)
			apply_file(rootfs, l.e[i].path, out, PARSE_SYSTEMD,
			    &rc, err, errlen);
	free(l.e);

	/* procps: stat(/etc/sysctl.conf) must say regular file. */
	r = resolve_in_root(rootfs, PROCPS_CONF, rpath, sizeof(rpath), &st,
	    &devnull);
	if (r == 0 && !devnull && S_ISREG(st.st_mode) &&
	    strlen(rpath) < PERSIST_PATH_LEN)
		apply_file(rootfs, rpath, out, PARSE_PROCPS_ONLY, &rc, err,
		    errlen);
	else if (r == -EACCES || r == -EPERM)
		note_error(&rc, err, errlen, "%s: %s", PROCPS_CONF,
		    strerror(-r));

	for (int k = 0; k < SYSCTL_COUNT; k++) {
		struct persist_key *pk = &out->key[k];

		pk->procps_effective = -1;
		if (pk->procps_path[0] == '\0')
			continue;
		for (int i = (int)pk->n - 1; i >= 0; i--) {
			if (pk->a[i].line == pk->procps_line &&
			    strcmp(pk->a[i].path, pk->procps_path) == 0) {
				pk->procps_effective = i;
				break;
			}
		}
	}
	return rc;
}

const struct persist_assign *
persist_effective(const struct persist_key *pk)
{
	if (pk->effective < 0 || (unsigned)pk->effective >= pk->n ||
	    pk->effective >= PERSIST_MAX_ASSIGN)
		return NULL;
	return &pk->a[pk->effective];
}

bool
persist_effective_value(const struct persist_key *pk, struct sysctl_value *out)
{
	const struct persist_assign *a = persist_effective(pk);
	char err[128];

	memset(out, 0, sizeof(*out));
	return a != NULL &&
	    sysctl_parse_value(a->value, strlen(a->value), out, err,
	    sizeof(err)) == 0;
}
