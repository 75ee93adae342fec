/* t_state.c - the SQLite state store: runs, units, ledgers and the stock
 * position rules (snapshot + later deltas, stale events, replayed txn_ids,
 * taking a document back). */
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "pipeline/store/state.h"
#include "pipeline/store/state_int.h"
#include "t.h"

static struct canon_record stock(const char *sku, const char *loc,
				 const char *state, const char *qty,
				 const char *mode, const char *as_of,
				 const char *txn)
{
	struct canon_record r;

	memset(&r, 0, sizeof(r));
	r.kind = CANON_STOCK;
	r.v[STOCK_SKU] = sku;
	r.v[STOCK_LOCATION] = loc;
	r.v[STOCK_STATE] = state;
	r.v[STOCK_QUANTITY] = qty;
	r.v[STOCK_MODE] = mode;
	r.v[STOCK_AS_OF] = as_of;
	r.v[STOCK_TXN_ID] = txn;
	r.lin.source = "s";
	r.lin.file = "f.csv";
	r.lin.line = 2;
	return r;
}

struct collect {
	char text[4096];
};

static int collect_pos(void *ud, const struct state_position *p)
{
	struct collect *c = ud;
	size_t n = strlen(c->text);

	snprintf(c->text + n, sizeof(c->text) - n, "%s/%s/%d=%lld;", p->sku,
		 p->location, p->state, (long long)(p->qty / DEC_SCALE));
	return 0;
}

static const char *positions(struct state *st)
{
	static struct collect c;
	struct err e = ERR_INIT;

	c.text[0] = '\0';
	if (state_positions_each(st, collect_pos, &c, &e) < 0)
		return "error";
	return c.text;
}

static int load(struct state *st, int64_t doc, struct canon_record r,
		struct load_stats *ls)
{
	struct err e = ERR_INIT;

	return state_load_record(st, doc, &r, ls, &e);
}

T_TEST(state_positions_snapshot_then_deltas)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct load_stats ls;

	memset(&ls, 0, sizeof(ls));
	T_OK(state_open("st", &st, &e), &e);
	T_OK(state_begin(st, &e), &e);
	T_OK(load(st, 1, stock("A", "L1", "on_hand", "10", "snapshot",
			       "2026-11-20T06:00:00Z", "t1"), &ls), &e);
	T_OK(load(st, 1, stock("A", "L1", "on_hand", "-3", "delta",
			       "2026-11-20T07:00:00Z", "t2"), &ls), &e);
	T_EQ_STR(positions(st), "A/L1/0=7;");
	/* replayed txn_id: counted once */
	T_OK(load(st, 2, stock("A", "L1", "on_hand", "-3", "delta",
			       "2026-11-20T07:00:00Z", "t2"), &ls), &e);
	T_EQ_INT(ls.dupes, 1);
	T_EQ_STR(positions(st), "A/L1/0=7;");
	/* a delta older than the snapshot is stale and not applied */
	T_OK(load(st, 2, stock("A", "L1", "on_hand", "5", "delta",
			       "2026-11-20T05:00:00Z", "t3"), &ls), &e);
	T_EQ_INT(ls.stale, 1);
	T_EQ_STR(positions(st), "A/L1/0=7;");
	/* an older snapshot is stale too */
	T_OK(load(st, 2, stock("A", "L1", "on_hand", "99", "snapshot",
			       "2026-11-20T05:30:00Z", "t4"), &ls), &e);
	T_EQ_INT(ls.stale, 2);
	/* a snapshot between the first one and the delta: the delta after it
	 * still counts (event-time order, whatever the arrival order) */
	T_OK(load(st, 2, stock("A", "L1", "on_hand", "20", "snapshot",
			       "2026-11-20T06:30:00Z", "t5"), &ls), &e);
	T_EQ_STR(positions(st), "A/L1/0=17;");
	/* a delta may drive a position negative: kept and counted */
	T_OK(load(st, 3, stock("A", "L1", "on_hand", "-30", "delta",
			       "2026-11-20T08:00:00Z", "t6"), &ls), &e);
	T_EQ_INT(ls.negative, 1);
	T_EQ_STR(positions(st), "A/L1/0=-13;");
	T_OK(state_commit(st, &e), &e);
	state_close(st);
}

