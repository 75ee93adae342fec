/* t_state_lineage.c - schema 12's narrower stock events
 * (pipeline/store/state_lineage.c): an event's source and file are
 * stored NULL when they are its document's unit's (scope, key) and read
 * back from the unit, one that differs keeps its text; a txn_id in the
 * mapping engine's default form is stored as two integers and rebuilt
 * wherever it is read (the ledger on unload, the order of snapshots on
 * recompute); a store of schema 11 migrated keeps its replays
 * duplicates and its positions. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/store/db.h"
#include "pipeline/store/schema.h"
#include "pipeline/store/state.h"
#include "pipeline/store/state_int.h"
#include "t.h"
#include "t_store.h"

static void sql_do(const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	T_ASSERT(sqlite3_open("st/state.db", &db) == SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fprintf(stderr, "    %s: %s\n", sql, msg ? msg : "?");
	T_ASSERT(msg == NULL);
	sqlite3_close(db);
}

/* Map unit doc of run 1: source scope, document name ukey. */
static void doc_unit(int doc, const char *scope, const char *ukey,
		     const char *sha)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "INSERT OR IGNORE INTO runs(run_id, started_at, status)"
		 " VALUES(1, '2026-11-01T06:00:00Z', 'done');"
		 "INSERT INTO units(id, run_id, stage, scope, ukey, state,"
		 " input_sha) VALUES(%d, 1, 'map', '%s', '%s', 0, '%s')",
		 doc, scope, ukey, sha);
	sql_do(sql);
}

static struct canon_record ev(const char *sku, const char *txn,
			      const char *source, const char *file)
{
	struct canon_record r;

	memset(&r, 0, sizeof(r));
	r.kind = CANON_STOCK;
	r.v[STOCK_SKU] = sku;
	r.v[STOCK_LOCATION] = "L";
	r.v[STOCK_STATE] = "on_hand";
	r.v[STOCK_QUANTITY] = "5";
	r.v[STOCK_MODE] = "snapshot";
	r.v[STOCK_AS_OF] = "2026-11-20T06:00:00Z";
	r.v[STOCK_TXN_ID] = txn;
	r.lin.source = source;
	r.lin.file = file;
	r.lin.line = 2;
	return r;
}

struct recon_count {
	int a, b;
};

static int recon_row(void *ud, const struct state_recon_pair *r)
{
	struct recon_count *c = ud;

	c->a += r->has_a;
	c->b += r->has_b;
	return 0;
}

#define SHA "0123456789abcdef0123456789abcdef"

T_TEST(state_event_source_and_file_are_the_documents)
{
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct canon_record r[6];
	struct recon_count c = {0, 0};

	T_OK(state_open("st", &st, &e), &e);
	doc_unit(10, "stores", "a.csv", SHA);
	doc_unit(11, "stores", "b.csv", SHA);
	r[0] = ev("A", "t1", "stores", "a.csv");
	r[1] = ev("B", "t2", "stores", "other.csv");
	r[2] = ev("C", "t3", "erp", "a.csv");
	T_OK(t_store_load(st, 10, r, 3, 0, NULL, &e), &e);
	/* the same, batched through the spill (documents over the batch) */
	r[3] = ev("D", "t4", "stores", "b.csv");
	r[4] = ev("E", "t5", "stores", "other.csv");
	r[5] = ev("F", "t6", "erp", "b.csv");
	T_OK(t_store_load(st, 11, r + 3, 3, 2, NULL, &e), &e);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM stock_events"), 6);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM stock_events WHERE source"
			      " IS NULL AND file IS NULL AND sku IN ('A',"
			      " 'D')"), 2);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM stock_events WHERE source"
			      " IS NULL AND file = 'other.csv' AND sku IN ('B',"
			      " 'E')"), 2);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM stock_events WHERE source ="
			      " 'erp' AND file IS NULL AND sku IN ('C', 'F')"),
		 2);
	/* read back through the unit: every event as it was loaded */
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM stock_events e JOIN units u"
			      " ON u.id = e.doc WHERE coalesce(e.source,"
			      " u.scope) = CASE WHEN e.sku IN ('C', 'F') THEN"
			      " 'erp' ELSE 'stores' END AND coalesce(e.file,"
			      " u.ukey) = CASE WHEN e.sku IN ('B', 'E') THEN"
			      " 'other.csv' WHEN e.doc = 10 THEN 'a.csv' ELSE"
			      " 'b.csv' END"), 6);
	/* reconcile groups by the source the unit gives */
	T_OK(state_reconcile_each(st, 0, "stores", "erp", recon_row, &c, &e),
	     &e);
	T_EQ_INT(c.a, 4);
	T_EQ_INT(c.b, 2);
	state_close(st);
}

