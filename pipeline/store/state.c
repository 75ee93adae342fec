/* state.c - the state store; see state.h.
 *
 * The core of the store: open/close, the statement cache, the binder
 * (state_exec, state_rows: a statement id and typed arguments, stepped,
 * errors mapped once), transactions, the counters table and the
 * integrity check. SQL is written once in the common dialect of db.h and
 * runs on SQLite or PostgreSQL; each table family's file holds its own
 * statements (state_int.h): state_runs.c (runs, run_deps, plans, units),
 * state_ledger.c (files, source_fetches, deliveries, target_checks),
 * state_positions.c (read-outs of positions, items, stock_events),
 * state_load.c (loading them), state_edi.c, state_ic.c (EDI ledgers),
 * state_park.c, state_work.c, state_arrival.c (their views of units)
 * and state_uom.c. Statements are prepared once per process and reused
 * (the load stage runs several per record). Every write happens inside
 * a transaction the stage engine opened with state_begin(), which holds
 * the store's single writer lock (db_begin), so writers are serialized
 * and never deadlock on upgrade; claims and heartbeats of workers use
 * light transactions (state_light_begin), and on PostgreSQL loads and
 * unit starts run without the writer lock (state_begin_rows: db.h's
 * contract says which transaction takes what). The tables and their versions
 * live in schema.c.
 */
#include "state.h"
#include "state_int.h"
#include "state_lineage.h"
#include "state_txn.h"
#include "lib/io.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* This file's statements (state_int.h): the counters table. */
const struct state_sql state_core_sql[S_NSTMTS] = {
	[S_COUNTER_BUMP] = {"INSERT INTO counters VALUES(?, 1)"
			   " ON CONFLICT(name) DO UPDATE SET"
			   " value = counters.value + 1", 0},
	[S_COUNTER_GET] = {"SELECT value FROM counters WHERE name = ?", 0},
};

/* The family tables; each statement id is defined in exactly one
 * (sql_check). */
static const struct state_sql *const families[] = {
	state_core_sql,	   state_runs_sql, state_ledger_sql,
	state_load_sql,	   state_positions_sql, state_edi_sql,
	state_park_sql,	   state_work_sql, state_ic_sql,
	state_arrival_sql, state_uom_sql,
	state_acks_sql,
	state_report_sql,
	state_warn_sql,
	state_txn_sql,
	state_lineage_sql,
};
#define NFAMILIES (sizeof(families) / sizeof(families[0]))

/* The definition of id; NULL when no family has it. */
static const struct state_sql *sql_of(enum stmt_id id)
{
	size_t i;

	for (i = 0; i < NFAMILIES; i++)
		if (families[i][id].sql)
			return &families[i][id];
	return NULL;
}

/* A statement id no family defines, or two define, is a slip when
 * adding one: refused when the store is opened, not on first use. */
static int sql_check(struct err *err)
{
	size_t i, n;
	int id;

	for (id = 0; id < S_NSTMTS; id++) {
		for (i = n = 0; i < NFAMILIES; i++)
			n += families[i][id].sql != NULL;
		if (n != 1)
			return err_set(err, E_INTERNAL,
				       "state store: statement %d defined %zu "
				       "times",
				       id, n);
	}
	return 0;
}

/* The load's statements run once or more per stock record; their text
 * and blob values (the batch's strings, a record's ledger key, a local
 * buffer) live until the step is done and the statement reset, which
 * every use of them does (state_step_done, or a reset after reading the
 * row): bound by reference, not copied (DB_BIND_REF). */
static unsigned bind_flags(enum stmt_id id)
{
	switch (id) {
	case S_EV_INS:
	case S_EV_INS_KEPT:
	case S_POS_GET:
	case S_POS_PUT:
	case S_POS_SNAP:
	case S_DELTA_SUM:
	case SX_ADD:
		return DB_BIND_REF;
	default:
		return 0;
	}
}

/* Returns the prepared, reset statement id (prepared on first use,
 * from its family's table). */
struct db_stmt *state_stmt(struct state *s, enum stmt_id id,
			   struct err *err)
{
	struct db_stmt *p = s->st[id];
	const struct state_sql *q;

	if (!p) {
		q = sql_of(id);
		if (!(p = db_prepare(s->db, q->sql, q->flags | bind_flags(id),
				     err)))
			return NULL;
		s->st[id] = p;
	} else {
		db_reset(p);
	}
	return p;
}

static void bind_args(struct db_stmt *p, const struct state_arg *a,
		      size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		switch (a[i].t) {
		case SA_INT:
			db_bind_int64(p, (int)i + 1, a[i].i);
			break;
		case SA_TEXT:
			db_bind_text(p, (int)i + 1, a[i].s);
			break;
		case SA_BLOB:
			db_bind_blob(p, (int)i + 1, a[i].p, a[i].n);
			break;
		}
}