T_TEST(state_equal_time_snapshots_resolve_by_txn)
{
	struct state *a, *b;
	struct err e = ERR_INIT;
	struct load_stats ls;
	char pa[4096];

	memset(&ls, 0, sizeof(ls));
	/* Two snapshots with the same as_of and no arrival keys (as loaded
	 * without state_load_arrival), loaded in both orders: the same
	 * winner (greater txn_id) either way. With arrival keys the later
	 * arrival wins instead: t_arrival.c. */
	T_OK(state_open("a", &a, &e), &e);
	T_OK(state_open("b", &b, &e), &e);
	T_OK(load(a, 1, stock("A", "L", "on_hand", "5", "snapshot",
			      "2026-11-20T06:00:00Z", "x1"), &ls), &e);
	T_OK(load(a, 1, stock("A", "L", "on_hand", "8", "snapshot",
			      "2026-11-20T06:00:00Z", "x2"), &ls), &e);
	T_OK(load(b, 1, stock("A", "L", "on_hand", "8", "snapshot",
			      "2026-11-20T06:00:00Z", "x2"), &ls), &e);
	T_OK(load(b, 1, stock("A", "L", "on_hand", "5", "snapshot",
			      "2026-11-20T06:00:00Z", "x1"), &ls), &e);
	snprintf(pa, sizeof(pa), "%s", positions(a));
	T_EQ_STR(pa, "A/L/0=8;");
	T_EQ_STR(positions(b), pa);
	state_close(a);
	state_close(b);
}

T_TEST(state_unload_doc_recomputes)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct load_stats ls;

	memset(&ls, 0, sizeof(ls));
	T_OK(state_open("st", &st, &e), &e);
	T_OK(load(st, 1, stock("A", "L", "on_hand", "10", "snapshot",
			       "2026-11-20T06:00:00Z", "d1a"), &ls), &e);
	T_OK(load(st, 2, stock("A", "L", "on_hand", "2", "delta",
			       "2026-11-20T07:00:00Z", "d2a"), &ls), &e);
	T_OK(load(st, 2, stock("B", "L", "reserved", "4", "snapshot",
			       "2026-11-20T07:00:00Z", "d2b"), &ls), &e);
	T_EQ_STR(positions(st), "A/L/0=12;B/L/1=4;");
	T_OK(state_begin(st, &e), &e);
	T_OK(state_unload_doc(st, 2, &e), &e);
	T_OK(state_commit(st, &e), &e);
	/* A is back to its snapshot; B never existed without document 2 */
	T_EQ_STR(positions(st), "A/L/0=10;");
	/* and document 2's txn_ids may be loaded again (a rerun) */
	T_OK(load(st, 2, stock("A", "L", "on_hand", "3", "delta",
			       "2026-11-20T07:00:00Z", "d2a"), &ls), &e);
	T_EQ_STR(positions(st), "A/L/0=13;");
	state_close(st);
}

static int count_unit(void *ud, struct state_unit *u)
{
	(*(int *)ud)++;
	(void)u;
	return 0;
}

