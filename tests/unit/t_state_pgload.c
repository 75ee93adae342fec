/* t_state_pgload.c - loads on PostgreSQL without the store's writer lock
 * (state_begin_rows, row locks on positions: db.h): documents loaded by
 * two connections at once, on overlapping positions, end with the same
 * positions and events as the same documents loaded one after the other.
 * Skipped without a server (STOCKPIPE_TEST_PG_URL; postgres.sh runs it).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/store/db.h"
#include "pipeline/store/state.h"
#include "t.h"
#include "t_store.h"

#define NDOC 12
#define NREC 150

struct pgl_rec {
	char sku[8], loc[8], txn[32], qty[24], as_of[24];
	int st, delta;
};

static struct pgl_rec docs[NDOC][NREC];
/* load_doc_as: records on new SKUs "Z<i / 7>" (new positions in every
 * batch of 7), every third with a new txn_id, the others replays. */
static int twist;

static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Documents over 6 SKUs x 2 locations x 2 states: every document touches
 * most positions; snapshots and deltas at a few equal times; txn_ids of
 * a document its own (a txn_id two documents share makes the first
 * loaded win, which is order by definition). */
static void gen(void)
{
	static const char *const skus[] = {"A", "B", "C", "D", "E", "F"};
	uint64_t g = 20261206;
	int d, i;

	for (d = 0; d < NDOC; d++)
		for (i = 0; i < NREC; i++) {
			struct pgl_rec *r = &docs[d][i];
			uint64_t x = next(&g);

			snprintf(r->sku, sizeof(r->sku), "%s", skus[x % 6]);
			snprintf(r->loc, sizeof(r->loc), "L%d", (int)(x / 6 % 2));
			r->st = (int)(x / 12 % 2);
			r->delta = x / 24 % 10 < 4;
			snprintf(r->qty, sizeof(r->qty), "%d",
				 (int)(x / 240 % 30) - (r->delta ? 10 : 0));
			snprintf(r->as_of, sizeof(r->as_of),
				 "2026-11-20T%02d:00:00Z", (int)(x / 7200 % 5));
			snprintf(r->txn, sizeof(r->txn), "d%d-%d", d, i);
		}
}

/* Loads the records of document d as document doc, as the load stage
 * does: its own row-locked transaction, its records batched, arrival
 * keys (file doc, line i); the counts added to *ls. */
static int load_doc_as(struct state *st, int d, int doc,
		       struct load_stats *ls, struct err *e)
{
	static const char *const states[] = {"on_hand", "reserved"};
	int i;

	if (state_begin_rows(st, e) < 0)
		return -1;
	state_load_batching(st);
	if (state_unload_doc(st, doc, e) < 0)
		goto fail;
	for (i = 0; i < NREC; i++) {
		const struct pgl_rec *g = &docs[d][i];
		struct state_arrival a = {doc, 0, i + 1};
		struct canon_record c;
		char zsku[16], ztxn[32];

		memset(&c, 0, sizeof(c));
		c.kind = CANON_STOCK;
		c.v[STOCK_SKU] = g->sku;
		c.v[STOCK_LOCATION] = g->loc;
		c.v[STOCK_STATE] = states[g->st];
		c.v[STOCK_QUANTITY] = g->qty;
		c.v[STOCK_MODE] = g->delta ? "delta" : "snapshot";
		c.v[STOCK_AS_OF] = g->as_of;
		c.v[STOCK_TXN_ID] = g->txn;
		if (twist) {
			snprintf(zsku, sizeof(zsku), "Z%d", i / 7);
			snprintf(ztxn, sizeof(ztxn), "x%d-%d", doc, i);
			c.v[STOCK_SKU] = zsku;
			if (i % 3 == 0)
				c.v[STOCK_TXN_ID] = ztxn;
		}
		c.lin.source = "s";
		c.lin.file = "f.csv";
		c.lin.line = (size_t)i + 2;
		state_load_arrival(st, &a);
		if (state_load_record(st, doc, &c, ls, e) < 0)
			goto fail;
	}
	if (state_load_flush(st, e) < 0)
		goto fail;
	return state_commit(st, e);
fail:
	state_rollback(st);
	return -1;
}

