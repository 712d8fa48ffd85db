/* Subcommands. Each takes the arguments after its name and returns the exit status. */
#ifndef TWAUDIT_COMMANDS_H
#define TWAUDIT_COMMANDS_H

/* Exit statuses of subcommands other than check. */
#define EXIT_USAGE 1
#define EXIT_INPUT 2

int cmd_serve(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Write LEN bytes of BUF to PATH atomically (temp file + rename). 0 or -1 with ERR. */
int write_file_atomic(const char *path, const char *buf, size_t len,
    char *err, size_t errlen);

#endif
