/* cmd_resume.c - `stockpipe resume [RUN_ID]`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib/log.h"
#include "lib/err.h"
#include "pipeline/run.h"

int cmd_resume(int argc, char **argv, const struct cli_global *g)
{
	struct run_opts o;
	char *end;
	int first;

	if (cli_wants_help(argc, argv)) {
		printf("usage: stockpipe [-c CONFIG] resume [RUN_ID]\n"
		       "\n"
		       "Finishes a run that was killed or stopped by a signal "
		       "(default: the\n"
		       "newest unfinished one). Units already done are "
		       "skipped; a unit left\n"
		       "running by a dead process is redone. Nothing is "
		       "fetched or delivered\n"
		       "twice. Given a concluded run, retries its parked units "
		       "as 'stockpipe\n"
		       "retry --run RUN_ID' does.\n");
		return EXIT_DONE;
	}
	memset(&o, 0, sizeof(o));
	o.mode = RUN_RESUME;
	if ((first = cli_parse("resume", argc, argv, NULL)) < 0)
		return EXIT_USAGE;
	if (argc - first > 1) {
		log_msg("error", "stockpipe resume: too many arguments");
		return EXIT_USAGE;
	}
	if (first < argc) {
		o.run_id = strtoll(argv[first], &end, 10);
		if (*end || o.run_id <= 0) {
			log_msg("error",
				"stockpipe resume: '%s' is not a run id",
				argv[first]);
			return EXIT_USAGE;
		}
	}
	return run_pipeline(g, &o);
}
