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
#define POS_COLS                                                         \
	"sku, location, state, qty, snap_as_of, snap_txn, last_as_of,"   \
	" delta_as_of, snap_arr_file, snap_arr_member, snap_arr_line"

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
		     " arr_file, arr_member, arr_line)"
		     " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", 0},
	[S_POS_GET] = {"SELECT qty, snap_as_of, snap_txn, last_as_of, delta_as_of,"
		      " snap_arr_file, snap_arr_member, snap_arr_line FROM positions WHERE sku = ? AND location = ?"
		      " AND state = ?", 0},
	[S_POS_PUT] = {"INSERT INTO positions(" POS_COLS ")"
		      " VALUES(?,?,?,?,?,?,?,?,?,?,?)"
		      " ON CONFLICT(sku, location, state) DO UPDATE SET"
		      " snap_arr_file = excluded.snap_arr_file,"
		      " snap_arr_member = excluded.snap_arr_member,"
		      " snap_arr_line = excluded.snap_arr_line,"
		      " qty = excluded.qty, snap_as_of = excluded.snap_as_of,"
		      " snap_txn = excluded.snap_txn,"
		      " last_as_of = excluded.last_as_of,"
		      " delta_as_of = excluded.delta_as_of", 0},
	/* A snapshot applied without reading the position first: inserted,
	 * or written over the position unless that holds a newer snapshot
	 * (as_of, then arrival, then txn_id: the full txn_id, last bound,
	 * against the stored one) or a delta as new or newer (then the deltas
	 * must be summed: no change, and the caller takes the long way). */
	[S_POS_SNAP] =
		{"INSERT INTO positions(" POS_COLS ")"
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
		" OR positions.delta_as_of < excluded.snap_as_of)", 0},
	[S_EV_INS_KEPT] = {"INSERT INTO stock_events(doc, sku,"
			  " location, state, qty, delta, as_of, txn_id, source,"
			  " file, line, applied, arr_file, arr_member, arr_line)"
			  " VALUES(?,?,?,?,?,?,?,?,?,?,?,0,?,?,?)"
			  " ON CONFLICT DO NOTHING", 0},
	[S_DELTA_SUM] = {"SELECT coalesce(sum(qty), 0) FROM stock_events"
			" WHERE sku = ? AND location = ? AND state = ?"
			" AND delta = 1 AND applied = 1 AND (as_of, arr_file,"
			" arr_member, arr_line) > (?4, ?5, ?6, ?7)", 0},
	[S_SNAP_LATEST] = {"SELECT qty, as_of, txn_id, arr_file, arr_member,"
			  " arr_line FROM stock_events"
			  " WHERE sku = ? AND location = ? AND state = ?"
			  " AND delta = 0 AND applied = 1 ORDER BY as_of DESC,"
			  " arr_file DESC, arr_member DESC, arr_line DESC,"
			  " txn_id DESC"
			  " LIMIT 1", 0},
	[S_EV_DOC_KEYS] = {"SELECT DISTINCT sku, location, state"
			  " FROM stock_events WHERE doc = ?"
			  " ORDER BY sku, location, state", 0},
	[S_EV_DOC_DEL] = {"DELETE FROM stock_events WHERE doc = ?", 0},
	[S_POS_DEL] = {"DELETE FROM positions WHERE sku = ? AND location = ?"
		      " AND state = ?", 0},
	[S_LAST_AS_OF] = {"SELECT max(as_of), count(*),"
			 " max(CASE WHEN delta = 1 THEN as_of END)"
			 " FROM stock_events"
			 " WHERE sku = ? AND location = ? AND state = ?"
			 " AND applied = 1", 0},
};

/* Binds arrival key a to parameters i, i + 1, i + 2. */
static void bind_arrival(struct db_stmt *p, int i,
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
	bind_arrival(p, (int)nfields + 2, &arr);
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
	bind_arrival(p, 11, &arr);
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
	bind_arrival(p, 9, &v->snap_arr);
	return state_step_done(p, err);
}

