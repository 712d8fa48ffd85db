/*
 * --netns: discover, label and enter network namespaces (see netns.h).
 * The per-namespace collection that uses them is agent/nscollect.c.
 */
#include "agent/netns.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

const char *const netns_kind_name[3] = { "named", "process", "path" };

int
netns_spec_check(const char *spec, char *err, size_t errlen)
{
	if (spec[0] == '\0') {
		set_error(err, errlen, "--netns: empty value");
		return -1;
	}
	if (strcmp(spec, "all") == 0 || spec[0] == '/')
		return strlen(spec) < NETNS_PATH_LEN ? 0 :
		    (set_error(err, errlen, "--netns: path too long"), -1);
	/* A name under /run/netns: one path component. */
	if (strchr(spec, '/') != NULL || strcmp(spec, ".") == 0 ||
	    strcmp(spec, "..") == 0 || strlen(spec) >= NETNS_LABEL_LEN) {
		set_error(err, errlen, "--netns: '%s' is neither all, a name "
		    "under /run/netns nor an absolute path", spec);
		return -1;
	}
	return 0;
}

void
netns_list_free(struct netns_list *l)
{
	free(l->t);
	memset(l, 0, sizeof(*l));
}

static struct netns_target *
list_find(struct netns_list *l, uint64_t dev, uint64_t ino)
{
	if (ino == 0)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		if (l->t[i].ino == ino && l->t[i].dev == dev)
			return &l->t[i];
	return NULL;
}

static struct netns_target *
list_add(struct netns_list *l)
{
	if (l->n >= NETNS_MAX) {
		set_error(l->error, sizeof(l->error), "more than %d network "
		    "namespaces: the rest are not audited", NETNS_MAX);
		return NULL;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct netns_target *t = realloc(l->t, cap * sizeof(*t));

		if (t == NULL)
			return NULL;
		l->t = t;
		l->cap = cap;
	}
	memset(&l->t[l->n], 0, sizeof(l->t[0]));
	return &l->t[l->n++];
}

static bool
is_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)p[i]))
			return false;
	return true;
}

/* After PREFIX in LINE, at least 12 hex digits: "RUNTIME:<12 hex>". */
static bool
id_after(const char *line, size_t len, const char *prefix,
    const char *runtime, char *out, size_t outlen)
{
	size_t pl = strlen(prefix);

	for (size_t i = 0; i + pl + 12 <= len; i++) {
		if (memcmp(line + i, prefix, pl) != 0)
			continue;
		if (is_hex(line + i + pl, 12)) {
			snprintf(out, outlen, "%s:%.12s", runtime, line + i + pl);
			return true;
		}
	}
	return false;
}

bool
netns_cgroup_label(const char *buf, size_t len, char *out, size_t outlen)
{
	static const struct { const char *prefix, *runtime; } ids[] = {
		{ "docker-", "docker" }, { "/docker/", "docker" },
		{ "cri-containerd-", "containerd" },
		{ "containerd-", "containerd" },
		{ "crio-", "crio" }, { "libpod-", "podman" },
		{ "/libpod/", "podman" }, { "/lxc.payload.", "lxc" },
	};
	size_t pos = 0;

	/* Container ids first, on any line; the pod uid only as a fallback. */
	for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
		pos = 0;
		while (pos < len) {
			const char *nl = memchr(buf + pos, '\n', len - pos);
			size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;

			if (strcmp(ids[k].runtime, "lxc") == 0) {
				const char *p = memmem(buf + pos, ll, ids[k].prefix,
				    strlen(ids[k].prefix));

				if (p != NULL) {
					size_t o = (size_t)(p - (buf + pos)) +
					    strlen(ids[k].prefix);
					size_t n = strcspn(buf + pos + o, "/\n");

					if (n > 0 && n < 64 && o + n <= ll) {
						snprintf(out, outlen, "lxc:%.*s",
						    (int)n, buf + pos + o);
						return true;
					}
				}
			} else if (id_after(buf + pos, ll, ids[k].prefix,
			    ids[k].runtime, out, outlen)) {
				return true;
			}
			pos += ll + 1;
		}
	}
	/* kubepods-burstable-pod<uid with _>.slice, or /kubepods/.../pod<uid>/ */
	pos = 0;
	while (pos < len) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;

		if (memmem(line, ll, "kubepods", 8) != NULL) {
			for (size_t i = 1; i + 4 < ll; i++) {
				size_t n;

				if ((line[i - 1] != '-' && line[i - 1] != '/') ||
				    memcmp(line + i, "pod", 3) != 0 ||
				    !isxdigit((unsigned char)line[i + 3]))
					continue;
				n = strspn(line + i + 3, "0123456789abcdef_-");
				if (i + 3 + n > ll)
					n = ll - i - 3;
				if (n >= 8 && n < 64) {
					snprintf(out, outlen, "pod:%.*s", (int)n,
					    line + i + 3);
					return true;
				}
			}
		}
		pos += ll + 1;
	}
	return false;
}

