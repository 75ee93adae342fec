/* state_load.c - loading canonical records into the state store; see
 * state.h (state_load_record, state_keep_unapplied, the load batch,
 * state_unload_doc) and state_int.h.
 *
 * The statements are state.c's table (state_stmt); the rules of a
 * stock position are transforms/model/stock.h's, which this file feeds
 * with what SQL reads and whose result it writes; the rules of master
 * data live here.
 *
 * Tables written: items, locations, prices (master data), stock_events
 * and positions (the canonical stock); their read-outs are in
 * state_positions.c.
 */
#include "state.h"
#include "state_int.h"
#include "state_lineage.h"
#include "state_txn.h"

#include <stdlib.h>
#include <string.h>

#include "transforms/model/dt.h"
#include "transforms/model/stock.h"

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

/* S_POS_SNAP's upsert and guard after its VALUES, TXN the snapshot's
 * whole txn_id: one row's ?8, or each row's excluded.snap_txn in the
 * multi-row form (snap_stmt). */
#define POS_SNAP_TAIL(TXN)                                               \
	POS_SET_SNAP                                                      \
	" last_as_of = CASE WHEN excluded.last_as_of >"                   \
	" positions.last_as_of THEN excluded.last_as_of"                  \
	" ELSE positions.last_as_of END"                                  \
	" WHERE (positions.snap_as_of IS NULL"                            \
	" OR (excluded.snap_as_of, excluded.snap_arr_file,"               \
	" excluded.snap_arr_member, excluded.snap_arr_line, " TXN ") >="  \
	" (positions.snap_as_of, positions.snap_arr_file,"                \
	" positions.snap_arr_member, positions.snap_arr_line,"            \
	" positions.snap_txn))"                                           \
	" AND (positions.delta_as_of IS NULL"                             \
	" OR positions.delta_as_of < excluded.snap_as_of)"

/* This file's statements (state_int.h): SQL in the common dialect
 * of db.h, prepared once per handle by state_stmt. */
const struct state_sql state_load_sql[S_NSTMTS] = {
	[S_ITEM_UPSERT] =
		{"INSERT INTO items(sku, gtin, description, brand, category,"
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
		" WHERE " ARR_GE("items"), 0},
	[S_LOC_UPSERT] =
		{"INSERT INTO locations(location_id, type, name, region,"
		" timezone, as_of, txn_id, doc, arr_file, arr_member, arr_line)"
		" VALUES(?,?,?,?,?,?,?,?,?,?,?)"
		" ON CONFLICT(location_id) DO UPDATE SET type=excluded.type,"
		" name=excluded.name, region=excluded.region,"
		" timezone=excluded.timezone, as_of=excluded.as_of,"
		" txn_id=excluded.txn_id, doc=excluded.doc," ARR_SET
		" WHERE " ARR_GE("locations"), 0},
	[S_PRICE_UPSERT] =
		{"INSERT INTO prices(sku, price_list, currency, amount,"
		" valid_from, valid_to, kind, as_of, txn_id, doc, arr_file,"
		" arr_member, arr_line) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)"
		" ON CONFLICT(sku, price_list, currency, valid_from, kind)"
		" DO UPDATE SET amount=excluded.amount,"
		" valid_to=excluded.valid_to, as_of=excluded.as_of,"
		" txn_id=excluded.txn_id, doc=excluded.doc," ARR_SET
		" WHERE " ARR_GE("prices"), 0},
	[S_EV_INS] = {"INSERT INTO stock_events(doc, sku, location,"
		     " state, qty, delta, as_of, txn_id, source, file, line,"
		     " arr_file, arr_member, arr_line, txn_seq, txn_rec)"
		     " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", 0},
	[S_POS_GET] = {"SELECT qty, snap_as_of, snap_txn, last_as_of, delta_as_of,"
		      " snap_arr_file, snap_arr_member, snap_arr_line FROM positions WHERE sku = ? AND location = ?"
		      " AND state = ?", 0},
	[S_POS_PUT] = {"INSERT INTO positions(" POS_COLS ")"
		      " VALUES(?,?,?,?,?,?,?,?,?,?,?)"
		      POS_UPSERT_SET, 0},
	/* A snapshot applied without reading the position first: inserted,
	 * or written over the position unless that holds a newer snapshot
	 * (as_of, then arrival, then txn_id: the full txn_id, last bound,
	 * against the stored one) or a delta as new or newer (then the deltas
	 * must be summed: no change, and the caller takes the long way). */
	[S_POS_SNAP] =
		{"INSERT INTO positions(" POS_COLS ")"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?9, ?10, ?11)"
		POS_SNAP_TAIL("?8"), 0},
	[S_EV_INS_KEPT] = {"INSERT INTO stock_events(doc, sku,"
			  " location, state, qty, delta, as_of, txn_id, source,"
			  " file, line, applied, arr_file, arr_member, arr_line,"
			  " txn_seq, txn_rec)"
			  " VALUES(?,?,?,?,?,?,?,?,?,?,?,0,?,?,?,?,?)", 0},
	[S_DELTA_SUM] = {"SELECT coalesce(sum(qty), 0) FROM stock_events"
			" WHERE sku = ? AND location = ? AND state = ?"
			" AND delta = 1 AND applied = 1 AND (as_of, arr_file,"
			" arr_member, arr_line) > (?4, ?5, ?6, ?7)", 0},
	[S_SNAP_LATEST] = {"SELECT e.qty, e.as_of, " STATE_EV_TXN("e", "u")
			  " AS txn, e.arr_file, e.arr_member, e.arr_line"
			  " FROM stock_events e LEFT JOIN units u"
			  " ON u.id = e.doc"
			  " WHERE e.sku = ? AND e.location = ? AND e.state = ?"
			  " AND e.delta = 0 AND e.applied = 1"
			  " ORDER BY e.as_of DESC, e.arr_file DESC,"
			  " e.arr_member DESC, e.arr_line DESC, txn DESC"
			  " LIMIT 1", 0},
	[S_EV_DOC_KEYS] = {"SELECT DISTINCT sku, location, state"
			  " FROM stock_events WHERE " STATE_EV_OF_DOC("", "?1")
			  " ORDER BY sku, location, state", 0},
	[S_EV_DOC_DEL] = {"DELETE FROM stock_events WHERE "
			 STATE_EV_OF_DOC("", "?1"), 0},
	[S_POS_DEL] = {"DELETE FROM positions WHERE sku = ? AND location = ?"
		      " AND state = ?", 0},
	[S_LAST_AS_OF] = {"SELECT max(as_of), count(*),"
			 " max(CASE WHEN delta = 1 THEN as_of END)"
			 " FROM stock_events"
			 " WHERE sku = ? AND location = ? AND state = ?"
			 " AND applied = 1", 0},
};

