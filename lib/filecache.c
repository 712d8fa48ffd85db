/* Held descriptors for a live procfs tree (see filecache.h). */
#include "lib/filecache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"

/* Longer paths are read afresh: ours are under 80 bytes. */
#define FILE_CACHE_PATH 128

struct held_file {
	int fd;				/* -1: free slot */
	ino_t ino;			/* on the tree's filesystem (dev) */
	char path[FILE_CACHE_PATH];
};

struct file_cache {
	pthread_mutex_t lock;
	char *root;
	dev_t dev;			/* the tree's filesystem */
	struct held_file slot[FILE_CACHE_SLOTS];
};

struct file_cache *
file_cache_new(const char *root)
{
	struct file_cache *fc;
	struct stat st;

	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
		return NULL;
	fc = calloc(1, sizeof(*fc));
	if (fc == NULL || (fc->root = strdup(root)) == NULL) {
		free(fc);
		return NULL;
	}
	fc->dev = st.st_dev;
	for (int i = 0; i < FILE_CACHE_SLOTS; i++)
		fc->slot[i].fd = -1;
	pthread_mutex_init(&fc->lock, NULL);
	return fc;
}

void
file_cache_free(struct file_cache *fc)
{
	if (fc == NULL)
		return;
	for (int i = 0; i < FILE_CACHE_SLOTS; i++)
		if (fc->slot[i].fd >= 0)
			close(fc->slot[i].fd);
	pthread_mutex_destroy(&fc->lock);
	free(fc->root);
	free(fc);
}

size_t
file_cache_held(struct file_cache *fc)
{
	size_t n = 0;

	pthread_mutex_lock(&fc->lock);
	for (int i = 0; i < FILE_CACHE_SLOTS; i++)
		n += fc->slot[i].fd >= 0;
	pthread_mutex_unlock(&fc->lock);
	return n;
}

static struct held_file *
find_slot(struct file_cache *fc, const char *path)
{
	for (int i = 0; i < FILE_CACHE_SLOTS; i++)
		if (fc->slot[i].fd >= 0 && strcmp(fc->slot[i].path, path) == 0)
			return &fc->slot[i];
	return NULL;
}

static struct held_file *
free_slot(struct file_cache *fc)
{
	for (int i = 0; i < FILE_CACHE_SLOTS; i++)
		if (fc->slot[i].fd < 0)
			return &fc->slot[i];
	return NULL;
}

static void
drop(struct held_file *h)
{
	close(h->fd);
	h->fd = -1;
}

/*
 * Open PATH (stat'ed as ST: a regular file) as read_file_at() does and
 * read it; keep the descriptor in a free slot when it is the same inode on
 * the tree's filesystem. With the lock held.
 */
static int
open_and_read(struct file_cache *fc, const char *path, const struct stat *st,
    size_t max, char **buf, size_t *len)
{
	struct held_file *h;
	struct stat fst;
	int fd, rc;

	if ((fd = open_untrusted(path, NULL)) < 0)
		return fd;
	if ((rc = fd_check_regular(fd, &fst)) == 0)
		rc = read_fd_whole(fd, false, max, buf, len);
	if (rc == 0 && fst.st_dev == fc->dev && fst.st_dev == st->st_dev &&
	    fst.st_ino == st->st_ino && strlen(path) < FILE_CACHE_PATH &&
	    (h = free_slot(fc)) != NULL) {
		h->fd = fd;
		h->ino = fst.st_ino;
		strcpy(h->path, path);
		return 0;
	}
	close(fd);
	return rc;
}

int
file_cache_read(struct file_cache *fc, const char *root, const char *rel,
    size_t max, char **buf, size_t *len)
{
	char path[4096];
	struct held_file *h;
	struct stat st;
	int rc;

	if (fc == NULL || strcmp(root, fc->root) != 0)
		return read_file_at(root, rel, max, buf, len);
	*buf = NULL;
	*len = 0;
	if (path_join(path, sizeof(path), root, rel) < 0)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&fc->lock);
	h = find_slot(fc, path);
	/* What is no regular file is never opened, nor read if held. */
	if ((rc = stat_regular(path, &st)) < 0) {
		/* Gone or swapped: nothing of it stays held. */
		if (h != NULL)
			drop(h);
		goto out;
	}
	if (h != NULL && st.st_dev == fc->dev && h->ino == st.st_ino) {
		rc = read_fd_whole(h->fd, true, max, buf, len);
		if (rc == 0 || rc == -EFBIG || rc == -ENOMEM)
			goto out;
		/* An unregistered sysctl (ENOENT), a file that is not
		 * positional after all: what a fresh open says. */
	}
	if (h != NULL)
		drop(h);
	rc = open_and_read(fc, path, &st, max, buf, len);
out:
	pthread_mutex_unlock(&fc->lock);
	return rc;
}
