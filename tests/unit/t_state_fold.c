/* t_state_fold.c - folding the stock events of collected runs
 * (pipeline/store/state_fold.c): only events a newer snapshot of a
 * collected run covers go, so unloading a document of a run inside the
 * window (a rerun's first step) rebuilds the same position as before
 * folding; a folded txn_id loaded again is a replay with the same counts
 * as one whose event is still there, one at a time, batched and in bulk;
 * every loaded txn_id is in the ledger as its 24-byte key (state_txn.c:
 * the group's SHA-256 prefix, then the record's place or its own
 * SHA-256 prefix); and the SQLite file shrinks, its page cache the
 * same size after. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/store/state.h"
#include "pipeline/store/state_fold.h"
#include "pipeline/store/state_int.h"
#include "pipeline/store/state_txn.h"
#include "t.h"
#include "t_store.h"

/* Run run_id with map unit (document) doc in DIR's store; collected
 * when gc. */
static void doc_of_run_in(const char *dir, int run_id, int doc, int gc)
{
	char path[256];
	char sql[512];
	sqlite3 *db;

	snprintf(sql, sizeof(sql),
		 "INSERT OR IGNORE INTO runs(run_id, started_at, status, gc_at)"
		 " VALUES(%d, '2026-11-01T06:00:00Z', 'done', %s);"
		 "INSERT INTO units(id, run_id, stage, scope, ukey, state)"
		 " VALUES(%d, %d, 'map', 's', 'd%d', 0)",
		 run_id, gc ? "'2026-11-30T06:00:00Z'" : "NULL", doc, run_id,
		 doc);

	snprintf(path, sizeof(path), "%s/state.db", dir);
	T_ASSERT(sqlite3_open(path, &db) == SQLITE_OK);
	T_ASSERT(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

static void doc_of_run(int run_id, int doc, int gc)
{
	doc_of_run_in("st", run_id, doc, gc);
}

static struct canon_record ev(const char *sku, const char *qty,
			      const char *mode, const char *as_of,
			      const char *txn)
{
	struct canon_record r;

	memset(&r, 0, sizeof(r));
	r.kind = CANON_STOCK;
	r.v[STOCK_SKU] = sku;
	r.v[STOCK_LOCATION] = "L";
	r.v[STOCK_STATE] = "on_hand";
	r.v[STOCK_QUANTITY] = qty;
	r.v[STOCK_MODE] = mode;
	r.v[STOCK_AS_OF] = as_of;
	r.v[STOCK_TXN_ID] = txn;
	r.lin.source = "s";
	r.lin.file = "f.csv";
	r.lin.line = 2;
	return r;
}

static int64_t qty_of(const char *sku)
{
	char sql[128];

	snprintf(sql, sizeof(sql),
		 "SELECT coalesce((SELECT qty / 1000000 FROM positions"
		 " WHERE sku = '%s'),"
		 " -1)",
		 sku);
	return t_store_sql1(sql);
}

T_TEST(state_txn_key_layout)
{
	/* SHA-256("abc") begins so */
	static const unsigned char abc[16] = {0xba, 0x78, 0x16, 0xbf,
					      0x8f, 0x01, 0xcf, 0xea,
					      0x41, 0x41, 0x40, 0xde,
					      0x5d, 0xae, 0x22, 0x23};
	static const unsigned char zero[8] = {0};
	static const unsigned char place[8] = {0, 0, 0, 10, 0, 0, 0, 7};
	unsigned char k[STATE_TXN_KEY], k2[STATE_TXN_KEY], g[8];
	struct state_txn_memo m = {0};
	struct err e = ERR_INIT;

	/* no separator: the whole txn_id is its group and its tail */
	T_OK(state_txn_key("abc", k, NULL, &e), &e);
	T_ASSERT(!memcmp(k, abc, 8) && !memcmp(k + 8, abc, 16));
	/* the mapping engine's default: group = the document's hash, tail =
	 * scope and record, exact and increasing */
	T_OK(state_txn_key("0382c7ac682e02e1:10:7", k, &m, &e), &e);
	memcpy(g, k, 8);
	T_ASSERT(!memcmp(k + 8, place, 8) && !memcmp(k + 16, zero, 8));
	T_OK(state_txn_key("0382c7ac682e02e1:10:8", k2, &m, &e), &e);
	T_ASSERT(!memcmp(k2, g, 8) && memcmp(k2, k, STATE_TXN_KEY) > 0);
	/* not canonical decimals: hashed, still in the document's group */
	T_OK(state_txn_key("0382c7ac682e02e1:010:7", k2, &m, &e), &e);
	T_ASSERT(!memcmp(k2, g, 8) && memcmp(k2 + 8, place, 8));
	/* "<sender>-<control>-<line>": grouped up to the last '-' */
	T_OK(state_txn_key("ACME-000123-1", k, NULL, &e), &e);
	T_OK(state_txn_key("ACME-000123-2", k2, NULL, &e), &e);
	T_ASSERT(!memcmp(k, k2, 8) && memcmp(k + 8, k2 + 8, 16));
}

/* P: a snapshot and a delta of collected run 1, a newer snapshot of
 * window run 2. Q: two snapshots of run 1. Only Q's older snapshot may
 * go: P's events are what P falls back to when run 2's document is
 * unloaded (a rerun of run 2 after a mapping fix). */
static void fold_and_replay(size_t cap, int bulk)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct load_stats ls;
	struct canon_record r1[] = {
		ev("P", "10", "snapshot", "2026-11-01T06:00:00Z", "a1"),
		ev("P", "5", "delta", "2026-11-02T06:00:00Z", "a2"),
		ev("Q", "1", "snapshot", "2026-11-01T06:00:00Z", "q1"),
		ev("Q", "2", "snapshot", "2026-11-02T06:00:00Z", "q2"),
	};
	struct canon_record r2[] = {
		ev("P", "100", "snapshot", "2026-11-03T06:00:00Z", "b1"),
	};
	struct canon_record old[] = {
		ev("Q", "1", "snapshot", "2026-11-01T06:00:00Z", "q1"),
		ev("Q", "1", "snapshot", "2026-11-01T06:00:00Z", "q1"),
	};
	struct canon_record live[] = {
		ev("Q", "1", "snapshot", "2026-11-01T06:00:00Z", "a1"),
		ev("Q", "1", "snapshot", "2026-11-01T06:00:00Z", "a1"),
	};
	struct load_stats want;
	unsigned char d[STATE_TXN_KEY];
	char sql[128], hex[2 * STATE_TXN_KEY + 1];
	int64_t folded;
	int i;

	T_OK(state_open("st", &st, &e), &e);
	state_load_bulk(st, bulk);
	doc_of_run(1, 10, 1);
	doc_of_run(2, 20, 0);
	T_OK(t_store_load(st, 10, r1, 4, cap, &ls, &e), &e);
	T_OK(t_store_load(st, 20, r2, 1, cap, &ls, &e), &e);
	T_EQ_INT(qty_of("P"), 100);
	T_EQ_INT(qty_of("Q"), 2);
	T_OK(state_fold_events(st, &folded, &e), &e);
	T_EQ_INT(folded, 1);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM stock_events"), 4);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM stock_events WHERE txn_id ="
			      " 'q1'"), 0);
	T_OK(state_txn_key("q1", d, NULL, &e), &e);
	for (i = 0; i < STATE_TXN_KEY; i++)
		snprintf(hex + 2 * i, 3, "%02X", d[i]);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM txn_digests WHERE hex(digest) = '%s'",
		 hex);
	T_EQ_INT(t_store_sql1(sql), 1);
	/* every txn_id loaded, folded or not */
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM txn_digests"), 5);
	T_EQ_INT(qty_of("Q"), 2);
	/* Folding again finds nothing: the newest snapshot stays. */
	T_OK(state_fold_events(st, &folded, &e), &e);
	T_EQ_INT(folded, 0);

	/* A replay of an existing event (a1) and of a folded one (q1), each
	 * twice in one document: the same counts, nothing applied. */
	doc_of_run(3, 30, 0);
	doc_of_run(3, 31, 0);
	T_OK(t_store_load(st, 30, live, 2, cap, &ls, &e), &e);
	want = ls;
	T_EQ_INT(want.dupes, 2);
	T_EQ_INT(want.applied, 0);
	T_OK(t_store_load(st, 31, old, 2, cap, &ls, &e), &e);
	T_EQ_INT(ls.dupes, want.dupes);
	T_EQ_INT(ls.applied, want.applied);
	T_EQ_INT(ls.stale, want.stale);
	T_EQ_INT(qty_of("Q"), 2);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM stock_events"), 4);

	/* The window run's document unloaded: P falls back to run 1's
	 * snapshot and delta, which folding kept. */
	T_OK(state_begin(st, &e), &e);
	T_OK(state_unload_doc(st, 20, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_EQ_INT(qty_of("P"), 15);
	state_close(st);
}

T_TEST(state_fold_keeps_window_needs_one_at_a_time)
{
	fold_and_replay(0, 0);
}

T_TEST(state_fold_keeps_window_needs_batched)
{
	fold_and_replay(64, 0);
}

T_TEST(state_fold_keeps_window_needs_bulk)
{
	fold_and_replay(64, 1);
}

/* A snapshot of another source does not cover (reconcile compares the
 * latest snapshot of each source), nor does one of an uncollected run. */
T_TEST(state_fold_only_same_source_collected_cover)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct load_stats ls;
	struct canon_record a = ev("P", "1", "snapshot", "2026-11-01T06:00:00Z",
				   "x1"),
			    b = ev("P", "2", "snapshot", "2026-11-02T06:00:00Z",
				   "x2");
	int64_t folded;

	b.lin.source = "other";
	T_OK(state_open("st", &st, &e), &e);
	doc_of_run(1, 10, 1);
	doc_of_run(1, 11, 1);
	T_OK(t_store_load(st, 10, &a, 1, 0, &ls, &e), &e);
	T_OK(t_store_load(st, 11, &b, 1, 0, &ls, &e), &e);
	T_OK(state_fold_events(st, &folded, &e), &e);
	T_EQ_INT(folded, 0);
	b.lin.source = "s";
	b.v[STOCK_TXN_ID] = "x3";
	doc_of_run(2, 20, 0);
	T_OK(t_store_load(st, 20, &b, 1, 0, &ls, &e), &e);
	T_OK(state_fold_events(st, &folded, &e), &e);
	T_EQ_INT(folded, 0);
	/* Once run 2 is collected, x3 covers x1. */
	T_ASSERT(t_store_sql1("UPDATE runs SET gc_at = 'x' WHERE run_id = 2") ==
		 0);
	T_OK(state_fold_events(st, &folded, &e), &e);
	T_EQ_INT(folded, 1);
	T_EQ_INT(t_store_sql1("SELECT count(*) FROM stock_events WHERE txn_id ="
			      " 'x1'"), 0);
	T_EQ_INT(qty_of("P"), 2);
	state_close(st);
}