T_TEST(state_runs_units_ledgers)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct state_unit u, v;
	struct state_run r;
	int64_t run, open_run;
	int known, found, n = 0, done;
	char prev[256];
	int64_t at;

	T_OK(state_open("st", &st, &e), &e);
	T_OK(state_run_create(st, "2026-11-20T06:00:00Z", "abc", &run, &e), &e);
	T_OK(state_run_unfinished(st, &open_run, &e), &e);
	T_EQ_INT(open_run, run);
	memset(&u, 0, sizeof(u));
	u.run_id = run;
	strcpy(u.stage, "fetch");
	strcpy(u.scope, "stores");
	strcpy(u.ukey, "a.csv");
	T_OK(state_unit_add(st, &u, &e), &e);
	T_ASSERT(u.id > 0);
	v = u;
	T_OK(state_unit_add(st, &v, &e), &e); /* same key: same unit */
	T_EQ_INT(v.id, u.id);
	u.state = US_DONE;
	u.attempts = 2;
	strcpy(u.error, "");
	strcpy(u.detail, "12 34");
	T_OK(state_unit_save(st, &u, &e), &e);
	T_OK(state_unit_get(st, u.id, &v, &e), &e);
	T_EQ_INT(v.state, US_DONE);
	T_EQ_INT(v.attempts, 2);
	T_EQ_STR(v.detail, "12 34");
	T_OK(state_units_each(st, run, "fetch", NULL, count_unit, &n, &e), &e);
	T_EQ_INT(n, 1);
	T_OK(state_units_reset(st, run, "fetch", "stores", &e), &e);
	T_OK(state_unit_get(st, u.id, &v, &e), &e);
	T_EQ_INT(v.state, US_PENDING);

	T_OK(state_plan_done(st, run, "fetch", "stores", &done, &e), &e);
	T_EQ_INT(done, 0);
	T_OK(state_plan_mark(st, run, "fetch", "stores", &e), &e);
	T_OK(state_plan_done(st, run, "fetch", "stores", &done, &e), &e);
	T_EQ_INT(done, 1);

	T_OK(state_file_add(st, "stores", "a.csv", 12, 34, "sha1", run,
			    "pending", &e), &e);
	T_OK(state_file_known(st, "stores", "a.csv", 12, 34, &known, &e), &e);
	T_EQ_INT(known, 1);
	T_OK(state_file_known(st, "stores", "a.csv", 13, 34, &known, &e), &e);
	T_EQ_INT(known, 0); /* the partner rewrote it: a new file */
	/* detect_changes: content: same name, size and mtime, other bytes
	 * is a version of its own (schema 7), the first one kept */
	T_OK(state_file_version_known(st, "stores", "a.csv", 12, 34, "sha1",
				      &known, &e), &e);
	T_EQ_INT(known, 1);
	T_OK(state_file_version_known(st, "stores", "a.csv", 12, 34, "sha9",
				      &known, &e), &e);
	T_EQ_INT(known, 0);
	T_OK(state_file_add(st, "stores", "a.csv", 12, 34, "sha9", run,
			    "pending", &e), &e);
	T_OK(state_file_version_known(st, "stores", "a.csv", 12, 34, "sha9",
				      &known, &e), &e);
	T_EQ_INT(known, 1);
	T_OK(state_file_post_set(st, "stores", "a.csv", 12, 34, "sha9", "done",
				 &e), &e);
	T_OK(state_file_version_known(st, "stores", "a.csv", 12, 34, "sha1",
				      &known, &e), &e);
	T_EQ_INT(known, 1);
	T_OK(state_file_same_content(st, "stores", "sha1", prev, sizeof(prev),
				     &e), &e);
	T_EQ_STR(prev, "a.csv");

	T_OK(state_delivery_find(st, "web", "h1", prev, sizeof(prev), &found,
				 &e), &e);
	T_EQ_INT(found, 0);
	T_OK(state_delivery_add(st, "web", "h1", run, "w_1.csv", 1000, &e), &e);
	T_OK(state_delivery_add(st, "web", "h1", run, "w_1.csv", 1500, &e), &e);
	T_OK(state_delivery_find(st, "web", "h1", prev, sizeof(prev), &found,
				 &e), &e);
	T_EQ_INT(found, 1);
	T_EQ_STR(prev, "w_1.csv"); /* the same file twice: recorded once */
	T_OK(state_delivery_last(st, "web", &at, &e), &e);
	T_EQ_INT(at, 1000);
	/* A -> B -> A: once B is the newest delivery, A is new again */
	T_OK(state_delivery_add(st, "web", "h2", run, "w_2.csv", 2000, &e), &e);
	T_OK(state_delivery_find(st, "web", "h1", prev, sizeof(prev), &found,
				 &e), &e);
	T_EQ_INT(found, 0);
	T_OK(state_delivery_add(st, "web", "h1", run, "w_3.csv", 3000, &e), &e);
	T_OK(state_delivery_find(st, "web", "h1", prev, sizeof(prev), &found,
				 &e), &e);
	T_EQ_INT(found, 1);
	T_EQ_STR(prev, "w_3.csv");
	T_OK(state_delivery_find(st, "other", "h1", prev, sizeof(prev),
				 &found, &e), &e);
	T_EQ_INT(found, 0); /* per target */

	T_OK(state_run_finish(st, run, "done", 0, "2026-11-20T06:01:00Z", &e),
	     &e);
	T_OK(state_run_get(st, run, &r, &e), &e);
	T_EQ_STR(r.status, "done");
	T_OK(state_run_unfinished(st, &open_run, &e), &e);
	T_EQ_INT(open_run, 0);
	T_ASSERT(state_run_get(st, run + 7, &r, &e) < 0);
	T_EQ_INT(e.code, E_NOTFOUND);
	state_close(st);
}

