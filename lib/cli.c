/* Table-driven flag parsing (see cli.h). */
#include "lib/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

int
cli_parse_duration(const char *s, double *out)
{
	double total = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return -1;
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	while (*p) {
		char *end;
		double v, unit;

		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		v = strtod(p, &end);
		if (errno != 0 || end == p)
			return -1;
		p = end;
		if (strncmp(p, "ms", 2) == 0) {
			unit = 0.001;
			p += 2;
		} else if (*p == 's') {
			unit = 1;
			p++;
		} else if (*p == 'm') {
			unit = 60;
			p++;
		} else if (*p == 'h') {
			unit = 3600;
			p++;
		} else {
			return -1;
		}
		total += v * unit;
	}
	if (total > 365.0 * 86400)
		return -1;
	*out = total;
	return 0;
}

static const struct cli_flag *
find_flag(const struct cli_flag *flags, const char *name, size_t len)
{
	for (; flags->name != NULL; flags++)
		if (strlen(flags->name) == len &&
		    strncmp(flags->name, name, len) == 0)
			return flags;
	return NULL;
}

static int
parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	    strcmp(v, "yes") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
	    strcmp(v, "no") == 0) {
		*out = false;
		return 0;
	}
	return -1;
}

static int
set_value(const struct cli_flag *f, const char *v, char *err, size_t errlen)
{
	switch (f->type) {
	case CLI_STRING:
		*(const char **)f->dst = v;
		return 0;
	case CLI_BOOL:
		if (parse_bool(v, f->dst) < 0)
			goto bad;
		return 0;
	case CLI_TRISTATE: {
		bool b;

		if (parse_bool(v, &b) < 0)
			goto bad;
		*(int *)f->dst = b;
		return 0;
	}
	case CLI_DURATION:
		if (cli_parse_duration(v, f->dst) < 0) {
			set_error(err, errlen, "--%s: invalid duration '%s' "
			    "(examples: 500ms, 30s, 5m)", f->name, v);
			return -1;
		}
		return 0;
	case CLI_UINT: {
		uint64_t u;

		if (parse_u64(v, strlen(v), &u) < 0 || u > 0xffffffffULL)
			goto bad;
		*(unsigned long *)f->dst = (unsigned long)u;
		return 0;
	}
	case CLI_LIST: {
		struct cli_list *l = f->dst;

		if (l->n >= CLI_MAX_LIST) {
			set_error(err, errlen, "--%s: given more than %d times",
			    f->name, CLI_MAX_LIST);
			return -1;
		}
		l->v[l->n++] = v;
		return 0;
	}
	}
bad:
	set_error(err, errlen, "--%s: invalid value '%s'", f->name, v);
	return -1;
}

int
cli_parse(const struct cli_flag *flags, int argc, char **argv,
    struct cli_list *pos, char *err, size_t errlen)
{
	bool only_pos = false;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *val;
		const struct cli_flag *f;
		size_t nlen;

		if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
			if (pos == NULL || pos->n >= CLI_MAX_LIST) {
				set_error(err, errlen, "unexpected argument '%s'", a);
				return -1;
			}
			pos->v[pos->n++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return 1;
		if (a[1] != '-') {
			set_error(err, errlen, "unknown flag '%s' (flags start with --)", a);
			return -1;
		}
		name = a + 2;
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		f = find_flag(flags, name, nlen);
		if (f == NULL && eq == NULL && strncmp(name, "no-", 3) == 0) {
			f = find_flag(flags, name + 3, nlen - 3);
			if (f != NULL && f->type == CLI_BOOL) {
				*(bool *)f->dst = false;
				continue;
			}
			if (f != NULL && f->type == CLI_TRISTATE) {
				*(int *)f->dst = 0;
				continue;
			}
			f = NULL;
		}
		if (f == NULL) {
			set_error(err, errlen, "unknown flag '--%.*s'", (int)nlen, name);
			return -1;
		}
		if (eq != NULL) {
			val = eq + 1;
		} else if (f->type == CLI_BOOL || f->type == CLI_TRISTATE) {
			val = "true";
		} else {
			if (i + 1 >= argc) {
				set_error(err, errlen, "--%s needs a value", f->name);
				return -1;
			}
			val = argv[++i];
		}
		if (set_value(f, val, err, errlen) < 0)
			return -1;
	}
	return 0;
}

void
cli_usage(FILE *f, const char *cmd, const char *synopsis,
    const char *description, const struct cli_flag *flags)
{
	fprintf(f, "usage: twaudit %s %s\n\n%s\n", cmd, synopsis, description);
	if (flags == NULL || flags->name == NULL)
		return;
	fprintf(f, "\nflags:\n");
	for (; flags->name != NULL; flags++) {
		char left[96];

		snprintf(left, sizeof(left), "--%s%s%s", flags->name,
		    flags->metavar ? "=" : "", flags->metavar ? flags->metavar : "");
		fprintf(f, "  %-36s %s", left, flags->help);
		if (flags->def)
			fprintf(f, " (default: %s)", flags->def);
		if (flags->type == CLI_LIST)
			fprintf(f, " (repeatable)");
		fputc('\n', f);
	}
	fprintf(f, "  %-36s %s\n", "-h, --help", "show this help");
}
