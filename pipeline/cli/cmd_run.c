/* cmd_run.c - `stockpipe run`: the scheduled job. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lib/log.h"
#include "lib/err.h"
#include "pipeline/run.h"

static int usage(FILE *out, int code)
{
	cli_usage(out,
		"usage: stockpipe [-c CONFIG] run [--source NAME] [--target NAME]\n"
		"                                 [--until STAGE] [--targets-only]\n"
		"\n"
		"Runs every stage for every source (fetch, unpack, map, load), "
		"then renders\n"
		"and delivers the targets that are due. If the last run did "
		"not finish\n"
		"(crash, kill, failure), it is resumed instead of starting a "
		"new one, so\n"
		"a scheduler may simply call run again.\n"
		"\n"
		"Per-stage scheduling (one task per stage, e.g. Airflow; see "
		"ops/airflow/):\n"
		"  --source NAME    only this source's stages; targets are not "
		"rendered\n"
		"  --until STAGE    stop after STAGE (fetch unpack map load "
		"render deliver)\n"
		"  --target NAME    only this target's render/deliver; sources "
		"are not touched\n"
		"  --targets-only   render/deliver every due target; sources "
		"are not touched\n"
		"Targets stay held while any source unit of the run failed or "
		"is not done\n"
		"(exit 75). A run limited by --source, --target or --until "
		"stays open\n"
		"(status \"partial\") for the next task; `run` or `run "
		"--targets-only`\n"
		"without limits finishes it. With --skip-exit-code N, a "
		"limited run that\n"
		"found no work exits N.\n");
	return code;
}

int cmd_run(int argc, char **argv, const struct cli_global *g)
{
	struct run_opts o;
	int i;

	if (cli_wants_help(argc, argv))
		return usage(stdout, EXIT_DONE);
	memset(&o, 0, sizeof(o));
	o.mode = RUN_NEW;
	{
		const struct cli_opt opts[] = {
			{"source", 0, &o.only_source, NULL},
			{"target", 0, &o.only_target, NULL},
			{"until", 0, &o.until_stage, NULL},
			{"targets-only", 0, NULL, &o.targets_only},
			{NULL, 0, NULL, NULL},
		};

		if ((i = cli_parse("run", argc, argv, opts)) < 0)
			return usage(stderr, EXIT_USAGE);
	}
	if (i < argc) {
		log_msg("error", "stockpipe run: unexpected argument '%s'",
			argv[i]);
		return usage(stderr, EXIT_USAGE);
	}
	if (o.until_stage && run_stage_index(o.until_stage) < 0) {
		log_msg("error", "stockpipe run: --until must be fetch, unpack, "
				"map, load, render or deliver");
		return EXIT_USAGE;
	}
	if (o.only_source && (o.only_target || o.targets_only)) {
		log_msg("error", "stockpipe run: --source cannot be combined "
				"with --target or --targets-only");
		return EXIT_USAGE;
	}
	if ((o.only_target || o.targets_only) && o.until_stage &&
	    run_stage_index(o.until_stage) < run_stage_index("render")) {
		log_msg("error", "stockpipe run: --until before render with "
				"--target/--targets-only does nothing");
		return EXIT_USAGE;
	}
	return run_pipeline(g, &o);
}
