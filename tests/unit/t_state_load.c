/* t_state_load.c - batched stock loads (state_load_batching) against a
 * straightforward reference: an in-memory model of the position rules
 * applied one record at a time, as the store did before batches. Random
 * event sequences (snapshots, deltas, equal times, replayed txn_ids,
 * records kept unapplied, negative counts), loaded per document in one
 * transaction with batches of many sizes, must give the same positions
 * (every column), the same events and the same counts; and a document
 * taken back (state_unload_doc) must leave what the model leaves. Also:
 * a full batch applies itself, a rollback drops what waits, queries see
 * what waits, and state_positions_items_each joins the items. */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/store/state.h"
#include "pipeline/store/state_int.h" /* lb.pos.nruns: runs were spilled */
#include "t.h"
#include "t_store.h"

/* ---- the reference model ------------------------------------------ */

#define M_EVENTS 4096
#define M_POS 64

struct m_ev {
	char sku[8], loc[8], txn[32];
	int st, delta, doc, applied, alive;
	int64_t qty, as_of;
};

struct m_pos {
	char sku[8], loc[8];
	int st, found;
	int64_t qty, snap_as_of, last_as_of, delta_as_of;
	char snap_txn[32];
};

struct model {
	struct m_ev ev[M_EVENTS];
	int nev;
	struct m_pos pos[M_POS];
	int npos;
};

static struct m_pos *m_find(struct model *m, const char *sku, const char *loc,
			    int st, int create)
{
	int i;

	for (i = 0; i < m->npos; i++)
		if (m->pos[i].st == st && !strcmp(m->pos[i].sku, sku) &&
		    !strcmp(m->pos[i].loc, loc))
			return &m->pos[i];
	if (!create || m->npos == M_POS)
		return NULL;
	memset(&m->pos[m->npos], 0, sizeof(m->pos[0]));
	memcpy(m->pos[m->npos].sku, sku, strlen(sku) + 1);
	memcpy(m->pos[m->npos].loc, loc, strlen(loc) + 1);
	m->pos[m->npos].st = st;
	m->pos[m->npos].snap_as_of = INT64_MIN;
	m->pos[m->npos].delta_as_of = INT64_MIN;
	return &m->pos[m->npos++];
}

static int64_t m_delta_sum(const struct model *m, const char *sku,
			   const char *loc, int st, int64_t after)
{
	int64_t sum = 0;
	int i;

	for (i = 0; i < m->nev; i++) {
		const struct m_ev *e = &m->ev[i];

		if (e->alive && e->applied && e->delta && e->st == st &&
		    e->as_of > after && !strcmp(e->sku, sku) &&
		    !strcmp(e->loc, loc))
			sum += e->qty;
	}
	return sum;
}

/* One record, as the store applied records one by one. */
static void m_load(struct model *m, int doc, const struct m_ev *in, int kept,
		   struct load_stats *ls)
{
	struct m_ev *e;
	struct m_pos *p;
	int i;

	for (i = 0; i < m->nev; i++)
		if (m->ev[i].alive && !strcmp(m->ev[i].txn, in->txn)) {
			if (!kept)
				ls->dupes++;
			return;
		}
	e = &m->ev[m->nev++];
	*e = *in;
	e->doc = doc;
	e->applied = !kept;
	e->alive = 1;
	if (kept)
		return;
	p = m_find(m, e->sku, e->loc, e->st, 1);
	if (e->delta) {
		if (p->found && e->as_of <= p->snap_as_of) {
			ls->stale++;
			return;
		}
		p->qty += e->qty;
		if (e->as_of > p->delta_as_of)
			p->delta_as_of = e->as_of;
	} else {
		int64_t sum = 0;

		if (p->found && p->snap_as_of != INT64_MIN &&
		    (e->as_of < p->snap_as_of ||
		     (e->as_of == p->snap_as_of &&
		      strcmp(e->txn, p->snap_txn) < 0))) {
			ls->stale++;
			return;
		}
		if (p->found && p->delta_as_of > e->as_of)
			sum = m_delta_sum(m, e->sku, e->loc, e->st, e->as_of);
		p->qty = e->qty + sum;
		p->snap_as_of = e->as_of;
		snprintf(p->snap_txn, sizeof(p->snap_txn), "%s", e->txn);
	}
	if (e->as_of > p->last_as_of || !p->found)
		p->last_as_of = e->as_of;
	p->found = 1;
	if (p->qty < 0)
		ls->negative++;
	ls->applied++;
}

/* Takes a document back: its events go, its positions are recomputed
 * from what is left (latest snapshot by as_of then txn_id, plus the
 * deltas after it), or disappear when nothing applied is left. */
static void m_unload(struct model *m, int doc)
{
	int i, j, k;

	for (i = 0; i < m->nev; i++)
		if (m->ev[i].doc == doc)
			m->ev[i].alive = 0;
	for (k = 0; k < m->npos; k++) {
		struct m_pos *p = &m->pos[k];
		const struct m_ev *snap = NULL;
		int n = 0;

		p->last_as_of = 0;
		p->delta_as_of = INT64_MIN;
		for (j = 0; j < m->nev; j++) {
			const struct m_ev *e = &m->ev[j];

			if (!e->alive || !e->applied || e->st != p->st ||
			    strcmp(e->sku, p->sku) || strcmp(e->loc, p->loc))
				continue;
			if (!n++ || e->as_of > p->last_as_of)
				p->last_as_of = e->as_of;
			if (e->delta && e->as_of > p->delta_as_of)
				p->delta_as_of = e->as_of;
			if (!e->delta &&
			    (!snap || e->as_of > snap->as_of ||
			     (e->as_of == snap->as_of &&
			      strcmp(e->txn, snap->txn) > 0)))
				snap = e;
		}
		if (!n) {
			m->pos[k--] = m->pos[--m->npos];
			continue;
		}
		p->snap_as_of = snap ? snap->as_of : INT64_MIN;
		snprintf(p->snap_txn, sizeof(p->snap_txn), "%s",
			 snap ? snap->txn : "");
		p->qty = (snap ? snap->qty : 0) +
			 m_delta_sum(m, p->sku, p->loc, p->st, p->snap_as_of);
	}
}