static bool
pid_cgroup_label(const char *procfs, long pid, char *out, size_t outlen)
{
	char rel[64], *buf;
	size_t len;
	bool ok;

	snprintf(rel, sizeof(rel), "%ld/cgroup", pid);
	if (read_file_at(procfs, rel, 64 * 1024, &buf, &len) < 0)
		return false;
	ok = netns_cgroup_label(buf, len, out, outlen);
	free(buf);
	return ok;
}

static void
label_pid(struct netns_target *t)
{
	if (t->ino != 0)
		snprintf(t->label, sizeof(t->label), "pid:%ld ino:%llu", t->pid,
		    (unsigned long long)t->ino);
	else
		snprintf(t->label, sizeof(t->label), "pid:%ld", t->pid);
}

/* Stat T->path into dev/ino, or record why not. */
static bool
stat_target(struct netns_target *t)
{
	struct stat st;

	if (stat(t->path, &st) < 0) {
		set_error(t->error, sizeof(t->error), "%s: %s%s", t->path,
		    strerror(errno), errno == EACCES || errno == EPERM ?
		    " (needs CAP_SYS_ADMIN / CAP_SYS_PTRACE)" : "");
		return false;
	}
	t->dev = (uint64_t)st.st_dev;
	t->ino = (uint64_t)st.st_ino;
	return true;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Named namespaces in RUNDIR, sorted by name. */
static void
discover_named(struct netns_list *l, const char *rundir, uint64_t self_dev,
    uint64_t self_ino, const char *only)
{
	DIR *d = opendir(rundir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (only != NULL && strcmp(e->d_name, only) != 0)
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 16) *
			    sizeof(*nn));

			if (nn == NULL)
				break;
			names = nn;
		}
		if ((names[n] = strdup(e->d_name)) != NULL)
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct netns_target tmp = { 0 }, *t;

		tmp.kind = NETNS_NAMED;
		snprintf(tmp.label, sizeof(tmp.label), "%s", names[i]);
		if ((size_t)snprintf(tmp.path, sizeof(tmp.path), "%s/%s", rundir,
		    names[i]) >= sizeof(tmp.path)) {
			free(names[i]);
			continue;
		}
		free(names[i]);
		stat_target(&tmp);
		if (tmp.ino != 0 && ((tmp.ino == self_ino && tmp.dev == self_dev) ||
		    list_find(l, tmp.dev, tmp.ino) != NULL))
			continue;
		if ((t = list_add(l)) != NULL)
			*t = tmp;
	}
	free(names);
}