static int64_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) < 0 ? -1 : (int64_t)sb.st_size;
}

/* The store handle's page cache size (PRAGMA cache_size). */
static int64_t cache_size(struct state *st)
{
	struct err e = ERR_INIT;
	int64_t v = 0;

	if (state_sql_rows(st, "PRAGMA cache_size", SA_NONE, state_row_int,
			   &v, &e) < 0)
		return 0;
	return v;
}

/* Many old snapshots folded: the file gives the space back, with one
 * VACUUM that switches auto_vacuum to INCREMENTAL, and the next time
 * incrementally. Folding and its VACUUM run in a smaller page cache
 * (their sorts and VACUUM's copy take as much again) and give the
 * load's size back after. */
T_TEST(state_fold_reclaim_shrinks_sqlite)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct load_stats ls;
	char txn[64], as_of[80], qty[24], sku[32];
	struct canon_record r;
	int64_t folded, freed, before;
	int64_t cache;
	int i, round;

	T_OK(state_open("st", &st, &e), &e);
	cache = cache_size(st);
	T_ASSERT(cache < -4096);
	for (round = 0; round < 2; round++) {
		doc_of_run(round + 1, 10 + round, 1);
		T_OK(state_begin(st, &e), &e);
		state_load_batching(st);
		for (i = 0; i < 20000; i++) {
			snprintf(sku, sizeof(sku), "SKU-%d", i % 50);
			snprintf(txn, sizeof(txn),
				 "a-long-enough-txn-id-%d-%06d", round, i);
			snprintf(as_of, sizeof(as_of),
				 "2026-%02d-%02dT%02d:%02d:00Z", 1 + round * 6 +
				 i / 4000, 1 + i % 4000 / 160, i % 160 / 8, 0);
			snprintf(qty, sizeof(qty), "%d", i);
			r = ev(sku, qty, "snapshot", as_of, txn);
			T_OK(state_load_record(st, 10 + round, &r, &ls, &e), &e);
		}
		T_OK(state_load_flush(st, &e), &e);
		T_OK(state_commit(st, &e), &e);
		T_OK(state_fold_events(st, &folded, &e), &e);
		T_ASSERT(folded > 19000);
		T_EQ_INT(t_store_sql1("SELECT count(*) FROM stock_events"), 50);
		before = file_size("st/state.db") +
			 file_size("st/state.db-wal");
		T_OK(state_fold_reclaim(st, &freed, &e), &e);
		T_ASSERT(freed > 0);
		T_ASSERT(file_size("st/state.db") +
				 file_size("st/state.db-wal") <
			 before / 2);
		T_EQ_INT(t_store_sql1("PRAGMA auto_vacuum"), 2);
		T_EQ_INT(t_store_sql1("PRAGMA freelist_count"), 0);
		T_EQ_INT(cache_size(st), cache);
	}
	state_close(st);
}

