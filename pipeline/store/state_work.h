/* state_work.h - leases for worker processes that share one run
 * (`stockpipe work`, pipeline/work.c).
 *
 * A worker claims a unit by marking it running under its name with a
 * lease (an expiry time on the store's clock, so workers on several
 * machines agree on it). A heartbeat extends the leases of the units it
 * holds; a unit whose lease ran out belonged to a dead or stuck worker
 * and may be claimed again, and redone: every stage is idempotent (see
 * run.h). Named leases (`leases` table) guard the steps of a run that one
 * worker at a time must do: the load phase, the run's conclusion.
 *
 * On PostgreSQL a claim locks only the row it takes (FOR UPDATE SKIP
 * LOCKED) and does not wait for the store's writer lock, so workers claim
 * while another one commits a long load. On SQLite every write
 * transaction holds the database lock anyway.
 */
#ifndef STOCKPIPE_STATE_WORK_H
#define STOCKPIPE_STATE_WORK_H

#include <stdint.h>

#include "lib/err.h"
#include "state.h"

/* Stage sets for claims and counts. */
#define STATE_WORK_SOURCES "fetch,unpack,map"
#define STATE_WORK_TARGETS "render,deliver"

/* Claims the oldest claimable unit of run_id in `stages` (a comma list of
 * stage names, e.g. STATE_WORK_SOURCES or one stage), of source/target
 * `scope` when not NULL: a pending unit, or a running one whose lease
 * expired (or that has none: a dead single-process run left it). It
 * becomes running, owned by worker, for lease_ms. *id = 0 when none. */
int state_work_claim(struct state *s, int64_t run_id, const char *stages,
		     const char *scope, const char *worker, int64_t lease_ms,
		     int64_t *id, struct err *err);

/* state_work_claim of one load unit whose map unit's document has only
 * its own txn_ids (units.txn_own, set by state_work_txn_own): those are
 * the loads PostgreSQL's workers may run in any order; the rest wait for
 * the in-order walk of the load lease's holder (work.c). */
int state_work_claim_own_load(struct state *s, int64_t run_id,
			      const char *worker, int64_t lease_ms,
			      int64_t *id, struct err *err);
/* The same two claims returning the claimed unit's row as the claim's
 * UPDATE left it (u->id = 0 when none): the worker reads no unit after
 * its claim (one round trip per unit fewer). */
int state_work_claim_unit(struct state *s, int64_t run_id,
			  const char *stages, const char *scope,
			  const char *worker, int64_t lease_ms,
			  struct state_unit *u, struct err *err);
int state_work_claim_own_load_unit(struct state *s, int64_t run_id,
				   const char *worker, int64_t lease_ms,
				   struct state_unit *u, struct err *err);

/* Records whether map unit map_unit's document has only txn_ids of its
 * own (own = 1: each is the mapping engine's default, which starts with
 * the document's hash) or may share one with another document (0). Set
 * before the unit's load unit is planned, on every mapping of it. */
int state_work_txn_own(struct state *s, int64_t map_unit, int own,
		       struct err *err);

/* Takes unit id for worker (the load phase walks its units in order
 * rather than claiming the oldest): *got = 0 when another worker holds a
 * live lease on it. */
int state_work_take(struct state *s, int64_t id, const char *worker,
		    int64_t lease_ms, int *got, struct err *err);
/* state_work_take that, when *got, fills u with the unit's row as the
 * take left it: a unit read before the take may be stale (another worker
 * may have finished it in between). */
int state_work_take_unit(struct state *s, int64_t id, const char *worker,
			 int64_t lease_ms, int *got, struct state_unit *u,
			 struct err *err);

/* Extends the lease of unit `unit` (0: none), the one the worker's loop
 * works on right now, when it still is worker's and running, and the
 * worker's unfinished named leases in run_id. Never any other unit: a
 * unit the loop left behind must run out and be claimed again. *taken =
 * 1 when another worker holds the unit now (the loop must abandon its
 * result). Its own short transaction. */
int state_work_heartbeat(struct state *s, int64_t run_id, const char *worker,
			 int64_t unit, int64_t lease_ms, int *taken,
			 struct err *err);
/* Inside the caller's transaction: *ours = 0 when unit id belongs to
 * another worker now (taken over after worker's lease ran out). On
 * PostgreSQL the row stays locked until the transaction ends, so no
 * claim takes it between this check and the commit. */
int state_work_owned(struct state *s, int64_t id, const char *worker,
		     int *ours, struct err *err);

/* Named lease `name` of run_id: *done = 1 when its step was finished
 * (then it is not taken); else *got = 1 when worker now holds it (it was
 * free, expired or already worker's). */
int state_lease_take(struct state *s, int64_t run_id, const char *name,
		     const char *worker, int64_t lease_ms, int *got, int *done,
		     struct err *err);
/* Marks the step finished. Call inside the transaction of its last
 * effect when there is one. */
int state_lease_done(struct state *s, int64_t run_id, const char *name,
		     struct err *err);
/* Gives up worker's unfinished named leases at once (a clean exit), so
 * another worker need not wait for them to expire. */
int state_lease_release_all(struct state *s, int64_t run_id,
			    const char *worker, struct err *err);

struct state_work_counts {
	int64_t pending;   /* pending, or running with an expired lease */
	int64_t running;   /* running under a live lease */
	int64_t failed;
	int64_t finished;  /* done, skipped, quarantined */
};
/* Counts run_id's units in `stages` (as for claims; NULL = every stage)
 * and scope (NULL = all). */
int state_work_count(struct state *s, int64_t run_id, const char *stages,
		     const char *scope, struct state_work_counts *c,
		     struct err *err);

/* Resets run_id's failed units to pending (`work --retry`). */
int state_work_retry_failed(struct state *s, int64_t run_id, int64_t *n,
			    struct err *err);

/* The load units of run_id and source, in the order their documents
 * arrived: by the fetch sequence of their file (state_arrival.h), then
 * by document within an archive. That is the order one process loads them in, so the
 * outcome (the later of two master-data rows without as_of wins) does not
 * depend on how many workers mapped them or in what order they finished.
 * The callback gets a copy it may modify; a positive return stops the
 * walk, -1 (an error, in err) stops it and is returned. */
int state_work_load_units_each(struct state *s, int64_t run_id,
			       const char *scope,
			       int (*cb)(void *ud, struct state_unit *u),
			       void *ud, struct err *err);
/* The same walk without the units already done: a worker's (it would
 * only skip them, each read for nothing). */
int state_work_open_load_units_each(struct state *s, int64_t run_id,
				    const char *scope,
				    int (*cb)(void *ud, struct state_unit *u),
				    void *ud, struct err *err);
/* The same walk over the load units not done yet whose documents may
 * share a txn_id with another (their map unit's txn_own is 0, or there
 * is none): the ones PostgreSQL's workers never claim in any order. */
int state_work_named_load_units_each(struct state *s, int64_t run_id,
				     const char *scope,
				     int (*cb)(void *ud,
					       struct state_unit *u),
				     void *ud, struct err *err);

#endif