static bool
all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Namespaces of running processes, in pid order; named ones keep their name. */
static void
discover_processes(struct netns_list *l, const char *procfs, uint64_t self_dev,
    uint64_t self_ino)
{
	DIR *d = opendir(procfs);
	struct dirent *e;
	long *pids = NULL;
	size_t n = 0, cap = 0;

	if (d == NULL) {
		set_error(l->error, sizeof(l->error), "%s: %s", procfs,
		    strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (!all_digits(e->d_name))
			continue;
		if (n == cap) {
			long *np = realloc(pids, (cap = cap ? cap * 2 : 256) *
			    sizeof(*np));

			if (np == NULL)
				break;
			pids = np;
		}
		pids[n++] = strtol(e->d_name, NULL, 10);
	}
	closedir(d);
	/* readdir order of /proc is pid order already; make sure. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && pids[j - 1] > pids[j]; j--) {
			long x = pids[j];
			pids[j] = pids[j - 1];
			pids[j - 1] = x;
		}
	for (size_t i = 0; i < n; i++) {
		struct netns_target tmp = { 0 }, *t;
		char label[NETNS_LABEL_LEN];

		tmp.kind = NETNS_PROCESS;
		tmp.pid = pids[i];
		snprintf(tmp.path, sizeof(tmp.path), "%s/%ld/ns/net", procfs,
		    pids[i]);
		if (!stat_target(&tmp))
			continue;	/* gone, or not ours to see */
		if (tmp.ino == self_ino && tmp.dev == self_dev)
			continue;
		if ((t = list_find(l, tmp.dev, tmp.ino)) != NULL) {
			/* Upgrade a pid label to a container id when one shows. */
			if (t->kind == NETNS_PROCESS &&
			    strncmp(t->label, "pid:", 4) == 0 &&
			    pid_cgroup_label(procfs, tmp.pid, label,
			    sizeof(label)))
				snprintf(t->label, sizeof(t->label), "%s", label);
			if (t->pid == 0)
				t->pid = tmp.pid;
			continue;
		}
		if (pid_cgroup_label(procfs, tmp.pid, label, sizeof(label)))
			snprintf(tmp.label, sizeof(tmp.label), "%s", label);
		else
			label_pid(&tmp);
		if ((t = list_add(l)) != NULL)
			*t = tmp;
		else
			break;
	}
	free(pids);
}

/* An explicit path: /run/netns/NAME, /proc/PID/ns/net or anything nsfs. */
static void
add_path(struct netns_list *l, const char *path, const char *procfs,
    const char *rundir, uint64_t self_dev, uint64_t self_ino)
{
	struct netns_target tmp = { 0 }, *t;
	size_t rl = strlen(rundir), pl = strlen(procfs);
	long pid;
	char *end;

	snprintf(tmp.path, sizeof(tmp.path), "%s", path);
	tmp.kind = NETNS_PATH;
	stat_target(&tmp);
	if (strncmp(path, rundir, rl) == 0 && path[rl] == '/' &&
	    strchr(path + rl + 1, '/') == NULL) {
		tmp.kind = NETNS_NAMED;
		snprintf(tmp.label, sizeof(tmp.label), "%s", path + rl + 1);
	} else if (strncmp(path, procfs, pl) == 0 && path[pl] == '/' &&
	    (pid = strtol(path + pl + 1, &end, 10)) > 0 &&
	    strcmp(end, "/ns/net") == 0) {
		tmp.kind = NETNS_PROCESS;
		tmp.pid = pid;
		if (!pid_cgroup_label(procfs, pid, tmp.label, sizeof(tmp.label)))
			label_pid(&tmp);
	} else {
		snprintf(tmp.label, sizeof(tmp.label), "%s", path);
	}
	if (tmp.ino != 0 && ((tmp.ino == self_ino && tmp.dev == self_dev) ||
	    list_find(l, tmp.dev, tmp.ino) != NULL))
		return;
	if ((t = list_add(l)) != NULL)
		*t = tmp;
}

