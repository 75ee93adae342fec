/* state_park.h - parked units: what a concluded run could not finish.
 *
 * A run always concludes (docs/operations.md, "What stops what"). A unit
 * that failed and was not done when its run concluded is *parked*: state
 * failed, retried_in 0. It stays visible (runs, show, quarantine list,
 * the HTML report, the stockpipe_parked_units metric) until:
 *   - a later run retries it in place (stages unpack, map and load: its
 *     input is saved in the state directory), automatically when its
 *     class is transient, or when an operator asked (retry_requested:
 *     `stockpipe retry UNIT|RUN`, `resume RUN`);
 *   - or a later run takes its work over, which records retried_in = that
 *     run: a source's listing replans every file not fetched yet (fetch
 *     units and the "(list)" stand-in), a target's next render makes a
 *     fresh snapshot (render and deliver units).
 * Every function here runs inside or outside a transaction as its caller
 * needs; none keeps a statement between calls (a few calls per run).
 */
#ifndef STOCKPIPE_STATE_PARK_H
#define STOCKPIPE_STATE_PARK_H

#include <stdint.h>

#include "lib/err.h"
#include "state.h"

/* True when u is parked and a run may retry it in place now. */
int state_park_retry_due(const struct state_unit *u);

/* Calls cb with each concluded run older than run_id holding a unit of a
 * source stage (unpack, map, load) that state_park_retry_due, or one
 * pending or running (a retry in place that a crash cut short), oldest
 * first; stops when cb returns non-zero (-1 when that was < 0). */
int state_park_runs_each(struct state *s, int64_t run_id,
			 int (*cb)(void *ud, int64_t run_id), void *ud,
			 struct err *err);

/* Records retried_in = run_id on the parked units of stage/scope of runs
 * older than run_id; *n (may be NULL) = how many. */
int state_park_supersede(struct state *s, int64_t run_id, const char *stage,
			 const char *scope, int64_t *n, struct err *err);

/* *n = parked units of stage/scope in runs older than run_id. */
int state_park_count_scope(struct state *s, int64_t run_id,
			   const char *stage, const char *scope, int64_t *n,
			   struct err *err);

/* Parked units of concluded runs by class: by_class[enum err_class]. */
int state_park_counts(struct state *s, int64_t by_class[5], struct err *err);

/* Every parked unit of concluded runs, oldest first (run_id 0: all runs;
 * else only that run's). A positive return of cb stops the walk; -1 (an
 * error, in err) stops it and is returned. */
int state_park_each(struct state *s, int64_t run_id,
		    int (*cb)(void *ud, const struct state_unit *u), void *ud,
		    struct err *err);

/* Asks for a retry of parked unit unit_id (run_id 0) or of every parked
 * unit of run_id (unit_id 0); *n = units marked. */
int state_park_request(struct state *s, int64_t unit_id, int64_t run_id,
		       int64_t *n, struct err *err);

/* *n = units below unit id (its successors, their successors, ...) that
 * are not finished: pending, running, or failed (parked included). */
int state_unit_tree_open(struct state *s, int64_t id, int64_t *n,
			 struct err *err);

#endif
