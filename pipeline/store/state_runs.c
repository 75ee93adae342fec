/* state_runs.c - the state store's runs and their units: the tables
 * runs, run_deps, plans and units (the stage engine's bookkeeping of a
 * run: which stage did what to which input). See state.h; the SQL is in
 * state.c's statement table.
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
		      " exit_code, config_sha FROM runs WHERE run_id = ?", 0},
	[S_RUN_FINISH] = {"UPDATE runs SET status = ?, exit_code = ?,"
			 " finished_at = ? WHERE run_id = ?", 0},
	[S_RUN_REOPEN] = {"UPDATE runs SET status = 'running',"
			 " finished_at = NULL WHERE run_id = ?", 0},
	[S_RUNS] = {"SELECT run_id, started_at, finished_at, status, exit_code,"
		   " config_sha FROM runs ORDER BY run_id DESC LIMIT ?", 0},
	[S_DEP_ADD] = {"INSERT INTO run_deps VALUES(?, ?, ?)"
		      " ON CONFLICT(run_id, path) DO UPDATE SET"
		      " sha256 = excluded.sha256", 0},
	[S_DEPS] = {"SELECT path, sha256 FROM run_deps WHERE run_id = ?"
		   " ORDER BY path", 0},
	[S_PLAN_GET] = {"SELECT 1 FROM plans WHERE run_id = ? AND stage = ?"
		       " AND scope = ?", 0},
	[S_PLAN_SET] = {"INSERT INTO plans VALUES(?, ?, ?)"
		       " ON CONFLICT DO NOTHING", 0},
	[S_PLAN_DEL] = {"DELETE FROM plans WHERE run_id = ? AND stage = ?"
		       " AND scope = ?", 0},
	[S_UNIT_INS] = {"INSERT INTO units(run_id, stage, scope, ukey,"
		       " parent, state, input_path, input_sha)"
		       " VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", 0},
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
			" OR state <> 1 OR worker IS NULL OR worker = ?18)", 0},
	[S_UNIT_GET] = {"SELECT id, run_id, parent, stage, scope, ukey, state,"
		       " attempts, input_path, input_sha, output_path,"
		       " output_sha, records_in, records_out, rejects, dupes,"
		       " stale, started_ms, finished_ms, error, detail,"
		       " err_class, retried_in, retry_requested, held,"
		       " converted, listed, file_size, file_mtime, posted,"
		       " list_standin, accept_rejects, released_by,"
		       " release_note, ic_conflicts, rejects_path, control_no,"
		       " outcome FROM units WHERE id = ?", 0},
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
	struct db_stmt *p = state_stmt(s, S_RUN_CREATE, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, now_iso);
	db_bind_text(p, 2, config_sha);
	if (state_one_row(db_step(p, err), p, err) < 0)
		return -1;
	*run_id = db_col_int64(p, 0);
	db_reset(p);
	return 0;
}

int state_run_unfinished(struct state *s, int64_t *run_id, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_RUN_UNFINISHED, err);
	int rc;

	if (!p)
		return -1;
	*run_id = 0;
	rc = db_step(p, err);
	if (rc == 1)
		*run_id = db_col_int64(p, 0);
	else if (rc != 0)
		return -1;
	db_reset(p);
	return 0;
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
}

int state_run_get(struct state *s, int64_t run_id, struct state_run *out,
		  struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_RUN_GET, err);
	int rc;

	if (!p)
		return -1;
	db_bind_int64(p, 1, run_id);
	rc = db_step(p, err);
	if (rc == 1) {
		read_run(p, out);
		db_reset(p);
		return 0;
	}
	db_reset(p);
	if (rc != 0)
		return -1;
	return err_set(err, E_NOTFOUND, "no run %lld", (long long)run_id);
}

int state_run_finish(struct state *s, int64_t run_id, const char *status,
		     int exit_code, const char *now_iso, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_RUN_FINISH, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, status);
	db_bind_int64(p, 2, exit_code);
	db_bind_text(p, 3, now_iso);
	db_bind_int64(p, 4, run_id);
	return state_step_done(p, err);
}

int state_run_reopen(struct state *s, int64_t run_id, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_RUN_REOPEN, err);

	if (!p)
		return -1;
	db_bind_int64(p, 1, run_id);
	return state_step_done(p, err);
}

int state_runs_each(struct state *s, int limit,
		    int (*cb)(void *ud, const struct state_run *r), void *ud,
		    struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_RUNS, err);
	struct state_run r;
	int rc;

	if (!p)
		return -1;
	db_bind_int64(p, 1, limit);
	while ((rc = db_step(p, err)) == 1) {
		read_run(p, &r);
		if (cb(ud, &r))
			break;
	}
	if (rc < 0)
		return -1;
	db_reset(p);
	return 0;
}

int state_run_dep_add(struct state *s, int64_t run_id, const char *path,
		      const char *sha, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DEP_ADD, err);

	if (!p)
		return -1;
	db_bind_int64(p, 1, run_id);
	db_bind_text(p, 2, path);
	db_bind_text(p, 3, sha);
	return state_step_done(p, err);
}

int state_run_deps_each(struct state *s, int64_t run_id,
			int (*cb)(void *ud, const char *path, const char *sha),
			void *ud, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DEPS, err);
	int rc;

	if (!p)
		return -1;
	db_bind_int64(p, 1, run_id);
	while ((rc = db_step(p, err)) == 1)
		if (cb(ud, db_col_text(p, 0),
		       db_col_text(p, 1)))
			break;
	if (rc < 0)
		return -1;
	db_reset(p);
	return 0;
}

static int plan_op(struct state *s, enum stmt_id id, int64_t run_id,
		   const char *stage, const char *scope, int *found,
		   struct err *err)
{
	struct db_stmt *p = state_stmt(s, id, err);
	int rc;

	if (!p)
		return -1;
	db_bind_int64(p, 1, run_id);
	db_bind_text(p, 2, stage);
	db_bind_text(p, 3, scope);
	rc = db_step(p, err);
	if (rc < 0)
		return -1;
	if (found)
		*found = rc == 1;
	db_reset(p);
	return 0;
}

int state_plan_done(struct state *s, int64_t run_id, const char *stage,
		    const char *scope, int *done, struct err *err)
{
	return plan_op(s, S_PLAN_GET, run_id, stage, scope, done, err);
}

int state_plan_mark(struct state *s, int64_t run_id, const char *stage,
		    const char *scope, struct err *err)
{
	return plan_op(s, S_PLAN_SET, run_id, stage, scope, NULL, err);
}

int state_plan_clear(struct state *s, int64_t run_id, const char *stage,
		     const char *scope, struct err *err)
{
	return plan_op(s, S_PLAN_DEL, run_id, stage, scope, NULL, err);
}

int state_unit_add(struct state *s, struct state_unit *u, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_UNIT_INS, err);

	if (!p)
		return -1;
	db_bind_int64(p, 1, u->run_id);
	db_bind_text(p, 2, u->stage);
	db_bind_text(p, 3, u->scope);
	db_bind_text(p, 4, u->ukey);
	db_bind_int64(p, 5, u->parent);
	db_bind_int64(p, 6, u->state);
	db_bind_text(p, 7, u->input_path);
	db_bind_text(p, 8, u->input_sha);
	if (state_step_done(p, err) < 0)
		return -1;
	if (!(p = state_stmt(s, S_UNIT_FIND, err)))
		return -1;
	db_bind_int64(p, 1, u->run_id);
	db_bind_text(p, 2, u->stage);
	db_bind_text(p, 3, u->scope);
	db_bind_text(p, 4, u->ukey);
	if (state_one_row(db_step(p, err), p, err) < 0)
		return -1;
	u->id = db_col_int64(p, 0);
	db_reset(p);
	return 0;
}

int state_unit_save(struct state *s, const struct state_unit *u,
		    struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_UNIT_SAVE, err);

	if (!p)
		return -1;
	db_bind_int64(p, 1, u->state);
	db_bind_int64(p, 2, u->attempts);
	db_bind_text(p, 3, u->input_path);
	db_bind_text(p, 4, u->input_sha);
	db_bind_text(p, 5, u->output_path);
	db_bind_text(p, 6, u->output_sha);
	db_bind_int64(p, 7, u->records_in);
	db_bind_int64(p, 8, u->records_out);
	db_bind_int64(p, 9, u->rejects);
	db_bind_int64(p, 10, u->dupes);
	db_bind_int64(p, 11, u->stale);
	db_bind_int64(p, 12, u->started_ms);
	db_bind_int64(p, 13, u->finished_ms);
	db_bind_text(p, 14, u->error[0] ? u->error : NULL);
	db_bind_text(p, 15, u->detail[0] ? u->detail : NULL);
	db_bind_int64(p, 16, u->parent);
	db_bind_int64(p, 17, u->id);
	db_bind_text(p, 18, s->worker);
	db_bind_int64(p, 19, u->state == US_FAILED ? u->err_class : 0);
	db_bind_int64(p, 20, u->retried_in);
	db_bind_int64(p, 21, u->retry_requested);
	db_bind_int64(p, 22, u->held);
	db_bind_int64(p, 23, u->converted);
	db_bind_int64(p, 24, u->listed);
	db_bind_int64(p, 25, (int64_t)u->file_size);
	db_bind_int64(p, 26, u->file_mtime);
	db_bind_int64(p, 27, u->posted);
	db_bind_int64(p, 28, u->list_standin);
	db_bind_int64(p, 29, u->accept_rejects);
	db_bind_text(p, 30, u->released_by[0] ? u->released_by : NULL);
	db_bind_text(p, 31, u->release_note[0] ? u->release_note : NULL);
	db_bind_int64(p, 32, u->ic_conflicts);
	db_bind_text(p, 33, u->rejects_path[0] ? u->rejects_path : NULL);
	db_bind_int64(p, 34, u->control_no);
	db_bind_int64(p, 35, u->outcome);
	if (state_step_done(p, err) < 0)
		return -1;
	if (s->worker && db_changes(s->db) == 0)
		/* Our lease ran out and another worker took the unit over:
		 * its outcome is theirs to record (work.h). */
		return err_set(err, E_BUSY,
			       "unit %lld was taken over by another worker "
			       "(this worker's lease ran out)",
			       (long long)u->id);
	return 0;
}

