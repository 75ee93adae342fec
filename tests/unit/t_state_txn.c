/* t_state_txn.c - the txn_id ledger's document keys (schema 15,
 * pipeline/store/state_txn.c): the default txn_ids of one document go
 * into txn_digests as one key, whatever the number of its batches; the
 * same content loaded again (another document) is duplicates only; a
 * group that has per-record keys (a store of schema 14) is deduped the
 * per-record way; unloading a document takes its document key out, so a
 * rerun loads it again, its keys deleted in key order; txn_ids of the
 * mapping's own keep a key each; two copies in one transaction apply
 * once. On SQLite, and on PostgreSQL with
 * STOCKPIPE_TEST_PG_URL (postgres.sh), where two connections loading
 * one content at once apply it once. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/store/db.h"
#include "pipeline/store/state.h"
#include "pipeline/store/state_int.h" /* the store's connection (st->db) */
#include "pipeline/store/state_txn.h"
#include "t.h"
#include "t_store.h"

/* Whether key k is in the ledger (1), not (0), -1 on an error. */
static int has_key(struct db *d, const unsigned char *k)
{
	struct err e = ERR_INIT;
	struct db_stmt *p = db_prepare(
		d, "SELECT count(*) FROM txn_digests WHERE digest = ?", 0, &e);
	int v = -1;

	if (!p)
		return -1;
	db_bind_blob(p, 1, k, STATE_TXN_KEY);
	if (db_step(p, &e) == 1)
		v = (int)db_col_int64(p, 0);
	db_finalize(p);
	return v;
}

/* The document key of the content whose SHA-256 starts with sha16. */
static void doc_key(const char *sha16, unsigned char *k)
{
	char txn[64];
	struct err e = ERR_INIT;

	snprintf(txn, sizeof(txn), "%.16s:1:0", sha16);
	T_OK(state_txn_key(txn, k, NULL, &e), &e);
	state_txn_doc_key(k, k);
}

/* Adds the key of txn to the ledger, as a store of schema 14 left it. */
static void put_key(struct db *d, const char *txn)
{
	unsigned char k[STATE_TXN_KEY];
	struct err e = ERR_INIT;
	struct db_stmt *p;

	T_OK(state_txn_key(txn, k, NULL, &e), &e);
	p = db_prepare(d, "INSERT INTO txn_digests(digest) VALUES(?)", 0, &e);
	T_ASSERT(p != NULL);
	db_bind_blob(p, 1, k, STATE_TXN_KEY);
	T_ASSERT(db_step(p, &e) == 0);
	db_finalize(p);
}

#define NREC 12
struct doc {
	char txn[NREC][48], sku[NREC][16];
	struct canon_record r[NREC];
	int n;
};

/* Document of n records on SKUs <sha[0]>0.., default txn_ids of sha (16 hex)
 * but the named ones (named[i] not NULL). */
static void doc_make(struct doc *d, const char *sha, int n,
		     const char *const *named)
{
	int i;

	memset(d, 0, sizeof(*d));
	d->n = n;
	for (i = 0; i < n; i++) {
		struct canon_record *r = &d->r[i];

		snprintf(d->sku[i], sizeof(d->sku[i]), "%c%d", sha[0], i);
		if (named && named[i])
			snprintf(d->txn[i], sizeof(d->txn[i]), "%s", named[i]);
		else
			snprintf(d->txn[i], sizeof(d->txn[i]), "%.16s:%d:%d",
				 sha, 3 + i / 5, i % 5);
		r->kind = CANON_STOCK;
		r->v[STOCK_SKU] = d->sku[i];
		r->v[STOCK_LOCATION] = "L";
		r->v[STOCK_STATE] = "on_hand";
		r->v[STOCK_QUANTITY] = "5";
		r->v[STOCK_MODE] = "snapshot";
		r->v[STOCK_AS_OF] = "2026-11-20T06:00:00Z";
		r->v[STOCK_TXN_ID] = d->txn[i];
		r->lin.source = "stores";
		r->lin.file = "a.csv";
		r->lin.line = (unsigned long)i + 2;
	}
}

/* Queues document d as document id doc in the open transaction. */
static int queue(struct state *st, int doc, const struct doc *d,
		 struct load_stats *ls, struct err *e)
{
	int i;

