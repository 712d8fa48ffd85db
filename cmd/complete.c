/* Completion scripts from the flag tables (see complete.h). */
#include "cmd/complete.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/flags.h"
#include "lib/cli.h"

/* One flag, copied: some tables name flags in buffers of their own. */
struct cflag {
	char *name, *metavar, *help, *def;
	enum cli_type type;
};

struct ctable {
	const struct complete_cmd *cmd;
	struct cflag *v;
	size_t n;
	bool failed;		/* out of memory while copying */
};

struct tables {
	struct ctable *t;
	size_t n;
};

static char *
dup_or_empty(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* flags_parse()'s hook: copy CMD's table. */
static void
take_table(const char *cmd, const struct cli_flag *flags, void *arg)
{
	struct tables *ts = arg;
	struct ctable *t = NULL;
	size_t n = 0;

	for (size_t i = 0; i < ts->n; i++)
		if (strcmp(ts->t[i].cmd->name, cmd) == 0)
			t = &ts->t[i];
	if (t == NULL || t->v != NULL)
		return;
	while (flags[n].name != NULL)
		n++;
	if ((t->v = calloc(n + 1, sizeof(*t->v))) == NULL) {
		t->failed = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct cflag *c = &t->v[t->n++];

		c->type = flags[i].type;
		c->name = dup_or_empty(flags[i].name);
		c->metavar = dup_or_empty(flags[i].metavar);
		c->help = dup_or_empty(flags[i].help);
		c->def = dup_or_empty(flags[i].def);
		if (c->name == NULL || c->metavar == NULL || c->help == NULL ||
		    c->def == NULL)
			t->failed = true;
	}
}

static void
tables_free(struct tables *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		for (size_t k = 0; k < ts->t[i].n; k++) {
			free(ts->t[i].v[k].name);
			free(ts->t[i].v[k].metavar);
			free(ts->t[i].v[k].help);
			free(ts->t[i].v[k].def);
		}
		free(ts->t[i].v);
	}
	free(ts->t);
}

static bool
is_switch(const struct cflag *c)
{
	return c->type == CLI_BOOL || c->type == CLI_TRISTATE;
}

/* --no-NAME is worth offering: the switch is on unless turned off. */
static bool
has_no_form(const struct cflag *c)
{
	return c->type == CLI_TRISTATE ||
	    (c->type == CLI_BOOL && strcmp(c->def, "true") == 0);
}

/* The metavar names a file or path: complete file names. */
static bool
takes_file(const struct cflag *c)
{
	return strstr(c->metavar, "FILE") != NULL ||
	    strstr(c->metavar, "PATH") != NULL;
}

/* Its literal choices ("text|json": "text json"); "" when none. */
static void
choices(const struct cflag *c, char *out, size_t len)
{
	const char *p = c->metavar;
	size_t o = 0;

	out[0] = '\0';
	if (strchr(p, '|') == NULL)
		return;
	while (*p != '\0') {
		size_t w = strcspn(p, "|");
		bool lit = w > 0;

		for (size_t i = 0; i < w; i++)
			lit &= islower((unsigned char)p[i]) ||
			    isdigit((unsigned char)p[i]) || p[i] == '-' ||
			    p[i] == '_' || p[i] == '.';
		if (lit && o + w + 2 < len)
			o += (size_t)snprintf(out + o, len - o, "%s%.*s",
			    o ? " " : "", (int)w, p);
		p += w;
		if (*p == '|')
			p++;
	}
}

/* ---------------------------------------------------------------------
 * bash
 */

static void
bash_flags(FILE *f, const struct ctable *t)
{
	fprintf(f, "\t%s) echo '", t->cmd->name);
	for (size_t i = 0; i < t->n; i++) {
		const struct cflag *c = &t->v[i];

		if (has_no_form(c))
			fprintf(f, "%s--%s --no-%s", i ? " " : "", c->name,
			    c->name);
		else if (is_switch(c))
			fprintf(f, "%s--%s", i ? " " : "", c->name);
		else
			fprintf(f, "%s--%s=", i ? " " : "", c->name);
	}
	fprintf(f, " --help' ;;\n");
}

/* case "$1:$2" in CMD:--FLAG) ...: what each value flag completes to. */
static void
bash_values(FILE *f, const struct ctable *t)
{
	char ch[256];

	for (size_t i = 0; i < t->n; i++) {
		const struct cflag *c = &t->v[i];

		choices(c, ch, sizeof(ch));
		if (is_switch(c))
			snprintf(ch, sizeof(ch), "true false");
		if (ch[0] == '\0' && !takes_file(c))
			continue;
		fprintf(f, "\t%s:--%s) ", t->cmd->name, c->name);
		if (ch[0] != '\0')
			fprintf(f, "words='%s'", ch);
		if (takes_file(c))
			fprintf(f, "%sfiles=1", ch[0] != '\0' ? " " : "");
		fprintf(f, " ;;\n");
	}
}

