/* state.c - the state store; see state.h.
 *
 * All SQL of the stage engine, written once in the common dialect of
 * db.h and run on SQLite or PostgreSQL. Statements are prepared once per
 * process and reused (the load stage runs several per record). Every
 * write happens inside a transaction the stage engine opened with
 * state_begin(), which holds the store's single writer lock (db_begin), so
 * writers are serialized and never deadlock on upgrade. The tables and
 * their versions live in schema.c.
 *
 * This file holds the statement table and cache, open/close,
 * transactions, the counters table and the integrity check; the queries
 * are in files by table family: state_runs.c (runs, run_deps, plans,
 * units), state_ledger.c (files, source_fetches, deliveries,
 * target_checks), state_positions.c (read-outs of positions, items,
 * stock_events), state_load.c (loading them).
 */
#include "state.h"
#include "state_int.h"
#include "state_uom.h"
#include "lib/io.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Master data: the greater (as_of, arrival) wins, a row without as_of
 * below every dated one; a stale update is simply not applied. The same
 * record loaded again (a rerun) has the same key and replaces its row. */
#define ARR_SET                                                          \
	" arr_file=excluded.arr_file, arr_member=excluded.arr_member,"   \
	" arr_line=excluded.arr_line"
#define ARR_GE(T)                                                        \
	"(coalesce(excluded.as_of, ''), excluded.arr_file,"              \
	" excluded.arr_member, excluded.arr_line) >= (coalesce(" T       \
	".as_of, ''), " T ".arr_file, " T ".arr_member, " T ".arr_line)"
#define POS_COLS                                                         \
	"sku, location, state, qty, snap_as_of, snap_txn, last_as_of,"   \
	" delta_as_of, snap_arr_file, snap_arr_member, snap_arr_line"

