/* Kernel release string parsing. */
#include "lib/kversion.h"

#include <string.h>

static const char *
read_num(const char *p, unsigned *out)
{
	unsigned v = 0;
	int digits = 0;

	while (*p >= '0' && *p <= '9' && digits < 6) {
		v = v * 10 + (unsigned)(*p - '0');
		p++;
		digits++;
	}
	if (digits == 0 || (*p >= '0' && *p <= '9'))
		return NULL;
	*out = v;
	return p;
}

int
kversion_parse(const char *release, struct kversion *out)
{
	unsigned major, minor = 0, patch = 0;
	const char *p = release;

	memset(out, 0, sizeof(*out));
	if (release == NULL || (p = read_num(p, &major)) == NULL)
		return -1;
	if (*p == '.') {
		if ((p = read_num(p + 1, &minor)) == NULL)
			return -1;
		if (*p == '.' && p[1] >= '0' && p[1] <= '9') {
			if ((p = read_num(p + 1, &patch)) == NULL)
				return -1;
		}
	}
	if (major == 0 || major > 255 || minor > 255)
		return -1;
	out->code = KV(major, minor, patch);
	out->rhel7 = strstr(release, ".el7") != NULL;
	return 0;
}