	for (i = 0; i < d->n; i++)
		if (state_load_record(st, doc, &d->r[i], ls, e) < 0)
			return -1;
	return 0;
}

/* Loads d as document doc in one transaction, batches of cap records
 * (SQLite spills a document larger than one); counts into *ls. */
static int load(struct state *st, int doc, const struct doc *d, size_t cap,
		struct load_stats *ls, struct err *e)
{
	memset(ls, 0, sizeof(*ls));
	if (state_begin_rows(st, e) < 0)
		return -1;
	state_load_batch_max(st, cap);
	state_load_batching(st);
	if (queue(st, doc, d, ls, e) < 0 || state_load_flush(st, e) < 0) {
		state_rollback(st);
		return -1;
	}
	return state_commit(st, e);
}

static int unload(struct state *st, int doc, struct err *e)
{
	if (state_begin(st, e) < 0)
		return -1;
	if (state_unload_doc(st, doc, e) < 0) {
		state_rollback(st);
		return -1;
	}
	return state_commit(st, e);
}

#define SHA_A "aaaaaaaaaaaaaaaa0123456789abcdef"
#define SHA_B "bbbbbbbbbbbbbbbb0123456789abcdef"
#define SHA_C "cccccccccccccccc0123456789abcdef"
#define SHA_D "dddddddddddddddd0123456789abcdef"

/* Map units: 10, 11 (one content), 12, 15 (another), 13, 14 (a third:
 * its keys as schema 14 wrote them), 16, 17 (a fourth). */
static const char units_sql[] =
	"INSERT INTO runs(run_id, started_at, status) VALUES(1,"
	" '2026-11-01T06:00:00Z', 'done');"
	"INSERT INTO units(id, run_id, stage, scope, ukey, state, input_sha)"
	" VALUES(10, 1, 'map', 'stores', 'a.csv', 0, '" SHA_A "'),"
	" (11, 1, 'map', 'stores', 'x.zip:a.csv', 0, '" SHA_A "'),"
	" (12, 1, 'map', 'stores', 'b.csv', 0, '" SHA_B "'),"
	" (15, 1, 'map', 'stores', 'b2.csv', 0, '" SHA_B "'),"
	" (13, 1, 'map', 'stores', 'c.csv', 0, '" SHA_C "'),"
	" (14, 1, 'map', 'stores', 'c2.csv', 0, '" SHA_C "'),"
	" (16, 1, 'map', 'stores', 'd.csv', 0, '" SHA_D "'),"
	" (17, 1, 'map', 'stores', 'd2.csv', 0, '" SHA_D "')";

#define SHA_E "eeeeeeeeeeeeeeee0123456789abcdef"
#define SHA_F "ffffffffffffffff0123456789abcdef"

/* Keys of the ledger in the group of the content sha (16 hex). */
static int64_t group_keys(struct db *d, const char *sha)
{
	unsigned char k[STATE_TXN_KEY], lo[STATE_TXN_KEY];
	struct err e = ERR_INIT;
	struct db_stmt *p = db_prepare(
		d, "SELECT count(*) FROM txn_digests WHERE digest >= ?"
		   " AND digest <= ?", 0, &e);
	int64_t v = -1;

	doc_key(sha, k);
	memcpy(lo, k, 8);
	memset(lo + 8, 0, STATE_TXN_KEY - 8);
	if (!p)
		return -1;
	db_bind_blob(p, 1, lo, STATE_TXN_KEY);
	db_bind_blob(p, 2, k, STATE_TXN_KEY);
	if (db_step(p, &e) == 1)
		v = db_col_int64(p, 0);
	db_finalize(p);
	return v;
}

/* Documents that lost records on the way keep a key per record, so that
 * a replay after the fix loads the records lost: one whose map unit
 * rejected rows (18), one whose load rejected records (20: the load
 * stage splits its document key). */
