/* state_runs.c - the state store's runs and their units: the tables
 * runs, run_deps, plans and units (the stage engine's bookkeeping of a
 * run: which stage did what to which input). See state.h. Each function
 * is its statement and a call of the binder (state_int.h).
 */
#include "state.h"
#include "state_int.h"

#include <stdlib.h>
#include <string.h>

#include "transforms/model/dt.h"

/* This file's statements (state_int.h): SQL in the common dialect
 * of db.h, prepared once per handle by state_stmt. */
const struct state_sql state_runs_sql[S_NSTMTS] = {
	/* max + 1, as SQLite numbers rowids: PostgreSQL's identity would
	 * skip the number of a run whose creation was rolled back (a crash),
	 * and run ids are in delivered file names. Runs are created under
	 * the writer lock, so no two take the same number. */
	[S_RUN_CREATE] = {"INSERT INTO runs(run_id, started_at, status,"
			 " config_sha) VALUES((SELECT coalesce(max(run_id), 0)"
			 " + 1 FROM runs), ?, 'running', ?) RETURNING run_id", 0},
	/* Concluded runs ('done', 'failed') are never resumed by a new
	 * run: their failed units are parked (state_park.h). */
	[S_RUN_UNFINISHED] = {"SELECT run_id FROM runs WHERE status IN"
			     " ('running', 'interrupted', 'partial')"
			     " ORDER BY run_id DESC LIMIT 1", 0},
	[S_RUN_GET] = {"SELECT run_id, started_at, finished_at, status,"
		      " exit_code, config_sha, gc_at, clock_s FROM runs WHERE run_id = ?",
		      0},
	[S_RUN_FINISH] = {"UPDATE runs SET status = ?, exit_code = ?,"
			 " finished_at = ? WHERE run_id = ?", 0},
	[S_RUN_REOPEN] = {"UPDATE runs SET status = 'running',"
			 " finished_at = NULL WHERE run_id = ?", 0},
	[S_RUNS] = {"SELECT run_id, started_at, finished_at, status, exit_code,"
		   " config_sha, gc_at, clock_s FROM runs ORDER BY run_id DESC LIMIT ?",
		   0},
	/* gc.c: concluded runs whose every unit is finished (done,
	 * skipped, or failed and taken over by a later run), not yet
	 * collected, newest first. */
	[S_RUNS_COLLECTABLE] = {"SELECT run_id, started_at, finished_at,"
			       " status, exit_code, config_sha, gc_at, clock_s FROM runs r"
			       " WHERE status IN ('done', 'failed') AND gc_at IS"
			       " NULL AND NOT EXISTS (SELECT 1 FROM units u"
			       " WHERE u.run_id = r.run_id AND NOT (u.state IN"
			       " (2, 4) OR (u.state = 3 AND u.retried_in > 0)))"
			       " ORDER BY run_id DESC", 0},
	[S_RUN_CLOCK_SET] = {"UPDATE runs SET clock_s = ? WHERE run_id = ?", 0},
	[S_RUN_GC_SET] = {"UPDATE runs SET gc_at = ? WHERE run_id = ?", 0},
	[S_RUN_LAST_ID] = {"SELECT coalesce(max(run_id), 0) FROM runs", 0},
	[S_DEP_ADD] = {"INSERT INTO run_deps VALUES(?, ?, ?)"
		      " ON CONFLICT(run_id, path) DO UPDATE SET"
		      " sha256 = excluded.sha256", 0},
	[S_DEPS] = {"SELECT path, sha256 FROM run_deps WHERE run_id = ?"
		   " ORDER BY path", 0},
	/* Each version of a file a unit was made with: a row per unit
	 * (by its natural key, which outlives a unit row a rerun replaces)
	 * and file version, with the attempt and time it was first used.
	 * A rerun with a changed mapping adds rows beside the old ones. */
	[S_UDEP_ADD] = {"INSERT INTO unit_deps VALUES(?, ?, ?, ?, ?, ?, ?, ?)"
		       " ON CONFLICT DO NOTHING", 0},
	[S_UDEPS_RUN] = {"SELECT stage, scope, min(attempt), path, sha256,"
			" count(*), min(at_ms) FROM unit_deps WHERE run_id = ?"
			" GROUP BY stage, scope, path, sha256"
			" ORDER BY min(at_ms), stage, scope, path", 0},
	[S_UDEPS_UNIT] = {"SELECT attempt, path, sha256, 1, at_ms"
			 " FROM unit_deps WHERE run_id = ? AND stage = ? AND"
			 " scope = ? AND ukey = ? ORDER BY at_ms, path", 0},
	[S_PLAN_GET] = {"SELECT 1 FROM plans WHERE run_id = ? AND stage = ?"
		       " AND scope = ?", 0},
	[S_PLAN_SET] = {"INSERT INTO plans VALUES(?, ?, ?)"
		       " ON CONFLICT DO NOTHING", 0},
	[S_PLAN_DEL] = {"DELETE FROM plans WHERE run_id = ? AND stage = ?"
		       " AND scope = ?", 0},
	[S_UNIT_INS] = {"INSERT INTO units(run_id, stage, scope, ukey,"
		       " parent, state, input_path, input_sha)"
		       " VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
		       " RETURNING id", 0},
	[S_UNIT_FIND] = {"SELECT id FROM units WHERE run_id = ? AND stage = ?"
			" AND scope = ? AND ukey = ?", 0},
	[S_UNIT_SAVE] = {"UPDATE units SET state = ?, attempts = ?,"
			" input_path = ?, input_sha = ?, output_path = ?,"
			" output_sha = ?, records_in = ?, records_out = ?,"
			" rejects = ?, dupes = ?, stale = ?, started_ms = ?,"
			" finished_ms = ?, error = ?, detail = ?, parent = ?,"
			" err_class = ?19, retried_in = ?20,"
			" retry_requested = ?21, held = ?22, converted = ?23,"
			" listed = ?24, file_size = ?25, file_mtime = ?26,"
			" posted = ?27, list_standin = ?28,"
			" accept_rejects = ?29, released_by = ?30,"
			" release_note = ?31, ic_conflicts = ?32,"
			" rejects_path = ?33, control_no = ?34, outcome = ?35"
			" WHERE id = ?17 AND (CAST(?18 AS TEXT) IS NULL"
			" OR state <> 1 OR worker IS NULL OR worker = ?18)"
			" RETURNING worker", 0},
	[S_UNIT_GET] = {"SELECT " STATE_UNIT_COLS " FROM units WHERE id = ?", 0},
	[S_UNITS] = {"SELECT id FROM units WHERE run_id = ? AND stage = ?"
		    " AND scope = ? ORDER BY id", 0},
	[S_UNITS_ALL] = {"SELECT id FROM units WHERE run_id = ? AND stage = ?"
			" ORDER BY id", 0},
	[S_UNITS_RESET] = {"UPDATE units SET state = 0, error = NULL"
			  " WHERE run_id = ? AND stage = ? AND scope = ?", 0},
	[S_UNITS_RESET_ALL] = {"UPDATE units SET state = 0, error = NULL"
			      " WHERE run_id = ? AND stage = ?", 0},
	[S_UNITS_DEL] = {"DELETE FROM units WHERE run_id = ? AND stage = ?"
			" AND scope = ?", 0},
	[S_UNITS_DEL_ALL] = {"DELETE FROM units WHERE run_id = ? AND stage = ?", 0},
	[S_UNITS_IN_STATE] = {"SELECT id FROM units WHERE state = ?"
			     " AND stage = ? ORDER BY id", 0},
	[S_RUN_LAST_DONE] = {"SELECT max(finished_at) FROM runs"
			    " WHERE status = 'done'", 0},
};


