/* cli.h - subcommands of the stockpipe binary, one file each (git style).
 *
 * main.c parses the global options, then calls the subcommand with the
 * remaining arguments (argv[0] is the subcommand name). A subcommand returns
 * the process exit code (enum exit_code in err.h) and never calls exit().
 */
#ifndef STOCKPIPE_CLI_H
#define STOCKPIPE_CLI_H

#include <getopt.h>
#include <stdio.h>

struct cli_global {
	const char *config_path;  /* -c PATH, default "stockpipe.yaml" */
	int config_given;         /* -c was given explicitly */
	const char *state_dir;    /* --state-dir DIR, or NULL */
	int verbose;              /* -v: more detail (show) */
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
int cmd_gc(int argc, char **argv, const struct cli_global *g);

/* Prints a command's usage/help text on out. Text on stderr (after a
 * usage error) goes through lib/log: verbatim in text mode, one JSON line
 * per line with --log-format json, so stderr stays all JSON. */
void cli_usage(FILE *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* True when argv has -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

/* One option of a command, for cli_parse(): a table ends with {NULL}.
 * An option takes a value when `value` is set (--name=V, --name V, -xV,
 * -x V), else it is a flag that sets *flag to 1. */
struct cli_opt {
	const char *name;    /* long name, without "--" */
	int short_name;      /* e.g. 'j', or 0 for none */
	const char **value;  /* where a value goes, or NULL */
	int *flag;           /* a flag: set to 1 */
};

/* getopt_long values of the long-only global options */
enum { CLI_OPT_STATE_DIR = 256, CLI_OPT_SKIP_EXIT, CLI_OPT_LOG_FORMAT,
       CLI_OPT_VERSION };

/* Tells cli_parse() where the global options go, so they may also follow
 * the command (`stockpipe runs -c CFG`). main() calls it once. */
void cli_set_global(struct cli_global *g);

/* Applies one global option (getopt_long's val, see cli.c) with its
 * value; 0, or EXIT_USAGE after logging why. For main(). */
int cli_global_opt(struct cli_global *g, int val, const char *arg);

/* The global options as getopt_long wants them, for main(). */
extern const struct option cli_global_options[];

/* Parses argv[1..argc-1] of command `cmd` with getopt_long: the command's
 * options (opts), the global ones, -h/--help (ignored: see
 * cli_wants_help), "--" ends the options. Options and arguments may be
 * mixed; the arguments are moved, in order, to the end of argv. Returns
 * the index of the first argument (argc when none), or -1 after logging
 * a usage error ("stockpipe CMD: ..."). */
int cli_parse(const char *cmd, int argc, char **argv,
	      const struct cli_opt *opts);

/* A whole number in [min, max] from text, or -1. */
int cli_number(const char *text, long long min, long long max,
	       long long *out);

/* Writes s as a JSON string on out with lib/buf's writer (escaped, valid
 * UTF-8 whatever s holds; "" only when out of memory). */
void cli_json_str(FILE *out, const char *s);

#endif