static void story_rejects(struct state *st, struct db *d)
{
	static struct doc a, a7, f, f7;
	unsigned char k[STATE_TXN_KEY];
	struct err e = ERR_INIT;
	struct load_stats ls;

	T_OK(db_exec(d, "INSERT INTO units(id, run_id, stage, scope, ukey,"
		     " state, input_sha, rejects) VALUES(18, 1, 'map',"
		     " 'stores', 'e.csv', 0, '" SHA_E "', 2), (19, 1, 'map',"
		     " 'stores', 'e2.csv', 0, '" SHA_E "', 0), (20, 1, 'map',"
		     " 'stores', 'f.csv', 0, '" SHA_F "', 0), (21, 1, 'map',"
		     " 'stores', 'f2.csv', 0, '" SHA_F "', 0)", &e),
	     &e);
	doc_make(&a, SHA_E, 4, NULL);
	doc_make(&a7, SHA_E, 7, NULL); /* the mapping fixed */
	T_OK(load(st, 18, &a, 32, &ls, &e), &e);
	T_EQ_INT(ls.applied, 4);
	doc_key(SHA_E, k);
	T_EQ_INT(has_key(d, k), 0);
	T_EQ_INT(group_keys(d, SHA_E), 4);
	T_OK(load(st, 19, &a7, 3, &ls, &e), &e);
	T_EQ_INT(ls.dupes, 4);
	T_EQ_INT(ls.applied, 3);

	doc_make(&f, SHA_F, 5, NULL);
	doc_make(&f7, SHA_F, 7, NULL);
	memset(&ls, 0, sizeof(ls));
	T_OK(state_begin_rows(st, &e), &e);
	state_load_batch_max(st, 2);
	state_load_batching(st);
	T_OK(queue(st, 20, &f, &ls, &e), &e);
	T_OK(state_txn_doc_split(st, 20, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_EQ_INT(ls.applied, 5);
	doc_key(SHA_F, k);
	T_EQ_INT(has_key(d, k), 1);
	T_EQ_INT(group_keys(d, SHA_F), 5 + 2); /* and the split mark */
	T_OK(load(st, 21, &f7, 3, &ls, &e), &e);
	T_EQ_INT(ls.dupes, 5);
	T_EQ_INT(ls.applied, 2);
	/* a replay of a replay: the same */
	T_OK(load(st, 21, &f7, 3, &ls, &e), &e);
	T_EQ_INT(ls.dupes, 7);
	/* unloading it takes its document key and split mark too */
	T_OK(unload(st, 20, &e), &e);
	T_EQ_INT(has_key(d, k), 0);
	T_EQ_INT(group_keys(d, SHA_F), 2);
}

static void story(const char *url)
{
	/* the fifth: a txn_id of the mapping's own in the group (not the
	 * engine's spelling of 7) */
	static const char *const named[NREC] = {NULL, "N-1", NULL, "N-2",
						"bbbbbbbbbbbbbbbb:07:0"};
	static struct doc a, b, b2, c, dd, dd2;
	unsigned char ka[STATE_TXN_KEY], kb[STATE_TXN_KEY],
		kc[STATE_TXN_KEY], kd[STATE_TXN_KEY];
	struct state *st = NULL;
	struct db *d = NULL;
	struct err e = ERR_INIT;
	struct load_stats ls;
	int i;

	doc_key(SHA_A, ka);
	doc_key(SHA_B, kb);
	doc_key(SHA_C, kc);
	doc_key(SHA_D, kd);
	T_OK(state_open_db("st", url, t_store_pwenv(), &st, &e), &e);
	T_OK(db_open(url ? url : "st/state.db", url ? t_store_pwenv() : NULL,
		     &d, &e), &e);
	T_OK(db_exec(d, units_sql, &e), &e);

	/* 12 default txn_ids in batches of 4 (SQLite: spilled runs): one
	 * key, the document's */
	doc_make(&a, SHA_A, 12, NULL);
	T_OK(load(st, 10, &a, 4, &ls, &e), &e);
	T_EQ_INT(ls.applied, 12);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM txn_digests"), 1);
	T_EQ_INT(has_key(d, ka), 1);
	/* the same content again, another document (another archive):
	 * duplicates only, in other batches */
	T_OK(load(st, 11, &a, 5, &ls, &e), &e);
	T_EQ_INT(ls.dupes, 12);
	T_EQ_INT(ls.applied, 0);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM stock_events"), 12);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM txn_digests"), 1);

	/* default and named txn_ids in one document: one key for the
	 * defaults, one each for the named; a replay is duplicates */
	doc_make(&b, SHA_B, 6, named);
	T_OK(load(st, 12, &b, 32, &ls, &e), &e);
	T_EQ_INT(ls.applied, 6);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM txn_digests"), 5);
	T_EQ_INT(has_key(d, kb), 1);
	T_OK(load(st, 15, &b, 32, &ls, &e), &e);
	T_EQ_INT(ls.dupes, 6);
	/* a named txn_id is a duplicate in any document */
	doc_make(&b2, SHA_A, 1, named + 1);
	T_OK(load(st, 11, &b2, 32, &ls, &e), &e);
	T_EQ_INT(ls.dupes, 1);

	/* a store of schema 14: per-record keys of five of the records */
	doc_make(&c, SHA_C, 8, NULL);
	for (i = 0; i < 5; i++)
		put_key(d, c.txn[i]);
	T_OK(load(st, 13, &c, 3, &ls, &e), &e);
	T_EQ_INT(ls.dupes, 5);
	T_EQ_INT(ls.applied, 3);
	T_EQ_INT(has_key(d, kc), 0);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM txn_digests"), 5 + 8);
	T_OK(load(st, 14, &c, 3, &ls, &e), &e);
	T_EQ_INT(ls.dupes, 8);

	/* a rerun: unloading takes the document key out, loading again
	 * applies it all and puts it back */
	T_OK(unload(st, 10, &e), &e);
	T_EQ_INT(has_key(d, ka), 0);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM stock_events"
			       " WHERE doc = 10"), 0);
	T_OK(load(st, 10, &a, 4, &ls, &e), &e);
	T_EQ_INT(ls.applied, 12);
	T_EQ_INT(has_key(d, ka), 1);
	/* the same in one transaction, as the load stage does it */
	memset(&ls, 0, sizeof(ls));
	T_OK(state_begin_rows(st, &e), &e);
	state_load_batch_max(st, 5);
	state_load_batching(st);
	T_OK(queue(st, 10, &a, &ls, &e), &e);
	T_OK(state_unload_doc(st, 10, &e), &e);
	T_OK(queue(st, 10, &a, &ls, &e), &e);
	T_OK(state_load_flush(st, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_EQ_INT(ls.dupes, 12);  /* the first pass: the key was there */
	T_EQ_INT(ls.applied, 12);
	T_EQ_INT(has_key(d, ka), 1);
	/* a document of the per-record way: its records' keys go, the
	 * five of the old store stay */
	T_OK(unload(st, 13, &e), &e);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM txn_digests"), 5 + 5);
	T_OK(load(st, 13, &c, 3, &ls, &e), &e);
	T_EQ_INT(ls.dupes, 5);
	T_EQ_INT(ls.applied, 3);

	/* two copies in one transaction: the first applies; also when the
	 * second's records are not the batch's dupes of the first's (its
	 * mapping numbered them otherwise): its document key is the same */
	doc_make(&dd, SHA_D, 6, NULL);
	doc_make(&dd2, SHA_D, 6, NULL);
	for (i = 0; i < 6; i++)
		snprintf(dd2.txn[i], sizeof(dd2.txn[i]), "%.16s:9:%d", SHA_D, i);
	memset(&ls, 0, sizeof(ls));
	T_OK(state_begin_rows(st, &e), &e);
	state_load_batch_max(st, 32);
	state_load_batching(st);
	T_OK(queue(st, 16, &dd, &ls, &e), &e);
	T_OK(queue(st, 17, &dd2, &ls, &e), &e);
	T_OK(state_load_flush(st, &e), &e);
	T_OK(state_commit(st, &e), &e);
	T_EQ_INT(ls.applied, 6);
	T_EQ_INT(ls.dupes, 6);
	T_EQ_INT(has_key(d, kd), 1);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM stock_events"
			       " WHERE doc = 17"), 0);
	story_rejects(st, d);
	state_close(st);
	db_close(d);
}