int state_run_create(struct state *s, const char *now_iso,
		     const char *config_sha, int64_t *run_id, struct err *err)
{
	*run_id = 0;
	if (state_rows(s, S_RUN_CREATE, SA(SA_T(now_iso), SA_T(config_sha)),
		       state_row_int, run_id, err) < 0)
		return -1;
	if (*run_id <= 0)
		return err_set(err, E_INTERNAL,
			       "state store: no run id from insert into runs");
	return 0;
}

int state_run_unfinished(struct state *s, int64_t *run_id, struct err *err)
{
	*run_id = 0;
	return state_rows(s, S_RUN_UNFINISHED, SA_NONE, state_row_int, run_id,
			  err);
}

static void read_run(struct db_stmt *p, struct state_run *r)
{
	memset(r, 0, sizeof(*r));
	r->run_id = db_col_int64(p, 0);
	state_col_copy(p, 1, r->started_at, sizeof(r->started_at));
	state_col_copy(p, 2, r->finished_at, sizeof(r->finished_at));
	state_col_copy(p, 3, r->status, sizeof(r->status));
	r->exit_code = (int)db_col_int64(p, 4);
	state_col_copy(p, 5, r->config_sha, sizeof(r->config_sha));
	state_col_copy(p, 6, r->gc_at, sizeof(r->gc_at));
	r->clock_s = db_col_int64(p, 7);
}

