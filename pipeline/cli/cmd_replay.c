/* cmd_replay.c - `stockpipe replay FILE --source NAME`: a raw file through
 * map and load again, in a run of its own. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "lib/log.h"
#include "lib/err.h"
#include "pipeline/run.h"

static int usage(FILE *out, int code)
{
	cli_usage(out,
		"usage: stockpipe [-c CONFIG] replay FILE --source NAME\n"
		"\n"
		"Processes FILE again as if source NAME had delivered it: a "
		"new run copies\n"
		"it into the inbox, maps it with the source's current mapping, "
		"loads it and\n"
		"renders/delivers the due targets. The source folder is not "
		"listed and the\n"
		"file ledger is not touched. Replaying is idempotent: records "
		"whose txn_id\n"
		"is already loaded are counted as duplicates and change "
		"nothing, so a\n"
		"target only receives a new snapshot when the replay changed "
		"the stock.\n"
		"Typical uses: a file from inbox/SOURCE/ after a mapping fix, "
		"or a file\n"
		"a partner re-sent outside the drop folder.\n");
	return code;
}

int cmd_replay(int argc, char **argv, const struct cli_global *g)
{
	struct run_opts o;
	struct stat st;
	int i;

	if (cli_wants_help(argc, argv))
		return usage(stdout, EXIT_DONE);
	memset(&o, 0, sizeof(o));
	o.mode = RUN_REPLAY;
	{
		const struct cli_opt opts[] = {
			{"source", 0, &o.only_source, NULL},
			{NULL, 0, NULL, NULL},
		};

		if ((i = cli_parse("replay", argc, argv, opts)) < 0)
			return usage(stderr, EXIT_USAGE);
	}
	for (; i < argc; i++) {
		if (!o.replay_file) {
			o.replay_file = argv[i];
		} else {
			log_msg("error", "stockpipe replay: unexpected '%s'",
				argv[i]);
			return usage(stderr, EXIT_USAGE);
		}
	}
	if (!o.replay_file || !o.only_source)
		return usage(stderr, EXIT_USAGE);
	if (stat(o.replay_file, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_msg("error", "stockpipe replay: '%s' is not a readable "
				"file",
			o.replay_file);
		return EXIT_USAGE;
	}
	return run_pipeline(g, &o);
}