T_TEST(state_txn_doc_key_sqlite)
{
	story(NULL);
}

/* An unload deletes the document's keys in key order (keys_put: one
 * b-tree range, PostgreSQL's lock order), however its txn_ids were
 * named: the store's own connection logs the deletes (a temporary
 * trigger is its connection's only). */
T_TEST(state_txn_unload_in_key_order)
{
	static const char *const named[NREC] = {
		"zz-9", "aa-1", NULL, "mm-5", "Q:7:x", "x/3", NULL, "bb-2",
		"k.8", "c-4"};
	static struct doc a;
	struct state *st = NULL;
	struct err e = ERR_INIT;
	struct load_stats ls;

	T_OK(state_open_db("st", NULL, NULL, &st, &e), &e);
	T_OK(db_exec(st->db, units_sql, &e), &e);
	doc_make(&a, SHA_A, 10, named);
	T_OK(load(st, 10, &a, 32, &ls, &e), &e);
	T_EQ_INT(ls.applied, 10);
	T_EQ_INT(t_store_q1(st->db, "SELECT count(*) FROM txn_digests"), 8 + 1);
	T_OK(db_exec(st->db, "CREATE TEMP TABLE put_log(k BLOB);"
		     " CREATE TEMP TRIGGER put_del AFTER DELETE ON"
		     " main.txn_digests BEGIN INSERT INTO put_log(k)"
		     " VALUES(old.digest); END", &e),
	     &e);
	T_OK(unload(st, 10, &e), &e);
	T_EQ_INT(t_store_q1(st->db, "SELECT count(*) FROM txn_digests"), 0);
	T_EQ_INT(t_store_q1(st->db, "SELECT count(*) FROM put_log"), 8 + 1);
	T_EQ_INT(t_store_q1(st->db,
			    "SELECT count(*) FROM put_log a JOIN put_log b"
			    " ON b.rowid = a.rowid + 1 WHERE b.k <= a.k"),
		 0);
	state_close(st);
}