/* A row function's view of a record it fills or a callback it calls,
 * and whether a row came. */
struct row_to {
	void *out;
	int found;
	int (*cb)(void *ud, const struct state_run *r);
	void *ud;
};

static int run_row(void *ud, struct db_stmt *p)
{
	struct row_to *x = ud;

	read_run(p, x->out);
	x->found = 1;
	return 1;
}

int state_run_get(struct state *s, int64_t run_id, struct state_run *out,
		  struct err *err)
{
	struct row_to x = {out, 0, NULL, NULL};

	if (state_rows(s, S_RUN_GET, SA(SA_I(run_id)), run_row, &x, err) < 0)
		return -1;
	if (!x.found)
		return err_set(err, E_NOTFOUND, "no run %lld",
			       (long long)run_id);
	return 0;
}

int state_run_finish(struct state *s, int64_t run_id, const char *status,
		     int exit_code, const char *now_iso, struct err *err)
{
	return state_exec(s, S_RUN_FINISH,
			  SA(SA_T(status), SA_I(exit_code), SA_T(now_iso),
			     SA_I(run_id)),
			  err);
}

int state_run_reopen(struct state *s, int64_t run_id, struct err *err)
{
	return state_exec(s, S_RUN_REOPEN, SA(SA_I(run_id)), err);
}

static int runs_row(void *ud, struct db_stmt *p)
{
	struct row_to *x = ud;

	read_run(p, x->out);
	/* the callback's nonzero only stops the walk */
	return x->cb(x->ud, x->out) != 0;
}

int state_runs_each(struct state *s, int limit,
		    int (*cb)(void *ud, const struct state_run *r), void *ud,
		    struct err *err)
{
	struct state_run r;
	struct row_to x = {&r, 0, cb, ud};

	return state_rows(s, S_RUNS, SA(SA_I(limit)), runs_row, &x, err);
}

_Static_assert(US_DONE == 2 && US_FAILED == 3 && US_SKIPPED == 4,
	       "S_RUNS_COLLECTABLE spells the unit states as numbers");

int state_runs_collectable_each(struct state *s,
				int (*cb)(void *ud, const struct state_run *r),
				void *ud, struct err *err)
{
	struct state_run r;
	struct row_to x = {&r, 0, cb, ud};

	return state_rows(s, S_RUNS_COLLECTABLE, SA_NONE, runs_row, &x,
			  err);
}

int state_run_set_clock(struct state *s, int64_t run_id, int64_t clock_s,
			struct err *err)
{
	return state_exec(s, S_RUN_CLOCK_SET, SA(SA_I(clock_s), SA_I(run_id)),
			  err);
}

int state_run_gc_mark(struct state *s, int64_t run_id, const char *now_iso,
		      struct err *err)
{
	return state_exec(s, S_RUN_GC_SET, SA(SA_T(now_iso), SA_I(run_id)),
			  err);
}

static int last_id_row(void *ud, struct db_stmt *p)
{
	*(int64_t *)ud = db_col_int64(p, 0);
	return 1;
}

int state_run_last_id(struct state *s, int64_t *out, struct err *err)
{
	*out = 0;
	return state_rows(s, S_RUN_LAST_ID, SA_NONE, last_id_row, out, err);
}

int state_run_dep_add(struct state *s, int64_t run_id, const char *path,
		      const char *sha, struct err *err)
{
	return state_exec(s, S_DEP_ADD,
			  SA(SA_I(run_id), SA_T(path), SA_T(sha)), err);
}

struct deps_cb {
	int (*cb)(void *ud, const char *path, const char *sha);
	void *ud;
};

static int deps_row(void *ud, struct db_stmt *p)
{
	struct deps_cb *d = ud;

	return d->cb(d->ud, db_col_text(p, 0), db_col_text(p, 1)) != 0;
}