/* ---- txn_id left to the document, and the migration from schema 11 ---- */

#define SHA_A "aaaaaaaaaaaaaaaa0123456789abcdef"
#define SHA_B "bbbbbbbbbbbbbbbb0123456789abcdef"

/* Every position, as text. */
static void positions(struct db *d, char *out, size_t n)
{
	struct err e = ERR_INIT;
	struct db_stmt *p = db_prepare(
		d,
		"SELECT sku || ' ' || location || ' ' || CAST(state AS TEXT)"
		" || ' ' || CAST(qty AS TEXT) || ' ' || coalesce(snap_txn, '-')"
		" || ' ' || CAST(last_as_of AS TEXT) FROM positions"
		" ORDER BY sku, location, state",
		0, &e);
	size_t len = 0;

	out[0] = '\0';
	while (p && db_step(p, &e) == 1 && len < n)
		len += (size_t)snprintf(out + len, n - len, "%s\n",
					db_col_text(p, 0));
	db_finalize(p);
}

static struct canon_record rec(const char *sku, const char *qty,
			       const char *mode, const char *as_of,
			       const char *txn)
{
	struct canon_record r = ev(sku, txn, "stores", "a.csv");

	r.v[STOCK_QUANTITY] = qty;
	r.v[STOCK_MODE] = mode;
	r.v[STOCK_AS_OF] = as_of;
	return r;
}

#define T1 "2026-11-20T06:00:00Z"
#define T2 "2026-11-21T06:00:00Z"

/* Document 10 (a.csv, SHA_A): default txn_ids of SHA_A and one of the
 * mapping's own. Document 12 (c.csv, SHA_B): two snapshots of A at the
 * same time and arrival, told apart by txn_id only ("...:2:0" wins). */
static void story(struct canon_record *d10, struct canon_record *d12)
{
	d10[0] = rec("A", "5", "snapshot", T1, "aaaaaaaaaaaaaaaa:3:0");
	d10[1] = rec("A", "2", "delta", T2, "aaaaaaaaaaaaaaaa:4:0");
	d10[2] = rec("B", "7", "snapshot", T1, "custom-1");
	d10[3] = rec("B", "-1", "delta", T2, "aaaaaaaaaaaaaaaa:6:1");
	d10[4] = rec("C", "3", "snapshot", T1, "aaaaaaaaaaaaaaaa:07:0");
	/* the winner first: neither insertion order nor a NULL picks it */
	d12[0] = rec("A", "4", "snapshot", T1, "bbbbbbbbbbbbbbbb:2:0");
	d12[1] = rec("A", "9", "snapshot", T1, "bbbbbbbbbbbbbbbb:1:0");
	d12[0].lin.file = d12[1].lin.file = "c.csv";
}

/* A store of this version taken back to schema 11 as that stockpipe
 * left it: every txn_id, source and file as text, no txn_seq/txn_rec,
 * an index on doc instead of doc_events. */
static const char to_v11[] =
	"UPDATE stock_events SET txn_id = (SELECT substr(u.input_sha, 1, 16)"
	" || ':' || stock_events.txn_seq || ':' || stock_events.txn_rec"
	" FROM units u WHERE u.id = stock_events.doc) WHERE txn_id IS NULL;"
	"UPDATE stock_events SET source = (SELECT u.scope FROM units u"
	" WHERE u.id = stock_events.doc) WHERE source IS NULL;"
	"UPDATE stock_events SET file = (SELECT u.ukey FROM units u"
	" WHERE u.id = stock_events.doc) WHERE file IS NULL;"
	"ALTER TABLE stock_events DROP COLUMN txn_seq;"
	"ALTER TABLE stock_events DROP COLUMN txn_rec;"
	"DROP TABLE doc_events;"
	"CREATE INDEX stock_events_doc ON stock_events(doc);"
	"DELETE FROM schema_version WHERE version >= 12;"
	"UPDATE meta SET value = '11' WHERE key = 'schema';";