T_TEST(state_txn_doc_key_pg)
{
	const char *url = getenv("STOCKPIPE_TEST_PG_URL");
	char sch[64], u[600];
	struct err e = ERR_INIT;

	if (!url || !*url)
		T_SKIP("STOCKPIPE_TEST_PG_URL not set (postgres.sh runs it on "
		       "a real server)");
	snprintf(sch, sizeof(sch), "t_txn_%d", (int)getpid());
	T_OK(t_store_fresh_schema(url, sch, &e), &e);
	t_store_schema_url(url, sch, u, sizeof(u));
	story(u);
	t_store_fresh_schema(url, sch, &e);
}

/* ---- two connections, one content (PostgreSQL) ----------------------- */

struct twin {
	const char *url;
	int doc, first;
	pthread_barrier_t *queued;
	struct load_stats ls;
	struct err e;
	int rc;
};

/* The first loads its copy and waits before committing; the second
 * starts its load only then: its probe cannot see the first's key, its
 * insert waits for the first's commit and finds the key taken. */
static void *twin_main(void *arg)
{
	static struct doc a;
	struct twin *t = arg;
	struct state *st = NULL;

	err_clear(&t->e);
	memset(&t->ls, 0, sizeof(t->ls));
	if (t->first)
		doc_make(&a, SHA_A, 12, NULL);
	t->rc = state_open_db("pgt", t->url, t_store_pwenv(), &st, &t->e);
	if (t->rc == 0 && t->first) {
		t->rc = state_begin_rows(st, &t->e);
		state_load_batch_max(st, 5);
		state_load_batching(st);
		if (!t->rc)
			t->rc = queue(st, t->doc, &a, &t->ls, &t->e);
		if (!t->rc)
			t->rc = state_load_flush(st, &t->e);
	}
	pthread_barrier_wait(t->queued);
	if (t->rc == 0 && t->first) {
		usleep(300 * 1000);
		t->rc = state_commit(st, &t->e);
	} else if (t->rc == 0) {
		t->rc = load(st, t->doc, &a, 5, &t->ls, &t->e);
	}
	state_close(st);
	return NULL;
}

