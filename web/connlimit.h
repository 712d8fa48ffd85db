/*
 * HTTP connection accounting: how many connections are open, in all and
 * per client address, so that the accept policy refuses the ones over the
 * limits before libmicrohttpd logs anything. Thread-safe. The table holds
 * one entry per address with an open connection, so it is bounded by the
 * number of open connections (itself bounded by libmicrohttpd's backstop
 * limit).
 */
#ifndef TWAUDIT_CONNLIMIT_H
#define TWAUDIT_CONNLIMIT_H

#include <sys/socket.h>

struct connlimit;
struct connlimit_entry;

enum connlimit_verdict {
	CONNLIMIT_OK,
	CONNLIMIT_TOTAL,		/* MAX_TOTAL connections open */
	CONNLIMIT_PER_ADDRESS,		/* MAX_PER_ADDR from this address */
	CONNLIMIT_NOMEM,		/* no entry for a new address */
};

/* NULL when out of memory. */
struct connlimit *connlimit_new(unsigned max_total, unsigned max_per_addr);
void connlimit_free(struct connlimit *cl);

/*
 * Take a place for a connection from SA, or refuse it: the check and the
 * count are one step under the lock, so threads accepting at once never
 * admit more than the limits. On CONNLIMIT_OK *OUT is the reservation,
 * to be given back exactly once with connlimit_release(); otherwise
 * nothing was counted and *OUT is NULL.
 */
enum connlimit_verdict connlimit_reserve(struct connlimit *cl,
    const struct sockaddr *sa, socklen_t len, struct connlimit_entry **out);
/* Give back a reservation (E from connlimit_reserve; NULL does nothing). */
void connlimit_release(struct connlimit *cl, struct connlimit_entry *e);

/* Connections open, in all and from SA's address. */
unsigned connlimit_total(struct connlimit *cl);
unsigned connlimit_from(struct connlimit *cl, const struct sockaddr *sa,
    socklen_t len);

#endif