static int load_one_doc(struct state *st, int d, struct err *e)
{
	struct load_stats ls;

	memset(&ls, 0, sizeof(ls));
	return load_doc_as(st, d, d + 1, &ls, e);
}

/* Positions (every column) and events of the store at url, as text. */
static void dump(const char *url, char *out, size_t n)
{
	struct err e = ERR_INIT;
	struct db *d;
	struct db_stmt *p;
	size_t len = 0;
	int i;

	out[0] = '\0';
	if (db_open(url, t_store_pwenv(), &d, &e) < 0)
		return;
	p = db_prepare(d,
		       "SELECT 'P', sku, location, CAST(state AS TEXT),"
		       " CAST(qty AS TEXT), coalesce(CAST(snap_as_of AS TEXT), '-'),"
		       " coalesce(snap_txn, '-'), CAST(last_as_of AS TEXT),"
		       " coalesce(CAST(delta_as_of AS TEXT), '-'),"
		       " CAST(snap_arr_file AS TEXT) || '.' ||"
		       " CAST(snap_arr_line AS TEXT) FROM positions"
		       " UNION ALL SELECT 'E', txn_id, location, sku,"
		       " CAST(qty AS TEXT), CAST(doc AS TEXT),"
		       " CAST(applied AS TEXT), CAST(as_of AS TEXT), '', ''"
		       " FROM stock_events ORDER BY 1, 2, 3, 4",
		       0, &e);
	while (p && db_step(p, &e) == 1 && len < n)
		for (i = 0; i < 10 && len < n; i++)
			len += (size_t)snprintf(out + len, n - len, "%s%s",
						db_col_text(p, i),
						i == 9 ? "\n" : " ");
	db_finalize(p);
	db_close(d);
}

struct loader {
	const char *url;
	int which, busy_retries, rc;
	pthread_barrier_t *start;
	struct err e;
};

/* Every other document, retried when PostgreSQL says a deadlock or a
 * serialization failure (E_BUSY), as the engine's retries would. */
static void *loader_main(void *arg)
{
	struct loader *l = arg;
	struct state *st;
	int d, k;

	err_clear(&l->e);
	l->rc = state_open_db("pgl", l->url, t_store_pwenv(), &st, &l->e);
	pthread_barrier_wait(l->start);
	if (l->rc < 0)
		return NULL;
	for (d = l->which; d < NDOC && !l->rc; d += 2)
		for (k = 0;; k++) {
			err_clear(&l->e);
			if ((l->rc = load_one_doc(st, d, &l->e)) == 0)
				break;
			if (l->e.code != E_BUSY || k == 5)
				break;
			l->busy_retries++;
		}
	state_close(st);
	return NULL;
}