T_TEST(state_txn_doc_key_pg_two_loads_at_once)
{
	const char *url = getenv("STOCKPIPE_TEST_PG_URL");
	char sch[64], u[600];
	unsigned char ka[STATE_TXN_KEY];
	pthread_barrier_t queued;
	pthread_t th[2];
	struct twin t[2];
	struct state *st;
	struct db *d;
	struct err e = ERR_INIT;
	int i;

	if (!url || !*url)
		T_SKIP("STOCKPIPE_TEST_PG_URL not set (postgres.sh runs it on "
		       "a real server)");
	snprintf(sch, sizeof(sch), "t_txn2_%d", (int)getpid());
	T_OK(t_store_fresh_schema(url, sch, &e), &e);
	t_store_schema_url(url, sch, u, sizeof(u));
	T_OK(state_open_db("pgt", u, t_store_pwenv(), &st, &e), &e);
	state_close(st);
	T_OK(db_open(u, t_store_pwenv(), &d, &e), &e);
	T_OK(db_exec(d, units_sql, &e), &e);
	pthread_barrier_init(&queued, NULL, 2);
	for (i = 0; i < 2; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].url = u;
		t[i].doc = 10 + i;
		t[i].first = i == 0;
		t[i].queued = &queued;
	}
	/* the first makes the document's records before the second reads
	 * them (after the barrier) */
	T_ASSERT(pthread_create(&th[0], NULL, twin_main, &t[0]) == 0);
	T_ASSERT(pthread_create(&th[1], NULL, twin_main, &t[1]) == 0);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&queued);
	for (i = 0; i < 2; i++)
		T_OK(t[i].rc, &t[i].e);
	T_EQ_INT(t[0].ls.applied, 12);
	T_EQ_INT(t[1].ls.applied, 0);
	T_EQ_INT(t[1].ls.dupes, 12);
	doc_key(SHA_A, ka);
	T_EQ_INT(has_key(d, ka), 1);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM txn_digests"), 1);
	T_EQ_INT(t_store_q1(d, "SELECT count(*) FROM stock_events"), 12);
	db_close(d);
	t_store_fresh_schema(url, sch, &e);
}

/* No per-record key is a document key: not the numeric form at its
 * extremes, not a txn_id that spells the marker in hex. */
T_TEST(state_txn_doc_key_is_no_records_key)
{
	static const char *const txns[] = {
		"aaaaaaaaaaaaaaaa:0:0", "aaaaaaaaaaaaaaaa:4294967295:4294967295",
		"aaaaaaaaaaaaaaaa:4294967296:0", "aaaaaaaaaaaaaaaa",
		"aaaaaaaaaaaaaaaa:ffffffffffffffffffffffffffffffff"};
	unsigned char k[STATE_TXN_KEY], dk[STATE_TXN_KEY];
	struct err e = ERR_INIT;
	size_t i;

	doc_key(SHA_A, dk);
	for (i = 0; i < sizeof(txns) / sizeof(txns[0]); i++) {
		T_OK(state_txn_key(txns[i], k, NULL, &e), &e);
		T_ASSERT(!memcmp(k, dk, 8)); /* one group, one range */
		T_ASSERT(memcmp(k, dk, STATE_TXN_KEY) < 0);
	}
}

/* ---- the SQLite ledger's chunks (mark_lite) ----------------------------- */

/* Marks txns[0..n) as one batch's records (none a dupe of another by
 * txn_id: the batch's own rule is not asked) in the open transaction:
 * each record's ins into ins[]. */
static int mark_txns(struct state *st, const char *const *txns, size_t n,
		     unsigned char *ins, struct err *e)
{
	struct load_batch *b = &st->lb;
	struct lb_rec r[32], *r0 = b->r;
	size_t n0 = b->n, i;
	int rc;

	if (n > 32)
		return err_set(e, E_INTERNAL, "mark_txns: 32 records at most");
	memset(r, 0, sizeof(r));
	for (i = 0; i < n; i++) {
		r[i].ev.txn = txns[i];
		r[i].doc = 1;
		r[i].file = "a.csv";
		r[i].line = (unsigned long)i + 2;
	}
	b->r = r;
	b->n = n;
	rc = state_txn_mark(st, e);
	b->r = r0;
	b->n = n0;
	for (i = 0; i < n; i++)
		ins[i] = r[i].ins;
	return rc;
}

/* Chunks of 4 keys (the txn_ids "G:a:b" keep key order = (a, b) order;
 * the records come in another): all in the ledger already, all new,
 * some there, a key twice among new ones, a key twice among some that
 * are there. Each record is marked as one key at a time marks it: new
 * when its key was not there, and of two records with one key only the
 * first. The ledger then holds each key once. */
