/* state.c - the state store; see state.h.
 *
 * All SQL of the stage engine, written once in the common dialect of
 * db.h and run on SQLite or PostgreSQL. Statements are prepared once per
 * process and reused (the load stage runs several per record). Every
 * write happens inside a transaction the stage engine opened with
 * state_begin(), which holds the store's single writer lock (db_begin), so
 * writers are serialized and never deadlock on upgrade. The tables and
 * their versions live in schema.c.
 */
#include "state.h"
#include "state_int.h"
#include "state_uom.h"
#include "lib/io.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/model/dt.h"


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

int state_file_known(struct state *s, const char *source, const char *name,
		     uint64_t size, int64_t mtime, int *known,
		     struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_FILE_KNOWN, err);
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, source);
	db_bind_text(p, 2, name);
	db_bind_int64(p, 3, (int64_t)size);
	db_bind_int64(p, 4, mtime);
	rc = db_step(p, err);
	db_reset(p);
	if (rc < 0)
		return -1;
	*known = rc == 1;
	return 0;
}

int state_file_same_content(struct state *s, const char *source,
			    const char *sha, char *prev, size_t n,
			    struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_FILE_SAME, err);
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, source);
	db_bind_text(p, 2, sha);
	prev[0] = '\0';
	rc = db_step(p, err);
	if (rc == 1)
		state_col_copy(p, 0, prev, n);
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_file_add(struct state *s, const char *source, const char *name,
		   uint64_t size, int64_t mtime, const char *sha,
		   int64_t run_id, const char *post_state, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_FILE_ADD, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, source);
	db_bind_text(p, 2, name);
	db_bind_int64(p, 3, (int64_t)size);
	db_bind_int64(p, 4, mtime);
	db_bind_text(p, 5, sha);
	db_bind_int64(p, 6, run_id);
	db_bind_text(p, 7, post_state);
	return state_step_done(p, err);
}

int state_file_post_set(struct state *s, const char *source,
			const char *name, uint64_t size, int64_t mtime,
			const char *post_state, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_FILE_POST, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, post_state);
	db_bind_text(p, 2, source);
	db_bind_text(p, 3, name);
	db_bind_int64(p, 4, (int64_t)size);
	db_bind_int64(p, 5, mtime);
	return state_step_done(p, err);
}


int state_positions_each(struct state *s,
			 int (*cb)(void *ud, const struct state_position *p),
			 void *ud, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, S_POSITIONS, err);
	struct state_position pos;
	int rc, cbrc = 0;

	if (!p)
		return -1;
	while ((rc = db_step(p, err)) == 1) {
		pos.sku = db_col_text(p, 0);
		pos.location = db_col_text(p, 1);
		pos.location_type = db_col_text(p, 2);
		pos.state = (int)db_col_int64(p, 3);
		pos.qty = db_col_int64(p, 4);
		pos.as_of = db_col_int64(p, 5);
		pos.item = NULL;
		if ((cbrc = cb(ud, &pos)) != 0)
			break;
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return cbrc < 0 ? -1 : 0;
}

/* Copies v into a 512-byte item buffer, cut like state_item_get's. */
static const char *item_copy(char *buf, size_t n, const char *v)
{
	size_t k;

	if (!v)
		return NULL;
	k = strlen(v);
	if (k >= n)
		k = n - 1;
	memcpy(buf, v, k);
	buf[k] = '\0';
	return buf;
}

int state_positions_items_each(struct state *s, int with_type,
			       int (*cb)(void *ud,
					 const struct state_position *p),
			       void *ud, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, with_type ? S_POSITIONS_ITEMS
						      : S_POSITIONS_ITEMS_NOTYPE,
					 err);
	struct state_position pos;
	int rc, cbrc = 0, i, have = 0;

	if (!p)
		return -1;
	while ((rc = db_step(p, err)) == 1) {
		pos.sku = db_col_text(p, 0);
		pos.location = db_col_text(p, 1);
		pos.location_type = db_col_text(p, 2);
		pos.state = (int)db_col_int64(p, 3);
		pos.qty = db_col_int64(p, 4);
		pos.as_of = db_col_int64(p, 5);
		pos.item = NULL;
		if (!db_col_null(p, 6)) {
			/* Rows come by sku: read an item's columns once. */
			if (!have ||
			    strcmp(s->row_item_buf[ITEM_SKU], pos.sku)) {
				for (i = 0; i < ITEM_NFIELDS; i++)
					s->row_item[i] = item_copy(
						s->row_item_buf[i],
						sizeof(s->row_item_buf[i]),
						db_col_text(p, 6 + i));
				have = s->row_item[ITEM_SKU] != NULL;
			}
			pos.item = s->row_item;
		}
		if ((cbrc = cb(ud, &pos)) != 0)
			break;
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return cbrc < 0 ? -1 : 0;
}

int state_items_each(struct state *s,
		     int (*cb)(void *ud, const char *const *item,
			       const char *price, const char *currency),
		     void *ud, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_ITEMS, err);
	const char *v[ITEM_NFIELDS];
	int rc, i, cbrc = 0;

	if (!p)
		return -1;
	while ((rc = db_step(p, err)) == 1) {
		for (i = 0; i < ITEM_NFIELDS; i++)
			v[i] = db_col_text(p, i);
		if ((cbrc = cb(ud, v, db_col_text(p, ITEM_NFIELDS),
			       db_col_text(p, ITEM_NFIELDS + 1))) != 0)
			break;
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return cbrc < 0 ? -1 : 0;
}

