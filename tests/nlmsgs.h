/*
 * nlmsgs: netlink dumps built message by message for the unit tests of
 * the netlink parsers (sock_diag, tcp_metrics): each libnl message is
 * appended at its aligned length, as the kernel packs a dump.
 */
#ifndef TWAUDIT_TESTS_NLMSGS_H
#define TWAUDIT_TESTS_NLMSGS_H

#include <stddef.h>
#include <stdint.h>

#include <netlink/msg.h>

/* A growing dump; zero-initialise, free(p) when done. */
struct nlbuf {
	uint8_t *p;
	size_t len;
};

/* Append MSG (NLMSG_ALIGNed, padding zeroed) and free it; a failed
 * allocation fails the running test. */
void nlbuf_add(struct nlbuf *b, struct nl_msg *msg);

#endif