T_TEST(state_txn_chunks_mark_each_record)
{
	static const char *const pre[] = {"G:1:0", "G:1:1", "G:1:2",
					  "G:1:3", "G:3:1", "G:5:0"};
	static const char *const txns[] = {
		"G:2:3", "G:1:2", "G:3:3", "G:4:0", "G:5:2", "G:1:0",
		"G:2:0", "G:3:0", "G:4:2", "G:5:1", "G:2:1", "G:3:1",
		"G:4:0", "G:1:3", "G:5:0", "G:5:1", "G:2:2", "G:3:2",
		"G:4:1", "G:1:1"};
	/* per record above: 1 = new; 2 = one of the two records with
	 * its key (3 and 12, 9 and 15) is new (qsort_r's order decides
	 * which is first, as it did one key at a time) */
	static const unsigned char want[] = {1, 0, 1, 2, 1, 0, 1, 1, 1, 2,
					     1, 0, 2, 0, 0, 2, 1, 1, 1, 0};
	unsigned char ins[32], k[STATE_TXN_KEY];
	struct state *st;
	struct err e = ERR_INIT;
	size_t i;

	T_OK(state_open("cm", &st, &e), &e);
	st->lb.txn_chunk = 4;
	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		put_key(st->db, pre[i]);
	T_OK(state_begin(st, &e), &e);
	T_OK(mark_txns(st, txns, sizeof(txns) / sizeof(txns[0]), ins, &e),
	     &e);
	T_OK(state_commit(st, &e), &e);
	for (i = 0; i < sizeof(txns) / sizeof(txns[0]); i++) {
		if (want[i] < 2)
			T_EQ_INT(ins[i], want[i]);
		T_OK(state_txn_key(txns[i], k, NULL, &e), &e);
		T_EQ_INT(has_key(st->db, k), 1);
	}
	T_EQ_INT(ins[3] + ins[12], 1);
	T_EQ_INT(ins[9] + ins[15], 1);
	/* 6 there before, 12 new distinct keys */
	T_EQ_INT(t_store_q1(st->db, "SELECT count(*) FROM txn_digests"), 18);
	state_close(st);
}

/* A chunk of new keys (a new document's: the usual load) goes in with
 * no savepoint and no statement journal: with SQLite's sub-journal
 * spilling at once (t_store_subjournal_files), its file never opens;
 * a chunk with some keys there and some not still takes the savepoint,
 * whose sub-journal opens: the check sees one. */
T_TEST(state_txn_new_chunk_opens_no_sub_journal)
{
	static const char *const txns[] = {"H:1:0", "H:1:1", "H:1:2",
					   "H:1:3", "H:2:0", "H:2:1",
					   "H:2:2", "H:2:3"},
			  *const mixed[] = {"H:1:2", "H:1:3", "H:1:4",
					    "H:1:5"};
	unsigned char ins[32];
	struct state *st;
	struct err e = ERR_INIT;
	int fds, fds0;

	if (t_store_temp_fds() < 0)
		T_SKIP("no /proc/self/fd");
	T_ASSERT(t_store_subjournal_files(1) == 0);
	T_OK(state_open("nj", &st, &e), &e);
	st->lb.txn_chunk = 4;
	/* the store's TEMP database (state_open) has one already */
	fds0 = t_store_temp_fds();
	T_OK(state_begin(st, &e), &e);
	T_OK(mark_txns(st, txns, 8, ins, &e), &e);
	fds = t_store_temp_fds();
	T_OK(state_commit(st, &e), &e);
	T_EQ_INT(fds, fds0);
	T_EQ_INT(ins[0] + ins[3] + ins[4] + ins[7], 4);
	/* two keys there, two not: the savepoint, written to, undone */
	T_OK(state_begin(st, &e), &e);
	T_OK(mark_txns(st, mixed, 4, ins, &e), &e);
	fds = t_store_temp_fds();
	T_OK(state_commit(st, &e), &e);
	T_ASSERT(fds > fds0);
	T_EQ_INT(ins[0] + 2 * ins[1] + 4 * ins[2] + 8 * ins[3], 12);
	state_close(st);
	T_ASSERT(t_store_subjournal_files(0) == 0);
}