void
netns_resolve(const struct netns_spec *spec, const char *procfs,
    const char *rundir, struct netns_list *out)
{
	char self[NETNS_PATH_LEN];
	uint64_t self_dev = 0, self_ino = 0;
	struct stat st;
	bool all = false;

	memset(out, 0, sizeof(*out));
	if (rundir == NULL)
		rundir = "/run/netns";
	/* The host's own namespace is the top-level audit, never repeated. */
	snprintf(self, sizeof(self), "%s/self/ns/net", procfs);
	if (stat(self, &st) == 0) {
		self_dev = (uint64_t)st.st_dev;
		self_ino = (uint64_t)st.st_ino;
	}
	for (size_t i = 0; i < spec->n; i++)
		all |= strcmp(spec->v[i], "all") == 0;
	for (size_t i = 0; i < spec->n; i++) {
		const char *v = spec->v[i];

		if (strcmp(v, "all") == 0) {
			continue;
		} else if (v[0] == '/') {
			add_path(out, v, procfs, rundir, self_dev, self_ino);
		} else {
			size_t before = out->n;
			char p[NETNS_PATH_LEN];

			discover_named(out, rundir, self_dev, self_ino, v);
			if (out->n == before) {
				/* Not there (or a duplicate): say which. */
				snprintf(p, sizeof(p), "%s/%s", rundir, v);
				if (stat(p, &st) < 0) {
					struct netns_target *t = list_add(out);

					if (t == NULL)
						continue;
					t->kind = NETNS_NAMED;
					snprintf(t->label, sizeof(t->label),
					    "%s", v);
					snprintf(t->path, sizeof(t->path), "%s", p);
					set_error(t->error, sizeof(t->error),
					    "%s: %s", p, strerror(errno));
				}
			}
		}
	}
	if (all) {
		discover_named(out, rundir, self_dev, self_ino, NULL);
		discover_processes(out, procfs, self_dev, self_ino);
	}
}

/* ---------------------------------------------------------------------
 * Entering a namespace.
 */

/*
 * The nsfs device number, from this process's own namespace handle: every
 * nsfs inode lives on that one internal mount. 0 when /proc is not there
 * (setns() still refuses a handle that is no network namespace).
 * st_dev rather than fstatfs(NSFS_MAGIC): fstat is already in the
 * collection's seccomp allow-list.
 */
static dev_t
nsfs_dev(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) == 0 ? st.st_dev : 0;
}

/*
 * Open T->path without blocking (a FIFO there has no writer) and check it
 * is a namespace handle before setns() sees it. The fd, or -1 with ERR.
 */
static int
open_ns_handle(const char *path, char *err, size_t errlen)
{
	struct stat st;
	dev_t dev;
	int fd, rc;

	fd = open_untrusted(path, &st);
	if (fd == -ENOTREG || fd == -EISDIR) {
		set_error(err, errlen, "%s is not a network namespace: it is %s",
		    path, file_type_name(st.st_mode));
		return -1;
	}
	if (fd < 0) {
		set_error(err, errlen, "cannot open %s: %s%s", path,
		    strerror(-fd), fd == -EACCES || fd == -EPERM ?
		    " (needs CAP_SYS_ADMIN)" : "");
		return -1;
	}
	rc = fd_check_regular(fd, &st);
	if (rc == -ENOTREG || rc == -EISDIR) {
		set_error(err, errlen, "%s is not a network namespace: it is %s",
		    path, file_type_name(st.st_mode));
		close(fd);
		return -1;
	}
	if (rc < 0) {
		set_error(err, errlen, "cannot stat %s: %s", path, strerror(-rc));
		close(fd);
		return -1;
	}
	if ((dev = nsfs_dev()) != 0 && st.st_dev != dev) {
		set_error(err, errlen, "%s is not a network namespace: a regular "
		    "file outside nsfs", path);
		close(fd);
		return -1;
	}
	return fd;
}

int
netns_enter(const char *path, char *err, size_t errlen)
{
	int fd = open_ns_handle(path, err, errlen);

	if (fd < 0)
		return -1;
	if (setns(fd, CLONE_NEWNET) < 0) {
		set_error(err, errlen, "setns(CLONE_NEWNET) into %s: %s%s", path,
		    strerror(errno), errno == EPERM ? " (needs CAP_SYS_ADMIN)" :
		    errno == EINVAL ? " (not a network namespace)" : "");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