int state_run_deps_each(struct state *s, int64_t run_id,
			int (*cb)(void *ud, const char *path, const char *sha),
			void *ud, struct err *err)
{
	struct deps_cb d = {cb, ud};

	return state_rows(s, S_DEPS, SA(SA_I(run_id)), deps_row, &d, err);
}

int state_unit_dep_add(struct state *s, const struct state_unit *u,
		       const char *path, const char *sha, int64_t at_ms,
		       struct err *err)
{
	return state_exec(s, S_UDEP_ADD,
			  SA(SA_I(u->run_id), SA_T(u->stage), SA_T(u->scope),
			     SA_T(u->ukey), SA_T(path), SA_T(sha),
			     SA_I(u->attempts), SA_I(at_ms)),
			  err);
}

struct udeps_cb {
	int (*cb)(void *ud, const struct state_dep *d);
	void *ud;
	int per_run;
};

static int udeps_row(void *ud, struct db_stmt *p)
{
	struct udeps_cb *c = ud;
	struct state_dep d;
	int k = c->per_run ? 2 : 0;

	memset(&d, 0, sizeof(d));
	if (c->per_run) {
		d.stage = db_col_text(p, 0);
		d.scope = db_col_text(p, 1);
	}
	d.attempt = (int)db_col_int64(p, k);
	d.path = db_col_text(p, k + 1);
	d.sha256 = db_col_text(p, k + 2);
	d.units = db_col_int64(p, k + 3);
	d.at_ms = db_col_int64(p, k + 4);
	return c->cb(c->ud, &d) != 0;
}

int state_run_udeps_each(struct state *s, int64_t run_id,
			 int (*cb)(void *ud, const struct state_dep *d),
			 void *ud, struct err *err)
{
	struct udeps_cb c = {cb, ud, 1};

	return state_rows(s, S_UDEPS_RUN, SA(SA_I(run_id)), udeps_row, &c,
			  err);
}

int state_unit_deps_each(struct state *s, const struct state_unit *u,
			 int (*cb)(void *ud, const struct state_dep *d),
			 void *ud, struct err *err)
{
	struct udeps_cb c = {cb, ud, 0};

	return state_rows(s, S_UDEPS_UNIT,
			  SA(SA_I(u->run_id), SA_T(u->stage), SA_T(u->scope),
			     SA_T(u->ukey)),
			  udeps_row, &c, err);
}

int state_plan_done(struct state *s, int64_t run_id, const char *stage,
		    const char *scope, int *done, struct err *err)
{
	*done = 0;
	return state_rows(s, S_PLAN_GET,
			  SA(SA_I(run_id), SA_T(stage), SA_T(scope)),
			  state_row_found, done, err);
}

int state_plan_mark(struct state *s, int64_t run_id, const char *stage,
		    const char *scope, struct err *err)
{
	return state_exec(s, S_PLAN_SET,
			  SA(SA_I(run_id), SA_T(stage), SA_T(scope)), err);
}

int state_plan_clear(struct state *s, int64_t run_id, const char *stage,
		     const char *scope, struct err *err)
{
	return state_exec(s, S_PLAN_DEL,
			  SA(SA_I(run_id), SA_T(stage), SA_T(scope)), err);
}

int state_unit_add(struct state *s, struct state_unit *u, struct err *err)
{
	u->id = 0;
	/* A new unit's id comes back from its INSERT; only a unit that
	 * exists already (a rerun, a resumed run) is looked up by key. */
	if (state_rows(s, S_UNIT_INS,
		       SA(SA_I(u->run_id), SA_T(u->stage), SA_T(u->scope),
			  SA_T(u->ukey), SA_I(u->parent), SA_I(u->state),
			  SA_T(u->input_path), SA_T(u->input_sha)),
		       state_row_int, &u->id, err) < 0 ||
	    (u->id <= 0 &&
	     state_rows(s, S_UNIT_FIND,
			SA(SA_I(u->run_id), SA_T(u->stage), SA_T(u->scope),
			   SA_T(u->ukey)),
			state_row_int, &u->id, err) < 0))
		return -1;
	if (u->id <= 0)
		return err_set(err, E_INTERNAL,
			       "state store: unit not found after insert");
	return 0;
}

/* Text columns store "" as NULL. */
static const char *or_null(const char *v)
{
	return v[0] ? v : NULL;
}

/* The saved row's worker (RETURNING): whether a row was saved, and
 * whether it runs under this handle's worker. */
struct saved_row {
	const char *worker;
	int found, ours;
};