/* ---- comparing the store with the model ---------------------------- */

static int pos_cmp(const void *a, const void *b)
{
	const struct m_pos *x = a, *y = b;
	int c = strcmp(x->sku, y->sku);

	if (!c)
		c = strcmp(x->loc, y->loc);
	return c ? c : x->st - y->st;
}

static int ev_cmp(const void *a, const void *b)
{
	return strcmp(((const struct m_ev *)a)->txn,
		      ((const struct m_ev *)b)->txn);
}

/* The model's positions and live events, in the text dump_db gives. */
static void dump_model(struct model *m, char *out, size_t n)
{
	static struct m_ev ev[M_EVENTS];
	size_t len = 0;
	int i, k = 0;

	qsort(m->pos, (size_t)m->npos, sizeof(m->pos[0]), pos_cmp);
	for (i = 0; i < m->npos && len < n; i++) {
		const struct m_pos *p = &m->pos[i];
		char snap[24] = "-", delta[24] = "-";

		if (p->snap_as_of != INT64_MIN)
			snprintf(snap, sizeof(snap), "%" PRId64, p->snap_as_of);
		if (p->delta_as_of != INT64_MIN)
			snprintf(delta, sizeof(delta), "%" PRId64,
				 p->delta_as_of);
		len += (size_t)snprintf(out + len, n - len,
					"P %s %s %d %" PRId64 " %s %s %" PRId64
					" %s\n",
					p->sku, p->loc, p->st, p->qty, snap,
					p->snap_as_of != INT64_MIN ? p->snap_txn
								   : "-",
					p->last_as_of, delta);
	}
	for (i = 0; i < m->nev; i++)
		if (m->ev[i].alive)
			ev[k++] = m->ev[i];
	qsort(ev, (size_t)k, sizeof(ev[0]), ev_cmp);
	for (i = 0; i < k && len < n; i++)
		len += (size_t)snprintf(out + len, n - len,
					"E %s %d %s %s %d %" PRId64 " %d %" PRId64
					" %d\n",
					ev[i].txn, ev[i].doc, ev[i].sku,
					ev[i].loc, ev[i].st, ev[i].qty,
					ev[i].delta, ev[i].as_of,
					ev[i].applied);
}

static void dump_db(const char *dir, char *out, size_t n)
{
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *p;
	size_t len = 0;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/state.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return;
	if (sqlite3_prepare_v2(db,
			       "SELECT sku, location, state, qty,"
			       " coalesce(snap_as_of, '-'),"
			       " coalesce(snap_txn, '-'), last_as_of,"
			       " coalesce(delta_as_of, '-') FROM positions"
			       " ORDER BY sku, location, state",
			       -1, &p, NULL) == SQLITE_OK) {
		while (sqlite3_step(p) == SQLITE_ROW && len < n)
			len += (size_t)snprintf(
				out + len, n - len, "P %s %s %d %lld %s %s %lld %s\n",
				sqlite3_column_text(p, 0),
				sqlite3_column_text(p, 1),
				sqlite3_column_int(p, 2),
				(long long)sqlite3_column_int64(p, 3),
				sqlite3_column_text(p, 4),
				sqlite3_column_text(p, 5),
				(long long)sqlite3_column_int64(p, 6),
				sqlite3_column_text(p, 7));
		sqlite3_finalize(p);
	}
	if (sqlite3_prepare_v2(db,
			       "SELECT txn_id, doc, sku, location, state, qty,"
			       " delta, as_of, applied FROM stock_events"
			       " ORDER BY txn_id",
			       -1, &p, NULL) == SQLITE_OK) {
		while (sqlite3_step(p) == SQLITE_ROW && len < n)
			len += (size_t)snprintf(
				out + len, n - len, "E %s %d %s %s %d %lld %d %lld %d\n",
				sqlite3_column_text(p, 0),
				sqlite3_column_int(p, 1),
				sqlite3_column_text(p, 2),
				sqlite3_column_text(p, 3),
				sqlite3_column_int(p, 4),
				(long long)sqlite3_column_int64(p, 5),
				sqlite3_column_int(p, 6),
				(long long)sqlite3_column_int64(p, 7),
				sqlite3_column_int(p, 8));
		sqlite3_finalize(p);
	}
	sqlite3_close(db);
}

/* ---- random documents ----------------------------------------------- */

struct gen_rec {
	struct m_ev e;
	int kept;
	char qty[24], as_of[24];
};

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static const char *const g_states[] = {"on_hand", "reserved"};

/* n records of document doc; txn_ids are sometimes those of earlier
 * records (any key, this document or an earlier one). */
