/* Kernel release strings ("3.10.0-1160.el7.x86_64") to comparable codes. */
#ifndef TWAUDIT_KVERSION_H
#define TWAUDIT_KVERSION_H

#include <stdbool.h>
#include <stdint.h>

/* KV(4, 12, 0): a single integer that orders kernel versions. */
#define KV(a, b, c) (((uint32_t)(a) << 16) | ((uint32_t)(b) << 8) | \
    ((uint32_t)((c) > 255 ? 255 : (c))))

struct kversion {
	uint32_t code;	/* KV(major, minor, patch); 0 when unknown */
	bool rhel7;	/* "*.el7*": RHEL 7 backports (docs/kernel.md §1.4) */
};

/* Parse "6.18", "4.9.229", "3.10.0-1160.el7.x86_64". 0, or -1 if unparseable. */
int kversion_parse(const char *release, struct kversion *out);

#endif