static int saved_row(void *ud, struct db_stmt *p)
{
	struct saved_row *x = ud;
	const char *v = db_col_text(p, 0);

	x->found = 1;
	x->ours = x->worker && v && !strcmp(v, x->worker);
	return 0;
}

int state_unit_save(struct state *s, const struct state_unit *u,
		    struct err *err)
{
	struct saved_row x = {s->worker, 0, 0};

	/* in the order of the statement's ?1 .. ?35 */
	if (state_rows(s, S_UNIT_SAVE,
		       SA(SA_I(u->state), SA_I(u->attempts),
			  SA_T(u->input_path), SA_T(u->input_sha),
			  SA_T(u->output_path), SA_T(u->output_sha),
			  SA_I(u->records_in), SA_I(u->records_out),
			  SA_I(u->rejects), SA_I(u->dupes), SA_I(u->stale),
			  SA_I(u->started_ms), SA_I(u->finished_ms),
			  SA_T(or_null(u->error)), SA_T(or_null(u->detail)),
			  SA_I(u->parent), SA_I(u->id), SA_T(s->worker),
			  SA_I(u->state == US_FAILED ? u->err_class : 0),
			  SA_I(u->retried_in), SA_I(u->retry_requested),
			  SA_I(u->held), SA_I(u->converted), SA_I(u->listed),
			  SA_I((int64_t)u->file_size), SA_I(u->file_mtime),
			  SA_I(u->posted), SA_I(u->list_standin),
			  SA_I(u->accept_rejects),
			  SA_T(or_null(u->released_by)),
			  SA_T(or_null(u->release_note)),
			  SA_I(u->ic_conflicts),
			  SA_T(or_null(u->rejects_path)), SA_I(u->control_no),
			  SA_I(u->outcome)),
		       saved_row, &x, err) < 0)
		return -1;
	if (s->worker && !x.found) {
		/* Our lease ran out and another worker took the unit over:
		 * its outcome is theirs to record (work.h). */
		s->refused = u->id;
		return err_set(err, E_BUSY,
			       "unit %lld was taken over by another worker "
			       "(this worker's lease ran out)",
			       (long long)u->id);
	}
	/* The UPDATE keeps the row locked (PostgreSQL) or the store's
	 * writer lock held (SQLite) until the commit: whose it is cannot
	 * change before then (state_tx_holds). */
	if (x.ours && s->in_tx)
		s->tx_held = u->id;
	return 0;
}

int state_tx_holds(struct state *s, int64_t unit)
{
	return unit && s->in_tx && s->tx_held == unit;
}

int64_t state_unit_refused(struct state *s)
{
	return s->refused;
}

void state_unit_refused_reset(struct state *s)
{
	s->refused = 0;
}

void state_set_worker(struct state *s, const char *worker)
{
	s->worker = worker;
}

void state_unit_read(struct db_stmt *p, struct state_unit *u)
{
	memset(u, 0, sizeof(*u));
	u->id = db_col_int64(p, 0);
	u->run_id = db_col_int64(p, 1);
	u->parent = db_col_int64(p, 2);
	state_col_copy(p, 3, u->stage, sizeof(u->stage));
	state_col_copy(p, 4, u->scope, sizeof(u->scope));
	state_col_copy(p, 5, u->ukey, sizeof(u->ukey));
	u->state = (int)db_col_int64(p, 6);
	u->attempts = (int)db_col_int64(p, 7);
	state_col_copy(p, 8, u->input_path, sizeof(u->input_path));
	state_col_copy(p, 9, u->input_sha, sizeof(u->input_sha));
	state_col_copy(p, 10, u->output_path, sizeof(u->output_path));
	state_col_copy(p, 11, u->output_sha, sizeof(u->output_sha));
	u->records_in = db_col_int64(p, 12);
	u->records_out = db_col_int64(p, 13);
	u->rejects = db_col_int64(p, 14);
	u->dupes = db_col_int64(p, 15);
	u->stale = db_col_int64(p, 16);
	u->started_ms = db_col_int64(p, 17);
	u->finished_ms = db_col_int64(p, 18);
	state_col_copy(p, 19, u->error, sizeof(u->error));
	state_col_copy(p, 20, u->detail, sizeof(u->detail));
	u->err_class = (int)db_col_int64(p, 21);
	u->retried_in = db_col_int64(p, 22);
	u->retry_requested = (int)db_col_int64(p, 23);
	u->held = db_col_int64(p, 24);
	u->converted = db_col_int64(p, 25);
	u->listed = (int)db_col_int64(p, 26);
	u->file_size = (uint64_t)db_col_int64(p, 27);
	u->file_mtime = db_col_int64(p, 28);
	u->posted = (int)db_col_int64(p, 29);
	u->list_standin = (int)db_col_int64(p, 30);
	u->accept_rejects = (int)db_col_int64(p, 31);
	state_col_copy(p, 32, u->released_by, sizeof(u->released_by));
	state_col_copy(p, 33, u->release_note, sizeof(u->release_note));
	u->ic_conflicts = db_col_int64(p, 34);
	state_col_copy(p, 35, u->rejects_path, sizeof(u->rejects_path));
	u->control_no = db_col_int64(p, 36);
	u->outcome = (int)db_col_int64(p, 37);
}