static void gen_doc(uint64_t *seed, int doc, struct gen_rec *r, int n,
		    struct gen_rec *all, int nall)
{
	static const char *const skus[] = {"A", "B", "C", "D"};
	static const char *const locs[] = {"L1", "L2"};
	int i;

	for (i = 0; i < n; i++) {
		struct m_ev *e = &r[i].e;
		uint64_t x = rnd(seed);

		memset(&r[i], 0, sizeof(r[i]));
		snprintf(e->sku, sizeof(e->sku), "%s", skus[x % 4]);
		snprintf(e->loc, sizeof(e->loc), "%s", locs[x / 4 % 2]);
		e->st = (int)(x / 8 % 2);
		e->delta = x / 16 % 10 < 3;
		e->qty = ((int64_t)(x / 160 % 26) - (e->delta ? 12 : 3)) *
			 DEC_SCALE;
		/* few distinct times: equal-time snapshots are common */
		e->as_of = 1795132800 + (int64_t)(x / 4160 % 6) * 3600;
		r[i].kept = x / 24960 % 100 < 12;
		x = rnd(seed);
		if (x % 100 < 6 && nall + i > 0) {
			int j = (int)(x / 100 % (uint64_t)(nall + i));
			const struct gen_rec *o = j < nall ? &all[j]
							   : &r[j - nall];

			snprintf(e->txn, sizeof(e->txn), "%s", o->e.txn);
		} else {
			snprintf(e->txn, sizeof(e->txn), "d%d-%03d-%c", doc,
				 i, (char)('a' + x / 100 % 26));
		}
		snprintf(r[i].qty, sizeof(r[i].qty), "%" PRId64,
			 e->qty / DEC_SCALE);
		snprintf(r[i].as_of, sizeof(r[i].as_of),
			 "2026-11-20T%02d:00:00Z",
			 (int)((e->as_of - 1795132800) / 3600));
	}
}

static struct canon_record to_canon(const struct gen_rec *g)
{
	struct canon_record r;

	memset(&r, 0, sizeof(r));
	r.kind = CANON_STOCK;
	r.v[STOCK_SKU] = g->e.sku;
	r.v[STOCK_LOCATION] = g->e.loc;
	r.v[STOCK_STATE] = g_states[g->e.st];
	r.v[STOCK_QUANTITY] = g->qty;
	r.v[STOCK_MODE] = g->e.delta ? "delta" : "snapshot";
	r.v[STOCK_AS_OF] = g->as_of;
	r.v[STOCK_TXN_ID] = g->e.txn;
	r.lin.source = "s";
	r.lin.file = "f.csv";
	r.lin.line = 2;
	return r;
}

/* Loads doc's records in one transaction, batched with at most cap
 * records per batch (0: not batched), like the load stage. */
static int load_doc(struct state *st, int doc, const struct gen_rec *r,
		    int n, size_t cap, struct load_stats *ls, struct err *e)
{
	int i;

	memset(ls, 0, sizeof(*ls));
	if (state_begin(st, e) < 0)
		return -1;
	if (cap) {
		state_load_batch_max(st, cap);
		state_load_batching(st);
	}
	if (state_unload_doc(st, doc, e) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		struct canon_record c = to_canon(&r[i]);

		if ((r[i].kept ? state_keep_unapplied(st, doc, &c, e)
			       : state_load_record(st, doc, &c, ls, e)) < 0)
			goto fail;
	}
	if (state_load_flush(st, e) < 0)
		goto fail;
	return state_commit(st, e);
fail:
	state_rollback(st);
	return -1;
}

#define NDOC 3
#define NREC 300

/* The random documents of the tests below, loaded with every batch size
 * (bulk: in multi-row statements, PostgreSQL's way; chunk: the SQLite
 * ledger's keys per multi-row INSERT, 0 the default) and compared with
 * the model after each document and after a rerun of one. */
static void batches_match(int bulk, size_t chunk)
{
	static struct gen_rec all[NDOC * NREC];
	static struct model m;
	static char want[1 << 17], got[1 << 17];
	static const size_t caps[] = {0, 1, 2, 3, 7, 64, 65536};
	size_t c;
	int seed;

	for (seed = 1; seed <= 4; seed++) {
		uint64_t g = (uint64_t)seed;
		int d, i;

		for (d = 0; d < NDOC; d++)
			gen_doc(&g, d + 1, all + d * NREC, NREC, all,
				d * NREC);
		for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
			struct state *st;
			struct err e = ERR_INIT;
			struct load_stats ls, ms;
			char dir[32];

			snprintf(dir, sizeof(dir), "s%d-%zu-%d-%zu", seed,
				 caps[c], bulk, chunk);
			memset(&m, 0, sizeof(m));
			T_OK(state_open(dir, &st, &e), &e);
			state_load_bulk(st, bulk);
			st->lb.txn_chunk = chunk;
			for (d = 0; d < NDOC; d++) {
				memset(&ms, 0, sizeof(ms));
				for (i = 0; i < NREC; i++)
					m_load(&m, d + 1, &all[d * NREC + i].e,
					       all[d * NREC + i].kept, &ms);
				T_OK(load_doc(st, d + 1, all + d * NREC, NREC,
					      caps[c], &ls, &e),
				     &e);
				T_EQ_INT(ls.applied, ms.applied);
				T_EQ_INT(ls.dupes, ms.dupes);
				T_EQ_INT(ls.stale, ms.stale);
				T_EQ_INT(ls.negative, ms.negative);
				dump_model(&m, want, sizeof(want));
				dump_db(dir, got, sizeof(got));
				T_EQ_STR(got, want);
			}
			/* A rerun takes document 2 back, then loads it again
			 * (batched differently): back where it was. */
			T_OK(state_begin(st, &e), &e);
			T_OK(state_unload_doc(st, 2, &e), &e);
			T_OK(state_commit(st, &e), &e);
			m_unload(&m, 2);
			dump_model(&m, want, sizeof(want));
			dump_db(dir, got, sizeof(got));
			T_EQ_STR(got, want);
			memset(&ms, 0, sizeof(ms));
			for (i = 0; i < NREC; i++)
				m_load(&m, 2, &all[NREC + i].e,
				       all[NREC + i].kept, &ms);
			T_OK(load_doc(st, 2, all + NREC, NREC,
				      caps[(c + 3) % (sizeof(caps) /
						      sizeof(caps[0]))],
				      &ls, &e),
			     &e);
			T_EQ_INT(ls.applied, ms.applied);
			T_EQ_INT(ls.dupes, ms.dupes);
			T_EQ_INT(ls.stale, ms.stale);
			T_EQ_INT(ls.negative, ms.negative);
			dump_model(&m, want, sizeof(want));
			dump_db(dir, got, sizeof(got));
			T_EQ_STR(got, want);
			state_close(st);
		}
	}
}

