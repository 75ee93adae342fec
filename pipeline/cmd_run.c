/* cmd_run.c - `stockpipe run`: the scheduled job. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "run.h"

int cmd_run(int argc, char **argv, const struct cli_global *g)
{
	struct run_opts o;

	if (cli_wants_help(argc, argv)) {
		printf("usage: stockpipe [-c CONFIG] run\n"
		       "\n"
		       "Runs every stage for every source (fetch, unpack, map, "
		       "load), then renders\n"
		       "and delivers the targets that are due. If the last run "
		       "did not finish\n"
		       "(crash, kill, failure), it is resumed instead of "
		       "starting a new one, so\n"
		       "a scheduler may simply call run again.\n");
		return EXIT_DONE;
	}
	if (argc > 1) {
		fprintf(stderr, "stockpipe run: unexpected argument '%s'\n",
			argv[1]);
		return EXIT_USAGE;
	}
	memset(&o, 0, sizeof(o));
	o.mode = RUN_NEW;
	return run_pipeline(g, &o);
}
