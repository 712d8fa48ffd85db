/*
 * HTTP content negotiation: Accept and Accept-Encoding header values as a
 * client sends them (any bytes), and gzip of whatever body results.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *hdr = malloc(size + 1), *z = NULL;
	size_t zlen;

	if (hdr == NULL)
		return 0;
	memcpy(hdr, data, size);
	hdr[size] = '\0';	/* libmicrohttpd hands us C strings */
	enum expo_format f = negotiate_format(hdr);
	if (f != EXPO_PROM_004 && f != EXPO_OPENMETRICS)
		abort();
	(void)negotiate_gzip(hdr);
	if (gzip_buffer(hdr, size, &z, &zlen) == 0)
		free(z);
	free(hdr);
	return 0;
}