struct db_stmt *state_bind(struct state *s, enum stmt_id id,
			   const struct state_arg *a, size_t n,
			   struct err *err)
{
	struct db_stmt *p = state_stmt(s, id, err);

	if (p)
		bind_args(p, a, n);
	return p;
}

int state_exec(struct state *s, enum stmt_id id, const struct state_arg *a,
	       size_t n, struct err *err)
{
	struct db_stmt *p = state_bind(s, id, a, n, err);

	return p ? state_step_done(p, err) : -1;
}

int state_rows(struct state *s, enum stmt_id id, const struct state_arg *a,
	       size_t n, state_row_fn *row, void *ud, struct err *err)
{
	struct db_stmt *p = state_bind(s, id, a, n, err);
	int rc, r = 0;

	if (!p)
		return -1;
	while ((rc = db_step(p, err)) == 1)
		if (row && (r = row(ud, p)) != 0)
			break;
	db_reset(p);
	return rc < 0 || r < 0 ? -1 : 0;
}

int state_row_int(void *ud, struct db_stmt *p)
{
	if (!db_col_null(p, 0))
		*(int64_t *)ud = db_col_int64(p, 0);
	return 1;
}

int state_row_found(void *ud, struct db_stmt *p)
{
	(void)p;
	*(int *)ud = 1;
	return 1;
}

int state_row_text(void *ud, struct db_stmt *p)
{
	struct state_text *t = ud;

	if (t->buf && t->n)
		state_col_copy(p, 0, t->buf, t->n);
	t->found = 1;
	return 1;
}

int state_row_id(void *ud, struct db_stmt *p)
{
	struct state_ids *x = ud;

	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		int64_t *g = realloc(x->v, cap * sizeof(*g));

		if (!g)
			return err_set(x->err, E_NOMEM, "out of memory");
		x->v = g;
		x->cap = cap;
	}
	x->v[x->n++] = db_col_int64(p, 0);
	return 0;
}

int state_units_of(struct state *s, const struct state_ids *ids,
		   int (*cb)(void *ud, struct state_unit *u), void *ud,
		   int *cbrc, struct err *err)
{
	struct state_unit *u;
	size_t i;
	int rc = 0;

	*cbrc = 0;
	if (!ids->n)
		return 0;
	if (!(u = malloc(sizeof(*u))))
		return err_set(err, E_NOMEM, "out of memory");
	for (i = 0; i < ids->n; i++) {
		if (state_unit_get(s, ids->v[i], u, err) < 0) {
			rc = -1;
			break;
		}
		if ((*cbrc = cb(ud, u)) != 0)
			break;
	}
	free(u);
	return rc;
}

int64_t state_changes(struct state *s)
{
	return db_changes(s->db);
}

int state_sql_rows(struct state *s, const char *sql,
		   const struct state_arg *a, size_t n, state_row_fn *row,
		   void *ud, struct err *err)
{
	struct db_stmt *p = db_prepare(s->db, sql, 0, err);
	int rc, r = 0;

	if (!p)
		return -1;
	bind_args(p, a, n);
	while ((rc = db_step(p, err)) == 1)
		if (row && (r = row(ud, p)) != 0)
			break;
	db_finalize(p);
	return rc < 0 || r < 0 ? -1 : 0;
}

const char *state_now_ms_sql(struct state *s)
{
	return state_is_pg(s)
		       ? "CAST(floor(extract(epoch FROM clock_timestamp()) "
			 "* 1000) AS BIGINT)"
		       : "CAST((julianday('now') - 2440587.5) * 86400000.0 "
			 "AS INTEGER)";
}

int state_is_pg(struct state *s)
{
	return db_kind_of(s->db) == DB_POSTGRES;
}

int state_light_begin(struct state *s, int *own, struct err *err)
{
	if (own && !(*own = !db_in_tx(s->db)))
		return 0;
	return db_begin_light(s->db, err);
}

int state_light_end(struct state *s, int own, int rc, struct err *err)
{
	if (!own)
		return rc < 0 ? -1 : 0;
	if (rc < 0) {
		db_rollback(s->db);
		return -1;
	}
	return db_commit(s->db, err);
}

/* Runs a statement that returns no rows. */
int state_step_done(struct db_stmt *p, struct err *err)
{
	if (db_step(p, err) < 0)
		return -1;
	db_reset(p);
	return 0;
}

/* For a query that always returns one row (an aggregate): rc from
 * db_step, 1 expected. */
int state_one_row(int rc, struct db_stmt *p, struct err *err)
{
	if (rc == 1)
		return 0;
	db_reset(p);
	if (rc < 0)
		return -1;
	return err_set(err, E_INTERNAL,
		       "state store: no row from an aggregate");
}