static void
bash_takes(FILE *f, const struct ctable *t)
{
	bool any = false;

	for (size_t i = 0; i < t->n; i++) {
		if (is_switch(&t->v[i]))
			continue;
		fprintf(f, "%s%s:--%s", any ? "|" : "\t", t->cmd->name,
		    t->v[i].name);
		any = true;
	}
	if (any)
		fprintf(f, ") return 0 ;;\n");
}

static const char bash_main[] =
    "# CUR is the value of FLAG for command CMD: what it may be.\n"
    "_twaudit_values() {\t# CMD FLAG CUR PREFIX\n"
    "\tlocal words= files= w\n"
    "\tcase \"$1:$2\" in\n"
    "%s"
    "\tesac\n"
    "\tCOMPREPLY=()\n"
    "\t[ -n \"$words\" ] && COMPREPLY=($(compgen -W \"$words\" -- \"$3\"))\n"
    "\t[ -n \"$files\" ] && COMPREPLY+=($(compgen -f -- \"$3\"))\n"
    "\tfor w in \"${!COMPREPLY[@]}\"; do COMPREPLY[w]=$4${COMPREPLY[w]}; done\n"
    "}\n\n"
    "_twaudit() {\n"
    "\tlocal cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]:-}\n"
    "\tlocal prev= flag= prefix=\n"
    "\tCOMPREPLY=()\n"
    "\tif [ \"$COMP_CWORD\" -le 1 ]; then\n"
    "\t\tCOMPREPLY=($(compgen -W '%s help --help --version' -- \"$cur\"))\n"
    "\t\treturn 0\n"
    "\tfi\n"
    "\tprev=${COMP_WORDS[COMP_CWORD-1]}\n"
    "\tif [ \"$cmd\" = help ]; then\n"
    "\t\t[ \"$COMP_CWORD\" -eq 2 ] && COMPREPLY=($(compgen -W '%s' -- \"$cur\"))\n"
    "\t\treturn 0\n"
    "\tfi\n"
    "\t# --flag=value: bash splits the words at '=' (COMP_WORDBREAKS) or not.\n"
    "\tif [ \"$cur\" = = ]; then\n"
    "\t\tflag=$prev cur=\n"
    "\telif [ \"$prev\" = = ] && [ \"$COMP_CWORD\" -ge 3 ]; then\n"
    "\t\tflag=${COMP_WORDS[COMP_CWORD-2]}\n"
    "\telif [[ $cur == --*=* ]]; then\n"
    "\t\tflag=${cur%%%%=*} prefix=${cur%%%%=*}= cur=${cur#*=}\n"
    "\telif [[ $prev == --* ]] && _twaudit_takes \"$cmd\" \"$prev\"; then\n"
    "\t\tflag=$prev\n"
    "\tfi\n"
    "\tif [ -n \"$flag\" ]; then\n"
    "\t\t_twaudit_values \"$cmd\" \"$flag\" \"$cur\" \"$prefix\"\n"
    "\telif [[ $cur == -* ]]; then\n"
    "\t\tCOMPREPLY=($(compgen -W \"$(_twaudit_flags \"$cmd\")\" -- \"$cur\"))\n"
    "\t\t# A flag that takes a value ends in '=': no space after it.\n"
    "\t\t[[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] &&\n"
    "\t\t\tcompopt -o nospace 2>/dev/null\n"
    "\telif _twaudit_files \"$cmd\"; then\n"
    "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
    "\tfi\n"
    "\treturn 0\n"
    "}\n\n"
    "complete -F _twaudit twaudit\n";

static int
print_bash(FILE *f, const struct tables *ts)
{
	char names[256] = "", *values = NULL;
	size_t o = 0, vlen = 0;
	FILE *vf = open_memstream(&values, &vlen);

	if (vf == NULL)
		return -1;
	for (size_t i = 0; i < ts->n; i++) {
		o += (size_t)snprintf(names + o, o < sizeof(names) ?
		    sizeof(names) - o : 0, "%s%s", i ? " " : "",
		    ts->t[i].cmd->name);
		bash_values(vf, &ts->t[i]);
	}
	if (fclose(vf) != 0 || o >= sizeof(names)) {
		free(values);
		return -1;
	}
	fprintf(f, "# bash completion for twaudit(8): generated by "
	    "`twaudit __complete bash`\n# from the commands' flag tables. "
	    "Do not edit.\n\n_twaudit_flags() {\n\tcase $1 in\n");
	for (size_t i = 0; i < ts->n; i++)
		bash_flags(f, &ts->t[i]);
	fprintf(f, "\tesac\n}\n\n# FLAG takes its value from the next word.\n"
	    "_twaudit_takes() {\n\tcase \"$1:$2\" in\n");
	for (size_t i = 0; i < ts->n; i++)
		bash_takes(f, &ts->t[i]);
	fprintf(f, "\tesac\n\treturn 1\n}\n\n_twaudit_files() {\n"
	    "\tcase $1 in\n");
	for (size_t i = 0; i < ts->n; i++)
		if (ts->t[i].cmd->files)
			fprintf(f, "\t%s) return 0 ;;\n", ts->t[i].cmd->name);
	fprintf(f, "\tesac\n\treturn 1\n}\n\n");
	fprintf(f, bash_main, values, names, names);
	free(values);
	return 0;
}