/* The txn_ids of the events DIR's store keeps, in order, joined by ','
 * into out (cut at n: the caller's buffer holds them all). */
static void kept_events(const char *dir, char *out, size_t n)
{
	char path[256];
	sqlite3 *db;
	sqlite3_stmt *p;
	size_t len = 0;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/state.db", dir);
	T_ASSERT(sqlite3_open(path, &db) == SQLITE_OK);
	T_ASSERT(sqlite3_prepare_v2(db,
				    "SELECT txn_id FROM stock_events"
				    " ORDER BY txn_id",
				    -1, &p, NULL) == SQLITE_OK);
	while (sqlite3_step(p) == SQLITE_ROW && len + 40 < n)
		len += (size_t)snprintf(out + len, n - len, "%s,",
					(const char *)sqlite3_column_text(p, 0));
	sqlite3_finalize(p);
	sqlite3_close(db);
}

#define INC_RUNS 6
#define INC_DOCS 2  /* documents per run */
#define INC_EVENTS 14 /* events per document */

/* Document doc's events, the same in both stores: 4 SKUs on one
 * location, 2 sources, snapshots (3 in 4) and deltas, as_of spread over
 * days so that a later run's record may be older than an earlier one's;
 * a fifth SKU of deltas only. */
static void inc_doc(int doc, struct canon_record *r, char (*txt)[3][40])
{
	static const char *const skus[] = {"A", "B", "C", "D"};
	uint64_t x = (uint64_t)doc * 0x9e3779b97f4a7c15ULL + 7;
	int i;

	for (i = 0; i < INC_EVENTS; i++) {
		unsigned v;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		v = (unsigned)(x >> 33);
		snprintf(txt[i][0], 40, "t%03d-%02d", doc, i);
		snprintf(txt[i][1], 40, "2026-11-%02uT06:%02u:00Z",
			 1 + doc / 10 + v % 4, v / 7 % 60);
		snprintf(txt[i][2], 40, "%u", v / 11 % 90 + 1);
		r[i] = ev(skus[v / 3 % 4], txt[i][2],
			  v / 13 % 4 ? "snapshot" : "delta", txt[i][1],
			  txt[i][0]);
		r[i].lin.source = v / 17 % 3 ? "s" : "t";
		r[i].lin.line = i + 2;
	}
	/* and a position of deltas only (nothing ever covers them) */
	r[0].v[STOCK_SKU] = "Z";
	r[0].v[STOCK_MODE] = "delta";
}