int state_open_db(const char *state_dir, const char *db_url,
		  const char *password_env, struct state **out,
		  struct err *err)
{
	struct state *s;

	*out = NULL;
	if (sql_check(err) < 0)
		return -1;
	if (!(s = calloc(1, sizeof(*s))) ||
	    (state_dir && !(s->dir = strdup(state_dir)))) {
		free(s);
		return err_set(err, E_NOMEM, "out of memory");
	}
	if (schema_open(state_dir, db_url, password_env, &s->db, err) < 0 ||
	    schema_check(s->db, err) < 0) {
		state_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

int state_open(const char *state_dir, struct state **out, struct err *err)
{
	return state_open_db(state_dir, NULL, NULL, out, err);
}

void state_close(struct state *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < S_NSTMTS; i++)
		db_finalize(s->st[i]);
	db_close(s->db);
	state_lb_free(s);
	state_lineage_free(s);
	free(s->dir);
	free(s);
}

int state_begin(struct state *s, struct err *err)
{
	if (db_begin(s->db, err) < 0)
		return -1;
	s->in_tx = 1;
	s->tx_held = 0;
	s->lb.pos_held = 0;
	state_lineage_forget(s);
	state_txn_docs_reset(s);
	return 0;
}

int state_begin_rows(struct state *s, struct err *err)
{
	if (db_begin_light(s->db, err) < 0)
		return -1;
	s->in_tx = 1;
	s->tx_held = 0;
	s->lb.pos_held = 0;
	state_lineage_forget(s);
	state_txn_docs_reset(s);
	s->rows_tx = 1;
	return 0;
}

void state_settle(struct state *s)
{
	db_settle(s->db);
}

int state_is_postgres(struct state *s)
{
	return state_is_pg(s);
}

int state_lock_store(struct state *s, struct err *err)
{
	if (!s->rows_tx)
		return 0;
	if (db_lock_store(s->db, err) < 0)
		return -1;
	s->rows_tx = 0;
	return 0;
}

void state_set_commit_check(struct state *s, state_commit_check_fn *fn,
			    void *ud)
{
	s->commit_check = fn;
	s->commit_check_ud = ud;
}

int state_commit(struct state *s, struct err *err)
{
	if (state_lb_apply(s, err) < 0 ||
	    (s->commit_check &&
	     s->commit_check(s->commit_check_ud, s, err) < 0)) {
		state_rollback(s);
		return -1;
	}
	io_crash_point("state-commit");
	if (db_commit(s->db, err) < 0) { /* rolled back */
		state_lb_discard(s);
		s->in_tx = s->lb_on = s->rows_tx = 0;
		s->tx_held = 0;
		return -1;
	}
	s->in_tx = s->lb_on = s->rows_tx = 0;
	s->tx_held = 0;
	return 0;
}

void state_rollback(struct state *s)
{
	state_lb_discard(s);
	state_lineage_forget(s);
	state_txn_docs_reset(s);
	s->in_tx = s->lb_on = s->rows_tx = 0;
	s->tx_held = 0;
	db_rollback(s->db);
}

const char *unit_state_name(int st)
{
	static const char *names[] = {"pending", "running", "done",
				      "failed", "skipped", "quarantined"};

	return st >= 0 && st <= US_QUARANTINED ? names[st] : "?";
}

void state_col_copy(struct db_stmt *p, int i, char *out, size_t n)
{
	const char *v = db_col_text(p, i);

	snprintf(out, n, "%s", v ? v : "");
}

int state_counter_get(struct state *s, const char *name, int64_t *value,
		      struct err *err)
{
	*value = 0;
	return state_rows(s, S_COUNTER_GET, SA(SA_T(name)), state_row_int,
			  value, err);
}

int state_counter_next(struct state *s, const char *name, int64_t *value,
		       struct err *err)
{
	if (state_exec(s, S_COUNTER_BUMP, SA(SA_T(name)), err) < 0)
		return -1;
	return state_counter_get(s, name, value, err);
}

/* PostgreSQL checks its pages itself (and has no integrity_check); a
 * store that answers a query is reported ok there. A failing check is
 * *ok = 0, not an error. */
int state_integrity(struct state *s, int *ok, struct err *err)
{
	struct db_stmt *p;
	struct err e = ERR_INIT;
	const char *v;
	int pg = db_kind_of(s->db) == DB_POSTGRES;

	if (state_lb_apply(s, err) < 0)
		return -1;
	(void)err;
	*ok = 0;
	if (!(p = db_prepare(s->db,
			     pg ? "SELECT 'ok'" : "PRAGMA integrity_check", 0,
			     &e)))
		return 0;
	*ok = db_step(p, &e) == 1 && (v = db_col_text(p, 0)) &&
	      !strcmp(v, "ok");
	db_finalize(p);
	return 0;
}