/* Binds arrival key a to parameters i, i + 1, i + 2. */
void state_bind_arrival(struct db_stmt *p, int i,
			 const struct stock_arrival *a)
{
	db_bind_int64(p, i, a->file);
	db_bind_int64(p, i + 1, a->member);
	db_bind_int64(p, i + 2, a->line);
}

void state_load_arrival(struct state *s, const struct state_arrival *a)
{
	s->arr = *a;
}

/* The store's arrival key as the stock rules' (the same three numbers). */
static struct stock_arrival arrival_of(const struct state_arrival *a)
{
	struct stock_arrival k = {a->file, a->member, a->line};

	return k;
}

/* Counts a stale record and tells the load stage which it was. */
static void stale(struct load_stats *st, int64_t line)
{
	st->stale++;
	if (st->on_stale)
		st->on_stale(st->on_stale_ud, line);
}

static int upsert(struct state *s, enum stmt_id id, int64_t doc,
		  const struct canon_record *r, size_t nfields,
		  struct err *err)
{
	struct db_stmt *p = state_stmt(s, id, err);
	struct stock_arrival arr = arrival_of(&s->arr);
	size_t i;

	/* Master data upserts row by row in the document's order, not the
	 * keys': two such loads at once could deadlock, so they hold the
	 * writer lock (db.h); stock records do not. */
	if (!p || state_lock_store(s, err) < 0)
		return -1;
	for (i = 0; i < nfields; i++)
		db_bind_text(p, (int)i + 1, r->v[i]);
	db_bind_int64(p, (int)nfields + 1, doc);
	state_bind_arrival(p, (int)nfields + 2, &arr);
	return state_step_done(p, err);
}

static int upsert_price(struct state *s, int64_t doc,
			const struct canon_record *r, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_PRICE_UPSERT, err);
	struct stock_arrival arr = arrival_of(&s->arr);

	if (!p || state_lock_store(s, err) < 0)  /* as upsert's */
		return -1;
	/* Column order of the prices table differs from the field table. */
	db_bind_text(p, 1, r->v[PRICE_SKU]);
	db_bind_text(p, 2, r->v[PRICE_PRICE_LIST]);
	db_bind_text(p, 3, r->v[PRICE_CURRENCY]);
	db_bind_text(p, 4, r->v[PRICE_AMOUNT]);
	/* NULL never equals NULL in a key; store "" for "always valid". */
	db_bind_text(p, 5, r->v[PRICE_VALID_FROM] ? r->v[PRICE_VALID_FROM] : "");
	db_bind_text(p, 6, r->v[PRICE_VALID_TO]);
	db_bind_text(p, 7, r->v[PRICE_KIND]);
	db_bind_text(p, 8, r->v[PRICE_AS_OF]);
	db_bind_text(p, 9, r->v[PRICE_TXN_ID]);
	db_bind_int64(p, 10, doc);
	state_bind_arrival(p, 11, &arr);
	return state_step_done(p, err);
}

/* The stored position (sku, loc, st) into out; a stock_pos_init one
 * when there is none. */
static int pos_get(struct state *s, const char *sku, const char *loc,
		   enum stock_state st, struct stock_pos *out,
		   struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_POS_GET, err);
	int rc;

	if (!p)
		return -1;
	db_bind_text(p, 1, sku);
	db_bind_text(p, 2, loc);
	db_bind_int64(p, 3, st);
	stock_pos_init(out);
	rc = db_step(p, err);
	if (rc == 1) {
		out->found = 1;
		out->qty = db_col_int64(p, 0);
		if (!db_col_null(p, 1))
			out->snap_as_of = db_col_int64(p, 1);
		state_col_copy(p, 2, out->snap_txn, sizeof(out->snap_txn));
		out->last_as_of = db_col_int64(p, 3);
		if (!db_col_null(p, 4))
			out->delta_as_of = db_col_int64(p, 4);
		out->snap_arr.file = db_col_int64(p, 5);
		out->snap_arr.member = db_col_int64(p, 6);
		out->snap_arr.line = db_col_int64(p, 7);
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	return 0;
}

static int pos_put(struct state *s, const char *sku, const char *loc,
		   enum stock_state st, const struct stock_pos *v,
		   struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_POS_PUT, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, sku);
	db_bind_text(p, 2, loc);
	db_bind_int64(p, 3, st);
	db_bind_int64(p, 4, v->qty);
	if (v->snap_as_of == STOCK_NONE)
		db_bind_null(p, 5);
	else
		db_bind_int64(p, 5, v->snap_as_of);
	db_bind_text(p, 6, v->snap_as_of == STOCK_NONE ? NULL : v->snap_txn);
	db_bind_int64(p, 7, v->last_as_of);
	if (v->delta_as_of == STOCK_NONE)
		db_bind_null(p, 8);
	else
		db_bind_int64(p, 8, v->delta_as_of);
	state_bind_arrival(p, 9, &v->snap_arr);
	return state_step_done(p, err);
}

/* The sum of the deltas after (as_of after, arrival arr). */
int state_delta_sum_after(struct state *s, const char *sku, const char *loc,
			   enum stock_state st, int64_t after,
			   const struct stock_arrival *arr, dec *sum,
			   struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_DELTA_SUM, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, sku);
	db_bind_text(p, 2, loc);
	db_bind_int64(p, 3, st);
	db_bind_int64(p, 4, after);
	state_bind_arrival(p, 5, arr);
	if (state_one_row(db_step(p, err), p, err) < 0)
		return -1;
	*sum = db_col_int64(p, 0);
	db_reset(p);
	return 0;
}