static const char *const sql[S_NSTMTS] = {
	/* max + 1, as SQLite numbers rowids: PostgreSQL's identity would
	 * skip the number of a run whose creation was rolled back (a crash),
	 * and run ids are in delivered file names. Runs are created under
	 * the writer lock, so no two take the same number. */
	[S_RUN_CREATE] = "INSERT INTO runs(run_id, started_at, status,"
			 " config_sha) VALUES((SELECT coalesce(max(run_id), 0)"
			 " + 1 FROM runs), ?, 'running', ?) RETURNING run_id",
	/* Concluded runs ('done', 'failed') are never resumed by a new
	 * run: their failed units are parked (state_park.h). */
	[S_RUN_UNFINISHED] = "SELECT run_id FROM runs WHERE status IN"
			     " ('running', 'interrupted', 'partial')"
			     " ORDER BY run_id DESC LIMIT 1",
	[S_RUN_GET] = "SELECT run_id, started_at, finished_at, status,"
		      " exit_code, config_sha FROM runs WHERE run_id = ?",
	[S_RUN_FINISH] = "UPDATE runs SET status = ?, exit_code = ?,"
			 " finished_at = ? WHERE run_id = ?",
	[S_RUN_REOPEN] = "UPDATE runs SET status = 'running',"
			 " finished_at = NULL WHERE run_id = ?",
	[S_RUNS] = "SELECT run_id, started_at, finished_at, status, exit_code,"
		   " config_sha FROM runs ORDER BY run_id DESC LIMIT ?",
	[S_DEP_ADD] = "INSERT INTO run_deps VALUES(?, ?, ?)"
		      " ON CONFLICT(run_id, path) DO UPDATE SET"
		      " sha256 = excluded.sha256",
	[S_DEPS] = "SELECT path, sha256 FROM run_deps WHERE run_id = ?"
		   " ORDER BY path",
	[S_PLAN_GET] = "SELECT 1 FROM plans WHERE run_id = ? AND stage = ?"
		       " AND scope = ?",
	[S_PLAN_SET] = "INSERT INTO plans VALUES(?, ?, ?)"
		       " ON CONFLICT DO NOTHING",
	[S_PLAN_DEL] = "DELETE FROM plans WHERE run_id = ? AND stage = ?"
		       " AND scope = ?",
	[S_UNIT_INS] = "INSERT INTO units(run_id, stage, scope, ukey,"
		       " parent, state, input_path, input_sha)"
		       " VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
	[S_UNIT_FIND] = "SELECT id FROM units WHERE run_id = ? AND stage = ?"
			" AND scope = ? AND ukey = ?",
	[S_UNIT_SAVE] = "UPDATE units SET state = ?, attempts = ?,"
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
			" OR state <> 1 OR worker IS NULL OR worker = ?18)",
	[S_UNIT_GET] = "SELECT id, run_id, parent, stage, scope, ukey, state,"
		       " attempts, input_path, input_sha, output_path,"
		       " output_sha, records_in, records_out, rejects, dupes,"
		       " stale, started_ms, finished_ms, error, detail,"
		       " err_class, retried_in, retry_requested, held,"
		       " converted, listed, file_size, file_mtime, posted,"
		       " list_standin, accept_rejects, released_by,"
		       " release_note, ic_conflicts, rejects_path, control_no,"
		       " outcome FROM units WHERE id = ?",
	[S_UNITS] = "SELECT id FROM units WHERE run_id = ? AND stage = ?"
		    " AND scope = ? ORDER BY id",
	[S_UNITS_ALL] = "SELECT id FROM units WHERE run_id = ? AND stage = ?"
			" ORDER BY id",
	[S_UNITS_RESET] = "UPDATE units SET state = 0, error = NULL"
			  " WHERE run_id = ? AND stage = ? AND scope = ?",
	[S_UNITS_RESET_ALL] = "UPDATE units SET state = 0, error = NULL"
			      " WHERE run_id = ? AND stage = ?",
	[S_UNITS_DEL] = "DELETE FROM units WHERE run_id = ? AND stage = ?"
			" AND scope = ?",
	[S_UNITS_DEL_ALL] = "DELETE FROM units WHERE run_id = ? AND stage = ?",
	[S_FILE_KNOWN] = "SELECT 1 FROM files WHERE source = ? AND name = ?"
			 " AND size = ? AND mtime = ?",
	[S_FILE_SAME] = "SELECT name FROM files WHERE source = ? AND sha256 = ?"
			" LIMIT 1",
	[S_FILE_ADD] = "INSERT INTO files VALUES(?, ?, ?, ?, ?, ?, ?)"
		       " ON CONFLICT DO NOTHING",
	[S_FILE_POST] = "UPDATE files SET post_state = ? WHERE source = ?"
			" AND name = ? AND size = ? AND mtime = ?",
	[S_ITEM_UPSERT] =
		"INSERT INTO items(sku, gtin, description, brand, category,"
		" base_uom, pack_size, status, supplier_id, supplier_sku, as_of,"
		" txn_id, doc, arr_file, arr_member, arr_line)"
		" VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
		" ON CONFLICT(sku) DO UPDATE SET gtin=excluded.gtin,"
		" description=excluded.description, brand=excluded.brand,"
		" category=excluded.category, base_uom=excluded.base_uom,"
		" pack_size=excluded.pack_size, status=excluded.status,"
		" supplier_id=excluded.supplier_id,"
		" supplier_sku=excluded.supplier_sku, as_of=excluded.as_of,"
		" txn_id=excluded.txn_id, doc=excluded.doc," ARR_SET
		" WHERE " ARR_GE("items"),
	[S_LOC_UPSERT] =
		"INSERT INTO locations(location_id, type, name, region,"
		" timezone, as_of, txn_id, doc, arr_file, arr_member, arr_line)"
		" VALUES(?,?,?,?,?,?,?,?,?,?,?)"
		" ON CONFLICT(location_id) DO UPDATE SET type=excluded.type,"
		" name=excluded.name, region=excluded.region,"
		" timezone=excluded.timezone, as_of=excluded.as_of,"
		" txn_id=excluded.txn_id, doc=excluded.doc," ARR_SET
		" WHERE " ARR_GE("locations"),
	[S_PRICE_UPSERT] =
		"INSERT INTO prices(sku, price_list, currency, amount,"
		" valid_from, valid_to, kind, as_of, txn_id, doc, arr_file,"
		" arr_member, arr_line) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)"
		" ON CONFLICT(sku, price_list, currency, valid_from, kind)"
		" DO UPDATE SET amount=excluded.amount,"
		" valid_to=excluded.valid_to, as_of=excluded.as_of,"
		" txn_id=excluded.txn_id, doc=excluded.doc," ARR_SET
		" WHERE " ARR_GE("prices"),
	[S_EV_INS] = "INSERT INTO stock_events(doc, sku, location,"
		     " state, qty, delta, as_of, txn_id, source, file, line,"
		     " arr_file, arr_member, arr_line)"
		     " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
	[S_POS_GET] = "SELECT qty, snap_as_of, snap_txn, last_as_of, delta_as_of,"
		      " snap_arr_file, snap_arr_member, snap_arr_line FROM positions WHERE sku = ? AND location = ?"
		      " AND state = ?",
	[S_POS_PUT] = "INSERT INTO positions(" POS_COLS ")"
		      " VALUES(?,?,?,?,?,?,?,?,?,?,?)"
		      " ON CONFLICT(sku, location, state) DO UPDATE SET"
		      " snap_arr_file = excluded.snap_arr_file,"
		      " snap_arr_member = excluded.snap_arr_member,"
		      " snap_arr_line = excluded.snap_arr_line,"
		      " qty = excluded.qty, snap_as_of = excluded.snap_as_of,"
		      " snap_txn = excluded.snap_txn,"
		      " last_as_of = excluded.last_as_of,"
		      " delta_as_of = excluded.delta_as_of",
	/* A snapshot applied without reading the position first: inserted,
	 * or written over the position unless that holds a newer snapshot
	 * (as_of, then arrival, then txn_id: the full txn_id, last bound,
	 * against the stored one) or a delta as new or newer (then the deltas
	 * must be summed: no change, and the caller takes the long way). */
	[S_POS_SNAP] =
		"INSERT INTO positions(" POS_COLS ")"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?9, ?10, ?11)"
		" ON CONFLICT(sku, location, state) DO UPDATE SET"
		" snap_arr_file = excluded.snap_arr_file,"
		" snap_arr_member = excluded.snap_arr_member,"
		" snap_arr_line = excluded.snap_arr_line,"
		" qty = excluded.qty, snap_as_of = excluded.snap_as_of,"
		" snap_txn = excluded.snap_txn,"
		" last_as_of = CASE WHEN excluded.last_as_of >"
		" positions.last_as_of THEN excluded.last_as_of"
		" ELSE positions.last_as_of END"
		" WHERE (positions.snap_as_of IS NULL"
		" OR (excluded.snap_as_of, excluded.snap_arr_file,"
		" excluded.snap_arr_member, excluded.snap_arr_line, ?8) >="
		" (positions.snap_as_of, positions.snap_arr_file,"
		" positions.snap_arr_member, positions.snap_arr_line,"
		" positions.snap_txn))"
		" AND (positions.delta_as_of IS NULL"
		" OR positions.delta_as_of < excluded.snap_as_of)",
	[S_EV_INS_KEPT] = "INSERT INTO stock_events(doc, sku,"
			  " location, state, qty, delta, as_of, txn_id, source,"
			  " file, line, applied, arr_file, arr_member, arr_line)"
			  " VALUES(?,?,?,?,?,?,?,?,?,?,?,0,?,?,?)"
			  " ON CONFLICT DO NOTHING",
	[S_DELTA_SUM] = "SELECT coalesce(sum(qty), 0) FROM stock_events"
			" WHERE sku = ? AND location = ? AND state = ?"
			" AND delta = 1 AND applied = 1 AND (as_of, arr_file,"
			" arr_member, arr_line) > (?4, ?5, ?6, ?7)",
	[S_SNAP_LATEST] = "SELECT qty, as_of, txn_id, arr_file, arr_member,"
			  " arr_line FROM stock_events"
			  " WHERE sku = ? AND location = ? AND state = ?"
			  " AND delta = 0 AND applied = 1 ORDER BY as_of DESC,"
			  " arr_file DESC, arr_member DESC, arr_line DESC,"
			  " txn_id DESC"
			  " LIMIT 1",
	[S_EV_DOC_KEYS] = "SELECT DISTINCT sku, location, state"
			  " FROM stock_events WHERE doc = ?",
	[S_EV_DOC_DEL] = "DELETE FROM stock_events WHERE doc = ?",
	[S_POS_DEL] = "DELETE FROM positions WHERE sku = ? AND location = ?"
		      " AND state = ?",
	[S_LAST_AS_OF] = "SELECT max(as_of), count(*),"
			 " max(CASE WHEN delta = 1 THEN as_of END)"
			 " FROM stock_events"
			 " WHERE sku = ? AND location = ? AND state = ?"
			 " AND applied = 1",
	[S_POSITIONS] = "SELECT p.sku, p.location, coalesce(l.type, ''),"
			" p.state, p.qty, p.last_as_of FROM positions p"
			" LEFT JOIN locations l ON l.location_id = p.location"
			" ORDER BY p.sku, p.location, p.state",
	/* The same rows with the sku's item fields (NULLs when it has no
	 * item row): one streaming query instead of a lookup per row. */
	[S_POSITIONS_ITEMS] =
		"SELECT p.sku, p.location, coalesce(l.type, ''), p.state,"
		" p.qty, p.last_as_of, i.sku, i.gtin, i.description, i.brand,"
		" i.category, i.base_uom, i.pack_size, i.status, i.supplier_id,"
		" i.supplier_sku, i.as_of, i.txn_id FROM positions p"
		" LEFT JOIN locations l ON l.location_id = p.location"
		" LEFT JOIN items i ON i.sku = p.sku"
		" ORDER BY p.sku, p.location, p.state",
	[S_POSITIONS_ITEMS_NOTYPE] =
		"SELECT p.sku, p.location, '', p.state,"
		" p.qty, p.last_as_of, i.sku, i.gtin, i.description, i.brand,"
		" i.category, i.base_uom, i.pack_size, i.status, i.supplier_id,"
		" i.supplier_sku, i.as_of, i.txn_id FROM positions p"
		" LEFT JOIN items i ON i.sku = p.sku"
		" ORDER BY p.sku, p.location, p.state",
	[S_ITEMS] = "SELECT i.sku, i.gtin, i.description, i.brand,"
		    " i.category, i.base_uom, i.pack_size, i.status,"
		    " i.supplier_id, i.supplier_sku, i.as_of, i.txn_id,"
		    " (SELECT amount FROM prices p WHERE p.sku = i.sku"
		    "  AND p.price_list = 'default' AND p.kind = 'regular'"
		    "  ORDER BY p.valid_from DESC LIMIT 1),"
		    " (SELECT currency FROM prices p WHERE p.sku = i.sku"
		    "  AND p.price_list = 'default' AND p.kind = 'regular'"
		    "  ORDER BY p.valid_from DESC LIMIT 1)"
		    " FROM items i ORDER BY i.sku",
	[S_ITEM_GET] = "SELECT sku, gtin, description, brand, category,"
		       " base_uom, pack_size, status, supplier_id,"
		       " supplier_sku, as_of, txn_id FROM items WHERE sku = ?",
	/* Only the newest delivery counts: stock that goes A -> B -> A must
	 * reach the target as A again, though A was delivered once before. */
	[S_DELIV_FIND] = "SELECT file_name FROM deliveries WHERE target = ?"
			 " AND sha256 = ? AND seq = (SELECT max(seq)"
			 " FROM deliveries WHERE target = ?)",
	/* seq orders the deliveries (rowid did before schema 2); writers
	 * hold the writer lock, so max + 1 is never taken twice. */
	[S_DELIV_ADD] = "INSERT INTO deliveries(target, sha256, run_id,"
			" file_name, delivered_at, seq) VALUES(?, ?, ?, ?, ?,"
			" (SELECT coalesce(max(seq), 0) + 1 FROM deliveries))"
			" ON CONFLICT DO NOTHING",
	[S_DELIV_LATEST] = "SELECT file_name FROM deliveries WHERE target = ?"
			   " ORDER BY seq DESC LIMIT 1",
	[S_SRC_FETCHED] = "INSERT INTO source_fetches VALUES(?, ?)"
			  " ON CONFLICT(source) DO UPDATE SET"
			  " last_at = CASE WHEN excluded.last_at >"
			  " source_fetches.last_at THEN excluded.last_at"
			  " ELSE source_fetches.last_at END",
	[S_SRC_LAST] = "SELECT last_at FROM source_fetches WHERE source = ?",
	[S_COUNTER_BUMP] = "INSERT INTO counters VALUES(?, 1)"
			   " ON CONFLICT(name) DO UPDATE SET"
			   " value = counters.value + 1",
	[S_COUNTER_GET] = "SELECT value FROM counters WHERE name = ?",
	[S_DELIV_NAME] = "SELECT 1 FROM deliveries WHERE target = ?"
			 " AND file_name = ?",
	[S_DELIV_LAST] = "SELECT coalesce(max(delivered_at), 0)"
			 " FROM deliveries WHERE target = ?",
	[S_UNITS_IN_STATE] = "SELECT id FROM units WHERE state = ?"
			     " AND stage = ? ORDER BY id",
	[S_RUN_LAST_DONE] = "SELECT max(finished_at) FROM runs"
			    " WHERE status = 'done'",
	[S_POS_NEGATIVE] = "SELECT count(*) FROM positions WHERE qty < 0",
	[S_RUN_OLDEST_EV] = "SELECT min(as_of) FROM stock_events WHERE"
			    " applied = 1 AND doc IN"
			    " (SELECT id FROM units WHERE run_id = ?"
			    " AND stage = 'map')",
	[S_RUN_DELIVS] = "SELECT target, file_name, delivered_at"
			 " FROM deliveries WHERE run_id = ?"
			 " ORDER BY target, delivered_at, file_name",
	[S_CHECK_SET] = "INSERT INTO target_checks VALUES(?, ?)"
			" ON CONFLICT(target) DO UPDATE SET"
			" last_due_at = excluded.last_due_at",
	[S_CHECK_GET] = "SELECT last_due_at FROM target_checks"
			" WHERE target = ?",
	[S_DELIV_INFO] = "SELECT delivered_at, file_name, sha256, run_id"
			 " FROM deliveries WHERE target = ?"
			 " ORDER BY seq DESC LIMIT 1",
	/* The latest snapshot (not delta) each of two sources reported per
	 * (sku, location) for one state, side by side; keys either lacks
	 * come with NULLs. */
	[S_RECONCILE] =
		"WITH s AS (SELECT source, sku, location, qty, as_of,"
		" row_number() OVER (PARTITION BY source, sku, location"
		"  ORDER BY as_of DESC, arr_file DESC, arr_member DESC,"
		"  arr_line DESC, txn_id DESC) AS rn"
		" FROM stock_events WHERE state = ?1 AND delta = 0"
		" AND source IN (?2, ?3)),"
		" a AS (SELECT sku, location, qty, as_of FROM s"
		"  WHERE rn = 1 AND source = ?2),"
		" b AS (SELECT sku, location, qty, as_of FROM s"
		"  WHERE rn = 1 AND source = ?3),"
		" k AS (SELECT sku, location FROM a UNION"
		"  SELECT sku, location FROM b)"
		" SELECT k.sku, k.location, a.qty, a.as_of, b.qty, b.as_of"
		" FROM k LEFT JOIN a ON a.sku = k.sku AND a.location = k.location"
		" LEFT JOIN b ON b.sku = k.sku AND b.location = k.location"
		" ORDER BY k.sku, k.location",
	/* The EDI ledgers (state.h). */
	[S_IC_FIND] = "SELECT sha256, source, doc, doc_sha, run_id"
		      " FROM edi_interchanges WHERE format = ?1 AND"
		      " sender = ?2 AND receiver = ?3 AND control = ?4",
	[S_IC_ADD] = "INSERT INTO edi_interchanges(format, sender, receiver,"
		     " control, sha256, source, doc, doc_sha, run_id)"
		     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
		     " ON CONFLICT(format, sender, receiver, control)"
		     " DO UPDATE SET sha256 = excluded.sha256,"
		     " source = excluded.source, doc = excluded.doc,"
		     " doc_sha = excluded.doc_sha, run_id = excluded.run_id",
	[S_ACK_FIND] = "SELECT file_name FROM edi_acks WHERE source = ?1"
		       " AND format = ?2 AND sender = ?3 AND"
		       " receiver = ?4 AND control = ?5 AND grp = ?6",
	[S_ACK_ADD] = "INSERT INTO edi_acks(source, format, sender,"
		      " receiver, control, grp, doc, run_id, ack_type,"
		      " ack_control, file_name, content, sent_at, seq)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
		      " ?11, ?12, 0,"
		      " (SELECT coalesce(max(seq), 0) + 1 FROM edi_acks))",
	[S_ACKS_UNSENT] = "SELECT format, sender, receiver, control, grp,"
			  " doc, run_id, ack_type, ack_control, file_name,"
			  " content FROM edi_acks WHERE source = ?1 AND"
			  " sent_at = 0 ORDER BY seq",
	[S_ACK_SENT] = "UPDATE edi_acks SET sent_at = ?3 WHERE"
		       " source = ?1 AND file_name = ?2",
};