/* Loads run's documents into both stores (not collected yet). */
static void inc_load(struct state *a, struct state *b, int run)
{
	struct canon_record r[INC_EVENTS];
	char txt[INC_EVENTS][3][40];
	struct load_stats ls;
	struct err e = ERR_INIT;
	int d;

	for (d = 0; d < INC_DOCS; d++) {
		int doc = run * 10 + d;

		doc_of_run_in("st", run, doc, 0);
		doc_of_run_in("st2", run, doc, 0);
		inc_doc(doc, r, txt);
		T_OK(t_store_load(a, doc, r, INC_EVENTS, 0, &ls, &e), &e);
		inc_doc(doc, r, txt);
		T_OK(t_store_load(b, doc, r, INC_EVENTS, 0, &ls, &e), &e);
	}
}

/* Collects the runs of mask (bit run) in both stores, folds st's with
 * the incremental pick and st2's with the full one, and holds st to
 * st2's kept events; *total += the events folded (fold_n: them
 * alone). */
static int64_t fold_n;

static void inc_collect(struct state *a, struct state *b, unsigned mask,
			int64_t *total)
{
	static char ka[1 << 14], kb[1 << 14];
	struct err e = ERR_INIT;
	char sql[128];
	int64_t fa, fb;
	int run;

	for (run = 1; run <= INC_RUNS; run++) {
		if (!(mask & 1u << run))
			continue;
		snprintf(sql, sizeof(sql),
			 "UPDATE runs SET gc_at = 'x' WHERE run_id = %d", run);
		T_ASSERT(t_store_sql1_in("st", sql) == 0 &&
			 t_store_sql1_in("st2", sql) == 0);
	}
	T_OK(state_fold_events_pick(a, STATE_FOLD_NEW, "2026-12-01T00:00:00Z",
				    &fa, &e),
	     &e);
	T_OK(state_fold_events_pick(b, STATE_FOLD_FULL, "2026-12-01T00:00:00Z",
				    &fb, &e),
	     &e);
	kept_events("st", ka, sizeof(ka));
	kept_events("st2", kb, sizeof(kb));
	if (strcmp(ka, kb))
		fprintf(stderr, "    incremental kept %s\n    full kept        %s\n",
			ka, kb);
	T_ASSERT(!strcmp(ka, kb));
	T_EQ_INT(fa, fb);
	/* every collected run is counted now */
	T_EQ_INT(t_store_sql1_in("st",
				 "SELECT count(*) FROM runs WHERE gc_at IS NOT"
				 " NULL AND fold_at IS NULL"),
		 0);
	fold_n = fa;
	*total += fa;
}