/* Rebuilds a position after events were taken out (a document
 * unloaded): SQL reads the latest snapshot, the sum of the deltas after
 * it and the ledger's aggregates; stock_rebuild (the rules of a
 * position, stock.h) decides; SQL writes the position, or deletes it when
 * no event is left. The incremental update of lb_position agrees. */
static int recompute(struct state *s, const char *sku, const char *loc,
		     enum stock_state st, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_SNAP_LATEST, err);
	struct stock_ledger l;
	struct stock_pos v;
	char txn[STOCK_TXN_MAX] = "";
	int rc;

	if (!p)
		return -1;
	memset(&l, 0, sizeof(l));
	l.snap.as_of = STOCK_NONE;
	l.snap.txn = txn;
	db_bind_text(p, 1, sku);
	db_bind_text(p, 2, loc);
	db_bind_int64(p, 3, st);
	rc = db_step(p, err);
	if (rc == 1) {
		l.has_snap = 1;
		l.snap.qty = db_col_int64(p, 0);
		l.snap.as_of = db_col_int64(p, 1);
		state_col_copy(p, 2, txn, sizeof(txn));
		l.snap.arr.file = db_col_int64(p, 3);
		l.snap.arr.member = db_col_int64(p, 4);
		l.snap.arr.line = db_col_int64(p, 5);
	}
	db_reset(p);
	if (rc < 0)
		return -1;
	if (state_delta_sum_after(s, sku, loc, st, l.snap.as_of, &l.snap.arr,
			    &l.later, err) < 0)
		return -1;
	if (!(p = state_stmt(s, S_LAST_AS_OF, err)))
		return -1;
	db_bind_text(p, 1, sku);
	db_bind_text(p, 2, loc);
	db_bind_int64(p, 3, st);
	if (state_one_row(db_step(p, err), p, err) < 0)
		return -1;
	l.count = db_col_int64(p, 1);
	if (l.count)
		l.last_as_of = db_col_int64(p, 0);
	l.delta_as_of = db_col_null(p, 2) ? STOCK_NONE : db_col_int64(p, 2);
	db_reset(p);
	if (stock_rebuild(&l, &v))
		return pos_put(s, sku, loc, st, &v, err);
	/* No events left: the position never existed. */
	if (!(p = state_stmt(s, S_POS_DEL, err)))
		return -1;
	db_bind_text(p, 1, sku);
	db_bind_text(p, 2, loc);
	db_bind_int64(p, 3, st);
	return state_step_done(p, err);
}

/* Binds e's txn_id to parameter i, its default form's numbers to k and
 * k + 1 (state_lineage.h: one or the other is NULL). */
void state_bind_txn(struct db_stmt *p, int i, int k, const struct lb_rec *e)
{
	db_bind_text(p, i, e->txn_doc ? NULL : e->ev.txn);
	if (e->txn_doc) {
		db_bind_int64(p, k, e->txn_seq);
		db_bind_int64(p, k + 1, e->txn_rec);
	} else {
		db_bind_null(p, k);
		db_bind_null(p, k + 1);
	}
}

/* Records e in stock_events (its txn_id new in the ledger). */
static int lb_event(struct state *s, const struct lb_rec *e, struct err *err)
{
	struct db_stmt *p = state_stmt(s, e->kept ? S_EV_INS_KEPT : S_EV_INS, err);

	if (!p)
		return -1;
	db_bind_int64(p, 1, e->doc);
	db_bind_text(p, 2, e->sku);
	db_bind_text(p, 3, e->loc);
	db_bind_int64(p, 4, e->st);
	db_bind_int64(p, 5, e->ev.qty);
	db_bind_int64(p, 6, e->ev.mode == STOCK_DELTA);
	db_bind_int64(p, 7, e->ev.as_of);
	state_bind_txn(p, 8, 15, e);
	db_bind_text(p, 9, e->src_doc ? NULL : e->source);
	db_bind_text(p, 10, e->file_doc ? NULL : e->file);
	db_bind_int64(p, 11, (int64_t)e->line);
	state_bind_arrival(p, 12, &e->ev.arr);
	return state_step_done(p, err);
}

/* Queues e's event for state_lb_events_flush: one multi-row INSERT per
 * 2^k events costs the statement's fixed work (cursors, statement
 * journal, halt, reset) once instead of per event, about a fifth of an
 * event's insert. Without a queue (a batch never allocated) it is
 * inserted at once, after those that wait, so the ids stay in order. */
static int lb_event_queue(struct state *s, struct lb_rec *e, struct err *err)
{
	struct load_batch *b = &s->lb;

	if (b->evq && b->nevq < b->max) {
		b->evq[b->nevq++] = e;
		return 0;
	}
	if (state_lb_events_flush(s, err) < 0)
		return -1;
	return lb_event(s, e, err);
}

static int snaps_flush(struct state *s, struct lb_rec *const *q, size_t n,
		       struct err *err);

int state_lb_events_flush(struct state *s, struct err *err)
{
	struct load_batch *b = &s->lb;
	size_t n = b->nevq, ns = b->nsnapq;

	/* taken first: the snapshots' fallback flushes the events again */
	b->nsnapq = 0;
	if (ns && snaps_flush(s, b->snapq, ns, err) < 0) {
		b->nevq = 0;
		return -1;
	}
	n = b->nevq;
	b->nevq = 0;
	return n ? state_lb_bulk_events(s, b->evq, n, err) : 0;
}

/* Applies snapshot e with S_POS_SNAP, without reading the position: 1
 * when applied, 0 when the rules of stock_apply must decide (nothing was
 * written), -1 on error. The statement's guard is stock_judge's rule for
 * a snapshot, plus "no delta as new" (stock_needs_later), in SQL: the
 * common case, one snapshot for a position, costs one statement. */
