/* HTTP content negotiation for /metrics, and gzip. Pure functions. */
#ifndef TWAUDIT_NEGOTIATE_H
#define TWAUDIT_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>

enum expo_format { EXPO_PROM_004, EXPO_OPENMETRICS };

#define CT_PROM "text/plain; version=0.0.4; charset=utf-8"
#define CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* The format to answer an Accept header with (NULL: text 0.0.4). */
enum expo_format negotiate_format(const char *accept);

/* Whether Accept-Encoding allows gzip (q > 0). */
bool negotiate_gzip(const char *accept_encoding);

/* Gzip IN into a malloc'd *OUT. 0, or -1 on failure. */
int gzip_buffer(const char *in, size_t len, char **out, size_t *outlen);

#endif