void state_set_worker(struct state *s, const char *worker)
{
	s->worker = worker;
}

int state_unit_get(struct state *s, int64_t id, struct state_unit *u,
		   struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_UNIT_GET, err);
	int rc;

	if (!p)
		return -1;
	db_bind_int64(p, 1, id);
	rc = db_step(p, err);
	if (rc != 1) {
		db_reset(p);
		if (rc == 0)
			return err_set(err, E_NOTFOUND, "no unit %lld",
				       (long long)id);
		return -1;
	}
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
	db_reset(p);
	return 0;
}

/* Runs p (prepared and bound, selecting unit ids), then calls cb with
 * each unit in order. Ids are collected first: the callback may write units
 * (and reuse the prepared statements) while we iterate. */
static int units_from_stmt(struct state *s, struct db_stmt *p,
			   int (*cb)(void *ud, struct state_unit *u),
			   void *ud, struct err *err)
{
	int64_t *ids = NULL;
	size_t n = 0, cap = 0, i;
	int rc, ret = 0;
	struct state_unit *u;

	while ((rc = db_step(p, err)) == 1) {
		if (n == cap) {
			int64_t *nids;

			cap = cap ? cap * 2 : 64;
			if (!(nids = realloc(ids, cap * sizeof(*ids)))) {
				free(ids);
				db_reset(p);
				return err_set(err, E_NOMEM, "out of memory");
			}
			ids = nids;
		}
		ids[n++] = db_col_int64(p, 0);
	}
	db_reset(p);
	if (rc != 0) {
		free(ids);
		return -1;
	}
	if (!(u = malloc(sizeof(*u)))) {
		free(ids);
		return err_set(err, E_NOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		if (state_unit_get(s, ids[i], u, err) < 0) {
			ret = -1;
			break;
		}
		if ((rc = cb(ud, u)) != 0) {
			ret = rc < 0 ? -1 : 0;
			break;
		}
	}
	free(u);
	free(ids);
	return ret;
}

int state_units_each(struct state *s, int64_t run_id, const char *stage,
		     const char *scope,
		     int (*cb)(void *ud, struct state_unit *u), void *ud,
		     struct err *err)
{
	struct db_stmt *p;

	if (!(p = state_stmt(s, scope ? S_UNITS : S_UNITS_ALL, err)))
		return -1;
	db_bind_int64(p, 1, run_id);
	db_bind_text(p, 2, stage);
	if (scope)
		db_bind_text(p, 3, scope);
	return units_from_stmt(s, p, cb, ud, err);
}

static int units_op(struct state *s, enum stmt_id one, enum stmt_id all,
		    int64_t run_id, const char *stage, const char *scope,
		    struct err *err)
{
	struct db_stmt *p = state_stmt(s, scope ? one : all, err);

	if (!p)
		return -1;
	db_bind_int64(p, 1, run_id);
	db_bind_text(p, 2, stage);
	if (scope)
		db_bind_text(p, 3, scope);
	return state_step_done(p, err);
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
	struct db_stmt *p;

	if (!(p = state_stmt(s, S_UNITS_IN_STATE, err)))
		return -1;
	db_bind_int64(p, 1, unit_state);
	db_bind_text(p, 2, stage);
	return units_from_stmt(s, p, cb, ud, err);
}

int state_run_last_done(struct state *s, int64_t *at, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_RUN_LAST_DONE, err);
	const char *iso;
	int rc;

	*at = 0;
	if (!p)
		return -1;
	rc = db_step(p, err);
	if (rc == 1 && (iso = db_col_text(p, 0)) &&
	    dt_parse_iso(iso, strlen(iso), at) < 0)
		*at = 0;
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}
