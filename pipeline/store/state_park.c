/* state_park.c - parked units; see state_park.h.
 *
 * Unit states are the numbers of enum unit_state (state.h): 0 pending,
 * 1 running, 2 done, 3 failed, 4 skipped, 5 quarantined; classes those of
 * enum err_class (err.h). Both are bound as parameters, never spelled in
 * SQL text, so the enums stay the one definition.
 *
 * Tables: none of its own; failed units of concluded runs (units, runs;
 * both are state_runs.c's).
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

int state_park_retry_due(const struct state_unit *u)
{
	return u->state == US_FAILED && !u->retried_in &&
	       (u->err_class == EC_TRANSIENT || u->retry_requested);
}

/* Steps st to its end, handing each row to row() (may be NULL);
 * finalizes st. */
static int each_row(struct db_stmt *st, int (*row)(void *, struct db_stmt *),
		    void *ud, struct err *err)
{
	int rc;

	while ((rc = db_step(st, err)) > 0)
		if (row && row(ud, st))
			break;
	db_finalize(st);
	return rc < 0 ? -1 : 0;
}

struct ids {
	int64_t *v;
	size_t n, cap;
	struct err *err;
};

static int add_id(void *ud, struct db_stmt *st)
{
	struct ids *x = ud;

	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;
		int64_t *g = realloc(x->v, cap * sizeof(*g));

		if (!g)
			return err_set(x->err, E_NOMEM, "out of memory"), 1;
		x->v = g;
		x->cap = cap;
	}
	x->v[x->n++] = db_col_int64(st, 0);
	return 0;
}

int state_park_runs_each(struct state *s, int64_t run_id,
			 int (*cb)(void *ud, int64_t run_id), void *ud,
			 struct err *err)
{
	struct db_stmt *st = db_prepare(
		state_db(s),
		"SELECT DISTINCT run_id FROM units WHERE run_id < ?1"
		" AND stage IN ('unpack', 'map', 'load')"
		" AND ((state = ?2 AND retried_in = 0"
		" AND (err_class = ?3 OR retry_requested = 1))"
		" OR state IN (?4, ?5))"
		" AND " CONCLUDED " ORDER BY run_id",
		0, err);
	struct ids x = {NULL, 0, 0, err};
	size_t i;
	int rc;

	if (!st)
		return -1;
	db_bind_int64(st, 1, run_id);
	db_bind_int64(st, 2, US_FAILED);
	db_bind_int64(st, 3, EC_TRANSIENT);
	/* A pending or running unit in a concluded run: a retry in place
	 * that a crash cut short (its successors, or itself). */
	db_bind_int64(st, 4, US_PENDING);
	db_bind_int64(st, 5, US_RUNNING);
	/* Ids first: the callback writes to the store. */
	rc = each_row(st, add_id, &x, err);
	if (rc == 0 && err->code != E_NONE)
		rc = -1;
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
	struct db *d = state_db(s);
	struct db_stmt *st = db_prepare(
		d,
		"UPDATE units SET retried_in = ?1 WHERE run_id < ?1"
		" AND stage = ?2 AND scope = ?3 AND state = ?4"
		" AND retried_in = 0",
		0, err);

	if (!st)
		return -1;
	db_bind_int64(st, 1, run_id);
	db_bind_text(st, 2, stage);
	db_bind_text(st, 3, scope);
	db_bind_int64(st, 4, US_FAILED);
	if (each_row(st, NULL, NULL, err) < 0)
		return -1;
	if (n)
		*n = db_changes(d);
	return 0;
}

static int one_int(void *ud, struct db_stmt *st)
{
	*(int64_t *)ud = db_col_int64(st, 0);
	return 1;
}

