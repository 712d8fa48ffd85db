/* `--version`: build and library versions, as node_exporter prints them. */
#ifndef TWAUDIT_CMD_VERSION_H
#define TWAUDIT_CMD_VERSION_H

#include <stdio.h>

/* Print version, revision, branch, build user and date, compiler, platform
 * and the versions of the libraries linked at run time. */
void version_print(FILE *f);

/* "0.1.0", the git revision ("unknown" outside git). */
const char *version_string(void);
const char *version_revision(void);

#endif
