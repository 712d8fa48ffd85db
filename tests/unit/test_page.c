/*
 * The page at "/" as the server writes it (web/page.c), which is what a
 * reader without JavaScript sees: figures to 3 significant digits, the
 * model's true state (the sampler off, and running with an estimate), the
 * /model link, evidence collapsed, the time with its zone.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/audit.h"
#include "web/page.h"
#include "agent/snapshot.h"

static void
figure(double v, const char *want)
{
	char out[64];

	page_format_figure(v, out, sizeof(out));
	assert_string_equal(out, want);
}

static void
test_figures(void **state)
{
	(void)state;
	figure(0, "0");
	figure(12.3456, "12.3");
	figure(1234.5678, "1230");
	figure(0.0123456, "0.0123");
	figure(0.87654, "0.877");
	figure(3.0, "3");
	figure(12.5, "12.5");
	figure(100, "100");
	figure(99.96, "100");
	figure(999.6, "1000");
	figure(-12.36, "-12.4");
	figure(1e6 + 1, "1000000");
	figure(123456789.0, "123000000");
	figure(NAN, "—");
	figure(INFINITY, "—");
}

/* A finished snapshot of the 3.10 fixture (no netlink, no sysctl.d). */
static struct snapshot *
fixture(void)
{
	struct collect_paths p = { 0 };
	double last[SRC_COUNT] = { 0 };
	struct snapshot *s;

	p.procfs = FIXTURES "/linux-3.10-recycle";
	p.rootfs = FIXTURES "/rootfs-debian";
	p.sw[SRC_SOCK_DIAG] = COLLECT_OFF;
	p.sw[SRC_TCP_METRICS] = COLLECT_OFF;
	s = snapshot_collect(&p, NULL);
	assert_non_null(s);
	snapshot_note_success(s, last);
	snapshot_finish(s, NULL);
	return s;
}

static char *
page(const struct snapshot *s)
{
	size_t len = 0;
	char *html = page_render(s, "/metrics", &len);

	assert_non_null(html);
	assert_int_equal(strlen(html), len);
	return html;
}

/* The model area's markup (malloc'd): what the server puts in #model. */
static char *
model_area(const char *html)
{
	const char *a = strstr(html, "<div id=\"model\">"), *b;

	assert_non_null(a);
	b = strstr(a, "</section>");
	assert_non_null(b);
	return strndup(a, (size_t)(b - a));
}

static void
test_sampler_off(void **state)
{
	struct snapshot *s = fixture();
	char *html, *model;

	(void)state;
	snprintf(s->source[SRC_SAMPLER].error, sizeof(s->source[SRC_SAMPLER].error),
	    "sampler disabled (--sampler.enabled=false)");
	html = page(s);
	model = model_area(html);
	assert_non_null(strstr(model, "The model is not running: the live "
	    "sampler is unavailable — sampler disabled "
	    "(--sampler.enabled=false)."));
	assert_null(strstr(model, "id=\"model-predicted\""));
	assert_non_null(strstr(html, "<a href=\"/model\">"));
	/* Evidence is there, collapsed. */
	assert_non_null(strstr(html, "<details class=\"evidence\"><summary>"));
	assert_null(strstr(html, "<details class=\"evidence\" open"));
	assert_non_null(strstr(html, " UTC</time>"));
	free(model);
	free(html);
	snapshot_unref(s);
}

static void
test_sampler_running(void **state)
{
	struct snapshot *s = fixture();
	char *html, *model;

	(void)state;
	s->have_sampler = true;
	s->source[SRC_SAMPLER].state = SOURCE_OK;
	s->source[SRC_SAMPLER].error[0] = '\0';
	s->sampler.state = SAMPLER_OK;
	s->sampler.ratio = 4;
	s->sampler.predicted_rejections_per_min = 0.0123456;
	snprintf(s->sampler.profile, sizeof(s->sampler.profile), "4.1-4.11");
	html = page(s);
	model = model_area(html);
	assert_null(strstr(model, "not running"));
	assert_non_null(strstr(model, "id=\"model-predicted\">0.0123</div>"));
	assert_non_null(strstr(model, ">1:4</div>"));
	assert_non_null(strstr(model, "No NAT source at risk."));
	assert_non_null(strstr(html, "<a href=\"/model\">"));
	free(model);
	free(html);
	snapshot_unref(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_figures),
		cmocka_unit_test(test_sampler_off),
		cmocka_unit_test(test_sampler_running),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