/* Statements that may return a row per position or item: read in
 * bounded batches (a cursor on PostgreSQL). */
static unsigned stmt_flags(enum stmt_id id)
{
	return id == S_POSITIONS || id == S_POSITIONS_ITEMS ||
			       id == S_POSITIONS_ITEMS_NOTYPE || id == S_ITEMS ||
			       id == S_RECONCILE
		       ? DB_STREAM
		       : 0;
}

/* Returns the prepared, reset statement id. */
struct db_stmt *state_stmt(struct state *s, enum stmt_id id,
			   struct err *err)
{
	struct db_stmt *p = s->st[id];

	if (!p) {
		if (!(p = db_prepare(s->db, sql[id], stmt_flags(id), err)))
			return NULL;
		s->st[id] = p;
	} else {
		db_reset(p);
	}
	return p;
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
	if (!(s = calloc(1, sizeof(*s))))
		return err_set(err, E_NOMEM, "out of memory");
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

struct db *state_db(struct state *s)
{
	return s->db;
}

void state_close(struct state *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < S_NSTMTS; i++)
		db_finalize(s->st[i]);
	state_uom_close(s);
	db_close(s->db);
	free(s->lb.r);
	free(s->lb.order);
	free(s->lb.seen);
	arena_release(&s->lb.a);
	free(s);
}

