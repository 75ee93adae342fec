/* state_load_pg.c - the load's bulk apply (PostgreSQL's way, and
 * SQLite's under state_load_bulk) and the row locks of a load on
 * PostgreSQL; moved out of state_load.c, which keeps the batch, the
 * one-at-a-time apply and the rules of master data (see state_int.h).
 *
 * Tables written: stock_events and positions.
 */
#include "state.h"
#include "state_int.h"
#include "state_txn.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "transforms/model/stock.h"

/* ---- the bulk apply ----------------------------------------------------
 *
 * On PostgreSQL every statement is a round trip (~100 us on localhost),
 * and one statement per record made the load 20x slower than SQLite's.
 * There a batch goes in a few multi-row statements instead, with the
 * same result as lb_position's one record at a time:
 *   1. every event of the batch whose txn_id was new in the ledger
 *      (state_txn_mark, before: the others are the batch's own dupes
 *      and replays), in position order: on PostgreSQL by one COPY
 *      (copy_events), on SQLite in INSERT ... VALUES (...), (...);
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
	" file, line, applied, arr_file, arr_member, arr_line, txn_seq,"  \
	" txn_rec"
#define EV_NCOLS 17

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

/* Row locks of a load on PostgreSQL (no writer lock: db.h). The
 * positions of a batch are locked (pg_bulk_apply) by one statement per
 * group of keys: an upsert that makes a new position as a placeholder
 * row (POS_FRESH in last_as_of, read back as "not found") and locks an
 * existing one by a no-op update (WHERE false: locked, not rewritten).
 * One statement does both in the VALUES order, which is the keys' sorted
 * order, so every load takes its locks in one global order and two loads
 * never wait for each other in a circle over positions (a SELECT ... FOR
 * UPDATE of the existing rows beside an INSERT of the new ones would
 * take them in two passes per group, and two loads could each hold a key
 * the other waits for). The txn_id ledger's keys (state_txn.c, in key
 * order in every load) and the stock events (a plain COPY that waits
 * for nothing) are written before the positions are locked, as long as
 * the transaction holds no position: a load waits for a ledger key only
 * when another load wrote the same key uncommitted (the same txn_id in
 * two documents), and while it waits it holds no position, so no circle
 * goes through one. A transaction that holds positions already (an
 * earlier batch of its document, an unload) locks a batch's positions
 * before its ledger keys instead, as every load did before. A placeholder
 * nothing applied to is deleted before the commit: none is ever seen
 * outside its transaction. */
#define POS_FRESH INT64_MIN
/* The batch's locking upsert writes whole rows: a position whose records
 * apply to a new position without reading anything (pg_bulk_apply's
 * bulk_presume) goes in with its final values, the others as
 * placeholders. RETURNING names the rows it made: those were new. */
#define POS_LOCK_PG_TAIL                                                 \
	" ON CONFLICT(sku, location, state) DO UPDATE SET"                \
	" qty = positions.qty WHERE false RETURNING sku, location, state"
#define POS_NEW_PG_HEAD                                                  \
	"INSERT INTO positions(sku, location, state, qty, last_as_of) VALUES"
#define POS_NEW_PG_ROW "(?, ?, CAST(? AS BIGINT), 0, CAST(? AS BIGINT))"
#define POS_NEW_PG_TAIL                                                  \
	" ON CONFLICT(sku, location, state) DO UPDATE SET"                \
	" qty = positions.qty WHERE false"                                \
	" RETURNING sku, location, state, qty,"                           \
	" snap_as_of, snap_txn, last_as_of, delta_as_of, snap_arr_file,"  \
	" snap_arr_member, snap_arr_line"

/* SQLite's events: OR IGNORE, so that no constraint can abort the
 * statement (a NOT NULL is ABORT otherwise) and SQLite opens no
 * statement journal for it, which copied each page of stock_events and
 * its two indexes the statement touched first (spilled to a file past
 * 64 KiB, db_sqlite.c). bulk_events checks that every row went in. */
