/* Netlink dumps for the parser tests (see nlmsgs.h). */
#include "nlmsgs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/netlink.h>

void
nlbuf_add(struct nlbuf *b, struct nl_msg *msg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	size_t n = NLMSG_ALIGN(h->nlmsg_len);

	b->p = realloc(b->p, b->len + n);
	assert_non_null(b->p);
	memset(b->p + b->len, 0, n);
	memcpy(b->p + b->len, h, h->nlmsg_len);
	b->len += n;
	nlmsg_free(msg);
}