/* The incremental pick (the positions of the runs collected since the
 * last fold) keeps the same events as the full pick over every collected
 * run, whatever the order runs are loaded and collected in: runs
 * collected one at a time, two at once, out of order, and a fold with
 * nothing newly collected. */
T_TEST(state_fold_incremental_equals_full)
{
	struct state *a, *b;
	struct err e = ERR_INIT;
	int64_t total = 0, folded;

	T_OK(state_open("st", &a, &e), &e);
	T_OK(state_open("st2", &b, &e), &e);
	inc_load(a, b, 1);
	inc_load(a, b, 2);
	inc_load(a, b, 3);
	inc_collect(a, b, 1u << 1, &total);
	inc_collect(a, b, 1u << 2, &total);
	inc_load(a, b, 4);
	inc_collect(a, b, 1u << 3 | 1u << 4, &total);
	/* nothing newly collected: nothing folded */
	inc_collect(a, b, 0, &total);
	T_EQ_INT(fold_n, 0);
	inc_load(a, b, 5);
	inc_load(a, b, 6);
	inc_collect(a, b, 1u << 6, &total);
	inc_collect(a, b, 1u << 5, &total);
	/* the comparison means something: folds happened on the way */
	T_ASSERT(total > 10);
	T_EQ_INT(t_store_sql1_in("st", "SELECT count(*) FROM stock_events"
				       " WHERE sku = 'Z'"),
		 INC_RUNS * INC_DOCS);
	/* AUTO on a store with nothing new: nothing folded, no error */
	T_OK(state_fold_events(a, &folded, &e), &e);
	T_EQ_INT(folded, 0);
	state_close(a);
	state_close(b);
}
