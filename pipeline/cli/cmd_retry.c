/* cmd_retry.c - `stockpipe retry UNIT | --run RUN`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lib/log.h"
#include "lib/err.h"
#include "pipeline/run.h"

static int parse_id(const char *s, int64_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (!*s || *end || v <= 0)
		return -1;
	*out = v;
	return 0;
}

int cmd_retry(int argc, char **argv, const struct cli_global *g)
{
	struct run_opts o;
	const char *run = NULL;
	const struct cli_opt opts[] = {{"run", 0, &run, NULL}, {NULL, 0, NULL, NULL}};
	int i;

	if (cli_wants_help(argc, argv)) {
		printf("usage: stockpipe [-c CONFIG] retry UNIT_ID\n"
		       "       stockpipe [-c CONFIG] retry --run RUN_ID\n"
		       "\n"
		       "Asks for a retry of a parked unit (or of every parked "
		       "unit of a run),\n"
		       "then runs the pipeline as 'stockpipe run' does: the "
		       "parked units are\n"
		       "done first, in their own run, then new files and due "
		       "targets.\n"
		       "Transient failures are retried by every run "
		       "anyway; this is for units\n"
		       "parked on data or configuration (after the fix). "
		       "'stockpipe quarantine\n"
		       "list' shows the parked units with their ids and "
		       "classes.\n");
		return EXIT_DONE;
	}
	memset(&o, 0, sizeof(o));
	o.mode = RUN_NEW;
	if ((i = cli_parse("retry", argc, argv, opts)) < 0)
		return EXIT_USAGE;
	if (run && parse_id(run, &o.retry_run) < 0) {
		log_msg("error", "stockpipe retry: '%s' is not an id", run);
		return EXIT_USAGE;
	}
	for (; i < argc; i++) {
		if (!o.retry_unit) {
			if (parse_id(argv[i], &o.retry_unit) < 0)
				goto bad_id;
		} else {
			log_msg("error", "stockpipe retry: unexpected '%s'",
				argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!o.retry_unit == !o.retry_run) {
		log_msg("error", "stockpipe retry: give a unit id or --run "
				"RUN_ID (see --help)");
		return EXIT_USAGE;
	}
	return run_pipeline(g, &o);
bad_id:
	log_msg("error", "stockpipe retry: '%s' is not an id", argv[i]);
	return EXIT_USAGE;
}
