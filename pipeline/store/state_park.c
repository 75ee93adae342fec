/* state_park.c - parked units; see state_park.h.
 *
 * Unit states are the numbers of enum unit_state (state.h): 0 pending,
 * 1 running, 2 done, 3 failed, 4 skipped, 5 quarantined; classes those of
 * enum err_class (err.h). Both are bound as parameters, never spelled in
 * SQL text, so the enums stay the one definition.
 *
 * Tables: none of its own; failed units of concluded runs (units, runs;
 * both are state_runs.c's). Its statements run a few times per run, not
 * per record; they are prepared once per handle like every other.
 */
#include "state_park.h"
#include "db.h"
#include "state_int.h"

#include <stdlib.h>
#include <string.h>

/* A run is concluded when it is neither running, interrupted nor partial
 * (a scheduler's run still being worked by its per-stage tasks). */
#define CONCLUDED "(SELECT status FROM runs WHERE runs.run_id = units.run_id)" \
		  " NOT IN ('running', 'interrupted', 'partial')"

/* This file's statements (state_int.h). */
const struct state_sql state_park_sql[S_NSTMTS] = {
	[S_PARK_RUNS] = {"SELECT DISTINCT run_id FROM units WHERE run_id < ?1"
			 " AND stage IN ('unpack', 'map', 'load')"
			 " AND ((state = ?2 AND retried_in = 0"
			 " AND (err_class = ?3 OR retry_requested = 1))"
			 " OR state IN (?4, ?5))"
			 " AND " CONCLUDED " ORDER BY run_id", 0},
	[S_PARK_SUPERSEDE] = {"UPDATE units SET retried_in = ?1 WHERE run_id < ?1"
			      " AND stage = ?2 AND scope = ?3 AND state = ?4"
			      " AND retried_in = 0", 0},
	[S_PARK_COUNT_SCOPE] = {"SELECT count(*) FROM units WHERE run_id < ?1"
				" AND stage = ?2"
				" AND scope = ?3 AND state = ?4 AND retried_in = 0", 0},
	[S_PARK_COUNTS] = {"SELECT err_class, count(*) FROM units WHERE state = ?1"
			   " AND retried_in = 0 AND " CONCLUDED " GROUP BY err_class", 0},
	[S_PARK_EACH] = {"SELECT id FROM units WHERE state = ?1 AND retried_in = 0"
			 " AND (?2 = 0 OR run_id = ?2) AND " CONCLUDED " ORDER BY id", 0},
	[S_PARK_REQUEST] = {"UPDATE units SET retry_requested = 1 WHERE state = ?1"
			    " AND retried_in = 0 AND (id = ?2 OR run_id = ?3)", 0},
	/* A unit's successors point at it with parent; a file's tree is
	 * fetch -> unpack -> map (one per archive member) -> load. */
	[S_PARK_TREE_OPEN] = {"WITH RECURSIVE t(id) AS (SELECT id FROM units WHERE parent = ?1"
			      " UNION ALL SELECT u.id FROM units u JOIN t ON u.parent = t.id)"
			      " SELECT count(*) FROM units WHERE id IN (SELECT id FROM t)"
			      " AND state IN (?2, ?3, ?4)", 0},
};

int state_park_retry_due(const struct state_unit *u)
{
	return u->state == US_FAILED && !u->retried_in &&
	       (u->err_class == EC_TRANSIENT || u->retry_requested);
}

int state_park_runs_each(struct state *s, int64_t run_id,
			 int (*cb)(void *ud, int64_t run_id), void *ud,
			 struct err *err)
{
	struct state_ids x = {NULL, 0, 0, err};
	size_t i;
	int rc;

	/* A pending or running unit in a concluded run: a retry in place
	 * that a crash cut short (its successors, or itself). Ids first:
	 * the callback writes to the store. */
	rc = state_rows(s, S_PARK_RUNS,
			SA(SA_I(run_id), SA_I(US_FAILED), SA_I(EC_TRANSIENT),
			   SA_I(US_PENDING), SA_I(US_RUNNING)),
			state_row_id, &x, err);
	for (i = 0; rc == 0 && i < x.n; i++) {
		int c = cb(ud, x.v[i]);

		if (c < 0)
			rc = -1;
		if (c)
			break;
	}
	free(x.v);
	return rc;
}

int state_park_supersede(struct state *s, int64_t run_id, const char *stage,
			 const char *scope, int64_t *n, struct err *err)
{
	if (state_exec(s, S_PARK_SUPERSEDE,
		       SA(SA_I(run_id), SA_T(stage), SA_T(scope),
			  SA_I(US_FAILED)),
		       err) < 0)
		return -1;
	if (n)
		*n = state_changes(s);
	return 0;
}

int state_park_count_scope(struct state *s, int64_t run_id,
			   const char *stage, const char *scope, int64_t *n,
			   struct err *err)
{
	*n = 0;
	return state_rows(s, S_PARK_COUNT_SCOPE,
			  SA(SA_I(run_id), SA_T(stage), SA_T(scope),
			     SA_I(US_FAILED)),
			  state_row_int, n, err);
}

static int class_row(void *ud, struct db_stmt *st)
{
	int64_t *by = ud, c = db_col_int64(st, 0);

	by[c >= EC_NONE && c <= EC_INTERNAL ? c : EC_INTERNAL] +=
		db_col_int64(st, 1);
	return 0;
}

int state_park_counts(struct state *s, int64_t by_class[5], struct err *err)
{
	memset(by_class, 0, 5 * sizeof(*by_class));
	return state_rows(s, S_PARK_COUNTS, SA(SA_I(US_FAILED)), class_row,
			  by_class, err);
}

/* The callback of state_park_each takes a const unit. */
struct park_cb {
	int (*cb)(void *ud, const struct state_unit *u);
	void *ud;
};

static int park_unit(void *ud, struct state_unit *u)
{
	struct park_cb *c = ud;

	return c->cb(c->ud, u);
}

int state_park_each(struct state *s, int64_t run_id,
		    int (*cb)(void *ud, const struct state_unit *u), void *ud,
		    struct err *err)
{
	struct state_ids x = {NULL, 0, 0, err};
	struct park_cb c = {cb, ud};
	int cbrc, rc;

	rc = state_rows(s, S_PARK_EACH, SA(SA_I(US_FAILED), SA_I(run_id)),
			state_row_id, &x, err);
	/* A callback's positive return only stops the walk; its -1 (an
	 * error, in err) is the walk's error too, never dropped. */
	if (rc == 0)
		rc = state_units_of(s, &x, park_unit, &c, &cbrc, err);
	free(x.v);
	return rc < 0 || cbrc < 0 ? -1 : 0;
}

int state_park_request(struct state *s, int64_t unit_id, int64_t run_id,
		       int64_t *n, struct err *err)
{
	*n = 0;
	if (state_exec(s, S_PARK_REQUEST,
		       SA(SA_I(US_FAILED), SA_I(unit_id ? unit_id : -1),
			  SA_I(run_id ? run_id : -1)),
		       err) < 0)
		return -1;
	*n = state_changes(s);
	return 0;
}

int state_unit_tree_open(struct state *s, int64_t id, int64_t *n,
			 struct err *err)
{
	*n = 0;
	return state_rows(s, S_PARK_TREE_OPEN,
			  SA(SA_I(id), SA_I(US_PENDING), SA_I(US_RUNNING),
			     SA_I(US_FAILED)),
			  state_row_int, n, err);
}
