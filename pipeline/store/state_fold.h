/* state_fold.h - folding the stock events of collected runs (issue 20,
 * retention): an event a newer snapshot covers is deleted, its txn_id kept
 * as a 16-byte digest (table txn_digests, schema 11) so a replay years
 * later is still a duplicate; then the space is given back (SQLite).
 * state_fold.c's header comment says which events may go and why.
 */
#ifndef STOCKPIPE_STATE_FOLD_H
#define STOCKPIPE_STATE_FOLD_H

#include <stdint.h>

#include "lib/err.h"
#include "state.h"

/* The digest a folded txn_id is kept as: the first bytes of its SHA-256. */
#define STATE_FOLD_DIGEST 16

/* The digest of txn (NUL-terminated) into out. 0, or -1 with err. */
int state_fold_digest(const char *txn, unsigned char out[STATE_FOLD_DIGEST],
		      struct err *err);

/* Folds, in one transaction of its own, every stock event of a collected
 * run (runs.gc_at set) that a newer snapshot of a collected run covers;
 * *folded = the events deleted. */
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
