/*
 * Bash and zsh completion scripts generated from the commands' own flag
 * tables (`twaudit __complete bash|zsh`; meson installs its output), so a
 * flag added to a table is completed without anyone editing a script.
 */
#ifndef TWAUDIT_COMPLETE_H
#define TWAUDIT_COMPLETE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct complete_cmd {
	const char *name;
	const char *summary;
	int (*run)(int, char **);	/* shows its table (flags_set_dump) */
	bool files;			/* takes FILE arguments */
};

/*
 * Print the completion script for SHELL ("bash" or "zsh") of the N
 * commands CMDS to F. 0; -1 for another shell or when out of memory.
 */
int complete_print(FILE *f, const char *shell,
    const struct complete_cmd *cmds, size_t n);

#endif