static int pos_snap(struct state *s, const struct lb_rec *e, struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_POS_SNAP, err);
	char txn[STOCK_TXN_MAX];
	size_t n = strlen(e->ev.txn);

	if (!p)
		return -1;
	/* stored cut like struct stock_pos's snap_txn */
	if (n >= sizeof(txn))
		n = sizeof(txn) - 1;
	memcpy(txn, e->ev.txn, n);
	txn[n] = '\0';
	db_bind_text(p, 1, e->sku);
	db_bind_text(p, 2, e->loc);
	db_bind_int64(p, 3, e->st);
	db_bind_int64(p, 4, e->ev.qty);
	db_bind_int64(p, 5, e->ev.as_of);
	db_bind_text(p, 6, txn);
	db_bind_int64(p, 7, e->ev.as_of);
	db_bind_text(p, 8, e->ev.txn);
	state_bind_arrival(p, 9, &e->ev.arr);
	if (state_step_done(p, err) < 0)
		return -1;
	return db_changes(s->db) > 0;
}

/* Queues snapshot e for snaps_flush instead of pos_snap: 1 when
 * queued. Only a txn_id that fits the position's snap_txn uncut: the
 * multi-row guard compares excluded.snap_txn where S_POS_SNAP binds
 * the whole txn_id (?8), the same value then. */
static int snap_queue(struct state *s, struct lb_rec *e)
{
	struct load_batch *b = &s->lb;

	if (!b->snapq || !s->in_tx || b->nsnapq >= b->max ||
	    strlen(e->ev.txn) >= STOCK_TXN_MAX)
		return 0;
	b->snapq[b->nsnapq++] = e;
	return 1;
}

/* Event e judged against position cur by the rules of stock.h and
 * applied to cur, counted; *o says how. Shared by lb_position and
 * snap_one, so a snapshot that leaves the multi-row path is judged as
 * every other event is. */
static int judge(struct state *s, struct lb_rec *e, struct stock_pos *cur,
		 enum stock_outcome *o, struct err *err)
{
	dec later = 0;

	/* the sum reads the events inserted so far: the queued ones go in
	 * first, the later ones of this position not yet */
	if (stock_needs_later(cur, &e->ev) &&
	    (state_lb_events_flush(s, err) < 0 ||
	     state_delta_sum_after(s, e->sku, e->loc, e->st, e->ev.as_of,
				   &e->ev.arr, &later, err) < 0))
		return -1;
	*o = stock_apply(cur, &e->ev, later);
	if (*o == STOCK_OVERFLOW)
		return err_set(err, E_VALIDATE, "quantity overflow");
	state_lb_count(e, *o, cur->qty);
	return 0;
}

/* Snapshot e (not a replay, alone at its position) applied as
 * lb_position applies it: pos_snap, else the rules of stock.h on the
 * position read. */
static int snap_one(struct state *s, struct lb_rec *e, struct err *err)
{
	struct stock_pos cur;
	enum stock_outcome o;
	int rc;

	if ((rc = pos_snap(s, e, err)) < 0)
		goto fail;
	if (rc) {
		state_lb_count(e, STOCK_APPLIED, e->ev.qty);
		return 0;
	}
	stock_pos_init(&cur);
	if (pos_get(s, e->sku, e->loc, e->st, &cur, err) < 0 ||
	    judge(s, e, &cur, &o, err) < 0)
		goto fail;
	if (o == STOCK_APPLIED &&
	    pos_put(s, e->sku, e->loc, e->st, &cur, err) < 0)
		goto fail;
	return 0;
fail:
	err_locate(err, e->file, e->line, 0, NULL);
	return -1;
}

#define SNAP_NCOLS 10

/* A multi-row statement of 2^k rows of S_POS_SNAP's VALUES, between head
 * and tail, prepared once in *p. */
static struct db_stmt *snap_stmt(struct state *s, struct db_stmt **p, int k,
				 const char *head, const char *tail,
				 struct err *err)
{
	static const char row[] = "(?,?,?,?,?,?,?,NULL,?,?,?)";
	size_t rows = (size_t)1 << k, i, nh = strlen(head);
	char *sql, *w;

	if (*p) {
		db_reset(*p);
		return *p;
	}
	if (!(sql = malloc(nh + rows * sizeof(row) + strlen(tail) + 1))) {
		err_set(err, E_NOMEM, "out of memory");
		return NULL;
	}
	memcpy(sql, head, nh);
	w = sql + nh;
	for (i = 0; i < rows; i++) {
		if (i)
			*w++ = ',';
		memcpy(w, row, sizeof(row) - 1);
		w += sizeof(row) - 1;
	}
	strcpy(w, tail);
	/* the records outlive the step (the batch's arena) */
	*p = db_prepare(s->db, sql, DB_BIND_REF, err);
	free(sql);
	return *p;
}

/* The multi-row S_POS_SNAP of 2^k rows (the guard's txn_id is each
 * row's excluded.snap_txn, see snap_queue). */
static struct db_stmt *snap_upsert_stmt(struct state *s, int k,
					struct err *err)
{
	return snap_stmt(s, &s->lb.snap[k], k,
			 "INSERT INTO positions(" POS_COLS ") VALUES",
			 POS_SNAP_TAIL("excluded.snap_txn"), err);
}

/* The same rows inserted where their position is new, and only there:
 * what S_POS_SNAP does for a row without a conflict. OR IGNORE and no
 * DO UPDATE: the upsert's UPDATE keeps qty's and last_as_of's NOT NULL
 * as ABORT, so SQLite opens a statement journal for it (and
 * snap_upsert_chunk's savepoint another); this statement can abort on
 * no constraint and opens none. No RETURNING (SQLite runs it as a
 * trigger program per row): the count of rows inserted tells all or
 * not all. */
static struct db_stmt *snap_new_stmt(struct state *s, int k,
				     struct err *err)
{
	return snap_stmt(s, &s->lb.snap_new[k], k,
			 "INSERT OR IGNORE INTO positions(" POS_COLS ") VALUES",
			 "", err);
}