#define EV_HEAD_LITE "INSERT OR IGNORE INTO stock_events(" EV_COLS ") VALUES"

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
		[LB_BULK_EV] = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		[LB_BULK_POS_GET] = "(?, ?, CAST(? AS BIGINT))",
		[LB_BULK_POS_PUT] = "(?,?,?,?,?,?,?,?,?,?,?)",
	};
	static const char *const tail[LB_BULK_N] = {
		[LB_BULK_EV] = "",
		[LB_BULK_POS_GET] = ")",
		[LB_BULK_POS_PUT] =
			POS_UPSERT_SET,
	};
	const char *h = pg && kind == LB_BULK_POS_GET ? POS_GET_PG_HEAD
						      : head[kind],
		   *t = pg && kind == LB_BULK_POS_GET ? POS_GET_PG_TAIL
						      : tail[kind],
		   *r = row[kind];
	size_t hl, rl, tl, o;
	char *sql;
	unsigned i;

	if (kind == LB_BULK_EV && !pg)
		h = EV_HEAD_LITE;
	if (kind == LB_BULK_POS_NEW) {  /* PostgreSQL only */
		h = head[LB_BULK_POS_PUT];
		r = row[LB_BULK_POS_PUT];
		t = POS_LOCK_PG_TAIL;
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
	/* Events bind by reference (their records outlive the step): a
	 * copy was a malloc per text value on SQLite. */
	*p = db_prepare(s->db, sql, kind == LB_BULK_EV ? DB_BIND_REF : 0,
			err);
	free(sql);
	return *p;
}

/* Inserts the events of recs[0..n) (n = 2^k) in one statement. */
static int bulk_events(struct state *s, struct lb_rec *const *recs, int k,
		       struct err *err)
{
	struct db_stmt *p = bulk_stmt(s, LB_BULK_EV, k, err);
	unsigned i, n = 1u << k;
	int c;

	if (!p)
		return -1;
	for (i = 0; i < n; i++) {
		const struct lb_rec *e = recs[i];

		c = (int)i * EV_NCOLS;
		db_bind_int64(p, c + 1, e->doc);
		db_bind_text(p, c + 2, e->sku);
		db_bind_text(p, c + 3, e->loc);
		db_bind_int64(p, c + 4, e->st);
		db_bind_int64(p, c + 5, e->ev.qty);
		db_bind_int64(p, c + 6, e->ev.mode == STOCK_DELTA);
		db_bind_int64(p, c + 7, e->ev.as_of);
		state_bind_txn(p, c + 8, c + 16, e);
		db_bind_text(p, c + 9, e->src_doc ? NULL : e->source);
		db_bind_text(p, c + 10, e->file_doc ? NULL : e->file);
		db_bind_int64(p, c + 11, (int64_t)e->line);
		db_bind_int64(p, c + 12, !e->kept);
		state_bind_arrival(p, c + 13, &e->ev.arr);
	}
	if (state_step_done(p, err) < 0) {
		err_locate(err, recs[0]->file, recs[0]->line, 0, NULL);
		return -1;
	}
	/* OR IGNORE (EV_HEAD_LITE) drops a row a constraint refuses */
	if (!state_is_pg(s) && db_changes(s->db) != (int64_t)n) {
		err_set(err, E_INTERNAL, "stock events: stored %lld rows of %u",
			(long long)db_changes(s->db), n);
		err_locate(err, recs[0]->file, recs[0]->line, 0, NULL);
		return -1;
	}
	return 0;
}

/* PostgreSQL: the events by COPY instead (db.h: db_copy_begin). The
 * multi-row INSERT cost the server a parse and bind of 17 values per
 * event and the client a wait per 256 events; COPY streams them, the
 * server inserting while the client writes the next rows. The same
 * columns, values and order (ids follow it) as bulk_events. */
#define EV_COPY "COPY stock_events(" EV_COLS ") FROM STDIN"
#define EV_COPY_SEND (256u << 10)   /* bytes per db_copy_put */
#define EV_COPY_MAX (64u << 20)     /* one row never comes near: a
				     * batch's strings are LB_BYTES */

/* Appends v in decimal and then sep. */
static void copy_int(struct buf *b, int64_t v, char sep)
{
	char d[24], *w = d + sizeof(d);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	*--w = sep;
	do
		*--w = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--w = '-';
	buf_add(b, w, (size_t)(d + sizeof(d) - w));
}

