/* cmd_plan.c - `stockpipe plan`: open a run for workers. */
#include <stdio.h>

#include "cli.h"
#include "lib/log.h"
#include "lib/err.h"
#include "pipeline/work.h"

int cmd_plan(int argc, char **argv, const struct cli_global *g)
{
	int first;

	if (cli_wants_help(argc, argv)) {
		printf("usage: stockpipe [-c CONFIG] plan\n"
		       "\n"
		       "Opens a run for `stockpipe work` processes: lists "
		       "every source once and\n"
		       "records a fetch unit per new file, then prints the "
		       "run id (and only\n"
		       "that) on stdout. When a run is unfinished, its id is "
		       "printed instead of\n"
		       "opening a new one, so a retried plan task is "
		       "harmless. Takes the state\n"
		       "directory's lock for the moment it plans: it fails "
		       "(exit 75) while a\n"
		       "`run` or workers hold it.\n");
		return EXIT_DONE;
	}
	if ((first = cli_parse("plan", argc, argv, NULL)) < 0)
		return EXIT_USAGE;
	if (first < argc) {
		log_msg("error", "stockpipe plan: unexpected argument '%s'",
			argv[first]);
		return EXIT_USAGE;
	}
	return work_plan(g);
}
