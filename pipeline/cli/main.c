/* main.c - the stockpipe command: global options, then one subcommand
 * (one file each, cmd_*.c, dispatched from the table below as git does).
 * This is the only place that turns errors into a process exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib/err.h"
#include "lib/log.h"

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
	{"map", cmd_map, "try, test and check mapping files"},
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
		"global options (before or after the command):\n"
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
		"  -v, --verbose          more detail\n"
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

int main(int argc, char **argv)
{
	struct cli_global g;
	char **rest;
	int nrest = 0, i;
	size_t c;
	const char *cmd = NULL;
	int rc;

	memset(&g, 0, sizeof(g));
	g.config_path = getenv("STOCKPIPE_CONFIG");
	if (!g.config_path || !*g.config_path)
		g.config_path = "stockpipe.yaml";
	if (!(rest = calloc((size_t)argc + 1, sizeof(*rest)))) {
		log_msg("error", "stockpipe: out of memory");
		return EXIT_TEMPFAIL;
	}
	/* Global options may stand anywhere before "--"; everything else is
	 * the command and its own arguments, in order. */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			for (; i < argc; i++)
				rest[nrest++] = argv[i];
			break;
		}
		if (!strcmp(a, "-c") || !strcmp(a, "--config") ||
		    !strcmp(a, "--state-dir") ||
		    !strcmp(a, "--skip-exit-code") ||
		    !strcmp(a, "--log-format")) {
			if (i + 1 >= argc) {
				log_msg("error",
					"stockpipe: option '%s' needs a value",
					a);
				free(rest);
				return EXIT_USAGE;
			}
			if (a[1] == 'c' || !strcmp(a, "--config")) {
				g.config_path = argv[++i];
				g.config_given = 1;
			} else if (!strcmp(a, "--state-dir")) {
				g.state_dir = argv[++i];
			} else if (!strcmp(a, "--log-format")) {
				if (log_set_format_name(argv[++i]) < 0) {
					log_msg("error",
						"stockpipe: --log-format is "
						"text or json");
					free(rest);
					return EXIT_USAGE;
				}
			} else {
				char *end;
				long n = strtol(argv[++i], &end, 10);

				if (*end || n < 1 || n > 255) {
					log_msg("error",
						"stockpipe: --skip-exit-code "
						"needs a number 1-255");
					free(rest);
					return EXIT_USAGE;
				}
				g.skip_exit_code = (int)n;
			}
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			g.quiet = 1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			g.verbose = 1;
		} else if (!strcmp(a, "--version")) {
			printf("stockpipe %s\n", STOCKPIPE_VERSION);
			free(rest);
			return EXIT_DONE;
		} else if (!cmd && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
			usage(stdout);
			free(rest);
			return EXIT_DONE;
		} else {
			if (!cmd && a[0] != '-')
				cmd = a;
			else if (!cmd) {
				log_msg("error",
					"stockpipe: unknown option '%s'", a);
				usage(stderr);
				free(rest);
				return EXIT_USAGE;
			}
			rest[nrest++] = argv[i];
		}
	}
	if (!cmd) {
		usage(stderr);
		free(rest);
		return EXIT_USAGE;
	}
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(commands[c].name, cmd))
			break;
	if (c == sizeof(commands) / sizeof(commands[0])) {
		log_msg("error", "stockpipe: '%s' is not a command", cmd);
		usage(stderr);
		free(rest);
		return EXIT_USAGE;
	}
	rc = commands[c].fn(nrest, rest, &g);
	free(rest);
	return rc;
}