static void copy_text(struct buf *b, const char *v, char sep)
{
	db_copy_field(b, v);
	buf_addc(b, sep);
}

/* One event as a row of EV_COLS. */
static void copy_event(struct buf *b, const struct lb_rec *e)
{
	copy_int(b, e->doc, '\t');
	copy_text(b, e->sku, '\t');
	copy_text(b, e->loc, '\t');
	copy_int(b, e->st, '\t');
	copy_int(b, e->ev.qty, '\t');
	copy_int(b, e->ev.mode == STOCK_DELTA, '\t');
	copy_int(b, e->ev.as_of, '\t');
	copy_text(b, e->txn_doc ? NULL : e->ev.txn, '\t');
	copy_text(b, e->src_doc ? NULL : e->source, '\t');
	copy_text(b, e->file_doc ? NULL : e->file, '\t');
	copy_int(b, (int64_t)e->line, '\t');
	copy_int(b, !e->kept, '\t');
	copy_int(b, e->ev.arr.file, '\t');
	copy_int(b, e->ev.arr.member, '\t');
	copy_int(b, e->ev.arr.line, '\t');
	if (e->txn_doc) {
		copy_int(b, e->txn_seq, '\t');
		copy_int(b, e->txn_rec, '\n');
	} else {
		buf_add(b, "\\N\t\\N\n", 6);
	}
}

/* Inserts the events recs[0..n) by one COPY; the server's count of rows
 * must be n (a row split or joined by a missed escape would not be). */