int state_begin(struct state *s, struct err *err)
{
	if (db_begin(s->db, err) < 0)
		return -1;
	s->in_tx = 1;
	return 0;
}

int state_commit(struct state *s, struct err *err)
{
	if (state_lb_apply(s, err) < 0) {
		state_rollback(s);
		return -1;
	}
	io_crash_point("state-commit");
	if (db_commit(s->db, err) < 0) { /* rolled back */
		state_lb_discard(s);
		s->in_tx = s->lb_on = 0;
		return -1;
	}
	s->in_tx = s->lb_on = 0;
	return 0;
}

void state_rollback(struct state *s)
{
	state_lb_discard(s);
	s->in_tx = s->lb_on = 0;
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
	struct db_stmt *p = state_stmt(s, S_COUNTER_GET, err);
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, name);
	rc = db_step(p, err);
	*value = rc == 1 ? db_col_int64(p, 0) : 0;
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_counter_next(struct state *s, const char *name, int64_t *value,
		       struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_COUNTER_BUMP, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, name);
	if (state_step_done(p, err) < 0)
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

/* One integer (or NULL -> *found = 0) from a one-row statement. */
int state_one_int(struct db_stmt *p, int64_t *v, int *found,
		   struct err *err)
{
	int rc = db_step(p, err);

	*v = 0;
	if (found)
		*found = 0;
	if (rc == 1 && !db_col_null(p, 0)) {
		*v = db_col_int64(p, 0);
		if (found)
			*found = 1;
	}
	db_reset(p);
	return rc < 0 ? -1 : 0;
}