T_TEST(state_pg_parallel_loads_equal_serial)
{
	static char want[1 << 18], got[1 << 18];
	const char *url = getenv("STOCKPIPE_TEST_PG_URL");
	char ser[600], par[600], s1[64], s2[64];
	struct loader l[2];
	pthread_barrier_t start;
	pthread_t th[2];
	struct state *st;
	struct err e = ERR_INIT;
	int d, i;

	if (!url || !*url)
		T_SKIP("STOCKPIPE_TEST_PG_URL not set (postgres.sh runs it on "
		       "a real server)");
	gen();
	snprintf(s1, sizeof(s1), "t_pgl_ser_%d", (int)getpid());
	snprintf(s2, sizeof(s2), "t_pgl_par_%d", (int)getpid());
	T_OK(t_store_fresh_schema(url, s1, &e), &e);
	T_OK(t_store_fresh_schema(url, s2, &e), &e);
	t_store_schema_url(url, s1, ser, sizeof(ser));
	t_store_schema_url(url, s2, par, sizeof(par));
	/* one after the other */
	T_OK(state_open_db("pgl", ser, t_store_pwenv(), &st, &e), &e);
	for (d = 0; d < NDOC; d++)
		T_OK(load_one_doc(st, d, &e), &e);
	state_close(st);
	/* two connections at once (the first open makes the tables) */
	T_OK(state_open_db("pgl", par, t_store_pwenv(), &st, &e), &e);
	state_close(st);
	pthread_barrier_init(&start, NULL, 2);
	for (i = 0; i < 2; i++) {
		memset(&l[i], 0, sizeof(l[i]));
		l[i].url = par;
		l[i].which = i;
		l[i].start = &start;
		T_ASSERT(pthread_create(&th[i], NULL, loader_main, &l[i]) == 0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < 2; i++)
		T_OK(l[i].rc, &l[i].e);
	dump(ser, want, sizeof(want));
	dump(par, got, sizeof(got));
	T_ASSERT(strlen(want) > 1000);
	T_EQ_STR(got, want);
	/* no placeholder row left behind */
	T_ASSERT(!strstr(got, "-9223372036854775808"));
	/* dropped: the next run's schemas have other names anyway */
	t_store_fresh_schema(url, s1, &e);
	t_store_fresh_schema(url, s2, &e);
}

/* Every document, then three of them again (a rerun: its positions are
 * locked by the unload first) in batches of 16, then two documents'
 * records again as other documents (replays of every txn_id), in
 * batches of 7, and once more on new positions (twist); the counts
 * summed into *ls. */
static int load_story(struct state *st, struct load_stats *ls,
		      struct err *e)
{
	int d;

	memset(ls, 0, sizeof(*ls));
	for (d = 0; d < NDOC; d++)
		if (load_doc_as(st, d, d + 1, ls, e) < 0)
			return -1;
	state_load_batch_max(st, 16);
	for (d = 0; d < 3; d++)
		if (load_doc_as(st, d, d + 1, ls, e) < 0)
			return -1;
	state_load_batch_max(st, 7);
	for (d = 3; d < 5; d++)
		if (load_doc_as(st, d, 50 + d, ls, e) < 0)
			return -1;
	twist = 1;
	d = load_doc_as(st, 6, 70, ls, e);
	twist = 0;
	return d;
}

/* The bulk apply on PostgreSQL (the positions locked after the ledger
 * and the events, a new position written in its locking upsert) ends
 * with the same positions, events and counts as SQLite's path, which
 * state_load_bulk_matches_one_by_one checks against one at a time. */
T_TEST(state_pg_load_equals_sqlite)
{
	static char want[1 << 18], got[1 << 18];
	const char *url = getenv("STOCKPIPE_TEST_PG_URL");
	char pg[600], sch[64];
	struct load_stats lp, ll;
	struct state *st;
	struct err e = ERR_INIT;

	if (!url || !*url)
		T_SKIP("STOCKPIPE_TEST_PG_URL not set (postgres.sh runs it on "
		       "a real server)");
	gen();
	snprintf(sch, sizeof(sch), "t_pgl_lite_%d", (int)getpid());
	T_OK(t_store_fresh_schema(url, sch, &e), &e);
	t_store_schema_url(url, sch, pg, sizeof(pg));
	T_OK(state_open_db("pgl", pg, t_store_pwenv(), &st, &e), &e);
	T_OK(load_story(st, &lp, &e), &e);
	state_close(st);
	T_OK(state_open("lite", &st, &e), &e);
	T_OK(load_story(st, &ll, &e), &e);
	state_close(st);
	dump(pg, want, sizeof(want));
	dump("lite/state.db", got, sizeof(got));
	T_ASSERT(strlen(want) > 1000);
	T_EQ_STR(got, want);
	T_ASSERT(lp.applied == ll.applied && lp.dupes == ll.dupes &&
		 lp.stale == ll.stale && lp.negative == ll.negative);
	T_ASSERT(ll.dupes > 0 && ll.stale > 0);
	t_store_fresh_schema(url, sch, &e);
}

/* Odd bytes in every text column a load writes by COPY (state_load_pg.c:
 * copy_events): tab, newline, carriage return, backslash, COPY's own
 * "\N" and "\.", controls, DEL, non-ASCII. */
static const char *const odd[] = {
	"t\tab", "n\nl", "c\rr", "b\\s", "\\N", "\\.", "\x01\x7f",
	"\xc3\xa9\xe6\xbc\xa2", "end\\",
};

#define NODD (sizeof(odd) / sizeof(odd[0]))
#define ODD_RECS 3000

/* ODD_RECS records of document 1 in one batch whose COPY text is
 * several db_copy_put chunks (~200 bytes a row, EV_COPY_SEND 256 KiB). */
static int load_odd(struct state *st, struct err *e)
{
	static const char pad[] = "................................................";
	char sku[96], loc[96], txn[96], src[64], file[64], qty[24];
	struct load_stats ls;
	int i;

	memset(&ls, 0, sizeof(ls));
	if (state_begin_rows(st, e) < 0)
		return -1;
	state_load_batching(st);
	for (i = 0; i < ODD_RECS; i++) {
		struct state_arrival a = {1, 0, i + 1};
		struct canon_record c;

		snprintf(sku, sizeof(sku), "%s%d%s", odd[i % NODD], i % 97, pad);
		snprintf(loc, sizeof(loc), "%s%s%d", pad, odd[i / 7 % NODD], i % 5);
		snprintf(txn, sizeof(txn), "%s-%d%s", odd[i / 3 % NODD], i, pad);
		snprintf(src, sizeof(src), "s%s", odd[i % 2 ? 0 : 3]);
		snprintf(file, sizeof(file), "f%s.csv", odd[i % 3 ? 1 : 4]);
		snprintf(qty, sizeof(qty), "%d", i % 40 - (i % 3 ? 0 : 20));
		memset(&c, 0, sizeof(c));
		c.kind = CANON_STOCK;
		c.v[STOCK_SKU] = sku;
		c.v[STOCK_LOCATION] = loc;
		c.v[STOCK_STATE] = "on_hand";
		c.v[STOCK_QUANTITY] = qty;
		c.v[STOCK_MODE] = i % 3 ? "snapshot" : "delta";
		c.v[STOCK_AS_OF] = i % 2 ? "2026-11-20T01:00:00Z"
					 : "2026-11-20T02:00:00Z";
		c.v[STOCK_TXN_ID] = txn;
		c.lin.source = src;
		c.lin.file = file;
		c.lin.line = (size_t)i + 2;
		state_load_arrival(st, &a);
		if (state_load_record(st, 1, &c, &ls, e) < 0)
			goto fail;
	}
	if (state_load_flush(st, e) < 0)
		goto fail;
	return state_commit(st, e);
fail:
	state_rollback(st);
	return -1;
}

/* Every column of every event, and the positions, as text. */
static void dump_events(const char *url, char *out, size_t n)
{
	static const char sql[] =
		"SELECT 'E', sku, location, coalesce(txn_id, '-'),"
		" coalesce(source, '-') || '|' || coalesce(file, '-') || '|' ||"
		" CAST(doc AS TEXT) || '|' || CAST(state AS TEXT) || '|' ||"
		" CAST(qty AS TEXT) || '|' || CAST(delta AS TEXT) || '|' ||"
		" CAST(as_of AS TEXT) || '|' || coalesce(CAST(line AS TEXT), '-')"
		" || '|' || CAST(applied AS TEXT) || '|' ||"
		" CAST(arr_file AS TEXT) || '.' || CAST(arr_member AS TEXT) ||"
		" '.' || CAST(arr_line AS TEXT) || '|' ||"
		" coalesce(CAST(txn_seq AS TEXT), '-') || '|' ||"
		" coalesce(CAST(txn_rec AS TEXT), '-') FROM stock_events"
		" UNION ALL SELECT 'P', sku, location, coalesce(snap_txn, '-'),"
		" CAST(qty AS TEXT) FROM positions ORDER BY 1, 2, 3, 4, 5";
	struct err e = ERR_INIT;
	struct db *d;
	struct db_stmt *p;
	size_t len = 0;
	int i;

	out[0] = '\0';
	if (db_open(url, t_store_pwenv(), &d, &e) < 0)
		return;
	p = db_prepare(d, sql, 0, &e);
	while (p && db_step(p, &e) == 1 && len < n)
		for (i = 0; i < 5 && len < n; i++)
			len += (size_t)snprintf(out + len, n - len, "%s%s",
						db_col_text(p, i),
						i == 4 ? "\n" : " ");
	db_finalize(p);
	db_close(d);
}

/* The events a PostgreSQL load wrote by COPY read back as SQLite's
 * (which binds them as parameters), byte for byte. */
T_TEST(state_pg_copy_odd_text)
{
	static char want[1 << 21], got[1 << 21];
	const char *url = getenv("STOCKPIPE_TEST_PG_URL");
	char pg[600], sch[64];
	struct state *st;
	struct err e = ERR_INIT;

	if (!url || !*url)
		T_SKIP("STOCKPIPE_TEST_PG_URL not set (postgres.sh runs it on "
		       "a real server)");
	snprintf(sch, sizeof(sch), "t_pgl_odd_%d", (int)getpid());
	T_OK(t_store_fresh_schema(url, sch, &e), &e);
	t_store_schema_url(url, sch, pg, sizeof(pg));
	T_OK(state_open_db("pgl", pg, t_store_pwenv(), &st, &e), &e);
	T_OK(load_odd(st, &e), &e);
	state_close(st);
	T_OK(state_open("lite", &st, &e), &e);
	T_OK(load_odd(st, &e), &e);
	state_close(st);
	dump_events(pg, got, sizeof(got));
	dump_events("lite/state.db", want, sizeof(want));
	T_ASSERT(strlen(want) > 600000 && strlen(want) < sizeof(want) - 1);
	T_ASSERT(strstr(want, "\\N") && strstr(want, "t\tab") &&
		 strstr(want, "\xe6\xbc\xa2"));
	T_EQ_STR(got, want);
	t_store_fresh_schema(url, sch, &e);
}

/* The first column of the first row of sql in the store at url (-1 when
 * none). */
static int64_t pg_q1(const char *url, const char *sql, struct err *e)
{
	struct db *d;
	int64_t v;

	if (db_open(url, t_store_pwenv(), &d, e) < 0)
		return -1;
	v = t_store_q1(d, sql);
	db_close(d);
	return v;
}


/* Issue 20: a load must not read every event of the store while it
 * holds its position locks. The document's id range (state_lineage.c,
 * SL_RANGE) did, by a sequential scan once PostgreSQL kept a generic
 * plan of it: 15 ms growing to 100 ms a document on the workers bench,
 * during which the other worker's load of shared positions waited (two
 * workers 1.78x -> 1.2x one). 80 documents in one connection, each with
 * new events; then the rows sequential scans read of stock_events must
 * stay below the table's size (once read would be that; the scan per
 * document read it 80 times over). */
T_TEST(state_pg_load_reads_no_event_table_scan)
{
	const char *url = getenv("STOCKPIPE_TEST_PG_URL");
	char u[600], sch[64];
	struct load_stats ls;
	struct state *st;
	struct err e = ERR_INIT;
	int64_t seq;
	int k;

	if (!url || !*url)
		T_SKIP("STOCKPIPE_TEST_PG_URL not set (postgres.sh runs it on "
		       "a real server)");
	gen();
	snprintf(sch, sizeof(sch), "t_pgl_scan_%d", (int)getpid());
	T_OK(t_store_fresh_schema(url, sch, &e), &e);
	t_store_schema_url(url, sch, u, sizeof(u));
	T_OK(state_open_db("pgl", u, t_store_pwenv(), &st, &e), &e);
	twist = 1; /* new txn_ids: every document inserts events */
	memset(&ls, 0, sizeof(ls));
	for (k = 1; k <= 80 && !e.code; k++)
		if (load_doc_as(st, k % NDOC, k, &ls, &e) < 0)
			break;
	twist = 0;
	T_OK(e.code ? -1 : 0, &e);
	state_close(st);
	usleep(200 * 1000); /* the ended backend's statistics */
	/* rows of stock_events read by sequential scans so far */
	seq = pg_q1(u, "SELECT coalesce(seq_tup_read, 0) FROM"
		    " pg_stat_user_tables WHERE relid ="
		    " CAST('stock_events' AS regclass)", &e);
	T_ASSERT(seq >= 0);
	/* 80 x 50 new events: once the table */
	if (seq >= 80 * 50)
		T_FAIL("sequential scans read %lld events", (long long)seq);
	t_store_fresh_schema(url, sch, &e);
}


/* Schema 17: no index of positions names qty on PostgreSQL, so a load's
 * change of a quantity is a HOT update (schema.c says why that matters);
 * schema 16's partial index ON positions(qty) made 1.7 % of them HOT on
 * the workers bench. The negative positions are still counted through
 * the partial index, and right. */
T_TEST(state_pg_position_updates_stay_hot)
{
	const char *url = getenv("STOCKPIPE_TEST_PG_URL");
	char u[600], sch[64], plan[2000];
	struct state *st;
	struct db *d;
	struct db_stmt *p;
	struct err e = ERR_INIT;
	int64_t upd, hot, neg = -1;
	size_t len = 0;
	int k;

	if (!url || !*url)
		T_SKIP("STOCKPIPE_TEST_PG_URL not set (postgres.sh runs it on "
		       "a real server)");
	gen();
	snprintf(sch, sizeof(sch), "t_pgl_hot_%d", (int)getpid());
	T_OK(t_store_fresh_schema(url, sch, &e), &e);
	t_store_schema_url(url, sch, u, sizeof(u));
	T_OK(state_open_db("pgl", u, t_store_pwenv(), &st, &e), &e);
	for (k = 0; k < NDOC; k++)
		T_OK(load_one_doc(st, k, &e), &e);
	T_OK(state_positions_negative(st, &neg, &e), &e);
	state_close(st);
	usleep(200 * 1000); /* the ended backend's statistics */
	upd = pg_q1(u, "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid"
		    " = CAST('positions' AS regclass)", &e);
	hot = pg_q1(u, "SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE"
		    " relid = CAST('positions' AS regclass)", &e);
	T_ASSERT(upd > 20);
	if (hot * 2 < upd)
		T_FAIL("%lld of %lld updates of positions HOT", (long long)hot,
		       (long long)upd);
	T_EQ_INT(neg, pg_q1(u, "SELECT count(*) FROM positions WHERE qty < 0",
			    &e));
	T_ASSERT(neg > 0);
	/* the count's plan reads the partial index */
	T_OK(db_open(u, t_store_pwenv(), &d, &e), &e);
	T_OK(db_exec(d, "SET enable_seqscan = off", &e), &e);
	p = db_prepare(d, "EXPLAIN SELECT count(*) FROM positions WHERE neg", 0,
		       &e);
	while (p && db_step(p, &e) == 1 && len < sizeof(plan))
		len += (size_t)snprintf(plan + len, sizeof(plan) - len, "%s\n",
					db_col_text(p, 0));
	db_finalize(p);
	db_close(d);
	T_ASSERT(strstr(plan, "positions_negative") != NULL);
	t_store_fresh_schema(url, sch, &e);
}