static void migrate_story(const char *url)
{
	static char p0[4096], p1[4096];
	struct canon_record d10[5], d12[2];
	struct state *st = NULL;
	struct db *d = NULL;
	struct err e = ERR_INIT;
	struct load_stats ls;
	int from, to;

	story(d10, d12);
	T_OK(state_open_db("st", url, t_store_pwenv(), &st, &e), &e);
	T_OK(db_open(url ? url : "st/state.db", url ? t_store_pwenv() : NULL,
		     &d, &e), &e);
	T_OK(db_exec(d,
		     "INSERT INTO runs(run_id, started_at, status) VALUES(1,"
		     " '2026-11-01T06:00:00Z', 'done');"
		     "INSERT INTO units(id, run_id, stage, scope, ukey, state,"
		     " input_sha) VALUES(10, 1, 'map', 'stores', 'a.csv', 0, '"
		     SHA_A "'), (11, 1, 'map', 'stores', 'b.csv', 0, '" SHA_A
		     "'), (12, 1, 'map', 'stores', 'c.csv', 0, '" SHA_B "')",
		     &e),
	     &e);
	T_OK(t_store_load(st, 10, d10, 5, 0, NULL, &e), &e);
	T_OK(t_store_load(st, 12, d12, 2, 0, NULL, &e), &e);
	/* stored: NULL where the document gives it ("07" is not the
	 * engine's spelling of 7: kept as text) */
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM stock_events WHERE txn_id"
			       " IS NULL AND txn_seq IS NOT NULL AND txn_rec IS"
			       " NOT NULL"), 5);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM stock_events WHERE txn_id"
			       " IN ('custom-1', 'aaaaaaaaaaaaaaaa:07:0') AND"
			       " txn_seq IS NULL"), 2);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM stock_events WHERE source"
			       " IS NULL AND file IS NULL"), 7);
	/* the newest snapshot of A by txn_id (b...:2:0, 4), then the delta */
	T_EQ_INT(t_store_q1(d, "SELECT qty / 1000000 FROM positions WHERE sku ="
			       " 'A'"), 6);
	positions(d, p0, sizeof(p0));
	state_close(st);
	st = NULL;

	/* back to 11, then migrated: the same rows narrowed again */
	T_OK(db_exec(d, to_v11, &e), &e);
	T_EQ_INT(t_store_q1(d,
			    "SELECT count(*) FROM stock_events WHERE txn_id ="
			    " 'bbbbbbbbbbbbbbbb:2:0' AND file = 'c.csv'"),
		 1);
	T_OK(schema_migrate(d, &from, &to, &e), &e);
	T_EQ_INT(from, 11);
	T_EQ_INT(to, SCHEMA_LATEST);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM stock_events WHERE txn_id"
			       " IS NULL AND txn_seq IS NOT NULL"), 5);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM stock_events WHERE source"
			       " IS NULL AND file IS NULL"), 7);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM stock_events WHERE txn_seq"
			       " = 2 AND txn_rec = 0 AND doc = 12"), 1);

	/* a replay of document 10 (as document 11) is duplicates only */
	T_OK(state_open_db("st", url, t_store_pwenv(), &st, &e), &e);
	memset(&ls, 0, sizeof(ls));
	T_OK(state_begin(st, &e), &e);
	for (from = 0; from < 5; from++)
		T_OK(state_load_record(st, 11, &d10[from], &ls, &e), &e);
	T_OK(state_load_flush(st, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_EQ_INT(ls.dupes, 5);
	T_EQ_INT(ls.applied, 0);
	positions(d, p1, sizeof(p1));
	T_EQ_STR(p1, p0);

	/* unloading document 10 takes its txn_ids out of the ledger and
	 * recomputes A from document 12: the greater rebuilt txn_id wins */
	T_OK(state_begin(st, &e), &e);
	T_OK(state_unload_doc(st, 10, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_EQ_INT(t_store_q1(d, "SELECT qty / 1000000 FROM positions WHERE sku ="
			       " 'A'"), 4);
	T_EQ_INT(t_store_q1(d,
			    "SELECT count(*) FROM positions WHERE sku = 'B'"),
		 0);
	/* and loading it again (a rerun) applies it all, as the first time */
	T_OK(t_store_load(st, 10, d10, 5, 0, NULL, &e), &e);
	positions(d, p1, sizeof(p1));
	T_EQ_STR(p1, p0);
	state_close(st);
	db_close(d);
}

T_TEST(state_events_migrate_11_to_12_sqlite)
{
	migrate_story(NULL);
}

T_TEST(state_events_migrate_11_to_12_pg)
{
	const char *url = getenv("STOCKPIPE_TEST_PG_URL");
	char sch[64], u[600];
	struct db *d;
	struct err e = ERR_INIT;

	if (!url || !*url)
		T_SKIP("STOCKPIPE_TEST_PG_URL not set (postgres.sh runs it on "
		       "a real server)");
	snprintf(sch, sizeof(sch), "t_lineage_%d", (int)getpid());
	T_OK(db_open(url, t_store_pwenv(), &d, &e), &e);
	snprintf(u, sizeof(u), "DROP SCHEMA IF EXISTS %s CASCADE;"
		 " CREATE SCHEMA %s", sch, sch);
	T_OK(db_exec(d, u, &e), &e);
	db_close(d);
	snprintf(u, sizeof(u), "%s%soptions=-csearch_path%%3D%s", url,
		 strchr(url, '?') ? "&" : "?", sch);
	migrate_story(u);
}

/* ---- doc_events: each document's id range, for its events ------------- */

/* Two documents loaded in one transaction, batched: sorted by position,
 * their events' ids interleave, so each range holds the other's events
 * too; unloading one takes its events only, through its range, and its
 * range goes with them. */
T_TEST(state_doc_ranges_find_a_documents_events)
{
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct canon_record r[4];
	struct load_stats ls;
	int i;

	T_OK(state_open("st", &st, &e), &e);
	doc_unit(20, "stores", "a.csv", SHA);
	doc_unit(21, "stores", "b.csv", SHA);
	r[0] = ev("A", "t1", "stores", "a.csv");
	r[1] = ev("C", "t2", "stores", "a.csv");
	r[2] = ev("B", "t3", "stores", "b.csv");
	r[3] = ev("D", "t4", "stores", "b.csv");
	memset(&ls, 0, sizeof(ls));
	T_OK(state_begin(st, &e), &e);
	state_load_batching(st);
	for (i = 0; i < 4; i++)
		T_OK(state_load_record(st, i < 2 ? 20 : 21, &r[i], &ls, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM doc_events"), 2);
	/* A, B, C, D in position order: the ranges overlap */
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM stock_events e JOIN"
			      " doc_events d ON e.id BETWEEN d.lo AND d.hi AND"
			      " d.doc = 20"), 3);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM sqlite_master WHERE name ="
			      " 'stock_events_doc'"),
		 0);
	T_OK(state_begin(st, &e), &e);
	T_OK(state_unload_doc(st, 20, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM stock_events"
			      " WHERE doc = 20"), 0);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM stock_events"
			      " WHERE doc = 21"), 2);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM positions"), 2);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM positions WHERE sku IN"
			      " ('B', 'D')"), 2);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM doc_events"), 1);
	/* loaded again, one record at a time: its range is made anew */
	T_OK(state_begin(st, &e), &e);
	for (i = 0; i < 2; i++)
		T_OK(state_load_record(st, 20, &r[i], &ls, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM positions"), 4);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM doc_events d WHERE d.doc ="
			      " 20 AND d.lo = (SELECT min(id) FROM stock_events"
			      " WHERE doc = 20) AND d.hi = (SELECT max(id) FROM"
			      " stock_events WHERE doc = 20)"), 1);
	state_close(st);
}

