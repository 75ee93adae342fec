/* main.c - the stockpipe command: global options, then one subcommand
 * (one file each, cmd_*.c, dispatched from the table below as git does).
 * This is the only place that turns errors into a process exit.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib/err.h"
#include "lib/log.h"
#include "pipeline/report/metrics.h"

#ifndef STOCKPIPE_VERSION
#define STOCKPIPE_VERSION "0.0.0"
#endif

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, const struct cli_global *g);
	const char *summary;
} commands[] = {
	{"run", cmd_run, "fetch, map and load every source; deliver due targets"},
	{"resume", cmd_resume, "finish a killed run, or retry a run's parked units"},
	{"retry", cmd_retry, "retry a parked unit (or a run's) after a fix"},
	{"rerun", cmd_rerun, "redo one stage of a run and all after it"},
	{"runs", cmd_runs, "list runs with their state"},
	{"show", cmd_show, "show one run's report and units"},
	{"map", cmd_map, "try, test, check and start (new) mapping files"},
	{"check", cmd_check, "validate the config and every mapping"},
	{"inspect", cmd_inspect, "detect and validate EDI/CSV/XML files"},
	{"quarantine", cmd_quarantine, "list, show and release quarantined documents"},
	{"replay", cmd_replay, "map and load a raw file again (duplicates are skipped)"},
	{"targets", cmd_targets, "list targets: schedule, next due time, last delivery"},
	{"deliver", cmd_deliver, "deliver one target now, or preview it as a diff (--dry-run)"},
	{"reconcile", cmd_reconcile, "list SKU/locations where two sources disagree"},
	{"plan", cmd_plan, "open a run for workers and print its id"},
	{"work", cmd_work, "work on a run together with other workers"},
	{"db", cmd_db, "the state store's schema: migrate, status"},
	{"gc", cmd_gc, "remove the files of runs outside the retention"},
	{"help", NULL, "this overview, or a command's help: help COMMAND"},
};

static void usage(FILE *out)
{
	size_t i;

	cli_usage(out,
		"usage: stockpipe [GLOBAL OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Batch ETL for retail stock and master data: pulls partner\n"
		"files, maps them onto one canonical model, keeps stock\n"
		"positions and delivers snapshots to each target.\n"
		"\n"
		"commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		cli_usage(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	cli_usage(out,
		"\n"
		"global options (before or after the command; --opt=VALUE "
		"or --opt VALUE,\nshort ones bundled: -qv):\n"
		"  -c, --config PATH      config file (default: "
		"stockpipe.yaml, or $STOCKPIPE_CONFIG)\n"
		"  --state-dir DIR        state directory (overrides the "
		"config and $STOCKPIPE_STATE_DIR)\n"
		"  --skip-exit-code N     exit N instead of 0 when there was "
		"nothing to do\n"
		"  -q, --quiet            no summary on stderr\n"
		"  --log-format FMT       text (default) or json: one JSON "
		"object per line on\n"
		"                         stderr (for Airflow and log "
		"shippers)\n"
		"  -v, --verbose          more detail (show: each unit's "
		"input and output)\n"
		"  -h, --help             this help; COMMAND --help for a "
		"command\n"
		"  --version              print the version\n"
		"\n"
		"exit codes: 0 done; 1 done with rejected records or "
		"quarantined files;\n"
		"64 usage; 70 internal error; 75 temporary failure (retry); "
		"78 configuration,\n"
		"mapping or credential error (do not retry). See "
		"docs/operations.md.\n");
}

/* `stockpipe help [COMMAND]`: the overview, or the command's --help. */
static int help(int argc, char **argv, const struct cli_global *g)
{
	char *hargv[3];
	size_t c;

	if (argc < 2) {
		usage(stdout);
		return EXIT_DONE;
	}
	if (argc == 2 && (!strcmp(argv[1], "--help") ||
			  !strcmp(argv[1], "-h"))) {
		printf("usage: stockpipe help [COMMAND]\n\n"
		       "Without COMMAND, prints the overview of commands and "
		       "global options;\nwith one, prints that command's "
		       "help (the same as COMMAND --help).\n");
		return EXIT_DONE;
	}
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(commands[c].name, argv[1]))
			break;
	if (c < sizeof(commands) / sizeof(commands[0]) && !commands[c].fn) {
		usage(stdout); /* help help */
		return EXIT_DONE;
	}
	if (argc > 2 || c == sizeof(commands) / sizeof(commands[0])) {
		log_msg("error", "stockpipe help: '%s' is not a command",
			argv[argc > 2 ? 2 : 1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	hargv[0] = argv[1];
	hargv[1] = "--help";
	hargv[2] = NULL;
	return commands[c].fn(2, hargv, g);
}

int main(int argc, char **argv)
{
	struct cli_global g;
	const char *cmd;
	size_t c;
	int opt, rc;

	memset(&g, 0, sizeof(g));
	g.config_path = getenv("STOCKPIPE_CONFIG");
	if (!g.config_path || !*g.config_path)
		g.config_path = "stockpipe.yaml";
	cli_set_global(&g);
	/* Global options before the command ("+": stop at the first
	 * argument); the command's cli_parse() takes those after it. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:c:qvh", cli_global_options,
				  NULL)) != -1) {
		if (opt == ':' || opt == '?') {
			if (opt == ':')
				log_msg("error",
					"stockpipe: option '%s' needs a value",
					argv[optind - 1]);
			else
				log_msg("error",
					"stockpipe: unknown option '%s'",
					argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
		if (opt == 'h') {
			usage(stdout);
			return EXIT_DONE;
		}
		if (opt == CLI_OPT_VERSION) {
			printf("stockpipe %s\n", STOCKPIPE_VERSION);
			return EXIT_DONE;
		}
		if ((rc = cli_global_opt(&g, opt, optarg)))
			return rc;
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	/* --version after the command, as before getopt */
	for (opt = optind; opt < argc && strcmp(argv[opt], "--"); opt++)
		if (!strcmp(argv[opt], "--version")) {
			printf("stockpipe %s\n", STOCKPIPE_VERSION);
			return EXIT_DONE;
		}
	if (!strcmp(cmd, "help"))
		return help(argc - optind, argv + optind, &g);
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(commands[c].name, cmd))
			break;
	if (c == sizeof(commands) / sizeof(commands[0]) || !commands[c].fn) {
		log_msg("error", "stockpipe: '%s' is not a command", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	/* the one place every exit of a pipeline command passes: its code
	 * goes into the metrics file, 78 and 64 included */
	argc -= optind; /* the command's parser resets optind */
	argv += optind;
	return metrics_exit(&g, argc, argv, commands[c].fn(argc, argv, &g));
}
