/* The human page at "/". */
#ifndef TWAUDIT_PAGE_H
#define TWAUDIT_PAGE_H

#include <stddef.h>

struct snapshot;

/*
 * HTML for S in a malloc'd buffer (NULL on allocation failure): the status
 * and findings rendered on the server (for curl and for the first paint),
 * the /advice document inline, and the script that keeps it all fresh from
 * /advice and /api/history. The footer links TELEMETRY_PATH, where the
 * metrics are served (--web.telemetry-path).
 */
char *page_render(const struct snapshot *s, const char *telemetry_path,
    size_t *len);

/*
 * A figure as the page shows it: 3 significant digits, no exponent and no
 * trailing zeros (12.3456 -> "12.3", 1234.5 -> "1230", 0.0123456 ->
 * "0.0123"); "—" for NaN and infinities. page.js's fig() does the same.
 */
void page_format_figure(double v, char *out, size_t outlen);

/* web/assets/page.css and page.js, compiled in (web/assets/embed.py). */
extern const unsigned char page_css[], page_js[];
extern const unsigned long page_css_len, page_js_len;
/* Content-Security-Policy allowing exactly those two inline blocks. */
extern const char page_csp[];

#endif