T_TEST(state_load_batches_match_one_by_one)
{
	batches_match(0, 0);
}

T_TEST(state_load_bulk_matches_one_by_one)
{
	batches_match(1, 0);
}

/* The ledger's keys in multi-row statements of 2 and 5 (the documents
 * replay earlier ones' txn_ids, so chunks with keys already there are
 * undone and asked one at a time): the same marks as one at a time. */
T_TEST(state_load_ledger_chunks_match_one_by_one)
{
	batches_match(0, 2);
	batches_match(0, 5);
}

/* The batch's sort (state_lb_cmp, first by state_lb_skey's 8 bytes)
 * gives strcmp's order of sku, then location, state and arrival: skus
 * shorter and longer than 8 bytes, equal in their first 8, empty, with
 * bytes above 0x7f. */
T_TEST(state_lb_sort_is_strcmp_order)
{
	static const char *const skus[] = {
		"KW-0000013", "KW-0000012", "KW-00000", "KW-0000", "KW-000001",
		"", "A", "\xc3\xa9t\xc3\xa9", "\xff", "KW-00000130", "a",
		"KW-0007932", "072385773167", "0723857731", "Z", "KW-0000013"};
	static const char *const locs[] = {"L2", "L1", "L10", ""};
	enum { N = 96 };
	struct lb_rec r[N];
	uint32_t order[N];
	size_t i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < N; i++) {
		r[i].sku = skus[(i * 7) % (sizeof(skus) / sizeof(skus[0]))];
		r[i].loc = locs[(i * 5) % 4];
		r[i].st = (enum stock_state)(i % 3);
		r[i].skey = state_lb_skey(r[i].sku);
		order[i] = (uint32_t)i;
	}
	qsort_r(order, N, sizeof(*order), state_lb_cmp, r);
	for (i = 1; i < N; i++) {
		const struct lb_rec *a = &r[order[i - 1]], *b = &r[order[i]];
		int c = strcmp(a->sku, b->sku);

		if (!c)
			c = strcmp(a->loc, b->loc);
		if (!c)
			c = (a->st > b->st) - (a->st < b->st);
		if (!c)
			c = order[i - 1] < order[i] ? -1 : 1;
		if (c >= 0)
			T_FAIL("out of order at %zu: '%s' '%s' after '%s' '%s'",
			       i, b->sku, b->loc, a->sku, a->loc);
	}
}

static struct canon_record snap(const char *sku, const char *qty,
				const char *txn)
{
	struct canon_record r;

	memset(&r, 0, sizeof(r));
	r.kind = CANON_STOCK;
	r.v[STOCK_SKU] = sku;
	r.v[STOCK_LOCATION] = "L";
	r.v[STOCK_STATE] = "on_hand";
	r.v[STOCK_QUANTITY] = qty;
	r.v[STOCK_MODE] = "snapshot";
	r.v[STOCK_AS_OF] = "2026-11-20T06:00:00Z";
	r.v[STOCK_TXN_ID] = txn;
	r.lin.source = "s";
	r.lin.file = "f.csv";
	r.lin.line = 7;
	return r;
}

static int count_pos(void *ud, const struct state_position *p)
{
	(void)p;
	(*(int *)ud)++;
	return 0;
}