/* The sum of the deltas after (as_of after, arrival arr). */
static int delta_sum_after(struct state *s, const char *sku, const char *loc,
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
	bind_arrival(p, 5, arr);
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
	if (delta_sum_after(s, sku, loc, st, l.snap.as_of, &l.snap.arr,
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

/* Records e in stock_events (ON CONFLICT DO NOTHING on the txn_id). */
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
	db_bind_text(p, 8, e->ev.txn);
	db_bind_text(p, 9, e->source);
	db_bind_text(p, 10, e->file);
	db_bind_int64(p, 11, (int64_t)e->line);
	bind_arrival(p, 12, &e->ev.arr);
	return state_step_done(p, err);
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
	bind_arrival(p, 9, &e->ev.arr);
	if (state_step_done(p, err) < 0)
		return -1;
	return db_changes(s->db) > 0;
}

/* Counts what stock_apply said of record e (not a kept one); qty is
 * the position's quantity after it. */
static void lb_count(const struct lb_rec *e, enum stock_outcome o, dec qty)
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
	dec later;
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
		if (lb_event(s, e, err) < 0)
			goto fail;
		if (e->kept)
			continue;
		/* The ledger held this txn_id already (ON CONFLICT DO
		 * NOTHING): a replay, which never counts twice. */
		e->ev.replay = db_changes(s->db) == 0;
		if (!e->ev.replay && n == 1 && e->ev.mode == STOCK_SNAPSHOT) {
			if ((rc = pos_snap(s, e, err)) < 0)
				goto fail;
			if (rc) {
				lb_count(e, STOCK_APPLIED, e->ev.qty);
				continue;
			}
		}
		if (!loaded && !e->ev.replay) {
			if (pos_get(s, e->sku, e->loc, e->st, &cur, err) < 0)
				goto fail;
			loaded = 1;
		}
		later = 0;
		if (stock_needs_later(&cur, &e->ev) &&
		    delta_sum_after(s, e->sku, e->loc, e->st, e->ev.as_of,
				    &e->ev.arr, &later, err) < 0)
			goto fail;
		o = stock_apply(&cur, &e->ev, later);
		if (o == STOCK_OVERFLOW) {
			err_set(err, E_VALIDATE, "quantity overflow");
			goto fail;
		}
		lb_count(e, o, cur.qty);
		dirty |= o == STOCK_APPLIED;
	}
	if (dirty && pos_put(s, e->sku, e->loc, e->st, &cur, err) < 0)
		goto fail;
	return 0;
fail:
	err_locate(err, e->file, e->line, 0, NULL);
	return -1;
}

static int lb_keycmp(const struct lb_rec *a, const struct lb_rec *b)
{
	int c = strcmp(a->sku, b->sku);

	if (!c)
		c = strcmp(a->loc, b->loc);
	if (!c)
		c = (a->st > b->st) - (a->st < b->st);
	return c;
}

/* Position order (the positions key, BINARY collation = strcmp), then
 * arrival order. */
static int lb_cmp(const void *x, const void *y, void *ud)
{
	const struct lb_rec *r = ud;
	uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
	int c = lb_keycmp(&r[i], &r[j]);

	return c ? c : (i > j) - (i < j);
}

/* Slots of the txn_id hash set for n records: a power of two, at least
 * twice n. */
static size_t lb_hash_size(size_t n)
{
	size_t size = 16;

	while (size < 2 * n)
		size *= 2;
	return size;
}