int state_item_get(struct state *s, const char *sku, const char **fields,
		   int *found, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_ITEM_GET, err);
	int rc, i;

	if (!p)
		return -1;
	db_bind_text(p, 1, sku);
	rc = db_step(p, err);
	*found = rc == 1;
	for (i = 0; i < ITEM_NFIELDS; i++) {
		const char *v = *found ? db_col_text(p, i) : NULL;

		if (v) {
			snprintf(s->item_buf[i], sizeof(s->item_buf[i]), "%s",
				 v);
			fields[i] = s->item_buf[i];
		} else {
			fields[i] = NULL;
		}
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_delivery_find(struct state *s, const char *target, const char *sha,
			char *file_name, size_t n, int *found,
			struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DELIV_FIND, err);
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	db_bind_text(p, 2, sha);
	db_bind_text(p, 3, target);
	rc = db_step(p, err);
	*found = rc == 1;
	if (file_name && n) {
		file_name[0] = '\0';
		if (*found)
			state_col_copy(p, 0, file_name, n);
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_delivery_add(struct state *s, const char *target, const char *sha,
		       int64_t run_id, const char *file_name,
		       int64_t delivered_at, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DELIV_ADD, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	db_bind_text(p, 2, sha);
	db_bind_int64(p, 3, run_id);
	db_bind_text(p, 4, file_name);
	db_bind_int64(p, 5, delivered_at);
	return state_step_done(p, err);
}

int state_delivery_latest(struct state *s, const char *target,
			  char *file_name, size_t n, int *found,
			  struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DELIV_LATEST, err);
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	rc = db_step(p, err);
	*found = rc == 1;
	if (*found)
		state_col_copy(p, 0, file_name, n);
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_delivery_name_used(struct state *s, const char *target,
			     const char *file_name, int *used,
			     struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DELIV_NAME, err);
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	db_bind_text(p, 2, file_name);
	rc = db_step(p, err);
	*used = rc == 1;
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_delivery_last(struct state *s, const char *target, int64_t *at,
			struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DELIV_LAST, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	*at = 0;
	if (state_one_row(db_step(p, err), p, err) < 0)
		return -1;
	*at = db_col_int64(p, 0);
	db_reset(p);
	return 0;
}

int state_source_fetched(struct state *s, const char *source, int64_t at,
			 struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_SRC_FETCHED, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, source);
	db_bind_int64(p, 2, at);
	return state_step_done(p, err);
}

int state_source_last_fetch(struct state *s, const char *source,
			    int64_t *at, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_SRC_LAST, err);
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, source);
	rc = db_step(p, err);
	*at = rc == 1 ? db_col_int64(p, 0) : 0;
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
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

/* One integer (or NULL -> *found = 0) from a one-row statement. */
static int one_int(struct db_stmt *p, int64_t *v, int *found,
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

int state_positions_negative(struct state *s, int64_t *n, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, S_POS_NEGATIVE, err);

	if (!p)
		return -1;
	return one_int(p, n, NULL, err);
}

int state_run_oldest_event(struct state *s, int64_t run_id, int64_t *as_of,
			   int *found, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, S_RUN_OLDEST_EV, err);

	if (!p)
		return -1;
	db_bind_int64(p, 1, run_id);
	return one_int(p, as_of, found, err);
}

int state_run_deliveries_each(struct state *s, int64_t run_id,
			      int (*cb)(void *ud, const char *target,
					const char *file_name,
					int64_t delivered_at),
			      void *ud, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_RUN_DELIVS, err);
	int rc;

	if (!p)
		return -1;
	db_bind_int64(p, 1, run_id);
	while ((rc = db_step(p, err)) == 1) {
		const char *t = db_col_text(p, 0);
		const char *f = db_col_text(p, 1);

		if (cb(ud, t ? t : "", f ? f : "",
		       db_col_int64(p, 2)) != 0)
			break;
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_target_checked(struct state *s, const char *target, int64_t at,
			 struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_CHECK_SET, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	db_bind_int64(p, 2, at);
	return state_step_done(p, err);
}

int state_target_last_check(struct state *s, const char *target,
			    int64_t *at, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_CHECK_GET, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	return one_int(p, at, NULL, err);
}

int state_delivery_info(struct state *s, const char *target,
			struct state_delivery *out, int *found,
			struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DELIV_INFO, err);
	int rc;

	memset(out, 0, sizeof(*out));
	*found = 0;
	if (!p)
		return -1;
	db_bind_text(p, 1, target);
	rc = db_step(p, err);
	if (rc == 1) {
		*found = 1;
		out->delivered_at = db_col_int64(p, 0);
		state_col_copy(p, 1, out->file_name, sizeof(out->file_name));
		state_col_copy(p, 2, out->sha256, sizeof(out->sha256));
		out->run_id = db_col_int64(p, 3);
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

int state_reconcile_each(struct state *s, int state, const char *source_a,
			 const char *source_b,
			 int (*cb)(void *ud, const struct state_recon_pair *r),
			 void *ud, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, S_RECONCILE, err);
	struct state_recon_pair r;
	int rc, cbrc = 0;

	if (!p)
		return -1;
	db_bind_int64(p, 1, state);
	db_bind_text(p, 2, source_a);
	db_bind_text(p, 3, source_b);
	while ((rc = db_step(p, err)) == 1) {
		r.sku = db_col_text(p, 0);
		r.location = db_col_text(p, 1);
		r.has_a = !db_col_null(p, 2);
		r.qty_a = db_col_int64(p, 2);
		r.as_of_a = db_col_int64(p, 3);
		r.has_b = !db_col_null(p, 4);
		r.qty_b = db_col_int64(p, 4);
		r.as_of_b = db_col_int64(p, 5);
		if (!r.sku)
			r.sku = "";
		if (!r.location)
			r.location = "";
		if ((cbrc = cb(ud, &r)) != 0)
			break;
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return cbrc < 0 ? -1 : 0;
}