static int copy_events(struct state *s, struct lb_rec *const *recs,
		       size_t n, struct err *err)
{
	struct buf b = BUF_INIT(EV_COPY_MAX);
	size_t i;
	int ok = 0;

	if (!n)
		return 0;
	if (db_copy_begin(s->db, EV_COPY, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		copy_event(&b, recs[i]);
		if (b.err) {
			err_set(err, b.err, "stock events: %s",
				b.err == E_NOMEM ? "out of memory"
						 : "row too long for COPY");
			err_locate(err, recs[i]->file, recs[i]->line, 0, NULL);
			goto out;
		}
		if (b.len < EV_COPY_SEND && i + 1 < n)
			continue;
		if (db_copy_put(s->db, b.ptr, b.len, err) < 0)
			goto out;
		buf_reset(&b);
	}
	ok = 1;
out:
	buf_release(&b);
	if (db_copy_end(s->db, ok, err) < 0) {
		if (ok)
			err_locate(err, recs[0]->file, recs[0]->line, 0, NULL);
		return -1;
	}
	if (db_changes(s->db) != (int64_t)n)
		return err_set(err, E_INTERNAL,
			       "stock events: COPY stored %lld rows of %zu",
			       (long long)db_changes(s->db), n);
	return 0;
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

int state_lb_bulk_events(struct state *s, struct lb_rec *const *recs,
			 size_t n, struct err *err)
{
	return bulk_runs(s, (void *)recs, sizeof(*recs), n, bulk_events_fn,
			 err);
}

/* One position of a bulk chunk: its records order[first..first + n),
 * the position as read and as applied. */
struct bulk_pos {
	size_t first, n;
	int want;                  /* some record may apply: read it */
	int dirty;
	int fresh;                 /* PostgreSQL: the locking upsert made
				    * the row (a placeholder, or pre's) */
	int pre;                   /* PostgreSQL: cur holds what applying
				    * to a new position gives (bulk_presume) */
	struct stock_pos cur;
	const struct lb_rec *key;
};

static int bulk_pos_cmp(const void *k, const void *x)
{
	return state_lb_keycmp(k, ((const struct bulk_pos *)x)->key);
}

/* The position of g[0..n) a row's first three columns name, NULL when
 * none. */
static struct bulk_pos *bulk_row_pos(struct db_stmt *p, struct bulk_pos *all,
				     size_t nall)
{
	struct lb_rec key;

	memset(&key, 0, sizeof(key));
	key.sku = db_col_text(p, 0);
	key.loc = db_col_text(p, 1);
	key.st = (enum stock_state)db_col_int64(p, 2);
	if (!key.sku || !key.loc)
		return NULL;
	return bsearch(&key, all, nall, sizeof(*all), bulk_pos_cmp);
}

/* The rows of a read of positions into their bulk_pos. */
static int bulk_read_rows(struct db_stmt *p, struct bulk_pos *all,
			  size_t nall, struct err *err)
{
	struct bulk_pos *x;
	int rc;

	while ((rc = db_step(p, err)) == 1) {
		if (!(x = bulk_row_pos(p, all, nall)))
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

/* Reads the positions of g[0..n) (n = 2^k) into their cur (found stays
 * 0 for a new position). */
static int bulk_read(struct state *s, struct bulk_pos *const *g, int k,
		     struct bulk_pos *all, size_t nall, struct err *err)
{
	struct db_stmt *p;
	unsigned i, n = 1u << k;

	if (!(p = bulk_stmt(s, LB_BULK_POS_GET, k, err)))
		return -1;
	for (i = 0; i < n; i++) {
		db_bind_text(p, (int)i * 3 + 1, g[i]->key->sku);
		db_bind_text(p, (int)i * 3 + 2, g[i]->key->loc);
		db_bind_int64(p, (int)i * 3 + 3, g[i]->key->st);
	}
	return bulk_read_rows(p, all, nall, err);
}

/* Binds position (key, v) to parameters c + 1 .. c + 11 (POS_COLS). */
static void bind_pos(struct db_stmt *p, int c, const struct lb_rec *key,
		     const struct stock_pos *v)
{
	db_bind_text(p, c + 1, key->sku);
	db_bind_text(p, c + 2, key->loc);
	db_bind_int64(p, c + 3, key->st);
	db_bind_int64(p, c + 4, v->qty);
	if (v->snap_as_of == STOCK_NONE)
		db_bind_null(p, c + 5);
	else
		db_bind_int64(p, c + 5, v->snap_as_of);
	db_bind_text(p, c + 6, v->snap_as_of == STOCK_NONE ? NULL : v->snap_txn);
	db_bind_int64(p, c + 7, v->last_as_of);
	if (v->delta_as_of == STOCK_NONE)
		db_bind_null(p, c + 8);
	else
		db_bind_int64(p, c + 8, v->delta_as_of);
	state_bind_arrival(p, c + 9, &v->snap_arr);
}

/* PostgreSQL: locks the positions of g[0..n) (n = 2^k) in one locking
 * upsert (POS_FRESH, POS_LOCK_PG_TAIL above; WHERE false: an existing
 * row is locked, not rewritten); the rows it made are marked fresh. */
static int bulk_lock(struct state *s, struct bulk_pos *const *g, int k,
		     struct bulk_pos *all, size_t nall, struct err *err)
{
	struct db_stmt *p = bulk_stmt(s, LB_BULK_POS_NEW, k, err);
	struct stock_pos ph;
	struct bulk_pos *x;
	unsigned i, n = 1u << k;
	int rc;

	if (!p)
		return -1;
	stock_pos_init(&ph);
	ph.last_as_of = POS_FRESH;
	for (i = 0; i < n; i++)
		bind_pos(p, (int)i * 11, g[i]->key, g[i]->pre ? &g[i]->cur : &ph);
	while ((rc = db_step(p, err)) == 1)
		if ((x = bulk_row_pos(p, all, nall)))
			x->fresh = 1;
	db_reset(p);
	return rc < 0 ? -1 : 0;
}

/* Writes the positions of g[0..n) (n = 2^k) in one upsert. */
static int bulk_write(struct state *s, struct bulk_pos *const *g, int k,
		      struct err *err)
{
	struct db_stmt *p = bulk_stmt(s, LB_BULK_POS_PUT, k, err);
	unsigned i, n = 1u << k;

	if (!p)
		return -1;
	for (i = 0; i < n; i++)
		bind_pos(p, (int)i * 11, g[i]->key, &g[i]->cur);
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

	if (state_delta_sum_after(s, e->sku, e->loc, e->st, e->ev.as_of,
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
		state_lb_count(e, o, g->cur.qty);
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

typedef int bulk_pos_fn(struct state *s, struct bulk_pos *const *g, int k,
			struct bulk_pos *all, size_t nall, struct err *err);

/* Runs fn on sel[0..n) in statements of 2^k rows, largest first. */
static int bulk_sel_runs(struct state *s, struct bulk_pos **sel, size_t n,
			 struct bulk_pos *all, size_t nall, bulk_pos_fn *fn,
			 struct err *err)
{
	size_t done = 0;
	int k;

	for (k = LB_BULK_LOG; k >= 0; k--)
		while (n - done >= (1u << k)) {
			if (fn(s, sel + done, k, all, nall, err) < 0)
				return -1;
			done += 1u << k;
		}
	return 0;
}

/* Up to LB_BULK_MAX positions read (those a record may change). On
 * PostgreSQL they are locked first, and only the rows the lock did not
 * make are read: they see the rows under the locks already held. */
static int bulk_chunk_read(struct state *s, struct bulk_pos *g, size_t ng,
			   struct err *err)
{
	struct bulk_pos *sel[LB_BULK_MAX];
	size_t i, n = 0, m;

	for (i = 0; i < ng; i++)
		if (g[i].want)
			sel[n++] = &g[i];
	if (state_is_pg(s)) {
		if (bulk_sel_runs(s, sel, n, g, ng, bulk_lock, err) < 0)
			return -1;
		for (i = m = 0; i < n; i++) {
			/* applied again (and counted) from new, or read */
			if (sel[i]->pre)
				stock_pos_init(&sel[i]->cur);
			if (!sel[i]->fresh)
				sel[m++] = sel[i];
		}
		n = m;
	}
	return bulk_sel_runs(s, sel, n, g, ng, bulk_read, err);
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
		/* a row the lock made with its final values is written */
		if (g[i].dirty && !(g[i].fresh && g[i].pre))
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

/* The events of the sorted batch whose txn_id was new in the ledger, in
 * statements of 2^k rows (recs: room for the batch); a record whose
 * txn_id the ledger already had is marked a replay. Both bulk applies do
 * this between reading and applying the positions. */
static int bulk_events_batch(struct state *s, struct lb_rec **recs,
			     struct err *err)
{
	struct load_batch *b = &s->lb;
	size_t i, n = 0;

	if (state_txn_mark(s, err) < 0)
		return -1;
	for (i = 0; i < b->n; i++)
		if (!b->r[b->order[i]].dupe && b->r[b->order[i]].ins)
			recs[n++] = &b->r[b->order[i]];
	if (state_is_pg(s) ? copy_events(s, recs, n, err) < 0
			   : bulk_runs(s, recs, sizeof(*recs), n,
				       bulk_events_fn, err) < 0)
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

/* Whether a record of position g may apply: not a dupe of the batch, not
 * kept, new in the ledger (a replay changes nothing). */
static int bulk_pos_wants(const struct load_batch *b, const struct bulk_pos *g)
{
	const struct lb_rec *e;
	size_t w;

	for (w = g->first; w < g->first + g->n; w++) {
		e = &b->r[b->order[w]];
		if (!e->dupe && !e->kept && e->ins)
			return 1;
	}
	return 0;
}

/* Whether a record of position g is a replay (new to the batch, not
 * new to the ledger). */
static int bulk_pos_replays(const struct load_batch *b,
			    const struct bulk_pos *g)
{
	const struct lb_rec *e;
	size_t w;

	for (w = g->first; w < g->first + g->n; w++) {
		e = &b->r[b->order[w]];
		if (!e->dupe && !e->kept && !e->ins)
			return 1;
	}
	return 0;
}

/* PostgreSQL: applies g's records to a new position in g->cur without
 * counting them, and sets g->pre when something applied and nothing had
 * to be read (stock_needs_later: deltas of other loads). Then a new
 * position goes in with its final values in the locking upsert, neither
 * read nor written after; bulk_apply_pos applies its records again from
 * new, the same way, and counts them. Else g->cur is left new. When the
 * ledger comes after (a batch whose positions are locked first) every
 * record is presumed new, and a position with a replay is written after
 * all (pg_bulk_apply clears its pre). */
static void bulk_presume(struct state *s, struct bulk_pos *g)
{
	const uint32_t *idx = s->lb.order + g->first;
	const struct lb_rec *e;
	enum stock_outcome o;
	int applied = 0;
	size_t k;

	for (k = 0; k < g->n; k++) {
		e = &s->lb.r[idx[k]];
		if (e->dupe || e->kept)
			continue;
		if (stock_needs_later(&g->cur, &e->ev))
			goto none;
		o = stock_apply(&g->cur, &e->ev, 0);
		if (o == STOCK_OVERFLOW)
			goto none;
		applied |= o == STOCK_APPLIED;
	}
	if (applied) {
		g->pre = 1;
		return;
	}
none:
	stock_pos_init(&g->cur);
}

/* The bulk apply of the sorted batch on PostgreSQL, without the writer
 * lock (POS_FRESH above says why the locks are taken as they are).
 * Positions are locked as late as possible: the batch's ledger keys and
 * events go first, then its positions are locked and read in key order,
 * applied and written, and the locks are held only from there to the
 * commit (two documents that share positions wait for each other that
 * long; the ledger and the events insert were most of a load's time).
 * Only the positions a record may change are locked (a replay's are
 * not). Once the transaction holds position locks (an earlier batch of
 * the document, or an unload), a batch locks its positions first, as
 * before: a load never waits for a ledger key while holding a position. */
static int pg_bulk_apply(struct state *s, struct err *err)
{
	struct load_batch *b = &s->lb;
	struct lb_rec **recs = NULL;
	struct bulk_pos *g = NULL;
	size_t i, j, ng = 0, step;
	int rc = -1, late = !b->pos_held;

	if (!(recs = malloc(b->n * sizeof(*recs))) ||
	    !(g = malloc(b->n * sizeof(*g)))) {
		err_set(err, E_NOMEM, "out of memory");
		goto out;
	}
	if (late && bulk_events_batch(s, recs, err) < 0)
		goto out;
	for (i = 0; i < b->n; i = j) {
		for (j = i + 1; j < b->n && !state_lb_keycmp(&b->r[b->order[i]],
						       &b->r[b->order[j]]);
		     j++)
			;
		memset(&g[ng], 0, sizeof(g[ng]));
		stock_pos_init(&g[ng].cur);
		g[ng].first = i;
		g[ng].n = j - i;
		g[ng].key = &b->r[b->order[i]];
		g[ng].want = !late || bulk_pos_wants(b, &g[ng]);
		if (g[ng].want)
			bulk_presume(s, &g[ng]);
		b->pos_held |= g[ng++].want;
	}
	for (i = 0; i < ng; i += step) {
		step = ng - i < LB_BULK_MAX ? ng - i : LB_BULK_MAX;
		if (bulk_chunk_read(s, g + i, step, err) < 0)
			goto out;
	}
	if (!late) {
		if (bulk_events_batch(s, recs, err) < 0)
			goto out;
		/* presumed before the ledger said which are replays */
		for (i = 0; i < ng; i++)
			if (g[i].pre && bulk_pos_replays(b, &g[i]))
				g[i].pre = 0;
	}
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

/* The bulk apply of the sorted batch on SQLite (see above). */
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

		for (j = i + 1; j < b->n && !state_lb_keycmp(&b->r[b->order[i]],
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

/* PostgreSQL: locks position (sku, loc, st) as a load does (POS_FRESH
 * above) before taking a document's events back; recompute then writes
 * or deletes the row, the placeholder too. */
int state_pos_lock(struct state *s, const char *sku, const char *loc,
		    enum stock_state st, struct err *err)
{
	static const char lock[] =
		POS_NEW_PG_HEAD POS_NEW_PG_ROW POS_NEW_PG_TAIL;

	if (!state_is_pg(s))
		return 0;
	s->lb.pos_held = 1;
	return state_sql_rows(s, lock,
			      SA(SA_T(sku), SA_T(loc), SA_I(st), SA_I(POS_FRESH)),
			      NULL, NULL, err);
}

int state_lb_bulk_apply(struct state *s, struct err *err)
{
	return state_is_pg(s) ? pg_bulk_apply(s, err) : lb_bulk_apply(s, err);
}