T_TEST(state_load_batch_full_rollback_and_reads)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct load_stats ls;
	struct canon_record r;
	int n = 0;

	memset(&ls, 0, sizeof(ls));
	T_OK(state_open("st", &st, &e), &e);
	state_load_batch_max(st, 3);
	/* A full batch is written as a sorted run (state_spill.c), not
	 * applied: the counts arrive with the flush or a read. */
	T_OK(state_begin(st, &e), &e);
	state_load_batching(st);
	r = snap("A", "1", "t1");
	T_OK(state_load_record(st, 1, &r, &ls, &e), &e);
	r = snap("B", "2", "t2");
	T_OK(state_load_record(st, 1, &r, &ls, &e), &e);
	T_EQ_INT(ls.applied, 0);
	r = snap("C", "3", "t3");
	T_OK(state_load_record(st, 1, &r, &ls, &e), &e);
	T_EQ_INT(ls.applied, 0);
	/* A query reads what waits: D is counted before the flush. */
	r = snap("D", "4", "t1"); /* a replay of t1 */
	T_OK(state_load_record(st, 1, &r, &ls, &e), &e);
	r = snap("E", "5", "t5");
	T_OK(state_load_record(st, 1, &r, &ls, &e), &e);
	T_EQ_INT(ls.dupes, 0);
	T_OK(state_positions_each(st, count_pos, &n, &e), &e);
	T_EQ_INT(n, 4);
	T_EQ_INT(ls.dupes, 1);
	T_EQ_INT(ls.applied, 4);
	T_OK(state_commit(st, &e), &e);
	/* A rollback drops the batch with the transaction. */
	T_OK(state_begin(st, &e), &e);
	state_load_batching(st);
	r = snap("F", "6", "t6");
	T_OK(state_load_record(st, 2, &r, &ls, &e), &e);
	state_rollback(st);
	T_OK(state_begin(st, &e), &e);
	T_OK(state_commit(st, &e), &e);
	n = 0;
	T_OK(state_positions_each(st, count_pos, &n, &e), &e);
	T_EQ_INT(n, 4);
	T_EQ_INT(ls.applied, 4);
	/* Nothing of F was kept: its txn_id loads now, unbatched. */
	r = snap("F", "6", "t6");
	T_OK(state_load_record(st, 2, &r, &ls, &e), &e);
	T_EQ_INT(ls.applied, 5);
	/* A record without a location (validation never lets one through)
	 * is applied on its own, as one at a time, and refused by the
	 * store: NOT NULL, on SQLite as on PostgreSQL. The transaction is
	 * rolled back with what the batch held. */
	T_OK(state_begin(st, &e), &e);
	state_load_batching(st);
	r = snap("G", "7", "t7");
	T_OK(state_load_record(st, 3, &r, &ls, &e), &e);
	r = snap("H", "7", "t8");
	r.v[STOCK_LOCATION] = NULL;
	T_ASSERT(state_load_record(st, 3, &r, &ls, &e) < 0);
	T_ASSERT(strstr(e.reason, "NOT NULL") != NULL);
	state_rollback(st);
	err_clear(&e);
	n = 0;
	T_OK(state_positions_each(st, count_pos, &n, &e), &e);
	T_EQ_INT(n, 5);
	state_close(st);
}

static int collect_items(void *ud, const struct state_position *p)
{
	char *out = ud;
	size_t n = strlen(out);

	snprintf(out + n, 1024 - n, "%s/%s/%s/%s/%zu;", p->sku, p->location,
		 p->location_type,
		 p->item ? (p->item[ITEM_GTIN] ? p->item[ITEM_GTIN] : "-")
			 : "none",
		 p->item && p->item[ITEM_DESCRIPTION]
			 ? strlen(p->item[ITEM_DESCRIPTION])
			 : (size_t)0);
	return 0;
}

T_TEST(state_positions_items_each_joins_items)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct load_stats ls;
	struct canon_record r;
	static char desc[700];
	char out[1024] = "";

	memset(&ls, 0, sizeof(ls));
	memset(desc, 'x', sizeof(desc) - 1);
	T_OK(state_open("st", &st, &e), &e);
	memset(&r, 0, sizeof(r));
	r.kind = CANON_ITEM;
	r.v[ITEM_SKU] = "A";
	r.v[ITEM_GTIN] = "4006381333931";
	r.v[ITEM_DESCRIPTION] = desc;
	T_OK(state_load_record(st, 1, &r, &ls, &e), &e);
	r.v[ITEM_SKU] = "C";
	r.v[ITEM_GTIN] = NULL;
	r.v[ITEM_DESCRIPTION] = "short";
	T_OK(state_load_record(st, 1, &r, &ls, &e), &e);
	memset(&r, 0, sizeof(r));
	r.kind = CANON_LOCATION;
	r.v[LOC_LOCATION_ID] = "L";
	r.v[LOC_TYPE] = "store";
	T_OK(state_load_record(st, 1, &r, &ls, &e), &e);
	r = snap("A", "1", "t1");
	T_OK(state_load_record(st, 2, &r, &ls, &e), &e);
	r = snap("B", "1", "t2");
	T_OK(state_load_record(st, 2, &r, &ls, &e), &e);
	r = snap("C", "1", "t3");
	r.v[STOCK_LOCATION] = "M";
	T_OK(state_load_record(st, 2, &r, &ls, &e), &e);
	r = snap("C", "1", "t4");
	T_OK(state_load_record(st, 2, &r, &ls, &e), &e);
	/* Long item fields are cut at 511 bytes, like state_item_get. */
	T_OK(state_positions_items_each(st, 1, collect_items, out, &e), &e);
	T_EQ_STR(out, "A/L/store/4006381333931/511;B/L/store/none/0;"
		      "C/L/store/-/5;C/M//-/5;");
	out[0] = '\0';
	T_OK(state_positions_items_each(st, 0, collect_items, out, &e), &e);
	T_EQ_STR(out, "A/L//4006381333931/511;B/L//none/0;"
		      "C/L//-/5;C/M//-/5;");
	state_close(st);
}

/* A stock record of location L1 or L2. */
static struct canon_record sp_rec(const char *sku, const char *loc,
				  const char *mode, const char *qty,
				  const char *as_of, const char *txn,
				  unsigned long line)
{
	struct canon_record r = snap(sku, qty, txn);

	r.v[STOCK_LOCATION] = loc;
	r.v[STOCK_MODE] = mode;
	r.v[STOCK_AS_OF] = as_of;
	r.lin.line = line;
	return r;
}

