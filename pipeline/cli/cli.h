/* cli.h - subcommands of the stockpipe binary, one file each (git style).
 *
 * main.c parses the global options, then calls the subcommand with the
 * remaining arguments (argv[0] is the subcommand name). A subcommand returns
 * the process exit code (enum exit_code in err.h) and never calls exit().
 */
#ifndef STOCKPIPE_CLI_H
#define STOCKPIPE_CLI_H

#include <stdio.h>

struct cli_global {
	const char *config_path;  /* -c PATH, default "stockpipe.yaml" */
	int config_given;         /* -c was given explicitly */
	const char *state_dir;    /* --state-dir DIR, or NULL */
	int verbose;              /* -v */
	int quiet;                /* -q: no human summary */
	int skip_exit_code;       /* --skip-exit-code N; 0 = off */
};

int cmd_run(int argc, char **argv, const struct cli_global *g);
int cmd_resume(int argc, char **argv, const struct cli_global *g);
int cmd_retry(int argc, char **argv, const struct cli_global *g);
int cmd_rerun(int argc, char **argv, const struct cli_global *g);
int cmd_runs(int argc, char **argv, const struct cli_global *g);
int cmd_show(int argc, char **argv, const struct cli_global *g);
int cmd_map(int argc, char **argv, const struct cli_global *g);
int cmd_check(int argc, char **argv, const struct cli_global *g);
int cmd_inspect(int argc, char **argv, const struct cli_global *g);
int cmd_quarantine(int argc, char **argv, const struct cli_global *g);
int cmd_replay(int argc, char **argv, const struct cli_global *g);
int cmd_targets(int argc, char **argv, const struct cli_global *g);
int cmd_deliver(int argc, char **argv, const struct cli_global *g);
int cmd_reconcile(int argc, char **argv, const struct cli_global *g);
int cmd_plan(int argc, char **argv, const struct cli_global *g);
int cmd_work(int argc, char **argv, const struct cli_global *g);
int cmd_db(int argc, char **argv, const struct cli_global *g);

/* Prints a command's usage/help text on out. Text on stderr (after a
 * usage error) goes through lib/log: verbatim in text mode, one JSON line
 * per line with --log-format json, so stderr stays all JSON. */
void cli_usage(FILE *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* True when argv has -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

#endif