static void snap_bind(struct db_stmt *p, struct lb_rec *const *q, size_t m)
{
	size_t i;
	int c;

	for (i = 0; i < m; i++) {
		const struct lb_rec *e = q[i];

		c = (int)i * SNAP_NCOLS;
		db_bind_text(p, c + 1, e->sku);
		db_bind_text(p, c + 2, e->loc);
		db_bind_int64(p, c + 3, e->st);
		db_bind_int64(p, c + 4, e->ev.qty);
		db_bind_int64(p, c + 5, e->ev.as_of);
		db_bind_text(p, c + 6, e->ev.txn);
		db_bind_int64(p, c + 7, e->ev.as_of);
		state_bind_arrival(p, c + 8, &e->ev.arr);
	}
}

/* q[0..2^k) in one upsert inside a savepoint: every one applied
 * (each row inserted or written over), or, when the guard held some
 * back, undone and applied one at a time (snap_one), which tells which. */
static int snap_upsert_chunk(struct state *s, struct lb_rec *const *q, int k,
			     struct err *err)
{
	struct db_stmt *p;
	size_t m = (size_t)1 << k, i;
	int64_t changed;

	if (db_exec(s->db, "SAVEPOINT lb_snap", err) < 0)
		return -1;
	if (!(p = snap_upsert_stmt(s, k, err)))
		goto undo;
	snap_bind(p, q, m);
	if (db_step(p, err) < 0) {
		db_reset(p);
		err_locate(err, q[0]->file, q[0]->line, 0, NULL);
		goto undo;
	}
	changed = db_changes(s->db);
	db_reset(p);
	if (changed == (int64_t)m) {
		if (db_exec(s->db, "RELEASE lb_snap", err) < 0)
			return -1;
		for (i = 0; i < m; i++)
			state_lb_count(q[i], STOCK_APPLIED, q[i]->ev.qty);
		return 0;
	}
	if (db_exec(s->db, "ROLLBACK TO lb_snap", err) < 0 ||
	    db_exec(s->db, "RELEASE lb_snap", err) < 0)
		return -1;
	for (i = 0; i < m; i++)
		if (snap_one(s, q[i], err) < 0)
			return -1;
	return 0;
undo:
	db_exec(s->db, "ROLLBACK TO lb_snap", &(struct err)ERR_INIT);
	db_exec(s->db, "RELEASE lb_snap", &(struct err)ERR_INIT);
	return -1;
}

/* Chunks after one whose positions were not all new that go straight
 * to snap_upsert_chunk: a load of snapshots of known positions (a daily
 * feed) would otherwise try each insert first for nothing. */
#define SNAP_OLD_SKIP 15

/* q[0..2^k): when every position is new (a first load), one statement
 * without a savepoint or a statement journal inserts them all
 * (snap_new_stmt), each applied as S_POS_SNAP applies a row without a
 * conflict. Else the chunk goes the old way (snap_upsert_chunk), the
 * rows just inserted included: a snapshot written over itself passes
 * the guard (an equal tuple, no delta_as_of), writes the same values
 * and counts as applied once, so the positions, counts and events are
 * those of snap_upsert_chunk alone (t_state_load.c). */
static int snap_chunk(struct state *s, struct lb_rec *const *q, int k,
		      struct err *err)
{
	struct load_batch *b = &s->lb;
	struct db_stmt *p;
	size_t m = (size_t)1 << k, i;
	int64_t added;

	if (b->snap_skip) {
		b->snap_skip--;
		return snap_upsert_chunk(s, q, k, err);
	}
	if (!(p = snap_new_stmt(s, k, err)))
		return -1;
	snap_bind(p, q, m);
	if (db_step(p, err) < 0) {
		db_reset(p);
		err_locate(err, q[0]->file, q[0]->line, 0, NULL);
		return -1;
	}
	added = db_changes(s->db);
	db_reset(p);
	if (added == (int64_t)m) {
		for (i = 0; i < m; i++)
			state_lb_count(q[i], STOCK_APPLIED, q[i]->ev.qty);
		return 0;
	}
	if (!b->snap_try)
		b->snap_skip = SNAP_OLD_SKIP;
	return snap_upsert_chunk(s, q, k, err);
}

/* The queued snapshots q[0..n), in the order they were met: chunks of
 * 2^k (k >= 1), a last single one by pos_snap as before. One statement
 * per snapshot cost its fixed work (cursors, statement journal, halt:
 * ~1.7k instructions) each time: 12.1k -> 7.3k instructions a row for
 * new positions in 256-row statements. */
static int snaps_flush(struct state *s, struct lb_rec *const *q, size_t n,
		       struct err *err)
{
	size_t i = 0;
	int k;

	while (n - i > 1) {
		for (k = LB_BULK_LOG; ((size_t)1 << k) > n - i; k--)
			;
		if (snap_chunk(s, q + i, k, err) < 0)
			return -1;
		i += (size_t)1 << k;
	}
	return i < n ? snap_one(s, q[i], err) : 0;
}

/* Counts what stock_apply said of record e (not a kept one); qty is
 * the position's quantity after it. */
void state_lb_count(const struct lb_rec *e, enum stock_outcome o, dec qty)
{
	switch (o) {
	case STOCK_APPLIED:
		if (qty < 0)
			e->stats->negative++;
		e->stats->applied++;
		break;
	case STOCK_STALE:
		stale(e->stats, e->ev.arr.line);
		break;
	case STOCK_DUPLICATE:
		e->stats->dupes++;
		break;
	case STOCK_OVERFLOW:
		break;
	}
}

/* The records idx[0..n) of one position, in arrival order: each event
 * recorded, the position read once before the first that applies,
 * each event judged and applied by the rules of stock.h, and the
 * position written once after the last. */
static int lb_position(struct state *s, const uint32_t *idx, size_t n,
		       struct err *err)
{
	struct lb_rec *e = NULL;
	struct stock_pos cur;
	enum stock_outcome o;
	int loaded = 0, dirty = 0, rc;
	size_t k;

