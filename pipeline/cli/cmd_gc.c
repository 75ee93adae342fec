/* cmd_gc.c - `stockpipe gc [--dry-run | --full]`: removes the files of runs
 * outside the config's retention (gc.h says what goes and what stays). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lib/err.h"
#include "lib/lock.h"
#include "lib/log.h"
#include "pipeline/config.h"
#include "pipeline/gc.h"
#include "pipeline/schedule.h"
#include "pipeline/store/state.h"

static void gc_help(FILE *out)
{
	fputs("usage: stockpipe [-c CONFIG] gc [--dry-run | --full]\n"
	      "\n"
	      "Removes the files of concluded runs outside the retention "
	      "(retention: in the\n"
	      "config: the last `runs` runs and every run younger than `age` "
	      "are kept):\n"
	      "their canonical records, reject files, unpacked members, inbox "
	      "copies and\n"
	      "outbox files. A run with a parked failure or a quarantined "
	      "document, the\n"
	      "latest delivery of each target, the reports and everything in "
	      "the store\n"
	      "(run history, the file, txn_id and interchange ledgers: a "
	      "replay years later\n"
	      "is still a duplicate) are kept, except stock events of "
	      "collected runs that a\n"
	      "newer snapshot covers: those are folded (their txn_ids kept "
	      "as digests) and\n"
	      "the store's file shrinks. A collected run cannot be "
	      "rerun. --dry-run\n"
	      "prints what would be removed and removes nothing. Every run "
	      "also does this\n"
	      "at its end when retention: is set.\n"
	      "The canonical records, reject files, inbox copies and "
	      "unpacked members of\n"
	      "the runs kept, and the latest delivery of each target (file "
	      "and picture),\n"
	      "are compressed (NAME.gz); show, replay and the reports read "
	      "them as before,\n"
	      "and a rerun inflates the inputs it maps again first.\n"
	      "Folding looks only at the positions of the runs collected "
	      "since the last\n"
	      "gc; --full looks at every stock event of the collected runs "
	      "(the same\n"
	      "result, a pass over the whole table).\n",
	      out);
}

int cmd_gc(int argc, char **argv, const struct cli_global *g)
{
	struct config *cfg = NULL;
	struct state *st = NULL;
	struct err err = ERR_INIT;
	struct gc_stats s;
	int rc = EXIT_DONE, lock_fd = -1, dry = 0, full = 0, i;
	char msg[1200];
	const struct cli_opt opts[] = {
		{"dry-run", 'n', NULL, &dry},
		{"full", 0, NULL, &full},
		{NULL, 0, NULL, NULL},
	};

	if (cli_wants_help(argc, argv)) {
		gc_help(stdout);
		return EXIT_DONE;
	}
	if ((i = cli_parse("gc", argc, argv, opts)) < 0)
		return EXIT_USAGE;
	if (i < argc) {
		log_msg("error", "stockpipe gc: unexpected '%s'", argv[i]);
		return EXIT_USAGE;
	}
	if (dry && full) {
		log_msg("error", "stockpipe gc: --full folds, --dry-run "
			"does not: one or the other");
		return EXIT_USAGE;
	}
	if (config_load(g->config_path, g->state_dir, &cfg, &err) < 0)
		goto fail;
	if (!cfg->retention.on) {
		printf("no retention: section in %s; nothing is removed\n",
		       cfg->path);
		goto out;
	}
	/* Never while a run works in this state folder: it may be reading
	 * what a collected run left (a delta target's picture). */
	if ((lock_fd = lock_acquire(cfg->state_dir, &err)) < 0 ||
	    state_open_db(cfg->state_dir, cfg->state_db,
			  cfg->state_db_password_env, &st, &err) < 0 ||
	    (full ? gc_collect_full(st, cfg, 1, schedule_clock(), &s, &err)
		  : gc_collect(st, cfg, dry, 1, schedule_clock(), &s, &err)) <
		    0)
		goto fail;
	printf("%s %lld run%s: %lld file%s, %lld bytes\n",
	       dry ? "would remove the files of" : "removed the files of",
	       (long long)s.runs, s.runs == 1 ? "" : "s", (long long)s.files,
	       s.files == 1 ? "" : "s", (long long)s.bytes);
	if (!dry)
		printf("folded %lld stock event%s into newer snapshots; the "
		       "store gave back %lld bytes\n",
		       (long long)s.events, s.events == 1 ? "" : "s",
		       (long long)s.freed);
	if (s.compacted)
		printf("compressed %lld file%s of kept runs: %lld bytes "
		       "saved\n",
		       (long long)s.compacted, s.compacted == 1 ? "" : "s",
		       (long long)s.saved);
	goto out;
fail:
	err_format(&err, msg, sizeof(msg));
	log_err("error", &err, "stockpipe gc: %s", msg);
	rc = err_exit_code(&err);
	if (rc == EXIT_DONE || rc == EXIT_REJECTS)
		rc = EXIT_INTERNAL;
out:
	state_close(st);
	lock_release(lock_fd);
	config_free(cfg);
	return rc;
}
