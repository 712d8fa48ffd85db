/* The human page at "/". */
#ifndef TWAUDIT_PAGE_H
#define TWAUDIT_PAGE_H

#include <stddef.h>

struct snapshot;

/* HTML for S in a malloc'd buffer (NULL on allocation failure). */
char *page_render(const struct snapshot *s, size_t *len);

#endif