/* Document 2 of the spill test: 40 records over 5 positions, with a
 * txn_id of document 1 (a replay), txn_ids repeated within the
 * document in other runs and at positions that sort before the first
 * one's (the first in arrival order must win), kept records among
 * them, and snapshots arriving after newer deltas. */
static int sp_doc2(struct state *st, struct load_stats *ls,
		   struct err *e)
{
	static const char *const skus[] = {"S5", "S1", "S3", "S2", "S4"};
	static const char *const t[] = {"2026-11-20T06:00:00Z",
					"2026-11-21T06:00:00Z",
					"2026-11-19T06:00:00Z"};
	char txn[32], qty[16];
	int i;

	for (i = 0; i < 40; i++) {
		struct canon_record r;
		int d = i % 3 != 0;

		if (i == 13 || i == 31)
			snprintf(txn, sizeof(txn), "d1-%d", i % 5); /* replay */
		else if (i % 7 == 6)
			snprintf(txn, sizeof(txn), "d2-%d", i - 6); /* dupe */
		else
			snprintf(txn, sizeof(txn), "d2-%d", i);
		snprintf(qty, sizeof(qty), "%d", d ? i % 5 - 2 : 10 + i);
		r = sp_rec(skus[(i * 3) % 5], i % 4 ? "L1" : "L2",
			   d ? "delta" : "snapshot", qty, t[i % 3], txn,
			   (unsigned long)i + 2);
		if ((i % 11 == 5 ? state_keep_unapplied(st, 2, &r, e)
				 : state_load_record(st, 2, &r, ls, e)) < 0)
			return -1;
	}
	return 0;
}

/* A document larger than the batch, spilled to several sorted runs and
 * merged, loads exactly like one record at a time: positions, events,
 * counts; and again after it is taken back and loaded in other runs. */
T_TEST(state_load_spilled_runs_match_one_by_one)
{
	static char want[1 << 15], got[1 << 15];
	static const size_t caps[] = {0, 4, 9};
	struct load_stats ls0, ls;
	size_t c;

	memset(&ls0, 0, sizeof(ls0));
	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		struct state *st;
		struct err e = ERR_INIT;
		char dir[16];
		int i, pass;

		snprintf(dir, sizeof(dir), "sp%zu", caps[c]);
		T_OK(state_open(dir, &st, &e), &e);
		memset(&ls, 0, sizeof(ls));
		T_OK(state_begin(st, &e), &e);
		for (i = 0; i < 5; i++) {
			char txn[16];
			struct canon_record r;

			snprintf(txn, sizeof(txn), "d1-%d", i);
			r = sp_rec(i % 2 ? "S1" : "S4", "L1", "snapshot", "5",
				   "2026-11-20T06:00:00Z", txn, 2);
			T_OK(state_load_record(st, 1, &r, &ls, &e), &e);
		}
		T_OK(state_commit(st, &e), &e);
		for (pass = 0; pass < 2; pass++) {
			memset(&ls, 0, sizeof(ls));
			T_OK(state_begin(st, &e), &e);
			if (caps[c]) {
				state_load_batch_max(st, caps[c] + (size_t)pass);
				state_load_batching(st);
			}
			T_OK(state_unload_doc(st, 2, &e), &e);
			T_OK(sp_doc2(st, &ls, &e), &e);
			if (caps[c])
				T_ASSERT(st->lb.pos.nruns >= 3);
			T_OK(state_load_flush(st, &e), &e);
			T_OK(state_commit(st, &e), &e);
			dump_db(dir, got, sizeof(got));
			if (!caps[c] && !pass) {
				memcpy(want, got, sizeof(want));
				ls0 = ls;
			}
			T_EQ_STR(got, want);
			T_EQ_INT(ls.applied, ls0.applied);
			T_EQ_INT(ls.dupes, ls0.dupes);
			T_EQ_INT(ls.stale, ls0.stale);
			T_EQ_INT(ls.negative, ls0.negative);
		}
		state_close(st);
	}
	T_ASSERT(ls0.dupes >= 4); /* 2 replays, 3 dupes (one kept) */
	T_ASSERT(ls0.applied > 10);
}

static void count_applied(void *ud)
{
	(*(int *)ud)++;
}

/* stage_load's progress line over the merged pass (progress.h): the
 * records waiting before state_load_flush, and the hook called once per
 * record of that pass; a document within one batch has no such pass. */
T_TEST(state_load_apply_pass_counts_its_records)
{
	static const size_t caps[] = {4, 0};
	size_t c;

	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		struct state *st;
		struct err e = ERR_INIT;
		struct load_stats ls;
		char dir[16];
		int n = 0;

		snprintf(dir, sizeof(dir), "spa%zu", caps[c]);
		T_OK(state_open(dir, &st, &e), &e);
		memset(&ls, 0, sizeof(ls));
		T_OK(state_begin(st, &e), &e);
		if (caps[c])
			state_load_batch_max(st, caps[c]);
		state_load_batching(st);
		T_OK(sp_doc2(st, &ls, &e), &e);
		/* 40 records, the 4 kept unapplied queued too */
		T_EQ_INT(state_load_waiting(st), 40);
		state_load_on_apply(st, count_applied, &n);
		T_OK(state_load_flush(st, &e), &e);
		state_load_on_apply(st, NULL, NULL);
		T_EQ_INT(n, caps[c] ? 40 : 0);
		T_EQ_INT(state_load_waiting(st), 0);
		T_OK(state_commit(st, &e), &e);
		state_close(st);
	}
}