	stock_pos_init(&cur);
	for (k = 0; k < n; k++) {
		e = &s->lb.r[idx[k]];
		if (e->dupe) {
			/* An earlier record of the batch has this txn_id. */
			if (e->stats)
				e->stats->dupes++;
			continue;
		}
		if (e->ins && lb_event_queue(s, e, err) < 0)
			goto fail;
		if (e->kept)
			continue;
		/* The ledger held this txn_id already (state_txn_mark): a
		 * replay, which never counts twice. */
		e->ev.replay = !e->ins;
		if (!e->ev.replay && n == 1 && e->ev.mode == STOCK_SNAPSHOT) {
			if (snap_queue(s, e))
				continue; /* counted when written */
			if ((rc = pos_snap(s, e, err)) < 0)
				goto fail;
			if (rc) {
				state_lb_count(e, STOCK_APPLIED, e->ev.qty);
				continue;
			}
		}
		if (!loaded && !e->ev.replay) {
			if (pos_get(s, e->sku, e->loc, e->st, &cur, err) < 0)
				goto fail;
			loaded = 1;
		}
		if (judge(s, e, &cur, &o, err) < 0)
			goto fail;
		dirty |= o == STOCK_APPLIED;
	}
	if (dirty && pos_put(s, e->sku, e->loc, e->st, &cur, err) < 0)
		goto fail;
	return 0;
fail:
	err_locate(err, e->file, e->line, 0, NULL);
	return -1;
}

int state_lb_keycmp(const struct lb_rec *a, const struct lb_rec *b)
{
	int c = strcmp(a->sku, b->sku);

	if (!c)
		c = strcmp(a->loc, b->loc);
	if (!c)
		c = (a->st > b->st) - (a->st < b->st);
	return c;
}

uint64_t state_lb_skey(const char *sku)
{
	uint64_t k = 0;
	int i;

	for (i = 0; i < 8; i++) {
		k = k << 8 | (unsigned char)*sku;
		if (*sku)
			sku++;
	}
	return k;
}

/* Position order (the positions key, BINARY collation = strcmp), then
 * arrival order. The skus' first 8 bytes decide most comparisons: the
 * strings, all over the batch's arena, were a cache miss each. */
static int lb_cmp(const void *x, const void *y, void *ud)
{
	const struct lb_rec *r = ud;
	uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
	int c;

	if (r[i].skey != r[j].skey)
		return r[i].skey < r[j].skey ? -1 : 1;
	c = state_lb_keycmp(&r[i], &r[j]);
	return c ? c : (i > j) - (i < j);
}

/* Slots of the txn_id hash set for n records: a power of two, at least
 * twice n. */
size_t state_lb_hash_size(size_t n)
{
	size_t size = 16;

	while (size < 2 * n)
		size *= 2;
	return size;
}

/* Marks every record whose txn_id an earlier record of the batch has. */
static void lb_dupes(struct load_batch *b)
{
	size_t size = state_lb_hash_size(b->n), mask = size - 1, i, h;
	const unsigned char *t;

	memset(b->seen, 0, size * sizeof(*b->seen));
	for (i = 0; i < b->n; i++) {
		h = 2166136261u;
		for (t = (const unsigned char *)b->r[i].ev.txn; *t; t++)
			h = (h ^ *t) * 16777619u;
		for (h &= mask; b->seen[h]; h = (h + 1) & mask)
			if (!strcmp(b->r[b->seen[h] - 1].ev.txn,
				    b->r[i].ev.txn))
				break;
		if (b->seen[h])
			b->r[i].dupe = 1;
		else
			b->seen[h] = (uint32_t)i + 1;
	}
}

int state_lb_mark(struct state *s, struct err *err)
{
	if (s->lb.n > 1 || s->lb.bulk_on || state_is_pg(s))
		lb_dupes(&s->lb);
	return state_txn_mark(s, err);
}

/* For state_spill.c (state_int.h). */
int state_lb_position(struct state *s, const uint32_t *idx, size_t n,
		      struct err *err)
{
	return lb_position(s, idx, n, err);
}

int state_lb_cmp(const void *x, const void *y, void *ud)
{
	return lb_cmp(x, y, ud);
}

void state_load_bulk(struct state *s, int on)
{
	s->lb.bulk_on = on;
}

int64_t state_load_waiting(const struct state *s)
{
	return (int64_t)(s->lb.seq0 + s->lb.n);
}

void state_load_on_apply(struct state *s, void (*cb)(void *ud), void *ud)
{
	s->apply_cb = cb;
	s->apply_ud = ud;
}

void state_lb_free(struct state *s)
{
	int k, i;

	for (k = 0; k < LB_BULK_N; k++)
		for (i = 0; i <= LB_BULK_LOG; i++) {
			db_finalize(s->lb.bulk[k][i]);
			s->lb.bulk[k][i] = NULL;
		}
	db_finalize(s->lb.txn_add);
	s->lb.txn_add = NULL;
	free(s->lb.r);
	free(s->lb.order);
	free(s->lb.seen);
	free(s->lb.evq);
	s->lb.evq = NULL;
	s->lb.nevq = 0;
	for (i = 0; i <= LB_BULK_LOG; i++) {
		db_finalize(s->lb.snap[i]);
		s->lb.snap[i] = NULL;
		db_finalize(s->lb.snap_new[i]);
		s->lb.snap_new[i] = NULL;
	}
	free(s->lb.snapq);
	s->lb.snapq = NULL;
	s->lb.nsnapq = 0;
	free(s->lb.docs);
	s->lb.docs = NULL;
	s->lb.ndocs = s->lb.capdocs = 0;
	if (s->lb.a.block_size) { /* the sorts were made with the arena */
		state_sort_free(&s->lb.pos);
	}
	arena_release(&s->lb.a);
}

void state_lb_discard(struct state *s)
{
	s->lb.n = 0;
	s->lb.nevq = 0;
	s->lb.nsnapq = 0;
	s->lb.source = s->lb.file = NULL;
	arena_reset(&s->lb.a);
	if (s->lb.a.block_size) {
		state_sort_reset(&s->lb.pos);
	}
	s->lb.seq0 = 0;
}

