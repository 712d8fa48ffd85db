/* /proc/net/sockstat and /proc/net/sockstat6. */
#ifndef TWAUDIT_SOCKSTAT_H
#define TWAUDIT_SOCKSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sockstat_id {
	SS_TCP_INUSE, SS_TCP_ORPHAN, SS_TCP_TW, SS_TCP_ALLOC, SS_TCP_MEM,
	SS_TCP6_INUSE,
	SS_COUNT
};

/* metric names: twaudit_sockstat_tcp_inuse ... twaudit_sockstat6_tcp6_inuse */
extern const char *const sockstat_metric[SS_COUNT];

struct sockstat {
	int64_t v[SS_COUNT];
	bool present[SS_COUNT];
};

/*
 * Parse sockstat or sockstat6 text, filling the fields it holds ("TCP:" and
 * "TCP6:" lines). 0, or -1 with ERR when a line is garbled; fields parsed
 * before the error are kept.
 */
int sockstat_parse(const char *buf, size_t len, struct sockstat *out,
    char *err, size_t errlen);

#endif
