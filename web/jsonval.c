/* Small jansson builders (see jsonval.h). */
#include "web/jsonval.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

json_t *
json_int_values(const int64_t *v, int n)
{
	json_t *a;

	if (n == 1)
		return json_integer(v[0]);
	a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

json_t *
json_text(const char *p, size_t max)
{
	size_t n = strnlen(p, max);
	char *c = malloc(n + 1);
	json_t *j;

	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)p[i];

		c[i] = (b < 0x20 && b != '\t') || b >= 0x7f ? '?' : (char)b;
	}
	c[n] = '\0';
	j = json_stringn(c, n);
	free(c);
	return j;
}

json_t *
json_ip(uint8_t family, const uint8_t addr[16])
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf,
	    sizeof(buf)) == NULL)
		return json_string("?");
	return json_string(buf);
}