/* Applies the batch (see struct load_batch). */
static int lb_apply(struct state *s, struct err *err)
{
	struct load_batch *b = &s->lb;
	size_t i, j;
	int rc = 0;

	if (b->seq0) /* runs wait: this batch joins them */
		return state_spill_apply(s, err);
	if (!b->n)
		return 0;
	if (b->n > 1 || b->bulk_on || state_is_pg(s))
		lb_dupes(b);
	for (i = 0; i < b->n; i++)
		b->order[i] = (uint32_t)i;
	if (b->n > 1)
		qsort_r(b->order, b->n, sizeof(*b->order), lb_cmp, b->r);
	if (b->bulk_on || state_is_pg(s)) {
		rc = state_lb_bulk_apply(s, err);
		state_lb_discard(s);
		return rc;
	}
	/* the txn_id ledger says which are new (state_txn.c); the bulk
	 * applies ask it after locking their positions */
	if (state_txn_mark(s, err) < 0) {
		state_lb_discard(s);
		return -1;
	}
	for (i = 0; i < b->n && !rc; i = j) {
		for (j = i + 1; j < b->n && !state_lb_keycmp(&b->r[b->order[i]],
						       &b->r[b->order[j]]);
		     j++)
			;
		rc = lb_position(s, b->order + i, j - i, err);
	}
	if (!rc)
		rc = state_lb_events_flush(s, err);
	state_lb_discard(s);
	return rc;
}

/* Applies the batch, then widens its documents' id ranges (schema 12:
 * doc_events stands for an index on stock_events.doc). */
int state_lb_apply(struct state *s, struct err *err)
{
	int64_t floor = 0;
	int docs = s->docn.ndocs > 0;

	if (docs && state_lineage_floor(s, &floor, err) < 0)
		return -1;
	if (lb_apply(s, err) < 0)
		return -1;
	return docs ? state_lineage_ranges(s, floor, err) : 0;
}

void state_load_batching(struct state *s)
{
	s->lb_on = s->in_tx;
}

int state_load_flush(struct state *s, struct err *err)
{
	s->lb_on = 0;
	return state_lb_apply(s, err);
}

void state_load_batch_max(struct state *s, size_t n)
{
	s->lb.want = n ? n : 1;
}

/* A copy of v in the batch's arena; the last source and file names are
 * shared. NULL stays NULL; *ok = 0 when the arena is full. */
static const char *lb_str(struct load_batch *b, const char *v,
			  const char **last, int *ok)
{
	char *c;

	if (!v)
		return NULL;
	if (last && *last && !strcmp(*last, v))
		return *last;
	if (!(c = arena_strdup(&b->a, v))) {
		*ok = 0;
		return NULL;
	}
	if (last)
		*last = c;
	return c;
}

/* sku, location and txn_id of r copied into the batch's arena, one after
 * the other (NUL-terminated); *ok = 0 when the arena is full. */
static const char *lb_key(struct load_batch *b, const struct canon_record *r,
			  int *ok)
{
	size_t ls = strlen(r->v[STOCK_SKU]) + 1,
	       ll = strlen(r->v[STOCK_LOCATION]) + 1,
	       lt = strlen(r->v[STOCK_TXN_ID]) + 1;
	char *c = arena_alloc(&b->a, ls + ll + lt);
	static const char none[3]; /* three empty strings: the caller's
				    * pointers stay valid until it retries */

	if (!c) {
		*ok = 0;
		return none;
	}
	memcpy(c, r->v[STOCK_SKU], ls);
	memcpy(c + ls, r->v[STOCK_LOCATION], ll);
	memcpy(c + ls + ll, r->v[STOCK_TXN_ID], lt);
	return c;
}

/* The batch is full: written as a sorted run when the document may
 * go on (state_spill.c), else applied. */
static int lb_full(struct state *s, struct err *err)
{
	if (s->lb.n && state_spill_ok(s))
		return state_spill_batch(s, err);
	return state_lb_apply(s, err);
}

/* Queues one validated stock record; applies the batch when it is full,
 * and at once without state_load_batching (one record at a time, as
 * before). */
static int lb_add(struct state *s, int64_t doc, const struct canon_record *r,
		  enum stock_state st, dec q, int64_t as_of,
		  enum stock_mode mode, int kept, struct load_stats *stats,
		  struct err *err)
{
	struct load_batch *b = &s->lb;
	struct lb_rec *e;
	int ok, tries, alone = !r->v[STOCK_SKU] || !r->v[STOCK_LOCATION];

	if (!b->want)
		b->want = LB_MAX;
	if (!b->a.block_size) {
		arena_init(&b->a, 256 * 1024, LB_BYTES);
		state_sort_init(&b->pos, 0);
	}
	if (!b->r || b->max != b->want) {
		if (state_lb_apply(s, err) < 0)
			return -1;
		free(b->r);
		free(b->order);
		free(b->seen);
		free(b->evq);
		free(b->snapq);
		b->max = b->want;
		b->nevq = b->nsnapq = 0;
		b->r = malloc(b->max * sizeof(*b->r));
		b->order = malloc(b->max * sizeof(*b->order));
		b->seen = malloc(state_lb_hash_size(b->max) * sizeof(*b->seen));
		b->evq = malloc(b->max * sizeof(*b->evq));
		b->snapq = malloc(b->max * sizeof(*b->snapq));
		if (!b->r || !b->order || !b->seen || !b->evq || !b->snapq) {
			free(b->r);
			free(b->order);
			free(b->seen);
			free(b->evq);
			free(b->snapq);
			b->r = NULL;
			b->order = NULL;
			b->seen = NULL;
			b->evq = NULL;
			b->snapq = NULL;
			return err_set(err, E_NOMEM, "out of memory");
		}
	}
	/* A record without a key cannot be sorted: it is applied on its
	 * own, as one at a time (the store refuses it: NOT NULL). */
	if (alone ? state_lb_apply(s, err) < 0
		  : b->n == b->max && lb_full(s, err) < 0)
		return -1;
	for (tries = 0;; tries++) {
		e = &b->r[b->n];
		memset(e, 0, sizeof(*e));
		ok = 1;
		if (alone || tries == 2) {
			/* Not copied: applied before this call returns. */
			e->sku = r->v[STOCK_SKU];
			e->loc = r->v[STOCK_LOCATION];
			e->ev.txn = r->v[STOCK_TXN_ID];
			e->source = r->lin.source;
			e->file = r->lin.file;
		} else {
			e->sku = lb_key(b, r, &ok);
			e->loc = e->sku + strlen(e->sku) + 1;
			e->ev.txn = e->loc + strlen(e->loc) + 1;
			e->source = lb_str(b, r->lin.source, &b->source, &ok);
			e->file = lb_str(b, r->lin.file, &b->file, &ok);
		}
		if (ok)
			break;
		/* The arena is full: apply (or spill) what waits, then try
		 * again. */
		if (lb_full(s, err) < 0)
			return -1;
		arena_reset(&b->a);
	}
	e->stats = stats;
	e->skey = state_lb_skey(e->sku ? e->sku : "");
	e->ev.arr = arrival_of(&s->arr);
	e->doc = doc;
	e->ev.as_of = as_of;
	e->ev.qty = q;
	e->line = r->lin.line;
	e->st = st;
	e->ev.mode = mode;
	e->kept = (unsigned char)kept;
	if (state_lineage_derive(s, e, err) < 0)
		return -1;
	b->n++;
	if (!s->lb_on || alone || tries == 2)
		return state_lb_apply(s, err);
	return b->n == b->max ? lb_full(s, err) : 0;
}