/* Marks every record whose txn_id an earlier record of the batch has. */
static void lb_dupes(struct load_batch *b)
{
	size_t size = lb_hash_size(b->n), mask = size - 1, i, h;
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

/* ---- the bulk apply ----------------------------------------------------
 *
 * On PostgreSQL every statement is a round trip (~100 us on localhost),
 * and one statement per record made the load 20x slower than SQLite's.
 * There a batch goes in a few multi-row statements instead, with the
 * same result as lb_position's one record at a time:
 *   1. every event of the batch (not the batch's own dupes) in INSERT
 *      ... VALUES (...), (...) ON CONFLICT DO NOTHING RETURNING txn_id,
 *      in position order: a txn_id not returned was in the ledger
 *      already (a replay), as db_changes() == 0 says one at a time;
 *   2. the positions, up to 2^LB_BULK_LOG at a time: read in one SELECT
 *      ... WHERE (sku, location, state) IN (VALUES ...), their records
 *      applied in memory in arrival order by stock.h's rules, the
 *      changed ones written in one multi-row upsert.
 * One difference from one at a time: when a record is applied, the
 * events of later records of its position are already in the table.
 * The only read of events while applying (the deltas after a snapshot
 * that arrives older than a delta, stock_needs_later) subtracts those,
 * from memory, so it sums what one at a time would have seen.
 * Statements of 2^k rows (k = 0..LB_BULK_LOG) are prepared once; a run
 * of n rows goes as its binary digits. */
#define LB_BULK_MAX (1u << LB_BULK_LOG)
#define EV_COLS                                                          \
	"doc, sku, location, state, qty, delta, as_of, txn_id, source,"  \
	" file, line, applied, arr_file, arr_member, arr_line"

/* The read of positions on PostgreSQL: a generic plan made while the
 * table was small (the first batch of a new store) joined the keys to a
 * sequential scan of positions by hash, and kept doing so as the table
 * grew within the load's transaction; a LATERAL ... LIMIT 1 leaves the
 * planner only the primary key's index. SQLite has no LATERAL and plans
 * IN (VALUES ...) per execution. */
#define POS_GET_PG_HEAD                                                  \
	"SELECT p.sku, p.location, p.state, p.qty, p.snap_as_of,"        \
	" p.snap_txn, p.last_as_of, p.delta_as_of, p.snap_arr_file,"     \
	" p.snap_arr_member, p.snap_arr_line FROM (VALUES"
#define POS_GET_PG_TAIL                                                  \
	") AS k(sku, location, state) CROSS JOIN LATERAL (SELECT * FROM"  \
	" positions x WHERE x.sku = k.sku AND x.location = k.location"    \
	" AND x.state = k.state LIMIT 1) p"

/* Row locks of a load on PostgreSQL (no writer lock: db.h). Every
 * position of the batch is locked before anything else is written
 * (pg_bulk_apply), by one statement per group of keys: an upsert that
 * makes a new position as a placeholder row (POS_FRESH in last_as_of,
 * read back as "not found") and locks an existing one by a no-op
 * update, returning the row either way. One statement does both in the
 * VALUES order, which is the keys' sorted order, so every load takes
 * its locks in one global order and two loads never wait for each other
 * in a circle (a SELECT ... FOR UPDATE of the existing rows beside an
 * INSERT of the new ones would take them in two passes per group, and
 * two loads could each hold a key the other waits for). The stock events
 * follow under those locks: a txn_id two documents share belongs to the
 * same position, so its insert waits only for a load that already holds
 * the position. A placeholder nothing applied to is deleted before the
 * commit: none is ever seen outside its transaction. */
#define POS_FRESH INT64_MIN
#define POS_NEW_PG_HEAD                                                  \
	"INSERT INTO positions(sku, location, state, qty, last_as_of) VALUES"
#define POS_NEW_PG_ROW "(?, ?, CAST(? AS BIGINT), 0, CAST(? AS BIGINT))"
#define POS_NEW_PG_TAIL                                                  \
	" ON CONFLICT(sku, location, state) DO UPDATE SET"                \
	" qty = positions.qty RETURNING sku, location, state, qty,"       \
	" snap_as_of, snap_txn, last_as_of, delta_as_of, snap_arr_file,"  \
	" snap_arr_member, snap_arr_line"

/* The SQL of a bulk statement of rows rows (malloc'd), NULL when out of
 * memory. */
static char *bulk_sql(int kind, unsigned rows, int pg)
{
	static const char *const head[LB_BULK_N] = {
		[LB_BULK_EV] = "INSERT INTO stock_events(" EV_COLS ") VALUES",
		[LB_BULK_POS_GET] =
			"SELECT sku, location, state, qty, snap_as_of,"
			" snap_txn, last_as_of, delta_as_of, snap_arr_file,"
			" snap_arr_member, snap_arr_line FROM positions"
			" WHERE (sku, location, state) IN (VALUES",
		[LB_BULK_POS_PUT] =
			"INSERT INTO positions(" POS_COLS ") VALUES",
	};
	static const char *const row[LB_BULK_N] = {
		[LB_BULK_EV] = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		[LB_BULK_POS_GET] = "(?, ?, CAST(? AS BIGINT))",
		[LB_BULK_POS_PUT] = "(?,?,?,?,?,?,?,?,?,?,?)",
	};
	static const char *const tail[LB_BULK_N] = {
		[LB_BULK_EV] = " ON CONFLICT(txn_id) DO NOTHING RETURNING txn_id",
		[LB_BULK_POS_GET] = ")",
		[LB_BULK_POS_PUT] =
			" ON CONFLICT(sku, location, state) DO UPDATE SET"
			" snap_arr_file = excluded.snap_arr_file,"
			" snap_arr_member = excluded.snap_arr_member,"
			" snap_arr_line = excluded.snap_arr_line,"
			" qty = excluded.qty, snap_as_of = excluded.snap_as_of,"
			" snap_txn = excluded.snap_txn,"
			" last_as_of = excluded.last_as_of,"
			" delta_as_of = excluded.delta_as_of",
	};
	const char *h = pg && kind == LB_BULK_POS_GET ? POS_GET_PG_HEAD
						      : head[kind],
		   *t = pg && kind == LB_BULK_POS_GET ? POS_GET_PG_TAIL
						      : tail[kind],
		   *r = row[kind];
	size_t hl, rl, tl, o;
	char *sql;
	unsigned i;

	if (kind == LB_BULK_POS_NEW) {  /* PostgreSQL only */
		h = POS_NEW_PG_HEAD;
		r = POS_NEW_PG_ROW;
		t = POS_NEW_PG_TAIL;
	}
	hl = strlen(h);
	rl = strlen(r);
	tl = strlen(t);
	if (!(sql = malloc(hl + rows * (rl + 1) + tl + 1)))
		return NULL;
	memcpy(sql, h, hl);
	o = hl;
	for (i = 0; i < rows; i++) {
		if (i)
			sql[o++] = ',';
		memcpy(sql + o, r, rl);
		o += rl;
	}
	memcpy(sql + o, t, tl + 1);
	return sql;
}

/* The prepared bulk statement of 2^k rows, reset. */
static struct db_stmt *bulk_stmt(struct state *s, int kind, int k,
				 struct err *err)
{
	struct db_stmt **p = &s->lb.bulk[kind][k];
	char *sql;

	if (*p) {
		db_reset(*p);
		return *p;
	}
	if (!(sql = bulk_sql(kind, 1u << k, state_is_pg(s)))) {
		err_set(err, E_NOMEM, "out of memory");
		return NULL;
	}
	*p = db_prepare(s->db, sql, 0, err);
	free(sql);
	return *p;
}

/* The index of the batch's first record with txn_id t (lb_dupes' hash
 * set), or -1. */
static long lb_find(const struct load_batch *b, const char *t)
{
	size_t mask = lb_hash_size(b->n) - 1, h = 2166136261u;
	const unsigned char *c;

	for (c = (const unsigned char *)t; *c; c++)
		h = (h ^ *c) * 16777619u;
	for (h &= mask; b->seen[h]; h = (h + 1) & mask)
		if (!strcmp(b->r[b->seen[h] - 1].ev.txn, t))
			return (long)b->seen[h] - 1;
	return -1;
}

/* Inserts the events of recs[0..n) (n = 2^k) in one statement and marks
 * those inserted. */
static int bulk_events(struct state *s, struct lb_rec *const *recs, int k,
		       struct err *err)
{
	struct db_stmt *p = bulk_stmt(s, LB_BULK_EV, k, err);
	unsigned i, n = 1u << k;
	long x;
	int rc, c;

	if (!p)
		return -1;
	for (i = 0; i < n; i++) {
		const struct lb_rec *e = recs[i];

		c = (int)i * 15;
		db_bind_int64(p, c + 1, e->doc);
		db_bind_text(p, c + 2, e->sku);
		db_bind_text(p, c + 3, e->loc);
		db_bind_int64(p, c + 4, e->st);
		db_bind_int64(p, c + 5, e->ev.qty);
		db_bind_int64(p, c + 6, e->ev.mode == STOCK_DELTA);
		db_bind_int64(p, c + 7, e->ev.as_of);
		db_bind_text(p, c + 8, e->ev.txn);
		db_bind_text(p, c + 9, e->source);
		db_bind_text(p, c + 10, e->file);
		db_bind_int64(p, c + 11, (int64_t)e->line);
		db_bind_int64(p, c + 12, !e->kept);
		bind_arrival(p, c + 13, &e->ev.arr);
	}
	while ((rc = db_step(p, err)) == 1)
		if ((x = lb_find(&s->lb, db_col_text(p, 0))) >= 0)
			s->lb.r[x].ins = 1;
	db_reset(p);
	if (rc < 0)
		err_locate(err, recs[0]->file, recs[0]->line, 0, NULL);
	return rc < 0 ? -1 : 0;
}

/* Runs fn over items[0..n) in statements of 2^k rows, largest first. */
static int bulk_runs(struct state *s, void *items, size_t size, size_t n,
		     int (*fn)(struct state *s, void *items, int k,
			       struct err *err),
		     struct err *err)
{
	char *p = items;
	int k;

	for (k = LB_BULK_LOG; k >= 0; k--)
		while (n >= (1u << k)) {
			if (fn(s, p, k, err) < 0)
				return -1;
			p += (size_t)(1u << k) * size;
			n -= 1u << k;
		}
	return 0;
}

static int bulk_events_fn(struct state *s, void *items, int k,
			  struct err *err)
{
	return bulk_events(s, items, k, err);
}

/* One position of a bulk chunk: its records order[first..first + n),
 * the position as read and as applied. */
struct bulk_pos {
	size_t first, n;
	int want;                  /* some record may apply: read it */
	int dirty;
	int fresh;                 /* PostgreSQL: our placeholder row */
	struct stock_pos cur;
	const struct lb_rec *key;
};

static int bulk_pos_cmp(const void *k, const void *x)
{
	return lb_keycmp(k, ((const struct bulk_pos *)x)->key);
}

/* Reads the positions of g[0..n) (n = 2^k) in one statement into
 * their cur (found stays 0 for a new position); on PostgreSQL the
 * locking upsert above (fresh set for a placeholder). */
static int bulk_read(struct state *s, struct bulk_pos *const *g, int k,
		     struct bulk_pos *all, size_t nall, struct err *err)
{
	struct db_stmt *p;
	unsigned i, n = 1u << k;
	struct lb_rec key;
	struct bulk_pos *x;
	int rc;

	int pg = state_is_pg(s), w = pg ? 4 : 3;

	if (!(p = bulk_stmt(s, pg ? LB_BULK_POS_NEW : LB_BULK_POS_GET, k,
			    err)))
		return -1;
	for (i = 0; i < n; i++) {
		db_bind_text(p, (int)i * w + 1, g[i]->key->sku);
		db_bind_text(p, (int)i * w + 2, g[i]->key->loc);
		db_bind_int64(p, (int)i * w + 3, g[i]->key->st);
		if (pg)
			db_bind_int64(p, (int)i * w + 4, POS_FRESH);
	}
	memset(&key, 0, sizeof(key));
	while ((rc = db_step(p, err)) == 1) {
		key.sku = db_col_text(p, 0);
		key.loc = db_col_text(p, 1);
		key.st = (enum stock_state)db_col_int64(p, 2);
		if (!key.sku || !key.loc ||
		    !(x = bsearch(&key, all, nall, sizeof(*all),
				  bulk_pos_cmp)))
			continue;
		if (db_col_int64(p, 6) == POS_FRESH) {
			x->fresh = 1;  /* as new: cur stays stock_pos_init's */
			continue;
		}
		x->cur.found = 1;
		x->cur.qty = db_col_int64(p, 3);
		if (!db_col_null(p, 4))
			x->cur.snap_as_of = db_col_int64(p, 4);
		state_col_copy(p, 5, x->cur.snap_txn, sizeof(x->cur.snap_txn));
		x->cur.last_as_of = db_col_int64(p, 6);
		if (!db_col_null(p, 7))
			x->cur.delta_as_of = db_col_int64(p, 7);
		x->cur.snap_arr.file = db_col_int64(p, 8);
		x->cur.snap_arr.member = db_col_int64(p, 9);
		x->cur.snap_arr.line = db_col_int64(p, 10);
	}
	db_reset(p);
	return rc < 0 ? -1 : 0;
}

/* Writes the positions of g[0..n) (n = 2^k) in one upsert. */
static int bulk_write(struct state *s, struct bulk_pos *const *g, int k,
		      struct err *err)
{
	struct db_stmt *p = bulk_stmt(s, LB_BULK_POS_PUT, k, err);
	unsigned i, n = 1u << k;
	int c;

	if (!p)
		return -1;
	for (i = 0; i < n; i++) {
		const struct stock_pos *v = &g[i]->cur;

		c = (int)i * 11;
		db_bind_text(p, c + 1, g[i]->key->sku);
		db_bind_text(p, c + 2, g[i]->key->loc);
		db_bind_int64(p, c + 3, g[i]->key->st);
		db_bind_int64(p, c + 4, v->qty);
		if (v->snap_as_of == STOCK_NONE)
			db_bind_null(p, c + 5);
		else
			db_bind_int64(p, c + 5, v->snap_as_of);
		db_bind_text(p, c + 6,
			     v->snap_as_of == STOCK_NONE ? NULL : v->snap_txn);
		db_bind_int64(p, c + 7, v->last_as_of);
		if (v->delta_as_of == STOCK_NONE)
			db_bind_null(p, c + 8);
		else
			db_bind_int64(p, c + 8, v->delta_as_of);
		bind_arrival(p, c + 9, &v->snap_arr);
	}
	if (state_step_done(p, err) < 0) {
		err_locate(err, g[0]->key->file, g[0]->key->line, 0, NULL);
		return -1;
	}
	return 0;
}

/* The delta sum one at a time would have read for record idx[k] of a
 * position: the table's, less the deltas of the position's later
 * records this batch inserted. */
static int bulk_later(struct state *s, const uint32_t *idx, size_t n,
		      size_t k, dec *later, struct err *err)
{
	const struct lb_rec *e = &s->lb.r[idx[k]], *f;
	size_t j;

	if (delta_sum_after(s, e->sku, e->loc, e->st, e->ev.as_of,
			    &e->ev.arr, later, err) < 0)
		return -1;
	for (j = k + 1; j < n; j++) {
		f = &s->lb.r[idx[j]];
		if (f->ins && !f->kept && f->ev.mode == STOCK_DELTA &&
		    (f->ev.as_of > e->ev.as_of ||
		     (f->ev.as_of == e->ev.as_of &&
		      stock_arrival_cmp(&f->ev.arr, &e->ev.arr) > 0)))
			*later -= f->ev.qty;
	}
	return 0;
}

/* Applies the records of position g in memory (lb_position's rules). */
static int bulk_apply_pos(struct state *s, struct bulk_pos *g,
			  struct err *err)
{
	const uint32_t *idx = s->lb.order + g->first;
	struct lb_rec *e;
	enum stock_outcome o;
	dec later;
	size_t k;

	for (k = 0; k < g->n; k++) {
		e = &s->lb.r[idx[k]];
		if (e->dupe) {
			if (e->stats)
				e->stats->dupes++;
			continue;
		}
		if (e->kept)
			continue;
		later = 0;
		if (stock_needs_later(&g->cur, &e->ev) &&
		    bulk_later(s, idx, g->n, k, &later, err) < 0)
			goto fail;
		o = stock_apply(&g->cur, &e->ev, later);
		if (o == STOCK_OVERFLOW) {
			err_set(err, E_VALIDATE, "quantity overflow");
			goto fail;
		}
		lb_count(e, o, g->cur.qty);
		g->dirty |= o == STOCK_APPLIED;
	}
	return 0;
fail:
	err_locate(err, e->file, e->line, 0, NULL);
	return -1;
}

/* Deletes the placeholder of e's position nothing applied to. */
static int pos_drop(struct state *s, const struct lb_rec *e,
		    struct err *err)
{
	struct db_stmt *p = state_stmt(s, S_POS_DEL, err);

	if (!p)
		return -1;
	db_bind_text(p, 1, e->sku);
	db_bind_text(p, 2, e->loc);
	db_bind_int64(p, 3, e->st);
	return state_step_done(p, err);
}

/* Up to LB_BULK_MAX positions: read, applied, written. */
static int bulk_chunk_read(struct state *s, struct bulk_pos *g, size_t ng,
			   struct err *err)
{
	struct bulk_pos *sel[LB_BULK_MAX];
	size_t i, n = 0, done;
	int k;

	for (i = 0; i < ng; i++)
		if (g[i].want)
			sel[n++] = &g[i];
	for (done = 0, k = LB_BULK_LOG; k >= 0; k--)
		while (n - done >= (1u << k)) {
			if (bulk_read(s, sel + done, k, g, ng, err) < 0)
				return -1;
			done += 1u << k;
		}
	return 0;
}

static int bulk_chunk_apply(struct state *s, struct bulk_pos *g, size_t ng,
			    struct err *err)
{
	struct bulk_pos *sel[LB_BULK_MAX];
	size_t i, n, done;
	int k;

	for (i = 0; i < ng; i++)
		if (bulk_apply_pos(s, &g[i], err) < 0)
			return -1;
	for (i = n = 0; i < ng; i++) {
		if (g[i].fresh && !g[i].dirty &&
		    pos_drop(s, g[i].key, err) < 0)
			return -1;
		if (g[i].dirty)
			sel[n++] = &g[i];
	}
	for (done = 0, k = LB_BULK_LOG; k >= 0; k--)
		while (n - done >= (1u << k)) {
			if (bulk_write(s, sel + done, k, err) < 0)
				return -1;
			done += 1u << k;
		}
	return 0;
}

/* The events of the sorted batch, duplicates left out, in statements of
 * 2^k rows (recs: room for the batch); a record whose txn_id the store
 * already had is marked a replay. Both bulk applies do this between
 * reading and applying the positions. */
static int bulk_events_batch(struct state *s, struct lb_rec **recs,
			     struct err *err)
{
	struct load_batch *b = &s->lb;
	size_t i, n = 0;

	for (i = 0; i < b->n; i++) {
		b->r[i].ins = 0;
		if (!b->r[b->order[i]].dupe)
			recs[n++] = &b->r[b->order[i]];
	}
	if (bulk_runs(s, recs, sizeof(*recs), n, bulk_events_fn, err) < 0)
		return -1;
	for (i = 0; i < b->n; i++)
		b->r[i].ev.replay = !b->r[i].dupe && !b->r[i].ins;
	return 0;
}

static int bulk_chunk(struct state *s, struct bulk_pos *g, size_t ng,
		      struct err *err)
{
	if (bulk_chunk_read(s, g, ng, err) < 0)
		return -1;
	return bulk_chunk_apply(s, g, ng, err);
}

/* The bulk apply of the sorted batch on PostgreSQL, without the writer
 * lock: every position of the batch locked and read first, in key order
 * (POS_FRESH above), then the events, then applied and written. */
static int pg_bulk_apply(struct state *s, struct err *err)
{
	struct load_batch *b = &s->lb;
	struct lb_rec **recs = NULL;
	struct bulk_pos *g = NULL;
	size_t i, j, ng = 0, step;
	int rc = -1;

	if (!(recs = malloc(b->n * sizeof(*recs))) ||
	    !(g = malloc(b->n * sizeof(*g)))) {
		err_set(err, E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < b->n; i = j) {
		for (j = i + 1; j < b->n && !lb_keycmp(&b->r[b->order[i]],
						       &b->r[b->order[j]]);
		     j++)
			;
		memset(&g[ng], 0, sizeof(g[ng]));
		stock_pos_init(&g[ng].cur);
		g[ng].first = i;
		g[ng].n = j - i;
		g[ng].key = &b->r[b->order[i]];
		g[ng++].want = 1;
	}
	for (i = 0; i < ng; i += step) {
		step = ng - i < LB_BULK_MAX ? ng - i : LB_BULK_MAX;
		if (bulk_chunk_read(s, g + i, step, err) < 0)
			goto out;
	}
	if (bulk_events_batch(s, recs, err) < 0)
		goto out;
	for (i = 0; i < ng; i += step) {
		step = ng - i < LB_BULK_MAX ? ng - i : LB_BULK_MAX;
		if (bulk_chunk_apply(s, g + i, step, err) < 0)
			goto out;
	}
	rc = 0;
out:
	free(recs);
	free(g);
	return rc;
}

/* The bulk apply of the sorted batch (see above). */
static int lb_bulk_apply(struct state *s, struct err *err)
{
	struct load_batch *b = &s->lb;
	struct lb_rec **recs = NULL;
	struct bulk_pos *g = NULL;
	size_t i, j, w, ng = 0;
	int rc = -1;

	if (!(recs = malloc(b->n * sizeof(*recs))) ||
	    !(g = malloc(LB_BULK_MAX * sizeof(*g)))) {
		err_set(err, E_NOMEM, "out of memory");
		goto out;
	}
	if (bulk_events_batch(s, recs, err) < 0)
		goto out;
	for (i = 0; i < b->n; i = j) {
		struct bulk_pos *x = &g[ng];

		for (j = i + 1; j < b->n && !lb_keycmp(&b->r[b->order[i]],
						       &b->r[b->order[j]]);
		     j++)
			;
		memset(x, 0, sizeof(*x));
		stock_pos_init(&x->cur);
		x->first = i;
		x->n = j - i;
		x->key = &b->r[b->order[i]];
		for (w = i; w < j && !x->want; w++) {
			const struct lb_rec *e = &b->r[b->order[w]];

			x->want = !e->dupe && !e->kept && e->ins;
		}
		if (++ng == LB_BULK_MAX || j == b->n) {
			if (bulk_chunk(s, g, ng, err) < 0)
				goto out;
			ng = 0;
		}
	}
	rc = 0;
out:
	free(recs);
	free(g);
	return rc;
}

void state_load_bulk(struct state *s, int on)
{
	s->lb.bulk_on = on;
}

void state_lb_free(struct state *s)
{
	int k, i;

	for (k = 0; k < LB_BULK_N; k++)
		for (i = 0; i <= LB_BULK_LOG; i++) {
			db_finalize(s->lb.bulk[k][i]);
			s->lb.bulk[k][i] = NULL;
		}
	free(s->lb.r);
	free(s->lb.order);
	free(s->lb.seen);
	arena_release(&s->lb.a);
}

void state_lb_discard(struct state *s)
{
	s->lb.n = 0;
	s->lb.source = s->lb.file = NULL;
	arena_reset(&s->lb.a);
}

/* Applies the batch (see struct load_batch). */
int state_lb_apply(struct state *s, struct err *err)
{
	struct load_batch *b = &s->lb;
	size_t i, j;
	int rc = 0;

	if (!b->n)
		return 0;
	if (b->n > 1 || b->bulk_on || state_is_pg(s))
		lb_dupes(b);
	/* txn_ids only the digest ledger holds are replays (state_fold.c) */
	if (state_fold_replays(s, err) < 0) {
		state_lb_discard(s);
		return -1;
	}
	for (i = 0; i < b->n; i++)
		b->order[i] = (uint32_t)i;
	if (b->n > 1)
		qsort_r(b->order, b->n, sizeof(*b->order), lb_cmp, b->r);
	if (b->bulk_on || state_is_pg(s)) {
		rc = state_is_pg(s) ? pg_bulk_apply(s, err)
				    : lb_bulk_apply(s, err);
		state_lb_discard(s);
		return rc;
	}
	for (i = 0; i < b->n && !rc; i = j) {
		for (j = i + 1; j < b->n && !lb_keycmp(&b->r[b->order[i]],
						       &b->r[b->order[j]]);
		     j++)
			;
		rc = lb_position(s, b->order + i, j - i, err);
	}
	state_lb_discard(s);
	return rc;
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
	if (!b->a.block_size)
		arena_init(&b->a, 256 * 1024, LB_BYTES);
	if (!b->r || b->max != b->want) {
		if (state_lb_apply(s, err) < 0)
			return -1;
		free(b->r);
		free(b->order);
		free(b->seen);
		b->max = b->want;
		b->r = malloc(b->max * sizeof(*b->r));
		b->order = malloc(b->max * sizeof(*b->order));
		b->seen = malloc(lb_hash_size(b->max) * sizeof(*b->seen));
		if (!b->r || !b->order || !b->seen) {
			free(b->r);
			free(b->order);
			free(b->seen);
			b->r = NULL;
			b->order = NULL;
			b->seen = NULL;
			return err_set(err, E_NOMEM, "out of memory");
		}
	}
	/* A record without a key cannot be sorted: it is applied on its
	 * own, as one at a time (the store refuses it: NOT NULL). */
	if ((alone || b->n == b->max) && state_lb_apply(s, err) < 0)
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
		/* The arena is full: apply what waits, then try again. */
		if (state_lb_apply(s, err) < 0)
			return -1;
		arena_reset(&b->a);
	}
	e->stats = stats;
	e->ev.arr = arrival_of(&s->arr);
	e->doc = doc;
	e->ev.as_of = as_of;
	e->ev.qty = q;
	e->line = r->lin.line;
	e->st = st;
	e->ev.mode = mode;
	e->kept = (unsigned char)kept;
	b->n++;
	if (!s->lb_on || alone || tries == 2 || b->n == b->max)
		return state_lb_apply(s, err);
	return 0;
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

/* PostgreSQL: locks position (sku, loc, st) as a load does (POS_FRESH
 * above) before taking a document's events back; recompute then writes
 * or deletes the row, the placeholder too. */
static int pos_lock(struct state *s, const char *sku, const char *loc,
		    enum stock_state st, struct err *err)
{
	static const char lock[] =
		POS_NEW_PG_HEAD POS_NEW_PG_ROW POS_NEW_PG_TAIL;

	if (!state_is_pg(s))
		return 0;
	return state_sql_rows(s, lock,
			      SA(SA_T(sku), SA_T(loc), SA_I(st), SA_I(POS_FRESH)),
			      NULL, NULL, err);
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
		if (pos_lock(s, keys[i].sku, keys[i].loc, keys[i].st, err) < 0)
			goto out;
	if (!(p = state_stmt(s, S_EV_DOC_DEL, err)))
		goto out;
	db_bind_int64(p, 1, doc);
	if (state_step_done(p, err) < 0)
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
