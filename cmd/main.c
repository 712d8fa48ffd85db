/* twaudit: subcommand dispatch. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/complete.h"
#include "cmd/version.h"

struct command {
	const char *name;
	int (*run)(int, char **);
	const char *summary;
	int usage_status;	/* exit status of a usage error */
	bool files;		/* takes FILE arguments (completion) */
};

static const struct command commands[] = {
	{ "serve", cmd_serve, "serve /metrics, /advice and a status page on :9477", EXIT_USAGE, false },
	{ "check", cmd_check, "audit once, print text/json/prom, exit 0-3 (Nagios)", 3, false },
	{ "replay", cmd_replay, "predict PAWS SYN rejections from a pcap/pcapng capture", EXIT_USAGE, true },
	{ "report", cmd_report, "fleet summary of many hosts' check --format=json outputs", EXIT_USAGE, true },
	{ NULL, NULL, NULL, 0, false }
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: twaudit COMMAND [flags]\n\n"
	    "Audits Linux TCP TIME-WAIT, tcp_tw_recycle and timestamp (PAWS)\n"
	    "settings and counters, and explains SYNs the kernel rejects.\n\n"
	    "commands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->summary);
	fprintf(f, "  %-8s %s\n", "help", "this text, or `help COMMAND`");
	fprintf(f, "\nflags: --version, --help. `twaudit COMMAND --help` "
	    "lists a command's flags.\n");
}

static const struct command *
find(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/*
 * Hidden: `twaudit __complete bash|zsh` prints the completion script that
 * meson installs, generated from the commands' flag tables.
 */
static int
complete(int argc, char **argv)
{
	struct complete_cmd cc[sizeof(commands) / sizeof(commands[0])];
	size_t n = 0;

	for (const struct command *c = commands; c->name; c++)
		cc[n++] = (struct complete_cmd){ c->name, c->summary, c->run,
		    c->files };
	if (argc != 3 || complete_print(stdout, argv[2], cc, n) < 0) {
		fprintf(stderr, "usage: twaudit __complete bash|zsh\n");
		return EXIT_USAGE;
	}
	return fflush(stdout) == 0 ? 0 : EXIT_INPUT;
}

int
main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		version_print(stdout);
		return 0;
	}
	if (strcmp(argv[1], "__complete") == 0)
		return complete(argc, argv);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		if (argc > 2 && (c = find(argv[2])) != NULL) {
			char *help[] = { "--help", NULL };

			return c->run(1, help);
		}
		usage(stdout);
		return 0;
	}
	if ((c = find(argv[1])) == NULL) {
		fprintf(stderr, "twaudit: unknown command '%s' (see twaudit help)\n",
		    argv[1]);
		return EXIT_USAGE;
	}
	return c->run(argc - 2, argv + 2);
}
