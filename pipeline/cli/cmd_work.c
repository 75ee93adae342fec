/* cmd_work.c - `stockpipe work`: one of several workers sharing a run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib/log.h"
#include "lib/err.h"
#include "pipeline/run.h"
#include "pipeline/work.h"

static int usage(FILE *out, int code)
{
	cli_usage(out,
		"usage: stockpipe [-c CONFIG] work --run RUN_ID [--stage LIST]\n"
		"                 [--source NAME] [--worker-id NAME] "
		"[--lease SECONDS]\n"
		"                 [--poll MS] [--retry]\n"
		"\n"
		"Works on run RUN_ID (from `stockpipe plan`) together with any "
		"number of\n"
		"other `work` processes, on this machine or others sharing the "
		"state store\n"
		"(PostgreSQL) and the state_dir folder. Each unit is claimed "
		"under a lease\n"
		"that a heartbeat renews; a worker that dies leaves its units "
		"to be taken\n"
		"over when the lease runs out, and redone. fetch, unpack, map, "
		"render and\n"
		"deliver units run in parallel; loading is done by one worker "
		"at a time,\n"
		"in the order of the files, so the result does not depend on "
		"the number\n"
		"of workers. The last worker concludes the run (report, final "
		"state).\n"
		"\n"
		"  --run RUN_ID      the run to work on (required)\n"
		"  --stage LIST      only these stages, comma separated (fetch "
		"unpack map\n"
		"                    load render deliver), e.g. fetch,unpack,map; "
		"exits when\n"
		"                    nothing of them is left\n"
		"  --source NAME     fetch, unpack and map only this source's "
		"units\n"
		"  --worker-id NAME  this worker's name in the store (default "
		"HOST:PID;\n"
		"                    must be unique among live workers)\n"
		"  --lease SECONDS   lease length (default 60): how long a dead "
		"worker's\n"
		"                    units wait before another worker takes "
		"them\n"
		"  --poll MS         wait between looks for work when idle "
		"(default 500)\n"
		"  --retry           put the run's failed units back to pending "
		"first\n"
		"\n"
		"Exit code: the run's, when this worker saw it finished (0, 1, "
		"75, 78...);\n"
		"0 when a --stage worker's stage is done; 75 when stopped by a "
		"signal\n"
		"(its unit goes back to pending at once).\n");
	return code;
}

static int number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int cmd_work(int argc, char **argv, const struct cli_global *g)
{
	struct work_opts o;
	unsigned mask;
	long v;
	int i;

	if (cli_wants_help(argc, argv))
		return usage(stdout, EXIT_DONE);
	memset(&o, 0, sizeof(o));
	o.lease_s = 60;
	o.poll_ms = 500;
	{
		const char *run = NULL, *lease = NULL, *poll = NULL;
		const struct cli_opt opts[] = {
			{"retry", 0, NULL, &o.retry},
			{"run", 0, &run, NULL},
			{"stage", 0, &o.stage, NULL},
			{"source", 0, &o.source, NULL},
			{"worker-id", 0, &o.worker, NULL},
			{"lease", 0, &lease, NULL},
			{"poll", 0, &poll, NULL},
			{NULL, 0, NULL, NULL},
		};

		if ((i = cli_parse("work", argc, argv, opts)) < 0)
			return usage(stderr, EXIT_USAGE);
		if (i < argc) {
			log_msg("error", "stockpipe work: unexpected argument "
					"'%s'", argv[i]);
			return usage(stderr, EXIT_USAGE);
		}
		if ((run && number(run, 1, 0x7fffffffL, &v) < 0) ||
		    (o.stage && run_stage_mask(o.stage, &mask) < 0) ||
		    (o.worker && (!o.worker[0] || strlen(o.worker) >= 128)) ||
		    (lease && number(lease, 1, 86400, &v) < 0) ||
		    (poll && number(poll, 10, 60000, &v) < 0)) {
			log_msg("error", "stockpipe work: bad value (--run, "
					"--stage, --worker-id, --lease or "
					"--poll)");
			return usage(stderr, EXIT_USAGE);
		}
		if (run && number(run, 1, 0x7fffffffL, &v) == 0)
			o.run_id = v;
		if (lease && number(lease, 1, 86400, &v) == 0)
			o.lease_s = (int)v;
		if (poll && number(poll, 10, 60000, &v) == 0)
			o.poll_ms = (int)v;
	}
	if (!o.run_id) {
		log_msg("error", "stockpipe work: --run RUN_ID is required "
				"(see `stockpipe plan`)");
		return EXIT_USAGE;
	}
	return work_main(g, &o);
}