/* 1 when the stock events of dir, read in id order, are in position
 * order (sku, location, state), each position's in arrival order (line),
 * and there are n of them. */
static int events_in_apply_order(const char *dir, int n)
{
	char path[256], prev[64] = "", cur[64];
	sqlite3 *db;
	sqlite3_stmt *p;
	long long prev_line = 0;
	int rows = 0, ok = 1;

	snprintf(path, sizeof(path), "%s/state.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT sku || '/' || location || '/' || state,"
			       " line FROM stock_events ORDER BY id",
			       -1, &p, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return 0;
	}
	while (sqlite3_step(p) == SQLITE_ROW) {
		long long line = sqlite3_column_int64(p, 1);
		int c;

		snprintf(cur, sizeof(cur), "%s", sqlite3_column_text(p, 0));
		c = strcmp(prev, cur);
		if (c > 0 || (!c && line <= prev_line))
			ok = 0;
		memcpy(prev, cur, sizeof(prev));
		prev_line = line;
		rows++;
	}
	sqlite3_finalize(p);
	sqlite3_close(db);
	return ok && rows == n;
}

/* The events of a batch wait in lb.evq and go in as multi-row INSERTs
 * of 2^k rows (600 = 512 + 64 + 16 + 8): every one inserted, once, in
 * the order one position at a time meets them (ids in position order,
 * then arrival), in one batch, in spilled runs (many positions per
 * merged apply) and with a delta among snapshots (the queue goes in
 * before the deltas are summed). */
T_TEST(state_load_event_queue_keeps_apply_order)
{
	static const size_t caps[] = {65536, 37};
	size_t c;

	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		struct state *st;
		struct err e = ERR_INIT;
		struct load_stats ls;
		char dir[16], sku[16], txn[16], qty[16];
		int i;

		snprintf(dir, sizeof(dir), "eq%zu", caps[c]);
		T_OK(state_open(dir, &st, &e), &e);
		memset(&ls, 0, sizeof(ls));
		T_OK(state_begin(st, &e), &e);
		state_load_batch_max(st, caps[c]);
		state_load_batching(st);
		for (i = 0; i < 600; i++) {
			struct canon_record r;
			int d = i % 50 == 49;

			/* 150 skus, 4 records each, arriving out of order */
			snprintf(sku, sizeof(sku), "Q%03d", (i * 7) % 150);
			snprintf(txn, sizeof(txn), "eq-%d", i);
			snprintf(qty, sizeof(qty), "%d", d ? -1 : 10 + i % 9);
			r = sp_rec(sku, "L1", d ? "delta" : "snapshot", qty,
				   d ? "2026-11-21T06:00:00Z"
				     : "2026-11-20T06:00:00Z",
				   txn, (unsigned long)i + 2);
			T_OK(state_load_record(st, 1, &r, &ls, &e), &e);
		}
		if (caps[c] < 600)
			T_ASSERT(st->lb.pos.nruns >= 3);
		T_OK(state_load_flush(st, &e), &e);
		T_OK(state_commit(st, &e), &e);
		state_close(st);
		T_ASSERT(events_in_apply_order(dir, 600));
		T_EQ_INT(ls.dupes, 0);
		T_ASSERT(ls.applied > 300);
	}
}

/* Loads document doc of the snapshot test: n records, one per position
 * Z000.. (doc 1: a snapshot each, a newer delta at every fifth; doc 2:
 * a snapshot each, older, newer or as old as doc 1's, every 50th with a
 * txn_id too long for the multi-row upsert). */
static int snap_doc(struct state *st, int doc, int n, size_t cap,
		    struct load_stats *ls, struct err *e)
{
	static const char *const t[] = {"2026-11-19T06:00:00Z",
					"2026-11-20T06:00:00Z",
					"2026-11-21T06:00:00Z"};
	static char txn[300];
	char sku[16], qty[16];
	int i;

	if (state_begin(st, e) < 0)
		return -1;
	state_load_batch_max(st, cap);
	state_load_batching(st);
	for (i = 0; i < n; i++) {
		struct canon_record r;

		snprintf(sku, sizeof(sku), "Z%03d", (i * 7) % n);
		snprintf(qty, sizeof(qty), "%d", 10 + i % 13);
		if (doc == 2 && i % 50 == 7) {
			memset(txn, 'x', sizeof(txn) - 1);
			snprintf(txn, 16, "d2-%d-", i);
			txn[strlen(txn)] = 'x';
			txn[sizeof(txn) - 1] = '\0';
		} else {
			snprintf(txn, sizeof(txn), "d%d-%d", doc, i);
		}
		r = sp_rec(sku, "L1", "snapshot", qty,
			   doc == 1 ? t[1] : t[i % 3], txn,
			   (unsigned long)i + 2);
		if (state_load_record(st, doc, &r, ls, e) < 0)
			goto fail;
		if (doc == 1 && i % 5 == 0) {
			snprintf(txn, sizeof(txn), "d1-%d-delta", i);
			r = sp_rec(sku, "L1", "delta", "-1", t[2], txn,
				   (unsigned long)i + 2);
			if (state_load_record(st, doc, &r, ls, e) < 0)
				goto fail;
		}
	}
	if (state_load_flush(st, e) < 0)
		goto fail;
	return state_commit(st, e);
fail:
	state_rollback(st);
	return -1;
}