int state_park_count_scope(struct state *s, int64_t run_id,
			   const char *stage, const char *scope, int64_t *n,
			   struct err *err)
{
	struct db_stmt *st = db_prepare(
		state_db(s),
		"SELECT count(*) FROM units WHERE run_id < ?1 AND stage = ?2"
		" AND scope = ?3 AND state = ?4 AND retried_in = 0",
		0, err);

	*n = 0;
	if (!st)
		return -1;
	db_bind_int64(st, 1, run_id);
	db_bind_text(st, 2, stage);
	db_bind_text(st, 3, scope);
	db_bind_int64(st, 4, US_FAILED);
	return each_row(st, one_int, n, err);
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
	struct db_stmt *st = db_prepare(
		state_db(s),
		"SELECT err_class, count(*) FROM units WHERE state = ?1"
		" AND retried_in = 0 AND " CONCLUDED " GROUP BY err_class",
		0, err);

	memset(by_class, 0, 5 * sizeof(*by_class));
	if (!st)
		return -1;
	db_bind_int64(st, 1, US_FAILED);
	return each_row(st, class_row, by_class, err);
}

int state_park_each(struct state *s, int64_t run_id,
		    int (*cb)(void *ud, const struct state_unit *u), void *ud,
		    struct err *err)
{
	struct db_stmt *st = db_prepare(
		state_db(s),
		"SELECT id FROM units WHERE state = ?1 AND retried_in = 0"
		" AND (?2 = 0 OR run_id = ?2) AND " CONCLUDED " ORDER BY id",
		0, err);
	struct ids x = {NULL, 0, 0, err};
	struct state_unit *u = NULL;
	size_t i;
	int rc;

	if (!st)
		return -1;
	db_bind_int64(st, 1, US_FAILED);
	db_bind_int64(st, 2, run_id);
	rc = each_row(st, add_id, &x, err);
	if (rc == 0 && err->code != E_NONE)
		rc = -1;
	if (rc == 0 && x.n && !(u = malloc(sizeof(*u))))
		rc = err_set(err, E_NOMEM, "out of memory");
	for (i = 0; rc == 0 && i < x.n; i++) {
		if (state_unit_get(s, x.v[i], u, err) < 0)
			rc = -1;
		else if (cb(ud, u))
			break;
	}
	free(u);
	free(x.v);
	return rc;
}

int state_park_request(struct state *s, int64_t unit_id, int64_t run_id,
		       int64_t *n, struct err *err)
{
	struct db *d = state_db(s);
	struct db_stmt *st = db_prepare(
		d,
		"UPDATE units SET retry_requested = 1 WHERE state = ?1"
		" AND retried_in = 0 AND (id = ?2 OR run_id = ?3)",
		0, err);

	*n = 0;
	if (!st)
		return -1;
	db_bind_int64(st, 1, US_FAILED);
	db_bind_int64(st, 2, unit_id ? unit_id : -1);
	db_bind_int64(st, 3, run_id ? run_id : -1);
	if (each_row(st, NULL, NULL, err) < 0)
		return -1;
	*n = db_changes(d);
	return 0;
}

int state_unit_tree_open(struct state *s, int64_t id, int64_t *n,
			 struct err *err)
{
	/* A unit's successors point at it with parent; a file's tree is
	 * fetch -> unpack -> map (one per archive member) -> load. */
	struct db_stmt *st = db_prepare(
		state_db(s),
		"WITH RECURSIVE t(id) AS (SELECT id FROM units WHERE parent = ?1"
		" UNION ALL SELECT u.id FROM units u JOIN t ON u.parent = t.id)"
		" SELECT count(*) FROM units WHERE id IN (SELECT id FROM t)"
		" AND state IN (?2, ?3, ?4)",
		0, err);

	*n = 0;
	if (!st)
		return -1;
	db_bind_int64(st, 1, id);
	db_bind_int64(st, 2, US_PENDING);
	db_bind_int64(st, 3, US_RUNNING);
	db_bind_int64(st, 4, US_FAILED);
	return each_row(st, one_int, n, err);
}
