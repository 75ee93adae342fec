/* gc.h - retention: removing the files of old runs from the state folder
 * (`stockpipe gc`, and the end of every run when `retention:` is set).
 * gc.c's header comment says what is collected and what never is. */
#ifndef STOCKPIPE_GC_H
#define STOCKPIPE_GC_H

#include <stdint.h>

#include "lib/err.h"

struct config;
struct state;

struct gc_stats {
	int64_t now;    /* the time retention is measured from (epoch s) */
	int64_t runs;   /* runs collected (or that would be, dry) */
	int64_t files;  /* files removed */
	int64_t bytes;  /* their size */
	int64_t events; /* stock events folded (state_fold.h) */
	int64_t freed;  /* bytes the store's file gave back after */
	int64_t compacted; /* files of kept runs compressed (lib/gz.h) */
	int64_t saved;     /* bytes compression and shared pictures freed */
};

/* Collects every concluded run outside cfg->retention (nothing when the
 * config has no `retention:`), compacts what is kept (gc.c), then folds
 * the stock events of collected runs that newer snapshots cover and gives
 * the space back (state_fold.h). dry_run: counts and prints what would
 * go, removes, compacts, folds and marks nothing. say: a line per run on stderr. 0, or -1 with err (an I/O error stops at the
 * file it names; what was removed before is counted and its runs, all
 * but the one that failed, are marked). */
int gc_collect(struct state *st, const struct config *cfg, int dry_run,
	       int say, int64_t now, struct gc_stats *stats, struct err *err);
/* gc_collect whose fold reads every collected event (`gc --full`,
 * state_fold.h STATE_FOLD_FULL) instead of only the positions of the
 * runs collected since the last fold. */
int gc_collect_full(struct state *st, const struct config *cfg, int say,
		    int64_t now, struct gc_stats *stats, struct err *err);

/* Before a rerun redoes unpack, map or load of run_id (source NULL: all
 * its sources): the inputs of its unpack and map units that gc compacted
 * (inbox copies, unpacked members) inflated back under their own names
 * (lib/gz.h gz_expand), so the stages, the mapping's content sniffing
 * and the quarantine read them as the first time. restored: how many.
 * 0, or -1 with err (a damaged .gz is named, and nothing is rerun). */
int gc_restore_run(struct state *st, const struct config *cfg,
		   int64_t run_id, const char *source, int64_t *restored,
		   struct err *err);

#endif
