/*
 * Descriptors held open across collections for the files of one live
 * procfs tree.
 *
 * procfs generates a file's contents anew on every read from offset 0, so
 * pread(2) on a descriptor opened once gives what a fresh open would,
 * without the open, the second fstat and the close: half the system calls
 * of a fresh scrape. The path is still stat'ed on every read, and the held
 * descriptor is read only while the path names the same inode on the
 * tree's filesystem; a file replaced, something mounted over it, a sysctl
 * unregistered or a read that fails is opened afresh as read_file_at()
 * does, with the same errors.
 *
 * Only for a tree known to be this kernel's procfs (not foreign.h's
 * foreign), read in the namespace the descriptors were opened in: a
 * /proc/sys/net or /proc/net file keeps the network namespace of its
 * open, so a thread that entered another namespace must not use them.
 * Thread-safe; at most FILE_CACHE_SLOTS files are held, the others are
 * read as read_file_at() reads them.
 */
#ifndef TWAUDIT_FILECACHE_H
#define TWAUDIT_FILECACHE_H

#include <stddef.h>

#define FILE_CACHE_SLOTS 32

struct file_cache;

/* A cache for files under ROOT (copied), or NULL when ROOT cannot be
 * stat'ed or memory runs out: callers then read every file afresh. */
struct file_cache *file_cache_new(const char *root);

/* Close every held descriptor and free FC (NULL is a no-op). */
void file_cache_free(struct file_cache *fc);

/*
 * read_file_at(ROOT, REL, MAX, BUF, LEN) with the same results, through
 * FC's descriptors when FC is not NULL and ROOT is FC's root.
 */
int file_cache_read(struct file_cache *fc, const char *root, const char *rel,
    size_t max, char **buf, size_t *len);

/* Descriptors held now (tests). */
size_t file_cache_held(struct file_cache *fc);

#endif