/* A document alone in its batches takes its range from two seeks (the
 * first id above the floor, the greatest id; SL_RANGE_ONE) instead of
 * reading every new event's doc: the bounds must be its events' own,
 * with earlier documents' events below the floor, one at a time,
 * batched and spilled to sorted runs, and a document whose every record
 * is a replay gets no range at all. */
T_TEST(state_doc_range_of_one_document_is_its_events)
{
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct canon_record r[6];
	static const char *const skus[6] = {"F", "B", "E", "A", "D", "C"};
	static const char *const names[4] = {"a.csv", "b.csv", "c.csv",
					     "d.csv"};
	char txn[6][16];
	int i, d;

	T_OK(state_open("st", &st, &e), &e);
	for (d = 30; d < 34; d++)
		doc_unit(d, "stores", names[d - 30], SHA);
	for (i = 0; i < 6; i++) {
		snprintf(txn[i], sizeof(txn[i]), "t%d", i);
		r[i] = ev(skus[i], txn[i], "stores", "a.csv");
	}
	/* 30: one at a time; 31: batched, spilled in runs of 2 (its
	 * events' ids come after 30's) */
	T_OK(t_store_load(st, 30, r, 3, 0, NULL, &e), &e);
	for (i = 0; i < 6; i++)
		r[i].lin.file = "b.csv";
	T_OK(t_store_load(st, 31, r + 3, 3, 2, NULL, &e), &e);
	for (i = 0; i < 6; i++)
		r[i].lin.file = "c.csv";
	/* 32: all replays of 31's txn_ids: no event, no range */
	T_OK(t_store_load(st, 32, r + 3, 3, 2, NULL, &e), &e);
	/* 33: two replays and one new record, one batch */
	snprintf(txn[0], sizeof(txn[0]), "t9");
	r[0].v[STOCK_TXN_ID] = txn[0];
	for (i = 0; i < 6; i++)
		r[i].lin.file = "d.csv";
	T_OK(t_store_load(st, 33, r, 3, 8, NULL, &e), &e);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM stock_events"), 7);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM doc_events"), 3);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM doc_events WHERE doc = 32"),
		 0);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM doc_events d WHERE"
			      " d.lo = (SELECT min(id) FROM stock_events e"
			      " WHERE e.doc = d.doc) AND d.hi = (SELECT max(id)"
			      " FROM stock_events e WHERE e.doc = d.doc)"),
		 3);
	state_close(st);
}
