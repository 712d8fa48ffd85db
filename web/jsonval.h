/*
 * Small jansson builders for the web renderers: /advice (its findings and
 * sources) and /model. Each returns a new reference (NULL only when out
 * of memory).
 */
#ifndef TWAUDIT_JSONVAL_H
#define TWAUDIT_JSONVAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* A sysctl value: an integer when N is 1 (most keys), else the array
 * (ip_local_port_range, tcp_rmem...). */
json_t *json_int_values(const int64_t *v, int n);

/*
 * A string from collector text (a bounded buffer of MAX bytes, maybe
 * without NUL): bytes outside printable ASCII (tab kept) become '?', so a
 * garbled /proc or sysctl.d byte can never make a document fail to
 * serialise.
 */
json_t *json_text(const char *p, size_t max);

/* FAMILY (4 or 6) address ADDR as text; "?" when it cannot be printed. */
json_t *json_ip(uint8_t family, const uint8_t addr[16]);

#endif
