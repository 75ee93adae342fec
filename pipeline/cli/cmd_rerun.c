/* cmd_rerun.c - `stockpipe rerun RUN_ID --from STAGE`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib/log.h"
#include "lib/err.h"
#include "pipeline/run.h"

static int usage(FILE *out, int code)
{
	cli_usage(out,
		"usage: stockpipe [-c CONFIG] rerun RUN_ID --from STAGE "
		"[--source NAME] [--target NAME]\n"
		"\n"
		"Redoes STAGE (unpack, map, load, render or deliver) of run "
		"RUN_ID and every\n"
		"stage after it, from the files the earlier stages saved: "
		"nothing is fetched\n"
		"again. Typical use: an analyst fixed a mapping, then\n"
		"  stockpipe rerun 42 --from map --source stores\n"
		"The load takes back what the earlier load of each document "
		"applied, and\n"
		"targets receive the corrected snapshot once (unchanged "
		"snapshots are not\n"
		"delivered again).\n");
	return code;
}

int cmd_rerun(int argc, char **argv, const struct cli_global *g)
{
	struct run_opts o;
	int i;
	char *end;

	if (cli_wants_help(argc, argv))
		return usage(stdout, EXIT_DONE);
	memset(&o, 0, sizeof(o));
	o.mode = RUN_RERUN;
	{
		const struct cli_opt opts[] = {
			{"from", 0, &o.from_stage, NULL},
			{"source", 0, &o.only_source, NULL},
			{"target", 0, &o.only_target, NULL},
			{NULL, 0, NULL, NULL},
		};

		if ((i = cli_parse("rerun", argc, argv, opts)) < 0)
			return usage(stderr, EXIT_USAGE);
	}
	for (; i < argc; i++) {
		const char *a = argv[i];

		if (!o.run_id) {
			o.run_id = strtoll(a, &end, 10);
			if (*end || o.run_id <= 0) {
				log_msg("error",
					"stockpipe rerun: '%s' is not a run "
					"id",
					a);
				return EXIT_USAGE;
			}
		} else {
			log_msg("error", "stockpipe rerun: unexpected '%s'",
				a);
			return usage(stderr, EXIT_USAGE);
		}
	}
	if (!o.run_id || !o.from_stage)
		return usage(stderr, EXIT_USAGE);
	if (run_stage_index(o.from_stage) < 1) {
		log_msg("error",
			"stockpipe rerun: --from must be unpack, map, load, "
			"render or deliver (a rerun never fetches again)");
		return EXIT_USAGE;
	}
	return run_pipeline(g, &o);
}