/* ---------------------------------------------------------------------
 * zsh
 */

/* S inside a single-quoted _arguments spec: ' closes and reopens the
 * quotes; with COLON, ':' is escaped too (the message field). */
static void
zsh_quote(FILE *f, const char *s, bool colon)
{
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else if (*s == '[' || *s == ']' || *s == '\\' ||
		    (colon && *s == ':'))
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
	}
}

static void
zsh_flag(FILE *f, const struct cflag *c)
{
	char ch[256];

	if (is_switch(c)) {
		fprintf(f, " \\\n\t    '--%s[", c->name);
		zsh_quote(f, c->help, false);
		fputs("]'", f);
		if (has_no_form(c)) {
			fprintf(f, " \\\n\t    '--no-%s[turn off --%s]'",
			    c->name, c->name);
		}
		return;
	}
	fprintf(f, " \\\n\t    '%s--%s=[", c->type == CLI_LIST ? "*" : "",
	    c->name);
	zsh_quote(f, c->help, false);
	fputs("]:", f);
	zsh_quote(f, c->metavar[0] ? c->metavar : "value", true);
	choices(c, ch, sizeof(ch));
	if (ch[0] != '\0' && takes_file(c))
		fprintf(f, ":{_alternatives \"values:value:(%s)\" "
		    "\"files:file:_files\"}'", ch);
	else if (ch[0] != '\0')
		fprintf(f, ":(%s)'", ch);
	else if (takes_file(c))
		fputs(":_files'", f);
	else
		fputs(": '", f);
}

static void
print_zsh(FILE *f, const struct tables *ts)
{
	fprintf(f, "#compdef twaudit\n# zsh completion for twaudit(8): "
	    "generated by `twaudit __complete zsh`\n# from the commands' "
	    "flag tables. Do not edit.\n\n");
	for (size_t i = 0; i < ts->n; i++) {
		const struct ctable *t = &ts->t[i];

		fprintf(f, "_twaudit_%s() {\n\t_arguments -S", t->cmd->name);
		for (size_t k = 0; k < t->n; k++)
			zsh_flag(f, &t->v[k]);
		fprintf(f, " \\\n\t    '(- *)--help[show this help]'");
		if (t->cmd->files)
			fprintf(f, " \\\n\t    '*:file:_files'");
		fprintf(f, "\n}\n\n");
	}
	fprintf(f, "_twaudit() {\n\tlocal curcontext=$curcontext state "
	    "line\n\tlocal -a cmds\n\ttypeset -A opt_args\n\tcmds=(\n");
	for (size_t i = 0; i < ts->n; i++) {
		fprintf(f, "\t    '%s:", ts->t[i].cmd->name);
		zsh_quote(f, ts->t[i].cmd->summary, false);
		fputs("'\n", f);
	}
	fprintf(f, "\t    'help:a command'\\''s flags'\n\t)\n"
	    "\t_arguments -C '(- *)--version[print version and build "
	    "information]' \\\n\t    '(- *)--help[list the commands]' \\\n"
	    "\t    '1:command:->command' '*::argument:->argument'\n"
	    "\tcase $state in\n"
	    "\tcommand) _describe -t commands 'twaudit command' cmds ;;\n"
	    "\targument)\n\t\tcase $line[1] in\n");
	for (size_t i = 0; i < ts->n; i++)
		fprintf(f, "\t\t%s) _twaudit_%s ;;\n", ts->t[i].cmd->name,
		    ts->t[i].cmd->name);
	fprintf(f, "\t\thelp) _describe -t commands 'twaudit command' "
	    "cmds ;;\n\t\tesac ;;\n\tesac\n}\n\n_twaudit \"$@\"\n");
}

int
complete_print(FILE *f, const char *shell, const struct complete_cmd *cmds,
    size_t n)
{
	struct tables ts = { calloc(n, sizeof(*ts.t)), n };
	char *argv[] = { NULL };
	int rc = 0;

	if (ts.t == NULL || (strcmp(shell, "bash") != 0 &&
	    strcmp(shell, "zsh") != 0)) {
		free(ts.t);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		ts.t[i].cmd = &cmds[i];
	/* Each command hands its table to take_table() and returns. */
	flags_set_dump(take_table, &ts);
	for (size_t i = 0; i < n; i++) {
		cmds[i].run(0, argv);
		if (ts.t[i].failed || ts.t[i].v == NULL)
			rc = -1;
	}
	flags_set_dump(NULL, NULL);
	if (rc == 0 && strcmp(shell, "bash") == 0)
		rc = print_bash(f, &ts);
	else if (rc == 0)
		print_zsh(f, &ts);
	tables_free(&ts);
	return rc;
}