/* Snapshots alone at their positions (S_POS_SNAP's upsert without a
 * read, 400 of them, events in multi-row INSERTs): the same positions,
 * events and counts as the bulk path (PostgreSQL's way, checked against
 * the model above), over positions whose snapshot is newer, as old
 * (arrival decides) or older, or that hold a newer delta (the guard
 * says no: the rules sum the deltas), and txn_ids longer than a
 * position keeps. One at a time they are written 2^k to a statement
 * (snaps_flush): doc 1's positions are new, inserted without a
 * savepoint (snap_chunk); doc 2's are there: the insert adds none and
 * the chunk is upserted in a savepoint, one by one again when the guard
 * held some back; try: every chunk tries the insert first (else the
 * chunks after one that was not all new skip it). */
T_TEST(state_load_snap_upserts_match_bulk)
{
	static char want[1 << 17], got[1 << 17];
	static const size_t caps[] = {65536, 37};
	struct load_stats ls, lw, l1, w1;
	size_t c;
	int bulk;

	memset(&lw, 0, sizeof(lw));
	memset(&w1, 0, sizeof(w1));
	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
		for (bulk = 1; bulk >= 0; bulk--) {
			struct state *st;
			struct err e = ERR_INIT;
			char dir[16];

			snprintf(dir, sizeof(dir), "sn%zu-%d", caps[c], bulk);
			T_OK(state_open(dir, &st, &e), &e);
			state_load_bulk(st, bulk);
			st->lb.snap_try = c == 1;
			memset(&l1, 0, sizeof(l1));
			T_OK(snap_doc(st, 1, 400, caps[c], &l1, &e), &e);
			memset(&ls, 0, sizeof(ls));
			T_OK(snap_doc(st, 2, 400, caps[c], &ls, &e), &e);
			/* one at a time: they went in 2^k to a statement
			 * (snaps_flush), 256 of them in one batch: inserted,
			 * and upserted */
			if (!bulk) {
				int k = c ? 4 : LB_BULK_LOG;

				T_ASSERT(st->lb.snap_new[k] != NULL);
				T_ASSERT(st->lb.snap[k] != NULL);
				T_EQ_INT(l1.applied, w1.applied);
				T_EQ_INT(l1.stale, w1.stale);
				T_EQ_INT(l1.negative, w1.negative);
			} else {
				w1 = l1;
			}
			state_close(st);
			dump_db(dir, got, sizeof(got));
			if (bulk) {
				memcpy(want, got, sizeof(want));
				lw = ls;
				continue;
			}
			T_EQ_STR(got, want);
			T_EQ_INT(ls.applied, lw.applied);
			T_EQ_INT(ls.stale, lw.stale);
			T_EQ_INT(ls.dupes, lw.dupes);
			T_ASSERT(ls.stale > 100 && ls.applied > 200);
		}
}

/* A batch of snapshots at new positions (a first load) saves no page to
 * a sub-journal: its ledger keys, its positions (snap_chunk's insert)
 * and its events (SQLite's OR IGNORE insert) are written without a
 * savepoint or a statement journal. With SQLite's sub-journal spilling
 * at once (t_store_subjournal_files) the pages saved are in its file:
 * one, doc_events' (state_lineage_ranges' upsert, once per batch); doc
 * 2, whose snapshots meet their positions (the insert adds none: the
 * upsert in a savepoint), saves those of positions too. */
#define NJ_N 2048

T_TEST(state_load_new_snapshots_open_no_sub_journal)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct load_stats ls;
	int64_t pages[3], b0;
	int doc;

	if (t_store_temp_fds() < 0)
		T_SKIP("no /proc/self/fd");
	T_ASSERT(t_store_subjournal_files(1) == 0);
	T_OK(state_open("nj", &st, &e), &e);
	st->lb.txn_chunk = 8;
	for (doc = 1; doc <= 2; doc++) {
		char sku[16], txn[32];
		int i;

		memset(&ls, 0, sizeof(ls));
		/* the store's TEMP database (state_open) is one such file */
		b0 = t_store_temp_bytes();
		T_OK(state_begin(st, &e), &e);
		state_load_batch_max(st, 65536);
		state_load_batching(st);
		for (i = 0; i < NJ_N; i++) {
			struct canon_record r;

			snprintf(sku, sizeof(sku), "N%04d", i);
			snprintf(txn, sizeof(txn), "nj%d:%d:0", doc, i);
			r = sp_rec(sku, "L1", "snapshot", doc == 1 ? "5" : "6",
				   "2026-11-20T06:00:00Z", txn,
				   (unsigned long)i + 2);
			T_OK(state_load_record(st, doc, &r, &ls, &e), &e);
		}
		T_OK(state_load_flush(st, &e), &e);
		pages[doc] = (t_store_temp_bytes() - b0) / (4 + 4096);
		T_OK(state_commit(st, &e), &e);
		T_EQ_INT(ls.applied, NJ_N);
	}
	T_EQ_INT(pages[1], 1);
	T_ASSERT(pages[2] > 1);
	T_EQ_INT(t_store_sql1_in("nj", "SELECT count(*) FROM stock_events"),
		 2 * NJ_N);
	T_EQ_INT(t_store_sql1_in("nj", "SELECT sum(qty) FROM positions"),
		 NJ_N * 6 * DEC_SCALE);
	state_close(st);
	T_ASSERT(t_store_subjournal_files(0) == 0);
}
