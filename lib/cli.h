/*
 * Command-line flags in node_exporter's style: --flag=value or --flag value,
 * booleans as --flag, --flag=true|false or --no-flag. Table driven.
 */
#ifndef TWAUDIT_CLI_H
#define TWAUDIT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CLI_MAX_LIST 16

/*
 * CLI_TRISTATE is a boolean that remembers whether it was given: its int
 * is left alone (the caller's "not given", e.g. -1) unless the flag
 * appears, then 1 or 0 (--no-NAME too). Flags sharing one int are aliases:
 * the last one given wins.
 */
enum cli_type { CLI_STRING, CLI_BOOL, CLI_DURATION, CLI_UINT, CLI_LIST,
	CLI_TRISTATE };

struct cli_list {
	size_t n;
	const char *v[CLI_MAX_LIST];
};

struct cli_flag {
	const char *name;	/* without the leading "--" */
	enum cli_type type;
	void *dst;		/* const char **, bool *, double *, unsigned long *,
			   struct cli_list *, int * (CLI_TRISTATE) */
	const char *metavar;	/* for --help: "ADDR:PORT" */
	const char *help;	/* one line; the default is appended by cli_usage */
	const char *def;	/* default as shown in --help, may be NULL */
};

/*
 * Parse ARGV[0..ARGC) against FLAGS (terminated by a zero entry).
 * Positional arguments go to POS (may be NULL: then they are errors).
 * Returns 0; 1 when --help/-h was given; -1 with ERR on a usage error.
 */
int cli_parse(const struct cli_flag *flags, int argc, char **argv,
    struct cli_list *pos, char *err, size_t errlen);

/* "30s", "500ms", "5m", "1h", "1m30s", "0" -> seconds. -1 on error. */
int cli_parse_duration(const char *s, double *out);

/* Print "usage: twaudit CMD SYNOPSIS", DESCRIPTION and the flag table. */
void cli_usage(FILE *f, const char *cmd, const char *synopsis,
    const char *description, const struct cli_flag *flags);

#endif
