/* state_fold.h - folding the stock events of collected runs (issue 20,
 * retention): an event a newer snapshot covers is deleted (its txn_id
 * stays in the txn_id ledger, state_txn.h, where every load put it, so a
 * replay years later is still a duplicate); then the space is given back
 * (SQLite).
 * state_fold.c's header comment says which events may go and why.
 */
#ifndef STOCKPIPE_STATE_FOLD_H
#define STOCKPIPE_STATE_FOLD_H

#include <stdint.h>

#include "lib/err.h"
#include "state.h"

/* Which events a fold reads (state_fold.c, "Incremental"): the
 * positions of the runs collected since the last fold, every collected
 * event, or one of them by the share the new runs hold (half the table
 * or more: the full pick). The result is the same. */
enum state_fold_pick { STATE_FOLD_AUTO, STATE_FOLD_NEW, STATE_FOLD_FULL };

/* Folds, in one transaction of its own, every stock event of a collected
 * run (runs.gc_at set) that a newer snapshot of a collected run covers,
 * and marks every collected run as counted (runs.fold_at = now_iso);
 * *folded = the events deleted. */
int state_fold_events_pick(struct state *s, enum state_fold_pick pick,
			   const char *now_iso, int64_t *folded,
			   struct err *err);

/* state_fold_events_pick with STATE_FOLD_AUTO, at the wall clock's now. */
int state_fold_events(struct state *s, int64_t *folded, struct err *err);

/* Gives the free pages of the SQLite file back to the file system (no-op
 * on PostgreSQL, whose autovacuum reuses them): an incremental vacuum
 * when the store has auto_vacuum = INCREMENTAL; otherwise, when at least
 * a quarter of the file (and 1 MiB) is free, one VACUUM that also
 * switches it to INCREMENTAL, so later calls are cheap. The WAL is
 * checkpointed and truncated after. *freed = bytes the file lost (may be
 * 0). Outside a transaction. */
int state_fold_reclaim(struct state *s, int64_t *freed, struct err *err);

#endif