T_TEST(state_master_data_newer_wins)
{
	struct state *st;
	struct err e = ERR_INIT;
	struct load_stats ls;
	struct canon_record r;
	const char *f[ITEM_NFIELDS];
	int found;

	memset(&ls, 0, sizeof(ls));
	memset(&r, 0, sizeof(r));
	T_OK(state_open("st", &st, &e), &e);
	r.kind = CANON_ITEM;
	r.v[ITEM_SKU] = "A";
	r.v[ITEM_DESCRIPTION] = "new";
	r.v[ITEM_AS_OF] = "2026-11-20T06:00:00Z";
	T_OK(state_load_record(st, 1, &r, &ls, &e), &e);
	r.v[ITEM_DESCRIPTION] = "old";
	r.v[ITEM_AS_OF] = "2026-11-19T06:00:00Z";
	T_OK(state_load_record(st, 2, &r, &ls, &e), &e);
	T_EQ_INT(ls.stale, 1);
	T_OK(state_item_get(st, "A", f, &found, &e), &e);
	T_EQ_INT(found, 1);
	T_EQ_STR(f[ITEM_DESCRIPTION], "new");
	T_OK(state_item_get(st, "B", f, &found, &e), &e);
	T_EQ_INT(found, 0);
	state_close(st);
}

T_TEST(state_integrity_ok)
{
	struct state *st;
	struct err e = ERR_INIT;
	int ok = 0;

	T_OK(state_open("st", &st, &e), &e);
	T_OK(state_integrity(st, &ok, &e), &e);
	T_EQ_INT(ok, 1);
	state_close(st);
	/* a file that is not a database is refused, not overwritten */
	T_ASSERT(mkdir("bad", 0755) == 0);
	T_ASSERT(t_write_file("bad/state.db",
			      "this is not an SQLite database, but it is "
			      "long enough to look like a header to anyone "
			      "who only checks the size of the file") == 0);
	err_clear(&e);
	T_ASSERT(state_open("bad", &st, &e) < 0);
	T_ASSERT(e.code != E_NONE);
}

T_TEST(state_counters)
{
	struct state *st;
	struct err e = ERR_INIT;
	int64_t v;

	T_OK(state_open("st", &st, &e), &e);
	T_OK(state_counter_get(st, "x12:P1", &v, &e), &e);
	T_EQ_INT(v, 0);
	T_OK(state_counter_next(st, "x12:P1", &v, &e), &e);
	T_EQ_INT(v, 1);
	T_OK(state_counter_next(st, "x12:P1", &v, &e), &e);
	T_EQ_INT(v, 2);
	T_OK(state_counter_next(st, "x12:P2", &v, &e), &e);
	T_EQ_INT(v, 1); /* per partner */
	/* a rolled-back use does not burn the number */
	T_OK(state_begin(st, &e), &e);
	T_OK(state_counter_next(st, "x12:P1", &v, &e), &e);
	T_EQ_INT(v, 3);
	state_rollback(st);
	T_OK(state_counter_get(st, "x12:P1", &v, &e), &e);
	T_EQ_INT(v, 2);
	state_close(st);
}

/* Every statement of every family's table (state_int.h) is defined once
 * (state_open checks) and is valid SQL on the store's schema: prepared
 * here, so a typo in a statement that no other test runs still fails. */
T_TEST(state_every_statement_prepares)
{
	struct state *st;
	struct err e = ERR_INIT;
	int id;

	T_OK(state_open("st", &st, &e), &e);
	for (id = 0; id < S_NSTMTS; id++) {
		if (!state_stmt(st, (enum stmt_id)id, &e))
			T_FAIL("statement %d: %s", id, e.reason);
	}
	state_close(st);
}
