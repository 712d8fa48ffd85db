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
};

/* NULL when out of memory. */
struct connlimit *connlimit_new(unsigned max_total, unsigned max_per_addr);
void connlimit_free(struct connlimit *cl);

/*
 * May a connection from SA be accepted now? A check only: the count
 * changes with connlimit_open(), so two threads accepting at once can
 * each pass the last free place (an overshoot of at most the number of
 * accepting threads).
 */
enum connlimit_verdict connlimit_check(struct connlimit *cl,
    const struct sockaddr *sa, socklen_t len);
/*
 * A connection from SA opened: counted until connlimit_close() with the
 * returned entry (NULL: counted in the total only, out of memory).
 */
struct connlimit_entry *connlimit_open(struct connlimit *cl,
    const struct sockaddr *sa, socklen_t len);
void connlimit_close(struct connlimit *cl, struct connlimit_entry *e);

/* Connections open, in all and from SA's address. */
unsigned connlimit_total(struct connlimit *cl);
unsigned connlimit_from(struct connlimit *cl, const struct sockaddr *sa,
    socklen_t len);

#endif