static int unit_row(void *ud, struct db_stmt *p)
{
	struct row_to *x = ud;

	x->found = 1;
	state_unit_read(p, x->out);
	return 1;
}

int state_unit_get(struct state *s, int64_t id, struct state_unit *u,
		   struct err *err)
{
	struct row_to x = {u, 0, NULL, NULL};

	if (state_rows(s, S_UNIT_GET, SA(SA_I(id)), unit_row, &x, err) < 0)
		return -1;
	if (!x.found)
		return err_set(err, E_NOTFOUND, "no unit %lld", (long long)id);
	return 0;
}

/* Calls cb with each unit that statement id (its arguments a[0..n))
 * selects, in order; ids first (state_units_of). */
static int units_each(struct state *s, enum stmt_id id,
		      const struct state_arg *a, size_t n,
		      int (*cb)(void *ud, struct state_unit *u), void *ud,
		      struct err *err)
{
	struct state_ids ids = {NULL, 0, 0, err};
	int cbrc = 0, rc;

	rc = state_rows(s, id, a, n, state_row_id, &ids, err) < 0
		     ? -1
		     : state_units_of(s, &ids, cb, ud, &cbrc, err);
	free(ids.v);
	return rc < 0 || cbrc < 0 ? -1 : 0;
}

int state_units_each(struct state *s, int64_t run_id, const char *stage,
		     const char *scope,
		     int (*cb)(void *ud, struct state_unit *u), void *ud,
		     struct err *err)
{
	if (scope)
		return units_each(s, S_UNITS,
				  SA(SA_I(run_id), SA_T(stage), SA_T(scope)),
				  cb, ud, err);
	return units_each(s, S_UNITS_ALL, SA(SA_I(run_id), SA_T(stage)), cb,
			  ud, err);
}

static int units_op(struct state *s, enum stmt_id one, enum stmt_id all,
		    int64_t run_id, const char *stage, const char *scope,
		    struct err *err)
{
	if (scope)
		return state_exec(s, one,
				  SA(SA_I(run_id), SA_T(stage), SA_T(scope)),
				  err);
	return state_exec(s, all, SA(SA_I(run_id), SA_T(stage)), err);
}

int state_units_reset(struct state *s, int64_t run_id, const char *stage,
		      const char *scope, struct err *err)
{
	return units_op(s, S_UNITS_RESET, S_UNITS_RESET_ALL, run_id, stage,
			scope, err);
}

int state_units_delete(struct state *s, int64_t run_id, const char *stage,
		       const char *scope, struct err *err)
{
	return units_op(s, S_UNITS_DEL, S_UNITS_DEL_ALL, run_id, stage, scope,
			err);
}

int state_units_in_state_each(struct state *s, int unit_state,
			      const char *stage,
			      int (*cb)(void *ud, struct state_unit *u),
			      void *ud, struct err *err)
{
	return units_each(s, S_UNITS_IN_STATE,
			  SA(SA_I(unit_state), SA_T(stage)), cb, ud, err);
}

static int iso_row(void *ud, struct db_stmt *p)
{
	const char *iso = db_col_text(p, 0);
	int64_t *at = ud;

	if (iso && dt_parse_iso(iso, strlen(iso), at) < 0)
		*at = 0;
	return 1;
}

int state_run_last_done(struct state *s, int64_t *at, struct err *err)
{
	*at = 0;
	return state_rows(s, S_RUN_LAST_DONE, SA_NONE, iso_row, at, err);
}