/* The state, quantity and time of stock record r: -1 (E_VALIDATE) when
 * r is not in canonical form, e.g. a state that is not one of stock.h's
 * (canon_validate lets none through; a hand-made file might). */
static int stock_fields(const struct canon_record *r, enum stock_state *st,
			dec *q, int64_t *as_of, struct err *err)
{
	int k;

	if (!r->v[STOCK_STATE] || !r->v[STOCK_QUANTITY] ||
	    !r->v[STOCK_AS_OF] || !r->v[STOCK_TXN_ID] ||
	    (k = stock_state_from_name(r->v[STOCK_STATE])) < 0 ||
	    dec_parse(r->v[STOCK_QUANTITY], strlen(r->v[STOCK_QUANTITY]), '.',
		      0, q) ||
	    dt_parse_iso(r->v[STOCK_AS_OF], strlen(r->v[STOCK_AS_OF]), as_of))
		return err_set(err, E_VALIDATE,
			       "stock record not in canonical form");
	*st = (enum stock_state)k;
	return 0;
}

static int load_stock(struct state *s, int64_t doc,
		      const struct canon_record *r, struct load_stats *stats,
		      struct err *err)
{
	enum stock_state st;
	dec q;
	int64_t as_of;

	if (stock_fields(r, &st, &q, &as_of, err) < 0)
		return -1;
	return lb_add(s, doc, r, st, q, as_of, stock_mode_of(r->v[STOCK_MODE]),
		      0, stats, err);
}

int state_keep_unapplied(struct state *s, int64_t doc,
			 const struct canon_record *r, struct err *err)
{
	enum stock_state st;
	dec q;
	int64_t as_of;

	if (r->kind != CANON_STOCK)
		return err_set(err, E_VALIDATE,
			       "stock record not in canonical form");
	if (stock_fields(r, &st, &q, &as_of, err) < 0)
		return -1;
	/* Queued with the applied records: which of two records with one
	 * txn_id is kept depends on their order. */
	return lb_add(s, doc, r, st, q, as_of, stock_mode_of(r->v[STOCK_MODE]),
		      1, NULL, err);
}

int state_load_record(struct state *s, int64_t doc,
		      const struct canon_record *r, struct load_stats *st,
		      struct err *err)
{
	switch (r->kind) {
	case CANON_ITEM:
		if (upsert(s, S_ITEM_UPSERT, doc, r, ITEM_NFIELDS, err) < 0)
			return -1;
		break;
	case CANON_LOCATION:
		if (upsert(s, S_LOC_UPSERT, doc, r, LOC_NFIELDS, err) < 0)
			return -1;
		break;
	case CANON_PRICE:
		if (upsert_price(s, doc, r, err) < 0)
			return -1;
		break;
	case CANON_STOCK:
		return load_stock(s, doc, r, st, err);
	default:
		return err_set(err, E_INTERNAL, "unknown record kind");
	}
	if (db_changes(s->db))
		st->applied++;
	else
		stale(st, s->arr.line);
	return 0;
}

int state_unload_doc(struct state *s, int64_t doc, struct err *err)
{
	struct db_stmt *p = state_lb_apply(s, err) < 0
				  ? NULL
				  : state_stmt(s, S_EV_DOC_KEYS, err);
	struct key {
		char *sku, *loc;
		enum stock_state st;
	} *keys = NULL;
	size_t n = 0, cap = 0, i;
	int rc, ret = -1;

	if (!p)
		return -1;
	db_bind_int64(p, 1, doc);
	while ((rc = db_step(p, err)) == 1) {
		if (n == cap) {
			struct key *nk;

			cap = cap ? cap * 2 : 64;
			if (!(nk = realloc(keys, cap * sizeof(*keys))))
				goto nomem;
			keys = nk;
		}
		keys[n].sku = strdup(db_col_text(p, 0));
		keys[n].loc = strdup(db_col_text(p, 1));
		keys[n].st = (enum stock_state)db_col_int64(p, 2);
		n++;
		if (!keys[n - 1].sku || !keys[n - 1].loc)
			goto nomem;
	}
	db_reset(p);
	if (rc != 0)
		goto out;
	/* in the keys' order, as loads lock them */
	for (i = 0; i < n; i++)
		if (state_pos_lock(s, keys[i].sku, keys[i].loc, keys[i].st, err) < 0)
			goto out;
	if (state_txn_forget_doc(s, doc, err) < 0 ||
	    !(p = state_stmt(s, S_EV_DOC_DEL, err)))
		goto out;
	db_bind_int64(p, 1, doc);
	if (state_step_done(p, err) < 0 ||
	    state_lineage_range_drop(s, doc, err) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (recompute(s, keys[i].sku, keys[i].loc, keys[i].st, err) <
		    0)
			goto out;
	ret = 0;
	goto out;
nomem:
	db_reset(p);
	err_set(err, E_NOMEM, "out of memory");
out:
	for (i = 0; i < n; i++) {
		free(keys[i].sku);
		free(keys[i].loc);
	}
	free(keys);
	return ret;
}
