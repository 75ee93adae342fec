/* t_state_lineage.c - schema 12's narrower stock events
 * (pipeline/store/state_lineage.c): an event's source and file are
 * stored NULL when they are its document's unit's (scope, key) and read
 * back from the unit; one that differs keeps its text. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pipeline/store/state.h"
#include "pipeline/store/state_int.h"
#include "t.h"

/* The first column of the first row of sql on st/state.db (0: none). */
static int64_t sql1(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *p;
	int64_t v = 0;

	if (sqlite3_open("st/state.db", &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 2000);
	if (sqlite3_prepare_v2(db, sql, -1, &p, NULL) != SQLITE_OK) {
		fprintf(stderr, "    %s: %s\n", sql, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	if (sqlite3_step(p) == SQLITE_ROW)
		v = sqlite3_column_int64(p, 0);
	sqlite3_finalize(p);
	sqlite3_close(db);
	return v;
}

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

/* Loads r[0..n) as document doc in one transaction (batched when cap:
 * the batch spills to sorted runs when the document is larger). */
static int load(struct state *st, int doc, struct canon_record *r, int n,
		size_t cap, struct err *e)
{
	struct load_stats ls;
	int i;

	memset(&ls, 0, sizeof(ls));
	if (state_begin(st, e) < 0)
		return -1;
	if (cap) {
		state_load_batch_max(st, cap);
		state_load_batching(st);
	}
	for (i = 0; i < n; i++)
		if (state_load_record(st, doc, &r[i], &ls, e) < 0)
			goto fail;
	if (state_load_flush(st, e) < 0)
		goto fail;
	return state_commit(st, e);
fail:
	state_rollback(st);
	return -1;
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
	T_OK(load(st, 10, r, 3, 0, &e), &e);
	/* the same, batched through the spill (documents over the batch) */
	r[3] = ev("D", "t4", "stores", "b.csv");
	r[4] = ev("E", "t5", "stores", "other.csv");
	r[5] = ev("F", "t6", "erp", "b.csv");
	T_OK(load(st, 11, r + 3, 3, 2, &e), &e);
	T_EQ_INT(sql1("SELECT count(*) FROM stock_events"), 6);
	T_EQ_INT(sql1("SELECT count(*) FROM stock_events WHERE source IS NULL"
		      " AND file IS NULL AND sku IN ('A', 'D')"), 2);
	T_EQ_INT(sql1("SELECT count(*) FROM stock_events WHERE source IS NULL"
		      " AND file = 'other.csv' AND sku IN ('B', 'E')"), 2);
	T_EQ_INT(sql1("SELECT count(*) FROM stock_events WHERE source = 'erp'"
		      " AND file IS NULL AND sku IN ('C', 'F')"), 2);
	/* read back through the unit: every event as it was loaded */
	T_EQ_INT(sql1("SELECT count(*) FROM stock_events e JOIN units u"
		      " ON u.id = e.doc WHERE coalesce(e.source, u.scope) ="
		      " CASE WHEN e.sku IN ('C', 'F') THEN 'erp' ELSE 'stores'"
		      " END AND coalesce(e.file, u.ukey) = CASE WHEN e.sku IN"
		      " ('B', 'E') THEN 'other.csv' WHEN e.doc = 10 THEN 'a.csv'"
		      " ELSE 'b.csv' END"), 6);
	/* reconcile groups by the source the unit gives */
	T_OK(state_reconcile_each(st, 0, "stores", "erp", recon_row, &c, &e),
	     &e);
	T_EQ_INT(c.a, 4);
	T_EQ_INT(c.b, 2);
	state_close(st);
}
