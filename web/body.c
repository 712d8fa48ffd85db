/* Response bodies (body.h). */
#include "web/body.h"

#include <stdlib.h>
#include <string.h>

#include "web/negotiate.h"

void
body_release(struct body *b)
{
	if (b->release != NULL)
		b->release(b->hold);
	free(b->owned);
	memset(b, 0, sizeof(*b));
}

void
body_static(struct body *b, unsigned status, const char *text)
{
	memset(b, 0, sizeof(*b));
	b->status = status;
	b->type = BODY_TYPE_TEXT;
	b->data = text;
	b->len = strlen(text);
}

const char *
body_type_name(enum body_type t)
{
	switch (t) {
	case BODY_TYPE_TEXT: return "text/plain; charset=utf-8";
	case BODY_TYPE_JSON: return "application/json";
	case BODY_TYPE_HTML: return "text/html; charset=utf-8";
	case BODY_TYPE_PROM: return CT_PROM;
	case BODY_TYPE_OPENMETRICS: return CT_OPENMETRICS;
	case BODY_NTYPES: break;
	}
	return "";
}
