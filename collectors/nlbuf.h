/* Netlink byte buffers handed to libnl's parsing helpers. */
#ifndef TWAUDIT_NLBUF_H
#define TWAUDIT_NLBUF_H

#include <linux/netlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * libnl reads message headers in place, so they must be aligned: BUF when
 * it is, else an aligned copy whose address also goes to *COPY (the caller
 * frees *COPY, which stays NULL when no copy was made). NULL when the copy
 * cannot be allocated.
 */
static inline const void *
nlbuf_aligned(const void *buf, size_t len, void **copy)
{
	*copy = NULL;
	if ((uintptr_t)buf % NLMSG_ALIGNTO == 0)
		return buf;
	if ((*copy = malloc(len)) == NULL)
		return NULL;
	memcpy(*copy, buf, len);
	return *copy;
}

#endif
