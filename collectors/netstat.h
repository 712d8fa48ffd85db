/* /proc/net/netstat and /proc/net/snmp: "Group: names" / "Group: values" pairs. */
#ifndef TWAUDIT_NETSTAT_H
#define TWAUDIT_NETSTAT_H

#include <stddef.h>
#include "collectors/counters.h"

/*
 * Parse netstat- or snmp-format text and set the curated counters it holds
 * (any field order; unknown fields ignored; missing ones stay absent).
 * 0, or -1 with ERR when the text is garbled (pair mismatch, non-numeric
 * value, truncated line); counters parsed before the error are kept.
 */
int netstat_parse(const char *buf, size_t len, struct counter_set *out,
    char *err, size_t errlen);

#endif
