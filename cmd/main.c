/* twaudit: subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/version.h"

struct command {
	const char *name;
	int (*run)(int, char **);
	const char *summary;
	int usage_status;	/* exit status of a usage error */
};

static const struct command commands[] = {
	{ "serve", cmd_serve, "serve /metrics, /advice and a status page on :9477", EXIT_USAGE },
	{ "check", cmd_check, "audit once, print text/json/prom, exit 0-3 (Nagios)", 3 },
	{ "replay", cmd_replay, "predict PAWS SYN rejections from a pcap/pcapng capture", EXIT_USAGE },
	{ "report", cmd_report, "fleet summary of many hosts' check --format=json outputs", EXIT_USAGE },
	{ NULL, NULL, NULL, 0 }
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
